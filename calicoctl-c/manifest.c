/* Manifest files: documents -> flat array of objects (see manifest.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "calicoctl-c/manifest.h"
#include "cleanup.h"
#include "crdvalid.h"
#include "errmsg.h"
#include "yamljson.h"

#define MANIFEST_MAX (16u << 20)
#define CALICO_V3 "projectcalico.org/v3"

bool ctl_is_policy_kind(const char *kind)
{
	return kind && (strcmp(kind, "NetworkPolicy") == 0 ||
			strcmp(kind, "GlobalNetworkPolicy") == 0);
}

char *ctl_policy_stored_name(const char *name)
{
	char *s = NULL;

	if (strchr(name, '.'))
		return strdup(name);
	return asprintf(&s, "default.%s", name) < 0 ? NULL : s;
}

/* A v3 object as its CRD holds it: apiVersion, and a policy's stored name. */
static int from_v3(json_t *o)
{
	json_t *md = json_object_get(o, "metadata");
	const char *name = json_string_value(json_object_get(md, "name"));
	_cleanup_free_ char *stored = NULL;

	if (json_object_set_new(o, "apiVersion", json_string(CRDVALID_API_VERSION)) < 0)
		return -ENOMEM;
	if (!ctl_is_policy_kind(json_string_value(json_object_get(o, "kind"))) || !name)
		return 0;
	stored = ctl_policy_stored_name(name);
	return stored && json_object_set_new(md, "name", json_string(stored)) == 0 ? 0 : -ENOMEM;
}

static int add_object(json_t *out, const json_t *o, size_t doc, const char *where,
		      char **ret_error)
{
	const char *av = json_string_value(json_object_get(o, "apiVersion"));
	json_t *copy;

	if (!json_is_object(o))
		return errmsg_set(ret_error, -EINVAL, "document %zu%s: not an object", doc, where);
	copy = json_deep_copy(o);
	if (!copy)
		return -ENOMEM;
	if (av && strcmp(av, CALICO_V3) == 0 && from_v3(copy) < 0) {
		json_decref(copy);
		return -ENOMEM;
	}
	return json_array_append_new(out, copy) < 0 ? -ENOMEM : 0;
}

static bool is_list(const json_t *d)
{
	const char *kind = json_string_value(json_object_get(d, "kind"));
	size_t n = kind ? strlen(kind) : 0;

	return n >= 4 && strcmp(kind + n - 4, "List") == 0 && json_object_get(d, "items");
}

int ctl_manifest_parse(const char *text, size_t len, json_t **ret_objs, char **ret_error)
{
	json_t *docs = NULL, *d, *it, *out;
	size_t i, k;
	int r;

	r = yamljson_parse(text, len, &docs, ret_error);
	if (r < 0)
		return r;
	out = json_array();
	if (!out) {
		json_decref(docs);
		return -ENOMEM;
	}
	json_array_foreach(docs, i, d) {
		if (is_list(d) && !json_is_array(json_object_get(d, "items")))
			r = errmsg_set(ret_error, -EINVAL, "document %zu: items is not a list", i + 1);
		else if (is_list(d))
			json_array_foreach(json_object_get(d, "items"), k, it) {
				char where[32];

				snprintf(where, sizeof(where), ", item %zu", k + 1);
				r = add_object(out, it, i + 1, where, ret_error);
				if (r < 0)
					break;
			}
		else
			r = add_object(out, d, i + 1, "", ret_error);
		if (r < 0)
			break;
	}
	json_decref(docs);
	if (r < 0) {
		json_decref(out);
		return r;
	}
	*ret_objs = out;
	return 0;
}

static int read_all(FILE *f, char **ret, size_t *ret_len)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap = 0, n;
	int r;

	do {
		r = array_grow_max((void **)&buf, &cap, len + 4096, MANIFEST_MAX, 1);
		if (r < 0)
			return r;
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	if (ferror(f))
		return -EIO;
	*ret = TAKE_PTR(buf);
	*ret_len = len;
	return 0;
}

int ctl_manifest_read(const char *path, json_t **ret_objs, char **ret_error)
{
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int r;

	if (strcmp(path, "-") != 0) {
		f = fopen(path, "re");
		if (!f)
			return errmsg_set(ret_error, -errno, "cannot open '%s': %m", path);
	}
	r = read_all(f ? f : stdin, &text, &len);
	if (r < 0)
		return errmsg_set(ret_error, r, "cannot read '%s'", path);
	return ctl_manifest_parse(text ? text : "", len, ret_objs, ret_error);
}
