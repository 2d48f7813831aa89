/* Calico's own policy model: NetworkPolicy and GlobalNetworkPolicy (as
 * Calico stores them in crd.projectcalico.org/v1), Tier, NetworkSet,
 * GlobalNetworkSet, and the ServiceAccount labels serviceAccountSelector
 * matches; parsed into the same struct policy_netpol the compiler takes for
 * Kubernetes NetworkPolicies, with Calico's selector grammar (lib/selector).
 *
 * Matching, as Calico defines it:
 *  - an endpoint (pod) carries its labels plus projectcalico.org/namespace,
 *    projectcalico.org/orchestrator (k8s) and projectcalico.org/serviceaccount;
 *    a namespace its labels plus projectcalico.org/name; a ServiceAccount its
 *    labels plus projectcalico.org/name;
 *  - a NetworkPolicy selects endpoints of its namespace; a
 *    GlobalNetworkPolicy those of every namespace its namespaceSelector
 *    matches (all when absent); serviceAccountSelector narrows both;
 *  - a rule's source/destination without namespaceSelector means the
 *    policy's namespace (NetworkPolicy) or everything (GlobalNetworkPolicy),
 *    network sets included; with one, the endpoints and NetworkSets of the
 *    namespaces it matches ("global()": the GlobalNetworkSets only).
 */
#pragma once

#include <stdbool.h>

#include <jansson.h>

#include "cleanup.h"
#include "model.h"

#define POLICY_K8S_ORDER 1000.0	     /* Calico's order for Kubernetes NetworkPolicies */
#define POLICY_DEFAULT_TIER "default"
#define POLICY_DEFAULT_TIER_ORDER 1000000.0 /* Calico's default tier order */

/**
 * policy_calico_from_json - parse and validate a Calico policy as stored in
 *   its CRD (crd.projectcalico.org/v1, name "<tier>.<name>")
 * @j: the object
 * @kind: POLICY_KIND_CALICO (NetworkPolicy) or POLICY_KIND_GLOBAL
 * @ret: the policy, one reference
 * @ret_error: malloc'd message naming the policy and the field, on -EINVAL
 *
 * What calico-c cannot enforce exactly (http, notSelector, services, named
 * ports) is -EOPNOTSUPP with a message: felix-c then uses
 * policy_calico_deny_from_json().
 *
 * Return: 0, -EINVAL, -EOPNOTSUPP, -ENOMEM.
 */
int policy_calico_from_json(const json_t *j, enum policy_kind kind, struct policy_netpol **ret,
			    char **ret_error);
/**
 * policy_calico_deny_from_json - the fail-closed stand-in for a Calico
 *   policy that policy_calico_from_json() refused: same key, tier and order,
 *   the endpoints @j's selectors select (every endpoint in scope when they
 *   do not parse), both directions unless its types parse, one rule: Deny.
 * @j: the object
 * @kind: as above
 * @ret: the stand-in
 *
 * Return: 0, -EINVAL (no name), -ENOMEM.
 */
int policy_calico_deny_from_json(const json_t *j, enum policy_kind kind,
				 struct policy_netpol **ret);

/* "ingress" or "egress": the spec field of direction @d's rules. */
static inline const char *policy_dir_field(enum policy_dir d)
{
	return d == POLICY_DIR_INGRESS ? "ingress" : "egress";
}

/**
 * policy_rules_of - the rule list of direction @d in a policy's @spec
 * @spec: spec object (Calico's or ClusterNetworkPolicy's)
 * @d: direction
 * @max: most rules allowed
 * @ret: the list, NULL when absent or null
 * @ret_error: message on -EINVAL (not a list, or longer than @max)
 *
 * Return: 0 or -EINVAL.
 */
int policy_rules_of(const json_t *spec, enum policy_dir d, size_t max, const json_t **ret,
		    char **ret_error);

/* crdvalid's ops.policy: the checks of policy_calico_from_json() on an
 * object crdvalid accepted (what is only unsupported is not an error). */
int policy_calico_check(const json_t *obj, char **ret_error);

int policy_tier_from_json(const json_t *j, struct policy_tier **ret, char **ret_error);
struct policy_tier *policy_tier_free(struct policy_tier *t);
DEFINE_CLEANUP_FUNC(struct policy_tier, policy_tier_free);

/* @j: a NetworkSet (namespaced) or GlobalNetworkSet. */
int policy_netset_from_json(const json_t *j, struct policy_netset **ret, char **ret_error);
struct policy_netset *policy_netset_free(struct policy_netset *s);
DEFINE_CLEANUP_FUNC(struct policy_netset, policy_netset_free);

int policy_sa_from_json(const json_t *j, struct policy_sa **ret, char **ret_error);
struct policy_sa *policy_sa_free(struct policy_sa *s);
DEFINE_CLEANUP_FUNC(struct policy_sa, policy_sa_free);

#define POLICY_PROFILE_DEFAULT_ALLOW "projectcalico-default-allow"

