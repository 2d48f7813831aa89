/* httpd: the pure request-head parser (vectors, each in an exact-size heap
 * buffer so ASan sees any read past @len), then the server itself on
 * 127.0.0.1 driven by evloop_run_once() from the test (no threads). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "evloop.h"
#include "httpd.h"
#include "metrics.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
	const char *in;
	int want;
	const char *method, *path;
} parse_vectors[] = {
	{ "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n", 0, "GET", "/metrics" },
	{ "HEAD /liveness HTTP/1.0\r\n\r\n", 0, "HEAD", "/liveness" },
	{ "GET / HTTP/1.0\n\n", 0, "GET", "/" }, /* bare LF, as some HTTP/1.0 clients */
	{ "GET /metrics?name[]=x&y HTTP/1.1\r\n\r\n", 0, "GET", "/metrics" },
	{ "GET /?a HTTP/1.0\r\n\r\n", 0, "GET", "/" },
	{ "GET /a?b?c HTTP/1.0\r\n\r\n", 0, "GET", "/a" },
	{ "OPTIONS /x HTTP/1.1\r\n\r\n", 0, "OPTIONS", "/x" }, /* 7 bytes: the longest */
	{ "POST /readiness HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 0, "POST", "/readiness" },
	{ "GET /x HTTP/1.0\r\n\r\ntrailing body bytes", 0, "GET", "/x" },
	/* Head not complete yet. */
	{ "", -EAGAIN, NULL, NULL },
	{ "GET /met", -EAGAIN, NULL, NULL },
	{ "GET /metrics HTTP/1.1\r\n", -EAGAIN, NULL, NULL },
	{ "GET /metrics HTTP/1.1\r\nHost: x\r\n", -EAGAIN, NULL, NULL },
	{ "GET /metrics HTTP/1.1\r\nHost: x\r\n\r", -EAGAIN, NULL, NULL },
	/* Malformed request lines, reported as soon as the line is complete. */
	{ "GARBAGE\r\n", -EINVAL, NULL, NULL },
	{ "\r\n\r\n", -EINVAL, NULL, NULL },
	{ " / HTTP/1.0\r\n\r\n", -EINVAL, NULL, NULL },
	{ "GETTING1 / HTTP/1.0\r\n\r\n", -EINVAL, NULL, NULL }, /* method of 8 bytes */
	{ "GET metrics HTTP/1.0\r\n\r\n", -EINVAL, NULL, NULL },
	{ "GET http://h/ HTTP/1.0\r\n\r\n", -EINVAL, NULL, NULL },
	{ "GET / HTTP/2.0\r\n\r\n", -EINVAL, NULL, NULL },
	{ "GET / HTTP/1.\r\n\r\n", 0, "GET", "/" }, /* only "HTTP/1." is checked */
	{ "GET / http/1.1\r\n\r\n", -EINVAL, NULL, NULL },
	{ "GET /\r\n\r\n", -EINVAL, NULL, NULL },	/* HTTP/0.9 */
	{ "GET /a b HTTP/1.0\r\n\r\n", -EINVAL, NULL, NULL },
	{ "GET  / HTTP/1.0\r\n\r\n", -EINVAL, NULL, NULL },
	{ "GET / HTTP\n", -EINVAL, NULL, NULL },
	/* The version is cut by the line's end, which is the buffer's end
	 * (found by tests/fuzz/fuzz_httpreq: compared past the buffer). */
	{ "GET / HTTP/1\n", -EINVAL, NULL, NULL },
	{ "GET / \n", -EINVAL, NULL, NULL },
};

static void test_parse_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(parse_vectors); i++) {
		size_t len = strlen(parse_vectors[i].in);
		char *buf = malloc(len ? len : 1), method[8] = "unset", path[64] = "unset";
		int r;

		assert_non_null(buf);
		memcpy(buf, parse_vectors[i].in, len); /* no NUL: the parser must respect len */
		r = httpd_parse_request(buf, len, method, path, sizeof(path));
		if (r != parse_vectors[i].want)
			fail_msg("vector %zu: got %d, want %d", i, r, parse_vectors[i].want);
		if (r == 0) {
			assert_string_equal(method, parse_vectors[i].method);
			assert_string_equal(path, parse_vectors[i].path);
		} else { /* outputs written only on success */
			assert_string_equal(method, "unset");
			assert_string_equal(path, "unset");
		}
		free(buf);
	}
}

