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
#include <linux/netlink.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>

#include "policy/compile.h"
#include "policy/kernel.h"
#include "policy/model.h"
#include "policy/nftstate.h"
#include "policy/plan.h"

static const char *policies =
	"{\"metadata\":{\"namespace\":\"a\",\"name\":\"p\"},\"spec\":{\"podSelector\":{},"
	"\"ingress\":[{\"from\":[{\"podSelector\":{}},{\"ipBlock\":{\"cidr\":\"0.0.0.0/0\","
	"\"except\":[\"10.0.0.0/8\"]}},{\"ipBlock\":{\"cidr\":\"::/0\",\"except\":[\"fd00::/8\"]}}],"
	"\"ports\":[{\"port\":\"http\"},{\"port\":80,\"endPort\":90},{\"protocol\":\"UDP\"},"
	"{\"protocol\":\"SCTP\",\"port\":5000}]}],"
	"\"egress\":[{\"to\":[{\"namespaceSelector\":{}}]},{\"to\":[{\"ipBlock\":{\"cidr\":\"255.255.255.0/24\"}}]}]}}";

/* @n_pods pods a/p<i> with an "http" port; IPv4, and IPv6 on every 10th. */
static struct policy_desired *compile_cluster(int n_pods, struct policy_model **ret_m)
{
	struct policy_options o = { .nflog_group = 3 };
	struct policy_model *m = NULL;
	struct policy_desired *d = NULL;
	char buf[512];
	json_t *doc;

	assert_int_equal(policy_model_new(NULL, &m), 0);
	for (int i = 0; i < n_pods; i++) {
		struct policy_pod *p = NULL;
		json_t *j;

		snprintf(buf, sizeof(buf),
			 "{\"metadata\":{\"namespace\":\"a\",\"name\":\"p%d\",\"labels\":{\"i\":\"%d\"}},"
			 "\"spec\":{\"containers\":[{\"ports\":[{\"name\":\"http\",\"containerPort\":%d}]}]},"
			 "\"status\":{\"podIPs\":[{\"ip\":\"10.1.%d.%d\"}%s]}}",
			 i, i % 3, 8000 + i % 7, i / 250, i % 250 + 1, i % 10 ? "" : ",{\"ip\":\"fd00::9\"}");
		j = json_loads(buf, 0, NULL);
		assert_int_equal(policy_pod_from_json(j, &p, NULL), 0);
		assert_int_equal(policy_model_set_pod(m, p, NULL), 0);
		json_decref(j);
	}
	{
		size_t n = strlen(policies) + 64;
		char *t = malloc(n);

		snprintf(t, n, "{\"networkpolicies\":[%s]}", policies);
		doc = json_loads(t, 0, NULL);
		free(t);
	}
	assert_non_null(doc);
	assert_int_equal(policy_model_load_json(m, doc, NULL), 0);
	json_decref(doc);
	assert_int_equal(policy_compile(m, &o, &d), 0);
	*ret_m = m;
	return d;
}

static struct policy_plan *plan_from_empty(const struct policy_desired *d)
{
	struct policy_nft *empty = NULL;
	struct policy_plan *p = NULL;

	assert_int_equal(policy_nft_new("calico-c", &empty), 0);
	assert_int_equal(policy_plan(empty, policy_desired_nft(d), &p, NULL), 0);
	policy_nft_free(empty);
	return p;
}

static void test_batch_replays_to_the_desired_table(void **state)
{
	struct policy_model *m = NULL;
	struct policy_desired *d = compile_cluster(40, &m);
	struct policy_plan *p = plan_from_empty(d), *again = NULL;
	struct policy_batch *b = NULL;
	struct policy_nft *replayed = NULL;
	const char **names = NULL;
	size_t n;

	(void)state;
	assert_int_equal(policy_batch_build(p, 1000, &b), 0);
	assert_int_equal(policy_nft_new("calico-c", &replayed), 0);
	assert_int_equal(policy_batch_replay(b, replayed), 0);
	assert_true(replayed->table_exists);
	/* the decoded batch is what we wanted: nothing left to do */
	assert_int_equal(policy_plan(replayed, policy_desired_nft(d), &again, NULL), 0);
	if (!policy_plan_is_empty(again)) {
		policy_plan_print(again, stderr);
		fail_msg("replayed batch differs from desired (%zu ops)", again->n_ops);
	}
	/* and set by set the elements are byte-identical */
	assert_int_equal(policy_nft_set_names(policy_desired_nft(d), &names, &n), 0);
	for (size_t i = 0; i < n; i++) {
		char *x = NULL, *y = NULL;

		policy_nft_set_to_text(policy_nft_set_get(policy_desired_nft(d), names[i]), &x);
		policy_nft_set_to_text(policy_nft_set_get(replayed, names[i]), &y);
		assert_string_equal(x, y);
		free(x);
		free(y);
	}
	free(names);
	policy_plan_free(again);
	policy_nft_free(replayed);
	policy_batch_free(b);
	policy_plan_free(p);
	policy_desired_free(d);
	policy_model_free(m);
}

