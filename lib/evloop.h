/* A small single-threaded event loop: fd watchers on epoll, monotonic
 * timers, and signals through a signalfd. felix-c runs everything on one
 * loop (API watches through libcurl's multi interface, its HTTP health
 * server, netlink sockets); nothing here blocks except epoll_wait().
 *
 * Sources are owned by whoever added them and freed with their _free()
 * (allowed from inside any callback, including their own). Free every
 * source before the loop; evloop_free() releases leftovers, after which
 * their pointers are dangling.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "cleanup.h"

struct evloop;
struct evloop_io;
struct evloop_timer;
struct evloop_signal;
struct signalfd_siginfo;

typedef void (*evloop_io_cb)(struct evloop_io *io, int fd, uint32_t revents, void *userdata);
typedef void (*evloop_timer_cb)(struct evloop_timer *t, void *userdata);
typedef void (*evloop_signal_cb)(struct evloop_signal *s, const struct signalfd_siginfo *si,
				 void *userdata);

/**
 * evloop_new - create a loop
 * @ret: the loop
 *
 * Return: 0, or -errno from epoll_create1().
 */
int evloop_new(struct evloop **ret);
struct evloop *evloop_free(struct evloop *l);
DEFINE_CLEANUP_FUNC(struct evloop, evloop_free);

/**
 * evloop_run - dispatch until evloop_exit()
 * @l: loop
 *
 * Return: the code given to evloop_exit(), or -errno if epoll fails.
 */
int evloop_run(struct evloop *l);

/**
 * evloop_run_once - wait at most @timeout_ms (-1: until the next timer or
 *   event) and dispatch what is ready
 * @l: loop
 * @timeout_ms: upper bound on the wait
 *
 * Return: number of callbacks run, or -errno.
 */
int evloop_run_once(struct evloop *l, int timeout_ms);
void evloop_exit(struct evloop *l, int code);
bool evloop_is_exiting(const struct evloop *l);
/* CLOCK_MONOTONIC in milliseconds. */
uint64_t evloop_now_ms(void);

/**
 * evloop_io_add - watch @fd (not owned) for @events (EPOLLIN, EPOLLOUT, ...)
 * @l: loop
 * @fd: file descriptor
 * @events: epoll event mask (level-triggered)
 * @cb: called with the ready events
 * @userdata: passed to @cb
 * @ret: the watcher
 *
 * Return: 0, -EEXIST if @fd is already watched, -ENOMEM, -errno of epoll_ctl().
 */
int evloop_io_add(struct evloop *l, int fd, uint32_t events, evloop_io_cb cb, void *userdata,
		  struct evloop_io **ret);
int evloop_io_set_events(struct evloop_io *io, uint32_t events);
struct evloop_io *evloop_io_free(struct evloop_io *io);

/**
 * evloop_timer_add - create a disarmed one-shot timer
 * @l: loop
 * @cb: called once per arming when the deadline passes
 * @userdata: passed to @cb
 * @ret: the timer
 *
 * Return: 0 or -ENOMEM.
 */
int evloop_timer_add(struct evloop *l, evloop_timer_cb cb, void *userdata,
		     struct evloop_timer **ret);
/* (Re)arms to fire @delay_ms from now. */
void evloop_timer_arm(struct evloop_timer *t, uint64_t delay_ms);
void evloop_timer_disarm(struct evloop_timer *t);
bool evloop_timer_is_armed(const struct evloop_timer *t);
struct evloop_timer *evloop_timer_free(struct evloop_timer *t);
DEFINE_CLEANUP_FUNC(struct evloop_timer, evloop_timer_free);

/**
 * evloop_signal_add - deliver @signo through the loop (blocks it for the
 *   process; the mask is not restored when the source is freed)
 * @l: loop
 * @signo: signal number
 * @cb: called for each delivery
 * @userdata: passed to @cb
 * @ret: the source
 *
 * Return: 0, -EINVAL, -EEXIST if @signo already has a source, -errno.
 */
int evloop_signal_add(struct evloop *l, int signo, evloop_signal_cb cb, void *userdata,
		      struct evloop_signal **ret);
struct evloop_signal *evloop_signal_free(struct evloop_signal *s);
DEFINE_CLEANUP_FUNC(struct evloop_signal, evloop_signal_free);
