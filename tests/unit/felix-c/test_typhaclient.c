/* felix-c's typha-c client against typha-c's server, in one process over
 * loopback with real mutual TLS (certificates made by openssl(1) in a
 * temporary directory; the apiserver is one that is not there,
 * 127.0.0.1:1, so a fallback's LIST fails and retries):
 *  - a snapshot then deltas reach the informers' callbacks in order;
 *  - a client that falls behind is disconnected (its queue overflows, the
 *    server is not blocked), falls back, reconnects and resyncs from a new
 *    snapshot: its caches equal typha-c's, the gap emitted as a diff;
 *  - no typha-c: the informers leave fed mode (watch the apiserver);
 *  - a client certificate of another CA, or a hello typha-c cannot serve,
 *    is refused and the client falls back. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "evloop.h"
#include "felix-c/config.h"
#include "felix-c/typhaclient.h"
#include "kapi.h"
#include "kinformer.h"
#include "synckinds.h"
#include "tests/unit/lib/kapitest.h"
#include "tlsconn.h"
#include "typha-c/server.h"

static char dir[] = "/tmp/test_typhaclient.XXXXXX";

struct env {
	struct evloop *loop;
	struct kapi_config *kc;
	struct kapi *k;
	struct kinformer *inf[_SYNC_KIND_MAX];
	json_t *log;		 /* "ADDED pods/ns/a 1", ... from the callbacks */
	json_t *src[_SYNC_KIND_MAX]; /* typha-c's caches */
	struct typhasrv_source source;
	struct tlsconn_ctx *stls;
	struct typhasrv *srv;
	struct felix_config cfg;
	char addr[64], path[4][300];
	struct felix_typha *client;
};

static void note(const char *what, struct kinformer *inf, json_t *obj, void *userdata)
{
	struct env *e = userdata;
	int k = 0;

	while (e->inf[k] != inf)
		k++;
	json_array_append_new(e->log, json_sprintf("%s %s/%s/%s %s", what, sync_kind_to_string(k),
						   kapi_obj_namespace(obj) ?: "", kapi_obj_name(obj),
						   kapi_obj_resource_version(obj)));
}

static void on_add(struct kinformer *inf, json_t *obj, void *ud) { note("ADDED", inf, obj, ud); }
static void on_update(struct kinformer *inf, json_t *old, json_t *obj, void *ud)
{
	(void)old;
	note("MODIFIED", inf, obj, ud);
}
static void on_delete(struct kinformer *inf, json_t *obj, void *ud) { note("DELETED", inf, obj, ud); }
static const struct kinformer_ops ops = { .on_add = on_add, .on_update = on_update,
					  .on_delete = on_delete };

static const json_t *src_cache(enum sync_kind k, void *userdata)
{
	return ((struct env *)userdata)->src[k];
}

static json_t *pod(const char *name, const char *rv, size_t pad)
{
	char *big = calloc(1, pad + 1);
	json_t *p;

	memset(big, 'x', pad);
	p = json_pack("{s:s,s:s,s:{s:s,s:s,s:s},s:{s:s}}", "apiVersion", "v1", "kind", "Pod",
		      "metadata", "namespace", "ns", "name", name, "resourceVersion", rv, "spec",
		      "nodeName", big);
	free(big);
	return p;
}

/* typha-c's cache and its event, as its informer would do both. */
static void src_set(struct env *e, enum sync_kind k, json_t *obj, enum kapi_event_type t)
{
	char key[300];

	snprintf(key, sizeof(key), "%s/%s", kapi_obj_namespace(obj), kapi_obj_name(obj));
	if (t == KAPI_EVENT_DELETED)
		json_object_del(e->src[k], key);
	else
		json_object_set(e->src[k], key, obj);
	if (e->srv)
		typhasrv_event(e->srv, k, t, obj);
	json_decref(obj);
}

