/* calicoctl-c: the operator CLI.
 *
 *   calicoctl-c [--kubeconfig F] [--log-level L] <command> [<subcommand>] [options]
 *
 * Dispatch is table-driven: a command is a row of commands[] with either a
 * handler or a table of subcommands; adding one is adding a row (see
 * ipam_commands[] in ipam.c of this folder).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calicoctl-c/ctl.h"
#include "kapi.h"
#include "log.h"

static const struct ctl_command commands[] = {
	{ "ipam", "IP address management: show, check, release, gc", NULL, ctl_ipam_commands },
	{},
};

int ctl_connect(struct ctl *c)
{
	struct kapi_config *kc = NULL;
	int r;

	if (c->k)
		return 0;
	if (!c->kubeconfig)
		return log_error_errno(-EINVAL, "No kubeconfig: use --kubeconfig or KUBECONFIG");
	r = kapi_config_from_kubeconfig(c->kubeconfig, &kc);
	if (r < 0)
		return log_error_errno(r, "Failed to read kubeconfig '%s': %m", c->kubeconfig);
	r = kapi_new(kc, &c->k);
	kapi_config_free(kc);
	if (r < 0)
		return log_error_errno(r, "Failed to create the API client: %m");
	return 0;
}

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
