/* Address and prefix math for IPAM blocks (see addr.h). Pure computation:
 * everything here is covered by tests/unit/ipam/test_addr.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"

static ipam_u128 mask_of(int family, uint8_t len)
{
	unsigned bits = ipam_family_bits(family);
	ipam_u128 all = bits == 128 ? ~(ipam_u128)0 : (((ipam_u128)1 << 32) - 1);

	if (len == 0)
		return 0;
	return all & ~((((ipam_u128)1) << (bits - len)) - 1) & all;
}

int ipam_addr_parse(const char *s, struct ipam_addr *ret)
{
	unsigned char b[16];
	ipam_u128 v = 0;

	if (!s)
		return -EINVAL;
	if (inet_pton(AF_INET, s, b) == 1) {
		for (int i = 0; i < 4; i++)
			v = (v << 8) | b[i];
		*ret = (struct ipam_addr){ .family = AF_INET, .v = v };
		return 0;
	}
	if (inet_pton(AF_INET6, s, b) == 1) {
		for (int i = 0; i < 16; i++)
			v = (v << 8) | b[i];
		*ret = (struct ipam_addr){ .family = AF_INET6, .v = v };
		return 0;
	}
	return -EINVAL;
}

/* Splits "addr/len" into @addr (copied into @buf) and the length. */
static int split_prefix(const char *s, char *buf, size_t size, int *ret_len)
{
	const char *slash = s ? strchr(s, '/') : NULL;
	char *end;
	long len;

	if (!slash || (size_t)(slash - s) >= size || !slash[1])
		return -EINVAL;
	memcpy(buf, s, slash - s);
	buf[slash - s] = '\0';
	errno = 0;
	len = strtol(slash + 1, &end, 10);
	if (errno || *end || len < 0 || len > 128 || !(slash[1] >= '0' && slash[1] <= '9'))
		return -EINVAL;
	*ret_len = (int)len;
	return 0;
}

int ipam_addr_parse_host(const char *s, struct ipam_addr *ret)
{
	char buf[IPAM_ADDR_STRLEN];
	struct ipam_addr a;
	int len, r;

	if (s && !strchr(s, '/'))
		return ipam_addr_parse(s, ret);
	r = split_prefix(s, buf, sizeof(buf), &len);
	if (r < 0)
		return r;
	r = ipam_addr_parse(buf, &a);
	if (r < 0)
		return r;
	if ((unsigned)len != ipam_family_bits(a.family))
		return -EINVAL;
	*ret = a;
	return 0;
}

int ipam_addr_format(const struct ipam_addr *a, char *buf, size_t size)
{
	unsigned char b[16];
	int n = a->family == AF_INET6 ? 16 : 4;
	ipam_u128 v = a->v;

	for (int i = n - 1; i >= 0; i--, v >>= 8)
		b[i] = (unsigned char)(v & 0xff);
	if (!inet_ntop(a->family, b, buf, (socklen_t)size))
		return -errno;
	return 0;
}

bool ipam_addr_equal(const struct ipam_addr *a, const struct ipam_addr *b)
{
	return a->family == b->family && a->v == b->v;
}

int ipam_cidr_parse(const char *s, bool strict, struct ipam_cidr *ret)
{
	char buf[IPAM_ADDR_STRLEN];
	struct ipam_addr a;
	ipam_u128 m;
	int len, r;

	r = split_prefix(s, buf, sizeof(buf), &len);
	if (r < 0)
		return r;
	r = ipam_addr_parse(buf, &a);
	if (r < 0)
		return r;
	if ((unsigned)len > ipam_family_bits(a.family))
		return -EINVAL;
	m = mask_of(a.family, (uint8_t)len);
	if (strict && (a.v & ~m))
		return -EINVAL;
	*ret = (struct ipam_cidr){ .family = a.family, .v = a.v & m, .len = (uint8_t)len };
	return 0;
}

int ipam_cidr_format(const struct ipam_cidr *c, char *buf, size_t size)
{
	struct ipam_addr a = { .family = c->family, .v = c->v };
	size_t n;
	int r;

	r = ipam_addr_format(&a, buf, size);
	if (r < 0)
		return r;
	n = strlen(buf);
	if ((size_t)snprintf(buf + n, size - n, "/%u", c->len) >= size - n)
		return -ENOSPC;
	return 0;
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
