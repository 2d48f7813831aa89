/* The policy model: the Kubernetes objects NetworkPolicy compilation needs
 * (namespaces with labels, pods with labels, IPs and container ports,
 * networking.k8s.io/v1 NetworkPolicies), parsed from API JSON, validated as
 * the apiserver validates them, and kept in an incrementally updated index.
 *
 * Ownership: the model owns its pods and namespaces; NetworkPolicies are
 * immutable and reference counted because compiled state (policy_desired)
 * keeps references to the policies it was built from.
 */
#pragma once

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cleanup.h"
#include "hmap.h"
#include "prefix.h"

struct labels;
struct labelsel;
struct selector;

#define POLICY_PORT_NAME_MAX 15
#define POLICY_POD_MAX_IPS 32 /* candidate addresses of one pod */

/* spec.containers[].ports[] entry: a named port of a pod. */
struct policy_named_port {
	char name[POLICY_PORT_NAME_MAX + 1];
	uint8_t proto; /* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP */
	uint16_t port;
};

/* spec.containers[].ports[] entry with a hostPort (felix-c/hostport.h maps
 * it). Only spec.containers: the kubelet asks for these mappings only. */
struct policy_host_port {
	uint8_t proto; /* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP */
	uint16_t host_port, container_port;
	/* hostIP (a host prefix); family AF_UNSPEC when absent, "" or
	 * 0.0.0.0: every address of the node */
	struct in_prefix host_ip;
};

/* One pod. Owned by the model (or by the caller until it is handed over). */
struct policy_pod {
	char *ns, *name;      /* one allocation with sa, owned through ns */
	char *node;	      /* spec.nodeName, may be NULL */
	struct labels *labels; /* owned, never NULL */
	char ifname[IFNAMSIZ]; /* host-side veth, ifname_for_workload(ns, name) */
	bool host_network;    /* spec.hostNetwork: outside NetworkPolicy */
	char *sa;	      /* spec.serviceAccountName ("default" when absent) */
	bool ips_reported;    /* the candidates are status.podIPs (kubelet) */
	bool bad_ip_annotation; /* the podIPs annotation was unreadable: ignored */
	uint8_t n_unverified; /* ips[n_ips .. n_ips + n_unverified): claimed, not used */
	/* Candidate addresses (length 32/128): status.podIPs, else
	 * status.podIP, else the annotation cni.projectcalico.org/podIPs. The
	 * first n_ips are the pod's addresses (filtered, routed): all of them
	 * after parsing; policy_pod_verify_ips() narrows them down. */
	struct in_prefix *ips;
	size_t n_ips;
	struct policy_named_port *ports;
	size_t n_ports;
	struct policy_host_port *host_ports;
	size_t n_host_ports;
	/* Why the hostPorts were refused (then n_host_ports is 0), or NULL. A
	 * bad hostPort or hostIP costs the pod its host ports, nothing else. */
	char *host_ports_error;
};

struct policy_namespace {
	char *name;
	struct labels *labels; /* owned; always has kubernetes.io/metadata.name */
};

/* A NetworkPolicy peer: an ipBlock, or podSelector and/or namespaceSelector
 * (both present = their AND). */
struct policy_peer {
	struct labelsel *pod_sel; /* NULL: any pod (of the namespaces below) */
	struct labelsel *ns_sel;  /* NULL with pod_sel: the policy's namespace */
	bool is_block;
	struct in_prefix block;
	struct in_prefix *except;
	size_t n_except;
};

struct policy_port {
	uint8_t proto;	/* TCP when absent */
	bool any_port;	/* no port given: every port of @proto */
	uint16_t port;	/* numeric port, or 0 when @name is set */
	uint16_t end_port; /* inclusive end of a range; == port for one port */
	char *name;	/* named port, resolved per destination pod */
};

/* One ingress or egress rule; zero peers / zero ports = all. */
struct policy_rule {
	struct policy_peer *peers;
	size_t n_peers;
	struct policy_port *ports;
	size_t n_ports;
};

