/* typha-c's fan-out: serves many felix-c over one TLS connection each
 * (lib/typhaproto.h). A client gets, on connect, a snapshot of every kind
 * it asks for (from the source's caches, which typha-c's informers keep),
 * then every change in order. Each client has a bounded queue
 * (typha-c/outq.h): one that falls behind is disconnected and resyncs from
 * a new snapshot when it reconnects; the others never wait for it.
 *
 * Client states: HANDSHAKE (TLS, client certificate verified) -> HELLO
 * (waiting for the hello) -> WAITING (until the source is synced) ->
 * STREAMING; any error, a full queue or the deadline of the first two ->
 * dropped.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "cleanup.h"
#include "kapi.h"
#include "synckinds.h"

struct evloop;
struct tlsconn_ctx;
struct typhasrv;

struct typhasrv_source {
	/* The cache of @k ("ns/name" -> object), valid until the loop runs. */
	const json_t *(*cache)(enum sync_kind k, void *userdata);
	void *userdata;
};

struct typhasrv_opts {
	size_t max_queue;	     /* bytes of backlog per client behind its snapshot */
	unsigned max_clients;	     /* more are refused at accept */
	unsigned ping_ms;	     /* a ping to every client this often */
	unsigned handshake_ms;	     /* TLS handshake and hello, at most */
	const char *secrets_namespace; /* the namespace of our secrets informer */
};

struct typhasrv_stats {
	unsigned long accepted;	 /* TCP connections accepted */
	unsigned long refused;	 /* failed TLS / bad hello / over max_clients */
	unsigned long overflows; /* dropped for a full queue */
	unsigned long snapshots; /* snapshots sent */
	unsigned long events;	 /* events broadcast */
	size_t active;		 /* connected clients */
	size_t streaming;	 /* of which past their snapshot */
};

/**
 * typhasrv_new - serve on a listening socket
 * @l: loop
 * @listen_fd: bound, listening, non-blocking TCP socket (taken over, even on error)
 * @tls: server TLS context (borrowed; outlives the server)
 * @o: options (copied; secrets_namespace too)
 * @src: snapshot source (borrowed)
 * @ret: the server
 *
 * Return: 0, -ENOMEM, -errno of epoll.
 */
int typhasrv_new(struct evloop *l, int listen_fd, struct tlsconn_ctx *tls,
		 const struct typhasrv_opts *o, const struct typhasrv_source *src,
		 struct typhasrv **ret);
struct typhasrv *typhasrv_free(struct typhasrv *s);
DEFINE_CLEANUP_FUNC(struct typhasrv, typhasrv_free);

/* The source holds a complete view of every kind: clients get snapshots
 * from now on (those waiting get theirs now). */
void typhasrv_set_synced(struct typhasrv *s);
bool typhasrv_is_synced(const struct typhasrv *s);

/* A change of @k, in the source's order: queued to every streaming client
 * that asked for @k. @obj is borrowed. */
void typhasrv_event(struct typhasrv *s, enum sync_kind k, enum kapi_event_type t,
		    const json_t *obj);
void typhasrv_get_stats(const struct typhasrv *s, struct typhasrv_stats *ret);
