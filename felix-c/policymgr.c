/* The policy manager (see policymgr.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "felix-c/policymgr.h"
#include "log.h"
#include "policy/compile.h"
#include "policy/kernel.h"
#include "policy/model.h"
#include "policy/nftstate.h"
#include "policy/plan.h"

struct policymgr {
	struct felix_manager mgr;		/* first: the interface */
	const struct policymgr_kernel *kernel;	/* borrowed */
	void *k;				/* borrowed */
	char *table;
	struct policy_options opts;		/* opts.table = table, opts.log_prefix = log_prefix */
	char log_prefix[POLICY_LOG_PREFIX_MAX + 1];
	struct policy_failsafes failsafe_in, failsafe_out; /* opts.failsafe_in, _out */
	const struct policy_model *model;	/* borrowed, from the last update */
	struct policy_desired *desired;		/* compiled from model at desired_gen */
	uint64_t desired_gen;
	bool have_desired;
	bool full;				/* next apply reads the table back */
	size_t n_set_elems;			/* elements in the desired sets */
};

static int nft_read(void *k, const char *table, struct policy_nft **ret)
{
	return policy_kernel_read(k, table, ret);
}

static int nft_apply(void *k, const struct policy_plan *p, char **ret_error)
{
	return policy_kernel_apply(k, p, ret_error);
}

const struct policymgr_kernel policymgr_kernel_nft = { .read = nft_read, .apply = nft_apply };

