/* The policy manager: felix-c's nftables filter table (policy/) as a
 * dataplane manager (felix-c/manager.h).
 *
 * Desired: the policy model compiled (policy_compile()), cached by the
 * model's generation. apply() reads our table back only when it must (the
 * first time, after a failure, after resync()), plans and sends the
 * difference as one batch. pod_changed() is the fast path: when the
 * compiled table is exactly the model before the change, the change becomes
 * the few set elements it implies, sent at once. The kernel is reached
 * through struct policymgr_kernel, so tests drive the manager without one.
 */
#pragma once

#include "felix-c/manager.h"
#include "policy/compile.h"
#include "policy/failsafe.h"

struct policy_kernel;
struct policy_nft;
struct policy_plan;

/* The kernel seam (policy/kernel.h with @k its socket). */
struct policymgr_kernel {
	int (*read)(void *k, const char *table, struct policy_nft **ret);
	int (*apply)(void *k, const struct policy_plan *p, char **ret_error);
};

/* policy/kernel.h's implementation: @k is a struct policy_kernel *. */
extern const struct policymgr_kernel policymgr_kernel_nft;

/**
 * policymgr_new - a policy manager
 * @kernel: the kernel seam (borrowed, static)
 * @k: its handle (borrowed)
 * @table: our nftables table (copied)
 * @ret: the manager
 *
 * Return: 0 or -ENOMEM.
 */
int policymgr_new(const struct policymgr_kernel *kernel, void *k, const char *table,
		  struct felix_manager **ret);

/* The model changed outside a pod event in a way its generation may not
 * show (a failed model update): the next apply() compiles again. */
void policymgr_invalidate(struct felix_manager *m);

/**
 * policymgr_configure - the table's settings (Calico's FelixConfiguration)
 * @m: the manager
 * @endpoint_to_host: DefaultEndpointToHostAction
 * @log_prefix: LogPrefix (valid: policy_log_prefix_is_valid(); copied)
 * @nflog_group: where Log rules send packets, -1: nowhere
 * @failsafe_in: FailsafeInboundHostPorts (copied)
 * @failsafe_out: FailsafeOutboundHostPorts (copied)
 *
 * A change makes the next apply() compile and sync the table again (one
 * batch). Until the first call: Drop, calico-packet, no group, no failsafes.
 *
 * Return: whether anything changed.
 */
bool policymgr_configure(struct felix_manager *m, enum policy_host_action endpoint_to_host,
			 const char *log_prefix, int nflog_group,
			 const struct policy_failsafes *failsafe_in,
			 const struct policy_failsafes *failsafe_out);
