/* rtnetlink over libmnl. Requests are built by pure nl_msg_* functions, sent
 * with NLM_F_ACK by nl_request() which reads the ACK (keeping the kernel's
 * extended-ACK text), and replies are decoded through per-message attribute
 * policy tables, so each parser is a table plus a few assignments.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/ip.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include "cleanup.h"
#include "nl.h"

/* Dumps can fill a 32 KiB datagram (the kernel uses up to 32 KiB per skb). */
#define NL_DUMP_BUF_SIZE 32768

struct nl {
	struct mnl_socket *sock; /* owned */
	uint32_t portid;
	uint32_t seq;
	char last_error[256]; /* extended ACK text of the last failure */
};

/* ---- attribute policies ---- */

struct nl_policy {
	bool want;
	enum mnl_attr_data_type type;
	uint16_t len; /* exact payload length for MNL_TYPE_BINARY, 0: any */
};

struct nl_attrs {
	const struct nl_policy *policy;
	uint16_t max;
	const struct nlattr **tb;
};

static int attr_cb(const struct nlattr *a, void *data)
{
	const struct nl_attrs *t = data;
	uint16_t type = mnl_attr_get_type(a);
	const struct nl_policy *p;

	if (type > t->max || !t->policy[type].want)
		return MNL_CB_OK; /* attributes we do not use are skipped */
	p = &t->policy[type];
	if (mnl_attr_validate(a, p->type) < 0)
		return MNL_CB_ERROR;
	if (p->len && mnl_attr_get_payload_len(a) != p->len)
		return MNL_CB_ERROR;
	t->tb[type] = a;
	return MNL_CB_OK;
}

static int parse_msg_attrs(const struct nlmsghdr *nlh, size_t hdrlen, const struct nl_policy *pol,
			   uint16_t max, const struct nlattr **tb)
{
	struct nl_attrs t = { pol, max, tb };

	if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + MNL_ALIGN(hdrlen))
		return -EINVAL;
	return mnl_attr_parse(nlh, (unsigned)hdrlen, attr_cb, &t) == MNL_CB_ERROR ? -EINVAL : 0;
}

static int parse_nested_attrs(const struct nlattr *nest, const struct nl_policy *pol,
			      uint16_t max, const struct nlattr **tb)
{
	struct nl_attrs t = { pol, max, tb };

	return mnl_attr_parse_nested(nest, attr_cb, &t) == MNL_CB_ERROR ? -EINVAL : 0;
}

static const struct nl_policy link_policy[IFLA_MAX + 1] = {
	[IFLA_IFNAME] = { true, MNL_TYPE_NUL_STRING, 0 },
	[IFLA_MTU] = { true, MNL_TYPE_U32, 0 },
	[IFLA_ADDRESS] = { true, MNL_TYPE_BINARY, 0 },
	[IFLA_LINK] = { true, MNL_TYPE_U32, 0 },
	[IFLA_LINK_NETNSID] = { true, MNL_TYPE_U32, 0 },
	[IFLA_LINKINFO] = { true, MNL_TYPE_NESTED, 0 },
	[IFLA_IFALIAS] = { true, MNL_TYPE_STRING, 0 },
};

static const struct nl_policy linkinfo_policy[IFLA_INFO_MAX + 1] = {
	[IFLA_INFO_KIND] = { true, MNL_TYPE_STRING, 0 },
	[IFLA_INFO_DATA] = { true, MNL_TYPE_NESTED, 0 },
};

static const struct nl_policy addr_policy[IFA_MAX + 1] = {
	[IFA_ADDRESS] = { true, MNL_TYPE_BINARY, 0 },
	[IFA_LOCAL] = { true, MNL_TYPE_BINARY, 0 },
	[IFA_FLAGS] = { true, MNL_TYPE_U32, 0 },
};

