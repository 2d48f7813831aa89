/* felix-c configuration: defaults, then an optional config file, then the
 * environment (FELIX_* names as Calico spells them where Calico has the
 * setting, plus ours for every path so several nodes run on one machine).
 *
 * The file is "Key = Value" lines (Calico's felix.cfg shape): '#' and ';'
 * start comments, "[section]" headers are ignored, keys are the setting
 * names below without the FELIX_ prefix, compared case-insensitively.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "log.h"
#include "policy/compile.h"
#include "policy/failsafe.h"

/* Every field is owned by the struct (strings malloc'd); units in names. */
struct felix_config {
	enum log_level log_level; /* LogSeverityScreen */
	char *log_file;		  /* LogFilePath, NULL: stderr */
	char *nodename;		  /* FelixHostname / NODENAME; default gethostname() */

	bool health_enabled;	  /* HealthEnabled */
	char *health_host;	  /* HealthHost */
	uint16_t health_port;	  /* HealthPort, 9099 */
	bool metrics_enabled;	  /* PrometheusMetricsEnabled */
	char *metrics_host;	  /* PrometheusMetricsHost */
	uint16_t metrics_port;	  /* PrometheusMetricsPort, 9091 */

	char *kubeconfig;	  /* Kubeconfig / KUBECONFIG; NULL: in-cluster */
	char *state_dir;	  /* StateDir */
	char *bird_config;	  /* BirdConfigPath, default <state>/bird.cfg */
	char *bird_socket;	  /* BirdSocketPath, default <state>/bird.ctl */
	char *bird_pidfile;	  /* BirdPidFile, default <state>/bird.pid */
	char *bird_binary;	  /* BirdBinary, "bird" */
	bool bird_start;	  /* BIRD_START / BirdStart: we start BIRD */
	unsigned bird_connect_retry_s; /* BirdConnectRetry, 0: BIRD's defaults */
	char *router_id;	       /* RouterID (CALICO_ROUTER_ID): BGP router id, an
				* IPv4 address or "hash"; NULL: the node's address */
	unsigned bird_ready_threshold_ms; /* BirdReadyThreshold: felix-c/bgpready.h */
	char *cni_net_dir;	  /* CNINetDir */
	char *cni_socket;	  /* CNISocketPath: the CNI service, "": off */
	char *cni_ipam_lock;	  /* CNIIPAMLockFile: the node's IPAM lock (the plugins'
				   * ipam.lock_file); the CNI service takes no other */
	char *cni_kubeconfig;	  /* CNIKubeconfig, default <CNINetDir>/calico-kubeconfig */
	char *cni_token_account;  /* CNITokenServiceAccount: refresh its token, "": off */
	char *cni_token_namespace; /* CNITokenNamespace, kube-system */
	unsigned cni_token_lifetime_ms; /* CNITokenLifetime, 24h, at least 10m */
	unsigned cni_token_refresh_ms;	/* CNITokenRefreshInterval, 0: felix-c/cnitoken.h */
	char *mtu_file;		  /* MTUFile, read by the CNI plugin */
	char *nodename_file;	  /* NodenameFile, read by Calico's CNI plugin; "": none */
	char *calico_version;	  /* CalicoVersion: ClusterInformation calicoVersion */
	unsigned mtu;		  /* MTU override, 0: uplink MTU */

	char *ip;		  /* IP: "autodetect" (or ""), "none" or an IPv4 address[/len] */
	char *ip_autodetect;	  /* IP_AUTODETECTION_METHOD */
	char *ip6;		  /* IP6: "autodetect", "none", an IPv6 address[/len], or ""
				   * (unset: the Node's IPv6Address annotation is left as it is) */
	char *ip6_autodetect;	  /* IP6_AUTODETECTION_METHOD */
	unsigned as_number;	  /* AS: this node's BGP AS, 0: the cluster's default */
	char *pool_cidr;	  /* CALICO_IPV4POOL_CIDR, "none": no default IPv4 pool */
	unsigned pool_block_size; /* CALICO_IPV4POOL_BLOCK_SIZE */
	bool pool_nat_outgoing;	  /* CALICO_IPV4POOL_NAT_OUTGOING, true */
	char *pool6_cidr;	  /* CALICO_IPV6POOL_CIDR, "none": no default IPv6 pool,
				   * "": a random ULA /48 when IP6 is on, else none */
	unsigned pool6_block_size; /* CALICO_IPV6POOL_BLOCK_SIZE, 122 */
	bool pool6_nat_outgoing;  /* CALICO_IPV6POOL_NAT_OUTGOING, false */
	bool no_default_pools;	  /* NO_DEFAULT_POOLS */

