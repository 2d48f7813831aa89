/* The pure part of node address autodetection: Calico's default interface
 * exclusions and autodetect_choose() over a fake candidate list (no kernel,
 * no interfaces). */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "felix-c/autodetect.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static uint32_t ip(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a.s_addr;
}

/* Kernel order as a node might list it. */
static const struct {
	const char *ifname, *addr;
	uint8_t len;
	bool global;
} cand_table[] = {
	{ "lo", "127.0.0.1", 8, false },	       /* 0: host scope */
	{ "lo", "10.0.0.100", 32, true },	       /* 1: global, but lo is excluded */
	{ "docker0", "172.17.0.1", 16, true },	       /* 2 */
	{ "eth0", "169.254.3.3", 16, false },	       /* 3: link scope */
	{ "cali1234abcd", "10.65.0.1", 32, true },     /* 4 */
	{ "eth0", "172.31.0.11", 24, true },	       /* 5 */
	{ "eth1", "192.168.5.7", 24, true },	       /* 6 */
	{ "ens3", "10.20.30.40", 8, true },	       /* 7 */
	{ "vxlan.calico", "10.65.0.0", 32, true },     /* 8 */
};

static struct autodetect_addr cands[ARRAY_SIZE(cand_table)];

static int setup(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cands); i++) {
		struct in_addr a;

		if (inet_pton(AF_INET, cand_table[i].addr, &a) != 1)
			return -1;
		cands[i] = (struct autodetect_addr){ .ifname = cand_table[i].ifname,
						     .addr = a.s_addr,
						     .prefixlen = cand_table[i].len,
						     .global = cand_table[i].global,
						     .mtu = 1500 };
	}
	return 0;
}

static void test_default_exclusions(void **state)
{
	static const struct {
		const char *name;
		bool excluded;
	} v[] = {
		{ "lo", true },		   { "docker0", true },	      { "cbr0", true },
		{ "dummy0", true },	   { "virbr0", true },	      { "lxcbr0", true },
		{ "veth1a2b", true },	   { "tunl0", true },	      { "flannel.1", true },
		{ "kube-ipvs0", true },	   { "cni0", true },	      { "cali0123456789a", true },
		{ "vxlan.calico", true },  { "vxlan-v6.calico", true }, { "wireguard.cali", true },
		{ "wg-v6.cali", true },	   { "nodelocaldns", true },  { "eth0", false },
		{ "ens3", false },	   { "enp0s31f6", false },    { "wlan0", false },
		{ "br0", false },	   { "bond0", false },	      { "vxlan0", false },
		{ "mylo", false },	   { "xcali0", false },	      { "", false },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(v); i++)
		if (autodetect_iface_is_excluded(v[i].name) != v[i].excluded)
			fail_msg("'%s': want excluded=%d", v[i].name, v[i].excluded);
}

/* The method's pick among cands[], or a negative error. */
static const struct {
	const char *method;
	int want; /* index into cands, or -errno */
} choose_vectors[] = {
	/* first-found: global, not excluded, first in kernel order. */
	{ "first-found", 5 },
	{ "", 5 },
	/* interface=: only matching names, exclusions do not apply, unanchored. */
	{ "interface=eth1", 6 },
	{ "interface=eth.*", 5 },
	{ "interface=^eth1$", 6 },
	{ "interface=th1", 6 },
	{ "interface=docker0", 2 },
	{ "interface=lo", 1 },		/* lo's global address; never its host-scope one */
	{ "interface=ens[0-9]+", 7 },
	{ "interface=ens3,eth1", 6 },	/* a list: first candidate matching any */
	{ "interface=ens3 , eth1", 6 }, /* blanks around commas ignored */
	{ "interface=  ens3", 7 },
	{ "interface=wlan0", -ENOENT },
	{ "interface=^eth$", -ENOENT },
	/* skip-interface=: first-found that also skips the matches. */
	{ "skip-interface=eth0", 6 },
	{ "skip-interface=eth0,eth1", 7 },
	{ "skip-interface=eth.*, ens.*", -ENOENT },
	{ "skip-interface=docker0", 5 },
	{ "skip-interface=^th0", 5 },
	/* cidr=: the first global address inside a CIDR, on any interface. */
	{ "cidr=192.168.0.0/16", 6 },
	{ "cidr=192.168.5.99/24", 6 },	/* host bits allowed */
	{ "cidr=10.0.0.0/8", 1 },	/* exclusions do not apply */
	{ "cidr=10.20.30.40/32", 7 },
	{ "cidr=fd00::/8, 172.31.0.0/24", 5 }, /* IPv6 items parse, never match */
	{ "cidr=169.254.0.0/16", -ENOENT },	/* only link-scope there */
	{ "cidr=0.0.0.0/0", 1 },
	{ "cidr=fd00::/8", -ENOENT },
	/* Errors: unknown method, empty or bad item. */
	{ "bogus", -EINVAL },
	{ "First-Found", -EINVAL },
	{ "first-found=eth0", -EINVAL },
	{ "Interface=eth0", -EINVAL },
	{ "can-reach=8.8.8.8", -EINVAL }, /* not pure: autodetect_ipv4() only */
	{ "interface=", -EINVAL },
	{ "interface= ", -EINVAL },
	{ "interface=(", -EINVAL },
	{ "interface=eth[", -EINVAL },
	{ "interface=eth1,(", -EINVAL }, /* a bad later item fails even if an earlier fits */
	{ "interface=eth1,", -EINVAL },
	{ "interface=,eth1", -EINVAL },
	{ "interface=eth1,,eth0", -EINVAL },
	{ "skip-interface=", -EINVAL },
	{ "skip-interface=*", -EINVAL },
	{ "cidr=", -EINVAL },
	{ "cidr=10.0.0.0", -EINVAL },
	{ "cidr=10.0.0.0/33", -EINVAL },
	{ "cidr=10.0.0.0/", -EINVAL },
	{ "cidr=10.0.0.0/8x", -EINVAL },
	{ "cidr=10.0.0.0/-8", -EINVAL },
	{ "cidr=300.0.0.0/8", -EINVAL },
	{ "cidr=/8", -EINVAL },
	{ "cidr=fd00::/129", -EINVAL },
	{ "cidr=10.0.0.0/8,", -EINVAL },
};

