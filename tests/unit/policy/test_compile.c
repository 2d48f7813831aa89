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

#include "cleanup.h"
#include "ifname.h"
#include "policy/compile.h"
#include "policy/model.h"
#include "policy/nftstate.h"
#include "policy/plan.h"

/* Cluster used by most tests: namespaces a (team=x) and b (team=y), c;
 * pods a/web (app=web, http=8080), a/api (app=api, http=9090/TCP,
 * dns=53/UDP), a/cli (app=cli), b/web (app=web, http=8081), c/tool. */
static const char *cluster =
	"\"namespaces\":[{\"metadata\":{\"name\":\"a\",\"labels\":{\"team\":\"x\"}}},"
	"{\"metadata\":{\"name\":\"b\",\"labels\":{\"team\":\"y\"}}},{\"metadata\":{\"name\":\"c\"}}],"
	"\"pods\":["
	"{\"metadata\":{\"namespace\":\"a\",\"name\":\"web\",\"labels\":{\"app\":\"web\"}},"
	" \"spec\":{\"containers\":[{\"ports\":[{\"name\":\"http\",\"containerPort\":8080}]}]},"
	" \"status\":{\"podIP\":\"10.0.1.1\"}},"
	"{\"metadata\":{\"namespace\":\"a\",\"name\":\"api\",\"labels\":{\"app\":\"api\"}},"
	" \"spec\":{\"containers\":[{\"ports\":[{\"name\":\"http\",\"containerPort\":9090},"
	"  {\"name\":\"dns\",\"containerPort\":53,\"protocol\":\"UDP\"}]}]},"
	" \"status\":{\"podIPs\":[{\"ip\":\"10.0.1.2\"},{\"ip\":\"fd00::2\"}]}},"
	"{\"metadata\":{\"namespace\":\"a\",\"name\":\"cli\",\"labels\":{\"app\":\"cli\"}},"
	" \"status\":{\"podIP\":\"10.0.1.3\"}},"
	"{\"metadata\":{\"namespace\":\"b\",\"name\":\"web\",\"labels\":{\"app\":\"web\"}},"
	" \"spec\":{\"containers\":[{\"ports\":[{\"name\":\"http\",\"containerPort\":8081}]}]},"
	" \"status\":{\"podIP\":\"10.0.2.1\"}},"
	"{\"metadata\":{\"namespace\":\"c\",\"name\":\"tool\",\"labels\":{\"app\":\"tool\"}},"
	" \"status\":{\"podIP\":\"10.0.3.1\"}}]";

struct fixture {
	struct policy_model *m;
	struct policy_desired *d;
	unsigned incremental, stale; /* updates taken incrementally / recompiled */
};

/* Compiles the cluster plus @policies (a JSON list body) for @node (NULL:
 * every pod is local). */
static void build_on(struct fixture *f, const char *policies, int nflog, const char *node)
{
	struct policy_options o = { .nflog_group = nflog, .nflog_denied = true };
	size_t n = strlen(cluster) + strlen(policies) + 64;
	char *text = malloc(n), *err = NULL;
	json_t *doc;

	snprintf(text, n, "{%s,\"networkpolicies\":[%s]}", cluster, policies);
	doc = json_loads(text, 0, NULL);
	if (!doc)
		fail_msg("bad JSON: %s", text);
	assert_int_equal(policy_model_new(node, &f->m), 0);
	if (policy_model_load_json(f->m, doc, &err) < 0)
		fail_msg("load: %s", err);
	assert_int_equal(policy_compile(f->m, &o, &f->d), 0);
	json_decref(doc);
	free(text);
}

static void build(struct fixture *f, const char *policies, int nflog)
{
	build_on(f, policies, nflog, NULL);
}

static void done(struct fixture *f)
{
	policy_desired_free(f->d);
	policy_model_free(f->m);
}

static const struct policy_nft *nft(const struct fixture *f)
{
	return policy_desired_nft(f->d);
}

/* Elements of a set as sorted text; "MISSING" when there is no such set. */
static char *elems(const struct fixture *f, const char *set)
{
	const struct policy_nft_set *s = policy_nft_set_get(nft(f), set);
	char *t = NULL;

	if (!s)
		return strdup("MISSING");
	assert_int_equal(policy_nft_set_to_text(s, &t), 0);
	return t;
}

/* Rules of a chain in nft syntax, one per line; "MISSING" without the chain. */
static char *rules(const struct fixture *f, const char *chain)
{
	const struct policy_nft_chain *c = policy_nft_chain_get(nft(f), chain);
	size_t cap = 1 << 14, len = 0;
	char *out = calloc(1, cap);

	if (!c) {
		free(out);
		return strdup("MISSING");
	}
	for (size_t i = 0; i < c->n_rules; i++) {
		char *t = NULL;

		assert_true(policy_nft_rule_to_text(c->rules[i], &t) >= 0);
		/* shared sets are named by a hash (of their contents, or of their
		 * peer's selectors): show "<kind>_*" */
		static const char *const kinds[] = { "@ports_", "@blk4_", "@blk6_", "@sel4_",
						     "@sel6_" };
		for (size_t k = 0; k < 5; k++)
			for (char *h = t; (h = strstr(h, kinds[k])) != NULL; h++) {
				char *x = h + strlen(kinds[k]);

				if (strspn(x, "0123456789abcdef") >= 16) {
					x[0] = '*';
					memmove(x + 1, x + 16, strlen(x + 16) + 1);
				}
			}
		len += (size_t)snprintf(out + len, cap - len, "%s\n", t);
		free(t);
	}
	return out;
}

/* The set named by match @m of rule @r of @chain. */
static const char *set_of(const struct fixture *f, const char *chain, size_t r, size_t m)
{
	const struct policy_nft_chain *c = policy_nft_chain_get(nft(f), chain);

	assert_non_null(c);
	assert_true(r < c->n_rules && m < c->rules[r]->n_match);
	return c->rules[r]->match[m].arg;
}

#define assert_elems(f, set, want)                   \
	do {                                         \
		char *_t = elems(f, set);            \
		assert_string_equal(_t, want);       \
		free(_t);                            \
	} while (0)

#define assert_rules(f, chain, want)                 \
	do {                                         \
		char *_t = rules(f, chain);          \
		assert_string_equal(_t, want);       \
		free(_t);                            \
	} while (0)

/* The profile chain a pod's vmap element jumps to ("cc_open" when not
 * isolated), or "" when it has none (its traffic is dropped). */
static const char *profile_of(const struct fixture *f, const char *ns, const char *pod, bool ingress)
{
	static char out[64];
	const struct policy_pod *p = policy_model_get_pod(f->m, ns, pod);
	const struct policy_nft_set *s =
		policy_nft_set_get(nft(f), ingress ? "cc_to_wl" : "cc_from_wl");
	char *t = NULL, *hit;

	assert_non_null(p);
	assert_int_equal(policy_nft_set_to_text(s, &t), 0);
	out[0] = '\0';
	hit = strstr(t, p->ifname);
	if (hit)
		sscanf(hit + strlen(p->ifname), "\" : jump %63[^,]", out);
	free(t);
	return out;
}

