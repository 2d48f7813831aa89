/* kubeconfig and in-cluster configuration for the API client.
 *
 * The YAML text is first turned into a jansson tree (mappings -> objects,
 * sequences -> arrays, every scalar a string), then the current context is
 * resolved to one cluster and one user. Everything the client needs (CA,
 * client certificate and key, token) is read or base64-decoded now, so a
 * bad kubeconfig fails here with a message naming the field, never later in
 * the middle of a request. Credential plugins (exec, auth-provider) and
 * basic auth are refused with a clear error: we cannot run them.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "base64.h"
#include "cleanup.h"
#include "fileio.h"
#include "kapi-internal.h"
#include "kapi.h"
#include "log.h"
#include "yamljson.h"

#define KAPI_FILE_MAX (4u << 20)

#define _cleanup_json_ _cleanup_(json_decrefp) /* jansson's own */


/* Sets *@ret_error (if wanted) to a formatted message and returns @r. */
__attribute__((format(printf, 3, 4))) static int fail(char **ret_error, int r, const char *fmt,
						       ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	log_debug("kubeconfig: %s", s ? s : "(no memory)");
	if (ret_error) {
		free(*ret_error);
		*ret_error = s;
	} else {
		free(s);
	}
	return r;
}

void kapi_blob_done(struct kapi_blob *b)
{
	free(b->data);
	*b = (struct kapi_blob){};
}

int kapi_blob_copy(struct kapi_blob *dst, const struct kapi_blob *src)
{
	uint8_t *d = malloc(src->len + 1);

	if (!d)
		return -ENOMEM;
	if (src->len)
		memcpy(d, src->data, src->len);
	d[src->len] = 0;
	dst->data = d;
	dst->len = src->len;
	return 0;
}

int kapi_read_file(const char *path, struct kapi_blob *ret)
{
	char *data;
	int r = file_read_all(path, KAPI_FILE_MAX, &data, &ret->len);

	if (r == 0)
		ret->data = (uint8_t *)data;
	return r;
}

/* --- YAML -> JSON --------------------------------------------------------- */

/* The kubeconfig document (lib/yamljson: one reader of YAML for the tree). */
static int yaml_to_json(const char *text, json_t **ret, char **ret_error)
{
	_cleanup_free_ char *err = NULL;
	json_t *docs = NULL, *root;
	int r;

	r = yamljson_parse(text, strlen(text), &docs, &err);
	if (r == -EBADMSG)
		return fail(ret_error, r, "malformed YAML at %s", err ? err : "an unknown line");
	if (r < 0)
		return r;
	root = json_array_get(docs, 0);
	if (json_array_size(docs) > 1)
		r = fail(ret_error, -EBADMSG, "more than one YAML document");
	else if (!json_is_object(root))
		r = fail(ret_error, -EBADMSG, "kubeconfig is not a YAML mapping");
	else
		*ret = json_incref(root);
	json_decref(docs);
	return r;
}

/* --- kubeconfig semantics ------------------------------------------------- */

static const char *str_of(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s && *s ? s : NULL;
}

/* The @field object of the element of list @list whose "name" is @name. */
static const json_t *named(const json_t *root, const char *list, const char *name,
			   const char *field, char **ret_error)
{
	const json_t *arr = json_object_get(root, list), *it;
	size_t i;

	json_array_foreach(arr, i, it)
	{
		const char *n = str_of(it, "name");

		if (!n || strcmp(n, name) != 0)
			continue;
		if (!json_is_object(json_object_get(it, field))) {
			(void)fail(ret_error, -EBADMSG, "%s '%s' has no '%s' mapping", list, name,
				   field);
			return NULL;
		}
		return json_object_get(it, field);
	}
	(void)fail(ret_error, -EBADMSG, "%s '%s' not found in '%s'", field, name, list);
	return NULL;
}

static char *resolve(const char *base_dir, const char *path)
{
	char *s;

	if (path[0] == '/' || !base_dir)
		return strdup(path);
	return asprintf(&s, "%s/%s", base_dir, path) < 0 ? NULL : s;
}

/* Loads "<field>-data" (base64) or "<field>" (a file path) of @o into @ret;
 * absent both: @ret stays empty. @where names @o in messages. */
static int load_blob(const json_t *o, const char *field, const char *base_dir,
		     const char *where, struct kapi_blob *ret, char **ret_error)
{
	_cleanup_free_ char *data_key = NULL, *path = NULL;
	const char *data, *file;
	void *b;
	size_t n;
	int r;

	if (asprintf(&data_key, "%s-data", field) < 0)
		return -ENOMEM;
	data = str_of(o, data_key);
	file = str_of(o, field);
	if (data) {
		r = base64_decode(data, strlen(data), &b, &n);
		if (r == -EBADMSG)
			return fail(ret_error, r, "%s.%s: invalid base64", where, data_key);
		if (r < 0)
			return r;
		ret->data = b;
		ret->len = n;
		return 0;
	}
	if (!file)
		return 0;
	path = resolve(base_dir, file);
	if (!path)
		return -ENOMEM;
	r = kapi_read_file(path, ret);
	if (r < 0)
		return fail(ret_error, r, "%s.%s: cannot read '%s': %s", where, field, path,
			    strerror(-r));
	return 0;
}

