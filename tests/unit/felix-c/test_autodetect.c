/* The pure part of node address autodetection: Calico's default interface
 * exclusions, autodetect_choose() over fake candidate lists of both families
 * (no kernel, no interfaces), method checks per family and the Node's
 * InternalIP. */
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
#include <jansson.h>

#include "felix-c/autodetect.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* "addr/len" as a candidate's address. */
static struct in_prefix pfx(const char *s)
{
	struct in_prefix p;

	assert_int_equal(prefix_parse(s, PREFIX_ALLOW_BARE, &p), 0);
	return p;
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
		char text[64];
		struct in_prefix p;

		snprintf(text, sizeof(text), "%s/%u", cand_table[i].addr, cand_table[i].len);
		if (prefix_parse(text, 0, &p) < 0)
			return -1;
		cands[i] = (struct autodetect_addr){ .ifname = cand_table[i].ifname, .addr = p,
						     .global = cand_table[i].global, .mtu = 1500 };
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
	/* can-reach= and kubernetes-internal-ip with no target known: nothing. */
	{ "can-reach=8.8.8.8", -ENOENT },
	{ "kubernetes-internal-ip", -ENOENT },
	{ "can-reach=8.8.8", -EINVAL },
	{ "can-reach=", -EINVAL },
	{ "can-reach=8.8.8.8/32", -EINVAL },
	{ "kubernetes-internal-ip=eth0", -EINVAL },
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
		int r = autodetect_choose(choose_vectors[i].method, NULL, cands, ARRAY_SIZE(cands),
					  &idx);
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
	assert_int_equal(autodetect_choose("first-found", NULL, NULL, 0, &idx), -ENOENT);
	assert_int_equal(autodetect_choose("interface=eth0", NULL, NULL, 0, &idx), -ENOENT);
	assert_int_equal(autodetect_choose("cidr=10.0.0.0/8", NULL, NULL, 0, &idx), -ENOENT);
	/* A bad method is still reported as such. */
	assert_int_equal(autodetect_choose("interface=(", NULL, NULL, 0, &idx), -EINVAL);
	assert_int_equal(autodetect_choose("nope", NULL, NULL, 0, &idx), -EINVAL);
	assert_int_equal(idx, 7);
}

static void test_only_non_global_or_excluded(void **state)
{
	struct autodetect_addr v[] = {
		{ .ifname = "lo", .global = false },
		{ .ifname = "eth0", .global = false },
		{ .ifname = "cali1", .global = true },
		{ .ifname = "veth9", .global = true },
	};
	size_t idx = 42;

	(void)state;
	v[0].addr = pfx("127.0.0.1/8");
	v[1].addr = pfx("169.254.1.3/16");
	v[2].addr = pfx("10.65.0.1/32");
	v[3].addr = pfx("10.65.0.2/32");
	assert_int_equal(autodetect_choose("first-found", NULL, v, ARRAY_SIZE(v), &idx), -ENOENT);
	assert_int_equal(autodetect_choose("skip-interface=nothing", NULL, v, ARRAY_SIZE(v), &idx),
			 -ENOENT);
	assert_int_equal(idx, 42);
	/* interface= reaches an excluded name when asked by name. */
	assert_int_equal(autodetect_choose("interface=veth", NULL, v, ARRAY_SIZE(v), &idx), 0);
	assert_int_equal(idx, 3);
	assert_int_equal(autodetect_choose("interface=eth0", NULL, v, ARRAY_SIZE(v), &idx), -ENOENT);
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
	assert_int_equal(autodetect_choose(method, NULL, cands, ARRAY_SIZE(cands), &idx), 0);
	assert_int_equal(idx, 7);
	/* A 17th is refused (every item holds a compiled regex). */
	strcat(method, ",eth1");
	assert_int_equal(autodetect_choose(method, NULL, cands, ARRAY_SIZE(cands), &idx), -EINVAL);
	/* So is an item of 256 characters or more. */
	memset(method, 0, sizeof(method));
	strcpy(method, "interface=");
	memset(method + 10, 'e', 256);
	assert_int_equal(autodetect_choose(method, NULL, cands, ARRAY_SIZE(cands), &idx), -EINVAL);
	method[10 + 255] = '\0';
	assert_int_equal(autodetect_choose(method, NULL, cands, ARRAY_SIZE(cands), &idx), -ENOENT);
}

