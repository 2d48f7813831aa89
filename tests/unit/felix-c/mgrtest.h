/* Shared fixtures of the manager tests: a policy model from pod JSON, a
 * desired state built from it, and plans between nft tables. */
#pragma once

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "felix-c/manager.h"
#include "policy/model.h"
#include "policy/plan.h"

/* The plan from @from to @to, which must succeed. */
static inline struct policy_plan *mgrtest_plan(const struct policy_nft *from,
					       const struct policy_nft *to)
{
	struct policy_plan *p = NULL;

	assert_int_equal(policy_plan(from, to, &p, NULL), 0);
	return p;
}

/* @got (a batch replayed into a table) plans to nothing against @want. */
static inline void mgrtest_assert_no_diff(const struct policy_nft *got, const struct policy_nft *want)
{
	struct policy_plan *p = mgrtest_plan(got, want);

	if (!policy_plan_is_empty(p)) {
		policy_plan_print(p, stderr);
		fail_msg("replayed batch differs from desired (%zu ops)", p->n_ops);
	}
	policy_plan_free(p);
}

/* A pod of namespace "ns" named @name on @node with @ip (NULL: none). */
static inline void mgrtest_add_pod(struct policy_model *m, const char *name, const char *node,
				   const char *ip, bool host_network)
{
	json_t *j = json_pack("{s:{s:s,s:s},s:{s:s,s:b}}", "metadata", "namespace", "ns", "name",
			      name, "spec", "nodeName", node, "hostNetwork", host_network);
	struct policy_pod *p = NULL;

	assert_non_null(j);
	if (ip) { /* "10.65.1.5" or, dual stack, "10.65.1.5,fd00::5" (status.podIPs) */
		json_t *ips = json_array();
		char buf[128], *save = NULL;

		snprintf(buf, sizeof(buf), "%s", ip);
		for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
			json_array_append_new(ips, json_pack("{s:s}", "ip", t));
		json_object_set_new(j, "status", json_pack("{s:O,s:o}", "podIP",
							   json_object_get(json_array_get(ips, 0), "ip"),
							   "podIPs", ips));
	}
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

/* What a manager test drives: the inputs of felix_desired_build() (node
 * "n1"), the desired state built from them and the manager under test. */
struct mgrtest_env {
	struct policy_model *model;
	json_t *affs, *nodes;	/* BlockAffinity and Node caches */
	uint64_t nodes_gen;	/* bump after changing nodes */
	struct felix_desired d;
	struct felix_manager *m;
};

static inline void mgrtest_env_init(struct mgrtest_env *e)
{
	memset(e, 0, sizeof(*e));
	assert_int_equal(policy_model_new("n1", &e->model), 0);
	e->affs = json_object();
	e->nodes = json_object();
}

/* Builds the desired state from the inputs and hands it to the manager. */
static inline void mgrtest_env_build(struct mgrtest_env *e)
{
	struct felix_desired_input in = { .node = "n1", .affinities = e->affs, .model = e->model };

	in.objs[FELIX_OBJS_NODES] = (struct felix_objs){ .cache = e->nodes, .gen = e->nodes_gen };
	felix_desired_done(&e->d);
	assert_int_equal(felix_desired_build(&in, &e->d), 0);
	e->m->ops->update(e->m, &e->d);
}

static inline void mgrtest_env_done(struct mgrtest_env *e)
{
	felix_manager_free(e->m);
	felix_desired_done(&e->d);
	policy_model_free(e->model);
	json_decref(e->affs);
	json_decref(e->nodes);
}
