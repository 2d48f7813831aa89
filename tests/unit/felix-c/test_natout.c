/* natout_desired(): the natOutgoing table wanted for a set of IPPools, its
 * batch (decoded back and checked expression by expression) and the plan a
 * pool change makes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <linux/netfilter.h>
#include <linux/netlink.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>

#include "felix-c/natout.h"
#include "policy/kernel.h"
#include "policy/nftstate.h"
#include "policy/plan.h"
#include "mgrtest.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* @pools: JSON object name -> IPPool; @invalid: JSON object or NULL. */
static struct policy_nft *desired(const char *pools, const char *invalid)
{
	json_t *p = json_loads(pools, 0, NULL), *inv = invalid ? json_loads(invalid, 0, NULL) : NULL;
	struct policy_nft *t = NULL;

	assert_non_null(p);
	assert_int_equal(natout_desired("calico-c-nat", p, inv, &t), 0);
	json_decref(p);
	json_decref(inv);
	return t;
}

static void assert_set(const struct policy_nft *t, const char *name, const char *want)
{
	const struct policy_nft_set *s = policy_nft_set_get(t, name);
	char *text = NULL;

	assert_non_null(s);
	assert_int_equal(s->kind, strchr(name, '6') ? POLICY_SET_RANGE6 : POLICY_SET_RANGE4);
	assert_int_equal(policy_nft_set_to_text(s, &text), 0);
	if (strcmp(text, want) != 0)
		fail_msg("set %s: got {%s}, want {%s}", name, text, want);
	free(text);
}

#define POOL(cidr, extra) "{\"spec\":{\"cidr\":\"" cidr "\"" extra "}}"
#define NAT ",\"natOutgoing\":true"
#define NONAT ",\"natOutgoing\":false"
#define DISABLED ",\"disabled\":true"

