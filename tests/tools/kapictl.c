/* kapictl: a thin command-line driver of lib/kapi for system tests and
 * benchmarks. Every command prints JSON on stdout (one object, or one line
 * per item or event) and exits non-zero with a one-line message naming the
 * errno and the apiserver's Status message on failure.
 *
 *   kapictl [--kubeconfig F] [--timeout-ms N] [--connect-timeout-ms N] CMD ...
 *     get PATH                       create PATH FILE      update PATH FILE
 *     list PATH [--selector S] [--field-selector S] [--limit N] [--count]
 *     patch PATH merge|strategic|json FILE
 *     delete PATH [--uid U] [--rv RV]
 *     create-many PATH FILE N [--prefix P]   (N objects named P0..P(N-1))
 *     latency PATH N                  (N GETs; prints p50/p90 in µs)
 *   FILE "-" is stdin. Exit: 0 ok, 1 API error, 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cleanup.h"
#include "kapi.h"
#include "log.h"

DEFINE_CLEANUP_FUNC(struct kapi_config, kapi_config_free)
DEFINE_CLEANUP_FUNC(struct kapi, kapi_free)

struct opts {
	const char *kubeconfig;
	long timeout_ms, connect_ms;
	const char *selector, *field_selector, *uid, *rv, *prefix;
	unsigned limit;
	bool count;
	long watch_count;
	double watch_timeout;
	bool until_synced;
};

static int usage(void)
{
	fprintf(stderr, "usage: kapictl [--kubeconfig F] [--timeout-ms N] CMD ...\n"
			"  get PATH | list PATH [--selector S] [--field-selector S] [--limit N] "
			"[--count]\n"
			"  create PATH FILE | update PATH FILE | patch PATH merge|strategic|json FILE\n"
			"  delete PATH [--uid U] [--rv RV] | create-many PATH FILE N [--prefix P]\n"
			"  latency PATH N | watch PATH [--count N] [--timeout S]\n"
			"  informer PATH [--until-synced] [--count N] [--timeout S]\n");
	return 2;
}

static int api_fail(struct kapi *k, const char *what, const char *path, int r)
{
	const char *why = k ? kapi_last_error(k) : "";

	fprintf(stderr, "kapictl: %s '%s' failed: %s%s%s\n", what, path, strerror(-r),
		*why ? ": " : "", why);
	return 1;
}

static int print_json(const json_t *j)
{
	if (json_dumpf(j, stdout, JSON_COMPACT) < 0)
		return 1;
	fputc('\n', stdout);
	return 0;
}

static json_t *load_file(const char *path)
{
	json_error_t e;
	json_t *j = strcmp(path, "-") == 0 ? json_loadf(stdin, 0, &e) : json_load_file(path, 0, &e);

	if (!j)
		fprintf(stderr, "kapictl: cannot parse '%s': %s (line %d)\n", path, e.text,
			e.line);
	return j;
}

static int cmd_get(struct kapi *k, char **argv)
{
	json_auto_t *obj = NULL;
	int r = kapi_get(k, argv[0], &obj);

	if (r < 0)
		return api_fail(k, "GET", argv[0], r);
	return print_json(obj);
}

static int cmd_list(struct kapi *k, char **argv, const struct opts *o)
{
	struct kapi_list_opts lo = { .label_selector = o->selector,
				     .field_selector = o->field_selector,
				     .limit = o->limit };
	json_auto_t *items = NULL;
	_cleanup_free_ char *rv = NULL;
	size_t i;
	json_t *it;
	int r = kapi_list(k, argv[0], &lo, &items, &rv);

	if (r < 0)
		return api_fail(k, "LIST", argv[0], r);
	if (o->count) {
		printf("{\"count\":%zu,\"resourceVersion\":\"%s\"}\n", json_array_size(items),
		       rv ? rv : "");
		return 0;
	}
	json_array_foreach(items, i, it)
	{
		if (print_json(it))
			return 1;
	}
	return 0;
}

static int cmd_write(struct kapi *k, const char *verb, char **argv)
{
	json_auto_t *obj = load_file(argv[1]);
	json_auto_t *out = NULL;
	int r;

	if (!obj)
		return 1;
	if (strcmp(verb, "create") == 0)
		r = kapi_create(k, argv[0], obj, &out);
	else
		r = kapi_update(k, argv[0], obj, &out);
	if (r < 0)
		return api_fail(k, verb, argv[0], r);
	return print_json(out);
}

static int cmd_patch(struct kapi *k, char **argv)
{
	enum kapi_patch_type t = kapi_patch_type_from_string(argv[1]);
	json_auto_t *patch = NULL, *out = NULL;
	int r;

	if ((int)t < 0)
		return usage();
	patch = load_file(argv[2]);
	if (!patch)
		return 1;
	r = kapi_patch(k, argv[0], t, patch, &out);
	if (r < 0)
		return api_fail(k, "PATCH", argv[0], r);
	return print_json(out);
}

static int cmd_delete(struct kapi *k, char **argv, const struct opts *o)
{
	int r = kapi_delete(k, argv[0], o->uid, o->rv);

	if (r < 0)
		return api_fail(k, "DELETE", argv[0], r);
	printf("{\"deleted\":\"%s\"}\n", argv[0]);
	return 0;
}

/* create-many: N copies of FILE named <prefix><i>, created one after the
 * other on the one connection (the point is speed without N processes). */
