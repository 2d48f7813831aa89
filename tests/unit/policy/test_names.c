#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cleanup.h"
#include "policy/names.h"

/* Contents whose candidate names collide (as two hashes would) get
 * distinct names; equal contents get the same one, whatever the order. */
static void test_colliding_candidates_get_distinct_names(void **state)
{
	static const struct {
		const char *kind, *content, *candidate, *want;
	} v[] = {
		{ "pol", "ns/a", "pol_h0123", "pol_h0123" },
		{ "pol", "ns/b", "pol_h0123", "pol_h0123_1" }, /* forced equal hash */
		{ "pol", "ns/c", "pol_h0123", "pol_h0123_2" },
		{ "pol", "ns/a", "pol_h0123", "pol_h0123" },   /* same content, same name */
		{ "pol", "ns/b", "pol_hffff", "pol_h0123_1" }, /* the name stays with the content */
		/* a readable name that happens to equal a disambiguated one */
		{ "pol", "h0123/1", "pol_h0123_1", "pol_h0123_1_1" },
		/* same bytes, other kind: another entry */
		{ "sel4", "ns/a", "pol_h0123", "pol_h0123_3" },
		{ "sel4", "ns/a", "sel4_1", "pol_h0123_3" },
	};
	struct policy_names t = {};
	const char *name;

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		assert_int_equal(policy_names_claim(&t, v[i].kind, v[i].content,
						    strlen(v[i].content), v[i].candidate, &name),
				 0);
		assert_string_equal(name, v[i].want);
		assert_string_equal(policy_names_lookup(&t, v[i].kind, v[i].content,
							strlen(v[i].content)),
				    v[i].want);
	}
	assert_null(policy_names_lookup(&t, "pol", "ns/d", 4));
	assert_null(policy_names_lookup(&t, "ep_in", "ns/a", 4));
	policy_names_done(&t);
}

/* A released name can be given again; other contents keep theirs. */
static void test_release_frees_only_that_name(void **state)
{
	struct policy_names t = {};
	const char *a, *b, *c;

	(void)state;
	assert_int_equal(policy_names_claim(&t, "ep_in", "x|1", 3, "ep_in_7", &a), 0);
	assert_int_equal(policy_names_claim(&t, "ep_in", "y|1", 3, "ep_in_7", &b), 0);
	assert_string_equal(b, "ep_in_7_1");
	policy_names_release(&t, "ep_in", "x|1", 3);
	assert_null(policy_names_lookup(&t, "ep_in", "x|1", 3));
	assert_string_equal(policy_names_lookup(&t, "ep_in", "y|1", 3), "ep_in_7_1");
	assert_int_equal(policy_names_claim(&t, "ep_in", "z|1", 3, "ep_in_7", &c), 0);
	assert_string_equal(c, "ep_in_7");
	policy_names_release(&t, "ep_in", "nothing", 7); /* unknown: no-op */
	policy_names_done(&t);
	assert_null(policy_names_lookup(&t, "ep_in", "y|1", 3));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_colliding_candidates_get_distinct_names),
		cmocka_unit_test(test_release_frees_only_that_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