static void test_every_message_asks_for_an_ack_and_maps_to_its_op(void **state)
{
	struct policy_model *m = NULL;
	struct policy_desired *d = compile_cluster(700, &m); /* vmap: > 256 elements */
	struct policy_plan *p = plan_from_empty(d);
	struct policy_batch *b = NULL;
	const uint8_t *at;
	size_t left, i = 0, multi = 0;
	long last_op = -1;

	(void)state;
	assert_int_equal(policy_batch_build(p, 77, &b), 0);
	at = b->buf;
	left = b->len;
	for (; left >= sizeof(struct nlmsghdr); i++) {
		const struct nlmsghdr *nlh = (const void *)at;

		assert_int_equal(nlh->nlmsg_seq, 77 + i);
		if (i == 0) {
			assert_int_equal(nlh->nlmsg_type, NFNL_MSG_BATCH_BEGIN);
		} else if (i == b->n_msgs + 1) {
			assert_int_equal(nlh->nlmsg_type, NFNL_MSG_BATCH_END);
		} else {
			long op = b->op_of_msg[i - 1];

			assert_true(nlh->nlmsg_flags & NLM_F_ACK);
			assert_true(op >= 0 && (size_t)op < p->n_ops);
			assert_true(op >= last_op); /* ops in plan order */
			multi += op == last_op;
			last_op = op;
			assert_true(nlh->nlmsg_len < 65536);
		}
		left -= NLMSG_ALIGN(nlh->nlmsg_len);
		at += NLMSG_ALIGN(nlh->nlmsg_len);
	}
	assert_int_equal(i, b->n_msgs + 2);
	assert_true(multi >= 2); /* a 700-element op is split over several messages */
	policy_batch_free(b);
	policy_plan_free(p);
	policy_desired_free(d);
	policy_model_free(m);
}

static int expr_name_cb(struct nftnl_expr *e, void *data)
{
	char *out = data;

	strcat(out, out[0] ? " " : "");
	strcat(out, nftnl_expr_get_str(e, NFTNL_EXPR_NAME));
	return 0;
}

static void test_rule_expressions_decode(void **state)
{
	struct policy_model *m = NULL;
	struct policy_desired *d = compile_cluster(3, &m);
	struct policy_plan *p = NULL;
	struct policy_nft *empty = NULL;
	struct policy_batch *b = NULL;
	const struct policy_nft_chain *c = policy_nft_chain_get(policy_desired_nft(d), "pol_a_p_in");
	const uint8_t *at;
	size_t left;
	char exprs[512] = "";

	(void)state;
	/* a plan with just the first rule of pol_a_p_in: pod set + ports set */
	assert_int_equal(policy_nft_new("calico-c", &empty), 0);
	assert_int_equal(policy_plan_new("calico-c", &p), 0);
	assert_int_equal(policy_plan_add_op(p, &(struct policy_op){ .kind = POLICY_OP_RULE_ADD,
						  .name = strdup(c->name), .rule = c->rules[0],
						  .after_op = -1 }, NULL), 0);
	policy_plan_finish(p);
	assert_int_equal(policy_batch_build(p, 1, &b), 0);
	at = b->buf;
	left = b->len;
	while (left >= sizeof(struct nlmsghdr)) {
		const struct nlmsghdr *nlh = (const void *)at;

		if (NFNL_MSG_TYPE(nlh->nlmsg_type) == NFT_MSG_NEWRULE &&
		    NFNL_SUBSYS_ID(nlh->nlmsg_type) == NFNL_SUBSYS_NFTABLES) {
			struct nftnl_rule *r = nftnl_rule_alloc();

			assert_true(nftnl_rule_nlmsg_parse(nlh, r) >= 0);
			assert_string_equal(nftnl_rule_get_str(r, NFTNL_RULE_CHAIN), "pol_a_p_in");
			nftnl_expr_foreach(r, expr_name_cb, exprs);
			nftnl_rule_free(r);
		}
		left -= NLMSG_ALIGN(nlh->nlmsg_len);
		at += NLMSG_ALIGN(nlh->nlmsg_len);
	}
	/* ip saddr @sel4_... meta l4proto . th dport @ports_... counter accept */
	assert_string_equal(exprs, "meta cmp payload lookup meta payload lookup counter immediate");
	policy_batch_free(b);
	policy_plan_free(p);
	policy_nft_free(empty);
	policy_desired_free(d);
	policy_model_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_batch_replays_to_the_desired_table),
		cmocka_unit_test(test_every_message_asks_for_an_ack_and_maps_to_its_op),
		cmocka_unit_test(test_rule_expressions_decode),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
