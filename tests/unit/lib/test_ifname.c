#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ifname.h"

/* Expected values are SHA-1 digests computed independently (sha1sum). */
static void test_name_is_cali_plus_11_hex_of_sha1(void **state)
{
	static const struct {
		const char *ns, *name;
	} v[] = {
		{ "default", "nginx" },
		{ "kube-system", "coredns-abc" },
		{ NULL, "0123456789abcdef" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char got[IFNAMSIZ], cmd[600], want[64] = "cali";
		FILE *p;

		assert_int_equal(ifname_for_workload(v[i].ns, v[i].name, got), 0);
		if (v[i].ns)
			snprintf(cmd, sizeof(cmd), "printf '%%s' '%s.%s' | sha1sum", v[i].ns, v[i].name);
		else
			snprintf(cmd, sizeof(cmd), "printf '%%s' '%s' | sha1sum", v[i].name);
		p = popen(cmd, "r");
		assert_non_null(p);
		assert_non_null(fgets(want + 4, 12, p));
		pclose(p);
		assert_string_equal(got, want);
		assert_int_equal(strlen(got), 15);
		assert_true(ifname_is_ours(got));
	}
}

static void test_empty_name_is_rejected(void **state)
{
	char got[IFNAMSIZ];

	(void)state;
	assert_int_equal(ifname_for_workload("ns", "", got), -EINVAL);
	assert_int_equal(ifname_for_workload("ns", NULL, got), -EINVAL);
	assert_false(ifname_is_ours("eth0"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_is_cali_plus_11_hex_of_sha1),
		cmocka_unit_test(test_empty_name_is_rejected),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
