/* typha-c's fan-out server; see server.h.
 *
 * Everything runs on one evloop. An event is encoded once and its bytes
 * are queued to every streaming client that asked for its kind, then each
 * queue is flushed as far as its socket takes it; the rest goes out when
 * the socket is writable. The snapshot is queued exempt from the limit
 * (outq.h) in the same loop turn as the client becomes streaming, so no
 * event falls between its snapshot and its first delta.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

#include "cleanup.h"
#include "evloop.h"
#include "log.h"
#include "tlsconn.h"
#include "typha-c/outq.h"
#include "typha-c/server.h"
#include "typhaproto.h"

#define TYPHASRV_ACCEPT_BATCH 32
#define TYPHASRV_READ_CHUNK 16384

enum client_state { CLIENT_HANDSHAKE, CLIENT_HELLO, CLIENT_WAITING, CLIENT_STREAMING };

/* Owner: the server's list. */
struct client {
	struct typhasrv *s;
	struct client *prev, *next;
	enum client_state state;
	struct tlsconn *tls;
	struct evloop_io *io;
	struct evloop_timer *deadline; /* HANDSHAKE and HELLO */
	struct typhaproto_reader in;
	struct outq out;
	uint32_t kinds;		/* bit k: asked for sync_kind k */
	char node[256];		/* from the hello, for logs */
	char peer[64];		/* address:port */
};

_Static_assert(_SYNC_KIND_MAX <= 32, "struct client.kinds has 32 bits");

/* Owner: typha-c's main(). */
struct typhasrv {
	struct evloop *loop;
	int fd;
	struct evloop_io *io;
	struct evloop_timer *ping;
	struct tlsconn_ctx *tls;
	struct typhasrv_opts o;
	char *secrets_ns;
	const struct typhasrv_source *src;
	struct client *clients;
	bool synced;
	int64_t seq;		/* of the last event */
	struct typhasrv_stats st;
};

static const char *client_name(const struct client *c)
{
	return *c->node ? c->node : c->peer;
}

static void client_drop(struct client *c)
{
	struct typhasrv *s = c->s;

	if (c->prev)
		c->prev->next = c->next;
	else
		s->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->st.active--;
	if (c->state == CLIENT_STREAMING)
		s->st.streaming--;
	evloop_io_free(c->io);
	evloop_timer_free(c->deadline);
	tlsconn_free(c->tls);
	typhaproto_reader_done(&c->in);
	outq_done(&c->out);
	free(c);
}

/* Socket events the client needs now. */
static void client_watch(struct client *c)
{
	uint32_t ev = EPOLLIN;

	if (c->state == CLIENT_HANDSHAKE)
		ev = tlsconn_wants_write(c->tls) ? EPOLLOUT : EPOLLIN;
	else if (c->out.queued || tlsconn_wants_write(c->tls))
		ev |= EPOLLOUT;
	(void)evloop_io_set_events(c->io, ev);
}

/* Sends what the socket takes. Return: 0, or -errno (drop the client). */
static int client_flush(struct client *c)
{
	for (;;) {
		size_t len;
		const void *p = outq_peek(&c->out, &len);
		ssize_t n;

		if (!p)
			break;
		n = tlsconn_write(c->tls, p, len);
		if (n == -EAGAIN)
			break;
		if (n < 0)
			return (int)n;
		outq_consume(&c->out, (size_t)n);
	}
	client_watch(c);
	return 0;
}

static int push_msg(struct client *c, json_t *msg, bool exempt)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r;

	if (!msg)
		return -ENOMEM;
	r = typhaproto_encode(msg, &buf, &len);
	json_decref(msg);
	return r < 0 ? r : outq_push(&c->out, buf, len, exempt);
}

/* Tells the client why and drops it (the error goes out if the socket
 * takes it now: the client is not waited for). */
static void client_refuse(struct client *c, const char *why)
{
	log_warning("Refusing client '%s': %s", client_name(c), why);
	c->s->st.refused++;
	if (push_msg(c, json_pack("{s:s,s:s}", "type", "error", "message", why), true) == 0)
		(void)client_flush(c);
	client_drop(c);
}

