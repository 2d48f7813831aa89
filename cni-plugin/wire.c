/* Pod wiring over lib/nl. Each step is one netlink request (or one sysctl
 * write) whose failure is reported with the step's name, so the runtime sees
 * which change the kernel refused. Ordering matters in two places: IPv6 DAD
 * is turned off before a link goes up (so link-locals are usable at once),
 * and the host route is added last (it is what makes the pod reachable).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include "nl.h"
#include "sha1.h"
#include "wire.h"

_Static_assert(WIRE_OWNER_MAX == NL_ALIAS_MAX, "an owner tag is an interface alias");

static const uint8_t host_mac[6] = { 0xee, 0xee, 0xee, 0xee, 0xee, 0xee };

__attribute__((format(printf, 4, 5))) static int wire_fail(struct cni_error *err,
							   const struct nl *nl, int r,
							   const char *fmt, ...)
{
	const char *why = nl ? nl_last_error(nl) : "";
	char what[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return cni_error_set(err, CNI_ERR_NETLINK, r, "%s: %s%s%s", what, strerror(-r),
			     *why ? ": " : "", why);
}

__attribute__((format(printf, 3, 4))) static int drift(struct cni_error *err, int r,
						       const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return cni_error_set(err, CNI_ERR_PLUGIN, r, "CHECK: %s", msg);
}

static void format_mac(const uint8_t mac[6], char out[18])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
		 mac[5]);
}

static void format_prefix(const struct in_prefix *p, char *buf, size_t size)
{
	if (prefix_format(p, false, buf, size) < 0)
		snprintf(buf, size, "?");
}

int wire_owner_tag(const char *container_id, char buf[WIRE_OWNER_MAX])
{
	size_t n = container_id ? strlen(container_id) : 0;

	if (!n)
		return -EINVAL;
	if (n < WIRE_OWNER_MAX) {
		memcpy(buf, container_id, n + 1);
		return 0;
	}
	memcpy(buf, "sha1:", 5);
	sha1_hex(container_id, n, buf + 5);
	return 0;
}

bool wire_is_owner(const char *tag, const char *container_id)
{
	char want[WIRE_OWNER_MAX];

	return tag && wire_owner_tag(container_id, want) == 0 && strcmp(tag, want) == 0;
}

static int sysctl_set(int netns_fd, const char *fmt_key, const char *ifname, const char *value)
{
	char key[128];

	snprintf(key, sizeof(key), fmt_key, ifname);
	if (netns_fd >= 0)
		return nl_sysctl_write_in_netns(netns_fd, key, value);
	return nl_sysctl_write(key, value);
}

/* Host veth settings. IPv6 ones are split: DAD must be off before the link
 * goes up (so its link-local is usable at once), the rest is applied only
 * when the pod really gets an IPv6 address, because IPv6 router mode on a
 * link makes its later removal cost an extra ~16 ms in the kernel. */
enum host_sysctl_when { SYSCTL_V4, SYSCTL_V6_EARLY, SYSCTL_V6 };

static const struct {
	const char *key;
	const char *value;
	enum host_sysctl_when when;
} host_sysctls[] = {
	{ "net/ipv4/conf/%s/proxy_arp", "1", SYSCTL_V4 },
	{ "net/ipv4/conf/%s/forwarding", "1", SYSCTL_V4 },
	{ "net/ipv4/neigh/%s/proxy_delay", "0", SYSCTL_V4 },
	{ "net/ipv6/conf/%s/accept_dad", "0", SYSCTL_V6_EARLY },
	{ "net/ipv6/conf/%s/accept_ra", "0", SYSCTL_V6 },
	{ "net/ipv6/conf/%s/proxy_ndp", "1", SYSCTL_V6 },
	{ "net/ipv6/conf/%s/forwarding", "1", SYSCTL_V6 },
};

static int host_v6_sysctls(const struct wire_pod *w, struct cni_error *err)
{
	for (size_t i = 0; i < sizeof(host_sysctls) / sizeof(host_sysctls[0]); i++) {
		char key[128];
		int r;

		if (host_sysctls[i].when != SYSCTL_V6)
			continue;
		snprintf(key, sizeof(key), host_sysctls[i].key, w->host_ifname);
		r = nl_sysctl_write(key, host_sysctls[i].value);
		if (r < 0)
			return wire_fail(err, NULL, r, "set sysctl %s=%s", key,
					 host_sysctls[i].value);
	}
	return 0;
}

