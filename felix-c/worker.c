/* The background thread (see worker.h).
 *
 * Lease election follows the usual Kubernetes protocol: a holder renews
 * spec.renewTime every duration/3; another node takes the Lease over (by a
 * compare-and-swap update) only after the Lease's resourceVersion has not
 * changed for a whole leaseDurationSeconds measured on its OWN clock, so
 * clock skew between nodes does not matter. A leader that cannot renew for a
 * whole duration stops acting as leader before anyone can take over.
 */
#include <errno.h>
#include <malloc.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cleanup.h"
#include "evloop.h"
#include "felix-c/autodetect.h"
#include "felix-c/calicodata.h"
#include "felix-c/cnitoken.h"
#include "felix-c/config.h"
#include "felix-c/lbipam.h"
#include "felix-c/worker.h"
#include "fileio.h"
#include "ipam/gc.h"
#include "ipam/ipam.h"
#include "kapi.h"
#include "log.h"
#include "nl.h"
#include "prefix.h"


struct felix_worker {
	const struct felix_config *cfg; /* borrowed */
	struct kapi *k;			/* thread's own client */
	struct ipam *ipam;		/* created on first GC */
	struct ipam_gc_state *gc_state;
	pthread_t thread;
	pthread_mutex_t lock;		/* guards st and stop */
	pthread_cond_t wake;
	bool stop;
	bool lb_kicked;			/* guarded by lock */
	struct felix_worker_status st;
	/* thread-private */
	bool addr_done, mtu_done, pool_done, info_done, name_done, defaults_done;
	char lease_rv[64];		/* last resourceVersion seen */
	uint64_t lease_seen_ms;		/* when lease_rv last changed */
	uint64_t renewed_ms;		/* our last successful renew */
	uint64_t next_gc_ms;
	uint64_t next_lb_ms;
	struct lbipam *lb;
	uint64_t next_token_ms;		/* CNI token refresh (cnitoken.h) */
};

static void set_status(struct felix_worker *w, void (*fn)(struct felix_worker_status *, void *),
		       void *arg)
{
	pthread_mutex_lock(&w->lock);
	fn(&w->st, arg);
	pthread_mutex_unlock(&w->lock);
}

static void st_api_error(struct felix_worker_status *s, void *arg)
{
	(void)arg;
	s->api_errors++;
}

static int api_fail(struct felix_worker *w, int r, const char *what)
{
	set_status(w, st_api_error, NULL);
	return log_warning_errno(r, "%s failed (will retry): %s", what,
				 *kapi_last_error(w->k) ? kapi_last_error(w->k) : strerror(-r));
}

/* ---- startup steps ---- */

/* The MTU and nodename files the CNI plugin reads: whole or not at all. */
static int write_file_atomic(const char *path, const char *text)
{
	(void)mkdir_parent(path, 0755); /* a failure shows in the write */
	return file_write_atomic(path, text, strlen(text), 0644);
}

struct addr_result {
	const char *cidr;
	uint32_t mtu;
};

static void st_addr(struct felix_worker_status *s, void *arg)
{
	const struct addr_result *a = arg;

	if (a->cidr)
		snprintf(s->node_cidr, sizeof(s->node_cidr), "%s", a->cidr);
	if (a->mtu)
		s->mtu = a->mtu;
}

/* The node's BGP addresses as its annotations should say: "" for none
 * (IP / IP6 "none": the annotation is removed). */
struct node_addrs {
	char v4[PREFIX_STRLEN];
	char v6[PREFIX_STRLEN];
	bool v6_keep; /* IP6 unset: the IPv6 annotation stays as it is */
	uint32_t mtu; /* of the interface carrying the first one found */
};

