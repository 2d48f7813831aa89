/* IPAMBlock model: parse, validate, allocate, release, serialize.
 *
 * Shape (Calico's): spec.cidr, spec.affinity ("host:<node>", optional),
 * spec.allocations ([]*int: null = free, else an index into attributes),
 * spec.unallocated ([]int, FIFO of free ordinals: we take from the front and
 * append released ones at the back, so a freed address is reused last),
 * spec.attributes ([]{handle_id, secondary{...}}), spec.sequenceNumber,
 * spec.sequenceNumberForAllocation (map "ordinal" -> sequence number at the
 * time of allocation), spec.deleted, spec.strictAffinity (deprecated).
 *
 * Attributes are shared between allocations with identical attributes and
 * dropped (with the indexes renumbered) when no allocation refers to them, as
 * Calico does, so the arrays stay small.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "block.h"
#include "cleanup.h"
#include "crdvalid.h"
#include "errmsg.h"
#include "ipam.h"


struct ipam_block *ipam_block_free(struct ipam_block *b)
{
	if (!b)
		return NULL;
	json_decref(b->obj);
	free(b->name);
	free(b->affinity);
	free(b->allocations);
	free(b->unallocated);
	for (uint32_t i = 0; i < b->n_attrs; i++) {
		free(b->attrs[i].handle_id);
		json_decref(b->attrs[i].secondary);
	}
	free(b->attrs);
	free(b->seq_for_alloc);
	free(b->has_seq);
	free(b);
	return NULL;
}

static int block_alloc_arrays(struct ipam_block *b, uint32_t n)
{
	b->n = n;
	b->allocations = malloc(n * sizeof(*b->allocations));
	b->unallocated = malloc(n * sizeof(*b->unallocated));
	b->seq_for_alloc = calloc(n, sizeof(*b->seq_for_alloc));
	b->has_seq = calloc(n, sizeof(*b->has_seq));
	if (!b->allocations || !b->unallocated || !b->seq_for_alloc || !b->has_seq)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++)
		b->allocations[i] = -1;
	return 0;
}

static int cidr_block_size(const struct ipam_cidr *c, uint32_t *ret)
{
	uint64_t n = ipam_cidr_size(c);

	if (n == 0 || n > IPAM_BLOCK_MAX_ADDRS)
		return -EINVAL;
	*ret = (uint32_t)n;
	return 0;
}

int ipam_block_new(const struct ipam_cidr *cidr, const char *type, const char *node,
		   struct ipam_block **ret)
{
	_cleanup_(ipam_block_freep) struct ipam_block *b = NULL;
	char cidr_s[IPAM_CIDR_STRLEN], name[IPAM_NAME_STRLEN];
	uint32_t n;
	int r;

	r = cidr_block_size(cidr, &n);
	if (r < 0)
		return r;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->cidr = *cidr;
	r = block_alloc_arrays(b, n);
	if (r < 0)
		return r;
	for (uint32_t i = 0; i < n; i++)
		b->unallocated[i] = i;
	b->n_unallocated = n;
	if (ipam_cidr_format(cidr, cidr_s, sizeof(cidr_s)) < 0 ||
	    ipam_cidr_to_name(cidr, name, sizeof(name)) < 0)
		return -EINVAL;
	b->name = strdup(name);
	if (node && asprintf(&b->affinity, "%s:%s", type ?: "host", node) < 0)
		b->affinity = NULL;
	b->obj = json_pack("{s:s, s:s, s:{s:s}, s:{s:s}}", "apiVersion", "crd.projectcalico.org/v1",
			   "kind", "IPAMBlock", "metadata", "name", name, "spec", "cidr", cidr_s);
	if (!b->name || (node && !b->affinity) || !b->obj)
		return -ENOMEM;
	*ret = TAKE_PTR(b);
	return 0;
}

/* A JSON integer in [0, max). */
static bool int_in_range(const json_t *v, uint64_t max, uint32_t *ret)
{
	json_int_t i;

	if (!json_is_integer(v))
		return false;
	i = json_integer_value(v);
	if (i < 0 || (uint64_t)i >= max)
		return false;
	*ret = (uint32_t)i;
	return true;
}

