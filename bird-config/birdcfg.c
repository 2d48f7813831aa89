/* Renders one node's BIRD 2 config from API objects.
 *
 * Model: collect (1) this node's identity (router id, AS, RR cluster id),
 * (2) the IP pools, (3) this node's confirmed blocks and borrowed /32s and
 * (4) the BGP peers: the node-to-node mesh, global and node-specific
 * BGPPeers (peerIP or peerSelector), each validated into a struct peer.
 * Then print, peers sorted by protocol name. Nothing from the API reaches
 * the text unvalidated: addresses go through lib/prefix and are printed back
 * from binary, numbers are range-checked, passwords and communities are
 * checked against their grammar.
 *
 * Mesh sessions: exactly one side initiates. As in Calico, a node is passive
 * toward a peer whose address is greater than its own when both are compared
 * as text ("10.0.0.8" > "10.0.0.10"), so in a cluster mixing Calico and
 * calico-c nodes every pair still has exactly one active side. The same rule
 * holds for calico nodes found by a BGPPeer's peerSelector. A peer node is
 * dialled on its own listen port and AS (or the cluster's defaults).
 *
 * Export: the static protocol calico_blocks4/6 holds a blackhole route per
 * confirmed affine block; those aggregates and the node's borrowed /32s
 * (learned from the kernel, route protocol 80) are all we advertise. A route
 * reflector additionally reflects BGP-learned pool routes to its iBGP peers.
 * Pools count whether or not they are disabled (disabling stops allocations
 * only); disableBGPExport, or allowedUses without Workload/Tunnel, stops
 * advertising.
 *
 * Import: routes inside a pool, except this node's own blocks and borrowed
 * /32s coming back from a peer (a BGP copy would beat the kernel route and
 * the export filter, which sends only the kernel's, would withdraw it: a
 * flap loop with the ToR).
 *
 * BGPPeer filters name BGPFilters, rendered as functions its peers' filters
 * call first (see the BGPFilter section). Options we cannot render exactly
 * (an unknown BGPFilter rule field) skip the peer with a reason: never a
 * session with a silently different policy.
 *
 * IPv6: each family has its own sessions, as Calico renders them: the mesh,
 * peerSelector peers and route reflection run over both nodes' IPv6
 * addresses (projectcalico.org/IPv6Address) when both have one, a BGPPeer
 * with an IPv6 peerIP on nodes with an IPv6 address; each session carries
 * only its own family's channel and filters (calico_import6/export6, the
 * same rules as for IPv4: affine blocks and borrowed /128s). A node
 * without an IPv4 address (IPv6-only) renders only IPv6 and needs
 * CALICO_ROUTER_ID ("hash" or an IPv4 address), as in Calico.
 *
 * reachableBy: as in Calico, the peer's exact address (/32 or /128) gets a
 * static route via the given gateway (static protocol calico_peers4/6),
 * installed in the kernel so the session never rides on routes learned over
 * BGP (which would go with the session: a flap). The export filters only
 * ever send blocks, borrowed /32s and service IPs, so the route is never
 * advertised.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "array.h"
#include "base64.h"
#include "birdcfg.h"
#include "blockaff.h"
#include "cleanup.h"
#include "nl.h"
#include "prefix.h"
#include "selector.h"

#define MAX_PEERS 4096

enum peer_kind { PEER_MESH, PEER_GLOBAL, PEER_NODE };

/* Auto: next hop self, except a route reflector toward its iBGP clients. */
enum next_hop { NEXT_HOP_AUTO, NEXT_HOP_SELF, NEXT_HOP_KEEP };

static const char *const peer_prefix[] = {
	[PEER_MESH] = "Mesh",
	[PEER_GLOBAL] = "Global",
	[PEER_NODE] = "Node",
};

struct peer {
	enum peer_kind kind;
	char name[96]; /* protocol name, derived from the address only */
	int family;
	char ip[INET6_ADDRSTRLEN];
	unsigned port; /* 0: default */
	uint32_t as;
	bool passive, rr_client, bfd, ebgp, direct;
	char password[81]; /* "" none; validated */
	unsigned keepalive_s, restart_s;
	uint32_t local_as;	 /* localASNumber; 0: the node's AS */
	uint32_t allow_local_as; /* numAllowedLocalASNumbers; 0: none */
	uint32_t ttl_security;	 /* hops; 0: off */
	enum next_hop next_hop;
	char source[INET6_ADDRSTRLEN]; /* "" none */
	char via[INET6_ADDRSTRLEN];    /* reachableBy gateway, canonical; "" none */
	const json_t *filters;	       /* BGPPeer filters: names of usable BGPFilters
					* (borrowed from the input); NULL: none */
};

struct self {
	const json_t *node;
	char ip4[INET6_ADDRSTRLEN], ip6[INET6_ADDRSTRLEN]; /* "": none; ip4 sized for parse_ip() */
	unsigned char net4[4], net6[16]; /* our addresses, for the same-subnet test */
	unsigned len4, len6;		 /* their prefix lengths (bare: 32, 128) */
	uint32_t as, default_as; /* ours; the cluster's (BGPConfiguration default) */
	char cluster_id[INET6_ADDRSTRLEN]; /* "" unless a route reflector */
	char router_id[INET6_ADDRSTRLEN];
	unsigned listen_port;
	bool mesh, bfd_default;
	bool bind_node_ip;	 /* bindMode NodeIP: listen on the node's address only */
	const char *log_severity;
	char mesh_password[81];	 /* nodeMeshPassword; "" none */
	unsigned mesh_restart_s; /* nodeMeshMaxRestartTime; 0: default */
};

struct render {
	const struct birdcfg_input *in;
	struct birdcfg_errors *errs;
	struct self self;
	struct peer *peers; /* owned */
	size_t n_peers, cap_peers;
	bool services[2]; /* calico_services4/6 printed */
	FILE *out;
};

/* --- errors ---------------------------------------------------------------- */

__attribute__((format(printf, 2, 3))) static void skip(struct render *r, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (!msg)
		return;
	for (size_t i = 0; i < r->errs->n; i++)
		if (strcmp(r->errs->msgs[i], msg) == 0) { /* a set printed twice */
			free(msg);
			return;
		}
	if (ARRAY_GROW(r->errs->msgs, r->errs->cap, r->errs->n + 1) < 0) {
		free(msg);
		return;
	}
	r->errs->msgs[r->errs->n++] = msg;
}

void birdcfg_errors_done(struct birdcfg_errors *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->n; i++)
		free(e->msgs[i]);
	free(e->msgs);
	*e = (struct birdcfg_errors){};
}

/* --- JSON access --------------------------------------------------------- */

static const char *str_at(const json_t *o, const char *a, const char *b)
{
	const json_t *v = json_object_get(o, a);

	if (b)
		v = json_object_get(v, b);
	return json_string_value(v);
}

static const char *obj_name(const json_t *o)
{
	return str_at(o, "metadata", "name") ?: "";
}

static const char *annotation(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(json_object_get(json_object_get(o, "metadata"),
								 "annotations"),
						 key));
}

/* --- validation ------------------------------------------------------------ */

/* Parse "ip" (or also "ip/len" when @len is non-NULL) and print it back
 * canonically into @buf: only what inet_ntop writes reaches the config. */
static int parse_ip(const char *s, int *ret_family, char buf[static INET6_ADDRSTRLEN],
		    unsigned *len, unsigned char *ret_bin)
{
	struct in_prefix p;
	int r;

	r = prefix_parse(s, len ? PREFIX_ALLOW_BARE : PREFIX_ADDR_ONLY, &p);
	if (r == 0)
		r = prefix_format(&p, true, buf, INET6_ADDRSTRLEN);
	if (r < 0)
		return -EINVAL;
	if (len)
		*len = p.len;
	if (ret_family)
		*ret_family = p.family;
	if (ret_bin)
		memcpy(ret_bin, p.addr, p.family == AF_INET ? 4 : 16);
	return 0;
}

/* A CIDR printed canonically, host bits cleared; -EINVAL otherwise. */
static int parse_cidr(const char *s, int *ret_family, char *buf, size_t size)
{
	struct in_prefix p;
	int r;

	r = prefix_parse(s, PREFIX_CLEAR_HOST, &p);
	if (r == 0)
		r = prefix_format(&p, false, buf, size);
	if (r < 0)
		return -EINVAL;
	*ret_family = p.family;
	return 0;
}

static int parse_u32_str(const char *s, uint32_t min, uint32_t max, uint32_t *ret)
{
	unsigned long long n;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno || *end)
		return -EINVAL;
	if (n < min || n > max)
		return -ERANGE;
	*ret = (uint32_t)n;
	return 0;
}

/* A number given as a JSON integer or as a decimal string. */
static int parse_u32(const json_t *v, uint32_t min, uint32_t max, uint32_t *ret)
{
	char buf[32];

	if (json_is_integer(v)) {
		if (json_integer_value(v) < 0)
			return -ERANGE;
		snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return parse_u32_str(buf, min, max, ret);
	}
	return parse_u32_str(json_string_value(v), min, max, ret);
}

/* Go-style durations as Calico writes them: "90s", "2m", "1m30s", "1h". */
static int parse_duration_s(const char *s, unsigned *ret)
{
	unsigned long total = 0, n;
	char *end;

	if (!s || !*s)
		return -EINVAL;
	while (*s) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		n = strtoul(s, &end, 10);
		switch (*end) {
		case 'h': n *= 3600; break;
		case 'm': n *= 60; break;
		case 's': break;
		default: return -EINVAL;
		}
		total += n;
		if (total > 65535)
			return -ERANGE;
		s = end + 1;
	}
	*ret = (unsigned)total;
	return 0;
}

