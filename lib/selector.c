/* Calico selector expressions: a recursive-descent parser into a small tree,
 * and a matcher over a label map.
 *
 * Grammar (lowest precedence first):
 *   or    := and ( "||" and )*
 *   and   := unary ( "&&" unary )*
 *   unary := "!" unary | "(" or ")" | term
 *   term  := "all()" | "global()" | "has(" key ")"
 *          | key ( "==" | "!=" | "contains" | "starts with" | "ends with" ) string
 *          | key [ "not" ] "in" "{" [ string ( "," string )* ] "}"
 * Keys are [A-Za-z0-9_./-]+; strings are single- or double-quoted with no
 * escapes (as in Calico). As in Calico, `k != 'v'` and `k not in {...}` also
 * match when the label is absent; every other label test needs the label.
 *
 * Input comes from API objects, so every limit is explicit: nesting depth,
 * text length and set size are bounded and a violation is -EINVAL, never a
 * crash.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "cleanup.h"
#include "selector.h"

#define SELECTOR_MAX_TEXT 16384
#define SELECTOR_MAX_DEPTH 64
#define SELECTOR_MAX_SET 1024

enum sel_op {
	SEL_ALL,
	SEL_HAS,
	SEL_EQ,
	SEL_NE,
	SEL_IN,
	SEL_NOT_IN,
	SEL_CONTAINS,
	SEL_STARTS,
	SEL_ENDS,
	SEL_NOT,
	SEL_AND,
	SEL_OR,
};

/* One node of the tree; the tree owns every string and child. */
struct selector {
	enum sel_op op;
	char *key;		  /* label tests */
	char **values;		  /* EQ/NE/CONTAINS/STARTS/ENDS: one; IN/NOT_IN: n_values */
	size_t n_values, cap_values;
	struct selector *a, *b;	  /* NOT: a; AND/OR: a, b */
};

struct parser {
	const char *text;
	size_t pos;
	unsigned depth;
	char *error; /* first error, malloc'd */
};

struct selector *selector_free(struct selector *s)
{
	if (!s)
		return NULL;
	free(s->key);
	for (size_t i = 0; i < s->n_values; i++)
		free(s->values[i]);
	free(s->values);
	selector_free(s->a);
	selector_free(s->b);
	free(s);
	return NULL;
}

static int fail(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct parser *p, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (p->error)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (asprintf(&p->error, "selector: %s at position %zu", msg, p->pos) < 0)
		p->error = NULL;
	return -EINVAL;
}

static void skip_ws(struct parser *p)
{
	while (p->text[p->pos] && isspace((unsigned char)p->text[p->pos]))
		p->pos++;
}

static bool is_key_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '.' || c == '/' || c == '-';
}

/* Consumes @tok (after whitespace) when it is next; a word token must not run
 * on into a key character ("in" is not a prefix of "inside"). */
static bool accept(struct parser *p, const char *tok)
{
	size_t n = strlen(tok);

	skip_ws(p);
	if (strncmp(p->text + p->pos, tok, n) != 0)
		return false;
	if (is_key_char(tok[n - 1]) && is_key_char(p->text[p->pos + n]))
		return false;
	p->pos += n;
	return true;
}

static int parse_key(struct parser *p, char **ret)
{
	size_t start;

	skip_ws(p);
	start = p->pos;
	while (is_key_char(p->text[p->pos]))
		p->pos++;
	if (p->pos == start)
		return fail(p, "expected a label key");
	*ret = strndup(p->text + start, p->pos - start);
	return *ret ? 0 : -ENOMEM;
}

static int parse_string(struct parser *p, char **ret)
{
	const char *end;
	char q;

	skip_ws(p);
	q = p->text[p->pos];
	if (q != '\'' && q != '"')
		return fail(p, "expected a quoted string");
	end = strchr(p->text + p->pos + 1, q);
	if (!end)
		return fail(p, "unterminated string");
	*ret = strndup(p->text + p->pos + 1, end - (p->text + p->pos + 1));
	if (!*ret)
		return -ENOMEM;
	p->pos = end - p->text + 1;
	return 0;
}

