/* typha-c: one LIST+WATCH per kind felix-c needs, fanned out to many
 * felix-c over mutually authenticated TLS (typha-c/README.md).
 *
 * main() reads the TYPHA_* environment, starts one kinformer per kind
 * (lib/kinformer.c, as felix-c's own; objects trimmed as felix-c's caches
 * keep them, lib/podtrim.h), hands their changes to the server
 * (typha-c/server.h) and serves /liveness, /readiness and /metrics.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cleanup.h"
#include "evloop.h"
#include "httpd.h"
#include "kapi.h"
#include "kinformer.h"
#include "log.h"
#include "metrics.h"
#include "podtrim.h"
#include "synckinds.h"
#include "tlsconn.h"
#include "typha-c/server.h"

extern char **environ;

/* TYPHA_<NAME>; every string owned. */
struct typha_config {
	enum log_level log_level;   /* LOGSEVERITYSCREEN, info */
	char *kubeconfig;	    /* KUBECONFIG (or TYPHA_KUBECONFIG); NULL: in-cluster */
	char *server_host;	    /* SERVERHOST, 0.0.0.0 */
	unsigned server_port;	    /* SERVERPORT, 5473 */
	char *ca_file;		    /* CAFILE: the CA client certificates must chain to */
	char *cert_file;	    /* SERVERCERTFILE */
	char *key_file;		    /* SERVERKEYFILE */
	char *client_cn;	    /* CLIENTCN: required client CN, "": any */
	char *health_host;	    /* HEALTHHOST, 0.0.0.0 */
	unsigned health_port;	    /* HEALTHPORT, 9098; 0: off */
	char *secrets_namespace;    /* SECRETSNAMESPACE, kube-system (felix-c's default) */
	unsigned max_queue_kib;	    /* MAXCLIENTQUEUEKIB, 16384 */
	unsigned max_clients;	    /* MAXCONNECTIONSUPPERLIMIT, 10000 */
	unsigned ping_s;	    /* PINGINTERVAL seconds, 10 */
};

struct typha {
	struct typha_config *cfg;
	struct evloop *loop;
	struct kapi *k;
	struct kinformer *inf[_SYNC_KIND_MAX];
	struct typhasrv *srv;
	struct httpd *http;
	struct tlsconn_ctx *tls;
	struct typhasrv_source src;
};

static const char *env(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v && *v ? v : def;
}

static int env_uint(const char *name, const char *def, unsigned max, unsigned *ret, char **err)
{
	const char *v = env(name, def);
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno || !*v || *end || n > max) {
		if (asprintf(err, "%s: '%s' is not a number from 0 to %u", name, v, max) < 0)
			*err = NULL;
		return -EINVAL;
	}
	*ret = (unsigned)n;
	return 0;
}

static int env_str(const char *name, const char *def, char **ret)
{
	const char *v = env(name, def);

	*ret = v ? strdup(v) : NULL;
	return v && !*ret ? -ENOMEM : 0;
}

static void config_done(struct typha_config *c)
{
	free(c->kubeconfig);
	free(c->server_host);
	free(c->ca_file);
	free(c->cert_file);
	free(c->key_file);
	free(c->client_cn);
	free(c->health_host);
	free(c->secrets_namespace);
}

