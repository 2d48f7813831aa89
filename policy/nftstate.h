/* An nftables table as data: chains with their rules, sets with their
 * elements. The same structure holds the DESIRED table (built by
 * policy_compile(), rules carry their matches) and the OBSERVED table (read
 * back from the kernel, rules carry handles and counters); policy_plan()
 * diffs the two.
 *
 * Rules are identified by their comment (nft userdata), "<label> #<hash>",
 * where the hash covers the rule's full text: equal comment = equal rule. So
 * the observed side never needs to decode expressions.
 *
 * Elements are canonical byte strings whose layout depends on the set kind
 * (see enum policy_set_kind); the kernel layer converts them to and from
 * netlink, so the diff is a byte comparison.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cleanup.h"
#include "hmap.h"

#define POLICY_COMMENT_MAX 128 /* nft's comment limit, NUL included */

/* Canonical element layouts (all integers big-endian):
 *  IFVMAP  ifname[16] . chain name (no NUL)        ifname : jump chain
 *  ADDR4   addr[4]                                 ipv4_addr (hash)
 *  ADDR6   addr[16]
 *  RANGE4  first[4] . last[4]                      ipv4_addr interval
 *  RANGE6  first[16] . last[16]
 *  PORTS   proto[1] . first[2] . last[2]           inet_proto . inet_service interval
 *  NAMED4  addr[4] . proto[1] . port[2]            ipv4_addr . inet_proto . inet_service
 *  NAMED6  addr[16] . proto[1] . port[2]
 *  DNAT4   addr[4] . proto[1] . port[2] . to_addr[4] . to_port[2]
 *                    ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service
 *  DNATANY4 proto[1] . port[2] . to_addr[4] . to_port[2]
 *                    inet_proto . inet_service : ipv4_addr . inet_service
 *  PAIR4   saddr[4] . daddr[4]                     ipv4_addr . ipv4_addr
 */
enum policy_set_kind {
	POLICY_SET_IFVMAP,
	POLICY_SET_ADDR4,
	POLICY_SET_ADDR6,
	POLICY_SET_RANGE4,
	POLICY_SET_RANGE6,
	POLICY_SET_PORTS,
	POLICY_SET_NAMED4,
	POLICY_SET_NAMED6,
	POLICY_SET_DNAT4,    /* map: data is the DNAT target */
	POLICY_SET_DNATANY4, /* map: data is the DNAT target */
	POLICY_SET_PAIR4,
	_POLICY_SET_KIND_MAX,
	_POLICY_SET_KIND_INVALID = -22,
};

const char *policy_set_kind_to_string(enum policy_set_kind k);
/* Fixed element length of a kind; IFVMAP returns the minimum (16). */
size_t policy_set_kind_elem_len(enum policy_set_kind k);

struct policy_elem {
	uint32_t refs; /* desired: number of contributors (pods) */
	uint16_t len;
	uint8_t data[];
};

struct policy_nft_set {
	char *name;
	enum policy_set_kind kind;
	struct policy_hmap elems; /* data -> struct policy_elem */
	uint64_t handle;	  /* observed */
};

enum policy_match_kind {
	POLICY_MATCH_CT_STATE,	 /* ct state & value != 0 */
	POLICY_MATCH_IIF_PREFIX, /* iifname "arg*" */
	POLICY_MATCH_OIF_PREFIX, /* oifname "arg*" */
	POLICY_MATCH_SADDR,	 /* ip/ip6 saddr @arg */
	POLICY_MATCH_DADDR,	 /* ip/ip6 daddr @arg */
	POLICY_MATCH_PORTS,	 /* meta l4proto . th dport @arg */
	POLICY_MATCH_NAMED,	 /* ip/ip6 daddr . meta l4proto . th dport @arg */
	POLICY_MATCH_IIF_VMAP,	 /* iifname vmap @arg */
	POLICY_MATCH_OIF_VMAP,	 /* oifname vmap @arg */
	POLICY_MATCH_DADDR_NOT,	 /* ip/ip6 daddr != @arg */
	POLICY_MATCH_SADDR_NOT,	 /* ip/ip6 saddr != @arg */
	POLICY_MATCH_PORTS_NOT,	 /* meta l4proto . th dport != @arg */
	POLICY_MATCH_SPORTS,	 /* meta l4proto . th sport @arg */
	POLICY_MATCH_SPORTS_NOT, /* meta l4proto . th sport != @arg */
	POLICY_MATCH_NFPROTO,	 /* meta nfproto ipv4/ipv6 (family) */
	POLICY_MATCH_L4PROTO,	 /* meta l4proto value */
	POLICY_MATCH_L4PROTO_NOT, /* meta l4proto != value */
	POLICY_MATCH_TH_BYTE,	  /* th byte (value >> 8) == (value & 0xff): ICMP type 0, code 1 */
	POLICY_MATCH_TH_BYTE_NOT, /* the same, != */
	POLICY_MATCH_MARK,	  /* meta mark & value != 0 */
	POLICY_MATCH_FIB_LOCAL,	 /* fib daddr type local */
	POLICY_MATCH_CT_STATUS,	 /* ct status & value != 0 */
	POLICY_MATCH_SADDR_DADDR, /* ip saddr . ip daddr @arg (IPv4) */
	_POLICY_MATCH_KIND_MAX,
};

