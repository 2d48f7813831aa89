/* A kubeconfig (YAML): current-context resolution, inline base64 data and
 * file references (relative ones resolve in a scratch folder holding one
 * small file, ca.crt). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kapi.h"

static char dir[] = "/tmp/fuzz-kubeconfig-XXXXXX";
static char path[64];

static void cleanup(void)
{
	unlink(path);
	rmdir(dir);
}

static const char *scratch_dir(void)
{
	static bool made;
	FILE *f;

	if (made)
		return dir;
	if (!mkdtemp(dir) || atexit(cleanup) != 0)
		abort();
	snprintf(path, sizeof(path), "%s/ca.crt", dir);
	f = fopen(path, "we");
	if (!f)
		abort();
	fputs("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", f);
	fclose(f);
	made = true;
	return dir;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = strndup((const char *)data, size), *err = NULL;
	struct kapi_config *c = NULL;

	if (!text)
		return 0;
	if (kapi_config_from_string(text, scratch_dir(), &c, &err) == 0) {
		unsigned char fp[32];

		(void)kapi_config_server(c);
		(void)kapi_config_namespace(c);
		(void)kapi_config_fingerprint(c, fp);
		kapi_config_free(c);
	}
	free(err);
	free(text);
	return 0;
}
