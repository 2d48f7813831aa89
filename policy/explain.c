/* Flow explanation on the model (see explain.h). Each test mirrors one part
 * of what policy_compile() puts in the kernel: pod peer sets (addresses of
 * the matching pods), ipBlock interval sets (CIDR minus excepts), port sets
 * (protocol . port interval), named-port sets (address . protocol . port of
 * the pods the rule resolves names against). A flow is allowed in a
 * direction when the pod is not isolated there or one rule matches both on
 * its peer side and on its port side.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "calico.h"
#include "cleanup.h"
#include "explain.h"
#include "failsafe.h"
#include "labelsel.h"

static bool pod_has_addr(const struct policy_pod *p, const struct in_prefix *a)
{
	for (size_t i = 0; i < p->n_ips; i++)
		if (prefix_equal(&p->ips[i], a))
			return true;
	return false;
}

/* The pod is one of @peer's pods (compile.c puts its addresses in the set). */
static bool peer_selects_pod(const struct policy_model *m, const struct policy_netpol *np,
			     const struct policy_peer *peer, const struct policy_pod *pod)
{
	if (peer->is_block || pod->host_network)
		return false;
	if (!peer->ns_sel ? strcmp(pod->ns, np->ns) != 0
			  : !policy_model_ns_matches(m, pod->ns, peer->ns_sel))
		return false;
	return !peer->pod_sel || labelsel_matches(peer->pod_sel, pod->labels);
}

static bool block_matches(const struct policy_peer *peer, const struct in_prefix *a)
{
	if (!prefix_contains(&peer->block, a))
		return false;
	for (size_t i = 0; i < peer->n_except; i++)
		if (prefix_contains(&peer->except[i], a))
			return false;
	return true;
}

/* @a: the far end's address (source for ingress, destination for egress). */
static bool peer_matches(const struct policy_model *m, const struct policy_netpol *np,
			 const struct policy_peer *peer, const struct in_prefix *a)
{
	struct policy_pod *pod;

	if (peer->is_block)
		return block_matches(peer, a);
	for (size_t i = 0; policy_model_next_pod(m, &i, &pod);)
		if (pod_has_addr(pod, a) && peer_selects_pod(m, np, peer, pod))
			return true;
	return false;
}

static bool rule_peers_match(const struct policy_model *m, const struct policy_netpol *np,
			     const struct policy_rule *rule, const struct in_prefix *a)
{
	if (rule->n_peers == 0)
		return true;
	for (size_t i = 0; i < rule->n_peers; i++)
		if (peer_matches(m, np, &rule->peers[i], a))
			return true;
	return false;
}

static bool pod_has_named_port(const struct policy_pod *pod, const struct policy_port *pp,
			       uint8_t proto, uint16_t port)
{
	for (size_t i = 0; i < pod->n_ports; i++)
		if (pod->ports[i].proto == proto && pod->ports[i].port == port &&
		    pp->proto == proto && strcmp(pod->ports[i].name, pp->name) == 0)
			return true;
	return false;
}

/* Whether @pod is among the pods a named port of this rule resolves on. */
static bool named_candidate(const struct policy_model *m, const struct policy_netpol *np,
			    enum policy_dir dir, const struct policy_rule *rule,
			    const struct policy_pod *pod)
{
	bool only_pods = rule->n_peers > 0;

	if (pod->host_network)
		return false;
	if (dir == POLICY_DIR_INGRESS)
		return strcmp(pod->ns, np->ns) == 0 && labelsel_matches(np->pod_sel, pod->labels);
	for (size_t i = 0; i < rule->n_peers; i++)
		only_pods &= !rule->peers[i].is_block;
	if (!only_pods)
		return true;
	for (size_t i = 0; i < rule->n_peers; i++)
		if (peer_selects_pod(m, np, &rule->peers[i], pod))
			return true;
	return false;
}

static bool named_matches(const struct policy_model *m, const struct policy_netpol *np,
			  enum policy_dir dir, const struct policy_rule *rule,
			  const struct policy_port *pp, const struct policy_flow *f)
{
	struct policy_pod *pod;

	for (size_t i = 0; policy_model_next_pod(m, &i, &pod);)
		if (pod_has_addr(pod, &f->daddr) && pod_has_named_port(pod, pp, f->proto, f->port) &&
		    named_candidate(m, np, dir, rule, pod))
			return true;
	return false;
}

