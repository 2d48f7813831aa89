/* Validation of our custom resources (see crdvalid.h).
 *
 * Model: each kind is a table of fields (struct field): the JSON type, for
 * integers the range, for strings an enumeration and/or a value check, for
 * objects their members, for lists and maps the element type. One walker
 * checks an object against its table and refuses unknown fields (unless the
 * kind's spec is open, as FelixConfiguration's is); then a per-kind function
 * checks the rules that span fields (peerIP xor peerSelector, an IPAMBlock's
 * allocations against its size, community names referenced but not
 * defined). The first problem found is reported, with the field's path.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cleanup.h"
#include "crdvalid.h"
#include "errmsg.h"
#include "prefix.h"
#include "selector.h"

#define PATH_MAX_LEN 256
#define AS_MAX 4294967295LL

enum ftype { T_STR, T_BOOL, T_INT, T_NUM, T_OBJ, T_LIST, T_MAP, T_INTSTR };

static const char *const type_name[] = {
	[T_STR] = "a string", [T_BOOL] = "a boolean", [T_INT] = "an integer", [T_NUM] = "a number",
	[T_OBJ] = "an object", [T_LIST] = "a list",   [T_MAP] = "an object",
	[T_INTSTR] = "an integer or a string",
};

struct vctx {
	const char *kind, *name;
	char **ret_error;
};

/* A value check: 0, or a message via bad(). */
typedef int (*check_fn)(struct vctx *c, const char *path, const json_t *v);

struct field {
	const char *name; /* NULL terminates a table */
	enum ftype type;
	enum ftype item;	  /* T_LIST / T_MAP: element type */
	const struct field *sub;  /* T_OBJ (or elements of T_OBJ): members */
	check_fn check;		  /* scalars, or each scalar element */
	const char *const *enums; /* T_STR (or elements): allowed values */
	long long min, max;	  /* T_INT (or elements) range, when min < max */
	bool required;
	bool item_nullable; /* elements may be null */
	bool open;	    /* T_OBJ: members not in @sub are kept unchecked */
	check_fn key_check; /* T_MAP: each key (passed as a JSON string) */
};

__attribute__((format(printf, 3, 4))) static int bad(struct vctx *c, const char *path,
						      const char *fmt, ...)
{
	_cleanup_free_ char *why = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&why, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	return errmsg_set(c->ret_error, -EINVAL, "%s '%s': %s: %s", c->kind, c->name, path, why);
}

/* ---- value checks ----------------------------------------------------- */

/* Addresses and CIDRs follow lib/prefix's rules, the ones felix-c and IPAM
 * read them with. */
bool crdvalid_is_ip(const char *s)
{
	struct in_prefix p;

	return prefix_parse(s, PREFIX_ADDR_ONLY, &p) == 0;
}

bool crdvalid_is_cidr(const char *s, bool strict)
{
	struct in_prefix p;

	return prefix_parse(s, strict ? PREFIX_REJECT_HOST : 0, &p) == 0;
}

bool crdvalid_parse_duration(const char *s, unsigned long long *ret_ms)
{
	static const struct {
		const char *unit;
		double ms;
	} units[] = { { "ns", 1e-6 }, { "us", 1e-3 }, { "\xc2\xb5s", 1e-3 }, { "ms", 1 },
		      { "s", 1e3 },   { "m", 60e3 },  { "h", 3600e3 } };
	double total = 0;

	if (!s || !*s)
		return false;
	if (strcmp(s, "0") == 0) {
		if (ret_ms)
			*ret_ms = 0;
		return true;
	}
	while (*s) {
		char *end;
		double v;
		size_t best = 0, i, k = SIZE_MAX;

		if (!isdigit((unsigned char)*s) && *s != '.')
			return false;
		v = strtod(s, &end);
		if (end == s || v < 0)
			return false;
		for (i = 0; i < ELEMENTSOF(units); i++) {
			size_t n = strlen(units[i].unit);

			if (strncmp(end, units[i].unit, n) == 0 && n > best)
				best = n, k = i;
		}
		if (k == SIZE_MAX)
			return false;
		total += v * units[k].ms;
		s = end + best;
	}
	if (total > 1e15)
		return false;
	if (ret_ms)
		*ret_ms = (unsigned long long)total;
	return true;
}

static bool parse_u32_part(const char *s, size_t n, unsigned long long max)
{
	unsigned long long v = 0;

	if (n == 0 || n > 10)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	return v <= max;
}

bool crdvalid_is_community(const char *s)
{
	const char *a = s, *b, *c;

	if (!s || !(b = strchr(a, ':')))
		return false;
	b++;
	c = strchr(b, ':');
	if (!c)
		return parse_u32_part(a, (size_t)(b - 1 - a), 65535) &&
		       parse_u32_part(b, strlen(b), 65535);
	c++;
	return parse_u32_part(a, (size_t)(b - 1 - a), UINT32_MAX) &&
	       parse_u32_part(b, (size_t)(c - 1 - b), UINT32_MAX) &&
	       parse_u32_part(c, strlen(c), UINT32_MAX);
}

