#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cni.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct config_vector {
	const char *name;
	enum cni_command cmd;
	const char *json;
	int want_code;		/* 0: success */
	const char *want_in_msg; /* substring of the error message (the field) */
	enum cni_version want_version;
};

static const struct config_vector config_vectors[] = {
	{ "0.3.1", CNI_COMMAND_ADD, "{\"cniVersion\":\"0.3.1\",\"name\":\"k8s-pod-network\",\"type\":\"calico-c\"}", 0, NULL, CNI_VERSION_0_3_1 },
	{ "0.4.0", CNI_COMMAND_ADD, "{\"cniVersion\":\"0.4.0\",\"name\":\"n\",\"type\":\"calico-c\",\"ipam\":{\"type\":\"host-local\"}}", 0, NULL, CNI_VERSION_0_4_0 },
	{ "1.0.0", CNI_COMMAND_DEL, "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"t\"}", 0, NULL, CNI_VERSION_1_0_0 },
	{ "1.1.0", CNI_COMMAND_CHECK, "{\"cniVersion\":\"1.1.0\",\"name\":\"n.1_x-y\",\"type\":\"t\"}", 0, NULL, CNI_VERSION_1_1_0 },
	{ "cniVersions only picks highest", CNI_COMMAND_ADD, "{\"cniVersions\":[\"0.4.0\",\"9.9.9\",\"1.0.0\"],\"name\":\"n\",\"type\":\"t\"}", 0, NULL, CNI_VERSION_1_0_0 },
	{ "cniVersion wins over cniVersions", CNI_COMMAND_ADD, "{\"cniVersion\":\"0.4.0\",\"cniVersions\":[\"1.1.0\"],\"name\":\"n\",\"type\":\"t\"}", 0, NULL, CNI_VERSION_0_4_0 },
	{ "empty ipam is no ipam", CNI_COMMAND_ADD, "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"t\",\"ipam\":{}}", 0, NULL, CNI_VERSION_1_0_0 },
	{ "GC 1.1.0", CNI_COMMAND_GC, "{\"cniVersion\":\"1.1.0\",\"name\":\"n\",\"type\":\"t\",\"cni.dev/valid-attachments\":[{\"containerID\":\"a\",\"ifname\":\"eth0\"}]}", 0, NULL, CNI_VERSION_1_1_0 },
	{ "bad JSON", CNI_COMMAND_ADD, "{\"cniVersion\":\"1.0.0\",", CNI_ERR_DECODE, "decode", 0 },
	{ "empty stdin", CNI_COMMAND_ADD, "", CNI_ERR_DECODE, "decode", 0 },
	{ "not an object", CNI_COMMAND_ADD, "[1,2]", CNI_ERR_DECODE, "not a JSON object", 0 },
	{ "duplicate key", CNI_COMMAND_ADD, "{\"name\":\"a\",\"name\":\"b\"}", CNI_ERR_DECODE, "decode", 0 },
	{ "missing cniVersion", CNI_COMMAND_ADD, "{\"name\":\"n\",\"type\":\"t\"}", CNI_ERR_INVALID_CONFIG, "'cniVersion'", 0 },
	{ "cniVersion not a string", CNI_COMMAND_ADD, "{\"cniVersion\":1,\"name\":\"n\",\"type\":\"t\"}", CNI_ERR_INVALID_CONFIG, "'cniVersion'", 0 },
	{ "cniVersions not an array", CNI_COMMAND_ADD, "{\"cniVersions\":\"1.0.0\",\"name\":\"n\",\"type\":\"t\"}", CNI_ERR_INVALID_CONFIG, "'cniVersions'", 0 },
	{ "unsupported old version", CNI_COMMAND_ADD, "{\"cniVersion\":\"0.2.0\",\"name\":\"n\",\"type\":\"t\"}", CNI_ERR_INCOMPATIBLE_VERSION, "0.2.0", 0 },
	{ "unsupported new version", CNI_COMMAND_ADD, "{\"cniVersion\":\"2.0.0\",\"name\":\"n\",\"type\":\"t\"}", CNI_ERR_INCOMPATIBLE_VERSION, "2.0.0", 0 },
	{ "cniVersions none supported", CNI_COMMAND_ADD, "{\"cniVersions\":[\"0.1.0\"],\"name\":\"n\",\"type\":\"t\"}", CNI_ERR_INCOMPATIBLE_VERSION, "incompatible", 0 },
	{ "garbage version", CNI_COMMAND_ADD, "{\"cniVersion\":\"one\",\"name\":\"n\",\"type\":\"t\"}", CNI_ERR_DECODE, "'cniVersion'", 0 },
	{ "CHECK on 0.3.1", CNI_COMMAND_CHECK, "{\"cniVersion\":\"0.3.1\",\"name\":\"n\",\"type\":\"t\"}", CNI_ERR_INCOMPATIBLE_VERSION, "CHECK", 0 },
	{ "GC on 1.0.0", CNI_COMMAND_GC, "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"t\"}", CNI_ERR_INCOMPATIBLE_VERSION, "GC", 0 },
	{ "STATUS on 0.4.0", CNI_COMMAND_STATUS, "{\"cniVersion\":\"0.4.0\",\"name\":\"n\",\"type\":\"t\"}", CNI_ERR_INCOMPATIBLE_VERSION, "STATUS", 0 },
	{ "missing name", CNI_COMMAND_ADD, "{\"cniVersion\":\"1.0.0\",\"type\":\"t\"}", CNI_ERR_INVALID_CONFIG, "'name'", 0 },
	{ "name not a string", CNI_COMMAND_ADD, "{\"cniVersion\":\"1.0.0\",\"name\":3,\"type\":\"t\"}", CNI_ERR_INVALID_CONFIG, "'name'", 0 },
	{ "name bad first char", CNI_COMMAND_ADD, "{\"cniVersion\":\"1.0.0\",\"name\":\"-x\",\"type\":\"t\"}", CNI_ERR_INVALID_CONFIG, "'name'", 0 },
	{ "name with slash", CNI_COMMAND_ADD, "{\"cniVersion\":\"1.0.0\",\"name\":\"a/b\",\"type\":\"t\"}", CNI_ERR_INVALID_CONFIG, "'name'", 0 },
	{ "missing type", CNI_COMMAND_ADD, "{\"cniVersion\":\"1.0.0\",\"name\":\"n\"}", CNI_ERR_INVALID_CONFIG, "'type'", 0 },
	{ "type is a path", CNI_COMMAND_ADD, "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"../bin/sh\"}", CNI_ERR_INVALID_CONFIG, "'type'", 0 },
	{ "type is an object", CNI_COMMAND_ADD, "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":{}}", CNI_ERR_INVALID_CONFIG, "'type'", 0 },
	{ "ipam not an object", CNI_COMMAND_ADD, "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"t\",\"ipam\":\"host-local\"}", CNI_ERR_INVALID_CONFIG, "'ipam'", 0 },
	{ "ipam without type", CNI_COMMAND_ADD, "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"t\",\"ipam\":{\"subnet\":\"10.0.0.0/8\"}}", CNI_ERR_INVALID_CONFIG, "'ipam.type'", 0 },
	{ "ipam type number", CNI_COMMAND_ADD, "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"t\",\"ipam\":{\"type\":7}}", CNI_ERR_INVALID_CONFIG, "'ipam.type'", 0 },
	{ "runtimeConfig not an object", CNI_COMMAND_ADD, "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"t\",\"runtimeConfig\":[]}", CNI_ERR_INVALID_CONFIG, "'runtimeConfig'", 0 },
	{ "args not an object", CNI_COMMAND_ADD, "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"t\",\"args\":1}", CNI_ERR_INVALID_CONFIG, "'args'", 0 },
	{ "prevResult bad address", CNI_COMMAND_DEL, "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"t\",\"prevResult\":{\"ips\":[{\"address\":\"10.0.0.300/32\"}]}}", CNI_ERR_DECODE, "ips[].address", 0 },
	{ "prevResult ips not array", CNI_COMMAND_DEL, "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"t\",\"prevResult\":{\"ips\":{}}}", CNI_ERR_DECODE, "'ips'", 0 },
	{ "prevResult version mismatch", CNI_COMMAND_DEL, "{\"cniVersion\":\"0.4.0\",\"name\":\"n\",\"type\":\"t\",\"prevResult\":{\"ips\":[{\"version\":\"6\",\"address\":\"10.0.0.1/32\"}]}}", CNI_ERR_DECODE, "ips[].version", 0 },
	{ "prevResult interface index out of range", CNI_COMMAND_DEL, "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"t\",\"prevResult\":{\"interfaces\":[{\"name\":\"eth0\"}],\"ips\":[{\"address\":\"10.0.0.1/32\",\"interface\":3}]}}", CNI_ERR_DECODE, "ips[].interface", 0 },
	{ "valid-attachments not an array", CNI_COMMAND_GC, "{\"cniVersion\":\"1.1.0\",\"name\":\"n\",\"type\":\"t\",\"cni.dev/valid-attachments\":{}}", CNI_ERR_INVALID_CONFIG, "valid-attachments", 0 },
	{ "valid-attachments missing ifname", CNI_COMMAND_GC, "{\"cniVersion\":\"1.1.0\",\"name\":\"n\",\"type\":\"t\",\"cni.dev/valid-attachments\":[{\"containerID\":\"a\"}]}", CNI_ERR_INVALID_CONFIG, "valid-attachments[0]", 0 },
};

