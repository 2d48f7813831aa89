/* Which NetworkPolicy rule allows or denies one flow, evaluated on the
 * model with the semantics the compiled ruleset has (compile.h): a
 * forwarded packet passes the source pod's EGRESS and then the destination
 * pod's INGRESS; a pod selected by no policy of a direction is open in it;
 * an isolated pod is allowed what any rule of any policy selecting it
 * allows. Rule matching is by address, as in the kernel: a pod peer matches
 * the addresses of the (non-hostNetwork) pods its selectors pick, an
 * ipBlock its CIDR minus the excepts, a named port the port of that name
 * and protocol on the destination pod (for ingress, among the pods the
 * policy selects; for egress with only pod peers, among those peers).
 *
 * When Calico policies (NetworkPolicy, GlobalNetworkPolicy) select the pod,
 * the direction is evaluated as Calico does and the compiled tier chains
 * do: tiers by order, in a tier the policies by order (Kubernetes ones in
 * tier default at order 1000), each policy's rules in order; the first
 * matching Allow or Deny decides, Log goes on, Pass leaves the tier; a
 * tier with no decision ends in its default action (Deny, or Pass); a
 * rejected Calico policy's stand-in denies what reaches it; after the last
 * tier passed, the profile allows. A Calico rule's source and destination
 * match by address: nets, notNets, and for selectors the addresses of the
 * pods and the nets of the network sets they select.
 *
 * A flow may also start or end at a local process of a node, through one
 * of its HostEndpoints (@src_hep: leaving the node through it, the
 * endpoint's egress; @dst_hep: arriving through it, its ingress). That
 * direction is evaluated in the stages of compile.h: the failsafe ports
 * first, then the doNotTrack policies, then (ingress) the preDNAT ones,
 * each decided by its first matching Allow or Deny, with no tier default
 * (no decision: the next stage); then the normal policies as for a pod,
 * ending in the endpoint's profiles (projectcalico-default-allow allows,
 * anything else denies).
 *
 * A pod's flow to a local process of its own node (@to_node) passes the
 * pod's egress policy, then DefaultEndpointToHostAction (@endpoint_to_host:
 * Drop denies, Accept and Return allow); its host endpoints never apply.
 *
 * A flow a node forwards (routes) may arrive through one of its host
 * endpoints (@fwd_in) and leave through one (@fwd_out), to or from an
 * outside address or a pod (a local pod's side is its own egress or
 * ingress, as always). @fwd_in's forward ingress: its doNotTrack stage,
 * its preDNAT stage (each led by the inbound failsafes, which only pass the
 * packet on to the next stage, the doNotTrack one also by the replies of
 * outbound failsafe connections, by source port), then its applyOnForward
 * normal policies; @fwd_out's forward egress: its applyOnForward normal
 * policies only (the doNotTrack egress chain is on the output hook). A
 * doNotTrack or preDNAT Allow skips the rest of that endpoint's stages; the
 * normal stage is tiered as for a pod, and forwarded traffic is accepted
 * when no applyOnForward policy selects the endpoint in that direction or
 * every tier passed. A rejected endpoint denies forwarded traffic. As the
 * compiled dispatch does, a doNotTrack or preDNAT stage that decides
 * nothing goes on to the node's "*" endpoint's (the normal stage never).
 *
 * Calico rules with source ports (source.ports, source.notPorts) match
 * @sport; a flow without one (0) is not explained where such a rule, or a
 * doNotTrack stage's failsafe reply rule, could decide.
 *
 * Pure: no kernel, no API. Only new connections are explained: established
 * and related packets are accepted before any policy, invalid ones dropped.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compile.h"
#include "model.h"

/* One flow. A NULL pod is an endpoint outside the pod network (another
 * host, a node, the internet): never filtered itself, matched by ipBlocks. */
struct policy_failsafes;

struct policy_flow {
	const struct policy_pod *src, *dst;
	/* a local process of the endpoint's node, through that endpoint (the
	 * pod on that side is then NULL; both: of two nodes); the failsafe
	 * ports of the nodes (NULL: none) */
	const struct policy_hep *src_hep, *dst_hep;
	const struct policy_failsafes *failsafe_in, *failsafe_out;
	/* the destination is a local process of @src's own node (dst NULL,
	 * daddr the node's address), under this DefaultEndpointToHostAction */
	bool to_node;
	enum policy_host_action endpoint_to_host;
	/* forwarded by their node: arriving through @fwd_in, leaving through
	 * @fwd_out (NULL: another interface, or a local pod's own); both of
	 * one node, never with @src_hep, @dst_hep or @to_node */
	const struct policy_hep *fwd_in, *fwd_out;
	struct in_prefix saddr, daddr; /* full-length prefixes, same family */
	uint8_t proto;			 /* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP */
	uint16_t port;			 /* destination port */
	uint16_t sport;			 /* source port, 0: not known */
};

