/* Pod annotations over lib/kapi. Every call is a single request: a GET of the
 * pod while IPAM runs, one merge PATCH after wiring. Timeouts are short
 * because the runtime waits on us.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "cleanup.h"
#include "k8s.h"
#include "kapi.h"
#include "log.h"
#include "tlscache.h"

#define K8S_REQUEST_MS 5000
#define K8S_CONNECT_MS 2000

static void json_unrefp(json_t **j)
{
	json_decref(*j);
	*j = NULL;
}

DEFINE_CLEANUP_FUNC(struct kapi_config, kapi_config_free)
DEFINE_CLEANUP_FUNC(struct kapi, kapi_free)

int k8s_error_code(int r)
{
	switch (r) {
	case -ECONNREFUSED:
	case -ETIMEDOUT:
	case -EBUSY:
	case -EIO:
		return CNI_ERR_TRY_AGAIN;
	default:
		return CNI_ERR_DATASTORE;
	}
}

struct kapi *k8s_client_free(struct kapi *k)
{
	return kapi_free(k);
}

int k8s_client_new(const char *kubeconfig, const char *tls_dir, struct kapi **ret,
		   struct tlscache **ret_tls, struct cni_error *err)
{
	_cleanup_(kapi_config_freep) struct kapi_config *cfg = NULL;
	struct kapi *k = NULL;
	int r;

	r = kapi_config_from_kubeconfig(kubeconfig, &cfg);
	if (r < 0)
		return cni_error_set(err, CNI_ERR_INVALID_CONFIG, r,
				     "cannot load 'kubernetes.kubeconfig' '%s': %s", kubeconfig,
				     strerror(-r));
	r = kapi_new(cfg, &k);
	if (r < 0)
		return cni_error_set(err, CNI_ERR_DATASTORE, r, "cannot create API client: %s",
				     strerror(-r));
	kapi_set_timeouts(k, K8S_REQUEST_MS, K8S_CONNECT_MS);
	r = tlscache_attach(k, cfg, tls_dir, ret_tls);
	if (r < 0) {
		kapi_free(k);
		return cni_error_set(err, CNI_ERR_PLUGIN, r, "out of memory");
	}
	*ret = k;
	return 0;
}

static int api_fail(struct kapi *k, struct cni_error *err, int r, const char *what,
		    const char *ns, const char *name)
{
	const char *why = kapi_last_error(k);

	return cni_error_set(err, k8s_error_code(r), r, "%s '%s/%s': %s%s%s", what, ns, name,
			     strerror(-r), *why ? ": " : "", why);
}

static double now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Each request's duration at debug: the first one carries TCP and TLS. */
static int timed(int r, const char *method, const char *path, double since)
{
	log_debug("%s %s: %d in %.3f ms", method, path, r, now_ms() - since);
	return r;
}

static int get_object(struct kapi *k, const struct kapi_resource *res, const char *ns,
		      const char *name, json_t **ret)
{
	_cleanup_free_ char *path = kapi_path(res, ns, name, NULL);
	double t = now_ms();

	if (!path)
		return -ENOMEM;
	return timed(kapi_get(k, path, ret), "GET", path, t);
}

int k8s_read_pod(struct kapi *k, const char *ns, const char *pod, struct cni_error *err)
{
	_cleanup_(json_unrefp) json_t *p = NULL;
	int r;

	r = get_object(k, &kapi_pods, ns, pod, &p);
	if (r < 0)
		return api_fail(k, err, r, "cannot read pod", ns, pod);
	return 0;
}

static int patch_annotations(struct kapi *k, const char *ns, const char *pod, json_t *ann)
{
	_cleanup_(json_unrefp) json_t *patch = json_pack("{s:{s:o}}", "metadata", "annotations", ann);
	_cleanup_(json_unrefp) json_t *out = NULL;
	_cleanup_free_ char *path = kapi_path(&kapi_pods, ns, pod, NULL);

	double t = now_ms();

	if (!patch || !path)
		return -ENOMEM;
	return timed(kapi_patch(k, path, KAPI_PATCH_MERGE, patch, &out), "PATCH", path, t);
}

