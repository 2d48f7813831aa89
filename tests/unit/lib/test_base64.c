/* lib/base64: strict decoding (RFC 4648 vectors and malformed input) and
 * encoding (vectors, and every length and byte value round-trips). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base64.h"

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

static void test_decode_vectors(void **state)
{
	static const struct {
		const char *in;
		const char *want; /* NULL: -EBADMSG */
	} v[] = {
		{ "", "" },
		{ "Zg==", "f" },
		{ "Zm8=", "fo" },
		{ "Zm9v", "foo" },
		{ "Zm9vYg==", "foob" },
		{ "Zm9v\nYmFy\n", "foobar" },
		{ " Zm9vYmE= ", "fooba" },
		{ "Zg=", NULL },	/* short padding */
		{ "Zg", NULL },		/* missing padding */
		{ "Z===", NULL },	/* too much padding */
		{ "Zh==", NULL },	/* non-zero trailing bits */
		{ "Zm9=", NULL },	/* non-zero trailing bits */
		{ "Zg==Zg==", NULL },	/* data after padding */
		{ "Zm9v*mFy", NULL },	/* bad symbol */
		{ "Zm9-YmFy", NULL },	/* URL alphabet is not standard base64 */
		{ "=", NULL },
		{ "Zm9vY", NULL },	/* truncated quantum */
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		void *out = NULL;
		size_t n = 0;
		int r = base64_decode(v[i].in, strlen(v[i].in), &out, &n);

		if (!v[i].want) {
			if (r != -EBADMSG)
				fail_msg("vector %zu '%s': r=%d, want -EBADMSG", i, v[i].in, r);
			continue;
		}
		if (r != 0)
			fail_msg("vector %zu '%s': r=%d", i, v[i].in, r);
		assert_int_equal(n, strlen(v[i].want));
		assert_memory_equal(out, v[i].want, n);
		free(out);
	}
}

static void test_encode_vectors_and_round_trip(void **state)
{
	static const char *const v[][2] = {
		{ "", "" },	      { "f", "Zg==" },	       { "fo", "Zm8=" },
		{ "foo", "Zm9v" },    { "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" },
		{ "foobar", "Zm9vYmFy" },
	};
	uint8_t all[300];

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		char *out = NULL;

		assert_int_equal(base64_encode(v[i][0], strlen(v[i][0]), &out), 0);
		assert_string_equal(out, v[i][1]);
		free(out);
	}
	for (size_t i = 0; i < sizeof(all); i++)
		all[i] = (uint8_t)(i * 7 + 3);
	for (size_t len = 0; len <= sizeof(all); len++) {
		char *text = NULL;
		void *back = NULL;
		size_t n = 0;

		assert_int_equal(base64_encode(all, len, &text), 0);
		assert_int_equal(strlen(text), 4 * ((len + 2) / 3));
		assert_int_equal(base64_decode(text, strlen(text), &back, &n), 0);
		assert_int_equal(n, len);
		if (len)
			assert_memory_equal(back, all, len);
		free(text);
		free(back);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_vectors),
		cmocka_unit_test(test_encode_vectors_and_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
