/* Informer state machine:
 *
 *   LISTING --(last page)--> diff into cache, WATCHING from the list RV
 *   LISTING --(error)------> retry the LIST from the first page after a
 *                            jittered, doubling delay
 *   WATCHING --(410 Gone)--> LISTING (a relist; the diff emits exactly the
 *                            changes the cache missed)
 * Watch disconnects other than 410 are handled by the watch itself: it
 * resumes from the last resourceVersion, so nothing is missed or repeated.
 *
 * A LIST in progress collects pages into a separate map; the cache switches
 * to it only when the last page is in, so a failed relist leaves the cache
 * (and what consumers were told) consistent. A keys-only cache keeps no
 * objects to diff with later, so there a LIST's adds and updates reach the
 * consumer page by page (and the cache learns their resourceVersions at
 * once, so a retried relist repeats nothing); its deletions come when the
 * last page is in. A consumer building its own model from a big LIST then
 * never holds the whole LIST, and its model is not scattered among the
 * LIST's freed pages (felix-c's RSS after a restart).
 *
 * Fed (kinformer_pause(), or kinformer_opts.fed from the start): no LIST or
 * watch; a caller feeds a snapshot page by page and then events (felix-c's
 * typha-c client). A snapshot is a LIST by other means: it goes through
 * the same pending map and diff, so switching source (typha-c -> apiserver
 * with kinformer_resume(), or back) tells the consumer exactly what changed.
 *
 *   any --(pause)--> FED --(resume)--> LISTING
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cleanup.h"
#include "evloop.h"
#include "kapi-internal.h"
#include "kapi.h"
#include "kinformer.h"
#include "log.h"

#define INFORMER_PAGE 500
#define INFORMER_MAX_OBJECTS 1000000u
#define INFORMER_BACKOFF_MIN_MS 250
#define INFORMER_BACKOFF_MAX_MS 30000

enum informer_state {
	INFORMER_LISTING,
	INFORMER_WATCHING,
	INFORMER_RETRY,
	INFORMER_FED,
};

/* Owner: the caller of kinformer_new(). */
struct kinformer {
	struct kapi *k;			/* not owned */
	struct evloop *loop;		/* not owned */
	char *path;
	struct kinformer_opts o;	/* selectors point into sel_* */
	char *sel_label, *sel_field;
	const struct kinformer_ops *ops;
	void *userdata;
	enum informer_state state;
	json_t *cache;			/* "ns/name" -> object */
	pthread_mutex_t lock;		/* held while the cache changes: see kinformer_copy() */
	bool complete;			/* the cache holds a whole LIST (under lock) */
	json_t *pending;		/* LIST in progress: pages so far */
	char *list_rv;			/* resourceVersion of the LIST in progress */
	struct kapi_request *req;	/* LIST page in flight */
	struct kapi_watch *watch;	/* after the first LIST */
	struct evloop_timer *retry;
	unsigned backoff_ms;
	unsigned lists;
	bool synced;
	bool feeding;			/* FED: a snapshot is coming in (pending) */
	int feed_error;			/* FED: why the last feed failed, 0: it did not */
};

