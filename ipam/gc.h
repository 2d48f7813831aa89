/* Leak garbage collection and consistency checking of the IPAM objects.
 *
 * GC acts only on what it saw wrong in two consecutive runs at least
 * @grace_seconds apart (the observation memory is a struct ipam_gc_state,
 * kept in memory by a daemon or in a small JSON file by the CLI), because a
 * pod being created, a claim in progress or a handle raised just before its
 * block write all look like leaks for a moment.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "cleanup.h"

struct ipam;
struct ipam_gc_state;

struct ipam_gc_opts {
	unsigned grace_seconds; /* minimum age of the first observation */
	bool dry_run;		/* observe and count, change nothing */
};

struct ipam_gc_stats {
	unsigned leaks_seen;	     /* allocations whose pod or node is gone */
	unsigned addrs_released;
	unsigned blocks_released;    /* empty blocks deleted */
	unsigned affinities_released;
	unsigned handles_fixed;	     /* counts corrected or dangling handles deleted */
};

int ipam_gc_state_new(struct ipam_gc_state **ret);
/* A missing file is an empty state. Return: 0, -EBADMSG, -errno. */
int ipam_gc_state_load(const char *path, struct ipam_gc_state **ret);
int ipam_gc_state_save(const struct ipam_gc_state *s, const char *path);
struct ipam_gc_state *ipam_gc_state_free(struct ipam_gc_state *s);
DEFINE_CLEANUP_FUNC(struct ipam_gc_state, ipam_gc_state_free);

/**
 * ipam_gc_run - one GC pass over the whole cluster
 * @ipam: context
 * @o: options
 * @st: observation memory, updated
 * @ret: what was seen and done
 *
 * Releases: allocations whose pod (namespace/pod attributes) or node no
 * longer exists; empty blocks of a node beyond its last one; every block
 * affinity of a deleted Node (empty blocks deleted, others un-affined);
 * pending affinities whose block was never created; handle counts that
 * disagree with the blocks.
 *
 * Return: 0, -errno (the pass stops at the first apiserver error).
 */
int ipam_gc_run(struct ipam *ipam, const struct ipam_gc_opts *o, struct ipam_gc_state *st,
		struct ipam_gc_stats *ret);

/**
 * ipam_gc_node_handles - release every handle with an allocation on @node
 *   (attribute node, or an affine block without one) whose id starts with
 *   "k8s-pod-network." and is not in @keep (the CNI GC verb)
 * Return: number of handles released, or -errno.
 */
int ipam_gc_node_handles(struct ipam *ipam, const char *node, const char *const *keep,
			 size_t n_keep);

/**
 * ipam_check - report every inconsistency: block structure errors,
 *   overlapping blocks, allocations without pod / node / handle object,
 *   handle counts that disagree with blocks, pod IPs not allocated,
 *   affinities without blocks and blocks without affinities
 * @ipam: context
 * @report: called once per problem with a one-line description
 * @userdata: passed to @report
 *
 * Return: the number of problems (>= 0), or -errno.
 */
int ipam_check(struct ipam *ipam, void (*report)(const char *problem, void *userdata),
	       void *userdata);
