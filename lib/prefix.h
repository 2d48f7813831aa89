/* One address/prefix type for the whole tree, in binary, with one set of
 * parse rules (after systemd's in-addr-util and BIRD's lib/net.h).
 *
 * Text forms accepted by prefix_parse(): "a.b.c.d/len" and "x:y::z/len" as
 * inet_pton() reads them (so no leading zeros in IPv4 octets), the length in
 * decimal digits without leading zeros (0..32 or 0..128); a bare address with
 * PREFIX_ALLOW_BARE (it is a host prefix, /32 or /128), or only that with
 * PREFIX_ADDR_ONLY. Nothing else: no spaces, no sign, no empty length.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct in_prefix {
	int family;	  /* AF_INET or AF_INET6 */
	uint8_t addr[16]; /* network order; 4 bytes used for AF_INET */
	uint8_t len;	  /* prefix length */
};

enum {
	PREFIX_ALLOW_BARE = 1 << 0, /* "10.0.0.1" is 10.0.0.1/32 */
	PREFIX_CLEAR_HOST = 1 << 1, /* "10.0.0.1/24" becomes 10.0.0.0/24 */
	PREFIX_ADDR_ONLY = 1 << 2,  /* an address: "10.0.0.1" only, no "/len" */
	PREFIX_REJECT_HOST = 1 << 3, /* "10.0.0.1/24" is refused (a typo, not a network) */
};

/* Longest text prefix_format() writes, with its NUL. */
#define PREFIX_STRLEN (46 + 4)

/**
 * prefix_parse - read a prefix (see the top of this file)
 * @s: the text (may be NULL)
 * @flags: PREFIX_* flags
 * @ret: the prefix, written only on success
 *
 * Return: 0, or -EINVAL when @s is not a prefix by these rules.
 */
int prefix_parse(const char *s, unsigned flags, struct in_prefix *ret);

/* "addr/len", or just "addr" when @bare. Return: 0, -EINVAL, -ENOSPC. */
int prefix_format(const struct in_prefix *p, bool bare, char *buf, size_t size);

/* 32 for AF_INET, 128 for AF_INET6: the length of a host prefix. */
unsigned prefix_max_len(int family);
bool prefix_equal(const struct in_prefix *a, const struct in_prefix *b);
/* Whether @p holds @addr (an address or a longer prefix of the same family). */
bool prefix_contains(const struct in_prefix *p, const struct in_prefix *addr);
/* @p with its host bits cleared. */
void prefix_clear_host(struct in_prefix *p);
/* A host prefix of an IPv4 address in network order. */
struct in_prefix prefix_from_ipv4(uint32_t addr_be);
/* Its first 4 bytes as a uint32_t in network order (IPv4 only). */
uint32_t prefix_ipv4(const struct in_prefix *p);
/* qsort/bsearch order: family, address, length. */
int prefix_cmp(const struct in_prefix *a, const struct in_prefix *b);
