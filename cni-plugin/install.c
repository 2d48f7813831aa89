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

#include "array.h"
#include "cleanup.h"
#include "cni-plugin/install.h"
#include "errmsg.h"

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
	if (ARRAY_GROW(b->s, b->cap, b->len + n + 1) < 0) {
		b->oom = true;
		return;
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
