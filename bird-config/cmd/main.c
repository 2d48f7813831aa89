/* calico-c-birdcfg: render a node's BIRD config from a JSON file of API
 * objects, install it into a running BIRD, or show BIRD's peers.
 *
 *   calico-c-birdcfg render --input FILE [--connect-retry S] [--router-id ID|hash]
 *   calico-c-birdcfg apply --input FILE --config PATH [--socket PATH] [--bird BIN] [--connect-retry S]
 *                          [--router-id ID|hash]
 *   calico-c-birdcfg status --socket PATH
 *
 * The input is {"node": NAME, "nodes": [...], "bgpconfigurations": [...],
 * "bgppeers": [...], "bgpfilters": [...], "secrets": [...], "ippools": [...],
 * "blockaffinities": [...], "borrowed": ["a.b.c.d/32", ...], "services": [...],
 * "endpointslices": [...]}. Skipped
 * objects are reported on stderr; exit 1 on any error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bird-config/birdcfg.h"
#include "bird-config/birdctl.h"
#include "cleanup.h"
#include "log.h"

struct opts {
	const char *input, *config, *socket, *bird;
	unsigned connect_retry;
	const char *router_id; /* --router-id: as CALICO_ROUTER_ID */
};

static int render(const struct opts *o, char **ret_text)
{
	struct birdcfg_errors errs = {};
	struct birdcfg_input in;
	json_error_t jerr;
	json_t *doc;
	int r;

	if (!o->input)
		return log_error_errno(-EINVAL, "--input is required");
	doc = json_load_file(o->input, 0, &jerr);
	if (!doc)
		return log_error_errno(-EINVAL, "Failed to parse '%s' line %d: %s", o->input,
				       jerr.line, jerr.text);
	r = birdcfg_input_from_json(doc, &in);
	if (r < 0) {
		json_decref(doc);
		return log_error_errno(r, "'%s': needs a \"node\" name, arrays of objects and "
				       "CIDRs in its blocks and borrowed addresses", o->input);
	}
	in.connect_retry_s = o->connect_retry;
	in.router_id = o->router_id;
	r = birdcfg_render(&in, ret_text, &errs);
	for (size_t i = 0; r == 0 && i < errs.n; i++)
		log_warning("%s", errs.msgs[i]);
	birdcfg_errors_done(&errs);
	if (r == -ENOENT)
		log_error("Node '%s' not found or has no valid projectcalico.org/IPv4Address",
			  in.node);
	birdcfg_input_done(&in);
	json_decref(doc);
	return r;
}

static int cmd_status(const struct opts *o)
{
	struct birdctl_status st = {};
	int r;

	if (!o->socket)
		return log_error_errno(-EINVAL, "--socket is required");
	r = birdctl_show_protocols(o->socket, &st);
	if (r < 0)
		return log_error_errno(r, "Failed to read protocols from BIRD at '%s': %m",
				       o->socket);
	printf("%-28s %-8s %-6s %-24s %-14s %s\n", "NAME", "PROTO", "STATE", "SINCE", "INFO",
	       "LAST ERROR");
	for (size_t i = 0; i < st.n; i++)
		printf("%-28s %-8s %-6s %-24s %-14s %s\n", st.protos[i].name, st.protos[i].proto,
		       st.protos[i].state, st.protos[i].since, st.protos[i].info,
		       st.protos[i].last_error);
	birdctl_status_done(&st);
	return 0;
}

static int cmd_apply(const struct opts *o)
{
	_cleanup_free_ char *text = NULL, *msg = NULL;
	bool changed;
	int r;

	if (!o->config)
		return log_error_errno(-EINVAL, "--config is required");
	r = render(o, &text);
	if (r < 0)
		return r;
	r = birdcfg_apply(o->config, text, o->bird, o->socket, &changed, &msg);
	if (r == -EINVAL)
		return log_error_errno(r, "BIRD rejected the rendered config: %s", msg ?: "");
	if (r < 0)
		return log_error_errno(r, "Failed to install '%s': %m", o->config);
	printf("%s\n", changed ? "changed" : "unchanged");
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "input", required_argument, NULL, 'i' },
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "bird", required_argument, NULL, 'b' },
		{ "connect-retry", required_argument, NULL, 'r' },
		{ "router-id", required_argument, NULL, 'R' },
		{}
	};
	struct opts o = {};
	const char *cmd;
	int c, r;

	log_setup(LOG_LEVEL_INFO, NULL, "calico-c-birdcfg");
	if (argc < 2) {
		fprintf(stderr, "usage: calico-c-birdcfg render|apply|status [options]\n");
		return 2;
	}
	cmd = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'i': o.input = optarg; break;
		case 'c': o.config = optarg; break;
		case 's': o.socket = optarg; break;
		case 'b': o.bird = optarg; break;
		case 'r': o.connect_retry = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'R': o.router_id = optarg; break;
		default: return 2;
		}
	}
	if (strcmp(cmd, "render") == 0) {
		_cleanup_free_ char *text = NULL;

		r = render(&o, &text);
		if (r == 0)
			fputs(text, stdout);
	} else if (strcmp(cmd, "apply") == 0) {
		r = cmd_apply(&o);
	} else if (strcmp(cmd, "status") == 0) {
		r = cmd_status(&o);
	} else {
		fprintf(stderr, "calico-c-birdcfg: unknown command '%s'\n", cmd);
		return 2;
	}
	return r < 0 ? 1 : 0;
}