/* A numeric port (or range, or any port of a protocol) of a port set. */
static bool port_matches(const struct policy_port *pp, const struct policy_flow *f)
{
	return pp->proto == f->proto &&
	       (pp->any_port || (f->port >= pp->port && f->port <= pp->end_port));
}

static bool rule_ports_match(const struct policy_model *m, const struct policy_netpol *np,
			     enum policy_dir dir, const struct policy_rule *rule,
			     const struct policy_flow *f)
{
	if (rule->n_ports == 0)
		return true;
	for (size_t i = 0; i < rule->n_ports; i++) {
		const struct policy_port *pp = &rule->ports[i];

		if (pp->name ? named_matches(m, np, dir, rule, pp, f) : port_matches(pp, f))
			return true;
	}
	return false;
}

/* ---- Calico rules (compile.c: side_dims(), proto_dims()) ---- */

static bool nets_contain(const struct in_prefix *nets, size_t n, const struct in_prefix *a)
{
	for (size_t i = 0; i < n; i++)
		if (prefix_contains(&nets[i], a))
			return true;
	return false;
}

/* @a is in the entity's selector set: an address of a (non-hostNetwork) pod
 * it selects, or in the nets of a network set it selects. */
static bool labels_select_addr(const struct policy_model *m, const struct policy_netpol *np,
			       const struct policy_entity *e, const struct in_prefix *a)
{
	struct policy_pod *pod;
	void *v;

	for (size_t i = 0; policy_model_next_pod(m, &i, &pod);)
		if (!pod->host_network && pod_has_addr(pod, a) &&
		    policy_entity_matches_pod(m, np, e, pod))
			return true;
	for (size_t i = 0; policy_hmap_next(&m->netsets, &i, &v);) {
		const struct policy_netset *set = v;

		if (nets_contain(set->nets, set->n_nets, a) &&
		    policy_entity_matches_netset(m, np, e, set))
			return true;
	}
	return false;
}

static bool entity_has(const struct policy_model *m, const struct policy_netpol *np,
		       const struct policy_entity *e, const struct in_prefix *a)
{
	if (e->n_nets && !nets_contain(e->nets, e->n_nets, a))
		return false;
	if (nets_contain(e->not_nets, e->n_not_nets, a))
		return false;
	return !e->by_labels || labels_select_addr(m, np, e, a);
}

/* -EOPNOTSUPP: what the flow does not say (its source port) or a named
 * port (a rule with one is a stand-in, never compiled). */
static int entity_ports(const struct policy_entity *e, const struct policy_flow *f, bool *ret)
{
	bool in = e->n_ports == 0;

	for (size_t i = 0; i < e->n_ports + e->n_not_ports; i++) {
		const struct policy_port *pp =
			i < e->n_ports ? &e->ports[i] : &e->not_ports[i - e->n_ports];

		if (pp->name)
			return -EOPNOTSUPP;
		if (i < e->n_ports)
			in |= port_matches(pp, f);
		else if (port_matches(pp, f))
			in = false;
	}
	*ret = in;
	return 0;
}

static int crule_match(const struct policy_model *m, const struct policy_netpol *np,
		       const struct policy_crule *cr, const struct policy_flow *f,
		       struct policy_explain_rule *er)
{
	/* ICMP fields come with protocol ICMP (Calico's validation): never a
	 * TCP/UDP/SCTP flow's */
	bool proto_ok = (!cr->family || cr->family == f->saddr.family) &&
			(cr->proto < 0 || cr->proto == f->proto) && cr->not_proto != f->proto &&
			cr->icmp_type < 0 && cr->not_icmp_type < 0;

	if (cr->src.n_ports || cr->src.n_not_ports)
		return -EOPNOTSUPP;
	er->peer_ok = proto_ok && entity_has(m, np, &cr->src, &f->saddr) &&
		      entity_has(m, np, &cr->dst, &f->daddr);
	return entity_ports(&cr->dst, f, &er->port_ok);
}

static int cmp_netpol(const void *a, const void *b)
{
	return strcmp((*(const struct policy_netpol *const *)a)->key,
		      (*(const struct policy_netpol *const *)b)->key);
}