static int sh(const char *cmd)
{
	char buf[2048];

	snprintf(buf, sizeof(buf), "cd %s && (%s) >/dev/null 2>&1", dir, cmd);
	return system(buf);
}

static int group_setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	return sh("k='-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes'; "
		  "for ca in ca rogue-ca; do openssl req -x509 $k "
		  "-keyout $ca.key -out $ca.crt -days 1 -subj /CN=$ca || exit 1; done; "
		  "cert() { openssl req $k -keyout $1.key -out $1.csr "
		  "-subj /CN=$2 && openssl x509 -req -in $1.csr -CA $3.crt -CAkey $3.key "
		  "-CAcreateserial -out $1.crt -days 1; }; "
		  "cert typha typha-c ca && cert felix felix-c ca && cert rogue felix-c rogue-ca");
}

static int group_teardown(void **state)
{
	(void)state;
	return sh("rm -f *.crt *.key *.csr *.srl") || rmdir(dir);
}

/* On @port (0: any free one). */
static void start_server_on(struct env *e, size_t max_queue, uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				  .sin_port = htons(port) };
	int one = 1;
	socklen_t len = sizeof(sa);
	struct typhasrv_opts o = { .max_queue = max_queue, .max_clients = 10, .ping_ms = 1000,
				   .handshake_ms = 5000, .secrets_namespace = "kube-system" };
	char ca[300], crt[300], key[300];
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	snprintf(e->addr, sizeof(e->addr), "127.0.0.1:%u", ntohs(sa.sin_port));
	snprintf(ca, sizeof(ca), "%s/ca.crt", dir);
	snprintf(crt, sizeof(crt), "%s/typha.crt", dir);
	snprintf(key, sizeof(key), "%s/typha.key", dir);
	assert_int_equal(tlsconn_ctx_new(true, ca, crt, key, "felix-c", &e->stls, NULL), 0);
	e->source = (struct typhasrv_source){ src_cache, e };
	assert_int_equal(typhasrv_new(e->loop, fd, e->stls, &o, &e->source, &e->srv), 0);
	typhasrv_set_synced(e->srv);
}

static void start_server(struct env *e, size_t max_queue)
{
	start_server_on(e, max_queue, 0);
}

static void stop_server(struct env *e)
{
	e->srv = typhasrv_free(e->srv);
	e->stls = tlsconn_ctx_free(e->stls);
}

static struct env *env_new(const char *cert)
{
	struct env *e = calloc(1, sizeof(*e));
	struct kinformer_opts o = { .fed = true };

	assert_int_equal(evloop_new(&e->loop), 0);
	kapitest_client(&e->kc, &e->k);
	e->log = json_array();
	for (int i = 0; i < _SYNC_KIND_MAX; i++) {
		char *path = kapi_path(sync_kind_resource(i), NULL, NULL, NULL);

		assert_int_equal(kinformer_new(e->k, e->loop, path, &o, &ops, e, &e->inf[i]), 0);
		free(path);
		e->src[i] = json_object();
	}
	snprintf(e->path[0], sizeof(e->path[0]), "%s/ca.crt", dir);
	snprintf(e->path[1], sizeof(e->path[1]), "%s/%s.crt", dir, cert);
	snprintf(e->path[2], sizeof(e->path[2]), "%s/%s.key", dir, cert);
	e->cfg = (struct felix_config){
		.nodename = "node1", .secrets_namespace = "kube-system", .typha_addr = e->addr,
		.typha_ca_file = e->path[0], .typha_cert_file = e->path[1],
		.typha_key_file = e->path[2], .typha_cn = "typha-c",
		.typha_read_timeout_ms = 5000, .typha_reconnect_ms = 100,
		.typha_fallback_grace_ms = 0,
	};
	return e;
}