static void test_no_policy_opens_known_pods_and_drops_unknown_interfaces(void **state)
{
	static const char *const pods[][2] = { { "a", "web" }, { "a", "api" }, { "a", "cli" },
					       { "b", "web" }, { "c", "tool" } };
	struct fixture f = {};

	(void)state;
	build(&f, "", -1);
	assert_rules(&f, "cc_fwd_egress",
		     "ct state established,related counter accept\n"
		     "iifname \"cali*\" ct state invalid counter drop\n"
		     "iifname vmap @cc_from_wl\n"
		     "iifname \"cali*\" counter drop\n");
	assert_rules(&f, "cc_fwd_ingress",
		     "ct state established,related counter accept\n"
		     "oifname \"cali*\" ct state invalid counter drop\n"
		     "oifname vmap @cc_to_wl\n"
		     "oifname \"cali*\" counter drop\n");
	assert_rules(&f, "cc_open", "accept\n");
	/* pod -> own node: its egress profile, then Calico's default Drop;
	 * IPv6 neighbour discovery and MLD first (a/api has IPv6) */
	assert_rules(&f, "cc_input",
		     "ct state established,related counter accept\n"
		     "iifname \"cali*\" ct state invalid counter drop\n"
		     "iifname \"cali*\" jump cc_wl_to_host\n");
	assert_rules(&f, "cc_wl_to_host",
		     "meta nfproto ipv6 meta l4proto 58 @th,0,8 130 counter accept\n"
		     "meta nfproto ipv6 meta l4proto 58 @th,0,8 131 counter accept\n"
		     "meta nfproto ipv6 meta l4proto 58 @th,0,8 132 counter accept\n"
		     "meta nfproto ipv6 meta l4proto 58 @th,0,8 133 counter accept\n"
		     "meta nfproto ipv6 meta l4proto 58 @th,0,8 135 counter accept\n"
		     "meta nfproto ipv6 meta l4proto 58 @th,0,8 136 counter accept\n"
		     "meta mark set meta mark | 0x00200000\n"
		     "iifname vmap @cc_from_wl\n"
		     "counter drop\n");
	assert_rules(&f, "cc_input_drop", "iifname \"cali*\" meta mark & 0x00200000 != 0 counter drop\n");
	for (size_t i = 0; i < ELEMENTSOF(pods); i++) {
		assert_string_equal(profile_of(&f, pods[i][0], pods[i][1], true), "cc_open");
		assert_string_equal(profile_of(&f, pods[i][0], pods[i][1], false), "cc_open");
	}
	assert_int_equal(policy_nft_set_size(policy_nft_set_get(nft(&f), "cc_to_wl")),
			 ELEMENTSOF(pods));
	assert_int_equal(nft(&f)->chains.n_items, 6);
	done(&f);
}

static void test_selected_pod_is_isolated_in_policy_types_only(void **state)
{
	struct fixture f = {};
	const char *prof;

	(void)state;
	build(&f, "{\"metadata\":{\"namespace\":\"a\",\"name\":\"p\"},"
		  "\"spec\":{\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}}}}",
	      -1);
	prof = profile_of(&f, "a", "web", true);
	assert_true(strncmp(prof, "ep_in_", 6) == 0);
	assert_rules(&f, prof, "jump pol_a_p_in\ncounter drop\n");
	assert_rules(&f, "pol_a_p_in", ""); /* no rules: nothing allowed */
	assert_string_equal(profile_of(&f, "a", "web", false), "cc_open"); /* egress open */
	assert_string_equal(profile_of(&f, "a", "api", true), "cc_open");  /* not selected */
	assert_string_equal(profile_of(&f, "b", "web", true), "cc_open");  /* other namespace */
	assert_null(policy_nft_chain_get(nft(&f), "pol_a_p_eg"));
	done(&f);
}

static void test_empty_pod_selector_selects_its_namespace(void **state)
{
	struct fixture f = {};

	(void)state;
	build(&f, "{\"metadata\":{\"namespace\":\"a\",\"name\":\"all\"},"
		  "\"spec\":{\"podSelector\":{},\"egress\":[{}]}}",
	      7);
	assert_string_not_equal(profile_of(&f, "a", "web", false), "cc_open");
	assert_string_not_equal(profile_of(&f, "a", "api", false), "cc_open");
	assert_string_not_equal(profile_of(&f, "a", "cli", false), "cc_open");
	assert_string_equal(profile_of(&f, "b", "web", false), "cc_open");
	assert_string_equal(profile_of(&f, "c", "tool", false), "cc_open");
	/* the three pods share one profile chain; egress present => Egress type */
	assert_string_equal(strdupa(profile_of(&f, "a", "web", false)),
			    profile_of(&f, "a", "cli", false));
	assert_rules(&f, profile_of(&f, "a", "web", false),
		     "jump pol_a_all_eg\ncounter log prefix \"calico-packet a drop egress: \" group 7 "
		     "drop\n");
	/* egress: [{}] = one rule with no peers and no ports: allow all */
	assert_rules(&f, "pol_a_all_eg", "counter accept\n");
	assert_rules(&f, "pol_a_all_in", "");
	done(&f);
}

static void test_rules_of_several_policies_or_together(void **state)
{
	struct fixture f = {};
	const char *prof;

	(void)state;
	build(&f,
	      "{\"metadata\":{\"namespace\":\"a\",\"name\":\"z-second\"},\"spec\":{\"podSelector\":"
	      "{\"matchLabels\":{\"app\":\"web\"}},\"ingress\":[{\"ports\":[{\"port\":80}]}]}},"
	      "{\"metadata\":{\"namespace\":\"a\",\"name\":\"first\"},\"spec\":{\"podSelector\":{},"
	      "\"ingress\":[{\"from\":[{\"podSelector\":{\"matchLabels\":{\"app\":\"cli\"}}}]}]}}",
	      -1);
	prof = profile_of(&f, "a", "web", true);
	assert_rules(&f, prof, "jump pol_a_first_in\njump pol_a_z-second_in\ncounter drop\n");
	/* api is selected by "first" only: a different profile */
	prof = strdupa(prof);
	assert_string_not_equal(profile_of(&f, "a", "api", true), prof);
	assert_rules(&f, profile_of(&f, "a", "api", true), "jump pol_a_first_in\ncounter drop\n");
	assert_rules(&f, "pol_a_z-second_in", "meta l4proto . th dport @ports_* counter accept\n");
	assert_elems(&f, set_of(&f, "pol_a_z-second_in", 0, 0), "tcp . 80");
	done(&f);
}

