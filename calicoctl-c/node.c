/* calicoctl-c node status: this node's BGP peers as BIRD sees them.
 *
 *   node status [--bird-socket PATH] [--state-dir DIR] [-o table|json]
 *
 * The socket defaults to felix-c's: $FELIX_BIRDSOCKETPATH, else
 * <state dir>/bird.ctl with the state dir from --state-dir,
 * $FELIX_STATEDIR, else /var/lib/calico-c.
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bird-config/birdctl.h"
#include "calicoctl-c/bgpstatus.h"
#include "calicoctl-c/ctl.h"
#include "cleanup.h"
#include "log.h"

#define DEFAULT_STATE_DIR "/var/lib/calico-c"

static int print_json(const struct ctl_bgp_peer *peers, size_t n, const char *sock)
{
	json_t *doc = json_pack("{s:s, s:s, s:[]}", "bird", "running", "socket", sock, "peers");
	char *t;

	for (size_t i = 0; doc && i < n; i++) {
		const struct ctl_bgp_peer *p = &peers[i];

		if (json_array_append_new(json_object_get(doc, "peers"),
					  json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:i}",
						    "address", p->address, "port", (int)p->port,
						    "type", ctl_peer_type_to_string(p->type),
						    "protocol", p->proto, "state", p->state,
						    "since", p->since, "info", p->info, "family",
						    p->family == AF_INET6 ? 6 : 4)) < 0) {
			json_decref(doc);
			doc = NULL;
		}
	}
	t = doc ? json_dumps(doc, JSON_INDENT(2)) : NULL;
	json_decref(doc);
	if (!t)
		return ctl_oom();
	puts(t);
	free(t);
	return 0;
}

static int collect(const struct birdctl_status *st, struct ctl_bgp_peer **ret, size_t *ret_n)
{
	struct ctl_bgp_peer *v = calloc(st->n + 1, sizeof(*v));
	size_t n = 0;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < st->n; i++) {
		int r = ctl_bgp_peer_from_proto(&st->protos[i], &v[n]);

		if (r == 0)
			n++;
		else if (r == -EINVAL)
			log_warning("BIRD protocol '%s' looks like ours but names no address, ignoring",
				    st->protos[i].name);
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

static int cmd_status(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = { { "bird-socket", required_argument, NULL, 's' },
					      { "state-dir", required_argument, NULL, 'd' },
					      { "output", required_argument, NULL, 'o' },
					      {} };
	const char *sock = getenv("FELIX_BIRDSOCKETPATH"), *dir = getenv("FELIX_STATEDIR");
	const char *out = "table";
	_cleanup_free_ char *path = NULL;
	_cleanup_free_ struct ctl_bgp_peer *peers = NULL;
	struct birdctl_status st = {};
	size_t n = 0;
	int o, r;

	(void)c;
	while ((o = getopt_long(argc, argv, "o:", opts, NULL)) >= 0) {
		if (o == 's')
			sock = optarg;
		else if (o == 'd')
			dir = optarg, sock = NULL;
		else if (o == 'o' && (!strcmp(optarg, "table") || !strcmp(optarg, "json")))
			out = optarg;
		else
			return log_error_errno(-EINVAL, "node status [--bird-socket PATH] "
							"[--state-dir DIR] [-o table|json]"),
			       2;
	}
	if (!sock || !*sock) {
		if (asprintf(&path, "%s/bird.ctl", dir && *dir ? dir : DEFAULT_STATE_DIR) < 0)
			return ctl_oom(), 1;
		sock = path;
	}
	r = birdctl_show_protocols(sock, &st);
	if (r < 0) {
		printf("BIRD is not running (control socket %s: %s).\n", sock, strerror(-r));
		return 1;
	}
	r = collect(&st, &peers, &n);
	birdctl_status_done(&st);
	if (r < 0)
		return ctl_oom(), 1;
	if (strcmp(out, "json") == 0)
		return print_json(peers, n, sock) < 0 ? 1 : 0;
	printf("BIRD is running (control socket %s).\n", sock);
	ctl_bgp_peers_print(peers, n, stdout);
	return 0;
}

const struct ctl_command ctl_node_commands[] = {
	{ "status", "[--bird-socket PATH] [--state-dir DIR] [-o table|json]: BGP peers from BIRD",
	  cmd_status, NULL },
	{},
};
