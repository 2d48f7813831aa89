/* calicoctl-c policy explain: which NetworkPolicy rule allows or denies a
 * flow between two pods, or between a node and the outside through one of
 * its HostEndpoints.
 *
 *   policy explain SRC DST PORT/PROTO [SRC DST PORT/PROTO...] [--counters]
 *                  [--table NAME] [-o text|json]
 *                  [--failsafe-inbound PORTS] [--failsafe-outbound PORTS]
 *
 * SRC and DST are NAMESPACE/NAME of a pod, an IP address (an endpoint
 * outside the pod network), or hep:NAME[=IP]: a local process of the
 * HostEndpoint's node, through that endpoint (IP: the node's address,
 * default its first expectedIP); the failsafe ports are Calico's defaults
 * unless given (in felix-c's FailsafeInbound/OutboundHostPorts text). A
 * pod or an IP address followed by @hep:NAME is forwarded by the
 * HostEndpoint's node: SRC arrives through that endpoint, DST leaves
 * through it. --source-port gives the flows' source port, which Calico
 * rules with source ports and the doNotTrack failsafe replies match. DST
 * node:IP is a local process of the source pod's own node at IP: the pod's
 * egress, then DefaultEndpointToHostAction (--endpoint-to-host-action,
 * else FelixConfiguration 'default', else Calico's default Drop). Pods, namespaces and NetworkPolicies come from
 * the apiserver; policy_explain() evaluates them as the compiled ruleset
 * does. --counters (on the node) adds the packet counters of the nft rules
 * that decided: the matching rules' accept counters, or the drop counter of
 * the pod's profile chain. Several flows may be given (the model is loaded
 * once); with -o json each flow is then one line of compact JSON.
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "calicoctl-c/ctl.h"
#include "cleanup.h"
#include "kapi.h"
#include "log.h"
#include "policy/calico.h"
#include "policy/cnp.h"
#include "policy/compile.h"
#include "policy/explain.h"
#include "policy/failsafe.h"
#include "policy/kernel.h"
#include "policy/model.h"
#include "policy/nftstate.h"
#include "prefix.h"


struct explain_args {
	const char *src, *dst;
	struct policy_flow flow;
	struct policy_failsafes fs_in, fs_out;
	const char *host_action; /* --endpoint-to-host-action, NULL: FelixConfiguration's */
	const char *host_action_from; /* where host_action came from */
	const char *table;
	uint16_t sport; /* --source-port, 0: not given */
	bool counters, json;
	bool compact; /* several flows: one JSON line each */
};

/* ---- loading the model from the apiserver ---- */

static int list_all(struct ctl *c, const struct kapi_resource *res, json_t **ret)
{
	_cleanup_free_ char *path = kapi_path(res, NULL, NULL, NULL);
	int r;

	if (!path)
		return ctl_oom();
	r = kapi_list(c->k, path, NULL, ret, NULL);
	if (r == -ENOENT) { /* the kind is not served (its CRD is not installed): none */
		*ret = json_array();
		return *ret ? 0 : ctl_oom();
	}
	if (r < 0)
		return log_error_errno(r, "Failed to list %s: %s%s%m", res->plural,
				       kapi_last_error(c->k), *kapi_last_error(c->k) ? ": " : "");
	return 0;
}

/* The kinds felix-c's policy model is built from, with their state keys
 * (policy_model_load_object()). */
static const struct {
	const struct kapi_resource *res;
	const char *key;
} obj_kinds[] = {
	{ &kapi_namespaces, "namespaces" },
	{ &kapi_pods, "pods" },
	{ &kapi_networkpolicies, "networkpolicies" },
	{ &kapi_calico_networkpolicies, "calico-networkpolicies" },
	{ &kapi_globalnetworkpolicies, "globalnetworkpolicies" },
	{ &kapi_clusternetworkpolicies, "clusternetworkpolicies" },
	{ &kapi_tiers, "tiers" },
	{ &kapi_networksets, "networksets" },
	{ &kapi_globalnetworksets, "networksets" },
	{ &kapi_serviceaccounts, "serviceaccounts" },
	/* their expectedIPs: addresses rule selectors match, as network sets */
	{ &kapi_hostendpoints, "hostendpoints" },
};