static int add_addr(struct nl *nl, int ifindex, const struct in_prefix *p, uint8_t scope)
{
	struct nl_addr a = { .ifindex = ifindex, .family = p->family, .prefixlen = p->len,
			     .scope = scope };

	memcpy(a.addr, p->addr, sizeof(a.addr));
	if (p->family == AF_INET6)
		a.flags = IFA_F_NODAD;
	return nl_addr_add(nl, &a);
}

static int parse_const(const char *s, struct in_prefix *ret)
{
	return prefix_parse(s, PREFIX_ALLOW_BARE, ret);
}

/* IPv6 settings are applied before we know whether the pod gets an IPv6
 * address (IPAM runs meanwhile), so their failure is recorded, not fatal:
 * wire_configure() fails only if an IPv6 address then needs them. */
static void v6_failed(struct wire_state *st, int r, const char *what)
{
	if (st->v6_errno)
		return;
	st->v6_errno = r;
	snprintf(st->v6_error, sizeof(st->v6_error), "%s", what);
}

static int host_side(struct nl *host, const struct wire_pod *w, struct wire_state *st,
		     struct cni_error *err)
{
	struct nl_link l;
	int r;

	r = nl_link_get(host, 0, w->host_ifname, &l);
	if (r < 0)
		return wire_fail(err, host, r, "read host veth '%s'", w->host_ifname);
	st->host_ifindex = l.ifindex;
	st->mtu = l.mtu;
	format_mac(l.mac, st->host_mac);
	if (w->owner) {
		r = nl_link_set_alias(host, l.ifindex, w->owner);
		if (r < 0)
			return wire_fail(err, host, r, "record the owner on host veth '%s'",
					 w->host_ifname);
		snprintf(st->owner, sizeof(st->owner), "%s", w->owner);
	}
	for (size_t i = 0; i < sizeof(host_sysctls) / sizeof(host_sysctls[0]); i++) {
		char key[128], what[160];

		if (host_sysctls[i].when == SYSCTL_V6)
			continue;
		snprintf(key, sizeof(key), host_sysctls[i].key, w->host_ifname);
		r = nl_sysctl_write(key, host_sysctls[i].value);
		if (r < 0 && host_sysctls[i].when == SYSCTL_V6_EARLY) {
			snprintf(what, sizeof(what), "set sysctl %s=%s", key, host_sysctls[i].value);
			v6_failed(st, r, what);
		} else if (r < 0) {
			return wire_fail(err, NULL, r, "set sysctl %s=%s", key,
					 host_sysctls[i].value);
		}
	}
	r = nl_link_set_up(host, st->host_ifindex, true);
	if (r < 0)
		return wire_fail(err, host, r, "set host veth '%s' up", w->host_ifname);
	return 0;
}

static int host_link_local(struct nl *host, const struct wire_pod *w, int ifindex,
			   struct cni_error *err)
{
	struct in_prefix ll;
	int r;

	/* A known link-local as the pod's IPv6 gateway, whatever addr_gen_mode says. */
	if (parse_const(WIRE_GATEWAY_V6, &ll) < 0)
		return -EINVAL;
	ll.len = 64;
	r = add_addr(host, ifindex, &ll, RT_SCOPE_LINK);
	if (r < 0)
		return wire_fail(err, host, r, "add %s to '%s'", WIRE_GATEWAY_V6, w->host_ifname);
	return 0;
}

static int route_via(struct nl *nl, int oif, const char *dst, uint8_t dst_len, const char *gw,
		     uint8_t scope)
{
	struct in_prefix d, g;
	struct nl_route rt = { .dst_len = dst_len, .oif = oif, .protocol = RTPROT_BOOT,
			       .scope = scope };

	if (parse_const(dst, &d) < 0 || (gw && parse_const(gw, &g) < 0))
		return -EINVAL;
	rt.family = d.family;
	memcpy(rt.dst, d.addr, sizeof(rt.dst));
	if (gw) {
		rt.has_gw = true;
		memcpy(rt.gw, g.addr, sizeof(rt.gw));
	}
	return nl_route_add(nl, &rt);
}

static int pod_routes(struct nl *pod, const struct wire_pod *w, int ifindex,
		      struct cni_error *err)
{
	int r;

