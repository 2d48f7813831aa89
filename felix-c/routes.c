/* Route diff (see routes.h): sort both sides by prefix, merge, and emit an
 * ADD for each missing or different route and a DEL for each extra one
 * (extra /32s to an interface only after their grace period). Adds come
 * before deletes in the plan; of duplicate desired prefixes the first wins.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/rtnetlink.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "cleanup.h"
#include "felix-c/routes.h"

static int route_cmp(const void *a, const void *b)
{
	const struct felix_route *x = a, *y = b;

	return prefix_cmp(&x->dst, &y->dst);
}

static bool route_equal(const struct felix_route *a, const struct felix_route *b)
{
	return a->type == b->type && (a->type != RTN_UNICAST || a->oif == b->oif);
}

/* A route with its position in the caller's array: sorting by (prefix,
 * position) keeps the first of duplicate prefixes first (qsort is not stable). */
struct ranked {
	struct felix_route r;
	size_t idx;
};

static int ranked_cmp(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;
	int c = route_cmp(&x->r, &y->r);

	if (c)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

struct op_vec {
	struct route_op *v;
	size_t n, cap;
};

static int push(struct op_vec *ops, enum route_op_kind k, const struct felix_route *r)
{
	int e = ARRAY_GROW(ops->v, ops->cap, ops->n + 1);

	if (e < 0)
		return e;
	ops->v[ops->n++] = (struct route_op){ .kind = k, .route = *r };
	return 0;
}

static const struct route_grace_entry *grace_find(const struct route_grace *g,
						  const struct felix_route *r)
{
	for (size_t i = 0; i < g->n; i++)
		if (prefix_equal(&g->v[i].dst, &r->dst))
			return &g->v[i];
	return NULL;
}

/* Decides about one unwanted observed route; records it in @next if kept. */
static int unwanted(const struct felix_route *o, const struct route_grace *old,
		    struct route_grace *next, uint64_t now_ms, unsigned grace_ms,
		    struct op_vec *dels)
{
	const struct route_grace_entry *e;
	uint64_t since = now_ms;

	if (o->type != RTN_UNICAST)
		return push(dels, ROUTE_OP_DEL, o);
	e = grace_find(old, o);
	if (e && e->since_ms <= now_ms)
		since = e->since_ms;
	if (now_ms - since >= grace_ms)
		return push(dels, ROUTE_OP_DEL, o);
	next->v[next->n++] = (struct route_grace_entry){ o->dst, since };
	return 0;
}

static int sorted_copy(const struct felix_route *v, size_t n, struct ranked **ret)
{
	struct ranked *c = malloc((n ? n : 1) * sizeof(*c));

	if (!c)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		c[i] = (struct ranked){ .r = v[i], .idx = i };
	qsort(c, n, sizeof(*c), ranked_cmp);
	*ret = c;
	return 0;
}

/* Index of the first entry after @i with another prefix. */
static size_t skip_same_prefix(const struct ranked *d, size_t n, size_t i)
{
	for (i++; i < n && route_cmp(&d[i].r, &d[i - 1].r) == 0; i++)
		;
	return i;
}

/* Merges the sorted sides: adds into @adds, deletes into @dels. */
static int merge(const struct ranked *d, size_t nd, const struct ranked *o, size_t no,
		 const struct route_grace *grace, struct route_grace *next, uint64_t now_ms,
		 unsigned grace_ms, struct op_vec *adds, struct op_vec *dels)
{
	size_t i = 0, j = 0;
	int r = 0;

	while (r == 0 && (i < nd || j < no)) {
		int c = i == nd ? 1 : j == no ? -1 : route_cmp(&d[i].r, &o[j].r);

		if (c > 0) {
			r = unwanted(&o[j++].r, grace, next, now_ms, grace_ms, dels);
			continue;
		}
		if (c < 0 || !route_equal(&d[i].r, &o[j].r)) /* missing or different */
			r = push(adds, ROUTE_OP_ADD, &d[i].r);
		if (c == 0)
			j++;
		i = skip_same_prefix(d, nd, i);
	}
	return r;
}

int routes_plan(const struct felix_route *desired, size_t n_desired,
		const struct felix_route *observed, size_t n_observed, struct route_grace *grace,
		uint64_t now_ms, unsigned grace_ms, struct route_op **ret_ops, size_t *ret_n)
{
	_cleanup_free_ struct ranked *d = NULL, *o = NULL;
	_cleanup_free_ struct route_grace_entry *next_v = NULL;
	struct op_vec adds = {}, dels = {};
	struct route_grace next = {};
	int r;

	if (sorted_copy(desired, n_desired, &d) < 0 || sorted_copy(observed, n_observed, &o) < 0)
		return -ENOMEM;
	next_v = next.v = malloc((n_observed ? n_observed : 1) * sizeof(*next.v));
	if (!next.v)
		return -ENOMEM;
	r = merge(d, n_desired, o, n_observed, grace, &next, now_ms, grace_ms, &adds, &dels);
	for (size_t k = 0; r == 0 && k < dels.n; k++) /* adds first, then deletes */
		r = push(&adds, ROUTE_OP_DEL, &dels.v[k].route);
	free(dels.v);
	if (r < 0) {
		free(adds.v);
		return r;
	}
	route_grace_done(grace);
	*grace = next;
	TAKE_PTR(next_v);
	*ret_ops = adds.v;
	*ret_n = adds.n;
	return 0;
}

void route_grace_done(struct route_grace *g)
{
	free(g->v);
	*g = (struct route_grace){};
}

const char *felix_route_to_string(const struct felix_route *r, char *buf, size_t size)
{
	char a[PREFIX_STRLEN];

	if (prefix_format(&r->dst, false, a, sizeof(a)) < 0)
		snprintf(a, sizeof(a), "?");
	if (r->type == RTN_BLACKHOLE)
		snprintf(buf, size, "%s blackhole", a);
	else
		snprintf(buf, size, "%s dev #%d", a, r->oif);
	return buf;
}