/* An object as felix-c takes it: a policy it rejects by its stand-in. */
static int add_object(struct policy_model *m, const char *key, const json_t *o, char **err)
{
	bool global = strcmp(key, "globalnetworkpolicies") == 0;
	struct policy_netpol *np = NULL;
	int r = policy_model_load_object(m, key, o, err);

	if (r != -EINVAL && r != -EOPNOTSUPP)
		return r;
	if (strcmp(key, "networkpolicies") == 0) {
		log_warning("NetworkPolicy '%s/%s' is rejected: the pods it selects are isolated "
			    "and it allows nothing: %s",
			    kapi_obj_namespace(o) ?: "", kapi_obj_name(o) ?: "", *err ?: "invalid");
		r = policy_netpol_deny_from_json(o, &np);
	} else if (strcmp(key, "clusternetworkpolicies") == 0) {
		r = policy_cnp_deny_from_json(o, &np);
	} else if (global || strcmp(key, "calico-networkpolicies") == 0) {
		r = policy_calico_deny_from_json(o, global ? POLICY_KIND_GLOBAL : POLICY_KIND_CALICO,
						 &np);
	}
	return r < 0 ? r : policy_model_set_netpol(m, np);
}

/* Adds each object; an invalid one is skipped with a warning, as the node
 * agent skips it. */
static int add_objects(struct policy_model *m, const json_t *items, size_t k)
{
	const json_t *o;
	size_t i;
	int r;

	json_array_foreach(items, i, o) {
		_cleanup_free_ char *err = NULL;

		r = add_object(m, obj_kinds[k].key, o, &err);
		if (r == -ENOMEM)
			return ctl_oom();
		if (r < 0)
			log_warning("Skipping %s '%s/%s': %s", obj_kinds[k].res->plural,
				    kapi_obj_namespace(o) ?: "", kapi_obj_name(o) ?: "",
				    err ? err : "invalid");
	}
	return 0;
}

