/* Asynchronous API requests and watches on libcurl's multi interface,
 * driven by an evloop.
 *
 * Model: a client has at most one kapi_multi (one CURLM bound to one loop);
 * curl tells us which sockets to watch (CURLMOPT_SOCKETFUNCTION -> evloop
 * fd watchers) and when to call it back (CURLMOPT_TIMERFUNCTION -> one
 * evloop timer). Each transfer is a kreq: buffered (async GET) or streamed
 * (watch: the body goes through jsonstream and each object becomes an
 * event). libcurl forbids removing a transfer from inside its own
 * callbacks, so a kreq freed while curl is running (a user callback freeing
 * its watch mid-stream) is only marked and parked, and removed once
 * curl_multi_socket_action() has returned.
 *
 * A watch keeps the last resourceVersion it saw (events and bookmarks), so
 * a reconnect resumes exactly where it stopped; 410 Gone (as HTTP status or
 * as an ERROR event) stops it in GONE for the owner to relist.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "cleanup.h"
#include "evloop.h"
#include "jsonstream.h"
#include "kapi-internal.h"
#include "kapi.h"
#include "log.h"

#define WATCH_MAX_EVENT (64u << 20)
#define WATCH_BACKOFF_MIN_MS 250
#define WATCH_BACKOFF_MAX_MS 30000
#define WATCH_MIN_HEALTHY_MS 1000 /* a shorter clean stream counts as a failure */

struct kreq;
typedef void (*kreq_object_cb)(struct kreq *rq, json_t *obj, void *userdata);
typedef void (*kreq_done_cb)(struct kreq *rq, int error, long code, void *userdata);

/* Owner: kapi (through kapi_multi_slot()). */
struct kapi_multi {
	CURLM *multi;
	struct evloop *loop;	   /* not owned */
	struct evloop_timer *timer; /* curl's timeout */
	struct kreq *zombies;	   /* freed inside curl callbacks, removed later */
	unsigned in_curl;	   /* >0 while inside curl_multi_socket_action() */
};

/* One transfer. Owner: a kapi_request or a kapi_watch. */
struct kreq {
	struct kapi_multi *m;
	CURL *easy;
	long code;		  /* HTTP status once the headers are in, else 0 */
	struct jsonstream *js;	  /* streaming mode: parser, NULL when buffered */
	struct kapi_buf body;	  /* buffered body, or a streamed error body */
	kreq_object_cb on_object; /* streaming: each object */
	kreq_done_cb on_done;	  /* once, when the transfer ends */
	void *userdata;
	int abort_error;	  /* set to stop the transfer (write callback fails) */
	bool zombie;		  /* freed by its owner; awaiting removal */
	char errbuf[CURL_ERROR_SIZE];
	struct kreq *next_zombie;
	uint64_t started_ms;
};

static void *mfree(void *p)
{
	free(p);
	return NULL;
}

unsigned kapi_jitter(unsigned n)
{
	static unsigned seed;
	static bool seeded;

	if (!seeded) {
		/* per process, so that a fleet of nodes does not retry in step */
		if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed))
			seed = (unsigned)getpid() ^ (unsigned)time(NULL);
		seeded = true;
	}
	return n ? (unsigned)rand_r(&seed) % n : 0;
}

/* --- the multi handle on the loop ----------------------------------------- */

static void kreq_destroy(struct kreq *rq)
{
	if (rq->easy) {
		(void)curl_multi_remove_handle(rq->m->multi, rq->easy);
		curl_easy_cleanup(rq->easy);
	}
	jsonstream_free(rq->js);
	free(rq->body.data);
	free(rq);
}

static void reap_zombies(struct kapi_multi *m)
{
	while (m->zombies) {
		struct kreq *rq = m->zombies;

		m->zombies = rq->next_zombie;
		kreq_destroy(rq);
	}
}

/* Frees @rq now, or parks it while curl is running (see the top comment). */
static struct kreq *kreq_free(struct kreq *rq)
{
	if (!rq)
		return NULL;
	if (rq->m->in_curl) {
		rq->zombie = true;
		rq->next_zombie = rq->m->zombies;
		rq->m->zombies = rq;
	} else {
		kreq_destroy(rq);
	}
	return NULL;
}

