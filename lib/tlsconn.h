/* Mutually authenticated TLS on a non-blocking socket (OpenSSL), for
 * typha-c and its clients: both sides present a certificate signed by the
 * same CA and verify the other's; a side may also require the peer's
 * subject CN (Calico's TyphaCN / ClientCN).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "cleanup.h"

struct tlsconn;
struct tlsconn_ctx;

/**
 * tlsconn_ctx_new - load the CA, certificate and key of one side
 * @server: server (requires a client certificate) or client side
 * @ca_file: PEM CA bundle the peer's certificate must chain to
 * @cert_file: our PEM certificate
 * @key_file: its PEM private key
 * @peer_cn: required subject CN of the peer, NULL or "": any
 * @ret: the context
 * @ret_error: malloc'd reason naming the file, on failure (may be NULL)
 *
 * TLS 1.2 or newer. Return: 0, -EINVAL (a file unreadable or not matching),
 *   -ENOMEM.
 */
int tlsconn_ctx_new(bool server, const char *ca_file, const char *cert_file,
		    const char *key_file, const char *peer_cn, struct tlsconn_ctx **ret,
		    char **ret_error);
struct tlsconn_ctx *tlsconn_ctx_free(struct tlsconn_ctx *c);
DEFINE_CLEANUP_FUNC(struct tlsconn_ctx, tlsconn_ctx_free);

/* Wraps @fd (non-blocking; the connection owns and closes it). */
int tlsconn_new(struct tlsconn_ctx *c, int fd, struct tlsconn **ret);
struct tlsconn *tlsconn_free(struct tlsconn *t);
DEFINE_CLEANUP_FUNC(struct tlsconn, tlsconn_free);
int tlsconn_fd(const struct tlsconn *t);

/**
 * tlsconn_handshake - advance the handshake
 * @t: connection
 *
 * Return: 0 done (peer verified, CN checked), -EAGAIN (call again when the
 *   socket is ready: tlsconn_wants_write() says for what), -EACCES (peer
 *   certificate refused), -ECONNRESET (closed), -EPROTO (other TLS error).
 */
int tlsconn_handshake(struct tlsconn *t);
/* The last call ended in -EAGAIN waiting for the socket to be writable
 * (else readable, or it did not end in -EAGAIN). */
bool tlsconn_wants_write(const struct tlsconn *t);
/* Read up to @n bytes. Return: bytes, 0 (peer closed), -EAGAIN, -EPROTO. */
ssize_t tlsconn_read(struct tlsconn *t, void *buf, size_t n);
/* Write up to @n bytes. Return: bytes, -EAGAIN, -EPIPE, -EPROTO. */
ssize_t tlsconn_write(struct tlsconn *t, const void *buf, size_t n);
/* Why the last call failed (OpenSSL's text), "" if it did not. */
const char *tlsconn_error(const struct tlsconn *t);
