/* Running a delegated plugin (cni-plugin/delegate.h): config on stdin,
 * CNI_COMMAND set, the delegate's result or its own error back, a missing
 * plugin named; the config fed after the start, or never. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "cni-plugin/delegate.h"

/* A delegated plugin is any executable in CNI_PATH: write two tiny ones. */
static void write_script(const char *dir, const char *name, const char *body)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\n%s\n", body);
	fclose(f);
	assert_int_equal(chmod(path, 0755), 0);
}

static void test_run_passes_config_and_env(void **state)
{
	char dir[] = "/tmp/test-cni-XXXXXX", path[600];
	json_t *cfg = json_pack("{s:s,s:s,s:s}", "cniVersion", "1.0.0", "name", "n", "type", "x");
	struct cni_result *res = NULL;
	struct cni_error err = {};

	(void)state;
	assert_non_null(mkdtemp(dir));
	/* Echo back the address derived from the command and the config name. */
	write_script(dir, "ok-ipam",
		     "cfg=$(cat)\n"
		     "case \"$cfg\" in *'\"name\":\"n\"'*) ;; *) exit 3;; esac\n"
		     "[ \"$CNI_COMMAND\" = ADD ] || exit 0\n"
		     "printf '{\"cniVersion\":\"1.0.0\",\"ips\":[{\"address\":\"10.9.8.7/32\"}]}'");
	write_script(dir, "bad-ipam",
		     "cat >/dev/null; printf '{\"cniVersion\":\"1.0.0\",\"code\":11,"
		     "\"msg\":\"datastore busy\",\"details\":\"retry\"}'; exit 1");
	write_script(dir, "silent-fail", "exit 2");
	snprintf(path, sizeof(path), "/nonexistent:%s", dir);
	setenv("CNI_COMMAND", "DEL", 1);

	assert_int_equal(delegate_run("ok-ipam", path, CNI_COMMAND_ADD, cfg, &res, &err), 0);
	assert_int_equal(res->n_ips, 1);
	assert_int_equal(res->ips[0].address.len, 32);
	res = cni_result_free(res);
	assert_int_equal(delegate_run("ok-ipam", path, CNI_COMMAND_DEL, cfg, NULL, &err), 0);

	assert_int_equal(delegate_run("bad-ipam", path, CNI_COMMAND_ADD, cfg, &res, &err), -EIO);
	assert_int_equal(err.code, 11);
	assert_string_equal(err.msg, "datastore busy");
	assert_string_equal(err.details, "retry");
	assert_null(res);

	cni_error_clear(&err);
	assert_int_equal(delegate_run("silent-fail", path, CNI_COMMAND_ADD, cfg, &res, &err),
			 -EIO);
	assert_int_equal(err.code, CNI_ERR_PLUGIN);
	assert_non_null(strstr(err.msg, "silent-fail"));

	cni_error_clear(&err);
	assert_int_equal(delegate_run("missing", path, CNI_COMMAND_ADD, cfg, &res, &err),
			 -ENOENT);
	assert_non_null(strstr(err.msg, "'missing'"));

	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	assert_int_equal(system(path), 0);
	json_decref(cfg);
	unsetenv("CNI_COMMAND");
}

static void test_feed_later_and_unfed(void **state)
{
	char dir[] = "/tmp/test-cni-XXXXXX", cmd[600];
	json_t *cfg = json_pack("{s:s,s:s,s:s}", "cniVersion", "1.0.0", "name", "late", "type", "x");
	struct cni_result *res = NULL;
	struct cni_error err = {};
	struct delegate *x = NULL;

	(void)state;
	assert_non_null(mkdtemp(dir));
	/* Prints an address only if the config arrived; exits 4 on empty stdin. */
	write_script(dir, "late-ipam",
		     "cfg=$(cat)\n"
		     "[ -n \"$cfg\" ] || exit 4\n"
		     "case \"$cfg\" in *'\"name\":\"late\"'*) ;; *) exit 3;; esac\n"
		     "printf '{\"cniVersion\":\"1.0.0\",\"ips\":[{\"address\":\"10.1.2.3/32\"}]}'");
	assert_int_equal(delegate_start("late-ipam", dir, CNI_COMMAND_ADD, NULL, &x, &err), 0);
	assert_int_equal(delegate_feed(x, cfg), 0);
	assert_int_equal(delegate_feed(x, cfg), -EBADF); /* stdin is closed after one feed */
	assert_int_equal(delegate_wait(x, &res, &err), 0);
	assert_int_equal(res->n_ips, 1);
	res = cni_result_free(res);

	assert_int_equal(delegate_start("late-ipam", dir, CNI_COMMAND_ADD, NULL, &x, &err), 0);
	assert_int_equal(delegate_wait(x, &res, &err), -EIO);
	assert_non_null(strstr(err.msg, "status 4"));
	assert_null(res);

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	json_decref(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_run_passes_config_and_env),
		cmocka_unit_test(test_feed_later_and_unfed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
