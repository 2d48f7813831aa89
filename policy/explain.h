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
 * Pure: no kernel, no API. Only new connections are explained: established
 * and related packets are accepted before any policy, invalid ones dropped.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

/* One flow. A NULL pod is an endpoint outside the pod network (another
 * host, a node, the internet): never filtered itself, matched by ipBlocks. */
struct policy_flow {
	const struct policy_pod *src, *dst;
	struct in_prefix saddr, daddr; /* full-length prefixes, same family */
	uint8_t proto;			 /* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP */
	uint16_t port;			 /* destination port */
};

/* One rule of a policy selecting the pod, and whether it matches. */
struct policy_explain_rule {
	const struct policy_netpol *np; /* borrowed from the model */
	size_t rule;			/* index into np->rules[dir] */
	bool peer_ok;			/* some peer (or no peer list) matches */
	bool port_ok;			/* some port (or no port list) matches */
};

struct policy_explain_dir {
	bool filtered; /* the endpoint is a pod this direction applies to */
	bool isolated; /* some policy of this direction selects the pod */
	bool allowed;
	const struct policy_netpol **selecting; /* sorted by key; array owned */
	size_t n_selecting;
	struct policy_explain_rule *rules; /* every rule of @selecting, in order */
	size_t n_rules;
};

struct policy_explain {
	bool allowed; /* both directions allow */
	/* EGRESS: of the source pod; INGRESS: of the destination pod */
	struct policy_explain_dir dir[_POLICY_DIR_MAX];
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
 * Return: 0, -EINVAL (mixed families), -EOPNOTSUPP (a Calico policy applies
 * to an endpoint of the flow: only Kubernetes NetworkPolicies are
 * explained), -ENOMEM.
 */
int policy_explain(const struct policy_model *m, const struct policy_flow *f,
		   struct policy_explain *ret);
void policy_explain_done(struct policy_explain *e);
