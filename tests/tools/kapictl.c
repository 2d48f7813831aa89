/* kapictl: a thin command-line driver of lib/kapi for system tests and
 * benchmarks. Every command prints JSON on stdout (one object, or one line
 * per item or event) and exits non-zero with a one-line message naming the
 * errno and the apiserver's Status message on failure.
 *
 *   kapictl [--kubeconfig F] [--timeout-ms N] [--connect-timeout-ms N] CMD ...
 *     get PATH                       create PATH FILE      update PATH FILE
 *     list PATH [--selector S] [--field-selector S] [--limit N] [--summary]
 *         (--summary: only {"count":N,"resourceVersion":RV})
 *     patch PATH merge|strategic|json FILE
 *     delete PATH [--uid U] [--rv RV]
 *     create-many PATH FILE N [--prefix P]   (N objects named P0..P(N-1))
 *     latency PATH N                  (N GETs; prints p50/p90 in µs)
 *     watch PATH [--rv RV] [--selector S] [--count N] [--timeout S] [--backoff-ms N]
 *         [--quiet (print only {"events":N} at the end)]
 *         one {"type":..,"object":..} line per event (BOOKMARKs not
 *         counted); exit 0 when N events arrived (or at the timeout
 *         without --count), 1 at the timeout short of N, 3 on 410 Gone.
 *     informer PATH [--selector S] [--until-synced] [--count N] [--timeout S]
 *         [--limit N (page size)] [--backoff-ms N] [--backoff-max-ms N]
 *         [--keys-only (cache_keys_only: the cache keeps resourceVersions)]
 *         one {"op":"add|update|delete|synced|error",...} line per
 *         callback; on exit (N changes after sync, synced, timeout,
 *         SIGTERM/SIGINT) a last {"op":"cache","items":{key:rv}} line.
 *   FILE "-" is stdin. Exit: 0 ok, 1 API error, 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cleanup.h"
#include "evloop.h"
#include "kapi.h"
#include "kinformer.h"
#include "log.h"


struct opts {
	const char *kubeconfig;
	long timeout_ms, connect_ms;
	const char *selector, *field_selector, *uid, *rv, *prefix;
	unsigned limit;
	bool count;
	long watch_count;
	double watch_timeout;
	bool until_synced, keys_only;
	unsigned backoff_min_ms, backoff_max_ms;
	bool quiet; /* watch: count events, print nothing per event */
};