/* @sel[0..@n) in Calico's evaluation order (tiers, then order). */
static int sort_tiered(const struct policy_model *m, const struct policy_netpol **sel, size_t n)
{
	_cleanup_free_ struct policy_applied *v = calloc(n + 1, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		v[i] = policy_applied_of(m, sel[i]);
	qsort(v, n, sizeof(*v), policy_applied_cmp);
	for (size_t i = 0; i < n; i++)
		sel[i] = v[i].np;
	return 0;
}

/* The policies of @dir selecting @pod, sorted by key (the order of the
 * jumps in its profile chain), or in evaluation order (tiered) when Calico
 * policies are among them. */
static int selecting(const struct policy_model *m, const struct policy_pod *pod,
		     enum policy_dir dir, struct policy_explain_dir *ret)
{
	void *v;

	ret->selecting = calloc(m->netpols.n_items + 1, sizeof(*ret->selecting));
	if (!ret->selecting)
		return -ENOMEM;
	for (size_t i = 0; policy_hmap_next(&m->netpols, &i, &v);) {
		const struct policy_netpol *np = v;

		if (!np->types[dir] || !policy_selects_pod(m, np, pod))
			continue;
		ret->tiered |= np->kind != POLICY_KIND_K8S;
		ret->selecting[ret->n_selecting++] = np;
	}
	if (ret->tiered)
		return sort_tiered(m, ret->selecting, ret->n_selecting);
	qsort(ret->selecting, ret->n_selecting, sizeof(*ret->selecting), cmp_netpol);
	return 0;
}

/* One policy's rules in order; *@ret_action: the first matching Allow,
 * Deny or Pass, else _POLICY_ACTION_MAX (Log rules go on). */
static int eval_policy(const struct policy_model *m, const struct policy_flow *f,
		       enum policy_dir dir, const struct policy_netpol *np,
		       struct policy_explain_dir *ret, enum policy_action *ret_action)
{
	const struct in_prefix *far = dir == POLICY_DIR_EGRESS ? &f->daddr : &f->saddr;

	*ret_action = _POLICY_ACTION_MAX;
	for (size_t k = 0; k < np->n_rules[dir]; k++) {
		struct policy_explain_rule *er = &ret->rules[ret->n_rules++];
		int r = 0;

		*er = (struct policy_explain_rule){ .np = np, .rule = k,
						    .action = POLICY_ACTION_ALLOW };
		if (np->kind == POLICY_KIND_K8S) {
			er->peer_ok = rule_peers_match(m, np, &np->rules[dir][k], far);
			er->port_ok = rule_ports_match(m, np, dir, &np->rules[dir][k], f);
		} else {
			er->action = np->crules[dir][k].action;
			r = crule_match(m, np, &np->crules[dir][k], f, er);
		}
		if (r < 0)
			return r;
		if (er->peer_ok && er->port_ok && er->action != POLICY_ACTION_LOG) {
			*ret_action = er->action;
			return 0;
		}
	}
	return 0;
}

static void tiered_end(struct policy_explain_dir *ret, enum policy_explain_end end,
		       const char *tier, bool allowed)
{
	ret->end = end;
	ret->tier = tier;
	ret->allowed = allowed;
}

/* Calico's evaluation (see explain.h) of @ret->selecting from @from on.
 * @stage: a host endpoint's preDNAT or doNotTrack stage, where a tier
 * never ends in its default action; *@ret_decided: false when no rule or
 * tier decided (every tier passed). */
static int explain_tiered(const struct policy_model *m, const struct policy_flow *f,
			  enum policy_dir dir, size_t from, bool stage,
			  struct policy_explain_dir *ret, bool *ret_decided)
{
	const struct policy_netpol **sel = ret->selecting;
	enum policy_action act = _POLICY_ACTION_MAX;
	size_t i = from, j;
	int r;

	*ret_decided = true;
	while (i < ret->n_selecting) {
		const char *tier = sel[i]->tier;
		bool pass;

		act = _POLICY_ACTION_MAX;
		for (j = i; j < ret->n_selecting && strcmp(sel[j]->tier, tier) == 0; j++) {
			if (act != _POLICY_ACTION_MAX)
				continue; /* decided or passed: the rest of the tier is skipped */
			if (sel[j]->rejected && sel[j]->kind != POLICY_KIND_K8S) {
				ret->stand_in = sel[j];
				tiered_end(ret, POLICY_EXPLAIN_END_STAND_IN, tier, false);
				return 0;
			}
			r = eval_policy(m, f, dir, sel[j], ret, &act);
			if (r < 0)
				return r;
		}
		if (act == POLICY_ACTION_ALLOW || act == POLICY_ACTION_DENY) {
			tiered_end(ret, POLICY_EXPLAIN_END_RULE, tier, act == POLICY_ACTION_ALLOW);
			return 0;
		}
		policy_model_tier(m, tier, &(double){ 0 }, &(bool){ false }, &pass);
		if (act != POLICY_ACTION_PASS && !pass && !stage) {
			tiered_end(ret, POLICY_EXPLAIN_END_TIER, tier, false);
			return 0;
		}
		i = j;
	}
	tiered_end(ret, POLICY_EXPLAIN_END_PASSED, NULL, true);
	*ret_decided = false;
	return 0;
}

/* Whether a failsafe port of @dir accepts the flow (inbound: its net holds
 * the source; outbound: the destination). */
static bool failsafe_accepts(const struct policy_flow *f, enum policy_dir dir)
{
	const struct policy_failsafes *fs = dir == POLICY_DIR_INGRESS ? f->failsafe_in
								      : f->failsafe_out;
	const struct in_prefix *far = dir == POLICY_DIR_INGRESS ? &f->saddr : &f->daddr;

	for (size_t i = 0; fs && i < fs->n; i++)
		if (fs->v[i].proto == f->proto && fs->v[i].port == f->port &&
		    (fs->v[i].net.family == AF_UNSPEC || prefix_contains(&fs->v[i].net, far)))
			return true;
	return false;
}

/* Appends the GlobalNetworkPolicies of @stage selecting @h in @dir to
 * @ret->selecting, in evaluation order; *@ret_from: where they start. */
static int hep_stage_policies(const struct policy_model *m, const struct policy_hep *h,
			      enum policy_dir dir, enum policy_host_mode stage,
			      struct policy_explain_dir *ret, size_t *ret_from)
{
	void *v;

	*ret_from = ret->n_selecting;
	for (size_t i = 0; policy_hmap_next(&m->netpols, &i, &v);) {
		const struct policy_netpol *np = v;

		if (np->kind == POLICY_KIND_GLOBAL && np->types[dir] && np->host_mode == stage &&
		    policy_selects_hep(np, h))
			ret->selecting[ret->n_selecting++] = np;
	}
	return sort_tiered(m, ret->selecting + *ret_from, ret->n_selecting - *ret_from);
}

/* Room in @ret->rules for every rule of @ret->selecting in @dir. */
static int rules_reserve(struct policy_explain_dir *ret, enum policy_dir dir)
{
	struct policy_explain_rule *x;
	size_t n = 0;

	for (size_t i = 0; i < ret->n_selecting; i++)
		n += ret->selecting[i]->n_rules[dir];
	x = realloc(ret->rules, (n + 1) * sizeof(*x));
	if (!x)
		return -ENOMEM;
	ret->rules = x;
	return 0;
}

/* A host endpoint's direction (see explain.h). */
static int explain_hep(const struct policy_model *m, const struct policy_flow *f,
		       enum policy_dir dir, const struct policy_hep *h,
		       struct policy_explain_dir *ret)
{
	static const enum policy_host_mode stages[] = {
		POLICY_HOST_MODE_UNTRACKED, POLICY_HOST_MODE_PRE_DNAT, POLICY_HOST_MODE_NORMAL
	};
	bool decided;
	size_t from;
	int r;

	ret->hep = h;
	ret->filtered = ret->isolated = ret->tiered = true;
	if (failsafe_accepts(f, dir)) {
		tiered_end(ret, POLICY_EXPLAIN_END_FAILSAFE, NULL, true);
		return 0;
	}
	if (h->rejected) { /* its stand-in denies all but failsafe traffic */
		tiered_end(ret, POLICY_EXPLAIN_END_PROFILE, NULL, false);
		return 0;
	}
	ret->selecting = calloc(m->netpols.n_items + 1, sizeof(*ret->selecting));
	if (!ret->selecting)
		return -ENOMEM;
	for (size_t s = 0; s < ELEMENTSOF(stages); s++) {
		if (stages[s] == POLICY_HOST_MODE_PRE_DNAT && dir == POLICY_DIR_EGRESS)
			continue; /* preDNAT: ingress only */
		ret->stage = stages[s];
		r = hep_stage_policies(m, h, dir, stages[s], ret, &from);
		if (r == 0)
			r = rules_reserve(ret, dir);
		if (r == 0)
			r = explain_tiered(m, f, dir, from, stages[s] != POLICY_HOST_MODE_NORMAL, ret,
					   &decided);
		if (r < 0 || decided) {
			ret->untracked = r == 0 && ret->allowed &&
					 stages[s] == POLICY_HOST_MODE_UNTRACKED;
			return r;
		}
	}
	/* no tier decided: the endpoint's profiles */
	tiered_end(ret, POLICY_EXPLAIN_END_PROFILE, NULL, h->default_allow);
	return 0;
}

static int explain_dir(const struct policy_model *m, const struct policy_flow *f,
		       enum policy_dir dir, struct policy_explain_dir *ret)
{
	const struct policy_pod *pod = dir == POLICY_DIR_EGRESS ? f->src : f->dst;
	const struct in_prefix *far = dir == POLICY_DIR_EGRESS ? &f->daddr : &f->saddr;
	size_t n = 0;
	int r;

	ret->filtered = pod && !pod->host_network;
	ret->allowed = true;
	if (!ret->filtered)
		return 0;
	r = selecting(m, pod, dir, ret);
	if (r < 0)
		return r;
	ret->isolated = ret->n_selecting > 0;
	ret->allowed = !ret->isolated;
	for (size_t i = 0; i < ret->n_selecting; i++)
		n += ret->selecting[i]->n_rules[dir];
	ret->rules = calloc(n + 1, sizeof(*ret->rules));
	if (!ret->rules)
		return -ENOMEM;
	if (ret->tiered)
		return explain_tiered(m, f, dir, 0, false, ret, &(bool){ false });
	for (size_t i = 0; i < ret->n_selecting; i++) {
		const struct policy_netpol *np = ret->selecting[i];

		for (size_t k = 0; k < np->n_rules[dir]; k++) {
			struct policy_explain_rule *er = &ret->rules[ret->n_rules++];
			const struct policy_rule *rule = &np->rules[dir][k];

			er->np = np;
			er->rule = k;
			er->peer_ok = rule_peers_match(m, np, rule, far);
			er->port_ok = rule_ports_match(m, np, dir, rule, f);
			ret->allowed |= er->peer_ok && er->port_ok;
		}
	}
	return 0;
}

void policy_explain_done(struct policy_explain *e)
{
	for (int d = 0; d < _POLICY_DIR_MAX; d++) {
		free(e->dir[d].selecting);
		free(e->dir[d].rules);
	}
	*e = (struct policy_explain){};
}

int policy_explain(const struct policy_model *m, const struct policy_flow *f,
		   struct policy_explain *ret)
{
	struct policy_explain e = {};
	int r = 0;

	if (f->saddr.family != f->daddr.family)
		return -EINVAL;
	if (f->src_hep && f->dst_hep)
		return -EOPNOTSUPP;
	if (f->to_node && (!f->src || f->dst || f->dst_hep))
		return -EINVAL;
	for (int d = 0; d < _POLICY_DIR_MAX && r == 0; d++) {
		const struct policy_hep *h = d == POLICY_DIR_EGRESS ? f->src_hep : f->dst_hep;

		if (f->to_node && d == POLICY_DIR_INGRESS)
			tiered_end(&e.dir[d], POLICY_EXPLAIN_END_HOST_ACTION, NULL,
				   f->endpoint_to_host != POLICY_HOST_DROP);
		else if (h)
			r = explain_hep(m, f, (enum policy_dir)d, h, &e.dir[d]);
		else
			r = explain_dir(m, f, (enum policy_dir)d, &e.dir[d]);
	}
	if (r < 0) {
		policy_explain_done(&e);
		return r;
	}
	e.allowed = e.dir[POLICY_DIR_INGRESS].allowed && e.dir[POLICY_DIR_EGRESS].allowed;
	*ret = e;
	return 0;
}

static bool first_of_family(const struct policy_pod *p, int family, struct in_prefix *ret)
{
	for (size_t i = 0; i < p->n_ips; i++)
		if (p->ips[i].family == family) {
			*ret = p->ips[i];
			ret->len = (uint8_t)prefix_max_len(family);
			return true;
		}
	return false;
}

int policy_flow_addresses(struct policy_flow *f)
{
	static const int fams[] = { AF_INET, AF_INET6 };

	for (size_t i = 0; i < ELEMENTSOF(fams); i++) {
		struct in_prefix s = f->saddr, d = f->daddr;

		if (f->src ? !first_of_family(f->src, fams[i], &s) : s.family != fams[i])
			continue;
		if (f->dst ? !first_of_family(f->dst, fams[i], &d) : d.family != fams[i])
			continue;
		f->saddr = s;
		f->daddr = d;
		return 0;
	}
	return -EADDRNOTAVAIL;
}
