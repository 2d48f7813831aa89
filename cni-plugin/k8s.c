/* k8s.h for calico-c-direct: its own API client (short timeouts, because
 * the runtime waits on us; TLS sessions resumed across plugin processes),
 * and the calls of lib/cnipod.h, which felix-c serves calico-c with too.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "cnipod.h"
#include "conf.h"
#include "k8s.h"
#include "kapi.h"
#include "tlscache.h"

#define K8S_REQUEST_MS 5000
#define K8S_CONNECT_MS 2000

struct k8s {
	struct kapi *k;
	struct tlscache *tls; /* outlives k; NULL: no TLS resumption */
	const char *node;     /* this node, borrowed */
};

const char *k8s_fallback(const json_t *cfg)
{
	(void)cfg;
	return NULL; /* this is the program that does it itself */
}

struct k8s *k8s_close(struct k8s *k)
{
	if (k) {
		kapi_free(k->k);
		tlscache_free(k->tls);
		free(k);
	}
	return NULL;
}

int k8s_open(const struct plugin_conf *conf, const char *node, struct k8s **ret,
	     struct cni_error *err)
{
	_cleanup_(kapi_config_freep) struct kapi_config *cfg = NULL;
	struct k8s *k;
	int r;

	r = kapi_config_from_kubeconfig(conf->kubeconfig, &cfg);
	if (r < 0)
		return cni_error_set(err, CNI_ERR_INVALID_CONFIG, r,
				     "cannot load 'kubernetes.kubeconfig' '%s': %s", conf->kubeconfig,
				     strerror(-r));
	k = calloc(1, sizeof(*k));
	if (!k)
		return cni_error_set(err, CNI_ERR_PLUGIN, -ENOMEM, "out of memory");
	k->node = node;
	r = kapi_new(cfg, &k->k);
	if (r < 0) {
		free(k);
		return cni_error_set(err, CNI_ERR_DATASTORE, r, "cannot create API client: %s",
				     strerror(-r));
	}
	kapi_set_timeouts(k->k, K8S_REQUEST_MS, K8S_CONNECT_MS);
	r = tlscache_attach(k->k, cfg, conf->tls_session_dir, &k->tls);
	if (r < 0) {
		k8s_close(k);
		return cni_error_set(err, CNI_ERR_PLUGIN, r, "out of memory");
	}
	*ret = k;
	return 0;
}

int k8s_read_pod(struct k8s *k, const char *ns, const char *pod, struct cni_error *err)
{
	return cnipod_read(k->k, k->node, ns, pod, err);
}

int k8s_annotate_start(struct k8s *k, const char *ns, const char *pod, const char *container_id,
		       const struct in_prefix *v4, const struct in_prefix *v6,
		       struct cni_error *err)
{
	return cnipod_annotate(k->k, ns, pod, container_id, v4, v6, err);
}

int k8s_annotate_finish(struct k8s *k, struct cni_error *err)
{
	(void)k, (void)err;
	return 0; /* done by k8s_annotate_start() */
}

int k8s_clear_pod(struct k8s *k, const char *ns, const char *pod, const char *container_id)
{
	return cnipod_clear(k->k, k->node, ns, pod, container_id);
}

int k8s_pod_owned_by(struct k8s *k, const char *ns, const char *pod, const char *container_id)
{
	return cnipod_owned_by(k->k, k->node, ns, pod, container_id);
}

int k8s_ping(struct k8s *k, struct cni_error *err)
{
	return cnipod_ping(k->k, err);
}