static int usage(void)
{
	fprintf(stderr, "usage: kapictl [--kubeconfig F] [--timeout-ms N] CMD ...\n"
			"  get PATH | list PATH [--selector S] [--field-selector S] [--limit N] "
			"[--summary]\n"
			"  create PATH FILE | update PATH FILE | patch PATH merge|strategic|json FILE\n"
			"  delete PATH [--uid U] [--rv RV] | create-many PATH FILE N [--prefix P]\n"
			"  latency PATH N | watch PATH [--count N] [--timeout S]\n"
			"  informer PATH [--until-synced] [--count N] [--timeout S] [--keys-only]\n");
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

/* --- watch and informer ---------------------------------------------------- */


struct stream_ctx {
	struct evloop *loop;
	bool quiet;
	long want;   /* events to wait for, 0: until timeout/signal */
	long seen;   /* counted events */
	bool synced; /* informer: on_synced ran */
	bool until_synced;
};

static void on_deadline(struct evloop_timer *t, void *userdata)
{
	struct stream_ctx *c = userdata;

	(void)t;
	evloop_exit(c->loop, c->want ? 1 : 0);
}

static void on_term(struct evloop_signal *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct stream_ctx *c = userdata;

	(void)s;
	(void)si;
	evloop_exit(c->loop, 0);
}

static void count_one(struct stream_ctx *c)
{
	if (!c->quiet)
		fflush(stdout);
	c->seen++;
	if (c->want && c->seen >= c->want)
		evloop_exit(c->loop, 0);
}

static void watch_on_event(struct kapi_watch *w, enum kapi_event_type t, json_t *obj,
			   void *userdata)
{
	struct stream_ctx *c = userdata;
	json_auto_t *ev = NULL;

	(void)w;
	if (!c->quiet) {
		ev = json_pack("{s:s, s:O}", "type", kapi_event_type_to_string(t), "object", obj);
		(void)print_json(ev);
	}
	if (t == KAPI_EVENT_BOOKMARK || t == KAPI_EVENT_ERROR)
		fflush(stdout);
	else
		count_one(c);
}

static void watch_on_state(struct kapi_watch *w, enum kapi_watch_state s, int error,
			   const char *message, void *userdata)
{
	struct stream_ctx *c = userdata;

	(void)w;
	if (error)
		fprintf(stderr, "kapictl: watch %s: %s: %s\n", kapi_watch_state_to_string(s),
			strerror(-error), message);
	if (s == KAPI_WATCH_GONE)
		evloop_exit(c->loop, 3);
}

/* The loop with an optional deadline and SIGTERM/SIGINT handling. */
static int run_loop(struct stream_ctx *c, const struct opts *o)
{
	_cleanup_(evloop_timer_freep) struct evloop_timer *t = NULL;
	_cleanup_(evloop_signal_freep) struct evloop_signal *term = NULL, *intr = NULL;
	int r;

	if (evloop_signal_add(c->loop, SIGTERM, on_term, c, &term) < 0 ||
	    evloop_signal_add(c->loop, SIGINT, on_term, c, &intr) < 0)
		return 1;
	if (o->watch_timeout > 0) {
		if (evloop_timer_add(c->loop, on_deadline, c, &t) < 0)
			return 1;
		evloop_timer_arm(t, (uint64_t)(o->watch_timeout * 1000));
	}
	r = evloop_run(c->loop);
	return r < 0 ? 1 : r;
}

static int cmd_watch(struct kapi *k, char **argv, const struct opts *o)
{
	static const struct kapi_watch_ops ops = { .on_event = watch_on_event,
						   .on_state = watch_on_state };
	_cleanup_(evloop_freep) struct evloop *loop = NULL;
	struct kapi_watch_opts wo = { .resource_version = o->rv,
				      .label_selector = o->selector,
				      .field_selector = o->field_selector,
				      .backoff_min_ms = o->backoff_min_ms,
				      .backoff_max_ms = o->backoff_max_ms };
	struct stream_ctx c = { .want = o->watch_count, .quiet = o->quiet };
	int r;

	if (evloop_new(&loop) < 0)
		return 1;
	c.loop = loop;
	{
		_cleanup_(kapi_watch_freep) struct kapi_watch *w = NULL;

		r = kapi_watch_start(k, loop, argv[0], &wo, &ops, &c, &w);
		if (r < 0)
			return api_fail(k, "watch", argv[0], r);
		r = run_loop(&c, o);
	}
	if (c.quiet)
		printf("{\"events\":%ld}\n", c.seen);
	kapi_async_release(k); /* before the loop goes */
	return r;
}

static void print_op(const char *op, const json_t *obj, const json_t *old)
{
	printf("{\"op\":\"%s\",\"namespace\":\"%s\",\"name\":\"%s\",\"rv\":\"%s\"", op,
	       kapi_obj_namespace(obj) ?: "", kapi_obj_name(obj) ?: "",
	       kapi_obj_resource_version(obj) ?: "");
	if (old)
		printf(",\"old_rv\":\"%s\"", kapi_obj_resource_version(old) ?: "");
	printf("}\n");
}

static void inf_add(struct kinformer *inf, json_t *obj, void *userdata)
{
	struct stream_ctx *c = userdata;

	(void)inf;
	print_op("add", obj, NULL);
	if (c->synced)
		count_one(c);
}

static void inf_update(struct kinformer *inf, json_t *old, json_t *obj, void *userdata)
{
	struct stream_ctx *c = userdata;

	(void)inf;
	print_op("update", obj, old);
	if (c->synced)
		count_one(c);
}

static void inf_delete(struct kinformer *inf, json_t *obj, void *userdata)
{
	struct stream_ctx *c = userdata;

	(void)inf;
	print_op("delete", obj, NULL);
	if (c->synced)
		count_one(c);
}

static void inf_synced(struct kinformer *inf, void *userdata)
{
	struct stream_ctx *c = userdata;

	printf("{\"op\":\"synced\",\"size\":%zu}\n", kinformer_size(inf));
	fflush(stdout);
	c->synced = true;
	if (c->until_synced)
		evloop_exit(c->loop, 0);
}

static void inf_error(struct kinformer *inf, int error, const char *message, void *userdata)
{
	json_auto_t *j = json_pack("{s:s, s:s, s:s}", "op", "error", "error", strerror(-error),
				   "message", message ? message : "");

	(void)inf;
	(void)userdata;
	(void)print_json(j);
	fflush(stdout);
}

static int print_cache(const struct kinformer *inf)
{
	json_auto_t *items = json_object();
	const char *key;
	json_t *obj;

	json_object_foreach((json_t *)kinformer_cache(inf), key, obj)
	{
		const char *rv = json_is_string(obj) ? json_string_value(obj)
						     : kapi_obj_resource_version(obj);

		if (json_object_set_new(items, key, json_string(rv ?: "")) < 0)
			return 1;
	}
	printf("{\"op\":\"cache\",\"size\":%zu,\"synced\":%s,\"lists\":%u,"
	       "\"reconnects\":%u,\"items\":",
	       kinformer_size(inf), kinformer_is_synced(inf) ? "true" : "false",
	       kinformer_lists(inf), kinformer_watch_reconnects(inf));
	if (json_dumpf(items, stdout, JSON_COMPACT | JSON_SORT_KEYS) < 0)
		return 1;
	printf("}\n");
	return 0;
}

static int cmd_informer(struct kapi *k, char **argv, const struct opts *o)
{
	static const struct kinformer_ops ops = { .on_add = inf_add,
						  .on_update = inf_update,
						  .on_delete = inf_delete,
						  .on_synced = inf_synced,
						  .on_error = inf_error };
	_cleanup_(evloop_freep) struct evloop *loop = NULL;
	struct kinformer_opts io = { .label_selector = o->selector,
				     .field_selector = o->field_selector,
				     .page_size = o->limit,
				     .backoff_min_ms = o->backoff_min_ms,
				     .backoff_max_ms = o->backoff_max_ms,
				     .cache_keys_only = o->keys_only };
	struct stream_ctx c = { .want = o->watch_count, .until_synced = o->until_synced };
	int r;

	if (evloop_new(&loop) < 0)
		return 1;
	c.loop = loop;
	{
		_cleanup_(kinformer_freep) struct kinformer *inf = NULL;

		r = kinformer_new(k, loop, argv[0], &io, &ops, &c, &inf);
		if (r < 0)
			return api_fail(k, "informer", argv[0], r);
		r = run_loop(&c, o);
		if (print_cache(inf))
			r = 1;
		if (o->until_synced && !kinformer_is_synced(inf)) {
			fprintf(stderr, "kapictl: informer '%s' did not sync\n", argv[0]);
			r = 1;
		}
	}
	kapi_async_release(k);
	return r;
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
	{ "watch", 1, cmd_watch },
	{ "informer", 1, cmd_informer },
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
		{ "count", required_argument, NULL, 'C' },
		{ "summary", no_argument, NULL, 's' },
		{ "uid", required_argument, NULL, 'u' },
		{ "rv", required_argument, NULL, 'r' },
		{ "prefix", required_argument, NULL, 'p' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "until-synced", no_argument, NULL, 'S' },
		{ "keys-only", no_argument, NULL, 'K' },
		{ "backoff-ms", required_argument, NULL, 'b' },
		{ "backoff-max-ms", required_argument, NULL, 'B' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
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
		case 'C': o->watch_count = strtol(optarg, NULL, 10); break;
		case 's': o->count = true; break;
		case 'u': o->uid = optarg; break;
		case 'r': o->rv = optarg; break;
		case 'p': o->prefix = optarg; break;
		case 'T': o->watch_timeout = strtod(optarg, NULL); break;
		case 'S': o->until_synced = true; break;
		case 'K': o->keys_only = true; break;
		case 'b': o->backoff_min_ms = strtoul(optarg, NULL, 10); break;
		case 'B': o->backoff_max_ms = strtoul(optarg, NULL, 10); break;
		case 'q': o->quiet = true; break;
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
