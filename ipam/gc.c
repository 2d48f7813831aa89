/* Leak GC and consistency check over one snapshot of the IPAM objects, the
 * Nodes and the Pods (see gc.h).
 *
 * A snapshot is read with one LIST per kind; nothing is written while it is
 * analysed. Writes then go object by object with compare-and-swap, and with
 * the allocation's sequence number for address releases, so a GC acting on
 * a snapshot that has meanwhile gone stale fails safe (conflict, skipped)
 * rather than freeing something that was just handed out.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "gc.h"
#include "internal.h"
#include "kapi.h"

struct ipam_gc_state {
	json_t *seen; /* key -> {"first": epoch seconds, "n": observations} */
	json_t *now;  /* keys observed in the current run */
};

int ipam_gc_state_new(struct ipam_gc_state **ret)
{
	struct ipam_gc_state *s = calloc(1, sizeof(*s));

	if (!s || !(s->seen = json_object())) {
		free(s);
		return -ENOMEM;
	}
	*ret = s;
	return 0;
}

struct ipam_gc_state *ipam_gc_state_free(struct ipam_gc_state *s)
{
	if (s) {
		json_decref(s->seen);
		json_decref(s->now);
		free(s);
	}
	return NULL;
}

int ipam_gc_state_load(const char *path, struct ipam_gc_state **ret)
{
	json_t *j;
	int r;

	if (access(path, F_OK) < 0 && errno == ENOENT)
		return ipam_gc_state_new(ret);
	j = json_load_file(path, 0, NULL);
	if (!json_is_object(j)) {
		json_decref(j);
		return -EBADMSG;
	}
	r = ipam_gc_state_new(ret);
	if (r < 0) {
		json_decref(j);
		return r;
	}
	json_decref((*ret)->seen);
	(*ret)->seen = j;
	return 0;
}

int ipam_gc_state_save(const struct ipam_gc_state *s, const char *path)
{
	_cleanup_free_ char *text = json_dumps(s->seen, JSON_COMPACT);

	if (!text)
		return -ENOMEM;
	return file_write_atomic(path, text, strlen(text), 0644);
}

/* Records an observation of @key; true when it is ripe for action: seen in
 * the previous run too, first seen at least @grace seconds ago. */
static bool observe(struct ipam_gc_state *s, const char *key, unsigned grace)
{
	json_t *e = json_object_get(s->seen, key);
	time_t now = time(NULL);
	json_int_t first = now, n = 0;

	if (e) {
		first = json_integer_value(json_object_get(e, "first"));
		n = json_integer_value(json_object_get(e, "n"));
	}
	n++;
	(void)json_object_set_new(s->now, key, json_pack("{s:I, s:I}", "first", first, "n", n));
	return n >= 2 && now - first >= (json_int_t)grace;
}

/* ---- snapshot ---- */

struct snapshot {
	json_t *nodes;	 /* name -> Node labels (or true) */
	json_t *pods;	 /* "ns/name" -> pod object */
	struct ipam_blocks blocks;
	json_t *affinities; /* array */
	json_t *handles;    /* name -> handle object */
	struct ipam_pools pools;
};

static void snapshot_done(struct snapshot *s)
{
	json_decref(s->nodes);
	json_decref(s->pods);
	ipam_blocks_done(&s->blocks);
	json_decref(s->affinities);
	json_decref(s->handles);
	ipam_pools_done(&s->pools);
}

static int index_by(json_t *items, bool namespaced, json_t **ret)
{
	json_t *idx = json_object(), *it;
	size_t i;

	if (!idx)
		return -ENOMEM;
	json_array_foreach (items, i, it) {
		char key[600];
		const char *name = kapi_obj_name(it);

		if (!name)
			continue;
		if (namespaced)
			snprintf(key, sizeof(key), "%s/%s", kapi_obj_namespace(it) ?: "", name);
		else
			snprintf(key, sizeof(key), "%s", name);
		if (json_object_set(idx, key, it) < 0) {
			json_decref(idx);
			return -ENOMEM;
		}
	}
	*ret = idx;
	return 0;
}

/* What GC reads of a Pod (leak_reason, check_pod_ips): listed page by page
 * through this, so a cluster's pods never sit in memory as whole objects. */