bool crdvalid_is_name(const char *s)
{
	size_t n = s ? strlen(s) : 0, label = 0;

	if (n == 0 || n > 253)
		return false;
	/* dot-separated labels of [a-z0-9-], each starting and ending alphanumeric */
	for (size_t i = 0; i <= n; i++) {
		char ch = s[i];

		if (ch == '.' || ch == '\0') {
			if (label == 0 || label > 63 || s[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-'))
			return false;
		if (label++ == 0 && ch == '-')
			return false;
	}
	return true;
}

static int chk_cidr(struct vctx *c, const char *path, const json_t *v)
{
	const char *s = json_string_value(v);

	if (!crdvalid_is_cidr(s, false))
		return bad(c, path, "'%s' is not a CIDR (address/prefix length)", s);
	return 0;
}

static int chk_cidr_strict(struct vctx *c, const char *path, const json_t *v)
{
	const char *s = json_string_value(v);

	if (!crdvalid_is_cidr(s, false))
		return bad(c, path, "'%s' is not a CIDR (address/prefix length)", s);
	if (!crdvalid_is_cidr(s, true))
		return bad(c, path, "'%s' has host bits set", s);
	return 0;
}

static int chk_ip(struct vctx *c, const char *path, const json_t *v)
{
	if (!crdvalid_is_ip(json_string_value(v)))
		return bad(c, path, "'%s' is not an IP address", json_string_value(v));
	return 0;
}

/* "ip", "ip:port" (IPv4) or "[ip6]:port". */
static int chk_peer_ip(struct vctx *c, const char *path, const json_t *v)
{
	const char *s = json_string_value(v), *port = NULL, *colon;
	char host[INET6_ADDRSTRLEN + 2];
	size_t n = strlen(s);

	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		n = end ? (size_t)(end - s - 1) : sizeof(host);
		if (end && end[1] == ':')
			port = end + 2;
		else if (end && end[1])
			n = sizeof(host);
		s++;
	} else if ((colon = strchr(s, ':')) && !strchr(colon + 1, ':')) {
		n = (size_t)(colon - s);
		port = colon + 1;
	}
	if (n >= sizeof(host))
		return bad(c, path, "'%s' is not an IP address, IP:port or [IPv6]:port",
			   json_string_value(v));
	memcpy(host, s, n);
	host[n] = '\0';
	if (!crdvalid_is_ip(host) || (port && (!parse_u32_part(port, strlen(port), 65535) ||
					       atoi(port) == 0)))
		return bad(c, path, "'%s' is not an IP address, IP:port or [IPv6]:port",
			   json_string_value(v));
	return 0;
}

static int chk_selector(struct vctx *c, const char *path, const json_t *v)
{
	_cleanup_free_ char *err = NULL;
	struct selector *s = NULL;
	int r = selector_parse(json_string_value(v), &s, &err);

	selector_free(s);
	if (r == -EINVAL)
		return bad(c, path, "invalid selector '%s': %s", json_string_value(v),
			   err ? err : "syntax error");
	return r;
}

static int chk_duration(struct vctx *c, const char *path, const json_t *v)
{
	if (!crdvalid_parse_duration(json_string_value(v), NULL))
		return bad(c, path, "'%s' is not a duration (e.g. \"90s\", \"1m30s\")",
			   json_string_value(v));
	return 0;
}

static int chk_community(struct vctx *c, const char *path, const json_t *v)
{
	if (!crdvalid_is_community(json_string_value(v)))
		return bad(c, path, "'%s' is not a community (aa:nn or aa:nn:mm)",
			   json_string_value(v));
	return 0;
}

static int chk_nonempty(struct vctx *c, const char *path, const json_t *v)
{
	if (!*json_string_value(v))
		return bad(c, path, "must not be empty");
	return 0;
}

static int chk_node_name(struct vctx *c, const char *path, const json_t *v)
{
	if (*json_string_value(v) && !crdvalid_is_name(json_string_value(v)))
		return bad(c, path, "'%s' is not a node name", json_string_value(v));
	return 0;
}

static int chk_affinity(struct vctx *c, const char *path, const json_t *v)
{
	const char *s = json_string_value(v);

	if (strncmp(s, "host:", 5) != 0 || !crdvalid_is_name(s + 5))
		return bad(c, path, "'%s' is not host:<node name>", s);
	return 0;
}

static int chk_net(struct vctx *c, const char *path, const json_t *v)
{
	const char *s = json_string_value(v);

	/* Calico takes a plain address as its /32 or /128 */
	if (!crdvalid_is_cidr(s, false) && !crdvalid_is_ip(s))
		return bad(c, path, "'%s' is not a CIDR or an IP address", s);
	return 0;
}

static const struct field string_map[] = { {} };

/* ---- the walker ------------------------------------------------------- */

static int check_value(struct vctx *c, const char *path, const json_t *v, enum ftype t,
		       const struct field *f);

static bool type_ok(const json_t *v, enum ftype t)
{
	switch (t) {
	case T_STR:
		return json_is_string(v);
	case T_BOOL:
		return json_is_boolean(v);
	case T_INT:
		return json_is_integer(v);
	case T_NUM:
		return json_is_number(v);
	case T_LIST:
		return json_is_array(v);
	case T_INTSTR:
		return json_is_integer(v) || json_is_string(v);
	default:
		return json_is_object(v);
	}
}

static int check_object(struct vctx *c, const char *path, const json_t *obj,
			const struct field *fields, bool open)
{
	char p[PATH_MAX_LEN];
	const char *key;
	json_t *v;
	int r;

	json_object_foreach((json_t *)obj, key, v) {
		const struct field *f = fields;

		while (f->name && strcmp(f->name, key) != 0)
			f++;
		snprintf(p, sizeof(p), "%s%s%s", path, *path ? "." : "", key);
		if (!f->name) {
			if (open)
				continue;
			return bad(c, p, "unknown field");
		}
		if (json_is_null(v)) {
			if (f->required)
				return bad(c, p, "required, may not be null");
			continue;
		}
		r = check_value(c, p, v, f->type, f);
		if (r < 0)
			return r;
	}
	for (const struct field *f = fields; f->name; f++) {
		if (!f->required || json_object_get(obj, f->name))
			continue;
		snprintf(p, sizeof(p), "%s%s%s", path, *path ? "." : "", f->name);
		return bad(c, p, "required");
	}
	return 0;
}

static int check_scalar(struct vctx *c, const char *path, const json_t *v, const struct field *f)
{
	if (json_is_integer(v) && f->min < f->max &&
	    (json_integer_value(v) < f->min || json_integer_value(v) > f->max))
		return bad(c, path, "%lld is out of range %lld..%lld",
			   (long long)json_integer_value(v), f->min, f->max);
	if (json_is_string(v) && f->enums) {
		const char *const *e = f->enums;
		char list[256] = "";

		for (; *e; e++)
			if (strcmp(*e, json_string_value(v)) == 0)
				break;
		if (!*e) {
			for (e = f->enums; *e; e++)
				snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
					 e == f->enums ? "" : ", ", *e);
			return bad(c, path, "'%s' is not one of %s", json_string_value(v), list);
		}
	}
	return f->check ? f->check(c, path, v) : 0;
}

static int check_elements(struct vctx *c, const char *path, const json_t *v,
			  const struct field *f)
{
	char p[PATH_MAX_LEN];
	const char *key;
	json_t *e;
	size_t i;
	int r;

	if (json_is_array(v)) {
		json_array_foreach((json_t *)v, i, e) {
			snprintf(p, sizeof(p), "%s[%zu]", path, i);
			if (json_is_null(e) && f->item_nullable)
				continue;
			r = check_value(c, p, e, f->item, f);
			if (r < 0)
				return r;
		}
		return 0;
	}
	json_object_foreach((json_t *)v, key, e) {
		snprintf(p, sizeof(p), "%s[\"%s\"]", path, key);
		if (f->key_check) {
			json_t *k = json_string(key);

			r = k ? f->key_check(c, p, k) : -ENOMEM;
			json_decref(k);
			if (r < 0)
				return r;
		}
		if (json_is_null(e) && f->item_nullable)
			continue;
		r = check_value(c, p, e, f->item, f);
		if (r < 0)
			return r;
	}
	return 0;
}

/* @t: the type wanted here (f->type, or f->item for an element). */
static int check_value(struct vctx *c, const char *path, const json_t *v, enum ftype t,
		       const struct field *f)
{
	if (!type_ok(v, t))
		return bad(c, path, "must be %s", type_name[t]);
	if (t == T_OBJ)
		return check_object(c, path, v, f->sub, f->open);
	if (t == T_LIST || t == T_MAP)
		return check_elements(c, path, v, f);
	return check_scalar(c, path, v, f);
}

/* ---- kinds ------------------------------------------------------------- */

static const char *const never_only[] = { "Never", "Always", "CrossSubnet", NULL };
static const char *const pool_uses[] = { "Workload", "Tunnel", "LoadBalancer", NULL };
static const char *const severities[] = { "Trace", "Debug", "Info", "Warning",
					  "Error", "Fatal", "None", NULL };

static const char *const assign_modes[] = { "Automatic", "Manual", NULL };

static const struct field ippool_ipip[] = {
	{ .name = "enabled", .type = T_BOOL },
	{ .name = "mode", .type = T_STR },
	{},
};

static const struct field ippool_spec[] = {
	{ .name = "cidr", .type = T_STR, .check = chk_cidr, .required = true },
	{ .name = "blockSize", .type = T_INT, .min = 0, .max = 128 },
	{ .name = "ipipMode", .type = T_STR, .enums = never_only },
	{ .name = "vxlanMode", .type = T_STR, .enums = never_only },
	{ .name = "natOutgoing", .type = T_BOOL },
	{ .name = "disabled", .type = T_BOOL },
	{ .name = "disableBGPExport", .type = T_BOOL },
	{ .name = "nodeSelector", .type = T_STR, .check = chk_selector },
	{ .name = "allowedUses", .type = T_LIST, .item = T_STR, .enums = pool_uses },
	{ .name = "assignmentMode", .type = T_STR, .enums = assign_modes },
	{ .name = "namespaceSelector", .type = T_STR, .check = chk_selector },
	/* Calico's deprecated v1 spellings, still in its schema */
	{ .name = "ipip", .type = T_OBJ, .sub = ippool_ipip },
	{ .name = "nat-outgoing", .type = T_BOOL },
	{},
};

static const struct field block_attr[] = {
	{ .name = "handle_id", .type = T_STR },
	{ .name = "secondary", .type = T_MAP, .item = T_STR },
	{},
};

static const struct field ipamblock_spec[] = {
	{ .name = "cidr", .type = T_STR, .check = chk_cidr_strict, .required = true },
	{ .name = "affinity", .type = T_STR, .check = chk_affinity },
	{ .name = "strictAffinity", .type = T_BOOL, .required = true },
	{ .name = "allocations", .type = T_LIST, .item = T_INT, .min = 0, .max = INT32_MAX, .required = true, .item_nullable = true },
	{ .name = "unallocated", .type = T_LIST, .item = T_INT, .min = 0, .max = INT32_MAX, .required = true },
	{ .name = "attributes", .type = T_LIST, .item = T_OBJ, .sub = block_attr, .required = true },
	{ .name = "deleted", .type = T_BOOL },
	{ .name = "sequenceNumber", .type = T_INT, .min = 0, .max = INT64_MAX },
	{ .name = "sequenceNumberForAllocation", .type = T_MAP, .item = T_INT, .min = 0, .max = INT64_MAX },
	{},
};

static const char *const affinity_states[] = { "pending", "confirmed", "pendingDeletion", NULL };
static const char *const true_false[] = { "true", "false", NULL };

static const struct field blockaffinity_spec[] = {
	{ .name = "state", .type = T_STR, .enums = affinity_states, .required = true },
	{ .name = "node", .type = T_STR, .check = chk_node_name, .required = true },
	{ .name = "cidr", .type = T_STR, .check = chk_cidr_strict, .required = true },
	{ .name = "deleted", .type = T_STR, .enums = true_false },
	{ .name = "type", .type = T_STR, .check = chk_nonempty },
	{},
};

static const struct field ipamhandle_spec[] = {
	{ .name = "handleID", .type = T_STR, .check = chk_nonempty, .required = true },
	{ .name = "block", .type = T_MAP, .item = T_INT, .min = 0, .max = INT32_MAX, .key_check = chk_cidr_strict, .required = true },
	{ .name = "deleted", .type = T_BOOL },
	{},
};

static const struct field ipamconfig_spec[] = {
	{ .name = "strictAffinity", .type = T_BOOL, .required = true },
	{ .name = "autoAllocateBlocks", .type = T_BOOL, .required = true },
	{ .name = "maxBlocksPerHost", .type = T_INT, .min = 0, .max = INT32_MAX },
	{},
};

static const struct field cidr_only[] = {
	{ .name = "cidr", .type = T_STR, .check = chk_cidr, .required = true },
	{},
};

static const struct field community_def[] = {
	{ .name = "name", .type = T_STR, .check = chk_nonempty, .required = true },
	{ .name = "value", .type = T_STR, .check = chk_community, .required = true },
	{},
};

static const struct field prefix_adv[] = {
	{ .name = "cidr", .type = T_STR, .check = chk_cidr, .required = true },
	{ .name = "communities", .type = T_LIST, .item = T_STR, .check = chk_nonempty },
	{},
};

static const struct field secret_key_ref[] = {
	{ .name = "name", .type = T_STR, .check = chk_nonempty, .required = true },
	{ .name = "key", .type = T_STR, .check = chk_nonempty, .required = true },
	{ .name = "optional", .type = T_BOOL },
	{},
};

static const struct field password[] = {
	{ .name = "secretKeyRef", .type = T_OBJ, .sub = secret_key_ref, .required = true },
	{},
};

static const char *const bind_modes[] = { "None", "NodeIP", NULL };
static const char *const enabled_disabled[] = { "Enabled", "Disabled", NULL };

static const struct field bgpconfig_spec[] = {
	{ .name = "asNumber", .type = T_INT, .min = 1, .max = AS_MAX },
	{ .name = "nodeToNodeMeshEnabled", .type = T_BOOL },
	{ .name = "listenPort", .type = T_INT, .min = 1, .max = 65535 },
	{ .name = "logSeverityScreen", .type = T_STR, .enums = severities },
	{ .name = "bindMode", .type = T_STR, .enums = bind_modes },
	{ .name = "serviceClusterIPs", .type = T_LIST, .item = T_OBJ, .sub = cidr_only },
	{ .name = "serviceExternalIPs", .type = T_LIST, .item = T_OBJ, .sub = cidr_only },
	{ .name = "serviceLoadBalancerIPs", .type = T_LIST, .item = T_OBJ, .sub = cidr_only },
	{ .name = "communities", .type = T_LIST, .item = T_OBJ, .sub = community_def },
	{ .name = "prefixAdvertisements", .type = T_LIST, .item = T_OBJ, .sub = prefix_adv },
	{ .name = "nodeMeshPassword", .type = T_OBJ, .sub = password },
	{ .name = "nodeMeshMaxRestartTime", .type = T_STR, .check = chk_duration },
	{ .name = "bfdEnabled", .type = T_BOOL },
	{ .name = "ignoredInterfaces", .type = T_LIST, .item = T_STR, .check = chk_nonempty },
	{ .name = "localWorkloadPeeringIPV4", .type = T_STR, .check = chk_ip },
	{ .name = "localWorkloadPeeringIPV6", .type = T_STR, .check = chk_ip },
	{ .name = "serviceLoadBalancerAggregation", .type = T_STR, .enums = enabled_disabled },
	{},
};

static const char *const source_addrs[] = { "UseNodeIP", "None", NULL };
static const char *const next_hop_modes[] = { "Auto", "Self", "Keep", NULL };
static const char *const reverse_peering[] = { "Auto", "Manual", NULL };

static const struct field bgppeer_spec[] = {
	{ .name = "node", .type = T_STR, .check = chk_node_name },
	{ .name = "peerIP", .type = T_STR, .check = chk_peer_ip },
	{ .name = "asNumber", .type = T_INT, .min = 1, .max = AS_MAX },
	{ .name = "nodeSelector", .type = T_STR, .check = chk_selector },
	{ .name = "peerSelector", .type = T_STR, .check = chk_selector },
	{ .name = "password", .type = T_OBJ, .sub = password },
	{ .name = "keepaliveTime", .type = T_STR, .check = chk_duration },
	{ .name = "maxRestartTime", .type = T_STR, .check = chk_duration },
	{ .name = "sourceAddress", .type = T_STR, .enums = source_addrs },
	{ .name = "keepOriginalNextHop", .type = T_BOOL },
	{ .name = "ttlSecurity", .type = T_INT, .min = 0, .max = 255 },
	{ .name = "filters", .type = T_LIST, .item = T_STR, .check = chk_nonempty },
	{ .name = "numAllowedLocalASNumbers", .type = T_INT, .min = 0, .max = 10 },
	{ .name = "reachableBy", .type = T_STR, .check = chk_ip },
	{ .name = "bfdEnabled", .type = T_BOOL },
	{ .name = "localASNumber", .type = T_INT, .min = 1, .max = AS_MAX },
	{ .name = "localWorkloadSelector", .type = T_STR, .check = chk_selector },
	{ .name = "nextHopMode", .type = T_STR, .enums = next_hop_modes },
	{ .name = "reversePeering", .type = T_STR, .enums = reverse_peering },
	{},
};

static const char *const filter_actions[] = { "Accept", "Reject", NULL };
static const char *const filter_ops[] = { "Equal", "NotEqual", "In", "NotIn", NULL };
static const char *const filter_sources[] = { "RemotePeers", NULL };

static const struct field prefix_len_v4[] = {
	{ .name = "min", .type = T_INT, .min = 0, .max = 32 },
	{ .name = "max", .type = T_INT, .min = 0, .max = 32 },
	{},
};

static const struct field prefix_len_v6[] = {
	{ .name = "min", .type = T_INT, .min = 0, .max = 128 },
	{ .name = "max", .type = T_INT, .min = 0, .max = 128 },
	{},
};

#define FILTER_RULE(plen)                                                                 \
	{ .name = "action", .type = T_STR, .enums = filter_actions, .required = true },      \
	{ .name = "cidr", .type = T_STR, .check = chk_cidr },                                 \
	{ .name = "interface", .type = T_STR, .check = chk_nonempty },                        \
	{ .name = "matchOperator", .type = T_STR, .enums = filter_ops },                      \
	{ .name = "prefixLength", .type = T_OBJ, .sub = plen },                               \
	{ .name = "source", .type = T_STR, .enums = filter_sources },                         \
	{}

static const struct field filter_rule_v4[] = { FILTER_RULE(prefix_len_v4) };
static const struct field filter_rule_v6[] = { FILTER_RULE(prefix_len_v6) };

static const struct field bgpfilter_spec[] = {
	{ .name = "exportV4", .type = T_LIST, .item = T_OBJ, .sub = filter_rule_v4 },
	{ .name = "importV4", .type = T_LIST, .item = T_OBJ, .sub = filter_rule_v4 },
	{ .name = "exportV6", .type = T_LIST, .item = T_OBJ, .sub = filter_rule_v6 },
	{ .name = "importV6", .type = T_LIST, .item = T_OBJ, .sub = filter_rule_v6 },
	{},
};

/* FailsafeInboundHostPorts / FailsafeOutboundHostPorts entries (the protocol
 * is checked by the policy model's parser where felix-c reads it). */
static const struct field proto_port[] = {
	{ .name = "protocol", .type = T_STR },
	{ .name = "port", .type = T_INT, .min = 0, .max = 65535, .required = true },
	{ .name = "net", .type = T_STR, .check = chk_net },
	{},
};

/* FelixConfiguration is open: the fields we (or Calico) know are typed. */
static const struct field felixconfig_spec[] = {
	{ .name = "failsafeInboundHostPorts", .type = T_LIST, .item = T_OBJ, .sub = proto_port },
	{ .name = "failsafeOutboundHostPorts", .type = T_LIST, .item = T_OBJ, .sub = proto_port },
	{ .name = "logSeverityScreen", .type = T_STR, .enums = severities },
	{ .name = "logSeverityFile", .type = T_STR, .enums = severities },
	{ .name = "logSeveritySys", .type = T_STR, .enums = severities },
	{ .name = "healthEnabled", .type = T_BOOL },
	{ .name = "healthHost", .type = T_STR, .check = chk_nonempty },
	{ .name = "healthPort", .type = T_INT, .min = 1, .max = 65535 },
	{ .name = "prometheusMetricsEnabled", .type = T_BOOL },
	{ .name = "prometheusMetricsHost", .type = T_STR, .check = chk_nonempty },
	{ .name = "prometheusMetricsPort", .type = T_INT, .min = 1, .max = 65535 },
	{ .name = "routeRefreshInterval", .type = T_STR, .check = chk_duration },
	{ .name = "iptablesRefreshInterval", .type = T_STR, .check = chk_duration },
	{ .name = "nftablesRefreshInterval", .type = T_STR, .check = chk_duration },
	{ .name = "reportingInterval", .type = T_STR, .check = chk_duration },
	{ .name = "ipipMTU", .type = T_INT, .min = 0, .max = 65535 },
	{ .name = "vxlanMTU", .type = T_INT, .min = 0, .max = 65535 },
	{ .name = "wireguardMTU", .type = T_INT, .min = 0, .max = 65535 },
	{ .name = "bpfEnabled", .type = T_BOOL },
	{},
};

static const struct field clusterinfo_spec[] = {
	{ .name = "calicoVersion", .type = T_STR },
	{ .name = "clusterGUID", .type = T_STR },
	{ .name = "clusterType", .type = T_STR },
	{ .name = "datastoreReady", .type = T_BOOL },
	{ .name = "variant", .type = T_STR },
	{},
};

static const char *const tier_actions[] = { "Pass", "Deny", NULL };

static const struct field tier_spec[] = {
	{ .name = "order", .type = T_NUM },
	{ .name = "defaultAction", .type = T_STR, .enums = tier_actions },
	{},
};

/* Calico's policy kinds (NetworkPolicy, GlobalNetworkPolicy) and network
 * sets: the fields of Calico v3.31's CRDs. The rules that span fields (ports
 * need a protocol, the tier prefix of a name, ...) are the policy parser's
 * (crdvalid_ops.policy), the one felix-c compiles with. */
static const char *const rule_actions[] = { "Allow", "Deny", "Log", "Pass", NULL };
static const char *const policy_types[] = { "Ingress", "Egress", NULL };

static const struct field sa_match[] = {
	{ .name = "names", .type = T_LIST, .item = T_STR },
	{ .name = "selector", .type = T_STR, .check = chk_selector },
	{},
};

static const struct field service_match[] = {
	{ .name = "name", .type = T_STR },
	{ .name = "namespace", .type = T_STR },
	{},
};

static const struct field entity_rule[] = {
	{ .name = "namespaceSelector", .type = T_STR, .check = chk_selector },
	{ .name = "nets", .type = T_LIST, .item = T_STR, .check = chk_net },
	{ .name = "notNets", .type = T_LIST, .item = T_STR, .check = chk_net },
	{ .name = "notPorts", .type = T_LIST, .item = T_INTSTR },
	{ .name = "notSelector", .type = T_STR, .check = chk_selector },
	{ .name = "ports", .type = T_LIST, .item = T_INTSTR },
	{ .name = "selector", .type = T_STR, .check = chk_selector },
	{ .name = "serviceAccounts", .type = T_OBJ, .sub = sa_match },
	{ .name = "services", .type = T_OBJ, .sub = service_match },
	{},
};

static const struct field http_path[] = {
	{ .name = "exact", .type = T_STR },
	{ .name = "prefix", .type = T_STR },
	{},
};

static const struct field http_match[] = {
	{ .name = "methods", .type = T_LIST, .item = T_STR },
	{ .name = "paths", .type = T_LIST, .item = T_OBJ, .sub = http_path },
	{},
};

static const struct field icmp_match[] = {
	{ .name = "code", .type = T_INT, .min = 0, .max = 255 },
	{ .name = "type", .type = T_INT, .min = 0, .max = 254 },
	{},
};

static const struct field rule_metadata[] = {
	{ .name = "annotations", .type = T_MAP, .item = T_STR, .sub = string_map },
	{},
};

static const struct field policy_rule[] = {
	{ .name = "action", .type = T_STR, .enums = rule_actions, .required = true },
	{ .name = "destination", .type = T_OBJ, .sub = entity_rule },
	{ .name = "http", .type = T_OBJ, .sub = http_match },
	{ .name = "icmp", .type = T_OBJ, .sub = icmp_match },
	{ .name = "ipVersion", .type = T_INT, .min = 4, .max = 6 },
	{ .name = "metadata", .type = T_OBJ, .sub = rule_metadata },
	{ .name = "notICMP", .type = T_OBJ, .sub = icmp_match },
	{ .name = "notProtocol", .type = T_INTSTR },
	{ .name = "protocol", .type = T_INTSTR },
	{ .name = "source", .type = T_OBJ, .sub = entity_rule },
	{},
};

#define POLICY_COMMON_FIELDS                                                                 \
	{ .name = "egress", .type = T_LIST, .item = T_OBJ, .sub = policy_rule },             \
	{ .name = "ingress", .type = T_LIST, .item = T_OBJ, .sub = policy_rule },            \
	{ .name = "order", .type = T_NUM },                                                  \
	{ .name = "performanceHints", .type = T_LIST, .item = T_STR },                       \
	{ .name = "selector", .type = T_STR, .check = chk_selector },                        \
	{ .name = "serviceAccountSelector", .type = T_STR, .check = chk_selector },          \
	{ .name = "tier", .type = T_STR },                                                   \
	{ .name = "types", .type = T_LIST, .item = T_STR, .enums = policy_types }

static const struct field netpol_spec[] = {
	POLICY_COMMON_FIELDS,
	{},
};

static const struct field gnp_spec[] = {
	POLICY_COMMON_FIELDS,
	{ .name = "applyOnForward", .type = T_BOOL },
	{ .name = "doNotTrack", .type = T_BOOL },
	{ .name = "namespaceSelector", .type = T_STR, .check = chk_selector },
	{ .name = "preDNAT", .type = T_BOOL },
	{},
};

/* HostEndpoint: the fields of Calico's CRD; the rules across fields (node
 * required, an interface or an expected IP) are the policy model's
 * (crdvalid_ops.hep), the one felix-c enforces with. */
static const struct field hep_port[] = {
	{ .name = "name", .type = T_STR, .required = true },
	{ .name = "port", .type = T_INT, .min = 1, .max = 65535, .required = true },
	{ .name = "protocol", .type = T_INTSTR, .required = true },
	{},
};

static const struct field hep_spec[] = {
	{ .name = "node", .type = T_STR },
	{ .name = "interfaceName", .type = T_STR },
	{ .name = "expectedIPs", .type = T_LIST, .item = T_STR, .check = chk_ip },
	{ .name = "profiles", .type = T_LIST, .item = T_STR },
	{ .name = "ports", .type = T_LIST, .item = T_OBJ, .sub = hep_port },
	{},
};

static const struct field netset_spec[] = {
	{ .name = "nets", .type = T_LIST, .item = T_STR, .check = chk_net },
	{},
};

/* KubeControllersConfiguration: calico-c runs no kube-controllers; the
 * object exists for Calico's tools (calicoctl ipam check reads it), so its
 * spec is kept as given. */
static const struct field kcc_any[] = { {} };

#define KCC_CONTROLLER(n) { .name = n, .type = T_OBJ, .sub = kcc_any, .open = true }
static const struct field kcc_controllers[] = {
	KCC_CONTROLLER("node"), KCC_CONTROLLER("policy"), KCC_CONTROLLER("workloadEndpoint"),
	KCC_CONTROLLER("serviceAccount"), KCC_CONTROLLER("namespace"),
	KCC_CONTROLLER("loadBalancer"), {},
};

static const struct field kcc_spec[] = {
	{ .name = "controllers", .type = T_OBJ, .sub = kcc_controllers, .required = true },
	{ .name = "debugProfilePort", .type = T_INT, .min = 0, .max = 65535 },
	{ .name = "etcdV3CompactionPeriod", .type = T_STR, .check = chk_duration },
	{ .name = "healthChecks", .type = T_STR, .enums = enabled_disabled },
	{ .name = "logSeverityScreen", .type = T_STR, .enums = severities },
	{ .name = "prometheusMetricsPort", .type = T_INT, .min = 0, .max = 65535 },
	{},
};

static const json_t *spec_of(const json_t *obj)
{
	return json_object_get(obj, "spec");
}

static const char *spec_str(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(spec_of(obj), key));

	return s && *s ? s : NULL;
}

