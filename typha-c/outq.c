/* A bounded output queue; see outq.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "typha-c/outq.h"

struct outq_chunk {
	struct outq_chunk *next;
	size_t len;
	char data[];
};

void outq_done(struct outq *q)
{
	while (q->head) {
		struct outq_chunk *c = q->head;

		q->head = c->next;
		free(c);
	}
	*q = (struct outq){ .limit = q->limit };
}

size_t outq_backlog(const struct outq *q)
{
	return q->queued - q->exempt;
}

int outq_push(struct outq *q, const void *data, size_t len, bool exempt)
{
	struct outq_chunk *c;

	if (exempt && outq_backlog(q) > 0)
		return -EINVAL;
	if (!exempt && outq_backlog(q) + len > q->limit)
		return -ENOBUFS;
	c = malloc(sizeof(*c) + len);
	if (!c)
		return -ENOMEM;
	c->next = NULL;
	c->len = len;
	memcpy(c->data, data, len);
	if (q->tail)
		q->tail->next = c;
	else
		q->head = c;
	q->tail = c;
	q->queued += len;
	if (exempt)
		q->exempt += len;
	return 0;
}

const void *outq_peek(const struct outq *q, size_t *ret_len)
{
	if (!q->head) {
		*ret_len = 0;
		return NULL;
	}
	*ret_len = q->head->len - q->off;
	return q->head->data + q->off;
}

void outq_consume(struct outq *q, size_t n)
{
	q->queued -= n;
	q->exempt = n >= q->exempt ? 0 : q->exempt - n;
	q->off += n;
	if (q->off < q->head->len)
		return;
	struct outq_chunk *c = q->head;

	q->head = c->next;
	if (!q->head)
		q->tail = NULL;
	q->off = 0;
	free(c);
}
