/* routes_plan(): the pure diff between the routes felix-c wants and the
 * ones it owns in the kernel, with the grace period for unknown /32s. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/rtnetlink.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "felix-c/routes.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* A host route of either family (an address without "/len"). */
static struct felix_route pod(const char *addr, int oif)
{
	struct felix_route r = { .type = RTN_UNICAST, .oif = oif };

	assert_int_equal(prefix_parse(addr, PREFIX_ADDR_ONLY, &r.dst), 0);
	return r;
}

static struct felix_route blackhole(const char *addr, uint8_t len)
{
	struct felix_route r = { .type = RTN_BLACKHOLE };

	assert_int_equal(prefix_parse(addr, PREFIX_ADDR_ONLY, &r.dst), 0);
	r.dst.len = len;
	return r;
}

static struct felix_route v4host(uint32_t host_order, uint8_t type, int oif)
{
	struct felix_route r = { .dst = prefix_from_ipv4(htonl(host_order)), .type = type,
				 .oif = oif };

	return r;
}

/* The plan as text, one op per line: "+10.65.0.5/32 dev #3" or "-...". */
struct plan {
	struct route_op *ops;
	size_t n;
	char text[4096];
};

static void plan(const struct felix_route *d, size_t nd, const struct felix_route *o, size_t no,
		 struct route_grace *g, uint64_t now, unsigned grace_ms, struct plan *p)
{
	size_t off = 0;

	p->ops = NULL;
	p->n = 12345;
	assert_int_equal(routes_plan(d, nd, o, no, g, now, grace_ms, &p->ops, &p->n), 0);
	p->text[0] = '\0';
	for (size_t i = 0; i < p->n; i++) {
		char buf[64];

		felix_route_to_string(&p->ops[i].route, buf, sizeof(buf));
		off += snprintf(p->text + off, sizeof(p->text) - off, "%c%s\n",
				p->ops[i].kind == ROUTE_OP_ADD ? '+' : '-', buf);
		assert_true(off < sizeof(p->text));
	}
	free(p->ops);
	p->ops = NULL;
}

static void test_route_to_string(void **state)
{
	struct felix_route a = pod("10.65.1.5", 7), b = blackhole("10.65.1.0", 26);
	struct felix_route c = pod("255.255.255.255", 2147483647);
	char buf[64], small[12];

	(void)state;
	assert_string_equal(felix_route_to_string(&a, buf, sizeof(buf)), "10.65.1.5/32 dev #7");
	assert_string_equal(felix_route_to_string(&b, buf, sizeof(buf)), "10.65.1.0/26 blackhole");
	assert_string_equal(felix_route_to_string(&c, buf, sizeof(buf)),
			    "255.255.255.255/32 dev #2147483647");
	/* Truncated, still terminated, and the buffer is what is returned. */
	assert_ptr_equal(felix_route_to_string(&b, small, sizeof(small)), small);
	assert_string_equal(small, "10.65.1.0/2");
}

static void test_empty_inputs(void **state)
{
	struct route_grace g = {};
	struct felix_route d[] = { pod("10.65.0.5", 3), blackhole("10.65.0.0", 26) };
	struct plan p;

	(void)state;
	plan(NULL, 0, NULL, 0, &g, 1000, 10000, &p);
	assert_int_equal(p.n, 0);
	assert_int_equal(g.n, 0);
	/* Nothing observed: every desired route is added. */
	plan(d, ARRAY_SIZE(d), NULL, 0, &g, 1000, 10000, &p);
	assert_string_equal(p.text, "+10.65.0.0/26 blackhole\n+10.65.0.5/32 dev #3\n");
	/* Nothing desired: the blackhole goes at once, the /32 waits. */
	plan(NULL, 0, d, ARRAY_SIZE(d), &g, 1000, 10000, &p);
	assert_string_equal(p.text, "-10.65.0.0/26 blackhole\n");
	assert_int_equal(g.n, 1);
	route_grace_done(&g);
	assert_null(g.v);
	assert_int_equal(g.n, 0);
}