/* MD5 keys go between double quotes: printable ASCII without " or \. */
static bool password_is_valid(const char *p, size_t len)
{
	if (len == 0 || len > 80)
		return false;
	for (size_t i = 0; i < len; i++)
		if (p[i] < 0x20 || p[i] > 0x7e || p[i] == '"' || p[i] == '\\')
			return false;
	return true;
}

/* An interface name or BIRD pattern: letters, digits and - _ . @ : + * ?. */
static bool ifpattern_is_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > 64)
		return false;
	for (; *s; s++)
		if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') && !(*s >= '0' && *s <= '9') &&
		    !strchr("-_.@:+*?", *s))
			return false;
	return true;
}

/* "a:b" (16-bit each) or "a:b:c" (32-bit each); printed back as BIRD pairs. */
static int community_to_bird(const char *s, char *buf, size_t size)
{
	unsigned long v[3];
	int n = 0;
	char *end;

	if (!s)
		return -EINVAL;
	for (const char *p = s;; p = end + 1) {
		if (n == 3 || *p < '0' || *p > '9')
			return -EINVAL;
		errno = 0;
		v[n] = strtoul(p, &end, 10);
		if (errno || v[n] > UINT32_MAX)
			return -EINVAL;
		n++;
		if (*end == '\0')
			break;
		if (*end != ':')
			return -EINVAL;
	}
	if (n == 2 && v[0] <= 0xffff && v[1] <= 0xffff)
		snprintf(buf, size, "bgp_community.add((%lu,%lu));", v[0], v[1]);
	else if (n == 3)
		snprintf(buf, size, "bgp_large_community.add((%lu,%lu,%lu));", v[0], v[1], v[2]);
	else
		return -EINVAL;
	return 0;
}

/* --- this node --------------------------------------------------------------- */

static const json_t *find_by_name(const json_t *arr, const char *name)
{
	size_t i;
	json_t *o;

	json_array_foreach(arr, i, o)
		if (strcmp(obj_name(o), name) == 0)
			return o;
	return NULL;
}

static const json_t *find_node(const struct render *r, const char *name)
{
	return find_by_name(r->in->nodes, name);
}

static const json_t *bgpconfig(const struct render *r, const char *name)
{
	return json_object_get(find_by_name(r->in->bgpconfigurations, name), "spec");
}

static const char *const log_levels[][2] = {
	{ "Debug", "all" },
	{ "Info", "{ info, remote, warning, error, auth, fatal, bug }" },
	{ "Warning", "{ warning, error, fatal, bug }" },
	{ "Error", "{ error, fatal, bug }" },
	{ "Fatal", "{ fatal, bug }" },
};

/* listenPort of node @name: its BGPConfiguration "node.<name>", else the
 * default one; 0 (BGP's 179) when neither sets a valid one. */
static unsigned listen_port_of(const struct render *r, const char *name)
{
	const json_t *cfgs[2] = { NULL, bgpconfig(r, "default") };
	char cfgname[300];
	uint32_t n;

	snprintf(cfgname, sizeof(cfgname), "node.%s", name);
	cfgs[0] = bgpconfig(r, cfgname);
	for (size_t i = 0; i < ELEMENTSOF(cfgs); i++)
		if (parse_u32(json_object_get(cfgs[i], "listenPort"), 1, 65535, &n) == 0)
			return n;
	return 0;
}

static void load_global_config(struct render *r, const json_t *def, const json_t *mine)
{
	struct self *me = &r->self;
	const json_t *v;
	const char *sev;
	uint32_t n;

	me->default_as = 64512;
	me->mesh = true;
	me->log_severity = log_levels[1][1];
	if ((v = json_object_get(def, "asNumber")) && parse_u32(v, 1, UINT32_MAX, &n) == 0)
		me->default_as = n;
	else if (v)
		skip(r, "BGPConfiguration 'default': asNumber is not 1..4294967295, using 64512");
	me->as = me->default_as;
	if ((v = json_object_get(def, "nodeToNodeMeshEnabled")) && json_is_boolean(v))
		me->mesh = json_is_true(v);
	me->bfd_default = json_is_true(json_object_get(def, "bfdEnabled"));
	me->listen_port = listen_port_of(r, r->in->node);
	/* bindMode (only in "default", as in Calico): BIRD 2 has no global
	 * listen address; "strict bind" on every session binds the listening
	 * socket to its local address, the node's, which every session has. */
	if ((sev = str_at(def, "bindMode", NULL)) && strcmp(sev, "NodeIP") == 0)
		me->bind_node_ip = true;
	else if (sev && strcmp(sev, "None") != 0)
		skip(r, "BGPConfiguration 'default': bindMode is not None or NodeIP, listening on "
			"every address");
	for (const json_t *c = def;; c = mine) {
		if ((v = json_object_get(c, "listenPort")) && parse_u32(v, 1, 65535, &n) < 0)
			skip(r, "BGPConfiguration: listenPort is not 1..65535, ignored");
		if ((sev = str_at(c, "logSeverityScreen", NULL))) {
			size_t i;

			for (i = 0; i < ELEMENTSOF(log_levels); i++)
				if (strcasecmp(sev, log_levels[i][0]) == 0)
					me->log_severity = log_levels[i][1];
			if (strcasecmp(sev, "None") == 0)
				me->log_severity = NULL;
		}
		if (c == mine || !mine)
			break;
	}
}

/* Calico's "hash" router id: the first 4 bytes of SHA-256 of the node name,
 * the first octet moved out of 224..255 (multicast and reserved). */
static int router_id_hash(const char *name, char buf[static INET6_ADDRSTRLEN])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned len = 0;

	if (!EVP_Digest(name, strlen(name), md, &len, EVP_sha256(), NULL) || len < 4)
		return -EIO;
	if (md[0] > 223)
		md[0] -= 32;
	inet_ntop(AF_INET, md, buf, INET6_ADDRSTRLEN);
	return 0;
}

static int load_router_id(struct render *r)
{
	const char *want = r->in->router_id;
	struct self *me = &r->self;
	int family;

	if (want && strcmp(want, "hash") == 0 && router_id_hash(r->in->node, me->router_id) == 0)
		return 0;
	if (want && *want && strcmp(want, "hash") != 0 &&
	    parse_ip(want, &family, me->router_id, NULL, NULL) == 0 && family == AF_INET)
		return 0;
	if (want && *want)
		skip(r, "CALICO_ROUTER_ID '%s' is not an IPv4 address or 'hash', using the node's address",
		     want);
	if (!me->ip4[0]) /* an IPv6-only node needs CALICO_ROUTER_ID, as in Calico */
		return -ENOENT;
	memcpy(me->router_id, me->ip4, sizeof(me->router_id));
	return 0;
}

static int load_self(struct render *r)
{
	struct self *me = &r->self;
	_cleanup_free_ char *cfgname = NULL;
	const char *a;
	uint32_t as;
	int family;

	me->node = find_node(r, r->in->node);
	if (!me->node)
		return -ENOENT;
	/* A bad IPv4Address is an error, a missing one an IPv6-only node. */
	if ((a = annotation(me->node, "projectcalico.org/IPv4Address")) &&
	    (parse_ip(a, &family, me->ip4, &me->len4, me->net4) < 0 || family != AF_INET))
		return -ENOENT;
	if ((a = annotation(me->node, "projectcalico.org/IPv6Address")) &&
	    (parse_ip(a, &family, me->ip6, &me->len6, me->net6) < 0 || family != AF_INET6)) {
		skip(r, "Node '%s': IPv6Address '%s' is not an IPv6 address, ignored", r->in->node, a);
		me->ip6[0] = '\0';
	}
	if ((!me->ip4[0] && !me->ip6[0]) || load_router_id(r) < 0)
		return -ENOENT;
	if (asprintf(&cfgname, "node.%s", r->in->node) < 0)
		return -ENOMEM;
	load_global_config(r, bgpconfig(r, "default"), bgpconfig(r, cfgname));
	a = annotation(me->node, "projectcalico.org/ASNumber");
	if (a && parse_u32_str(a, 1, UINT32_MAX, &as) == 0)
		me->as = as;
	else if (a)
		skip(r, "Node '%s': ASNumber '%s' is not 1..4294967295, using %u", r->in->node, a,
		     me->as);
	a = annotation(me->node, "projectcalico.org/RouteReflectorClusterID");
	if (a && (parse_ip(a, &family, me->cluster_id, NULL, NULL) < 0 || family != AF_INET)) {
		skip(r, "Node '%s': RouteReflectorClusterID '%s' is not an IPv4 address, ignored",
		     r->in->node, a);
		me->cluster_id[0] = '\0';
	}
	return 0;
}

/* --- BGPFilter ---------------------------------------------------------------- */

/* Calico's order: a peer's filters in the order it lists them, each one's
 * rules in order; the first rule that matches accepts or rejects; a route
 * no rule matches goes on to the usual import/export rules. Each direction
 * and family of a BGPFilter is one BIRD function, 'bgpfilter_<name>_<dir><v>',
 * called at the top of the peer's own filter. A rule with a field or value
 * we do not know makes the whole BGPFilter unusable (its peers are skipped):
 * never a filter that does something else than written. */

