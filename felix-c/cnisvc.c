/* felix-c's CNI service (see cnisvc.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cleanup.h"
#include "cnipod.h"
#include "cnisock.h"
#include "felix-c/cnisvc.h"
#include "felix-c/config.h"
#include "fileio.h"
#include "ipam/cnicmd.h"
#include "ipam/ipam.h"
#include "kapi.h"
#include "log.h"

/* The plugins' own limits for one request (cni-plugin/k8s.c). */
#define REQUEST_MS 5000
#define CONNECT_MS 2000
/* Exchanges served at once: calico-c reads its pod while calico-c-ipam
 * allocates, so one ADD has two in flight. */
#define WORKERS 2

struct felix_cnisvc;

/* A thread taking connections off the shared listening socket, with its
 * own API client and IPAM state. */
struct worker {
	struct felix_cnisvc *svc;
	struct kapi *k;
	struct ipam *ipam;
	pthread_t thread;
	bool running;
};

struct felix_cnisvc {
	const struct felix_config *cfg; /* borrowed */
	struct worker workers[WORKERS];
	int listen_fd;
	int stop_pipe[2];
	pthread_mutex_t lock; /* guards stats */
	struct felix_cnisvc_stats stats;
};

static void count(struct felix_cnisvc *s, unsigned long *field)
{
	pthread_mutex_lock(&s->lock);
	(*field)++;
	pthread_mutex_unlock(&s->lock);
}

/* A whole calico-c-ipam call: its CNI_* and stdin in, its stdout and exit
 * status out. */
static json_t *serve_ipam(struct worker *w, const json_t *req)
{
	struct felix_cnisvc *s = w->svc;
	const json_t *in = json_object_get(req, "stdin");
	struct ipam_cni_opts o = { .k = w->k, .ipam = w->ipam, .node = s->cfg->nodename,
				   .lock_path = s->cfg->cni_ipam_lock };
	_cleanup_free_ char *buf = NULL;
	struct cni_error err = {};
	struct cni_env env;
	size_t len = 0;
	FILE *out;
	json_t *a;
	int rc;

	if (!json_is_string(in)) {
		count(s, &s->stats.bad_requests);
		cni_error_set(&err, CNI_ERR_DECODE, -EINVAL, "ipam: no 'stdin'");
		return cni_error_to_json(&err, NULL);
	}
	if (cni_env_from_json(json_object_get(req, "env"), &env, &err) < 0) {
		count(s, &s->stats.bad_requests);
		return cni_error_to_json(&err, NULL);
	}
	out = open_memstream(&buf, &len);
	if (!out) {
		cni_env_done(&env);
		return NULL;
	}
	rc = ipam_cni_run(&env, json_string_value(in), json_string_length(in), &o, out);
	fclose(out);
	cni_env_done(&env);
	count(s, &s->stats.ipam_calls);
	if (rc)
		count(s, &s->stats.ipam_failed);
	a = json_pack("{si si ss%}", "code", 0, "exit", rc, "stdout", buf ? buf : "", len);
	return a;
}

