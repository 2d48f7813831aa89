/* A CNI network configuration as the runtime writes it on stdin (with
 * prevResult, runtimeConfig, GC's valid attachments), for each command, and
 * calico-c's own keys read out of it. The first byte picks the command. */
#include <stddef.h>
#include <stdint.h>

#include "cni-plugin/conf.h"
#include "cni.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cni_config *c = NULL;
	struct cni_error err = {};
	struct plugin_conf conf;
	enum cni_command cmd;

	if (size < 1)
		return 0;
	cmd = data[0] % _CNI_COMMAND_MAX;
	if (cni_config_parse((const char *)data + 1, size - 1, cmd, &c, &err) == 0) {
		(void)plugin_conf_parse(c, &conf, &err);
		cni_config_free(c);
	}
	return 0;
}
