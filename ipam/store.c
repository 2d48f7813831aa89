/* IPAM objects in the apiserver: reading and compare-and-swap writing of
 * IPPools, IPAMConfig, IPAMBlocks, BlockAffinities and IPAMHandles.
 *
 * Readers are defensive: objects written by other programs may be malformed
 * or half-deleted (spec.deleted set, the DELETE not yet done). A deleted
 * object is treated as absent everywhere, and whoever trips over one first
 * finishes its deletion with preconditions, as Calico does.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "cleanup.h"
#include "errmsg.h"
#include "internal.h"
#include "kapi.h"
#include "selector.h"

int ipam_new(struct kapi *k, struct ipam **ret)
{
	struct ipam *ipam = calloc(1, sizeof(*ipam));

	if (!ipam)
		return -ENOMEM;
	ipam->k = k;
	*ret = ipam;
	return 0;
}

struct ipam *ipam_free(struct ipam *ipam)
{
	free(ipam);
	return NULL;
}

const char *ipam_last_error(const struct ipam *ipam)
{
	return ipam->error;
}

const struct ipam_stats *ipam_get_stats(const struct ipam *ipam)
{
	return &ipam->stats;
}

int ipam_fail(struct ipam *ipam, int r, const char *fmt, ...)
{
	va_list ap;

	if (ipam->error[0])
		return r;
	va_start(ap, fmt);
	vsnprintf(ipam->error, sizeof(ipam->error), fmt, ap);
	va_end(ap);
	return r;
}

void ipam_clear_error(struct ipam *ipam)
{
	ipam->error[0] = '\0';
}

int ipam_get(struct ipam *ipam, const struct kapi_resource *res, const char *name, json_t **ret)
{
	return ipam_read(ipam, res, name, false, ret);
}

int ipam_read(struct ipam *ipam, const struct kapi_resource *res, const char *name, bool cached,
	      json_t **ret)
{
	_cleanup_free_ char *path = kapi_path(res, NULL, name, NULL);
	_cleanup_free_ char *query = NULL;
	unsigned long sent = kapi_requests_sent(ipam->k);
	int r;

	if (!path)
		return -ENOMEM;
	if (cached && asprintf(&query, "%s?resourceVersion=0", path) < 0)
		return -ENOMEM;
	r = kapi_get(ipam->k, query ? query : path, ret);
	ipam->stats.requests += kapi_requests_sent(ipam->k) - sent; /* 0: answered locally */
	return r;
}

int ipam_list(struct ipam *ipam, const struct kapi_resource *res, const char *label_selector,
	      bool cached, json_t **ret_items)
{
	_cleanup_free_ char *path = kapi_path(res, NULL, NULL, NULL);
	_cleanup_free_ char *query = NULL;
	struct kapi_list_opts o = { .label_selector = label_selector };
	unsigned long sent = kapi_requests_sent(ipam->k);
	int r;

	if (!path)
		return -ENOMEM;
	if (cached && asprintf(&query, "%s?resourceVersion=0", path) < 0)
		return -ENOMEM;
	r = kapi_list(ipam->k, query ? query : path, &o, ret_items, NULL);
	ipam->stats.requests += kapi_requests_sent(ipam->k) - sent; /* 0: answered locally */
	return r;
}

int ipam_create(struct ipam *ipam, const struct kapi_resource *res, json_t *obj, json_t **ret)
{
	_cleanup_free_ char *path = kapi_path(res, NULL, NULL, NULL);

	if (!path)
		return -ENOMEM;
	ipam->stats.requests++;
	return kapi_create(ipam->k, path, obj, ret);
}

int ipam_update(struct ipam *ipam, const struct kapi_resource *res, json_t *obj, json_t **ret)
{
	_cleanup_free_ char *path = kapi_path(res, NULL, kapi_obj_name(obj), NULL);
	int r;

	if (!path)
		return -ENOMEM;
	ipam->stats.requests++;
	r = kapi_update(ipam->k, path, obj, ret);
	if (r == -ESTALE)
		ipam->stats.conflicts++;
	return r;
}

bool ipam_obj_is_deleted(const json_t *obj)
{
	json_t *d = json_object_get(json_object_get(obj, "spec"), "deleted");

	return json_is_true(d) || (json_is_string(d) && strcasecmp(json_string_value(d), "true") == 0);
}