static int parse_attributes(struct ipam_block *b, const json_t *arr, char **ret_error)
{
	size_t i;
	json_t *a;

	if (!arr || json_is_null(arr))
		return 0;
	if (!json_is_array(arr) || json_array_size(arr) > IPAM_BLOCK_MAX_ADDRS * 2)
		return errmsg_set(ret_error, -EBADMSG, "spec.attributes: not an array of at most %d items",
			   IPAM_BLOCK_MAX_ADDRS * 2);
	b->attrs = calloc(json_array_size(arr) + 1, sizeof(*b->attrs));
	if (!b->attrs)
		return -ENOMEM;
	b->cap_attrs = json_array_size(arr) + 1;
	json_array_foreach (arr, i, a) {
		json_t *h = json_object_get(a, "handle_id"), *sec = json_object_get(a, "secondary");

		if (!json_is_object(a) || (h && !json_is_null(h) && !json_is_string(h)) ||
		    (sec && !json_is_null(sec) && !json_is_object(sec)))
			return errmsg_set(ret_error, -EBADMSG, "spec.attributes[%zu]: malformed", i);
		if (json_is_string(h) && !(b->attrs[i].handle_id = strdup(json_string_value(h))))
			return -ENOMEM;
		if (json_is_object(sec))
			b->attrs[i].secondary = json_incref(sec);
		b->n_attrs++;
	}
	return 0;
}

static int parse_allocations(struct ipam_block *b, const json_t *arr, char **ret_error)
{
	size_t i;
	json_t *v;
	uint32_t idx;

	if (!json_is_array(arr) || json_array_size(arr) != b->n)
		return errmsg_set(ret_error, -EBADMSG, "spec.allocations: %zu entries for a block of %" PRIu32,
			   json_is_array(arr) ? json_array_size(arr) : 0, b->n);
	json_array_foreach (arr, i, v) {
		if (json_is_null(v))
			continue;
		if (!int_in_range(v, b->n_attrs, &idx))
			return errmsg_set(ret_error, -EBADMSG, "spec.allocations[%zu]: not an attribute index", i);
		b->allocations[i] = (int32_t)idx;
	}
	return 0;
}

static int parse_unallocated(struct ipam_block *b, const json_t *arr, char **ret_error)
{
	_cleanup_free_ bool *seen = calloc(b->n ? b->n : 1, sizeof(bool));
	size_t i;
	json_t *v;
	uint32_t ord;

	if (!seen)
		return -ENOMEM;
	if (json_is_null(arr))
		arr = NULL; /* Go writes a nil slice as null: no free ordinal listed */
	if ((arr && !json_is_array(arr)) || json_array_size(arr) > b->n)
		return errmsg_set(ret_error, -EBADMSG, "spec.unallocated: not an array of at most %" PRIu32 " items",
			   b->n);
	json_array_foreach (arr, i, v) {
		if (!int_in_range(v, b->n, &ord))
			return errmsg_set(ret_error, -EBADMSG, "spec.unallocated[%zu]: ordinal out of range", i);
		if (seen[ord] || b->allocations[ord] >= 0)
			return errmsg_set(ret_error, -EBADMSG, "spec.unallocated[%zu]: ordinal %" PRIu32
				   " listed twice or also allocated", i, ord);
		seen[ord] = true;
		b->unallocated[b->n_unallocated++] = ord;
	}
	/* Every ordinal is either allocated or free: a lost ordinal would be
	 * neither releasable nor allocatable. */
	for (ord = 0; ord < b->n; ord++)
		if (!seen[ord] && b->allocations[ord] < 0)
			return errmsg_set(ret_error, -EBADMSG, "ordinal %" PRIu32 " neither allocated nor free", ord);
	return 0;
}

static int parse_seq_map(struct ipam_block *b, const json_t *map, char **ret_error)
{
	const char *key;
	json_t *v;
	char *end;

	if (!map || json_is_null(map))
		return 0;
	if (!json_is_object(map))
		return errmsg_set(ret_error, -EBADMSG, "spec.sequenceNumberForAllocation: not an object");
	json_object_foreach ((json_t *)map, key, v) {
		unsigned long ord;

		errno = 0;
		ord = strtoul(key, &end, 10);
		if (errno || *end || !*key || ord >= b->n || !json_is_integer(v) ||
		    json_integer_value(v) < 0)
			return errmsg_set(ret_error, -EBADMSG, "spec.sequenceNumberForAllocation['%s']: malformed", key);
		b->seq_for_alloc[ord] = (uint64_t)json_integer_value(v);
		b->has_seq[ord] = true;
	}
	return 0;
}

