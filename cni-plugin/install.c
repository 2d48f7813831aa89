/* Rendering, validation and atomic file replacement for install-cni (see
 * install.h). Pure except for the file helpers at the end, which touch only
 * the paths they are given.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "base64.h"
#include "cleanup.h"
#include "cni-plugin/install.h"
#include "errmsg.h"
#include "kapi.h"

/* A growing string; on ENOMEM it stays NULL and every later append is a no-op. */
struct strbuf {
	char *s;
	size_t len, cap;
	bool oom;
};

static void sb_add(struct strbuf *b, const char *p, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *s;

		while (cap < b->len + n + 1)
			cap *= 2;
		s = realloc(b->s, cap);
		if (!s) {
			b->oom = true;
			return;
		}
		b->s = s;
		b->cap = cap;
	}
	memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static int sb_finish(struct strbuf *b, char **ret)
{
	if (b->oom || !b->s) {
		free(b->s);
		return -ENOMEM;
	}
	*ret = b->s;
	return 0;
}

/* Appends @v escaped for the inside of a JSON string. */
static void sb_json_escaped(struct strbuf *b, const char *v)
{
	for (; *v; v++) {
		unsigned char c = (unsigned char)*v;
		char esc[8];

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			sb_add(b, esc, 2);
		} else if (c < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			sb_add(b, esc, 6);
		} else {
			sb_add(b, v, 1);
		}
	}
}

/* Length of the placeholder starting at @p, 0 if none starts there. A
 * placeholder is "__" + words of [A-Z0-9] joined by single "_" + "__". */
static size_t placeholder_len(const char *p)
{
	const char *q = p + 2;

	if (p[0] != '_' || p[1] != '_' || !isupper((unsigned char)*q))
		return 0;
	for (;;) {
		while (isupper((unsigned char)*q) || isdigit((unsigned char)*q))
			q++;
		if (q[0] == '_' && q[1] == '_')
			return (size_t)(q + 2 - p);
		if (q[0] != '_' || !(isupper((unsigned char)q[1]) || isdigit((unsigned char)q[1])))
			return 0;
		q++;
	}
}

static const struct install_var *var_find(const struct install_var *vars, size_t n, const char *p,
					  size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(vars[i].name) == len && memcmp(vars[i].name, p, len) == 0)
			return &vars[i];
	return NULL;
}

int install_render(const char *tmpl, const struct install_var *vars, size_t n_vars, char **ret,
		   char **ret_error)
{
	struct strbuf b = {};
	const char *p = tmpl, *start = tmpl;

	while (*p) {
		size_t len = placeholder_len(p);
		const struct install_var *v;

		if (!len) {
			p++;
			continue;
		}
		v = var_find(vars, n_vars, p, len);
		if (!v) {
			free(b.s);
			return errmsg_set(ret_error, -EINVAL,
					  "template: unknown placeholder '%.*s' at offset %zu",
					  (int)len, p, (size_t)(p - tmpl));
		}
		sb_add(&b, start, (size_t)(p - start));
		sb_json_escaped(&b, v->value ? v->value : "");
		p += len;
		start = p;
	}
	sb_add(&b, start, (size_t)(p - start));
	return sb_finish(&b, ret);
}

static int check_plugin(const json_t *pl, const char *where, char **ret_error)
{
	const json_t *type = json_object_get(pl, "type");

	if (!json_is_object(pl))
		return errmsg_set(ret_error, -EINVAL, "%s is not an object", where);
	if (!json_is_string(type) || !*json_string_value(type))
		return errmsg_set(ret_error, -EINVAL, "%s has no string \"type\"", where);
	return 0;
}