static int push_snapshot_kind(struct client *c, enum sync_kind k)
{
	const json_t *cache = c->s->src->cache(k, c->s->src->userdata);
	size_t left = json_object_size(cache);
	json_auto_t *items = json_array();
	const char *key;
	json_t *obj;
	int r;

	if (!items)
		return -ENOMEM;
	json_object_foreach((json_t *)cache, key, obj) {
		if (json_array_append(items, obj) < 0)
			return -ENOMEM;
		left--;
		if (json_array_size(items) < TYPHAPROTO_PAGE && left > 0)
			continue;
		r = push_msg(c, json_pack("{s:s,s:s,s:O,s:b}", "type", "snapshot", "kind",
					  sync_kind_to_string(k), "items", items, "last", left == 0),
			     true);
		if (r < 0)
			return r;
		json_array_clear(items);
	}
	if (json_object_size(cache) > 0)
		return 0;
	return push_msg(c, json_pack("{s:s,s:s,s:[],s:b}", "type", "snapshot", "kind",
				     sync_kind_to_string(k), "items", "last", 1),
			true);
}

/* The snapshot, then streaming: in one loop turn (see the top).
 * Return: false when the client was dropped. */
static bool client_start(struct client *c)
{
	int r = 0;

	for (int k = 0; r == 0 && k < _SYNC_KIND_MAX; k++)
		if (c->kinds & (UINT32_C(1) << k))
			r = push_snapshot_kind(c, k);
	if (r == 0)
		r = push_msg(c, json_pack("{s:s}", "type", "synced"), true);
	if (r < 0) {
		log_error_errno(r, "Cannot build the snapshot for '%s', dropping it: %m",
				client_name(c));
		client_drop(c);
		return false;
	}
	c->state = CLIENT_STREAMING;
	c->s->st.streaming++;
	c->s->st.snapshots++;
	log_info("Client '%s' (%s): snapshot queued, %zu bytes; streaming", client_name(c),
		 c->peer, c->out.queued);
	if (client_flush(c) < 0) {
		client_drop(c);
		return false;
	}
	return true;
}

/* Return: NULL (accepted) or why not (static text or @buf). */
static const char *hello_check(struct client *c, const json_t *msg, char *buf, size_t size)
{
	const char *err = NULL, *ns;
	const json_t *kinds = json_object_get(msg, "kinds"), *kv;
	size_t i;

	if (typhaproto_check(msg, TYPHAPROTO_HELLO, &err) < 0)
		return err;
	snprintf(c->node, sizeof(c->node), "%s", json_string_value(json_object_get(msg, "node")));
	json_array_foreach(kinds, i, kv) {
		enum sync_kind k = sync_kind_from_string(json_string_value(kv));

		if (k < 0) {
			snprintf(buf, size, "hello: unknown kind '%.100s'", json_string_value(kv));
			return buf;
		}
		c->kinds |= UINT32_C(1) << k;
	}
	ns = json_string_value(json_object_get(msg, "secretsNamespace"));
	if ((c->kinds & (UINT32_C(1) << SYNC_SECRETS)) && strcmp(ns, c->s->secrets_ns) != 0) {
		snprintf(buf, size, "hello: secrets of namespace '%.100s' wanted, typha-c "
			 "watches '%.100s'", ns, c->s->secrets_ns);
		return buf;
	}
	return NULL;
}

/* Return: false when the client was dropped. */
static bool client_hello(struct client *c, json_t *msg, enum typhaproto_type t)
{
	char buf[300];
	const char *why;

	if (c->state != CLIENT_HELLO || t != TYPHAPROTO_HELLO) {
		client_refuse(c, "protocol: only one hello is expected from a client");
		return false;
	}
	why = hello_check(c, msg, buf, sizeof(buf));
	if (why) {
		client_refuse(c, why);
		return false;
	}
	c->deadline = evloop_timer_free(c->deadline);
	c->state = CLIENT_WAITING;
	if (c->s->synced)
		return client_start(c);
	log_info("Client '%s' waits for typha-c's first sync", client_name(c));
	return true;
}

