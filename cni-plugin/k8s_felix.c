/* The calls of k8s.h through felix-c's CNI service (lib/cnisock.h): each is
 * one exchange on the node-local socket, run by felix-c with cnipod_serve() on
 * its warm apiserver connection. calico-c links this; calico-c-direct links
 * k8s.c and talks to the apiserver itself.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "cnisock.h"
#include "conf.h"
#include "k8s.h"

struct k8s {
	const char *path; /* borrowed from the config */
	const char *node; /* this node, borrowed; felix-c refuses another */
	int annotate_fd;  /* k8s_annotate_start()'s exchange, -1: none */
};

const char *k8s_fallback(const json_t *cfg)
{
	const char *path = cnisock_path(cfg);

	if (!json_object_get(json_object_get(cfg, "kubernetes"), "kubeconfig"))
		return NULL; /* no Kubernetes: nothing to hand over */
	return *path && cnisock_up(path) ? NULL : "calico-c-direct";
}

int k8s_open(const struct plugin_conf *conf, const char *node, struct k8s **ret,
	     struct cni_error *err)
{
	struct k8s *k = calloc(1, sizeof(*k));

	if (!k)
		return cni_error_set(err, CNI_ERR_PLUGIN, -ENOMEM, "out of memory");
	k->path = conf->felix_socket;
	k->node = node;
	k->annotate_fd = -1;
	*ret = k;
	return 0;
}

struct k8s *k8s_close(struct k8s *k)
{
	if (k)
		safe_close(k->annotate_fd);
	free(k);
	return NULL;
}

/* Sends @req (taken); -EHOSTDOWN (felix-c went away since k8s_fallback())
 * is reported as a transient failure: the runtime retries. Return: the
 * connection to read the answer from, or -errno with @err set. */
static int send_req(struct k8s *k, json_t *req, struct cni_error *err)
{
	_cleanup_(json_decrefp) json_t *owned = req;
	int fd;

	if (!req)
		return cni_error_set(err, CNI_ERR_PLUGIN, -ENOMEM, "out of memory");
	fd = cnisock_send(k->path, req, err);
	if (fd == -EHOSTDOWN)
		return cni_error_set(err, CNI_ERR_TRY_AGAIN, fd, "felix-c at '%s' stopped answering",
				     k->path);
	return fd;
}

/* One exchange. */
static int call(struct k8s *k, json_t *req, json_t **ret, struct cni_error *err)
{
	json_t *answer = NULL;
	int fd = send_req(k, req, err), r;

	if (fd < 0)
		return fd;
	r = cnisock_receive(fd, k->path, &answer, err);
	if (r < 0)
		return r;
	if (ret)
		*ret = answer;
	else
		json_decref(answer);
	return 0;
}

static json_t *pod_req(struct k8s *k, const char *op, const char *ns, const char *pod,
		       const char *cid)
{
	return json_pack("{ss ss ss ss ss*}", "op", op, "node", k->node, "namespace", ns, "pod",
			 pod, "containerID", cid);
}

int k8s_read_pod(struct k8s *k, const char *ns, const char *pod, struct cni_error *err)
{
	return call(k, pod_req(k, "pod-read", ns, pod, NULL), NULL, err);
}

int k8s_annotate_start(struct k8s *k, const char *ns, const char *pod, const char *container_id,
		       const struct in_prefix *v4, const struct in_prefix *v6,
		       struct cni_error *err)
{
	json_t *req = pod_req(k, "pod-annotate", ns, pod, container_id);
	char a[64];
	int fd;

	if (req && v4 && prefix_format(v4, false, a, sizeof(a)) >= 0)
		json_object_set_new(req, "podIP", json_string(a));
	if (req && v6 && prefix_format(v6, false, a, sizeof(a)) >= 0)
		json_object_set_new(req, "podIPv6", json_string(a));
	fd = send_req(k, req, err);
	if (fd < 0)
		return fd;
	safe_close(k->annotate_fd);
	k->annotate_fd = fd;
	return 0;
}

int k8s_annotate_finish(struct k8s *k, struct cni_error *err)
{
	json_t *answer = NULL;
	int fd = TAKE_FD(k->annotate_fd), r;

	if (fd < 0)
		return cni_error_set(err, CNI_ERR_PLUGIN, -EINVAL, "no annotation in progress");
	r = cnisock_receive(fd, k->path, &answer, err);
	json_decref(answer);
	return r;
}

/* The "result" of an op that answers a number (-errno on failure). */
static int call_result(struct k8s *k, const char *op, const char *ns, const char *pod,
		       const char *cid)
{
	_cleanup_(json_decrefp) json_t *answer = NULL;
	struct cni_error err = {};
	int r;

	r = call(k, pod_req(k, op, ns, pod, cid), &answer, &err);
	if (r < 0)
		return -EAGAIN;
	return (int)json_integer_value(json_object_get(answer, "result"));
}

int k8s_clear_pod(struct k8s *k, const char *ns, const char *pod, const char *container_id)
{
	return call_result(k, "pod-clear", ns, pod, container_id);
}

int k8s_pod_owned_by(struct k8s *k, const char *ns, const char *pod, const char *container_id)
{
	return call_result(k, "pod-owned-by", ns, pod, container_id);
}

int k8s_ping(struct k8s *k, struct cni_error *err)
{
	int r = call(k, json_pack("{ss}", "op", "ping"), NULL, err);

	if (r < 0 && err->code != CNI_ERR_NOT_AVAILABLE) {
		char msg[sizeof(err->msg)];

		snprintf(msg, sizeof(msg), "%s", err->msg);
		return cni_error_set(err, CNI_ERR_NOT_AVAILABLE, r, "%s", msg);
	}
	return r;
}
