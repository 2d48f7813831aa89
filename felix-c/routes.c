/* Route diff (see routes.h): sort both sides by prefix, merge, and emit an
 * ADD for each missing or different route and a DEL for each extra one
 * (extra /32s to an interface only after their grace period).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/rtnetlink.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "felix-c/routes.h"

static int route_cmp(const void *a, const void *b)
{
	const struct felix_route *x = a, *y = b;
	uint32_t hx = ntohl(x->dst), hy = ntohl(y->dst);

	if (hx != hy)
		return hx < hy ? -1 : 1;
	return (int)x->len - (int)y->len;
}

static bool route_equal(const struct felix_route *a, const struct felix_route *b)
{
	return a->type == b->type && (a->type != RTN_UNICAST || a->oif == b->oif);
}

static int push(struct route_op **ops, size_t *n, size_t *cap, enum route_op_kind k,
		const struct felix_route *r)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		struct route_op *v = realloc(*ops, nc * sizeof(*v));

		if (!v)
			return -ENOMEM;
		*ops = v;
		*cap = nc;
	}
	(*ops)[(*n)++] = (struct route_op){ .kind = k, .route = *r };
	return 0;
}

static const struct route_grace_entry *grace_find(const struct route_grace *g,
						  const struct felix_route *r)
{
	for (size_t i = 0; i < g->n; i++)
		if (g->v[i].dst == r->dst && g->v[i].len == r->len)
			return &g->v[i];
	return NULL;
}

/* Decides about one unwanted observed route; records it in @next if kept. */
static int unwanted(const struct felix_route *o, const struct route_grace *old,
		    struct route_grace *next, uint64_t now_ms, unsigned grace_ms,
		    struct route_op **ops, size_t *n, size_t *cap)
{
	const struct route_grace_entry *e;
	uint64_t since = now_ms;

	if (o->type != RTN_UNICAST)
		return push(ops, n, cap, ROUTE_OP_DEL, o);
	e = grace_find(old, o);
	if (e)
		since = e->since_ms;
	if (now_ms - since >= grace_ms)
		return push(ops, n, cap, ROUTE_OP_DEL, o);
	next->v[next->n++] = (struct route_grace_entry){ o->dst, o->len, since };
	return 0;
}

static int sorted_copy(const struct felix_route *v, size_t n, struct felix_route **ret)
{
	struct felix_route *c = malloc((n ? n : 1) * sizeof(*c));

	if (!c)
		return -ENOMEM;
	if (n)
		memcpy(c, v, n * sizeof(*c));
	qsort(c, n, sizeof(*c), route_cmp);
	*ret = c;
	return 0;
}

int routes_plan(const struct felix_route *desired, size_t n_desired,
		const struct felix_route *observed, size_t n_observed, struct route_grace *grace,
		uint64_t now_ms, unsigned grace_ms, struct route_op **ret_ops, size_t *ret_n)
{
	_cleanup_free_ struct felix_route *d = NULL, *o = NULL;
	_cleanup_free_ struct route_op *ops = NULL;
	struct route_grace next = {};
	size_t i = 0, j = 0, n = 0, cap = 0;
	int r;

	if (sorted_copy(desired, n_desired, &d) < 0 || sorted_copy(observed, n_observed, &o) < 0)
		return -ENOMEM;
	next.v = malloc((n_observed ? n_observed : 1) * sizeof(*next.v));
	if (!next.v)
		return -ENOMEM;
	for (r = 0; r == 0 && (i < n_desired || j < n_observed);) {
		int c = i == n_desired ? 1 : j == n_observed ? -1 : route_cmp(&d[i], &o[j]);

		if (c < 0) { /* missing */
			r = push(&ops, &n, &cap, ROUTE_OP_ADD, &d[i]);
			for (i++; i < n_desired && route_cmp(&d[i], &d[i - 1]) == 0; i++)
				;
		} else if (c > 0) {
			r = unwanted(&o[j++], grace, &next, now_ms, grace_ms, &ops, &n, &cap);
		} else {
			if (!route_equal(&d[i], &o[j]))
				r = push(&ops, &n, &cap, ROUTE_OP_ADD, &d[i]);
			for (i++; i < n_desired && route_cmp(&d[i], &d[i - 1]) == 0; i++)
				;
			j++;
		}
	}
	if (r < 0) {
		free(next.v);
		return r;
	}
	route_grace_done(grace);
	*grace = next;
	*ret_ops = TAKE_PTR(ops);
	*ret_n = n;
	return 0;
}

void route_grace_done(struct route_grace *g)
{
	free(g->v);
	*g = (struct route_grace){};
}

const char *felix_route_to_string(const struct felix_route *r, char *buf, size_t size)
{
	char a[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &r->dst, a, sizeof(a));
	if (r->type == RTN_BLACKHOLE)
		snprintf(buf, size, "%s/%u blackhole", a, r->len);
	else
		snprintf(buf, size, "%s/%u dev #%d", a, r->len, r->oif);
	return buf;
}
