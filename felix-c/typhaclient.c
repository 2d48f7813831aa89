/* felix-c's typha-c client; see typhaclient.h.
 *
 * One connection at a time, one timer: the deadline of the connect and
 * handshake, then the read timeout (re-armed by every byte typha-c sends;
 * it pings when idle), and in FALLBACK the delay before the next try.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

#include "cleanup.h"
#include "evloop.h"
#include "felix-c/config.h"
#include "felix-c/typhaclient.h"
#include "kapi.h"
#include "kinformer.h"
#include "log.h"
#include "synckinds.h"
#include "tlsconn.h"
#include "typhaproto.h"

#define TYPHA_READ_CHUNK 65536
#define TYPHA_RETRY_MS 1000 /* between tries within TyphaFallbackGrace */
#define MIN(a, b) ((a) < (b) ? (a) : (b))

static const char *const state_names[_FELIX_TYPHA_STATE_MAX] = {
	[FELIX_TYPHA_CONNECTING] = "connecting", [FELIX_TYPHA_HANDSHAKE] = "handshake",
	[FELIX_TYPHA_SYNCING] = "syncing",	 [FELIX_TYPHA_STREAMING] = "streaming",
	[FELIX_TYPHA_RETRY] = "retry",		 [FELIX_TYPHA_FALLBACK] = "fallback",
};

/* Owner: the agent. */
struct felix_typha {
	const struct felix_config *cfg; /* borrowed */
	struct evloop *loop;		/* borrowed */
	struct kinformer **inf;		/* borrowed, _SYNC_KIND_MAX of them */
	struct kapi *k;			/* borrowed: the informers' client */
	struct tlsconn_ctx *tls;
	struct sockaddr_in addr;	/* TyphaAddr, or the endpoint of this try */
	char where[64];			/* addr as text, for logs */
	enum felix_typha_state state;
	struct tlsconn *conn;		/* NULL in FALLBACK */
	struct evloop_io *io;
	struct evloop_timer *timer;
	struct typhaproto_reader in;
	char *out;			/* the hello, while not all sent */
	size_t out_len, out_off;
	bool fed;			/* the informers are paused and fed by us */
	uint32_t kinds_done;		/* bit k: snapshot of kind k complete */
	int64_t seq;			/* of the last event */
	uint64_t lost_ms;		/* when typha-c was lost while feeding, 0: it was not */
	unsigned long snapshots, fallbacks;
};

const char *felix_typha_state_to_string(enum felix_typha_state s)
{
	return s >= 0 && s < _FELIX_TYPHA_STATE_MAX ? state_names[s] : NULL;
}

int felix_typha_parse_addr(const char *s, struct sockaddr_in *ret)
{
	const char *colon = strrchr(s, ':');
	char host[INET_ADDRSTRLEN];
	unsigned long port;
	char *end;

	if (!colon || colon == s || (size_t)(colon - s) >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || !colon[1] || *end || port == 0 || port > 65535)
		return -EINVAL;
	*ret = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	return inet_pton(AF_INET, host, &ret->sin_addr) == 1 ? 0 : -EINVAL;
}

static void set_state(struct felix_typha *t, enum felix_typha_state s)
{
	if (t->state != s)
		log_debug("typha-c client: %s -> %s", state_names[t->state], state_names[s]);
	t->state = s;
}

static void conn_close(struct felix_typha *t)
{
	t->io = evloop_io_free(t->io);
	t->conn = tlsconn_free(t->conn);
	typhaproto_reader_done(&t->in);
	free(t->out);
	t->out = NULL;
	t->out_len = t->out_off = 0;
}

/* While the grace lasts, try again soon (the view kept is complete, if
 * stale); then back to the apiserver until the next try (see the top of
 * the header). */
static void lose(struct felix_typha *t, int error, const char *reason)
{
	unsigned delay = t->cfg->typha_reconnect_ms, grace = t->cfg->typha_fallback_grace_ms;
	uint64_t now = evloop_now_ms();
	char why[256];

	/* @reason may be the connection's own error text */
	snprintf(why, sizeof(why), "%s", reason);
	conn_close(t);
	if (t->fed && !t->lost_ms)
		t->lost_ms = now;
	if (t->fed && now - t->lost_ms < grace) {
		if (t->state != FELIX_TYPHA_RETRY)
			log_warning_errno(error, "typha-c at %s: %s; trying again for up to %u ms "
					  "before watching the apiserver directly", t->where, why,
					  grace);
		else
			log_debug_errno(error, "typha-c at %s: %s", t->where, why);
		set_state(t, FELIX_TYPHA_RETRY);
		delay = TYPHA_RETRY_MS / 2 + kapi_jitter(TYPHA_RETRY_MS);
		evloop_timer_arm(t->timer, MIN(delay, grace - (now - t->lost_ms)));
		return;
	}
	log_warning_errno(error, "typha-c at %s: %s; %s", t->where, why,
			  t->fed ? "watching the apiserver directly until it is back"
				 : "still watching the apiserver directly");
	t->lost_ms = 0;
	if (t->fed) {
		for (int i = 0; i < _SYNC_KIND_MAX; i++)
			(void)kinformer_resume(t->inf[i]);
		t->fed = false;
		t->fallbacks++;
	}
	set_state(t, FELIX_TYPHA_FALLBACK);
	/* jittered, so that the nodes that lost one typha-c do not return at once */
	evloop_timer_arm(t->timer, delay / 2 + kapi_jitter(delay));
}