static void test_addresses_in_network_order(void **state)
{
	/* 10.1.2.3 must fall in cidr=10.1.0.0/16, not 3.2.0.0/16. */
	struct autodetect_addr v[] = { { .ifname = "eth0", .global = true } };
	size_t idx = 5;

	(void)state;
	v[0].addr = pfx("10.1.2.3/24");
	assert_int_equal(autodetect_choose("cidr=3.2.0.0/16", NULL, v, 1, &idx), -ENOENT);
	assert_int_equal(autodetect_choose("cidr=10.1.0.0/16", NULL, v, 1, &idx), 0);
	assert_int_equal(idx, 0);
	assert_int_equal(autodetect_choose("cidr=10.1.2.2/31", NULL, v, 1, &idx), 0);
	assert_int_equal(autodetect_choose("cidr=10.1.2.4/31", NULL, v, 1, &idx), -ENOENT);
}

/* IPv6 candidates in kernel order: link-local (scope link) never counts. */
static const struct {
	const char *ifname, *addr;
	bool global;
} cand6_table[] = {
	{ "lo", "::1/128", false },			/* 0: host scope */
	{ "eth0", "fe80::1/64", false },		/* 1: link scope */
	{ "docker0", "fd00:17::1/64", true },		/* 2: excluded name */
	{ "cali1234abcd", "fd00:65::1/128", true },	/* 3: excluded name */
	{ "eth0", "fd00:31::11/64", true },		/* 4 */
	{ "eth0", "2001:db8:31::11/64", true },		/* 5 */
	{ "eth1", "2001:db8:99::7/48", true },		/* 6 */
};

static void cands6(struct autodetect_addr v[static ARRAY_SIZE(cand6_table)])
{
	for (size_t i = 0; i < ARRAY_SIZE(cand6_table); i++)
		v[i] = (struct autodetect_addr){ .ifname = cand6_table[i].ifname,
						 .addr = pfx(cand6_table[i].addr),
						 .global = cand6_table[i].global };
}

static void test_choose_ipv6(void **state)
{
	static const struct {
		const char *method;
		int want;
	} vec[] = {
		{ "first-found", 4 },
		{ "interface=eth1", 6 },
		{ "interface=eth0", 4 },
		{ "skip-interface=eth0", 6 },
		{ "cidr=2001:db8::/32", 5 },
		{ "cidr=10.0.0.0/8,2001:db8:99::/48", 6 }, /* an IPv4 item never matches */
		{ "cidr=fe80::/10", -ENOENT },		   /* only link scope there */
		{ "cidr=10.0.0.0/8", -ENOENT },
		{ "interface=docker0", 2 },
		{ "interface=wlan0", -ENOENT },
		{ "kubernetes-internal-ip", -ENOENT },
	};
	struct autodetect_addr v[ARRAY_SIZE(cand6_table)];

	(void)state;
	cands6(v);
	for (size_t i = 0; i < ARRAY_SIZE(vec); i++) {
		size_t idx = 999;
		int r = autodetect_choose(vec[i].method, NULL, v, ARRAY_SIZE(v), &idx);

		if ((r < 0 ? r : (int)idx) != vec[i].want)
			fail_msg("'%s': got %d, want %d", vec[i].method, r < 0 ? r : (int)idx,
				 vec[i].want);
	}
}

/* can-reach= and kubernetes-internal-ip pick the candidate holding the target,
 * its interface giving the prefix length, whatever the exclusions. */