static const struct nl_policy route_policy[RTA_MAX + 1] = {
	[RTA_DST] = { true, MNL_TYPE_BINARY, 0 },
	[RTA_GATEWAY] = { true, MNL_TYPE_BINARY, 0 },
	[RTA_OIF] = { true, MNL_TYPE_U32, 0 },
	[RTA_PRIORITY] = { true, MNL_TYPE_U32, 0 },
	[RTA_TABLE] = { true, MNL_TYPE_U32, 0 },
};

static size_t family_len(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

/* Copy an address attribute whose size must match the family. */
static int copy_addr(const struct nlattr *a, int family, uint8_t out[16])
{
	size_t n = family_len(family);

	if (!n || mnl_attr_get_payload_len(a) != n)
		return -EINVAL;
	memcpy(out, mnl_attr_get_payload(a), n);
	return 0;
}

/* ---- parsers ---- */

int nl_link_from_msg(const struct nlmsghdr *nlh, struct nl_link *ret)
{
	const struct nlattr *tb[IFLA_MAX + 1] = {}, *info[IFLA_INFO_MAX + 1] = {};
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	struct nl_link l = { .link_netnsid = -1 };

	if (parse_msg_attrs(nlh, sizeof(*ifi), link_policy, IFLA_MAX, tb) < 0)
		return -EINVAL;
	l.ifindex = ifi->ifi_index;
	l.flags = ifi->ifi_flags;
	if (tb[IFLA_IFNAME])
		snprintf(l.name, sizeof(l.name), "%s", mnl_attr_get_str(tb[IFLA_IFNAME]));
	if (tb[IFLA_MTU])
		l.mtu = mnl_attr_get_u32(tb[IFLA_MTU]);
	if (tb[IFLA_ADDRESS] && mnl_attr_get_payload_len(tb[IFLA_ADDRESS]) == 6) {
		memcpy(l.mac, mnl_attr_get_payload(tb[IFLA_ADDRESS]), 6);
		l.has_mac = true;
	}
	if (tb[IFLA_LINK])
		l.link = (int)mnl_attr_get_u32(tb[IFLA_LINK]);
	if (tb[IFLA_LINK_NETNSID])
		l.link_netnsid = (int)mnl_attr_get_u32(tb[IFLA_LINK_NETNSID]);
	if (tb[IFLA_IFALIAS])
		snprintf(l.alias, sizeof(l.alias), "%.*s",
			 (int)strnlen(mnl_attr_get_payload(tb[IFLA_IFALIAS]),
				      mnl_attr_get_payload_len(tb[IFLA_IFALIAS])),
			 (const char *)mnl_attr_get_payload(tb[IFLA_IFALIAS]));
	if (tb[IFLA_LINKINFO]) {
		if (parse_nested_attrs(tb[IFLA_LINKINFO], linkinfo_policy, IFLA_INFO_MAX, info) < 0)
			return -EINVAL;
		if (info[IFLA_INFO_KIND])
			snprintf(l.kind, sizeof(l.kind), "%.*s",
				 (int)mnl_attr_get_payload_len(info[IFLA_INFO_KIND]),
				 (const char *)mnl_attr_get_payload(info[IFLA_INFO_KIND]));
	}
	*ret = l;
	return 0;
}

int nl_addr_from_msg(const struct nlmsghdr *nlh, struct nl_addr *ret)
{
	const struct nlattr *tb[IFA_MAX + 1] = {};
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;
	struct nl_addr out = {};

	if (parse_msg_attrs(nlh, sizeof(*ifa), addr_policy, IFA_MAX, tb) < 0)
		return -EINVAL;
	out.family = ifa->ifa_family;
	out.ifindex = (int)ifa->ifa_index;
	out.prefixlen = ifa->ifa_prefixlen;
	out.scope = ifa->ifa_scope;
	out.flags = tb[IFA_FLAGS] ? mnl_attr_get_u32(tb[IFA_FLAGS]) : ifa->ifa_flags;
	/* IFA_LOCAL is the address itself; IFA_ADDRESS the peer on p2p links. */
	a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (!a || copy_addr(a, out.family, out.addr) < 0)
		return -EINVAL;
	*ret = out;
	return 0;
}

int nl_route_from_msg(const struct nlmsghdr *nlh, struct nl_route *ret)
{
	const struct nlattr *tb[RTA_MAX + 1] = {};
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	struct nl_route r = {};

	if (parse_msg_attrs(nlh, sizeof(*rtm), route_policy, RTA_MAX, tb) < 0)
		return -EINVAL;
	r.family = rtm->rtm_family;
	r.dst_len = rtm->rtm_dst_len;
	r.protocol = rtm->rtm_protocol;
	r.scope = rtm->rtm_scope;
	r.type = rtm->rtm_type;
	r.onlink = rtm->rtm_flags & RTNH_F_ONLINK;
	r.table = tb[RTA_TABLE] ? mnl_attr_get_u32(tb[RTA_TABLE]) : rtm->rtm_table;
	if (!family_len(r.family))
		return -EINVAL;
	if (tb[RTA_DST] && copy_addr(tb[RTA_DST], r.family, r.dst) < 0)
		return -EINVAL;
	if (tb[RTA_GATEWAY]) {
		if (copy_addr(tb[RTA_GATEWAY], r.family, r.gw) < 0)
			return -EINVAL;
		r.has_gw = true;
	}
	if (tb[RTA_OIF])
		r.oif = (int)mnl_attr_get_u32(tb[RTA_OIF]);
	if (tb[RTA_PRIORITY])
		r.priority = mnl_attr_get_u32(tb[RTA_PRIORITY]);
	*ret = r;
	return 0;
}

/* ---- builders ---- */

static struct nlmsghdr *msg_start(void *buf, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh;

	memset(buf, 0, NL_MSG_BUF_SIZE);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	return nlh;
}

static bool name_ok(const char *name)
{
	return name && *name && strlen(name) < IFNAMSIZ;
}

struct nlmsghdr *nl_msg_veth(void *buf, const struct nl_veth *v)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi, *peer;
	struct nlattr *info, *data, *peer_nest;

	if (!name_ok(v->name) || !name_ok(v->peer_name))
		return NULL;
	nlh = msg_start(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, v->name);
	if (v->mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, v->mtu);
	if (v->mac)
		mnl_attr_put(nlh, IFLA_ADDRESS, 6, v->mac);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	peer_nest = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	/* The peer is described by a full ifinfomsg followed by its attributes. */
	peer = mnl_nlmsg_get_payload_tail(nlh);
	memset(peer, 0, sizeof(*peer));
	nlh->nlmsg_len += MNL_ALIGN(sizeof(*peer));
	mnl_attr_put_strz(nlh, IFLA_IFNAME, v->peer_name);
	if (v->mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, v->mtu);
	if (v->peer_netns_fd >= 0)
		mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)v->peer_netns_fd);
	mnl_attr_nest_end(nlh, peer_nest);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	return nlh;
}

