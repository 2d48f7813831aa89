/* yamljson: documents, scalar typing as kubectl types manifests, and the
 * refusals (with line numbers). Round trip: YAML -> JSON text compared with
 * the expected JSON text. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "cleanup.h"
#include "yamljson.h"

static void check(const char *yaml, const char *want_json)
{
	json_t *docs = NULL, *want = json_loads(want_json, JSON_DECODE_ANY, NULL);
	char *err = NULL, *got;
	int r = yamljson_parse(yaml, strlen(yaml), &docs, &err);

	if (r < 0)
		fail_msg("'%s': %d %s", yaml, r, err ? err : "");
	assert_non_null(want);
	got = json_dumps(docs, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	if (!json_equal(docs, want))
		fail_msg("'%s': got %s want %s", yaml, got, want_json);
	free(got);
	json_decref(docs);
	json_decref(want);
}

static void test_documents_and_types(void **state)
{
	static const struct {
		const char *yaml, *json;
	} v[] = {
		{ "a: 1\n", "[{\"a\":1}]" },
		{ "---\na: 1\n---\nb: 2\n...\n", "[{\"a\":1},{\"b\":2}]" },
		{ "# only a comment\n---\n---\na: x\n", "[{\"a\":\"x\"}]" },
		{ "", "[]" },
		{ "{\"kind\": \"IPPool\", \"spec\": {\"blockSize\": 26, \"x\": null}}",
		  "[{\"kind\":\"IPPool\",\"spec\":{\"blockSize\":26,\"x\":null}}]" },
		{ "i: -42\nh: 0x1F\no: 0o17\nf: 1.5\ne: 1e3\nbig: 4294967295\n",
		  "[{\"i\":-42,\"h\":31,\"o\":15,\"f\":1.5,\"e\":1000.0,\"big\":4294967295}]" },
		{ "t: true\nT: True\ny: yes\nn: no\non: on\noff: OFF\nf: false\n",
		  "[{\"t\":true,\"T\":true,\"y\":true,\"n\":false,\"on\":true,\"off\":false,\"f\":false}]" },
		{ "a: ~\nb: null\nc:\nd: ''\n", "[{\"a\":null,\"b\":null,\"c\":null,\"d\":\"\"}]" },
		{ "q: '26'\nd: \"true\"\ns: !!str 10\nv: 10.65.0.0/16\nsel: app == 'x'\n",
		  "[{\"q\":\"26\",\"d\":\"true\",\"s\":\"10\",\"v\":\"10.65.0.0/16\",\"sel\":\"app == 'x'\"}]" },
		{ "1: a\ntrue: b\n", "[{\"1\":\"a\",\"true\":\"b\"}]" },
		{ "l:\n- 1\n- [a, {b: c}]\n- |\n  text\n", "[{\"l\":[1,[\"a\",{\"b\":\"c\"}],\"text\\n\"]}]" },
		{ "v: 1.2.3\nm: 0x\nx: 12abc\n", "[{\"v\":\"1.2.3\",\"m\":\"0x\",\"x\":\"12abc\"}]" },
		{ "- 1\n- 2\n", "[[1,2]]" },
		{ "huge: 99999999999999999999\n", "[{\"huge\":1e20}]" },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(v); i++)
		check(v[i].yaml, v[i].json);
}

static void test_refusals_name_the_line(void **state)
{
	static const struct {
		const char *yaml, *want;
	} v[] = {
		{ "a: 1\na: 2\n", "line 2: duplicate key 'a'" },
		{ "a: &x 1\nb: *x\n", "line 2: YAML aliases are not supported" },
		{ "? [a]\n: 1\n", "line 1: a mapping key must be a scalar" },
		{ "a: [1, 2\n", "line 2: did not find expected ',' or ']' while parsing a flow sequence" },
		{ "a:\n  b: 1\n c: 2\n", NULL },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		json_t *docs = NULL;
		char *err = NULL;

		assert_int_equal(yamljson_parse(v[i].yaml, strlen(v[i].yaml), &docs, &err), -EBADMSG);
		assert_null(docs);
		assert_non_null(err);
		if (v[i].want)
			assert_string_equal(err, v[i].want);
		else
			assert_true(strncmp(err, "line 3: ", 8) == 0);
		free(err);
	}
}

static void test_depth_is_bounded(void **state)
{
	char buf[3 * YAMLJSON_MAX_DEPTH + 8];
	json_t *docs = NULL;
	char *err = NULL;
	size_t n = 0;

	(void)state;
	for (int i = 0; i <= YAMLJSON_MAX_DEPTH; i++)
		buf[n++] = '[';
	for (int i = 0; i <= YAMLJSON_MAX_DEPTH; i++)
		buf[n++] = ']';
	assert_int_equal(yamljson_parse(buf, n, &docs, &err), -EBADMSG);
	assert_non_null(strstr(err, "nested deeper than 64 levels"));
	free(err);
	/* one level less is fine */
	assert_int_equal(yamljson_parse(buf + 1, n - 2, &docs, NULL), 0);
	json_decref(docs);
}

/* Emit, parse back, compare: strings that look like other types stay strings. */
static void test_emit_round_trip(void **state)
{
	static const char *const v[] = {
		"{\"apiVersion\":\"crd.projectcalico.org/v1\",\"kind\":\"IPPool\",\"metadata\":"
		"{\"name\":\"p\",\"labels\":{}},\"spec\":{\"cidr\":\"10.65.0.0/16\",\"blockSize\":26,"
		"\"nodeSelector\":\"a == 'x' && !has(b)\",\"disabled\":false,\"allowedUses\":[]}}",
		"{\"s\":[\"26\",\"true\",\"yes\",\"null\",\"~\",\"\",\" lead\",\"trail \",\"a: b\","
		"\"x #c\",\"- d\",\"line\\nbreak\",\"0x1F\",\"1e3\",\"k:\",\"*a\",\"caf\u00e9\"]}",
		"{\"nested\":[[1,2],[{\"a\":null,\"b\":[]}],{}],\"f\":1.5,\"n\":-3}",
		"{\"weird key: x\":1,\"true\":2,\"\":3}",
		/* found by tests/fuzz/fuzz_yaml: a document end marker, YAML
		 * line breaks (NEL, LS, PS) and characters YAML refuses raw
		 * (C1 controls, BOM, U+FFFF), as values and as keys; a NUL */
		"[\"... {{\",\"...\",\"a\\u0085b\",\"a\\u2028b\",\"a\\u2029b\",\"x...\","
		"\"]a\\u0084b\",\"\\u0080\\u009f\",\"a\\ufeffb\",\"\\uffff\",\"\\ufffd\\u00a0\","
		"{\"k\\u0085\\u0090\":1},\"x\\u0000y\"]",
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		json_t *in = json_loads(v[i], JSON_ALLOW_NUL, NULL), *docs = NULL;
		char *buf = NULL, *err = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);

		assert_non_null(in);
		assert_int_equal(yamljson_emit(in, f), 0);
		fclose(f);
		if (yamljson_parse(buf, len, &docs, &err) < 0)
			fail_msg("vector %zu: %s\n%s", i, err, buf);
		if (!json_equal(json_array_get(docs, 0), in))
			fail_msg("vector %zu did not round-trip:\n%s", i, buf);
		free(buf);
		json_decref(docs);
		json_decref(in);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_documents_and_types),
		cmocka_unit_test(test_refusals_name_the_line),
		cmocka_unit_test(test_depth_is_bounded),
		cmocka_unit_test(test_emit_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
