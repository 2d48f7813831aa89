/* Golden tests of the rendered BIRD config (one JSON input per feature in
 * golden/, its expected text beside it; UPDATE_GOLDEN=1 rewrites them), each
 * accepted by `bird -p`; injection attempts and bad values are skipped with
 * a reason and never reach the text. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "bird-config/birdcfg.h"
#include "cleanup.h"
#include "prefix.h"

#define GOLDEN "tests/unit/bird-config/golden/"

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;
	FILE *m;

	if (!f)
		return NULL;
	m = open_memstream(&buf, &len);
	for (int c; (c = fgetc(f)) != EOF;)
		fputc(c, m);
	fclose(m);
	fclose(f);
	return buf;
}

static char *render_doc(json_t *doc, struct birdcfg_errors *errs)
{
	struct birdcfg_input in;
	char *text = NULL;

	assert_int_equal(birdcfg_input_from_json(doc, &in), 0);
	in.connect_retry_s = 1;
	in.router_id = json_string_value(json_object_get(doc, "router_id")); /* CALICO_ROUTER_ID */
	assert_int_equal(birdcfg_render(&in, &text, errs), 0);
	birdcfg_input_done(&in);
	return text;
}

static void assert_bird_accepts(const char *text)
{
	char path[] = "/tmp/test_birdcfg.XXXXXX", cmd[128];
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	snprintf(cmd, sizeof(cmd), "bird -p -c %s", path);
	assert_int_equal(system(cmd), 0);
	unlink(path);
}

static void golden_case(const char *name, const char *const *must, const char *const *must_not)
{
	char in_path[256], out_path[256];
	struct birdcfg_errors errs = {};
	json_error_t jerr;
	json_t *doc;
	char *text, *want, *again;

	snprintf(in_path, sizeof(in_path), GOLDEN "%s.json", name);
	snprintf(out_path, sizeof(out_path), GOLDEN "%s.conf", name);
	doc = json_load_file(in_path, 0, &jerr);
	assert_non_null(doc);
	text = render_doc(doc, &errs);
	for (size_t i = 0; i < errs.n; i++)
		print_message("%s: skipped: %s\n", name, errs.msgs[i]);
	assert_int_equal(errs.n, 0);
	birdcfg_errors_done(&errs);
	if (getenv("UPDATE_GOLDEN")) {
		FILE *f = fopen(out_path, "w");

		assert_non_null(f);
		fputs(text, f);
		fclose(f);
	}
	want = slurp(out_path);
	assert_non_null(want);
	assert_string_equal(text, want);
	for (; must && *must; must++)
		if (!strstr(text, *must))
			fail_msg("%s: missing '%s'", name, *must);
	for (; must_not && *must_not; must_not++)
		if (strstr(text, *must_not))
			fail_msg("%s: unexpected '%s'", name, *must_not);
	/* Deterministic: the same input renders byte-identical text. */
	again = render_doc(doc, &errs);
	birdcfg_errors_done(&errs);
	assert_string_equal(again, text);
	assert_bird_accepts(text);
	free(again);
	free(want);
	free(text);
	json_decref(doc);
}

/* The input document of golden case @name, rendered into @ret_text. */
static json_t *golden_render(const char *name, char **ret_text)
{
	struct birdcfg_errors errs = {};
	char path[256];
	json_error_t jerr;
	json_t *doc;

	snprintf(path, sizeof(path), GOLDEN "%s.json", name);
	doc = json_load_file(path, 0, &jerr);
	assert_non_null(doc);
	*ret_text = render_doc(doc, &errs);
	birdcfg_errors_done(&errs);
	return doc;
}

/* Calico's rule: passive toward a peer whose address is greater as text. */
static void test_mesh_passive_toward_greater_address(void **state)
{
	(void)state;
	golden_case("mesh",
		    (const char *const[]){ "router id 172.31.0.11;", "protocol bgp Mesh_172_31_0_12",
					   "protocol bgp Mesh_172_31_0_13", "passive on",
					   "route 10.65.1.0/26 blackhole;",
					   "net ~ [ 10.65.2.5/32 ]", "krt_source = 80", NULL },
		    (const char *const[]){ "Mesh_172_31_0_11", "10.65.1.64/26", "10.65.2.0/26", NULL });
	golden_case("mesh_passive", NULL, (const char *const[]){ "passive on", NULL });
}

/* The text of "protocol bgp @name { ... }" in @text (static buffer). */
static const char *bgp_block(const char *text, const char *name)
{
	static char buf[4096];
	char head[128];
	const char *b, *e;

	snprintf(head, sizeof(head), "protocol bgp %s {", name);
	b = strstr(text, head);
	if (!b)
		fail_msg("no protocol %s in:\n%s", name, text);
	e = strstr(b, "\n}\n");
	assert_non_null(e);
	assert_true((size_t)(e - b) < sizeof(buf));
	memcpy(buf, b, (size_t)(e - b));
	buf[e - b] = '\0';
	return buf;
}

static void assert_block(const char *text, const char *name, const char *want, bool present)
{
	const char *b = bgp_block(text, name);

	if (!!strstr(b, want) != present)
		fail_msg("%s: '%s' %s:\n%s", name, want, present ? "missing" : "unexpected", b);
}

static char *render_text(const char *doc_text, size_t *ret_nerr)
{
	struct birdcfg_errors errs = {};
	json_error_t jerr;
	json_t *doc = json_loads(doc_text, 0, &jerr);
	char *text;

	if (!doc)
		fail_msg("bad JSON: %s: %s", jerr.text, doc_text);
	text = render_doc(doc, &errs);
	*ret_nerr = errs.n;
	birdcfg_errors_done(&errs);
	json_decref(doc);
	return text;
}

/* Calico's bindMode NodeIP: every session binds its listening socket to the
 * node's address ("strict bind"); None, absent or a bad value: every
 * address (a bad value is reported). */