static int key_of(const char *ns, const char *name, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s%s%s", ns ? ns : "", ns ? "/" : "", name);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static int obj_key(const json_t *obj, char *buf, size_t size)
{
	const char *name = kapi_obj_name(obj);

	if (!name)
		return -EBADMSG;
	return key_of(kapi_obj_namespace(obj), name, buf, size);
}

bool kinformer_is_synced(const struct kinformer *inf)
{
	return inf->synced;
}

json_t *kinformer_get(const struct kinformer *inf, const char *ns, const char *name)
{
	char key[512];

	if (!name || key_of(ns, name, key, sizeof(key)) < 0)
		return NULL;
	return json_object_get(inf->cache, key);
}

size_t kinformer_size(const struct kinformer *inf)
{
	return json_object_size(inf->cache);
}

const json_t *kinformer_cache(const struct kinformer *inf)
{
	return inf->cache;
}

int kinformer_copy(struct kinformer *inf, const char *ns, const char *name, json_t **ret)
{
	char key[512];
	int r = -ENOENT;

	*ret = NULL;
	if (!name || key_of(ns, name, key, sizeof(key)) < 0)
		return -EINVAL;
	pthread_mutex_lock(&inf->lock);
	if (!inf->complete || inf->o.cache_keys_only)
		r = -EAGAIN;
	else if (json_object_get(inf->cache, key))
		r = (*ret = json_deep_copy(json_object_get(inf->cache, key))) ? 0 : -ENOMEM;
	pthread_mutex_unlock(&inf->lock);
	return r;
}

int kinformer_copy_matching(struct kinformer *inf, bool (*match)(const json_t *obj, void *data),
			    void *data, json_t **ret_items)
{
	json_t *items = json_array(), *obj;
	const char *key;
	int r = 0;

	*ret_items = NULL;
	if (!items)
		return -ENOMEM;
	pthread_mutex_lock(&inf->lock);
	if (!inf->complete || inf->o.cache_keys_only)
		r = -EAGAIN;
	else
		json_object_foreach(inf->cache, key, obj)
			if (match(obj, data) && json_array_append_new(items, json_deep_copy(obj)) < 0) {
				r = -ENOMEM;
				break;
			}
	pthread_mutex_unlock(&inf->lock);
	if (r < 0) {
		json_decref(items);
		return r;
	}
	*ret_items = items;
	return 0;
}

unsigned kinformer_lists(const struct kinformer *inf)
{
	return inf->lists;
}

unsigned kinformer_watch_reconnects(const struct kinformer *inf)
{
	return inf->watch ? kapi_watch_reconnects(inf->watch) : 0;
}

static void report(struct kinformer *inf, int error, const char *msg)
{
	log_debug("kinformer: '%s': %s: %s", inf->path, strerror(-error), msg);
	if (inf->ops->on_error)
		inf->ops->on_error(inf, error, msg, inf->userdata);
}

static int list_page(struct kinformer *inf, const char *cont);

static void list_retry(struct kinformer *inf, int error, const char *msg)
{
	unsigned base = inf->backoff_ms ? inf->backoff_ms : inf->o.backoff_min_ms;

	report(inf, error, msg);
	json_decref(inf->pending);
	inf->pending = NULL;
	inf->backoff_ms = base * 2 > inf->o.backoff_max_ms ? inf->o.backoff_max_ms : base * 2;
	inf->state = INFORMER_RETRY;
	evloop_timer_arm(inf->retry, base / 2 + kapi_jitter(base / 2 + 1));
}

static void on_retry(struct evloop_timer *t, void *userdata)
{
	struct kinformer *inf = userdata;
	int r;

	(void)t;
	r = list_page(inf, NULL);
	if (r < 0)
		list_retry(inf, r, "cannot start the LIST request");
}

/* What the cache keeps of @obj (a new reference; NULL: out of memory): the
 * object, or with cache_keys_only its resourceVersion, a string (a tenth of
 * the memory of even a metadata-only object). */
static json_t *cache_form(const struct kinformer *inf, json_t *obj)
{
	if (!inf->o.cache_keys_only)
		return json_incref(obj);
	return json_string(kapi_obj_resource_version(obj) ?: "");
}

/* The resourceVersion of a cache value. */
static const char *cached_rv(const json_t *v)
{
	return json_is_string(v) ? json_string_value(v) : kapi_obj_resource_version(v) ?: "";
}

/* A cache value as the callbacks get it (a new reference; NULL: out of
 * memory): the object, or for a keys-only cache the metadata its key and
 * resourceVersion give. */
static json_t *cached_obj(const json_t *v, const char *key)
{
	const char *slash = strchr(key, '/');
	json_t *meta;

	if (!json_is_string(v))
		return json_incref((json_t *)v);
	meta = json_pack("{s:s,s:O}", "name", slash ? slash + 1 : key, "resourceVersion", v);
	if (meta && slash &&
	    json_object_set_new(meta, "namespace", json_stringn(key, (size_t)(slash - key))) < 0) {
		json_decref(meta);
		return NULL;
	}
	return meta ? json_pack("{s:o}", "metadata", meta) : NULL;
}

/* Emits the difference between the old cache and the new one (whole
 * objects, from the LIST). */
static void emit_diff(struct kinformer *inf, json_t *old)
{
	const char *key;
	json_t *obj, *prev;

	json_object_foreach(inf->cache, key, obj)
	{
		prev = json_object_get(old, key);
		if (!prev) {
			if (inf->ops->on_add)
				inf->ops->on_add(inf, obj, inf->userdata);
		} else if (strcmp(cached_rv(prev), cached_rv(obj)) != 0 && inf->ops->on_update) {
			json_auto_t *p = cached_obj(prev, key);

			if (p)
				inf->ops->on_update(inf, p, obj, inf->userdata);
			else /* the new object still reaches the consumer */
				inf->ops->on_update(inf, prev, obj, inf->userdata);
		}
	}
	json_object_foreach(old, key, prev)
	{
		if (!json_object_get(inf->cache, key) && inf->ops->on_delete) {
			json_auto_t *p = cached_obj(prev, key);

			if (p)
				inf->ops->on_delete(inf, p, inf->userdata);
			else
				report(inf, -ENOMEM, "out of memory: a deletion was not delivered");
		}
	}
}

static void watch_event(struct kapi_watch *w, enum kapi_event_type t, json_t *obj,
			void *userdata);
static void watch_state(struct kapi_watch *w, enum kapi_watch_state s, int error,
			const char *message, void *userdata);
static const struct kapi_watch_ops watch_ops = { .on_event = watch_event,
						 .on_state = watch_state };

static int start_watch(struct kinformer *inf)
{
	struct kapi_watch_opts wo = {
		.label_selector = inf->o.label_selector,
		.field_selector = inf->o.field_selector,
		.resource_version = inf->list_rv,
		.timeout_s = inf->o.watch_timeout_s,
		.backoff_min_ms = inf->o.backoff_min_ms,
		.backoff_max_ms = inf->o.backoff_max_ms,
	};

	if (inf->watch)
		return kapi_watch_restart(inf->watch, inf->list_rv);
	return kapi_watch_start(inf->k, inf->loop, inf->path, &wo, &watch_ops, inf, &inf->watch);
}

/* The pending map becomes the cache; the difference goes out. */
static void commit_list(struct kinformer *inf)
{
	json_t *old = inf->cache;

	pthread_mutex_lock(&inf->lock);
	inf->cache = inf->pending;
	inf->complete = true;
	pthread_mutex_unlock(&inf->lock);
	inf->pending = NULL;
	inf->lists++;
	inf->backoff_ms = 0;
	emit_diff(inf, old);
	json_decref(old);
}

static void announce_synced(struct kinformer *inf)
{
	if (!inf->synced) {
		inf->synced = true;
		if (inf->ops->on_synced)
			inf->ops->on_synced(inf, inf->userdata);
	}
}

static void list_complete(struct kinformer *inf)
{
	int r;

	inf->state = INFORMER_WATCHING;
	commit_list(inf);
	r = start_watch(inf);
	if (r < 0)
		list_retry(inf, r, "cannot start the watch");
	announce_synced(inf);
}

/* One LIST item of a keys-only cache (see the top): the pending map gets
 * its resourceVersion, and its add or update goes out now. */
static int take_key(struct kinformer *inf, const char *key, json_t *obj)
{
	json_t *prev = json_object_get(inf->cache, key), *rv = cache_form(inf, obj);
	json_auto_t *old = NULL;
	int r;

	if (!rv)
		return -ENOMEM;
	if (prev && strcmp(cached_rv(prev), cached_rv(rv)) == 0) {
		json_decref(rv);
		return json_object_set(inf->pending, key, prev) < 0 ? -ENOMEM : 0;
	}
	old = prev ? cached_obj(prev, key) : NULL;
	if (prev && !old) {
		json_decref(rv);
		return -ENOMEM;
	}
	pthread_mutex_lock(&inf->lock);
	r = json_object_set(inf->cache, key, rv);
	pthread_mutex_unlock(&inf->lock);
	if (r < 0 || json_object_set_new(inf->pending, key, rv) < 0) {
		if (r < 0)
			json_decref(rv);
		return -ENOMEM;
	}
	if (!old) {
		if (inf->ops->on_add)
			inf->ops->on_add(inf, obj, inf->userdata);
	} else if (inf->ops->on_update) {
		inf->ops->on_update(inf, old, obj, inf->userdata);
	}
	return 0;
}

/* Adds one page's items to the pending map; items of a LIST carry no kind
 * and apiVersion, so they get the list's (kind without "List"). */
static int take_items(struct kinformer *inf, json_t *page)
{
	const char *list_kind = json_string_value(json_object_get(page, "kind"));
	json_t *api = json_object_get(page, "apiVersion"), *items = json_object_get(page, "items");
	char kind[256] = "", key[512];
	json_t *it;
	size_t i, n;

	if (!json_is_array(items) && !json_is_null(items) && items)
		return -EBADMSG;
	n = list_kind ? strlen(list_kind) : 0;
	if (n > 4 && n < sizeof(kind) && strcmp(list_kind + n - 4, "List") == 0)
		snprintf(kind, sizeof(kind), "%.*s", (int)(n - 4), list_kind);
	json_array_foreach(items, i, it)
	{
		json_t *keep;
		int r;

		if (obj_key(it, key, sizeof(key)) < 0)
			return -EBADMSG;
		if (*kind && !json_object_get(it, "kind"))
			(void)json_object_set_new(it, "kind", json_string(kind));
		if (api && !json_object_get(it, "apiVersion"))
			(void)json_object_set(it, "apiVersion", api);
		keep = inf->o.transform ? inf->o.transform(it) : json_incref(it);
		if (!keep)
			return -ENOMEM;
		if (inf->o.cache_keys_only)
			r = take_key(inf, key, keep);
		else
			r = json_object_set(inf->pending, key, keep) < 0 ? -ENOMEM : 0;
		json_decref(keep);
		if (r < 0)
			return r;
	}
	if (json_object_size(inf->pending) > inf->o.max_objects)
		return -ENOBUFS;
	return 0;
}

static void on_page(int error, json_t *page, const char *message, void *userdata)
{
	struct kinformer *inf = userdata;
	json_t *meta = json_object_get(page, "metadata");
	const char *cont = json_string_value(json_object_get(meta, "continue"));
	const char *rv = json_string_value(json_object_get(meta, "resourceVersion"));
	int r;

	inf->req = NULL;
	if (error < 0) {
		list_retry(inf, error, message);
		return;
	}
	r = take_items(inf, page);
	if (r < 0) {
		list_retry(inf, r, r == -ENOBUFS ? "too many objects" : "malformed LIST");
		return;
	}
	if (!inf->list_rv && rv && !(inf->list_rv = strdup(rv))) {
		list_retry(inf, -ENOMEM, "out of memory");
		return;
	}
	if (cont && *cont) {
		r = list_page(inf, cont);
		if (r < 0)
			list_retry(inf, r, "cannot request the next page");
		return;
	}
	list_complete(inf);
}

/* Requests one page; @cont NULL starts a new LIST. */
static int list_page(struct kinformer *inf, const char *cont)
{
	struct kapi_list_opts lo = { .label_selector = inf->o.label_selector,
				     .field_selector = inf->o.field_selector,
				     .limit = inf->o.page_size };
	_cleanup_free_ char *url = kapi_list_url(inf->path, &lo, cont);

	if (!url)
		return -ENOMEM;
	if (!cont) {
		json_decref(inf->pending);
		inf->pending = json_object();
		free(inf->list_rv);
		inf->list_rv = NULL;
		if (!inf->pending)
			return -ENOMEM;
	}
	inf->state = INFORMER_LISTING;
	return kapi_get_async(inf->k, inf->loop, url, on_page, inf, &inf->req);
}

static void relist(struct kinformer *inf, const char *why)
{
	int r;

	if (inf->state == INFORMER_FED) {
		/* the feeder resyncs (a new snapshot) when told */
		log_debug("kinformer: '%s': fed cache needs a new snapshot: %s", inf->path, why);
		inf->feed_error = -ENOBUFS;
		return;
	}
	log_debug("kinformer: '%s': relisting: %s", inf->path, why);
	r = list_page(inf, NULL);
	if (r < 0)
		list_retry(inf, r, "cannot start the LIST request");
}

static void apply_upsert(struct kinformer *inf, const char *key, json_t *obj)
{
	json_t *prev = json_incref(json_object_get(inf->cache, key)), *old = NULL;
	int r;

	/* what on_update gets as @old, built only for a real update */
	if (prev && strcmp(cached_rv(prev), cached_rv(obj)) != 0) {
		old = cached_obj(prev, key);
		if (!old) {
			json_decref(prev);
			relist(inf, "out of memory");
			return;
		}
	}
	if (!prev && json_object_size(inf->cache) >= inf->o.max_objects) {
		relist(inf, "cache limit reached"); /* fails cleanly with -ENOBUFS */
		return;
	}
	pthread_mutex_lock(&inf->lock);
	r = json_object_set_new(inf->cache, key, cache_form(inf, obj));
	pthread_mutex_unlock(&inf->lock);
	if (r < 0)
		relist(inf, "out of memory");
	else if (!prev && inf->ops->on_add)
		inf->ops->on_add(inf, obj, inf->userdata);
	else if (old && inf->ops->on_update)
		inf->ops->on_update(inf, old, obj, inf->userdata);
	json_decref(old);
	json_decref(prev);
}

static void apply_event(struct kinformer *inf, enum kapi_event_type t, json_t *obj)
{
	char key[512];
	json_t *old;

	if (t == KAPI_EVENT_BOOKMARK || t == KAPI_EVENT_ERROR)
		return; /* RV kept by the watch; errors come through watch_state */
	if (obj_key(obj, key, sizeof(key)) < 0) {
		report(inf, -EBADMSG, "watch event without a name");
		return;
	}
	if (t != KAPI_EVENT_DELETED) {
		json_t *keep = inf->o.transform ? inf->o.transform(obj) : json_incref(obj);

		if (!keep)
			relist(inf, "out of memory");
		else
			apply_upsert(inf, key, keep);
		json_decref(keep);
		return;
	}
	old = json_object_get(inf->cache, key);
	if (!old)
		return;
	pthread_mutex_lock(&inf->lock);
	(void)json_object_del(inf->cache, key);
	pthread_mutex_unlock(&inf->lock);
	if (inf->ops->on_delete)
		inf->ops->on_delete(inf, obj, inf->userdata);
}

static void watch_event(struct kapi_watch *w, enum kapi_event_type t, json_t *obj,
			void *userdata)
{
	struct kinformer *inf = userdata;

	(void)w;
	if (inf->state == INFORMER_WATCHING)
		apply_event(inf, t, obj);
}

static void watch_state(struct kapi_watch *w, enum kapi_watch_state s, int error,
			const char *message, void *userdata)
{
	struct kinformer *inf = userdata;

	(void)w;
	if (s == KAPI_WATCH_BACKOFF)
		report(inf, error, message);
	if (s == KAPI_WATCH_GONE && inf->state == INFORMER_WATCHING)
		relist(inf, message);
}


static int copy_opts(struct kinformer *inf, const struct kinformer_opts *o)
{
	if (o)
		inf->o = *o;
	if ((o && o->label_selector && !(inf->sel_label = strdup(o->label_selector))) ||
	    (o && o->field_selector && !(inf->sel_field = strdup(o->field_selector))))
		return -ENOMEM;
	inf->o.label_selector = inf->sel_label;
	inf->o.field_selector = inf->sel_field;
	if (!inf->o.page_size)
		inf->o.page_size = INFORMER_PAGE;
	if (!inf->o.max_objects)
		inf->o.max_objects = INFORMER_MAX_OBJECTS;
	if (!inf->o.backoff_min_ms)
		inf->o.backoff_min_ms = INFORMER_BACKOFF_MIN_MS;
	if (!inf->o.backoff_max_ms)
		inf->o.backoff_max_ms = INFORMER_BACKOFF_MAX_MS;
	if (inf->o.backoff_max_ms < inf->o.backoff_min_ms)
		inf->o.backoff_max_ms = inf->o.backoff_min_ms;
	return 0;
}

int kinformer_new(struct kapi *k, struct evloop *loop, const char *path,
		  const struct kinformer_opts *o, const struct kinformer_ops *ops, void *userdata,
		  struct kinformer **ret)
{
	_cleanup_(kinformer_freep) struct kinformer *inf = NULL;
	int r;

	if (!k || !loop || !path || path[0] != '/' || !ops)
		return -EINVAL;
	inf = calloc(1, sizeof(*inf));
	if (!inf)
		return -ENOMEM;
	pthread_mutex_init(&inf->lock, NULL);
	inf->k = k;
	inf->loop = loop;
	inf->ops = ops;
	inf->userdata = userdata;
	inf->path = strdup(path);
	inf->cache = json_object();
	if (!inf->path || !inf->cache)
		return -ENOMEM;
	r = copy_opts(inf, o);
	if (r < 0)
		return r;
	r = evloop_timer_add(loop, on_retry, inf, &inf->retry);
	if (r < 0)
		return r;
	inf->state = INFORMER_FED;
	r = inf->o.fed ? 0 : list_page(inf, NULL);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(inf);
	return 0;
}

struct kinformer *kinformer_free(struct kinformer *inf)
{
	if (!inf)
		return NULL;
	kapi_request_cancel(inf->req);
	kapi_watch_free(inf->watch);
	evloop_timer_free(inf->retry);
	json_decref(inf->cache);
	json_decref(inf->pending);
	free(inf->list_rv);
	free(inf->path);
	free(inf->sel_label);
	free(inf->sel_field);
	pthread_mutex_destroy(&inf->lock);
	free(inf);
	return NULL;
}

bool kinformer_is_fed(const struct kinformer *inf)
{
	return inf->state == INFORMER_FED;
}

void kinformer_pause(struct kinformer *inf)
{
	if (inf->state == INFORMER_FED)
		return;
	inf->req = kapi_request_cancel(inf->req);
	inf->watch = kapi_watch_free(inf->watch);
	evloop_timer_disarm(inf->retry);
	json_decref(inf->pending);
	inf->pending = NULL;
	inf->backoff_ms = 0;
	inf->state = INFORMER_FED;
	inf->feeding = false;
}

int kinformer_resume(struct kinformer *inf)
{
	int r;

	if (inf->state != INFORMER_FED)
		return 0;
	inf->feeding = false;
	r = list_page(inf, NULL);
	if (r < 0)
		list_retry(inf, r, "cannot start the LIST request");
	return 0;
}

int kinformer_feed_page(struct kinformer *inf, json_t *items, bool last)
{
	json_auto_t *page = NULL;
	int r;

	if (inf->state != INFORMER_FED)
		return -EBUSY;
	if (!json_is_array(items))
		return -EINVAL;
	if (!inf->feeding) {
		json_decref(inf->pending);
		if (!(inf->pending = json_object()))
			return -ENOMEM;
		inf->feeding = true;
	}
	page = json_pack("{s:O}", "items", items);
	r = page ? take_items(inf, page) : -ENOMEM;
	if (r < 0) {
		json_decref(inf->pending);
		inf->pending = NULL;
		inf->feeding = false;
		return r;
	}
	if (last) {
		inf->feeding = false;
		commit_list(inf);
		announce_synced(inf);
	}
	return 0;
}

int kinformer_feed_event(struct kinformer *inf, enum kapi_event_type t, json_t *obj)
{
	int r;

	if (inf->state != INFORMER_FED || inf->feeding || !inf->synced)
		return -EBUSY;
	if (t != KAPI_EVENT_ADDED && t != KAPI_EVENT_MODIFIED && t != KAPI_EVENT_DELETED)
		return -EINVAL;
	if (!kapi_obj_name(obj))
		return -EBADMSG;
	inf->feed_error = 0;
	apply_event(inf, t, obj);
	r = inf->feed_error;
	inf->feed_error = 0;
	return r;
}