static int load_cluster(struct kapi_config *c, const json_t *cl, const char *name,
			const char *base_dir, char **ret_error)
{
	_cleanup_free_ char *where = NULL;
	const char *server = str_of(cl, "server"), *insecure;
	size_t n;
	int r;

	if (asprintf(&where, "clusters['%s'].cluster", name) < 0)
		return -ENOMEM;
	if (!server)
		return fail(ret_error, -EBADMSG, "%s.server is missing", where);
	if (strncmp(server, "https://", 8) != 0 && strncmp(server, "http://", 7) != 0)
		return fail(ret_error, -EBADMSG, "%s.server '%s' is not an http(s) URL", where,
			    server);
	c->server = strdup(server);
	if (!c->server)
		return -ENOMEM;
	n = strlen(c->server);
	while (n > 0 && c->server[n - 1] == '/')
		c->server[--n] = 0;
	insecure = str_of(cl, "insecure-skip-tls-verify"); /* a YAML bool, or quoted */
	c->insecure = json_is_true(json_object_get(cl, "insecure-skip-tls-verify")) ||
		      (insecure && strcmp(insecure, "true") == 0);
	r = load_blob(cl, "certificate-authority", base_dir, where, &c->ca, ret_error);
	if (r < 0)
		return r;
	if (c->insecure && c->ca.len)
		return fail(ret_error, -EBADMSG,
			    "%s: a certificate authority and insecure-skip-tls-verify "
			    "cannot both be set",
			    where);
	return 0;
}

static const char *const unsupported_auth[] = { "exec", "auth-provider", "username", "password" };

static int load_token(struct kapi_config *c, const json_t *u, const char *base_dir,
		      const char *where, char **ret_error)
{
	struct kapi_blob b = {};
	const char *token = str_of(u, "token");
	size_t n;

	if (token) {
		c->token = strdup(token);
		if (!c->token)
			return -ENOMEM;
	} else if (str_of(u, "tokenFile")) {
		/* reuse load_blob for path resolution and error text */
		int r = load_blob(u, "tokenFile", base_dir, where, &b, ret_error);

		if (r < 0)
			return r;
		c->token = (char *)b.data;
	} else {
		return 0;
	}
	n = strlen(c->token);
	while (n > 0 && (c->token[n - 1] == '\n' || c->token[n - 1] == '\r' ||
			 c->token[n - 1] == ' '))
		c->token[--n] = 0;
	if (n == 0)
		return fail(ret_error, -EBADMSG, "%s: the token is empty", where);
	return 0;
}

static int load_user(struct kapi_config *c, const json_t *u, const char *name,
		     const char *base_dir, char **ret_error)
{
	_cleanup_free_ char *where = NULL;
	int r;

	if (asprintf(&where, "users['%s'].user", name) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < ELEMENTSOF(unsupported_auth); i++)
		if (json_object_get(u, unsupported_auth[i]))
			return fail(ret_error, -EBADMSG,
				    "%s: auth method '%s' is not supported "
				    "(use a client certificate or a token)",
				    where, unsupported_auth[i]);
	r = load_blob(u, "client-certificate", base_dir, where, &c->cert, ret_error);
	if (r < 0)
		return r;
	r = load_blob(u, "client-key", base_dir, where, &c->key, ret_error);
	if (r < 0)
		return r;
	if (!c->cert.len != !c->key.len)
		return fail(ret_error, -EBADMSG,
			    "%s: client-certificate and client-key must be given together", where);
	return load_token(c, u, base_dir, where, ret_error);
}

static int load_kubeconfig(struct kapi_config *c, const json_t *root, const char *base_dir,
			   char **ret_error)
{
	const char *cur = str_of(root, "current-context"), *cluster, *user, *ns;
	const json_t *ctx, *cl, *u;
	int r;

	if (!cur)
		return fail(ret_error, -EBADMSG, "current-context is not set");
	ctx = named(root, "contexts", cur, "context", ret_error);
	if (!ctx)
		return -EBADMSG;
	cluster = str_of(ctx, "cluster");
	if (!cluster)
		return fail(ret_error, -EBADMSG, "context '%s' names no cluster", cur);
	cl = named(root, "clusters", cluster, "cluster", ret_error);
	if (!cl)
		return -EBADMSG;
	r = load_cluster(c, cl, cluster, base_dir, ret_error);
	if (r < 0)
		return r;
	ns = str_of(ctx, "namespace");
	if (ns && !(c->namespace = strdup(ns)))
		return -ENOMEM;
	user = str_of(ctx, "user");
	if (!user)
		return 0; /* anonymous, as kubectl allows */
	u = named(root, "users", user, "user", ret_error);
	if (!u)
		return -EBADMSG;
	return load_user(c, u, user, base_dir, ret_error);
}

