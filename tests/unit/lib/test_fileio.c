/* fd_read_all (lib/fileio.h): everything up to end of file, NUL-terminated,
 * across many reads; more than the limit is -EFBIG; a socket whose receive
 * timeout expires is -ETIMEDOUT (felix-c's CNI service relies on both). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include "fileio.h"

/* A pipe holding @len bytes of a pattern, write end closed. */
static int pipe_with(size_t len)
{
	int p[2];

	assert_int_equal(pipe(p), 0);
	for (size_t i = 0; i < len; i++) {
		char c = (char)('a' + i % 26);

		assert_int_equal(write(p[1], &c, 1), 1);
	}
	close(p[1]);
	return p[0];
}

static void test_reads_to_eof(void **state)
{
	static const size_t lens[] = { 0, 1, 4095, 4096, 4097, 20000 };

	(void)state;
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		int fd = pipe_with(lens[i]);
		char *buf = NULL;
		size_t len = 99;

		assert_int_equal(fd_read_all(fd, 1 << 20, &buf, &len), 0);
		assert_int_equal(len, lens[i]);
		assert_int_equal(strlen(buf), lens[i]);
		for (size_t j = 0; j < len; j++)
			assert_int_equal(buf[j], 'a' + j % 26);
		free(buf);
		close(fd);
	}
}

static void test_limit_and_timeout(void **state)
{
	struct timeval tv = { .tv_usec = 50000 };
	char *buf = NULL;
	int fd = pipe_with(5000), sv[2];

	(void)state;
	assert_int_equal(fd_read_all(fd, 4999, &buf, NULL), -EFBIG);
	close(fd);
	fd = pipe_with(5000);
	assert_int_equal(fd_read_all(fd, 5000, &buf, NULL), 0);
	free(buf);
	close(fd);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	assert_int_equal(write(sv[1], "x", 1), 1);
	assert_int_equal(fd_read_all(sv[0], 100, &buf, NULL), -ETIMEDOUT);
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reads_to_eof),
		cmocka_unit_test(test_limit_and_timeout),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
