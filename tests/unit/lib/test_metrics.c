/* Prometheus text exposition (format 0.0.4): the growable buffer, sample
 * lines with escaped labels and value formatting, and histograms
 * (cumulative buckets, +Inf, _sum, _count). */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "metrics.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void test_buf_grows_and_stays_terminated(void **state)
{
	struct metrics_buf b = {};
	char *want = malloc(5001);

	(void)state;
	assert_non_null(want);
	/* 5000 bytes in 1,7,... byte pieces cross several capacity doublings. */
	for (size_t len = 0, i = 0; len < 5000; i++) {
		size_t piece = i % 13 + 1 > 5000 - len ? 5000 - len : i % 13 + 1;

		for (size_t k = 0; k < piece; k++)
			want[len + k] = (char)('a' + (len + k) % 26);
		metrics_printf(&b, "%.*s", (int)piece, want + len);
		len += piece;
		assert_int_equal(b.len, len);
		assert_true(b.cap > b.len);
		assert_int_equal(b.s[b.len], '\0');
	}
	want[5000] = '\0';
	assert_string_equal(b.s, want);
	assert_int_equal(b.error, 0);
	metrics_buf_done(&b);
	assert_null(b.s);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	metrics_buf_done(&b); /* twice is fine */
	free(want);
}

static void test_empty_write_allocates_terminated_buffer(void **state)
{
	struct metrics_buf b = {};

	(void)state;
	metrics_printf(&b, "%s", "");
	assert_non_null(b.s);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.s, "");
	metrics_buf_done(&b);
}

static void test_error_is_sticky(void **state)
{
	struct metrics_buf b = {};

	(void)state;
	metrics_printf(&b, "before\n");
	b.error = -ENOMEM; /* as after a failed realloc */
	metrics_printf(&b, "after\n");
	metrics_header(&b, "x", "gauge", "help");
	metrics_sample(&b, "x", NULL, 0, 1);
	assert_int_equal(b.len, 7);
	assert_string_equal(b.s, "before\n");
	assert_int_equal(b.error, -ENOMEM);
	metrics_buf_done(&b);
	assert_int_equal(b.error, 0);
}

static void test_header(void **state)
{
	struct metrics_buf b = {};

	(void)state;
	metrics_header(&b, "felix_c_routes", "gauge", "Routes we own.");
	/* HELP escapes backslash and newline only (quotes stay). */
	metrics_header(&b, "x_total", "counter", "a \"q\" \\ b\nc");
	assert_string_equal(b.s, "# HELP felix_c_routes Routes we own.\n"
				 "# TYPE felix_c_routes gauge\n"
				 "# HELP x_total a \"q\" \\\\ b\\nc\n"
				 "# TYPE x_total counter\n");
	metrics_buf_done(&b);
}

static void test_sample_labels_escaped(void **state)
{
	const char *one[] = { "node", "node1" };
	const char *three[] = { "a", "back\\slash", "b", "quo\"te", "c", "new\nline" };
	const char *null_value[] = { "peer", NULL };
	struct metrics_buf b = {};

	(void)state;
	metrics_sample(&b, "up", NULL, 0, 1);
	metrics_sample(&b, "up", one, 1, 0);
	metrics_sample(&b, "m", three, 3, 2);
	metrics_sample(&b, "m", null_value, 1, 3);
	metrics_sample(&b, "m", one, 0, 4); /* n_labels 0: labels ignored */
	assert_string_equal(b.s, "up 1\n"
				 "up{node=\"node1\"} 0\n"
				 "m{a=\"back\\\\slash\",b=\"quo\\\"te\",c=\"new\\nline\"} 2\n"
				 "m{peer=\"\"} 3\n"
				 "m 4\n");
	metrics_buf_done(&b);
}