static int run_op(struct vctx *c, int (*op)(const json_t *, char **), const json_t *obj)
{
	_cleanup_free_ char *err = NULL;
	int r = op(obj, &err);

	if (r == -EINVAL)
		return errmsg_set(c->ret_error, -EINVAL, "%s '%s': %s", c->kind, c->name,
				  err ? err : "invalid");
	return r < 0 ? r : 0;
}

static int rules_ippool(struct vctx *c, const json_t *obj, const struct crdvalid_ops *ops)
{
	const json_t *bs = json_object_get(spec_of(obj), "blockSize");
	const char *mode[] = { "ipipMode", "vxlanMode" };
	struct in_prefix p = { .family = AF_INET };

	for (size_t i = 0; i < ELEMENTSOF(mode); i++) {
		const char *m = spec_str(obj, mode[i]);

		if (m && strcmp(m, "Never") != 0) {
			char p[32];

			snprintf(p, sizeof(p), "spec.%s", mode[i]);
			return bad(c, p, "'%s' is not supported (calico-c routes without overlay: "
					 "use Never)", m);
		}
	}
	/* Calico's rule: tunnel addresses belong to no namespace. */
	if (spec_str(obj, "namespaceSelector")) {
		const json_t *u;
		size_t i;

		json_array_foreach(json_object_get(spec_of(obj), "allowedUses"), i, u)
			if (strcmp(json_string_value(u), "Tunnel") == 0)
				return bad(c, "spec.namespaceSelector", "not allowed in a pool whose "
					   "allowedUses include Tunnel");
	}
	if (ops && ops->ippool)
		return run_op(c, ops->ippool, obj);
	(void)prefix_parse(spec_str(obj, "cidr"), 0, &p);
	if (json_is_integer(bs) &&
	    (json_integer_value(bs) > prefix_max_len(p.family) || json_integer_value(bs) < p.len))
		return bad(c, "spec.blockSize", "%lld does not fit the %s pool /%u",
			   (long long)json_integer_value(bs), p.family == AF_INET ? "IPv4" : "IPv6",
			   p.len);
	return 0;
}

