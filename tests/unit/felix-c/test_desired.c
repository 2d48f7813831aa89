/* The desired state computed once per reconcile: this node's blocks by the
 * one BlockAffinity rule, local pod routes and borrowed addresses, all in
 * binary. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "felix-c/manager.h"
#include "mgrtest.h"

static void assert_prefix(const struct in_prefix *p, const char *want)
{
	char text[PREFIX_STRLEN];

	assert_int_equal(prefix_format(p, false, text, sizeof(text)), 0);
	assert_string_equal(text, want);
}

static void test_blocks_are_confirmed_live_and_ours(void **state)
{
	json_t *affs = json_object(), *invalid = json_object();
	struct felix_desired_input in = { .node = "n1", .affinities = affs,
					  .affinities_invalid = invalid };
	struct policy_model *m = NULL;
	struct felix_desired d;

	(void)state;
	assert_int_equal(policy_model_new("n1", &m), 0);
	in.model = m;
	json_object_set_new(affs, "a", mgrtest_affinity("n1", "confirmed", NULL, "10.65.2.0/26"));
	json_object_set_new(affs, "b", mgrtest_affinity("n1", "confirmed", "false", "10.65.1.0/26"));
	json_object_set_new(affs, "c", mgrtest_affinity("n1", "pending", NULL, "10.65.3.0/26"));
	json_object_set_new(affs, "d", mgrtest_affinity("n1", "confirmed", "true", "10.65.4.0/26"));
	json_object_set_new(affs, "e", mgrtest_affinity("n2", "confirmed", NULL, "10.65.5.0/26"));
	json_object_set_new(affs, "f", mgrtest_affinity("n1", "pendingDeletion", NULL, "10.65.6.0/26"));
	json_object_set_new(affs, "g", mgrtest_affinity("n1", "confirmed", NULL, "10.65.7.0/26"));
	json_object_set_new(invalid, "g", json_string("bad"));
	json_object_set_new(affs, "h", mgrtest_affinity("n1", "confirmed", NULL, "fd00:65::/122"));
	json_object_set_new(affs, "i", mgrtest_affinity("n1", "confirmed", NULL, "not-a-cidr"));
	json_object_set_new(affs, "j", mgrtest_affinity("n1", "confirmed", NULL, "10.65.2.0/26"));

	assert_int_equal(felix_desired_build(&in, &d), 0);
	assert_int_equal(d.n_blocks, 3); /* sorted, the duplicate once */
	assert_prefix(&d.blocks[0], "10.65.1.0/26");
	assert_prefix(&d.blocks[1], "10.65.2.0/26");
	assert_prefix(&d.blocks[2], "fd00:65::/122");
	assert_int_equal(d.block_addrs, 128); /* IPv4 only */
	felix_desired_done(&d);
	policy_model_free(m);
	json_decref(affs);
	json_decref(invalid);
}

static void test_pod_routes_and_borrowed_addresses(void **state)
{
	json_t *affs = json_object();
	struct felix_desired_input in = { .node = "n1", .affinities = affs };
	struct policy_model *m = NULL;
	struct felix_desired d;
	struct in_prefix a;

	(void)state;
	assert_int_equal(policy_model_new("n1", &m), 0);
	in.model = m;
	json_object_set_new(affs, "a", mgrtest_affinity("n1", "confirmed", NULL, "10.65.1.0/26"));
	json_object_set_new(affs, "b", mgrtest_affinity("n1", "confirmed", NULL, "fd00:65::/122"));
	mgrtest_add_pod(m, "in-block", "n1", "10.65.1.5", false);
	mgrtest_add_pod(m, "borrowed", "n1", "10.65.9.7", false);
	mgrtest_add_pod(m, "remote", "n2", "10.65.1.9", false);
	mgrtest_add_pod(m, "host", "n1", "172.31.0.11", true);
	mgrtest_add_pod(m, "no-ip", "n1", NULL, false);
	mgrtest_add_pod(m, "v6", "n1", "fd00:66::5", false);
	mgrtest_add_pod(m, "dual", "n1", "10.65.1.6,fd00:65::6", false);

	assert_int_equal(felix_desired_build(&in, &d), 0);
	assert_int_equal(d.n_local, 4); /* pods with an address of either family */
	{
		static const struct {
			const char *pod, *dst;
		} want[] = { { "in-block", "10.65.1.5/32" }, { "borrowed", "10.65.9.7/32" },
			     { "v6", "fd00:66::5/128" }, { "dual", "10.65.1.6/32" },
			     { "dual", "fd00:65::6/128" } };
		bool seen[sizeof(want) / sizeof(want[0])] = {};

		assert_int_equal(d.n_pod_routes, sizeof(want) / sizeof(want[0]));
		for (size_t i = 0; i < d.n_pod_routes; i++) {
			const struct felix_pod_route *r = &d.pod_routes[i];
			char text[PREFIX_STRLEN];
			size_t k = 0;

			assert_int_equal(prefix_format(&r->dst, false, text, sizeof(text)), 0);
			while (k < sizeof(want) / sizeof(want[0]) && strcmp(want[k].dst, text) != 0)
				k++;
			assert_true(k < sizeof(want) / sizeof(want[0]) && !seen[k]);
			seen[k] = true;
			/* the pod's own host veth */
			assert_string_equal(r->ifname,
					    policy_model_get_pod(m, "ns", want[k].pod)->ifname);
		}
	}
	assert_int_equal(d.n_borrowed, 2); /* sorted: IPv4 first */
	assert_prefix(&d.borrowed[0], "10.65.9.7/32");
	assert_prefix(&d.borrowed[1], "fd00:66::5/128");
	assert_int_equal(prefix_parse("10.65.1.63", PREFIX_ALLOW_BARE, &a), 0);
	assert_true(felix_desired_in_blocks(&d, &a));
	assert_int_equal(prefix_parse("10.65.1.64", PREFIX_ALLOW_BARE, &a), 0);
	assert_false(felix_desired_in_blocks(&d, &a));
	felix_desired_done(&d);
	policy_model_free(m);
	json_decref(affs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blocks_are_confirmed_live_and_ours),
		cmocka_unit_test(test_pod_routes_and_borrowed_addresses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
