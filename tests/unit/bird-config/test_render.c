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
	assert_int_equal(birdcfg_render(&in, &text, errs), 0);
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

static void test_mesh_lower_ip_is_active(void **state)
{
	(void)state;
	golden_case("mesh",
		    (const char *const[]){ "router id 172.31.0.11;", "protocol bgp Mesh_172_31_0_12",
					   "protocol bgp Mesh_172_31_0_13",
					   "route 10.65.1.0/26 blackhole;",
					   "net ~ [ 10.65.2.5/32 ]", "krt_source = 80", NULL },
		    (const char *const[]){ "passive on", "Mesh_172_31_0_11", "10.65.1.64/26",
					   "10.65.2.0/26", "10.80.0.0", NULL });
}

static void test_mesh_higher_ip_is_passive(void **state)
{
	(void)state;
	golden_case("mesh_passive", (const char *const[]){ "passive on", NULL }, NULL);
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

static void test_ipv6_mesh_and_blocks(void **state)
{
	(void)state;
	golden_case("ipv6",
		    (const char *const[]){ "protocol kernel kernel6", "protocol bgp Mesh_fd00_31__12",
					   "route fd00:65::/122 blackhole;", "neighbor fd00:31::201 port 179 as 65001;",
					   NULL },
		    NULL);
}

static void test_no_pools_exports_nothing(void **state)
{
	(void)state;
	golden_case("no_pools", (const char *const[]){ "if net ~ [ ] then accept;", NULL }, NULL);
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
		"[{\"cidr\":\"10.0.0.0/8\",\"communities\":[\"1:2;\",\"70000:1\",\"1:2:3:4\"]}]}}]}",
		0, &jerr);

	(void)state;
	assert_non_null(doc);
	text = render_doc(doc, &errs);
	/* three bad communities, one bad node address */
	assert_int_equal(errs.n, 4);
	assert_null(strstr(text, "1:2;"));
	assert_null(strstr(text, "bgp_community.add"));
	assert_null(strstr(text, "not-an-ip"));
	birdcfg_errors_done(&errs);
	free(text);

	/* Without a usable address of our own there is no router id. */
	json_object_set_new(doc, "node", json_string("n2"));
	assert_int_equal(birdcfg_input_from_json(doc, &in), 0);
	assert_int_equal(birdcfg_render(&in, &text, &errs), -ENOENT);
	json_object_set_new(doc, "node", json_string("absent"));
	assert_int_equal(birdcfg_input_from_json(doc, &in), 0);
	assert_int_equal(birdcfg_render(&in, &text, &errs), -ENOENT);
	json_object_set_new(doc, "nodes", json_string("x"));
	assert_int_equal(birdcfg_input_from_json(doc, &in), -EINVAL);
	json_decref(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mesh_lower_ip_is_active),
		cmocka_unit_test(test_mesh_higher_ip_is_passive),
		cmocka_unit_test(test_global_node_and_selector_peers),
		cmocka_unit_test(test_route_reflector_server),
		cmocka_unit_test(test_route_reflector_client),
		cmocka_unit_test(test_graceful_restart_password_keepalive),
		cmocka_unit_test(test_bfd_global_and_per_peer_off),
		cmocka_unit_test(test_communities_by_name_and_large),
		cmocka_unit_test(test_ipv6_mesh_and_blocks),
		cmocka_unit_test(test_no_pools_exports_nothing),
		cmocka_unit_test(test_injection_attempts_are_skipped),
		cmocka_unit_test(test_bad_communities_and_node_without_address),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
