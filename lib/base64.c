/* Strict base64 decoding: four symbols make three bytes; '=' may only end
 * the input (one or two of them, completing the last quantum), and the
 * unused bits of the last symbol must be zero so each text has exactly one
 * decoding.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "base64.h"
#include "cleanup.h"

static int sym_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Emits the bytes of one complete quantum of @n symbols (2..4). */
static int flush_quantum(const int v[4], unsigned n, uint8_t *out, size_t *o)
{
	uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];

	if (n == 2 && (w & 0xffff))
		return -EBADMSG;
	if (n == 3 && (w & 0xff))
		return -EBADMSG;
	out[(*o)++] = w >> 16;
	if (n >= 3)
		out[(*o)++] = (w >> 8) & 0xff;
	if (n == 4)
		out[(*o)++] = w & 0xff;
	return 0;
}

int base64_decode(const char *in, size_t len, void **ret, size_t *ret_len)
{
	_cleanup_free_ uint8_t *out = malloc(len / 4 * 3 + 4);
	int v[4] = {};
	unsigned n = 0, pad = 0;
	size_t o = 0;

	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++) {
		if (is_space(in[i]))
			continue;
		if (in[i] == '=') {
			/* padding completes the quantum: only after 2 or 3 symbols */
			if (n + pad < 2 || ++pad + n > 4)
				return -EBADMSG;
			if (n + pad == 4) {
				if (pad == 1 ? n != 3 : n != 2)
					return -EBADMSG;
			}
			continue;
		}
		if (pad)
			return -EBADMSG; /* data after padding */
		v[n] = sym_value(in[i]);
		if (v[n] < 0)
			return -EBADMSG;
		if (++n == 4) {
			(void)flush_quantum(v, 4, out, &o);
			n = 0;
		}
	}
	if (n + pad != 0 && n + pad != 4)
		return -EBADMSG; /* truncated quantum or missing padding */
	if (pad) {
		for (unsigned j = n; j < 4; j++)
			v[j] = 0;
		if (flush_quantum(v, n, out, &o) < 0)
			return -EBADMSG;
	}
	out[o] = 0;
	*ret_len = o;
	*ret = TAKE_PTR(out);
	return 0;
}

int base64_encode(const void *in, size_t len, char **ret)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const uint8_t *b = in;
	char *out = malloc(4 * ((len + 2) / 3) + 1), *o = out;

	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t w = (uint32_t)b[i] << 16 | (i + 1 < len ? (uint32_t)b[i + 1] << 8 : 0) |
			     (i + 2 < len ? b[i + 2] : 0);

		*o++ = alphabet[w >> 18];
		*o++ = alphabet[(w >> 12) & 63];
		*o++ = i + 1 < len ? alphabet[(w >> 6) & 63] : '=';
		*o++ = i + 2 < len ? alphabet[w & 63] : '=';
	}
	*o = '\0';
	*ret = out;
	return 0;
}