static void test_bind_mode_node_ip(void **state)
{
	static const struct {
		const char *mode;
		bool strict;
		size_t nerr;
	} v[] = { { "\"NodeIP\"", true, 0 }, { "\"None\"", false, 0 }, { NULL, false, 0 },
		  { "\"nodeip\"", false, 1 } };

	(void)state;
	golden_case("bind_node_ip",
		    (const char *const[]){ "strict bind on;", "local 172.31.0.11 port 178", NULL },
		    NULL);
	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		char doc[512];
		size_t nerr;
		char *text;

		snprintf(doc, sizeof(doc),
			 "{\"node\":\"n1\",\"nodes\":[{\"metadata\":{\"name\":\"n1\","
			 "\"annotations\":{\"projectcalico.org/IPv4Address\":\"10.0.0.1/24\"}}},"
			 "{\"metadata\":{\"name\":\"n2\",\"annotations\":{\"projectcalico.org/"
			 "IPv4Address\":\"10.0.0.2/24\"}}}],\"bgpconfigurations\":[{\"metadata\":"
			 "{\"name\":\"default\"},\"spec\":{%s%s}}]}",
			 v[i].mode ? "\"bindMode\":" : "", v[i].mode ?: "");
		text = render_text(doc, &nerr);
		assert_int_equal(nerr, v[i].nerr);
		assert_block(text, "Mesh_10_0_0_2", "strict bind on;", v[i].strict);
		free(text);
	}
}

/* Calico's reversePeering: a BGPPeer nodeSelector rack a / peerSelector
 * rack b makes the rack-b node peer back with the rack-a nodes (Auto, the
 * default), not with Manual; another value skips the BGPPeer. */
static void test_reverse_peering(void **state)
{
	static const struct {
		const char *mode; /* NULL: absent */
		bool reverse;
		size_t nerr;
	} v[] = { { NULL, true, 0 }, { "Auto", true, 0 }, { "Manual", false, 0 },
		  { "Sometimes", false, 1 } };
	json_error_t jerr;

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		struct birdcfg_errors errs = {};
		json_t *doc = json_load_file(GOLDEN "peers.json", 0, &jerr), *peer = NULL, *it;
		size_t j;
		char *text;

		assert_non_null(doc);
		json_array_foreach (json_object_get(doc, "bgppeers"), j, it)
			if (strcmp(json_string_value(json_object_get(json_object_get(it, "metadata"),
								     "name")), "rack-a") == 0)
				peer = json_object_get(it, "spec");
		assert_non_null(peer);
		if (v[i].mode)
			json_object_set_new(peer, "reversePeering", json_string(v[i].mode));
		json_object_set_new(doc, "node", json_string("node3"));
		text = render_doc(doc, &errs);
		assert_int_equal(errs.n, v[i].nerr);
		birdcfg_errors_done(&errs);
		if (v[i].reverse) {
			assert_block(text, "Node_172_31_0_11", "neighbor 172.31.0.11", true);
			assert_block(text, "Node_172_31_0_12", "neighbor 172.31.0.12", true);
		} else {
			assert_null(strstr(text, "protocol bgp Node_172_31_0_11"));
		}
		free(text);
		/* The forward side is unchanged: node1 dials node3. */
		json_object_set_new(doc, "node", json_string("node1"));
		text = render_doc(doc, &errs);
		birdcfg_errors_done(&errs);
		if (v[i].nerr == 0)
			assert_block(text, "Node_172_31_0_13", "neighbor 172.31.0.13", true);
		free(text);
		json_decref(doc);
	}
}

/* Textual comparison, as Calico's confd does: "10.0.0.9" > "10.0.0.10", so
 * .10 is passive toward .9, while .11 is passive toward .12. Both sides
 * agree, and a Calico node on the other end agrees too. Peers found by a
 * peerSelector follow the same rule; an explicit peerIP never is passive. */
static void test_passive_rule_compares_addresses_as_text(void **state)
{
	static const struct {
		const char *self, *peer;
		bool selector, passive;
	} v[] = {
		{ "10.0.0.9", "10.0.0.10", false, false }, { "10.0.0.10", "10.0.0.9", false, true },
		{ "10.0.0.11", "10.0.0.12", false, true }, { "10.0.0.12", "10.0.0.11", false, false },
		{ "10.0.0.10", "10.0.0.9", true, true },   { "10.0.0.9", "10.0.0.10", true, false },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char doc[1024], name[64];
		size_t nerr;
		char *text;

		snprintf(doc, sizeof(doc),
			 "{\"node\":\"a\",\"nodes\":["
			 "{\"metadata\":{\"name\":\"a\",\"labels\":{\"r\":\"x\"},\"annotations\":{\"projectcalico.org/IPv4Address\":\"%s/24\"}}},"
			 "{\"metadata\":{\"name\":\"b\",\"labels\":{\"r\":\"y\"},\"annotations\":{\"projectcalico.org/IPv4Address\":\"%s/24\"}}}],"
			 "\"bgpconfigurations\":[{\"metadata\":{\"name\":\"default\"},\"spec\":{\"nodeToNodeMeshEnabled\":%s}}],"
			 "\"bgppeers\":[%s{\"metadata\":{\"name\":\"tor\"},\"spec\":{\"peerIP\":\"10.0.0.99\",\"asNumber\":65001}}]}",
			 v[i].self, v[i].peer, v[i].selector ? "false" : "true",
			 v[i].selector ? "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"peerSelector\":\"r == 'y'\"}}," : "");
		text = render_text(doc, &nerr);
		assert_int_equal(nerr, 0);
		snprintf(name, sizeof(name), "%s_%s", v[i].selector ? "Global" : "Mesh", v[i].peer);
		for (char *c = name; *c; c++)
			*c = *c == '.' ? '_' : *c;
		if (!!strstr(bgp_block(text, name), "passive on") != v[i].passive)
			fail_msg("vector %zu: %s toward %s: passive must be %d", i, v[i].self, v[i].peer,
				 v[i].passive);
		assert_block(text, "Global_10_0_0_99", "passive on", false);
		free(text);
	}
}

/* A ToR-facing node: per-node AS, per-node listen ports, mesh password and
 * restart time, the per-peer controls, disabled pools and allowedUses. */
