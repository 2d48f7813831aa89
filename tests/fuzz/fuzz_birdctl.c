/* What BIRD's control socket sends: a real birdctl_show_protocols() call
 * against a socket served from the input (its first line is the greeting,
 * the rest the reply to the command), the reply parsed into protocols and
 * each turned into calicoctl-c's BGP peer. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "bird-config/birdctl.h"
#include "calicoctl-c/bgpstatus.h"

struct serve {
	int listen_fd;
	const uint8_t *data;
	size_t size;
};

static void send_all(int fd, const void *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w <= 0)
			return; /* the client stopped reading */
		p = (const char *)p + w;
		n -= (size_t)w;
	}
}

/* One connection as BIRD serves it: the greeting (the input's first line),
 * the command read, the reply (the rest), then end of stream; reads what
 * the client sends until it closes. */
static void *serve(void *arg)
{
	const struct serve *s = arg;
	const uint8_t *nl = memchr(s->data, '\n', s->size);
	size_t greeting = nl ? (size_t)(nl - s->data) + 1 : s->size;
	char sink[256];
	ssize_t n;
	int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return NULL;
	send_all(fd, s->data, greeting);
	/* Only a "0001" greeting makes the client send its command. */
	n = 1;
	if (nl && greeting >= 5 && memcmp(s->data, "0001", 4) == 0 && memchr(" \n", s->data[4], 2))
		while ((n = read(fd, sink, sizeof(sink))) > 0 && !memchr(sink, '\n', (size_t)n))
			;
	send_all(fd, s->data + greeting, s->size - greeting);
	shutdown(fd, SHUT_WR);
	while (n > 0 && read(fd, sink, sizeof(sink)) > 0)
		;
	close(fd);
	return NULL;
}

static const char *socket_path(int *ret_fd)
{
	static char path[108];
	static int fd = -1;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (fd < 0) {
		snprintf(path, sizeof(path), "/tmp/fuzz-birdctl-%d.sock", (int)getpid());
		unlink(path);
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4) < 0)
			abort();
	}
	*ret_fd = fd;
	return path;
}

static void cleanup(void)
{
	int fd;

	unlink(socket_path(&fd));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool registered;
	struct serve s;
	struct birdctl_status st = {};
	pthread_t t;
	const char *path;

	if (!registered)
		registered = atexit(cleanup) == 0;
	path = socket_path(&s.listen_fd);
	s.data = data;
	s.size = size;
	if (pthread_create(&t, NULL, serve, &s) != 0)
		abort();
	if (birdctl_show_protocols(path, &st) == 0) {
		for (size_t i = 0; i < st.n; i++) {
			struct ctl_bgp_peer peer;

			(void)ctl_bgp_peer_from_proto(&st.protos[i], &peer);
		}
		birdctl_status_done(&st);
	}
	pthread_join(t, NULL);
	return 0;
}
