/* LoadBalancer IPAM controller (see lbipam.h). One pass: read the assign
 * mode, the pools, the load balancer's blocks and every Service; then per
 * Service release what no longer fits, allocate what is missing and write
 * status.loadBalancer.ingress; last, release the handles of Services that
 * are gone.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <jansson.h>

#include "cleanup.h"
#include "felix-c/lbipam.h"
#include "ipam/ipam.h"
#include "ipam/lb.h"
#include "kapi.h"
#include "log.h"

static const struct kapi_resource kccs = { "crd.projectcalico.org/v1",
					   "kubecontrollersconfigurations",
					   "KubeControllersConfiguration", false };
static const struct kapi_resource events = { "v1", "events", "Event", true };

struct lbipam {
	json_t *reported; /* "<ns>/<name>" -> the last problem said */
	char mode_said[256]; /* the last word on the assign mode ("off", an error) */
};

int lbipam_new(struct lbipam **ret)
{
	struct lbipam *l = calloc(1, sizeof(*l));

	if (!l || !(l->reported = json_object())) {
		free(l);
		return -ENOMEM;
	}
	*ret = l;
	return 0;
}

struct lbipam *lbipam_free(struct lbipam *l)
{
	if (l) {
		json_decref(l->reported);
		free(l);
	}
	return NULL;
}

/* What one pass works on. */
struct pass {
	struct lbipam *l;
	struct kapi *k;
	struct ipam *ipam;
	struct lbipam_stats *st;
	enum ipam_lb_assign_mode mode;
	struct ipam_pools pools;
	bool have_lb_pool;
	json_t *held; /* handle -> {"ns","name","ips":[{"ip","seq"}]} */
};

static void pass_done(struct pass *p)
{
	ipam_pools_done(&p->pools);
	json_decref(p->held);
}

static void now_rfc3339(char buf[32])
{
	time_t now = time(NULL);

	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
}

/* A Warning Event on the Service and one log line, once per distinct
 * problem; a problem cleared (problem NULL) is forgotten. */
static void report(struct pass *p, const json_t *svc, const char *reason, const char *problem)
{
	const char *ns = kapi_obj_namespace(svc) ?: "", *name = kapi_obj_name(svc) ?: "";
	_cleanup_free_ char *path = NULL;
	_cleanup_(json_decrefp) json_t *ev = NULL;
	char key[600], ts[32];
	const char *old;

	snprintf(key, sizeof(key), "%s/%s", ns, name);
	if (!problem) {
		(void)json_object_del(p->l->reported, key);
		return;
	}
	p->st->errors++;
	old = json_string_value(json_object_get(p->l->reported, key));
	if (old && strcmp(old, problem) == 0)
		return;
	(void)json_object_set_new(p->l->reported, key, json_string(problem));
	log_warning("LoadBalancer IPAM: Service '%s/%s': %s", ns, name, problem);
	now_rfc3339(ts);
	path = kapi_path(&events, ns, NULL, NULL);
	ev = json_pack("{s:s,s:s,s:{s:s,s:s},s:{s:s,s:s,s:s,s:s,s:s?},s:s,s:s,s:s,s:{s:s},"
		       "s:s,s:s,s:i}",
		       "apiVersion", "v1", "kind", "Event", "metadata", "generateName", "lbipam-",
		       "namespace", ns, "involvedObject", "apiVersion", "v1", "kind", "Service",
		       "namespace", ns, "name", name, "uid", kapi_obj_uid(svc), "type", "Warning",
		       "reason", reason, "message", problem, "source", "component",
		       "calico-c-lbipam", "firstTimestamp", ts, "lastTimestamp", ts, "count", 1);
	if (path && ev && kapi_create(p->k, path, ev, NULL) < 0)
		log_warning("LoadBalancer IPAM: cannot record an Event on '%s/%s', ignoring: %s", ns,
			    name, kapi_last_error(p->k));
}

