/* Per-container lock files of calico-c (see lock.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "lock.h"
#include "sha1.h"

/* Each retry follows a DEL that removed the file we waited on: more than
 * this in a row is not contention but something removing files. */
#define MAX_RETRIES 64

int plugin_lock_path(const char *state_dir, const char *container_id, char *buf, size_t size)
{
	char hex[SHA1_HEX_SIZE];
	int n;

	if (!state_dir || !*state_dir || !container_id || !*container_id)
		return -EINVAL;
	sha1_hex(container_id, strlen(container_id), hex);
	n = snprintf(buf, size, "%s/containers/%s", state_dir, hex);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	return 0;
}

/* Open (creating the folders) the lock file at @path. */
static int open_lock(const char *state_dir, const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600), r;

	if (fd >= 0 || errno != ENOENT)
		return fd < 0 ? -errno : fd;
	if (mkdir(state_dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	r = mkdir_parent(path, 0700);
	if (r < 0)
		return r;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	return fd < 0 ? -errno : fd;
}

/* True when @fd is still the file at @path (not removed by a DEL). */
static bool still_linked(int fd, const char *path)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

int plugin_lock_take(const char *state_dir, const char *container_id, int *ret_fd)
{
	char path[PATH_MAX];
	int r;

	r = plugin_lock_path(state_dir, container_id, path, sizeof(path));
	if (r < 0)
		return r;
	for (int i = 0; i < MAX_RETRIES; i++) {
		_cleanup_close_ int fd = open_lock(state_dir, path);

		if (fd < 0)
			return fd;
		while (flock(fd, LOCK_EX) < 0)
			if (errno != EINTR)
				return -errno;
		if (still_linked(fd, path)) {
			*ret_fd = TAKE_FD(fd);
			return 0;
		}
	}
	return -EAGAIN;
}

int plugin_lock_remove(const char *state_dir, const char *container_id, int fd)
{
	char path[PATH_MAX];
	int r;

	r = plugin_lock_path(state_dir, container_id, path, sizeof(path));
	if (r < 0)
		return r;
	if (!still_linked(fd, path))
		return 0;
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}
