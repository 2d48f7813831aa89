/* Netlink (rtnetlink) helpers over libmnl: links (veth pairs), addresses,
 * routes, proxy neighbour entries, and the network namespace plumbing around
 * them (sockets bound to a namespace, setns and back, per-namespace sysctls).
 *
 * Model: a struct nl is one NETLINK_ROUTE socket, bound for its lifetime to
 * the network namespace it was opened in, so one process can drive the host
 * and a pod at once without staying inside the pod. Every request carries
 * NLM_F_ACK and waits for its ACK; the kernel's extended-ACK text of the last
 * failure is kept (nl_last_error()).
 *
 * The message builders and parsers are exported separately (nl_msg_*,
 * nl_*_from_msg) so they can be round-tripped in unit tests without a kernel.
 */
#pragma once

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cleanup.h"

struct nlmsghdr;

/* rtm_protocol of every route we own (iproute2 shows "proto 80"). */
#define NL_RTPROT_CALICO 80

struct nl;

/* Longest interface alias (IFLA_IFALIAS) with its NUL: the kernel's IFALIASZ. */
#define NL_ALIAS_MAX 256

/* A link as read from the kernel. */
struct nl_link {
	int ifindex;
	char name[IFNAMSIZ];
	unsigned flags; /* IFF_* */
	uint32_t mtu;	/* bytes */
	uint8_t mac[6];
	bool has_mac;
	char kind[16]; /* IFLA_INFO_KIND ("veth"), "" if none */
	int link;      /* IFLA_LINK: the peer's ifindex for a veth, 0 if none */
	int link_netnsid; /* IFLA_LINK_NETNSID, -1 if none (peer in same netns) */
	char alias[NL_ALIAS_MAX]; /* IFLA_IFALIAS, "" if none */
};

/* Parameters of a veth pair. */
struct nl_veth {
	const char *name;      /* end created in the socket's namespace */
	const char *peer_name; /* the other end */
	int peer_netns_fd;     /* namespace for the peer, -1: same namespace */
	uint32_t mtu;	       /* 0: kernel default; applied to both ends */
	const uint8_t *mac;    /* 6 bytes for @name, NULL: random */
};

struct nl_addr {
	int ifindex;
	int family; /* AF_INET / AF_INET6 */
	uint8_t addr[16];
	uint8_t prefixlen;
	uint8_t scope;	/* RT_SCOPE_* */
	uint32_t flags; /* IFA_F_* */
};

struct nl_route {
	int family;
	uint8_t dst[16];
	uint8_t dst_len;
	bool has_gw;
	uint8_t gw[16];
	int oif;	  /* 0: none */
	uint8_t protocol; /* RTPROT_*, NL_RTPROT_CALICO */
	uint8_t scope;	  /* RT_SCOPE_* */
	uint8_t type;	  /* RTN_UNICAST, RTN_BLACKHOLE, ... */
	uint32_t table;	  /* RT_TABLE_MAIN when 0 on input */
	uint32_t priority; /* metric, 0: none */
	bool onlink;	   /* RTNH_F_ONLINK */
};

/* ---- sockets and namespaces ---- */

/* Open a socket in the current network namespace. Return: 0 or -errno. */
int nl_open(struct nl **ret);
/* Open a socket in the namespace @netns_fd refers to (setns there and back). */
int nl_open_in_netns(int netns_fd, struct nl **ret);
struct nl *nl_free(struct nl *nl);
DEFINE_CLEANUP_FUNC(struct nl, nl_free);
/* Extended-ACK message of the last failed request, "" when none. */
const char *nl_last_error(const struct nl *nl);

/* Open a namespace reference (a /proc/<pid>/ns/net or /run/netns/ path). */
int nl_netns_open(const char *path);

/**
 * nl_netns_enter - switch the calling thread to @netns_fd
 * @netns_fd: target namespace
 * @ret_saved_fd: receives an fd to the namespace to return to
 *
 * Return: 0 or -errno (then the thread is where it was).
 */
int nl_netns_enter(int netns_fd, int *ret_saved_fd);
/* Return to the saved namespace and close @saved_fd (sets it to -1). */
int nl_netns_leave(int *saved_fd);

/**
 * nl_sysctl_write - write a sysctl of the current network namespace
 * @key: path under /proc/sys, '/'-separated ("net/ipv4/conf/cali1/proxy_arp")
 * @value: the value
 *
 * Return: 0 or -errno (-ENOENT: no such key, e.g. no IPv6 on that link).
 */
int nl_sysctl_write(const char *key, const char *value);
/* Same, inside the namespace @netns_fd (entered and left around the write). */
int nl_sysctl_write_in_netns(int netns_fd, const char *key, const char *value);
int nl_sysctl_read(const char *key, char *buf, size_t size);

