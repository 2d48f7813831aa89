/* The BIRD manager (see birdmgr.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bird-config/birdcfg.h"
#include "bird-config/birdctl.h"
#include "cleanup.h"
#include "evloop.h"
#include "felix-c/bgpready.h"
#include "felix-c/birdmgr.h"
#include "felix-c/birdproc.h"
#include "felix-c/config.h"
#include "log.h"

struct birdmgr {
	struct felix_manager mgr;		/* first: the interface */
	const struct felix_config *cfg;		/* borrowed */
	const struct birdmgr_io *io;		/* borrowed */
	void (*kick)(void *userdata);
	void *userdata;
	struct evloop_timer *status_timer;	/* NULL without a loop */

	const struct felix_desired *d;		/* borrowed until the next update */
	bool dirty;				/* render again at the next apply */
	uint64_t gens[_FELIX_OBJS_MAX];		/* objects last rendered from */
	struct in_prefix *blocks, *borrowed;	/* last rendered from, owned */
	size_t n_blocks, n_borrowed;

	char *text;				/* last text BIRD accepted */
	char *skipped;				/* last objects the render skipped */
	bool reload_pending;			/* file written, BIRD not told yet */
	bool no_address;			/* logged "waiting for address" */
	bool up;				/* control socket answers */
	bool gr;				/* in graceful-restart recovery */
	bool status_fresh;			/* read since BIRD last (re)loaded */
	uint64_t start_ms;			/* felix-c's start: BirdReadyThreshold */
	struct birdctl_status status;
};

/* ---- the real seam ---- */

static int io_apply(const struct felix_config *c, const char *text, bool *ret_changed,
		    char **ret_error)
{
	return birdcfg_apply(c->bird_config, text, c->bird_binary, c->bird_socket, ret_changed,
			     ret_error);
}

static bool io_running(const struct felix_config *c)
{
	return birdproc_running(c->bird_pidfile, c->bird_binary, c->bird_socket) > 0;
}

static pid_t io_start(const struct felix_config *c)
{
	return birdproc_start(c->bird_binary, c->bird_config, c->bird_socket, c->bird_pidfile);
}

static int io_command(const struct felix_config *c, const char *cmd, char **ret_reply)
{
	return birdctl_command(c->bird_socket, cmd, ret_reply);
}

static int io_show(const struct felix_config *c, struct birdctl_status *ret)
{
	return birdctl_show_protocols(c->bird_socket, ret);
}

const struct birdmgr_io birdmgr_io_bird = {
	.apply_config = io_apply,
	.running = io_running,
	.start = io_start,
	.command = io_command,
	.show_protocols = io_show,
};

/* ---- render ---- */

/* The objects of @o, without the invalid ones, as an array. */
static json_t *objs_array(const struct felix_objs *o)
{
	json_t *arr = json_array(), *obj;
	const char *key;

	json_object_foreach((json_t *)o->cache, key, obj)
		if (!json_object_get(o->invalid, key))
			json_array_append(arr, obj);
	return arr;
}

/* Bad objects (a BGPPeer with a bad peerIP...) are skipped; warn once per
 * change of that list, not on every render. */
static void note_skipped(struct birdmgr *m, const struct birdcfg_errors *errs)
{
	_cleanup_free_ char *skipped = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&skipped, &len);

	for (size_t i = 0; f && i < errs->n; i++)
		fprintf(f, "%s\n", errs->msgs[i]);
	if (f)
		fclose(f);
	if (skipped && strcmp(skipped, m->skipped ?: "") != 0) {
		for (size_t i = 0; i < errs->n; i++)
			log_warning("BIRD config: skipped %s", errs->msgs[i]);
		free(m->skipped);
		m->skipped = TAKE_PTR(skipped);
	}
}

