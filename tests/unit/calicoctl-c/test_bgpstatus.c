/* node status: BIRD protocol rows -> peers (type from bird-config's names),
 * and the table printed from them. */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bird-config/birdctl.h"
#include "calicoctl-c/bgpstatus.h"
#include "cleanup.h"

static void test_peer_from_proto(void **state)
{
	static const struct {
		const char *name, *proto, *info, *last_error;
		int want_r;
		const char *type, *addr;
		unsigned port;
		const char *want_info;
	} v[] = {
		{ "Mesh_172_31_0_12", "BGP", "Established", "", 0, "node-to-node mesh", "172.31.0.12",
		  0, "Established" },
		{ "Global_172_31_0_201", "BGP", "Active        Socket: Connection refused  ",
		  "Socket: Connection refused", 0, "global",
		  "172.31.0.201", 0, "Active Socket: Connection refused" },
		{ "Node_10_0_0_1_port_1790", "BGP", "Connect", "", 0, "node specific", "10.0.0.1",
		  1790, "Connect" },
		{ "Mesh_fd00__12", "BGP", "Established", "", 0, "node-to-node mesh", "fd00::12", 0,
		  "Established" },
		{ "Global_2001_db8__1_port_179", "BGP", "Idle", "", 0, "global", "2001:db8::1", 179,
		  "Idle" },
		{ "Node_2001__1_2", "BGP", "Idle", "", 0, "node specific", "2001::1:2", 0, "Idle" },
		{ "kernel4", "Kernel", "", "", -ENOENT, NULL, NULL, 0, NULL },
		{ "device1", "Device", "", "", -ENOENT, NULL, NULL, 0, NULL },
		{ "tor1", "BGP", "Established", "", -ENOENT, NULL, NULL, 0, NULL },
		{ "Mesh_", "BGP", "", "", -EINVAL, NULL, NULL, 0, NULL },
		{ "Mesh_node2", "BGP", "", "", -EINVAL, NULL, NULL, 0, NULL },
		{ "Global_10_0_0_1_port_0", "BGP", "", "", -EINVAL, NULL, NULL, 0, NULL },
		{ "Static_10_0_0_1", "Static", "", "", -ENOENT, NULL, NULL, 0, NULL },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		struct birdctl_proto p = {};
		struct ctl_bgp_peer peer;
		int r;

		snprintf(p.name, sizeof(p.name), "%s", v[i].name);
		snprintf(p.proto, sizeof(p.proto), "%s", v[i].proto);
		snprintf(p.state, sizeof(p.state), "up");
		snprintf(p.since, sizeof(p.since), "12:00:01");
		snprintf(p.info, sizeof(p.info), "%s", v[i].info);
		snprintf(p.last_error, sizeof(p.last_error), "%s", v[i].last_error);
		r = ctl_bgp_peer_from_proto(&p, &peer);
		if (r != v[i].want_r)
			fail_msg("%s: got %d want %d", v[i].name, r, v[i].want_r);
		if (r < 0)
			continue;
		assert_string_equal(ctl_peer_type_to_string(peer.type), v[i].type);
		assert_string_equal(peer.address, v[i].addr);
		assert_int_equal(peer.port, v[i].port);
		assert_string_equal(peer.info, v[i].want_info);
		assert_string_equal(peer.proto, v[i].name);
		assert_string_equal(peer.state, "up");
		assert_string_equal(peer.since, "12:00:01");
	}
}

/* From BIRD's text (the parser of bird-config) to our table. */
static void test_table_from_bird_reply(void **state)
{
	static const char *reply =
		"2002-Name       Proto      Table      State  Since         Info\n"
		"1002-device1    Device     ---        up     12:00:00.123  \n"
		"1002-Mesh_172_31_0_12 BGP        ---        up     12:00:05.000  Established   \n"
		"1006-  BGP state:          Established\n"
		"       Neighbor address: 172.31.0.12\n"
		"1002-Global_172_31_0_201 BGP        ---        start  12:00:00.500  Active        "
		"Socket: Connection refused\n"
		"1006-  BGP state:          Active\n"
		"       Neighbor address: 172.31.0.201\n"
		"       Last error:       Socket: Connection refused\n"
		"0000 \n";
	struct birdctl_status st = {};
	struct ctl_bgp_peer peers[8];
	char *out = NULL;
	size_t n = 0, len = 0;
	FILE *f;

	(void)state;
	assert_int_equal(birdctl_parse_protocols(reply, &st), 0);
	for (size_t i = 0; i < st.n; i++)
		if (ctl_bgp_peer_from_proto(&st.protos[i], &peers[n]) == 0)
			n++;
	assert_int_equal(n, 2);
	f = open_memstream(&out, &len);
	ctl_bgp_peers_print(peers, n, f);
	fclose(f);
	assert_non_null(strstr(out, "| 172.31.0.12  | node-to-node mesh | up    |"));
	assert_non_null(strstr(out, "| 172.31.0.201 | global            | start | 12:00:00.500 | "
				    "Active Socket: Connection refused |"));
	assert_non_null(strstr(out, "No IPv6 peers found."));
	free(out);
	birdctl_status_done(&st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_peer_from_proto),
		cmocka_unit_test(test_table_from_bird_reply),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
