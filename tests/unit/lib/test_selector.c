#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "selector.h"

/* Labels used by the match vectors. */
static const char *labels_json =
	"{\"zone\":\"a\",\"rack\":\"r1\",\"kubernetes.io/hostname\":\"node1\","
	"\"role\":\"edge-router\",\"empty\":\"\",\"all\":\"x\"}";

static void test_matches_vectors(void **state)
{
	static const struct {
		const char *sel;
		bool want;
	} v[] = {
		{ "", true },
		{ "   ", true },
		{ "all()", true },
		{ "global()", true },
		{ "zone == 'a'", true },
		{ "zone == \"a\"", true },
		{ "zone=='b'", false },
		{ "zone != 'b'", true },
		{ "missing != 'b'", true }, /* absent label: != matches */
		{ "missing == 'b'", false },
		{ "has(zone)", true },
		{ "has( missing )", false },
		{ "!has(missing)", true },
		{ "!!has(zone)", true },
		{ "zone in {'a','b'}", true },
		{ "zone in { 'b' , 'c' }", false },
		{ "zone in {}", false },
		{ "zone not in {'b'}", true },
		{ "missing not in {'b'}", true },
		{ "zone not in {'a'}", false },
		{ "kubernetes.io/hostname == 'node1'", true },
		{ "role contains 'router'", true },
		{ "role starts with 'edge'", true },
		{ "role ends with 'router'", true },
		{ "role ends with 'edge'", false },
		{ "missing contains ''", false },
		{ "empty == ''", true },
		{ "has(empty)", true },
		{ "zone == 'a' && rack == 'r1'", true },
		{ "zone == 'a' && rack == 'r2'", false },
		{ "zone == 'b' || rack == 'r1'", true },
		/* && binds tighter than ||. */
		{ "zone == 'b' && rack == 'r1' || has(zone)", true },
		{ "zone == 'b' && (rack == 'r1' || has(zone))", false },
		{ "!(zone == 'a' && rack == 'r1')", false },
		{ "((((zone == 'a'))))", true },
		/* function names are keys when no '(' follows */
		{ "all == 'x'", true },
		{ "all != 'x'", false },
		{ "zone in {'a'} && !has(missing) && role != 'x'", true },
	};
	json_t *labels = json_loads(labels_json, 0, NULL);

	(void)state;
	assert_non_null(labels);
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct selector *s = NULL;
		char *err = NULL;
		int r = selector_parse(v[i].sel, &s, &err);

		if (r != 0)
			fail_msg("'%s': %d %s", v[i].sel, r, err ? err : "");
		if (selector_matches(s, labels) != v[i].want)
			fail_msg("'%s' should %smatch", v[i].sel, v[i].want ? "" : "not ");
		selector_free(s);
	}
	json_decref(labels);
}

