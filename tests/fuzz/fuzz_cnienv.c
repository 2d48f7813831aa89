/* A CNI call handed to felix-c over its socket: the CNI_* variables as a
 * JSON object, validated for their command, then CNI_ARGS split; the
 * answer's round trip back to JSON. */
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cni.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	struct cni_env env = {};
	struct cni_error err = {};
	struct cni_args a = {};

	if (!j)
		return 0;
	if (cni_env_from_json(j, &env, &err) == 0) {
		json_t *back = cni_env_to_json(&env);

		json_decref(back);
		if (cni_args_parse(env.args, &a, &err) == 0)
			cni_args_done(&a);
		cni_env_done(&env);
	}
	json_decref(j);
	return 0;
}
