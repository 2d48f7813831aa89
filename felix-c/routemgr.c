/* The route manager (see routemgr.h). */
#include <errno.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "array.h"
#include "cleanup.h"
#include "evloop.h"
#include "felix-c/routemgr.h"
#include "felix-c/routes.h"
#include "ifname.h"
#include "log.h"

struct link_ref {
	char name[IFNAMSIZ];
	int ifindex;
};

struct routemgr {
	struct felix_manager mgr;		/* first: the interface */
	const struct routemgr_kernel *kernel;	/* borrowed */
	void *k;				/* borrowed */
	unsigned grace_ms;
	const struct felix_desired *d;		/* borrowed until the next update */
	struct route_grace grace;		/* unwanted /32s, owned */
	unsigned long adds, dels;		/* successful operations */
	size_t n_pod, n_blackhole;		/* routes last wanted */
};

/* ---- the kernel seam over lib/nl.h ---- */

static int nl_links(void *k, nl_link_cb cb, void *userdata)
{
	return nl_link_list(k, cb, userdata);
}

static int nl_routes(void *k, int family, int protocol, nl_route_cb cb, void *userdata)
{
	return nl_route_list(k, family, protocol, cb, userdata);
}

static int nl_add(void *k, const struct nl_route *r)
{
	return nl_route_add(k, r);
}

static int nl_del(void *k, const struct nl_route *r)
{
	return nl_route_del(k, r);
}

static const char *nl_err(void *k)
{
	return nl_last_error(k);
}

const struct routemgr_kernel routemgr_kernel_nl = {
	.link_list = nl_links,
	.route_list = nl_routes,
	.route_add = nl_add,
	.route_del = nl_del,
	.last_error = nl_err,
};

/* ---- observed ---- */

/* Every cali* link: none is dropped, however many there are. */
static int collect_link(const struct nl_link *l, void *userdata)
{
	struct link_ref ref = { .ifindex = l->ifindex };

	if (!ifname_is_ours(l->name))
		return 0;
	snprintf(ref.name, sizeof(ref.name), "%s", l->name);
	return array_append(userdata, &ref);
}

static int cmp_link(const void *a, const void *b)
{
	return strcmp(((const struct link_ref *)a)->name, ((const struct link_ref *)b)->name);
}

static int link_index(const struct array *links, const char *name)
{
	struct link_ref key = {}, *hit;

	if (links->n == 0) /* an empty list has a NULL base, which bsearch must not get */
		return 0;
	snprintf(key.name, sizeof(key.name), "%s", name);
	hit = bsearch(&key, links->items, links->n, sizeof(key), cmp_link);
	return hit ? hit->ifindex : 0;
}

static int collect_route(const struct nl_route *r, void *userdata)
{
	struct felix_route fr = { .dst = { .family = r->family, .len = r->dst_len },
				  .type = r->type, .oif = r->oif };

	if ((r->family != AF_INET && r->family != AF_INET6) || r->table != RT_TABLE_MAIN)
		return 0;
	memcpy(fr.dst.addr, r->dst, r->family == AF_INET ? 4 : 16);
	return array_append(userdata, &fr);
}

/* ---- desired ---- */

static int want_routes(struct routemgr *m, const struct array *links, struct array *want)
{
	const struct felix_desired *d = m->d;
	int r = 0;

	for (size_t i = 0; r == 0 && i < d->n_pod_routes; i++) {
		struct felix_route fr = { .dst = d->pod_routes[i].dst, .type = RTN_UNICAST };

		fr.oif = link_index(links, d->pod_routes[i].ifname);
		if (fr.oif)
			r = array_append(want, &fr);
	}
	m->n_pod = want->n;
	for (size_t i = 0; r == 0 && i < d->n_blocks; i++) {
		struct felix_route fr = { .dst = d->blocks[i], .type = RTN_BLACKHOLE };

		r = array_append(want, &fr);
	}
	m->n_blackhole = want->n - m->n_pod;
	return r;
}

/* ---- apply ---- */

