/* lib/array: growth by doubling from what is needed (one item first), items kept across moves,
 * overflow refused without calling realloc, a bound capping growth, and a
 * failed realloc leaving the old array and capacity as they were, and
 * struct array's push and append (count kept, a failure leaving it as it
 * was). realloc is wrapped
 * (-Wl,--wrap=realloc) to see the sizes asked for and to inject ENOMEM. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "array.h"
#include "cleanup.h"

void *__real_realloc(void *p, size_t n);

static size_t last_bytes; /* size of the last realloc asked for, 0: none */
static unsigned calls;	  /* reallocs asked for */
static bool fail;	  /* make the next realloc fail */

void *__wrap_realloc(void *p, size_t n)
{
	last_bytes = n;
	calls++;
	if (fail) {
		fail = false;
		return NULL;
	}
	return __real_realloc(p, n);
}

static int reset(void **state)
{
	(void)state;
	last_bytes = 0;
	calls = 0;
	fail = false;
	return 0;
}

static void test_grow_doubles_and_keeps_items(void **state)
{
	static const struct {
		size_t need;
		size_t want_cap;
	} v[] = {
		{ 0, 0 }, { 1, 1 }, { 2, 2 }, { 3, 4 }, { 16, 16 }, { 17, 32 }, { 33, 64 }, { 64, 64 }, { 200, 200 },
		{ 201, 400 },
	};
	uint32_t *a = NULL;
	size_t cap = 0, n = 0;

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		assert_int_equal(ARRAY_GROW(a, cap, v[i].need), 0);
		assert_int_equal(cap, v[i].want_cap);
		for (; n < v[i].need; n++)
			a[n] = (uint32_t)n * 7;
		for (size_t j = 0; j < n; j++)
			assert_int_equal(a[j], j * 7);
	}
	assert_int_equal(last_bytes, 400 * sizeof(*a));
	free(a);
}

static void test_grow_within_capacity_does_not_realloc(void **state)
{
	char *a = NULL;
	size_t cap = 0;

	(void)state;
	assert_int_equal(array_grow((void **)&a, &cap, 10, 1), 0);
	calls = 0;
	for (size_t need = 0; need <= cap; need++)
		assert_int_equal(array_grow((void **)&a, &cap, need, 1), 0);
	assert_int_equal(calls, 0);
	free(a);
}

static void test_grow_refuses_overflow(void **state)
{
	static const struct {
		size_t cap, need, size;
	} v[] = {
		{ 0, SIZE_MAX / 8 + 1, 8 },
		{ 0, SIZE_MAX, 2 },
		{ 16, SIZE_MAX / 16 + 1, 16 },
		{ SIZE_MAX / 4, SIZE_MAX / 4 + 1, 4 },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		void *a = NULL;
		size_t cap = v[i].cap;

		calls = 0;
		assert_int_equal(array_grow(&a, &cap, v[i].need, v[i].size), -ENOMEM);
		assert_int_equal(calls, 0);
		assert_null(a);
		assert_int_equal(cap, v[i].cap);
	}
}

/* Near SIZE_MAX doubling would overflow, so it asks for exactly @need
 * (which fails here, injected, rather than allocating it). */
static void test_grow_falls_back_to_need_when_doubling_overflows(void **state)
{
	static char one;
	void *a = &one;
	size_t cap = SIZE_MAX / 2 + 1;

	(void)state;
	fail = true;
	assert_int_equal(array_grow(&a, &cap, SIZE_MAX / 2 + 2, 1), -ENOMEM);
	assert_int_equal(last_bytes, SIZE_MAX / 2 + 2);
	cap = SIZE_MAX / 8;
	fail = true;
	assert_int_equal(array_grow(&a, &cap, SIZE_MAX / 8 + 1, 5), -ENOMEM);
	assert_int_equal(last_bytes, (SIZE_MAX / 8 + 1) * 5);
	assert_int_equal(cap, SIZE_MAX / 8);
	assert_ptr_equal(a, &one);
}

static void test_grow_failure_keeps_old_array(void **state)
{
	uint64_t *a = NULL, *before;
	size_t cap = 0;

	(void)state;
	assert_int_equal(ARRAY_GROW(a, cap, 16), 0);
	for (size_t i = 0; i < 16; i++)
		a[i] = i + 1;
	before = a;
	fail = true;
	assert_int_equal(ARRAY_GROW(a, cap, 17), -ENOMEM);
	assert_ptr_equal(a, before);
	assert_int_equal(cap, 16);
	for (size_t i = 0; i < 16; i++)
		assert_int_equal(a[i], i + 1);
	/* and it can still grow afterwards */
	assert_int_equal(ARRAY_GROW(a, cap, 17), 0);
	assert_int_equal(cap, 32);
	for (size_t i = 0; i < 16; i++)
		assert_int_equal(a[i], i + 1);
	free(a);
}

/* A bound caps the doubling and refuses what cannot fit, asking nothing. */
static void test_grow_max_caps_growth_and_refuses_above(void **state)
{
	char *a = NULL;
	size_t cap = 0;

	(void)state;
	assert_int_equal(array_grow_max((void **)&a, &cap, 10, 12, 1), 0);
	assert_int_equal(cap, 10);
	calls = 0;
	assert_int_equal(array_grow_max((void **)&a, &cap, 13, 12, 1), -EFBIG);
	assert_int_equal(calls, 0);
	assert_int_equal(cap, 10);
	assert_int_equal(array_grow_max((void **)&a, &cap, 11, 12, 1), 0);
	assert_int_equal(cap, 12);
	assert_int_equal(array_grow_max((void **)&a, &cap, 13, 100, 1), 0);
	assert_int_equal(cap, 24);
	assert_int_equal(array_grow_max((void **)&a, &cap, 25, 30, 1), 0);
	assert_int_equal(cap, 30);
	free(a);
}

/* struct array: items appended and pushed in order across moves; a failed
 * append changes nothing. */
static void test_struct_array_push_and_append(void **state)
{
	struct array a = ARRAY_INIT(uint32_t);
	uint32_t *slot;

	(void)state;
	for (uint32_t i = 0; i < 40; i++) {
		if (i % 2) {
			assert_int_equal(array_append(&a, &i), 0);
		} else {
			slot = array_push(&a);
			assert_non_null(slot);
			*slot = i;
		}
	}
	assert_int_equal(a.n, 40);
	assert_int_equal(a.cap, 64);
	for (uint32_t i = 0; i < 40; i++)
		assert_int_equal(((uint32_t *)a.items)[i], i);
	a.n = a.cap;
	fail = true;
	assert_int_equal(array_append(&a, &(uint32_t){ 7 }), -ENOMEM);
	assert_int_equal(a.n, 64);
	assert_int_equal(a.cap, 64);
	fail = true;
	assert_null(array_push(&a));
	assert_int_equal(a.n, 64);
	free(a.items);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_grow_doubles_and_keeps_items, reset),
		cmocka_unit_test_setup(test_grow_within_capacity_does_not_realloc, reset),
		cmocka_unit_test_setup(test_grow_refuses_overflow, reset),
		cmocka_unit_test_setup(test_grow_falls_back_to_need_when_doubling_overflows, reset),
		cmocka_unit_test_setup(test_grow_failure_keeps_old_array, reset),
		cmocka_unit_test_setup(test_grow_max_caps_growth_and_refuses_above, reset),
		cmocka_unit_test_setup(test_struct_array_push_and_append, reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
