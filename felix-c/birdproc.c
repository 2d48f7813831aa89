/* BIRD process handling (see birdproc.h).
 *
 * The pid file lives on the host path with felix-c's state, so it outlives
 * the container and its PID namespace: after a restart the pid in it may
 * name any process of the new namespace (felix-c's own threads included).
 * A pid counts as our BIRD only if that process's command line is BIRD's
 * with our control socket; anything else is a stale file, removed (and
 * logged) so BIRD is started again.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "felix-c/birdproc.h"
#include "fileio.h"
#include "log.h"
#include "proc.h"

#define START_TIMEOUT_MS 5000

#define CMDLINE_MAX 8192

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

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

bool birdproc_cmdline_is_ours(const char *cmdline, size_t len, const char *bird, const char *sock)
{
	const char *end = cmdline + len, *arg = cmdline, *prev = NULL;

	if (!len || cmdline[len - 1] != '\0')
		return false; /* empty (a kernel thread, a zombie) or cut short */
	if (strcmp(base_name(arg), base_name(bird)) != 0)
		return false;
	for (; arg < end; prev = arg, arg += strlen(arg) + 1)
		if (prev && strcmp(prev, "-s") == 0 && strcmp(arg, sock) == 0)
			return true;
	return false;
}

static bool pid_is_our_bird(pid_t pid, const char *bird, const char *sock)
{
	_cleanup_free_ char *cmdline = NULL;
	char path[64];
	size_t len = 0;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	if (fd_read_all(fd, CMDLINE_MAX, &cmdline, &len) < 0)
		len = 0;
	close(fd);
	return birdproc_cmdline_is_ours(cmdline, len, bird, sock);
}

pid_t birdproc_running(const char *pidfile, const char *bird, const char *sock)
{
	_cleanup_fclose_ FILE *f = fopen(pidfile, "re");
	int pid = 0;

	if (!f || fscanf(f, "%d", &pid) != 1 || pid <= 0)
		return 0;
	(void)waitpid(pid, NULL, WNOHANG); /* our child that died: no zombie left */
	if (!pid_alive(pid))
		return 0;
	if (pid_is_our_bird(pid, bird, sock))
		return pid;
	log_warning("BIRD pid file '%s' names pid %d, which is not BIRD with socket '%s' (a "
		    "pid file from an earlier container?): removing it, BIRD will be started",
		    pidfile, pid, sock);
	if (unlink(pidfile) < 0 && errno != ENOENT)
		log_warning_errno(-errno, "Failed to remove the stale pid file '%s': %m", pidfile);
	return 0;
}

pid_t birdproc_start(const char *bird, const char *config, const char *sock, const char *pidfile)
{
	char *argv[] = { (char *)bird, "-f", "-R", "-c", (char *)config, "-s", (char *)sock,
			 "-P", (char *)pidfile, NULL };
	pid_t child, pid = 0;
	int status, r;

	(void)unlink(pidfile);
	/* Only BIRD's stderr is ours: its log, on felix-c's log. Its signal
	 * state is reset, or our signalfd's blocked SIGTERM never stops it. */
	r = proc_spawn(argv, NULL, -1, -1, log_fd(), &child);
	if (r < 0)
		return r;
	/* It writes its pid file once the config is read; it exits on a bad one. */
	for (int i = 0; i < START_TIMEOUT_MS / 10; i++) {
		if (waitpid(child, &status, WNOHANG) == child)
			return -EINVAL;
		pid = birdproc_running(pidfile, bird, sock);
		if (pid)
			return pid;
		usleep(10000);
	}
	(void)kill(child, SIGTERM);
	(void)waitpid(child, &status, 0);
	return -ETIMEDOUT;
}