static void test_config_parse_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(config_vectors); i++) {
		const struct config_vector *v = &config_vectors[i];
		struct cni_config *c = NULL;
		struct cni_error err = {};
		int r;

		r = cni_config_parse(v->json, strlen(v->json), v->cmd, &c, &err);
		if (v->want_code == 0) {
			if (r != 0)
				fail_msg("vector '%s': want success, got %d: %s", v->name, r, err.msg);
			assert_int_equal(c->version, v->want_version);
			assert_non_null(c->name);
			assert_non_null(c->type);
			c = cni_config_free(c);
			assert_null(c);
			continue;
		}
		if (r >= 0)
			fail_msg("vector '%s': want error code %d, got success", v->name, v->want_code);
		assert_null(c);
		if (err.code != v->want_code)
			fail_msg("vector '%s': want code %d, got %d (%s)", v->name, v->want_code,
				 err.code, err.msg);
		if (!strstr(err.msg, v->want_in_msg))
			fail_msg("vector '%s': message '%s' does not name '%s'", v->name, err.msg,
				 v->want_in_msg);
	}
}

static void test_config_exposes_runtime_fields(void **state)
{
	static const char json[] =
		"{\"cniVersion\":\"1.1.0\",\"name\":\"k8s-pod-network\",\"type\":\"calico-c\","
		"\"ipam\":{\"type\":\"calico-c-ipam\",\"assign_ipv4\":\"true\"},"
		"\"runtimeConfig\":{\"portMappings\":[]},\"args\":{\"cni\":{}},"
		"\"prevResult\":{\"cniVersion\":\"1.1.0\",\"interfaces\":[{\"name\":\"cali0\"},"
		"{\"name\":\"eth0\",\"sandbox\":\"/run/netns/x\",\"mtu\":1450}],"
		"\"ips\":[{\"address\":\"10.65.0.5/32\",\"interface\":1}],"
		"\"routes\":[{\"dst\":\"0.0.0.0/0\",\"gw\":\"169.254.1.1\",\"scope\":0}]},"
		"\"cni.dev/valid-attachments\":[{\"containerID\":\"c1\",\"ifname\":\"eth0\"},"
		"{\"containerID\":\"c2\",\"ifname\":\"net1\"}]}";
	struct cni_config *c = NULL;
	struct cni_error err = {};

	(void)state;
	assert_int_equal(cni_config_parse(json, strlen(json), CNI_COMMAND_GC, &c, &err), 0);
	assert_string_equal(c->ipam_type, "calico-c-ipam");
	assert_string_equal(c->version_string, "1.1.0");
	assert_non_null(c->runtime_config);
	assert_non_null(c->args);
	assert_non_null(c->prev_result);
	assert_int_equal(c->prev_result->n_interfaces, 2);
	assert_string_equal(c->prev_result->interfaces[1].sandbox, "/run/netns/x");
	assert_int_equal(c->prev_result->interfaces[1].mtu, 1450);
	assert_int_equal(c->prev_result->ips[0].interface, 1);
	assert_int_equal(c->prev_result->routes[0].scope, 0);
	assert_true(c->has_valid_attachments);
	assert_int_equal(c->n_valid_attachments, 2);
	assert_string_equal(c->valid_attachments[1].container_id, "c2");
	assert_string_equal(c->valid_attachments[1].ifname, "net1");
	cni_config_free(c);
}

