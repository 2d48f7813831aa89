/* hostPort: containers[].ports[] of Pod JSON -> the model's host ports ->
 * the desired state's mappings (local pods with an IPv4 address) -> the nat
 * table's maps and rules (hostport_desired_add()), its batch decoded back
 * expression by expression, and the plan a pod change makes. */
#include <arpa/inet.h>
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
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>

#include "felix-c/hostport.h"
#include "felix-c/manager.h"
#include "felix-c/natout.h"
#include "policy/kernel.h"
#include "policy/model.h"
#include "policy/nftstate.h"
#include "policy/plan.h"
#include "mgrtest.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* A pod "ns/NAME" on NODE with IP and the container ports PORTS (a JSON
 * array of ports objects, one per container). */
static json_t *pod_json(const char *name, const char *node, const char *ip, const char *ports,
			bool host_network)
{
	json_t *containers = json_loads(ports, 0, NULL), *c;
	json_t *j = json_pack("{s:{s:s,s:s},s:{s:s,s:b,s:[]}}", "metadata", "namespace", "ns",
			      "name", name, "spec", "nodeName", node, "hostNetwork", host_network,
			      "containers");
	size_t i;

	assert_non_null(containers);
	json_array_foreach (containers, i, c)
		json_array_append_new(json_object_get(json_object_get(j, "spec"), "containers"),
				      json_pack("{s:O}", "ports", c));
	json_decref(containers);
	if (ip)
		json_object_set_new(j, "status", json_pack("{s:s}", "podIP", ip));
	return j;
}

static struct policy_pod *parse(const char *ports)
{
	json_t *j = pod_json("p", "n1", "10.65.1.5", ports, false);
	struct policy_pod *p = NULL;
	char *err = NULL;

	if (policy_pod_from_json(j, &p, &err) < 0)
		fail_msg("pod refused: %s", err);
	json_decref(j);
	return p;
}

static void test_model_reads_host_ports_of_containers(void **state)
{
	struct policy_pod *p = parse("[[{\"containerPort\":8080,\"hostPort\":80},"
				     "{\"containerPort\":53,\"hostPort\":5353,\"protocol\":\"UDP\","
				     "\"hostIP\":\"127.0.0.1\"},{\"containerPort\":9090}],"
				     "[{\"containerPort\":7,\"hostPort\":7,\"protocol\":\"SCTP\","
				     "\"hostIP\":\"0.0.0.0\"},{\"containerPort\":8,\"hostPort\":0},"
				     "{\"containerPort\":9,\"hostPort\":9,\"hostIP\":\"fd00::1\"}]]");
	const struct policy_host_port *h = p->host_ports;

	(void)state;
	assert_null(p->host_ports_error);
	assert_int_equal(p->n_host_ports, 4); /* no hostPort, and hostPort 0, map nothing */
	assert_int_equal(h[0].proto, IPPROTO_TCP);
	assert_int_equal(h[0].host_port, 80);
	assert_int_equal(h[0].container_port, 8080);
	assert_int_equal(h[0].host_ip.family, AF_UNSPEC);
	assert_int_equal(h[1].proto, IPPROTO_UDP);
	assert_int_equal(h[1].host_ip.family, AF_INET);
	assert_memory_equal(h[1].host_ip.addr, "\x7f\0\0\x01", 4);
	assert_int_equal(h[2].proto, IPPROTO_SCTP);
	assert_int_equal(h[2].host_ip.family, AF_UNSPEC); /* 0.0.0.0: every address */
	assert_int_equal(h[3].host_ip.family, AF_INET6);
	policy_pod_free(p);
}

