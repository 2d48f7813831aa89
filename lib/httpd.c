/* HTTP/1.0 health and metrics server (see httpd.h). Each connection reads
 * its request head into a fixed buffer (allocated when the first bytes
 * come), gets its whole response rendered at once, writes it as the socket
 * accepts and closes.
 *
 * Idle connections must not starve the kubelet's probes (issue 18: 40 idle
 * connections held for 5 s each made /liveness fail). So a connection has
 * HTTPD_HEAD_TIMEOUT_MS to send its request head; its head is read as soon
 * as it is accepted; HTTPD_MAX_CONNS is large (an idle one costs a socket
 * and ~100 bytes) and the listen backlog too, so that a client that keeps
 * many connections open leaves room for a probe's connect; and at the cap
 * a new connection evicts the oldest one still waiting for its head instead
 * of being refused, so a flood of idle connections only displaces itself.
 * Only connections writing an answer (a request was served) count against
 * the cap for good. A probe loses only to a client churning more than
 * HTTPD_MAX_CONNS + HTTPD_BACKLOG connections, and then only a SYN retry.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cleanup.h"
#include "evloop.h"
#include "httpd.h"
#include "metrics.h"
#include "log.h"

struct httpd_conn {
	struct httpd *srv;
	int fd;
	struct evloop_io *io;
	struct evloop_timer *timer;
	char *req; /* HTTPD_MAX_REQUEST bytes once the client sends something */
	size_t req_len;
	struct metrics_buf resp; /* response being written */
	size_t sent;
	struct httpd_conn *next;
};

/* Owner: felix-c's agent. */
struct httpd {
	struct evloop *loop;
	int fd;
	struct evloop_io *io;
	httpd_handler handler;
	void *userdata;
	struct httpd_conn *conns;
	size_t n_conns;
	unsigned long evicted; /* idle connections closed to make room */
};

int httpd_parse_request(const char *buf, size_t len, char ret_method[static 8], char *ret_path,
			size_t path_size)
{
	const char *eol = memchr(buf, '\n', len), *sp1, *sp2, *end;
	size_t n;

	if (!eol)
		return len >= HTTPD_MAX_REQUEST ? -E2BIG : -EAGAIN;
	sp1 = memchr(buf, ' ', eol - buf);
	if (!sp1 || sp1 == buf || sp1 - buf >= 8)
		return -EINVAL;
	sp2 = memchr(sp1 + 1, ' ', eol - sp1 - 1);
	/* @buf is not a string: compare only bytes of the request line. */
	if (!sp2 || eol - sp2 - 1 < 7 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0 || sp1[1] != '/')
		return -EINVAL;
	end = memchr(sp1 + 1, '?', sp2 - sp1 - 1);
	if (!end)
		end = sp2;
	n = end - sp1 - 1;
	if (n >= path_size)
		return -E2BIG;
	/* The head ends with an empty line; HTTP/1.0 clients may send "\n\n". */
	if (!memmem(buf, len, "\r\n\r\n", 4) && !memmem(buf, len, "\n\n", 2))
		return len >= HTTPD_MAX_REQUEST ? -E2BIG : -EAGAIN;
	memcpy(ret_method, buf, sp1 - buf);
	ret_method[sp1 - buf] = '\0';
	memcpy(ret_path, sp1 + 1, n);
	ret_path[n] = '\0';
	return 0;
}

static void conn_free(struct httpd_conn *c)
{
	struct httpd_conn **p;

	for (p = &c->srv->conns; *p && *p != c; p = &(*p)->next)
		;
	if (*p)
		*p = c->next;
	c->srv->n_conns--;
	evloop_io_free(c->io);
	evloop_timer_free(c->timer);
	safe_close(c->fd);
	metrics_buf_done(&c->resp);
	free(c->req);
	free(c);
}

static const char *status_text(int code)
{
	switch (code) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 431:
		return "Request Header Fields Too Large";
	case 503:
		return "Service Unavailable";
	default:
		return "Internal Server Error";
	}
}

static void conn_respond(struct httpd_conn *c, int code, const char *type, struct metrics_buf *body,
			 bool head)
{
	metrics_printf(&c->resp,
		       "HTTP/1.0 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		       "Connection: close\r\n\r\n",
		       code, status_text(code), type, body ? body->len : 0);
	if (body && body->len && !head)
		metrics_printf(&c->resp, "%.*s", (int)body->len, body->s);
	if (c->resp.error) { /* no memory for the answer: just close */
		conn_free(c);
		return;
	}
	(void)evloop_io_set_events(c->io, EPOLLOUT);
	evloop_timer_arm(c->timer, HTTPD_TIMEOUT_MS); /* the answer's own budget */
}