static int rules_ipamblock(struct vctx *c, const json_t *obj, const struct crdvalid_ops *ops)
{
	const json_t *spec = spec_of(obj), *allocs = json_object_get(spec, "allocations");
	const json_t *unalloc = json_object_get(spec, "unallocated"), *e;
	size_t n_attrs = json_array_size(json_object_get(spec, "attributes")), size, i;
	_cleanup_free_ unsigned char *seen = NULL;
	char p[64];
	struct in_prefix cidr = { .family = AF_INET, .len = 32 };

	(void)prefix_parse(spec_str(obj, "cidr"), 0, &cidr);
	if (prefix_max_len(cidr.family) - cidr.len > 20)
		return bad(c, "spec.cidr", "a block of more than 2^20 addresses");
	size = (size_t)1 << (prefix_max_len(cidr.family) - cidr.len);
	if (json_array_size(allocs) != size)
		return bad(c, "spec.allocations", "has %zu entries, the block has %zu addresses",
			   json_array_size(allocs), size);
	json_array_foreach(allocs, i, e)
		if (json_is_integer(e) && (size_t)json_integer_value(e) >= n_attrs) {
			snprintf(p, sizeof(p), "spec.allocations[%zu]", i);
			return bad(c, p, "attribute index %lld, but there are %zu attributes",
				   (long long)json_integer_value(e), n_attrs);
		}
	seen = calloc(size, 1);
	if (!seen)
		return -ENOMEM;
	json_array_foreach(unalloc, i, e) {
		size_t o = (size_t)json_integer_value(e);

		snprintf(p, sizeof(p), "spec.unallocated[%zu]", i);
		if (o >= size)
			return bad(c, p, "ordinal %zu is outside the block (%zu addresses)", o, size);
		if (seen[o]++)
			return bad(c, p, "ordinal %zu is listed twice", o);
		if (!json_is_null(json_array_get(allocs, o)))
			return bad(c, p, "ordinal %zu is free and allocated at once", o);
	}
	return ops && ops->ipamblock ? run_op(c, ops->ipamblock, obj) : 0;
}

