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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
