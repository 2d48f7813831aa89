/* kubeconfig parsing: current-context resolution, inline data and file
 * paths, and every way a kubeconfig can be wrong (each with a message that
 * names the field). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base64.h"
#include "cleanup.h"
#include "kapi-internal.h"
#include "kapi.h"


/* base64 of "CA-PEM", "CERT-PEM", "KEY-PEM" */
#define CA_B64 "Q0EtUEVN"
#define CERT_B64 "Q0VSVC1QRU0="
#define KEY_B64 "S0VZLVBFTQ=="

static const char *valid_inline =
	"apiVersion: v1\n"
	"kind: Config\n"
	"current-context: b\n"
	"clusters:\n"
	"- name: c1\n"
	"  cluster:\n"
	"    server: https://10.0.0.1:6443/\n"
	"    certificate-authority-data: " CA_B64 "\n"
	"- name: c2\n"
	"  cluster: {server: 'https://wrong:1'}\n"
	"contexts:\n"
	"- {name: a, context: {cluster: c2, user: u2}}\n"
	"- name: b\n"
	"  context:\n"
	"    cluster: c1\n"
	"    user: u1\n"
	"    namespace: kube-system\n"
	"users:\n"
	"- name: u1\n"
	"  user:\n"
	"    client-certificate-data: " CERT_B64 "\n"
	"    client-key-data: |\n"
	"      S0VZ\n"
	"      LVBFTQ==\n"
	"- name: u2\n"
	"  user: {token: abc}\n";

static void test_inline_data_current_context(void **state)
{
	_cleanup_(kapi_config_freep) struct kapi_config *c = NULL;
	_cleanup_free_ char *err = NULL;

	(void)state;
	assert_int_equal(kapi_config_from_string(valid_inline, NULL, &c, &err), 0);
	assert_null(err);
	assert_string_equal(kapi_config_server(c), "https://10.0.0.1:6443");
	assert_string_equal(kapi_config_namespace(c), "kube-system");
	assert_int_equal(c->ca.len, 6);
	assert_memory_equal(c->ca.data, "CA-PEM", 6);
	assert_int_equal(c->cert.len, 8);
	assert_memory_equal(c->cert.data, "CERT-PEM", 8);
	/* line-wrapped base64 in a block scalar */
	assert_int_equal(c->key.len, 7);
	assert_memory_equal(c->key.data, "KEY-PEM", 7);
	assert_null(c->token);
	assert_false(c->insecure);
}

static char tmpdir[64];

static void write_file(const char *name, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup_dir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_kubeconfig.XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	write_file("ca.crt", "CA-FILE");
	write_file("admin.crt", "CERT-FILE");
	write_file("admin.key", "KEY-FILE");
	write_file("token", "tok-from-file\n");
	return 0;
}

static int teardown_dir(void **state)
{
	static const char *const names[] = { "ca.crt", "admin.crt", "admin.key", "token",
					     "kubeconfig" };
	char path[128];

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(names); i++) {
		snprintf(path, sizeof(path), "%s/%s", tmpdir, names[i]);
		(void)unlink(path);
	}
	return rmdir(tmpdir);
}

static const char *with_paths = "current-context: x\n"
				"clusters: [{name: k, cluster: {server: 'http://h:80', "
				"certificate-authority: ca.crt}}]\n"
				"contexts: [{name: x, context: {cluster: k, user: me}}]\n"
				"users: [{name: me, user: {client-certificate: admin.crt, "
				"client-key: admin.key}}]\n";

static void test_file_paths_relative_to_base_dir(void **state)
{
	_cleanup_(kapi_config_freep) struct kapi_config *c = NULL;

	(void)state;
	assert_int_equal(kapi_config_from_string(with_paths, tmpdir, &c, NULL), 0);
	assert_string_equal(kapi_config_server(c), "http://h:80");
	assert_string_equal((char *)c->ca.data, "CA-FILE");
	assert_string_equal((char *)c->cert.data, "CERT-FILE");
	assert_string_equal((char *)c->key.data, "KEY-FILE");
	assert_null(kapi_config_namespace(c));
}