static void test_choose_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(choose_vectors); i++) {
		size_t idx = 999;
		int r = autodetect_choose(choose_vectors[i].method, cands, ARRAY_SIZE(cands), &idx);
		int got = r < 0 ? r : (int)idx;

		if (got != choose_vectors[i].want)
			fail_msg("'%s': got %d, want %d", choose_vectors[i].method, got,
				 choose_vectors[i].want);
		if (r < 0)
			assert_int_equal(idx, 999); /* ret_index written only on success */
	}
}

static void test_no_candidates(void **state)
{
	size_t idx = 7;

	(void)state;
	assert_int_equal(autodetect_choose("first-found", NULL, 0, &idx), -ENOENT);
	assert_int_equal(autodetect_choose("interface=eth0", NULL, 0, &idx), -ENOENT);
	assert_int_equal(autodetect_choose("cidr=10.0.0.0/8", NULL, 0, &idx), -ENOENT);
	/* A bad method is still reported as such. */
	assert_int_equal(autodetect_choose("interface=(", NULL, 0, &idx), -EINVAL);
	assert_int_equal(autodetect_choose("nope", NULL, 0, &idx), -EINVAL);
	assert_int_equal(idx, 7);
}

static void test_only_non_global_or_excluded(void **state)
{
	static const struct autodetect_addr v[] = {
		{ .ifname = "lo", .addr = 0x0100007f, .prefixlen = 8, .global = false },
		{ .ifname = "eth0", .addr = 0x0301fea9, .prefixlen = 16, .global = false },
		{ .ifname = "cali1", .addr = 0x0100410a, .prefixlen = 32, .global = true },
		{ .ifname = "veth9", .addr = 0x0200410a, .prefixlen = 32, .global = true },
	};
	size_t idx = 42;

	(void)state;
	assert_int_equal(autodetect_choose("first-found", v, ARRAY_SIZE(v), &idx), -ENOENT);
	assert_int_equal(autodetect_choose("skip-interface=nothing", v, ARRAY_SIZE(v), &idx),
			 -ENOENT);
	assert_int_equal(idx, 42);
	/* interface= reaches an excluded name when asked by name. */
	assert_int_equal(autodetect_choose("interface=veth", v, ARRAY_SIZE(v), &idx), 0);
	assert_int_equal(idx, 3);
	assert_int_equal(autodetect_choose("interface=eth0", v, ARRAY_SIZE(v), &idx), -ENOENT);
}

static void test_list_limits(void **state)
{
	char method[512] = "interface=";
	size_t idx = 0;

	(void)state;
	/* 16 items are accepted; the 16th is the one that matches. */
	for (int i = 0; i < 15; i++)
		strcat(method, "nomatch,");
	strcat(method, "ens3");
	assert_int_equal(autodetect_choose(method, cands, ARRAY_SIZE(cands), &idx), 0);
	assert_int_equal(idx, 7);
	/* A 17th is refused (every item holds a compiled regex). */
	strcat(method, ",eth1");
	assert_int_equal(autodetect_choose(method, cands, ARRAY_SIZE(cands), &idx), -EINVAL);
	/* So is an item of 256 characters or more. */
	memset(method, 0, sizeof(method));
	strcpy(method, "interface=");
	memset(method + 10, 'e', 256);
	assert_int_equal(autodetect_choose(method, cands, ARRAY_SIZE(cands), &idx), -EINVAL);
	method[10 + 255] = '\0';
	assert_int_equal(autodetect_choose(method, cands, ARRAY_SIZE(cands), &idx), -ENOENT);
}

static void test_addresses_in_network_order(void **state)
{
	/* 10.1.2.3 in network order must fall in cidr=10.1.0.0/16, not 3.2.0.0/16. */
	struct autodetect_addr v[] = {
		{ .ifname = "eth0", .addr = 0, .prefixlen = 24, .global = true },
	};
	size_t idx = 5;

	(void)state;
	v[0].addr = ip("10.1.2.3");
	assert_int_equal(autodetect_choose("cidr=3.2.0.0/16", v, 1, &idx), -ENOENT);
	assert_int_equal(autodetect_choose("cidr=10.1.0.0/16", v, 1, &idx), 0);
	assert_int_equal(idx, 0);
	assert_int_equal(autodetect_choose("cidr=10.1.2.2/31", v, 1, &idx), 0);
	assert_int_equal(autodetect_choose("cidr=10.1.2.4/31", v, 1, &idx), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_exclusions),
		cmocka_unit_test(test_choose_vectors),
		cmocka_unit_test(test_no_candidates),
		cmocka_unit_test(test_only_non_global_or_excluded),
		cmocka_unit_test(test_list_limits),
		cmocka_unit_test(test_addresses_in_network_order),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
