/* Calico's policy model compiled into the table, checked by what the table
 * DOES: a small evaluator walks the compiled chains, sets and verdict maps
 * for a packet between two pods (or from an outside address) the way the
 * forward hook does, so each test states Calico's semantics as allowed /
 * denied outcomes (order, Deny/Allow/Pass, tiers and their default action,
 * selectors, namespaceSelector, serviceAccounts, network sets, nets,
 * ports, protocols, ICMP, types), plus parsing errors and the fail-closed
 * stand-in. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
/* after <netinet/in.h>: the kernel's header defers to glibc's definitions */
#include <linux/netfilter.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "cleanup.h"
#include "labelsel.h"
#include "policy/calico.h"
#include "policy/cnp.h"
#include "policy/compile.h"
#include "policy/explain.h"
#include "policy/failsafe.h"
#include "policy/model.h"
#include "policy/nftstate.h"
#include "policy/plan.h"
#include "prefix.h"

/* ---- the evaluator ---- */

struct pkt {
	int family;
	uint8_t saddr[16], daddr[16];
	uint8_t proto;
	uint16_t sport, dport;
	uint8_t icmp_type, icmp_code;
	char iif[16], oif[16];
	uint32_t mark;
	bool untracked; /* a rule said notrack */
};

enum ev { EV_CONTINUE, EV_ACCEPT, EV_DROP };

static bool set_has_addr(const struct policy_nft_set *s, const uint8_t *a, size_t al)
{
	void *v;

	for (size_t i = 0; policy_hmap_next((struct policy_hmap *)&s->elems, &i, &v);) {
		const struct policy_elem *e = v;

		if ((s->kind == POLICY_SET_ADDR4 || s->kind == POLICY_SET_ADDR6) &&
		    memcmp(e->data, a, al) == 0)
			return true;
		if ((s->kind == POLICY_SET_RANGE4 || s->kind == POLICY_SET_RANGE6) &&
		    memcmp(e->data, a, al) <= 0 && memcmp(a, e->data + al, al) <= 0)
			return true;
	}
	return false;
}

static bool set_has_port(const struct policy_nft_set *s, uint8_t proto, uint16_t port)
{
	void *v;

	for (size_t i = 0; policy_hmap_next((struct policy_hmap *)&s->elems, &i, &v);) {
		const struct policy_elem *e = v;
		uint16_t first = (uint16_t)(e->data[1] << 8 | e->data[2]);
		uint16_t last = (uint16_t)(e->data[3] << 8 | e->data[4]);

		if (e->data[0] == proto && first <= port && port <= last)
			return true;
	}
	return false;
}

static const char *vmap_target(const struct policy_nft_set *s, const char *ifname)
{
	static char chain[128];
	void *v;

	for (size_t i = 0; policy_hmap_next((struct policy_hmap *)&s->elems, &i, &v);) {
		const struct policy_elem *e = v;

		if (strncmp((const char *)e->data, ifname, 16) == 0) {
			snprintf(chain, sizeof(chain), "%.*s", (int)(e->len - 16), e->data + 16);
			return chain;
		}
	}
	return NULL;
}

static bool vmap_has_chain(const struct policy_nft_set *s, const char *chain)
{
	void *v;

	for (size_t i = 0; policy_hmap_next((struct policy_hmap *)&s->elems, &i, &v);) {
		const struct policy_elem *e = v;

		if ((size_t)e->len == 16 + strlen(chain) && memcmp(e->data + 16, chain, e->len - 16) == 0)
			return true;
	}
	return false;
}

static bool match(const struct policy_nft *t, const struct policy_match *m, const struct pkt *p)
{
	const struct policy_nft_set *s = m->arg ? policy_nft_set_get(t, m->arg) : NULL;
	size_t al = p->family == AF_INET6 ? 16 : 4;
	uint8_t th[2] = { p->proto == IPPROTO_ICMP || p->proto == IPPROTO_ICMPV6
				  ? p->icmp_type : (uint8_t)(p->sport >> 8),
			  p->proto == IPPROTO_ICMP || p->proto == IPPROTO_ICMPV6
				  ? p->icmp_code : (uint8_t)p->sport };

	switch (m->kind) {
	case POLICY_MATCH_CT_STATE:
		return false; /* every packet here is new */
	case POLICY_MATCH_IIF_PREFIX:
		return strncmp(p->iif, m->arg, strlen(m->arg)) == 0;
	case POLICY_MATCH_OIF_PREFIX:
		return strncmp(p->oif, m->arg, strlen(m->arg)) == 0;
	case POLICY_MATCH_SADDR:
	case POLICY_MATCH_DADDR:
	case POLICY_MATCH_SADDR_NOT:
	case POLICY_MATCH_DADDR_NOT: {
		bool src = m->kind == POLICY_MATCH_SADDR || m->kind == POLICY_MATCH_SADDR_NOT;
		bool neg = m->kind == POLICY_MATCH_SADDR_NOT || m->kind == POLICY_MATCH_DADDR_NOT;

		if (m->family != p->family)
			return false;
		assert_non_null(s);
		return set_has_addr(s, src ? p->saddr : p->daddr, al) != neg;
	}
	case POLICY_MATCH_PORTS:
	case POLICY_MATCH_PORTS_NOT:
		assert_non_null(s);
		return set_has_port(s, p->proto, p->dport) != (m->kind == POLICY_MATCH_PORTS_NOT);
	case POLICY_MATCH_SPORTS:
	case POLICY_MATCH_SPORTS_NOT:
		assert_non_null(s);
		return set_has_port(s, p->proto, p->sport) != (m->kind == POLICY_MATCH_SPORTS_NOT);
	case POLICY_MATCH_NFPROTO:
		return m->family == p->family;
	case POLICY_MATCH_L4PROTO:
		return p->proto == m->value;
	case POLICY_MATCH_L4PROTO_NOT:
		return p->proto != m->value;
	case POLICY_MATCH_TH_BYTE:
		return th[m->value >> 8] == (m->value & 0xff);
	case POLICY_MATCH_TH_BYTE_NOT:
		return th[m->value >> 8] != (m->value & 0xff);
	case POLICY_MATCH_MARK:
		return (p->mark & m->value) != 0;
	default:
		fail_msg("match kind %d not evaluated", m->kind);
		return false;
	}
}

static enum ev eval_chain(const struct policy_nft *t, const char *name, struct pkt *p,
			  int depth);

static enum ev eval_rule(const struct policy_nft *t, const struct policy_nft_rule *r,
			 struct pkt *p, int depth, bool *ret_return)
{
	const char *jump = NULL;

	for (size_t i = 0; i < r->n_match; i++) {
		const struct policy_match *m = &r->match[i];

		if (m->kind == POLICY_MATCH_IIF_VMAP || m->kind == POLICY_MATCH_OIF_VMAP) {
			jump = vmap_target(policy_nft_set_get(t, m->arg),
					   m->kind == POLICY_MATCH_IIF_VMAP ? p->iif : p->oif);
			if (!jump)
				return EV_CONTINUE;
		} else if (!match(t, m, p)) {
			return EV_CONTINUE;
		}
	}
	switch (r->verdict) {
	case POLICY_VERDICT_ACCEPT:
		return EV_ACCEPT;
	case POLICY_VERDICT_DROP:
		return EV_DROP;
	case POLICY_VERDICT_JUMP:
		return eval_chain(t, r->target, p, depth + 1);
	case POLICY_VERDICT_MARK_RETURN:
		p->mark |= r->mark;
		*ret_return = true;
		return EV_CONTINUE;
	case POLICY_VERDICT_UNMARK_RETURN:
		p->mark &= ~r->mark;
		*ret_return = true;
		return EV_CONTINUE;
	case POLICY_VERDICT_MARK:
		p->mark |= r->mark;
		return EV_CONTINUE;
	case POLICY_VERDICT_UNMARK:
		p->mark &= ~r->mark;
		return EV_CONTINUE;
	case POLICY_VERDICT_MARK_ACCEPT:
		p->mark |= r->mark;
		p->untracked |= r->notrack;
		return EV_ACCEPT;
	default:
		return jump ? eval_chain(t, jump, p, depth + 1) : EV_CONTINUE;
	}
}

static enum ev eval_chain(const struct policy_nft *t, const char *name, struct pkt *p,
			  int depth)
{
	const struct policy_nft_chain *c = policy_nft_chain_get(t, name);

	assert_true(depth < 16);
	if (!c)
		fail_msg("jump to missing chain '%s'", name);
	for (size_t i = 0; i < c->n_rules; i++) {
		bool ret = false;
		enum ev v = eval_rule(t, c->rules[i], p, depth, &ret);

		if (v != EV_CONTINUE || ret)
			return v;
	}
	return EV_CONTINUE;
}

/* The base chains of one hook that exist, in priority order: false when
 * one drops. */
static bool hook_passes(const struct policy_nft *t, const char *const *chains, struct pkt *p)
{
	for (size_t i = 0; chains[i]; i++)
		if (policy_nft_chain_get(t, chains[i]) && eval_chain(t, chains[i], p, 0) == EV_DROP)
			return false;
	return true;
}

/* Prerouting: doNotTrack (raw priority), then preDNAT. */
static bool prerouting(const struct policy_nft *t, struct pkt *p)
{
	static const char *const pre[] = { "cc_raw_prerouting", "cc_prerouting", NULL };

	return hook_passes(t, pre, p);
}

/* Forwarded: the source's egress chain, then the destination's ingress. */
static bool allowed(const struct policy_nft *t, struct pkt p)
{
	uint32_t mark;

	if (!prerouting(t, &p))
		return false;
	mark = p.mark;
	if (eval_chain(t, "cc_fwd_egress", &p, 0) == EV_DROP)
		return false;
	assert_int_equal(p.mark, mark); /* a Pass never leaves its mark behind */
	if (eval_chain(t, "cc_fwd_ingress", &p, 0) == EV_DROP)
		return false;
	assert_int_equal(p.mark, mark);
	return true;
}

/* Workload -> its own host: the input hook's base chains, in order. */
static bool to_host(const struct policy_nft *t, struct pkt p)
{
	static const char *const input[] = { "cc_input", "cc_input_drop", NULL };

	memset(p.oif, 0, sizeof(p.oif));
	return prerouting(t, &p) && hook_passes(t, input, &p);
}

/* ---- fixtures ---- */

/* Namespaces a (team=x) and b; pods: a/web (app=web, sa web-sa), a/db
 * (app=db), b/client (app=client, sa robot with labels role=robot). */
static const char *cluster =
	"\"namespaces\":[{\"metadata\":{\"name\":\"a\",\"labels\":{\"team\":\"x\"}}},"
	"{\"metadata\":{\"name\":\"b\"}}],"
	"\"serviceaccounts\":[{\"metadata\":{\"name\":\"robot\",\"namespace\":\"b\","
	"\"labels\":{\"role\":\"robot\"}}}],"
	"\"pods\":["
	"{\"metadata\":{\"name\":\"web\",\"namespace\":\"a\",\"labels\":{\"app\":\"web\"}},"
	"\"spec\":{\"serviceAccountName\":\"web-sa\"},"
	"\"status\":{\"podIPs\":[{\"ip\":\"10.65.0.1\"}]}},"
	"{\"metadata\":{\"name\":\"db\",\"namespace\":\"a\",\"labels\":{\"app\":\"db\"}},"
	"\"spec\":{},\"status\":{\"podIPs\":[{\"ip\":\"10.65.0.2\"}]}},"
	"{\"metadata\":{\"name\":\"client\",\"namespace\":\"b\",\"labels\":{\"app\":\"client\"}},"
	"\"spec\":{\"serviceAccountName\":\"robot\"},"
	"\"status\":{\"podIPs\":[{\"ip\":\"10.65.1.1\"}]}}]";

struct fixture {
	struct policy_model *m;
	struct policy_desired *d;
	struct policy_failsafes fs_in, fs_out; /* host endpoint tests: compiled with these */
	enum policy_host_action host_action;   /* compiled with it */
};

static void build_opts(struct fixture *f, const char *base, const char *objects,
		       const struct policy_options *o)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_free_ char *err = NULL;
	json_error_t je;
	json_t *doc;
	int r;

	assert_true(asprintf(&text, "{%s%s%s}", base, *objects ? "," : "", objects) > 0);
	doc = json_loads(text, 0, &je);
	if (!doc)
		fail_msg("bad fixture JSON: %s", je.text);
	assert_int_equal(policy_model_new(NULL, &f->m), 0);
	r = policy_model_load_json(f->m, doc, &err);
	if (r < 0)
		fail_msg("load: %d %s", r, err ?: "");
	json_decref(doc);
	assert_int_equal(policy_compile(f->m, o, &f->d), 0);
	f->host_action = o ? o->endpoint_to_host : POLICY_HOST_DROP;
}

static void build_on(struct fixture *f, const char *base, const char *objects)
{
	build_opts(f, base, objects, &(struct policy_options){ .nflog_group = 5 });
}

static void build(struct fixture *f, const char *objects)
{
	build_on(f, cluster, objects);
}

static void done(struct fixture *f)
{
	f->d = policy_desired_free(f->d);
	f->m = policy_model_free(f->m);
}

static struct pkt tcp(const struct fixture *f, const char *from, const char *to, uint16_t port)
{
	struct pkt p = { .family = AF_INET, .proto = IPPROTO_TCP, .sport = 40000, .dport = port };
	const char *ends[2] = { from, to };

	for (int i = 0; i < 2; i++) {
		char ns[32], name[32];
		const struct policy_pod *pod;

		if (sscanf(ends[i], "%31[^/]/%31s", ns, name) != 2) { /* an outside address */
			assert_int_equal(inet_pton(AF_INET, ends[i], i ? p.daddr : p.saddr), 1);
			snprintf(i ? p.oif : p.iif, 16, "eth0");
			continue;
		}
		pod = policy_model_get_pod(f->m, ns, name);
		assert_non_null(pod);
		memcpy(i ? p.daddr : p.saddr, pod->ips[0].addr, 4);
		memcpy(i ? p.oif : p.iif, pod->ifname, 16);
	}
	return p;
}

/* Whether hep_of() can tell: no host endpoint by expectedIPs only (their
 * interfaces come from the node's addresses). */
static bool hep_is_known(const struct policy_model *m)
{
	void *v;

	for (size_t i = 0; policy_hmap_next((struct policy_hmap *)&m->heps, &i, &v);)
		if (!*((const struct policy_hep *)v)->ifname)
			return false;
	return true;
}

/* The host endpoint governing @ifname as compile.c picks it (by name, then
 * "*"), or NULL (see hep_is_known()). */
static const struct policy_hep *hep_of(const struct policy_model *m, const char *ifname)
{
	const struct policy_hep *named = NULL, *star = NULL;
	void *v;

	if (!hep_is_known(m))
		return NULL;
	for (size_t i = 0; policy_hmap_next((struct policy_hmap *)&m->heps, &i, &v);) {
		const struct policy_hep *h = v;

		if (m->node && strcmp(h->node, m->node) != 0)
			continue;
		if (strcmp(h->ifname, ifname) == 0 && (!named || strcmp(h->name, named->name) < 0))
			named = h;
		if (strcmp(h->ifname, "*") == 0 && (!star || strcmp(h->name, star->name) < 0))
			star = h;
	}
	return named ? named : star;
}

/* policy_explain() of @p between @from and @to (pods or addresses; an
 * address's side forwarded through the host endpoint of @p's interface):
 * -EOPNOTSUPP for a flow it does not explain, or that the test cannot
 * name (a host endpoint by expectedIPs only). */
static int explain_pkt(const struct fixture *f, const char *from, const char *to,
		       const struct pkt *p, struct policy_explain *ret)
{
	struct policy_flow fl = { .proto = p->proto, .port = p->dport, .sport = p->sport,
				  .failsafe_in = &f->fs_in, .failsafe_out = &f->fs_out };
	const char *ends[2] = { from, to };

	for (int i = 0; i < 2; i++) {
		char ns[32], name[32];

		if (sscanf(ends[i], "%31[^/]/%31s", ns, name) == 2) {
			*(i ? &fl.dst : &fl.src) = policy_model_get_pod(f->m, ns, name);
			continue;
		}
		assert_int_equal(prefix_parse(ends[i], PREFIX_ADDR_ONLY, i ? &fl.daddr : &fl.saddr),
				 0);
		if (!hep_is_known(f->m))
			return -EOPNOTSUPP;
		*(i ? &fl.fwd_out : &fl.fwd_in) = hep_of(f->m, i ? p->oif : p->iif);
	}
	assert_int_equal(policy_flow_addresses(&fl), 0);
	return policy_explain(f->m, &fl, ret);
}

/* policy_explain() of a TCP flow whose source port it is not told. */
static int explain_tcp(const struct fixture *f, const char *from, const char *to,
		       uint16_t port, struct policy_explain *ret)
{
	struct pkt p = tcp(f, from, to, port);

	p.sport = 0;
	return explain_pkt(f, from, to, &p, ret);
}

/* What the compiled table does with @p from @from to @to; every such check
 * also holds policy_explain() to the same answer. */
static bool pkt_ok(const struct fixture *f, const char *from, const char *to, struct pkt p)
{
	bool ok = allowed(policy_desired_nft(f->d), p);
	struct policy_explain e;
	int r = explain_pkt(f, from, to, &p, &e);

	if (r == -EOPNOTSUPP)
		return ok;
	assert_int_equal(r, 0);
	if (e.allowed != ok)
		fail_msg("%s -> %s %u/%u (source port %u): the table %s, policy_explain() says %s",
			 from, to, p.dport, p.proto, p.sport, ok ? "allows" : "denies",
			 e.allowed ? "allowed" : "denied");
	policy_explain_done(&e);
	return ok;
}

/* A new TCP flow (source port 40000), checked as pkt_ok(). */
static bool tcp_ok(const struct fixture *f, const char *from, const char *to, uint16_t port)
{
	return pkt_ok(f, from, to, tcp(f, from, to, port));
}

#define GNP(NAME, SPEC)                                                                      \
	"{\"apiVersion\":\"crd.projectcalico.org/v1\",\"kind\":\"GlobalNetworkPolicy\","      \
	"\"metadata\":{\"name\":\"" NAME "\"},\"spec\":" SPEC "}"
#define CNP(NS, NAME, SPEC)                                                                  \
	"{\"apiVersion\":\"crd.projectcalico.org/v1\",\"kind\":\"NetworkPolicy\","            \
	"\"metadata\":{\"name\":\"" NAME "\",\"namespace\":\"" NS "\"},\"spec\":" SPEC "}"
#define TIER(NAME, ORDER, ACTION)                                                            \
	"{\"metadata\":{\"name\":\"" NAME "\"},\"spec\":{\"order\":" ORDER                     \
	",\"defaultAction\":\"" ACTION "\"}}"

/* ---- order, actions ---- */

static void test_lower_order_decides_between_disagreeing_policies(void **state)
{
	struct fixture f = {};

	(void)state;
	build(&f, "\"globalnetworkpolicies\":["
		  GNP("default.deny", "{\"order\":10,\"selector\":\"app == 'db'\","
		      "\"ingress\":[{\"action\":\"Deny\",\"source\":{\"selector\":\"app == 'web'\"}}]}")
		  "," GNP("default.allow", "{\"order\":20,\"selector\":\"app == 'db'\","
		      "\"ingress\":[{\"action\":\"Allow\"}]}") "]");
	assert_false(tcp_ok(&f, "a/web", "a/db", 5432)); /* Deny first */
	assert_true(tcp_ok(&f, "b/client", "a/db", 5432)); /* no Deny: the Allow */
	assert_true(tcp_ok(&f, "a/db", "a/web", 80));	    /* web: no policy */
	done(&f);
	build(&f, "\"globalnetworkpolicies\":["
		  GNP("default.deny", "{\"order\":30,\"selector\":\"app == 'db'\","
		      "\"ingress\":[{\"action\":\"Deny\",\"source\":{\"selector\":\"app == 'web'\"}}]}")
		  "," GNP("default.allow", "{\"order\":20,\"selector\":\"app == 'db'\","
		      "\"ingress\":[{\"action\":\"Allow\"}]}") "]");
	assert_true(tcp_ok(&f, "a/web", "a/db", 5432)); /* the Allow comes first now */
	done(&f);
	/* no order: after every ordered policy; equal orders: by name */
	build(&f, "\"globalnetworkpolicies\":["
		  GNP("default.a-deny", "{\"selector\":\"app == 'db'\","
		      "\"ingress\":[{\"action\":\"Deny\"}]}")
		  "," GNP("default.z-allow", "{\"order\":99999,\"selector\":\"app == 'db'\","
		      "\"ingress\":[{\"action\":\"Allow\"}]}")
		  "," GNP("default.b-deny", "{\"order\":5,\"selector\":\"app == 'web'\","
		      "\"ingress\":[{\"action\":\"Deny\"}]}")
		  "," GNP("default.a-allow", "{\"order\":5,\"selector\":\"app == 'web'\","
		      "\"ingress\":[{\"action\":\"Allow\"}]}") "]");
	assert_true(tcp_ok(&f, "b/client", "a/db", 1));
	assert_true(tcp_ok(&f, "b/client", "a/web", 1)); /* a-allow before b-deny */
	done(&f);
}

