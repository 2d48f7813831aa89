#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "ipam/block.h"

/* A block in the shape Calico writes (a /30 keeps the arrays readable):
 * ordinals 0 and 2 allocated to two pods, 1 and 3 free, plus fields we do
 * not know, which must survive a read-modify-write. */
static const char *calico_block =
	"{\"apiVersion\":\"crd.projectcalico.org/v1\",\"kind\":\"IPAMBlock\","
	"\"metadata\":{\"name\":\"10-65-0-0-30\",\"resourceVersion\":\"123\","
	"\"uid\":\"u-1\",\"annotations\":{\"x\":\"y\"}},"
	"\"spec\":{\"cidr\":\"10.65.0.0/30\",\"affinity\":\"host:node1\","
	"\"allocations\":[0,null,1,null],\"unallocated\":[3,1],"
	"\"attributes\":[{\"handle_id\":\"k8s-pod-network.aaa\",\"secondary\":{"
	"\"namespace\":\"default\",\"node\":\"node1\",\"pod\":\"p1\",\"timestamp\":\"t\"}},"
	"{\"handle_id\":\"k8s-pod-network.bbb\",\"secondary\":{\"namespace\":\"default\","
	"\"node\":\"node1\",\"pod\":\"p2\",\"timestamp\":\"t\"}}],"
	"\"sequenceNumber\":7,\"sequenceNumberForAllocation\":{\"0\":3,\"2\":6},"
	"\"strictAffinity\":false,\"deleted\":false,\"futureField\":{\"a\":1}}}";

static struct ipam_block *parse_ok(const char *text)
{
	json_t *j = json_loads(text, 0, NULL);
	struct ipam_block *b = NULL;
	char *err = NULL;
	int r;

	assert_non_null(j);
	r = ipam_block_from_json(j, &b, &err);
	if (r != 0)
		fail_msg("parse failed: %d %s", r, err ? err : "");
	json_decref(j);
	return b;
}

static void test_calico_block_parses(void **state)
{
	struct ipam_block *b = parse_ok(calico_block);

	(void)state;
	assert_int_equal(b->n, 4);
	assert_int_equal(ipam_block_in_use(b), 2);
	assert_int_equal(ipam_block_free_count(b), 2);
	assert_true(ipam_block_is_affine_to(b, NULL, "node1"));
	assert_false(ipam_block_is_affine_to(b, NULL, "node"));
	assert_false(ipam_block_is_affine_to(b, NULL, "node12"));
	assert_string_equal(ipam_block_attr_of(b, 2)->handle_id, "k8s-pod-network.bbb");
	assert_string_equal(ipam_attr_secondary(ipam_block_attr_of(b, 0), "pod"), "p1");
	assert_null(ipam_block_attr_of(b, 1));
	assert_int_equal(b->seq, 7);
	assert_int_equal(ipam_block_count_handle(b, "k8s-pod-network.aaa"), 1);
	ipam_block_free(b);
}

static void test_round_trip_keeps_everything(void **state)
{
	struct ipam_block *b = parse_ok(calico_block), *b2;
	json_t *orig = json_loads(calico_block, 0, NULL), *out, *out2;
	char *s;

	(void)state;
	out = ipam_block_to_json(b);
	assert_non_null(out);
	/* Nothing changed: the serialization equals Calico's object. */
	assert_true(json_equal(out, orig));
	s = json_dumps(out, 0);
	b2 = parse_ok(s);
	out2 = ipam_block_to_json(b2);
	assert_true(json_equal(out, out2));
	free(s);
	json_decref(out);
	json_decref(out2);
	json_decref(orig);
	ipam_block_free(b);
	ipam_block_free(b2);
}

static void test_assign_takes_fifo_front_and_records_sequence(void **state)
{
	struct ipam_block *b = parse_ok(calico_block);
	struct ipam_alloc_attrs a = { .handle_id = "h3", .ns = "ns", .pod = "p3", .node = "node1" };
	uint32_t ords[4];
	json_t *out;
	char *s;

	(void)state;
	ipam_block_touch(b);
	assert_int_equal(ipam_block_assign(b, 1, &a, ords), 1);
	assert_int_equal(ords[0], 3); /* unallocated[0] */
	assert_int_equal(b->seq_for_alloc[3], 8);
	assert_int_equal(ipam_block_assign(b, 5, &a, ords), 1); /* only one left */
	assert_int_equal(ords[0], 1);
	assert_int_equal(ipam_block_free_count(b), 0);
	assert_int_equal(ipam_block_assign(b, 1, &a, ords), 0);
	/* identical attributes are shared */
	assert_int_equal(b->n_attrs, 3);
	out = ipam_block_to_json(b);
	s = json_dumps(json_object_get(out, "spec"), JSON_SORT_KEYS | JSON_COMPACT);
	assert_non_null(strstr(s, "\"allocations\":[0,2,1,2]"));
	assert_non_null(strstr(s, "\"unallocated\":[]"));
	assert_non_null(strstr(s, "\"sequenceNumberForAllocation\":{\"0\":3,\"1\":8,\"2\":6,\"3\":8}"));
	free(s);
	json_decref(out);
	ipam_block_free(b);
}

