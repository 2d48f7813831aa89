/* A tiny non-blocking HTTP/1.0 server on the evloop, for /liveness,
 * /readiness and /metrics: GET and HEAD only, one request per connection,
 * bounded connections, request size and connection lifetime. Health and
 * metrics are two servers (two listeners, two connection budgets), and idle
 * connections cannot starve a request that arrives (see httpd.c).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct evloop;
struct metrics_buf;
struct httpd;

#define HTTPD_MAX_CONNS 1024	/* per server; beyond, the oldest idle one goes */
#define HTTPD_BACKLOG 4096	/* listen(); the kernel caps it at net.core.somaxconn */
#define HTTPD_ACCEPT_BATCH 16	/* accepts per wakeup of the listener */
#define HTTPD_MAX_REQUEST 4096 /* bytes of request line + headers */
#define HTTPD_HEAD_TIMEOUT_MS 1000 /* to send the request head */
#define HTTPD_TIMEOUT_MS 5000	   /* to take the answer */

/* Fills @body for GET @path and returns the HTTP status; sets *@ret_type
 * (default text/plain). Runs on the loop. */
typedef int (*httpd_handler)(const char *path, struct metrics_buf *body, const char **ret_type,
			     void *userdata);

/**
 * httpd_listen - a listening, non-blocking TCP socket (SO_REUSEADDR,
 *   backlog HTTPD_BACKLOG); also typha-c's listener
 * @host: IPv4 address to bind ("0.0.0.0")
 * @port: TCP port
 * @ret_fd: the socket (O_CLOEXEC)
 *
 * Return: 0, -EINVAL (bad host), -errno of socket/bind/listen.
 */
int httpd_listen(const char *host, uint16_t port, int *ret_fd);

/**
 * httpd_new - listen on @host:@port (IPv4) and serve through @h
 * @l: loop
 * @host: address to bind ("0.0.0.0")
 * @port: TCP port
 * @h: request handler
 * @userdata: passed to @h
 * @ret: the server
 *
 * Return: 0, -EINVAL (bad host), -errno of socket/bind/listen.
 */
int httpd_new(struct evloop *l, const char *host, uint16_t port, httpd_handler h, void *userdata,
	      struct httpd **ret);
struct httpd *httpd_free(struct httpd *s);
/* Connections currently open (for tests and metrics). */
size_t httpd_conns(const struct httpd *s);
/* Idle connections closed to make room for new ones, since the start. */
unsigned long httpd_evicted(const struct httpd *s);

/**
 * httpd_parse_request - parse the request head in @buf
 * @buf: bytes received so far
 * @len: their number
 * @ret_method: buffer for the method (at least 8 bytes)
 * @ret_path: buffer for the path, query removed
 * @path_size: its size
 *
 * Return: 0 when the head is complete, -EAGAIN when more bytes are needed,
 *   -EINVAL for a malformed request line, -E2BIG when the path is too long.
 */
int httpd_parse_request(const char *buf, size_t len, char ret_method[static 8], char *ret_path,
			size_t path_size);
