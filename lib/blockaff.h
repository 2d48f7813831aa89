/* Which blocks are a node's: the one place the rule is written.
 *
 * A BlockAffinity makes its block this node's when spec.node is the node,
 * spec.state is "confirmed" (not "pending" or "pendingDeletion") and
 * spec.deleted is not "true" (a string, as Calico writes it) and spec.type
 * is "host" or absent (a "virtual" owner is no node). felix-c
 * programs a blackhole route for each such block and BIRD advertises it.
 */
#pragma once

#include <jansson.h>

#include "prefix.h"

/**
 * blockaff_node_block - the block @aff gives @node, if any
 * @aff: a BlockAffinity object
 * @node: the node's name
 * @ret_block: its spec.cidr (host bits cleared), written when 1 is returned
 *
 * Return: 1 when the affinity is a confirmed, live one of @node; 0 when it
 * is not; -EINVAL when it is but spec.cidr is not a CIDR.
 */
int blockaff_node_block(const json_t *aff, const char *node, struct in_prefix *ret_block);