static int config_load(struct typha_config *c, char **err)
{
	const char *lvl = env("TYPHA_LOGSEVERITYSCREEN", "info");
	int r = 0;

	*c = (struct typha_config){};
	c->log_level = log_level_from_string(lvl);
	if ((int)c->log_level < 0)
		return asprintf(err, "TYPHA_LOGSEVERITYSCREEN: unknown level '%s'", lvl) < 0 ? -ENOMEM
											   : -EINVAL;
	if (env_str("TYPHA_KUBECONFIG", getenv("KUBECONFIG"), &c->kubeconfig) < 0 ||
	    env_str("TYPHA_SERVERHOST", "0.0.0.0", &c->server_host) < 0 ||
	    env_str("TYPHA_CAFILE", NULL, &c->ca_file) < 0 ||
	    env_str("TYPHA_SERVERCERTFILE", NULL, &c->cert_file) < 0 ||
	    env_str("TYPHA_SERVERKEYFILE", NULL, &c->key_file) < 0 ||
	    env_str("TYPHA_CLIENTCN", "", &c->client_cn) < 0 ||
	    env_str("TYPHA_HEALTHHOST", "0.0.0.0", &c->health_host) < 0 ||
	    env_str("TYPHA_SECRETSNAMESPACE", "kube-system", &c->secrets_namespace) < 0)
		return -ENOMEM;
	r = env_uint("TYPHA_SERVERPORT", "5473", 65535, &c->server_port, err);
	if (r == 0)
		r = env_uint("TYPHA_HEALTHPORT", "9098", 65535, &c->health_port, err);
	if (r == 0)
		r = env_uint("TYPHA_MAXCLIENTQUEUEKIB", "16384", 4u << 20, &c->max_queue_kib, err);
	if (r == 0)
		r = env_uint("TYPHA_MAXCONNECTIONSUPPERLIMIT", "10000", 1000000, &c->max_clients, err);
	if (r == 0)
		r = env_uint("TYPHA_PINGINTERVAL", "10", 3600, &c->ping_s, err);
	if (r < 0)
		return r;
	/* No plaintext mode: felix-c trusts what typha-c says about policy. */
	if (!c->ca_file || !c->cert_file || !c->key_file)
		return asprintf(err, "TYPHA_CAFILE, TYPHA_SERVERCERTFILE and TYPHA_SERVERKEYFILE "
				"are required (typha-c serves only mutual TLS)") < 0 ? -ENOMEM : -EINVAL;
	if (c->ping_s == 0 || c->max_queue_kib == 0)
		return asprintf(err, "TYPHA_PINGINTERVAL and TYPHA_MAXCLIENTQUEUEKIB must be > 0") < 0
			       ? -ENOMEM : -EINVAL;
	return 0;
}

/* ---- informers -> server ---- */

struct inf_ctx {
	struct typha *t;
	enum sync_kind kind;
};
static struct inf_ctx inf_ctx[_SYNC_KIND_MAX];

static void on_add(struct kinformer *inf, json_t *obj, void *userdata)
{
	struct inf_ctx *c = userdata;

	(void)inf;
	typhasrv_event(c->t->srv, c->kind, KAPI_EVENT_ADDED, obj);
}

static void on_update(struct kinformer *inf, json_t *old, json_t *obj, void *userdata)
{
	struct inf_ctx *c = userdata;

	(void)inf;
	(void)old;
	typhasrv_event(c->t->srv, c->kind, KAPI_EVENT_MODIFIED, obj);
}

static void on_delete(struct kinformer *inf, json_t *obj, void *userdata)
{
	struct inf_ctx *c = userdata;

	(void)inf;
	typhasrv_event(c->t->srv, c->kind, KAPI_EVENT_DELETED, obj);
}

static bool all_synced(const struct typha *t)
{
	for (int i = 0; i < _SYNC_KIND_MAX; i++)
		if (!kinformer_is_synced(t->inf[i]))
			return false;
	return true;
}

static void on_synced(struct kinformer *inf, void *userdata)
{
	struct inf_ctx *c = userdata;

	(void)inf;
	if (!typhasrv_is_synced(c->t->srv) && all_synced(c->t)) {
		log_info("All %d kinds synced: serving snapshots", _SYNC_KIND_MAX);
		typhasrv_set_synced(c->t->srv);
	}
}

static void on_error(struct kinformer *inf, int error, const char *message, void *userdata)
{
	struct inf_ctx *c = userdata;

	(void)inf;
	log_warning_errno(error, "Watch of %s failed (retrying): %s", sync_kind_to_string(c->kind),
			  message && *message ? message : strerror(-error));
}

static const struct kinformer_ops inf_ops = {
	.on_add = on_add, .on_update = on_update, .on_delete = on_delete,
	.on_synced = on_synced, .on_error = on_error,
};

static const json_t *src_cache(enum sync_kind k, void *userdata)
{
	struct typha *t = userdata;

	return kinformer_cache(t->inf[k]);
}

