/* Logging for the programs (felix-c, the CNI plugin, the CLIs).
 *
 * Libraries (lib/, ipam/, policy/, bird-config/) log at debug at most and
 * return -errno; the programs log once at the boundary. log_*_errno() set
 * errno from the (negative) error so "%m" prints it, and return the error,
 * so a caller can write: return log_error_errno(r, "Failed to x: %m");
 */
#pragma once

#include <stdarg.h>

enum log_level {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARNING,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
	_LOG_LEVEL_MAX,
	_LOG_LEVEL_INVALID = -22, /* -EINVAL */
};

const char *log_level_to_string(enum log_level l);
enum log_level log_level_from_string(const char *s);

/**
 * log_setup - choose the threshold, an optional log file and a program tag
 * @level: messages above it are dropped
 * @path: file to append to, or NULL for stderr
 * @tag: program name shown in each line
 *
 * Return: 0, or -errno when the file cannot be opened (logging stays on stderr).
 */
int log_setup(enum log_level level, const char *path, const char *tag);
enum log_level log_get_level(void);
/* Changes the level at runtime (e.g. from a datastore setting). */
void log_set_level(enum log_level level);
void log_close(void);
/* Where lines go (the log file, or stderr): a child's stderr can share it. */
int log_fd(void);

/**
 * log_internal - write one line if @level passes the threshold
 * @level: severity
 * @error: negative errno (or 0); sets errno = -error for "%m"
 * @fmt: printf format
 *
 * Return: @error when it is negative, else 0.
 */
int log_internal(enum log_level level, int error, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_error(...) log_internal(LOG_LEVEL_ERROR, 0, __VA_ARGS__)
#define log_warning(...) log_internal(LOG_LEVEL_WARNING, 0, __VA_ARGS__)
#define log_info(...) log_internal(LOG_LEVEL_INFO, 0, __VA_ARGS__)
#define log_debug(...) log_internal(LOG_LEVEL_DEBUG, 0, __VA_ARGS__)
#define log_error_errno(e, ...) log_internal(LOG_LEVEL_ERROR, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) log_internal(LOG_LEVEL_WARNING, (e), __VA_ARGS__)
#define log_info_errno(e, ...) log_internal(LOG_LEVEL_INFO, (e), __VA_ARGS__)
#define log_debug_errno(e, ...) log_internal(LOG_LEVEL_DEBUG, (e), __VA_ARGS__)
