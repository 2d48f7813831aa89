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
 *     ignores.
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
