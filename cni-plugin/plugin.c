/* The commands. ADD is a transaction: once IPAM has handed out an address,
 * every later failure undoes what was done (veth deleted, which takes its
 * peer and routes along; IPAM DEL) before the error is printed, so a failed
 * ADD leaves nothing behind. DEL is best effort and idempotent; only an IPAM
 * release failure makes it fail, because that would leak an address.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "delegate.h"
#include "ifname.h"
#include "k8s.h"
#include "lock.h"
#include "log.h"
#include "nl.h"
#include "plugin.h"
#include "wire.h"

#define DEFAULT_MTU 1500


static bool uses_k8s(const struct plugin *p)
{
	/* The API is used for Kubernetes pods only, and only with a kubeconfig. */
	return p->conf.kubeconfig && (p->k8s_pod || p->env.command == CNI_COMMAND_STATUS);
}

static int connect_k8s(struct plugin *p)
{
	int r;

	if (p->k8s || !uses_k8s(p))
		return 0;
	r = cni_node_name(p->cfg->json, p->node, sizeof(p->node));
	if (r < 0)
		return cni_error_set(&p->err, CNI_ERR_INVALID_CONFIG, r,
				     "'nodename': not set, and no node name found: %s", strerror(-r));
	return k8s_open(&p->conf, p->node, &p->k8s, &p->err);
}

static int init_k8s(struct plugin *p)
{
	p->k8s_ns = cni_args_get(&p->args, "K8S_POD_NAMESPACE");
	p->k8s_pod = cni_args_get(&p->args, "K8S_POD_NAME");
	if (p->k8s_ns && !*p->k8s_ns)
		p->k8s_ns = NULL;
	if (p->k8s_pod && !*p->k8s_pod)
		p->k8s_pod = NULL;
	if (!p->k8s_ns || !p->k8s_pod)
		p->k8s_ns = p->k8s_pod = NULL;
	/* ADD connects once IPAM runs, so that IPAM's start is not delayed by
	 * loading the kubeconfig and TLS. */
	if (p->env.command == CNI_COMMAND_ADD)
		return 0;
	return connect_k8s(p);
}

/* ADD, DEL and CHECK of one container run one at a time (lock.h). */
static int lock_container(struct plugin *p)
{
	enum cni_command c = p->env.command;
	int r;

	if (c != CNI_COMMAND_ADD && c != CNI_COMMAND_DEL && c != CNI_COMMAND_CHECK)
		return 0;
	r = plugin_lock_take(p->conf.state_dir, p->env.container_id, &p->lock_fd);
	if (r < 0)
		return cni_error_set(&p->err, CNI_ERR_IO, r,
				     "cannot lock container '%s' in 'state_dir' '%s': %s",
				     p->env.container_id, p->conf.state_dir, strerror(-r));
	return 0;
}

int plugin_init(struct plugin *p)
{
	int r;

	r = plugin_conf_parse(p->cfg, &p->conf, &p->err);
	if (r < 0)
		return r;
	r = log_setup(p->conf.log_level, p->conf.log_file_path, "calico-c");
	if (r < 0)
		log_warning_errno(r, "Cannot open log file '%s', logging to stderr: %m",
				  p->conf.log_file_path);
	r = cni_args_parse(p->env.args, &p->args, &p->err);
	if (r < 0)
		return r;
	r = init_k8s(p);
	if (r < 0)
		return r;
	if (!p->env.container_id)
		return 0;
	r = ifname_for_workload(p->k8s_ns, p->k8s_pod ? p->k8s_pod : p->env.container_id,
				p->host_ifname);
	if (r < 0)
		return cni_error_set(&p->err, CNI_ERR_PLUGIN, r, "cannot derive the host veth name");
	r = wire_owner_tag(p->env.container_id, p->owner);
	if (r < 0)
		return cni_error_set(&p->err, CNI_ERR_INVALID_ENV, r, "CNI_CONTAINERID is empty");
	return lock_container(p);
}

void plugin_done(struct plugin *p)
{
	if (p->ipam_exec) /* never fed: it reads EOF and allocates nothing */
		(void)delegate_wait(TAKE_PTR(p->ipam_exec), NULL, NULL);
	p->pod = nl_free(p->pod);
	p->host = nl_free(p->host);
	p->netns_fd = safe_close(p->netns_fd);
	p->k8s = k8s_close(p->k8s);
	cni_args_done(&p->args);
	/* Last: everything this call did is done (or undone) by now. */
	p->lock_fd = safe_close(p->lock_fd);
	p->cfg = cni_config_free(p->cfg);
	cni_env_done(&p->env);
}