static void test_tor_peer_controls(void **state)
{
	char path[] = GOLDEN "tor.json", *text;
	struct birdcfg_errors errs = {};
	json_error_t jerr;
	json_t *doc;

	(void)state;
	golden_case("tor",
		    (const char *const[]){
			    /* peers' own AS (or the cluster's) and their own listen port */
			    "local 172.31.0.11 port 1790 as 64513;\n\tneighbor 172.31.0.12 port 1790 as 64600;",
			    "neighbor 172.31.0.13 port 1791 as 64513;",
			    /* own blocks (of a disabled pool too) and borrowed /32s never come back */
			    "if net ~ [ 10.65.1.0/26, 10.66.0.0/26, 10.65.2.5/32 ] then reject;",
			    "if net ~ [ 10.65.0.0/16+, 10.66.0.0/16+, 10.70.0.0/16+, 10.90.0.0/24+, 10.91.0.0/24+ ] then accept;",
			    "if !(net ~ [ 10.65.0.0/16+, 10.66.0.0/16+, 10.91.0.0/24+ ]) then reject;",
			    "route 10.66.0.0/26 blackhole;",
			    /* node1's own prefixAdvertisements (names resolved in the default
			     * config) and ignoredInterfaces win over the default ones */
			    "\tif net ~ [ 10.65.0.0/16+ ] then {\n\t\tbgp_community.add((65001,1));\n"
			    "\t\tbgp_large_community.add((65000,7,7));\n\t}\n\taccept;",
			    "interface -\"cali*\", -\"kube-ipvs*\", -\"bond1\", \"*\";", NULL },
		    (const char *const[]){ "(64513,9)", "eth9", NULL });
	doc = json_load_file(path, 0, &jerr);
	assert_non_null(doc);
	text = render_doc(doc, &errs);
	birdcfg_errors_done(&errs);
	for (const char *const *m = (const char *const[]){ "Mesh_172_31_0_12", "Mesh_172_31_0_13", NULL };
	     *m; m++) {
		assert_block(text, *m, "password \"mesh-pass\";", true);
		assert_block(text, *m, "graceful restart time 180;", true);
	}
	assert_block(text, "Node_172_31_0_201", "allow local as 1;", true);
	assert_block(text, "Node_172_31_0_201", "ttl security on;\n\tmultihop 1;", true);
	assert_block(text, "Node_172_31_0_201", "next hop keep;", true);
	assert_block(text, "Node_172_31_0_201", "direct;", false);
	assert_block(text, "Global_172_31_0_202", "local 172.31.0.11 port 1790 as 65100;", true);
	assert_block(text, "Global_172_31_0_202", "next hop self;", true);
	assert_block(text, "Global_172_31_0_202", "allow local as", false);
	/* keepOriginalNextHop is for eBGP peers only; nextHopMode Keep is not. */
	assert_block(text, "Global_172_31_0_203", "next hop self;", true);
	assert_block(text, "Global_172_31_0_204", "next hop keep;", true);
	free(text);

	/* node2 (AS 64600) dials node1 with the cluster's AS, not its own. */
	json_object_set_new(doc, "node", json_string("node2"));
	text = render_doc(doc, &errs);
	birdcfg_errors_done(&errs);
	assert_block(text, "Mesh_172_31_0_11", "local 172.31.0.12 port 1790 as 64600;", true);
	assert_block(text, "Mesh_172_31_0_11", "neighbor 172.31.0.11 port 1790 as 64513;", true);
	assert_non_null(strstr(text, "bgp_community.add((64513,9));"));
	assert_non_null(strstr(text, "-\"eth9\", -\"vxlan*\", \"*\";"));
	free(text);
	json_decref(doc);
}

static void test_global_node_and_selector_peers(void **state)
{
	(void)state;
	golden_case("peers",
		    (const char *const[]){ "protocol bgp Global_172_31_0_201",
					   "protocol bgp Node_172_31_0_202_port_1179",
					   "neighbor 172.31.0.202 port 1179 as 65002;",
					   "protocol bgp Node_172_31_0_13", "local 172.31.0.11 port 1790 as 64513;",
					   "neighbor 192.0.2.1 as 65010;\n\tmultihop;",
					   "{ warning, error, fatal, bug }", NULL },
		    (const char *const[]){ "Mesh_", "172.31.0.203", "Node_172_31_0_12", NULL });
}

static void test_route_reflector_server(void **state)
{
	(void)state;
	golden_case("rr_server",
		    (const char *const[]){ "rr client;\n\trr cluster id 244.0.0.1;",
					   "protocol bgp Node_172_31_0_11", "protocol bgp Node_172_31_0_13",
					   "filter calico_reflect4", "export filter calico_reflect4;", NULL },
		    (const char *const[]){ "Mesh_", NULL });
}

static void test_route_reflector_client(void **state)
{
	(void)state;
	golden_case("rr_client", (const char *const[]){ "protocol bgp Node_172_31_0_12", NULL },
		    (const char *const[]){ "rr client", "Node_172_31_0_13", "Mesh_", NULL });
}

static void test_graceful_restart_password_keepalive(void **state)
{
	(void)state;
	golden_case("gr_password",
		    (const char *const[]){ "password \"s3cret-pass\";", "graceful restart time 90;",
					   "keepalive time 10;", "hold time 30;", NULL },
		    (const char *const[]){ "source address 172.31.0.11;\n\tipv4 {\n\t\timport filter calico_import4;\n\t\texport filter calico_export4;\n\t\tnext hop self;\n\t};\n}\n\nprotocol bgp Global", NULL });
}

static void test_bfd_global_and_per_peer_off(void **state)
{
	(void)state;
	golden_case("bfd", (const char *const[]){ "protocol bfd calico_bfd", "bfd on;", NULL }, NULL);
}

static void test_communities_by_name_and_large(void **state)
{
	(void)state;
	golden_case("communities",
		    (const char *const[]){ "if net ~ [ 10.65.1.0/24+ ] then {",
					   "bgp_community.add((64512,100));",
					   "bgp_large_community.add((65000,1,2));", NULL },
		    NULL);
}

