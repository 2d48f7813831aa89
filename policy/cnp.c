/* Kubernetes ClusterNetworkPolicy (policy.networking.k8s.io, see cnp.h)
 * parsed into Calico's model: one rule with several peers and protocols
 * becomes consecutive Calico rules (peer x protocol) of the same action, so
 * the first match still decides; label selectors become Calico selectors.
 *
 * Fail closed as the API asks for what calico-c cannot enforce (a peer or
 * protocol with no field we know, nodes, domainNames, destinationNamedPort):
 * in an Accept rule it matches nothing; a Deny or Pass rule holding one
 * becomes "Deny everything".
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "calico.h"
#include "cleanup.h"
#include "cnp.h"
#include "errmsg.h"
#include "labelsel.h"
#include "model.h"
#include "prefix.h"
#include "selector.h"

#define CNP_LIST_MAX 25
#define CNP_PRIORITY_MAX 1000

struct cctx {
	char **ret_error;
	char *why; /* the first unsupported field, malloc'd */
};

static void unsupported(struct cctx *c, const char *path, const char *what)
{
	if (!c->why && asprintf(&c->why, "%s: %s is not supported by calico-c", path, what) < 0)
		c->why = NULL;
}

/* A LabelSelector as a Calico selector; *ret_text (may be NULL) its text.
 * @optional: absent means {} (everything). */
static int cnp_sel(struct cctx *c, const json_t *j, const char *path, bool optional,
		   struct selector **ret, char **ret_text)
{
	_cleanup_(labelsel_freep) struct labelsel *ls = NULL;
	_cleanup_free_ char *text = NULL;
	int r;

	if (!j && optional) {
		text = strdup("all()");
		r = text ? 0 : -ENOMEM;
	} else if (!json_is_object(j)) {
		return errmsg_set(c->ret_error, -EINVAL, "%s: must be a label selector", path);
	} else {
		r = labelsel_from_json(j, path, &ls, c->ret_error);
		if (r == 0)
			r = labelsel_to_calico(ls, &text);
	}
	if (r == 0 && selector_parse(text, ret, NULL) < 0)
		r = errmsg_set(c->ret_error, -EINVAL, "%s: too large", path);
	if (r == 0 && ret_text)
		*ret_text = TAKE_PTR(text);
	return r;
}

/* namespaces: {selector} or pods: {namespaceSelector, podSelector} into
 * @ret_ns / @ret_pod (NULL: any pod of those namespaces). */
static int cnp_selection(struct cctx *c, const json_t *j, const char *field, const char *path,
			 struct selector **ret_ns, struct selector **ret_pod, char **ret_key)
{
	_cleanup_free_ char *nst = NULL, *podt = NULL;
	char p[256];
	int r;

	snprintf(p, sizeof(p), "%s.%s", path, field);
	if (strcmp(field, "namespaces") == 0) {
		r = cnp_sel(c, json_object_get(j, field), p, false, ret_ns, &nst);
	} else {
		const json_t *pods = json_object_get(j, field);

		snprintf(p, sizeof(p), "%s.pods.namespaceSelector", path);
		r = cnp_sel(c, json_object_get(pods, "namespaceSelector"), p, true, ret_ns, &nst);
		snprintf(p, sizeof(p), "%s.pods.podSelector", path);
		if (r == 0)
			r = cnp_sel(c, json_object_get(pods, "podSelector"), p, false, ret_pod, &podt);
	}
	if (r == 0 && ret_key && asprintf(ret_key, "cnp\nns=%s\npod=%s", nst, podt ?: "") < 0)
		r = -ENOMEM;
	return r;
}

static int cnp_networks(struct cctx *c, const json_t *l, const char *path,
			struct policy_entity *e)
{
	const json_t *x;
	size_t i;

	if (!json_is_array(l) || json_array_size(l) == 0 || json_array_size(l) > CNP_LIST_MAX)
		return errmsg_set(c->ret_error, -EINVAL, "%s: must be a list of 1..%d CIDRs", path,
				  CNP_LIST_MAX);
	e->nets = calloc(json_array_size(l), sizeof(*e->nets));
	if (!e->nets)
		return -ENOMEM;
	json_array_foreach(l, i, x) {
		if (prefix_parse(json_string_value(x), PREFIX_REJECT_HOST, &e->nets[i]) < 0)
			return errmsg_set(c->ret_error, -EINVAL, "%s[%zu]: '%s' is not a CIDR "
					  "without host bits", path, i, json_string_value(x) ?: "?");
		e->n_nets++;
	}
	return 0;
}

