/* calico-c-policy-probe: the responder and prober of the policy tests.
 *
 *   serve [--ready FILE] PORT...     TCP, UDP (and SCTP if the kernel has it)
 *                                    on each port, IPv4 and IPv6: TCP/SCTP send
 *                                    "ok\n" then echo; UDP answers "ok" to each
 *                                    datagram
 *   check [--timeout MS] [--source-port N] SPEC...
 *                                    SPEC = tcp|udp|sctp:ADDR:PORT, ADDR IPv4
 *                                    or IPv6, bare or in brackets (the port after
 *                                    the last ':'); all probes run at once (from
 *                                    source port N when given); prints
 *                                    "SPEC ok|fail" each
 *   hold [--ms N] [--ready FILE] tcp:IP:PORT
 *                                    one connection kept busy (a byte echoed
 *                                    every 50 ms) for N ms; exit 0 if it never
 *                                    stalls for more than a second
 *
 * Test-only tool: single-threaded, poll() driven, bounded by timeouts.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_FDS 4096

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int touch(const char *path)
{
	int fd;

	if (!path)
		return 0;
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/* An address of either family and its length, for connect(). */
struct target {
	struct sockaddr_storage sa;
	socklen_t len;
};

static int parse_spec(const char *spec, int *ret_type, int *ret_proto, struct target *ret)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ret->sa;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ret->sa;
	char buf[80], *ip, *port;
	uint16_t p;

	if (strlen(spec) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, spec);
	ip = strchr(buf, ':');
	port = strrchr(buf, ':');
	if (!ip || port == ip)
		return -EINVAL;
	*ip++ = '\0';
	*port++ = '\0';
	if (*ip == '[' && port - ip > 2 && port[-2] == ']') { /* [IPv6]:port */
		ip++;
		port[-2] = '\0';
	}
	p = htons((uint16_t)atoi(port));
	memset(ret, 0, sizeof(*ret));
	if (inet_pton(AF_INET, ip, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = p;
		ret->len = sizeof(*s4);
	} else if (inet_pton(AF_INET6, ip, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = p;
		ret->len = sizeof(*s6);
	} else {
		return -EINVAL;
	}
	if (strcmp(buf, "tcp") == 0)
		*ret_type = SOCK_STREAM, *ret_proto = IPPROTO_TCP;
	else if (strcmp(buf, "udp") == 0)
		*ret_type = SOCK_DGRAM, *ret_proto = IPPROTO_UDP;
	else if (strcmp(buf, "sctp") == 0)
		*ret_type = SOCK_STREAM, *ret_proto = IPPROTO_SCTP;
	else
		return -EINVAL;
	return 0;
}

/* ---- serve ---- */

struct server {
	struct pollfd fds[MAX_FDS];
	int kind[MAX_FDS]; /* 0 listener, 1 udp, 2 client */
	int n;
};

static int add_fd(struct server *s, int fd, int kind)
{
	if (s->n >= MAX_FDS) {
		close(fd);
		return -ENOSPC;
	}
	s->fds[s->n] = (struct pollfd){ .fd = fd, .events = POLLIN };
	s->kind[s->n++] = kind;
	return 0;
}

/* One socket for both families (IPv4 as v4-mapped addresses); IPv4 only
 * on a kernel without IPv6. */
static int listen_on(struct server *s, int type, int proto, uint16_t port)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons(port) };
	int one = 1, zero = 0, fd = socket(AF_INET6, type | SOCK_CLOEXEC | SOCK_NONBLOCK, proto);
	bool six = fd >= 0;

	if (!six && errno == EAFNOSUPPORT)
		fd = socket(AF_INET, type | SOCK_CLOEXEC | SOCK_NONBLOCK, proto);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (six)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, six ? (struct sockaddr *)&a6 : (struct sockaddr *)&a4,
		 six ? sizeof(a6) : sizeof(a4)) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 512) < 0)) {
		int r = -errno;

		close(fd);
		return r;
	}
	return add_fd(s, fd, type == SOCK_STREAM ? 0 : 1);
}

