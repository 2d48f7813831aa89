#include <arpa/inet.h>
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
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include "nl.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void pton(int family, const char *s, uint8_t out[16])
{
	memset(out, 0, 16);
	assert_int_equal(inet_pton(family, s, out), 1);
}

static void test_route_round_trip(void **state)
{
	static const struct {
		int family;
		const char *dst, *gw;
		uint8_t dst_len, protocol, scope;
		int oif;
		uint32_t table, priority;
		bool onlink;
	} v[] = {
		/* host route to a pod: <podIP>/32 dev cali... proto 80 scope link */
		{ AF_INET, "10.65.0.5", NULL, 32, NL_RTPROT_CALICO, RT_SCOPE_LINK, 7, 0, 0, false },
		/* pod default route via the proxy-ARP gateway */
		{ AF_INET, "0.0.0.0", "169.254.1.1", 0, RTPROT_BOOT, RT_SCOPE_UNIVERSE, 2, 0, 0, false },
		{ AF_INET, "10.65.0.0", "172.31.0.12", 26, NL_RTPROT_CALICO, 0, 3, 0, 1024, true },
		{ AF_INET6, "fd00:65::7", NULL, 128, NL_RTPROT_CALICO, 0, 9, 0, 0, false },
		{ AF_INET6, "::", "fe80::ecee:eeff:feee:eeee", 0, RTPROT_BOOT, 0, 2, 0, 0, false },
		/* a table above 255 travels only in RTA_TABLE */
		{ AF_INET, "192.0.2.0", NULL, 24, RTPROT_STATIC, 0, 4, 1000, 0, false },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		char buf[NL_MSG_BUF_SIZE];
		struct nl_route in = { .family = v[i].family, .dst_len = v[i].dst_len,
				       .protocol = v[i].protocol, .scope = v[i].scope,
				       .oif = v[i].oif, .table = v[i].table,
				       .priority = v[i].priority, .onlink = v[i].onlink };
		struct nl_route out;
		struct nlmsghdr *nlh;

		pton(v[i].family, v[i].dst, in.dst);
		if (v[i].gw) {
			pton(v[i].family, v[i].gw, in.gw);
			in.has_gw = true;
		}
		nlh = nl_msg_route(buf, RTM_NEWROUTE, &in);
		assert_non_null(nlh);
		assert_int_equal(nlh->nlmsg_type, RTM_NEWROUTE);
		assert_true(nlh->nlmsg_flags & NLM_F_CREATE);
		assert_int_equal(nl_route_from_msg(nlh, &out), 0);
		assert_int_equal(out.family, in.family);
		assert_int_equal(out.dst_len, in.dst_len);
		assert_memory_equal(out.dst, in.dst, 16);
		assert_int_equal(out.has_gw, in.has_gw);
		assert_memory_equal(out.gw, in.gw, 16);
		assert_int_equal(out.oif, in.oif);
		assert_int_equal(out.protocol, in.protocol);
		assert_int_equal(out.scope, in.scope);
		assert_int_equal(out.type, RTN_UNICAST);
		assert_int_equal(out.table, in.table ? in.table : RT_TABLE_MAIN);
		assert_int_equal(out.priority, in.priority);
		assert_int_equal(out.onlink, in.onlink);
	}
}

static void test_route_rejects_unknown_family(void **state)
{
	char buf[NL_MSG_BUF_SIZE];
	struct nl_route r = { .family = AF_UNIX };

	(void)state;
	assert_null(nl_msg_route(buf, RTM_NEWROUTE, &r));
}

static void test_addr_round_trip(void **state)
{
	static const struct {
		int family;
		const char *addr;
		uint8_t len, scope;
		uint32_t flags;
	} v[] = {
		{ AF_INET, "10.65.0.5", 32, RT_SCOPE_UNIVERSE, 0 },
		{ AF_INET6, "fd00:65::5", 128, RT_SCOPE_UNIVERSE, IFA_F_NODAD },
		{ AF_INET6, "fe80::ecee:eeff:feee:eeee", 64, RT_SCOPE_LINK,
		  IFA_F_NODAD | IFA_F_NOPREFIXROUTE },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		char buf[NL_MSG_BUF_SIZE];
		struct nl_addr in = { .ifindex = 12, .family = v[i].family, .prefixlen = v[i].len,
				      .scope = v[i].scope, .flags = v[i].flags };
		struct nl_addr out;
		struct nlmsghdr *nlh;

		pton(v[i].family, v[i].addr, in.addr);
		nlh = nl_msg_addr(buf, RTM_NEWADDR, &in);
		assert_non_null(nlh);
		assert_int_equal(nl_addr_from_msg(nlh, &out), 0);
		assert_int_equal(out.ifindex, 12);
		assert_int_equal(out.family, in.family);
		assert_int_equal(out.prefixlen, in.prefixlen);
		assert_int_equal(out.scope, in.scope);
		assert_int_equal(out.flags, in.flags);
		assert_memory_equal(out.addr, in.addr, 16);
	}
}