static int cmd_create_many(struct kapi *k, char **argv, const struct opts *o)
{
	json_auto_t *tmpl = load_file(argv[1]);
	long n = strtol(argv[2], NULL, 10);
	char name[256];

	if (!tmpl || !json_is_object(json_object_get(tmpl, "metadata")) || n <= 0)
		return tmpl ? usage() : 1;
	for (long i = 0; i < n; i++) {
		int r;

		snprintf(name, sizeof(name), "%s%ld", o->prefix ? o->prefix : "obj-", i);
		if (json_object_set_new(json_object_get(tmpl, "metadata"), "name",
					json_string(name)) < 0)
			return 1;
		r = kapi_create(k, argv[0], tmpl, NULL);
		if (r < 0 && r != -EEXIST)
			return api_fail(k, "create", name, r);
	}
	printf("{\"created\":%ld}\n", n);
	return 0;
}

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

static int cmd_latency(struct kapi *k, char **argv)
{
	long n = strtol(argv[1], NULL, 10);
	_cleanup_free_ long long *t = NULL;

	if (n <= 0)
		return usage();
	t = calloc(n, sizeof(*t));
	if (!t)
		return 1;
	for (long i = 0; i < n; i++) {
		long long t0 = now_us();
		int r = kapi_get(k, argv[0], NULL);

		if (r < 0)
			return api_fail(k, "GET", argv[0], r);
		t[i] = now_us() - t0;
	}
	qsort(t, n, sizeof(*t), cmp_ll);
	printf("{\"n\":%ld,\"p50_us\":%lld,\"p90_us\":%lld,\"max_us\":%lld}\n", n, t[n / 2],
	       t[n * 9 / 10], t[n - 1]);
	return 0;
}

struct command {
	const char *name;
	int nargs;
	int (*run)(struct kapi *k, char **argv, const struct opts *o);
};

static int run_get(struct kapi *k, char **a, const struct opts *o)
{
	(void)o;
	return cmd_get(k, a);
}
static int run_create(struct kapi *k, char **a, const struct opts *o)
{
	(void)o;
	return cmd_write(k, "create", a);
}
static int run_update(struct kapi *k, char **a, const struct opts *o)
{
	(void)o;
	return cmd_write(k, "update", a);
}
static int run_patch(struct kapi *k, char **a, const struct opts *o)
{
	(void)o;
	return cmd_patch(k, a);
}
static int run_latency(struct kapi *k, char **a, const struct opts *o)
{
	(void)o;
	return cmd_latency(k, a);
}