const char *nl_msg_veth_peer_name(const struct nlmsghdr *nlh)
{
	const struct nlattr *tb[IFLA_MAX + 1] = {}, *info[IFLA_INFO_MAX + 1] = {};
	const struct nlattr *a, *peer = NULL, *ptb[IFLA_MAX + 1] = {};
	struct nl_attrs t = { link_policy, IFLA_MAX, ptb };

	if (parse_msg_attrs(nlh, sizeof(struct ifinfomsg), link_policy, IFLA_MAX, tb) < 0 ||
	    !tb[IFLA_LINKINFO] ||
	    parse_nested_attrs(tb[IFLA_LINKINFO], linkinfo_policy, IFLA_INFO_MAX, info) < 0 ||
	    !info[IFLA_INFO_DATA])
		return NULL;
	mnl_attr_for_each_nested(a, info[IFLA_INFO_DATA])
		if (mnl_attr_get_type(a) == VETH_INFO_PEER)
			peer = a;
	if (!peer || mnl_attr_get_payload_len(peer) < sizeof(struct ifinfomsg))
		return NULL;
	/* Walk the attributes after the embedded ifinfomsg. */
	for (a = (const struct nlattr *)((const char *)mnl_attr_get_payload(peer) +
					 MNL_ALIGN(sizeof(struct ifinfomsg)));
	     mnl_attr_ok(a, (int)((const char *)peer + peer->nla_len - (const char *)a));
	     a = mnl_attr_next(a))
		if (attr_cb(a, &t) == MNL_CB_ERROR)
			return NULL;
	return ptb[IFLA_IFNAME] ? mnl_attr_get_str(ptb[IFLA_IFNAME]) : NULL;
}

