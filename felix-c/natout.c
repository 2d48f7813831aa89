/* natOutgoing (see natout.h): desired table from the IPPools (pure), and
 * the nat table's reconcile: read back, plan and one batch through
 * policy/'s kernel layer. It keeps the table it applied last, so a
 * reconcile with an unchanged table costs one in-memory comparison and no
 * netlink round trip.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <linux/netfilter.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "felix-c/natout.h"
#include "felix-c/policymgr.h"
#include "ipam/ipam.h"
#include "policy/model.h"
#include "policy/nftstate.h"
#include "policy/plan.h"

#define NAT_PRIO_SRCNAT 100 /* NF_IP_PRI_NAT_SRC: nft's "srcnat" */


/* An address range of either family as a number, both ends included
 * (an IPv4 one uses the low 32 bits). */
struct range {
	ipam_u128 first, last;
};

/* The ranges of one family's two sets. */
struct family_ranges {
	struct range *masq, *all;
	size_t n_masq, n_all;
};

static const struct {
	int family;
	enum policy_set_kind kind;
	const char *masq, *all;
	unsigned bits;
} fams[2] = {
	{ AF_INET, POLICY_SET_RANGE4, NATOUT_SET_MASQ, NATOUT_SET_ALL, 32 },
	{ AF_INET6, POLICY_SET_RANGE6, NATOUT_SET_MASQ6, NATOUT_SET_ALL6, 128 },
};

/* The range of a pool's spec.cidr, read as IPAM reads it, and its index in
 * fams[]; -1 when it is absent or malformed. */
static int pool_range(const json_t *pool, struct range *ret)
{
	struct ipam_cidr c;
	unsigned bits;
	ipam_u128 host;

	if (ipam_pool_cidr_from_json(pool, &c) < 0 || (c.family != AF_INET && c.family != AF_INET6))
		return -1;
	bits = c.family == AF_INET ? 32 : 128;
	host = c.len == 0 ? (bits == 128 ? ~(ipam_u128)0 : 0xffffffffu) :
			    (((ipam_u128)1 << (bits - c.len)) - 1);
	ret->first = c.v;
	ret->last = c.v | host;
	return c.family == AF_INET ? 0 : 1;
}

static int cmp_range(const void *x, const void *y)
{
	const struct range *a = x, *b = y;

	if (a->first != b->first)
		return a->first < b->first ? -1 : 1;
	return a->last < b->last ? -1 : a->last > b->last;
}

/* @v in network order into @buf (4 or 16 bytes). */
static void put_be(ipam_u128 v, uint8_t *buf, size_t len)
{
	for (size_t i = len; i-- > 0; v >>= 8)
		buf[i] = (uint8_t)v;
}

static int put_range(struct policy_nft_set *s, const struct range *r, size_t al)
{
	uint8_t be[32];

	put_be(r->first, be, al);
	put_be(r->last, be + al, al);
	return policy_nft_elem_ref(s, be, 2 * al, NULL);
}

/* Set @name of @f's interval kind with @v merged into disjoint ranges: the
 * kernel refuses overlapping intervals, and pools may overlap. */
static int add_range_set(struct policy_nft *t, size_t f, const char *name, struct range *v,
			 size_t n)
{
	ipam_u128 top = fams[f].bits == 128 ? ~(ipam_u128)0 : 0xffffffffu;
	size_t al = fams[f].bits / 8;
	struct policy_nft_set *s;
	struct range cur;
	int r;

	r = policy_nft_set_add(t, name, fams[f].kind, &s);
	if (r < 0 || n == 0)
		return r;
	qsort(v, n, sizeof(*v), cmp_range);
	cur = v[0];
	for (size_t i = 1; i < n; i++) {
		if (cur.last == top || v[i].first <= cur.last + 1) {
			if (v[i].last > cur.last)
				cur.last = v[i].last;
			continue;
		}
		r = put_range(s, &cur, al);
		if (r < 0)
			return r;
		cur = v[i];
	}
	return put_range(s, &cur, al);
}

/* "ip[6] saddr @masq ip[6] daddr != @all counter masquerade" for @f. */
static int add_rule(struct policy_nft_chain *c, size_t f)
{
	struct policy_nft_rule *rule = policy_nft_rule_new();
	int r;

	if (!rule)
		return -ENOMEM;
	rule->counter = true;
	rule->verdict = POLICY_VERDICT_MASQUERADE;
	r = policy_nft_rule_match(rule, POLICY_MATCH_SADDR, fams[f].family, 0, fams[f].masq);
	if (r == 0)
		r = policy_nft_rule_match(rule, POLICY_MATCH_DADDR_NOT, fams[f].family, 0,
					  fams[f].all);
	if (r == 0)
		r = policy_nft_rule_seal(rule, "natOutgoing");
	if (r < 0) {
		policy_nft_rule_free(rule);
		return r;
	}
	return policy_nft_chain_append(c, rule);
}