static int parse_scalars(struct ipam_block *b, const json_t *spec, char **ret_error)
{
	json_t *aff = json_object_get(spec, "affinity"), *seq = json_object_get(spec, "sequenceNumber");
	json_t *del = json_object_get(spec, "deleted"), *sa = json_object_get(spec, "strictAffinity");

	if (aff && !json_is_null(aff)) {
		if (!json_is_string(aff))
			return errmsg_set(ret_error, -EBADMSG, "spec.affinity: not a string");
		b->affinity = strdup(json_string_value(aff));
		if (!b->affinity)
			return -ENOMEM;
	}
	if (seq && !json_is_null(seq)) {
		if (!json_is_integer(seq) || json_integer_value(seq) < 0)
			return errmsg_set(ret_error, -EBADMSG, "spec.sequenceNumber: not a non-negative integer");
		b->seq = (uint64_t)json_integer_value(seq);
	}
	if ((del && !json_is_null(del) && !json_is_boolean(del)) ||
	    (sa && !json_is_null(sa) && !json_is_boolean(sa)))
		return errmsg_set(ret_error, -EBADMSG, "spec.deleted/strictAffinity: not a boolean");
	b->deleted = json_is_true(del);
	b->strict_affinity = json_is_true(sa);
	return 0;
}

int ipam_block_from_json(json_t *obj, struct ipam_block **ret, char **ret_error)
{
	_cleanup_(ipam_block_freep) struct ipam_block *b = NULL;
	json_t *spec = json_object_get(obj, "spec"), *name;
	uint32_t n;
	int r;

	if (!json_is_object(spec))
		return errmsg_set(ret_error, -EBADMSG, "IPAMBlock: no spec");
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->obj = json_incref(obj);
	name = json_object_get(json_object_get(obj, "metadata"), "name");
	if (json_is_string(name) && !(b->name = strdup(json_string_value(name))))
		return -ENOMEM;
	if (ipam_cidr_parse(json_string_value(json_object_get(spec, "cidr")), true, &b->cidr) < 0)
		return errmsg_set(ret_error, -EBADMSG, "spec.cidr: not a CIDR");
	if (cidr_block_size(&b->cidr, &n) < 0)
		return errmsg_set(ret_error, -EBADMSG, "spec.cidr: block of more than %d addresses",
			   IPAM_BLOCK_MAX_ADDRS);
	r = block_alloc_arrays(b, n);
	if (r >= 0)
		r = parse_scalars(b, spec, ret_error);
	if (r >= 0)
		r = parse_attributes(b, json_object_get(spec, "attributes"), ret_error);
	if (r >= 0)
		r = parse_allocations(b, json_object_get(spec, "allocations"), ret_error);
	if (r >= 0)
		r = parse_unallocated(b, json_object_get(spec, "unallocated"), ret_error);
	if (r >= 0)
		r = parse_seq_map(b, json_object_get(spec, "sequenceNumberForAllocation"),
				  ret_error);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(b);
	return 0;
}

static json_t *attrs_to_json(const struct ipam_block *b)
{
	json_t *arr = json_array();

	for (uint32_t i = 0; arr && i < b->n_attrs; i++) {
		json_t *a = json_object();

		if (!a || json_array_append_new(arr, a) < 0)
			return json_decref(arr), NULL;
		if (b->attrs[i].handle_id &&
		    json_object_set_new(a, "handle_id", json_string(b->attrs[i].handle_id)) < 0)
			return json_decref(arr), NULL;
		if (b->attrs[i].secondary &&
		    json_object_set(a, "secondary", b->attrs[i].secondary) < 0)
			return json_decref(arr), NULL;
	}
	return arr;
}

/* Fills spec with the arrays; returns -ENOMEM on any failure. */
static int arrays_to_json(const struct ipam_block *b, json_t *spec)
{
	json_t *alloc = json_array(), *unalloc = json_array(), *seqs = json_object();
	int r = 0;

	for (uint32_t i = 0; alloc && i < b->n; i++)
		if (json_array_append_new(alloc, b->allocations[i] < 0 ?
						  json_null() : json_integer(b->allocations[i])) < 0)
			r = -ENOMEM;
	for (uint32_t i = 0; unalloc && i < b->n_unallocated; i++)
		if (json_array_append_new(unalloc, json_integer(b->unallocated[i])) < 0)
			r = -ENOMEM;
	for (uint32_t i = 0; seqs && i < b->n; i++) {
		char key[16];

		if (!b->has_seq[i] || b->allocations[i] < 0)
			continue;
		snprintf(key, sizeof(key), "%" PRIu32, i);
		if (json_object_set_new(seqs, key, json_integer((json_int_t)b->seq_for_alloc[i])) < 0)
			r = -ENOMEM;
	}
	if (json_object_set_new(spec, "allocations", alloc) < 0 ||
	    json_object_set_new(spec, "unallocated", unalloc) < 0 ||
	    json_object_set_new(spec, "sequenceNumberForAllocation", seqs) < 0 ||
	    json_object_set_new(spec, "attributes", attrs_to_json(b)) < 0)
		r = -ENOMEM;
	return r;
}