struct nlmsghdr *nl_msg_addr(void *buf, uint16_t type, const struct nl_addr *a)
{
	size_t n = family_len(a->family);
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;

	if (!n)
		return NULL;
	nlh = msg_start(buf, type, type == RTM_NEWADDR ? NLM_F_CREATE | NLM_F_REPLACE : 0);
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (uint8_t)a->family;
	ifa->ifa_prefixlen = a->prefixlen;
	ifa->ifa_scope = a->scope;
	ifa->ifa_index = (uint32_t)a->ifindex;
	ifa->ifa_flags = (uint8_t)(a->flags & 0xff);
	mnl_attr_put(nlh, IFA_LOCAL, n, a->addr);
	mnl_attr_put(nlh, IFA_ADDRESS, n, a->addr);
	if (a->flags)
		mnl_attr_put_u32(nlh, IFA_FLAGS, a->flags);
	return nlh;
}

struct nlmsghdr *nl_msg_route(void *buf, uint16_t type, const struct nl_route *r)
{
	size_t n = family_len(r->family);
	uint32_t table = r->table ? r->table : RT_TABLE_MAIN;
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;

	if (!n)
		return NULL;
	nlh = msg_start(buf, type, type == RTM_NEWROUTE ? NLM_F_CREATE | NLM_F_REPLACE : 0);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)r->family;
	rtm->rtm_dst_len = r->dst_len;
	rtm->rtm_table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
	rtm->rtm_protocol = r->protocol;
	rtm->rtm_scope = r->scope;
	rtm->rtm_type = r->type ? r->type : RTN_UNICAST;
	rtm->rtm_flags = r->onlink ? RTNH_F_ONLINK : 0;
	if (r->dst_len)
		mnl_attr_put(nlh, RTA_DST, n, r->dst);
	if (r->has_gw)
		mnl_attr_put(nlh, RTA_GATEWAY, n, r->gw);
	if (r->oif)
		mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)r->oif);
	if (r->priority)
		mnl_attr_put_u32(nlh, RTA_PRIORITY, r->priority);
	mnl_attr_put_u32(nlh, RTA_TABLE, table);
	return nlh;
}

/* ---- sockets ---- */

struct nl *nl_free(struct nl *nl)
{
	if (!nl)
		return NULL;
	if (nl->sock)
		mnl_socket_close(nl->sock);
	free(nl);
	return NULL;
}


int nl_open(struct nl **ret)
{
	_cleanup_(nl_freep) struct nl *nl = calloc(1, sizeof(*nl));
	int one = 1;

	if (!nl)
		return -ENOMEM;
	nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl->sock)
		return -errno;
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0)
		return -errno;
	/* Best effort: older kernels lack these and still work. */
	(void)mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one));
	(void)mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one));
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (uint32_t)getpid() << 8;
	*ret = TAKE_PTR(nl);
	return 0;
}

int nl_open_in_netns(int netns_fd, struct nl **ret)
{
	int saved = -1, r, r2;

	r = nl_netns_enter(netns_fd, &saved);
	if (r < 0)
		return r;
	r = nl_open(ret);
	r2 = nl_netns_leave(&saved);
	if (r >= 0 && r2 < 0) {
		*ret = nl_free(*ret);
		return r2;
	}
	return r;
}

const char *nl_last_error(const struct nl *nl)
{
	return nl ? nl->last_error : "";
}

