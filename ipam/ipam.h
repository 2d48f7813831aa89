/* Block-based IPAM on Calico's custom resources (see ipam.c for the model and
 * the crash-ordering argument).
 *
 * Usable by the CNI IPAM plugin (calico-c-ipam), the CLI (calicoctl-c) and
 * felix-c. Every call talks to the apiserver through a struct kapi the caller
 * owns; nothing is cached across calls except what the caller passes in.
 * Errors are -errno; a human-readable reason for the last failure is kept
 * and read with ipam_last_error().
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "addr.h"
#include "block.h"
#include "cleanup.h"

struct kapi;
struct selector;

#define IPAM_MAX_PER_FAMILY 16
#define IPAM_MAX_REQUESTED_POOLS 16

/* IPPool spec.allowedUses, as bits. */
enum {
	IPAM_USE_WORKLOAD = 1 << 0,
	IPAM_USE_TUNNEL = 1 << 1,
	IPAM_USE_LOADBALANCER = 1 << 2,
};

struct ipam_pool {
	char *name;
	struct ipam_cidr cidr;
	uint8_t block_size;
	char *node_selector;	   /* text, "" = all() */
	struct selector *selector; /* parsed */
	struct selector *ns_selector; /* spec.namespaceSelector, parsed ("" = all()) */
	unsigned allowed_uses;	   /* IPAM_USE_*; absent or empty: workload and tunnel */
	bool manual;		   /* assignmentMode Manual: used only when requested */
	bool disabled;
	char *error;		   /* non-NULL: malformed, unusable (name kept) */
};

struct ipam_pools {
	struct ipam_pool *items;
	size_t n;
};

struct ipam_config {
	bool strict_affinity;	   /* false */
	bool auto_allocate_blocks; /* true */
	unsigned max_blocks_per_host; /* 0: unlimited */
};

/* Calico's owner of LoadBalancer addresses: blocks affine to
 * "virtual:load-balancer" (affinity type "virtual", node "load-balancer"). */
#define IPAM_AFFINITY_TYPE_VIRTUAL "virtual"
#define IPAM_VIRTUAL_LOAD_BALANCER "load-balancer"

/* What one allocation asks for. Strings are borrowed. */
struct ipam_assign_args {
	const char *handle; /* e.g. "k8s-pod-network.<container id>" */
	const char *node;   /* owner of the blocks claimed: a node, or for
			     * affinity_type "virtual" IPAM_VIRTUAL_LOAD_BALANCER */
	const char *affinity_type; /* NULL: "host" */
	unsigned use;	    /* IPAM_USE_* the pools must allow; 0: Workload */
	const char *ns, *pod, *timestamp; /* secondary attributes, may be NULL */
	const char *service, *type;	  /* likewise (LoadBalancer: service name, "LoadBalancer") */
	unsigned num_v4, num_v6;
	/* Pools by name or CIDR; n == 0: every enabled pool in assignmentMode
	 * Automatic selecting the node (not for "virtual") and
	 * (namespaceSelector) the namespace @ns. Either way only pools whose
	 * allowedUses include @use. */
	const char *v4_pools[IPAM_MAX_REQUESTED_POOLS];
	size_t n_v4_pools;
	const char *v6_pools[IPAM_MAX_REQUESTED_POOLS];
	size_t n_v6_pools;
};

struct ipam_assign_result {
	struct ipam_addr v4[IPAM_MAX_PER_FAMILY];
	size_t n_v4;
	struct ipam_addr v6[IPAM_MAX_PER_FAMILY];
	size_t n_v6;
};

/* Counters since ipam_new(), for benchmarks and tests. */
struct ipam_stats {
	unsigned long requests;	 /* apiserver round trips */
	unsigned long conflicts; /* CAS conflicts retried */
	unsigned long claims;	 /* blocks claimed */
	unsigned long claims_lost; /* block creates lost to another node */
	unsigned long borrowed;	 /* addresses borrowed from non-affine blocks */
};

struct ipam;

/* @k stays owned by the caller and must outlive the ipam. */
int ipam_new(struct kapi *k, struct ipam **ret);
struct ipam *ipam_free(struct ipam *ipam);
DEFINE_CLEANUP_FUNC(struct ipam, ipam_free);
const char *ipam_last_error(const struct ipam *ipam);
const struct ipam_stats *ipam_get_stats(const struct ipam *ipam);

int ipam_pools_load(struct ipam *ipam, struct ipam_pools *ret);
void ipam_pools_done(struct ipam_pools *p);
/* An IPPool object's spec.cidr (host bits cleared): the one reading of a
 * pool's range, for IPAM and felix-c's natOutgoing alike. Return: 0, -EINVAL. */