static void test_in_sync_plans_nothing(void **state)
{
	struct felix_route d[] = { pod("10.65.0.5", 3), blackhole("10.65.0.0", 26),
				   pod("10.65.0.6", 4) };
	struct felix_route o[] = { d[2], d[0], d[1] }; /* any order */
	struct route_grace g = {};
	struct plan p;

	(void)state;
	plan(d, ARRAY_SIZE(d), o, ARRAY_SIZE(o), &g, 5, 0, &p);
	assert_int_equal(p.n, 0);
	assert_int_equal(g.n, 0);
	route_grace_done(&g);
}

static void test_adds_missing_and_deletes_unwanted_blackholes(void **state)
{
	struct felix_route d[] = { blackhole("10.65.1.0", 26), pod("10.65.1.7", 9),
				   pod("10.65.0.5", 3) };
	struct felix_route o[] = { pod("10.65.0.5", 3), blackhole("10.65.2.0", 26),
				   blackhole("10.65.0.0", 26), blackhole("10.65.1.0", 24) };
	struct route_grace g = {};
	struct plan p;

	(void)state;
	plan(d, ARRAY_SIZE(d), o, ARRAY_SIZE(o), &g, 1000, 60000, &p);
	/* Adds first, then deletes, each in prefix order; /24 and /26 of the
	 * same address are different routes. */
	assert_string_equal(p.text, "+10.65.1.0/26 blackhole\n"
				    "+10.65.1.7/32 dev #9\n"
				    "-10.65.0.0/26 blackhole\n"
				    "-10.65.1.0/24 blackhole\n"
				    "-10.65.2.0/26 blackhole\n");
	assert_int_equal(g.n, 0);
	route_grace_done(&g);
}

static void test_adds_come_before_deletes(void **state)
{
	/* Unwanted routes sort before wanted ones here: the plan still lists
	 * every add before any delete. */
	struct felix_route d[] = { pod("10.65.9.1", 2), blackhole("10.65.9.0", 26) };
	struct felix_route o[] = { blackhole("10.65.0.0", 26), blackhole("10.65.3.0", 26),
				   pod("10.65.0.9", 5) };
	struct route_grace g = {};
	struct plan p;

	(void)state;
	plan(d, ARRAY_SIZE(d), o, ARRAY_SIZE(o), &g, 100, 0, &p);
	assert_string_equal(p.text, "+10.65.9.0/26 blackhole\n"
				    "+10.65.9.1/32 dev #2\n"
				    "-10.65.0.0/26 blackhole\n"
				    "-10.65.0.9/32 dev #5\n"
				    "-10.65.3.0/26 blackhole\n");
	route_grace_done(&g);
}

static void test_unwanted_unicast_kept_for_grace_then_deleted(void **state)
{
	struct felix_route o[] = { pod("10.65.0.5", 3), pod("10.65.0.6", 4) };
	struct route_grace g = {};
	struct plan p;

	(void)state;
	/* t=1000: both unwanted, remembered from now. */
	plan(NULL, 0, o, 2, &g, 1000, 10000, &p);
	assert_int_equal(p.n, 0);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.v[0].since_ms, 1000);
	assert_int_equal(g.v[1].since_ms, 1000);
	/* t=5000: 10.65.0.6 is gone from the kernel; 10.65.0.5 still waits
	 * and keeps its first-seen time. */
	plan(NULL, 0, o, 1, &g, 5000, 10000, &p);
	assert_int_equal(p.n, 0);
	assert_int_equal(g.n, 1);
	assert_true(prefix_equal(&g.v[0].dst, &o[0].dst));
	assert_int_equal(g.v[0].dst.len, 32);
	assert_int_equal(g.v[0].since_ms, 1000);
	/* t=10999: 1 ms short of the grace. */
	plan(NULL, 0, o, 1, &g, 10999, 10000, &p);
	assert_int_equal(p.n, 0);
	/* t=11000: grace over, deleted and forgotten. */
	plan(NULL, 0, o, 1, &g, 11000, 10000, &p);
	assert_string_equal(p.text, "-10.65.0.5/32 dev #3\n");
	assert_int_equal(g.n, 0);
	/* 10.65.0.6 reappears unwanted: its clock starts again. */
	plan(NULL, 0, &o[1], 1, &g, 20000, 10000, &p);
	assert_int_equal(p.n, 0);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.v[0].since_ms, 20000);
	route_grace_done(&g);
}

