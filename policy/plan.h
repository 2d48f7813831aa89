/* A plan: the ordered nftables operations that turn one table state into
 * another, computed purely (no kernel) and applied by policy_kernel_apply()
 * as ONE netlink batch.
 *
 * Operation order inside the batch (policy_plan_finish() sorts by phase):
 *   add table; replace (delete) chains whose hook changed; add sets; add
 *   chains; delete elements; delete rules; add elements; add rules; delete
 *   chains (referencing chains first); delete sets.
 * so every object exists before it is referenced and every reference is gone
 * before its target is deleted.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "hmap.h"
#include "nftstate.h"

enum policy_op_kind {
	POLICY_OP_TABLE_ADD,
	POLICY_OP_CHAIN_REPLACE_DEL, /* delete an observed chain re-added below */
	POLICY_OP_SET_ADD,
	POLICY_OP_CHAIN_ADD,
	POLICY_OP_ELEM_DEL,
	POLICY_OP_RULE_DEL,
	POLICY_OP_ELEM_ADD,
	POLICY_OP_RULE_ADD,
	POLICY_OP_CHAIN_DEL,
	POLICY_OP_SET_DEL,
	_POLICY_OP_KIND_MAX,
	_POLICY_OP_KIND_INVALID = -22,
};

const char *policy_op_kind_to_string(enum policy_op_kind k);

/* One operation. Pointers to chains/rules/sets borrow from the DESIRED state,
 * which must outlive the plan; names and elements are owned copies. */
struct policy_op {
	enum policy_op_kind kind;
	int chain_rank;			    /* CHAIN_DEL order: lower first */
	char *name;			    /* chain or set */
	const struct policy_nft_chain *chain; /* CHAIN_ADD */
	enum policy_set_kind set_kind;	    /* SET_ADD, ELEM_* */
	const struct policy_nft_rule *rule; /* RULE_ADD */
	uint64_t handle;		    /* RULE_DEL: the rule; RULE_ADD: add after it */
	long after_op;			    /* RULE_ADD: add after the rule of this op, or -1 */
	bool at_head;			    /* RULE_ADD: insert at the start of the chain */
	struct policy_elem **elems;	    /* ELEM_*: owned copies */
	size_t n_elems, cap_elems;
	uint32_t rule_id;		    /* RULE_ADD: batch-local id for after_op */
};

struct policy_plan {
	char *table;
	struct policy_op *ops;
	size_t n_ops, cap;
	struct policy_hmap elem_ops; /* "kind:set" -> op index + 1, while building */
	bool finished;
};

int policy_plan_new(const char *table, struct policy_plan **ret);
struct policy_plan *policy_plan_free(struct policy_plan *p);
DEFINE_CLEANUP_FUNC(struct policy_plan, policy_plan_free);

/**
 * policy_plan - compute the operations turning @observed into @desired
 * @observed: the table as read from the kernel (table_exists false = absent)
 * @desired: the table as compiled
 * @ret: the plan, finished (sorted); empty when the states are equal
 * @ret_error: malloc'd message on -ENOTRECOVERABLE (may be NULL)
 *
 * Rules are matched by comment; an existing chain keeps the rules it shares
 * with @desired (their counters survive) and gains the missing ones in place.
 *
 * Return: 0, -ENOMEM, -ENOTRECOVERABLE when a set of ours exists with
 * another type (the table was changed by someone else).
 */
int policy_plan(const struct policy_nft *observed, const struct policy_nft *desired,
		struct policy_plan **ret, char **ret_error);

/* Builders (used by policy_plan() and the incremental compiler). */
int policy_plan_add_table(struct policy_plan *p);
/* SET_ADD and one ELEM_ADD with every element of @s. */
int policy_plan_add_set(struct policy_plan *p, const struct policy_nft_set *s);
/* CHAIN_ADD and one appending RULE_ADD per rule. */
int policy_plan_add_chain(struct policy_plan *p, const struct policy_nft_chain *c);
int policy_plan_del_chain(struct policy_plan *p, const char *name, bool replace);
int policy_plan_del_set(struct policy_plan *p, const char *name);
/* Appends one element to the ELEM_ADD/ELEM_DEL op of that set (one op per set). */
int policy_plan_elem(struct policy_plan *p, enum policy_op_kind kind, const char *set,
		     enum policy_set_kind set_kind, const uint8_t *data, size_t len);
int policy_plan_add_op(struct policy_plan *p, const struct policy_op *op, size_t *ret_index);
/* Sorts ops into batch order (stable); call once when building is done. */
void policy_plan_finish(struct policy_plan *p);

size_t policy_plan_count(const struct policy_plan *p, enum policy_op_kind kind);
/* Number of elements over all ops of @kind. */
size_t policy_plan_count_elems(const struct policy_plan *p, enum policy_op_kind kind);
bool policy_plan_is_empty(const struct policy_plan *p);
/* One line per op (what an error message names). */
int policy_op_describe(const struct policy_op *op, char *buf, size_t size);
void policy_plan_print(const struct policy_plan *p, FILE *f);
