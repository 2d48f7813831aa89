/* The BIRD manager without a BIRD: a fake of its seam records the configs
 * installed and the commands sent. It renders only when something BIRD's
 * config comes from changed, installs only a different text, starts a
 * BIRD that is not running, waits (no error) for the node's address, and
 * reports readiness. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bird-config/birdctl.h"
#include "felix-c/birdmgr.h"
#include "felix-c/config.h"
#include "mgrtest.h"

struct fake {
	unsigned installs, starts, configures;
	char *last_text;
	bool running, answers;
} fake;

static int f_apply(const struct felix_config *c, const char *text, bool *ret_changed,
		   char **ret_error)
{
	(void)c;
	(void)ret_error;
	*ret_changed = !fake.last_text || strcmp(fake.last_text, text) != 0;
	fake.installs++;
	free(fake.last_text);
	fake.last_text = strdup(text);
	return fake.answers ? 0 : -ECONNREFUSED;
}

static bool f_running(const struct felix_config *c)
{
	(void)c;
	return fake.running;
}

static pid_t f_start(const struct felix_config *c)
{
	(void)c;
	fake.starts++;
	fake.running = fake.answers = true;
	return 4242;
}

static int f_command(const struct felix_config *c, const char *cmd, char **ret_reply)
{
	(void)c;
	if (!fake.answers)
		return -ECONNREFUSED;
	if (strcmp(cmd, "configure") == 0)
		fake.configures++;
	if (ret_reply)
		*ret_reply = strdup("BIRD 2.0.12\nDaemon is up and running");
	return 0;
}

static int f_show(const struct felix_config *c, struct birdctl_status *ret)
{
	(void)c;
	if (!fake.answers)
		return -ECONNREFUSED;
	*ret = (struct birdctl_status){};
	return 0;
}

static const struct birdmgr_io fake_io = { f_apply, f_running, f_start, f_command, f_show };

struct env {
	struct mgrtest_env t;
	struct felix_config cfg;
};

static void add_node(struct env *e, const char *name, const char *addr)
{
	json_object_set_new(e->t.nodes, name,
			    json_pack("{s:{s:s,s:{s:s}}}", "metadata", "name", name, "annotations",
				      "projectcalico.org/IPv4Address", addr));
}

static int setup(void **state)
{
	static struct env e;

	free(fake.last_text);
	fake = (struct fake){ .running = true, .answers = true };
	e.cfg = (struct felix_config){ .nodename = "n1", .bird_config = "/nonexistent/bird.cfg",
				       .bird_socket = "/nonexistent/bird.ctl" };
	mgrtest_env_init(&e.t);
	assert_int_equal(birdmgr_new(&e.cfg, &fake_io, NULL, NULL, NULL, &e.t.m), 0);
	*state = &e;
	return 0;
}

static int teardown(void **state)
{
	mgrtest_env_done(&((struct env *)*state)->t);
	return 0;
}

static void test_renders_only_when_inputs_change(void **state)
{
	struct env *e = *state;

	add_node(e, "n1", "172.31.0.11/24");
	json_object_set_new(e->t.affs, "a", mgrtest_affinity("n1", "confirmed", NULL, "10.65.1.0/26"));
	mgrtest_env_build(&e->t);
	assert_int_equal(e->t.m->ops->apply(e->t.m), 0);
	assert_int_equal(fake.installs, 1);
	assert_non_null(strstr(fake.last_text, "route 10.65.1.0/26 blackhole;"));

	/* A pod event with nothing for BIRD: no render, nothing installed,
	 * even though the node cache changed behind its generation. */
	add_node(e, "n2", "172.31.0.12/24");
	mgrtest_add_pod(e->t.model, "p1", "n1", "10.65.1.5", false);
	mgrtest_env_build(&e->t);
	assert_int_equal(e->t.m->ops->apply(e->t.m), 0);
	assert_int_equal(fake.installs, 1);

	/* The nodes' generation moves: the new mesh peer is rendered. */
	e->t.nodes_gen++;
	mgrtest_env_build(&e->t);
	assert_int_equal(e->t.m->ops->apply(e->t.m), 0);
	assert_int_equal(fake.installs, 2);
	assert_non_null(strstr(fake.last_text, "Mesh_172_31_0_12"));

	/* A borrowed address (binary in, text out) is advertised. */
	mgrtest_add_pod(e->t.model, "p2", "n1", "10.65.9.7", false);
	mgrtest_env_build(&e->t);
	assert_int_equal(e->t.m->ops->apply(e->t.m), 0);
	assert_int_equal(fake.installs, 3);
	assert_non_null(strstr(fake.last_text, "[ 10.65.9.7/32 ]"));

	/* A resync renders again; the same text is not installed again. */
	e->t.m->ops->resync(e->t.m);
	assert_int_equal(e->t.m->ops->apply(e->t.m), 0);
	assert_int_equal(fake.installs, 3);
	assert_int_equal(e->t.m->errors, 0);
}

static void test_waits_for_the_node_address(void **state)
{
	struct env *e = *state;

	mgrtest_env_build(&e->t);
	assert_int_equal(e->t.m->ops->apply(e->t.m), -EAGAIN);
	assert_int_equal(fake.installs, 0);
	add_node(e, "n1", "172.31.0.11/24");
	e->t.nodes_gen++;
	mgrtest_env_build(&e->t);
	assert_int_equal(e->t.m->ops->apply(e->t.m), 0);
	assert_int_equal(fake.installs, 1);
}

static void test_starts_bird_and_reports_readiness(void **state)
{
	struct env *e = *state;
	struct metrics_buf why = {};

	e->cfg.bird_start = true;
	fake.running = fake.answers = false;
	add_node(e, "n1", "172.31.0.11/24");
	mgrtest_env_build(&e->t);
	assert_false(birdmgr_is_ready(e->t.m, &why));
	assert_non_null(strstr(why.s, "BIRD config not loaded"));
	metrics_buf_done(&why);

	assert_int_equal(e->t.m->ops->apply(e->t.m), 0);
	assert_int_equal(fake.starts, 1);
	assert_int_equal(fake.configures, 0); /* a fresh BIRD read the file */

	why = (struct metrics_buf){};
	assert_false(birdmgr_is_ready(e->t.m, &why)); /* status not read yet */
	metrics_buf_done(&why);
	birdmgr_poll_status(e->t.m);
	why = (struct metrics_buf){};
	assert_true(birdmgr_is_ready(e->t.m, &why)); /* no BGP peers to wait for */
	metrics_buf_done(&why);

	/* BIRD died: the next apply starts it again though nothing changed. */
	fake.running = fake.answers = false;
	mgrtest_env_build(&e->t);
	assert_int_equal(e->t.m->ops->apply(e->t.m), 0);
	assert_int_equal(fake.starts, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_renders_only_when_inputs_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_waits_for_the_node_address, setup, teardown),
		cmocka_unit_test_setup_teardown(test_starts_bird_and_reports_readiness, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