enum policy_dir {
	POLICY_DIR_INGRESS,
	POLICY_DIR_EGRESS,
	_POLICY_DIR_MAX,
	_POLICY_DIR_INVALID = -22,
};

const char *policy_dir_to_string(enum policy_dir d);

/* Where a policy comes from. */
enum policy_kind {
	POLICY_KIND_K8S,    /* networking.k8s.io NetworkPolicy: tier default, order 1000 */
	POLICY_KIND_CALICO, /* Calico NetworkPolicy (namespaced) */
	POLICY_KIND_GLOBAL, /* Calico GlobalNetworkPolicy */
	POLICY_KIND_CLUSTER, /* policy.networking.k8s.io ClusterNetworkPolicy (cnp.h) */
	_POLICY_KIND_MAX,
	_POLICY_KIND_INVALID = -22,
};

enum policy_action {
	POLICY_ACTION_ALLOW,
	POLICY_ACTION_DENY,
	POLICY_ACTION_PASS, /* to the next tier that has policies for the endpoint */
	POLICY_ACTION_LOG,  /* NFLOG, then on to the next rule */
	_POLICY_ACTION_MAX,
	_POLICY_ACTION_INVALID = -22,
};

const char *policy_action_to_string(enum policy_action a);

/* The source or destination of a Calico rule; every given part must match. */
struct policy_entity {
	struct in_prefix *nets, *not_nets;
	size_t n_nets, n_not_nets;
	/* endpoints (and network sets) by labels: present when any of sel,
	 * ns_sel, sa_sel or sa_names is given */
	bool by_labels;
	struct selector *sel;	 /* NULL: any */
	struct selector *ns_sel; /* NULL: the policy's namespace (GNP: any) */
	struct selector *sa_sel; /* serviceAccounts.selector; NULL: any */
	char **sa_names;	 /* serviceAccounts.names; n_sa_names == 0: any */
	size_t n_sa_names;
	char *key; /* what makes two entities select the same endpoints */
	struct policy_port *ports, *not_ports; /* proto = the rule's protocol */
	size_t n_ports, n_not_ports;
};

/* Frees what @e owns (not @e). */
void policy_entity_done(struct policy_entity *e);

/* One Calico rule. */
struct policy_crule {
	enum policy_action action;
	int family;	/* ipVersion: AF_INET, AF_INET6, 0 = both */
	int proto;	/* -1: any */
	int not_proto;	/* -1: none */
	int icmp_type, icmp_code;	  /* -1: any */
	int not_icmp_type, not_icmp_code; /* -1: none */
	struct policy_entity src, dst;
};

/* When a GlobalNetworkPolicy applies to host endpoints' traffic: with the
 * normal policy (input, output, applyOnForward: forward), before DNAT
 * (preDNAT: ingress only) or before conntrack (doNotTrack). */
enum policy_host_mode {
	POLICY_HOST_MODE_NORMAL,
	POLICY_HOST_MODE_PRE_DNAT,
	POLICY_HOST_MODE_UNTRACKED,
	_POLICY_HOST_MODE_MAX,
	_POLICY_HOST_MODE_INVALID = -22,
};

/* "normal", "preDNAT", "doNotTrack" */
const char *policy_host_mode_to_string(enum policy_host_mode m);

/* A validated policy, Kubernetes or Calico; immutable after parsing,
 * reference counted. */
