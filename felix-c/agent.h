/* The felix-c agent: informers -> desired state -> plan against observed
 * state -> apply, for routes, nftables policy and BIRD, plus the health and
 * metrics endpoints. Single-threaded on one evloop; the API work that must
 * be synchronous runs in felix-c/worker.h's thread.
 *
 * Sync state machine (one setter, each transition logged):
 *   WAITING --(all informers listed)--> SYNCED --(first apply ok)--> APPLIED
 *   APPLIED --(an apply fails)--> SYNCED --(next apply ok)--> APPLIED
 * Nothing in the kernel or BIRD is changed while WAITING.
 */
#pragma once

struct evloop;
struct felix_config;
struct kapi_config;
struct felix_agent;

enum felix_sync_state {
	FELIX_SYNC_WAITING,
	FELIX_SYNC_SYNCED,
	FELIX_SYNC_APPLIED,
	_FELIX_SYNC_MAX,
	_FELIX_SYNC_INVALID = -22,
};

const char *felix_sync_state_to_string(enum felix_sync_state s);

/**
 * felix_agent_new - build the agent and start watching
 * @cfg: configuration (outlives the agent)
 * @kc: API client configuration
 * @loop: the event loop
 * @ret: the agent
 *
 * Return: 0, -errno (health/metrics port in use, netlink, nftables socket).
 */
int felix_agent_new(const struct felix_config *cfg, const struct kapi_config *kc,
		    struct evloop *loop, struct felix_agent **ret);
/* Stops watching and frees; the dataplane (routes, table, BIRD) stays. */
struct felix_agent *felix_agent_free(struct felix_agent *a);