/* ---- timing ---- */

uint64_t plugin_now_ns(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t plugin_phase_add(struct plugin *p, enum plugin_phase phase, uint64_t since)
{
	uint64_t now = plugin_now_ns();

	p->phase_ns[phase] += now - since;
	return now;
}

void plugin_log_timing(const struct plugin *p)
{
	static const char *const names[_PHASE_MAX] = {
		[PHASE_SETUP] = "setup",       [PHASE_API_READ] = "api-read",
		[PHASE_IPAM] = "ipam",	       [PHASE_NETLINK] = "netlink",
		[PHASE_API_WRITE] = "api-write",
	};
	char buf[256];
	size_t n = 0;

	for (int i = 0; i < _PHASE_MAX; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s=%.3f ", names[i],
				      (double)p->phase_ns[i] / 1e6);
	log_debug("timing %s ms: %stotal=%.3f", cni_command_to_string(p->env.command), buf,
		  (double)(plugin_now_ns() - p->started_ns) / 1e6);
}

/* ---- helpers ---- */

static int ipam_start(struct plugin *p, enum cni_command cmd, const json_t *config,
		      struct delegate **ret)
{
	return delegate_start(p->cfg->ipam_type, p->env.path, cmd, config ? config : p->cfg->json,
			      ret, &p->err);
}

static int ipam_wait(struct plugin *p, struct delegate *x, enum cni_command cmd,
		     const json_t *config, struct cni_result **ret)
{
	_cleanup_(json_decrefp) json_t *older = NULL;
	const json_t *c = config ? config : p->cfg->json;
	int r;

	r = delegate_wait(x, ret, &p->err);
	if (r >= 0 || p->err.code != CNI_ERR_INCOMPATIBLE_VERSION ||
	    p->cfg->version != CNI_VERSION_1_1_0 || cmd == CNI_COMMAND_GC ||
	    cmd == CNI_COMMAND_STATUS)
		return r;
	/* An IPAM plugin of spec 1.0.0 (Debian's host-local) refuses 1.1.0 configs;
	 * ADD/DEL/CHECK mean the same in both, so ask again in 1.0.0. */
	older = json_deep_copy(c);
	if (!older || json_object_set_new(older, "cniVersion", json_string("1.0.0")) < 0)
		return -ENOMEM;
	log_debug("IPAM '%s' refused cniVersion 1.1.0, retrying with 1.0.0", p->cfg->ipam_type);
	cni_error_clear(&p->err);
	return delegate_run(p->cfg->ipam_type, p->env.path, cmd, older, ret, &p->err);
}

int plugin_ipam(struct plugin *p, enum cni_command cmd, const json_t *config,
		struct cni_result **ret)
{
	struct delegate *x = NULL;
	int r;

	r = ipam_start(p, cmd, config, &x);
	if (r < 0)
		return r;
	return ipam_wait(p, x, cmd, config, ret);
}

static int open_host(struct plugin *p)
{
	int r = nl_open(&p->host);

	if (r < 0)
		return cni_error_set(&p->err, CNI_ERR_NETLINK, r, "cannot open netlink: %s",
				     strerror(-r));
	return 0;
}

/* Open CNI_NETNS and a netlink socket inside it. */
static int open_pod(struct plugin *p)
{
	int r;

	if (!p->env.netns)
		return cni_error_set(&p->err, CNI_ERR_INVALID_ENV, -EINVAL, "CNI_NETNS is empty");
	p->netns_fd = nl_netns_open(p->env.netns);
	if (p->netns_fd < 0)
		return cni_error_set(&p->err, CNI_ERR_UNKNOWN_CONTAINER, p->netns_fd,
				     "CNI_NETNS '%s' cannot be opened: %s", p->env.netns,
				     strerror(-p->netns_fd));
	r = nl_open_in_netns(p->netns_fd, &p->pod);
	if (r < 0)
		return cni_error_set(&p->err, CNI_ERR_UNKNOWN_CONTAINER, r,
				     "CNI_NETNS '%s' is not a network namespace: %s", p->env.netns,
				     strerror(-r));
	return 0;
}

static uint32_t read_mtu_file(const char *path)
{
	_cleanup_fclose_ FILE *f = path ? fopen(path, "re") : NULL;
	unsigned long v;

	if (!f || fscanf(f, "%lu", &v) != 1 || v < 68 || v > 65535)
		return 0;
	return (uint32_t)v;
}

/* mtu from the config, else felix-c's file, else the uplink's. */
static uint32_t pick_mtu(struct plugin *p)
{
	uint32_t mtu = p->conf.mtu;

	if (!mtu)
		mtu = read_mtu_file(p->conf.mtu_file);
	if (!mtu && wire_uplink_mtu(p->host, &mtu) < 0)
		mtu = DEFAULT_MTU;
	return mtu;
}

/* First address of each family, as a host prefix (/32, /128). */
static int pick_addresses(struct plugin *p, const struct cni_result *ipam, struct in_prefix *v4,
			  struct in_prefix *v6, bool *has_v4, bool *has_v6)
{
	*has_v4 = *has_v6 = false;
	for (size_t i = 0; i < ipam->n_ips; i++) {
		struct in_prefix a = ipam->ips[i].address;
		bool *has = a.family == AF_INET ? has_v4 : has_v6;

		if (*has)
			continue;
		a.len = a.family == AF_INET ? 32 : 128;
		*(a.family == AF_INET ? v4 : v6) = a;
		*has = true;
	}
	if (!*has_v4 && !*has_v6)
		return cni_error_set(&p->err, CNI_ERR_PLUGIN, -EINVAL,
				     "IPAM plugin '%s' returned no address", p->cfg->ipam_type);
	return 0;
}

/* Start from prevResult (chained after another plugin) or from nothing. */
static int result_base(struct plugin *p, struct cni_result **ret)
{
	_cleanup_(json_decrefp) json_t *j = NULL;

	if (!p->cfg->prev_result) {
		*ret = cni_result_new();
		return *ret ? 0 : -ENOMEM;
	}
	j = cni_result_to_json(p->cfg->prev_result, CNI_VERSION_LATEST);
	if (!j)
		return -ENOMEM;
	return cni_result_from_json(j, ret, &p->err);
}

static int build_result(struct plugin *p, const struct wire_state *st, const json_t *dns,
			struct cni_result **ret)
{
	_cleanup_(cni_result_freep) struct cni_result *r = NULL;
	struct in_prefix gw4, gw6, any4, any6;
	int host, pod, k;

	if ((k = result_base(p, &r)) < 0)
		return k;
	host = cni_result_add_interface(r, p->host_ifname, st->host_mac, NULL);
	pod = cni_result_add_interface(r, p->env.ifname, st->pod_mac, p->env.netns);
	if (host < 0 || pod < 0)
		return cni_error_set(&p->err, CNI_ERR_PLUGIN, -E2BIG, "result too large");
	r->interfaces[pod].mtu = st->mtu;
	(void)prefix_parse(WIRE_GATEWAY_V4, PREFIX_ALLOW_BARE, &gw4);
	(void)prefix_parse(WIRE_GATEWAY_V6, PREFIX_ALLOW_BARE, &gw6);
	(void)prefix_parse("0.0.0.0/0", 0, &any4);
	(void)prefix_parse("::/0", 0, &any6);
	if (st->v4.family && (cni_result_add_ip(r, &st->v4, NULL, pod) < 0 ||
			      cni_result_add_route(r, &any4, &gw4) < 0))
		return -E2BIG;
	if (st->v6.family && (cni_result_add_ip(r, &st->v6, NULL, pod) < 0 ||
			      cni_result_add_route(r, &any6, &gw6) < 0))
		return -E2BIG;
	if (dns && json_object_size(dns) && !r->dns)
		r->dns = json_deep_copy(dns);
	*ret = TAKE_PTR(r);
	return 0;
}

static int print_result(struct plugin *p, const struct cni_result *r)
{
	int k = cni_result_write(stdout, r, p->cfg->version);

	if (k < 0)
		return cni_error_set(&p->err, CNI_ERR_IO, k, "cannot write the result");
	return 0;
}

/* ---- ADD ---- */

static void rollback(struct plugin *p)
{
	struct cni_error saved = p->err;
	int r;

	if (p->annotated && k8s_clear_pod(p->k8s, p->k8s_ns, p->k8s_pod, p->env.container_id) < 0)
		log_warning("Rollback: cannot clear the annotations of pod '%s/%s', ignoring",
			    p->k8s_ns, p->k8s_pod);
	r = wire_del_link(p->host, p->host_ifname);
	if (r < 0)
		log_warning_errno(r, "Rollback: cannot delete '%s', ignoring: %m", p->host_ifname);
	r = plugin_ipam(p, CNI_COMMAND_DEL, NULL, NULL);
	if (r < 0)
		log_error("Rollback: IPAM release for '%s' failed: %s", p->env.container_id,
			  p->err.msg);
	p->err = saved; /* report the original failure */
}

/* A repeated ADD for a container that is already wired returns what exists. */
static int add_existing(struct plugin *p, bool *ret_done)
{
	struct wire_state st;
	_cleanup_(cni_result_freep) struct cni_result *res = NULL;
	int r;

	*ret_done = false;
	r = wire_find(p->host, p->pod, p->host_ifname, p->env.ifname, &st);
	if (r == -EEXIST)
		return cni_error_set(&p->err, CNI_ERR_PLUGIN, r,
				     "interface '%s' already exists in the container '%s'",
				     p->env.ifname, p->env.netns);
	if (r < 0)
		return cni_error_set(&p->err, CNI_ERR_NETLINK, r, "cannot inspect '%s': %s",
				     p->env.ifname, strerror(-r));
	if (r == 0 || (!st.v4.family && !st.v6.family))
		return 0;
	if (*st.owner && !wire_is_owner(st.owner, p->env.container_id))
		return cni_error_set(&p->err, CNI_ERR_PLUGIN, -EEXIST,
				     "interface '%s' in '%s' belongs to container '%s', not '%s'",
				     p->env.ifname, p->env.netns, st.owner, p->env.container_id);
	if (st.v4.family)
		st.v4.len = 32;
	if (st.v6.family)
		st.v6.len = 128;
	log_info("Container '%s' is already wired on '%s', returning its result",
		 p->env.container_id, p->host_ifname);
	if ((r = build_result(p, &st, NULL, &res)) < 0 || (r = print_result(p, res)) < 0)
		return r;
	*ret_done = true;
	return 0;
}

/* Addresses from IPAM onto the created pair; the pod annotations are
 * written meanwhile (felix-c's service does the PATCH while we do netlink;
 * the routes are ours either way, and a rollback clears the annotations). */
static int add_configure(struct plugin *p, const struct cni_result *ipam, struct wire_pod *w,
			 struct wire_state *st)
{
	struct in_prefix v4, v6;
	struct cni_error werr = {};
	bool has_v4, has_v6;
	uint64_t t = plugin_now_ns();
	int r, rw;

	r = pick_addresses(p, ipam, &v4, &v6, &has_v4, &has_v6);
	if (r < 0)
		return r;
	if (p->k8s) {
		p->annotated = true; /* from here the PATCH may land */
		r = k8s_annotate_start(p->k8s, p->k8s_ns, p->k8s_pod, p->env.container_id,
				       has_v4 ? &v4 : NULL, has_v6 ? &v6 : NULL, &p->err);
		if (r < 0)
			return r;
		t = plugin_phase_add(p, PHASE_API_WRITE, t);
	}
	w->v4 = has_v4 ? &v4 : NULL;
	w->v6 = has_v6 ? &v6 : NULL;
	rw = wire_configure(p->host, p->pod, w, st, &werr);
	w->v4 = w->v6 = NULL; /* they pointed at locals */
	t = plugin_phase_add(p, PHASE_NETLINK, t);
	if (p->k8s) {
		r = k8s_annotate_finish(p->k8s, &p->err);
		(void)plugin_phase_add(p, PHASE_API_WRITE, t);
	}
	if (rw < 0) {
		p->err = werr;
		return rw;
	}
	return r;
}

/* IPAM chooses addresses while the veth pair is created and brought up:
 * the pair needs no address to exist, so ADD costs IPAM plus the address
 * and route steps, not IPAM plus all of the wiring. @x is running. */
static int add_ipam_and_create(struct plugin *p, struct delegate *x, struct wire_pod *w,
			       struct wire_state *st, struct cni_result **ret_ipam)
{
	struct cni_error werr = {};
	uint64_t t = plugin_now_ns();
	int r, rw;

	w->mtu = pick_mtu(p);
	rw = wire_create(p->host, p->pod, w, st, &werr);
	(void)plugin_phase_add(p, PHASE_NETLINK, t);
	r = ipam_wait(p, x, CNI_COMMAND_ADD, NULL, ret_ipam);
	(void)plugin_phase_add(p, PHASE_IPAM, t);
	if (r < 0) {
		/* The spec: a failed delegated ADD is followed by a DEL. */
		struct cni_error saved = p->err;

		(void)wire_del_link(p->host, p->host_ifname);
		(void)plugin_ipam(p, CNI_COMMAND_DEL, NULL, NULL);
		p->err = saved;
		return r;
	}
	if (rw < 0) {
		p->err = werr;
		return rw;
	}
	return 0;
}

/* IPAM gets our stdin unchanged (it reads the pod's pool annotations
 * itself): fed here, once the checks are done. Meanwhile we connect to the
 * apiserver and read the pod, which fails the ADD early when the pod cannot
 * be read and leaves a warm connection for the annotation PATCH. */
static int add_feed_ipam(struct plugin *p, struct delegate *x)
{
	uint64_t t = plugin_now_ns();
	int r;

	r = delegate_feed(x, p->cfg->json);
	if (r < 0) {
		(void)delegate_wait(x, NULL, NULL);
		return cni_error_set(&p->err, CNI_ERR_IO, r,
				     "cannot pass the config to IPAM plugin '%s'", p->cfg->ipam_type);
	}
	r = connect_k8s(p);
	if (r >= 0 && p->k8s)
		r = k8s_read_pod(p->k8s, p->k8s_ns, p->k8s_pod, &p->err);
	(void)plugin_phase_add(p, PHASE_API_READ, t);
	if (r < 0) {
		/* IPAM may have allocated by now: reap it, then release. */
		struct cni_error saved = p->err;

		(void)delegate_wait(x, NULL, NULL);
		(void)plugin_ipam(p, CNI_COMMAND_DEL, NULL, NULL);
		p->err = saved;
	}
	return r;
}

/* Open both namespaces; a container already wired is answered (@ret_done). */
static int add_prepare(struct plugin *p, bool *ret_done)
{
	uint64_t t = plugin_now_ns();
	int r;

	if ((r = open_host(p)) < 0 || (r = open_pod(p)) < 0)
		return r;
	t = plugin_phase_add(p, PHASE_SETUP, t);
	if ((r = add_existing(p, ret_done)) < 0 || *ret_done)
		return r;
	/* A host veth of that name is left over from an earlier sandbox. */
	r = wire_del_link(p->host, p->host_ifname);
	if (r < 0)
		return cni_error_set(&p->err, CNI_ERR_NETLINK, r, "cannot remove stale '%s': %s",
				     p->host_ifname, strerror(-r));
	(void)plugin_phase_add(p, PHASE_NETLINK, t);
	return 0;
}

static int start_ipam(struct plugin *p)
{
	uint64_t t = plugin_now_ns();
	int r;

	r = delegate_start(p->cfg->ipam_type, p->env.path, CNI_COMMAND_ADD, NULL, &p->ipam_exec,
			   &p->err);
	(void)plugin_phase_add(p, PHASE_IPAM, t);
	return r;
}

void plugin_add_start_ipam(struct plugin *p)
{
	/* Best effort: a config or CNI_PATH problem is reported by the
	 * validation that follows, or by plugin_add() starting it again. */
	if (p->cfg->ipam_type && start_ipam(p) < 0)
		cni_error_clear(&p->err);
}

int plugin_add(struct plugin *p)
{
	_cleanup_(cni_result_freep) struct cni_result *ipam = NULL, *res = NULL;
	struct wire_pod w = { .host_ifname = p->host_ifname, .pod_ifname = p->env.ifname,
			      .owner = p->owner };
	struct delegate *x = NULL;
	struct wire_state st;
	bool done = false;
	int r;

	if (!p->ipam_exec && (r = start_ipam(p)) < 0)
		return r;
	r = add_prepare(p, &done);
	if (r < 0 || done)
		return r; /* plugin_done() reaps the unfed IPAM */
	x = TAKE_PTR(p->ipam_exec);
	w.netns_fd = p->netns_fd;
	if ((r = add_feed_ipam(p, x)) < 0)
		return r;
	r = add_ipam_and_create(p, x, &w, &st, &ipam);
	if (r < 0 && !ipam)
		return r; /* IPAM failed: already cleaned up */
	if (r < 0 || (r = add_configure(p, ipam, &w, &st)) < 0 ||
	    (r = build_result(p, &st, ipam->dns ? ipam->dns : json_object_get(p->cfg->json, "dns"),
			      &res)) < 0) {
		rollback(p);
		return r;
	}
	log_info("Wired container '%s' on '%s'", p->env.container_id, p->host_ifname);
	return print_result(p, res);
}

/* ---- DEL ---- */

/* Whether the host veth @l (of our name) was made for this container: by
 * the owner tag ADD recorded on it. A veth without one predates the tags:
 * then prevResult's addresses routed through it, or the pod's containerID
 * annotation, say so (another sandbox of the same pod may own it). */
static bool host_veth_is_ours(struct plugin *p, const struct nl_link *l)
{
	const struct cni_result *prev = p->cfg->prev_result;

	if (*l->alias)
		return wire_is_owner(l->alias, p->env.container_id);
	if (!p->k8s_pod)
		return true; /* named after the container id: unique */
	for (size_t i = 0; prev && i < prev->n_ips; i++) {
		struct in_prefix a = prev->ips[i].address;

		a.len = a.family == AF_INET ? 32 : 128;
		if (wire_host_route_exists(p->host, p->host_ifname, &a))
			return true;
	}
	return p->k8s &&
	       k8s_pod_owned_by(p->k8s, p->k8s_ns, p->k8s_pod, p->env.container_id) == 1;
}

/* Only through the host veth, and only when it is this container's: its
 * peer (the pod's CNI_IFNAME) goes with it. CNI_NETNS is never trusted to
 * name what to delete: it may be another pod's namespace. */
static void del_links(struct plugin *p)
{
	struct nl_link l;
	int r;

	r = nl_link_get(p->host, 0, p->host_ifname, &l);
	if (r == -ENODEV)
		return; /* gone already, or never made */
	if (r < 0) {
		log_warning_errno(r, "Cannot read '%s', ignoring: %m", p->host_ifname);
		return;
	}
	if (!host_veth_is_ours(p, &l)) {
		log_info("DEL '%s': host veth '%s' belongs to container '%s', left alone",
			 p->env.container_id, p->host_ifname, *l.alias ? l.alias : "?");
		return;
	}
	r = nl_link_del(p->host, l.ifindex, NULL);
	if (r < 0 && r != -ENODEV)
		log_warning_errno(r, "Cannot delete '%s', ignoring: %m", p->host_ifname);
}

int plugin_del(struct plugin *p)
{
	uint64_t t = plugin_now_ns(), t0;
	struct delegate *x = NULL;
	int r;

	if ((r = open_host(p)) < 0)
		return r;
	t = plugin_phase_add(p, PHASE_SETUP, t);
	/* The IPAM release runs while the kernel unregisters the veth (the
	 * slow part: ~20 ms of RCU waits), so DEL costs the longer of the two. */
	r = ipam_start(p, CNI_COMMAND_DEL, NULL, &x);
	t0 = t;
	del_links(p);
	t = plugin_phase_add(p, PHASE_NETLINK, t);
	if (r >= 0)
		r = ipam_wait(p, x, CNI_COMMAND_DEL, NULL, NULL);
	t = plugin_phase_add(p, PHASE_IPAM, t0);
	if (r < 0)
		return r;
	if (p->k8s) {
		r = k8s_clear_pod(p->k8s, p->k8s_ns, p->k8s_pod, p->env.container_id);
		if (r < 0)
			log_warning_errno(r, "Cannot clear pod IP annotations of '%s/%s', ignoring: %m",
					  p->k8s_ns, p->k8s_pod);
		(void)plugin_phase_add(p, PHASE_API_WRITE, t);
	}
	r = plugin_lock_remove(p->conf.state_dir, p->env.container_id, p->lock_fd);
	if (r < 0)
		log_warning_errno(r, "Cannot remove the lock file of '%s', ignoring: %m",
				  p->env.container_id);
	log_info("Released container '%s'", p->env.container_id);
	return 0;
}

/* ---- CHECK ---- */

static int find_interface(const struct cni_result *r, const char *name, const char *sandbox)
{
	for (size_t i = 0; i < r->n_interfaces; i++) {
		const struct cni_interface *itf = &r->interfaces[i];

		if (strcmp(itf->name, name) != 0)
			continue;
		if ((sandbox && itf->sandbox && strcmp(itf->sandbox, sandbox) == 0) ||
		    (!sandbox && !itf->sandbox))
			return (int)i;
	}
	return -1;
}

int plugin_check(struct plugin *p)
{
	const struct cni_result *prev = p->cfg->prev_result;
	struct in_prefix v4 = {}, v6 = {};
	struct wire_pod w = { .host_ifname = p->host_ifname, .pod_ifname = p->env.ifname };
	int pod, r;

	if (!prev)
		return cni_error_set(&p->err, CNI_ERR_INVALID_CONFIG, -EINVAL,
				     "CHECK needs 'prevResult'");
	if (find_interface(prev, p->host_ifname, NULL) < 0)
		return cni_error_set(&p->err, CNI_ERR_PLUGIN, -ENOENT,
				     "CHECK: 'prevResult' has no host interface '%s'", p->host_ifname);
	pod = find_interface(prev, p->env.ifname, p->env.netns);
	if (pod < 0)
		return cni_error_set(&p->err, CNI_ERR_PLUGIN, -ENOENT,
				     "CHECK: 'prevResult' has no interface '%s' in '%s'",
				     p->env.ifname, p->env.netns);
	for (size_t i = 0; i < prev->n_ips; i++) {
		struct in_prefix *slot = prev->ips[i].address.family == AF_INET ? &v4 : &v6;

		if (prev->ips[i].interface == pod && !slot->family)
			*slot = prev->ips[i].address;
	}
	w.v4 = v4.family ? &v4 : NULL;
	w.v6 = v6.family ? &v6 : NULL;
	w.mtu = prev->interfaces[pod].mtu;
	if ((r = open_host(p)) < 0 || (r = open_pod(p)) < 0)
		return r;
	w.netns_fd = p->netns_fd;
	if ((r = wire_check(p->host, p->pod, &w, &p->err)) < 0)
		return r;
	return plugin_ipam(p, CNI_COMMAND_CHECK, NULL, NULL);
}

/* ---- GC and STATUS ---- */

int plugin_gc(struct plugin *p)
{
	bool v11 = false;
	int r;

	r = delegate_supports(p->cfg->ipam_type, p->env.path, CNI_VERSION_1_1_0, &v11);
	if (r < 0)
		return cni_error_set(&p->err, CNI_ERR_PLUGIN, r,
				     "GC: cannot query IPAM plugin '%s': %s", p->cfg->ipam_type,
				     strerror(-r));
	if (v11)
		return plugin_ipam(p, CNI_COMMAND_GC, NULL, NULL);
	if (strcmp(p->cfg->ipam_type, "host-local") == 0)
		return plugin_gc_host_local(p);
	log_warning("IPAM plugin '%s' does not support GC (spec 1.1.0), nothing released",
		    p->cfg->ipam_type);
	return 0;
}

int plugin_status(struct plugin *p)
{
	bool v11 = false;
	int r;

	if (p->k8s && (r = k8s_ping(p->k8s, &p->err)) < 0)
		return r;
	r = delegate_supports(p->cfg->ipam_type, p->env.path, CNI_VERSION_1_1_0, &v11);
	if (r < 0)
		return cni_error_set(&p->err, CNI_ERR_NOT_AVAILABLE, r,
				     "IPAM plugin '%s' not usable from CNI_PATH '%s': %s",
				     p->cfg->ipam_type, p->env.path ? p->env.path : "",
				     strerror(-r));
	if (!v11)
		return 0; /* it answered VERSION: it is installed and runs */
	r = plugin_ipam(p, CNI_COMMAND_STATUS, NULL, NULL);
	if (r < 0 && p->err.code != CNI_ERR_NOT_AVAILABLE &&
	    p->err.code != CNI_ERR_NOT_AVAILABLE_LIMITED) {
		char msg[sizeof(p->err.msg)];

		snprintf(msg, sizeof(msg), "%s", p->err.msg);
		cni_error_clear(&p->err);
		return cni_error_set(&p->err, CNI_ERR_NOT_AVAILABLE, r, "IPAM '%s': %s",
				     p->cfg->ipam_type, msg);
	}
	return r;
}
