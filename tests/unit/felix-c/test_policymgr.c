/* The policy manager without a kernel: a fake of its seam counts reads and
 * batches. The table is compiled once per model generation and read back
 * only when it must be; a pod change after an apply is a small batch of
 * its own (no read, no compile); a failure makes the next apply full. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "felix-c/policymgr.h"
#include "mgrtest.h"
#include "policy/nftstate.h"
#include "policy/plan.h"

struct fake {
	unsigned reads, batches;
	size_t last_ops;
	int fail;
	char last_host_rule[128]; /* label of the last batch's last rule in cc_wl_to_host */
	bool input_drop;	  /* the last batch added or kept cc_input_drop */
};

static int f_read(void *k, const char *table, struct policy_nft **ret)
{
	struct fake *f = k;

	f->reads++;
	return policy_nft_new(table, ret); /* an empty kernel, every time */
}

static int f_apply(void *k, const struct policy_plan *p, char **ret_error)
{
	struct fake *f = k;

	(void)ret_error;
	if (f->fail)
		return f->fail;
	f->batches++;
	f->last_ops = p->n_ops;
	f->input_drop = false;
	for (size_t i = 0; i < p->n_ops; i++)
		if (p->ops[i].kind == POLICY_OP_CHAIN_ADD && strcmp(p->ops[i].name, "cc_input_drop") == 0)
			f->input_drop = true;
	for (size_t i = 0; i < p->n_ops; i++)
		if (p->ops[i].kind == POLICY_OP_RULE_ADD &&
		    strcmp(p->ops[i].name, "cc_wl_to_host") == 0)
			policy_nft_comment_label(p->ops[i].rule->comment, f->last_host_rule,
						 sizeof(f->last_host_rule));
	return 0;
}

static const struct policymgr_kernel fake_kernel = { f_read, f_apply };

struct env {
	struct fake f;
	struct policy_model *model;
	struct felix_desired d;
	struct felix_manager *m;
};

static int setup(void **state)
{
	static struct env e;

	memset(&e, 0, sizeof(e));
	assert_int_equal(policy_model_new("n1", &e.model), 0);
	assert_int_equal(policymgr_new(&fake_kernel, &e.f, "calico-c", &e.m), 0);
	e.d.model = e.model;
	e.m->ops->update(e.m, &e.d);
	*state = &e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	felix_manager_free(e->m);
	policy_model_free(e->model);
	return 0;
}

static void test_compiles_once_and_reads_back_on_resync(void **state)
{
	struct env *e = *state;

	mgrtest_add_pod(e->model, "p1", "n1", "10.65.1.5", false);
	assert_int_equal(e->m->ops->apply(e->m), 0);
	assert_int_equal(e->f.reads, 1);
	assert_int_equal(e->f.batches, 1);
	assert_int_equal(e->m->batches, 1);

	/* Nothing changed: nothing read, nothing sent. */
	assert_int_equal(e->m->ops->apply(e->m), 0);
	assert_int_equal(e->f.reads, 1);
	assert_int_equal(e->f.batches, 1);

	/* A resync reads the table back (and repairs it: the fake forgot it). */
	e->m->ops->resync(e->m);
	assert_int_equal(e->m->ops->apply(e->m), 0);
	assert_int_equal(e->f.reads, 2);
	assert_int_equal(e->f.batches, 2);
}

static void test_settings_change_recompiles_the_table(void **state)
{
	struct policy_failsafes none = {}, ssh;
	struct env *e = *state;

	mgrtest_add_pod(e->model, "p1", "n1", "10.65.1.5", false);
	assert_int_equal(e->m->ops->apply(e->m), 0);
	assert_string_equal(e->f.last_host_rule, "unknown workload to host");
	assert_true(e->f.input_drop);
	/* the same settings: nothing to do */
	assert_false(policymgr_configure(e->m, POLICY_HOST_DROP, "calico-packet", -1, &none, &none));
	assert_int_equal(e->m->ops->apply(e->m), 0);
	assert_int_equal(e->f.batches, 1);
	/* Accept: compiled again, one batch */
	assert_true(policymgr_configure(e->m, POLICY_HOST_ACCEPT, "calico-packet", 3, &none, &none));
	assert_int_equal(e->m->ops->apply(e->m), 0);
	assert_int_equal(e->f.reads, 2);
	assert_int_equal(e->f.batches, 2);
	assert_false(e->f.input_drop); /* Accept: no drop after the egress policy */
	assert_true(policymgr_configure(e->m, POLICY_HOST_ACCEPT, "other", 3, &none, &none));
	assert_false(policymgr_configure(e->m, POLICY_HOST_ACCEPT, "other", 3, &none, &none));
	/* failsafe ports are settings too */
	assert_int_equal(policy_failsafes_parse("tcp:22", &ssh), 0);
	assert_true(policymgr_configure(e->m, POLICY_HOST_ACCEPT, "other", 3, &ssh, &none));
	assert_false(policymgr_configure(e->m, POLICY_HOST_ACCEPT, "other", 3, &ssh, &none));
	assert_true(policymgr_configure(e->m, POLICY_HOST_ACCEPT, "other", 3, &ssh, &ssh));
}

static void test_pod_change_is_a_small_batch(void **state)
{
	struct env *e = *state;
	struct policy_pod *p = NULL;
	size_t full_ops;
	uint64_t gen0;

	mgrtest_add_pod(e->model, "p1", "n1", "10.65.1.5", false);
	assert_int_equal(e->m->ops->apply(e->m), 0);
	full_ops = e->f.last_ops;

	gen0 = e->model->generation;
	mgrtest_add_pod(e->model, "p2", "n1", "10.65.1.6", false);
	e->m->ops->pod_changed(e->m, gen0, NULL, policy_model_get_pod(e->model, "ns", "p2"));
	assert_int_equal(e->f.reads, 1); /* no read back */
	assert_int_equal(e->f.batches, 2);
	assert_true(e->f.last_ops < full_ops);

	/* The fast path kept the table current: the reconcile does nothing. */
	assert_int_equal(e->m->ops->apply(e->m), 0);
	assert_int_equal(e->f.reads, 1);
	assert_int_equal(e->f.batches, 2);

	/* A change the compiled table does not follow from (stale @gen0) is
	 * left to the next apply, which compiles and reads back. */
	p = policy_model_del_pod(e->model, "ns", "p1");
	e->m->ops->pod_changed(e->m, gen0, p, NULL);
	policy_pod_free(p);
	assert_int_equal(e->f.batches, 2);
	assert_int_equal(e->m->ops->apply(e->m), 0);
	assert_int_equal(e->f.reads, 2);
	assert_int_equal(e->f.batches, 3);
}

static void test_failure_makes_next_apply_full(void **state)
{
	struct env *e = *state;

	e->f.fail = -ENOBUFS;
	assert_int_equal(e->m->ops->apply(e->m), -ENOBUFS);
	e->f.fail = 0;
	assert_int_equal(e->m->ops->apply(e->m), 0);
	assert_int_equal(e->f.reads, 2);
	assert_int_equal(e->f.batches, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_compiles_once_and_reads_back_on_resync, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_settings_change_recompiles_the_table, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pod_change_is_a_small_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failure_makes_next_apply_full, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
