/* A hollow node (felix-c/hollow.h) computes what a real node computes and
 * writes nothing: the route manager plans the same routes and keeps them in
 * memory (a second apply sends nothing more, a block that goes is deleted);
 * the policy manager compiles and plans the same batch a real kernel seam
 * gets (same metrics), and the batch is dropped; the NAT table goes through
 * the same seam; BIRD's config is rendered but no file is written and BIRD is
 * never started, and the node is ready with no BGP peers. */
#include <errno.h>
#include <linux/rtnetlink.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "felix-c/birdmgr.h"
#include "felix-c/config.h"
#include "felix-c/hollow.h"
#include "felix-c/natmgr.h"
#include "felix-c/policymgr.h"
#include "felix-c/routemgr.h"
#include "mgrtest.h"
#include "policy/nftstate.h"
#include "policy/plan.h"

/* A manager's metric families as text. */
static char *metrics_of(const struct felix_manager *m)
{
	struct metrics_buf b = {};

	m->ops->write_metrics(m, &b);
	return b.s;
}

static void test_routes_planned_kept_in_memory(void **state)
{
	_cleanup_(felix_hollow_freep) struct felix_hollow *h = NULL;
	struct mgrtest_env e;
	char *text;

	(void)state;
	assert_int_equal(felix_hollow_new(&h), 0);
	mgrtest_env_init(&e);
	assert_int_equal(routemgr_new(&felix_hollow_routes, h, 0, &e.m), 0);
	json_object_set_new(e.affs, "a", mgrtest_affinity("n1", "confirmed", NULL, "10.65.1.0/26"));
	json_object_set_new(e.affs, "b", mgrtest_affinity("n1", "confirmed", NULL, "fd00::/122"));
	mgrtest_add_pod(e.model, "p1", "n1", "10.65.1.5", false); /* no veth on a hollow node */
	mgrtest_env_build(&e);

	assert_int_equal(e.m->ops->apply(e.m), 0);
	assert_int_equal(felix_hollow_writes(h), 2);
	text = metrics_of(e.m);
	assert_non_null(strstr(text, "felix_c_routes{type=\"blackhole\"} 2\n"));
	assert_non_null(strstr(text, "felix_c_routes{type=\"pod\"} 0\n"));
	assert_non_null(strstr(text, "felix_c_route_adds_total 2\n"));
	free(text);

	/* Nothing changed: the routes it "wrote" read back, nothing is sent. */
	assert_int_equal(e.m->ops->apply(e.m), 0);
	assert_int_equal(felix_hollow_writes(h), 2);

	/* A block that is no longer ours goes. */
	json_object_del(e.affs, "b");
	mgrtest_env_build(&e);
	assert_int_equal(e.m->ops->apply(e.m), 0);
	assert_int_equal(felix_hollow_writes(h), 3);
	text = metrics_of(e.m);
	assert_non_null(strstr(text, "felix_c_route_dels_total 1\n"));
	free(text);
	assert_int_equal(e.m->errors, 0);
	mgrtest_env_done(&e);
}

/* The seam of a real node, kernel left out: the table reads back empty
 * (as a hollow node's does) and each batch is counted. */
struct counting {
	unsigned batches;
	size_t ops;
};

static int c_read(void *k, const char *table, struct policy_nft **ret)
{
	(void)k;
	return policy_nft_new(table, ret);
}

static int c_apply(void *k, const struct policy_plan *p, char **ret_error)
{
	struct counting *c = k;

	(void)ret_error;
	c->batches++;
	c->ops += p->n_ops;
	return 0;
}

static const struct policymgr_kernel counting_kernel = { c_read, c_apply };

