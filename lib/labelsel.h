/* Kubernetes LabelSelector (meta/v1): matchLabels plus matchExpressions with
 * the operators In, NotIn, Exists and DoesNotExist, validated as the
 * apiserver validates them and matched against a label map.
 *
 * The empty selector {} matches every label set; whether an ABSENT selector
 * means "everything" or "nothing" depends on the field, so callers decide
 * that before calling labelsel_from_json().
 */
#pragma once

#include <stdbool.h>

#include <jansson.h>

#include "cleanup.h"

struct labelsel;

/**
 * labelsel_from_json - parse and validate a LabelSelector object
 * @j: the selector object ({} is valid and matches everything)
 * @path: field path used in error messages, e.g. "spec.podSelector"
 * @ret: the parsed selector
 * @ret_error: on -EINVAL, a malloc'd message naming the field (may be NULL)
 *
 * Return: 0, -EINVAL for an invalid selector (unknown operator, In without
 * values, Exists with values, bad key or value syntax), -ENOMEM.
 */
int labelsel_from_json(const json_t *j, const char *path, struct labelsel **ret,
		       char **ret_error);
struct labelsel *labelsel_free(struct labelsel *s);
DEFINE_CLEANUP_FUNC(struct labelsel, labelsel_free);

/* A label map packed in one allocation (free() it): @n "key\0value\0"
 * pairs sorted by key. A tenth of the memory of the same map in JSON, which
 * counts with one per pod. */
struct labels {
	size_t n;
	size_t len; /* bytes of @data */
	char data[];
};

/**
 * labels_from_json - pack a label map
 * @j: metadata.labels, an object of strings; NULL or null: no labels
 * @extra_key: one more label (NULL: none), replacing one of the same key
 *   (e.g. kubernetes.io/metadata.name, which every namespace has)
 * @extra_value: its value
 * @ret: the packed map
 *
 * Return: 0, -EINVAL (@j not an object, a value not a string), -ENOMEM.
 */
int labels_from_json(const json_t *j, const char *extra_key, const char *extra_value,
		     struct labels **ret);
/* The value of @key, NULL when absent. */
const char *labels_get(const struct labels *l, const char *key);
bool labels_equal(const struct labels *a, const struct labels *b);
/* A copy; NULL when out of memory. */
struct labels *labels_dup(const struct labels *l);

/* @labels: NULL = no labels. */
bool labelsel_matches(const struct labelsel *s, const struct labels *labels);
/* True for {} (no matchLabels, no matchExpressions): matches every label set. */
bool labelsel_is_everything(const struct labelsel *s);

/**
 * labelsel_to_string - canonical text form, equal for equal selectors
 *   ("a=b,c in (x,y),!d"; "" for {}), with terms and values sorted
 * @s: selector
 * @ret: malloc'd text
 *
 * Return: 0 or -ENOMEM.
 */
int labelsel_to_string(const struct labelsel *s, char **ret);

/**
 * labelsel_to_calico - the same selector in Calico's selector grammar
 *   (lib/selector.h): "all()" for {}, else the terms joined by " && ":
 *   k in {'a','b'}, k not in {...} (true when k is absent, as NotIn),
 *   has(k), !has(k)
 * @s: selector (keys and values are valid, so they need no quoting)
 * @ret: malloc'd text
 *
 * Return: 0 or -ENOMEM.
 */
int labelsel_to_calico(const struct labelsel *s, char **ret);

/* Label key / value syntax as Kubernetes validates them. */
bool labelsel_key_is_valid(const char *key);
bool labelsel_value_is_valid(const char *value);
