/* Address ownership index (see owners.h).
 *
 * Blocks sit in an array sorted by (family, network address), so the blocks
 * that may contain an address are found by binary search: the last block
 * starting at or below it, and the ones before it that start less than
 * IPAM_BLOCK_MAX_ADDRS below (a block is never larger). Owners are the first
 * 64 bits of SHA-1(namespace NUL pod): names are chosen by whoever creates
 * pods, and a second preimage of 64 bits (2^64 work) is out of reach, which
 * a non-cryptographic hash of this width would not guarantee.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "block.h"
#include "cleanup.h"
#include "ipam.h"
#include "owners.h"
#include "sha1.h"

struct owner_block {
	char *key;
	struct ipam_cidr cidr;
	uint32_t n;
	uint64_t owner[]; /* [n]: OWNER_FREE, OWNER_NO_POD or a pod's digest */
};

#define OWNER_FREE 0
#define OWNER_NO_POD 1 /* allocated with no namespace/pod attributes */

struct ipam_owners {
	struct owner_block **v; /* sorted by (family, cidr.v) */
	size_t n, cap;
};

static const char *const verdict_names[_IPAM_OWNER_VERDICT_MAX] = {
	[IPAM_OWNER_KUBELET] = "reported by the kubelet",
	[IPAM_OWNER_ALLOCATED] = "allocated to the pod",
	[IPAM_OWNER_NO_POOL] = "outside every IP pool",
	[IPAM_OWNER_UNALLOCATED] = "not allocated by IPAM",
	[IPAM_OWNER_OTHER] = "allocated to another pod or to no pod",
};

const char *ipam_owner_verdict_to_string(enum ipam_owner_verdict v)
{
	return v >= 0 && v < _IPAM_OWNER_VERDICT_MAX ? verdict_names[v] : NULL;
}

bool ipam_owner_verdict_is_ok(enum ipam_owner_verdict v)
{
	return v == IPAM_OWNER_KUBELET || v == IPAM_OWNER_ALLOCATED;
}

static uint64_t owner_digest(const char *ns, const char *pod)
{
	size_t ln = ns ? strlen(ns) : 0, lp = pod ? strlen(pod) : 0;
	_cleanup_free_ char *text = NULL;
	uint8_t d[SHA1_DIGEST_SIZE];
	uint64_t v = 0;

	if (!ln || !lp)
		return OWNER_NO_POD;
	text = malloc(ln + 1 + lp);
	if (!text)
		return OWNER_FREE; /* out of memory: owned by nobody */
	/* NUL between the names: "a/b" + "c" and "a" + "b/c" differ. */
	memcpy(text, ns, ln + 1);
	memcpy(text + ln + 1, pod, lp);
	sha1(text, ln + 1 + lp, d);
	for (int i = 0; i < 8; i++)
		v = v << 8 | d[i];
	return v > OWNER_NO_POD ? v : v + 2;
}

int ipam_owners_new(struct ipam_owners **ret)
{
	struct ipam_owners *o = calloc(1, sizeof(*o));

	if (!o)
		return -ENOMEM;
	*ret = o;
	return 0;
}

struct ipam_owners *ipam_owners_free(struct ipam_owners *o)
{
	if (!o)
		return NULL;
	for (size_t i = 0; i < o->n; i++) {
		free(o->v[i]->key);
		free(o->v[i]);
	}
	free(o->v);
	free(o);
	return NULL;
}

size_t ipam_owners_blocks(const struct ipam_owners *o)
{
	return o->n;
}

static bool start_before(const struct ipam_cidr *c, int family, ipam_u128 v)
{
	return c->family < family || (c->family == family && c->v <= v);
}

/* Index of the first block starting after (@family, @v). */
static size_t upper_bound(const struct ipam_owners *o, int family, ipam_u128 v)
{
	size_t lo = 0, hi = o->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (start_before(&o->v[mid]->cidr, family, v))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

bool ipam_owners_del_block(struct ipam_owners *o, const char *key, struct ipam_cidr *ret_cidr)
{
	for (size_t i = 0; i < o->n; i++) {
		if (strcmp(o->v[i]->key, key) != 0)
			continue;
		if (ret_cidr)
			*ret_cidr = o->v[i]->cidr;
		free(o->v[i]->key);
		free(o->v[i]);
		memmove(&o->v[i], &o->v[i + 1], (o->n - i - 1) * sizeof(*o->v));
		o->n--;
		return true;
	}
	return false;
}

static struct owner_block *owner_block_new(const char *key, const struct ipam_block *b)
{
	struct owner_block *ob = calloc(1, sizeof(*ob) + b->n * sizeof(ob->owner[0]));

	if (!ob || !(ob->key = strdup(key))) {
		free(ob);
		return NULL;
	}
	ob->cidr = b->cidr;
	ob->n = b->n;
	for (uint32_t i = 0; i < b->n; i++) {
		const struct ipam_attr *a = ipam_block_attr_of(b, i);

		ob->owner[i] = a ? owner_digest(ipam_attr_secondary(a, "namespace"),
						ipam_attr_secondary(a, "pod"))
				 : OWNER_FREE;
	}
	return ob;
}

int ipam_owners_set_block(struct ipam_owners *o, const char *key, const struct ipam_block *b)
{
	struct owner_block *ob;
	size_t at;
	int r;

	(void)ipam_owners_del_block(o, key, NULL);
	if (b->deleted)
		return 0;
	r = ARRAY_GROW(o->v, o->cap, o->n + 1);
	if (r < 0)
		return r;
	ob = owner_block_new(key, b);
	if (!ob)
		return -ENOMEM;
	at = upper_bound(o, ob->cidr.family, ob->cidr.v);
	memmove(&o->v[at + 1], &o->v[at], (o->n - at) * sizeof(*o->v));
	o->v[at] = ob;
	o->n++;
	return 0;
}

static enum ipam_owner_verdict allocation_of(const struct ipam_owners *o,
					     const struct ipam_addr *a, uint64_t who)
{
	enum ipam_owner_verdict v = IPAM_OWNER_UNALLOCATED;
	size_t i = upper_bound(o, a->family, a->v);

	while (i-- > 0) {
		const struct owner_block *ob = o->v[i];
		uint64_t ord;

		if (ob->cidr.family != a->family || a->v - ob->cidr.v >= IPAM_BLOCK_MAX_ADDRS)
			break; /* this block and all before it start too far below */
		if (ipam_cidr_ordinal(&ob->cidr, a, &ord) < 0 || ord >= ob->n ||
		    ob->owner[ord] == OWNER_FREE)
			continue;
		if (ob->owner[ord] != who)
			return IPAM_OWNER_OTHER;
		v = IPAM_OWNER_ALLOCATED;
	}
	return v;
}

enum ipam_owner_verdict ipam_owners_check(const struct ipam_owners *o,
					  const struct ipam_pools *pools,
					  const struct ipam_addr *a, const char *ns, const char *pod,
					  bool kubelet)
{
	uint64_t who;

	if (!ipam_pools_find_addr(pools, a))
		return IPAM_OWNER_NO_POOL;
	if (kubelet)
		return IPAM_OWNER_KUBELET;
	who = owner_digest(ns, pod);
	if (who == OWNER_FREE || who == OWNER_NO_POD)
		return IPAM_OWNER_UNALLOCATED;
	return allocation_of(o, a, who);
}
