/* A failed apiserver response: its Status body decoded into a message and
 * an errno (the first two bytes are the HTTP status). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "kapi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *msg = NULL;
	long code;

	if (size < 2)
		return 0;
	code = (long)((data[0] << 8 | data[1]) % 1000);
	if (kapi_error_from_response(code, (const char *)data + 2, size - 2, &msg) <= 0)
		free(msg);
	return 0;
}
