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

static bool rule_ports_match(const struct policy_model *m, const struct policy_netpol *np,
			     enum policy_dir dir, const struct policy_rule *rule,
			     const struct policy_flow *f)
{
	if (rule->n_ports == 0)
		return true;
	for (size_t i = 0; i < rule->n_ports; i++) {
		const struct policy_port *pp = &rule->ports[i];

		if (pp->name ? named_matches(m, np, dir, rule, pp, f)
			     : pp->proto == f->proto &&
				       (pp->any_port || (f->port >= pp->port && f->port <= pp->end_port)))
			return true;
	}
	return false;
}

static int cmp_netpol(const void *a, const void *b)
{
	return strcmp((*(const struct policy_netpol *const *)a)->key,
		      (*(const struct policy_netpol *const *)b)->key);
}

/* The policies of @dir selecting @pod, sorted by key (the order of the
 * jumps in its profile chain). */
static int selecting(const struct policy_model *m, const struct policy_pod *pod,
		     enum policy_dir dir, struct policy_explain_dir *ret)
{
	void *v;

	ret->selecting = calloc(m->netpols.n_items + 1, sizeof(*ret->selecting));
	if (!ret->selecting)
		return -ENOMEM;
	for (size_t i = 0; policy_hmap_next(&m->netpols, &i, &v);) {
		const struct policy_netpol *np = v;

		/* Calico's policies (tiers, Deny, Pass) are not explained yet:
		 * an answer without them could be wrong */
		if (np->kind != POLICY_KIND_K8S) {
			if (np->types[dir] && policy_selects_pod(m, np, pod))
				return -EOPNOTSUPP;
			continue;
		}
		if (np->types[dir] && strcmp(np->ns, pod->ns) == 0 &&
		    labelsel_matches(np->pod_sel, pod->labels))
			ret->selecting[ret->n_selecting++] = np;
	}
	qsort(ret->selecting, ret->n_selecting, sizeof(*ret->selecting), cmp_netpol);
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
	for (int d = 0; d < _POLICY_DIR_MAX && r == 0; d++)
		r = explain_dir(m, f, (enum policy_dir)d, &e.dir[d]);
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