/* A result using every field, so each version's subset is visible. */
static struct cni_result *full_result(void)
{
	struct cni_result *r = cni_result_new();
	struct in_prefix a4, a6, gw4, gw6, any4, any6, gwr;
	int k;

	assert_non_null(r);
	assert_int_equal(prefix_parse("10.65.0.7/32", 0, &a4), 0);
	assert_int_equal(prefix_parse("fd00:65::7/128", 0, &a6), 0);
	assert_int_equal(prefix_parse("169.254.1.1", PREFIX_ALLOW_BARE, &gw4), 0);
	assert_int_equal(prefix_parse("fe80::ecee:eeff:feee:eeee", PREFIX_ALLOW_BARE, &gw6), 0);
	assert_int_equal(prefix_parse("0.0.0.0/0", 0, &any4), 0);
	assert_int_equal(prefix_parse("::/0", 0, &any6), 0);
	assert_int_equal(prefix_parse("169.254.1.1/32", 0, &gwr), 0);
	assert_int_equal(cni_result_add_interface(r, "cali0123456789a", "ee:ee:ee:ee:ee:ee", NULL), 0);
	assert_int_equal(cni_result_add_interface(r, "eth0", "02:00:00:00:00:01", "/run/netns/p"), 1);
	r->interfaces[1].mtu = 1440;
	r->interfaces[1].socket_path = strdup("/run/sock");
	r->interfaces[1].pci_id = strdup("0000:00:01.0");
	assert_int_equal(cni_result_add_ip(r, &a4, &gw4, 1), 0);
	assert_int_equal(cni_result_add_ip(r, &a6, &gw6, 1), 1);
	assert_int_equal(cni_result_add_route(r, &gwr, NULL), 0);
	r->routes[0].scope = 253;
	assert_int_equal(cni_result_add_route(r, &any4, &gw4), 1);
	k = cni_result_add_route(r, &any6, &gw6);
	assert_int_equal(k, 2);
	r->routes[k].mtu = 1400;
	r->routes[k].advmss = 1360;
	r->routes[k].priority = 10;
	r->routes[k].table = 100;
	r->dns = json_pack("{s:[s],s:s}", "nameservers", "10.96.0.10", "domain", "cluster.local");
	return r;
}

