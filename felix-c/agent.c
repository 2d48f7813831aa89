/* The felix-c agent (see agent.h): the wiring.
 *
 * Informers keep the API caches, the policy model (pods, namespaces,
 * policies) and IPAM's owner index current. A reconcile computes the
 * desired state once (felix_desired_build(), felix-c/manager.h) and hands
 * it to the dataplane managers in turn: routes, policy, NAT (natOutgoing
 * and hostPort), BIRD.
 * Each owns its observed state and plan. Events arm a short debounce timer,
 * so a burst of changes costs one reconcile; a periodic resync makes every
 * manager read its dataplane back and repair drift made behind our back.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <net/if.h>
#include <linux/rtnetlink.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "array.h"
#include "cleanup.h"
#include "crdvalid.h"
#include "evloop.h"
#include "felix-c/agent.h"
#include "felix-c/birdmgr.h"
#include "felix-c/cnisvc.h"
#include "felix-c/config.h"
#include "felix-c/hollow.h"
#include "httpd.h"
#include "felix-c/manager.h"
#include "metrics.h"
#include "felix-c/natmgr.h"
#include "podtrim.h"
#include "felix-c/policymgr.h"
#include "felix-c/routemgr.h"
#include "felix-c/typhaclient.h"
#include "felix-c/worker.h"
#include "ipam/block.h"
#include "ipam/ipam.h"
#include "ipam/owners.h"
#include "ifname.h"
#include "kapi.h"
#include "kinformer.h"
#include "log.h"
#include "nl.h"
#include "policy/calico.h"
#include "policy/cnp.h"
#include "policy/kernel.h"
#include "policy/model.h"
#include "synckinds.h"


/* The informers whose objects reach the managers as they are. */
static const enum sync_kind objs_inf[_FELIX_OBJS_MAX] = {
	[FELIX_OBJS_NODES] = SYNC_NODES,
	[FELIX_OBJS_BGPCONFIGS] = SYNC_BGPCONFIGS,
	[FELIX_OBJS_BGPPEERS] = SYNC_BGPPEERS,
	[FELIX_OBJS_BGPFILTERS] = SYNC_BGPFILTERS,
	[FELIX_OBJS_SERVICES] = SYNC_SERVICES,
	[FELIX_OBJS_ENDPOINTSLICES] = SYNC_ENDPOINTSLICES,
	[FELIX_OBJS_SECRETS] = SYNC_SECRETS,
	[FELIX_OBJS_IPPOOLS] = SYNC_IPPOOLS,
};

/* Errors the agent itself counts; the managers count theirs. */
enum err_kind { ERR_API, ERR_INPUT, _ERR_MAX };
static const char *const err_names[_ERR_MAX] = { "api", "input" };

/* The managers, in the order a reconcile applies them. */
enum mgr_kind { MGR_ROUTES, MGR_POLICY, MGR_NAT, MGR_BIRD, _MGR_MAX };

static const double apply_bounds[] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
				       0.1,   0.25,	0.5,   1,    2.5,   5 };

struct inf_ctx {
	struct felix_agent *a;
	enum sync_kind kind;
	json_t *invalid; /* rejected objects: name (ns/name) -> why */
	uint64_t gen;	 /* bumped by every event */
};

/* One per process; owned by main(). */
struct felix_agent {
	const struct felix_config *cfg; /* borrowed */
	struct evloop *loop;		/* borrowed */
	struct kapi *k;
	struct kinformer *inf[_SYNC_KIND_MAX];
	struct felix_typha *typha;	/* NULL: no TyphaAddr, the informers watch */
	struct inf_ctx ctx[_SYNC_KIND_MAX];
	enum felix_sync_state state;

	struct policy_model *model;	/* fed by the pod/namespace/policy informers */
	struct ipam_owners *owners;	/* who IPAM gave each address (IPAMBlocks) */
	struct ipam_pools pools;	/* the valid IPPools */
	struct nl *nl;			/* the route manager's socket */
	struct policy_kernel *pk;	/* the policy and nat managers' socket */
	struct felix_hollow *hollow;	/* Hollow: the managers' seams instead of nl/pk */
	struct felix_manager *mgr[_MGR_MAX];
	struct felix_desired desired;	/* of the last reconcile, handed to mgr[] */

	struct evloop_timer *debounce, *resync;
	struct httpd *health, *metrics;
	struct felix_worker *worker;
	struct felix_cnisvc *cnisvc;	/* NULL: off */
	struct kapi_reader cni_reader;	/* its cached reads, from our informers */
	atomic_ulong cni_cached_reads;
	struct felix_runtime rt;	/* settings FelixConfigurations may change */