static void test_choose_target(void **state)
{
	struct autodetect_addr v[ARRAY_SIZE(cand6_table)];
	struct in_prefix t;
	size_t idx = 999;

	(void)state;
	cands6(v);
	t = pfx("2001:db8:31::11");
	assert_int_equal(autodetect_choose("kubernetes-internal-ip", &t, v, ARRAY_SIZE(v), &idx), 0);
	assert_int_equal(idx, 5);
	assert_int_equal(v[idx].addr.len, 64);
	assert_int_equal(autodetect_choose("can-reach=2001:db8::1", &t, v, ARRAY_SIZE(v), &idx), 0);
	assert_int_equal(idx, 5);
	t = pfx("fd00:17::1");
	assert_int_equal(autodetect_choose("kubernetes-internal-ip", &t, v, ARRAY_SIZE(v), &idx), 0);
	assert_int_equal(idx, 2);
	/* Not on any interface, or another family: nothing. */
	t = pfx("2001:db8:31::12");
	assert_int_equal(autodetect_choose("kubernetes-internal-ip", &t, v, ARRAY_SIZE(v), &idx),
			 -ENOENT);
	t = pfx("172.31.0.11");
	assert_int_equal(autodetect_choose("kubernetes-internal-ip", &t, cands, ARRAY_SIZE(cands),
					   &idx), 0);
	assert_int_equal(idx, 5);
	assert_int_equal(cands[idx].addr.len, 24);
	assert_int_equal(autodetect_choose("kubernetes-internal-ip", &t, v, ARRAY_SIZE(v), &idx),
			 -ENOENT);
	/* The other methods ignore a target. */
	assert_int_equal(autodetect_choose("interface=eth1", &t, v, ARRAY_SIZE(v), &idx), 0);
	assert_int_equal(idx, 6);
}

static void test_method_check_per_family(void **state)
{
	static const struct {
		const char *method;
		int v4, v6; /* autodetect_method_check() for AF_INET, AF_INET6 */
	} vec[] = {
		{ "first-found", 0, 0 },
		{ "", 0, 0 },
		{ "kubernetes-internal-ip", 0, 0 },
		{ "interface=eth0", 0, 0 },
		{ "cidr=fd00::/8", 0, 0 },
		{ "can-reach=8.8.8.8", 0, -EINVAL },
		{ "can-reach=2001:4860:4860::8888", -EINVAL, 0 },
		{ "can-reach=::ffff:1.2.3.4", -EINVAL, 0 },
		{ "can-reach=dns.google", -EINVAL, -EINVAL },
		{ "interface=(", -EINVAL, -EINVAL },
		{ "bogus", -EINVAL, -EINVAL },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(vec); i++) {
		if (autodetect_method_check(vec[i].method, AF_INET) != vec[i].v4)
			fail_msg("'%s' for IPv4: want %d", vec[i].method, vec[i].v4);
		if (autodetect_method_check(vec[i].method, AF_INET6) != vec[i].v6)
			fail_msg("'%s' for IPv6: want %d", vec[i].method, vec[i].v6);
	}
}

static void test_node_internal_ip(void **state)
{
	json_t *node = json_loads(
		"{\"status\":{\"addresses\":["
		"{\"type\":\"Hostname\",\"address\":\"node1\"},"
		"{\"type\":\"ExternalIP\",\"address\":\"203.0.113.9\"},"
		"{\"type\":\"ExternalIP\",\"address\":\"2001:db8:ff::9\"},"
		"{\"type\":\"InternalIP\",\"address\":\"not-an-ip\"},"
		"{\"type\":\"InternalIP\",\"address\":\"172.31.0.11\"},"
		"{\"type\":\"InternalIP\",\"address\":\"fd00:31::11\"},"
		"{\"type\":\"InternalIP\",\"address\":\"fd00:31::99\"},"
		"{\"type\":\"InternalIP\",\"address\":\"172.31.0.99\"}]}}", 0, NULL);
	json_t *v4only = json_loads("{\"status\":{\"addresses\":[{\"type\":\"InternalIP\","
				    "\"address\":\"10.0.0.1\"}]}}", 0, NULL);
	struct in_prefix p, want;

	(void)state;
	assert_non_null(node);
	assert_int_equal(autodetect_node_internal_ip(node, AF_INET, &p), 0);
	want = pfx("172.31.0.11");
	assert_true(prefix_equal(&p, &want));
	assert_int_equal(autodetect_node_internal_ip(node, AF_INET6, &p), 0);
	want = pfx("fd00:31::11");
	assert_true(prefix_equal(&p, &want));
	assert_int_equal(p.len, 128);
	assert_int_equal(autodetect_node_internal_ip(v4only, AF_INET6, &p), -ENOENT);
	assert_int_equal(autodetect_node_internal_ip(NULL, AF_INET, &p), -ENOENT);
	json_decref(node);
	json_decref(v4only);
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
		cmocka_unit_test(test_choose_ipv6),
		cmocka_unit_test(test_choose_target),
		cmocka_unit_test(test_method_check_per_family),
		cmocka_unit_test(test_node_internal_ip),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
