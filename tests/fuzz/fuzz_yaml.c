/* Manifests read by calicoctl-c and calico-c-policy (YAML streams): parse
 * to JSON, split into objects as calicoctl-c does, and check that what
 * yamljson_emit() writes parses back to the same value. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "calicoctl-c/manifest.h"
#include "yamljson.h"

static void round_trip(const json_t *v)
{
	char *buf = NULL, *err = NULL;
	size_t len = 0;
	json_t *back = NULL;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return;
	if (yamljson_emit(v, f) < 0 || fclose(f) != 0)
		abort();
	if (yamljson_parse(buf, len, &back, &err) < 0 || json_array_size(back) != 1 ||
	    !json_equal(json_array_get(back, 0), v)) {
		fprintf(stderr, "emitted:\n%s\nparse error: %s\n", buf, err ? err : "none");
		abort();
	}
	json_decref(back);
	free(err);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *docs = NULL, *objs = NULL, *v;
	char *err = NULL;
	size_t i;

	if (yamljson_parse((const char *)data, size, &docs, &err) == 0) {
		json_array_foreach(docs, i, v)
			round_trip(v);
		json_decref(docs);
	}
	free(err);
	err = NULL;
	if (ctl_manifest_parse((const char *)data, size, &objs, &err) == 0)
		json_decref(objs);
	free(err);
	return 0;
}