static void assert_prefix_equal(const struct in_prefix *a, const struct in_prefix *b)
{
	assert_true(prefix_equal(a, b));
}

static void test_result_round_trip_every_version(void **state)
{
	struct cni_result *in = full_result();

	(void)state;
	for (int v = 0; v < _CNI_VERSION_MAX; v++) {
		json_t *j = cni_result_to_json(in, v);
		struct cni_result *out = NULL;
		struct cni_error err = {};
		bool v11 = v >= CNI_VERSION_1_1_0;

		assert_non_null(j);
		assert_string_equal(json_string_value(json_object_get(j, "cniVersion")),
				    cni_version_to_string(v));
		/* "version" on ips exists only before 1.0.0. */
		assert_int_equal(
			json_object_get(json_array_get(json_object_get(j, "ips"), 0), "version") != NULL,
			v < CNI_VERSION_1_0_0);
		assert_int_equal(json_object_get(json_array_get(json_object_get(j, "interfaces"), 1),
						 "mtu") != NULL,
				 v11);
		assert_int_equal(
			json_object_get(json_array_get(json_object_get(j, "routes"), 0), "scope") != NULL,
			v11);
		assert_int_equal(cni_result_from_json(j, &out, &err), 0);
		assert_int_equal(out->n_interfaces, 2);
		assert_string_equal(out->interfaces[0].name, "cali0123456789a");
		assert_null(out->interfaces[0].sandbox);
		assert_string_equal(out->interfaces[1].mac, "02:00:00:00:00:01");
		assert_string_equal(out->interfaces[1].sandbox, "/run/netns/p");
		assert_int_equal(out->interfaces[1].mtu, v11 ? 1440 : 0);
		if (v11)
			assert_string_equal(out->interfaces[1].pci_id, "0000:00:01.0");
		else
			assert_null(out->interfaces[1].socket_path);
		assert_int_equal(out->n_ips, 2);
		for (size_t i = 0; i < 2; i++) {
			assert_prefix_equal(&out->ips[i].address, &in->ips[i].address);
			assert_prefix_equal(&out->ips[i].gateway, &in->ips[i].gateway);
			assert_int_equal(out->ips[i].interface, 1);
		}
		assert_int_equal(out->n_routes, 3);
		for (size_t i = 0; i < 3; i++) {
			assert_prefix_equal(&out->routes[i].dst, &in->routes[i].dst);
			assert_int_equal(out->routes[i].has_gw, in->routes[i].has_gw);
		}
		assert_int_equal(out->routes[0].scope, v11 ? 253 : -1);
		assert_int_equal(out->routes[2].table, v11 ? 100 : 0);
		assert_int_equal(out->routes[2].advmss, v11 ? 1360 : 0);
		assert_true(json_equal(out->dns, in->dns));
		/* Serializing the parsed copy gives the same JSON again. */
		{
			json_t *j2 = cni_result_to_json(out, v);

			assert_true(json_equal(j, j2));
			json_decref(j2);
		}
		json_decref(j);
		cni_result_free(out);
	}
	cni_result_free(in);
}

