/* The natOutgoing manager (see natmgr.h): an adapter, the work is natout.c's. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "felix-c/natmgr.h"
#include "felix-c/natout.h"
#include "log.h"

struct natmgr {
	struct felix_manager mgr;	/* first: the interface */
	struct policy_kernel *k;	/* borrowed */
	struct natout *natout;		/* owned */
	const struct felix_objs *pools;	/* borrowed until the next update */
};

static void natmgr_update(struct felix_manager *mgr, const struct felix_desired *d)
{
	((struct natmgr *)mgr)->pools = &d->objs[FELIX_OBJS_IPPOOLS];
}

static int natmgr_apply(struct felix_manager *mgr)
{
	struct natmgr *m = (struct natmgr *)mgr;
	_cleanup_free_ char *err = NULL;
	int r;

	if (!m->pools)
		return 0;
	r = natout_reconcile(m->natout, m->k, m->pools->cache, m->pools->invalid, &err);
	if (r < 0)
		return log_error_errno(r, "Failed to apply natOutgoing: %s", err ? err : strerror(-r));
	if (r > 0)
		m->mgr.batches++;
	return 0;
}

static void natmgr_resync(struct felix_manager *mgr)
{
	natout_mark_dirty(((struct natmgr *)mgr)->natout);
}

static struct felix_manager *natmgr_free(struct felix_manager *mgr)
{
	struct natmgr *m = (struct natmgr *)mgr;

	natout_free(m->natout);
	free(m);
	return NULL;
}

static const struct felix_manager_ops natmgr_ops = {
	.name = "nat",
	.update = natmgr_update,
	.apply = natmgr_apply,
	.resync = natmgr_resync,
	.free = natmgr_free,
};

int natmgr_new(struct policy_kernel *k, const char *policy_table, struct felix_manager **ret)
{
	_cleanup_free_ struct natmgr *m = calloc(1, sizeof(*m));
	_cleanup_free_ char *table = NULL;
	int r;

	if (!m || asprintf(&table, "%s-nat", policy_table) < 0)
		return -ENOMEM;
	r = natout_new(table, &m->natout);
	if (r < 0)
		return r;
	m->mgr.ops = &natmgr_ops;
	m->k = k;
	*ret = &TAKE_PTR(m)->mgr;
	return 0;
}
