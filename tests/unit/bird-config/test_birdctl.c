/* Parsing BIRD's control-socket replies into peer status; the config check
 * (`bird -p`) runs with none of our descriptors. */
#include <errno.h>
#include <fcntl.h>
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

#include "bird-config/birdctl.h"
#include "fileio.h"

/* As BIRD 2.0.12 prints `show protocols all` (final "0000 " line removed). */
static const char reply[] =
	"2002-Name       Proto      Table      State  Since         Info\n"
	"1002-device1    Device     ---        up     11:29:22.544  \n"
	"1006-\n"
	"1002-Mesh_172_31_0_12 BGP        ---        up     11:29:23.100  Established   \n"
	"1006-  BGP state:          Established\n"
	"     Neighbor address: 172.31.0.12\n"
	"     Neighbor AS:      64512\n"
	"1002-Global_172_31_0_201 BGP        ---        start  2026-11-22 11:29:22  Active        Socket: Connection refused\n"
	"1006-  BGP state:          Active\n"
	"     Neighbor address: 172.31.0.201\n"
	"     Last error:       Socket: Connection refused\n"
	" \n";

static void test_show_protocols_rows_and_details(void **state)
{
	struct birdctl_status st = {};

	(void)state;
	assert_int_equal(birdctl_parse_protocols(reply, &st), 0);
	assert_int_equal(st.n, 3);
	assert_string_equal(st.protos[0].name, "device1");
	assert_string_equal(st.protos[0].info, "");
	assert_string_equal(st.protos[1].name, "Mesh_172_31_0_12");
	assert_string_equal(st.protos[1].proto, "BGP");
	assert_string_equal(st.protos[1].state, "up");
	assert_string_equal(st.protos[1].info, "Established");
	assert_string_equal(st.protos[1].neighbor, "172.31.0.12");
	assert_string_equal(st.protos[1].last_error, "");
	assert_string_equal(st.protos[2].state, "start");
	assert_string_equal(st.protos[2].since, "2026-11-22 11:29:22");
	assert_string_equal(st.protos[2].info, "Active        Socket: Connection refused");
	assert_string_equal(st.protos[2].last_error, "Socket: Connection refused");
	birdctl_status_done(&st);
}

static void test_malformed_rows_are_rejected(void **state)
{
	static const char *const bad[] = {
		"1002-onlyname\n",
		"1002-a b c\n",
	};
	struct birdctl_status st = {};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(birdctl_parse_protocols(bad[i], &st), -EBADMSG);
	assert_int_equal(birdctl_parse_protocols("", &st), 0);
	assert_int_equal(st.n, 0);
}

static void test_no_bird_is_an_error_not_a_crash(void **state)
{
	(void)state;
	assert_int_equal(birdctl_command("/nonexistent/bird.ctl", "show status", NULL), -ENOENT);
	assert_int_equal(birdctl_command("/nonexistent/bird.ctl", "two\nlines", NULL), -EINVAL);
}

/* A stand-in `bird` that rejects the config when it inherited fd 77, which
 * felix-c's not-close-on-exec sockets would be; a real config error still
 * comes back as -EINVAL with the checker's output. */
static void test_config_check_inherits_no_descriptor(void **state)
{
	static const char script[] =
		"#!/bin/sh\n"
		"if [ -e /proc/$$/fd/77 ]; then echo 'inherited fd 77'; exit 1; fi\n"
		"grep -q bad \"$3\" && { echo 'syntax error'; exit 1; }\n"
		"exit 0\n";
	char dir[] = "/tmp/test_birdctl.XXXXXX", bird[64], cfg[64];
	char *msg = NULL;
	bool changed = true;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(bird, sizeof(bird), "%s/bird", dir);
	snprintf(cfg, sizeof(cfg), "%s/bird.cfg", dir);
	assert_int_equal(file_write_atomic(bird, script, strlen(script), 0700), 0);
	fd = open("/dev/null", O_RDONLY); /* not close-on-exec */
	assert_true(fd >= 0);
	assert_int_equal(dup2(fd, 77), 77);
	close(fd);
	assert_int_equal(birdcfg_apply(cfg, "router id 1.2.3.4;\n", bird, NULL, &changed, &msg), 0);
	assert_true(changed);
	assert_null(msg);
	assert_int_equal(birdcfg_apply(cfg, "bad;\n", bird, NULL, &changed, &msg), -EINVAL);
	assert_false(changed);
	assert_string_equal(msg, "syntax error\n");
	close(77);
	free(msg);
	unlink(cfg);
	unlink(bird);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_show_protocols_rows_and_details),
		cmocka_unit_test(test_malformed_rows_are_rejected),
		cmocka_unit_test(test_no_bird_is_an_error_not_a_crash),
		cmocka_unit_test(test_config_check_inherits_no_descriptor),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
