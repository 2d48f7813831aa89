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

#include "labelsel.h"

static const char *labels_json = "{\"app\":\"web\",\"tier\":\"front\",\"env\":\"\"}";

static void test_matches_vectors(void **state)
{
	static const struct {
		const char *sel;
		bool want;
	} v[] = {
		{ "{}", true },
		{ "{\"matchLabels\":{\"app\":\"web\"}}", true },
		{ "{\"matchLabels\":{\"app\":\"db\"}}", false },
		{ "{\"matchLabels\":{\"app\":\"web\",\"tier\":\"back\"}}", false },
		{ "{\"matchLabels\":{\"env\":\"\"}}", true },
		{ "{\"matchExpressions\":[{\"key\":\"app\",\"operator\":\"In\",\"values\":[\"db\",\"web\"]}]}", true },
		{ "{\"matchExpressions\":[{\"key\":\"app\",\"operator\":\"In\",\"values\":[\"db\"]}]}", false },
		{ "{\"matchExpressions\":[{\"key\":\"app\",\"operator\":\"NotIn\",\"values\":[\"db\"]}]}", true },
		{ "{\"matchExpressions\":[{\"key\":\"app\",\"operator\":\"NotIn\",\"values\":[\"web\"]}]}", false },
		/* NotIn matches when the label is absent */
		{ "{\"matchExpressions\":[{\"key\":\"zone\",\"operator\":\"NotIn\",\"values\":[\"a\"]}]}", true },
		{ "{\"matchExpressions\":[{\"key\":\"zone\",\"operator\":\"In\",\"values\":[\"a\"]}]}", false },
		{ "{\"matchExpressions\":[{\"key\":\"tier\",\"operator\":\"Exists\"}]}", true },
		{ "{\"matchExpressions\":[{\"key\":\"zone\",\"operator\":\"Exists\"}]}", false },
		{ "{\"matchExpressions\":[{\"key\":\"zone\",\"operator\":\"DoesNotExist\"}]}", true },
		{ "{\"matchExpressions\":[{\"key\":\"app\",\"operator\":\"DoesNotExist\"}]}", false },
		/* matchLabels AND matchExpressions */
		{ "{\"matchLabels\":{\"app\":\"web\"},\"matchExpressions\":[{\"key\":\"tier\",\"operator\":\"In\",\"values\":[\"back\"]}]}", false },
		{ "{\"matchLabels\":{\"app\":\"web\"},\"matchExpressions\":[{\"key\":\"tier\",\"operator\":\"In\",\"values\":[\"front\"]}]}", true },
	};
	json_t *j_labels = json_loads(labels_json, 0, NULL);
	struct labels *labels = NULL;

	(void)state;
	assert_int_equal(labels_from_json(j_labels, NULL, NULL, &labels), 0);
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		json_t *j = json_loads(v[i].sel, 0, NULL);
		struct labelsel *s = NULL;

		assert_non_null(j);
		assert_int_equal(labelsel_from_json(j, "sel", &s, NULL), 0);
		if (labelsel_matches(s, labels) != v[i].want)
			fail_msg("vector %zu '%s': want %d", i, v[i].sel, v[i].want);
		labelsel_free(s);
		json_decref(j);
	}
	free(labels);
	json_decref(j_labels);
}

static void test_packed_labels(void **state)
{
	json_t *j = json_loads("{\"tier\":\"front\",\"app\":\"web\",\"name\":\"old\"}", 0, NULL);
	json_t *bad = json_loads("{\"app\":1}", 0, NULL), *arr = json_loads("[]", 0, NULL);
	struct labels *a = NULL, *b = NULL, *c = NULL, *none = NULL;

	(void)state;
	/* sorted by key; the extra label replaces one of its key */
	assert_int_equal(labels_from_json(j, "name", "new", &a), 0);
	assert_int_equal(a->n, 3);
	assert_memory_equal(a->data, "app\0web\0name\0new\0tier\0front\0", a->len);
	assert_string_equal(labels_get(a, "name"), "new");
	assert_string_equal(labels_get(a, "tier"), "front");
	assert_null(labels_get(a, "zone"));
	assert_null(labels_get(a, "aaa"));
	assert_null(labels_get(NULL, "app"));
	/* equal maps are equal whatever their JSON order */
	assert_int_equal(labels_from_json(j, NULL, NULL, &b), 0);
	assert_false(labels_equal(a, b));
	c = labels_dup(a);
	assert_non_null(c);
	assert_true(labels_equal(a, c));
	free(c);
	c = NULL;
	/* no labels */
	assert_int_equal(labels_from_json(NULL, NULL, NULL, &none), 0);
	assert_int_equal(none->n, 0);
	assert_null(labels_get(none, "app"));
	/* not an object of strings */
	assert_int_equal(labels_from_json(bad, NULL, NULL, &c), -EINVAL);
	assert_int_equal(labels_from_json(arr, NULL, NULL, &c), -EINVAL);
	assert_null(c);
	free(a);
	free(b);
	free(labels_dup(none)); /* a copy of the empty map */
	free(none);
	json_decref(j);
	json_decref(bad);
	json_decref(arr);
}

