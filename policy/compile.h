/* NetworkPolicy -> nftables compiler.
 *
 * Table layout (family inet, one table of ours):
 *
 *   chain cc_fwd_egress  { hook forward priority 0; policy accept
 *     ct state established,related accept
 *     iifname "cali*" ct state invalid drop
 *     iifname vmap @cc_from_wl }          pod -> anything: the pod's EGRESS
 *   chain cc_fwd_ingress { hook forward priority 1; policy accept
 *     ct state established,related accept
 *     oifname "cali*" ct state invalid drop
 *     oifname vmap @cc_to_wl }            anything -> pod: the pod's INGRESS
 *
 * An accept in the first base chain lets the packet on to the second, so a
 * forwarded packet must pass the source's egress AND the destination's
 * ingress. There is no input or output chain: pod <-> own node traffic is
 * never filtered.
 *
 * A local pod isolated in a direction has a vmap element ifname -> jump to a
 * PROFILE chain ep_<dir>_<hash> shared by all pods selected by the same
 * policies: "jump <policy chain>" per policy, then "counter drop" (plus NFLOG).
 * A policy chain pol_<ns>_<name>_<in|eg> has, per NetworkPolicy rule, a few
 * rules "peer-match port-match counter accept" labelled "ns/name ingress[i]";
 * peers and ports live in named sets (pod addresses, ipBlock intervals with
 * the excepts cut out, protocol . port intervals, address . protocol . port
 * for named ports), so per-packet work is a vmap lookup plus the rules of the
 * policies selecting the pod, independent of pod and policy counts. A pod
 * peer's set sel<4|6>_<hash> is named by a hash of its selectors (and the
 * policy's namespace when it has no namespaceSelector), so equal peers of
 * any policies share one; ipBlock and port sets are named by a hash of
 * their contents.
 *
 * A pod joining or leaving a selector changes set elements (and at most the
 * vmap element choosing its profile chain): policy_desired_update_pod()
 * computes exactly that delta in time independent of the number of pods.
 *
 * With a node in the model, only policies selecting some of its pods (not
 * host-network) are compiled: a node's table holds its own pods' policies
 * and their peer sets, not the whole cluster's. Without one, all are.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cleanup.h"

struct policy_model;
struct policy_nft;
struct policy_plan;
struct policy_pod;

#define POLICY_TABLE_DEFAULT "calico-c"

struct policy_options {
	const char *table; /* NULL = POLICY_TABLE_DEFAULT */
	int nflog_group;   /* NFLOG group for denied packets, -1 = none */
};

struct policy_desired;

/**
 * policy_compile - compile the model into the desired table (pure)
 * @m: the model
 * @o: options
 * @ret: the desired state
 *
 * Return: 0, -ENOMEM.
 */
int policy_compile(const struct policy_model *m, const struct policy_options *o,
		   struct policy_desired **ret);
struct policy_desired *policy_desired_free(struct policy_desired *d);
DEFINE_CLEANUP_FUNC(struct policy_desired, policy_desired_free);
const struct policy_nft *policy_desired_nft(const struct policy_desired *d);
/* The policies compiled into @d: with a node in the model, those selecting
 * at least one of its pods (Calico's "active local policies"). */
size_t policy_desired_n_policies(const struct policy_desired *d);

/**
 * policy_desired_update_pod - apply one pod change to a desired state
 *   incrementally and return the operations it implies
 * @d: desired state compiled from @m before the change (updated in place)
 * @m: the model, with the change already made
 * @old: the pod before (NULL when added)
 * @new: the pod after (NULL when deleted)
 * @ret_plan: the finished plan (element changes, profile chains created or
 *   dropped and, with a node, the chains and sets of a policy that a local
 *   pod's change makes relevant to this node or no longer)
 *
 * The plans reference @d: apply each before the next update.
 *
 * Return: 0, -ESTALE when policies or namespaces changed since @d was
 * compiled, or the first IPv6 pod came or the last one left (IPv6 rules
 * exist only while some pod has IPv6): compile again; -ENOMEM (then @d must
 * be recompiled).
 */
int policy_desired_update_pod(struct policy_desired *d, const struct policy_model *m,
			      const struct policy_pod *old, const struct policy_pod *new,
			      struct policy_plan **ret_plan);
