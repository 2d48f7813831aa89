#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cni.h"
#include "cni-plugin/conf.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Members spliced into a valid config: {"cniVersion":"0.4.0","name":"k8s-pod-network","type":"calico-c", <extra>} */
static const struct {
	const char *extra;
	int want_code; /* 0: accepted */
	const char *want_in_msg;
} vectors[] = {
	/* Calico's documented conflist entry, as written in its docs. */
	{ "\"log_level\":\"info\",\"log_file_path\":\"/var/log/calico/cni/cni.log\","
	  "\"datastore_type\":\"kubernetes\",\"nodename\":\"node1\",\"mtu\":1440,"
	  "\"ipam\":{\"type\":\"calico-ipam\"},\"policy\":{\"type\":\"k8s\"},"
	  "\"kubernetes\":{\"kubeconfig\":\"/etc/cni/net.d/calico-kubeconfig\"},"
	  "\"container_settings\":{\"allow_ip_forwarding\":false}",
	  0, NULL },
	{ "\"policy\":{\"type\":\"kubernetes\"},\"ipam\":{\"type\":\"calico-c-ipam\","
	  "\"assign_ipv4\":\"true\",\"assign_ipv6\":true}",
	  0, NULL },
	{ "\"ipam\":{\"type\":\"host-local\",\"subnet\":\"10.0.0.0/24\"},\"mtu\":68", 0, NULL },
	{ "\"mtu\":1440", CNI_ERR_INVALID_CONFIG, "'ipam.type'" },
	{ "\"ipam\":{\"type\":\"host-local\"},\"mtu\":\"1440\"", CNI_ERR_INVALID_CONFIG, "'mtu'" },
	{ "\"ipam\":{\"type\":\"host-local\"},\"mtu\":0", 0, NULL }, /* 0 = not set */
	{ "\"ipam\":{\"type\":\"host-local\"},\"mtu\":67", CNI_ERR_INVALID_CONFIG, "'mtu'" },
	{ "\"ipam\":{\"type\":\"host-local\"},\"mtu\":-1", CNI_ERR_INVALID_CONFIG, "'mtu'" },
	{ "\"ipam\":{\"type\":\"host-local\"},\"mtu\":65536", CNI_ERR_INVALID_CONFIG, "'mtu'" },
	{ "\"ipam\":{\"type\":\"host-local\"},\"datastore_type\":\"etcdv3\"",
	  CNI_ERR_UNSUPPORTED_FIELD, "'datastore_type': 'etcdv3'" },
	{ "\"ipam\":{\"type\":\"host-local\"},\"policy\":{\"type\":\"calico\"}",
	  CNI_ERR_UNSUPPORTED_FIELD, "'policy.type': 'calico'" },
	{ "\"ipam\":{\"type\":\"host-local\"},\"policy\":\"k8s\"", CNI_ERR_INVALID_CONFIG, "'policy'" },
	{ "\"ipam\":{\"type\":\"host-local\"},\"kubernetes\":{\"kubeconfig\":5}",
	  CNI_ERR_INVALID_CONFIG, "'kubernetes.kubeconfig'" },
	{ "\"ipam\":{\"type\":\"host-local\"},\"kubernetes\":[]", CNI_ERR_INVALID_CONFIG,
	  "'kubernetes'" },
	{ "\"ipam\":{\"type\":\"host-local\"},\"log_level\":\"chatty\"", CNI_ERR_INVALID_CONFIG,
	  "'log_level'" },
	{ "\"ipam\":{\"type\":\"host-local\"},\"nodename\":[]", CNI_ERR_INVALID_CONFIG, "'nodename'" },
	{ "\"ipam\":{\"type\":\"host-local\",\"assign_ipv4\":\"yes\"}", CNI_ERR_INVALID_CONFIG,
	  "'ipam.assign_ipv4'" },
	{ "\"ipam\":{\"type\":\"host-local\",\"assign_ipv4\":false}", CNI_ERR_INVALID_CONFIG,
	  "both false" },
};

static void test_conf_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(vectors); i++) {
		char json[1024];
		struct cni_config *c = NULL;
		struct cni_error err = {};
		struct plugin_conf p;
		int r;

		snprintf(json, sizeof(json),
			 "{\"cniVersion\":\"0.4.0\",\"name\":\"k8s-pod-network\",\"type\":\"calico-c\",%s}",
			 vectors[i].extra);
		r = cni_config_parse(json, strlen(json), CNI_COMMAND_ADD, &c, &err);
		if (r < 0)
			fail_msg("vector %zu: cni_config_parse: %s", i, err.msg);
		r = plugin_conf_parse(c, &p, &err);
		if (!vectors[i].want_code) {
			if (r < 0)
				fail_msg("vector %zu: want success, got %s", i, err.msg);
		} else {
			assert_int_equal(r, -EINVAL);
			if (err.code != vectors[i].want_code || !strstr(err.msg, vectors[i].want_in_msg))
				fail_msg("vector %zu: want code %d naming %s, got %d '%s'", i,
					 vectors[i].want_code, vectors[i].want_in_msg, err.code, err.msg);
		}
		cni_config_free(c);
	}
}

static void test_conf_values_and_defaults(void **state)
{
	static const char json[] =
		"{\"cniVersion\":\"1.1.0\",\"name\":\"n\",\"type\":\"calico-c\",\"mtu\":1440,"
		"\"log_level\":\"debug\",\"kubernetes\":{\"kubeconfig\":\"/k\"},"
		"\"ipam\":{\"type\":\"calico-c-ipam\",\"assign_ipv6\":\"true\"}}";
	static const char minimal[] = "{\"cniVersion\":\"1.1.0\",\"name\":\"n\",\"type\":\"calico-c\","
				      "\"ipam\":{\"type\":\"host-local\"}}";
	struct cni_config *c = NULL;
	struct plugin_conf p;

	(void)state;
	assert_int_equal(cni_config_parse(json, strlen(json), CNI_COMMAND_ADD, &c, NULL), 0);
	assert_int_equal(plugin_conf_parse(c, &p, NULL), 0);
	assert_int_equal(p.mtu, 1440);
	assert_int_equal(p.log_level, LOG_LEVEL_DEBUG);
	assert_string_equal(p.kubeconfig, "/k");
	assert_true(p.assign_ipv4);
	assert_true(p.assign_ipv6);
	assert_true(p.ipam_is_calico);
	cni_config_free(c);

	assert_int_equal(cni_config_parse(minimal, strlen(minimal), CNI_COMMAND_ADD, &c, NULL), 0);
	assert_int_equal(plugin_conf_parse(c, &p, NULL), 0);
	assert_int_equal(p.mtu, 0);
	assert_string_equal(p.mtu_file, CONF_DEFAULT_MTU_FILE);
	assert_null(p.kubeconfig);
	assert_null(p.log_file_path);
	assert_int_equal(p.log_level, LOG_LEVEL_INFO);
	assert_true(p.assign_ipv4);
	assert_false(p.assign_ipv6);
	assert_false(p.ipam_is_calico);
	cni_config_free(c);
}

static void test_calico_bool_strings(void **state)
{
	bool b = false;

	(void)state;
	assert_int_equal(plugin_conf_bool("True", &b), 0);
	assert_true(b);
	assert_int_equal(plugin_conf_bool("false", &b), 0);
	assert_false(b);
	assert_int_equal(plugin_conf_bool("1", &b), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conf_vectors),
		cmocka_unit_test(test_conf_values_and_defaults),
		cmocka_unit_test(test_calico_bool_strings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