int ipam_delete_two_step(struct ipam *ipam, const struct kapi_resource *res, json_t *obj,
			 bool as_string)
{
	_cleanup_(json_decrefp) json_t *copy = json_deep_copy(obj);
	_cleanup_(json_decrefp) json_t *stored = NULL;
	_cleanup_free_ char *path = NULL;
	json_t *spec;
	int r;

	if (!copy)
		return -ENOMEM;
	spec = json_object_get(copy, "spec");
	if (!json_is_object(spec))
		return -EINVAL;
	if (!ipam_obj_is_deleted(obj)) {
		if (json_object_set_new(spec, "deleted",
					as_string ? json_string("true") : json_true()) < 0)
			return -ENOMEM;
		r = ipam_update(ipam, res, copy, &stored);
		if (r == -ENOENT)
			return 0;
		if (r < 0)
			return r;
		obj = stored;
	}
	path = kapi_path(res, NULL, kapi_obj_name(obj), NULL);
	if (!path)
		return -ENOMEM;
	ipam->stats.requests++;
	r = kapi_delete(ipam->k, path, kapi_obj_uid(obj), kapi_obj_resource_version(obj));
	if (r == -ENOENT)
		return 0;
	if (r == -ESTALE)
		ipam->stats.conflicts++;
	return r;
}

/* ---- names ---- */

int ipam_handle_name(const char *handle_id, char *buf, size_t size)
{
	size_t n = handle_id ? strlen(handle_id) : 0;

	if (n == 0 || n >= size || n > 253)
		return -EINVAL;
	for (size_t i = 0; i <= n; i++)
		buf[i] = (char)tolower((unsigned char)handle_id[i]);
	return 0;
}

static int sha256_hex(const char *s, char out[65])
{
	unsigned char md[32];
	unsigned int len = 0;

	if (!EVP_Digest(s, strlen(s), md, &len, EVP_sha256(), NULL) || len != 32)
		return -ENOMEM;
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return 0;
}

/* Calico's rule: "<node>-<blockname>", shortened with a hash when the name
 * would reach 253 characters. */
int ipam_affinity_name(const char *node, const struct ipam_cidr *block, char *buf, size_t size)
{
	char bname[IPAM_NAME_STRLEN], hex[65];
	_cleanup_free_ char *both = NULL;
	size_t keep;
	int r;

	r = ipam_cidr_to_name(block, bname, sizeof(bname));
	if (r < 0)
		return r;
	if (strlen(node) + 1 + strlen(bname) < 253) {
		if ((size_t)snprintf(buf, size, "%s-%s", node, bname) >= size)
			return -ENOSPC;
		return 0;
	}
	if (asprintf(&both, "%s+%s", node, bname) < 0)
		return -ENOMEM;
	r = sha256_hex(both, hex);
	if (r < 0)
		return r;
	keep = 252 - strlen(bname) - 13;
	if ((size_t)snprintf(buf, size, "%.*s-%s-%.11s", (int)keep, node, bname, hex) >= size)
		return -ENOSPC;
	return 0;
}

/* Calico's hostname-hash label value: SHA3-256 of the node name in base32
 * (RFC 4648 alphabet, no padding): 52 characters, always a valid label. */
int ipam_affinity_host_hash(const char *node, char *buf, size_t size)
{
	static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	unsigned char md[32];
	unsigned int len = 0;
	size_t o = 0;

	if (size < 53)
		return -ENOSPC;
	if (!EVP_Digest(node, strlen(node), md, &len, EVP_sha3_256(), NULL) || len != 32)
		return -ENOMEM;
	for (size_t bit = 0; bit < 256; bit += 5) {
		unsigned v = 0;

		for (size_t i = 0; i < 5; i++) {
			size_t b = bit + i;

			v = v << 1 | (b < 256 ? (md[b / 8] >> (7 - b % 8)) & 1u : 0u);
		}
		buf[o++] = b32[v];
	}
	buf[o] = '\0';
	return 0;
}

