/* calico-c-policy: program NetworkPolicy for the current network namespace.
 *
 *   calico-c-policy apply --state FILE.json [--table NAME] [--nflog-group N]
 *                         [--endpoint-to-host-action Drop|Return|Accept]
 *                         [--failsafe-inbound PORTS] [--failsafe-outbound PORTS]
 *                         [--node NAME] [--dry-run]
 *   calico-c-policy show [--table NAME] [--counters]
 *
 * apply: parse {"namespaces":[...],"pods":[...],"networkpolicies":[...]}
 * (Kubernetes object shapes), compile, read our table back, diff, and apply
 * the difference as one nftables batch. An invalid object aborts before
 * anything is sent, so the programmed ruleset stays as it was.
 * --nflog-group logs Log rules and denied packets to that NFLOG group;
 * --endpoint-to-host-action is Calico's DefaultEndpointToHostAction (Drop);
 * --failsafe-inbound/-outbound are Calico's FailsafeInboundHostPorts /
 * FailsafeOutboundHostPorts ("[tcp:|udp:][CIDR:]PORT,...", "none"; Calico's
 * defaults) for the host endpoints of the state's "hostendpoints".
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "array.h"
#include "cleanup.h"
#include "log.h"
#include "policy/compile.h"
#include "policy/failsafe.h"
#include "policy/kernel.h"
#include "policy/model.h"
#include "policy/nftstate.h"
#include "policy/plan.h"


struct args {
	const char *cmd;
	const char *state;
	const char *table;
	const char *node;
	int nflog_group;
	enum policy_host_action host_action;
	struct policy_failsafes failsafe_in, failsafe_out;
	bool dry_run;
	bool counters;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: calico-c-policy apply --state FILE.json [--table NAME] "
		   "[--nflog-group N]\n"
		   "                             [--endpoint-to-host-action Drop|Return|Accept] "
		   "[--node NAME] [--dry-run]\n"
		   "                             [--failsafe-inbound PORTS] "
		   "[--failsafe-outbound PORTS]\n"
		   "       calico-c-policy show [--table NAME] [--counters]\n");
}

static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "table", required_argument, NULL, 't' },
		{ "nflog-group", required_argument, NULL, 'g' },
		{ "endpoint-to-host-action", required_argument, NULL, 'e' },
		{ "failsafe-inbound", required_argument, NULL, 'I' },
		{ "failsafe-outbound", required_argument, NULL, 'O' },
		{ "node", required_argument, NULL, 'n' },
		{ "dry-run", no_argument, NULL, 'd' },
		{ "counters", no_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	char *end;
	int c;

	*a = (struct args){ .table = POLICY_TABLE_DEFAULT, .nflog_group = -1 };
	if (policy_failsafes_parse(POLICY_FAILSAFE_IN_DEFAULT, &a->failsafe_in) < 0 ||
	    policy_failsafes_parse(POLICY_FAILSAFE_OUT_DEFAULT, &a->failsafe_out) < 0 || argc < 2)
		return -EINVAL;
	a->cmd = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "s:t:g:e:I:O:n:dcvh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			a->state = optarg;
			break;
		case 't':
			a->table = optarg;
			break;
		case 'g':
			errno = 0;
			a->nflog_group = (int)strtol(optarg, &end, 10);
			if (errno || *end || a->nflog_group < 0 || a->nflog_group > 65535)
				return log_error_errno(-EINVAL, "Invalid --nflog-group '%s'", optarg);
			break;
		case 'e':
			a->host_action = policy_host_action_from_string(optarg);
			if (a->host_action < 0)
				return log_error_errno(-EINVAL, "Invalid --endpoint-to-host-action '%s'",
						       optarg);
			break;
		case 'I':
		case 'O':
			if (policy_failsafes_parse(optarg, c == 'I' ? &a->failsafe_in
								   : &a->failsafe_out) < 0)
				return log_error_errno(-EINVAL, "Invalid --failsafe-%s '%s'",
						       c == 'I' ? "inbound" : "outbound", optarg);
			break;
		case 'n':
			a->node = optarg;
			break;
		case 'd':
			a->dry_run = true;
			break;
		case 'c':
			a->counters = true;
			break;
		case 'v':
			log_setup(LOG_LEVEL_DEBUG, NULL, "calico-c-policy");
			break;
		default:
			return -EINVAL;
		}
	}
	return optind == argc ? 0 : -EINVAL;
}

static int load_model(const struct args *a, struct policy_model **ret)
{
	_cleanup_(policy_model_freep) struct policy_model *m = NULL;
	_cleanup_free_ char *error = NULL;
	json_error_t jerr;
	json_t *doc;
	int r;

	doc = json_load_file(a->state, 0, &jerr);
	if (!doc)
		return log_error_errno(-EINVAL, "Failed to parse '%s' line %d: %s", a->state,
				       jerr.line, jerr.text);
	r = policy_model_new(a->node, &m);
	if (r == 0)
		r = policy_model_load_json(m, doc, &error);
	json_decref(doc);
	if (r == -EINVAL)
		return log_error_errno(r, "Invalid state '%s': %s; nothing was changed", a->state,
				       error ? error : "invalid object");
	if (r < 0)
		return log_error_errno(r, "Failed to load '%s': %m", a->state);
	*ret = TAKE_PTR(m);
	return 0;
}

/* Milliseconds spent per phase of one apply. */
struct phases {
	double load, compile, read, plan, kernel;
};