static int render(struct birdmgr *m, char **ret_text)
{
	const struct felix_desired *d = m->d;
	struct birdcfg_input in = {
		.node = m->cfg->nodename,
		.nodes = objs_array(&d->objs[FELIX_OBJS_NODES]),
		.bgpconfigurations = objs_array(&d->objs[FELIX_OBJS_BGPCONFIGS]),
		.bgppeers = objs_array(&d->objs[FELIX_OBJS_BGPPEERS]),
		.bgpfilters = objs_array(&d->objs[FELIX_OBJS_BGPFILTERS]),
		.services = objs_array(&d->objs[FELIX_OBJS_SERVICES]),
		.endpointslices = objs_array(&d->objs[FELIX_OBJS_ENDPOINTSLICES]),
		.secrets = objs_array(&d->objs[FELIX_OBJS_SECRETS]),
		.ippools = objs_array(&d->objs[FELIX_OBJS_IPPOOLS]),
		.blocks = d->blocks,
		.n_blocks = d->n_blocks,
		.borrowed = d->borrowed,
		.n_borrowed = d->n_borrowed,
		.connect_retry_s = m->cfg->bird_connect_retry_s,
		.router_id = m->cfg->router_id,
	};
	struct birdcfg_errors errs = {};
	int r;

	r = birdcfg_render(&in, ret_text, &errs);
	note_skipped(m, &errs);
	birdcfg_errors_done(&errs);
	json_decref(in.nodes);
	json_decref(in.bgpconfigurations);
	json_decref(in.bgppeers);
	json_decref(in.bgpfilters);
	json_decref(in.services);
	json_decref(in.endpointslices);
	json_decref(in.secrets);
	json_decref(in.ippools);
	return r;
}

static bool same_prefixes(const struct in_prefix *a, size_t na, const struct in_prefix *b,
			  size_t nb)
{
	return na == nb && (na == 0 || memcmp(a, b, na * sizeof(*a)) == 0);
}

static int copy_prefixes(const struct in_prefix *v, size_t n, struct in_prefix **ret)
{
	struct in_prefix *c = malloc((n ?: 1) * sizeof(*c));

	if (!c)
		return -ENOMEM;
	if (n)
		memcpy(c, v, n * sizeof(*c));
	free(*ret);
	*ret = c;
	return 0;
}

/* Remembers what the text was rendered from. */
static int remember_inputs(struct birdmgr *m)
{
	const struct felix_desired *d = m->d;
	int r;

	r = copy_prefixes(d->blocks, d->n_blocks, &m->blocks);
	if (r == 0)
		r = copy_prefixes(d->borrowed, d->n_borrowed, &m->borrowed);
	if (r < 0)
		return r;
	m->n_blocks = d->n_blocks;
	m->n_borrowed = d->n_borrowed;
	for (int i = 0; i < _FELIX_OBJS_MAX; i++)
		m->gens[i] = d->objs[i].gen;
	return 0;
}

static void birdmgr_update(struct felix_manager *mgr, const struct felix_desired *d)
{
	struct birdmgr *m = (struct birdmgr *)mgr;

	m->d = d;
	for (int i = 0; i < _FELIX_OBJS_MAX; i++)
		m->dirty |= d->objs[i].gen != m->gens[i];
	m->dirty |= !same_prefixes(d->blocks, d->n_blocks, m->blocks, m->n_blocks) ||
		    !same_prefixes(d->borrowed, d->n_borrowed, m->borrowed, m->n_borrowed);
}

/* ---- apply ---- */

static int ensure_running(struct birdmgr *m)
{
	const struct felix_config *c = m->cfg;
	pid_t pid;

	if (!c->bird_start || m->io->running(c))
		return 0;
	pid = m->io->start(c);
	if (pid < 0)
		return log_error_errno(pid, "Failed to start BIRD '%s' with '%s': %m",
				       c->bird_binary, c->bird_config);
	log_info("Started BIRD, pid %d (pid file '%s')", (int)pid, c->bird_pidfile);
	m->reload_pending = false; /* it read the current file */
	return 0;
}

static bool bird_down(const struct birdmgr *m)
{
	return m->cfg->bird_start && !m->io->running(m->cfg);
}

