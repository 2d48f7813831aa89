/* Event loop on epoll. Model: every source sits on one of the loop's lists;
 * freeing a source during dispatch only unlinks it from epoll and parks it
 * on a graveyard list, so an event for it later in the same epoll batch is
 * recognised as dead and skipped; the graveyard is emptied after the batch.
 * Timers are few (retries, curl's one timeout, resyncs), so they live on a
 * plain list and the earliest deadline is found by a scan. Signals share
 * one signalfd whose mask is the union of the registered signals.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "evloop.h"

#define EVLOOP_BATCH 64

struct evloop_io {
	struct evloop *loop;
	int fd;			/* not owned */
	uint32_t events;	/* epoll mask */
	evloop_io_cb cb;
	void *userdata;
	bool dead;		/* freed during dispatch, awaiting release */
	struct evloop_io *next; /* on loop->ios or loop->graveyard */
};

struct evloop_timer {
	struct evloop *loop;
	uint64_t deadline_ms; /* CLOCK_MONOTONIC; valid when armed */
	bool armed;
	evloop_timer_cb cb;
	void *userdata;
	struct evloop_timer *next;
};

struct evloop_signal {
	struct evloop *loop;
	int signo;
	evloop_signal_cb cb;
	void *userdata;
	struct evloop_signal *next;
};

/* Owner: the program's main(). */
struct evloop {
	int epfd;
	struct evloop_io *ios, *graveyard;
	struct evloop_timer *timers;
	struct evloop_signal *signals;
	int sigfd;		     /* -1 until the first signal source */
	struct evloop_io *sigio;     /* watcher of sigfd */
	unsigned dispatching;	     /* >0 while io callbacks run */
	bool exiting;
	int exit_code;
};

uint64_t evloop_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int evloop_new(struct evloop **ret)
{
	struct evloop *l = calloc(1, sizeof(*l));

	if (!l)
		return -ENOMEM;
	l->sigfd = -1;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		int r = -errno;

		free(l);
		return r;
	}
	*ret = l;
	return 0;
}

static void release_graveyard(struct evloop *l)
{
	while (l->graveyard) {
		struct evloop_io *io = l->graveyard;

		l->graveyard = io->next;
		free(io);
	}
}

struct evloop *evloop_free(struct evloop *l)
{
	if (!l)
		return NULL;
	while (l->signals)
		evloop_signal_free(l->signals);
	while (l->ios)
		evloop_io_free(l->ios);
	while (l->timers)
		evloop_timer_free(l->timers);
	release_graveyard(l);
	safe_close(l->sigfd);
	safe_close(l->epfd);
	free(l);
	return NULL;
}

void evloop_exit(struct evloop *l, int code)
{
	l->exiting = true;
	l->exit_code = code;
}

bool evloop_is_exiting(const struct evloop *l)
{
	return l->exiting;
}

/* --- fd watchers ------------------------------------------------------------ */

int evloop_io_add(struct evloop *l, int fd, uint32_t events, evloop_io_cb cb, void *userdata,
		  struct evloop_io **ret)
{
	struct epoll_event ev = { .events = events };
	struct evloop_io *io;

	if (fd < 0 || !cb)
		return -EINVAL;
	io = calloc(1, sizeof(*io));
	if (!io)
		return -ENOMEM;
	*io = (struct evloop_io){ .loop = l, .fd = fd, .events = events, .cb = cb,
				  .userdata = userdata, .next = l->ios };
	ev.data.ptr = io;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int r = -errno;

		free(io);
		return r;
	}
	l->ios = io;
	*ret = io;
	return 0;
}

int evloop_io_set_events(struct evloop_io *io, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = io };

	if (io->events == events)
		return 0;
	if (epoll_ctl(io->loop->epfd, EPOLL_CTL_MOD, io->fd, &ev) < 0)
		return -errno;
	io->events = events;
	return 0;
}

struct evloop_io *evloop_io_free(struct evloop_io *io)
{
	struct evloop *l;

	if (!io)
		return NULL;
	l = io->loop;
	for (struct evloop_io **p = &l->ios; *p; p = &(*p)->next)
		if (*p == io) {
			*p = io->next;
			break;
		}
	/* the fd may already be closed: nothing to undo then */
	(void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, io->fd, NULL);
	if (l->dispatching) {
		io->dead = true;
		io->next = l->graveyard;
		l->graveyard = io;
	} else {
		free(io);
	}
	return NULL;
}

/* --- timers ----------------------------------------------------------------- */

int evloop_timer_add(struct evloop *l, evloop_timer_cb cb, void *userdata,
		     struct evloop_timer **ret)
{
	struct evloop_timer *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	*t = (struct evloop_timer){ .loop = l, .cb = cb, .userdata = userdata,
				    .next = l->timers };
	l->timers = t;
	*ret = t;
	return 0;
}

void evloop_timer_arm(struct evloop_timer *t, uint64_t delay_ms)
{
	t->deadline_ms = evloop_now_ms() + delay_ms;
	t->armed = true;
}

void evloop_timer_disarm(struct evloop_timer *t)
{
	t->armed = false;
}

