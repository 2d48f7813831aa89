/* Allocation and release: Calico's block algorithm on its custom resources.
 *
 * Model. An IPPool is cut into blocks of 2^(bits - blockSize) addresses. A
 * node owns ("is affine to") some blocks: a BlockAffinity <node>-<block> in
 * state confirmed plus an IPAMBlock whose spec.affinity is host:<node>. A
 * node allocates from its own blocks first, claims a new block when they are
 * full, and borrows single addresses from other nodes' blocks when it may
 * not claim (pool full, maxBlocksPerHost reached) unless strictAffinity
 * forbids it. Every address belongs to a handle (one per pod:
 * k8s-pod-network.<container id>); the IPAMHandle object counts how many
 * addresses the handle holds in each block, so release by handle reads only
 * the blocks it names.
 *
 * Concurrency. Nothing is locked in the apiserver: every write is a PUT with
 * the resourceVersion we read (compare-and-swap); a 409 means someone wrote
 * in between, so we re-read and redo the change, at most IPAM_CAS_RETRIES
 * times. Creating an object someone else created first (-EEXIST) means it is
 * theirs: we re-read and move on. Block claims are two-phase (pending
 * affinity -> create block -> confirm affinity); of two nodes racing for a
 * block, the one whose block create succeeds wins and the other deletes its
 * pending affinity and tries its next candidate. Candidates are walked from
 * an offset derived from a hash of the node name, so nodes rarely race at
 * all. On one node the CNI IPAM plugin additionally serialises with a lock
 * file, so conflicts are between nodes only.
 *
 * Crash ordering (a process may be SIGKILLed between any two requests):
 *  - assign: the handle count is raised BEFORE the block write that hands
 *    out the address. A crash between the two leaves a handle counting an
 *    address the block does not have: harmless (nothing is in use), visible
 *    to "ipam check" as a count mismatch and repaired by GC. The reverse
 *    order could leave an allocated address no handle knows: a leak only a
 *    full scan could find.
 *  - release: the block write freeing the address comes BEFORE the handle
 *    decrement, for the same reason: at every instant, handle counts are >=
 *    what the blocks hold.
 *  - claim: crash after the pending affinity -> a pending affinity with no
 *    block (ignored by allocation, deleted by GC after the grace period, or
 *    re-used by this node's next claim of the same candidate); crash after
 *    the block create -> block affine to us, affinity pending: the next
 *    allocation on this node confirms it.
 *  - deletes are two-step (write deleted=true with the resourceVersion, then
 *    DELETE with uid + resourceVersion preconditions): a crash in between
 *    leaves an object every reader ignores, and the next one to touch it
 *    finishes the delete. An allocation racing an empty-block delete makes
 *    the block's resourceVersion move, so the delete fails its precondition
 *    instead of destroying a fresh allocation.
 * Sequence numbers: each block write bumps spec.sequenceNumber and an
 * allocation records the number current when it was made; a release that
 * names a sequence number frees the address only if it still matches, so a
 * delayed release (GC acting on an old observation) cannot free an address
 * that has been freed and handed out again meanwhile.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cleanup.h"
#include "internal.h"
#include "kapi.h"
#include "selector.h"

/* What one family's allocation needs, gathered once per ipam_assign(). */
struct assign_ctx {
	struct ipam *ipam;
	const struct ipam_assign_args *a;
	struct ipam_pools pools;
	const struct ipam_pool *usable[64]; /* pools for the current family */
	size_t n_usable;
	struct ipam_affinities affs;
	bool have_affs;
	bool affs_fresh;  /* affs from a consistent read, not the watch cache */
	bool pools_fresh; /* likewise for pools */
	struct ipam_cidr tried[64]; /* affine blocks already read in this call */
	size_t n_tried;
	json_t *node_labels; /* fetched only when a pool has a selector */
	bool have_node;
	json_t *ns_labels; /* likewise, for a namespaceSelector */
	bool have_ns;
	struct ipam_config cfg;
	bool have_cfg;
	/* what has been handed out so far, for rollback */
	struct ipam_addr got[2 * IPAM_MAX_PER_FAMILY];
	size_t n_got;
};

static void assign_ctx_done(struct assign_ctx *c)
{
	ipam_pools_done(&c->pools);
	ipam_affinities_done(&c->affs);
	json_decref(c->node_labels);
	json_decref(c->ns_labels);
}

/* The labels of object @name of @res, read once into *@cache (none when
 * @name is empty or the object does not exist). */
static int ctx_labels(struct assign_ctx *c, const struct kapi_resource *res, const char *name,
		      json_t **cache, bool *have, const json_t **ret)
{
	_cleanup_(json_decrefp) json_t *obj = NULL;
	int r;

	if (!*have && name && *name) {
		r = ipam_get(c->ipam, res, name, &obj);
		if (r < 0 && r != -ENOENT)
			return ipam_fail(c->ipam, r, "reading %s '%s': %s", res->kind, name,
					 kapi_last_error(c->ipam->k));
		*cache = json_incref(json_object_get(json_object_get(obj, "metadata"), "labels"));
	}
	*have = true;
	*ret = *cache;
	return 0;
}

