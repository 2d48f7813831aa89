/* The NAT manager (see natmgr.h): one nat table holding natOutgoing's
 * objects (natout.c) and hostPort's (hostport.c), reconciled together in
 * one batch, plus route_localnet on the veths of pods with hostPorts.
 */
#include <errno.h>
#include <linux/ip.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "felix-c/hostport.h"
#include "felix-c/natmgr.h"
#include "felix-c/natout.h"
#include "log.h"
#include "nl.h"
#include "policy/model.h"
#include "policy/nftstate.h"

struct natmgr {
	struct felix_manager mgr;	/* first: the interface */
	const struct policymgr_kernel *kernel; /* borrowed */
	void *k;			/* its handle, borrowed */
	char *table;			/* owned */
	struct natout *natout;		/* owned */
	const struct felix_desired *d;	/* borrowed until the next update */
	struct nl *nl;			/* borrowed: rtnetlink, for route_localnet */
	int *localnet;			/* ifindexes route_localnet was set on (owned) */
	size_t n_localnet;
	char *conflicts;		/* hostPort conflicts said last (owned), NULL: none */
	unsigned long host_ports;	/* mappings programmed at the last apply */
};

static void natmgr_update(struct felix_manager *mgr, const struct felix_desired *d)
{
	((struct natmgr *)mgr)->d = d;
}

/* A conflict is said once, when the set of conflicts changes. */
static void note_conflicts(struct natmgr *m, char *conflicts)
{
	if ((!conflicts && !m->conflicts) ||
	    (conflicts && m->conflicts && strcmp(conflicts, m->conflicts) == 0)) {
		free(conflicts);
		return;
	}
	if (conflicts)
		log_warning("hostPort conflicts, neither pod gets the port: %s", conflicts);
	else
		log_info("hostPort conflicts resolved");
	free(m->conflicts);
	m->conflicts = conflicts;
}

/* What the table does, for the log line after it is applied. */
static char *describe(const struct natmgr *m, const struct policy_nft *want)
{
	_cleanup_free_ char *masq = NULL, *all = NULL, *masq6 = NULL, *all6 = NULL;
	char *text;

	if (policy_nft_set_to_text(policy_nft_set_get(want, NATOUT_SET_MASQ), &masq) < 0 ||
	    policy_nft_set_to_text(policy_nft_set_get(want, NATOUT_SET_ALL), &all) < 0 ||
	    policy_nft_set_to_text(policy_nft_set_get(want, NATOUT_SET_MASQ6), &masq6) < 0 ||
	    policy_nft_set_to_text(policy_nft_set_get(want, NATOUT_SET_ALL6), &all6) < 0 ||
	    asprintf(&text, "natOutgoing from {%s} to outside {%s}, from {%s} to outside {%s}, "
		     "%lu hostPort mappings", masq, all, masq6, all6, m->host_ports) < 0)
		return NULL;
	return text;
}

/* Whether @ifindex had route_localnet set by the last apply. */
static bool localnet_was_set(const struct natmgr *m, int ifindex)
{
	for (size_t i = 0; i < m->n_localnet; i++)
		if (m->localnet[i] == ifindex)
			return true;
	return false;
}

/* The answer to a hostPort connection from 127.0.0.0/8 comes back through
 * the pod's veth towards 127/8: route_localnet on that veth lets it in
 * (hostport.h). Set over rtnetlink (the DaemonSet's /proc/sys is read-only),
 * once per veth: a veth made again has a new index. A veth not there yet
 * is set by a later reconcile: the pod events that follow its wiring (IP
 * annotation, status) bring one.
 * Return: 0, -ENOMEM. */