static void test_grace_zero_deletes_at_once(void **state)
{
	struct felix_route o[] = { pod("10.65.0.5", 3) };
	struct route_grace g = {};
	struct plan p;

	(void)state;
	plan(NULL, 0, o, 1, &g, 1000, 0, &p);
	assert_string_equal(p.text, "-10.65.0.5/32 dev #3\n");
	assert_int_equal(g.n, 0);
	route_grace_done(&g);
}

static void test_wanted_again_within_grace_forgets_it(void **state)
{
	struct felix_route o[] = { pod("10.65.0.5", 3) };
	struct route_grace g = {};
	struct plan p;

	(void)state;
	plan(NULL, 0, o, 1, &g, 1000, 10000, &p);
	assert_int_equal(g.n, 1);
	/* The Pod now carries the IP: wanted, nothing to do, no memory. */
	plan(o, 1, o, 1, &g, 2000, 10000, &p);
	assert_int_equal(p.n, 0);
	assert_int_equal(g.n, 0);
	/* Unwanted again much later: a fresh grace, not an instant delete. */
	plan(NULL, 0, o, 1, &g, 50000, 10000, &p);
	assert_int_equal(p.n, 0);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.v[0].since_ms, 50000);
	route_grace_done(&g);
}

static void test_clock_going_back_does_not_delete(void **state)
{
	struct felix_route o[] = { pod("10.65.0.5", 3) };
	struct route_grace g = {};
	struct plan p;

	(void)state;
	plan(NULL, 0, o, 1, &g, 50000, 10000, &p);
	/* A now before the remembered time must not wrap into "long ago". */
	plan(NULL, 0, o, 1, &g, 100, 10000, &p);
	assert_int_equal(p.n, 0);
	assert_int_equal(g.n, 1);
	route_grace_done(&g);
}

static void test_changed_oif_or_type_is_replaced(void **state)
{
	struct felix_route d[] = { pod("10.65.0.5", 8), blackhole("10.65.0.6", 32),
				   pod("10.65.0.0", 4) };
	struct felix_route o[] = { pod("10.65.0.5", 3), pod("10.65.0.6", 3),
				   blackhole("10.65.0.0", 32) };
	struct route_grace g = {};
	struct plan p;

	(void)state;
	plan(d, ARRAY_SIZE(d), o, ARRAY_SIZE(o), &g, 1000, 10000, &p);
	/* Replacement is an ADD (add-or-replace), never a delete of the old one. */
	assert_string_equal(p.text, "+10.65.0.0/32 dev #4\n"
				    "+10.65.0.5/32 dev #8\n"
				    "+10.65.0.6/32 blackhole\n");
	assert_int_equal(g.n, 0);
	route_grace_done(&g);
}

static void test_blackhole_oif_is_ignored(void **state)
{
	struct felix_route d = blackhole("10.65.0.0", 26), o = d;
	struct route_grace g = {};
	struct plan p;

	(void)state;
	o.oif = 5; /* meaningless for a blackhole */
	plan(&d, 1, &o, 1, &g, 1, 0, &p);
	assert_int_equal(p.n, 0);
	route_grace_done(&g);
}