/* The model felix-c builds, from the same objects. */
static int load_model(struct ctl *c, struct policy_model **ret)
{
	_cleanup_(policy_model_freep) struct policy_model *m = NULL;
	int r;

	r = policy_model_new(NULL, &m);
	if (r < 0)
		return ctl_oom();
	for (size_t k = 0; k < ELEMENTSOF(obj_kinds); k++) {
		json_t *items = NULL;

		r = list_all(c, obj_kinds[k].res, &items);
		if (r == 0)
			r = add_objects(m, items, k);
		json_decref(items);
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(m);
	return 0;
}

/* DefaultEndpointToHostAction of FelixConfiguration 'default', else
 * Calico's default (felix-c's environment may override both). */
static int host_action_configured(struct ctl *c, const char **ret, const char **ret_from)
{
	json_t *items = NULL, *o;
	const char *v = NULL;
	size_t i;
	int r;

	*ret = "Drop";
	*ret_from = "Calico's default; felix-c's FELIX_DEFAULTENDPOINTTOHOSTACTION overrides it";
	r = list_all(c, &kapi_felixconfigurations, &items);
	if (r < 0)
		return r;
	json_array_foreach(items, i, o)
		if (strcmp(kapi_obj_name(o) ?: "", "default") == 0)
			v = json_string_value(json_object_get(json_object_get(o, "spec"),
							      "defaultEndpointToHostAction"));
	if (v && policy_host_action_from_string(v) >= 0) {
		*ret = policy_host_action_to_string(policy_host_action_from_string(v));
		*ret_from = "FelixConfiguration 'default'; felix-c's "
			    "FELIX_DEFAULTENDPOINTTOHOSTACTION overrides it";
	}
	json_decref(items);
	return 0;
}

/* ---- arguments ---- */

static int parse_flow(const char *s, struct policy_flow *f)
{
	static const struct {
		const char *name;
		uint8_t proto;
	} protos[] = { { "tcp", IPPROTO_TCP }, { "udp", IPPROTO_UDP }, { "sctp", IPPROTO_SCTP } };
	const char *slash = strchr(s, '/');
	unsigned long port;
	char *end;

	port = strtoul(s, &end, 10);
	if (end == s || port == 0 || port > 65535 || (*end && end != slash))
		return -EINVAL;
	f->port = (uint16_t)port;
	f->proto = IPPROTO_TCP;
	if (!slash)
		return 0;
	for (size_t i = 0; i < ELEMENTSOF(protos); i++)
		if (strcasecmp(slash + 1, protos[i].name) == 0) {
			f->proto = protos[i].proto;
			return 0;
		}
	return -EINVAL;
}

static const char *proto_name(uint8_t p)
{
	return p == IPPROTO_TCP ? "TCP" : p == IPPROTO_UDP ? "UDP" : "SCTP";
}

/* hep:NAME[=IP] (@addr NULL: hep:NAME only) */
static int hep_endpoint(const struct policy_model *m, const char *s, const struct policy_hep **hep,
			struct in_prefix *addr)
{
	const char *eq = strchr(s, '=');
	char name[256];

	snprintf(name, sizeof(name), "%.*s", (int)(eq ? eq - s : (ptrdiff_t)strlen(s)), s);
	*hep = policy_hmap_get_str(&m->heps, name);
	if (!*hep)
		return log_error_errno(-ENOENT, "No HostEndpoint '%s'", name);
	if (!addr)
		return eq ? log_error_errno(-EINVAL, "'@hep:%s': no '=IP' here: the address is the "
						     "one before '@'", s)
			  : 0;
	if (eq)
		return prefix_parse(eq + 1, PREFIX_ADDR_ONLY, addr) < 0
			       ? log_error_errno(-EINVAL, "'%s' is not an IP address", eq + 1)
			       : 0;
	if ((*hep)->n_ips == 0)
		return log_error_errno(-EINVAL, "HostEndpoint '%s' has no expectedIPs: give "
						"hep:%s=<the node's address>", name, name);
	*addr = (*hep)->ips[0];
	return 0;
}

/* One end of a flow: @s up to @end (an '@' or its terminating NUL). */
static int endpoint_at(const struct policy_model *m, const char *s, const char *end,
		       const struct policy_pod **pod, const struct policy_hep **hep,
		       struct in_prefix *addr)
{
	char buf[512], ns[256];
	const char *slash;

	snprintf(buf, sizeof(buf), "%.*s", (int)(end - s), s);
	s = buf;
	slash = strchr(s, '/');
	*pod = NULL;
	*hep = NULL;
	if (*end && (strncmp(s, "hep:", 4) == 0 || strncmp(s, "node:", 5) == 0))
		return log_error_errno(-EINVAL, "'%s': only a pod or an IP address is forwarded "
						"through a HostEndpoint", s);
	if (strncmp(s, "hep:", 4) == 0)
		return hep_endpoint(m, s + 4, hep, addr);
	if (strncmp(s, "node:", 5) == 0 && prefix_parse(s + 5, PREFIX_ADDR_ONLY, addr) < 0)
		return log_error_errno(-EINVAL, "'%s' is not an IP address", s + 5);
	if (strncmp(s, "node:", 5) == 0)
		return 0;
	if (!slash) {
		if (prefix_parse(s, PREFIX_ADDR_ONLY, addr) < 0)
			return log_error_errno(-EINVAL, "'%s' is neither NAMESPACE/NAME nor an IP "
							"address", s);
		return 0;
	}
	snprintf(ns, sizeof(ns), "%.*s", (int)(slash - s), s);
	*pod = policy_model_get_pod(m, ns, slash + 1);
	if (!*pod)
		return log_error_errno(-ENOENT, "No pod '%s'", s);
	return 0;
}

/* SRC or DST: an end, then @hep:NAME when the flow is forwarded through
 * that HostEndpoint (*@fwd, else NULL). */
static int endpoint(const struct policy_model *m, const char *s, const struct policy_pod **pod,
		    const struct policy_hep **hep, const struct policy_hep **fwd,
		    struct in_prefix *addr)
{
	const char *at = strchr(s, '@');

	*fwd = NULL;
	if (at && strncmp(at + 1, "hep:", 4) != 0)
		return log_error_errno(-EINVAL, "'%s': '@' is followed by hep:NAME", s);
	if (at && hep_endpoint(m, at + 5, fwd, NULL) < 0)
		return -EINVAL;
	return endpoint_at(m, s, at ?: s + strlen(s), pod, hep, addr);
}

static int parse_args(int argc, char **argv, struct explain_args *a)
{
	static const struct option opts[] = { { "counters", no_argument, NULL, 'c' },
					      { "table", required_argument, NULL, 't' },
					      { "output", required_argument, NULL, 'o' },
					      { "failsafe-inbound", required_argument, NULL, 'i' },
					      { "failsafe-outbound", required_argument, NULL, 'u' },
					      { "endpoint-to-host-action", required_argument, NULL, 'e' },
					      { "source-port", required_argument, NULL, 's' },
					      {} };
	unsigned long port;
	char *end;
	int o;

	*a = (struct explain_args){ .table = POLICY_TABLE_DEFAULT };
	if (policy_failsafes_parse(POLICY_FAILSAFE_IN_DEFAULT, &a->fs_in) < 0 ||
	    policy_failsafes_parse(POLICY_FAILSAFE_OUT_DEFAULT, &a->fs_out) < 0)
		return -EINVAL;
	while ((o = getopt_long(argc, argv, "o:", opts, NULL)) >= 0) {
		if (o == 'c')
			a->counters = true;
		else if (o == 't')
			a->table = optarg;
		else if (o == 'e' && policy_host_action_from_string(optarg) >= 0) {
			a->host_action = optarg;
			a->host_action_from = "--endpoint-to-host-action";
		}
		else if (o == 'i' || o == 'u') {
			if (policy_failsafes_parse(optarg, o == 'i' ? &a->fs_in : &a->fs_out) < 0)
				return -EINVAL;
		}
		else if (o == 'o' && (!strcmp(optarg, "json") || !strcmp(optarg, "text")))
			a->json = !strcmp(optarg, "json");
		else if (o == 's' && (port = strtoul(optarg, &end, 10)) > 0 && port <= 65535 &&
			 !*end)
			a->sport = (uint16_t)port;
		else
			return -EINVAL;
	}
	if (argc - optind < 3 || (argc - optind) % 3 != 0)
		return -EINVAL;
	a->compact = argc - optind > 3;
	return 0;
}

/* ---- counters ---- */

struct counter {
	bool found;
	uint64_t packets, bytes;
};

/* Whether a rule's comment carries @label (cut as policy_nft_rule_seal()
 * cuts labels to fit nft's comment limit). */
static bool label_is(const char *comment, const char *label)
{
	char buf[POLICY_COMMENT_MAX];
	size_t n = strlen(label);

	policy_nft_comment_label(comment, buf, sizeof(buf));
	if (n > POLICY_COMMENT_MAX - 16)
		n = POLICY_COMMENT_MAX - 16;
	return strlen(buf) == n && strncmp(buf, label, n) == 0;
}

/* Sums the counters of the rules whose comment label is @label, in every
 * chain (a rule has a few nft rules, one per address/port variant). */
static struct counter rules_counter(const struct policy_nft *t, const char *label)
{
	struct counter c = {};
	void *v;

	for (size_t i = 0; t && policy_hmap_next(&t->chains, &i, &v);) {
		const struct policy_nft_chain *ch = v;

		for (size_t k = 0; k < ch->n_rules; k++) {
			if (!label_is(ch->rules[k]->comment, label) || !ch->rules[k]->has_counter)
				continue;
			c.found = true;
			c.packets += ch->rules[k]->packets;
			c.bytes += ch->rules[k]->bytes;
		}
	}
	return c;
}

/* The drop counter of @pod's profile chain for @dir, found through the
 * dispatch map (ifname -> chain). */
static struct counter drop_counter(const struct policy_nft *t, const struct policy_pod *pod,
				   enum policy_dir dir)
{
	const struct policy_nft_set *map =
		t ? policy_nft_set_get(t, dir == POLICY_DIR_INGRESS ? "cc_to_wl" : "cc_from_wl")
		  : NULL;
	struct counter c = {};
	char chain[POLICY_COMMENT_MAX], label[300];
	void *v;

	for (size_t i = 0; map && policy_hmap_next(&map->elems, &i, &v);) {
		const struct policy_elem *e = v;
		const struct policy_nft_chain *ch;

		if (e->len <= 16 || strncmp((const char *)e->data, pod->ifname, 16) != 0)
			continue;
		snprintf(chain, sizeof(chain), "%.*s", (int)(e->len - 16), e->data + 16);
		ch = policy_nft_chain_get(t, chain);
		snprintf(label, sizeof(label), "%s drop %s", pod->ns, policy_dir_to_string(dir));
		for (size_t k = 0; ch && k < ch->n_rules; k++) {
			if (label_is(ch->rules[k]->comment, label) && ch->rules[k]->has_counter) {
				c.found = true;
				c.packets += ch->rules[k]->packets;
				c.bytes += ch->rules[k]->bytes;
			}
		}
	}
	return c;
}

static int read_table(const char *table, struct policy_nft **ret)
{
	_cleanup_(policy_kernel_closep) struct policy_kernel *k = NULL;
	int r = policy_kernel_open(&k);

	if (r < 0)
		return log_error_errno(r, "--counters: cannot open netfilter: %m");
	r = policy_kernel_read(k, table, ret);
	if (r < 0)
		return log_error_errno(r, "--counters: cannot read table '%s': %m", table);
	if (!(*ret)->table_exists)
		log_warning("--counters: no table '%s' on this node", table);
	return 0;
}

/* ---- output ---- */

/* An endpoint's address without its (full-length) prefix. */
static void addr_text(const struct in_prefix *a, char *buf, size_t size)
{
	(void)prefix_format(a, false, buf, size);
	buf[strcspn(buf, "/")] = '\0';
}

/* @fwd: the host endpoint a forwarded flow passes on this end's side
 * (@in: the source's, it arrives through it). */
static const char *endpoint_name(const struct policy_pod *p, const struct policy_hep *h,
				 const struct policy_hep *fwd, bool in, const struct in_prefix *a,
				 char *buf, size_t size)
{
	char ip[64], via[300] = "";

	addr_text(a, ip, sizeof(ip));
	if (fwd)
		snprintf(via, sizeof(via), " %s through host endpoint %s of node %s",
			 in ? "in" : "out", fwd->name, fwd->node);
	if (p)
		snprintf(buf, size, "%s/%s (%s)%s", p->ns, p->name, ip, via);
	else if (h)
		snprintf(buf, size, "node %s through host endpoint %s (%s)", h->node, h->name, ip);
	else
		snprintf(buf, size, "%s%s", ip, via);
	return buf;
}

/* The rule's counter label (compile.c): a Calico rule's names its action. */
static void rule_label(const struct policy_explain_rule *r, enum policy_dir dir, char *buf,
		       size_t size)
{
	snprintf(buf, size, "%s %s[%zu]%s%s", r->np->key, policy_dir_to_string(dir), r->rule,
		 r->np->kind == POLICY_KIND_K8S ? "" : " ",
		 r->np->kind == POLICY_KIND_K8S ? "" : policy_action_to_string(r->action));
}

static const char *rule_outcome(const struct policy_explain_rule *r)
{
	static const char *const matched[_POLICY_ACTION_MAX] = {
		[POLICY_ACTION_ALLOW] = "allows this flow",
		[POLICY_ACTION_DENY] = "denies this flow",
		[POLICY_ACTION_PASS] = "passes it to the next tier",
		[POLICY_ACTION_LOG] = "logs it and goes on",
	};

	if (r->peer_ok && r->port_ok)
		return matched[r->action];
	return !r->peer_ok && !r->port_ok ? "no match: neither peer nor port"
	       : !r->peer_ok		  ? "no match: peer"
					  : "no match: port";
}

static const char *const end_names[_POLICY_EXPLAIN_END_MAX] = {
	[POLICY_EXPLAIN_END_RULE] = "rule",
	[POLICY_EXPLAIN_END_STAND_IN] = "stand-in",
	[POLICY_EXPLAIN_END_TIER] = "tier-default",
	[POLICY_EXPLAIN_END_PASSED] = "passed",
	[POLICY_EXPLAIN_END_FAILSAFE] = "failsafe",
	[POLICY_EXPLAIN_END_PROFILE] = "profile",
	[POLICY_EXPLAIN_END_HOST_ACTION] = "endpoint-to-host-action",
	[POLICY_EXPLAIN_END_FORWARD] = "forward-default",
};

/* A host endpoint's end that is not a tier's. */
static void print_hep_end(const struct policy_explain_dir *d, enum policy_dir dir)
{
	if (d->end == POLICY_EXPLAIN_END_FAILSAFE)
		printf("  a failsafe %s port accepts it, before any policy\n",
		       dir == POLICY_DIR_INGRESS ? "inbound" : "outbound");
	else if (d->hep->rejected)
		printf("  the HostEndpoint %s was rejected: it denies all %s\n", d->hep->name,
		       d->forward ? "forwarded traffic" : "but failsafe traffic");
	else if (d->end == POLICY_EXPLAIN_END_FORWARD)
		printf("  no applyOnForward policy decided: forwarded traffic is accepted\n");
	else
		printf("  no tier decided: the endpoint's profiles %s\n",
		       d->allowed ? "(projectcalico-default-allow) allow"
				  : "allow nothing (no projectcalico-default-allow)");
}

/* What decided a tiered direction, in words. */
static void print_end(const struct policy_explain_dir *d, enum policy_dir dir)
{
	char label[600];

	switch (d->end) {
	case POLICY_EXPLAIN_END_RULE:
		rule_label(&d->rules[d->n_rules - 1], dir, label, sizeof(label));
		printf("  decided in tier '%s' by %s", d->tier, label);
		if (d->hep)
			printf(" (%s policy%s)", policy_host_mode_to_string(d->stage),
			       d->untracked ? ": not tracked by conntrack" : "");
		putchar('\n');
		break;
	case POLICY_EXPLAIN_END_FAILSAFE:
	case POLICY_EXPLAIN_END_PROFILE:
	case POLICY_EXPLAIN_END_FORWARD:
		print_hep_end(d, dir);
		break;
	case POLICY_EXPLAIN_END_STAND_IN:
		printf("  decided in tier '%s' by %s: rejected, its stand-in denies what reaches "
		       "it\n", d->tier, d->stand_in->key);
		break;
	case POLICY_EXPLAIN_END_TIER:
		printf("  decided by tier '%s': no rule matched, its default action Deny\n",
		       d->tier);
		break;
	default:
		printf("  every tier passed: the namespace's profile allows\n");
		break;
	}
}

static void print_counter(struct counter c, const char *what)
{
	if (c.found)
		printf("      %s counter: %llu packets, %llu bytes\n", what,
		       (unsigned long long)c.packets, (unsigned long long)c.bytes);
	else
		printf("      %s counter: not programmed on this node\n", what);
}

static void print_dir(const struct policy_explain_dir *d, enum policy_dir dir,
		      const struct policy_pod *pod, const struct policy_nft *t, bool counters)
{
	const char *dname = dir == POLICY_DIR_INGRESS ? "Ingress" : "Egress";
	char label[600];

	if (d->hep) {
		printf("%s%s of host endpoint %s (node %s): %s; policies",
		       d->forward ? "Forwarded: " : "", dname, d->hep->name, d->hep->node,
		       d->allowed ? "ALLOWED" : "DENIED");
		for (size_t i = 0; i < d->n_selecting; i++)
			printf("%s %s (%s)", i ? "," : "", d->selecting[i]->key,
			       policy_host_mode_to_string(d->selecting[i]->host_mode));
		printf("%s\n", d->n_selecting ? "" : " none");
		if (d->failsafe_passed)
			printf("  a failsafe port passed it through the doNotTrack/preDNAT stage\n");
	} else if (!d->filtered) {
		printf("%s: not filtered (%s)\n", dname,
		       pod ? "hostNetwork pod" : "not a pod: no policy applies");
		return;
	}
	if (!d->hep && !d->isolated) {
		printf("%s of %s/%s: ALLOWED: no NetworkPolicy with %s selects the pod\n", dname,
		       pod->ns, pod->name, dname);
		return;
	}
	if (!d->hep) {
		printf("%s of %s/%s: %s; isolated by", dname, pod->ns, pod->name,
		       d->allowed ? "ALLOWED" : "DENIED");
		for (size_t i = 0; i < d->n_selecting; i++)
			printf("%s %s", i ? "," : "", d->selecting[i]->key);
		putchar('\n');
	}
	for (size_t i = 0; i < d->n_rules; i++) {
		const struct policy_explain_rule *r = &d->rules[i];
		bool ok = r->peer_ok && r->port_ok;

		rule_label(r, dir, label, sizeof(label));
		printf("  %-40s %s\n", label, rule_outcome(r));
		if (ok && counters && r->action != POLICY_ACTION_LOG)
			print_counter(rules_counter(t, label),
				      r->action == POLICY_ACTION_ALLOW ? "accept" : "rule");
	}
	if (d->n_rules == 0 && d->n_selecting)
		printf("  (the selecting policies have no %s rules)\n", policy_dir_to_string(dir));
	if (d->tiered)
		print_end(d, dir);
	else if (!d->allowed && counters)
		print_counter(drop_counter(t, pod, dir), "drop");
}

static json_t *dir_json(const struct policy_explain_dir *d, enum policy_dir dir,
			const struct policy_pod *pod, const struct policy_nft *t, bool counters)
{
	json_t *o = json_pack("{s:b, s:b, s:b, s:[], s:[]}", "filtered", d->filtered, "isolated",
			      d->isolated, "allowed", d->allowed, "policies", "rules");
	char label[600];

	for (size_t i = 0; o && i < d->n_selecting; i++)
		json_array_append_new(json_object_get(o, "policies"),
				      json_string(d->selecting[i]->key));
	for (size_t i = 0; o && i < d->n_rules; i++) {
		const struct policy_explain_rule *r = &d->rules[i];
		json_t *jr;

		rule_label(r, dir, label, sizeof(label));
		jr = json_pack("{s:s, s:s, s:i, s:s, s:b, s:b, s:b}", "rule", label, "policy",
			       r->np->key, "index", (int)r->rule, "action",
			       policy_action_to_string(r->action), "peer", r->peer_ok, "port",
			       r->port_ok, "allows",
			       r->peer_ok && r->port_ok && r->action == POLICY_ACTION_ALLOW);
		if (jr && counters && r->peer_ok && r->port_ok) {
			struct counter c = rules_counter(t, label);

			json_object_set_new(jr, "packets", c.found ? json_integer((json_int_t)c.packets)
								   : json_null());
		}
		json_array_append_new(json_object_get(o, "rules"), jr);
	}
	if (o && d->tiered)
		json_object_update_new(o, json_pack("{s:s, s:s?, s:s?}", "decided_by",
						    end_names[d->end], "tier", d->tier, "stand_in",
						    d->stand_in ? d->stand_in->key : NULL));
	if (o && d->end == POLICY_EXPLAIN_END_HOST_ACTION)
		json_object_set_new(o, "decided_by", json_string(end_names[d->end]));
	if (o && d->hep)
		json_object_update_new(o, json_pack("{s:s, s:s, s:b, s:b}", "host_endpoint",
						    d->hep->name, "stage",
						    policy_host_mode_to_string(d->stage), "untracked",
						    d->untracked, "failsafe_passed", d->failsafe_passed));
	if (o && counters && d->filtered && !d->allowed && !d->tiered) {
		struct counter c = drop_counter(t, pod, dir);

		json_object_set_new(o, "drop_packets",
				    c.found ? json_integer((json_int_t)c.packets) : json_null());
	}
	return o;
}

static int print_json(const struct policy_explain *e, const struct explain_args *a,
		      const struct policy_nft *t)
{
	char s[64], d[64];
	json_t *o;
	char *text;

	addr_text(&a->flow.saddr, s, sizeof(s));
	addr_text(&a->flow.daddr, d, sizeof(d));
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:b, s:o, s:o}", "src", a->src, "dst",
		      a->dst, "saddr", s, "daddr", d, "protocol", proto_name(a->flow.proto),
		      "port", (int)a->flow.port, "allowed", e->allowed, "egress",
		      dir_json(&e->dir[POLICY_DIR_EGRESS], POLICY_DIR_EGRESS, a->flow.src, t,
			       a->counters),
		      "ingress",
		      dir_json(&e->dir[POLICY_DIR_INGRESS], POLICY_DIR_INGRESS, a->flow.dst, t,
			       a->counters));
	if (o && a->flow.to_node)
		json_object_set_new(o, "endpoint_to_host_action",
				    json_string(policy_host_action_to_string(a->flow.endpoint_to_host)));
	if (o && a->flow.sport)
		json_object_set_new(o, "source_port", json_integer(a->flow.sport));
	if (o && a->flow.fwd_in)
		json_object_set_new(o, "forward_ingress",
				    dir_json(&e->fwd[POLICY_DIR_INGRESS], POLICY_DIR_INGRESS, NULL, t,
					     a->counters));
	if (o && a->flow.fwd_out)
		json_object_set_new(o, "forward_egress",
				    dir_json(&e->fwd[POLICY_DIR_EGRESS], POLICY_DIR_EGRESS, NULL, t,
					     a->counters));
	text = o ? json_dumps(o, a->compact ? JSON_COMPACT : JSON_INDENT(2)) : NULL;
	json_decref(o);
	if (!text)
		return ctl_oom();
	puts(text);
	free(text);
	return 0;
}