static void check_done(struct kapi_multi *m)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(m->multi, &left))) {
		struct kreq *rq = NULL;
		int error;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&rq);
		if (!rq || rq->zombie)
			continue;
		error = rq->abort_error ? rq->abort_error : kapi_curl_errno(msg->data.result);
		curl_easy_getinfo(rq->easy, CURLINFO_RESPONSE_CODE, &rq->code);
		(void)curl_multi_remove_handle(m->multi, rq->easy);
		rq->on_done(rq, error, rq->code, rq->userdata); /* may free rq */
	}
}

static void socket_action(struct kapi_multi *m, curl_socket_t s, int flags)
{
	int running;

	m->in_curl++;
	(void)curl_multi_socket_action(m->multi, s, flags, &running);
	m->in_curl--;
	reap_zombies(m);
	check_done(m);
}

static void on_sock_ready(struct evloop_io *io, int fd, uint32_t revents, void *userdata)
{
	int flags = 0;

	(void)io;
	if (revents & EPOLLIN)
		flags |= CURL_CSELECT_IN;
	if (revents & EPOLLOUT)
		flags |= CURL_CSELECT_OUT;
	if (revents & (EPOLLERR | EPOLLHUP))
		flags |= CURL_CSELECT_ERR;
	socket_action(userdata, fd, flags);
}

static void on_curl_timer(struct evloop_timer *t, void *userdata)
{
	(void)t;
	socket_action(userdata, CURL_SOCKET_TIMEOUT, 0);
}

static int curl_socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct kapi_multi *m = userp;
	struct evloop_io *io = socketp;
	uint32_t ev = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		evloop_io_free(io);
		curl_multi_assign(m->multi, s, NULL);
		return 0;
	}
	if (io)
		return evloop_io_set_events(io, ev) < 0 ? -1 : 0;
	if (evloop_io_add(m->loop, s, ev, on_sock_ready, m, &io) < 0)
		return -1;
	curl_multi_assign(m->multi, s, io);
	return 0;
}

static int curl_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct kapi_multi *m = userp;

	(void)multi;
	if (timeout_ms < 0)
		evloop_timer_disarm(m->timer);
	else
		evloop_timer_arm(m->timer, (uint64_t)timeout_ms);
	return 0;
}

struct kapi_multi *kapi_multi_free(struct kapi_multi *m)
{
	if (!m)
		return NULL;
	reap_zombies(m);
	if (m->multi)
		curl_multi_cleanup(m->multi);
	evloop_timer_free(m->timer);
	free(m);
	return NULL;
}

void kapi_async_release(struct kapi *k)
{
	struct kapi_multi **slot = kapi_multi_slot(k);

	*slot = kapi_multi_free(*slot);
}