static void test_kubernetes_policies_sit_at_order_1000_of_the_default_tier(void **state)
{
	struct fixture f = {};

	(void)state;
	/* the NetworkPolicy allows web -> db; a GNP at 500 denies it first, one
	 * at 2000 comes after the Kubernetes policy decided */
	build(&f, "\"networkpolicies\":[{\"metadata\":{\"name\":\"np\",\"namespace\":\"a\"},"
		  "\"spec\":{\"podSelector\":{\"matchLabels\":{\"app\":\"db\"}},\"ingress\":[{\"from\":"
		  "[{\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}}}]}]}}],"
		  "\"globalnetworkpolicies\":["
		  GNP("default.early", "{\"order\":500,\"selector\":\"app == 'db'\",\"ingress\":"
		      "[{\"action\":\"Deny\",\"protocol\":\"TCP\",\"destination\":{\"ports\":[22]}}]}")
		  "," GNP("default.late", "{\"order\":2000,\"selector\":\"app == 'db'\",\"ingress\":"
		      "[{\"action\":\"Allow\"}]}") "]");
	assert_true(tcp_ok(&f, "a/web", "a/db", 5432));
	assert_false(tcp_ok(&f, "a/web", "a/db", 22));   /* order 500 < 1000 */
	assert_true(tcp_ok(&f, "b/client", "a/db", 5432)); /* the late Allow: the NP did not match */
	done(&f);
}

/* ---- tiers ---- */

static void test_pass_goes_to_the_next_tier_and_default_action_ends_a_tier(void **state)
{
	struct fixture f = {};

	(void)state;
	build(&f, "\"tiers\":[" TIER("security", "100", "Deny") "," TIER("default", "1000000", "Deny")
		  "],\"globalnetworkpolicies\":["
		  GNP("security.gate", "{\"tier\":\"security\",\"order\":1,\"selector\":\"app == 'db'\","
		      "\"ingress\":[{\"action\":\"Pass\",\"source\":{\"selector\":\"app == 'web'\"}},"
		      "{\"action\":\"Allow\",\"source\":{\"namespaceSelector\":\"projectcalico.org/name"
		      " == 'b'\"},\"protocol\":\"TCP\",\"destination\":{\"ports\":[\"8000:8080\"]}}]}")
		  "," GNP("default.db", "{\"selector\":\"app == 'db'\",\"ingress\":[{\"action\":"
		      "\"Allow\",\"protocol\":\"TCP\",\"destination\":{\"ports\":[5432]}}]}") "]");
	/* web passes the security tier; the default tier allows 5432 only */
	assert_true(tcp_ok(&f, "a/web", "a/db", 5432));
	assert_false(tcp_ok(&f, "a/web", "a/db", 8080));
	/* client: allowed by the security tier itself on 8000-8080 */
	assert_true(tcp_ok(&f, "b/client", "a/db", 8080));
	/* client on 5432: no rule of the security tier matches: its default
	 * action (Deny) ends it, the default tier is never reached */
	assert_false(tcp_ok(&f, "b/client", "a/db", 5432));
	done(&f);
	/* the same with the security tier's default action Pass */
	build(&f, "\"tiers\":[" TIER("security", "100", "Pass") "],\"globalnetworkpolicies\":["
		  GNP("security.gate", "{\"tier\":\"security\",\"selector\":\"app == 'db'\","
		      "\"ingress\":[{\"action\":\"Deny\",\"source\":{\"selector\":\"app == 'web'\"}}]}")
		  "," GNP("default.db", "{\"selector\":\"app == 'db'\",\"ingress\":[{\"action\":"
		      "\"Allow\",\"protocol\":\"TCP\",\"destination\":{\"ports\":[5432]}}]}") "]");
	assert_false(tcp_ok(&f, "a/web", "a/db", 5432));
	assert_true(tcp_ok(&f, "b/client", "a/db", 5432));
	assert_false(tcp_ok(&f, "b/client", "a/db", 22)); /* default tier: Deny */
	done(&f);
	/* passed by the last tier: the namespace's profile allows */
	build(&f, "\"tiers\":[" TIER("security", "100", "Deny") "],\"globalnetworkpolicies\":["
		  GNP("security.gate", "{\"tier\":\"security\",\"selector\":\"app == 'db'\","
		      "\"ingress\":[{\"action\":\"Pass\"}]}") "]");
	assert_true(tcp_ok(&f, "a/web", "a/db", 5432));
	done(&f);
}

/* ---- selection ---- */

static void test_global_policy_selects_every_namespace_namespaced_only_its_own(void **state)
{
	struct fixture f = {};

	(void)state;
	build(&f, "\"globalnetworkpolicies\":["
		  GNP("default.no-egress", "{\"selector\":\"has(app)\",\"types\":[\"Egress\"]}") "]");
	assert_false(tcp_ok(&f, "a/web", "b/client", 80));
	assert_false(tcp_ok(&f, "b/client", "a/web", 80));
	done(&f);
	build(&f, "\"globalnetworkpolicies\":["
		  GNP("default.no-egress", "{\"selector\":\"has(app)\",\"namespaceSelector\":"
		      "\"team == 'x'\",\"types\":[\"Egress\"]}") "]");
	assert_false(tcp_ok(&f, "a/web", "b/client", 80));
	assert_true(tcp_ok(&f, "b/client", "a/web", 80));
	done(&f);
	/* a namespaced policy: its namespace only, also for rule selectors */
	build(&f, "\"calico-networkpolicies\":["
		  CNP("a", "default.in", "{\"selector\":\"all()\",\"ingress\":[{\"action\":\"Allow\","
		      "\"source\":{\"selector\":\"has(app)\"}}]}") "]");
	assert_true(tcp_ok(&f, "a/web", "a/db", 80));
	assert_false(tcp_ok(&f, "b/client", "a/db", 80)); /* has(app), but in b */
	assert_true(tcp_ok(&f, "a/db", "b/client", 80));
	done(&f);
}

static void test_service_account_selectors(void **state)
{
	struct fixture f = {};

	(void)state;
	build(&f, "\"globalnetworkpolicies\":["
		  GNP("default.db", "{\"selector\":\"app == 'db'\",\"ingress\":[{\"action\":\"Allow\","
		      "\"source\":{\"serviceAccounts\":{\"selector\":\"role == 'robot'\"}}}]}") "]");
	assert_true(tcp_ok(&f, "b/client", "a/db", 80));
	assert_false(tcp_ok(&f, "a/web", "a/db", 80));
	done(&f);
	build(&f, "\"globalnetworkpolicies\":["
		  GNP("default.db", "{\"selector\":\"app == 'db'\",\"ingress\":[{\"action\":\"Allow\","
		      "\"source\":{\"serviceAccounts\":{\"names\":[\"web-sa\"]}}}]}") "]");
	assert_false(tcp_ok(&f, "b/client", "a/db", 80));
	assert_true(tcp_ok(&f, "a/web", "a/db", 80));
	done(&f);
	/* top-level serviceAccountSelector: the endpoints it applies to */
	build(&f, "\"globalnetworkpolicies\":["
		  GNP("default.robots", "{\"serviceAccountSelector\":\"role == 'robot'\","
		      "\"types\":[\"Egress\"]}") "]");
	assert_false(tcp_ok(&f, "b/client", "a/db", 80));
	assert_true(tcp_ok(&f, "a/web", "a/db", 80));
	done(&f);
}

static void test_network_sets_match_by_labels(void **state)
{
	struct fixture f = {};

	(void)state;
	/* labels as Calico's client stores them: in its metadata annotation */
	build(&f, "\"networksets\":[{\"kind\":\"GlobalNetworkSet\",\"metadata\":{\"name\":\"ext\","
		  "\"annotations\":{\"projectcalico.org/metadata\":\"{\\\"labels\\\":{\\\"role\\\":"
		  "\\\"partner\\\"}}\"}},\"spec\":{\"nets\":[\"198.51.100.0/24\"]}},"
		  "{\"kind\":\"NetworkSet\",\"metadata\":{\"name\":\"ops\",\"namespace\":\"b\","
		  "\"labels\":{\"role\":\"ops\"}},\"spec\":{\"nets\":[\"203.0.113.7\"]}}],"
		  "\"globalnetworkpolicies\":["
		  GNP("default.web", "{\"selector\":\"app == 'web'\",\"ingress\":[{\"action\":\"Allow\","
		      "\"source\":{\"selector\":\"role in {'partner', 'ops'}\"}}]}") "],"
		  "\"calico-networkpolicies\":["
		  CNP("a", "default.db", "{\"selector\":\"app == 'db'\",\"ingress\":[{\"action\":"
		      "\"Allow\",\"source\":{\"selector\":\"role == 'ops'\"}}]}") "]");
	assert_true(tcp_ok(&f, "198.51.100.9", "a/web", 80));
	assert_true(tcp_ok(&f, "203.0.113.7", "a/web", 80));
	assert_false(tcp_ok(&f, "192.0.2.1", "a/web", 80));
	/* a namespaced policy sees the network sets of its own namespace only */
	assert_false(tcp_ok(&f, "203.0.113.7", "a/db", 80));
	done(&f);
}

/* ---- matches ---- */

static void test_nets_ports_protocols_icmp(void **state)
{
	struct fixture f = {};
	struct pkt p;

	(void)state;
	build(&f, "\"globalnetworkpolicies\":["
		  GNP("default.web", "{\"selector\":\"app == 'web'\",\"ingress\":["
		      "{\"action\":\"Deny\",\"source\":{\"nets\":[\"10.65.1.0/24\"],"
		      "\"notNets\":[\"10.65.1.128/25\"]},\"protocol\":\"TCP\","
		      "\"destination\":{\"notPorts\":[443]}},"
		      "{\"action\":\"Allow\",\"protocol\":\"TCP\",\"destination\":{\"ports\":"
		      "[80,\"8000:8100\"]},\"source\":{\"ports\":[\"1024:65535\"]}},"
		      "{\"action\":\"Allow\",\"protocol\":\"ICMP\",\"icmp\":{\"type\":8,\"code\":0}},"
		      "{\"action\":\"Allow\",\"protocol\":\"ICMP\",\"notICMP\":{\"type\":8}},"
		      "{\"action\":\"Deny\",\"notProtocol\":\"UDP\",\"ipVersion\":4},"
		      "{\"action\":\"Allow\"}]}") "]");
	assert_false(tcp_ok(&f, "b/client", "a/web", 80));  /* 10.65.1.1: in nets */
	assert_false(tcp_ok(&f, "b/client", "a/web", 443)); /* not the nets Deny: notProtocol's */
	assert_true(tcp_ok(&f, "a/db", "a/web", 80));
	assert_true(tcp_ok(&f, "a/db", "a/web", 8100));
	assert_false(tcp_ok(&f, "a/db", "a/web", 8101));
	p = tcp(&f, "a/db", "a/web", 80);
	p.sport = 1000; /* outside source ports */
	assert_false(pkt_ok(&f, "a/db", "a/web", p));
	p.sport = 1024;
	assert_true(pkt_ok(&f, "a/db", "a/web", p));
	p = tcp(&f, "10.65.1.200", "a/web", 80); /* in notNets: not denied */
	assert_true(allowed(policy_desired_nft(f.d), p));
	p = tcp(&f, "a/db", "a/web", 0);
	p.proto = IPPROTO_ICMP;
	p.icmp_type = 8;
	assert_true(allowed(policy_desired_nft(f.d), p)); /* echo request */
	p.icmp_code = 1;
	assert_false(allowed(policy_desired_nft(f.d), p)); /* wrong code; notICMP type 8 */
	p.icmp_type = 0;
	assert_true(allowed(policy_desired_nft(f.d), p)); /* ICMP, not type 8 */
	p.proto = IPPROTO_UDP;
	p.dport = 53;
	assert_true(allowed(policy_desired_nft(f.d), p));
	done(&f);
}


/* Objects as Calico v3.31's calicoctl stored them in their CRDs (captured
 * from tests/interop/calico/0003calico_policy_0, verbatim but for apiVersion
 * and kind): Tier 'security', GlobalNetworkPolicy 'security.gate' passing
 * app=a on, NetworkPolicy io/b-80 (stored as 'default.b-80'), a
 * GlobalNetworkSet and a NetworkSet with their labels in Calico's metadata
 * annotation. */
static const char *calicoctl_written =
	"\"tiers\":[{\"metadata\":{\"name\":\"security\",\"labels\":null,\"annotations\":{\"projectcalico.org/metadata\":\"{\\\"creationTimestamp\\\":\\\"2026-12-06T16:03:30Z\\\"}\"}},"
	"\"spec\":{\"defaultAction\":\"Deny\",\"order\":100}}],\"globalnetworkpolicies\":[{\"metadata\":{\"name\":\"security.gate\","
	"\"labels\":{\"projectcalico.org/tier\":\"security\"},\"annotations\":{\"projectcalico.org/metadata\":\"{\\\"name\\\":\\\"security.gate\\\","
	"\\\"creationTimestamp\\\":\\\"2026-12-06T16:03:30Z\\\",\\\"labels\\\":{\\\"projectcalico.org/tier\\\":\\\"security\\\"}}\"}},"
	"\"spec\":{\"ingress\":[{\"action\":\"Pass\",\"destination\":{},\"source\":{\"selector\":\"app == 'a'\"}}],"
	"\"order\":10,\"selector\":\"app == 'b'\",\"tier\":\"security\",\"types\":[\"Ingress\"]}}],"
	"\"calico-networkpolicies\":[{\"metadata\":{\"name\":\"default.b-80\","
	"\"namespace\":\"io\",\"labels\":null,\"annotations\":{\"projectcalico.org/metadata\":\"{\\\"name\\\":\\\"b-80\\\","
	"\\\"creationTimestamp\\\":\\\"2026-12-06T16:03:30Z\\\"}\"}},\"spec\":{\"ingress\":[{\"action\":\"Allow\","
	"\"destination\":{\"ports\":[80]},\"protocol\":\"TCP\",\"source\":{}}],\"selector\":\"app == 'b'\","
	"\"types\":[\"Ingress\"]}}],\"networksets\":[{\"metadata\":{\"name\":\"partners\","
	"\"labels\":null,\"annotations\":{\"projectcalico.org/metadata\":\"{\\\"creationTimestamp\\\":\\\"2026-12-06T16:03:30Z\\\","
	"\\\"labels\\\":{\\\"role\\\":\\\"partner\\\"}}\"}},\"spec\":{\"nets\":[\"198.51.100.0/24\"]}},"
	"{\"metadata\":{\"name\":\"tools\",\"namespace\":\"io\",\"labels\":null,\"annotations\":{\"projectcalico.org/metadata\":\"{\\\"creationTimestamp\\\":\\\"2026-12-06T16:03:30Z\\\","
	"\\\"labels\\\":{\\\"role\\\":\\\"tools\\\"}}\"}},\"spec\":{\"nets\":[\"203.0.113.7/32\"]}}]";

static void test_calicoctl_written_objects_are_read_and_enforced(void **state)
{
	static const char *io =
		"\"namespaces\":[{\"metadata\":{\"name\":\"io\"}}],\"pods\":["
		"{\"metadata\":{\"name\":\"a\",\"namespace\":\"io\",\"labels\":{\"app\":\"a\"}},"
		"\"spec\":{},\"status\":{\"podIPs\":[{\"ip\":\"10.65.0.1\"}]}},"
		"{\"metadata\":{\"name\":\"b\",\"namespace\":\"io\",\"labels\":{\"app\":\"b\"}},"
		"\"spec\":{},\"status\":{\"podIPs\":[{\"ip\":\"10.65.0.2\"}]}},"
		"{\"metadata\":{\"name\":\"c\",\"namespace\":\"io\",\"labels\":{\"app\":\"c\"}},"
		"\"spec\":{},\"status\":{\"podIPs\":[{\"ip\":\"10.65.0.3\"}]}}]";
	const struct policy_netset *s;
	struct fixture f = {};

	(void)state;
	build_on(&f, io, calicoctl_written);
	assert_true(tcp_ok(&f, "io/a", "io/b", 80));  /* passed on, then b-80 */
	assert_false(tcp_ok(&f, "io/a", "io/b", 81)); /* the default tier's Deny */
	assert_false(tcp_ok(&f, "io/c", "io/b", 80)); /* the security tier's Deny */
	assert_true(tcp_ok(&f, "io/b", "io/c", 81));  /* c: no policy */
	assert_non_null(policy_hmap_get_str(&f.m->netpols, "np:io/default.b-80"));
	s = policy_hmap_get_str(&f.m->netsets, "/partners");
	assert_non_null(s);
	assert_string_equal(labels_get(s->labels, "role"), "partner");
	s = policy_hmap_get_str(&f.m->netsets, "io/tools");
	assert_non_null(s);
	assert_string_equal(labels_get(s->labels, "role"), "tools");
	done(&f);
}

/* ---- parsing, fail closed ---- */

static void test_parse_errors_and_unsupported_fields(void **state)
{
	static const struct {
		const char *json;
		int want;
		const char *msg; /* substring */
	} v[] = {
		{ GNP("default.a", "{\"ingress\":[{\"action\":\"Allow\",\"destination\":{\"ports\":[80]}}]}"),
		  -EINVAL, "ports need protocol" },
		{ GNP("default.a", "{\"ingress\":[{\"action\":\"Allow\",\"protocol\":\"TCP\","
			"\"icmp\":{\"type\":8}}]}"), -EINVAL, "needs protocol ICMP" },
		{ GNP("default.a", "{\"ingress\":[{\"action\":\"Allow\",\"protocol\":\"ICMP\","
			"\"icmp\":{\"code\":1}}]}"), -EINVAL, "code: needs a type" },
		{ GNP("default.a", "{\"ingress\":[{\"action\":\"Allow\",\"protocol\":\"TCP\","
			"\"destination\":{\"ports\":[\"90:80\"]}}]}"), -EINVAL, "not a port range" },
		{ GNP("a", "{}"), -EINVAL, "must be 'default.<name>'" },
		{ GNP("default.a", "{\"selector\":\"a ==\"}"), -EINVAL, "spec.selector" },
		{ GNP("default.a", "{\"ingress\":[{\"action\":\"Allow\",\"http\":{\"methods\":[\"GET\"]}}]}"),
		  -EOPNOTSUPP, "HTTP" },
		{ GNP("default.a", "{\"ingress\":[{\"action\":\"Allow\",\"source\":{\"notSelector\":\"a == 'b'\"}}]}"),
		  -EOPNOTSUPP, "notSelector" },
		{ GNP("default.a", "{\"ingress\":[{\"action\":\"Allow\",\"protocol\":\"TCP\","
			"\"destination\":{\"ports\":[\"http\"]}}]}"), -EOPNOTSUPP, "named port" },
		{ GNP("default.a", "{\"ingress\":[{\"action\":\"Allow\",\"protocol\":\"TCP\","
			"\"source\":{\"ports\":[\"http\"]}}]}"), -EOPNOTSUPP, "named port" },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		json_t *j = json_loads(v[i].json, 0, NULL);
		struct policy_netpol *np = NULL;
		char *err = NULL;
		int r;

		assert_non_null(j);
		r = policy_calico_from_json(j, POLICY_KIND_GLOBAL, &np, &err);
		if (r != v[i].want)
			fail_msg("vector %zu: want %d, got %d (%s)", i, v[i].want, r, err ?: "");
		if (v[i].msg && (!err || !strstr(err, v[i].msg)))
			fail_msg("vector %zu: want '%s' in '%s'", i, v[i].msg, err ?: "(none)");
		policy_netpol_unref(np);
		free(err);
		json_decref(j);
	}
}

static void test_unsupported_policy_denies_what_reaches_it(void **state)
{
	const char *text = GNP("default.http", "{\"order\":10,\"selector\":\"app == 'db'\","
			       "\"ingress\":[{\"action\":\"Allow\",\"http\":{\"methods\":[\"GET\"]}}]}");
	json_t *j = json_loads(text, 0, NULL);
	struct policy_netpol *np = NULL;
	struct fixture f = {};

	(void)state;
	/* an earlier Allow still decides; everything else reaching it is denied,
	 * later Allows included */
	build(&f, "\"globalnetworkpolicies\":["
		  GNP("default.first", "{\"order\":1,\"selector\":\"app == 'db'\",\"ingress\":"
		      "[{\"action\":\"Allow\",\"source\":{\"selector\":\"app == 'web'\"}}]}")
		  "," GNP("default.last", "{\"order\":100,\"selector\":\"app == 'db'\",\"ingress\":"
		      "[{\"action\":\"Allow\"}]}") "]");
	assert_int_equal(policy_calico_from_json(j, POLICY_KIND_GLOBAL, &np, NULL), -EOPNOTSUPP);
	assert_int_equal(policy_calico_deny_from_json(j, POLICY_KIND_GLOBAL, &np), 0);
	assert_int_equal(policy_model_set_netpol(f.m, np), 0);
	f.d = policy_desired_free(f.d);
	assert_int_equal(policy_compile(f.m, NULL, &f.d), 0);
	assert_true(tcp_ok(&f, "a/web", "a/db", 80));
	assert_false(tcp_ok(&f, "b/client", "a/db", 80));
	assert_true(tcp_ok(&f, "b/client", "a/web", 80)); /* not selected */
	json_decref(j);
	done(&f);
}

/* policy_explain() names the tier, policy and rule that decide (tcp_ok()
 * holds it to the table's answer in every test of this file). */
