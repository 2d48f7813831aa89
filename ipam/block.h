/* One IPAMBlock (crd.projectcalico.org/v1), parsed into arrays we can
 * allocate from, and serialized back in exactly Calico's shape.
 *
 * The parsed block keeps the object it came from (metadata, unknown fields)
 * and ipam_block_to_json() rewrites only the spec fields it owns, so a field
 * written by a newer Calico survives our read-modify-write.
 *
 * Parsing is defensive: the object may have been written by anybody. Arrays
 * whose length disagrees with the CIDR, ordinals out of range, an ordinal
 * both allocated and listed free, attribute indexes out of range, a free
 * ordinal listed twice: all -EBADMSG with a message, never a crash or an
 * allocation of an address that is in use.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "addr.h"
#include "cleanup.h"

/* Calico allows block sizes /20../32 (IPv4) and /116../128 (IPv6). */
#define IPAM_BLOCK_MAX_ADDRS 4096

struct ipam_attr {
	char *handle_id; /* NULL when absent */
	json_t *secondary; /* object of strings, or NULL */
};

/* Owned by whoever parsed it; ipam_block_free() releases everything. */
struct ipam_block {
	json_t *obj;		 /* the object as read (or built), owned */
	char *name;		 /* metadata.name */
	struct ipam_cidr cidr;
	char *affinity;		 /* "<type>:<owner>" ("host:<node>", "virtual:load-balancer"), or NULL */
	uint32_t n;		 /* addresses in the block */
	int32_t *allocations;	 /* [n]: -1 free, else index into attrs */
	uint32_t *unallocated;	 /* FIFO of free ordinals */
	uint32_t n_unallocated;
	struct ipam_attr *attrs; /* owned, [n_attrs] */
	uint32_t n_attrs;
	size_t cap_attrs;	 /* of attrs */
	uint64_t seq;		 /* sequenceNumber */
	uint64_t *seq_for_alloc; /* [n], valid where has_seq[i] */
	bool *has_seq;
	bool deleted;
	bool strict_affinity;	 /* deprecated in Calico; kept as read */
};

/* Attributes recorded with an allocation. Strings are borrowed. */
struct ipam_alloc_attrs {
	const char *handle_id;
	const char *ns, *pod, *node, *timestamp; /* secondary; NULL ones omitted */
	const char *service, *type;		 /* likewise (Calico's LoadBalancer IPAM) */
};

/**
 * ipam_block_new - an empty block for @cidr, affine to @node (NULL: none)
 * @cidr: the block CIDR (host bits zero, at most IPAM_BLOCK_MAX_ADDRS addresses)
 * @type: affinity type, NULL for "host" (Calico's LoadBalancer IPAM: "virtual")
 * @node: node name (for "virtual": "load-balancer")
 * @ret: the block
 *
 * Return: 0, -EINVAL, -ENOMEM.
 */
int ipam_block_new(const struct ipam_cidr *cidr, const char *type, const char *node,
		   struct ipam_block **ret);
struct ipam_block *ipam_block_free(struct ipam_block *b);
DEFINE_CLEANUP_FUNC(struct ipam_block, ipam_block_free);

/**
 * ipam_block_from_json - parse and validate an IPAMBlock object
 * @obj: the object (a reference is taken)
 * @ret: the block
 * @ret_error: on -EBADMSG, a malloc'd reason naming the field (may be NULL)
 *
 * Return: 0, -EBADMSG (malformed), -ENOMEM.
 */
int ipam_block_from_json(json_t *obj, struct ipam_block **ret, char **ret_error);
/* A new object: the original with spec rewritten from @b. NULL on ENOMEM. */
json_t *ipam_block_to_json(const struct ipam_block *b);

/* Affinity "<type>:<node>" check; @type NULL means "host". */
bool ipam_block_is_affine_to(const struct ipam_block *b, const char *type, const char *node);
uint32_t ipam_block_in_use(const struct ipam_block *b);
static inline uint32_t ipam_block_free_count(const struct ipam_block *b)
{
	return b->n_unallocated;
}

/**
 * ipam_block_assign - take up to @count free addresses from the front of the
 *   free list, recording @attrs and the sequence number
 * @b: block
 * @count: how many
 * @attrs: attributes to record
 * @ret_ordinals: receives the ordinals (array of at least @count)
 *
 * Return: the number taken (0..@count), or -ENOMEM.
 */
int ipam_block_assign(struct ipam_block *b, uint32_t count, const struct ipam_alloc_attrs *attrs,
		      uint32_t *ret_ordinals);
/* Assign one specific ordinal. Return: 0, -EBUSY (in use), -ERANGE, -ENOMEM. */
int ipam_block_assign_ordinal(struct ipam_block *b, uint32_t ord,
			      const struct ipam_alloc_attrs *attrs);

/**
 * ipam_block_release_ordinal - free one address
 * @b: block
 * @ord: ordinal
 * @seq: if non-NULL, free only when the allocation's sequence number equals
 *   *@seq (protects against releasing an address reused since it was read)
 *
 * Return: 1 released, 0 already free, -ESTALE sequence mismatch, -ERANGE.
 */
int ipam_block_release_ordinal(struct ipam_block *b, uint32_t ord, const uint64_t *seq);
/* Free every address whose attribute handle_id equals @handle. Return: count. */
uint32_t ipam_block_release_handle(struct ipam_block *b, const char *handle);
/* Number of addresses held by @handle. */
uint32_t ipam_block_count_handle(const struct ipam_block *b, const char *handle);
/* Attributes of the allocation at @ord, NULL when free. */
const struct ipam_attr *ipam_block_attr_of(const struct ipam_block *b, uint32_t ord);
/* secondary[@key] of an attribute, NULL when absent. */
const char *ipam_attr_secondary(const struct ipam_attr *a, const char *key);
/* Bumps sequenceNumber; call once per write of the block. */
void ipam_block_touch(struct ipam_block *b);

/* crdvalid (lib/crdvalid.h) with IPAM's own IPPool and IPAMBlock rules
 * plugged in: what felix-c and calicoctl-c validate our objects with. */
struct crdvalid_ops;
extern const struct crdvalid_ops ipam_crdvalid_ops;
