/* Calico selector expressions (IPPool.nodeSelector, BGPPeer selectors):
 * parse, then match the tree against a fixed label set. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "selector.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static json_t *labels;
	char *text = strndup((const char *)data, size), *err = NULL;
	struct selector *s = NULL;

	if (!labels)
		labels = json_pack("{s:s, s:s, s:s}", "a", "b", "kubernetes.io/hostname", "node1",
				   "rack", "");
	if (!text)
		return 0;
	if (selector_parse(text, &s, &err) == 0) {
		(void)selector_matches(s, labels);
		(void)selector_matches(s, NULL);
		(void)selector_is_all(s);
	}
	selector_free(s);
	free(err);
	free(text);
	return 0;
}