static int start_informers(struct typha *t)
{
	struct kinformer_opts o = { .backoff_min_ms = 250, .backoff_max_ms = 5000 };

	for (int i = 0; i < _SYNC_KIND_MAX; i++) {
		const char *ns = i == SYNC_SECRETS ? t->cfg->secrets_namespace : NULL;
		_cleanup_free_ char *path = kapi_path(sync_kind_resource(i), ns, NULL, NULL);
		int r;

		if (!path)
			return -ENOMEM;
		o.transform = i == SYNC_PODS ? podtrim_pod : podtrim_managed_fields;
		o.page_size = i == SYNC_BLOCKS ? 50 : 0;
		inf_ctx[i] = (struct inf_ctx){ t, i };
		r = kinformer_new(t->k, t->loop, path, &o, &inf_ops, &inf_ctx[i], &t->inf[i]);
		if (r < 0)
			return log_error_errno(r, "Failed to watch %s: %m", sync_kind_to_string(i));
	}
	return 0;
}

/* ---- health and metrics ---- */

static void write_metrics(const struct typha *t, struct metrics_buf *b)
{
	struct typhasrv_stats st;
	static const struct {
		const char *name, *type, *help;
		size_t off;
	} m[] = {
		{ "typha_connections_accepted", "counter", "Connections accepted.",
		  offsetof(struct typhasrv_stats, accepted) },
		{ "typha_connections_refused", "counter",
		  "Connections refused: TLS, bad hello, over the limit.",
		  offsetof(struct typhasrv_stats, refused) },
		{ "typha_connections_dropped", "counter",
		  "Clients dropped for falling behind (full queue).",
		  offsetof(struct typhasrv_stats, overflows) },
		{ "typha_c_snapshots_total", "counter", "Snapshots sent.",
		  offsetof(struct typhasrv_stats, snapshots) },
		{ "typha_c_events_total", "counter", "Events fanned out.",
		  offsetof(struct typhasrv_stats, events) },
	};

	typhasrv_get_stats(t->srv, &st);
	for (size_t i = 0; i < ELEMENTSOF(m); i++) {
		metrics_header(b, m[i].name, m[i].type, m[i].help);
		metrics_sample(b, m[i].name, NULL, 0,
			       (double)*(const unsigned long *)((const char *)&st + m[i].off));
	}
	metrics_header(b, "typha_connections_active", "gauge", "Clients connected.");
	metrics_sample(b, "typha_connections_active", NULL, 0, (double)st.active);
	metrics_header(b, "typha_connections_streaming", "gauge", "Clients past their snapshot.");
	metrics_sample(b, "typha_connections_streaming", NULL, 0, (double)st.streaming);
}

static int http_handler(const char *path, struct metrics_buf *body, const char **ret_type,
			void *userdata)
{
	struct typha *t = userdata;

	if (strcmp(path, "/liveness") == 0) {
		metrics_printf(body, "ok\n");
		return 200;
	}
	if (strcmp(path, "/readiness") == 0) {
		bool ok = typhasrv_is_synced(t->srv);

		metrics_printf(body, ok ? "ready\n" : "not synced with the apiserver yet\n");
		return ok ? 200 : 503;
	}
	if (strcmp(path, "/metrics") == 0) {
		*ret_type = "text/plain; version=0.0.4; charset=utf-8";
		write_metrics(t, body);
		return 200;
	}
	metrics_printf(body, "not found\n");
	return 404;
}

/* ---- lifecycle ---- */

static int typha_start(struct typha *t, const struct kapi_config *kc)
{
	const struct typha_config *c = t->cfg;
	struct typhasrv_opts so = {
		.max_queue = (size_t)c->max_queue_kib << 10,
		.max_clients = c->max_clients,
		.ping_ms = c->ping_s * 1000,
		.handshake_ms = 10000,
		.secrets_namespace = c->secrets_namespace,
	};
	_cleanup_free_ char *err = NULL;
	int fd = -1, r;

	r = tlsconn_ctx_new(true, c->ca_file, c->cert_file, c->key_file, c->client_cn, &t->tls,
			    &err);
	if (r < 0)
		return log_error_errno(r, "TLS: %s", err ? err : "%m");
	r = kapi_new(kc, &t->k);
	if (r < 0)
		return log_error_errno(r, "Failed to create the API client: %m");
	r = httpd_listen(c->server_host, (uint16_t)c->server_port, &fd);
	if (r < 0)
		return log_error_errno(r, "Cannot listen on %s:%u: %m", c->server_host,
				       c->server_port);
	t->src = (struct typhasrv_source){ src_cache, t };
	r = typhasrv_new(t->loop, fd, t->tls, &so, &t->src, &t->srv);
	if (r < 0)
		return log_error_errno(r, "Cannot start the server: %m");
	if (c->health_port) {
		r = httpd_new(t->loop, c->health_host, (uint16_t)c->health_port, http_handler, t,
			      &t->http);
		if (r < 0)
			return log_error_errno(r, "Cannot serve health on %s:%u: %m",
					       c->health_host, c->health_port);
	}
	r = start_informers(t);
	if (r == 0)
		log_info("typha-c on %s:%u: watching %d kinds, client CN '%s'", c->server_host,
			 c->server_port, _SYNC_KIND_MAX, *c->client_cn ? c->client_cn : "(any)");
	return r;
}