/* Reads and handles the client's messages. Return: false when dropped. */
static bool client_read(struct client *c)
{
	char buf[TYPHASRV_READ_CHUNK];

	for (;;) {
		ssize_t n = tlsconn_read(c->tls, buf, sizeof(buf));
		json_t *msg;
		enum typhaproto_type t;
		int r;

		if (n == -EAGAIN)
			return true;
		if (n <= 0) {
			log_info("Client '%s' (%s) disconnected%s%s", client_name(c), c->peer,
				 n < 0 ? ": " : "", n < 0 ? tlsconn_error(c->tls) : "");
			client_drop(c);
			return false;
		}
		r = typhaproto_reader_feed(&c->in, buf, (size_t)n);
		while (r == 0 && (r = typhaproto_reader_next(&c->in, &msg, &t)) == 1) {
			bool alive = client_hello(c, msg, t);

			json_decref(msg);
			if (!alive)
				return false;
			r = 0;
		}
		if (r < 0) {
			client_refuse(c, r == -EMSGSIZE ? "protocol: message too long"
							: "protocol: malformed message");
			return false;
		}
	}
}

static void client_handshake(struct client *c)
{
	int r = tlsconn_handshake(c->tls);

	if (r == -EAGAIN) {
		client_watch(c);
		return;
	}
	if (r < 0) {
		log_warning("Refusing client %s: TLS: %s", c->peer, tlsconn_error(c->tls));
		c->s->st.refused++;
		client_drop(c);
		return;
	}
	c->state = CLIENT_HELLO;
	client_watch(c);
	if (client_read(c))
		client_watch(c);
}

static void on_client_io(struct evloop_io *io, int fd, uint32_t revents, void *userdata)
{
	struct client *c = userdata;

	(void)io;
	(void)fd;
	if (c->state == CLIENT_HANDSHAKE) {
		client_handshake(c);
		return;
	}
	if ((revents & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !client_read(c))
		return;
	if (client_flush(c) < 0) {
		log_info("Client '%s' (%s) lost: %s", client_name(c), c->peer,
			 tlsconn_error(c->tls));
		client_drop(c);
	}
}

static void on_client_deadline(struct evloop_timer *t, void *userdata)
{
	struct client *c = userdata;

	(void)t;
	c->deadline = evloop_timer_free(c->deadline);
	client_refuse(c, "no TLS handshake and hello in time");
}

static void peer_name(int fd, char *buf, size_t size)
{
	struct sockaddr_storage sa;
	socklen_t len = sizeof(sa);
	char host[48] = "?";

	if (getpeername(fd, (struct sockaddr *)&sa, &len) == 0 && sa.ss_family == AF_INET)
		(void)inet_ntop(AF_INET, &((struct sockaddr_in *)&sa)->sin_addr, host, sizeof(host));
	snprintf(buf, size, "%s:%u", host,
		 sa.ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&sa)->sin_port) : 0);
}

static int client_new(struct typhasrv *s, int fd)
{
	struct client *c = calloc(1, sizeof(*c));
	int one = 1, r;

	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	peer_name(fd, c->peer, sizeof(c->peer));
	c->s = s;
	c->out.limit = s->o.max_queue;
	c->in.max = 1 << 20; /* a hello is small */
	c->next = s->clients;
	if (s->clients)
		s->clients->prev = c;
	s->clients = c;
	s->st.active++;
	r = tlsconn_new(s->tls, fd, &c->tls);
	if (r == 0)
		r = evloop_io_add(s->loop, fd, EPOLLIN, on_client_io, c, &c->io);
	if (r == 0)
		r = evloop_timer_add(s->loop, on_client_deadline, c, &c->deadline);
	if (r < 0) {
		client_drop(c);
		return r;
	}
	evloop_timer_arm(c->deadline, s->o.handshake_ms);
	client_handshake(c);
	return 0;
}

static void on_accept(struct evloop_io *io, int fd, uint32_t revents, void *userdata)
{
	struct typhasrv *s = userdata;

	(void)io;
	(void)revents;
	for (int i = 0; i < TYPHASRV_ACCEPT_BATCH; i++) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		int r;

		if (cfd < 0) {
			if (errno != EAGAIN && errno != EINTR)
				log_warning_errno(-errno, "accept() failed, ignoring: %m");
			return;
		}
		s->st.accepted++;
		if (s->st.active >= s->o.max_clients) {
			s->st.refused++;
			log_warning("Refusing a connection: %zu clients, the limit", s->st.active);
			close(cfd);
			continue;
		}
		r = client_new(s, cfd);
		if (r < 0)
			log_warning_errno(r, "Cannot take a client, ignoring: %m");
	}
}

