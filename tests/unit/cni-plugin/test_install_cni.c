/* install-cni's template rendering and validation (cni-plugin/install.h).
 * Table-driven. (The kubeconfig and the atomic file writes it uses are
 * tested in tests/unit/lib/test_satoken.c and test_fileio.c.) */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "cleanup.h"
#include "fileio.h"
#include "cni-plugin/install.h"
#include "kapi.h"

static const struct install_var vars[] = {
    {"__KUBECONFIG_FILEPATH__", "/etc/cni/net.d/calico-kubeconfig"},
    {"__CNI_MTU__", "1440"},
    {"__KUBERNETES_NODE_NAME__", "node-1"},
    {"__LOG_LEVEL__", "debug"},
    {"__QUOTED__", "a\"b\\c\n"},
    {"__EMPTY__", ""},
};

static void test_render_replaces_escapes_and_rejects_unknown(void **state)
{
	static const struct {
		const char *in;
		const char *want; /* NULL: error */
		const char *err_has;
	} v[] = {
	    {"{\"mtu\": __CNI_MTU__}", "{\"mtu\": 1440}", NULL},
	    {"\"__KUBERNETES_NODE_NAME__/__KUBERNETES_NODE_NAME__\"", "\"node-1/node-1\"", NULL},
	    {"{\"k\":\"__KUBECONFIG_FILEPATH__\",\"l\":\"__LOG_LEVEL__\"}",
	     "{\"k\":\"/etc/cni/net.d/calico-kubeconfig\",\"l\":\"debug\"}", NULL},
	    /* Values are escaped for a JSON string. */
	    {"\"__QUOTED__\"", "\"a\\\"b\\\\c\\u000a\"", NULL},
	    {"\"x__EMPTY__y\"", "\"xy\"", NULL},
	    /* Not placeholders: lower case, single underscores, no closing pair. */
	    {"\"__lower__ _A_ __A _ ___\"", "\"__lower__ _A_ __A _ ___\"", NULL},
	    {"", "", NULL},
	    /* A placeholder glued to text still counts. */
	    {"___CNI_MTU__", "_1440", NULL},
	    {"\"__NOT_KNOWN__\"", NULL, "'__NOT_KNOWN__'"},
	    {"{\"a\": __CNI_MTU__, \"b\": \"__ETCD_ENDPOINTS__\"}", NULL, "__ETCD_ENDPOINTS__"},
	};
	(void)state;

	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		_cleanup_free_ char *out = NULL, *err = NULL;
		int r = install_render(v[i].in, vars, ELEMENTSOF(vars), &out, &err);

		if (v[i].want) {
			assert_int_equal(r, 0);
			assert_string_equal(out, v[i].want);
			assert_null(err);
		} else {
			assert_int_equal(r, -EINVAL);
			assert_null(out);
			assert_non_null(strstr(err, v[i].err_has));
		}
	}
}

static void test_validate_conflist_vectors(void **state)
{
	static const struct {
		const char *in;
		bool is_list;
		const char *err_has; /* NULL: valid */
	} v[] = {
	    {"{\"name\":\"n\",\"cniVersion\":\"1.0.0\",\"plugins\":[{\"type\":\"calico-c\"}]}",
	     true, NULL},
	    {"{\"name\":\"n\",\"cniVersion\":\"1.0.0\",\"plugins\":[{\"type\":\"calico-c\"},"
	     "{\"type\":\"portmap\",\"capabilities\":{\"portMappings\":true}}]}",
	     true, NULL},
	    {"{\"name\":\"n\",\"cniVersion\":\"0.4.0\",\"type\":\"calico-c\"}", false, NULL},
	    {"{\"name\":\"n\",\"cniVersion\":\"1.0.0\",\"plugins\":[{\"type\":\"calico-c\"}]", true,
	     "not valid JSON: line 1"},
	    {"{\"name\":\"n\",\n\"cniVersion\":\"1.0.0\",\n\"mtu\": ,\"plugins\":[]}", true,
	     "line 3"},
	    {"[1,2]", true, "not a JSON object"},
	    {"{\"name\":\"n\",\"plugins\":[{\"type\":\"calico-c\"}]}", true, "cniVersion"},
	    {"{\"cniVersion\":\"1.0.0\",\"plugins\":[{\"type\":\"calico-c\"}]}", true, "\"name\""},
	    {"{\"name\":\"\",\"cniVersion\":\"1.0.0\",\"plugins\":[{\"type\":\"c\"}]}", true,
	     "\"name\""},
	    {"{\"name\":\"n\",\"cniVersion\":\"1.0.0\",\"plugins\":[]}", true, "plugins"},
	    {"{\"name\":\"n\",\"cniVersion\":\"1.0.0\"}", true, "plugins"},
	    {"{\"name\":\"n\",\"cniVersion\":\"1.0.0\",\"plugins\":[{\"type\":\"a\"},{}]}", true,
	     "plugins[1]"},
	    {"{\"name\":\"n\",\"cniVersion\":\"1.0.0\",\"plugins\":[\"calico-c\"]}", true,
	     "plugins[0] is not an object"},
	    {"{\"name\":\"n\",\"cniVersion\":\"1.0.0\",\"plugins\":[{\"type\":7}]}", true,
	     "plugins[0]"},
	    {"{\"name\":\"n\",\"cniVersion\":\"1.0.0\"}", false, "\"type\""},
	    {"{\"name\":\"n\",\"name\":\"m\",\"cniVersion\":\"1.0.0\",\"type\":\"c\"}", false,
	     "duplicate"},
	};
	(void)state;

	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		_cleanup_free_ char *err = NULL;
		int r = install_validate_conflist(v[i].in, v[i].is_list, &err);

		if (!v[i].err_has) {
			assert_int_equal(r, 0);
			continue;
		}
		assert_int_equal(r, -EINVAL);
		if (!strstr(err, v[i].err_has))
			fail_msg("vector %zu: '%s' lacks '%s'", i, err, v[i].err_has);
	}
}

static void test_server_url_vectors(void **state)
{
	static const struct {
		const char *host, *port, *want;
	} v[] = {
	    {"10.96.0.1", "443", "https://10.96.0.1:443"},
	    {"fd00::1", "6443", "https://[fd00::1]:6443"},
	    {"api.example", "1", "https://api.example:1"},
	    {NULL, "443", NULL},
	    {"", "443", NULL},
	    {"10.96.0.1", "", NULL},
	    {"10.96.0.1", "0", NULL},
	    {"10.96.0.1", "65536", NULL},
	    {"10.96.0.1", "44a", NULL},
	    {"evil/path", "443", NULL},
	    {"a b", "443", NULL},
	};
	(void)state;

	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		_cleanup_free_ char *out = NULL, *err = NULL;
		int r = install_server_url(v[i].host, v[i].port, &out, &err);

		if (v[i].want) {
			assert_int_equal(r, 0);
			assert_string_equal(out, v[i].want);
		} else {
			assert_int_equal(r, -EINVAL);
			assert_non_null(err);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_render_replaces_escapes_and_rejects_unknown),
	    cmocka_unit_test(test_validate_conflist_vectors),
	    cmocka_unit_test(test_server_url_vectors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