int k8s_annotate_pod(struct kapi *k, const char *ns, const char *pod, const char *container_id,
		     const struct cni_prefix *v4, const struct cni_prefix *v6,
		     struct cni_error *err)
{
	char a4[64] = "", a6[64] = "", both[130];
	json_t *ann;
	int r;

	if (v4)
		(void)cni_prefix_format(v4, false, a4, sizeof(a4));
	if (v6)
		(void)cni_prefix_format(v6, false, a6, sizeof(a6));
	snprintf(both, sizeof(both), "%s%s%s", a4, (v4 && v6) ? "," : "", a6);
	ann = json_pack("{s:s,s:s,s:s}", K8S_ANN_PODIP, v4 ? a4 : a6, K8S_ANN_PODIPS, both,
			K8S_ANN_CONTAINERID, container_id);
	if (!ann)
		return -ENOMEM;
	r = patch_annotations(k, ns, pod, ann);
	if (r < 0)
		return api_fail(k, err, r, "cannot annotate pod", ns, pod);
	return 0;
}

int k8s_pod_owned_by(struct kapi *k, const char *ns, const char *pod, const char *container_id)
{
	_cleanup_(json_unrefp) json_t *p = NULL;
	const char *id;
	int r;

	r = get_object(k, &kapi_pods, ns, pod, &p);
	if (r < 0)
		return r;
	id = kapi_obj_annotation(p, K8S_ANN_CONTAINERID);
	return id && strcmp(id, container_id) == 0;
}

/* One request in the common case: a JSON patch that tests the containerID
 * annotation and removes the three, atomically. */
static int clear_if_owned(struct kapi *k, const char *ns, const char *pod,
			  const char *container_id)
{
#define ANN_PATH(a) "/metadata/annotations/cni.projectcalico.org~1" a
	_cleanup_(json_unrefp) json_t *patch = json_pack(
		"[{s:s,s:s,s:s},{s:s,s:s},{s:s,s:s},{s:s,s:s}]", "op", "test", "path",
		ANN_PATH("containerID"), "value", container_id, "op", "remove", "path",
		ANN_PATH("podIP"), "op", "remove", "path", ANN_PATH("podIPs"), "op", "remove",
		"path", ANN_PATH("containerID"));
#undef ANN_PATH
	_cleanup_(json_unrefp) json_t *out = NULL;
	_cleanup_free_ char *path = kapi_path(&kapi_pods, ns, pod, NULL);
	double t = now_ms();

	if (!patch || !path)
		return -ENOMEM;
	return timed(kapi_patch(k, path, KAPI_PATCH_JSON, patch, &out), "PATCH", path, t);
}

int k8s_clear_pod(struct kapi *k, const char *ns, const char *pod, const char *container_id)
{
	json_t *ann;
	int r;

	r = clear_if_owned(k, ns, pod, container_id);
	if (r >= 0)
		return 1;
	if (r == -ENOENT)
		return 0;
	if (r != -EINVAL)
		return r;
	/* Refused: another sandbox owns the pod now, or an annotation is missing. */
	r = k8s_pod_owned_by(k, ns, pod, container_id);
	if (r == -ENOENT || r == 0)
		return 0;
	if (r < 0)
		return r;
	/* null in a merge patch removes the key. */
	ann = json_pack("{s:n,s:n,s:n}", K8S_ANN_PODIP, K8S_ANN_PODIPS, K8S_ANN_CONTAINERID);
	if (!ann)
		return -ENOMEM;
	r = patch_annotations(k, ns, pod, ann);
	return r == -ENOENT ? 0 : (r < 0 ? r : 1);
}

int k8s_ping(struct kapi *k, struct cni_error *err)
{
	_cleanup_(json_unrefp) json_t *v = NULL;
	int r = kapi_get(k, "/version", &v);

	if (r < 0)
		return cni_error_set(err, CNI_ERR_NOT_AVAILABLE, r,
				     "datastore (kube-apiserver) not usable: %s%s%s", strerror(-r),
				     *kapi_last_error(k) ? ": " : "", kapi_last_error(k));
	return 0;
}
