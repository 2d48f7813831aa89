/* BIRD protocol rows -> BGP peers, and their tables (see bgpstatus.h).
 * Pure: the socket side is in node.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bird-config/birdctl.h"
#include "calicoctl-c/bgpstatus.h"
#include "cleanup.h"

static const char *const type_str[_CTL_PEER_TYPE_MAX] = {
	[CTL_PEER_MESH] = "node-to-node mesh",
	[CTL_PEER_GLOBAL] = "global",
	[CTL_PEER_NODE] = "node specific",
};

static const char *const type_prefix[_CTL_PEER_TYPE_MAX] = {
	[CTL_PEER_MESH] = "Mesh_",
	[CTL_PEER_GLOBAL] = "Global_",
	[CTL_PEER_NODE] = "Node_",
};

const char *ctl_peer_type_to_string(enum ctl_peer_type t)
{
	return t >= 0 && t < _CTL_PEER_TYPE_MAX ? type_str[t] : NULL;
}

/* "172_31_0_12" -> 172.31.0.12; "fd00__12" -> fd00::12 (IPv4 tried first). */
static int address_of(const char *s, size_t n, struct ctl_bgp_peer *ret)
{
	static const int fams[] = { AF_INET, AF_INET6 };
	unsigned char bin[16];
	char buf[48];

	if (n == 0 || n >= sizeof(buf))
		return -EINVAL;
	for (size_t f = 0; f < ELEMENTSOF(fams); f++) {
		memcpy(buf, s, n);
		buf[n] = '\0';
		for (char *c = buf; *c; c++)
			if (*c == '_')
				*c = fams[f] == AF_INET ? '.' : ':';
		if (inet_pton(fams[f], buf, bin) != 1)
			continue;
		ret->family = fams[f];
		return inet_ntop(fams[f], bin, ret->address, sizeof(ret->address)) ? 0 : -EINVAL;
	}
	return -EINVAL;
}

int ctl_bgp_peer_from_proto(const struct birdctl_proto *p, struct ctl_bgp_peer *ret)
{
	struct ctl_bgp_peer peer = {};
	const char *rest = NULL, *port;
	size_t n;
	int t;

	if (strcmp(p->proto, "BGP") != 0)
		return -ENOENT;
	for (t = 0; t < _CTL_PEER_TYPE_MAX && !rest; t++)
		if (strncmp(p->name, type_prefix[t], strlen(type_prefix[t])) == 0)
			rest = p->name + strlen(type_prefix[t]);
	if (!rest)
		return -ENOENT;
	peer.type = (enum ctl_peer_type)(t - 1);
	port = strstr(rest, "_port_");
	n = port ? (size_t)(port - rest) : strlen(rest);
	if (port) {
		char *end;
		unsigned long v = strtoul(port + 6, &end, 10);

		if (*end || v == 0 || v > 65535)
			return -EINVAL;
		peer.port = (unsigned)v;
	}
	if (address_of(rest, n, &peer) < 0)
		return -EINVAL;
	n = 0;
	snprintf(peer.proto, sizeof(peer.proto), "%s", p->name);
	snprintf(peer.state, sizeof(peer.state), "%s", p->state);
	snprintf(peer.since, sizeof(peer.since), "%s", p->since);
	/* BIRD's info column already carries the last error after the state,
	 * padded ("Active        Socket: ..."): squeeze the padding */
	for (const char *c = p->info; *c && n + 1 < sizeof(peer.info); c++)
		if (*c != ' ' || (n > 0 && peer.info[n - 1] != ' '))
			peer.info[n++] = *c;
	while (n > 0 && peer.info[n - 1] == ' ')
		n--;
	peer.info[n] = '\0';
	*ret = peer;
	return 0;
}

static void rule(const size_t *w, size_t nc, FILE *f)
{
	for (size_t c = 0; c < nc; c++) {
		fputc('+', f);
		for (size_t i = 0; i < w[c] + 2; i++)
			fputc('-', f);
	}
	fputs("+\n", f);
}

static void row(const char *const *cells, const size_t *w, size_t nc, FILE *f)
{
	for (size_t c = 0; c < nc; c++)
		fprintf(f, "| %-*s ", (int)w[c], cells[c]);
	fputs("|\n", f);
}

static void cells_of(const struct ctl_bgp_peer *p, char *addr, size_t size, const char *cells[5])
{
	if (p->port)
		snprintf(addr, size, "%s%s%s:%u", p->family == AF_INET6 ? "[" : "", p->address,
			 p->family == AF_INET6 ? "]" : "", p->port);
	else
		snprintf(addr, size, "%s", p->address);
	cells[0] = addr;
	cells[1] = ctl_peer_type_to_string(p->type);
	cells[2] = p->state;
	cells[3] = p->since;
	cells[4] = p->info;
}

static void print_family(const struct ctl_bgp_peer *peers, size_t n, int family, FILE *f)
{
	static const char *const head[5] = { "PEER ADDRESS", "PEER TYPE", "STATE", "SINCE", "INFO" };
	size_t w[5], shown = 0;
	const char *cells[5];
	char addr[64];

	for (size_t c = 0; c < 5; c++)
		w[c] = strlen(head[c]);
	for (size_t i = 0; i < n; i++) {
		if (peers[i].family != family)
			continue;
		shown++;
		cells_of(&peers[i], addr, sizeof(addr), cells);
		for (size_t c = 0; c < 5; c++)
			w[c] = strlen(cells[c]) > w[c] ? strlen(cells[c]) : w[c];
	}
	fprintf(f, "\nIPv%d BGP status\n", family == AF_INET ? 4 : 6);
	if (shown == 0) {
		fprintf(f, "No IPv%d peers found.\n", family == AF_INET ? 4 : 6);
		return;
	}
	rule(w, 5, f);
	row(head, w, 5, f);
	rule(w, 5, f);
	for (size_t i = 0; i < n; i++) {
		if (peers[i].family != family)
			continue;
		cells_of(&peers[i], addr, sizeof(addr), cells);
		row(cells, w, 5, f);
	}
	rule(w, 5, f);
}

void ctl_bgp_peers_print(const struct ctl_bgp_peer *peers, size_t n, FILE *f)
{
	print_family(peers, n, AF_INET, f);
	print_family(peers, n, AF_INET6, f);
}