int ipam_affinity_set_labels(json_t *obj)
{
	json_t *md = json_object_get(obj, "metadata"), *spec = json_object_get(obj, "spec"), *labels;
	const char *node = json_string_value(json_object_get(spec, "node"));
	const char *cidr = json_string_value(json_object_get(spec, "cidr"));
	const char *type = json_string_value(json_object_get(spec, "type"));
	char hash[64];
	int r;

	if (!json_is_object(md) || !node || !cidr)
		return -EINVAL;
	if (!type || !*type) {
		type = IPAM_AFFINITY_TYPE_HOST;
		if (json_object_set_new(spec, "type", json_string(type)) < 0)
			return -ENOMEM;
	}
	r = ipam_affinity_host_hash(node, hash, sizeof(hash));
	if (r < 0)
		return r;
	labels = json_object_get(md, "labels");
	if (!json_is_object(labels)) {
		labels = json_object();
		if (json_object_set_new(md, "labels", labels) < 0)
			return -ENOMEM;
	}
	if (json_object_set_new(labels, IPAM_LABEL_HOSTNAME_HASH, json_string(hash)) < 0 ||
	    json_object_set_new(labels, IPAM_LABEL_AFFINITY_TYPE, json_string(type)) < 0 ||
	    json_object_set_new(labels, IPAM_LABEL_IP_VERSION,
				json_string(strchr(cidr, ':') ? "6" : "4")) < 0)
		return -ENOMEM;
	return 0;
}

/* ---- pools and config (a pool is parsed by pool.c) ---- */

int ipam_pools_load(struct ipam *ipam, struct ipam_pools *ret)
{
	return ipam_pools_read(ipam, false, ret);
}

int ipam_pools_read(struct ipam *ipam, bool cached, struct ipam_pools *ret)
{
	_cleanup_(json_decrefp) json_t *items = NULL;
	struct ipam_pools p = {};
	json_t *it;
	size_t i;
	int r;

	r = ipam_list(ipam, &kapi_ippools, NULL, cached, &items);
	if (r < 0)
		return ipam_fail(ipam, r, "listing IPPools: %s", kapi_last_error(ipam->k));
	p.items = calloc(json_array_size(items) + 1, sizeof(*p.items));
	if (!p.items)
		return -ENOMEM;
	json_array_foreach (items, i, it) {
		_cleanup_free_ char *err = NULL;

		r = ipam_pool_from_json(it, &p.items[p.n], &err);
		if (r == -ENOMEM) {
			ipam_pools_done(&p);
			return r;
		}
		if (r < 0) {
			/* Unusable, not fatal to the others; kept so a request
			 * naming it gets the reason. */
			struct ipam_pool *bad = &p.items[p.n];

			*bad = (struct ipam_pool){ .disabled = true,
						   .name = strdup(kapi_obj_name(it) ?: ""),
						   .error = err ? TAKE_PTR(err) : strdup("malformed") };
			if (!bad->name || !bad->error) {
				p.n++;
				ipam_pools_done(&p);
				return -ENOMEM;
			}
		}
		p.n++;
	}
	*ret = p;
	return 0;
}

int ipam_config_load(struct ipam *ipam, struct ipam_config *ret)
{
	_cleanup_(json_decrefp) json_t *obj = NULL;
	struct ipam_config c = { .auto_allocate_blocks = true };
	json_t *spec, *v;
	int r;

	r = ipam_get(ipam, &kapi_ipamconfigs, "default", &obj);
	if (r == -ENOENT) {
		*ret = c;
		return 0;
	}
	if (r < 0)
		return ipam_fail(ipam, r, "reading IPAMConfig default: %s", kapi_last_error(ipam->k));
	spec = json_object_get(obj, "spec");
	c.strict_affinity = json_is_true(json_object_get(spec, "strictAffinity"));
	v = json_object_get(spec, "autoAllocateBlocks");
	if (json_is_boolean(v))
		c.auto_allocate_blocks = json_is_true(v);
	v = json_object_get(spec, "maxBlocksPerHost");
	if (json_is_integer(v) && json_integer_value(v) > 0)
		c.max_blocks_per_host = (unsigned)json_integer_value(v);
	*ret = c;
	return 0;
}

/* ---- blocks ---- */

int ipam_block_get(struct ipam *ipam, const struct ipam_cidr *cidr, struct ipam_block **ret)
{
	return ipam_block_read(ipam, cidr, false, ret);
}

