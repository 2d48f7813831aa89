/* Parsing, validation and indexing of the objects NetworkPolicy depends on.
 *
 * Validation follows the apiserver's rules for networking.k8s.io/v1 so that a
 * policy we accept is one Kubernetes would accept, and a policy Kubernetes
 * would reject is reported with the field that is wrong:
 *  - a peer needs podSelector, namespaceSelector or ipBlock; ipBlock excludes
 *    the other two;
 *  - ipBlock.cidr is a CIDR; each except is a strict subset of it;
 *  - protocol is TCP (default), UDP or SCTP; port is 1..65535 or an IANA
 *    service name; endPort needs a numeric port and is >= port;
 *  - policyTypes holds Ingress/Egress; when absent it is Ingress, plus Egress
 *    when spec.egress is non-empty (the apiserver's defaulting).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "calico.h"
#include "cleanup.h"
#include "cnp.h"
#include "errmsg.h"
#include "ifname.h"
#include "labelsel.h"
#include "model.h"
#include "selector.h"

#define MODEL_MAX_RULES 1024
#define MODEL_MAX_ITEMS 4096 /* peers, ports, excepts per list */

static const char *const dir_names[_POLICY_DIR_MAX] = {
	[POLICY_DIR_INGRESS] = "ingress",
	[POLICY_DIR_EGRESS] = "egress",
};

static const char *const action_names[_POLICY_ACTION_MAX] = {
	[POLICY_ACTION_ALLOW] = "Allow",
	[POLICY_ACTION_DENY] = "Deny",
	[POLICY_ACTION_PASS] = "Pass",
	[POLICY_ACTION_LOG] = "Log",
};

const char *policy_action_to_string(enum policy_action a)
{
	return a >= 0 && a < _POLICY_ACTION_MAX ? action_names[a] : NULL;
}

/* Calico's names of the host endpoint policy stages. */
static const char *const host_mode_names[_POLICY_HOST_MODE_MAX] = {
	[POLICY_HOST_MODE_NORMAL] = "normal",
	[POLICY_HOST_MODE_PRE_DNAT] = "preDNAT",
	[POLICY_HOST_MODE_UNTRACKED] = "doNotTrack",
};

const char *policy_host_mode_to_string(enum policy_host_mode m)
{
	return m >= 0 && m < _POLICY_HOST_MODE_MAX ? host_mode_names[m] : NULL;
}

const char *policy_dir_to_string(enum policy_dir d)
{
	return d >= 0 && d < _POLICY_DIR_MAX ? dir_names[d] : NULL;
}

/* Prefixes an error message produced by a helper with the object's name. */
static int fail_in(char **ret_error, int r, const char *what)
{
	char *inner;

	if (r != -EINVAL || !ret_error || !*ret_error)
		return r;
	inner = *ret_error;
	if (asprintf(ret_error, "%s: %s", what, inner) < 0)
		*ret_error = NULL;
	free(inner);
	return r;
}

static int proto_from_json(const json_t *j, uint8_t *ret)
{
	const char *s = json_string_value(j);

	if (!j || json_is_null(j))
		*ret = IPPROTO_TCP;
	else if (s && strcmp(s, "TCP") == 0)
		*ret = IPPROTO_TCP;
	else if (s && strcmp(s, "UDP") == 0)
		*ret = IPPROTO_UDP;
	else if (s && strcmp(s, "SCTP") == 0)
		*ret = IPPROTO_SCTP;
	else
		return -EINVAL;
	return 0;
}

/* IANA_SVC_NAME: 1-15 of [a-z0-9-], at least one letter, no leading,
 * trailing or double '-'. */
static bool is_port_name(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	bool letter = false;

	if (n == 0 || n > POLICY_PORT_NAME_MAX || s[0] == '-' || s[n - 1] == '-' || strstr(s, "--"))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (islower((unsigned char)s[i]))
			letter = true;
		else if (!isdigit((unsigned char)s[i]) && s[i] != '-')
			return false;
	}
	return letter;
}

static bool is_port_num(const json_t *j)
{
	return json_is_integer(j) && json_integer_value(j) >= 1 && json_integer_value(j) <= 65535;
}

/* ---- pods ---- */

struct policy_pod *policy_pod_free(struct policy_pod *p)
{
	if (!p)
		return NULL;
	free(p->ns); /* and name, sa */
	free(p->node);
	free(p->labels);
	free(p->ips);
	free(p->ports);
	free(p->host_ports);
	free(p->host_ports_error);
	free(p);
	return NULL;
}

/* A pod's lists are built in a struct array each and handed on complete,
 * so a parsed pod keeps no capacity (one per pod, 10,000 pods): @a's items
 * and count go to *@items and *@n when @r is 0, else they are freed.
 * Return: @r. */
static int pod_list_done(struct array *a, int r, void **items, size_t *n)
{
	if (r < 0) {
		free(a->items);
		return r;
	}
	*items = a->items;
	*n = a->n;
	return 0;
}

/* Adds @text to @ips (of struct in_prefix) unless it is there already. */
static int pod_add_ip(struct array *ips, const char *text)
{
	const struct in_prefix *v = ips->items;
	struct in_prefix c;

	/* "10.0.0.5" (status) or "10.0.0.5/32" (Calico's annotation). */
	if (prefix_parse(text, PREFIX_ALLOW_BARE, &c) < 0 || c.len != prefix_max_len(c.family))
		return -EINVAL;
	for (size_t i = 0; i < ips->n; i++)
		if (prefix_equal(&v[i], &c))
			return 0;
	if (ips->n >= POLICY_POD_MAX_IPS)
		return -EINVAL;
	return array_append(ips, &c);
}