static void test_peers_pod_namespace_and_their_and(void **state)
{
	struct fixture f = {};

	(void)state;
	build(&f,
	      "{\"metadata\":{\"namespace\":\"a\",\"name\":\"p\"},\"spec\":{\"podSelector\":{},"
	      "\"ingress\":["
	      /* [0] podSelector alone: the policy's namespace */
	      "{\"from\":[{\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}}}]},"
	      /* [1] namespaceSelector {}: every namespace, every pod */
	      "{\"from\":[{\"namespaceSelector\":{}}]},"
	      /* [2] both: AND */
	      "{\"from\":[{\"namespaceSelector\":{\"matchLabels\":{\"team\":\"y\"}},"
	      "\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}}}]},"
	      /* [3] two peers: OR; matchExpressions; name label of unlabelled ns c */
	      "{\"from\":[{\"podSelector\":{\"matchExpressions\":[{\"key\":\"app\",\"operator\":\"NotIn\","
	      "\"values\":[\"web\",\"api\"]}]}},{\"namespaceSelector\":{\"matchLabels\":"
	      "{\"kubernetes.io/metadata.name\":\"c\"}}}]}]}}",
	      -1);
	/* one set pair per peer: rules [2k], [2k+1] (IPv4, IPv6) */
	assert_elems(&f, set_of(&f, "pol_a_p_in", 0, 0), "10.0.1.1");
	assert_elems(&f, set_of(&f, "pol_a_p_in", 2, 0), "10.0.1.1,10.0.1.2,10.0.1.3,10.0.2.1,10.0.3.1");
	assert_elems(&f, set_of(&f, "pol_a_p_in", 3, 0), "fd00::2");
	assert_elems(&f, set_of(&f, "pol_a_p_in", 4, 0), "10.0.2.1");
	assert_elems(&f, set_of(&f, "pol_a_p_in", 6, 0), "10.0.1.3");
	assert_elems(&f, set_of(&f, "pol_a_p_in", 8, 0), "10.0.3.1");
	assert_rules(&f, "pol_a_p_in",
		     "ip saddr @sel4_* counter accept\n"
		     "ip6 saddr @sel6_* counter accept\n"
		     "ip saddr @sel4_* counter accept\n"
		     "ip6 saddr @sel6_* counter accept\n"
		     "ip saddr @sel4_* counter accept\n"
		     "ip6 saddr @sel6_* counter accept\n"
		     "ip saddr @sel4_* counter accept\n"
		     "ip6 saddr @sel6_* counter accept\n"
		     "ip saddr @sel4_* counter accept\n"
		     "ip6 saddr @sel6_* counter accept\n");
	done(&f);
}

static void test_ip_block_except_becomes_ranges(void **state)
{
	struct fixture f = {};

	(void)state;
	build(&f,
	      "{\"metadata\":{\"namespace\":\"a\",\"name\":\"p\"},\"spec\":{\"podSelector\":{},"
	      "\"policyTypes\":[\"Egress\"],\"egress\":[{\"to\":["
	      "{\"ipBlock\":{\"cidr\":\"10.0.0.0/8\",\"except\":[\"10.1.0.0/16\",\"10.200.0.0/24\"]}},"
	      "{\"ipBlock\":{\"cidr\":\"10.1.2.0/24\"}},"
	      "{\"ipBlock\":{\"cidr\":\"0.0.0.0/0\",\"except\":[\"0.0.0.0/1\"]}},"
	      "{\"ipBlock\":{\"cidr\":\"fd00::/8\",\"except\":[\"fd00::/16\"]}}]}]}}",
	      -1);
	/* union of the blocks, excepts cut out, adjacent ranges merged */
	assert_elems(&f, set_of(&f, "pol_a_p_eg", 0, 0),
		     "10.0.0.0-10.0.255.255,10.1.2.0-10.1.2.255,10.2.0.0-10.199.255.255,"
		     "10.200.1.0-10.255.255.255,128.0.0.0-255.255.255.255");
	assert_elems(&f, set_of(&f, "pol_a_p_eg", 1, 0), "fd01::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	assert_rules(&f, "pol_a_p_eg",
		     "ip daddr @blk4_* counter accept\n"
		     "ip6 daddr @blk6_* counter accept\n");
	/* no pod peers, no peer sets */
	for (size_t i = 0; i < 2; i++)
		assert_true(strncmp(set_of(&f, "pol_a_p_eg", i, 0), "blk", 3) == 0);
	done(&f);
}

static void test_ports_protocols_ranges_merge(void **state)
{
	struct fixture f = {};

	(void)state;
	build(&f,
	      "{\"metadata\":{\"namespace\":\"a\",\"name\":\"p\"},\"spec\":{\"podSelector\":{},"
	      "\"ingress\":[{\"ports\":[{\"port\":80},{\"port\":81,\"endPort\":90},{\"port\":85},"
	      "{\"protocol\":\"UDP\",\"port\":53},{\"protocol\":\"SCTP\",\"port\":9000,\"endPort\":9010}]},"
	      "{\"ports\":[{\"protocol\":\"UDP\"}]}]}}",
	      -1);
	assert_elems(&f, set_of(&f, "pol_a_p_in", 0, 0), "tcp . 80-90,udp . 53,sctp . 9000-9010");
	assert_elems(&f, set_of(&f, "pol_a_p_in", 1, 0), "udp . 0-65535");
	assert_rules(&f, "pol_a_p_in",
		     "meta l4proto . th dport @ports_* counter accept\n"
		     "meta l4proto . th dport @ports_* counter accept\n");
	done(&f);
}

static void test_named_ports_resolve_per_destination_pod(void **state)
{
	struct fixture f = {};

	(void)state;
	build(&f,
	      /* ingress to web and api on "http": 8080 on web, 9090 on api */
	      "{\"metadata\":{\"namespace\":\"a\",\"name\":\"in\"},\"spec\":{\"podSelector\":"
	      "{\"matchExpressions\":[{\"key\":\"app\",\"operator\":\"In\",\"values\":[\"web\",\"api\"]}]},"
	      "\"ingress\":[{\"from\":[{\"podSelector\":{\"matchLabels\":{\"app\":\"cli\"}}}],"
	      "\"ports\":[{\"port\":\"http\"},{\"protocol\":\"UDP\",\"port\":\"dns\"},{\"port\":443}]}]}},"
	      /* egress from cli to web pods anywhere on "http" */
	      "{\"metadata\":{\"namespace\":\"a\",\"name\":\"out\"},\"spec\":{\"podSelector\":"
	      "{\"matchLabels\":{\"app\":\"cli\"}},\"policyTypes\":[\"Egress\"],\"egress\":[{\"to\":"
	      "[{\"namespaceSelector\":{},\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}}}],"
	      "\"ports\":[{\"port\":\"http\"}]},{\"ports\":[{\"port\":\"http\"}]}]}}",
	      -1);
	assert_elems(&f, "pol_a_in_in0_named4", "10.0.1.1 . tcp . 8080,10.0.1.2 . tcp . 9090,10.0.1.2 . udp . 53");
	assert_elems(&f, "pol_a_in_in0_named6", "fd00::2 . tcp . 9090,fd00::2 . udp . 53");
	assert_elems(&f, set_of(&f, "pol_a_in_in", 0, 1), "tcp . 443");
	assert_rules(&f, "pol_a_in_in",
		     "ip saddr @sel4_* meta l4proto . th dport @ports_* counter accept\n"
		     "ip saddr @sel4_* ip daddr . meta l4proto . th dport @pol_a_in_in0_named4 counter accept\n"
		     "ip6 saddr @sel6_* meta l4proto . th dport @ports_* counter accept\n"
		     "ip6 saddr @sel6_* ip6 daddr . meta l4proto . th dport @pol_a_in_in0_named6 counter accept\n");
	/* egress resolves against destination pods: web in a (8080) and b (8081) */
	assert_elems(&f, "pol_a_out_eg0_named4", "10.0.1.1 . tcp . 8080,10.0.2.1 . tcp . 8081");
	/* no peers: any destination pod with an "http" port */
	assert_elems(&f, "pol_a_out_eg1_named4",
		     "10.0.1.1 . tcp . 8080,10.0.1.2 . tcp . 9090,10.0.2.1 . tcp . 8081");
	assert_rules(&f, "pol_a_out_eg",
		     "ip daddr @sel4_* ip daddr . meta l4proto . th dport @pol_a_out_eg0_named4 counter accept\n"
		     "ip6 daddr @sel6_* ip6 daddr . meta l4proto . th dport @pol_a_out_eg0_named6 counter accept\n"
		     "ip daddr . meta l4proto . th dport @pol_a_out_eg1_named4 counter accept\n"
		     "ip6 daddr . meta l4proto . th dport @pol_a_out_eg1_named6 counter accept\n");
	done(&f);
}