struct policy_netpol {
	unsigned refs;
	enum policy_kind kind;
	char *ns, *name; /* Calico: the stored name "<tier>.<name>"; GNP: ns "" */
	char *key;	 /* K8S "ns/name", CALICO "np:ns/name", GLOBAL "gnp:name",
			  * CLUSTER "cnp:name" */
	char *sort_name; /* ties of equal order are broken by it (Calico's names) */
	char *tier;	 /* K8S: "default"; CLUSTER: kube-admin or kube-baseline */
	double order;	 /* K8S: 1000; CLUSTER: spec.priority */
	bool has_order;	 /* false: after every policy with an order */
	struct labelsel *pod_sel;  /* K8S */
	struct selector *sel;	   /* Calico spec.selector; NULL = all() */
	struct selector *ns_sel;   /* GNP spec.namespaceSelector; NULL = any */
	struct selector *sa_sel;   /* spec.serviceAccountSelector; NULL = any */
	bool types[_POLICY_DIR_MAX]; /* policyTypes after defaulting */
	struct policy_rule *rules[_POLICY_DIR_MAX];   /* K8S */
	struct policy_crule *crules[_POLICY_DIR_MAX]; /* Calico */
	size_t n_rules[_POLICY_DIR_MAX]; /* of rules or crules */
	size_t cap_crules[_POLICY_DIR_MAX]; /* of crules grown by cnp.c (0: sized once) */
	bool has_pass;	/* some rule passes */
	bool rejected; /* the stand-in of an invalid policy: allows nothing
			* (Calico: denies everything that reaches it) */
	bool apply_on_forward; /* GNP applyOnForward: host endpoints' forwarded traffic too */
	/* GNP preDNAT or doNotTrack: host endpoints only (never pods), in their
	 * own chains before DNAT or before conntrack (policy/compile.h) */
	enum policy_host_mode host_mode;
};

/* A Calico Tier. */
struct policy_tier {
	char *name;
	double order;
	bool has_order;
	bool pass; /* defaultAction Pass (else Deny) */
};

/* A NetworkSet (ns set) or GlobalNetworkSet (ns NULL). */
struct policy_netset {
	char *ns, *name, *key; /* key "ns/name" or "/name" */
	struct labels *labels; /* with Calico's metadata-annotation labels */
	struct in_prefix *nets;
	size_t n_nets;
};

/* A Calico HostEndpoint (cluster-scoped). */
struct policy_hep {
	char *name;
	char *node;		/* spec.node */
	char ifname[IFNAMSIZ];	/* spec.interfaceName: a name, "*" or "" (expectedIPs only) */
	struct labels *labels;	/* with Calico's metadata-annotation labels */
	struct in_prefix *ips;	/* spec.expectedIPs, host prefixes */
	size_t n_ips;
	bool default_allow;	/* spec.profiles has projectcalico-default-allow */
	size_t n_other_profiles; /* other profiles: their rules are unknown, they allow nothing */
	bool rejected;		/* the stand-in of an invalid one: denies all but failsafes */
};

/* An address of one of the node's interfaces (where a HostEndpoint with
 * expectedIPs and no interfaceName applies). */
struct policy_host_addr {
	char ifname[IFNAMSIZ];
	struct in_prefix addr; /* host prefix */
};

/* A ServiceAccount's labels (serviceAccountSelector). */
struct policy_sa {
	char *key; /* "ns/name" */
	struct labels *labels;
};

/**
 * policy_pod_from_json - parse a v1 Pod
 * @j: the Pod object
 * @ret: the pod
 * @ret_error: malloc'd message on -EINVAL (may be NULL)
 *
 * IPs come from status.podIPs, else status.podIP, else the annotation
 * cni.projectcalico.org/podIPs. An annotation that is not a list of at most
 * POLICY_POD_MAX_IPS addresses gives no address (bad_ip_annotation is set):
 * anybody who may patch the pod writes it, so it never makes the pod invalid.
 *
 * Return: 0, -EINVAL (missing name, bad status IP or port), -ENOMEM.
 */
int policy_pod_from_json(const json_t *j, struct policy_pod **ret, char **ret_error);

/**
 * policy_pod_verify_ips - choose the addresses a pod is filtered and routed on
 * @p: a pod that is in no model (parsed, or a policy_pod_dup())
 * @accept: whether @p may use address @c
 * @userdata: passed to @accept
 *
 * Every candidate (ips[0 .. n_ips + n_unverified)) is asked again: the
 * accepted ones become ips[0 .. n_ips), the others follow (n_unverified),
 * each group in address order.
 *
 * Return: true when the used addresses changed.
 */
