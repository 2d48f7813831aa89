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
#include "policy/calico.h"
#include "policy/explain.h"
#include "policy/failsafe.h"
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
	" \"status\":{\"podIPs\":[{\"ip\":\"fd00::6\"}]}},"
	"{\"metadata\":{\"namespace\":\"ops\",\"name\":\"local\",\"labels\":{\"app\":\"local\"}},"
	" \"spec\":{\"nodeName\":\"n1\"},\"status\":{\"podIP\":\"10.65.3.9\"}}]";

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

/* The cluster and @objects ("\"kind\":[...], ..."). */
static struct policy_model *model_of(const char *objects)
{
	size_t n = strlen(cluster) + strlen(objects) + 64;
	_cleanup_free_ char *text = malloc(n), *err = NULL;
	struct policy_model *m = NULL;
	json_t *doc;

	snprintf(text, n, "{%s,%s}", cluster, objects);
	doc = json_loads(text, 0, NULL);
	if (!doc)
		fail_msg("bad JSON: %s", text);
	assert_int_equal(policy_model_new(NULL, &m), 0);
	if (policy_model_load_json(m, doc, &err) < 0)
		fail_msg("load: %s", err);
	json_decref(doc);
	return m;
}

static struct policy_model *model_with(const char *policies)
{
	size_t n = strlen(policies) + 64;
	_cleanup_free_ char *text = malloc(n);

