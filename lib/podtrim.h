/* What the informer caches of felix-c and typha-c keep of API objects.
 *
 * Pods dominate memory at scale (10,000 full Pod objects are ~20 KiB each
 * in jansson): podtrim_pod() keeps only what the policy model reads
 * (policy_pod_from_json(), policy/model.c); tests/unit/lib/test_podtrim.c
 * checks that a trimmed pod parses exactly as the full one. Every other
 * object only loses metadata.managedFields. Both are kinformer transforms:
 * they return a new reference, or NULL on ENOMEM.
 */
#pragma once

#include <jansson.h>

json_t *podtrim_pod(json_t *pod);
json_t *podtrim_managed_fields(json_t *obj);