	/* metrics */
	unsigned long errors[_ERR_MAX];
	unsigned long reconciles, resyncs;
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

/* A pod changed in the model (generation @gen0 before): once the
 * dataplane was applied, managers with a fast path (policy's set
 * elements) apply it now; anything else waits for the next reconcile. */
static void pod_changed(struct felix_agent *a, uint64_t gen0, const struct policy_pod *old,
			const struct policy_pod *new)
{
	if (a->state != FELIX_SYNC_APPLIED)
		return;
	for (int i = 0; i < _MGR_MAX; i++)
		if (a->mgr[i]->ops->pod_changed)
			a->mgr[i]->ops->pod_changed(a->mgr[i], gen0, old, new);
}

/* ---- pod addresses: only the ones IPAM gave the pod (ipam/owners.h) ---- */

static enum ipam_owner_verdict addr_verdict(const struct felix_agent *a,
					    const struct policy_pod *p,
					    const struct in_prefix *c)
{
	struct ipam_addr addr;

	ipam_addr_from_prefix(c, &addr);
	return ipam_owners_check(a->owners, &a->pools, &addr, p->ns, p->name, p->ips_reported);
}

static bool addr_accept(const struct policy_pod *p, const struct in_prefix *c, void *userdata)
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
		(void)prefix_format(&p->ips[i], false, text, sizeof(text));
		log_warning("Pod '%s/%s' claims %s (%s): %s, not routed or filtered as its address",
			    p->ns, p->name, text, p->ips_reported ? "status.podIPs" :
			    "annotation cni.projectcalico.org/podIPs", ipam_owner_verdict_to_string(v));
	}
}

/* A pod whose hostPorts were refused (bad hostPort or hostIP) keeps its
 * other traffic; said once per change of the reason. */
static void report_host_ports(struct felix_agent *a, const struct policy_pod *p)
{
	const struct policy_pod *prev = policy_model_get_pod(a->model, p->ns, p->name);

	if (!p->host_ports_error || (prev && prev->host_ports_error &&
				     strcmp(prev->host_ports_error, p->host_ports_error) == 0))
		return;
	a->errors[ERR_INPUT]++;
	log_warning("Pod '%s/%s': none of its hostPorts is mapped: %s", p->ns, p->name,
		    p->host_ports_error);
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
			log_info("%s '%s' is valid again", sync_kind_to_string(c->kind), key);
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
		report_host_ports(a, p);
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
		policymgr_invalidate(a->mgr[MGR_POLICY]);
		return;
	}
	pod_changed(a, gen0, old, policy_model_get_pod(a->model, p->ns, p->name));
	policy_pod_free(old);
}

