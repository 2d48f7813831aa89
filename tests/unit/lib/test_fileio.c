/* fd_read_all (lib/fileio.h): everything up to end of file, NUL-terminated,
 * across many reads; more than the limit is -EFBIG; a socket whose receive
 * timeout expires is -ETIMEDOUT (felix-c's CNI service relies on both).
 * dir_make_private: a folder ends 0700-or-less whatever it started as.
 * file_write_atomic/file_copy_atomic: the new file whole with its mode, or
 * the old one untouched, and never a temp file left behind. */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cleanup.h"
#include "fileio.h"

/* A pipe holding @len bytes of a pattern, write end closed. */
static int pipe_with(size_t len)
{
	int p[2];

	assert_int_equal(pipe(p), 0);
	for (size_t i = 0; i < len; i++) {
		char c = (char)('a' + i % 26);

		assert_int_equal(write(p[1], &c, 1), 1);
	}
	close(p[1]);
	return p[0];
}

static void test_reads_to_eof(void **state)
{
	static const size_t lens[] = { 0, 1, 4095, 4096, 4097, 20000 };

	(void)state;
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		int fd = pipe_with(lens[i]);
		char *buf = NULL;
		size_t len = 99;

		assert_int_equal(fd_read_all(fd, 1 << 20, &buf, &len), 0);
		assert_int_equal(len, lens[i]);
		assert_int_equal(strlen(buf), lens[i]);
		for (size_t j = 0; j < len; j++)
			assert_int_equal(buf[j], 'a' + j % 26);
		free(buf);
		close(fd);
	}
}

/* The limit is exact on both sides of every growth step. */
static void test_limit_edges(void **state)
{
	static const struct {
		size_t len, max;
		int want;
	} v[] = {
		{ 0, 0, 0 },	     { 1, 0, -EFBIG },	     { 10, 10, 0 },	   { 11, 10, -EFBIG },
		{ 4096, 4096, 0 },   { 4097, 4096, -EFBIG }, { 4097, 4097, 0 },   { 8194, 8193, -EFBIG },
		{ 8193, 8193, 0 },   { 20000, 19999, -EFBIG },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		int fd = pipe_with(v[i].len);
		char *buf = NULL;
		size_t len = 0;

		assert_int_equal(fd_read_all(fd, v[i].max, &buf, &len), v[i].want);
		if (v[i].want == 0) {
			assert_int_equal(len, v[i].len);
			assert_int_equal(strlen(buf), v[i].len);
			free(buf);
		}
		close(fd);
	}
}

static void test_limit_and_timeout(void **state)
{
	struct timeval tv = { .tv_usec = 50000 };
	char *buf = NULL;
	int fd = pipe_with(5000), sv[2];

	(void)state;
	assert_int_equal(fd_read_all(fd, 4999, &buf, NULL), -EFBIG);
	close(fd);
	fd = pipe_with(5000);
	assert_int_equal(fd_read_all(fd, 5000, &buf, NULL), 0);
	free(buf);
	close(fd);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	assert_int_equal(write(sv[1], "x", 1), 1);
	assert_int_equal(fd_read_all(sv[0], 100, &buf, NULL), -ETIMEDOUT);
	close(sv[0]);
	close(sv[1]);
}

static void test_dir_make_private(void **state)
{
	static const struct {
		int before; /* -1: missing, -2: a regular file */
		int want;
		mode_t after;
	} v[] = {
		{ -1, 1, 0700 },    { 0755, 1, 0700 }, { 0777, 1, 0700 }, { 0750, 1, 0700 },
		{ 0700, 0, 0700 },  { 0500, 0, 0500 }, { 01777, 1, 0700 }, { 0705, 1, 0700 },
		{ -2, -ENOTDIR, 0 },
	};
	char top[] = "/tmp/test_fileio.XXXXXX", path[64], missing[96];
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(top));
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		snprintf(path, sizeof(path), "%s/d%zu", top, i);
		if (v[i].before == -2)
			close(open(path, O_CREAT | O_WRONLY, 0644));
		else if (v[i].before >= 0) {
			assert_int_equal(mkdir(path, 0700), 0);
			assert_int_equal(chmod(path, (mode_t)v[i].before), 0);
		}
		assert_int_equal(dir_make_private(path), v[i].want);
		if (v[i].want >= 0) {
			assert_int_equal(stat(path, &st), 0);
			assert_true(S_ISDIR(st.st_mode));
			assert_int_equal(st.st_mode & 07777, v[i].after);
		}
		if (v[i].before == -2)
			unlink(path);
		else
			rmdir(path);
	}
	snprintf(missing, sizeof(missing), "%s/no/such", top);
	assert_int_equal(dir_make_private(missing), -ENOENT);
	rmdir(top);
}

struct tmp {
	char dir[64];
};

static int tmp_setup(void **state)
{
	struct tmp *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	snprintf(t->dir, sizeof(t->dir), "/tmp/test-fileio-XXXXXX");
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
	assert_int_equal(file_write_atomic(path, "old", 3, 0644), 0);
	assert_int_equal(file_write_atomic(path, "secret", 6, 0600), 0);
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
	assert_int_equal(file_write_atomic(path, "old", 3, 0644), 0);
	assert_int_equal(file_write_atomic(sub, "new", 3, 0644), -EISDIR);
	assert_int_equal(file_read_all(path, 100, &got, NULL), 0);
	assert_string_equal(got, "old");
	assert_int_equal(count_entries(t->dir), 1); /* no temp file left */
	/* A missing folder: nothing is created. */
	snprintf(path, sizeof(path), "%s/missing/x", t->dir);
	assert_int_equal(file_write_atomic(path, "new", 3, 0644), -ENOENT);
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
	assert_int_equal(file_write_atomic(src, big, sizeof(big), 0644), 0);
	assert_int_equal(file_write_atomic(dst, "old", 3, 0600), 0);
	assert_int_equal(file_copy_atomic(src, dst, 0755), 0);
	assert_int_equal(stat(dst, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(file_read_all(dst, sizeof(big), &got, &len), 0);
	assert_int_equal(len, sizeof(big));
	assert_memory_equal(got, big, sizeof(big));
	assert_int_equal(file_read_all(dst, 10, &got, &len), -EFBIG);
	snprintf(src, sizeof(src), "%s/nope", t->dir);
	assert_int_equal(file_copy_atomic(src, dst, 0755), -ENOENT);
	assert_int_equal(count_entries(t->dir), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reads_to_eof),
		cmocka_unit_test(test_limit_edges),
		cmocka_unit_test(test_limit_and_timeout),
		cmocka_unit_test(test_dir_make_private),
		cmocka_unit_test_setup_teardown(test_write_atomic_sets_mode_replaces_and_leaves_no_temp,
						tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_write_atomic_failure_leaves_old_file, tmp_setup,
						tmp_teardown),
		cmocka_unit_test_setup_teardown(test_copy_atomic_copies_bytes_and_mode, tmp_setup,
						tmp_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