/* Calico stores a policy under "<tier>.<name>" (a name without a tier
 * prefix is the default tier's: calicoctl stores it as "default.<name>");
 * Kubernetes-derived names ("knp.default.") are Calico's own. */
static int rules_policy(struct vctx *c, const json_t *obj, const struct crdvalid_ops *ops)
{
	const char *tier = spec_str(obj, "tier") ?: "default";
	size_t n = strlen(tier);

	if (strncmp(c->name, tier, n) != 0 || c->name[n] != '.' || !c->name[n + 1])
		return bad(c, "metadata.name", "must be '%s.<name>' (the policy's tier, then its "
			   "name)", tier);
	return ops && ops->policy ? run_op(c, ops->policy, obj) : 0;
}

static int rules_hep(struct vctx *c, const json_t *obj, const struct crdvalid_ops *ops)
{
	return ops && ops->hep ? run_op(c, ops->hep, obj) : 0;
}

static int rules_ipamconfig(struct vctx *c, const json_t *obj, const struct crdvalid_ops *ops)
{
	(void)ops;
	if (strcmp(c->name, "default") != 0)
		return bad(c, "metadata.name", "must be 'default' (IPAMConfig is a singleton)");
	(void)obj;
	return 0;
}

static bool community_defined(const json_t *spec, const char *name)
{
	const json_t *d;
	size_t i;

	json_array_foreach(json_object_get(spec, "communities"), i, d)
		if (strcmp(json_string_value(json_object_get(d, "name")), name) == 0)
			return true;
	return false;
}