/* One family's address from @ip (the IP or IP6 setting) and @method. */
static int detect_family(struct nl *nl, int family, const char *ip, const char *method,
			 const json_t *node, char ret[static PREFIX_STRLEN], uint32_t *ret_mtu)
{
	struct in_prefix p, internal;
	bool have_internal;
	int r;

	ret[0] = '\0';
	if (strcmp(ip, "none") == 0)
		return 0;
	if (*ip && strcmp(ip, "autodetect") != 0) { /* validated by config.c */
		if (prefix_parse(ip, PREFIX_ALLOW_BARE, &p) < 0)
			return -EINVAL;
		return prefix_format(&p, false, ret, PREFIX_STRLEN);
	}
	have_internal = autodetect_node_internal_ip(node, family, &internal) == 0;
	r = autodetect_run(nl, family, method, have_internal ? &internal : NULL, &p, ret_mtu);
	if (r < 0)
		return log_warning_errno(r, "Failed to autodetect the node's IPv%c address with "
					 "'%s'%s (will retry): %m", family == AF_INET ? '4' : '6',
					 method, r == -ENOENT && !have_internal &&
					 strcmp(method, "kubernetes-internal-ip") == 0 ?
					 ": the Node has no InternalIP of that family" : "");
	return prefix_format(&p, false, ret, PREFIX_STRLEN);
}

/* Finds the node's addresses (IP= / IP6=, or autodetection) and the uplink MTU. */
static int step_detect(struct felix_worker *w, const json_t *node, struct node_addrs *a)
{
	_cleanup_(nl_freep) struct nl *nl = NULL;
	const struct felix_config *c = w->cfg;
	uint32_t mtu4 = 0, mtu6 = 0;
	int r;

	r = nl_open(&nl);
	if (r < 0)
		return log_warning_errno(r, "Failed to open rtnetlink (will retry): %m");
	r = detect_family(nl, AF_INET, c->ip, c->ip_autodetect, node, a->v4, &mtu4);
	if (r < 0)
		return r;
	a->v6_keep = !*c->ip6;
	if (!a->v6_keep) {
		r = detect_family(nl, AF_INET6, c->ip6, c->ip6_autodetect, node, a->v6, &mtu6);
		if (r < 0)
			return r;
	}
	a->mtu = mtu4 ? mtu4 : mtu6;
	if (!a->mtu) { /* fixed addresses: the uplink's MTU all the same */
		struct in_prefix p;

		if (autodetect_run(nl, AF_INET, "first-found", NULL, &p, &a->mtu) < 0)
			(void)autodetect_run(nl, AF_INET6, "first-found", NULL, &p, &a->mtu);
	}
	return 0;
}

static int step_mtu(struct felix_worker *w, uint32_t mtu)
{
	const struct felix_config *c = w->cfg;
	char text[32];
	int r;

	if (c->mtu)
		mtu = c->mtu;
	if (!w->mtu_done && mtu) {
		snprintf(text, sizeof(text), "%u\n", mtu);
		r = write_file_atomic(c->mtu_file, text);
		if (r < 0)
			return log_warning_errno(r, "Failed to write MTU file '%s' (will retry): %m",
						 c->mtu_file);
		log_info("MTU %u written to '%s'", mtu, c->mtu_file);
		w->mtu_done = true;
	}
	return 0;
}

#define ANN_V4 "projectcalico.org/IPv4Address"
#define ANN_V6 "projectcalico.org/IPv6Address"
#define ANN_AS "projectcalico.org/ASNumber"

/* Sets @key to @want in the merge patch @ann when the Node's value differs:
 * "" removes it (null in a merge patch). Return: whether it differs. */
static bool ann_update(json_t *ann, const json_t *node, const char *key, const char *want)
{
	const char *cur = kapi_obj_annotation(node, key);

	if (*want ? cur && strcmp(cur, want) == 0 : !cur)
		return false;
	json_object_set_new(ann, key, *want ? json_string(want) : json_null());
	return true;
}