static int load_mode(struct pass *p)
{
	_cleanup_free_ char *path = kapi_path(&kccs, NULL, "default", NULL);
	_cleanup_(json_decrefp) json_t *kcc = NULL;
	_cleanup_free_ char *err = NULL;
	char *said = p->l->mode_said;
	int r;

	if (!path)
		return -ENOMEM;
	r = kapi_get(p->k, path, &kcc);
	if (r < 0 && r != -ENOENT)
		return log_warning_errno(r, "LoadBalancer IPAM: reading KubeControllersConfiguration "
					 "'default' failed (will retry): %s", kapi_last_error(p->k));
	r = ipam_lb_assign_mode_of(kcc, &p->mode, &err);
	if (r == 0) {
		if (strcmp(said, "off") != 0)
			log_info("LoadBalancer IPAM is off: KubeControllersConfiguration 'default' has "
				 "no spec.controllers.loadBalancer");
		snprintf(said, sizeof(p->l->mode_said), "off");
		return -ENOTCONN;
	}
	if (r < 0) {
		/* Acting on a guess could release addresses in use: do nothing. */
		if (strcmp(said, err) != 0)
			log_error("LoadBalancer IPAM stopped: KubeControllersConfiguration 'default': "
				  "%s", err);
		snprintf(said, sizeof(p->l->mode_said), "%s", err);
		return r;
	}
	said[0] = '\0';
	return 0;
}

