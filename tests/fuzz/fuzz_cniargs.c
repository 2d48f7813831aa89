/* CNI_ARGS ("K=V;K2=V2", from the runtime's environment): split, look up
 * the keys calico-c reads. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cni.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = strndup((const char *)data, size);
	struct cni_args a = {};
	struct cni_error err = {};

	if (!s)
		return 0;
	if (cni_args_parse(s, &a, &err) == 0) {
		(void)cni_args_get(&a, "K8S_POD_NAMESPACE");
		(void)cni_args_get(&a, "K8S_POD_NAME");
		cni_args_done(&a);
	}
	free(s);
	return 0;
}