/* One rule of a policy selecting the pod, and whether it matches. For a
 * Calico rule, peer_ok: its protocol and source/destination addresses and
 * selectors match; port_ok: its ports do. */
struct policy_explain_rule {
	const struct policy_netpol *np; /* borrowed from the model */
	size_t rule;			/* index into np->rules[dir] (np->crules[dir]) */
	bool peer_ok;			/* some peer (or no peer list) matches */
	bool port_ok;			/* some port (or no port list) matches */
	enum policy_action action;	/* Allow for a Kubernetes rule */
};

/* What decided a direction when Calico policies select the pod (tiered:
 * each tier's policies in order, each policy's rules in order). */
enum policy_explain_end {
	POLICY_EXPLAIN_END_RULE,    /* rules[n_rules - 1] allowed or denied */
	POLICY_EXPLAIN_END_STAND_IN, /* @stand_in (rejected) denies what reaches it */
	POLICY_EXPLAIN_END_TIER,    /* no rule of @tier matched: its default action, Deny */
	POLICY_EXPLAIN_END_PASSED,  /* every tier passed (Pass): the profile allows */
	POLICY_EXPLAIN_END_FAILSAFE, /* host endpoint: a failsafe port accepts it */
	POLICY_EXPLAIN_END_PROFILE, /* host endpoint: no tier decided, its profiles did */
	POLICY_EXPLAIN_END_HOST_ACTION, /* pod -> own node: DefaultEndpointToHostAction */
	POLICY_EXPLAIN_END_FORWARD, /* forwarded: no applyOnForward tier decided, accepted */
	_POLICY_EXPLAIN_END_MAX,
	_POLICY_EXPLAIN_END_INVALID = -22,
};

struct policy_explain_dir {
	bool filtered; /* the endpoint is a pod this direction applies to */
	bool isolated; /* some policy of this direction selects the pod */
	bool allowed;
	/* sorted by key, or with Calico policies in evaluation order; owned */
	const struct policy_netpol **selecting;
	size_t n_selecting;
	/* every rule of @selecting, in order; tiered: those evaluated; owned
	 * (room for @cap_rules) */
	struct policy_explain_rule *rules;
	size_t n_rules, cap_rules;
	bool tiered; /* Calico policies select the pod: @end says what decided */
	enum policy_explain_end end;
	const char *tier;			 /* END_TIER, END_STAND_IN, END_RULE */
	const struct policy_netpol *stand_in; /* END_STAND_IN */
	/* a host endpoint's direction: @selecting holds the policies of each
	 * stage evaluated, in stage order; @stage: the one that decided */
	const struct policy_hep *hep;
	enum policy_host_mode stage;
	bool untracked; /* allowed by a doNotTrack policy: conntrack never sees it */
	bool forward;	/* forwarded traffic's stages of @hep */
	bool failsafe_passed; /* a failsafe passed it through a doNotTrack/preDNAT stage */
};

struct policy_explain {
	bool allowed; /* every direction allows */
	/* EGRESS: of the source pod (or local process's host endpoint);
	 * INGRESS: of the destination's */
	struct policy_explain_dir dir[_POLICY_DIR_MAX];
	/* forwarded: INGRESS: @fwd_in's forward ingress, EGRESS: @fwd_out's
	 * forward egress (filtered false when there is none) */
	struct policy_explain_dir fwd[_POLICY_DIR_MAX];
};

/**
 * policy_flow_addresses - fill @f's addresses from its pods: the first
 *   family both have (IPv4 first)
 * @f: flow with src and dst pods set (a NULL pod keeps the address given)
 *
 * Return: 0, -EADDRNOTAVAIL when a pod has no address of a common family.
 */
int policy_flow_addresses(struct policy_flow *f);

/**
 * policy_explain - evaluate one flow
 * @m: the model (pods, namespaces, policies)
 * @f: the flow (addresses of one family)
 * @ret: the answer, per direction with the policies and rules involved
 *
 * Return: 0, -EINVAL (mixed families, @to_node without a source pod, ends
 * that cannot be: see struct policy_flow), -EOPNOTSUPP (no @sport where it
 * could decide: not explained), -ENOMEM.
 */
int policy_explain(const struct policy_model *m, const struct policy_flow *f,
		   struct policy_explain *ret);
void policy_explain_done(struct policy_explain *e);