static int ctx_node_labels(struct assign_ctx *c, const json_t **ret)
{
	return ctx_labels(c, &kapi_nodes, c->a->node, &c->node_labels, &c->have_node, ret);
}

/* The pod's namespace (no labels without one, as Calico evaluates a
 * namespaceSelector then). */
static int ctx_ns_labels(struct assign_ctx *c, const json_t **ret)
{
	return ctx_labels(c, &kapi_namespaces, c->a->ns, &c->ns_labels, &c->have_ns, ret);
}

static const char *ctx_type(const struct assign_ctx *c)
{
	return c->a->affinity_type ?: IPAM_AFFINITY_TYPE_HOST;
}

static bool ctx_is_virtual(const struct assign_ctx *c)
{
	return strcmp(ctx_type(c), IPAM_AFFINITY_TYPE_HOST) != 0;
}

/* Whether @p may serve this request (selectors, mode, use), 1 or 0. A
 * virtual owner is no node: a pool's nodeSelector does not apply to it. */
static int pool_serves(struct assign_ctx *c, const struct ipam_pool *p, bool requested)
{
	const json_t *labels = NULL;
	int r;

	if (!(p->allowed_uses & (c->a->use ?: IPAM_USE_WORKLOAD)))
		return 0;
	if (!ctx_is_virtual(c) && !selector_is_all(p->selector)) {
		r = ctx_node_labels(c, &labels);
		if (r < 0)
			return r;
		if (!selector_matches(p->selector, labels))
			return 0;
	}
	/* A requested pool is used as is (Calico's rule); otherwise only the
	 * Automatic ones whose namespaceSelector takes the pod's namespace. */
	if (requested)
		return 1;
	if (p->manual)
		return 0;
	if (!selector_is_all(p->ns_selector)) {
		r = ctx_ns_labels(c, &labels);
		if (r < 0)
			return r;
		if (!selector_matches(p->ns_selector, labels))
			return 0;
	}
	return 1;
}

static int ctx_config(struct assign_ctx *c, const struct ipam_config **ret)
{
	int r;

	if (!c->have_cfg) {
		r = ipam_config_load(c->ipam, &c->cfg);
		if (r < 0)
			return r;
		c->have_cfg = true;
	}
	*ret = &c->cfg;
	return 0;
}

static bool pool_requested(const struct ipam_pool *p, const char *const *names, size_t n)
{
	char cidr[IPAM_CIDR_STRLEN];

	if (n == 0)
		return true;
	if (ipam_cidr_format(&p->cidr, cidr, sizeof(cidr)) < 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], p->name) == 0 || strcmp(names[i], cidr) == 0)
			return true;
	return false;
}

/* Fills c->usable with the enabled pools of @family that select the node
 * (and were requested, if any were). */
static int select_pools(struct assign_ctx *c, int family, const char *const *req, size_t n_req)
{
	c->n_usable = 0;
	for (size_t i = 0; i < n_req; i++) {
		bool found = false;

		for (size_t j = 0; j < c->pools.n; j++) {
			const struct ipam_pool *p = &c->pools.items[j];

			if (p->error && strcmp(p->name, req[i]) == 0)
				return ipam_fail(c->ipam, -EINVAL, "requested pool '%s' is invalid: %s",
						 req[i], p->error);
			found = found || (!p->error && pool_requested(p, &req[i], 1));
		}
		if (!found)
			return ipam_fail(c->ipam, -ENOENT, "requested pool '%s' does not exist",
					 req[i]);
	}
	for (size_t i = 0; i < c->pools.n && c->n_usable < ELEMENTSOF(c->usable); i++) {
		const struct ipam_pool *p = &c->pools.items[i];
		int r;

		if (p->error || p->cidr.family != family || p->disabled ||
		    !pool_requested(p, req, n_req))
			continue;
		r = pool_serves(c, p, n_req > 0);
		if (r < 0)
			return r;
		if (r)
			c->usable[c->n_usable++] = p;
	}
	if (c->n_usable == 0)
		return ipam_fail(c->ipam, -ENOENT, "no enabled IPv%d pool for %s '%s'%s",
				 family == AF_INET ? 4 : 6,
				 (c->a->use ?: IPAM_USE_WORKLOAD) == IPAM_USE_WORKLOAD ?
					 "workloads selects node" : "this use selects", c->a->node,
				 n_req ? " among the requested pools" : " and namespace (automatic "
				 "assignment)");
	return 0;
}

static const struct ipam_pool *usable_pool_of(const struct assign_ctx *c,
					      const struct ipam_cidr *block)
{
	for (size_t i = 0; i < c->n_usable; i++)
		if (ipam_cidr_covers(&c->usable[i]->cidr, block) &&
		    block->len == c->usable[i]->block_size)
			return c->usable[i];
	return NULL;
}

