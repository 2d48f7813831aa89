/* NAT as a dataplane manager (felix-c/manager.h): natOutgoing
 * (felix-c/natout.h) from the IPPools and hostPort (felix-c/hostport.h) from
 * the local pods' host ports of struct felix_desired, in one nat table. */
#pragma once

#include "felix-c/manager.h"

struct nl;
struct policymgr_kernel;

/**
 * natmgr_new - the NAT manager
 * @kernel: the nftables seam (felix-c/policymgr.h; borrowed, static)
 * @k: its handle (borrowed)
 * @nl: rtnetlink socket (borrowed), for route_localnet on hostPort pods' veths
 * @policy_table: policy's table name; ours is that + "-nat"
 * @ret: the manager
 *
 * Return: 0 or -ENOMEM.
 */
int natmgr_new(const struct policymgr_kernel *kernel, void *k, struct nl *nl,
	       const char *policy_table, struct felix_manager **ret);
