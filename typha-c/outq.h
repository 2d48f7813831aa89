/* A client's bounded output queue: byte chunks in order, sent from the
 * front. The snapshot a client gets on connect is queued "exempt": its
 * size does not count against the limit (a big cluster's snapshot may be
 * larger than any sane backlog), only what is queued behind it does. A
 * push past the limit fails: the client has fallen behind and is dropped
 * (it resyncs from a new snapshot), so one slow client never holds up the
 * others or grows typha-c without bound.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct outq_chunk;

/* Owner: its client. */
struct outq {
	struct outq_chunk *head, *tail;
	size_t off;	   /* bytes of head already sent */
	size_t queued;	   /* bytes not yet sent */
	size_t exempt;	   /* of which, at the front, exempt from the limit */
	size_t limit;	   /* bytes of non-exempt backlog allowed */
};

void outq_done(struct outq *q);

/**
 * outq_push - queue a copy of @data
 * @q: queue
 * @data: bytes
 * @len: their number
 * @exempt: not counted against the limit (only while nothing non-exempt
 *   is queued: exempt bytes stay at the front)
 *
 * Return: 0, -ENOBUFS (the backlog would exceed the limit; nothing queued),
 *   -EINVAL (exempt behind non-exempt bytes), -ENOMEM.
 */
int outq_push(struct outq *q, const void *data, size_t len, bool exempt);
/* The next bytes to send (NULL, 0 when empty). */
const void *outq_peek(const struct outq *q, size_t *ret_len);
/* @n bytes of the peeked ones were sent. */
void outq_consume(struct outq *q, size_t n);
/* Bytes counted against the limit. */
size_t outq_backlog(const struct outq *q);
