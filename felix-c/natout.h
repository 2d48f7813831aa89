/* natOutgoing: felix-c's manager for the IPPool field of that name.
 *
 * As in Calico, traffic from an address in a pool with natOutgoing true to an
 * address outside EVERY pool (disabled pools count) is masqueraded to the
 * address of the interface it leaves the node by; traffic between pools
 * never is, and a pool with natOutgoing false never is. Each family on its
 * own: an IPv6 pool masquerades IPv6 traffic (to the node's IPv6 address).
 *
 * The state is a table of its own, family inet (policy's table name + "-nat"),
 * shared with hostPort's objects (felix-c/hostport.h):
 *
 *   set masq_pools4 { type ipv4_addr; flags interval }   natOutgoing pools
 *   set all_pools4  { type ipv4_addr; flags interval }   every pool
 *   set masq_pools6, all_pools6 { type ipv6_addr; ... }  the same for IPv6
 *   chain cc_postrouting { type nat hook postrouting priority srcnat; policy accept
 *     ip saddr @masq_pools4 ip daddr != @all_pools4 counter masquerade
 *     ip6 saddr @masq_pools6 ip6 daddr != @all_pools6 counter masquerade }
 *
 * so a pool change is a set-element change in one batch (the rule stays, its
 * counter too; established connections keep their NAT state). It is
 * programmed through policy/'s table model, plan and batch writer; a table
 * of its own because policy_plan() owns every object of the table it diffs,
 * and because reading this one back costs a few objects, not the policy
 * table's thousands.
 *
 * Fail closed: a pool that failed validation never masquerades, but its CIDR
 * (when it parses) still counts as a pool, so nothing is masqueraded towards
 * it either.
 */
#pragma once

#include <jansson.h>

struct policy_nft;
struct policymgr_kernel;

#define NATOUT_CHAIN "cc_postrouting"
#define NATOUT_SET_MASQ "masq_pools4"
#define NATOUT_SET_ALL "all_pools4"
#define NATOUT_SET_MASQ6 "masq_pools6"
#define NATOUT_SET_ALL6 "all_pools6"

/**
 * natout_desired - the nat table wanted for a set of IPPools (pure)
 * @table: table name
 * @pools: IPPool objects by name (an informer cache)
 * @invalid: names of the pools that failed validation (name -> why); may be NULL
 * @ret: the desired table (overlapping and adjacent CIDRs merged)
 *
 * Return: 0, -ENOMEM.
 */
int natout_desired(const char *table, const json_t *pools, const json_t *invalid,
		   struct policy_nft **ret);

/* The nat table's reconcile state (natOutgoing's and hostPort's objects,
 * felix-c/hostport.h, share the table). One per agent. */
struct natout;

/* Return: 0, -ENOMEM. */
int natout_new(const char *table, struct natout **ret);
struct natout *natout_free(struct natout *n);

/* The next natout_reconcile() reads the table back from the kernel. */
void natout_mark_dirty(struct natout *n);

/**
 * natout_reconcile - bring the kernel's nat table to @want
 * @n: the state
 * @kernel: the nftables seam (felix-c/policymgr.h)
 * @k: its handle
 * @want: the whole desired table (ownership taken)
 * @ret_error: malloc'd message on failure (may be NULL)
 *
 * When @want equals what was applied last and nothing marked the state
 * dirty, nothing is read or sent. Otherwise the table is read back, diffed
 * and the difference sent as one batch (nothing when equal: a restart adopts
 * the table as it is).
 *
 * Return: the number of operations committed (0: nothing had to change),
 * -errno (the kernel then changed nothing; the next call reads the table
 * back).
 */
int natout_reconcile(struct natout *n, const struct policymgr_kernel *kernel, void *k,
		     struct policy_nft *want, char **ret_error);