static json_t *trim_pod(json_t *pod)
{
	json_t *meta = json_object_get(pod, "metadata");
	const char *ann = kapi_obj_annotation(pod, "cni.projectcalico.org/podIP");

	return json_pack("{s:{s:O*,s:O*,s:{s:s*}},s:{s:O*},s:{s:O*}}", "metadata", "name",
			 json_object_get(meta, "name"), "namespace",
			 json_object_get(meta, "namespace"), "annotations",
			 "cni.projectcalico.org/podIP", ann, "spec", "hostNetwork",
			 json_object_get(json_object_get(pod, "spec"), "hostNetwork"), "status",
			 "podIPs", json_object_get(json_object_get(pod, "status"), "podIPs"));
}

static int snapshot_load(struct ipam *ipam, struct snapshot *s,
			 void (*on_bad)(const char *, const char *, void *), void *userdata,
			 size_t *ret_bad)
{
	_cleanup_(json_decrefp) json_t *nodes = NULL, *pods = NULL, *handles = NULL;
	int r;

	_cleanup_free_ char *pods_path = kapi_path(&kapi_pods, NULL, NULL, NULL);
	struct kapi_list_opts po = { .limit = 500, .transform = trim_pod };

	if (!pods_path)
		return -ENOMEM;
	r = ipam_list(ipam, &kapi_nodes, NULL, false, &nodes);
	if (r >= 0) {
		ipam->stats.requests++;
		r = kapi_list(ipam->k, pods_path, &po, &pods, NULL);
	}
	if (r >= 0)
		r = ipam_list(ipam, &kapi_ipamhandles, NULL, false, &handles);
	if (r >= 0)
		r = ipam_list(ipam, &kapi_blockaffinities, NULL, false, &s->affinities);
	if (r < 0)
		return ipam_fail(ipam, r, "listing: %s", kapi_last_error(ipam->k));
	r = ipam_blocks_load(ipam, &s->blocks, ret_bad, on_bad, userdata);
	if (r >= 0)
		r = ipam_pools_load(ipam, &s->pools);
	if (r >= 0)
		r = index_by(nodes, false, &s->nodes);
	if (r >= 0)
		r = index_by(pods, true, &s->pods);
	if (r >= 0)
		r = index_by(handles, false, &s->handles);
	return r;
}

/* Why an allocation is a leak, or NULL when it is not. */
static const char *leak_reason(const struct snapshot *s, const struct ipam_attr *a)
{
	const char *ns = ipam_attr_secondary(a, "namespace"), *pod = ipam_attr_secondary(a, "pod");
	const char *node = ipam_attr_secondary(a, "node");
	char key[600];

	if (node && !json_object_get(s->nodes, node))
		return "its node no longer exists";
	if (ns && pod) {
		snprintf(key, sizeof(key), "%s/%s", ns, pod);
		if (!json_object_get(s->pods, key))
			return "its pod no longer exists";
	}
	return NULL;
}

static int gc_allocations(struct ipam *ipam, const struct snapshot *snap,
			  const struct ipam_gc_opts *o, struct ipam_gc_state *st,
			  struct ipam_gc_stats *stats)
{
	for (size_t i = 0; i < snap->blocks.n; i++) {
		const struct ipam_block *b = snap->blocks.items[i];

		for (uint32_t ord = 0; ord < b->n; ord++) {
			const struct ipam_attr *a = ipam_block_attr_of(b, ord);
			char key[400], cidr[IPAM_CIDR_STRLEN];
			struct ipam_addr addr;
			uint64_t seq = b->seq_for_alloc[ord];
			int r;

			if (!a || !leak_reason(snap, a))
				continue;
			stats->leaks_seen++;
			(void)ipam_cidr_format(&b->cidr, cidr, sizeof(cidr));
			snprintf(key, sizeof(key), "a:%s:%" PRIu32 ":%s:%" PRIu64, cidr, ord,
				 a->handle_id ?: "", seq);
			if (!observe(st, key, o->grace_seconds) || o->dry_run)
				continue;
			ipam_cidr_nth(&b->cidr, ord, &addr);
			r = ipam_release_addr(ipam, &addr, b->has_seq[ord] ? &seq : NULL);
			if (r == 1)
				stats->addrs_released++;
			else if (r < 0 && r != -ESTALE && r != -ENOENT)
				return r;
		}
	}
	return 0;
}

