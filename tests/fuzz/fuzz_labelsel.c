/* Kubernetes LabelSelector objects (podSelector, namespaceSelector): parse
 * and validate, print canonically, match against the input's own labels. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>

#include "labelsel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	struct labelsel *s = NULL;
	struct labels *l = NULL;
	char *err = NULL, *text = NULL;

	if (!j)
		return 0;
	/* The selector's own matchLabels as a label map: every term can match. */
	(void)labels_from_json(json_object_get(j, "matchLabels"), "kubernetes.io/metadata.name",
			       "ns", &l);
	if (labelsel_from_json(j, "spec.podSelector", &s, &err) == 0) {
		if (labelsel_to_string(s, &text) == 0)
			free(text);
		(void)labelsel_matches(s, l);
		(void)labelsel_matches(s, NULL);
		(void)labelsel_is_everything(s);
	}
	if (l) {
		struct labels *d = labels_dup(l);

		if (d && !labels_equal(l, d))
			abort();
		free(d);
		(void)labels_get(l, "app");
	}
	free(l);
	labelsel_free(s);
	free(err);
	json_decref(j);
	return 0;
}