static void test_explain_names_tier_policy_and_rule(void **state)
{
	const char *text = GNP("security.http", "{\"tier\":\"security\",\"order\":5,"
			       "\"selector\":\"app == 'web'\",\"ingress\":[{\"action\":\"Allow\","
			       "\"http\":{\"methods\":[\"GET\"]}}]}");
	json_t *j = json_loads(text, 0, NULL);
	const struct policy_explain_dir *d;
	struct policy_netpol *np = NULL;
	struct fixture f = {};
	struct policy_explain e;

	(void)state;
	build(&f, "\"tiers\":[" TIER("security", "100", "Deny") "],\"globalnetworkpolicies\":["
		  GNP("security.gate", "{\"tier\":\"security\",\"order\":1,\"selector\":\"app == 'db'\","
		      "\"ingress\":[{\"action\":\"Log\"},{\"action\":\"Pass\",\"source\":"
		      "{\"selector\":\"app == 'web'\"}}]}")
		  "," GNP("default.db", "{\"selector\":\"app == 'db'\",\"ingress\":[{\"action\":"
		      "\"Deny\",\"protocol\":\"TCP\",\"destination\":{\"ports\":[22]}},"
		      "{\"action\":\"Allow\",\"protocol\":\"TCP\",\"destination\":{\"ports\":[5432]}}]}")
		  "," GNP("security.web", "{\"tier\":\"security\",\"selector\":\"app == 'web'\","
		      "\"ingress\":[{\"action\":\"Pass\"}]}") "],"
		  "\"networkpolicies\":[{\"metadata\":{\"namespace\":\"a\",\"name\":\"web\"},"
		  "\"spec\":{\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}},\"ingress\":"
		  "[{\"ports\":[{\"port\":80}]}]}}]");
	/* web -> db 5432: Log goes on, Pass leaves tier security, default.db's
	 * second rule allows */
	assert_int_equal(explain_tcp(&f, "a/web", "a/db", 5432, &e), 0);
	assert_true(e.allowed);
	d = &e.dir[POLICY_DIR_INGRESS];
	assert_true(d->tiered);
	assert_int_equal(d->n_selecting, 2);
	assert_string_equal(d->selecting[0]->key, "gnp:security.gate");
	assert_string_equal(d->selecting[1]->key, "gnp:default.db");
	assert_int_equal(d->end, POLICY_EXPLAIN_END_RULE);
	assert_string_equal(d->tier, "default");
	assert_int_equal(d->n_rules, 4);
	assert_int_equal(d->rules[0].action, POLICY_ACTION_LOG);
	assert_true(d->rules[1].peer_ok && d->rules[1].port_ok);
	assert_int_equal(d->rules[1].action, POLICY_ACTION_PASS);
	assert_false(d->rules[2].port_ok); /* Deny 22 */
	assert_string_equal(d->rules[3].np->key, "gnp:default.db");
	assert_int_equal(d->rules[3].rule, 1);
	assert_int_equal(d->rules[3].action, POLICY_ACTION_ALLOW);
	policy_explain_done(&e);
	/* 22: default.db's Deny decides */
	assert_int_equal(explain_tcp(&f, "a/web", "a/db", 22, &e), 0);
	assert_false(e.allowed);
	d = &e.dir[POLICY_DIR_INGRESS];
	assert_int_equal(d->end, POLICY_EXPLAIN_END_RULE);
	assert_int_equal(d->rules[d->n_rules - 1].action, POLICY_ACTION_DENY);
	policy_explain_done(&e);
	/* client -> db: no rule of tier security matches: its default, Deny */
	assert_int_equal(explain_tcp(&f, "b/client", "a/db", 5432, &e), 0);
	assert_false(e.allowed);
	assert_int_equal(e.dir[POLICY_DIR_INGRESS].end, POLICY_EXPLAIN_END_TIER);
	assert_string_equal(e.dir[POLICY_DIR_INGRESS].tier, "security");
	policy_explain_done(&e);
	/* -> web 80: passed by security, the Kubernetes policy (tier default)
	 * allows; 81: the default tier denies */
	assert_int_equal(explain_tcp(&f, "b/client", "a/web", 80, &e), 0);
	assert_true(e.allowed);
	assert_string_equal(e.dir[POLICY_DIR_INGRESS].rules[1].np->key, "a/web");
	policy_explain_done(&e);
	assert_int_equal(explain_tcp(&f, "b/client", "a/web", 81, &e), 0);
	assert_false(e.allowed);
	assert_int_equal(e.dir[POLICY_DIR_INGRESS].end, POLICY_EXPLAIN_END_TIER);
	assert_string_equal(e.dir[POLICY_DIR_INGRESS].tier, "default");
	policy_explain_done(&e);
	/* egress of client: nothing selects it */
	assert_false(e.dir[POLICY_DIR_EGRESS].isolated);
	/* a rejected policy's stand-in ahead of security.web denies */
	assert_int_equal(policy_calico_deny_from_json(j, POLICY_KIND_GLOBAL, &np), 0);
	assert_int_equal(policy_model_set_netpol(f.m, np), 0);
	f.d = policy_desired_free(f.d);
	assert_int_equal(policy_compile(f.m, NULL, &f.d), 0);
	assert_false(tcp_ok(&f, "b/client", "a/web", 80));
	assert_int_equal(explain_tcp(&f, "b/client", "a/web", 80, &e), 0);
	assert_int_equal(e.dir[POLICY_DIR_INGRESS].end, POLICY_EXPLAIN_END_STAND_IN);
	assert_string_equal(e.dir[POLICY_DIR_INGRESS].stand_in->key, "gnp:security.http");
	policy_explain_done(&e);
	json_decref(j);
	done(&f);
	/* every tier passed: the profile allows */
	build(&f, "\"globalnetworkpolicies\":["
		  GNP("default.pass", "{\"selector\":\"app == 'db'\",\"ingress\":"
		      "[{\"action\":\"Pass\"}]}") "]");
	assert_int_equal(explain_tcp(&f, "a/web", "a/db", 1, &e), 0);
	assert_true(e.allowed);
	assert_int_equal(e.dir[POLICY_DIR_INGRESS].end, POLICY_EXPLAIN_END_PASSED);
	policy_explain_done(&e);
	done(&f);
	/* nets and notNets on the far side, ingress and egress (tcp_ok() holds
	 * policy_explain() to the table) */
	build(&f, "\"globalnetworkpolicies\":["
		  GNP("default.web", "{\"selector\":\"app == 'web'\",\"ingress\":["
		      "{\"action\":\"Deny\",\"source\":{\"nets\":[\"10.65.1.0/24\"],"
		      "\"notNets\":[\"10.65.1.128/25\"]}},{\"action\":\"Allow\"}]}")
		  "," GNP("default.client", "{\"selector\":\"app == 'client'\",\"egress\":["
		      "{\"action\":\"Deny\",\"destination\":{\"nets\":[\"10.65.0.2/32\"]}},"
		      "{\"action\":\"Allow\",\"destination\":{\"notNets\":[\"192.0.2.0/24\"]}}]}") "]");
	assert_false(tcp_ok(&f, "b/client", "a/web", 80));
	assert_true(tcp_ok(&f, "10.65.1.200", "a/web", 80));
	assert_true(tcp_ok(&f, "10.65.2.1", "a/web", 80));
	assert_false(tcp_ok(&f, "b/client", "a/db", 80));
	assert_true(tcp_ok(&f, "b/client", "198.51.100.1", 80));
	assert_false(tcp_ok(&f, "b/client", "192.0.2.1", 80));
	assert_int_equal(explain_tcp(&f, "b/client", "192.0.2.1", 80, &e), 0);
	assert_int_equal(e.dir[POLICY_DIR_EGRESS].end, POLICY_EXPLAIN_END_TIER);
	assert_false(e.dir[POLICY_DIR_INGRESS].filtered);
	policy_explain_done(&e);
	done(&f);
	/* source ports: the flow does not say; not explained */
	build(&f, "\"globalnetworkpolicies\":["
		  GNP("default.sp", "{\"selector\":\"app == 'db'\",\"ingress\":[{\"action\":\"Allow\","
		      "\"protocol\":\"TCP\",\"source\":{\"ports\":[\"1024:65535\"]}}]}") "]");
	assert_int_equal(explain_tcp(&f, "a/web", "a/db", 80, &e), -EOPNOTSUPP);
	done(&f);
}

/* ---- incremental ---- */

static char *dump(const struct policy_nft *t)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(policy_nft_dump(t, f), 0);
	fclose(f);
	return buf;
}

/* b/client relabelled app=web under @objs: denied before, allowed after,
 * by set element changes only, the same table as a full compile. */
static void relabel_client_to_web(const char *objs)
{
	struct fixture f = {}, g = {};
	json_t *j = json_loads("{\"metadata\":{\"name\":\"client\",\"namespace\":\"b\",\"labels\":"
			       "{\"app\":\"web\"}},\"spec\":{\"serviceAccountName\":\"robot\"},"
			       "\"status\":{\"podIPs\":[{\"ip\":\"10.65.1.1\"}]}}", 0, NULL);
	struct policy_pod *pod = NULL, *old = NULL;
	struct policy_plan *p = NULL;
	_cleanup_free_ char *a = NULL, *b = NULL;

	build(&f, objs);
	assert_false(tcp_ok(&f, "b/client", "a/db", 80));
	assert_int_equal(policy_pod_from_json(j, &pod, NULL), 0);
	assert_int_equal(policy_model_set_pod(f.m, pod, &old), 0);
	assert_int_equal(policy_desired_update_pod(f.d, f.m, old, pod, &p), 0);
	for (size_t i = 0; i < p->n_ops; i++) /* set elements only */
		assert_true(p->ops[i].kind == POLICY_OP_ELEM_ADD ||
			    p->ops[i].kind == POLICY_OP_ELEM_DEL);
	assert_true(tcp_ok(&f, "b/client", "a/db", 80));
	g.m = f.m;
	assert_int_equal(policy_compile(f.m, &(struct policy_options){ .nflog_group = 5 }, &g.d),
			 0);
	a = dump(policy_desired_nft(f.d));
	b = dump(policy_desired_nft(g.d));
	assert_string_equal(a, b);
	policy_desired_free(g.d);
	policy_plan_free(p);
	policy_pod_free(old);
	json_decref(j);
	done(&f);
}

static void test_label_change_is_incremental_and_equals_full_compile(void **state)
{
	(void)state;
	relabel_client_to_web("\"tiers\":[" TIER("security", "100", "Deny") "],"
			      "\"globalnetworkpolicies\":["
			      GNP("security.gate", "{\"tier\":\"security\",\"selector\":\"app == 'db'\","
				  "\"ingress\":[{\"action\":\"Pass\",\"source\":{\"selector\":"
				  "\"app == 'web'\"}}]}")
			      "," GNP("default.db", "{\"selector\":\"app == 'db'\",\"ingress\":"
				  "[{\"action\":\"Allow\",\"source\":{\"selector\":\"app == 'web'\"}}]}")
			      "]");
}

/* ---- workload -> own host, Log ---- */

/* Pod @from -> a local process of its node; every such check also holds
 * policy_explain() to the same answer. */
static bool host_ok(const struct fixture *f, const char *from, uint16_t port)
{
	bool ok = to_host(policy_desired_nft(f->d), tcp(f, from, "192.168.50.1", port));
	struct policy_flow fl = { .proto = IPPROTO_TCP, .port = port, .to_node = true,
				  .endpoint_to_host = f->host_action };
	char ns[32], name[32];
	struct policy_explain e;
	int r;

	assert_int_equal(sscanf(from, "%31[^/]/%31s", ns, name), 2);
	fl.src = policy_model_get_pod(f->m, ns, name);
	assert_int_equal(prefix_parse("192.168.50.1", PREFIX_ADDR_ONLY, &fl.daddr), 0);
	assert_int_equal(policy_flow_addresses(&fl), 0);
	r = policy_explain(f->m, &fl, &e);
	if (r == -EOPNOTSUPP)
		return ok;
	assert_int_equal(r, 0);
	if (e.allowed != ok)
		fail_msg("%s -> its node tcp/%u: the table %s, policy_explain() says %s", from, port,
			 ok ? "allows" : "denies", e.allowed ? "allowed" : "denied");
	assert_int_equal(e.dir[POLICY_DIR_INGRESS].end, POLICY_EXPLAIN_END_HOST_ACTION);
	policy_explain_done(&e);
	return ok;
}

static void build_host(struct fixture *f, const char *objects, enum policy_host_action a)
{
	build_opts(f, cluster, objects, &(struct policy_options){ .nflog_group = -1,
								 .endpoint_to_host = a });
}

static void test_default_endpoint_to_host_action(void **state)
{
	static const char *const deny_web =
		"\"globalnetworkpolicies\":[" GNP("default.web-out", "{\"selector\":\"app == 'web'\","
		"\"types\":[\"Egress\"]}") "]";
	static const char *const k8s_deny_db =
		"\"networkpolicies\":[{\"metadata\":{\"name\":\"no-egress\",\"namespace\":\"a\"},"
		"\"spec\":{\"podSelector\":{\"matchLabels\":{\"app\":\"db\"}},"
		"\"policyTypes\":[\"Egress\"]}}]";
	struct fixture f = {};
	struct pkt p;

	(void)state;
	/* Drop (Calico's default): nothing reaches the host, policy or not */
	build_host(&f, "", POLICY_HOST_DROP);
	assert_false(host_ok(&f, "a/web", 10250));
	assert_false(host_ok(&f, "b/client", 53));
	assert_true(tcp_ok(&f, "a/web", "a/db", 80)); /* forwarding is not affected */
	done(&f);
	/* Accept and Return: the endpoint's egress policy decides */
	for (int a = POLICY_HOST_RETURN; a <= POLICY_HOST_ACCEPT; a++) {
		build_host(&f, "", a);
		assert_true(host_ok(&f, "a/web", 10250));
		p = tcp(&f, "a/web", "192.168.50.1", 22);
		memcpy(p.iif, "caliunknown0", 13); /* no endpoint: fail closed */
		assert_false(to_host(policy_desired_nft(f.d), p));
		done(&f);
		build_host(&f, deny_web, a);
		assert_false(host_ok(&f, "a/web", 10250)); /* egress deny-all */
		assert_true(host_ok(&f, "a/db", 10250));
		done(&f);
		build_host(&f, k8s_deny_db, a);
		assert_false(host_ok(&f, "a/db", 53)); /* a Kubernetes policy too */
		assert_true(host_ok(&f, "a/web", 53));
		done(&f);
	}
	/* an egress rule for the host's address and port allows just that */
	build_host(&f, "\"globalnetworkpolicies\":[" GNP("default.web-kubelet",
		   "{\"selector\":\"app == 'web'\",\"egress\":[{\"action\":\"Allow\","
		   "\"protocol\":\"TCP\",\"destination\":{\"nets\":[\"192.168.50.1/32\"],"
		   "\"ports\":[10250]}}]}") "]", POLICY_HOST_ACCEPT);
	assert_true(host_ok(&f, "a/web", 10250));
	assert_false(host_ok(&f, "a/web", 22));
	done(&f);
}

static void test_host_to_workload_is_not_policed(void **state)
{
	struct fixture f = {};
	const char **names = NULL;
	size_t n = 0;

	(void)state;
	/* no output chain: the host reaches its workloads whatever their
	 * ingress policy says (their replies are established in cc_input) */
	build_host(&f, "\"globalnetworkpolicies\":[" GNP("default.all-in", "{\"selector\":\"all()\","
		   "\"types\":[\"Ingress\"]}") "]", POLICY_HOST_ACCEPT);
	assert_int_equal(policy_nft_chain_names(policy_desired_nft(f.d), &names, &n), 0);
	for (size_t i = 0; i < n; i++) {
		const struct policy_nft_chain *c = policy_nft_chain_get(policy_desired_nft(f.d),
									names[i]);

		assert_false(c->base && c->hooknum == NF_INET_LOCAL_OUT);
	}
	free(names);
	assert_false(tcp_ok(&f, "a/web", "a/db", 80));
	done(&f);
}

/* The rules of @f's table that log, as "<group> <prefix>" lines. */
static char *logging_rules(const struct fixture *f)
{
	const struct policy_nft *t = policy_desired_nft(f->d);
	const char **names = NULL;
	char *out = calloc(1, 4096);
	size_t n = 0, len = 0;

	assert_int_equal(policy_nft_chain_names(t, &names, &n), 0);
	for (size_t i = 0; i < n; i++) {
		const struct policy_nft_chain *c = policy_nft_chain_get(t, names[i]);

		for (size_t k = 0; k < c->n_rules; k++)
			if (c->rules[k]->log_group >= 0)
				len += (size_t)snprintf(out + len, 4096 - len, "%d %s\n",
							c->rules[k]->log_group,
							c->rules[k]->log_prefix);
	}
	free(names);
	return out;
}

static void test_log_rule_prefix_names_policy_and_rule(void **state)
{
	static const char *const log_web =
		"\"globalnetworkpolicies\":[" GNP("default.log-web", "{\"selector\":\"app == 'web'\","
		"\"egress\":[{\"action\":\"Log\",\"protocol\":\"TCP\"},{\"action\":\"Allow\"}]}")
		"]";
	struct fixture f = {};
	char *got;

	(void)state;
	/* Calico's LogPrefix, then the policy and rule; Log goes on to the Allow */
	build_opts(&f, cluster, log_web, &(struct policy_options){ .nflog_group = 5 });
	got = logging_rules(&f);
	assert_string_equal(got, "5 calico-packet gnp:default.log-web egress[0] Log: \n");
	free(got);
	assert_true(tcp_ok(&f, "a/web", "a/db", 80));
	done(&f);
	/* a LogPrefix of its own; denied packets logged too when asked */
	build_opts(&f, cluster, log_web,
		   &(struct policy_options){ .nflog_group = 9, .nflog_denied = true,
					     .log_prefix = "cluster-7" });
	got = logging_rules(&f);
	assert_string_equal(got, "9 cluster-7 tier default drop egress: \n"
				 "9 cluster-7 gnp:default.log-web egress[0] Log: \n");
	free(got);
	done(&f);
	/* no group: nowhere to log, a Log rule does nothing */
	build_opts(&f, cluster, log_web, &(struct policy_options){ .nflog_group = -1 });
	got = logging_rules(&f);
	assert_string_equal(got, "");
	free(got);
	done(&f);
}

static void test_host_action_and_log_prefix_values(void **state)
{
	struct fixture f = {};

	(void)state;
	assert_int_equal(policy_host_action_from_string("ACCEPT"), POLICY_HOST_ACCEPT);
	assert_int_equal(policy_host_action_from_string("Return"), POLICY_HOST_RETURN);
	assert_int_equal(policy_host_action_from_string("drop"), POLICY_HOST_DROP);
	assert_int_equal(policy_host_action_from_string("Reject"), -EINVAL);
	assert_string_equal(policy_host_action_to_string(POLICY_HOST_RETURN), "Return");
	assert_true(policy_log_prefix_is_valid("calico-packet"));
	assert_false(policy_log_prefix_is_valid(""));
	assert_false(policy_log_prefix_is_valid("a\"b"));
	assert_false(policy_log_prefix_is_valid("line\nbreak"));
	assert_false(policy_log_prefix_is_valid("0123456789012345678901234567890123"));
	assert_int_equal(policy_model_new(NULL, &f.m), 0);
	assert_int_equal(policy_compile(f.m, &(struct policy_options){ .log_prefix = "x\"y" }, &f.d),
			 -EINVAL);
	assert_int_equal(policy_compile(f.m, &(struct policy_options){ .endpoint_to_host = 7 },
					&f.d),
			 -EINVAL);
	assert_null(f.d);
	done(&f);
}

/* ---- Kubernetes ClusterNetworkPolicy (policy.networking.k8s.io) ---- */

#define K8SCNP(NAME, TIER, PRIO, SPEC)                                                       \
	"{\"apiVersion\":\"policy.networking.k8s.io/v1beta1\",\"kind\":\"ClusterNetworkPolicy\"," \
	"\"metadata\":{\"name\":\"" NAME "\"},\"spec\":{\"tier\":\"" TIER "\",\"priority\":"   \
	PRIO "," SPEC "}}"
#define KNP(NS, NAME, SPEC)                                                                  \
	"{\"metadata\":{\"name\":\"" NAME "\",\"namespace\":\"" NS "\"},\"spec\":" SPEC "}"
#define SUBJ_DB "\"subject\":{\"pods\":{\"namespaceSelector\":{},\"podSelector\":"          \
	"{\"matchLabels\":{\"app\":\"db\"}}}}"
#define FROM_WEB "{\"pods\":{\"namespaceSelector\":{\"matchLabels\":{\"team\":\"x\"}},"       \
	"\"podSelector\":{\"matchExpressions\":[{\"key\":\"app\",\"operator\":\"In\","          \
	"\"values\":[\"web\"]}]}}}"
#define FROM_B "{\"namespaces\":{\"matchExpressions\":[{\"key\":\"team\",\"operator\":"        \
	"\"DoesNotExist\"}]}}"
/* a/db's NetworkPolicy: ingress from b/client only */
#define NP_DB_FROM_CLIENT                                                                    \
	KNP("a", "db", "{\"podSelector\":{\"matchLabels\":{\"app\":\"db\"}},\"ingress\":"       \
	    "[{\"from\":[{\"namespaceSelector\":{},\"podSelector\":{\"matchLabels\":"           \
	    "{\"app\":\"client\"}}}]}]}")

static void test_cnp_admin_priority_lower_first(void **state)
{
	struct fixture f = {};

	(void)state;
	build(&f, "\"clusternetworkpolicies\":["
		  K8SCNP("deny-web", "Admin", "10", SUBJ_DB ",\"ingress\":[{\"action\":\"Deny\","
			 "\"from\":[" FROM_WEB "]}]")
		  "," K8SCNP("accept-all", "Admin", "20", SUBJ_DB ",\"ingress\":[{\"action\":"
			 "\"Accept\",\"from\":[{\"namespaces\":{}}]}]") "]");
	assert_false(tcp_ok(&f, "a/web", "a/db", 5432));
	assert_true(tcp_ok(&f, "b/client", "a/db", 5432));
	done(&f);
	build(&f, "\"clusternetworkpolicies\":["
		  K8SCNP("deny-web", "Admin", "30", SUBJ_DB ",\"ingress\":[{\"action\":\"Deny\","
			 "\"from\":[" FROM_WEB "]}]")
		  "," K8SCNP("accept-all", "Admin", "20", SUBJ_DB ",\"ingress\":[{\"action\":"
			 "\"Accept\",\"from\":[{\"namespaces\":{}}]}]") "]");
	assert_true(tcp_ok(&f, "a/web", "a/db", 5432));
	done(&f);
	/* within one policy, rules in the order written */
	build(&f, "\"clusternetworkpolicies\":["
		  K8SCNP("one", "Admin", "1", SUBJ_DB ",\"ingress\":[{\"action\":\"Accept\","
			 "\"from\":[" FROM_WEB "]},{\"action\":\"Deny\",\"from\":[{\"namespaces\":{}}]}]")
		  "]");
	assert_true(tcp_ok(&f, "a/web", "a/db", 5432));
	assert_false(tcp_ok(&f, "b/client", "a/db", 5432));
	assert_true(tcp_ok(&f, "a/db", "a/web", 80)); /* web is no subject */
	done(&f);
}

