/* The cluster objects Calico's own tools expect to find on a calico-c
 * cluster, written by felix-c at startup (felix-c/worker.c, which also
 * writes the node name file Calico's CNI plugin reads), so Calico's
 * calicoctl and CNI plugin work beside ours:
 *   - the cluster's Tier "default" (calicoctl apply of a Node needs it) and
 *     KubeControllersConfiguration "default" (calicoctl ipam check reads
 *     it), created with Calico's defaults when absent, never changed;
 *   - ClusterInformation "default": calicoVersion (CalicoVersion setting,
 *     the Calico release whose tools we match; calicoctl refuses to run
 *     when it differs from its own), clusterType, and calico-c's identity
 *     in the annotation CALICODATA_IDENTITY_ANNOTATION, which Calico
 *     ignores;
 *   - the default IPPools, one per family, when the cluster has no pool of
 *     that family (CALICO_IPV4POOL_* and CALICO_IPV6POOL_* settings).
 */
#pragma once

#include <stdbool.h>

#include <jansson.h>

struct kapi;

#define CALICODATA_IDENTITY_ANNOTATION "calico-c/datastore"
#define CALICODATA_IDENTITY "calico-c"
#define CALICODATA_CLUSTER_TYPE "k8s,bgp,kdd"

/* Creates Tier "default" and KubeControllersConfiguration "default" when
 * absent. On failure *ret_what names the object. */
int calicodata_ensure_defaults(struct kapi *k, const char **ret_what);

/* The ClusterInformation "default" felix-c writes: a new one (with
 * @guid), or the merge patch that brings @cur up to date (NULL when it
 * already is). */
json_t *calicodata_cluster_info_new(const char *guid, const char *calico_version);
json_t *calicodata_cluster_info_patch(const json_t *cur, const char *calico_version);

/* The default IPPool felix-c creates for @cidr's family:
 * "default-ipv4-ippool" or "default-ipv6-ippool", all nodes, no
 * encapsulation. NULL on a bad @cidr or ENOMEM. */
json_t *calicodata_default_pool(const char *cidr, unsigned block_size, bool nat_outgoing);
/* Which families the IPPools of a list's items[] cover (unparsable CIDRs
 * count for neither). */
void calicodata_pool_families(const json_t *items, bool *ret_v4, bool *ret_v6);
/* A random ULA /48 (fdXX:XXXX:XXXX::/48, RFC 4193), Calico's default IPv6
 * pool. Return: 0, -errno of getrandom(). */
int calicodata_random_ula48(char *buf, size_t size);
