/* A service account token for the CNI plugin's kubeconfig: requesting one
 * (TokenRequest), checking it, and rendering the kubeconfig that carries it.
 * Used by calico-c-install-cni (the first token) and felix-c (each refresh,
 * felix-c/cnitoken.h).
 */
#pragma once

#include <stddef.h>

struct kapi;

/**
 * satoken_check - is @token usable as a bearer token in a kubeconfig
 * @token: the token (trailing newline already stripped)
 * @ret_error: on failure, a malloc'd message
 *
 * Return: 0 or -EINVAL (empty, or characters outside printable ASCII, or
 * quotes/backslashes/spaces that could break the kubeconfig).
 */
int satoken_check(const char *token, char **ret_error);

/**
 * satoken_kubeconfig_render - the plugin's kubeconfig (YAML)
 * @server: apiserver URL
 * @ca: CA bundle (PEM), embedded as certificate-authority-data
 * @ca_len: its length
 * @token: bearer token (checked by satoken_check())
 * @ret: malloc'd text
 * @ret_error: on failure, a malloc'd message
 *
 * Return: 0, -EINVAL (bad token, empty CA), -ENOMEM.
 */
int satoken_kubeconfig_render(const char *server, const void *ca, size_t ca_len, const char *token,
			      char **ret, char **ret_error);

/**
 * satoken_request - a token of service account @ns/@name (TokenRequest:
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
int satoken_request(struct kapi *k, const char *ns, const char *name, unsigned long seconds,
			  char **ret_token, char **ret_expiry);
