/* `node status`: BIRD's protocols -> our BGP peers. The peer type comes from
 * the protocol names bird-config renders: Mesh_<ip> (node-to-node mesh),
 * Global_<ip> (a BGPPeer for every node), Node_<ip> (a BGPPeer with node or
 * nodeSelector), each with "_port_<n>" when the peer uses a port other than
 * 179; the IP's '.' and ':' are written as '_'.
 */
#pragma once

#include <stdio.h>

struct birdctl_proto;

enum ctl_peer_type {
	CTL_PEER_MESH,
	CTL_PEER_GLOBAL,
	CTL_PEER_NODE,
	_CTL_PEER_TYPE_MAX,
	_CTL_PEER_TYPE_INVALID = -22,
};

/* calicoctl's words: "node-to-node mesh", "global", "node specific". */
const char *ctl_peer_type_to_string(enum ctl_peer_type t);

struct ctl_bgp_peer {
	enum ctl_peer_type type;
	int family;	   /* AF_INET, AF_INET6 */
	char address[48];  /* the peer's IP */
	unsigned port;	   /* 0: BGP's default */
	char proto[64];	   /* BIRD protocol name */
	char state[16];	   /* BIRD's: up, start, down, ... */
	char since[32];
	char info[200];	   /* BGP state, and BIRD's last error if any */
};

/**
 * ctl_bgp_peer_from_proto - our view of one BIRD protocol
 * @p: a row of `show protocols all`
 * @ret: the peer
 *
 * Return: 0; -ENOENT when @p is not a BGP protocol named as bird-config
 *   names peers (device, kernel, static, a foreign protocol); -EINVAL when
 *   the name has our prefix but no address in it.
 */
int ctl_bgp_peer_from_proto(const struct birdctl_proto *p, struct ctl_bgp_peer *ret);

/* The calicoctl-style tables, one per address family. */
void ctl_bgp_peers_print(const struct ctl_bgp_peer *peers, size_t n, FILE *f);