static struct policy_pod *pod_json(const char *ns, const char *name, const char *labels,
				   const char *ip);

static void test_equal_static_sets_are_shared(void **state)
{
	struct fixture f = {};

	(void)state;
	build(&f,
	      "{\"metadata\":{\"namespace\":\"a\",\"name\":\"x\"},\"spec\":{\"podSelector\":{},"
	      "\"ingress\":[{\"ports\":[{\"port\":443},{\"port\":80}]},{\"from\":[{\"ipBlock\":"
	      "{\"cidr\":\"10.0.0.0/8\"}}]}]}},"
	      "{\"metadata\":{\"namespace\":\"b\",\"name\":\"y\"},\"spec\":{\"podSelector\":{},"
	      "\"ingress\":[{\"from\":[{\"ipBlock\":{\"cidr\":\"10.0.0.0/8\"}}],\"ports\":[{\"port\":80},"
	      "{\"port\":443}]}]}}",
	      -1);
	/* same ports (in another order) and same block: one set each */
	assert_string_equal(set_of(&f, "pol_a_x_in", 0, 0), set_of(&f, "pol_b_y_in", 0, 1));
	assert_string_equal(set_of(&f, "pol_a_x_in", 1, 0), set_of(&f, "pol_b_y_in", 0, 0));
	assert_elems(&f, set_of(&f, "pol_a_x_in", 0, 0), "tcp . 80,tcp . 443");
	done(&f);
}

static void test_ipv6_rules_only_with_ipv6_pods(void **state)
{
	struct policy_options o = { .nflog_group = -1 };
	json_t *doc = json_loads(
		"{\"pods\":[{\"metadata\":{\"namespace\":\"a\",\"name\":\"v4\"},\"status\":{\"podIP\":\"10.9.0.1\"}}],"
		"\"networkpolicies\":[{\"metadata\":{\"namespace\":\"a\",\"name\":\"p\"},\"spec\":"
		"{\"podSelector\":{},\"ingress\":[{\"from\":[{\"podSelector\":{}}]}]}}]}",
		0, NULL);
	struct fixture f = {};
	struct policy_plan *p = NULL;

	(void)state;
	assert_int_equal(policy_model_new(NULL, &f.m), 0);
	assert_int_equal(policy_model_load_json(f.m, doc, NULL), 0);
	assert_int_equal(policy_compile(f.m, &o, &f.d), 0);
	assert_rules(&f, "pol_a_p_in", "ip saddr @sel4_* counter accept\n");
	/* the first IPv6 pod needs a full compile */
	assert_int_equal(policy_model_set_pod(f.m, pod_json("a", "v6", "{}", "fd00::1"), NULL), 0);
	assert_int_equal(policy_desired_update_pod(f.d, f.m, NULL, policy_model_get_pod(f.m, "a", "v6"), &p),
			 -ESTALE);
	policy_desired_free(f.d);
	assert_int_equal(policy_compile(f.m, &o, &f.d), 0);
	assert_rules(&f, "pol_a_p_in",
		     "ip saddr @sel4_* counter accept\n"
		     "ip6 saddr @sel6_* counter accept\n");
	assert_elems(&f, set_of(&f, "pol_a_p_in", 1, 0), "fd00::1");
	done(&f);
	json_decref(doc);
}

static void test_host_network_and_remote_pods(void **state)
{
	struct policy_options o = { .nflog_group = -1 };
	json_t *doc = json_loads(
		"{\"pods\":[{\"metadata\":{\"namespace\":\"a\",\"name\":\"h\",\"labels\":{\"app\":\"x\"}},"
		"\"spec\":{\"hostNetwork\":true,\"nodeName\":\"n1\"},\"status\":{\"podIP\":\"172.16.0.1\"}},"
		"{\"metadata\":{\"namespace\":\"a\",\"name\":\"r\",\"labels\":{\"app\":\"x\"}},"
		"\"spec\":{\"nodeName\":\"n2\"},\"status\":{\"podIP\":\"10.9.0.1\"}},"
		"{\"metadata\":{\"namespace\":\"a\",\"name\":\"l\",\"labels\":{\"app\":\"x\"}},"
		"\"spec\":{\"nodeName\":\"n1\"},\"status\":{\"podIP\":\"10.9.0.2\"}}],"
		"\"networkpolicies\":[{\"metadata\":{\"namespace\":\"a\",\"name\":\"p\"},\"spec\":"
		"{\"podSelector\":{},\"ingress\":[{\"from\":[{\"podSelector\":{}}]}]}}]}",
		0, NULL);
	struct fixture f = {};

	(void)state;
	assert_int_equal(policy_model_new("n1", &f.m), 0);
	assert_int_equal(policy_model_load_json(f.m, doc, NULL), 0);
	assert_int_equal(policy_compile(f.m, &o, &f.d), 0);
	/* remote pods are peers; host-network pods are outside NetworkPolicy */
	assert_elems(&f, set_of(&f, "pol_a_p_in", 0, 0), "10.9.0.1,10.9.0.2");
	/* only the local pod gets a dispatch element */
	assert_int_equal(policy_nft_set_size(policy_nft_set_get(nft(&f), "cc_to_wl")), 1);
	assert_string_not_equal(profile_of(&f, "a", "l", true), "cc_open");
	done(&f);
	json_decref(doc);
}

/* {"metadata":{"namespace":"a","name":NAME},"spec":SPEC} with SPEC's "%s"
 * replaced by @n copies of @item (comma separated). */
static json_t *object_with_list(const char *head, const char *spec, const char *item, size_t n)
{
	size_t il = strlen(item) + 1, cap = strlen(head) + strlen(spec) + n * il + 16;
	char *list = calloc(1, n * il + 1), *text = malloc(cap);
	json_t *j;

	for (size_t i = 0; i < n; i++)
		sprintf(list + strlen(list), "%s%s", i ? "," : "", item);
	snprintf(text, cap, "%s", head);
	snprintf(text + strlen(text), cap - strlen(text), spec, list);
	j = json_loads(text, 0, NULL);
	assert_non_null(j);
	free(list);
	free(text);
	return j;
}

/* Two policy names with one 64-bit FNV-1a hash of "ns/name" (a real pair,
 * over-long so hashed): each gets its own chains, the second in key order
 * with a suffix; before, both were "pol_h7c92f700cf2fa39a_in". */