/* One peer into @e. Return: 1 when calico-c cannot enforce it. */
static int cnp_peer(struct cctx *c, const json_t *peer, const char *path, bool egress,
		    struct policy_entity *e)
{
	const char *field;
	const json_t *v;
	char p[512];

	if (!json_is_object(peer))
		return errmsg_set(c->ret_error, -EINVAL, "%s: must be an object", path);
	if (json_object_size(peer) > 1)
		return errmsg_set(c->ret_error, -EINVAL, "%s: exactly one field must be set", path);
	json_object_foreach((json_t *)peer, field, v) {
		if (strcmp(field, "namespaces") == 0 || strcmp(field, "pods") == 0) {
			e->by_labels = true;
			return cnp_selection(c, peer, field, path, &e->ns_sel, &e->sel, &e->key);
		}
		snprintf(p, sizeof(p), "%s.%s", path, field);
		if (egress && strcmp(field, "networks") == 0)
			return cnp_networks(c, v, p, e);
		unsupported(c, p, egress && (strcmp(field, "nodes") == 0 ||
					     strcmp(field, "domainNames") == 0)
					  ? "this peer"
					  : "an unknown peer field");
		return 1;
	}
	unsupported(c, path, "a peer with no field (a newer CRD?)");
	return 1;
}

/* One protocols[] entry into @pp (any_port when no destinationPort).
 * Return: 1 when calico-c cannot enforce it. */
static int cnp_protocol(struct cctx *c, const json_t *j, const char *path,
			struct policy_port *pp)
{
	static const struct {
		const char *name;
		uint8_t proto;
	} protos[] = { { "tcp", IPPROTO_TCP }, { "udp", IPPROTO_UDP }, { "sctp", IPPROTO_SCTP } };
	const json_t *dp, *range;
	json_int_t a, b;

	if (!json_is_object(j) || json_object_size(j) != 1)
		return errmsg_set(c->ret_error, -EINVAL, "%s: exactly one field must be set", path);
	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++) {
		const json_t *pj = json_object_get(j, protos[i].name);

		if (!pj)
			continue;
		pp->proto = protos[i].proto;
		dp = json_object_get(pj, "destinationPort");
		range = json_object_get(dp, "range");
		pp->any_port = !dp;
		if (!dp)
			return 0;
		a = json_integer_value(range ? json_object_get(range, "start")
					     : json_object_get(dp, "number"));
		b = range ? json_integer_value(json_object_get(range, "end")) : a;
		if (json_object_size(dp) != 1 || a < 1 || b > 65535 || a > b || (range && a == b))
			return errmsg_set(c->ret_error, -EINVAL, "%s.%s.destinationPort: one number "
					  "or range within 1..65535, start < end", path,
					  protos[i].name);
		pp->port = (uint16_t)a;
		pp->end_port = (uint16_t)b;
		return 0;
	}
	unsupported(c, path, json_object_get(j, "destinationNamedPort") ? "destinationNamedPort"
									 : "an unknown protocol field");
	return 1;
}

static struct policy_crule *crule_push(struct policy_netpol *np, enum policy_dir d,
				       enum policy_action action)
{
	struct policy_crule *v;

	if (ARRAY_GROW(np->crules[d], np->cap_crules[d], np->n_rules[d] + 1) < 0)
		return NULL;
	v = &np->crules[d][np->n_rules[d]++];
	*v = (struct policy_crule){ .action = action, .proto = -1, .not_proto = -1,
				    .icmp_type = -1, .icmp_code = -1, .not_icmp_type = -1,
				    .not_icmp_code = -1 };
	return v;
}

/* The Calico rules of peer @peer with protocol @pp (NULL: any). */
static int cnp_emit(struct cctx *c, struct policy_netpol *np, enum policy_dir d,
		    enum policy_action action, const json_t *peer, const char *path,
		    const struct policy_port *pp)
{
	struct policy_crule *cr = crule_push(np, d, action);
	struct policy_entity *e;
	int r;

	if (!cr)
		return -ENOMEM;
	e = d == POLICY_DIR_INGRESS ? &cr->src : &cr->dst;
	r = cnp_peer(c, peer, path, d == POLICY_DIR_EGRESS, e);
	if (r != 0 || !pp)
		return r;
	cr->proto = pp->proto;
	if (pp->any_port)
		return 0;
	cr->dst.ports = calloc(1, sizeof(*cr->dst.ports));
	if (!cr->dst.ports)
		return -ENOMEM;
	cr->dst.ports[0] = *pp;
	cr->dst.n_ports = 1;
	return 0;
}