static void summarize(const struct policy_plan *p, const struct phases *t)
{
	log_info("Applied %zu operations to table '%s' in %.1f ms: chains +%zu -%zu, rules +%zu "
		 "-%zu, sets +%zu -%zu, elements +%zu -%zu",
		 p->n_ops, p->table, t->load + t->compile + t->read + t->plan + t->kernel, policy_plan_count(p, POLICY_OP_CHAIN_ADD),
		 policy_plan_count(p, POLICY_OP_CHAIN_DEL), policy_plan_count(p, POLICY_OP_RULE_ADD),
		 policy_plan_count(p, POLICY_OP_RULE_DEL), policy_plan_count(p, POLICY_OP_SET_ADD),
		 policy_plan_count(p, POLICY_OP_SET_DEL),
		 policy_plan_count_elems(p, POLICY_OP_ELEM_ADD),
		 policy_plan_count_elems(p, POLICY_OP_ELEM_DEL));
	log_debug("Phases (ms): load %.1f compile %.1f read %.1f plan %.1f kernel %.1f", t->load,
		  t->compile, t->read, t->plan, t->kernel);
}

static int cmd_apply(const struct args *a)
{
	_cleanup_(policy_model_freep) struct policy_model *m = NULL;
	_cleanup_(policy_desired_freep) struct policy_desired *d = NULL;
	_cleanup_(policy_nft_freep) struct policy_nft *obs = NULL;
	_cleanup_(policy_plan_freep) struct policy_plan *p = NULL;
	_cleanup_(policy_kernel_closep) struct policy_kernel *k = NULL;
	_cleanup_free_ char *error = NULL;
	struct policy_options o = { .table = a->table,
				    .nflog_group = a->nflog_group,
				    .nflog_denied = true,
				    .endpoint_to_host = a->host_action,
				    .failsafe_in = &a->failsafe_in,
				    .failsafe_out = &a->failsafe_out };
	struct phases t = {};
	double t0 = now_ms();
	int r;

	if (!a->state)
		return log_error_errno(-EINVAL, "apply needs --state FILE.json");
	r = load_model(a, &m);
	if (r < 0)
		return r;
	t.load = now_ms() - t0;
	r = policy_compile(m, &o, &d);
	if (r < 0)
		return log_error_errno(r, "Failed to compile policy: %m");
	t.compile = now_ms() - t0 - t.load;
	r = policy_kernel_open(&k);
	if (r < 0)
		return log_error_errno(r, "Failed to open nftables netlink socket: %m");
	r = policy_kernel_read(k, o.table, &obs);
	if (r < 0)
		return log_error_errno(r, "Failed to read table '%s': %m", o.table);
	t.read = now_ms() - t0 - t.load - t.compile;
	r = policy_plan(obs, policy_desired_nft(d), &p, &error);
	t.plan = now_ms() - t0 - t.load - t.compile - t.read;
	if (r < 0)
		return log_error_errno(r, "Failed to plan: %s", error ? error : "out of memory");
	if (a->dry_run) {
		policy_plan_print(p, stdout);
		return 0;
	}
	if (policy_plan_is_empty(p)) {
		log_info("Table '%s' is in sync: no changes", o.table);
		return 0;
	}
	t0 = now_ms();
	r = policy_kernel_apply(k, p, &error);
	if (r < 0)
		return log_error_errno(r, "Failed to apply policy: %s", error ? error : "%m");
	t.kernel = now_ms() - t0;
	summarize(p, &t);
	return 0;
}