	if (w->v4) {
		r = route_via(pod, ifindex, WIRE_GATEWAY_V4, 32, NULL, RT_SCOPE_LINK);
		if (r < 0)
			return wire_fail(err, pod, r, "add route %s/32 dev %s scope link in the pod",
					 WIRE_GATEWAY_V4, w->pod_ifname);
		r = route_via(pod, ifindex, "0.0.0.0", 0, WIRE_GATEWAY_V4, RT_SCOPE_UNIVERSE);
		if (r < 0)
			return wire_fail(err, pod, r, "add default route via %s in the pod",
					 WIRE_GATEWAY_V4);
	}
	if (w->v6) {
		r = route_via(pod, ifindex, "::", 0, WIRE_GATEWAY_V6, RT_SCOPE_UNIVERSE);
		if (r < 0)
			return wire_fail(err, pod, r, "add default route via %s in the pod",
					 WIRE_GATEWAY_V6);
	}
	return 0;
}

static int pod_link(struct nl *pod, const struct wire_pod *w, struct wire_state *st,
		    struct cni_error *err)
{
	struct nl_link l;
	char what[160];
	int r;

	r = nl_link_get(pod, 0, w->pod_ifname, &l);
	if (r < 0)
		return wire_fail(err, pod, r, "read '%s' in the pod", w->pod_ifname);
	st->pod_ifindex = l.ifindex;
	format_mac(l.mac, st->pod_mac);
	r = sysctl_set(w->netns_fd, "net/ipv6/conf/%s/accept_dad", w->pod_ifname, "0");
	if (r < 0) {
		snprintf(what, sizeof(what), "disable DAD on '%s' in the pod", w->pod_ifname);
		v6_failed(st, r, what);
	}
	r = nl_link_set_up(pod, l.ifindex, true);
	if (r < 0)
		return wire_fail(err, pod, r, "set '%s' up in the pod", w->pod_ifname);
	return 0;
}

static int pod_addresses(struct nl *pod, const struct wire_pod *w, int ifindex,
			 struct cni_error *err)
{
	for (int i = 0; i < 2; i++) {
		const struct in_prefix *p = i ? w->v6 : w->v4;
		char a[64];
		int r;

		if (!p)
			continue;
		r = add_addr(pod, ifindex, p, RT_SCOPE_UNIVERSE);
		if (r < 0) {
			format_prefix(p, a, sizeof(a));
			return wire_fail(err, pod, r, "add %s to '%s' in the pod", a, w->pod_ifname);
		}
	}
	return pod_routes(pod, w, ifindex, err);
}

static void host_route(const struct in_prefix *p, int oif, struct nl_route *ret)
{
	*ret = (struct nl_route){ .family = p->family, .dst_len = p->family == AF_INET ? 32 : 128,
				  .oif = oif, .protocol = NL_RTPROT_CALICO,
				  .scope = RT_SCOPE_LINK };
	memcpy(ret->dst, p->addr, sizeof(ret->dst));
}

static int host_routes(struct nl *host, const struct wire_pod *w, int oif, struct cni_error *err)
{
	for (int i = 0; i < 2; i++) {
		const struct in_prefix *p = i ? w->v6 : w->v4;
		struct nl_route rt;
		char a[64];
		int r;

		if (!p)
			continue;
		host_route(p, oif, &rt);
		r = nl_route_add(host, &rt);
		if (r < 0) {
			format_prefix(p, a, sizeof(a));
			return wire_fail(err, host, r, "add host route %s dev %s", a,
					 w->host_ifname);
		}
	}
	return 0;
}

int wire_create(struct nl *host, struct nl *pod, const struct wire_pod *w,
		struct wire_state *ret, struct cni_error *err)
{
	struct nl_veth v = { .name = w->host_ifname, .peer_name = w->pod_ifname,
			     .peer_netns_fd = w->netns_fd, .mtu = w->mtu, .mac = host_mac };
	int r;

	*ret = (struct wire_state){};
	r = nl_link_add_veth(host, &v);
	if (r < 0)
		return wire_fail(err, host, r, "create veth '%s' with peer '%s' in the pod",
				 w->host_ifname, w->pod_ifname);
	if ((r = host_side(host, w, ret, err)) < 0 || (r = pod_link(pod, w, ret, err)) < 0)
		return r;
	return 0;
}

int wire_configure(struct nl *host, struct nl *pod, const struct wire_pod *w,
		   struct wire_state *st, struct cni_error *err)
{
	int r;

