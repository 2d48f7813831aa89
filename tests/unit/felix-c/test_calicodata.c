/* ClusterInformation as felix-c writes it for Calico's tools: a version
 * calicoctl accepts, a clusterType, our identity in an annotation; an old
 * object (calicoVersion "calico-c", no clusterType) is patched, an up to
 * date one is left alone, a clusterType Calico's installer wrote is kept. */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <jansson.h>

#include "felix-c/calicodata.h"
#include "prefix.h"

static const char *str_at(const json_t *o, const char *a, const char *b)
{
	return json_string_value(json_object_get(json_object_get(o, a), b));
}

static void test_new_and_patch(void **state)
{
	json_t *ci, *p, *old;

	(void)state;
	ci = calicodata_cluster_info_new("0123", "v3.31.0");
	assert_non_null(ci);
	assert_string_equal(str_at(ci, "spec", "calicoVersion"), "v3.31.0");
	assert_string_equal(str_at(ci, "spec", "clusterType"), "k8s,bgp,kdd");
	assert_string_equal(str_at(ci, "spec", "clusterGUID"), "0123");
	assert_true(json_is_true(json_object_get(json_object_get(ci, "spec"), "datastoreReady")));
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(
				    ci, "metadata"), "annotations"), "calico-c/datastore")), "calico-c");
	assert_null(calicodata_cluster_info_patch(ci, "v3.31.0"));

	p = calicodata_cluster_info_patch(ci, "v3.31.2");
	assert_non_null(p);
	assert_string_equal(str_at(p, "spec", "calicoVersion"), "v3.31.2");
	json_decref(p);
	json_decref(ci);

	old = json_loads("{\"metadata\":{\"name\":\"default\"},\"spec\":{\"calicoVersion\":"
			 "\"calico-c\",\"datastoreReady\":true}}", 0, NULL);
	p = calicodata_cluster_info_patch(old, "v3.31.0");
	assert_non_null(p);
	assert_string_equal(str_at(p, "spec", "calicoVersion"), "v3.31.0");
	assert_string_equal(str_at(p, "spec", "clusterType"), "k8s,bgp,kdd");
	json_decref(p);
	json_decref(old);

	old = json_loads("{\"spec\":{\"calicoVersion\":\"v3.30.0\",\"clusterType\":"
			 "\"k8s,bgp,kubeadm,kdd\",\"datastoreReady\":false}}", 0, NULL);
	p = calicodata_cluster_info_patch(old, "v3.31.0");
	assert_string_equal(str_at(p, "spec", "clusterType"), "k8s,bgp,kubeadm,kdd");
	assert_true(json_is_true(json_object_get(json_object_get(p, "spec"), "datastoreReady")));
	json_decref(p);
	json_decref(old);
}

/* The default pools: one per family, Calico's names and shape. */
static void test_default_pools(void **state)
{
	json_t *p4 = calicodata_default_pool("10.65.0.0/16", 26, true);
	json_t *p6 = calicodata_default_pool("fd00:65::/48", 122, false);

	(void)state;
	assert_non_null(p4);
	assert_non_null(p6);
	assert_string_equal(str_at(p4, "metadata", "name"), "default-ipv4-ippool");
	assert_string_equal(str_at(p6, "metadata", "name"), "default-ipv6-ippool");
	assert_string_equal(str_at(p6, "spec", "cidr"), "fd00:65::/48");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(p6, "spec"),
							    "blockSize")), 122);
	assert_true(json_is_false(json_object_get(json_object_get(p6, "spec"), "natOutgoing")));
	assert_true(json_is_true(json_object_get(json_object_get(p4, "spec"), "natOutgoing")));
	assert_string_equal(str_at(p6, "spec", "nodeSelector"), "all()");
	assert_string_equal(str_at(p6, "spec", "ipipMode"), "Never");
	assert_null(calicodata_default_pool("fd00:65::1/48", 122, false)); /* host bits */
	assert_null(calicodata_default_pool("none", 26, false));
	json_decref(p4);
	json_decref(p6);
}

static void test_pool_families(void **state)
{
	static const struct {
		const char *items;
		bool v4, v6;
	} v[] = {
		{ "[]", false, false },
		{ "[{\"spec\":{\"cidr\":\"10.65.0.0/16\"}}]", true, false },
		{ "[{\"spec\":{\"cidr\":\"fd00:65::/48\"}}]", false, true },
		{ "[{\"spec\":{\"cidr\":\"fd00:65::/48\"}},{\"spec\":{\"cidr\":\"10.0.0.0/8\"}}]",
		  true, true },
		{ "[{\"spec\":{\"cidr\":\"bogus\"}},{\"spec\":{}}]", false, false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		json_t *items = json_loads(v[i].items, 0, NULL);
		bool v4 = !v[i].v4, v6 = !v[i].v6;

		assert_non_null(items);
		calicodata_pool_families(items, &v4, &v6);
		if (v4 != v[i].v4 || v6 != v[i].v6)
			fail_msg("%s: got v4=%d v6=%d", v[i].items, v4, v6);
		json_decref(items);
	}
}

static void test_random_ula48(void **state)
{
	char a[64], b[64];
	struct in_prefix p;

	(void)state;
	assert_int_equal(calicodata_random_ula48(a, sizeof(a)), 0);
	assert_int_equal(calicodata_random_ula48(b, sizeof(b)), 0);
	assert_int_equal(prefix_parse(a, PREFIX_REJECT_HOST, &p), 0);
	assert_int_equal(p.family, AF_INET6);
	assert_int_equal(p.len, 48);
	assert_int_equal(p.addr[0], 0xfd);
	assert_string_not_equal(a, b); /* 40 random bits */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_and_patch),
		cmocka_unit_test(test_default_pools),
		cmocka_unit_test(test_pool_families),
		cmocka_unit_test(test_random_ula48),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