json_t *ipam_block_to_json(const struct ipam_block *b)
{
	json_t *obj = json_deep_copy(b->obj), *spec;
	char cidr[IPAM_CIDR_STRLEN];

	if (!obj)
		return NULL;
	spec = json_object_get(obj, "spec");
	if (!json_is_object(spec)) {
		spec = json_object();
		if (json_object_set_new(obj, "spec", spec) < 0)
			return json_decref(obj), NULL;
	}
	if (ipam_cidr_format(&b->cidr, cidr, sizeof(cidr)) < 0 ||
	    json_object_set_new(spec, "cidr", json_string(cidr)) < 0 ||
	    json_object_set_new(spec, "affinity",
				b->affinity ? json_string(b->affinity) : json_null()) < 0 ||
	    json_object_set_new(spec, "sequenceNumber", json_integer((json_int_t)b->seq)) < 0 ||
	    json_object_set_new(spec, "deleted", json_boolean(b->deleted)) < 0 ||
	    json_object_set_new(spec, "strictAffinity", json_boolean(b->strict_affinity)) < 0 ||
	    arrays_to_json(b, spec) < 0)
		return json_decref(obj), NULL;
	if (!b->affinity)
		(void)json_object_del(spec, "affinity");
	return obj;
}

bool ipam_block_is_affine_to(const struct ipam_block *b, const char *type, const char *node)
{
	size_t n;

	type = type ?: "host";
	n = strlen(type);
	return b->affinity && strncmp(b->affinity, type, n) == 0 && b->affinity[n] == ':' &&
	       strcmp(b->affinity + n + 1, node) == 0;
}

uint32_t ipam_block_in_use(const struct ipam_block *b)
{
	return b->n - b->n_unallocated;
}

static bool str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static json_t *secondary_of(const struct ipam_alloc_attrs *a)
{
	json_t *o = json_object();
	const char *keys[] = { "namespace", "pod", "node", "service", "type", "timestamp" };
	const char *vals[] = { a->ns, a->pod, a->node, a->service, a->type, a->timestamp };
	bool any = false;

	for (size_t i = 0; o && i < ELEMENTSOF(keys); i++) {
		if (!vals[i])
			continue;
		any = true;
		if (json_object_set_new(o, keys[i], json_string(vals[i])) < 0)
			return json_decref(o), NULL;
	}
	if (o && !any) {
		json_decref(o);
		return json_null(); /* "no secondary": distinct from ENOMEM */
	}
	return o;
}

/* Index of an attribute equal to @a, appending one when none is. */
static int find_or_add_attr(struct ipam_block *b, const struct ipam_alloc_attrs *a)
{
	json_t *sec = secondary_of(a);
	struct ipam_attr *n;

	if (!sec)
		return -ENOMEM;
	if (json_is_null(sec))
		sec = NULL;
	for (uint32_t i = 0; i < b->n_attrs; i++)
		if (str_eq(b->attrs[i].handle_id, a->handle_id) &&
		    ((!sec && !b->attrs[i].secondary) ||
		     (sec && b->attrs[i].secondary && json_equal(sec, b->attrs[i].secondary)))) {
			json_decref(sec);
			return (int)i;
		}
	if (ARRAY_GROW(b->attrs, b->cap_attrs, (size_t)b->n_attrs + 1) < 0)
		return json_decref(sec), -ENOMEM;
	n = &b->attrs[b->n_attrs];
	*n = (struct ipam_attr){ .secondary = sec };
	if (a->handle_id && !(n->handle_id = strdup(a->handle_id)))
		return json_decref(sec), -ENOMEM;
	return (int)b->n_attrs++;
}

static void take_ordinal(struct ipam_block *b, uint32_t ord, int attr)
{
	b->allocations[ord] = attr;
	b->seq_for_alloc[ord] = b->seq;
	b->has_seq[ord] = true;
}

int ipam_block_assign(struct ipam_block *b, uint32_t count, const struct ipam_alloc_attrs *attrs,
		      uint32_t *ret_ordinals)
{
	uint32_t k = count < b->n_unallocated ? count : b->n_unallocated;
	int attr;

	if (k == 0)
		return 0;
	attr = find_or_add_attr(b, attrs);
	if (attr < 0)
		return attr;
	for (uint32_t i = 0; i < k; i++) {
		ret_ordinals[i] = b->unallocated[i];
		take_ordinal(b, b->unallocated[i], attr);
	}
	memmove(b->unallocated, b->unallocated + k, (b->n_unallocated - k) * sizeof(uint32_t));
	b->n_unallocated -= k;
	return (int)k;
}

