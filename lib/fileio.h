/* Reading small files whole (configs, tokens, certificates, templates). */
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