static void test_release_with_stale_sequence_is_refused(void **state)
{
	struct ipam_block *b = parse_ok(calico_block);
	uint64_t stale = 2, good = 3;

	(void)state;
	assert_int_equal(ipam_block_release_ordinal(b, 0, &stale), -ESTALE);
	assert_int_equal(ipam_block_in_use(b), 2);
	assert_int_equal(ipam_block_release_ordinal(b, 0, &good), 1);
	/* already free: success, nothing done */
	assert_int_equal(ipam_block_release_ordinal(b, 0, &good), 0);
	assert_int_equal(ipam_block_release_ordinal(b, 9, NULL), -ERANGE);
	/* freed ordinal goes to the back of the FIFO */
	assert_int_equal(b->unallocated[b->n_unallocated - 1], 0);
	/* attribute 0 dropped and indexes renumbered: ordinal 2 now points at 0 */
	assert_int_equal(b->n_attrs, 1);
	assert_int_equal(b->allocations[2], 0);
	assert_string_equal(ipam_block_attr_of(b, 2)->handle_id, "k8s-pod-network.bbb");
	ipam_block_free(b);
}

static void test_release_by_handle(void **state)
{
	struct ipam_block *b = parse_ok(calico_block);

	(void)state;
	assert_int_equal(ipam_block_release_handle(b, "k8s-pod-network.bbb"), 1);
	assert_int_equal(ipam_block_release_handle(b, "k8s-pod-network.bbb"), 0);
	assert_int_equal(ipam_block_release_handle(b, "nope"), 0);
	assert_int_equal(ipam_block_in_use(b), 1);
	assert_int_equal(b->n_attrs, 1);
	ipam_block_free(b);
}

static void test_new_block_is_all_free_and_serializes(void **state)
{
	struct ipam_cidr c;
	struct ipam_block *b = NULL, *b2;
	json_t *out;
	char *s;

	(void)state;
	assert_int_equal(ipam_cidr_parse("fd00::40/122", true, &c), 0);
	assert_int_equal(ipam_block_new(&c, NULL, "node2", &b), 0);
	assert_int_equal(b->n, 64);
	assert_int_equal(ipam_block_free_count(b), 64);
	assert_string_equal(b->name, "fd00--40-122");
	out = ipam_block_to_json(b);
	s = json_dumps(out, 0);
	b2 = parse_ok(s);
	assert_true(ipam_block_is_affine_to(b2, NULL, "node2"));
	assert_int_equal(b2->unallocated[0], 0);
	assert_int_equal(b2->unallocated[63], 63);
	free(s);
	json_decref(out);
	ipam_block_free(b);
	ipam_block_free(b2);
	/* blocks larger than 4096 addresses are refused */
	assert_int_equal(ipam_cidr_parse("10.0.0.0/19", true, &c), 0);
	assert_int_equal(ipam_block_new(&c, NULL, "n", &b), -EINVAL);
	assert_null(ipam_block_free(NULL));
}

/* Calico's LoadBalancer IPAM owner: "virtual:load-balancer", never a
 * node's; its allocations record namespace, service, type and timestamp. */
static void test_virtual_affinity_and_service_attributes(void **state)
{
	struct ipam_alloc_attrs a = { .handle_id = "lb-x", .ns = "fx", .service = "web",
				      .type = "LoadBalancer", .timestamp = "t" };
	struct ipam_block *b = NULL, *b2;
	struct ipam_cidr c;
	uint32_t ord;
	json_t *out;
	char *s;

	(void)state;
	assert_int_equal(ipam_cidr_parse("10.200.0.0/26", true, &c), 0);
	assert_int_equal(ipam_block_new(&c, "virtual", "load-balancer", &b), 0);
	assert_int_equal(ipam_block_assign(b, 1, &a, &ord), 1);
	out = ipam_block_to_json(b);
	s = json_dumps(out, 0);
	assert_non_null(strstr(s, "\"affinity\": \"virtual:load-balancer\""));
	b2 = parse_ok(s);
	assert_true(ipam_block_is_affine_to(b2, "virtual", "load-balancer"));
	assert_false(ipam_block_is_affine_to(b2, NULL, "load-balancer"));
	assert_false(ipam_block_is_affine_to(b2, "virt", "ual:load-balancer"));
	assert_string_equal(ipam_attr_secondary(ipam_block_attr_of(b2, ord), "service"), "web");
	assert_string_equal(ipam_attr_secondary(ipam_block_attr_of(b2, ord), "type"),
			    "LoadBalancer");
	assert_string_equal(ipam_attr_secondary(ipam_block_attr_of(b2, ord), "namespace"), "fx");
	assert_null(ipam_attr_secondary(ipam_block_attr_of(b2, ord), "node"));
	free(s);
	json_decref(out);
	ipam_block_free(b);
	ipam_block_free(b2);
}