static const struct ipam_block *snap_block(const struct snapshot *s, const struct ipam_cidr *c)
{
	for (size_t i = 0; i < s->blocks.n; i++)
		if (ipam_cidr_equal(&s->blocks.items[i]->cidr, c))
			return s->blocks.items[i];
	return NULL;
}

/* An affinity of a node (type host, or none), not a virtual owner such as
 * Calico's LoadBalancer IPAM, whose "node" is no Node object. */
static bool affinity_is_host(const json_t *it)
{
	const char *t = json_string_value(json_object_get(json_object_get(it, "spec"), "type"));

	return !t || !*t || strcmp(t, IPAM_AFFINITY_TYPE_HOST) == 0;
}

/* Affinities of deleted nodes, pending ones never completed, and empty
 * blocks beyond a node's last. Virtual owners' affinities stay: their
 * blocks are released by their controller. */
static int gc_affinities(struct ipam *ipam, const struct snapshot *snap,
			 const struct ipam_gc_opts *o, struct ipam_gc_state *st,
			 struct ipam_gc_stats *stats)
{
	json_t *kept = json_object(); /* "<node>/<family>" -> true once one block is kept */
	size_t i;
	json_t *it;
	int r = 0;

	if (!kept)
		return -ENOMEM;
	json_array_foreach (snap->affinities, i, it) {
		struct ipam_affinity aff;
		const char *node = json_string_value(json_object_get(json_object_get(it, "spec"),
								     "node"));
		const struct ipam_block *b;
		char key[600], fam[300];
		bool gone, empty, pending;

		if (ipam_obj_is_deleted(it) || !affinity_is_host(it) ||
		    ipam_affinity_parse(it, &aff) < 0)
			continue;
		b = snap_block(snap, &aff.cidr);
		gone = !json_object_get(snap->nodes, node);
		pending = strcmp(aff.state, "pending") == 0;
		empty = b && ipam_block_in_use(b) == 0 && ipam_block_is_affine_to(b, NULL, node);
		snprintf(fam, sizeof(fam), "%s/%d", node, aff.cidr.family);
		if (!gone && !(pending && !b) && !empty) {
			json_decref(aff.obj);
			continue;
		}
		if (!gone && empty && !json_object_get(kept, fam)) {
			/* never the node's last block: keep the first empty one ... */
			bool other = false;

			for (size_t j = 0; j < snap->blocks.n; j++)
				other = other || (ipam_block_is_affine_to(snap->blocks.items[j], NULL, node) &&
						  snap->blocks.items[j]->cidr.family == aff.cidr.family &&
						  ipam_block_in_use(snap->blocks.items[j]) > 0);
			if (!other) { /* ... unless a non-empty one remains */
				(void)json_object_set_new(kept, fam, json_true());
				json_decref(aff.obj);
				continue;
			}
		}
		snprintf(key, sizeof(key), "f:%s:%s", kapi_obj_name(it) ?: "",
			 kapi_obj_resource_version(it) ?: "");
		if (observe(st, key, o->grace_seconds) && !o->dry_run) {
			if (pending && !b)
				r = ipam_delete_two_step(ipam, &kapi_blockaffinities, it, true);
			else
				r = ipam_block_release_affinity(ipam, node, &aff.cidr, !gone);
			if (r == 0)
				stats->affinities_released++;
			if (r == 0 && b && ipam_block_in_use(b) == 0)
				stats->blocks_released++;
			r = (r == -ESTALE || r == -EBUSY) ? 0 : r;
		}
		json_decref(aff.obj);
		if (r < 0)
			break;
	}
	json_decref(kept);
	return r;
}