int ipam_block_read(struct ipam *ipam, const struct ipam_cidr *cidr, bool cached,
		    struct ipam_block **ret)
{
	_cleanup_(json_decrefp) json_t *obj = NULL;
	_cleanup_free_ char *err = NULL;
	char name[IPAM_NAME_STRLEN];
	struct ipam_block *b;
	int r;

	r = ipam_cidr_to_name(cidr, name, sizeof(name));
	if (r < 0)
		return r;
	r = ipam_read(ipam, &kapi_ipamblocks, name, cached, &obj);
	if (r < 0)
		return r;
	r = ipam_block_from_json(obj, &b, &err);
	if (r < 0)
		return ipam_fail(ipam, r, "IPAMBlock '%s' is malformed: %s", name, err ? err : "");
	if (!ipam_cidr_equal(&b->cidr, cidr)) {
		ipam_block_free(b);
		return ipam_fail(ipam, -EBADMSG, "IPAMBlock '%s' holds another CIDR", name);
	}
	if (b->deleted) {
		ipam_block_free(b);
		return -ENOENT;
	}
	*ret = b;
	return 0;
}

int ipam_block_put(struct ipam *ipam, struct ipam_block *b)
{
	_cleanup_(json_decrefp) json_t *obj = NULL;
	json_t *stored = NULL;
	int r;

	ipam_block_touch(b);
	obj = ipam_block_to_json(b);
	if (!obj)
		return -ENOMEM;
	r = ipam_update(ipam, &kapi_ipamblocks, obj, &stored);
	if (r < 0)
		return r;
	json_decref(b->obj);
	b->obj = stored;
	return 0;
}

void ipam_blocks_done(struct ipam_blocks *b)
{
	for (size_t i = 0; i < b->n; i++)
		ipam_block_free(b->items[i]);
	free(b->items);
	*b = (struct ipam_blocks){};
}

int ipam_blocks_load(struct ipam *ipam, struct ipam_blocks *ret, size_t *ret_bad,
		     void (*on_bad)(const char *name, const char *reason, void *userdata),
		     void *userdata)
{
	_cleanup_(json_decrefp) json_t *items = NULL;
	struct ipam_blocks out = {};
	size_t i, bad = 0;
	json_t *it;
	int r;

	r = ipam_list(ipam, &kapi_ipamblocks, NULL, false, &items);
	if (r < 0)
		return ipam_fail(ipam, r, "listing IPAMBlocks: %s", kapi_last_error(ipam->k));
	out.items = calloc(json_array_size(items) + 1, sizeof(*out.items));
	if (!out.items)
		return -ENOMEM;
	json_array_foreach (items, i, it) {
		_cleanup_free_ char *err = NULL;
		struct ipam_block *b;

		r = ipam_block_from_json(it, &b, &err);
		if (r == -ENOMEM) {
			ipam_blocks_done(&out);
			return r;
		}
		if (r < 0) {
			bad++;
			if (on_bad)
				on_bad(kapi_obj_name(it), err ? err : "malformed", userdata);
			continue;
		}
		if (b->deleted) {
			ipam_block_free(b);
			continue;
		}
		out.items[out.n++] = b;
	}
	if (ret_bad)
		*ret_bad = bad;
	*ret = out;
	return 0;
}

/* ---- handles ---- */

static json_t *handle_new_obj(const char *name, const char *handle_id, const char *cidr, long n)
{
	return json_pack("{s:s, s:s, s:{s:s}, s:{s:s, s:{s:I}, s:b}}", "apiVersion",
			 "crd.projectcalico.org/v1", "kind", "IPAMHandle", "metadata", "name", name,
			 "spec", "handleID", handle_id, "block", cidr, (json_int_t)n, "deleted", 0);
}

