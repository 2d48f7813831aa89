/* The "confirmed, live, this node's" BlockAffinity rule (see blockaff.h). */
#include <errno.h>
#include <string.h>

#include "blockaff.h"

int blockaff_node_block(const json_t *aff, const char *node, struct in_prefix *ret_block)
{
	const json_t *spec = json_object_get(aff, "spec");
	const char *n = json_string_value(json_object_get(spec, "node"));
	const char *st = json_string_value(json_object_get(spec, "state"));
	const char *del = json_string_value(json_object_get(spec, "deleted"));
	const char *type = json_string_value(json_object_get(spec, "type"));

	/* A virtual owner's (LoadBalancer IPAM) is nobody's node block. */
	if (!n || strcmp(n, node) != 0 || !st || strcmp(st, "confirmed") != 0 ||
	    (del && strcmp(del, "true") == 0) || (type && *type && strcmp(type, "host") != 0))
		return 0;
	if (prefix_parse(json_string_value(json_object_get(spec, "cidr")), PREFIX_CLEAR_HOST,
			 ret_block) < 0)
		return -EINVAL;
	return 1;
}
