/* The felix-c agent (see agent.h).
 *
 * Desired state is rebuilt from the informer caches (and the policy model
 * they feed) on every reconcile; observed state is read back from the
 * kernel (routes of our protocol, our nftables table) and from BIRD's config
 * file; a pure plan turns one into the other and only that is applied.
 * Events arm a short debounce timer, so a burst of changes costs one
 * reconcile; a periodic resync repairs drift made behind our back.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <linux/rtnetlink.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "bird-config/birdcfg.h"
#include "bird-config/birdctl.h"
#include "cleanup.h"
#include "crdvalid.h"
#include "evloop.h"
#include "felix-c/agent.h"
#include "felix-c/bgpready.h"
#include "felix-c/birdproc.h"
#include "felix-c/cnisvc.h"
#include "felix-c/config.h"
#include "felix-c/httpd.h"
#include "felix-c/metrics.h"
#include "felix-c/natout.h"
#include "felix-c/routes.h"
#include "felix-c/worker.h"
#include "ifname.h"
#include "ipam/block.h"
#include "ipam/ipam.h"
#include "ipam/owners.h"
#include "kapi.h"
#include "kinformer.h"
#include "log.h"
#include "nl.h"
#include "policy/compile.h"
#include "policy/kernel.h"
#include "policy/model.h"
#include "policy/nftstate.h"
#include "policy/plan.h"

DEFINE_CLEANUP_FUNC(struct ipam_block, ipam_block_free);
DEFINE_CLEANUP_FUNC(struct policy_nft, policy_nft_free);
DEFINE_CLEANUP_FUNC(struct policy_plan, policy_plan_free);

enum inf_kind {
	INF_NODES,
	INF_PODS,
	INF_NAMESPACES,
	INF_NETPOLS,
	INF_IPPOOLS,
	INF_AFFINITIES,
	INF_BLOCKS,
	INF_BGPCONFIGS,
	INF_BGPPEERS,
	INF_FELIXCONFIGS,
	INF_SECRETS,
	_INF_MAX,
};

static const struct {
	const char *name;
	const struct kapi_resource *res;
} inf_table[_INF_MAX] = {
	[INF_NODES] = { "nodes", &kapi_nodes },
	[INF_PODS] = { "pods", &kapi_pods },
	[INF_NAMESPACES] = { "namespaces", &kapi_namespaces },
	[INF_NETPOLS] = { "networkpolicies", &kapi_networkpolicies },
	[INF_IPPOOLS] = { "ippools", &kapi_ippools },
	[INF_AFFINITIES] = { "blockaffinities", &kapi_blockaffinities },
	[INF_BLOCKS] = { "ipamblocks", &kapi_ipamblocks },
	[INF_BGPCONFIGS] = { "bgpconfigurations", &kapi_bgpconfigurations },
	[INF_BGPPEERS] = { "bgppeers", &kapi_bgppeers },
	[INF_FELIXCONFIGS] = { "felixconfigurations", &kapi_felixconfigurations },
	[INF_SECRETS] = { "secrets", &kapi_secrets },
};

enum err_kind { ERR_ROUTE, ERR_POLICY, ERR_NAT, ERR_BIRD, ERR_API, ERR_INPUT, _ERR_MAX };
static const char *const err_names[_ERR_MAX] = { "route", "policy", "nat", "bird", "api",
						   "input" };

static const double apply_bounds[] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
				       0.1,   0.25,	0.5,   1,    2.5,   5 };

struct inf_ctx {
	struct felix_agent *a;
	enum inf_kind kind;
	json_t *invalid; /* rejected objects: name (ns/name) -> why */
};

/* One per process; owned by main(). */
struct felix_agent {
	const struct felix_config *cfg; /* borrowed */
	struct evloop *loop;		/* borrowed */
	struct kapi *k;
	struct kinformer *inf[_INF_MAX];
	struct inf_ctx ctx[_INF_MAX];
	enum felix_sync_state state;

	struct policy_model *model;	/* fed by the pod/namespace/policy informers */
	struct ipam_owners *owners;	/* who IPAM gave each address (IPAMBlocks) */
	struct ipam_pools pools;	/* the valid IPPools */
	struct policy_desired *desired; /* compiled from model at desired_gen */
	uint64_t desired_gen;
	bool have_desired;
	bool policy_full;		/* next reconcile reads the table back */
	struct policy_kernel *pk;
	struct natout *natout;		/* natOutgoing, fed by the IPPool informer */
	struct nl *nl;
	struct route_grace grace;

	char *bird_text;		/* last text BIRD accepted */
	char *bird_skipped;		/* last objects the render skipped, logged once */
	bool bird_reload_pending;	/* file written, BIRD not told yet */
	bool bird_up;			/* control socket answers */
	bool bird_gr;			/* in graceful-restart recovery */
	bool bird_status_fresh;		/* read since BIRD last (re)loaded its config */
	uint64_t start_ms;		/* felix-c's start, for BirdReadyThreshold */
	bool bird_no_address;		/* logged "waiting for address" */
	unsigned bgp_established, bgp_total;
	struct birdctl_status bird_status;

	struct evloop_timer *debounce, *resync, *status_timer;
	struct httpd *health, *metrics;
	struct felix_worker *worker;
	struct felix_cnisvc *cnisvc;	/* NULL: off */
	struct kapi_reader cni_reader;	/* its cached reads, from our informers */
	atomic_ulong cni_cached_reads;
	struct felix_runtime rt;	/* settings FelixConfigurations may change */

	/* metrics */
	struct metrics_hist h_routes, h_policy, h_bird;
	unsigned long errors[_ERR_MAX];
	unsigned long reconciles, resyncs, route_adds, route_dels, policy_batches;
	size_t n_local, n_routes_pod, n_routes_blackhole, n_set_elems, n_block_addrs;
	bool last_apply_ok;
	uint64_t last_ok_ms;
};

static const char *const sync_names[_FELIX_SYNC_MAX] = { "waiting-for-sync", "synced",
							  "applied" };

const char *felix_sync_state_to_string(enum felix_sync_state s)
{
	return s >= 0 && s < _FELIX_SYNC_MAX ? sync_names[s] : NULL;
}