static void test_cnp_admin_decides_before_network_policies(void **state)
{
	struct fixture f = {};

	(void)state;
	/* Accept beats the NetworkPolicy that would deny web, and a Calico
	 * policy of the default tier ordered first */
	build(&f, "\"networkpolicies\":[" NP_DB_FROM_CLIENT "],\"globalnetworkpolicies\":["
		  GNP("default.early", "{\"order\":1,\"selector\":\"app == 'db'\",\"ingress\":"
		      "[{\"action\":\"Deny\",\"source\":{\"selector\":\"app == 'web'\"}}]}")
		  "],\"clusternetworkpolicies\":["
		  K8SCNP("ops", "Admin", "5", SUBJ_DB ",\"ingress\":[{\"action\":\"Accept\","
			 "\"from\":[" FROM_WEB "]}]") "]");
	assert_true(tcp_ok(&f, "a/web", "a/db", 5432));
	assert_true(tcp_ok(&f, "b/client", "a/db", 5432)); /* no CNP match: the NP allows */
	done(&f);
	/* Deny beats the NetworkPolicy that allows client */
	build(&f, "\"networkpolicies\":[" NP_DB_FROM_CLIENT "],\"clusternetworkpolicies\":["
		  K8SCNP("block-b", "Admin", "5", SUBJ_DB ",\"ingress\":[{\"action\":\"Deny\","
			 "\"from\":[" FROM_B "]}]") "]");
	assert_false(tcp_ok(&f, "b/client", "a/db", 5432));
	assert_false(tcp_ok(&f, "a/web", "a/db", 5432)); /* the NP: not from client */
	{
		struct policy_explain e;
		const struct policy_explain_dir *in = &e.dir[POLICY_DIR_INGRESS];

		/* policy explain names the tier, the ClusterNetworkPolicy and its rule */
		assert_int_equal(explain_tcp(&f, "b/client", "a/db", 5432, &e), 0);
		assert_int_equal(in->end, POLICY_EXPLAIN_END_RULE);
		assert_string_equal(in->tier, "kube-admin");
		assert_string_equal(in->rules[in->n_rules - 1].np->key, "cnp:block-b");
		assert_int_equal(in->rules[in->n_rules - 1].action, POLICY_ACTION_DENY);
		policy_explain_done(&e);
		/* no CNP rule matched: on to the NetworkPolicy of tier default */
		assert_int_equal(explain_tcp(&f, "a/web", "a/db", 5432, &e), 0);
		assert_string_equal(in->tier, "default");
		assert_int_equal(in->end, POLICY_EXPLAIN_END_TIER);
		policy_explain_done(&e);
	}
	done(&f);
}

static void test_cnp_pass_hands_over_to_network_policies(void **state)
{
	struct fixture f = {};

	(void)state;
	build(&f, "\"networkpolicies\":[" KNP("a", "db", "{\"podSelector\":{\"matchLabels\":"
		  "{\"app\":\"db\"}},\"ingress\":[{\"from\":[{\"podSelector\":{\"matchLabels\":"
		  "{\"app\":\"web\"}}}]}]}") "],\"clusternetworkpolicies\":["
		  K8SCNP("pass-web", "Admin", "1", SUBJ_DB ",\"ingress\":[{\"action\":\"Pass\","
			 "\"from\":[" FROM_WEB "]}]")
		  "," K8SCNP("deny-rest", "Admin", "2", SUBJ_DB ",\"ingress\":[{\"action\":"
			 "\"Deny\",\"from\":[{\"namespaces\":{}}]}]") "]");
	assert_true(tcp_ok(&f, "a/web", "a/db", 5432));	   /* passed: the NP allows web */
	assert_false(tcp_ok(&f, "b/client", "a/db", 5432)); /* not passed: deny-rest */
	done(&f);
	/* passed and no NetworkPolicy: allowed (the Baseline tier has nothing) */
	build(&f, "\"clusternetworkpolicies\":["
		  K8SCNP("pass-all", "Admin", "1", SUBJ_DB ",\"ingress\":[{\"action\":\"Pass\","
			 "\"from\":[{\"namespaces\":{}}]}]") "]");
	assert_true(tcp_ok(&f, "b/client", "a/db", 5432));
	done(&f);
}

static void test_cnp_baseline_only_where_no_network_policy_selects(void **state)
{
	struct fixture f = {};
	struct pkt p;

	(void)state;
	build(&f, "\"networkpolicies\":[" NP_DB_FROM_CLIENT "],\"clusternetworkpolicies\":["
		  K8SCNP("baseline", "Baseline", "10", "\"subject\":{\"namespaces\":{\"matchLabels\":"
			 "{\"team\":\"x\"}}},\"ingress\":[{\"action\":\"Accept\",\"from\":[" FROM_WEB
			 "]},{\"action\":\"Deny\",\"from\":[{\"namespaces\":{}}]}]") "]");
	/* a/web: no NetworkPolicy selects it: the Baseline decides */
	assert_false(tcp_ok(&f, "b/client", "a/web", 80));
	/* a/db: its NetworkPolicy decides; Baseline's Accept of web does not
	 * open what the NP denies, nor its Deny close what the NP allows */
	assert_true(tcp_ok(&f, "b/client", "a/db", 5432));
	assert_false(tcp_ok(&f, "a/web", "a/db", 5432));
	/* the NP isolates a/db for ingress only: its egress gets the Baseline
	 * (which has no egress rules: open) */
	assert_true(tcp_ok(&f, "a/db", "b/client", 80));
	/* Admin before Baseline, and Admin Pass reaches Baseline */
	done(&f);
	build(&f, "\"clusternetworkpolicies\":["
		  K8SCNP("admin", "Admin", "500", "\"subject\":{\"namespaces\":{}},\"egress\":"
			 "[{\"action\":\"Pass\",\"to\":[{\"networks\":[\"192.0.2.0/24\"]}]},"
			 "{\"action\":\"Accept\",\"to\":[{\"networks\":[\"0.0.0.0/0\"]}]}]")
		  "," K8SCNP("base", "Baseline", "0", "\"subject\":{\"namespaces\":{}},\"egress\":"
			 "[{\"action\":\"Deny\",\"to\":[{\"networks\":[\"192.0.2.0/25\"]}]}]") "]");
	assert_false(tcp_ok(&f, "a/web", "192.0.2.1", 443)); /* passed, Baseline denies */
	assert_true(tcp_ok(&f, "a/web", "192.0.2.200", 443)); /* passed, nothing denies */
	assert_true(tcp_ok(&f, "a/web", "198.51.100.1", 443)); /* Admin accepts */
	p = tcp(&f, "a/web", "192.0.2.1", 53);
	p.proto = IPPROTO_UDP;
	assert_false(allowed(policy_desired_nft(f.d), p));
	done(&f);
}

static void test_cnp_protocols_ports_and_networks(void **state)
{
	struct fixture f = {};
	struct pkt p;

	(void)state;
	build(&f, "\"clusternetworkpolicies\":["
		  K8SCNP("web", "Admin", "1", "\"subject\":{\"pods\":{\"namespaceSelector\":{},"
			 "\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}}}},"
			 "\"egress\":[{\"action\":\"Accept\",\"to\":[{\"networks\":[\"10.65.1.0/24\","
			 "\"203.0.113.0/24\"]}],\"protocols\":[{\"tcp\":{\"destinationPort\":{\"number\":"
			 "443}}},{\"tcp\":{\"destinationPort\":{\"range\":{\"start\":8000,\"end\":8080}}}},"
			 "{\"udp\":{}}]},{\"action\":\"Deny\",\"to\":[{\"networks\":[\"0.0.0.0/0\"]}]}]")
		  "]");
	assert_true(tcp_ok(&f, "a/web", "b/client", 443)); /* networks match pod addresses too */
	assert_true(tcp_ok(&f, "a/web", "203.0.113.9", 8080));
	assert_false(tcp_ok(&f, "a/web", "203.0.113.9", 8081));
	assert_false(tcp_ok(&f, "a/web", "203.0.113.9", 80));
	assert_false(tcp_ok(&f, "a/web", "198.51.100.1", 443));
	p = tcp(&f, "a/web", "203.0.113.9", 9999);
	p.proto = IPPROTO_UDP;
	assert_true(allowed(policy_desired_nft(f.d), p));
	done(&f);
}

static void test_cnp_peers_are_pods_never_network_sets(void **state)
{
	struct fixture f = {};

	(void)state;
	/* pods without namespaceSelector: every namespace (it is optional) */
	build(&f, "\"clusternetworkpolicies\":["
		  K8SCNP("any-ns", "Admin", "1", "\"subject\":{\"pods\":{\"podSelector\":"
			 "{\"matchLabels\":{\"app\":\"db\"}}}},\"ingress\":[{\"action\":\"Deny\","
			 "\"from\":[{\"pods\":{\"podSelector\":{\"matchLabels\":{\"app\":"
			 "\"client\"}}}}]}]") "]");
	assert_false(tcp_ok(&f, "b/client", "a/db", 80));
	assert_true(tcp_ok(&f, "a/web", "a/db", 80));
	done(&f);
	build(&f, "\"networksets\":[{\"kind\":\"NetworkSet\",\"metadata\":{\"name\":\"ops\","
		  "\"namespace\":\"b\",\"labels\":{\"app\":\"client\"}},\"spec\":{\"nets\":"
		  "[\"198.51.100.0/24\"]}}],\"clusternetworkpolicies\":["
		  K8SCNP("deny-b", "Admin", "1", SUBJ_DB ",\"ingress\":[{\"action\":\"Deny\","
			 "\"from\":[{\"pods\":{\"namespaceSelector\":{},\"podSelector\":{\"matchLabels\":"
			 "{\"app\":\"client\"}}}}]}]") "]");
	assert_false(tcp_ok(&f, "b/client", "a/db", 80));
	assert_true(tcp_ok(&f, "198.51.100.7", "a/db", 80));
	done(&f);
}

static void test_cnp_invalid_or_unsupported_fails_closed(void **state)
{
	static const struct {
		const char *json;
		int want;
		const char *msg; /* substring */
	} v[] = {
		{ K8SCNP("a", "Middle", "1", SUBJ_DB), -EINVAL, "'Middle' is not Admin or Baseline" },
		{ K8SCNP("a", "Admin", "1001", SUBJ_DB), -EINVAL, "spec.priority" },
		{ K8SCNP("a", "Admin", "1", "\"subject\":{}"), -EINVAL, "spec.subject" },
		{ K8SCNP("a", "Admin", "1", SUBJ_DB ",\"egress\":[{\"action\":\"Allow\",\"to\":"
			 "[{\"networks\":[\"10.0.0.0/8\"]}]}]"), -EINVAL, "not Accept, Deny or Pass" },
		{ K8SCNP("a", "Admin", "1", SUBJ_DB ",\"egress\":[{\"action\":\"Deny\",\"to\":"
			 "[{\"networks\":[\"10.1.2.3/8\"]}]}]"), -EINVAL, "without host bits" },
		{ K8SCNP("a", "Admin", "1", SUBJ_DB ",\"egress\":[{\"action\":\"Deny\",\"to\":"
			 "[{\"namespaces\":{},\"networks\":[\"10.0.0.0/8\"]}]}]"), -EINVAL,
		  "exactly one field" },
		{ K8SCNP("a", "Admin", "1", SUBJ_DB ",\"ingress\":[{\"action\":\"Deny\",\"from\":"
			 "[{\"namespaces\":{}}],\"protocols\":[{\"tcp\":{\"destinationPort\":{\"range\":"
			 "{\"start\":80,\"end\":80}}}}]}]"), -EINVAL, "start < end" },
		{ K8SCNP("a", "Admin", "1", SUBJ_DB ",\"ingress\":[{\"action\":\"Deny\",\"from\":"
			 "[{\"namespaces\":{\"matchLabels\":{\"bad key!\":\"x\"}}}]}]"), -EINVAL,
		  "matchLabels" },
		{ K8SCNP("a", "Admin", "1", SUBJ_DB ",\"egress\":[{\"action\":\"Accept\",\"to\":"
			 "[{\"domainNames\":[\"example.com\"]}]}]"), 1, "domainNames" },
		{ K8SCNP("a", "Admin", "1", SUBJ_DB ",\"ingress\":[{\"action\":\"Accept\",\"from\":"
			 "[{\"namespaces\":{}}],\"protocols\":[{\"destinationNamedPort\":\"http\"}]}]"),
		  1, "destinationNamedPort" },
		{ K8SCNP("a", "Admin", "1", SUBJ_DB ",\"egress\":[{\"action\":\"Deny\",\"to\":"
			 "[{\"nodes\":{}}]}]"), 1, "nodes" },
	};
	struct fixture f = {};
	struct policy_netpol *np = NULL;
	json_t *j;

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		char *err = NULL;
		int r;

		j = json_loads(v[i].json, 0, NULL);
		assert_non_null(j);
		np = NULL;
		r = policy_cnp_from_json(j, &np, &err);
		if (r != v[i].want)
			fail_msg("vector %zu: want %d, got %d (%s)", i, v[i].want, r, err ?: "");
		if (!err || !strstr(err, v[i].msg) || !strstr(err, "ClusterNetworkPolicy 'a'"))
			fail_msg("vector %zu: want '%s' in '%s'", i, v[i].msg, err ?: "(none)");
		policy_netpol_unref(np);
		free(err);
		json_decref(j);
	}
	/* Accept with an unsupported peer or named port: matches nothing (the
	 * next rule decides); Deny with one: denies everything */
	build(&f, "\"clusternetworkpolicies\":["
		  K8SCNP("named", "Admin", "1", SUBJ_DB ",\"ingress\":[{\"action\":\"Accept\","
			 "\"from\":[{\"namespaces\":{}}],\"protocols\":[{\"destinationNamedPort\":"
			 "\"pg\"},{\"tcp\":{\"destinationPort\":{\"number\":22}}}]},{\"action\":"
			 "\"Deny\",\"from\":[" FROM_B "]}]")
		  "," K8SCNP("fqdn", "Admin", "2", "\"subject\":{\"pods\":{\"namespaceSelector\":{},"
			 "\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}}}},\"egress\":[{\"action\":"
			 "\"Deny\",\"to\":[{\"networks\":[\"192.0.2.0/24\"]},{\"nodes\":{}}]}]") "]");
	assert_false(tcp_ok(&f, "b/client", "a/db", 5432));
	assert_true(tcp_ok(&f, "b/client", "a/db", 22));
	assert_true(tcp_ok(&f, "203.0.113.5", "a/db", 5432)); /* no rule matched: open */
	assert_false(tcp_ok(&f, "a/web", "198.51.100.1", 80)); /* Deny + nodes: deny all */
	assert_true(tcp_ok(&f, "b/client", "198.51.100.1", 80));
	/* an invalid policy's stand-in denies its subject both ways */
	j = json_loads(K8SCNP("bad", "Baseline", "1", SUBJ_DB ",\"ingress\":[{\"action\":"
			      "\"Accept\",\"from\":[]}]"), 0, NULL);
	assert_int_equal(policy_cnp_from_json(j, &np, NULL), -EINVAL);
	assert_int_equal(policy_cnp_deny_from_json(j, &np), 0);
	assert_string_equal(np->tier, POLICY_CNP_BASELINE_TIER);
	assert_int_equal(policy_model_set_netpol(f.m, np), 0);
	f.d = policy_desired_free(f.d);
	assert_int_equal(policy_compile(f.m, NULL, &f.d), 0);
	assert_false(tcp_ok(&f, "a/web", "a/db", 5432));
	assert_false(tcp_ok(&f, "a/db", "a/web", 80));
	assert_true(tcp_ok(&f, "b/client", "a/web", 80));
	json_decref(j);
	done(&f);
}

static void test_cnp_label_change_is_incremental(void **state)
{
	(void)state;
	relabel_client_to_web("\"clusternetworkpolicies\":["
			      K8SCNP("db", "Admin", "1", SUBJ_DB ",\"ingress\":[{\"action\":\"Accept\","
				     "\"from\":[{\"pods\":{\"namespaceSelector\":{},\"podSelector\":"
				     "{\"matchLabels\":{\"app\":\"web\"}}}}]},{\"action\":\"Deny\","
				     "\"from\":[{\"namespaces\":{}}]}]") "]");
}

/* v1alpha2 objects (the same schema) and the tier objects' names */
static void test_cnp_versions_and_fixed_tiers(void **state)
{
	struct fixture f = {};

	(void)state;
	/* a Tier object named kube-admin with Deny does not change the tier */
	build(&f, "\"tiers\":[" TIER("kube-admin", "1", "Deny") "],\"clusternetworkpolicies\":["
		  "{\"apiVersion\":\"policy.networking.k8s.io/v1alpha2\",\"kind\":"
		  "\"ClusterNetworkPolicy\",\"metadata\":{\"name\":\"old\"},\"spec\":{\"tier\":"
		  "\"Admin\",\"priority\":0," SUBJ_DB ",\"ingress\":[{\"action\":\"Deny\",\"from\":["
		  FROM_B "]}]}}]");
	assert_false(tcp_ok(&f, "b/client", "a/db", 80));
	assert_true(tcp_ok(&f, "a/web", "a/db", 80)); /* default action Pass, then open */
	done(&f);
}

/* ---- the ClusterNetworkPolicy conformance suite's sequence ----
 * What network-policy-api v0.3.0's suite does to one cluster, in its
 * order: the PodSelector test of the Admin tier (its two policies, pod
 * labels set and removed), its policies deleted, the Baseline IngressTCP
 * test's policy, then the PodSelector test again in the Baseline tier
 * (same policy names). Its four namespaces' StatefulSet pods are spread
 * over three nodes, each with its own model and table as each felix-c
 * has: a label change goes through the incremental path and must leave
 * every node's table equal to a full compile, a policy change is a full
 * compile, and every probe must give what the suite expects. */

#define SUITE_NODES 3

struct suite_pod {
	const char *ns, *name;
	int node; /* index in the nodes' array */
	const char *ip;
};

static const struct suite_pod suite_pods[] = {
	{ "gryffindor", "harry-potter-0", 0, "10.65.0.1" },
	{ "gryffindor", "harry-potter-1", 1, "10.65.1.1" },
	{ "slytherin", "draco-malfoy-0", 1, "10.65.1.2" },
	{ "slytherin", "draco-malfoy-1", 2, "10.65.2.1" },
	{ "hufflepuff", "cedric-diggory-0", 2, "10.65.2.2" },
	{ "hufflepuff", "cedric-diggory-1", 0, "10.65.0.2" },
	{ "ravenclaw", "luna-lovegood-0", 0, "10.65.0.3" },
	{ "ravenclaw", "luna-lovegood-1", 2, "10.65.2.3" },
};

static const char *const suite_node_names[SUITE_NODES] = { "n1", "n2", "n3" };

static const struct suite_pod *suite_pod(const char *name)
{
	for (size_t i = 0; i < ELEMENTSOF(suite_pods); i++)
		if (strcmp(suite_pods[i].name, name) == 0)
			return &suite_pods[i];
	fail_msg("no pod '%s'", name);
	return NULL;
}

/* The pod as the apiserver has it, with conformance-role=@role (NULL: none). */
static json_t *suite_pod_json(const struct suite_pod *p, const char *role)
{
	json_t *j = json_pack("{s:{s:s,s:s,s:{s:s,s:s}},s:{s:s},s:{s:[{s:s}]}}", "metadata",
			      "name", p->name, "namespace", p->ns, "labels", "conformance-house",
			      p->ns, "statefulset.kubernetes.io/pod-name", p->name, "spec",
			      "nodeName", suite_node_names[p->node], "status", "podIPs", "ip", p->ip);

	assert_non_null(j);
	if (role)
		assert_int_equal(json_object_set_new(json_object_get(json_object_get(j, "metadata"),
								     "labels"),
						     "conformance-role", json_string(role)),
				 0);
	return j;
}

static void suite_compile_node(struct fixture *f)
{
	f->d = policy_desired_free(f->d);
	assert_int_equal(policy_compile(f->m, &(struct policy_options){ .nflog_group = -1 },
					&f->d), 0);
}

static void suite_compile(struct fixture *nodes)
{
	for (int n = 0; n < SUITE_NODES; n++)
		suite_compile_node(&nodes[n]);
}

static void suite_up(struct fixture *nodes)
{
	static const char *const houses[] = { "gryffindor", "slytherin", "hufflepuff", "ravenclaw" };

	for (int n = 0; n < SUITE_NODES; n++) {
		assert_int_equal(policy_model_new(suite_node_names[n], &nodes[n].m), 0);
		for (size_t i = 0; i < ELEMENTSOF(houses); i++) {
			json_t *ns = json_pack("{s:{s:s,s:{s:s,s:s}}}", "metadata", "name", houses[i],
					       "labels", "conformance-house", houses[i],
					       "kubernetes.io/metadata.name", houses[i]);

			assert_int_equal(policy_model_load_object(nodes[n].m, "namespaces", ns, NULL),
					 0);
			json_decref(ns);
		}
		for (size_t i = 0; i < ELEMENTSOF(suite_pods); i++) {
			json_t *pod = suite_pod_json(&suite_pods[i], NULL);

			assert_int_equal(policy_model_load_object(nodes[n].m, "pods", pod, NULL), 0);
			json_decref(pod);
		}
	}
	suite_compile(nodes);
}

