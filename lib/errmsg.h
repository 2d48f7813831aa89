/* Error messages for callers that asked for one: the "char **ret_error"
 * convention of our parsers and validators. */
#pragma once

/**
 * errmsg_set - format a message into *@ret_error, if the caller asked for one
 * @ret_error: NULL, or where a malloc'd message goes; a message already there
 *   is freed and replaced (so it must be NULL or malloc'd)
 * @r: the error to return
 * @fmt: printf format
 *
 * Return: @r, so a validator can write: return errmsg_set(ret_error, -EINVAL, ...);
 */
int errmsg_set(char **ret_error, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
