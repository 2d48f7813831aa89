/* Address and prefix math for IPAM blocks (see addr.h). Pure computation:
 * everything here is covered by tests/unit/ipam/test_addr.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"
#include "prefix.h"

static ipam_u128 mask_of(int family, uint8_t len)
{
	unsigned bits = ipam_family_bits(family);
	ipam_u128 all = bits == 128 ? ~(ipam_u128)0 : (((ipam_u128)1 << 32) - 1);

	if (len == 0)
		return 0;
	return all & ~((((ipam_u128)1) << (bits - len)) - 1) & all;
}

void ipam_addr_from_prefix(const struct in_prefix *p, struct ipam_addr *ret)
{
	size_t n = p->family == AF_INET ? 4 : 16;

	*ret = (struct ipam_addr){ .family = p->family };
	for (size_t i = 0; i < n; i++)
		ret->v = ret->v << 8 | p->addr[i];
}

static struct in_prefix to_prefix(int family, ipam_u128 v, uint8_t len)
{
	struct in_prefix p = { .family = family, .len = len };

	for (size_t i = family == AF_INET ? 4 : 16; i-- > 0; v >>= 8)
		p.addr[i] = (uint8_t)v;
	return p;
}

/* Text goes through lib/prefix, so IPAM reads addresses as everything
 * else in the tree does. */
int ipam_addr_parse(const char *s, struct ipam_addr *ret)
{
	struct in_prefix p;
	int r = prefix_parse(s, PREFIX_ADDR_ONLY, &p);

	if (r < 0)
		return r;
	ipam_addr_from_prefix(&p, ret);
	return 0;
}

int ipam_addr_parse_host(const char *s, struct ipam_addr *ret)
{
	struct in_prefix p;
	int r = prefix_parse(s, PREFIX_ALLOW_BARE, &p);

	if (r < 0)
		return r;
	if (p.len != prefix_max_len(p.family))
		return -EINVAL;
	ipam_addr_from_prefix(&p, ret);
	return 0;
}

int ipam_addr_format(const struct ipam_addr *a, char *buf, size_t size)
{
	struct in_prefix p = to_prefix(a->family, a->v, 0);

	return prefix_format(&p, true, buf, size);
}

bool ipam_addr_equal(const struct ipam_addr *a, const struct ipam_addr *b)
{
	return a->family == b->family && a->v == b->v;
}

int ipam_cidr_parse(const char *s, bool strict, struct ipam_cidr *ret)
{
	struct in_prefix p;
	struct ipam_addr a;
	int r = prefix_parse(s, strict ? PREFIX_REJECT_HOST : PREFIX_CLEAR_HOST, &p);

	if (r < 0)
		return r;
	ipam_addr_from_prefix(&p, &a);
	*ret = (struct ipam_cidr){ .family = a.family, .v = a.v, .len = p.len };
	return 0;
}

int ipam_cidr_format(const struct ipam_cidr *c, char *buf, size_t size)
{
	struct in_prefix p = to_prefix(c->family, c->v, c->len);

	return prefix_format(&p, false, buf, size);
}

bool ipam_cidr_equal(const struct ipam_cidr *a, const struct ipam_cidr *b)
{
	return a->family == b->family && a->len == b->len && a->v == b->v;
}

bool ipam_cidr_contains(const struct ipam_cidr *c, const struct ipam_addr *a)
{
	return c->family == a->family && (a->v & mask_of(c->family, c->len)) == c->v;
}

bool ipam_cidr_covers(const struct ipam_cidr *outer, const struct ipam_cidr *inner)
{
	return outer->family == inner->family && inner->len >= outer->len &&
	       (inner->v & mask_of(outer->family, outer->len)) == outer->v;
}

uint64_t ipam_cidr_size(const struct ipam_cidr *c)
{
	unsigned host = ipam_family_bits(c->family) - c->len;

	return host >= 64 ? UINT64_MAX : (uint64_t)1 << host;
}

void ipam_cidr_nth(const struct ipam_cidr *c, uint64_t n, struct ipam_addr *ret)
{
	*ret = (struct ipam_addr){ .family = c->family, .v = c->v + n };
}

int ipam_cidr_ordinal(const struct ipam_cidr *c, const struct ipam_addr *a, uint64_t *ret)
{
	if (!ipam_cidr_contains(c, a))
		return -ERANGE;
	*ret = (uint64_t)(a->v - c->v);
	return 0;
}

void ipam_cidr_of_addr(const struct ipam_addr *a, uint8_t len, struct ipam_cidr *ret)
{
	*ret = (struct ipam_cidr){ .family = a->family, .v = a->v & mask_of(a->family, len),
				   .len = len };
}

int ipam_cidr_subnet(const struct ipam_cidr *c, uint8_t sub_len, uint64_t n, struct ipam_cidr *ret)
{
	unsigned bits = ipam_family_bits(c->family);

	if (sub_len < c->len || sub_len > bits)
		return -EINVAL;
	if (sub_len - c->len < 64 && n >> (sub_len - c->len))
		return -ERANGE;
	*ret = (struct ipam_cidr){ .family = c->family,
				   .v = c->v + ((ipam_u128)n << (bits - sub_len)),
				   .len = sub_len };
	return 0;
}

int ipam_cidr_to_name(const struct ipam_cidr *c, char *buf, size_t size)
{
	int r = ipam_cidr_format(c, buf, size);

	if (r < 0)
		return r;
	for (char *p = buf; *p; p++)
		if (*p == '.' || *p == ':' || *p == '/')
			*p = '-';
	return 0;
}
