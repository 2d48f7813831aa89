/* Validation of our custom resources (group crd.projectcalico.org/v1), before
 * they reach the apiserver: field types, unknown fields, and the meaning of
 * each value (CIDRs, IP addresses, AS numbers, ports, selectors, durations,
 * enumerations, BGP communities, cross-field rules), with a message naming
 * the object and the field:
 *   "IPPool 'pool-a': spec.blockSize: must be 20..32 ..."
 *
 * The apiserver's structural schema alone would prune an unknown field and
 * accept a malformed CIDR or selector; felix-c and calicoctl-c refuse them
 * here instead, with the same code.
 *
 * Rules owned by another component (IPAM's pool and block rules) are not
 * repeated here: the program passes that component's parser in struct
 * crdvalid_ops, so lib/ depends on nothing of ours.
 */
#pragma once

#include <stdbool.h>

#include <jansson.h>

#define CRDVALID_GROUP "crd.projectcalico.org"
#define CRDVALID_API_VERSION "crd.projectcalico.org/v1"

/* One kind of ours: its names as the apiserver and calicoctl know them. */
struct crdvalid_kind {
	const char *kind;     /* "IPPool" */
	const char *plural;   /* "ippools" */
	const char *singular; /* "ippool" */
	const char *short_name; /* calicoctl's short name ("pool"), or NULL */
	bool namespaced;	/* NetworkPolicy, NetworkSet; the rest are cluster-scoped */
};

/* Our kinds, in manifests/crds.yaml order; NULL-kind terminated. */
extern const struct crdvalid_kind crdvalid_kinds[];

/**
 * crdvalid_kind_lookup - find a kind by kind name, plural, singular or short
 *   name, case-insensitively ("IPPool", "ippools", "ipPool", "pool")
 * @name: what the user typed
 *
 * Return: the kind, or NULL when it is none of ours.
 */
const struct crdvalid_kind *crdvalid_kind_lookup(const char *name);

/* Checks of another component, called on an object that passed the checks
 * here. Each returns 0 or -EINVAL with a message that names the field
 * ("spec.cidr: ..."), or -ENOMEM. */
struct crdvalid_ops {
	int (*ippool)(const json_t *obj, char **ret_error);    /* e.g. IPAM's pool parser */
	int (*ipamblock)(const json_t *obj, char **ret_error); /* e.g. IPAM's block parser */
	int (*policy)(const json_t *obj, char **ret_error);    /* the policy model's parser */
	int (*hep)(const json_t *obj, char **ret_error);       /* its HostEndpoint parser */
};

/**
 * crdvalid_check - validate one object of ours
 * @kind: its kind (any name crdvalid_kind_lookup() accepts); NULL: take
 *   the object's own "kind"
 * @obj: the object (apiVersion, kind, metadata, spec)
 * @ops: further checks (may be NULL: then an IPPool's blockSize is checked
 *   against its CIDR's family only, and an IPAMBlock's allocations against
 *   its size only)
 * @ret_error: on -EINVAL, a malloc'd message "<Kind> '<name>': <field>: <why>"
 *   (may be NULL)
 *
 * Return: 0, -EINVAL (invalid object, or not a kind of ours), -ENOMEM.
 */
int crdvalid_check(const char *kind, const json_t *obj, const struct crdvalid_ops *ops,
		   char **ret_error);

/* Field-level checks, exported for callers that read single values. */
bool crdvalid_is_ip(const char *s);
/* "addr/len"; @strict: host bits must be zero. */
bool crdvalid_is_cidr(const char *s, bool strict);
/* A Go duration ("90s", "1m30s", "500ms"); @ret_ms (may be NULL) gets its
 * value in milliseconds. Negative durations are refused. */
bool crdvalid_parse_duration(const char *s, unsigned long long *ret_ms);
/* A BGP community "aa:nn" (16-bit parts) or large community "aa:nn:mm"
 * (32-bit parts). */
bool crdvalid_is_community(const char *s);
/* A Kubernetes object name (DNS-1123 subdomain). */
bool crdvalid_is_name(const char *s);
