#include <arpa/inet.h>
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

#include "labelsel.h"
#include "policy/model.h"

/* A NetworkPolicy "ns1/p" with @spec as its spec. */
static json_t *netpol(const char *spec)
{
	char buf[4096];
	json_t *j;

	snprintf(buf, sizeof(buf),
		 "{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"NetworkPolicy\","
		 "\"metadata\":{\"namespace\":\"ns1\",\"name\":\"p\"},\"spec\":%s}",
		 spec);
	j = json_loads(buf, 0, NULL);
	if (!j)
		fail_msg("bad test JSON: %s", spec);
	return j;
}

static void test_bad_policies_are_rejected_with_field(void **state)
{
	static const struct {
		const char *spec;
		const char *want;
	} v[] = {
		{ "{\"podSelector\":{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Is\",\"values\":[\"b\"]}]}}",
		  "spec.podSelector.matchExpressions[0].operator: unsupported value 'Is'" },
		{ "{\"podSelector\":{},\"ingress\":[{\"ports\":[{\"port\":90,\"endPort\":80}]}]}",
		  "spec.ingress[0].ports[0].endPort: must be greater than or equal to port" },
		{ "{\"podSelector\":{},\"ingress\":[{\"ports\":[{\"port\":\"http\",\"endPort\":80}]}]}",
		  "endPort: may not be specified when port is non-numeric" },
		{ "{\"podSelector\":{},\"ingress\":[{\"ports\":[{\"endPort\":80}]}]}",
		  "endPort: may not be specified when port is not specified" },
		{ "{\"podSelector\":{},\"egress\":[{\"to\":[{\"ipBlock\":{\"cidr\":\"10.0.0.0/33\"}}]}]}",
		  "spec.egress[0].to[0].ipBlock.cidr: invalid CIDR '10.0.0.0/33'" },
		{ "{\"podSelector\":{},\"egress\":[{\"to\":[{\"ipBlock\":{\"cidr\":\"banana\"}}]}]}",
		  "ipBlock.cidr: invalid CIDR 'banana'" },
		{ "{\"podSelector\":{},\"ingress\":[{\"from\":[{\"ipBlock\":{\"cidr\":\"10.0.0.0/8\",\"except\":[\"11.0.0.0/16\"]}}]}]}",
		  "except[0]: '11.0.0.0/16' must be a strict subset of cidr" },
		{ "{\"podSelector\":{},\"ingress\":[{\"from\":[{\"ipBlock\":{\"cidr\":\"10.0.0.0/8\",\"except\":[\"10.0.0.0/8\"]}}]}]}",
		  "must be a strict subset" },
		{ "{\"podSelector\":{},\"ingress\":[{\"from\":[{\"ipBlock\":{\"cidr\":\"10.0.0.0/8\",\"except\":[\"fd00::/64\"]}}]}]}",
		  "must be a strict subset" },
		{ "{\"podSelector\":{},\"ingress\":[{\"from\":[{\"ipBlock\":{\"cidr\":\"10.0.0.0/8\"},\"podSelector\":{}}]}]}",
		  "spec.ingress[0].from[0]: may not specify both ipBlock and another peer" },
		{ "{\"podSelector\":{},\"ingress\":[{\"from\":[{}]}]}", "from[0]: must specify a peer" },
		{ "{\"podSelector\":{},\"ingress\":[{\"ports\":[{\"protocol\":\"ICMP\",\"port\":1}]}]}",
		  "ports[0].protocol: unsupported value" },
		{ "{\"podSelector\":{},\"ingress\":[{\"ports\":[{\"port\":0}]}]}", "ports[0].port: must be 1..65535" },
		{ "{\"podSelector\":{},\"ingress\":[{\"ports\":[{\"port\":70000}]}]}", "must be 1..65535" },
		{ "{\"podSelector\":{},\"ingress\":[{\"ports\":[{\"port\":\"HTTP\"}]}]}", "invalid port name 'HTTP'" },
		{ "{\"podSelector\":{},\"ingress\":[{\"ports\":[{\"port\":\"80\"}]}]}", "invalid port name '80'" },
		{ "{\"podSelector\":{},\"ingress\":[{\"ports\":[{\"port\":80,\"endPort\":65536}]}]}", "endPort: must be 1..65535" },
		{ "{\"podSelector\":{},\"policyTypes\":[\"Forward\"]}", "spec.policyTypes[0]: unsupported value 'Forward'" },
		{ "{\"podSelector\":{},\"ingress\":[{\"from\":[{\"namespaceSelector\":{\"matchLabels\":{\"a\":\"b c\"}}}]}]}",
		  "spec.ingress[0].from[0].namespaceSelector.matchLabels.a: invalid label value" },
		{ "{\"podSelector\":{},\"ingress\":{}}", "spec.ingress: must be a list" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		json_t *j = netpol(v[i].spec);
		struct policy_netpol *np = NULL;
		char *err = NULL;

		assert_int_equal(policy_netpol_from_json(j, &np, &err), -EINVAL);
		assert_null(np);
		if (!err || !strstr(err, v[i].want) || !strstr(err, "networkpolicy 'ns1/p'"))
			fail_msg("vector %zu: error '%s' lacks '%s'", i, err ? err : "(null)", v[i].want);
		free(err);
		json_decref(j);
	}
}

static void test_policy_types_default_like_the_apiserver(void **state)
{
	static const struct {
		const char *spec;
		bool in, eg;
	} v[] = {
		{ "{\"podSelector\":{}}", true, false },
		{ "{\"podSelector\":{},\"egress\":[{}]}", true, true },
		{ "{\"podSelector\":{},\"egress\":[]}", true, false }, /* empty list: no Egress */
		{ "{\"podSelector\":{},\"ingress\":[{}],\"egress\":[{}]}", true, true },
		{ "{\"podSelector\":{},\"policyTypes\":[\"Egress\"]}", false, true },
		{ "{\"podSelector\":{},\"policyTypes\":[\"Ingress\",\"Egress\"]}", true, true },
		{ "{\"podSelector\":{},\"policyTypes\":[\"Ingress\"],\"egress\":[{}]}", true, false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		json_t *j = netpol(v[i].spec);
		struct policy_netpol *np = NULL;

		assert_int_equal(policy_netpol_from_json(j, &np, NULL), 0);
		if (np->types[POLICY_DIR_INGRESS] != v[i].in || np->types[POLICY_DIR_EGRESS] != v[i].eg)
			fail_msg("vector %zu: types %d/%d", i, np->types[0], np->types[1]);
		policy_netpol_unref(np);
		json_decref(j);
	}
}

static void test_ports_and_peers_parse(void **state)
{
	json_t *j = netpol("{\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}},\"ingress\":[{\"from\":["
			   "{\"podSelector\":{}},{\"namespaceSelector\":{}},"
			   "{\"podSelector\":{\"matchLabels\":{\"a\":\"b\"}},\"namespaceSelector\":{\"matchLabels\":{\"c\":\"d\"}}},"
			   "{\"ipBlock\":{\"cidr\":\"10.1.2.3/16\",\"except\":[\"10.1.2.0/24\"]}}],"
			   "\"ports\":[{\"port\":80},{\"protocol\":\"UDP\",\"port\":1000,\"endPort\":2000},"
			   "{\"protocol\":\"SCTP\"},{\"port\":\"http\"}]}]}");
	struct policy_netpol *np = NULL;
	const struct policy_rule *r;
	char buf[64];

	(void)state;
	assert_int_equal(policy_netpol_from_json(j, &np, NULL), 0);
	assert_string_equal(np->key, "ns1/p");
	assert_int_equal(np->n_rules[POLICY_DIR_INGRESS], 1);
	r = &np->rules[POLICY_DIR_INGRESS][0];
	assert_int_equal(r->n_peers, 4);
	assert_non_null(r->peers[0].pod_sel);
	assert_null(r->peers[0].ns_sel);
	assert_null(r->peers[1].pod_sel);
	assert_non_null(r->peers[1].ns_sel);
	assert_true(labelsel_is_everything(r->peers[1].ns_sel));
	assert_non_null(r->peers[2].pod_sel);
	assert_non_null(r->peers[2].ns_sel);
	assert_true(r->peers[3].is_block);
	prefix_format(&r->peers[3].block, false, buf, sizeof(buf));
	assert_string_equal(buf, "10.1.0.0/16"); /* host bits cleared */
	assert_int_equal(r->peers[3].n_except, 1);
	assert_int_equal(r->n_ports, 4);
	assert_int_equal(r->ports[0].proto, IPPROTO_TCP);
	assert_int_equal(r->ports[0].port, 80);
	assert_int_equal(r->ports[0].end_port, 80);
	assert_int_equal(r->ports[1].proto, IPPROTO_UDP);
	assert_int_equal(r->ports[1].end_port, 2000);
	assert_int_equal(r->ports[2].proto, IPPROTO_SCTP);
	assert_true(r->ports[2].any_port);
	assert_string_equal(r->ports[3].name, "http");
	policy_netpol_unref(np);
	json_decref(j);
}

static void test_pod_ips_ports_and_ifname(void **state)
{
#define ANN(v) "{\"metadata\":{\"namespace\":\"a\",\"name\":\"p\",\"annotations\":{\"cni.projectcalico.org/podIPs\":\"" v "\"}}"
	static const struct {
		const char *json;
		size_t n_ips;
		const char *ip0;
		bool reported, bad;
	} v[] = {
		{ "{\"metadata\":{\"namespace\":\"a\",\"name\":\"p\"},\"status\":{\"podIPs\":[{\"ip\":\"10.0.0.1\"},{\"ip\":\"fd00::1\"}]}}", 2, "10.0.0.1/32", true, false },
		{ "{\"metadata\":{\"namespace\":\"a\",\"name\":\"p\"},\"status\":{\"podIP\":\"10.0.0.2\"}}", 1, "10.0.0.2/32", true, false },
		{ ANN("10.0.0.3/32,fd00::3/128") "}", 2, "10.0.0.3/32", false, false },
		{ "{\"metadata\":{\"namespace\":\"a\",\"name\":\"p\"},\"status\":{\"phase\":\"Succeeded\",\"podIP\":\"10.0.0.4\"}}", 0, NULL, false, false },
		/* An unreadable annotation gives no address; the pod stays valid. */
		{ ANN("10.0.0.5/32\\nforged line") "}", 0, NULL, false, true },
		{ ANN("10.0.0.5/32,bogus") "}", 0, NULL, false, true },
		/* An address is a host prefix: a shorter one is no address. */
		{ ANN("10.0.0.5/24") "}", 0, NULL, false, true },
		{ ANN("0.0.0.1,0.0.0.2,0.0.0.3,0.0.0.4,0.0.0.5,0.0.0.6,0.0.0.7,0.0.0.8,0.0.0.9,0.0.0.10,"
		      "0.0.0.11,0.0.0.12,0.0.0.13,0.0.0.14,0.0.0.15,0.0.0.16,0.0.0.17,0.0.0.18,0.0.0.19,"
		      "0.0.0.20,0.0.0.21,0.0.0.22,0.0.0.23,0.0.0.24,0.0.0.25,0.0.0.26,0.0.0.27,0.0.0.28,"
		      "0.0.0.29,0.0.0.30,0.0.0.31,0.0.0.32,0.0.0.33") "}", 0, NULL, false, true },
		/* The kubelet's report wins; the annotation is not even read. */
		{ ANN("bogus") ",\"status\":{\"podIP\":\"10.0.0.6\"}}", 1, "10.0.0.6/32", true, false },
	};
#undef ANN

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		json_t *j = json_loads(v[i].json, 0, NULL);
		struct policy_pod *p = NULL;
		char buf[64];

		assert_non_null(j);
		assert_int_equal(policy_pod_from_json(j, &p, NULL), 0);
		assert_int_equal(p->n_ips, v[i].n_ips);
		assert_int_equal(p->n_unverified, 0);
		assert_int_equal(p->ips_reported, v[i].reported);
		assert_int_equal(p->bad_ip_annotation, v[i].bad);
		if (v[i].ip0) {
			prefix_format(&p->ips[0], false, buf, sizeof(buf));
			assert_string_equal(buf, v[i].ip0);
		}
		assert_string_equal(p->ifname, "calidff864fb41e"); /* sha1sum of "a.p" */
		policy_pod_free(p);
		json_decref(j);
	}
}

/* accept() of the vectors below: addresses whose last byte is odd. */
static bool odd_last_byte(const struct policy_pod *p, const struct in_prefix *c, void *userdata)
{
	(void)p;
	(void)userdata;
	return c->addr[c->family == AF_INET ? 3 : 15] & 1;
}

static void test_pod_verify_ips_partitions_and_reports_change(void **state)
{
	static const struct {
		const char *ann;     /* candidates, in annotation order */
		size_t n_used;
		const char *want;    /* all candidates after verification, used first */
		bool changed;
	} v[] = {
		{ "10.0.0.3/32", 1, "10.0.0.3/32", false },
		{ "10.0.0.4/32", 0, "10.0.0.4/32", true },
		{ "10.0.0.4/32,fd00::3/128,10.0.0.1/32,10.0.0.2/32", 2,
		  "10.0.0.1/32 fd00::3/128 10.0.0.2/32 10.0.0.4/32", true },
		{ "fd00::1/128,10.0.0.9/32", 2, "10.0.0.9/32 fd00::1/128", true },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char json[256], got[256] = "", buf[64];
		struct policy_pod *p = NULL, *d = NULL;
		json_t *j;

		snprintf(json, sizeof(json),
			 "{\"metadata\":{\"namespace\":\"a\",\"name\":\"p\",\"annotations\":"
			 "{\"cni.projectcalico.org/podIPs\":\"%s\"}}}", v[i].ann);
		j = json_loads(json, 0, NULL);
		assert_int_equal(policy_pod_from_json(j, &p, NULL), 0);
		assert_int_equal(policy_pod_verify_ips(p, odd_last_byte, NULL), v[i].changed);
		assert_int_equal(p->n_ips, v[i].n_used);
		for (size_t k = 0; k < p->n_ips + p->n_unverified; k++) {
			prefix_format(&p->ips[k], false, buf, sizeof(buf));
			strcat(strcat(got, k ? " " : ""), buf);
		}
		assert_string_equal(got, v[i].want);
		/* A copy keeps the unverified ones; asking again changes nothing. */
		assert_int_equal(policy_pod_dup(p, &d), 0);
		assert_true(policy_pod_is_equal(p, d));
		assert_false(policy_pod_verify_ips(d, odd_last_byte, NULL));
		assert_true(policy_pod_is_equal(p, d));
		policy_pod_free(d);
		policy_pod_free(p);
		json_decref(j);
	}
}

static void test_pod_named_ports_and_bad_pods(void **state)
{
	json_t *j = json_loads("{\"metadata\":{\"namespace\":\"a\",\"name\":\"p\",\"labels\":{\"x\":\"y\"}},"
			       "\"spec\":{\"containers\":[{\"ports\":[{\"name\":\"http\",\"containerPort\":8080},"
			       "{\"containerPort\":9},{\"name\":\"dns\",\"containerPort\":53,\"protocol\":\"UDP\"}]}]}}",
			       0, NULL);
	json_t *bad = json_loads("{\"metadata\":{\"namespace\":\"a\",\"name\":\"q\"},"
				 "\"spec\":{\"containers\":[{\"ports\":[{\"name\":\"http\",\"containerPort\":0}]}]}}",
				 0, NULL);
	struct policy_pod *p = NULL;
	char *err = NULL;

	(void)state;
	assert_int_equal(policy_pod_from_json(j, &p, NULL), 0);
	assert_int_equal(p->n_ports, 2);
	assert_string_equal(p->ports[0].name, "http");
	assert_int_equal(p->ports[0].port, 8080);
	assert_int_equal(p->ports[1].proto, IPPROTO_UDP);
	assert_int_equal(policy_pod_from_json(bad, &p, &err) == -EINVAL, 1);
	assert_non_null(strstr(err, "pod 'a/q': spec.containers[0].ports[0].containerPort"));
	free(err);
	policy_pod_free(p);
	json_decref(j);
	json_decref(bad);
}

/* A pod's namespace, name and service account share one allocation: a copy
 * has its own, and the model's index keys ("ns/name") stay valid as pods
 * are replaced and deleted. */
static void test_pod_names_owned_by_each_copy(void **state)
{
	json_t *j = json_loads("{\"metadata\":{\"namespace\":\"team-a\",\"name\":\"web-1\"},"
			       "\"spec\":{\"serviceAccountName\":\"builder\",\"nodeName\":\"n1\"}}",
			       0, NULL);
	json_t *nosa = json_loads("{\"metadata\":{\"name\":\"p\"}}", 0, NULL);
	struct policy_pod *p = NULL, *d = NULL, *old = NULL;
	struct policy_model *m = NULL;

	(void)state;
	assert_int_equal(policy_pod_from_json(j, &p, NULL), 0);
	assert_int_equal(policy_pod_dup(p, &d), 0);
	assert_ptr_not_equal(d->ns, p->ns);
	policy_pod_free(p);
	assert_string_equal(d->ns, "team-a");
	assert_string_equal(d->name, "web-1");
	assert_string_equal(d->sa, "builder");
	assert_string_equal(d->node, "n1");
	assert_int_equal(policy_model_new("n1", &m), 0);
	assert_int_equal(policy_model_set_pod(m, d, NULL), 0);
	assert_int_equal(policy_pod_from_json(j, &p, NULL), 0);
	assert_int_equal(policy_model_set_pod(m, p, &old), 0); /* replaces under the same key */
	assert_non_null(old);
	assert_string_equal(old->name, "web-1");
	policy_pod_free(old);
	assert_ptr_equal(policy_model_get_pod(m, "team-a", "web-1"), p);
	assert_int_equal(policy_pod_from_json(nosa, &p, NULL), 0); /* defaults */
	assert_string_equal(p->ns, "default");
	assert_string_equal(p->sa, "default");
	assert_int_equal(policy_model_set_pod(m, p, NULL), 0);
	assert_int_equal(m->pods.n_items, 2);
	old = policy_model_del_pod(m, "team-a", "web-1");
	assert_non_null(old);
	policy_pod_free(old);
	assert_null(policy_model_get_pod(m, "team-a", "web-1"));
	assert_non_null(policy_model_get_pod(m, "default", "p"));
	policy_model_free(m);
	json_decref(j);
	json_decref(nosa);
}

static void test_model_indexes_and_replaces(void **state)
{
	json_t *doc = json_loads(
		"{\"namespaces\":{\"items\":[{\"metadata\":{\"name\":\"a\",\"labels\":{\"t\":\"1\"}}}]},"
		"\"pods\":[{\"metadata\":{\"namespace\":\"a\",\"name\":\"p1\"},\"spec\":{\"nodeName\":\"n1\"}},"
		"{\"metadata\":{\"namespace\":\"a\",\"name\":\"p2\"},\"spec\":{\"nodeName\":\"n2\"}}],"
		"\"networkpolicies\":[{\"metadata\":{\"namespace\":\"a\",\"name\":\"np\"},\"spec\":{}}]}",
		0, NULL);
	json_t *sel = json_loads("{\"matchLabels\":{\"kubernetes.io/metadata.name\":\"zz\"}}", 0, NULL);
	struct policy_model *m = NULL;
	struct policy_pod *old = NULL, *p = NULL;
	struct labelsel *ls = NULL;
	uint64_t gen;

	(void)state;
	assert_int_equal(policy_model_new("n1", &m), 0);
	assert_int_equal(policy_model_load_json(m, doc, NULL), 0);
	assert_int_equal(m->pods.n_items, 2);
	assert_true(policy_model_is_local(m, policy_model_get_pod(m, "a", "p1")));
	assert_false(policy_model_is_local(m, policy_model_get_pod(m, "a", "p2")));
	/* unknown namespaces still carry their name label */
	assert_int_equal(labelsel_from_json(sel, "s", &ls, NULL), 0);
	assert_true(policy_model_ns_matches(m, "zz", ls));
	assert_false(policy_model_ns_matches(m, "a", ls));
	gen = m->netpol_generation;
	assert_int_equal(policy_pod_dup(policy_model_get_pod(m, "a", "p1"), &p), 0);
	assert_true(policy_pod_is_equal(p, policy_model_get_pod(m, "a", "p1")));
	assert_int_equal(policy_model_set_pod(m, p, &old), 0);
	assert_non_null(old);
	assert_int_equal(m->netpol_generation, gen); /* pods do not invalidate compiled policy */
	policy_pod_free(old);
	old = policy_model_del_pod(m, "a", "p2");
	assert_non_null(old);
	policy_pod_free(old);
	assert_null(policy_model_get_pod(m, "a", "p2"));
	assert_int_equal(policy_model_del_netpol(m, "a", "np"), 0);
	assert_true(m->netpol_generation > gen);
	labelsel_free(ls);
	policy_model_free(m);
	json_decref(doc);
	json_decref(sel);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pod_names_owned_by_each_copy),
		cmocka_unit_test(test_bad_policies_are_rejected_with_field),
		cmocka_unit_test(test_policy_types_default_like_the_apiserver),
		cmocka_unit_test(test_ports_and_peers_parse),
		cmocka_unit_test(test_pod_ips_ports_and_ifname),
		cmocka_unit_test(test_pod_verify_ips_partitions_and_reports_change),
		cmocka_unit_test(test_pod_named_ports_and_bad_pods),
		cmocka_unit_test(test_model_indexes_and_replaces),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
