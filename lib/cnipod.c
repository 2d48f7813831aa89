/* The CNI plugin's pod calls over lib/kapi, for calico-c-direct
 * (cni-plugin/k8s.c) and for felix-c serving calico-c (cnipod_serve()).
 * Every call is a single request: a GET of the pod while IPAM runs, one
 * merge PATCH after wiring (felix-c reads the pod from the watch cache before
 * it, since any root client may send the PATCH alone). Only pods scheduled
 * to this node are touched.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cleanup.h"
#include "cnipod.h"
#include "kapi.h"
#include "log.h"
#include "prefix.h"

static int error_code(int r)
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

static int api_fail(struct kapi *k, struct cni_error *err, int r, const char *what,
		    const char *ns, const char *name)
{
	const char *why = kapi_last_error(k);

	return cni_error_set(err, error_code(r), r, "%s '%s/%s': %s%s%s", what, ns, name,
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

/* GET the pod; @cached: see kapi_get_cached(). */
static int get_pod(struct kapi *k, const char *ns, const char *name, bool cached, json_t **ret)
{
	_cleanup_free_ char *path = kapi_path(&kapi_pods, ns, name, NULL);
	double t = now_ms();

	if (!path)
		return -ENOMEM;
	return timed(cached ? kapi_get_cached(k, path, ret) : kapi_get(k, path, ret), "GET", path,
		     t);
}

/* A node wires and annotates only the pods scheduled to it: CNI_ARGS
 * naming another node's pod must not touch that pod. */
int cnipod_read(struct kapi *k, const char *node, const char *ns, const char *pod,
		    struct cni_error *err)
{
	_cleanup_(json_decrefp) json_t *p = NULL;
	int r;

	/* The runtime calls us for a pod its kubelet learnt of through the
	 * watch cache: it is there. */
	r = get_pod(k, ns, pod, true, &p);
	if (r < 0)
		return api_fail(k, err, r, "cannot read pod", ns, pod);
	if (!kapi_pod_is_on_node(p, node))
		return cni_error_set(err, CNI_ERR_INVALID_ENV, -EPERM,
				     "pod '%s/%s' is scheduled to node '%s', not to this node '%s'",
				     ns, pod, kapi_pod_node_name(p) ?: "", node);
	return 0;
}

/* @patch: borrowed; NULL (a failed json_pack) is -ENOMEM. */
static int patch_pod(struct kapi *k, const char *ns, const char *pod, enum kapi_patch_type type,
		     json_t *patch)
{
	_cleanup_(json_decrefp) json_t *out = NULL;
	_cleanup_free_ char *path = kapi_path(&kapi_pods, ns, pod, NULL);
	double t = now_ms();

	if (!patch || !path)
		return -ENOMEM;
	return timed(kapi_patch(k, path, type, patch, &out), "PATCH", path, t);
}

static int patch_annotations(struct kapi *k, const char *ns, const char *pod, json_t *ann)
{
	_cleanup_(json_decrefp) json_t *patch = json_pack("{s:{s:o}}", "metadata", "annotations", ann);

	return patch_pod(k, ns, pod, KAPI_PATCH_MERGE, patch);
}

int cnipod_annotate(struct kapi *k, const char *ns, const char *pod,
			const char *container_id, const struct in_prefix *v4,
			const struct in_prefix *v6, struct cni_error *err)
{
	char a4[64] = "", a6[64] = "", both[130];
	json_t *ann;
	int r;

	if (v4)
		(void)prefix_format(v4, false, a4, sizeof(a4));
	if (v6)
		(void)prefix_format(v6, false, a6, sizeof(a6));
	snprintf(both, sizeof(both), "%s%s%s", a4, (v4 && v6) ? "," : "", a6);
	ann = json_pack("{s:s,s:s,s:s}", CNIPOD_ANN_PODIP, v4 ? a4 : a6, CNIPOD_ANN_PODIPS, both,
			CNIPOD_ANN_CONTAINERID, container_id);
	if (!ann)
		return -ENOMEM;
	r = patch_annotations(k, ns, pod, ann);
	if (r < 0)
		return api_fail(k, err, r, "cannot annotate pod", ns, pod);
	return 0;
}

int cnipod_owned_by(struct kapi *k, const char *node, const char *ns, const char *pod,
			const char *container_id)
{
	_cleanup_(json_decrefp) json_t *p = NULL;
	const char *id;
	int r;

	/* Consistent: an annotation written a moment ago must be seen. */
	r = get_pod(k, ns, pod, false, &p);
	if (r < 0)
		return r;
	id = kapi_obj_annotation(p, CNIPOD_ANN_CONTAINERID);
	return kapi_pod_is_on_node(p, node) && id && strcmp(id, container_id) == 0;
}

/* One request in the common case: a JSON patch that tests the pod's node
 * and containerID annotation and removes the three, atomically. */
static int clear_if_owned(struct kapi *k, const char *node, const char *ns, const char *pod,
			  const char *container_id)
{
#define ANN_PATH(a) "/metadata/annotations/cni.projectcalico.org~1" a
	_cleanup_(json_decrefp) json_t *patch = json_pack(
		"[{s:s,s:s,s:s},{s:s,s:s,s:s},{s:s,s:s},{s:s,s:s},{s:s,s:s}]", "op", "test", "path",
		"/spec/nodeName", "value", node, "op", "test", "path",
		ANN_PATH("containerID"), "value", container_id, "op", "remove", "path",
		ANN_PATH("podIP"), "op", "remove", "path", ANN_PATH("podIPs"), "op", "remove",
		"path", ANN_PATH("containerID"));
#undef ANN_PATH

	return patch_pod(k, ns, pod, KAPI_PATCH_JSON, patch);
}