/* Keep the extended-ACK message (NLMSGERR_ATTR_MSG) of an error reply. */
static void save_ext_ack(struct nl *nl, const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	size_t off = sizeof(*e);
	const struct nlattr *a;
	const char *end = (const char *)nlh + nlh->nlmsg_len;

	nl->last_error[0] = '\0';
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
	for (a = (const struct nlattr *)((const char *)e + MNL_ALIGN(off));
	     mnl_attr_ok(a, (int)(end - (const char *)a)); a = mnl_attr_next(a))
		if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
		    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
			snprintf(nl->last_error, sizeof(nl->last_error), "%s", mnl_attr_get_str(a));
}

/* Read replies to @seq until the ACK (or error), ignoring anything else. */
static int read_ack(struct nl *nl, uint32_t seq)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];

	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl->sock, buf, sizeof(buf));
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
		int len = (int)n;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			const struct nlmsgerr *e;

			if (nlh->nlmsg_seq != seq || nlh->nlmsg_type != NLMSG_ERROR)
				continue;
			if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
				return -EBADMSG;
			e = mnl_nlmsg_get_payload(nlh);
			if (e->error)
				save_ext_ack(nl, nlh);
			return e->error;
		}
	}
}

/* Send one change request with NLM_F_ACK and wait for its ACK. */
static int nl_request(struct nl *nl, struct nlmsghdr *nlh)
{
	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = ++nl->seq;
	nl->last_error[0] = '\0';
	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	return read_ack(nl, nlh->nlmsg_seq);
}

typedef int (*msg_cb)(const struct nlmsghdr *nlh, void *data);

/* Send a dump request and feed each reply to @cb until NLMSG_DONE. */
static int nl_dump(struct nl *nl, struct nlmsghdr *nlh, msg_cb cb, void *data)
{
	char buf[NL_DUMP_BUF_SIZE];
	uint32_t seq;
	int r;

	nlh->nlmsg_flags |= NLM_F_DUMP;
	seq = nlh->nlmsg_seq = ++nl->seq;
	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl->sock, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		r = mnl_cb_run(buf, (size_t)n, seq, nl->portid, cb, data);
		if (r == MNL_CB_STOP)
			return 0;
		if (r < 0)
			return errno ? -errno : -EIO;
	}
}

/* ---- namespaces and sysctls ---- */

int nl_netns_open(const char *path)
{
	int fd;

	if (!path || !*path)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int nl_netns_enter(int netns_fd, int *ret_saved_fd)
{
	_cleanup_close_ int saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);

	if (saved < 0)
		return -errno;
	if (setns(netns_fd, CLONE_NEWNET) < 0)
		return -errno;
	*ret_saved_fd = TAKE_FD(saved);
	return 0;
}

int nl_netns_leave(int *saved_fd)
{
	int r = 0;

	if (*saved_fd < 0)
		return 0;
	if (setns(*saved_fd, CLONE_NEWNET) < 0)
		r = -errno;
	*saved_fd = safe_close(*saved_fd);
	return r;
}

static int sysctl_path(const char *key, char *buf, size_t size)
{
	int n;

	/* A key is a path under /proc/sys: refuse anything that could escape it. */
	if (!key || !*key || key[0] == '/' || strstr(key, ".."))
		return -EINVAL;
	n = snprintf(buf, size, "/proc/sys/%s", key);
	return (n < 0 || (size_t)n >= size) ? -ENAMETOOLONG : 0;
}

int nl_sysctl_write(const char *key, const char *value)
{
	_cleanup_close_ int fd = -1;
	char path[256];
	size_t len = strlen(value);
	ssize_t w;
	int r;

	r = sysctl_path(key, path, sizeof(path));
	if (r < 0)
		return r;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	w = write(fd, value, len);
	if (w < 0)
		return -errno;
	return (size_t)w == len ? 0 : -EIO;
}

