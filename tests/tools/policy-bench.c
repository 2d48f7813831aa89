/* calico-c-policy-bench: measurements behind tests/bench/policy (run in a
 * private network namespace).
 *
 *   gen --pods N --policies P [--extra FILE] > state.json
 *       a deterministic synthetic cluster: 100 namespaces, N pods, P policies
 *       (pod, namespace+pod, ipBlock-with-except peers, numeric and named
 *       ports, egress on every second policy); FILE adds objects of its own
 *   sync --pods N --policies P
 *       full sync into an empty table, phase by phase (ms)
 *   labelchange --pods N --policies P --changes M [--label app|tier]
 *       after a full sync, M single-pod label changes through the
 *       incremental path; prints the median compute and kernel times (ms).
 *       app: the label policies select pods by, so each change moves the pod
 *       to other policies (its dispatch element changes too); tier: a label
 *       only peers match on, so each change moves the pod between peer sets.
 *       A change the incremental path refuses (-ESTALE) is a full compile
 *       diffed against the previous desired table, as the agent does;
 *       counted as recompiles (none are expected: the policies never change).
 *
 *       other_ops counts the table, chain, rule and set ops of all changes
 *       (0 when every change is an element operation).
 *
 *   --mix calico makes the same number of policies a mixed set: a quarter
 *   GlobalNetworkPolicies (tier security, Deny from a GlobalNetworkSet,
 *   Pass), a quarter Calico NetworkPolicies (tier platform, order, Allow
 *   from pods and a NetworkSet, Deny, Pass), the rest Kubernetes ones (tier
 *   default); --mix k8s (the default) only Kubernetes NetworkPolicies.
 *
 *   --per-node N puts pod j on node<j/N> and makes the table node0's: only
 *   its N pods (the same ones at every size) get dispatch elements, the
 *   others are peers only, and labelchange changes pods of node0. Without it
 *   every pod is local.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cleanup.h"
#include "policy/compile.h"
#include "policy/kernel.h"
#include "policy/model.h"
#include "policy/nftstate.h"
#include "policy/plan.h"

#define N_NS 100

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Pod j: namespace ns<j%100>, app a<(j/100)%10> and tier <j%3> unless given;
 * on node<j/per_node> when per_node > 0, else on no node (all local). */
static json_t *gen_pod(int j, int per_node, const char *app, const char *tier)
{
	char name[32], ns[16], ip[32], a[16], t[8], node[32];
	json_t *pod;

	snprintf(name, sizeof(name), "p%d", j);
	snprintf(ns, sizeof(ns), "ns%d", j % N_NS);
	snprintf(a, sizeof(a), "a%d", (j / N_NS) % 10);
	snprintf(t, sizeof(t), "%d", j % 3);
	snprintf(ip, sizeof(ip), "10.%d.%d.%d", 64 + ((j + 1) >> 16), ((j + 1) >> 8) & 255, (j + 1) & 255);
	/* label values are strings, as the API server gives them */
	pod = json_pack("{s:{s:s,s:s,s:{s:s,s:s}},s:{s:[{s:s,s:[{s:s,s:i}]}]},s:{s:s}}",
			"metadata", "namespace", ns, "name", name, "labels", "app", app ? app : a,
			"tier", tier ? tier : t, "spec", "containers", "name", "c", "ports", "name", "http",
			"containerPort", 8000 + j % 10, "status", "podIP", ip);
	if (pod && per_node > 0) {
		snprintf(node, sizeof(node), "node%d", j / per_node);
		json_object_set_new(json_object_get(pod, "spec"), "nodeName", json_string(node));
	}
	return pod;
}