int cnipod_clear(struct kapi *k, const char *node, const char *ns, const char *pod,
		     const char *container_id)
{
	json_t *ann;
	int r;

	r = clear_if_owned(k, node, ns, pod, container_id);
	if (r >= 0)
		return 1;
	if (r == -ENOENT)
		return 0;
	if (r != -EINVAL)
		return r;
	/* Refused: another sandbox or node owns the pod now, or an annotation
	 * is missing. */
	r = cnipod_owned_by(k, node, ns, pod, container_id);
	if (r == -ENOENT || r == 0)
		return 0;
	if (r < 0)
		return r;
	/* null in a merge patch removes the key. */
	ann = json_pack("{s:n,s:n,s:n}", CNIPOD_ANN_PODIP, CNIPOD_ANN_PODIPS, CNIPOD_ANN_CONTAINERID);
	if (!ann)
		return -ENOMEM;
	r = patch_annotations(k, ns, pod, ann);
	return r == -ENOENT ? 0 : (r < 0 ? r : 1);
}

int cnipod_ping(struct kapi *k, struct cni_error *err)
{
	_cleanup_(json_decrefp) json_t *v = NULL;
	int r = kapi_get(k, "/version", &v);

	if (r < 0)
		return cni_error_set(err, CNI_ERR_NOT_AVAILABLE, r,
				     "datastore (kube-apiserver) not usable: %s%s%s", strerror(-r),
				     *kapi_last_error(k) ? ": " : "", kapi_last_error(k));
	return 0;
}

/* ---- felix-c's side of cni-plugin/k8s_felix.c ---- */

/* "podIP" / "podIPv6" of @req, when present; -EINVAL when malformed. */
static int req_prefix(const json_t *req, const char *key, struct in_prefix *buf,
		      const struct in_prefix **ret)
{
	const char *s = json_string_value(json_object_get(req, key));

	*ret = NULL;
	if (!s)
		return 0;
	if (prefix_parse(s, 0, buf) < 0)
		return -EINVAL;
	*ret = buf;
	return 0;
}

/* An op of @req, or -EINVAL with @err set when it cannot be served here:
 * malformed, or for another node than @node (each node's felix-c serves
 * its own pods only). */
static int serve_check(const json_t *req, const char *node, struct cni_error *err)
{
	const char *op = json_string_value(json_object_get(req, "op"));
	const char *want = json_string_value(json_object_get(req, "node"));
	bool is_pod = op && strcmp(op, "ping") != 0;
	bool needs_cid = op && (!strcmp(op, "pod-annotate") || !strcmp(op, "pod-clear") ||
				!strcmp(op, "pod-owned-by"));

	if (!op || (is_pod && (!json_is_string(json_object_get(req, "namespace")) ||
			       !json_is_string(json_object_get(req, "pod")))) ||
	    (needs_cid && !json_is_string(json_object_get(req, "containerID"))))
		return cni_error_set(err, CNI_ERR_DECODE, -EINVAL, "malformed request");
	if (want && strcmp(want, node) != 0)
		return cni_error_set(err, CNI_ERR_INVALID_CONFIG, -EPERM,
				     "felix-c serves node '%s' only, not node '%s'", node, want);
	return 0;
}

json_t *cnipod_serve(struct kapi *k, const char *node, const json_t *req)
{
	const char *op = json_string_value(json_object_get(req, "op"));
	const char *ns = json_string_value(json_object_get(req, "namespace"));
	const char *pod = json_string_value(json_object_get(req, "pod"));
	const char *cid = json_string_value(json_object_get(req, "containerID"));
	struct in_prefix b4, b6;
	const struct in_prefix *v4, *v6;
	struct cni_error err = {};
	int r;

	r = serve_check(req, node, &err);
	if (r < 0) {
		/* err set */
	} else if (!strcmp(op, "ping")) {
		r = cnipod_ping(k, &err);
	} else if (!strcmp(op, "pod-read")) {
		r = cnipod_read(k, node, ns, pod, &err);
	} else if (!strcmp(op, "pod-annotate")) {
		r = req_prefix(req, "podIP", &b4, &v4);
		if (r >= 0)
			r = req_prefix(req, "podIPv6", &b6, &v6);
		if (r < 0 || (!v4 && !v6))
			r = cni_error_set(&err, CNI_ERR_DECODE, -EINVAL, "malformed pod addresses");
		else if ((r = cnipod_read(k, node, ns, pod, &err)) >= 0)
			r = cnipod_annotate(k, ns, pod, cid, v4, v6, &err);
	} else if (!strcmp(op, "pod-clear")) {
		return json_pack("{sisi}", "code", 0, "result", cnipod_clear(k, node, ns, pod, cid));
	} else if (!strcmp(op, "pod-owned-by")) {
		return json_pack("{sisi}", "code", 0, "result",
				 cnipod_owned_by(k, node, ns, pod, cid));
	} else {
		r = cni_error_set(&err, CNI_ERR_DECODE, -EINVAL, "unknown op '%s'", op);
	}
	if (r < 0)
		return cni_error_to_json(&err, NULL);
	return json_pack("{si}", "code", 0);
}