bool policy_pod_verify_ips(struct policy_pod *p,
			   bool (*accept)(const struct policy_pod *p, const struct in_prefix *c,
					  void *userdata),
			   void *userdata);
struct policy_pod *policy_pod_free(struct policy_pod *p);
DEFINE_CLEANUP_FUNC(struct policy_pod, policy_pod_free);
int policy_pod_dup(const struct policy_pod *p, struct policy_pod **ret);
bool policy_pod_is_equal(const struct policy_pod *a, const struct policy_pod *b);

int policy_namespace_from_json(const json_t *j, struct policy_namespace **ret, char **ret_error);
struct policy_namespace *policy_namespace_free(struct policy_namespace *n);
DEFINE_CLEANUP_FUNC(struct policy_namespace, policy_namespace_free);

/**
 * policy_netpol_from_json - parse and validate a networking.k8s.io/v1
 *   NetworkPolicy (policyTypes defaulted as the apiserver does)
 * @j: the NetworkPolicy object
 * @ret: the policy, with one reference
 * @ret_error: malloc'd message naming the policy and the field, on -EINVAL
 *
 * Return: 0, -EINVAL for an invalid policy (bad selector operator, bad
 * CIDR, except outside cidr, endPort < port, endPort with a named port or
 * without a port, unknown protocol or policy type, empty peer), -ENOMEM.
 */
int policy_netpol_from_json(const json_t *j, struct policy_netpol **ret, char **ret_error);
/**
 * policy_netpol_deny_from_json - the fail-closed stand-in for a
 *   NetworkPolicy that policy_netpol_from_json() rejected (invalid, or over
 *   a limit such as more than 4096 peers in a rule)
 * @j: the NetworkPolicy object
 * @ret: a policy with @j's namespace and name that allows nothing: it
 *   selects what @j's podSelector selects (every pod of the namespace when
 *   that does not parse either) and isolates the directions of @j's
 *   policyTypes (both when they do not parse). Pods it selects are isolated
 *   and keep only what their other policies allow, so the result never
 *   allows more than @j could; pods of other namespaces are not touched.
 *
 * Return: 0, -EINVAL (no metadata.name), -ENOMEM.
 */
int policy_netpol_deny_from_json(const json_t *j, struct policy_netpol **ret);
struct policy_netpol *policy_netpol_ref(struct policy_netpol *p);
struct policy_netpol *policy_netpol_unref(struct policy_netpol *p);

/* The indexed set of objects. Pods are indexed by key and by namespace. */
struct policy_model {
	char *node;		/* only its pods get dispatch entries; NULL = all */
	struct policy_hmap pods; /* "ns/name" -> struct policy_pod */
	struct policy_hmap namespaces; /* name -> struct policy_namespace */
	struct policy_hmap netpols;    /* key -> struct policy_netpol (every kind) */
	struct policy_hmap tiers;      /* name -> struct policy_tier */
	struct policy_hmap netsets;    /* key -> struct policy_netset */
	struct policy_hmap sas;	       /* "ns/name" -> struct policy_sa */
	/* name -> struct policy_hep (every node's: their expectedIPs are
	 * addresses rule selectors match, as GlobalNetworkSets' nets are) */
	struct policy_hmap heps;
	struct policy_host_addr *host_addrs; /* this node's interface addresses, sorted */
	size_t n_host_addrs;
	struct policy_hmap ns_pods;    /* ns -> struct policy_ns_pods */
	struct policy_hmap ifnames;    /* local pods' ifname -> how many use it */
	size_t n_pods_v6;	/* pods with an IPv6 address (IPv6 rules exist iff > 0) */
	uint64_t generation;	/* bumped by every change */
	uint64_t netpol_generation; /* bumped by policy and namespace changes */
};

/* Pods of one namespace (a growable array of borrowed pointers). */
struct policy_ns_pods {
	char *ns;
	struct policy_pod **pods;
	size_t n_pods, cap;
};

