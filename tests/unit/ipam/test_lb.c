/* Calico's LoadBalancer IPAM rules (ipam/lb.h): the assign mode, the handle
 * of a Service (known answers computed apart with Python's hashlib and
 * base64.urlsafe_b64encode), which Services are managed, what their
 * annotations ask for (bad ones refused with the field named), and which
 * held addresses still fit. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <jansson.h>

#include "ipam/lb.h"

#define OFF 100 /* the controller is off */

static void test_assign_mode_from_kubecontrollersconfiguration(void **state)
{
	static const struct {
		const char *kcc;
		int want;
	} v[] = {
		{ NULL, IPAM_LB_ALL_SERVICES },
		{ "{\"spec\":{}}", OFF },
		{ "{\"spec\":{\"controllers\":{\"node\":{}}}}", OFF },
		{ "{\"spec\":{\"controllers\":{\"loadBalancer\":null}}}", OFF },
		{ "{\"spec\":{\"controllers\":{\"loadBalancer\":{}}}}", IPAM_LB_ALL_SERVICES },
		{ "{\"spec\":{\"controllers\":{\"loadBalancer\":{\"assignIPs\":\"AllServices\"}}}}",
		  IPAM_LB_ALL_SERVICES },
		{ "{\"spec\":{\"controllers\":{\"loadBalancer\":{\"assignIPs\":"
		  "\"RequestedServicesOnly\"}}}}", IPAM_LB_REQUESTED_SERVICES_ONLY },
		{ "{\"spec\":{\"controllers\":{\"loadBalancer\":{\"assignIPs\":\"Automatic\"}}}}",
		  -EINVAL },
		{ "{\"spec\":{\"controllers\":{\"loadBalancer\":{\"assignIPs\":7}}}}", -EINVAL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		json_t *kcc = v[i].kcc ? json_loads(v[i].kcc, 0, NULL) : NULL;
		enum ipam_lb_assign_mode m = _IPAM_LB_ASSIGN_INVALID;
		char *err = NULL;
		int r = ipam_lb_assign_mode_of(kcc, &m, &err);

		if (v[i].want < 0) {
			assert_int_equal(r, v[i].want);
			assert_non_null(strstr(err, "assignIPs"));
		} else if (v[i].want == OFF) {
			assert_int_equal(r, 0);
		} else {
			assert_int_equal(r, 1);
			assert_int_equal(m, v[i].want);
		}
		free(err);
		json_decref(kcc);
	}
}

static void test_handle_is_calicos(void **state)
{
	char h[IPAM_LB_HANDLE_MAX];

	(void)state;
	assert_int_equal(ipam_lb_handle("web", "fx", "0b6f6c1e-7d0e-4d7e-9d36-1f0f1a2b3c4d", h), 0);
	assert_string_equal(h, "lb-MSmk3IzsgWzdLwTCJGTARjt4c8MPmoHUoIHVLtGA4");
	/* Lower-cased before hashing. */
	assert_int_equal(ipam_lb_handle("Web-LB", "Default", "ABC", h), 0);
	assert_string_equal(h, "lb-G0YfrmbDGOKSJDpMpqc6viw3SnV3Ty1VGWqNxtYWEXQ");
	assert_int_equal(ipam_lb_handle("web", "fx", "", h), -EINVAL);
	assert_int_equal(ipam_lb_handle(NULL, "fx", "u", h), -EINVAL);
}

static void load_pools(struct ipam_pools *ret)
{
	static const char *const pools[] = {
		"{\"metadata\":{\"name\":\"lb\"},\"spec\":{\"cidr\":\"10.200.0.0/24\","
		"\"allowedUses\":[\"LoadBalancer\"]}}",
		"{\"metadata\":{\"name\":\"lb-manual\"},\"spec\":{\"cidr\":\"10.201.0.0/24\","
		"\"allowedUses\":[\"LoadBalancer\"],\"assignmentMode\":\"Manual\"}}",
		"{\"metadata\":{\"name\":\"lb6\"},\"spec\":{\"cidr\":\"fd00:200::/120\","
		"\"allowedUses\":[\"LoadBalancer\"]}}",
		"{\"metadata\":{\"name\":\"pods\"},\"spec\":{\"cidr\":\"192.168.0.0/16\"}}",
	};

	ret->n = sizeof(pools) / sizeof(pools[0]);
	ret->items = calloc(ret->n, sizeof(*ret->items));
	assert_non_null(ret->items);
	for (size_t i = 0; i < ret->n; i++) {
		json_t *o = json_loads(pools[i], 0, NULL);

		assert_int_equal(ipam_pool_from_json(o, &ret->items[i], NULL), 0);
		json_decref(o);
	}
}

/* A Service: type, class ("" none), annotations as a JSON object text. */
static json_t *svc(const char *type, const char *cls, const char *ann, const char *families)
{
	json_t *s = json_pack("{s:{s:s,s:s,s:s},s:{s:s}}", "metadata", "name", "web", "namespace",
			      "fx", "uid", "u1", "spec", "type", type);

	assert_non_null(s);
	if (*cls)
		json_object_set_new(json_object_get(s, "spec"), "loadBalancerClass",
				    json_string(cls));
	if (ann)
		json_object_set_new(json_object_get(s, "metadata"), "annotations",
				    json_loads(ann, 0, NULL));
	if (families)
		json_object_set_new(json_object_get(s, "spec"), "ipFamilies",
				    json_loads(families, 0, NULL));
	return s;
}

static void test_which_services_are_managed(void **state)
{
#define REQ_ANN "{\"projectcalico.org/ipv4pools\":\"[\\\"lb\\\"]\"}"
	static const struct {
		const char *type, *cls, *ann;
		enum ipam_lb_assign_mode mode;
		bool managed;
	} v[] = {
		{ "LoadBalancer", "", NULL, IPAM_LB_ALL_SERVICES, true },
		{ "LoadBalancer", "calico", NULL, IPAM_LB_ALL_SERVICES, true },
		{ "LoadBalancer", "other.io/lb", NULL, IPAM_LB_ALL_SERVICES, false },
		{ "ClusterIP", "", NULL, IPAM_LB_ALL_SERVICES, false },
		{ "NodePort", "", REQ_ANN, IPAM_LB_ALL_SERVICES, false },
		{ "LoadBalancer", "", NULL, IPAM_LB_REQUESTED_SERVICES_ONLY, false },
		{ "LoadBalancer", "", REQ_ANN, IPAM_LB_REQUESTED_SERVICES_ONLY, true },
		{ "LoadBalancer", "calico", NULL, IPAM_LB_REQUESTED_SERVICES_ONLY, true },
		{ "LoadBalancer", "other.io/lb", REQ_ANN, IPAM_LB_REQUESTED_SERVICES_ONLY, false },
	};
	struct ipam_pools pools = {};

	(void)state;
	load_pools(&pools);
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		json_t *s = svc(v[i].type, v[i].cls, v[i].ann, NULL);
		struct ipam_lb_request r;

		assert_int_equal(ipam_lb_request_of(s, v[i].mode, &pools, &r, NULL), 0);
		if (r.managed != v[i].managed)
			fail_msg("vector %zu: managed %d, want %d", i, r.managed, v[i].managed);
		json_decref(s);
	}
	ipam_pools_done(&pools);
}

