/* TLS session resumption across the plugin processes; see tlscache.h.
 *
 * libcurl (7.88) keeps TLS sessions per process only and offers no export,
 * but it hands us each connection's SSL_CTX before the handshake
 * (kapi_set_tls_hook). There we install two OpenSSL callbacks: the
 * new-session callback saves every ticket the server sends (then passes it
 * on to libcurl's own callback), and the info callback, at the start of the
 * first handshake, offers the saved session when libcurl has none of its own.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "cleanup.h"
#include "kapi.h"
#include "log.h"
#include "tlscache.h"

#define TLSCACHE_MAX_FILE 16384

/* Owner: the caller of tlscache_attach(); must outlive the kapi client. */
struct tlscache {
	char path[PATH_MAX];			  /* the session file */
	SSL_SESSION *loaded;			  /* owned; read at attach, NULL: none */
	int (*next_new_cb)(SSL *, SSL_SESSION *); /* libcurl's callback, may be NULL */
};

/* SSL_CTX ex_data slot holding the struct tlscache (process-wide). */
static int ctx_slot = -1;

int tlscache_path(const char *dir, const unsigned char fingerprint[32], char *buf, size_t size)
{
	char hex[65];

	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", fingerprint[i]);
	if ((size_t)snprintf(buf, size, "%s/%s.tls", dir, hex) >= size)
		return -ENAMETOOLONG;
	return 0;
}

/* Ours and closed to others: nobody else can plant or read a session. */
static bool stat_is_private(const struct stat *st, mode_t forbidden)
{
	return st->st_uid == geteuid() && (st->st_mode & forbidden) == 0;
}

static bool dir_is_private(const char *dir)
{
	struct stat st;

	return lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) && stat_is_private(&st, 022);
}

/* mkdir -p with mode 0700 for what we create. */
static int make_dir(const char *dir)
{
	_cleanup_free_ char *p = strdup(dir);

	if (!p)
		return -ENOMEM;
	for (char *s = strchr(p + 1, '/');; s = strchr(s + 1, '/')) {
		if (s)
			*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			return -errno;
		if (!s)
			return 0;
		*s = '/';
	}
}

int tlscache_save(const char *path, SSL_SESSION *s)
{
	_cleanup_free_ unsigned char *der = NULL;
	_cleanup_free_ char *tmp = NULL;
	unsigned char *w;
	int len, fd, r = 0;

	len = i2d_SSL_SESSION(s, NULL);
	if (len <= 0 || len > TLSCACHE_MAX_FILE)
		return -EINVAL;
	der = malloc((size_t)len);
	if (!der || asprintf(&tmp, "%s.XXXXXX", path) < 0)
		return -ENOMEM;
	w = der;
	if (i2d_SSL_SESSION(s, &w) != len)
		return -EINVAL;
	fd = mkostemp(tmp, O_CLOEXEC); /* mode 0600 */
	if (fd < 0)
		return -errno;
	if (write(fd, der, (size_t)len) != len)
		r = errno ? -errno : -EIO;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		(void)unlink(tmp);
	return r;
}

static int read_private(const char *path, unsigned char *buf, size_t size, size_t *ret_len)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	ssize_t n;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || !stat_is_private(&st, 077))
		return -EPERM;
	if (st.st_size <= 0 || (size_t)st.st_size > size)
		return -EBADMSG;
	n = read(fd, buf, (size_t)st.st_size);
	if (n != st.st_size)
		return n < 0 ? -errno : -EBADMSG;
	*ret_len = (size_t)n;
	return 0;
}

int tlscache_load(const char *path, SSL_SESSION **ret)
{
	_cleanup_free_ char *dir = strdup(path);
	char *slash = dir ? strrchr(dir, '/') : NULL;
	unsigned char buf[TLSCACHE_MAX_FILE];
	const unsigned char *p = buf;
	SSL_SESSION *s;
	size_t len = 0;
	int r;

	if (!dir)
		return -ENOMEM;
	if (slash && slash != dir)
		*slash = '\0';
	if (slash && !dir_is_private(slash == dir ? "/" : dir))
		return -EPERM;
	r = read_private(path, buf, sizeof(buf), &len);
	if (r < 0)
		return r;
	s = d2i_SSL_SESSION(NULL, &p, (long)len);
	if (!s)
		return -EBADMSG;
	if (!SSL_SESSION_is_resumable(s)) {
		SSL_SESSION_free(s);
		return -EBADMSG;
	}
	*ret = s;
	return 0;
}

