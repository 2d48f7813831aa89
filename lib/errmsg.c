/* See errmsg.h. An allocation failure leaves no message rather than failing
 * the caller a second time: the error code is what the caller acts on. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "errmsg.h"

int errmsg_set(char **ret_error, int r, const char *fmt, ...)
{
	va_list ap;

	if (!ret_error)
		return r;
	free(*ret_error);
	va_start(ap, fmt);
	if (vasprintf(ret_error, fmt, ap) < 0)
		*ret_error = NULL;
	va_end(ap);
	return r;
}