static void test_parse_respects_len(void **state)
{
	const char *req = "GET /metrics HTTP/1.1\r\n\r\n";
	size_t n = strlen(req);
	char method[8], path[64];

	(void)state;
	/* Every proper prefix needs more bytes (or is already malformed: none here). */
	for (size_t len = 0; len < n; len++)
		assert_int_equal(httpd_parse_request(req, len, method, path, sizeof(path)), -EAGAIN);
	assert_int_equal(httpd_parse_request(req, n, method, path, sizeof(path)), 0);
}

static void test_parse_path_size(void **state)
{
	char req[256], method[8], path[16];

	(void)state;
	/* 15 bytes fit a 16-byte buffer with the NUL; 16 do not. */
	snprintf(req, sizeof(req), "GET /%s HTTP/1.0\r\n\r\n", "abcdefghijklmn");
	assert_int_equal(httpd_parse_request(req, strlen(req), method, path, sizeof(path)), 0);
	assert_string_equal(path, "/abcdefghijklmn");
	snprintf(req, sizeof(req), "GET /%s HTTP/1.0\r\n\r\n", "abcdefghijklmno");
	assert_int_equal(httpd_parse_request(req, strlen(req), method, path, sizeof(path)), -E2BIG);
	/* The query does not count. */
	snprintf(req, sizeof(req), "GET /abcdefghijklmn?%s HTTP/1.0\r\n\r\n", "long-query-string");
	assert_int_equal(httpd_parse_request(req, strlen(req), method, path, sizeof(path)), 0);
	assert_string_equal(path, "/abcdefghijklmn");
}

static void test_parse_oversized_head(void **state)
{
	char *buf = malloc(HTTPD_MAX_REQUEST + 10), method[8], path[64];
	const char *line = "GET / HTTP/1.1\r\n";

	(void)state;
	assert_non_null(buf);
	/* No line end within the limit. */
	memset(buf, 'A', HTTPD_MAX_REQUEST + 10);
	memcpy(buf, "GET /", 5);
	assert_int_equal(httpd_parse_request(buf, HTTPD_MAX_REQUEST - 1, method, path, 64), -EAGAIN);
	assert_int_equal(httpd_parse_request(buf, HTTPD_MAX_REQUEST, method, path, 64), -E2BIG);
	/* A valid line, then headers that never end. */
	memcpy(buf, line, strlen(line));
	assert_int_equal(httpd_parse_request(buf, HTTPD_MAX_REQUEST - 1, method, path, 64), -EAGAIN);
	assert_int_equal(httpd_parse_request(buf, HTTPD_MAX_REQUEST + 10, method, path, 64), -E2BIG);
	free(buf);
}

/* ---- the server on 127.0.0.1 ---- */

struct srv {
	struct evloop *loop;
	struct httpd *httpd;
	uint16_t port;
	unsigned calls;
	char last_path[64];
};

static int handler(const char *path, struct metrics_buf *body, const char **ret_type,
		   void *userdata)
{
	struct srv *s = userdata;

	s->calls++;
	snprintf(s->last_path, sizeof(s->last_path), "%s", path);
	if (strcmp(path, "/metrics") == 0) {
		*ret_type = "text/plain; version=0.0.4";
		metrics_sample(body, "up", NULL, 0, 1);
		return 200;
	}
	if (strcmp(path, "/readiness") == 0) {
		metrics_printf(body, "not ready\n");
		return 503;
	}
	metrics_printf(body, "no such page\n");
	return 404;
}

/* A port free right now on 127.0.0.1 (the kernel picks it). */
static uint16_t free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

static int srv_setup(void **state)
{
	struct srv *s = calloc(1, sizeof(*s));
	int r = -1;

	if (!s || evloop_new(&s->loop) < 0)
		return -1;
	for (int attempt = 0; attempt < 5 && r < 0; attempt++) {
		s->port = free_port();
		r = httpd_new(s->loop, "127.0.0.1", s->port, handler, s, &s->httpd);
	}
	if (r < 0)
		return -1;
	*state = s;
	return 0;
}

static int srv_teardown(void **state)
{
	struct srv *s = *state;

	httpd_free(s->httpd);
	evloop_free(s->loop);
	free(s);
	return 0;
}

static int client_connect(const struct srv *s)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(s->port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	/* Completes from the listen backlog; the loop accepts later. */
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	return fd;
}