static void test_model_bad_host_port_costs_the_pod_its_host_ports_only(void **state)
{
	static const struct {
		const char *ports, *error;
	} v[] = {
		{ "[[{\"containerPort\":80,\"hostPort\":80},{\"containerPort\":81,\"hostPort\":70000}]]",
		  "spec.containers[0].ports[1].hostPort: must be 0..65535" },
		{ "[[{\"containerPort\":80,\"hostPort\":-1}]]",
		  "spec.containers[0].ports[0].hostPort: must be 0..65535" },
		{ "[[],[{\"containerPort\":80,\"hostPort\":\"80\"}]]",
		  "spec.containers[1].ports[0].hostPort: must be 0..65535" },
		{ "[[{\"containerPort\":80,\"hostPort\":80,\"hostIP\":\"10.0.0.300\"}]]",
		  "spec.containers[0].ports[0].hostIP: invalid address '10.0.0.300'" },
		{ "[[{\"containerPort\":80,\"hostPort\":80,\"hostIP\":\"10.0.0.0/8\"}]]",
		  "spec.containers[0].ports[0].hostIP: invalid address '10.0.0.0/8'" },
		{ "[[{\"containerPort\":80,\"hostPort\":80,\"hostIP\":7}]]",
		  "spec.containers[0].ports[0].hostIP: invalid address ''" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		struct policy_pod *p = parse(v[i].ports);

		print_message("case: %s\n", v[i].ports);
		assert_int_equal(p->n_host_ports, 0);
		assert_non_null(p->host_ports_error);
		assert_string_equal(p->host_ports_error, v[i].error);
		assert_int_equal(p->n_ips, 1); /* the pod itself is kept */
		policy_pod_free(p);
	}
}

static void test_model_pod_equality_and_copy_see_host_ports(void **state)
{
	struct policy_pod *a = parse("[[{\"containerPort\":80,\"hostPort\":80}]]");
	struct policy_pod *b = parse("[[{\"containerPort\":80,\"hostPort\":81}]]");
	struct policy_pod *bad = parse("[[{\"containerPort\":80,\"hostPort\":70000}]]");
	struct policy_pod *c = NULL, *d = NULL;

	(void)state;
	assert_false(policy_pod_is_equal(a, b));
	assert_int_equal(policy_pod_dup(a, &c), 0);
	assert_true(policy_pod_is_equal(a, c));
	assert_int_equal(policy_pod_dup(bad, &d), 0);
	assert_true(policy_pod_is_equal(bad, d));
	assert_string_equal(d->host_ports_error, bad->host_ports_error);
	assert_false(policy_pod_is_equal(a, d));
	policy_pod_free(a);
	policy_pod_free(b);
	policy_pod_free(bad);
	policy_pod_free(c);
	policy_pod_free(d);
}

/* ---- desired state and table ---- */

struct env {
	struct policy_model *model;
	json_t *affs;
	struct felix_desired d;
};

static void env_init(struct env *e)
{
	memset(e, 0, sizeof(*e));
	assert_int_equal(policy_model_new("n1", &e->model), 0);
	e->affs = json_object();
}

static void env_pod(struct env *e, const char *name, const char *node, const char *ip,
		    const char *ports, bool host_network)
{
	json_t *j = pod_json(name, node, ip, ports, host_network);
	struct policy_pod *p = NULL;

	assert_int_equal(policy_pod_from_json(j, &p, NULL), 0);
	assert_int_equal(policy_model_set_pod(e->model, p, NULL), 0);
	json_decref(j);
}

static void env_del(struct env *e, const char *name)
{
	policy_pod_free(policy_model_del_pod(e->model, "ns", name));
}

/* The nat table for the model as it is; *@ret_n: mappings programmed. */
static struct policy_nft *env_table(struct env *e, int *ret_n, char **ret_conflicts)
{
	struct felix_desired_input in = { .node = "n1", .affinities = e->affs, .model = e->model };
	struct policy_nft *t = NULL;
	char *conflicts = NULL;
	int n;

	felix_desired_done(&e->d);
	assert_int_equal(felix_desired_build(&in, &e->d), 0);
	assert_int_equal(policy_nft_new("calico-c-nat", &t), 0);
	n = hostport_desired_add(t, e->d.host_ports, e->d.n_host_ports, &conflicts);
	assert_true(n >= 0);
	if (ret_n)
		*ret_n = n;
	if (ret_conflicts)
		*ret_conflicts = conflicts;
	else
		free(conflicts);
	return t;
}

static void env_done(struct env *e)
{
	felix_desired_done(&e->d);
	policy_model_free(e->model);
	json_decref(e->affs);
}

static void assert_set(const struct policy_nft *t, const char *name, const char *want)
{
	char *text = NULL;

	assert_non_null(policy_nft_set_get(t, name));
	assert_int_equal(policy_nft_set_to_text(policy_nft_set_get(t, name), &text), 0);
	if (strcmp(text, want) != 0)
		fail_msg("set %s: got {%s}, want {%s}", name, text, want);
	free(text);
}

#define HP(c, h) "{\"containerPort\":" #c ",\"hostPort\":" #h
#define TCP "}"
#define UDP ",\"protocol\":\"UDP\"}"
#define ON(ip) ",\"hostIP\":\"" ip "\"}"

static void test_mappings_of_local_pods_with_an_address(void **state)
{
	struct env e;
	struct policy_nft *t;
	int n;

	(void)state;
	env_init(&e);
	/* the conformance case: one port, three pods, hostIP and protocol differ */
	env_pod(&e, "pod1", "n1", "10.65.1.1", "[[" HP(8080, 54323) ON("127.0.0.1") "]]", false);
	env_pod(&e, "pod2", "n1", "10.65.1.2", "[[" HP(8080, 54323) ON("172.31.0.11") "]]", false);
	env_pod(&e, "pod3", "n1", "10.65.1.3",
		"[[" HP(8081, 54323) ",\"protocol\":\"UDP\",\"hostIP\":\"172.31.0.11\"}]]", false);
	env_pod(&e, "any", "n1", "10.65.1.4", "[[" HP(80, 8000) TCP "," HP(53, 5353) UDP "]]", false);
	env_pod(&e, "remote", "n2", "10.65.2.1", "[[" HP(80, 9000) TCP "]]", false);
	env_pod(&e, "no-ip", "n1", NULL, "[[" HP(80, 9001) TCP "]]", false);
	env_pod(&e, "hostnet", "n1", "172.31.0.11", "[[" HP(80, 9002) TCP "]]", true);
	env_pod(&e, "v6-host-ip", "n1", "10.65.1.6", "[[" HP(80, 9003) ON("fd00::1") "]]", false);
	t = env_table(&e, &n, NULL);
	assert_int_equal(n, 5);
	assert_set(t, HOSTPORT_MAP,
		   "127.0.0.1 . tcp . 54323 : 10.65.1.1 . 8080,"
		   "172.31.0.11 . tcp . 54323 : 10.65.1.2 . 8080,"
		   "172.31.0.11 . udp . 54323 : 10.65.1.3 . 8081");
	assert_set(t, HOSTPORT_MAP_ANY, "tcp . 8000 : 10.65.1.4 . 80,udp . 5353 : 10.65.1.4 . 53");
	assert_set(t, HOSTPORT_SET_HAIRPIN,
		   "10.65.1.1 . 10.65.1.1,10.65.1.2 . 10.65.1.2,10.65.1.3 . 10.65.1.3,"
		   "10.65.1.4 . 10.65.1.4");
	assert_set(t, HOSTPORT_SET_LOOPBACK, "127.0.0.0-127.255.255.255");
	policy_nft_free(t);
	env_done(&e);
}

static void test_two_pods_on_one_key_get_neither(void **state)
{
	struct env e;
	struct policy_nft *t;
	char *conflicts = NULL;
	int n;

	(void)state;
	env_init(&e);
	env_pod(&e, "a", "n1", "10.65.1.1", "[[" HP(80, 8000) TCP "]]", false);
	env_pod(&e, "b", "n1", "10.65.1.2", "[[" HP(81, 8000) TCP "]]", false);
	/* the same mapping twice in one pod is one mapping */
	env_pod(&e, "c", "n1", "10.65.1.3", "[[" HP(80, 8001) TCP "],[" HP(80, 8001) TCP "]]", false);
	/* one exact hostIP and every address: both programmed, the exact one wins */
	env_pod(&e, "d", "n1", "10.65.1.4", "[[" HP(80, 8002) ON("172.31.0.11") "]]", false);
	env_pod(&e, "e", "n1", "10.65.1.5", "[[" HP(80, 8002) TCP "]]", false);
	t = env_table(&e, &n, &conflicts);
	assert_int_equal(n, 3);
	assert_set(t, HOSTPORT_MAP, "172.31.0.11 . tcp . 8002 : 10.65.1.4 . 80");
	assert_set(t, HOSTPORT_MAP_ANY, "tcp . 8001 : 10.65.1.3 . 80,tcp . 8002 : 10.65.1.5 . 80");
	assert_non_null(conflicts);
	assert_string_equal(conflicts, "TCP/8000 on every address: 'ns/a' 'ns/b'");
	free(conflicts);
	policy_nft_free(t);

	/* one of them goes: the other gets the port */
	env_del(&e, "a");
	t = env_table(&e, &n, &conflicts);
	assert_null(conflicts);
	assert_set(t, HOSTPORT_MAP_ANY,
		   "tcp . 8000 : 10.65.1.2 . 81,tcp . 8001 : 10.65.1.3 . 80,"
		   "tcp . 8002 : 10.65.1.5 . 80");
	policy_nft_free(t);
	env_done(&e);
}

static void test_chains_and_rules(void **state)
{
	static const struct {
		const char *chain;
		bool base, nat;
		uint32_t hook;
		int32_t prio;
		const char *rules[2];
	} v[] = {
		{ HOSTPORT_CHAIN_PREROUTING, true, true, NF_INET_PRE_ROUTING, -100,
		  { "fib daddr type local jump cc_hostports" } },
		{ HOSTPORT_CHAIN_OUTPUT, true, true, NF_INET_LOCAL_OUT, -100,
		  { "fib daddr type local jump cc_hostports" } },
		{ HOSTPORT_CHAIN_DNAT, false, false, 0, 0,
		  { "dnat ip to ip daddr . meta l4proto . th dport map @hostports4",
		    "dnat ip to meta l4proto . th dport map @hostports4_any" } },
		{ HOSTPORT_CHAIN_POSTROUTING, true, true, NF_INET_POST_ROUTING, 100,
		  { "ct status dnat ip saddr @loopback4 counter masquerade",
		    "ct status dnat ip saddr . ip daddr @hostport_hairpin4 counter masquerade" } },
		{ HOSTPORT_CHAIN_LOCALNET, true, false, NF_INET_PRE_ROUTING, -150,
		  { "iifname \"cali*\" ip daddr @loopback4 counter drop" } },
	};
	struct env e;
	struct policy_nft *t;

	(void)state;
	env_init(&e);
	t = env_table(&e, NULL, NULL);
	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		const struct policy_nft_chain *c = policy_nft_chain_get(t, v[i].chain);
		size_t n_rules = v[i].rules[1] ? 2 : 1;

		print_message("chain %s\n", v[i].chain);
		assert_non_null(c);
		assert_int_equal(c->base, v[i].base);
		if (c->base) {
			assert_int_equal(c->nat, v[i].nat);
			assert_int_equal(c->hooknum, v[i].hook);
			assert_int_equal(c->prio, v[i].prio);
			assert_int_equal(c->policy, NF_ACCEPT);
		}
		assert_int_equal(c->n_rules, n_rules);
		for (size_t k = 0; k < n_rules; k++) {
			char *text = NULL;

			assert_true(policy_nft_rule_to_text(c->rules[k], &text) > 0);
			assert_string_equal(text, v[i].rules[k]);
			free(text);
		}
	}
	policy_nft_free(t);
	env_done(&e);
}

