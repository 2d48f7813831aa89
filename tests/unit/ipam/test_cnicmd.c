/* Which calls felix-c's CNI service runs (ipam_cni_check_scope()): only
 * for its own node, and only with the IPAM lock file it was configured
 * with (a config naming none means the default, which the -direct program
 * would take); anything else is refused with code 7 naming the field.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cni.h"
#include "ipam/cnicmd.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void test_scope_vectors(void **state)
{
	static const struct {
		const char *cfg;
		const char *lock; /* felix-c's; NULL: IPAM_CNI_DEFAULT_LOCK */
		int want;
		const char *want_in_msg;
	} v[] = {
		{ "{\"nodename\":\"node1\",\"ipam\":{\"lock_file\":\"/l/ipam.lock\"}}", "/l/ipam.lock",
		  0, NULL },
		/* No nodename: the service's node. */
		{ "{\"ipam\":{\"lock_file\":\"/l/ipam.lock\"}}", "/l/ipam.lock", 0, NULL },
		{ "{\"nodename\":\"\",\"ipam\":{\"lock_file\":\"/l/ipam.lock\"}}", "/l/ipam.lock", 0,
		  NULL },
		/* No lock_file: the default, as calico-c-ipam-direct would take. */
		{ "{\"nodename\":\"node1\",\"ipam\":{}}", NULL, 0, NULL },
		{ "{\"nodename\":\"node1\"}", NULL, 0, NULL },
		{ "{\"nodename\":\"node1\",\"ipam\":{}}", "/l/ipam.lock", -EPERM,
		  "felix-c takes '/l/ipam.lock' only, not '/run/calico-c/ipam.lock'" },
		{ "{\"nodename\":\"node2\",\"ipam\":{\"lock_file\":\"/l/ipam.lock\"}}",
		  "/l/ipam.lock", -EPERM, "felix-c serves node 'node1' only, not 'node2'" },
		{ "{\"nodename\":\"node1\",\"ipam\":{\"lock_file\":\"/etc/shadow\"}}",
		  "/l/ipam.lock", -EPERM, "ipam.lock_file: felix-c takes '/l/ipam.lock' only" },
		{ "{\"nodename\":\"node1\",\"ipam\":{\"lock_file\":5}}", "/l/ipam.lock", -EPERM,
		  "not '(not a string)'" },
		{ "{\"nodename\":\"node1\",\"ipam\":{\"lock_file\":\"/l/ipam.lock/\"}}",
		  "/l/ipam.lock", -EPERM, "ipam.lock_file" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		json_t *cfg = json_loads(v[i].cfg, 0, NULL);
		struct cni_error err = {};
		int r;

		assert_non_null(cfg);
		r = ipam_cni_check_scope(cfg, "node1", v[i].lock ?: IPAM_CNI_DEFAULT_LOCK, &err);
		assert_int_equal(r, v[i].want);
		if (r < 0) {
			assert_int_equal(err.code, CNI_ERR_INVALID_CONFIG);
			if (!strstr(err.msg, v[i].want_in_msg))
				fail_msg("vector %zu: '%s' lacks '%s'", i, err.msg, v[i].want_in_msg);
		}
		json_decref(cfg);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scope_vectors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
