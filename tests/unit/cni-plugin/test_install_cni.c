/* install-cni's template rendering, validation, kubeconfig rendering and
 * atomic file replacement (cni-plugin/install.h). Table-driven; the file
 * tests work in a private temp folder.
 */
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

static const char ca_pem[] = "-----BEGIN CERTIFICATE-----\nMIIBtest\n-----END CERTIFICATE-----\n";

/* Round trip: render, parse back with our kubeconfig reader, compare. */
static void test_kubeconfig_round_trips_through_our_reader(void **state)
{
	_cleanup_free_ char *text = NULL, *err = NULL;
	struct kapi_config *kc = NULL;
	(void)state;

	assert_int_equal(install_kubeconfig_render("https://[fd00::1]:6443", ca_pem, strlen(ca_pem),
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

		assert_int_equal(install_kubeconfig_render("https://h:1", ca_pem, strlen(ca_pem),
							   bad[i], &text, &err),
				 -EINVAL);
		assert_null(text);
		assert_non_null(strstr(err, "token"));
	}
	{
		_cleanup_free_ char *text = NULL, *err = NULL;

		assert_int_equal(install_kubeconfig_render("https://h:1", "", 0, "t", &text, &err),
				 -EINVAL);
		assert_non_null(strstr(err, "CA"));
	}
}

struct tmp {
	char dir[64];
};

static int tmp_setup(void **state)
{
	struct tmp *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	snprintf(t->dir, sizeof(t->dir), "/tmp/test-install-cni-XXXXXX");
	if (!mkdtemp(t->dir))
		return -1;
	*state = t;
	return 0;
}

static int tmp_teardown(void **state)
{
	struct tmp *t = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	if (system(cmd) != 0)
		return -1;
	free(t);
	return 0;
}

static size_t count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void test_write_atomic_sets_mode_replaces_and_leaves_no_temp(void **state)
{
	struct tmp *t = *state;
	char path[128];
	_cleanup_free_ char *got = NULL;
	struct stat st;
	size_t len;

	snprintf(path, sizeof(path), "%s/kubeconfig", t->dir);
	assert_int_equal(install_write_atomic(path, "old", 3, 0644), 0);
	assert_int_equal(install_write_atomic(path, "secret", 6, 0600), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(file_read_all(path, 100, &got, &len), 0);
	assert_int_equal(len, 6);
	assert_string_equal(got, "secret");
	assert_int_equal(count_entries(t->dir), 1);
}

static void test_write_atomic_failure_leaves_old_file(void **state)
{
	struct tmp *t = *state;
	char path[128], sub[128];
	_cleanup_free_ char *got = NULL;

	/* Destination is a folder: rename fails after the temp file is written. */
	snprintf(sub, sizeof(sub), "%s/conf", t->dir);
	assert_int_equal(mkdir(sub, 0755), 0);
	snprintf(path, sizeof(path), "%s/conf/x", t->dir);
	assert_int_equal(install_write_atomic(path, "old", 3, 0644), 0);
	assert_int_equal(install_write_atomic(sub, "new", 3, 0644), -EISDIR);
	assert_int_equal(file_read_all(path, 100, &got, NULL), 0);
	assert_string_equal(got, "old");
	assert_int_equal(count_entries(t->dir), 1); /* no temp file left */
	/* A missing folder: nothing is created. */
	snprintf(path, sizeof(path), "%s/missing/x", t->dir);
	assert_int_equal(install_write_atomic(path, "new", 3, 0644), -ENOENT);
}

static void test_copy_atomic_copies_bytes_and_mode(void **state)
{
	struct tmp *t = *state;
	char src[128], dst[128];
	_cleanup_free_ char *got = NULL;
	char big[200000];
	struct stat st;
	size_t len;

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7);
	snprintf(src, sizeof(src), "%s/src", t->dir);
	snprintf(dst, sizeof(dst), "%s/dst", t->dir);
	assert_int_equal(install_write_atomic(src, big, sizeof(big), 0644), 0);
	assert_int_equal(install_write_atomic(dst, "old", 3, 0600), 0);
	assert_int_equal(install_copy_atomic(src, dst, 0755), 0);
	assert_int_equal(stat(dst, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(file_read_all(dst, sizeof(big), &got, &len), 0);
	assert_int_equal(len, sizeof(big));
	assert_memory_equal(got, big, sizeof(big));
	assert_int_equal(file_read_all(dst, 10, &got, &len), -EFBIG);
	snprintf(src, sizeof(src), "%s/nope", t->dir);
	assert_int_equal(install_copy_atomic(src, dst, 0755), -ENOENT);
	assert_int_equal(count_entries(t->dir), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_render_replaces_escapes_and_rejects_unknown),
	    cmocka_unit_test(test_validate_conflist_vectors),
	    cmocka_unit_test(test_server_url_vectors),
	    cmocka_unit_test(test_kubeconfig_round_trips_through_our_reader),
	    cmocka_unit_test(test_kubeconfig_rejects_bad_tokens_and_empty_ca),
	    cmocka_unit_test_setup_teardown(test_write_atomic_sets_mode_replaces_and_leaves_no_temp,
					    tmp_setup, tmp_teardown),
	    cmocka_unit_test_setup_teardown(test_write_atomic_failure_leaves_old_file, tmp_setup,
					    tmp_teardown),
	    cmocka_unit_test_setup_teardown(test_copy_atomic_copies_bytes_and_mode, tmp_setup,
					    tmp_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
