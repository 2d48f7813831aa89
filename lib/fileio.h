/* Reading small files whole (configs, tokens, certificates, templates), and
 * replacing files atomically (temp file + rename in the same folder), so a
 * reader never sees a half-written file and a failed write leaves the old
 * one in place. */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/**
 * file_read_all - read a whole regular file
 * @path: file
 * @max: refuse files larger than this (-EFBIG)
 * @ret: malloc'd, NUL-terminated contents
 * @ret_len: length without the NUL (may be NULL)
 *
 * Return: 0, -EINVAL (not a regular file), -EFBIG, -ENOMEM, -errno of open/read.
 */
int file_read_all(const char *path, size_t max, char **ret, size_t *ret_len);

/**
 * fd_read_all - read @fd (a pipe, socket or stdin) until end of file
 * @max: refuse more than this (-EFBIG)
 * @ret: malloc'd, NUL-terminated contents
 * @ret_len: length without the NUL (may be NULL)
 *
 * Return: 0, -EFBIG, -ENOMEM, -ETIMEDOUT (a receive timeout expired),
 *   -errno of read.
 */
int fd_read_all(int fd, size_t max, char **ret, size_t *ret_len);

/* Create the folder holding @path (one level) with @mode when it is
 * missing. Return: 0, -ENOMEM, -errno of mkdir. */
int mkdir_parent(const char *path, mode_t mode);

/**
 * dir_make_private - make @path a folder only its owner can enter
 * @path: folder (created with mode 0700 when missing; the parent must exist)
 *
 * For folders that hold secrets (felix-c's state: BIRD's config with BGP
 * passwords, BIRD's control socket): an existing folder keeps its owner bits
 * and loses every group, other and special (setgid, sticky) bit.
 *
 * Return: 1 when it created the folder or removed bits, 0 when it was
 *   already private, -ENOTDIR, -errno of mkdir/stat/chmod.
 */
int dir_make_private(const char *path);

/**
 * file_write_atomic - replace @path with @data
 * @path: destination file
 * @data: bytes
 * @len: their count
 * @mode: file mode of the new file (before the umask is irrelevant: fchmod)
 *
 * Writes a temp file in @path's folder, fsyncs it, sets @mode, renames it
 * over @path. On failure the temp file is removed and @path is untouched.
 *
 * Return: 0 or -errno.
 */
int file_write_atomic(const char *path, const void *data, size_t len, mode_t mode);

/**
 * file_copy_atomic - replace @dst with a copy of @src, the same way
 * @src: source file
 * @dst: destination file
 * @mode: mode of the copy
 *
 * Return: 0 or -errno.
 */
int file_copy_atomic(const char *src, const char *dst, mode_t mode);
