/* What the CNI plugin asks of the Kubernetes API: that the pod exists, and
 * the pod IP annotations after wiring (cni.projectcalico.org/podIP, podIPs,
 * containerID). The pool annotations (ipv4pools, ipv6pools) are read by
 * calico-c-ipam, which gets our stdin unchanged.
 */
#pragma once

#include <jansson.h>

#include "cni.h"

struct kapi;
struct tlscache;

#define K8S_ANN_PODIP "cni.projectcalico.org/podIP"
#define K8S_ANN_PODIPS "cni.projectcalico.org/podIPs"
#define K8S_ANN_CONTAINERID "cni.projectcalico.org/containerID"

/* Connect with @kubeconfig, resuming TLS sessions from @tls_dir (NULL or
 * "": never); *@ret_tls is to be freed after the client. err: 101 (bad
 * kubeconfig) or 11 (transient). */
int k8s_client_new(const char *kubeconfig, const char *tls_dir, struct kapi **ret,
		   struct tlscache **ret_tls, struct cni_error *err);
struct kapi *k8s_client_free(struct kapi *k);

/* GET the pod: it must be readable for ADD (it is annotated afterwards).
 * err: 11 when the apiserver is unreachable, 101 otherwise. */
int k8s_read_pod(struct kapi *k, const char *ns, const char *pod, struct cni_error *err);

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
