/* Standard base64 (RFC 4648 §4, padded): decoding for kubeconfig *-data
 * fields and Secret values, encoding for the kubeconfig install-cni writes.
 * Decoding is strict: a character outside the alphabet, wrong padding or
 * non-zero trailing bits is an error; ASCII whitespace is skipped, as
 * line-wrapped PEM-in-base64 values are common.
 */
#pragma once

#include <stddef.h>

/**
 * base64_decode - decode padded standard base64
 * @in: text (need not be NUL-terminated)
 * @len: length of @in in bytes
 * @ret: malloc'd bytes, NUL-terminated for convenience (not counted)
 * @ret_len: number of decoded bytes
 *
 * Return: 0, -EBADMSG on malformed input, -ENOMEM.
 */
int base64_decode(const char *in, size_t len, void **ret, size_t *ret_len);

/* Encode @len bytes of @in; @ret: malloc'd, NUL-terminated. Return: 0, -ENOMEM. */
int base64_encode(const void *in, size_t len, char **ret);
