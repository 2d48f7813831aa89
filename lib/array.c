/* Growable arrays: see array.h. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"

int array_grow_max(void **items, size_t *cap, size_t need, size_t max, size_t size)
{
	size_t n = need, bytes;
	void *p;

	if (need <= *cap)
		return 0;
	if (need > max)
		return -EFBIG;
	if (*cap <= SIZE_MAX / 2 && *cap * 2 > n)
		n = *cap * 2;
	if (n > max)
		n = max;
	if (__builtin_mul_overflow(n, size, &bytes)) {
		n = need;
		if (__builtin_mul_overflow(n, size, &bytes))
			return -ENOMEM;
	}
	p = realloc(*items, bytes);
	if (!p)
		return -ENOMEM;
	*items = p;
	*cap = n;
	return 0;
}

void *array_push(struct array *a)
{
	if (array_grow(&a->items, &a->cap, a->n + 1, a->size) < 0)
		return NULL;
	return (char *)a->items + a->size * a->n++;
}

int array_append(struct array *a, const void *item)
{
	void *slot = array_push(a);

	if (!slot)
		return -ENOMEM;
	memcpy(slot, item, a->size);
	return 0;
}