/* A policy created (@json) or deleted (@json NULL, key cnp:@name): a full
 * compile on every node, as felix-c does for any change but a pod's. */
static void suite_policy(struct fixture *nodes, const char *name, const char *json)
{
	_cleanup_free_ char *key = NULL;

	for (int n = 0; n < SUITE_NODES; n++) {
		if (json) {
			json_t *j = json_loads(json, 0, NULL);

			assert_non_null(j);
			assert_int_equal(policy_model_load_object(nodes[n].m, "clusternetworkpolicies",
								  j, NULL), 0);
			json_decref(j);
		} else {
			if (!key)
				assert_true(asprintf(&key, "cnp:%s", name) > 0);
			assert_int_equal(policy_model_del_policy(nodes[n].m, key), 0);
		}
	}
	suite_compile(nodes);
}

/* kubectl label (@role NULL: the label removed): each node's felix-c takes
 * the incremental path (a full compile when it says -ESTALE, as
 * policymgr.c does), and its table must equal a full compile. */
static void suite_label(struct fixture *nodes, const char *pod, const char *role)
{
	const struct suite_pod *sp = suite_pod(pod);
	json_t *j = suite_pod_json(sp, role);

	for (int n = 0; n < SUITE_NODES; n++) {
		struct policy_pod *p = NULL, *old = NULL;
		struct policy_plan *plan = NULL;
		struct policy_desired *full = NULL;
		_cleanup_free_ char *a = NULL, *b = NULL;
		int r;

		assert_int_equal(policy_pod_from_json(j, &p, NULL), 0);
		assert_int_equal(policy_model_set_pod(nodes[n].m, p, &old), 0);
		r = policy_desired_update_pod(nodes[n].d, nodes[n].m, old,
					      policy_model_get_pod(nodes[n].m, sp->ns, sp->name),
					      &plan);
		if (r == -ESTALE)
			suite_compile_node(&nodes[n]);
		else
			assert_int_equal(r, 0);
		assert_int_equal(policy_compile(nodes[n].m, &(struct policy_options){
							.nflog_group = -1 }, &full), 0);
		a = dump(policy_desired_nft(nodes[n].d));
		b = dump(policy_desired_nft(full));
		if (strcmp(a, b) != 0)
			fail_msg("node %s after labelling %s: the incremental table differs from a "
				 "full compile", suite_node_names[n], pod);
		policy_desired_free(full);
		policy_plan_free(plan);
		policy_pod_free(old);
	}
	json_decref(j);
}

/* A probe from pod @from to pod @to: @from's node runs its egress (out of
 * eth0 when @to is elsewhere), @to's node its ingress (in from eth0). */
static bool suite_ok(const struct fixture *nodes, const char *from, const char *to,
		     uint8_t proto, uint16_t port)
{
	const struct suite_pod *ends[2] = { suite_pod(from), suite_pod(to) };
	struct pkt p = { .family = AF_INET, .proto = proto, .sport = 40000, .dport = port };
	bool ok = true;

	for (int i = 0; i < 2; i++) {
		const struct policy_pod *pod = policy_model_get_pod(nodes[ends[i]->node].m,
								    ends[i]->ns, ends[i]->name);

		assert_non_null(pod);
		memcpy(i ? p.daddr : p.saddr, pod->ips[0].addr, 4);
	}
	for (int i = 0; i < 2; i++) { /* the source's node, then the destination's */
		const struct fixture *f = &nodes[ends[i]->node];
		struct pkt q = p;

		if (i == 1 && ends[0]->node == ends[1]->node)
			break; /* one node ran both */
		for (int k = 0; k < 2; k++) {
			char *ifn = k ? q.oif : q.iif;

			if (ends[k]->node == ends[i]->node)
				memcpy(ifn, policy_model_get_pod(f->m, ends[k]->ns, ends[k]->name)->ifname,
				       16);
			else
				snprintf(ifn, 16, "eth0");
		}
		ok = ok && allowed(policy_desired_nft(f->d), q);
	}
	return ok;
}

#define SUITE_TCP(F, T, PORT) suite_ok(nodes, F, T, IPPROTO_TCP, PORT)

/* One step of a test: pod @label's conformance-role label set to @role
 * (NULL: removed), when @label is set; then, when @from is set, a TCP
 * probe that must give @allowed. */
struct suite_step {
	const char *label, *role;
	const char *from, *to;
	uint16_t port;
	bool allowed;
};

static void suite_steps(struct fixture *nodes, const struct suite_step *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (v[i].label)
			suite_label(nodes, v[i].label, v[i].role);
		if (v[i].from && SUITE_TCP(v[i].from, v[i].to, v[i].port) != v[i].allowed)
			fail_msg("step %zu: %s -> %s:%u is %s", i, v[i].from, v[i].to, v[i].port,
				 v[i].allowed ? "denied" : "allowed");
	}
}

/* The PodSelector test's subtests, in order (cleanups included). */
static const struct suite_step pod_selector_steps[] = {
	/* egress peers */
	{ NULL, NULL, "harry-potter-0", "luna-lovegood-0", 8080, false },
	{ NULL, NULL, "harry-potter-0", "luna-lovegood-0", 80, true },
	{ NULL, NULL, "harry-potter-1", "luna-lovegood-1", 80, false },
	/* ingress peers, a peer's label set and removed */
	{ NULL, NULL, "draco-malfoy-1", "harry-potter-1", 80, false },
	{ NULL, NULL, "draco-malfoy-0", "harry-potter-0", 80, true },
	{ "cedric-diggory-0", "blocked", "cedric-diggory-0", "harry-potter-0", 80, false },
	{ NULL, NULL, "cedric-diggory-1", "harry-potter-0", 80, true },
	{ "cedric-diggory-0", NULL, "cedric-diggory-0", "harry-potter-0", 80, true },
	{ "cedric-diggory-1", "blocked", "cedric-diggory-1", "harry-potter-0", 80, false },
	{ "cedric-diggory-0", NULL, NULL, NULL, 0, false }, /* the subtest's cleanup */
	{ "cedric-diggory-1", NULL, "cedric-diggory-1", "harry-potter-0", 80, true },
	/* the subject, a subject's label set and removed */
	{ NULL, NULL, "draco-malfoy-0", "luna-lovegood-1", 80, true },
	{ "luna-lovegood-0", "restricted", "luna-lovegood-0", "draco-malfoy-0", 80, false },
	{ NULL, NULL, "luna-lovegood-1", "draco-malfoy-0", 80, true },
	{ "luna-lovegood-0", NULL, "luna-lovegood-0", "draco-malfoy-0", 80, true },
	{ "luna-lovegood-1", "restricted", "luna-lovegood-1", "draco-malfoy-0", 80, false },
	{ "luna-lovegood-0", NULL, NULL, NULL, 0, false },
	{ "luna-lovegood-1", NULL, "luna-lovegood-1", "draco-malfoy-0", 80, true },
};

/* The Baseline IngressTCP test's probes before it reorders rules. */
static const struct suite_step ingress_tcp_steps[] = {
	{ NULL, NULL, "luna-lovegood-0", "harry-potter-0", 80, true },
	{ NULL, NULL, "luna-lovegood-1", "harry-potter-0", 8080, true },
	{ NULL, NULL, "cedric-diggory-0", "harry-potter-1", 80, true },
	{ NULL, NULL, "cedric-diggory-1", "harry-potter-1", 8080, false },
	{ NULL, NULL, "harry-potter-0", "luna-lovegood-0", 80, true },
	{ NULL, NULL, "harry-potter-1", "draco-malfoy-0", 80, true },
	{ NULL, NULL, "draco-malfoy-0", "harry-potter-0", 80, false },
	{ NULL, NULL, "draco-malfoy-1", "harry-potter-0", 8080, true },
};

/* The suite's PodSelector test in @tier: its policies, every probe, its
 * label changes and its cleanup (the labels removed, the policies deleted). */
static void suite_pod_selector(struct fixture *nodes, const char *tier)
{
	_cleanup_free_ char *rules = NULL, *subject = NULL;

	assert_true(asprintf(&rules, K8SCNP("pod-selector-rules", "%s", "%d",
		"\"subject\":{\"pods\":{\"podSelector\":{\"matchLabels\":"
		"{\"conformance-house\":\"gryffindor\"}}}},"
		"\"egress\":[{\"name\":\"allow-to-luna-lovegood-0-tcp-80\",\"action\":\"Accept\","
		"\"to\":[{\"pods\":{\"namespaceSelector\":{\"matchLabels\":{\"conformance-house\":"
		"\"ravenclaw\"}},\"podSelector\":{\"matchLabels\":{\"statefulset.kubernetes.io/pod-name\":"
		"\"luna-lovegood-0\"}}}}],\"protocols\":[{\"tcp\":{\"destinationPort\":{\"number\":80}}}]},"
		"{\"name\":\"deny-to-ravenclaw-pods\",\"action\":\"Deny\",\"to\":[{\"pods\":"
		"{\"podSelector\":{\"matchLabels\":{\"conformance-house\":\"ravenclaw\"}}}}]}],"
		"\"ingress\":[{\"name\":\"allow-from-draco-malfoy-0\",\"action\":\"Accept\","
		"\"from\":[{\"pods\":{\"namespaceSelector\":{\"matchLabels\":{\"conformance-house\":"
		"\"slytherin\"}},\"podSelector\":{\"matchLabels\":{\"statefulset.kubernetes.io/pod-name\":"
		"\"draco-malfoy-0\"}}}}]},"
		"{\"name\":\"deny-from-slytherin-pods\",\"action\":\"Deny\",\"from\":[{\"pods\":"
		"{\"podSelector\":{\"matchLabels\":{\"conformance-house\":\"slytherin\"}}}}]},"
		"{\"name\":\"deny-from-blocked-hufflepuff-pods\",\"action\":\"Deny\",\"from\":"
		"[{\"pods\":{\"namespaceSelector\":{\"matchLabels\":{\"conformance-house\":"
		"\"hufflepuff\"}},\"podSelector\":{\"matchLabels\":{\"conformance-role\":"
		"\"blocked\"}}}}]}]"), tier, strcmp(tier, "Admin") == 0 ? 20 : 10) > 0);
	assert_true(asprintf(&subject, K8SCNP("label-selected-subject-rules", "%s", "%d",
		"\"subject\":{\"pods\":{\"namespaceSelector\":{\"matchLabels\":"
		"{\"conformance-house\":\"ravenclaw\"}},\"podSelector\":{\"matchLabels\":"
		"{\"conformance-role\":\"restricted\"}}}},"
		"\"egress\":[{\"name\":\"deny-to-slytherin\",\"action\":\"Deny\",\"to\":"
		"[{\"namespaces\":{\"matchLabels\":{\"kubernetes.io/metadata.name\":"
		"\"slytherin\"}}}]}]"), tier, strcmp(tier, "Admin") == 0 ? 21 : 10) > 0);
	suite_policy(nodes, "pod-selector-rules", rules);
	suite_policy(nodes, "label-selected-subject-rules", subject);

	suite_steps(nodes, pod_selector_steps, ELEMENTSOF(pod_selector_steps));
	suite_policy(nodes, "pod-selector-rules", NULL);
	suite_policy(nodes, "label-selected-subject-rules", NULL);
}

/* After a test's cleanup nothing of it is left: every pod reaches every
 * other over TCP and UDP, and each table is what a node that never saw
 * the test compiles. */
static void suite_nothing_left(struct fixture *nodes)
{
	struct fixture fresh[SUITE_NODES] = {};

	for (size_t i = 0; i < ELEMENTSOF(suite_pods); i++)
		for (size_t k = 0; k < ELEMENTSOF(suite_pods); k++)
			if (i != k) {
				assert_true(SUITE_TCP(suite_pods[i].name, suite_pods[k].name, 80));
				assert_true(suite_ok(nodes, suite_pods[i].name, suite_pods[k].name,
						     IPPROTO_UDP, 53));
			}
	suite_up(fresh);
	for (int n = 0; n < SUITE_NODES; n++) {
		_cleanup_free_ char *a = dump(policy_desired_nft(nodes[n].d));
		_cleanup_free_ char *b = dump(policy_desired_nft(fresh[n].d));

		assert_string_equal(a, b);
		done(&fresh[n]);
	}
}

static void test_cnp_conformance_suite_sequence(void **state)
{
	struct fixture nodes[SUITE_NODES] = {};

	(void)state;
	suite_up(nodes);
	suite_nothing_left(nodes);
	suite_pod_selector(nodes, "Admin");
	suite_nothing_left(nodes);
	/* Baseline IngressTCP's policy (no NetworkPolicy here: Baseline decides) */
	suite_policy(nodes, "default", K8SCNP("default", "Baseline", "10",
		"\"subject\":{\"namespaces\":{\"matchLabels\":{\"kubernetes.io/metadata.name\":"
		"\"gryffindor\"}}},\"ingress\":["
		"{\"action\":\"Accept\",\"from\":[{\"namespaces\":{\"matchLabels\":"
		"{\"kubernetes.io/metadata.name\":\"ravenclaw\"}}}]},"
		"{\"action\":\"Deny\",\"from\":[{\"namespaces\":{\"matchLabels\":"
		"{\"kubernetes.io/metadata.name\":\"ravenclaw\"}}}]},"
		"{\"action\":\"Deny\",\"from\":[{\"namespaces\":{\"matchLabels\":"
		"{\"kubernetes.io/metadata.name\":\"slytherin\"}}}],"
		"\"protocols\":[{\"tcp\":{\"destinationPort\":{\"number\":80}}}]},"
		"{\"action\":\"Accept\",\"from\":[{\"namespaces\":{\"matchLabels\":"
		"{\"kubernetes.io/metadata.name\":\"hufflepuff\"}}}],"
		"\"protocols\":[{\"tcp\":{\"destinationPort\":{\"number\":80}}}]},"
		"{\"action\":\"Deny\",\"from\":[{\"namespaces\":{\"matchLabels\":"
		"{\"kubernetes.io/metadata.name\":\"hufflepuff\"}}}]}]"));
	suite_steps(nodes, ingress_tcp_steps, ELEMENTSOF(ingress_tcp_steps));
	suite_policy(nodes, "default", NULL);
	suite_nothing_left(nodes);
	suite_pod_selector(nodes, "Baseline");
	suite_nothing_left(nodes);
	for (int n = 0; n < SUITE_NODES; n++)
		done(&nodes[n]);
}

/* ---- host endpoints, failsafes ---- */

#define HEP(NAME, LABELS, SPEC)                                                              \
	"{\"apiVersion\":\"crd.projectcalico.org/v1\",\"kind\":\"HostEndpoint\","             \
	"\"metadata\":{\"name\":\"" NAME "\",\"labels\":" LABELS "},\"spec\":" SPEC "}"
#define ETH0_HEP HEP("n1-eth0", "{\"role\":\"node\"}", "{\"node\":\"n1\",\"interfaceName\":\"eth0\"}")
#define HOST_IP "192.168.50.1"
#define OUTSIDE "203.0.113.5"

static struct pkt host_pkt(uint8_t proto, const char *iif, const char *oif, const char *src,
			   const char *dst, uint16_t port)
{
	struct pkt p = { .family = AF_INET, .proto = proto, .sport = 40000, .dport = port };

	snprintf(p.iif, sizeof(p.iif), "%s", iif);
	snprintf(p.oif, sizeof(p.oif), "%s", oif);
	assert_int_equal(inet_pton(AF_INET, src, p.saddr), 1);
	assert_int_equal(inet_pton(AF_INET, dst, p.daddr), 1);
	return p;
}

/* policy_explain() of a local process's flow through @ifname's host
 * endpoint (@in: arriving; else leaving) agrees with the table's @ok. */
static void host_explain_agrees(const struct fixture *f, const char *ifname, bool in,
				uint8_t proto, uint16_t port, bool ok)
{
	struct policy_flow fl = { .proto = proto, .port = port, .sport = 40000,
				  .failsafe_in = &f->fs_in, .failsafe_out = &f->fs_out };
	const struct policy_hep *h = hep_of(f->m, ifname);
	struct policy_explain e;
	int r;

	if (!h)
		return;
	*(in ? &fl.dst_hep : &fl.src_hep) = h;
	assert_int_equal(prefix_parse(in ? OUTSIDE : HOST_IP, PREFIX_ADDR_ONLY, &fl.saddr), 0);
	assert_int_equal(prefix_parse(in ? HOST_IP : OUTSIDE, PREFIX_ADDR_ONLY, &fl.daddr), 0);
	r = policy_explain(f->m, &fl, &e);
	if (r == -EOPNOTSUPP)
		return;
	assert_int_equal(r, 0);
	if (e.allowed != ok)
		fail_msg("%s %s %u/%u: the table %s, policy_explain() says %s", in ? "in" : "out",
			 ifname, port, proto, ok ? "allows" : "denies", e.allowed ? "allowed" : "denied");
	policy_explain_done(&e);
}

/* To a local process through @iif (the input hook's base chains); every
 * such check also holds policy_explain() to the same answer. */
static bool in_ok(const struct fixture *f, const char *iif, uint8_t proto, uint16_t port)
{
	bool ok = to_host(policy_desired_nft(f->d),
			  host_pkt(proto, iif, "", OUTSIDE, HOST_IP, port));

	host_explain_agrees(f, iif, true, proto, port, ok);
	return ok;
}

/* From a local process out of @oif (the output hook); explained too. */
static bool out_ok(const struct fixture *f, const char *oif, uint8_t proto, uint16_t port)
{
	static const char *const output[] = { "cc_raw_output", "cc_output", NULL };
	struct pkt p = host_pkt(proto, "", oif, HOST_IP, OUTSIDE, port);
	bool ok = hook_passes(policy_desired_nft(f->d), output, &p);

	host_explain_agrees(f, oif, false, proto, port, ok);
	return ok;
}

/* Forwarded from OUTSIDE through @iif to 198.51.100.7 through @oif (the
 * forward hook); explained too, through those interfaces' host endpoints. */
static bool fwd_ok(const struct fixture *f, const char *iif, const char *oif, uint16_t port)
{
	return pkt_ok(f, OUTSIDE, "198.51.100.7",
		      host_pkt(IPPROTO_TCP, iif, oif, OUTSIDE, "198.51.100.7", port));
}

/* The options of a host endpoint test: Accept, failsafes @in/@out. */
static void heps_compile(struct fixture *f, const char *in, const char *out,
			 struct policy_desired **ret)
{
	struct policy_failsafes fin, fout;

	assert_int_equal(policy_failsafes_parse(in, &fin), 0);
	assert_int_equal(policy_failsafes_parse(out, &fout), 0);
	f->fs_in = fin;
	f->fs_out = fout;
	f->host_action = POLICY_HOST_ACCEPT;
	assert_int_equal(policy_compile(f->m, &(struct policy_options){
			.nflog_group = -1, .endpoint_to_host = POLICY_HOST_ACCEPT,
			.failsafe_in = &fin, .failsafe_out = &fout }, ret), 0);
}

/* @base and @objects on node @node (NULL: every endpoint is local). */
static void build_heps_on(struct fixture *f, const char *node, const char *base,
			  const char *objects, const char *in, const char *out)
{
	_cleanup_free_ char *text = NULL;
	json_t *doc;

	assert_true(asprintf(&text, "{%s,%s}", base, objects) > 0);
	doc = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
	assert_non_null(doc);
	assert_int_equal(policy_model_new(node, &f->m), 0);
	assert_int_equal(policy_model_load_json(f->m, doc, NULL), 0);
	json_decref(doc);
	heps_compile(f, in, out, &f->d);
}

static void build_heps_fs(struct fixture *f, const char *objects, const char *in, const char *out)
{
	build_heps_on(f, NULL, cluster, objects, in, out);
}

/* With Calico's default failsafe ports. */
static void build_heps(struct fixture *f, const char *objects)
{
	build_heps_fs(f, objects, POLICY_FAILSAFE_IN_DEFAULT, POLICY_FAILSAFE_OUT_DEFAULT);
}

static void test_host_endpoint_without_policy_denies_but_failsafes(void **state)
{
	struct fixture f = {};

	(void)state;
	build_heps(&f, "\"hostendpoints\":[" ETH0_HEP "]");
	assert_false(in_ok(&f, "eth0", IPPROTO_TCP, 8080));
	assert_false(out_ok(&f, "eth0", IPPROTO_TCP, 8080));
	/* Calico's default failsafes, each in its direction only */
	assert_true(in_ok(&f, "eth0", IPPROTO_TCP, 22));
	assert_true(in_ok(&f, "eth0", IPPROTO_TCP, 179));
	assert_true(in_ok(&f, "eth0", IPPROTO_TCP, 6443));
	assert_true(in_ok(&f, "eth0", IPPROTO_UDP, 68));
	assert_false(in_ok(&f, "eth0", IPPROTO_UDP, 53));
	assert_true(out_ok(&f, "eth0", IPPROTO_UDP, 53));
	assert_true(out_ok(&f, "eth0", IPPROTO_TCP, 2379));
	assert_false(out_ok(&f, "eth0", IPPROTO_TCP, 22));
	/* other interfaces have no host endpoint: not policed */
	assert_true(in_ok(&f, "eth1", IPPROTO_TCP, 8080));
	assert_true(out_ok(&f, "eth1", IPPROTO_TCP, 8080));
	assert_true(in_ok(&f, "lo", IPPROTO_TCP, 8080));
	/* workloads: their own path (DefaultEndpointToHostAction), not the HEP's */
	assert_true(host_ok(&f, "a/web", 8080));
	assert_true(tcp_ok(&f, "a/web", "a/db", 80));
	/* forwarded traffic: no applyOnForward policy, not policed */
	assert_true(fwd_ok(&f, "eth0", "eth1", 8080));
	done(&f);
	/* no host endpoint at all: no output chain, the table as before */
	build_heps(&f, "\"hostendpoints\":[]");
	assert_null(policy_nft_chain_get(policy_desired_nft(f.d), "cc_output"));
	assert_null(policy_nft_chain_get(policy_desired_nft(f.d), "cc_failsafe_in"));
	done(&f);
}

