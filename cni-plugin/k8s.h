/* What the CNI plugin asks of the Kubernetes API: the pod's (or its
 * namespace's) IP pool annotations before IPAM, and the pod IP annotations
 * after wiring (cni.projectcalico.org/podIP, podIPs, containerID).
 */
#pragma once

#include <jansson.h>

#include "cni.h"

struct kapi;

#define K8S_ANN_PODIP "cni.projectcalico.org/podIP"
#define K8S_ANN_PODIPS "cni.projectcalico.org/podIPs"
#define K8S_ANN_CONTAINERID "cni.projectcalico.org/containerID"
#define K8S_ANN_V4POOLS "cni.projectcalico.org/ipv4pools"
#define K8S_ANN_V6POOLS "cni.projectcalico.org/ipv6pools"

/* Connect with @kubeconfig. err: 101 (bad kubeconfig) or 11 (transient). */
int k8s_client_new(const char *kubeconfig, struct kapi **ret, struct cni_error *err);
struct kapi *k8s_client_free(struct kapi *k);

/**
 * k8s_pool_annotations - the ipv4pools / ipv6pools annotation of the pod,
 *   else of its namespace, as JSON arrays of strings
 * @k: client
 * @ns: pod namespace
 * @pod: pod name
 * @ret_v4: array or NULL when not annotated (new reference)
 * @ret_v6: array or NULL when not annotated (new reference)
 * @err: 11 when the apiserver is unreachable, 101 otherwise; 7 for an
 *   annotation that is not a JSON array of strings
 *
 * Return: 0 or -errno.
 */
int k8s_pool_annotations(struct kapi *k, const char *ns, const char *pod, json_t **ret_v4,
			 json_t **ret_v6, struct cni_error *err);

/* Record the pod's addresses (@v4/@v6 may be NULL) and container id. */
int k8s_annotate_pod(struct kapi *k, const char *ns, const char *pod, const char *container_id,
		     const struct cni_prefix *v4, const struct cni_prefix *v6,
		     struct cni_error *err);

/* Remove those annotations if they still name @container_id (DEL).
 * Return: 1 removed, 0 nothing to do (pod gone or another sandbox), -errno. */
int k8s_clear_pod(struct kapi *k, const char *ns, const char *pod, const char *container_id);

/* True when the pod's containerID annotation is @container_id. */
int k8s_pod_owned_by(struct kapi *k, const char *ns, const char *pod, const char *container_id);

/* Reachability probe for STATUS. err: 50 with the reason. */
int k8s_ping(struct kapi *k, struct cni_error *err);

/* Map a kapi error to a CNI error code (11 for transient failures). */
int k8s_error_code(int r);