/* Runs the loop until the server closes @fd's connection (EOF), collecting
 * what it sent into @out; fails after 3 s. Returns the bytes received. */
static size_t run_until_eof(struct srv *s, int fd, char *out, size_t size)
{
	uint64_t deadline = evloop_now_ms() + 3000;
	size_t len = 0;

	for (;;) {
		ssize_t n = read(fd, out + len, size - 1 - len);

		if (n == 0)
			break;
		if (n > 0) {
			len += (size_t)n;
			assert_true(len < size - 1);
			continue;
		}
		if (errno != EAGAIN)
			fail_msg("read: %s (got %zu bytes)", strerror(errno), len);
		if (evloop_now_ms() > deadline)
			fail_msg("no EOF from the server within 3 s (got %zu bytes)", len);
		assert_true(evloop_run_once(s->loop, 20) >= 0);
	}
	out[len] = '\0';
	return len;
}

static void exchange(struct srv *s, const char *req, size_t req_len, char *out, size_t size)
{
	int fd = client_connect(s);

	assert_int_equal(write(fd, req, req_len), (ssize_t)req_len);
	run_until_eof(s, fd, out, size);
	close(fd);
}

static void test_server_get_metrics(void **state)
{
	struct srv *s = *state;
	const char *req = "GET /metrics?x=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
	char out[1024];

	exchange(s, req, strlen(req), out, sizeof(out));
	assert_string_equal(out, "HTTP/1.0 200 OK\r\n"
				 "Content-Type: text/plain; version=0.0.4\r\n"
				 "Content-Length: 5\r\n"
				 "Connection: close\r\n\r\n"
				 "up 1\n");
	assert_string_equal(s->last_path, "/metrics");
	assert_int_equal(httpd_conns(s->httpd), 0);
}

static void test_server_head_has_no_body(void **state)
{
	struct srv *s = *state;
	const char *req = "HEAD /readiness HTTP/1.0\r\n\r\n";
	char out[1024];

	exchange(s, req, strlen(req), out, sizeof(out));
	assert_string_equal(out, "HTTP/1.0 503 Service Unavailable\r\n"
				 "Content-Type: text/plain; charset=utf-8\r\n"
				 "Content-Length: 10\r\n"
				 "Connection: close\r\n\r\n");
}

static void test_server_errors(void **state)
{
	static const struct {
		const char *req, *status;
		bool handler_called;
	} v[] = {
		{ "GET /nope HTTP/1.0\r\n\r\n", "HTTP/1.0 404 Not Found\r\n", true },
		{ "POST /metrics HTTP/1.0\r\n\r\n", "HTTP/1.0 405 Method Not Allowed\r\n", false },
		{ "BREW coffee\r\n\r\n", "HTTP/1.0 400 Bad Request\r\n", false },
	};
	struct srv *s = *state;

	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		unsigned calls = s->calls;
		char out[1024];

		exchange(s, v[i].req, strlen(v[i].req), out, sizeof(out));
		if (strncmp(out, v[i].status, strlen(v[i].status)) != 0)
			fail_msg("'%s': got '%s'", v[i].req, out);
		assert_int_equal(s->calls - calls, v[i].handler_called);
	}
}

static void test_server_request_split_across_writes(void **state)
{
	struct srv *s = *state;
	const char *parts[] = { "GE", "T /metr", "ics HTTP/1.1\r", "\nHost: a\r\n", "\r\n" };
	int fd = client_connect(s);
	char out[1024];

	for (size_t i = 0; i < ARRAY_SIZE(parts); i++) {
		assert_int_equal(write(fd, parts[i], strlen(parts[i])), (ssize_t)strlen(parts[i]));
		for (int k = 0; k < 3; k++) /* let the server read each piece alone */
			assert_true(evloop_run_once(s->loop, 5) >= 0);
	}
	run_until_eof(s, fd, out, sizeof(out));
	close(fd);
	assert_non_null(strstr(out, "\r\n\r\nup 1\n"));
}

static void test_server_oversized_request_gets_431(void **state)
{
	struct srv *s = *state;
	/* Exactly what fits (one byte is kept for a NUL): more would still be
	 * unread when the server closes, and the kernel would answer RST. */
	size_t n = HTTPD_MAX_REQUEST - 1;
	char *req = malloc(n), out[1024];

	assert_non_null(req);
	memcpy(req, "GET / HTTP/1.1\r\nX: ", 19);
	memset(req + 19, 'a', n - 19); /* headers that never end */
	exchange(s, req, n, out, sizeof(out));
	free(req);
	assert_string_equal(out, "HTTP/1.0 431 Request Header Fields Too Large\r\n"
				 "Content-Type: text/plain; charset=utf-8\r\n"
				 "Content-Length: 18\r\n"
				 "Connection: close\r\n\r\n"
				 "request too large\n");
	assert_int_equal(httpd_conns(s->httpd), 0);
}

