/* A small open-addressing hash map for policy/: keys are byte strings owned by
 * the values stored under them (the map copies neither), so an entry costs two
 * pointers and a hash. Iteration order is unspecified; callers that need a
 * stable order sort.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct policy_hmap_entry {
	const void *key; /* owned by value; NULL = empty slot */
	size_t klen;
	uint64_t hash;
	void *value;
};

struct policy_hmap {
	struct policy_hmap_entry *slots;
	size_t n_slots; /* power of two, or 0 */
	size_t n_items;
};

uint64_t policy_hash(const void *data, size_t len);

/* policy_hmap_put - insert; Return: 0, -EEXIST if the key is present, -ENOMEM. */
int policy_hmap_put(struct policy_hmap *m, const void *key, size_t klen, void *value);
void *policy_hmap_get(const struct policy_hmap *m, const void *key, size_t klen);
/* policy_hmap_remove - Return: the value removed, or NULL if absent. */
void *policy_hmap_remove(struct policy_hmap *m, const void *key, size_t klen);
/* policy_hmap_done - free the slot array (not the values). */
void policy_hmap_done(struct policy_hmap *m);
/* policy_hmap_next - iterate: start with *i = 0; false at the end. */
bool policy_hmap_next(const struct policy_hmap *m, size_t *i, void **ret_value);

static inline int policy_hmap_put_str(struct policy_hmap *m, const char *key, void *value)
{
	return policy_hmap_put(m, key, __builtin_strlen(key), value);
}

static inline void *policy_hmap_get_str(const struct policy_hmap *m, const char *key)
{
	return policy_hmap_get(m, key, __builtin_strlen(key));
}

static inline void *policy_hmap_remove_str(struct policy_hmap *m, const char *key)
{
	return policy_hmap_remove(m, key, __builtin_strlen(key));
}
