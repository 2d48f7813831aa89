/* The CNI plugin's Kubernetes calls on a pod, over an API client (see
 * cnipod.c): that the pod exists and is this node's, the pod IP annotations
 * after wiring (cni.projectcalico.org/podIP, podIPs, containerID) and their
 * removal. Used by cni-plugin/k8s.c (calico-c-direct) and by felix-c's CNI
 * service, which answers calico-c's requests with cnipod_serve().
 */
#pragma once

#include <jansson.h>

#include "cni.h"

struct in_prefix;
struct kapi;

#define CNIPOD_ANN_PODIP "cni.projectcalico.org/podIP"
#define CNIPOD_ANN_PODIPS "cni.projectcalico.org/podIPs"
#define CNIPOD_ANN_CONTAINERID "cni.projectcalico.org/containerID"

/* GET the pod (from the watch cache): it must be readable for ADD (it is
 * annotated afterwards) and scheduled to @node. err: 11 when the apiserver
 * is unreachable, 4 for a pod of another node, 101 otherwise. */
int cnipod_read(struct kapi *k, const char *node, const char *ns, const char *pod,
		struct cni_error *err);

/* Record the pod's addresses (@v4/@v6 may be NULL, not both) and container
 * id in one merge PATCH. */
int cnipod_annotate(struct kapi *k, const char *ns, const char *pod, const char *container_id,
		    const struct in_prefix *v4, const struct in_prefix *v6, struct cni_error *err);

/* Remove those annotations if they still name @container_id (DEL) and the
 * pod is @node's. Return: 1 removed, 0 nothing to do (pod gone, another
 * sandbox or node), -errno. */
int cnipod_clear(struct kapi *k, const char *node, const char *ns, const char *pod,
		 const char *container_id);

/* 1 when the pod is @node's and its containerID annotation is
 * @container_id, 0 when not, -errno. */
int cnipod_owned_by(struct kapi *k, const char *node, const char *ns, const char *pod,
		    const char *container_id);

/* Reachability probe for STATUS. err: 50 with the reason. */
int cnipod_ping(struct kapi *k, struct cni_error *err);

/* felix-c's side of cni-plugin/k8s_felix.c: run the request @req (the calls
 * above, as k8s_felix.c sends them) with the client @k for felix-c's node
 * @node. A request naming another node, or a pod not scheduled to @node, is
 * refused. Return: the answer (new reference), NULL when out of memory. */
json_t *cnipod_serve(struct kapi *k, const char *node, const json_t *req);