static int step_annotate(struct felix_worker *w, const char *path, const json_t *node,
			 const struct node_addrs *a)
{
	_cleanup_(json_decrefp) json_t *ann = json_object(), *patch = NULL;
	bool change;
	char as[16] = "";
	int r;

	if (!ann)
		return -ENOMEM;
	/* AS unset: the node follows the cluster default (an annotation set
	 * earlier stays, as in Calico). */
	if (w->cfg->as_number)
		snprintf(as, sizeof(as), "%u", w->cfg->as_number);
	change = ann_update(ann, node, ANN_V4, a->v4);
	change |= !a->v6_keep && ann_update(ann, node, ANN_V6, a->v6);
	change |= *as && ann_update(ann, node, ANN_AS, as);
	if (!change)
		return 0;
	patch = json_pack("{s:{s:O}}", "metadata", "annotations", ann);
	if (!patch)
		return -ENOMEM;
	r = kapi_patch(w->k, path, KAPI_PATCH_MERGE, patch, NULL);
	if (r < 0)
		return api_fail(w, r, "Annotating our Node");
	log_info("Node '%s' registered with BGP addresses IPv4 %s, IPv6 %s%s%s", w->cfg->nodename,
		 *a->v4 ? a->v4 : "none", a->v6_keep ? "unchanged" : *a->v6 ? a->v6 : "none",
		 *as ? ", AS " : "", as);
	return 0;
}

/* Reads our Node, finds its addresses, writes the MTU file and annotates
 * the Node. */
static int step_register(struct felix_worker *w)
{
	_cleanup_free_ char *path = kapi_path(&kapi_nodes, NULL, w->cfg->nodename, NULL);
	_cleanup_(json_decrefp) json_t *node = NULL;
	struct node_addrs a = {};
	int r;

	if (!path)
		return -ENOMEM;
	r = kapi_get(w->k, path, &node);
	if (r < 0)
		return api_fail(w, r, "Reading our Node");
	r = step_detect(w, node, &a);
	if (r == 0)
		r = step_mtu(w, a.mtu);
	if (r < 0)
		return r;
	set_status(w, st_addr, &(struct addr_result){ *a.v4 ? a.v4 : NULL,
						      w->cfg->mtu ? w->cfg->mtu : a.mtu });
	return step_annotate(w, path, node, &a);
}

static int create_pool(struct felix_worker *w, const char *path, const char *cidr,
		       unsigned block_size, bool nat)
{
	_cleanup_(json_decrefp) json_t *pool = calicodata_default_pool(cidr, block_size, nat);
	int r;

	if (!pool)
		return -ENOMEM; /* the CIDR was validated by config.c */
	r = kapi_create(w->k, path, pool, NULL);
	if (r == -EEXIST)
		return 0;
	if (r < 0)
		return api_fail(w, r, "Creating a default IPPool");
	log_info("Created the default IPPool %s (block size %u, natOutgoing %s)", cidr, block_size,
		 nat ? "true" : "false");
	return 0;
}

/* As in Calico: a default pool per family when the cluster has no pool of
 * that family. The IPv6 one, when CALICO_IPV6POOL_CIDR is unset, only when
 * this node has IPv6 on (IP6 autodetect or an address), on a random ULA /48. */
static int step_default_pool(struct felix_worker *w)
{
	const struct felix_config *c = w->cfg;
	_cleanup_free_ char *path = kapi_path(&kapi_ippools, NULL, NULL, NULL);
	_cleanup_(json_decrefp) json_t *items = NULL;
	bool has4, has6, ip6_on = *c->ip6 && strcmp(c->ip6, "none") != 0;
	char ula[PREFIX_STRLEN];
	const char *cidr6 = c->pool6_cidr;
	int r;

	if (!path)
		return -ENOMEM;
	if (c->no_default_pools)
		return 0;
	r = kapi_list(w->k, path, NULL, &items, NULL);
	if (r < 0)
		return api_fail(w, r, "Listing IPPools");
	calicodata_pool_families(items, &has4, &has6);
	if (!has4 && strcmp(c->pool_cidr, "none") != 0) {
		r = create_pool(w, path, c->pool_cidr, c->pool_block_size, c->pool_nat_outgoing);
		if (r < 0)
			return r;
	}
	if (has6 || strcmp(cidr6, "none") == 0 || (!*cidr6 && !ip6_on))
		return 0;
	if (!*cidr6) {
		r = calicodata_random_ula48(ula, sizeof(ula));
		if (r < 0)
			return log_warning_errno(r, "Failed to draw a ULA prefix (will retry): %m");
		cidr6 = ula;
	}
	return create_pool(w, path, cidr6, c->pool6_block_size, c->pool6_nat_outgoing);
}

