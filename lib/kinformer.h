/* Informer: a local cache of one API collection kept equal to the
 * apiserver's by LIST-then-WATCH, with callbacks for each change.
 *
 * The cache maps "namespace/name" (or "name" for cluster-scoped objects) to
 * the latest object. A LIST (paged) fills it; a watch from the list's
 * resourceVersion keeps it current and resumes after disconnects. When the
 * resourceVersion has expired (410) the informer lists again and emits the
 * difference against its cache (on_add / on_update / on_delete), so a
 * consumer sees every change exactly once however long it was cut off.
 * All work happens on the evloop: the LIST is asynchronous too.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "cleanup.h"
#include "kapi.h"

struct evloop;
struct kapi;
struct kinformer;

/* Objects are borrowed (json_incref() to keep one). When a callback runs the
 * cache already holds the new state. Callbacks may not free the informer. */
struct kinformer_ops {
	void (*on_add)(struct kinformer *inf, json_t *obj, void *userdata);
	void (*on_update)(struct kinformer *inf, json_t *old, json_t *obj, void *userdata);
	void (*on_delete)(struct kinformer *inf, json_t *obj, void *userdata);
	/* Once, after the first complete LIST has been delivered. */
	void (*on_synced)(struct kinformer *inf, void *userdata);
	/* Optional: a LIST or watch failed (it will be retried): @error, why. */
	void (*on_error)(struct kinformer *inf, int error, const char *message, void *userdata);
};

struct kinformer_opts {
	const char *label_selector; /* NULL: all */
	const char *field_selector; /* NULL: all */
	unsigned page_size;	    /* LIST limit; 0: 500 */
	size_t max_objects;	    /* cache limit; 0: 1,000,000 */
	unsigned watch_timeout_s;   /* see kapi_watch_opts; 0: default */
	unsigned backoff_min_ms;    /* retry delays of LIST and watch; 0: defaults */
	unsigned backoff_max_ms;
	/* Optional: what to keep of each object (listed or watched) before it
	 * enters the cache and reaches the callbacks; returns a new reference,
	 * NULL when out of memory. It must keep metadata.name, .namespace and
	 * .resourceVersion. Saves memory when the consumer reads few fields. */
	json_t *(*transform)(json_t *obj);
	/* The cache keeps only each object's resourceVersion (enough to diff
	 * a relist): for a consumer that keeps its own model of the objects
	 * from the callbacks. kinformer_get()/kinformer_cache() then give
	 * resourceVersion strings, and the @old of on_update (and @obj of
	 * on_delete after a relist) holds only metadata name, namespace and
	 * resourceVersion. A LIST's adds and updates then come page by page,
	 * its deletions (and on_synced) once the last page is in. */
	bool cache_keys_only;
	/* Start fed (see kinformer_pause()): no request until kinformer_resume(). */
	bool fed;
};

/**
 * kinformer_new - start listing and watching @path
 * @k: client (outlives the informer)
 * @loop: event loop
 * @path: collection path from kapi_path() (name NULL)
 * @o: options, may be NULL
 * @ops: callbacks
 * @userdata: passed to the callbacks
 * @ret: the informer
 *
 * Return: 0, -EINVAL, -ENOMEM.
 */
int kinformer_new(struct kapi *k, struct evloop *loop, const char *path,
		  const struct kinformer_opts *o, const struct kinformer_ops *ops, void *userdata,
		  struct kinformer **ret);
struct kinformer *kinformer_free(struct kinformer *inf);
DEFINE_CLEANUP_FUNC(struct kinformer, kinformer_free);

/* True once the first LIST has been delivered (stays true across relists). */
bool kinformer_is_synced(const struct kinformer *inf);
/* The cached object (borrowed; its resourceVersion string with
 * cache_keys_only), NULL if absent. @ns NULL for cluster-scoped. */
json_t *kinformer_get(const struct kinformer *inf, const char *ns, const char *name);
size_t kinformer_size(const struct kinformer *inf);
/* The cache itself: a JSON object "ns/name" -> object (resourceVersion with
 * cache_keys_only), for json_object_foreach();
 * read-only, valid until the loop runs again. */
const json_t *kinformer_cache(const struct kinformer *inf);
/* Thread-safe, unlike the calls above (which belong to the evloop's
 * thread): a deep copy of the cached object, or an array of copies of
 * those for which @match is true (called under the informer's lock; it
 * must not call the informer). Return: 0; -ENOENT (kinformer_copy: not
 * cached); -EAGAIN before the first LIST is complete or when the cache
 * keeps keys only; -EINVAL; -ENOMEM. */
int kinformer_copy(struct kinformer *inf, const char *ns, const char *name, json_t **ret);
int kinformer_copy_matching(struct kinformer *inf, bool (*match)(const json_t *obj, void *data),
			    void *data, json_t **ret_items);
/* Completed LISTs (1 after the first sync, +1 per relist). */
unsigned kinformer_lists(const struct kinformer *inf);
/* Watch reconnects (resumed without a relist). */
unsigned kinformer_watch_reconnects(const struct kinformer *inf);

/* ---- a fed informer: another source (typha-c) instead of the apiserver ----
 * Snapshots and events go through the same cache, diff and callbacks as a
 * LIST and a watch, so consumers cannot tell the sources apart, and a
 * switch of source emits exactly the changes between the two views. */

/* Stops the LIST and watch; the cache and synced state stay. */
void kinformer_pause(struct kinformer *inf);
/* Back to the apiserver: a LIST (diffed against the cache), then a watch.
 * Return: 0 (a failed LIST is retried as usual). */
int kinformer_resume(struct kinformer *inf);
bool kinformer_is_fed(const struct kinformer *inf);

/**
 * kinformer_feed_page - one page of a snapshot (a LIST by other means)
 * @inf: a fed informer
 * @items: array of whole objects with kind and apiVersion (borrowed)
 * @last: the snapshot is complete: the cache switches to it, the difference
 *   goes to the callbacks (with keys_only, adds and updates page by page)
 *   and on_synced runs the first time
 *
 * Return: 0; -EBUSY (not fed); -EINVAL (@items not an array); -EBADMSG (an
 *   item without a name); -ENOBUFS (more than max_objects); -ENOMEM. On an
 *   error the snapshot in progress is dropped (the cache is unchanged).
 */
int kinformer_feed_page(struct kinformer *inf, json_t *items, bool last);

/**
 * kinformer_feed_event - one change after a complete snapshot
 * @inf: a fed informer
 * @t: ADDED, MODIFIED or DELETED
 * @obj: the object (borrowed)
 *
 * Return: 0; -EBUSY (not fed, or no complete snapshot yet, or one in
 *   progress); -EINVAL (other event types); -EBADMSG (no name); -ENOBUFS
 *   (the cache could not take it: feed a new snapshot).
 */
int kinformer_feed_event(struct kinformer *inf, enum kapi_event_type t, json_t *obj);