	snprintf(text, n, "\"networkpolicies\":[%s]", policies);
	return model_of(text);
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

/* The verdict and the "why" string of vector @name are the wanted ones. */
static void assert_verdict(const char *name, const struct policy_explain *e, const char *why,
			   bool allowed, const char *want)
{
	if (e->allowed != allowed || strcmp(why, want) != 0)
		fail_msg("%s: got %s '%s', want %s '%s'", name, e->allowed ? "allowed" : "denied",
			 why, allowed ? "allowed" : "denied", want);
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
		assert_verdict(v->name, &e, why, v->allowed, v->why);
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

/* ---- Calico source ports ---- */

#define GNP(NAME, SPEC)                                                                      \
	"{\"apiVersion\":\"crd.projectcalico.org/v1\",\"kind\":\"GlobalNetworkPolicy\","      \
	"\"metadata\":{\"name\":\"" NAME "\"},\"spec\":" SPEC "}"

/* dev/tool -> prod/db tcp/8080 under a GlobalNetworkPolicy with one rule
 * (@dir of its selected pod: ingress of app=db, egress of app=tool). */
struct sport_vec {
	const char *name;
	bool egress;
	const char *rule;
	uint16_t sport;
	int r; /* policy_explain()'s return */
	bool allowed;
	enum policy_explain_end end;
};

static const struct sport_vec sport_vecs[] = {
	{ "port matches", false, "{\"action\":\"Allow\",\"protocol\":\"TCP\",\"source\":{\"ports\":[40000]}}", 40000, 0,
	  true, POLICY_EXPLAIN_END_RULE },
	{ "port differs: tier default", false, "{\"action\":\"Allow\",\"protocol\":\"TCP\",\"source\":{\"ports\":[40000]}}",
	  40001, 0, false, POLICY_EXPLAIN_END_TIER },
	{ "no source port given", false, "{\"action\":\"Allow\",\"protocol\":\"TCP\",\"source\":{\"ports\":[40000]}}", 0,
	  -EOPNOTSUPP, false, 0 },
	{ "range: last port", false, "{\"action\":\"Allow\",\"protocol\":\"TCP\",\"source\":{\"ports\":[\"40000:40100\"]}}",
	  40100, 0, true, POLICY_EXPLAIN_END_RULE },
	{ "range: past it", false, "{\"action\":\"Allow\",\"protocol\":\"TCP\",\"source\":{\"ports\":[\"40000:40100\"]}}",
	  40101, 0, false, POLICY_EXPLAIN_END_TIER },
	{ "notPorts: in them", false, "{\"action\":\"Allow\",\"protocol\":\"TCP\",\"source\":{\"notPorts\":[22]}}", 22, 0,
	  false, POLICY_EXPLAIN_END_TIER },
	{ "notPorts: other", false, "{\"action\":\"Allow\",\"protocol\":\"TCP\",\"source\":{\"notPorts\":[22]}}", 40000, 0,
	  true, POLICY_EXPLAIN_END_RULE },
	{ "ports minus notPorts: cut out", false, "{\"action\":\"Allow\",\"protocol\":\"TCP\",\"source\":{\"ports\":"
	  "[\"1000:2000\"],\"notPorts\":[1500]}}", 1500, 0, false, POLICY_EXPLAIN_END_TIER },
	{ "ports minus notPorts: kept", false, "{\"action\":\"Allow\",\"protocol\":\"TCP\",\"source\":{\"ports\":"
	  "[\"1000:2000\"],\"notPorts\":[1500]}}", 1499, 0, true, POLICY_EXPLAIN_END_RULE },
	{ "other protocol: no port needed", false, "{\"action\":\"Allow\",\"protocol\":\"UDP\","
	  "\"source\":{\"ports\":[53]}}", 0, 0, false, POLICY_EXPLAIN_END_TIER },
	{ "other peer: no port needed", false, "{\"action\":\"Allow\",\"protocol\":\"TCP\",\"source\":{\"selector\":"
	  "\"app == 'mon'\",\"ports\":[1]}}", 0, 0, false, POLICY_EXPLAIN_END_TIER },
	{ "other destination port: no source port needed", false, "{\"action\":\"Allow\","
	  "\"protocol\":\"TCP\",\"destination\":{\"ports\":[9090]},\"source\":{\"ports\":[1]}}", 0, 0,
	  false, POLICY_EXPLAIN_END_TIER },
	{ "Deny by source port", false, "{\"action\":\"Deny\",\"protocol\":\"TCP\",\"source\":{\"ports\":[\"1:1023\"]}}",
	  1023, 0, false, POLICY_EXPLAIN_END_RULE },
	{ "egress rule", true, "{\"action\":\"Allow\",\"protocol\":\"TCP\",\"source\":{\"ports\":"
	  "[\"32768:60999\"]}}", 40000, 0, true, POLICY_EXPLAIN_END_RULE },
	{ "egress rule: privileged source port", true, "{\"action\":\"Allow\",\"protocol\":\"TCP\","
	  "\"source\":{\"ports\":[\"32768:60999\"]}}", 1000, 0, false, POLICY_EXPLAIN_END_TIER },
};

static struct policy_model *gnp_model(const char *name, bool egress, const char *rule)
{
	char objs[1200];

	snprintf(objs, sizeof(objs), "\"globalnetworkpolicies\":[" GNP("%s", "{\"selector\":\"%s\","
		 "\"types\":[\"%s\"],\"%s\":[%s]}") "]", name, egress ? "app == 'tool'" : "app == 'db'",
		 egress ? "Egress" : "Ingress", egress ? "egress" : "ingress", rule);
	return model_of(objs);
}

static struct policy_flow pod_flow(const struct policy_model *m, const char *src, const char *dst,
				   uint16_t port, uint16_t sport)
{
	struct policy_flow f = { .proto = IPPROTO_TCP, .port = port, .sport = sport };

	endpoint(m, src, &f.src, &f.saddr);
	endpoint(m, dst, &f.dst, &f.daddr);
	assert_int_equal(policy_flow_addresses(&f), 0);
	return f;
}

static void test_calico_source_ports(void **state)
{
	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(sport_vecs); i++) {
		const struct sport_vec *v = &sport_vecs[i];
		struct policy_model *m = gnp_model("default.sp", v->egress, v->rule);
		struct policy_flow f = pod_flow(m, "dev/tool", "prod/db", 8080, v->sport);
		enum policy_dir dir = v->egress ? POLICY_DIR_EGRESS : POLICY_DIR_INGRESS;
		struct policy_explain e;
		int r = policy_explain(m, &f, &e);

		if (r != v->r)
			fail_msg("%s: returned %d, want %d", v->name, r, v->r);
		if (r == 0 && (e.allowed != v->allowed || e.dir[dir].end != v->end))
			fail_msg("%s: %s by end %d, want %s by %d", v->name,
				 e.allowed ? "allowed" : "denied", e.dir[dir].end,
				 v->allowed ? "allowed" : "denied", v->end);
		if (r == 0)
			policy_explain_done(&e);
		policy_model_free(m);
	}
}

/* notNets of one family only: the rule is not rendered for the other, as
 * Calico does (an IPv6 flow never matches notNets [10.0.0.0/8]). */
static void test_not_nets_of_the_other_family(void **state)
{
	static const struct {
		const char *not_nets;
		bool allowed;
		enum policy_explain_end end;
	} v[] = {
		{ "\"10.0.0.0/8\"", false, POLICY_EXPLAIN_END_TIER },
		{ "\"10.0.0.0/8\",\"fd00:1::/64\"", true, POLICY_EXPLAIN_END_RULE },
		{ "\"10.0.0.0/8\",\"fd00:9::/64\"", false, POLICY_EXPLAIN_END_TIER },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		char objs[400];
		struct policy_model *m;
		struct policy_flow f = { .proto = IPPROTO_TCP, .port = 80 };
		struct policy_explain e;

		snprintf(objs, sizeof(objs), "\"globalnetworkpolicies\":[" GNP("default.nn",
			 "{\"selector\":\"app == 'v6'\",\"ingress\":[{\"action\":\"Allow\","
			 "\"source\":{\"notNets\":[%s]}}]}") "]", v[i].not_nets);
		m = model_of(objs);
		endpoint(m, "fd00:9::5", &f.src, &f.saddr);
		endpoint(m, "dev/v6", &f.dst, &f.daddr);
		assert_int_equal(policy_flow_addresses(&f), 0);
		assert_int_equal(policy_explain(m, &f, &e), 0);
		if (e.allowed != v[i].allowed || e.dir[POLICY_DIR_INGRESS].end != v[i].end)
			fail_msg("notNets [%s]: %s by end %d", v[i].not_nets,
				 e.allowed ? "allowed" : "denied", e.dir[POLICY_DIR_INGRESS].end);
		policy_explain_done(&e);
		policy_model_free(m);
	}
}

/* A named source port is a Calico feature felix-c refuses: the policy's
 * stand-in denies, whatever the source port. */
static void test_named_source_port_is_a_stand_in(void **state)
{
	json_t *j = json_loads(GNP("default.named", "{\"selector\":\"app == 'db'\",\"ingress\":"
				   "[{\"action\":\"Allow\",\"source\":{\"ports\":[\"http\"]}}]}"),
			       0, NULL);
	struct policy_model *m = model_of("\"networkpolicies\":[]");
	struct policy_netpol *np = NULL;
	struct policy_explain e;
	struct policy_flow f;

	(void)state;
	assert_non_null(j);
	assert_true(policy_calico_from_json(j, POLICY_KIND_GLOBAL, &np, NULL) < 0);
	assert_int_equal(policy_calico_deny_from_json(j, POLICY_KIND_GLOBAL, &np), 0);
	assert_int_equal(policy_model_set_netpol(m, np), 0);
	f = pod_flow(m, "prod/web", "prod/db", 8080, 0);
	assert_int_equal(policy_explain(m, &f, &e), 0);
	assert_false(e.allowed);
	assert_int_equal(e.dir[POLICY_DIR_INGRESS].end, POLICY_EXPLAIN_END_STAND_IN);
	policy_explain_done(&e);
	json_decref(j);
	policy_model_free(m);
}

/* ---- forwarded flows through host endpoints ---- */

#define HEP(NAME, NODE, IFNAME, ROLE)                                                       \
	"{\"apiVersion\":\"crd.projectcalico.org/v1\",\"kind\":\"HostEndpoint\","             \
	"\"metadata\":{\"name\":\"" NAME "\",\"labels\":{\"role\":\"" ROLE "\"}},"           \
	"\"spec\":{\"node\":\"" NODE "\",\"interfaceName\":\"" IFNAME "\"}}"
#define HEPS                                                                                 \
	"\"hostendpoints\":[" HEP("n1-eth0", "n1", "eth0", "edge") ","                        \
	HEP("n1-eth1", "n1", "eth1", "core") "," HEP("n2-eth0", "n2", "eth0", "edge") "]"
#define SEL_EDGE "\"selector\":\"role == 'edge'\""
#define SEL_CORE "\"selector\":\"role == 'core'\""
#define AOF_EDGE_80 GNP("default.edge", "{" SEL_EDGE ",\"applyOnForward\":true,\"ingress\":"    \
	"[{\"action\":\"Allow\",\"protocol\":\"TCP\",\"destination\":{\"ports\":[80]}}]}")
