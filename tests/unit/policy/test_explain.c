/* policy_explain: a table of flows over one cluster, each with the policies
 * in force, the verdict and what decided it per direction, written as
 * "<egress of source>|<ingress of destination>" where each side is
 *   "-"            not filtered (not a pod, or a hostNetwork pod)
 *   "open"         no policy of that direction selects the pod
 *   "deny"         isolated and no rule matches
 *   "ns/name dir[i]"  the first rule that matches. */
#include <errno.h>
#include <netinet/in.h>
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
#include "policy/explain.h"
#include "policy/model.h"

/* The cluster of tests/system/policy (cluster.json), plus a hostNetwork pod
 * and an IPv6 pod. */
static const char *cluster =
	"\"namespaces\":[{\"metadata\":{\"name\":\"prod\",\"labels\":{\"env\":\"prod\"}}},"
	"{\"metadata\":{\"name\":\"dev\",\"labels\":{\"env\":\"dev\"}}},"
	"{\"metadata\":{\"name\":\"ops\",\"labels\":{\"env\":\"ops\",\"team\":\"infra\"}}}],"
	"\"pods\":["
	"{\"metadata\":{\"namespace\":\"prod\",\"name\":\"web\",\"labels\":{\"app\":\"web\",\"tier\":\"front\"}},"
	" \"spec\":{\"containers\":[{\"ports\":[{\"name\":\"http\",\"containerPort\":8080}]}]},"
	" \"status\":{\"podIP\":\"10.65.1.1\"}},"
	"{\"metadata\":{\"namespace\":\"prod\",\"name\":\"api\",\"labels\":{\"app\":\"api\",\"tier\":\"back\"}},"
	" \"spec\":{\"containers\":[{\"ports\":[{\"name\":\"http\",\"containerPort\":9090},"
	"  {\"name\":\"stats\",\"containerPort\":8080,\"protocol\":\"UDP\"}]}]},"
	" \"status\":{\"podIP\":\"10.65.1.2\"}},"
	"{\"metadata\":{\"namespace\":\"prod\",\"name\":\"db\",\"labels\":{\"app\":\"db\",\"tier\":\"back\"}},"
	" \"status\":{\"podIP\":\"10.65.1.3\"}},"
	"{\"metadata\":{\"namespace\":\"dev\",\"name\":\"web\",\"labels\":{\"app\":\"web\"}},"
	" \"spec\":{\"containers\":[{\"ports\":[{\"name\":\"http\",\"containerPort\":9090}]}]},"
	" \"status\":{\"podIP\":\"10.65.2.1\"}},"
	"{\"metadata\":{\"namespace\":\"dev\",\"name\":\"tool\",\"labels\":{\"app\":\"tool\"}},"
	" \"status\":{\"podIP\":\"10.65.2.2\"}},"
	"{\"metadata\":{\"namespace\":\"ops\",\"name\":\"mon\",\"labels\":{\"app\":\"mon\",\"role\":\"monitor\"}},"
	" \"status\":{\"podIP\":\"10.65.3.1\"}},"
	"{\"metadata\":{\"namespace\":\"prod\",\"name\":\"agent\",\"labels\":{\"app\":\"web\"}},"
	" \"spec\":{\"hostNetwork\":true},\"status\":{\"podIP\":\"192.168.50.1\"}},"
	"{\"metadata\":{\"namespace\":\"dev\",\"name\":\"v6\",\"labels\":{\"app\":\"v6\"}},"
	" \"status\":{\"podIPs\":[{\"ip\":\"fd00::6\"}]}}]";

#define EXT "192.168.50.2"

/* Policies, by the name the vectors use. */
#define P(NS, NAME, SPEC) \
	"{\"metadata\":{\"namespace\":\"" NS "\",\"name\":\"" NAME "\"},\"spec\":" SPEC "}"
#define DENY_PROD P("prod", "deny", "{\"podSelector\":{}}")
#define WEB_FROM_API                                                                      \
	P("prod", "web", "{\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}},\"ingress\":[{\"from\":" \
			 "[{\"podSelector\":{\"matchLabels\":{\"app\":\"api\"}}}]}]}")
#define DEV_DENY_EGRESS P("dev", "deny-eg", "{\"podSelector\":{},\"policyTypes\":[\"Egress\"]}")

