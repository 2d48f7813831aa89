/* Node address autodetection (see autodetect.h). The choice among the
 * kernel's addresses is a pure function; only listing them and the
 * can-reach route lookup (a connected UDP socket's source address: no packet
 * is sent) touch the kernel.
 *
 * As in Calico, interface= and skip-interface= take a comma-separated list
 * of regexes (an interface fits if any matches, unanchored, POSIX ERE), and
 * cidr=CIDR[,CIDR...] picks the first global address inside one of the
 * CIDRs, on any interface. An empty method is first-found. can-reach= takes
 * an address (no DNS names). Both families go through the same code: the
 * caller lists the candidates of one family.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <jansson.h>

#include "cleanup.h"
#include "felix-c/autodetect.h"
#include "nl.h"
#include "prefix.h"

static const char *const excluded_prefixes[] = {
	"lo", "cali", "docker", "cbr", "dummy", "virbr", "lxcbr", "veth", "tunl", "flannel",
	"kube-ipvs", "cni", "vxlan.calico", "vxlan-v6.calico", "wireguard.cali", "wg-v6.cali",
	"nodelocaldns",
};

bool autodetect_iface_is_excluded(const char *ifname)
{
	for (size_t i = 0; i < ELEMENTSOF(excluded_prefixes); i++)
		if (strncmp(ifname, excluded_prefixes[i], strlen(excluded_prefixes[i])) == 0)
			return true;
	return false;
}

/* The list after "interface=", "skip-interface=" or "cidr=": items separated
 * by commas, blanks around them ignored (as Calico splits them). */
#define MATCH_MAX_ITEMS 16

struct matcher {
	regex_t re[MATCH_MAX_ITEMS];
	size_t n_re;
	struct in_prefix cidr[MATCH_MAX_ITEMS];
	size_t n_cidr;
};

static void matcher_done(struct matcher *m)
{
	for (size_t i = 0; i < m->n_re; i++)
		regfree(&m->re[i]);
	m->n_re = 0;
}

static int matcher_add_regex(struct matcher *m, const char *item)
{
	if (m->n_re == MATCH_MAX_ITEMS || regcomp(&m->re[m->n_re], item, REG_EXTENDED | REG_NOSUB))
		return -EINVAL;
	m->n_re++;
	return 0;
}

/* Calico accepts host bits ("10.0.0.5/24") and CIDRs of either family (one of
 * the other family never matches). */
static int matcher_add_cidr(struct matcher *m, const char *item)
{
	if (m->n_cidr == MATCH_MAX_ITEMS ||
	    prefix_parse(item, PREFIX_CLEAR_HOST, &m->cidr[m->n_cidr]) < 0)
		return -EINVAL;
	m->n_cidr++;
	return 0;
}

/* Calls @add for each item of @list; an empty item is an error (an empty
 * regex would match every interface). */
static int matcher_parse(struct matcher *m, const char *list,
			 int (*add)(struct matcher *, const char *))
{
	for (const char *p = list;;) {
		const char *comma = strchrnul(p, ','), *e = comma;
		char item[256];
		int r;

		while (*p == ' ' || *p == '\t')
			p++;
		while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (e == p || (size_t)(e - p) >= sizeof(item))
			return -EINVAL;
		memcpy(item, p, e - p);
		item[e - p] = '\0';
		r = add(m, item);
		if (r < 0)
			return r;
		if (!*comma)
			return 0;
		p = comma + 1;
	}
}

static bool matcher_name(const struct matcher *m, const char *ifname)
{
	for (size_t i = 0; i < m->n_re; i++)
		if (regexec(&m->re[i], ifname, 0, NULL, 0) == 0)
			return true;
	return false;
}

static bool matcher_addr(const struct matcher *m, const struct in_prefix *addr)
{
	struct in_prefix a = *addr;

	a.len = (uint8_t)prefix_max_len(a.family);
	for (size_t i = 0; i < m->n_cidr; i++)
		if (prefix_contains(&m->cidr[i], &a))
			return true;
	return false;
}