#define AOF_EDGE_DENY GNP("default.edge-deny", "{" SEL_EDGE ",\"applyOnForward\":true,"        \
	"\"ingress\":[{\"action\":\"Deny\"}]}")
#define EDGE_DENY_LOCAL GNP("default.edge-local", "{" SEL_EDGE ",\"ingress\":[{\"action\":\"Deny\"}]}")
#define AOF_CORE_EG_DENY GNP("default.core-out", "{" SEL_CORE ",\"applyOnForward\":true,"       \
	"\"types\":[\"Egress\"],\"egress\":[{\"action\":\"Deny\",\"protocol\":\"TCP\","        \
	"\"destination\":{\"ports\":[80,8080]}}]}")
#define DNT_EDGE GNP("default.dnt", "{\"order\":1," SEL_EDGE ",\"doNotTrack\":true,"            \
	"\"applyOnForward\":true,\"ingress\":[{\"action\":\"Allow\",\"protocol\":\"TCP\","     \
	"\"destination\":{\"ports\":[8080]}}]}")
#define DNT_EDGE_DENY GNP("default.dnt-deny", "{" SEL_EDGE ",\"doNotTrack\":true,"              \
	"\"applyOnForward\":true,\"ingress\":[{\"action\":\"Deny\"}]}")
#define PRE_EDGE GNP("default.pre", "{" SEL_EDGE ",\"preDNAT\":true,\"applyOnForward\":true,"  \
	"\"ingress\":[{\"action\":\"Deny\",\"protocol\":\"TCP\",\"destination\":{\"ports\":"  \
	"[30080]}},{\"action\":\"Allow\",\"protocol\":\"TCP\",\"destination\":{\"ports\":[7070]}}]}")