/* Drops the rules of @d from @n on (a rule being rebuilt). */
static void crules_truncate(struct policy_netpol *np, enum policy_dir d, size_t n)
{
	while (np->n_rules[d] > n) {
		struct policy_crule *cr = &np->crules[d][--np->n_rules[d]];

		policy_entity_done(&cr->src);
		policy_entity_done(&cr->dst);
	}
}

static int cnp_rule(struct cctx *c, struct policy_netpol *np, enum policy_dir d,
		    const json_t *j, const char *path)
{
	static const char *const actions[] = { [POLICY_ACTION_ALLOW] = "Accept",
					       [POLICY_ACTION_DENY] = "Deny",
					       [POLICY_ACTION_PASS] = "Pass" };
	const json_t *peers = json_object_get(j, d == POLICY_DIR_INGRESS ? "from" : "to");
	const json_t *protos = json_object_get(j, "protocols"), *peer;
	const char *as = json_string_value(json_object_get(j, "action"));
	struct policy_port pps[CNP_LIST_MAX];
	size_t first = np->n_rules[d], n_pp = 0, i;
	enum policy_action action = _POLICY_ACTION_MAX;
	bool broken = false;
	char p[256];
	int r;

	for (int a = 0; as && a <= POLICY_ACTION_PASS; a++)
		if (strcmp(as, actions[a]) == 0)
			action = a;
	if (!json_is_object(j) || action == _POLICY_ACTION_MAX)
		return errmsg_set(c->ret_error, -EINVAL, "%s.action: '%s' is not Accept, Deny or Pass",
				  path, as ?: "(none)");
	if (!json_is_array(peers) || json_array_size(peers) == 0 ||
	    json_array_size(peers) > CNP_LIST_MAX)
		return errmsg_set(c->ret_error, -EINVAL, "%s.%s: must be a list of 1..%d peers", path,
				  d == POLICY_DIR_INGRESS ? "from" : "to", CNP_LIST_MAX);
	if (protos && (!json_is_array(protos) || json_array_size(protos) == 0 ||
		       json_array_size(protos) > CNP_LIST_MAX))
		return errmsg_set(c->ret_error, -EINVAL, "%s.protocols: must be a list of 1..%d",
				  path, CNP_LIST_MAX);
	for (i = 0; protos && i < json_array_size(protos); i++) {
		snprintf(p, sizeof(p), "%s.protocols[%zu]", path, i);
		pps[n_pp] = (struct policy_port){};
		r = cnp_protocol(c, json_array_get(protos, i), p, &pps[n_pp]);
		if (r < 0)
			return r;
		broken |= r == 1;
		n_pp += r == 0;
	}
	np->has_pass |= action == POLICY_ACTION_PASS;
	json_array_foreach(peers, i, peer) {
		snprintf(p, sizeof(p), "%s.%s[%zu]", path, d == POLICY_DIR_INGRESS ? "from" : "to",
			 i);
		for (size_t k = 0; k < (protos ? n_pp : 1); k++) {
			size_t before = np->n_rules[d];

			r = cnp_emit(c, np, d, action, peer, p, protos ? &pps[k] : NULL);
			if (r < 0)
				return r;
			if (r == 1) { /* this peer matches nothing (Accept) */
				crules_truncate(np, d, before);
				broken = true;
				break;
			}
		}
	}
	if (broken && action != POLICY_ACTION_ALLOW) { /* fail closed: Deny everything */
		crules_truncate(np, d, first);
		return crule_push(np, d, POLICY_ACTION_DENY) ? 0 : -ENOMEM;
	}
	return 0;
}

static int cnp_rules(struct cctx *c, struct policy_netpol *np, const json_t *spec,
		     enum policy_dir d)
{
	const json_t *l, *e;
	char p[64];
	size_t i;
	int r;