/* The file is current; BIRD is down (or died) or missed a reload. */
static int catch_up(struct birdmgr *m)
{
	int r;

	m->reload_pending = true;
	r = ensure_running(m);
	if (r == 0 && m->reload_pending)
		r = m->io->command(m->cfg, "configure", NULL);
	if (r < 0)
		return log_warning_errno(r, "BIRD not reachable at '%s' (will retry): %m",
					 m->cfg->bird_socket);
	m->reload_pending = false;
	return 0;
}

static int install(struct birdmgr *m, char *text)
{
	const struct felix_config *c = m->cfg;
	_cleanup_free_ char *msg = NULL;
	bool changed = false, reloaded = false;
	int r;

	r = m->io->apply_config(c, text, &changed, &msg);
	if (r == -EINVAL)
		return log_error_errno(r, "BIRD rejected the rendered config: %s", msg ? msg : "");
	if (r < 0 && r != -ENOENT && r != -ECONNREFUSED)
		return log_error_errno(r, "Failed to install the BIRD config '%s': %m",
				       c->bird_config);
	if (r < 0 || (!changed && m->reload_pending) || bird_down(m)) {
		r = catch_up(m);
		if (r < 0)
			return r;
		reloaded = true;
	}
	if ((changed || reloaded)) { /* readiness waits for a status of the new peers */
		m->status_fresh = false;
		if (m->status_timer)
			evloop_timer_arm(m->status_timer, 0);
	}
	if (changed)
		log_info("BIRD config '%s' updated and reloaded", c->bird_config);
	return 0;
}

static int birdmgr_apply(struct felix_manager *mgr)
{
	struct birdmgr *m = (struct birdmgr *)mgr;
	_cleanup_free_ char *text = NULL;
	int r;

	if (!m->d)
		return 0;
	if (!m->dirty && m->text && !m->reload_pending && !bird_down(m))
		return 0;
	r = render(m, &text);
	if (r == -ENOENT) {
		if (!m->no_address)
			log_info("BIRD config waits for Node '%s' to carry its IPv4 address",
				 m->cfg->nodename);
		m->no_address = true;
		return -EAGAIN;
	}
	if (r < 0)
		return log_error_errno(r, "Failed to render the BIRD config: %m");
	m->no_address = false;
	if (!m->text || strcmp(m->text, text) != 0 || m->reload_pending || bird_down(m)) {
		r = install(m, text);
		if (r < 0)
			return r;
		free(m->text);
		m->text = TAKE_PTR(text);
	}
	r = remember_inputs(m);
	if (r == 0)
		m->dirty = false;
	return r;
}

static void birdmgr_resync(struct felix_manager *mgr)
{
	((struct birdmgr *)mgr)->dirty = true;
}

/* ---- status ---- */

/* Within BirdReadyThreshold of felix-c's start (felix-c/bgpready.h). */
static bool in_threshold(const struct birdmgr *m)
{
	return evloop_now_ms() - m->start_ms < m->cfg->bird_ready_threshold_ms;
}

/* BGP sessions as Calico's bird-ready wants them (felix-c/bgpready.h). */
static bool bgp_ready(const struct birdmgr *m, struct metrics_buf *why)
{
	if (!m->status_fresh) {
		if (why)
			metrics_printf(why, "BGP sessions not read since BIRD's config was loaded\n");
		return false;
	}
	return bgpready_check(&m->status, m->gr, in_threshold(m), why);
}

void birdmgr_poll_status(struct felix_manager *mgr)
{
	struct birdmgr *m = (struct birdmgr *)mgr;
	struct birdctl_status st = {};
	_cleanup_free_ char *status = NULL;
	bool was = m->up;

	m->up = m->io->show_protocols(m->cfg, &st) == 0 &&
		m->io->command(m->cfg, "show status", &status) >= 0;
	birdctl_status_done(&m->status);
	m->status = st;
	m->gr = bgpready_gr_recovery(status);
	m->status_fresh = m->up;
	if (was != m->up)
		log_info("BIRD control socket '%s' %s", m->cfg->bird_socket,
			 m->up ? "answers" : "does not answer");
	if (!m->up && m->cfg->bird_start && m->kick)
		m->kick(m->userdata); /* restarts BIRD if it died */
}

