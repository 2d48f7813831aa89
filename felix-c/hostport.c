/* hostPort DNAT (see hostport.h): the nat table's hostPort objects from the
 * local pods' hostPorts, computed without I/O. Mappings are sorted by their
 * key (hostIP, protocol, port) so equal keys are neighbours: one pod asking
 * twice is one mapping, two pods asking for one key is a conflict.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "felix-c/hostport.h"
#include "felix-c/manager.h"
#include "ifname.h"
#include "policy/model.h"
#include "policy/nftstate.h"

#define PRIO_DSTNAT (-100) /* NF_IP_PRI_NAT_DST: nft's "dstnat" */
#define PRIO_SRCNAT 100	   /* NF_IP_PRI_NAT_SRC: "srcnat" */
#define PRIO_MANGLE (-150) /* NF_IP_PRI_MANGLE: "mangle", before dstnat */

struct match_spec {
	enum policy_match_kind kind;
	uint32_t value;
	const char *arg;
};

static int add_rule(struct policy_nft_chain *c, const char *label, const struct match_spec *m,
		    size_t n_match, enum policy_verdict verdict, const char *target)
{
	struct policy_nft_rule *rule = policy_nft_rule_new();
	int r = 0;

	if (!rule)
		return -ENOMEM;
	/* a DNAT rule's counter would count every local connection */
	rule->counter = verdict == POLICY_VERDICT_MASQUERADE || verdict == POLICY_VERDICT_DROP;
	rule->verdict = verdict;
	if (target && !(rule->target = strdup(target)))
		r = -ENOMEM;
	for (size_t i = 0; r == 0 && i < n_match; i++)
		r = policy_nft_rule_match(rule, m[i].kind, AF_INET, m[i].value, m[i].arg);
	if (r == 0)
		r = policy_nft_rule_seal(rule, label);
	if (r < 0) {
		policy_nft_rule_free(rule);
		return r;
	}
	return policy_nft_chain_append(c, rule);
}

static int add_chain(struct policy_nft *t, const char *name, bool nat, uint32_t hook,
		     int32_t prio, struct policy_nft_chain **ret)
{
	int r = policy_nft_chain_add(t, name, ret);

	if (r < 0 || hook == NF_INET_NUMHOOKS)
		return r;
	(*ret)->base = true;
	(*ret)->nat = nat;
	(*ret)->hooknum = hook;
	(*ret)->prio = prio;
	(*ret)->policy = NF_ACCEPT;
	return 0;
}

static int add_chains(struct policy_nft *t)
{
	static const struct match_spec local[] = { { POLICY_MATCH_FIB_LOCAL, 0, NULL } };
	static const struct match_spec from_lo[] = {
		{ POLICY_MATCH_CT_STATUS, POLICY_CT_STATUS_DNAT, NULL },
		{ POLICY_MATCH_SADDR, 0, HOSTPORT_SET_LOOPBACK },
	};
	static const struct match_spec hairpin[] = {
		{ POLICY_MATCH_CT_STATUS, POLICY_CT_STATUS_DNAT, NULL },
		{ POLICY_MATCH_SADDR_DADDR, 0, HOSTPORT_SET_HAIRPIN },
	};
	static const struct match_spec to_lo[] = {
		{ POLICY_MATCH_IIF_PREFIX, 0, IFNAME_HOST_PREFIX },
		{ POLICY_MATCH_DADDR, 0, HOSTPORT_SET_LOOPBACK },
	};
	struct policy_nft_chain *c;
	int r;

	r = add_chain(t, HOSTPORT_CHAIN_DNAT, true, NF_INET_NUMHOOKS, 0, &c);
	if (r == 0)
		r = add_rule(c, "hostPort on its hostIP", NULL, 0, POLICY_VERDICT_DNAT_DADDR_MAP,
			     HOSTPORT_MAP);
	if (r == 0)
		r = add_rule(c, "hostPort on every address", NULL, 0, POLICY_VERDICT_DNAT_PORT_MAP,
			     HOSTPORT_MAP_ANY);
	if (r == 0)
		r = add_chain(t, HOSTPORT_CHAIN_PREROUTING, true, NF_INET_PRE_ROUTING, PRIO_DSTNAT, &c);
	if (r == 0)
		r = add_rule(c, "hostPort arriving", local, 1, POLICY_VERDICT_JUMP,
			     HOSTPORT_CHAIN_DNAT);
	if (r == 0)
		r = add_chain(t, HOSTPORT_CHAIN_OUTPUT, true, NF_INET_LOCAL_OUT, PRIO_DSTNAT, &c);
	if (r == 0)
		r = add_rule(c, "hostPort from this node", local, 1, POLICY_VERDICT_JUMP,
			     HOSTPORT_CHAIN_DNAT);
	if (r == 0)
		r = add_chain(t, HOSTPORT_CHAIN_POSTROUTING, true, NF_INET_POST_ROUTING, PRIO_SRCNAT,
			      &c);
	if (r == 0)
		r = add_rule(c, "hostPort from localhost", from_lo, ELEMENTSOF(from_lo),
			     POLICY_VERDICT_MASQUERADE, NULL);
	if (r == 0)
		r = add_rule(c, "hostPort hairpin", hairpin, ELEMENTSOF(hairpin),
			     POLICY_VERDICT_MASQUERADE, NULL);
	if (r == 0)
		r = add_chain(t, HOSTPORT_CHAIN_LOCALNET, false, NF_INET_PRE_ROUTING, PRIO_MANGLE, &c);
	if (r == 0)
		r = add_rule(c, "workload to 127.0.0.0/8", to_lo, ELEMENTSOF(to_lo),
			     POLICY_VERDICT_DROP, NULL);
	return r;
}

