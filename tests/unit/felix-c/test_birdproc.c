/* birdproc: which pid in a pid file is our BIRD. The command-line rule as
 * vectors (issue 17: a stale bird.pid naming any other process, a felix-c
 * thread for one, stopped BGP for good), then birdproc_running() against
 * real processes: this test itself (not BIRD: file removed), a dead pid,
 * and a child whose command line is BIRD's with our socket. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "felix-c/birdproc.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define SOCK "/var/lib/calico-c/bird.ctl"

extern char **environ;

static void test_cmdline_vectors(void **state)
{
	/* Written with '|' for NUL; every argument ends with one. */
	static const struct {
		const char *cmdline, *bird;
		bool want;
	} v[] = {
		{ "bird|-R|-c|/s/bird.cfg|-s|" SOCK "|-P|/s/bird.pid|", "bird", true },
		{ "/usr/sbin/bird|-R|-s|" SOCK "|", "bird", true },
		{ "bird|-s|" SOCK "|", "/usr/sbin/bird", true },
		{ "bird|-R|-c|/s/bird.cfg|-s|/other/bird.ctl|", "bird", false }, /* another node's */
		{ "bird|-R|-c|" SOCK "|", "bird", false },	/* the path, not after -s */
		{ "bird|" SOCK "|-s|", "bird", false },
		{ "bird|-s|" SOCK "x|", "bird", false },
		{ "felix-c|--config|f|", "bird", false },	/* a felix-c thread */
		{ "bird2|-s|" SOCK "|", "bird", false },
		{ "sh|-c|bird -s " SOCK "|", "bird", false },
		{ "bird|-s|" SOCK, "bird", false },	/* cut short: no final NUL */
		{ "", "bird", false },			/* kernel thread or zombie */
	};
	char buf[256];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		size_t len = strlen(v[i].cmdline);

		memcpy(buf, v[i].cmdline, len);
		for (size_t k = 0; k < len; k++)
			if (buf[k] == '|')
				buf[k] = '\0';
		if (birdproc_cmdline_is_ours(buf, len, v[i].bird, SOCK) != v[i].want)
			fail_msg("vector %zu '%s': want %d", i, v[i].cmdline, v[i].want);
	}
}

static void write_pidfile(const char *path, long pid)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fprintf(f, "%ld\n", pid);
	fclose(f);
}

/* Until @pid runs its new program (argv[0] "bird"), at most 5 s. */
static void wait_exec(pid_t pid)
{
	char path[64], buf[8] = "";

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	for (int i = 0; i < 500 && strcmp(buf, "bird") != 0; i++) {
		FILE *f = fopen(path, "r");

		if (f) {
			size_t n = fread(buf, 1, sizeof(buf) - 1, f);

			buf[n] = '\0';
			fclose(f);
		}
		if (strcmp(buf, "bird") != 0)
			usleep(10000);
	}
	assert_string_equal(buf, "bird");
}

static void test_running_checks_the_process(void **state)
{
	char dir[] = "/tmp/test_birdproc.XXXXXX", pidfile[64];
	char *argv[] = { "bird", "-c", "sleep 30; :", "-s", SOCK, NULL };
	pid_t child, dead;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(pidfile, sizeof(pidfile), "%s/bird.pid", dir);

	assert_int_equal(birdproc_running(pidfile, "bird", SOCK), 0); /* no file */
	/* Alive but not BIRD (this test, as a felix-c thread would be): the
	 * stale file goes. */
	write_pidfile(pidfile, (long)getpid());
	assert_int_equal(birdproc_running(pidfile, "bird", SOCK), 0);
	assert_int_equal(access(pidfile, F_OK), -1);
	/* A dead pid. */
	dead = fork();
	assert_true(dead >= 0);
	if (dead == 0)
		_exit(0);
	assert_int_equal(waitpid(dead, NULL, 0), dead);
	write_pidfile(pidfile, (long)dead);
	assert_int_equal(birdproc_running(pidfile, "bird", SOCK), 0);
	/* A process whose command line is BIRD's with our socket. */
	assert_int_equal(posix_spawn(&child, "/bin/sh", NULL, NULL, argv, environ), 0);
	wait_exec(child);
	write_pidfile(pidfile, (long)child);
	assert_int_equal(birdproc_running(pidfile, "/usr/sbin/bird", SOCK), child);
	assert_int_equal(birdproc_running(pidfile, "bird", "/other/bird.ctl"), 0);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	unlink(pidfile);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cmdline_vectors),
		cmocka_unit_test(test_running_checks_the_process),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