/* Issue 18: HTTPD_MAX_CONNS + 8 idle connections, then a probe: the probe is
 * answered, the oldest idle connections were closed to make room (EOF for
 * them), never more than HTTPD_MAX_CONNS are open. */
static void test_server_idle_flood_cannot_starve_a_probe(void **state)
{
	enum { FLOOD = HTTPD_MAX_CONNS + 8 };
	struct srv *s = *state;
	int fds[FLOOD], probe;
	uint64_t deadline = evloop_now_ms() + 3000;
	struct rlimit rl;
	char out[256];

	/* Both ends of every connection live in this process. */
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_max < 2 * FLOOD + 64)
		skip();
	rl.rlim_cur = rl.rlim_max;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);

	for (int i = 0; i < FLOOD; i++)
		fds[i] = client_connect(s);
	while (httpd_evicted(s->httpd) < FLOOD - HTTPD_MAX_CONNS) {
		assert_true(evloop_now_ms() < deadline);
		assert_true(evloop_run_once(s->loop, 20) >= 0);
	}
	assert_int_equal(httpd_conns(s->httpd), HTTPD_MAX_CONNS);
	/* The first ones, idle longest, were closed (a FIN: nothing unread). */
	for (int i = 0; i < FLOOD - HTTPD_MAX_CONNS; i++)
		assert_int_equal(run_until_eof(s, fds[i], out, sizeof(out)), 0);
	probe = client_connect(s);
	assert_int_equal(write(probe, "GET /metrics HTTP/1.0\r\n\r\n", 25), 25);
	run_until_eof(s, probe, out, sizeof(out));
	assert_non_null(strstr(out, "200 OK"));
	assert_true(httpd_conns(s->httpd) <= HTTPD_MAX_CONNS);
	close(probe);
	/* A connection that is still idle gets served too once it asks. */
	assert_int_equal(write(fds[FLOOD - 1], "GET /metrics HTTP/1.0\r\n\r\n", 25), 25);
	run_until_eof(s, fds[FLOOD - 1], out, sizeof(out));
	assert_non_null(strstr(out, "200 OK"));
	for (int i = 0; i < FLOOD; i++)
		close(fds[i]);
	/* Clients gone: the server sees EOF on each and frees them. */
	deadline = evloop_now_ms() + 3000;
	while (httpd_conns(s->httpd) > 0) {
		assert_true(evloop_now_ms() < deadline);
		assert_true(evloop_run_once(s->loop, 20) >= 0);
	}
}

static void test_new_rejects_bad_host(void **state)
{
	struct evloop *l = NULL;
	struct httpd *h = (struct httpd *)0x1;

	(void)state;
	assert_int_equal(evloop_new(&l), 0);
	assert_int_equal(httpd_new(l, "localhost", 9099, handler, NULL, &h), -EINVAL);
	assert_int_equal(httpd_new(l, "::1", 9099, handler, NULL, &h), -EINVAL);
	assert_ptr_equal(h, (struct httpd *)0x1); /* untouched on failure */
	assert_null(httpd_free(NULL));
	evloop_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_vectors),
		cmocka_unit_test(test_parse_respects_len),
		cmocka_unit_test(test_parse_path_size),
		cmocka_unit_test(test_parse_oversized_head),
		cmocka_unit_test_setup_teardown(test_server_get_metrics, srv_setup, srv_teardown),
		cmocka_unit_test_setup_teardown(test_server_head_has_no_body, srv_setup, srv_teardown),
		cmocka_unit_test_setup_teardown(test_server_errors, srv_setup, srv_teardown),
		cmocka_unit_test_setup_teardown(test_server_request_split_across_writes, srv_setup,
						srv_teardown),
		cmocka_unit_test_setup_teardown(test_server_oversized_request_gets_431, srv_setup,
						srv_teardown),
		cmocka_unit_test_setup_teardown(test_server_idle_flood_cannot_starve_a_probe,
						srv_setup, srv_teardown),
		cmocka_unit_test(test_new_rejects_bad_host),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
