/* Routes felix-c owns (protocol NL_RTPROT_CALICO, main table, IPv4 and
 * IPv6): desired = a /32 or /128 per local pod address to its host veth,
 * plus a blackhole per confirmed block affine to this node; observed = the
 * kernel's routes with our protocol. routes_plan() computes the difference,
 * purely, over both families at once.
 *
 * A host route we did not ask for is not deleted at once: the CNI plugin
 * adds a pod's route before the Pod object carries its IP, so such a route
 * is only removed once it has been unwanted for the grace period.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "prefix.h"

struct felix_route {
	struct in_prefix dst; /* family, address, prefix length */
	uint8_t type;	/* RTN_UNICAST or RTN_BLACKHOLE */
	int oif;	/* ifindex for RTN_UNICAST, 0 otherwise */
};

enum route_op_kind {
	ROUTE_OP_ADD, /* add or replace */
	ROUTE_OP_DEL,
	_ROUTE_OP_MAX,
	_ROUTE_OP_INVALID = -22,
};

struct route_op {
	enum route_op_kind kind;
	struct felix_route route;
};

/* Memory of unwanted host routes: when each was first seen unwanted. Owned
 * by the agent; rebuilt by every routes_plan() (so it never outgrows the
 * kernel). */
struct route_grace {
	struct route_grace_entry {
		struct in_prefix dst;
		uint64_t since_ms;
	} *v;
	size_t n;
};

/**
 * routes_plan - operations turning @observed into @desired
 * @desired: routes we want (any order; duplicates keep the first)
 * @n_desired: their number
 * @observed: our routes in the kernel
 * @n_observed: their number
 * @grace: memory of unwanted unicast routes (updated)
 * @now_ms: monotonic time
 * @grace_ms: how long an unwanted unicast route is kept
 * @ret_ops: malloc'd operations (adds first, then deletes)
 * @ret_n: their number
 *
 * Return: 0 or -ENOMEM.
 */
int routes_plan(const struct felix_route *desired, size_t n_desired,
		const struct felix_route *observed, size_t n_observed, struct route_grace *grace,
		uint64_t now_ms, unsigned grace_ms, struct route_op **ret_ops, size_t *ret_n);
void route_grace_done(struct route_grace *g);
/* "10.65.1.0/26 blackhole" or "fd00:65::5/128 dev #7" into @buf. */
const char *felix_route_to_string(const struct felix_route *r, char *buf, size_t size);