bool evloop_timer_is_armed(const struct evloop_timer *t)
{
	return t->armed;
}

struct evloop_timer *evloop_timer_free(struct evloop_timer *t)
{
	if (!t)
		return NULL;
	for (struct evloop_timer **p = &t->loop->timers; *p; p = &(*p)->next)
		if (*p == t) {
			*p = t->next;
			break;
		}
	free(t);
	return NULL;
}

static struct evloop_timer *earliest_timer(const struct evloop *l)
{
	struct evloop_timer *best = NULL;

	for (struct evloop_timer *t = l->timers; t; t = t->next)
		if (t->armed && (!best || t->deadline_ms < best->deadline_ms))
			best = t;
	return best;
}

/* Runs expired timers, at most as many as there are timers, so a timer
 * that re-arms itself with 0 ms cannot starve the fds. */
static int run_timers(struct evloop *l)
{
	unsigned budget = 0;
	int n = 0;

	for (struct evloop_timer *t = l->timers; t; t = t->next)
		budget++;
	while (budget-- > 0 && !l->exiting) {
		struct evloop_timer *t = earliest_timer(l);

		if (!t || t->deadline_ms > evloop_now_ms())
			break;
		t->armed = false;
		t->cb(t, t->userdata);
		n++;
	}
	return n;
}

/* --- signals ---------------------------------------------------------------- */

static void on_signalfd(struct evloop_io *io, int fd, uint32_t revents, void *userdata)
{
	struct evloop *l = userdata;
	struct signalfd_siginfo si;

	(void)io;
	(void)revents;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		for (struct evloop_signal *s = l->signals; s; s = s->next)
			if (s->signo == (int)si.ssi_signo) {
				s->cb(s, &si, s->userdata);
				break;
			}
	}
}

/* Rebuilds the signalfd mask from the registered sources. */
static int update_sigfd(struct evloop *l)
{
	sigset_t mask;
	int fd, r;

	sigemptyset(&mask);
	for (struct evloop_signal *s = l->signals; s; s = s->next)
		sigaddset(&mask, s->signo);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return -errno;
	fd = signalfd(l->sigfd, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (l->sigfd >= 0)
		return 0;
	l->sigfd = fd;
	r = evloop_io_add(l, fd, EPOLLIN, on_signalfd, l, &l->sigio);
	if (r < 0)
		l->sigfd = safe_close(l->sigfd);
	return r;
}

int evloop_signal_add(struct evloop *l, int signo, evloop_signal_cb cb, void *userdata,
		      struct evloop_signal **ret)
{
	struct evloop_signal *s;
	int r;

	if (signo <= 0 || signo >= _NSIG || signo == SIGKILL || signo == SIGSTOP || !cb)
		return -EINVAL;
	for (s = l->signals; s; s = s->next)
		if (s->signo == signo)
			return -EEXIST;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	*s = (struct evloop_signal){ .loop = l, .signo = signo, .cb = cb, .userdata = userdata,
				     .next = l->signals };
	l->signals = s;
	r = update_sigfd(l);
	if (r < 0) {
		l->signals = s->next;
		free(s);
		return r;
	}
	*ret = s;
	return 0;
}

struct evloop_signal *evloop_signal_free(struct evloop_signal *s)
{
	struct evloop *l;

	if (!s)
		return NULL;
	l = s->loop;
	for (struct evloop_signal **p = &l->signals; *p; p = &(*p)->next)
		if (*p == s) {
			*p = s->next;
			break;
		}
	free(s);
	if (!l->signals) {
		l->sigio = evloop_io_free(l->sigio);
		l->sigfd = safe_close(l->sigfd);
	} else {
		(void)update_sigfd(l);
	}
	return NULL;
}

/* --- dispatch --------------------------------------------------------------- */

static int wait_timeout(const struct evloop *l, int timeout_ms)
{
	struct evloop_timer *t = earliest_timer(l);
	uint64_t now;
	int64_t d;

	if (!t)
		return timeout_ms;
	now = evloop_now_ms();
	d = t->deadline_ms > now ? (int64_t)(t->deadline_ms - now) : 0;
	if (d > INT32_MAX)
		d = INT32_MAX;
	return timeout_ms < 0 || d < timeout_ms ? (int)d : timeout_ms;
}

int evloop_run_once(struct evloop *l, int timeout_ms)
{
	struct epoll_event ev[EVLOOP_BATCH];
	int n, ran = 0;

	n = epoll_wait(l->epfd, ev, EVLOOP_BATCH, wait_timeout(l, timeout_ms));
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	l->dispatching++;
	for (int i = 0; i < n && !l->exiting; i++) {
		struct evloop_io *io = ev[i].data.ptr;

		if (io->dead)
			continue;
		io->cb(io, io->fd, ev[i].events, io->userdata);
		ran++;
	}
	l->dispatching--;
	release_graveyard(l);
	return ran + run_timers(l);
}

int evloop_run(struct evloop *l)
{
	l->exiting = false;
	while (!l->exiting) {
		int r = evloop_run_once(l, -1);

		if (r < 0)
			return r;
	}
	return l->exit_code;
}
