#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ipam/block.h"
#include "ipam/ipam.h"
#include "ipam/owners.h"

struct alloc {
	uint32_t ord;
	const char *ns, *pod; /* NULL: no secondary attributes */
};

static struct ipam_block *block(const char *cidr, const struct alloc *a, size_t n, bool deleted)
{
	struct ipam_block *b = NULL;
	struct ipam_cidr c;

	assert_int_equal(ipam_cidr_parse(cidr, true, &c), 0);
	assert_int_equal(ipam_block_new(&c, NULL, "node1", &b), 0);
	for (size_t i = 0; i < n; i++) {
		struct ipam_alloc_attrs at = { .handle_id = "k8s-pod-network.x", .ns = a[i].ns,
					       .pod = a[i].pod, .node = "node1" };

		assert_int_equal(ipam_block_assign_ordinal(b, a[i].ord, &at), 0);
	}
	b->deleted = deleted;
	return b;
}

static void set_block(struct ipam_owners *o, const char *key, const char *cidr,
		      const struct alloc *a, size_t n, bool deleted)
{
	struct ipam_block *b = block(cidr, a, n, deleted);

	assert_int_equal(ipam_owners_set_block(o, key, b), 0);
	ipam_block_free(b);
}

struct pools {
	struct ipam_pool items[4];
	struct ipam_pools p;
};

static void pools_init(struct pools *ps, const char *const *cidrs, size_t n)
{
	*ps = (struct pools){};
	for (size_t i = 0; i < n; i++)
		assert_int_equal(ipam_cidr_parse(cidrs[i], true, &ps->items[i].cidr), 0);
	ps->p = (struct ipam_pools){ .items = ps->items, .n = n };
}

struct vec {
	const char *addr, *ns, *pod;
	bool kubelet;
	enum ipam_owner_verdict want;
};

static void check_all(const struct ipam_owners *o, const struct ipam_pools *p,
		      const struct vec *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct ipam_addr a;
		enum ipam_owner_verdict got;

		assert_int_equal(ipam_addr_parse(v[i].addr, &a), 0);
		got = ipam_owners_check(o, p, &a, v[i].ns, v[i].pod, v[i].kubelet);
		if (got != v[i].want)
			fail_msg("vector %zu (%s claimed by %s/%s%s): got '%s', want '%s'", i,
				 v[i].addr, v[i].ns, v[i].pod, v[i].kubelet ? ", kubelet" : "",
				 ipam_owner_verdict_to_string(got), ipam_owner_verdict_to_string(v[i].want));
		assert_int_equal(ipam_owner_verdict_is_ok(got),
				 got == IPAM_OWNER_KUBELET || got == IPAM_OWNER_ALLOCATED);
	}
}

static const char *const pool_cidrs[] = { "10.65.0.0/16", "fd00::/64", "::/64" };

static void test_claims_are_checked_against_allocation_and_pool(void **state)
{
	static const struct alloc b1[] = { { 5, "a", "victim" }, { 6, "b", "attacker" },
					   { 7, NULL, NULL },	    { 8, "a", "b/c" } };
	static const struct alloc b6[] = { { 1, "a", "v6pod" } };
	static const struct alloc stale[] = { { 1, "a", "old" } };
	static const struct vec v[] = {
		{ "10.65.0.5", "a", "victim", false, IPAM_OWNER_ALLOCATED },
		/* The attack: another pod's address in one's own annotation. */
		{ "10.65.0.5", "b", "attacker", false, IPAM_OWNER_OTHER },
		{ "10.65.0.6", "b", "attacker", false, IPAM_OWNER_ALLOCATED },
		{ "10.65.0.9", "b", "attacker", false, IPAM_OWNER_UNALLOCATED }, /* free */
		{ "10.65.1.5", "b", "attacker", false, IPAM_OWNER_UNALLOCATED }, /* no block */
		{ "10.65.0.7", "b", "attacker", false, IPAM_OWNER_OTHER }, /* no pod attributes */
		/* The apiserver's address: in no pool, whoever claims it. */
		{ "172.31.0.2", "b", "attacker", false, IPAM_OWNER_NO_POOL },
		{ "172.31.0.2", "b", "attacker", true, IPAM_OWNER_NO_POOL },
		/* The kubelet is believed inside the pools, without an allocation. */
		{ "10.65.0.9", "b", "attacker", true, IPAM_OWNER_KUBELET },
		{ "10.65.0.5", "a", "victim", true, IPAM_OWNER_KUBELET },
		/* Names are compared whole: "a" + "b/c" is not "a/b" + "c". */
		{ "10.65.0.8", "a", "b/c", false, IPAM_OWNER_ALLOCATED },
		{ "10.65.0.8", "a/b", "c", false, IPAM_OWNER_OTHER },
		{ "10.65.0.5", "a", "victi", false, IPAM_OWNER_OTHER },
		{ "10.65.0.5", "", "", false, IPAM_OWNER_UNALLOCATED },
		{ "10.65.0.5", NULL, "victim", false, IPAM_OWNER_UNALLOCATED },
		/* A block left from a deleted pool does not make its addresses valid. */
		{ "10.99.0.1", "a", "old", false, IPAM_OWNER_NO_POOL },
		{ "fd00::1", "a", "v6pod", false, IPAM_OWNER_ALLOCATED },
		{ "fd00::1", "b", "attacker", false, IPAM_OWNER_OTHER },
		/* Same low bits as 10.65.0.5, other family: not that allocation. */
		{ "::a41:5", "a", "victim", false, IPAM_OWNER_UNALLOCATED },
	};
	struct ipam_owners *o = NULL;
	struct pools ps;

	(void)state;
	pools_init(&ps, pool_cidrs, 3);
	assert_int_equal(ipam_owners_new(&o), 0);
	set_block(o, "fd00---122", "fd00::/122", b6, 1, false);
	set_block(o, "10-99-0-0-26", "10.99.0.0/26", stale, 1, false);
	set_block(o, "10-65-0-0-26", "10.65.0.0/26", b1, 4, false);
	assert_int_equal(ipam_owners_blocks(o), 3);
	check_all(o, &ps.p, v, sizeof(v) / sizeof(v[0]));
	ipam_owners_free(o);
}

