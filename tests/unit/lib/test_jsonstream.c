/* The watch-stream parser: the same events whatever the chunking (every
 * split point, byte by byte), strings that contain braces and escaped
 * quotes, and malformed or truncated streams giving an error, not a crash. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "cleanup.h"
#include "jsonstream.h"


/* Four events, one per line as the apiserver sends them, with strings full of
 * JSON punctuation, escapes, unicode and nested containers. */
static const char *const events[] = {
	"{\"type\":\"ADDED\",\"object\":{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"a\","
	"\"resourceVersion\":\"10\"},\"data\":{\"x\":\"{not an object}\",\"y\":\"]]}}[[{\"}}}",
	"{\"type\":\"MODIFIED\",\"object\":{\"data\":{\"q\":\"say \\\"hi\\\" {\\\"a\\\":1}\","
	"\"bs\":\"C:\\\\dir\\\\\",\"u\":\"\\u00e9\\u007b\\ud83d\\ude00\"},\"list\":[[1,[2,{\"z\":"
	"[]}]],{},[]]}}",
	"{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":\"12\"}}}",
	"{\"type\":\"DELETED\",\"object\":{\"n\":null,\"t\":true,\"f\":-1.5e3,\"e\":\"\"}}",
};

struct collect {
	json_t *got; /* array of received objects */
	int fail_at; /* callback returns -ECANCELED at this index, -1: never */
};

static int collect_cb(json_t *obj, void *userdata)
{
	struct collect *c = userdata;

	if ((int)json_array_size(c->got) == c->fail_at)
		return -ECANCELED;
	assert_int_equal(json_array_append(c->got, obj), 0);
	return 0;
}

static char *whole_stream(void)
{
	size_t n = 0;
	char *s;

	for (size_t i = 0; i < ELEMENTSOF(events); i++)
		n += strlen(events[i]) + 2; /* "\n" or "\r\n" */
	s = calloc(1, n + 1);
	assert_non_null(s);
	for (size_t i = 0; i < ELEMENTSOF(events); i++) {
		strcat(s, events[i]);
		strcat(s, i % 2 ? "\r\n" : "\n");
	}
	return s;
}

static void assert_all_events(const json_t *got)
{
	assert_int_equal(json_array_size(got), ELEMENTSOF(events));
	for (size_t i = 0; i < ELEMENTSOF(events); i++) {
		json_auto_t *want = json_loads(events[i], 0, NULL);

		assert_non_null(want);
		assert_true(json_equal(want, json_array_get(got, i)));
	}
}

static void test_split_at_every_byte_boundary(void **state)
{
	_cleanup_free_ char *s = whole_stream();
	size_t len = strlen(s);

	(void)state;
	for (size_t cut = 0; cut <= len; cut++) {
		_cleanup_(jsonstream_freep) struct jsonstream *p = NULL;
		struct collect c = { .got = json_array(), .fail_at = -1 };
		int a, b;

		assert_int_equal(jsonstream_new(0, &p), 0);
		a = jsonstream_feed(p, s, cut, collect_cb, &c);
		b = jsonstream_feed(p, s + cut, len - cut, collect_cb, &c);
		if (a < 0 || b < 0 || a + b != (int)ELEMENTSOF(events))
			fail_msg("cut %zu: feeds returned %d, %d", cut, a, b);
		assert_int_equal(jsonstream_finish(p), 0);
		assert_int_equal(jsonstream_pending(p), 0);
		assert_all_events(c.got);
		json_decref(c.got);
	}
}

