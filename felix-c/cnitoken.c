/* CNI token refresh (see cnitoken.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cleanup.h"
#include "felix-c/cnitoken.h"
#include "felix-c/config.h"
#include "fileio.h"
#include "kapi.h"
#include "log.h"
#include "satoken.h"


uint64_t cnitoken_next_delay_ms(int64_t remaining_s, double jitter, unsigned interval_ms)
{
	uint64_t quarter;

	if (interval_ms)
		return interval_ms;
	if (remaining_s <= 0)
		return CNITOKEN_RETRY_MS;
	quarter = (uint64_t)remaining_s * 1000 / 4;
	if (jitter < 0 || jitter >= 1)
		jitter = 0;
	quarter += (uint64_t)((double)quarter * jitter);
	return quarter < CNITOKEN_RETRY_MS ? CNITOKEN_RETRY_MS : quarter;
}

/* "2026-12-07T08:00:00Z" -> seconds from now. */
static int remaining_of(const char *ts, int64_t *ret)
{
	struct tm tm = {};
	const char *end = ts ? strptime(ts, "%Y-%m-%dT%H:%M:%SZ", &tm) : NULL;

	if (!end || *end)
		return -EBADMSG;
	*ret = (int64_t)timegm(&tm) - (int64_t)time(NULL);
	return 0;
}

/* TokenRequest for the CNI account; *@ret_token malloc'd. */
static int request(struct kapi *k, const struct felix_config *c, char **ret_token,
		   int64_t *ret_remaining_s)
{
	_cleanup_free_ char *expiry = NULL, *token = NULL;
	int r;

	r = satoken_request(k, c->cni_token_namespace, c->cni_token_account,
				  c->cni_token_lifetime_ms / 1000, &token, &expiry);
	if (r == 0)
		r = remaining_of(expiry, ret_remaining_s);
	if (r == 0)
		*ret_token = TAKE_PTR(token);
	if (r < 0)
		return log_warning_errno(r, "TokenRequest for '%s/%s' failed (retrying): %s",
					 c->cni_token_namespace, c->cni_token_account,
					 r != -EBADMSG && *kapi_last_error(k) ? kapi_last_error(k)
									      : "%m");
	return 0;
}

int cnitoken_refresh(struct kapi *k, const struct felix_config *c, int64_t *ret_remaining_s)
{
	_cleanup_(kapi_config_freep) struct kapi_config *old = NULL;
	_cleanup_free_ char *token = NULL, *text = NULL, *err = NULL;
	const void *ca;
	size_t ca_len;
	int r;

	/* Server and CA stay what install-cni wrote; only the token changes. */
	r = kapi_config_load(c->cni_kubeconfig, &old, &err);
	if (r == -ENOENT)
		return r;
	if (r < 0)
		return log_warning_errno(r, "Cannot read the CNI kubeconfig '%s': %s",
					 c->cni_kubeconfig, err ? err : "%m");
	ca = kapi_config_ca(old, &ca_len);
	r = request(k, c, &token, ret_remaining_s);
	if (r == 0)
		r = satoken_kubeconfig_render(kapi_config_server(old), ca, ca_len, token, &text,
					      &err);
	if (r == 0)
		r = file_write_atomic(c->cni_kubeconfig, text, strlen(text), 0600);
	if (token)
		explicit_bzero(token, strlen(token));
	if (text)
		explicit_bzero(text, strlen(text));
	if (r < 0)
		return log_warning_errno(r, "Cannot refresh the CNI kubeconfig '%s': %s",
					 c->cni_kubeconfig, err ? err : "%m");
	log_info("CNI kubeconfig '%s' has a new token of '%s/%s', valid %lld s",
		 c->cni_kubeconfig, c->cni_token_namespace, c->cni_token_account,
		 (long long)*ret_remaining_s);
	return 0;
}