static void serve_event(struct server *s, int i)
{
	char buf[2048];
	struct sockaddr_storage from;
	socklen_t fl = sizeof(from);
	ssize_t n;
	int c;

	if (s->kind[i] == 0) {
		c = accept4(s->fds[i].fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (c >= 0 && write(c, "ok\n", 3) == 3)
			(void)add_fd(s, c, 2);
		else if (c >= 0)
			close(c);
	} else if (s->kind[i] == 1) {
		n = recvfrom(s->fds[i].fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		if (n >= 0)
			(void)sendto(s->fds[i].fd, "ok", 2, 0, (struct sockaddr *)&from, fl);
	} else {
		n = read(s->fds[i].fd, buf, sizeof(buf));
		if (n > 0 && write(s->fds[i].fd, buf, (size_t)n) == n)
			return;
		if (n < 0 && errno == EAGAIN)
			return;
		close(s->fds[i].fd);
		s->fds[i] = s->fds[s->n - 1];
		s->kind[i] = s->kind[s->n - 1];
		s->n--;
	}
}

static int cmd_serve(int argc, char **argv)
{
	static struct server s;
	const char *ready = NULL;
	int i = 0, r;

	if (argc > 1 && strcmp(argv[0], "--ready") == 0) {
		ready = argv[1];
		i = 2;
	}
	for (; i < argc; i++) {
		uint16_t port = (uint16_t)atoi(argv[i]);

		if (listen_on(&s, SOCK_STREAM, IPPROTO_TCP, port) < 0 ||
		    listen_on(&s, SOCK_DGRAM, IPPROTO_UDP, port) < 0) {
			fprintf(stderr, "serve: port %u: %s\n", port, strerror(errno));
			return 1;
		}
		r = listen_on(&s, SOCK_STREAM, IPPROTO_SCTP, port);
		if (r < 0 && r != -EPROTONOSUPPORT && r != -ESOCKTNOSUPPORT)
			fprintf(stderr, "serve: sctp port %u: %s\n", port, strerror(-r));
	}
	if (touch(ready) < 0)
		return 1;
	for (;;) {
		if (poll(s.fds, (nfds_t)s.n, -1) < 0 && errno != EINTR)
			return 1;
		for (int k = s.n - 1; k >= 0; k--)
			if (s.fds[k].revents)
				serve_event(&s, k);
	}
}

/* ---- check ---- */

enum probe_state { P_CONNECTING, P_READING, P_OK, P_FAIL };

struct probe {
	const char *spec;
	int fd;
	enum probe_state st;
};

/* Binds @fd to source port @sport of any address of @family (several
 * probes share it: each has its own destination). */
static int bind_sport(int fd, int family, uint16_t sport)
{
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons(sport) };
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(sport) };
	int one = 1;

	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
		return -errno;
	if (family == AF_INET6 ? bind(fd, (struct sockaddr *)&a6, sizeof(a6))
			       : bind(fd, (struct sockaddr *)&a4, sizeof(a4)))
		return -errno;
	return 0;
}

static void probe_start(struct probe *p, uint16_t sport)
{
	struct target a;
	int type, proto;

	p->st = P_FAIL;
	if (parse_spec(p->spec, &type, &proto, &a) < 0)
		return;
	p->fd = socket(a.sa.ss_family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, proto);
	if (p->fd < 0)
		return;
	if (sport && bind_sport(p->fd, a.sa.ss_family, sport) < 0)
		return;
	if (connect(p->fd, (struct sockaddr *)&a.sa, a.len) < 0 && errno != EINPROGRESS)
		return;
	if (type == SOCK_DGRAM) {
		p->st = send(p->fd, "x", 1, 0) == 1 ? P_READING : P_FAIL;
		return;
	}
	p->st = P_CONNECTING;
}