static void test_global_policies_select_host_endpoints(void **state)
{
	static const char *const objs =
		"\"hostendpoints\":[" ETH0_HEP "],"
		"\"networkpolicies\":[{\"metadata\":{\"name\":\"all\",\"namespace\":\"a\"},"
		"\"spec\":{\"podSelector\":{},\"ingress\":[{}]}}],"
		"\"calico-networkpolicies\":[" CNP("a", "default.np-open", "{\"selector\":\"all()\","
		"\"ingress\":[{\"action\":\"Allow\"}]}") "],"
		"\"tiers\":[" TIER("sec", "10", "Pass") "],"
		"\"globalnetworkpolicies\":["
		GNP("default.deny-all", "{\"order\":100,\"selector\":\"role == 'node'\","
		    "\"types\":[\"Ingress\",\"Egress\"]}") ","
		GNP("default.web-port", "{\"order\":10,\"selector\":\"role == 'node'\",\"ingress\":"
		    "[{\"action\":\"Allow\",\"protocol\":\"TCP\",\"destination\":{\"ports\":[8080]}}]}") ","
		GNP("default.ns-scoped", "{\"order\":1,\"selector\":\"all()\","
		    "\"namespaceSelector\":\"has(team)\",\"ingress\":[{\"action\":\"Allow\"}]}") ","
		GNP("sec.pass-9090", "{\"tier\":\"sec\",\"selector\":\"role == 'node'\",\"ingress\":"
		    "[{\"action\":\"Pass\",\"protocol\":\"TCP\",\"destination\":{\"ports\":[9090]}},"
		    "{\"action\":\"Deny\",\"protocol\":\"TCP\",\"destination\":{\"ports\":[8080]}}]}") "]";
	struct fixture f = {};

	(void)state;
	build_heps(&f, objs);
	/* the tier sec first: 8080 denied there although default allows it */
	assert_false(in_ok(&f, "eth0", IPPROTO_TCP, 8080));
	/* 9090 passed to default, where deny-all (order 100) denies it */
	assert_false(in_ok(&f, "eth0", IPPROTO_TCP, 9090));
	assert_true(in_ok(&f, "eth0", IPPROTO_TCP, 22)); /* failsafe before any tier */
	assert_false(out_ok(&f, "eth0", IPPROTO_TCP, 443));
	assert_true(out_ok(&f, "eth0", IPPROTO_UDP, 53));
	/* Kubernetes, namespaced Calico and namespaceSelector GNPs never select it */
	assert_false(in_ok(&f, "eth0", IPPROTO_TCP, 7000));
	done(&f);
	/* without the sec tier, web-port (order 10) allows 8080 before deny-all */
	build_heps(&f, "\"hostendpoints\":[" ETH0_HEP "],\"globalnetworkpolicies\":["
		   GNP("default.deny-all", "{\"order\":100,\"selector\":\"role == 'node'\"}") ","
		   GNP("default.web-port", "{\"order\":10,\"selector\":\"role == 'node'\",\"ingress\":"
		       "[{\"action\":\"Allow\",\"protocol\":\"TCP\",\"destination\":{\"ports\":[8080]}}]}")
		   "]");
	assert_true(in_ok(&f, "eth0", IPPROTO_TCP, 8080));
	assert_false(in_ok(&f, "eth0", IPPROTO_TCP, 8081));
	/* no policy has Egress (Calico's types default): egress is denied */
	assert_false(out_ok(&f, "eth0", IPPROTO_TCP, 8080));
	/* the GNPs select no pod: pods are unaffected */
	assert_true(tcp_ok(&f, "b/client", "a/db", 80));
	done(&f);
	/* a policy selecting the endpoint by other labels does not apply */
	build_heps(&f, "\"hostendpoints\":[" ETH0_HEP "],\"globalnetworkpolicies\":["
		   GNP("default.other", "{\"selector\":\"role == 'db'\",\"ingress\":"
		       "[{\"action\":\"Allow\"}]}") "]");
	assert_false(in_ok(&f, "eth0", IPPROTO_TCP, 8080));
	done(&f);
}

static void test_host_endpoint_profiles_interfaces_and_nodes(void **state)
{
	struct fixture f = {};

	(void)state;
	/* projectcalico-default-allow: allowed when no policy decides */
	build_heps(&f, "\"hostendpoints\":[" HEP("n1-eth0", "{}", "{\"node\":\"n1\","
		   "\"interfaceName\":\"eth0\",\"profiles\":[\"projectcalico-default-allow\"]}") "]");
	assert_true(in_ok(&f, "eth0", IPPROTO_TCP, 8080));
	assert_true(out_ok(&f, "eth0", IPPROTO_TCP, 8080));
	done(&f);
	/* a profile calico-c has no rules for allows nothing */
	build_heps(&f, "\"hostendpoints\":[" HEP("n1-eth0", "{}", "{\"node\":\"n1\","
		   "\"interfaceName\":\"eth0\",\"profiles\":[\"kns.a\"]}") "]");
	assert_false(in_ok(&f, "eth0", IPPROTO_TCP, 8080));
	done(&f);
	/* "*": every other interface (lo too), the named one keeps its own;
	 * another node's endpoint and an expectedIPs-only one govern nothing here */
	build_heps_on(&f, "n1", cluster, "\"hostendpoints\":[" ETH0_HEP ","
		   HEP("n1-all", "{\"role\":\"all\"}", "{\"node\":\"n1\",\"interfaceName\":\"*\"}") ","
		   HEP("n2-eth2", "{}", "{\"node\":\"n2\",\"interfaceName\":\"eth2\"}") ","
		   HEP("n1-ip", "{}", "{\"node\":\"n1\",\"expectedIPs\":[\"10.0.0.9\"]}") "],"
		   "\"globalnetworkpolicies\":[" GNP("default.all-8080", "{\"selector\":\"role == 'all'\","
		   "\"ingress\":[{\"action\":\"Allow\",\"protocol\":\"TCP\",\"destination\":"
		   "{\"ports\":[8080]}}]}") "]", POLICY_FAILSAFE_IN_DEFAULT, POLICY_FAILSAFE_OUT_DEFAULT);
	assert_true(in_ok(&f, "eth1", IPPROTO_TCP, 8080));
	assert_false(in_ok(&f, "eth1", IPPROTO_TCP, 8081));
	assert_false(in_ok(&f, "lo", IPPROTO_TCP, 8081));
	assert_false(out_ok(&f, "eth2", IPPROTO_TCP, 8081));
	assert_false(in_ok(&f, "eth0", IPPROTO_TCP, 8080)); /* eth0's own: no policy */
	assert_true(in_ok(&f, "eth1", IPPROTO_TCP, 22));
	assert_true(out_ok(&f, "caliabc", IPPROTO_TCP, 8081)); /* host -> workload */
	done(&f);
	/* two endpoints for one interface: the first by name governs it */
	build_heps(&f, "\"hostendpoints\":[" ETH0_HEP ","
		   HEP("a-eth0", "{}", "{\"node\":\"n1\",\"interfaceName\":\"eth0\","
		   "\"profiles\":[\"projectcalico-default-allow\"]}") "]");
	assert_true(in_ok(&f, "eth0", IPPROTO_TCP, 8080));
	done(&f);
}

static void test_failsafe_settings(void **state)
{
	static const struct {
		const char *text;
		int want;
		size_t n;
	} v[] = {
		{ POLICY_FAILSAFE_IN_DEFAULT, 0, 9 },
		{ "none", 0, 0 },
		{ "", 0, 0 },
		{ "22, udp:53 ,tcp:10.0.0.0/8:6443,udp:[fd00::/8]:53", 0, 4 },
		{ "sctp:22", -EINVAL, 0 },
		{ "tcp:65536", -EINVAL, 0 },
		{ "tcp:10.0.0.0/33:22", -EINVAL, 0 },
		{ "a:b:c:d", -EINVAL, 0 },
		{ "tcp:", -EINVAL, 0 },
	};
	struct policy_failsafes fs;
	struct fixture f = {};
	json_t *j;
	char *err = NULL;

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		int r = policy_failsafes_parse(v[i].text, &fs);

		if (r != v[i].want || (r == 0 && fs.n != v[i].n))
			fail_msg("vector %zu '%s': %d, %zu entries", i, v[i].text, r, fs.n);
	}
	assert_int_equal(policy_failsafes_parse("tcp:10.0.0.0/8:6443,udp:[fd00::/8]:53", &fs), 0);
	assert_int_equal(fs.v[0].net.family, AF_INET);
	assert_int_equal(fs.v[1].net.family, AF_INET6);
	assert_int_equal(fs.v[1].proto, IPPROTO_UDP);
	assert_int_equal(fs.v[1].port, 53);
	j = json_loads("[{\"protocol\":\"TCP\",\"port\":22},{\"port\":179,\"net\":\"10.0.0.0/8\"},"
		       "{\"protocol\":\"sctp\",\"port\":9}]", 0, NULL);
	assert_int_equal(policy_failsafes_from_json(j, &fs, &err), 0);
	assert_int_equal(fs.n, 3);
	assert_int_equal(fs.v[1].proto, IPPROTO_TCP);
	assert_int_equal(fs.v[2].proto, IPPROTO_SCTP);
	json_decref(j);
	j = json_loads("[{\"protocol\":\"TCP\",\"port\":70000}]", 0, NULL);
	assert_int_equal(policy_failsafes_from_json(j, &fs, &err), -EINVAL);
	assert_non_null(strstr(err, "[0].port"));
	free(err);
	json_decref(j);
	/* none: a deny-all reaches SSH too; a net narrows a failsafe to its sources */
	build_heps_fs(&f, "\"hostendpoints\":[" ETH0_HEP "]", "none", "none");
	assert_false(in_ok(&f, "eth0", IPPROTO_TCP, 22));
	assert_false(out_ok(&f, "eth0", IPPROTO_UDP, 53));
	done(&f);
	build_heps_fs(&f, "\"hostendpoints\":[" ETH0_HEP "]", "tcp:203.0.113.0/24:22,tcp:10.0.0.0/8:80",
		      "udp:53");
	assert_true(in_ok(&f, "eth0", IPPROTO_TCP, 22));   /* OUTSIDE is in 203.0.113.0/24 */
	assert_false(in_ok(&f, "eth0", IPPROTO_TCP, 80));  /* but not in 10/8 */
	assert_true(out_ok(&f, "eth0", IPPROTO_UDP, 53));
	assert_false(out_ok(&f, "eth0", IPPROTO_TCP, 179));
	done(&f);
}

static void test_apply_on_forward_host_policies(void **state)
{
	static const char *const fwd_deny =
		"\"hostendpoints\":[" ETH0_HEP "],\"globalnetworkpolicies\":["
		GNP("default.fwd", "{\"selector\":\"role == 'node'\",\"applyOnForward\":true,"
		    "\"ingress\":[{\"action\":\"Allow\",\"protocol\":\"TCP\",\"destination\":"
		    "{\"ports\":[80]}}],\"egress\":[{\"action\":\"Deny\"}]}") "]";
	struct fixture f = {};
	struct pkt p;

	(void)state;
	build_heps(&f, fwd_deny);
	assert_true(fwd_ok(&f, "eth0", "eth1", 80));
	assert_false(fwd_ok(&f, "eth0", "eth1", 81));	  /* tier default: deny */
	assert_false(fwd_ok(&f, "eth1", "eth0", 80));	  /* egress: Deny */
	assert_true(fwd_ok(&f, "eth1", "eth2", 81));	  /* no endpoint */
	assert_true(in_ok(&f, "eth0", IPPROTO_TCP, 80)); /* the host's own traffic: it applies too */
	assert_false(in_ok(&f, "eth0", IPPROTO_TCP, 81));
	/* HEP -> workload: the HEP's forward ingress and the pod's ingress */
	p = tcp(&f, OUTSIDE, "a/db", 81);
	assert_false(pkt_ok(&f, OUTSIDE, "a/db", p));
	p.dport = 80;
	assert_true(pkt_ok(&f, OUTSIDE, "a/db", p));
	/* workload -> HEP: the pod's egress and the HEP's forward egress */
	assert_false(tcp_ok(&f, "a/web", OUTSIDE, 80));
	done(&f);
	/* without applyOnForward the policy leaves forwarded traffic alone */
	build_heps(&f, "\"hostendpoints\":[" ETH0_HEP "],\"globalnetworkpolicies\":["
		   GNP("default.nofwd", "{\"selector\":\"role == 'node'\",\"ingress\":[{\"action\":"
		       "\"Deny\"}]}") "]");
	assert_true(fwd_ok(&f, "eth0", "eth1", 81));
	assert_false(in_ok(&f, "eth0", IPPROTO_TCP, 81));
	done(&f);
}

/* The packet a host process receives through @iif after the prerouting and
 * input hooks (@ret_ok: whether it does). */
static struct pkt in_pkt(const struct fixture *f, const char *iif, uint8_t proto, uint16_t sport,
			 uint16_t dport, bool *ret_ok)
{
	struct pkt p = host_pkt(proto, iif, "", OUTSIDE, HOST_IP, dport);
	static const char *const input[] = { "cc_input", "cc_input_drop", NULL };

	p.sport = sport;
	*ret_ok = prerouting(policy_desired_nft(f->d), &p) &&
		  hook_passes(policy_desired_nft(f->d), input, &p);
	return p;
}

static bool has_chain(const struct fixture *f, const char *name)
{
	return policy_nft_chain_get(policy_desired_nft(f->d), name) != NULL;
}

static void test_host_policy_validation(void **state)
{
	static const struct {
		const char *spec;
		const char *msg; /* NULL: valid */
	} v[] = {
		{ "{\"preDNAT\":true,\"applyOnForward\":true,\"ingress\":[{\"action\":\"Deny\"}]}", NULL },
		{ "{\"doNotTrack\":true,\"applyOnForward\":true,\"ingress\":[{\"action\":\"Allow\"}],"
		  "\"egress\":[{\"action\":\"Allow\"}]}", NULL },
		{ "{\"preDNAT\":true,\"ingress\":[{\"action\":\"Deny\"}]}",
		  "spec.applyOnForward: must be true" },
		{ "{\"doNotTrack\":true,\"applyOnForward\":false}", "spec.applyOnForward: must be true" },
		{ "{\"preDNAT\":true,\"applyOnForward\":true,\"egress\":[{\"action\":\"Deny\"}]}",
		  "spec.preDNAT: a preDNAT policy cannot have egress" },
		{ "{\"preDNAT\":true,\"applyOnForward\":true,\"types\":[\"Ingress\",\"Egress\"]}",
		  "spec.preDNAT: a preDNAT policy cannot have egress" },
		{ "{\"preDNAT\":true,\"doNotTrack\":true,\"applyOnForward\":true}",
		  "preDNAT and doNotTrack cannot both be true" },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		_cleanup_free_ char *text = NULL, *err = NULL;
		struct policy_netpol *np = NULL;
		json_t *j;
		int r;

		assert_true(asprintf(&text, GNP("default.h", "%s"), v[i].spec) > 0);
		j = json_loads(text, 0, NULL);
		assert_non_null(j);
		r = policy_calico_from_json(j, POLICY_KIND_GLOBAL, &np, &err);
		if (v[i].msg ? r != -EINVAL || !err || !strstr(err, v[i].msg) : r != 0)
			fail_msg("vector %zu: %d '%s'", i, r, err ?: "");
		if (np)
			policy_netpol_unref(np);
		json_decref(j);
	}
}

/* preDNAT (Calico's docs): ingress only, before DNAT, for every packet
 * arriving through the endpoint (to the host, forwarded, to local pods);
 * Deny drops, Allow skips the normal host endpoint policy, Pass goes to the
 * next tier, no decision (no tier default) leaves it to normal policy;
 * failsafes first. */
static void test_pre_dnat_policies(void **state)
{
	static const char *const objs =
		"\"hostendpoints\":[" ETH0_HEP "],\"tiers\":[" TIER("sec", "10", "Deny") "],"
		"\"globalnetworkpolicies\":["
		GNP("default.normal", "{\"order\":1,\"selector\":\"role == 'node'\",\"ingress\":"
		    "[{\"action\":\"Allow\",\"protocol\":\"TCP\",\"destination\":{\"ports\":[8080,9090]}}]}") ","
		GNP("sec.pre-pass", "{\"tier\":\"sec\",\"selector\":\"role == 'node'\",\"preDNAT\":true,"
		    "\"applyOnForward\":true,\"ingress\":[{\"action\":\"Pass\",\"protocol\":\"TCP\","
		    "\"destination\":{\"ports\":[6060]}}]}") ","
		GNP("default.pre", "{\"order\":500,\"selector\":\"role == 'node'\",\"preDNAT\":true,"
		    "\"applyOnForward\":true,\"ingress\":["
		    "{\"action\":\"Deny\",\"protocol\":\"TCP\",\"destination\":{\"ports\":[8080]}},"
		    "{\"action\":\"Allow\",\"protocol\":\"TCP\",\"destination\":{\"ports\":[6060,7070]}}]}") "]";
	struct fixture f = {};
	struct pkt p;
	bool ok;

	(void)state;
	build_heps(&f, objs);
	assert_false(in_ok(&f, "eth0", IPPROTO_TCP, 8080)); /* Deny before the normal Allow */
	assert_true(in_ok(&f, "eth0", IPPROTO_TCP, 9090));  /* no decision: normal policy */
	assert_false(in_ok(&f, "eth0", IPPROTO_TCP, 5555)); /* normal: nothing allows */
	/* Allow: accepted, the normal policy (which allows nothing) skipped */
	p = in_pkt(&f, "eth0", IPPROTO_TCP, 40000, 7070, &ok);
	assert_true(ok);
	assert_false(p.untracked);
	/* sec passes 6060 to default; sec's default action (Deny) never
	 * applies to preDNAT: 9090 went on above */
	assert_true(in_ok(&f, "eth0", IPPROTO_TCP, 6060));
	assert_true(in_ok(&f, "eth0", IPPROTO_TCP, 22)); /* failsafe */
	/* forwarded (no applyOnForward normal policy) and to a local pod */
	assert_false(fwd_ok(&f, "eth0", "eth1", 8080));
	assert_true(fwd_ok(&f, "eth0", "eth1", 5555));
	assert_false(tcp_ok(&f, OUTSIDE, "a/db", 8080));
	assert_true(tcp_ok(&f, OUTSIDE, "a/db", 5555));
	/* other interfaces, workloads and the host's own traffic: untouched */
	assert_true(in_ok(&f, "eth1", IPPROTO_TCP, 8080));
	assert_true(tcp_ok(&f, "b/client", "a/db", 8080));
	assert_true(host_ok(&f, "a/web", 8080));
	assert_true(has_chain(&f, "cc_prerouting"));
	assert_false(has_chain(&f, "cc_raw_prerouting"));
	assert_int_equal(policy_nft_chain_get(policy_desired_nft(f.d), "cc_prerouting")->prio, -150);
	done(&f);
	/* a deny-all preDNAT policy: failsafes still reachable */
	build_heps(&f, "\"hostendpoints\":[" ETH0_HEP "],\"globalnetworkpolicies\":["
		   GNP("default.pre", "{\"selector\":\"role == 'node'\",\"preDNAT\":true,"
		       "\"applyOnForward\":true,\"ingress\":[{\"action\":\"Deny\"}]}") ","
		   GNP("default.normal", "{\"selector\":\"role == 'node'\",\"ingress\":"
		       "[{\"action\":\"Allow\"}]}") "]");
	assert_true(in_ok(&f, "eth0", IPPROTO_TCP, 22));
	assert_true(in_ok(&f, "eth0", IPPROTO_TCP, 6443));
	assert_false(in_ok(&f, "eth0", IPPROTO_TCP, 80));
	done(&f);
	/* an invalid preDNAT policy (no applyOnForward): its stand-in denies
	 * there, before the normal Allow, failsafes first */
	{
		json_t *j = json_loads(GNP("default.bad", "{\"selector\":\"role == 'node'\","
				       "\"preDNAT\":true,\"ingress\":[{\"action\":\"Allow\"}]}"),
				       0, NULL);
		struct policy_netpol *np = NULL;

		build_heps(&f, "\"hostendpoints\":[" ETH0_HEP "],\"globalnetworkpolicies\":["
			   GNP("default.normal", "{\"selector\":\"role == 'node'\",\"ingress\":"
			       "[{\"action\":\"Allow\"}]}") "]");
		assert_true(in_ok(&f, "eth0", IPPROTO_TCP, 80));
		assert_int_equal(policy_calico_from_json(j, POLICY_KIND_GLOBAL, &np, NULL), -EINVAL);
		assert_int_equal(policy_calico_deny_from_json(j, POLICY_KIND_GLOBAL, &np), 0);
		assert_int_equal(policy_model_set_netpol(f.m, np), 0);
		f.d = policy_desired_free(f.d);
		heps_compile(&f, POLICY_FAILSAFE_IN_DEFAULT, POLICY_FAILSAFE_OUT_DEFAULT, &f.d);
		assert_false(in_ok(&f, "eth0", IPPROTO_TCP, 80));
		assert_true(in_ok(&f, "eth0", IPPROTO_TCP, 22));
		assert_true(has_chain(&f, "cc_prerouting"));
		assert_true(tcp_ok(&f, "b/client", "a/db", 80)); /* pods: never selected */
		json_decref(j);
		done(&f);
	}
	/* no preDNAT policy: no chain of it */
	build_heps(&f, "\"hostendpoints\":[" ETH0_HEP "]");
	assert_false(has_chain(&f, "cc_prerouting"));
	assert_false(has_chain(&f, "cc_raw_prerouting"));
	assert_false(has_chain(&f, "cc_raw_output"));
	assert_null(policy_nft_set_get(policy_desired_nft(f.d), "cc_from_hep_pd"));
	done(&f);
}

