/* calico-c's per-container lock files (cni-plugin/lock.h): the name is a
 * fixed-length hash under <state_dir>/containers, whatever the container
 * ID holds; the lock is exclusive across processes; a removed lock file is
 * not taken (a waiter on it takes the new one). Files in a private
 * temporary folder.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "cni-plugin/lock.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void test_lock_path_is_a_hash_of_the_id(void **state)
{
	static const struct {
		const char *dir, *id;
		int want;
		const char *want_path; /* NULL: not checked */
	} v[] = {
		/* SHA-1("abc") */
		{ "/run/calico-c", "abc", 0,
		  "/run/calico-c/containers/a9993e364706816aba3e25717850c26c9cd0d89d" },
		{ "/s", "../../etc/passwd", 0, NULL },
		{ "/s", "", -EINVAL, NULL },
		{ "/s", NULL, -EINVAL, NULL },
		{ "", "abc", -EINVAL, NULL },
	};
	char buf[PATH_MAX];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		int r = plugin_lock_path(v[i].dir, v[i].id, buf, sizeof(buf));

		assert_int_equal(r, v[i].want);
		if (r == 0 && v[i].want_path)
			assert_string_equal(buf, v[i].want_path);
		if (r == 0) {
			const char *name = strrchr(buf, '/') + 1;

			/* One file in the containers folder, 40 hex digits. */
			assert_int_equal(strlen(name), 40);
			assert_int_equal(strspn(name, "0123456789abcdef"), 40);
			assert_int_equal(name - buf, strlen(v[i].dir) + strlen("/containers/"));
		}
	}
	assert_int_equal(plugin_lock_path("/s", "abc", buf, 20), -ENAMETOOLONG);
}

static void test_lock_path_differs_per_container(void **state)
{
	char a[PATH_MAX], b[PATH_MAX], c[PATH_MAX];

	(void)state;
	assert_int_equal(plugin_lock_path("/s", "containerd-1", a, sizeof(a)), 0);
	assert_int_equal(plugin_lock_path("/s", "containerd-2", b, sizeof(b)), 0);
	assert_int_equal(plugin_lock_path("/s", "containerd-1", c, sizeof(c)), 0);
	assert_string_not_equal(a, b);
	assert_string_equal(a, c);
}

/* Whether another process could take the lock of @id right now. */
static bool free_in_child(const char *dir, const char *id)
{
	char path[PATH_MAX];
	pid_t pid;
	int st;

	assert_int_equal(plugin_lock_path(dir, id, path, sizeof(path)), 0);
	pid = fork();
	if (pid == 0) {
		int fd = open(path, O_RDWR | O_CLOEXEC);

		_exit(fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0 ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static void test_lock_is_exclusive_and_removed_by_del(void **state)
{
	char dir[] = "/tmp/test-lock-XXXXXX", path[PATH_MAX], sub[64];
	int fd = -1, fd2 = -1;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/state", dir);
	/* The state folder and its containers folder are made on first use. */
	assert_int_equal(plugin_lock_take(sub, "c1", &fd), 0);
	assert_false(free_in_child(sub, "c1"));
	assert_int_equal(plugin_lock_take(sub, "c2", &fd2), 0); /* another container: no wait */
	close(fd2);
	assert_int_equal(plugin_lock_remove(sub, "c1", fd), 0);
	assert_int_equal(plugin_lock_path(sub, "c1", path, sizeof(path)), 0);
	assert_int_equal(access(path, F_OK), -1);
	/* Removing again (the file is no longer the held one) is a no-op. */
	assert_int_equal(plugin_lock_remove(sub, "c1", fd), 0);
	close(fd);
	/* The next call makes a new file and holds it. */
	assert_int_equal(plugin_lock_take(sub, "c1", &fd), 0);
	assert_int_equal(access(path, F_OK), 0);
	assert_false(free_in_child(sub, "c1"));
	close(fd);
	assert_true(free_in_child(sub, "c1"));
	unlink(path);
	assert_int_equal(plugin_lock_path(sub, "c2", path, sizeof(path)), 0);
	unlink(path);
	snprintf(path, sizeof(path), "%s/containers", sub);
	rmdir(path);
	rmdir(sub);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lock_path_is_a_hash_of_the_id),
		cmocka_unit_test(test_lock_path_differs_per_container),
		cmocka_unit_test(test_lock_is_exclusive_and_removed_by_del),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