static void on_status_timer(struct evloop_timer *t, void *userdata)
{
	struct birdmgr *m = userdata;

	birdmgr_poll_status(&m->mgr);
	/* Quick while BIRD or, after a start, its sessions come up, so that
	 * readiness follows them. */
	evloop_timer_arm(t, !m->up || (!bgp_ready(m, NULL) && in_threshold(m)) ? 250 : 2000);
}

bool birdmgr_is_ready(const struct felix_manager *mgr, struct metrics_buf *why)
{
	const struct birdmgr *m = (const struct birdmgr *)mgr;
	bool ok = true;

	if (!m->up) {
		metrics_printf(why, "BIRD control socket does not answer\n");
		ok = false;
	}
	if (!m->text || m->reload_pending) {
		metrics_printf(why, "BIRD config not loaded\n");
		ok = false;
	}
	if (m->up && !bgp_ready(m, why))
		ok = false;
	return ok;
}

static void birdmgr_write_metrics(const struct felix_manager *mgr, struct metrics_buf *b)
{
	static const char *const states[] = { "Established", "Active", "Connect", "Idle",
					      "OpenSent", "OpenConfirm", "other" };
	const struct birdmgr *m = (const struct birdmgr *)mgr;
	unsigned counts[ELEMENTSOF(states)] = {};

	for (size_t i = 0; i < m->status.n; i++) {
		const struct birdctl_proto *p = &m->status.protos[i];
		size_t k;

		if (strcmp(p->proto, "BGP") != 0)
			continue;
		for (k = 0; k + 1 < ELEMENTSOF(states) && strcmp(p->info, states[k]) != 0; k++)
			;
		counts[k]++;
	}
	metrics_header(b, "felix_c_bird_up", "gauge", "1 when BIRD's control socket answers.");
	metrics_sample(b, "felix_c_bird_up", NULL, 0, m->up);
	metrics_header(b, "felix_c_bgp_peers", "gauge", "BGP sessions by state.");
	for (size_t k = 0; k < ELEMENTSOF(states); k++) {
		const char *l[2] = { "state", states[k] };
		metrics_sample(b, "felix_c_bgp_peers", l, 1, counts[k]);
	}
}

static struct felix_manager *birdmgr_free(struct felix_manager *mgr)
{
	struct birdmgr *m = (struct birdmgr *)mgr;

	evloop_timer_free(m->status_timer);
	birdctl_status_done(&m->status);
	free(m->blocks);
	free(m->borrowed);
	free(m->text);
	free(m->skipped);
	free(m);
	return NULL;
}

static const struct felix_manager_ops birdmgr_ops = {
	.name = "bird",
	.hist_name = "felix_c_bird_apply_seconds",
	.hist_help = "BIRD reconcile duration.",
	.optional = true,
	.update = birdmgr_update,
	.apply = birdmgr_apply,
	.resync = birdmgr_resync,
	.write_metrics = birdmgr_write_metrics,
	.free = birdmgr_free,
};

int birdmgr_new(const struct felix_config *cfg, const struct birdmgr_io *io, struct evloop *loop,
		void (*kick)(void *userdata), void *userdata, struct felix_manager **ret)
{
	struct birdmgr *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	m->mgr.ops = &birdmgr_ops;
	m->cfg = cfg;
	m->io = io;
	m->kick = kick;
	m->userdata = userdata;
	m->dirty = true;
	m->start_ms = evloop_now_ms();
	if (loop) {
		if (evloop_timer_add(loop, on_status_timer, m, &m->status_timer) < 0) {
			free(m);
			return -ENOMEM;
		}
		evloop_timer_arm(m->status_timer, 100);
	}
	*ret = &m->mgr;
	return 0;
}