static void test_load_from_file_resolves_against_its_folder(void **state)
{
	_cleanup_(kapi_config_freep) struct kapi_config *c = NULL;
	char path[128];

	(void)state;
	write_file("kubeconfig", "current-context: x\n"
				 "clusters: [{name: k, cluster: {server: 'https://h', "
				 "insecure-skip-tls-verify: true}}]\n"
				 "contexts: [{name: x, context: {cluster: k, user: me}}]\n"
				 "users: [{name: me, user: {tokenFile: token}}]\n");
	snprintf(path, sizeof(path), "%s/kubeconfig", tmpdir);
	assert_int_equal(kapi_config_from_kubeconfig(path, &c), 0);
	assert_string_equal(c->token, "tok-from-file");
	assert_true(c->insecure);
	assert_int_equal(c->ca.len, 0);
}

static void test_missing_file_is_enoent(void **state)
{
	struct kapi_config *c = NULL;
	_cleanup_free_ char *err = NULL;

	(void)state;
	assert_int_equal(kapi_config_load("/nonexistent/kubeconfig", &c, &err), -ENOENT);
	assert_null(c);
	assert_non_null(strstr(err, "/nonexistent/kubeconfig"));
	free(err);
	err = NULL;
	/* a referenced file that does not exist */
	assert_int_equal(
		kapi_config_from_string("current-context: x\n"
					"clusters: [{name: k, cluster: {server: 'https://h', "
					"certificate-authority: nope.crt}}]\n"
					"contexts: [{name: x, context: {cluster: k}}]\n",
				tmpdir, &c, &err),
		-ENOENT);
	assert_non_null(strstr(err, "certificate-authority"));
	assert_non_null(strstr(err, "nope.crt"));
}

static void test_token_inline_anonymous_user(void **state)
{
	_cleanup_(kapi_config_freep) struct kapi_config *c = NULL, *a = NULL;

	(void)state;
	assert_int_equal(kapi_config_from_string("current-context: x\n"
						 "clusters: [{name: k, cluster: {server: "
						 "'https://h'}}]\n"
						 "contexts: [{name: x, context: {cluster: k, user: "
						 "t}}]\n"
						 "users: [{name: t, user: {token: ' sekret  '}}]\n",
						 NULL, &c, NULL),
			 0);
	assert_string_equal(c->token, " sekret");
	/* a context without a user is anonymous, as for kubectl */
	assert_int_equal(kapi_config_from_string("current-context: x\n"
						 "clusters: [{name: k, cluster: {server: "
						 "'https://h'}}]\n"
						 "contexts: [{name: x, context: {cluster: k}}]\n",
						 NULL, &a, NULL),
			 0);
	assert_null(a->token);
	assert_int_equal(a->cert.len, 0);
}