static void env_free(struct env *e)
{
	felix_typha_free(e->client);
	typhasrv_free(e->srv);
	tlsconn_ctx_free(e->stls);
	for (int i = 0; i < _SYNC_KIND_MAX; i++) {
		kinformer_free(e->inf[i]);
		json_decref(e->src[i]);
	}
	kapi_free(e->k);
	kapi_config_free(e->kc);
	evloop_free(e->loop);
	json_decref(e->log);
	free(e);
}

static void connect_client(struct env *e)
{
	assert_int_equal(felix_typha_new(e->loop, &e->cfg, e->k, e->inf, &e->client, NULL), 0);
}

static bool run_until(struct env *e, bool (*done)(struct env *e), int timeout_ms)
{
	uint64_t end = evloop_now_ms() + (uint64_t)timeout_ms;

	while (!done(e) && evloop_now_ms() < end)
		evloop_run_once(e->loop, 10);
	return done(e);
}

static bool streaming(struct env *e)
{
	return felix_typha_get_state(e->client) == FELIX_TYPHA_STREAMING;
}

static bool fallen_back(struct env *e)
{
	return felix_typha_get_state(e->client) == FELIX_TYPHA_FALLBACK;
}

static size_t want_log;
static bool logged(struct env *e)
{
	return json_array_size(e->log) >= want_log;
}

static void assert_log(struct env *e, size_t from, const char *const *want, size_t n)
{
	assert_int_equal(json_array_size(e->log), from + n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(json_string_value(json_array_get(e->log, from + i)), want[i]);
}

static void test_snapshot_then_deltas_in_order(void **state)
{
	struct env *e = env_new("felix");
	static const char *const want[] = { "ADDED pods/ns/a 1", "MODIFIED pods/ns/a 2",
					    "ADDED pods/ns/b 3", "DELETED pods/ns/a 2" };

	(void)state;
	src_set(e, SYNC_PODS, pod("a", "1", 0), KAPI_EVENT_ADDED);
	start_server(e, 1 << 20);
	connect_client(e);
	assert_true(run_until(e, streaming, 5000));
	for (int i = 0; i < _SYNC_KIND_MAX; i++) {
		assert_true(kinformer_is_synced(e->inf[i]));
		assert_true(kinformer_is_fed(e->inf[i]));
	}
	assert_log(e, 0, want, 1);
	src_set(e, SYNC_PODS, pod("a", "2", 0), KAPI_EVENT_MODIFIED);
	src_set(e, SYNC_PODS, pod("b", "3", 0), KAPI_EVENT_ADDED);
	src_set(e, SYNC_PODS, pod("a", "2", 0), KAPI_EVENT_DELETED);
	want_log = 4;
	assert_true(run_until(e, logged, 5000));
	assert_log(e, 0, want, 4);
	assert_non_null(kinformer_get(e->inf[SYNC_PODS], "ns", "b"));
	assert_null(kinformer_get(e->inf[SYNC_PODS], "ns", "a"));
	env_free(e);
}

static bool resynced(struct env *e)
{
	return felix_typha_snapshots(e->client) == 2 && streaming(e);
}

static void test_slow_client_dropped_then_resyncs(void **state)
{
	struct env *e = env_new("felix");
	struct typhasrv_stats st;
	char name[16];
	size_t n0;

	(void)state;
	src_set(e, SYNC_PODS, pod("a", "1", 0), KAPI_EVENT_ADDED);
	start_server(e, 64 << 10);
	connect_client(e);
	assert_true(run_until(e, streaming, 5000));
	n0 = json_array_size(e->log);
	/* The client does not read while these are queued: 16 MB against a
	 * 64 KiB queue behind the sockets' buffers. The server does not wait. */
	for (int i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "p%d", i);
		src_set(e, SYNC_PODS, pod(name, "10", 16 << 10), KAPI_EVENT_ADDED);
	}
	typhasrv_get_stats(e->srv, &st);
	assert_int_equal(st.overflows, 1);
	assert_int_equal(st.active, 0);
	/* More changes while it is away (a small snapshot to resync from). */
	for (int i = 0; i < 999; i++) {
		snprintf(name, sizeof(name), "p%d", i);
		src_set(e, SYNC_PODS, pod(name, "11", 0), KAPI_EVENT_DELETED);
	}
	src_set(e, SYNC_PODS, pod("a", "2", 0), KAPI_EVENT_DELETED);
	/* It notices, falls back, comes back, resyncs. */
	assert_true(run_until(e, resynced, 10000));
	assert_int_equal(felix_typha_fallbacks(e->client), 1);
	for (int i = 0; i < _SYNC_KIND_MAX; i++)
		assert_int_equal(kinformer_size(e->inf[i]), json_object_size(e->src[i]));
	assert_null(kinformer_get(e->inf[SYNC_PODS], "ns", "a"));
	assert_non_null(kinformer_get(e->inf[SYNC_PODS], "ns", "p999"));
	/* What the callbacks said, replayed, is typha-c's view: nothing lost
	 * or repeated across the drop (an add of a known key, or a deletion
	 * of an unknown one, would fail here). */
	json_auto_t *seen = json_object();
	for (size_t i = 0; i < json_array_size(e->log); i++) {
		char what[16], key[200];

		assert_int_equal(sscanf(json_string_value(json_array_get(e->log, i)), "%15s %199s",
					what, key), 2);
		if (strcmp(what, "ADDED") == 0)
			assert_int_equal(json_object_set_new(seen, key, json_true()) +
						 (i >= n0 && json_object_get(seen, key) == NULL), 0);
		else if (strcmp(what, "DELETED") == 0)
			assert_int_equal(json_object_del(seen, key), 0);
	}
	assert_int_equal(json_object_size(seen), 1); /* pods/ns/p999 */
	assert_non_null(json_object_get(seen, "pods/ns/p999"));
	env_free(e);
}

