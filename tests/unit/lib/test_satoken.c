/* The CNI kubeconfig and its token (lib/satoken.h): rendered text reads back
 * with our kubeconfig reader; a token that could break the YAML is refused. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cleanup.h"
#include "kapi.h"
#include "satoken.h"

static const char ca_pem[] = "-----BEGIN CERTIFICATE-----\nMIIBtest\n-----END CERTIFICATE-----\n";

/* Round trip: render, parse back with our kubeconfig reader, compare. */
static void test_kubeconfig_round_trips_through_our_reader(void **state)
{
	_cleanup_free_ char *text = NULL, *err = NULL;
	struct kapi_config *kc = NULL;
	(void)state;

	assert_int_equal(satoken_kubeconfig_render("https://[fd00::1]:6443", ca_pem, strlen(ca_pem),
						   "eyJhbGciOi.eyJzdWIi.c2ln", &text, &err),
			 0);
	assert_non_null(strstr(text, "token: \"eyJhbGciOi.eyJzdWIi.c2ln\""));
	assert_int_equal(kapi_config_from_string(text, "/nonexistent", &kc, &err), 0);
	assert_string_equal(kapi_config_server(kc), "https://[fd00::1]:6443");
	kapi_config_free(kc);
}

static void test_kubeconfig_rejects_bad_tokens_and_empty_ca(void **state)
{
	static const char *const bad[] = {"", "a b", "a\"b", "a\\b", "tok\n", "a'b", "\x7f"};
	(void)state;

	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		_cleanup_free_ char *text = NULL, *err = NULL;

		assert_int_equal(satoken_kubeconfig_render("https://h:1", ca_pem, strlen(ca_pem),
							   bad[i], &text, &err),
				 -EINVAL);
		assert_null(text);
		assert_non_null(strstr(err, "token"));
	}
	{
		_cleanup_free_ char *text = NULL, *err = NULL;

		assert_int_equal(satoken_kubeconfig_render("https://h:1", "", 0, "t", &text, &err),
				 -EINVAL);
		assert_non_null(strstr(err, "CA"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kubeconfig_round_trips_through_our_reader),
		cmocka_unit_test(test_kubeconfig_rejects_bad_tokens_and_empty_ca),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