static void conn_handle(struct httpd_conn *c)
{
	struct metrics_buf body = {};
	const char *type = "text/plain; charset=utf-8";
	char method[8], path[256];
	int r, code;

	r = httpd_parse_request(c->req, c->req_len, method, path, sizeof(path));
	/* The buffer keeps a byte for the NUL, so the parser's own limit
	 * (HTTPD_MAX_REQUEST bytes) is never reached: full means too large. */
	if (r == -EAGAIN && c->req_len == HTTPD_MAX_REQUEST - 1)
		r = -E2BIG;
	if (r == -EAGAIN)
		return;
	if (r < 0) {
		metrics_printf(&body, "%s\n", r == -E2BIG ? "request too large" : "bad request");
		conn_respond(c, r == -E2BIG ? 431 : 400, type, &body, false);
	} else if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		metrics_printf(&body, "only GET and HEAD\n");
		conn_respond(c, 405, type, &body, false);
	} else {
		code = c->srv->handler(path, &body, &type, c->srv->userdata);
		if (body.error)
			code = 500, body.len = 0;
		conn_respond(c, code, type, &body, strcmp(method, "HEAD") == 0);
	}
	metrics_buf_done(&body);
}

static void conn_io(struct evloop_io *io, int fd, uint32_t revents, void *userdata)
{
	struct httpd_conn *c = userdata;
	ssize_t n;

	(void)io;
	if (c->resp.len) { /* writing */
		n = write(fd, c->resp.s + c->sent, c->resp.len - c->sent);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0 || (c->sent += (size_t)n) == c->resp.len)
			conn_free(c);
		return;
	}
	if (!(revents & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	if (!c->req && !(c->req = malloc(HTTPD_MAX_REQUEST))) {
		conn_free(c);
		return;
	}
	n = read(fd, c->req + c->req_len, HTTPD_MAX_REQUEST - 1 - c->req_len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_free(c);
		return;
	}
	c->req_len += (size_t)n;
	c->req[c->req_len] = '\0';
	conn_handle(c);
}

static void conn_timeout(struct evloop_timer *t, void *userdata)
{
	(void)t;
	conn_free(userdata);
}

/* The connection waiting longest for its request head (the list is newest
 * first), or NULL when every one is answering. */
static struct httpd_conn *oldest_waiting(const struct httpd *s)
{
	struct httpd_conn *found = NULL;

	for (struct httpd_conn *c = s->conns; c; c = c->next)
		if (!c->resp.len)
			found = c;
	return found;
}

/* Return: false when @cfd was not taken (closed). */
static bool conn_new(struct httpd *s, int cfd)
{
	struct httpd_conn *c, *victim;
	char peek;

	if (s->n_conns >= HTTPD_MAX_CONNS) {
		victim = oldest_waiting(s);
		if (!victim) {
			safe_close(cfd);
			return false;
		}
		s->evicted++;
		log_debug("HTTP: %zu connections open, closing the oldest idle one", s->n_conns);
		conn_free(victim);
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		safe_close(cfd);
		return false;
	}
	c->srv = s;
	c->fd = cfd;
	c->next = s->conns;
	s->conns = c;
	s->n_conns++;
	if (evloop_io_add(s->loop, cfd, EPOLLIN, conn_io, c, &c->io) < 0 ||
	    evloop_timer_add(s->loop, conn_timeout, c, &c->timer) < 0) {
		conn_free(c);
		return false;
	}
	evloop_timer_arm(c->timer, HTTPD_HEAD_TIMEOUT_MS);
	if (recv(cfd, &peek, 1, MSG_PEEK) > 0) /* the head usually came with the connect */
		conn_io(c->io, cfd, EPOLLIN, c);
	return true;
}

static void srv_accept(struct evloop_io *io, int fd, uint32_t revents, void *userdata)
{
	struct httpd *s = userdata;

	(void)io;
	(void)revents;
	/* A few per wakeup: the requests of those accepted are read (by
	 * other events of the same turn) before more can push them out. */
	for (int i = 0; i < HTTPD_ACCEPT_BATCH; i++) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct httpd_conn *victim;

		if (cfd < 0 && (errno == EMFILE || errno == ENFILE) && (victim = oldest_waiting(s)))
			conn_free(victim); /* out of descriptors: an idle one makes room */
		if (cfd < 0)
			return;
		(void)conn_new(s, cfd);
	}
}

int httpd_listen(const char *host, uint16_t port, int *ret_fd)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	_cleanup_close_ int fd = -1;
	int one = 1;

	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return -EINVAL;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, HTTPD_BACKLOG) < 0)
		return -errno;
	*ret_fd = TAKE_FD(fd);
	return 0;
}

int httpd_new(struct evloop *l, const char *host, uint16_t port, httpd_handler h, void *userdata,
	      struct httpd **ret)
{
	_cleanup_close_ int fd = -1;
	struct httpd *s;
	int r;

	r = httpd_listen(host, port, &fd);
	if (r < 0)
		return r;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	*s = (struct httpd){ .loop = l, .fd = fd, .handler = h, .userdata = userdata };
	r = evloop_io_add(l, fd, EPOLLIN, srv_accept, s, &s->io);
	if (r < 0) {
		free(s);
		return r;
	}
	TAKE_FD(fd);
	*ret = s;
	return 0;
}

struct httpd *httpd_free(struct httpd *s)
{
	if (!s)
		return NULL;
	while (s->conns)
		conn_free(s->conns);
	evloop_io_free(s->io);
	safe_close(s->fd);
	free(s);
	return NULL;
}

size_t httpd_conns(const struct httpd *s)
{
	return s->n_conns;
}

unsigned long httpd_evicted(const struct httpd *s)
{
	return s->evicted;
}