static int step_cluster_info(struct felix_worker *w)
{
	const char *version = w->cfg->calico_version;
	_cleanup_free_ char *coll = kapi_path(&kapi_clusterinformations, NULL, NULL, NULL);
	_cleanup_free_ char *path = kapi_path(&kapi_clusterinformations, NULL, "default", NULL);
	_cleanup_(json_decrefp) json_t *ci = NULL, *obj = NULL;
	char guid[33];
	int r;

	if (!coll || !path)
		return -ENOMEM;
	r = kapi_get(w->k, path, &ci);
	if (r == 0) {
		obj = calicodata_cluster_info_patch(ci, version);
		if (!obj)
			return 0;
		r = kapi_patch(w->k, path, KAPI_PATCH_MERGE, obj, NULL);
		return r < 0 ? api_fail(w, r, "Updating ClusterInformation") : 0;
	}
	if (r != -ENOENT)
		return api_fail(w, r, "Reading ClusterInformation");
	srandom((unsigned)(time(NULL) ^ getpid()));
	for (size_t i = 0; i < 32; i++)
		guid[i] = "0123456789abcdef"[random() % 16];
	guid[32] = '\0';
	obj = calicodata_cluster_info_new(guid, version);
	if (!obj)
		return -ENOMEM;
	r = kapi_create(w->k, coll, obj, NULL);
	if (r < 0 && r != -EEXIST)
		return api_fail(w, r, "Creating ClusterInformation");
	return 0;
}

/* Calico's node name file, read by Calico's CNI plugin (no newline, as
 * Calico writes it); "" turns it off. */
static int step_nodename_file(struct felix_worker *w)
{
	const struct felix_config *c = w->cfg;
	int r;

	if (!*c->nodename_file)
		return 0;
	r = write_file_atomic(c->nodename_file, c->nodename);
	if (r < 0)
		return log_warning_errno(r, "Failed to write the node name file '%s' (will retry): %m",
					 c->nodename_file);
	return 0;
}

static int step_calico_defaults(struct felix_worker *w)
{
	const char *what = NULL;
	int r = calicodata_ensure_defaults(w->k, &what);

	return r < 0 ? api_fail(w, r, what) : 0;
}

static void st_startup_done(struct felix_worker_status *s, void *arg)
{
	(void)arg;
	s->startup_done = true;
}

static void startup(struct felix_worker *w)
{
	if (!w->addr_done) {
		if (step_register(w) < 0)
			return;
		w->addr_done = true;
	}
	if (!w->pool_done && step_default_pool(w) == 0)
		w->pool_done = true;
	if (!w->info_done && step_cluster_info(w) == 0)
		w->info_done = true;
	if (!w->name_done && step_nodename_file(w) == 0)
		w->name_done = true;
	if (!w->defaults_done && step_calico_defaults(w) == 0)
		w->defaults_done = true;
	if (w->addr_done && w->pool_done && w->info_done && w->name_done && w->defaults_done)
		set_status(w, st_startup_done, NULL);
}

/* ---- lease ---- */

static void micro_time(char buf[static 64])
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(buf, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 ts.tv_nsec / 1000);
}

