/* typha-c's framing (lib/typhaproto.h): messages split across reads or
 * packed into one come out whole and in order; a line past the limit, bad
 * JSON and unknown types are errors; the field checks, table-driven. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "typhaproto.h"

static void test_messages_split_and_packed_come_out_whole(void **state)
{
	const char wire[] = "{\"type\":\"ping\"}\n{\"type\":\"synced\"}\n{\"type\":\"err";
	struct typhaproto_reader r = {};
	enum typhaproto_type t;
	json_t *msg;

	(void)state;
	/* byte by byte: nothing until the newline */
	for (size_t i = 0; i < 14; i++) {
		assert_int_equal(typhaproto_reader_feed(&r, wire + i, 1), 0);
		assert_int_equal(typhaproto_reader_next(&r, &msg, &t), 0);
	}
	assert_int_equal(typhaproto_reader_feed(&r, wire + 14, sizeof(wire) - 1 - 14), 0);
	assert_int_equal(typhaproto_reader_next(&r, &msg, &t), 1);
	assert_int_equal(t, TYPHAPROTO_PING);
	json_decref(msg);
	assert_int_equal(typhaproto_reader_next(&r, &msg, &t), 1);
	assert_int_equal(t, TYPHAPROTO_SYNCED);
	json_decref(msg);
	assert_int_equal(typhaproto_reader_next(&r, &msg, &t), 0); /* partial */
	assert_int_equal(typhaproto_reader_feed(&r, "or\",\"message\":\"m\"}\n", 19), 0);
	assert_int_equal(typhaproto_reader_next(&r, &msg, &t), 1);
	assert_int_equal(t, TYPHAPROTO_ERROR);
	assert_string_equal(json_string_value(json_object_get(msg, "message")), "m");
	json_decref(msg);
	typhaproto_reader_done(&r);
}

static void test_encode_round_trips(void **state)
{
	json_auto_t *in = json_pack("{s:s,s:I,s:s,s:s,s:{s:{s:s,s:s}}}", "type", "event", "seq",
				    (json_int_t)7, "kind", "pods", "event", "ADDED", "object",
				    "metadata", "name", "a\nb", "resourceVersion", "5");
	struct typhaproto_reader r = {};
	enum typhaproto_type t;
	json_t *out;
	char *buf;
	size_t len;
	const char *err = NULL;

	(void)state;
	assert_int_equal(typhaproto_encode(in, &buf, &len), 0);
	assert_int_equal(buf[len - 1], '\n');
	assert_null(memchr(buf, '\n', len - 1)); /* the name's newline is escaped */
	assert_int_equal(typhaproto_reader_feed(&r, buf, len), 0);
	free(buf);
	assert_int_equal(typhaproto_reader_next(&r, &out, &t), 1);
	assert_int_equal(t, TYPHAPROTO_EVENT);
	assert_true(json_equal(in, out));
	assert_int_equal(typhaproto_check(out, t, &err), 0);
	json_decref(out);
	typhaproto_reader_done(&r);
}

static void test_bad_input_is_an_error(void **state)
{
	struct typhaproto_reader r = { .max = 16 };
	enum typhaproto_type t;
	json_t *msg;

	(void)state;
	assert_int_equal(typhaproto_reader_feed(&r, "{\"type\":\"x\"}\nnot json\n[1]\n", 26), 0);
	assert_int_equal(typhaproto_reader_next(&r, &msg, &t), -EBADMSG); /* unknown type */
	assert_int_equal(typhaproto_reader_next(&r, &msg, &t), -EBADMSG); /* not JSON */
	assert_int_equal(typhaproto_reader_next(&r, &msg, &t), -EBADMSG); /* not an object */
	assert_int_equal(typhaproto_reader_next(&r, &msg, &t), 0);
	/* 17 bytes and no newline: longer than the limit */
	assert_int_equal(typhaproto_reader_feed(&r, "{\"type\":\"ping\"} ", 16), 0);
	assert_int_equal(typhaproto_reader_feed(&r, " ", 1), -EMSGSIZE);
	typhaproto_reader_done(&r);
}

static void test_check_fields(void **state)
{
	static const struct {
		const char *msg;
		int want;
	} v[] = {
		{ "{\"type\":\"hello\",\"version\":1,\"node\":\"n\",\"kinds\":[\"pods\"],"
		  "\"secretsNamespace\":\"kube-system\"}", 0 },
		{ "{\"type\":\"hello\",\"version\":2,\"node\":\"n\",\"kinds\":[\"pods\"],"
		  "\"secretsNamespace\":\"s\"}", -EBADMSG },
		{ "{\"type\":\"hello\",\"version\":1,\"node\":\"n\",\"kinds\":[],"
		  "\"secretsNamespace\":\"s\"}", -EBADMSG },
		{ "{\"type\":\"hello\",\"version\":1,\"node\":\"n\",\"kinds\":[1],"
		  "\"secretsNamespace\":\"s\"}", -EBADMSG },
		{ "{\"type\":\"hello\",\"version\":1,\"kinds\":[\"pods\"],\"secretsNamespace\":\"s\"}",
		  -EBADMSG },
		{ "{\"type\":\"snapshot\",\"kind\":\"pods\",\"items\":[],\"last\":true}", 0 },
		{ "{\"type\":\"snapshot\",\"kind\":\"pods\",\"items\":{},\"last\":true}", -EBADMSG },
		{ "{\"type\":\"snapshot\",\"kind\":\"pods\",\"items\":[]}", -EBADMSG },
		{ "{\"type\":\"event\",\"seq\":1,\"kind\":\"pods\",\"event\":\"DELETED\","
		  "\"object\":{\"metadata\":{\"name\":\"a\"}}}", 0 },
		{ "{\"type\":\"event\",\"seq\":0,\"kind\":\"pods\",\"event\":\"DELETED\","
		  "\"object\":{\"metadata\":{\"name\":\"a\"}}}", -EBADMSG },
		{ "{\"type\":\"event\",\"seq\":1,\"kind\":\"pods\",\"event\":\"BOOKMARK\","
		  "\"object\":{\"metadata\":{\"name\":\"a\"}}}", -EBADMSG },
		{ "{\"type\":\"event\",\"seq\":1,\"kind\":\"pods\",\"event\":\"ADDED\","
		  "\"object\":{\"metadata\":{}}}", -EBADMSG },
		{ "{\"type\":\"error\"}", -EBADMSG },
		{ "{\"type\":\"ping\"}", 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		json_auto_t *m = json_loads(v[i].msg, 0, NULL);
		enum typhaproto_type t;
		const char *err = NULL;

		assert_non_null(m);
		t = typhaproto_type_from_string(json_string_value(json_object_get(m, "type")));
		assert_true(t >= 0);
		assert_int_equal(typhaproto_check(m, t, &err), v[i].want);
		if (v[i].want < 0)
			assert_non_null(err);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_messages_split_and_packed_come_out_whole),
		cmocka_unit_test(test_encode_round_trips),
		cmocka_unit_test(test_bad_input_is_an_error),
		cmocka_unit_test(test_check_fields),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
