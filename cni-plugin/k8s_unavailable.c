/* Used only while lib/kapi.c (the API client, another component) is not in
 * the tree: every Kubernetes call fails with a clear error, so non-Kubernetes
 * callers (ctr, tests with host-local) work and Kubernetes ones fail loudly.
 * cni-plugin/module.mk picks k8s.c as soon as lib/kapi.c exists.
 */
#include <errno.h>

#include "k8s.h"

int k8s_error_code(int r)
{
	(void)r;
	return CNI_ERR_DATASTORE;
}

int k8s_client_new(const char *kubeconfig, struct kapi **ret, struct cni_error *err)
{
	(void)ret;
	return cni_error_set(err, CNI_ERR_DATASTORE, -EOPNOTSUPP,
			     "built without the Kubernetes API client: cannot use '%s'", kubeconfig);
}

struct kapi *k8s_client_free(struct kapi *k)
{
	(void)k;
	return NULL;
}

int k8s_pool_annotations(struct kapi *k, const char *ns, const char *pod, json_t **ret_v4,
			 json_t **ret_v6, struct cni_error *err)
{
	(void)k, (void)ns, (void)pod, (void)ret_v4, (void)ret_v6;
	return cni_error_set(err, CNI_ERR_DATASTORE, -EOPNOTSUPP, "no API client");
}

int k8s_annotate_pod(struct kapi *k, const char *ns, const char *pod, const char *container_id,
		     const struct cni_prefix *v4, const struct cni_prefix *v6,
		     struct cni_error *err)
{
	(void)k, (void)ns, (void)pod, (void)container_id, (void)v4, (void)v6;
	return cni_error_set(err, CNI_ERR_DATASTORE, -EOPNOTSUPP, "no API client");
}

int k8s_clear_pod(struct kapi *k, const char *ns, const char *pod, const char *container_id)
{
	(void)k, (void)ns, (void)pod, (void)container_id;
	return -EOPNOTSUPP;
}

int k8s_pod_owned_by(struct kapi *k, const char *ns, const char *pod, const char *container_id)
{
	(void)k, (void)ns, (void)pod, (void)container_id;
	return -EOPNOTSUPP;
}

int k8s_ping(struct kapi *k, struct cni_error *err)
{
	(void)k;
	return cni_error_set(err, CNI_ERR_NOT_AVAILABLE, -EOPNOTSUPP, "no API client");
}