static json_t *lease_object(const struct felix_worker *w, const json_t *old)
{
	const struct felix_config *c = w->cfg;
	json_t *spec = json_object_get(old, "spec");
	const char *holder = json_string_value(json_object_get(spec, "holderIdentity"));
	json_int_t transitions = json_integer_value(json_object_get(spec, "leaseTransitions"));
	bool mine = holder && strcmp(holder, c->nodename) == 0;
	const char *acquired = json_string_value(json_object_get(spec, "acquireTime"));
	char now[64];
	json_t *o;

	micro_time(now);
	o = json_pack("{s:s,s:s,s:{s:s,s:s},s:{s:s,s:i,s:s,s:s,s:I}}", "apiVersion",
		      "coordination.k8s.io/v1", "kind", "Lease", "metadata", "name", c->lease_name,
		      "namespace", c->lease_namespace, "spec", "holderIdentity", c->nodename,
		      "leaseDurationSeconds", (int)c->lease_duration_s, "acquireTime",
		      mine && acquired ? acquired : now, "renewTime", now, "leaseTransitions",
		      old && !mine ? transitions + 1 : transitions);
	if (o && old)
		json_object_set(json_object_get(o, "metadata"), "resourceVersion",
				json_object_get(json_object_get(old, "metadata"), "resourceVersion"));
	return o;
}

struct leader_change {
	bool leader;
};

static void st_leader(struct felix_worker_status *s, void *arg)
{
	bool l = ((struct leader_change *)arg)->leader;

	if (s->leader != l)
		s->leader_changes++;
	s->leader = l;
}

static void set_leader(struct felix_worker *w, bool leader)
{
	bool was;

	pthread_mutex_lock(&w->lock);
	was = w->st.leader;
	pthread_mutex_unlock(&w->lock);
	if (was != leader)
		log_info("IPAM GC leadership %s (Lease %s/%s)", leader ? "acquired" : "lost",
			 w->cfg->lease_namespace, w->cfg->lease_name);
	set_status(w, st_leader, &(struct leader_change){ leader });
}

/* One election round. Return: whether we hold the Lease now. */
static bool lease_round(struct felix_worker *w, uint64_t now)
{
	const struct felix_config *c = w->cfg;
	_cleanup_free_ char *coll = kapi_path(&kapi_leases, c->lease_namespace, NULL, NULL);
	_cleanup_free_ char *path = kapi_path(&kapi_leases, c->lease_namespace, c->lease_name, NULL);
	json_t *old = NULL, *obj;
	const char *holder, *rv;
	bool mine;
	int r;

	if (!coll || !path)
		return false;
	r = kapi_get(w->k, path, &old);
	if (r < 0 && r != -ENOENT) {
		api_fail(w, r, "Reading the GC Lease");
		/* Keep leading only while our last renew is fresh. */
		return w->renewed_ms && now - w->renewed_ms < c->lease_duration_s * 1000ull * 2 / 3;
	}
	if (old) {
		holder = json_string_value(json_object_get(json_object_get(old, "spec"),
							   "holderIdentity"));
		rv = kapi_obj_resource_version(old);
		mine = holder && strcmp(holder, c->nodename) == 0;
		if (rv && strcmp(rv, w->lease_rv) != 0) {
			snprintf(w->lease_rv, sizeof(w->lease_rv), "%s", rv);
			w->lease_seen_ms = now;
		}
		if (!mine && holder && *holder && now - w->lease_seen_ms < c->lease_duration_s * 1000ull) {
			json_decref(old);
			return false; /* someone else holds a live lease */
		}
	}
	obj = lease_object(w, old);
	json_decref(old);
	if (!obj)
		return false;
	r = old ? kapi_update(w->k, path, obj, NULL) : kapi_create(w->k, coll, obj, NULL);
	json_decref(obj);
	if (r < 0) {
		if (r != -ESTALE && r != -EEXIST)
			api_fail(w, r, "Writing the GC Lease");
		return false;
	}
	w->renewed_ms = now;
	return true;
}

