/* The CNI plugin's token, kept fresh (issue 17). install-cni writes the
 * plugin's kubeconfig once, with a TokenRequest token of the CNI service
 * account; the token has a bounded lifetime (CNITokenLifetime, 24 h as in
 * Calico), so felix-c, the long-running process of the calico-node pod,
 * asks for a new one before it expires and rewrites that kubeconfig
 * atomically (same server and CA, new token, mode 0600). The plugins, the
 * -direct fallbacks included, read the file on every call, so they use the
 * new token from then on. Runs on felix-c's worker thread.
 */
#pragma once

#include <stdint.h>

struct felix_config;
struct kapi;

#define CNITOKEN_RETRY_MS 5000u /* after a failure, as Calico */

/**
 * cnitoken_next_delay_ms - when to refresh next, as Calico does: after a
 *   quarter to a half of the token's remaining life
 * @remaining_s: seconds until the current token expires (<= 0: expired)
 * @jitter: in [0, 1): where in that span (spreads the nodes' requests)
 * @interval_ms: a fixed interval instead (CNITokenRefreshInterval), 0: none
 *
 * Return: the delay, at least CNITOKEN_RETRY_MS unless @interval_ms is set;
 *   always before the expiry when the token lives longer than that.
 */
uint64_t cnitoken_next_delay_ms(int64_t remaining_s, double jitter, unsigned interval_ms);

/**
 * cnitoken_refresh - request a token and rewrite the CNI kubeconfig
 * @k: API client (felix-c's credentials: may create tokens of the account)
 * @c: configuration (CNITokenServiceAccount, CNITokenNamespace,
 *   CNITokenLifetime, the kubeconfig path)
 * @ret_remaining_s: seconds the new token lives
 *
 * A missing kubeconfig (install-cni has not run) is left missing.
 * Return: 0, -ENOENT (no kubeconfig to refresh), -errno (logged).
 */
int cnitoken_refresh(struct kapi *k, const struct felix_config *c, int64_t *ret_remaining_s);
