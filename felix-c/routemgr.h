/* The route manager: felix-c's routes (felix-c/routes.h) as a dataplane
 * manager (felix-c/manager.h).
 *
 * Desired: a /32 or /128 per local pod address to its host veth, resolved
 * by name against the kernel's cali* links at apply time, and a blackhole
 * per block of this node, both families. Observed: the kernel's routes of
 * our protocol in the main table (IPv4 and IPv6 dumps). routes_plan() turns one into the other; only the difference
 * is sent. The kernel is reached through struct routemgr_kernel, so tests
 * drive the manager without one.
 */
#pragma once

#include "felix-c/manager.h"
#include "nl.h"

/* The kernel seam (the nl_* calls of lib/nl.h with @k their socket). */
struct routemgr_kernel {
	int (*link_list)(void *k, nl_link_cb cb, void *userdata);
	int (*route_list)(void *k, int family, int protocol, nl_route_cb cb, void *userdata);
	int (*route_add)(void *k, const struct nl_route *r);
	int (*route_del)(void *k, const struct nl_route *r);
	const char *(*last_error)(void *k); /* the kernel's extended ack text, "" */
};

/* lib/nl.h's implementation: @k is a struct nl *. */
extern const struct routemgr_kernel routemgr_kernel_nl;

/**
 * routemgr_new - a route manager
 * @kernel: the kernel seam (borrowed, static)
 * @k: its handle (borrowed)
 * @grace_ms: how long an unwanted /32 is kept (routes_plan())
 * @ret: the manager
 *
 * Return: 0 or -ENOMEM.
 */
int routemgr_new(const struct routemgr_kernel *kernel, void *k, unsigned grace_ms,
		 struct felix_manager **ret);
