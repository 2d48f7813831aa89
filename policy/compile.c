/* NetworkPolicy -> nftables compiler (layout in compile.h).
 *
 * Pod-dependent set contents come from GENERATORS: "addresses of the pods a
 * peer selects", one per distinct peer (the same selectors in the same
 * scope, whatever policy or rule they are written in, share one set pair
 * and one generator, as Calico's selector IP sets do), and "address .
 * protocol . port of the named ports of the pods this rule's named ports
 * resolve against", one per (policy, direction, rule). A full compile
 * enumerates each generator's
 * candidate pods (only the namespaces its selectors can match); an
 * incremental pod update asks every generator about that one pod. Elements
 * are reference counted by contributor, so both paths build the same table.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
/* after <netinet/in.h>: the kernel's header defers to glibc's definitions */
#include <linux/netfilter.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "array.h"
#include "calico.h"
#include "cleanup.h"
#include "compile.h"
#include "failsafe.h"
#include "ifname.h"
#include "labelsel.h"
#include "model.h"
#include "names.h"
#include "nftstate.h"
#include "plan.h"

#define CHAIN_EGRESS "cc_fwd_egress"
#define CHAIN_INGRESS "cc_fwd_ingress"
#define MAP_FROM_WL "cc_from_wl"
#define MAP_TO_WL "cc_to_wl"
#define CHAIN_OPEN "cc_open"
#define CHAIN_INPUT "cc_input"
#define CHAIN_WL_TO_HOST "cc_wl_to_host"
#define CHAIN_INPUT_DROP "cc_input_drop"
#define CHAIN_OUTPUT "cc_output"
#define CHAIN_FAILSAFE_IN "cc_failsafe_in"
#define CHAIN_FAILSAFE_OUT "cc_failsafe_out"
#define CHAIN_FAILSAFE_RAW_IN "cc_failsafe_raw_in"
#define CHAIN_FAILSAFE_RAW_OUT "cc_failsafe_raw_out"
#define CHAIN_PREROUTING "cc_prerouting"
#define CHAIN_RAW_PREROUTING "cc_raw_prerouting"
#define CHAIN_RAW_OUTPUT "cc_raw_output"
#define CHAIN_HEP_OWN "cc_hep_own"
#define MAP_FROM_HEP_OWN "cc_from_hep_own"
/* before DNAT (nat prerouting is -100), after conntrack (-200): Calico's
 * mangle; and before conntrack: Calico's raw */
#define PRIO_PRE_DNAT (-150)
#define PRIO_RAW (-300)
#define HEP_NAME_MAX 40 /* longer host endpoint names: their chains are named by a hash */
#define LOG_PREFIX_LEN_MAX 127 /* nft's log prefix limit (NF_LOG_PREFIXLEN - 1) */
/* The packet mark bit a Pass sets on its way out of a policy chain: the
 * tier chain sees it, clears it and returns to the profile chain, which
 * goes on with the next tier (Calico's mask 0xffff0000 holds it too). */
#define PASS_MARK 0x00100000u
/* The packet mark bit of a workload's packet to its host under
 * DefaultEndpointToHostAction Drop, set before its egress policy: the
 * policy's accept ends CHAIN_INPUT only, and CHAIN_INPUT_DROP, the next
 * input base chain, drops what carries the bit (also in Calico's mask). */
#define HOST_DROP_MARK 0x00200000u
/* The packet mark bit of a packet a preDNAT or doNotTrack policy allowed
 * (Calico's accept mark): the later chains of host endpoints (preDNAT,
 * normal, applyOnForward ingress) accept it at once. Cleared first by the
 * earliest of our chains that can set it. */
#define HOST_ACCEPT_MARK 0x00400000u
#define NAME_MAX_LEN 200

/* One pod-dependent set pair (v4, v6); see the top comment. */
struct gen {
	struct policy_netpol *np; /* reference */
	enum policy_dir dir;
	size_t rule;
	bool named;		  /* named-port set, else peer address set */
	size_t peer;		  /* peer address set: the peer (of the rule) it holds */
	bool restrict_to_peers;	  /* named egress: only pods matching the pod peers */
	const struct policy_entity *ent; /* Calico: the source/destination (of np) it holds */
	struct policy_nft_set *set[2]; /* [0] IPv4, [1] IPv6; owned by the table */
};

/* The policies of one namespace, sorted by name (profile chains list them
 * in this order). */
struct ns_policies {
	char *ns;
	struct policy_netpol **v; /* references; owned (room for @cap) */
	size_t n, cap;
};

struct policy_desired {
	struct policy_nft *nft;
	struct gen *gens;
	size_t n_gens, cap_gens;
	struct policy_hmap ns_pols; /* ns -> struct ns_policies */
	struct ns_policies globals; /* GlobalNetworkPolicies */
	const struct policy_model *m; /* borrowed during policy_compile() / an update only */
	struct policy_hmap compiled; /* netpol key -> struct relevant: those with chains */
	bool local_only;	     /* the model has a node: compile only its pods' policies */
	int nflog_group;	    /* of Log rules, -1: none */
	bool nflog_denied;	    /* denied packets are logged to nflog_group too */
	char *log_prefix;	    /* Calico's LogPrefix */
	enum policy_host_action host_action; /* DefaultEndpointToHostAction */
	bool v6;		    /* IPv6 pod sets and rules exist (some pod has IPv6) */
	uint64_t netpol_generation; /* of the model compiled */
	struct policy_nft_set *vmap[_POLICY_DIR_MAX]; /* INGRESS: to_wl, EGRESS: from_wl */
	struct tracker *tracking;   /* during an incremental update: records what it creates */
	struct policy_names names;  /* every chain and set name derived from object names */
	struct policy_failsafes failsafe[_POLICY_DIR_MAX]; /* INGRESS: inbound, EGRESS: outbound */
	/* during policy_compile() only: this node's host endpoints governing an
	 * interface (one per interface, by name) and the "*" one */
	struct hep_slot *heps;
	size_t n_heps;
	const struct policy_hep *hep_star;
};

/* A host endpoint and an interface it governs. */
struct hep_slot {
	const struct policy_hep *h;
	char ifname[IFNAMSIZ];
};

/* A compiled policy and how many local pods it selects. */
struct relevant {
	const struct policy_netpol *np; /* borrowed from ns_pols */
	unsigned local;
};

/* Records what an incremental update touched, to derive its plan. */
struct tracker {
	struct policy_hmap elems;  /* set pointer . data -> struct touched */
	struct policy_hmap chains; /* name -> struct touched_name */
	struct policy_hmap sets;   /* name -> struct touched_name: created or dropped */
	/* policies the update made relevant / irrelevant on this node */
	const struct policy_netpol **gained, **lost; /* owned (the policies borrowed) */
	size_t n_gained, cap_gained, n_lost, cap_lost;
	/* sets dropped by the update, freed once its plan is built; owned */
	struct policy_nft_set **dropped;
	size_t n_dropped, cap_dropped;
};

struct touched {
	struct policy_nft_set *set;
	bool was;
	size_t len; /* of key: pointer + data */
	uint8_t key[];
};

struct touched_name {
	bool was;
	char name[];
};

static const char *const dir_short[_POLICY_DIR_MAX] = { "in", "eg" };
static const char *const profile_kind[_POLICY_DIR_MAX] = { "ep_in", "ep_eg" };

static int touch_chain(struct tracker *t, const struct policy_desired *d, const char *name);
static int touch_set(struct tracker *t, const struct policy_desired *d, const char *name);
static int verdict_rule(const struct policy_desired *d, struct policy_nft_chain *c,
			enum policy_verdict verdict, int log_group, bool pass_check, const char *label);

/* Sets and chains of policies are created through these, so an incremental
 * update that compiles a policy knows what it added. */
static int set_add(struct policy_desired *d, const char *name, enum policy_set_kind kind,
		   struct policy_nft_set **ret)
{
	int r = touch_set(d->tracking, d, name);

	return r < 0 ? r : policy_nft_set_add(d->nft, name, kind, ret);
}

static int chain_add(struct policy_desired *d, const char *name, struct policy_nft_chain **ret)
{
	int r = touch_chain(d->tracking, d, name);

	return r < 0 ? r : policy_nft_chain_add(d->nft, name, ret);
}

/* snprintf for names whose parts are bounded by construction (no
 * truncation warning; an over-long result is cut, never overflows). */
static void name_fmt(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void name_fmt(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(buf, size, fmt, ap);
	va_end(ap);
}

static const char *const host_action_names[_POLICY_HOST_ACTION_MAX] = {
	[POLICY_HOST_DROP] = "Drop",
	[POLICY_HOST_RETURN] = "Return",
	[POLICY_HOST_ACCEPT] = "Accept",
};

const char *policy_host_action_to_string(enum policy_host_action a)
{
	return a >= 0 && a < _POLICY_HOST_ACTION_MAX ? host_action_names[a] : NULL;
}

enum policy_host_action policy_host_action_from_string(const char *s)
{
	for (int a = 0; s && a < _POLICY_HOST_ACTION_MAX; a++)
		if (strcasecmp(s, host_action_names[a]) == 0)
			return a;
	return _POLICY_HOST_ACTION_INVALID;
}

bool policy_log_prefix_is_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > POLICY_LOG_PREFIX_MAX)
		return false;
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e || *s == '"' || *s == '\\')
			return false;
	return true;
}

/* Makes @r log to @group (none when negative) with the NFLOG prefix
 * "<LogPrefix> <label>: ", cut to nft's limit. */
