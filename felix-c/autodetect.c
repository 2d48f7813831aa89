/* Node address autodetection (see autodetect.h). The choice among the
 * kernel's addresses is a pure function; only listing them and the
 * can-reach route lookup (a connected UDP socket's source address: no packet
 * is sent) touch the kernel.
 *
 * As in Calico, interface= and skip-interface= take a comma-separated list
 * of regexes (an interface fits if any matches, unanchored, POSIX ERE), and
 * one more method is understood: cidr=CIDR[,CIDR...] picks the first global
 * address inside one of the CIDRs, on any interface. An empty method is
 * first-found. can-reach= takes an IPv4 address (no DNS names).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

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
	struct in_prefix cidr[MATCH_MAX_ITEMS]; /* an IPv6 one never matches here */
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

/* Calico accepts host bits ("10.0.0.5/24") and IPv6 CIDRs (never matching here). */
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

static bool matcher_addr(const struct matcher *m, uint32_t addr)
{
	struct in_prefix a = prefix_from_ipv4(addr);

	for (size_t i = 0; i < m->n_cidr; i++)
		if (prefix_contains(&m->cidr[i], &a))
			return true;
	return false;
}

enum method_kind { METHOD_FIRST_FOUND, METHOD_INTERFACE, METHOD_SKIP_INTERFACE, METHOD_CIDR };

static int method_parse(const char *method, struct matcher *m, enum method_kind *ret)
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

	if (!*method || strcmp(method, "first-found") == 0)
		return *ret = METHOD_FIRST_FOUND, 0;
	for (size_t i = 0; i < ELEMENTSOF(kinds); i++) {
		size_t n = strlen(kinds[i].prefix);

		if (strncmp(method, kinds[i].prefix, n) == 0) {
			*ret = kinds[i].kind;
			return matcher_parse(m, method + n, kinds[i].add);
		}
	}
	return -EINVAL;
}

static bool candidate_fits(enum method_kind k, const struct matcher *m,
			   const struct autodetect_addr *a)
{
	switch (k) {
	case METHOD_INTERFACE:
		return matcher_name(m, a->ifname);
	case METHOD_SKIP_INTERFACE:
		return !autodetect_iface_is_excluded(a->ifname) && !matcher_name(m, a->ifname);
	case METHOD_CIDR:
		return matcher_addr(m, a->addr);
	default:
		return !autodetect_iface_is_excluded(a->ifname);
	}
}

int autodetect_choose(const char *method, const struct autodetect_addr *v, size_t n,
		      size_t *ret_index)
{
	struct matcher m = {};
	enum method_kind k;
	int r;

	r = method_parse(method, &m, &k);
	for (size_t i = 0; r == 0 && i < n; i++) {
		if (v[i].global && candidate_fits(k, &m, &v[i])) {
			matcher_done(&m);
			*ret_index = i;
			return 0;
		}
	}
	matcher_done(&m);
	return r < 0 ? r : -ENOENT;
}

struct collect {
	struct autodetect_addr *v;
	int *ifindex;
	char (*names)[IFNAMSIZ];
	size_t n, cap;
	int error;
};

static int collect_addr(const struct nl_addr *a, void *userdata)
{
	struct collect *c = userdata;

	if (a->family != AF_INET || c->n == c->cap)
		return 0; /* enough candidates */
	memcpy(&c->v[c->n].addr, a->addr, 4);
	c->v[c->n].prefixlen = a->prefixlen;
	c->v[c->n].global = a->scope == RT_SCOPE_UNIVERSE;
	c->ifindex[c->n] = a->ifindex;
	c->n++;
	return 0;
}

/* The source address the kernel would use toward @target. */
static int can_reach(const char *target, uint32_t *ret_addr)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(9) };
	socklen_t len = sizeof(sa);
	_cleanup_close_ int fd = -1;

	if (inet_pton(AF_INET, target, &sa.sin_addr) != 1)
		return -EINVAL;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return errno == ENETUNREACH ? -ENOENT : -errno;
	if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		return -errno;
	*ret_addr = sa.sin_addr.s_addr;
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

int autodetect_ipv4(struct nl *nl, const char *method, char ret_cidr[static 24],
		    uint32_t *ret_mtu)
{
	struct autodetect_addr v[64];
	char names[64][IFNAMSIZ], a[INET_ADDRSTRLEN];
	int ifindex[64];
	struct collect c = { .v = v, .ifindex = ifindex, .names = names, .cap = ELEMENTSOF(v) };
	uint32_t want = 0;
	size_t idx = 0;
	int r;

	r = nl_addr_list(nl, AF_INET, 0, collect_addr, &c);
	if (r < 0)
		return r;
	resolve_links(nl, &c);
	if (strncmp(method, "can-reach=", 10) == 0) {
		r = can_reach(method + 10, &want);
		if (r < 0)
			return r;
		for (idx = 0; idx < c.n && v[idx].addr != want; idx++)
			;
		if (idx == c.n)
			return -ENOENT;
	} else {
		r = autodetect_choose(method, v, c.n, &idx);
		if (r < 0)
			return r;
	}
	inet_ntop(AF_INET, &v[idx].addr, a, sizeof(a));
	snprintf(ret_cidr, 24, "%s/%u", a, v[idx].prefixlen);
	if (ret_mtu)
		*ret_mtu = v[idx].mtu;
	return 0;
}
