/* IPv4/IPv6 addresses and prefixes as 128-bit integers, for block math.
 *
 * An IPv4 address lives in the low 32 bits; @family tells the two apart, so
 * 10.0.0.1 and ::a00:1 never compare equal. Text forms are the canonical
 * inet_ntop() ones (lower case, "::" for the longest zero run), the same
 * strings Calico writes into IPAMBlock.spec.cidr and object names.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct in_prefix;

typedef unsigned __int128 ipam_u128;

struct ipam_addr {
	int family; /* AF_INET or AF_INET6 */
	ipam_u128 v;
};

struct ipam_cidr {
	int family;
	ipam_u128 v; /* network address (host bits zero) */
	uint8_t len; /* prefix length */
};

#define IPAM_ADDR_STRLEN 46	  /* INET6_ADDRSTRLEN */
#define IPAM_CIDR_STRLEN (46 + 4) /* addr + "/128" */
#define IPAM_NAME_STRLEN IPAM_CIDR_STRLEN

static inline unsigned ipam_family_bits(int family)
{
	return family == 10 /* AF_INET6 */ ? 128 : 32;
}

/* Addresses and CIDRs are read and written by lib/prefix (its rules: no
 * leading zeros, no spaces; see prefix.h); these types only do the math. */
void ipam_addr_from_prefix(const struct in_prefix *p, struct ipam_addr *ret);
/* "10.0.0.1" or "fd00::1" (no prefix). Return: 0, -EINVAL. */
int ipam_addr_parse(const char *s, struct ipam_addr *ret);
/* "10.0.0.1/32" also accepted: the prefix must be the full length. */
int ipam_addr_parse_host(const char *s, struct ipam_addr *ret);
int ipam_addr_format(const struct ipam_addr *a, char *buf, size_t size);
bool ipam_addr_equal(const struct ipam_addr *a, const struct ipam_addr *b);

/**
 * ipam_cidr_parse - parse "addr/len"
 * @s: text
 * @strict: reject host bits set (block CIDRs); otherwise they are masked off
 * @ret: the prefix
 *
 * Return: 0, -EINVAL.
 */
int ipam_cidr_parse(const char *s, bool strict, struct ipam_cidr *ret);
int ipam_cidr_format(const struct ipam_cidr *c, char *buf, size_t size);
bool ipam_cidr_equal(const struct ipam_cidr *a, const struct ipam_cidr *b);
bool ipam_cidr_contains(const struct ipam_cidr *c, const struct ipam_addr *a);
/* @inner lies entirely inside @outer (same family). */
bool ipam_cidr_covers(const struct ipam_cidr *outer, const struct ipam_cidr *inner);
/* Number of addresses, saturated at UINT64_MAX. */
uint64_t ipam_cidr_size(const struct ipam_cidr *c);

/* The @n-th address of @c (no bounds check beyond the family width). */
void ipam_cidr_nth(const struct ipam_cidr *c, uint64_t n, struct ipam_addr *ret);
/* Ordinal of @a inside @c. Return: 0, -ERANGE when @a is outside @c. */
int ipam_cidr_ordinal(const struct ipam_cidr *c, const struct ipam_addr *a, uint64_t *ret);
/* The prefix of length @len that contains @a. */
void ipam_cidr_of_addr(const struct ipam_addr *a, uint8_t len, struct ipam_cidr *ret);
/* The @n-th subnet of length @sub_len inside @c. */
int ipam_cidr_subnet(const struct ipam_cidr *c, uint8_t sub_len, uint64_t n, struct ipam_cidr *ret);

/* Object name of a CIDR as Calico derives it: '.', ':' and '/' become '-'
 * ("10.65.0.0/26" -> "10-65-0-0-26", "fd00::/122" -> "fd00---122"). */
int ipam_cidr_to_name(const struct ipam_cidr *c, char *buf, size_t size);
