/* calicoctl-c: the operator CLI.
 *
 *   calicoctl-c [--kubeconfig F] [--log-level L] <command> [<subcommand>] [options]
 *
 * The apiserver: --kubeconfig, else KUBECONFIG, else ~/.kube/config, else
 * the in-cluster config of the pod it runs in (calicoctl-c/ctl.c).
 *
 * Dispatch is table-driven: a command is a row of commands[] with either a
 * handler or a table of subcommands; adding one is adding a row (see
 * ipam_commands[] in ipam.c of this folder).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calicoctl-c/ctl.h"
#include "kapi.h"
#include "log.h"

static const struct ctl_command commands[] = {
	{ "ipam", "IP address management: show, check, release, gc", NULL, ctl_ipam_commands },
	{ "get", "KIND [NAME...] [-o table|wide|yaml|json]: show resources", ctl_cmd_get, NULL },
	{ "apply", "-f FILE: validate, then create or replace resources", ctl_cmd_apply, NULL },
	{ "delete", "-f FILE | KIND NAME...: delete resources", ctl_cmd_delete, NULL },
	{ "node", "this node: status (BGP peers from BIRD)", NULL, ctl_node_commands },
	{ "policy", "NetworkPolicy: explain SRC DST PORT/PROTO", NULL, ctl_policy_commands },
	{},
};

static void usage(const struct ctl_command *table, const char *prefix)
{
	fprintf(stderr, "Usage: calicoctl-c [--kubeconfig FILE] [--log-level LEVEL] %s<command>\n",
		prefix);
	for (const struct ctl_command *c = table; c->name; c++)
		fprintf(stderr, "  %-10s %s\n", c->name, c->help);
}

/* Walks the tables: argv[0] names a row; a row with subcommands recurses. */
static int dispatch(struct ctl *c, const struct ctl_command *table, int argc, char **argv,
		    const char *prefix)
{
	char next[128];

	if (argc < 1 || !strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")) {
		usage(table, prefix);
		return argc < 1 ? 2 : 0;
	}
	for (const struct ctl_command *cmd = table; cmd->name; cmd++) {
		if (strcmp(cmd->name, argv[0]) != 0)
			continue;
		if (cmd->sub) {
			snprintf(next, sizeof(next), "%s%s ", prefix, cmd->name);
			return dispatch(c, cmd->sub, argc - 1, argv + 1, next);
		}
		optind = 0; /* each handler parses its own options with getopt_long */
		return cmd->run(c, argc, argv);
	}
	fprintf(stderr, "calicoctl-c: unknown command '%s%s'\n", prefix, argv[0]);
	usage(table, prefix);
	return 2;
}

/* "--name=V" or "--name V"; NULL when argv[*i] is not --name. */
static const char *opt_value(int argc, char **argv, int *i, const char *name)
{
	size_t n = strlen(name);

	if (strncmp(argv[*i], name, n) != 0)
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n] == '\0' && *i + 1 < argc)
		return argv[++*i];
	return NULL;
}

int main(int argc, char **argv)
{
	struct ctl c = { .kubeconfig = getenv("KUBECONFIG") };
	enum log_level lvl = LOG_LEVEL_WARNING;
	int i, r;

	if (c.kubeconfig && !*c.kubeconfig) /* KUBECONFIG= is unset, as for kubectl */
		c.kubeconfig = NULL;

	/* Global options come before the command. */
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *v;

		if ((v = opt_value(argc, argv, &i, "--kubeconfig"))) {
			c.kubeconfig = v;
		} else if ((v = opt_value(argc, argv, &i, "--log-level"))) {
			lvl = log_level_from_string(v);
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			break;
		} else {
			fprintf(stderr, "calicoctl-c: unknown option or missing value '%s'\n",
				argv[i]);
			return 2;
		}
	}
	(void)log_setup(lvl < 0 ? LOG_LEVEL_WARNING : lvl, NULL, "calicoctl-c");
	r = dispatch(&c, commands, argc - i, argv + i, "");
	c.k = kapi_free(c.k);
	return r;
}