static json_t *gen_policy(int k)
{
	char ns[16], name[16], app[16], from[16], env[8], tier[8], team[8], cidr[32], exc[32];
	json_t *ports, *ingress, *spec;

	snprintf(ns, sizeof(ns), "ns%d", k % N_NS);
	snprintf(name, sizeof(name), "np%d", k);
	snprintf(app, sizeof(app), "a%d", (k / N_NS) % 10);
	snprintf(from, sizeof(from), "a%d", (k / N_NS + 1) % 10);
	snprintf(env, sizeof(env), "e%d", k % 5);
	snprintf(tier, sizeof(tier), "%d", k % 3);
	snprintf(team, sizeof(team), "t%d", k % 10);
	snprintf(cidr, sizeof(cidr), "172.16.%d.0/24", k % 256);
	snprintf(exc, sizeof(exc), "172.16.%d.0/26", k % 256);
	ports = json_pack("[{s:i},{s:i}]", "port", 80, "port", 443);
	if (k % 4 == 0)
		json_array_append_new(ports, json_pack("{s:s}", "port", "http"));
	ingress = json_pack("[{s:[{s:{s:{s:s}}},{s:{s:{s:s}},s:{s:{s:s}}}],s:o},"
			    "{s:[{s:{s:s,s:[s]}}]}]",
			    "from", "podSelector", "matchLabels", "app", from, "namespaceSelector",
			    "matchLabels", "env", env, "podSelector", "matchLabels", "tier", tier, "ports",
			    ports, "from", "ipBlock", "cidr", cidr, "except", exc);
	spec = json_pack("{s:{s:{s:s}},s:o}", "podSelector", "matchLabels", "app", app, "ingress",
			 ingress);
	if (k % 2 == 0)
		json_object_set_new(spec, "egress",
				    json_pack("[{s:[{s:{s:{s:s}}}],s:[{s:s,s:i}]}]", "to",
					      "namespaceSelector", "matchLabels", "team", team, "ports",
					      "protocol", "UDP", "port", 53));
	return json_pack("{s:{s:s,s:s},s:o}", "metadata", "namespace", ns, "name", name, "spec",
			 spec);
}

/* The mixed set's Calico objects (--mix): tiers "security" (order 100,
 * default Pass) and "platform" (order 200, default Deny) before "default";
 * 20 GlobalNetworkSets (kind=blocklist) and one NetworkSet (role=monitoring)
 * per namespace, which rules match by labels. */
static json_t *gen_tiers(void)
{
	return json_pack("[{s:{s:s},s:{s:i,s:s}},{s:{s:s},s:{s:i,s:s}}]", "metadata", "name",
			 "security", "spec", "order", 100, "defaultAction", "Pass", "metadata",
			 "name", "platform", "spec", "order", 200, "defaultAction", "Deny");
}

static json_t *gen_netsets(void)
{
	json_t *sets = json_array();
	char name[32], set[24], net[48], ns[24];

	for (int i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "block%d", i);
		snprintf(set, sizeof(set), "s%d", i);
		snprintf(net, sizeof(net), "192.0.%d.0/24", i);
		json_array_append_new(sets, json_pack("{s:s,s:{s:s,s:{s:s,s:s}},s:{s:[s]}}", "kind",
						      "GlobalNetworkSet", "metadata", "name", name,
						      "labels", "kind", "blocklist", "set", set,
						      "spec", "nets", net));
	}
	for (int i = 0; i < N_NS; i++) {
		snprintf(ns, sizeof(ns), "ns%d", i);
		snprintf(net, sizeof(net), "10.250.%d.0/24", i);
		json_array_append_new(sets, json_pack("{s:s,s:{s:s,s:s,s:{s:s}},s:{s:[s]}}", "kind",
						      "NetworkSet", "metadata", "name", "monitoring",
						      "namespace", ns, "labels", "role", "monitoring",
						      "spec", "nets", net));
	}
	return sets;
}

/* Policy k of the mixed set, k % 4 == 0: a GlobalNetworkPolicy of tier
 * security (order k): pods app=a<..> in namespaces env=e<..> deny ingress
 * from a blocklist set and egress to 203.0.113.0/24, and Pass the rest. */
static json_t *gen_global(int k)
{
	char name[48], sel[48], nss[48], set[48];

	snprintf(name, sizeof(name), "security.gnp%d", k);
	snprintf(sel, sizeof(sel), "app == 'a%d'", (k / N_NS) % 10);
	snprintf(nss, sizeof(nss), "env == 'e%d'", k % 5);
	snprintf(set, sizeof(set), "set == 's%d'", k % 20);
	return json_pack("{s:{s:s},s:{s:s,s:i,s:s,s:s,s:[s,s],s:[{s:s,s:{s:s}},{s:s}],"
			 "s:[{s:s,s:{s:[s]}},{s:s}]}}",
			 "metadata", "name", name, "spec", "tier", "security", "order", k,
			 "selector", sel, "namespaceSelector", nss, "types", "Ingress", "Egress",
			 "ingress", "action", "Deny", "source", "selector", set, "action", "Pass",
			 "egress", "action", "Deny", "destination", "nets", "203.0.113.0/24",
			 "action", "Pass");
}

