/* Node address autodetection (see autodetect.h). The choice among the
 * kernel's addresses is a pure function; only listing them and the
 * can-reach route lookup (a connected UDP socket's source address: no packet
 * is sent) touch the kernel.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cleanup.h"
#include "felix-c/autodetect.h"
#include "nl.h"

static const char *const excluded_prefixes[] = {
	"lo", "cali", "docker", "cbr", "dummy", "virbr", "lxcbr", "veth", "tunl", "flannel",
	"kube-ipvs", "cni", "vxlan.calico", "vxlan-v6.calico", "wireguard.cali", "wg-v6.cali",
	"nodelocaldns",
};

bool autodetect_iface_is_excluded(const char *ifname)
{
	for (size_t i = 0; i < ELEMENTSOF(excluded_prefixes); i++)
		if (strncmp(ifname, excluded_prefixes[i], strlen(excluded_prefixes[i])) == 0)
			return true;
	return false;
}

int autodetect_choose(const char *method, const struct autodetect_addr *v, size_t n,
		      size_t *ret_index)
{
	const char *re_text = NULL;
	bool include = false;
	regex_t re;
	int r = -ENOENT;

	if (strncmp(method, "interface=", 10) == 0)
		re_text = method + 10, include = true;
	else if (strncmp(method, "skip-interface=", 15) == 0)
		re_text = method + 15;
	else if (strcmp(method, "first-found") != 0)
		return -EINVAL;
	if (re_text && (!*re_text || regcomp(&re, re_text, REG_EXTENDED | REG_NOSUB) != 0))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		bool match = re_text && regexec(&re, v[i].ifname, 0, NULL, 0) == 0;

		if (!v[i].global)
			continue;
		if (include ? !match : (match || autodetect_iface_is_excluded(v[i].ifname)))
			continue;
		*ret_index = i;
		r = 0;
		break;
	}
	if (re_text)
		regfree(&re);
	return r;
}

struct collect {
	struct autodetect_addr *v;
	int *ifindex;
	char (*names)[IFNAMSIZ];
	size_t n, cap;
	int error;
};

static int collect_addr(const struct nl_addr *a, void *userdata)
{
	struct collect *c = userdata;

	if (a->family != AF_INET || c->n == c->cap)
		return 0; /* enough candidates */
	memcpy(&c->v[c->n].addr, a->addr, 4);
	c->v[c->n].prefixlen = a->prefixlen;
	c->v[c->n].global = a->scope == RT_SCOPE_UNIVERSE;
	c->ifindex[c->n] = a->ifindex;
	c->n++;
	return 0;
}

/* The source address the kernel would use toward @target. */
static int can_reach(const char *target, uint32_t *ret_addr)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(9) };
	socklen_t len = sizeof(sa);
	_cleanup_close_ int fd = -1;

	if (inet_pton(AF_INET, target, &sa.sin_addr) != 1)
		return -EINVAL;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return errno == ENETUNREACH ? -ENOENT : -errno;
	if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		return -errno;
	*ret_addr = sa.sin_addr.s_addr;
	return 0;
}

/* Names and MTUs, after the address dump (one request at a time per socket). */
static void resolve_links(struct nl *nl, struct collect *c)
{
	for (size_t i = 0; i < c->n; i++) {
		struct nl_link l;

		if (nl_link_get(nl, c->ifindex[i], NULL, &l) < 0)
			l = (struct nl_link){}; /* went away meanwhile: never matches */
		snprintf(c->names[i], IFNAMSIZ, "%s", l.name);
		c->v[i].ifname = c->names[i];
		c->v[i].mtu = l.mtu;
		if (!l.name[0])
			c->v[i].global = false;
	}
}

int autodetect_ipv4(struct nl *nl, const char *method, char ret_cidr[static 24],
		    uint32_t *ret_mtu)
{
	struct autodetect_addr v[64];
	char names[64][IFNAMSIZ], a[INET_ADDRSTRLEN];
	int ifindex[64];
	struct collect c = { .v = v, .ifindex = ifindex, .names = names, .cap = ELEMENTSOF(v) };
	uint32_t want = 0;
	size_t idx = 0;
	int r;

	r = nl_addr_list(nl, AF_INET, 0, collect_addr, &c);
	if (r < 0)
		return r;
	resolve_links(nl, &c);
	if (strncmp(method, "can-reach=", 10) == 0) {
		r = can_reach(method + 10, &want);
		if (r < 0)
			return r;
		for (idx = 0; idx < c.n && v[idx].addr != want; idx++)
			;
		if (idx == c.n)
			return -ENOENT;
	} else {
		r = autodetect_choose(method, v, c.n, &idx);
		if (r < 0)
			return r;
	}
	inet_ntop(AF_INET, &v[idx].addr, a, sizeof(a));
	snprintf(ret_cidr, 24, "%s/%u", a, v[idx].prefixlen);
	if (ret_mtu)
		*ret_mtu = v[idx].mtu;
	return 0;
}
