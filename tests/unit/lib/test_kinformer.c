/* A fed kinformer (lib/kinformer.h): snapshots go through the same cache,
 * diff and callbacks as a LIST, so a second snapshot (a resync or a switch
 * of source) emits exactly the difference; events need a complete
 * snapshot first; a bad page drops the snapshot in progress and leaves the
 * cache as it was; keys-only caches keep resourceVersions. No request is
 * sent (the client's apiserver, 127.0.0.1:1, is not there). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "evloop.h"
#include "kapi.h"
#include "kinformer.h"
#include "tests/unit/lib/kapitest.h"

struct rec {
	json_t *log;
	int synced;
};

static void note(struct rec *r, const char *what, json_t *obj)
{
	json_array_append_new(r->log, json_sprintf("%s %s %s", what, kapi_obj_name(obj),
						   kapi_obj_resource_version(obj)));
}
static void on_add(struct kinformer *i, json_t *o, void *u) { (void)i; note(u, "add", o); }
static void on_update(struct kinformer *i, json_t *old, json_t *o, void *u)
{
	(void)i;
	(void)old;
	note(u, "update", o);
}
static void on_delete(struct kinformer *i, json_t *o, void *u) { (void)i; note(u, "delete", o); }
static void on_synced(struct kinformer *i, void *u)
{
	(void)i;
	((struct rec *)u)->synced++;
}
static const struct kinformer_ops ops = { on_add, on_update, on_delete, on_synced, NULL };

struct env {
	struct evloop *loop;
	struct kapi_config *kc;
	struct kapi *k;
	struct kinformer *inf;
	struct rec rec;
};

static void env_init(struct env *e, bool keys_only)
{
	struct kinformer_opts o = { .fed = true, .cache_keys_only = keys_only };

	*e = (struct env){ .rec.log = json_array() };
	assert_int_equal(evloop_new(&e->loop), 0);
	kapitest_client(&e->kc, &e->k);
	assert_int_equal(kinformer_new(e->k, e->loop, "/api/v1/namespaces", &o, &ops, &e->rec,
				       &e->inf), 0);
}

static void env_done(struct env *e)
{
	kinformer_free(e->inf);
	kapi_free(e->k);
	kapi_config_free(e->kc);
	evloop_free(e->loop);
	json_decref(e->rec.log);
}

/* "a:1 b:2" -> items */
static json_t *items(const char *spec)
{
	json_t *arr = json_array();
	char name[32], rv[32];
	int n;

	while (sscanf(spec, " %31[^:]:%31s%n", name, rv, &n) == 2) {
		json_array_append_new(arr, json_pack("{s:s,s:s,s:{s:s,s:s}}", "apiVersion", "v1",
						     "kind", "Namespace", "metadata", "name", name,
						     "resourceVersion", rv));
		spec += n;
	}
	return arr;
}

static void feed(struct env *e, const char *spec, bool last, int want)
{
	json_auto_t *it = items(spec);

	assert_int_equal(kinformer_feed_page(e->inf, it, last), want);
}

static void assert_log(struct env *e, const char *want)
{
	char got[512] = "";

	for (size_t i = 0; i < json_array_size(e->rec.log); i++)
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", i ? "," : "",
			 json_string_value(json_array_get(e->rec.log, i)));
	assert_string_equal(got, want);
	json_array_clear(e->rec.log);
}

static void event(struct env *e, enum kapi_event_type t, const char *spec, int want)
{
	json_auto_t *it = items(spec);

	assert_int_equal(kinformer_feed_event(e->inf, t, json_array_get(it, 0)), want);
}

static void test_snapshots_and_events_emit_exact_changes(void **state)
{
	struct env e;

	(void)state;
	env_init(&e, false);
	assert_true(kinformer_is_fed(e.inf));
	event(&e, KAPI_EVENT_ADDED, "x:1", -EBUSY); /* no snapshot yet */
	feed(&e, "a:1 b:1", false, 0);
	event(&e, KAPI_EVENT_ADDED, "x:1", -EBUSY); /* one in progress */
	assert_false(kinformer_is_synced(e.inf));
	feed(&e, "c:1", true, 0);
	assert_int_equal(e.rec.synced, 1);
	assert_log(&e, "add a 1,add b 1,add c 1");
	event(&e, KAPI_EVENT_MODIFIED, "a:2", 0);
	event(&e, KAPI_EVENT_DELETED, "b:1", 0);
	event(&e, KAPI_EVENT_BOOKMARK, "b:1", -EINVAL);
	assert_log(&e, "update a 2,delete b 1");
	/* a resync: a unchanged, c changed, d new, (b gone already) */
	feed(&e, "a:2 c:2 d:1", true, 0);
	assert_log(&e, "update c 2,add d 1");
	assert_int_equal(e.rec.synced, 1);
	assert_int_equal(kinformer_lists(e.inf), 2);
	/* a bad page: the snapshot in progress is dropped, the cache kept */
	feed(&e, "e:1", false, 0);
	json_auto_t *bad = json_pack("[{s:{}}]", "metadata");
	assert_int_equal(kinformer_feed_page(e.inf, bad, true), -EBADMSG);
	assert_int_equal(kinformer_feed_page(e.inf, NULL, true), -EINVAL);
	assert_int_equal(kinformer_size(e.inf), 3);
	assert_log(&e, "");
	/* an empty snapshot deletes everything */
	feed(&e, "", true, 0);
	assert_log(&e, "delete a 2,delete c 2,delete d 1");
	env_done(&e);
}

static void test_resume_leaves_fed_mode_pause_returns(void **state)
{
	struct env e;

	(void)state;
	env_init(&e, false);
	feed(&e, "a:1", true, 0);
	assert_int_equal(kinformer_resume(e.inf), 0); /* LISTs 127.0.0.1:1, retried */
	assert_false(kinformer_is_fed(e.inf));
	feed(&e, "b:1", true, -EBUSY);
	event(&e, KAPI_EVENT_ADDED, "b:1", -EBUSY);
	assert_true(kinformer_is_synced(e.inf)); /* the old view stays until a new one */
	assert_int_equal(kinformer_size(e.inf), 1);
	kinformer_pause(e.inf);
	assert_true(kinformer_is_fed(e.inf));
	feed(&e, "b:1", true, 0);
	assert_log(&e, "add a 1,add b 1,delete a 1");
	env_done(&e);
}

static void test_keys_only_cache_keeps_resource_versions(void **state)
{
	struct env e;

	(void)state;
	env_init(&e, true);
	feed(&e, "a:1 b:1", true, 0);
	assert_string_equal(json_string_value(kinformer_get(e.inf, NULL, "a")), "1");
	event(&e, KAPI_EVENT_MODIFIED, "a:5", 0);
	assert_string_equal(json_string_value(kinformer_get(e.inf, NULL, "a")), "5");
	feed(&e, "a:5", true, 0);
	assert_log(&e, "add a 1,add b 1,update a 5,delete b 1");
	env_done(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_snapshots_and_events_emit_exact_changes),
		cmocka_unit_test(test_resume_leaves_fed_mode_pause_returns),
		cmocka_unit_test(test_keys_only_cache_keeps_resource_versions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