/* What the batch's rules do, checked with libnftnl. */
struct seen {
	int fib_local, dnat_via_map, ct_status, masq;
};

static int expr_cb(struct nftnl_expr *e, void *data)
{
	struct seen *s = data;
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);

	if (strcmp(name, "fib") == 0 &&
	    nftnl_expr_get_u32(e, NFTNL_EXPR_FIB_RESULT) == NFT_FIB_RESULT_ADDRTYPE &&
	    nftnl_expr_get_u32(e, NFTNL_EXPR_FIB_FLAGS) == NFTA_FIB_F_DADDR)
		s->fib_local++;
	if (strcmp(name, "nat") == 0 && nftnl_expr_get_u32(e, NFTNL_EXPR_NAT_TYPE) == NFT_NAT_DNAT &&
	    nftnl_expr_get_u32(e, NFTNL_EXPR_NAT_FAMILY) == NFPROTO_IPV4 &&
	    nftnl_expr_get_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN) == NFT_REG_1 &&
	    nftnl_expr_get_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN) == NFT_REG32_01)
		s->dnat_via_map++;
	if (strcmp(name, "ct") == 0 && nftnl_expr_get_u32(e, NFTNL_EXPR_CT_KEY) == NFT_CT_STATUS)
		s->ct_status++;
	s->masq += strcmp(name, "masq") == 0;
	return 0;
}

