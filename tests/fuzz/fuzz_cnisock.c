/* A request to felix-c's CNI socket as felix-c reads it: one JSON object
 * off the connection, then its "env" (the CNI_* variables) and "stdin"
 * (the network configuration, for every command) decoded as felix-c's
 * CNI service does. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

#include "cni.h"
#include "cnisock.h"

static void decode(const json_t *req)
{
	const char *in = json_string_value(json_object_get(req, "stdin"));
	struct cni_env env = {};
	struct cni_error err = {};
	struct cni_config *c = NULL;
	struct cni_args a = {};

	if (cni_env_from_json(json_object_get(req, "env"), &env, &err) == 0) {
		if (cni_args_parse(env.args, &a, &err) == 0)
			cni_args_done(&a);
		if (in && cni_config_parse(in, strlen(in), env.command, &c, &err) == 0)
			cni_config_free(c);
		cni_env_done(&env);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int sv[2];
	json_t *req = NULL;

	/* The input fits the socket buffer (libFuzzer's default -max_len). */
	if (size > 65536 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return 0;
	if (write(sv[1], data, size) == (ssize_t)size && shutdown(sv[1], SHUT_WR) == 0 &&
	    cnisock_read_request(sv[0], &req) == 0) {
		decode(req);
		json_decref(req);
	}
	close(sv[0]);
	close(sv[1]);
	return 0;
}
