/* What a delegated plugin prints (host-local, calico-c-ipam): a Success
 * result of any version, or an error object. A parsed result is written
 * back in every version and must parse again. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>

#include "cni.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	struct cni_result *r = NULL;
	struct cni_error err = {};

	if (!j)
		return 0;
	if (cni_result_from_json(j, &r, &err) == 0) {
		for (int v = 0; v < _CNI_VERSION_MAX; v++) {
			json_t *out = cni_result_to_json(r, v);
			struct cni_result *again = NULL;

			if (out && cni_result_from_json(out, &again, &err) < 0)
				abort(); /* we wrote what we cannot read */
			cni_result_free(again);
			json_decref(out);
		}
		cni_result_free(r);
	}
	(void)cni_error_from_json(j, &err);
	json_decref(j);
	return 0;
}