/* ---- links ---- */

/* Create a veth pair (NLM_F_CREATE|NLM_F_EXCL). -EEXIST if a name is taken. */
int nl_link_add_veth(struct nl *nl, const struct nl_veth *v);
/* Delete by index or, when @ifindex is 0, by name. -ENODEV when absent. */
int nl_link_del(struct nl *nl, int ifindex, const char *name);
/* Look up by index or, when @ifindex is 0, by name. -ENODEV when absent. */
int nl_link_get(struct nl *nl, int ifindex, const char *name, struct nl_link *ret);
int nl_link_set_up(struct nl *nl, int ifindex, bool up);
int nl_link_set_mtu(struct nl *nl, int ifindex, uint32_t mtu);
int nl_link_set_mac(struct nl *nl, int ifindex, const uint8_t mac[6]);
int nl_link_set_netns(struct nl *nl, int ifindex, int netns_fd);
/* Set one IPv4 setting of the link (IPV4_DEVCONF_* of <linux/ip.h>, as
 * net.ipv4.conf.<if>.* in /proc/sys) over rtnetlink (IFLA_INET_CONF): needs
 * CAP_NET_ADMIN only, not a writable /proc/sys. -EINVAL for a bad @key. */
int nl_link_set_ipv4_conf(struct nl *nl, int ifindex, uint16_t key, uint32_t value);
/* Set the link's alias (IFLA_IFALIAS; "" clears it). -EINVAL when it has
 * NL_ALIAS_MAX characters or more. */
int nl_link_set_alias(struct nl *nl, int ifindex, const char *alias);

typedef int (*nl_link_cb)(const struct nl_link *l, void *userdata);
/* Call @cb for each link; a negative return stops the walk and is returned. */
int nl_link_list(struct nl *nl, nl_link_cb cb, void *userdata);

/* ---- addresses ---- */

/* Add (NLM_F_CREATE|NLM_F_REPLACE: idempotent) or delete an address. */
int nl_addr_add(struct nl *nl, const struct nl_addr *a);
int nl_addr_del(struct nl *nl, const struct nl_addr *a);

typedef int (*nl_addr_cb)(const struct nl_addr *a, void *userdata);
/* Addresses of @family (AF_UNSPEC: all) on @ifindex (0: all links). */
int nl_addr_list(struct nl *nl, int family, int ifindex, nl_addr_cb cb, void *userdata);

/* ---- routes ---- */

/* Add with NLM_F_CREATE|NLM_F_REPLACE (idempotent), or delete. */
int nl_route_add(struct nl *nl, const struct nl_route *r);
int nl_route_del(struct nl *nl, const struct nl_route *r);

typedef int (*nl_route_cb)(const struct nl_route *r, void *userdata);
/* Routes of @family in the main table whose protocol is @protocol (-1: any). */
int nl_route_list(struct nl *nl, int family, int protocol, nl_route_cb cb, void *userdata);
/* Output interface of the IPv4 default route of the main table; -ENOENT if none. */
int nl_route_default_oif(struct nl *nl, int *ret_ifindex);

/* ---- proxy neighbours (NTF_PROXY entries, used for proxy NDP) ---- */

int nl_neigh_proxy_add(struct nl *nl, int ifindex, int family, const uint8_t *addr);
int nl_neigh_proxy_del(struct nl *nl, int ifindex, int family, const uint8_t *addr);

/* ---- message builders and parsers (pure; unit-tested) ---- */

/* Each builder writes one request into @buf (at least NL_MSG_BUF_SIZE bytes)
 * and returns it, or NULL when a name is too long. @type is RTM_NEW* / RTM_DEL*. */
#define NL_MSG_BUF_SIZE 1024
struct nlmsghdr *nl_msg_veth(void *buf, const struct nl_veth *v);
struct nlmsghdr *nl_msg_addr(void *buf, uint16_t type, const struct nl_addr *a);
struct nlmsghdr *nl_msg_route(void *buf, uint16_t type, const struct nl_route *r);

/* Parsers for RTM_NEWLINK / RTM_NEWADDR / RTM_NEWROUTE messages. -EINVAL on
 * a malformed message or attribute of the wrong size. */
int nl_link_from_msg(const struct nlmsghdr *nlh, struct nl_link *ret);
int nl_addr_from_msg(const struct nlmsghdr *nlh, struct nl_addr *ret);
int nl_route_from_msg(const struct nlmsghdr *nlh, struct nl_route *ret);
/* Name of the peer inside a veth RTM_NEWLINK request (for tests), or NULL. */
const char *nl_msg_veth_peer_name(const struct nlmsghdr *nlh);
