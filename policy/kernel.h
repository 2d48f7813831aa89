/* The thin kernel layer: nftables over libnftnl + libmnl.
 *
 * policy_kernel_read() lists our table (chains, rules with comments and
 * counters, sets with their elements) into a struct policy_nft;
 * policy_kernel_apply() sends a plan as ONE batch with NLM_F_ACK on every
 * message, reads every ACK and maps an error back to the plan operation that
 * caused it. The kernel rolls a failed batch back whole.
 *
 * Batch building is separate from sending (policy_batch_build()) so unit
 * tests can decode a batch back into table state without a kernel.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "cleanup.h"

struct policy_nft;
struct policy_plan;

struct policy_kernel;

/* Return: 0, -errno from the netlink socket. */
int policy_kernel_open(struct policy_kernel **ret);
struct policy_kernel *policy_kernel_close(struct policy_kernel *k);
DEFINE_CLEANUP_FUNC(struct policy_kernel, policy_kernel_close);

/**
 * policy_kernel_read - read table @table (family inet) back from the kernel
 * @k: socket
 * @table: table name
 * @ret: the observed state (table_exists false and empty when absent)
 *
 * Return: 0, -errno (netlink), -EBADMSG (an answer we cannot parse), -ENOMEM.
 */
int policy_kernel_read(struct policy_kernel *k, const char *table, struct policy_nft **ret);

/**
 * policy_kernel_apply - send @p as one batch and read every ACK
 * @k: socket
 * @p: a finished plan (an empty plan sends nothing)
 * @ret_error: malloc'd message naming the failed operation (may be NULL)
 *
 * Return: 0 when the kernel committed the batch; the first operation's
 * -errno otherwise (the kernel then changed nothing), -EIO when ACKs are
 * missing.
 */
int policy_kernel_apply(struct policy_kernel *k, const struct policy_plan *p, char **ret_error);

/* A serialized batch: BATCH_BEGIN, one or more messages per op, BATCH_END. */
struct policy_batch {
	uint8_t *buf;
	size_t len, cap;
	uint32_t seq_first; /* seq of BATCH_BEGIN */
	size_t n_msgs, cap_msgs; /* messages between BEGIN and END (each wants an ACK) */
	long *op_of_msg;	 /* owned, [n_msgs]: message i (seq_first + 1 + i) -> plan op index */
};

/**
 * policy_batch_build - serialize a plan
 * @p: finished plan
 * @seq: sequence number of BATCH_BEGIN; message i gets @seq + 1 + i
 * @ret: the batch
 *
 * Return: 0, -ENOMEM, -EINVAL (an element that does not fit its set kind).
 */
int policy_batch_build(const struct policy_plan *p, uint32_t seq, struct policy_batch **ret);
struct policy_batch *policy_batch_free(struct policy_batch *b);

/**
 * policy_batch_replay - decode the NEW* messages of a batch into @t, as the
 *   kernel would apply them to an empty table (DEL* messages are skipped)
 * @b: batch
 * @t: state to add to (table set as existing)
 *
 * Return: 0, -EBADMSG, -ENOMEM.
 */
int policy_batch_replay(const struct policy_batch *b, struct policy_nft *t);