static void test_ipam_result_without_interfaces_parses(void **state)
{
	static const char json[] = "{\"cniVersion\":\"0.3.1\",\"ips\":[{\"version\":\"4\","
				   "\"address\":\"10.1.0.2/16\",\"gateway\":\"10.1.0.1\"}],"
				   "\"dns\":{}}";
	json_t *j = json_loads(json, 0, NULL);
	struct cni_result *r = NULL;

	(void)state;
	assert_int_equal(cni_result_from_json(j, &r, NULL), 0);
	assert_int_equal(r->n_interfaces, 0);
	assert_int_equal(r->ips[0].interface, -1);
	assert_int_equal(r->ips[0].address.len, 16);
	assert_true(r->ips[0].has_gateway);
	json_decref(j);
	cni_result_free(r);
}

static void test_args_parse_vectors(void **state)
{
	static const struct {
		const char *in;
		int want_r;
		size_t want_n;
		const char *key, *want_value;
	} v[] = {
		{ NULL, 0, 0, "X", NULL },
		{ "", 0, 0, "X", NULL },
		{ "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;"
		  "K8S_POD_INFRA_CONTAINER_ID=abc",
		  0, 4, "K8S_POD_NAME", "web-0" },
		{ "A=1;;B=2;", 0, 2, "B", "2" },
		{ "A=x=y", 0, 1, "A", "x=y" },
		{ "A=", 0, 1, "A", "" },
		{ "A=1;A=2", 0, 2, "A", "2" },
		{ "A=1;novalue", -EINVAL, 0, NULL, NULL },
		{ "=v", -EINVAL, 0, NULL, NULL },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		struct cni_args a = {};
		struct cni_error err = {};
		int r = cni_args_parse(v[i].in, &a, &err);

		assert_int_equal(r, v[i].want_r);
		if (r < 0) {
			assert_int_equal(err.code, CNI_ERR_INVALID_ENV);
			assert_non_null(strstr(err.msg, "CNI_ARGS"));
			continue;
		}
		assert_int_equal(a.n, v[i].want_n);
		if (v[i].want_value)
			assert_string_equal(cni_args_get(&a, v[i].key), v[i].want_value);
		else
			assert_null(cni_args_get(&a, v[i].key));
		cni_args_done(&a);
	}
}

