/* Mutual TLS on non-blocking sockets; see tlsconn.h.
 *
 * Model: one SSL_CTX per side (our certificate, the CA, peer verification
 * required), one SSL per socket. The CN check runs in the verify callback
 * on the peer's leaf certificate, so a wrong CN fails the handshake itself
 * and the peer sees an alert rather than an abrupt close.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cleanup.h"
#include "tlsconn.h"

/* Owner: the program; outlives its connections. */
struct tlsconn_ctx {
	SSL_CTX *ctx;
	char *peer_cn; /* NULL: any */
	bool server;
};

/* Owner: its server or client connection. */
struct tlsconn {
	SSL *ssl;
	int fd;
	bool want_write;
	char error[256];
};

static int ctx_slot = -1;

static int verify_cn(int ok, X509_STORE_CTX *store)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
	const struct tlsconn_ctx *c = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ctx_slot);
	X509 *leaf = X509_STORE_CTX_get_current_cert(store);
	char cn[256] = "";

	if (!ok || !c || !c->peer_cn || X509_STORE_CTX_get_error_depth(store) != 0)
		return ok;
	if (X509_NAME_get_text_by_NID(X509_get_subject_name(leaf), NID_commonName, cn,
				      sizeof(cn)) < 0 ||
	    strcmp(cn, c->peer_cn) != 0) {
		X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
		return 0;
	}
	return 1;
}

static int fail(char **ret_error, const char *what, const char *file)
{
	unsigned long e = ERR_get_error();
	char why[200];

	ERR_error_string_n(e, why, sizeof(why));
	ERR_clear_error();
	if (ret_error && asprintf(ret_error, "%s '%s': %s", what, file ? file : "", why) < 0)
		*ret_error = NULL;
	return -EINVAL;
}

int tlsconn_ctx_new(bool server, const char *ca_file, const char *cert_file,
		    const char *key_file, const char *peer_cn, struct tlsconn_ctx **ret,
		    char **ret_error)
{
	_cleanup_(tlsconn_ctx_freep) struct tlsconn_ctx *c = calloc(1, sizeof(*c));

	if (ret_error)
		*ret_error = NULL;
	if (!c)
		return -ENOMEM;
	if (ctx_slot < 0 && (ctx_slot = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL)) < 0)
		return -ENOMEM;
	c->ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	if (!c->ctx || (peer_cn && *peer_cn && !(c->peer_cn = strdup(peer_cn))))
		return -ENOMEM;
	c->server = server;
	SSL_CTX_set_ex_data(c->ctx, ctx_slot, c);
	(void)SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
	SSL_CTX_set_mode(c->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
					 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (SSL_CTX_load_verify_locations(c->ctx, ca_file, NULL) != 1)
		return fail(ret_error, "cannot load the CA file", ca_file);
	if (SSL_CTX_use_certificate_chain_file(c->ctx, cert_file) != 1)
		return fail(ret_error, "cannot load the certificate file", cert_file);
	if (SSL_CTX_use_PrivateKey_file(c->ctx, key_file, SSL_FILETYPE_PEM) != 1)
		return fail(ret_error, "cannot load the key file", key_file);
	if (SSL_CTX_check_private_key(c->ctx) != 1)
		return fail(ret_error, "the key does not match the certificate", cert_file);
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_cn);
	if (server) {
		STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(ca_file);

		if (names)
			SSL_CTX_set_client_CA_list(c->ctx, names);
	}
	*ret = TAKE_PTR(c);
	return 0;
}

struct tlsconn_ctx *tlsconn_ctx_free(struct tlsconn_ctx *c)
{
	if (!c)
		return NULL;
	SSL_CTX_free(c->ctx);
	free(c->peer_cn);
	free(c);
	return NULL;
}

int tlsconn_new(struct tlsconn_ctx *c, int fd, struct tlsconn **ret)
{
	_cleanup_(tlsconn_freep) struct tlsconn *t = calloc(1, sizeof(*t));

	if (!t) {
		close(fd);
		return -ENOMEM;
	}
	t->fd = fd;
	t->ssl = SSL_new(c->ctx);
	if (!t->ssl || SSL_set_fd(t->ssl, fd) != 1)
		return -ENOMEM;
	if (c->server)
		SSL_set_accept_state(t->ssl);
	else
		SSL_set_connect_state(t->ssl);
	*ret = TAKE_PTR(t);
	return 0;
}

struct tlsconn *tlsconn_free(struct tlsconn *t)
{
	if (!t)
		return NULL;
	SSL_free(t->ssl);
	if (t->fd >= 0)
		close(t->fd);
	free(t);
	return NULL;
}

int tlsconn_fd(const struct tlsconn *t)
{
	return t->fd;
}

bool tlsconn_wants_write(const struct tlsconn *t)
{
	return t->want_write;
}

const char *tlsconn_error(const struct tlsconn *t)
{
	return t->error;
}

/* Maps an SSL_* result to -errno and keeps OpenSSL's reason. */
static int map_error(struct tlsconn *t, int r)
{
	int e = SSL_get_error(t->ssl, r);
	unsigned long q;

	t->want_write = e == SSL_ERROR_WANT_WRITE;
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return -EAGAIN;
	q = ERR_peek_error();
	if (q)
		ERR_error_string_n(q, t->error, sizeof(t->error));
	else
		snprintf(t->error, sizeof(t->error), "%s",
			 e == SSL_ERROR_ZERO_RETURN ? "closed by the peer" : "connection lost");
	ERR_clear_error();
	if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && !q))
		return e == SSL_ERROR_ZERO_RETURN ? 0 : -ECONNRESET;
	if (SSL_get_verify_result(t->ssl) != X509_V_OK) {
		snprintf(t->error, sizeof(t->error), "peer certificate refused: %s",
			 X509_verify_cert_error_string(SSL_get_verify_result(t->ssl)));
		return -EACCES;
	}
	return -EPROTO;
}

int tlsconn_handshake(struct tlsconn *t)
{
	int r = SSL_do_handshake(t->ssl);

	if (r == 1) {
		t->want_write = false;
		return 0;
	}
	r = map_error(t, r);
	if (r == 0) /* closed during the handshake */
		return -ECONNRESET;
	/* Verification failed on the other side: its alert is our error. */
	if (r == -EPROTO && strstr(t->error, "alert") && strstr(t->error, "certificate"))
		return -EACCES;
	return r;
}

ssize_t tlsconn_read(struct tlsconn *t, void *buf, size_t n)
{
	int r = SSL_read(t->ssl, buf, n > INT32_MAX ? INT32_MAX : (int)n);

	if (r > 0) {
		t->want_write = false;
		return r;
	}
	r = map_error(t, r);
	return r == -ECONNRESET ? 0 : r;
}

ssize_t tlsconn_write(struct tlsconn *t, const void *buf, size_t n)
{
	int r = SSL_write(t->ssl, buf, n > INT32_MAX ? INT32_MAX : (int)n);

	if (r > 0) {
		/* else a writer that once waited would watch for EPOLLOUT forever:
		 * a busy loop (typha-c burnt a core this way at 50 clients) */
		t->want_write = false;
		return r;
	}
	r = map_error(t, r);
	return r == 0 || r == -ECONNRESET ? -EPIPE : r;
}
