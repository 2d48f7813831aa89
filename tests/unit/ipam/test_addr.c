#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "ipam/addr.h"

static void test_ordinal_to_address_and_back(void **state)
{
	static const struct {
		const char *block;
		uint64_t ord;
		const char *addr;
	} v[] = {
		{ "10.65.0.0/26", 0, "10.65.0.0" },
		{ "10.65.0.0/26", 63, "10.65.0.63" },
		{ "10.65.0.192/26", 5, "10.65.0.197" },
		{ "10.65.255.192/26", 63, "10.65.255.255" },
		{ "192.168.0.0/32", 0, "192.168.0.0" },
		{ "fd00:10:244::/122", 0, "fd00:10:244::" },
		{ "fd00:10:244::/122", 63, "fd00:10:244::3f" },
		{ "fd00:10:244::40/122", 1, "fd00:10:244::41" },
		{ "2001:db8:ffff:ffff:ffff:ffff:ffff:ffc0/122", 63,
		  "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct ipam_cidr c;
		struct ipam_addr a, want;
		char buf[IPAM_ADDR_STRLEN];
		uint64_t ord;

		assert_int_equal(ipam_cidr_parse(v[i].block, true, &c), 0);
		ipam_cidr_nth(&c, v[i].ord, &a);
		assert_int_equal(ipam_addr_format(&a, buf, sizeof(buf)), 0);
		assert_string_equal(buf, v[i].addr);
		assert_int_equal(ipam_addr_parse(v[i].addr, &want), 0);
		assert_true(ipam_addr_equal(&a, &want));
		assert_int_equal(ipam_cidr_ordinal(&c, &want, &ord), 0);
		assert_int_equal(ord, v[i].ord);
	}
}

static void test_block_of_addr_rounds_down_to_block(void **state)
{
	static const struct {
		const char *addr;
		uint8_t len;
		const char *want;
	} v[] = {
		{ "10.65.3.77", 26, "10.65.3.64/26" },
		{ "10.65.3.77", 16, "10.65.0.0/16" },
		{ "10.65.3.77", 32, "10.65.3.77/32" },
		{ "10.65.3.77", 0, "0.0.0.0/0" },
		{ "fd00::1:2:3:4", 122, "fd00::1:2:3:0/122" },
		{ "fd00::ffff", 122, "fd00::ffc0/122" },
		{ "fd00::ffff", 64, "fd00::/64" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct ipam_addr a;
		struct ipam_cidr c;
		char buf[IPAM_CIDR_STRLEN];

		assert_int_equal(ipam_addr_parse(v[i].addr, &a), 0);
		ipam_cidr_of_addr(&a, v[i].len, &c);
		assert_int_equal(ipam_cidr_format(&c, buf, sizeof(buf)), 0);
		assert_string_equal(buf, v[i].want);
		assert_true(ipam_cidr_contains(&c, &a));
	}
}

static void test_outside_and_cross_family(void **state)
{
	struct ipam_cidr c;
	struct ipam_addr a;
	uint64_t ord;

	(void)state;
	assert_int_equal(ipam_cidr_parse("10.65.0.0/26", true, &c), 0);
	assert_int_equal(ipam_addr_parse("10.65.0.64", &a), 0);
	assert_int_equal(ipam_cidr_ordinal(&c, &a, &ord), -ERANGE);
	/* ::a41:0 has the same low 32 bits as 10.65.0.0 but is IPv6 */
	assert_int_equal(ipam_addr_parse("::a41:0", &a), 0);
	assert_false(ipam_cidr_contains(&c, &a));
	assert_int_equal(a.family, AF_INET6);
}

static void test_cidr_parse_rejects_bad_inputs(void **state)
{
	static const char *bad[] = { "",	   "10.0.0.0",	  "10.0.0.0/",	 "10.0.0.0/33",
				     "10.0.0.0/-1", "10.0.0.0/2x", "10.0.0/24",	 "fd00::/129",
				     "hello/24",   "/24",	  "10.0.0.0/ 24", "10.0.0.0/+24",
				     /* lib/prefix's rules: no leading zeros, no spaces */
				     "10.0.0.0/024", "010.0.0.0/24", "10.0.0.0/24 ", "fd00::/0122" };
	struct ipam_cidr c;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (ipam_cidr_parse(bad[i], false, &c) != -EINVAL)
			fail_msg("'%s' parsed", bad[i]);
	assert_int_equal(ipam_cidr_parse(NULL, false, &c), -EINVAL);
	/* host bits: strict rejects, lax masks */
	assert_int_equal(ipam_cidr_parse("10.65.0.1/26", true, &c), -EINVAL);
	assert_int_equal(ipam_cidr_parse("10.65.0.1/26", false, &c), 0);
	assert_true(c.v == ((10u << 24) | (65u << 16)));
}

static void test_host_addresses(void **state)
{
	struct ipam_addr a;

	(void)state;
	assert_int_equal(ipam_addr_parse_host("10.0.0.1/32", &a), 0);
	assert_int_equal(ipam_addr_parse_host("10.0.0.1", &a), 0);
	assert_int_equal(ipam_addr_parse_host("fd00::1/128", &a), 0);
	assert_int_equal(ipam_addr_parse_host("10.0.0.1/24", &a), -EINVAL);
	assert_int_equal(ipam_addr_parse_host("fd00::1/32", &a), -EINVAL);
	assert_int_equal(ipam_addr_parse("10.0.0.256", &a), -EINVAL);
	assert_int_equal(ipam_addr_parse_host("10.0.0.1/032", &a), -EINVAL);
	assert_int_equal(ipam_addr_parse("10.0.0.1/32", &a), -EINVAL);
}

static void test_names_as_calico_derives_them(void **state)
{
	static const struct {
		const char *cidr, *want;
	} v[] = {
		{ "10.65.0.0/26", "10-65-0-0-26" },
		{ "192.168.10.128/26", "192-168-10-128-26" },
		{ "fd00::/122", "fd00---122" },
		{ "fd00:10:244::40/122", "fd00-10-244--40-122" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct ipam_cidr c;
		char buf[IPAM_NAME_STRLEN];

		assert_int_equal(ipam_cidr_parse(v[i].cidr, true, &c), 0);
		assert_int_equal(ipam_cidr_to_name(&c, buf, sizeof(buf)), 0);
		assert_string_equal(buf, v[i].want);
	}
}

static void test_subnets_of_a_pool(void **state)
{
	struct ipam_cidr pool, sub, small;
	char buf[IPAM_CIDR_STRLEN];

	(void)state;
	assert_int_equal(ipam_cidr_parse("10.65.0.0/16", true, &pool), 0);
	assert_int_equal(ipam_cidr_subnet(&pool, 26, 0, &sub), 0);
	assert_int_equal(ipam_cidr_format(&sub, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "10.65.0.0/26");
	assert_int_equal(ipam_cidr_subnet(&pool, 26, 1023, &sub), 0);
	assert_int_equal(ipam_cidr_format(&sub, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "10.65.255.192/26");
	assert_true(ipam_cidr_covers(&pool, &sub));
	assert_int_equal(ipam_cidr_subnet(&pool, 26, 1024, &sub), -ERANGE);
	assert_int_equal(ipam_cidr_subnet(&pool, 8, 0, &sub), -EINVAL);
	assert_int_equal(ipam_cidr_size(&pool), 65536);
	assert_int_equal(ipam_cidr_parse("fd00::/64", true, &pool), 0);
	assert_int_equal(ipam_cidr_size(&pool), UINT64_MAX);
	assert_int_equal(ipam_cidr_subnet(&pool, 122, 3, &sub), 0);
	assert_int_equal(ipam_cidr_format(&sub, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "fd00::c0/122");
	assert_int_equal(ipam_cidr_parse("10.66.0.0/26", true, &small), 0);
	assert_false(ipam_cidr_covers(&sub, &small));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ordinal_to_address_and_back),
		cmocka_unit_test(test_block_of_addr_rounds_down_to_block),
		cmocka_unit_test(test_outside_and_cross_family),
		cmocka_unit_test(test_cidr_parse_rejects_bad_inputs),
		cmocka_unit_test(test_host_addresses),
		cmocka_unit_test(test_names_as_calico_derives_them),
		cmocka_unit_test(test_subnets_of_a_pool),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