/* IPv6 as Calico renders it: a mesh session per family to each node with
 * an address of that family (an IPv6-only node gets only the IPv6 one),
 * global and node peers with IPv6 peerIPs (direct on our IPv6 subnet,
 * multihop beyond it), each with only the ipv6 channel and the IPv6
 * filters; the export filter admits our IPv6 blocks and borrowed /128s
 * only, as the IPv4 one does blocks and /32s. */
static void test_ipv6_mesh_and_blocks(void **state)
{
	char *text;

	(void)state;
	golden_case("ipv6",
		    (const char *const[]){ "protocol kernel kernel6", "protocol bgp Mesh_fd00_31__12",
					   "protocol bgp Mesh_fd00_31__14",
					   "route fd00:65::/122 blackhole;", "neighbor fd00:31::201 port 179 as 65001;",
					   "filter calico_import6 {\n\tif net ~ [ fd00:65::/122, fd00:65::1:5/128 ] then reject;",
					   "if !(proto = \"calico_blocks6\" || (proto = \"kernel6\" && net ~ [ fd00:65::1:5/128 ])) then reject;",
					   NULL },
		    (const char *const[]){ "Mesh_fd00_31__11", "neighbor fd00:31::11 ", "Mesh_172_31_0_14",
					   "fd00:65::40/122 blackhole", NULL });
	json_decref(golden_render("ipv6", &text));
	assert_block(text, "Node_fd00_99__1", "neighbor fd00:99::1 as 65010;\n\tmultihop;", true);
	assert_block(text, "Node_fd00_99__1", "source address fd00:31::11;", true);
	assert_block(text, "Global_fd00_31__201_port_179", "direct;", true);
	assert_block(text, "Mesh_fd00_31__14", "local fd00:31::11 as 64512;", true);
	assert_block(text, "Mesh_fd00_31__14", "direct;", true);
	for (const char *const *b = (const char *const[]){ "Mesh_fd00_31__12", "Mesh_fd00_31__14",
							   "Node_fd00_99__1", "Global_fd00_31__201_port_179",
							   NULL };
	     *b; b++) {
		assert_block(text, *b, "\tipv6 {\n\t\timport filter calico_import6;\n\t\texport filter calico_export6;", true);
		assert_block(text, *b, "ipv4", false);
	}
	assert_block(text, "Mesh_172_31_0_12", "ipv6", false);
	free(text);
}

/* A route reflector over IPv6: peerSelector peers get a session per family
 * both ends have (node3 has no IPv6 address: IPv4 only), as route
 * reflector clients, with the IPv6 reflect filter. */
static void test_ipv6_route_reflector(void **state)
{
	struct birdcfg_errors errs = {};
	char *text;
	json_t *doc;

	(void)state;
	golden_case("ipv6_rr",
		    (const char *const[]){ "protocol bgp Node_fd00_31__11", "protocol bgp Node_172_31_0_11",
					   "protocol bgp Node_172_31_0_13", "filter calico_reflect6",
					   "route fd00:65::40/122 blackhole;", NULL },
		    (const char *const[]){ "Mesh_", "Node_fd00_31__13", NULL });
	doc = golden_render("ipv6_rr", &text);
	assert_block(text, "Node_fd00_31__11", "rr client;\n\trr cluster id 244.0.0.1;", true);
	assert_block(text, "Node_fd00_31__11", "export filter calico_reflect6;", true);
	assert_block(text, "Node_fd00_31__11", "next hop self", false);
	free(text);

	/* The client (node1) peers with the reflector over both families. */
	json_object_set_new(doc, "node", json_string("node1"));
	text = render_doc(doc, &errs);
	birdcfg_errors_done(&errs);
	assert_block(text, "Node_fd00_31__12", "neighbor fd00:31::12 as 64512;", true);
	assert_block(text, "Node_fd00_31__12", "export filter calico_export6;", true);
	assert_block(text, "Node_172_31_0_12", "export filter calico_export4;", true);
	assert_null(strstr(text, "rr client"));
	assert_bird_accepts(text);
	free(text);
	json_decref(doc);
}

/* An IPv6-only node (no IPv4Address) renders IPv6 only, with the router id
 * CALICO_ROUTER_ID gives; without one nothing can be rendered. */
static void test_ipv6_only_node(void **state)
{
	struct birdcfg_errors errs = {};
	struct birdcfg_input in;
	char *text = NULL;
	json_t *doc;

	(void)state;
	golden_case("ipv6_only",
		    (const char *const[]){ "router id 202.18.243.27;", "protocol bgp Mesh_fd00_31__12",
					   "protocol bgp Global_fd00_31__201", "protocol direct {\n\tipv6;\n\tinterface",
					   "net ~ [ fd00:65::40:7/128 ]", NULL },
		    (const char *const[]){ "ipv4", "kernel4", "Mesh_172", "Global_172", "Mesh_fd00_31__13",
					   NULL });
	doc = golden_render("ipv6_only", &text);
	free(text);
	text = NULL;
	assert_int_equal(birdcfg_input_from_json(doc, &in), 0);
	in.router_id = "192.0.2.77";
	assert_int_equal(birdcfg_render(&in, &text, &errs), 0);
	assert_non_null(strstr(text, "router id 192.0.2.77;"));
	free(text);
	text = NULL;
	birdcfg_errors_done(&errs);
	in.router_id = NULL;
	assert_int_equal(birdcfg_render(&in, &text, &errs), -ENOENT);
	in.router_id = "fd00::1";
	assert_int_equal(birdcfg_render(&in, &text, &errs), -ENOENT);
	assert_null(text);
	birdcfg_input_done(&in);

	/* Node2 (dual stack) dials the IPv6-only node over IPv6 only. */
	json_object_set_new(doc, "node", json_string("node2"));
	text = render_doc(doc, &errs);
	birdcfg_errors_done(&errs);
	assert_non_null(strstr(text, "protocol bgp Mesh_fd00_31__11"));
	assert_non_null(strstr(text, "protocol bgp Mesh_172_31_0_13"));
	assert_null(strstr(text, "Mesh_fd00_31__13"));
	assert_null(strstr(text, "Mesh_172_31_0_11"));
	free(text);
	json_decref(doc);
}

