/* natOutgoing (felix-c/natout.h) as a dataplane manager (felix-c/manager.h):
 * its desired state is the IPPools of struct felix_desired. */
#pragma once

#include "felix-c/manager.h"

struct policy_kernel;

/**
 * natmgr_new - the natOutgoing manager
 * @k: nftables socket (borrowed)
 * @policy_table: policy's table name; ours is that + "-nat"
 * @ret: the manager
 *
 * Return: 0 or -ENOMEM.
 */
int natmgr_new(struct policy_kernel *k, const char *policy_table, struct felix_manager **ret);
