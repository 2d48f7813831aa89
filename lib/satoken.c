/* Service account tokens and the CNI kubeconfig (see satoken.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base64.h"
#include "cleanup.h"
#include "errmsg.h"
#include "kapi.h"
#include "satoken.h"

int satoken_check(const char *token, char **ret_error)
{
	if (!token || !*token)
		return errmsg_set(ret_error, -EINVAL, "the service account token is empty");
	for (const char *p = token; *p; p++)
		if (*p <= ' ' || *p > '~' || *p == '"' || *p == '\\' || *p == '\'')
			return errmsg_set(ret_error, -EINVAL,
					  "the service account token has a character that is not "
					  "allowed in a bearer token (byte %zu)",
					  (size_t)(p - token));
	return 0;
}

int satoken_kubeconfig_render(const char *server, const void *ca, size_t ca_len, const char *token,
			      char **ret, char **ret_error)
{
	_cleanup_free_ char *ca64 = NULL;
	int r;

	r = satoken_check(token, ret_error);
	if (r < 0)
		return r;
	if (!ca || ca_len == 0 || ca_len > (1u << 20))
		return errmsg_set(ret_error, -EINVAL, "the CA bundle is empty or too large");
	r = base64_encode(ca, ca_len, &ca64);
	if (r < 0)
		return r;
	if (asprintf(ret,
		     "# Written by calico-c-install-cni for the calico-c CNI plugin; felix-c\n"
		     "# replaces the token before it expires (felix-c/cnitoken.h).\n"
		     "apiVersion: v1\n"
		     "kind: Config\n"
		     "clusters:\n"
		     "- name: local\n"
		     "  cluster:\n"
		     "    server: \"%s\"\n"
		     "    certificate-authority-data: \"%s\"\n"
		     "users:\n"
		     "- name: calico-c-cni\n"
		     "  user:\n"
		     "    token: \"%s\"\n"
		     "contexts:\n"
		     "- name: calico-c-cni\n"
		     "  context:\n"
		     "    cluster: local\n"
		     "    user: calico-c-cni\n"
		     "current-context: calico-c-cni\n",
		     server, ca64, token) < 0)
		return -ENOMEM;
	return 0;
}

int satoken_request(struct kapi *k, const char *ns, const char *name, unsigned long seconds,
			  char **ret_token, char **ret_expiry)
{
	_cleanup_free_ char *path = NULL, *tok = NULL, *exp = NULL;
	json_t *req, *resp = NULL, *status;
	int r;

	if (asprintf(&path, "/api/v1/namespaces/%s/serviceaccounts/%s/token", ns, name) < 0)
		return -ENOMEM;
	req = json_pack("{s:s,s:s,s:{s:I}}", "apiVersion", "authentication.k8s.io/v1", "kind",
			"TokenRequest", "spec", "expirationSeconds", (json_int_t)seconds);
	if (!req)
		return -ENOMEM;
	r = kapi_create(k, path, req, &resp);
	json_decref(req);
	if (r < 0)
		return r;
	status = json_object_get(resp, "status");
	if (json_string_value(json_object_get(status, "token")) &&
	    json_string_value(json_object_get(status, "expirationTimestamp"))) {
		tok = strdup(json_string_value(json_object_get(status, "token")));
		exp = strdup(json_string_value(json_object_get(status, "expirationTimestamp")));
		r = tok && exp ? 0 : -ENOMEM;
	} else {
		r = -EBADMSG;
	}
	json_decref(resp);
	if (r < 0)
		return r;
	*ret_token = TAKE_PTR(tok);
	*ret_expiry = TAKE_PTR(exp);
	return 0;
}