static void count_set_elems(struct policymgr *m)
{
	const struct policy_nft *t = policy_desired_nft(m->desired);
	_cleanup_free_ const char **names = NULL;
	size_t n = 0;

	m->n_set_elems = 0;
	if (policy_nft_set_names(t, &names, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++)
		m->n_set_elems += policy_nft_set_size(policy_nft_set_get(t, names[i]));
}

static int compile(struct policymgr *m)
{
	int r;

	m->desired = policy_desired_free(m->desired);
	m->have_desired = false;
	r = policy_compile(m->model, &m->opts, &m->desired);
	if (r < 0)
		return log_error_errno(r, "Failed to compile policy: %m");
	m->desired_gen = m->model->generation;
	m->have_desired = true;
	count_set_elems(m);
	return 0;
}

static int sync_table(struct policymgr *m)
{
	_cleanup_(policy_nft_freep) struct policy_nft *obs = NULL;
	_cleanup_(policy_plan_freep) struct policy_plan *p = NULL;
	_cleanup_free_ char *err = NULL;
	int r;

	r = m->kernel->read(m->k, m->table, &obs);
	if (r < 0)
		return log_error_errno(r, "Failed to read nftables table '%s': %m", m->table);
	r = policy_plan(obs, policy_desired_nft(m->desired), &p, &err);
	if (r < 0)
		return log_error_errno(r, "Failed to plan table '%s': %s", m->table,
				       err ? err : strerror(-r));
	if (policy_plan_is_empty(p))
		return 0;
	r = m->kernel->apply(m->k, p, &err);
	if (r < 0)
		return log_error_errno(r, "Failed to apply policy to table '%s': %s", m->table,
				       err ? err : strerror(-r));
	m->mgr.batches++;
	log_info("Policy applied to table '%s': %zu operations (rules +%zu -%zu, elements +%zu "
		 "-%zu)", m->table, p->n_ops, policy_plan_count(p, POLICY_OP_RULE_ADD),
		 policy_plan_count(p, POLICY_OP_RULE_DEL),
		 policy_plan_count_elems(p, POLICY_OP_ELEM_ADD),
		 policy_plan_count_elems(p, POLICY_OP_ELEM_DEL));
	return 0;
}

static int policymgr_apply(struct felix_manager *mgr)
{
	struct policymgr *m = (struct policymgr *)mgr;
	bool current = m->have_desired && m->desired_gen == m->model->generation;
	int r = 0;

	if (!m->model || (current && !m->full))
		return 0; /* the fast path kept the table current */
	if (!current)
		r = compile(m);
	if (r == 0)
		r = sync_table(m);
	m->full = r < 0;
	return r;
}

static void policymgr_update(struct felix_manager *mgr, const struct felix_desired *d)
{
	((struct policymgr *)mgr)->model = d->model;
}

static void policymgr_resync(struct felix_manager *mgr)
{
	((struct policymgr *)mgr)->full = true;
}

void policymgr_invalidate(struct felix_manager *mgr)
{
	((struct policymgr *)mgr)->have_desired = false;
}

bool policymgr_configure(struct felix_manager *mgr, enum policy_host_action endpoint_to_host,
			 const char *log_prefix, int nflog_group,
			 const struct policy_failsafes *failsafe_in,
			 const struct policy_failsafes *failsafe_out)
{
	struct policymgr *m = (struct policymgr *)mgr;

	if (m->opts.endpoint_to_host == endpoint_to_host && m->opts.nflog_group == nflog_group &&
	    strcmp(m->log_prefix, log_prefix) == 0 &&
	    policy_failsafes_cmp(&m->failsafe_in, failsafe_in) == 0 &&
	    policy_failsafes_cmp(&m->failsafe_out, failsafe_out) == 0)
		return false;
	m->opts.endpoint_to_host = endpoint_to_host;
	m->opts.nflog_group = nflog_group;
	m->failsafe_in = *failsafe_in;
	m->failsafe_out = *failsafe_out;
	snprintf(m->log_prefix, sizeof(m->log_prefix), "%s", log_prefix);
	m->have_desired = false;
	return true;
}

static void policymgr_pod_changed(struct felix_manager *mgr, uint64_t gen0,
				  const struct policy_pod *old, const struct policy_pod *new)
{
	struct policymgr *m = (struct policymgr *)mgr;
	_cleanup_(policy_plan_freep) struct policy_plan *p = NULL;
	_cleanup_free_ char *err = NULL;
	int r;

	if (!m->model || !m->have_desired || m->desired_gen != gen0)
		return;
	r = policy_desired_update_pod(m->desired, m->model, old, new, &p);
	if (r == 0 && !policy_plan_is_empty(p))
		r = m->kernel->apply(m->k, p, &err);
	if (r < 0) {
		if (r != -ESTALE) {
			m->mgr.errors++;
			log_warning_errno(r, "Incremental policy update failed (full resync next): %s",
					  err ? err : strerror(-r));
		}
		m->have_desired = false; /* recompile */
		m->full = true;
		return;
	}
	m->desired_gen = m->model->generation;
	if (!policy_plan_is_empty(p)) {
		m->mgr.batches++;
		log_debug("Pod %s/%s: policy elements +%zu -%zu", (new ?: old)->ns,
			  (new ?: old)->name, policy_plan_count_elems(p, POLICY_OP_ELEM_ADD),
			  policy_plan_count_elems(p, POLICY_OP_ELEM_DEL));
	}
}

static void policymgr_write_metrics(const struct felix_manager *mgr, struct metrics_buf *b)
{
	const struct policymgr *m = (const struct policymgr *)mgr;

	metrics_header(b, "felix_c_nft_set_elements", "gauge",
		       "Elements in our nftables sets (desired).");
	metrics_sample(b, "felix_c_nft_set_elements", NULL, 0, (double)m->n_set_elems);
	/* Calico's name and meaning: policies selecting some pod of this node. */
	metrics_header(b, "felix_active_local_policies", "gauge",
		       "Number of active policies on this host.");
	metrics_sample(b, "felix_active_local_policies", NULL, 0,
		       m->desired ? (double)policy_desired_n_policies(m->desired) : 0);
}

static struct felix_manager *policymgr_free(struct felix_manager *mgr)
{
	struct policymgr *m = (struct policymgr *)mgr;

	policy_desired_free(m->desired);
	free(m->table);
	free(m);
	return NULL;
}

static const struct felix_manager_ops policymgr_ops = {
	.name = "policy",
	.hist_name = "felix_c_policy_apply_seconds",
	.hist_help = "Policy reconcile duration.",
	.update = policymgr_update,
	.apply = policymgr_apply,
	.resync = policymgr_resync,
	.pod_changed = policymgr_pod_changed,
	.write_metrics = policymgr_write_metrics,
	.free = policymgr_free,
};

int policymgr_new(const struct policymgr_kernel *kernel, void *k, const char *table,
		  struct felix_manager **ret)
{
	struct policymgr *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	m->table = strdup(table);
	if (!m->table) {
		free(m);
		return -ENOMEM;
	}
	m->mgr.ops = &policymgr_ops;
	snprintf(m->log_prefix, sizeof(m->log_prefix), "%s", POLICY_LOG_PREFIX_DEFAULT);
	m->opts = (struct policy_options){ .table = m->table, .nflog_group = -1,
					   .log_prefix = m->log_prefix,
					   .failsafe_in = &m->failsafe_in,
					   .failsafe_out = &m->failsafe_out };
	m->kernel = kernel;
	m->k = k;
	m->full = true;
	*ret = &m->mgr;
	return 0;
}