static const char *const bgpfilter_dirs[][2] = {
	{ "importV4", "import4" }, { "exportV4", "export4" },
	{ "importV6", "import6" }, { "exportV6", "export6" },
};

/* A Kubernetes name short enough for a BIRD symbol (64 characters). */
static bool bgpfilter_name_is_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > 40)
		return false;
	for (; *s; s++)
		if (!(*s >= 'a' && *s <= 'z') && !(*s >= '0' && *s <= '9') && *s != '-' && *s != '.')
			return false;
	return true;
}

/* "net ..." for a rule's cidr, matchOperator and prefixLength; -EINVAL if bad. */
static int bgpfilter_print_net(const json_t *rule, int family, FILE *out)
{
	const char *op = str_at(rule, "matchOperator", NULL);
	const json_t *len = json_object_get(rule, "prefixLength");
	unsigned max_len = family == AF_INET ? 32 : 128;
	char cidr[INET6_ADDRSTRLEN + 4];
	uint32_t lo, hi;
	bool in, not;
	int f;

	if (parse_cidr(str_at(rule, "cidr", NULL), &f, cidr, sizeof(cidr)) < 0 || f != family || !op)
		return -EINVAL;
	in = strcmp(op, "In") == 0;
	not = strcmp(op, "NotIn") == 0;
	if (!in && !not) {
		if (len || (strcmp(op, "Equal") != 0 && strcmp(op, "NotEqual") != 0))
			return -EINVAL;
		fprintf(out, "net %s %s", op[0] == 'E' ? "=" : "!=", cidr);
		return 0;
	}
	lo = (uint32_t)strtoul(strchr(cidr, '/') + 1, NULL, 10);
	hi = max_len;
	if (len && ((json_object_get(len, "min") &&
		     parse_u32(json_object_get(len, "min"), lo, max_len, &lo) < 0) ||
		    (json_object_get(len, "max") &&
		     parse_u32(json_object_get(len, "max"), lo, max_len, &hi) < 0)))
		return -EINVAL;
	fprintf(out, "%snet ~ [ %s{%u,%u} ]%s", not ? "!(" : "", cidr, lo, hi, not ? ")" : "");
	return 0;
}

/* One rule as "if (...) && (...) then accept;" (or a bare action). */
static int bgpfilter_print_rule(const json_t *rule, int family, FILE *out)
{
	static const char *const known[] = { "action", "cidr", "matchOperator", "prefixLength",
					      "source", "interface" };
	const char *action = str_at(rule, "action", NULL), *src, *ifname, *key;
	bool any = false;
	json_t *v;

	json_object_foreach((json_t *)rule, key, v) {
		size_t i = 0;

		while (i < ELEMENTSOF(known) && strcmp(known[i], key) != 0)
			i++;
		if (i == ELEMENTSOF(known))
			return -EINVAL;
	}
	if (!action || (strcmp(action, "Accept") != 0 && strcmp(action, "Reject") != 0))
		return -EINVAL;
	fputs("\t", out);
	if (json_object_get(rule, "cidr") || json_object_get(rule, "matchOperator")) {
		fputs("if (", out);
		if (bgpfilter_print_net(rule, family, out) < 0)
			return -EINVAL;
		fputs(")", out);
		any = true;
	}
	if ((src = str_at(rule, "source", NULL))) {
		if (strcmp(src, "RemotePeers") != 0)
			return -EINVAL;
		fprintf(out, "%s(source = RTS_BGP)", any ? " && " : "if ");
		any = true;
	}
	if ((ifname = str_at(rule, "interface", NULL))) {
		if (!ifpattern_is_valid(ifname))
			return -EINVAL;
		fprintf(out, "%s(defined(ifname) && ifname ~ \"%s\")", any ? " && " : "if ", ifname);
		any = true;
	}
	fprintf(out, "%s%s;\n", any ? " then " : "", action[0] == 'A' ? "accept" : "reject");
	return 0;
}

/* The BIRD functions of one BGPFilter; -EINVAL if any rule is unusable
 * (then nothing of it may be used). */
static int bgpfilter_print(const json_t *filter, FILE *out)
{
	const json_t *spec = json_object_get(filter, "spec"), *rules, *rule;
	const char *name = obj_name(filter), *key;
	size_t i, j;
	json_t *v;

	if (!bgpfilter_name_is_valid(name))
		return -EINVAL;
	json_object_foreach((json_t *)spec, key, v) {
		for (i = 0; i < ELEMENTSOF(bgpfilter_dirs); i++)
			if (strcmp(key, bgpfilter_dirs[i][0]) == 0)
				break;
		if (i == ELEMENTSOF(bgpfilter_dirs) || !json_is_array(v))
			return -EINVAL;
	}
	for (i = 0; i < ELEMENTSOF(bgpfilter_dirs); i++) {
		rules = json_object_get(spec, bgpfilter_dirs[i][0]);
		if (!json_array_size(rules))
			continue;
		fprintf(out, "\nfunction 'bgpfilter_%s_%s'() {\n", name, bgpfilter_dirs[i][1]);
		json_array_foreach(rules, j, rule)
			if (bgpfilter_print_rule(rule, i < 2 ? AF_INET : AF_INET6, out) < 0)
				return -EINVAL;
		fputs("}\n", out);
	}
	return 0;
}

/* The BGPFilter named @name if it exists and is usable (else NULL, the
 * reason recorded for an unusable one). */
static const json_t *bgpfilter_find(struct render *r, const char *name)
{
	const json_t *f = find_by_name(r->in->bgpfilters, name ?: "");
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	FILE *out;
	int q;

	if (!f)
		return NULL;
	out = open_memstream(&text, &len);
	if (!out)
		return NULL;
	q = bgpfilter_print(f, out);
	fclose(out);
	if (q < 0) {
		skip(r, "BGPFilter '%s': a rule has an unknown field or a bad action, cidr, matchOperator, prefixLength, source or interface: not used",
		     name);
		return NULL;
	}
	return f;
}

/* Every usable BGPFilter's functions (unused ones too: BIRD does not mind). */
static void print_bgpfilters(struct render *r)
{
	size_t i;
	json_t *f;

	json_array_foreach(r->in->bgpfilters, i, f)
		if (bgpfilter_find(r, obj_name(f)))
			(void)bgpfilter_print(f, r->out);
}

/* --- other nodes ------------------------------------------------------------- */

struct node_info {
	const char *name;
	char ip4[INET6_ADDRSTRLEN], ip6[INET6_ADDRSTRLEN]; /* "": none; sized for parse_ip() */
	unsigned char bin4[4], bin6[16];
	uint32_t as;
	char cluster_id[INET6_ADDRSTRLEN];
	const json_t *labels;
	unsigned port; /* its listen port; 0: 179 */
};

/* A Calico node's BGP identity; -EINVAL (reason recorded) if unusable. */
static int node_info(struct render *r, const json_t *node, struct node_info *ret)
{
	const char *a;
	unsigned len;
	int family;

	/* A peer node's AS is its own, else the cluster's: never ours. */
	*ret = (struct node_info){ .name = obj_name(node), .as = r->self.default_as };
	ret->labels = json_object_get(json_object_get(node, "metadata"), "labels");
	a = annotation(node, "projectcalico.org/IPv4Address");
	if (a && (parse_ip(a, &family, ret->ip4, &len, ret->bin4) < 0 || family != AF_INET)) {
		skip(r, "Node '%s': IPv4Address '%s' is not an IPv4 address, skipped", ret->name, a);
		return -EINVAL;
	}
	a = annotation(node, "projectcalico.org/IPv6Address");
	if (a && (parse_ip(a, &family, ret->ip6, &len, ret->bin6) < 0 || family != AF_INET6))
		ret->ip6[0] = '\0';
	if (!ret->ip4[0] && !ret->ip6[0])
		return -EINVAL; /* not (yet) a BGP node: nothing to say */
	a = annotation(node, "projectcalico.org/ASNumber");
	if (a && parse_u32_str(a, 1, UINT32_MAX, &ret->as) < 0) {
		skip(r, "Node '%s': ASNumber '%s' is not 1..4294967295, skipped", ret->name, a);
		return -EINVAL;
	}
	a = annotation(node, "projectcalico.org/RouteReflectorClusterID");
	if (a && (parse_ip(a, &family, ret->cluster_id, NULL, NULL) < 0 || family != AF_INET))
		ret->cluster_id[0] = '\0';
	ret->port = listen_port_of(r, ret->name);
	return 0;
}

/* Whether @other (binary, of @family) is in our subnet of that family. */
static bool same_subnet(const struct self *me, int family, const unsigned char *other)
{
	const unsigned char *net = family == AF_INET ? me->net4 : me->net6;
	unsigned len = family == AF_INET ? me->len4 : me->len6;

	for (unsigned i = 0; i < len; i++) {
		unsigned char m = 0x80 >> (i % 8);

		if ((net[i / 8] & m) != (other[i / 8] & m))
			return false;
	}
	return true;
}

/* This node's address of @family; "" if it has none. */
static const char *self_ip(const struct self *me, int family)
{
	return family == AF_INET ? me->ip4 : me->ip6;
}