/* Empty blocks nobody is affine to (left by a deleted node's release). */
static int gc_orphan_blocks(struct ipam *ipam, const struct snapshot *snap,
			    const struct ipam_gc_opts *o, struct ipam_gc_state *st,
			    struct ipam_gc_stats *stats)
{
	for (size_t i = 0; i < snap->blocks.n; i++) {
		const struct ipam_block *b = snap->blocks.items[i];
		char key[400];
		int r;

		if (b->affinity || ipam_block_in_use(b) > 0)
			continue;
		snprintf(key, sizeof(key), "o:%s:%s", b->name ?: "",
			 kapi_obj_resource_version(b->obj) ?: "");
		if (!observe(st, key, o->grace_seconds) || o->dry_run)
			continue;
		r = ipam_delete_two_step(ipam, &kapi_ipamblocks, b->obj, false);
		if (r == 0)
			stats->blocks_released++;
		else if (r != -ESTALE)
			return r;
	}
	return 0;
}

/* Handle counts that disagree with what the blocks hold. */
static int handle_actual(const struct snapshot *s, const char *handle_id, json_t **ret)
{
	json_t *m = json_object();

	if (!m)
		return -ENOMEM;
	for (size_t i = 0; i < s->blocks.n; i++) {
		uint32_t n = ipam_block_count_handle(s->blocks.items[i], handle_id);
		char cidr[IPAM_CIDR_STRLEN];

		if (!n)
			continue;
		(void)ipam_cidr_format(&s->blocks.items[i]->cidr, cidr, sizeof(cidr));
		(void)json_object_set_new(m, cidr, json_integer(n));
	}
	*ret = m;
	return 0;
}

static bool handle_counts_equal(const json_t *want, const json_t *have)
{
	const char *k;
	json_t *v;

	if (json_object_size(want) != json_object_size(have))
		return false;
	json_object_foreach ((json_t *)want, k, v)
		if (json_integer_value(json_object_get(have, k)) != json_integer_value(v))
			return false;
	return true;
}

static int fix_handle(struct ipam *ipam, json_t *h, json_t *actual)
{
	_cleanup_(json_decrefp) json_t *copy = json_deep_copy(h);

	if (!copy)
		return -ENOMEM;
	if (json_object_size(actual) == 0)
		return ipam_delete_two_step(ipam, &kapi_ipamhandles, copy, false);
	if (json_object_set(json_object_get(copy, "spec"), "block", actual) < 0)
		return -ENOMEM;
	return ipam_update(ipam, &kapi_ipamhandles, copy, NULL);
}

static int gc_handles(struct ipam *ipam, const struct snapshot *snap, const struct ipam_gc_opts *o,
		      struct ipam_gc_state *st, struct ipam_gc_stats *stats)
{
	const char *name;
	json_t *h;

	json_object_foreach (snap->handles, name, h) {
		_cleanup_(json_decrefp) json_t *actual = NULL;
		const char *id = json_string_value(json_object_get(json_object_get(h, "spec"),
								   "handleID"));
		char key[600];
		int r;

		if (!id || ipam_obj_is_deleted(h))
			continue;
		r = handle_actual(snap, id, &actual);
		if (r < 0)
			return r;
		if (handle_counts_equal(json_object_get(json_object_get(h, "spec"), "block"),
					actual))
			continue;
		snprintf(key, sizeof(key), "h:%s:%s", name, kapi_obj_resource_version(h) ?: "");
		if (!observe(st, key, o->grace_seconds) || o->dry_run)
			continue;
		r = fix_handle(ipam, h, actual);
		if (r == 0)
			stats->handles_fixed++;
		else if (r != -ESTALE && r != -ENOENT)
			return r;
	}
	return 0;
}

int ipam_gc_run(struct ipam *ipam, const struct ipam_gc_opts *o, struct ipam_gc_state *st,
		struct ipam_gc_stats *ret)
{
	_cleanup_(snapshot_done) struct snapshot snap = {};
	struct ipam_gc_stats stats = {};
	int r;

	ipam_clear_error(ipam);
	json_decref(st->now);
	st->now = json_object();
	if (!st->now)
		return -ENOMEM;
	r = snapshot_load(ipam, &snap, NULL, NULL, NULL);
	if (r >= 0)
		r = gc_allocations(ipam, &snap, o, st, &stats);
	/* Handles before affinities: fixing a count never frees a block. */
	if (r >= 0)
		r = gc_handles(ipam, &snap, o, st, &stats);
	if (r >= 0)
		r = gc_affinities(ipam, &snap, o, st, &stats);
	if (r >= 0)
		r = gc_orphan_blocks(ipam, &snap, o, st, &stats);
	if (r < 0)
		return r;
	/* Only consecutive observations count: forget what was not seen now. */
	json_decref(st->seen);
	st->seen = TAKE_PTR(st->now);
	*ret = stats;
	return 0;
}

