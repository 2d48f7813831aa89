/* Our custom resources (IPPool, IPAMBlock, BGPPeer, ...) as calicoctl-c and
 * felix-c read them: validation of every kind, with IPAM's own pool and
 * block parsers as the extra checks (as felix-c and calicoctl-c wire them)
 * and without them. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>

#include "crdvalid.h"
#include "ipam/block.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	char *err = NULL;

	if (!j)
		return 0;
	(void)crdvalid_check(NULL, j, &ipam_crdvalid_ops, &err);
	free(err);
	err = NULL;
	(void)crdvalid_check(NULL, j, NULL, &err);
	free(err);
	json_decref(j);
	return 0;
}