static struct peer *peer_new(struct render *r, enum peer_kind kind, int family, const char *ip,
			     unsigned port, uint32_t as)
{
	struct peer *p;

	if (ARRAY_GROW_MAX(r->peers, r->cap_peers, r->n_peers + 1, MAX_PEERS) < 0)
		return NULL;
	p = &r->peers[r->n_peers++];
	*p = (struct peer){ .kind = kind, .family = family, .port = port, .as = as };
	snprintf(p->ip, sizeof(p->ip), "%s", ip);
	snprintf(p->name, sizeof(p->name), "%s_%s", peer_prefix[kind], ip);
	for (char *c = p->name; *c; c++)
		if (*c == '.' || *c == ':')
			*c = '_';
	if (port)
		snprintf(p->name + strlen(p->name), sizeof(p->name) - strlen(p->name), "_port_%u",
			 port);
	p->ebgp = as != r->self.as;
	p->direct = true;
	return p;
}

/* Base64 secret value of @pw ({"secretKeyRef": {name, key}}) → @buf; ""
 * when @pw is NULL; -errno when it cannot be used (reason recorded, @what
 * names the object: "BGPPeer 'x'"). */
static int peer_password(struct render *r, const json_t *pw, const char *what, char *buf,
			 size_t size)
{
	const json_t *ref = json_object_get(pw, "secretKeyRef");
	const char *name = str_at(ref, "name", NULL), *key = str_at(ref, "key", NULL), *b64;
	_cleanup_free_ char *dec = NULL;
	size_t n;

	if (!pw)
		return 0;
	b64 = str_at(json_object_get(find_by_name(r->in->secrets, name ?: ""), "data"), key ?: "",
		     NULL);
	if (!b64) {
		skip(r, "%s: secret '%s' key '%s' not found, skipped", what, name ?: "", key ?: "");
		return -ENOENT;
	}
	if (base64_decode(b64, strlen(b64), (void **)&dec, &n) == -ENOMEM)
		return -ENOMEM;
	if (!dec || !password_is_valid(dec, n) || n >= size) {
		skip(r, "%s: password must be 1-80 printable characters without '\"' or '\\', skipped",
		     what);
		return -EINVAL;
	}
	memcpy(buf, dec, n + 1);
	return 0;
}

/* Session options shared by mesh and node peers: the peer node's listen
 * port, and Calico's rule for which side dials (see the top of this file). */
static void peer_to_node(struct render *r, struct peer *p, const struct node_info *n)
{
	const char *local = self_ip(&r->self, p->family);

	p->direct = same_subnet(&r->self, p->family, p->family == AF_INET ? n->bin4 : n->bin6);
	if (r->self.cluster_id[0] && strcmp(r->self.cluster_id, n->cluster_id) != 0)
		p->rr_client = true;
	p->bfd = r->self.bfd_default;
	p->port = n->port;
	p->passive = strcmp(p->ip, local) > 0;
}

/* nodeMeshPassword and nodeMeshMaxRestartTime; -EINVAL (reason recorded)
 * if the mesh cannot be rendered as configured. */
static int load_mesh_options(struct render *r)
{
	const json_t *def = bgpconfig(r, "default");
	const char *s = str_at(def, "nodeMeshMaxRestartTime", NULL);

	if (s && (parse_duration_s(s, &r->self.mesh_restart_s) < 0 ||
		  r->self.mesh_restart_s > 4095)) {
		skip(r, "BGPConfiguration 'default': nodeMeshMaxRestartTime '%s' is not a duration up to 4095s, mesh skipped",
		     s);
		return -EINVAL;
	}
	if (peer_password(r, json_object_get(def, "nodeMeshPassword"),
			  "BGPConfiguration 'default' nodeMeshPassword", r->self.mesh_password,
			  sizeof(r->self.mesh_password)) < 0)
		return -EINVAL;
	return 0;
}

static struct peer *add_mesh_peer(struct render *r, int family, const struct node_info *n)
{
	struct peer *p = peer_new(r, PEER_MESH, family, family == AF_INET ? n->ip4 : n->ip6, 0,
				  n->as);

	if (!p)
		return NULL;
	peer_to_node(r, p, n);
	p->restart_s = r->self.mesh_restart_s;
	memcpy(p->password, r->self.mesh_password, sizeof(p->password));
	return p;
}

static void add_mesh(struct render *r)
{
	struct node_info n;
	size_t i;
	json_t *o;

	if (!r->self.mesh || r->self.cluster_id[0] || load_mesh_options(r) < 0)
		return;
	json_array_foreach(r->in->nodes, i, o) {
		if (strcmp(obj_name(o), r->in->node) == 0 || node_info(r, o, &n) < 0 ||
		    n.cluster_id[0])
			continue;
		if (n.ip4[0] && r->self.ip4[0] && !add_mesh_peer(r, AF_INET, &n))
			return;
		if (n.ip6[0] && r->self.ip6[0] && !add_mesh_peer(r, AF_INET6, &n))
			return;
	}
}

/* reachableBy @s: the gateway of the static route to @p's address. It must
 * be an address of the peer's family; an IPv6 link-local gateway would need
 * an interface we are not given. -EINVAL (reason recorded) otherwise. */
static int peer_reachable_by(struct render *r, const char *s, const char *name, struct peer *p)
{
	unsigned char bin[16];
	int family;

	if (parse_ip(s, &family, p->via, NULL, bin) < 0) {
		skip(r, "BGPPeer '%s': reachableBy '%s' is not an IP address, peer skipped", name, s);
		return -EINVAL;
	}
	if (family != p->family) {
		skip(r, "BGPPeer '%s': reachableBy '%s' is not of the peer's address family (%s), peer skipped",
		     name, s, p->ip);
		return -EINVAL;
	}
	if (family == AF_INET6 && bin[0] == 0xfe && (bin[1] & 0xc0) == 0x80) {
		skip(r, "BGPPeer '%s': reachableBy '%s' is link-local (no interface to use), peer skipped",
		     name, s);
		return -EINVAL;
	}
	p->direct = false; /* reached through a gateway: never on our link */
	return 0;
}

/* AS and next-hop controls of a BGPPeer; -errno (reason recorded) if bad or
 * not renderable exactly. */
static int peer_routing_options(struct render *r, const json_t *spec, const char *name,
				struct peer *p)
{
	const json_t *v;
	const char *s;
	uint32_t n;
	size_t i;

	json_array_foreach(json_object_get(spec, "filters"), i, v)
		if (!bgpfilter_find(r, json_string_value(v))) {
			skip(r, "BGPPeer '%s': BGPFilter '%s' is missing or unusable, peer skipped",
			     name, json_string_value(v) ?: "");
			return -EINVAL;
		}
	if (json_array_size(json_object_get(spec, "filters")))
		p->filters = json_object_get(spec, "filters");
	if ((s = str_at(spec, "reachableBy", NULL)) && *s && peer_reachable_by(r, s, name, p) < 0)
		return -EINVAL;
	if ((v = json_object_get(spec, "localASNumber"))) {
		if (parse_u32(v, 1, UINT32_MAX, &n) < 0) {
			skip(r, "BGPPeer '%s': localASNumber is not 1..4294967295, peer skipped", name);
			return -EINVAL;
		}
		p->local_as = n;
		p->ebgp = p->as != n;
	}
	if ((v = json_object_get(spec, "numAllowedLocalASNumbers")) &&
	    parse_u32(v, 0, 255, &p->allow_local_as) < 0) {
		skip(r, "BGPPeer '%s': numAllowedLocalASNumbers is not 0..255, peer skipped", name);
		return -EINVAL;
	}
	if ((v = json_object_get(spec, "ttlSecurity")) &&
	    parse_u32(v, 0, 255, &p->ttl_security) < 0) {
		skip(r, "BGPPeer '%s': ttlSecurity is not 0..255 hops, peer skipped", name);
		return -EINVAL;
	}
	s = str_at(spec, "nextHopMode", NULL);
	if (s && strcmp(s, "Self") == 0)
		p->next_hop = NEXT_HOP_SELF;
	else if (s && strcmp(s, "Keep") == 0)
		p->next_hop = NEXT_HOP_KEEP;
	else if (s && strcmp(s, "Auto") != 0) {
		skip(r, "BGPPeer '%s': nextHopMode '%s' is not Auto, Self or Keep, peer skipped", name,
		     s);
		return -EINVAL;
	}
	/* As in Calico, keepOriginalNextHop applies to eBGP peers only. */
	if (!s && p->ebgp && json_is_true(json_object_get(spec, "keepOriginalNextHop")))
		p->next_hop = NEXT_HOP_KEEP;
	return 0;
}

/* Options of a BGPPeer applied to each session it makes; -EINVAL if bad. */
static int peer_options(struct render *r, const json_t *spec, const char *name, struct peer *p)
{
	char what[300];
	const char *s;

	snprintf(what, sizeof(what), "BGPPeer '%s'", name);
	if (peer_password(r, json_object_get(spec, "password"), what, p->password,
			  sizeof(p->password)) < 0 ||
	    peer_routing_options(r, spec, name, p) < 0)
		return -EINVAL;
	if ((s = str_at(spec, "keepaliveTime", NULL)) &&
	    (parse_duration_s(s, &p->keepalive_s) < 0 || p->keepalive_s < 1 ||
	     p->keepalive_s > 21845)) {
		skip(r, "BGPPeer '%s': keepaliveTime '%s' is not a duration of 1s..6h, peer skipped",
		     name, s);
		return -EINVAL;
	}
	if ((s = str_at(spec, "maxRestartTime", NULL)) &&
	    (parse_duration_s(s, &p->restart_s) < 0 || p->restart_s > 4095)) {
		skip(r, "BGPPeer '%s': maxRestartTime '%s' is not a duration up to 4095s, peer skipped",
		     name, s);
		return -EINVAL;
	}
	s = str_at(spec, "sourceAddress", NULL);
	if (!s || strcmp(s, "UseNodeIP") == 0) {
		snprintf(p->source, sizeof(p->source), "%s",
			 self_ip(&r->self, p->family));
	} else if (strcmp(s, "None") != 0) {
		skip(r, "BGPPeer '%s': sourceAddress '%s' is not UseNodeIP or None, peer skipped",
		     name, s);
		return -EINVAL;
	}
	if (json_is_boolean(json_object_get(spec, "bfdEnabled")))
		p->bfd = json_is_true(json_object_get(spec, "bfdEnabled"));
	return 0;
}