static void st_gc(struct felix_worker_status *s, void *arg)
{
	const struct ipam_gc_stats *g = arg;

	s->gc_runs++;
	if (!g) {
		s->gc_errors++;
		return;
	}
	s->gc_leaks_seen = g->leaks_seen;
	s->gc_addrs_released += g->addrs_released;
	s->gc_blocks_released += g->blocks_released;
}

static void gc_pass(struct felix_worker *w)
{
	struct ipam_gc_opts o = { .grace_seconds = w->cfg->ipam_gc_grace_s };
	struct ipam_gc_stats stats = {};
	int r = 0;

	if (!w->ipam)
		r = ipam_new(w->k, &w->ipam);
	if (r == 0 && !w->gc_state)
		r = ipam_gc_state_new(&w->gc_state);
	if (r == 0)
		r = ipam_gc_run(w->ipam, &o, w->gc_state, &stats);
	if (r < 0) {
		log_warning_errno(r, "IPAM GC pass failed (will retry): %s",
				  w->ipam ? ipam_last_error(w->ipam) : "");
		set_status(w, st_gc, NULL);
		return;
	}
	if (stats.addrs_released || stats.blocks_released || stats.affinities_released ||
	    stats.handles_fixed)
		log_info("IPAM GC released %u addresses, %u blocks, %u affinities; fixed %u handles",
			 stats.addrs_released, stats.blocks_released, stats.affinities_released,
			 stats.handles_fixed);
	set_status(w, st_gc, &stats);
}

static void st_lb(struct felix_worker_status *s, void *arg)
{
	const struct lbipam_stats *x = arg;

	s->lb_passes++;
	s->lb_assigned += x->assigned;
	s->lb_released += x->released;
	s->lb_errors += x->errors;
}

static void lb_pass(struct felix_worker *w)
{
	struct lbipam_stats stats = {};
	int r = 0;

	if (!w->ipam)
		r = ipam_new(w->k, &w->ipam);
	if (r == 0 && !w->lb)
		r = lbipam_new(&w->lb);
	if (r == 0)
		r = lbipam_pass(w->lb, w->k, w->ipam, &stats);
	if (r < 0)
		stats.errors++;
	set_status(w, st_lb, &stats);
}

static bool take_lb_kick(struct felix_worker *w)
{
	bool k;

	pthread_mutex_lock(&w->lock);
	k = w->lb_kicked;
	w->lb_kicked = false;
	pthread_mutex_unlock(&w->lock);
	return k;
}

/* Refreshes the CNI token when due; returns ms until the next one is due. */
static uint64_t cni_token_round(struct felix_worker *w, uint64_t now)
{
	const struct felix_config *c = w->cfg;
	int64_t remaining = 0;
	int r;

	if (now < w->next_token_ms)
		return w->next_token_ms - now;
	/* -ENOENT: install-cni has not written the kubeconfig yet. */
	r = cnitoken_refresh(w->k, c, &remaining);
	if (r < 0 && r != -ENOENT)
		set_status(w, st_api_error, NULL);
	if (r < 0)
		remaining = 0; /* retry soon */
	/* Jitter from the node's own random state: nodes do not ask in step. */
	w->next_token_ms = now + cnitoken_next_delay_ms(remaining, drand48(), c->cni_token_refresh_ms);
	return w->next_token_ms - now;
}