static void test_veth_request_round_trip(void **state)
{
	static const uint8_t mac[6] = { 0xee, 0xee, 0xee, 0xee, 0xee, 0xee };
	char buf[NL_MSG_BUF_SIZE];
	struct nl_veth v = { .name = "cali0123456789a", .peer_name = "eth0",
			     .peer_netns_fd = 5, .mtu = 1440, .mac = mac };
	struct nl_link l;
	struct nlmsghdr *nlh;

	(void)state;
	nlh = nl_msg_veth(buf, &v);
	assert_non_null(nlh);
	assert_int_equal(nlh->nlmsg_type, RTM_NEWLINK);
	assert_true(nlh->nlmsg_flags & NLM_F_EXCL);
	assert_int_equal(nl_link_from_msg(nlh, &l), 0);
	assert_string_equal(l.name, "cali0123456789a");
	assert_string_equal(l.kind, "veth");
	assert_int_equal(l.mtu, 1440);
	assert_true(l.has_mac);
	assert_memory_equal(l.mac, mac, 6);
	assert_int_equal(l.link_netnsid, -1);
	assert_string_equal(nl_msg_veth_peer_name(nlh), "eth0");
}

/* The owner tag calico-c records on a host veth comes back as the link's
 * alias; a link without one reads as "". */
static void test_link_alias_is_parsed(void **state)
{
	char buf[NL_MSG_BUF_SIZE];
	struct nl_veth v = { .name = "cali0123456789a", .peer_name = "eth0", .peer_netns_fd = -1 };
	struct nlmsghdr *nlh;
	struct nl_link l;

	(void)state;
	nlh = nl_msg_veth(buf, &v);
	assert_int_equal(nl_link_from_msg(nlh, &l), 0);
	assert_string_equal(l.alias, "");
	mnl_attr_put_strz(nlh, IFLA_IFALIAS, "containerd-0123abcd");
	assert_int_equal(nl_link_from_msg(nlh, &l), 0);
	assert_string_equal(l.alias, "containerd-0123abcd");
}

static void test_veth_rejects_bad_names(void **state)
{
	static const struct {
		const char *name, *peer;
	} v[] = {
		{ "cali0123456789ab", "eth0" }, /* 16 characters */
		{ "cali1", "" },
		{ NULL, "eth0" },
		{ "cali1", NULL },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		char buf[NL_MSG_BUF_SIZE];
		struct nl_veth veth = { .name = v[i].name, .peer_name = v[i].peer,
					.peer_netns_fd = -1 };

		assert_null(nl_msg_veth(buf, &veth));
	}
}

static void test_parsers_reject_malformed_messages(void **state)
{
	char buf[NL_MSG_BUF_SIZE];
	struct nl_addr a = { .ifindex = 1, .family = AF_INET, .prefixlen = 32 };
	struct nl_route r = { .family = AF_INET, .dst_len = 32 };
	struct nl_addr aout;
	struct nl_route rout;
	struct nlmsghdr *nlh;
	struct nlattr *attr;

	(void)state;
	/* An IPv4 address attribute with 16 bytes does not match the family. */
	nlh = nl_msg_addr(buf, RTM_NEWADDR, &a);
	mnl_attr_for_each(attr, nlh, sizeof(struct ifaddrmsg))
		if (mnl_attr_get_type(attr) == IFA_LOCAL)
			attr->nla_type = IFA_CACHEINFO; /* drop IFA_LOCAL */
	((struct ifaddrmsg *)mnl_nlmsg_get_payload(nlh))->ifa_family = AF_INET6;
	assert_int_equal(nl_addr_from_msg(nlh, &aout), -EINVAL);

	/* A header cut short cannot be parsed. */
	nlh = nl_msg_route(buf, RTM_NEWROUTE, &r);
	nlh->nlmsg_len = MNL_NLMSG_HDRLEN + 4;
	assert_int_equal(nl_route_from_msg(nlh, &rout), -EINVAL);

	/* A u32 attribute with two bytes is refused by the policy table. */
	nlh = nl_msg_route(buf, RTM_NEWROUTE, &r);
	mnl_attr_put_u16(nlh, RTA_OIF, 3);
	assert_int_equal(nl_route_from_msg(nlh, &rout), -EINVAL);
}

static void test_sysctl_keys_cannot_escape_proc_sys(void **state)
{
	char buf[64];

	(void)state;
	assert_int_equal(nl_sysctl_write("../../etc/passwd", "x"), -EINVAL);
	assert_int_equal(nl_sysctl_write("/etc/passwd", "x"), -EINVAL);
	assert_int_equal(nl_sysctl_write("", "x"), -EINVAL);
	assert_int_equal(nl_sysctl_read("kernel/ostype", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "Linux");
	assert_int_equal(nl_sysctl_read("net/ipv4/conf/no-such-link/proxy_arp", buf, sizeof(buf)),
			 -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_route_round_trip),
		cmocka_unit_test(test_route_rejects_unknown_family),
		cmocka_unit_test(test_addr_round_trip),
		cmocka_unit_test(test_veth_request_round_trip),
		cmocka_unit_test(test_veth_rejects_bad_names),
		cmocka_unit_test(test_link_alias_is_parsed),
		cmocka_unit_test(test_parsers_reject_malformed_messages),
		cmocka_unit_test(test_sysctl_keys_cannot_escape_proc_sys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