int nl_sysctl_read(const char *key, char *buf, size_t size)
{
	_cleanup_close_ int fd = -1;
	char path[256];
	ssize_t n;
	int r;

	r = sysctl_path(key, path, sizeof(path));
	if (r < 0)
		return r;
	if (size == 0)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

int nl_sysctl_write_in_netns(int netns_fd, const char *key, const char *value)
{
	int saved = -1, r, r2;

	r = nl_netns_enter(netns_fd, &saved);
	if (r < 0)
		return r;
	r = nl_sysctl_write(key, value);
	r2 = nl_netns_leave(&saved);
	return r < 0 ? r : r2;
}

/* ---- links ---- */

int nl_link_add_veth(struct nl *nl, const struct nl_veth *v)
{
	char buf[NL_MSG_BUF_SIZE];
	struct nlmsghdr *nlh = nl_msg_veth(buf, v);

	if (!nlh)
		return -EINVAL;
	return nl_request(nl, nlh);
}

static struct nlmsghdr *link_msg(void *buf, uint16_t type, int ifindex, const char *name)
{
	struct nlmsghdr *nlh = msg_start(buf, type, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	if (!ifindex)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	return nlh;
}

int nl_link_del(struct nl *nl, int ifindex, const char *name)
{
	char buf[NL_MSG_BUF_SIZE];

	if (!ifindex && !name_ok(name))
		return -EINVAL;
	return nl_request(nl, link_msg(buf, RTM_DELLINK, ifindex, name));
}

/* A GET with NLM_F_ACK answers with the object, then the ACK. */
struct get_ctx {
	struct nl_link *out;
	bool found;
	int r;
};

static int link_get_cb(const struct nlmsghdr *nlh, void *data)
{
	struct get_ctx *c = data;

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return MNL_CB_OK;
	c->r = nl_link_from_msg(nlh, c->out);
	c->found = c->r == 0;
	return MNL_CB_OK;
}

static int recv_get(struct nl *nl, uint32_t seq, msg_cb cb, void *data)
{
	char buf[NL_DUMP_BUF_SIZE];

	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl->sock, buf, sizeof(buf));
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
		int len = (int)n;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			if (nlh->nlmsg_seq != seq)
				continue;
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

				if (e->error)
					save_ext_ack(nl, nlh);
				return e->error;
			}
			(void)cb(nlh, data);
		}
	}
}

int nl_link_get(struct nl *nl, int ifindex, const char *name, struct nl_link *ret)
{
	char buf[NL_MSG_BUF_SIZE];
	struct nl_link l;
	struct get_ctx c = { .out = &l };
	struct nlmsghdr *nlh;
	int r;

	if (!ifindex && !name_ok(name))
		return -EINVAL;
	nlh = link_msg(buf, RTM_GETLINK, ifindex, name);
	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = ++nl->seq;
	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	r = recv_get(nl, nlh->nlmsg_seq, link_get_cb, &c);
	if (r < 0)
		return r;
	if (c.r < 0)
		return c.r;
	if (!c.found)
		return -ENODEV;
	*ret = l;
	return 0;
}