static void test_batch_replays_to_the_desired_table(void **state)
{
	struct env e;
	struct policy_nft *t, *empty = NULL, *replayed = NULL;
	struct policy_plan *p;
	struct policy_batch *b = NULL;
	struct seen s = {};

	(void)state;
	env_init(&e);
	env_pod(&e, "a", "n1", "10.65.1.1", "[[" HP(8080, 54323) ON("127.0.0.1") "]]", false);
	env_pod(&e, "b", "n1", "10.65.1.2", "[[" HP(53, 5353) UDP "]]", false);
	t = env_table(&e, NULL, NULL);
	assert_int_equal(policy_nft_new("calico-c-nat", &empty), 0);
	p = mgrtest_plan(empty, t);
	assert_int_equal(policy_batch_build(p, 700, &b), 0);
	for (size_t off = 0; off < b->len;) {
		const struct nlmsghdr *nlh = (const void *)(b->buf + off);

		if (NFNL_MSG_TYPE(nlh->nlmsg_type) == NFT_MSG_NEWRULE) {
			struct nftnl_rule *r = nftnl_rule_alloc();

			assert_int_equal(nftnl_rule_nlmsg_parse(nlh, r), 0);
			assert_int_equal(nftnl_expr_foreach(r, expr_cb, &s), 0);
			nftnl_rule_free(r);
		}
		off += NLMSG_ALIGN(nlh->nlmsg_len);
	}
	assert_int_equal(s.fib_local, 2);
	assert_int_equal(s.dnat_via_map, 2);
	assert_int_equal(s.ct_status, 2);
	assert_int_equal(s.masq, 2);
	assert_int_equal(policy_nft_new("calico-c-nat", &replayed), 0);
	assert_int_equal(policy_batch_replay(b, replayed), 0);
	assert_int_equal(policy_nft_set_get(replayed, HOSTPORT_MAP)->kind, POLICY_SET_DNAT4);
	assert_int_equal(policy_nft_set_get(replayed, HOSTPORT_MAP_ANY)->kind, POLICY_SET_DNATANY4);
	assert_set(replayed, HOSTPORT_MAP, "127.0.0.1 . tcp . 54323 : 10.65.1.1 . 8080");
	assert_set(replayed, HOSTPORT_MAP_ANY, "udp . 5353 : 10.65.1.2 . 53");
	assert_set(replayed, HOSTPORT_SET_HAIRPIN, "10.65.1.1 . 10.65.1.1,10.65.1.2 . 10.65.1.2");
	mgrtest_assert_no_diff(replayed, t);
	policy_plan_free(p);
	policy_batch_free(b);
	policy_nft_free(replayed);
	policy_nft_free(empty);
	policy_nft_free(t);
	env_done(&e);
}

