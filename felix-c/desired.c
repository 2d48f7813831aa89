/* The desired state of one reconcile, computed once (see manager.h).
 *
 * Blocks come from the BlockAffinity cache by the one rule of
 * lib/blockaff.h; pod routes and borrowed addresses from the local pods of
 * the policy model (their addresses are already narrowed to what IPAM gave
 * them, ipam/owners.h). Everything is binary; nothing here does I/O.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "array.h"
#include "blockaff.h"
#include "cleanup.h"
#include "felix-c/manager.h"
#include "policy/model.h"

static int cmp_prefix(const void *a, const void *b)
{
	return prefix_cmp(a, b);
}

/* Sorted, duplicates dropped. */
static size_t sort_unique(struct in_prefix *v, size_t n)
{
	size_t k = 0;

	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_prefix);
	for (size_t i = 1; i < n; i++)
		if (!prefix_equal(&v[k], &v[i]))
			v[++k] = v[i];
	return k + 1;
}

static int build_blocks(const struct felix_desired_input *in, struct felix_desired *d)
{
	struct array x = ARRAY_INIT(struct in_prefix);
	const char *key;
	json_t *obj;

	json_object_foreach((json_t *)in->affinities, key, obj) {
		struct in_prefix b, *slot;

		if (json_object_get(in->affinities_invalid, key) ||
		    blockaff_node_block(obj, in->node, &b) <= 0)
			continue;
		slot = array_push(&x);
		if (!slot) {
			free(x.items);
			return -ENOMEM;
		}
		*slot = b;
	}
	d->blocks = x.items;
	d->n_blocks = sort_unique(d->blocks, x.n);
	for (size_t i = 0; i < d->n_blocks; i++)
		if (d->blocks[i].family == AF_INET)
			d->block_addrs += 1ull << (32 - d->blocks[i].len);
	return 0;
}

bool felix_desired_in_blocks(const struct felix_desired *d, const struct in_prefix *p)
{
	for (size_t i = 0; i < d->n_blocks; i++)
		if (prefix_contains(&d->blocks[i], p))
			return true;
	return false;
}

static bool is_local(const struct felix_desired_input *in, const struct policy_pod *p)
{
	return p->node && strcmp(p->node, in->node) == 0 && !p->host_network;
}

/* @p's IPv4 hostPorts, to @ip (its first IPv4 address); IPv6 hostIPs
 * are not ours to map. */
static int add_host_ports(const struct policy_pod *p, const uint8_t *ip, struct array *out)
{
	for (size_t i = 0; i < p->n_host_ports; i++) {
		const struct policy_host_port *h = &p->host_ports[i];
		struct felix_host_port *x;

		if (h->host_ip.family == AF_INET6)
			continue;
		x = array_push(out);
		if (!x)
			return -ENOMEM;
		*x = (struct felix_host_port){ .pod = p, .proto = h->proto,
					       .host_port = h->host_port,
					       .container_port = h->container_port,
					       .any_ip = h->host_ip.family != AF_INET };
		memcpy(x->host_ip, h->host_ip.addr, 4);
		memcpy(x->pod_ip, ip, 4);
	}
	return 0;
}

/* @p's host routes, both families; its hostPorts go to its first IPv4
 * address. */
static int add_pod(struct felix_desired *d, const struct policy_pod *p, struct array *routes,
		   struct array *borrowed, struct array *host_ports)
{
	bool first4 = true;

	if (p->n_ips > 0)
		d->n_local++;
	for (size_t i = 0; i < p->n_ips; i++) {
		int family = p->ips[i].family;
		struct felix_pod_route *r;
		struct in_prefix *b;

		if (family != AF_INET && family != AF_INET6)
			continue;
		if (family == AF_INET && first4 && add_host_ports(p, p->ips[i].addr, host_ports) < 0)
			return -ENOMEM;
		first4 &= family != AF_INET;
		r = array_push(routes);
		if (!r)
			return -ENOMEM;
		*r = (struct felix_pod_route){ .dst = { .family = family,
						       .len = (uint8_t)prefix_max_len(family) } };
		memcpy(r->dst.addr, p->ips[i].addr, family == AF_INET ? 4 : 16);
		snprintf(r->ifname, sizeof(r->ifname), "%s", p->ifname);
		if (felix_desired_in_blocks(d, &r->dst))
			continue;
		b = array_push(borrowed);
		if (!b)
			return -ENOMEM;
		*b = r->dst;
	}
	return 0;
}

static int build_pods(const struct felix_desired_input *in, struct felix_desired *d)
{
	struct array routes = ARRAY_INIT(struct felix_pod_route);
	struct array borrowed = ARRAY_INIT(struct in_prefix);
	struct array host_ports = ARRAY_INIT(struct felix_host_port);
	struct policy_pod *p;
	size_t it = 0;
	int r = 0;

	while (r == 0 && policy_model_next_pod(in->model, &it, &p))
		if (is_local(in, p))
			r = add_pod(d, p, &routes, &borrowed, &host_ports);
	d->pod_routes = routes.items;
	d->n_pod_routes = routes.n;
	d->borrowed = borrowed.items;
	d->n_borrowed = sort_unique(d->borrowed, borrowed.n);
	d->host_ports = host_ports.items;
	d->n_host_ports = host_ports.n;
	return r;
}

int felix_desired_build(const struct felix_desired_input *in, struct felix_desired *ret)
{
	struct felix_desired d = { .model = in->model };
	int r;

	memcpy(d.objs, in->objs, sizeof(d.objs));
	r = build_blocks(in, &d);
	if (r == 0)
		r = build_pods(in, &d);
	if (r < 0) {
		felix_desired_done(&d);
		return r;
	}
	*ret = d;
	return 0;
}

void felix_desired_done(struct felix_desired *d)
{
	free(d->blocks);
	free(d->borrowed);
	free(d->pod_routes);
	free(d->host_ports);
	*d = (struct felix_desired){};
}