static void test_colliding_policy_names_get_distinct_chains(void **state)
{
	static const char *const suffix[2] = { "c4fb8e77f5099a39", "74a7ea9e9e848c20" };
	static const char *const fmt =
		"{\"metadata\":{\"namespace\":\"sec-collide\",\"name\":\"collide-%s-%s\"},"
		"\"spec\":{\"podSelector\":{},\"ingress\":[{\"ports\":[{\"port\":%d}]}]}}";
	char a[183], pols[2][1024], both[2100];
	struct fixture f = {};

	(void)state;
	memset(a, 'a', 182);
	a[182] = '\0';
	for (int i = 0; i < 2; i++)
		snprintf(pols[i], sizeof(pols[i]), fmt, a, suffix[i], 80 + i);
	snprintf(both, sizeof(both), "%s,%s", pols[0], pols[1]);
	build(&f, both, -1);
	assert_rules(&f, "pol_h7c92f700cf2fa39a_in",
		     "meta l4proto . th dport @ports_* counter accept\n");
	assert_rules(&f, "pol_h7c92f700cf2fa39a_1_in",
		     "meta l4proto . th dport @ports_* counter accept\n");
	assert_string_not_equal(set_of(&f, "pol_h7c92f700cf2fa39a_in", 0, 0),
				set_of(&f, "pol_h7c92f700cf2fa39a_1_in", 0, 0));
	assert_elems(&f, set_of(&f, "pol_h7c92f700cf2fa39a_in", 0, 0), "tcp . 81");
	assert_elems(&f, set_of(&f, "pol_h7c92f700cf2fa39a_1_in", 0, 0), "tcp . 80");
	done(&f);
}

static void recompile(struct fixture *f)
{
	struct policy_options o = { .nflog_group = -1 };

	policy_desired_free(f->d);
	assert_int_equal(policy_compile(f->m, &o, &f->d), 0);
}

/* Two local pods with one veth name (forced here; 44 bits of SHA-1 make
 * real pairs cheap): neither is dispatched, so the interface's traffic is
 * dropped, and the batch never holds two elements for one key. Other pods
 * keep theirs; when one goes, the other is programmed again. Both edges
 * make incremental updates stale (the other pod changes too). */
static void test_pods_sharing_a_veth_name_are_not_dispatched(void **state)
{
	json_t *j = json_loads("{\"metadata\":{\"namespace\":\"b\",\"name\":\"twin\","
			       "\"labels\":{\"app\":\"web\"}},\"status\":{\"podIP\":\"10.0.2.9\"}}",
			       0, NULL);
	struct policy_plan *plan = NULL;
	struct policy_pod *twin = NULL;
	struct fixture f = {};

	(void)state;
	build(&f, "", -1);
	assert_int_equal(policy_pod_from_json(j, &twin, NULL), 0);
	snprintf(twin->ifname, sizeof(twin->ifname), "%s",
		 policy_model_get_pod(f.m, "a", "web")->ifname);
	assert_int_equal(policy_model_set_pod(f.m, twin, NULL), 0);
	assert_true(policy_model_ifname_is_shared(f.m, policy_model_get_pod(f.m, "b", "twin")));
	assert_int_equal(policy_desired_update_pod(f.d, f.m, NULL,
						   policy_model_get_pod(f.m, "b", "twin"), &plan),
			 -ESTALE);
	recompile(&f);
	assert_string_equal(profile_of(&f, "a", "web", true), "");
	assert_string_equal(profile_of(&f, "a", "web", false), "");
	assert_string_equal(profile_of(&f, "a", "api", true), "cc_open");
	assert_int_equal(policy_nft_set_size(policy_nft_set_get(nft(&f), "cc_to_wl")), 4);
	policy_pod_free(policy_model_del_pod(f.m, "b", "twin"));
	assert_false(policy_model_ifname_is_shared(f.m, policy_model_get_pod(f.m, "a", "web")));
	recompile(&f);
	assert_string_equal(profile_of(&f, "a", "web", true), "cc_open");
	json_decref(j);
	done(&f);
}

/* A pod the model rejects (4,097 container ports, a bad IP) has no dispatch
 * element, so the base chains' trailing "cali*" drop takes its traffic
 * both ways; the other pods keep theirs. */
static void test_rejected_pod_has_no_dispatch_and_is_dropped(void **state)
{
	const char *bad_ip = "{\"metadata\":{\"namespace\":\"a\",\"name\":\"badip\"},"
			     "\"status\":{\"podIP\":\"10.0.1.300\"}}";
	json_t *v[2] = {
		object_with_list("{\"metadata\":{\"namespace\":\"a\",\"name\":\"many\"},",
				 "\"spec\":{\"containers\":[{\"ports\":[%s]}]},"
				 "\"status\":{\"podIP\":\"10.0.1.9\"}}",
				 "{\"containerPort\":80}", 4097),
		json_loads(bad_ip, 0, NULL),
	};
	struct fixture f = {};
	struct policy_pod *p = NULL;
	char ifname[IFNAMSIZ], *t = NULL;

	(void)state;
	build(&f, "", -1);
	assert_int_equal(policy_pod_from_json(v[0], &p, NULL), -EINVAL);
	assert_int_equal(policy_pod_from_json(v[1], &p, NULL), -EINVAL);
	for (size_t i = 0; i < 2; i++) {
		const char *name = json_string_value(
			json_object_get(json_object_get(v[i], "metadata"), "name"));

		assert_null(policy_model_get_pod(f.m, "a", name));
		assert_int_equal(ifname_for_workload("a", name, ifname), 0);
		for (int dir = 0; dir < 2; dir++) {
			assert_int_equal(policy_nft_set_to_text(policy_nft_set_get(nft(&f), dir ? "cc_to_wl" : "cc_from_wl"), &t), 0);
			assert_null(strstr(t, ifname));
			free(t);
		}
		json_decref(v[i]);
	}
	assert_string_equal(profile_of(&f, "a", "web", true), "cc_open");
	assert_rules(&f, "cc_fwd_ingress",
		     "ct state established,related counter accept\n"
		     "oifname \"cali*\" ct state invalid counter drop\n"
		     "oifname vmap @cc_to_wl\n"
		     "oifname \"cali*\" counter drop\n");
	done(&f);
}


/* A policy over a limit (5,000 ipBlock peers) is rejected; its stand-in
 * isolates the pods it selects in its policyTypes and allows nothing, so
 * they keep only what their other policies allow; other pods, other
 * namespaces and other policies are untouched. */
