/* SHA-1 (FIPS 180-4), for names derived from identities (host veth names),
 * not for security. Our own few lines, so the CNI plugin does not load and
 * initialise libcrypto (~3 ms of every call) for one digest.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define SHA1_DIGEST_SIZE 20

void sha1(const void *data, size_t len, uint8_t out[SHA1_DIGEST_SIZE]);
