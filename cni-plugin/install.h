/* The computing half of calico-c-install-cni (cni-plugin/install-cni.c):
 * rendering and validating the CNI network config template, and the
 * apiserver URL. The kubeconfig and its token are lib/satoken.h's, replacing
 * files atomically lib/fileio.h's (both shared with felix-c).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* One template placeholder, e.g. { "__CNI_MTU__", "1440" }. */
struct install_var {
	const char *name;  /* "__NAME__": two underscores, A-Z0-9_, two underscores */
	const char *value; /* inserted JSON-string-escaped */
};

/**
 * install_render - replace every placeholder of @tmpl
 * @tmpl: the template text (JSON with placeholders)
 * @vars: the known placeholders
 * @n_vars: how many
 * @ret: the malloc'd result
 * @ret_error: on failure, a malloc'd message (may be NULL)
 *
 * Values are escaped for a JSON string, so a placeholder belongs inside
 * quotes unless its value is a number (__CNI_MTU__). Anything shaped like a
 * placeholder (__UPPER_CASE__) that is not in @vars is an error naming it.
 *
 * Return: 0, -EINVAL (unknown placeholder), -ENOMEM.
 */
int install_render(const char *tmpl, const struct install_var *vars, size_t n_vars, char **ret,
		   char **ret_error);

/**
 * install_validate_conflist - check a rendered network config
 * @text: the rendered text
 * @is_list: true for a .conflist (needs a non-empty "plugins" list), false
 *   for a single-plugin .conf (needs "type")
 * @ret_error: on failure, a malloc'd message naming the line/field
 *
 * Checks: valid JSON, an object, string "cniVersion" and "name", and each
 * plugin an object with a string "type".
 *
 * Return: 0 or -EINVAL.
 */
int install_validate_conflist(const char *text, bool is_list, char **ret_error);

/**
 * install_server_url - the apiserver URL from a host and port
 * @host: KUBERNETES_SERVICE_HOST (IPv6 addresses get brackets)
 * @port: KUBERNETES_SERVICE_PORT, digits only
 * @ret: malloc'd "https://host:port"
 * @ret_error: on failure, a malloc'd message
 *
 * Return: 0, -EINVAL, -ENOMEM.
 */
int install_server_url(const char *host, const char *port, char **ret, char **ret_error);