static void test_rejected_policy_isolates_its_pods_and_allows_nothing(void **state)
{
	json_t *big = object_with_list(
		"{\"metadata\":{\"namespace\":\"a\",\"name\":\"big\"},",
		"\"spec\":{\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}},"
		"\"ingress\":[{\"from\":[%s]}]}}",
		"{\"ipBlock\":{\"cidr\":\"192.0.2.0/24\"}}", 5000);
	struct policy_netpol *np = NULL;
	struct fixture f = {};
	char *err = NULL;
	const char *prof;

	(void)state;
	build(&f, "{\"metadata\":{\"namespace\":\"a\",\"name\":\"allow-cli\"},"
		  "\"spec\":{\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}},"
		  "\"ingress\":[{\"from\":[{\"podSelector\":{\"matchLabels\":{\"app\":\"cli\"}}}]}]}}",
	      -1);
	assert_int_equal(policy_netpol_from_json(big, &np, &err), -EINVAL);
	assert_non_null(strstr(err, "more than 4096 entries"));
	free(err);
	assert_int_equal(policy_netpol_deny_from_json(big, &np), 0);
	assert_true(np->rejected);
	assert_int_equal(policy_model_set_netpol(f.m, np), 0);
	recompile(&f);
	prof = profile_of(&f, "a", "web", true);
	assert_rules(&f, prof, "jump pol_a_allow-cli_in\njump pol_a_big_in\ncounter drop\n");
	assert_rules(&f, "pol_a_big_in", "");
	assert_true(policy_nft_chain_get(nft(&f), "pol_a_allow-cli_in")->n_rules > 0); /* kept */
	assert_string_equal(profile_of(&f, "a", "web", false), "cc_open"); /* Ingress only */
	assert_string_equal(profile_of(&f, "a", "api", true), "cc_open");  /* not selected */
	assert_string_equal(profile_of(&f, "b", "web", true), "cc_open");  /* other namespace */
	json_decref(big);
	done(&f);
}

/* Nothing of the rejected policy parses: it isolates every pod of its
 * namespace both ways, and no pod of another namespace. */
static void test_unparsable_policy_isolates_its_namespace_both_ways(void **state)
{
	json_t *bad = json_loads("{\"metadata\":{\"namespace\":\"a\",\"name\":\"bad\"},"
				 "\"spec\":{\"podSelector\":{\"matchExpressions\":[{\"key\":\"x\","
				 "\"operator\":\"Bogus\"}]},\"policyTypes\":[\"Sideways\"]}}",
				 0, NULL);
	static const char *const pods[] = { "web", "api", "cli" };
	struct policy_netpol *np = NULL;
	struct fixture f = {};

	(void)state;
	build(&f, "", -1);
	assert_int_equal(policy_netpol_from_json(bad, &np, NULL), -EINVAL);
	assert_int_equal(policy_netpol_deny_from_json(bad, &np), 0);
	assert_int_equal(policy_model_set_netpol(f.m, np), 0);
	recompile(&f);
	for (size_t i = 0; i < ELEMENTSOF(pods); i++)
		for (int in = 0; in < 2; in++)
			assert_rules(&f, profile_of(&f, "a", pods[i], in),
				     in ? "jump pol_a_bad_in\ncounter drop\n"
					: "jump pol_a_bad_eg\ncounter drop\n");
	assert_string_equal(profile_of(&f, "b", "web", true), "cc_open");
	assert_string_equal(profile_of(&f, "c", "tool", false), "cc_open");
	json_decref(bad);
	done(&f);
}

static char *dump(const struct policy_nft *t)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	assert_int_equal(policy_nft_dump(t, fp), 0);
	fclose(fp);
	return buf;
}

static struct policy_pod *pod_json(const char *ns, const char *name, const char *labels,
				   const char *ip)
{
	char buf[1024];
	struct policy_pod *p = NULL;
	json_t *j;

	snprintf(buf, sizeof(buf),
		 "{\"metadata\":{\"namespace\":\"%s\",\"name\":\"%s\",\"labels\":%s},"
		 "\"spec\":{\"containers\":[{\"ports\":[{\"name\":\"http\",\"containerPort\":%d}]}]},"
		 "\"status\":{\"podIP\":\"%s\"}}",
		 ns, name, labels, 7000 + (int)(strlen(name) % 5), ip);
	j = json_loads(buf, 0, NULL);
	assert_non_null(j);
	assert_int_equal(policy_pod_from_json(j, &p, NULL), 0);
	json_decref(j);
	return p;
}

/* Applies one pod change incrementally and checks the result equals a full
 * compile of the same model. Returns the plan. */
static struct policy_plan *change(struct fixture *f, const char *ns, const char *name,
				  struct policy_pod *new_pod)
{
	struct policy_options o = { .nflog_group = -1 };
	struct policy_pod *old = NULL, *copy = NULL;
	struct policy_desired *full = NULL;
	struct policy_plan *p = NULL;
	char *a, *b;
	int r;

	if (new_pod) {
		assert_int_equal(policy_pod_dup(new_pod, &copy), 0);
		assert_int_equal(policy_model_set_pod(f->m, new_pod, &old), 0);
	} else {
		old = policy_model_del_pod(f->m, ns, name);
	}
	r = policy_desired_update_pod(f->d, f->m, old, copy, &p);
	if (r == -ESTALE) { /* a policy became (ir)relevant here: recompile, as callers do */
		f->stale++;
		policy_desired_free(f->d);
		assert_int_equal(policy_compile(f->m, &o, &f->d), 0);
		assert_int_equal(policy_plan_new("calico-c", &p), 0);
	} else {
		assert_int_equal(r, 0);
		f->incremental++;
	}
	assert_int_equal(policy_compile(f->m, &o, &full), 0);
	a = dump(nft(f));
	b = dump(policy_desired_nft(full));
	assert_string_equal(a, b);
	free(a);
	free(b);
	policy_desired_free(full);
	policy_pod_free(old);
	policy_pod_free(copy);
	return p;
}

static const char *rich_policies =
	"{\"metadata\":{\"namespace\":\"a\",\"name\":\"p1\"},\"spec\":{\"podSelector\":{\"matchLabels\":"
	"{\"app\":\"web\"}},\"ingress\":[{\"from\":[{\"podSelector\":{\"matchLabels\":{\"app\":\"cli\"}}},"
	"{\"namespaceSelector\":{\"matchLabels\":{\"team\":\"y\"}}}],\"ports\":[{\"port\":\"http\"},{\"port\":80}]}],"
	"\"egress\":[{\"to\":[{\"podSelector\":{}}],\"ports\":[{\"port\":\"http\"}]}]}},"
	"{\"metadata\":{\"namespace\":\"a\",\"name\":\"p2\"},\"spec\":{\"podSelector\":{\"matchExpressions\":"
	"[{\"key\":\"app\",\"operator\":\"Exists\"}]},\"ingress\":[{\"from\":[{\"namespaceSelector\":{},"
	"\"podSelector\":{\"matchLabels\":{\"role\":\"mon\"}}}]}]}},"
	"{\"metadata\":{\"namespace\":\"b\",\"name\":\"p3\"},\"spec\":{\"podSelector\":{},\"policyTypes\":"
	"[\"Egress\"],\"egress\":[{\"to\":[{\"ipBlock\":{\"cidr\":\"10.0.0.0/8\"}}]}]}}";