static void watch_for(struct felix_typha *t)
{
	uint32_t ev = EPOLLIN;

	if (t->state == FELIX_TYPHA_CONNECTING || tlsconn_wants_write(t->conn) ||
	    t->out_off < t->out_len)
		ev |= EPOLLOUT;
	(void)evloop_io_set_events(t->io, ev);
}

static int send_hello(struct felix_typha *t)
{
	json_auto_t *kinds = json_array(), *msg = NULL;
	int r;

	for (int i = 0; kinds && i < _SYNC_KIND_MAX; i++)
		if (json_array_append_new(kinds, json_string(sync_kind_to_string(i))) < 0)
			return -ENOMEM;
	msg = json_pack("{s:s,s:i,s:s,s:O,s:s}", "type", "hello", "version", TYPHAPROTO_VERSION,
			"node", t->cfg->nodename, "kinds", kinds, "secretsNamespace",
			t->cfg->secrets_namespace);
	r = msg ? typhaproto_encode(msg, &t->out, &t->out_len) : -ENOMEM;
	t->out_off = 0;
	return r;
}

static int flush_out(struct felix_typha *t)
{
	while (t->out_off < t->out_len) {
		ssize_t n = tlsconn_write(t->conn, t->out + t->out_off, t->out_len - t->out_off);

		if (n == -EAGAIN)
			return 0;
		if (n < 0)
			return (int)n;
		t->out_off += (size_t)n;
	}
	return 0;
}

static struct kinformer *kind_informer(struct felix_typha *t, const json_t *msg,
				       enum sync_kind *ret_kind)
{
	enum sync_kind k = sync_kind_from_string(json_string_value(json_object_get(msg, "kind")));

	if (k < 0)
		return NULL;
	*ret_kind = k;
	return t->inf[k];
}

static int on_snapshot(struct felix_typha *t, const json_t *msg)
{
	bool last = json_is_true(json_object_get(msg, "last"));
	enum sync_kind k;
	struct kinformer *inf = kind_informer(t, msg, &k);
	int r;

	if (t->state != FELIX_TYPHA_SYNCING || !inf || (t->kinds_done & (UINT32_C(1) << k)))
		return -EPROTO;
	if (!t->fed) { /* typha-c's view starts: leave the apiserver */
		for (int i = 0; i < _SYNC_KIND_MAX; i++)
			kinformer_pause(t->inf[i]);
		/* and its idle connections: each costs the apiserver memory */
		kapi_async_release(t->k);
		t->fed = true;
	}
	r = kinformer_feed_page(inf, json_object_get(msg, "items"), last);
	if (r == 0 && last)
		t->kinds_done |= UINT32_C(1) << k;
	return r;
}

static int on_event(struct felix_typha *t, const json_t *msg)
{
	int64_t seq = json_integer_value(json_object_get(msg, "seq"));
	enum kapi_event_type et =
		kapi_event_type_from_string(json_string_value(json_object_get(msg, "event")));
	enum sync_kind k;
	struct kinformer *inf = kind_informer(t, msg, &k);

	if (t->state != FELIX_TYPHA_STREAMING || !inf || seq <= t->seq)
		return -EPROTO;
	t->seq = seq;
	return kinformer_feed_event(inf, et, json_object_get(msg, "object"));
}

static int on_synced(struct felix_typha *t)
{
	if (t->state != FELIX_TYPHA_SYNCING ||
	    t->kinds_done != (UINT32_C(1) << _SYNC_KIND_MAX) - 1)
		return -EPROTO;
	set_state(t, FELIX_TYPHA_STREAMING);
	t->lost_ms = 0;
	t->snapshots++;
	log_info("typha-c at %s: snapshot complete, streaming", t->where);
	return 0;
}

