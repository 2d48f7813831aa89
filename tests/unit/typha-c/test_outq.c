/* A client's bounded queue (typha-c/outq.h): the snapshot is exempt from
 * the limit, what queues behind it is not; a push past the limit fails and
 * queues nothing; bytes come out in order across partial sends. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "typha-c/outq.h"

static void test_snapshot_exempt_backlog_bounded(void **state)
{
	struct outq q = { .limit = 10 };
	char big[100];

	(void)state;
	memset(big, 's', sizeof(big));
	assert_int_equal(outq_push(&q, big, sizeof(big), true), 0); /* 10x the limit */
	assert_int_equal(outq_backlog(&q), 0);
	assert_int_equal(outq_push(&q, "0123456", 7, false), 0);
	assert_int_equal(outq_push(&q, "789", 3, false), 0); /* exactly the limit */
	assert_int_equal(outq_push(&q, "x", 1, false), -ENOBUFS);
	assert_int_equal(q.queued, 110);			  /* nothing of "x" */
	assert_int_equal(outq_push(&q, "s", 1, true), -EINVAL); /* exempt only at the front */
	outq_done(&q);
	assert_int_equal(q.limit, 10);
	assert_int_equal(q.queued, 0);
}

static void test_partial_sends_keep_order_and_free_room(void **state)
{
	struct outq q = { .limit = 8 };
	const char *p;
	size_t len;
	char got[32] = "";

	(void)state;
	assert_int_equal(outq_push(&q, "snap", 4, true), 0);
	assert_int_equal(outq_push(&q, "abcd", 4, false), 0);
	assert_int_equal(outq_push(&q, "efgh", 4, false), 0);
	p = outq_peek(&q, &len);
	assert_int_equal(len, 4);
	strncat(got, p, 3);
	outq_consume(&q, 3); /* part of the snapshot */
	assert_int_equal(outq_backlog(&q), 8);
	while ((p = outq_peek(&q, &len))) {
		size_t n = len > 3 ? 3 : len;

		strncat(got, p, n);
		outq_consume(&q, n);
	}
	assert_string_equal(got, "snapabcdefgh");
	assert_int_equal(q.queued, 0);
	assert_int_equal(outq_push(&q, "12345678", 8, false), 0); /* room again */
	outq_done(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_snapshot_exempt_backlog_bounded),
		cmocka_unit_test(test_partial_sends_keep_order_and_free_room),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
