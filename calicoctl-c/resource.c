/* calicoctl-c get / apply / delete for our custom resources.
 *
 *   get KIND [NAME...] [-n NS | -A] [-o table|wide|yaml|json]
 *   apply -f FILE
 *   delete -f FILE | delete KIND NAME... [-n NS] [--skip-not-exists]
 *
 * Namespaced kinds (NetworkPolicy, NetworkSet) default to namespace
 * "default", as in calicoctl. Policies are stored as Calico stores them:
 * "<tier>.<name>", where a v3 name without a tier prefix is the default
 * tier's ("default.<name>"), and shown by their v3 name (the name Calico
 * recorded in its projectcalico.org/metadata annotation, else the stored
 * name without "default." for a default-tier policy).
 *
 * Kinds are found by any name crdvalid_kind_lookup() knows (IPPool,
 * ippools, pool, ...). apply validates EVERY object of the file with
 * crdvalid (plus IPAM's own pool and block parsers) before the first write,
 * so one bad object means nothing is created or changed.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "calicoctl-c/ctl.h"
#include "calicoctl-c/manifest.h"
#include "cleanup.h"
#include "crdvalid.h"
#include "ipam/block.h"
#include "ipam/ipam.h"
#include "kapi.h"
#include "log.h"
#include "policy/calico.h"
#include "yamljson.h"

#define APPLY_RETRIES 5

/* ---- helpers ---- */

#define DEFAULT_NAMESPACE "default"
#define METADATA_ANNOTATION "projectcalico.org/metadata"

static void resource_of(const struct crdvalid_kind *k, struct kapi_resource *ret)
{
	*ret = (struct kapi_resource){
		.api_version = CRDVALID_API_VERSION,
		.plural = k->plural,
		.kind = k->kind,
		.namespaced = k->namespaced,
	};
}

/* The namespace of @k's objects: @ns for a namespaced kind, else NULL. */
static const char *ns_of(const struct crdvalid_kind *k, const char *ns)
{
	return k->namespaced ? (ns ? ns : DEFAULT_NAMESPACE) : NULL;
}

static const struct crdvalid_kind *kind_or_complain(const char *name)
{
	const struct crdvalid_kind *k = crdvalid_kind_lookup(name);

	if (!k) {
		fprintf(stderr, "calicoctl-c: '%s' is not a resource kind of %s; one of:", name,
			CRDVALID_GROUP);
		for (const struct crdvalid_kind *x = crdvalid_kinds; x->kind; x++)
			fprintf(stderr, " %s", x->kind);
		fputc('\n', stderr);
	}
	return k;
}

/* The value at a dotted path ("spec.cidr"), or NULL. */
static const json_t *at(const json_t *obj, const char *path)
{
	char key[64];

	while (obj && *path) {
		size_t n = strcspn(path, ".");

		if (n >= sizeof(key))
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		obj = json_object_get(obj, key);
		path += n + (path[n] == '.');
	}
	return obj;
}

/* ---- get ---- */

struct column {
	const char *kind; /* NULL: every kind */
	const char *header;
	const char *path;
	bool wide; /* only with -o wide */
};

