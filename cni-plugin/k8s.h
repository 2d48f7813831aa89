/* What the CNI plugin asks of the Kubernetes API: that the pod exists, and
 * the pod IP annotations after wiring (cni.projectcalico.org/podIP, podIPs,
 * containerID). The pool annotations (ipv4pools, ipv6pools) are read by
 * calico-c-ipam, which gets our stdin unchanged.
 *
 * Two implementations of this header, one per program:
 * - k8s_felix.c (calico-c): each call goes to felix-c's CNI service
 *   (lib/cnisock.h), which holds a warm apiserver connection;
 * - k8s.c (calico-c-direct): requests to the apiserver with lib/cnipod.h
 *   (which felix-c serves the first one's calls with), with the config's
 *   kubeconfig.
 */
#pragma once

#include <jansson.h>

#include "cni.h"

struct k8s;
struct plugin_conf;

/* The program this one must become to do its Kubernetes work itself, when
 * the network config @cfg uses Kubernetes and felix-c's CNI service does not
 * answer; NULL: this program can serve @cfg. */
const char *k8s_fallback(const json_t *cfg);

/* Open the client for @conf (which has a kubeconfig) on @node (borrowed:
 * it must outlive the client). err: 101 (bad kubeconfig) or 11 (transient). */
int k8s_open(const struct plugin_conf *conf, const char *node, struct k8s **ret,
	     struct cni_error *err);
struct k8s *k8s_close(struct k8s *k);

/* GET the pod: it must be readable for ADD (it is annotated afterwards)
 * and scheduled to this node. err: 11 when the apiserver is unreachable,
 * 4 for a pod of another node, 101 otherwise. */
int k8s_read_pod(struct k8s *k, const char *ns, const char *pod, struct cni_error *err);

/* Record the pod's addresses (@v4/@v6 may be NULL) and container id, in
 * two steps so that the pod is wired while the apiserver writes: _start
 * sends the request, _finish waits for its outcome. (k8s.c, with no one
 * to work for it, does the whole request in _start.) */
int k8s_annotate_start(struct k8s *k, const char *ns, const char *pod, const char *container_id,
		       const struct in_prefix *v4, const struct in_prefix *v6,
		       struct cni_error *err);
int k8s_annotate_finish(struct k8s *k, struct cni_error *err);

/* Remove those annotations if they still name @container_id (DEL) and the
 * pod is this node's. Return: 1 removed, 0 nothing to do (pod gone, another
 * sandbox or node), -errno. */
int k8s_clear_pod(struct k8s *k, const char *ns, const char *pod, const char *container_id);

/* 1 when the pod is this node's and its containerID annotation is
 * @container_id, 0 when not, -errno. */
int k8s_pod_owned_by(struct k8s *k, const char *ns, const char *pod, const char *container_id);

/* Reachability probe for STATUS. err: 50 with the reason. */
int k8s_ping(struct k8s *k, struct cni_error *err);
