/* Manifests: documents and Lists flattened, calicoctl's v3 apiVersion
 * rewritten, bad documents named. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "calicoctl-c/manifest.h"
#include "cleanup.h"

static void test_flatten(void **state)
{
	static const char *yaml =
		"apiVersion: projectcalico.org/v3\n"
		"kind: IPPool\n"
		"metadata: {name: a}\n"
		"spec: {cidr: 10.70.0.0/16, blockSize: 26, natOutgoing: true}\n"
		"---\n"
		"apiVersion: v1\n"
		"kind: List\n"
		"items:\n"
		"- {apiVersion: crd.projectcalico.org/v1, kind: BGPPeer, metadata: {name: p},"
		" spec: {peerIP: 10.0.0.1, asNumber: 65001}}\n"
		"- {apiVersion: crd.projectcalico.org/v1, kind: IPPool, metadata: {name: b},"
		" spec: {cidr: '10.71.0.0/16'}}\n"
		"---\n"
		"# empty\n";
	json_t *objs = NULL;
	char *err = NULL;

	(void)state;
	assert_int_equal(ctl_manifest_parse(yaml, strlen(yaml), &objs, &err), 0);
	assert_int_equal(json_array_size(objs), 3);
	assert_string_equal(json_string_value(json_object_get(json_array_get(objs, 0), "apiVersion")),
			    "crd.projectcalico.org/v1");
	assert_int_equal(json_integer_value(json_object_get(
				 json_object_get(json_array_get(objs, 0), "spec"), "blockSize")),
			 26);
	assert_true(json_is_true(json_object_get(json_object_get(json_array_get(objs, 0), "spec"),
						 "natOutgoing")));
	assert_string_equal(json_string_value(json_object_get(json_array_get(objs, 1), "kind")),
			    "BGPPeer");
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(json_array_get(objs, 2), "spec"), "cidr")),
			    "10.71.0.0/16");
	json_decref(objs);
}

static void test_json_input(void **state)
{
	static const char *text = "{\"apiVersion\":\"crd.projectcalico.org/v1\",\"kind\":"
				  "\"IPPoolList\",\"items\":[{\"kind\":\"IPPool\",\"metadata\":"
				  "{\"name\":\"x\"}}]}";
	json_t *objs = NULL;

	(void)state;
	assert_int_equal(ctl_manifest_parse(text, strlen(text), &objs, NULL), 0);
	assert_int_equal(json_array_size(objs), 1);
	json_decref(objs);
}

static void test_bad_documents(void **state)
{
	static const struct {
		const char *text;
		int r;
		const char *msg;
	} v[] = {
		{ "a: 1\n---\n- 1\n- 2\n", -EINVAL, "document 2: not an object" },
		{ "kind: List\nitems: [1]\n", -EINVAL, "document 1, item 1: not an object" },
		{ "kind: List\nitems: {}\n", -EINVAL, "document 1: items is not a list" },
		{ "a: [\n", -EBADMSG, NULL },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		json_t *objs = NULL;
		char *err = NULL;

		assert_int_equal(ctl_manifest_parse(v[i].text, strlen(v[i].text), &objs, &err), v[i].r);
		assert_null(objs);
		assert_non_null(err);
		if (v[i].msg)
			assert_string_equal(err, v[i].msg);
		free(err);
	}
}

/* A v3 policy is stored as Calico's client stores it: a name without a
 * tier prefix is the default tier's; a prefixed name stays; other kinds
 * keep their names. */
static void test_v3_policy_names(void **state)
{
	static const char yaml[] = "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\n"
				   "metadata: {name: deny}\n---\n"
				   "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\n"
				   "metadata: {name: security.db, namespace: shop}\n---\n"
				   "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\n"
				   "metadata: {name: ext}\n---\n"
				   "apiVersion: crd.projectcalico.org/v1\nkind: GlobalNetworkPolicy\n"
				   "metadata: {name: raw}\n";
	static const char *const want[] = { "default.deny", "security.db", "ext", "raw" };
	json_t *objs = NULL;

	(void)state;
	assert_int_equal(ctl_manifest_parse(yaml, strlen(yaml), &objs, NULL), 0);
	assert_int_equal(json_array_size(objs), 4);
	for (size_t i = 0; i < 4; i++) {
		const json_t *o = json_array_get(objs, i);

		assert_string_equal(json_string_value(json_object_get(json_object_get(o, "metadata"),
								      "name")),
				    want[i]);
		assert_string_equal(json_string_value(json_object_get(o, "apiVersion")),
				    "crd.projectcalico.org/v1");
	}
	json_decref(objs);
}

static void test_missing_file(void **state)
{
	json_t *objs = NULL;
	char *err = NULL;

	(void)state;
	assert_int_equal(ctl_manifest_read("/nonexistent/x.yaml", &objs, &err), -ENOENT);
	assert_string_equal(err, "cannot open '/nonexistent/x.yaml': No such file or directory");
	free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flatten),
		cmocka_unit_test(test_json_input),
		cmocka_unit_test(test_bad_documents),
		cmocka_unit_test(test_v3_policy_names),
		cmocka_unit_test(test_missing_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
