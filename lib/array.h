/* Growable arrays: the one way the tree makes room in a realloc'd array.
 *
 * An array is a pointer plus a capacity (in items) kept by its owner; the
 * count of used items stays the owner's business. Growth doubles, so n
 * appends cost O(n) copies, and every size computation is overflow-checked.
 * There is no minimum: the first append makes room for one item, so the
 * many one-item arrays (a pod's address, a selector's value) cost what a
 * plain malloc would. Only array.c calls realloc.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/**
 * array_grow_max - make room for at least @need items, never past @max
 * @items: the array (NULL while *@cap is 0); replaced when it moves
 * @cap: its capacity in items; raised when it grows
 * @need: how many items must fit
 * @max: the most items the array may ever hold (a bound on input)
 * @size: the size of one item in bytes (> 0)
 *
 * Grows to the larger of @need and twice *@cap, capped at @max
 * (and falling back to exactly @need when doubling would overflow). Items
 * already there keep their values; the new tail is uninitialised.
 *
 * Return: 0 (also when @need already fits), -EFBIG when @need is above
 * @max, or -ENOMEM when out of memory or when @need * @size overflows; on
 * error *@items and *@cap are unchanged.
 */
int array_grow_max(void **items, size_t *cap, size_t need, size_t max, size_t size);

/* array_grow_max() without a bound. */
static inline int array_grow(void **items, size_t *cap, size_t need, size_t size)
{
	return array_grow_max(items, cap, need, SIZE_MAX, size);
}

/* array_grow() for a typed array: ARRAY_GROW(p->ops, p->cap, p->n + 1). */
#define ARRAY_GROW(items, cap, need) \
	array_grow((void **)&(items), &(cap), (need), sizeof(*(items)))

/* array_grow_max() for a typed array:
 * ARRAY_GROW_MAX(s->terms, s->cap_terms, s->n_terms + 1, MAX_TERMS). */
#define ARRAY_GROW_MAX(items, cap, need, max) \
	array_grow_max((void **)&(items), &(cap), (need), (max), sizeof(*(items)))

/* An array that carries its own count, capacity and item size, for code
 * that builds a list item by item and then hands @items on (or frees it):
 * struct array a = ARRAY_INIT(struct foo). */
struct array {
	void *items; /* owned until handed on */
	size_t n, cap, size;
};

#define ARRAY_INIT(type) { .size = sizeof(type) }

/* array_push - room for one more item at the end of @a: its slot
 * (uninitialised), or NULL when out of memory (@a unchanged). */
void *array_push(struct array *a);

/* array_append - a copy of the @a->size bytes at @item at the end of @a.
 * Return: 0, or -ENOMEM (@a unchanged). */
int array_append(struct array *a, const void *item);