/**
 * policy_model_new - an empty model
 * @node: node name: pods with another spec.nodeName are peers only; NULL
 *   treats every pod as local
 * @ret: the model
 *
 * Return: 0 or -ENOMEM.
 */
int policy_model_new(const char *node, struct policy_model **ret);
struct policy_model *policy_model_free(struct policy_model *m);
DEFINE_CLEANUP_FUNC(struct policy_model, policy_model_free);

/**
 * policy_model_set_pod - add or replace a pod
 * @m: model
 * @pod: the pod, ownership taken (also on error)
 * @ret_old: receives the replaced pod (caller frees), or NULL when new; may
 *   be NULL to free it here
 *
 * Return: 0 or -ENOMEM.
 */
int policy_model_set_pod(struct policy_model *m, struct policy_pod *pod,
			 struct policy_pod **ret_old);
/* policy_model_del_pod - remove; Return: the removed pod (caller frees) or NULL. */
struct policy_pod *policy_model_del_pod(struct policy_model *m, const char *ns, const char *name);
const struct policy_pod *policy_model_get_pod(const struct policy_model *m, const char *ns,
					      const char *name);

int policy_model_set_namespace(struct policy_model *m, struct policy_namespace *n);
int policy_model_del_namespace(struct policy_model *m, const char *name);
/* Whether namespace @name matches @sel; an unknown namespace has only the
 * kubernetes.io/metadata.name label. */
bool policy_model_ns_matches(const struct policy_model *m, const char *name,
			     const struct labelsel *sel);

/* policy_model_set_netpol - add or replace (by key); takes the caller's reference. */
int policy_model_set_netpol(struct policy_model *m, struct policy_netpol *p);
int policy_model_del_netpol(struct policy_model *m, const char *ns, const char *name);
/* policy_model_del_policy - remove a policy of any kind by its key. */
int policy_model_del_policy(struct policy_model *m, const char *key);

/* policy_model_next_pod - iterate pods: start with *i = 0; false at the end. */
bool policy_model_next_pod(const struct policy_model *m, size_t *i, struct policy_pod **ret);

/* policy_model_is_local - the pod's veth is on this node (dispatch entries). */
bool policy_model_is_local(const struct policy_model *m, const struct policy_pod *p);

/* policy_model_ifname_is_shared - another local pod has @p's veth name
 * (cali + 44 bits of a hash of ns.name: collisions are cheap to make). At
 * most one of them owns the interface and nothing says which, so neither
 * is programmed: the interface's traffic is dropped. */
bool policy_model_ifname_is_shared(const struct policy_model *m, const struct policy_pod *p);

/**
 * policy_model_load_json - add every object of a state document
 *   {"namespaces": [...], "pods": [...], "networkpolicies": [...],
 *   "calico-networkpolicies": [...], "globalnetworkpolicies": [...],
 *   "tiers": [...], "networksets": [...], "serviceaccounts": [...],
 *   "clusternetworkpolicies": [...], "hostendpoints": [...]} (each
 *   may also be a v1 List object with "items"; Calico objects as stored in
 *   their CRDs, network sets of both kinds in "networksets")
 * @m: model
 * @doc: the document
 * @ret_error: malloc'd message on -EINVAL
 *
 * Stops at the first invalid object; objects added before it stay.
 * Return: 0, -EINVAL, -ENOMEM.
 */
int policy_model_load_json(struct policy_model *m, const json_t *doc, char **ret_error);

/**
 * policy_model_load_object - add one object of a state document's list
 * @m: model
 * @key: the list it belongs to ("pods", "tiers", ... as above)
 * @obj: the object
 * @ret_error: malloc'd message on -EINVAL
 *
 * Return: 0, -EINVAL (invalid object), -EOPNOTSUPP (a Calico policy with a
 * field calico-c cannot enforce), -ENOENT (unknown @key), -ENOMEM.
 */
int policy_model_load_object(struct policy_model *m, const char *key, const json_t *obj,
			     char **ret_error);