static struct tlscache *cache_of(const SSL *s)
{
	return ctx_slot < 0 ? NULL : SSL_CTX_get_ex_data(SSL_get_SSL_CTX(s), ctx_slot);
}

static int on_new_session(SSL *s, SSL_SESSION *sess)
{
	struct tlscache *c = cache_of(s);
	int r;

	if (!c)
		return 0;
	if (SSL_SESSION_is_resumable(sess)) {
		r = tlscache_save(c->path, sess);
		if (r < 0)
			log_debug_errno(r, "Cannot save the TLS session to '%s', ignoring: %m",
					c->path);
	}
	/* libcurl's callback may keep the session (returns 1: it took our ref). */
	return c->next_new_cb ? c->next_new_cb(s, sess) : 0;
}

static void on_info(const SSL *s, int where, int ret)
{
	struct tlscache *c = cache_of(s);

	(void)ret;
	if (!c)
		return;
	/* Only before the first handshake, and only if libcurl has no session
	 * of its own for this server (from an earlier connection). */
	if ((where & SSL_CB_HANDSHAKE_START) && SSL_in_before(s) && c->loaded &&
	    !SSL_get_session(s))
		(void)SSL_set_session((SSL *)s, c->loaded);
	if (where & SSL_CB_HANDSHAKE_DONE)
		log_debug("TLS handshake with the apiserver: %s",
			  SSL_session_reused(s) ? "session resumed" : "full");
}

static void on_ssl_ctx(void *ssl_ctx, void *userdata)
{
	SSL_CTX *ctx = ssl_ctx;
	struct tlscache *c = userdata;
	int (*cb)(SSL *, SSL_SESSION *);

	if (ctx_slot < 0)
		ctx_slot = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	/* Someone else's info callback: leave this connection alone. */
	if (ctx_slot < 0 || SSL_CTX_get_info_callback(ctx) ||
	    !SSL_CTX_set_ex_data(ctx, ctx_slot, c))
		return;
	cb = SSL_CTX_sess_get_new_cb(ctx);
	if (cb != on_new_session)
		c->next_new_cb = cb;
	/* The new-session callback runs only with client caching on. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_CTX_get_session_cache_mode(ctx) |
						    SSL_SESS_CACHE_CLIENT |
						    SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(ctx, on_new_session);
	SSL_CTX_set_info_callback(ctx, on_info);
}

struct tlscache *tlscache_free(struct tlscache *c)
{
	if (!c)
		return NULL;
	SSL_SESSION_free(c->loaded);
	free(c);
	return NULL;
}


int tlscache_attach(struct kapi *k, const struct kapi_config *cfg, const char *dir,
		    struct tlscache **ret)
{
	_cleanup_(tlscache_freep) struct tlscache *c = NULL;
	unsigned char fp[32];
	int r;

	*ret = NULL;
	if (!dir || !*dir)
		return 0;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	r = kapi_config_fingerprint(cfg, fp);
	if (r < 0)
		return r;
	if (tlscache_path(dir, fp, c->path, sizeof(c->path)) < 0)
		return 0;
	r = make_dir(dir);
	if (r < 0) {
		log_debug_errno(r, "Cannot create the TLS session cache '%s', not resuming: %m", dir);
		return 0;
	}
	if (!dir_is_private(dir)) {
		log_debug("TLS session cache '%s' is not ours alone, not resuming", dir);
		return 0;
	}
	r = tlscache_load(c->path, &c->loaded);
	if (r < 0 && r != -ENOENT)
		log_debug_errno(r, "Not resuming from '%s': %m", c->path);
	if (kapi_set_tls_hook(k, on_ssl_ctx, c) < 0)
		return 0;
	*ret = TAKE_PTR(c);
	return 0;
}
