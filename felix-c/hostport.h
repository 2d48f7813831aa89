/* hostPort: containers[].ports[].hostPort of the pods on this node.
 *
 * As the CNI portmap plugin (what Calico chains for hostPorts) does it, but
 * in nftables and from the Pod specs felix-c already watches: a NEW
 * connection to an address of this node (fib daddr type local, so traffic
 * forwarded through the node is never taken) on a pod's hostPort, and on
 * its hostIP when one is set (not 0.0.0.0), is DNATed to podIP:containerPort,
 * both when it arrives (prerouting) and when the node itself or a
 * hostNetwork pod opens it (output). A pod reaching its own hostPort
 * (hairpin) and a connection from 127.0.0.0/8 are masqueraded after the
 * DNAT, so the answer comes back through the node. IPv4 only.
 *
 * Its objects live in the nat table (felix-c/natout.h), family inet:
 *
 *   map hostports4     { ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service }
 *   map hostports4_any { inet_proto . inet_service : ipv4_addr . inet_service }
 *   set hostport_hairpin4 { ipv4_addr . ipv4_addr }      podIP . podIP
 *   set loopback4      { ipv4_addr; flags interval }      127.0.0.0/8
 *   chain cc_hostport_prerouting { type nat hook prerouting priority dstnat
 *     fib daddr type local jump cc_hostports }
 *   chain cc_hostport_output { type nat hook output priority dstnat
 *     fib daddr type local jump cc_hostports }
 *   chain cc_hostports {
 *     dnat ip to ip daddr . meta l4proto . th dport map @hostports4
 *     dnat ip to meta l4proto . th dport map @hostports4_any }
 *   chain cc_hostport_postrouting { type nat hook postrouting priority srcnat
 *     ct status dnat ip saddr @loopback4 counter masquerade
 *     ct status dnat ip saddr . ip daddr @hostport_hairpin4 counter masquerade }
 *   chain cc_hostport_localnet { type filter hook prerouting priority mangle
 *     iifname "cali*" ip daddr @loopback4 counter drop }
 *
 * A mapping to an exact hostIP is looked up first, so it wins over a
 * mapping of the same port on every address. The answer to a connection
 * from 127.0.0.0/8 comes back with a 127/8 destination through the pod's
 * veth, which needs route_localnet on that veth (felix-c/natmgr.c sets it
 * for pods with hostPorts); the localnet chain drops everything else a pod
 * sends towards 127/8, so route_localnet opens nothing on the node.
 *
 * A pod changes the maps' elements only (one batch, the rules stay).
 * NetworkPolicy still applies: the DNATed connection crosses the forward
 * hook towards the pod with its original source (masqueraded ones: the
 * node's).
 *
 * Fail closed: two pods asking for the same protocol, port and hostIP
 * (the scheduler prevents it; a pod with spec.nodeName set skips the
 * scheduler) get neither mapping, and the conflict is reported.
 */
#pragma once

#include <stddef.h>

struct felix_host_port;
struct policy_nft;

#define HOSTPORT_MAP "hostports4"
#define HOSTPORT_MAP_ANY "hostports4_any"
#define HOSTPORT_SET_HAIRPIN "hostport_hairpin4"
#define HOSTPORT_SET_LOOPBACK "loopback4"
#define HOSTPORT_CHAIN_PREROUTING "cc_hostport_prerouting"
#define HOSTPORT_CHAIN_OUTPUT "cc_hostport_output"
#define HOSTPORT_CHAIN_DNAT "cc_hostports"
#define HOSTPORT_CHAIN_POSTROUTING "cc_hostport_postrouting"
#define HOSTPORT_CHAIN_LOCALNET "cc_hostport_localnet"

/**
 * hostport_desired_add - add the hostPort objects to a desired table (pure)
 * @t: the nat table being built
 * @v: the local pods' hostPorts (struct felix_desired)
 * @n: how many
 * @ret_conflicts: malloc'd text naming each conflicting protocol/port/hostIP
 *   and its pods, or NULL when there is none
 *
 * Return: the number of mappings programmed, -ENOMEM.
 */
int hostport_desired_add(struct policy_nft *t, const struct felix_host_port *v, size_t n,
			 char **ret_conflicts);
