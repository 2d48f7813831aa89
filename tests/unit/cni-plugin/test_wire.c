/* The owner tag calico-c records on a host veth (cni-plugin/wire.h): DEL
 * deletes a veth only when the tag names its container ID. An ID too long
 * for an interface alias is hashed; no other ID, a prefix of it included,
 * matches; an empty tag (a veth from before tags) matches nothing.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cni-plugin/wire.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void test_owner_tag_is_the_id_or_its_hash(void **state)
{
	char long_id[400], tag[WIRE_OWNER_MAX];

	(void)state;
	assert_int_equal(wire_owner_tag("containerd-0123abcd", tag), 0);
	assert_string_equal(tag, "containerd-0123abcd");
	assert_int_equal(wire_owner_tag("", tag), -EINVAL);
	assert_int_equal(wire_owner_tag(NULL, tag), -EINVAL);
	/* 255 characters fit an alias; 256 do not. */
	memset(long_id, 'a', sizeof(long_id));
	long_id[255] = '\0';
	assert_int_equal(wire_owner_tag(long_id, tag), 0);
	assert_string_equal(tag, long_id);
	long_id[255] = 'a';
	long_id[256] = '\0';
	assert_int_equal(wire_owner_tag(long_id, tag), 0);
	assert_int_equal(strlen(tag), strlen("sha1:") + 40);
	assert_memory_equal(tag, "sha1:", 5);
}

static void test_is_owner_only_for_the_same_id(void **state)
{
	static const struct {
		const char *tag, *id;
		bool want;
	} v[] = {
		{ "c1", "c1", true },
		{ "c1", "c2", false },
		{ "c1", "c10", false },
		{ "c10", "c1", false },
		{ "", "c1", false },
		{ NULL, "c1", false },
		{ "c1", "", false },
		{ "sha1:a9993e364706816aba3e25717850c26c9cd0d89d", "abc", false },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(v); i++)
		assert_int_equal(wire_is_owner(v[i].tag, v[i].id), v[i].want);
}

static void test_is_owner_with_a_hashed_tag(void **state)
{
	char a[300], b[300], tag[WIRE_OWNER_MAX];

	(void)state;
	memset(a, 'x', sizeof(a));
	a[299] = '\0';
	memcpy(b, a, sizeof(b));
	b[298] = 'y';
	assert_int_equal(wire_owner_tag(a, tag), 0);
	assert_true(wire_is_owner(tag, a));
	assert_false(wire_is_owner(tag, b));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_owner_tag_is_the_id_or_its_hash),
		cmocka_unit_test(test_is_owner_only_for_the_same_id),
		cmocka_unit_test(test_is_owner_with_a_hashed_tag),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