int ipam_pool_cidr_from_json(const json_t *obj, struct ipam_cidr *ret);
/* Parse one IPPool object (defaults applied). Return: 0, -EINVAL, -ENOMEM. */
int ipam_pool_from_json(const json_t *obj, struct ipam_pool *ret, char **ret_error);
void ipam_pool_done(struct ipam_pool *p);
/* The pool containing @a, or NULL. */
const struct ipam_pool *ipam_pools_find_addr(const struct ipam_pools *p, const struct ipam_addr *a);
/* The IPAMConfig "default" (defaults when absent). */
int ipam_config_load(struct ipam *ipam, struct ipam_config *ret);

/**
 * ipam_assign - allocate addresses for a handle on a node
 * @ipam: context
 * @a: what to allocate
 * @ret: the addresses (written only on success)
 *
 * On failure nothing stays allocated for the handle from this call (a
 * partly served dual-stack request is rolled back).
 *
 * Return: 0; -ENOSPC no address in any usable pool (or strictAffinity
 *   forbids borrowing); -ENOENT no usable pool; -EINVAL bad arguments;
 *   -ESTALE too many conflicts; other -errno from the apiserver.
 */
int ipam_assign(struct ipam *ipam, const struct ipam_assign_args *a, struct ipam_assign_result *ret);

/**
 * ipam_assign_ip - allocate one given address for a handle
 * @ipam: context
 * @a: what to allocate: handle, owner, use and attributes (counts and pools
 *   are ignored)
 * @addr: the address
 *
 * The address must be inside an enabled pool allowing @a->use; its block is
 * claimed for the owner when it does not exist yet (Calico's AssignIP).
 *
 * Return: 0; -EBUSY the address is allocated already; -ENOENT no enabled
 *   pool allowing that use holds it; -EINVAL bad arguments; -ESTALE too many
 *   conflicts; other -errno from the apiserver.
 */
int ipam_assign_ip(struct ipam *ipam, const struct ipam_assign_args *a,
		   const struct ipam_addr *addr);

/**
 * ipam_release_handle - free every address of a handle and delete the handle
 * @ipam: context
 * @handle: handle id
 *
 * Idempotent: a handle that does not exist is success.
 *
 * Return: the number of addresses freed (>= 0), or -errno.
 */
int ipam_release_handle(struct ipam *ipam, const char *handle);

/**
 * ipam_release_addr - free one address
 * @ipam: context
 * @addr: the address
 * @seq: if non-NULL, free only if the allocation still carries this
 *   sequence number (a stale release cannot free a reused address)
 *
 * Return: 1 freed, 0 already free, -ESTALE the address was reallocated,
 *   -ENOENT no block holds it, -errno.
 */
int ipam_release_addr(struct ipam *ipam, const struct ipam_addr *addr, const uint64_t *seq);

/* Details of one address, for "ipam show --ip". */
struct ipam_addr_info {
	bool allocated;
	char block[IPAM_CIDR_STRLEN];
	char affinity[300];
	char handle[300];
	char ns[256], pod[256], node[256];
	uint64_t seq;
};
int ipam_addr_lookup(struct ipam *ipam, const struct ipam_addr *addr, struct ipam_addr_info *ret);

/* Every block (deleted ones skipped); unparseable ones are counted in
 * @ret_bad and their reasons passed to @on_bad (may be NULL). */
struct ipam_blocks {
	struct ipam_block **items;
	size_t n;
};
int ipam_blocks_load(struct ipam *ipam, struct ipam_blocks *ret, size_t *ret_bad,
		     void (*on_bad)(const char *name, const char *reason, void *userdata),
		     void *userdata);
void ipam_blocks_done(struct ipam_blocks *b);

/* Name helpers (Calico's): handle object name (lower-cased id), affinity name. */
int ipam_handle_name(const char *handle_id, char *buf, size_t size);
int ipam_affinity_name(const char *node, const struct ipam_cidr *block, char *buf, size_t size);
/* Calico's BlockAffinity type and labels, by which a node's affinities are
 * found with one LIST (Calico's lookup). */
#define IPAM_AFFINITY_TYPE_HOST "host"
#define IPAM_LABEL_HOSTNAME_HASH "projectcalico.org/hostname-hash"
#define IPAM_LABEL_AFFINITY_TYPE "projectcalico.org/affinity-type"
#define IPAM_LABEL_IP_VERSION "projectcalico.org/ip-version"
/* The hostname-hash value of @node (52 characters; @size >= 53). */
int ipam_affinity_host_hash(const char *node, char *buf, size_t size);
/* Sets spec.type (to host when empty) and the three labels from the spec of
 * BlockAffinity @obj. */
int ipam_affinity_set_labels(json_t *obj);
