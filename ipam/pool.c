/* IPPools as IPAM reads them: one object parsed into a struct ipam_pool
 * (Calico's defaults applied), and lookups in a set of them. Pure: reading
 * them from the apiserver is store.c's. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "errmsg.h"
#include "ipam.h"
#include "kapi.h"
#include "selector.h"

void ipam_pool_done(struct ipam_pool *p)
{
	free(p->name);
	free(p->error);
	free(p->node_selector);
	selector_free(p->selector);
	selector_free(p->ns_selector);
	*p = (struct ipam_pool){};
}

/* assignmentMode, namespaceSelector and allowedUses, with Calico's
 * defaults (Automatic, all(), [Workload, Tunnel]). */
static int pool_parse_assignment(const json_t *spec, struct ipam_pool *p, char **ret_error)
{
	static const struct {
		const char *name;
		unsigned bit;
	} uses[] = { { "Workload", IPAM_USE_WORKLOAD },
		     { "Tunnel", IPAM_USE_TUNNEL },
		     { "LoadBalancer", IPAM_USE_LOADBALANCER } };
	const char *mode = json_string_value(json_object_get(spec, "assignmentMode"));
	const char *ns = json_string_value(json_object_get(spec, "namespaceSelector"));
	json_t *au = json_object_get(spec, "allowedUses"), *u;
	size_t i;

	if (mode && *mode && strcmp(mode, "Automatic") != 0 && strcmp(mode, "Manual") != 0)
		return errmsg_set(ret_error, -EINVAL,
				  "spec.assignmentMode: '%s' is not Automatic or Manual", mode);
	p->manual = mode && strcmp(mode, "Manual") == 0;
	json_array_foreach (au, i, u) {
		size_t k = 0;

		while (k < ELEMENTSOF(uses) && strcmp(uses[k].name, json_string_value(u) ?: "") != 0)
			k++;
		if (k == ELEMENTSOF(uses))
			return errmsg_set(ret_error, -EINVAL, "spec.allowedUses[%zu]: not Workload, "
					  "Tunnel or LoadBalancer", i);
		p->allowed_uses |= uses[k].bit;
	}
	if (!p->allowed_uses)
		p->allowed_uses = IPAM_USE_WORKLOAD | IPAM_USE_TUNNEL;
	return selector_parse(ns ? ns : "", &p->ns_selector, ret_error);
}

int ipam_pool_cidr_from_json(const json_t *obj, struct ipam_cidr *ret)
{
	const json_t *spec = json_object_get(obj, "spec");

	/* Host bits are cleared, as Calico reads a pool's CIDR. */
	return ipam_cidr_parse(json_string_value(json_object_get(spec, "cidr")), false, ret);
}

int ipam_pool_from_json(const json_t *obj, struct ipam_pool *ret, char **ret_error)
{
	json_t *spec = json_object_get(obj, "spec"), *bs = json_object_get(spec, "blockSize");
	const char *sel = json_string_value(json_object_get(spec, "nodeSelector"));
	struct ipam_pool p = {};
	unsigned bits;
	int r;

	if (ipam_pool_cidr_from_json(obj, &p.cidr) < 0)
		return errmsg_set(ret_error, -EINVAL, "spec.cidr: not a CIDR");
	bits = ipam_family_bits(p.cidr.family);
	p.block_size = bits == 32 ? 26 : 122;
	if (json_is_integer(bs))
		p.block_size = (uint8_t)json_integer_value(bs);
	if ((bs && !json_is_integer(bs)) || json_integer_value(bs) > (json_int_t)bits ||
	    p.block_size < p.cidr.len || bits - p.block_size > 12)
		return errmsg_set(ret_error, -EINVAL, "spec.blockSize: must be %u..%u and not shorter than "
				"the pool prefix", bits - 12, bits);
	p.disabled = json_is_true(json_object_get(spec, "disabled"));
	p.name = strdup(kapi_obj_name(obj) ? kapi_obj_name(obj) : "");
	p.node_selector = strdup(sel ? sel : "");
	if (!p.name || !p.node_selector) {
		ipam_pool_done(&p);
		return -ENOMEM;
	}
	r = selector_parse(p.node_selector, &p.selector, ret_error);
	if (r >= 0)
		r = pool_parse_assignment(spec, &p, ret_error);
	if (r < 0) {
		ipam_pool_done(&p);
		return r;
	}
	*ret = p;
	return 0;
}

void ipam_pools_done(struct ipam_pools *p)
{
	for (size_t i = 0; i < p->n; i++)
		ipam_pool_done(&p->items[i]);
	free(p->items);
	*p = (struct ipam_pools){};
}

const struct ipam_pool *ipam_pools_find_addr(const struct ipam_pools *p, const struct ipam_addr *a)
{
	for (size_t i = 0; i < p->n; i++)
		if (!p->items[i].error && ipam_cidr_contains(&p->items[i].cidr, a))
			return &p->items[i];
	return NULL;
}
