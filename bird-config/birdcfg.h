/* BIRD 2 configuration for one calico-c node, rendered from API objects.
 *
 * birdcfg_render() is a pure function: Kubernetes/Calico objects in, config
 * text out, plus a list of objects that were skipped and why. Every value
 * that reaches the text is validated first; output is sorted, so the same
 * input always gives byte-identical text (the caller reloads BIRD only when
 * the text changes).
 */
#pragma once

#include <stddef.h>

#include <jansson.h>

#include "prefix.h"

/* Input: arrays of API objects as read from the apiserver, and this node's
 * blocks and borrowed addresses in binary (all borrowed). */
struct birdcfg_input {
	const char *node;	   /* this node's name */
	json_t *nodes;		   /* v1 Node */
	json_t *bgpconfigurations; /* BGPConfiguration */
	json_t *bgppeers;	   /* BGPPeer */
	json_t *bgpfilters;	   /* BGPFilter (those BGPPeers name in filters) */
	json_t *secrets;	   /* v1 Secret referenced by peer passwords */
	json_t *ippools;	   /* IPPool */
	json_t *services;	   /* v1 Service (for service IP advertisement) */
	json_t *endpointslices;	   /* discovery.k8s.io/v1 EndpointSlice */
	const struct in_prefix *blocks; /* this node's blocks (lib/blockaff.h) */
	size_t n_blocks;
	const struct in_prefix *borrowed; /* host prefixes this node uses from
					   * other nodes' blocks */
	size_t n_borrowed;
	unsigned connect_retry_s;  /* BGP connect delay/retry; 0: BIRD defaults */
	const char *router_id;	   /* CALICO_ROUTER_ID: NULL or "" the node's IPv4
				    * address, "hash" 4 bytes of SHA-256 of the
				    * node name (as Calico), else an IPv4 address */
};

/* One skipped object: "BGPPeer 'x': peerIP 'y' is not an IP address". */
struct birdcfg_errors {
	char **msgs; /* owned, and each message */
	size_t n, cap;
};

/**
 * birdcfg_input_from_json - point an input at the arrays of a document
 *   {"node": ..., "nodes": [...], "bgpconfigurations": [...], ...,
 *    "blockaffinities": [...], "borrowed": ["a.b.c.d/32", ...]}
 * @doc: the document; must outlive @ret
 * @ret: borrowed pointers to the object arrays (missing ones stay NULL) and
 *   the node's blocks (picked from "blockaffinities" by lib/blockaff.h) and
 *   borrowed addresses in binary; free with birdcfg_input_done()
 *
 * Return: 0, -EINVAL if "node" is missing, a member is not an array, or
 *   one of the node's blocks or a borrowed address is not a CIDR; -ENOMEM.
 */
int birdcfg_input_from_json(json_t *doc, struct birdcfg_input *ret);
/* Frees what birdcfg_input_from_json() allocated. */
void birdcfg_input_done(struct birdcfg_input *in);

/**
 * birdcfg_render - render the BIRD config of @in->node
 * @in: the objects
 * @ret_text: the config (malloc'd)
 * @ret_errors: objects skipped with their reasons (free with birdcfg_errors_done)
 *
 * Return: 0; -ENOENT if the node is missing, its projectcalico.org/IPv4Address
 *   is invalid, it has neither an IPv4 nor an IPv6 address, or it has no
 *   IPv4 address and no usable @in->router_id (nothing can be rendered
 *   without a router id); -ENOMEM.
 */
int birdcfg_render(const struct birdcfg_input *in, char **ret_text,
		   struct birdcfg_errors *ret_errors);
void birdcfg_errors_done(struct birdcfg_errors *e);