static bool retrying(struct env *e)
{
	return felix_typha_get_state(e->client) == FELIX_TYPHA_RETRY;
}

/* typha-c restarts within TyphaFallbackGrace: felix-c keeps its view,
 * never touches the apiserver, and resyncs from the new typha-c. */
static void test_typha_restart_within_grace_no_fallback(void **state)
{
	struct env *e = env_new("felix");
	unsigned port;

	(void)state;
	e->cfg.typha_fallback_grace_ms = 10000;
	src_set(e, SYNC_PODS, pod("a", "1", 0), KAPI_EVENT_ADDED);
	start_server(e, 1 << 20);
	connect_client(e);
	assert_true(run_until(e, streaming, 5000));
	stop_server(e);
	assert_true(run_until(e, retrying, 5000));
	for (int i = 0; i < _SYNC_KIND_MAX; i++)
		assert_true(kinformer_is_fed(e->inf[i])); /* not on the apiserver */
	src_set(e, SYNC_PODS, pod("b", "2", 0), KAPI_EVENT_ADDED); /* while it was away */
	assert_int_equal(sscanf(e->addr, "127.0.0.1:%u", &port), 1);
	start_server_on(e, 1 << 20, (uint16_t)port);
	assert_true(run_until(e, resynced, 5000));
	assert_int_equal(felix_typha_fallbacks(e->client), 0);
	assert_non_null(kinformer_get(e->inf[SYNC_PODS], "ns", "b"));
	env_free(e);
}

static void test_no_typha_falls_back_to_the_apiserver(void **state)
{
	struct env *e = env_new("felix");

	(void)state;
	snprintf(e->addr, sizeof(e->addr), "127.0.0.1:1");
	connect_client(e);
	assert_true(run_until(e, fallen_back, 5000));
	assert_int_equal(felix_typha_fallbacks(e->client), 1);
	for (int i = 0; i < _SYNC_KIND_MAX; i++) {
		assert_false(kinformer_is_fed(e->inf[i])); /* listing the apiserver */
		assert_false(kinformer_is_synced(e->inf[i])); /* fail closed: no view yet */
	}
	env_free(e);
}