/* k % 4 == 1: a Calico NetworkPolicy of tier platform in ns<k/4%100> (order
 * k % 7 * 10, ties by name): pods app=a<..> with tier in {..} allow TCP
 * 80/443/8000-8009 from app=a<..+1> and from the namespace's monitoring
 * set, deny from tier=<..>, and Pass the rest (so the tier's default Deny
 * is only for what no rule names). */
static json_t *gen_calico(int k)
{
	char ns[24], name[48], sel[96], from[48], deny[48];

	snprintf(ns, sizeof(ns), "ns%d", k / 4 % N_NS);
	snprintf(name, sizeof(name), "platform.cnp%d", k);
	snprintf(sel, sizeof(sel), "app == 'a%d' && tier in {'%d', '%d'}", (k / N_NS) % 10, k % 3,
		 (k + 1) % 3);
	snprintf(from, sizeof(from), "app == 'a%d'", (k / N_NS + 1) % 10);
	snprintf(deny, sizeof(deny), "tier == '%d'", (k + 2) % 3);
	return json_pack("{s:{s:s,s:s},s:{s:s,s:i,s:s,s:[{s:s,s:s,s:{s:s},s:{s:[i,i,s]}},"
			 "{s:s,s:{s:s}},{s:s,s:{s:s}},{s:s}]}}",
			 "metadata", "namespace", ns, "name", name, "spec", "tier", "platform",
			 "order", k % 7 * 10, "selector", sel, "ingress", "action", "Allow",
			 "protocol", "TCP", "source", "selector", from, "destination", "ports", 80,
			 443, "8000:8009", "action", "Allow", "source", "selector",
			 "role == 'monitoring'", "action", "Deny", "source", "selector", deny,
			 "action", "Pass");
}

static json_t *gen_state(int pods, int per_node, int policies, bool mix)
{
	json_t *nss = json_array(), *ps = json_array(), *pols = json_array();
	json_t *gnps = json_array(), *cnps = json_array(), *doc;
	char name[16], env[8], team[8];

	for (int i = 0; i < N_NS; i++) {
		snprintf(name, sizeof(name), "ns%d", i);
		snprintf(env, sizeof(env), "e%d", i % 5);
		snprintf(team, sizeof(team), "t%d", i % 10);
		json_array_append_new(nss, json_pack("{s:{s:s,s:{s:s,s:s}}}", "metadata", "name", name,
						     "labels", "env", env, "team", team));
	}
	for (int j = 0; j < pods; j++)
		json_array_append_new(ps, gen_pod(j, per_node, NULL, NULL));
	for (int k = 0; k < policies; k++) {
		if (mix && k % 4 == 0)
			json_array_append_new(gnps, gen_global(k));
		else if (mix && k % 4 == 1)
			json_array_append_new(cnps, gen_calico(k));
		else
			json_array_append_new(pols, gen_policy(k));
	}
	doc = json_pack("{s:o,s:o,s:o,s:o,s:o}", "namespaces", nss, "pods", ps, "networkpolicies",
			pols, "globalnetworkpolicies", gnps, "calico-networkpolicies", cnps);
	if (doc && mix) {
		json_object_set_new(doc, "tiers", gen_tiers());
		json_object_set_new(doc, "networksets", gen_netsets());
	}
	return doc;
}

struct opts {
	int pods, policies, changes;
	int per_node; /* pods per node (node0 is ours); 0 = every pod local */
	const char *extra;
	bool tier; /* labelchange: change the tier label, else app */
	bool mix;  /* a quarter GlobalNetworkPolicies, a quarter Calico NetworkPolicies */
};

static int parse(int argc, char **argv, struct opts *o)
{
	*o = (struct opts){ .pods = 10000, .policies = 1000, .changes = 50 };
	for (int i = 0; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--pods") == 0)
			o->pods = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--policies") == 0)
			o->policies = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--changes") == 0)
			o->changes = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--per-node") == 0)
			o->per_node = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--extra") == 0)
			o->extra = argv[i + 1];
		else if (strcmp(argv[i], "--mix") == 0 && strcmp(argv[i + 1], "calico") == 0)
			o->mix = true;
		else if (strcmp(argv[i], "--mix") == 0 && strcmp(argv[i + 1], "k8s") == 0)
			o->mix = false;
		else if (strcmp(argv[i], "--label") == 0 && strcmp(argv[i + 1], "app") == 0)
			o->tier = false;
		else if (strcmp(argv[i], "--label") == 0 && strcmp(argv[i + 1], "tier") == 0)
			o->tier = true;
		else
			return -EINVAL;
	}
	return 0;
}

