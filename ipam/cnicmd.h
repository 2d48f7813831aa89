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

struct ipam_cni_opts {
	/* felix-c: the client and IPAM state every call uses; logging is
	 * left alone. NULL: the call connects with its config's kubeconfig
	 * and sets logging up from its log_level. */
	struct kapi *k;
	struct ipam *ipam;
	const char *node; /* node when the config names none; NULL: NODENAME, hostname */
};

/**
 * ipam_cni_run - run the call @env with the network config @text
 * @out: gets the result (or the VERSION answer), or the CNI error object
 *
 * Return: 0, or 1 when an error was printed (the plugin's exit status).
 */
int ipam_cni_run(const struct cni_env *env, const char *text, size_t len,
		 const struct ipam_cni_opts *opts, FILE *out);