static void set_state(struct felix_agent *a, enum felix_sync_state s)
{
	if (a->state == s)
		return;
	log_info("Sync state %s -> %s", sync_names[a->state], sync_names[s]);
	a->state = s;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void schedule(struct felix_agent *a)
{
	if (!evloop_timer_is_armed(a->debounce))
		evloop_timer_arm(a->debounce, a->cfg->debounce_ms);
}

/* ---- informer callbacks: keep the policy model current ---- */

/* A pod changed in the model (generation @gen0 before): when the desired
 * table was compiled from exactly the previous model, the change becomes
 * the few set elements and profile chains it implies, applied now as one
 * batch, in time independent of the number of pods and policies. Anything
 * else (not applied yet, policies changed, an error) is left to the next
 * full reconcile. */
static void pod_changed(struct felix_agent *a, uint64_t gen0, const struct policy_pod *old,
			const struct policy_pod *new)
{
	_cleanup_(policy_plan_freep) struct policy_plan *p = NULL;
	_cleanup_free_ char *err = NULL;
	int r;

	if (!a->have_desired || a->desired_gen != gen0 || a->state != FELIX_SYNC_APPLIED)
		return;
	r = policy_desired_update_pod(a->desired, a->model, old, new, &p);
	if (r == 0 && !policy_plan_is_empty(p))
		r = policy_kernel_apply(a->pk, p, &err);
	if (r < 0) {
		if (r != -ESTALE) {
			a->errors[ERR_POLICY]++;
			log_warning_errno(r, "Incremental policy update failed (full resync next): %s",
					  err ? err : "%m");
		}
		a->have_desired = false; /* recompile */
		a->policy_full = true;
		return;
	}
	a->desired_gen = a->model->generation;
	if (!policy_plan_is_empty(p)) {
		a->policy_batches++;
		log_debug("Pod %s/%s: policy elements +%zu -%zu", (new ?: old)->ns,
			  (new ?: old)->name, policy_plan_count_elems(p, POLICY_OP_ELEM_ADD),
			  policy_plan_count_elems(p, POLICY_OP_ELEM_DEL));
	}
}

/* ---- pod addresses: only the ones IPAM gave the pod (ipam/owners.h) ---- */

static void addr_of(const struct policy_cidr *c, struct ipam_addr *ret)
{
	size_t n = c->family == AF_INET ? 4 : 16;

	*ret = (struct ipam_addr){ .family = c->family };
	for (size_t i = 0; i < n; i++)
		ret->v = ret->v << 8 | c->addr[i];
}

static enum ipam_owner_verdict addr_verdict(const struct felix_agent *a,
					    const struct policy_pod *p,
					    const struct policy_cidr *c)
{
	struct ipam_addr addr;

	addr_of(c, &addr);
	return ipam_owners_check(a->owners, &a->pools, &addr, p->ns, p->name, p->ips_reported);
}

static bool addr_accept(const struct policy_pod *p, const struct policy_cidr *c, void *userdata)
{
	return ipam_owner_verdict_is_ok(addr_verdict(userdata, p, c));
}

/* After a pod change, once every cache is listed (before, a missing pool
 * or block is no news): an address the pod claims that is outside the
 * pools or IPAM's for another pod is an error worth a line. A claim not
 * allocated yet is the CNI plugin's normal order (annotation, then block
 * event) and is not. */
static void report_refused(struct felix_agent *a, const struct policy_pod *p)
{
	char text[INET6_ADDRSTRLEN + 4];

	for (size_t i = p->n_ips; i < p->n_ips + p->n_unverified; i++) {
		enum ipam_owner_verdict v = addr_verdict(a, p, &p->ips[i]);

		if (a->state == FELIX_SYNC_WAITING || v == IPAM_OWNER_UNALLOCATED)
			continue;
		a->errors[ERR_INPUT]++;
		(void)policy_cidr_to_string(&p->ips[i], text, sizeof(text));
		log_warning("Pod '%s/%s' claims %s (%s): %s, not routed or filtered as its address",
			    p->ns, p->name, text, p->ips_reported ? "status.podIPs" :
			    "annotation cni.projectcalico.org/podIPs", ipam_owner_verdict_to_string(v));
	}
}

/* The key of @obj in an informer's rejected map: "ns/name" or "name". */
static void obj_key(const json_t *obj, char *buf, size_t size)
{
	const char *ns = kapi_obj_namespace(obj);

	snprintf(buf, size, "%s%s%s", ns ?: "", ns ? "/" : "", kapi_obj_name(obj) ?: "");
}

/* @obj of informer @c is rejected for @why (NULL: it is valid): counted,
 * and kept in c->invalid for the felix_c_rejected_objects metric.
 * Return: whether the caller should warn (a new reason: once per change). */
static bool note_rejected(struct inf_ctx *c, const json_t *obj, const char *why)
{
	char key[600];
	const char *old;
	bool changed;

	obj_key(obj, key, sizeof(key));
	if (!why) {
		if (json_object_del(c->invalid, key) == 0)
			log_info("%s '%s' is valid again", inf_table[c->kind].name, key);
		return false;
	}
	c->a->errors[ERR_INPUT]++;
	old = json_string_value(json_object_get(c->invalid, key));
	changed = !old || strcmp(old, why) != 0;
	json_object_set_new(c->invalid, key, json_string(why));
	return changed;
}

static void model_set_pod(struct inf_ctx *c, json_t *obj)
{
	struct felix_agent *a = c->a;
	_cleanup_free_ char *err = NULL;
	struct policy_pod *p = NULL, *old = NULL;
	uint64_t gen0 = a->model->generation;
	int r;

	r = policy_pod_from_json(obj, &p, &err);
	if (note_rejected(c, obj, r < 0 ? err ?: strerror(-r) : NULL))
		log_warning("Rejected pod '%s/%s', its traffic is dropped both ways: %s",
			    kapi_obj_namespace(obj) ?: "", kapi_obj_name(obj) ?: "",
			    err ?: strerror(-r));
	if (r == 0 && p->bad_ip_annotation) {
		a->errors[ERR_INPUT]++;
		log_warning("Pod '%s/%s': annotation cni.projectcalico.org/podIPs '%s' is not a list "
			    "of addresses: ignored", p->ns, p->name,
			    kapi_obj_annotation(obj, "cni.projectcalico.org/podIPs"));
	}
	if (r == 0) {
		(void)policy_pod_verify_ips(p, addr_accept, a);
		report_refused(a, p);
	}
	if (r < 0) {
		/* Out of the model, its interface has no dispatch element: the
		 * base chains drop its traffic. */
		old = policy_model_del_pod(a->model, kapi_obj_namespace(obj) ?: "",
					   kapi_obj_name(obj) ?: "");
		if (old)
			pod_changed(a, gen0, old, NULL);
		policy_pod_free(old);
		return;
	}
	r = policy_model_set_pod(a->model, p, &old);
	if (r < 0) {
		log_error_errno(r, "Failed to add pod to the model: %m");
		a->have_desired = false;
		return;
	}
	pod_changed(a, gen0, old, policy_model_get_pod(a->model, p->ns, p->name));
	policy_pod_free(old);
}

static bool has_candidate_in(const struct policy_pod *p, const struct ipam_cidr *within)
{
	struct ipam_addr addr;

	for (size_t i = 0; i < p->n_ips + p->n_unverified; i++) {
		addr_of(&p->ips[i], &addr);
		if (ipam_cidr_contains(within, &addr))
			return true;
	}
	return false;
}

static int recheck_pod(struct felix_agent *a, const struct policy_pod *p)
{
	struct policy_pod *d = NULL, *old = NULL;
	uint64_t gen0 = a->model->generation;
	int r;

	r = policy_pod_dup(p, &d);
	if (r < 0)
		return r;
	if (!policy_pod_verify_ips(d, addr_accept, a)) {
		policy_pod_free(d);
		return 0;
	}
	log_debug("Pod '%s/%s': %zu of its %zu addresses are IPAM's", d->ns, d->name, d->n_ips,
		  d->n_ips + d->n_unverified);
	r = policy_model_set_pod(a->model, d, &old); /* @p comes back as @old */
	if (r < 0)
		return r;
	pod_changed(a, gen0, old, d);
	policy_pod_free(old);
	return 0;
}

/* Asks again which addresses pods may use: those claiming one inside
 * @within after its block changed (kubelet-reported ones need no block),
 * or every pod (@within NULL) after the pools changed. A pod whose
 * addresses change is replaced in the model like after a pod event. */
static void recheck_pods(struct felix_agent *a, const struct ipam_cidr *within)
{
	_cleanup_free_ struct policy_pod **todo = NULL;
	size_t it = 0, n = 0, cap = 0;
	struct policy_pod *p;
	int r = 0;

	while (r == 0 && policy_model_next_pod(a->model, &it, &p)) {
		if (p->n_ips + p->n_unverified == 0 ||
		    (within && (p->ips_reported || !has_candidate_in(p, within))))
			continue;
		if (n == cap) {
			struct policy_pod **v = realloc(todo, (cap = cap ? cap * 2 : 16) * sizeof(*v));

			if (!v) {
				r = -ENOMEM;
				break;
			}
			todo = v;
		}
		todo[n++] = p;
	}
	for (size_t i = 0; r == 0 && i < n; i++)
		r = recheck_pod(a, todo[i]);
	if (r < 0)
		log_error_errno(r, "Failed to check pod addresses against IPAM: %m");
}

/* An IPAMBlock changed: its allocations replace the old ones in the index. */
static void owners_set_block(struct felix_agent *a, json_t *obj)
{
	_cleanup_(ipam_block_freep) struct ipam_block *b = NULL;
	_cleanup_free_ char *err = NULL;
	const char *name = kapi_obj_name(obj) ?: "";
	struct ipam_cidr old;
	bool had = ipam_owners_del_block(a->owners, name, &old);
	int r;

	r = ipam_block_from_json(obj, &b, &err);
	if (r < 0) {
		a->errors[ERR_INPUT]++;
		log_warning_errno(r, "Ignoring IPAMBlock '%s' (its addresses are nobody's): %s", name,
				  err ?: "%m");
	} else if ((r = ipam_owners_set_block(a->owners, name, b)) < 0) {
		log_error_errno(r, "Failed to index IPAMBlock '%s' (its addresses are nobody's): %m",
				name);
	}
	if (b)
		recheck_pods(a, &b->cidr);
	if (had && (!b || !ipam_cidr_equal(&old, &b->cidr)))
		recheck_pods(a, &old);
}

static void owners_del_block(struct felix_agent *a, const char *name)
{
	struct ipam_cidr old;

	if (ipam_owners_del_block(a->owners, name, &old))
		recheck_pods(a, &old);
}

/* The IPPools changed: every pod's addresses are asked again. */
static void pools_reload(struct felix_agent *a)
{
	struct ipam_pools pools = {};
	json_t *obj;
	const char *key;

	json_object_foreach((json_t *)kinformer_cache(a->inf[INF_IPPOOLS]), key, obj) {
		struct ipam_pool p = {};
		struct ipam_pool *v;

		if (json_object_get(a->ctx[INF_IPPOOLS].invalid, key) ||
		    ipam_pool_from_json(obj, &p, NULL) < 0)
			continue;
		v = realloc(pools.items, (pools.n + 1) * sizeof(*v));
		if (!v) {
			ipam_pool_done(&p);
			break; /* fewer pools: fewer addresses, never more */
		}
		pools.items = v;
		pools.items[pools.n++] = p;
	}
	ipam_pools_done(&a->pools);
	a->pools = pools;
	recheck_pods(a, NULL);
}

static void model_set_netpol(struct inf_ctx *c, json_t *obj)
{
	struct felix_agent *a = c->a;
	_cleanup_free_ char *err = NULL;
	struct policy_netpol *p = NULL;
	int r;

	r = policy_netpol_from_json(obj, &p, &err);
	if (note_rejected(c, obj, r < 0 ? err ?: strerror(-r) : NULL))
		log_warning("Rejected NetworkPolicy '%s/%s', the pods it selects are isolated "
			    "and it allows nothing: %s",
			    kapi_obj_namespace(obj) ?: "", kapi_obj_name(obj) ?: "",
			    err ?: strerror(-r));
	/* Fail closed: a policy we cannot compile isolates what it selects. */
	if (r == -EINVAL)
		r = policy_netpol_deny_from_json(obj, &p);
	if (r < 0) {
		(void)policy_model_del_netpol(a->model, kapi_obj_namespace(obj) ?: "",
					      kapi_obj_name(obj) ?: "");
		return;
	}
	r = policy_model_set_netpol(a->model, p);
	if (r < 0)
		log_error_errno(r, "Failed to add NetworkPolicy to the model: %m");
}

static void model_set_ns(struct inf_ctx *c, json_t *obj)
{
	_cleanup_free_ char *err = NULL;
	struct policy_namespace *n = NULL;
	int r;

	r = policy_namespace_from_json(obj, &n, &err);
	if (note_rejected(c, obj, r < 0 ? err ?: strerror(-r) : NULL))
		log_warning("Rejected namespace '%s', selectors see only its name label: %s",
			    kapi_obj_name(obj) ?: "", err ?: strerror(-r));
	if (r == 0 && (r = policy_model_set_namespace(c->a->model, n)) < 0)
		log_error_errno(r, "Failed to add namespace to the model: %m");
}

/* Our CRD kinds: an object failing the validation calicoctl-c applies
 * (lib/crdvalid.h + IPAM's rules) is ignored, with one warning per change. */
static bool is_crd(enum inf_kind k)
{
	return k == INF_IPPOOLS || k == INF_AFFINITIES || k == INF_BGPCONFIGS ||
	       k == INF_BGPPEERS || k == INF_FELIXCONFIGS;
}

static void validate(struct inf_ctx *c, json_t *obj)
{
	_cleanup_free_ char *err = NULL;
	int r;

	r = crdvalid_check(inf_table[c->kind].name, obj, &ipam_crdvalid_ops, &err);
	if (note_rejected(c, obj, r == -EINVAL ? err ?: "invalid" : NULL))
		log_warning("Ignoring invalid object: %s", err ?: kapi_obj_name(obj) ?: "");
}

/* The informer's object, or NULL when it is invalid. */
static json_t *valid_get(struct felix_agent *a, enum inf_kind k, const char *name)
{
	if (json_object_get(a->ctx[k].invalid, name))
		return NULL;
	return kinformer_get(a->inf[k], NULL, name);
}

/* FelixConfiguration "default" and "node.<name>" -> a->rt, applied now. */
static void update_runtime(struct felix_agent *a)
{
	_cleanup_free_ char *node_key = NULL, *err = NULL;
	struct felix_runtime rt;
	json_t *g, *n;

	if (asprintf(&node_key, "node.%s", a->cfg->nodename) < 0)
		return;
	g = json_object_get(valid_get(a, INF_FELIXCONFIGS, "default"), "spec");
	n = json_object_get(valid_get(a, INF_FELIXCONFIGS, node_key), "spec");
	if (felix_config_runtime(a->cfg, g, n, &rt, &err) == -EINVAL) {
		a->errors[ERR_INPUT]++;
		log_warning("Ignoring a setting: %s", err);
	}
	if (rt.log_level != a->rt.log_level) {
		/* Said at the more verbose of the two levels, so it is seen. */
		if (rt.log_level > a->rt.log_level)
			log_set_level(rt.log_level);
		log_info("Log level %s -> %s (FelixConfiguration)",
			 log_level_to_string(a->rt.log_level), log_level_to_string(rt.log_level));
		log_set_level(rt.log_level);
	}
	if (rt.resync_ms != a->rt.resync_ms) {
		log_info("Route refresh interval %u ms -> %u ms (FelixConfiguration)",
			 a->rt.resync_ms, rt.resync_ms);
		evloop_timer_arm(a->resync, rt.resync_ms);
	}
	a->rt = rt;
}

static void on_set(struct kinformer *inf, json_t *obj, void *userdata)
{
	struct inf_ctx *c = userdata;

	(void)inf;
	if (is_crd(c->kind))
		validate(c, obj);
	if (c->kind == INF_FELIXCONFIGS) {
		update_runtime(c->a);
		return;
	}
	if (c->kind == INF_PODS)
		model_set_pod(c, obj);
	else if (c->kind == INF_NETPOLS)
		model_set_netpol(c, obj);
	else if (c->kind == INF_NAMESPACES)
		model_set_ns(c, obj);
	else if (c->kind == INF_BLOCKS)
		owners_set_block(c->a, obj);
	else if (c->kind == INF_IPPOOLS)
		pools_reload(c->a);
	schedule(c->a);
}

static void on_update(struct kinformer *inf, json_t *old, json_t *obj, void *userdata)
{
	(void)old;
	on_set(inf, obj, userdata);
}

static void on_delete(struct kinformer *inf, json_t *obj, void *userdata)
{
	struct inf_ctx *c = userdata;
	const char *ns = kapi_obj_namespace(obj) ?: "", *name = kapi_obj_name(obj) ?: "";
	char key[600];

	(void)inf;
	obj_key(obj, key, sizeof(key));
	(void)json_object_del(c->invalid, key);
	if (c->kind == INF_FELIXCONFIGS) {
		update_runtime(c->a);
		return;
	}
	if (c->kind == INF_PODS) {
		uint64_t gen0 = c->a->model->generation;
		struct policy_pod *old = policy_model_del_pod(c->a->model, ns, name);

		if (old)
			pod_changed(c->a, gen0, old, NULL);
		policy_pod_free(old);
	}
	else if (c->kind == INF_NETPOLS)
		(void)policy_model_del_netpol(c->a->model, ns, name);
	else if (c->kind == INF_NAMESPACES)
		(void)policy_model_del_namespace(c->a->model, name);
	else if (c->kind == INF_BLOCKS)
		owners_del_block(c->a, name);
	else if (c->kind == INF_IPPOOLS)
		pools_reload(c->a);
	schedule(c->a);
}

static bool all_synced(const struct felix_agent *a)
{
	for (int i = 0; i < _INF_MAX; i++)
		if (!kinformer_is_synced(a->inf[i]))
			return false;
	return true;
}

static void on_synced(struct kinformer *inf, void *userdata)
{
	struct inf_ctx *c = userdata;

	log_debug("Informer '%s' synced: %zu objects", inf_table[c->kind].name,
		  kinformer_size(inf));
	if (c->a->state == FELIX_SYNC_WAITING && all_synced(c->a)) {
		set_state(c->a, FELIX_SYNC_SYNCED);
		schedule(c->a);
	}
}

static void on_error(struct kinformer *inf, int error, const char *message, void *userdata)
{
	struct inf_ctx *c = userdata;

	(void)inf;
	c->a->errors[ERR_API]++;
	/* The informer retries with backoff; one line per failure is enough. */
	log_warning_errno(error, "Watch of %s failed (retrying): %s", inf_table[c->kind].name,
			  message && *message ? message : "%m");
}

static const struct kinformer_ops inf_ops = {
	.on_add = on_set,
	.on_update = on_update,
	.on_delete = on_delete,
	.on_synced = on_synced,
	.on_error = on_error,
};

/* ---- routes ---- */

struct ifaces {
	struct {
		char name[IFNAMSIZ];
		int ifindex;
	} v[4096];
	size_t n;
};

static int collect_link(const struct nl_link *l, void *userdata)
{
	struct ifaces *f = userdata;

	if (ifname_is_ours(l->name) && f->n < ELEMENTSOF(f->v)) {
		snprintf(f->v[f->n].name, IFNAMSIZ, "%s", l->name);
		f->v[f->n++].ifindex = l->ifindex;
	}
	return 0;
}

static int iface_index(const struct ifaces *f, const char *name)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->v[i].name, name) == 0)
			return f->v[i].ifindex;
	return 0;
}