/* Every bad kubeconfig fails with -EBADMSG and a message containing `want`. */
static void test_bad_kubeconfigs(void **state)
{
	static const struct {
		const char *yaml;
		const char *want;
	} v[] = {
		{ "clusters: []\n", "current-context is not set" },
		{ "current-context: x\ncontexts: []\n", "context 'x' not found" },
		{ "current-context: x\ncontexts: [{name: x, context: {user: u}}]\n",
		  "names no cluster" },
		{ "current-context: x\ncontexts: [{name: x, context: {cluster: k}}]\n",
		  "cluster 'k' not found in 'clusters'" },
		{ "current-context: x\ncontexts: [{name: x, context: {cluster: k}}]\n"
		  "clusters: [{name: k, cluster: {certificate-authority-data: " CA_B64 "}}]\n",
		  "clusters['k'].cluster.server is missing" },
		{ "current-context: x\ncontexts: [{name: x, context: {cluster: k}}]\n"
		  "clusters: [{name: k, cluster: {server: 'ftp://h'}}]\n",
		  "not an http(s) URL" },
		{ "current-context: x\ncontexts: [{name: x, context: {cluster: k, user: u}}]\n"
		  "clusters: [{name: k, cluster: {server: 'https://h'}}]\n",
		  "user 'u' not found in 'users'" },
		{ "current-context: x\ncontexts: [{name: x, context: {cluster: k}}]\n"
		  "clusters: [{name: k, cluster: {server: 'https://h', "
		  "certificate-authority-data: 'Q0E*UEVN'}}]\n",
		  "certificate-authority-data: invalid base64" },
		{ "current-context: x\ncontexts: [{name: x, context: {cluster: k, user: u}}]\n"
		  "clusters: [{name: k, cluster: {server: 'https://h'}}]\n"
		  "users: [{name: u, user: {client-key-data: 'S0VZ'}}]\n",
		  "must be given together" },
		{ "current-context: x\ncontexts: [{name: x, context: {cluster: k, user: u}}]\n"
		  "clusters: [{name: k, cluster: {server: 'https://h'}}]\n"
		  "users: [{name: u, user: {client-certificate-data: 'Q0VSVC1QRU0'}}]\n",
		  "client-certificate-data: invalid base64" },
		{ "current-context: x\ncontexts: [{name: x, context: {cluster: k, user: u}}]\n"
		  "clusters: [{name: k, cluster: {server: 'https://h'}}]\n"
		  "users: [{name: u, user: {exec: {command: aws}}}]\n",
		  "auth method 'exec' is not supported" },
		{ "current-context: x\ncontexts: [{name: x, context: {cluster: k, user: u}}]\n"
		  "clusters: [{name: k, cluster: {server: 'https://h'}}]\n"
		  "users: [{name: u, user: {auth-provider: {name: gcp}}}]\n",
		  "auth method 'auth-provider' is not supported" },
		{ "current-context: x\ncontexts: [{name: x, context: {cluster: k, user: u}}]\n"
		  "clusters: [{name: k, cluster: {server: 'https://h'}}]\n"
		  "users: [{name: u, user: {username: a, password: b}}]\n",
		  "auth method 'username' is not supported" },
		{ "current-context: x\ncontexts: [{name: x, context: {cluster: k}}]\n"
		  "clusters: [{name: k, cluster: {server: 'https://h', "
		  "insecure-skip-tls-verify: true, certificate-authority-data: " CA_B64 "}}]\n",
		  "cannot both be set" },
		{ "current-context: x\ncontexts: [{name: x, context: {cluster: k, user: u}}]\n"
		  "clusters: [{name: k, cluster: {server: 'https://h'}}]\n"
		  "users: [{name: u, user: {token: '  '}}]\n",
		  "the token is empty" },
		{ "current-context: x\ncontexts: [{name: x, context: 5}]\n",
		  "has no 'context' mapping" },
		{ "current-context: [x\n", "malformed YAML at line" },
		{ "a: b\n  c: d\n", "malformed YAML at line 2" },
		{ "a: &x {b: c}\nd: *x\n", "aliases are not supported" },
		{ "- just\n- a list\n", "not a YAML mapping" },
		{ "", "not a YAML mapping" },
		{ "{? {a: b} : c}\n", "a mapping key must be a scalar" },
		{ "a: b\n---\nc: d\n", "more than one YAML document" },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		struct kapi_config *c = NULL;
		char *err = NULL;
		int r = kapi_config_from_string(v[i].yaml, NULL, &c, &err);

		if (r != -EBADMSG || !err || !strstr(err, v[i].want))
			fail_msg("vector %zu: r=%d err='%s' want '%s'", i, r, err ? err : "(null)",
				 v[i].want);
		assert_null(c);
		free(err);
	}
}

static void test_in_cluster(void **state)
{
	_cleanup_(kapi_config_freep) struct kapi_config *c = NULL, *c6 = NULL;
	struct kapi_config *none = NULL;

	(void)state;
	write_file("ca.crt", "CA-FILE");
	unsetenv("KUBERNETES_SERVICE_HOST");
	assert_int_equal(kapi_config_in_cluster(tmpdir, &none), -ENOENT);
	setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	assert_int_equal(kapi_config_in_cluster(tmpdir, &c), 0);
	assert_string_equal(kapi_config_server(c), "https://10.96.0.1:443");
	assert_string_equal(c->token, "tok-from-file");
	assert_string_equal((char *)c->ca.data, "CA-FILE");
	setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
	assert_int_equal(kapi_config_in_cluster(tmpdir, &c6), 0);
	assert_string_equal(kapi_config_server(c6), "https://[fd00::1]:443");
	assert_int_equal(kapi_config_in_cluster("/nonexistent", &none), -ENOENT);
	assert_null(none);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inline_data_current_context),
		cmocka_unit_test(test_file_paths_relative_to_base_dir),
		cmocka_unit_test(test_load_from_file_resolves_against_its_folder),
		cmocka_unit_test(test_missing_file_is_enoent),
		cmocka_unit_test(test_token_inline_anonymous_user),
		cmocka_unit_test(test_bad_kubeconfigs),
		cmocka_unit_test(test_in_cluster),
	};
	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