static int set_route_localnet(struct natmgr *m, const struct felix_desired *d)
{
	_cleanup_free_ int *done = calloc(d->n_host_ports + 1, sizeof(*done));
	size_t n = 0;

	if (!done)
		return -ENOMEM;
	for (size_t i = 0; i < d->n_host_ports; i++) {
		const struct policy_pod *p = d->host_ports[i].pod;
		struct nl_link l;
		int r;

		if (i > 0 && d->host_ports[i - 1].pod == p)
			continue;
		r = nl_link_get(m->nl, 0, p->ifname, &l);
		if (r == 0 && !localnet_was_set(m, l.ifindex))
			r = nl_link_set_ipv4_conf(m->nl, l.ifindex, IPV4_DEVCONF_ROUTE_LOCALNET, 1);
		if (r == 0) {
			done[n++] = l.ifindex;
		} else if (r == -ENODEV) {
			log_debug("Pod '%s/%s': no veth '%s' yet for its hostPorts", p->ns, p->name,
				  p->ifname);
		} else {
			log_warning_errno(r, "Pod '%s/%s': cannot set route_localnet on '%s' (its "
					  "hostPorts from 127.0.0.0/8 fail), ignoring: %m",
					  p->ns, p->name, p->ifname);
		}
	}
	free(m->localnet);
	m->localnet = TAKE_PTR(done);
	m->n_localnet = n;
	return 0;
}

static int natmgr_apply(struct felix_manager *mgr)
{
	struct natmgr *m = (struct natmgr *)mgr;
	_cleanup_(policy_nft_freep) struct policy_nft *want = NULL;
	_cleanup_free_ char *err = NULL, *what = NULL;
	char *conflicts = NULL;
	int r;

	if (!m->d)
		return 0;
	r = natout_desired(m->table, m->d->objs[FELIX_OBJS_IPPOOLS].cache,
			   m->d->objs[FELIX_OBJS_IPPOOLS].invalid, &want);
	if (r == 0)
		r = hostport_desired_add(want, m->d->host_ports, m->d->n_host_ports, &conflicts);
	if (r < 0)
		return log_error_errno(r, "Failed to compute the NAT table: %m");
	m->host_ports = (unsigned long)r;
	note_conflicts(m, conflicts);
	what = describe(m, want);
	r = natout_reconcile(m->natout, m->kernel, m->k, TAKE_PTR(want), &err);
	if (r < 0)
		return log_error_errno(r, "Failed to apply the NAT table: %s", err ?: strerror(-r));
	if (r > 0) {
		m->mgr.batches++;
		log_info("NAT applied to table '%s' (%d operations): %s", m->table, r,
			 what ?: "?");
	}
	return set_route_localnet(m, m->d);
}

static void natmgr_resync(struct felix_manager *mgr)
{
	struct natmgr *m = (struct natmgr *)mgr;

	natout_mark_dirty(m->natout);
	m->n_localnet = 0; /* set route_localnet again: repairs drift */
}

static void natmgr_write_metrics(const struct felix_manager *mgr, struct metrics_buf *b)
{
	const struct natmgr *m = (const struct natmgr *)mgr;

	metrics_header(b, "felix_c_hostport_mappings", "gauge",
		       "hostPort mappings in the NAT table computed last");
	metrics_sample(b, "felix_c_hostport_mappings", NULL, 0, (double)m->host_ports);
}

static struct felix_manager *natmgr_free(struct felix_manager *mgr)
{
	struct natmgr *m = (struct natmgr *)mgr;

	natout_free(m->natout);
	free(m->conflicts);
	free(m->localnet);
	free(m->table);
	free(m);
	return NULL;
}

static const struct felix_manager_ops natmgr_ops = {
	.name = "nat",
	.update = natmgr_update,
	.apply = natmgr_apply,
	.resync = natmgr_resync,
	.write_metrics = natmgr_write_metrics,
	.free = natmgr_free,
};

int natmgr_new(const struct policymgr_kernel *kernel, void *k, struct nl *nl,
	       const char *policy_table, struct felix_manager **ret)
{
	_cleanup_free_ struct natmgr *m = calloc(1, sizeof(*m));
	int r;

	if (!m || asprintf(&m->table, "%s-nat", policy_table) < 0)
		return -ENOMEM;
	r = natout_new(m->table, &m->natout);
	if (r < 0) {
		free(m->table);
		return r;
	}
	m->mgr.ops = &natmgr_ops;
	m->kernel = kernel;
	m->k = k;
	m->nl = nl;
	*ret = &TAKE_PTR(m)->mgr;
	return 0;
}
