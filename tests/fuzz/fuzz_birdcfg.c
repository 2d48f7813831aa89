/* The API objects bird-config renders into BIRD's config (Nodes and their
 * BGP annotations, BGPConfiguration, BGPPeer, Secrets, IPPools,
 * BlockAffinities), as one input document. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>

#include "bird-config/birdcfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	struct birdcfg_input in;
	struct birdcfg_errors errs = {};
	char *text = NULL;

	if (!j)
		return 0;
	if (birdcfg_input_from_json(j, &in) == 0) {
		if (birdcfg_render(&in, &text, &errs) == 0) {
			free(text);
			birdcfg_errors_done(&errs);
		}
		birdcfg_input_done(&in);
	}
	json_decref(j);
	return 0;
}
