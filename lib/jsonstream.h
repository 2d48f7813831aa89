/* Incremental parser for a stream of concatenated JSON objects, as a
 * Kubernetes watch sends them ({"type":...,"object":{...}}\n{...}\n...).
 * Bytes arrive in arbitrary chunks; each complete top-level object is
 * parsed and handed to a callback as soon as its closing brace arrives.
 *
 * Only objects are accepted at the top level, separated by optional
 * whitespace. Anything else, an object larger than the limit, or bytes that
 * balance but do not parse, put the stream in a sticky error state: every
 * later feed returns the same error until jsonstream_reset().
 */
#pragma once

#include <stddef.h>

#include <jansson.h>

#include "cleanup.h"

struct jsonstream;

/* @obj is borrowed (json_incref() to keep it). A negative return stops the
 * feed and is returned by jsonstream_feed(). */
typedef int (*jsonstream_cb)(json_t *obj, void *userdata);

/**
 * jsonstream_new - create a parser
 * @max_object: largest accepted object in bytes (0: 64 MiB)
 * @ret: the parser
 *
 * Return: 0 or -ENOMEM.
 */
int jsonstream_new(size_t max_object, struct jsonstream **ret);
struct jsonstream *jsonstream_free(struct jsonstream *s);
DEFINE_CLEANUP_FUNC(struct jsonstream, jsonstream_free);

/**
 * jsonstream_feed - consume a chunk
 * @s: parser
 * @data: bytes (need not end on an object boundary)
 * @len: number of bytes
 * @cb: called once per complete object, in order
 * @userdata: passed to @cb
 *
 * Return: the number of objects completed by this chunk, -EBADMSG for
 *   malformed input, -EMSGSIZE for an object over the limit, -ENOMEM, or a
 *   negative value returned by @cb.
 */
int jsonstream_feed(struct jsonstream *s, const char *data, size_t len, jsonstream_cb cb,
		    void *userdata);

/**
 * jsonstream_finish - the stream ended: was it on an object boundary?
 * @s: parser
 *
 * Return: 0, or -EBADMSG when a partial object is pending (or the stream
 *   was already in error).
 */
int jsonstream_finish(const struct jsonstream *s);

/* Forgets any partial object and a sticky error (for a new connection). */
void jsonstream_reset(struct jsonstream *s);
/* Bytes of the partial object currently buffered. */
size_t jsonstream_pending(const struct jsonstream *s);