static const struct command commands[] = {
	{ "get", 1, run_get },
	{ "list", 1, cmd_list },
	{ "create", 2, run_create },
	{ "update", 2, run_update },
	{ "patch", 3, run_patch },
	{ "delete", 1, cmd_delete },
	{ "create-many", 3, cmd_create_many },
	{ "latency", 2, run_latency },
};

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "kubeconfig", required_argument, NULL, 'k' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ "connect-timeout-ms", required_argument, NULL, 'c' },
		{ "selector", required_argument, NULL, 'l' },
		{ "field-selector", required_argument, NULL, 'f' },
		{ "limit", required_argument, NULL, 'n' },
		{ "count", optional_argument, NULL, 'C' },
		{ "uid", required_argument, NULL, 'u' },
		{ "rv", required_argument, NULL, 'r' },
		{ "prefix", required_argument, NULL, 'p' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "until-synced", no_argument, NULL, 'S' },
		{ "verbose", no_argument, NULL, 'v' },
		{},
	};
	int c;

	while ((c = getopt_long(argc, argv, "+", lo, NULL)) != -1) {
		switch (c) {
		case 'k': o->kubeconfig = optarg; break;
		case 't': o->timeout_ms = strtol(optarg, NULL, 10); break;
		case 'c': o->connect_ms = strtol(optarg, NULL, 10); break;
		case 'l': o->selector = optarg; break;
		case 'f': o->field_selector = optarg; break;
		case 'n': o->limit = strtoul(optarg, NULL, 10); break;
		case 'C':
			o->count = true;
			o->watch_count = optarg ? strtol(optarg, NULL, 10) : 0;
			break;
		case 'u': o->uid = optarg; break;
		case 'r': o->rv = optarg; break;
		case 'p': o->prefix = optarg; break;
		case 'T': o->watch_timeout = strtod(optarg, NULL); break;
		case 'S': o->until_synced = true; break;
		case 'v': (void)log_setup(LOG_LEVEL_DEBUG, NULL, "kapictl"); break;
		default: return -EINVAL;
		}
	}
	return optind;
}

int main(int argc, char **argv)
{
	_cleanup_(kapi_config_freep) struct kapi_config *cfg = NULL;
	_cleanup_(kapi_freep) struct kapi *k = NULL;
	_cleanup_free_ char *err = NULL;
	struct opts o = {};
	const char *kc;
	int i, r;

	(void)log_setup(LOG_LEVEL_WARNING, NULL, "kapictl");
	/* options may come before and after the command */
	i = parse_opts(argc, argv, &o);
	if (i < 0 || i >= argc)
		return usage();
	kc = o.kubeconfig ? o.kubeconfig : getenv("KUBECONFIG");
	if (!kc) {
		fprintf(stderr, "kapictl: no kubeconfig (--kubeconfig or $KUBECONFIG)\n");
		return 2;
	}
	r = kapi_config_load(kc, &cfg, &err);
	if (r < 0) {
		fprintf(stderr, "kapictl: kubeconfig '%s': %s\n", kc, err ? err : strerror(-r));
		return 1;
	}
	r = kapi_new(cfg, &k);
	if (r < 0) {
		fprintf(stderr, "kapictl: cannot create client: %s\n", strerror(-r));
		return 1;
	}
	kapi_set_timeouts(k, o.timeout_ms, o.connect_ms);
	for (size_t c = 0; c < ELEMENTSOF(commands); c++) {
		char **args = argv + i + 1;
		int nargs = 0;

		if (strcmp(argv[i], commands[c].name) != 0)
			continue;
		/* positional arguments first, then trailing options */
		optind = 0;
		for (int j = i + 1; j < argc && (argv[j][0] != '-' || !argv[j][1]); j++)
			nargs++;
		if (nargs != commands[c].nargs)
			return usage();
		if (parse_opts(argc - i - nargs, argv + i + nargs, &o) < 0)
			return usage();
		return commands[c].run(k, args, &o);
	}
	return usage();
}