int kapi_config_from_string(const char *yaml, const char *base_dir, struct kapi_config **ret,
			    char **ret_error)
{
	_cleanup_(kapi_config_freep) struct kapi_config *c = NULL;
	_cleanup_json_ json_t *root = NULL;
	int r;

	r = yaml_to_json(yaml, &root, ret_error);
	if (r < 0)
		return r;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	r = load_kubeconfig(c, root, base_dir, ret_error);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(c);
	return 0;
}

int kapi_config_load(const char *path, struct kapi_config **ret, char **ret_error)
{
	_cleanup_free_ char *dir_copy = strdup(path);
	struct kapi_blob text = {};
	int r;

	if (!dir_copy)
		return -ENOMEM;
	r = kapi_read_file(path, &text);
	if (r < 0)
		return fail(ret_error, r, "cannot read kubeconfig '%s': %s", path, strerror(-r));
	if (memchr(text.data, 0, text.len))
		r = fail(ret_error, -EBADMSG, "kubeconfig '%s' contains a NUL byte", path);
	else
		r = kapi_config_from_string((const char *)text.data, dirname(dir_copy), ret,
					    ret_error);
	kapi_blob_done(&text);
	return r;
}

int kapi_config_find(const char *path, struct kapi_config **ret, char **ret_error)
{
	int r;

	if (path)
		return kapi_config_load(path, ret, ret_error);
	r = kapi_config_in_cluster(NULL, ret);
	if (r < 0)
		return fail(ret_error, r, "No kubeconfig and no in-cluster config: %s", strerror(-r));
	return 0;
}

int kapi_config_from_kubeconfig(const char *path, struct kapi_config **ret)
{
	return kapi_config_load(path, ret, NULL);
}

static int in_cluster_server(char **ret)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	bool v6;

	if (!host || !*host || !port || !*port)
		return -ENOENT;
	v6 = strchr(host, ':') != NULL;
	if (asprintf(ret, "https://%s%s%s:%s", v6 ? "[" : "", host, v6 ? "]" : "", port) < 0)
		return -ENOMEM;
	return 0;
}

int kapi_config_in_cluster(const char *sa_dir, struct kapi_config **ret)
{
	_cleanup_(kapi_config_freep) struct kapi_config *c = calloc(1, sizeof(*c));
	_cleanup_free_ char *token_path = NULL, *ca_path = NULL;
	struct kapi_blob tok = {};
	int r;

	if (!c)
		return -ENOMEM;
	if (!sa_dir)
		sa_dir = "/var/run/secrets/kubernetes.io/serviceaccount";
	r = in_cluster_server(&c->server);
	if (r < 0)
		return r;
	if (asprintf(&token_path, "%s/token", sa_dir) < 0 ||
	    asprintf(&ca_path, "%s/ca.crt", sa_dir) < 0)
		return -ENOMEM;
	r = kapi_read_file(token_path, &tok);
	if (r < 0)
		return r;
	c->token = (char *)tok.data;
	for (size_t n = tok.len; n > 0 && (c->token[n - 1] == '\n' || c->token[n - 1] == ' ');)
		c->token[--n] = 0;
	if (!*c->token)
		return -EBADMSG;
	r = kapi_read_file(ca_path, &c->ca);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(c);
	return 0;
}

const char *kapi_config_server(const struct kapi_config *c)
{
	return c->server;
}

const void *kapi_config_ca(const struct kapi_config *c, size_t *ret_len)
{
	*ret_len = c->ca.len;
	return c->ca.len ? c->ca.data : NULL;
}

const char *kapi_config_namespace(const struct kapi_config *c)
{
	return c->namespace;
}

struct kapi_config *kapi_config_free(struct kapi_config *c)
{
	if (!c)
		return NULL;
	free(c->server);
	free(c->namespace);
	if (c->key.data)
		explicit_bzero(c->key.data, c->key.len);
	if (c->token)
		explicit_bzero(c->token, strlen(c->token));
	kapi_blob_done(&c->ca);
	kapi_blob_done(&c->cert);
	kapi_blob_done(&c->key);
	free(c->token);
	free(c);
	return NULL;
}

static int digest_field(EVP_MD_CTX *md, const void *data, size_t len)
{
	uint64_t n = len; /* length-prefixed: fields cannot run into each other */

	if (!EVP_DigestUpdate(md, &n, sizeof(n)) || (len && !EVP_DigestUpdate(md, data, len)))
		return -ENOMEM;
	return 0;
}

int kapi_config_fingerprint(const struct kapi_config *c, unsigned char ret[32])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char insecure = c->insecure;
	unsigned int len = 0;
	int r = -ENOMEM;

	if (md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) &&
	    digest_field(md, c->server, c->server ? strlen(c->server) : 0) == 0 &&
	    digest_field(md, c->ca.data, c->ca.len) == 0 &&
	    digest_field(md, c->cert.data, c->cert.len) == 0 &&
	    digest_field(md, c->key.data, c->key.len) == 0 &&
	    digest_field(md, c->token, c->token ? strlen(c->token) : 0) == 0 &&
	    digest_field(md, &insecure, 1) == 0 && EVP_DigestFinal_ex(md, ret, &len) && len == 32)
		r = 0;
	EVP_MD_CTX_free(md);
	return r;
}
