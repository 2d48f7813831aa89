/* Growable arrays: see array.h. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "array.h"

/* Fewer reallocs for the many small arrays; 16 items is cheap for all ours. */
#define ARRAY_MIN_ITEMS 16

int array_grow_max(void **items, size_t *cap, size_t need, size_t max, size_t size)
{
	size_t n = ARRAY_MIN_ITEMS, bytes;
	void *p;

	if (need <= *cap)
		return 0;
	if (need > max)
		return -EFBIG;
	if (*cap > SIZE_MAX / 2)
		n = need;
	else if (*cap * 2 > n)
		n = *cap * 2;
	if (n < need)
		n = need;
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