#define POLICY_CT_INVALID 0x1u
#define POLICY_CT_ESTABLISHED 0x2u
#define POLICY_CT_RELATED 0x4u
#define POLICY_CT_STATUS_DNAT 0x20u /* IPS_DST_NAT: the connection was DNATed */

struct policy_match {
	enum policy_match_kind kind;
	int family;    /* AF_INET / AF_INET6 for address matches */
	uint32_t value; /* CT_STATE / CT_STATUS mask */
	char *arg;     /* set name or interface prefix */
};

enum policy_verdict {
	POLICY_VERDICT_NONE, /* the rule's map decides */
	POLICY_VERDICT_ACCEPT,
	POLICY_VERDICT_DROP,
	POLICY_VERDICT_JUMP,
	POLICY_VERDICT_MASQUERADE, /* nat chains: source NAT to the outgoing interface's address */
	POLICY_VERDICT_MARK_RETURN,   /* meta mark set meta mark | mark; return */
	POLICY_VERDICT_UNMARK_RETURN, /* meta mark set meta mark & ~mark; return */
	/* nat chains, IPv4: destination NAT to the target the map @target
	 * (DNAT4) gives for ip daddr . meta l4proto . th dport; no element,
	 * no NAT (the rule does not match) */
	POLICY_VERDICT_DNAT_DADDR_MAP,
	/* the same, keyed by meta l4proto . th dport (DNATANY4) */
	POLICY_VERDICT_DNAT_PORT_MAP,
	POLICY_VERDICT_MARK, /* meta mark set meta mark | mark, and on to the next rule */
	POLICY_VERDICT_UNMARK,	    /* meta mark set meta mark & ~mark, and on */
	POLICY_VERDICT_MARK_ACCEPT, /* meta mark set meta mark | mark; accept */
	_POLICY_VERDICT_MAX,
};

#define POLICY_RULE_MAX_MATCH 12

struct policy_nft_rule {
	char *comment; /* "<label> #<hash>": the identity in both states */
	/* desired only */
	struct policy_match match[POLICY_RULE_MAX_MATCH];
	size_t n_match;
	bool counter;
	int log_group; /* NFLOG group, -1 = no log */
	char *log_prefix; /* its prefix (with log_group), NULL: none */
	enum policy_verdict verdict;
	char *target; /* JUMP: chain; DNAT_*_MAP: map */
	uint32_t mark; /* MARK_RETURN, UNMARK_RETURN, MARK, UNMARK, MARK_ACCEPT */
	bool notrack;  /* the packet skips conntrack (raw-priority prerouting/output only) */
	/* observed only */
	uint64_t handle;
	uint64_t packets, bytes;
	bool has_counter;
};

struct policy_nft_chain {
	char *name;
	bool base;
	bool nat;	  /* base chain of type nat (else filter) */
	uint32_t hooknum; /* NF_INET_* when base */
	int32_t prio;
	uint32_t policy; /* NF_ACCEPT / NF_DROP when base */
	struct policy_nft_rule **rules;
	size_t n_rules, cap;
	unsigned refs;	 /* desired profile chains: local pods using it */
	uint64_t handle; /* observed */
};

