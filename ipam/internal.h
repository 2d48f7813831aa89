/* Internals shared by the ipam/ sources; not part of the contract. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>

#include <jansson.h>

#include "cleanup.h"
#include "ipam.h"

struct kapi;
struct kapi_resource;


/* Bound on compare-and-swap retries of one object write. */
#define IPAM_CAS_RETRIES 20

struct ipam {
	struct kapi *k; /* borrowed */
	char error[512];
	struct ipam_stats stats;
};

/* Records the reason for the failure @r (first one wins until cleared). */
int ipam_fail(struct ipam *ipam, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void ipam_clear_error(struct ipam *ipam);

/* Thin wrappers over kapi that count round trips and conflicts. */
int ipam_get(struct ipam *ipam, const struct kapi_resource *res, const char *name, json_t **ret);
/* @cached: as for ipam_list(). A write based on a cached read may fail its
 * compare-and-swap (-ESTALE) more often; the retry must read consistently. */
int ipam_read(struct ipam *ipam, const struct kapi_resource *res, const char *name, bool cached,
	      json_t **ret);
/* @cached: resourceVersion=0, answered from the apiserver's watch cache
 * (possibly a few ms stale) instead of a consistent read, which after any
 * write waits for the cache to catch up (~30 ms measured). */
int ipam_list(struct ipam *ipam, const struct kapi_resource *res, const char *label_selector,
	      bool cached, json_t **ret_items);
int ipam_pools_read(struct ipam *ipam, bool cached, struct ipam_pools *ret);
int ipam_create(struct ipam *ipam, const struct kapi_resource *res, json_t *obj, json_t **ret);
int ipam_update(struct ipam *ipam, const struct kapi_resource *res, json_t *obj, json_t **ret);
/* Two-step delete: write spec.deleted (@as_string: "true" as BlockAffinity
 * wants) with the object's resourceVersion, then DELETE with uid and
 * resourceVersion preconditions. Return: 0 (also when already gone), -ESTALE. */
int ipam_delete_two_step(struct ipam *ipam, const struct kapi_resource *res, json_t *obj,
			 bool as_string);

/* spec.deleted of any IPAM object: true, or the string "true". */
bool ipam_obj_is_deleted(const json_t *obj);

/* Handles */
int ipam_handle_add(struct ipam *ipam, const char *handle_id, const struct ipam_cidr *block,
		    long delta);

/* Affinities of one node (not deleted). */
struct ipam_affinity {
	json_t *obj; /* owned */
	struct ipam_cidr cidr;
	const char *state; /* borrowed from obj: pending/confirmed/pendingDeletion */
};
struct ipam_affinities {
	struct ipam_affinity *items;
	size_t n;
};
/* Affinities of @type ("host", "virtual") of @node. */
int ipam_affinities_load(struct ipam *ipam, const char *type, const char *node, bool cached,
			 struct ipam_affinities *ret);
void ipam_affinities_done(struct ipam_affinities *a);
int ipam_affinity_parse(json_t *obj, struct ipam_affinity *ret);
/* Release a block's affinity for @node: empty block deleted, else unaffined. */
int ipam_block_release_affinity(struct ipam *ipam, const char *node, const struct ipam_cidr *cidr,
				bool only_if_empty);

/* GET + parse a block by CIDR. -ENOENT when absent or deleted. */
int ipam_block_get(struct ipam *ipam, const struct ipam_cidr *cidr, struct ipam_block **ret);
/* Same; @cached reads the watch cache (see ipam_read()). */
int ipam_block_read(struct ipam *ipam, const struct ipam_cidr *cidr, bool cached,
		    struct ipam_block **ret);
/* PUT with CAS; on success @b->obj is replaced by the stored object. */
int ipam_block_put(struct ipam *ipam, struct ipam_block *b);