struct vec {
	const char *name;
	const char *policies; /* JSON list body */
	const char *src, *dst; /* "ns/name" or an address */
	const char *flow;      /* "tcp/8080" */
	bool allowed;
	const char *why;
};

static const struct vec vecs[] = {
	{ "open", "", "prod/api", "prod/web", "tcp/8080", true, "open|open" },
	{ "deny-ingress", DENY_PROD, "prod/api", "prod/web", "tcp/8080", false, "open|deny" },
	{ "deny-ingress-other-ns-egress-open", DENY_PROD, "prod/web", "dev/web", "tcp/8080", true,
	  "open|open" },
	{ "external-source-denied", DENY_PROD, EXT, "prod/db", "udp/9090", false, "-|deny" },
	{ "to-external-not-filtered-at-dst", DEV_DENY_EGRESS, "dev/web", EXT, "tcp/80", false,
	  "deny|-" },
	{ "egress-only", DEV_DENY_EGRESS, "prod/web", "dev/web", "tcp/8080", true, "open|open" },
	{ "from-api-allowed", WEB_FROM_API, "prod/api", "prod/web", "tcp/8080", true,
	  "open|prod/web ingress[0]" },
	{ "from-db-denied", WEB_FROM_API, "prod/db", "prod/web", "tcp/8080", false, "open|deny" },
	{ "deny-plus-allow: second policy allows", DENY_PROD "," WEB_FROM_API, "prod/api",
	  "prod/web", "tcp/1", true, "open|prod/web ingress[0]" },
	{ "ns-selector", P("prod", "web", "{\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}},"
			   "\"ingress\":[{\"from\":[{\"namespaceSelector\":{\"matchLabels\":"
			   "{\"env\":\"dev\"}}}]}]}"),
	  "dev/tool", "prod/web", "tcp/8080", true, "open|prod/web ingress[0]" },
	{ "ns-and-pod-selector: wrong pod", P("prod", "web", "{\"podSelector\":{\"matchLabels\":"
			   "{\"app\":\"web\"}},\"ingress\":[{\"from\":[{\"namespaceSelector\":"
			   "{\"matchLabels\":{\"env\":\"dev\"}},\"podSelector\":{\"matchLabels\":"
			   "{\"app\":\"tool\"}}}]}]}"),
	  "dev/web", "prod/web", "tcp/8080", false, "open|deny" },
	{ "ns-name-label", P("prod", "web", "{\"podSelector\":{},\"ingress\":[{\"from\":"
			     "[{\"namespaceSelector\":{\"matchLabels\":{\"kubernetes.io/metadata.name\":"
			     "\"ops\"}}}]}]}"),
	  "ops/mon", "prod/db", "tcp/8080", true, "open|prod/web ingress[0]" },
	{ "port-tcp-default: udp denied", P("prod", "web", "{\"podSelector\":{},\"ingress\":"
			     "[{\"ports\":[{\"port\":8080}]}]}"),
	  "dev/tool", "prod/web", "udp/8080", false, "open|deny" },
	{ "port-tcp-default: tcp allowed", P("prod", "web", "{\"podSelector\":{},\"ingress\":"
			     "[{\"ports\":[{\"port\":8080}]}]}"),
	  "dev/tool", "prod/web", "tcp/8080", true, "open|prod/web ingress[0]" },
	{ "endport inside", P("prod", "web", "{\"podSelector\":{},\"ingress\":[{\"ports\":"
			      "[{\"port\":8000,\"endPort\":8100}]}]}"),
	  "dev/tool", "prod/web", "tcp/8100", true, "open|prod/web ingress[0]" },
	{ "endport outside", P("prod", "web", "{\"podSelector\":{},\"ingress\":[{\"ports\":"
			       "[{\"port\":8000,\"endPort\":8100}]}]}"),
	  "dev/tool", "prod/web", "tcp/8101", false, "open|deny" },
	{ "protocol only", P("prod", "web", "{\"podSelector\":{},\"ingress\":[{\"ports\":"
			     "[{\"protocol\":\"UDP\"}]}]}"),
	  "dev/tool", "prod/api", "udp/9999", true, "open|prod/web ingress[0]" },
	{ "named port per pod: web http=8080", P("prod", "http", "{\"podSelector\":{},\"ingress\":"
			     "[{\"ports\":[{\"port\":\"http\"}]}]}"),
	  "dev/tool", "prod/web", "tcp/8080", true, "open|prod/http ingress[0]" },
	{ "named port per pod: api http=9090, not 8080", P("prod", "http", "{\"podSelector\":{},"
			     "\"ingress\":[{\"ports\":[{\"port\":\"http\"}]}]}"),
	  "dev/tool", "prod/api", "tcp/8080", false, "open|deny" },
	{ "named port udp", P("prod", "stats", "{\"podSelector\":{},\"ingress\":[{\"ports\":"
			      "[{\"protocol\":\"UDP\",\"port\":\"stats\"}]}]}"),
	  "dev/tool", "prod/api", "udp/8080", true, "open|prod/stats ingress[0]" },
	{ "named port missing on pod", P("prod", "http", "{\"podSelector\":{},\"ingress\":"
			     "[{\"ports\":[{\"port\":\"http\"}]}]}"),
	  "dev/tool", "prod/db", "tcp/8080", false, "open|deny" },
	{ "named port egress resolves on destination", P("dev", "tool", "{\"podSelector\":"
			     "{\"matchLabels\":{\"app\":\"tool\"}},\"policyTypes\":[\"Egress\"],"
			     "\"egress\":[{\"ports\":[{\"port\":\"http\"}]}]}"),
	  "dev/tool", "dev/web", "tcp/9090", true, "dev/tool egress[0]|open" },
	{ "named port egress: other pod's number", P("dev", "tool", "{\"podSelector\":"
			     "{\"matchLabels\":{\"app\":\"tool\"}},\"policyTypes\":[\"Egress\"],"
			     "\"egress\":[{\"ports\":[{\"port\":\"http\"}]}]}"),
	  "dev/tool", "dev/web", "tcp/8080", false, "deny|open" },
	{ "named port egress with pod peers limits the pods", P("dev", "tool", "{\"podSelector\":"
			     "{\"matchLabels\":{\"app\":\"tool\"}},\"policyTypes\":[\"Egress\"],"
			     "\"egress\":[{\"to\":[{\"podSelector\":{}}],\"ports\":[{\"port\":\"http\"}]}]}"),
	  "dev/tool", "prod/web", "tcp/8080", false, "deny|open" },
	{ "ipblock from external", P("prod", "web", "{\"podSelector\":{},\"ingress\":[{\"from\":"
			     "[{\"ipBlock\":{\"cidr\":\"192.168.50.0/24\"}}]}]}"),
	  EXT, "prod/web", "tcp/8080", true, "-|prod/web ingress[0]" },
	{ "ipblock matches pod addresses", P("ops", "mon", "{\"podSelector\":{},\"ingress\":"
			     "[{\"from\":[{\"ipBlock\":{\"cidr\":\"10.65.1.0/24\"}}]}]}"),
	  "prod/db", "ops/mon", "tcp/8080", true, "open|ops/mon ingress[0]" },
	{ "ipblock except", P("prod", "web", "{\"podSelector\":{},\"ingress\":[{\"from\":"
			     "[{\"ipBlock\":{\"cidr\":\"10.65.0.0/16\",\"except\":[\"10.65.2.0/24\"]}}]}]}"),
	  "dev/tool", "prod/web", "tcp/8080", false, "open|deny" },
	{ "ipblock except other range", P("prod", "web", "{\"podSelector\":{},\"ingress\":[{\"from\":"
			     "[{\"ipBlock\":{\"cidr\":\"10.65.0.0/16\",\"except\":[\"10.65.2.0/24\"]}}]}]}"),
	  "ops/mon", "prod/web", "tcp/8080", true, "open|prod/web ingress[0]" },
	{ "egress except", P("dev", "out", "{\"podSelector\":{},\"egress\":[{\"to\":[{\"ipBlock\":"
			     "{\"cidr\":\"0.0.0.0/0\",\"except\":[\"10.65.1.0/24\"]}}]}]}"),
	  "dev/tool", "prod/web", "tcp/8080", false, "deny|open" },
	{ "egress and ingress both needed", P("prod", "api", "{\"podSelector\":{\"matchLabels\":"
			     "{\"app\":\"api\"}},\"policyTypes\":[\"Egress\"],\"egress\":[{\"to\":"
			     "[{\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}}}],\"ports\":"
			     "[{\"port\":8080}]}]}") "," WEB_FROM_API,
	  "prod/api", "prod/web", "tcp/8080", true, "prod/api egress[0]|prod/web ingress[0]" },
	{ "egress allowed, ingress denied", P("prod", "api", "{\"podSelector\":{\"matchLabels\":"
			     "{\"app\":\"api\"}},\"policyTypes\":[\"Egress\"],\"egress\":[{}]}") ","
			     DENY_PROD,
	  "prod/api", "prod/web", "tcp/8080", false, "prod/api egress[0]|deny" },
	{ "hostNetwork pod is never filtered", DENY_PROD, "dev/tool", "prod/agent", "tcp/8080", true,
	  "open|-" },
	{ "hostNetwork pod is no pod peer", WEB_FROM_API "," P("prod", "w2", "{\"podSelector\":"
			     "{\"matchLabels\":{\"app\":\"web\"}},\"ingress\":[{\"from\":[{\"podSelector\":"
			     "{\"matchLabels\":{\"app\":\"web\"}}}]}]}"),
	  "prod/agent", "prod/web", "tcp/8080", false, "-|deny" },
	{ "empty ingress list isolates", P("dev", "web", "{\"podSelector\":{\"matchLabels\":"
			     "{\"app\":\"web\"}},\"ingress\":[]}"),
	  "prod/web", "dev/web", "tcp/9090", false, "open|deny" },
	{ "empty rule allows all", P("prod", "open", "{\"podSelector\":{},\"ingress\":[{}]}"),
	  EXT, "prod/db", "sctp/1", true, "-|prod/open ingress[0]" },
	{ "ipv6 pod peers", P("dev", "v6", "{\"podSelector\":{\"matchLabels\":{\"app\":\"v6\"}},"
			     "\"ingress\":[{\"from\":[{\"ipBlock\":{\"cidr\":\"fd00::/64\"}}]}]}"),
	  "fd00::99", "dev/v6", "tcp/80", true, "-|dev/v6 ingress[0]" },
	{ "ipv6 outside block", P("dev", "v6", "{\"podSelector\":{\"matchLabels\":{\"app\":\"v6\"}},"
			     "\"ingress\":[{\"from\":[{\"ipBlock\":{\"cidr\":\"fd00::/64\"}}]}]}"),
	  "fd01::1", "dev/v6", "tcp/80", false, "-|deny" },
	{ "second rule matches", P("prod", "web", "{\"podSelector\":{},\"ingress\":[{\"ports\":"
			     "[{\"port\":1}]},{\"from\":[{\"podSelector\":{\"matchLabels\":{\"app\":"
			     "\"db\"}}}]}]}"),
	  "prod/db", "prod/web", "tcp/8080", true, "open|prod/web ingress[1]" },
};