/* CNI_ARGS_MAX items parse (the last one found), one more is refused. */
static void test_args_parse_rejects_too_many_items(void **state)
{
	char buf[CNI_ARGS_MAX * 8 + 16] = "", key[16];
	struct cni_args a = {};
	struct cni_error err = {};

	(void)state;
	for (int i = 0; i < CNI_ARGS_MAX; i++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "K%d=v%d;", i, i);
	assert_int_equal(cni_args_parse(buf, &a, NULL), 0);
	assert_int_equal(a.n, CNI_ARGS_MAX);
	snprintf(key, sizeof(key), "K%d", CNI_ARGS_MAX - 1);
	assert_string_equal(cni_args_get(&a, key), "v63");
	cni_args_done(&a);
	snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "K%d=v;", CNI_ARGS_MAX);
	assert_int_equal(cni_args_parse(buf, &a, &err), -EINVAL);
	assert_int_equal(a.n, 0);
	assert_int_equal(err.code, CNI_ERR_INVALID_ENV);
	assert_non_null(strstr(err.msg, "more than 64 items"));
}

static void set_env(const char *cmd, const char *id, const char *netns, const char *ifname)
{
	const char *names[] = { "CNI_COMMAND", "CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME" };
	const char *vals[] = { cmd, id, netns, ifname };

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (vals[i])
			setenv(names[i], vals[i], 1);
		else
			unsetenv(names[i]);
}