static const struct column columns[] = {
	{ NULL, "NAME", "metadata.name", false },
	{ "IPPool", "CIDR", "spec.cidr", false },
	{ "IPPool", "SELECTOR", "spec.nodeSelector", false },
	{ "IPPool", "BLOCKSIZE", "spec.blockSize", true },
	{ "IPPool", "NAT", "spec.natOutgoing", true },
	{ "IPPool", "DISABLED", "spec.disabled", true },
	{ "IPPool", "IPIPMODE", "spec.ipipMode", true },
	{ "IPPool", "VXLANMODE", "spec.vxlanMode", true },
	{ "BGPPeer", "PEERIP", "spec.peerIP", false },
	{ "BGPPeer", "NODE", "spec.node", false },
	{ "BGPPeer", "ASN", "spec.asNumber", false },
	{ "BGPPeer", "NODESELECTOR", "spec.nodeSelector", true },
	{ "BGPPeer", "PEERSELECTOR", "spec.peerSelector", true },
	{ "BGPConfiguration", "LOGSEVERITY", "spec.logSeverityScreen", false },
	{ "BGPConfiguration", "MESHENABLED", "spec.nodeToNodeMeshEnabled", false },
	{ "BGPConfiguration", "ASNUMBER", "spec.asNumber", false },
	{ "BGPConfiguration", "LISTENPORT", "spec.listenPort", true },
	{ "IPAMBlock", "CIDR", "spec.cidr", false },
	{ "IPAMBlock", "AFFINITY", "spec.affinity", false },
	{ "IPAMBlock", "SEQUENCE", "spec.sequenceNumber", true },
	{ "BlockAffinity", "NODE", "spec.node", false },
	{ "BlockAffinity", "CIDR", "spec.cidr", false },
	{ "BlockAffinity", "STATE", "spec.state", false },
	{ "IPAMHandle", "HANDLEID", "spec.handleID", false },
	{ "IPAMConfig", "STRICTAFFINITY", "spec.strictAffinity", false },
	{ "IPAMConfig", "AUTOALLOCATE", "spec.autoAllocateBlocks", false },
	{ "IPAMConfig", "MAXBLOCKS", "spec.maxBlocksPerHost", true },
	{ "FelixConfiguration", "LOGSEVERITY", "spec.logSeverityScreen", true },
	{ "ClusterInformation", "READY", "spec.datastoreReady", false },
	{ "ClusterInformation", "VERSION", "spec.calicoVersion", false },
	{ "HostEndpoint", "NODE", "spec.node", false },
	{ "HostEndpoint", "INTERFACE", "spec.interfaceName", true },
	{ "HostEndpoint", "IPS", "spec.expectedIPs", true },
	{ "HostEndpoint", "PROFILES", "spec.profiles", true },
	{ NULL, "CREATED", "metadata.creationTimestamp", true },
};

static bool column_shown(const struct column *col, const char *kind, bool wide)
{
	return (!col->kind || strcmp(col->kind, kind) == 0) && (wide || !col->wide);
}

/* Cell text of @v into @buf (JSON text for non-strings, "" when absent). */
static const char *cell(const json_t *v, char *buf, size_t size)
{
	char *t;

	if (!v || json_is_null(v))
		return "";
	if (json_is_string(v))
		return json_string_value(v);
	t = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
	snprintf(buf, size, "%s", t ? t : "");
	free(t);
	return buf;
}

static void print_table(const char *kind, const json_t *items, bool wide)
{
	size_t width[ELEMENTSOF(columns)] = {}, i;
	char buf[256];
	json_t *it;

	for (size_t c = 0; c < ELEMENTSOF(columns); c++) {
		if (!column_shown(&columns[c], kind, wide))
			continue;
		width[c] = strlen(columns[c].header);
		json_array_foreach(items, i, it) {
			size_t n = strlen(cell(at(it, columns[c].path), buf, sizeof(buf)));

			width[c] = n > width[c] ? n : width[c];
		}
	}
	for (size_t c = 0; c < ELEMENTSOF(columns); c++)
		if (column_shown(&columns[c], kind, wide))
			printf("%-*s   ", (int)width[c], columns[c].header);
	putchar('\n');
	json_array_foreach(items, i, it) {
		for (size_t c = 0; c < ELEMENTSOF(columns); c++)
			if (column_shown(&columns[c], kind, wide))
				printf("%-*s   ", (int)width[c],
				       cell(at(it, columns[c].path), buf, sizeof(buf)));
		putchar('\n');
	}
}

/* The kinds calicoctl serves as projectcalico.org/v3 with the same name and
 * shape as our crd.projectcalico.org/v1 objects: we print those as
 * calicoctl does and read them back. IPAM's own objects have no v3 form. */
#define V3_API_VERSION "projectcalico.org/v3"
static const char *const v3_kinds[] = { "IPPool",	      "BGPConfiguration",
					 "BGPPeer",	      "BGPFilter",
					 "FelixConfiguration", "ClusterInformation",
					 "KubeControllersConfiguration", "Tier",
					 "NetworkPolicy",	      "GlobalNetworkPolicy",
					 "NetworkSet",	      "GlobalNetworkSet",
					 "HostEndpoint" };