static struct policy_model *model_with(const char *policies)
{
	size_t n = strlen(cluster) + strlen(policies) + 64;
	_cleanup_free_ char *text = malloc(n), *err = NULL;
	struct policy_model *m = NULL;
	json_t *doc;

	snprintf(text, n, "{%s,\"networkpolicies\":[%s]}", cluster, policies);
	doc = json_loads(text, 0, NULL);
	if (!doc)
		fail_msg("bad JSON: %s", text);
	assert_int_equal(policy_model_new(NULL, &m), 0);
	if (policy_model_load_json(m, doc, &err) < 0)
		fail_msg("load: %s", err);
	json_decref(doc);
	return m;
}

static void endpoint(const struct policy_model *m, const char *s, const struct policy_pod **pod,
		     struct in_prefix *addr)
{
	char ns[64];
	const char *slash = strchr(s, '/');

	*pod = NULL;
	if (!slash) {
		assert_int_equal(prefix_parse(s, PREFIX_ADDR_ONLY, addr), 0);
		return;
	}
	snprintf(ns, sizeof(ns), "%.*s", (int)(slash - s), s);
	*pod = policy_model_get_pod(m, ns, slash + 1);
	assert_non_null(*pod);
}

static void side(const struct policy_explain_dir *d, enum policy_dir dir, char *buf, size_t size)
{
	if (!d->filtered) {
		snprintf(buf, size, "-");
		return;
	}
	if (!d->isolated) {
		snprintf(buf, size, "open");
		return;
	}
	for (size_t i = 0; i < d->n_rules; i++)
		if (d->rules[i].peer_ok && d->rules[i].port_ok) {
			snprintf(buf, size, "%s %s[%zu]", d->rules[i].np->key,
				 policy_dir_to_string(dir), d->rules[i].rule);
			return;
		}
	snprintf(buf, size, "deny");
}

