/* Incremental JSON object stream: a byte scanner tracks string/escape state
 * and brace/bracket depth to find where each top-level object ends, keeping
 * the object's bytes in a buffer; jansson parses the complete object. The
 * scanner never looks back, so each byte is examined once however the
 * stream is chunked.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "cleanup.h"
#include "jsonstream.h"

#define JSONSTREAM_DEFAULT_MAX (64u << 20)
#define JSONSTREAM_MAX_DEPTH 512

/* Owner: whoever called jsonstream_new(). */
struct jsonstream {
	char *buf;	   /* bytes of the current object */
	size_t len, cap;   /* used / allocated bytes of buf */
	size_t max_object; /* limit in bytes */
	unsigned depth;	   /* open { and [ in the current object; 0: between objects */
	bool in_string;	   /* inside a "..." */
	bool escape;	   /* previous byte was a backslash inside a string */
	int error;	   /* sticky negative errno, 0 if fine */
};

int jsonstream_new(size_t max_object, struct jsonstream **ret)
{
	struct jsonstream *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->max_object = max_object ? max_object : JSONSTREAM_DEFAULT_MAX;
	*ret = s;
	return 0;
}

struct jsonstream *jsonstream_free(struct jsonstream *s)
{
	if (!s)
		return NULL;
	free(s->buf);
	free(s);
	return NULL;
}

void jsonstream_reset(struct jsonstream *s)
{
	s->len = 0;
	s->depth = 0;
	s->in_string = false;
	s->escape = false;
	s->error = 0;
}

size_t jsonstream_pending(const struct jsonstream *s)
{
	return s->len;
}

int jsonstream_finish(const struct jsonstream *s)
{
	if (s->error)
		return -EBADMSG;
	return s->depth == 0 ? 0 : -EBADMSG;
}

static int append(struct jsonstream *s, const char *data, size_t n)
{
	int r;

	if (n > s->max_object - s->len)
		return -EMSGSIZE;
	r = array_grow_max((void **)&s->buf, &s->cap, s->len + n, s->max_object, 1);
	if (r < 0)
		return r;
	memcpy(s->buf + s->len, data, n);
	s->len += n;
	return 0;
}

/* Advances the scanner over one byte inside an object; true when it closed
 * the top-level object. */
static int scan_byte(struct jsonstream *s, char c)
{
	if (s->in_string) {
		if (s->escape)
			s->escape = false;
		else if (c == '\\')
			s->escape = true;
		else if (c == '"')
			s->in_string = false;
		return 0;
	}
	switch (c) {
	case '"':
		s->in_string = true;
		return 0;
	case '{':
	case '[':
		if (++s->depth > JSONSTREAM_MAX_DEPTH)
			return -EBADMSG;
		return 0;
	case '}':
	case ']':
		/* mismatched closers are left for jansson to reject */
		return --s->depth == 0 ? 1 : 0;
	default:
		return 0;
	}
}

static int emit(struct jsonstream *s, jsonstream_cb cb, void *userdata)
{
	json_t *obj = json_loadb(s->buf, s->len, 0, NULL);
	int r;

	s->len = 0;
	if (!json_is_object(obj)) {
		json_decref(obj);
		return -EBADMSG;
	}
	r = cb(obj, userdata);
	json_decref(obj);
	return r;
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

int jsonstream_feed(struct jsonstream *s, const char *data, size_t len, jsonstream_cb cb,
		    void *userdata)
{
	size_t i = 0, start;
	int n = 0, r;

	if (s->error)
		return s->error;
	while (i < len) {
		if (s->depth == 0) {
			/* between objects: whitespace, then '{' */
			if (is_ws(data[i])) {
				i++;
				continue;
			}
			if (data[i] != '{')
				return s->error = -EBADMSG;
		}
		start = i;
		r = 0;
		while (i < len && (r = scan_byte(s, data[i++])) == 0)
			;
		if (r < 0)
			return s->error = r;
		r = append(s, data + start, i - start);
		if (r < 0)
			return s->error = r;
		if (s->depth != 0 || s->in_string)
			continue; /* chunk ended inside the object */
		r = emit(s, cb, userdata);
		if (r < 0)
			return s->error = r;
		n++;
	}
	return n;
}
