/* The event loop: fd readiness, timer order and re-arming, freeing sources
 * from inside callbacks (including one whose event is pending in the same
 * batch), signals through signalfd, and exit codes. Pipes only: no network. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cmocka.h>

#include "cleanup.h"
#include "evloop.h"


struct pipe_ctx {
	int fds[2];
	int reads;
	struct evloop_io *io;
	struct evloop_io *victim; /* freed by this callback, if set */
};

static void on_readable(struct evloop_io *io, int fd, uint32_t revents, void *userdata)
{
	struct pipe_ctx *p = userdata;
	char buf[16];

	(void)io;
	assert_true(revents & EPOLLIN);
	assert_true(read(fd, buf, sizeof(buf)) > 0);
	p->reads++;
	if (p->victim)
		p->victim = evloop_io_free(p->victim);
}

static void make_pipe(struct pipe_ctx *p)
{
	assert_int_equal(pipe2(p->fds, O_CLOEXEC | O_NONBLOCK), 0);
}

static void test_io_readiness(void **state)
{
	_cleanup_(evloop_freep) struct evloop *l = NULL;
	struct pipe_ctx p = {};

	(void)state;
	assert_int_equal(evloop_new(&l), 0);
	make_pipe(&p);
	assert_int_equal(evloop_io_add(l, p.fds[0], EPOLLIN, on_readable, &p, &p.io), 0);
	assert_int_equal(evloop_io_add(l, p.fds[0], EPOLLIN, on_readable, &p, &p.io), -EEXIST);
	assert_int_equal(evloop_run_once(l, 0), 0);
	assert_int_equal(write(p.fds[1], "x", 1), 1);
	assert_int_equal(evloop_run_once(l, 1000), 1);
	assert_int_equal(p.reads, 1);
	/* level-triggered: nothing left, nothing dispatched */
	assert_int_equal(evloop_run_once(l, 0), 0);
	/* watching for nothing: no dispatch even with data */
	assert_int_equal(evloop_io_set_events(p.io, 0), 0);
	assert_int_equal(write(p.fds[1], "y", 1), 1);
	assert_int_equal(evloop_run_once(l, 0), 0);
	assert_int_equal(evloop_io_set_events(p.io, EPOLLIN), 0);
	assert_int_equal(evloop_run_once(l, 0), 1);
	p.io = evloop_io_free(p.io);
	close(p.fds[0]);
	close(p.fds[1]);
}

/* Two watchers ready in one batch; whichever runs first frees the other,
 * which must then not run (ASan would catch a use after free). */
static void test_free_other_source_in_same_batch(void **state)
{
	_cleanup_(evloop_freep) struct evloop *l = NULL;
	struct pipe_ctx a = {}, b = {};

	(void)state;
	assert_int_equal(evloop_new(&l), 0);
	make_pipe(&a);
	make_pipe(&b);
	assert_int_equal(evloop_io_add(l, a.fds[0], EPOLLIN, on_readable, &a, &a.io), 0);
	assert_int_equal(evloop_io_add(l, b.fds[0], EPOLLIN, on_readable, &b, &b.io), 0);
	a.victim = b.io;
	b.victim = a.io;
	assert_int_equal(write(a.fds[1], "x", 1), 1);
	assert_int_equal(write(b.fds[1], "x", 1), 1);
	assert_int_equal(evloop_run_once(l, 1000), 1);
	assert_int_equal(a.reads + b.reads, 1);
	/* the survivor is still watched */
	if (a.reads) {
		a.victim = NULL;
		assert_int_equal(write(a.fds[1], "x", 1), 1);
		assert_int_equal(evloop_run_once(l, 1000), 1);
		assert_int_equal(a.reads, 2);
		a.io = evloop_io_free(a.io);
	} else {
		b.victim = NULL;
		assert_int_equal(write(b.fds[1], "x", 1), 1);
		assert_int_equal(evloop_run_once(l, 1000), 1);
		assert_int_equal(b.reads, 2);
		b.io = evloop_io_free(b.io);
	}
	for (int i = 0; i < 2; i++) {
		close(a.fds[i]);
		close(b.fds[i]);
	}
}

struct timer_log {
	char order[16];
	int n;
	struct evloop_timer *self_free; /* freed from inside its own callback */
	int rearm;			/* times to re-arm with 0 ms */
};

static void on_timer_a(struct evloop_timer *t, void *userdata)
{
	struct timer_log *log = userdata;

	(void)t;
	log->order[log->n++] = 'a';
}

static void on_timer_b(struct evloop_timer *t, void *userdata)
{
	struct timer_log *log = userdata;

	log->order[log->n++] = 'b';
	if (log->self_free == t)
		log->self_free = evloop_timer_free(t);
}