static void test_policy_same_batches_none_sent(void **state)
{
	_cleanup_(felix_hollow_freep) struct felix_hollow *h = NULL;
	struct felix_manager *real = NULL, *hollow = NULL;
	struct policy_model *model = NULL;
	struct felix_desired d = {};
	struct counting c = {};
	char *a, *b;

	(void)state;
	assert_int_equal(felix_hollow_new(&h), 0);
	assert_int_equal(policy_model_new("n1", &model), 0);
	assert_int_equal(policymgr_new(&counting_kernel, &c, "calico-c", &real), 0);
	assert_int_equal(policymgr_new(&felix_hollow_nft, h, "calico-c", &hollow), 0);
	d.model = model;
	mgrtest_add_pod(model, "p1", "n1", "10.65.1.5", false);
	mgrtest_add_pod(model, "p2", "n2", "10.65.2.5", false);
	real->ops->update(real, &d);
	hollow->ops->update(hollow, &d);

	assert_int_equal(real->ops->apply(real), 0);
	assert_int_equal(hollow->ops->apply(hollow), 0);
	assert_true(c.ops > 0);
	assert_int_equal(c.batches, 1);
	assert_int_equal(felix_hollow_writes(h), 1);
	assert_int_equal(hollow->batches, real->batches);
	a = metrics_of(real);
	b = metrics_of(hollow);
	assert_string_equal(a, b); /* set elements, active policies */
	free(a);
	free(b);

	/* A new local pod: both compile and plan again. */
	mgrtest_add_pod(model, "p3", "n1", "10.65.1.6", false);
	assert_int_equal(real->ops->apply(real), 0);
	assert_int_equal(hollow->ops->apply(hollow), 0);
	assert_int_equal(c.batches, 2);
	assert_int_equal(felix_hollow_writes(h), 2);
	assert_int_equal(hollow->errors + real->errors, 0);
	felix_manager_free(real);
	felix_manager_free(hollow);
	policy_model_free(model);
}

static void test_nat_table_through_the_seam(void **state)
{
	_cleanup_(felix_hollow_freep) struct felix_hollow *h = NULL;
	struct mgrtest_env e;

	(void)state;
	assert_int_equal(felix_hollow_new(&h), 0);
	mgrtest_env_init(&e);
	assert_int_equal(natmgr_new(&felix_hollow_nft, h, NULL, "calico-c", &e.m), 0);
	mgrtest_env_build(&e);
	assert_int_equal(e.m->ops->apply(e.m), 0);
	assert_int_equal(felix_hollow_writes(h), 1); /* the nat table, dropped */
	assert_int_equal(e.m->batches, 1);
	assert_int_equal(e.m->ops->apply(e.m), 0); /* unchanged: nothing planned */
	assert_int_equal(felix_hollow_writes(h), 1);
	mgrtest_env_done(&e);
}

static void test_bird_rendered_not_written_nor_started(void **state)
{
	char dir[] = "/tmp/test-hollow-XXXXXX", path[64], sock[64];
	struct felix_config cfg;
	struct metrics_buf why = {};
	struct mgrtest_env e;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/bird.cfg", dir);
	snprintf(sock, sizeof(sock), "%s/bird.ctl", dir);
	cfg = (struct felix_config){ .nodename = "n1", .bird_config = path, .bird_socket = sock,
				     .bird_pidfile = sock, .bird_start = true };
	mgrtest_env_init(&e);
	assert_int_equal(birdmgr_new(&cfg, &felix_hollow_bird, NULL, NULL, NULL, &e.m), 0);
	json_object_set_new(e.nodes, "n1",
			    json_pack("{s:{s:s,s:{s:s}}}", "metadata", "name", "n1", "annotations",
				      "projectcalico.org/IPv4Address", "172.31.0.11/24"));
	json_object_set_new(e.nodes, "n2",
			    json_pack("{s:{s:s,s:{s:s}}}", "metadata", "name", "n2", "annotations",
				      "projectcalico.org/IPv4Address", "172.31.0.12/24"));
	mgrtest_env_build(&e);
	assert_int_equal(e.m->ops->apply(e.m), 0);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(rmdir(dir), 0); /* nothing at all was written there */

	birdmgr_poll_status(e.m);
	assert_true(birdmgr_is_ready(e.m, &why));
	metrics_buf_done(&why);
	assert_int_equal(e.m->errors, 0);
	mgrtest_env_done(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routes_planned_kept_in_memory),
		cmocka_unit_test(test_policy_same_batches_none_sent),
		cmocka_unit_test(test_nat_table_through_the_seam),
		cmocka_unit_test(test_bird_rendered_not_written_nor_started),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
