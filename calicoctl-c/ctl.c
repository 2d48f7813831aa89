/* The shared context of the calicoctl-c commands (see ctl.h). Kept out of
 * main.c so that main.c has no exported symbol besides main() and the unit
 * tests can link the command files from build/calicoctl-c.a. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "calicoctl-c/ctl.h"
#include "cleanup.h"
#include "kapi.h"
#include "log.h"

/* As kubectl: --kubeconfig or KUBECONFIG, else ~/.kube/config if it
 * exists, else the pod's in-cluster config (KUBERNETES_SERVICE_HOST/PORT,
 * the service account's token and CA), so every command works inside the
 * calico-node container. */
static int ctl_config(const struct ctl *c, struct kapi_config **ret)
{
	_cleanup_free_ char *home_kc = NULL;
	const char *home = getenv("HOME");
	int r;

	if (!c->kubeconfig && home && *home && asprintf(&home_kc, "%s/.kube/config", home) < 0)
		return ctl_oom();
	if (c->kubeconfig || (home_kc && access(home_kc, F_OK) == 0)) {
		const char *path = c->kubeconfig ?: home_kc;

		r = kapi_config_from_kubeconfig(path, ret);
		return r < 0 ? log_error_errno(r, "Failed to read kubeconfig '%s': %m", path) : 0;
	}
	r = kapi_config_in_cluster(NULL, ret);
	if (r == -ENOENT && !getenv("KUBERNETES_SERVICE_HOST"))
		return log_error_errno(-EINVAL, "No kubeconfig: use --kubeconfig or KUBECONFIG "
				       "(in a pod, the in-cluster config is used)");
	if (r < 0)
		return log_error_errno(r, "No kubeconfig, and the in-cluster config (service "
				       "account token and ca.crt) cannot be read: %m");
	return 0;
}

int ctl_connect(struct ctl *c)
{
	struct kapi_config *kc = NULL;
	int r;

	if (c->k)
		return 0;
	r = ctl_config(c, &kc);
	if (r < 0)
		return r;
	r = kapi_new(kc, &c->k);
	kapi_config_free(kc);
	if (r < 0)
		return log_error_errno(r, "Failed to create the API client: %m");
	return 0;
}
