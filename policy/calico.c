/* Calico's policy kinds parsed into the policy model (see calico.h).
 *
 * A policy is checked as Calico's validator checks it for the fields we
 * enforce (actions, protocols, ports only with TCP/UDP/SCTP/UDPLite, ICMP
 * only with ICMP/ICMPv6, selectors, nets); fields calico-c cannot enforce
 * exactly (http, notSelector, services, named ports, host endpoint flags)
 * make it -EOPNOTSUPP, which felix-c turns into a deny stand-in.
 */
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calico.h"
#include "cleanup.h"
#include "cnp.h"
#include "errmsg.h"
#include "labelsel.h"
#include "model.h"
#include "prefix.h"
#include "selector.h"

#define RULES_MAX 4096
#define LIST_MAX 4096
#define IPPROTO_UDPLITE_NUM 136

static const struct {
	const char *name;
	int proto;
} protocols[] = {
	{ "TCP", IPPROTO_TCP },	    { "tcp", IPPROTO_TCP },	  { "UDP", IPPROTO_UDP },
	{ "udp", IPPROTO_UDP },	    { "ICMP", IPPROTO_ICMP },	  { "icmp", IPPROTO_ICMP },
	{ "ICMPv6", IPPROTO_ICMPV6 }, { "icmpv6", IPPROTO_ICMPV6 }, { "SCTP", IPPROTO_SCTP },
	{ "sctp", IPPROTO_SCTP },   { "UDPLite", IPPROTO_UDPLITE_NUM },
	{ "udplite", IPPROTO_UDPLITE_NUM },
};

struct pctx {
	const char *kind; /* for messages */
	char **ret_error;
	bool unsupported; /* some field calico-c cannot enforce */
	char *why;	  /* the first such field, malloc'd */
};

static int unsupported(struct pctx *c, const char *path, const char *what)
{
	if (!c->unsupported) {
		c->unsupported = true;
		if (asprintf(&c->why, "%s: %s is not supported by calico-c", path, what) < 0)
			c->why = NULL;
	}
	return 0;
}

static int parse_proto(const json_t *v, const char *path, int *ret, char **ret_error)
{
	if (!v || json_is_null(v)) {
		*ret = -1;
		return 0;
	}
	if (json_is_integer(v)) {
		if (json_integer_value(v) < 1 || json_integer_value(v) > 255)
			return errmsg_set(ret_error, -EINVAL, "%s: %lld is not a protocol (1..255)",
					  path, (long long)json_integer_value(v));
		*ret = (int)json_integer_value(v);
		return 0;
	}
	for (size_t i = 0; json_is_string(v) && i < ELEMENTSOF(protocols); i++)
		if (strcmp(json_string_value(v), protocols[i].name) == 0) {
			*ret = protocols[i].proto;
			return 0;
		}
	return errmsg_set(ret_error, -EINVAL, "%s: '%s' is not a protocol (TCP, UDP, ICMP, ICMPv6, "
			  "SCTP, UDPLite or 1..255)", path, json_string_value(v) ?: "?");
}

static bool proto_has_ports(int p)
{
	return p == IPPROTO_TCP || p == IPPROTO_UDP || p == IPPROTO_SCTP ||
	       p == IPPROTO_UDPLITE_NUM;
}

static int parse_sel(const json_t *j, const char *path, struct selector **ret,
		     char **ret_error)
{
	_cleanup_free_ char *err = NULL;
	const char *t = json_string_value(j);
	int r;

	*ret = NULL;
	if (!j || json_is_null(j))
		return 0;
	if (!t)
		return errmsg_set(ret_error, -EINVAL, "%s: must be a string", path);
	r = selector_parse(t, ret, &err);
	if (r == -EINVAL)
		return errmsg_set(ret_error, r, "%s: %s", path, err ?: "invalid selector");
	return r;
}

static const json_t *list_of(const json_t *j, const char *path, int *ret_r, char **ret_error)
{
	*ret_r = 0;
	if (!j || json_is_null(j))
		return NULL;
	if (!json_is_array(j) || json_array_size(j) > LIST_MAX) {
		*ret_r = errmsg_set(ret_error, -EINVAL, "%s: must be a list of at most %d", path,
				    LIST_MAX);
		return NULL;
	}
	return j;
}

static int parse_nets(const json_t *j, const char *path, struct in_prefix **ret, size_t *ret_n,
		      char **ret_error)
{
	const json_t *l = list_of(j, path, &(int){ 0 }, ret_error), *e;
	size_t i;

	if (j && !json_is_null(j) && !l)
		return errmsg_set(ret_error, -EINVAL, "%s: must be a list", path);
	if (!l || json_array_size(l) == 0)
		return 0;
	*ret = calloc(json_array_size(l), sizeof(**ret));
	if (!*ret)
		return -ENOMEM;
	json_array_foreach(l, i, e) {
		if (prefix_parse(json_string_value(e), PREFIX_ALLOW_BARE | PREFIX_CLEAR_HOST,
				 &(*ret)[i]) < 0)
			return errmsg_set(ret_error, -EINVAL, "%s[%zu]: '%s' is not a CIDR", path, i,
					  json_string_value(e) ?: "?");
		(*ret_n)++;
	}
	return 0;
}

/* A port: 80, "80", "80:90" or a name. */
static int parse_port(struct pctx *c, const json_t *e, const char *path,
		      struct policy_port *pp)
{
	const char *s = json_string_value(e);
	unsigned a, b;
	int n = 0;

	if (json_is_integer(e)) {
		if (json_integer_value(e) < 0 || json_integer_value(e) > 65535)
			return errmsg_set(c->ret_error, -EINVAL, "%s: %lld is not a port", path,
					  (long long)json_integer_value(e));
		pp->port = pp->end_port = (uint16_t)json_integer_value(e);
		return 0;
	}
	if (s && sscanf(s, "%u:%u%n", &a, &b, &n) == 2 && !s[n]) {
		if (a > b || b > 65535)
			return errmsg_set(c->ret_error, -EINVAL, "%s: '%s' is not a port range", path,
					  s);
		pp->port = (uint16_t)a;
		pp->end_port = (uint16_t)b;
		return 0;
	}
	if (s && sscanf(s, "%u%n", &a, &n) == 1 && !s[n]) {
		if (a > 65535)
			return errmsg_set(c->ret_error, -EINVAL, "%s: '%s' is not a port", path, s);
		pp->port = pp->end_port = (uint16_t)a;
		return 0;
	}
	if (!s || !*s || strlen(s) > POLICY_PORT_NAME_MAX)
		return errmsg_set(c->ret_error, -EINVAL, "%s: '%s' is not a port, range or name",
				  path, s ?: "?");
	return unsupported(c, path, "a named port");
}

