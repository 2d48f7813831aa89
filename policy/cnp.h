/* Kubernetes ClusterNetworkPolicy (policy.networking.k8s.io v1beta1, also
 * served as v1alpha2: the network-policy-api project's v0.3.0, one kind with
 * spec.tier Admin or Baseline), placed in Calico's tier model as Calico
 * places it:
 *  - tier Admin: Calico tier "kube-admin", order 1000, default action Pass
 *    (before the default tier, where Kubernetes NetworkPolicies sit);
 *  - tier Baseline: tier "kube-baseline", order 10000000, default action
 *    Pass (after the default tier: reached only by endpoints that no
 *    NetworkPolicy of the default tier selects in that direction, or that
 *    a Calico policy passed);
 *  - spec.priority is the order in its tier; rules are evaluated in the
 *    order written; Accept = Allow, Deny, Pass = on to the next tier;
 *  - subject/peer namespaces and pods select pods only (never network
 *    sets; host-network pods never); egress networks are CIDRs;
 *    protocols tcp/udp/sctp with a destination port number or range.
 * Tier objects of these two names do not change them (Calico: fixed).
 */
#pragma once

#include <jansson.h>

struct policy_netpol;

#define POLICY_CNP_ADMIN_TIER "kube-admin"
#define POLICY_CNP_ADMIN_TIER_ORDER 1000.0
#define POLICY_CNP_BASELINE_TIER "kube-baseline"
#define POLICY_CNP_BASELINE_TIER_ORDER 10000000.0

/**
 * policy_cnp_from_json - parse and validate a ClusterNetworkPolicy
 * @j: the object (v1beta1 or v1alpha2: the same schema)
 * @ret: the policy (kind POLICY_KIND_CLUSTER), one reference
 * @ret_error: malloc'd message naming the policy and the field, on -EINVAL
 *   or when 1 is returned
 *
 * What calico-c cannot enforce (peers nodes and domainNames, a peer or
 * protocol with no field it knows, destinationNamedPort) fails closed as the
 * API defines it: in an Accept rule it matches nothing; a Deny or Pass rule
 * holding one denies everything.
 *
 * Return: 0; 1 when some part fails closed that way (*ret is set, the
 * message names the first such field); -EINVAL, -ENOMEM.
 */
int policy_cnp_from_json(const json_t *j, struct policy_netpol **ret, char **ret_error);
/**
 * policy_cnp_deny_from_json - the fail-closed stand-in for a
 *   ClusterNetworkPolicy policy_cnp_from_json() rejected: same key, tier
 *   and priority (Admin and 0 when they do not parse), the subject's pods
 *   (every pod when it does not parse), both directions: Deny.
 * @j: the object
 * @ret: the stand-in
 *
 * Return: 0, -EINVAL (no name), -ENOMEM.
 */
int policy_cnp_deny_from_json(const json_t *j, struct policy_netpol **ret);