#define EXT2 "198.51.100.7"

/* Ends: "ADDR" or "ns/name", then "@HEP" when forwarded through that
 * endpoint; "hep:NAME" a local process through it (address 192.168.50.1). */
struct fwd_vec {
	const char *name;
	const char *gnps; /* JSON list body */
	const char *src, *dst;
	const char *flow; /* "tcp/8080" */
	uint16_t sport;
	int r;
	bool allowed;
	/* "<source's>|<forward ingress>|<forward egress>|<destination's>", each
	 * "-" (not there), "open", "fwd" (accepted: no applyOnForward policy
	 * decided), "tier", "profile", "stand-in", or the deciding rule as
	 * "key dir[i] stage", with "+untracked", "+failsafe" */
	const char *why;
};

static const struct fwd_vec fwd_vecs[] = {
	{ "hep -> hep, no policy", "", EXT "@n1-eth0", EXT2 "@n1-eth1", "tcp/80", 0, 0, true,
	  "-|fwd|fwd|-" },
	{ "applyOnForward Allow", AOF_EDGE_80, EXT "@n1-eth0", EXT2 "@n1-eth1", "tcp/80", 0, 0, true,
	  "-|gnp:default.edge ingress[0] normal|fwd|-" },
	{ "applyOnForward: tier default", AOF_EDGE_80, EXT "@n1-eth0", EXT2 "@n1-eth1", "tcp/81", 0,
	  0, false, "-|tier|fwd|-" },
	{ "not applyOnForward: forwarded accepted", EDGE_DENY_LOCAL, EXT "@n1-eth0",
	  EXT2 "@n1-eth1", "tcp/81", 0, 0, true, "-|fwd|fwd|-" },
	{ "not applyOnForward: to the host denied", EDGE_DENY_LOCAL, EXT, "hep:n1-eth0", "tcp/81",
	  0, 0, false, "-|-|-|gnp:default.edge-local ingress[0] normal" },
	{ "outgoing endpoint's egress", AOF_CORE_EG_DENY, EXT "@n1-eth0", EXT2 "@n1-eth1", "tcp/80",
	  0, 0, false, "-|fwd|gnp:default.core-out egress[0] normal|-" },
	{ "egress policy only: its ingress accepts", AOF_CORE_EG_DENY, EXT "@n1-eth1",
	  EXT2 "@n1-eth0", "tcp/80", 0, 0, true, "-|fwd|fwd|-" },
	{ "doNotTrack Allow skips applyOnForward", DNT_EDGE "," AOF_EDGE_DENY, EXT "@n1-eth0",
	  EXT2 "@n1-eth1", "tcp/8080", 40000, 0, true,
	  "-|gnp:default.dnt ingress[0] doNotTrack+untracked|fwd|-" },
	{ "doNotTrack no decision: applyOnForward Deny", DNT_EDGE "," AOF_EDGE_DENY,
	  EXT "@n1-eth0", EXT2 "@n1-eth1", "tcp/8081", 40000, 0, false,
	  "-|gnp:default.edge-deny ingress[0] normal|fwd|-" },
	{ "doNotTrack Allow: the outgoing endpoint still decides", DNT_EDGE "," AOF_CORE_EG_DENY,
	  EXT "@n1-eth0", EXT2 "@n1-eth1", "tcp/8080", 40000, 0, false,
	  "-|gnp:default.dnt ingress[0] doNotTrack+untracked|gnp:default.core-out egress[0] "
	  "normal|-" },
	{ "preDNAT Deny", PRE_EDGE, EXT "@n1-eth0", EXT2 "@n1-eth1", "tcp/30080", 0, 0, false,
	  "-|gnp:default.pre ingress[0] preDNAT|fwd|-" },
	{ "preDNAT Allow skips applyOnForward", PRE_EDGE "," AOF_EDGE_DENY, EXT "@n1-eth0",
	  EXT2 "@n1-eth1", "tcp/7070", 0, 0, true, "-|gnp:default.pre ingress[1] preDNAT|fwd|-" },
	{ "failsafe passes doNotTrack", DNT_EDGE_DENY, EXT "@n1-eth0", EXT2 "@n1-eth1", "tcp/22", 0,
	  0, true, "-|fwd+failsafe|fwd|-" },
	{ "failsafe: no help against applyOnForward", DNT_EDGE_DENY "," AOF_EDGE_DENY,
	  EXT "@n1-eth0", EXT2 "@n1-eth1", "tcp/22", 40000, 0, false,
	  "-|gnp:default.edge-deny ingress[0] normal+failsafe|fwd|-" },
	{ "failsafe reply by source port", DNT_EDGE_DENY, EXT "@n1-eth0", EXT2 "@n1-eth1",
	  "udp/5000", 53, 0, true, "-|fwd+failsafe|fwd|-" },
	{ "failsafe reply: other source port", DNT_EDGE_DENY, EXT "@n1-eth0", EXT2 "@n1-eth1",
	  "udp/5000", 40000, 0, false, "-|gnp:default.dnt-deny ingress[0] doNotTrack|fwd|-" },
	{ "failsafe reply: source port needed", DNT_EDGE_DENY, EXT "@n1-eth0", EXT2 "@n1-eth1",
	  "udp/5000", 0, -EOPNOTSUPP, false, NULL },
	{ "hep -> pod: the pod's ingress too", AOF_EDGE_80, EXT "@n1-eth0", "prod/web", "tcp/80", 0,
	  0, true, "-|gnp:default.edge ingress[0] normal|-|open" },
	{ "hep -> pod: applyOnForward denies", AOF_EDGE_80, EXT "@n1-eth0", "prod/web", "tcp/8080",
	  0, 0, false, "-|tier|-|open" },
	{ "pod -> hep: the outgoing endpoint's egress", AOF_CORE_EG_DENY, "prod/web",
	  EXT2 "@n1-eth1", "tcp/8080", 0, 0, false,
	  "open|-|gnp:default.core-out egress[0] normal|-" },
	{ "remote pod through the node", "", "prod/web@n1-eth0", EXT2 "@n1-eth1", "tcp/80", 0, 0,
	  true, "open|fwd|fwd|-" },
	{ "two nodes' local processes", EDGE_DENY_LOCAL, "hep:n1-eth1", "hep:n2-eth0", "tcp/80", 0,
	  0, false, "profile|-|-|gnp:default.edge-local ingress[0] normal" },
	{ "a local process is not forwarded", "", "hep:n1-eth0", EXT2 "@n1-eth1", "tcp/80", 0,
	  -EINVAL, false, NULL },
	{ "endpoints of two nodes", "", EXT "@n1-eth0", EXT2 "@n2-eth0", "tcp/80", 0, -EINVAL, false,
	  NULL },
	{ "the node's own pod never arrives through it", "", "ops/local@n1-eth0", EXT2, "tcp/80",
	  0, -EINVAL, false, NULL },
	{ "one node's two local processes", "", "hep:n1-eth0", "hep:n1-eth1", "tcp/80", 0,
	  -EINVAL, false, NULL },
};