static void print_text(const struct policy_explain *e, const struct explain_args *a,
		       const struct policy_nft *t)
{
	char s[300], d[300];

	printf("Flow: %s -> %s %s port %u",
	       endpoint_name(a->flow.src, a->flow.src_hep, a->flow.fwd_in, true, &a->flow.saddr,
			     s, sizeof(s)),
	       endpoint_name(a->flow.dst, a->flow.dst_hep, a->flow.fwd_out, false,
			     &a->flow.daddr, d, sizeof(d)),
	       proto_name(a->flow.proto), a->flow.port);
	if (a->flow.sport)
		printf(" (source port %u)", a->flow.sport);
	putchar('\n');
	print_dir(&e->dir[POLICY_DIR_EGRESS], POLICY_DIR_EGRESS, a->flow.src, t, a->counters);
	if (a->flow.fwd_in)
		print_dir(&e->fwd[POLICY_DIR_INGRESS], POLICY_DIR_INGRESS, NULL, t, a->counters);
	if (a->flow.fwd_out)
		print_dir(&e->fwd[POLICY_DIR_EGRESS], POLICY_DIR_EGRESS, NULL, t, a->counters);
	if (a->flow.to_node)
		printf("To its own node: %s: DefaultEndpointToHostAction %s (%s), after the pod's "
		       "egress policy; host endpoint policy never applies to it\n",
		       e->dir[POLICY_DIR_INGRESS].allowed ? "ALLOWED" : "DENIED",
		       policy_host_action_to_string(a->flow.endpoint_to_host), a->host_action_from);
	else
		print_dir(&e->dir[POLICY_DIR_INGRESS], POLICY_DIR_INGRESS, a->flow.dst, t,
			  a->counters);
	printf("Result: %s\n", e->allowed ? "ALLOWED" : "DENIED");
}