/* peerIP "ip", "ip:port", "[v6]:port". */
static int parse_peer_ip(const char *s, int *family, char ip[static INET6_ADDRSTRLEN],
			 unsigned *port)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon, *end;
	uint32_t p = 0;

	if (!s || strlen(s) >= sizeof(host) + 6)
		return -EINVAL;
	if (s[0] == '[') {
		end = strchr(s, ']');
		if (!end || (size_t)(end - s - 1) >= sizeof(host) || (end[1] && end[1] != ':'))
			return -EINVAL;
		memcpy(host, s + 1, (size_t)(end - s - 1));
		host[end - s - 1] = '\0';
		colon = end[1] ? end + 1 : NULL;
	} else if ((colon = strchr(s, ':')) && !strchr(colon + 1, ':')) {
		if ((size_t)(colon - s) >= sizeof(host))
			return -EINVAL;
		memcpy(host, s, (size_t)(colon - s));
		host[colon - s] = '\0';
	} else {
		colon = NULL;
		if (strlen(s) >= sizeof(host))
			return -EINVAL;
		strcpy(host, s);
	}
	if (colon && parse_u32_str(colon + 1, 1, 65535, &p) < 0)
		return -EINVAL;
	*port = p;
	return parse_ip(host, family, ip, NULL, NULL);
}

static bool selector_text_matches(struct render *r, const char *peer, const char *field,
				  const char *text, const json_t *labels, bool *ret)
{
	_cleanup_free_ char *err = NULL;
	struct selector *sel = NULL;

	if (selector_parse(text, &sel, &err) < 0) {
		skip(r, "BGPPeer '%s': %s '%s' is not a valid selector (%s), peer skipped", peer,
		     field, text, err ?: "parse error");
		return false;
	}
	*ret = selector_matches(sel, labels);
	selector_free(sel);
	return true;
}

/* Whether BGPPeer @spec applies to node @n: its node, its nodeSelector, or
 * (neither) every node. False also when the selector does not parse. */
static bool peer_applies_to(struct render *r, const json_t *spec, const char *name,
			    const char *node_name, const json_t *labels)
{
	const char *node = str_at(spec, "node", NULL), *nsel = str_at(spec, "nodeSelector", NULL);
	bool m = true;

	if (node && *node)
		return strcmp(node, node_name) == 0;
	if (nsel && *nsel && !selector_text_matches(r, name, "nodeSelector", nsel, labels, &m))
		return false;
	return m;
}

/* Sessions one BGPPeer makes from this node to the other Calico nodes it
 * picks: with @reverse, those it applies to (Calico's automatic reverse
 * peering, for a node its peerSelector picks), else those its peerSelector
 * picks. */
static void add_selected_peers(struct render *r, const json_t *spec, const char *name,
			       enum peer_kind kind, const char *sel, bool reverse)
{
	struct node_info n;
	size_t i;
	json_t *o;
	bool m;

	json_array_foreach(r->in->nodes, i, o) {
		struct peer *p;

		if (strcmp(obj_name(o), r->in->node) == 0 || node_info(r, o, &n) < 0)
			continue;
		if (reverse)
			m = peer_applies_to(r, spec, name, n.name, n.labels);
		else if (!selector_text_matches(r, name, "peerSelector", sel, n.labels, &m))
			return;
		if (!m)
			continue;
		/* One session per family both ends have an address of. */
		for (int family = AF_INET;; family = AF_INET6) {
			const char *ip = family == AF_INET ? n.ip4 : n.ip6;

			if (ip[0] && self_ip(&r->self, family)[0]) {
				p = peer_new(r, kind, family, ip, 0, n.as);
				if (!p)
					return;
				peer_to_node(r, p, &n);
				if (peer_options(r, spec, name, p) < 0) {
					r->n_peers--;
					return;
				}
			}
			if (family == AF_INET6)
				break;
		}
	}
}

static void add_bgppeer(struct render *r, const json_t *obj)
{
	const json_t *spec = json_object_get(obj, "spec");
	const char *name = obj_name(obj), *node = str_at(spec, "node", NULL);
	const char *nsel = str_at(spec, "nodeSelector", NULL), *psel;
	const json_t *labels = json_object_get(json_object_get(r->self.node, "metadata"), "labels");
	char ip[INET6_ADDRSTRLEN];
	unsigned char bin[16];
	struct peer *p;
	unsigned port;
	uint32_t as;
	int family;
	bool m;

	psel = str_at(spec, "peerSelector", NULL);
	enum peer_kind kind = (node && *node) || (nsel && *nsel) ? PEER_NODE : PEER_GLOBAL;
	if (psel && *psel) {
		const char *rev = str_at(spec, "reversePeering", NULL);

		if (rev && strcmp(rev, "Auto") != 0 && strcmp(rev, "Manual") != 0) {
			skip(r, "BGPPeer '%s': reversePeering '%s' is not Auto or Manual, peer skipped",
			     name, rev);
			return;
		}
		if (peer_applies_to(r, spec, name, r->in->node, labels))
			add_selected_peers(r, spec, name, kind, psel, false);
		/* Calico's reversePeering Auto (the default): a node the
		 * peerSelector picks peers back, so the session has two ends. */
		if ((!rev || strcmp(rev, "Auto") == 0) &&
		    selector_text_matches(r, name, "peerSelector", psel, labels, &m) && m)
			add_selected_peers(r, spec, name, kind, psel, true);
		return;
	}
	if (!peer_applies_to(r, spec, name, r->in->node, labels))
		return;
	if (parse_peer_ip(str_at(spec, "peerIP", NULL), &family, ip, &port) < 0) {
		skip(r, "BGPPeer '%s': peerIP '%s' is not an IP address (optionally :port), peer skipped",
		     name, str_at(spec, "peerIP", NULL) ?: "");
		return;
	}
	if (parse_u32(json_object_get(spec, "asNumber"), 1, UINT32_MAX, &as) < 0) {
		skip(r, "BGPPeer '%s': asNumber is not 1..4294967295, peer skipped", name);
		return;
	}
	if (!self_ip(&r->self, family)[0] || strcmp(ip, self_ip(&r->self, family)) == 0)
		return; /* ourselves, or a family this node has no address of */
	p = peer_new(r, kind, family, ip, port, as);
	if (!p)
		return;
	inet_pton(family, ip, bin);
	p->direct = same_subnet(&r->self, family, bin);
	p->bfd = r->self.bfd_default;
	if (peer_options(r, spec, name, p) < 0)
		r->n_peers--;
}

/* Explicit peers win over the mesh for the same address; then sort by name. */
static int peer_cmp_ip(const void *a, const void *b)
{
	const struct peer *x = a, *y = b;
	int c = strcmp(x->ip, y->ip);

	if (c)
		return c;
	if (x->kind != y->kind)
		return (int)y->kind - (int)x->kind;
	return x->port < y->port ? -1 : x->port > y->port;
}

static int peer_cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct peer *)a)->name, ((const struct peer *)b)->name);
}

static void dedupe_peers(struct render *r)
{
	size_t w = 0;

	if (!r->n_peers)
		return;
	qsort(r->peers, r->n_peers, sizeof(*r->peers), peer_cmp_ip);
	for (size_t i = 0; i < r->n_peers; i++) {
		const struct peer *prev = w ? &r->peers[w - 1] : NULL;

		if (prev && strcmp(prev->ip, r->peers[i].ip) == 0 && prev->port == r->peers[i].port)
			continue;
		/* One address has one route: sessions to it on other ports
		 * must agree on reachableBy. */
		if (prev && strcmp(prev->ip, r->peers[i].ip) == 0 &&
		    strcmp(prev->via, r->peers[i].via) != 0) {
			skip(r, "peer %s: reachableBy '%s' differs from '%s' of %s, peer skipped",
			     r->peers[i].name, r->peers[i].via, prev->via, prev->name);
			continue;
		}
		r->peers[w++] = r->peers[i];
	}
	r->n_peers = w;
	qsort(r->peers, r->n_peers, sizeof(*r->peers), peer_cmp_name);
}

/* --- pools, blocks, communities ------------------------------------------------ */

enum pool_set { POOLS_ALL, POOLS_EXPORTED };

/* A BIRD prefix set "[ a, b+ ]" printed one member at a time; an empty set
 * prints "[ ]" (matches nothing). */
struct set_printer {
	FILE *out;
	bool any;
};

static void set_add(struct set_printer *sp, const char *cidr, bool or_longer)
{
	fprintf(sp->out, "%s%s%s", sp->any ? ", " : "[ ", cidr, or_longer ? "+" : "");
	sp->any = true;
}

static void set_end(struct set_printer *sp)
{
	fputs(sp->any ? " ]" : "[ ]", sp->out);
}