static void fwd_end(const struct policy_model *m, const char *s, const struct policy_pod **pod,
		    const struct policy_hep **hep, const struct policy_hep **fwd,
		    struct in_prefix *addr)
{
	const char *at = strchr(s, '@');
	char base[64];

	snprintf(base, sizeof(base), "%.*s", (int)(at ? at - s : (ptrdiff_t)strlen(s)), s);
	*fwd = at ? policy_hmap_get_str(&m->heps, at + 1) : NULL;
	assert_true(!at || *fwd);
	*hep = NULL;
	if (strncmp(base, "hep:", 4) == 0) {
		*pod = NULL;
		*hep = policy_hmap_get_str(&m->heps, base + 4);
		assert_non_null(*hep);
		assert_int_equal(prefix_parse("192.168.50.1", PREFIX_ADDR_ONLY, addr), 0);
		return;
	}
	endpoint(m, base, pod, addr);
}

static void fwd_side(const struct policy_explain_dir *d, enum policy_dir dir, char *buf,
		     size_t size)
{
	static const char *const ends[_POLICY_EXPLAIN_END_MAX] = {
		[POLICY_EXPLAIN_END_TIER] = "tier", [POLICY_EXPLAIN_END_PROFILE] = "profile",
		[POLICY_EXPLAIN_END_STAND_IN] = "stand-in", [POLICY_EXPLAIN_END_FORWARD] = "fwd",
		[POLICY_EXPLAIN_END_FAILSAFE] = "failsafe", [POLICY_EXPLAIN_END_PASSED] = "passed",
	};
	const struct policy_explain_rule *r = d->n_rules ? &d->rules[d->n_rules - 1] : NULL;

	if (!d->hep) {
		side(d, dir, buf, size);
		return;
	}
	if (d->end == POLICY_EXPLAIN_END_RULE)
		snprintf(buf, size, "%s %s[%zu] %s", r->np->key, policy_dir_to_string(dir), r->rule,
			 policy_host_mode_to_string(d->stage));
	else
		snprintf(buf, size, "%s", ends[d->end]);
	if (d->untracked)
		strncat(buf, "+untracked", size - strlen(buf) - 1);
	if (d->failsafe_passed)
		strncat(buf, "+failsafe", size - strlen(buf) - 1);
}