static void on_ping(struct evloop_timer *t, void *userdata)
{
	struct typhasrv *s = userdata;
	static const char ping[] = "{\"type\":\"ping\"}\n";

	evloop_timer_arm(t, s->o.ping_ms);
	for (struct client *c = s->clients, *next; c; c = next) {
		next = c->next;
		/* a busy connection needs no keepalive; one waiting for typha-c's
		 * first sync does (its TyphaReadTimeout runs) */
		if ((c->state != CLIENT_STREAMING && c->state != CLIENT_WAITING) || c->out.queued)
			continue;
		if (outq_push(&c->out, ping, sizeof(ping) - 1, false) < 0 || client_flush(c) < 0)
			client_drop(c);
	}
}

void typhasrv_event(struct typhasrv *s, enum sync_kind k, enum kapi_event_type t,
		    const json_t *obj)
{
	json_auto_t *msg = json_pack("{s:s,s:I,s:s,s:s,s:O}", "type", "event", "seq",
				     (json_int_t)(s->seq + 1), "kind", sync_kind_to_string(k),
				     "event", kapi_event_type_to_string(t), "object", obj);
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r;

	r = msg ? typhaproto_encode(msg, &buf, &len) : -ENOMEM;
	if (r < 0) {
		/* every client would miss it: all resync */
		log_error_errno(r, "Cannot encode an event of %s, resyncing every client: %m",
				sync_kind_to_string(k));
		while (s->clients)
			client_drop(s->clients);
		return;
	}
	s->seq++;
	s->st.events++;
	for (struct client *c = s->clients, *next; c; c = next) {
		next = c->next;
		if (c->state != CLIENT_STREAMING || !(c->kinds & (UINT32_C(1) << k)))
			continue;
		r = outq_push(&c->out, buf, len, false);
		if (r == -ENOBUFS) {
			log_warning("Client '%s' (%s) fell behind (%zu bytes queued): "
				    "disconnected, it resyncs when it reconnects",
				    client_name(c), c->peer, outq_backlog(&c->out));
			s->st.overflows++;
		}
		if (r < 0 || client_flush(c) < 0)
			client_drop(c);
	}
}

void typhasrv_set_synced(struct typhasrv *s)
{
	if (s->synced)
		return;
	s->synced = true;
	for (struct client *c = s->clients, *next; c; c = next) {
		next = c->next;
		if (c->state == CLIENT_WAITING)
			client_start(c);
	}
}

bool typhasrv_is_synced(const struct typhasrv *s)
{
	return s->synced;
}

void typhasrv_get_stats(const struct typhasrv *s, struct typhasrv_stats *ret)
{
	*ret = s->st;
}

int typhasrv_new(struct evloop *l, int listen_fd, struct tlsconn_ctx *tls,
		 const struct typhasrv_opts *o, const struct typhasrv_source *src,
		 struct typhasrv **ret)
{
	_cleanup_(typhasrv_freep) struct typhasrv *s = calloc(1, sizeof(*s));
	int r;

	if (!s) {
		close(listen_fd);
		return -ENOMEM;
	}
	s->fd = listen_fd;
	s->loop = l;
	s->tls = tls;
	s->o = *o;
	s->src = src;
	s->secrets_ns = strdup(o->secrets_namespace ? o->secrets_namespace : "");
	if (!s->secrets_ns)
		return -ENOMEM;
	s->o.secrets_namespace = s->secrets_ns;
	r = evloop_io_add(l, listen_fd, EPOLLIN, on_accept, s, &s->io);
	if (r == 0)
		r = evloop_timer_add(l, on_ping, s, &s->ping);
	if (r < 0)
		return r;
	evloop_timer_arm(s->ping, s->o.ping_ms);
	*ret = TAKE_PTR(s);
	return 0;
}

struct typhasrv *typhasrv_free(struct typhasrv *s)
{
	if (!s)
		return NULL;
	while (s->clients)
		client_drop(s->clients);
	evloop_io_free(s->io);
	evloop_timer_free(s->ping);
	if (s->fd >= 0)
		close(s->fd);
	free(s->secrets_ns);
	free(s);
	return NULL;
}
