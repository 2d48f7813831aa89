/* The calico-c CNI plugin: one call of the runtime, from parsed input to the
 * JSON on stdout. main() fills a struct plugin and runs one command.
 */
#pragma once

#include <net/if.h>
#include <stdbool.h>

#include <jansson.h>

#include "cni.h"
#include "conf.h"

struct kapi;
struct nl;

struct plugin {
	struct cni_env env;	 /* owned */
	struct cni_config *cfg;	 /* owned */
	struct plugin_conf conf; /* borrows from cfg */
	struct cni_args args;	 /* owned */
	const char *k8s_ns;	 /* K8S_POD_NAMESPACE, borrowed from args */
	const char *k8s_pod;	 /* K8S_POD_NAME, borrowed from args */
	char host_ifname[IFNAMSIZ];
	struct kapi *kapi; /* owned, NULL when not talking to Kubernetes */
	int netns_fd;	   /* owned, -1 when not open */
	struct nl *host;   /* owned, node namespace */
	struct nl *pod;	   /* owned, pod namespace */
	struct cni_error err;
};

/* Prepare everything but the namespaces; err is set on failure. */
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