static void serve_one(struct worker *w, int fd)
{
	struct felix_cnisvc *s = w->svc;
	_cleanup_(json_decrefp) json_t *req = NULL, *answer = NULL;
	struct cni_error err = {};
	const char *op;
	int r;

	r = cnisock_read_request(fd, &req);
	if (r == -ENODATA)
		return; /* a plugin checking that we are here */
	if (r >= 0)
		r = cnisock_check_peer(fd, &err);
	if (r < 0) {
		count(s, &s->stats.bad_requests);
		if (!err.code)
			cni_error_set(&err, CNI_ERR_DECODE, r, "unreadable request: %s", strerror(-r));
		log_warning("CNI service: refused a request: %s", err.msg);
		answer = cni_error_to_json(&err, NULL);
	} else if ((op = json_string_value(json_object_get(req, "op"))) && !strcmp(op, "ipam")) {
		answer = serve_ipam(w, req);
	} else {
		answer = cnipod_serve(w->k, s->cfg->nodename, req);
		count(s, &s->stats.pod_calls);
		if (json_integer_value(json_object_get(answer, "code")))
			count(s, &s->stats.pod_failed);
	}
	if (!answer) {
		log_error("CNI service: out of memory answering a request");
		return; /* the plugin sees the close and fails with "try again" */
	}
	r = cnisock_write_answer(fd, answer);
	if (r < 0)
		log_warning_errno(r, "CNI service: cannot answer a plugin: %m");
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct felix_cnisvc *s = w->svc;

	for (;;) {
		struct pollfd p[2] = { { .fd = s->listen_fd, .events = POLLIN },
				       { .fd = s->stop_pipe[0], .events = POLLIN } };
		int fd;

		if (poll(p, 2, -1) < 0 && errno != EINTR) {
			log_error_errno(-errno, "CNI service: poll failed, stopping: %m");
			break;
		}
		if (p[1].revents)
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue; /* EAGAIN (another wakeup took it), ECONNABORTED */
		serve_one(w, fd);
		close(fd);
	}
	return NULL;
}

struct felix_cnisvc *felix_cnisvc_stop(struct felix_cnisvc *s)
{
	if (!s)
		return NULL;
	/* The pipe stays readable: every worker sees it. */
	if (s->stop_pipe[1] >= 0)
		(void)!write(s->stop_pipe[1], "x", 1);
	for (int i = 0; i < WORKERS; i++) {
		if (s->workers[i].running)
			pthread_join(s->workers[i].thread, NULL);
		ipam_free(s->workers[i].ipam);
		kapi_free(s->workers[i].k);
	}
	if (s->listen_fd >= 0) {
		close(s->listen_fd);
		(void)unlink(s->cfg->cni_socket);
	}
	safe_close(s->stop_pipe[0]);
	safe_close(s->stop_pipe[1]);
	pthread_mutex_destroy(&s->lock);
	free(s);
	return NULL;
}

int felix_cnisvc_start(const struct felix_config *c, const struct kapi_config *kc,
		       const struct kapi_reader *reader, struct felix_cnisvc **ret)
{
	struct felix_cnisvc *s;
	int r;

	*ret = NULL;
	if (!c->cni_socket || !*c->cni_socket)
		return 0;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	*s = (struct felix_cnisvc){ .cfg = c, .listen_fd = -1, .stop_pipe = { -1, -1 } };
	pthread_mutex_init(&s->lock, NULL);
	r = mkdir_parent(c->cni_socket, 0755);
	if (r >= 0 && (r = cnisock_listen(c->cni_socket)) >= 0) {
		s->listen_fd = r;
		r = 0;
	}
	if (r >= 0 && pipe2(s->stop_pipe, O_CLOEXEC) < 0)
		r = -errno;
	for (int i = 0; r >= 0 && i < WORKERS; i++) {
		struct worker *w = &s->workers[i];

		w->svc = s;
		r = kapi_new(kc, &w->k);
		if (r >= 0) {
			kapi_set_timeouts(w->k, REQUEST_MS, CONNECT_MS);
			kapi_set_reader(w->k, reader);
			r = ipam_new(w->k, &w->ipam);
		}
		if (r >= 0 && (r = -pthread_create(&w->thread, NULL, worker_main, w)) >= 0)
			w->running = true;
	}
	if (r < 0) {
		felix_cnisvc_stop(s);
		return r;
	}
	log_info("CNI service listening on '%s'", c->cni_socket);
	*ret = s;
	return 0;
}

void felix_cnisvc_stats(struct felix_cnisvc *s, struct felix_cnisvc_stats *ret)
{
	pthread_mutex_lock(&s->lock);
	*ret = s->stats;
	pthread_mutex_unlock(&s->lock);
}