static int node_new(enum sel_op op, struct selector **ret)
{
	struct selector *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->op = op;
	*ret = s;
	return 0;
}

static int push_value(struct parser *p, struct selector *s)
{
	int r = ARRAY_GROW_MAX(s->values, s->cap_values, s->n_values + 1, SELECTOR_MAX_SET);

	if (r == -EFBIG)
		return fail(p, "set has more than %d values", SELECTOR_MAX_SET);
	if (r < 0)
		return r;
	r = parse_string(p, &s->values[s->n_values]);
	if (r < 0)
		return r;
	s->n_values++;
	return 0;
}

static int parse_set(struct parser *p, struct selector *s)
{
	int r;

	if (!accept(p, "{"))
		return fail(p, "expected '{'");
	if (accept(p, "}"))
		return 0;
	do {
		r = push_value(p, s);
		if (r < 0)
			return r;
	} while (accept(p, ","));
	if (!accept(p, "}"))
		return fail(p, "expected ',' or '}'");
	return 0;
}

static const struct {
	const char *tok;
	enum sel_op op;
} binary_ops[] = {
	{ "==", SEL_EQ },	  { "!=", SEL_NE },	       { "contains", SEL_CONTAINS },
	{ "starts with", SEL_STARTS }, { "ends with", SEL_ENDS },
};

/* key <op> ... */
static int parse_label_test(struct parser *p, struct selector **ret)
{
	_cleanup_(selector_freep) struct selector *s = NULL;
	_cleanup_free_ char *key = NULL;
	int r;

	r = parse_key(p, &key);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ELEMENTSOF(binary_ops); i++) {
		if (!accept(p, binary_ops[i].tok))
			continue;
		r = node_new(binary_ops[i].op, &s);
		if (r < 0)
			return r;
		r = push_value(p, s);
		if (r < 0)
			return r;
		s->key = TAKE_PTR(key);
		*ret = TAKE_PTR(s);
		return 0;
	}
	if (accept(p, "not")) {
		if (!accept(p, "in"))
			return fail(p, "expected 'in' after 'not'");
		r = node_new(SEL_NOT_IN, &s);
	} else if (accept(p, "in")) {
		r = node_new(SEL_IN, &s);
	} else {
		return fail(p, "expected an operator after '%s'", key);
	}
	if (r < 0)
		return r;
	r = parse_set(p, s);
	if (r < 0)
		return r;
	s->key = TAKE_PTR(key);
	*ret = TAKE_PTR(s);
	return 0;
}

static int parse_or(struct parser *p, struct selector **ret);

static int parse_term(struct parser *p, struct selector **ret)
{
	_cleanup_(selector_freep) struct selector *s = NULL;
	int r;

	size_t start = p->pos;

	/* "all", "global" and "has" are functions only when "(" follows; else
	 * they are plain label keys. */
	if ((accept(p, "all") || accept(p, "global")) && accept(p, "(")) {
		if (!accept(p, ")"))
			return fail(p, "expected ')'");
		return node_new(SEL_ALL, ret);
	}
	p->pos = start;
	if (accept(p, "has") && accept(p, "(")) {
		r = node_new(SEL_HAS, &s);
		if (r < 0)
			return r;
		r = parse_key(p, &s->key);
		if (r < 0)
			return r;
		if (!accept(p, ")"))
			return fail(p, "expected ')'");
		*ret = TAKE_PTR(s);
		return 0;
	}
	p->pos = start;
	return parse_label_test(p, ret);
}

static int parse_unary(struct parser *p, struct selector **ret)
{
	_cleanup_(selector_freep) struct selector *s = NULL;
	int r;

	if (++p->depth > SELECTOR_MAX_DEPTH)
		return fail(p, "nested deeper than %d", SELECTOR_MAX_DEPTH);
	if (accept(p, "!")) {
		r = node_new(SEL_NOT, &s);
		if (r >= 0)
			r = parse_unary(p, &s->a);
	} else if (accept(p, "(")) {
		r = parse_or(p, &s);
		if (r >= 0 && !accept(p, ")"))
			r = fail(p, "expected ')'");
	} else {
		r = parse_term(p, &s);
	}
	p->depth--;
	if (r < 0)
		return r;
	*ret = TAKE_PTR(s);
	return 0;
}

