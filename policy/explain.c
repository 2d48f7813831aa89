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

#include "array.h"
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

/* A numeric port (or range, or any port of a protocol) of a port set holds
 * @port of protocol @proto. */
static bool port_in(const struct policy_port *pp, uint8_t proto, uint16_t port)
{
	return pp->proto == proto && (pp->any_port || (port >= pp->port && port <= pp->end_port));
}

static bool rule_ports_match(const struct policy_model *m, const struct policy_netpol *np,
			     enum policy_dir dir, const struct policy_rule *rule,
			     const struct policy_flow *f)
{
	if (rule->n_ports == 0)
		return true;
	for (size_t i = 0; i < rule->n_ports; i++) {
		const struct policy_port *pp = &rule->ports[i];

		if (pp->name ? named_matches(m, np, dir, rule, pp, f)
			     : port_in(pp, f->proto, f->port))
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

static bool nets_have_family(const struct in_prefix *nets, size_t n, int family)
{
	for (size_t i = 0; i < n; i++)
		if (nets[i].family == family)
			return true;
	return false;
}

/* notNets of the other family only: the rule is not rendered for @a's
 * (compile.c: nets_variants()). */
static bool entity_has(const struct policy_model *m, const struct policy_netpol *np,
		       const struct policy_entity *e, const struct in_prefix *a)
{
	if (e->n_nets && !nets_contain(e->nets, e->n_nets, a))
		return false;
	if (e->n_not_nets && (!nets_have_family(e->not_nets, e->n_not_nets, a->family) ||
			      nets_contain(e->not_nets, e->n_not_nets, a)))
		return false;
	return !e->by_labels || labels_select_addr(m, np, e, a);
}

/* Whether @port of the flow's protocol is in the entity's ports and not in
 * its notPorts (as the compiled port set and negated set match it).
 * -EOPNOTSUPP: a named port (a rule with one is a stand-in, never
 * compiled). */
static int entity_ports(const struct policy_entity *e, uint8_t proto, uint16_t port, bool *ret)
{
	bool in = e->n_ports == 0;

	for (size_t i = 0; i < e->n_ports + e->n_not_ports; i++) {
		const struct policy_port *pp =
			i < e->n_ports ? &e->ports[i] : &e->not_ports[i - e->n_ports];

		if (pp->name)
			return -EOPNOTSUPP;
		if (i < e->n_ports)
			in |= port_in(pp, proto, port);
		else if (port_in(pp, proto, port))
			in = false;
	}
	*ret = in;
	return 0;
}

/* port_ok: the destination's ports and the source's (source.ports,
 * source.notPorts) match. -EOPNOTSUPP: the rule matches but for its source
 * ports, and the flow has no source port (f->sport 0). */
static int crule_match(const struct policy_model *m, const struct policy_netpol *np,
		       const struct policy_crule *cr, const struct policy_flow *f,
		       struct policy_explain_rule *er)
{
	/* ICMP fields come with protocol ICMP (Calico's validation): never a
	 * TCP/UDP/SCTP flow's */
	bool proto_ok = (!cr->family || cr->family == f->saddr.family) &&
			(cr->proto < 0 || cr->proto == f->proto) && cr->not_proto != f->proto &&
			cr->icmp_type < 0 && cr->not_icmp_type < 0;
	int r;

	er->peer_ok = proto_ok && entity_has(m, np, &cr->src, &f->saddr) &&
		      entity_has(m, np, &cr->dst, &f->daddr);
	r = entity_ports(&cr->dst, f->proto, f->port, &er->port_ok);
	if (r < 0 || !er->port_ok || (!cr->src.n_ports && !cr->src.n_not_ports))
		return r;
	if (!f->sport)
		return er->peer_ok ? -EOPNOTSUPP : 0;
	return entity_ports(&cr->src, f->proto, f->sport, &er->port_ok);
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

/* The raw failsafe chains (before a doNotTrack stage) also pass the
 * replies of the other direction's failsafe connections: source port in
 * the other list, the far end in its net. -EOPNOTSUPP: the flow has no
 * source port and an entry of the flow's protocol could match it. */
static int failsafe_reply(const struct policy_flow *f, enum policy_dir dir, bool *ret)
{
	const struct policy_failsafes *fs = dir == POLICY_DIR_INGRESS ? f->failsafe_out
								      : f->failsafe_in;
	const struct in_prefix *far = dir == POLICY_DIR_INGRESS ? &f->saddr : &f->daddr;

	*ret = false;
	for (size_t i = 0; fs && i < fs->n; i++) {
		if (fs->v[i].proto != f->proto ||
		    (fs->v[i].net.family != AF_UNSPEC && !prefix_contains(&fs->v[i].net, far)))
			continue;
		if (!f->sport)
			return -EOPNOTSUPP;
		*ret |= fs->v[i].port == f->sport;
	}
	return 0;
}

/* Appends the GlobalNetworkPolicies of @stage selecting @h in @dir to
 * @ret->selecting, in evaluation order (@fwd: the normal stage of
 * forwarded traffic, applyOnForward ones only); *@ret_from: where they
 * start. */
static int hep_stage_policies(const struct policy_model *m, const struct policy_hep *h,
			      enum policy_dir dir, enum policy_host_mode stage, bool fwd,
			      struct policy_explain_dir *ret, size_t *ret_from)
{
	void *v;

	*ret_from = ret->n_selecting;
	for (size_t i = 0; policy_hmap_next(&m->netpols, &i, &v);) {
		const struct policy_netpol *np = v;

		if (np->kind == POLICY_KIND_GLOBAL && np->types[dir] && np->host_mode == stage &&
		    (!fwd || stage != POLICY_HOST_MODE_NORMAL || np->apply_on_forward) &&
		    policy_selects_hep(np, h))
			ret->selecting[ret->n_selecting++] = np;
	}
	return sort_tiered(m, ret->selecting + *ret_from, ret->n_selecting - *ret_from);
}

/* Room in @ret->rules for every rule of @ret->selecting in @dir. */
static int rules_reserve(struct policy_explain_dir *ret, enum policy_dir dir)
{
	size_t n = 0;

	for (size_t i = 0; i < ret->n_selecting; i++)
		n += ret->selecting[i]->n_rules[dir];
	return ARRAY_GROW(ret->rules, ret->cap_rules, n + 1) < 0 ? -ENOMEM : 0;
}

/* One stage of @h's chains in @dir (@fwd: forwarded traffic's);
 * *@ret_decided: whether a rule or a tier's default decided. A doNotTrack
 * or preDNAT stage exists only while a policy of it selects @h, starts
 * with the failsafes (which pass the packet on to the next stage: their
 * policies are then not listed) and never ends in a tier default. */
static int hep_stage(const struct policy_model *m, const struct policy_flow *f,
		     enum policy_dir dir, const struct policy_hep *h, enum policy_host_mode stage,
		     bool fwd, struct policy_explain_dir *ret, bool *ret_decided)
{
	bool skip = false;
	size_t from;
	int r;

	*ret_decided = false;
	r = hep_stage_policies(m, h, dir, stage, fwd, ret, &from);
	if (r == 0)
		r = rules_reserve(ret, dir);
	if (r < 0 || from == ret->n_selecting)
		return r;
	if (stage != POLICY_HOST_MODE_NORMAL)
		skip = failsafe_accepts(f, dir);
	if (!skip && stage == POLICY_HOST_MODE_UNTRACKED && (r = failsafe_reply(f, dir, &skip)) < 0)
		return r;
	if (skip) {
		ret->n_selecting = from;
		ret->failsafe_passed = true;
		return 0;
	}
	ret->stage = stage;
	r = explain_tiered(m, f, dir, from, stage != POLICY_HOST_MODE_NORMAL, ret, ret_decided);
	ret->untracked = r == 0 && *ret_decided && ret->allowed &&
			 stage == POLICY_HOST_MODE_UNTRACKED;
	return r;
}

/* hep_stage() of @h, which when rejected has no doNotTrack or preDNAT
 * chain and a normal one that denies. */
static int endpoint_stage(const struct policy_model *m, const struct policy_flow *f,
			  enum policy_dir dir, const struct policy_hep *h,
			  enum policy_host_mode stage, bool fwd, struct policy_explain_dir *ret,
			  bool *ret_decided)
{
	*ret_decided = false;
	if (!h->rejected)
		return hep_stage(m, f, dir, h, stage, fwd, ret, ret_decided);
	if (stage == POLICY_HOST_MODE_NORMAL) {
		tiered_end(ret, POLICY_EXPLAIN_END_PROFILE, NULL, false);
		*ret_decided = true;
	}
	return 0;
}

/* A host endpoint's stages in @dir, in the order the hooks see them:
 * doNotTrack (not for forwarded egress: its chain is on the output hook;
 * never for a "*" endpoint: Calico ignores untracked policy there),
 * preDNAT (ingress), normal. An interface with a host endpoint of its own
 * never reaches the "*" endpoint's chains (compile.c: hep_dispatch()).
 * *@ret_decided: whether one decided. */
static int hep_stages(const struct policy_model *m, const struct policy_flow *f,
		      enum policy_dir dir, const struct policy_hep *h, bool fwd,
		      struct policy_explain_dir *ret, bool *ret_decided)
{
	static const enum policy_host_mode stages[] = {
		POLICY_HOST_MODE_UNTRACKED, POLICY_HOST_MODE_PRE_DNAT, POLICY_HOST_MODE_NORMAL
	};
	bool star = strcmp(h->ifname, "*") == 0;
	int r = 0;

	ret->selecting = calloc(m->netpols.n_items + 1, sizeof(*ret->selecting));
	if (!ret->selecting)
		return -ENOMEM;
	*ret_decided = false;
	for (size_t s = 0; s < ELEMENTSOF(stages) && r == 0 && !*ret_decided; s++) {
		bool normal = stages[s] == POLICY_HOST_MODE_NORMAL;

		if (dir == POLICY_DIR_EGRESS && !normal && (fwd || stages[s] != POLICY_HOST_MODE_UNTRACKED))
			continue;
		if (star && stages[s] == POLICY_HOST_MODE_UNTRACKED)
			continue;
		r = endpoint_stage(m, f, dir, h, stages[s], fwd, ret, ret_decided);
	}
	return r;
}

/* A flow through host endpoint @h (see explain.h): a local process's
 * (failsafes first; no stage decided: the endpoint's profiles), or with
 * @fwd a forwarded one's (no stage decided: accepted). */
static int explain_hep(const struct policy_model *m, const struct policy_flow *f,
		       enum policy_dir dir, const struct policy_hep *h, bool fwd,
		       struct policy_explain_dir *ret)
{
	bool decided;
	int r;

	ret->hep = h;
	ret->forward = fwd;
	ret->filtered = ret->isolated = ret->tiered = true;
	if (!fwd && failsafe_accepts(f, dir)) {
		tiered_end(ret, POLICY_EXPLAIN_END_FAILSAFE, NULL, true);
		return 0;
	}
	r = hep_stages(m, f, dir, h, fwd, ret, &decided);
	if (r < 0 || decided)
		return r;
	if (fwd)
		tiered_end(ret, POLICY_EXPLAIN_END_FORWARD, NULL, true);
	else
		tiered_end(ret, POLICY_EXPLAIN_END_PROFILE, NULL, h->default_allow);
	return 0;
}

static int explain_dir(const struct policy_model *m, const struct policy_flow *f,
		       enum policy_dir dir, struct policy_explain_dir *ret)
{
	const struct policy_pod *pod = dir == POLICY_DIR_EGRESS ? f->src : f->dst;
	const struct in_prefix *far = dir == POLICY_DIR_EGRESS ? &f->daddr : &f->saddr;
	int r;

	ret->filtered = pod && !pod->host_network;
	ret->allowed = true;
	if (!ret->filtered)
		return 0;
	r = selecting(m, pod, dir, ret);
	if (r == 0)
		r = rules_reserve(ret, dir);
	if (r < 0)
		return r;
	ret->isolated = ret->n_selecting > 0;
	ret->allowed = !ret->isolated;
	if (ret->tiered)
		return explain_tiered(m, f, dir, 0, false, ret, &(bool){ false });
	for (size_t i = 0; i < ret->n_selecting; i++) {
		const struct policy_netpol *np = ret->selecting[i];

		for (size_t k = 0; k < np->n_rules[dir]; k++) {
			struct policy_explain_rule *er = &ret->rules[ret->n_rules++];
			const struct policy_rule *rule = &np->rules[dir][k];

			*er = (struct policy_explain_rule){
				.np = np,
				.rule = k,
				.peer_ok = rule_peers_match(m, np, rule, far),
				.port_ok = rule_ports_match(m, np, dir, rule, f),
				.action = POLICY_ACTION_ALLOW,
			};
			ret->allowed |= er->peer_ok && er->port_ok;
		}
	}
	return 0;
}

static void dir_done(struct policy_explain_dir *d)
{
	free(d->selecting);
	free(d->rules);
}

void policy_explain_done(struct policy_explain *e)
{
	for (int d = 0; d < _POLICY_DIR_MAX; d++) {
		dir_done(&e->dir[d]);
		dir_done(&e->fwd[d]);
	}
	*e = (struct policy_explain){};
}

/* Whether the flow's ends can be: a local process's flow is never
 * forwarded, the forwarding node's own pods never arrive or leave through
 * its host endpoints, two local processes are on different nodes. */
static bool flow_is_valid(const struct policy_flow *f)
{
	bool local = f->src_hep || f->dst_hep || f->to_node;

	if (f->saddr.family != f->daddr.family)
		return false;
	if (f->to_node && (!f->src || f->dst || f->dst_hep || f->src_hep))
		return false;
	if (f->src_hep && f->dst_hep && strcmp(f->src_hep->node, f->dst_hep->node) == 0)
		return false;
	if (local && (f->fwd_in || f->fwd_out))
		return false;
	if (f->fwd_in && f->fwd_out && strcmp(f->fwd_in->node, f->fwd_out->node) != 0)
		return false;
	if (f->fwd_in && f->src && f->src->node && strcmp(f->src->node, f->fwd_in->node) == 0)
		return false;
	return !(f->fwd_out && f->dst && f->dst->node &&
		 strcmp(f->dst->node, f->fwd_out->node) == 0);
}

/* The source's or destination's own direction (@d: EGRESS, INGRESS). */
static int explain_end(const struct policy_model *m, const struct policy_flow *f,
		       enum policy_dir d, struct policy_explain_dir *ret)
{
	const struct policy_hep *h = d == POLICY_DIR_EGRESS ? f->src_hep : f->dst_hep;

	if (f->to_node && d == POLICY_DIR_INGRESS) {
		tiered_end(ret, POLICY_EXPLAIN_END_HOST_ACTION, NULL,
			   f->endpoint_to_host != POLICY_HOST_DROP);
		return 0;
	}
	return h ? explain_hep(m, f, d, h, false, ret) : explain_dir(m, f, d, ret);
}

int policy_explain(const struct policy_model *m, const struct policy_flow *f,
		   struct policy_explain *ret)
{
	struct policy_explain e = {};
	int r = 0;

	if (!flow_is_valid(f))
		return -EINVAL;
	for (int d = 0; d < _POLICY_DIR_MAX && r == 0; d++) {
		const struct policy_hep *h = d == POLICY_DIR_INGRESS ? f->fwd_in : f->fwd_out;

		r = explain_end(m, f, (enum policy_dir)d, &e.dir[d]);
		e.fwd[d].allowed = true;
		if (r == 0 && h)
			r = explain_hep(m, f, (enum policy_dir)d, h, true, &e.fwd[d]);
	}
	if (r < 0) {
		policy_explain_done(&e);
		return r;
	}
	e.allowed = true;
	for (int d = 0; d < _POLICY_DIR_MAX; d++)
		e.allowed &= e.dir[d].allowed && e.fwd[d].allowed;
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