static void test_no_labels_only_absent_tests_match(void **state)
{
	static const struct {
		const char *sel;
		bool want;
	} v[] = {
		{ "all()", true },	      { "has(a)", false },	 { "!has(a)", true },
		{ "a == 'x'", false },	      { "a != 'x'", true },	 { "a in {'x'}", false },
		{ "a not in {'x'}", true },   { "a contains 'x'", false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct selector *s = NULL;

		assert_int_equal(selector_parse(v[i].sel, &s, NULL), 0);
		assert_int_equal(selector_matches(s, NULL), v[i].want);
		selector_free(s);
	}
}

static void test_bad_inputs_are_einval_with_position(void **state)
{
	static const char *bad[] = {
		"zone",		       "zone ==",	   "zone == a",	       "zone == 'a",
		"zone = 'a'",	       "has(zone",	   "has()",	       "(zone == 'a'",
		"zone == 'a')",	       "zone == 'a' &&",   "&& zone == 'a'",   "zone in 'a'",
		"zone in {'a',}",      "zone in {'a'",	   "zone not {'a'}",   "all(",
		"all(x)",	       "!",		   "zone == 'a' | b",  "zone == 'a' zone",
		"zone == 'a' || ",     "'a' == zone",	   "zone starts 'a'",  "==",
		"zone\x01 == 'a'",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct selector *s = NULL;
		char *err = NULL;
		int r = selector_parse(bad[i], &s, &err);

		if (r != -EINVAL)
			fail_msg("'%s' parsed (r=%d)", bad[i], r);
		assert_null(s);
		assert_non_null(err);
		assert_non_null(strstr(err, "position"));
		free(err);
	}
}

static void test_deep_nesting_and_huge_input_are_rejected(void **state)
{
	size_t n = 100000;
	char *text = malloc(n + 1);
	struct selector *s = NULL;
	char *err = NULL;

	(void)state;
	assert_non_null(text);
	/* 5000 '(' : over the depth limit, must not recurse without bound */
	memset(text, '(', 5000);
	strcpy(text + 5000, "has(a)");
	assert_int_equal(selector_parse(text, &s, &err), -EINVAL);
	assert_non_null(strstr(err, "nested"));
	free(err);
	err = NULL;
	memset(text, '!', n);
	text[n] = '\0';
	assert_int_equal(selector_parse(text, &s, &err), -EINVAL);
	free(err);
	/* NULL error pointer is allowed */
	assert_int_equal(selector_parse("zone ==", &s, NULL), -EINVAL);
	free(text);
}

static void test_is_all(void **state)
{
	static const struct {
		const char *sel;
		bool want;
	} v[] = { { "", true }, { "all()", true }, { "global()", true }, { "has(a)", false },
		  { "!all()", false } };

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct selector *s = NULL;

		assert_int_equal(selector_parse(v[i].sel, &s, NULL), 0);
		assert_int_equal(selector_is_all(s), v[i].want);
		selector_free(s);
	}
	assert_null(selector_free(NULL));
}

static void test_non_string_label_values_do_not_match(void **state)
{
	json_t *labels = json_loads("{\"n\":5,\"b\":true}", 0, NULL);
	struct selector *s = NULL;

	(void)state;
	assert_int_equal(selector_parse("has(n) || n == '5' || b == 'true'", &s, NULL), 0);
	assert_false(selector_matches(s, labels));
	selector_free(s);
	json_decref(labels);
}

/* A set of 1024 values fits (every one kept as the array grows); 1025 is
 * -EINVAL naming the limit. */
static void test_set_size_limit(void **state)
{
	json_t *labels = json_pack("{s:s}", "a", "v1023");

	(void)state;
	for (int n = 1024; n <= 1025; n++) {
		size_t len = 0, size = (size_t)n * 10 + 16;
		char *text = malloc(size);
		struct selector *s = NULL;
		char *err = NULL;

		assert_non_null(text);
		len += (size_t)snprintf(text, size, "a in {");
		for (int i = 0; i < n; i++)
			len += (size_t)snprintf(text + len, size - len, "%s'v%d'", i ? "," : "", i);
		snprintf(text + len, size - len, "}");
		if (n == 1024) {
			assert_int_equal(selector_parse(text, &s, &err), 0);
			assert_true(selector_matches(s, labels));
		} else {
			assert_int_equal(selector_parse(text, &s, &err), -EINVAL);
			assert_non_null(strstr(err, "set has more than 1024 values"));
		}
		selector_free(s);
		free(err);
		free(text);
	}
	json_decref(labels);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matches_vectors),
		cmocka_unit_test(test_no_labels_only_absent_tests_match),
		cmocka_unit_test(test_bad_inputs_are_einval_with_position),
		cmocka_unit_test(test_deep_nesting_and_huge_input_are_rejected),
		cmocka_unit_test(test_is_all),
		cmocka_unit_test(test_non_string_label_values_do_not_match),
		cmocka_unit_test(test_set_size_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