	if (w->v6 && st->v6_errno)
		return wire_fail(err, NULL, st->v6_errno, "%s (needed for IPv6)", st->v6_error);
	if (w->v6 && ((r = host_v6_sysctls(w, err)) < 0 ||
		      (r = host_link_local(host, w, st->host_ifindex, err)) < 0))
		return r;
	if ((r = pod_addresses(pod, w, st->pod_ifindex, err)) < 0 ||
	    (r = host_routes(host, w, st->host_ifindex, err)) < 0)
		return r;
	if (w->v4)
		st->v4 = *w->v4;
	if (w->v6)
		st->v6 = *w->v6;
	return 0;
}

int wire_del_link(struct nl *nl, const char *ifname)
{
	int r = nl_link_del(nl, 0, ifname);

	return (r == -ENODEV || r == -ENOENT) ? 0 : r;
}

static int collect_addr(const struct nl_addr *a, void *userdata)
{
	struct wire_state *st = userdata;
	struct in_prefix *slot = a->family == AF_INET ? &st->v4 : &st->v6;

	if (a->scope != RT_SCOPE_UNIVERSE || slot->family)
		return 0;
	*slot = (struct in_prefix){ .family = a->family, .len = a->prefixlen };
	memcpy(slot->addr, a->addr, sizeof(slot->addr));
	return 0;
}

int wire_find(struct nl *host, struct nl *pod, const char *host_ifname, const char *pod_ifname,
	      struct wire_state *ret)
{
	struct nl_link pl, hl;
	struct wire_state st = {};
	int r;

	r = nl_link_get(pod, 0, pod_ifname, &pl);
	if (r == -ENODEV)
		return 0;
	if (r < 0)
		return r;
	r = nl_link_get(host, 0, host_ifname, &hl);
	if (r == -ENODEV)
		return -EEXIST;
	if (r < 0)
		return r;
	/* Ours when each end names the other as its peer. */
	if (strcmp(pl.kind, "veth") != 0 || pl.link != hl.ifindex || hl.link != pl.ifindex)
		return -EEXIST;
	st.host_ifindex = hl.ifindex;
	st.pod_ifindex = pl.ifindex;
	st.mtu = pl.mtu;
	format_mac(hl.mac, st.host_mac);
	format_mac(pl.mac, st.pod_mac);
	snprintf(st.owner, sizeof(st.owner), "%s", hl.alias);
	r = nl_addr_list(pod, AF_UNSPEC, pl.ifindex, collect_addr, &st);
	if (r < 0)
		return r;
	*ret = st;
	return 1;
}

/* ---- CHECK ---- */

struct route_match {
	struct nl_route want;
	bool match_gw, match_proto;
	bool found;
};

static int match_route(const struct nl_route *r, void *userdata)
{
	struct route_match *m = userdata;
	size_t n = m->want.family == AF_INET ? 4 : 16;

	if (r->dst_len != m->want.dst_len || memcmp(r->dst, m->want.dst, n) != 0 ||
	    r->oif != m->want.oif)
		return 0;
	if (m->match_gw && (!r->has_gw || memcmp(r->gw, m->want.gw, n) != 0))
		return 0;
	if (m->match_proto && r->protocol != m->want.protocol)
		return 0;
	m->found = true;
	return 0;
}

static bool route_present(struct nl *nl, struct route_match *m)
{
	m->found = false;
	return nl_route_list(nl, m->want.family, -1, match_route, m) == 0 && m->found;
}

bool wire_host_route_exists(struct nl *host, const char *host_ifname,
			    const struct in_prefix *addr)
{
	struct route_match m = { .match_proto = true };
	struct nl_link l;

	if (nl_link_get(host, 0, host_ifname, &l) < 0)
		return false;
	host_route(addr, l.ifindex, &m.want);
	return route_present(host, &m);
}

static int check_links(struct nl *host, struct nl *pod, const struct wire_pod *w,
		       struct nl_link *hl, struct nl_link *pl, struct cni_error *err)
{
	char v[8] = "?", key[96];