/* allowedUses absent, or naming Workload or Tunnel: pods' or tunnels'
 * addresses, advertised as blocks (LoadBalancer-only pools are not). */
static bool pool_has_blocks(const json_t *spec)
{
	const json_t *uses = json_object_get(spec, "allowedUses"), *u;
	size_t i;

	if (!uses)
		return true;
	json_array_foreach(uses, i, u)
		if (strcmp(json_string_value(u) ?: "", "Workload") == 0 ||
		    strcmp(json_string_value(u) ?: "", "Tunnel") == 0)
			return true;
	return false;
}

/* The pools of @family (and their subnets); a disabled pool still counts:
 * disabling stops allocations, its pods keep their routes. */
static void print_pool_set(struct render *r, int family, enum pool_set which)
{
	struct set_printer sp = { .out = r->out };
	char cidr[INET6_ADDRSTRLEN + 4];
	const json_t *spec;
	size_t i;
	json_t *o;
	int f;

	json_array_foreach(r->in->ippools, i, o) {
		spec = json_object_get(o, "spec");
		if (parse_cidr(str_at(spec, "cidr", NULL), &f, cidr, sizeof(cidr)) < 0 ||
		    f != family ||
		    (which == POOLS_EXPORTED &&
		     (json_is_true(json_object_get(spec, "disableBGPExport")) || !pool_has_blocks(spec))))
			continue;
		set_add(&sp, cidr, true);
	}
	set_end(&sp);
}

static void check_pools(struct render *r)
{
	char cidr[INET6_ADDRSTRLEN + 4];
	size_t i;
	json_t *o;
	int f;

	json_array_foreach(r->in->ippools, i, o)
		if (parse_cidr(str_at(o, "spec", "cidr"), &f, cidr, sizeof(cidr)) < 0)
			skip(r, "IPPool '%s': cidr '%s' is not a CIDR, skipped", obj_name(o),
			     str_at(o, "spec", "cidr") ?: "");
}

/* Our blocks: as static blackhole routes (@sp NULL), each listed once, or as
 * members of the set @sp. */
static void print_blocks(struct render *r, int family, struct set_printer *sp)
{
	char cidr[PREFIX_STRLEN];

	for (size_t i = 0; i < r->in->n_blocks; i++) {
		if (r->in->blocks[i].family != family ||
		    prefix_format(&r->in->blocks[i], false, cidr, sizeof(cidr)) < 0)
			continue;
		if (sp)
			set_add(sp, cidr, false);
		else
			fprintf(r->out, "\troute %s blackhole;\n", cidr);
	}
}

static void print_borrowed(struct render *r, int family, struct set_printer *sp)
{
	char cidr[PREFIX_STRLEN];

	for (size_t i = 0; i < r->in->n_borrowed; i++)
		if (r->in->borrowed[i].family == family &&
		    prefix_format(&r->in->borrowed[i], false, cidr, sizeof(cidr)) == 0)
			set_add(sp, cidr, false);
}

/* Community value by name (BGPConfiguration.communities) or literal. */
static const char *community_value(const json_t *def, const char *ref)
{
	size_t i;
	json_t *c;

	json_array_foreach(json_object_get(def, "communities"), i, c)
		if (strcmp(str_at(c, "name", NULL) ?: "", ref) == 0)
			return str_at(c, "value", NULL);
	return ref;
}

/* prefixAdvertisements of this node's BGPConfiguration "node.<name>" if it
 * has any, else the default one's (as Calico); community names resolve in
 * that configuration, then in the default one. */
static void print_communities(struct render *r, int family)
{
	const json_t *def = bgpconfig(r, "default"), *cfg = def;
	char cidr[INET6_ADDRSTRLEN + 4], add[96], cfgname[300];
	const char *name = "default", *value;
	size_t i, j;
	json_t *adv, *c;
	int f;

	snprintf(cfgname, sizeof(cfgname), "node.%s", r->in->node);
	if (json_object_get(bgpconfig(r, cfgname), "prefixAdvertisements")) {
		cfg = bgpconfig(r, cfgname);
		name = cfgname;
	}
	json_array_foreach(json_object_get(cfg, "prefixAdvertisements"), i, adv) {
		if (parse_cidr(str_at(adv, "cidr", NULL), &f, cidr, sizeof(cidr)) < 0) {
			skip(r, "BGPConfiguration '%s': prefixAdvertisements[%zu].cidr is not a CIDR, skipped",
			     name, i);
			continue;
		}
		if (f != family)
			continue;
		fprintf(r->out, "\tif net ~ [ %s+ ] then {\n", cidr);
		json_array_foreach(json_object_get(adv, "communities"), j, c) {
			value = community_value(cfg, json_string_value(c) ?: "");
			if (value == json_string_value(c) && cfg != def)
				value = community_value(def, value);
			if (community_to_bird(value, add, sizeof(add)) < 0) {
				skip(r, "BGPConfiguration '%s': community '%s' is not a:b or a:b:c, skipped",
				     name, json_string_value(c) ?: "");
				continue;
			}
			fprintf(r->out, "\t\t%s\n", add);
		}
		fputs("\t}\n", r->out);
	}
}

/* --- service IPs -------------------------------------------------------------- */

/* Calico's service IP advertisement: the CIDRs of BGPConfiguration
 * serviceClusterIPs, serviceExternalIPs and serviceLoadBalancerIPs are
 * advertised by every node; a Service whose traffic must stay on nodes with
 * an endpoint (externalTrafficPolicy Local; internalTrafficPolicy Local for
 * its cluster IP) has its IPs inside those CIDRs advertised as /32 (/128)
 * only by nodes with a local ready endpoint. Blackholes in BIRD's static
 * protocol calico_services4/6, never installed in the kernel (kube-proxy
 * owns the dataplane). */

static const char *const service_ranges[] = { "serviceClusterIPs", "serviceExternalIPs",
					      "serviceLoadBalancerIPs" };

/* Is @ip inside one of the default BGPConfiguration's @field CIDRs? */
static bool in_service_range(const struct render *r, const char *field, const char *ip)
{
	unsigned char a[16], b[16];
	unsigned len, alen;
	size_t i;
	json_t *o;
	int f, g;

	if (parse_ip(ip, &f, (char[INET6_ADDRSTRLEN]){}, NULL, a) < 0)
		return false;
	json_array_foreach(json_object_get(bgpconfig(r, "default"), field), i, o) {
		if (parse_ip(str_at(o, "cidr", NULL), &g, (char[INET6_ADDRSTRLEN]){}, &len, b) < 0 ||
		    g != f)
			continue;
		alen = 0;
		while (alen < len && ((a[alen / 8] ^ b[alen / 8]) & (0x80 >> (alen % 8))) == 0)
			alen++;
		if (alen == len)
			return true;
	}
	return false;
}

/* A ready endpoint of Service @ns/@name on this node (EndpointSlices; an
 * absent ready condition counts as ready, as Kubernetes says). */