static void attrs_of(const struct assign_ctx *c, struct ipam_alloc_attrs *ret)
{
	*ret = (struct ipam_alloc_attrs){ .handle_id = c->a->handle, .ns = c->a->ns,
					  .pod = c->a->pod,
					  .node = ctx_is_virtual(c) ? NULL : c->a->node,
					  .service = c->a->service, .type = c->a->type,
					  .timestamp = c->a->timestamp };
}

/**
 * alloc_from_block - take up to @want addresses from the block @cidr
 * @recheck: see below
 * Return: number taken (0 when the block is full, absent, or no longer
 *   ours while @affine_only); -EAGAIN when the cached copy says so and
 *   !@recheck; or -errno.
 *
 * The first read comes from the watch cache (the block's own last write is
 * normally in it already); a stale copy only costs a failed compare-and-
 * swap. Anything that would make us give up on the block is checked again
 * with a consistent read, with @recheck: without it the caller first tries
 * its other blocks (a node's first blocks are usually full, and that second
 * read would cost every allocation a round trip).
 */
static int alloc_from_block(struct assign_ctx *c, const struct ipam_cidr *cidr, uint32_t want,
			    bool affine_only, bool recheck, struct ipam_addr *out)
{
	long counted = 0;
	int r = -ESTALE;

	for (int i = 0, cached = 1; i < IPAM_CAS_RETRIES; i++) {
		_cleanup_(ipam_block_freep) struct ipam_block *b = NULL;
		struct ipam_alloc_attrs attrs;
		uint32_t ords[IPAM_MAX_PER_FAMILY];
		int n;

		r = ipam_block_read(c->ipam, cidr, cached, &b);
		if (r == -ENOENT && cached) {
			if (!recheck)
				return -EAGAIN;
			cached = 0; /* maybe just created */
			continue;
		}
		if (r == -ENOENT || r == -EBADMSG) {
			r = 0; /* gone or unusable: the reason is kept for the caller */
			break;
		}
		if (r < 0)
			break;
		if ((affine_only && !ipam_block_is_affine_to(b, ctx_type(c), c->a->node)) ||
		    ipam_block_free_count(b) == 0) {
			if (cached) {
				if (!recheck)
					return -EAGAIN;
				cached = 0;
				continue;
			}
			r = 0;
			break;
		}
		cached = 0;
		n = (int)(want < ipam_block_free_count(b) ? want : ipam_block_free_count(b));
		if (counted < n) {
			/* Handle first: see "Crash ordering" above. */
			r = ipam_handle_add(c->ipam, c->a->handle, cidr, n - counted);
			if (r < 0)
				break;
			counted = n;
		}
		attrs_of(c, &attrs);
		r = ipam_block_assign(b, (uint32_t)n, &attrs, ords);
		if (r < 0)
			break;
		r = ipam_block_put(c->ipam, b);
		if (r == -ESTALE)
			continue;
		if (r < 0)
			break;
		for (int j = 0; j < n; j++)
			ipam_cidr_nth(cidr, ords[j], &out[j]);
		if (counted > n)
			(void)ipam_handle_add(c->ipam, c->a->handle, cidr, n - counted);
		return n;
	}
	if (counted > 0)
		(void)ipam_handle_add(c->ipam, c->a->handle, cidr, -counted);
	if (r == -ESTALE)
		return ipam_fail(c->ipam, r, "too many conflicts writing a block");
	return r;
}

/* The node's affinities: first from the watch cache (fast); @fresh asks
 * for a consistent read, done once, before anything is claimed, so a block
 * claimed a moment ago (and not yet in the cache) is never claimed twice. */
static int ctx_affinities(struct assign_ctx *c, bool fresh)
{
	int r;

	if (c->have_affs && (c->affs_fresh || !fresh))
		return 0;
	ipam_affinities_done(&c->affs);
	c->have_affs = false;
	r = ipam_affinities_load(c->ipam, ctx_type(c), c->a->node, !fresh, &c->affs);
	if (r < 0)
		return r;
	c->have_affs = true;
	c->affs_fresh = fresh;
	return 0;
}

static bool was_tried(const struct assign_ctx *c, const struct ipam_cidr *cidr)
{
	for (size_t i = 0; i < c->n_tried; i++)
		if (ipam_cidr_equal(&c->tried[i], cidr))
			return true;
	return false;
}

static void mark_tried(struct assign_ctx *c, const struct ipam_cidr *cidr)
{
	if (c->n_tried < ELEMENTSOF(c->tried))
		c->tried[c->n_tried++] = *cidr;
}

/* A pending affinity whose block exists and is ours: a claim interrupted
 * after the block create. Confirm it (best effort). */