	if (nl_link_get(pod, 0, w->pod_ifname, pl) < 0)
		return drift(err, -ENOENT, "interface '%s' missing in the pod", w->pod_ifname);
	if (nl_link_get(host, 0, w->host_ifname, hl) < 0)
		return drift(err, -ENOENT, "host veth '%s' missing", w->host_ifname);
	if (strcmp(pl->kind, "veth") != 0 || pl->link != hl->ifindex || hl->link != pl->ifindex)
		return drift(err, -EINVAL, "'%s' in the pod is not the peer of host veth '%s'",
			     w->pod_ifname, w->host_ifname);
	if (!(pl->flags & IFF_UP))
		return drift(err, -EINVAL, "'%s' in the pod is down", w->pod_ifname);
	if (!(hl->flags & IFF_UP))
		return drift(err, -EINVAL, "host veth '%s' is down", w->host_ifname);
	if (w->mtu && pl->mtu != w->mtu)
		return drift(err, -EINVAL, "'%s' in the pod has MTU %u, expected %u", w->pod_ifname,
			     pl->mtu, w->mtu);
	snprintf(key, sizeof(key), "net/ipv4/conf/%s/proxy_arp", w->host_ifname);
	if (w->v4 && (nl_sysctl_read(key, v, sizeof(v)) < 0 || strcmp(v, "1") != 0))
		return drift(err, -EINVAL, "proxy_arp on host veth '%s' is '%s', expected 1",
			     w->host_ifname, v);
	return 0;
}

struct addr_match {
	const struct in_prefix *want;
	bool found;
};

static int match_addr(const struct nl_addr *a, void *userdata)
{
	struct addr_match *m = userdata;
	size_t n = a->family == AF_INET ? 4 : 16;

	if (a->family == m->want->family && a->prefixlen == m->want->len &&
	    memcmp(a->addr, m->want->addr, n) == 0)
		m->found = true;
	return 0;
}

static int check_family(struct nl *host, struct nl *pod, const struct wire_pod *w,
			const struct in_prefix *p, int host_idx, int pod_idx,
			struct cni_error *err)
{
	struct addr_match am = { .want = p };
	struct route_match rm = { .match_proto = true };
	struct in_prefix gw;
	char a[64];

	format_prefix(p, a, sizeof(a));
	if (nl_addr_list(pod, p->family, pod_idx, match_addr, &am) < 0 || !am.found)
		return drift(err, -ENOENT, "address %s missing on '%s' in the pod", a,
			     w->pod_ifname);
	host_route(p, host_idx, &rm.want);
	if (!route_present(host, &rm))
		return drift(err, -ENOENT, "host route %s dev %s proto %d missing", a,
			     w->host_ifname, NL_RTPROT_CALICO);
	if (parse_const(p->family == AF_INET ? WIRE_GATEWAY_V4 : WIRE_GATEWAY_V6, &gw) < 0)
		return -EINVAL;
	rm = (struct route_match){ .match_gw = true };
	rm.want = (struct nl_route){ .family = p->family, .oif = pod_idx };
	memcpy(rm.want.gw, gw.addr, sizeof(gw.addr));
	if (!route_present(pod, &rm))
		return drift(err, -ENOENT, "default route via %s dev %s missing in the pod",
			     p->family == AF_INET ? WIRE_GATEWAY_V4 : WIRE_GATEWAY_V6,
			     w->pod_ifname);
	if (p->family == AF_INET) {
		rm = (struct route_match){};
		rm.want = (struct nl_route){ .family = AF_INET, .dst_len = 32, .oif = pod_idx };
		memcpy(rm.want.dst, gw.addr, 4);
		if (!route_present(pod, &rm))
			return drift(err, -ENOENT, "route %s/32 dev %s missing in the pod",
				     WIRE_GATEWAY_V4, w->pod_ifname);
	}
	return 0;
}

int wire_check(struct nl *host, struct nl *pod, const struct wire_pod *w, struct cni_error *err)
{
	struct nl_link hl, pl;
	int r;

	r = check_links(host, pod, w, &hl, &pl, err);
	if (r < 0)
		return r;
	for (int i = 0; i < 2; i++) {
		const struct in_prefix *p = i ? w->v6 : w->v4;

		if (p && (r = check_family(host, pod, w, p, hl.ifindex, pl.ifindex, err)) < 0)
			return r;
	}
	return 0;
}

int wire_uplink_mtu(struct nl *host, uint32_t *ret)
{
	struct nl_link l;
	int oif, r;

	r = nl_route_default_oif(host, &oif);
	if (r < 0)
		return r;
	r = nl_link_get(host, oif, NULL, &l);
	if (r < 0)
		return r;
	*ret = l.mtu;
	return 0;
}
