/* The pod cache keeps only what the policy model reads: every vector parses
 * to the same policy_pod (or the same error) trimmed and in full. A field
 * policy/model.c starts reading without podtrim_pod() keeping it fails here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "cleanup.h"
#include "podtrim.h"
#include "labelsel.h"
#include "policy/model.h"

#define META "\"metadata\":{\"namespace\":\"ns\",\"name\":\"p\",\"uid\":\"u\",\"resourceVersion\":\"7\"," \
	     "\"labels\":{\"app\":\"web\",\"tier\":\"1\"},\"managedFields\":[{\"manager\":\"kubectl\"}]"

static const char *const pods[] = {
	"{" META "},\"spec\":{\"nodeName\":\"n1\",\"containers\":[{\"name\":\"c\",\"image\":\"i\","
	"\"ports\":[{\"name\":\"http\",\"containerPort\":80},{\"containerPort\":53,\"protocol\":\"UDP\"}]}],"
	"\"initContainers\":[{\"name\":\"i\",\"ports\":[{\"name\":\"init\",\"containerPort\":81,"
	"\"protocol\":\"SCTP\"}]}]},\"status\":{\"phase\":\"Running\",\"podIP\":\"10.65.1.5\","
	"\"podIPs\":[{\"ip\":\"10.65.1.5\"},{\"ip\":\"fd00::5\"}],\"hostIP\":\"172.31.0.11\"}}",
	"{" META ",\"annotations\":{\"cni.projectcalico.org/podIPs\":\"10.65.1.6/32,fd00::6/128\","
	"\"cni.projectcalico.org/podIP\":\"10.65.1.6/32\",\"other\":\"x\"}},\"spec\":{\"nodeName\":\"n1\"}}",
	"{" META ",\"annotations\":{\"cni.projectcalico.org/podIPs\":\"bogus\"}},\"spec\":{}}",
	"{" META "},\"spec\":{\"nodeName\":\"n2\",\"hostNetwork\":true},\"status\":{\"podIP\":\"172.31.0.12\"}}",
	"{" META "},\"spec\":{\"nodeName\":\"n1\"},\"status\":{\"phase\":\"Succeeded\",\"podIP\":\"10.65.1.7\"}}",
	/* errors name the container by its index */
	"{" META "},\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":\"b\",\"ports\":[{\"name\":\"x\","
	"\"containerPort\":70000}]}]}}",
	"{" META "},\"spec\":{\"nodeName\":\"n1\"},\"status\":{\"podIP\":\"10.65.1.999\"}}",
};

static void assert_same_pod(const struct policy_pod *a, const struct policy_pod *b)
{
	assert_string_equal(a->ns, b->ns);
	assert_string_equal(a->name, b->name);
	assert_true((!a->node && !b->node) || (a->node && b->node && !strcmp(a->node, b->node)));
	assert_true(labels_equal(a->labels, b->labels));
	assert_string_equal(a->ifname, b->ifname);
	assert_int_equal(a->host_network, b->host_network);
	assert_int_equal(a->ips_reported, b->ips_reported);
	assert_int_equal(a->bad_ip_annotation, b->bad_ip_annotation);
	assert_int_equal(a->n_ips, b->n_ips);
	assert_int_equal(a->n_unverified, b->n_unverified);
	if (a->n_ips + a->n_unverified)
		assert_memory_equal(a->ips, b->ips, (a->n_ips + a->n_unverified) * sizeof(*a->ips));
	assert_int_equal(a->n_ports, b->n_ports);
	if (a->n_ports)
		assert_memory_equal(a->ports, b->ports, a->n_ports * sizeof(*a->ports));
}

static void test_trimmed_pod_parses_as_the_full_one(void **state)
{
	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(pods); i++) {
		json_t *full = json_loads(pods[i], 0, NULL), *trimmed;
		struct policy_pod *a = NULL, *b = NULL;
		_cleanup_free_ char *ea = NULL, *eb = NULL;
		int ra, rb;

		if (!full)
			fail_msg("vector %zu: bad JSON", i);
		trimmed = podtrim_pod(full);
		assert_non_null(trimmed);
		assert_null(json_object_get(json_object_get(trimmed, "metadata"), "managedFields"));
		ra = policy_pod_from_json(full, &a, &ea);
		rb = policy_pod_from_json(trimmed, &b, &eb);
		if (ra != rb)
			fail_msg("vector %zu: %d in full, %d trimmed", i, ra, rb);
		if (ra < 0)
			assert_string_equal(ea, eb);
		else
			assert_same_pod(a, b);
		policy_pod_free(a);
		policy_pod_free(b);
		json_decref(full);
		json_decref(trimmed);
	}
}

static void test_other_objects_lose_only_managed_fields(void **state)
{
	json_t *o = json_loads("{" META "},\"spec\":{\"cidr\":\"10.65.0.0/16\"}}", 0, NULL), *t;

	(void)state;
	assert_non_null(o);
	t = podtrim_managed_fields(o);
	assert_null(json_object_get(json_object_get(t, "metadata"), "managedFields"));
	json_object_del(json_object_get(o, "metadata"), "managedFields");
	assert_true(json_equal(o, t));
	json_decref(o);
	json_decref(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_trimmed_pod_parses_as_the_full_one),
		cmocka_unit_test(test_other_objects_lose_only_managed_fields),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