/* Applies @delta to spec.block[@cidr]; returns the total left, or -errno. */
static long handle_apply(json_t *obj, const char *cidr, long delta)
{
	json_t *spec = json_object_get(obj, "spec"), *blocks, *v;
	const char *key;
	long total = 0, cur;

	if (!json_is_object(spec))
		return -EBADMSG;
	blocks = json_object_get(spec, "block");
	if (!json_is_object(blocks)) {
		blocks = json_object();
		if (json_object_set_new(spec, "block", blocks) < 0)
			return -ENOMEM;
	}
	cur = (long)json_integer_value(json_object_get(blocks, cidr)) + delta;
	if (cur > 0) {
		if (json_object_set_new(blocks, cidr, json_integer(cur)) < 0)
			return -ENOMEM;
	} else {
		(void)json_object_del(blocks, cidr);
	}
	json_object_foreach (blocks, key, v)
		total += json_is_integer(v) && json_integer_value(v) > 0 ?
				 (long)json_integer_value(v) : 0;
	return total;
}

/* One read-modify-write of an existing handle. -ENOENT: gone (or deleted). */
static int handle_update_once(struct ipam *ipam, const char *name, const char *cidr, long delta)
{
	_cleanup_(json_decrefp) json_t *obj = NULL;
	long left;
	int r;

	r = ipam_get(ipam, &kapi_ipamhandles, name, &obj);
	if (r < 0)
		return r;
	if (ipam_obj_is_deleted(obj)) {
		/* Finish someone's delete, then the caller creates a fresh one. */
		r = ipam_delete_two_step(ipam, &kapi_ipamhandles, obj, false);
		return r < 0 ? r : -ENOENT;
	}
	left = handle_apply(obj, cidr, delta);
	if (left < 0)
		return (int)left;
	if (left == 0)
		return ipam_delete_two_step(ipam, &kapi_ipamhandles, obj, false);
	return ipam_update(ipam, &kapi_ipamhandles, obj, NULL);
}

int ipam_handle_add(struct ipam *ipam, const char *handle_id, const struct ipam_cidr *block,
		    long delta)
{
	char name[256], cidr[IPAM_CIDR_STRLEN];
	bool try_create = delta > 0;
	int r = -ESTALE;

	if (ipam_handle_name(handle_id, name, sizeof(name)) < 0)
		return ipam_fail(ipam, -EINVAL, "invalid handle id '%s'", handle_id);
	r = ipam_cidr_format(block, cidr, sizeof(cidr));
	if (r < 0)
		return r;
	for (int i = 0; i < IPAM_CAS_RETRIES; i++) {
		if (try_create) {
			_cleanup_(json_decrefp) json_t *obj = handle_new_obj(name, handle_id, cidr,
									      delta);
			if (!obj)
				return -ENOMEM;
			r = ipam_create(ipam, &kapi_ipamhandles, obj, NULL);
			if (r != -EEXIST)
				break;
		}
		r = handle_update_once(ipam, name, cidr, delta);
		if (r == -ENOENT && delta <= 0)
			return 0; /* nothing to take away */
		try_create = r == -ENOENT;
		if (r != -ESTALE && r != -ENOENT)
			break;
	}
	if (r < 0)
		return ipam_fail(ipam, r, "updating IPAMHandle '%s': %s", name,
				 kapi_last_error(ipam->k));
	return 0;
}

/* ---- affinities ---- */

int ipam_affinity_parse(json_t *obj, struct ipam_affinity *ret)
{
	json_t *spec = json_object_get(obj, "spec");
	struct ipam_affinity a = { .state = json_string_value(json_object_get(spec, "state")) };

	if (!a.state || !json_string_value(json_object_get(spec, "node")) ||
	    ipam_cidr_parse(json_string_value(json_object_get(spec, "cidr")), true, &a.cidr) < 0)
		return -EBADMSG;
	a.obj = json_incref(obj);
	*ret = a;
	return 0;
}

void ipam_affinities_done(struct ipam_affinities *a)
{
	for (size_t i = 0; i < a->n; i++)
		json_decref(a->items[i].obj);
	free(a->items);
	*a = (struct ipam_affinities){};
}

/* An affinity of @node of @type: spec.type equal, or for "host" also none
 * (written before Calico had types). */
static bool affinity_is_of(json_t *it, const char *type, const char *node)
{
	json_t *spec = json_object_get(it, "spec");
	const char *n = json_string_value(json_object_get(spec, "node"));
	const char *t = json_string_value(json_object_get(spec, "type"));

	if (!t || !*t)
		t = IPAM_AFFINITY_TYPE_HOST;
	return n && strcmp(n, node) == 0 && strcmp(t, type) == 0;
}