static int rules_bgpconfig(struct vctx *c, const json_t *obj, const struct crdvalid_ops *ops)
{
	const json_t *spec = spec_of(obj), *pa, *cm;
	char p[96];
	size_t i, k;

	(void)ops;
	json_array_foreach(json_object_get(spec, "prefixAdvertisements"), i, pa)
		json_array_foreach(json_object_get(pa, "communities"), k, cm) {
			const char *s = json_string_value(cm);

			if (crdvalid_is_community(s) || community_defined(spec, s))
				continue;
			snprintf(p, sizeof(p), "spec.prefixAdvertisements[%zu].communities[%zu]", i, k);
			return bad(c, p, "'%s' is neither a community value nor a name defined in "
					 "spec.communities", s);
		}
	if (strcmp(c->name, "default") != 0 && strncmp(c->name, "node.", 5) != 0)
		return bad(c, "metadata.name", "must be 'default' or 'node.<node name>'");
	return 0;
}

static int rules_bgppeer(struct vctx *c, const json_t *obj, const struct crdvalid_ops *ops)
{
	const json_t *spec = spec_of(obj);
	unsigned long long ms;

	(void)ops;
	if (spec_str(obj, "node") && spec_str(obj, "nodeSelector"))
		return bad(c, "spec.nodeSelector", "must be empty when spec.node is set");
	if (spec_str(obj, "peerIP") && spec_str(obj, "peerSelector"))
		return bad(c, "spec.peerSelector", "must be empty when spec.peerIP is set");
	if (!spec_str(obj, "peerIP") && !spec_str(obj, "peerSelector"))
		return bad(c, "spec.peerIP", "required (or spec.peerSelector)");
	if (spec_str(obj, "peerIP") && !json_object_get(spec, "asNumber"))
		return bad(c, "spec.asNumber", "required with spec.peerIP");
	/* the limits BIRD's config accepts (keepalive 1s..21845s, restart < 4096s) */
	if (crdvalid_parse_duration(spec_str(obj, "keepaliveTime"), &ms) &&
	    (ms < 1000 || ms > 21845000ULL))
		return bad(c, "spec.keepaliveTime", "'%s' is outside 1s..21845s",
			   spec_str(obj, "keepaliveTime"));
	if (crdvalid_parse_duration(spec_str(obj, "maxRestartTime"), &ms) && ms > 4095000ULL)
		return bad(c, "spec.maxRestartTime", "'%s' is longer than 4095s",
			   spec_str(obj, "maxRestartTime"));
	return 0;
}

