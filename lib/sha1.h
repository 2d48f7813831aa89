/* SHA-1 (FIPS 180-4), for names derived from identities (host veth names),
 * not for security. Our own few lines, so the CNI plugin does not load and
 * initialise libcrypto (~3 ms of every call) for one digest.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define SHA1_DIGEST_SIZE 20

#define SHA1_HEX_SIZE (2 * SHA1_DIGEST_SIZE + 1)

void sha1(const void *data, size_t len, uint8_t out[SHA1_DIGEST_SIZE]);
/* The digest as 40 lower-case hex digits and a NUL, as sha1sum prints it. */
void sha1_hex(const void *data, size_t len, char out[SHA1_HEX_SIZE]);