/* A pod going away deletes its elements, nothing else: the rules stay. */
static void test_pod_deleted_is_element_deletes_only(void **state)
{
	struct env e;
	struct policy_nft *before, *after;
	struct policy_plan *p;

	(void)state;
	env_init(&e);
	env_pod(&e, "a", "n1", "10.65.1.1", "[[" HP(8080, 54323) ON("127.0.0.1") "]]", false);
	env_pod(&e, "b", "n1", "10.65.1.2", "[[" HP(53, 5353) UDP "]]", false);
	before = env_table(&e, NULL, NULL);
	env_del(&e, "a");
	after = env_table(&e, NULL, NULL);
	/* as observed: the table exists with the rules' handles */
	before->table_exists = true;
	for (size_t i = 0; i < 2; i++) {
		const char *names[] = { HOSTPORT_CHAIN_DNAT, HOSTPORT_CHAIN_POSTROUTING };
		struct policy_nft_chain *c = policy_nft_chain_get(before, names[i]);

		for (size_t k = 0; k < c->n_rules; k++)
			c->rules[k]->handle = 10 + i * 10 + k;
	}
	for (size_t i = 0; i < 3; i++) {
		const char *names[] = { HOSTPORT_CHAIN_PREROUTING, HOSTPORT_CHAIN_OUTPUT,
					HOSTPORT_CHAIN_LOCALNET };

		policy_nft_chain_get(before, names[i])->rules[0]->handle = 40 + i;
	}
	p = mgrtest_plan(before, after);
	assert_int_equal(policy_plan_count(p, POLICY_OP_ELEM_DEL), 2); /* map, hairpin */
	assert_int_equal(policy_plan_count_elems(p, POLICY_OP_ELEM_DEL), 2);
	assert_int_equal(p->n_ops, 2);
	policy_plan_free(p);
	policy_nft_free(before);
	policy_nft_free(after);
	env_done(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model_reads_host_ports_of_containers),
		cmocka_unit_test(test_model_bad_host_port_costs_the_pod_its_host_ports_only),
		cmocka_unit_test(test_model_pod_equality_and_copy_see_host_ports),
		cmocka_unit_test(test_mappings_of_local_pods_with_an_address),
		cmocka_unit_test(test_two_pods_on_one_key_get_neither),
		cmocka_unit_test(test_chains_and_rules),
		cmocka_unit_test(test_batch_replays_to_the_desired_table),
		cmocka_unit_test(test_pod_deleted_is_element_deletes_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