static int link_change(struct nl *nl, int ifindex, unsigned flags, unsigned change,
		       uint16_t attr, size_t len, const void *data)
{
	char buf[NL_MSG_BUF_SIZE];
	struct nlmsghdr *nlh = msg_start(buf, RTM_NEWLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	ifi->ifi_flags = flags;
	ifi->ifi_change = change;
	if (attr)
		mnl_attr_put(nlh, attr, len, data);
	return nl_request(nl, nlh);
}

int nl_link_set_up(struct nl *nl, int ifindex, bool up)
{
	return link_change(nl, ifindex, up ? IFF_UP : 0, IFF_UP, 0, 0, NULL);
}

int nl_link_set_mtu(struct nl *nl, int ifindex, uint32_t mtu)
{
	return link_change(nl, ifindex, 0, 0, IFLA_MTU, sizeof(mtu), &mtu);
}

int nl_link_set_mac(struct nl *nl, int ifindex, const uint8_t mac[6])
{
	return link_change(nl, ifindex, 0, 0, IFLA_ADDRESS, 6, mac);
}

int nl_link_set_alias(struct nl *nl, int ifindex, const char *alias)
{
	size_t n = strlen(alias);

	if (n >= NL_ALIAS_MAX)
		return -EINVAL;
	/* Without the NUL, as iproute2 sends it: the kernel adds its own. */
	return link_change(nl, ifindex, 0, 0, IFLA_IFALIAS, n, alias);
}

int nl_link_set_ipv4_conf(struct nl *nl, int ifindex, uint16_t key, uint32_t value)
{
	char buf[NL_MSG_BUF_SIZE];
	struct nlmsghdr *nlh = msg_start(buf, RTM_NEWLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	struct nlattr *spec, *af, *conf;

	if (key == 0 || key > IPV4_DEVCONF_MAX)
		return -EINVAL;
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	spec = mnl_attr_nest_start(nlh, IFLA_AF_SPEC);
	af = mnl_attr_nest_start(nlh, AF_INET);
	conf = mnl_attr_nest_start(nlh, IFLA_INET_CONF);
	mnl_attr_put_u32(nlh, key, value);
	mnl_attr_nest_end(nlh, conf);
	mnl_attr_nest_end(nlh, af);
	mnl_attr_nest_end(nlh, spec);
	return nl_request(nl, nlh);
}

int nl_link_set_netns(struct nl *nl, int ifindex, int netns_fd)
{
	uint32_t fd = (uint32_t)netns_fd;

	return link_change(nl, ifindex, 0, 0, IFLA_NET_NS_FD, sizeof(fd), &fd);
}

struct link_list_ctx {
	nl_link_cb cb;
	void *userdata;
	int r;
};

static int link_list_cb(const struct nlmsghdr *nlh, void *data)
{
	struct link_list_ctx *c = data;
	struct nl_link l;

	if (c->r < 0 || nl_link_from_msg(nlh, &l) < 0)
		return MNL_CB_OK;
	c->r = c->cb(&l, c->userdata);
	return MNL_CB_OK;
}

int nl_link_list(struct nl *nl, nl_link_cb cb, void *userdata)
{
	char buf[NL_MSG_BUF_SIZE];
	struct nlmsghdr *nlh = msg_start(buf, RTM_GETLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	struct link_list_ctx c = { cb, userdata, 0 };
	int r;

	ifi->ifi_family = AF_UNSPEC;
	r = nl_dump(nl, nlh, link_list_cb, &c);
	return r < 0 ? r : c.r;
}

/* ---- addresses ---- */

int nl_addr_add(struct nl *nl, const struct nl_addr *a)
{
	char buf[NL_MSG_BUF_SIZE];
	struct nlmsghdr *nlh = nl_msg_addr(buf, RTM_NEWADDR, a);

	return nlh ? nl_request(nl, nlh) : -EINVAL;
}

int nl_addr_del(struct nl *nl, const struct nl_addr *a)
{
	char buf[NL_MSG_BUF_SIZE];
	struct nlmsghdr *nlh = nl_msg_addr(buf, RTM_DELADDR, a);

	return nlh ? nl_request(nl, nlh) : -EINVAL;
}

struct addr_list_ctx {
	int ifindex;
	nl_addr_cb cb;
	void *userdata;
	int r;
};

static int addr_list_cb(const struct nlmsghdr *nlh, void *data)
{
	struct addr_list_ctx *c = data;
	struct nl_addr a;

	if (c->r < 0 || nl_addr_from_msg(nlh, &a) < 0)
		return MNL_CB_OK;
	if (c->ifindex && a.ifindex != c->ifindex)
		return MNL_CB_OK;
	c->r = c->cb(&a, c->userdata);
	return MNL_CB_OK;
}

int nl_addr_list(struct nl *nl, int family, int ifindex, nl_addr_cb cb, void *userdata)
{
	char buf[NL_MSG_BUF_SIZE];
	struct nlmsghdr *nlh = msg_start(buf, RTM_GETADDR, 0);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	struct addr_list_ctx c = { ifindex, cb, userdata, 0 };
	int r;

	ifa->ifa_family = (uint8_t)family;
	r = nl_dump(nl, nlh, addr_list_cb, &c);
	return r < 0 ? r : c.r;
}

/* ---- routes ---- */

int nl_route_add(struct nl *nl, const struct nl_route *r)
{
	char buf[NL_MSG_BUF_SIZE];
	struct nlmsghdr *nlh = nl_msg_route(buf, RTM_NEWROUTE, r);

	return nlh ? nl_request(nl, nlh) : -EINVAL;
}

int nl_route_del(struct nl *nl, const struct nl_route *r)
{
	char buf[NL_MSG_BUF_SIZE];
	struct nl_route copy = *r;
	struct nlmsghdr *nlh;

	/* Like iproute2: match any scope; the protocol still has to match. */
	copy.scope = RT_SCOPE_NOWHERE;
	nlh = nl_msg_route(buf, RTM_DELROUTE, &copy);
	return nlh ? nl_request(nl, nlh) : -EINVAL;
}

struct route_list_ctx {
	int family;
	int protocol;
	nl_route_cb cb;
	void *userdata;
	int r;
};

static int route_list_cb(const struct nlmsghdr *nlh, void *data)
{
	struct route_list_ctx *c = data;
	struct nl_route rt;

	if (c->r < 0 || nl_route_from_msg(nlh, &rt) < 0)
		return MNL_CB_OK;
	/* A kernel without the family (ipv6.disable=1) answers the dump of
	 * every family instead: keep only the one asked for. */
	if (rt.family != c->family || rt.table != RT_TABLE_MAIN ||
	    (c->protocol >= 0 && rt.protocol != c->protocol))
		return MNL_CB_OK;
	c->r = c->cb(&rt, c->userdata);
	return MNL_CB_OK;
}

int nl_route_list(struct nl *nl, int family, int protocol, nl_route_cb cb, void *userdata)
{
	char buf[NL_MSG_BUF_SIZE];
	struct nlmsghdr *nlh = msg_start(buf, RTM_GETROUTE, 0);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	struct route_list_ctx c = { family, protocol, cb, userdata, 0 };
	int r;

	rtm->rtm_family = (uint8_t)family;
	r = nl_dump(nl, nlh, route_list_cb, &c);
	return r < 0 ? r : c.r;
}

static int default_cb(const struct nl_route *r, void *userdata)
{
	int *oif = userdata;

	if (r->dst_len == 0 && r->type == RTN_UNICAST && r->oif && !*oif)
		*oif = r->oif;
	return 0;
}

int nl_route_default_oif(struct nl *nl, int *ret_ifindex)
{
	int oif = 0, r;

	r = nl_route_list(nl, AF_INET, -1, default_cb, &oif);
	if (r < 0)
		return r;
	if (!oif)
		return -ENOENT;
	*ret_ifindex = oif;
	return 0;
}

/* ---- proxy neighbours ---- */

static int neigh_proxy(struct nl *nl, uint16_t type, int ifindex, int family, const uint8_t *addr)
{
	char buf[NL_MSG_BUF_SIZE];
	size_t n = family_len(family);
	struct nlmsghdr *nlh;
	struct ndmsg *nd;

	if (!n)
		return -EINVAL;
	nlh = msg_start(buf, type, type == RTM_NEWNEIGH ? NLM_F_CREATE | NLM_F_REPLACE : 0);
	nd = mnl_nlmsg_put_extra_header(nlh, sizeof(*nd));
	nd->ndm_family = (uint8_t)family;
	nd->ndm_ifindex = ifindex;
	nd->ndm_flags = NTF_PROXY;
	nd->ndm_state = NUD_PERMANENT;
	mnl_attr_put(nlh, NDA_DST, n, addr);
	return nl_request(nl, nlh);
}

int nl_neigh_proxy_add(struct nl *nl, int ifindex, int family, const uint8_t *addr)
{
	return neigh_proxy(nl, RTM_NEWNEIGH, ifindex, family, addr);
}

int nl_neigh_proxy_del(struct nl *nl, int ifindex, int family, const uint8_t *addr)
{
	return neigh_proxy(nl, RTM_DELNEIGH, ifindex, family, addr);
}