static void test_explain_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(vecs); i++) {
		const struct vec *v = &vecs[i];
		struct policy_model *m = model_with(v->policies);
		struct policy_flow f = {};
		struct policy_explain e;
		char eg[128], in[128], why[300], proto[8];
		unsigned port;

		endpoint(m, v->src, &f.src, &f.saddr);
		endpoint(m, v->dst, &f.dst, &f.daddr);
		assert_int_equal(sscanf(v->flow, "%7[a-z]/%u", proto, &port), 2);
		f.proto = !strcmp(proto, "tcp") ? IPPROTO_TCP
			  : !strcmp(proto, "udp") ? IPPROTO_UDP : IPPROTO_SCTP;
		f.port = (uint16_t)port;
		assert_int_equal(policy_flow_addresses(&f), 0);
		assert_int_equal(policy_explain(m, &f, &e), 0);
		side(&e.dir[POLICY_DIR_EGRESS], POLICY_DIR_EGRESS, eg, sizeof(eg));
		side(&e.dir[POLICY_DIR_INGRESS], POLICY_DIR_INGRESS, in, sizeof(in));
		snprintf(why, sizeof(why), "%s|%s", eg, in);
		if (e.allowed != v->allowed || strcmp(why, v->why) != 0)
			fail_msg("%s: got %s '%s', want %s '%s'", v->name,
				 e.allowed ? "allowed" : "denied", why,
				 v->allowed ? "allowed" : "denied", v->why);
		policy_explain_done(&e);
		policy_model_free(m);
	}
}