struct policy_nft {
	char *table;	     /* family inet */
	bool table_exists;   /* observed: the kernel has the table */
	struct policy_hmap chains; /* name -> chain */
	struct policy_hmap sets;   /* name -> set */
};

int policy_nft_new(const char *table, struct policy_nft **ret);
struct policy_nft *policy_nft_free(struct policy_nft *t);
DEFINE_CLEANUP_FUNC(struct policy_nft, policy_nft_free);

/**
 * policy_nft_chain_add - create an empty chain
 * @t: table
 * @name: chain name
 * @ret: the chain (owned by @t)
 *
 * Return: 0, -EEXIST, -ENOMEM.
 */
int policy_nft_chain_add(struct policy_nft *t, const char *name, struct policy_nft_chain **ret);
struct policy_nft_chain *policy_nft_chain_get(const struct policy_nft *t, const char *name);
/* Removes and frees a chain and its rules. */
void policy_nft_chain_del(struct policy_nft *t, const char *name);

/* Appends @r (ownership taken, also on error). Return: 0 or -ENOMEM. */
int policy_nft_chain_append(struct policy_nft_chain *c, struct policy_nft_rule *r);

int policy_nft_set_add(struct policy_nft *t, const char *name, enum policy_set_kind kind,
		       struct policy_nft_set **ret);
struct policy_nft_set *policy_nft_set_get(const struct policy_nft *t, const char *name);
void policy_nft_set_del(struct policy_nft *t, const char *name);

/**
 * policy_nft_elem_ref - add one reference to an element, creating it
 * @s: set
 * @data: canonical bytes
 * @len: their length
 * @ret_created: true when the element did not exist before (may be NULL)
 *
 * Return: 0, -EINVAL (bad length for the kind), -ENOMEM.
 */
int policy_nft_elem_ref(struct policy_nft_set *s, const void *data, size_t len, bool *ret_created);
/* Drops one reference; Return: true when the element is gone. */
bool policy_nft_elem_unref(struct policy_nft_set *s, const void *data, size_t len);
bool policy_nft_elem_has(const struct policy_nft_set *s, const void *data, size_t len);
size_t policy_nft_set_size(const struct policy_nft_set *s);

struct policy_nft_rule *policy_nft_rule_free(struct policy_nft_rule *r);
/* A new rule with no matches, verdict NONE, no log. */
struct policy_nft_rule *policy_nft_rule_new(void);
/* Appends a match; @arg copied. Return: 0, -E2BIG, -ENOMEM. */
int policy_nft_rule_match(struct policy_nft_rule *r, enum policy_match_kind kind, int family,
			  uint32_t value, const char *arg);
/**
 * policy_nft_rule_seal - set the comment from @label and the rule's text
 * @r: a desired rule, complete
 * @label: what operators see ("ns/name ingress[2]"), truncated to fit
 *
 * Return: 0 or -ENOMEM.
 */
int policy_nft_rule_seal(struct policy_nft_rule *r, const char *label);

/* Whether @v writes the packet mark (MARK*, UNMARK*). */
bool policy_verdict_sets_mark(enum policy_verdict v);
/* The rule in nft syntax (without comment); Return: length or -ENOMEM. */
int policy_nft_rule_to_text(const struct policy_nft_rule *r, char **ret);
/* The label part of a comment (up to " #"); copies into @buf. */
void policy_nft_comment_label(const char *comment, char *buf, size_t size);

/* One element as nft text ("10.0.0.0-10.0.255.255", "tcp . 80-90"). */
int policy_nft_elem_to_text(enum policy_set_kind kind, const uint8_t *data, size_t len,
			    char *buf, size_t size);
/* All elements sorted and joined by ","; malloc'd. */
int policy_nft_set_to_text(const struct policy_nft_set *s, char **ret);

/* Sorted names (borrowed pointers), for deterministic walks; caller frees the array. */
int policy_nft_chain_names(const struct policy_nft *t, const char ***ret, size_t *ret_n);
int policy_nft_set_names(const struct policy_nft *t, const char ***ret, size_t *ret_n);

/* Deterministic text dump (tables, chains with rules, sets with elements). */
int policy_nft_dump(const struct policy_nft *t, FILE *f);
