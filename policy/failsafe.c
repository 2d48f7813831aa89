/* Failsafe port lists (see failsafe.h). */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cleanup.h"
#include "errmsg.h"
#include "failsafe.h"

static int proto_of(const char *s, size_t n, bool sctp)
{
	if (n == 3 && strncasecmp(s, "tcp", 3) == 0)
		return IPPROTO_TCP;
	if (n == 3 && strncasecmp(s, "udp", 3) == 0)
		return IPPROTO_UDP;
	if (sctp && n == 4 && strncasecmp(s, "sctp", 4) == 0)
		return IPPROTO_SCTP;
	return -EINVAL;
}

static int port_of(const char *s, uint16_t *ret)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	v = strtoul(s, &end, 10);
	if (*end || v > 65535)
		return -EINVAL;
	*ret = (uint16_t)v;
	return 0;
}

static int net_of(const char *s, struct in_prefix *ret)
{
	return prefix_parse(s, PREFIX_ALLOW_BARE | PREFIX_CLEAR_HOST, ret) < 0 ? -EINVAL : 0;
}

/* One "port", "proto:port" or "proto:cidr:port" entry (an IPv6 CIDR in
 * brackets), trimmed, as Calico reads them. */
static int parse_entry(char *e, struct policy_failsafe *ret)
{
	char *part[3], *net = NULL, *open = strchr(e, '['), *save = NULL;
	char v6[PREFIX_STRLEN];
	size_t n = 0;
	int p = IPPROTO_TCP;

	*ret = (struct policy_failsafe){};
	if (open) {
		char *close = strstr(open, "]:");

		if (!close)
			return -EINVAL;
		*close = '\0';
		snprintf(v6, sizeof(v6), "%s", open + 1);
		net = v6;
		memmove(open, close + 1, strlen(close + 1) + 1); /* "tcp:[n]:22" -> "tcp::22" */
	}
	for (char *t = strtok_r(e, ":", &save); t; t = strtok_r(NULL, ":", &save)) {
		if (n == 3)
			return -EINVAL;
		part[n++] = t;
	}
	if (n == 0 || (net && n != 2))
		return -EINVAL;
	if (n > 1 && (p = proto_of(part[0], strlen(part[0]), false)) < 0)
		return p;
	if (n == 3)
		net = part[1];
	ret->proto = (uint8_t)p;
	if (net && net_of(net, &ret->net) < 0)
		return -EINVAL;
	return port_of(part[n - 1], &ret->port);
}

int policy_failsafes_parse(const char *text, struct policy_failsafes *ret)
{
	_cleanup_free_ char *copy = strdup(text ?: "");
	struct policy_failsafes fs = {};
	char *save = NULL;

	if (!copy)
		return -ENOMEM;
	if (strcasecmp(copy, "none") == 0) {
		*ret = fs;
		return 0;
	}
	for (char *e = strtok_r(copy, ",", &save); e; e = strtok_r(NULL, ",", &save)) {
		char *end;

		while (*e == ' ')
			e++;
		end = e + strlen(e);
		while (end > e && end[-1] == ' ')
			*--end = '\0';
		if (!*e)
			continue;
		if (fs.n == POLICY_FAILSAFE_MAX || parse_entry(e, &fs.v[fs.n]) < 0)
			return -EINVAL;
		fs.n++;
	}
	*ret = fs;
	return 0;
}

int policy_failsafes_from_json(const json_t *list, struct policy_failsafes *ret,
			       char **ret_error)
{
	struct policy_failsafes fs = {};
	const json_t *e;
	size_t i;

	if (!json_is_array(list) || json_array_size(list) > POLICY_FAILSAFE_MAX)
		return errmsg_set(ret_error, -EINVAL, "must be a list of at most %d entries",
				  POLICY_FAILSAFE_MAX);
	json_array_foreach(list, i, e) {
		const char *proto = json_string_value(json_object_get(e, "protocol"));
		const json_t *port = json_object_get(e, "port"), *net = json_object_get(e, "net");
		struct policy_failsafe *f = &fs.v[fs.n++];
		int p = proto ? proto_of(proto, strlen(proto), true) : IPPROTO_TCP;

		if (p < 0)
			return errmsg_set(ret_error, -EINVAL, "[%zu].protocol: '%s' is not TCP, UDP "
					  "or SCTP", i, proto);
		f->proto = (uint8_t)p;
		if (!json_is_integer(port) || json_integer_value(port) < 0 ||
		    json_integer_value(port) > 65535)
			return errmsg_set(ret_error, -EINVAL, "[%zu].port: must be 0..65535", i);
		f->port = (uint16_t)json_integer_value(port);
		if (net && !json_is_null(net) && *(json_string_value(net) ?: "x") &&
		    (!json_is_string(net) || net_of(json_string_value(net), &f->net) < 0))
			return errmsg_set(ret_error, -EINVAL, "[%zu].net: '%s' is not a CIDR", i,
					  json_string_value(net) ?: "?");
	}
	*ret = fs;
	return 0;
}

int policy_failsafes_cmp(const struct policy_failsafes *a, const struct policy_failsafes *b)
{
	if (a->n != b->n)
		return a->n < b->n ? -1 : 1;
	for (size_t i = 0; i < a->n; i++) {
		const struct policy_failsafe *x = &a->v[i], *y = &b->v[i];

		if (x->proto != y->proto || x->port != y->port ||
		    prefix_cmp(&x->net, &y->net) != 0)
			return 1;
	}
	return 0;
}