static bool service_has_local_endpoint(const struct render *r, const char *ns, const char *name)
{
	size_t i, j;
	json_t *s, *e;

	json_array_foreach(r->in->endpointslices, i, s) {
		const json_t *md = json_object_get(s, "metadata");

		if (strcmp(str_at(md, "namespace", NULL) ?: "", ns) != 0 ||
		    strcmp(json_string_value(json_object_get(json_object_get(md, "labels"),
							     "kubernetes.io/service-name")) ?: "",
			   name) != 0)
			continue;
		json_array_foreach(json_object_get(s, "endpoints"), j, e)
			if (strcmp(str_at(e, "nodeName", NULL) ?: "", r->in->node) == 0 &&
			    !json_is_false(json_object_get(json_object_get(e, "conditions"), "ready")))
				return true;
	}
	return false;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds "ip/32" (or /128) to @hosts when @ip is of @family and in @field. */
static void add_service_host(const struct render *r, int family, const char *field,
			     const char *ip, struct array *hosts)
{
	char buf[INET6_ADDRSTRLEN], *host;
	int f;

	if (!ip || parse_ip(ip, &f, buf, NULL, NULL) < 0 || f != family ||
	    !in_service_range(r, field, buf) || hosts->n >= MAX_PEERS ||
	    asprintf(&host, "%s/%u", buf, family == AF_INET ? 32 : 128) < 0)
		return;
	if (array_append(hosts, &host) < 0)
		free(host);
}

/* The /32s (/128s) this node advertises for its Local services, sorted, into
 * @hosts (an array of char *, each the caller's to free). */
static void collect_service_hosts(const struct render *r, int family, struct array *hosts)
{
	size_t i, j;
	json_t *svc, *ip;

	json_array_foreach(r->in->services, i, svc) {
		const json_t *spec = json_object_get(svc, "spec");
		bool ext = strcmp(str_at(spec, "externalTrafficPolicy", NULL) ?: "", "Local") == 0;
		bool in = strcmp(str_at(spec, "internalTrafficPolicy", NULL) ?: "", "Local") == 0;

		if ((!ext && !in) ||
		    !service_has_local_endpoint(r, str_at(svc, "metadata", "namespace") ?: "",
						obj_name(svc)))
			continue;
		json_array_foreach(json_object_get(spec, "clusterIPs"), j, ip)
			add_service_host(r, family, service_ranges[0], json_string_value(ip), hosts);
		if (!json_object_get(spec, "clusterIPs"))
			add_service_host(r, family, service_ranges[0], str_at(spec, "clusterIP", NULL),
					 hosts);
		if (!ext)
			continue;
		json_array_foreach(json_object_get(spec, "externalIPs"), j, ip)
			add_service_host(r, family, service_ranges[1], json_string_value(ip), hosts);
		json_array_foreach(json_object_get(json_object_get(json_object_get(svc, "status"),
								   "loadBalancer"),
						   "ingress"),
				   j, ip)
			add_service_host(r, family, service_ranges[2], str_at(ip, "ip", NULL), hosts);
	}
	if (hosts->n)
		qsort(hosts->items, hosts->n, hosts->size, str_cmp);
}

/* "protocol static calico_services<v>" when service advertisement is
 * configured for @family; false (nothing printed) otherwise. */
static bool print_services(struct render *r, int family)
{
	char cidr[INET6_ADDRSTRLEN + 4], **hosts;
	struct array a = ARRAY_INIT(char *);
	const char *v = family == AF_INET ? "4" : "6";
	bool any = false;
	size_t i, j;
	json_t *o;
	int f;

	for (i = 0; i < ELEMENTSOF(service_ranges); i++)
		json_array_foreach(json_object_get(bgpconfig(r, "default"), service_ranges[i]), j, o) {
			if (parse_cidr(str_at(o, "cidr", NULL), &f, cidr, sizeof(cidr)) < 0) {
				skip(r, "BGPConfiguration 'default': %s[%zu].cidr is not a CIDR, skipped",
				     service_ranges[i], j);
				continue;
			}
			if (f != family)
				continue;
			if (!any)
				fprintf(r->out, "\nprotocol static calico_services%s {\n\tipv%s;\n", v, v);
			any = true;
			fprintf(r->out, "\troute %s blackhole;\n", cidr);
		}
	if (!any)
		return false;
	collect_service_hosts(r, family, &a);
	hosts = a.items;
	for (i = 0; i < a.n; i++) {
		if (i == 0 || strcmp(hosts[i], hosts[i - 1]) != 0)
			fprintf(r->out, "\troute %s blackhole;\n", hosts[i]);
	}
	for (i = 0; i < a.n; i++)
		free(hosts[i]);
	free(hosts);
	fputs("}\n", r->out);
	return true;
}

/* --- printing ---------------------------------------------------------------- */

/* ignoredInterfaces of "node.<name>" if set, else of the default one: no
 * interface routes from them (kube-ipvs* carries every cluster IP). */
static void print_ignored_interfaces(struct render *r)
{
	char cfgname[300];
	const json_t *list;
	size_t i;
	json_t *o;

	snprintf(cfgname, sizeof(cfgname), "node.%s", r->in->node);
	list = json_object_get(bgpconfig(r, cfgname), "ignoredInterfaces") ?:
		       json_object_get(bgpconfig(r, "default"), "ignoredInterfaces");
	json_array_foreach(list, i, o) {
		if (!ifpattern_is_valid(json_string_value(o))) {
			skip(r, "BGPConfiguration: ignoredInterfaces[%zu] is not an interface name or pattern, skipped",
			     i);
			continue;
		}
		fprintf(r->out, "-\"%s\", ", json_string_value(o));
	}
}

enum filter_kind { FILTER_IMPORT, FILTER_EXPORT, FILTER_REFLECT };

static const char *const filter_kind_name[] = {
	[FILTER_IMPORT] = "import",
	[FILTER_EXPORT] = "export",
	[FILTER_REFLECT] = "reflect",
};

static void print_filter_body(struct render *r, int family, enum filter_kind k)
{
	const char *v = family == AF_INET ? "4" : "6";
	struct set_printer sp = { .out = r->out };
	bool svc = r->services[family == AF_INET ? 0 : 1];

	if (k == FILTER_IMPORT) {
		fputs("\tif net ~ ", r->out);
		print_pool_set(r, family, POOLS_ALL);
		fputs(" then accept;\n\treject;\n", r->out);
		return;
	}
	if (svc) /* service IPs: not in pools, advertised as they are */
		fprintf(r->out, "\tif proto != \"calico_services%s\" then {\n", v);
	fprintf(r->out, "%s\tif !(net ~ ", svc ? "\t" : "");
	print_pool_set(r, family, POOLS_EXPORTED);
	fputs(") then reject;\n", r->out);
	if (k == FILTER_REFLECT)
		fprintf(r->out, "%s\tif source = RTS_BGP then accept;\n", svc ? "\t" : "");
	fprintf(r->out, "%s\tif !(proto = \"calico_blocks%s\" || (proto = \"kernel%s\" && net ~ ",
		svc ? "\t" : "", v, v);
	print_borrowed(r, family, &sp);
	set_end(&sp);
	fputs(")) then reject;\n", r->out);
	if (svc)
		fputs("\t}\n", r->out);
	print_communities(r, family); /* on blocks, borrowed /32s and service IPs alike */
	fputs("\taccept;\n", r->out);
}

/* "filter calico_<kind><v>", or, for peer @p with BGPFilters,
 * "filter <peer>_<kind><v>" calling those first; on import, our own
 * blocks and borrowed /32s are refused before anything else (no BGPFilter
 * can start the flap loop). */
static void print_filter(struct render *r, int family, enum filter_kind k, const struct peer *p)
{
	const char *v = family == AF_INET ? "4" : "6", *dir = k == FILTER_IMPORT ? "import" : "export";
	struct set_printer sp = { .out = r->out };
	char fn[64];
	size_t i;
	json_t *name;

	if (p)
		fprintf(r->out, "\nfilter %s_%s%s {\n", p->name, filter_kind_name[k], v);
	else
		fprintf(r->out, "filter calico_%s%s {\n", filter_kind_name[k], v);
	if (k == FILTER_IMPORT) {
		fputs("\tif net ~ ", r->out);
		print_blocks(r, family, &sp);
		print_borrowed(r, family, &sp);
		set_end(&sp);
		fputs(" then reject;\n", r->out);
	}
	json_array_foreach(p ? p->filters : NULL, i, name) {
		snprintf(fn, sizeof(fn), "%sV%s", dir, v);
		if (json_array_size(json_object_get(
			    json_object_get(find_by_name(r->in->bgpfilters, json_string_value(name)),
					    "spec"),
			    fn)))
			fprintf(r->out, "\t'bgpfilter_%s_%s%s'();\n", json_string_value(name), dir, v);
	}
	print_filter_body(r, family, k);
	fputs("}\n", r->out);
}

/* Whether a peer of @family has a reachableBy route. */
static bool has_peer_routes(const struct render *r, int family)
{
	for (size_t i = 0; i < r->n_peers; i++)
		if (r->peers[i].family == family && r->peers[i].via[0])
			return true;
	return false;
}

/* Whether a peer before @i has @i's address and a reachableBy route. */
static bool peer_route_printed(const struct render *r, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (r->peers[j].via[0] && strcmp(r->peers[j].ip, r->peers[i].ip) == 0)
			return true;
	return false;
}

/* "protocol static calico_peers<v>": each reachableBy peer's exact address
 * via its gateway, once per address (deduplication left one gateway per
 * address). */
static void print_peer_routes(struct render *r, int family)
{
	const char *v = family == AF_INET ? "4" : "6";

	fprintf(r->out, "\n# BGPPeer reachableBy: the peer's address via its gateway (never exported).\n"
			"protocol static calico_peers%s {\n\tipv%s;\n", v, v);
	for (size_t i = 0; i < r->n_peers; i++) {
		const struct peer *p = &r->peers[i];

		if (p->family == family && p->via[0] && !peer_route_printed(r, i))
			fprintf(r->out, "\troute %s/%s via %s;\n", p->ip,
				family == AF_INET ? "32" : "128", p->via);
	}
	fputs("}\n", r->out);
}

static void print_family(struct render *r, int family)
{
	const char *v = family == AF_INET ? "4" : "6";
	bool peer_routes = has_peer_routes(r, family);

	/* The kernel gets BGP routes and the reachableBy routes: the session's
	 * own packets must follow the gateway. */
	fprintf(r->out, "\nprotocol kernel kernel%s {\n\tlearn;\n\tmerge paths on;\n"
			"\tgraceful restart on;\n\tscan time 10;\n\tipv%s {\n"
			"\t\timport filter { if krt_source = %d then accept; reject; };\n"
			"\t\texport filter { if source = RTS_BGP%s%s%s then accept; reject; };\n\t};\n}\n",
		v, v, NL_RTPROT_CALICO, peer_routes ? " || proto = \"calico_peers" : "",
		peer_routes ? v : "", peer_routes ? "\"" : "");
	fprintf(r->out, "\nprotocol static calico_blocks%s {\n\tipv%s;\n", v, v);
	print_blocks(r, family, NULL);
	fputs("}\n", r->out);
	if (peer_routes)
		print_peer_routes(r, family);
	r->services[family == AF_INET ? 0 : 1] = print_services(r, family);

	fputs("\n# Routes inside the IP pools, but never our own blocks and borrowed\n"
	      "# addresses coming back from a peer.\n", r->out);
	print_filter(r, family, FILTER_IMPORT, NULL);
	fputs("\n# Advertise our blocks and borrowed addresses inside exported pools.\n", r->out);
	print_filter(r, family, FILTER_EXPORT, NULL);
	if (r->self.cluster_id[0]) {
		fputs("\n# A route reflector also reflects pool routes it learned.\n", r->out);
		print_filter(r, family, FILTER_REFLECT, NULL);
	}
}

/* Addresses, ports, ASes and how the session is carried. */
static void print_peer_transport(struct render *r, const struct peer *p)
{
	const char *local = self_ip(&r->self, p->family);
	FILE *o = r->out;

	fprintf(o, "\tlocal %s", local);
	if (r->self.listen_port)
		fprintf(o, " port %u", r->self.listen_port);
	fprintf(o, " as %u;\n\tneighbor %s", p->local_as ?: r->self.as, p->ip);
	if (p->port)
		fprintf(o, " port %u", p->port);
	fprintf(o, " as %u;\n", p->as);
	if (p->ttl_security) /* GTSM: the number of hops to the peer */
		fprintf(o, "\tttl security on;\n\tmultihop %u;\n", p->ttl_security);
	else if (p->direct)
		fputs("\tdirect;\n", o);
	else
		fputs("\tmultihop;\n", o);
	if (p->passive)
		fputs("\tpassive on;\n", o);
	if (r->self.bind_node_ip)
		fputs("\tstrict bind on;\n", o);
	if (p->allow_local_as)
		fprintf(o, "\tallow local as %u;\n", p->allow_local_as);
	if (r->in->connect_retry_s)
		fprintf(o, "\tconnect delay time %u;\n\tconnect retry time %u;\n\terror wait time %u, %u;\n",
			r->in->connect_retry_s, r->in->connect_retry_s, r->in->connect_retry_s,
			10 * r->in->connect_retry_s);
	if (p->password[0])
		fprintf(o, "\tpassword \"%s\";\n", p->password);
	if (p->source[0])
		fprintf(o, "\tsource address %s;\n", p->source);
	if (p->bfd)
		fputs("\tbfd on;\n", o);
}

static void print_peer(struct render *r, const struct peer *p)
{
	const char *v = p->family == AF_INET ? "4" : "6";
	bool reflect = r->self.cluster_id[0] && !p->ebgp;
	FILE *o = r->out;

	if (p->filters) {
		print_filter(r, p->family, FILTER_IMPORT, p);
		print_filter(r, p->family, reflect ? FILTER_REFLECT : FILTER_EXPORT, p);
	}
	fprintf(o, "\nprotocol bgp %s {\n", p->name);
	print_peer_transport(r, p);
	if (p->rr_client && !p->ebgp)
		fprintf(o, "\trr client;\n\trr cluster id %s;\n", r->self.cluster_id);
	fprintf(o, "\tgraceful restart on;\n\tgraceful restart time %u;\n",
		p->restart_s ? p->restart_s : 120);
	if (p->keepalive_s)
		fprintf(o, "\tkeepalive time %u;\n\thold time %u;\n", p->keepalive_s,
			3 * p->keepalive_s);
	if (p->filters)
		fprintf(o, "\tipv%s {\n\t\timport filter %s_import%s;\n\t\texport filter %s_%s%s;\n", v,
			p->name, v, p->name, reflect ? "reflect" : "export", v);
	else
		fprintf(o, "\tipv%s {\n\t\timport filter calico_import%s;\n\t\texport filter calico_%s%s;\n",
			v, v, reflect ? "reflect" : "export", v);
	if (p->next_hop == NEXT_HOP_KEEP)
		fputs("\t\tnext hop keep;\n", o);
	else if (p->next_hop == NEXT_HOP_SELF || !reflect)
		fputs("\t\tnext hop self;\n", o);
	fputs("\t};\n}\n", o);
}

static void print_config(struct render *r)
{
	bool bfd = false;

	fprintf(r->out, "# BIRD 2 configuration rendered by calico-c. Do not edit: it is rewritten.\n"
			"router id %s;\n",
		r->self.router_id);
	if (r->self.log_severity)
		fprintf(r->out, "log stderr %s;\n", r->self.log_severity);
	if (r->self.log_severity == log_levels[0][1])
		fputs("debug protocols all;\n", r->out);
	fputs("\nprotocol device {\n\tscan time 10;\n}\n", r->out);
	fprintf(r->out, "\n# Interface routes, so multihop next hops resolve.\nprotocol direct {\n"
			"%s%s\tinterface -\"cali*\", -\"kube-ipvs*\", ",
		r->self.ip4[0] ? "\tipv4;\n" : "", r->self.ip6[0] ? "\tipv6;\n" : "");
	print_ignored_interfaces(r);
	fputs("\"*\";\n}\n", r->out);
	print_bgpfilters(r);
	if (r->self.ip4[0])
		print_family(r, AF_INET);
	if (r->self.ip6[0])
		print_family(r, AF_INET6);
	for (size_t i = 0; i < r->n_peers; i++)
		bfd |= r->peers[i].bfd;
	if (bfd)
		fputs("\nprotocol bfd calico_bfd {\n\tinterface \"*\" {\n\t\tmin rx interval 100 ms;\n"
		      "\t\tmin tx interval 100 ms;\n\t\tmultiplier 3;\n\t};\n}\n",
		      r->out);
	for (size_t i = 0; i < r->n_peers; i++)
		print_peer(r, &r->peers[i]);
}

int birdcfg_render(const struct birdcfg_input *in, char **ret_text,
		   struct birdcfg_errors *ret_errors)
{
	struct birdcfg_errors errs = {};
	struct render r = { .in = in, .errs = &errs };
	_cleanup_free_ char *text = NULL;
	size_t len = 0, i;
	json_t *o;
	int q;

	q = load_self(&r);
	if (q < 0) {
		birdcfg_errors_done(&errs);
		return q;
	}
	check_pools(&r);
	add_mesh(&r);
	json_array_foreach(in->bgppeers, i, o)
		add_bgppeer(&r, o);
	dedupe_peers(&r);

	r.out = open_memstream(&text, &len);
	if (!r.out) {
		free(r.peers);
		birdcfg_errors_done(&errs);
		return -ENOMEM;
	}
	print_config(&r);
	free(r.peers);
	if (fclose(r.out) != 0) {
		birdcfg_errors_done(&errs);
		return -ENOMEM;
	}
	*ret_text = TAKE_PTR(text);
	*ret_errors = errs;
	return 0;
}

/* The node's blocks among the document's BlockAffinities. */
static int blocks_from_json(const json_t *affs, const char *node, struct in_prefix **ret,
			    size_t *ret_n)
{
	_cleanup_free_ struct in_prefix *v = calloc(json_array_size(affs) + 1, sizeof(*v));
	size_t i, n = 0;
	json_t *o;

	if (!v)
		return -ENOMEM;
	json_array_foreach(affs, i, o) {
		int r = blockaff_node_block(o, node, &v[n]);

		if (r < 0)
			return r;
		n += r;
	}
	*ret = TAKE_PTR(v);
	*ret_n = n;
	return 0;
}

static int borrowed_from_json(const json_t *arr, struct in_prefix **ret, size_t *ret_n)
{
	_cleanup_free_ struct in_prefix *v = calloc(json_array_size(arr) + 1, sizeof(*v));
	size_t i;
	json_t *o;

	if (!v)
		return -ENOMEM;
	json_array_foreach(arr, i, o)
		if (prefix_parse(json_string_value(o), PREFIX_CLEAR_HOST, &v[i]) < 0)
			return -EINVAL;
	*ret = TAKE_PTR(v);
	*ret_n = json_array_size(arr);
	return 0;
}

int birdcfg_input_from_json(json_t *doc, struct birdcfg_input *ret)
{
	static const struct {
		const char *key;
		size_t off;
	} arrays[] = {
		{ "nodes", offsetof(struct birdcfg_input, nodes) },
		{ "bgpconfigurations", offsetof(struct birdcfg_input, bgpconfigurations) },
		{ "bgppeers", offsetof(struct birdcfg_input, bgppeers) },
		{ "bgpfilters", offsetof(struct birdcfg_input, bgpfilters) },
		{ "secrets", offsetof(struct birdcfg_input, secrets) },
		{ "ippools", offsetof(struct birdcfg_input, ippools) },
		{ "services", offsetof(struct birdcfg_input, services) },
		{ "endpointslices", offsetof(struct birdcfg_input, endpointslices) },
	};
	struct birdcfg_input in = { .node = json_string_value(json_object_get(doc, "node")) };
	const json_t *affs = json_object_get(doc, "blockaffinities");
	const json_t *borrowed = json_object_get(doc, "borrowed");
	struct in_prefix *blocks = NULL, *bor = NULL;
	int r;

	if (!in.node || !*in.node || (affs && !json_is_array(affs)) ||
	    (borrowed && !json_is_array(borrowed)))
		return -EINVAL;
	for (size_t i = 0; i < ELEMENTSOF(arrays); i++) {
		json_t *a = json_object_get(doc, arrays[i].key);

		if (a && !json_is_array(a))
			return -EINVAL;
		*(json_t **)((char *)&in + arrays[i].off) = a;
	}
	r = blocks_from_json(affs, in.node, &blocks, &in.n_blocks);
	if (r < 0)
		return r;
	r = borrowed_from_json(borrowed, &bor, &in.n_borrowed);
	if (r < 0) {
		free(blocks);
		return r;
	}
	in.blocks = blocks;
	in.borrowed = bor;
	*ret = in;
	return 0;
}

void birdcfg_input_done(struct birdcfg_input *in)
{
	free((void *)in->blocks);
	free((void *)in->borrowed);
	in->blocks = in->borrowed = NULL;
	in->n_blocks = in->n_borrowed = 0;
}