struct counter_sum {
	char label[POLICY_COMMENT_MAX];
	uint64_t packets, bytes;
};

static int print_counters(const struct policy_nft *t)
{
	_cleanup_free_ const char **names = NULL;
	_cleanup_free_ struct counter_sum *v = NULL;
	size_t n, nv = 0, cap = 0;
	int r;

	r = policy_nft_chain_names(t, &names, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		const struct policy_nft_chain *c = policy_nft_chain_get(t, names[i]);

		for (size_t k = 0; k < c->n_rules; k++) {
			const struct policy_nft_rule *ru = c->rules[k];
			char label[POLICY_COMMENT_MAX];
			size_t j;

			if (!ru->has_counter)
				continue;
			policy_nft_comment_label(ru->comment, label, sizeof(label));
			for (j = 0; j < nv && strcmp(v[j].label, label) != 0; j++)
				;
			if (j == nv) {
				r = ARRAY_GROW(v, cap, nv + 1);
				if (r < 0)
					return r;
				v[nv] = (struct counter_sum){};
				strcpy(v[nv++].label, label);
			}
			v[j].packets += ru->packets;
			v[j].bytes += ru->bytes;
		}
	}
	for (size_t j = 0; j < nv; j++)
		printf("%s\t%llu\t%llu\n", v[j].label, (unsigned long long)v[j].packets,
		       (unsigned long long)v[j].bytes);
	return 0;
}

static void print_table(const struct policy_nft *t)
{
	_cleanup_free_ const char **names = NULL;
	size_t n;

	printf("table inet %s\n", t->table);
	if (policy_nft_chain_names(t, &names, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		const struct policy_nft_chain *c = policy_nft_chain_get(t, names[i]);

		printf("chain %s%s\n", c->name, c->base ? " (forward hook)" : "");
		for (size_t k = 0; k < c->n_rules; k++) {
			char label[POLICY_COMMENT_MAX];

			policy_nft_comment_label(c->rules[k]->comment, label, sizeof(label));
			printf("  %10llu pkts %12llu bytes  %s\n",
			       (unsigned long long)c->rules[k]->packets,
			       (unsigned long long)c->rules[k]->bytes, label);
		}
	}
	free(names);
	names = NULL;
	if (policy_nft_set_names(t, &names, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		const struct policy_nft_set *s = policy_nft_set_get(t, names[i]);

		printf("set %s (%s): %zu element(s)\n", s->name,
		       policy_set_kind_to_string(s->kind) ?: "foreign", policy_nft_set_size(s));
	}
}

static int cmd_show(const struct args *a)
{
	_cleanup_(policy_kernel_closep) struct policy_kernel *k = NULL;
	_cleanup_(policy_nft_freep) struct policy_nft *obs = NULL;
	int r;

	r = policy_kernel_open(&k);
	if (r < 0)
		return log_error_errno(r, "Failed to open nftables netlink socket: %m");
	r = policy_kernel_read(k, a->table, &obs);
	if (r < 0)
		return log_error_errno(r, "Failed to read table '%s': %m", a->table);
	if (!obs->table_exists)
		return log_error_errno(-ENOENT, "Table inet '%s' does not exist", a->table);
	if (a->counters)
		return print_counters(obs);
	print_table(obs);
	return 0;
}

int main(int argc, char **argv)
{
	struct args a;
	int r;

	log_setup(LOG_LEVEL_INFO, NULL, "calico-c-policy");
	r = parse_args(argc, argv, &a);
	if (r < 0) {
		usage(stderr);
		return 2;
	}
	if (strcmp(a.cmd, "apply") == 0)
		r = cmd_apply(&a);
	else if (strcmp(a.cmd, "show") == 0)
		r = cmd_show(&a);
	else {
		usage(stderr);
		return 2;
	}
	return r < 0 ? 1 : 0;
}
