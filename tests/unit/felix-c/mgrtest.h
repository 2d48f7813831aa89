/* Shared fixtures of the manager tests: a policy model from pod JSON and
 * a desired state built from it. */
#pragma once

#include <jansson.h>

#include "felix-c/manager.h"
#include "policy/model.h"

/* A pod of namespace "ns" named @name on @node with @ip (NULL: none). */
static inline void mgrtest_add_pod(struct policy_model *m, const char *name, const char *node,
				   const char *ip, bool host_network)
{
	json_t *j = json_pack("{s:{s:s,s:s},s:{s:s,s:b}}", "metadata", "namespace", "ns", "name",
			      name, "spec", "nodeName", node, "hostNetwork", host_network);
	struct policy_pod *p = NULL;

	assert_non_null(j);
	if (ip)
		json_object_set_new(j, "status", json_pack("{s:s}", "podIP", ip));
	assert_int_equal(policy_pod_from_json(j, &p, NULL), 0);
	assert_int_equal(policy_model_set_pod(m, p, NULL), 0);
	json_decref(j);
}

/* A BlockAffinity object. */
static inline json_t *mgrtest_affinity(const char *node, const char *state, const char *deleted,
				       const char *cidr)
{
	return json_pack("{s:{s:s,s:s,s:s?,s:s}}", "spec", "node", node, "state", state, "deleted",
			 deleted, "cidr", cidr);
}