static int cmd_gen(const struct opts *o)
{
	json_t *doc = gen_state(o->pods, o->per_node, o->policies, o->mix), *extra;
	const char *keys[] = { "namespaces", "pods", "networkpolicies" };

	if (o->extra) {
		extra = json_load_file(o->extra, 0, NULL);
		if (!extra)
			return 1;
		for (int i = 0; i < 3; i++)
			json_array_extend(json_object_get(doc, keys[i]), json_object_get(extra, keys[i]));
		json_decref(extra);
	}
	json_dumpf(doc, stdout, JSON_COMPACT);
	json_decref(doc);
	return 0;
}

/* Builds, compiles and applies the synthetic cluster; times per phase. */
static int full_sync(const struct opts *o, struct policy_model **ret_m,
		     struct policy_desired **ret_d, struct policy_kernel **ret_k, bool print)
{
	struct policy_options po = { .nflog_group = -1 };
	struct policy_nft *obs = NULL;
	struct policy_plan *p = NULL;
	char *err = NULL;
	json_t *doc = gen_state(o->pods, o->per_node, o->policies, o->mix);
	double t0, t1, t2, t3, t4, t5;
	int r;

	t0 = now_ms();
	r = policy_model_new(o->per_node > 0 ? "node0" : NULL, ret_m);
	if (r == 0)
		r = policy_model_load_json(*ret_m, doc, &err);
	json_decref(doc);
	t1 = now_ms();
	if (r == 0)
		r = policy_compile(*ret_m, &po, ret_d);
	t2 = now_ms();
	if (r == 0)
		r = policy_kernel_open(ret_k);
	if (r == 0)
		r = policy_kernel_read(*ret_k, POLICY_TABLE_DEFAULT, &obs);
	t3 = now_ms();
	if (r == 0)
		r = policy_plan(obs, policy_desired_nft(*ret_d), &p, &err);
	t4 = now_ms();
	if (r == 0)
		r = policy_kernel_apply(*ret_k, p, &err);
	t5 = now_ms();
	if (r < 0) {
		fprintf(stderr, "sync failed: %s (%s)\n", strerror(-r), err ? err : "");
		return r;
	}
	if (print)
		printf("sync pods=%d policies=%d ops=%zu chains=%zu sets=%zu elements=%zu "
		       "load_ms=%.1f compile_ms=%.1f read_ms=%.1f plan_ms=%.1f kernel_ms=%.1f\n",
		       o->pods, o->policies, p->n_ops, policy_plan_count(p, POLICY_OP_CHAIN_ADD),
		       policy_plan_count(p, POLICY_OP_SET_ADD),
		       policy_plan_count_elems(p, POLICY_OP_ELEM_ADD), t1 - t0, t2 - t1, t3 - t2,
		       t4 - t3, t5 - t4);
	policy_plan_free(p);
	policy_nft_free(obs);
	free(err);
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int cmd_labelchange(const struct opts *o)
{
	struct policy_model *m = NULL;
	struct policy_desired *d = NULL;
	struct policy_kernel *k = NULL;
	double *tc = calloc((size_t)o->changes, sizeof(double));
	double *tk = calloc((size_t)o->changes, sizeof(double));
	double *tt = calloc((size_t)o->changes, sizeof(double));
	size_t elems = 0;
	int dispatch = 0;   /* changes that changed a pod's dispatch (vmap) element */
	int recompiles = 0; /* changes the incremental path refused (-ESTALE) */
	size_t other_ops = 0; /* table, chain, rule or set ops: not an element change */
	int r;

	if (!tc || !tk || !tt) {
		free(tc);
		free(tk);
		free(tt);
		return 1;
	}
	r = full_sync(o, &m, &d, &k, false);
	for (int i = 0; r == 0 && i < o->changes; i++) {
		/* with nodes, a pod of ours: its dispatch element changes too.
		 * Pass 0 over the pods moves each away from its own value, pass 1
		 * back, and so on: every change is a real one. */
		int n = o->per_node > 0 && o->per_node < o->pods ? o->per_node : o->pods;
		int j = (int)(((long)i * 7919) % n), away = (i / n) % 2 == 0;
		char val[16];
		json_t *pj;
		struct policy_pod *pod = NULL, *old = NULL, *copy = NULL;
		struct policy_plan *p = NULL;
		double t0, t1, t2;

		if (o->tier) {
			snprintf(val, sizeof(val), "%d", (j % 3 + away * (1 + j % 2)) % 3);
			pj = gen_pod(j, o->per_node, NULL, val);
		} else {
			snprintf(val, sizeof(val), "a%d", ((j / N_NS) + away * (1 + j % 2)) % 10);
			pj = gen_pod(j, o->per_node, val, NULL);
		}
		r = pj ? policy_pod_from_json(pj, &pod, NULL) : -ENOMEM;
		json_decref(pj);
		t0 = now_ms();
		if (r == 0)
			r = policy_pod_dup(pod, &copy);
		if (r == 0)
			r = policy_model_set_pod(m, pod, &old);
		if (r == 0)
			r = policy_desired_update_pod(d, m, old, copy, &p);
		if (r == -ESTALE) {
			/* the change made a policy relevant or irrelevant to this
			 * node: what the agent does, a full compile diffed against
			 * the table it last applied */
			struct policy_options po = { .nflog_group = -1 };
			struct policy_desired *nd = NULL;

			recompiles++;
			r = policy_compile(m, &po, &nd);
			if (r == 0)
				r = policy_plan(policy_desired_nft(d), policy_desired_nft(nd), &p, NULL);
			if (r == 0) {
				policy_desired_free(d);
				d = nd;
			} else {
				policy_desired_free(nd);
			}
		}
		t1 = now_ms();
		if (r == 0)
			r = policy_kernel_apply(k, p, NULL);
		t2 = now_ms();
		if (p) {
			elems += policy_plan_count_elems(p, POLICY_OP_ELEM_ADD) +
				 policy_plan_count_elems(p, POLICY_OP_ELEM_DEL);
			other_ops += p->n_ops - policy_plan_count(p, POLICY_OP_ELEM_ADD) -
				     policy_plan_count(p, POLICY_OP_ELEM_DEL);
			for (size_t q = 0; q < p->n_ops; q++)
				if ((p->ops[q].kind == POLICY_OP_ELEM_ADD ||
				     p->ops[q].kind == POLICY_OP_ELEM_DEL) &&
				    p->ops[q].set_kind == POLICY_SET_IFVMAP) {
					dispatch++;
					break;
				}
		}
		if (r < 0)
			fprintf(stderr, "label change %d (pod p%d) failed: %s\n", i, j, strerror(-r));
		tc[i] = t1 - t0;
		tk[i] = t2 - t1;
		tt[i] = t2 - t0;
		policy_pod_free(old);
		policy_pod_free(copy);
		policy_plan_free(p);
	}
	if (r == 0) {
		qsort(tc, (size_t)o->changes, sizeof(double), cmp_double);
		qsort(tk, (size_t)o->changes, sizeof(double), cmp_double);
		qsort(tt, (size_t)o->changes, sizeof(double), cmp_double);
		printf("labelchange pods=%d per_node=%d policies=%d label=%s changes=%d "
		       "elements_per_change=%.1f dispatch_changes=%d recompiles=%d other_ops=%zu "
		       "median_ms=%.3f p90_ms=%.3f compute_median_ms=%.3f kernel_median_ms=%.3f\n",
		       o->pods, o->per_node, o->policies, o->tier ? "tier" : "app", o->changes,
		       (double)elems / o->changes, dispatch, recompiles, other_ops, tt[o->changes / 2],
		       tt[o->changes * 9 / 10], tc[o->changes / 2], tk[o->changes / 2]);
	}
	free(tc);
	free(tk);
	free(tt);
	policy_kernel_close(k);
	policy_desired_free(d);
	policy_model_free(m);
	return r < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct policy_model *m = NULL;
	struct policy_desired *d = NULL;
	struct policy_kernel *k = NULL;
	struct opts o;
	int r;

	if (argc < 2 || parse(argc - 2, argv + 2, &o) < 0 || o.pods < 1 || o.policies < 0 ||
	    o.changes < 1 || o.per_node < 0) {
		fprintf(stderr, "usage: %s gen|sync|labelchange [--pods N] [--policies P] "
				"[--changes M] [--label app|tier] [--per-node N] [--extra FILE] "
				"[--mix k8s|calico]\n", argv[0]);
		return 2;
	}
	if (strcmp(argv[1], "gen") == 0)
		return cmd_gen(&o);
	if (strcmp(argv[1], "labelchange") == 0)
		return cmd_labelchange(&o);
	if (strcmp(argv[1], "sync") != 0)
		return 2;
	r = full_sync(&o, &m, &d, &k, true);
	policy_kernel_close(k);
	policy_desired_free(d);
	policy_model_free(m);
	return r < 0 ? 1 : 0;
}
