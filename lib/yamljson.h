/* YAML (1.2 core schema) to JSON values, for manifests read by the CLIs.
 *
 * A stream of one or more documents becomes a JSON array with one value per
 * non-empty document. Plain scalars are typed as the core schema types them
 * (null, booleans, integers, floats, else strings); quoted and block
 * scalars, and scalars tagged !!str, stay strings. Mapping keys are always
 * strings. JSON text is valid YAML and parses to the same values.
 * Refused with a message naming the line: syntax errors, aliases, non-scalar
 * or duplicate keys, nesting deeper than YAMLJSON_MAX_DEPTH.
 */
#pragma once

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#define YAMLJSON_MAX_DEPTH 64

/**
 * yamljson_parse - parse a YAML stream into one JSON value per document
 * @text: the stream (need not be NUL-terminated)
 * @len: its length in bytes
 * @ret: a new JSON array of the documents' values (empty documents skipped)
 * @ret_error: on -EBADMSG, a malloc'd message with the line (may be NULL)
 *
 * Return: 0, -EBADMSG (malformed or unsupported YAML), -ENOMEM.
 */
int yamljson_parse(const char *text, size_t len, json_t **ret, char **ret_error);

/**
 * yamljson_scalar - the JSON value of one plain (unquoted, untagged) scalar
 * @text: the scalar text
 * @len: its length
 *
 * Return: a new reference (null, true/false, integer, real or string), NULL
 *   on ENOMEM.
 */
json_t *yamljson_scalar(const char *text, size_t len);

/**
 * yamljson_emit - write @v as a block-style YAML document
 * @v: any JSON value
 * @f: output stream
 *
 * Strings that would read back as something else (numbers, booleans, null,
 * text with YAML indicators) are written double-quoted with JSON escapes,
 * so yamljson_parse() of the output gives @v back.
 *
 * Return: 0, -EIO (write error).
 */
int yamljson_emit(const json_t *v, FILE *f);
