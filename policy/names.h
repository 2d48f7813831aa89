/* Collision-free nftables names for things named after API objects.
 *
 * Chains and sets derived from object names (policies, profiles, shared
 * peer, ipBlock and port sets) get a readable or hashed CANDIDATE name; a
 * hash alone can collide (64-bit FNV collisions are found by brute force in
 * minutes), and two contents sharing a name would either fail the whole
 * batch ("File exists") or, worse, make one object use another's set. The
 * table maps each content (kind + bytes) to the name it was given and each
 * name to its content, so equal content always gets the same name and
 * different content never does: a candidate already held by other content
 * becomes "<candidate>_<n>" with the first free n.
 */
#pragma once

#include <stddef.h>

#include "hmap.h"

/* Owner: the compiled state that names its chains and sets with it. */
struct policy_names {
	struct policy_hmap by_content; /* kind '\0' content -> struct policy_name */
	struct policy_hmap by_name;    /* name -> the same entry */
};

/* policy_names_done - free every entry (the table is empty and reusable). */
void policy_names_done(struct policy_names *t);

/**
 * policy_names_claim - the name of a content, given one if it has none
 * @t: table
 * @kind: what is named ("pol", "sel4", "ep_in", ...); contents of different
 *   kinds never share an entry
 * @content: the bytes that make two things equal
 * @len: their length
 * @candidate: the name to give when the content has none and no other
 *   content holds it
 * @ret_name: the name (owned by @t until released)
 *
 * Return: 0, -ENOMEM.
 */
int policy_names_claim(struct policy_names *t, const char *kind, const void *content, size_t len,
		       const char *candidate, const char **ret_name);

/* policy_names_lookup - the name of a content, NULL when it has none. */
const char *policy_names_lookup(const struct policy_names *t, const char *kind,
				const void *content, size_t len);

/* policy_names_release - forget a content's name (it may be given again). */
void policy_names_release(struct policy_names *t, const char *kind, const void *content,
			  size_t len);