struct route_vec {
	struct felix_route *v;
	size_t n, cap;
};

static int route_push(struct route_vec *rv, const struct felix_route *r)
{
	if (rv->n == rv->cap) {
		size_t nc = rv->cap ? rv->cap * 2 : 64;
		struct felix_route *v = realloc(rv->v, nc * sizeof(*v));

		if (!v)
			return -ENOMEM;
		rv->v = v;
		rv->cap = nc;
	}
	rv->v[rv->n++] = *r;
	return 0;
}

static int collect_route(const struct nl_route *r, void *userdata)
{
	struct felix_route fr = { .len = r->dst_len, .type = r->type, .oif = r->oif };

	if (r->family != AF_INET || r->table != RT_TABLE_MAIN)
		return 0;
	memcpy(&fr.dst, r->dst, 4);
	return route_push(userdata, &fr);
}

static bool parse_cidr4(const char *s, uint32_t *ret_addr, uint8_t *ret_len)
{
	struct policy_cidr c;

	if (!s || policy_cidr_parse(s, true, &c) < 0 || c.family != AF_INET)
		return false;
	memcpy(ret_addr, c.addr, 4);
	*ret_len = c.prefixlen;
	return true;
}

/* Confirmed, live blocks affine to this node. */
static int desired_blocks(struct felix_agent *a, struct route_vec *out)
{
	const char *key;
	json_t *obj;

	a->n_block_addrs = 0;
	json_object_foreach((json_t *)kinformer_cache(a->inf[INF_AFFINITIES]), key, obj) {
		if (json_object_get(a->ctx[INF_AFFINITIES].invalid, key))
			continue;
		json_t *spec = json_object_get(obj, "spec");
		const char *node = json_string_value(json_object_get(spec, "node"));
		const char *st = json_string_value(json_object_get(spec, "state"));
		const char *del = json_string_value(json_object_get(spec, "deleted"));
		struct felix_route r = { .type = RTN_BLACKHOLE };

		if (!node || strcmp(node, a->cfg->nodename) != 0 || !st ||
		    strcmp(st, "confirmed") != 0 || (del && strcmp(del, "true") == 0))
			continue;
		if (!parse_cidr4(json_string_value(json_object_get(spec, "cidr")), &r.dst, &r.len))
			continue;
		a->n_block_addrs += 1ul << (32 - r.len);
		if (route_push(out, &r) < 0)
			return -ENOMEM;
	}
	return 0;
}

