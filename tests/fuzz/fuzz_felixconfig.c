/* felix-c's settings from a config file and the environment (a ConfigMap
 * rendered into the DaemonSet), then the FelixConfiguration specs
 * "default" and "node.<name>" from the API. The input's first line is
 * {"global": spec, "node": spec}; the rest is both the config file and,
 * line by line, the environment. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "felix-c/config.h"

#define MAX_ENV 32

static const char *config_file(void)
{
	static char path[64];

	if (!path[0])
		snprintf(path, sizeof(path), "/tmp/fuzz-felixconfig-%d.cfg", (int)getpid());
	return path;
}

static void cleanup(void)
{
	unlink(config_file());
}

static void load(char *rest, json_t *specs)
{
	char *envp[MAX_ENV + 1] = {}, *save = NULL, *err = NULL;
	struct felix_config c = {};
	struct felix_runtime rt;
	size_t n = 0;

	for (char *l = strtok_r(rest, "\n", &save); l && n < MAX_ENV; l = strtok_r(NULL, "\n", &save))
		if (strncmp(l, "FELIX_CONFIGFILE=", 17) != 0) /* the harness names the file */
			envp[n++] = l;
	if (felix_config_load(config_file(), envp, &c, &err) == 0) {
		(void)felix_config_runtime(&c, json_object_get(specs, "global"),
					   json_object_get(specs, "node"), &rt, &err);
		felix_config_done(&c);
	}
	free(err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool registered;
	char *text = strndup((const char *)data, size), *rest;
	json_t *specs;
	FILE *f;

	if (!text)
		return 0;
	if (!registered)
		registered = atexit(cleanup) == 0;
	rest = strchr(text, '\n');
	rest = rest ? (*rest = '\0', rest + 1) : text + strlen(text);
	specs = json_loads(text, 0, NULL);
	f = fopen(config_file(), "we");
	if (f) {
		fputs(rest, f);
		fclose(f);
		load(rest, specs);
	}
	json_decref(specs);
	free(text);
	return 0;
}
