/* v1 Pod and Namespace objects as the apiserver sends them (labels, IPs,
 * the podIPs annotation, container ports): parse, copy, compare. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>

#include "policy/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	struct policy_pod *p = NULL, *d = NULL;
	struct policy_namespace *n = NULL;
	char *err = NULL;

	if (!j)
		return 0;
	if (policy_pod_from_json(j, &p, &err) == 0) {
		if (policy_pod_dup(p, &d) == 0 && !policy_pod_is_equal(p, d))
			abort();
		policy_pod_free(d);
		policy_pod_free(p);
	}
	free(err);
	err = NULL;
	if (policy_namespace_from_json(j, &n, &err) == 0)
		policy_namespace_free(n);
	free(err);
	json_decref(j);
	return 0;
}