static bool in_blocks(const struct route_vec *blocks, uint32_t addr)
{
	for (size_t i = 0; i < blocks->n; i++) {
		uint32_t mask = blocks->v[i].len ? htonl(~0u << (32 - blocks->v[i].len)) : 0;

		if ((addr & mask) == blocks->v[i].dst)
			return true;
	}
	return false;
}

/* /32 routes of local pods whose veth exists; @borrowed gets IPs outside
 * our blocks ("a.b.c.d/32", for BIRD's export filter) when non-NULL. */
static int desired_pod_routes(struct felix_agent *a, const struct ifaces *f,
			      const struct route_vec *blocks, struct route_vec *out,
			      json_t *borrowed)
{
	struct policy_pod *p;
	size_t it = 0;

	a->n_local = 0;
	while (policy_model_next_pod(a->model, &it, &p)) {
		if (!p->node || strcmp(p->node, a->cfg->nodename) != 0 || p->host_network)
			continue;
		for (size_t i = 0; i < p->n_ips; i++) {
			struct felix_route r = { .len = 32, .type = RTN_UNICAST };
			char text[INET_ADDRSTRLEN + 3];

			if (p->ips[i].family != AF_INET)
				continue;
			memcpy(&r.dst, p->ips[i].addr, 4);
			if (i == 0)
				a->n_local++;
			if (borrowed && !in_blocks(blocks, r.dst)) {
				inet_ntop(AF_INET, &r.dst, text, INET_ADDRSTRLEN);
				strcat(text, "/32");
				json_array_append_new(borrowed, json_string(text));
			}
			r.oif = iface_index(f, p->ifname);
			if (r.oif && route_push(out, &r) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

static int apply_route_ops(struct felix_agent *a, const struct route_op *ops, size_t n)
{
	int first = 0;

	for (size_t i = 0; i < n; i++) {
		struct nl_route r = { .family = AF_INET, .dst_len = ops[i].route.len,
				      .protocol = NL_RTPROT_CALICO, .type = ops[i].route.type,
				      .oif = ops[i].route.oif, .table = RT_TABLE_MAIN };
		char text[64];
		int e;

		memcpy(r.dst, &ops[i].route.dst, 4);
		r.scope = r.type == RTN_UNICAST ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
		e = ops[i].kind == ROUTE_OP_ADD ? nl_route_add(a->nl, &r) : nl_route_del(a->nl, &r);
		felix_route_to_string(&ops[i].route, text, sizeof(text));
		if (e < 0 && !(ops[i].kind == ROUTE_OP_DEL && e == -ESRCH)) {
			a->errors[ERR_ROUTE]++;
			log_warning_errno(e, "Failed to %s route %s: %s", ops[i].kind == ROUTE_OP_ADD ?
					  "add" : "delete", text, *nl_last_error(a->nl) ?
					  nl_last_error(a->nl) : "%m");
			if (!first)
				first = e;
			continue;
		}
		ops[i].kind == ROUTE_OP_ADD ? a->route_adds++ : a->route_dels++;
		log_info("Route %s %s", ops[i].kind == ROUTE_OP_ADD ? "programmed" : "removed", text);
	}
	return first;
}

static int reconcile_routes(struct felix_agent *a, json_t *borrowed)
{
	_cleanup_free_ struct ifaces *f = calloc(1, sizeof(*f));
	_cleanup_free_ struct route_op *ops = NULL;
	struct route_vec blocks = {}, want = {}, have = {};
	size_t n_ops = 0;
	int r;

	if (!f)
		return -ENOMEM;
	r = nl_link_list(a->nl, collect_link, f);
	if (r == 0)
		r = desired_blocks(a, &blocks);
	if (r == 0)
		r = desired_pod_routes(a, f, &blocks, &want, borrowed);
	a->n_routes_pod = want.n;
	a->n_routes_blackhole = blocks.n;
	for (size_t i = 0; r == 0 && i < blocks.n; i++)
		r = route_push(&want, &blocks.v[i]);
	if (r == 0)
		r = nl_route_list(a->nl, AF_INET, NL_RTPROT_CALICO, collect_route, &have);
	if (r == 0)
		r = routes_plan(want.v, want.n, have.v, have.n, &a->grace, evloop_now_ms(),
				a->cfg->route_grace_ms, &ops, &n_ops);
	if (r == 0)
		r = apply_route_ops(a, ops, n_ops);
	free(blocks.v);
	free(want.v);
	free(have.v);
	return r;
}

/* ---- policy ---- */

static void count_set_elems(struct felix_agent *a)
{
	const struct policy_nft *t = policy_desired_nft(a->desired);
	_cleanup_free_ const char **names = NULL;
	size_t n = 0;

	a->n_set_elems = 0;
	if (policy_nft_set_names(t, &names, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++)
		a->n_set_elems += policy_nft_set_size(policy_nft_set_get(t, names[i]));
}

static int reconcile_policy(struct felix_agent *a)
{
	struct policy_options o = { .table = a->cfg->nft_table, .nflog_group = -1 };
	_cleanup_(policy_nft_freep) struct policy_nft *obs = NULL;
	_cleanup_(policy_plan_freep) struct policy_plan *p = NULL;
	_cleanup_free_ char *err = NULL;
	int r;

	if (a->have_desired && a->desired_gen == a->model->generation && !a->policy_full)
		return 0; /* the incremental path kept the table current */
	if (!a->have_desired || a->desired_gen != a->model->generation) {
		a->desired = policy_desired_free(a->desired);
		a->have_desired = false;
		r = policy_compile(a->model, &o, &a->desired);
		if (r < 0)
			return log_error_errno(r, "Failed to compile policy: %m");
		a->desired_gen = a->model->generation;
		a->have_desired = true;
		count_set_elems(a);
	}
	r = policy_kernel_read(a->pk, o.table, &obs);
	if (r < 0)
		return log_error_errno(r, "Failed to read nftables table '%s': %m", o.table);
	r = policy_plan(obs, policy_desired_nft(a->desired), &p, &err);
	if (r < 0)
		return log_error_errno(r, "Failed to plan table '%s': %s", o.table,
				       err ? err : "%m");
	if (policy_plan_is_empty(p))
		return 0;
	r = policy_kernel_apply(a->pk, p, &err);
	if (r < 0)
		return log_error_errno(r, "Failed to apply policy to table '%s': %s", o.table,
				       err ? err : "%m");
	a->policy_batches++;
	log_info("Policy applied to table '%s': %zu operations (rules +%zu -%zu, elements +%zu "
		 "-%zu)", o.table, p->n_ops, policy_plan_count(p, POLICY_OP_RULE_ADD),
		 policy_plan_count(p, POLICY_OP_RULE_DEL),
		 policy_plan_count_elems(p, POLICY_OP_ELEM_ADD),
		 policy_plan_count_elems(p, POLICY_OP_ELEM_DEL));
	return 0;
}

/* ---- natOutgoing ---- */

static int reconcile_natout(struct felix_agent *a)
{
	_cleanup_free_ char *err = NULL;
	int r;

	r = natout_reconcile(a->natout, a->pk, kinformer_cache(a->inf[INF_IPPOOLS]),
			     a->ctx[INF_IPPOOLS].invalid, &err);
	if (r < 0)
		return log_error_errno(r, "Failed to apply natOutgoing: %s", err ? err : "%m");
	if (r > 0)
		a->policy_batches++;
	return 0;
}

/* ---- BIRD ---- */

/* The objects of informer @k, without the invalid ones. */
static json_t *cache_array(const struct felix_agent *a, enum inf_kind k)
{
	json_t *arr = json_array(), *obj;
	const char *key;

	json_object_foreach((json_t *)kinformer_cache(a->inf[k]), key, obj)
		if (!json_object_get(a->ctx[k].invalid, key))
			json_array_append(arr, obj);
	return arr;
}

static int bird_ensure_running(struct felix_agent *a)
{
	const struct felix_config *c = a->cfg;
	pid_t pid;

	if (!c->bird_start || birdproc_running(c->bird_pidfile, c->bird_binary, c->bird_socket))
		return 0;
	pid = birdproc_start(c->bird_binary, c->bird_config, c->bird_socket, c->bird_pidfile);
	if (pid < 0)
		return log_error_errno(pid, "Failed to start BIRD '%s' with '%s': %m",
				       c->bird_binary, c->bird_config);
	log_info("Started BIRD, pid %d (pid file '%s')", (int)pid, c->bird_pidfile);
	a->bird_reload_pending = false; /* it read the current file */
	return 0;
}

static int bird_render(struct felix_agent *a, json_t *borrowed, char **ret_text)
{
	struct birdcfg_input in = {
		.node = a->cfg->nodename,
		.nodes = cache_array(a, INF_NODES),
		.bgpconfigurations = cache_array(a, INF_BGPCONFIGS),
		.bgppeers = cache_array(a, INF_BGPPEERS),
		.secrets = cache_array(a, INF_SECRETS),
		.ippools = cache_array(a, INF_IPPOOLS),
		.blockaffinities = cache_array(a, INF_AFFINITIES),
		.borrowed = borrowed,
		.connect_retry_s = a->cfg->bird_connect_retry_s,
	};
	struct birdcfg_errors errs = {};
	_cleanup_free_ char *skipped = NULL;
	size_t len = 0;
	FILE *f;
	int r;

	r = birdcfg_render(&in, ret_text, &errs);
	/* Bad objects (a BGPPeer with a bad peerIP...) are skipped; warn once
	 * per change of that list, not on every reconcile. */
	f = open_memstream(&skipped, &len);
	for (size_t i = 0; f && i < errs.n; i++)
		fprintf(f, "%s\n", errs.msgs[i]);
	if (f)
		fclose(f);
	if (skipped && strcmp(skipped, a->bird_skipped ?: "") != 0) {
		for (size_t i = 0; i < errs.n; i++)
			log_warning("BIRD config: skipped %s", errs.msgs[i]);
		free(a->bird_skipped);
		a->bird_skipped = TAKE_PTR(skipped);
	}
	birdcfg_errors_done(&errs);
	json_decref(in.nodes);
	json_decref(in.bgpconfigurations);
	json_decref(in.bgppeers);
	json_decref(in.secrets);
	json_decref(in.ippools);
	json_decref(in.blockaffinities);
	return r;
}

static int reconcile_bird(struct felix_agent *a, json_t *borrowed)
{
	const struct felix_config *c = a->cfg;
	_cleanup_free_ char *text = NULL, *msg = NULL;
	bool changed = false, reloaded = false;
	int r;

	r = bird_render(a, borrowed, &text);
	if (r == -ENOENT) {
		if (!a->bird_no_address)
			log_info("BIRD config waits for Node '%s' to carry its IPv4 address",
				 c->nodename);
		a->bird_no_address = true;
		return r;
	}
	if (r < 0)
		return log_error_errno(r, "Failed to render the BIRD config: %m");
	a->bird_no_address = false;
	if (a->bird_text && strcmp(a->bird_text, text) == 0 && !a->bird_reload_pending &&
	    (!c->bird_start || birdproc_running(c->bird_pidfile, c->bird_binary, c->bird_socket)))
		return 0;
	r = birdcfg_apply(c->bird_config, text, c->bird_binary, c->bird_socket, &changed, &msg);
	if (r == -EINVAL)
		return log_error_errno(r, "BIRD rejected the rendered config: %s", msg ? msg : "");
	if (r < 0 && r != -ENOENT && r != -ECONNREFUSED)
		return log_error_errno(r, "Failed to install the BIRD config '%s': %m",
				       c->bird_config);
	if (r < 0 || (!changed && a->bird_reload_pending) ||
	    (c->bird_start && !birdproc_running(c->bird_pidfile, c->bird_binary, c->bird_socket))) {
		/* File is current; BIRD is down (or died) or missed a reload. */
		a->bird_reload_pending = true;
		r = bird_ensure_running(a);
		if (r == 0 && a->bird_reload_pending)
			r = birdctl_command(c->bird_socket, "configure", NULL);
		if (r < 0)
			return log_warning_errno(r, "BIRD not reachable at '%s' (will retry): %m",
						 c->bird_socket);
		a->bird_reload_pending = false;
		reloaded = true;
	}
	if (changed || reloaded) { /* readiness waits for a status of the new peers */
		a->bird_status_fresh = false;
		evloop_timer_arm(a->status_timer, 0);
	}
	if (changed)
		log_info("BIRD config '%s' updated and reloaded", c->bird_config);
	free(a->bird_text);
	a->bird_text = TAKE_PTR(text);
	return 0;
}

/* ---- reconcile ---- */

static void observe(struct metrics_hist *h, double t0)
{
	metrics_hist_observe(h, now_s() - t0);
}

static void reconcile(struct felix_agent *a)
{
	json_t *borrowed = json_array();
	int r_routes, r_policy, r_nat, r_bird;
	double t0;

	if (a->state == FELIX_SYNC_WAITING || !borrowed) {
		json_decref(borrowed);
		return;
	}
	a->reconciles++;
	t0 = now_s();
	r_routes = reconcile_routes(a, borrowed);
	observe(&a->h_routes, t0);
	if (r_routes < 0)
		a->errors[ERR_ROUTE]++;
	t0 = now_s();
	r_policy = reconcile_policy(a);
	a->policy_full = r_policy < 0;
	observe(&a->h_policy, t0);
	if (r_policy < 0)
		a->errors[ERR_POLICY]++;
	r_nat = reconcile_natout(a);
	if (r_nat < 0)
		a->errors[ERR_NAT]++;
	t0 = now_s();
	r_bird = reconcile_bird(a, borrowed);
	observe(&a->h_bird, t0);
	if (r_bird < 0 && r_bird != -ENOENT)
		a->errors[ERR_BIRD]++;
	json_decref(borrowed);
	a->last_apply_ok = r_routes == 0 && r_policy == 0 && r_nat == 0;
	if (a->last_apply_ok) {
		bool first = a->state != FELIX_SYNC_APPLIED && !a->last_ok_ms;

		a->last_ok_ms = evloop_now_ms();
		set_state(a, FELIX_SYNC_APPLIED);
		if (first)
			(void)malloc_trim(0); /* the initial LISTs' pages are freed by now */
	} else {
		set_state(a, FELIX_SYNC_SYNCED);
	}
	if (!a->last_apply_ok || r_bird < 0) /* retry soon, not at the next resync */
		evloop_timer_arm(a->debounce, 1000);
}

static void on_debounce(struct evloop_timer *t, void *userdata)
{
	(void)t;
	reconcile(userdata);
}

static void on_resync(struct evloop_timer *t, void *userdata)
{
	struct felix_agent *a = userdata;

	a->resyncs++;
	a->policy_full = true;
	natout_mark_dirty(a->natout);
	reconcile(a);
	(void)malloc_trim(0); /* relists and full compiles leave freed heap behind */
	evloop_timer_arm(t, a->rt.resync_ms);
}

/* Within BirdReadyThreshold of felix-c's start (felix-c/bgpready.h). */
static bool in_bird_threshold(const struct felix_agent *a)
{
	return evloop_now_ms() - a->start_ms < a->cfg->bird_ready_threshold_ms;
}

/* BGP sessions as Calico's bird-ready wants them (felix-c/bgpready.h). */
static bool bgp_ready(const struct felix_agent *a, struct metrics_buf *why)
{

	if (!a->bird_status_fresh) {
		if (why)
			metrics_printf(why, "BGP sessions not read since BIRD's config was loaded\n");
		return false;
	}
	return bgpready_check(&a->bird_status, a->bird_gr, in_bird_threshold(a), why);
}

static void on_bird_status(struct evloop_timer *t, void *userdata)
{
	struct felix_agent *a = userdata;
	struct birdctl_status st = {};
	_cleanup_free_ char *status = NULL;
	bool was = a->bird_up;

	a->bird_up = birdctl_show_protocols(a->cfg->bird_socket, &st) == 0 &&
		     birdctl_command(a->cfg->bird_socket, "show status", &status) >= 0;
	birdctl_status_done(&a->bird_status);
	a->bird_status = st;
	a->bird_gr = bgpready_gr_recovery(status);
	a->bird_status_fresh = a->bird_up;
	a->bgp_established = a->bgp_total = 0;
	for (size_t i = 0; i < st.n; i++) {
		if (strcmp(st.protos[i].proto, "BGP") != 0)
			continue;
		a->bgp_total++;
		if (strcmp(st.protos[i].info, "Established") == 0)
			a->bgp_established++;
	}
	if (was != a->bird_up)
		log_info("BIRD control socket '%s' %s", a->cfg->bird_socket,
			 a->bird_up ? "answers" : "does not answer");
	if (!a->bird_up && a->state != FELIX_SYNC_WAITING && a->cfg->bird_start)
		schedule(a); /* restarts BIRD if it died */
	/* Quick while BIRD or, after a start, its sessions come up, so that
	 * readiness follows them. */
	evloop_timer_arm(t, !a->bird_up || (!bgp_ready(a, NULL) && in_bird_threshold(a)) ? 250 : 2000);
}

/* ---- health and metrics ---- */

static bool is_ready(const struct felix_agent *a, struct metrics_buf *why)
{
	struct felix_worker_status ws = {};
	bool ok = true;

	/* Registration, MTU file and default pool first: a pod wired before
	 * them would find no pool. */
	if (a->worker)
		felix_worker_snapshot(a->worker, &ws);
	if (!ws.startup_done) {
		metrics_printf(why, "startup (node address, MTU, default pool) not done\n");
		ok = false;
	}
	if (a->state != FELIX_SYNC_APPLIED) {
		metrics_printf(why, "sync state %s\n", sync_names[a->state]);
		ok = false;
	}
	if (!a->bird_up) {
		metrics_printf(why, "BIRD control socket does not answer\n");
		ok = false;
	}
	if (!a->bird_text || a->bird_reload_pending) {
		metrics_printf(why, "BIRD config not loaded\n");
		ok = false;
	}
	if (a->bird_up && !bgp_ready(a, why))
		ok = false;
	return ok;
}

static int health_handler(const char *path, struct metrics_buf *body, const char **ret_type,
			  void *userdata)
{
	struct felix_agent *a = userdata;

	(void)ret_type;
	if (strcmp(path, "/liveness") == 0) {
		metrics_printf(body, "ok\n");
		return 200;
	}
	if (strcmp(path, "/readiness") == 0) {
		if (!is_ready(a, body))
			return 503;
		metrics_printf(body, "ready\n");
		return 200;
	}
	metrics_printf(body, "not found\n");
	return 404;
}

static void gauge(struct metrics_buf *b, const char *name, const char *help, double v)
{
	metrics_header(b, name, "gauge", help);
	metrics_sample(b, name, NULL, 0, v);
}

static void counter(struct metrics_buf *b, const char *name, const char *help, double v)
{
	metrics_header(b, name, "counter", help);
	metrics_sample(b, name, NULL, 0, v);
}

static void write_informers(const struct felix_agent *a, struct metrics_buf *b)
{
	metrics_header(b, "felix_c_informer_objects", "gauge", "Objects in each watch cache.");
	for (int i = 0; i < _INF_MAX; i++) {
		const char *l[2] = { "resource", inf_table[i].name };
		metrics_sample(b, "felix_c_informer_objects", l, 1, kinformer_size(a->inf[i]));
	}
	metrics_header(b, "felix_c_informer_lists_total", "counter",
		       "Complete LISTs per resource (1 + relists).");
	for (int i = 0; i < _INF_MAX; i++) {
		const char *l[2] = { "resource", inf_table[i].name };
		metrics_sample(b, "felix_c_informer_lists_total", l, 1, kinformer_lists(a->inf[i]));
	}
}

static void write_bgp(const struct felix_agent *a, struct metrics_buf *b)
{
	static const char *const states[] = { "Established", "Active", "Connect", "Idle",
					      "OpenSent", "OpenConfirm", "other" };
	unsigned counts[ELEMENTSOF(states)] = {};

	for (size_t i = 0; i < a->bird_status.n; i++) {
		const struct birdctl_proto *p = &a->bird_status.protos[i];
		size_t k;

		if (strcmp(p->proto, "BGP") != 0)
			continue;
		for (k = 0; k + 1 < ELEMENTSOF(states) && strcmp(p->info, states[k]) != 0; k++)
			;
		counts[k]++;
	}
	gauge(b, "felix_c_bird_up", "1 when BIRD's control socket answers.", a->bird_up);
	metrics_header(b, "felix_c_bgp_peers", "gauge", "BGP sessions by state.");
	for (size_t k = 0; k < ELEMENTSOF(states); k++) {
		const char *l[2] = { "state", states[k] };
		metrics_sample(b, "felix_c_bgp_peers", l, 1, counts[k]);
	}
}

static void write_worker(const struct felix_agent *a, struct metrics_buf *b)
{
	struct felix_worker_status w = {};

	if (a->worker)
		felix_worker_snapshot(a->worker, &w);
	gauge(b, "felix_c_startup_done", "1 once the node is registered.", w.startup_done);
	gauge(b, "felix_c_ipam_gc_leader", "1 while this node holds the IPAM GC lease.", w.leader);
	counter(b, "felix_c_ipam_gc_runs_total", "IPAM GC passes.", w.gc_runs);
	counter(b, "felix_c_ipam_gc_errors_total", "Failed IPAM GC passes.", w.gc_errors);
	gauge(b, "felix_c_ipam_gc_leaks_seen", "Leaked allocations seen by the last pass.",
	      w.gc_leaks_seen);
	counter(b, "felix_c_ipam_gc_released_addresses_total", "Addresses released by GC.",
		w.gc_addrs_released);
	gauge(b, "felix_c_ipam_block_addresses", "Addresses in blocks affine to this node.",
	      (double)a->n_block_addrs);
	gauge(b, "felix_c_ipam_used_addresses", "Local pods with an IPv4 address.",
	      (double)a->n_local);
	gauge(b, "felix_c_mtu", "MTU written to the MTU file.", w.mtu);
}

static void write_cnisvc(const struct felix_agent *a, struct metrics_buf *b)
{
	struct felix_cnisvc_stats s = {};

	if (a->cnisvc)
		felix_cnisvc_stats(a->cnisvc, &s);
	gauge(b, "felix_c_cni_service_up", "1 while the CNI service listens.", a->cnisvc != NULL);
	counter(b, "felix_c_cni_ipam_calls_total", "calico-c-ipam calls served.", s.ipam_calls);
	counter(b, "felix_c_cni_ipam_failed_total", "Served calico-c-ipam calls that failed.",
		s.ipam_failed);
	counter(b, "felix_c_cni_pod_calls_total", "calico-c Kubernetes calls served.", s.pod_calls);
	counter(b, "felix_c_cni_pod_failed_total", "Served calico-c Kubernetes calls that failed.",
		s.pod_failed);
	counter(b, "felix_c_cni_bad_requests_total", "Unreadable CNI service requests.",
		s.bad_requests);
	counter(b, "felix_c_cni_cached_reads_total",
		"CNI service reads answered from felix-c's informers.",
		(double)atomic_load(&a->cni_cached_reads));
}

static void write_metrics(const struct felix_agent *a, struct metrics_buf *b)
{
	gauge(b, "felix_c_synced", "1 once every watch has listed.", a->state != FELIX_SYNC_WAITING);
	gauge(b, "felix_c_dataplane_applied", "1 when the last apply succeeded.",
	      a->state == FELIX_SYNC_APPLIED);
	write_informers(a, b);
	metrics_header(b, "felix_c_rejected_objects", "gauge",
		       "Objects rejected as invalid or over a limit, by kind (fail closed).");
	for (int i = 0; i < _INF_MAX; i++)
		metrics_sample(b, "felix_c_rejected_objects",
			       (const char *[]){ "kind", inf_table[i].name }, 1,
			       (double)json_object_size(a->ctx[i].invalid));
	gauge(b, "felix_c_local_endpoints", "Local pods with an IP.", (double)a->n_local);
	gauge(b, "felix_c_network_policies", "NetworkPolicies in the model.",
	      (double)a->model->netpols.n_items);
	gauge(b, "felix_c_pods", "Pods in the model (all nodes).", (double)a->model->pods.n_items);
	gauge(b, "felix_c_nft_set_elements", "Elements in our nftables sets (desired).",
	      (double)a->n_set_elems);
	metrics_header(b, "felix_c_routes", "gauge", "Routes we program, by type.");
	metrics_sample(b, "felix_c_routes", (const char *[]){ "type", "pod" }, 1,
		       (double)a->n_routes_pod);
	metrics_sample(b, "felix_c_routes", (const char *[]){ "type", "blackhole" }, 1,
		       (double)a->n_routes_blackhole);
	counter(b, "felix_c_route_adds_total", "Routes added or replaced.", a->route_adds);
	counter(b, "felix_c_route_dels_total", "Routes deleted.", a->route_dels);
	counter(b, "felix_c_policy_batches_total", "nftables batches committed.", a->policy_batches);
	counter(b, "felix_c_reconciles_total", "Reconcile passes.", a->reconciles);
	counter(b, "felix_c_resyncs_total", "Periodic resyncs.", a->resyncs);
	metrics_hist_write(b, "felix_c_route_apply_seconds", "Route reconcile duration.",
			   &a->h_routes);
	metrics_hist_write(b, "felix_c_policy_apply_seconds", "Policy reconcile duration.",
			   &a->h_policy);
	metrics_hist_write(b, "felix_c_bird_apply_seconds", "BIRD reconcile duration.",
			   &a->h_bird);
	metrics_header(b, "felix_c_errors_total", "counter", "Errors by kind.");
	for (int i = 0; i < _ERR_MAX; i++)
		metrics_sample(b, "felix_c_errors_total", (const char *[]){ "kind", err_names[i] },
			       1, a->errors[i]);
	write_bgp(a, b);
	write_worker(a, b);
	write_cnisvc(a, b);
}

static int metrics_handler(const char *path, struct metrics_buf *body, const char **ret_type,
			   void *userdata)
{
	if (strcmp(path, "/metrics") != 0) {
		metrics_printf(body, "not found\n");
		return 404;
	}
	*ret_type = "text/plain; version=0.0.4; charset=utf-8";
	write_metrics(userdata, body);
	return 200;
}

/* ---- lifecycle ---- */

/* What the caches keep. Pods dominate memory at scale (10,000 full Pod
 * objects are ~20 KiB each in jansson): keep only what the policy model
 * reads (policy/model.c). Everything else only loses managedFields. */
static json_t *trim_ports(json_t *containers)
{
	json_t *out = json_array(), *c;
	size_t i;

	json_array_foreach(containers, i, c) {
		json_t *ports = json_object_get(c, "ports");

		if (ports && json_array_append_new(out, json_pack("{s:O}", "ports", ports)) < 0)
			return json_decref(out), NULL;
	}
	return out;
}

static json_t *trim_pod(json_t *pod)
{
	json_t *meta = json_object_get(pod, "metadata"), *spec = json_object_get(pod, "spec");
	json_t *status = json_object_get(pod, "status");
	json_t *ann = json_object_get(meta, "annotations"), *keep_ann = json_object();
	static const char *const keys[] = { "cni.projectcalico.org/podIP",
					    "cni.projectcalico.org/podIPs" };

	for (size_t i = 0; keep_ann && i < ELEMENTSOF(keys); i++)
		if (json_object_get(ann, keys[i]))
			json_object_set(keep_ann, keys[i], json_object_get(ann, keys[i]));
	return json_pack("{s:{s:O*,s:O*,s:O*,s:O*,s:o*},s:{s:O*,s:O*,s:o*,s:o*},"
			 "s:{s:O*,s:O*,s:O*}}",
			 "metadata", "name", json_object_get(meta, "name"), "namespace",
			 json_object_get(meta, "namespace"), "resourceVersion",
			 json_object_get(meta, "resourceVersion"), "labels",
			 json_object_get(meta, "labels"), "annotations", keep_ann,
			 "spec", "nodeName", json_object_get(spec, "nodeName"), "hostNetwork",
			 json_object_get(spec, "hostNetwork"), "containers",
			 trim_ports(json_object_get(spec, "containers")), "initContainers",
			 trim_ports(json_object_get(spec, "initContainers")),
			 "status", "phase", json_object_get(status, "phase"), "podIP",
			 json_object_get(status, "podIP"), "podIPs", json_object_get(status, "podIPs"));
}

static json_t *trim_managed_fields(json_t *obj)
{
	json_t *out = json_deep_copy(obj);

	(void)json_object_del(json_object_get(out, "metadata"), "managedFields");
	return out;
}

static int start_informers(struct felix_agent *a)
{
	struct kinformer_opts o = { .backoff_min_ms = 250, .backoff_max_ms = 5000 };

	for (int i = 0; i < _INF_MAX; i++) {
		o.transform = i == INF_PODS ? trim_pod : i == INF_BLOCKS ? NULL : trim_managed_fields;
		/* The policy model is the pods' copy, the owner index the blocks'. */
		o.cache_keys_only = i == INF_PODS || i == INF_BLOCKS;
		/* A block is ~15 KB of JSON: fewer per LIST page, a lower peak. */
		o.page_size = i == INF_BLOCKS ? 50 : 0;
		const char *ns = i == INF_SECRETS ? a->cfg->secrets_namespace : NULL;
		_cleanup_free_ char *path = kapi_path(inf_table[i].res, ns, NULL, NULL);
		int r;

		if (!path)
			return -ENOMEM;
		a->ctx[i] = (struct inf_ctx){ a, i, json_object() };
		if (!a->ctx[i].invalid)
			return -ENOMEM;
		r = kinformer_new(a->k, a->loop, path, &o, &inf_ops, &a->ctx[i], &a->inf[i]);
		if (r < 0)
			return log_error_errno(r, "Failed to watch %s: %m", inf_table[i].name);
	}
	return 0;
}

/* ---- the CNI service's cached reads ----
 * What a calico-c-ipam ADD reads with "?resourceVersion=0" (any recent
 * copy): the namespace's pool annotations, the IP pools, the node's block
 * affinities. Our informers hold them as fresh as the apiserver's watch
 * cache does, so the service's threads read them here (kinformer_copy() is
 * thread-safe) and save a request each. Anything else, or an object our
 * informer has not seen, goes to the apiserver. */
static const enum inf_kind cni_read_kinds[] = { INF_NAMESPACES, INF_IPPOOLS, INF_AFFINITIES };

/* The informer of the collection @path; *@name: the rest ("" for the
 * collection itself). NULL: none of ours. */
static struct kinformer *cni_read_informer(struct felix_agent *a, const char *path,
					   const char **name)
{
	for (size_t i = 0; i < ELEMENTSOF(cni_read_kinds); i++) {
		enum inf_kind k = cni_read_kinds[i];
		_cleanup_free_ char *coll = kapi_path(inf_table[k].res, NULL, NULL, NULL);
		size_t n = coll ? strlen(coll) : 0;

		if (n && strncmp(path, coll, n) == 0 && (path[n] == '\0' || path[n] == '/')) {
			*name = path[n] ? path + n + 1 : "";
			return a->inf[k];
		}
	}
	return NULL;
}

static int cni_read_get(void *ctx, const char *path, json_t **ret)
{
	struct felix_agent *a = ctx;
	const char *name;
	struct kinformer *inf = cni_read_informer(a, path, &name);
	int r;

	if (!inf || !*name || strchr(name, '/'))
		return -EAGAIN;
	r = kinformer_copy(inf, NULL, name, ret);
	if (r == -ENOENT)
		return -EAGAIN; /* not seen yet: maybe created a moment ago */
	if (r >= 0)
		atomic_fetch_add(&a->cni_cached_reads, 1);
	return r;
}

struct label_eq {
	char key[256];
	const char *value;
};

static bool label_eq_matches(const json_t *obj, void *data)
{
	const struct label_eq *l = data;
	const json_t *labels = json_object_get(json_object_get(obj, "metadata"), "labels");
	const char *v = json_string_value(json_object_get(labels, l->key));

	return !*l->key || (v && strcmp(v, l->value) == 0);
}

/* Only the selectors IPAM uses: none, or "key=value". */
static int cni_read_list(void *ctx, const char *path, const char *label_selector,
			 json_t **ret_items)
{
	struct felix_agent *a = ctx;
	struct label_eq l = { .value = "" };
	const char *name, *eq;
	struct kinformer *inf = cni_read_informer(a, path, &name);
	int r;

	if (!inf || *name)
		return -EAGAIN;
	if (label_selector) {
		eq = strchr(label_selector, '=');
		if (!eq || eq == label_selector || (size_t)(eq - label_selector) >= sizeof(l.key) ||
		    strpbrk(label_selector, ",!() ") || strchr(eq + 1, '='))
			return -EAGAIN;
		memcpy(l.key, label_selector, (size_t)(eq - label_selector));
		l.value = eq + 1;
	}
	r = kinformer_copy_matching(inf, label_eq_matches, &l, ret_items);
	if (r >= 0)
		atomic_fetch_add(&a->cni_cached_reads, 1);
	return r;
}

static int start_http(struct felix_agent *a)
{
	const struct felix_config *c = a->cfg;
	int r;

	if (c->health_enabled) {
		r = httpd_new(a->loop, c->health_host, c->health_port, health_handler, a, &a->health);
		if (r < 0)
			return log_error_errno(r, "Failed to serve health on %s:%u: %m",
					       c->health_host, c->health_port);
	}
	if (c->metrics_enabled) {
		r = httpd_new(a->loop, c->metrics_host, c->metrics_port, metrics_handler, a,
			      &a->metrics);
		if (r < 0)
			return log_error_errno(r, "Failed to serve metrics on %s:%u: %m",
					       c->metrics_host, c->metrics_port);
	}
	return 0;
}

static int start_timers(struct felix_agent *a)
{
	if (evloop_timer_add(a->loop, on_debounce, a, &a->debounce) < 0 ||
	    evloop_timer_add(a->loop, on_resync, a, &a->resync) < 0 ||
	    evloop_timer_add(a->loop, on_bird_status, a, &a->status_timer) < 0)
		return -ENOMEM;
	evloop_timer_arm(a->resync, a->rt.resync_ms);
	evloop_timer_arm(a->status_timer, 100);
	return 0;
}

/* natOutgoing's table is named after policy's. */
static int new_natout(struct felix_agent *a)
{
	_cleanup_free_ char *table = NULL;

	if (asprintf(&table, "%s-nat", a->cfg->nft_table) < 0)
		return -ENOMEM;
	return natout_new(table, &a->natout);
}

int felix_agent_new(const struct felix_config *cfg, const struct kapi_config *kc,
		    struct evloop *loop, struct felix_agent **ret)
{
	struct felix_agent *a = calloc(1, sizeof(*a));
	int r, k;

	if (!a)
		return -ENOMEM;
	a->cfg = cfg;
	a->loop = loop;
	a->rt = (struct felix_runtime){ .log_level = cfg->log_level, .resync_ms = cfg->resync_ms };
	a->policy_full = true;
	a->start_ms = evloop_now_ms();
	a->h_routes = a->h_policy = a->h_bird =
		(struct metrics_hist){ .bounds = apply_bounds, .n_bounds = ELEMENTSOF(apply_bounds) };
	r = policy_model_new(cfg->nodename, &a->model);
	if (r == 0)
		r = ipam_owners_new(&a->owners);
	if (r == 0 && (r = nl_open(&a->nl)) < 0)
		log_error_errno(r, "Failed to open rtnetlink: %m");
	if (r == 0 && (r = policy_kernel_open(&a->pk)) < 0)
		log_error_errno(r, "Failed to open the nftables socket: %m");
	if (r == 0)
		r = new_natout(a);
	if (r == 0 && (r = kapi_new(kc, &a->k)) < 0)
		log_error_errno(r, "Failed to create the API client: %m");
	if (r == 0)
		r = start_http(a);
	if (r == 0)
		r = start_timers(a);
	if (r == 0)
		r = start_informers(a);
	if (r == 0 && (r = felix_worker_start(cfg, kc, &a->worker)) < 0)
		log_error_errno(r, "Failed to start the worker thread: %m");
	/* Without the service the plugins do their own API calls: slower, same result. */
	a->cni_reader = (struct kapi_reader){ cni_read_get, cni_read_list, a };
	if (r == 0 && (k = felix_cnisvc_start(cfg, kc, &a->cni_reader, &a->cnisvc)) < 0)
		log_warning_errno(k, "CNI service off, cannot listen on '%s': %m", cfg->cni_socket);
	if (r < 0) {
		felix_agent_free(a);
		return r;
	}
	log_info("felix-c for node '%s': watching %d resources; dataplane untouched until synced",
		 cfg->nodename, _INF_MAX);
	*ret = a;
	return 0;
}

struct felix_agent *felix_agent_free(struct felix_agent *a)
{
	if (!a)
		return NULL;
	a->cnisvc = felix_cnisvc_stop(a->cnisvc);
	a->worker = felix_worker_stop(a->worker);
	for (int i = 0; i < _INF_MAX; i++) {
		a->inf[i] = kinformer_free(a->inf[i]);
		json_decref(a->ctx[i].invalid);
	}
	a->health = httpd_free(a->health);
	a->metrics = httpd_free(a->metrics);
	evloop_timer_free(a->debounce);
	evloop_timer_free(a->resync);
	evloop_timer_free(a->status_timer);
	kapi_free(a->k);
	policy_desired_free(a->desired);
	policy_model_free(a->model);
	ipam_owners_free(a->owners);
	ipam_pools_done(&a->pools);
	policy_kernel_close(a->pk);
	natout_free(a->natout);
	nl_free(a->nl);
	route_grace_done(&a->grace);
	birdctl_status_done(&a->bird_status);
	free(a->bird_text);
	free(a->bird_skipped);
	free(a);
	return NULL;
}