int install_validate_conflist(const char *text, bool is_list, char **ret_error)
{
	json_error_t e;
	json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &e);
	const json_t *plugins, *pl;
	char where[48];
	size_t i;
	int r = 0;

	if (!j)
		return errmsg_set(ret_error, -EINVAL,
				  "rendered CNI config is not valid JSON: line %d column %d: %s",
				  e.line, e.column, e.text);
	if (!json_is_object(j))
		r = errmsg_set(ret_error, -EINVAL, "rendered CNI config is not a JSON object");
	else if (!json_is_string(json_object_get(j, "cniVersion")))
		r = errmsg_set(ret_error, -EINVAL,
			       "rendered CNI config has no string \"cniVersion\"");
	else if (!json_is_string(json_object_get(j, "name")) ||
		 !*json_string_value(json_object_get(j, "name")))
		r = errmsg_set(ret_error, -EINVAL, "rendered CNI config has no string \"name\"");
	else if (!is_list)
		r = check_plugin(j, "the CNI config", ret_error);
	else {
		plugins = json_object_get(j, "plugins");
		if (!json_is_array(plugins) || json_array_size(plugins) == 0)
			r = errmsg_set(
			    ret_error, -EINVAL,
			    "rendered CNI config list has no non-empty \"plugins\" array");
		json_array_foreach(plugins, i, pl)
		{
			snprintf(where, sizeof(where), "plugins[%zu]", i);
			if (r == 0)
				r = check_plugin(pl, where, ret_error);
		}
	}
	json_decref(j);
	return r;
}

int install_server_url(const char *host, const char *port, char **ret, char **ret_error)
{
	bool v6;

	if (!host || !*host)
		return errmsg_set(ret_error, -EINVAL, "KUBERNETES_SERVICE_HOST is not set");
	if (!port || !*port || strspn(port, "0123456789") != strlen(port) || strlen(port) > 5 ||
	    atoi(port) < 1 || atoi(port) > 65535)
		return errmsg_set(ret_error, -EINVAL, "KUBERNETES_SERVICE_PORT '%s' is not a port",
				  port ? port : "");
	if (strpbrk(host, "/ \t\n\"'@[]"))
		return errmsg_set(ret_error, -EINVAL, "KUBERNETES_SERVICE_HOST '%s' is not a host",
				  host);
	v6 = strchr(host, ':') != NULL;
	if (asprintf(ret, "https://%s%s%s:%s", v6 ? "[" : "", host, v6 ? "]" : "", port) < 0)
		return -ENOMEM;
	return 0;
}

int install_token_check(const char *token, char **ret_error)
{
	if (!token || !*token)
		return errmsg_set(ret_error, -EINVAL, "the service account token is empty");
	for (const char *p = token; *p; p++)
		if (*p <= ' ' || *p > '~' || *p == '"' || *p == '\\' || *p == '\'')
			return errmsg_set(ret_error, -EINVAL,
					  "the service account token has a character that is not "
					  "allowed in a bearer token (byte %zu)",
					  (size_t)(p - token));
	return 0;
}

int install_kubeconfig_render(const char *server, const void *ca, size_t ca_len, const char *token,
			      char **ret, char **ret_error)
{
	_cleanup_free_ char *ca64 = NULL;
	int r;

	r = install_token_check(token, ret_error);
	if (r < 0)
		return r;
	if (!ca || ca_len == 0 || ca_len > (1u << 20))
		return errmsg_set(ret_error, -EINVAL, "the CA bundle is empty or too large");
	r = base64_encode(ca, ca_len, &ca64);
	if (r < 0)
		return r;
	if (asprintf(ret,
		     "# Written by calico-c-install-cni for the calico-c CNI plugin; felix-c\n"
		     "# replaces the token before it expires (felix-c/cnitoken.h).\n"
		     "apiVersion: v1\n"
		     "kind: Config\n"
		     "clusters:\n"
		     "- name: local\n"
		     "  cluster:\n"
		     "    server: \"%s\"\n"
		     "    certificate-authority-data: \"%s\"\n"
		     "users:\n"
		     "- name: calico-c-cni\n"
		     "  user:\n"
		     "    token: \"%s\"\n"
		     "contexts:\n"
		     "- name: calico-c-cni\n"
		     "  context:\n"
		     "    cluster: local\n"
		     "    user: calico-c-cni\n"
		     "current-context: calico-c-cni\n",
		     server, ca64, token) < 0)
		return -ENOMEM;
	return 0;
}

