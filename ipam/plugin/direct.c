/* calico-c-ipam-direct: calico-c-ipam doing its own work against the
 * apiserver, one process per call. calico-c-ipam becomes this program when
 * felix-c's CNI service does not answer (see lib/cnisock.h).
 */
#include <stdio.h>
#include <stdlib.h>

#include "cleanup.h"
#include "cni.h"
#include "ipam/cnicmd.h"
#include "log.h"

int main(void)
{
	_cleanup_free_ char *text = NULL;
	struct cni_env env = { .command = _CNI_COMMAND_INVALID };
	struct cni_error err = {};
	size_t len = 0;
	int r;

	(void)log_setup(LOG_LEVEL_WARNING, getenv("CALICO_C_IPAM_LOG"), "calico-c-ipam");
	r = cni_input_load(&text, &len, &env, &err);
	if (r < 0) {
		log_error("%s", err.msg);
		(void)cni_error_write(stdout, &err, NULL);
		return 1;
	}
	r = ipam_cni_run(&env, text, len, &(struct ipam_cni_opts){}, stdout);
	cni_env_done(&env);
	return r;
}