/* One flow SRC DST PORT/PROTO of the command line. */
static int explain_one(const struct policy_model *m, const struct policy_nft *t,
		       struct explain_args *a, char **flow)
{
	struct policy_explain e;
	int r;

	a->src = flow[0];
	a->dst = flow[1];
	a->flow = (struct policy_flow){};
	if (parse_flow(flow[2], &a->flow) < 0)
		return log_error_errno(-EINVAL, "'%s' is not PORT[/tcp|udp|sctp]", flow[2]);
	a->flow.failsafe_in = &a->fs_in;
	a->flow.failsafe_out = &a->fs_out;
	a->flow.sport = a->sport;
	a->flow.to_node = strncmp(a->dst, "node:", 5) == 0;
	a->flow.endpoint_to_host = policy_host_action_from_string(a->host_action);
	if (strncmp(a->src, "node:", 5) == 0 || (a->flow.to_node && !strchr(a->src, '/')))
		return log_error_errno(-EINVAL, "node:IP is a destination, after a pod source");
	if (endpoint(m, a->src, &a->flow.src, &a->flow.src_hep, &a->flow.fwd_in,
		     &a->flow.saddr) < 0 ||
	    endpoint(m, a->dst, &a->flow.dst, &a->flow.dst_hep, &a->flow.fwd_out,
		     &a->flow.daddr) < 0)
		return -EINVAL;
	if (policy_flow_addresses(&a->flow) < 0)
		return log_error_errno(-EADDRNOTAVAIL, "'%s' and '%s' have no address of a common "
						       "family (a pod without an IP yet?)",
				       a->src, a->dst);
	r = policy_explain(m, &a->flow, &e);
	if (r == -EOPNOTSUPP)
		return log_error_errno(r, "A Calico rule with source ports, or a doNotTrack "
					  "policy's failsafe reply rule, may decide this flow by its "
					  "source port: give one with --source-port");
	if (r == -EINVAL)
		return log_error_errno(r, "'%s' -> '%s' cannot be one flow: a local process's "
					  "(hep:, node:) is never forwarded, both @hep: are of one "
					  "node, a pod is forwarded through another node's host "
					  "endpoints, two hep: ends are of two nodes", a->src, a->dst);
	if (r < 0)
		return log_error_errno(r, "Failed to explain: %m");
	if (a->json)
		r = print_json(&e, a, t);
	else
		print_text(&e, a, t);
	policy_explain_done(&e);
	return r;
}

