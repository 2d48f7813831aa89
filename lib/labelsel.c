/* Kubernetes LabelSelector: a flat AND of terms. matchLabels {k: v} becomes
 * the term "k In (v)"; each matchExpressions entry is one term. Values of In
 * and NotIn are kept sorted and de-duplicated so the canonical text of two
 * equal selectors is equal (policy/ uses it to share sets).
 *
 * Input comes from API objects: every count is bounded and every violation is
 * -EINVAL with a message naming the field, never a crash.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "cleanup.h"
#include "errmsg.h"
#include "labelsel.h"

#define LABELSEL_MAX_TERMS 256
#define LABELSEL_MAX_VALUES 1024

enum labelsel_op {
	LABELSEL_IN,
	LABELSEL_NOT_IN,
	LABELSEL_EXISTS,
	LABELSEL_DOES_NOT_EXIST,
	_LABELSEL_OP_MAX,
	_LABELSEL_OP_INVALID = -EINVAL,
};

static const char *const op_names[_LABELSEL_OP_MAX] = {
	[LABELSEL_IN] = "In",
	[LABELSEL_NOT_IN] = "NotIn",
	[LABELSEL_EXISTS] = "Exists",
	[LABELSEL_DOES_NOT_EXIST] = "DoesNotExist",
};

struct labelsel_term {
	enum labelsel_op op;
	char *key;
	char **values; /* owned, and each value; In/NotIn: sorted, unique */
	size_t n_values, cap_values;
};

/* Owns its terms; immutable once parsed. */
struct labelsel {
	struct labelsel_term *terms;
	size_t n_terms, cap_terms;
};

static enum labelsel_op op_from_string(const char *s)
{
	for (int i = 0; i < _LABELSEL_OP_MAX; i++)
		if (s && strcmp(s, op_names[i]) == 0)
			return i;
	return _LABELSEL_OP_INVALID;
}

struct labelsel *labelsel_free(struct labelsel *s)
{
	if (!s)
		return NULL;
	for (size_t i = 0; i < s->n_terms; i++) {
		for (size_t k = 0; k < s->terms[i].n_values; k++)
			free(s->terms[i].values[k]);
		free(s->terms[i].values);
		free(s->terms[i].key);
	}
	free(s->terms);
	free(s);
	return NULL;
}

/* [A-Za-z0-9] at both ends, [-_.A-Za-z0-9] inside, 1..63 characters. */
static bool is_name_part(const char *s, size_t n)
{
	if (n == 0 || n > 63 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
			return false;
	return true;
}

/* DNS-1123 subdomain: lower-case labels of [a-z0-9-] joined by dots, <= 253. */
static bool is_dns_subdomain(const char *s, size_t n)
{
	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool edge = i == 0 || i == n - 1 || s[i - 1] == '.' || s[i + 1] == '.';

		if (c == '.' && !edge)
			continue;
		if (!(islower((unsigned char)c) || isdigit((unsigned char)c) || (c == '-' && !edge)))
			return false;
	}
	return true;
}

bool labelsel_key_is_valid(const char *key)
{
	const char *slash;

	if (!key)
		return false;
	slash = strchr(key, '/');
	if (!slash)
		return is_name_part(key, strlen(key));
	return is_dns_subdomain(key, slash - key) && is_name_part(slash + 1, strlen(slash + 1));
}

