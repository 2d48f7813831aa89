/* felix-c's CNI service: the node-local socket through which the CNI
 * plugins (calico-c, calico-c-ipam) hand their Kubernetes work to felix-c.
 *
 * A plugin lives for one call, so talking to the apiserver itself costs it
 * the loading of libcurl and its TLS stack (~12 ms per process here), a TCP
 * and TLS handshake and cold reads; felix-c has all of that warm. When
 * felix-c does not answer (not running, not yet listening) the plugins run
 * the same work themselves: their "-direct" binaries, which link libcurl.
 *
 * Protocol, one exchange per connection on a Unix stream socket (mode 0600,
 * root only): the client writes one JSON object {"op": ..., ...} and shuts
 * down its sending side; the server answers one JSON object and closes.
 * The answer is {"code": 0, ...} when the op ran, else a CNI error object
 * {"code", "msg", "details"} saying why it could not (11: try again).
 */
#pragma once

#include <stddef.h>

#include <jansson.h>

#include "cni.h"

#define CNISOCK_DEFAULT_PATH "/run/calico-c/cni.sock"
#define CNISOCK_MAX_MESSAGE (4u << 20)

/* The socket a plugin's network config @cfg names ("felix_socket", a
 * calico-c key), else CNISOCK_DEFAULT_PATH; "" means never use one. */
const char *cnisock_path(const json_t *cfg);

/**
 * cnisock_call - one exchange with the service at @path
 * @req: the request object
 * @ret: the answer (new reference) when its "code" is 0
 * @err: the answer's error, or what went wrong on the way (code 11)
 *
 * Return: 0; -EHOSTDOWN when nothing listens at @path (the caller may do
 *   the work itself: nothing was sent); another -errno with @err set.
 */
int cnisock_call(const char *path, const json_t *req, json_t **ret, struct cni_error *err);
/* cnisock_call() in two halves, to work while felix-c does: _send returns
 * the connection (the request sent) or what cnisock_call() would; _receive
 * waits for the answer on it, closes it and returns like cnisock_call(). */
int cnisock_send(const char *path, const json_t *req, struct cni_error *err);
int cnisock_receive(int fd, const char *path, json_t **ret, struct cni_error *err);

/* Whether something listens at @path (a connect that is closed at once). */
bool cnisock_up(const char *path);

/**
 * cnisock_exec_direct - become the "-direct" sibling @name of this program
 *   (the binary of that name next to /proc/self/exe), with @text (what was
 *   read from stdin) as its stdin and the same environment
 *
 * Return: only on failure, -errno.
 */
int cnisock_exec_direct(const char *name, const char *text, size_t len);

/* Server side. */

/* Bind and listen at @path (a stale socket file is replaced), mode 0600.
 * Return: the listening fd (non-blocking, close-on-exec) or -errno. */
int cnisock_listen(const char *path);

/* Read one request from the accepted @fd (blocking, with a timeout).
 * Return: 0; -ENODATA when the client sent nothing (a probe); -EBADMSG;
 *   -EMSGSIZE; -errno. */
int cnisock_read_request(int fd, json_t **ret);

/**
 * cnisock_check_peer - whether the client on the accepted @fd may be served:
 *   the plugins run as root (the runtime runs them so), and the socket file
 *   is 0600 root; the peer's credentials (SO_PEERCRED) are checked too, so a
 *   socket file made reachable by mistake (a hostPath's mode, a chmod) still
 *   serves root only
 * @err: code 100 naming the peer's uid and pid
 *
 * Return: 0, -EPERM, -errno of getsockopt().
 */
int cnisock_check_peer(int fd, struct cni_error *err);

/* Write @answer to @fd. Return: 0 or -errno. */
int cnisock_write_answer(int fd, const json_t *answer);