/* Return: 0, or -errno with *@why set (lose the connection). */
static int handle(struct felix_typha *t, const json_t *msg, enum typhaproto_type type,
		  const char **why)
{
	int r;

	if (typhaproto_check(msg, type, why) < 0)
		return -EBADMSG;
	switch (type) {
	case TYPHAPROTO_SNAPSHOT:
		r = on_snapshot(t, msg);
		*why = "bad snapshot";
		return r;
	case TYPHAPROTO_SYNCED:
		*why = "incomplete snapshot";
		return on_synced(t);
	case TYPHAPROTO_EVENT:
		r = on_event(t, msg);
		*why = r == -ENOBUFS ? "an event did not fit the cache (resync)" : "bad event";
		return r;
	case TYPHAPROTO_PING:
		return 0;
	case TYPHAPROTO_ERROR:
		*why = json_string_value(json_object_get(msg, "message"));
		return -ECONNREFUSED;
	default:
		*why = "unexpected message";
		return -EPROTO;
	}
}

static void read_messages(struct felix_typha *t)
{
	char *buf = malloc(TYPHA_READ_CHUNK), why_msg[256] = "";
	const char *why = NULL;
	int r = 0;

	if (!buf) {
		lose(t, -ENOMEM, "out of memory");
		return;
	}
	for (;;) {
		ssize_t n = tlsconn_read(t->conn, buf, TYPHA_READ_CHUNK);
		json_t *msg;
		enum typhaproto_type type;

		if (n == -EAGAIN)
			break;
		if (n <= 0) {
			r = n == 0 ? -ECONNRESET : (int)n;
			why = n == 0 ? "closed the connection" : tlsconn_error(t->conn);
			break;
		}
		evloop_timer_arm(t->timer, t->cfg->typha_read_timeout_ms);
		r = typhaproto_reader_feed(&t->in, buf, (size_t)n);
		while (r == 0 && (r = typhaproto_reader_next(&t->in, &msg, &type)) == 1) {
			r = handle(t, msg, type, &why);
			if (r < 0 && why) { /* it may point into @msg */
				snprintf(why_msg, sizeof(why_msg), "%s", why);
				why = why_msg;
			}
			json_decref(msg);
		}
		if (r < 0) {
			why = why ?: r == -EMSGSIZE ? "message too long" : "malformed message";
			break;
		}
	}
	free(buf);
	if (r < 0)
		lose(t, r, why);
}

static void on_io(struct evloop_io *io, int fd, uint32_t revents, void *userdata)
{
	struct felix_typha *t = userdata;
	int r, err = 0;
	socklen_t len = sizeof(err);

	(void)io;
	(void)revents;
	if (t->state == FELIX_TYPHA_CONNECTING) {
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err) {
			lose(t, -(err ?: errno), "cannot connect");
			return;
		}
		set_state(t, FELIX_TYPHA_HANDSHAKE);
	}
	if (t->state == FELIX_TYPHA_HANDSHAKE) {
		r = tlsconn_handshake(t->conn);
		if (r == -EAGAIN) {
			watch_for(t);
			return;
		}
		if (r < 0) {
			lose(t, r, tlsconn_error(t->conn));
			return;
		}
		r = send_hello(t);
		if (r < 0) {
			lose(t, r, "cannot build the hello");
			return;
		}
		t->kinds_done = 0;
		t->seq = 0;
		set_state(t, FELIX_TYPHA_SYNCING);
		evloop_timer_arm(t->timer, t->cfg->typha_read_timeout_ms);
	}
	r = flush_out(t);
	if (r < 0) {
		lose(t, r, tlsconn_error(t->conn));
		return;
	}
	read_messages(t);
	if (t->conn)
		watch_for(t);
}

/* The port of an EndpointSlice: the one named calico-typha, else the first. */
static int slice_port(const json_t *slice)
{
	const json_t *ports = json_object_get(slice, "ports"), *p;
	size_t i;
	json_int_t port = 0;

	json_array_foreach(ports, i, p) {
		const char *name = json_string_value(json_object_get(p, "name"));

		if (i == 0 || (name && strcmp(name, "calico-typha") == 0))
			port = json_integer_value(json_object_get(p, "port"));
	}
	return port > 0 && port <= 65535 ? (int)port : -ENOENT;
}

/* One ready endpoint of TyphaK8sServiceName, picked at random (so nodes
 * spread over the replicas), from its EndpointSlices: one LIST per try
 * (blocking, at most the API client's request timeout). */