static void *worker_main(void *arg)
{
	struct felix_worker *w = arg;
	const struct felix_config *c = w->cfg;
	bool startup_done = false, leader;

	for (;;) {
		uint64_t now = evloop_now_ms(), wait_ms = 2000;
		bool lb_kicked = take_lb_kick(w);
		struct timespec ts;

		if (!startup_done) {
			startup(w);
			pthread_mutex_lock(&w->lock);
			startup_done = w->st.startup_done;
			pthread_mutex_unlock(&w->lock);
		}
		if (c->ipam_gc) {
			leader = lease_round(w, now);
			set_leader(w, leader);
			if (leader && now >= w->next_gc_ms) {
				gc_pass(w);
				/* A pass lists the cluster: give what it freed back. */
				(void)malloc_trim(0);
				w->next_gc_ms = evloop_now_ms() + c->ipam_gc_interval_ms;
			}
			wait_ms = c->lease_duration_s * 1000ull / 3;
			if (c->lb_ipam && leader && (lb_kicked || now >= w->next_lb_ms)) {
				lb_pass(w);
				/* So does this one (Services, pools, all blocks). */
				(void)malloc_trim(0);
				w->next_lb_ms = evloop_now_ms() + c->lb_ipam_interval_ms;
			}
		}
		if (*c->cni_token_account) {
			uint64_t t = cni_token_round(w, evloop_now_ms());

			if (t < wait_ms)
				wait_ms = t;
		}
		if (!startup_done && wait_ms > 2000)
			wait_ms = 2000;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += (time_t)(wait_ms / 1000);
		ts.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L)
			ts.tv_sec++, ts.tv_nsec -= 1000000000L;
		pthread_mutex_lock(&w->lock);
		while (!w->stop && !w->lb_kicked &&
		       pthread_cond_timedwait(&w->wake, &w->lock, &ts) == 0)
			;
		if (w->stop) {
			pthread_mutex_unlock(&w->lock);
			break;
		}
		pthread_mutex_unlock(&w->lock);
	}
	return NULL;
}

int felix_worker_start(const struct felix_config *c, const struct kapi_config *kc,
		       struct felix_worker **ret)
{
	struct felix_worker *w = calloc(1, sizeof(*w));
	int r;

	if (!w)
		return -ENOMEM;
	w->cfg = c;
	r = kapi_new(kc, &w->k);
	if (r < 0) {
		free(w);
		return r;
	}
	kapi_set_timeouts(w->k, 5000, 2000);
	srand48((long)time(NULL) ^ (long)getpid());
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wake, NULL);
	r = -pthread_create(&w->thread, NULL, worker_main, w);
	if (r < 0) {
		kapi_free(w->k);
		free(w);
		return r;
	}
	*ret = w;
	return 0;
}

/* Lets the Lease expire at once so another node takes over without waiting. */
static void lease_release(struct felix_worker *w)
{
	const struct felix_config *c = w->cfg;
	_cleanup_free_ char *path = kapi_path(&kapi_leases, c->lease_namespace, c->lease_name, NULL);
	json_t *old = NULL, *spec;

	if (!path || kapi_get(w->k, path, &old) < 0)
		return;
	spec = json_object_get(old, "spec");
	if (json_is_string(json_object_get(spec, "holderIdentity")) &&
	    strcmp(json_string_value(json_object_get(spec, "holderIdentity")), c->nodename) == 0) {
		json_object_set_new(spec, "holderIdentity", json_string(""));
		json_object_set_new(spec, "leaseDurationSeconds", json_integer(1));
		(void)kapi_update(w->k, path, old, NULL);
	}
	json_decref(old);
}

struct felix_worker *felix_worker_stop(struct felix_worker *w)
{
	if (!w)
		return NULL;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	if (w->st.leader)
		lease_release(w);
	ipam_gc_state_free(w->gc_state);
	lbipam_free(w->lb);
	ipam_free(w->ipam);
	kapi_free(w->k);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->wake);
	free(w);
	return NULL;
}

void felix_worker_kick_lb(struct felix_worker *w)
{
	pthread_mutex_lock(&w->lock);
	w->lb_kicked = true;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
}

void felix_worker_snapshot(struct felix_worker *w, struct felix_worker_status *ret)
{
	pthread_mutex_lock(&w->lock);
	*ret = w->st;
	pthread_mutex_unlock(&w->lock);
}