static void test_sample_values(void **state)
{
	static const struct {
		double v;
		const char *want;
	} v[] = {
		{ 0, "0" },
		{ -0.0, "0" },
		{ 1, "1" },
		{ -3, "-3" },
		{ 123456789012345, "123456789012345" },
		{ 1e15, "1e+15" },
		{ 18446744073709551615.0, "1.84467441e+19" }, /* a uint64 counter's top */
		{ 1e300, "1e+300" },
		{ -1e300, "-1e+300" },
		{ 0.25, "0.25" },
		{ 0.1, "0.1" },
		{ 1.0 / 3, "0.333333333" },
		{ 2.5e-7, "2.5e-07" },
		{ NAN, "NaN" },
		{ INFINITY, "+Inf" },
		{ -INFINITY, "-Inf" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		struct metrics_buf b = {};
		char want[64];

		metrics_sample(&b, "x", NULL, 0, v[i].v);
		snprintf(want, sizeof(want), "x %s\n", v[i].want);
		if (strcmp(b.s, want) != 0)
			fail_msg("vector %zu: got '%s', want '%s'", i, b.s, want);
		metrics_buf_done(&b);
	}
}

static const double bounds[] = { 0.005, 0.01, 0.1, 1 };

static void test_hist_observe_buckets(void **state)
{
	struct metrics_hist h = { .bounds = bounds, .n_bounds = ARRAY_SIZE(bounds) };
	static const struct {
		double v;
		size_t bucket;
	} v[] = {
		{ 0, 0 },	{ 0.001, 0 }, { 0.005, 0 }, /* le: a value on a bound is in it */
		{ 0.0051, 1 }, { 0.01, 1 },  { 0.05, 2 },  { 0.1, 2 }, { 0.5, 3 },
		{ 1, 3 },	{ 1.0001, 4 }, { 1e9, 4 },   { -1, 0 },
	};
	uint64_t want[ARRAY_SIZE(bounds) + 1] = {};
	double sum = 0;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		metrics_hist_observe(&h, v[i].v);
		want[v[i].bucket]++;
		sum += v[i].v;
		assert_memory_equal(h.counts, want, sizeof(want));
		assert_int_equal(h.count, i + 1);
	}
	assert_true(h.sum == sum);
}

static void test_hist_nan_goes_to_inf_bucket(void **state)
{
	struct metrics_hist h = { .bounds = bounds, .n_bounds = ARRAY_SIZE(bounds) };

	(void)state;
	metrics_hist_observe(&h, NAN);
	assert_int_equal(h.counts[0], 0);
	assert_int_equal(h.counts[ARRAY_SIZE(bounds)], 1);
	assert_int_equal(h.count, 1);
}

static void test_hist_write_exposition(void **state)
{
	struct metrics_hist h = { .bounds = bounds, .n_bounds = ARRAY_SIZE(bounds) };
	struct metrics_buf b = {};

	(void)state;
	metrics_hist_observe(&h, 0.002);
	metrics_hist_observe(&h, 0.003);
	metrics_hist_observe(&h, 0.25);
	metrics_hist_observe(&h, 3);
	metrics_hist_write(&b, "felix_c_route_apply_seconds", "Route reconcile duration.", &h);
	assert_int_equal(b.error, 0);
	assert_string_equal(b.s, "# HELP felix_c_route_apply_seconds Route reconcile duration.\n"
				 "# TYPE felix_c_route_apply_seconds histogram\n"
				 "felix_c_route_apply_seconds_bucket{le=\"0.005\"} 2\n"
				 "felix_c_route_apply_seconds_bucket{le=\"0.01\"} 2\n"
				 "felix_c_route_apply_seconds_bucket{le=\"0.1\"} 2\n"
				 "felix_c_route_apply_seconds_bucket{le=\"1\"} 3\n"
				 "felix_c_route_apply_seconds_bucket{le=\"+Inf\"} 4\n"
				 "felix_c_route_apply_seconds_sum 3.255\n"
				 "felix_c_route_apply_seconds_count 4\n");
	metrics_buf_done(&b);
}

