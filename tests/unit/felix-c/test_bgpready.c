/* bgpready: Calico's bird-ready rule over `show protocols` snapshots, as
 * vectors: which protocols are peers, all Established within the start-up
 * threshold (and no graceful-restart recovery), one after it, none needed
 * without peers, disabled ("down") peers left out; and the `show status`
 * graceful-restart line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "bird-config/birdctl.h"
#include "felix-c/bgpready.h"
#include "metrics.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define EST(n, ip) { n, "BGP", "up", "", "Established", "", ip }
#define ACTIVE(n, ip) { n, "BGP", "start", "", "Active", "", ip }
#define DOWN(n, ip) { n, "BGP", "down", "", "", "", ip }

static const struct birdctl_proto p_kernel = { "kernel1", "Kernel", "up", "", "", "", "" };
static const struct birdctl_proto p_static = { "static1", "Static", "up", "", "", "", "" };
static const struct birdctl_proto m1_up = EST("Mesh_10_0_0_2", "10.0.0.2");
static const struct birdctl_proto m2_up = EST("Mesh_10_0_0_3", "10.0.0.3");
static const struct birdctl_proto m2_active = ACTIVE("Mesh_10_0_0_3", "10.0.0.3");
static const struct birdctl_proto g_active = ACTIVE("Global_10_0_0_201", "10.0.0.201");
static const struct birdctl_proto g_down = DOWN("Global_10_0_0_201", "10.0.0.201");
static const struct birdctl_proto n_up = EST("Node_10_0_0_9", "10.0.0.9");
static const struct birdctl_proto n_noaddr = ACTIVE("Node_10_0_0_9", "");
static const struct birdctl_proto other_bgp = ACTIVE("tor_session", "10.0.0.250");
/* "up" but not Established yet would be odd; treat only the pair as up. */
static const struct birdctl_proto m1_start_est = { "Mesh_10_0_0_2", "BGP", "start", "", "Established", "", "10.0.0.2" };

static const struct {
	const char *what;
	const struct birdctl_proto *p[6];
	bool gr, in_threshold, want;
	const char *why; /* substring of the reason when not ready */
} vectors[] = {
	{ "no protocols at all", { NULL }, false, true, true, NULL },
	{ "single node: only kernel and static", { &p_kernel, &p_static }, false, true, true, NULL },
	{ "all peers up, in threshold", { &p_kernel, &m1_up, &m2_up, &n_up }, false, true, true, NULL },
	{ "one peer not up, in threshold", { &m1_up, &m2_active }, false, true, false,
	  "BGP not established with 10.0.0.3\n" },
	{ "two peers not up, in threshold", { &m1_up, &m2_active, &g_active }, false, true, false,
	  "BGP not established with 10.0.0.3,10.0.0.201\n" },
	{ "a peer without a neighbor address is named", { &n_noaddr }, false, true, false,
	  "with Node_10_0_0_9\n" },
	{ "one of two up, after threshold", { &m1_up, &m2_active }, false, false, true, NULL },
	{ "none up, after threshold", { &m2_active, &g_active }, false, false, false,
	  "BGP not established with 10.0.0.3,10.0.0.201\n" },
	{ "all up but GR recovery, in threshold", { &m1_up, &m2_up }, true, true, false,
	  "graceful restart" },
	{ "GR recovery after threshold does not matter", { &m1_up }, true, false, true, NULL },
	{ "GR recovery without peers does not matter", { &p_kernel }, true, true, true, NULL },
	{ "disabled peer left out, in threshold", { &m1_up, &g_down }, false, true, true, NULL },
	{ "only a disabled peer", { &g_down }, false, true, true, NULL },
	{ "BGP protocol not named by us is no peer", { &m1_up, &other_bgp }, false, true, true, NULL },
	{ "state start with Established info is not up", { &m1_start_est }, false, true, false,
	  "10.0.0.2" },
};

static void test_rule_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(vectors); i++) {
		struct birdctl_proto protos[6];
		struct birdctl_status st = { .protos = protos };
		struct metrics_buf why = {};
		bool got;

		for (size_t k = 0; k < ARRAY_SIZE(vectors[i].p) && vectors[i].p[k]; k++)
			protos[st.n++] = *vectors[i].p[k];
		got = bgpready_check(&st, vectors[i].gr, vectors[i].in_threshold, &why);
		if (got != vectors[i].want)
			fail_msg("'%s': got %d, want %d (%.*s)", vectors[i].what, got, vectors[i].want,
				 (int)why.len, why.s ? why.s : "");
		if (!got && (!why.s || !strstr(why.s, vectors[i].why)))
			fail_msg("'%s': reason '%.*s', want '%s'", vectors[i].what, (int)why.len,
				 why.s ? why.s : "", vectors[i].why);
		assert_int_equal(got, bgpready_check(&st, vectors[i].gr, vectors[i].in_threshold, NULL));
		metrics_buf_done(&why);
	}
}

static void test_gr_recovery_line(void **state)
{
	(void)state;
	assert_true(bgpready_gr_recovery("1000-BIRD 2.0.12\n1011-Router ID is 10.0.0.1\n"
					 " Hostname is n1\n0024-Graceful restart recovery in progress\n"
					 "  Waiting for 1 channels to recover\n"));
	assert_false(bgpready_gr_recovery("1000-BIRD 2.0.12\n1011-Router ID is 10.0.0.1\n"
					  " Last reboot on 2026-12-06 08:00:00\n"));
	assert_false(bgpready_gr_recovery(" 0024 in a continuation line\n"));
	assert_false(bgpready_gr_recovery(""));
	assert_false(bgpready_gr_recovery(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rule_vectors),
		cmocka_unit_test(test_gr_recovery_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