static const char *api_version_of(const char *kind)
{
	for (size_t i = 0; kind && i < ELEMENTSOF(v3_kinds); i++)
		if (strcmp(kind, v3_kinds[i]) == 0)
			return V3_API_VERSION;
	return CRDVALID_API_VERSION;
}

/* The v3 view of what Calico's own client wrote: its labels and (policies)
 * its v3 name live in the projectcalico.org/metadata annotation; a policy
 * without it is named by its stored name, less "default." in the default
 * tier. */
static void v3_metadata(json_t *it)
{
	json_t *md = json_object_get(it, "metadata"), *ann = json_object_get(md, "annotations");
	const char *kind = json_string_value(json_object_get(it, "kind"));
	const char *text = json_string_value(json_object_get(ann, METADATA_ANNOTATION));
	const char *tier = json_string_value(json_object_get(json_object_get(it, "spec"), "tier"));
	const char *name = kapi_obj_name(it);
	_cleanup_(json_decrefp) json_t *cm = text ? json_loads(text, 0, NULL) : NULL;
	json_t *labels = json_object_get(cm, "labels");

	if (json_is_object(labels)) {
		if (!json_is_object(json_object_get(md, "labels")))
			(void)json_object_set_new(md, "labels", json_object());
		(void)json_object_update(json_object_get(md, "labels"), labels);
	}
	if (!ctl_is_policy_kind(kind) || !name)
		return;
	if (json_is_string(json_object_get(cm, "name")))
		(void)json_object_set(md, "name", json_object_get(cm, "name"));
	else if ((!tier || strcmp(tier, "default") == 0) && strncmp(name, "default.", 8) == 0)
		(void)json_object_set_new(md, "name", json_string(name + 8));
}

/* The API adds managedFields to every object: noise for an operator. */
static void tidy(json_t *items)
{
	json_t *it;
	size_t i;

	json_array_foreach(items, i, it) {
		json_object_del(json_object_get(it, "metadata"), "managedFields");
		v3_metadata(it);
		(void)json_object_set_new(it, "apiVersion", json_string(api_version_of(
			json_string_value(json_object_get(it, "kind")))));
	}
}

/* An object as calicoctl (or kubectl) exported it, made ours (the v3 form
 * was made the CRD's by ctl_manifest_read()): the metadata the apiserver
 * owns (uid, resourceVersion, creationTimestamp, ...) is dropped, so it is
 * neither a precondition on update nor refused on create. */
static void import_object(json_t *o)
{
	static const char *const owned[] = { "uid", "resourceVersion", "creationTimestamp",
					     "generation", "managedFields", "selfLink",
					     "deletionTimestamp", "deletionGracePeriodSeconds" };
	json_t *md = json_object_get(o, "metadata");

	for (size_t i = 0; json_is_object(md) && i < ELEMENTSOF(owned); i++)
		(void)json_object_del(md, owned[i]);
}

enum output { OUT_TABLE, OUT_WIDE, OUT_YAML, OUT_JSON };

static int output_from_string(const char *s)
{
	static const char *const names[] = { "table", "wide", "yaml", "json" };

	for (size_t i = 0; i < ELEMENTSOF(names); i++)
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	return -EINVAL;
}

static int print_objects(const struct crdvalid_kind *k, json_t *items, enum output o,
			 bool single)
{
	_cleanup_(json_decrefp) json_t *list = NULL;
	const json_t *doc = single ? json_array_get(items, 0) : NULL;
	char listkind[64];
	char *t;

	tidy(items);
	if (o == OUT_TABLE || o == OUT_WIDE) {
		print_table(k->kind, items, o == OUT_WIDE);
		return 0;
	}
	if (!doc) {
		snprintf(listkind, sizeof(listkind), "%sList", k->kind);
		list = json_pack("{s:s, s:s, s:O}", "apiVersion", api_version_of(k->kind), "kind",
				 listkind, "items", items);
		if (!list)
			return -ENOMEM;
		doc = list;
	}
	if (o == OUT_YAML)
		return yamljson_emit(doc, stdout);
	t = json_dumps(doc, JSON_INDENT(2));
	if (!t)
		return -ENOMEM;
	puts(t);
	free(t);
	return 0;
}

