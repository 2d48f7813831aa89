/* calico-c and calico-c-direct: the CNI plugin programs (one main(), linked
 * with either implementation of k8s.h). Reads CNI_* and the configuration,
 * runs one command, and prints either the result or a CNI error object. All
 * logging goes to stderr or the configured log file; stdout carries JSON only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "cni.h"
#include "cnisock.h"
#include "fileio.h"
#include "k8s.h"
#include "log.h"
#include "plugin.h"

#define STDIN_MAX (1u << 20)

static int run_version(void)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;

	/* The input is optional for VERSION; we answer in its cniVersion. */
	if (fd_read_all(STDIN_FILENO, STDIN_MAX, &text, &len) < 0)
		len = 0;
	return cni_version_write(stdout, len ? text : NULL, len) < 0 ? 1 : 0;
}

static int run_command(struct plugin *p)
{
	switch (p->env.command) {
	case CNI_COMMAND_ADD:
		return plugin_add(p);
	case CNI_COMMAND_DEL:
		return plugin_del(p);
	case CNI_COMMAND_CHECK:
		return plugin_check(p);
	case CNI_COMMAND_GC:
		return plugin_gc(p);
	case CNI_COMMAND_STATUS:
		return plugin_status(p);
	default:
		return cni_error_set(&p->err, CNI_ERR_INVALID_ENV, -EINVAL, "unexpected CNI_COMMAND");
	}
}

static int read_config(struct plugin *p, char **ret_text, size_t *ret_len)
{
	int r;

	r = fd_read_all(STDIN_FILENO, STDIN_MAX, ret_text, ret_len);
	if (r < 0)
		return cni_error_set(&p->err, CNI_ERR_IO, r,
				     "cannot read the network configuration from stdin: %s",
				     strerror(-r));
	return cni_config_parse(*ret_text, *ret_len, p->env.command, &p->cfg, &p->err);
}

/* When felix-c does not answer, the program that does the Kubernetes work
 * itself takes over this call (see k8s.h); returns only if it cannot. */
static int hand_over(struct plugin *p, const char *text, size_t len)
{
	const char *direct = k8s_fallback(p->cfg->json);
	int r;

	if (!direct)
		return 0;
	r = cnisock_exec_direct(direct, text, len);
	return cni_error_set(&p->err, CNI_ERR_PLUGIN, r,
			     "felix-c does not answer and %s cannot run: %s", direct, strerror(-r));
}

static int fail(struct plugin *p)
{
	const char *v = p->cfg ? p->cfg->version_string : NULL;

	if (!p->err.code)
		cni_error_set(&p->err, CNI_ERR_PLUGIN, -EIO, "internal error");
	log_error("%s%s%s failed: code %d: %s",
		  p->env.command >= 0 ? cni_command_to_string(p->env.command) : "CNI",
		  p->env.container_id ? " " : "", p->env.container_id ? p->env.container_id : "",
		  p->err.code, p->err.msg);
	(void)cni_error_write(stdout, &p->err, v);
	return 1;
}

int main(void)
{
	struct plugin p = { .netns_fd = -1, .lock_fd = -1, .started_ns = plugin_now_ns(),
			    .env.command = _CNI_COMMAND_INVALID };
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int rc = 0;

	(void)log_setup(LOG_LEVEL_WARNING, NULL, "calico-c");
	if (cni_env_load(&p.env, &p.err) < 0)
		return fail(&p);
	if (p.env.command == CNI_COMMAND_VERSION)
		return run_version();
	if (read_config(&p, &text, &len) < 0 || hand_over(&p, text, len) < 0)
		rc = fail(&p);
	if (!rc && p.env.command == CNI_COMMAND_ADD)
		plugin_add_start_ipam(&p);
	if (!rc && plugin_init(&p) < 0)
		rc = fail(&p);
	p.phase_ns[PHASE_SETUP] = plugin_now_ns() - p.started_ns;
	if (!rc && run_command(&p) < 0)
		rc = fail(&p);
	plugin_log_timing(&p);
	plugin_done(&p);
	log_close();
	return rc;
}
