// SPDX-License-Identifier: Apache-2.0
/*
 * pause: the sandbox process of the lab's pod sandboxes (tagged as the
 * kubelet's default sandbox image, registry.k8s.io/pause:3.10). It holds the
 * pod's namespaces open, reaps the children it inherits as PID 1, and exits 0
 * on SIGINT or SIGTERM. Built static by tests/lab/build-tools.sh.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void pause_on_stop(int sig)
{
	(void)sig;
	_exit(0);
}

static void pause_on_child(int sig)
{
	int saved = errno;

	(void)sig;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	errno = saved;
}

static int pause_handle(int sig, void (*fn)(int))
{
	struct sigaction sa = { .sa_handler = fn, .sa_flags = SA_RESTART };

	sigemptyset(&sa.sa_mask);
	return sigaction(sig, &sa, NULL) < 0 ? -errno : 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "-v") == 0) {
		puts("pause (calico-c lab) 3.10");
		return 0;
	}
	if (getpid() != 1)
		fprintf(stderr, "pause: warning: not PID 1\n");
	if (pause_handle(SIGINT, pause_on_stop) < 0 || pause_handle(SIGTERM, pause_on_stop) < 0 ||
	    pause_handle(SIGCHLD, pause_on_child) < 0) {
		fprintf(stderr, "pause: sigaction: %s\n", strerror(errno));
		return 1;
	}
	for (;;)
		pause();
}