static void test_incremental_pod_changes_equal_full_compile(void **state)
{
	static const struct {
		const char *ns, *name, *labels, *ip; /* labels NULL: delete */
	} steps[] = {
		{ "a", "new1", "{\"app\":\"cli\"}", "10.0.1.50" },
		{ "a", "new1", "{\"app\":\"web\"}", "10.0.1.50" },	/* flips selection */
		{ "a", "new1", "{\"app\":\"web\",\"role\":\"mon\"}", "10.0.1.51" }, /* new IP */
		{ "b", "mon", "{\"role\":\"mon\"}", "10.0.2.50" },
		{ "a", "web", "{\"app\":\"web\"}", "10.0.1.1" },	/* unchanged re-set */
		{ "a", "new1", NULL, NULL },
		{ "a", "cli", NULL, NULL },
		{ "c", "tool", "{}", "10.0.3.1" },
		{ "a", "x", "{\"app\":\"web\"}", "10.0.1.60" },
		{ "a", "x", "{\"app\":\"web\"}", "10.0.1.60" },
		{ "a", "web", NULL, NULL },
		{ "a", "x", NULL, NULL },
	};
	struct fixture f = {};

	(void)state;
	build(&f, rich_policies, -1);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		struct policy_pod *p = steps[i].labels ? pod_json(steps[i].ns, steps[i].name,
								   steps[i].labels, steps[i].ip)
						       : NULL;

		policy_plan_free(change(&f, steps[i].ns, steps[i].name, p));
	}
	/* No node: every policy is compiled, every step is incremental. */
	assert_int_equal(f.stale, 0);
	assert_int_equal(f.incremental, sizeof(steps) / sizeof(steps[0]));
	done(&f);
}

static struct policy_pod *pod_on(const char *node, const char *ns, const char *name,
				 const char *labels, const char *ip)
{
	struct policy_pod *p = pod_json(ns, name, labels, ip);

	p->node = strdup(node);
	assert_non_null(p->node);
	return p;
}

/* Whether @p has an op of @kind on @name. */
static bool plan_has(const struct policy_plan *p, enum policy_op_kind kind, const char *name)
{
	for (size_t i = 0; i < p->n_ops; i++)
		if (p->ops[i].kind == kind && strcmp(p->ops[i].name, name) == 0)
			return true;
	return false;
}

/* With a node, only the policies of its own pods are compiled. A local pod
 * that makes a policy relevant compiles just that policy into the update's
 * plan (its chains, its sets with their elements); one that makes it
 * irrelevant drops them. Each step equals a full compile (change()). */
static void test_only_local_pods_policies(void **state)
{
	struct fixture f = {};
	struct policy_plan *p;
	char *peers; /* p1's first peer set (app=cli) */

	(void)state;
	build_on(&f, rich_policies, -1, "n1");
	assert_null(policy_nft_chain_get(nft(&f), "pol_a_p1_in"));
	assert_null(policy_nft_chain_get(nft(&f), "pol_b_p3_eg"));
	assert_int_equal(policy_desired_n_policies(f.d), 0);
	p = change(&f, "a", "lw", pod_on("n1", "a", "lw", "{\"app\":\"web\"}", "10.0.1.70"));
	assert_int_equal(policy_desired_n_policies(f.d), 2); /* p1, p2: active local policies */
	assert_non_null(policy_nft_chain_get(nft(&f), "pol_a_p1_in"));
	assert_non_null(policy_nft_chain_get(nft(&f), "pol_a_p2_in"));
	assert_null(policy_nft_chain_get(nft(&f), "pol_b_p3_eg"));
	assert_true(plan_has(p, POLICY_OP_CHAIN_ADD, "pol_a_p1_in"));
	assert_true(plan_has(p, POLICY_OP_CHAIN_ADD, "pol_a_p2_in"));
	peers = strdup(set_of(&f, "pol_a_p1_in", 0, 0));
	assert_true(plan_has(p, POLICY_OP_SET_ADD, peers));
	/* the new set comes with its contents: a/cli (app=cli) is a p1 peer */
	assert_true(plan_has(p, POLICY_OP_ELEM_ADD, peers));
	assert_int_equal(policy_plan_count(p, POLICY_OP_CHAIN_DEL), 0);
	policy_plan_free(p);
	/* a remote pod joins p1's peers: elements only */
	p = change(&f, "a", "cli", pod_json("a", "cli", "{\"app\":\"cli\",\"role\":\"mon\"}", "10.0.1.3"));
	for (size_t i = 0; i < p->n_ops; i++)
		assert_true(p->ops[i].kind == POLICY_OP_ELEM_ADD || p->ops[i].kind == POLICY_OP_ELEM_DEL);
	policy_plan_free(p);
	/* the local pod goes: p1 and p2 are no longer this node's */
	p = change(&f, "a", "lw", NULL);
	assert_int_equal(policy_desired_n_policies(f.d), 0);
	assert_null(policy_nft_chain_get(nft(&f), "pol_a_p1_in"));
	assert_true(plan_has(p, POLICY_OP_CHAIN_DEL, "pol_a_p1_in"));
	assert_true(plan_has(p, POLICY_OP_CHAIN_DEL, "pol_a_p2_in"));
	assert_true(plan_has(p, POLICY_OP_SET_DEL, peers));
	assert_false(plan_has(p, POLICY_OP_ELEM_DEL, peers));
	free(peers);
	policy_plan_free(p);
	/* and comes back with another label: p2 only */
	policy_plan_free(change(&f, "a", "lw", pod_on("n1", "a", "lw", "{\"app\":\"db\"}", "10.0.1.70")));
	assert_null(policy_nft_chain_get(nft(&f), "pol_a_p1_in"));
	assert_non_null(policy_nft_chain_get(nft(&f), "pol_a_p2_in"));
	assert_int_equal(policy_desired_n_policies(f.d), 1);
	/* every step was incremental */
	assert_int_equal(f.stale, 0);
	assert_int_equal(f.incremental, 4);
	done(&f);
}

/* Peers with the same selectors in the same scope share one set pair, in
 * any policy; a pod leaving it is one element op; on a node, the set stays
 * while any compiled policy uses it (each step equals a full compile). */
static const char *same_peer_policies =
	"{\"metadata\":{\"namespace\":\"a\",\"name\":\"q1\"},\"spec\":{\"podSelector\":{\"matchLabels\":"
	"{\"app\":\"web\"}},\"ingress\":[{\"from\":[{\"podSelector\":{\"matchLabels\":{\"app\":\"cli\"}}}]}]}},"
	"{\"metadata\":{\"namespace\":\"a\",\"name\":\"q2\"},\"spec\":{\"podSelector\":{\"matchLabels\":"
	"{\"app\":\"api\"}},\"ingress\":[{\"ports\":[{\"port\":80}],\"from\":[{\"podSelector\":"
	"{\"matchLabels\":{\"app\":\"cli\"}}}]}]}},"
	"{\"metadata\":{\"namespace\":\"b\",\"name\":\"q3\"},\"spec\":{\"podSelector\":{},\"ingress\":"
	"[{\"from\":[{\"podSelector\":{\"matchLabels\":{\"app\":\"cli\"}}}]}]}}";

