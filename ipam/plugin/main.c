/* calico-c-ipam: the CNI IPAM plugin the runtime (or calico-c) runs. It
 * hands the call to felix-c's CNI service, which runs it with a warm
 * apiserver connection, and prints the answer; this program never loads an
 * HTTP or TLS library. When felix-c does not answer, or the config's
 * "felix_socket" is "", it becomes calico-c-ipam-direct, which does the same
 * work itself. See lib/cnisock.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "cni.h"
#include "cnisock.h"
#include "log.h"

static int delegate(const struct cni_env *env, const char *text, size_t len, const json_t *cfg,
		    struct cni_error *err)
{
	_cleanup_(json_decrefp) json_t *req = NULL, *answer = NULL;
	const char *path = cnisock_path(cfg);
	const char *out;
	int r;

	if (!*path)
		return -EHOSTDOWN;
	req = json_pack("{ss s o s s%}", "op", "ipam", "env", cni_env_to_json(env), "stdin", text,
			len);
	if (!req)
		return cni_error_set(err, CNI_ERR_IO, -ENOMEM, "out of memory");
	r = cnisock_call(path, req, &answer, err);
	if (r < 0)
		return r;
	out = json_string_value(json_object_get(answer, "stdout"));
	if (out)
		fputs(out, stdout);
	return json_integer_value(json_object_get(answer, "exit")) ? 1 : 0;
}

int main(void)
{
	_cleanup_(json_decrefp) json_t *cfg = NULL;
	_cleanup_free_ char *text = NULL;
	struct cni_env env = { .command = _CNI_COMMAND_INVALID };
	struct cni_error err = {};
	size_t len = 0;
	int r;

	(void)log_setup(LOG_LEVEL_WARNING, getenv("CALICO_C_IPAM_LOG"), "calico-c-ipam");
	r = cni_input_load(&text, &len, &env, &err);
	if (r >= 0 && env.command == CNI_COMMAND_VERSION) {
		r = cni_version_write(stdout, text, len);
		cni_env_done(&env);
		return r < 0 ? 1 : 0;
	}
	if (r >= 0) {
		cfg = json_loadb(text, len, 0, NULL);
		r = delegate(&env, text, len, cfg, &err);
		if (r == -EHOSTDOWN) {
			r = cnisock_exec_direct("calico-c-ipam-direct", text, len);
			(void)cni_error_set(&err, CNI_ERR_PLUGIN, r,
					    "felix-c does not answer and calico-c-ipam-direct "
					    "cannot run: %s", strerror(-r));
		}
	}
	cni_env_done(&env);
	if (r >= 0)
		return r;
	log_error("%s", err.msg);
	(void)cni_error_write(stdout, &err,
			      json_string_value(json_object_get(cfg, "cniVersion")));
	return 1;
}