static void repair_pending(struct assign_ctx *c, struct ipam_affinity *aff)
{
	_cleanup_(ipam_block_freep) struct ipam_block *b = NULL;
	_cleanup_(json_decrefp) json_t *copy = NULL;

	if (ipam_block_get(c->ipam, &aff->cidr, &b) < 0 ||
	    !ipam_block_is_affine_to(b, ctx_type(c), c->a->node))
		return;
	copy = json_deep_copy(aff->obj);
	if (!copy || json_object_set_new(json_object_get(copy, "spec"), "state",
					 json_string("confirmed")) < 0)
		return;
	if (ipam_update(c->ipam, &kapi_blockaffinities, copy, NULL) == 0)
		aff->state = "confirmed"; /* static string: obj still owns nothing new */
}

/* Serves from the node's confirmed blocks in usable pools: first those the
 * watch cache says have room, then the others, read consistently.
 * Return: taken. */
static int alloc_affine(struct assign_ctx *c, bool fresh, uint32_t want, struct ipam_addr *out)
{
	uint32_t got = 0;
	int r;

	r = ctx_affinities(c, fresh);
	if (r < 0)
		return r;
	for (int recheck = 0; recheck <= 1 && got < want; recheck++) {
		for (size_t i = 0; i < c->affs.n && got < want; i++) {
			struct ipam_affinity *aff = &c->affs.items[i];

			if (!usable_pool_of(c, &aff->cidr) || was_tried(c, &aff->cidr))
				continue;
			if (strcmp(aff->state, "pending") == 0)
				repair_pending(c, aff);
			if (strcmp(aff->state, "confirmed") != 0)
				continue;
			r = alloc_from_block(c, &aff->cidr, want - got, true, recheck, out + got);
			if (r == -EAGAIN)
				continue; /* after the others */
			mark_tried(c, &aff->cidr);
			if (r < 0)
				return r;
			got += (uint32_t)r;
		}
	}
	return (int)got;
}

static unsigned count_family_affinities(const struct assign_ctx *c, int family)
{
	unsigned n = 0;

	for (size_t i = 0; i < c->affs.n; i++)
		if (c->affs.items[i].cidr.family == family &&
		    strcmp(c->affs.items[i].state, "pendingDeletion") != 0)
			n++;
	return n;
}