static int apply_ops(struct routemgr *m, const struct route_op *ops, size_t n)
{
	int first = 0;

	for (size_t i = 0; i < n; i++) {
		bool add = ops[i].kind == ROUTE_OP_ADD;
		const struct in_prefix *dst = &ops[i].route.dst;
		struct nl_route r = { .family = dst->family, .dst_len = dst->len,
				      .protocol = NL_RTPROT_CALICO, .type = ops[i].route.type,
				      .oif = ops[i].route.oif, .table = RT_TABLE_MAIN };
		const char *msg;
		char text[80];
		int e;

		memcpy(r.dst, dst->addr, sizeof(r.dst));
		r.scope = r.type == RTN_UNICAST ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
		e = add ? m->kernel->route_add(m->k, &r) : m->kernel->route_del(m->k, &r);
		felix_route_to_string(&ops[i].route, text, sizeof(text));
		if (e < 0 && !(!add && e == -ESRCH)) {
			m->mgr.errors++;
			msg = m->kernel->last_error(m->k);
			log_warning_errno(e, "Failed to %s route %s: %s", add ? "add" : "delete", text,
					  *msg ? msg : strerror(-e));
			if (!first)
				first = e;
			continue;
		}
		add ? m->adds++ : m->dels++;
		log_info("Route %s %s", add ? "programmed" : "removed", text);
	}
	return first;
}

static int routemgr_apply(struct felix_manager *mgr)
{
	struct routemgr *m = (struct routemgr *)mgr;
	struct array links = ARRAY_INIT(struct link_ref);
	struct array want = ARRAY_INIT(struct felix_route);
	struct array have = ARRAY_INIT(struct felix_route);
	_cleanup_free_ struct route_op *ops = NULL;
	size_t n_ops = 0;
	int r;

	if (!m->d)
		return 0;
	r = m->kernel->link_list(m->k, collect_link, &links);
	if (r == 0) {
		if (links.n > 0) /* qsort(NULL, 0, ...) is undefined */
			qsort(links.items, links.n, links.size, cmp_link);
		r = want_routes(m, &links, &want);
	}
	if (r == 0)
		r = m->kernel->route_list(m->k, AF_INET, NL_RTPROT_CALICO, collect_route, &have);
	if (r == 0)
		r = m->kernel->route_list(m->k, AF_INET6, NL_RTPROT_CALICO, collect_route, &have);
	if (r == 0)
		r = routes_plan(want.items, want.n, have.items, have.n, &m->grace, evloop_now_ms(),
				m->grace_ms, &ops, &n_ops);
	if (r == 0)
		r = apply_ops(m, ops, n_ops);
	free(links.items);
	free(want.items);
	free(have.items);
	return r;
}

static void routemgr_update(struct felix_manager *mgr, const struct felix_desired *d)
{
	((struct routemgr *)mgr)->d = d;
}

static void routemgr_write_metrics(const struct felix_manager *mgr, struct metrics_buf *b)
{
	const struct routemgr *m = (const struct routemgr *)mgr;

	metrics_header(b, "felix_c_routes", "gauge", "Routes we program, by type.");
	metrics_sample(b, "felix_c_routes", (const char *[]){ "type", "pod" }, 1, (double)m->n_pod);
	metrics_sample(b, "felix_c_routes", (const char *[]){ "type", "blackhole" }, 1,
		       (double)m->n_blackhole);
	metrics_header(b, "felix_c_route_adds_total", "counter", "Routes added or replaced.");
	metrics_sample(b, "felix_c_route_adds_total", NULL, 0, m->adds);
	metrics_header(b, "felix_c_route_dels_total", "counter", "Routes deleted.");
	metrics_sample(b, "felix_c_route_dels_total", NULL, 0, m->dels);
}

static struct felix_manager *routemgr_free(struct felix_manager *mgr)
{
	struct routemgr *m = (struct routemgr *)mgr;

	route_grace_done(&m->grace);
	free(m);
	return NULL;
}

static const struct felix_manager_ops routemgr_ops = {
	.name = "route",
	.hist_name = "felix_c_route_apply_seconds",
	.hist_help = "Route reconcile duration.",
	.update = routemgr_update,
	.apply = routemgr_apply,
	.write_metrics = routemgr_write_metrics,
	.free = routemgr_free,
};

int routemgr_new(const struct routemgr_kernel *kernel, void *k, unsigned grace_ms,
		 struct felix_manager **ret)
{
	struct routemgr *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	m->mgr.ops = &routemgr_ops;
	m->kernel = kernel;
	m->k = k;
	m->grace_ms = grace_ms;
	*ret = &m->mgr;
	return 0;
}
