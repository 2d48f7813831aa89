/* typha-c's framing and message checks; see typhaproto.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "array.h"
#include "kapi.h"
#include "typhaproto.h"

static const char *const type_names[_TYPHAPROTO_TYPE_MAX] = {
	[TYPHAPROTO_HELLO] = "hello", [TYPHAPROTO_SNAPSHOT] = "snapshot",
	[TYPHAPROTO_SYNCED] = "synced", [TYPHAPROTO_EVENT] = "event",
	[TYPHAPROTO_PING] = "ping",   [TYPHAPROTO_ERROR] = "error",
};

const char *typhaproto_type_to_string(enum typhaproto_type t)
{
	return t >= 0 && t < _TYPHAPROTO_TYPE_MAX ? type_names[t] : NULL;
}

enum typhaproto_type typhaproto_type_from_string(const char *s)
{
	for (int i = 0; s && i < _TYPHAPROTO_TYPE_MAX; i++)
		if (strcmp(type_names[i], s) == 0)
			return i;
	return _TYPHAPROTO_TYPE_INVALID;
}

void typhaproto_reader_done(struct typhaproto_reader *r)
{
	free(r->buf);
	*r = (struct typhaproto_reader){ .max = r->max };
}

static size_t reader_max(const struct typhaproto_reader *r)
{
	return r->max ? r->max : TYPHAPROTO_MAX_LINE;
}

int typhaproto_reader_feed(struct typhaproto_reader *r, const void *data, size_t n)
{
	if (r->off) { /* drop the messages already taken */
		memmove(r->buf, r->buf + r->off, r->len - r->off);
		r->len -= r->off;
		r->off = 0;
	}
	if (ARRAY_GROW(r->buf, r->cap, r->len + n) < 0)
		return -ENOMEM;
	memcpy(r->buf + r->len, data, n);
	r->len += n;
	if (r->len > reader_max(r) && !memchr(r->buf, '\n', reader_max(r) + 1))
		return -EMSGSIZE;
	return 0;
}

int typhaproto_reader_next(struct typhaproto_reader *r, json_t **ret,
			   enum typhaproto_type *ret_type)
{
	char *start = r->buf + r->off;
	char *nl = r->len > r->off ? memchr(start, '\n', r->len - r->off) : NULL;
	size_t n;
	json_t *msg;
	enum typhaproto_type t;

	if (!nl)
		return 0;
	n = (size_t)(nl - start);
	msg = json_loadb(start, n, JSON_REJECT_DUPLICATES, NULL);
	r->off += n + 1;
	t = typhaproto_type_from_string(json_string_value(json_object_get(msg, "type")));
	if (!json_is_object(msg) || t < 0) {
		json_decref(msg);
		return -EBADMSG;
	}
	*ret = msg;
	*ret_type = t;
	return 1;
}

int typhaproto_encode(const json_t *msg, char **ret, size_t *ret_len)
{
	size_t n = json_dumpb(msg, NULL, 0, JSON_COMPACT);
	char *buf;

	if (n == 0)
		return -ENOMEM;
	if (n >= TYPHAPROTO_MAX_LINE)
		return -EMSGSIZE;
	buf = malloc(n + 1);
	if (!buf)
		return -ENOMEM;
	if (json_dumpb(msg, buf, n, JSON_COMPACT) != n) {
		free(buf);
		return -ENOMEM;
	}
	buf[n] = '\n';
	*ret = buf;
	*ret_len = n + 1;
	return 0;
}

static bool is_str(const json_t *msg, const char *key)
{
	return json_is_string(json_object_get(msg, key));
}

static const char *check_hello(const json_t *msg)
{
	const json_t *kinds = json_object_get(msg, "kinds"), *k;
	size_t i;

	if (json_integer_value(json_object_get(msg, "version")) != TYPHAPROTO_VERSION)
		return "hello: unsupported version (want 1)";
	if (!is_str(msg, "node") || !is_str(msg, "secretsNamespace"))
		return "hello: node and secretsNamespace must be strings";
	if (!json_is_array(kinds) || json_array_size(kinds) == 0)
		return "hello: kinds must be a non-empty array";
	json_array_foreach(kinds, i, k)
		if (!json_is_string(k))
			return "hello: kinds must be strings";
	return NULL;
}

static const char *check_event(const json_t *msg)
{
	const json_t *seq = json_object_get(msg, "seq"), *obj = json_object_get(msg, "object");
	const char *ev = json_string_value(json_object_get(msg, "event"));
	enum kapi_event_type t = kapi_event_type_from_string(ev);

	if (!json_is_integer(seq) || json_integer_value(seq) < 1)
		return "event: seq must be a positive integer";
	if (!is_str(msg, "kind"))
		return "event: kind must be a string";
	if (t != KAPI_EVENT_ADDED && t != KAPI_EVENT_MODIFIED && t != KAPI_EVENT_DELETED)
		return "event: event must be ADDED, MODIFIED or DELETED";
	if (!json_is_object(obj) || !kapi_obj_name(obj))
		return "event: object must be an object with metadata.name";
	return NULL;
}

int typhaproto_check(const json_t *msg, enum typhaproto_type t, const char **ret_error)
{
	const char *err = NULL;

	switch (t) {
	case TYPHAPROTO_HELLO:
		err = check_hello(msg);
		break;
	case TYPHAPROTO_SNAPSHOT:
		if (!is_str(msg, "kind") || !json_is_array(json_object_get(msg, "items")) ||
		    !json_is_boolean(json_object_get(msg, "last")))
			err = "snapshot: kind (string), items (array), last (bool) required";
		break;
	case TYPHAPROTO_EVENT:
		err = check_event(msg);
		break;
	case TYPHAPROTO_ERROR:
		if (!is_str(msg, "message"))
			err = "error: message must be a string";
		break;
	default:
		break;
	}
	if (err) {
		*ret_error = err;
		return -EBADMSG;
	}
	return 0;
}
