/* calico-c plugin configuration: the keys of Calico's CNI config (as written
 * in Calico's docs and conflists), validated once into typed values.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "log.h"

struct cni_config;
struct cni_error;

#define CONF_DEFAULT_MTU_FILE "/var/lib/calico/mtu"

/* Borrowed strings point into the cni_config's JSON, which must outlive this. */
struct plugin_conf {
	uint32_t mtu;		    /* "mtu": bytes, 0 = not set */
	const char *mtu_file;	    /* "mtu_file": written by felix-c */
	const char *nodename;	    /* "nodename" (cni_node_name() resolves the node) */
	const char *nodename_file;  /* "nodename_file", NULL: CNI_DEFAULT_NODENAME_FILE */
	const char *kubeconfig;	    /* "kubernetes.kubeconfig", NULL: no API access */
	const char *datastore_type; /* "kubernetes" (only supported value) */
	const char *policy_type;    /* "kubernetes"/"k8s"/NULL */
	enum log_level log_level;   /* "log_level", default info */
	const char *log_file_path;  /* "log_file_path", NULL: stderr */
	bool assign_ipv4, assign_ipv6; /* "ipam.assign_ipv4"/"assign_ipv6" */
	bool ipam_is_calico;	    /* ipam.type is calico-c-ipam / calico-ipam */
	const char *tls_session_dir; /* "tls_session_dir" (ours), "": no TLS resumption */
	const char *felix_socket;    /* "felix_socket" (ours): felix-c's CNI service, "": none */
	const char *state_dir;	     /* "state_dir" (ours): per-container locks (lock.h) */
};

/**
 * plugin_conf_parse - read our keys out of a parsed network configuration
 * @c: the configuration
 * @ret: the typed values
 * @err: code 7 for a malformed value, 2 for an unsupported one (both name
 *   the key and the value)
 *
 * Return: 0 or -EINVAL.
 */
int plugin_conf_parse(const struct cni_config *c, struct plugin_conf *ret, struct cni_error *err);

/* Parse a Calico boolean that may be a JSON bool or the strings "true"/"false". */
int plugin_conf_bool(const char *text, bool *ret);