/* ---- files ---- */

static int dir_of(const char *path, char **ret_dir, const char **ret_base)
{
	const char *slash = strrchr(path, '/');

	if (!slash) {
		*ret_dir = strdup(".");
		*ret_base = path;
	} else {
		*ret_dir = strndup(path, slash == path ? 1 : (size_t)(slash - path));
		*ret_base = slash + 1;
	}
	if (!**ret_base)
		return free(*ret_dir), -EINVAL;
	return *ret_dir ? 0 : -ENOMEM;
}

/* Opens a fresh temp file next to @path; @ret_tmp gets its name. */
static int open_temp(const char *path, char **ret_tmp)
{
	_cleanup_free_ char *dir = NULL;
	const char *base;
	int fd, r;

	r = dir_of(path, &dir, &base);
	if (r < 0)
		return r;
	if (asprintf(ret_tmp, "%s/.%s.tmp-XXXXXX", dir, base) < 0)
		return -ENOMEM;
	fd = mkostemp(*ret_tmp, O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		free(*ret_tmp);
		*ret_tmp = NULL;
		return r;
	}
	return fd;
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* fsync, chmod, close and rename the temp file @fd/@tmp over @path. */
static int commit_temp(int fd, const char *tmp, const char *path, mode_t mode)
{
	if (fchmod(fd, mode) < 0 || fsync(fd) < 0)
		return -errno;
	if (rename(tmp, path) < 0)
		return -errno;
	return 0;
}

int install_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	_cleanup_free_ char *tmp = NULL;
	_cleanup_close_ int fd = open_temp(path, &tmp);
	int r;

	if (fd < 0)
		return fd;
	r = write_all(fd, data, len);
	if (r == 0)
		r = commit_temp(fd, tmp, path, mode);
	if (r < 0)
		(void)unlink(tmp);
	return r;
}

int install_copy_atomic(const char *src, const char *dst, mode_t mode)
{
	_cleanup_close_ int in = open(src, O_RDONLY | O_CLOEXEC);
	_cleanup_free_ char *tmp = NULL;
	_cleanup_close_ int fd = -1;
	char buf[65536];
	ssize_t n;
	int r = 0;

	if (in < 0)
		return -errno;
	fd = open_temp(dst, &tmp);
	if (fd < 0)
		return fd;
	while (r == 0 && (n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0)
			r = errno == EINTR ? 0 : -errno;
		else
			r = write_all(fd, buf, (size_t)n);
	}
	if (r == 0)
		r = commit_temp(fd, tmp, dst, mode);
	if (r < 0)
		(void)unlink(tmp);
	return r;
}

int install_token_request(struct kapi *k, const char *ns, const char *name, unsigned long seconds,
			  char **ret_token, char **ret_expiry)
{
	_cleanup_free_ char *path = NULL, *tok = NULL, *exp = NULL;
	json_t *req, *resp = NULL, *status;
	int r;

	if (asprintf(&path, "/api/v1/namespaces/%s/serviceaccounts/%s/token", ns, name) < 0)
		return -ENOMEM;
	req = json_pack("{s:s,s:s,s:{s:I}}", "apiVersion", "authentication.k8s.io/v1", "kind",
			"TokenRequest", "spec", "expirationSeconds", (json_int_t)seconds);
	if (!req)
		return -ENOMEM;
	r = kapi_create(k, path, req, &resp);
	json_decref(req);
	if (r < 0)
		return r;
	status = json_object_get(resp, "status");
	if (json_string_value(json_object_get(status, "token")) &&
	    json_string_value(json_object_get(status, "expirationTimestamp"))) {
		tok = strdup(json_string_value(json_object_get(status, "token")));
		exp = strdup(json_string_value(json_object_get(status, "expirationTimestamp")));
		r = tok && exp ? 0 : -ENOMEM;
	} else {
		r = -EBADMSG;
	}
	json_decref(resp);
	if (r < 0)
		return r;
	*ret_token = TAKE_PTR(tok);
	*ret_expiry = TAKE_PTR(exp);
	return 0;
}
