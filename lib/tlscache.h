/* TLS session resumption across the plugin processes.
 *
 * calico-c and calico-c-ipam live for one CNI call each, so every call used
 * to pay a full TLS handshake with the apiserver (certificate chain checks,
 * signatures on both sides: ~3 ms of the ~6 ms handshake measured in the
 * lab). The apiserver (Go crypto/tls) issues TLS 1.3 session tickets; we
 * keep the newest one in a file and the next process resumes with it.
 *
 * The file is as secret as the client key: a resumed session skips the
 * server's certificate check, trusting that only we know its key. So it is
 * written 0600 into a directory of ours (0700) and read only when both are
 * owned by us and closed to others. Its name is the fingerprint of the
 * client config (server, CA, credentials), so a session is never offered to
 * another server or under another identity. Everything here is an
 * optimisation: on any failure the handshake is simply a full one.
 */
#pragma once

#include <stddef.h>

#include "cleanup.h"

struct kapi;
struct kapi_config;
struct ssl_session_st;
struct tlscache;

#define TLSCACHE_DEFAULT_DIR "/run/calico-c/tls"

/**
 * tlscache_attach - resume @k's TLS sessions from, and save them to, @dir
 * @k: client (its connections use the cache from now on)
 * @cfg: the config @k was made from
 * @dir: cache directory (created 0700 when missing); NULL or "": disabled
 * @ret: the cache, to free after @k; NULL when disabled
 *
 * Return: 0 (also when the cache is unusable: it is then not used),
 *   -ENOMEM.
 */
int tlscache_attach(struct kapi *k, const struct kapi_config *cfg, const char *dir,
		    struct tlscache **ret);
struct tlscache *tlscache_free(struct tlscache *c);
DEFINE_CLEANUP_FUNC(struct tlscache, tlscache_free);

/* The file for @fingerprint in @dir: "<dir>/<64 hex digits>.tls". */
int tlscache_path(const char *dir, const unsigned char fingerprint[32], char *buf,
		  size_t size);
/* Writes @s to @path atomically, mode 0600. Return: 0 or -errno. */
int tlscache_save(const char *path, struct ssl_session_st *s);
/* Reads @path when it and its directory are ours and closed to others.
 * Return: 0, -ENOENT, -EPERM (not trusted), -EBADMSG, -errno. */
int tlscache_load(const char *path, struct ssl_session_st **ret);
