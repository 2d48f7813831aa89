/* felix-c: the calico-c node agent.
 *
 *   felix-c [--config FILE]
 *
 * Settings come from FILE (or FELIX_CONFIGFILE) and FELIX_* environment
 * variables (felix-c/config.h). SIGTERM/SIGINT exit cleanly and leave the
 * dataplane (routes, nftables table, BIRD) in place. Every symbol here is
 * static: the felix-c archive also holds this file for the unit tests.
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>

#include "cleanup.h"
#include "evloop.h"
#include "felix-c/agent.h"
#include "felix-c/config.h"
#include "fileio.h"
#include "kapi.h"
#include "log.h"

extern char **environ;

static const char help_text[] =
	"Settings: FILE (Key = Value) and FELIX_<KEY> variables, see README.\n"
	"Hollow = true (FELIX_HOLLOW=true), for scale tests only: watch, model, desired\n"
	"state, policy compile, plans and BIRD render run as on a real node, but no\n"
	"route, nftables batch or BIRD config is written, BIRD is never started or\n"
	"reloaded (routes are kept in memory, the nftables tables read back empty and\n"
	"every batch is dropped, BIRD reports no peers); see felix-c/hollow.h.\n"
	"TyphaAddr = IPv4:port (FELIX_TYPHAADDR) with TyphaCAFile, TyphaCertFile,\n"
	"TyphaKeyFile, TyphaCN: sync through typha-c (mutual TLS) instead of one watch per\n"
	"kind; the apiserver directly while typha-c is unreachable (TyphaReadTimeout,\n"
	"TyphaReconnectInterval); see felix-c/typhaclient.h.\n";

static void on_signal(struct evloop_signal *s, const struct signalfd_siginfo *si, void *userdata)
{
	(void)s;
	log_info("Received signal %u: exiting, dataplane left in place", si->ssi_signo);
	evloop_exit(userdata, 0);
}

static int load_kubeconfig(const struct felix_config *c, struct kapi_config **ret)
{
	_cleanup_free_ char *err = NULL;
	int r = kapi_config_find(c->kubeconfig, ret, &err);

	return r < 0 ? log_error_errno(r, "%s", err ?: "Cannot load the API config: %m") : 0;
}

/* The state dir holds BIRD's config (BGP passwords) and its control socket
 * (any client may reconfigure BIRD): only root may look in. */
static int state_dir_prepare(const struct felix_config *c)
{
	int r = dir_make_private(c->state_dir);

	if (r < 0)
		return log_error_errno(r, "Cannot make the state dir '%s' private (0700): %m",
				       c->state_dir);
	if (r > 0)
		log_info("State dir '%s' is now mode 0700 (it holds BIRD's config and socket)",
			 c->state_dir);
	return 0;
}

/* Room for the health and metrics servers' connections (lib/httpd.h)
 * besides watches, netlink and the CNI service: the soft limit up to the
 * hard one (often 1024 soft). */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			log_warning_errno(-errno, "Cannot raise the open files limit: %m");
	}
}

static int run(const struct felix_config *c)
{
	struct kapi_config *kc = NULL;
	struct evloop *loop = NULL;
	struct evloop_signal *sterm = NULL, *sint = NULL;
	struct felix_agent *a = NULL;
	int r;

	r = state_dir_prepare(c);
	if (r == 0)
		r = load_kubeconfig(c, &kc);
	if (r < 0)
		return r;
	r = evloop_new(&loop);
	if (r == 0)
		r = evloop_signal_add(loop, SIGTERM, on_signal, loop, &sterm);
	if (r == 0)
		r = evloop_signal_add(loop, SIGINT, on_signal, loop, &sint);
	if (r == 0)
		r = felix_agent_new(c, kc, loop, &a);
	if (r == 0)
		r = evloop_run(loop);
	felix_agent_free(a);
	evloop_signal_free(sterm);
	evloop_signal_free(sint);
	evloop_free(loop);
	kapi_config_free(kc);
	return r;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	_cleanup_free_ char *err = NULL;
	struct felix_config c;
	const char *file = NULL;
	int o, r;

	/* A fixed threshold: every block of 128 KiB or more (LIST pages, JSON
	 * buffers) is its own mapping, given back when freed. glibc's default
	 * raises the threshold (and with it the trim threshold) after the first
	 * such block is freed, and the big transient buffers of a sync or an IPAM
	 * GC pass then stay in the heaps (felix-c's RSS as IPAM GC leader with
	 * 10k pods: 30.4 -> 29.6 MiB, tests/bench/felix/scale). */
	(void)mallopt(M_MMAP_THRESHOLD, 128 << 10);
	while ((o = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		if (o == 'c') {
			file = optarg;
			continue;
		}
		fprintf(o == 'h' ? stdout : stderr, "usage: felix-c [--config FILE]\n%s",
			o == 'h' ? help_text : "");
		return o == 'h' ? 0 : 2;
	}
	r = felix_config_load(file, environ, &c, &err);
	if (r < 0) {
		log_error_errno(r, "Invalid configuration: %s", err ? err : "%m");
		return 1;
	}
	r = log_setup(c.log_level, c.log_file, "felix-c");
	if (r < 0)
		log_warning_errno(r, "Failed to open log file '%s', logging to stderr: %m",
				  c.log_file);
	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit();
	r = run(&c);
	felix_config_done(&c);
	log_close();
	return r < 0 ? 1 : 0;
}