static void test_sets_follow_calicos_rule(void **state)
{
	static const struct {
		const char *what, *pools, *invalid, *masq, *all;
	} v[] = {
		{ "no pools", "{}", NULL, "", "" },
		{ "one natOutgoing pool", "{\"a\":" POOL("10.65.0.0/16", NAT) "}", NULL,
		  "10.65.0.0-10.65.255.255", "10.65.0.0-10.65.255.255" },
		{ "natOutgoing false is a pool, never masqueraded",
		  "{\"a\":" POOL("10.66.0.0/16", NONAT) "}", NULL, "", "10.66.0.0-10.66.255.255" },
		{ "natOutgoing absent means false", "{\"a\":" POOL("10.66.0.0/16", "") "}", NULL, "",
		  "10.66.0.0-10.66.255.255" },
		{ "a disabled pool counts as a pool",
		  "{\"a\":" POOL("10.65.0.0/16", NAT) ",\"no-nat-to\":" POOL("172.16.0.0/12",
									       DISABLED) "}",
		  NULL, "10.65.0.0-10.65.255.255",
		  "10.65.0.0-10.65.255.255,172.16.0.0-172.31.255.255" },
		{ "a disabled natOutgoing pool still masquerades its pods",
		  "{\"a\":" POOL("10.65.0.0/16", NAT DISABLED) "}", NULL, "10.65.0.0-10.65.255.255",
		  "10.65.0.0-10.65.255.255" },
		{ "an invalid pool never masquerades but still counts",
		  "{\"a\":" POOL("10.65.0.0/16", NAT) ",\"bad\":" POOL("10.70.0.0/16", NAT) "}",
		  "{\"bad\":\"spec.blockSize: out of range\"}", "10.65.0.0-10.65.255.255",
		  "10.65.0.0-10.65.255.255,10.70.0.0-10.70.255.255" },
		{ "IPv6 pools are in the IPv6 sets only, unparsable CIDRs nowhere",
		  "{\"v6\":" POOL("fd00::/64", NAT) ",\"junk\":" POOL("10.1.2/8", NAT)
		  ",\"none\":{\"spec\":{\"natOutgoing\":true}},\"num\":{\"spec\":{\"cidr\":5}}}",
		  NULL, "", "" },
		{ "overlapping and adjacent pools merge",
		  "{\"a\":" POOL("10.0.0.0/8", NAT) ",\"b\":" POOL("10.65.0.0/16", NAT) ",\"c\":"
		  POOL("11.0.0.0/24", NAT) ",\"d\":" POOL("11.0.1.0/24", NONAT) "}",
		  NULL, "10.0.0.0-11.0.0.255", "10.0.0.0-11.0.1.255" },
		{ "a CIDR IPAM refuses is no pool here either (ipam_pool_cidr_from_json)",
		  "{\"a\":" POOL("10.65.0.0/016", NAT) ",\"b\":" POOL("10.66.0.0/16 ", NAT) "}",
		  NULL, "", "" },
		{ "host bits are cleared", "{\"a\":" POOL("10.65.3.7/16", NAT) "}", NULL,
		  "10.65.0.0-10.65.255.255", "10.65.0.0-10.65.255.255" },
		{ "the whole address space",
		  "{\"a\":" POOL("0.0.0.0/0", NAT) ",\"b\":" POOL("10.0.0.0/8", NONAT) "}", NULL,
		  "0.0.0.0-255.255.255.255", "0.0.0.0-255.255.255.255" },
		{ "the top of the address space",
		  "{\"a\":" POOL("255.255.255.0/24", NAT) ",\"b\":" POOL("255.255.254.0/24", NAT) "}",
		  NULL, "255.255.254.0-255.255.255.255", "255.255.254.0-255.255.255.255" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		struct policy_nft *t = desired(v[i].pools, v[i].invalid);

		print_message("case: %s\n", v[i].what);
		assert_set(t, NATOUT_SET_MASQ, v[i].masq);
		assert_set(t, NATOUT_SET_ALL, v[i].all);
		policy_nft_free(t);
	}
}

static void test_one_nat_chain_at_postrouting_with_the_masquerade_rule(void **state)
{
	struct policy_nft *t = desired("{}", NULL);
	const struct policy_nft_chain *c = policy_nft_chain_get(t, NATOUT_CHAIN);
	const char **names = NULL;
	char *text = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(policy_nft_chain_names(t, &names, &n), 0);
	assert_int_equal(n, 1);
	free(names);
	assert_non_null(c);
	assert_true(c->base && c->nat);
	assert_int_equal(c->hooknum, NF_INET_POST_ROUTING);
	assert_int_equal(c->prio, 100);
	assert_int_equal(c->policy, NF_ACCEPT);
	assert_int_equal(c->n_rules, 2);
	assert_true(policy_nft_rule_to_text(c->rules[0], &text) > 0);
	assert_string_equal(text, "ip saddr @masq_pools4 ip daddr != @all_pools4 counter masquerade");
	assert_non_null(strstr(c->rules[0]->comment, "natOutgoing #"));
	free(text);
	assert_true(policy_nft_rule_to_text(c->rules[1], &text) > 0);
	assert_string_equal(text,
			    "ip6 saddr @masq_pools6 ip6 daddr != @all_pools6 counter masquerade");
	assert_string_not_equal(c->rules[0]->comment, c->rules[1]->comment);
	free(text);
	policy_nft_free(t);
}

/* The expressions of the batch's only rule, checked with libnftnl. */
struct rule_check {
	bool inverted_lookup, plain_lookup, masq, counter;
};

static int expr_cb(struct nftnl_expr *e, void *data)
{
	struct rule_check *rc = data;
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);

	if (strcmp(name, "lookup") == 0) {
		bool inv = nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_FLAGS) &&
			   (nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_FLAGS) & NFT_LOOKUP_F_INV);
		const char *set = nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET);

		/* each family's rule: its own two sets */
		if (inv)
			rc->inverted_lookup |= strcmp(set, NATOUT_SET_ALL) == 0 ||
					       strcmp(set, NATOUT_SET_ALL6) == 0;
		else
			rc->plain_lookup |= strcmp(set, NATOUT_SET_MASQ) == 0 ||
					    strcmp(set, NATOUT_SET_MASQ6) == 0;
	}
	rc->masq |= strcmp(name, "masq") == 0;
	rc->counter |= strcmp(name, "counter") == 0;
	return 0;
}