static int rule_log(const struct policy_desired *d, struct policy_nft_rule *r, int group,
		    const char *label)
{
	int n;

	r->log_group = group;
	if (group < 0)
		return 0;
	n = asprintf(&r->log_prefix, "%s %.*s: ", d->log_prefix,
		     (int)(LOG_PREFIX_LEN_MAX - 3 - strlen(d->log_prefix)), label);
	if (n < 0) {
		r->log_prefix = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* The group denied packets are logged to, -1: not logged. */
static int denied_log_group(const struct policy_desired *d)
{
	return d->nflog_denied ? d->nflog_group : -1;
}

const struct policy_nft *policy_desired_nft(const struct policy_desired *d)
{
	return d->nft;
}

size_t policy_desired_n_policies(const struct policy_desired *d)
{
	return d->compiled.n_items;
}

struct policy_desired *policy_desired_free(struct policy_desired *d)
{
	void *v;

	if (!d)
		return NULL;
	for (size_t i = 0; i < d->n_gens; i++)
		policy_netpol_unref(d->gens[i].np);
	free(d->gens);
	for (size_t i = 0; policy_hmap_next(&d->ns_pols, &i, &v);) {
		struct ns_policies *np = v;

		for (size_t k = 0; k < np->n; k++)
			policy_netpol_unref(np->v[k]);
		free(np->v);
		free(np->ns);
		free(np);
	}
	policy_hmap_done(&d->ns_pols);
	for (size_t k = 0; k < d->globals.n; k++)
		policy_netpol_unref(d->globals.v[k]);
	free(d->globals.v);
	for (size_t i = 0; policy_hmap_next(&d->compiled, &i, &v);)
		free(v);
	policy_hmap_done(&d->compiled);
	policy_names_done(&d->names);
	policy_nft_free(d->nft);
	free(d->log_prefix);
	free(d->heps);
	free(d);
	return NULL;
}

/* ---- names ---- */

/* A policy's chains and rule sets are named "<base>_<in|eg>" and
 * "<base>_<in|eg><rule>_<named4|6>". The base is claimed in d->names for
 * every policy of the model (in key order, so a full compile and the
 * incremental updates after it agree): "pol_<ns>_<name>" (Kubernetes names
 * have no '_') or, for over-long names, "pol_h<hash of ns/name>"; a base
 * another policy holds gets a "_<n>" suffix. The suffixes are fixed, so
 * distinct bases give distinct chain and set names. */
static int policy_base_claim(struct policy_desired *d, const struct policy_netpol *np)
{
	char candidate[NAME_MAX_LEN + 32];
	const char *name;

	if (strlen(np->ns) + strlen(np->name) <= NAME_MAX_LEN)
		name_fmt(candidate, sizeof(candidate), "pol_%s_%s", np->ns, np->name);
	else
		snprintf(candidate, sizeof(candidate), "pol_h%016llx",
			 (unsigned long long)policy_hash(np->key, strlen(np->key)));
	return policy_names_claim(&d->names, "pol", np->key, strlen(np->key), candidate, &name);
}

static const char *policy_base_name(const struct policy_desired *d, const struct policy_netpol *np)
{
	return policy_names_lookup(&d->names, "pol", np->key, strlen(np->key));
}

static void policy_chain_name(const struct policy_desired *d, const struct policy_netpol *np,
			      enum policy_dir dir, char *buf, size_t size)
{
	name_fmt(buf, size, "%s_%s", policy_base_name(d, np), dir_short[dir]);
}

static void rule_set_name(const struct policy_desired *d, const struct policy_netpol *np,
			  enum policy_dir dir, size_t rule, const char *what, char *buf,
			  size_t size)
{
	name_fmt(buf, size, "%s_%s%zu_%s", policy_base_name(d, np), dir_short[dir], rule, what);
}

/* ---- elements ---- */

static int touch_elem(struct tracker *t, struct policy_nft_set *s, const uint8_t *data,
		      size_t len)
{
	size_t klen = sizeof(s) + len;
	struct touched *tc = malloc(sizeof(*tc) + klen);
	int r;

	if (!tc)
		return -ENOMEM;
	memcpy(tc->key, &s, sizeof(s));
	memcpy(tc->key + sizeof(s), data, len);
	if (policy_hmap_get(&t->elems, tc->key, klen)) {
		free(tc);
		return 0;
	}
	tc->set = s;
	tc->len = klen;
	tc->was = policy_nft_elem_has(s, data, len);
	r = policy_hmap_put(&t->elems, tc->key, klen, tc);
	if (r < 0)
		free(tc);
	return r;
}

static int elem_change(struct tracker *t, struct policy_nft_set *s, const uint8_t *data,
		       size_t len, int delta)
{
	int r;

	if (t) {
		r = touch_elem(t, s, data, len);
		if (r < 0)
			return r;
	}
	if (delta > 0)
		return policy_nft_elem_ref(s, data, len, NULL);
	(void)policy_nft_elem_unref(s, data, len);
	return 0;
}

static int fam_index(int family)
{
	return family == AF_INET6 ? 1 : 0;
}

static size_t addr_len(int family)
{
	return family == AF_INET6 ? 16 : 4;
}

/* ---- matching ---- */

static bool pod_matches_peer(const struct policy_model *m, const struct policy_netpol *np,
			     const struct policy_peer *peer, const struct policy_pod *pod)
{
	if (peer->is_block)
		return false;
	if (!peer->ns_sel) {
		if (strcmp(pod->ns, np->ns) != 0)
			return false;
	} else if (!policy_model_ns_matches(m, pod->ns, peer->ns_sel)) {
		return false;
	}
	return !peer->pod_sel || labelsel_matches(peer->pod_sel, pod->labels);
}

static bool pod_matches_rule_peers(const struct policy_model *m, const struct policy_netpol *np,
				   const struct policy_rule *rule, const struct policy_pod *pod)
{
	for (size_t i = 0; i < rule->n_peers; i++)
		if (pod_matches_peer(m, np, &rule->peers[i], pod))
			return true;
	return false;
}


static int named_contrib(const struct gen *g, const struct policy_rule *rule,
			 const struct policy_pod *pod, int delta, struct tracker *t)
{
	uint8_t key[19];
	int r;

	for (size_t k = 0; k < rule->n_ports; k++) {
		const struct policy_port *pp = &rule->ports[k];

		if (!pp->name)
			continue;
		for (size_t q = 0; q < pod->n_ports; q++) {
			const struct policy_named_port *np = &pod->ports[q];

			if (np->proto != pp->proto || strcmp(np->name, pp->name) != 0)
				continue;
			for (size_t a = 0; a < pod->n_ips; a++) {
				size_t al = addr_len(pod->ips[a].family);

				struct policy_nft_set *s = g->set[fam_index(pod->ips[a].family)];

				if (!s)
					continue;
				memcpy(key, pod->ips[a].addr, al);
				key[al] = np->proto;
				key[al + 1] = (uint8_t)(np->port >> 8);
				key[al + 2] = (uint8_t)np->port;
				r = elem_change(t, s, key, al + 3, delta);
				if (r < 0)
					return r;
			}
		}
	}
	return 0;
}

static int addr_contrib(const struct gen *g, const struct policy_pod *pod, int delta,
			struct tracker *t)
{
	int r;

	for (size_t a = 0; a < pod->n_ips; a++) {
		struct policy_nft_set *s = g->set[fam_index(pod->ips[a].family)];

		if (!s)
			continue;
		r = elem_change(t, s, pod->ips[a].addr, addr_len(pod->ips[a].family), delta);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Adds (delta +1) or removes (-1) what @pod contributes to @g. */
static int gen_contrib(const struct gen *g, const struct policy_model *m,
		       const struct policy_pod *pod, int delta, struct tracker *t)
{
	const struct policy_rule *rule = g->ent ? NULL : &g->np->rules[g->dir][g->rule];

	if (pod->host_network)
		return 0;
	if (g->ent) {
		if (!policy_entity_matches_pod(m, g->np, g->ent, pod))
			return 0;
		return addr_contrib(g, pod, delta, t);
	}
	if (g->named) {
		if (g->dir == POLICY_DIR_INGRESS ? !policy_selects_pod(m, g->np, pod)
						 : (g->restrict_to_peers &&
						    !pod_matches_rule_peers(m, g->np, rule, pod)))
			return 0;
		return named_contrib(g, rule, pod, delta, t);
	}
	if (!pod_matches_peer(m, g->np, &rule->peers[g->peer], pod))
		return 0;
	return addr_contrib(g, pod, delta, t);
}

/* Whether a generator may match pods of namespace @ns (candidate filter for
 * the full compile; gen_contrib() decides exactly). */
static bool gen_wants_ns(const struct gen *g, const struct policy_model *m, const char *ns)
{
	const struct policy_rule *rule;

	if (g->ent)
		return policy_entity_wants_ns(m, g->np, g->ent, ns);
	rule = &g->np->rules[g->dir][g->rule];

	if (g->named && g->dir == POLICY_DIR_INGRESS)
		return strcmp(ns, g->np->ns) == 0;
	if (g->named && !g->restrict_to_peers)
		return true;
	for (size_t i = 0; i < rule->n_peers; i++) {
		const struct policy_peer *p = &rule->peers[i];

		if (p->is_block || (!g->named && i != g->peer))
			continue;
		if (p->ns_sel ? policy_model_ns_matches(m, ns, p->ns_sel)
			      : strcmp(ns, g->np->ns) == 0)
			return true;
	}
	return false;
}

static int gen_fill(const struct gen *g, const struct policy_model *m)
{
	void *v;
	int r;

	for (size_t i = 0; policy_hmap_next(&m->ns_pods, &i, &v);) {
		const struct policy_ns_pods *nsp = v;

		if (nsp->n_pods == 0 || !gen_wants_ns(g, m, nsp->ns))
			continue;
		for (size_t k = 0; k < nsp->n_pods; k++) {
			r = gen_contrib(g, m, nsp->pods[k], +1, NULL);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* ---- static sets: ipBlocks and numeric ports ---- */

typedef unsigned __int128 u128;

struct range {
	u128 first, last;
};

struct ranges {
	struct range *v;
	size_t n, cap;
};

static int ranges_add(struct ranges *rs, u128 first, u128 last)
{
	int r = ARRAY_GROW(rs->v, rs->cap, rs->n + 1);

	if (r < 0)
		return r;
	rs->v[rs->n++] = (struct range){ first, last };
	return 0;
}

static u128 addr_to_u128(const uint8_t *a, size_t len)
{
	u128 v = 0;

	for (size_t i = 0; i < len; i++)
		v = v << 8 | a[i];
	return v;
}

static void u128_to_addr(u128 v, uint8_t *a, size_t len)
{
	for (size_t i = len; i-- > 0; v >>= 8)
		a[i] = (uint8_t)v;
}

static void cidr_range(const struct in_prefix *c, u128 *first, u128 *last)
{
	unsigned bits = c->family == AF_INET6 ? 128 : 32;
	unsigned host = bits - c->len;
	u128 mask = host >= 128 ? ~(u128)0 : (((u128)1 << host) - 1);

	*first = addr_to_u128(c->addr, addr_len(c->family)) & ~mask;
	*last = *first | mask;
}

/* Removes [a, b] from every range (splitting where needed). */
static int ranges_cut(struct ranges *rs, u128 a, u128 b)
{
	size_t n = rs->n;
	int r;

	for (size_t i = 0; i < n; i++) {
		struct range x = rs->v[i];

		if (b < x.first || a > x.last)
			continue;
		rs->v[i].last = 0;
		rs->v[i].first = 1; /* empty marker: first > last */
		if (x.first < a) {
			r = ranges_add(rs, x.first, a - 1);
			if (r < 0)
				return r;
		}
		if (b < x.last) {
			r = ranges_add(rs, b + 1, x.last);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static int cmp_range(const void *x, const void *y)
{
	const struct range *a = x, *b = y;

	return a->first < b->first ? -1 : a->first > b->first;
}

/* Sorts, drops empties and merges overlapping or adjacent ranges: interval
 * sets reject overlaps. */
static void ranges_normalize(struct ranges *rs)
{
	size_t w = 0;

	if (rs->n == 0)
		return;
	qsort(rs->v, rs->n, sizeof(*rs->v), cmp_range);
	for (size_t i = 0; i < rs->n; i++) {
		struct range x = rs->v[i];

		if (x.first > x.last)
			continue;
		if (w > 0 && rs->v[w - 1].last != ~(u128)0 && x.first <= rs->v[w - 1].last + 1) {
			if (x.last > rs->v[w - 1].last)
				rs->v[w - 1].last = x.last;
			continue;
		}
		rs->v[w++] = x;
	}
	rs->n = w;
}

static int block_ranges(const struct policy_rule *rule, int family, struct ranges *rs)
{
	u128 a, b;
	int r;

	for (size_t i = 0; i < rule->n_peers; i++) {
		const struct policy_peer *p = &rule->peers[i];
		struct ranges one = {};

		if (!p->is_block || p->block.family != family)
			continue;
		cidr_range(&p->block, &a, &b);
		r = ranges_add(&one, a, b);
		for (size_t k = 0; r == 0 && k < p->n_except; k++) {
			cidr_range(&p->except[k], &a, &b);
			r = ranges_cut(&one, a, b);
		}
		for (size_t k = 0; r == 0 && k < one.n; k++)
			if (one.v[k].first <= one.v[k].last)
				r = ranges_add(rs, one.v[k].first, one.v[k].last);
		free(one.v);
		if (r < 0)
			return r;
	}
	ranges_normalize(rs);
	return 0;
}

static int fill_block_set(struct policy_nft_set *s, const struct ranges *rs, int family)
{
	size_t al = addr_len(family);
	uint8_t key[32];
	int r;

	for (size_t i = 0; i < rs->n; i++) {
		u128_to_addr(rs->v[i].first, key, al);
		u128_to_addr(rs->v[i].last, key + al, al);
		r = policy_nft_elem_ref(s, key, 2 * al, NULL);
		if (r < 0)
			return r;
	}
	return 0;
}

static int fill_port_set(struct policy_nft_set *s, const struct policy_port *ports, size_t n)
{
	static const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP };
	uint8_t key[5];
	int r = 0;

	for (size_t pi = 0; r == 0 && pi < ELEMENTSOF(protos); pi++) {
		struct ranges rs = {};

		for (size_t k = 0; r == 0 && k < n; k++) {
			const struct policy_port *pp = &ports[k];

			if (pp->name || pp->proto != protos[pi])
				continue;
			r = pp->any_port ? ranges_add(&rs, 0, 65535)
					 : ranges_add(&rs, pp->port, pp->end_port);
		}
		ranges_normalize(&rs);
		for (size_t k = 0; r == 0 && k < rs.n; k++) {
			key[0] = protos[pi];
			key[1] = (uint8_t)(rs.v[k].first >> 8);
			key[2] = (uint8_t)rs.v[k].first;
			key[3] = (uint8_t)(rs.v[k].last >> 8);
			key[4] = (uint8_t)rs.v[k].last;
			r = policy_nft_elem_ref(s, key, sizeof(key), NULL);
		}
		free(rs.v);
	}
	return r;
}


/* Sets whose contents follow from the policy text alone (ipBlocks, numeric
 * ports, pod peers' selectors) are shared by every rule that needs the same
 * contents: the kernel looks sets up by name in a list, so fewer sets is
 * what keeps large syncs fast. They are named "<what>_<hash of content>",
 * claimed in d->names with the content itself, so different contents never
 * share a set even when their hashes collide.
 * Return: 1 when created (fill it), 0 when it exists already, -errno. */
static int static_set(struct policy_desired *d, const char *what, const void *content,
		      size_t len, enum policy_set_kind kind, struct policy_nft_set **ret)
{
	const char *name;
	char candidate[64];
	int r;

	snprintf(candidate, sizeof(candidate), "%s_%016llx", what,
		 (unsigned long long)policy_hash(content, len));
	r = policy_names_claim(&d->names, what, content, len, candidate, &name);
	if (r < 0)
		return r;
	*ret = policy_nft_set_get(d->nft, name);
	if (*ret)
		return 0;
	return set_add(d, name, kind, ret) < 0 ? -ENOMEM : 1;
}

static int port_set(struct policy_desired *d, const struct policy_port *ports, size_t n,
		    char *name, size_t size)
{
	_cleanup_(policy_nft_freep) struct policy_nft *tmp = NULL;
	_cleanup_free_ char *text = NULL;
	struct policy_nft_set *s;
	int r;

	/* fill a scratch set first: its canonical text names the shared set */
	r = policy_nft_new("scratch", &tmp);
	if (r == 0)
		r = policy_nft_set_add(tmp, "p", POLICY_SET_PORTS, &s);
	if (r == 0)
		r = fill_port_set(s, ports, n);
	if (r == 0)
		r = policy_nft_set_to_text(s, &text);
	if (r < 0)
		return r;
	r = static_set(d, "ports", text, strlen(text), POLICY_SET_PORTS, &s);
	if (r > 0)
		r = fill_port_set(s, ports, n);
	if (r < 0)
		return r;
	snprintf(name, size, "%s", s->name);
	return 0;
}

/* ---- rules of one NetworkPolicy rule ---- */

/* One way to match the peer side or the port side of a rule. */
struct variant {
	enum policy_match_kind kind; /* _POLICY_MATCH_KIND_MAX: matches everything */
	int family;		     /* 0: any */
	uint32_t value;		     /* value matches (protocol, ICMP byte) */
	char set[320];
};

struct variants {
	struct variant *v; /* owned */
	size_t n, cap;
};

static void variants_done(struct variants *vs)
{
	free(vs->v);
}

static int variant_push(struct variants *vs, enum policy_match_kind kind, int family,
			const char *set)
{
	struct variant *v;

	if (ARRAY_GROW(vs->v, vs->cap, vs->n + 1) < 0)
		return -ENOMEM;
	v = &vs->v[vs->n++];
	v->kind = kind;
	v->family = family;
	v->value = 0;
	snprintf(v->set, sizeof(v->set), "%s", set ? set : "");
	return 0;
}

/* A new generator slot (filled by the caller); NULL when out of memory. */
static struct gen *gen_push(struct policy_desired *d)
{
	if (ARRAY_GROW(d->gens, d->cap_gens, d->n_gens + 1) < 0)
		return NULL;
	return &d->gens[d->n_gens++];
}

static int add_gen(struct policy_desired *d, struct policy_netpol *np, enum policy_dir dir,
		   size_t rule, bool named, size_t peer, struct policy_nft_set *s4,
		   struct policy_nft_set *s6)
{
	const struct policy_rule *ru = &np->rules[dir][rule];
	struct gen *g;

	g = gen_push(d);
	if (!g)
		return -ENOMEM;
	*g = (struct gen){
		.np = policy_netpol_ref(np),
		.dir = dir,
		.rule = rule,
		.named = named,
		.peer = peer,
		.set = { s4, s6 },
	};
	/* Egress named ports resolve against the destination pod; with only pod
	 * peers the destination is one of them, so the set can be limited. */
	if (named && dir == POLICY_DIR_EGRESS && ru->n_peers > 0) {
		g->restrict_to_peers = true;
		for (size_t i = 0; i < ru->n_peers; i++)
			g->restrict_to_peers &= !ru->peers[i].is_block;
	}
	return 0;
}

/* The named-port set pair of rule @i (its own: what it holds depends on
 * the rule's ports and, for egress, its peers). */
static int named_set_pair(struct policy_desired *d, struct policy_netpol *np, enum policy_dir dir,
			  size_t i, struct policy_nft_set **ret4, struct policy_nft_set **ret6)
{
	char name[300];
	int r;

	rule_set_name(d, np, dir, i, "named4", name, sizeof(name));
	r = set_add(d, name, POLICY_SET_NAMED4, ret4);
	if (r < 0)
		return r;
	*ret6 = NULL;
	if (!d->v6)
		return 0;
	rule_set_name(d, np, dir, i, "named6", name, sizeof(name));
	return set_add(d, name, POLICY_SET_NAMED6, ret6);
}

/* What makes two pod peers select the same pods: their selectors, and the
 * policy's namespace when they have no namespaceSelector. */
static int peer_key(const struct policy_netpol *np, const struct policy_peer *p, char **ret)
{
	_cleanup_free_ char *ns = NULL, *pods = NULL;

	if ((p->ns_sel && labelsel_to_string(p->ns_sel, &ns) < 0) ||
	    (p->pod_sel && labelsel_to_string(p->pod_sel, &pods) < 0))
		return -ENOMEM;
	if (asprintf(ret, "%s %s\n%s %s", p->ns_sel ? "namespaces" : "namespace",
		     p->ns_sel ? ns : np->ns, p->pod_sel ? "pods" : "all-pods",
		     p->pod_sel ? pods : "") < 0)
		return -ENOMEM;
	return 0;
}

/* The set pair of peer @k of rule @i: shared by every peer with its key
 * (named by a hash of it); the first to need it creates it and its
 * generator. */
static int peer_set_pair(struct policy_desired *d, struct policy_netpol *np, enum policy_dir dir,
			 size_t i, size_t k, struct policy_nft_set **ret4,
			 struct policy_nft_set **ret6)
{
	_cleanup_free_ char *key = NULL;
	int r;

	r = peer_key(np, &np->rules[dir][i].peers[k], &key);
	if (r < 0)
		return r;
	r = static_set(d, "sel4", key, strlen(key), POLICY_SET_ADDR4, ret4);
	if (r < 0)
		return r;
	*ret6 = NULL;
	if (d->v6 && static_set(d, "sel6", key, strlen(key), POLICY_SET_ADDR6, ret6) < 0)
		return -ENOMEM;
	return r == 1 ? add_gen(d, np, dir, i, false, k, *ret4, *ret6) : 0;
}

static int peer_variants(struct policy_desired *d, struct policy_netpol *np, enum policy_dir dir,
			 size_t i, struct variants *vs)
{
	const struct policy_rule *rule = &np->rules[dir][i];
	enum policy_match_kind mk = dir == POLICY_DIR_INGRESS ? POLICY_MATCH_SADDR
							      : POLICY_MATCH_DADDR;
	static const int fams[2] = { AF_INET, AF_INET6 };
	struct policy_nft_set *s4, *s6, *s;
	int r;

	if (rule->n_peers == 0)
		return variant_push(vs, _POLICY_MATCH_KIND_MAX, 0, NULL);
	for (size_t k = 0; k < rule->n_peers; k++) {
		if (rule->peers[k].is_block)
			continue;
		r = peer_set_pair(d, np, dir, i, k, &s4, &s6);
		if (r == 0)
			r = variant_push(vs, mk, AF_INET, s4->name);
		if (r == 0 && s6)
			r = variant_push(vs, mk, AF_INET6, s6->name);
		if (r < 0)
			return r;
	}
	for (int f = 0; f < 2; f++) {
		struct ranges rs = {};

		r = block_ranges(rule, fams[f], &rs);
		if (r == 0 && rs.n > 0) {
			r = static_set(d, f ? "blk6" : "blk4", rs.v, rs.n * sizeof(*rs.v),
				       f ? POLICY_SET_RANGE6 : POLICY_SET_RANGE4, &s);
			if (r > 0)
				r = fill_block_set(s, &rs, fams[f]);
			if (r >= 0)
				r = variant_push(vs, mk, fams[f], s->name);
		}
		free(rs.v);
		if (r < 0)
			return r;
	}
	return 0;
}

static int port_variants(struct policy_desired *d, struct policy_netpol *np, enum policy_dir dir,
			 size_t i, struct variants *vs)
{
	const struct policy_rule *rule = &np->rules[dir][i];
	struct policy_nft_set *s4, *s6;
	bool numeric = false, named = false;
	char name[300];
	int r;

	if (rule->n_ports == 0)
		return variant_push(vs, _POLICY_MATCH_KIND_MAX, 0, NULL);
	for (size_t k = 0; k < rule->n_ports; k++) {
		named |= rule->ports[k].name != NULL;
		numeric |= rule->ports[k].name == NULL;
	}
	if (numeric) {
		r = port_set(d, rule->ports, rule->n_ports, name, sizeof(name));
		if (r == 0)
			r = variant_push(vs, POLICY_MATCH_PORTS, 0, name);
		if (r < 0)
			return r;
	}
	if (named) {
		r = named_set_pair(d, np, dir, i, &s4, &s6);
		if (r == 0)
			r = add_gen(d, np, dir, i, true, 0, s4, s6);
		if (r == 0)
			r = variant_push(vs, POLICY_MATCH_NAMED, AF_INET, s4->name);
		if (r == 0 && s6)
			r = variant_push(vs, POLICY_MATCH_NAMED, AF_INET6, s6->name);
		if (r < 0)
			return r;
	}
	return 0;
}

static int push_match(struct policy_nft_rule *r, const struct variant *v)
{
	if (v->kind == _POLICY_MATCH_KIND_MAX)
		return 0;
	return policy_nft_rule_match(r, v->kind, v->family, 0, v->set);
}

/* Appends @r sealed with @label unless an equal rule is already there. */
static int chain_push(struct policy_nft_chain *c, struct policy_nft_rule *r, const char *label)
{
	int k = policy_nft_rule_seal(r, label);

	if (k < 0) {
		policy_nft_rule_free(r);
		return k;
	}
	for (size_t i = 0; i < c->n_rules; i++)
		if (strcmp(c->rules[i]->comment, r->comment) == 0) {
			policy_nft_rule_free(r);
			return 0;
		}
	return policy_nft_chain_append(c, r);
}

static int compile_rule(struct policy_desired *d, struct policy_netpol *np, enum policy_dir dir,
			size_t i, struct policy_nft_chain *c)
{
	_cleanup_(variants_done) struct variants peers = {}, ports = {};
	char label[600];
	int r;

	snprintf(label, sizeof(label), "%s %s[%zu]", np->key, policy_dir_to_string(dir), i);
	r = peer_variants(d, np, dir, i, &peers);
	if (r == 0)
		r = port_variants(d, np, dir, i, &ports);
	for (size_t a = 0; r == 0 && a < peers.n; a++)
		for (size_t b = 0; r == 0 && b < ports.n; b++) {
			const struct variant *pv = &peers.v[a], *qv = &ports.v[b];
			struct policy_nft_rule *nr;

			if (pv->family && qv->family && pv->family != qv->family)
				continue;
			nr = policy_nft_rule_new();
			if (!nr)
				return -ENOMEM;
			nr->counter = true;
			nr->verdict = POLICY_VERDICT_ACCEPT;
			r = push_match(nr, pv);
			if (r == 0)
				r = push_match(nr, qv);
			if (r < 0) {
				policy_nft_rule_free(nr);
				return r;
			}
			r = chain_push(c, nr, label);
		}
	return r;
}

static int compile_crule(struct policy_desired *d, struct policy_netpol *np, enum policy_dir dir,
			 size_t i, struct policy_nft_chain *c);

static int compile_netpol(struct policy_desired *d, struct policy_netpol *np)
{
	struct policy_nft_chain *c;
	char name[300];
	int r;

	for (int dir = 0; dir < _POLICY_DIR_MAX; dir++) {
		if (!np->types[dir])
			continue;
		policy_chain_name(d, np, dir, name, sizeof(name));
		r = chain_add(d, name, &c);
		for (size_t i = 0; r == 0 && i < np->n_rules[dir]; i++)
			r = np->kind == POLICY_KIND_K8S ? compile_rule(d, np, dir, i, c)
							: compile_crule(d, np, dir, i, c);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- Calico rules ---- */

/* One dimension of a Calico rule: its variants are ORed, dimensions ANDed
 * (one nft rule per compatible combination). */
#define CRULE_DIMS 12

static int cidr_ranges(const struct in_prefix *v, size_t n, int family, struct ranges *rs)
{
	u128 a, b;
	int r;

	for (size_t i = 0; i < n; i++) {
		if (v[i].family != family)
			continue;
		cidr_range(&v[i], &a, &b);
		r = ranges_add(rs, a, b);
		if (r < 0)
			return r;
	}
	ranges_normalize(rs);
	return 0;
}

/* The interval set holding @rs (shared by content); its name into @v. */
static int range_variant(struct policy_desired *d, struct ranges *rs, int family,
			 enum policy_match_kind mk, struct variants *vs)
{
	struct policy_nft_set *s;
	bool six = family == AF_INET6;
	int r;

	r = static_set(d, six ? "blk6" : "blk4", rs->v, rs->n * sizeof(*rs->v),
		       six ? POLICY_SET_RANGE6 : POLICY_SET_RANGE4, &s);
	if (r > 0)
		r = fill_block_set(s, rs, family);
	return r < 0 ? r : variant_push(vs, mk, family, s->name);
}

/* nets (notNets with a negated @mk) as address matches of @mk, one per
 * family they have. A family none of them has gets no variant, so the rule
 * is not rendered for it, as Calico renders a rule only for the IP
 * versions of its CIDRs (notNets [10.0.0.0/8] matches no IPv6 packet,
 * rather than every one). */
static int nets_variants(struct policy_desired *d, const struct in_prefix *v, size_t n,
			 enum policy_match_kind mk, struct variants *vs)
{
	static const int fams[2] = { AF_INET, AF_INET6 };
	int r = 0;

	for (int f = 0; r == 0 && f < 2; f++) {
		struct ranges rs = {};

		r = cidr_ranges(v, n, fams[f], &rs);
		if (r == 0 && rs.n > 0)
			r = range_variant(d, &rs, fams[f], mk, vs);
		free(rs.v);
	}
	return r;
}

static int add_entity_gen(struct policy_desired *d, struct policy_netpol *np, enum policy_dir dir,
			  const struct policy_entity *e, struct policy_nft_set *s4,
			  struct policy_nft_set *s6)
{
	struct gen *g;

	g = gen_push(d);
	if (!g)
		return -ENOMEM;
	*g = (struct gen){ .np = policy_netpol_ref(np), .dir = dir, .ent = e, .set = { s4, s6 } };
	return 0;
}

/* Endpoints and network sets an entity selects: the pod address set pair
 * (shared by every entity selecting the same in the same scope, filled by
 * a generator) and the network sets' nets as interval sets. */
static int entity_variants(struct policy_desired *d, struct policy_netpol *np,
			   enum policy_dir dir, const struct policy_entity *e,
			   enum policy_match_kind mk, struct variants *vs)
{
	static const int fams[2] = { AF_INET, AF_INET6 };
	_cleanup_free_ char *key = NULL;
	struct policy_nft_set *s4, *s6 = NULL;
	void *x;
	int r, created;

	if (asprintf(&key, "calico %s\n%s", np->kind == POLICY_KIND_GLOBAL ? "*" : np->ns,
		     e->key) < 0)
		return -ENOMEM;
	created = static_set(d, "sel4", key, strlen(key), POLICY_SET_ADDR4, &s4);
	if (created < 0)
		return created;
	if (d->v6 && static_set(d, "sel6", key, strlen(key), POLICY_SET_ADDR6, &s6) < 0)
		return -ENOMEM;
	if (created == 1 && (r = add_entity_gen(d, np, dir, e, s4, s6)) < 0)
		return r;
	r = variant_push(vs, mk, AF_INET, s4->name);
	if (r == 0 && s6)
		r = variant_push(vs, mk, AF_INET6, s6->name);
	for (int f = 0; r == 0 && f < 2; f++) {
		struct ranges rs = {};

		for (size_t i = 0; r == 0 && policy_hmap_next(&d->m->netsets, &i, &x);) {
			const struct policy_netset *ns = x;

			if (policy_entity_matches_netset(d->m, np, e, ns))
				r = cidr_ranges(ns->nets, ns->n_nets, fams[f], &rs);
		}
		/* IPv6 nets whether or not a pod has IPv6: a host endpoint may */
		if (r == 0 && rs.n > 0)
			r = range_variant(d, &rs, fams[f], mk, vs);
		free(rs.v);
	}
	return r;
}

static int ports_variant(struct policy_desired *d, const struct policy_port *ports, size_t n,
			 enum policy_match_kind mk, struct variants *vs)
{
	char name[300];
	int r = port_set(d, ports, n, name, sizeof(name));

	return r < 0 ? r : variant_push(vs, mk, 0, name);
}

/* The dimensions of one side (source or destination). */
static int side_dims(struct policy_desired *d, struct policy_netpol *np, enum policy_dir dir,
		     const struct policy_entity *e, bool src, struct variants *dims, size_t *n)
{
	int r = 0;

	if (e->by_labels)
		r = entity_variants(d, np, dir, e, src ? POLICY_MATCH_SADDR : POLICY_MATCH_DADDR,
				    &dims[(*n)++]);
	if (r == 0 && e->n_nets)
		r = nets_variants(d, e->nets, e->n_nets, src ? POLICY_MATCH_SADDR : POLICY_MATCH_DADDR,
				  &dims[(*n)++]);
	if (r == 0 && e->n_not_nets)
		r = nets_variants(d, e->not_nets, e->n_not_nets,
				  src ? POLICY_MATCH_SADDR_NOT : POLICY_MATCH_DADDR_NOT, &dims[(*n)++]);
	if (r == 0 && e->n_ports)
		r = ports_variant(d, e->ports, e->n_ports,
				  src ? POLICY_MATCH_SPORTS : POLICY_MATCH_PORTS, &dims[(*n)++]);
	if (r == 0 && e->n_not_ports)
		r = ports_variant(d, e->not_ports, e->n_not_ports,
				  src ? POLICY_MATCH_SPORTS_NOT : POLICY_MATCH_PORTS_NOT,
				  &dims[(*n)++]);
	return r;
}

static int value_variant(struct variants *vs, enum policy_match_kind k, uint32_t value)
{
	int r = variant_push(vs, k, 0, NULL);

	if (r == 0)
		vs->v[vs->n - 1].value = value;
	return r;
}

/* Protocol, ICMP and IP version: one match each. */
static int proto_dims(const struct policy_crule *cr, struct variants *dims, size_t *n)
{
	int r = 0;

	if (cr->family)
		r = variant_push(&dims[(*n)++], POLICY_MATCH_NFPROTO, cr->family, NULL);
	if (r == 0 && cr->proto >= 0)
		r = value_variant(&dims[(*n)++], POLICY_MATCH_L4PROTO, (uint32_t)cr->proto);
	if (r == 0 && cr->not_proto >= 0)
		r = value_variant(&dims[(*n)++], POLICY_MATCH_L4PROTO_NOT, (uint32_t)cr->not_proto);
	if (r == 0 && cr->icmp_type >= 0)
		r = value_variant(&dims[(*n)++], POLICY_MATCH_TH_BYTE, (uint32_t)cr->icmp_type);
	if (r == 0 && cr->icmp_code >= 0)
		r = value_variant(&dims[(*n)++], POLICY_MATCH_TH_BYTE, 1u << 8 | cr->icmp_code);
	/* notICMP: not (type and code) */
	if (r == 0 && cr->not_icmp_type >= 0 && cr->not_icmp_code < 0)
		r = value_variant(&dims[(*n)++], POLICY_MATCH_TH_BYTE_NOT,
				  (uint32_t)cr->not_icmp_type);
	if (r == 0 && cr->not_icmp_code >= 0) {
		struct variants *vs = &dims[(*n)++];

		r = value_variant(vs, POLICY_MATCH_TH_BYTE_NOT, (uint32_t)cr->not_icmp_type);
		if (r == 0)
			r = value_variant(vs, POLICY_MATCH_TH_BYTE_NOT, 1u << 8 | cr->not_icmp_code);
	}
	return r;
}

struct crule_emit {
	struct policy_desired *d;
	const struct policy_crule *cr;
	enum policy_host_mode mode; /* of the policy */
	struct policy_nft_chain *c;
	const char *label;
	const struct variant *pick[CRULE_DIMS];
};

static int crule_push(struct crule_emit *x, size_t n)
{
	struct policy_nft_rule *nr = policy_nft_rule_new();
	int r = 0;

	if (!nr)
		return -ENOMEM;
	nr->counter = true;
	switch (x->cr->action) {
	case POLICY_ACTION_ALLOW:
		/* preDNAT, doNotTrack: accepted here and by the later host
		 * endpoint chains (doNotTrack: untracked too) */
		nr->verdict = x->mode == POLICY_HOST_MODE_NORMAL ? POLICY_VERDICT_ACCEPT
								 : POLICY_VERDICT_MARK_ACCEPT;
		nr->mark = HOST_ACCEPT_MARK;
		nr->notrack = x->mode == POLICY_HOST_MODE_UNTRACKED;
		break;
	case POLICY_ACTION_DENY:
		nr->verdict = POLICY_VERDICT_DROP;
		break;
	case POLICY_ACTION_PASS:
		nr->verdict = POLICY_VERDICT_MARK_RETURN;
		nr->mark = PASS_MARK;
		break;
	default:
		r = rule_log(x->d, nr, x->d->nflog_group, x->label);
		break;
	}
	for (size_t i = 0; r == 0 && i < n; i++) {
		const struct variant *v = x->pick[i];

		if (v->kind != _POLICY_MATCH_KIND_MAX)
			r = policy_nft_rule_match(nr, v->kind, v->family, v->value,
						  v->set[0] ? v->set : NULL);
	}
	if (r < 0) {
		policy_nft_rule_free(nr);
		return r;
	}
	return chain_push(x->c, nr, x->label);
}

/* Every combination of one variant per dimension whose families agree. */
static int crule_product(struct crule_emit *x, const struct variants *dims, size_t n,
			 size_t k, int family)
{
	int r;

	if (k == n)
		return crule_push(x, n);
	for (size_t i = 0; i < dims[k].n; i++) {
		const struct variant *v = &dims[k].v[i];

		if (family && v->family && v->family != family)
			continue;
		x->pick[k] = v;
		r = crule_product(x, dims, n, k + 1, family ? family : v->family);
		if (r < 0)
			return r;
	}
	return 0;
}

static int compile_crule(struct policy_desired *d, struct policy_netpol *np, enum policy_dir dir,
			 size_t i, struct policy_nft_chain *c)
{
	const struct policy_crule *cr = &np->crules[dir][i];
	struct variants dims[CRULE_DIMS] = {};
	struct crule_emit x = { .d = d, .cr = cr, .mode = np->host_mode, .c = c };
	char label[600];
	size_t n = 0;
	int r;

	if (cr->action == POLICY_ACTION_LOG && d->nflog_group < 0)
		return 0; /* nowhere to log to: a Log rule changes nothing */
	snprintf(label, sizeof(label), "%s %s[%zu] %s", np->key, policy_dir_to_string(dir), i,
		 policy_action_to_string(cr->action));
	x.label = label;
	r = proto_dims(cr, dims, &n);
	if (r == 0)
		r = side_dims(d, np, dir, &cr->src, true, dims, &n);
	if (r == 0)
		r = side_dims(d, np, dir, &cr->dst, false, dims, &n);
	if (r == 0)
		r = crule_product(&x, dims, n, 0, 0);
	for (size_t k = 0; k < CRULE_DIMS; k++)
		variants_done(&dims[k]);
	return r;
}

/* ---- base chains ---- */

static int base_rule(struct policy_nft_chain *c, const char *label, enum policy_match_kind k1,
		     uint32_t v1, const char *a1, enum policy_match_kind k2, uint32_t v2,
		     enum policy_verdict verdict)
{
	struct policy_nft_rule *r = policy_nft_rule_new();
	int e;

	if (!r)
		return -ENOMEM;
	r->counter = verdict != POLICY_VERDICT_NONE;
	r->verdict = verdict;
	e = policy_nft_rule_match(r, k1, 0, v1, a1);
	if (e == 0 && k2 != _POLICY_MATCH_KIND_MAX)
		e = policy_nft_rule_match(r, k2, 0, v2, NULL);
	if (e < 0) {
		policy_nft_rule_free(r);
		return e;
	}
	return chain_push(c, r, label);
}

/* A base chain of our table at @hook/@prio, policy accept, with the
 * conntrack rule every one of them starts with (established and related
 * traffic first), unless @bare. */
static int base_chain_add(struct policy_desired *d, const char *name, uint32_t hook, int32_t prio,
			  bool bare, struct policy_nft_chain **ret)
{
	struct policy_nft_chain *c;
	int r;

	r = policy_nft_chain_add(d->nft, name, &c);
	if (r < 0)
		return r;
	c->base = true;
	c->hooknum = hook;
	c->prio = prio;
	c->policy = NF_ACCEPT;
	*ret = c;
	if (bare)
		return 0;
	return base_rule(c, "conntrack established", POLICY_MATCH_CT_STATE,
			 POLICY_CT_ESTABLISHED | POLICY_CT_RELATED, NULL, _POLICY_MATCH_KIND_MAX, 0,
			 POLICY_VERDICT_ACCEPT);
}

static int base_chain(struct policy_desired *d, enum policy_dir dir)
{
	bool in = dir == POLICY_DIR_INGRESS;
	struct policy_nft_chain *c;
	struct policy_nft_set *s;
	int r;

	r = policy_nft_set_add(d->nft, in ? MAP_TO_WL : MAP_FROM_WL, POLICY_SET_IFVMAP, &s);
	if (r == 0)
		r = base_chain_add(d, in ? CHAIN_INGRESS : CHAIN_EGRESS, NF_INET_FORWARD, in ? 1 : 0,
				   false, &c);
	if (r < 0)
		return r;
	d->vmap[dir] = s;
	r = base_rule(c, "conntrack invalid", in ? POLICY_MATCH_OIF_PREFIX : POLICY_MATCH_IIF_PREFIX,
		      0, "cali", POLICY_MATCH_CT_STATE, POLICY_CT_INVALID, POLICY_VERDICT_DROP);
	if (r == 0)
		r = base_rule(c, in ? "dispatch ingress" : "dispatch egress",
			      in ? POLICY_MATCH_OIF_VMAP : POLICY_MATCH_IIF_VMAP, 0, s->name,
			      _POLICY_MATCH_KIND_MAX, 0, POLICY_VERDICT_NONE);
	/* Fail closed, as Calico's dispatch chains do: a workload interface
	 * with no endpoint programmed (not seen yet, rejected, unknown) is
	 * dropped; every endpoint we know has a vmap element. */
	if (r == 0)
		r = base_rule(c, in ? "unknown workload ingress" : "unknown workload egress",
			      in ? POLICY_MATCH_OIF_PREFIX : POLICY_MATCH_IIF_PREFIX, 0, "cali",
			      _POLICY_MATCH_KIND_MAX, 0, POLICY_VERDICT_DROP);
	return r;
}

/* Calico's ICMPv6 types a workload may always send its host, before its
 * egress policy, and that pass a host endpoint before its policy (Calico's
 * BPF dataplane): MLD query, report, done; router solicitation; neighbour
 * solicitation, advertisement (without them IPv6 on the link stops
 * working). @what ends the rules' labels. */
static const uint8_t icmp6_nd[] = { 130, 131, 132, 133, 135, 136 };

static int icmp6_nd_rules(struct policy_nft_chain *c, const char *what)
{
	char label[96];
	int r = 0;

	for (size_t i = 0; r == 0 && i < sizeof(icmp6_nd); i++) {
		struct policy_nft_rule *nr = policy_nft_rule_new();

		if (!nr)
			return -ENOMEM;
		nr->counter = true;
		nr->verdict = POLICY_VERDICT_ACCEPT;
		r = policy_nft_rule_match(nr, POLICY_MATCH_NFPROTO, AF_INET6, 0, NULL);
		if (r == 0)
			r = policy_nft_rule_match(nr, POLICY_MATCH_L4PROTO, 0, IPPROTO_ICMPV6, NULL);
		if (r == 0)
			r = policy_nft_rule_match(nr, POLICY_MATCH_TH_BYTE, 0, icmp6_nd[i], NULL);
		if (r < 0) {
			policy_nft_rule_free(nr);
			return r;
		}
		snprintf(label, sizeof(label), "icmpv6 type %u %s", icmp6_nd[i], what);
		r = chain_push(c, nr, label);
	}
	return r;
}

/* Under Drop: the input base chain after CHAIN_INPUT, dropping a
 * workload's packets to the host that its egress policy let through. */
static int input_drop_chain(struct policy_desired *d)
{
	struct policy_nft_chain *c;
	int r;

	r = base_chain_add(d, CHAIN_INPUT_DROP, NF_INET_LOCAL_IN, 1, true, &c);
	if (r < 0)
		return r;
	return base_rule(c, "DefaultEndpointToHostAction Drop", POLICY_MATCH_IIF_PREFIX, 0, "cali",
			 POLICY_MATCH_MARK, HOST_DROP_MARK, POLICY_VERDICT_DROP);
}

/* The jump from CHAIN_INPUT to CHAIN_WL_TO_HOST. */
static int wl_to_host_jump(struct policy_nft_chain *c)
{
	struct policy_nft_rule *j = policy_nft_rule_new();
	int r;

	if (!j || !(j->target = strdup(CHAIN_WL_TO_HOST))) {
		policy_nft_rule_free(j);
		return -ENOMEM;
	}
	j->verdict = POLICY_VERDICT_JUMP;
	r = policy_nft_rule_match(j, POLICY_MATCH_IIF_PREFIX, 0, 0, "cali");
	if (r < 0) {
		policy_nft_rule_free(j);
		return r;
	}
	return chain_push(c, j, "workload to host");
}

/* Workload -> its own host (see compile.h): the input base chain, the chain
 * it sends workload traffic to and, under Drop, CHAIN_INPUT_DROP. */
static int input_chains(struct policy_desired *d)
{
	bool drop = d->host_action == POLICY_HOST_DROP;
	struct policy_nft_chain *c, *w;
	int r;

	r = policy_nft_chain_add(d->nft, CHAIN_WL_TO_HOST, &w);
	if (r == 0)
		r = base_chain_add(d, CHAIN_INPUT, NF_INET_LOCAL_IN, 0, false, &c);
	if (r == 0)
		r = base_rule(c, "conntrack invalid", POLICY_MATCH_IIF_PREFIX, 0, "cali",
			      POLICY_MATCH_CT_STATE, POLICY_CT_INVALID, POLICY_VERDICT_DROP);
	if (r == 0)
		r = wl_to_host_jump(c);
	if (r == 0 && d->v6)
		r = icmp6_nd_rules(w, "to host");
	/* Drop, as Calico: the egress policy first (its Log rules and counters
	 * see the packet), then the drop in CHAIN_INPUT_DROP. */
	if (r == 0 && drop)
		r = verdict_rule(d, w, POLICY_VERDICT_MARK, -1, false,
				 "DefaultEndpointToHostAction Drop after egress policy");
	if (r == 0)
		r = base_rule(w, "dispatch to host", POLICY_MATCH_IIF_VMAP, 0, MAP_FROM_WL,
			      _POLICY_MATCH_KIND_MAX, 0, POLICY_VERDICT_NONE);
	/* the endpoint's profile always ends in a verdict: an interface without
	 * one is unknown */
	if (r == 0)
		r = verdict_rule(d, w, POLICY_VERDICT_DROP, -1, false, "unknown workload to host");
	if (r == 0 && drop)
		r = input_drop_chain(d);
	return r;
}

/* The profile of endpoints no policy isolates in a direction: accept. */
static int open_chain(struct policy_desired *d)
{
	struct policy_nft_chain *c;
	struct policy_nft_rule *r;
	int e;

	e = policy_nft_chain_add(d->nft, CHAIN_OPEN, &c);
	if (e < 0)
		return e;
	r = policy_nft_rule_new();
	if (!r)
		return -ENOMEM;
	r->verdict = POLICY_VERDICT_ACCEPT;
	return chain_push(c, r, "not isolated");
}

/* ---- profiles: the per-endpoint chains, shared by equal policy lists ---- */

static int cmp_netpol(const void *a, const void *b)
{
	return strcmp((*(struct policy_netpol *const *)a)->key,
		      (*(struct policy_netpol *const *)b)->key);
}

/* Claims every policy's base name, in key order (see policy_base_claim()). */
static int claim_policy_names(struct policy_desired *d, const struct policy_model *m)
{
	_cleanup_free_ struct policy_netpol **v = calloc(m->netpols.n_items + 1, sizeof(*v));
	size_t n = 0;
	void *x;
	int r = 0;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; policy_hmap_next(&m->netpols, &i, &x);)
		v[n++] = x;
	qsort(v, n, sizeof(*v), cmp_netpol);
	for (size_t i = 0; r == 0 && i < n; i++)
		r = policy_base_claim(d, v[i]);
	return r;
}

static int index_policies(struct policy_desired *d, const struct policy_model *m)
{
	void *v;
	int r;

	for (size_t i = 0; policy_hmap_next(&m->netpols, &i, &v);) {
		struct policy_netpol *np = v;
		bool global = np->kind == POLICY_KIND_GLOBAL || np->kind == POLICY_KIND_CLUSTER;
		struct ns_policies *nsp = global ? &d->globals
						  : policy_hmap_get_str(&d->ns_pols, np->ns);

		if (!nsp) {
			nsp = calloc(1, sizeof(*nsp));
			if (!nsp || !(nsp->ns = strdup(np->ns))) {
				free(nsp);
				return -ENOMEM;
			}
			r = policy_hmap_put_str(&d->ns_pols, nsp->ns, nsp);
			if (r < 0) {
				free(nsp->ns);
				free(nsp);
				return r;
			}
		}
		if (ARRAY_GROW(nsp->v, nsp->cap, nsp->n + 1) < 0)
			return -ENOMEM;
		nsp->v[nsp->n++] = policy_netpol_ref(np);
	}
	for (size_t i = 0; policy_hmap_next(&d->ns_pols, &i, &v);) {
		struct ns_policies *nsp = v;

		qsort(nsp->v, nsp->n, sizeof(*nsp->v), cmp_netpol);
	}
	if (d->globals.n)
		qsort(d->globals.v, d->globals.n, sizeof(*d->globals.v), cmp_netpol);
	return claim_policy_names(d, m);
}

/* A list of policies applying to an endpoint is built in a struct array
 * (of struct policy_applied) and handed on sorted in evaluation order. */
static struct policy_applied *applied_push(struct array *a, const struct policy_desired *d,
					   const struct policy_netpol *np)
{
	struct policy_applied *x = array_push(a);

	if (x)
		*x = policy_applied_of(d->m, np);
	return x;
}

/* @a's items, sorted, and count go to *@ret and *@ret_n when @r is 0, else
 * they are freed. Return: @r. */
static int applied_done(struct array *a, int r, struct policy_applied **ret, size_t *ret_n)
{
	if (r < 0) {
		free(a->items);
		return r;
	}
	if (a->n > 1)
		qsort(a->items, a->n, a->size, policy_applied_cmp);
	*ret = a->items;
	*ret_n = a->n;
	return 0;
}

static int applied_add(const struct policy_desired *d, const struct ns_policies *nsp,
		       const struct policy_pod *pod, enum policy_dir dir, struct array *a)
{
	for (size_t i = 0; nsp && i < nsp->n; i++) {
		const struct policy_netpol *np = nsp->v[i];

		if (!np->types[dir] || !policy_selects_pod(d->m, np, pod))
			continue;
		if (!applied_push(a, d, np))
			return -ENOMEM;
	}
	return 0;
}

/* The policies applying to @pod in @dir, in evaluation order. */
static int pod_policies(const struct policy_desired *d, const struct policy_pod *pod,
			enum policy_dir dir, struct policy_applied **ret, size_t *ret_n)
{
	struct array a = ARRAY_INIT(struct policy_applied);
	int r;

	r = applied_add(d, policy_hmap_get_str(&d->ns_pols, pod->ns), pod, dir, &a);
	if (r == 0)
		r = applied_add(d, &d->globals, pod, dir, &a);
	return applied_done(&a, r, ret, ret_n);
}

/* Only Kubernetes policies in a default tier that denies: the profile of
 * plain NetworkPolicy (no tier markers, as before tiers existed). */
static bool applied_is_plain(const struct policy_applied *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].np->kind != POLICY_KIND_K8S || v[i].tier_pass)
			return false;
	return true;
}

/* What a profile chain of @pod in @dir holds: "<key>|<key>|...|<nflog
 * group>" of the policies applying to it (keys have no '|'), each tier
 * introduced by "@<tier>:<Deny|Pass>|" unless they are all Kubernetes
 * policies in a denying default tier; in *ret (malloc'd), or NULL when no
 * policy applies. */
static int profile_content(const struct policy_desired *d, const struct policy_pod *pod,
			   enum policy_dir dir, char **ret)
{
	_cleanup_free_ struct policy_applied *v = NULL;
	_cleanup_free_ char *buf = NULL;
	size_t n = 0, len = 0, cap = 0;
	bool plain;
	int r;

	*ret = NULL;
	r = pod_policies(d, pod, dir, &v, &n);
	if (r < 0 || n == 0)
		return r;
	plain = applied_is_plain(v, n);
	for (size_t i = 0; i < n; i++) {
		const struct policy_netpol *np = v[i].np;
		bool new_tier = !plain && (i == 0 || strcmp(v[i - 1].np->tier, np->tier) != 0);
		size_t need = strlen(np->key) + (new_tier ? strlen(np->tier) + 8 : 0) + 1 + 12;

		r = ARRAY_GROW(buf, cap, len + need);
		if (r < 0)
			return r;
		if (new_tier)
			len += (size_t)sprintf(buf + len, "@%s:%s|", np->tier,
					       v[i].tier_pass ? "Pass" : "Deny");
		len += (size_t)sprintf(buf + len, "%s|", np->key);
	}
	snprintf(buf + len, 12, "%d", denied_log_group(d));
	*ret = TAKE_PTR(buf);
	return 0;
}

/* The profile chain of @pod in @dir: CHAIN_OPEN when no policy isolates
 * it, else "ep_<in|eg>_<hash of content>" claimed in d->names (when
 * @claim) or looked up there; *ret_content is what names it, to release
 * the name with the chain. */
static int profile_name(struct policy_desired *d, const struct policy_pod *pod,
			enum policy_dir dir, bool claim, const char **ret_name,
			char **ret_content)
{
	_cleanup_free_ char *content = NULL;
	char candidate[64];
	int r;

	r = profile_content(d, pod, dir, &content);
	if (r < 0)
		return r;
	if (!content) {
		*ret_name = CHAIN_OPEN;
		*ret_content = NULL;
		return 0;
	}
	if (claim) {
		snprintf(candidate, sizeof(candidate), "%s_%012llx", profile_kind[dir],
			 (unsigned long long)(policy_hash(content, strlen(content)) &
					      0xffffffffffffULL));
		r = policy_names_claim(&d->names, profile_kind[dir], content, strlen(content), candidate,
				       ret_name);
		if (r < 0)
			return r;
	} else {
		*ret_name = policy_names_lookup(&d->names, profile_kind[dir], content, strlen(content));
		if (!*ret_name)
			return -ESTALE; /* never had a profile: recompile */
	}
	*ret_content = TAKE_PTR(content);
	return 0;
}

static int jump_rule(struct policy_nft_chain *c, const char *target, const char *label)
{
	struct policy_nft_rule *r = policy_nft_rule_new();

	if (!r || !(r->target = strdup(target))) {
		policy_nft_rule_free(r);
		return -ENOMEM;
	}
	r->verdict = POLICY_VERDICT_JUMP;
	return chain_push(c, r, label);
}

static int verdict_rule(const struct policy_desired *d, struct policy_nft_chain *c,
			enum policy_verdict verdict, int log_group, bool pass_check, const char *label)
{
	struct policy_nft_rule *r = policy_nft_rule_new();
	int e;

	if (!r)
		return -ENOMEM;
	r->counter = verdict != POLICY_VERDICT_UNMARK_RETURN && verdict != POLICY_VERDICT_MARK;
	e = rule_log(d, r, log_group, label);
	r->verdict = verdict;
	r->mark = verdict == POLICY_VERDICT_MARK ? HOST_DROP_MARK : PASS_MARK;
	if (e == 0 && pass_check)
		e = policy_nft_rule_match(r, POLICY_MATCH_MARK, 0, PASS_MARK, NULL);
	if (e < 0) {
		policy_nft_rule_free(r);
		return e;
	}
	return chain_push(c, r, label);
}

/* The @k-th tier chain of profile @c (tiers with a policy that passes
 * have one, numbered from 0): "et_<dir>_..._t<k>". */
static void tier_chain_name(const char *profile, size_t k, char *buf, size_t size)
{
	name_fmt(buf, size, "et%s_t%zu", profile + 2, k);
}

/* One tier's part of a profile: a jump per policy, then the tier's
 * default action (Deny: drop; Pass: go on). A tier where some policy
 * passes gets a chain of its own, left after a Pass (see PASS_MARK). */
static int profile_tier(struct policy_desired *d, struct policy_nft_chain *c,
			const struct policy_applied *v, size_t n, size_t *k, bool plain,
			const struct policy_pod *pod, enum policy_dir dir, struct tracker *t)
{
	struct policy_nft_chain *tc = c;
	char target[300], label[600];
	bool pass = false;
	int r = 0;

	for (size_t i = 0; i < n; i++)
		pass |= v[i].np->has_pass;
	if (pass) {
		tier_chain_name(c->name, (*k)++, target, sizeof(target));
		r = touch_chain(t, d, target);
		if (r == 0)
			r = policy_nft_chain_add(d->nft, target, &tc);
		snprintf(label, sizeof(label), "tier %s %s", v[0].np->tier,
			 policy_dir_to_string(dir));
		if (r == 0)
			r = jump_rule(c, target, label);
	}
	for (size_t i = 0; r == 0 && i < n; i++) {
		policy_chain_name(d, v[i].np, dir, target, sizeof(target));
		snprintf(label, sizeof(label), "%s %s", v[i].np->key, policy_dir_to_string(dir));
		r = jump_rule(tc, target, label);
		if (r == 0 && pass && v[i].np->has_pass) {
			snprintf(label, sizeof(label), "%s %s passed", v[i].np->key,
				 policy_dir_to_string(dir));
			r = verdict_rule(d, tc, POLICY_VERDICT_UNMARK_RETURN, -1, true, label);
		}
	}
	if (r < 0 || v[0].tier_pass)
		return r;
	if (plain)
		snprintf(label, sizeof(label), "%s drop %s", pod->ns, policy_dir_to_string(dir));
	else
		snprintf(label, sizeof(label), "tier %s drop %s", v[0].np->tier,
			 policy_dir_to_string(dir));
	return verdict_rule(d, tc, POLICY_VERDICT_DROP, denied_log_group(d), false, label);
}

/* Whether a policy of the last tier passes (then the end is reachable). */
static bool last_tier_passes(const struct policy_applied *v, size_t n)
{
	for (size_t i = n; i-- > 0 && strcmp(v[i].np->tier, v[n - 1].np->tier) == 0;)
		if (v[i].np->has_pass)
			return true;
	return false;
}

static int profile_build(struct policy_desired *d, const struct policy_pod *pod,
			 enum policy_dir dir, struct policy_nft_chain *c, struct tracker *t)
{
	_cleanup_free_ struct policy_applied *v = NULL;
	size_t n = 0, k = 0;
	char label[64];
	int r;

	r = pod_policies(d, pod, dir, &v, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;

		while (j < n && strcmp(v[j].np->tier, v[i].np->tier) == 0)
			j++;
		r = profile_tier(d, c, v + i, j - i, &k, applied_is_plain(v, n), pod, dir, t);
		if (r < 0)
			return r;
		i = j;
	}
	if (n == 0 || (!v[n - 1].tier_pass && !last_tier_passes(v, n)))
		return 0;
	/* passed by the last tier: the namespace's profile, which allows */
	snprintf(label, sizeof(label), "end of tiers %s", policy_dir_to_string(dir));
	return verdict_rule(d, c, POLICY_VERDICT_ACCEPT, -1, false, label);
}

/* Records whether chain or set @name existed before the update (once). */
static int touch_name(struct policy_hmap *map, bool was, const char *name)
{
	struct touched_name *tn;
	int r;

	if (policy_hmap_get_str(map, name))
		return 0;
	tn = malloc(sizeof(*tn) + strlen(name) + 1);
	if (!tn)
		return -ENOMEM;
	strcpy(tn->name, name);
	tn->was = was;
	r = policy_hmap_put_str(map, tn->name, tn);
	if (r < 0)
		free(tn);
	return r;
}

static int touch_chain(struct tracker *t, const struct policy_desired *d, const char *name)
{
	return t ? touch_name(&t->chains, policy_nft_chain_get(d->nft, name) != NULL, name) : 0;
}

static int touch_set(struct tracker *t, const struct policy_desired *d, const char *name)
{
	return t ? touch_name(&t->sets, policy_nft_set_get(d->nft, name) != NULL, name) : 0;
}

/* @np gets chains in @d (its entry in @ret, may be NULL). */
static int relevant_add(struct policy_desired *d, const struct policy_netpol *np,
			struct relevant **ret)
{
	struct relevant *rel = calloc(1, sizeof(*rel));
	int r;

	if (!rel)
		return -ENOMEM;
	rel->np = np;
	r = policy_hmap_put_str(&d->compiled, np->key, rel);
	if (r < 0) {
		free(rel);
		return r;
	}
	if (ret)
		*ret = rel;
	return 0;
}

static int netpol_push(const struct policy_netpol ***v, size_t *n, size_t *cap,
		       const struct policy_netpol *np)
{
	if (ARRAY_GROW(*v, *cap, *n + 1) < 0)
		return -ENOMEM;
	(*v)[(*n)++] = np;
	return 0;
}

/* Only policies selecting some local pod (not host-network) get chains and
 * sets, so a node's table grows with its own pods' policies, not with the
 * cluster's. @delta +1/-1: @pod (local) comes or goes. During an update (@t
 * set), a policy that gains its first local pod or loses its last is queued
 * on @t: apply_relevance() compiles or drops it once the pod passes are done,
 * so an incremental update never differs from a full compile. */
static int relevance_change(struct policy_desired *d, const struct policy_pod *pod, int delta,
			    struct tracker *t)
{
	const struct ns_policies *lists[2] = { policy_hmap_get_str(&d->ns_pols, pod->ns),
						&d->globals };
	int r;

	if (!d->local_only && t)
		return 0;
	for (size_t k = 0, l = 0; l < 2; k++) {
		const struct policy_netpol *np;
		struct relevant *rel;

		if (!lists[l] || k >= lists[l]->n) {
			l++;
			k = (size_t)-1;
			continue;
		}
		np = lists[l]->v[k];
		if (!policy_selects_pod(d->m, np, pod))
			continue;
		rel = policy_hmap_get_str(&d->compiled, np->key);
		if (!rel && delta < 0)
			return -ESTALE; /* a pod it selected was not counted: recompile */
		if (!rel) {
			r = relevant_add(d, np, &rel);
			if (r == 0 && t)
				r = netpol_push(&t->gained, &t->n_gained, &t->cap_gained, np);
			if (r < 0)
				return r;
		}
		if (delta > 0)
			rel->local++;
		else if (--rel->local == 0 && t &&
			 (r = netpol_push(&t->lost, &t->n_lost, &t->cap_lost, np)) < 0)
			return r;
	}
	return 0;
}

static int mark_relevant(struct policy_desired *d, const struct policy_model *m)
{
	struct policy_pod *pod;
	void *x;
	int r;

	d->local_only = m->node != NULL;
	if (!d->local_only) { /* every pod is "local": every policy is compiled */
		for (size_t i = 0; policy_hmap_next(&m->netpols, &i, &x);)
			if ((r = relevant_add(d, x, NULL)) < 0)
				return r;
		return 0;
	}
	for (size_t i = 0; policy_model_next_pod(m, &i, &pod);) {
		if (pod->host_network || !policy_model_is_local(m, pod))
			continue;
		r = relevance_change(d, pod, +1, NULL);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Drops the tier chains of profile @name. */
static int tier_chains_del(struct policy_desired *d, const char *name, struct tracker *t)
{
	char tc[300];
	int r;

	for (size_t k = 0;; k++) {
		tier_chain_name(name, k, tc, sizeof(tc));
		if (!policy_nft_chain_get(d->nft, tc))
			return 0;
		r = touch_chain(t, d, tc);
		if (r < 0)
			return r;
		policy_nft_chain_del(d->nft, tc);
	}
}

/* The key of an interface verdict map's element: @ifname padded to 16
 * bytes, then the chain to jump to. Return: its length. */
static size_t ifvmap_key(uint8_t key[static 16 + 64], const char *ifname, const char *chain)
{
	size_t n = strlen(chain);

	memset(key, 0, 16 + 64);
	memcpy(key, ifname, strnlen(ifname, 16));
	memcpy(key + 16, chain, n);
	return 16 + n;
}

/* One pod's dispatch in one direction: its profile chain's reference and its
 * vmap element. Every local pod has one (CHAIN_OPEN when not isolated): the
 * base chains drop what comes from or goes to a workload interface without. */
static int profile_change(struct policy_desired *d, const struct policy_pod *pod,
			  enum policy_dir dir, int delta, struct tracker *t)
{
	_cleanup_free_ char *content = NULL;
	struct policy_nft_chain *c = NULL;
	uint8_t key[16 + 64];
	const char *name;
	int r;

	r = profile_name(d, pod, dir, delta > 0, &name, &content);
	if (r < 0)
		return r;
	r = elem_change(t, d->vmap[dir], key, ifvmap_key(key, pod->ifname, name), delta);
	if (r < 0 || !content)
		return r;
	r = touch_chain(t, d, name);
	if (r < 0)
		return r;
	c = policy_nft_chain_get(d->nft, name);
	if (!c && delta > 0) {
		r = policy_nft_chain_add(d->nft, name, &c);
		if (r == 0)
			r = profile_build(d, pod, dir, c, t);
		if (r < 0)
			return r;
	}
	if (c && delta > 0) {
		c->refs++;
	} else if (c && --c->refs == 0) {
		r = tier_chains_del(d, name, t);
		if (r < 0)
			return r;
		policy_nft_chain_del(d->nft, name);
		policy_names_release(&d->names, profile_kind[dir], content, strlen(content));
	}
	return 0;
}

static int pod_change(struct policy_desired *d, const struct policy_model *m,
		      const struct policy_pod *pod, int delta, struct tracker *t)
{
	int r;

	if (pod->host_network)
		return 0;
	for (size_t i = 0; i < d->n_gens; i++) {
		r = gen_contrib(&d->gens[i], m, pod, delta, t);
		if (r < 0)
			return r;
	}
	if (!policy_model_is_local(m, pod))
		return 0;
	r = relevance_change(d, pod, delta, t);
	if (r < 0 || policy_model_ifname_is_shared(m, pod))
		return r;
	for (int dir = 0; dir < _POLICY_DIR_MAX; dir++) {
		r = profile_change(d, pod, dir, delta, t);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- policies becoming (ir)relevant during an update ---- */

static bool set_in_use(const struct policy_desired *d, const char *name)
{
	void *v;

	for (size_t i = 0; policy_hmap_next(&d->nft->chains, &i, &v);) {
		const struct policy_nft_chain *c = v;

		for (size_t k = 0; k < c->n_rules; k++)
			for (size_t j = 0; j < c->rules[k]->n_match; j++)
				if (c->rules[k]->match[j].arg &&
				    strcmp(c->rules[k]->match[j].arg, name) == 0)
					return true;
	}
	return false;
}

static bool set_dropped(const struct tracker *t, const struct policy_nft_set *s)
{
	for (size_t i = 0; i < t->n_dropped; i++)
		if (t->dropped[i] == s)
			return true;
	return false;
}

/* @s goes with the update; it is freed after the plan is built. */
static int drop_set(struct policy_desired *d, struct tracker *t, struct policy_nft_set *s)
{
	int r;

	if (set_dropped(t, s))
		return 0;
	r = touch_set(t, d, s->name);
	if (r < 0)
		return r;
	if (ARRAY_GROW(t->dropped, t->cap_dropped, t->n_dropped + 1) < 0)
		return -ENOMEM;
	t->dropped[t->n_dropped++] = s;
	return 0;
}

/* Shared sets (named by content or by peer key) that @c's rules use,
 * appended to @v (of *@n items, room for *@cap) once each. */
static int shared_sets_of(const struct policy_desired *d, const struct policy_nft_chain *c,
			  struct policy_nft_set ***v, size_t *n, size_t *cap)
{
	for (size_t i = 0; i < c->n_rules; i++)
		for (size_t j = 0; j < c->rules[i]->n_match; j++) {
			const struct policy_match *m = &c->rules[i]->match[j];
			struct policy_nft_set *s = m->arg ? policy_nft_set_get(d->nft, m->arg) : NULL;
			bool seen = false;

			if (!s || s->kind == POLICY_SET_NAMED4 || s->kind == POLICY_SET_NAMED6 ||
			    s->kind == POLICY_SET_IFVMAP)
				continue;
			for (size_t k = 0; k < *n && !seen; k++)
				seen = (*v)[k] == s;
			if (seen)
				continue;
			if (ARRAY_GROW(*v, *cap, *n + 1) < 0)
				return -ENOMEM;
			(*v)[(*n)++] = s;
		}
	return 0;
}

/* Drops generator @k (its np reference). */
static void gen_remove(struct policy_desired *d, size_t k)
{
	policy_netpol_unref(d->gens[k].np);
	memmove(&d->gens[k], &d->gens[k + 1], (d->n_gens - k - 1) * sizeof(d->gens[0]));
	d->n_gens--;
}

/* Removes what compile_netpol() made for @np: its chains, its named-port
 * generators and their sets, and the shared sets (with their generators)
 * no other rule uses any more. A shared set's generator may outlive the
 * policy that created it: it keeps that policy's peer (a reference). */
static int drop_netpol(struct policy_desired *d, const struct policy_netpol *np,
		       struct tracker *t)
{
	_cleanup_free_ struct policy_nft_set **shared = NULL;
	size_t n_shared = 0, cap_shared = 0, k = 0;
	char name[300];
	int r;

	for (int dir = 0; dir < _POLICY_DIR_MAX; dir++) {
		struct policy_nft_chain *c;

		policy_chain_name(d, np, dir, name, sizeof(name));
		c = policy_nft_chain_get(d->nft, name);
		if (!c)
			continue;
		r = shared_sets_of(d, c, &shared, &n_shared, &cap_shared);
		if (r == 0)
			r = touch_chain(t, d, name);
		if (r < 0)
			return r;
		/* the shared sets stay valid: sets are freed after planning */
		policy_nft_chain_del(d->nft, name);
	}
	for (size_t i = 0; i < d->n_gens; i++) {
		struct gen *g = &d->gens[i];

		if (g->np != np || !g->named) {
			d->gens[k++] = *g;
			continue;
		}
		for (int f = 0; f < 2; f++)
			if (g->set[f] && (r = drop_set(d, t, g->set[f])) < 0)
				return r;
		policy_netpol_unref(g->np);
	}
	d->n_gens = k;
	for (size_t i = 0; i < n_shared; i++) {
		if (set_in_use(d, shared[i]->name))
			continue;
		r = drop_set(d, t, shared[i]);
		if (r < 0)
			return r;
		for (size_t j = 0; j < d->n_gens; j++)
			if (!d->gens[j].named && (d->gens[j].set[0] == shared[i] ||
						  d->gens[j].set[1] == shared[i])) {
				for (int f = 0; f < 2; f++)
					if (d->gens[j].set[f] &&
					    (r = drop_set(d, t, d->gens[j].set[f])) < 0)
						return r;
				gen_remove(d, j);
				break;
			}
	}
	free(policy_hmap_remove_str(&d->compiled, np->key));
	return 0;
}

/* After the pod passes: compile the policies that became relevant (their
 * generators filled from the model, which already holds the new pod) and
 * drop those that stopped being relevant. */
static int apply_relevance(struct policy_desired *d, const struct policy_model *m,
			   struct tracker *t)
{
	size_t first = d->n_gens;
	int r = 0;

	d->tracking = t;
	for (size_t i = 0; r == 0 && i < t->n_gained; i++)
		r = compile_netpol(d, (struct policy_netpol *)t->gained[i]);
	d->tracking = NULL;
	for (size_t i = first; r == 0 && i < d->n_gens; i++)
		r = gen_fill(&d->gens[i], m);
	for (size_t i = 0; r == 0 && i < t->n_lost; i++) {
		const struct relevant *rel = policy_hmap_get_str(&d->compiled, t->lost[i]->key);

		if (rel && rel->local == 0)
			r = drop_netpol(d, t->lost[i], t);
	}
	return r;
}

/* ---- host endpoints (layout in compile.h) ---- */

/* The chains of a host endpoint: normal input/output, applyOnForward
 * forward ingress/egress, preDNAT ingress, doNotTrack ingress/egress. */
enum hep_chain_kind { HEP_IN, HEP_EG, HEP_FI, HEP_FE, HEP_PD, HEP_NI, HEP_NE, _HEP_CHAIN_MAX };

static const char *const hep_kind_short[_HEP_CHAIN_MAX] = { "in", "eg", "fi", "fe",
							    "pd", "ni", "ne" };
static const char *const hep_map[_HEP_CHAIN_MAX] = {
	"cc_from_hep", "cc_to_hep", "cc_from_hep_fwd", "cc_to_hep_fwd",
	"cc_from_hep_pd", "cc_from_hep_nt", "cc_to_hep_nt",
};
static const enum policy_host_mode hep_mode[_HEP_CHAIN_MAX] = {
	[HEP_PD] = POLICY_HOST_MODE_PRE_DNAT,
	[HEP_NI] = POLICY_HOST_MODE_UNTRACKED,
	[HEP_NE] = POLICY_HOST_MODE_UNTRACKED,
};

static enum policy_dir hep_dir(enum hep_chain_kind kind)
{
	return kind == HEP_EG || kind == HEP_FE || kind == HEP_NE ? POLICY_DIR_EGRESS
								  : POLICY_DIR_INGRESS;
}

/* Chains of this kind exist only while some policy needs one. */
static bool hep_kind_optional(enum hep_chain_kind kind)
{
	return hep_mode[kind] != POLICY_HOST_MODE_NORMAL;
}

static int cmp_slot(const void *a, const void *b)
{
	const struct hep_slot *x = a, *y = b;
	int c = strcmp(x->ifname, y->ifname);

	return c ? c : strcmp(x->h->name, y->h->name);
}

static bool hep_has_ip(const struct policy_hep *h, const struct in_prefix *a)
{
	for (size_t i = 0; i < h->n_ips; i++)
		if (prefix_equal(&h->ips[i], a))
			return true;
	return false;
}

/* Appends (@h, @ifn) to @slots (of struct hep_slot). */
static int slot_push(struct array *slots, const struct policy_hep *h, const char *ifn)
{
	struct hep_slot *x = array_push(slots);

	if (!x)
		return -ENOMEM;
	x->h = h;
	snprintf(x->ifname, sizeof(x->ifname), "%s", ifn);
	return 0;
}

/* The interfaces @h governs on this node, appended to @slots: its
 * interfaceName, else those (not workloads') holding one of its
 * expectedIPs. */
static int hep_slots(const struct policy_model *m, const struct policy_hep *h,
		     struct array *slots)
{
	int r = 0;

	if (*h->ifname)
		return slot_push(slots, h, h->ifname);
	for (size_t i = 0; r == 0 && i < m->n_host_addrs; i++) {
		const struct policy_host_addr *a = &m->host_addrs[i];
		const struct hep_slot *last = slots->n ? (struct hep_slot *)slots->items + slots->n - 1
						       : NULL;

		if (!ifname_is_ours(a->ifname) && hep_has_ip(h, &a->addr) &&
		    (!last || last->h != h || strcmp(last->ifname, a->ifname) != 0))
			r = slot_push(slots, h, a->ifname);
	}
	return r;
}

/* This node's host endpoints and the interfaces they govern: per interface
 * the first by name of those naming it or holding one of their
 * expectedIPs, and the first "*" one (Felix picks the same). */
static int active_heps(struct policy_desired *d, const struct policy_model *m)
{
	struct array slots = ARRAY_INIT(struct hep_slot);
	struct hep_slot *v;
	size_t n, k = 0;
	void *x;
	int r = 0;

	for (size_t i = 0; r == 0 && policy_hmap_next(&m->heps, &i, &x);) {
		const struct policy_hep *h = x;

		if (m->node && strcmp(h->node, m->node) != 0)
			continue;
		if (strcmp(h->ifname, "*") == 0)
			d->hep_star = !d->hep_star || strcmp(h->name, d->hep_star->name) < 0
					      ? h : d->hep_star;
		else
			r = hep_slots(m, h, &slots);
	}
	if (r < 0) {
		free(slots.items);
		return r;
	}
	v = slots.items;
	n = slots.n;
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_slot);
	for (size_t i = 0; i < n; i++)
		if (k == 0 || strcmp(v[k - 1].ifname, v[i].ifname) != 0)
			v[k++] = v[i];
	d->heps = v;
	d->n_heps = k;
	return 0;
}

static const struct policy_hep *hep_at(const struct policy_desired *d, size_t i)
{
	return i < d->n_heps ? d->heps[i].h : i == d->n_heps ? d->hep_star : NULL;
}

/* Policies selecting a host endpoint are compiled whatever the pods do: each
 * holds one count for it, so losing its last local pod never drops it. */
static int hep_relevance(struct policy_desired *d)
{
	const struct policy_hep *h;
	int r;

	for (size_t i = 0; i <= d->n_heps; i++) {
		if (!(h = hep_at(d, i)))
			continue;
		for (size_t k = 0; k < d->globals.n; k++) {
			const struct policy_netpol *np = d->globals.v[k];
			struct relevant *rel = policy_hmap_get_str(&d->compiled, np->key);

			if (!policy_selects_hep(np, h))
				continue;
			if (!rel && (r = relevant_add(d, np, &rel)) < 0)
				return r;
			rel->local++;
		}
	}
	return 0;
}

/* The GlobalNetworkPolicies applying to @h in its chain of @kind (forward:
 * applyOnForward ones only; each chain the policies of its mode), in
 * evaluation order. preDNAT and doNotTrack tiers never end in a default
 * drop (as in Calico: normal policy may still decide), so they pass. */
static int hep_policies(const struct policy_desired *d, const struct policy_hep *h,
			enum hep_chain_kind kind, struct policy_applied **ret, size_t *ret_n)
{
	bool fwd = kind == HEP_FI || kind == HEP_FE;
	enum policy_dir dir = hep_dir(kind);
	struct array a = ARRAY_INIT(struct policy_applied);
	int r = 0;

	for (size_t i = 0; r == 0 && i < d->globals.n; i++) {
		const struct policy_netpol *np = d->globals.v[i];
		struct policy_applied *x;

		if (!np->types[dir] || np->host_mode != hep_mode[kind] ||
		    (fwd && !np->apply_on_forward) || !policy_selects_hep(np, h))
			continue;
		x = applied_push(&a, d, np);
		if (x)
			x->tier_pass |= hep_mode[kind] != POLICY_HOST_MODE_NORMAL;
		else
			r = -ENOMEM;
	}
	return applied_done(&a, r, ret, ret_n);
}

static int hep_chain_add(struct policy_desired *d, const struct policy_hep *h,
			 enum hep_chain_kind kind, struct policy_nft_chain **ret)
{
	char key[600], candidate[64];
	const char *name;
	int r;

	snprintf(key, sizeof(key), "%s/%s", hep_kind_short[kind], h->name);
	if (strlen(h->name) <= HEP_NAME_MAX)
		snprintf(candidate, sizeof(candidate), "hep_%s_%s", hep_kind_short[kind], h->name);
	else
		snprintf(candidate, sizeof(candidate), "hep_%s_h%016llx", hep_kind_short[kind],
			 (unsigned long long)policy_hash(h->name, strlen(h->name)));
	r = policy_names_claim(&d->names, "hep", key, strlen(key), candidate, &name);
	if (r < 0)
		return r;
	*ret = policy_nft_chain_get(d->nft, name);
	return *ret ? 0 : policy_nft_chain_add(d->nft, name, ret);
}

/* After the tiers (none decided): forwarded traffic is allowed; the host's
 * own traffic goes to the profiles. */
static int hep_tail(struct policy_desired *d, struct policy_nft_chain *c,
		    const struct policy_hep *h, enum hep_chain_kind kind)
{
	enum policy_dir dir = hep_dir(kind);
	char label[600];

	if (kind == HEP_FI || kind == HEP_FE) {
		snprintf(label, sizeof(label), "hep %s forward %s: end of tiers", h->name,
			 policy_dir_to_string(dir));
		return verdict_rule(d, c, POLICY_VERDICT_ACCEPT, -1, false, label);
	}
	if (h->default_allow) {
		snprintf(label, sizeof(label), "hep %s %s: profile " POLICY_PROFILE_DEFAULT_ALLOW,
			 h->name, policy_dir_to_string(dir));
		return verdict_rule(d, c, POLICY_VERDICT_ACCEPT, -1, false, label);
	}
	snprintf(label, sizeof(label), "hep %s %s: no profile allowed", h->name,
		 policy_dir_to_string(dir));
	return verdict_rule(d, c, POLICY_VERDICT_DROP, denied_log_group(d), false, label);
}

static int failsafe_chain(struct policy_desired *d, const char *name);

/* The failsafe chain a chain of @kind starts with (none for forwarded
 * traffic, as in Calico). */
static const char *hep_failsafe(enum hep_chain_kind kind)
{
	static const char *const fs[_HEP_CHAIN_MAX] = {
		[HEP_PD] = CHAIN_FAILSAFE_IN,
		[HEP_NI] = CHAIN_FAILSAFE_RAW_IN,
		[HEP_NE] = CHAIN_FAILSAFE_RAW_OUT,
	};

	return fs[kind];
}

/* Host endpoint @h's chain of @kind, or none (*ret NULL: no policy of an
 * optional kind selects it, so that traffic is not policed there). */
static int hep_chain(struct policy_desired *d, const struct policy_hep *h,
		     enum hep_chain_kind kind, struct policy_nft_chain **ret)
{
	enum policy_dir dir = hep_dir(kind);
	bool fwd = kind == HEP_FI || kind == HEP_FE;
	_cleanup_free_ struct policy_applied *v = NULL;
	struct policy_nft_chain *c;
	char label[600];
	size_t n = 0, k = 0;
	int r;

	*ret = NULL;
	r = hep_policies(d, h, kind, &v, &n);
	/* a rejected endpoint: its normal chains deny (forwarded too); beside
	 * a "*" endpoint, an interface's own forward chain (accepting when no
	 * applyOnForward policy selects it) keeps the "*" one's away from its
	 * interface, as Calico's dispatch does */
	if (r < 0 || (hep_mode[kind] != POLICY_HOST_MODE_NORMAL
			      ? n == 0 || h->rejected
			      : fwd && n == 0 && !h->rejected && (!d->hep_star || h == d->hep_star)))
		return r;
	r = hep_chain_add(d, h, kind, &c);
	if (r < 0 || (*ret = c)->n_rules) /* built for another interface of @h */
		return r;
	if (h->rejected) {
		snprintf(label, sizeof(label), "hep %s %s%s: rejected: deny", h->name,
			 fwd ? "forward " : "", policy_dir_to_string(dir));
		return verdict_rule(d, c, POLICY_VERDICT_DROP, denied_log_group(d), false, label);
	}
	if (hep_failsafe(kind))
		r = failsafe_chain(d, hep_failsafe(kind));
	if (r == 0 && hep_failsafe(kind))
		r = jump_rule(c, hep_failsafe(kind), dir == POLICY_DIR_INGRESS ? "failsafe inbound"
									       : "failsafe outbound");
	for (size_t i = 0; r == 0 && i < n;) {
		size_t j = i + 1;

		while (j < n && strcmp(v[j].np->tier, v[i].np->tier) == 0)
			j++;
		r = profile_tier(d, c, v + i, j - i, &k, false, NULL, dir, NULL);
		i = j;
	}
	if (r < 0 || hep_mode[kind] != POLICY_HOST_MODE_NORMAL)
		return r; /* no decision: on to the next chains */
	if (n > 0 && !v[n - 1].tier_pass && !last_tier_passes(v, n))
		return 0;
	return hep_tail(d, c, h, kind);
}

/* A failsafe rule: @ports (as the destination port, or with @reply the
 * source port of the replies) with @net as the source (@src_net) or the
 * destination address, or any address when NULL. */
static int failsafe_rule(struct policy_desired *d, struct policy_nft_chain *c,
			 const struct policy_port *ports, size_t n, const struct in_prefix *net,
			 bool reply, bool src_net, const char *label)
{
	_cleanup_(variants_done) struct variants vs = {};
	struct policy_nft_rule *nr;
	struct ranges rs = {};
	char set[300];
	int r;

	r = port_set(d, ports, n, set, sizeof(set));
	if (r == 0 && net) {
		r = cidr_ranges(net, 1, net->family, &rs);
		if (r == 0)
			r = range_variant(d, &rs, net->family,
					  src_net ? POLICY_MATCH_SADDR : POLICY_MATCH_DADDR, &vs);
		free(rs.v);
	}
	if (r < 0)
		return r;
	nr = policy_nft_rule_new();
	if (!nr)
		return -ENOMEM;
	nr->counter = true;
	nr->verdict = POLICY_VERDICT_ACCEPT;
	r = vs.n ? push_match(nr, &vs.v[0]) : 0;
	if (r == 0)
		r = policy_nft_rule_match(nr, reply ? POLICY_MATCH_SPORTS : POLICY_MATCH_PORTS, 0, 0,
					  set);
	if (r < 0) {
		policy_nft_rule_free(nr);
		return r;
	}
	return chain_push(c, nr, label);
}

/* The rules of failsafe list @fs (@what names it): one for the ports of
 * any address, one per port with a net. */
static int failsafe_rules(struct policy_desired *d, struct policy_nft_chain *c,
			  const struct policy_failsafes *fs, bool reply, bool src_net,
			  const char *what)
{
	struct policy_port any[POLICY_FAILSAFE_MAX];
	char label[160], net[PREFIX_STRLEN];
	size_t n = 0;
	int r = 0;

	for (size_t i = 0; i < fs->n; i++)
		if (fs->v[i].net.family == AF_UNSPEC)
			any[n++] = (struct policy_port){ .proto = fs->v[i].proto,
							 .port = fs->v[i].port,
							 .end_port = fs->v[i].port };
	snprintf(label, sizeof(label), "failsafe %s", what);
	if (n)
		r = failsafe_rule(d, c, any, n, NULL, reply, src_net, label);
	for (size_t i = 0; r == 0 && i < fs->n; i++) {
		const struct policy_failsafe *f = &fs->v[i];
		struct policy_port p = { .proto = f->proto, .port = f->port, .end_port = f->port };

		if (f->net.family == AF_UNSPEC)
			continue;
		(void)prefix_format(&f->net, false, net, sizeof(net));
		snprintf(label, sizeof(label), "failsafe %s %u %s:%u", what, f->proto, net, f->port);
		r = failsafe_rule(d, c, &p, 1, &f->net, reply, src_net, label);
	}
	return r;
}

/* IPv6 neighbour discovery and MLD first (a host endpoint policy must not
 * cut the node off its link either), then FailsafeInboundHostPorts
 * (matched on the destination port and source net) in CHAIN_FAILSAFE_IN,
 * FailsafeOutboundHostPorts (destination port and net) in
 * CHAIN_FAILSAFE_OUT. Before conntrack (the RAW ones, for doNotTrack
 * chains) each also lets the other list's replies through, so a failsafe
 * connection is never half untracked (Calico's raw failsafes). */
static int failsafe_chain(struct policy_desired *d, const char *name)
{
	const struct policy_failsafes *in = &d->failsafe[POLICY_DIR_INGRESS],
				      *out = &d->failsafe[POLICY_DIR_EGRESS];
	bool raw_in = strcmp(name, CHAIN_FAILSAFE_RAW_IN) == 0;
	bool ingress = raw_in || strcmp(name, CHAIN_FAILSAFE_IN) == 0;
	struct policy_nft_chain *c;
	int r;

	if (policy_nft_chain_get(d->nft, name))
		return 0;
	r = policy_nft_chain_add(d->nft, name, &c);
	if (r == 0)
		r = icmp6_nd_rules(c, ingress ? "from host endpoint" : "to host endpoint");
	if (r == 0)
		r = failsafe_rules(d, c, ingress ? in : out, false, ingress,
				   ingress ? "inbound" : "outbound");
	if (r == 0 && (raw_in || strcmp(name, CHAIN_FAILSAFE_RAW_OUT) == 0))
		r = failsafe_rules(d, c, ingress ? out : in, true, ingress,
				   ingress ? "outbound reply" : "inbound reply");
	return r;
}

/* cc_output: the host's own traffic out of a host endpoint. */
static int output_chain(struct policy_desired *d)
{
	struct policy_nft_chain *c;
	int r;

	r = base_chain_add(d, CHAIN_OUTPUT, NF_INET_LOCAL_OUT, 0, false, &c);
	if (r == 0)
		r = base_rule(c, "host to workload", POLICY_MATCH_OIF_PREFIX, 0, "cali",
			      _POLICY_MATCH_KIND_MAX, 0, POLICY_VERDICT_ACCEPT);
	if (r == 0)
		r = jump_rule(c, CHAIN_FAILSAFE_OUT, "failsafe outbound");
	return r;
}

/* The rules an optional base chain starts with: workloads' traffic is not
 * host endpoint traffic; the accept mark is cleared by the first chain
 * that can set it and honoured by the later ones. */
static int hep_base_head(struct policy_desired *d, struct policy_nft_chain *c,
			 enum hep_chain_kind kind)
{
	bool in = hep_dir(kind) == POLICY_DIR_INGRESS;
	bool first = kind != HEP_PD || !policy_nft_chain_get(d->nft, CHAIN_RAW_PREROUTING);
	int r;

	r = base_rule(c, in ? "from workload" : "to workload",
		      in ? POLICY_MATCH_IIF_PREFIX : POLICY_MATCH_OIF_PREFIX, 0, "cali",
		      _POLICY_MATCH_KIND_MAX, 0, POLICY_VERDICT_ACCEPT);
	if (r < 0)
		return r;
	if (first) {
		struct policy_nft_rule *nr = policy_nft_rule_new();

		if (!nr)
			return -ENOMEM;
		nr->verdict = POLICY_VERDICT_UNMARK;
		nr->mark = HOST_ACCEPT_MARK;
		return chain_push(c, nr, "clear host endpoint accept mark");
	}
	return base_rule(c, "allowed by doNotTrack policy", POLICY_MATCH_MARK, HOST_ACCEPT_MARK,
			 NULL, _POLICY_MATCH_KIND_MAX, 0, POLICY_VERDICT_ACCEPT);
}

/* The base chain a @kind dispatch goes into; the optional ones are made on
 * first use. */
static int hep_base(struct policy_desired *d, enum hep_chain_kind kind,
		    struct policy_nft_chain **ret)
{
	static const char *const base[_HEP_CHAIN_MAX] = {
		CHAIN_INPUT, CHAIN_OUTPUT, CHAIN_EGRESS, CHAIN_INGRESS,
		CHAIN_PREROUTING, CHAIN_RAW_PREROUTING, CHAIN_RAW_OUTPUT,
	};
	int r;

	*ret = policy_nft_chain_get(d->nft, base[kind]);
	if (*ret)
		return 0;
	/* preDNAT: after conntrack, so established traffic first (as
	 * Calico's mangle); doNotTrack: every packet */
	r = base_chain_add(d, base[kind], kind == HEP_NE ? NF_INET_LOCAL_OUT : NF_INET_PRE_ROUTING,
			   kind == HEP_PD ? PRIO_PRE_DNAT : PRIO_RAW, kind != HEP_PD, ret);
	return r < 0 ? r : hep_base_head(d, *ret, kind);
}

/* Before the "*" endpoint's preDNAT jump in @b: every interface with a host
 * endpoint of its own is accepted there (its own chain decided nothing), as
 * Calico never sends such an interface to the "*" endpoint's chains. */
static int own_interfaces_rule(struct policy_desired *d, struct policy_nft_chain *b)
{
	struct policy_nft_chain *own;
	struct policy_nft_set *s;
	int r;

	r = policy_nft_chain_add(d->nft, CHAIN_HEP_OWN, &own);
	if (r == 0)
		r = verdict_rule(d, own, POLICY_VERDICT_ACCEPT, -1, false,
				 "own host endpoint: not the all-interfaces one's");
	if (r == 0)
		r = policy_nft_set_add(d->nft, MAP_FROM_HEP_OWN, POLICY_SET_IFVMAP, &s);
	for (size_t i = 0; r == 0 && i < d->n_heps; i++) {
		uint8_t key[16 + 64];

		r = policy_nft_elem_ref(s, key, ifvmap_key(key, d->heps[i].ifname, CHAIN_HEP_OWN),
					NULL);
	}
	if (r == 0)
		r = base_rule(b, "interface with its own host endpoint", POLICY_MATCH_IIF_VMAP, 0,
			      MAP_FROM_HEP_OWN, _POLICY_MATCH_KIND_MAX, 0, POLICY_VERDICT_NONE);
	return r;
}

/* One @kind: the map and its elements, the "*" endpoint's jump after it
 * (never for doNotTrack: Calico ignores untracked policy on a "*"
 * endpoint). An optional kind no endpoint has a chain of leaves no trace. */
static int hep_dispatch(struct policy_desired *d, enum hep_chain_kind kind)
{
	bool in = hep_dir(kind) == POLICY_DIR_INGRESS;
	struct policy_nft_chain *c, *b, *star = NULL;
	struct policy_nft_set *s = NULL;
	char label[300];
	int r = 0;

	if (!hep_kind_optional(kind))
		r = policy_nft_set_add(d->nft, hep_map[kind], POLICY_SET_IFVMAP, &s);
	for (size_t i = 0; r == 0 && i < d->n_heps; i++) {
		uint8_t key[16 + 64];

		r = hep_chain(d, d->heps[i].h, kind, &c);
		if (r < 0 || !c)
			continue;
		if (!s && (r = policy_nft_set_add(d->nft, hep_map[kind], POLICY_SET_IFVMAP, &s)) < 0)
			break;
		r = policy_nft_elem_ref(s, key, ifvmap_key(key, d->heps[i].ifname, c->name), NULL);
	}
	if (r == 0 && d->hep_star && hep_mode[kind] != POLICY_HOST_MODE_UNTRACKED)
		r = hep_chain(d, d->hep_star, kind, &star);
	if (r < 0 || (!s && !star))
		return r;
	r = hep_base(d, kind, &b);
	if (r == 0 && s)
		r = base_rule(b, in ? "dispatch from host endpoint" : "dispatch to host endpoint",
			      in ? POLICY_MATCH_IIF_VMAP : POLICY_MATCH_OIF_VMAP, 0, s->name,
			      _POLICY_MATCH_KIND_MAX, 0, POLICY_VERDICT_NONE);
	/* the normal kinds' own chains always decide */
	if (r == 0 && star && hep_kind_optional(kind) && d->n_heps)
		r = own_interfaces_rule(d, b);
	if (r == 0 && star) {
		snprintf(label, sizeof(label), "all-interfaces host endpoint %s", d->hep_star->name);
		r = jump_rule(b, star->name, label);
	}
	return r;
}

/* In @base (when it exists), accept what a preDNAT or doNotTrack policy
 * allowed, before the host endpoint chains there. */
static int accepted_rule(struct policy_desired *d, const char *base, bool any)
{
	struct policy_nft_chain *c = policy_nft_chain_get(d->nft, base);

	if (!c || !any)
		return 0;
	return base_rule(c, "allowed by preDNAT or doNotTrack policy", POLICY_MATCH_MARK,
			 HOST_ACCEPT_MARK, NULL, _POLICY_MATCH_KIND_MAX, 0, POLICY_VERDICT_ACCEPT);
}

/* Everything of host endpoints, only when this node has one. doNotTrack
 * (before conntrack) and preDNAT chains first, so the normal chains know
 * whether a packet may come marked. */
static int hep_all(struct policy_desired *d)
{
	static const enum hep_chain_kind order[] = { HEP_NI, HEP_NE, HEP_PD, HEP_IN,
						     HEP_EG, HEP_FI, HEP_FE };
	bool in_marked, out_marked;
	int r;

	if (d->n_heps == 0 && !d->hep_star)
		return 0;
	r = failsafe_chain(d, CHAIN_FAILSAFE_IN);
	if (r == 0)
		r = failsafe_chain(d, CHAIN_FAILSAFE_OUT);
	if (r == 0)
		r = output_chain(d);
	if (r == 0)
		r = jump_rule(policy_nft_chain_get(d->nft, CHAIN_INPUT), CHAIN_FAILSAFE_IN,
			      "failsafe inbound");
	for (size_t k = 0; r == 0 && k < 3; k++)
		r = hep_dispatch(d, order[k]);
	in_marked = policy_nft_chain_get(d->nft, CHAIN_RAW_PREROUTING) ||
		    policy_nft_chain_get(d->nft, CHAIN_PREROUTING);
	out_marked = policy_nft_chain_get(d->nft, CHAIN_RAW_OUTPUT) != NULL;
	if (r == 0)
		r = accepted_rule(d, CHAIN_INPUT, in_marked);
	if (r == 0)
		r = accepted_rule(d, CHAIN_OUTPUT, out_marked);
	/* forwarded: only the incoming endpoint's applyOnForward ingress is
	 * skipped; workload and outgoing endpoint policy still apply */
	if (r == 0)
		r = accepted_rule(d, CHAIN_EGRESS, in_marked);
	for (size_t k = 3; r == 0 && k < ELEMENTSOF(order); k++)
		r = hep_dispatch(d, order[k]);
	return r;
}

/* ---- entry points ---- */

static int compile_all(struct policy_desired *d, const struct policy_model *m)
{
	_cleanup_free_ struct policy_netpol **v = calloc(m->netpols.n_items + 1, sizeof(*v));
	struct policy_pod *pod;
	size_t n = 0;
	void *x;
	int r;

	if (!v)
		return -ENOMEM;
	r = open_chain(d);
	for (int dir = 0; r == 0 && dir < _POLICY_DIR_MAX; dir++)
		r = base_chain(d, dir);
	if (r == 0)
		r = input_chains(d);
	if (r < 0)
		return r;
	r = index_policies(d, m);
	if (r == 0)
		r = active_heps(d, m);
	if (r == 0)
		r = mark_relevant(d, m);
	if (r == 0 && d->local_only)
		r = hep_relevance(d);
	if (r < 0)
		return r;
	for (size_t i = 0; policy_hmap_next(&m->netpols, &i, &x);)
		if (policy_hmap_get_str(&d->compiled, ((struct policy_netpol *)x)->key))
			v[n++] = x;
	qsort(v, n, sizeof(*v), cmp_netpol);
	for (size_t i = 0; i < n; i++) {
		r = compile_netpol(d, v[i]);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < d->n_gens; i++) {
		r = gen_fill(&d->gens[i], m);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; policy_model_next_pod(m, &i, &pod);) {

		if (pod->host_network || !policy_model_is_local(m, pod) ||
		    policy_model_ifname_is_shared(m, pod))
			continue;
		for (int dir = 0; dir < _POLICY_DIR_MAX; dir++) {
			r = profile_change(d, pod, dir, +1, NULL);
			if (r < 0)
				return r;
		}
	}
	return hep_all(d);
}

int policy_compile(const struct policy_model *m, const struct policy_options *o,
		   struct policy_desired **ret)
{
	_cleanup_(policy_desired_freep) struct policy_desired *d = calloc(1, sizeof(*d));
	int r;

	if (!d)
		return -ENOMEM;
	d->nflog_group = o ? o->nflog_group : -1;
	d->nflog_denied = o && o->nflog_denied;
	d->host_action = o ? o->endpoint_to_host : POLICY_HOST_DROP;
	d->log_prefix = strdup(o && o->log_prefix ? o->log_prefix : POLICY_LOG_PREFIX_DEFAULT);
	if (!d->log_prefix)
		return -ENOMEM;
	if (!policy_log_prefix_is_valid(d->log_prefix) ||
	    !policy_host_action_to_string(d->host_action))
		return -EINVAL;
	if (o && o->failsafe_in)
		d->failsafe[POLICY_DIR_INGRESS] = *o->failsafe_in;
	if (o && o->failsafe_out)
		d->failsafe[POLICY_DIR_EGRESS] = *o->failsafe_out;
	d->v6 = m->n_pods_v6 > 0;
	d->m = m;
	d->netpol_generation = m->netpol_generation;
	r = policy_nft_new(o && o->table ? o->table : POLICY_TABLE_DEFAULT, &d->nft);
	if (r < 0)
		return r;
	r = compile_all(d, m);
	free(d->heps);
	d->heps = NULL;
	d->hep_star = NULL;
	if (r < 0)
		return r;
	d->m = NULL;
	*ret = TAKE_PTR(d);
	return 0;
}

static void tracker_done(struct tracker *t, struct policy_desired *d)
{
	struct policy_hmap *maps[] = { &t->elems, &t->chains, &t->sets };
	void *v;

	for (size_t i = 0; i < t->n_dropped; i++) {
		char name[300];

		snprintf(name, sizeof(name), "%s", t->dropped[i]->name);
		policy_nft_set_del(d->nft, name);
	}
	for (size_t k = 0; k < sizeof(maps) / sizeof(maps[0]); k++) {
		for (size_t i = 0; policy_hmap_next(maps[k], &i, &v);)
			free(v);
		policy_hmap_done(maps[k]);
	}
	free(t->gained);
	free(t->lost);
	free(t->dropped);
}

static int tracker_plan(struct tracker *t, const struct policy_desired *d, struct policy_plan *p)
{
	void *v;
	int r = 0;

	for (size_t i = 0; r == 0 && policy_hmap_next(&t->elems, &i, &v);) {
		const struct touched *tc = v;
		const uint8_t *data = tc->key + sizeof(tc->set);
		size_t len = tc->len - sizeof(tc->set);
		bool now = policy_nft_elem_has(tc->set, data, len);

		/* sets created or dropped whole are planned below */
		if (now != tc->was && !policy_hmap_get_str(&t->sets, tc->set->name))
			r = policy_plan_elem(p, now ? POLICY_OP_ELEM_ADD : POLICY_OP_ELEM_DEL,
					     tc->set->name, tc->set->kind, data, len);
	}
	for (size_t i = 0; r == 0 && policy_hmap_next(&t->sets, &i, &v);) {
		const struct touched_name *tn = v;
		const struct policy_nft_set *s = policy_nft_set_get(d->nft, tn->name);
		bool now = s && !set_dropped(t, s);

		if (now && !tn->was)
			r = policy_plan_add_set(p, s);
		else if (!now && tn->was)
			r = policy_plan_del_set(p, tn->name);
	}
	for (size_t i = 0; r == 0 && policy_hmap_next(&t->chains, &i, &v);) {
		const struct touched_name *tc = v;
		const struct policy_nft_chain *c = policy_nft_chain_get(d->nft, tc->name);

		if (c && !tc->was)
			r = policy_plan_add_chain(p, c);
		else if (!c && tc->was)
			r = policy_plan_del_chain(p, tc->name, false);
	}
	return r;
}

int policy_desired_update_pod(struct policy_desired *d, const struct policy_model *m,
			      const struct policy_pod *old, const struct policy_pod *new,
			      struct policy_plan **ret_plan)
{
	struct policy_plan *p = NULL;
	struct tracker t = {};
	int r;

	if (d->netpol_generation != m->netpol_generation || d->v6 != (m->n_pods_v6 > 0))
		return -ESTALE;
	d->m = m;
	r = policy_plan_new(d->nft->table, &p);
	/* New first, then old: a pod that keeps its profile never drops the
	 * chain's last reference in between. */
	if (r == 0 && new)
		r = pod_change(d, m, new, +1, &t);
	if (r == 0 && old)
		r = pod_change(d, m, old, -1, &t);
	if (r == 0)
		r = apply_relevance(d, m, &t);
	if (r == 0)
		r = tracker_plan(&t, d, p);
	tracker_done(&t, d);
	d->m = NULL;
	if (r < 0) {
		policy_plan_free(p);
		return r;
	}
	policy_plan_finish(p);
	*ret_plan = p;
	return 0;
}