static void test_no_pools_exports_nothing(void **state)
{
	(void)state;
	golden_case("no_pools", (const char *const[]){ "if net ~ [ ] then accept;", NULL }, NULL);
}

/* BGPFilter: one function per filter and direction, rules in order, called
 * first in the peer's own filters; other peers keep the shared ones. */
static void test_bgpfilter_rules_in_calicos_order(void **state)
{
	(void)state;
	golden_case("bgpfilter",
		    (const char *const[]){
			    "function 'bgpfilter_tor-out_export4'() {\n"
			    "\tif (net = 10.65.1.0/26) then reject;\n"
			    "\tif (net ~ [ 77.0.0.0/16{16,32} ]) && (source = RTS_BGP) then accept;\n"
			    "\tif (defined(ifname) && ifname ~ \"*.calico\") then reject;\n}",
			    "function 'bgpfilter_tor-in_import4'() {\n"
			    "\tif (net ~ [ 55.0.0.0/16{30,32} ]) then accept;\n"
			    "\tif (!(net ~ [ 44.0.0.0/16{16,32} ])) then reject;\n"
			    "\tif (net != 44.0.1.0/24) then accept;\n}",
			    "function 'bgpfilter_tor-in_import6'() {\n\treject;\n}",
			    "filter Global_172_31_0_201_import4 {\n\tif net ~ [ 10.65.1.0/26 ] then reject;\n\t'bgpfilter_tor-in_import4'();\n\tif net ~ [ 10.65.0.0/16+ ] then accept;",
			    "filter Global_172_31_0_201_export4 {\n\t'bgpfilter_tor-out_export4'();\n\tif !(net ~",
			    "import filter Global_172_31_0_201_import4;\n\t\texport filter Global_172_31_0_201_export4;",
			    "neighbor 172.31.0.202 as 65002;", NULL },
		    (const char *const[]){ "'bgpfilter_tor-out_import4'", "Global_172_31_0_202_import4", NULL });
}

/* Service IPs as Calico advertises them: the configured CIDRs from every
 * node, a Local service's IPs (inside those CIDRs) as /32 only from a node
 * with a ready endpoint; exported outside the pool rules, with communities. */
static void test_service_ips_advertised_as_calico(void **state)
{
	(void)state;
	golden_case("services",
		    (const char *const[]){
			    "protocol static calico_services4 {\n\tipv4;\n"
			    "\troute 10.96.0.0/12 blackhole;\n\troute 192.0.2.0/24 blackhole;\n"
			    "\troute 198.51.100.0/24 blackhole;\n\troute 10.96.0.10/32 blackhole;\n"
			    "\troute 10.96.0.13/32 blackhole;\n\troute 192.0.2.7/32 blackhole;\n"
			    "\troute 198.51.100.5/32 blackhole;\n}",
			    "filter calico_export4 {\n\tif proto != \"calico_services4\" then {\n",
			    "\tif net ~ [ 10.96.0.0/12+ ] then {\n\t\tbgp_community.add((64512,300));", NULL },
		    (const char *const[]){ "10.96.0.11", "10.96.0.12/", "10.96.0.14", "203.0.113.9",
					   "192.0.2.8", "192.0.2.12", NULL });
}

/* BGPPeer reachableBy (Calico): a static route to the peer's exact address
 * via the gateway, one per address, programmed into the kernel and never
 * advertised; the session is multihop even on our own subnet. */
static void test_reachable_by_static_route_to_peer(void **state)
{
	char path[] = GOLDEN "reachable_by.json", *text;
	struct birdcfg_errors errs = {};
	json_error_t jerr;
	json_t *doc;

	(void)state;
	golden_case("reachable_by",
		    (const char *const[]){
			    "protocol static calico_peers4 {\n\tipv4;\n"
			    "\troute 10.9.0.1/32 via 172.31.0.1;\n"
			    "\troute 172.31.0.201/32 via 172.31.0.2;\n}",
			    "protocol static calico_peers6 {\n\tipv6;\n"
			    "\troute fd00:9::1/128 via fd00:31::1;\n}",
			    "export filter { if source = RTS_BGP || proto = \"calico_peers4\" then accept; reject; };",
			    "export filter { if source = RTS_BGP || proto = \"calico_peers6\" then accept; reject; };",
			    NULL },
		    (const char *const[]){ "10.9.0.2/32", NULL });
	doc = json_load_file(path, 0, &jerr);
	assert_non_null(doc);
	text = render_doc(doc, &errs);
	birdcfg_errors_done(&errs);
	assert_block(text, "Global_172_31_0_201", "multihop;", true);
	assert_block(text, "Global_172_31_0_201", "direct;", false);
	assert_block(text, "Node_10_9_0_1_port_1790", "neighbor 10.9.0.1 port 1790 as 65001;", true);
	/* The export filters admit only blocks, borrowed /32s (kernel) and
	 * service IPs: never a calico_peers route. */
	for (const char *const *f = (const char *const[]){ "filter calico_export4 {",
							   "filter calico_export6 {", NULL };
	     *f; f++) {
		const char *b = strstr(text, *f);
		_cleanup_free_ char *body = NULL;

		assert_non_null(b);
		body = strndup(b, (size_t)(strstr(b, "\n}\n") - b));
		assert_null(strstr(body, "calico_peers"));
		assert_non_null(strstr(body, "calico_blocks"));
	}
	free(text);

	/* Without reachableBy: no static protocol, the kernel filter as before. */
	json_array_clear(json_object_get(doc, "bgppeers"));
	text = render_doc(doc, &errs);
	birdcfg_errors_done(&errs);
	assert_null(strstr(text, "calico_peers"));
	free(text);
	json_decref(doc);
}

/* A reachableBy we cannot render exactly skips that peer only, with a
 * reason; the other peer is rendered. */
