/* YAML to JSON values (see yamljson.h). Builds the tree from libyaml's event
 * stream with an explicit stack of open containers, so the depth is bounded
 * and no recursion follows the input.
 *
 * Scalar typing follows what kubectl does with a manifest (its YAML library
 * resolves plain scalars with the YAML 1.1 rules): besides the core schema's
 * null/true/false/numbers, plain yes/no/on/off (any of the three cases) are
 * booleans, so a manifest means the same to us as to kubectl.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "cleanup.h"
#include "errmsg.h"
#include "yamljson.h"

struct level {
	json_t *node; /* open container, owned */
	char *key;    /* mapping: the pending key, NULL when a key is expected */
};

struct ytree {
	struct level lv[YAMLJSON_MAX_DEPTH];
	unsigned depth;
	json_t *docs; /* the result array */
	json_t *doc;  /* the current document's root, NULL while empty */
};

static void ytree_done(struct ytree *t)
{
	for (unsigned i = 0; i < t->depth; i++) {
		json_decref(t->lv[i].node);
		free(t->lv[i].key);
	}
	json_decref(t->docs);
	json_decref(t->doc);
	*t = (struct ytree){};
}

static bool is_one_of(const char *s, size_t len, const char *const *words)
{
	for (; *words; words++)
		if (strlen(*words) == len && memcmp(*words, s, len) == 0)
			return true;
	return false;
}

static bool all_in(const char *s, size_t len, const char *set)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!strchr(set, s[i]))
			return false;
	return true;
}

/* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static bool is_float(const char *s, size_t len)
{
	size_t i = 0, digits = 0;

	if (i < len && (s[i] == '-' || s[i] == '+'))
		i++;
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
		digits++;
	if (i < len && s[i] == '.')
		for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			digits++;
	if (digits == 0)
		return false;
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		size_t exp = 0;

		i++;
		if (i < len && (s[i] == '-' || s[i] == '+'))
			i++;
		for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			exp++;
		if (exp == 0)
			return false;
	}
	return i == len;
}

/* Integer forms: decimal, 0x hex, 0o octal; NULL when @s is none of them
 * (or out of range, then the caller tries a float). */
static json_t *integer_of(const char *s, size_t len)
{
	char buf[72];
	const char *p = buf;
	bool neg = false;
	int base = 10;
	unsigned long long v;
	char *end;

	if (len == 0 || len >= sizeof(buf))
		return NULL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'o')) {
		base = p[1] == 'x' ? 16 : 8;
		p += 2;
		if (!all_in(p, strlen(p), base == 16 ? "0123456789abcdefABCDEF" : "01234567"))
			return NULL;
	} else if (!all_in(p, strlen(p), "0123456789")) {
		return NULL;
	}
	errno = 0;
	v = strtoull(p, &end, base);
	if (errno || *end || v > (unsigned long long)INT64_MAX + (neg ? 1 : 0))
		return NULL;
	return json_integer(neg ? (json_int_t)(0 - v) : (json_int_t)v);
}

json_t *yamljson_scalar(const char *text, size_t len)
{
	static const char *const nulls[] = { "null", "Null", "NULL", "~", NULL };
	static const char *const trues[] = { "true", "True", "TRUE", "yes", "Yes", "YES",
					     "on", "On", "ON", NULL };
	static const char *const falses[] = { "false", "False", "FALSE", "no", "No", "NO",
					      "off", "Off", "OFF", NULL };
	json_t *v;

	if (len == 0 || is_one_of(text, len, nulls))
		return json_null();
	if (is_one_of(text, len, trues))
		return json_true();
	if (is_one_of(text, len, falses))
		return json_false();
	if ((v = integer_of(text, len)))
		return v;
	if (is_float(text, len)) {
		char buf[128];

		if (len < sizeof(buf)) {
			memcpy(buf, text, len);
			buf[len] = '\0';
			v = json_real(strtod(buf, NULL)); /* NULL for inf: then a string */
			if (v)
				return v;
		}
	}
	return json_stringn(text, len);
}

/* Attaches @v (reference stolen) where the open container wants it. */
static int ytree_add(struct ytree *t, json_t *v)
{
	struct level *top;

	if (!v)
		return -ENOMEM;
	if (t->depth == 0) {
		t->doc = v;
		return 0;
	}
	top = &t->lv[t->depth - 1];
	if (json_is_array(top->node))
		return json_array_append_new(top->node, v) < 0 ? -ENOMEM : 0;
	if (json_object_set_new(top->node, top->key, v) < 0)
		return -ENOMEM;
	free(top->key);
	top->key = NULL;
	return 0;
}

