/* ClusterInformation as felix-c writes it for Calico's tools: a version
 * calicoctl accepts, a clusterType, our identity in an annotation; an old
 * object (calicoVersion "calico-c", no clusterType) is patched, an up to
 * date one is left alone, a clusterType Calico's installer wrote is kept. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <jansson.h>

#include "felix-c/calicodata.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_and_patch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