static void test_duplicates_in_desired_keep_the_first(void **state)
{
	/* Several duplicates, so qsort's order among equals would show. */
	struct felix_route d[] = { pod("10.65.0.5", 11), pod("10.65.0.7", 1), pod("10.65.0.5", 12),
				   pod("10.65.0.5", 13), pod("10.65.0.5", 14), pod("10.65.0.7", 2),
				   pod("10.65.0.5", 15), pod("10.65.0.5", 16), pod("10.65.0.5", 17) };
	struct felix_route o[] = { pod("10.65.0.5", 12), pod("10.65.0.7", 1) };
	struct route_grace g = {};
	struct plan p;

	(void)state;
	plan(d, ARRAY_SIZE(d), NULL, 0, &g, 1, 0, &p);
	assert_string_equal(p.text, "+10.65.0.5/32 dev #11\n+10.65.0.7/32 dev #1\n");
	/* Observed with a later duplicate's oif: replaced by the first's. */
	plan(d, ARRAY_SIZE(d), o, ARRAY_SIZE(o), &g, 1, 0, &p);
	assert_string_equal(p.text, "+10.65.0.5/32 dev #11\n");
	/* Observed with the first's: nothing. */
	o[0].oif = 11;
	plan(d, ARRAY_SIZE(d), o, ARRAY_SIZE(o), &g, 1, 0, &p);
	assert_int_equal(p.n, 0);
	route_grace_done(&g);
}

static void test_prefix_order_is_numeric(void **state)
{
	/* Network-order bytes must sort as addresses: 10.65.1.0 < 10.65.0.255
	 * would be true for a raw uint32 compare on little-endian. */
	struct felix_route d[] = { pod("10.65.1.0", 1), pod("10.65.0.255", 2), pod("9.255.255.255", 3),
				   pod("192.168.0.1", 4), pod("10.65.0.1", 5) };
	struct route_grace g = {};
	struct plan p;

	(void)state;
	plan(d, ARRAY_SIZE(d), NULL, 0, &g, 1, 0, &p);
	assert_string_equal(p.text, "+9.255.255.255/32 dev #3\n"
				    "+10.65.0.1/32 dev #5\n"
				    "+10.65.0.255/32 dev #2\n"
				    "+10.65.1.0/32 dev #1\n"
				    "+192.168.0.1/32 dev #4\n");
	route_grace_done(&g);
}

static void test_grace_never_outgrows_observed(void **state)
{
	enum { N = 300 };
	struct felix_route *o = calloc(N, sizeof(*o));
	struct route_grace g = {};
	struct plan p;
	char a[32];

	(void)state;
	assert_non_null(o);
	for (int i = 0; i < N; i++) {
		snprintf(a, sizeof(a), "10.66.%d.%d", i / 250, i % 250 + 1);
		o[i] = pod(a, 3);
	}
	/* Passes over a shrinking set of unwanted /32s (route i observed while
	 * i < n), then none, then a growing one: the memory holds exactly the
	 * observed routes, each with the time it was first seen this time. */
	for (uint64_t t = 0; t < 40; t++) {
		size_t n = (size_t)(t < 20 ? N - t * 15 : (t - 20) * 15);

		plan(NULL, 0, o, n, &g, t, 1000000, &p);
		assert_int_equal(p.n, 0);
		assert_int_equal(g.n, n);
		for (size_t k = 0; k < g.n; k++) {
			size_t i = 0;

			while (i < n && !prefix_equal(&o[i].dst, &g.v[k].dst))
				i++;
			assert_true(i < n);
			assert_int_equal(g.v[k].since_ms, t < 20 ? 0 : 21 + i / 15);
		}
	}
	route_grace_done(&g);
	free(o);
}

static void test_many_routes_diff(void **state)
{
	/* 1000 desired, 1000 observed, half overlapping, shuffled. */
	enum { N = 1000 };
	struct felix_route *d = calloc(N, sizeof(*d)), *o = calloc(N, sizeof(*o));
	struct route_op *ops = NULL;
	struct route_grace g = {};
	size_t n = 0, adds = 0, dels = 0;
	bool seen_del = false;

	(void)state;
	assert_non_null(d);
	assert_non_null(o);
	for (int i = 0; i < N; i++) {
		d[(i * 7) % N] = v4host(0x0a410000u + i, RTN_UNICAST, 3);
		o[(i * 13) % N] = v4host(0x0a410000u + i + N / 2, RTN_BLACKHOLE, 0);
	}
	assert_int_equal(routes_plan(d, N, o, N, &g, 0, 0, &ops, &n), 0);
	for (size_t i = 0; i < n; i++) {
		if (ops[i].kind == ROUTE_OP_DEL) {
			seen_del = true;
			dels++;
			assert_int_equal(ops[i].route.type, RTN_BLACKHOLE);
			assert_true(ntohl(prefix_ipv4(&ops[i].route.dst)) >= 0x0a410000u + N);
		} else {
			assert_false(seen_del);
			adds++;
		}
	}
	/* The overlap (500) differs in type: replaced; 500 new; 500 extra. */
	assert_int_equal(adds, N);
	assert_int_equal(dels, N / 2);
	free(ops);
	route_grace_done(&g);
	free(d);
	free(o);
}