static void test_block_updates_replace_and_delete(void **state)
{
	static const struct alloc before[] = { { 5, "a", "victim" } };
	static const struct alloc after[] = { { 5, "b", "other" } };
	static const struct vec v_before[] = {
		{ "10.65.0.5", "a", "victim", false, IPAM_OWNER_ALLOCATED },
		{ "10.65.0.5", "b", "other", false, IPAM_OWNER_OTHER },
	};
	static const struct vec v_after[] = {
		{ "10.65.0.5", "a", "victim", false, IPAM_OWNER_OTHER },
		{ "10.65.0.5", "b", "other", false, IPAM_OWNER_ALLOCATED },
	};
	static const struct vec v_gone[] = {
		{ "10.65.0.5", "a", "victim", false, IPAM_OWNER_UNALLOCATED },
		{ "10.65.0.5", "b", "other", false, IPAM_OWNER_UNALLOCATED },
	};
	struct ipam_owners *o = NULL;
	struct pools ps;

	(void)state;
	pools_init(&ps, pool_cidrs, 1);
	assert_int_equal(ipam_owners_new(&o), 0);
	set_block(o, "b1", "10.65.0.0/26", before, 1, false);
	check_all(o, &ps.p, v_before, 2);
	set_block(o, "b1", "10.65.0.0/26", after, 1, false); /* the address was reused */
	assert_int_equal(ipam_owners_blocks(o), 1);
	check_all(o, &ps.p, v_after, 2);
	set_block(o, "b1", "10.65.0.0/26", after, 1, true); /* spec.deleted */
	assert_int_equal(ipam_owners_blocks(o), 0);
	check_all(o, &ps.p, v_gone, 2);
	set_block(o, "b1", "10.65.0.0/26", before, 1, false);
	assert_true(ipam_owners_del_block(o, "b1", NULL));
	assert_false(ipam_owners_del_block(o, "b1", NULL));
	check_all(o, &ps.p, v_gone, 2);
	ipam_owners_free(o);
}

/* Blocks of many sizes side by side and overlapping: the lookup finds
 * every block that holds the address, and another pod's allocation wins. */
static void test_overlapping_and_neighbouring_blocks(void **state)
{
	static const struct alloc big[] = { { 5, "a", "victim" }, { 300, "a", "far" } };
	static const struct alloc small[] = { { 5, "b", "attacker" } };
	static const struct alloc next[] = { { 0, "c", "next" } };
	static const struct vec v[] = {
		{ "10.65.0.5", "a", "victim", false, IPAM_OWNER_OTHER },
		{ "10.65.0.5", "b", "attacker", false, IPAM_OWNER_OTHER },
		{ "10.65.1.44", "a", "far", false, IPAM_OWNER_ALLOCATED },
		{ "10.65.4.0", "c", "next", false, IPAM_OWNER_ALLOCATED },
		{ "10.65.3.255", "c", "next", false, IPAM_OWNER_UNALLOCATED },
	};
	struct ipam_owners *o = NULL;
	struct pools ps;
	char key[32], cidr[32];

	(void)state;
	pools_init(&ps, pool_cidrs, 1);
	assert_int_equal(ipam_owners_new(&o), 0);
	set_block(o, "big", "10.65.0.0/22", big, 2, false);
	set_block(o, "small", "10.65.0.0/26", small, 1, false);
	set_block(o, "next", "10.65.4.0/26", next, 1, false);
	/* Many empty blocks after them: the search must still find them. */
	for (int i = 0; i < 40; i++) {
		snprintf(key, sizeof(key), "e%d", i);
		snprintf(cidr, sizeof(cidr), "10.65.%d.0/26", 8 + i);
		set_block(o, key, cidr, NULL, 0, false);
	}
	check_all(o, &ps.p, v, sizeof(v) / sizeof(v[0]));
	assert_true(ipam_owners_del_block(o, "small", NULL));
	assert_int_equal(ipam_owners_check(o, &ps.p, &(struct ipam_addr){ AF_INET, 0x0a410005 },
					   "a", "victim", false),
			 IPAM_OWNER_ALLOCATED);
	ipam_owners_free(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_claims_are_checked_against_allocation_and_pool),
		cmocka_unit_test(test_block_updates_replace_and_delete),
		cmocka_unit_test(test_overlapping_and_neighbouring_blocks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
