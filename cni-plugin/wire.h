/* The dataplane of one pod: a veth pair, the pod's /32 and /128, a proxy-ARP
 * gateway (169.254.1.1) and host routes carrying NL_RTPROT_CALICO.
 *
 * Host side (node namespace): caliXXXXXXXXXXX, MAC ee:ee:ee:ee:ee:ee, no IPv4
 * address, proxy_arp=1, forwarding=1, neigh proxy_delay=0; for IPv6 the fixed
 * link-local fe80::ecee:eeff:feee:eeee (the EUI-64 of that MAC), proxy_ndp=1.
 * Routes <podIP>/32 (/128) dev cali... proto 80.
 * Pod side (CNI_NETNS): CNI_IFNAME with <podIP>/32 (/128), 169.254.1.1/32
 * scope link, default via 169.254.1.1; IPv6 default via the host link-local.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "cni.h"

struct nl;

#define WIRE_GATEWAY_V4 "169.254.1.1"
#define WIRE_GATEWAY_V6 "fe80::ecee:eeff:feee:eeee"
#define WIRE_HOST_MAC "ee:ee:ee:ee:ee:ee"

/* Room for an owner tag with its NUL: an interface alias (NL_ALIAS_MAX). */
#define WIRE_OWNER_MAX 256

/**
 * wire_owner_tag - the tag that records which container made a host veth
 *   (kept as the link's alias, IFLA_IFALIAS, so that DEL can tell its own
 *   veth from another container's)
 * @container_id: CNI_CONTAINERID
 * @buf: gets the container ID itself, or "sha1:" and the hex SHA-1 of it
 *   when it is too long for an alias
 *
 * Return: 0, -EINVAL (empty id).
 */
int wire_owner_tag(const char *container_id, char buf[WIRE_OWNER_MAX]);

/* Whether @tag (a host veth's alias) says @container_id made the veth. */
bool wire_is_owner(const char *tag, const char *container_id);

/* What to build. Pointers are borrowed. */
struct wire_pod {
	const char *host_ifname;
	const char *pod_ifname;
	int netns_fd;		  /* the pod's namespace */
	uint32_t mtu;		  /* bytes, both ends */
	const struct in_prefix *v4; /* pod address (/32), NULL: none */
	const struct in_prefix *v6; /* pod address (/128), NULL: none */
	const char *owner;	  /* wire_owner_tag() recorded on the host veth, NULL: none */
};

/* What exists (after wire_create()/wire_configure() or as found by wire_find()). */
struct wire_state {
	int host_ifindex, pod_ifindex;
	char host_mac[18], pod_mac[18];
	uint32_t mtu;
	struct in_prefix v4, v6; /* pod addresses (family 0: none) */
	int v6_errno;		  /* first IPv6 setting that failed (0: none) */
	char v6_error[160];	  /* and what it was */
	char owner[WIRE_OWNER_MAX]; /* the host veth's owner tag, "": none (wire_find()) */
};

/**
 * wire_create - create the veth pair (peer directly in the pod namespace)
 *   and bring both ends up with the host settings; no addresses yet, so it
 *   can run while IPAM is still choosing them
 * @host: socket in the node namespace
 * @pod: socket in the pod namespace
 * @w: names, namespace and MTU (addresses are not used)
 * @ret: what was built
 * @err: code 103 naming the step and the kernel's reason
 *
 * On failure the caller removes the host veth (which takes the peer and all
 * routes through it along). Return: 0 or -errno.
 */
int wire_create(struct nl *host, struct nl *pod, const struct wire_pod *w,
		struct wire_state *ret, struct cni_error *err);

/**
 * wire_configure - give the pod its addresses, gateway and default routes,
 *   and the host its routes to the pod
 * @host: node socket
 * @pod: pod socket
 * @w: the attachment, with the addresses from IPAM
 * @st: from wire_create(); gets the addresses
 * @err: code 103 naming the step
 *
 * Return: 0 or -errno (the caller removes the host veth).
 */
int wire_configure(struct nl *host, struct nl *pod, const struct wire_pod *w,
		   struct wire_state *st, struct cni_error *err);

/**
 * wire_find - look for an existing attachment
 * @host: node socket
 * @pod: pod socket
 * @host_ifname: expected host veth name
 * @pod_ifname: CNI_IFNAME
 * @ret: filled when an attachment of ours exists
 *
 * Return: 1 when @pod_ifname exists and is the peer of @host_ifname, 0 when
 *   @pod_ifname does not exist, -EEXIST when it exists but is not ours.
 */
int wire_find(struct nl *host, struct nl *pod, const char *host_ifname, const char *pod_ifname,
	      struct wire_state *ret);

/* Delete a link by name if present; 0 also when it is already gone. */
int wire_del_link(struct nl *nl, const char *ifname);

/* True when @host_ifname carries a host route of ours to @addr. */
bool wire_host_route_exists(struct nl *host, const char *host_ifname,
			    const struct in_prefix *addr);

/**
 * wire_check - verify what ADD built against @expect
 * @host: node socket
 * @pod: pod socket
 * @w: the expected attachment (mtu 0: not checked)
 * @err: code 100 with a precise message of the first drift found
 *
 * Return: 0 or -ENOENT / -EINVAL (drift), -errno.
 */
int wire_check(struct nl *host, struct nl *pod, const struct wire_pod *w, struct cni_error *err);

/* MTU of the node's uplink (the device of the IPv4 default route). */
int wire_uplink_mtu(struct nl *host, uint32_t *ret);