/* IPv6 routes go through the same plan as IPv4 ones: /128s to veths, /122
 * blackholes (the kernel shows them on lo: the oif of a blackhole never
 * matters), the grace for unwanted host routes, and an IPv4 route whose 4
 * bytes begin an IPv6 one is another route. */
static void test_ipv6_and_both_families(void **state)
{
	struct felix_route d[] = { pod("fd00:65::5", 3), blackhole("fd00:65::", 122),
				   pod("10.65.0.5", 3), pod("fd00:65::6", 4) };
	struct felix_route o[] = { pod("fd00:65::5", 3), blackhole("fd00:65::", 122),
				   pod("fd00:65::9", 5), blackhole("fd00:66::40", 122),
				   pod("fd00:65::6", 9), pod("10.65.0.5", 3) };
	struct felix_route same4 = pod("253.0.0.101", 3), same6 = pod("fd00:65::", 3);
	struct route_grace g = {};
	struct plan p;
	char buf[80];

	(void)state;
	assert_string_equal(felix_route_to_string(&d[0], buf, sizeof(buf)), "fd00:65::5/128 dev #3");
	assert_string_equal(felix_route_to_string(&d[1], buf, sizeof(buf)),
			    "fd00:65::/122 blackhole");
	o[1].oif = 1; /* lo */
	plan(d, ARRAY_SIZE(d), o, ARRAY_SIZE(o), &g, 1000, 10000, &p);
	assert_string_equal(p.text, "+fd00:65::6/128 dev #4\n-fd00:66::40/122 blackhole\n");
	assert_int_equal(g.n, 1); /* fd00:65::9 waits for the grace */
	assert_int_equal(g.v[0].dst.family, AF_INET6);
	plan(d, ARRAY_SIZE(d), o, ARRAY_SIZE(o), &g, 11000, 10000, &p);
	assert_string_equal(p.text, "+fd00:65::6/128 dev #4\n-fd00:65::9/128 dev #5\n"
				    "-fd00:66::40/122 blackhole\n");
	/* 253.0.0.101 is fd 00 00 65, the first bytes of fd00:65::, not its family. */
	plan(&same4, 1, &same6, 1, &g, 11000, 0, &p);
	assert_string_equal(p.text, "+253.0.0.101/32 dev #3\n-fd00:65::/128 dev #3\n");
	route_grace_done(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_route_to_string),
		cmocka_unit_test(test_ipv6_and_both_families),
		cmocka_unit_test(test_empty_inputs),
		cmocka_unit_test(test_in_sync_plans_nothing),
		cmocka_unit_test(test_adds_missing_and_deletes_unwanted_blackholes),
		cmocka_unit_test(test_adds_come_before_deletes),
		cmocka_unit_test(test_unwanted_unicast_kept_for_grace_then_deleted),
		cmocka_unit_test(test_grace_zero_deletes_at_once),
		cmocka_unit_test(test_wanted_again_within_grace_forgets_it),
		cmocka_unit_test(test_clock_going_back_does_not_delete),
		cmocka_unit_test(test_changed_oif_or_type_is_replaced),
		cmocka_unit_test(test_blackhole_oif_is_ignored),
		cmocka_unit_test(test_duplicates_in_desired_keep_the_first),
		cmocka_unit_test(test_prefix_order_is_numeric),
		cmocka_unit_test(test_grace_never_outgrows_observed),
		cmocka_unit_test(test_many_routes_diff),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
