/* The request head a client sends to felix-c's health and metrics server. */
#include <stddef.h>
#include <stdint.h>

#include "httpd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char method[8], path[256];

	(void)httpd_parse_request((const char *)data, size, method, path, sizeof(path));
	return 0;
}
