/* Addresses and prefixes in binary (see prefix.h). */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "prefix.h"

unsigned prefix_max_len(int family)
{
	return family == AF_INET ? 32 : 128;
}

static size_t addr_size(int family)
{
	return family == AF_INET ? 4 : 16;
}

int prefix_parse(const char *s, unsigned flags, struct in_prefix *ret)
{
	struct in_prefix p = {};
	char buf[INET6_ADDRSTRLEN + 1];
	const char *slash;
	unsigned len = 0;
	size_t n;

	if (!s)
		return -EINVAL;
	slash = strchr(s, '/');
	if (slash && (flags & PREFIX_ADDR_ONLY))
		return -EINVAL;
	n = slash ? (size_t)(slash - s) : strlen(s);
	if (n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	p.family = strchr(buf, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(p.family, buf, p.addr) != 1)
		return -EINVAL;
	if (!slash) {
		if (!(flags & (PREFIX_ALLOW_BARE | PREFIX_ADDR_ONLY)))
			return -EINVAL;
		len = prefix_max_len(p.family);
	} else {
		const char *d = slash + 1;

		if (!*d || strlen(d) > 3 || (d[0] == '0' && d[1]))
			return -EINVAL;
		for (; *d; d++) {
			if (!isdigit((unsigned char)*d))
				return -EINVAL;
			len = len * 10 + (unsigned)(*d - '0');
		}
		if (len > prefix_max_len(p.family))
			return -EINVAL;
	}
	p.len = (uint8_t)len;
	if (flags & (PREFIX_CLEAR_HOST | PREFIX_REJECT_HOST)) {
		struct in_prefix net = p;

		prefix_clear_host(&net);
		if ((flags & PREFIX_REJECT_HOST) && !prefix_equal(&net, &p))
			return -EINVAL;
		p = net;
	}
	*ret = p;
	return 0;
}

int prefix_format(const struct in_prefix *p, bool bare, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN];
	int n;

	if (!inet_ntop(p->family, p->addr, a, sizeof(a)))
		return -EINVAL;
	n = bare ? snprintf(buf, size, "%s", a) : snprintf(buf, size, "%s/%u", a, p->len);
	return n < 0 || (size_t)n >= size ? -ENOSPC : 0;
}

bool prefix_equal(const struct in_prefix *a, const struct in_prefix *b)
{
	return prefix_cmp(a, b) == 0;
}

int prefix_cmp(const struct in_prefix *a, const struct in_prefix *b)
{
	int r;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	r = memcmp(a->addr, b->addr, addr_size(a->family));
	if (r)
		return r;
	return (int)a->len - (int)b->len;
}

void prefix_clear_host(struct in_prefix *p)
{
	for (unsigned i = p->len; i < prefix_max_len(p->family); i++)
		p->addr[i / 8] &= (uint8_t) ~(0x80u >> (i % 8));
}

bool prefix_contains(const struct in_prefix *p, const struct in_prefix *addr)
{
	unsigned full = p->len / 8, rest = p->len % 8;

	if (p->family != addr->family || addr->len < p->len)
		return false;
	if (memcmp(p->addr, addr->addr, full) != 0)
		return false;
	return !rest || ((p->addr[full] ^ addr->addr[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

struct in_prefix prefix_from_ipv4(uint32_t addr_be)
{
	struct in_prefix p = { .family = AF_INET, .len = 32 };

	memcpy(p.addr, &addr_be, 4);
	return p;
}

uint32_t prefix_ipv4(const struct in_prefix *p)
{
	uint32_t a;

	memcpy(&a, p->addr, 4);
	return a;
}