static void test_byte_by_byte_and_three_way_splits(void **state)
{
	_cleanup_free_ char *s = whole_stream();
	size_t len = strlen(s);
	_cleanup_(jsonstream_freep) struct jsonstream *p = NULL;
	struct collect c = { .got = json_array(), .fail_at = -1 };

	(void)state;
	assert_int_equal(jsonstream_new(0, &p), 0);
	for (size_t i = 0; i < len; i++)
		assert_true(jsonstream_feed(p, s + i, 1, collect_cb, &c) >= 0);
	assert_all_events(c.got);
	json_decref(c.got);
	/* every pair of cut points in a prefix spanning two events */
	for (size_t x = 0; x < 200; x += 3)
		for (size_t y = x; y < len; y += 7) {
			struct collect d = { .got = json_array(), .fail_at = -1 };

			jsonstream_reset(p);
			assert_true(jsonstream_feed(p, s, x, collect_cb, &d) >= 0);
			assert_true(jsonstream_feed(p, s + x, y - x, collect_cb, &d) >= 0);
			assert_true(jsonstream_feed(p, s + y, len - y, collect_cb, &d) >= 0);
			assert_all_events(d.got);
			json_decref(d.got);
		}
}

static void test_objects_without_separators(void **state)
{
	_cleanup_(jsonstream_freep) struct jsonstream *p = NULL;
	struct collect c = { .got = json_array(), .fail_at = -1 };
	const char *s = "{\"a\":1}{\"b\":\"}\"}  \t\r\n{}";

	(void)state;
	assert_int_equal(jsonstream_new(0, &p), 0);
	assert_int_equal(jsonstream_feed(p, s, strlen(s), collect_cb, &c), 3);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(c.got, 0), "a")), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(c.got, 1), "b")),
			    "}");
	assert_int_equal(jsonstream_feed(p, "", 0, collect_cb, &c), 0);
	json_decref(c.got);
}

/* Malformed streams: feed returns an error (sticky), or a truncated stream
 * is reported by finish; never a crash, never an object after the error. */
static void test_garbage_and_truncation(void **state)
{
	static const struct {
		const char *in;
		int want_feed;	 /* final feed result */
		int want_finish; /* jsonstream_finish() */
		size_t objects;	 /* objects delivered before the error */
		size_t len;	 /* 0: strlen(in) */
	} v[] = {
		{ "garbage", -EBADMSG, -EBADMSG, 0, 0 },
		{ "[1,2]", -EBADMSG, -EBADMSG, 0, 0 },
		{ "{\"a\":1}\n42\n", -EBADMSG, -EBADMSG, 1, 0 },
		{ "{\"a\":}", -EBADMSG, -EBADMSG, 0, 0 },
		{ "{\"a\":1]", -EBADMSG, -EBADMSG, 0, 0 },
		{ "{\"a\" 1}", -EBADMSG, -EBADMSG, 0, 0 },
		{ "{\"a\":tru}", -EBADMSG, -EBADMSG, 0, 0 },
		{ "{\"a\":1}}", -EBADMSG, -EBADMSG, 1, 0 },
		{ "{\"a\":1}\n{\"b\":", 1, -EBADMSG, 1, 0 },		 /* truncated */
		{ "{\"a\":\"unterminated", 0, -EBADMSG, 0, 0 },		 /* truncated */
		{ "{\"a\":\"esc\\", 0, -EBADMSG, 0, 0 },			 /* truncated */
		{ "{\"a\":\"\x01\"}", -EBADMSG, -EBADMSG, 0, 0 },		 /* control char */
		{ "{\"a\":\"\xff\xfe\"}", -EBADMSG, -EBADMSG, 0, 0 },	 /* bad UTF-8 */
		{ "\x00{}", -EBADMSG, -EBADMSG, 0, 3 },
		{ "", 0, 0, 0, 0 },
		{ "\n\n", 0, 0, 0, 0 },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		_cleanup_(jsonstream_freep) struct jsonstream *p = NULL;
		struct collect c = { .got = json_array(), .fail_at = -1 };
		size_t len = v[i].len ? v[i].len : strlen(v[i].in);
		int r;

		assert_int_equal(jsonstream_new(0, &p), 0);
		r = jsonstream_feed(p, v[i].in, len, collect_cb, &c);
		if (r != v[i].want_feed || jsonstream_finish(p) != v[i].want_finish ||
		    json_array_size(c.got) != v[i].objects)
			fail_msg("vector %zu: feed %d finish %d objects %zu", i, r,
				 jsonstream_finish(p), json_array_size(c.got));
		/* sticky: a valid object after an error is not delivered */
		if (r < 0) {
			assert_int_equal(jsonstream_feed(p, "{}", 2, collect_cb, &c), r);
			assert_int_equal(json_array_size(c.got), v[i].objects);
			jsonstream_reset(p);
			assert_int_equal(jsonstream_feed(p, "{}", 2, collect_cb, &c), 1);
		}
		json_decref(c.got);
	}
}

