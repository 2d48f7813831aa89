/* cnitoken: when the CNI token is refreshed. As Calico: after a quarter to
 * a half of the remaining life (jitter spreads the nodes), 5 s after a
 * failure or an expired token, a fixed interval when configured; and always
 * before the token expires. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "felix-c/cnitoken.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void test_delay_vectors(void **state)
{
	static const struct {
		int64_t remaining_s;
		double jitter;
		unsigned interval_ms;
		uint64_t want;
	} v[] = {
		{ 86400, 0, 0, 21600000 },	  /* 24 h token: after 6 h */
		{ 86400, 0.5, 0, 32400000 },	  /* ... or 9 h */
		{ 600, 0, 0, 150000 },		  /* the apiserver's minimum: 2.5 min */
		{ 600, 0.25, 0, 187500 },
		{ 31536000, 0, 0, 7884000000ull }, /* a year: no overflow */
		{ 0, 0, 0, CNITOKEN_RETRY_MS },	  /* expired, or no token yet */
		{ -30, 0.9, 0, CNITOKEN_RETRY_MS },
		{ 8, 0, 0, CNITOKEN_RETRY_MS },	  /* never below the retry floor */
		{ 86400, 1.5, 0, 21600000 },	  /* jitter outside [0,1): none */
		{ 86400, -0.1, 0, 21600000 },
		{ 86400, 0.3, 2000, 2000 },	  /* fixed interval (tests) */
		{ 0, 0, 2000, 2000 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		uint64_t got = cnitoken_next_delay_ms(v[i].remaining_s, v[i].jitter,
						      v[i].interval_ms);

		if (got != v[i].want)
			fail_msg("vector %zu: %llu, want %llu", i, (unsigned long long)got,
				 (unsigned long long)v[i].want);
	}
}

static void test_refresh_comes_before_expiry(void **state)
{
	static const double jitters[] = { 0, 0.1, 0.5, 0.9, 0.999999 };

	(void)state;
	for (int64_t rem = 20; rem <= 400000; rem = rem * 3 + 1)
		for (size_t j = 0; j < ARRAY_SIZE(jitters); j++) {
			uint64_t d = cnitoken_next_delay_ms(rem, jitters[j], 0);

			assert_true(d >= (uint64_t)rem * 1000 / 4);
			assert_true(d <= (uint64_t)rem * 1000 / 2);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_delay_vectors),
		cmocka_unit_test(test_refresh_comes_before_expiry),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