static int parse_ports(struct pctx *c, const json_t *j, const char *path, int proto,
		       struct policy_port **ret, size_t *ret_n)
{
	char p[256];
	const json_t *e;
	size_t i;
	int r;

	if (!j || json_is_null(j))
		return 0;
	if (!json_is_array(j) || json_array_size(j) > LIST_MAX)
		return errmsg_set(c->ret_error, -EINVAL, "%s: must be a list", path);
	if (json_array_size(j) == 0)
		return 0;
	if (!proto_has_ports(proto))
		return errmsg_set(c->ret_error, -EINVAL, "%s: ports need protocol TCP, UDP, SCTP or "
				  "UDPLite", path);
	*ret = calloc(json_array_size(j), sizeof(**ret));
	if (!*ret)
		return -ENOMEM;
	json_array_foreach(j, i, e) {
		snprintf(p, sizeof(p), "%s[%zu]", path, i);
		(*ret)[i].proto = (uint8_t)proto;
		(*ret_n)++;
		r = parse_port(c, e, p, &(*ret)[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

static int entity_key(struct policy_entity *e, const json_t *j)
{
	const json_t *sa = json_object_get(j, "serviceAccounts");
	_cleanup_free_ char *names = json_dumps(json_object_get(sa, "names"),
						JSON_ENCODE_ANY | JSON_COMPACT | JSON_SORT_KEYS);

	return asprintf(&e->key, "sel=%s\nns=%s%s\nsa=%s\nsan=%s",
			json_string_value(json_object_get(j, "selector")) ?: "",
			e->ns_sel ? "" : "-",
			json_string_value(json_object_get(j, "namespaceSelector")) ?: "",
			json_string_value(json_object_get(sa, "selector")) ?: "", names ?: "") < 0
		       ? -ENOMEM
		       : 0;
}

static int parse_entity(struct pctx *c, struct policy_entity *e, const json_t *j,
			const char *path, int proto)
{
	const json_t *sa = json_object_get(j, "serviceAccounts"), *n;
	char p[256];
	size_t i;
	int r;

	if (!j || json_is_null(j))
		return 0;
	if (!json_is_object(j))
		return errmsg_set(c->ret_error, -EINVAL, "%s: must be an object", path);
#define SUB(f) (snprintf(p, sizeof(p), "%s.%s", path, f), p)
	if (json_object_get(j, "notSelector"))
		(void)unsupported(c, SUB("notSelector"), "notSelector");
	if (json_object_get(j, "services"))
		(void)unsupported(c, SUB("services"), "a services match");
	r = parse_nets(json_object_get(j, "nets"), SUB("nets"), &e->nets, &e->n_nets, c->ret_error);
	if (r == 0)
		r = parse_nets(json_object_get(j, "notNets"), SUB("notNets"), &e->not_nets,
			       &e->n_not_nets, c->ret_error);
	if (r == 0)
		r = parse_sel(json_object_get(j, "selector"), SUB("selector"), &e->sel, c->ret_error);
	if (r == 0)
		r = parse_sel(json_object_get(j, "namespaceSelector"), SUB("namespaceSelector"),
			      &e->ns_sel, c->ret_error);
	if (r == 0)
		r = parse_sel(json_object_get(sa, "selector"), SUB("serviceAccounts.selector"),
			      &e->sa_sel, c->ret_error);
	if (r == 0)
		r = parse_ports(c, json_object_get(j, "ports"), SUB("ports"), proto, &e->ports,
				&e->n_ports);
	if (r == 0)
		r = parse_ports(c, json_object_get(j, "notPorts"), SUB("notPorts"), proto,
				&e->not_ports, &e->n_not_ports);
	if (r < 0)
		return r;
	n = json_object_get(sa, "names");
	if (json_array_size(n) > 0) {
		e->sa_names = calloc(json_array_size(n), sizeof(*e->sa_names));
		if (!e->sa_names)
			return -ENOMEM;
		for (i = 0; i < json_array_size(n); i++) {
			const char *s = json_string_value(json_array_get(n, i));

			if (!s)
				return errmsg_set(c->ret_error, -EINVAL, "%s[%zu]: must be a string",
						  SUB("serviceAccounts.names"), i);
			e->sa_names[e->n_sa_names] = strdup(s);
			if (!e->sa_names[e->n_sa_names++])
				return -ENOMEM;
		}
	}
#undef SUB
	e->by_labels = e->sel || e->ns_sel || e->sa_sel || e->n_sa_names;
	return e->by_labels ? entity_key(e, j) : 0;
}

static int parse_icmp(const json_t *j, const char *path, int proto, int *ret_type,
		      int *ret_code, char **ret_error)
{
	const json_t *t = json_object_get(j, "type"), *c = json_object_get(j, "code");

	*ret_type = *ret_code = -1;
	if (!j || json_is_null(j))
		return 0;
	if (proto != IPPROTO_ICMP && proto != IPPROTO_ICMPV6)
		return errmsg_set(ret_error, -EINVAL, "%s: needs protocol ICMP or ICMPv6", path);
	if (c && !json_is_null(c) && (!t || json_is_null(t)))
		return errmsg_set(ret_error, -EINVAL, "%s.code: needs a type", path);
	if (json_is_integer(t))
		*ret_type = (int)json_integer_value(t);
	if (json_is_integer(c))
		*ret_code = (int)json_integer_value(c);
	if (*ret_type > 254 || *ret_code > 255 || (t && !json_is_null(t) && *ret_type < 0) ||
	    (c && !json_is_null(c) && *ret_code < 0))
		return errmsg_set(ret_error, -EINVAL, "%s: type 0..254, code 0..255", path);
	return 0;
}

static int parse_action(const json_t *j, const char *path, enum policy_action *ret,
			char **ret_error)
{
	const char *s = json_string_value(j);

	for (int a = 0; s && a < _POLICY_ACTION_MAX; a++)
		if (strcmp(s, policy_action_to_string(a)) == 0) {
			*ret = a;
			return 0;
		}
	return errmsg_set(ret_error, -EINVAL, "%s: '%s' is not Allow, Deny, Pass or Log", path,
			  s ?: "(none)");
}

static int parse_rule(struct pctx *c, struct policy_crule *cr, const json_t *j,
		      const char *path)
{
	const json_t *ipv = json_object_get(j, "ipVersion");
	char p[256];
	int r;

	cr->proto = cr->not_proto = -1;
	cr->icmp_type = cr->icmp_code = cr->not_icmp_type = cr->not_icmp_code = -1;
	if (!json_is_object(j))
		return errmsg_set(c->ret_error, -EINVAL, "%s: must be an object", path);
#define SUB(f) (snprintf(p, sizeof(p), "%s.%s", path, f), p)
	r = parse_action(json_object_get(j, "action"), SUB("action"), &cr->action, c->ret_error);
	if (r < 0)
		return r;
	if (ipv && !json_is_null(ipv)) {
		if (!json_is_integer(ipv) ||
		    (json_integer_value(ipv) != 4 && json_integer_value(ipv) != 6))
			return errmsg_set(c->ret_error, -EINVAL, "%s: must be 4 or 6",
					  SUB("ipVersion"));
		cr->family = json_integer_value(ipv) == 4 ? AF_INET : AF_INET6;
	}
	if (json_object_get(j, "http"))
		(void)unsupported(c, SUB("http"), "an HTTP match");
	r = parse_proto(json_object_get(j, "protocol"), SUB("protocol"), &cr->proto, c->ret_error);
	if (r == 0)
		r = parse_proto(json_object_get(j, "notProtocol"), SUB("notProtocol"), &cr->not_proto,
				c->ret_error);
	if (r == 0)
		r = parse_icmp(json_object_get(j, "icmp"), SUB("icmp"), cr->proto, &cr->icmp_type,
			       &cr->icmp_code, c->ret_error);
	if (r == 0)
		r = parse_icmp(json_object_get(j, "notICMP"), SUB("notICMP"), cr->proto,
			       &cr->not_icmp_type, &cr->not_icmp_code, c->ret_error);
	if (r == 0)
		r = parse_entity(c, &cr->src, json_object_get(j, "source"), SUB("source"), cr->proto);
	if (r == 0)
		r = parse_entity(c, &cr->dst, json_object_get(j, "destination"), SUB("destination"),
				 cr->proto);
#undef SUB
	return r;
}

int policy_rules_of(const json_t *spec, enum policy_dir d, size_t max, const json_t **ret,
		    char **ret_error)
{
	const char *field = policy_dir_field(d);
	const json_t *l = json_object_get(spec, field);

	*ret = NULL;
	if (!l || json_is_null(l))
		return 0;
	if (!json_is_array(l) || json_array_size(l) > max)
		return errmsg_set(ret_error, -EINVAL, "spec.%s: must be a list of at most %zu rules",
				  field, max);
	*ret = l;
	return 0;
}

static int parse_rules(struct pctx *c, struct policy_netpol *np, const json_t *spec,
		       enum policy_dir d)
{
	const json_t *l, *e;
	char p[64];
	size_t i;
	int r;

	r = policy_rules_of(spec, d, RULES_MAX, &l, c->ret_error);
	if (r < 0 || !l)
		return r;
	np->crules[d] = calloc(json_array_size(l) + 1, sizeof(*np->crules[d]));
	if (!np->crules[d])
		return -ENOMEM;
	json_array_foreach(l, i, e) {
		snprintf(p, sizeof(p), "spec.%s[%zu]", policy_dir_field(d), i);
		np->n_rules[d]++;
		r = parse_rule(c, &np->crules[d][i], e, p);
		if (r < 0)
			return r;
		np->has_pass |= np->crules[d][i].action == POLICY_ACTION_PASS;
	}
	return 0;
}

/* spec.types, or Calico's default: Ingress, plus Egress when there are
 * egress rules (Egress alone when there are only egress rules). */
static int parse_types(struct policy_netpol *np, const json_t *spec, char **ret_error)
{
	const json_t *t = json_object_get(spec, "types"), *e;
	size_t n_in = json_array_size(json_object_get(spec, "ingress"));
	size_t n_eg = json_array_size(json_object_get(spec, "egress"));
	size_t i;

	if (!t || json_is_null(t) || json_array_size(t) == 0) {
		np->types[POLICY_DIR_INGRESS] = n_eg == 0 || n_in > 0;
		np->types[POLICY_DIR_EGRESS] = n_eg > 0;
		return 0;
	}
	if (!json_is_array(t))
		return errmsg_set(ret_error, -EINVAL, "spec.types: must be a list");
	json_array_foreach(t, i, e) {
		const char *s = json_string_value(e);

		if (s && strcmp(s, "Ingress") == 0)
			np->types[POLICY_DIR_INGRESS] = true;
		else if (s && strcmp(s, "Egress") == 0)
			np->types[POLICY_DIR_EGRESS] = true;
		else
			return errmsg_set(ret_error, -EINVAL, "spec.types[%zu]: '%s' is not Ingress "
					  "or Egress", i, s ?: "?");
	}
	return 0;
}

/* Name, namespace, key, tier, order: what the stand-in keeps too. */
static int policy_new(const json_t *j, enum policy_kind kind, struct policy_netpol **ret,
		      char **ret_error)
{
	const json_t *meta = json_object_get(j, "metadata"), *spec = json_object_get(j, "spec");
	const json_t *order = json_object_get(spec, "order");
	const char *name = json_string_value(json_object_get(meta, "name"));
	const char *ns = json_string_value(json_object_get(meta, "namespace"));
	const char *tier = json_string_value(json_object_get(spec, "tier"));
	_cleanup_free_ struct policy_netpol *np = calloc(1, sizeof(*np));
	int r;

	if (!np)
		return -ENOMEM;
	if (!name || !*name)
		return errmsg_set(ret_error, -EINVAL, "%s: metadata.name: required",
				  kind == POLICY_KIND_GLOBAL ? "GlobalNetworkPolicy" : "NetworkPolicy");
	np->refs = 1;
	np->kind = kind;
	np->ns = strdup(kind == POLICY_KIND_GLOBAL ? "" : ns && *ns ? ns : "default");
	np->name = strdup(name);
	np->tier = strdup(tier && *tier ? tier : POLICY_DEFAULT_TIER);
	if (!np->ns || !np->name || !np->tier)
		goto out_oom;
	r = kind == POLICY_KIND_GLOBAL
		    ? asprintf(&np->key, "gnp:%s", name)
		    : asprintf(&np->key, "np:%s/%s", np->ns, name);
	if (r < 0)
		goto out_oom;
	r = kind == POLICY_KIND_GLOBAL ? asprintf(&np->sort_name, "%s", name)
				       : asprintf(&np->sort_name, "%s/%s", np->ns, name);
	if (r < 0)
		goto out_oom;
	if (json_is_number(order) && isfinite(json_number_value(order))) {
		np->order = json_number_value(order);
		np->has_order = true;
	}
	*ret = TAKE_PTR(np);
	return 0;
out_oom:
	free(np->ns);
	free(np->name);
	free(np->tier);
	free(np->key);
	free(np->sort_name);
	return -ENOMEM;
}

/* applyOnForward, preDNAT, doNotTrack (GlobalNetworkPolicy only), checked as
 * Calico's validator does. */
static void host_flags(struct policy_netpol *np, const json_t *spec)
{
	np->apply_on_forward = json_is_true(json_object_get(spec, "applyOnForward"));
	if (json_is_true(json_object_get(spec, "preDNAT")))
		np->host_mode = POLICY_HOST_MODE_PRE_DNAT;
	else if (json_is_true(json_object_get(spec, "doNotTrack")))
		np->host_mode = POLICY_HOST_MODE_UNTRACKED;
}

static int parse_host_flags(struct pctx *c, struct policy_netpol *np, const json_t *spec)
{
	bool pre;

	host_flags(np, spec);
	pre = np->host_mode == POLICY_HOST_MODE_PRE_DNAT;
	if (pre && json_is_true(json_object_get(spec, "doNotTrack")))
		return errmsg_set(c->ret_error, -EINVAL,
				  "spec: preDNAT and doNotTrack cannot both be true");
	if (np->host_mode != POLICY_HOST_MODE_NORMAL && !np->apply_on_forward)
		return errmsg_set(c->ret_error, -EINVAL, "spec.applyOnForward: must be true when "
				  "preDNAT or doNotTrack is");
	if (pre && (np->types[POLICY_DIR_EGRESS] || np->n_rules[POLICY_DIR_EGRESS]))
		return errmsg_set(c->ret_error, -EINVAL,
				  "spec.preDNAT: a preDNAT policy cannot have egress rules or type");
	return 0;
}

static int policy_parse(struct pctx *c, struct policy_netpol *np, const json_t *j)
{
	const json_t *spec = json_object_get(j, "spec");
	size_t tl = strlen(np->tier);
	int r;

	if (spec && !json_is_null(spec) && !json_is_object(spec))
		return errmsg_set(c->ret_error, -EINVAL, "spec: must be an object");
	if (strncmp(np->name, np->tier, tl) != 0 || np->name[tl] != '.')
		return errmsg_set(c->ret_error, -EINVAL, "metadata.name: must be '%s.<name>'",
				  np->tier);
	if (json_object_get(spec, "order") && !json_is_null(json_object_get(spec, "order")) &&
	    !np->has_order)
		return errmsg_set(c->ret_error, -EINVAL, "spec.order: must be a number");
	r = parse_sel(json_object_get(spec, "selector"), "spec.selector", &np->sel, c->ret_error);
	if (r == 0 && np->kind == POLICY_KIND_GLOBAL)
		r = parse_sel(json_object_get(spec, "namespaceSelector"), "spec.namespaceSelector",
			      &np->ns_sel, c->ret_error);
	if (r == 0)
		r = parse_sel(json_object_get(spec, "serviceAccountSelector"),
			      "spec.serviceAccountSelector", &np->sa_sel, c->ret_error);
	if (r == 0)
		r = parse_types(np, spec, c->ret_error);
	for (int d = 0; r == 0 && d < _POLICY_DIR_MAX; d++)
		r = parse_rules(c, np, spec, d);
	if (r == 0 && np->kind == POLICY_KIND_GLOBAL)
		r = parse_host_flags(c, np, spec);
	return r;
}

static const char *kind_name(enum policy_kind kind)
{
	return kind == POLICY_KIND_GLOBAL ? "GlobalNetworkPolicy" : "NetworkPolicy";
}

static int calico_parse(const json_t *j, enum policy_kind kind, bool strict,
			struct policy_netpol **ret, char **ret_error)
{
	struct policy_netpol *np = NULL;
	struct pctx c = { .ret_error = ret_error };
	int r;

	r = policy_new(j, kind, &np, ret_error);
	if (r < 0)
		return r;
	r = policy_parse(&c, np, j);
	if (r == 0 && c.unsupported && strict) {
		r = errmsg_set(ret_error, -EOPNOTSUPP, "%s", c.why ?: "unsupported field");
	}
	free(c.why);
	if (r < 0) {
		char *inner = ret_error ? *ret_error : NULL;

		if (inner && asprintf(ret_error, "%s '%s%s%s': %s", kind_name(kind), np->ns,
				      *np->ns ? "/" : "", np->name, inner) < 0)
			*ret_error = NULL;
		if (inner)
			free(inner);
		policy_netpol_unref(np);
		return r;
	}
	*ret = np;
	return 0;
}

int policy_calico_from_json(const json_t *j, enum policy_kind kind, struct policy_netpol **ret,
			    char **ret_error)
{
	return calico_parse(j, kind, true, ret, ret_error);
}

int policy_calico_check(const json_t *obj, char **ret_error)
{
	const char *k = json_string_value(json_object_get(obj, "kind"));
	struct policy_netpol *np = NULL;
	int r;

	r = calico_parse(obj, k && strcmp(k, "GlobalNetworkPolicy") == 0 ? POLICY_KIND_GLOBAL
									 : POLICY_KIND_CALICO,
			 false, &np, ret_error);
	policy_netpol_unref(np);
	return r;
}

int policy_calico_deny_from_json(const json_t *j, enum policy_kind kind,
				 struct policy_netpol **ret)
{
	const json_t *spec = json_object_get(j, "spec");
	struct policy_netpol *np = NULL;
	int r;

	r = policy_new(j, kind, &np, NULL);
	if (r < 0)
		return r;
	np->rejected = true;
	if (parse_sel(json_object_get(spec, "selector"), "", &np->sel, NULL) < 0)
		np->sel = NULL; /* every endpoint in scope */
	if (kind == POLICY_KIND_GLOBAL &&
	    parse_sel(json_object_get(spec, "namespaceSelector"), "", &np->ns_sel, NULL) < 0)
		np->ns_sel = NULL;
	if (parse_sel(json_object_get(spec, "serviceAccountSelector"), "", &np->sa_sel, NULL) < 0)
		np->sa_sel = NULL;
	if (kind == POLICY_KIND_GLOBAL)
		host_flags(np, spec);
	np->types[0] = np->types[1] = false;
	if (parse_types(np, spec, NULL) < 0)
		np->types[POLICY_DIR_INGRESS] = np->types[POLICY_DIR_EGRESS] = true;
	for (int d = 0; d < _POLICY_DIR_MAX; d++) {
		np->crules[d] = calloc(1, sizeof(*np->crules[d]));
		if (!np->crules[d]) {
			policy_netpol_unref(np);
			return -ENOMEM;
		}
		np->n_rules[d] = 1;
		*np->crules[d] = (struct policy_crule){
			.action = POLICY_ACTION_DENY, .proto = -1, .not_proto = -1,
			.icmp_type = -1, .icmp_code = -1, .not_icmp_type = -1, .not_icmp_code = -1,
		};
	}
	*ret = np;
	return 0;
}

/* ---- tiers, network sets, service accounts ---- */

struct policy_tier *policy_tier_free(struct policy_tier *t)
{
	if (t) {
		free(t->name);
		free(t);
	}
	return NULL;
}

int policy_tier_from_json(const json_t *j, struct policy_tier **ret, char **ret_error)
{
	const json_t *spec = json_object_get(j, "spec"), *order = json_object_get(spec, "order");
	const char *name = json_string_value(json_object_get(json_object_get(j, "metadata"), "name"));
	const char *da = json_string_value(json_object_get(spec, "defaultAction"));
	_cleanup_(policy_tier_freep) struct policy_tier *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	if (!name || !*name)
		return errmsg_set(ret_error, -EINVAL, "Tier: metadata.name: required");
	if (da && strcmp(da, "Pass") != 0 && strcmp(da, "Deny") != 0)
		return errmsg_set(ret_error, -EINVAL, "Tier '%s': spec.defaultAction: '%s' is not "
				  "Deny or Pass", name, da);
	t->name = strdup(name);
	if (!t->name)
		return -ENOMEM;
	t->pass = da && strcmp(da, "Pass") == 0;
	if (json_is_number(order) && isfinite(json_number_value(order))) {
		t->order = json_number_value(order);
		t->has_order = true;
	}
	*ret = TAKE_PTR(t);
	return 0;
}

struct policy_netset *policy_netset_free(struct policy_netset *s)
{
	if (s) {
		free(s->ns);
		free(s->name);
		free(s->key);
		free(s->labels);
		free(s->nets);
		free(s);
	}
	return NULL;
}

/* metadata.labels merged with the labels Calico's own client keeps in its
 * projectcalico.org/metadata annotation (where calicoctl stores them). */
static int calico_labels(const json_t *meta, struct labels **ret)
{
	const char *ann = json_string_value(json_object_get(json_object_get(meta, "annotations"),
							    "projectcalico.org/metadata"));
	_cleanup_(json_decrefp) json_t *cm = ann ? json_loads(ann, 0, NULL) : NULL;
	_cleanup_(json_decrefp) json_t *all = json_object();
	const json_t *l = json_object_get(meta, "labels");

	if (!all)
		return -ENOMEM;
	if (json_is_object(l) && json_object_update(all, (json_t *)l) < 0)
		return -ENOMEM;
	l = json_object_get(cm, "labels");
	if (json_is_object(l) && json_object_update(all, (json_t *)l) < 0)
		return -ENOMEM;
	return labels_from_json(all, NULL, NULL, ret);
}

int policy_netset_from_json(const json_t *j, struct policy_netset **ret, char **ret_error)
{
	const json_t *meta = json_object_get(j, "metadata");
	const char *name = json_string_value(json_object_get(meta, "name"));
	const char *ns = json_string_value(json_object_get(meta, "namespace"));
	_cleanup_(policy_netset_freep) struct policy_netset *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	if (!name || !*name)
		return errmsg_set(ret_error, -EINVAL, "NetworkSet: metadata.name: required");
	s->name = strdup(name);
	s->ns = ns && *ns ? strdup(ns) : NULL;
	if (!s->name || (ns && *ns && !s->ns) ||
	    asprintf(&s->key, "%s/%s", s->ns ?: "", name) < 0)
		return -ENOMEM;
	r = calico_labels(meta, &s->labels);
	if (r == -EINVAL)
		return errmsg_set(ret_error, r, "NetworkSet '%s': labels must be strings", s->key);
	if (r == 0)
		r = parse_nets(json_object_get(json_object_get(j, "spec"), "nets"), "spec.nets",
			       &s->nets, &s->n_nets, ret_error);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(s);
	return 0;
}

struct policy_sa *policy_sa_free(struct policy_sa *s)
{
	if (s) {
		free(s->key);
		free(s->labels);
		free(s);
	}
	return NULL;
}

int policy_sa_from_json(const json_t *j, struct policy_sa **ret, char **ret_error)
{
	const json_t *meta = json_object_get(j, "metadata");
	const char *name = json_string_value(json_object_get(meta, "name"));
	const char *ns = json_string_value(json_object_get(meta, "namespace"));
	_cleanup_(policy_sa_freep) struct policy_sa *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	if (!name || !*name)
		return errmsg_set(ret_error, -EINVAL, "ServiceAccount: metadata.name: required");
	if (asprintf(&s->key, "%s/%s", ns && *ns ? ns : "default", name) < 0)
		return -ENOMEM;
	r = labels_from_json(json_object_get(meta, "labels"), "projectcalico.org/name", name,
			     &s->labels);
	if (r == -EINVAL)
		return errmsg_set(ret_error, r, "ServiceAccount '%s': labels must be strings",
				  s->key);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(s);
	return 0;
}

/* ---- host endpoints ---- */

struct policy_hep *policy_hep_free(struct policy_hep *h)
{
	if (h) {
		free(h->name);
		free(h->node);
		free(h->labels);
		free(h->ips);
		free(h);
	}
	return NULL;
}

/* Calico's interface names: 1..15 of [A-Za-z0-9_.-], or "*". */
static bool hep_ifname_is_valid(const char *s)
{
	size_t n = strlen(s);

	if (strcmp(s, "*") == 0)
		return true;
	if (n == 0 || n >= IFNAMSIZ)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' || *s == '-'))
			return false;
	return true;
}

static int hep_ips(struct policy_hep *h, const json_t *l, char **ret_error)
{
	const json_t *e;
	size_t i;

	if (l && !json_is_null(l) && (!json_is_array(l) || json_array_size(l) > LIST_MAX))
		return errmsg_set(ret_error, -EINVAL, "spec.expectedIPs: must be a list of at most %d",
				  LIST_MAX);
	if (json_array_size(l) == 0)
		return 0;
	h->ips = calloc(json_array_size(l), sizeof(*h->ips));
	if (!h->ips)
		return -ENOMEM;
	json_array_foreach(l, i, e) {
		if (prefix_parse(json_string_value(e), PREFIX_ADDR_ONLY, &h->ips[i]) < 0)
			return errmsg_set(ret_error, -EINVAL, "spec.expectedIPs[%zu]: '%s' is not an "
					  "IP address", i, json_string_value(e) ?: "?");
		h->n_ips++;
	}
	return 0;
}

static int hep_profiles(struct policy_hep *h, const json_t *l, char **ret_error)
{
	const json_t *e;
	size_t i;

	if (l && !json_is_null(l) && !json_is_array(l))
		return errmsg_set(ret_error, -EINVAL, "spec.profiles: must be a list");
	json_array_foreach(l, i, e) {
		const char *p = json_string_value(e);

		if (!p || !*p)
			return errmsg_set(ret_error, -EINVAL, "spec.profiles[%zu]: must be a name", i);
		if (strcmp(p, POLICY_PROFILE_DEFAULT_ALLOW) == 0)
			h->default_allow = true;
		else
			h->n_other_profiles++;
	}
	return 0;
}

/* spec.ports: named ports, checked (Calico rules naming ports are not
 * enforced by calico-c, so nothing uses them). */
static int hep_ports(const json_t *l, char **ret_error)
{
	const json_t *e;
	size_t i;

	if (l && !json_is_null(l) && !json_is_array(l))
		return errmsg_set(ret_error, -EINVAL, "spec.ports: must be a list");
	json_array_foreach(l, i, e) {
		const char *name = json_string_value(json_object_get(e, "name"));
		json_int_t port = json_integer_value(json_object_get(e, "port"));
		int proto;

		if (!name || !*name || strlen(name) > POLICY_PORT_NAME_MAX)
			return errmsg_set(ret_error, -EINVAL, "spec.ports[%zu].name: must be a name "
					  "of 1..%d characters", i, POLICY_PORT_NAME_MAX);
		if (port < 1 || port > 65535)
			return errmsg_set(ret_error, -EINVAL, "spec.ports[%zu].port: must be 1..65535",
					  i);
		if (parse_proto(json_object_get(e, "protocol"), "spec.ports[].protocol", &proto,
				ret_error) < 0)
			return -EINVAL;
	}
	return 0;
}

static int hep_parse(struct policy_hep *h, const json_t *meta, const json_t *spec,
		     char **ret_error)
{
	const char *node = json_string_value(json_object_get(spec, "node"));
	const json_t *ifn = json_object_get(spec, "interfaceName");
	int r;

	if (spec && !json_is_object(spec))
		return errmsg_set(ret_error, -EINVAL, "spec: must be an object");
	if (!node || !*node)
		return errmsg_set(ret_error, -EINVAL, "spec.node: required");
	if (ifn && !json_is_null(ifn) &&
	    (!json_is_string(ifn) ||
	     (*json_string_value(ifn) && !hep_ifname_is_valid(json_string_value(ifn)))))
		return errmsg_set(ret_error, -EINVAL, "spec.interfaceName: must be '*' or an "
				  "interface name (1..15 of A-Z a-z 0-9 _ . -)");
	snprintf(h->ifname, sizeof(h->ifname), "%s", json_string_value(ifn) ?: "");
	h->node = strdup(node);
	if (!h->node)
		return -ENOMEM;
	r = calico_labels(meta, &h->labels);
	if (r == -EINVAL)
		return errmsg_set(ret_error, r, "labels must be strings");
	if (r == 0)
		r = hep_ips(h, json_object_get(spec, "expectedIPs"), ret_error);
	if (r == 0 && !*h->ifname && h->n_ips == 0)
		r = errmsg_set(ret_error, -EINVAL, "spec: at least one of interfaceName or "
			       "expectedIPs must be specified");
	if (r == 0)
		r = hep_profiles(h, json_object_get(spec, "profiles"), ret_error);
	if (r == 0)
		r = hep_ports(json_object_get(spec, "ports"), ret_error);
	return r;
}

/* @ret_error without the object's name (crdvalid adds its own). */
static int hep_new(const json_t *j, struct policy_hep **ret, char **ret_error)
{
	const json_t *meta = json_object_get(j, "metadata");
	const char *name = json_string_value(json_object_get(meta, "name"));
	_cleanup_(policy_hep_freep) struct policy_hep *h = calloc(1, sizeof(*h));
	int r;

	if (!h)
		return -ENOMEM;
	if (!name || !*name)
		return errmsg_set(ret_error, -EINVAL, "metadata.name: required");
	h->name = strdup(name);
	if (!h->name)
		return -ENOMEM;
	r = hep_parse(h, meta, json_object_get(j, "spec"), ret_error);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(h);
	return 0;
}

int policy_hep_from_json(const json_t *j, struct policy_hep **ret, char **ret_error)
{
	_cleanup_free_ char *err = NULL;
	int r = hep_new(j, ret, &err);

	if (r == -EINVAL)
		return errmsg_set(ret_error, r, "HostEndpoint '%s': %s",
				  json_string_value(json_object_get(json_object_get(j, "metadata"),
								    "name")) ?: "",
				  err ?: "invalid");
	return r;
}

int policy_hep_deny_from_json(const json_t *j, struct policy_hep **ret)
{
	const json_t *spec = json_object_get(j, "spec");
	const char *name = json_string_value(json_object_get(json_object_get(j, "metadata"), "name"));
	const char *node = json_string_value(json_object_get(spec, "node"));
	const char *ifn = json_string_value(json_object_get(spec, "interfaceName"));
	_cleanup_(policy_hep_freep) struct policy_hep *h = calloc(1, sizeof(*h));

	if (!h)
		return -ENOMEM;
	if (!name || !*name || !node || !*node || !ifn || !hep_ifname_is_valid(ifn))
		return -EINVAL;
	snprintf(h->ifname, sizeof(h->ifname), "%s", ifn);
	h->rejected = true;
	h->name = strdup(name);
	h->node = strdup(node);
	if (!h->name || !h->node || labels_from_json(NULL, NULL, NULL, &h->labels) < 0)
		return -ENOMEM;
	*ret = TAKE_PTR(h);
	return 0;
}

int policy_hep_check(const json_t *obj, char **ret_error)
{
	_cleanup_(policy_hep_freep) struct policy_hep *h = NULL;

	return hep_new(obj, &h, ret_error);
}

static const char *hep_label(const void *ctx, const char *key)
{
	return labels_get(((const struct policy_hep *)ctx)->labels, key);
}

static const char *no_label(const void *ctx, const char *key)
{
	(void)ctx;
	(void)key;
	return NULL;
}

/* Calico folds a GlobalNetworkPolicy's namespaceSelector and
 * serviceAccountSelector into its selector as labels of the endpoint's
 * namespace and account: a host endpoint has neither, so they are evaluated
 * on no labels. */
bool policy_selects_hep(const struct policy_netpol *np, const struct policy_hep *h)
{
	if (np->kind != POLICY_KIND_GLOBAL || h->rejected)
		return false;
	if (np->ns_sel && !selector_matches_with(np->ns_sel, no_label, NULL))
		return false;
	if (np->sa_sel && !selector_matches_with(np->sa_sel, no_label, NULL))
		return false;
	return !np->sel || selector_matches_with(np->sel, hep_label, h);
}

static void changed(struct policy_model *m)
{
	m->generation++;
	m->netpol_generation++;
}

#define MODEL_SETTER(what, type, keyfield, freefn)                                           \
	int policy_model_set_##what(struct policy_model *m, type *x)                          \
	{                                                                                     \
		type *old = policy_hmap_remove_str(&m->what##s, x->keyfield);                 \
		int r;                                                                        \
                                                                                              \
		freefn(old);                                                                  \
		r = policy_hmap_put_str(&m->what##s, x->keyfield, x);                         \
		if (r < 0)                                                                    \
			freefn(x);                                                            \
		changed(m);                                                                   \
		return r;                                                                     \
	}

MODEL_SETTER(tier, struct policy_tier, name, policy_tier_free)
MODEL_SETTER(netset, struct policy_netset, key, policy_netset_free)
MODEL_SETTER(sa, struct policy_sa, key, policy_sa_free)

static int del_key(struct policy_model *m, struct policy_hmap *h, const char *key,
		   void *(*freefn)(void *))
{
	void *x = policy_hmap_remove_str(h, key);

	if (!x)
		return -ENOENT;
	freefn(x);
	changed(m);
	return 0;
}

static void *tier_free_v(void *x)
{
	return policy_tier_free(x);
}

static void *netset_free_v(void *x)
{
	return policy_netset_free(x);
}

static void *hep_free_v(void *x)
{
	return policy_hep_free(x);
}

static void *sa_free_v(void *x)
{
	return policy_sa_free(x);
}

/* A host endpoint's expectedIPs as a network set without namespace,
 * "hep:<name>": rule selectors match its labels in the same scope as
 * GlobalNetworkSets'. */
static int hep_netset(const struct policy_hep *h, struct policy_netset **ret)
{
	_cleanup_(policy_netset_freep) struct policy_netset *s = calloc(1, sizeof(*s));

	if (!s || !(s->name = strdup(h->name)) || asprintf(&s->key, "hep:%s", h->name) < 0) {
		if (s)
			s->key = NULL;
		return -ENOMEM;
	}
	s->labels = labels_dup(h->labels);
	s->nets = malloc((h->n_ips + 1) * sizeof(*s->nets));
	if (!s->labels || !s->nets)
		return -ENOMEM;
	memcpy(s->nets, h->ips, h->n_ips * sizeof(*s->nets));
	s->n_nets = h->n_ips;
	*ret = TAKE_PTR(s);
	return 0;
}

int policy_model_set_hep(struct policy_model *m, struct policy_hep *h)
{
	struct policy_netset *s = NULL;
	int r;

	(void)policy_model_del_hep(m, h->name);
	r = h->n_ips ? hep_netset(h, &s) : 0;
	if (r == 0)
		r = policy_hmap_put_str(&m->heps, h->name, h);
	if (r < 0) {
		policy_hep_free(h);
		policy_netset_free(s);
		return r;
	}
	changed(m);
	if (!s)
		return 0;
	r = policy_hmap_put_str(&m->netsets, s->key, s);
	if (r < 0)
		policy_netset_free(s);
	return r;
}

int policy_model_del_hep(struct policy_model *m, const char *name)
{
	char key[600];

	snprintf(key, sizeof(key), "hep:%s", name);
	policy_netset_free(policy_hmap_remove_str(&m->netsets, key));
	return del_key(m, &m->heps, name, hep_free_v);
}

static int cmp_host_addr(const void *a, const void *b)
{
	const struct policy_host_addr *x = a, *y = b;
	int c = strcmp(x->ifname, y->ifname);

	return c ? c : prefix_cmp(&x->addr, &y->addr);
}

int policy_model_set_host_addrs(struct policy_model *m, const struct policy_host_addr *v,
				size_t n)
{
	_cleanup_free_ struct policy_host_addr *c = malloc((n + 1) * sizeof(*c));

	if (!c)
		return -ENOMEM;
	memcpy(c, v, n * sizeof(*c));
	qsort(c, n, sizeof(*c), cmp_host_addr);
	for (size_t i = 0; n == m->n_host_addrs && i <= n; i++)
		if (i == n)
			return 0;
		else if (cmp_host_addr(&c[i], &m->host_addrs[i]) != 0)
			break;
	free(m->host_addrs);
	m->host_addrs = TAKE_PTR(c);
	m->n_host_addrs = n;
	changed(m);
	return 1;
}

bool policy_model_wants_host_addrs(const struct policy_model *m)
{
	void *x;

	for (size_t i = 0; policy_hmap_next(&m->heps, &i, &x);) {
		const struct policy_hep *h = x;

		if (!*h->ifname && (!m->node || strcmp(h->node, m->node) == 0))
			return true;
	}
	return false;
}

int policy_model_del_tier(struct policy_model *m, const char *name)
{
	return del_key(m, &m->tiers, name, tier_free_v);
}

int policy_model_del_netset(struct policy_model *m, const char *ns, const char *name)
{
	char key[600];

	snprintf(key, sizeof(key), "%s/%s", ns ?: "", name);
	return del_key(m, &m->netsets, key, netset_free_v);
}

int policy_model_del_sa(struct policy_model *m, const char *ns, const char *name)
{
	char key[600];

	snprintf(key, sizeof(key), "%s/%s", ns, name);
	return del_key(m, &m->sas, key, sa_free_v);
}

void policy_model_tier(const struct policy_model *m, const char *name, double *ret_order,
		       bool *ret_has_order, bool *ret_pass)
{
	const struct policy_tier *t = policy_hmap_get_str(&m->tiers, name);
	bool admin = strcmp(name, POLICY_CNP_ADMIN_TIER) == 0;

	if (admin || strcmp(name, POLICY_CNP_BASELINE_TIER) == 0) {
		*ret_order = admin ? POLICY_CNP_ADMIN_TIER_ORDER : POLICY_CNP_BASELINE_TIER_ORDER;
		*ret_has_order = true;
		*ret_pass = true;
	} else if (t) {
		*ret_order = t->order;
		*ret_has_order = t->has_order;
		*ret_pass = t->pass;
	} else {
		/* the default tier exists in every Calico cluster; a missing
		 * other tier sorts last and denies (fail closed) */
		*ret_has_order = strcmp(name, POLICY_DEFAULT_TIER) == 0;
		*ret_order = POLICY_DEFAULT_TIER_ORDER;
		*ret_pass = false;
	}
}

/* ---- matching ---- */

struct pod_view {
	const struct policy_pod *pod;
};

static const char *pod_label(const void *ctx, const char *key)
{
	const struct policy_pod *p = ctx;
	const char *v = labels_get(p->labels, key);

	if (v)
		return v;
	if (strcmp(key, "projectcalico.org/namespace") == 0)
		return p->ns;
	if (strcmp(key, "projectcalico.org/orchestrator") == 0)
		return "k8s";
	if (strcmp(key, "projectcalico.org/serviceaccount") == 0)
		return p->sa;
	return NULL;
}

struct named_labels {
	const struct labels *labels;
	const char *name; /* projectcalico.org/name */
};

static const char *named_label(const void *ctx, const char *key)
{
	const struct named_labels *n = ctx;
	const char *v = n->labels ? labels_get(n->labels, key) : NULL;

	if (v)
		return v;
	return strcmp(key, "projectcalico.org/name") == 0 ? n->name : NULL;
}

static bool ns_matches(const struct policy_model *m, const struct selector *sel, const char *ns)
{
	const struct policy_namespace *n = policy_hmap_get_str(&m->namespaces, ns);
	struct named_labels nl = { n ? n->labels : NULL, ns };

	return selector_matches_with(sel, named_label, &nl);
}

static bool sa_matches(const struct policy_model *m, const struct selector *sel,
		       const struct policy_pod *pod)
{
	char key[600];
	const struct policy_sa *sa;
	struct named_labels nl = { NULL, pod->sa };

	snprintf(key, sizeof(key), "%s/%s", pod->ns, pod->sa ?: "default");
	sa = policy_hmap_get_str(&m->sas, key);
	nl.labels = sa ? sa->labels : NULL;
	return selector_matches_with(sel, named_label, &nl);
}

bool policy_selects_pod(const struct policy_model *m, const struct policy_netpol *np,
			const struct policy_pod *pod)
{
	if (np->kind == POLICY_KIND_K8S)
		return strcmp(pod->ns, np->ns) == 0 && labelsel_matches(np->pod_sel, pod->labels);
	if (np->host_mode != POLICY_HOST_MODE_NORMAL) /* host endpoints only */
		return false;
	if (np->kind == POLICY_KIND_CALICO && strcmp(pod->ns, np->ns) != 0)
		return false;
	if (np->ns_sel && !ns_matches(m, np->ns_sel, pod->ns))
		return false;
	if (np->sa_sel && !sa_matches(m, np->sa_sel, pod))
		return false;
	return !np->sel || selector_matches_with(np->sel, pod_label, pod);
}

/* "global()" as a namespaceSelector: non-namespaced resources only. */
static bool ns_sel_is_global(const struct policy_entity *e)
{
	return e->ns_sel && strstr(e->key, "\nns=global()\n");
}

bool policy_entity_wants_ns(const struct policy_model *m, const struct policy_netpol *np,
			    const struct policy_entity *e, const char *ns)
{
	if (ns_sel_is_global(e))
		return false;
	if (e->ns_sel)
		return ns_matches(m, e->ns_sel, ns);
	return np->kind == POLICY_KIND_GLOBAL || np->kind == POLICY_KIND_CLUSTER ||
	       strcmp(ns, np->ns) == 0;
}

bool policy_entity_matches_pod(const struct policy_model *m, const struct policy_netpol *np,
			       const struct policy_entity *e, const struct policy_pod *pod)
{
	bool name_ok = e->n_sa_names == 0;

	if (!e->by_labels || !policy_entity_wants_ns(m, np, e, pod->ns))
		return false;
	for (size_t i = 0; !name_ok && i < e->n_sa_names; i++)
		name_ok = pod->sa && strcmp(e->sa_names[i], pod->sa) == 0;
	if (!name_ok || (e->sa_sel && !sa_matches(m, e->sa_sel, pod)))
		return false;
	return !e->sel || selector_matches_with(e->sel, pod_label, pod);
}

static const char *netset_label(const void *ctx, const char *key)
{
	const struct policy_netset *s = ctx;
	const char *v = labels_get(s->labels, key);

	if (v || !s->ns)
		return v;
	return strcmp(key, "projectcalico.org/namespace") == 0 ? s->ns : NULL;
}

bool policy_entity_matches_netset(const struct policy_model *m, const struct policy_netpol *np,
				  const struct policy_entity *e, const struct policy_netset *s)
{
	/* service accounts: endpoints only; ClusterNetworkPolicy peers: pods only */
	if (!e->by_labels || e->sa_sel || e->n_sa_names || np->kind == POLICY_KIND_CLUSTER)
		return false;
	if (ns_sel_is_global(e)) {
		if (s->ns)
			return false;
	} else if (e->ns_sel) {
		if (!s->ns || !ns_matches(m, e->ns_sel, s->ns))
			return false;
	} else if (np->kind != POLICY_KIND_GLOBAL && (!s->ns || strcmp(s->ns, np->ns) != 0)) {
		return false;
	}
	return !e->sel || selector_matches_with(e->sel, netset_label, s);
}

int policy_cmp(const struct policy_netpol *a, const struct policy_netpol *b)
{
	if (a->has_order != b->has_order)
		return a->has_order ? -1 : 1;
	if (a->has_order && a->order != b->order)
		return a->order < b->order ? -1 : 1;
	return strcmp(a->sort_name, b->sort_name);
}

struct policy_applied policy_applied_of(const struct policy_model *m,
					const struct policy_netpol *np)
{
	struct policy_applied x = { .np = np };

	policy_model_tier(m, np->tier, &x.tier_order, &x.tier_has_order, &x.tier_pass);
	return x;
}

int policy_applied_cmp(const void *x, const void *y)
{
	const struct policy_applied *a = x, *b = y;
	int c;

	if (a->tier_has_order != b->tier_has_order)
		return a->tier_has_order ? -1 : 1;
	if (a->tier_has_order && a->tier_order != b->tier_order)
		return a->tier_order < b->tier_order ? -1 : 1;
	c = strcmp(a->np->tier, b->np->tier);
	return c ? c : policy_cmp(a->np, b->np);
}