/* Orders by hostIP (every address last), protocol, port. */
static int cmp_key(const void *x, const void *y)
{
	const struct felix_host_port *a = *(const struct felix_host_port *const *)x;
	const struct felix_host_port *b = *(const struct felix_host_port *const *)y;
	int c;

	if (a->any_ip != b->any_ip)
		return a->any_ip ? 1 : -1;
	c = a->any_ip ? 0 : memcmp(a->host_ip, b->host_ip, 4);
	if (c)
		return c;
	if (a->proto != b->proto)
		return a->proto < b->proto ? -1 : 1;
	return a->host_port < b->host_port ? -1 : a->host_port > b->host_port;
}

/* Key order, then pod and target: equal keys list their pods in one
 * order on every reconcile (the conflict text is said once per change). */
static int cmp_sort(const void *x, const void *y)
{
	const struct felix_host_port *a = *(const struct felix_host_port *const *)x;
	const struct felix_host_port *b = *(const struct felix_host_port *const *)y;
	int c = cmp_key(x, y);

	if (c == 0)
		c = strcmp(a->pod->ns, b->pod->ns);
	if (c == 0)
		c = strcmp(a->pod->name, b->pod->name);
	if (c == 0)
		c = memcmp(a->pod_ip, b->pod_ip, 4);
	if (c == 0)
		c = a->container_port < b->container_port ? -1 : a->container_port > b->container_port;
	return c;
}

static bool same_target(const struct felix_host_port *a, const struct felix_host_port *b)
{
	return memcmp(a->pod_ip, b->pod_ip, 4) == 0 && a->container_port == b->container_port;
}

static int put_mapping(struct policy_nft *t, const struct felix_host_port *h)
{
	uint16_t hp = htons(h->host_port), cp = htons(h->container_port);
	size_t at = h->any_ip ? 0 : 4;
	uint8_t e[13], pair[8];
	int r;

	memcpy(e, h->host_ip, at);
	e[at] = h->proto;
	memcpy(e + at + 1, &hp, 2);
	memcpy(e + at + 3, h->pod_ip, 4);
	memcpy(e + at + 7, &cp, 2);
	r = policy_nft_elem_ref(policy_nft_set_get(t, h->any_ip ? HOSTPORT_MAP_ANY : HOSTPORT_MAP), e,
				at + 9, NULL);
	memcpy(pair, h->pod_ip, 4);
	memcpy(pair + 4, h->pod_ip, 4);
	return r < 0 ? r : policy_nft_elem_ref(policy_nft_set_get(t, HOSTPORT_SET_HAIRPIN), pair,
					       sizeof(pair), NULL);
}

static const char *proto_name(uint8_t p)
{
	return p == IPPROTO_UDP ? "UDP" : p == IPPROTO_SCTP ? "SCTP" : "TCP";
}

/* "TCP/80 on 10.0.0.1: 'ns/a' 'ns/b'; " for the @n mappings of one key. */
static void describe_conflict(FILE *f, const struct felix_host_port *const *v, size_t n)
{
	char ip[INET_ADDRSTRLEN] = "every address";

	if (!v[0]->any_ip)
		inet_ntop(AF_INET, v[0]->host_ip, ip, sizeof(ip));
	fprintf(f, "%s%s/%u on %s:", ftell(f) ? "; " : "", proto_name(v[0]->proto), v[0]->host_port,
		ip);
	for (size_t i = 0; i < n; i++)
		fprintf(f, " '%s/%s'", v[i]->pod->ns, v[i]->pod->name);
}

static int add_sets(struct policy_nft *t)
{
	static const uint8_t loopback[8] = { 127, 0, 0, 0, 127, 255, 255, 255 };
	struct policy_nft_set *s;
	int r;

	r = policy_nft_set_add(t, HOSTPORT_MAP, POLICY_SET_DNAT4, &s);
	if (r == 0)
		r = policy_nft_set_add(t, HOSTPORT_MAP_ANY, POLICY_SET_DNATANY4, &s);
	if (r == 0)
		r = policy_nft_set_add(t, HOSTPORT_SET_HAIRPIN, POLICY_SET_PAIR4, &s);
	if (r == 0)
		r = policy_nft_set_add(t, HOSTPORT_SET_LOOPBACK, POLICY_SET_RANGE4, &s);
	return r < 0 ? r : policy_nft_elem_ref(s, loopback, sizeof(loopback), NULL);
}

int hostport_desired_add(struct policy_nft *t, const struct felix_host_port *v, size_t n,
			 char **ret_conflicts)
{
	_cleanup_free_ const struct felix_host_port **s = calloc(n + 1, sizeof(*s));
	_cleanup_free_ char *text = NULL;
	_cleanup_fclose_ FILE *f = NULL;
	size_t len = 0, j;
	int r, count = 0;

	if (!s)
		return -ENOMEM;
	r = add_sets(t);
	if (r == 0)
		r = add_chains(t);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		s[i] = &v[i];
	qsort(s, n, sizeof(*s), cmp_sort);
	for (size_t i = 0; i < n; i = j) {
		bool conflict = false;

		for (j = i + 1; j < n && cmp_key(&s[i], &s[j]) == 0; j++)
			conflict |= !same_target(s[i], s[j]);
		if (!conflict) {
			r = put_mapping(t, s[i]);
			if (r < 0)
				return r;
			count++;
			continue;
		}
		if (!f && !(f = open_memstream(&text, &len)))
			return -ENOMEM;
		describe_conflict(f, s + i, j - i);
	}
	if (f && fclose(TAKE_PTR(f)) != 0)
		return -ENOMEM;
	*ret_conflicts = TAKE_PTR(text);
	return count;
}
