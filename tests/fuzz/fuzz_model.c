/* A whole policy model from API objects ({"namespaces", "pods",
 * "networkpolicies"}), compiled to the desired nftables state: what one
 * namespace's objects can make of the node's rules. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>

#include "policy/compile.h"
#include "policy/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	struct policy_options o = { .nflog_group = -1 };
	struct policy_model *m = NULL;
	struct policy_desired *d = NULL;
	char *err = NULL;

	if (!j)
		return 0;
	if (policy_model_new("node1", &m) == 0) {
		(void)policy_model_load_json(m, j, &err);
		if (policy_compile(m, &o, &d) == 0)
			policy_desired_free(d);
		policy_model_free(m);
	}
	free(err);
	json_decref(j);
	return 0;
}
