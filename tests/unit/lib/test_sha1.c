/* SHA-1 (lib/sha1.h): FIPS 180-4's example digests, and messages of every
 * length around the padding boundaries (55/56/63/64 bytes mod 64) checked
 * against sha1sum, an independent implementation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sha1.h"

static void hex(const uint8_t md[SHA1_DIGEST_SIZE], char out[41])
{
	for (int i = 0; i < SHA1_DIGEST_SIZE; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void test_fips_examples(void **state)
{
	static const struct {
		const char *msg, *want;
	} v[] = {
		{ "abc", "a9993e364706816aba3e25717850c26c9cd0d89d" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "84983e441c3bd26ebaae4aa1f95129e5e54670f1" },
		{ "", "da39a3ee5e6b4b0d3255bfef95601890afd80709" },
	};
	uint8_t md[SHA1_DIGEST_SIZE];
	char got[41];

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		sha1(v[i].msg, strlen(v[i].msg), md);
		hex(md, got);
		assert_string_equal(got, v[i].want);
	}
}

static void test_lengths_against_sha1sum(void **state)
{
	static const size_t lens[] = { 1, 54, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 1000 };
	char path[] = "/tmp/test-sha1-XXXXXX", msg[1000], got[SHA1_HEX_SIZE], want[41], cmd[128];
	FILE *f;
	int fd;

	(void)state;
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (char)('a' + i % 26);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_int_equal(fwrite(msg, 1, sizeof(msg), f), sizeof(msg));
	fclose(f);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		FILE *p;

		snprintf(cmd, sizeof(cmd), "head -c %zu %s | sha1sum", lens[i], path);
		p = popen(cmd, "r");
		assert_non_null(p);
		assert_non_null(fgets(want, sizeof(want), p));
		pclose(p);
		sha1_hex(msg, lens[i], got);
		assert_string_equal(got, want);
	}
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fips_examples),
		cmocka_unit_test(test_lengths_against_sha1sum),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
