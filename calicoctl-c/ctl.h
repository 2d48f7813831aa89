/* Shared by the calicoctl-c command files: the context and the dispatch
 * table shape. A command file exports its table (ctl_<cmd>_commands) and
 * main.c lists it in commands[]. */
#pragma once

#include <errno.h>

#include "log.h"

struct crdvalid_ops;
struct kapi;

struct ctl {
	const char *kubeconfig;
	struct kapi *k; /* connected lazily by ctl_connect() */
};

struct ctl_command {
	const char *name;
	const char *help;
	/* argv[0] is the command name; returns the process exit status */
	int (*run)(struct ctl *c, int argc, char **argv);
	const struct ctl_command *sub; /* subcommands, NULL-name terminated */
};

/* Connects to the apiserver once. Return: 0 or -errno (logged). */
int ctl_connect(struct ctl *c);

static inline int ctl_oom(void)
{
	return log_error_errno(-ENOMEM, "Out of memory");
}

extern const struct ctl_command ctl_ipam_commands[];
extern const struct ctl_command ctl_node_commands[];
extern const struct ctl_command ctl_policy_commands[];

/* get / apply / delete of our custom resources (resource.c) */
int ctl_cmd_get(struct ctl *c, int argc, char **argv);
int ctl_cmd_apply(struct ctl *c, int argc, char **argv);
int ctl_cmd_delete(struct ctl *c, int argc, char **argv);
