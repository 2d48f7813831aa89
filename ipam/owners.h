/* Which pod IPAM gave each address: a compact, cluster-wide index built from
 * IPAMBlocks, and the rule deciding whether a pod may be routed and filtered
 * on an address it claims.
 *
 * A pod's own annotation (cni.projectcalico.org/podIPs) is written by the CNI
 * plugin but also by anybody who may patch the pod, so an address it names
 * is used only when the IPAMBlock allocation of that address carries the
 * attributes Calico's IPAM writes for that pod (secondary "namespace" and
 * "pod"). The containerID annotation is no proof: its author is the same.
 * An address the kubelet reported (status.podIPs; pods/status is not
 * writable by namespace users) is believed without an allocation. Either
 * way the address must lie inside an IP pool (enabled or disabled).
 *
 * Per block the index keeps one 64-bit digest of "namespace/pod" per
 * ordinal (512 bytes for a /26), not the block's JSON: felix-c holds every
 * block of the cluster.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "addr.h"

struct ipam_block;
struct ipam_pools;
struct ipam_owners;

enum ipam_owner_verdict {
	IPAM_OWNER_KUBELET,	/* reported by the kubelet, inside a pool */
	IPAM_OWNER_ALLOCATED,	/* its allocation names this pod */
	IPAM_OWNER_NO_POOL,	/* outside every IP pool */
	IPAM_OWNER_UNALLOCATED, /* no allocation (yet) */
	IPAM_OWNER_OTHER,	/* allocated to another pod, or to no pod */
	_IPAM_OWNER_VERDICT_MAX,
	_IPAM_OWNER_VERDICT_INVALID = -22, /* -EINVAL */
};

const char *ipam_owner_verdict_to_string(enum ipam_owner_verdict v);
/* The verdicts under which the pod is routed and filtered on the address. */
bool ipam_owner_verdict_is_ok(enum ipam_owner_verdict v);

int ipam_owners_new(struct ipam_owners **ret);
struct ipam_owners *ipam_owners_free(struct ipam_owners *o);

/**
 * ipam_owners_set_block - record (or replace) the allocations of one block
 * @o: index
 * @key: the block's object name, the key for ipam_owners_del_block()
 * @b: the parsed block; a deleted block is removed instead
 *
 * Return: 0, -ENOMEM (the block is then forgotten: its addresses are owned
 * by nobody until it is recorded).
 */
int ipam_owners_set_block(struct ipam_owners *o, const char *key, const struct ipam_block *b);
/* Forgets the block named @key; its CIDR goes to @ret_cidr (may be NULL).
 * Return: true when it was known. */
bool ipam_owners_del_block(struct ipam_owners *o, const char *key, struct ipam_cidr *ret_cidr);
size_t ipam_owners_blocks(const struct ipam_owners *o);

/**
 * ipam_owners_check - may pod @ns/@pod be routed and filtered on @a?
 * @o: allocations
 * @pools: the IP pools (malformed ones are skipped)
 * @a: the address
 * @ns: the pod's namespace
 * @pod: the pod's name
 * @kubelet: @a comes from status.podIPs (else from the pod's annotation)
 *
 * Blocks should not overlap; where they do, an allocation to another pod
 * in any of them wins.
 *
 * Return: the verdict; ipam_owner_verdict_is_ok() tells whether to use @a.
 */
enum ipam_owner_verdict ipam_owners_check(const struct ipam_owners *o,
					  const struct ipam_pools *pools,
					  const struct ipam_addr *a, const char *ns, const char *pod,
					  bool kubelet);
