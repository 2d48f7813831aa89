/* Starting helper programs with only their stdio (see proc.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>

#include "proc.h"

extern char **environ;

/* @fd onto @target, kept when it is @target already; -1 is left to
 * null_action(), run after every dup2 so that a source below 3 is copied
 * before /dev/null replaces it. */
static void dup_action(posix_spawn_file_actions_t *fa, int fd, int target)
{
	if (fd >= 0 && fd != target)
		posix_spawn_file_actions_adddup2(fa, fd, target);
}

static void null_action(posix_spawn_file_actions_t *fa, int fd, int target, int flags)
{
	if (fd < 0)
		posix_spawn_file_actions_addopen(fa, target, "/dev/null", flags, 0);
}

int proc_spawn(char *const argv[], char *const envp[], int in_fd, int out_fd, int err_fd,
	       pid_t *ret_pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, dfl;
	pid_t pid;
	int r;

	posix_spawn_file_actions_init(&fa);
	dup_action(&fa, in_fd, STDIN_FILENO);
	dup_action(&fa, out_fd, STDOUT_FILENO);
	dup_action(&fa, err_fd, STDERR_FILENO);
	null_action(&fa, in_fd, STDIN_FILENO, O_RDONLY);
	null_action(&fa, out_fd, STDOUT_FILENO, O_WRONLY);
	null_action(&fa, err_fd, STDERR_FILENO, O_WRONLY);
	posix_spawn_file_actions_addclosefrom_np(&fa, STDERR_FILENO + 1);
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &dfl);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	r = posix_spawnp(&pid, argv[0], &fa, &attr, argv, envp ?: environ);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	if (r != 0)
		return -r;
	*ret_pid = pid;
	return 0;
}
