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
 * ingress.
 *
 *   chain cc_input { hook input priority 0; policy accept
 *     ct state established,related accept
 *     iifname "cali*" ct state invalid drop
 *     iifname "cali*" jump cc_wl_to_host }   pod -> its own node
 *   chain cc_wl_to_host {
 *     IPv6 neighbour discovery, router solicitation, MLD: accept
 *     Drop only: meta mark set meta mark | 0x00200000
 *     iifname vmap @cc_from_wl
 *     drop }                                  (unknown workload)
 *   chain cc_input_drop { hook input priority 1; policy accept   (Drop only)
 *     iifname "cali*" meta mark & 0x00200000 != 0 drop }
 *
 * Traffic from a workload to its own host is Calico's: the endpoint's egress
 * policy (the same profile chain as forwarded traffic), then
 * DefaultEndpointToHostAction. The policy's accept ends cc_input only, so
 * under Drop the packet, marked before the policy, is dropped by the next
 * input base chain (the policy's Log rules and counters still see it, as in
 * Calico). Accept and Return are the same in nftables: an accept in our
 * table does not stop other tables' input chains, which Return leaves the
 * packet to.
 * Host -> own workload is not policed, as in Calico (cc_output accepts
 * it); the workload's replies are established and accepted first.
 *
 * Host endpoints (Calico HostEndpoints of this node), only while one is
 * active:
 *
 *   cc_input, after the workload jump:
 *     jump cc_failsafe_in                    FailsafeInboundHostPorts: accept
 *     iifname vmap @cc_from_hep              -> hep_in_<name>
 *     jump hep_in_<*>                        the "*" host endpoint, if any
 *   chain cc_output { hook output priority 0; policy accept
 *     ct state established,related accept
 *     oifname "cali*" accept                 host -> workload: not policed
 *     jump cc_failsafe_out                   FailsafeOutboundHostPorts: accept
 *     oifname vmap @cc_to_hep                -> hep_eg_<name>
 *     jump hep_eg_<*> }
 *   cc_fwd_egress / cc_fwd_ingress, after the workload dispatch:
 *     iifname vmap @cc_from_hep_fwd / oifname vmap @cc_to_hep_fwd
 *                                            -> hep_fi_<name> / hep_fe_<name>
 *
 * A host endpoint chain is a profile chain for the GlobalNetworkPolicies
 * selecting it (tiers, order, Pass as for workloads), ending, when no tier
 * decided, in its profiles: accept with projectcalico-default-allow, else
 * drop (so a host endpoint with no policy denies, failsafes excepted).
 * Forwarded traffic (hep_f*) sees only applyOnForward policies and is
 * accepted when none selects the endpoint in that direction (no element;
 * beside a "*" endpoint, a chain that accepts, so that the "*" endpoint's
 * forward chain sees only interfaces without an endpoint of their own).
 * Interfaces without a host endpoint are not policed.
 *
 * preDNAT and doNotTrack GlobalNetworkPolicies (host endpoints only, never
 * pods) have chains of their own, only while one selects an endpoint:
 *
 *   chain cc_raw_prerouting { hook prerouting priority -300 (raw)
 *     iifname "cali*" accept; meta mark clear 0x00400000
 *     iifname vmap @cc_from_hep_nt }                     doNotTrack ingress
 *   chain cc_raw_output { hook output priority -300
 *     oifname "cali*" accept; meta mark clear 0x00400000
 *     oifname vmap @cc_to_hep_nt }                       doNotTrack egress
 *   chain cc_prerouting { hook prerouting priority -150, before DNAT (-100)
 *     ct state established,related accept; iifname "cali*" accept
 *     mark 0x00400000 accept (doNotTrack allowed), else clear it
 *     iifname vmap @cc_from_hep_pd                       preDNAT ingress
 *     iifname vmap @cc_from_hep_own                      -> cc_hep_own: accept
 *     jump hep_pd_<*> }                                  (only with a "*" one)
 *
 * As in Calico, the "*" endpoint never sees an interface with an endpoint of
 * its own (cc_from_hep_own holds them all), and has no doNotTrack chains
 * (Calico ignores untracked policy on it).
 *
 * Every failsafe chain starts with the ICMPv6 types of cc_wl_to_host
 * (neighbour discovery, router solicitation, MLD), so no host endpoint
 * policy (normal, preDNAT or doNotTrack) cuts the node's IPv6 off its link,
 * as Calico's BPF dataplane skips policy for them on host endpoints.
 *
 * Their endpoint chains start with the failsafes (before conntrack:
 * cc_failsafe_raw_in/out, which also pass the other direction's replies),
 * then the tiers with order and Pass as above, but no tier default and no
 * profiles: a packet no rule decided goes on. Allow sets the accept mark
 * 0x00400000 and accepts (doNotTrack: notrack too); Deny drops. cc_input,
 * cc_output and cc_fwd_egress accept a marked packet before their host
 * endpoint dispatch, so it skips the normal (and applyOnForward ingress)
 * policy; a forwarded packet still meets the workload's and the outgoing
 * endpoint's policy.
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

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cleanup.h"

struct policy_failsafes;
struct policy_model;
struct policy_nft;
struct policy_plan;
struct policy_pod;

#define POLICY_TABLE_DEFAULT "calico-c"

#define POLICY_LOG_PREFIX_DEFAULT "calico-packet"
#define POLICY_LOG_PREFIX_MAX 32

/* What happens to a workload's packets to its own host once its egress
 * policy allowed them (Calico's DefaultEndpointToHostAction). */
enum policy_host_action {
	POLICY_HOST_DROP, /* Calico's default */
	POLICY_HOST_RETURN,
	POLICY_HOST_ACCEPT,
	_POLICY_HOST_ACTION_MAX,
	_POLICY_HOST_ACTION_INVALID = -EINVAL,
};

const char *policy_host_action_to_string(enum policy_host_action a);
/* "Drop", "Return", "Accept", any case (Calico's spellings). */
enum policy_host_action policy_host_action_from_string(const char *s);
/* Whether @s may be a log prefix: 1..POLICY_LOG_PREFIX_MAX printable
 * characters, no '"' or '\\'. */
bool policy_log_prefix_is_valid(const char *s);

struct policy_options {
	const char *table; /* NULL = POLICY_TABLE_DEFAULT */
	int nflog_group;   /* NFLOG group of Log rules, -1 = none (a Log rule does nothing) */
	bool nflog_denied; /* denied packets are logged to nflog_group too */
	const char *log_prefix; /* Calico's LogPrefix, NULL = POLICY_LOG_PREFIX_DEFAULT; the
				 * NFLOG prefix is "<log_prefix> <rule label>: " */
	enum policy_host_action endpoint_to_host; /* DefaultEndpointToHostAction */
	/* Calico's FailsafeInboundHostPorts / FailsafeOutboundHostPorts, NULL:
	 * none (policy/failsafe.h has Calico's defaults) */
	const struct policy_failsafes *failsafe_in, *failsafe_out;
};

struct policy_desired;

/**
 * policy_compile - compile the model into the desired table (pure)
 * @m: the model
 * @o: options
 * @ret: the desired state
 *
 * Return: 0, -EINVAL (an invalid log prefix or host action in @o), -ENOMEM.
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
 * compiled, or the first IPv6 pod came or the last one left (IPv6 pod
 * address sets exist only while some pod has IPv6; IPv6 nets, of rules,
 * network sets and host endpoints, always): compile again; -ENOMEM (then
 * @d must be recompiled).
 */
int policy_desired_update_pod(struct policy_desired *d, const struct policy_model *m,
			      const struct policy_pod *old, const struct policy_pod *new,
			      struct policy_plan **ret_plan);