/* FNV-1a: a stable per-node starting offset for the candidate walk. */
static uint64_t node_hash(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static bool block_exists(const struct ipam_blocks *all, const struct ipam_cidr *cidr)
{
	for (size_t i = 0; i < all->n; i++)
		if (ipam_cidr_equal(&all->items[i]->cidr, cidr))
			return true;
	return false;
}

/* As Calico writes it: its type and labels. */
static json_t *affinity_new_obj(const char *name, const char *type, const char *node,
				const char *cidr)
{
	_cleanup_(json_decrefp) json_t *obj = json_pack(
		"{s:s, s:s, s:{s:s}, s:{s:s, s:s, s:s, s:s, s:s}}", "apiVersion",
		"crd.projectcalico.org/v1", "kind", "BlockAffinity", "metadata", "name", name,
		"spec", "state", "pending", "node", node, "cidr", cidr, "deleted", "false", "type",
		type);

	if (!obj || ipam_affinity_set_labels(obj) < 0)
		return NULL;
	return TAKE_PTR(obj);
}

/* Phase 1: our pending affinity (or an existing one of ours). */
static int claim_affinity(struct assign_ctx *c, const struct ipam_cidr *cidr, json_t **ret)
{
	char name[300], cidr_s[IPAM_CIDR_STRLEN];
	_cleanup_(json_decrefp) json_t *obj = NULL;
	int r;

	if (ipam_affinity_name(c->a->node, cidr, name, sizeof(name)) < 0 ||
	    ipam_cidr_format(cidr, cidr_s, sizeof(cidr_s)) < 0)
		return -EINVAL;
	obj = affinity_new_obj(name, ctx_type(c), c->a->node, cidr_s);
	if (!obj)
		return -ENOMEM;
	r = ipam_create(c->ipam, &kapi_blockaffinities, obj, ret);
	if (r != -EEXIST)
		return r;
	/* Ours from an interrupted claim (same name = same node and block), or
	 * from a claim of another process of this node racing us, which may
	 * lose the block and delete it before we read it: then try on. */
	r = ipam_get(c->ipam, &kapi_blockaffinities, name, ret);
	if (r == -ENOENT)
		return -EAGAIN;
	if (r == 0 && ipam_obj_is_deleted(*ret)) {
		r = ipam_delete_two_step(c->ipam, &kapi_blockaffinities, *ret, true);
		json_decref(*ret);
		*ret = NULL;
		return r < 0 ? r : -EAGAIN;
	}
	return r;
}

/* Phase 2: create the block. 0: it is ours; -EEXIST: someone else's. */
static int claim_create_block(struct assign_ctx *c, const struct ipam_cidr *cidr)
{
	_cleanup_(ipam_block_freep) struct ipam_block *b = NULL, *theirs = NULL;
	_cleanup_(json_decrefp) json_t *obj = NULL;
	int r;

	r = ipam_block_new(cidr, ctx_type(c), c->a->node, &b);
	if (r < 0)
		return r;
	obj = ipam_block_to_json(b);
	if (!obj)
		return -ENOMEM;
	r = ipam_create(c->ipam, &kapi_ipamblocks, obj, NULL);
	if (r != -EEXIST)
		return r;
	r = ipam_block_get(c->ipam, cidr, &theirs);
	if (r == -ENOENT)
		return -EAGAIN; /* deleted in between: try the candidate again */
	if (r < 0)
		return r;
	return ipam_block_is_affine_to(theirs, ctx_type(c), c->a->node) ? 0 : -EEXIST;
}

/* Claims one candidate block. 0 claimed, -EEXIST lost the race. */
static int claim_one(struct assign_ctx *c, const struct ipam_cidr *cidr)
{
	_cleanup_(json_decrefp) json_t *aff = NULL;
	json_t *spec;
	int r;

	r = claim_affinity(c, cidr, &aff);
	if (r < 0)
		return r;
	spec = json_object_get(aff, "spec");
	if (strcmp(json_string_value(json_object_get(spec, "state")) ?: "", "confirmed") == 0)
		return 0;
	r = claim_create_block(c, cidr);
	if (r == -EEXIST || r == -EAGAIN) {
		if (r == -EEXIST)
			c->ipam->stats.claims_lost++;
		(void)ipam_delete_two_step(c->ipam, &kapi_blockaffinities, aff, true);
		return r;
	}
	if (r < 0)
		return r;
	for (int i = 0; i < IPAM_CAS_RETRIES; i++) {
		_cleanup_free_ char *name = NULL;

		if (json_object_set_new(spec, "state", json_string("confirmed")) < 0)
			return -ENOMEM;
		r = ipam_update(c->ipam, &kapi_blockaffinities, aff, NULL);
		if (r != -ESTALE)
			break;
		name = strdup(kapi_obj_name(aff));
		if (!name)
			return -ENOMEM;
		json_decref(aff);
		aff = NULL;
		r = ipam_get(c->ipam, &kapi_blockaffinities, name, &aff);
		if (r < 0)
			break;
		spec = json_object_get(aff, "spec");
	}
	if (r == 0)
		c->ipam->stats.claims++;
	return r;
}

/* Claims a new block for the node in one of the usable pools.
 * Return: 0 (@ret set), -ENOSPC (no free candidate, limit reached, or
 *   autoAllocateBlocks off), -errno. */
static int claim_new_block(struct assign_ctx *c, int family, const struct ipam_blocks *all,
			   unsigned claimed, struct ipam_cidr *ret)
{
	const struct ipam_config *cfg;
	int r;

	r = ctx_config(c, &cfg);
	if (r < 0)
		return r;
	if (!cfg->auto_allocate_blocks)
		return ipam_fail(c->ipam, -ENOSPC, "autoAllocateBlocks is off");
	if (cfg->max_blocks_per_host &&
	    count_family_affinities(c, family) + claimed >= cfg->max_blocks_per_host)
		return -ENOSPC;
	for (size_t i = 0; i < c->n_usable; i++) {
		const struct ipam_pool *p = c->usable[i];
		unsigned shift = p->block_size - p->cidr.len;
		uint64_t nblocks = shift >= 63 ? UINT64_MAX : (uint64_t)1 << shift;
		uint64_t start = node_hash(c->a->node) % nblocks;
		/* Every existing block can cost one step, every race one more. */
		uint64_t limit = all->n + 64 < nblocks ? all->n + 64 : nblocks;

		for (uint64_t k = 0; k < limit; k++) {
			struct ipam_cidr cand;

			r = ipam_cidr_subnet(&p->cidr, p->block_size, (start + k) % nblocks, &cand);
			if (r < 0)
				return r;
			if (block_exists(all, &cand))
				continue;
			r = claim_one(c, &cand);
			if (r == 0) {
				*ret = cand;
				return 0;
			}
			if (r != -EEXIST && r != -EAGAIN)
				return ipam_fail(c->ipam, r, "claiming a block: %s",
						 kapi_last_error(c->ipam->k));
		}
	}
	return -ENOSPC;
}

/* Borrows from any block of a usable pool that has room. Return: taken. */
static int alloc_borrow(struct assign_ctx *c, uint32_t want, const struct ipam_blocks *all,
			struct ipam_addr *out)
{
	uint32_t got = 0;

	for (size_t i = 0; i < all->n && got < want; i++) {
		const struct ipam_block *b = all->items[i];
		bool in_pool = false;
		int r;

		for (size_t j = 0; j < c->n_usable; j++)
			in_pool = in_pool || ipam_cidr_covers(&c->usable[j]->cidr, &b->cidr);
		if (!in_pool || ipam_block_free_count(b) == 0)
			continue;
		r = alloc_from_block(c, &b->cidr, want - got, false, true, out + got);
		if (r < 0)
			return r;
		c->ipam->stats.borrowed += (unsigned)r;
		got += (uint32_t)r;
	}
	return (int)got;
}

/* Claim-then-borrow for what the node's own blocks could not serve. */
static int alloc_beyond_affine(struct assign_ctx *c, int family, uint32_t want,
			       struct ipam_addr *out)
{
	_cleanup_(ipam_blocks_done) struct ipam_blocks all = {};
	const struct ipam_config *cfg;
	unsigned claimed = 0;
	uint32_t got = 0;
	int r;

	r = ipam_blocks_load(c->ipam, &all, NULL, NULL, NULL);
	if (r < 0)
		return r;
	while (got < want && claimed < 64) {
		struct ipam_cidr cidr;

		r = claim_new_block(c, family, &all, claimed, &cidr);
		if (r == -ENOSPC)
			break;
		if (r < 0)
			return r;
		claimed++;
		r = alloc_from_block(c, &cidr, want - got, true, true, out + got);
		if (r < 0)
			return r;
		got += (uint32_t)r;
	}
	if (got == want)
		return (int)got;
	r = ctx_config(c, &cfg);
	if (r < 0)
		return r;
	if (cfg->strict_affinity)
		return ipam_fail(c->ipam, -ENOSPC,
				 "no block could be claimed for node '%s' and strictAffinity "
				 "forbids borrowing", c->a->node);
	r = alloc_borrow(c, want - got, &all, out + got);
	if (r < 0)
		return r;
	return (int)got + r;
}

static int assign_family(struct assign_ctx *c, int family, uint32_t want,
			 const char *const *req, size_t n_req, struct ipam_addr *out)
{
	int r, got;

	if (want == 0)
		return 0;
	r = select_pools(c, family, req, n_req);
	if (r < 0 && !c->pools_fresh) {
		/* Maybe only the watch cache does not know the pool yet. */
		ipam_pools_done(&c->pools);
		c->pools_fresh = true;
		r = ipam_pools_read(c->ipam, false, &c->pools);
		if (r >= 0) {
			ipam_clear_error(c->ipam);
			r = select_pools(c, family, req, n_req);
		}
	}
	if (r < 0)
		return r;
	got = 0;
	for (int fresh = 0; fresh <= 1 && (uint32_t)got < want; fresh++) {
		r = alloc_affine(c, fresh, want - (uint32_t)got, out + got);
		if (r < 0)
			return r;
		for (int i = 0; i < r; i++)
			c->got[c->n_got++] = out[got + i];
		got += r;
	}
	if ((uint32_t)got < want) {
		r = alloc_beyond_affine(c, family, want - (uint32_t)got, out + got);
		if (r < 0)
			return r;
		for (int i = 0; i < r; i++)
			c->got[c->n_got++] = out[got + i];
		got += r;
	}
	if ((uint32_t)got < want)
		return ipam_fail(c->ipam, -ENOSPC, "IPv%d pools exhausted: got %d of %u addresses",
				 family == AF_INET ? 4 : 6, got, want);
	return 0;
}

static void rollback(struct assign_ctx *c)
{
	char saved[sizeof(c->ipam->error)];

	memcpy(saved, c->ipam->error, sizeof(saved));
	for (size_t i = 0; i < c->n_got; i++)
		(void)ipam_release_addr(c->ipam, &c->got[i], NULL);
	memcpy(c->ipam->error, saved, sizeof(saved));
}

int ipam_assign(struct ipam *ipam, const struct ipam_assign_args *a, struct ipam_assign_result *ret)
{
	_cleanup_(assign_ctx_done) struct assign_ctx c = { .ipam = ipam, .a = a };
	struct ipam_assign_result res = {};
	int r;

	ipam_clear_error(ipam);
	if (!a->handle || !a->node || !*a->node || a->num_v4 > IPAM_MAX_PER_FAMILY ||
	    a->num_v6 > IPAM_MAX_PER_FAMILY || a->num_v4 + a->num_v6 == 0 ||
	    a->n_v4_pools > IPAM_MAX_REQUESTED_POOLS || a->n_v6_pools > IPAM_MAX_REQUESTED_POOLS)
		return ipam_fail(ipam, -EINVAL, "invalid allocation request");
	r = ipam_pools_read(ipam, true, &c.pools);
	if (r < 0)
		return r;
	r = assign_family(&c, AF_INET, a->num_v4, a->v4_pools, a->n_v4_pools, res.v4);
	if (r >= 0)
		r = assign_family(&c, AF_INET6, a->num_v6, a->v6_pools, a->n_v6_pools, res.v6);
	if (r < 0) {
		rollback(&c);
		return r;
	}
	res.n_v4 = a->num_v4;
	res.n_v6 = a->num_v6;
	*ret = res;
	return 0;
}

/* The enabled pool that holds @addr and may serve the request, or NULL. */
static int pool_for_addr(struct assign_ctx *c, const struct ipam_addr *addr,
			 const struct ipam_pool **ret)
{
	for (size_t i = 0; i < c->pools.n; i++) {
		const struct ipam_pool *p = &c->pools.items[i];
		int r;

		if (p->error || p->disabled || !ipam_cidr_contains(&p->cidr, addr))
			continue;
		r = pool_serves(c, p, true);
		if (r < 0)
			return r;
		if (r) {
			*ret = p;
			return 0;
		}
	}
	return -ENOENT;
}

/* Takes ordinal @ord of block @cidr (read fresh). 0, -ENOENT (no block),
 * -EBUSY, -ESTALE (lost a compare-and-swap: read again), -errno. */
static int take_ordinal(struct assign_ctx *c, const struct ipam_cidr *cidr, uint32_t ord,
			bool *counted)
{
	_cleanup_(ipam_block_freep) struct ipam_block *b = NULL;
	struct ipam_alloc_attrs attrs;
	int r;

	r = ipam_block_read(c->ipam, cidr, false, &b);
	if (r < 0)
		return r;
	if (ipam_block_attr_of(b, ord))
		return -EBUSY;
	if (!*counted) {
		/* Handle first: see "Crash ordering" above. */
		r = ipam_handle_add(c->ipam, c->a->handle, cidr, 1);
		if (r < 0)
			return r;
		*counted = true;
	}
	attrs_of(c, &attrs);
	r = ipam_block_assign_ordinal(b, ord, &attrs);
	if (r < 0)
		return r;
	return ipam_block_put(c->ipam, b);
}

int ipam_assign_ip(struct ipam *ipam, const struct ipam_assign_args *a,
		   const struct ipam_addr *addr)
{
	_cleanup_(assign_ctx_done) struct assign_ctx c = { .ipam = ipam, .a = a };
	const struct ipam_pool *p = NULL;
	struct ipam_cidr cidr;
	bool counted = false;
	uint64_t ord;
	int r;

	ipam_clear_error(ipam);
	if (!a->handle || !a->node || !*a->node)
		return ipam_fail(ipam, -EINVAL, "invalid allocation request");
	r = ipam_pools_read(ipam, false, &c.pools);
	if (r < 0)
		return r;
	r = pool_for_addr(&c, addr, &p);
	if (r == -ENOENT)
		return ipam_fail(ipam, r, "no enabled pool allowing this use holds the address");
	if (r < 0)
		return r;
	ipam_cidr_of_addr(addr, p->block_size, &cidr);
	if (ipam_cidr_ordinal(&cidr, addr, &ord) < 0)
		return ipam_fail(ipam, -EINVAL, "address outside its block");
	r = -ESTALE;
	for (int i = 0; i < IPAM_CAS_RETRIES && (r == -ESTALE || r == -EAGAIN); i++) {
		r = take_ordinal(&c, &cidr, (uint32_t)ord, &counted);
		if (r == -ENOENT) {
			r = claim_one(&c, &cidr);
			if (r == 0 || r == -EEXIST)
				r = -EAGAIN; /* ours or someone's now: take from it */
		}
	}
	if (r < 0 && counted)
		(void)ipam_handle_add(ipam, a->handle, &cidr, -1);
	if (r == -EBUSY)
		return ipam_fail(ipam, r, "the address is allocated already");
	if (r == -ESTALE || r == -EAGAIN)
		return ipam_fail(ipam, -ESTALE, "too many conflicts writing a block");
	return r;
}

/* ---- release ---- */

/* The block holding @addr: from the pool's block size, else by a scan. */
static int find_block_of(struct ipam *ipam, const struct ipam_addr *addr, struct ipam_block **ret)
{
	_cleanup_(ipam_pools_done) struct ipam_pools pools = {};
	_cleanup_(ipam_blocks_done) struct ipam_blocks all = {};
	const struct ipam_pool *p;
	int r;

	r = ipam_pools_read(ipam, true, &pools);
	if (r < 0)
		return r;
	p = ipam_pools_find_addr(&pools, addr);
	if (p) {
		struct ipam_cidr cidr;

		ipam_cidr_of_addr(addr, p->block_size, &cidr);
		r = ipam_block_get(ipam, &cidr, ret);
		if (r != -ENOENT)
			return r;
	}
	/* No pool (deleted?) or another block size: look at every block. */
	r = ipam_blocks_load(ipam, &all, NULL, NULL, NULL);
	if (r < 0)
		return r;
	for (size_t i = 0; i < all.n; i++)
		if (ipam_cidr_contains(&all.items[i]->cidr, addr))
			return ipam_block_get(ipam, &all.items[i]->cidr, ret);
	return -ENOENT;
}

int ipam_release_addr(struct ipam *ipam, const struct ipam_addr *addr, const uint64_t *seq)
{
	_cleanup_free_ char *handle = NULL;
	struct ipam_cidr cidr;
	int r = -ESTALE;

	for (int i = 0; i < IPAM_CAS_RETRIES; i++) {
		_cleanup_(ipam_block_freep) struct ipam_block *b = NULL;
		const struct ipam_attr *attr;
		uint64_t ord;

		r = find_block_of(ipam, addr, &b);
		if (r < 0)
			return r;
		cidr = b->cidr;
		(void)ipam_cidr_ordinal(&b->cidr, addr, &ord);
		attr = ipam_block_attr_of(b, (uint32_t)ord);
		if (!attr)
			return 0;
		free(handle);
		handle = attr->handle_id ? strdup(attr->handle_id) : NULL;
		r = ipam_block_release_ordinal(b, (uint32_t)ord, seq);
		if (r < 0)
			return r;
		r = ipam_block_put(ipam, b);
		if (r != -ESTALE)
			break;
	}
	if (r < 0)
		return ipam_fail(ipam, r, "writing block: %s", kapi_last_error(ipam->k));
	/* Block first, handle second: see "Crash ordering". */
	if (handle)
		(void)ipam_handle_add(ipam, handle, &cidr, -1);
	return 1;
}

/* Frees @handle's addresses in one block. Return: count freed. */
static int release_handle_in_block(struct ipam *ipam, const char *handle,
				   const struct ipam_cidr *cidr)
{
	for (int i = 0; i < IPAM_CAS_RETRIES; i++) {
		_cleanup_(ipam_block_freep) struct ipam_block *b = NULL;
		uint32_t n;
		int r;

		r = ipam_block_get(ipam, cidr, &b);
		if (r == -ENOENT)
			return 0;
		if (r < 0)
			return r;
		n = ipam_block_release_handle(b, handle);
		if (n == 0)
			return 0;
		r = ipam_block_put(ipam, b);
		if (r == 0)
			return (int)n;
		if (r != -ESTALE)
			return ipam_fail(ipam, r, "writing block: %s", kapi_last_error(ipam->k));
	}
	return ipam_fail(ipam, -ESTALE, "too many conflicts writing a block");
}

int ipam_release_handle(struct ipam *ipam, const char *handle)
{
	char name[256];
	int total = 0, r = -ESTALE;

	ipam_clear_error(ipam);
	if (ipam_handle_name(handle, name, sizeof(name)) < 0)
		return ipam_fail(ipam, -EINVAL, "invalid handle id '%s'", handle ? handle : "");
	for (int i = 0; i < IPAM_CAS_RETRIES; i++) {
		_cleanup_(json_decrefp) json_t *obj = NULL;
		const char *key;
		json_t *v;

		r = ipam_get(ipam, &kapi_ipamhandles, name, &obj);
		if (r == -ENOENT)
			return total;
		if (r < 0)
			break;
		json_object_foreach (json_object_get(json_object_get(obj, "spec"), "block"), key, v) {
			struct ipam_cidr cidr;

			if (ipam_cidr_parse(key, true, &cidr) < 0)
				continue;
			r = release_handle_in_block(ipam, handle, &cidr);
			if (r < 0)
				return r;
			total += r;
		}
		r = ipam_delete_two_step(ipam, &kapi_ipamhandles, obj, false);
		if (r != -ESTALE)
			break;
	}
	if (r < 0)
		return ipam_fail(ipam, r, "deleting IPAMHandle '%s': %s", name,
				 kapi_last_error(ipam->k));
	return total;
}

int ipam_addr_lookup(struct ipam *ipam, const struct ipam_addr *addr, struct ipam_addr_info *ret)
{
	_cleanup_(ipam_block_freep) struct ipam_block *b = NULL;
	struct ipam_addr_info info = {};
	const struct ipam_attr *attr;
	uint64_t ord;
	int r;

	r = find_block_of(ipam, addr, &b);
	if (r < 0)
		return r;
	(void)ipam_cidr_format(&b->cidr, info.block, sizeof(info.block));
	snprintf(info.affinity, sizeof(info.affinity), "%s", b->affinity ? b->affinity : "");
	(void)ipam_cidr_ordinal(&b->cidr, addr, &ord);
	attr = ipam_block_attr_of(b, (uint32_t)ord);
	if (attr) {
		info.allocated = true;
		info.seq = b->has_seq[ord] ? b->seq_for_alloc[ord] : 0;
		snprintf(info.handle, sizeof(info.handle), "%s", attr->handle_id ?: "");
		snprintf(info.ns, sizeof(info.ns), "%s", ipam_attr_secondary(attr, "namespace") ?: "");
		snprintf(info.pod, sizeof(info.pod), "%s", ipam_attr_secondary(attr, "pod") ?: "");
		snprintf(info.node, sizeof(info.node), "%s", ipam_attr_secondary(attr, "node") ?: "");
	}
	*ret = info;
	return 0;
}
