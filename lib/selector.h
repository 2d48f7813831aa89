/* Calico selector expressions (the subset Calico's IPPool.nodeSelector,
 * BGPPeer.nodeSelector/peerSelector use): all(), k == 'v', k != 'v', has(k),
 * !has(k), k in {'a','b'}, k not in {...}, !expr, &&, ||, parentheses.
 * Parsed once into a tree, matched against a label map many times.
 */
#pragma once

#include <stdbool.h>

#include <jansson.h>

#include "cleanup.h"

struct selector;

/**
 * selector_parse - parse a Calico selector expression
 * @text: the expression; "" is the same as all()
 * @ret: the parsed selector
 * @ret_error: on -EINVAL, a malloc'd message naming the position (may be NULL)
 *
 * Return: 0, -EINVAL on a syntax error, -ENOMEM.
 */
int selector_parse(const char *text, struct selector **ret, char **ret_error);
struct selector *selector_free(struct selector *s);
DEFINE_CLEANUP_FUNC(struct selector, selector_free);
/* @labels: a JSON object of string values (metadata.labels), NULL = no labels. */
bool selector_matches(const struct selector *s, const json_t *labels);
/* The same over any label store: @get returns the value of @key, NULL when
 * absent (so implicit labels can be added without building a map). */
bool selector_matches_with(const struct selector *s,
			   const char *(*get)(const void *ctx, const char *key), const void *ctx);
/* True when @s matches every label set (all(), global() or ""). */
bool selector_is_all(const struct selector *s);