static int add_chain(struct policy_nft *t)
{
	struct policy_nft_chain *c;
	int r;

	r = policy_nft_chain_add(t, NATOUT_CHAIN, &c);
	if (r < 0)
		return r;
	c->base = true;
	c->nat = true;
	c->hooknum = NF_INET_POST_ROUTING;
	c->prio = NAT_PRIO_SRCNAT;
	c->policy = NF_ACCEPT;
	r = add_rule(c, 0);
	return r < 0 ? r : add_rule(c, 1);
}

int natout_desired(const char *table, const json_t *pools, const json_t *invalid,
		   struct policy_nft **ret)
{
	_cleanup_(policy_nft_freep) struct policy_nft *t = NULL;
	size_t cap = json_object_size(pools) + 1;
	_cleanup_free_ struct range *buf = calloc(4 * cap, sizeof(*buf));
	struct family_ranges fr[2];
	const char *name;
	json_t *pool;
	int r;

	if (!buf)
		return -ENOMEM;
	for (size_t f = 0; f < 2; f++)
		fr[f] = (struct family_ranges){ .masq = buf + 2 * f * cap,
						.all = buf + (2 * f + 1) * cap };
	json_object_foreach((json_t *)pools, name, pool) {
		const json_t *spec = json_object_get(pool, "spec");
		struct range range;
		int f = pool_range(pool, &range);

		if (f < 0)
			continue;
		fr[f].all[fr[f].n_all++] = range;
		if (json_is_true(json_object_get(spec, "natOutgoing")) &&
		    !json_object_get(invalid, name))
			fr[f].masq[fr[f].n_masq++] = range;
	}
	r = policy_nft_new(table, &t);
	for (size_t f = 0; r == 0 && f < 2; f++) {
		r = add_range_set(t, f, fams[f].masq, fr[f].masq, fr[f].n_masq);
		if (r == 0)
			r = add_range_set(t, f, fams[f].all, fr[f].all, fr[f].n_all);
	}
	if (r == 0)
		r = add_chain(t);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(t);
	return 0;
}

/* One per agent. */
struct natout {
	char *table;
	struct policy_nft *applied; /* the desired table last committed; NULL: unknown */
	bool dirty;		    /* read the kernel back next time */
};

int natout_new(const char *table, struct natout **ret)
{
	struct natout *n = calloc(1, sizeof(*n));

	if (!n || !(n->table = strdup(table))) {
		free(n);
		return -ENOMEM;
	}
	n->dirty = true;
	*ret = n;
	return 0;
}

struct natout *natout_free(struct natout *n)
{
	if (!n)
		return NULL;
	policy_nft_free(n->applied);
	free(n->table);
	free(n);
	return NULL;
}

void natout_mark_dirty(struct natout *n)
{
	n->dirty = true;
}

/* @t as policy_nft_dump() text; Return: 0 or -ENOMEM. */
static int dump_text(const struct policy_nft *t, char **ret, size_t *ret_len)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int r;

	if (!f)
		return -ENOMEM;
	r = policy_nft_dump(t, f);
	if (fclose(f) != 0 && r == 0)
		r = -ENOMEM;
	if (r < 0)
		return r;
	*ret = TAKE_PTR(buf);
	*ret_len = len;
	return 0;
}

/* True when @want equals what was committed last. A plan cannot tell: it
 * matches rules to the handles only observed rules have; the dumps (chains,
 * rules by comment, set elements) can. */
static bool unchanged(const struct natout *n, const struct policy_nft *want)
{
	_cleanup_free_ char *a = NULL, *b = NULL;
	size_t la, lb;

	return n->applied && dump_text(n->applied, &a, &la) == 0 && dump_text(want, &b, &lb) == 0 &&
	       la == lb && memcmp(a, b, la) == 0;
}

int natout_reconcile(struct natout *n, const struct policymgr_kernel *kernel, void *k,
		     struct policy_nft *want, char **ret_error)
{
	_cleanup_(policy_nft_freep) struct policy_nft *w = want, *obs = NULL;
	_cleanup_(policy_plan_freep) struct policy_plan *p = NULL;
	int r;

	if (!n->dirty && unchanged(n, w))
		return 0;
	n->dirty = true; /* until the kernel is known to hold @want */
	r = kernel->read(k, n->table, &obs);
	if (r == 0)
		r = policy_plan(obs, w, &p, ret_error);
	if (r == 0 && !policy_plan_is_empty(p))
		r = kernel->apply(k, p, ret_error);
	if (r < 0)
		return r;
	policy_nft_free(n->applied);
	n->applied = TAKE_PTR(w);
	n->dirty = false;
	return p->n_ops > INT_MAX ? INT_MAX : (int)p->n_ops;
}