/* doNotTrack (Calico's docs): before conntrack, both directions; Allow
 * untracks and accepts, skipping preDNAT and normal policy; Deny drops;
 * no decision leaves the packet to the rest; failsafes (and their replies)
 * first. */
static void test_do_not_track_policies(void **state)
{
	static const char *const objs =
		"\"hostendpoints\":[" ETH0_HEP "],\"globalnetworkpolicies\":["
		GNP("default.normal", "{\"selector\":\"role == 'node'\",\"types\":[\"Ingress\",\"Egress\"],"
		    "\"ingress\":[{\"action\":\"Allow\",\"protocol\":\"TCP\",\"destination\":{\"ports\":[9090,9091]}}],"
		    "\"egress\":[{\"action\":\"Allow\",\"protocol\":\"TCP\",\"destination\":{\"ports\":[9090,443]}}]}") ","
		GNP("default.pre", "{\"selector\":\"role == 'node'\",\"preDNAT\":true,"
		    "\"applyOnForward\":true,\"ingress\":[{\"action\":\"Deny\",\"protocol\":\"TCP\","
		    "\"destination\":{\"ports\":[8080]}}]}") ","
		GNP("default.dnt", "{\"order\":1,\"selector\":\"role == 'node'\",\"doNotTrack\":true,"
		    "\"applyOnForward\":true,"
		    "\"ingress\":[{\"action\":\"Allow\",\"protocol\":\"TCP\",\"destination\":{\"ports\":[8080]}},"
		    "{\"action\":\"Deny\",\"protocol\":\"TCP\",\"destination\":{\"ports\":[9091]}}],"
		    "\"egress\":[{\"action\":\"Allow\",\"protocol\":\"TCP\",\"destination\":{\"ports\":[8080]}},"
		    "{\"action\":\"Deny\",\"protocol\":\"TCP\",\"destination\":{\"ports\":[443]}}]}") "]";
	static const char *const output[] = { "cc_raw_output", "cc_output", NULL };
	const struct policy_nft *t;
	struct fixture f = {};
	struct pkt p;
	bool ok;

	(void)state;
	build_heps(&f, objs);
	t = policy_desired_nft(f.d);
	/* Allow: untracked, accepted before preDNAT (which denies 8080) and
	 * normal policy (which does not allow it) */
	p = in_pkt(&f, "eth0", IPPROTO_TCP, 40000, 8080, &ok);
	assert_true(ok);
	assert_true(p.untracked);
	assert_false(in_ok(&f, "eth0", IPPROTO_TCP, 9091)); /* Deny before the normal Allow */
	p = in_pkt(&f, "eth0", IPPROTO_TCP, 40000, 9090, &ok); /* no decision: normal policy */
	assert_true(ok);
	assert_false(p.untracked);
	p = in_pkt(&f, "eth0", IPPROTO_TCP, 40000, 22, &ok); /* failsafe: tracked */
	assert_true(ok);
	assert_false(p.untracked);
	p = host_pkt(IPPROTO_TCP, "", "eth0", HOST_IP, OUTSIDE, 8080);
	assert_true(hook_passes(t, output, &p));
	assert_true(p.untracked);
	assert_false(out_ok(&f, "eth0", IPPROTO_TCP, 443)); /* Deny before the normal Allow */
	assert_true(out_ok(&f, "eth0", IPPROTO_TCP, 9090));
	assert_true(out_ok(&f, "eth0", IPPROTO_UDP, 53)); /* failsafe outbound */
	/* forwarded: the Allow skips the endpoint's applyOnForward ingress */
	assert_true(fwd_ok(&f, "eth0", "eth1", 8080));
	assert_false(fwd_ok(&f, "eth0", "eth1", 9091));
	assert_true(tcp_ok(&f, "b/client", "a/db", 9091)); /* pods: never selected */
	assert_true(has_chain(&f, "cc_raw_prerouting") && has_chain(&f, "cc_raw_output"));
	assert_int_equal(policy_nft_chain_get(t, "cc_raw_prerouting")->prio, -300);
	assert_int_equal(policy_nft_chain_get(t, "cc_raw_output")->prio, -300);
	done(&f);
	/* a policy without rules decides nothing there (no default drop) */
	build_heps(&f, "\"hostendpoints\":[" ETH0_HEP "],\"globalnetworkpolicies\":["
		   GNP("default.dnt", "{\"selector\":\"role == 'node'\",\"doNotTrack\":true,"
		       "\"applyOnForward\":true,\"types\":[\"Ingress\",\"Egress\"]}") "]");
	p = host_pkt(IPPROTO_TCP, "eth0", "", OUTSIDE, HOST_IP, 8080);
	assert_int_equal(eval_chain(policy_desired_nft(f.d), "cc_raw_prerouting", &p, 0),
			 EV_CONTINUE);
	done(&f);
	/* deny-all both ways: failsafes and the replies of failsafe connections
	 * pass the raw chains (they stay tracked) */
	build_heps(&f, "\"hostendpoints\":[" ETH0_HEP "],\"globalnetworkpolicies\":["
		   GNP("default.dnt", "{\"selector\":\"role == 'node'\",\"doNotTrack\":true,"
		       "\"applyOnForward\":true,\"ingress\":[{\"action\":\"Deny\"}],"
		       "\"egress\":[{\"action\":\"Deny\"}]}") "]");
	t = policy_desired_nft(f.d);
	p = host_pkt(IPPROTO_TCP, "eth0", "", OUTSIDE, HOST_IP, 22);
	assert_int_not_equal(eval_chain(t, "cc_raw_prerouting", &p, 0), EV_DROP);
	p = host_pkt(IPPROTO_UDP, "eth0", "", OUTSIDE, HOST_IP, 40000);
	p.sport = 53; /* the reply to an outbound DNS failsafe */
	assert_int_not_equal(eval_chain(t, "cc_raw_prerouting", &p, 0), EV_DROP);
	p = host_pkt(IPPROTO_TCP, "", "eth0", HOST_IP, OUTSIDE, 40000);
	p.sport = 22; /* the reply to an inbound SSH failsafe */
	assert_int_not_equal(eval_chain(t, "cc_raw_output", &p, 0), EV_DROP);
	p = host_pkt(IPPROTO_TCP, "eth0", "", OUTSIDE, HOST_IP, 8080);
	assert_int_equal(eval_chain(t, "cc_raw_prerouting", &p, 0), EV_DROP);
	assert_false(out_ok(&f, "eth0", IPPROTO_TCP, 8080));
	assert_true(has_chain(&f, "cc_failsafe_raw_in") && has_chain(&f, "cc_failsafe_raw_out"));
	done(&f);
	/* ingress only: no output chain before conntrack */
	build_heps(&f, "\"hostendpoints\":[" ETH0_HEP "],\"globalnetworkpolicies\":["
		   GNP("default.dnt", "{\"selector\":\"role == 'node'\",\"doNotTrack\":true,"
		       "\"applyOnForward\":true,\"ingress\":[{\"action\":\"Deny\"}]}") "]");
	assert_true(has_chain(&f, "cc_raw_prerouting"));
	assert_false(has_chain(&f, "cc_raw_output"));
	assert_false(has_chain(&f, "cc_failsafe_raw_out"));
	done(&f);
}

/* An IPv6 packet of @proto (ICMPv6: of @type) through a host endpoint:
 * arriving on @iif (prerouting and input hooks) or leaving by @oif (output
 * hook), as the tables let it. */
static bool host6_ok(const struct fixture *f, const char *iif, const char *oif, uint8_t proto,
		     uint8_t type)
{
	static const char *const in_hook[] = { "cc_raw_prerouting", "cc_prerouting", "cc_input",
					       "cc_input_drop", NULL };
	static const char *const out_hook[] = { "cc_raw_output", "cc_output", NULL };
	struct pkt p = { .family = AF_INET6, .proto = proto, .icmp_type = type,
			 .sport = 40000, .dport = 8080 };

	snprintf(p.iif, sizeof(p.iif), "%s", iif);
	snprintf(p.oif, sizeof(p.oif), "%s", oif);
	assert_int_equal(inet_pton(AF_INET6, *iif ? "fd00:50::2" : "fd00:50::1", p.saddr), 1);
	assert_int_equal(inet_pton(AF_INET6, *iif ? "fd00:50::1" : "fd00:50::2", p.daddr), 1);
	return hook_passes(policy_desired_nft(f->d), *iif ? in_hook : out_hook, &p);
}

/* Neighbour discovery (and MLD, router solicitation) through a host
 * endpoint passes whatever its policies deny, normal, preDNAT or doNotTrack
 * (as in Calico's BPF dataplane): a deny-all must not cut the node's IPv6
 * off its link. Other ICMPv6 (echo, router advertisement) and TCP do not. */
static void test_host_endpoint_passes_ipv6_neighbour_discovery(void **state)
{
	static const char *const kinds[] = {
		"", /* no policy: the endpoint's default deny */
		"\"preDNAT\":true,\"applyOnForward\":true,\"ingress\":[{\"action\":\"Deny\"}],",
		"\"doNotTrack\":true,\"applyOnForward\":true,\"ingress\":[{\"action\":\"Deny\"}],"
		"\"egress\":[{\"action\":\"Deny\"}],",
	};
	static const uint8_t nd[] = { 130, 131, 132, 133, 135, 136 };
	struct fixture f = {};

	(void)state;
	for (size_t k = 0; k < ELEMENTSOF(kinds); k++) {
		_cleanup_free_ char *objs = NULL;

		assert_true(asprintf(&objs, "\"hostendpoints\":[" ETH0_HEP "],"
				     "\"globalnetworkpolicies\":[" GNP("default.deny", "{%s"
				     "\"selector\":\"role == 'node'\"}") "]", kinds[k]) > 0);
		build_heps(&f, objs);
		for (size_t i = 0; i < sizeof(nd); i++) {
			assert_true(host6_ok(&f, "eth0", "", IPPROTO_ICMPV6, nd[i]));
			assert_true(host6_ok(&f, "", "eth0", IPPROTO_ICMPV6, nd[i]));
		}
		/* echo request, router advertisement */
		assert_false(host6_ok(&f, "eth0", "", IPPROTO_ICMPV6, 128));
		assert_false(host6_ok(&f, "eth0", "", IPPROTO_ICMPV6, 134));
		assert_false(host6_ok(&f, "eth0", "", IPPROTO_TCP, 0));
		assert_false(host6_ok(&f, "", "eth0", IPPROTO_TCP, 0));
		done(&f);
	}
}

#define ALL_HEP HEP("n1-all", "{\"role\":\"all\"}", "{\"node\":\"n1\",\"interfaceName\":\"*\"}")

/* Forwarded flows and their explanation (pkt_ok() and fwd_ok() hold
 * policy_explain() to the table): the "*" endpoint's chains and an
 * interface's own, the doNotTrack failsafes (replies by source port), a
 * rejected endpoint. */
static void test_forwarded_flows_are_explained_as_the_table_does(void **state)
{
	static const char *const objs =
		"\"hostendpoints\":[" ETH0_HEP "," ALL_HEP "],\"globalnetworkpolicies\":["
		GNP("default.all-fwd", "{\"selector\":\"role == 'all'\",\"applyOnForward\":true,"
		    "\"ingress\":[{\"action\":\"Deny\",\"protocol\":\"TCP\",\"destination\":"
		    "{\"ports\":[81]}},{\"action\":\"Allow\"}],\"egress\":[{\"action\":\"Deny\","
		    "\"protocol\":\"TCP\",\"destination\":{\"ports\":[82]}},{\"action\":\"Allow\"}]}") ","
		GNP("default.all-dnt", "{\"selector\":\"role == 'all'\",\"doNotTrack\":true,"
		    "\"applyOnForward\":true,\"ingress\":[{\"action\":\"Deny\",\"protocol\":"
		    "\"UDP\"}]}") ","
		GNP("default.eth0-dnt", "{\"selector\":\"role == 'node'\",\"doNotTrack\":true,"
		    "\"applyOnForward\":true,\"ingress\":[{\"action\":\"Allow\",\"protocol\":"
		    "\"UDP\",\"destination\":{\"ports\":[5353]}},{\"action\":\"Deny\","
		    "\"protocol\":\"TCP\",\"destination\":{\"ports\":[22,23]}}]}") "]";
	struct fixture f = {};
	struct pkt p;

	(void)state;
	build_heps(&f, objs);
	/* eth0's own endpoint has no applyOnForward policy: forwarded traffic
	 * through eth0 is not policed (Calico's docs), the "*" endpoint's
	 * forward chains see the interfaces without one (eth1, eth2) */
	assert_true(fwd_ok(&f, "eth0", "eth1", 81));
	assert_false(fwd_ok(&f, "eth2", "eth1", 81));
	assert_false(fwd_ok(&f, "eth0", "eth1", 82));
	assert_true(fwd_ok(&f, "eth1", "eth0", 82));
	assert_true(fwd_ok(&f, "eth0", "eth1", 80));
	assert_true(has_chain(&f, "hep_fi_n1-eth0") && has_chain(&f, "hep_fe_n1-eth0"));
	/* doNotTrack: eth0's Allow decides; the "*" endpoint's Deny is never
	 * applied (Calico ignores untracked policy on a "*" endpoint), not
	 * after eth0's own chain decided nothing, nor on eth2 */
	p = host_pkt(IPPROTO_UDP, "eth0", "eth1", OUTSIDE, "198.51.100.7", 5353);
	assert_true(pkt_ok(&f, OUTSIDE, "198.51.100.7", p));
	p.dport = 5354;
	assert_true(pkt_ok(&f, OUTSIDE, "198.51.100.7", p));
	snprintf(p.iif, sizeof(p.iif), "eth2");
	assert_true(pkt_ok(&f, OUTSIDE, "198.51.100.7", p));
	assert_false(has_chain(&f, "hep_ni_n1-all"));
	snprintf(p.iif, sizeof(p.iif), "eth0");
	/* a failsafe port passes the doNotTrack stage (forwarded too) */
	assert_true(fwd_ok(&f, "eth0", "eth1", 22));
	assert_false(fwd_ok(&f, "eth0", "eth1", 23));
	/* the reply of an outbound DNS failsafe passes the doNotTrack stage */
	p.sport = 53;
	assert_true(pkt_ok(&f, OUTSIDE, "198.51.100.7", p));
	assert_true(in_ok(&f, "eth0", IPPROTO_UDP, 68)); /* failsafe inbound */
	assert_false(in_ok(&f, "eth0", IPPROTO_UDP, 5354));
	done(&f);
	/* a rejected endpoint denies forwarded traffic; without one, the "*"
	 * endpoint's policies decide */
	{
		json_t *j = json_loads(HEP("n1-eth1", "{}", "{\"node\":\"n1\",\"interfaceName\":"
					   "\"eth1\",\"ports\":[{}]}"), 0, NULL);
		struct policy_hep *h = NULL;

		build_heps(&f, objs);
		assert_int_equal(policy_hep_deny_from_json(j, &h), 0);
		assert_int_equal(policy_model_set_hep(f.m, h), 0);
		f.d = policy_desired_free(f.d);
		heps_compile(&f, POLICY_FAILSAFE_IN_DEFAULT, POLICY_FAILSAFE_OUT_DEFAULT, &f.d);
		assert_false(fwd_ok(&f, "eth0", "eth1", 80));
		assert_false(fwd_ok(&f, "eth1", "eth2", 80));
		assert_true(fwd_ok(&f, "eth2", "eth0", 80));
		json_decref(j);
		done(&f);
	}
}

/* preDNAT beside a "*" endpoint: an interface with a host endpoint of its
 * own never reaches the "*" one's preDNAT chain, whether its own has a
 * preDNAT chain (that decided nothing) or none; an interface without one
 * does. */
static void test_all_interfaces_prednat_only_for_interfaces_without_their_own(void **state)
{
	static const char *const star_pre =
		GNP("default.all-pre", "{\"selector\":\"role == 'all'\",\"preDNAT\":true,"
		    "\"applyOnForward\":true,\"ingress\":[{\"action\":\"Deny\",\"protocol\":"
		    "\"UDP\",\"destination\":{\"ports\":[5355]}}]}");
	static const char *const eth0_pre =
		GNP("default.eth0-pre", "{\"selector\":\"role == 'node'\",\"preDNAT\":true,"
		    "\"applyOnForward\":true,\"ingress\":[{\"action\":\"Deny\",\"protocol\":"
		    "\"TCP\",\"destination\":{\"ports\":[24]}}]}");

	(void)state;
	for (int own = 0; own < 2; own++) {
		_cleanup_free_ char *objs = NULL;
		struct fixture f = {};
		struct pkt p = host_pkt(IPPROTO_UDP, "eth0", "eth1", OUTSIDE, "198.51.100.7", 5355);

		assert_true(asprintf(&objs, "\"hostendpoints\":[" ETH0_HEP "," ALL_HEP "],"
				     "\"globalnetworkpolicies\":[%s%s%s]", star_pre,
				     own ? "," : "", own ? eth0_pre : "") > 0);
		build_heps(&f, objs);
		assert_int_equal(has_chain(&f, "hep_pd_n1-eth0"), own);
		assert_true(pkt_ok(&f, OUTSIDE, "198.51.100.7", p));
		snprintf(p.iif, sizeof(p.iif), "eth2");
		assert_false(pkt_ok(&f, OUTSIDE, "198.51.100.7", p));
		if (own)
			assert_false(fwd_ok(&f, "eth0", "eth1", 24));
		done(&f);
	}
}

static void test_host_endpoint_objects(void **state)
{
	static const struct {
		const char *json;
		const char *msg; /* NULL: valid */
	} v[] = {
		{ HEP("h", "{\"a\":\"b\"}", "{\"node\":\"n1\",\"interfaceName\":\"eth0\","
		      "\"expectedIPs\":[\"10.0.0.1\",\"fd00::1\"],\"profiles\":[\"p\"],"
		      "\"ports\":[{\"name\":\"ssh\",\"port\":22,\"protocol\":\"TCP\"}]}"), NULL },
		{ HEP("h", "{}", "{\"node\":\"n1\",\"interfaceName\":\"*\"}"), NULL },
		{ HEP("h", "{}", "{\"interfaceName\":\"eth0\"}"), "spec.node: required" },
		{ HEP("h", "{}", "{\"node\":\"n1\"}"), "at least one of interfaceName or expectedIPs" },
		{ HEP("h", "{}", "{\"node\":\"n1\",\"interfaceName\":\"eth0 \"}"), "spec.interfaceName" },
		{ HEP("h", "{}", "{\"node\":\"n1\",\"interfaceName\":\"a-very-long-ifname\"}"),
		  "spec.interfaceName" },
		{ HEP("h", "{}", "{\"node\":\"n1\",\"expectedIPs\":[\"10.0.0.0/24\"]}"),
		  "spec.expectedIPs[0]" },
		{ HEP("h", "{}", "{\"node\":\"n1\",\"interfaceName\":\"eth0\",\"profiles\":[1]}"),
		  "spec.profiles[0]" },
		{ HEP("h", "{}", "{\"node\":\"n1\",\"interfaceName\":\"eth0\",\"ports\":"
		      "[{\"name\":\"x\",\"port\":0,\"protocol\":\"TCP\"}]}"), "spec.ports[0].port" },
		{ HEP("h", "{\"a\":1}", "{\"node\":\"n1\",\"interfaceName\":\"eth0\"}"), "labels" },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		json_t *j = json_loads(v[i].json, 0, NULL);
		struct policy_hep *h = NULL;
		char *err = NULL;
		int r;

		assert_non_null(j);
		r = policy_hep_from_json(j, &h, &err);
		policy_hep_free(h);
		if (v[i].msg ? r != -EINVAL || !err || !strstr(err, v[i].msg) ||
				       !strstr(err, "HostEndpoint 'h'")
			     : r != 0)
			fail_msg("vector %zu: %d '%s'", i, r, err ?: "");
		free(err);
		json_decref(j);
	}
}

/* A host endpoint's expectedIPs are what rule selectors matching its
 * labels match (as a GlobalNetworkSet's nets), whichever node it is on. */
static void test_rule_selectors_match_host_endpoint_addresses(void **state)
{
	struct fixture f = {};

	(void)state;
	build_heps(&f, "\"hostendpoints\":[" HEP("n2-eth0", "{\"role\":\"node\"}", "{\"node\":\"n2\","
		   "\"interfaceName\":\"eth0\",\"expectedIPs\":[\"203.0.113.5\"]}") "],"
		   "\"globalnetworkpolicies\":[" GNP("default.db-from-nodes",
		   "{\"selector\":\"app == 'db'\",\"ingress\":[{\"action\":\"Allow\",\"source\":"
		   "{\"selector\":\"role == 'node'\"}}]}") "],"
		   "\"calico-networkpolicies\":[" CNP("a", "default.web-from-nodes",
		   "{\"selector\":\"app == 'web'\",\"ingress\":[{\"action\":\"Allow\",\"source\":"
		   "{\"selector\":\"role == 'node'\"}}]}") "]");
	assert_true(tcp_ok(&f, OUTSIDE, "a/db", 80));
	assert_false(tcp_ok(&f, "198.51.100.9", "a/db", 80));
	assert_false(tcp_ok(&f, OUTSIDE, "a/web", 80)); /* a namespaced rule: its namespace only */
	done(&f);
}

