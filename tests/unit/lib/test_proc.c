/* lib/proc: a spawned program gets our chosen stdio and environment
 * (/dev/null for what we do not give), none of our other descriptors (not close-on-exec ones either), an
 * empty signal mask and SIGPIPE at its default; a missing program is
 * -ENOENT. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "fileio.h"
#include "proc.h"

#define LEAK_FD 77

/* Runs `sh -c @script` with stdout and stderr on one pipe; its output. */
static char *run(const char *script, int *ret_status)
{
	char *argv[] = { "sh", "-c", (char *)script, NULL };
	int p[2], status;
	char *out = NULL;
	pid_t pid;

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(proc_spawn(argv, NULL, -1, p[1], p[1], &pid), 0);
	close(p[1]);
	assert_int_equal(fd_read_all(p[0], 1 << 16, &out, NULL), 0);
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	*ret_status = status;
	return out;
}

static void test_child_inherits_only_stdio(void **state)
{
	int fd = open("/dev/null", O_RDONLY), status; /* not close-on-exec */
	char *out;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(dup2(fd, LEAK_FD), LEAK_FD);
	close(fd);
	out = run("ls /proc/$$/fd; readlink /proc/$$/fd/0", &status);
	close(LEAK_FD);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* the shell's 0 1 2 (ls may add its own directory fd 3, not ours) */
	assert_non_null(strstr(out, "0\n1\n2\n"));
	assert_null(strstr(out, "77"));
	assert_non_null(strstr(out, "/dev/null\n"));
	free(out);
}

static void test_child_signal_state_is_default(void **state)
{
	sigset_t term, old;
	struct sigaction ign = { .sa_handler = SIG_IGN }, old_pipe;
	unsigned long long blk, ign_mask;
	int status;
	char *out;

	(void)state;
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	assert_int_equal(sigprocmask(SIG_BLOCK, &term, &old), 0);
	assert_int_equal(sigaction(SIGPIPE, &ign, &old_pipe), 0);
	/* exec: grep reads its own state, the one it got from us (the shell
	 * blocks every signal while it waits for a child, so reading the
	 * shell's from a child raced with that) */
	out = run("exec grep -E '^Sig(Blk|Ign)' /proc/self/status", &status);
	assert_int_equal(sigprocmask(SIG_SETMASK, &old, NULL), 0);
	assert_int_equal(sigaction(SIGPIPE, &old_pipe, NULL), 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(sscanf(out, "SigBlk: %llx SigIgn: %llx", &blk, &ign_mask), 2);
	assert_int_equal(blk, 0);
	/* (signals our own environment ignores may stay ignored) */
	assert_int_equal(ign_mask & (1ull << (SIGPIPE - 1)), 0);
	free(out);
}

static void test_stdout_to_dev_null_and_missing_program(void **state)
{
	char *argv[] = { "sh", "-c", "echo lost", NULL };
	char *missing[] = { "/nonexistent/calico-c-no-such-program", NULL };
	int status;
	pid_t pid;

	(void)state;
	assert_int_equal(proc_spawn(argv, NULL, -1, -1, -1, &pid), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	pid = 4242;
	assert_int_equal(proc_spawn(missing, NULL, -1, -1, -1, &pid), -ENOENT);
	assert_int_equal(pid, 4242);
}

/* Given stdin and environment reach the child: `cat` echoes one, sh the other. */
static void test_child_gets_given_stdin_and_environment(void **state)
{
	char *argv[] = { "/bin/sh", "-c", "cat; echo \"$CALICO_C_TEST\"", NULL };
	char *envp[] = { "CALICO_C_TEST=from-envp", NULL };
	int in[2], out[2], status;
	char *text = NULL;
	pid_t pid;

	(void)state;
	assert_int_equal(pipe2(in, O_CLOEXEC), 0);
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	assert_int_equal(write(in[1], "stdin\n", 6), 6);
	close(in[1]);
	assert_int_equal(proc_spawn(argv, envp, in[0], out[1], -1, &pid), 0);
	close(in[0]);
	close(out[1]);
	assert_int_equal(fd_read_all(out[0], 1 << 16, &text, NULL), 0);
	close(out[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_string_equal(text, "stdin\nfrom-envp\n");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_child_inherits_only_stdio),
		cmocka_unit_test(test_child_signal_state_is_default),
		cmocka_unit_test(test_stdout_to_dev_null_and_missing_program),
		cmocka_unit_test(test_child_gets_given_stdin_and_environment),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
