/* calico-c-ipam's CNI verbs: ADD, DEL, CHECK, GC, STATUS and VERSION for
 * one call, run by the calico-c-ipam-direct program (a process per call,
 * connecting with the config's kubeconfig) and by felix-c's CNI service
 * (its warm client and IPAM state, every call of the node).
 */
#pragma once

#include <stddef.h>
#include <stdio.h>

#include "cni.h"

struct ipam;
struct kapi;

/* ipam.lock_file when a config names none. */
#define IPAM_CNI_DEFAULT_LOCK "/run/calico-c/ipam.lock"

struct ipam_cni_opts {
	/* felix-c: the client and IPAM state every call uses; logging is
	 * left alone. NULL: the call connects with its config's kubeconfig
	 * and sets logging up from its log_level. */
	struct kapi *k;
	struct ipam *ipam;
	/* felix-c (with @ipam): its node and its IPAM lock file, the only ones
	 * it serves (ipam_cni_check_scope()). */
	const char *node;
	const char *lock_path;
};

/**
 * ipam_cni_check_scope - whether felix-c's CNI service may run a call with
 *   the network config @cfg: a node's service allocates for that node only
 *   (from its blocks) and takes the lock file it was configured with only
 *   (it runs as root: a client naming a path must not make it create files)
 * @cfg: the call's network configuration
 * @node: felix-c's node
 * @lock_path: felix-c's IPAM lock file
 * @err: code 7 naming the field and both values
 *
 * The config's "nodename", when set, must be @node; its ipam.lock_file
 * (default IPAM_CNI_DEFAULT_LOCK, as calico-c-ipam-direct would take) must
 * be @lock_path, so that the service and the fallback lock the same file.
 *
 * Return: 0 or -EPERM.
 */
int ipam_cni_check_scope(const json_t *cfg, const char *node, const char *lock_path,
			 struct cni_error *err);

/**
 * ipam_cni_run - run the call @env with the network config @text
 * @out: gets the result (or the VERSION answer), or the CNI error object
 *
 * Return: 0, or 1 when an error was printed (the plugin's exit status).
 */
int ipam_cni_run(const struct cni_env *env, const char *text, size_t len,
		 const struct ipam_cni_opts *opts, FILE *out);