/* The annotation form: "10.65.0.5/32,fd00::5/128". */
static int pod_ips_from_annotation(struct policy_pod *p, struct array *ips, const char *text)
{
	_cleanup_free_ char *copy = strdup(text);
	char *save = NULL;
	int r;

	if (!copy)
		return -ENOMEM;
	for (char *t = strtok_r(copy, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
		r = pod_add_ip(ips, t);
		if (r == -EINVAL) { /* all or nothing */
			free(ips->items);
			*ips = (struct array)ARRAY_INIT(struct in_prefix);
			p->bad_ip_annotation = true;
			return 0;
		}
		if (r < 0)
			return r;
	}
	return 0;
}

static int pod_parse_ips(struct policy_pod *p, const json_t *j, char **ret_error)
{
	const json_t *status = json_object_get(j, "status"), *ip;
	const char *phase = json_string_value(json_object_get(status, "phase"));
	const char *annot = json_string_value(json_object_get(
		json_object_get(json_object_get(j, "metadata"), "annotations"),
		"cni.projectcalico.org/podIPs"));
	struct array ips = ARRAY_INIT(struct in_prefix);
	size_t i;
	int r = 0;

	/* A finished pod's address may already belong to another pod. */
	if (phase && (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0))
		return 0;
	json_array_foreach (json_object_get(status, "podIPs"), i, ip) {
		r = pod_add_ip(&ips, json_string_value(json_object_get(ip, "ip")));
		if (r == -EINVAL)
			r = errmsg_set(ret_error, -EINVAL, "status.podIPs[%zu].ip: invalid address", i);
		if (r < 0)
			goto out;
	}
	if (ips.n == 0 && json_object_get(status, "podIP")) {
		r = pod_add_ip(&ips, json_string_value(json_object_get(status, "podIP")));
		if (r == -EINVAL)
			r = errmsg_set(ret_error, -EINVAL, "status.podIP: invalid address");
		if (r < 0)
			goto out;
	}
	p->ips_reported = ips.n > 0;
	if (ips.n == 0 && annot)
		r = pod_ips_from_annotation(p, &ips, annot);
out:
	return pod_list_done(&ips, r, (void **)&p->ips, &p->n_ips);
}

/* Adds container port @cp to @ports (of struct policy_named_port) when it
 * has a name. */
static int pod_add_port(struct array *ports, const json_t *cp, const char *path, size_t i,
			char **ret_error)
{
	const char *name = json_string_value(json_object_get(cp, "name"));
	const json_t *num = json_object_get(cp, "containerPort");
	struct policy_named_port np = {};

	if (!is_port_num(num))
		return errmsg_set(ret_error, -EINVAL, "%s.ports[%zu].containerPort: must be 1..65535", path, i);
	if (proto_from_json(json_object_get(cp, "protocol"), &np.proto) < 0)
		return errmsg_set(ret_error, -EINVAL, "%s.ports[%zu].protocol: must be TCP, UDP or SCTP", path, i);
	if (!name)
		return 0; /* only named ports matter to NetworkPolicy */
	if (!is_port_name(name))
		return errmsg_set(ret_error, -EINVAL, "%s.ports[%zu].name: invalid port name '%s'", path, i, name);
	strcpy(np.name, name);
	np.port = (uint16_t)json_integer_value(num);
	return array_append(ports, &np);
}

static int pod_parse_ports(struct policy_pod *p, const json_t *spec, char **ret_error)
{
	static const char *const lists[] = { "containers", "initContainers" };
	struct array named = ARRAY_INIT(struct policy_named_port);
	char path[64];
	int r = 0;

	for (size_t l = 0; l < ELEMENTSOF(lists); l++) {
		const json_t *cs = json_object_get(spec, lists[l]), *c, *ports, *cp;
		size_t i, k;

		json_array_foreach (cs, i, c) {
			ports = json_object_get(c, "ports");
			snprintf(path, sizeof(path), "spec.%s[%zu]", lists[l], i);
			if (json_array_size(ports) > MODEL_MAX_ITEMS) {
				r = errmsg_set(ret_error, -EINVAL, "%s.ports: too many ports", path);
				goto out;
			}
			json_array_foreach (ports, k, cp) {
				r = pod_add_port(&named, cp, path, k, ret_error);
				if (r < 0)
					goto out;
			}
		}
	}
out:
	return pod_list_done(&named, r, (void **)&p->ports, &p->n_ports);
}

/* Adds spec.containers[@i].ports[@k] to @host_ports (of struct
 * policy_host_port) when it has a hostPort (0 or absent: none). Its
 * containerPort and protocol were checked by pod_add_port(). */
static int pod_add_host_port(struct array *host_ports, const json_t *cp, size_t i, size_t k,
			     char **ret_error)
{
	const json_t *hp = json_object_get(cp, "hostPort"), *hip = json_object_get(cp, "hostIP");
	const char *ip = json_string_value(hip);
	struct policy_host_port h = {};
	static const uint8_t zero[4];

	if (!hp || (json_is_integer(hp) && json_integer_value(hp) == 0))
		return 0;
	if (!is_port_num(hp))
		return errmsg_set(ret_error, -EINVAL,
				  "spec.containers[%zu].ports[%zu].hostPort: must be 0..65535", i, k);
	if ((hip && !json_is_null(hip) && !ip) ||
	    (ip && *ip && prefix_parse(ip, PREFIX_ADDR_ONLY, &h.host_ip) < 0))
		return errmsg_set(ret_error, -EINVAL,
				  "spec.containers[%zu].ports[%zu].hostIP: invalid address '%.64s'", i,
				  k, ip ?: "");
	/* "::" stays IPv6, as the kubelet's port mappings see it */
	if (h.host_ip.family == AF_INET && memcmp(h.host_ip.addr, zero, 4) == 0)
		h.host_ip = (struct in_prefix){};
	(void)proto_from_json(json_object_get(cp, "protocol"), &h.proto);
	h.host_port = (uint16_t)json_integer_value(hp);
	h.container_port = (uint16_t)json_integer_value(json_object_get(cp, "containerPort"));
	return array_append(host_ports, &h);
}

/* The hostPorts of spec.containers; a bad one refuses them all (the pod
 * itself stays valid: NetworkPolicy does not read them). */
static int pod_parse_host_ports(struct policy_pod *p, const json_t *spec)
{
	struct array host_ports = ARRAY_INIT(struct policy_host_port);
	const json_t *c, *cp;
	size_t i, k;
	int r = 0;

	json_array_foreach (json_object_get(spec, "containers"), i, c) {
		json_array_foreach (json_object_get(c, "ports"), k, cp) {
			r = pod_add_host_port(&host_ports, cp, i, k, &p->host_ports_error);
			if (r < 0)
				break;
		}
		if (r < 0)
			break;
	}
	if (r == -EINVAL) { /* none */
		free(host_ports.items);
		return 0;
	}
	return pod_list_done(&host_ports, r, (void **)&p->host_ports, &p->n_host_ports);
}

/* ns, name and sa in one allocation, owned through p->ns (10,000 pods:
 * 0.6 MB less than three). */
static int pod_set_names(struct policy_pod *p, const char *ns, const char *name, const char *sa)
{
	size_t n_ns = strlen(ns) + 1, n_name = strlen(name) + 1;
	char *b = malloc(n_ns + n_name + strlen(sa) + 1);

	if (!b)
		return -ENOMEM;
	p->ns = memcpy(b, ns, n_ns);
	p->name = memcpy(b + n_ns, name, n_name);
	p->sa = strcpy(b + n_ns + n_name, sa);
	return 0;
}

static int pod_parse(struct policy_pod *p, const json_t *j, char **ret_error)
{
	const json_t *meta = json_object_get(j, "metadata"), *spec = json_object_get(j, "spec");
	const json_t *labels = json_object_get(meta, "labels");
	const char *name = json_string_value(json_object_get(meta, "name"));
	const char *ns = json_string_value(json_object_get(meta, "namespace"));
	const char *node = json_string_value(json_object_get(spec, "nodeName"));
	const char *sa = json_string_value(json_object_get(spec, "serviceAccountName"));
	int r;

	if (!name || !*name)
		return errmsg_set(ret_error, -EINVAL, "metadata.name: required");
	p->node = node ? strdup(node) : NULL;
	if ((node && !p->node) ||
	    pod_set_names(p, ns && *ns ? ns : "default", name, sa && *sa ? sa : "default") < 0)
		return -ENOMEM;
	r = labels_from_json(labels, NULL, NULL, &p->labels);
	if (r == -EINVAL)
		return errmsg_set(ret_error, -EINVAL, "metadata.labels: must be an object of strings");
	if (r < 0)
		return r;
	p->host_network = json_is_true(json_object_get(spec, "hostNetwork"));
	r = ifname_for_workload(p->ns, p->name, p->ifname);
	if (r < 0)
		return r == -EINVAL ? errmsg_set(ret_error, -EINVAL, "metadata.name: too long") : r;
	r = pod_parse_ports(p, spec, ret_error);
	if (r == 0)
		r = pod_parse_host_ports(p, spec);
	if (r < 0)
		return r;
	return pod_parse_ips(p, j, ret_error);
}

int policy_pod_from_json(const json_t *j, struct policy_pod **ret, char **ret_error)
{
	_cleanup_(policy_pod_freep) struct policy_pod *p = calloc(1, sizeof(*p));
	const json_t *meta = json_object_get(j, "metadata");
	char what[600];
	int r;

	if (!p)
		return -ENOMEM;
	r = pod_parse(p, j, ret_error);
	if (r < 0) {
		snprintf(what, sizeof(what), "pod '%s/%s'",
			 json_string_value(json_object_get(meta, "namespace")) ?: "default",
			 json_string_value(json_object_get(meta, "name")) ?: "?");
		return fail_in(ret_error, r, what);
	}
	*ret = TAKE_PTR(p);
	return 0;
}

int policy_pod_dup(const struct policy_pod *p, struct policy_pod **ret)
{
	_cleanup_(policy_pod_freep) struct policy_pod *n = calloc(1, sizeof(*n));
	size_t n_ips = p->n_ips + p->n_unverified;
	int names;

	if (!n)
		return -ENOMEM;
	*n = *p;
	n->ns = n->name = n->sa = NULL;
	names = pod_set_names(n, p->ns, p->name, p->sa ?: "default");
	n->node = p->node ? strdup(p->node) : NULL;
	n->labels = labels_dup(p->labels);
	n->ips = n_ips ? malloc(n_ips * sizeof(*p->ips)) : NULL;
	n->ports = p->n_ports ? malloc(p->n_ports * sizeof(*p->ports)) : NULL;
	n->host_ports = p->n_host_ports ? malloc(p->n_host_ports * sizeof(*p->host_ports)) : NULL;
	n->host_ports_error = p->host_ports_error ? strdup(p->host_ports_error) : NULL;
	if (names < 0 || (p->node && !n->node) || !n->labels ||
	    (n_ips && !n->ips) || (p->n_ports && !n->ports) || (p->n_host_ports && !n->host_ports) ||
	    (p->host_ports_error && !n->host_ports_error))
		return -ENOMEM;
	if (p->n_host_ports)
		memcpy(n->host_ports, p->host_ports, p->n_host_ports * sizeof(*p->host_ports));
	if (n_ips)
		memcpy(n->ips, p->ips, n_ips * sizeof(*p->ips));
	if (p->n_ports)
		memcpy(n->ports, p->ports, p->n_ports * sizeof(*p->ports));
	*ret = TAKE_PTR(n);
	return 0;
}

static int cidr_cmp(const void *x, const void *y)
{
	const struct in_prefix *a = x, *b = y;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(a->addr, b->addr, sizeof(a->addr));
}

bool policy_pod_verify_ips(struct policy_pod *p,
			   bool (*accept)(const struct policy_pod *p, const struct in_prefix *c,
					  void *userdata),
			   void *userdata)
{
	struct in_prefix cand[POLICY_POD_MAX_IPS], used[POLICY_POD_MAX_IPS];
	size_t n = p->n_ips + p->n_unverified, n_used = 0, n_other = 0;
	bool changed;

	if (n == 0)
		return false;
	memcpy(cand, p->ips, n * sizeof(*cand));
	for (size_t i = 0; i < n; i++) {
		if (accept(p, &cand[i], userdata))
			used[n_used++] = cand[i];
		else
			cand[n_other++] = cand[i];
	}
	qsort(used, n_used, sizeof(*used), cidr_cmp);
	qsort(cand, n_other, sizeof(*cand), cidr_cmp);
	changed = n_used != p->n_ips || memcmp(used, p->ips, n_used * sizeof(*used)) != 0;
	memcpy(p->ips, used, n_used * sizeof(*used));
	memcpy(p->ips + n_used, cand, n_other * sizeof(*cand));
	p->n_ips = n_used;
	p->n_unverified = (uint8_t)n_other;
	return changed;
}

static bool streq_null(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static bool host_ports_equal(const struct policy_pod *a, const struct policy_pod *b)
{
	if (a->n_host_ports != b->n_host_ports || !streq_null(a->host_ports_error, b->host_ports_error))
		return false;
	for (size_t i = 0; i < a->n_host_ports; i++) {
		const struct policy_host_port *x = &a->host_ports[i], *y = &b->host_ports[i];

		if (x->proto != y->proto || x->host_port != y->host_port ||
		    x->container_port != y->container_port ||
		    x->host_ip.family != y->host_ip.family ||
		    (x->host_ip.family && !prefix_equal(&x->host_ip, &y->host_ip)))
			return false;
	}
	return true;
}

bool policy_pod_is_equal(const struct policy_pod *a, const struct policy_pod *b)
{
	size_t n_ips = a->n_ips + a->n_unverified;

	return streq_null(a->ns, b->ns) && streq_null(a->name, b->name) &&
	       streq_null(a->node, b->node) && streq_null(a->sa, b->sa) &&
	       a->host_network == b->host_network &&
	       a->ips_reported == b->ips_reported && a->bad_ip_annotation == b->bad_ip_annotation &&
	       labels_equal(a->labels, b->labels) && a->n_ips == b->n_ips &&
	       a->n_unverified == b->n_unverified && a->n_ports == b->n_ports &&
	       (n_ips == 0 || memcmp(a->ips, b->ips, n_ips * sizeof(*a->ips)) == 0) &&
	       (a->n_ports == 0 || memcmp(a->ports, b->ports, a->n_ports * sizeof(*a->ports)) == 0) &&
	       host_ports_equal(a, b);
}

/* ---- namespaces ---- */

struct policy_namespace *policy_namespace_free(struct policy_namespace *n)
{
	if (!n)
		return NULL;
	free(n->name);
	free(n->labels);
	free(n);
	return NULL;
}

/* The apiserver sets kubernetes.io/metadata.name on every namespace; objects
 * from other sources may lack it, so it is added here. */
static int ns_labels(const json_t *labels, const char *name, struct labels **ret)
{
	return labels_from_json(labels, "kubernetes.io/metadata.name", name, ret);
}

int policy_namespace_from_json(const json_t *j, struct policy_namespace **ret, char **ret_error)
{
	_cleanup_(policy_namespace_freep) struct policy_namespace *n = NULL;
	const json_t *meta = json_object_get(j, "metadata");
	const json_t *labels = json_object_get(meta, "labels");
	const char *name = json_string_value(json_object_get(meta, "name"));
	int r;

	if (!name || !*name)
		return errmsg_set(ret_error, -EINVAL, "namespace: metadata.name: required");
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->name = strdup(name);
	if (!n->name)
		return -ENOMEM;
	r = ns_labels(labels, name, &n->labels);
	if (r == -EINVAL)
		return errmsg_set(ret_error, -EINVAL,
				  "namespace '%s': metadata.labels: must be an object of strings", name);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(n);
	return 0;
}

/* ---- network policies ---- */

static void peer_done(struct policy_peer *p)
{
	labelsel_free(p->pod_sel);
	labelsel_free(p->ns_sel);
	free(p->except);
}

static void rule_done(struct policy_rule *r)
{
	for (size_t i = 0; i < r->n_peers; i++)
		peer_done(&r->peers[i]);
	free(r->peers);
	for (size_t i = 0; i < r->n_ports; i++)
		free(r->ports[i].name);
	free(r->ports);
}

static void ports_free(struct policy_port *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

void policy_entity_done(struct policy_entity *e)
{
	free(e->nets);
	free(e->not_nets);
	selector_free(e->sel);
	selector_free(e->ns_sel);
	selector_free(e->sa_sel);
	for (size_t i = 0; i < e->n_sa_names; i++)
		free(e->sa_names[i]);
	free(e->sa_names);
	free(e->key);
	ports_free(e->ports, e->n_ports);
	ports_free(e->not_ports, e->n_not_ports);
}

static struct policy_netpol *netpol_free(struct policy_netpol *p)
{
	if (!p)
		return NULL;
	for (int d = 0; d < _POLICY_DIR_MAX; d++) {
		for (size_t i = 0; p->rules[d] && i < p->n_rules[d]; i++)
			rule_done(&p->rules[d][i]);
		free(p->rules[d]);
		for (size_t i = 0; p->crules[d] && i < p->n_rules[d]; i++) {
			policy_entity_done(&p->crules[d][i].src);
			policy_entity_done(&p->crules[d][i].dst);
		}
		free(p->crules[d]);
	}
	labelsel_free(p->pod_sel);
	selector_free(p->sel);
	selector_free(p->ns_sel);
	selector_free(p->sa_sel);
	free(p->ns);
	free(p->name);
	free(p->key);
	free(p->sort_name);
	free(p->tier);
	free(p);
	return NULL;
}
DEFINE_CLEANUP_FUNC(struct policy_netpol, netpol_free);

struct policy_netpol *policy_netpol_ref(struct policy_netpol *p)
{
	if (p)
		p->refs++;
	return p;
}

struct policy_netpol *policy_netpol_unref(struct policy_netpol *p)
{
	if (p && --p->refs == 0)
		netpol_free(p);
	return NULL;
}

/* ipBlock CIDRs: host bits are cleared, as net.ParseCIDR does for the
 * network; a bare address is its host prefix. */
#define CIDR_RULES (PREFIX_ALLOW_BARE | PREFIX_CLEAR_HOST)

static int parse_block(struct policy_peer *pp, const json_t *b, const char *path,
		       char **ret_error)
{
	const json_t *ex = json_object_get(b, "except"), *e;
	const char *cidr = json_string_value(json_object_get(b, "cidr"));
	size_t i;

	if (!json_is_object(b))
		return errmsg_set(ret_error, -EINVAL, "%s.ipBlock: must be an object", path);
	if (!cidr || prefix_parse(cidr, CIDR_RULES, &pp->block) < 0)
		return errmsg_set(ret_error, -EINVAL, "%s.ipBlock.cidr: invalid CIDR '%s'", path, cidr ? cidr : "");
	pp->is_block = true;
	if (ex && !json_is_null(ex) && !json_is_array(ex))
		return errmsg_set(ret_error, -EINVAL, "%s.ipBlock.except: must be a list", path);
	if (json_array_size(ex) > MODEL_MAX_ITEMS)
		return errmsg_set(ret_error, -EINVAL, "%s.ipBlock.except: too many entries", path);
	pp->except = calloc(json_array_size(ex) + 1, sizeof(*pp->except));
	if (!pp->except)
		return -ENOMEM;
	json_array_foreach (ex, i, e) {
		const char *t = json_string_value(e);
		struct in_prefix *c = &pp->except[pp->n_except];

		if (!t || prefix_parse(t, CIDR_RULES, c) < 0)
			return errmsg_set(ret_error, -EINVAL, "%s.ipBlock.except[%zu]: invalid CIDR '%s'", path, i,
				    t ? t : "");
		if (!prefix_contains(&pp->block, c) || c->len <= pp->block.len)
			return errmsg_set(ret_error, -EINVAL,
				    "%s.ipBlock.except[%zu]: '%s' must be a strict subset of cidr "
				    "'%s'",
				    path, i, t, cidr);
		pp->n_except++;
	}
	return 0;
}

static int parse_sel(const json_t *j, const char *path, const char *field,
		     struct labelsel **ret, char **ret_error)
{
	char p[160];

	snprintf(p, sizeof(p), "%s.%s", path, field);
	return labelsel_from_json(j, p, ret, ret_error);
}

static int parse_peer(struct policy_peer *pp, const json_t *j, const char *path,
		      char **ret_error)
{
	const json_t *ps = json_object_get(j, "podSelector");
	const json_t *ns = json_object_get(j, "namespaceSelector");
	const json_t *ib = json_object_get(j, "ipBlock");
	int n = 0, r;

	if (!json_is_object(j))
		return errmsg_set(ret_error, -EINVAL, "%s: must be an object", path);
	if (ps && !json_is_null(ps)) {
		n++;
		r = parse_sel(ps, path, "podSelector", &pp->pod_sel, ret_error);
		if (r < 0)
			return r;
	}
	if (ns && !json_is_null(ns)) {
		n++;
		r = parse_sel(ns, path, "namespaceSelector", &pp->ns_sel, ret_error);
		if (r < 0)
			return r;
	}
	if (ib && !json_is_null(ib)) {
		if (n > 0)
			return errmsg_set(ret_error, -EINVAL, "%s: may not specify both ipBlock and another peer",
				    path);
		n++;
		r = parse_block(pp, ib, path, ret_error);
		if (r < 0)
			return r;
	}
	if (n == 0)
		return errmsg_set(ret_error, -EINVAL, "%s: must specify a peer", path);
	return 0;
}

static int parse_port(struct policy_port *pp, const json_t *j, const char *path,
		      char **ret_error)
{
	const json_t *port = json_object_get(j, "port"), *end = json_object_get(j, "endPort");
	bool has_end = end && !json_is_null(end);

	if (!json_is_object(j))
		return errmsg_set(ret_error, -EINVAL, "%s: must be an object", path);
	if (proto_from_json(json_object_get(j, "protocol"), &pp->proto) < 0)
		return errmsg_set(ret_error, -EINVAL, "%s.protocol: unsupported value (want TCP, UDP or SCTP)",
			    path);
	if (!port || json_is_null(port)) {
		if (has_end)
			return errmsg_set(ret_error, -EINVAL,
				    "%s.endPort: may not be specified when port is not specified",
				    path);
		pp->any_port = true;
		return 0;
	}
	if (json_is_string(port)) {
		if (!is_port_name(json_string_value(port)))
			return errmsg_set(ret_error, -EINVAL, "%s.port: invalid port name '%s'", path,
				    json_string_value(port));
		if (has_end)
			return errmsg_set(ret_error, -EINVAL,
				    "%s.endPort: may not be specified when port is non-numeric",
				    path);
		pp->name = strdup(json_string_value(port));
		return pp->name ? 0 : -ENOMEM;
	}
	if (!is_port_num(port))
		return errmsg_set(ret_error, -EINVAL, "%s.port: must be 1..65535 or a port name", path);
	pp->port = pp->end_port = (uint16_t)json_integer_value(port);
	if (!has_end)
		return 0;
	if (!is_port_num(end))
		return errmsg_set(ret_error, -EINVAL, "%s.endPort: must be 1..65535", path);
	if (json_integer_value(end) < pp->port)
		return errmsg_set(ret_error, -EINVAL, "%s.endPort: must be greater than or equal to port (%u < %u)",
			    path, (unsigned)json_integer_value(end), pp->port);
	pp->end_port = (uint16_t)json_integer_value(end);
	return 0;
}

static int parse_list_len(const json_t *l, const char *path, size_t max, char **ret_error)
{
	if (l && !json_is_null(l) && !json_is_array(l))
		return errmsg_set(ret_error, -EINVAL, "%s: must be a list", path);
	if (json_array_size(l) > max)
		return errmsg_set(ret_error, -EINVAL, "%s: more than %zu entries", path, max);
	return 0;
}

static int parse_rule(struct policy_rule *rule, const json_t *j, enum policy_dir d,
		      const char *path, char **ret_error)
{
	const char *pf = d == POLICY_DIR_INGRESS ? "from" : "to";
	const json_t *peers = json_object_get(j, pf), *ports = json_object_get(j, "ports"), *e;
	char p[128];
	size_t i;
	int r;

	if (!json_is_object(j))
		return errmsg_set(ret_error, -EINVAL, "%s: must be an object", path);
	snprintf(p, sizeof(p), "%s.%s", path, pf);
	r = parse_list_len(peers, p, MODEL_MAX_ITEMS, ret_error);
	if (r < 0)
		return r;
	snprintf(p, sizeof(p), "%s.ports", path);
	r = parse_list_len(ports, p, MODEL_MAX_ITEMS, ret_error);
	if (r < 0)
		return r;
	rule->peers = calloc(json_array_size(peers) + 1, sizeof(*rule->peers));
	rule->ports = calloc(json_array_size(ports) + 1, sizeof(*rule->ports));
	if (!rule->peers || !rule->ports)
		return -ENOMEM;
	json_array_foreach (peers, i, e) {
		snprintf(p, sizeof(p), "%s.%s[%zu]", path, pf, i);
		rule->n_peers++;
		r = parse_peer(&rule->peers[i], e, p, ret_error);
		if (r < 0)
			return r;
	}
	json_array_foreach (ports, i, e) {
		snprintf(p, sizeof(p), "%s.ports[%zu]", path, i);
		rule->n_ports++;
		r = parse_port(&rule->ports[i], e, p, ret_error);
		if (r < 0)
			return r;
	}
	return 0;
}

static int parse_rules(struct policy_netpol *np, const json_t *spec, enum policy_dir d,
		       char **ret_error)
{
	const char *field = dir_names[d];
	const json_t *rules = json_object_get(spec, field), *e;
	char p[64];
	size_t i;
	int r;

	snprintf(p, sizeof(p), "spec.%s", field);
	r = parse_list_len(rules, p, MODEL_MAX_RULES, ret_error);
	if (r < 0)
		return r;
	np->rules[d] = calloc(json_array_size(rules) + 1, sizeof(*np->rules[d]));
	if (!np->rules[d])
		return -ENOMEM;
	json_array_foreach (rules, i, e) {
		snprintf(p, sizeof(p), "spec.%s[%zu]", field, i);
		np->n_rules[d]++;
		r = parse_rule(&np->rules[d][i], e, d, p, ret_error);
		if (r < 0)
			return r;
	}
	return 0;
}

static int parse_types(struct policy_netpol *np, const json_t *spec, char **ret_error)
{
	const json_t *types = json_object_get(spec, "policyTypes"), *t;
	size_t i;

	if (json_array_size(types) == 0) {
		np->types[POLICY_DIR_INGRESS] = true;
		np->types[POLICY_DIR_EGRESS] = json_array_size(json_object_get(spec, "egress")) > 0;
		return types && !json_is_null(types) && !json_is_array(types)
			       ? errmsg_set(ret_error, -EINVAL, "spec.policyTypes: must be a list")
			       : 0;
	}
	if (json_array_size(types) > 2)
		return errmsg_set(ret_error, -EINVAL, "spec.policyTypes: may not specify more than two types");
	json_array_foreach (types, i, t) {
		const char *s = json_string_value(t);

		if (s && strcmp(s, "Ingress") == 0)
			np->types[POLICY_DIR_INGRESS] = true;
		else if (s && strcmp(s, "Egress") == 0)
			np->types[POLICY_DIR_EGRESS] = true;
		else
			return errmsg_set(ret_error, -EINVAL,
				    "spec.policyTypes[%zu]: unsupported value '%s' (want Ingress or "
				    "Egress)",
				    i, s ? s : "");
	}
	return 0;
}

/* podSelector {}: every pod of the namespace. */
static int select_all_pods(struct policy_netpol *np)
{
	json_t *all = json_object();
	int r = all ? labelsel_from_json(all, "spec.podSelector", &np->pod_sel, NULL) : -ENOMEM;

	json_decref(all);
	return r;
}

static int netpol_parse(struct policy_netpol *np, const json_t *j, char **ret_error)
{
	const json_t *spec = json_object_get(j, "spec"), *ps;
	int r;

	if (!json_is_object(spec))
		return errmsg_set(ret_error, -EINVAL, "spec: required");
	ps = json_object_get(spec, "podSelector");
	if (ps && !json_is_null(ps))
		r = labelsel_from_json(ps, "spec.podSelector", &np->pod_sel, ret_error);
	else
		r = select_all_pods(np); /* absent = {} */
	if (r < 0)
		return r;
	r = parse_types(np, spec, ret_error);
	if (r < 0)
		return r;
	for (int d = 0; d < _POLICY_DIR_MAX; d++) {
		r = parse_rules(np, spec, d, ret_error);
		if (r < 0)
			return r;
	}
	return 0;
}

/* A policy with the name, namespace and key of @j and nothing else. */
static int netpol_new(const json_t *j, struct policy_netpol **ret, char **ret_error)
{
	_cleanup_(netpol_freep) struct policy_netpol *np = calloc(1, sizeof(*np));
	const json_t *meta = json_object_get(j, "metadata");
	const char *name = json_string_value(json_object_get(meta, "name"));
	const char *ns = json_string_value(json_object_get(meta, "namespace"));

	if (!np)
		return -ENOMEM;
	np->refs = 1;
	if (!name || !*name)
		return errmsg_set(ret_error, -EINVAL, "networkpolicy: metadata.name: required");
	np->name = strdup(name);
	np->ns = strdup(ns && *ns ? ns : "default");
	np->tier = strdup("default");
	np->order = 1000; /* Calico's order for Kubernetes NetworkPolicies */
	np->has_order = true;
	if (!np->name || !np->ns || !np->tier ||
	    asprintf(&np->key, "%s/%s", np->ns, np->name) < 0 ||
	    asprintf(&np->sort_name, "%s/knp.default.%s", np->ns, np->name) < 0)
		return -ENOMEM;
	*ret = TAKE_PTR(np);
	return 0;
}

int policy_netpol_deny_from_json(const json_t *j, struct policy_netpol **ret)
{
	_cleanup_(netpol_freep) struct policy_netpol *np = NULL;
	const json_t *spec = json_object_get(j, "spec");
	const json_t *ps = json_object_get(spec, "podSelector");
	int r;

	r = netpol_new(j, &np, NULL);
	if (r < 0)
		return r;
	np->rejected = true;
	if (!ps || json_is_null(ps) ||
	    labelsel_from_json(ps, "spec.podSelector", &np->pod_sel, NULL) < 0) {
		r = select_all_pods(np);
		if (r < 0)
			return r;
	}
	if (parse_types(np, spec, NULL) < 0 || !json_is_object(spec))
		np->types[POLICY_DIR_INGRESS] = np->types[POLICY_DIR_EGRESS] = true;
	for (int d = 0; d < _POLICY_DIR_MAX; d++)
		if (!(np->rules[d] = calloc(1, sizeof(*np->rules[d]))))
			return -ENOMEM;
	*ret = TAKE_PTR(np);
	return 0;
}

int policy_netpol_from_json(const json_t *j, struct policy_netpol **ret, char **ret_error)
{
	_cleanup_(netpol_freep) struct policy_netpol *np = NULL;
	char what[600];
	int r;

	r = netpol_new(j, &np, ret_error);
	if (r < 0)
		return r;
	r = netpol_parse(np, j, ret_error);
	if (r < 0) {
		snprintf(what, sizeof(what), "networkpolicy '%s'", np->key);
		return fail_in(ret_error, r, what);
	}
	*ret = TAKE_PTR(np);
	return 0;
}

/* ---- the model ---- */

int policy_model_new(const char *node, struct policy_model **ret)
{
	struct policy_model *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	if (node && !(m->node = strdup(node))) {
		free(m);
		return -ENOMEM;
	}
	*ret = m;
	return 0;
}

/* An entry of the pods index: the pod and the key string "ns/name" it is
 * stored under, in one allocation (10,000 pods: 0.3 MB less). */
struct pod_entry {
	struct policy_pod *pod;
	char key[];
};

static struct pod_entry *pod_entry_new(struct policy_pod *p)
{
	size_t n = strlen(p->ns) + 1 + strlen(p->name) + 1;
	struct pod_entry *e = malloc(sizeof(*e) + n);

	if (e) {
		e->pod = p;
		snprintf(e->key, n, "%s/%s", p->ns, p->name);
	}
	return e;
}

static struct pod_entry *pod_entry_free(struct pod_entry *e)
{
	free(e);
	return NULL;
}

struct policy_model *policy_model_free(struct policy_model *m)
{
	void *v;
	size_t i;

	if (!m)
		return NULL;
	for (i = 0; policy_hmap_next(&m->pods, &i, &v);) {
		struct pod_entry *e = v;

		policy_pod_free(e->pod);
		pod_entry_free(e);
	}
	for (i = 0; policy_hmap_next(&m->namespaces, &i, &v);)
		policy_namespace_free(v);
	for (i = 0; policy_hmap_next(&m->netpols, &i, &v);)
		policy_netpol_unref(v);
	for (i = 0; policy_hmap_next(&m->tiers, &i, &v);)
		policy_tier_free(v);
	for (i = 0; policy_hmap_next(&m->netsets, &i, &v);)
		policy_netset_free(v);
	for (i = 0; policy_hmap_next(&m->sas, &i, &v);)
		policy_sa_free(v);
	for (i = 0; policy_hmap_next(&m->heps, &i, &v);)
		policy_hep_free(v);
	policy_hmap_done(&m->heps);
	free(m->host_addrs);
	policy_hmap_done(&m->tiers);
	policy_hmap_done(&m->netsets);
	policy_hmap_done(&m->sas);
	for (i = 0; policy_hmap_next(&m->ns_pods, &i, &v);) {
		struct policy_ns_pods *np = v;

		free(np->ns);
		free(np->pods);
		free(np);
	}
	for (i = 0; policy_hmap_next(&m->ifnames, &i, &v);)
		free(v);
	policy_hmap_done(&m->ifnames);
	policy_hmap_done(&m->pods);
	policy_hmap_done(&m->namespaces);
	policy_hmap_done(&m->netpols);
	policy_hmap_done(&m->ns_pods);
	free(m->node);
	free(m);
	return NULL;
}

static int ns_pods_add(struct policy_model *m, struct policy_pod *p)
{
	struct policy_ns_pods *np = policy_hmap_get_str(&m->ns_pods, p->ns);
	int r;

	if (!np) {
		np = calloc(1, sizeof(*np));
		if (!np || !(np->ns = strdup(p->ns))) {
			free(np);
			return -ENOMEM;
		}
		r = policy_hmap_put_str(&m->ns_pods, np->ns, np);
		if (r < 0) {
			free(np->ns);
			free(np);
			return r;
		}
	}
	r = ARRAY_GROW(np->pods, np->cap, np->n_pods + 1);
	if (r < 0)
		return r;
	np->pods[np->n_pods++] = p;
	return 0;
}

static void ns_pods_remove(struct policy_model *m, const struct policy_pod *p)
{
	struct policy_ns_pods *np = policy_hmap_get_str(&m->ns_pods, p->ns);

	for (size_t i = 0; np && i < np->n_pods; i++)
		if (np->pods[i] == p) {
			np->pods[i] = np->pods[--np->n_pods];
			return;
		}
}

static bool pod_has_v6(const struct policy_pod *p)
{
	for (size_t i = 0; i < p->n_ips; i++)
		if (p->ips[i].family == AF_INET6)
			return true;
	return false;
}

/* Local pods per host interface name (see policy_model_ifname_is_shared()). */
struct ifname_users {
	unsigned n;
	char ifname[IFNAMSIZ];
};

/* @p (local) comes (+1) or goes (-1). A name becoming shared or unshared
 * changes what other pods compile to: it counts as a policy change, so
 * compiled states recompile instead of updating one pod. */
static int ifname_change(struct policy_model *m, const struct policy_pod *p, int delta)
{
	struct ifname_users *u = policy_hmap_get_str(&m->ifnames, p->ifname);
	unsigned before = u ? u->n : 0;
	int r;

	if (!u && delta > 0) {
		u = calloc(1, sizeof(*u));
		if (!u)
			return -ENOMEM;
		snprintf(u->ifname, sizeof(u->ifname), "%s", p->ifname);
		r = policy_hmap_put_str(&m->ifnames, u->ifname, u);
		if (r < 0) {
			free(u);
			return r;
		}
	}
	if (!u)
		return 0;
	u->n += delta;
	if ((before > 1) != (u->n > 1))
		m->netpol_generation++;
	if (u->n == 0)
		free(policy_hmap_remove_str(&m->ifnames, p->ifname));
	return 0;
}

bool policy_model_ifname_is_shared(const struct policy_model *m, const struct policy_pod *p)
{
	const struct ifname_users *u = policy_hmap_get_str(&m->ifnames, p->ifname);

	return u && u->n > 1;
}

const struct policy_pod *policy_model_get_pod(const struct policy_model *m, const char *ns,
					      const char *name)
{
	char key[600];
	struct pod_entry *e;

	snprintf(key, sizeof(key), "%s/%s", ns, name);
	e = policy_hmap_get_str(&m->pods, key);
	return e ? e->pod : NULL;
}

struct policy_pod *policy_model_del_pod(struct policy_model *m, const char *ns, const char *name)
{
	char key[600];
	struct pod_entry *e;
	struct policy_pod *p;

	snprintf(key, sizeof(key), "%s/%s", ns, name);
	e = policy_hmap_remove_str(&m->pods, key);
	if (!e)
		return NULL;
	p = e->pod;
	pod_entry_free(e);
	ns_pods_remove(m, p);
	if (policy_model_is_local(m, p))
		(void)ifname_change(m, p, -1);
	m->n_pods_v6 -= pod_has_v6(p);
	m->generation++;
	return p;
}

int policy_model_set_pod(struct policy_model *m, struct policy_pod *pod,
			 struct policy_pod **ret_old)
{
	_cleanup_(policy_pod_freep) struct policy_pod *p = pod;
	struct policy_pod *old = policy_model_del_pod(m, p->ns, p->name);
	struct pod_entry *e = pod_entry_new(p);
	int r;

	if (ret_old)
		*ret_old = old;
	else
		policy_pod_free(old);
	if (!e || (policy_model_is_local(m, p) && ifname_change(m, p, +1) < 0)) {
		pod_entry_free(e);
		return -ENOMEM;
	}
	r = policy_hmap_put_str(&m->pods, e->key, e);
	if (r == 0 && (r = ns_pods_add(m, p)) < 0)
		policy_hmap_remove_str(&m->pods, e->key);
	if (r < 0) {
		if (policy_model_is_local(m, p))
			(void)ifname_change(m, p, -1);
		pod_entry_free(e);
		return r;
	}
	m->n_pods_v6 += pod_has_v6(p);
	TAKE_PTR(p);
	m->generation++;
	return 0;
}

int policy_model_set_namespace(struct policy_model *m, struct policy_namespace *n)
{
	int r;

	(void)policy_model_del_namespace(m, n->name);
	r = policy_hmap_put_str(&m->namespaces, n->name, n);
	if (r < 0) {
		policy_namespace_free(n);
		return r;
	}
	m->generation++;
	m->netpol_generation++;
	return 0;
}

int policy_model_del_namespace(struct policy_model *m, const char *name)
{
	struct policy_namespace *n = policy_hmap_remove_str(&m->namespaces, name);

	if (!n)
		return -ENOENT;
	policy_namespace_free(n);
	m->generation++;
	m->netpol_generation++;
	return 0;
}

bool policy_model_ns_matches(const struct policy_model *m, const char *name,
			     const struct labelsel *sel)
{
	const struct policy_namespace *n = policy_hmap_get_str(&m->namespaces, name);
	_cleanup_free_ struct labels *labels = NULL;

	if (n)
		return labelsel_matches(sel, n->labels);
	if (labelsel_is_everything(sel))
		return true;
	/* Unknown namespace: only the label the apiserver always sets. */
	return ns_labels(NULL, name, &labels) == 0 && labelsel_matches(sel, labels);
}

int policy_model_set_netpol(struct policy_model *m, struct policy_netpol *p)
{
	int r;

	(void)policy_model_del_policy(m, p->key);
	r = policy_hmap_put_str(&m->netpols, p->key, p);
	if (r < 0) {
		policy_netpol_unref(p);
		return r;
	}
	m->generation++;
	m->netpol_generation++;
	return 0;
}

int policy_model_del_netpol(struct policy_model *m, const char *ns, const char *name)
{
	char key[600];

	snprintf(key, sizeof(key), "%s/%s", ns, name);
	return policy_model_del_policy(m, key);
}

int policy_model_del_policy(struct policy_model *m, const char *key)
{
	struct policy_netpol *p = policy_hmap_remove_str(&m->netpols, key);

	if (!p)
		return -ENOENT;
	policy_netpol_unref(p);
	m->generation++;
	m->netpol_generation++;
	return 0;
}

bool policy_model_next_pod(const struct policy_model *m, size_t *i, struct policy_pod **ret)
{
	void *v;

	if (!policy_hmap_next(&m->pods, i, &v))
		return false;
	*ret = ((struct pod_entry *)v)->pod;
	return true;
}

bool policy_model_is_local(const struct policy_model *m, const struct policy_pod *p)
{
	return !p->host_network && (!m->node || streq_null(m->node, p->node));
}

/* Accepts a plain array or a v1 List ({"items": [...]}). */
static const json_t *items_of(const json_t *j)
{
	return json_is_object(j) ? json_object_get(j, "items") : j;
}

enum load_kind {
	LOAD_NAMESPACES,
	LOAD_PODS,
	LOAD_NETPOLS,
	LOAD_CALICO_NETPOLS,
	LOAD_GLOBAL_NETPOLS,
	LOAD_TIERS,
	LOAD_NETSETS,
	LOAD_SAS,
	LOAD_CNPS,
	LOAD_HEPS,
	_LOAD_KIND_MAX,
};

static const char *const load_keys[_LOAD_KIND_MAX] = {
	[LOAD_NAMESPACES] = "namespaces",
	[LOAD_PODS] = "pods",
	[LOAD_NETPOLS] = "networkpolicies",
	[LOAD_CALICO_NETPOLS] = "calico-networkpolicies",
	[LOAD_GLOBAL_NETPOLS] = "globalnetworkpolicies",
	[LOAD_TIERS] = "tiers",
	[LOAD_NETSETS] = "networksets", /* NetworkSets and GlobalNetworkSets */
	[LOAD_SAS] = "serviceaccounts",
	[LOAD_CNPS] = "clusternetworkpolicies",
	[LOAD_HEPS] = "hostendpoints",
};

static int load_one(struct policy_model *m, const json_t *e, enum load_kind kind,
		    char **ret_error)
{
	struct policy_namespace *ns = NULL;
	struct policy_netpol *np = NULL;
	struct policy_pod *pod = NULL;
	struct policy_tier *tier = NULL;
	struct policy_netset *set = NULL;
	struct policy_sa *sa = NULL;
	struct policy_hep *hep = NULL;
	int r;

	switch (kind) {
	case LOAD_NAMESPACES:
		r = policy_namespace_from_json(e, &ns, ret_error);
		return r < 0 ? r : policy_model_set_namespace(m, ns);
	case LOAD_PODS:
		r = policy_pod_from_json(e, &pod, ret_error);
		return r < 0 ? r : policy_model_set_pod(m, pod, NULL);
	case LOAD_NETPOLS:
		r = policy_netpol_from_json(e, &np, ret_error);
		break;
	case LOAD_CALICO_NETPOLS:
	case LOAD_GLOBAL_NETPOLS:
		r = policy_calico_from_json(e, kind == LOAD_GLOBAL_NETPOLS ? POLICY_KIND_GLOBAL
									  : POLICY_KIND_CALICO,
					    &np, ret_error);
		break;
	case LOAD_CNPS:
		r = policy_cnp_from_json(e, &np, ret_error);
		if (r == 1 && ret_error) { /* loaded; it fails closed as the API says */
			free(*ret_error);
			*ret_error = NULL;
		}
		r = r == 1 ? 0 : r;
		break;
	case LOAD_TIERS:
		r = policy_tier_from_json(e, &tier, ret_error);
		return r < 0 ? r : policy_model_set_tier(m, tier);
	case LOAD_NETSETS:
		r = policy_netset_from_json(e, &set, ret_error);
		return r < 0 ? r : policy_model_set_netset(m, set);
	case LOAD_HEPS:
		r = policy_hep_from_json(e, &hep, ret_error);
		return r < 0 ? r : policy_model_set_hep(m, hep);
	default:
		r = policy_sa_from_json(e, &sa, ret_error);
		return r < 0 ? r : policy_model_set_sa(m, sa);
	}
	return r < 0 ? r : policy_model_set_netpol(m, np);
}

int policy_model_load_object(struct policy_model *m, const char *key, const json_t *obj,
			     char **ret_error)
{
	for (int k = 0; k < _LOAD_KIND_MAX; k++)
		if (strcmp(load_keys[k], key) == 0)
			return load_one(m, obj, k, ret_error);
	return -ENOENT;
}

int policy_model_load_json(struct policy_model *m, const json_t *doc, char **ret_error)
{
	const json_t *e;
	size_t i;
	int r;

	if (!json_is_object(doc))
		return errmsg_set(ret_error, -EINVAL, "state: must be an object");
	for (int k = 0; k < _LOAD_KIND_MAX; k++) {
		const json_t *l = json_object_get(doc, load_keys[k]);

		if (l && !json_is_array(items_of(l)))
			return errmsg_set(ret_error, -EINVAL, "state: '%s' must be a list",
					  load_keys[k]);
		json_array_foreach(items_of(l), i, e) {
			r = load_one(m, e, k, ret_error);
			if (r < 0)
				return r;
		}
	}
	return 0;
}
