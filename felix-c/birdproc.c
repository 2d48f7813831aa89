/* BIRD process handling (see birdproc.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "felix-c/birdproc.h"

extern char **environ;

static bool pid_alive(pid_t pid)
{
	char path[64], buf[512], *p;
	_cleanup_fclose_ FILE *f = NULL;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f || !fgets(buf, sizeof(buf), f))
		return false;
	p = strrchr(buf, ')'); /* the comm field may contain spaces */
	return p && p[1] == ' ' && p[2] != 'Z';
}

pid_t birdproc_running(const char *pidfile)
{
	_cleanup_fclose_ FILE *f = fopen(pidfile, "re");
	int pid = 0;

	if (!f || fscanf(f, "%d", &pid) != 1 || pid <= 0)
		return 0;
	return pid_alive(pid) ? pid : 0;
}

pid_t birdproc_start(const char *bird, const char *config, const char *sock, const char *pidfile)
{
	char *argv[] = { (char *)bird, "-R", "-c", (char *)config, "-s", (char *)sock, "-P",
			 (char *)pidfile, NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, dfl;
	pid_t child, pid = 0;
	int status, r;

	(void)unlink(pidfile);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	/* Our signalfd blocks SIGTERM/SIGINT and we ignore SIGPIPE: BIRD must
	 * get neither, or SIGTERM would never stop it. */
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &dfl);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	r = posix_spawnp(&child, bird, &fa, &attr, argv, environ);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	if (r != 0)
		return -r;
	/* The foreground process exits once the daemon runs (or on a bad config). */
	while (waitpid(child, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return -EINVAL;
	for (int i = 0; i < 100 && !(pid = birdproc_running(pidfile)); i++)
		usleep(10000);
	return pid ? pid : -ESRCH;
}