static void test_bad_selectors_are_rejected_with_field(void **state)
{
	static const struct {
		const char *sel;
		const char *want; /* substring of the error */
	} v[] = {
		{ "{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Equals\",\"values\":[\"x\"]}]}", "operator: unsupported value 'Equals'" },
		{ "{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\"}]}", "values: must be specified" },
		{ "{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\",\"values\":[]}]}", "values: must be specified" },
		{ "{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Exists\",\"values\":[\"x\"]}]}", "may not be specified" },
		{ "{\"matchExpressions\":[{\"operator\":\"Exists\"}]}", "key: invalid label key" },
		{ "{\"matchLabels\":{\"bad key\":\"x\"}}", "invalid label key 'bad key'" },
		{ "{\"matchLabels\":{\"a\":\"-x\"}}", "matchLabels.a: invalid label value" },
		{ "{\"matchLabels\":{\"a\":3}}", "invalid label value" },
		{ "[]", "must be an object" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		json_t *j = json_loads(v[i].sel, JSON_DECODE_ANY, NULL);
		struct labelsel *s = NULL;
		char *err = NULL;

		assert_non_null(j);
		assert_int_equal(labelsel_from_json(j, "spec.podSelector", &s, &err), -EINVAL);
		assert_null(s);
		assert_non_null(err);
		if (!strstr(err, v[i].want) || !strstr(err, "spec.podSelector"))
			fail_msg("vector %zu: error '%s' lacks '%s'", i, err, v[i].want);
		free(err);
		json_decref(j);
	}
}

static void test_canonical_text_is_order_independent(void **state)
{
	json_t *a = json_loads("{\"matchLabels\":{\"b\":\"2\",\"a\":\"1\"},\"matchExpressions\":[{\"key\":\"c\",\"operator\":\"In\",\"values\":[\"y\",\"x\",\"y\"]}]}", 0, NULL);
	json_t *b = json_loads("{\"matchExpressions\":[{\"key\":\"c\",\"operator\":\"In\",\"values\":[\"x\",\"y\"]}],\"matchLabels\":{\"a\":\"1\",\"b\":\"2\"}}", 0, NULL);
	struct labelsel *sa = NULL, *sb = NULL;
	char *ta = NULL, *tb = NULL;

	(void)state;
	assert_int_equal(labelsel_from_json(a, "x", &sa, NULL), 0);
	assert_int_equal(labelsel_from_json(b, "x", &sb, NULL), 0);
	assert_int_equal(labelsel_to_string(sa, &ta), 0);
	assert_int_equal(labelsel_to_string(sb, &tb), 0);
	assert_string_equal(ta, tb);
	assert_string_equal(ta, "a in (1),b in (2),c in (x,y)");
	assert_false(labelsel_is_everything(sa));
	free(ta);
	free(tb);
	labelsel_free(sa);
	labelsel_free(sb);
	json_decref(a);
	json_decref(b);
}

static void test_key_syntax(void **state)
{
	(void)state;
	assert_true(labelsel_key_is_valid("app"));
	assert_true(labelsel_key_is_valid("kubernetes.io/metadata.name"));
	assert_true(labelsel_key_is_valid("a-b_c.d"));
	assert_false(labelsel_key_is_valid(""));
	assert_false(labelsel_key_is_valid("-a"));
	assert_false(labelsel_key_is_valid("Example.COM/a"));
	assert_false(labelsel_key_is_valid("a/b/c"));
	assert_true(labelsel_value_is_valid(""));
	assert_false(labelsel_value_is_valid("a b"));
}

/* 256 terms and 1024 values of a term fit (every one kept as the arrays
 * grow); one more of either is -EINVAL naming the limit. */
static void test_term_and_value_limits(void **state)
{
	(void)state;
	for (int n = 256; n <= 257; n++) {
		json_t *ml = json_object(), *labels = json_object();
		json_t *j = json_pack("{s:o}", "matchLabels", ml);
		struct labelsel *s = NULL;
		char *err = NULL;
		char key[16];
		int r;

		for (int i = 0; i < n; i++) {
			snprintf(key, sizeof(key), "k%d", i);
			json_object_set_new(ml, key, json_string("v"));
			json_object_set_new(labels, key, json_string("v"));
		}
		r = labelsel_from_json(j, "sel", &s, &err);
		if (n == 256) {
			struct labels *l = NULL;

			assert_int_equal(r, 0);
			assert_int_equal(labels_from_json(labels, NULL, NULL, &l), 0);
			assert_true(labelsel_matches(s, l));
			json_object_set_new(labels, "k255", json_string("w"));
			free(l);
			assert_int_equal(labels_from_json(labels, NULL, NULL, &l), 0);
			assert_false(labelsel_matches(s, l));
			free(l);
		} else {
			assert_int_equal(r, -EINVAL);
			assert_non_null(strstr(err, "sel: more than 256 terms"));
		}
		labelsel_free(s);
		free(err);
		json_decref(j);
		json_decref(labels);
	}
	for (int n = 1024; n <= 1025; n++) {
		json_t *vals = json_array();
		json_t *j = json_pack("{s:[{s:s,s:s,s:o}]}", "matchExpressions", "key", "a",
				      "operator", "In", "values", vals);
		struct labelsel *s = NULL;
		struct labels *l = NULL;
		char *err = NULL;
		char v[16];

		for (int i = 0; i < n; i++) {
			snprintf(v, sizeof(v), "v%d", i);
			json_array_append_new(vals, json_string(v));
		}
		if (n == 1025) {
			assert_int_equal(labelsel_from_json(j, "sel", &s, &err), -EINVAL);
			assert_non_null(strstr(err, "more than 1024 values"));
		} else {
			json_t *labels = json_pack("{s:s}", "a", "v1023");

			assert_int_equal(labelsel_from_json(j, "sel", &s, &err), 0);
			assert_int_equal(labels_from_json(labels, NULL, NULL, &l), 0);
			assert_true(labelsel_matches(s, l));
			json_decref(labels);
		}
		free(l);
		labelsel_free(s);
		free(err);
		json_decref(j);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matches_vectors),
		cmocka_unit_test(test_packed_labels),
		cmocka_unit_test(test_bad_selectors_are_rejected_with_field),
		cmocka_unit_test(test_canonical_text_is_order_independent),
		cmocka_unit_test(test_key_syntax),
		cmocka_unit_test(test_term_and_value_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
