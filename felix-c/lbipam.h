/* LoadBalancer IPAM, Calico's kube-controllers "loadBalancer" controller
 * (rules in ipam/lb.h): gives Services of type LoadBalancer addresses from
 * IPPools allowing LoadBalancer, records them in Calico's IPAM data and in
 * status.loadBalancer.ingress, and releases them when the Service goes,
 * stops being managed or asks for something else.
 *
 * It runs on felix-c's worker thread on the node holding the IPAM GC Lease
 * (worker.h), so one node at a time acts, as one kube-controllers replica
 * does in Calico. Every pass starts from the API (Services, IPPools, the
 * IPAMBlocks affine to virtual:load-balancer): a restarted or new leader
 * adopts what is recorded there and nothing is kept only in memory. Two
 * controllers acting at once (a Lease handover) cannot hand out one
 * address twice: allocations are compare-and-swap writes of the block, and
 * a handle whose Service is missing from the pass's list is released only
 * after a fresh GET says the Service is gone.
 *
 * A Service with a bad annotation, or whose request cannot be served, gets
 * a Warning Event and one log line per distinct reason; the others go on.
 */
#pragma once

#include "cleanup.h"

struct ipam;
struct kapi;
struct lbipam;

struct lbipam_stats {
	unsigned assigned, released, status_updates, errors;
};

int lbipam_new(struct lbipam **ret);
struct lbipam *lbipam_free(struct lbipam *l);
DEFINE_CLEANUP_FUNC(struct lbipam, lbipam_free);

/**
 * lbipam_pass - bring every Service's LoadBalancer addresses in line once
 * @l: state (what was reported, so each problem is said once)
 * @k: API client
 * @ipam: IPAM context on @k
 * @ret: what this pass did (added to)
 *
 * Return: 0, or -errno when the pass could not read its inputs (nothing
 *   is changed then); a failure on one Service is counted and reported,
 *   never returned.
 */
int lbipam_pass(struct lbipam *l, struct kapi *k, struct ipam *ipam, struct lbipam_stats *ret);
