#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

static void test_level_from_string_accepts_calico_spellings(void **state)
{
	static const struct {
		const char *in;
		enum log_level want;
	} v[] = {
		{ "error", LOG_LEVEL_ERROR },   { "Warning", LOG_LEVEL_WARNING },
		{ "warn", LOG_LEVEL_WARNING },  { "INFO", LOG_LEVEL_INFO },
		{ "debug", LOG_LEVEL_DEBUG },   { "fatal", LOG_LEVEL_ERROR },
		{ "verbose", _LOG_LEVEL_INVALID }, { "", _LOG_LEVEL_INVALID },
		{ NULL, _LOG_LEVEL_INVALID },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		assert_int_equal(log_level_from_string(v[i].in), v[i].want);
	assert_string_equal(log_level_to_string(LOG_LEVEL_WARNING), "warning");
	assert_null(log_level_to_string(_LOG_LEVEL_MAX));
}

static void test_errno_variant_returns_error_and_formats_m(void **state)
{
	char path[] = "/tmp/test_log.XXXXXX";
	char buf[512] = {};
	int fd = mkstemp(path);
	FILE *f;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(log_setup(LOG_LEVEL_INFO, path, "t"), 0);
	assert_int_equal(log_error_errno(-ENOENT, "open '%s': %m", "x"), -ENOENT);
	assert_int_equal(log_debug("dropped below threshold"), 0);
	log_close();
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fread(buf, 1, sizeof(buf) - 1, f) > 0, 1);
	fclose(f);
	unlink(path);
	assert_non_null(strstr(buf, "open 'x': No such file or directory"));
	assert_null(strstr(buf, "dropped"));
}

/* Logs @msg (through "%s") to a fresh file; returns what follows the prefix. */
static char *log_one(const char *msg, size_t *ret_lines)
{
	char path[] = "/tmp/test_log.XXXXXX";
	static char buf[8192];
	int fd = mkstemp(path);
	size_t n;
	FILE *f;

	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(log_setup(LOG_LEVEL_INFO, path, "t"), 0);
	log_info("pod %s", msg);
	log_close();
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	unlink(path);
	*ret_lines = 0;
	for (size_t i = 0; i < n; i++)
		*ret_lines += buf[i] == '\n';
	assert_true(n > 0 && buf[n - 1] == '\n');
	buf[n - 1] = '\0';
	assert_non_null(strstr(buf, ": pod "));
	return strstr(buf, ": pod ") + 6;
}

static void test_control_bytes_are_escaped_one_line_each(void **state)
{
	static const struct {
		const char *in, *want;
	} v[] = {
		{ "plain text", "plain text" },
		{ "10.0.0.5/32\n2024-01-01T00:00:00.000Z error   felix-c[1]: forged",
		  "10.0.0.5/32\\x0a2024-01-01T00:00:00.000Z error   felix-c[1]: forged" },
		{ "a\r\tb\x1b[31mred\x7f", "a\\x0d\\x09b\\x1b[31mred\\x7f" },
		{ "csi \xc2\x9b and nel \xc2\x85", "csi \\xc2\\x9b and nel \\xc2\\x85" },
		{ "utf-8 kept: caf\xc3\xa9 \xc2\xa0", "utf-8 kept: caf\xc3\xa9 \xc2\xa0" },
		{ "trailing\n", "trailing\\x0a" },
		{ "back\\slash kept", "back\\slash kept" },
	};
	size_t lines;

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		assert_string_equal(log_one(v[i].in, &lines), v[i].want);
		assert_int_equal(lines, 1);
	}
}

static void test_long_message_is_whole_and_escaped(void **state)
{
	char in[3001], *out;
	size_t lines;

	(void)state;
	memset(in, 'x', sizeof(in) - 1);
	in[sizeof(in) - 1] = '\0';
	in[2000] = '\n';
	out = log_one(in, &lines);
	assert_int_equal(lines, 1);
	assert_int_equal(strlen(out), sizeof(in) - 1 + 3);
	assert_memory_equal(out + 2000, "\\x0a", 4);
	assert_int_equal(out[strlen(out) - 1], 'x');
}

static void test_setup_with_unwritable_path_fails(void **state)
{
	(void)state;
	assert_int_equal(log_setup(LOG_LEVEL_INFO, "/nonexistent/dir/log", NULL), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_level_from_string_accepts_calico_spellings),
		cmocka_unit_test(test_errno_variant_returns_error_and_formats_m),
		cmocka_unit_test(test_setup_with_unwritable_path_fails),
		cmocka_unit_test(test_control_bytes_are_escaped_one_line_each),
		cmocka_unit_test(test_long_message_is_whole_and_escaped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
