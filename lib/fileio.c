/* Reading small files whole (see fileio.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "array.h"
#include "cleanup.h"
#include "fileio.h"

int file_read_all(const char *path, size_t max, char **ret, size_t *ret_len)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	size_t len = 0;
	ssize_t n;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if ((size_t)st.st_size > max)
		return -EFBIG;
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return -ENOMEM;
	while (len < (size_t)st.st_size) {
		n = read(fd, buf + len, (size_t)st.st_size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	if (ret_len)
		*ret_len = len;
	*ret = TAKE_PTR(buf);
	return 0;
}

int fd_read_all(int fd, size_t max, char **ret, size_t *ret_len)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap = 0;
	int r;

	for (;;) {
		ssize_t n;

		/* Room for one byte past @max (reading it means too much) and
		 * for the NUL, asked 4 KiB at a time. */
		if (len + 1 == cap || cap == 0) {
			if (len > max)
				return -EFBIG;
			r = array_grow_max((void **)&buf, &cap, len + 4097 < max + 2 ? len + 4097 : max + 2,
					   max + 2, 1);
			if (r < 0)
				return r;
		}
		n = read(fd, buf + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > max)
		return -EFBIG;
	if (!buf && !(buf = malloc(1)))
		return -ENOMEM;
	buf[len] = '\0';
	if (ret_len)
		*ret_len = len;
	*ret = TAKE_PTR(buf);
	return 0;
}

int mkdir_parent(const char *path, mode_t mode)
{
	_cleanup_free_ char *dir = strdup(path);
	char *slash = dir ? strrchr(dir, '/') : NULL;

	if (!dir)
		return -ENOMEM;
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int dir_make_private(const char *path)
{
	struct stat st;

	if (mkdir(path, 0700) == 0)
		return 1;
	if (errno != EEXIST)
		return -errno;
	if (stat(path, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if (!(st.st_mode & 077))
		return 0;
	if (chmod(path, st.st_mode & 0700) < 0)
		return -errno;
	return 1;
}

/* ---- replacing files atomically ---- */

static int dir_of(const char *path, char **ret_dir, const char **ret_base)
{
	const char *slash = strrchr(path, '/');

	if (!slash) {
		*ret_dir = strdup(".");
		*ret_base = path;
	} else {
		*ret_dir = strndup(path, slash == path ? 1 : (size_t)(slash - path));
		*ret_base = slash + 1;
	}
	if (!**ret_base)
		return free(*ret_dir), -EINVAL;
	return *ret_dir ? 0 : -ENOMEM;
}

/* Opens a fresh temp file next to @path; @ret_tmp gets its name. */
static int open_temp(const char *path, char **ret_tmp)
{
	_cleanup_free_ char *dir = NULL;
	const char *base;
	int fd, r;

	r = dir_of(path, &dir, &base);
	if (r < 0)
		return r;
	if (asprintf(ret_tmp, "%s/.%s.tmp-XXXXXX", dir, base) < 0)
		return -ENOMEM;
	fd = mkostemp(*ret_tmp, O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		free(*ret_tmp);
		*ret_tmp = NULL;
		return r;
	}
	return fd;
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* fsync, chmod, close and rename the temp file @fd/@tmp over @path. */
static int commit_temp(int fd, const char *tmp, const char *path, mode_t mode)
{
	if (fchmod(fd, mode) < 0 || fsync(fd) < 0)
		return -errno;
	if (rename(tmp, path) < 0)
		return -errno;
	return 0;
}

int file_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	_cleanup_free_ char *tmp = NULL;
	_cleanup_close_ int fd = open_temp(path, &tmp);
	int r;

	if (fd < 0)
		return fd;
	r = write_all(fd, data, len);
	if (r == 0)
		r = commit_temp(fd, tmp, path, mode);
	if (r < 0)
		(void)unlink(tmp);
	return r;
}

int file_copy_atomic(const char *src, const char *dst, mode_t mode)
{
	_cleanup_close_ int in = open(src, O_RDONLY | O_CLOEXEC);
	_cleanup_free_ char *tmp = NULL;
	_cleanup_close_ int fd = -1;
	char buf[65536];
	ssize_t n;
	int r = 0;

	if (in < 0)
		return -errno;
	fd = open_temp(dst, &tmp);
	if (fd < 0)
		return fd;
	while (r == 0 && (n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0)
			r = errno == EINTR ? 0 : -errno;
		else
			r = write_all(fd, buf, (size_t)n);
	}
	if (r == 0)
		r = commit_temp(fd, tmp, dst, mode);
	if (r < 0)
		(void)unlink(tmp);
	return r;
}
