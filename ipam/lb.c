/* Calico's LoadBalancer IPAM rules (see lb.h): pure, no I/O. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/evp.h>

#include "base64.h"
#include "cleanup.h"
#include "errmsg.h"
#include "kapi.h"
#include "lb.h"

static const char *const mode_names[_IPAM_LB_ASSIGN_MAX] = {
	[IPAM_LB_ALL_SERVICES] = "AllServices",
	[IPAM_LB_REQUESTED_SERVICES_ONLY] = "RequestedServicesOnly",
};

const char *ipam_lb_assign_mode_to_string(enum ipam_lb_assign_mode m)
{
	return m >= 0 && m < _IPAM_LB_ASSIGN_MAX ? mode_names[m] : NULL;
}

enum ipam_lb_assign_mode ipam_lb_assign_mode_from_string(const char *s)
{
	for (int i = 0; s && i < _IPAM_LB_ASSIGN_MAX; i++)
		if (strcmp(s, mode_names[i]) == 0)
			return (enum ipam_lb_assign_mode)i;
	return _IPAM_LB_ASSIGN_INVALID;
}

int ipam_lb_assign_mode_of(const json_t *kcc, enum ipam_lb_assign_mode *ret, char **ret_error)
{
	const json_t *lb = json_object_get(
		json_object_get(json_object_get(kcc, "spec"), "controllers"), "loadBalancer");
	const json_t *v = json_object_get(lb, "assignIPs");
	enum ipam_lb_assign_mode m = IPAM_LB_ALL_SERVICES;

	if (kcc && !json_is_object(lb))
		return 0;
	if (v) {
		m = ipam_lb_assign_mode_from_string(json_string_value(v));
		if (m < 0)
			return errmsg_set(ret_error, -EINVAL,
					  "spec.controllers.loadBalancer.assignIPs is not "
					  "AllServices or RequestedServicesOnly");
	}
	*ret = m;
	return 1;
}

int ipam_lb_handle(const char *name, const char *ns, const char *uid,
		   char ret[IPAM_LB_HANDLE_MAX])
{
	_cleanup_free_ char *text = NULL, *b64 = NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned len = 0;
	size_t o = 0;

	if (!name || !ns || !uid || !*name || !*ns || !*uid)
		return -EINVAL;
	if (asprintf(&text, "%s-%s-%s", name, ns, uid) < 0)
		return -ENOMEM;
	for (char *p = text; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (!EVP_Digest(text, strlen(text), md, &len, EVP_sha256(), NULL))
		return -ENOMEM;
	if (base64_encode(md, len, &b64) < 0)
		return -ENOMEM;
	/* Unpadded base64url without '-', '_' and '.' is standard base64
	 * without '+', '/' and '='. */
	o = (size_t)snprintf(ret, IPAM_LB_HANDLE_MAX, "lb-");
	for (const char *p = b64; *p && o + 1 < IPAM_LB_HANDLE_MAX; p++)
		if (*p != '+' && *p != '/' && *p != '=')
			ret[o++] = *p;
	ret[o] = '\0';
	return 0;
}

static bool svc_is_managed(const json_t *svc, enum ipam_lb_assign_mode mode)
{
	const json_t *spec = json_object_get(svc, "spec");
	const char *type = json_string_value(json_object_get(spec, "type"));
	const char *cls = json_string_value(json_object_get(spec, "loadBalancerClass"));

	if (!type || strcmp(type, "LoadBalancer") != 0)
		return false;
	if (cls)
		return strcmp(cls, IPAM_LB_CLASS) == 0;
	if (mode == IPAM_LB_ALL_SERVICES)
		return true;
	return kapi_obj_annotation(svc, IPAM_LB_ANN_IPV4POOLS) ||
	       kapi_obj_annotation(svc, IPAM_LB_ANN_IPV6POOLS) ||
	       kapi_obj_annotation(svc, IPAM_LB_ANN_IPS);
}

/* The annotation @key as a JSON list of strings (NULL when absent). */
static int ann_list(const json_t *svc, const char *key, json_t **ret, char **ret_error)
{
	const char *text = kapi_obj_annotation(svc, key);
	json_t *l, *it;
	size_t i;

	*ret = NULL;
	if (!text)
		return 0;
	l = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_array(l))
		goto bad;
	json_array_foreach (l, i, it)
		if (!json_is_string(it))
			goto bad;
	*ret = l;
	return 0;
bad:
	json_decref(l);
	return errmsg_set(ret_error, -EINVAL, "annotation %s is not a JSON list of strings", key);
}

static const struct ipam_pool *lb_pool_named(const struct ipam_pools *pools, const char *s)
{
	for (size_t i = 0; i < pools->n; i++) {
		const struct ipam_pool *p = &pools->items[i];
		char cidr[IPAM_CIDR_STRLEN];

		if (p->error || ipam_cidr_format(&p->cidr, cidr, sizeof(cidr)) < 0)
			continue;
		if (strcmp(p->name, s) == 0 || strcmp(cidr, s) == 0)
			return p;
	}
	return NULL;
}