static void test_annotations_parsed_and_bad_ones_refused(void **state)
{
	static const struct {
		const char *ann, *families;
		const char *err; /* NULL: valid */
		size_t n_ips, n_v4, n_v6;
		unsigned num_v4, num_v6;
	} v[] = {
		{ NULL, NULL, NULL, 0, 0, 0, 1, 0 },
		{ NULL, "[\"IPv4\",\"IPv6\"]", NULL, 0, 0, 0, 1, 1 },
		{ NULL, "[\"IPv6\"]", NULL, 0, 0, 0, 0, 1 },
		{ "{\"projectcalico.org/loadBalancerIPs\":\"[\\\"10.200.0.7\\\"]\"}", NULL, NULL, 1,
		  0, 0, 1, 0 },
		{ "{\"projectcalico.org/loadBalancerIPs\":\"[\\\"10.200.0.7\\\",\\\"fd00:200::7\\\"]\"}",
		  NULL, NULL, 2, 0, 0, 1, 0 },
		{ "{\"projectcalico.org/ipv4pools\":\"[\\\"lb\\\",\\\"10.201.0.0/24\\\"]\"}", NULL, NULL,
		  0, 2, 0, 1, 0 },
		{ "{\"projectcalico.org/ipv6pools\":\"[\\\"lb6\\\"]\"}", "[\"IPv6\"]", NULL, 0, 0, 1, 0,
		  1 },
		{ "{\"projectcalico.org/loadBalancerIPs\":\"10.200.0.7\"}", NULL,
		  "projectcalico.org/loadBalancerIPs is not a JSON list", 0, 0, 0, 0, 0 },
		{ "{\"projectcalico.org/loadBalancerIPs\":\"[7]\"}", NULL, "not a JSON list", 0, 0, 0, 0, 0 },
		{ "{\"projectcalico.org/loadBalancerIPs\":\"[\\\"10.200.0.300\\\"]\"}", NULL,
		  "'10.200.0.300' is no IP address", 0, 0, 0, 0, 0 },
		{ "{\"projectcalico.org/loadBalancerIPs\":\"[\\\"10.200.0.7\\\",\\\"10.200.0.8\\\"]\"}",
		  NULL, "more than one IPv4 address", 0, 0, 0, 0, 0 },
		{ "{\"projectcalico.org/ipv4pools\":\"[\\\"nope\\\"]\"}", NULL, "no IPPool 'nope'", 0, 0, 0, 0, 0 },
		{ "{\"projectcalico.org/ipv4pools\":\"[\\\"pods\\\"]\"}", NULL,
		  "IPPool 'pods' does not allow LoadBalancer", 0, 0, 0, 0, 0 },
		{ "{\"projectcalico.org/ipv4pools\":\"[\\\"lb6\\\"]\"}", NULL, "IPPool 'lb6' is IPv6", 0, 0, 0, 0, 0 },
		{ "{\"projectcalico.org/ipv6pools\":\"[]\"}", NULL, "names 0 or more", 0, 0, 0, 0, 0 },
	};
	struct ipam_pools pools = {};

	(void)state;
	load_pools(&pools);
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		json_t *s = svc("LoadBalancer", "", v[i].ann, v[i].families);
		struct ipam_lb_request r = {};
		char *err = NULL;
		int ret = ipam_lb_request_of(s, IPAM_LB_ALL_SERVICES, &pools, &r, &err);

		if (v[i].err) {
			assert_int_equal(ret, -EINVAL);
			if (!err || !strstr(err, v[i].err))
				fail_msg("vector %zu: error '%s', want '%s'", i, err ?: "",
					 v[i].err);
		} else {
			assert_int_equal(ret, 0);
			assert_true(r.managed);
			assert_int_equal(r.n_ips, v[i].n_ips);
			assert_int_equal(r.n_v4_pools, v[i].n_v4);
			assert_int_equal(r.n_v6_pools, v[i].n_v6);
			assert_int_equal(r.num_v4, v[i].num_v4);
			assert_int_equal(r.num_v6, v[i].num_v6);
		}
		free(err);
		json_decref(s);
	}
	ipam_pools_done(&pools);
}