static void test_env_load_vectors(void **state)
{
	static const struct {
		const char *cmd, *id, *netns, *ifname;
		const char *want_in_msg; /* NULL: success */
	} v[] = {
		{ "ADD", "abc123", "/run/netns/x", "eth0", NULL },
		{ "DEL", "abc123", NULL, "eth0", NULL },
		{ "DEL", "abc123", "", "eth0", NULL },
		{ "CHECK", "a.b_c-d", "/proc/1/ns/net", "eth0", NULL },
		{ "VERSION", NULL, NULL, NULL, NULL },
		{ "GC", NULL, NULL, NULL, NULL },
		{ "STATUS", NULL, NULL, NULL, NULL },
		{ NULL, "abc", "/x", "eth0", "CNI_COMMAND" },
		{ "add", "abc", "/x", "eth0", "CNI_COMMAND" },
		{ "ADD", NULL, "/x", "eth0", "CNI_CONTAINERID" },
		{ "ADD", "-abc", "/x", "eth0", "CNI_CONTAINERID" },
		{ "ADD", "a b", "/x", "eth0", "CNI_CONTAINERID" },
		{ "ADD", "abc", NULL, "eth0", "CNI_NETNS" },
		{ "CHECK", "abc", "", "eth0", "CNI_NETNS" },
		{ "ADD", "abc", "/x", NULL, "CNI_IFNAME" },
		{ "ADD", "abc", "/x", "eth0123456789abc", "CNI_IFNAME" },
		{ "ADD", "abc", "/x", "..", "CNI_IFNAME" },
		{ "ADD", "abc", "/x", "a/b", "CNI_IFNAME" },
		{ "ADD", "abc", "/x", "a:b", "CNI_IFNAME" },
		{ "DEL", "abc", "/x", "a b", "CNI_IFNAME" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		struct cni_env env = {};
		struct cni_error err = {};
		int r;

		set_env(v[i].cmd, v[i].id, v[i].netns, v[i].ifname);
		r = cni_env_load(&env, &err);
		if (!v[i].want_in_msg) {
			if (r != 0)
				fail_msg("env vector %zu: %s", i, err.msg);
			assert_string_equal(cni_command_to_string(env.command), v[i].cmd);
			if (!v[i].netns || !*v[i].netns)
				assert_null(env.netns);
			cni_env_done(&env);
			continue;
		}
		assert_int_equal(r, -EINVAL);
		assert_int_equal(err.code, CNI_ERR_INVALID_ENV);
		if (!strstr(err.msg, v[i].want_in_msg))
			fail_msg("env vector %zu: '%s' does not name %s", i, err.msg, v[i].want_in_msg);
	}
	set_env(NULL, NULL, NULL, NULL);
}

static void test_error_json_has_code_msg_and_version(void **state)
{
	struct cni_error e = {}, back = {};
	json_t *j;

	(void)state;
	assert_int_equal(cni_error_set(&e, CNI_ERR_INVALID_CONFIG, -EINVAL, "bad '%s'", "mtu"),
			 -EINVAL);
	/* The first error wins. */
	cni_error_set(&e, CNI_ERR_IO, -EIO, "later");
	cni_error_set_details(&e, "mtu must be 68..65535");
	j = cni_error_to_json(&e, "0.4.0");
	assert_string_equal(json_string_value(json_object_get(j, "cniVersion")), "0.4.0");
	assert_int_equal(json_integer_value(json_object_get(j, "code")), 7);
	assert_string_equal(json_string_value(json_object_get(j, "msg")), "bad 'mtu'");
	assert_string_equal(json_string_value(json_object_get(j, "details")),
			    "mtu must be 68..65535");
	assert_int_equal(cni_error_from_json(j, &back), 0);
	assert_int_equal(back.code, 7);
	assert_string_equal(back.msg, e.msg);
	json_decref(j);
}

static void test_version_strings(void **state)
{
	(void)state;
	assert_int_equal(cni_version_from_string("1.1.0"), CNI_VERSION_1_1_0);
	assert_int_equal(cni_version_from_string("0.3.0"), _CNI_VERSION_INVALID);
	assert_true(cni_version_is_semver("10.0.1"));
	assert_false(cni_version_is_semver("1.0"));
	assert_false(cni_version_is_semver("1.0.0.0"));
	assert_false(cni_version_is_semver("1.0.x"));
	assert_false(cni_version_is_semver(""));
	assert_int_equal(cni_command_from_string("STATUS"), CNI_COMMAND_STATUS);
	assert_int_equal(cni_command_from_string("status"), _CNI_COMMAND_INVALID);
}

/* The node of a plugin call: "nodename", else $NODENAME, else the first
 * line of "nodename_file", else the hostname. */
static void test_node_name_order(void **state)
{
	char file[] = "/tmp/test-nodename-XXXXXX", buf[64], cfg[200];
	int fd = mkstemp(file);
	json_t *j;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "node-from-file\nrest", 19), 19);
	close(fd);
	setenv("NODENAME", "node-from-env", 1);
	j = json_loads("{\"nodename\":\"node-from-config\"}", 0, NULL);
	assert_int_equal(cni_node_name(j, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "node-from-config");
	assert_int_equal(cni_node_name(j, buf, 8), -ENAMETOOLONG);
	json_decref(j);
	snprintf(cfg, sizeof(cfg), "{\"nodename\":\"\",\"nodename_file\":\"%s\"}", file);
	j = json_loads(cfg, 0, NULL);
	assert_int_equal(cni_node_name(j, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "node-from-env");
	unsetenv("NODENAME");
	assert_int_equal(cni_node_name(j, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "node-from-file");
	json_decref(j);
	unlink(file);
	j = json_loads("{\"nodename_file\":\"/nonexistent/nodename\"}", 0, NULL);
	assert_int_equal(cni_node_name(j, buf, sizeof(buf)), 0);
	assert_true(buf[0] != '\0'); /* the hostname */
	json_decref(j);
}

static void test_version_write_lists_all(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	json_t *j;

	(void)state;
	assert_int_equal(cni_version_write(f, "{\"cniVersion\":\"0.4.0\"}", 22), 0);
	fclose(f);
	j = json_loads(buf, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(j, "cniVersion")), "0.4.0");
	assert_int_equal(json_array_size(json_object_get(j, "supportedVersions")), 4);
	json_decref(j);
	free(buf);
	/* A version we do not speak is answered in the latest. */
	buf = NULL;
	f = open_memstream(&buf, &len);
	assert_int_equal(cni_version_write(f, "{\"cniVersion\":\"9.9.9\"}", 22), 0);
	fclose(f);
	j = json_loads(buf, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(j, "cniVersion")), "1.1.0");
	json_decref(j);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_parse_vectors),
		cmocka_unit_test(test_config_exposes_runtime_fields),
		cmocka_unit_test(test_result_round_trip_every_version),
		cmocka_unit_test(test_ipam_result_without_interfaces_parses),
		cmocka_unit_test(test_args_parse_vectors),
		cmocka_unit_test(test_args_parse_rejects_too_many_items),
		cmocka_unit_test(test_env_load_vectors),
		cmocka_unit_test(test_error_json_has_code_msg_and_version),
		cmocka_unit_test(test_version_strings),
		cmocka_unit_test(test_version_write_lists_all),
		cmocka_unit_test(test_node_name_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