static void check_msg(const struct nlmsghdr *nlh, struct rule_check *rc, bool *nat_chain)
{
	uint16_t type = NFNL_MSG_TYPE(nlh->nlmsg_type);

	if (type == NFT_MSG_NEWRULE) {
		struct nftnl_rule *r = nftnl_rule_alloc();

		assert_int_equal(nftnl_rule_nlmsg_parse(nlh, r), 0);
		assert_int_equal(nftnl_expr_foreach(r, expr_cb, rc), 0);
		nftnl_rule_free(r);
	} else if (type == NFT_MSG_NEWCHAIN) {
		struct nftnl_chain *c = nftnl_chain_alloc();

		assert_int_equal(nftnl_chain_nlmsg_parse(nlh, c), 0);
		*nat_chain = strcmp(nftnl_chain_get_str(c, NFTNL_CHAIN_TYPE), "nat") == 0 &&
			     nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM) == NF_INET_POST_ROUTING;
		nftnl_chain_free(c);
	}
}

static void test_batch_encodes_a_nat_chain_and_replays_to_the_desired_table(void **state)
{
	struct policy_nft *t = desired("{\"a\":" POOL("10.65.0.0/16", NAT) ",\"b\":"
				       POOL("10.66.0.0/16", NONAT) "}", NULL);
	struct policy_nft *empty = NULL, *replayed = NULL;
	struct policy_plan *p = NULL;
	struct policy_batch *b = NULL;
	struct rule_check rc = {};
	bool nat_chain = false;

	(void)state;
	assert_int_equal(policy_nft_new("calico-c-nat", &empty), 0);
	p = mgrtest_plan(empty, t);
	assert_int_equal(policy_batch_build(p, 500, &b), 0);
	for (size_t off = 0; off < b->len;) {
		const struct nlmsghdr *nlh = (const void *)(b->buf + off);

		check_msg(nlh, &rc, &nat_chain);
		off += NLMSG_ALIGN(nlh->nlmsg_len);
	}
	assert_true(nat_chain);
	assert_true(rc.plain_lookup && rc.inverted_lookup && rc.masq && rc.counter);
	assert_int_equal(policy_nft_new("calico-c-nat", &replayed), 0);
	assert_int_equal(policy_batch_replay(b, replayed), 0);
	assert_true(policy_nft_chain_get(replayed, NATOUT_CHAIN)->nat);
	mgrtest_assert_no_diff(replayed, t);
	assert_set(replayed, NATOUT_SET_MASQ, "10.65.0.0-10.65.255.255");
	policy_plan_free(p);
	policy_batch_free(b);
	policy_nft_free(replayed);
	policy_nft_free(empty);
	policy_nft_free(t);
}