static int affinities_filter(json_t *items, const char *type, const char *node,
			     struct ipam_affinities *ret)
{
	struct ipam_affinities out = {};
	size_t i;
	json_t *it;

	out.items = calloc(json_array_size(items) + 1, sizeof(*out.items));
	if (!out.items)
		return -ENOMEM;
	json_array_foreach (items, i, it) {
		if (!affinity_is_of(it, type, node) || ipam_obj_is_deleted(it))
			continue;
		if (ipam_affinity_parse(it, &out.items[out.n]) < 0)
			continue; /* malformed: not usable, ipam check reports it */
		out.n++;
	}
	*ret = out;
	return 0;
}

/* Gives an affinity written without them (by an older Calico or calico-c)
 * Calico's type and labels, as Calico's own upgrade step does, so the next
 * lookup by label finds it. */
static void affinity_adopt(struct ipam *ipam, json_t *obj)
{
	_cleanup_(json_decrefp) json_t *copy = json_deep_copy(obj);

	if (!copy || ipam_affinity_set_labels(copy) < 0)
		return;
	(void)ipam_update(ipam, &kapi_blockaffinities, copy, NULL);
}

/* Calico's lookup: by the hostname-hash label (the type is checked here,
 * so the selector stays one key=value, which felix-c's cache answers). A
 * node that has none may have affinities without labels: those (selector
 * !affinity-type) of @node are adopted and used. */
int ipam_affinities_load(struct ipam *ipam, const char *type, const char *node, bool cached,
			 struct ipam_affinities *ret)
{
	_cleanup_(json_decrefp) json_t *items = NULL;
	char hash[64], sel[128];
	size_t i;
	json_t *it;
	int r;

	r = ipam_affinity_host_hash(node, hash, sizeof(hash));
	if (r < 0)
		return r;
	snprintf(sel, sizeof(sel), "%s=%s", IPAM_LABEL_HOSTNAME_HASH, hash);
	r = ipam_list(ipam, &kapi_blockaffinities, sel, cached, &items);
	if (r >= 0 && json_array_size(items) == 0) {
		json_decref(items);
		items = NULL;
		r = ipam_list(ipam, &kapi_blockaffinities, "!" IPAM_LABEL_AFFINITY_TYPE, cached,
			      &items);
		json_array_foreach (items, i, it)
			if (affinity_is_of(it, type, node) && !ipam_obj_is_deleted(it))
				affinity_adopt(ipam, it);
	}
	if (r < 0)
		return ipam_fail(ipam, r, "listing BlockAffinities: %s", kapi_last_error(ipam->k));
	return affinities_filter(items, type, node, ret);
}

/* ---- releasing a block's affinity ---- */

/* Deletes the empty block, or takes its affinity away. */
static int release_block_side(struct ipam *ipam, const char *node, const struct ipam_cidr *cidr,
			      bool only_if_empty)
{
	int r = -ESTALE;

	for (int i = 0; i < IPAM_CAS_RETRIES && r == -ESTALE; i++) {
		_cleanup_(ipam_block_freep) struct ipam_block *b = NULL;

		r = ipam_block_get(ipam, cidr, &b);
		if (r == -ENOENT)
			return 0;
		if (r < 0)
			return r;
		if (!ipam_block_is_affine_to(b, NULL, node))
			return 0;
		if (ipam_block_in_use(b) == 0) {
			r = ipam_delete_two_step(ipam, &kapi_ipamblocks, b->obj, false);
			continue;
		}
		if (only_if_empty)
			return -EBUSY;
		free(b->affinity);
		b->affinity = NULL;
		r = ipam_block_put(ipam, b);
	}
	return r;
}

int ipam_block_release_affinity(struct ipam *ipam, const char *node, const struct ipam_cidr *cidr,
				bool only_if_empty)
{
	_cleanup_(json_decrefp) json_t *aff = NULL;
	char name[300];
	int r;

	r = ipam_affinity_name(node, cidr, name, sizeof(name));
	if (r < 0)
		return r;
	r = release_block_side(ipam, node, cidr, only_if_empty);
	if (r < 0)
		return r;
	r = ipam_get(ipam, &kapi_blockaffinities, name, &aff);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	return ipam_delete_two_step(ipam, &kapi_blockaffinities, aff, true);
}