	r = policy_rules_of(spec, d, CNP_LIST_MAX, &l, c->ret_error);
	if (r < 0 || !l)
		return r;
	np->types[d] = json_array_size(l) > 0; /* no rules: the direction is not affected */
	json_array_foreach(l, i, e) {
		snprintf(p, sizeof(p), "spec.%s[%zu]", policy_dir_field(d), i);
		r = cnp_rule(c, np, d, e, p);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Name, key, tier and order (what the stand-in keeps); -EINVAL for a bad
 * tier or priority, with the stand-in's values set (Admin, 0). */
static int cnp_new(const json_t *j, struct policy_netpol **ret, char **ret_error)
{
	const json_t *spec = json_object_get(j, "spec"), *prio = json_object_get(spec, "priority");
	const char *name = json_string_value(json_object_get(json_object_get(j, "metadata"), "name"));
	const char *tier = json_string_value(json_object_get(spec, "tier"));
	bool baseline = tier && strcmp(tier, "Baseline") == 0;
	struct policy_netpol *np;

	if (!name || !*name)
		return errmsg_set(ret_error, -EINVAL, "ClusterNetworkPolicy: metadata.name: required");
	np = calloc(1, sizeof(*np));
	if (!np)
		return -ENOMEM;
	np->refs = 1;
	np->kind = POLICY_KIND_CLUSTER;
	np->has_order = true;
	np->order = json_is_integer(prio) ? (double)json_integer_value(prio) : 0;
	if (asprintf(&np->key, "cnp:%s", name) < 0)
		np->key = NULL;
	np->ns = strdup("");
	np->name = strdup(name);
	np->sort_name = strdup(name);
	np->tier = strdup(baseline ? POLICY_CNP_BASELINE_TIER : POLICY_CNP_ADMIN_TIER);
	if (!np->key || !np->ns || !np->name || !np->sort_name || !np->tier) {
		policy_netpol_unref(np);
		return -ENOMEM;
	}
	*ret = np;
	if (!baseline && !(tier && strcmp(tier, "Admin") == 0))
		return errmsg_set(ret_error, -EINVAL, "spec.tier: '%s' is not Admin or Baseline",
				  tier ?: "(none)");
	if (!json_is_integer(prio) || json_integer_value(prio) < 0 ||
	    json_integer_value(prio) > CNP_PRIORITY_MAX)
		return errmsg_set(ret_error, -EINVAL, "spec.priority: must be an integer 0..%d",
				  CNP_PRIORITY_MAX);
	return 0;
}

static int cnp_subject(struct cctx *c, struct policy_netpol *np, const json_t *spec)
{
	const json_t *s = json_object_get(spec, "subject");
	const char *field = json_object_get(s, "namespaces") ? "namespaces" : "pods";

	if (!json_is_object(s) || json_object_size(s) != 1 || !json_object_get(s, field))
		return errmsg_set(c->ret_error, -EINVAL, "spec.subject: exactly one of namespaces "
				  "and pods must be set");
	return cnp_selection(c, s, field, "spec.subject", &np->ns_sel, &np->sel, NULL);
}

static void prefix_error(char **ret_error, const char *name)
{
	char *inner = ret_error ? *ret_error : NULL;

	if (inner && asprintf(ret_error, "ClusterNetworkPolicy '%s': %s", name, inner) < 0)
		*ret_error = NULL;
	free(inner);
}

int policy_cnp_from_json(const json_t *j, struct policy_netpol **ret, char **ret_error)
{
	const json_t *spec = json_object_get(j, "spec");
	struct policy_netpol *np = NULL;
	struct cctx c = { .ret_error = ret_error };
	int r;

	r = cnp_new(j, &np, ret_error);
	if (r == 0 && !json_is_object(spec))
		r = errmsg_set(ret_error, -EINVAL, "spec: must be an object");
	if (r == 0)
		r = cnp_subject(&c, np, spec);
	for (int d = 0; r == 0 && d < _POLICY_DIR_MAX; d++)
		r = cnp_rules(&c, np, spec, d);
	if (r == 0 && c.why) {
		r = 1;
		if (ret_error)
			*ret_error = TAKE_PTR(c.why);
	}
	free(c.why);
	if (np && r != 0)
		prefix_error(ret_error, np->name);
	if (r < 0) {
		policy_netpol_unref(np);
		return r;
	}
	*ret = np;
	return r;
}

int policy_cnp_deny_from_json(const json_t *j, struct policy_netpol **ret)
{
	const json_t *spec = json_object_get(j, "spec");
	struct cctx c = {};
	struct policy_netpol *np = NULL;
	int r;

	r = cnp_new(j, &np, NULL);
	if (!np)
		return r;
	np->rejected = true;
	if (cnp_subject(&c, np, spec) < 0) { /* every pod */
		np->sel = selector_free(np->sel);
		np->ns_sel = selector_free(np->ns_sel);
	}
	for (int d = 0; d < _POLICY_DIR_MAX; d++) {
		np->types[d] = true;
		if (!crule_push(np, d, POLICY_ACTION_DENY)) {
			policy_netpol_unref(np);
			return -ENOMEM;
		}
	}
	*ret = np;
	return 0;
}
