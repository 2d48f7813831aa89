/* Growable arrays: the one way the tree makes room in a realloc'd array.
 *
 * An array is a pointer plus a capacity (in items) kept by its owner; the
 * count of used items stays the owner's business. Growth doubles, so n
 * appends cost O(n) copies, and every size computation is overflow-checked.
 */
#pragma once

#include <stddef.h>

/**
 * array_grow - make room for at least @need items
 * @items: the array (NULL while *@cap is 0); replaced when it moves
 * @cap: its capacity in items; raised when it grows
 * @need: how many items must fit
 * @size: the size of one item in bytes (> 0)
 *
 * Grows to the largest of @need, twice *@cap and 16 items (falling back to
 * exactly @need when doubling would overflow). Items already there keep
 * their values; the new tail is uninitialised.
 *
 * Return: 0 (also when @need already fits), or -ENOMEM when out of memory
 * or when @need * @size overflows, leaving *@items and *@cap unchanged.
 */
int array_grow(void **items, size_t *cap, size_t need, size_t size);

/* array_grow() for a typed array: ARRAY_GROW(p->ops, p->cap, p->n + 1). */
#define ARRAY_GROW(items, cap, need) \
	array_grow((void **)&(items), &(cap), (need), sizeof(*(items)))
