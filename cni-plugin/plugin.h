/* The calico-c CNI plugin: one call of the runtime, from parsed input to the
 * JSON on stdout. main() fills a struct plugin and runs one command.
 */
#pragma once

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "cni.h"
#include "conf.h"
#include "wire.h"

struct delegate;
struct k8s;
struct nl;

/* Where one call's time goes (for the benchmark), logged at debug. */
enum plugin_phase {
	PHASE_SETUP,	 /* config, CNI_ARGS, kubeconfig, netns and sockets */
	PHASE_API_READ,	 /* GET pod / namespace (first request carries TCP+TLS) */
	PHASE_IPAM,	 /* the delegated IPAM plugin, process start included */
	PHASE_NETLINK,	 /* veth, sysctls, addresses, routes */
	PHASE_API_WRITE, /* PATCH of the pod annotations, beyond the netlink time */
	_PHASE_MAX,
	_PHASE_INVALID = -22,
};

struct plugin {
	struct cni_env env;	 /* owned */
	struct cni_config *cfg;	 /* owned */
	struct plugin_conf conf; /* borrows from cfg */
	struct cni_args args;	 /* owned */
	const char *k8s_ns;	 /* K8S_POD_NAMESPACE, borrowed from args */
	const char *k8s_pod;	 /* K8S_POD_NAME, borrowed from args */
	char host_ifname[IFNAMSIZ];
	char owner[WIRE_OWNER_MAX]; /* wire_owner_tag() of CNI_CONTAINERID, "" without one */
	char node[256];		   /* this node (cni_node_name()), when talking to Kubernetes */
	int lock_fd;		   /* owned: the container's lock (lock.h), -1: none */
	struct k8s *k8s;   /* owned, NULL when not talking to Kubernetes */
	bool annotated;	   /* ADD sent the pod annotations: a rollback clears them */
	struct delegate *ipam_exec; /* owned: ADD's IPAM, started early, fed later */
	int netns_fd;	   /* owned, -1 when not open */
	struct nl *host;   /* owned, node namespace */
	struct nl *pod;	   /* owned, pod namespace */
	struct cni_error err;
	uint64_t started_ns;		/* CLOCK_MONOTONIC at main() */
	uint64_t phase_ns[_PHASE_MAX]; /* time spent per phase */
};

uint64_t plugin_now_ns(void);
/* Add the time since @since to @phase; returns now. */
uint64_t plugin_phase_add(struct plugin *p, enum plugin_phase phase, uint64_t since);
void plugin_log_timing(const struct plugin *p);

/* ADD: start the IPAM plugin right after the config is read, before
 * anything else, so its process start overlaps all of our setup. It waits
 * for its config on a pipe; plugin_add() feeds it (or starts it, if this
 * failed). Best effort: never fails. */
void plugin_add_start_ipam(struct plugin *p);

/* Prepare everything but the namespaces, and wait for the container's lock
 * (ADD, DEL and CHECK of one container never interleave); err is set on
 * failure. */
int plugin_init(struct plugin *p);
void plugin_done(struct plugin *p);

int plugin_add(struct plugin *p);
int plugin_del(struct plugin *p);
int plugin_check(struct plugin *p);
int plugin_gc(struct plugin *p);
int plugin_status(struct plugin *p);

/* IPAM delegation with @cmd; for ADD, @ret gets the result. @config NULL:
 * the configuration as received. */
int plugin_ipam(struct plugin *p, enum cni_command cmd, const json_t *config,
		struct cni_result **ret);

/* GC for an IPAM plugin that predates spec 1.1.0 (host-local): DEL each
 * allocation in its data directory whose attachment is not valid. */
int plugin_gc_host_local(struct plugin *p);
