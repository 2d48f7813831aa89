/* Shared between the kapi modules (kubeconfig.c, kapi.c, kapi_watch.c); not a
 * public contract. The config holds everything in memory (file contents
 * already read, base64 already decoded), so a client never touches the
 * filesystem again.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kapi_blob {
	uint8_t *data; /* owned; NUL-terminated, not counted in len */
	size_t len;
};

struct kapi_config {
	char *server;	      /* "https://host:port", no trailing slash */
	char *namespace;      /* context namespace, NULL if none */
	struct kapi_blob ca;  /* PEM bundle; len 0: system trust store */
	struct kapi_blob cert; /* client certificate (PEM), len 0: none */
	struct kapi_blob key;  /* client key (PEM), len 0: none */
	char *token;	      /* bearer token, NULL: none */
	bool insecure;	      /* insecure-skip-tls-verify */
};

int kapi_blob_copy(struct kapi_blob *dst, const struct kapi_blob *src);
void kapi_blob_done(struct kapi_blob *b);
/* Reads a whole (small, <= 4 MiB) file into @ret. */
int kapi_read_file(const char *path, struct kapi_blob *ret);

typedef void CURL;
struct curl_slist;
struct kapi;

/* A growing response buffer (NUL-terminated), capped at 512 MiB. */
struct kapi_buf {
	char *data;
	size_t len;
	size_t cap;
};

/* libcurl write callback appending to a struct kapi_buf. */
size_t kapi_buf_write(char *data, size_t size, size_t nmemb, void *userdata);
/* Empties @b; frees its memory when it grew past KAPI_BUF_KEEP, so one big
 * answer (a LIST page of 500 pods is ~1.5 MB) is not held for the client's
 * life. */
#define KAPI_BUF_KEEP (64u << 10)
void kapi_buf_reset(struct kapi_buf *b);
/* Applies the client's TLS, credentials and connect timeout to @h. */
int kapi_easy_setup(const struct kapi *k, CURL *h);
/* Request headers without a body type (Accept, Authorization). */
const struct curl_slist *kapi_get_headers(const struct kapi *k);
const char *kapi_server(const struct kapi *k);
/* A CURLcode as a negative errno. */
int kapi_curl_errno(int curl_code);

/* The async side (kapi_watch.c): one curl multi handle per client, bound to
 * the evloop of the first watch or async request; freed by kapi_free(). */
struct kapi_multi;
struct kapi_multi **kapi_multi_slot(struct kapi *k);
struct kapi_multi *kapi_multi_free(struct kapi_multi *m);
