/* The computing half of calico-c-install-cni (cni-plugin/install-cni.c):
 * rendering the CNI network config template and the plugin's kubeconfig,
 * validating both, and replacing files atomically (temp file + rename in the
 * same folder), so a reader never sees a half-written file and a failed
 * install leaves the old one in place.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct kapi;

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

/**
 * install_token_check - is @token usable as a bearer token in a kubeconfig
 * @token: the token (trailing newline already stripped)
 * @ret_error: on failure, a malloc'd message
 *
 * Return: 0 or -EINVAL (empty, or characters outside printable ASCII, or
 * quotes/backslashes/spaces that could break the kubeconfig).
 */
int install_token_check(const char *token, char **ret_error);

/**
 * install_kubeconfig_render - the plugin's kubeconfig (YAML)
 * @server: apiserver URL
 * @ca: CA bundle (PEM), embedded as certificate-authority-data
 * @ca_len: its length
 * @token: bearer token (checked by install_token_check())
 * @ret: malloc'd text
 * @ret_error: on failure, a malloc'd message
 *
 * Return: 0, -EINVAL (bad token, empty CA), -ENOMEM.
 */
int install_kubeconfig_render(const char *server, const void *ca, size_t ca_len, const char *token,
			      char **ret, char **ret_error);

/**
 * install_write_atomic - replace @path with @data
 * @path: destination file
 * @data: bytes
 * @len: their count
 * @mode: file mode of the new file (before the umask is irrelevant: fchmod)
 *
 * Writes a temp file in @path's folder, fsyncs it, sets @mode, renames it
 * over @path. On failure the temp file is removed and @path is untouched.
 *
 * Return: 0 or -errno.
 */
int install_write_atomic(const char *path, const void *data, size_t len, mode_t mode);

/**
 * install_copy_atomic - replace @dst with a copy of @src, the same way
 * @src: source file
 * @dst: destination file
 * @mode: mode of the copy
 *
 * Return: 0 or -errno.
 */
int install_copy_atomic(const char *src, const char *dst, mode_t mode);


/**
 * install_token_request - a token of service account @ns/@name (TokenRequest:
 *   POST /api/v1/namespaces/@ns/serviceaccounts/@name/token)
 * @k: API client whose identity may create tokens of that account
 * @ns: namespace
 * @name: service account
 * @seconds: expirationSeconds asked for (the apiserver's minimum is 600)
 * @ret_token: malloc'd token
 * @ret_expiry: malloc'd status.expirationTimestamp ("2026-12-07T08:00:00Z")
 *
 * Used by install-cni (the first token) and felix-c (each refresh).
 * Return: 0; a kapi_create() error (kapi_last_error() has the apiserver's
 *   message); -EBADMSG when the answer lacks the token or its expiry; -ENOMEM.
 */
int install_token_request(struct kapi *k, const char *ns, const char *name, unsigned long seconds,
			  char **ret_token, char **ret_expiry);
