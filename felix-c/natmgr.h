/* NAT as a dataplane manager (felix-c/manager.h): natOutgoing
 * (felix-c/natout.h) from the IPPools and hostPort (felix-c/hostport.h) from
 * the local pods' host ports of struct felix_desired, in one nat table. */
#pragma once

#include "felix-c/manager.h"

struct nl;
struct policy_kernel;

/**
 * natmgr_new - the NAT manager
 * @k: nftables socket (borrowed)
 * @nl: rtnetlink socket (borrowed), for route_localnet on hostPort pods' veths
 * @policy_table: policy's table name; ours is that + "-nat"
 * @ret: the manager
 *
 * Return: 0 or -ENOMEM.
 */
int natmgr_new(struct policy_kernel *k, struct nl *nl, const char *policy_table,
	       struct felix_manager **ret);