static int multi_get(struct kapi *k, struct evloop *loop, struct kapi_multi **ret)
{
	struct kapi_multi **slot = kapi_multi_slot(k), *m;

	if (*slot) {
		if ((*slot)->loop != loop)
			return -EINVAL;
		*ret = *slot;
		return 0;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->loop = loop;
	m->multi = curl_multi_init();
	if (!m->multi || evloop_timer_add(loop, on_curl_timer, m, &m->timer) < 0) {
		kapi_multi_free(m);
		return -ENOMEM;
	}
	curl_multi_setopt(m->multi, CURLMOPT_SOCKETFUNCTION, curl_socket_cb);
	curl_multi_setopt(m->multi, CURLMOPT_SOCKETDATA, m);
	curl_multi_setopt(m->multi, CURLMOPT_TIMERFUNCTION, curl_timer_cb);
	curl_multi_setopt(m->multi, CURLMOPT_TIMERDATA, m);
	/* A connection per transfer, not HTTP/2 streams multiplexed on one:
	 * with libcurl 7.88 (Debian 12) and the socket API, a multiplexed LIST
	 * page sometimes stopped short of its end (always near 930 KB of a
	 * 1.2 MB page) until its 10 s timeout, about one felix-c start in
	 * seven at 10,000 pods; none in 40 starts without multiplexing. It
	 * costs a TLS connection per watch (about 0.1 MiB each). */
	curl_multi_setopt(m->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_NOTHING);
	*slot = *ret = m;
	return 0;
}

/* --- one transfer ------------------------------------------------------------ */

static int stream_object(json_t *obj, void *userdata)
{
	struct kreq *rq = userdata;

	if (rq->zombie)
		return -ECANCELED;
	rq->on_object(rq, obj, rq->userdata);
	if (rq->zombie)
		return -ECANCELED;
	return rq->abort_error ? rq->abort_error : 0;
}

static size_t kreq_write(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct kreq *rq = userdata;
	size_t n = size * nmemb;
	int r;

	if (rq->zombie || rq->abort_error)
		return 0;
	if (!rq->code)
		curl_easy_getinfo(rq->easy, CURLINFO_RESPONSE_CODE, &rq->code);
	if (!rq->js || rq->code != 200)
		return kapi_buf_write(data, size, nmemb, &rq->body);
	r = jsonstream_feed(rq->js, data, n, stream_object, rq);
	if (r < 0) {
		if (!rq->abort_error && !rq->zombie)
			rq->abort_error = r == -ECANCELED ? -ECANCELED : -EBADMSG;
		return 0;
	}
	return n;
}

/* Starts a GET of @path; @stream selects watch mode. */
static int kreq_start(struct kapi *k, struct kapi_multi *m, const char *path, bool stream,
		      long timeout_ms, struct kreq **ret)
{
	_cleanup_free_ char *url = NULL;
	struct kreq *rq;

	if (path[0] != '/')
		return -EINVAL;
	if (asprintf(&url, "%s%s", kapi_server(k), path) < 0)
		return -ENOMEM;
	rq = calloc(1, sizeof(*rq));
	if (!rq)
		return -ENOMEM;
	rq->m = m;
	rq->started_ms = evloop_now_ms();
	rq->easy = curl_easy_init();
	if (!rq->easy || (stream && jsonstream_new(WATCH_MAX_EVENT, &rq->js) < 0) ||
	    kapi_easy_setup(k, rq->easy) < 0) {
		kreq_destroy(rq);
		return -ENOMEM;
	}
	curl_easy_setopt(rq->easy, CURLOPT_URL, url);
	curl_easy_setopt(rq->easy, CURLOPT_HTTPHEADER, kapi_get_headers(k));
	curl_easy_setopt(rq->easy, CURLOPT_WRITEFUNCTION, kreq_write);
	curl_easy_setopt(rq->easy, CURLOPT_WRITEDATA, rq);
	curl_easy_setopt(rq->easy, CURLOPT_PRIVATE, rq);
	curl_easy_setopt(rq->easy, CURLOPT_ERRORBUFFER, rq->errbuf);
	curl_easy_setopt(rq->easy, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(rq->easy, CURLOPT_TCP_KEEPIDLE, 30L);
	curl_easy_setopt(rq->easy, CURLOPT_TCP_KEEPINTVL, 10L);
	if (curl_multi_add_handle(m->multi, rq->easy) != CURLM_OK) {
		kreq_destroy(rq);
		return -ENOMEM;
	}
	*ret = rq;
	return 0;
}

/* A malloc'd message for a failed transfer. */
static char *kreq_message(struct kreq *rq, int error)
{
	char *m = NULL;

	if (rq->code && (rq->code < 200 || rq->code > 299)) {
		if (kapi_error_from_response(rq->code, rq->body.data, rq->body.len, &m) < 0 && !m)
			return NULL;
		return m;
	}
	if (asprintf(&m, "%s", *rq->errbuf ? rq->errbuf : strerror(-error)) < 0)
		return NULL;
	return m;
}

/* --- async GET --------------------------------------------------------------- */

struct kapi_request {
	struct kreq *rq;
	kapi_get_cb cb;
	void *userdata;
};

static void request_done(struct kreq *rq, int error, long code, void *userdata)
{
	struct kapi_request *req = userdata;
	_cleanup_free_ char *msg = NULL;
	json_t *obj = NULL;

	if (!error && (code < 200 || code > 299))
		error = kapi_error_from_response(code, rq->body.data, rq->body.len, &msg);
	else if (error)
		msg = kreq_message(rq, error);
	if (!error) {
		obj = json_loadb(rq->body.data ? rq->body.data : "", rq->body.len, 0, NULL);
		if (!json_is_object(obj)) {
			json_decref(obj);
			obj = NULL;
			error = -EIO;
			msg = strdup("response is not a JSON object");
		}
	}
	req->cb(error, obj, msg ? msg : "", req->userdata);
	json_decref(obj);
	kapi_request_cancel(req);
}

int kapi_get_async(struct kapi *k, struct evloop *loop, const char *path, kapi_get_cb cb,
		   void *userdata, struct kapi_request **ret)
{
	struct kapi_request *req;
	struct kapi_multi *m;
	int r;

	r = multi_get(k, loop, &m);
	if (r < 0)
		return r;
	req = calloc(1, sizeof(*req));
	if (!req)
		return -ENOMEM;
	req->cb = cb;
	req->userdata = userdata;
	r = kreq_start(k, m, path, false, kapi_request_timeout_ms(k), &req->rq);
	if (r < 0) {
		free(req);
		return r;
	}
	req->rq->on_done = request_done;
	req->rq->userdata = req;
	if (ret)
		*ret = req;
	return 0;
}

struct kapi_request *kapi_request_cancel(struct kapi_request *req)
{
	if (!req)
		return NULL;
	kreq_free(req->rq);
	free(req);
	return NULL;
}

/* --- watches ----------------------------------------------------------------- */

static const char *const event_names[_KAPI_EVENT_MAX] = {
	[KAPI_EVENT_ADDED] = "ADDED",	    [KAPI_EVENT_MODIFIED] = "MODIFIED",
	[KAPI_EVENT_DELETED] = "DELETED",   [KAPI_EVENT_BOOKMARK] = "BOOKMARK",
	[KAPI_EVENT_ERROR] = "ERROR",
};

const char *kapi_event_type_to_string(enum kapi_event_type t)
{
	return (int)t >= 0 && t < _KAPI_EVENT_MAX ? event_names[t] : NULL;
}

enum kapi_event_type kapi_event_type_from_string(const char *s)
{
	for (int t = 0; s && t < _KAPI_EVENT_MAX; t++)
		if (strcmp(s, event_names[t]) == 0)
			return t;
	return _KAPI_EVENT_INVALID;
}

static const char *const state_names[_KAPI_WATCH_STATE_MAX] = {
	[KAPI_WATCH_CONNECTING] = "connecting",
	[KAPI_WATCH_STREAMING] = "streaming",
	[KAPI_WATCH_BACKOFF] = "backoff",
	[KAPI_WATCH_GONE] = "gone",
};

const char *kapi_watch_state_to_string(enum kapi_watch_state s)
{
	return (int)s >= 0 && s < _KAPI_WATCH_STATE_MAX ? state_names[s] : NULL;
}

/* Owner: the caller of kapi_watch_start() (an informer, kapictl). */
struct kapi_watch {
	struct kapi *k;
	struct kapi_multi *m;
	struct kreq *rq;		 /* current connection, NULL in BACKOFF/GONE */
	struct evloop_timer *retry;	 /* backoff timer */
	char *path;			 /* collection path */
	char *label_selector, *field_selector;
	char *rv;			 /* resume point, "" for "now" */
	unsigned timeout_s;		 /* server-side watch length, 0: random */
	unsigned backoff_min_ms, backoff_max_ms;
	unsigned backoff_ms;		 /* next delay before jitter */
	unsigned reconnects;		 /* connections after the first */
	unsigned connects;		 /* connections made */
	bool events_seen;		 /* in the current connection */
	char *event_error;		 /* message of an ERROR event that ended it */
	enum kapi_watch_state state;
	const struct kapi_watch_ops *ops;
	void *userdata;
	unsigned *alive;		 /* set to 0 by free: callbacks check it */
};

enum kapi_watch_state kapi_watch_get_state(const struct kapi_watch *w)
{
	return w->state;
}

const char *kapi_watch_resource_version(const struct kapi_watch *w)
{
	return w->rv;
}

unsigned kapi_watch_reconnects(const struct kapi_watch *w)
{
	return w->reconnects;
}

/* Calls on_state; false when the callback freed the watch. */
static bool set_state(struct kapi_watch *w, enum kapi_watch_state s, int error, const char *msg)
{
	unsigned alive = 1;

	if (w->state == s && !error)
		return true;
	log_debug("kapi: watch '%s' %s -> %s%s%s", w->path, state_names[w->state], state_names[s],
		  msg ? ": " : "", msg ? msg : "");
	w->state = s;
	if (!w->ops->on_state)
		return true;
	w->alive = &alive;
	w->ops->on_state(w, s, error, msg ? msg : "", w->userdata);
	if (!alive)
		return false;
	w->alive = NULL;
	return true;
}

static int set_rv(struct kapi_watch *w, const char *rv)
{
	char *c;

	if (!rv || strcmp(rv, w->rv) == 0)
		return 0;
	c = strdup(rv);
	if (!c)
		return -ENOMEM;
	free(w->rv);
	w->rv = c;
	return 0;
}

static char *watch_url(const struct kapi_watch *w)
{
	struct kapi_list_opts o = { .label_selector = w->label_selector,
				    .field_selector = w->field_selector };
	_cleanup_free_ char *base = NULL, *sel = NULL;
	char *url, *rv_esc;
	unsigned t = w->timeout_s ? w->timeout_s : 240 + kapi_jitter(241);
	int r;

	if (asprintf(&base, "%s%cwatch=1&allowWatchBookmarks=true", w->path,
		     strchr(w->path, '?') ? '&' : '?') < 0)
		return NULL;
	sel = kapi_list_url(base, &o, NULL);
	if (!sel)
		return NULL;
	rv_esc = curl_easy_escape(NULL, w->rv, 0);
	if (!rv_esc)
		return NULL;
	r = asprintf(&url, "%s%s%s&timeoutSeconds=%u", sel, *w->rv ? "&resourceVersion=" : "",
		     *w->rv ? rv_esc : "", t);
	curl_free(rv_esc);
	return r < 0 ? NULL : url;
}

static void watch_object(struct kreq *rq, json_t *ev, void *userdata);
static void watch_done(struct kreq *rq, int error, long code, void *userdata);

static int watch_connect(struct kapi_watch *w)
{
	_cleanup_free_ char *url = watch_url(w);
	long timeout_ms;
	int r;

	if (!url)
		return -ENOMEM;
	/* the server ends the watch at timeoutSeconds; ours is a safety net */
	timeout_ms = (long)(w->timeout_s ? w->timeout_s : 480) * 1000 + 60000;
	r = kreq_start(w->k, w->m, url, true, timeout_ms, &w->rq);
	if (r < 0)
		return r;
	w->rq->on_object = watch_object;
	w->rq->on_done = watch_done;
	w->rq->userdata = w;
	w->events_seen = false;
	if (w->connects++ > 0)
		w->reconnects++;
	return 0;
}

static unsigned next_backoff(struct kapi_watch *w)
{
	unsigned base = w->backoff_ms ? w->backoff_ms : w->backoff_min_ms;
	unsigned d = base / 2 + kapi_jitter(base / 2 + 1); /* [base/2, base] */

	w->backoff_ms = base * 2 > w->backoff_max_ms ? w->backoff_max_ms : base * 2;
	return d;
}

static void schedule_retry(struct kapi_watch *w, int error, const char *msg)
{
	unsigned d = next_backoff(w);

	log_debug("kapi: watch '%s' retry in %u ms", w->path, d);
	evloop_timer_arm(w->retry, d);
	(void)set_state(w, KAPI_WATCH_BACKOFF, error, msg);
}

static void on_retry(struct evloop_timer *t, void *userdata)
{
	struct kapi_watch *w = userdata;
	int r;

	(void)t;
	if (!set_state(w, KAPI_WATCH_CONNECTING, 0, NULL))
		return;
	r = watch_connect(w);
	if (r < 0)
		schedule_retry(w, r, "cannot start the watch request");
}

static void watch_event(struct kapi_watch *w, json_t *ev)
{
	enum kapi_event_type t = kapi_event_type_from_string(
		json_string_value(json_object_get(ev, "type")));
	json_t *obj = json_object_get(ev, "object");
	long code;

	if ((int)t < 0 || !json_is_object(obj)) {
		w->rq->abort_error = -EBADMSG;
		return;
	}
	if (t == KAPI_EVENT_ERROR) {
		code = (long)json_integer_value(json_object_get(obj, "code"));
		w->rq->abort_error = code == 410 ? -EIDRM : kapi_status_to_errno(code, NULL);
		free(w->event_error);
		w->event_error = strdup(json_string_value(json_object_get(obj, "message")) ?: "");
	} else if (set_rv(w, kapi_obj_resource_version(obj)) < 0) {
		w->rq->abort_error = -ENOMEM;
		return;
	}
	w->events_seen = true;
	w->ops->on_event(w, t, obj, w->userdata); /* may free w (the kreq then is a zombie) */
}

static void watch_object(struct kreq *rq, json_t *ev, void *userdata)
{
	struct kapi_watch *w = userdata;

	(void)rq;
	if (w->state != KAPI_WATCH_STREAMING && !set_state(w, KAPI_WATCH_STREAMING, 0, NULL))
		return;
	watch_event(w, ev);
}

static void watch_done(struct kreq *rq, int error, long code, void *userdata)
{
	struct kapi_watch *w = userdata;
	_cleanup_free_ char *msg = NULL;
	bool healthy = error == 0 && code == 200 &&
		       (w->events_seen || evloop_now_ms() - rq->started_ms >= WATCH_MIN_HEALTHY_MS);

	if (!error && code != 200)
		error = kapi_status_to_errno(code, NULL);
	if (error && w->event_error)
		msg = TAKE_PTR(w->event_error);
	else if (error)
		msg = kreq_message(rq, error);
	w->event_error = mfree(w->event_error);
	w->rq = kreq_free(rq);
	if (error == -EIDRM) {
		/* relisting is the owner's job */
		(void)set_state(w, KAPI_WATCH_GONE, error, msg);
		return;
	}
	if (healthy) {
		/* the server closed a good watch (timeoutSeconds): resume now */
		w->backoff_ms = 0;
		if (set_state(w, KAPI_WATCH_CONNECTING, 0, NULL) && watch_connect(w) < 0)
			schedule_retry(w, -ENOMEM, "cannot start the watch request");
		return;
	}
	schedule_retry(w, error ? error : -EIO, msg ? msg : "watch ended early");
}


int kapi_watch_start(struct kapi *k, struct evloop *loop, const char *path,
		     const struct kapi_watch_opts *o, const struct kapi_watch_ops *ops,
		     void *userdata, struct kapi_watch **ret)
{
	static const struct kapi_watch_opts none = {};
	_cleanup_(kapi_watch_freep) struct kapi_watch *w = NULL;
	int r;

	if (!path || path[0] != '/' || !ops || !ops->on_event)
		return -EINVAL;
	if (!o)
		o = &none;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->k = k;
	w->ops = ops;
	w->userdata = userdata;
	w->timeout_s = o->timeout_s;
	w->backoff_min_ms = o->backoff_min_ms ? o->backoff_min_ms : WATCH_BACKOFF_MIN_MS;
	w->backoff_max_ms = o->backoff_max_ms ? o->backoff_max_ms : WATCH_BACKOFF_MAX_MS;
	if (w->backoff_max_ms < w->backoff_min_ms)
		w->backoff_max_ms = w->backoff_min_ms;
	w->path = strdup(path);
	w->rv = strdup(o->resource_version ? o->resource_version : "");
	if (!w->path || !w->rv || (o->label_selector && !(w->label_selector = strdup(o->label_selector))) ||
	    (o->field_selector && !(w->field_selector = strdup(o->field_selector))))
		return -ENOMEM;
	r = multi_get(k, loop, &w->m);
	if (r < 0)
		return r;
	r = evloop_timer_add(loop, on_retry, w, &w->retry);
	if (r < 0)
		return r;
	w->state = KAPI_WATCH_CONNECTING;
	r = watch_connect(w);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(w);
	return 0;
}

int kapi_watch_restart(struct kapi_watch *w, const char *resource_version)
{
	int r;

	w->rq = kreq_free(w->rq);
	evloop_timer_disarm(w->retry);
	r = set_rv(w, resource_version ? resource_version : "");
	if (r < 0)
		return r;
	w->backoff_ms = 0;
	w->state = KAPI_WATCH_CONNECTING;
	return watch_connect(w);
}

struct kapi_watch *kapi_watch_free(struct kapi_watch *w)
{
	if (!w)
		return NULL;
	if (w->alive)
		*w->alive = 0;
	kreq_free(w->rq);
	evloop_timer_free(w->retry);
	free(w->path);
	free(w->label_selector);
	free(w->field_selector);
	free(w->rv);
	free(w->event_error);
	free(w);
	return NULL;
}
