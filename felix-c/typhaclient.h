/* felix-c as a typha-c client (lib/typhaproto.h): the informers are fed
 * from typha-c's snapshot and events instead of watching the apiserver, so
 * the agent and the managers see the same callbacks whichever the source.
 *
 * States: CONNECTING (TCP) -> HANDSHAKE (mutual TLS) -> SYNCING (hello sent,
 * snapshot coming in) -> STREAMING; any failure -> RETRY (about once a
 * second, for TyphaFallbackGrace since typha-c was lost, or since the start:
 * a typha-c restart does not send every node to the apiserver at once; the
 * informers keep their view meanwhile) -> FALLBACK: the informers resume
 * their own LIST+WATCH (a LIST diffed against the cache, so the
 * switch emits exactly the difference), and typha-c is tried again after
 * TyphaReconnectInterval. The informers leave the apiserver only when
 * typha-c's snapshot starts, and that snapshot is diffed the same way.
 * felix-c stays fail-closed: nothing is programmed before every informer
 * has had one complete view, from either source.
 */
#pragma once

#include <netinet/in.h>

#include "cleanup.h"

struct evloop;
struct felix_config;
struct kapi;
struct kinformer;
struct felix_typha;

enum felix_typha_state {
	FELIX_TYPHA_CONNECTING,
	FELIX_TYPHA_HANDSHAKE,
	FELIX_TYPHA_SYNCING,
	FELIX_TYPHA_STREAMING,
	FELIX_TYPHA_RETRY,
	FELIX_TYPHA_FALLBACK,
	_FELIX_TYPHA_STATE_MAX,
	_FELIX_TYPHA_STATE_INVALID = -22,
};
const char *felix_typha_state_to_string(enum felix_typha_state s);

/* IPv4 "a.b.c.d:port" (port 1..65535). Return: 0 or -EINVAL. */
int felix_typha_parse_addr(const char *s, struct sockaddr_in *ret);

/**
 * felix_typha_new - feed @inf from typha-c at TyphaAddr, or at a ready
 *   endpoint of TyphaK8sServiceName (looked up again at every try)
 * @l: loop
 * @cfg: felix-c's configuration (borrowed): TyphaAddr or TyphaK8sServiceName
 *   and TyphaK8sNamespace, TLS files, TyphaCN, timeouts, node name,
 *   SecretsNamespace
 * @k: the informers' API client, used by nothing else (borrowed): its
 *   connections are closed while typha-c feeds the informers
 * @inf: one informer per sync_kind, created fed (kinformer_opts.fed),
 *   borrowed (they outlive the client)
 * @ret: the client, connecting
 * @ret_error: malloc'd reason (TLS files), on -EINVAL
 *
 * Return: 0, -EINVAL, -ENOMEM.
 */
int felix_typha_new(struct evloop *l, const struct felix_config *cfg, struct kapi *k,
		    struct kinformer **inf, struct felix_typha **ret, char **ret_error);
struct felix_typha *felix_typha_free(struct felix_typha *t);
DEFINE_CLEANUP_FUNC(struct felix_typha, felix_typha_free);

enum felix_typha_state felix_typha_get_state(const struct felix_typha *t);
/* Counters since the start: snapshots completed, fallbacks to the apiserver. */
unsigned long felix_typha_snapshots(const struct felix_typha *t);
unsigned long felix_typha_fallbacks(const struct felix_typha *t);
