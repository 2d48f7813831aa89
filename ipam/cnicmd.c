/* calico-c-ipam's CNI verbs (spec 1.1.0; configs 0.3.1..1.1.0), run for one
 * call by calico-c-ipam-direct or for each call felix-c's CNI service gets.
 *
 * ADD allocates for handle k8s-pod-network.<CNI_CONTAINERID> on this node
 * and prints the addresses as /32 and /128; DEL releases the handle
 * (idempotent); CHECK verifies prevResult's addresses are still ours; GC
 * releases this node's allocations whose container is not in
 * cni.dev/valid-attachments; STATUS fails while the datastore or the pools
 * are unusable; VERSION lists the versions we speak.
 *
 * Config keys follow Calico's: ipam.assign_ipv4 / assign_ipv6 ("true" /
 * "false", strings or booleans), ipam.ipv4_pools / ipv6_pools (names or
 * CIDRs), top-level nodename (else NODENAME, nodename_file, hostname),
 * kubernetes.kubeconfig, log_level. Ours: ipam.lock_file (default
 * /run/calico-c/ipam.lock; env CALICO_C_IPAM_LOCK wins in
 * calico-c-ipam-direct), which serialises allocations on one node with
 * flock(); felix-c's service runs only calls for its own node and lock file;
 * tls_session_dir (default /run/calico-c/tls, "" for none), where TLS
 * sessions with the apiserver are kept for the next process to resume.
 *
 * Pool annotations: for a Kubernetes pod (K8S_POD_NAMESPACE and
 * K8S_POD_NAME in CNI_ARGS) the cni.projectcalico.org/ipv4pools and
 * ipv6pools annotations choose the pools, the pod's over its namespace's
 * over ipam.ipv4_pools / ipv6_pools, as in Calico. We read them here, on
 * the connection the allocation uses anyway, so the CNI plugin can hand us
 * its stdin unchanged and at once instead of reading the pod first. A pod
 * or namespace that does not exist has no annotations; a pod scheduled to
 * another node is refused (this node must not allocate for it). felix-c's
 * service also refuses to release a handle holding another node's
 * addresses (a DEL with that node's container ID).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "cni.h"
#include "fileio.h"
#include "ipam/cnicmd.h"
#include "ipam/gc.h"
#include "ipam/internal.h"
#include "ipam/ipam.h"
#include "kapi.h"
#include "log.h"
#include "tlscache.h"


#define ANN_V4POOLS "cni.projectcalico.org/ipv4pools"
#define ANN_V6POOLS "cni.projectcalico.org/ipv6pools"

/* Where one call's time goes (for tests/bench/cni), logged at debug. The
 * first request of "annotations" (ADD) or "verb" carries TCP and TLS. */
enum phase {
	PHASE_SETUP,	   /* config, kubeconfig, API client */
	PHASE_ANNOTATIONS, /* ADD: the pod's (and namespace's) pool annotations */
	PHASE_LOCK,	   /* the node's allocation lock */
	PHASE_VERB,	   /* the allocation / release itself */
	_PHASE_MAX,
};