/* ---- CNI GC verb ---- */

static bool kept(const char *h, const char *const *keep, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(keep[i], h) == 0)
			return true;
	return false;
}

int ipam_gc_node_handles(struct ipam *ipam, const char *node, const char *const *keep,
			 size_t n_keep)
{
	_cleanup_(ipam_blocks_done) struct ipam_blocks blocks = {};
	_cleanup_(json_decrefp) json_t *victims = json_object();
	const char *h;
	json_t *v;
	int r, n = 0;

	if (!victims)
		return -ENOMEM;
	r = ipam_blocks_load(ipam, &blocks, NULL, NULL, NULL);
	if (r < 0)
		return r;
	for (size_t i = 0; i < blocks.n; i++)
		for (uint32_t ord = 0; ord < blocks.items[i]->n; ord++) {
			const struct ipam_attr *a = ipam_block_attr_of(blocks.items[i], ord);
			const char *an = ipam_attr_secondary(a, "node");

			if (!a || !a->handle_id || strncmp(a->handle_id, "k8s-pod-network.", 16) ||
			    kept(a->handle_id, keep, n_keep))
				continue;
			if (an ? strcmp(an, node) == 0 : ipam_block_is_affine_to(blocks.items[i], NULL, node))
				(void)json_object_set_new(victims, a->handle_id, json_true());
		}
	json_object_foreach (victims, h, v) {
		r = ipam_release_handle(ipam, h);
		if (r < 0)
			return r;
		n++;
	}
	return n;
}

/* ---- check ---- */

struct checker {
	void (*report)(const char *, void *);
	void *userdata;
	int problems;
};

