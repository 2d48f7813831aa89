/* networking.k8s.io/v1 NetworkPolicy objects as the apiserver sends them:
 * parse and validate into the policy model's form. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>

#include "policy/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	struct policy_netpol *p = NULL;
	char *err = NULL;

	if (!j)
		return 0;
	if (policy_netpol_from_json(j, &p, &err) == 0)
		policy_netpol_unref(p);
	free(err);
	json_decref(j);
	return 0;
}