/* Per-rule detail: which side of a rule failed. */
static void test_rule_detail(void **state)
{
	struct policy_model *m = model_with(P("prod", "web", "{\"podSelector\":{},\"ingress\":["
					      "{\"from\":[{\"podSelector\":{\"matchLabels\":"
					      "{\"app\":\"api\"}}}],\"ports\":[{\"port\":9090}]},"
					      "{\"ports\":[{\"port\":8080}]}]}") ","
					    DENY_PROD);
	struct policy_flow f = { .proto = IPPROTO_TCP, .port = 9091 };
	struct policy_explain e;
	const struct policy_explain_dir *d;

	(void)state;
	f.src = policy_model_get_pod(m, "prod", "api");
	f.dst = policy_model_get_pod(m, "prod", "db");
	assert_int_equal(policy_flow_addresses(&f), 0);
	assert_int_equal(policy_explain(m, &f, &e), 0);
	assert_false(e.allowed);
	d = &e.dir[POLICY_DIR_INGRESS];
	assert_int_equal(d->n_selecting, 2);
	assert_string_equal(d->selecting[0]->key, "prod/deny");
	assert_string_equal(d->selecting[1]->key, "prod/web");
	assert_int_equal(d->n_rules, 2);
	assert_true(d->rules[0].peer_ok);
	assert_false(d->rules[0].port_ok);
	assert_true(d->rules[1].peer_ok);
	assert_false(d->rules[1].port_ok);
	policy_explain_done(&e);
	policy_model_free(m);
}

static void test_flow_addresses_need_common_family(void **state)
{
	struct policy_model *m = model_with("");
	struct policy_flow f = {};

	(void)state;
	f.src = policy_model_get_pod(m, "dev", "v6");
	f.dst = policy_model_get_pod(m, "prod", "web");
	assert_int_equal(policy_flow_addresses(&f), -EADDRNOTAVAIL);
	policy_model_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_explain_vectors),
		cmocka_unit_test(test_rule_detail),
		cmocka_unit_test(test_flow_addresses_need_common_family),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