struct kind_def {
	struct crdvalid_kind k;
	const struct field *spec;
	bool open;
	int (*rules)(struct vctx *c, const json_t *obj, const struct crdvalid_ops *ops);
};

#define KIND(K, P, S, SH) { .kind = K, .plural = P, .singular = S, .short_name = SH }
#define NSKIND(K, P, S, SH)                                                                  \
	{ .kind = K, .plural = P, .singular = S, .short_name = SH, .namespaced = true }

static const struct kind_def kinds[] = {
	{ KIND("IPPool", "ippools", "ippool", "pool"), ippool_spec, false, rules_ippool },
	{ KIND("IPAMBlock", "ipamblocks", "ipamblock", NULL), ipamblock_spec, false,
	  rules_ipamblock },
	{ KIND("BlockAffinity", "blockaffinities", "blockaffinity", NULL), blockaffinity_spec,
	  false, NULL },
	{ KIND("IPAMHandle", "ipamhandles", "ipamhandle", NULL), ipamhandle_spec, false, NULL },
	{ KIND("IPAMConfig", "ipamconfigs", "ipamconfig", NULL), ipamconfig_spec, false,
	  rules_ipamconfig },
	{ KIND("BGPConfiguration", "bgpconfigurations", "bgpconfiguration", "bgpconfig"),
	  bgpconfig_spec, false, rules_bgpconfig },
	{ KIND("BGPPeer", "bgppeers", "bgppeer", "peer"), bgppeer_spec, false, rules_bgppeer },
	{ KIND("FelixConfiguration", "felixconfigurations", "felixconfiguration", "felixconfig"),
	  felixconfig_spec, true, NULL },
	{ KIND("ClusterInformation", "clusterinformations", "clusterinformation", "clusterinfo"),
	  clusterinfo_spec, false, NULL },
	{ KIND("KubeControllersConfiguration", "kubecontrollersconfigurations",
	       "kubecontrollersconfiguration", NULL),
	  kcc_spec, false, NULL },
	{ KIND("Tier", "tiers", "tier", NULL), tier_spec, false, NULL },
	{ KIND("BGPFilter", "bgpfilters", "bgpfilter", NULL), bgpfilter_spec, false, NULL },
	{ NSKIND("NetworkPolicy", "networkpolicies", "networkpolicy", "np"), netpol_spec,
	  false, rules_policy },
	{ KIND("GlobalNetworkPolicy", "globalnetworkpolicies", "globalnetworkpolicy", "gnp"),
	  gnp_spec, false, rules_policy },
	{ NSKIND("NetworkSet", "networksets", "networkset", NULL), netset_spec, false, NULL },
	{ KIND("GlobalNetworkSet", "globalnetworksets", "globalnetworkset", NULL), netset_spec,
	  false, NULL },
	{ KIND("HostEndpoint", "hostendpoints", "hostendpoint", "hep"), hep_spec, false,
	  rules_hep },
};