static int get_named(struct ctl *c, const struct kapi_resource *res, const char *ns,
		     char **names, int n, json_t *items)
{
	int r;

	for (int i = 0; i < n; i++) {
		_cleanup_free_ char *stored = ctl_is_policy_kind(res->kind) ? ctl_policy_stored_name(names[i])
									: strdup(names[i]);
		_cleanup_free_ char *path = stored ? kapi_path(res, ns, stored, NULL) : NULL;
		json_t *obj = NULL;

		if (!path)
			return ctl_oom();
		r = kapi_get(c->k, path, &obj);
		if (r == -ENOENT)
			return log_error_errno(r, "%s '%s' does not exist", res->kind, names[i]);
		if (r < 0)
			return log_error_errno(r, "Failed to get %s '%s': %s%s%m", res->kind,
					       names[i], kapi_last_error(c->k),
					       *kapi_last_error(c->k) ? ": " : "");
		if (json_array_append_new(items, obj) < 0)
			return ctl_oom();
	}
	return 0;
}

/* A Kubernetes Node as calicoctl shows it: Calico's v3 Node, built from
 * the Node's projectcalico.org annotations and addresses. */
static json_t *calico_node_of(const json_t *kn)
{
	const json_t *md = json_object_get(kn, "metadata"), *a;
	const char *name = kapi_obj_name(kn) ?: "";
	const char *ip4 = kapi_obj_annotation(kn, "projectcalico.org/IPv4Address");
	const char *ip6 = kapi_obj_annotation(kn, "projectcalico.org/IPv6Address");
	const char *as = kapi_obj_annotation(kn, "projectcalico.org/ASNumber");
	json_t *n, *spec, *bgp, *addrs;
	size_t i;

	n = json_pack("{s:s, s:s, s:{s:s}, s:{s:[{s:s, s:s}]}}", "apiVersion", V3_API_VERSION,
		      "kind", "Node", "metadata", "name", name, "spec", "orchRefs", "nodeName",
		      name, "orchestrator", "k8s");
	if (!n)
		return NULL;
	md = json_object_get(md, "labels");
	if (md)
		(void)json_object_set(json_object_get(n, "metadata"), "labels", (json_t *)md);
	spec = json_object_get(n, "spec");
	addrs = json_array();
	bgp = json_object();
	if (!addrs || !bgp) {
		json_decref(addrs);
		json_decref(bgp);
		return json_decref(n), NULL;
	}
	if (ip4)
		(void)json_array_append_new(addrs, json_pack("{s:s, s:s}", "address", ip4, "type",
							     "CalicoNodeIP"));
	json_array_foreach(json_object_get(json_object_get(kn, "status"), "addresses"), i, a)
		if (json_is_string(json_object_get(a, "address")) &&
		    strcmp(json_string_value(json_object_get(a, "type")) ?: "", "Hostname") != 0)
			(void)json_array_append(addrs, (json_t *)a);
	if (ip4)
		(void)json_object_set_new(bgp, "ipv4Address", json_string(ip4));
	if (ip6)
		(void)json_object_set_new(bgp, "ipv6Address", json_string(ip6));
	if (as && *as)
		(void)json_object_set_new(bgp, "asNumber", json_integer(strtoll(as, NULL, 10)));
	(void)json_object_set_new(spec, "addresses", addrs);
	if (json_object_size(bgp))
		(void)json_object_set_new(spec, "bgp", bgp);
	else
		json_decref(bgp);
	return n;
}

static const struct column node_columns[] = {
	{ NULL, "NAME", "metadata.name", false },
	{ NULL, "ASN", "spec.bgp.asNumber", true },
	{ NULL, "IPV4", "spec.bgp.ipv4Address", true },
	{ NULL, "IPV6", "spec.bgp.ipv6Address", true },
};