static void test_a_pool_change_is_only_element_changes(void **state)
{
	static const struct {
		const char *what, *before, *after;
		size_t adds, dels;
	} v[] = {
		{ "natOutgoing flipped on",
		  "{\"a\":" POOL("10.65.0.0/16", NAT) ",\"b\":" POOL("10.80.0.0/16", NONAT) "}",
		  "{\"a\":" POOL("10.65.0.0/16", NAT) ",\"b\":" POOL("10.80.0.0/16", NAT) "}", 1, 0 },
		{ "natOutgoing flipped on, merging with an adjacent pool",
		  "{\"a\":" POOL("10.65.0.0/16", NAT) ",\"b\":" POOL("10.66.0.0/16", NONAT) "}",
		  "{\"a\":" POOL("10.65.0.0/16", NAT) ",\"b\":" POOL("10.66.0.0/16", NAT) "}", 1, 1 },
		{ "pool added", "{\"a\":" POOL("10.65.0.0/16", NAT) "}",
		  "{\"a\":" POOL("10.65.0.0/16", NAT) ",\"b\":" POOL("10.80.0.0/16", NONAT) "}", 1, 0 },
		{ "pool deleted",
		  "{\"a\":" POOL("10.65.0.0/16", NAT) ",\"b\":" POOL("10.80.0.0/16", NAT) "}",
		  "{\"a\":" POOL("10.65.0.0/16", NAT) "}", 0, 2 },
		{ "an unrelated field changed", "{\"a\":" POOL("10.65.0.0/16", NAT) "}",
		  "{\"a\":" POOL("10.65.0.0/16", NAT ",\"blockSize\":28") "}", 0, 0 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		struct policy_nft *from = desired(v[i].before, NULL), *to = desired(v[i].after, NULL);
		struct policy_plan *p;

		print_message("case: %s\n", v[i].what);
		/* as observed: the table exists, its rule has a handle */
		from->table_exists = true;
		policy_nft_chain_get(from, NATOUT_CHAIN)->rules[0]->handle = 7;
		policy_nft_chain_get(from, NATOUT_CHAIN)->rules[1]->handle = 8;
		p = mgrtest_plan(from, to);
		assert_int_equal(policy_plan_count_elems(p, POLICY_OP_ELEM_ADD), v[i].adds);
		assert_int_equal(policy_plan_count_elems(p, POLICY_OP_ELEM_DEL), v[i].dels);
		assert_int_equal(p->n_ops, policy_plan_count(p, POLICY_OP_ELEM_ADD) +
						   policy_plan_count(p, POLICY_OP_ELEM_DEL));
		policy_plan_free(p);
		policy_nft_free(from);
		policy_nft_free(to);
	}
}

/* The IPv6 sets follow the same rule as the IPv4 ones, each family on its
 * own; 128-bit ranges merge and reach the top of the address space. */
static void test_ipv6_sets(void **state)
{
	static const struct {
		const char *what, *pools, *invalid, *masq6, *all6, *masq4;
	} v[] = {
		{ "no pools", "{}", NULL, "", "", "" },
		{ "a natOutgoing IPv6 pool beside an IPv4 one without",
		  "{\"a\":" POOL("fd00:65::/64", NAT) ",\"b\":" POOL("10.65.0.0/16", NONAT) "}", NULL,
		  "fd00:65::-fd00:65::ffff:ffff:ffff:ffff", "fd00:65::-fd00:65::ffff:ffff:ffff:ffff",
		  "" },
		{ "natOutgoing false and disabled pools count as pools",
		  "{\"a\":" POOL("fd00:65::/112", NAT) ",\"b\":" POOL("2001:db8::/32", NONAT)
		  ",\"c\":" POOL("fd00:66::/112", DISABLED) "}", NULL,
		  "fd00:65::-fd00:65::ffff",
		  "2001:db8::-2001:db8:ffff:ffff:ffff:ffff:ffff:ffff,fd00:65::-fd00:65::ffff,"
		  "fd00:66::-fd00:66::ffff", "" },
		{ "an invalid IPv6 pool never masquerades",
		  "{\"a\":" POOL("fd00:65::/112", NAT) "}", "{\"a\":\"bad\"}", "",
		  "fd00:65::-fd00:65::ffff", "" },
		{ "adjacent pools merge; host bits cleared",
		  "{\"a\":" POOL("fd00:65::/113", NAT) ",\"b\":" POOL("fd00:65::8001/113", NAT) "}",
		  NULL, "fd00:65::-fd00:65::ffff", "fd00:65::-fd00:65::ffff", "" },
		{ "the whole IPv6 space and its top",
		  "{\"a\":" POOL("::/0", NAT) ",\"b\":" POOL("ffff::/16", NONAT) "}", NULL,
		  "::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
		  "::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		struct policy_nft *t = desired(v[i].pools, v[i].invalid);

		print_message("case: %s\n", v[i].what);
		assert_set(t, NATOUT_SET_MASQ6, v[i].masq6);
		assert_set(t, NATOUT_SET_ALL6, v[i].all6);
		assert_set(t, NATOUT_SET_MASQ, v[i].masq4);
		policy_nft_free(t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sets_follow_calicos_rule),
		cmocka_unit_test(test_ipv6_sets),
		cmocka_unit_test(test_one_nat_chain_at_postrouting_with_the_masquerade_rule),
		cmocka_unit_test(test_batch_encodes_a_nat_chain_and_replays_to_the_desired_table),
		cmocka_unit_test(test_a_pool_change_is_only_element_changes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