static void test_limits(void **state)
{
	_cleanup_(jsonstream_freep) struct jsonstream *p = NULL, *d = NULL;
	struct collect c = { .got = json_array(), .fail_at = -1 };
	char deep[2000];

	(void)state;
	assert_int_equal(jsonstream_new(32, &p), 0);
	assert_int_equal(jsonstream_feed(p, "{\"a\":\"0123456789\"}", 18, collect_cb, &c), 1);
	assert_int_equal(jsonstream_feed(p, "{\"a\":\"0123456789", 16, collect_cb, &c), 0);
	assert_int_equal(jsonstream_feed(p, "0123456789012345\"}", 18, collect_cb, &c),
			 -EMSGSIZE);
	/* nesting deeper than the limit */
	assert_int_equal(jsonstream_new(0, &d), 0);
	deep[0] = '{';
	strcpy(deep + 1, "\"a\":");
	memset(deep + 5, '[', sizeof(deep) - 6);
	deep[sizeof(deep) - 1] = 0;
	assert_int_equal(jsonstream_feed(d, deep, strlen(deep), collect_cb, &c), -EBADMSG);
	json_decref(c.got);
}

static void test_callback_error_stops_the_feed(void **state)
{
	_cleanup_(jsonstream_freep) struct jsonstream *p = NULL;
	_cleanup_free_ char *s = whole_stream();
	struct collect c = { .got = json_array(), .fail_at = 2 };

	(void)state;
	assert_int_equal(jsonstream_new(0, &p), 0);
	assert_int_equal(jsonstream_feed(p, s, strlen(s), collect_cb, &c), -ECANCELED);
	assert_int_equal(json_array_size(c.got), 2);
	json_decref(c.got);
}

/* Random bytes and random mutations of a valid stream: no crash (ASan), and
 * the result is either objects or an error. Deterministic seed. */
static void test_random_input_never_crashes(void **state)
{
	_cleanup_free_ char *s = whole_stream();
	size_t len = strlen(s);
	unsigned seed = 12345;

	(void)state;
	for (int round = 0; round < 2000; round++) {
		_cleanup_(jsonstream_freep) struct jsonstream *p = NULL;
		struct collect c = { .got = json_array(), .fail_at = -1 };
		_cleanup_free_ char *m = malloc(len);
		size_t off = 0;

		memcpy(m, s, len);
		for (int k = 0; k < 1 + round % 5; k++)
			m[rand_r(&seed) % len] = (char)(rand_r(&seed) & 0xff);
		assert_int_equal(jsonstream_new(4096, &p), 0);
		while (off < len) {
			size_t n = 1 + rand_r(&seed) % 64;
			int r;

			if (n > len - off)
				n = len - off;
			r = jsonstream_feed(p, m + off, n, collect_cb, &c);
			off += n;
			if (r < 0) {
				assert_true(r == -EBADMSG || r == -EMSGSIZE);
				break;
			}
		}
		assert_true(json_array_size(c.got) <= ELEMENTSOF(events));
		json_decref(c.got);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_at_every_byte_boundary),
		cmocka_unit_test(test_byte_by_byte_and_three_way_splits),
		cmocka_unit_test(test_objects_without_separators),
		cmocka_unit_test(test_garbage_and_truncation),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_callback_error_stops_the_feed),
		cmocka_unit_test(test_random_input_never_crashes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