/* A scalar in key position: the key's text, checked for duplicates. */
static int ytree_key(struct ytree *t, const yaml_event_t *e, char **ret_error)
{
	struct level *top = &t->lv[t->depth - 1];
	const char *s = (const char *)e->data.scalar.value;
	size_t len = e->data.scalar.length;

	if (memchr(s, '\0', len))
		return errmsg_set(ret_error, -EBADMSG, "line %zu: a key contains a NUL byte",
				  e->start_mark.line + 1);
	top->key = strndup(s, len);
	if (!top->key)
		return -ENOMEM;
	if (json_object_get(top->node, top->key))
		return errmsg_set(ret_error, -EBADMSG, "line %zu: duplicate key '%s'",
				  e->start_mark.line + 1, top->key);
	return 0;
}

static bool wants_key(const struct ytree *t)
{
	return t->depth > 0 && json_is_object(t->lv[t->depth - 1].node) &&
	       !t->lv[t->depth - 1].key;
}

static json_t *scalar_value(const yaml_event_t *e)
{
	const char *s = (const char *)e->data.scalar.value, *tag = (const char *)e->data.scalar.tag;
	size_t len = e->data.scalar.length;

	if (tag && strcmp(tag, YAML_STR_TAG) == 0)
		return json_stringn(s, len);
	if (!e->data.scalar.plain_implicit || e->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return json_stringn(s, len);
	return yamljson_scalar(s, len);
}

static int ytree_open(struct ytree *t, const yaml_event_t *e, char **ret_error)
{
	json_t *c;

	if (wants_key(t))
		return errmsg_set(ret_error, -EBADMSG, "line %zu: a mapping key must be a scalar",
				  e->start_mark.line + 1);
	if (t->depth == YAMLJSON_MAX_DEPTH)
		return errmsg_set(ret_error, -EBADMSG, "line %zu: nested deeper than %d levels",
				  e->start_mark.line + 1, YAMLJSON_MAX_DEPTH);
	c = e->type == YAML_MAPPING_START_EVENT ? json_object() : json_array();
	if (!c)
		return -ENOMEM;
	t->lv[t->depth++] = (struct level){ .node = c };
	return 0;
}

static int ytree_event(struct ytree *t, const yaml_event_t *e, char **ret_error)
{
	struct level l;

	switch (e->type) {
	case YAML_SCALAR_EVENT:
		if (wants_key(t))
			return ytree_key(t, e, ret_error);
		return ytree_add(t, scalar_value(e));
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		return ytree_open(t, e, ret_error);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		l = t->lv[--t->depth];
		free(l.key);
		return ytree_add(t, l.node);
	case YAML_ALIAS_EVENT:
		return errmsg_set(ret_error, -EBADMSG, "line %zu: YAML aliases are not supported",
				  e->start_mark.line + 1);
	case YAML_DOCUMENT_END_EVENT:
		if (t->doc && !json_is_null(t->doc) &&
		    json_array_append_new(t->docs, TAKE_PTR(t->doc)) < 0)
			return -ENOMEM;
		json_decref(t->doc);
		t->doc = NULL;
		return 0;
	default:
		return 0;
	}
}

int yamljson_parse(const char *text, size_t len, json_t **ret, char **ret_error)
{
	_cleanup_(ytree_done) struct ytree t = { .docs = json_array() };
	yaml_parser_t p;
	int r = 0;

	if (!t.docs || !yaml_parser_initialize(&p))
		return -ENOMEM;
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	for (bool done = false; !done && r >= 0;) {
		yaml_event_t e;

		if (!yaml_parser_parse(&p, &e)) {
			r = errmsg_set(ret_error, -EBADMSG, "line %zu: %s%s%s",
				       p.problem_mark.line + 1,
				       p.problem ? p.problem : "malformed YAML",
				       p.context ? " " : "", p.context ? p.context : "");
			break;
		}
		done = e.type == YAML_STREAM_END_EVENT;
		r = ytree_event(&t, &e, ret_error);
		yaml_event_delete(&e);
	}
	yaml_parser_delete(&p);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(t.docs);
	return 0;
}

/* ---- emitting -------------------------------------------------------- */

/* The code point at @s when YAML cannot carry it raw (C1 controls, of
 * which NEL is a line break; LS and PS, line breaks too; BOM, U+FFFE,
 * U+FFFF: libyaml refuses or folds them), its length in *@ret_len; else 0.
 * @s is valid UTF-8 (a JSON string). */
static uint32_t unprintable_at(const char *s, size_t *ret_len)
{
	const unsigned char *p = (const unsigned char *)s;

	if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
		*ret_len = 2;
		return p[1];
	}
	if ((p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9)) ||
	    (p[0] == 0xef && ((p[1] == 0xbb && p[2] == 0xbf) || (p[1] == 0xbf && p[2] >= 0xbe)))) {
		*ret_len = 3;
		return (uint32_t)(p[0] & 0x0f) << 12 | (uint32_t)(p[1] & 0x3f) << 6 | (p[2] & 0x3f);
	}
	return 0;
}