static bool refused(struct env *e)
{
	struct typhasrv_stats st;

	typhasrv_get_stats(e->srv, &st);
	return st.refused > 0 && fallen_back(e);
}

static void test_rogue_certificate_refused(void **state)
{
	struct env *e = env_new("rogue");
	struct typhasrv_stats st;

	(void)state;
	start_server(e, 1 << 20);
	connect_client(e);
	assert_true(run_until(e, refused, 5000));
	typhasrv_get_stats(e->srv, &st);
	assert_int_equal(st.snapshots, 0);
	assert_int_equal(felix_typha_snapshots(e->client), 0);
	env_free(e);
}

static void test_hello_typha_cannot_serve_refused(void **state)
{
	struct env *e = env_new("felix");

	(void)state;
	e->cfg.secrets_namespace = "other"; /* typha-c watches kube-system's */
	start_server(e, 1 << 20);
	connect_client(e);
	assert_true(run_until(e, refused, 5000));
	assert_int_equal(felix_typha_snapshots(e->client), 0);
	/* the client logged typha-c's reason (checked by eye in the output) */
	env_free(e);
}

static struct tlsconn_ctx *ctx_of(bool server, const char *name, const char *peer_cn)
{
	char ca[300], crt[300], key[300];
	struct tlsconn_ctx *c = NULL;

	snprintf(ca, sizeof(ca), "%s/ca.crt", dir);
	snprintf(crt, sizeof(crt), "%s/%s.crt", dir, name);
	snprintf(key, sizeof(key), "%s/%s.key", dir, name);
	assert_int_equal(tlsconn_ctx_new(server, ca, crt, key, peer_cn, &c, NULL), 0);
	return c;
}

/* A writer that once waited for EPOLLOUT must not keep asking for it after
 * a write went through (typha-c spun on idle clients that way). */
static void test_tls_wants_write_clears_after_a_write(void **state)
{
	struct tlsconn_ctx *sc = ctx_of(true, "typha", "felix-c"), *cc = ctx_of(false, "felix", "typha-c");
	struct tlsconn *s = NULL, *c = NULL;
	static char buf[65536], rbuf[65536];
	int fds[2], rs = -EAGAIN, rc = -EAGAIN;
	ssize_t n;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
	assert_int_equal(tlsconn_new(sc, fds[0], &s), 0);
	assert_int_equal(tlsconn_new(cc, fds[1], &c), 0);
	for (int i = 0; i < 100 && (rs == -EAGAIN || rc == -EAGAIN); i++) {
		if (rs == -EAGAIN)
			rs = tlsconn_handshake(s);
		if (rc == -EAGAIN)
			rc = tlsconn_handshake(c);
	}
	assert_int_equal(rs, 0);
	assert_int_equal(rc, 0);
	while ((n = tlsconn_write(s, buf, sizeof(buf))) > 0)
		;
	assert_int_equal(n, -EAGAIN);
	assert_true(tlsconn_wants_write(s));
	while (tlsconn_read(c, rbuf, sizeof(rbuf)) > 0)
		;
	assert_true(tlsconn_write(s, buf, sizeof(buf)) > 0); /* the same bytes again */
	assert_false(tlsconn_wants_write(s));
	tlsconn_free(s);
	tlsconn_free(c);
	tlsconn_ctx_free(sc);
	tlsconn_ctx_free(cc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_snapshot_then_deltas_in_order),
		cmocka_unit_test(test_slow_client_dropped_then_resyncs),
		cmocka_unit_test(test_typha_restart_within_grace_no_fallback),
		cmocka_unit_test(test_no_typha_falls_back_to_the_apiserver),
		cmocka_unit_test(test_rogue_certificate_refused),
		cmocka_unit_test(test_hello_typha_cannot_serve_refused),
		cmocka_unit_test(test_tls_wants_write_clears_after_a_write),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
