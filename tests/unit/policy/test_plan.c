#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policy/nftstate.h"
#include "policy/plan.h"

/* Builds a chain with rules named by @comments (";"-separated), handles 10, 20, ... */
static struct policy_nft_chain *chain(struct policy_nft *t, const char *name, const char *comments,
				      bool desired)
{
	struct policy_nft_chain *c = NULL;
	char *copy = strdup(comments), *save = NULL;
	uint64_t h = 10;

	assert_int_equal(policy_nft_chain_add(t, name, &c), 0);
	for (char *s = strtok_r(copy, ";", &save); s; s = strtok_r(NULL, ";", &save), h += 10) {
		struct policy_nft_rule *r = policy_nft_rule_new();

		r->comment = strdup(s);
		if (desired) {
			r->verdict = POLICY_VERDICT_ACCEPT;
			r->counter = true;
		} else {
			r->handle = h;
		}
		assert_int_equal(policy_nft_chain_append(c, r), 0);
	}
	free(copy);
	return c;
}

static struct policy_nft *table(bool exists)
{
	struct policy_nft *t = NULL;

	assert_int_equal(policy_nft_new("calico-c", &t), 0);
	t->table_exists = exists;
	return t;
}

static struct policy_plan *plan(const struct policy_nft *obs, const struct policy_nft *des)
{
	struct policy_plan *p = NULL;

	assert_int_equal(policy_plan(obs, des, &p, NULL), 0);
	return p;
}

static void test_equal_states_give_an_empty_plan(void **state)
{
	struct policy_nft *o = table(true), *d = table(false);
	struct policy_plan *p;

	(void)state;
	chain(o, "c", "a;b;c", false);
	chain(d, "c", "a;b;c", true);
	p = plan(o, d);
	assert_true(policy_plan_is_empty(p));
	policy_plan_free(p);
	policy_nft_free(o);
	policy_nft_free(d);
}

static void test_missing_table_is_added_first(void **state)
{
	struct policy_nft *o = table(false), *d = table(false);
	struct policy_nft_set *s = NULL;
	struct policy_plan *p;
	uint8_t a[4] = { 10, 0, 0, 1 };

	(void)state;
	chain(d, "c", "a", true);
	assert_int_equal(policy_nft_set_add(d, "s", POLICY_SET_ADDR4, &s), 0);
	assert_int_equal(policy_nft_elem_ref(s, a, 4, NULL), 0);
	p = plan(o, d);
	assert_int_equal(p->n_ops, 5);
	assert_int_equal(p->ops[0].kind, POLICY_OP_TABLE_ADD);
	assert_int_equal(p->ops[1].kind, POLICY_OP_SET_ADD);
	assert_int_equal(p->ops[2].kind, POLICY_OP_CHAIN_ADD);
	assert_int_equal(p->ops[3].kind, POLICY_OP_ELEM_ADD);
	assert_int_equal(p->ops[4].kind, POLICY_OP_RULE_ADD);
	policy_plan_free(p);
	policy_nft_free(o);
	policy_nft_free(d);
}