/* Plain form is safe when it reads back as the same string: not a document
 * marker ("---" starts with '-', "..." is refused here), nothing YAML
 * cannot carry raw, no NUL (@n is the string's length). */
static bool plain_ok(const char *s, size_t n)
{
	json_t *back;
	size_t len;
	bool same;

	if (n == 0 || strlen(s) != n || strchr("-?:,[]{}#&*!|>'\"%@` ", s[0]) || s[n - 1] == ' ' ||
	    strstr(s, ": ") || strstr(s, " #") || s[n - 1] == ':' || strncmp(s, "...", 3) == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f || unprintable_at(s + i, &len))
			return false;
	back = yamljson_scalar(s, n);
	same = json_is_string(back) && strcmp(json_string_value(back), s) == 0;
	json_decref(back);
	return same;
}

/* Writes the JSON text @p of a scalar as YAML (a string double-quoted):
 * JSON's escapes are YAML's, but JSON leaves what unprintable_at() finds
 * raw. */
static void put_quoted(const char *p, FILE *f)
{
	while (*p) {
		size_t len;
		uint32_t c = unprintable_at(p, &len);

		if (c) {
			fprintf(f, "\\u%04X", (unsigned)c);
			p += len;
		} else {
			fputc(*p++, f);
		}
	}
}

static void emit_scalar(const json_t *v, FILE *f)
{
	char *text;

	if (json_is_string(v) && plain_ok(json_string_value(v), json_string_length(v))) {
		fputs(json_string_value(v), f);
		return;
	}
	text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
	put_quoted(text ? text : "null", f);
	free(text);
}

static bool is_empty_container(const json_t *v)
{
	return (json_is_object(v) && json_object_size(v) == 0) ||
	       (json_is_array(v) && json_array_size(v) == 0);
}

static void emit_node(const json_t *v, FILE *f, unsigned indent, unsigned depth);

/* After "key:" or "-": a scalar or empty container on the same line,
 * anything else on the next lines. */
static void emit_child(const json_t *v, FILE *f, unsigned indent, unsigned depth)
{
	if (!json_is_object(v) && !json_is_array(v)) {
		fputc(' ', f);
		emit_scalar(v, f);
		fputc('\n', f);
	} else if (is_empty_container(v)) {
		fputs(json_is_object(v) ? " {}\n" : " []\n", f);
	} else {
		fputc('\n', f);
		emit_node(v, f, indent, depth + 1);
	}
}

static void emit_node(const json_t *v, FILE *f, unsigned indent, unsigned depth)
{
	const char *key;
	json_t *e;
	size_t i;

	if (depth > YAMLJSON_MAX_DEPTH) {
		fputs("null\n", f);
		return;
	}
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, key, e) {
			json_t *k = json_string(key);

			fprintf(f, "%*s", (int)indent, "");
			emit_scalar(k ? k : json_null(), f);
			json_decref(k);
			fputc(':', f);
			emit_child(e, f, indent + 2, depth);
		}
	} else if (json_is_array(v)) {
		json_array_foreach((json_t *)v, i, e) {
			fprintf(f, "%*s-", (int)indent, "");
			emit_child(e, f, indent + 2, depth);
		}
	} else {
		fprintf(f, "%*s", (int)indent, "");
		emit_scalar(v, f);
		fputc('\n', f);
	}
}

int yamljson_emit(const json_t *v, FILE *f)
{
	if (is_empty_container(v))
		fputs(json_is_object(v) ? "{}\n" : "[]\n", f);
	else
		emit_node(v, f, 0, 0);
	return ferror(f) ? -EIO : 0;
}