/**
 * policy_hep_from_json - parse and validate a HostEndpoint as stored in its
 *   CRD (crd.projectcalico.org/v1, cluster-scoped)
 * @j: the object
 * @ret: the host endpoint
 * @ret_error: malloc'd message naming the object and the field, on -EINVAL
 *
 * Calico's rules: spec.node required; spec.interfaceName "*", an interface
 * name, or empty with at least one spec.expectedIPs address; profiles are
 * names; ports have a name, a port 1..65535 and a protocol.
 *
 * Return: 0, -EINVAL, -ENOMEM.
 */
int policy_hep_from_json(const json_t *j, struct policy_hep **ret, char **ret_error);
/**
 * policy_hep_deny_from_json - the fail-closed stand-in for a HostEndpoint
 *   policy_hep_from_json() refused: its node and interface, no labels; a
 *   packet to or from a local process through it is denied unless a
 *   failsafe port passes it, and every packet forwarded through it is
 *   denied (forwarded traffic has no failsafes)
 * @j: the object
 * @ret: the stand-in
 *
 * Return: 0, -EINVAL (no name, node or interface name to place it on: it
 * governs nothing), -ENOMEM.
 */
int policy_hep_deny_from_json(const json_t *j, struct policy_hep **ret);
struct policy_hep *policy_hep_free(struct policy_hep *h);
DEFINE_CLEANUP_FUNC(struct policy_hep, policy_hep_free);
/* crdvalid's ops.hep: policy_hep_from_json()'s checks (the message without
 * the object's name, which crdvalid adds). */
int policy_hep_check(const json_t *obj, char **ret_error);
/* Whether GlobalNetworkPolicy @np applies to host endpoint @h (types not
 * considered); other kinds never do. */
bool policy_selects_hep(const struct policy_netpol *np, const struct policy_hep *h);

/* Add or replace (ownership taken, also on error) / remove; each is a
 * policy change for the compiler (netpol_generation). */
int policy_model_set_tier(struct policy_model *m, struct policy_tier *t);
int policy_model_del_tier(struct policy_model *m, const char *name);
int policy_model_set_netset(struct policy_model *m, struct policy_netset *s);
int policy_model_del_netset(struct policy_model *m, const char *ns, const char *name);
int policy_model_set_sa(struct policy_model *m, struct policy_sa *s);
int policy_model_del_sa(struct policy_model *m, const char *ns, const char *name);
int policy_model_set_hep(struct policy_model *m, struct policy_hep *h);
int policy_model_del_hep(struct policy_model *m, const char *name);
/**
 * policy_model_set_host_addrs - this node's interface addresses, where a
 *   HostEndpoint with expectedIPs and no interfaceName applies (as Felix
 *   finds its interface)
 * @m: model
 * @v: the addresses (copied, any order)
 * @n: how many
 *
 * Return: 1 when they changed (a policy change for the compiler), 0 when
 * they are the same, -ENOMEM.
 */
int policy_model_set_host_addrs(struct policy_model *m, const struct policy_host_addr *v,
				size_t n);
/* Whether a HostEndpoint of the model's node has expectedIPs and no
 * interfaceName (only then are the host's addresses needed). */
bool policy_model_wants_host_addrs(const struct policy_model *m);

/* A tier's place: its order (Calico's default tier's when it has no
 * Tier object; after every ordered tier when unset or missing) and whether
 * its default action is Pass. */
void policy_model_tier(const struct policy_model *m, const char *name, double *ret_order,
		       bool *ret_has_order, bool *ret_pass);

/* Whether @np applies to @pod (any kind; types not considered). */
bool policy_selects_pod(const struct policy_model *m, const struct policy_netpol *np,
			const struct policy_pod *pod);
/* Whether a Calico rule's source/destination @e (by_labels) selects @pod /
 * network set @s. */
bool policy_entity_matches_pod(const struct policy_model *m, const struct policy_netpol *np,
			       const struct policy_entity *e, const struct policy_pod *pod);
bool policy_entity_matches_netset(const struct policy_model *m, const struct policy_netpol *np,
				  const struct policy_entity *e, const struct policy_netset *s);
/* Whether @e may select pods of namespace @ns (a cheap candidate filter). */
bool policy_entity_wants_ns(const struct policy_model *m, const struct policy_netpol *np,
			    const struct policy_entity *e, const char *ns);

/**
 * policy_cmp - Calico's evaluation order of two policies of one tier:
 *   order (unset last), then name
 */
int policy_cmp(const struct policy_netpol *a, const struct policy_netpol *b);

/* A policy applying to an endpoint, with its tier's place. */
struct policy_applied {
	const struct policy_netpol *np;
	double tier_order;
	bool tier_has_order, tier_pass;
};

/* @np with its tier's place (policy_model_tier()). */
struct policy_applied policy_applied_of(const struct policy_model *m,
					const struct policy_netpol *np);
/* qsort() comparator of struct policy_applied: Calico's evaluation order,
 * tiers by order (unset last), then name; in a tier, policy_cmp(). */
int policy_applied_cmp(const void *a, const void *b);