enum method_kind {
	METHOD_FIRST_FOUND,
	METHOD_INTERFACE,
	METHOD_SKIP_INTERFACE,
	METHOD_CIDR,
	METHOD_TARGET, /* can-reach=, kubernetes-internal-ip: the candidate holding the target */
};

#define CAN_REACH "can-reach="

/* can-reach=ADDR: @ret_addr gets ADDR (may be NULL). */
static int method_parse(const char *method, struct matcher *m, enum method_kind *ret,
			struct in_prefix *ret_addr)
{
	static const struct {
		const char *prefix;
		enum method_kind kind;
		int (*add)(struct matcher *, const char *);
	} kinds[] = {
		{ "interface=", METHOD_INTERFACE, matcher_add_regex },
		{ "skip-interface=", METHOD_SKIP_INTERFACE, matcher_add_regex },
		{ "cidr=", METHOD_CIDR, matcher_add_cidr },
	};
	struct in_prefix a;

	if (!*method || strcmp(method, "first-found") == 0)
		return *ret = METHOD_FIRST_FOUND, 0;
	if (strcmp(method, "kubernetes-internal-ip") == 0)
		return *ret = METHOD_TARGET, 0;
	if (strncmp(method, CAN_REACH, strlen(CAN_REACH)) == 0) {
		if (prefix_parse(method + strlen(CAN_REACH), PREFIX_ADDR_ONLY, &a) < 0)
			return -EINVAL;
		if (ret_addr)
			*ret_addr = a;
		return *ret = METHOD_TARGET, 0;
	}
	for (size_t i = 0; i < ELEMENTSOF(kinds); i++) {
		size_t n = strlen(kinds[i].prefix);

		if (strncmp(method, kinds[i].prefix, n) == 0) {
			*ret = kinds[i].kind;
			return matcher_parse(m, method + n, kinds[i].add);
		}
	}
	return -EINVAL;
}

static bool same_addr(const struct in_prefix *a, const struct in_prefix *b)
{
	return a->family == b->family &&
	       memcmp(a->addr, b->addr, a->family == AF_INET ? 4 : 16) == 0;
}

static bool candidate_fits(enum method_kind k, const struct matcher *m,
			   const struct in_prefix *target, const struct autodetect_addr *a)
{
	switch (k) {
	case METHOD_INTERFACE:
		return a->global && matcher_name(m, a->ifname);
	case METHOD_SKIP_INTERFACE:
		return a->global && !autodetect_iface_is_excluded(a->ifname) &&
		       !matcher_name(m, a->ifname);
	case METHOD_CIDR:
		return a->global && matcher_addr(m, &a->addr);
	case METHOD_TARGET:
		return target && same_addr(target, &a->addr);
	default:
		return a->global && !autodetect_iface_is_excluded(a->ifname);
	}
}

int autodetect_choose(const char *method, const struct in_prefix *target,
		      const struct autodetect_addr *v, size_t n, size_t *ret_index)
{
	struct matcher m = {};
	enum method_kind k;
	int r;

	r = method_parse(method, &m, &k, NULL);
	for (size_t i = 0; r == 0 && i < n; i++) {
		if (candidate_fits(k, &m, target, &v[i])) {
			matcher_done(&m);
			*ret_index = i;
			return 0;
		}
	}
	matcher_done(&m);
	return r < 0 ? r : -ENOENT;
}

int autodetect_method_check(const char *method, int family)
{
	struct in_prefix a = { .family = family };
	struct matcher m = {};
	enum method_kind k;
	int r;

	r = method_parse(method, &m, &k, &a);
	matcher_done(&m);
	return r < 0 || a.family != family ? -EINVAL : 0;
}

int autodetect_node_internal_ip(const json_t *node, int family, struct in_prefix *ret)
{
	const json_t *addrs = json_object_get(json_object_get(node, "status"), "addresses");
	const json_t *a;
	size_t i;

	json_array_foreach(addrs, i, a) {
		const char *type = json_string_value(json_object_get(a, "type"));
		struct in_prefix p;

		if (type && strcmp(type, "InternalIP") == 0 &&
		    prefix_parse(json_string_value(json_object_get(a, "address")), PREFIX_ADDR_ONLY,
				 &p) == 0 &&
		    p.family == family) {
			*ret = p;
			return 0;
		}
	}
	return -ENOENT;
}