const struct crdvalid_kind crdvalid_kinds[] = {
	KIND("IPPool", "ippools", "ippool", "pool"),
	KIND("IPAMBlock", "ipamblocks", "ipamblock", NULL),
	KIND("BlockAffinity", "blockaffinities", "blockaffinity", NULL),
	KIND("IPAMHandle", "ipamhandles", "ipamhandle", NULL),
	KIND("IPAMConfig", "ipamconfigs", "ipamconfig", NULL),
	KIND("BGPConfiguration", "bgpconfigurations", "bgpconfiguration", "bgpconfig"),
	KIND("BGPPeer", "bgppeers", "bgppeer", "peer"),
	KIND("FelixConfiguration", "felixconfigurations", "felixconfiguration", "felixconfig"),
	KIND("ClusterInformation", "clusterinformations", "clusterinformation", "clusterinfo"),
	KIND("KubeControllersConfiguration", "kubecontrollersconfigurations",
	     "kubecontrollersconfiguration", NULL),
	KIND("Tier", "tiers", "tier", NULL),
	KIND("BGPFilter", "bgpfilters", "bgpfilter", NULL),
	NSKIND("NetworkPolicy", "networkpolicies", "networkpolicy", "np"),
	KIND("GlobalNetworkPolicy", "globalnetworkpolicies", "globalnetworkpolicy", "gnp"),
	NSKIND("NetworkSet", "networksets", "networkset", NULL),
	KIND("GlobalNetworkSet", "globalnetworksets", "globalnetworkset", NULL),
	KIND("HostEndpoint", "hostendpoints", "hostendpoint", "hep"),
	{},
};

static const struct kind_def *kind_def_lookup(const char *name)
{
	for (size_t i = 0; name && i < ELEMENTSOF(kinds); i++) {
		const struct crdvalid_kind *k = &kinds[i].k;

		if (!strcasecmp(name, k->kind) || !strcasecmp(name, k->plural) ||
		    !strcasecmp(name, k->singular) ||
		    (k->short_name && (!strcasecmp(name, k->short_name) ||
				       (!strncasecmp(name, k->short_name, strlen(k->short_name)) &&
					!strcasecmp(name + strlen(k->short_name), "s")))))
			return &kinds[i];
	}
	return NULL;
}

const struct crdvalid_kind *crdvalid_kind_lookup(const char *name)
{
	const struct kind_def *d = kind_def_lookup(name);

	return d ? &crdvalid_kinds[d - kinds] : NULL;
}

static int check_metadata(struct vctx *c, const json_t *md)
{
	static const char *const maps[] = { "labels", "annotations" };
	const struct field f = { .name = "x", .type = T_MAP, .item = T_STR, .sub = string_map };
	char p[32];

	if (!json_is_object(md))
		return bad(c, "metadata", md ? "must be an object" : "required");
	if (!json_is_string(json_object_get(md, "name")))
		return bad(c, "metadata.name", "required");
	if (!crdvalid_is_name(c->name))
		return bad(c, "metadata.name", "'%s' is not a valid name (lower case letters, "
					       "digits, '-' and '.', at most 253)", c->name);
	for (size_t i = 0; i < ELEMENTSOF(maps); i++) {
		const json_t *m = json_object_get(md, maps[i]);
		int r;

		if (!m || json_is_null(m))
			continue;
		snprintf(p, sizeof(p), "metadata.%s", maps[i]);
		r = check_value(c, p, m, T_MAP, &f);
		if (r < 0)
			return r;
	}
	return 0;
}

static int check_top(struct vctx *c, const struct kind_def *d, const json_t *obj)
{
	static const char *const top[] = { "apiVersion", "kind", "metadata", "spec", "status" };
	const char *av = json_string_value(json_object_get(obj, "apiVersion"));
	const char *kind = json_string_value(json_object_get(obj, "kind"));
	const char *key;
	json_t *v;
	int r;

	json_object_foreach((json_t *)obj, key, v) {
		size_t i = 0;

		while (i < ELEMENTSOF(top) && strcmp(top[i], key) != 0)
			i++;
		if (i == ELEMENTSOF(top))
			return bad(c, key, "unknown field");
	}
	if (!av || strcmp(av, CRDVALID_API_VERSION) != 0)
		return bad(c, "apiVersion", "must be '%s'%s%s%s", CRDVALID_API_VERSION,
			   av ? ", not '" : "", av ? av : "", av ? "'" : "");
	if (!kind)
		return bad(c, "kind", "required");
	if (strcmp(kind, d->k.kind) != 0)
		return bad(c, "kind", "'%s' where %s is expected", kind, d->k.kind);
	r = check_metadata(c, json_object_get(obj, "metadata"));
	if (r < 0)
		return r;
	v = json_object_get(obj, "spec");
	if (!v || json_is_null(v)) {
		json_t *empty = json_object();

		r = empty ? check_object(c, "spec", empty, d->spec, d->open) : -ENOMEM;
		json_decref(empty);
		return r;
	}
	if (!json_is_object(v))
		return bad(c, "spec", "must be an object");
	return check_object(c, "spec", v, d->spec, d->open);
}

int crdvalid_check(const char *kind, const json_t *obj, const struct crdvalid_ops *ops,
		   char **ret_error)
{
	const char *k = kind ? kind : json_string_value(json_object_get(obj, "kind"));
	const struct kind_def *d = kind_def_lookup(k);
	const char *name = json_string_value(json_object_get(json_object_get(obj, "metadata"),
							     "name"));
	struct vctx c = { .kind = d ? d->k.kind : k, .name = name ? name : "",
			  .ret_error = ret_error };
	int r;

	if (!k || !*k)
		return errmsg_set(ret_error, -EINVAL, "%s%s%s: kind: required",
				  name ? "object '" : "object", name ? name : "", name ? "'" : "");
	if (!d)
		return errmsg_set(ret_error, -EINVAL, "'%s' is not a kind of %s", k, CRDVALID_GROUP);
	if (!json_is_object(obj))
		return errmsg_set(ret_error, -EINVAL, "%s: not a JSON object", d->k.kind);
	r = check_top(&c, d, obj);
	if (r < 0 || !d->rules)
		return r;
	return d->rules(&c, obj, ops);
}
