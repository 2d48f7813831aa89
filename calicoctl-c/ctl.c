/* The shared context of the calicoctl-c commands (see ctl.h). Kept out of
 * main.c so that main.c has no exported symbol besides main() and the unit
 * tests can link the command files from build/calicoctl-c.a. */
#include <errno.h>

#include "calicoctl-c/ctl.h"
#include "kapi.h"
#include "log.h"

int ctl_connect(struct ctl *c)
{
	struct kapi_config *kc = NULL;
	int r;

	if (c->k)
		return 0;
	if (!c->kubeconfig)
		return log_error_errno(-EINVAL, "No kubeconfig: use --kubeconfig or KUBECONFIG");
	r = kapi_config_from_kubeconfig(c->kubeconfig, &kc);
	if (r < 0)
		return log_error_errno(r, "Failed to read kubeconfig '%s': %m", c->kubeconfig);
	r = kapi_new(kc, &c->k);
	kapi_config_free(kc);
	if (r < 0)
		return log_error_errno(r, "Failed to create the API client: %m");
	return 0;
}