static void test_rule_diff_keeps_and_places_rules(void **state)
{
	static const struct {
		const char *obs, *des;
		const char *want; /* ops: "D<handle>" delete, "A<comment>@<where>" */
	} v[] = {
		{ "a;b;c", "a;b;c", "" },
		{ "a;x;b", "a;b", "D20" },			 /* foreign / stale rule deleted */
		{ "a;a;b", "a;b", "D20" },			 /* a duplicate is deleted */
		{ "a;c", "a;b;c", "Ab@h10" },			 /* inserted after a's handle */
		{ "b;c", "a;b;c", "Aa@head" },			 /* inserted at the head */
		{ "a", "a;b;c", "Ab@h10,Ac@op" },		 /* after the new rule b */
		{ "x;y", "a;b", "D10,D20,Aa@end,Ab@end" },	 /* nothing kept: append */
		{ "b;a", "a;b", "D20,D10,Aa@end,Ab@end" },	 /* out of order: replace all */
		{ "", "a", "Aa@end" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct policy_nft *o = table(true), *d = table(false);
		char got[256] = "";
		struct policy_plan *p;

		chain(o, "c", v[i].obs, false);
		chain(d, "c", v[i].des, true);
		p = plan(o, d);
		for (size_t k = 0; k < p->n_ops; k++) {
			const struct policy_op *op = &p->ops[k];
			char one[64];

			if (op->kind == POLICY_OP_RULE_DEL)
				snprintf(one, sizeof(one), "D%llu", (unsigned long long)op->handle);
			else if (op->kind == POLICY_OP_RULE_ADD)
				snprintf(one, sizeof(one), "A%s@%s%s", op->rule->comment,
					 op->at_head ? "head" : op->handle ? "h" : op->after_op >= 0 ? "op" : "end",
					 op->handle ? (op->handle == 10 ? "10" : "?") : "");
			else
				snprintf(one, sizeof(one), "?%s", policy_op_kind_to_string(op->kind));
			if (op->kind == POLICY_OP_RULE_ADD && op->after_op >= 0)
				assert_int_equal(p->ops[op->after_op].kind, POLICY_OP_RULE_ADD);
			strcat(got, k ? "," : "");
			strcat(got, one);
		}
		if (strcmp(got, v[i].want) != 0)
			fail_msg("vector %zu (%s -> %s): got '%s', want '%s'", i, v[i].obs, v[i].des, got,
				 v[i].want);
		policy_plan_free(p);
		policy_nft_free(o);
		policy_nft_free(d);
	}
}

static void test_elements_and_stale_objects(void **state)
{
	struct policy_nft *o = table(true), *d = table(false);
	struct policy_nft_set *so = NULL, *sd = NULL, *stale = NULL;
	uint8_t a[4] = { 10, 0, 0, 1 }, b[4] = { 10, 0, 0, 2 }, c[4] = { 10, 0, 0, 3 };
	struct policy_plan *p;

	(void)state;
	assert_int_equal(policy_nft_set_add(o, "s", POLICY_SET_ADDR4, &so), 0);
	assert_int_equal(policy_nft_set_add(d, "s", POLICY_SET_ADDR4, &sd), 0);
	assert_int_equal(policy_nft_set_add(o, "old", POLICY_SET_ADDR4, &stale), 0);
	policy_nft_elem_ref(so, a, 4, NULL);
	policy_nft_elem_ref(so, b, 4, NULL);
	policy_nft_elem_ref(sd, b, 4, NULL);
	policy_nft_elem_ref(sd, c, 4, NULL);
	chain(o, "pol_x_in", "r", false);
	chain(o, "ep_in_1", "j", false);
	p = plan(o, d);
	/* order: elements out, elements in, chains (profiles first), sets */
	assert_int_equal(p->n_ops, 5);
	assert_int_equal(p->ops[0].kind, POLICY_OP_ELEM_DEL);
	assert_int_equal(p->ops[0].n_elems, 1);
	assert_memory_equal(p->ops[0].elems[0]->data, a, 4);
	assert_int_equal(p->ops[1].kind, POLICY_OP_ELEM_ADD);
	assert_memory_equal(p->ops[1].elems[0]->data, c, 4);
	assert_int_equal(p->ops[2].kind, POLICY_OP_CHAIN_DEL);
	assert_string_equal(p->ops[2].name, "ep_in_1");
	assert_int_equal(p->ops[3].kind, POLICY_OP_CHAIN_DEL);
	assert_string_equal(p->ops[3].name, "pol_x_in");
	assert_int_equal(p->ops[4].kind, POLICY_OP_SET_DEL);
	assert_string_equal(p->ops[4].name, "old");
	policy_plan_free(p);
	policy_nft_free(o);
	policy_nft_free(d);
}

static void test_foreign_set_type_is_refused(void **state)
{
	struct policy_nft *o = table(true), *d = table(false);
	struct policy_nft_set *s = NULL;
	struct policy_plan *p = NULL;
	char *err = NULL;

	(void)state;
	assert_int_equal(policy_nft_set_add(o, "s", POLICY_SET_RANGE4, &s), 0);
	assert_int_equal(policy_nft_set_add(d, "s", POLICY_SET_ADDR4, &s), 0);
	assert_int_equal(policy_plan(o, d, &p, &err), -ENOTRECOVERABLE);
	assert_null(p);
	assert_non_null(strstr(err, "set 's' exists with type range4, want addr4"));
	free(err);
	policy_nft_free(o);
	policy_nft_free(d);
}

static void test_changed_base_chain_is_replaced(void **state)
{
	struct policy_nft *o = table(true), *d = table(false);
	struct policy_nft_chain *co, *cd;
	struct policy_plan *p;

	(void)state;
	co = chain(o, "cc_fwd_egress", "a", false);
	cd = chain(d, "cc_fwd_egress", "a", true);
	co->base = cd->base = true;
	co->hooknum = cd->hooknum = 2;
	co->prio = 10;
	p = plan(o, d);
	assert_int_equal(p->n_ops, 3);
	assert_int_equal(p->ops[0].kind, POLICY_OP_CHAIN_REPLACE_DEL);
	assert_int_equal(p->ops[1].kind, POLICY_OP_CHAIN_ADD);
	assert_int_equal(p->ops[2].kind, POLICY_OP_RULE_ADD);
	policy_plan_free(p);
	policy_nft_free(o);
	policy_nft_free(d);
}

static void test_sets_most_used_are_made_first(void **state)
{
	static const char *const used[] = { "c", "b", "c", "c" };
	struct policy_nft *o = table(true), *d = table(false);
	struct policy_nft_chain *c;
	struct policy_nft_set *s;
	struct policy_plan *p;

	(void)state;
	for (const char *n = "abc"; *n; n++) {
		char name[2] = { *n, 0 };

		assert_int_equal(policy_nft_set_add(d, name, POLICY_SET_ADDR4, &s), 0);
	}
	c = chain(d, "pol_x_in", "r0;r1;r2;r3", true);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(policy_nft_rule_match(c->rules[i], POLICY_MATCH_SADDR, AF_INET, 0,
						       used[i]), 0);
	/* an interface prefix is no set, even with a set's name */
	assert_int_equal(policy_nft_rule_match(c->rules[1], POLICY_MATCH_IIF_PREFIX, 0, 0, "a"), 0);
	assert_int_equal(policy_nft_rule_match(c->rules[3], POLICY_MATCH_IIF_PREFIX, 0, 0, "a"), 0);
	p = plan(o, d);
	/* c (3 rules), b (1), a (none): the kernel walks its sets in this order */
	assert_int_equal(p->ops[0].kind, POLICY_OP_SET_ADD);
	assert_string_equal(p->ops[0].name, "c");
	assert_string_equal(p->ops[1].name, "b");
	assert_string_equal(p->ops[2].name, "a");
	assert_int_equal(p->ops[3].kind, POLICY_OP_CHAIN_ADD);
	policy_plan_free(p);
	policy_nft_free(o);
	policy_nft_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_equal_states_give_an_empty_plan),
		cmocka_unit_test(test_missing_table_is_added_first),
		cmocka_unit_test(test_rule_diff_keeps_and_places_rules),
		cmocka_unit_test(test_elements_and_stale_objects),
		cmocka_unit_test(test_foreign_set_type_is_refused),
		cmocka_unit_test(test_changed_base_chain_is_replaced),
		cmocka_unit_test(test_sets_most_used_are_made_first),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