static int get_nodes(struct ctl *c, char **names, int n, enum output out)
{
	_cleanup_(json_decrefp) json_t *kns = NULL, *items = json_array(), *list = NULL;
	const json_t *kn;
	size_t i;
	int r;

	if (!items)
		return ctl_oom();
	if (n > 0) {
		kns = json_array();
		if (!kns)
			return ctl_oom();
		r = get_named(c, &kapi_nodes, NULL, names, n, kns);
	} else {
		_cleanup_free_ char *path = kapi_path(&kapi_nodes, NULL, NULL, NULL);

		if (!path)
			return ctl_oom();
		r = kapi_list(c->k, path, NULL, &kns, NULL);
		if (r < 0)
			log_error_errno(r, "Failed to list nodes: %s%s%m", kapi_last_error(c->k),
					*kapi_last_error(c->k) ? ": " : "");
	}
	if (r < 0)
		return r;
	json_array_foreach(kns, i, kn)
		if (json_array_append_new(items, calico_node_of(kn)) < 0)
			return ctl_oom();
	if (out == OUT_TABLE || out == OUT_WIDE) {
		char buf[256];

		for (size_t k = 0; k < ELEMENTSOF(node_columns); k++)
			if (out == OUT_WIDE || !node_columns[k].wide)
				printf("%-24s ", node_columns[k].header);
		putchar('\n');
		json_array_foreach(items, i, kn) {
			for (size_t k = 0; k < ELEMENTSOF(node_columns); k++)
				if (out == OUT_WIDE || !node_columns[k].wide)
					printf("%-24s ", cell(at(kn, node_columns[k].path), buf,
							      sizeof(buf)));
			putchar('\n');
		}
		return 0;
	}
	list = n == 1 ? json_incref(json_array_get(items, 0))
		      : json_pack("{s:s, s:s, s:O}", "apiVersion", V3_API_VERSION, "kind",
				  "NodeList", "items", items);
	if (!list)
		return ctl_oom();
	if (out == OUT_YAML)
		return yamljson_emit(list, stdout);
	r = json_dumpf(list, stdout, JSON_INDENT(2));
	putchar('\n');
	return r < 0 ? -EIO : 0;
}

int ctl_cmd_get(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = { { "output", required_argument, NULL, 'o' },
					      { "namespace", required_argument, NULL, 'n' },
					      { "all-namespaces", no_argument, NULL, 'A' },
					      {} };
	_cleanup_(json_decrefp) json_t *items = NULL;
	const struct crdvalid_kind *k;
	struct kapi_resource res;
	const char *ns = NULL;
	bool all_ns = false;
	int o, out = OUT_TABLE, r;

	while ((o = getopt_long(argc, argv, "o:n:A", opts, NULL)) >= 0) {
		if (o == 'n')
			ns = optarg;
		else if (o == 'A')
			all_ns = true;
		else if (o != 'o' || (out = output_from_string(optarg)) < 0)
			return log_error_errno(-EINVAL, "-o: table, wide, yaml or json"), 2;
	}
	if (optind >= argc)
		return log_error_errno(-EINVAL, "get KIND [NAME...] [-n NS | -A] "
						"[-o table|wide|yaml|json]"),
		       2;
	if (strcasecmp(argv[optind], "node") == 0 || strcasecmp(argv[optind], "nodes") == 0) {
		if (ctl_connect(c) < 0)
			return 1;
		r = get_nodes(c, argv + optind + 1, argc - optind - 1, out);
		return r < 0 ? 1 : 0;
	}
	k = kind_or_complain(argv[optind]);
	if (!k)
		return 2;
	if (ctl_connect(c) < 0)
		return 1;
	resource_of(k, &res);
	if (optind + 1 < argc) {
		items = json_array();
		if (!items)
			return ctl_oom(), 1;
		r = get_named(c, &res, ns_of(k, ns), argv + optind + 1, argc - optind - 1, items);
	} else {
		_cleanup_free_ char *path = kapi_path(&res, all_ns ? NULL : ns_of(k, ns), NULL, NULL);

		if (!path)
			return ctl_oom(), 1;
		r = kapi_list(c->k, path, NULL, &items, NULL);
		if (r < 0)
			log_error_errno(r, "Failed to list %s: %s%s%m", k->plural,
					kapi_last_error(c->k), *kapi_last_error(c->k) ? ": " : "");
	}
	if (r < 0)
		return 1;
	r = print_objects(k, items, out, argc - optind == 2);
	return r < 0 ? log_error_errno(r, "Failed to print: %m"), 1 : 0;
}

/* ---- apply ---- */