int ipam_block_assign_ordinal(struct ipam_block *b, uint32_t ord,
			      const struct ipam_alloc_attrs *attrs)
{
	int attr;

	if (ord >= b->n)
		return -ERANGE;
	if (b->allocations[ord] >= 0)
		return -EBUSY;
	attr = find_or_add_attr(b, attrs);
	if (attr < 0)
		return attr;
	for (uint32_t i = 0; i < b->n_unallocated; i++)
		if (b->unallocated[i] == ord) {
			memmove(b->unallocated + i, b->unallocated + i + 1,
				(b->n_unallocated - i - 1) * sizeof(uint32_t));
			b->n_unallocated--;
			break;
		}
	take_ordinal(b, ord, attr);
	return 0;
}

/* Drops attributes no allocation refers to and renumbers the rest. */
static void compact_attrs(struct ipam_block *b)
{
	int32_t map[IPAM_BLOCK_MAX_ADDRS * 2 + 1];
	uint32_t kept = 0;

	if (b->n_attrs > ELEMENTSOF(map))
		return;
	for (uint32_t i = 0; i < b->n_attrs; i++)
		map[i] = -1;
	for (uint32_t o = 0; o < b->n; o++)
		if (b->allocations[o] >= 0)
			map[b->allocations[o]] = 0;
	for (uint32_t i = 0; i < b->n_attrs; i++) {
		if (map[i] < 0) {
			free(b->attrs[i].handle_id);
			json_decref(b->attrs[i].secondary);
			continue;
		}
		map[i] = (int32_t)kept;
		b->attrs[kept++] = b->attrs[i];
	}
	b->n_attrs = kept;
	for (uint32_t o = 0; o < b->n; o++)
		if (b->allocations[o] >= 0)
			b->allocations[o] = map[b->allocations[o]];
}

static void free_ordinal(struct ipam_block *b, uint32_t ord)
{
	b->allocations[ord] = -1;
	b->has_seq[ord] = false;
	b->unallocated[b->n_unallocated++] = ord;
}

int ipam_block_release_ordinal(struct ipam_block *b, uint32_t ord, const uint64_t *seq)
{
	if (ord >= b->n)
		return -ERANGE;
	if (b->allocations[ord] < 0)
		return 0;
	if (seq && (!b->has_seq[ord] || b->seq_for_alloc[ord] != *seq))
		return -ESTALE;
	free_ordinal(b, ord);
	compact_attrs(b);
	return 1;
}

uint32_t ipam_block_release_handle(struct ipam_block *b, const char *handle)
{
	uint32_t count = 0;

	for (uint32_t o = 0; o < b->n; o++) {
		const struct ipam_attr *a = ipam_block_attr_of(b, o);

		if (a && a->handle_id && strcmp(a->handle_id, handle) == 0) {
			free_ordinal(b, o);
			count++;
		}
	}
	if (count)
		compact_attrs(b);
	return count;
}

uint32_t ipam_block_count_handle(const struct ipam_block *b, const char *handle)
{
	uint32_t count = 0;

	for (uint32_t o = 0; o < b->n; o++) {
		const struct ipam_attr *a = ipam_block_attr_of(b, o);

		if (a && a->handle_id && strcmp(a->handle_id, handle) == 0)
			count++;
	}
	return count;
}

const struct ipam_attr *ipam_block_attr_of(const struct ipam_block *b, uint32_t ord)
{
	if (ord >= b->n || b->allocations[ord] < 0)
		return NULL;
	return &b->attrs[b->allocations[ord]];
}

const char *ipam_attr_secondary(const struct ipam_attr *a, const char *key)
{
	return a && a->secondary ? json_string_value(json_object_get(a->secondary, key)) : NULL;
}

void ipam_block_touch(struct ipam_block *b)
{
	b->seq++;
}

/* ---- IPAM's rules, plugged into crdvalid ---- */

static int crdvalid_pool(const json_t *obj, char **ret_error)
{
	struct ipam_pool p = {};
	int r = ipam_pool_from_json(obj, &p, ret_error);

	if (r >= 0)
		ipam_pool_done(&p);
	return r;
}

static int crdvalid_block(const json_t *obj, char **ret_error)
{
	struct ipam_block *b = NULL;
	/* the parser takes a reference only; it does not change the object */
	int r = ipam_block_from_json((json_t *)obj, &b, ret_error);

	ipam_block_free(b);
	return r == -EBADMSG ? -EINVAL : r;
}

const struct crdvalid_ops ipam_crdvalid_ops = {
	.ippool = crdvalid_pool,
	.ipamblock = crdvalid_block,
};