/* A rule selector's IPv6 addresses (network sets, expectedIPs) are matched
 * on a node whose pods have no IPv6 (its host endpoints may have): a Deny
 * of them must not let IPv6 through. */
static void test_rule_selectors_match_ipv6_without_ipv6_pods(void **state)
{
	struct fixture f = {};

	(void)state;
	build_heps(&f, "\"hostendpoints\":[" ETH0_HEP "," HEP("n2-eth0", "{\"role\":\"peer\"}",
		   "{\"node\":\"n2\",\"interfaceName\":\"eth0\","
		   "\"expectedIPs\":[\"fd00:50::2\"]}") "],"
		   "\"globalnetworkpolicies\":[" GNP("default.deny-peers",
		   "{\"selector\":\"role == 'node'\",\"types\":[\"Ingress\",\"Egress\"],"
		   "\"ingress\":[{\"action\":\"Deny\","
		   "\"source\":{\"selector\":\"role == 'peer'\"}},"
		   "{\"action\":\"Allow\"}],\"egress\":[{\"action\":\"Allow\"}]}") "]");
	assert_false(host6_ok(&f, "eth0", "", IPPROTO_TCP, 0)); /* from fd00:50::2 */
	assert_true(host6_ok(&f, "", "eth0", IPPROTO_TCP, 0));
	assert_true(in_ok(&f, "eth0", IPPROTO_TCP, 8080)); /* IPv4: not a peer */
	done(&f);
}

/* notNets of IPv4 only: the rule is IPv4's, as Calico renders it; it must
 * not allow every IPv6 packet (this node has an IPv6 pod, and IPv6 on its
 * host endpoint). */
static void test_not_nets_of_one_family_apply_to_it_only(void **state)
{
	struct fixture f = {};

	(void)state;
	build_heps_on(&f, NULL, "\"namespaces\":[{\"metadata\":{\"name\":\"a\"}}],\"pods\":["
		      "{\"metadata\":{\"name\":\"v6\",\"namespace\":\"a\"},\"status\":{\"podIPs\":"
		      "[{\"ip\":\"10.65.0.6\"},{\"ip\":\"fd00:65::6\"}]}}]",
		   "\"hostendpoints\":[" ETH0_HEP "],"
		   "\"globalnetworkpolicies\":[" GNP("default.not-doc",
		   "{\"selector\":\"role == 'node'\",\"types\":[\"Ingress\"],"
		   "\"ingress\":[{\"action\":\"Allow\","
		   "\"source\":{\"notNets\":[\"198.51.100.0/24\"]}}]}") "]",
		   POLICY_FAILSAFE_IN_DEFAULT, POLICY_FAILSAFE_OUT_DEFAULT);
	assert_true(in_ok(&f, "eth0", IPPROTO_TCP, 8080)); /* from 203.0.113.5 */
	assert_false(host6_ok(&f, "eth0", "", IPPROTO_TCP, 0)); /* the endpoint's default */
	done(&f);
}

/* A policy that selects a host endpoint stays compiled when the last pod
 * it selected goes: the incremental update still equals a full compile. */
static void test_host_endpoint_policy_survives_pod_changes(void **state)
{
	static const char *const base =
		"\"namespaces\":[{\"metadata\":{\"name\":\"a\"}}],\"pods\":[{\"metadata\":"
		"{\"name\":\"web\",\"namespace\":\"a\",\"labels\":{\"app\":\"web\"}},\"spec\":"
		"{\"nodeName\":\"n1\"},\"status\":{\"podIPs\":[{\"ip\":\"10.65.0.1\"}]}}]";
	struct fixture f = {};
	struct policy_desired *full = NULL;
	struct policy_plan *plan = NULL;
	struct policy_pod *old;
	char *a, *b;

	(void)state;
	build_heps_on(&f, "n1", base, "\"hostendpoints\":[" ETH0_HEP "],\"globalnetworkpolicies\":["
		      GNP("default.web-and-node", "{\"selector\":\"app == 'web' || role == 'node'\","
			  "\"ingress\":[{\"action\":\"Allow\",\"protocol\":\"TCP\",\"destination\":"
			  "{\"ports\":[8080]}}]}") ","
		      GNP("default.pre", "{\"selector\":\"all()\",\"preDNAT\":true,\"applyOnForward\":"
			  "true,\"ingress\":[{\"action\":\"Deny\",\"protocol\":\"TCP\",\"destination\":"
			  "{\"ports\":[8081]}}]}") ","
		      GNP("default.dnt", "{\"selector\":\"all()\",\"doNotTrack\":true,\"applyOnForward\":"
			  "true,\"ingress\":[{\"action\":\"Allow\",\"protocol\":\"TCP\",\"destination\":"
			  "{\"ports\":[8082]}}]}") "]", "none", "none");
	assert_true(in_ok(&f, "eth0", IPPROTO_TCP, 8080));
	assert_true(in_ok(&f, "eth0", IPPROTO_TCP, 8082));
	old = policy_model_del_pod(f.m, "a", "web");
	assert_non_null(old);
	assert_int_equal(policy_desired_update_pod(f.d, f.m, old, NULL, &plan), 0);
	assert_int_equal(policy_plan_count(plan, POLICY_OP_CHAIN_DEL), 1); /* web's profile only */
	policy_plan_free(plan);
	policy_pod_free(old);
	assert_true(in_ok(&f, "eth0", IPPROTO_TCP, 8080));
	assert_false(in_ok(&f, "eth0", IPPROTO_TCP, 8081));
	assert_true(in_ok(&f, "eth0", IPPROTO_TCP, 8082)); /* preDNAT, doNotTrack kept */
	assert_true(has_chain(&f, "cc_prerouting") && has_chain(&f, "cc_raw_prerouting"));
	heps_compile(&f, "none", "none", &full);
	a = dump(policy_desired_nft(f.d));
	b = dump(policy_desired_nft(full));
	assert_string_equal(a, b);
	free(a);
	free(b);
	policy_desired_free(full);
	done(&f);
}

/* A HostEndpoint and a GlobalNetworkPolicy exactly as Calico v3.31.0's
 * calicoctl stored them (tests/interop/calico/0004host_endpoint_0 prints
 * them): labels only in the projectcalico.org/metadata annotation, empty
 * source/destination objects, the policy named "default.<name>". */
static const char *calicoctl_written_hep =
	"\"hostendpoints\":[{\"apiVersion\":\"crd.projectcalico.org/v1\",\"kind\":\"HostEndpoint\","
	"\"metadata\":{\"name\":\"node1-eth0\",\"labels\":null,\"annotations\":{"
	"\"projectcalico.org/metadata\":\"{\\\"creationTimestamp\\\":\\\"2026-12-06T22:58:19Z\\\","
	"\\\"labels\\\":{\\\"role\\\":\\\"node\\\",\\\"zone\\\":\\\"lab\\\"}}\"}},\"spec\":{"
	"\"expectedIPs\":[\"172.31.0.11\"],\"interfaceName\":\"eth0\",\"node\":\"node1\","
	"\"ports\":[{\"name\":\"web\",\"port\":8080,\"protocol\":\"TCP\"}],\"profiles\":[\"edge\"]}}],"
	"\"globalnetworkpolicies\":[{\"apiVersion\":\"crd.projectcalico.org/v1\",\"kind\":"
	"\"GlobalNetworkPolicy\",\"metadata\":{\"name\":\"default.node-web\",\"labels\":null,"
	"\"annotations\":{\"projectcalico.org/metadata\":\"{\\\"name\\\":\\\"node-web\\\","
	"\\\"creationTimestamp\\\":\\\"2026-12-06T22:58:19Z\\\"}\"}},\"spec\":{\"egress\":[{"
	"\"action\":\"Allow\",\"destination\":{},\"source\":{}}],\"ingress\":[{\"action\":\"Allow\","
	"\"destination\":{\"ports\":[8080]},\"protocol\":\"TCP\",\"source\":{}}],\"order\":10,"
	"\"selector\":\"role == 'node' && zone == 'lab'\",\"types\":[\"Ingress\",\"Egress\"]}}]";

static void test_calicoctl_written_host_endpoint_is_enforced(void **state)
{
	struct fixture f = {};

	(void)state;
	build_heps_on(&f, "node1", cluster, calicoctl_written_hep, POLICY_FAILSAFE_IN_DEFAULT,
		      POLICY_FAILSAFE_OUT_DEFAULT);
	assert_true(in_ok(&f, "eth0", IPPROTO_TCP, 8080));
	assert_false(in_ok(&f, "eth0", IPPROTO_TCP, 8081));
	assert_true(in_ok(&f, "eth0", IPPROTO_TCP, 22));
	assert_true(out_ok(&f, "eth0", IPPROTO_TCP, 443)); /* egress: Allow */
	assert_true(in_ok(&f, "eth1", IPPROTO_TCP, 8081));
	done(&f);
}

/* A HostEndpoint with expectedIPs and no interfaceName governs the
 * interfaces holding one of them (never a workload's); one naming an
 * interface competes with it by name, as in Felix. */
static void test_expected_ips_find_their_interface(void **state)
{
	struct policy_host_addr addrs[4] = {};
	struct fixture f = {};
	static const struct {
		const char *ifname, *addr;
	} a[] = { { "eth1", "10.0.0.9" }, { "eth2", "10.0.0.10" }, { "cali0123456789a", "10.0.0.9" },
		  { "eth3", "fd00::9" } };

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(a); i++) {
		snprintf(addrs[i].ifname, sizeof(addrs[i].ifname), "%s", a[i].ifname);
		assert_int_equal(prefix_parse(a[i].addr, PREFIX_ADDR_ONLY, &addrs[i].addr), 0);
	}
	build_heps_on(&f, "n1", cluster, "\"hostendpoints\":[" HEP("n1-ip", "{}", "{\"node\":\"n1\","
		      "\"expectedIPs\":[\"10.0.0.9\",\"fd00::9\"]}") "]", POLICY_FAILSAFE_IN_DEFAULT,
		      POLICY_FAILSAFE_OUT_DEFAULT);
	assert_true(in_ok(&f, "eth1", IPPROTO_TCP, 8080)); /* no addresses known yet */
	assert_int_equal(policy_model_set_host_addrs(f.m, addrs, ELEMENTSOF(a)), 1);
	assert_int_equal(policy_model_set_host_addrs(f.m, addrs, ELEMENTSOF(a)), 0);
	f.d = policy_desired_free(f.d);
	heps_compile(&f, POLICY_FAILSAFE_IN_DEFAULT, POLICY_FAILSAFE_OUT_DEFAULT, &f.d);
	assert_false(in_ok(&f, "eth1", IPPROTO_TCP, 8080));
	assert_false(in_ok(&f, "eth3", IPPROTO_TCP, 8080));
	assert_true(in_ok(&f, "eth1", IPPROTO_TCP, 22));
	assert_true(in_ok(&f, "eth2", IPPROTO_TCP, 8080));
	assert_false(out_ok(&f, "eth1", IPPROTO_TCP, 8080));
	done(&f);
	/* "a-eth1" names eth1 and sorts first: it governs eth1 (default-allow) */
	build_heps_on(&f, "n1", cluster, "\"hostendpoints\":[" HEP("n1-ip", "{}", "{\"node\":\"n1\","
		      "\"expectedIPs\":[\"10.0.0.9\"]}") "," HEP("a-eth1", "{}", "{\"node\":\"n1\","
		      "\"interfaceName\":\"eth1\",\"profiles\":[\"projectcalico-default-allow\"]}") "]",
		      POLICY_FAILSAFE_IN_DEFAULT, POLICY_FAILSAFE_OUT_DEFAULT);
	assert_int_equal(policy_model_set_host_addrs(f.m, addrs, 2), 1);
	f.d = policy_desired_free(f.d);
	heps_compile(&f, POLICY_FAILSAFE_IN_DEFAULT, POLICY_FAILSAFE_OUT_DEFAULT, &f.d);
	assert_true(in_ok(&f, "eth1", IPPROTO_TCP, 8080));
	done(&f);
}

/* Whether an op of @kind on @name comes before index @end of @p. */
static bool op_before(const struct policy_plan *p, size_t end, enum policy_op_kind kind,
		      const char *name)
{
	for (size_t j = 0; j < end; j++)
		if (p->ops[j].kind == kind && strcmp(p->ops[j].name, name) == 0)
			return true;
	return false;
}

/* The kernel refuses to delete a chain that a rule or a verdict-map element
 * still jumps to (EBUSY, and the whole batch is lost): walking @p over
 * @obs, each chain deleted has lost every referrer before. */
static void assert_no_busy_delete(const struct policy_nft *obs, const struct policy_plan *p)
{
	for (size_t i = 0; i < p->n_ops; i++) {
		const char *x = p->ops[i].name;
		void *v;

		if (p->ops[i].kind != POLICY_OP_CHAIN_DEL)
			continue;
		for (size_t k = 0; policy_hmap_next(&obs->chains, &k, &v);) {
			const struct policy_nft_chain *c = v;

			for (size_t r = 0; r < c->n_rules; r++)
				if (c->rules[r]->target && strcmp(c->rules[r]->target, x) == 0 &&
				    !op_before(p, i, POLICY_OP_CHAIN_DEL, c->name) &&
				    !op_before(p, i, POLICY_OP_RULE_DEL, c->name))
					fail_msg("chain '%s' deleted while '%s' jumps to it", x, c->name);
		}
		for (size_t k = 0; policy_hmap_next(&obs->sets, &k, &v);) {
			const struct policy_nft_set *s = v;

			if (s->kind == POLICY_SET_IFVMAP && vmap_has_chain(s, x) &&
			    !op_before(p, i, POLICY_OP_ELEM_DEL, s->name))
				fail_msg("chain '%s' deleted while map '%s' jumps to it", x, s->name);
		}
	}
}

/* Removing every host endpoint is one batch the kernel takes: chains are
 * deleted after what jumps to them (verdict-map elements included). */
static void test_removing_host_endpoints_deletes_in_order(void **state)
{
	static const char *const objs =
		"\"hostendpoints\":[" ETH0_HEP "," HEP("all", "{\"role\":\"node\"}",
		"{\"node\":\"n1\",\"interfaceName\":\"*\"}") "],"
		"\"tiers\":[" TIER("sec", "10", "Pass") "],\"globalnetworkpolicies\":["
		GNP("sec.pass", "{\"tier\":\"sec\",\"selector\":\"role == 'node'\",\"applyOnForward\":true,"
		    "\"ingress\":[{\"action\":\"Pass\"}],\"egress\":[{\"action\":\"Pass\"}]}") ","
		GNP("default.allow", "{\"selector\":\"role == 'node'\",\"applyOnForward\":true,"
		    "\"ingress\":[{\"action\":\"Allow\"}],\"egress\":[{\"action\":\"Allow\"}]}") ","
		GNP("sec.pre", "{\"tier\":\"sec\",\"selector\":\"role == 'node'\",\"preDNAT\":true,"
		    "\"applyOnForward\":true,\"ingress\":[{\"action\":\"Pass\"}]}") ","
		GNP("default.dnt", "{\"selector\":\"role == 'node'\",\"doNotTrack\":true,"
		    "\"applyOnForward\":true,\"ingress\":[{\"action\":\"Allow\"}],"
		    "\"egress\":[{\"action\":\"Deny\"}]}") "]";
	struct fixture with = {}, without = {};
	struct policy_plan *p = NULL;

	(void)state;
	build_heps(&with, objs);
	build_heps(&without, "\"hostendpoints\":[]");
	assert_int_equal(policy_plan(policy_desired_nft(with.d), policy_desired_nft(without.d), &p,
				     NULL), 0);
	assert_true(op_before(p, p->n_ops, POLICY_OP_CHAIN_DEL, "cc_output"));
	assert_true(op_before(p, p->n_ops, POLICY_OP_CHAIN_DEL, "cc_failsafe_out"));
	assert_true(op_before(p, p->n_ops, POLICY_OP_SET_DEL, "cc_from_hep_fwd"));
	assert_true(op_before(p, p->n_ops, POLICY_OP_CHAIN_DEL, "cc_prerouting"));
	assert_true(op_before(p, p->n_ops, POLICY_OP_CHAIN_DEL, "cc_raw_output"));
	assert_true(op_before(p, p->n_ops, POLICY_OP_CHAIN_DEL, "cc_failsafe_raw_in"));
	assert_true(op_before(p, p->n_ops, POLICY_OP_SET_DEL, "cc_to_hep_nt"));
	assert_no_busy_delete(policy_desired_nft(with.d), p);
	policy_plan_free(p);
	done(&with);
	done(&without);
}


/* A "*" endpoint's applyOnForward policies police what local pods send out
 * through a host interface and receive from one (Felix resolves "*" to every
 * non-workload interface, its forward dispatch included), never pod to pod
 * nor pod to its node; explained as the table does. */
static void test_all_interfaces_endpoint_polices_pods_forwarded_traffic(void **state)
{
	struct fixture f = {};

	(void)state;
	build_heps(&f, "\"hostendpoints\":[" ALL_HEP "],\"globalnetworkpolicies\":["
		   GNP("default.all-fwd", "{\"selector\":\"role == 'all'\",\"applyOnForward\":true,"
		       "\"ingress\":[{\"action\":\"Deny\",\"protocol\":\"TCP\",\"destination\":"
		       "{\"ports\":[81]}},{\"action\":\"Allow\"}],\"egress\":[{\"action\":"
		       "\"Deny\",\"protocol\":\"TCP\",\"destination\":{\"ports\":[82]}},"
		       "{\"action\":\"Allow\"}]}") "]");
	assert_false(tcp_ok(&f, "198.51.100.1", "a/web", 81)); /* in through eth0 */
	assert_true(tcp_ok(&f, "198.51.100.1", "a/web", 82));
	assert_false(tcp_ok(&f, "a/web", "198.51.100.1", 82)); /* out through eth0 */
	assert_true(tcp_ok(&f, "a/web", "198.51.100.1", 81));
	assert_true(tcp_ok(&f, "b/client", "a/web", 81)); /* pod to pod: no host endpoint */
	assert_true(tcp_ok(&f, "a/web", "b/client", 82));
	assert_true(host_ok(&f, "a/web", 81)); /* to its node: DefaultEndpointToHostAction */
	done(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lower_order_decides_between_disagreeing_policies),
		cmocka_unit_test(test_kubernetes_policies_sit_at_order_1000_of_the_default_tier),
		cmocka_unit_test(test_pass_goes_to_the_next_tier_and_default_action_ends_a_tier),
		cmocka_unit_test(test_global_policy_selects_every_namespace_namespaced_only_its_own),
		cmocka_unit_test(test_service_account_selectors),
		cmocka_unit_test(test_network_sets_match_by_labels),
		cmocka_unit_test(test_nets_ports_protocols_icmp),
		cmocka_unit_test(test_calicoctl_written_objects_are_read_and_enforced),
		cmocka_unit_test(test_parse_errors_and_unsupported_fields),
		cmocka_unit_test(test_unsupported_policy_denies_what_reaches_it),
		cmocka_unit_test(test_explain_names_tier_policy_and_rule),
		cmocka_unit_test(test_label_change_is_incremental_and_equals_full_compile),
		cmocka_unit_test(test_default_endpoint_to_host_action),
		cmocka_unit_test(test_host_to_workload_is_not_policed),
		cmocka_unit_test(test_log_rule_prefix_names_policy_and_rule),
		cmocka_unit_test(test_host_action_and_log_prefix_values),
		cmocka_unit_test(test_cnp_admin_priority_lower_first),
		cmocka_unit_test(test_cnp_admin_decides_before_network_policies),
		cmocka_unit_test(test_cnp_pass_hands_over_to_network_policies),
		cmocka_unit_test(test_cnp_baseline_only_where_no_network_policy_selects),
		cmocka_unit_test(test_cnp_protocols_ports_and_networks),
		cmocka_unit_test(test_cnp_peers_are_pods_never_network_sets),
		cmocka_unit_test(test_cnp_invalid_or_unsupported_fails_closed),
		cmocka_unit_test(test_cnp_versions_and_fixed_tiers),
		cmocka_unit_test(test_cnp_label_change_is_incremental),
		cmocka_unit_test(test_cnp_conformance_suite_sequence),
		cmocka_unit_test(test_host_endpoint_without_policy_denies_but_failsafes),
		cmocka_unit_test(test_global_policies_select_host_endpoints),
		cmocka_unit_test(test_host_endpoint_profiles_interfaces_and_nodes),
		cmocka_unit_test(test_failsafe_settings),
		cmocka_unit_test(test_apply_on_forward_host_policies),
		cmocka_unit_test(test_host_policy_validation),
		cmocka_unit_test(test_pre_dnat_policies),
		cmocka_unit_test(test_do_not_track_policies),
		cmocka_unit_test(test_host_endpoint_passes_ipv6_neighbour_discovery),
		cmocka_unit_test(test_rule_selectors_match_ipv6_without_ipv6_pods),
		cmocka_unit_test(test_not_nets_of_one_family_apply_to_it_only),
		cmocka_unit_test(test_all_interfaces_prednat_only_for_interfaces_without_their_own),
		cmocka_unit_test(test_forwarded_flows_are_explained_as_the_table_does),
		cmocka_unit_test(test_all_interfaces_endpoint_polices_pods_forwarded_traffic),
		cmocka_unit_test(test_host_endpoint_objects),
		cmocka_unit_test(test_rule_selectors_match_host_endpoint_addresses),
		cmocka_unit_test(test_host_endpoint_policy_survives_pod_changes),
		cmocka_unit_test(test_removing_host_endpoints_deletes_in_order),
		cmocka_unit_test(test_calicoctl_written_host_endpoint_is_enforced),
		cmocka_unit_test(test_expected_ips_find_their_interface),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
