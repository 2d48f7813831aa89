/* The node's BGP address, found as Calico's IP_AUTODETECTION_METHOD does:
 *   first-found (or "")    first global IPv4 address on an interface that
 *                          is not excluded (lo, cali*, docker*, veth*, ...)
 *   interface=RE[,RE...]   first address on an interface matching any RE
 *   skip-interface=RE[,..] first-found, also skipping interfaces matching any RE
 *   cidr=CIDR[,CIDR...]    first address inside any of the CIDRs
 *   can-reach=IP           the source address the kernel picks toward IP
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nl;

/* One candidate address (what the kernel lists), for the pure chooser. */
struct autodetect_addr {
	const char *ifname;
	uint32_t addr;	  /* network order */
	uint8_t prefixlen;
	bool global;	  /* scope global */
	uint32_t mtu;	  /* of the interface */
};

/* True for interfaces first-found never picks (Calico's default exclusions). */
bool autodetect_iface_is_excluded(const char *ifname);

/**
 * autodetect_choose - pick an address for @method among @v (pure)
 * @method: first-found, interface=, skip-interface= or cidr= (as above)
 * @v: candidates in kernel order
 * @n: their number
 * @ret_index: index into @v
 *
 * Return: 0, -EINVAL (unknown method or bad regex), -ENOENT (none fits).
 */
int autodetect_choose(const char *method, const struct autodetect_addr *v, size_t n,
		      size_t *ret_index);

/**
 * autodetect_ipv4 - run @method against the current network namespace
 * @nl: rtnetlink socket
 * @method: any method above
 * @ret_cidr: "a.b.c.d/len" (24 bytes)
 * @ret_mtu: MTU of the interface carrying it (may be NULL)
 *
 * Return: 0, -EINVAL, -ENOENT, -errno.
 */
int autodetect_ipv4(struct nl *nl, const char *method, char ret_cidr[static 24],
		    uint32_t *ret_mtu);
