/* One set of parse rules for addresses and prefixes: vectors of what is
 * accepted (and how it reads back) and what is refused. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "cleanup.h"
#include "prefix.h"

static void test_parse_vectors(void **state)
{
	static const struct {
		const char *in;
		unsigned flags;
		const char *want; /* NULL: -EINVAL */
	} v[] = {
		{ "10.65.1.0/26", 0, "10.65.1.0/26" },
		{ "10.65.1.5/26", 0, "10.65.1.5/26" }, /* host bits kept by default */
		{ "10.65.1.5/26", PREFIX_CLEAR_HOST, "10.65.1.0/26" },
		{ "0.0.0.0/0", 0, "0.0.0.0/0" },
		{ "255.255.255.255/32", 0, "255.255.255.255/32" },
		{ "10.65.1.5", PREFIX_ALLOW_BARE, "10.65.1.5/32" },
		{ "fd00:65::5", PREFIX_ALLOW_BARE, "fd00:65::5/128" },
		{ "FD00:65::/122", 0, "fd00:65::/122" },
		{ "FD00:0::1/64", 0, "fd00::1/64" },
		{ "fd00:65::ff/120", PREFIX_CLEAR_HOST, "fd00:65::/120" },
		{ "::/0", 0, "::/0" },
		{ "::ffff:10.0.0.1/128", 0, "::ffff:10.0.0.1/128" },
		{ "10.65.1.0/026", 0, NULL }, /* no leading zeros in the length either */
		{ "10.65.1.0/00", 0, NULL },
		{ "10.65.1.0/0", 0, "10.65.1.0/0" },
		{ "10.65.1.0/26", PREFIX_REJECT_HOST, "10.65.1.0/26" },
		{ "10.65.1.5/26", PREFIX_REJECT_HOST, NULL },
		{ "fd00:65::1/120", PREFIX_REJECT_HOST, NULL },
		{ "fd00:65::1/128", PREFIX_REJECT_HOST, "fd00:65::1/128" },
		{ "0.0.0.0/0", PREFIX_REJECT_HOST, "0.0.0.0/0" },
		{ "10.0.0.0/0", PREFIX_REJECT_HOST, NULL },
		{ "10.65.1.5", 0, NULL },		  /* bare needs the flag */
		{ "10.65.1.0/33", 0, NULL },
		{ "fd00::/129", 0, NULL },
		{ "10.65.1.0/", 0, NULL },
		{ "10.65.1.0/3x", 0, NULL },
		{ "10.65.1.0/+8", 0, NULL },
		{ "10.65.1.0/-1", 0, NULL },
		{ "10.65.1.0/ 8", 0, NULL },
		{ "10.65.1.0/8 ", 0, NULL },
		{ "10.65.1.0/1000", 0, NULL },
		{ "010.65.1.0/24", 0, NULL }, /* no leading zeros in octets */
		{ "10.65.1/24", 0, NULL },
		{ "10.65.1.256/32", 0, NULL },
		{ " 10.65.1.0/24", 0, NULL },
		{ "10.65.1.0/24/1", 0, NULL },
		{ "fd00::1::2/128", 0, NULL },
		{ "", PREFIX_ALLOW_BARE, NULL },
		{ "/24", 0, NULL },
		{ "a-host/32", 0, NULL },
		{ NULL, PREFIX_ALLOW_BARE, NULL },
		/* IPv6 forms: leading zeros inside a group are inet_pton's
		 * (read, written canonically); zones, brackets and an IPv4
		 * tail of the wrong size are not addresses. */
		{ "fd00:0065::/64", 0, "fd00:65::/64" },
		{ "fd00:00065::/64", 0, NULL },
		{ "fe80::1%eth0/64", 0, NULL },
		{ "[fd00::1]/128", 0, NULL },
		{ "::ffff:10.0.0/128", 0, NULL },
		{ "fd00::/064", 0, NULL },
		/* Whitespace anywhere is refused, a newline too. */
		{ "10.65.1.0/24\n", 0, NULL },
		{ "10.65.1.5 ", PREFIX_ADDR_ONLY, NULL },
		{ "10.65.1.0 /24", 0, NULL },
		/* An address only (calicoctl-c policy's endpoints, pod IPs). */
		{ "10.65.1.5", PREFIX_ADDR_ONLY, "10.65.1.5/32" },
		{ "fd00::5", PREFIX_ADDR_ONLY, "fd00::5/128" },
		{ "10.65.1.5/32", PREFIX_ADDR_ONLY, NULL },
		{ "10.65.1.5/", PREFIX_ADDR_ONLY | PREFIX_ALLOW_BARE, NULL },
		/* policy's own parser took any count of leading zeros (strtol). */
		{ "fd00::/0128", 0, NULL },
		{ "10.65.1.0/0024", 0, NULL },
		{ "10.65.1.5/24", PREFIX_ALLOW_BARE | PREFIX_CLEAR_HOST, "10.65.1.0/24" },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		struct in_prefix p = { .family = -1 };
		char text[PREFIX_STRLEN];
		int r = prefix_parse(v[i].in, v[i].flags, &p);

		if (!v[i].want) {
			if (r != -EINVAL || p.family != -1)
				fail_msg("'%s': %d, want -EINVAL and nothing written", v[i].in, r);
			continue;
		}
		if (r != 0)
			fail_msg("'%s': %d, want 0", v[i].in, r);
		assert_int_equal(prefix_format(&p, false, text, sizeof(text)), 0);
		if (strcmp(text, v[i].want) != 0)
			fail_msg("'%s': '%s', want '%s'", v[i].in, text, v[i].want);
	}
}

static void test_contains_and_order(void **state)
{
	struct in_prefix block, a, b, v6;
	char text[8];

	(void)state;
	assert_int_equal(prefix_parse("10.65.1.0/26", 0, &block), 0);
	assert_int_equal(prefix_parse("10.65.1.63", PREFIX_ALLOW_BARE, &a), 0);
	assert_int_equal(prefix_parse("10.65.1.64", PREFIX_ALLOW_BARE, &b), 0);
	assert_int_equal(prefix_parse("::a41:100/128", 0, &v6), 0);
	assert_true(prefix_contains(&block, &a));
	assert_false(prefix_contains(&block, &b));
	assert_false(prefix_contains(&block, &v6)); /* never across families */
	assert_false(prefix_contains(&a, &block));  /* a longer prefix holds no shorter one */
	assert_int_equal(prefix_parse("0.0.0.0/0", 0, &block), 0);
	assert_true(prefix_contains(&block, &b));
	assert_true(prefix_cmp(&a, &b) < 0);
	assert_true(prefix_cmp(&b, &v6) < 0);
	assert_true(prefix_equal(&a, &a));
	assert_true(prefix_ipv4(&a) == prefix_ipv4(&(struct in_prefix){ .addr = { 10, 65, 1, 63 } }));
	assert_true(prefix_equal(&a, &(struct in_prefix){ .family = AF_INET, .len = 32,
							  .addr = { 10, 65, 1, 63 } }));
	a = prefix_from_ipv4(prefix_ipv4(&b));
	assert_true(prefix_equal(&a, &b));
	assert_int_equal(prefix_format(&v6, false, text, sizeof(text)), -ENOSPC);
	assert_int_equal(prefix_format(&b, true, (char[16]){}, 16), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_vectors),
		cmocka_unit_test(test_contains_and_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