static void problem(struct checker *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(struct checker *c, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	c->problems++;
	if (c->report)
		c->report(buf, c->userdata);
}

static void on_bad_block(const char *name, const char *reason, void *userdata)
{
	problem(userdata, "block '%s' is malformed: %s", name ?: "?", reason);
}

static void check_allocations(struct checker *c, const struct snapshot *s)
{
	for (size_t i = 0; i < s->blocks.n; i++) {
		const struct ipam_block *b = s->blocks.items[i];

		for (uint32_t ord = 0; ord < b->n; ord++) {
			const struct ipam_attr *a = ipam_block_attr_of(b, ord);
			char ip[IPAM_ADDR_STRLEN], hname[300];
			struct ipam_addr addr;
			const char *why;

			if (!a)
				continue;
			ipam_cidr_nth(&b->cidr, ord, &addr);
			(void)ipam_addr_format(&addr, ip, sizeof(ip));
			why = leak_reason(s, a);
			if (why)
				problem(c, "%s allocated to '%s' but %s", ip, a->handle_id ?: "",
					why);
			if (!a->handle_id)
				continue;
			if (ipam_handle_name(a->handle_id, hname, sizeof(hname)) < 0 ||
			    !json_object_get(s->handles, hname) ||
			    ipam_obj_is_deleted(json_object_get(s->handles, hname)))
				problem(c, "%s allocated to handle '%s' which has no IPAMHandle", ip,
					a->handle_id);
		}
		for (size_t j = i + 1; j < s->blocks.n; j++)
			if (ipam_cidr_covers(&b->cidr, &s->blocks.items[j]->cidr) ||
			    ipam_cidr_covers(&s->blocks.items[j]->cidr, &b->cidr))
				problem(c, "blocks '%s' and '%s' overlap", b->name ?: "?",
					s->blocks.items[j]->name ?: "?");
	}
}

static void check_handles(struct checker *c, const struct snapshot *s)
{
	const char *name;
	json_t *h;

	json_object_foreach (s->handles, name, h) {
		_cleanup_(json_decrefp) json_t *actual = NULL;
		json_t *want = json_object_get(json_object_get(h, "spec"), "block");
		const char *id = json_string_value(json_object_get(json_object_get(h, "spec"),
								   "handleID"));
		char *a, *w;

		if (ipam_obj_is_deleted(h))
			continue;
		if (!id) {
			problem(c, "handle '%s' has no spec.handleID", name);
			continue;
		}
		if (handle_actual(s, id, &actual) < 0 || handle_counts_equal(want, actual))
			continue;
		a = json_dumps(actual, JSON_SORT_KEYS | JSON_COMPACT);
		w = json_dumps(want ?: json_null(), JSON_SORT_KEYS | JSON_COMPACT);
		problem(c, "handle '%s' counts %s but the blocks hold %s", id, w ?: "?", a ?: "?");
		free(a);
		free(w);
	}
}

/* Pod IPs (annotation cni.projectcalico.org/podIP(s) or status.podIPs)
 * inside a pool must be allocated. */
static void check_pod_ips(struct checker *c, const struct snapshot *s)
{
	const char *key;
	json_t *pod;

	json_object_foreach (s->pods, key, pod) {
		json_t *ips = json_object_get(json_object_get(pod, "status"), "podIPs");
		const char *ann = kapi_obj_annotation(pod, "cni.projectcalico.org/podIP");
		size_t i;

		if (json_is_true(json_object_get(json_object_get(pod, "spec"), "hostNetwork")))
			continue;
		for (i = 0; i <= json_array_size(ips); i++) {
			const char *ip = i < json_array_size(ips) ?
						 json_string_value(json_object_get(
							 json_array_get(ips, i), "ip")) : ann;
			struct ipam_addr addr;
			const struct ipam_block *b = NULL;
			uint64_t ord;

			if (!ip || ipam_addr_parse_host(ip, &addr) < 0 ||
			    !ipam_pools_find_addr(&s->pools, &addr))
				continue;
			for (size_t j = 0; j < s->blocks.n && !b; j++)
				if (ipam_cidr_contains(&s->blocks.items[j]->cidr, &addr))
					b = s->blocks.items[j];
			if (b && ipam_cidr_ordinal(&b->cidr, &addr, &ord) == 0 &&
			    ipam_block_attr_of(b, (uint32_t)ord))
				continue;
			problem(c, "pod '%s' has IP %s which is not allocated", key, ip);
		}
	}
}

static void check_affinities(struct checker *c, const struct snapshot *s)
{
	size_t i;
	json_t *it;

	json_array_foreach (s->affinities, i, it) {
		const char *node = json_string_value(json_object_get(json_object_get(it, "spec"),
								     "node"));
		struct ipam_affinity aff;
		const struct ipam_block *b;
		const char *type;

		if (ipam_obj_is_deleted(it))
			continue;
		if (ipam_affinity_parse(it, &aff) < 0) {
			problem(c, "affinity '%s' is malformed", kapi_obj_name(it) ?: "?");
			continue;
		}
		b = snap_block(s, &aff.cidr);
		type = json_string_value(json_object_get(json_object_get(it, "spec"), "type"));
		if (strcmp(aff.state, "confirmed") == 0 &&
		    (!b || !ipam_block_is_affine_to(b, type && *type ? type : NULL, node)))
			problem(c, "affinity '%s' is confirmed but block %s is %s",
				kapi_obj_name(it) ?: "?", json_string_value(json_object_get(
								  json_object_get(it, "spec"), "cidr")),
				b ? "affine to someone else" : "missing");
		if (affinity_is_host(it) && !json_object_get(s->nodes, node))
			problem(c, "affinity '%s' belongs to node '%s' which does not exist",
				kapi_obj_name(it) ?: "?", node);
		json_decref(aff.obj);
	}
}

int ipam_check(struct ipam *ipam, void (*report)(const char *problem, void *userdata),
	       void *userdata)
{
	_cleanup_(snapshot_done) struct snapshot snap = {};
	struct checker c = { .report = report, .userdata = userdata };
	int r;

	ipam_clear_error(ipam);
	r = snapshot_load(ipam, &snap, on_bad_block, &c, NULL);
	if (r < 0)
		return r;
	check_allocations(&c, &snap);
	check_handles(&c, &snap);
	check_pod_ips(&c, &snap);
	check_affinities(&c, &snap);
	return c.problems;
}
