/* A hollow node (setting Hollow, FELIX_HOLLOW=true), for scale tests in the
 * style of Kubernetes' kubemark: felix-c watches the API, builds the desired
 * state and every manager plans its dataplane as on a real node, but the
 * last layer writes nothing:
 *
 *   routes:   the kernel seam of the route manager keeps the routes it was
 *             asked to add in memory (and lists them back); it reports no
 *             cali* links (a hollow node has no pod veths, so it programs
 *             block blackholes only, as a real node without wired pods);
 *   nftables: the policy and NAT tables read back as empty and every batch
 *             is dropped after it was planned (so each policy change plans
 *             the whole table, where a real node plans the difference);
 *   BIRD:     the config is rendered but neither written nor loaded; BIRD is
 *             never started; its control socket "answers" with no protocols
 *             (so readiness counts no BGP peers).
 *
 * Everything above these seams (watches, model, desired state, policy
 * compile, plans, BIRD render, metrics, health, the CNI service, startup
 * and IPAM GC API writes) runs as on a real node.
 */
#pragma once

#include "cleanup.h"
#include "felix-c/birdmgr.h"
#include "felix-c/policymgr.h"
#include "felix-c/routemgr.h"

/* The hollow kernel: the routes a route manager "added" (owned). */
struct felix_hollow;

/* Return: 0 or -ENOMEM. */
int felix_hollow_new(struct felix_hollow **ret);
struct felix_hollow *felix_hollow_free(struct felix_hollow *h);
DEFINE_CLEANUP_FUNC(struct felix_hollow, felix_hollow_free);

/* Writes (route adds and deletes, nftables batches) not sent. */
unsigned long felix_hollow_writes(const struct felix_hollow *h);

/* Seams over a struct felix_hollow * (the routes' and nftables' @k). */
extern const struct routemgr_kernel felix_hollow_routes;
extern const struct policymgr_kernel felix_hollow_nft;
extern const struct birdmgr_io felix_hollow_bird;