static void typha_stop(struct typha *t)
{
	/* the informers first: their callbacks use the server */
	for (int i = 0; i < _SYNC_KIND_MAX; i++)
		t->inf[i] = kinformer_free(t->inf[i]);
	t->http = httpd_free(t->http);
	t->srv = typhasrv_free(t->srv);
	t->k = kapi_free(t->k);
	t->tls = tlsconn_ctx_free(t->tls);
}

static void on_signal(struct evloop_signal *s, const struct signalfd_siginfo *si, void *userdata)
{
	(void)s;
	(void)si;
	evloop_exit(userdata, 0);
}

static int run(struct typha_config *c)
{
	_cleanup_(kapi_config_freep) struct kapi_config *kc = NULL;
	_cleanup_(evloop_freep) struct evloop *loop = NULL;
	_cleanup_(evloop_signal_freep) struct evloop_signal *sterm = NULL, *sint = NULL;
	_cleanup_free_ char *err = NULL;
	struct typha t = { .cfg = c };
	int r;

	r = kapi_config_find(c->kubeconfig, &kc, &err);
	if (r < 0)
		log_error_errno(r, "%s", err ?: "Cannot load the API config: %m");
	if (r == 0)
		r = evloop_new(&loop);
	if (r == 0)
		r = evloop_signal_add(loop, SIGTERM, on_signal, loop, &sterm);
	if (r == 0)
		r = evloop_signal_add(loop, SIGINT, on_signal, loop, &sint);
	t.loop = loop;
	if (r == 0)
		r = typha_start(&t, kc);
	if (r == 0)
		r = evloop_run(loop);
	typha_stop(&t);
	return r;
}

static const char help_text[] =
	"typha-c: fans one watch per kind out to many felix-c (typha-c/README.md).\n"
	"Settings from the environment: TYPHA_CAFILE, TYPHA_SERVERCERTFILE,\n"
	"TYPHA_SERVERKEYFILE (required), TYPHA_CLIENTCN, TYPHA_SERVERHOST (0.0.0.0),\n"
	"TYPHA_SERVERPORT (5473), TYPHA_HEALTHHOST (0.0.0.0), TYPHA_HEALTHPORT (9098,\n"
	"0: off), TYPHA_SECRETSNAMESPACE (kube-system), TYPHA_MAXCLIENTQUEUEKIB (16384),\n"
	"TYPHA_MAXCONNECTIONSUPPERLIMIT (10000), TYPHA_PINGINTERVAL (10 s),\n"
	"TYPHA_LOGSEVERITYSCREEN (info), KUBECONFIG (else in-cluster).\n";

int main(int argc, char **argv)
{
	_cleanup_free_ char *err = NULL;
	struct typha_config c;
	int r;

	if (argc > 1) {
		bool help = strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0;

		fputs(help_text, help ? stdout : stderr);
		return help ? 0 : 2;
	}
	r = config_load(&c, &err);
	if (r < 0) {
		log_error_errno(r, "Invalid configuration: %s", err ? err : "%m");
		config_done(&c);
		return 1;
	}
	(void)log_setup(c.log_level, NULL, "typha-c");
	signal(SIGPIPE, SIG_IGN);
	r = run(&c);
	config_done(&c);
	log_close();
	return r < 0 ? 1 : 0;
}
