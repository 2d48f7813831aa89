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

/* @labels: a JSON object of string values (metadata.labels); NULL = no labels. */
bool labelsel_matches(const struct labelsel *s, const json_t *labels);
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

/* Label key / value syntax as Kubernetes validates them. */
bool labelsel_key_is_valid(const char *key);
bool labelsel_value_is_valid(const char *value);