static void test_bad_reachable_by_skips_that_peer_only(void **state)
{
	static const struct {
		const char *peer, *reason;
	} v[] = {
		{ "\"peerIP\":\"10.9.0.1\",\"reachableBy\":\"gw1\"", "reachableBy 'gw1' is not an IP address" },
		{ "\"peerIP\":\"10.9.0.1\",\"reachableBy\":\"172.31.0.1/32\"", "is not an IP address" },
		{ "\"peerIP\":\"10.9.0.1\",\"reachableBy\":\"172.31.0.1; export all\"", "is not an IP address" },
		{ "\"peerIP\":\"10.9.0.1\",\"reachableBy\":\"fd00:31::1\"", "not of the peer's address family" },
		{ "\"peerIP\":\"fd00:9::1\",\"reachableBy\":\"172.31.0.1\"", "not of the peer's address family" },
		{ "\"peerIP\":\"fd00:9::1\",\"reachableBy\":\"fe80::1\"", "is link-local" },
		/* the same address on another port through another gateway */
		{ "\"peerIP\":\"10.9.0.2:1790\",\"reachableBy\":\"172.31.0.3\"", "differs from '172.31.0.1'" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct birdcfg_errors errs = {};
		char doc_text[2048];
		json_error_t jerr;
		json_t *doc;
		char *text;

		snprintf(doc_text, sizeof(doc_text),
			 "{\"node\":\"n1\",\"nodes\":[{\"metadata\":{\"name\":\"n1\",\"annotations\":{"
			 "\"projectcalico.org/IPv4Address\":\"172.31.0.11/24\",\"projectcalico.org/IPv6Address\":\"fd00:31::11/64\"}}}],"
			 "\"bgppeers\":[{\"metadata\":{\"name\":\"good\"},\"spec\":{\"peerIP\":\"10.9.0.2\",\"asNumber\":65001,\"reachableBy\":\"172.31.0.1\"}},"
			 "{\"metadata\":{\"name\":\"bad\"},\"spec\":{%s,\"asNumber\":65001}}]}",
			 v[i].peer);
		doc = json_loads(doc_text, 0, &jerr);
		if (!doc)
			fail_msg("vector %zu: bad JSON: %s", i, jerr.text);
		text = render_doc(doc, &errs);
		if (errs.n != 1 || !strstr(errs.msgs[0], v[i].reason))
			fail_msg("vector %zu: %zu errors (first '%s'), want 1 with '%s'", i, errs.n,
				 errs.n ? errs.msgs[0] : "", v[i].reason);
		if (strstr(text, "10.9.0.1") || strstr(text, "fd00:9::1") || strstr(text, "_port_1790") ||
		    strstr(text, "172.31.0.3") || strstr(text, "export all"))
			fail_msg("vector %zu reached the config:\n%s", i, text);
		assert_non_null(strstr(text, "protocol bgp Global_10_9_0_2 {"));
		assert_non_null(strstr(text, "\troute 10.9.0.2/32 via 172.31.0.1;\n"));
		assert_bird_accepts(text);
		birdcfg_errors_done(&errs);
		free(text);
		json_decref(doc);
	}
}

/* Hostile values: each object must be skipped and its text must not appear. */
static void test_injection_attempts_are_skipped(void **state)
{
	static const struct {
		const char *peer, *secret_b64, *marker;
	} v[] = {
		{ "{\"peerIP\":\"172.31.0.201\\\"; }\",\"asNumber\":65001}", NULL, "}\"" },
		{ "{\"peerIP\":\"172.31.0.201\\nprotocol x\",\"asNumber\":65001}", NULL, "protocol x" },
		{ "{\"peerIP\":\"172.31.0.201\",\"asNumber\":\"65001; export all\"}", NULL, "export all" },
		{ "{\"peerIP\":\"172.31.0.201\",\"asNumber\":4294967296}", NULL, "4294967296" },
		/* password 'a"; export all; "' and one with a backslash and a newline */
		{ "{\"peerIP\":\"172.31.0.201\",\"asNumber\":65001,\"password\":{\"secretKeyRef\":{\"name\":\"s\",\"key\":\"k\"}}}",
		  "YSI7IGV4cG9ydCBhbGw7ICI=", "export all" },
		{ "{\"peerIP\":\"172.31.0.201\",\"asNumber\":65001,\"password\":{\"secretKeyRef\":{\"name\":\"s\",\"key\":\"k\"}}}",
		  "YVxiCn0=", "172.31.0.201" },
		/* not base64 (padding missing): skipped, not read as a truncated password */
		{ "{\"peerIP\":\"172.31.0.201\",\"asNumber\":65001,\"password\":{\"secretKeyRef\":{\"name\":\"s\",\"key\":\"k\"}}}",
		  "czNjcmV0LXBhc3M", "172.31.0.201" },
		{ "{\"peerIP\":\"172.31.0.201\",\"asNumber\":65001,\"keepaliveTime\":\"10s; x\"}", NULL, "x;" },
		{ "{\"nodeSelector\":\"rack == 'a' ; }\",\"peerIP\":\"172.31.0.201\",\"asNumber\":65001}", NULL, "172.31.0.201" },
		/* not rendered yet: refused with a reason, never silently dropped */
		{ "{\"peerIP\":\"172.31.0.201\",\"asNumber\":65001,\"filters\":[\"f-one\"]}", NULL, "f-one" },
		{ "{\"peerIP\":\"172.31.0.201\",\"asNumber\":65001,\"filters\":[7]}", NULL, "172.31.0.201" },
		{ "{\"peerIP\":\"172.31.0.201\",\"asNumber\":65001,\"nextHopMode\":\"Sometimes\"}", NULL, "Sometimes" },
		{ "{\"peerIP\":\"172.31.0.201\",\"asNumber\":65001,\"ttlSecurity\":256}", NULL, "256" },
		{ "{\"peerIP\":\"172.31.0.201\",\"asNumber\":65001,\"numAllowedLocalASNumbers\":-1}", NULL, "allow local" },
		{ "{\"peerIP\":\"172.31.0.201\",\"asNumber\":65001,\"localASNumber\":\"x\"}", NULL, "172.31.0.201" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char doc_text[2048];
		struct birdcfg_errors errs = {};
		json_error_t jerr;
		json_t *doc;
		char *text;

		snprintf(doc_text, sizeof(doc_text),
			 "{\"node\":\"n1\",\"nodes\":[{\"metadata\":{\"name\":\"n1\",\"labels\":{\"rack\":\"a\"},"
			 "\"annotations\":{\"projectcalico.org/IPv4Address\":\"172.31.0.11/24\"}}}],"
			 "\"bgppeers\":[{\"metadata\":{\"name\":\"p\"},\"spec\":%s}],"
			 "\"secrets\":[{\"metadata\":{\"name\":\"s\"},\"data\":{\"k\":\"%s\"}}]}",
			 v[i].peer, v[i].secret_b64 ? v[i].secret_b64 : "");
		doc = json_loads(doc_text, 0, &jerr);
		if (!doc)
			fail_msg("vector %zu: bad JSON: %s", i, jerr.text);
		text = render_doc(doc, &errs);
		if (errs.n != 1)
			fail_msg("vector %zu: %zu errors, want 1", i, errs.n);
		if (strstr(text, v[i].marker) || strstr(text, "protocol bgp"))
			fail_msg("vector %zu reached the config:\n%s", i, text);
		assert_bird_accepts(text);
		birdcfg_errors_done(&errs);
		free(text);
		json_decref(doc);
	}
}

/* A BGPFilter we cannot render exactly is never half used: its peers are
 * skipped, each with a reason, the filter's text never appears. */
static void test_unusable_bgpfilter_skips_its_peers(void **state)
{
	static const char *const rules[] = {
		"\"exportV4\":[{\"action\":\"Accept\",\"cidr\":\"10.0.0.0/8\",\"matchOperator\":\"In\",\"operations\":[]}]",
		"\"exportV4\":[{\"action\":\"Maybe\"}]",
		"\"exportV4\":[{\"action\":\"Accept\",\"cidr\":\"10.0.0.0/8\"}]",
		"\"exportV4\":[{\"action\":\"Accept\",\"cidr\":\"fd00::/8\",\"matchOperator\":\"In\"}]",
		"\"exportV4\":[{\"action\":\"Accept\",\"cidr\":\"10.0.0.0/8\",\"matchOperator\":\"Equal\",\"prefixLength\":{\"min\":9}}]",
		"\"exportV4\":[{\"action\":\"Accept\",\"cidr\":\"10.0.0.0/8\",\"matchOperator\":\"In\",\"prefixLength\":{\"min\":7}}]",
		"\"exportV4\":[{\"action\":\"Accept\",\"source\":\"Everywhere\"}]",
		"\"exportV4\":[{\"action\":\"Reject\",\"interface\":\"x\\\"; accept; \\\"\"}]",
		"\"exportV5\":[]",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		char doc[2048];
		size_t nerr;
		char *text;

		snprintf(doc, sizeof(doc),
			 "{\"node\":\"n1\",\"nodes\":[{\"metadata\":{\"name\":\"n1\",\"annotations\":{\"projectcalico.org/IPv4Address\":\"172.31.0.11/24\"}}}],"
			 "\"bgppeers\":[{\"metadata\":{\"name\":\"p\"},\"spec\":{\"peerIP\":\"172.31.0.201\",\"asNumber\":65001,\"filters\":[\"f\"]}}],"
			 "\"bgpfilters\":[{\"metadata\":{\"name\":\"f\"},\"spec\":{%s}}]}",
			 rules[i]);
		text = render_text(doc, &nerr);
		if (nerr != 2) /* the filter, and its peer */
			fail_msg("vector %zu: %zu errors, want 2", i, nerr);
		if (strstr(text, "bgpfilter_") || strstr(text, "protocol bgp") || strstr(text, "accept; \""))
			fail_msg("vector %zu reached the config:\n%s", i, text);
		assert_bird_accepts(text);
		free(text);
	}
}

/* CALICO_ROUTER_ID: the node's address by default, a given IPv4 address,
 * or "hash": SHA-256 of the node name's first 4 bytes, the first octet out
 * of 224..255 (expected values computed apart from this code). */
static void test_router_id_calico_router_id(void **state)
{
	static const struct {
		const char *node, *want_id, *router_id;
		size_t nerr;
	} v[] = {
		{ "node1", "172.31.0.11", NULL, 0 },	     { "node1", "192.0.2.9", "192.0.2.9", 0 },
		{ "node1", "202.18.243.27", "hash", 0 },    { "node16", "200.251.245.244", "hash", 0 },
		{ "node1", "172.31.0.11", "fd00::1", 1 },   { "node1", "172.31.0.11", "1.2.3.4; x", 1 },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct birdcfg_errors errs = {};
		struct birdcfg_input in;
		char doc_text[512], want[64], *text = NULL;
		json_error_t jerr;
		json_t *doc;

		snprintf(doc_text, sizeof(doc_text),
			 "{\"node\":\"%s\",\"nodes\":[{\"metadata\":{\"name\":\"%s\",\"annotations\":"
			 "{\"projectcalico.org/IPv4Address\":\"172.31.0.11/24\"}}}]}",
			 v[i].node, v[i].node);
		doc = json_loads(doc_text, 0, &jerr);
		assert_non_null(doc);
		assert_int_equal(birdcfg_input_from_json(doc, &in), 0);
		in.router_id = v[i].router_id;
		assert_int_equal(birdcfg_render(&in, &text, &errs), 0);
		snprintf(want, sizeof(want), "router id %s;\n", v[i].want_id);
		if (!strstr(text, want) || errs.n != v[i].nerr)
			fail_msg("vector %zu: want '%s' and %zu errors:\n%s", i, want, v[i].nerr, text);
		assert_bird_accepts(text);
		birdcfg_errors_done(&errs);
		birdcfg_input_done(&in);
		free(text);
		json_decref(doc);
	}
}

static void test_bad_communities_and_node_without_address(void **state)
{
	struct birdcfg_errors errs = {};
	struct birdcfg_input in;
	json_error_t jerr;
	char *text = NULL;
	json_t *doc = json_loads(
		"{\"node\":\"n1\",\"nodes\":[{\"metadata\":{\"name\":\"n1\",\"annotations\":{\"projectcalico.org/IPv4Address\":\"172.31.0.11/24\"}}},"
		"{\"metadata\":{\"name\":\"n2\",\"annotations\":{\"projectcalico.org/IPv4Address\":\"not-an-ip\"}}}],"
		"\"bgpconfigurations\":[{\"metadata\":{\"name\":\"default\"},\"spec\":{\"prefixAdvertisements\":"
		"[{\"cidr\":\"10.0.0.0/8\",\"communities\":[\"1:2;\",\"70000:1\",\"1:2:3:4\"]}],"
		"\"ignoredInterfaces\":[\"x\\\"; export all; \\\"\"]}}]}",
		0, &jerr);

	(void)state;
	assert_non_null(doc);
	text = render_doc(doc, &errs);
	/* three bad communities, one bad node address, one bad interface */
	assert_int_equal(errs.n, 5);
	assert_null(strstr(text, "export all"));
	assert_null(strstr(text, "1:2;"));
	assert_null(strstr(text, "bgp_community.add"));
	assert_null(strstr(text, "not-an-ip"));
	birdcfg_errors_done(&errs);
	free(text);

	/* Without a usable address of our own there is no router id. */
	json_object_set_new(doc, "node", json_string("n2"));
	assert_int_equal(birdcfg_input_from_json(doc, &in), 0);
	assert_int_equal(birdcfg_render(&in, &text, &errs), -ENOENT);
	birdcfg_input_done(&in);
	json_object_set_new(doc, "node", json_string("absent"));
	assert_int_equal(birdcfg_input_from_json(doc, &in), 0);
	assert_int_equal(birdcfg_render(&in, &text, &errs), -ENOENT);
	birdcfg_input_done(&in);
	json_object_set_new(doc, "nodes", json_string("x"));
	assert_int_equal(birdcfg_input_from_json(doc, &in), -EINVAL);
	json_decref(doc);
}

/* The document's blocks are the node's confirmed, live BlockAffinities
 * (lib/blockaff.h); a bad CIDR among them or the borrowed addresses
 * refuses the document rather than dropping a route. */
static void test_input_blocks_and_borrowed(void **state)
{
	static const char *const bad[] = {
		"{\"node\":\"n1\",\"borrowed\":[\"10.65.9.7\"]}",
		"{\"node\":\"n1\",\"borrowed\":[\"10.65.9.7/33\"]}",
		"{\"node\":\"n1\",\"blockaffinities\":[{\"spec\":{\"node\":\"n1\","
		"\"state\":\"confirmed\",\"cidr\":\"10.65.1.0/2x\"}}]}",
	};
	struct birdcfg_input in;
	char text[PREFIX_STRLEN];
	json_t *doc = json_loads(
		"{\"node\":\"n1\",\"borrowed\":[\"10.65.9.7/32\",\"fd00::7/128\"],"
		"\"blockaffinities\":["
		"{\"spec\":{\"node\":\"n1\",\"state\":\"confirmed\",\"cidr\":\"10.65.1.0/26\"}},"
		"{\"spec\":{\"node\":\"n1\",\"state\":\"pending\",\"cidr\":\"10.65.2.0/26\"}},"
		"{\"spec\":{\"node\":\"n1\",\"state\":\"confirmed\",\"deleted\":\"true\",\"cidr\":\"10.65.3.0/26\"}},"
		"{\"spec\":{\"node\":\"n2\",\"state\":\"confirmed\",\"cidr\":\"bad\"}},"
		"{\"spec\":{\"node\":\"n1\",\"state\":\"confirmed\",\"deleted\":\"false\",\"cidr\":\"fd00:65::/122\"}}]}",
		0, NULL);

	(void)state;
	assert_non_null(doc);
	assert_int_equal(birdcfg_input_from_json(doc, &in), 0);
	assert_int_equal(in.n_blocks, 2);
	assert_int_equal(prefix_format(&in.blocks[0], false, text, sizeof(text)), 0);
	assert_string_equal(text, "10.65.1.0/26");
	assert_int_equal(prefix_format(&in.blocks[1], false, text, sizeof(text)), 0);
	assert_string_equal(text, "fd00:65::/122");
	assert_int_equal(in.n_borrowed, 2);
	birdcfg_input_done(&in);
	json_decref(doc);
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		doc = json_loads(bad[i], 0, NULL);
		assert_non_null(doc);
		if (birdcfg_input_from_json(doc, &in) != -EINVAL)
			fail_msg("vector %zu accepted", i);
		json_decref(doc);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mesh_passive_toward_greater_address),
		cmocka_unit_test(test_bind_mode_node_ip),
		cmocka_unit_test(test_reverse_peering),
		cmocka_unit_test(test_passive_rule_compares_addresses_as_text),
		cmocka_unit_test(test_tor_peer_controls),
		cmocka_unit_test(test_bgpfilter_rules_in_calicos_order),
		cmocka_unit_test(test_unusable_bgpfilter_skips_its_peers),
		cmocka_unit_test(test_router_id_calico_router_id),
		cmocka_unit_test(test_service_ips_advertised_as_calico),
		cmocka_unit_test(test_reachable_by_static_route_to_peer),
		cmocka_unit_test(test_bad_reachable_by_skips_that_peer_only),
		cmocka_unit_test(test_global_node_and_selector_peers),
		cmocka_unit_test(test_route_reflector_server),
		cmocka_unit_test(test_route_reflector_client),
		cmocka_unit_test(test_graceful_restart_password_keepalive),
		cmocka_unit_test(test_bfd_global_and_per_peer_off),
		cmocka_unit_test(test_communities_by_name_and_large),
		cmocka_unit_test(test_ipv6_mesh_and_blocks),
		cmocka_unit_test(test_ipv6_route_reflector),
		cmocka_unit_test(test_ipv6_only_node),
		cmocka_unit_test(test_no_pools_exports_nothing),
		cmocka_unit_test(test_injection_attempts_are_skipped),
		cmocka_unit_test(test_bad_communities_and_node_without_address),
		cmocka_unit_test(test_input_blocks_and_borrowed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