static int resolve_service(struct felix_typha *t)
{
	_cleanup_free_ char *path = kapi_path(&kapi_endpointslices, t->cfg->typha_namespace,
					      NULL, NULL), *sel = NULL;
	struct sockaddr_in cand[64];
	json_auto_t *items = NULL;
	const json_t *slice, *ep;
	size_t i, j, n = 0;
	int r, port;

	if (!path || asprintf(&sel, "kubernetes.io/service-name=%s", t->cfg->typha_service) < 0)
		return -ENOMEM;
	r = kapi_list(t->k, path, &(struct kapi_list_opts){ .label_selector = sel }, &items, NULL);
	if (r < 0)
		return r;
	json_array_foreach(items, i, slice) {
		if ((port = slice_port(slice)) < 0)
			continue;
		json_array_foreach(json_object_get(slice, "endpoints"), j, ep) {
			const char *ip = json_string_value(
				json_array_get(json_object_get(ep, "addresses"), 0));
			const json_t *ready = json_object_get(json_object_get(ep, "conditions"),
							      "ready");

			if (n == ELEMENTSOF(cand) || !ip || json_is_false(ready))
				continue;
			cand[n] = (struct sockaddr_in){ .sin_family = AF_INET,
							.sin_port = htons((uint16_t)port) };
			if (inet_pton(AF_INET, ip, &cand[n].sin_addr) == 1)
				n++;
		}
	}
	if (n == 0)
		return -ENOENT;
	t->addr = cand[kapi_jitter((unsigned)n)];
	return 0;
}

static void set_where(struct felix_typha *t)
{
	char ip[INET_ADDRSTRLEN] = "?";

	(void)inet_ntop(AF_INET, &t->addr.sin_addr, ip, sizeof(ip));
	snprintf(t->where, sizeof(t->where), "%s:%u", ip, ntohs(t->addr.sin_port));
}

static void try_connect(struct felix_typha *t)
{
	int fd, r;

	if (!*t->cfg->typha_addr) {
		r = resolve_service(t);
		if (r < 0) {
			snprintf(t->where, sizeof(t->where), "service %s/%.30s",
				 t->cfg->typha_namespace, t->cfg->typha_service);
			lose(t, r, r == -ENOENT ? "no ready endpoint" : "cannot list its endpoints");
			return;
		}
		set_where(t);
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		lose(t, -errno, "cannot create a socket");
		return;
	}
	if (connect(fd, (struct sockaddr *)&t->addr, sizeof(t->addr)) < 0 && errno != EINPROGRESS) {
		r = -errno;
		close(fd);
		lose(t, r, "cannot connect");
		return;
	}
	r = tlsconn_new(t->tls, fd, &t->conn);
	if (r == 0)
		r = evloop_io_add(t->loop, fd, EPOLLOUT, on_io, t, &t->io);
	if (r < 0) {
		lose(t, r, "cannot set up the connection");
		return;
	}
	set_state(t, FELIX_TYPHA_CONNECTING);
	evloop_timer_arm(t->timer, t->cfg->typha_read_timeout_ms);
}

static void on_timer(struct evloop_timer *timer, void *userdata)
{
	struct felix_typha *t = userdata;

	(void)timer;
	if (t->state == FELIX_TYPHA_FALLBACK || t->state == FELIX_TYPHA_RETRY)
		try_connect(t);
	else
		lose(t, -ETIMEDOUT, t->state == FELIX_TYPHA_STREAMING ||
						    t->state == FELIX_TYPHA_SYNCING
					    ? "silent for TyphaReadTimeout"
					    : "no connection within TyphaReadTimeout");
}

int felix_typha_new(struct evloop *l, const struct felix_config *cfg, struct kapi *k,
		    struct kinformer **inf, struct felix_typha **ret, char **ret_error)
{
	_cleanup_(felix_typha_freep) struct felix_typha *t = calloc(1, sizeof(*t));
	int r;

	if (!t)
		return -ENOMEM;
	t->cfg = cfg;
	t->loop = l;
	t->inf = inf;
	t->k = k;
	t->fed = true; /* the informers start fed (paused) */
	t->state = FELIX_TYPHA_CONNECTING;
	if (*cfg->typha_addr && felix_typha_parse_addr(cfg->typha_addr, &t->addr) < 0)
		return -EINVAL;
	set_where(t);
	r = tlsconn_ctx_new(false, cfg->typha_ca_file, cfg->typha_cert_file, cfg->typha_key_file,
			    cfg->typha_cn, &t->tls, ret_error);
	if (r < 0)
		return r;
	r = evloop_timer_add(l, on_timer, t, &t->timer);
	if (r < 0)
		return r;
	try_connect(t);
	*ret = TAKE_PTR(t);
	return 0;
}

struct felix_typha *felix_typha_free(struct felix_typha *t)
{
	if (!t)
		return NULL;
	conn_close(t);
	evloop_timer_free(t->timer);
	tlsconn_ctx_free(t->tls);
	free(t);
	return NULL;
}

enum felix_typha_state felix_typha_get_state(const struct felix_typha *t)
{
	return t->state;
}

unsigned long felix_typha_snapshots(const struct felix_typha *t)
{
	return t->snapshots;
}

unsigned long felix_typha_fallbacks(const struct felix_typha *t)
{
	return t->fallbacks;
}
