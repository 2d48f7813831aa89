/* felix-c's CNI service socket (lib/cnisock.h), both ends: a plugin finds
 * "nobody there" (no file, a stale file) as -EHOSTDOWN so it can do the work
 * itself; an answer, an error answer and a server that closes without an
 * answer; a probe reads as -ENODATA on the server; a second server is
 * refused while the first listens, and takes a stale socket over. The server
 * side runs in a forked child. Unix sockets in a private temporary folder.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "cnisock.h"

struct fixture {
	char dir[64];
	char path[128];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/test-cnisock-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/cni.sock", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

enum reply { REPLY_ECHO, REPLY_ERROR, REPLY_CLOSE };

/* A child that serves one exchange on @lfd the @how way, then exits 0 iff
 * the request was {"op":"x"}. */
static pid_t serve_once(int lfd, enum reply how)
{
	pid_t pid = fork();

	if (pid == 0) {
		json_t *req = NULL, *a;
		int fd, ok;

		do
			fd = accept(lfd, NULL, NULL);
		while (fd < 0 && errno == EAGAIN && usleep(1000) == 0);
		ok = fd >= 0 && cnisock_read_request(fd, &req) == 0 &&
		     json_is_string(json_object_get(req, "op")) &&
		     !strcmp(json_string_value(json_object_get(req, "op")), "x");
		if (how == REPLY_ECHO)
			a = json_pack("{sisO}", "code", 0, "echo", req);
		else if (how == REPLY_ERROR)
			a = json_pack("{siss}", "code", 11, "msg", "apiserver down");
		else
			a = NULL;
		if (a)
			ok = ok && cnisock_write_answer(fd, a) == 0;
		_exit(ok ? 0 : 1);
	}
	return pid;
}

static int reap(pid_t pid)
{
	int st = 0;

	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_nobody_there(void **state)
{
	struct fixture *f = *state;
	json_t *req = json_pack("{ss}", "op", "x"), *a = NULL;
	struct cni_error err = {};
	int lfd;

	assert_int_equal(cnisock_call(f->path, req, &a, &err), -EHOSTDOWN);
	assert_false(cnisock_up(f->path));
	assert_int_equal(cnisock_call("", req, &a, &err), -EHOSTDOWN);
	/* A stale socket: bound, then its server went away. */
	lfd = cnisock_listen(f->path);
	assert_true(lfd >= 0);
	assert_true(cnisock_up(f->path));
	close(lfd);
	assert_false(cnisock_up(f->path));
	assert_int_equal(cnisock_call(f->path, req, &a, &err), -EHOSTDOWN);
	assert_int_equal(err.code, 0); /* nothing to report: the caller falls back */
	json_decref(req);
}

static void test_answer_error_and_silence(void **state)
{
	struct fixture *f = *state;
	json_t *req = json_pack("{ss}", "op", "x"), *a = NULL;
	struct cni_error err = {};
	int lfd = cnisock_listen(f->path);
	pid_t pid;

	assert_true(lfd >= 0);
	pid = serve_once(lfd, REPLY_ECHO);
	assert_int_equal(cnisock_call(f->path, req, &a, &err), 0);
	assert_int_equal(reap(pid), 0);
	assert_string_equal(json_string_value(json_object_get(json_object_get(a, "echo"), "op")), "x");
	json_decref(a);
	a = NULL;

	pid = serve_once(lfd, REPLY_ERROR);
	assert_true(cnisock_call(f->path, req, &a, &err) < 0);
	assert_int_equal(reap(pid), 0);
	assert_null(a);
	assert_int_equal(err.code, 11);
	assert_string_equal(err.msg, "apiserver down");

	cni_error_clear(&err);
	pid = serve_once(lfd, REPLY_CLOSE);
	assert_true(cnisock_call(f->path, req, &a, &err) < 0);
	assert_int_equal(reap(pid), 0);
	assert_int_equal(err.code, 11); /* try again: felix-c died mid-call */
	assert_non_null(strstr(err.msg, "did not answer"));
	close(lfd);
	json_decref(req);
}

static void test_probe_and_takeover(void **state)
{
	struct fixture *f = *state;
	int lfd = cnisock_listen(f->path), fd, lfd2;
	json_t *req = NULL;

	assert_true(lfd >= 0);
	/* Another server while the first listens: refused, path untouched. */
	assert_int_equal(cnisock_listen(f->path), -EADDRINUSE);
	assert_true(cnisock_up(f->path));
	/* A probe (connect and close) reads as nothing sent. */
	for (int i = 0; i < 2; i++)
		assert_true(cnisock_up(f->path));
	fd = accept(lfd, NULL, NULL);
	assert_true(fd >= 0);
	assert_int_equal(cnisock_read_request(fd, &req), -ENODATA);
	close(fd);
	fd = accept(lfd, NULL, NULL); /* the second probe of the loop */
	close(fd);
	/* The first went away without cleaning up: the next takes over. */
	close(lfd);
	lfd2 = cnisock_listen(f->path);
	assert_true(lfd2 >= 0);
	assert_true(cnisock_up(f->path));
	close(lfd2);
	/* Not a socket: refused, nothing removed. */
	unlink(f->path);
	fclose(fopen(f->path, "w"));
	assert_int_equal(cnisock_listen(f->path), -EEXIST);
	assert_int_equal(access(f->path, F_OK), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_nobody_there, setup, teardown),
		cmocka_unit_test_setup_teardown(test_answer_error_and_silence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_probe_and_takeover, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