static bool has_candidate_in(const struct policy_pod *p, const struct ipam_cidr *within)
{
	struct ipam_addr addr;

	for (size_t i = 0; i < p->n_ips + p->n_unverified; i++) {
		ipam_addr_from_prefix(&p->ips[i], &addr);
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
		r = ARRAY_GROW(todo, cap, n + 1);
		if (r < 0)
			break;
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
				  err ?: strerror(-r));
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
	struct array pools = ARRAY_INIT(struct ipam_pool);
	json_t *obj;
	const char *key;

	json_object_foreach((json_t *)kinformer_cache(a->inf[SYNC_IPPOOLS]), key, obj) {
		struct ipam_pool p = {};

		if (json_object_get(a->ctx[SYNC_IPPOOLS].invalid, key) ||
		    ipam_pool_from_json(obj, &p, NULL) < 0)
			continue;
		if (array_append(&pools, &p) < 0) {
			ipam_pool_done(&p);
			break; /* fewer pools: fewer addresses, never more */
		}
	}
	ipam_pools_done(&a->pools);
	a->pools = (struct ipam_pools){ .items = pools.items, .n = pools.n };
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

/* Calico's policies: one that cannot be enforced exactly (invalid, or a
 * field calico-c does not implement) denies what reaches it, at its place. */
static void model_set_calico_policy(struct inf_ctx *c, json_t *obj)
{
	enum policy_kind kind = c->kind == SYNC_GLOBAL_NETPOLS ? POLICY_KIND_GLOBAL
							       : POLICY_KIND_CALICO;
	struct felix_agent *a = c->a;
	_cleanup_free_ char *err = NULL;
	struct policy_netpol *p = NULL;
	int r;

	r = policy_calico_from_json(obj, kind, &p, &err);
	if (note_rejected(c, obj, r < 0 ? err ?: strerror(-r) : NULL))
		log_warning("Rejected %s, it denies all traffic that reaches it: %s",
			    kind == POLICY_KIND_GLOBAL ? "GlobalNetworkPolicy" : "NetworkPolicy",
			    err ?: strerror(-r));
	if (r == -EINVAL || r == -EOPNOTSUPP)
		r = policy_calico_deny_from_json(obj, kind, &p);
	if (r == 0)
		r = policy_model_set_netpol(a->model, p);
	if (r < 0)
		log_error_errno(r, "Failed to add a Calico policy to the model: %m");
}

/* Kubernetes ClusterNetworkPolicy: an invalid one is a rejected object whose
 * stand-in denies its subject; one with a part calico-c cannot enforce is
 * used with that part failing closed as the API defines (a warning, and a
 * rejected object too, so the metric shows it). */
static void model_set_cnp(struct inf_ctx *c, json_t *obj)
{
	_cleanup_free_ char *err = NULL;
	struct policy_netpol *p = NULL;
	int r;

	r = policy_cnp_from_json(obj, &p, &err);
	if (note_rejected(c, obj, r != 0 ? err ?: strerror(-r) : NULL))
		log_warning(r == 1 ? "%s (in an Accept rule it matches nothing, a Deny or Pass "
				     "rule holding it denies everything)"
				   : "Rejected %s; its subject's pods are denied all traffic",
			    err ?: strerror(-r));
	if (r == -EINVAL)
		r = policy_cnp_deny_from_json(obj, &p);
	if (r >= 0)
		r = policy_model_set_netpol(c->a->model, p);
	if (r < 0)
		log_error_errno(r, "Failed to add a ClusterNetworkPolicy to the model: %m");
}

/* A HostEndpoint (every node's: their expectedIPs are addresses rule
 * selectors match; only this node's govern interfaces). One that is
 * invalid still governs its interface, denying all but failsafe traffic. */
static void model_set_hep(struct inf_ctx *c, json_t *obj)
{
	_cleanup_free_ char *err = NULL;
	struct policy_hep *h = NULL;
	int r;

	r = policy_hep_from_json(obj, &h, &err);
	if (note_rejected(c, obj, r == -EINVAL ? err ?: "invalid" : NULL))
		log_warning("Rejected %s; its interface denies all but failsafe traffic",
			    err ?: "an invalid HostEndpoint");
	if (r == -EINVAL && policy_hep_deny_from_json(obj, &h) < 0) {
		(void)policy_model_del_hep(c->a->model, kapi_obj_name(obj) ?: "");
		return;
	}
	if (r == 0 || r == -EINVAL)
		r = policy_model_set_hep(c->a->model, h);
	if (r < 0)
		log_error_errno(r, "Failed to add a HostEndpoint to the model: %m");
}

static void calico_policy_key(enum sync_kind k, const json_t *obj, char *buf, size_t size)
{
	if (k == SYNC_GLOBAL_NETPOLS)
		snprintf(buf, size, "gnp:%s", kapi_obj_name(obj) ?: "");
	else
		snprintf(buf, size, "np:%s/%s", kapi_obj_namespace(obj) ?: "default",
			 kapi_obj_name(obj) ?: "");
}

/* Tiers, network sets, service accounts: an invalid one is left out (a
 * missing tier sorts last and denies; a missing set or account matches
 * nothing, so nothing is opened). */
static void model_set_calico_obj(struct inf_ctx *c, json_t *obj)
{
	_cleanup_free_ char *err = NULL;
	struct policy_tier *t = NULL;
	struct policy_netset *s = NULL;
	struct policy_sa *sa = NULL;
	int r;

	if (c->kind == SYNC_TIERS) {
		r = policy_tier_from_json(obj, &t, &err);
		if (r == 0)
			r = policy_model_set_tier(c->a->model, t);
	} else if (c->kind == SYNC_SERVICEACCOUNTS) {
		r = policy_sa_from_json(obj, &sa, &err);
		if (r == 0)
			r = policy_model_set_sa(c->a->model, sa);
	} else {
		r = policy_netset_from_json(obj, &s, &err);
		if (r == 0)
			r = policy_model_set_netset(c->a->model, s);
	}
	if (note_rejected(c, obj, r == -EINVAL ? err ?: "invalid" : NULL))
		log_warning("Ignoring invalid %s '%s': %s", sync_kind_to_string(c->kind),
			    kapi_obj_name(obj) ?: "", err ?: "invalid");
	if (r < 0 && r != -EINVAL)
		log_error_errno(r, "Failed to add to the policy model: %m");
}

static void model_del_calico_obj(struct inf_ctx *c, const char *ns, const char *name,
				 const json_t *obj)
{
	char key[600];

	switch (c->kind) {
	case SYNC_CALICO_NETPOLS:
	case SYNC_GLOBAL_NETPOLS:
		calico_policy_key(c->kind, obj, key, sizeof(key));
		(void)policy_model_del_policy(c->a->model, key);
		break;
	case SYNC_CNPS:
		snprintf(key, sizeof(key), "cnp:%s", name);
		(void)policy_model_del_policy(c->a->model, key);
		break;
	case SYNC_TIERS:
		(void)policy_model_del_tier(c->a->model, name);
		break;
	case SYNC_SERVICEACCOUNTS:
		(void)policy_model_del_sa(c->a->model, ns, name);
		break;
	case SYNC_HEPS:
		(void)policy_model_del_hep(c->a->model, name);
		break;
	default:
		(void)policy_model_del_netset(c->a->model,
					      c->kind == SYNC_NETSETS ? ns : NULL, name);
		break;
	}
}

static bool is_calico_policy_obj(enum sync_kind k)
{
	return k == SYNC_CALICO_NETPOLS || k == SYNC_GLOBAL_NETPOLS || k == SYNC_TIERS ||
	       k == SYNC_NETSETS || k == SYNC_GLOBAL_NETSETS || k == SYNC_SERVICEACCOUNTS ||
	       k == SYNC_CNPS || k == SYNC_HEPS;
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
static bool is_crd(enum sync_kind k)
{
	return k == SYNC_IPPOOLS || k == SYNC_AFFINITIES || k == SYNC_BGPCONFIGS ||
	       k == SYNC_BGPPEERS || k == SYNC_FELIXCONFIGS;
}

static void validate(struct inf_ctx *c, json_t *obj)
{
	_cleanup_free_ char *err = NULL;
	int r;

	r = crdvalid_check(sync_kind_to_string(c->kind), obj, &ipam_crdvalid_ops, &err);
	if (note_rejected(c, obj, r == -EINVAL ? err ?: "invalid" : NULL))
		log_warning("Ignoring invalid object: %s", err ?: kapi_obj_name(obj) ?: "");
}

/* The informer's object, or NULL when it is invalid. */
static json_t *valid_get(struct felix_agent *a, enum sync_kind k, const char *name)
{
	if (json_object_get(a->ctx[k].invalid, name))
		return NULL;
	return kinformer_get(a->inf[k], NULL, name);
}

/* The policy table's settings: from the runtime ones, and NFLOGGroup. */
static bool configure_policy(struct felix_agent *a, const struct felix_runtime *rt)
{
	return policymgr_configure(a->mgr[MGR_POLICY], rt->endpoint_to_host, rt->log_prefix,
				   (int)a->cfg->nflog_group, &rt->failsafe_in, &rt->failsafe_out);
}

/* FelixConfiguration "default" and "node.<name>" -> a->rt, applied now. */
static void update_runtime(struct felix_agent *a)
{
	_cleanup_free_ char *node_key = NULL, *err = NULL;
	struct felix_runtime rt;
	json_t *g, *n;

	if (asprintf(&node_key, "node.%s", a->cfg->nodename) < 0)
		return;
	g = json_object_get(valid_get(a, SYNC_FELIXCONFIGS, "default"), "spec");
	n = json_object_get(valid_get(a, SYNC_FELIXCONFIGS, node_key), "spec");
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
	if (configure_policy(a, &rt)) {
		log_info("Policy settings: %zu inbound and %zu outbound failsafe ports, "
			 "DefaultEndpointToHostAction %s, LogPrefix '%s' (FelixConfiguration)",
			 rt.failsafe_in.n, rt.failsafe_out.n,
			 policy_host_action_to_string(rt.endpoint_to_host), rt.log_prefix);
		schedule(a);
	}
	a->rt = rt;
}

/* Services and pools are LoadBalancer IPAM's inputs (worker.h). */
static void kick_lb(const struct inf_ctx *c)
{
	if ((c->kind == SYNC_SERVICES || c->kind == SYNC_IPPOOLS) && c->a->worker)
		felix_worker_kick_lb(c->a->worker);
}

static void on_set(struct kinformer *inf, json_t *obj, void *userdata)
{
	struct inf_ctx *c = userdata;

	(void)inf;
	c->gen++;
	if (is_crd(c->kind))
		validate(c, obj);
	if (c->kind == SYNC_FELIXCONFIGS) {
		update_runtime(c->a);
		return;
	}
	if (c->kind == SYNC_PODS)
		model_set_pod(c, obj);
	else if (c->kind == SYNC_NETPOLS)
		model_set_netpol(c, obj);
	else if (c->kind == SYNC_NAMESPACES)
		model_set_ns(c, obj);
	else if (c->kind == SYNC_CALICO_NETPOLS || c->kind == SYNC_GLOBAL_NETPOLS)
		model_set_calico_policy(c, obj);
	else if (c->kind == SYNC_CNPS)
		model_set_cnp(c, obj);
	else if (c->kind == SYNC_HEPS)
		model_set_hep(c, obj);
	else if (is_calico_policy_obj(c->kind))
		model_set_calico_obj(c, obj);
	else if (c->kind == SYNC_BLOCKS)
		owners_set_block(c->a, obj);
	else if (c->kind == SYNC_IPPOOLS)
		pools_reload(c->a);
	kick_lb(c);
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
	c->gen++;
	obj_key(obj, key, sizeof(key));
	(void)json_object_del(c->invalid, key);
	if (c->kind == SYNC_FELIXCONFIGS) {
		update_runtime(c->a);
		return;
	}
	if (c->kind == SYNC_PODS) {
		uint64_t gen0 = c->a->model->generation;
		struct policy_pod *old = policy_model_del_pod(c->a->model, ns, name);

		if (old)
			pod_changed(c->a, gen0, old, NULL);
		policy_pod_free(old);
	}
	else if (c->kind == SYNC_NETPOLS)
		(void)policy_model_del_netpol(c->a->model, ns, name);
	else if (c->kind == SYNC_NAMESPACES)
		(void)policy_model_del_namespace(c->a->model, name);
	else if (is_calico_policy_obj(c->kind))
		model_del_calico_obj(c, ns, name, obj);
	else if (c->kind == SYNC_BLOCKS)
		owners_del_block(c->a, name);
	else if (c->kind == SYNC_IPPOOLS)
		pools_reload(c->a);
	kick_lb(c);
	schedule(c->a);
}

static bool all_synced(const struct felix_agent *a)
{
	for (int i = 0; i < _SYNC_KIND_MAX; i++)
		if (!kinformer_is_synced(a->inf[i]))
			return false;
	return true;
}

static void on_synced(struct kinformer *inf, void *userdata)
{
	struct inf_ctx *c = userdata;

	log_debug("Informer '%s' synced: %zu objects", sync_kind_to_string(c->kind),
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
	log_warning_errno(error, "Watch of %s failed (retrying): %s", sync_kind_to_string(c->kind),
			  message && *message ? message : strerror(-error));
}

static const struct kinformer_ops inf_ops = {
	.on_add = on_set,
	.on_update = on_update,
	.on_delete = on_delete,
	.on_synced = on_synced,
	.on_error = on_error,
};

/* ---- reconcile ---- */

#define HOST_ADDRS_MAX 256

struct host_addrs {
	struct policy_host_addr v[HOST_ADDRS_MAX];
	size_t n;
};

static int host_addr_cb(const struct nl_addr *na, void *userdata)
{
	struct host_addrs *h = userdata;
	struct policy_host_addr *x;

	if (h->n == HOST_ADDRS_MAX || (na->family != AF_INET && na->family != AF_INET6))
		return 0;
	x = &h->v[h->n];
	*x = (struct policy_host_addr){ .addr = { .family = na->family,
						  .len = na->family == AF_INET ? 32 : 128 } };
	memcpy(x->addr.addr, na->addr, na->family == AF_INET ? 4 : 16);
	/* workloads' veths never hold a host endpoint (and pods coming and
	 * going must not change the model) */
	if (if_indextoname((unsigned)na->ifindex, x->ifname) && !ifname_is_ours(x->ifname))
		h->n++;
	return 0;
}

/* The node's interface addresses, where HostEndpoints with expectedIPs
 * and no interfaceName apply (as Felix finds their interface): read at
 * every reconcile while one exists, so a change is seen at the next event
 * or resync. */
static void host_addrs_refresh(struct felix_agent *a)
{
	static const int fams[] = { AF_INET, AF_INET6 };
	_cleanup_free_ struct host_addrs *h = calloc(1, sizeof(*h));
	int r = 0;

	if (!h || !a->nl)
		return;
	for (size_t i = 0; r >= 0 && i < ELEMENTSOF(fams) && policy_model_wants_host_addrs(a->model);
	     i++)
		r = nl_addr_list(a->nl, fams[i], 0, host_addr_cb, h);
	if (r < 0) {
		log_warning_errno(r, "Failed to read the node's addresses for HostEndpoints, "
				  "ignoring: %m");
		return;
	}
	if (policy_model_set_host_addrs(a->model, h->v, h->n) > 0)
		log_info("Node addresses for HostEndpoints: %zu", h->n);
}

static int build_desired(struct felix_agent *a)
{
	struct felix_desired_input in = {
		.node = a->cfg->nodename,
		.affinities = kinformer_cache(a->inf[SYNC_AFFINITIES]),
		.affinities_invalid = a->ctx[SYNC_AFFINITIES].invalid,
		.model = a->model,
	};
	struct felix_desired d;
	int r;

	for (int i = 0; i < _FELIX_OBJS_MAX; i++) {
		const struct inf_ctx *c = &a->ctx[objs_inf[i]];

		in.objs[i] = (struct felix_objs){ kinformer_cache(a->inf[c->kind]), c->invalid,
						  c->gen };
	}
	host_addrs_refresh(a);
	r = felix_desired_build(&in, &d);
	if (r < 0)
		return log_error_errno(r, "Failed to compute the desired state: %m");
	/* Managers compare with copies of their own, never with the old one. */
	felix_desired_done(&a->desired);
	a->desired = d;
	for (int i = 0; i < _MGR_MAX; i++)
		a->mgr[i]->ops->update(a->mgr[i], &a->desired);
	return 0;
}

/* Applies every manager. Return: whether the required ones all succeeded;
 * *@ret_retry: whether any wants another try soon. */
static bool apply_managers(struct felix_agent *a, bool *ret_retry)
{
	bool ok = true;

	*ret_retry = false;
	for (int i = 0; i < _MGR_MAX; i++) {
		struct felix_manager *m = a->mgr[i];
		double t0 = now_s();
		int r = m->ops->apply(m);

		if (m->ops->hist_name)
			metrics_hist_observe(&m->h_apply, now_s() - t0);
		if (r < 0 && r != -EAGAIN)
			m->errors++;
		if (r < 0 && !m->ops->optional)
			ok = false;
		*ret_retry |= r < 0;
	}
	return ok;
}

static void reconcile(struct felix_agent *a)
{
	bool retry;

	if (a->state == FELIX_SYNC_WAITING)
		return;
	a->reconciles++;
	if (build_desired(a) < 0) {
		evloop_timer_arm(a->debounce, 1000);
		return;
	}
	a->last_apply_ok = apply_managers(a, &retry);
	if (a->last_apply_ok) {
		bool first = a->state != FELIX_SYNC_APPLIED && !a->last_ok_ms;

		a->last_ok_ms = evloop_now_ms();
		set_state(a, FELIX_SYNC_APPLIED);
		if (first)
			(void)malloc_trim(0); /* the initial LISTs' pages are freed by now */
	} else {
		set_state(a, FELIX_SYNC_SYNCED);
	}
	if (retry) /* retry soon, not at the next resync */
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
	for (int i = 0; i < _MGR_MAX; i++)
		if (a->mgr[i]->ops->resync)
			a->mgr[i]->ops->resync(a->mgr[i]);
	reconcile(a);
	(void)malloc_trim(0); /* relists and full compiles leave freed heap behind */
	evloop_timer_arm(t, a->rt.resync_ms);
}

/* BIRD stopped answering and felix-c runs it: a reconcile restarts it. */
static void bird_kick(void *userdata)
{
	struct felix_agent *a = userdata;

	if (a->state != FELIX_SYNC_WAITING)
		schedule(a);
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
	if (!birdmgr_is_ready(a->mgr[MGR_BIRD], why))
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
	size_t lists = 0;

	for (int i = 0; i < _SYNC_KIND_MAX; i++)
		lists += kinformer_lists(a->inf[i]);
	counter(b, "felix_resyncs_started",
		"Number of times Felix has started resyncing with the datastore.", (double)lists);
	metrics_header(b, "felix_c_informer_objects", "gauge", "Objects in each watch cache.");
	for (int i = 0; i < _SYNC_KIND_MAX; i++) {
		const char *l[2] = { "resource", sync_kind_to_string(i) };
		metrics_sample(b, "felix_c_informer_objects", l, 1, kinformer_size(a->inf[i]));
	}
	metrics_header(b, "felix_c_informer_lists_total", "counter",
		       "Complete LISTs per resource (1 + relists).");
	for (int i = 0; i < _SYNC_KIND_MAX; i++) {
		const char *l[2] = { "resource", sync_kind_to_string(i) };
		metrics_sample(b, "felix_c_informer_lists_total", l, 1, kinformer_lists(a->inf[i]));
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
	counter(b, "felix_c_lbipam_passes_total", "LoadBalancer IPAM passes.", w.lb_passes);
	counter(b, "felix_c_lbipam_assigned_total", "LoadBalancer addresses assigned.",
		w.lb_assigned);
	counter(b, "felix_c_lbipam_released_total", "LoadBalancer addresses released.",
		w.lb_released);
	counter(b, "felix_c_lbipam_errors_total",
		"Failed LoadBalancer IPAM passes and Services not served.", w.lb_errors);
	gauge(b, "felix_c_ipam_block_addresses", "Addresses in blocks affine to this node.",
	      (double)a->desired.block_addrs);
	gauge(b, "felix_c_ipam_used_addresses", "Local pods with an IPv4 address.",
	      (double)a->desired.n_local);
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

/* The families Calico's Felix exports under these names, with the same
 * meaning, so Calico's dashboards work unchanged. */
static void write_calico_gauges(const struct felix_agent *a, struct metrics_buf *b)
{
	size_t i = 0, wep = 0;
	struct policy_pod *p;

	while (policy_model_next_pod(a->model, &i, &p))
		wep += !p->host_network && p->n_ips + p->n_unverified > 0; /* claimed counts */
	gauge(b, "felix_active_local_endpoints", "Number of active endpoints on this host.",
	      (double)a->desired.n_local);
	gauge(b, "felix_cluster_num_hosts", "Total number of Calico hosts in the cluster.",
	      (double)kinformer_size(a->inf[SYNC_NODES]));
	gauge(b, "felix_cluster_num_workload_endpoints",
	      "Total number of workload endpoints cluster-wide.", (double)wep);
	gauge(b, "felix_cluster_num_policies",
	      "Total number of policies in the cluster (Kubernetes and Calico).",
	      (double)a->model->netpols.n_items);
	gauge(b, "felix_cluster_num_tiers", "Total number of Calico tiers in the cluster.",
	      (double)kinformer_size(a->inf[SYNC_TIERS]));
}

/* Each manager's families, then those they share. */
static void write_managers(const struct felix_agent *a, struct metrics_buf *b)
{
	unsigned long batches = 0, failures = 0;

	for (int i = 0; i < _MGR_MAX; i++) {
		const struct felix_manager *m = a->mgr[i];

		failures += m->errors;

		if (m->ops->write_metrics)
			m->ops->write_metrics(m, b);
		if (m->ops->hist_name)
			metrics_hist_write(b, m->ops->hist_name, m->ops->hist_help, &m->h_apply);
		batches += m->batches;
	}
	counter(b, "felix_c_policy_batches_total", "nftables batches committed.", batches);
	counter(b, "felix_int_dataplane_failures",
		"Number of times dataplane updates failed and will be retried.", (double)failures);
	metrics_header(b, "felix_c_errors_total", "counter", "Errors by kind.");
	for (int i = 0; i < _MGR_MAX; i++)
		metrics_sample(b, "felix_c_errors_total",
			       (const char *[]){ "kind", a->mgr[i]->ops->name }, 1, a->mgr[i]->errors);
	for (int i = 0; i < _ERR_MAX; i++)
		metrics_sample(b, "felix_c_errors_total", (const char *[]){ "kind", err_names[i] },
			       1, a->errors[i]);
}

static void write_metrics(const struct felix_agent *a, struct metrics_buf *b)
{
	gauge(b, "felix_c_synced", "1 once every watch has listed.", a->state != FELIX_SYNC_WAITING);
	gauge(b, "felix_c_dataplane_applied", "1 when the last apply succeeded.",
	      a->state == FELIX_SYNC_APPLIED);
	write_informers(a, b);
	metrics_header(b, "felix_c_rejected_objects", "gauge",
		       "Objects rejected as invalid or over a limit, by kind (fail closed).");
	for (int i = 0; i < _SYNC_KIND_MAX; i++)
		metrics_sample(b, "felix_c_rejected_objects",
			       (const char *[]){ "kind", sync_kind_to_string(i) }, 1,
			       (double)json_object_size(a->ctx[i].invalid));
	write_calico_gauges(a, b);
	gauge(b, "felix_c_pods", "Pods in the model (all nodes).", (double)a->model->pods.n_items);
	write_managers(a, b);
	counter(b, "felix_c_reconciles_total", "Reconcile passes.", a->reconciles);
	if (a->hollow)
		counter(b, "felix_c_hollow_writes_total",
			"Hollow node: route operations and nftables batches planned, not sent.",
			(double)felix_hollow_writes(a->hollow));
	counter(b, "felix_c_resyncs_total", "Periodic resyncs.", a->resyncs);
	if (a->typha) {
		gauge(b, "felix_c_typha_streaming", "1 while the informers are fed by typha-c.",
		      felix_typha_get_state(a->typha) == FELIX_TYPHA_STREAMING);
		counter(b, "felix_c_typha_snapshots_total", "Complete snapshots from typha-c.",
			(double)felix_typha_snapshots(a->typha));
		counter(b, "felix_c_typha_fallbacks_total",
			"Switches from typha-c to watching the apiserver directly.",
			(double)felix_typha_fallbacks(a->typha));
	}
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

/* The kinds whose only reader is a model built from the callbacks keep
 * keys only: the policy model is the pods' and policies' copy, the owner
 * index the blocks'. (1,000 NetworkPolicies cached as JSON took ~8 MB.)
 * Namespaces stay whole: the CNI service reads them (cni_read_kinds). */
static bool is_keys_only(enum sync_kind k)
{
	return k == SYNC_PODS || k == SYNC_BLOCKS || k == SYNC_NETPOLS || is_calico_policy_obj(k);
}

static int start_informers(struct felix_agent *a)
{
	struct kinformer_opts o = { .backoff_min_ms = 250, .backoff_max_ms = 5000,
				    .fed = felix_config_uses_typha(a->cfg) };
	_cleanup_free_ char *err = NULL;
	int r;

	for (int i = 0; i < _SYNC_KIND_MAX; i++) {
		o.cache_keys_only = is_keys_only(i);
		o.transform = i == SYNC_PODS ? podtrim_pod : o.cache_keys_only ? NULL : podtrim_managed_fields;
		/* A block is ~15 KB of JSON: fewer per LIST page, a lower peak. */
		o.page_size = i == SYNC_BLOCKS ? 50 : 0;
		const char *ns = i == SYNC_SECRETS ? a->cfg->secrets_namespace : NULL;
		_cleanup_free_ char *path = kapi_path(sync_kind_resource(i), ns, NULL, NULL);

		if (!path)
			return -ENOMEM;
		a->ctx[i] = (struct inf_ctx){ .a = a, .kind = i, .invalid = json_object() };
		if (!a->ctx[i].invalid)
			return -ENOMEM;
		r = kinformer_new(a->k, a->loop, path, &o, &inf_ops, &a->ctx[i], &a->inf[i]);
		if (r < 0)
			return log_error_errno(r, "Failed to watch %s: %m", sync_kind_to_string(i));
	}
	if (!o.fed)
		return 0;
	r = felix_typha_new(a->loop, a->cfg, a->k, a->inf, &a->typha, &err);
	if (r < 0)
		return log_error_errno(r, "Cannot use typha-c: %s", err ?: "%m");
	log_info("Syncing through typha-c at %s%s (the apiserver directly when it is not "
		 "reachable)", *a->cfg->typha_addr ? a->cfg->typha_addr : "service ",
		 *a->cfg->typha_addr ? "" : a->cfg->typha_service);
	return 0;
}

/* ---- the CNI service's cached reads ----
 * What a calico-c-ipam ADD reads with "?resourceVersion=0" (any recent
 * copy): the namespace's pool annotations, the IP pools, the node's block
 * affinities. Our informers hold them as fresh as the apiserver's watch
 * cache does, so the service's threads read them here (kinformer_copy() is
 * thread-safe) and save a request each. Anything else, or an object our
 * informer has not seen, goes to the apiserver. */
static const enum sync_kind cni_read_kinds[] = { SYNC_NAMESPACES, SYNC_IPPOOLS, SYNC_AFFINITIES };

/* The informer of the collection @path; *@name: the rest ("" for the
 * collection itself). NULL: none of ours. */
static struct kinformer *cni_read_informer(struct felix_agent *a, const char *path,
					   const char **name)
{
	for (size_t i = 0; i < ELEMENTSOF(cni_read_kinds); i++) {
		enum sync_kind k = cni_read_kinds[i];
		_cleanup_free_ char *coll = kapi_path(sync_kind_resource(k), NULL, NULL, NULL);
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
	    evloop_timer_add(a->loop, on_resync, a, &a->resync) < 0)
		return -ENOMEM;
	evloop_timer_arm(a->resync, a->rt.resync_ms);
	return 0;
}

static int new_managers(struct felix_agent *a)
{
	const struct routemgr_kernel *rk = &routemgr_kernel_nl;
	const struct policymgr_kernel *pk = &policymgr_kernel_nft;
	const struct birdmgr_io *bird = &birdmgr_io_bird;
	void *rk_h = a->nl, *pk_h = a->pk;
	int r = 0;

	if (a->cfg->hollow) {
		r = felix_hollow_new(&a->hollow);
		rk = &felix_hollow_routes, pk = &felix_hollow_nft, bird = &felix_hollow_bird;
		rk_h = pk_h = a->hollow;
		log_warning("Hollow node: computing everything, writing nothing to the kernel or "
			    "BIRD (scale tests only)");
	}
	if (r == 0)
		r = routemgr_new(rk, rk_h, a->cfg->route_grace_ms, &a->mgr[MGR_ROUTES]);
	if (r == 0)
		r = policymgr_new(pk, pk_h, a->cfg->nft_table, &a->mgr[MGR_POLICY]);
	if (r == 0) {
		(void)configure_policy(a, &a->rt);
		r = natmgr_new(pk, pk_h, a->nl, a->cfg->nft_table, &a->mgr[MGR_NAT]);
	}
	if (r == 0)
		r = birdmgr_new(a->cfg, bird, a->loop, bird_kick, a, &a->mgr[MGR_BIRD]);
	for (int i = 0; r == 0 && i < _MGR_MAX; i++)
		a->mgr[i]->h_apply = (struct metrics_hist){ .bounds = apply_bounds,
							    .n_bounds = ELEMENTSOF(apply_bounds) };
	return r;
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
	(void)felix_config_runtime(cfg, NULL, NULL, &a->rt, NULL);
	r = policy_model_new(cfg->nodename, &a->model);
	if (r == 0)
		r = ipam_owners_new(&a->owners);
	if (r == 0 && (r = nl_open(&a->nl)) < 0)
		log_error_errno(r, "Failed to open rtnetlink: %m");
	if (r == 0 && (r = policy_kernel_open(&a->pk)) < 0)
		log_error_errno(r, "Failed to open the nftables socket: %m");
	if (r == 0)
		r = new_managers(a);
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
		 cfg->nodename, _SYNC_KIND_MAX);
	*ret = a;
	return 0;
}

struct felix_agent *felix_agent_free(struct felix_agent *a)
{
	if (!a)
		return NULL;
	a->cnisvc = felix_cnisvc_stop(a->cnisvc);
	a->worker = felix_worker_stop(a->worker);
	a->typha = felix_typha_free(a->typha);
	for (int i = 0; i < _SYNC_KIND_MAX; i++) {
		a->inf[i] = kinformer_free(a->inf[i]);
		json_decref(a->ctx[i].invalid);
	}
	a->health = httpd_free(a->health);
	a->metrics = httpd_free(a->metrics);
	evloop_timer_free(a->debounce);
	evloop_timer_free(a->resync);
	kapi_free(a->k);
	for (int i = 0; i < _MGR_MAX; i++)
		a->mgr[i] = felix_manager_free(a->mgr[i]);
	felix_desired_done(&a->desired);
	policy_model_free(a->model);
	ipam_owners_free(a->owners);
	ipam_pools_done(&a->pools);
	policy_kernel_close(a->pk);
	nl_free(a->nl);
	felix_hollow_free(a->hollow);
	free(a);
	return NULL;
}