static int cmd_explain(struct ctl *c, int argc, char **argv)
{
	_cleanup_(policy_model_freep) struct policy_model *m = NULL;
	_cleanup_(policy_nft_freep) struct policy_nft *t = NULL;
	struct explain_args a;
	int failed = 0;

	if (parse_args(argc, argv, &a) < 0)
		return log_error_errno(-EINVAL, "policy explain SRC DST PORT[/tcp|udp|sctp]... "
						"[--counters] [--table NAME] [-o text|json] "
						"[--failsafe-inbound|--failsafe-outbound PORTS] "
						"[--endpoint-to-host-action Drop|Return|Accept] "
						"[--source-port PORT] (SRC, DST: NAMESPACE/NAME, an IP "
						"address or hep:NAME[=IP]; a pod or address then "
						"@hep:NAME when forwarded through that HostEndpoint; DST "
						"also node:IP, the pod's own node)"),
		       2;
	if (ctl_connect(c) < 0 || load_model(c, &m) < 0)
		return 1;
	if (a.counters && read_table(a.table, &t) < 0)
		return 1;
	if (!a.host_action && host_action_configured(c, &a.host_action, &a.host_action_from) < 0)
		return 1;
	for (int i = optind; i + 2 < argc; i += 3) {
		if (i > optind && !a.json)
			putchar('\n');
		failed += explain_one(m, t, &a, argv + i) < 0;
	}
	return failed ? 1 : 0;
}

const struct ctl_command ctl_policy_commands[] = {
	{ "explain",
	  "SRC DST PORT[/PROTO] [--counters] [-o json]: which policy rule (and tier) allows or "
	  "denies a flow",
	  cmd_explain, NULL },
	{},
};