struct call {
	const struct cni_env *env; /* borrowed */
	struct cni_config *cfg;
	struct cni_error err;
	char node[256];
	const char *kubeconfig;
	const char *lock_path;
	bool v4, v6;
	struct ipam_assign_args args;
	const char *tls_dir; /* "tls_session_dir", "": no TLS resumption */
	const struct ipam_cni_opts *opts;
	struct kapi *k;	      /* owned when opts has none */
	struct tlscache *tls; /* owned, outlives k */
	struct ipam *ipam;    /* owned when opts has none */
	struct ipam_stats stats0; /* ipam's counters when the call began */
	json_t *ann_v4, *ann_v6; /* pool annotations in force, owned; NULL: none */
	FILE *out; /* where the result or error goes */
	int lock_fd;
	uint64_t mark_ns;		/* CLOCK_MONOTONIC at the last phase end */
	double phase_ms[_PHASE_MAX]; /* where this call's time went, logged at debug */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void phase_end(struct call *p, enum phase ph)
{
	uint64_t now = now_ns();

	p->phase_ms[ph] += (double)(now - p->mark_ns) / 1e6;
	p->mark_ns = now;
}

static void log_timing(const struct call *p, uint64_t started)
{
	static const char *const names[_PHASE_MAX] = {
		[PHASE_SETUP] = "setup",
		[PHASE_ANNOTATIONS] = "annotations", [PHASE_LOCK] = "lock",
		[PHASE_VERB] = "verb",
	};
	char buf[256];
	size_t n = 0;

	for (int i = 0; i < _PHASE_MAX; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s=%.3f ", names[i], p->phase_ms[i]);
	log_debug("timing %s ms: %stotal=%.3f",
		  p->env->command >= 0 ? cni_command_to_string(p->env->command) : "?", buf,
		  (double)(now_ns() - started) / 1e6);
}

static void call_done(struct call *p)
{
	if (!p->opts->ipam) {
		p->ipam = ipam_free(p->ipam);
		p->k = kapi_free(p->k);
		p->tls = tlscache_free(p->tls);
	}
	json_decref(p->ann_v4);
	json_decref(p->ann_v6);
	cni_config_free(p->cfg);
	p->lock_fd = safe_close(p->lock_fd);
}

/* "true"/"false" as Calico writes them, or a JSON boolean. */
static int json_flag(const json_t *v, bool dflt, bool *ret)
{
	if (!v) {
		*ret = dflt;
		return 0;
	}
	if (json_is_boolean(v)) {
		*ret = json_is_true(v);
		return 0;
	}
	if (json_is_string(v) && (!strcmp(json_string_value(v), "true") ||
				  !strcmp(json_string_value(v), "false"))) {
		*ret = !strcmp(json_string_value(v), "true");
		return 0;
	}
	return -EINVAL;
}

static int load_pools(struct call *p, const char *key, const char **out, size_t *n)
{
	json_t *arr = json_object_get(p->cfg->ipam, key), *v;
	size_t i;

	if (!arr || json_is_null(arr))
		return 0;
	if (!json_is_array(arr) || json_array_size(arr) > IPAM_MAX_REQUESTED_POOLS)
		return cni_error_set(&p->err, CNI_ERR_INVALID_CONFIG, -EINVAL,
				     "ipam.%s: must be an array of at most %d pool names or CIDRs",
				     key, IPAM_MAX_REQUESTED_POOLS);
	json_array_foreach (arr, i, v) {
		if (!json_is_string(v))
			return cni_error_set(&p->err, CNI_ERR_INVALID_CONFIG, -EINVAL,
					     "ipam.%s[%zu]: not a string", key, i);
		out[(*n)++] = json_string_value(v);
	}
	return 0;
}

int ipam_cni_check_scope(const json_t *cfg, const char *node, const char *lock_path,
			 struct cni_error *err)
{
	const char *n = json_string_value(json_object_get(cfg, "nodename"));
	const json_t *lock = json_object_get(json_object_get(cfg, "ipam"), "lock_file");
	const char *l = lock ? json_string_value(lock) : IPAM_CNI_DEFAULT_LOCK;

	if (n && *n && strcmp(n, node) != 0)
		return cni_error_set(err, CNI_ERR_INVALID_CONFIG, -EPERM,
				     "nodename: felix-c serves node '%s' only, not '%s'", node, n);
	if (!l || strcmp(l, lock_path) != 0)
		return cni_error_set(err, CNI_ERR_INVALID_CONFIG, -EPERM,
				     "ipam.lock_file: felix-c takes '%s' only, not '%s'", lock_path,
				     l ? l : "(not a string)");
	return 0;
}

/* Node and lock file: felix-c's own (when the config agrees), else the
 * config's. */
static int load_scope(struct call *p, const char *lock)
{
	const struct ipam_cni_opts *o = p->opts;
	int r;

	if (o->ipam) {
		r = ipam_cni_check_scope(p->cfg->json, o->node, o->lock_path, &p->err);
		if (r < 0)
			return r;
		snprintf(p->node, sizeof(p->node), "%s", o->node);
		p->lock_path = o->lock_path;
		return 0;
	}
	r = cni_node_name(p->cfg->json, p->node, sizeof(p->node));
	if (r < 0)
		return cni_error_set(&p->err, CNI_ERR_INVALID_CONFIG, r,
				     "nodename: not set, and no node name found: %s", strerror(-r));
	p->lock_path = getenv("CALICO_C_IPAM_LOCK") ?: lock ?: IPAM_CNI_DEFAULT_LOCK;
	return 0;
}

static int load_config(struct call *p)
{
	json_t *ipam = p->cfg->ipam;
	const char *lvl = json_string_value(json_object_get(p->cfg->json, "log_level"));
	const char *lock = json_string_value(json_object_get(ipam, "lock_file"));
	int r;

	if (!p->opts->ipam && lvl && log_level_from_string(lvl) >= 0)
		(void)log_setup(log_level_from_string(lvl), getenv("CALICO_C_IPAM_LOG"),
				"calico-c-ipam");
	if (json_flag(json_object_get(ipam, "assign_ipv4"), true, &p->v4) < 0 ||
	    json_flag(json_object_get(ipam, "assign_ipv6"), false, &p->v6) < 0)
		return cni_error_set(&p->err, CNI_ERR_INVALID_CONFIG, -EINVAL,
				     "ipam.assign_ipv4/assign_ipv6: must be \"true\" or \"false\"");
	if (!p->v4 && !p->v6)
		return cni_error_set(&p->err, CNI_ERR_INVALID_CONFIG, -EINVAL,
				     "ipam: both assign_ipv4 and assign_ipv6 are false");
	r = load_pools(p, "ipv4_pools", p->args.v4_pools, &p->args.n_v4_pools);
	if (r >= 0)
		r = load_pools(p, "ipv6_pools", p->args.v6_pools, &p->args.n_v6_pools);
	if (r >= 0)
		r = load_scope(p, lock);
	if (r < 0)
		return r;
	p->kubeconfig = json_string_value(json_object_get(json_object_get(p->cfg->json,
									  "kubernetes"),
							  "kubeconfig"));
	if (!p->kubeconfig)
		p->kubeconfig = getenv("KUBECONFIG");
	if (!p->kubeconfig && !p->opts->ipam)
		return cni_error_set(&p->err, CNI_ERR_INVALID_CONFIG, -EINVAL,
				     "kubernetes.kubeconfig: not set (nor KUBECONFIG)");
	p->tls_dir = json_string_value(json_object_get(p->cfg->json, "tls_session_dir")) ?:
								    TLSCACHE_DEFAULT_DIR;
	return 0;
}

static int connect_datastore(struct call *p)
{
	struct kapi_config *kc = NULL;
	int r;

	if (p->opts->ipam) {
		p->k = p->opts->k;
		p->ipam = p->opts->ipam;
		return 0;
	}
	r = kapi_config_from_kubeconfig(p->kubeconfig, &kc);
	if (r < 0)
		return cni_error_set(&p->err, CNI_ERR_INVALID_CONFIG, r,
				     "kubernetes.kubeconfig '%s': cannot be read", p->kubeconfig);
	r = kapi_new(kc, &p->k);
	if (r >= 0)
		r = tlscache_attach(p->k, kc, p->tls_dir, &p->tls);
	kapi_config_free(kc);
	if (r >= 0)
		r = ipam_new(p->k, &p->ipam);
	if (r < 0)
		return cni_error_set(&p->err, CNI_ERR_PLUGIN, r, "creating the API client failed");
	return 0;
}

static int take_lock(struct call *p)
{
	(void)mkdir_parent(p->lock_path, 0755); /* a failure shows in the open */
	p->lock_fd = open(p->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (p->lock_fd < 0 || flock(p->lock_fd, LOCK_EX) < 0)
		return cni_error_set(&p->err, CNI_ERR_IO, -errno, "lock file '%s': %s",
				     p->lock_path, strerror(errno));
	return 0;
}

/* Maps a library error to the CNI error codes. */
static int ipam_error(struct call *p, int r, const char *what)
{
	int code = CNI_ERR_DATASTORE;

	if (r == -ENOSPC)
		code = CNI_ERR_IPAM_EXHAUSTED;
	else if (r == -ENOENT || r == -EINVAL)
		code = CNI_ERR_INVALID_CONFIG;
	else if (r == -ESTALE || r == -EBUSY || r == -ETIMEDOUT)
		code = CNI_ERR_TRY_AGAIN;
	return cni_error_set(&p->err, code, r, "%s: %s", what,
			     ipam_last_error(p->ipam)[0] ? ipam_last_error(p->ipam) :
							   kapi_last_error(p->k));
}

static void handle_of(const struct call *p, char *buf, size_t size)
{
	snprintf(buf, size, "k8s-pod-network.%s", p->env->container_id);
}

static int print_result(struct call *p, const struct ipam_assign_result *res)
{
	_cleanup_(cni_result_freep) struct cni_result *out = cni_result_new();
	const struct ipam_addr *all[2 * IPAM_MAX_PER_FAMILY];
	size_t n = 0;

	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < res->n_v4; i++)
		all[n++] = &res->v4[i];
	for (size_t i = 0; i < res->n_v6; i++)
		all[n++] = &res->v6[i];
	for (size_t i = 0; i < n; i++) {
		struct in_prefix pfx = { .family = all[i]->family };
		ipam_u128 v = all[i]->v;
		int bytes = all[i]->family == AF_INET ? 4 : 16;

		for (int j = bytes - 1; j >= 0; j--, v >>= 8)
			pfx.addr[j] = (uint8_t)(v & 0xff);
		pfx.len = (uint8_t)(bytes * 8);
		if (cni_result_add_ip(out, &pfx, NULL, -1) < 0)
			return -E2BIG;
	}
	return cni_result_write(p->out, out, p->cfg->version);
}

/* The annotation @key of @obj as a JSON array of strings (new reference),
 * NULL when absent. */
static int pools_annotation(struct call *p, const json_t *obj, const char *what,
			    const char *key, json_t **ret)
{
	const char *text = kapi_obj_annotation(obj, key);
	json_t *a, *v;
	size_t i;

	*ret = NULL;
	if (!text)
		return 0;
	a = json_loads(text, 0, NULL);
	if (json_is_array(a) && json_array_size(a) <= IPAM_MAX_REQUESTED_POOLS) {
		bool ok = true;

		json_array_foreach (a, i, v)
			ok = ok && json_is_string(v);
		if (ok) {
			*ret = a;
			return 0;
		}
	}
	json_decref(a);
	return cni_error_set(&p->err, CNI_ERR_INVALID_CONFIG, -EINVAL,
			     "annotation '%s' on %s '%s' is not a JSON list of at most %d pool "
			     "names: '%s'", key, what, kapi_obj_name(obj) ?: "?",
			     IPAM_MAX_REQUESTED_POOLS, text);
}

static bool is_transient(int r)
{
	return r == -ECONNREFUSED || r == -ETIMEDOUT || r == -EBUSY || r == -EIO;
}

/* GET @res/@name; a missing object is NULL, not an error. The runtime
 * calls us for a pod its kubelet saw through a watch, so the apiserver's
 * watch cache has it (a cheaper read than etcd); only a pod missing there
 * (created a moment ago, by a test) is read again consistently. */
static int get_optional(struct call *p, const struct kapi_resource *res, const char *ns,
			const char *name, json_t **ret)
{
	_cleanup_free_ char *path = kapi_path(res, ns, name, NULL);
	int r;

	*ret = NULL;
	if (!path)
		return -ENOMEM;
	r = kapi_get_cached(p->k, path, ret);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return cni_error_set(&p->err, is_transient(r) ? CNI_ERR_TRY_AGAIN : CNI_ERR_DATASTORE,
				     r, "reading %s '%s': %s", res->kind, name, kapi_last_error(p->k));
	return 0;
}

/* Replaces the configured pools by the pod's (else its namespace's)
 * annotation, per family. */
static int apply_pool_annotations(struct call *p, const char *ns, const char *pod)
{
	json_t *obj = NULL;
	size_t i;
	int r;

	if (!ns || !*ns || !pod || !*pod)
		return 0;
	r = get_optional(p, &kapi_pods, ns, pod, &obj);
	if (r >= 0 && obj && !kapi_pod_is_on_node(obj, p->node))
		r = cni_error_set(&p->err, CNI_ERR_INVALID_ENV, -EPERM,
				  "pod '%s/%s' is scheduled to node '%s', not to this node '%s'", ns,
				  pod, kapi_pod_node_name(obj) ?: "", p->node);
	if (r >= 0 && (r = pools_annotation(p, obj, "pod", ANN_V4POOLS, &p->ann_v4)) >= 0)
		r = pools_annotation(p, obj, "pod", ANN_V6POOLS, &p->ann_v6);
	json_decref(obj);
	obj = NULL;
	if (r >= 0 && (!p->ann_v4 || !p->ann_v6))
		r = get_optional(p, &kapi_namespaces, NULL, ns, &obj);
	if (r >= 0 && !p->ann_v4)
		r = pools_annotation(p, obj, "namespace", ANN_V4POOLS, &p->ann_v4);
	if (r >= 0 && !p->ann_v6)
		r = pools_annotation(p, obj, "namespace", ANN_V6POOLS, &p->ann_v6);
	json_decref(obj);
	if (r < 0)
		return r;
	if (p->ann_v4) {
		p->args.n_v4_pools = 0;
		for (i = 0; i < json_array_size(p->ann_v4); i++)
			p->args.v4_pools[p->args.n_v4_pools++] =
				json_string_value(json_array_get(p->ann_v4, i));
	}
	if (p->ann_v6) {
		p->args.n_v6_pools = 0;
		for (i = 0; i < json_array_size(p->ann_v6); i++)
			p->args.v6_pools[p->args.n_v6_pools++] =
				json_string_value(json_array_get(p->ann_v6, i));
	}
	return 0;
}

static int cmd_add(struct call *p)
{
	_cleanup_(cni_args_done) struct cni_args args = {};
	struct ipam_assign_result res;
	char handle[300], ts[64];
	time_t now = time(NULL);
	int r;

	r = cni_args_parse(p->env->args, &args, &p->err);
	if (r < 0)
		return r;
	strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S +0000 UTC", gmtime(&now));
	handle_of(p, handle, sizeof(handle));
	p->args.handle = handle;
	p->args.node = p->node;
	p->args.ns = cni_args_get(&args, "K8S_POD_NAMESPACE");
	p->args.pod = cni_args_get(&args, "K8S_POD_NAME");
	p->args.timestamp = ts;
	p->args.num_v4 = p->v4;
	p->args.num_v6 = p->v6;
	r = apply_pool_annotations(p, p->args.ns, p->args.pod);
	phase_end(p, PHASE_ANNOTATIONS);
	if (r < 0)
		return r;
	r = take_lock(p);
	phase_end(p, PHASE_LOCK);
	if (r < 0)
		return r;
	r = ipam_assign(p->ipam, &p->args, &res);
	if (r < 0)
		return ipam_error(p, r, "allocating an address");
	log_debug("allocated for '%s' on '%s'", handle, p->node);
	return print_result(p, &res);
}

/* The node another node's allocation of @handle in @b was made for, NULL
 * when every allocation of @handle there is @node's (its secondary node,
 * else the block's affinity). */
static const char *other_node(const struct ipam_block *b, const char *handle, const char *node)
{
	for (uint32_t ord = 0; ord < b->n; ord++) {
		const struct ipam_attr *a = ipam_block_attr_of(b, ord);
		const char *an = ipam_attr_secondary(a, "node");

		if (!a || !a->handle_id || strcmp(a->handle_id, handle) != 0)
			continue;
		if (an ? strcmp(an, node) != 0 : !ipam_block_is_affine_to(b, NULL, node))
			return an ?: b->affinity ?: "?";
	}
	return NULL;
}

/* felix-c's service releases only this node's allocations: a DEL naming
 * another node's container ID through this node's socket is refused. */
static int check_handle_node(struct call *p, const char *handle)
{
	_cleanup_(json_decrefp) json_t *obj = NULL;
	char name[256];
	const char *key, *other;
	json_t *v;
	int r;

	if (ipam_handle_name(handle, name, sizeof(name)) < 0)
		return 0; /* ipam_release_handle() says why */
	r = ipam_get(p->ipam, &kapi_ipamhandles, name, &obj);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return ipam_error(p, r, "reading the handle");
	json_object_foreach (json_object_get(json_object_get(obj, "spec"), "block"), key, v) {
		_cleanup_(ipam_block_freep) struct ipam_block *b = NULL;
		struct ipam_cidr cidr;

		if (ipam_cidr_parse(key, true, &cidr) < 0)
			continue;
		r = ipam_block_get(p->ipam, &cidr, &b);
		if (r == -ENOENT)
			continue;
		if (r < 0)
			return ipam_error(p, r, "reading a block of the handle");
		other = other_node(b, handle, p->node);
		if (other)
			return cni_error_set(&p->err, CNI_ERR_INVALID_ENV, -EPERM,
					     "'%s' holds addresses of node '%s', not of this node "
					     "'%s': felix-c releases its own node's only",
					     handle, other, p->node);
	}
	return 0;
}

static int cmd_del(struct call *p)
{
	char handle[300];
	int r;

	handle_of(p, handle, sizeof(handle));
	r = take_lock(p);
	if (r < 0)
		return r;
	if (p->opts->ipam && (r = check_handle_node(p, handle)) < 0)
		return r;
	r = ipam_release_handle(p->ipam, handle);
	if (r < 0)
		return ipam_error(p, r, "releasing the addresses");
	return 0;
}

/* prevResult's addresses must still be allocated to this container. */
static int cmd_check(struct call *p)
{
	char handle[300], want[IPAM_ADDR_STRLEN];
	const struct cni_result *prev = p->cfg->prev_result;

	handle_of(p, handle, sizeof(handle));
	if (!prev)
		return cni_error_set(&p->err, CNI_ERR_INVALID_CONFIG, -EINVAL,
				     "prevResult: required for CHECK");
	for (size_t i = 0; i < prev->n_ips; i++) {
		struct ipam_addr_info info;
		struct ipam_addr a;
		int r;

		if (prefix_format(&prev->ips[i].address, true, want, sizeof(want)) < 0 ||
		    ipam_addr_parse(want, &a) < 0)
			return cni_error_set(&p->err, CNI_ERR_DECODE, -EINVAL, "prevResult.ips[%zu]",
					     i);
		r = ipam_addr_lookup(p->ipam, &a, &info);
		if (r < 0 && r != -ENOENT)
			return ipam_error(p, r, "reading the allocation");
		if (r == -ENOENT || !info.allocated || strcmp(info.handle, handle) != 0)
			return cni_error_set(&p->err, CNI_ERR_UNKNOWN_CONTAINER, -ENOENT,
					     "address %s is not allocated to '%s'", want, handle);
	}
	return 0;
}

static int cmd_gc(struct call *p)
{
	const char **keep = calloc(p->cfg->n_valid_attachments + 1, sizeof(*keep));
	char (*ids)[300] = calloc(p->cfg->n_valid_attachments + 1, sizeof(*ids));
	int r;

	if (!keep || !ids) {
		free(keep);
		free(ids);
		return -ENOMEM;
	}
	for (size_t i = 0; i < p->cfg->n_valid_attachments; i++) {
		snprintf(ids[i], sizeof(ids[i]), "k8s-pod-network.%s",
			 p->cfg->valid_attachments[i].container_id);
		keep[i] = ids[i];
	}
	r = take_lock(p);
	if (r >= 0) {
		r = ipam_gc_node_handles(p->ipam, p->node, keep, p->cfg->n_valid_attachments);
		if (r < 0)
			r = ipam_error(p, r, "garbage-collecting allocations");
		else
			log_debug("GC released %d handle(s) on '%s'", r, p->node);
	}
	free(keep);
	free(ids);
	return r < 0 ? r : 0;
}

/* Ready when the datastore answers and a pool we may use exists. */
static int cmd_status(struct call *p)
{
	struct ipam_pools pools = {};
	int r, usable = 0;

	r = ipam_pools_load(p->ipam, &pools);
	if (r < 0)
		return cni_error_set(&p->err, CNI_ERR_NOT_AVAILABLE, r, "datastore unusable: %s",
				     ipam_last_error(p->ipam));
	for (size_t i = 0; i < pools.n; i++)
		if (!pools.items[i].disabled &&
		    ((p->v4 && pools.items[i].cidr.family == AF_INET) ||
		     (p->v6 && pools.items[i].cidr.family == AF_INET6)))
			usable++;
	ipam_pools_done(&pools);
	if (!usable)
		return cni_error_set(&p->err, CNI_ERR_NOT_AVAILABLE, -ENOENT,
				     "no enabled IP pool for the requested families");
	return 0;
}

static int run(struct call *p, const char *text, size_t len)
{
	static int (*const verbs[_CNI_COMMAND_MAX])(struct call *) = {
		[CNI_COMMAND_ADD] = cmd_add,	 [CNI_COMMAND_DEL] = cmd_del,
		[CNI_COMMAND_CHECK] = cmd_check, [CNI_COMMAND_GC] = cmd_gc,
		[CNI_COMMAND_STATUS] = cmd_status,
	};
	int r;

	if (p->env->command == CNI_COMMAND_VERSION)
		return cni_version_write(p->out, text, len);
	r = cni_config_parse(text, len, p->env->command, &p->cfg, &p->err);
	if (r < 0)
		return r;
	r = load_config(p);
	if (r < 0)
		return r;
	r = connect_datastore(p);
	phase_end(p, PHASE_SETUP);
	if (r < 0)
		return r;
	if (p->opts->ipam) { /* shared by every call: start this one clean */
		p->stats0 = *ipam_get_stats(p->ipam);
		ipam_clear_error(p->ipam);
	}
	r = verbs[p->env->command](p);
	phase_end(p, PHASE_VERB);
	return r;
}

int ipam_cni_run(const struct cni_env *env, const char *text, size_t len,
		 const struct ipam_cni_opts *opts, FILE *out)
{
	struct call p = { .env = env, .opts = opts, .out = out, .lock_fd = -1,
			  .mark_ns = now_ns() };
	uint64_t started = p.mark_ns;
	int r;

	r = run(&p, text, len);
	if (r < 0) {
		if (!p.err.code)
			(void)cni_error_set(&p.err, CNI_ERR_PLUGIN, r, "failed: %s", strerror(-r));
		(void)log_error_errno(r, "%s %s: %s", cni_command_to_string(env->command),
				      env->container_id ? env->container_id : "", p.err.msg);
		(void)cni_error_write(out, &p.err, p.cfg ? p.cfg->version_string : NULL);
	}
	fflush(out);
	if (p.ipam) {
		const struct ipam_stats *s = ipam_get_stats(p.ipam);

		log_debug("stats: requests=%lu conflicts=%lu claims=%lu claims_lost=%lu "
			  "borrowed=%lu", s->requests - p.stats0.requests,
			  s->conflicts - p.stats0.conflicts, s->claims - p.stats0.claims,
			  s->claims_lost - p.stats0.claims_lost, s->borrowed - p.stats0.borrowed);
		log_timing(&p, started);
	}
	call_done(&p);
	return r < 0 ? 1 : 0;
}
