/* Starting helper programs (BIRD, `bird -p`) so that they inherit nothing
 * of ours but their stdio: libcurl's sockets are not close-on-exec, and an
 * apiserver connection we close must not stay open in a child.
 */
#pragma once

#include <sys/types.h>

/**
 * proc_spawn - start @argv[0] as our child with only its stdio
 * @argv: the arguments, NULL-terminated; argv[0] is looked up in PATH unless
 *   it has a '/'
 * @envp: its environment, or NULL for ours
 * @in_fd: the descriptor to become its stdin (may be STDIN_FILENO itself),
 *   or -1 for /dev/null
 * @out_fd: the same for its stdout
 * @err_fd: the same for its stderr (copied in the order stdin, stdout,
 *   stderr: a source below 3 must not be an earlier one's target)
 * @ret_pid: the child's pid, written on success
 *
 * Every descriptor above stderr is closed. Its signal mask is empty and
 * SIGPIPE has its default action, whatever ours (felix-c blocks
 * SIGTERM/SIGINT for its signalfd and ignores SIGPIPE).
 *
 * Return: 0, or -errno (-ENOENT when the program is not found).
 */
int proc_spawn(char *const argv[], char *const envp[], int in_fd, int out_fd, int err_fd,
	       pid_t *ret_pid);
