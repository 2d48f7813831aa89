/* Parsing BIRD's control-socket replies into peer status. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bird-config/birdctl.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_show_protocols_rows_and_details),
		cmocka_unit_test(test_malformed_rows_are_rejected),
		cmocka_unit_test(test_no_bird_is_an_error_not_a_crash),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
