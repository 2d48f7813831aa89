/* The node's BGP addresses (IPv4 and IPv6), found as Calico's
 * IP_AUTODETECTION_METHOD / IP6_AUTODETECTION_METHOD do, one family at a time:
 *   first-found (or "")    first global address of the family on an
 *                          interface that is not excluded (lo, cali*, docker*,
 *                          veth*, ...)
 *   interface=RE[,RE...]   first address on an interface matching any RE
 *   skip-interface=RE[,..] first-found, also skipping interfaces matching any RE
 *   cidr=CIDR[,CIDR...]    first address inside any of the CIDRs
 *   can-reach=IP           the source address the kernel picks toward IP (an
 *                          address of the family being detected)
 *   kubernetes-internal-ip the Node's first InternalIP of the family
 *                          (status.addresses), which must be on one of the
 *                          node's interfaces (that gives its prefix length)
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prefix.h"

struct json_t;
struct nl;

/* One candidate address (what the kernel lists), for the pure chooser. */
struct autodetect_addr {
	const char *ifname;
	struct in_prefix addr; /* the address; len: its interface's prefix length */
	bool global;	       /* scope global, usable (not DAD-failed) */
	uint32_t mtu;	       /* of the interface */
};

/* True for interfaces first-found never picks (Calico's default exclusions). */
bool autodetect_iface_is_excluded(const char *ifname);

/**
 * autodetect_choose - pick an address for @method among @v (pure)
 * @method: any method above
 * @target: for can-reach= the kernel's source address toward its IP, for
 *   kubernetes-internal-ip the Node's InternalIP; NULL: not known (then those
 *   methods find nothing); ignored by the other methods
 * @v: candidates in kernel order
 * @n: their number
 * @ret_index: index into @v
 *
 * can-reach= and kubernetes-internal-ip pick the candidate holding exactly
 * @target (its interface gives the prefix length and MTU).
 * Return: 0, -EINVAL (unknown method, bad regex, CIDR or address), -ENOENT
 *   (none fits).
 */
int autodetect_choose(const char *method, const struct in_prefix *target,
		      const struct autodetect_addr *v, size_t n, size_t *ret_index);

/* Whether @method is valid for addresses of @family (AF_INET, AF_INET6): it
 * parses, and a can-reach= address is of @family. Return: 0 or -EINVAL. */
int autodetect_method_check(const char *method, int family);

/**
 * autodetect_node_internal_ip - the Node's first InternalIP of @family (pure)
 * @node: a Node object
 * @family: AF_INET or AF_INET6
 * @ret: the address (a host prefix)
 *
 * Return: 0, -ENOENT (none of that family).
 */
int autodetect_node_internal_ip(const struct json_t *node, int family, struct in_prefix *ret);

/**
 * autodetect_run - run @method for @family against the current network namespace
 * @nl: rtnetlink socket
 * @family: AF_INET or AF_INET6
 * @method: any method above
 * @node_ip: the Node's InternalIP of @family (kubernetes-internal-ip), or NULL
 * @ret: the address with its interface's prefix length ("addr/len" as Calico
 *   writes projectcalico.org/IPv4Address and IPv6Address)
 * @ret_mtu: MTU of the interface carrying it (may be NULL)
 *
 * Return: 0, -EINVAL, -ENOENT, -errno.
 */
int autodetect_run(struct nl *nl, int family, const char *method, const struct in_prefix *node_ip,
		   struct in_prefix *ret, uint32_t *ret_mtu);