static void on_timer_rearm(struct evloop_timer *t, void *userdata)
{
	struct timer_log *log = userdata;

	log->order[log->n++] = 'r';
	if (log->rearm-- > 0)
		evloop_timer_arm(t, 0);
}

static void test_timers_fire_in_deadline_order(void **state)
{
	_cleanup_(evloop_freep) struct evloop *l = NULL;
	struct evloop_timer *a = NULL, *b = NULL, *c = NULL;
	struct timer_log log = {};
	uint64_t t0 = evloop_now_ms();

	(void)state;
	assert_int_equal(evloop_new(&l), 0);
	assert_int_equal(evloop_timer_add(l, on_timer_a, &log, &a), 0);
	assert_int_equal(evloop_timer_add(l, on_timer_b, &log, &b), 0);
	assert_int_equal(evloop_timer_add(l, on_timer_a, &log, &c), 0);
	assert_false(evloop_timer_is_armed(a));
	evloop_timer_arm(a, 30);
	evloop_timer_arm(b, 10);
	evloop_timer_arm(c, 20);
	evloop_timer_disarm(c);
	log.self_free = b;
	while (log.n < 2)
		assert_true(evloop_run_once(l, 1000) >= 0);
	assert_memory_equal(log.order, "ba", 2);
	assert_null(log.self_free); /* b freed itself */
	assert_true(evloop_now_ms() - t0 >= 30);
	assert_false(evloop_timer_is_armed(a));
	assert_int_equal(evloop_run_once(l, 0), 0); /* c stayed disarmed */
	evloop_timer_free(a);
	evloop_timer_free(c);
}

static void test_rearming_timer_does_not_starve(void **state)
{
	_cleanup_(evloop_freep) struct evloop *l = NULL;
	struct evloop_timer *t = NULL;
	struct timer_log log = { .rearm = 5 };

	(void)state;
	assert_int_equal(evloop_new(&l), 0);
	assert_int_equal(evloop_timer_add(l, on_timer_rearm, &log, &t), 0);
	evloop_timer_arm(t, 0);
	/* one timer: at most one run per iteration */
	assert_int_equal(evloop_run_once(l, 0), 1);
	assert_int_equal(evloop_run_once(l, 0), 1);
	assert_int_equal(log.n, 2);
	evloop_timer_free(t);
}

struct sig_ctx {
	struct evloop *loop;
	int signo; /* last signal seen */
};

static void on_sigusr1(struct evloop_signal *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct sig_ctx *c = userdata;

	(void)s;
	c->signo = (int)si->ssi_signo;
	evloop_exit(c->loop, 42);
}

static void test_signal_and_exit_code(void **state)
{
	_cleanup_(evloop_freep) struct evloop *l = NULL;
	struct evloop_signal *s = NULL, *dup = NULL;
	struct sig_ctx c = {};

	(void)state;
	assert_int_equal(evloop_new(&l), 0);
	c.loop = l;
	assert_int_equal(evloop_signal_add(l, SIGKILL, on_sigusr1, &c, &s), -EINVAL);
	assert_int_equal(evloop_signal_add(l, SIGUSR1, on_sigusr1, &c, &s), 0);
	assert_int_equal(evloop_signal_add(l, SIGUSR1, on_sigusr1, &c, &dup), -EEXIST);
	assert_int_equal(raise(SIGUSR1), 0);
	assert_int_equal(evloop_run(l), 42);
	assert_int_equal(c.signo, SIGUSR1);
	assert_true(evloop_is_exiting(l));
	s = evloop_signal_free(s);
}

static void test_free_with_leftover_sources(void **state)
{
	struct evloop *l = NULL;
	struct evloop_timer *t = NULL;
	struct evloop_io *io = NULL;
	struct pipe_ctx p = {};

	(void)state;
	assert_int_equal(evloop_new(&l), 0);
	make_pipe(&p);
	assert_int_equal(evloop_timer_add(l, on_timer_a, NULL, &t), 0);
	assert_int_equal(evloop_io_add(l, p.fds[0], EPOLLIN, on_readable, &p, &io), 0);
	assert_null(evloop_free(l)); /* LSan: nothing leaks */
	assert_null(evloop_free(NULL));
	close(p.fds[0]);
	close(p.fds[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_io_readiness),
		cmocka_unit_test(test_free_other_source_in_same_batch),
		cmocka_unit_test(test_timers_fire_in_deadline_order),
		cmocka_unit_test(test_rearming_timer_does_not_starve),
		cmocka_unit_test(test_signal_and_exit_code),
		cmocka_unit_test(test_free_with_leftover_sources),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