bool labelsel_value_is_valid(const char *value)
{
	return value && (value[0] == '\0' || is_name_part(value, strlen(value)));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One more value: parse_values() checked the count against LABELSEL_MAX_VALUES. */
static int term_add_value(struct labelsel_term *t, const char *v)
{
	int r = ARRAY_GROW_MAX(t->values, t->cap_values, t->n_values + 1, LABELSEL_MAX_VALUES);

	if (r < 0)
		return r;
	t->values[t->n_values] = strdup(v);
	if (!t->values[t->n_values])
		return -ENOMEM;
	t->n_values++;
	return 0;
}

static void term_sort_unique(struct labelsel_term *t)
{
	size_t w = 0;

	if (t->n_values == 0)
		return;
	qsort(t->values, t->n_values, sizeof(*t->values), cmp_str);
	for (size_t i = 1; i < t->n_values; i++) {
		if (strcmp(t->values[w], t->values[i]) == 0)
			free(t->values[i]);
		else
			t->values[++w] = t->values[i];
	}
	t->n_values = w + 1;
}

/* Appends an empty term with @key; the selector owns it from then on.
 * -EFBIG past LABELSEL_MAX_TERMS. */
static int sel_add_term(struct labelsel *s, enum labelsel_op op, const char *key,
			struct labelsel_term **ret)
{
	int r = ARRAY_GROW_MAX(s->terms, s->cap_terms, s->n_terms + 1, LABELSEL_MAX_TERMS);

	if (r < 0)
		return r;
	s->terms[s->n_terms] = (struct labelsel_term){ .op = op, .key = strdup(key) };
	if (!s->terms[s->n_terms].key)
		return -ENOMEM;
	*ret = &s->terms[s->n_terms++];
	return 0;
}

static int parse_match_labels(struct labelsel *s, const json_t *ml, const char *path,
			      char **ret_error)
{
	const char *k;
	json_t *v;
	int r;

	if (!json_is_object(ml))
		return errmsg_set(ret_error, -EINVAL, "%s.matchLabels: must be an object", path);
	json_object_foreach ((json_t *)ml, k, v) {
		struct labelsel_term *t;

		if (!labelsel_key_is_valid(k))
			return errmsg_set(ret_error, -EINVAL, "%s.matchLabels: invalid label key '%s'", path, k);
		if (!json_is_string(v) || !labelsel_value_is_valid(json_string_value(v)))
			return errmsg_set(ret_error, -EINVAL, "%s.matchLabels.%s: invalid label value", path, k);
		r = sel_add_term(s, LABELSEL_IN, k, &t);
		if (r == -EFBIG)
			return errmsg_set(ret_error, -EINVAL, "%s: more than %d terms", path, LABELSEL_MAX_TERMS);
		if (r < 0)
			return r;
		r = term_add_value(t, json_string_value(v));
		if (r < 0)
			return r;
	}
	return 0;
}

static int parse_values(struct labelsel_term *t, const json_t *vals, const char *path, size_t i,
			char **ret_error)
{
	size_t k;
	json_t *v;
	int r;

	if (vals && !json_is_array(vals))
		return errmsg_set(ret_error, -EINVAL, "%s.matchExpressions[%zu].values: must be a list", path, i);
	if (json_array_size(vals) > LABELSEL_MAX_VALUES)
		return errmsg_set(ret_error, -EINVAL, "%s.matchExpressions[%zu].values: more than %d values", path,
			    i, LABELSEL_MAX_VALUES);
	json_array_foreach (vals, k, v) {
		if (!json_is_string(v) || !labelsel_value_is_valid(json_string_value(v)))
			return errmsg_set(ret_error, -EINVAL, "%s.matchExpressions[%zu].values[%zu]: invalid value",
				    path, i, k);
		r = term_add_value(t, json_string_value(v));
		if (r < 0)
			return r;
	}
	return 0;
}

static int parse_expression(struct labelsel *s, const json_t *e, const char *path, size_t i,
			    char **ret_error)
{
	const char *key = json_string_value(json_object_get(e, "key"));
	const char *ops = json_string_value(json_object_get(e, "operator"));
	const json_t *vals = json_object_get(e, "values");
	enum labelsel_op op = op_from_string(ops);
	struct labelsel_term *t;
	int r;

	if (!json_is_object(e))
		return errmsg_set(ret_error, -EINVAL, "%s.matchExpressions[%zu]: must be an object", path, i);
	if (!labelsel_key_is_valid(key))
		return errmsg_set(ret_error, -EINVAL, "%s.matchExpressions[%zu].key: invalid label key '%s'", path,
			    i, key ? key : "");
	if (op < 0)
		return errmsg_set(ret_error, -EINVAL,
			    "%s.matchExpressions[%zu].operator: unsupported value '%s' (want In, "
			    "NotIn, Exists or DoesNotExist)",
			    path, i, ops ? ops : "");
	if ((op == LABELSEL_IN || op == LABELSEL_NOT_IN) && json_array_size(vals) == 0)
		return errmsg_set(ret_error, -EINVAL,
			    "%s.matchExpressions[%zu].values: must be specified when operator is %s",
			    path, i, op_names[op]);
	if ((op == LABELSEL_EXISTS || op == LABELSEL_DOES_NOT_EXIST) && json_array_size(vals) > 0)
		return errmsg_set(ret_error, -EINVAL,
			    "%s.matchExpressions[%zu].values: may not be specified when operator "
			    "is %s",
			    path, i, op_names[op]);
	r = sel_add_term(s, op, key, &t);
	if (r == -EFBIG)
		return errmsg_set(ret_error, -EINVAL, "%s: more than %d terms", path, LABELSEL_MAX_TERMS);
	if (r < 0)
		return r;
	r = parse_values(t, vals, path, i, ret_error);
	if (r < 0)
		return r;
	term_sort_unique(t);
	return 0;
}

int labelsel_from_json(const json_t *j, const char *path, struct labelsel **ret,
		       char **ret_error)
{
	_cleanup_(labelsel_freep) struct labelsel *s = NULL;
	const json_t *ml, *me, *e;
	size_t i;
	int r;

	if (!json_is_object(j))
		return errmsg_set(ret_error, -EINVAL, "%s: must be an object", path);
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	ml = json_object_get(j, "matchLabels");
	if (ml && !json_is_null(ml)) {
		r = parse_match_labels(s, ml, path, ret_error);
		if (r < 0)
			return r;
	}
	me = json_object_get(j, "matchExpressions");
	if (me && !json_is_null(me) && !json_is_array(me))
		return errmsg_set(ret_error, -EINVAL, "%s.matchExpressions: must be a list", path);
	json_array_foreach (me, i, e) {
		r = parse_expression(s, e, path, i, ret_error);
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(s);
	return 0;
}

static bool value_in(const struct labelsel_term *t, const char *v)
{
	return bsearch(&v, t->values, t->n_values, sizeof(*t->values), cmp_str) != NULL;
}

struct label_ref {
	const char *key, *value;
};

static int cmp_label_ref(const void *a, const void *b)
{
	return strcmp(((const struct label_ref *)a)->key, ((const struct label_ref *)b)->key);
}

int labels_from_json(const json_t *j, const char *extra_key, const char *extra_value,
		     struct labels **ret)
{
	_cleanup_free_ struct label_ref *refs = NULL;
	struct labels *l;
	size_t n = 0, len = 0;
	const char *k;
	json_t *v;

	if (j && !json_is_null(j) && !json_is_object(j))
		return -EINVAL;
	refs = calloc(json_object_size(j) + 1, sizeof(*refs));
	if (!refs)
		return -ENOMEM;
	json_object_foreach((json_t *)j, k, v) {
		if (!json_is_string(v))
			return -EINVAL;
		if (!extra_key || strcmp(k, extra_key) != 0)
			refs[n++] = (struct label_ref){ k, json_string_value(v) };
	}
	if (extra_key)
		refs[n++] = (struct label_ref){ extra_key, extra_value };
	qsort(refs, n, sizeof(*refs), cmp_label_ref);
	for (size_t i = 0; i < n; i++)
		len += strlen(refs[i].key) + strlen(refs[i].value) + 2;
	l = malloc(sizeof(*l) + len);
	if (!l)
		return -ENOMEM;
	l->n = n;
	l->len = len;
	len = 0;
	for (size_t i = 0; i < n; i++) {
		size_t kl = strlen(refs[i].key) + 1, vl = strlen(refs[i].value) + 1;

		memcpy(l->data + len, refs[i].key, kl);
		memcpy(l->data + len + kl, refs[i].value, vl);
		len += kl + vl;
	}
	*ret = l;
	return 0;
}

const char *labels_get(const struct labels *l, const char *key)
{
	const char *p = l ? l->data : NULL;

	for (size_t i = 0; l && i < l->n; i++) {
		const char *value = p + strlen(p) + 1;
		int c = strcmp(p, key);

		if (c == 0)
			return value;
		if (c > 0)
			break; /* sorted */
		p = value + strlen(value) + 1;
	}
	return NULL;
}

bool labels_equal(const struct labels *a, const struct labels *b)
{
	return a->n == b->n && a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}

struct labels *labels_dup(const struct labels *l)
{
	struct labels *c = malloc(sizeof(*l) + l->len);

	if (c)
		memcpy(c, l, sizeof(*l) + l->len);
	return c;
}

bool labelsel_matches(const struct labelsel *s, const struct labels *labels)
{
	for (size_t i = 0; i < s->n_terms; i++) {
		const struct labelsel_term *t = &s->terms[i];
		const char *v = labels_get(labels, t->key);
		bool ok;

		switch (t->op) {
		case LABELSEL_IN:
			ok = v && value_in(t, v);
			break;
		case LABELSEL_NOT_IN:
			ok = !v || !value_in(t, v);
			break;
		case LABELSEL_EXISTS:
			ok = v != NULL;
			break;
		default:
			ok = v == NULL;
			break;
		}
		if (!ok)
			return false;
	}
	return true;
}

bool labelsel_is_everything(const struct labelsel *s)
{
	return s->n_terms == 0;
}

static int cmp_term_text(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One term as text: "k in (a,b)", "k notin (a)", "k", "!k". */
static int term_to_string(const struct labelsel_term *t, char **ret)
{
	size_t len = strlen(t->key) + 16;
	char *p;

	for (size_t i = 0; i < t->n_values; i++)
		len += strlen(t->values[i]) + 1;
	p = malloc(len);
	if (!p)
		return -ENOMEM;
	if (t->op == LABELSEL_EXISTS || t->op == LABELSEL_DOES_NOT_EXIST) {
		snprintf(p, len, "%s%s", t->op == LABELSEL_EXISTS ? "" : "!", t->key);
	} else {
		size_t o = (size_t)snprintf(p, len, "%s %s (", t->key,
					    t->op == LABELSEL_IN ? "in" : "notin");
		for (size_t i = 0; i < t->n_values; i++)
			o += (size_t)snprintf(p + o, len - o, "%s%s", i ? "," : "", t->values[i]);
		snprintf(p + o, len - o, ")");
	}
	*ret = p;
	return 0;
}

int labelsel_to_string(const struct labelsel *s, char **ret)
{
	_cleanup_free_ char **texts = calloc(s->n_terms + 1, sizeof(char *));
	size_t len = 1, o = 0;
	char *out = NULL;
	int r = 0;

	if (!texts)
		return -ENOMEM;
	for (size_t i = 0; i < s->n_terms && r == 0; i++) {
		r = term_to_string(&s->terms[i], &texts[i]);
		if (r == 0)
			len += strlen(texts[i]) + 1;
	}
	if (r == 0) {
		qsort(texts, s->n_terms, sizeof(char *), cmp_term_text);
		out = malloc(len);
		r = out ? 0 : -ENOMEM;
	}
	for (size_t i = 0; out && i < s->n_terms; i++)
		if (i == 0 || strcmp(texts[i - 1], texts[i]) != 0)
			o += (size_t)snprintf(out + o, len - o, "%s%s", o ? "," : "", texts[i]);
	for (size_t i = 0; i < s->n_terms; i++)
		free(texts[i]);
	if (r < 0)
		return r;
	out[o] = '\0';
	*ret = out;
	return 0;
}

int labelsel_to_calico(const struct labelsel *s, char **ret)
{
	size_t len = sizeof("all()"), o = 0;
	char *out;

	for (size_t i = 0; i < s->n_terms; i++) {
		len += strlen(s->terms[i].key) + sizeof(" && !has() not in {}");
		for (size_t k = 0; k < s->terms[i].n_values; k++)
			len += strlen(s->terms[i].values[k]) + 3;
	}
	out = malloc(len);
	if (!out)
		return -ENOMEM;
	if (s->n_terms == 0)
		o = (size_t)snprintf(out, len, "all()");
	for (size_t i = 0; i < s->n_terms; i++) {
		const struct labelsel_term *t = &s->terms[i];

		o += (size_t)snprintf(out + o, len - o, "%s", i ? " && " : "");
		if (t->op == LABELSEL_EXISTS || t->op == LABELSEL_DOES_NOT_EXIST) {
			o += (size_t)snprintf(out + o, len - o, "%shas(%s)",
					      t->op == LABELSEL_EXISTS ? "" : "!", t->key);
			continue;
		}
		o += (size_t)snprintf(out + o, len - o, "%s %sin {", t->key,
				      t->op == LABELSEL_IN ? "" : "not ");
		for (size_t k = 0; k < t->n_values; k++)
			o += (size_t)snprintf(out + o, len - o, "%s'%s'", k ? "," : "",
					      t->values[k]);
		o += (size_t)snprintf(out + o, len - o, "}");
	}
	*ret = out;
	return 0;
}