/* Validates every object; Return: 0 or -EINVAL after printing each problem. */
static int validate_all(const json_t *objs, const char *file)
{
	/* crdvalid plus the parsers the programs use: IPAM's pool and block
	 * parsers, the policy model's Calico policy and HostEndpoint parsers */
	struct crdvalid_ops ops = ipam_crdvalid_ops;
	const json_t *o;
	size_t i;
	int bad = 0;

	ops.policy = policy_calico_check;
	ops.hep = policy_hep_check;
	json_array_foreach(objs, i, o) {
		_cleanup_free_ char *err = NULL;
		int r = crdvalid_check(NULL, o, &ops, &err);

		if (r == -ENOMEM)
			return ctl_oom();
		if (r < 0) {
			fprintf(stderr, "%s: %s\n", file, err ? err : "invalid object");
			bad++;
		}
	}
	if (bad)
		fprintf(stderr, "%s: %d invalid object%s: nothing was applied\n", file, bad,
			bad == 1 ? "" : "s");
	return bad ? -EINVAL : 0;
}

/* Create, or replace the stored object's spec/labels with ours (CAS on
 * resourceVersion, retried on conflict). Return: 0 created, 1 replaced. */
static int apply_one(struct ctl *c, json_t *obj)
{
	const struct crdvalid_kind *k = crdvalid_kind_lookup(json_string_value(
		json_object_get(obj, "kind")));
	const char *name = kapi_obj_name(obj);
	const char *ns = ns_of(k, kapi_obj_namespace(obj));
	_cleanup_free_ char *coll = NULL, *path = NULL;
	struct kapi_resource res;
	int r = -ESTALE;

	resource_of(k, &res);
	coll = kapi_path(&res, ns, NULL, NULL);
	path = kapi_path(&res, ns, name, NULL);
	if (!coll || !path)
		return -ENOMEM;
	for (int attempt = 0; attempt < APPLY_RETRIES && r == -ESTALE; attempt++) {
		_cleanup_(json_decrefp) json_t *cur = NULL, *put = NULL;

		r = kapi_get(c->k, path, &cur);
		if (r == -ENOENT) {
			r = kapi_create(c->k, coll, obj, NULL);
			if (r == -EEXIST)
				r = -ESTALE; /* created meanwhile: replace it */
			else if (r == 0)
				return 0;
			continue;
		}
		if (r < 0)
			return r;
		put = json_deep_copy(obj);
		if (!put || json_object_set(json_object_get(put, "metadata"), "resourceVersion",
					    json_object_get(json_object_get(cur, "metadata"),
							    "resourceVersion")) < 0)
			return -ENOMEM;
		r = kapi_update(c->k, path, put, NULL);
		if (r == 0)
			return 1;
	}
	return r;
}

static const char *file_option(int argc, char **argv, bool *ret_skip, const char **ret_ns)
{
	static const struct option opts[] = { { "filename", required_argument, NULL, 'f' },
					      { "skip-not-exists", no_argument, NULL, 's' },
					      { "namespace", required_argument, NULL, 'n' },
					      {} };
	const char *file = NULL;
	int o;

	while ((o = getopt_long(argc, argv, "f:n:", opts, NULL)) >= 0) {
		if (o == 'f')
			file = optarg;
		else if (o == 's' && ret_skip)
			*ret_skip = true;
		else if (o == 'n' && ret_ns)
			*ret_ns = optarg;
		else
			return NULL;
	}
	return file;
}

static int load(const char *file, json_t **ret)
{
	_cleanup_free_ char *err = NULL;
	int r = ctl_manifest_read(file, ret, &err);
	json_t *o;
	size_t i;

	if (r < 0)
		return log_error_errno(r, "%s: %s", file, err ? err : "unreadable");
	json_array_foreach(*ret, i, o)
		import_object(o);
	return 0;
}

