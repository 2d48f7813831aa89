/* Calico's node file and cluster objects (see calicodata.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "cleanup.h"
#include "felix-c/calicodata.h"
#include "kapi.h"
#include "prefix.h"

static const struct kapi_resource kccs = { "crd.projectcalico.org/v1",
					   "kubecontrollersconfigurations",
					   "KubeControllersConfiguration", false };

static int ensure(struct kapi *k, const struct kapi_resource *res, json_t *obj)
{
	_cleanup_(json_decrefp) json_t *o = obj;
	_cleanup_free_ char *path = kapi_path(res, NULL, NULL, NULL);
	int r;

	if (!o || !path)
		return -ENOMEM;
	r = kapi_create(k, path, o, NULL);
	return r == -EEXIST ? 0 : r;
}

int calicodata_ensure_defaults(struct kapi *k, const char **ret_what)
{
	int r;

	/* Calico's default tier: order 1000000, unmatched traffic denied. */
	r = ensure(k, &kapi_tiers,
		   json_pack("{s:s,s:s,s:{s:s},s:{s:i,s:s}}", "apiVersion", kapi_tiers.api_version,
			     "kind", kapi_tiers.kind, "metadata", "name", "default", "spec", "order",
			     1000000, "defaultAction", "Deny"));
	if (r < 0) {
		*ret_what = "Tier 'default'";
		return r;
	}
	/* kube-controllers' own defaults (calico-c runs none; IPAM GC and
	 * LoadBalancer IPAM are felix-c's, IPAMGCGrace, lbipam.h). */
	r = ensure(k, &kccs,
		   json_pack("{s:s,s:s,s:{s:s},s:{s:{s:{s:s,s:s,s:s},s:{s:s},s:{s:s},"
			     "s:{s:s},s:{s:s},s:{s:s}},s:s,s:s,s:s}}",
			     "apiVersion", kccs.api_version, "kind", kccs.kind, "metadata", "name",
			     "default", "spec", "controllers", "node", "reconcilerPeriod", "5m",
			     "leakGracePeriod", "15m", "syncLabels", "Enabled", "policy",
			     "reconcilerPeriod", "5m", "workloadEndpoint", "reconcilerPeriod", "5m",
			     "serviceAccount", "reconcilerPeriod", "5m", "namespace",
			     "reconcilerPeriod", "5m", "loadBalancer", "assignIPs", "AllServices",
			     "etcdV3CompactionPeriod", "10m",
			     "healthChecks", "Enabled", "logSeverityScreen", "Info"));
	if (r < 0)
		*ret_what = "KubeControllersConfiguration 'default'";
	return r;
}

json_t *calicodata_cluster_info_new(const char *guid, const char *calico_version)
{
	return json_pack("{s:s,s:s,s:{s:s,s:{s:s}},s:{s:s,s:s,s:s,s:b}}", "apiVersion",
			 "crd.projectcalico.org/v1", "kind", "ClusterInformation", "metadata",
			 "name", "default", "annotations", CALICODATA_IDENTITY_ANNOTATION,
			 CALICODATA_IDENTITY, "spec", "clusterGUID", guid, "calicoVersion",
			 calico_version, "clusterType", CALICODATA_CLUSTER_TYPE, "datastoreReady", 1);
}

static bool str_is(const json_t *v, const char *want)
{
	return json_is_string(v) && strcmp(json_string_value(v), want) == 0;
}

json_t *calicodata_cluster_info_patch(const json_t *cur, const char *calico_version)
{
	const json_t *spec = json_object_get(cur, "spec");
	const json_t *ann = json_object_get(json_object_get(cur, "metadata"), "annotations");

	if (str_is(json_object_get(spec, "calicoVersion"), calico_version) &&
	    json_string_length(json_object_get(spec, "clusterType")) > 0 &&
	    json_is_true(json_object_get(spec, "datastoreReady")) &&
	    str_is(json_object_get(ann, CALICODATA_IDENTITY_ANNOTATION), CALICODATA_IDENTITY))
		return NULL;
	/* clusterType is kept when set (Calico's installers write their own). */
	return json_pack("{s:{s:{s:s}},s:{s:s,s:s,s:b}}", "metadata", "annotations",
			 CALICODATA_IDENTITY_ANNOTATION, CALICODATA_IDENTITY, "spec",
			 "calicoVersion", calico_version, "clusterType",
			 json_string_length(json_object_get(spec, "clusterType")) > 0 ?
				 json_string_value(json_object_get(spec, "clusterType")) :
				 CALICODATA_CLUSTER_TYPE,
			 "datastoreReady", 1);
}

json_t *calicodata_default_pool(const char *cidr, unsigned block_size, bool nat_outgoing)
{
	struct in_prefix p;

	if (prefix_parse(cidr, PREFIX_REJECT_HOST, &p) < 0)
		return NULL;
	return json_pack("{s:s,s:s,s:{s:s},s:{s:s,s:i,s:s,s:s,s:b,s:s}}", "apiVersion",
			 "crd.projectcalico.org/v1", "kind", "IPPool", "metadata", "name",
			 p.family == AF_INET ? "default-ipv4-ippool" : "default-ipv6-ippool", "spec",
			 "cidr", cidr, "blockSize", (int)block_size, "ipipMode", "Never", "vxlanMode",
			 "Never", "natOutgoing", nat_outgoing, "nodeSelector", "all()");
}

void calicodata_pool_families(const json_t *items, bool *ret_v4, bool *ret_v6)
{
	const json_t *pool;
	size_t i;

	*ret_v4 = *ret_v6 = false;
	json_array_foreach(items, i, pool) {
		const char *cidr = json_string_value(
			json_object_get(json_object_get(pool, "spec"), "cidr"));
		struct in_prefix p;

		if (prefix_parse(cidr, PREFIX_CLEAR_HOST, &p) < 0)
			continue;
		if (p.family == AF_INET)
			*ret_v4 = true;
		else
			*ret_v6 = true;
	}
}

int calicodata_random_ula48(char *buf, size_t size)
{
	struct in_prefix p = { .family = AF_INET6, .len = 48, .addr = { 0xfd } };

	if (getrandom(p.addr + 1, 5, 0) != 5)
		return -errno;
	return prefix_format(&p, false, buf, size);
}