/* Every allocation in blocks affine to virtual:load-balancer, by handle. */
static int load_held(struct pass *p)
{
	_cleanup_(ipam_blocks_done) struct ipam_blocks blocks = {};
	int r;

	r = ipam_blocks_load(p->ipam, &blocks, NULL, NULL, NULL);
	if (r < 0)
		return log_warning_errno(r, "LoadBalancer IPAM: listing IPAMBlocks failed (will "
					 "retry): %s", ipam_last_error(p->ipam));
	p->held = json_object();
	if (!p->held)
		return -ENOMEM;
	for (size_t i = 0; i < blocks.n; i++) {
		const struct ipam_block *b = blocks.items[i];

		if (!ipam_block_is_affine_to(b, IPAM_AFFINITY_TYPE_VIRTUAL,
					     IPAM_VIRTUAL_LOAD_BALANCER))
			continue;
		for (uint32_t ord = 0; ord < b->n; ord++) {
			const struct ipam_attr *a = ipam_block_attr_of(b, ord);
			char ip[64];
			struct ipam_addr addr;
			json_t *h;

			if (!a || !a->handle_id)
				continue;
			ipam_cidr_nth(&b->cidr, ord, &addr);
			(void)ipam_addr_format(&addr, ip, sizeof(ip));
			h = json_object_get(p->held, a->handle_id);
			if (!h) {
				h = json_pack("{s:s?,s:s?,s:[]}", "ns",
					      ipam_attr_secondary(a, "namespace"), "name",
					      ipam_attr_secondary(a, "service"), "ips");
				if (!h || json_object_set_new(p->held, a->handle_id, h) < 0)
					return -ENOMEM;
			}
			if (json_array_append_new(json_object_get(h, "ips"),
						  json_pack("{s:s,s:I}", "ip", ip, "seq",
							    (json_int_t)b->seq_for_alloc[ord])) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

static const char *ip_of(const json_t *held_ip)
{
	return json_string_value(json_object_get(held_ip, "ip"));
}

/* Frees one held address (with its sequence number: never one reused). */
static int release_one(struct pass *p, const json_t *held_ip)
{
	struct ipam_addr a;
	uint64_t seq = (uint64_t)json_integer_value(json_object_get(held_ip, "seq"));
	int r;

	if (ipam_addr_parse(ip_of(held_ip), &a) < 0)
		return -EINVAL;
	r = ipam_release_addr(p->ipam, &a, &seq);
	if (r == 1)
		p->st->released++;
	return r < 0 && r != -ESTALE && r != -ENOENT ? r : 0;
}

static int release_handle(struct pass *p, const char *handle)
{
	int r = ipam_release_handle(p->ipam, handle);

	if (r < 0)
		return log_warning_errno(r, "LoadBalancer IPAM: releasing handle '%s' failed (will "
					 "retry): %s", handle, ipam_last_error(p->ipam));
	p->st->released += (unsigned)r;
	return 0;
}

/* Writes status.loadBalancer.ingress: ours (@ips), plus, when @keep_others,
 * the entries of addresses not in @ours_before (another implementation's). */
static int write_status(struct pass *p, const json_t *svc, json_t *ips, const json_t *ours_before,
			bool keep_others)
{
	_cleanup_(json_decrefp) json_t *copy = json_deep_copy(svc);
	_cleanup_free_ char *path = NULL;
	json_t *lb, *old, *ingress = json_array(), *it, *o;
	size_t i, j;
	bool same;

	if (!copy || !ingress)
		return json_decref(ingress), -ENOMEM;
	if (!json_is_object(json_object_get(copy, "status")))
		json_object_set_new(copy, "status", json_object());
	lb = json_object_get(json_object_get(copy, "status"), "loadBalancer");
	if (!json_is_object(lb)) {
		lb = json_object();
		json_object_set_new(json_object_get(copy, "status"), "loadBalancer", lb);
	}
	old = json_object_get(lb, "ingress");
	json_array_foreach (old, i, it) {
		bool mine = false;

		json_array_foreach (ours_before, j, o)
			mine = mine || json_equal(json_object_get(it, "ip"), json_object_get(o, "ip"));
		if (keep_others && !mine)
			json_array_append(ingress, it);
	}
	json_array_foreach (ips, i, it)
		json_array_append_new(ingress, json_pack("{s:O}", "ip", it));
	same = json_array_size(old) == json_array_size(ingress);
	json_array_foreach (ingress, i, it) {
		bool found = false;

		json_array_foreach (old, j, o)
			found = found || json_equal(json_object_get(o, "ip"), json_object_get(it, "ip"));
		same = same && found;
	}
	if (same)
		return json_decref(ingress), 0;
	if (json_array_size(ingress))
		json_object_set_new(lb, "ingress", ingress);
	else
		json_decref(ingress), json_object_del(lb, "ingress");
	path = kapi_path(&kapi_services, kapi_obj_namespace(svc), kapi_obj_name(svc), "status");
	if (!path)
		return -ENOMEM;
	if (kapi_update(p->k, path, copy, NULL) < 0)
		return log_warning("LoadBalancer IPAM: updating the status of '%s/%s' failed (will "
				   "retry): %s", kapi_obj_namespace(svc), kapi_obj_name(svc),
				   kapi_last_error(p->k)), -EAGAIN;
	p->st->status_updates++;
	return 0;
}

static void assign_args(const json_t *svc, const char *handle, const char *ts,
			struct ipam_assign_args *ret)
{
	*ret = (struct ipam_assign_args){
		.handle = handle, .node = IPAM_VIRTUAL_LOAD_BALANCER,
		.affinity_type = IPAM_AFFINITY_TYPE_VIRTUAL, .use = IPAM_USE_LOADBALANCER,
		.ns = kapi_obj_namespace(svc), .service = kapi_obj_name(svc),
		.type = "LoadBalancer", .timestamp = ts,
	};
}

/* Allocates what @req asks for beyond @have (addresses as strings). */
static int assign_missing(struct pass *p, const json_t *svc, const char *handle,
			  const struct ipam_lb_request *req, json_t *have, char **ret_problem)
{
	struct ipam_assign_args a;
	unsigned v4 = 0, v6 = 0;
	char ts[64], ip[64];
	time_t now = time(NULL);
	size_t i;
	json_t *it;
	int r;

	strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S +0000 UTC", gmtime(&now));
	assign_args(svc, handle, ts, &a);
	json_array_foreach (have, i, it) {
		if (strchr(json_string_value(it), ':'))
			v6++;
		else
			v4++;
	}
	for (i = 0; i < req->n_ips; i++) {
		bool held = false;
		size_t j;

		(void)ipam_addr_format(&req->ips[i], ip, sizeof(ip));
		json_array_foreach (have, j, it)
			held = held || strcmp(json_string_value(it), ip) == 0;
		if (held)
			continue;
		r = ipam_assign_ip(p->ipam, &a, &req->ips[i]);
		if (r < 0)
			return asprintf(ret_problem, "cannot assign %s: %s", ip,
					ipam_last_error(p->ipam)) < 0 ? -ENOMEM : r;
		json_array_append_new(have, json_string(ip));
		p->st->assigned++;
	}
	if (req->n_ips)
		return 0;
	a.num_v4 = req->num_v4 > v4 ? req->num_v4 - v4 : 0;
	a.num_v6 = req->num_v6 > v6 ? req->num_v6 - v6 : 0;
	if (a.num_v4 + a.num_v6 == 0)
		return 0;
	for (i = 0; i < req->n_v4_pools; i++)
		a.v4_pools[a.n_v4_pools++] = req->v4_pools[i]->name;
	for (i = 0; i < req->n_v6_pools; i++)
		a.v6_pools[a.n_v6_pools++] = req->v6_pools[i]->name;
	{
		struct ipam_assign_result res;

		r = ipam_assign(p->ipam, &a, &res);
		if (r < 0)
			return asprintf(ret_problem, "no address assigned: %s",
					ipam_last_error(p->ipam)) < 0 ? -ENOMEM : r;
		for (i = 0; i < res.n_v4 + res.n_v6; i++) {
			(void)ipam_addr_format(i < res.n_v4 ? &res.v4[i] : &res.v6[i - res.n_v4], ip,
					       sizeof(ip));
			json_array_append_new(have, json_string(ip));
			p->st->assigned++;
		}
	}
	return 0;
}

static bool in_status(const json_t *svc, const char *ip)
{
	const json_t *ingress = json_object_get(
		json_object_get(json_object_get(svc, "status"), "loadBalancer"), "ingress");
	size_t i;
	json_t *it;

	json_array_foreach (ingress, i, it)
		if (json_is_string(json_object_get(it, "ip")) &&
		    strcmp(json_string_value(json_object_get(it, "ip")), ip) == 0)
			return true;
	return false;
}

/* Releases the held addresses that no longer fit the request, and those
 * beyond one per requested family (two controllers overlapping in a Lease
 * handover may both have served the Service: the one in its status stays);
 * @have: those kept. */
static int prune(struct pass *p, const json_t *svc, const struct ipam_lb_request *req,
		 const json_t *held_ips, json_t *have)
{
	unsigned kept_v4 = 0, kept_v6 = 0;
	size_t i;
	json_t *it;
	int r;

	for (int shown = 1; shown >= 0; shown--) {
		json_array_foreach (held_ips, i, it) {
			struct ipam_addr a;
			bool fits;
			unsigned *kept;

			if (in_status(svc, ip_of(it)) != (bool)shown)
				continue;
			fits = ipam_addr_parse(ip_of(it), &a) == 0 &&
			       ipam_lb_addr_fits(req, &p->pools, &a);
			kept = fits && a.family == AF_INET6 ? &kept_v6 : &kept_v4;
			/* Requested addresses are unique per family already. */
			if (fits && (req->n_ips ||
				     *kept < (a.family == AF_INET6 ? req->num_v6 : req->num_v4))) {
				(*kept)++;
				json_array_append_new(have, json_string(ip_of(it)));
				continue;
			}
			log_info("LoadBalancer IPAM: releasing %s of '%s/%s': %s", ip_of(it),
				 kapi_obj_namespace(svc), kapi_obj_name(svc),
				 fits ? "one address per family is enough" :
					"it no longer fits the Service's request");
			r = release_one(p, it);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static void sync_service(struct pass *p, const json_t *svc)
{
	char handle[IPAM_LB_HANDLE_MAX];
	_cleanup_free_ char *err = NULL, *problem = NULL;
	_cleanup_(json_decrefp) json_t *have = json_array();
	struct ipam_lb_request req;
	const json_t *held, *held_ips;
	int r;

	if (!have || ipam_lb_handle(kapi_obj_name(svc), kapi_obj_namespace(svc),
				    kapi_obj_uid(svc), handle) < 0)
		return;
	held = json_object_get(p->held, handle);
	held_ips = json_object_get(held, "ips");
	r = ipam_lb_request_of(svc, p->mode, &p->pools, &req, &err);
	if (held)
		json_object_set_new((json_t *)held, "seen", json_true());
	if (r < 0)
		return report(p, svc, "InvalidLoadBalancerAnnotation", err ?: "out of memory");
	if (!req.managed || !p->have_lb_pool) {
		/* Not ours: give back what we gave. No LoadBalancer pool left:
		 * Calico's rule, release too (and say why it stays pending). */
		report(p, svc, "LoadBalancerIPAllocationFailed",
		       req.managed ? "no IPPool allows LoadBalancer" : NULL);
		if (held && release_handle(p, handle) == 0)
			(void)write_status(p, svc, have, held_ips, !req.managed);
		return;
	}
	r = prune(p, svc, &req, held_ips, have);
	if (r < 0)
		return (void)log_warning_errno(r, "LoadBalancer IPAM: releasing an address of "
					       "'%s/%s' failed (will retry): %s",
					       kapi_obj_namespace(svc), kapi_obj_name(svc),
					       ipam_last_error(p->ipam));
	r = assign_missing(p, svc, handle, &req, have, &problem);
	report(p, svc, "LoadBalancerIPAllocationFailed", r < 0 ? problem ?: "out of memory" : NULL);
	(void)write_status(p, svc, have, held_ips, false);
}

/* Handles whose Service was not in the list: released when a fresh GET
 * says the Service (with that uid) is gone. */
static void release_orphans(struct pass *p)
{
	const char *handle;
	json_t *h;

	json_object_foreach (p->held, handle, h) {
		const char *ns = json_string_value(json_object_get(h, "ns"));
		const char *name = json_string_value(json_object_get(h, "name"));
		_cleanup_(json_decrefp) json_t *svc = NULL;
		_cleanup_free_ char *path = NULL;
		char now[IPAM_LB_HANDLE_MAX];
		int r;

		if (json_is_true(json_object_get(h, "seen")))
			continue;
		if (ns && name) {
			path = kapi_path(&kapi_services, ns, name, NULL);
			if (!path)
				return;
			r = kapi_get(p->k, path, &svc);
			if (r < 0 && r != -ENOENT)
				continue; /* unknown: next pass */
			if (r == 0 && ipam_lb_handle(name, ns, kapi_obj_uid(svc), now) == 0 &&
			    strcmp(now, handle) == 0)
				continue; /* created after our list: next pass serves it */
		}
		log_info("LoadBalancer IPAM: Service '%s/%s' is gone: releasing handle '%s'",
			 ns ?: "?", name ?: "?", handle);
		(void)release_handle(p, handle);
	}
}

int lbipam_pass(struct lbipam *l, struct kapi *k, struct ipam *ipam, struct lbipam_stats *ret)
{
	_cleanup_(pass_done) struct pass p = { .l = l, .k = k, .ipam = ipam, .st = ret };
	_cleanup_(json_decrefp) json_t *svcs = NULL;
	_cleanup_free_ char *path = kapi_path(&kapi_services, NULL, NULL, NULL);
	size_t i;
	json_t *svc;
	int r;

	if (!path)
		return -ENOMEM;
	r = load_mode(&p);
	if (r == -ENOTCONN)
		return 0; /* off: nothing to do */
	if (r < 0)
		return r;
	r = ipam_pools_load(ipam, &p.pools);
	if (r < 0)
		return log_warning_errno(r, "LoadBalancer IPAM: listing IPPools failed (will retry): "
					 "%s", ipam_last_error(ipam));
	for (i = 0; i < p.pools.n; i++)
		p.have_lb_pool = p.have_lb_pool || (!p.pools.items[i].error &&
						    (p.pools.items[i].allowed_uses &
						     IPAM_USE_LOADBALANCER));
	r = load_held(&p);
	if (r < 0)
		return r;
	r = kapi_list(k, path, NULL, &svcs, NULL);
	if (r < 0)
		return log_warning_errno(r, "LoadBalancer IPAM: listing Services failed (will "
					 "retry): %s", kapi_last_error(k));
	json_array_foreach (svcs, i, svc)
		sync_service(&p, svc);
	release_orphans(&p);
	return 0;
}