static void test_forwarded_flows(void **state)
{
	struct policy_failsafes fs_in, fs_out;

	(void)state;
	assert_int_equal(policy_failsafes_parse(POLICY_FAILSAFE_IN_DEFAULT, &fs_in), 0);
	assert_int_equal(policy_failsafes_parse(POLICY_FAILSAFE_OUT_DEFAULT, &fs_out), 0);
	for (size_t i = 0; i < ELEMENTSOF(fwd_vecs); i++) {
		const struct fwd_vec *v = &fwd_vecs[i];
		char objs[4096], sides[4][300], why[1300], proto[8];
		struct policy_flow f = { .failsafe_in = &fs_in, .failsafe_out = &fs_out,
					 .sport = v->sport };
		struct policy_model *m;
		struct policy_explain e;
		unsigned port;
		int r;

		snprintf(objs, sizeof(objs), HEPS ",\"globalnetworkpolicies\":[%s]", v->gnps);
		m = model_of(objs);
		fwd_end(m, v->src, &f.src, &f.src_hep, &f.fwd_in, &f.saddr);
		fwd_end(m, v->dst, &f.dst, &f.dst_hep, &f.fwd_out, &f.daddr);
		assert_int_equal(sscanf(v->flow, "%7[a-z]/%u", proto, &port), 2);
		f.proto = !strcmp(proto, "tcp") ? IPPROTO_TCP : IPPROTO_UDP;
		f.port = (uint16_t)port;
		assert_int_equal(policy_flow_addresses(&f), 0);
		r = policy_explain(m, &f, &e);
		if (r != v->r)
			fail_msg("%s: returned %d, want %d", v->name, r, v->r);
		if (r == 0) {
			fwd_side(&e.dir[POLICY_DIR_EGRESS], POLICY_DIR_EGRESS, sides[0], 300);
			fwd_side(&e.fwd[POLICY_DIR_INGRESS], POLICY_DIR_INGRESS, sides[1], 300);
			fwd_side(&e.fwd[POLICY_DIR_EGRESS], POLICY_DIR_EGRESS, sides[2], 300);
			fwd_side(&e.dir[POLICY_DIR_INGRESS], POLICY_DIR_INGRESS, sides[3], 300);
			snprintf(why, sizeof(why), "%s|%s|%s|%s", sides[0], sides[1], sides[2], sides[3]);
			assert_verdict(v->name, &e, why, v->allowed, v->why);
			policy_explain_done(&e);
		}
		policy_model_free(m);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_explain_vectors),
		cmocka_unit_test(test_rule_detail),
		cmocka_unit_test(test_flow_addresses_need_common_family),
		cmocka_unit_test(test_calico_source_ports),
		cmocka_unit_test(test_named_source_port_is_a_stand_in),
		cmocka_unit_test(test_not_nets_of_the_other_family),
		cmocka_unit_test(test_forwarded_flows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