struct collect {
	int family;
	struct autodetect_addr *v;
	int *ifindex;
	char (*names)[IFNAMSIZ];
	size_t n, cap;
};

static int collect_addr(const struct nl_addr *a, void *userdata)
{
	struct collect *c = userdata;
	struct autodetect_addr *x;

	if (a->family != c->family || c->n == c->cap)
		return 0; /* enough candidates */
	x = &c->v[c->n];
	*x = (struct autodetect_addr){ .addr = { .family = a->family, .len = a->prefixlen } };
	memcpy(x->addr.addr, a->addr, a->family == AF_INET ? 4 : 16);
	x->global = a->scope == RT_SCOPE_UNIVERSE && !(a->flags & IFA_F_DADFAILED);
	c->ifindex[c->n] = a->ifindex;
	c->n++;
	return 0;
}

/* The source address the kernel would use toward @target. */
static int can_reach(const struct in_prefix *target, struct in_prefix *ret)
{
	struct sockaddr_storage ss = {};
	socklen_t len = target->family == AF_INET ? sizeof(struct sockaddr_in) :
						    sizeof(struct sockaddr_in6);
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	_cleanup_close_ int fd = -1;

	ss.ss_family = (sa_family_t)target->family;
	if (target->family == AF_INET) {
		s4->sin_port = htons(9);
		memcpy(&s4->sin_addr, target->addr, 4);
	} else {
		s6->sin6_port = htons(9);
		memcpy(&s6->sin6_addr, target->addr, 16);
	}
	fd = socket(target->family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&ss, len) < 0)
		return errno == ENETUNREACH || errno == EHOSTUNREACH ? -ENOENT : -errno;
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return -errno;
	*ret = (struct in_prefix){ .family = target->family,
				   .len = (uint8_t)prefix_max_len(target->family) };
	memcpy(ret->addr, target->family == AF_INET ? (void *)&s4->sin_addr : (void *)&s6->sin6_addr,
	       target->family == AF_INET ? 4 : 16);
	return 0;
}

/* Names and MTUs, after the address dump (one request at a time per socket). */
static void resolve_links(struct nl *nl, struct collect *c)
{
	for (size_t i = 0; i < c->n; i++) {
		struct nl_link l;

		if (nl_link_get(nl, c->ifindex[i], NULL, &l) < 0)
			l = (struct nl_link){}; /* went away meanwhile: never matches */
		snprintf(c->names[i], IFNAMSIZ, "%s", l.name);
		c->v[i].ifname = c->names[i];
		c->v[i].mtu = l.mtu;
		if (!l.name[0])
			c->v[i].global = false;
	}
}

int autodetect_run(struct nl *nl, int family, const char *method, const struct in_prefix *node_ip,
		   struct in_prefix *ret, uint32_t *ret_mtu)
{
	struct autodetect_addr v[64];
	char names[64][IFNAMSIZ];
	int ifindex[64];
	struct collect c = { .family = family, .v = v, .ifindex = ifindex, .names = names,
			     .cap = ELEMENTSOF(v) };
	const struct in_prefix *t = NULL;
	struct in_prefix target;
	struct matcher m = {};
	enum method_kind k;
	size_t idx = 0;
	int r;

	r = method_parse(method, &m, &k, &target);
	matcher_done(&m);
	if (r < 0)
		return r;
	if (k == METHOD_TARGET && strncmp(method, CAN_REACH, strlen(CAN_REACH)) == 0) {
		if (target.family != family)
			return -EINVAL;
		r = can_reach(&target, &target);
		if (r < 0)
			return r;
		t = &target;
	} else if (k == METHOD_TARGET) {
		t = node_ip;
		if (!t)
			return -ENOENT;
	}
	r = nl_addr_list(nl, family, 0, collect_addr, &c);
	if (r < 0)
		return r;
	resolve_links(nl, &c);
	r = autodetect_choose(method, t, v, c.n, &idx);
	if (r < 0)
		return r;
	*ret = v[idx].addr;
	if (ret_mtu)
		*ret_mtu = v[idx].mtu;
	return 0;
}