/* Left-associative chain of @op over operands parsed by @sub. */
static int parse_chain(struct parser *p, const char *tok, enum sel_op op,
		       int (*sub)(struct parser *, struct selector **), struct selector **ret)
{
	_cleanup_(selector_freep) struct selector *left = NULL;
	int r;

	r = sub(p, &left);
	if (r < 0)
		return r;
	while (accept(p, tok)) {
		_cleanup_(selector_freep) struct selector *n = NULL;

		r = node_new(op, &n);
		if (r < 0)
			return r;
		n->a = TAKE_PTR(left);
		r = sub(p, &n->b);
		if (r < 0)
			return r;
		left = TAKE_PTR(n);
	}
	*ret = TAKE_PTR(left);
	return 0;
}

static int parse_and(struct parser *p, struct selector **ret)
{
	return parse_chain(p, "&&", SEL_AND, parse_unary, ret);
}

static int parse_or(struct parser *p, struct selector **ret)
{
	return parse_chain(p, "||", SEL_OR, parse_and, ret);
}

int selector_parse(const char *text, struct selector **ret, char **ret_error)
{
	_cleanup_(selector_freep) struct selector *s = NULL;
	struct parser p = { .text = text ? text : "" };
	int r;

	if (strlen(p.text) > SELECTOR_MAX_TEXT) {
		r = fail(&p, "longer than %d characters", SELECTOR_MAX_TEXT);
		goto out_error;
	}
	skip_ws(&p);
	if (!p.text[p.pos]) {
		r = node_new(SEL_ALL, &s);
		if (r < 0)
			return r;
		*ret = TAKE_PTR(s);
		return 0;
	}
	r = parse_or(&p, &s);
	if (r >= 0) {
		skip_ws(&p);
		if (p.text[p.pos])
			r = fail(&p, "unexpected '%c'", p.text[p.pos]);
	}
	if (r >= 0) {
		*ret = TAKE_PTR(s);
		return 0;
	}
out_error:
	if (ret_error && r == -EINVAL)
		*ret_error = TAKE_PTR(p.error);
	free(p.error);
	return r;
}

static const char *label_of_json(const void *labels, const char *key)
{
	return labels ? json_string_value(json_object_get(labels, key)) : NULL;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static bool in_set(const struct selector *s, const char *v)
{
	for (size_t i = 0; v && i < s->n_values; i++)
		if (strcmp(s->values[i], v) == 0)
			return true;
	return false;
}

bool selector_matches(const struct selector *s, const json_t *labels)
{
	return selector_matches_with(s, label_of_json, labels);
}

bool selector_matches_with(const struct selector *s,
			   const char *(*get)(const void *ctx, const char *key), const void *ctx)
{
	const char *v = s->key ? get(ctx, s->key) : NULL;

	switch (s->op) {
	case SEL_ALL:
		return true;
	case SEL_HAS:
		return v != NULL;
	case SEL_EQ:
		return v && strcmp(v, s->values[0]) == 0;
	case SEL_NE:
		return !v || strcmp(v, s->values[0]) != 0;
	case SEL_IN:
		return in_set(s, v);
	case SEL_NOT_IN:
		return !in_set(s, v);
	case SEL_CONTAINS:
		return v && strstr(v, s->values[0]);
	case SEL_STARTS:
		return v && strncmp(v, s->values[0], strlen(s->values[0])) == 0;
	case SEL_ENDS:
		return v && ends_with(v, s->values[0]);
	case SEL_NOT:
		return !selector_matches_with(s->a, get, ctx);
	case SEL_AND:
		return selector_matches_with(s->a, get, ctx) && selector_matches_with(s->b, get, ctx);
	case SEL_OR:
		return selector_matches_with(s->a, get, ctx) || selector_matches_with(s->b, get, ctx);
	}
	return false;
}

bool selector_is_all(const struct selector *s)
{
	return s && s->op == SEL_ALL;
}