static void probe_event(struct probe *p, short revents)
{
	char buf[8];
	int err = 0;
	socklen_t el = sizeof(err);

	if (p->st == P_CONNECTING) {
		if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err)
			p->st = P_FAIL;
		else if (revents & POLLOUT)
			p->st = P_READING;
		return;
	}
	if (p->st == P_READING)
		p->st = recv(p->fd, buf, sizeof(buf), 0) >= 2 && buf[0] == 'o' ? P_OK : P_FAIL;
}

static int cmd_check(int argc, char **argv)
{
	static struct probe probes[MAX_FDS];
	static struct pollfd pfd[MAX_FDS];
	long timeout = 500, deadline;
	uint16_t sport = 0;
	int n = 0, i = 0;

	for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		if (strcmp(argv[i], "--timeout") == 0)
			timeout = atol(argv[i + 1]);
		else if (strcmp(argv[i], "--source-port") == 0)
			sport = (uint16_t)atoi(argv[i + 1]);
		else
			return 2;
	}
	for (; i < argc && n < MAX_FDS; i++) {
		probes[n] = (struct probe){ .spec = argv[i], .fd = -1 };
		probe_start(&probes[n++], sport);
	}
	deadline = now_ms() + timeout;
	for (long left; (left = deadline - now_ms()) > 0;) {
		int active = 0;

		for (int k = 0; k < n; k++) {
			bool busy = probes[k].st == P_CONNECTING || probes[k].st == P_READING;

			pfd[k] = (struct pollfd){ .fd = busy ? probes[k].fd : -1,
						  .events = probes[k].st == P_CONNECTING ? POLLOUT : POLLIN };
			active += busy;
		}
		if (!active || poll(pfd, (nfds_t)n, (int)left) < 0)
			break;
		for (int k = 0; k < n; k++)
			if (pfd[k].fd >= 0 && pfd[k].revents)
				probe_event(&probes[k], pfd[k].revents);
	}
	for (int k = 0; k < n; k++) {
		printf("%s %s\n", probes[k].spec, probes[k].st == P_OK ? "ok" : "fail");
		if (probes[k].fd >= 0)
			close(probes[k].fd);
	}
	return 0;
}

/* ---- hold ---- */

static bool wait_in(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

static int cmd_hold(int argc, char **argv)
{
	const char *ready = NULL, *spec = NULL;
	long ms = 3000, end;
	struct target a;
	int type, proto, fd, n_echo = 0;
	char buf[8];

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--ms") == 0 && i + 1 < argc)
			ms = atol(argv[++i]);
		else if (strcmp(argv[i], "--ready") == 0 && i + 1 < argc)
			ready = argv[++i];
		else
			spec = argv[i];
	}
	if (!spec || parse_spec(spec, &type, &proto, &a) < 0 || type != SOCK_STREAM)
		return 2;
	fd = socket(a.sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, proto);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a.sa, a.len) < 0)
		return 1;
	if (!wait_in(fd, 1000) || recv(fd, buf, 3, 0) != 3 || touch(ready) < 0)
		return 1;
	for (end = now_ms() + ms; now_ms() < end; n_echo++) {
		if (send(fd, "e", 1, 0) != 1 || !wait_in(fd, 1000) || recv(fd, buf, 1, 0) != 1) {
			fprintf(stderr, "hold: stalled after %d echoes\n", n_echo);
			return 1;
		}
		usleep(50000);
	}
	printf("hold: %d echoes\n", n_echo);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s serve|check|hold ...\n", argv[0]);
		return 2;
	}
	if (strcmp(argv[1], "serve") == 0)
		return cmd_serve(argc - 2, argv + 2);
	if (strcmp(argv[1], "check") == 0)
		return cmd_check(argc - 2, argv + 2);
	if (strcmp(argv[1], "hold") == 0)
		return cmd_hold(argc - 2, argv + 2);
	return 2;
}