static int parse_pools(const json_t *svc, const char *key, int family,
		       const struct ipam_pools *pools, const struct ipam_pool **out, size_t *n,
		       char **ret_error)
{
	_cleanup_(json_decrefp) json_t *l = NULL;
	size_t i;
	json_t *it;
	int r;

	r = ann_list(svc, key, &l, ret_error);
	if (r < 0 || !l)
		return r;
	if (json_array_size(l) == 0 || json_array_size(l) > IPAM_MAX_REQUESTED_POOLS)
		return errmsg_set(ret_error, -EINVAL, "annotation %s names 0 or more than %d pools",
				  key, IPAM_MAX_REQUESTED_POOLS);
	json_array_foreach (l, i, it) {
		const char *s = json_string_value(it);
		const struct ipam_pool *p = lb_pool_named(pools, s);

		if (!p)
			return errmsg_set(ret_error, -EINVAL, "annotation %s: no IPPool '%s'", key, s);
		if (!(p->allowed_uses & IPAM_USE_LOADBALANCER))
			return errmsg_set(ret_error, -EINVAL,
					  "annotation %s: IPPool '%s' does not allow LoadBalancer",
					  key, s);
		if (p->cidr.family != family)
			return errmsg_set(ret_error, -EINVAL, "annotation %s: IPPool '%s' is IPv%d",
					  key, s, p->cidr.family == AF_INET ? 4 : 6);
		out[(*n)++] = p;
	}
	return 0;
}

static int parse_ips(const json_t *svc, struct ipam_lb_request *req, char **ret_error)
{
	_cleanup_(json_decrefp) json_t *l = NULL;
	size_t i;
	json_t *it;
	int r;

	r = ann_list(svc, IPAM_LB_ANN_IPS, &l, ret_error);
	if (r < 0 || !l)
		return r;
	json_array_foreach (l, i, it) {
		struct ipam_addr a;

		if (ipam_addr_parse(json_string_value(it), &a) < 0)
			return errmsg_set(ret_error, -EINVAL, "annotation %s: '%s' is no IP address",
					  IPAM_LB_ANN_IPS, json_string_value(it));
		for (size_t j = 0; j < req->n_ips; j++)
			if (req->ips[j].family == a.family)
				return errmsg_set(ret_error, -EINVAL,
						  "annotation %s: more than one IPv%d address",
						  IPAM_LB_ANN_IPS, a.family == AF_INET ? 4 : 6);
		req->ips[req->n_ips++] = a;
	}
	return 0;
}

static void parse_families(const json_t *svc, struct ipam_lb_request *req)
{
	const json_t *fams = json_object_get(json_object_get(svc, "spec"), "ipFamilies");
	size_t i;
	json_t *it;

	json_array_foreach (fams, i, it) {
		const char *f = json_string_value(it);

		if (f && strcmp(f, "IPv4") == 0)
			req->num_v4 = 1;
		else if (f && strcmp(f, "IPv6") == 0)
			req->num_v6 = 1;
	}
	if (req->num_v4 + req->num_v6 == 0)
		req->num_v4 = 1;
}

int ipam_lb_request_of(const json_t *svc, enum ipam_lb_assign_mode mode,
		       const struct ipam_pools *pools, struct ipam_lb_request *ret,
		       char **ret_error)
{
	struct ipam_lb_request req = {};
	int r;

	req.managed = svc_is_managed(svc, mode);
	if (req.managed) {
		r = parse_ips(svc, &req, ret_error);
		if (r >= 0)
			r = parse_pools(svc, IPAM_LB_ANN_IPV4POOLS, AF_INET, pools, req.v4_pools,
					&req.n_v4_pools, ret_error);
		if (r >= 0)
			r = parse_pools(svc, IPAM_LB_ANN_IPV6POOLS, AF_INET6, pools, req.v6_pools,
					&req.n_v6_pools, ret_error);
		if (r < 0)
			return r;
		parse_families(svc, &req);
	}
	*ret = req;
	return 0;
}

static bool in_pools(const struct ipam_pool *const *list, size_t n, const struct ipam_addr *a)
{
	for (size_t i = 0; i < n; i++)
		if (ipam_cidr_contains(&list[i]->cidr, a))
			return true;
	return false;
}

bool ipam_lb_addr_fits(const struct ipam_lb_request *req, const struct ipam_pools *pools,
		       const struct ipam_addr *a)
{
	const struct ipam_pool *p = NULL;

	for (size_t i = 0; i < pools->n && !p; i++)
		if (!pools->items[i].error && ipam_cidr_contains(&pools->items[i].cidr, a) &&
		    (pools->items[i].allowed_uses & IPAM_USE_LOADBALANCER))
			p = &pools->items[i];
	if (!p || !req->managed)
		return false;
	if (req->n_ips) {
		for (size_t i = 0; i < req->n_ips; i++)
			if (ipam_addr_equal(&req->ips[i], a))
				return true;
		return false;
	}
	if (req->n_v4_pools || req->n_v6_pools)
		return in_pools(req->v4_pools, req->n_v4_pools, a) ||
		       in_pools(req->v6_pools, req->n_v6_pools, a);
	return !p->manual;
}