/* Each malformed variant replaces one piece of the Calico block. */
static void test_malformed_blocks_are_rejected_with_reason(void **state)
{
	static const struct {
		const char *from, *to, *reason;
	} v[] = {
		{ "\"allocations\":[0,null,1,null]", "\"allocations\":[0,null,1]", "allocations" },
		{ "\"allocations\":[0,null,1,null]", "\"allocations\":[0,null,1,null,null]",
		  "allocations" },
		{ "\"allocations\":[0,null,1,null]", "\"allocations\":[0,null,7,null]",
		  "allocations[2]" },
		{ "\"allocations\":[0,null,1,null]", "\"allocations\":[0,null,-1,null]",
		  "allocations[2]" },
		{ "\"allocations\":[0,null,1,null]", "\"allocations\":[0,\"x\",1,null]",
		  "allocations[1]" },
		{ "\"allocations\":[0,null,1,null]", "\"allocations\":{}", "allocations" },
		{ "\"unallocated\":[3,1]", "\"unallocated\":[3,1,1]", "unallocated" },
		{ "\"unallocated\":[3,1]", "\"unallocated\":[3,0]", "unallocated" },
		{ "\"unallocated\":[3,1]", "\"unallocated\":[3,4]", "unallocated" },
		{ "\"unallocated\":[3,1]", "\"unallocated\":[3]", "neither allocated nor free" },
		{ "\"unallocated\":[3,1]", "\"unallocated\":null", "neither allocated nor free" },
		{ "\"unallocated\":[3,1]", "\"unallocated\":{}", "unallocated" },
		{ "\"cidr\":\"10.65.0.0/30\"", "\"cidr\":\"10.65.0.1/30\"", "cidr" },
		{ "\"cidr\":\"10.65.0.0/30\"", "\"cidr\":\"10.0.0.0/8\"", "cidr" },
		{ "\"cidr\":\"10.65.0.0/30\"", "\"cidr\":5", "cidr" },
		{ "\"sequenceNumber\":7", "\"sequenceNumber\":-7", "sequenceNumber" },
		{ "{\"0\":3,\"2\":6}", "{\"9\":3}", "sequenceNumberForAllocation" },
		{ "{\"0\":3,\"2\":6}", "{\"x\":3}", "sequenceNumberForAllocation" },
		{ "\"affinity\":\"host:node1\"", "\"affinity\":7", "affinity" },
		{ "\"deleted\":false", "\"deleted\":\"no\"", "deleted" },
		{ "{\"handle_id\":\"k8s-pod-network.aaa\"", "{\"handle_id\":5", "attributes[0]" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		const char *at = strstr(calico_block, v[i].from);
		char text[4096];
		struct ipam_block *b = NULL;
		json_t *j;
		char *err = NULL;
		int r;

		assert_non_null(at);
		snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - calico_block), calico_block,
			 v[i].to, at + strlen(v[i].from));
		j = json_loads(text, 0, NULL);
		assert_non_null(j);
		r = ipam_block_from_json(j, &b, &err);
		if (r != -EBADMSG || !err || !strstr(err, v[i].reason))
			fail_msg("variant %zu: r=%d err=%s", i, r, err ? err : "(none)");
		assert_null(b);
		free(err);
		json_decref(j);
	}
}

static void test_missing_optional_fields_default(void **state)
{
	struct ipam_block *b = parse_ok(
		"{\"spec\":{\"cidr\":\"10.0.0.0/31\",\"allocations\":[null,null],"
		"\"unallocated\":[0,1]}}");
	json_t *j;
	struct ipam_block *nb = NULL;

	(void)state;
	assert_null(b->affinity);
	assert_int_equal(b->n_attrs, 0);
	assert_false(b->deleted);
	ipam_block_free(b);
	j = json_loads("[]", 0, NULL);
	assert_int_equal(ipam_block_from_json(j, &nb, NULL), -EBADMSG);
	json_decref(j);
	j = json_loads("{\"spec\":{\"cidr\":\"10.0.0.0/31\",\"deleted\":true,"
		       "\"allocations\":[null,null],\"unallocated\":[0,1]}}", 0, NULL);
	assert_int_equal(ipam_block_from_json(j, &nb, NULL), 0);
	assert_true(nb->deleted);
	ipam_block_free(nb);
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_calico_block_parses),
		cmocka_unit_test(test_virtual_affinity_and_service_attributes),
		cmocka_unit_test(test_round_trip_keeps_everything),
		cmocka_unit_test(test_assign_takes_fifo_front_and_records_sequence),
		cmocka_unit_test(test_release_with_stale_sequence_is_refused),
		cmocka_unit_test(test_release_by_handle),
		cmocka_unit_test(test_new_block_is_all_free_and_serializes),
		cmocka_unit_test(test_malformed_blocks_are_rejected_with_reason),
		cmocka_unit_test(test_missing_optional_fields_default),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