static void test_equal_peers_share_one_set(void **state)
{
	struct fixture f = {};
	struct policy_plan *p;
	char *shared;

	(void)state;
	build(&f, same_peer_policies, -1);
	shared = strdup(set_of(&f, "pol_a_q1_in", 0, 0));
	assert_string_equal(set_of(&f, "pol_a_q2_in", 0, 0), shared);
	/* no namespaceSelector: the policy's namespace is part of the peer */
	assert_string_not_equal(set_of(&f, "pol_b_q3_in", 0, 0), shared);
	assert_elems(&f, shared, "10.0.1.3");
	assert_elems(&f, set_of(&f, "pol_b_q3_in", 0, 0), "");
	p = change(&f, "a", "cli", pod_json("a", "cli", "{\"app\":\"other\"}", "10.0.1.3"));
	assert_int_equal(p->n_ops, 1);
	assert_true(plan_has(p, POLICY_OP_ELEM_DEL, shared));
	policy_plan_free(p);
	done(&f);

	/* on node n1: q1, then q2 become relevant; q1, then q2 stop being so */
	build_on(&f, same_peer_policies, -1, "n1");
	p = change(&f, "a", "w", pod_on("n1", "a", "w", "{\"app\":\"web\"}", "10.0.1.70"));
	assert_true(plan_has(p, POLICY_OP_SET_ADD, shared));
	policy_plan_free(p);
	p = change(&f, "a", "i", pod_on("n1", "a", "i", "{\"app\":\"api\"}", "10.0.1.71"));
	assert_true(plan_has(p, POLICY_OP_CHAIN_ADD, "pol_a_q2_in"));
	assert_false(plan_has(p, POLICY_OP_SET_ADD, shared));
	policy_plan_free(p);
	p = change(&f, "a", "w", NULL);
	assert_true(plan_has(p, POLICY_OP_CHAIN_DEL, "pol_a_q1_in"));
	assert_false(plan_has(p, POLICY_OP_SET_DEL, shared));
	policy_plan_free(p);
	/* the set outlived the policy that made it: still kept current */
	p = change(&f, "a", "cli2", pod_json("a", "cli2", "{\"app\":\"cli\"}", "10.0.1.72"));
	assert_true(plan_has(p, POLICY_OP_ELEM_ADD, shared));
	policy_plan_free(p);
	p = change(&f, "a", "i", NULL);
	assert_true(plan_has(p, POLICY_OP_SET_DEL, shared));
	policy_plan_free(p);
	assert_null(policy_nft_set_get(nft(&f), shared));
	assert_int_equal(f.stale, 0);
	free(shared);
	done(&f);
}

static void test_label_change_is_only_element_ops(void **state)
{
	struct fixture f = {};
	struct policy_plan *p;

	(void)state;
	build(&f, rich_policies, -1);
	/* the same pod with a named port (pod_json gives one): named sets change */
	policy_plan_free(change(&f, "a", "cli", pod_json("a", "cli", "{\"app\":\"cli\"}", "10.0.1.3")));
	/* a/cli gains role=mon: joins p2's peer set; a/cli keeps its profile */
	p = change(&f, "a", "cli", pod_json("a", "cli", "{\"app\":\"cli\",\"role\":\"mon\"}", "10.0.1.3"));
	assert_int_equal(policy_plan_count(p, POLICY_OP_ELEM_ADD), 1);
	assert_int_equal(policy_plan_count_elems(p, POLICY_OP_ELEM_ADD), 1);
	assert_int_equal(p->n_ops, 1);
	assert_string_equal(p->ops[0].name, set_of(&f, "pol_a_p2_in", 0, 0));
	policy_plan_free(p);
	/* a/cli becomes app=web: leaves p1's peer set, joins p1's selection; its
	 * profile (p1+p2) already exists for a/web: element changes only */
	p = change(&f, "a", "cli", pod_json("a", "cli", "{\"app\":\"web\",\"role\":\"mon\"}", "10.0.1.3"));
	for (size_t i = 0; i < p->n_ops; i++)
		if (p->ops[i].kind != POLICY_OP_ELEM_ADD && p->ops[i].kind != POLICY_OP_ELEM_DEL)
			fail_msg("op %zu is %s", i, policy_op_kind_to_string(p->ops[i].kind));
	assert_true(policy_plan_count_elems(p, POLICY_OP_ELEM_DEL) >= 2); /* p1 peers, old vmap */
	policy_plan_free(p);
	/* nothing changes: empty plan */
	p = change(&f, "a", "cli", pod_json("a", "cli", "{\"app\":\"web\",\"role\":\"mon\"}", "10.0.1.3"));
	assert_true(policy_plan_is_empty(p));
	policy_plan_free(p);
	done(&f);
}

static void test_update_after_policy_change_is_stale(void **state)
{
	struct fixture f = {};
	struct policy_plan *p = NULL;

	(void)state;
	build(&f, rich_policies, -1);
	assert_int_equal(policy_model_del_netpol(f.m, "a", "p1"), 0);
	assert_int_equal(policy_desired_update_pod(f.d, f.m, NULL, NULL, &p), -ESTALE);
	assert_null(p);
	done(&f);
}

static void test_comments_identify_policy_rule_and_content(void **state)
{
	struct fixture f = {};
	const struct policy_nft_chain *c;
	char label[POLICY_COMMENT_MAX];

	(void)state;
	build(&f, rich_policies, -1);
	c = policy_nft_chain_get(nft(&f), "pol_a_p1_in");
	assert_non_null(c);
	assert_true(c->n_rules >= 2);
	policy_nft_comment_label(c->rules[0]->comment, label, sizeof(label));
	assert_string_equal(label, "a/p1 ingress[0]");
	/* same label, different content: different comments (rule identity) */
	assert_string_not_equal(c->rules[0]->comment, c->rules[1]->comment);
	assert_true(strlen(c->rules[0]->comment) < POLICY_COMMENT_MAX);
	done(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_policy_opens_known_pods_and_drops_unknown_interfaces),
		cmocka_unit_test(test_selected_pod_is_isolated_in_policy_types_only),
		cmocka_unit_test(test_empty_pod_selector_selects_its_namespace),
		cmocka_unit_test(test_rules_of_several_policies_or_together),
		cmocka_unit_test(test_peers_pod_namespace_and_their_and),
		cmocka_unit_test(test_ip_block_except_becomes_ranges),
		cmocka_unit_test(test_ports_protocols_ranges_merge),
		cmocka_unit_test(test_named_ports_resolve_per_destination_pod),
		cmocka_unit_test(test_equal_static_sets_are_shared),
		cmocka_unit_test(test_ipv6_rules_only_with_ipv6_pods),
		cmocka_unit_test(test_host_network_and_remote_pods),
		cmocka_unit_test(test_incremental_pod_changes_equal_full_compile),
		cmocka_unit_test(test_only_local_pods_policies),
		cmocka_unit_test(test_label_change_is_only_element_ops),
		cmocka_unit_test(test_equal_peers_share_one_set),
		cmocka_unit_test(test_update_after_policy_change_is_stale),
		cmocka_unit_test(test_comments_identify_policy_rule_and_content),
		cmocka_unit_test(test_colliding_policy_names_get_distinct_chains),
		cmocka_unit_test(test_rejected_pod_has_no_dispatch_and_is_dropped),
		cmocka_unit_test(test_pods_sharing_a_veth_name_are_not_dispatched),
		cmocka_unit_test(test_rejected_policy_isolates_its_pods_and_allows_nothing),
		cmocka_unit_test(test_unparsable_policy_isolates_its_namespace_both_ways),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
