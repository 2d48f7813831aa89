/* Open addressing with linear probing and backward-shift deletion (no
 * tombstones), load factor at most 1/2. Hash: FNV-1a 64, good enough for the
 * short names and element keys we store.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hmap.h"

uint64_t policy_hash(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static size_t find_slot(const struct policy_hmap *m, const void *key, size_t klen, uint64_t h)
{
	size_t mask = m->n_slots - 1;

	for (size_t i = h & mask;; i = (i + 1) & mask) {
		const struct policy_hmap_entry *e = &m->slots[i];

		if (!e->key)
			return i;
		if (e->hash == h && e->klen == klen && memcmp(e->key, key, klen) == 0)
			return i;
	}
}

static int grow(struct policy_hmap *m)
{
	size_t n = m->n_slots ? m->n_slots * 2 : 16;
	struct policy_hmap_entry *old = m->slots;
	size_t old_n = m->n_slots;

	m->slots = calloc(n, sizeof(*m->slots));
	if (!m->slots) {
		m->slots = old;
		return -ENOMEM;
	}
	m->n_slots = n;
	for (size_t i = 0; i < old_n; i++)
		if (old[i].key)
			m->slots[find_slot(m, old[i].key, old[i].klen, old[i].hash)] = old[i];
	free(old);
	return 0;
}

int policy_hmap_put(struct policy_hmap *m, const void *key, size_t klen, void *value)
{
	uint64_t h = policy_hash(key, klen);
	size_t i;
	int r;

	if ((m->n_items + 1) * 2 > m->n_slots) {
		r = grow(m);
		if (r < 0)
			return r;
	}
	i = find_slot(m, key, klen, h);
	if (m->slots[i].key)
		return -EEXIST;
	m->slots[i] = (struct policy_hmap_entry){ .key = key, .klen = klen, .hash = h, .value = value };
	m->n_items++;
	return 0;
}

void *policy_hmap_get(const struct policy_hmap *m, const void *key, size_t klen)
{
	size_t i;

	if (m->n_items == 0)
		return NULL;
	i = find_slot(m, key, klen, policy_hash(key, klen));
	return m->slots[i].key ? m->slots[i].value : NULL;
}

void *policy_hmap_remove(struct policy_hmap *m, const void *key, size_t klen)
{
	size_t mask = m->n_slots - 1, i, j;
	void *v;

	if (m->n_items == 0)
		return NULL;
	i = find_slot(m, key, klen, policy_hash(key, klen));
	if (!m->slots[i].key)
		return NULL;
	v = m->slots[i].value;
	/* Backward shift: move later entries of the probe run into the hole
	 * unless their home slot lies cyclically in (hole, j]. */
	for (j = (i + 1) & mask; m->slots[j].key; j = (j + 1) & mask) {
		size_t home = m->slots[j].hash & mask;

		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		m->slots[i] = m->slots[j];
		i = j;
	}
	m->slots[i] = (struct policy_hmap_entry){};
	m->n_items--;
	return v;
}

void policy_hmap_done(struct policy_hmap *m)
{
	free(m->slots);
	*m = (struct policy_hmap){};
}

bool policy_hmap_next(const struct policy_hmap *m, size_t *i, void **ret_value)
{
	for (; *i < m->n_slots; (*i)++)
		if (m->slots[*i].key) {
			*ret_value = m->slots[(*i)++].value;
			return true;
		}
	return false;
}
