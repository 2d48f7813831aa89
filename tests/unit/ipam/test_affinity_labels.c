/* BlockAffinity labels as Calico writes and looks them up: the hostname-hash
 * (SHA3-256, base32 without padding), affinity-type and ip-version, and
 * spec.type host filled in when absent. The expected hashes were computed
 * independently (Python's hashlib.sha3_256 and base64.b32encode). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "ipam/ipam.h"

static void test_host_hash(void **state)
{
	char buf[64];

	(void)state;
	assert_int_equal(ipam_affinity_host_hash("node1", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "7DS2CCNJGGLTHBDQLLFO6SX24SY2YDDEG3W2VN556FA2W4DLLV5A");
	assert_int_equal(ipam_affinity_host_hash("kind-worker2.example.com", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "7WTPIN2U7JQSZVZVFUAUN6L5FKUF33DLYFUGIV2AL4WZY3K5DTMQ");
	assert_int_equal(ipam_affinity_host_hash("node1", buf, 52), -ENOSPC);
}

static json_t *labels_of(const char *text)
{
	json_t *obj = json_loads(text, 0, NULL);

	assert_non_null(obj);
	assert_int_equal(ipam_affinity_set_labels(obj), 0);
	return obj;
}

static void test_set_labels(void **state)
{
	json_t *o, *l;

	(void)state;
	o = labels_of("{\"metadata\":{\"name\":\"a\",\"labels\":{\"keep\":\"me\"}},"
		      "\"spec\":{\"node\":\"node1\",\"cidr\":\"10.0.0.0/26\"}}");
	l = json_object_get(json_object_get(o, "metadata"), "labels");
	assert_string_equal(json_string_value(json_object_get(l, "projectcalico.org/hostname-hash")),
			    "7DS2CCNJGGLTHBDQLLFO6SX24SY2YDDEG3W2VN556FA2W4DLLV5A");
	assert_string_equal(json_string_value(json_object_get(l, "projectcalico.org/affinity-type")),
			    "host");
	assert_string_equal(json_string_value(json_object_get(l, "projectcalico.org/ip-version")),
			    "4");
	assert_string_equal(json_string_value(json_object_get(l, "keep")), "me");
	assert_string_equal(json_string_value(json_object_get(json_object_get(o, "spec"), "type")),
			    "host");
	json_decref(o);

	/* another type is kept and labelled as such; IPv6 is version 6 */
	o = labels_of("{\"metadata\":{\"name\":\"b\"},\"spec\":{\"node\":\"n\","
		      "\"cidr\":\"fd00::/122\",\"type\":\"virtual\"}}");
	l = json_object_get(json_object_get(o, "metadata"), "labels");
	assert_string_equal(json_string_value(json_object_get(l, "projectcalico.org/affinity-type")),
			    "virtual");
	assert_string_equal(json_string_value(json_object_get(l, "projectcalico.org/ip-version")),
			    "6");
	json_decref(o);

	o = json_loads("{\"metadata\":{},\"spec\":{\"cidr\":\"10.0.0.0/26\"}}", 0, NULL);
	assert_int_equal(ipam_affinity_set_labels(o), -EINVAL);
	json_decref(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_hash),
		cmocka_unit_test(test_set_labels),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