static void test_held_address_fits_request(void **state)
{
	static const struct {
		const char *ann, *addr;
		bool fits;
	} v[] = {
		{ NULL, "10.200.0.5", true },
		{ NULL, "10.201.0.5", false }, /* Manual pool, not requested */
		{ NULL, "192.168.0.5", false }, /* no LoadBalancer pool */
		{ NULL, "10.9.9.9", false },
		{ "{\"projectcalico.org/ipv4pools\":\"[\\\"lb-manual\\\"]\"}", "10.201.0.5", true },
		{ "{\"projectcalico.org/ipv4pools\":\"[\\\"lb-manual\\\"]\"}", "10.200.0.5", false },
		{ "{\"projectcalico.org/loadBalancerIPs\":\"[\\\"10.200.0.7\\\"]\"}", "10.200.0.7",
		  true },
		{ "{\"projectcalico.org/loadBalancerIPs\":\"[\\\"10.200.0.7\\\"]\"}", "10.200.0.5",
		  false },
	};
	struct ipam_pools pools = {};

	(void)state;
	load_pools(&pools);
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		json_t *s = svc("LoadBalancer", "", v[i].ann, NULL);
		struct ipam_lb_request r;
		struct ipam_addr a;

		assert_int_equal(ipam_lb_request_of(s, IPAM_LB_ALL_SERVICES, &pools, &r, NULL), 0);
		assert_int_equal(ipam_addr_parse(v[i].addr, &a), 0);
		if (ipam_lb_addr_fits(&r, &pools, &a) != v[i].fits)
			fail_msg("vector %zu: %s fits %d", i, v[i].addr, !v[i].fits);
		json_decref(s);
	}
	/* An unmanaged Service keeps nothing. */
	{
		json_t *s = svc("ClusterIP", "", NULL, NULL);
		struct ipam_lb_request r;
		struct ipam_addr a;

		assert_int_equal(ipam_lb_request_of(s, IPAM_LB_ALL_SERVICES, &pools, &r, NULL), 0);
		assert_int_equal(ipam_addr_parse("10.200.0.5", &a), 0);
		assert_false(ipam_lb_addr_fits(&r, &pools, &a));
		json_decref(s);
	}
	ipam_pools_done(&pools);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_assign_mode_from_kubecontrollersconfiguration),
		cmocka_unit_test(test_handle_is_calicos),
		cmocka_unit_test(test_which_services_are_managed),
		cmocka_unit_test(test_annotations_parsed_and_bad_ones_refused),
		cmocka_unit_test(test_held_address_fits_request),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