	unsigned resync_ms;	  /* RouteRefreshInterval: periodic full resync */
	unsigned debounce_ms;	  /* ApplyDebounce: coalescing window of events */
	unsigned route_grace_ms;  /* RouteCleanupGrace: unknown /32s kept this long */
	char *nft_table;	  /* NftablesTable */
	enum policy_host_action endpoint_to_host; /* DefaultEndpointToHostAction, Drop */
	char *log_prefix;	  /* LogPrefix: of Log rules' NFLOG records, calico-packet */
	unsigned nflog_group;	  /* NFLOGGroup: where Log rules send packets, 0 */
	char *failsafe_in;	  /* FailsafeInboundHostPorts (policy/failsafe.h text) */
	char *failsafe_out;	  /* FailsafeOutboundHostPorts */
	char *secrets_namespace;  /* SecretsNamespace: BGP password secrets */

	bool ipam_gc;		  /* IPAMGCEnabled */
	unsigned ipam_gc_interval_ms; /* IPAMGCInterval */
	unsigned ipam_gc_grace_s; /* IPAMGCGrace */
	bool lb_ipam;		  /* LoadBalancerIPAMEnabled (on the Lease holder) */
	unsigned lb_ipam_interval_ms; /* LoadBalancerIPAMInterval: pass without a Service event */
	char *lease_namespace;	  /* LeaseNamespace */
	char *lease_name;	  /* LeaseName */
	unsigned lease_duration_s; /* LeaseDuration */
	bool hollow;		  /* Hollow: a scale-test node that writes nothing (felix-c/hollow.h) */

	/* typha-c (felix-c/typhaclient.h); neither TyphaAddr nor TyphaK8sServiceName:
	 * watch the apiserver directly */
	char *typha_addr;	  /* TyphaAddr: IPv4 "address:port" */
	char *typha_service;	  /* TyphaK8sServiceName: else its EndpointSlices' address */
	char *typha_namespace;	  /* TyphaK8sNamespace, kube-system */
	char *typha_ca_file;	  /* TyphaCAFile: the CA typha-c's certificate chains to */
	char *typha_cert_file;	  /* TyphaCertFile: our client certificate */
	char *typha_key_file;	  /* TyphaKeyFile */
	char *typha_cn;		  /* TyphaCN: typha-c's required CN, "": any */
	unsigned typha_read_timeout_ms; /* TyphaReadTimeout: silence that means typha-c is gone */
	unsigned typha_reconnect_ms; /* TyphaReconnectInterval: while on the apiserver */
	unsigned typha_fallback_grace_ms; /* TyphaFallbackGrace: retries before the apiserver */

	uint64_t user_set[2];	  /* bit i: settings[i] came from the file or environment */
};

/* The settings a FelixConfiguration may change while running. */
struct felix_runtime {
	enum log_level log_level;
	unsigned resync_ms;
	enum policy_host_action endpoint_to_host;
	char log_prefix[POLICY_LOG_PREFIX_MAX + 1];
	struct policy_failsafes failsafe_in, failsafe_out;
};

/**
 * felix_config_runtime - effective runtime settings, with Calico's
 *   precedence: environment and file win, then the FelixConfiguration
 *   "node.<name>", then "default", then our defaults
 * @c: the loaded configuration
 * @global_spec: spec of FelixConfiguration "default", or NULL
 * @node_spec: spec of FelixConfiguration "node.<nodename>", or NULL
 * @ret: filled (from @c for anything not overridden or invalid)
 * @ret_error: malloc'd message naming the resource and field of the first
 *   invalid value (which is ignored), on -EINVAL
 *
 * Fields: logSeverityScreen, routeRefreshInterval, defaultEndpointToHostAction,
 * logPrefix, failsafeInboundHostPorts, failsafeOutboundHostPorts.
 * Return: 0, -EINVAL (@ret still complete), -ENOMEM.
 */
struct json_t;
int felix_config_runtime(const struct felix_config *c, struct json_t *global_spec,
			 struct json_t *node_spec, struct felix_runtime *ret, char **ret_error);

/**
 * felix_config_load - build the configuration
 * @file: config file path, or NULL (then FELIX_CONFIGFILE if set)
 * @envp: environment, NULL-terminated "K=V" strings (environ)
 * @ret: filled on success (felix_config_done() it)
 * @ret_error: malloc'd message naming the setting and its source, on -EINVAL
 *
 * Return: 0, -EINVAL (bad value, unknown key in the file), -ENOENT (file
 *   given but missing), -ENOMEM.
 */
/* TyphaAddr or TyphaK8sServiceName is set. */
bool felix_config_uses_typha(const struct felix_config *c);

int felix_config_load(const char *file, char *const *envp, struct felix_config *ret,
		      char **ret_error);
void felix_config_done(struct felix_config *c);

/* Duration "10", "10s", "250ms", "2m" in ms. Return: 0 or -EINVAL. */
int felix_parse_duration_ms(const char *s, unsigned *ret_ms);
/* "true/false/1/0/yes/no/on/off". Return: 0 or -EINVAL. */
int felix_parse_bool(const char *s, bool *ret);