static void test_hist_empty_and_no_bounds(void **state)
{
	struct metrics_hist empty = { .bounds = bounds, .n_bounds = ARRAY_SIZE(bounds) };
	struct metrics_hist none = {};
	struct metrics_buf b = {};

	(void)state;
	metrics_hist_write(&b, "e", "E.", &empty);
	metrics_hist_observe(&none, 7);
	metrics_hist_write(&b, "n", "N.", &none);
	assert_string_equal(b.s, "# HELP e E.\n# TYPE e histogram\n"
				 "e_bucket{le=\"0.005\"} 0\ne_bucket{le=\"0.01\"} 0\n"
				 "e_bucket{le=\"0.1\"} 0\ne_bucket{le=\"1\"} 0\n"
				 "e_bucket{le=\"+Inf\"} 0\ne_sum 0\ne_count 0\n"
				 "# HELP n N.\n# TYPE n histogram\n"
				 "n_bucket{le=\"+Inf\"} 1\nn_sum 7\nn_count 1\n");
	metrics_buf_done(&b);
}

static void test_hist_bounds_print_exactly(void **state)
{
	/* Each le must read back as its bound ("%g" gives 1.23457e+06). */
	static const double odd[] = { 2.5e-7, 0.0025, 0.3, 1234567, 16777217, 1e21 };
	static const char *const want[] = { "2.5e-07", "0.0025", "0.3", "1234567", "16777217",
					    "1e+21" };
	struct metrics_hist h = { .bounds = odd, .n_bounds = ARRAY_SIZE(odd) };
	struct metrics_buf b = {};
	const char *p;

	(void)state;
	metrics_hist_write(&b, "h", "H.", &h);
	p = b.s;
	for (size_t i = 0; i < ARRAY_SIZE(odd); i++) {
		char line[64];

		snprintf(line, sizeof(line), "h_bucket{le=\"%s\"} 0\n", want[i]);
		p = strstr(p, line);
		if (!p)
			fail_msg("missing '%s' in:\n%s", line, b.s);
		assert_true(strtod(want[i], NULL) == odd[i]);
	}
	metrics_buf_done(&b);
}

static void test_hist_max_buckets(void **state)
{
	double many[METRICS_HIST_MAX_BUCKETS];
	struct metrics_hist h = { .bounds = many, .n_bounds = METRICS_HIST_MAX_BUCKETS };
	struct metrics_buf b = {};
	char line[64];

	(void)state;
	for (int i = 0; i < METRICS_HIST_MAX_BUCKETS; i++)
		many[i] = i + 1;
	for (int i = 0; i <= METRICS_HIST_MAX_BUCKETS + 1; i++)
		metrics_hist_observe(&h, i + 0.5);
	assert_int_equal(h.counts[METRICS_HIST_MAX_BUCKETS], 2); /* 16.5 and 17.5 */
	metrics_hist_write(&b, "h", "H.", &h);
	snprintf(line, sizeof(line), "h_bucket{le=\"%d\"} %d\n", METRICS_HIST_MAX_BUCKETS,
		 METRICS_HIST_MAX_BUCKETS);
	assert_non_null(strstr(b.s, line));
	assert_non_null(strstr(b.s, "h_bucket{le=\"+Inf\"} 18\nh_sum 162\nh_count 18\n"));
	metrics_buf_done(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_grows_and_stays_terminated),
		cmocka_unit_test(test_empty_write_allocates_terminated_buffer),
		cmocka_unit_test(test_error_is_sticky),
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_sample_labels_escaped),
		cmocka_unit_test(test_sample_values),
		cmocka_unit_test(test_hist_observe_buckets),
		cmocka_unit_test(test_hist_nan_goes_to_inf_bucket),
		cmocka_unit_test(test_hist_write_exposition),
		cmocka_unit_test(test_hist_empty_and_no_bounds),
		cmocka_unit_test(test_hist_bounds_print_exactly),
		cmocka_unit_test(test_hist_max_buckets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