int ctl_cmd_apply(struct ctl *c, int argc, char **argv)
{
	_cleanup_(json_decrefp) json_t *objs = NULL;
	const char *file = file_option(argc, argv, NULL, NULL);
	size_t i, created = 0, replaced = 0;
	json_t *o;
	int r;

	if (!file || optind != argc)
		return log_error_errno(-EINVAL, "apply -f FILE (YAML or JSON, '-' for stdin)"), 2;
	if (load(file, &objs) < 0 || validate_all(objs, file) < 0)
		return 1;
	if (json_array_size(objs) == 0)
		return log_error_errno(-EINVAL, "%s: no objects", file), 1;
	if (ctl_connect(c) < 0)
		return 1;
	json_array_foreach(objs, i, o) {
		r = apply_one(c, o);
		if (r < 0)
			return log_error_errno(r, "Failed to apply %s '%s' (%zu of %zu applied): %s%s%m",
					       json_string_value(json_object_get(o, "kind")),
					       kapi_obj_name(o), created + replaced,
					       json_array_size(objs), kapi_last_error(c->k),
					       *kapi_last_error(c->k) ? ": " : ""),
			       1;
		if (r == 0)
			created++;
		else
			replaced++;
		printf("%s '%s' %s\n", json_string_value(json_object_get(o, "kind")),
		       kapi_obj_name(o), r == 0 ? "created" : "configured");
	}
	printf("Successfully applied %zu resource(s): %zu created, %zu configured\n",
	       created + replaced, created, replaced);
	return 0;
}

/* ---- delete ---- */

/* @name: as stored (a file's objects, imported) or, with @v3_name, as
 * calicoctl names it on the command line. */
static int delete_one(struct ctl *c, const struct crdvalid_kind *k, const char *ns,
		      const char *name, bool v3_name, bool skip_missing)
{
	_cleanup_free_ char *stored = v3_name && ctl_is_policy_kind(k->kind) ? ctl_policy_stored_name(name)
									 : strdup(name);
	_cleanup_free_ char *path = NULL;
	struct kapi_resource res;
	int r;

	resource_of(k, &res);
	path = stored ? kapi_path(&res, ns_of(k, ns), stored, NULL) : NULL;
	if (!path)
		return ctl_oom();
	r = kapi_delete(c->k, path, NULL, NULL);
	if (r == -ENOENT && skip_missing)
		return 0;
	if (r == -ENOENT)
		return log_error_errno(r, "%s '%s' does not exist", k->kind, name);
	if (r < 0)
		return log_error_errno(r, "Failed to delete %s '%s': %s%s%m", k->kind, name,
				       kapi_last_error(c->k), *kapi_last_error(c->k) ? ": " : "");
	printf("%s '%s' deleted\n", k->kind, name);
	return 1;
}

int ctl_cmd_delete(struct ctl *c, int argc, char **argv)
{
	_cleanup_(json_decrefp) json_t *objs = NULL;
	bool skip = false;
	const char *ns = NULL;
	const char *file = file_option(argc, argv, &skip, &ns);
	const struct crdvalid_kind *k = NULL;
	int failed = 0, n = 0, r;
	size_t i;
	json_t *o;

	if (file && optind == argc) {
		if (load(file, &objs) < 0)
			return 1;
		json_array_foreach(objs, i, o) {
			if (!crdvalid_kind_lookup(json_string_value(json_object_get(o, "kind"))) ||
			    !kapi_obj_name(o))
				return log_error_errno(-EINVAL, "%s: object %zu is not a named "
								"object of ours",
						       file, i + 1),
				       1;
		}
	} else if (!file && argc - optind >= 2) {
		k = kind_or_complain(argv[optind]);
		if (!k)
			return 2;
	} else {
		return log_error_errno(-EINVAL, "delete -f FILE | delete KIND NAME... [-n NS] "
						"[--skip-not-exists]"),
		       2;
	}
	if (ctl_connect(c) < 0)
		return 1;
	if (objs)
		json_array_foreach(objs, i, o) {
			r = delete_one(c, crdvalid_kind_lookup(json_string_value(
						  json_object_get(o, "kind"))),
				       kapi_obj_namespace(o), kapi_obj_name(o), false, skip);
			failed += r < 0;
			n += r > 0;
		}
	else
		for (int a = optind + 1; a < argc; a++) {
			r = delete_one(c, k, ns, argv[a], true, skip);
			failed += r < 0;
			n += r > 0;
		}
	printf("Successfully deleted %d resource(s)\n", n);
	return failed ? 1 : 0;
}
