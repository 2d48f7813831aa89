/* calicoctl-c ipam {show,check,release,gc}: thin front ends over ipam/. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calicoctl-c/ctl.h"
#include "cleanup.h"
#include "ipam/gc.h"
#include "ipam/ipam.h"
#include "kapi.h"
#include "log.h"

#define DEFAULT_GC_STATE "/run/calico-c/ipam-gc-state.json"


static int open_ipam(struct ctl *c, struct ipam **ret)
{
	int r = ctl_connect(c);

	if (r < 0)
		return r;
	r = ipam_new(c->k, ret);
	if (r < 0)
		return log_error_errno(r, "Failed to set up IPAM: %m");
	return 0;
}

static int fail_ipam(const struct ipam *ipam, int r, const char *what)
{
	return log_error_errno(r, "%s: %s%s%m", what, ipam_last_error(ipam),
			       ipam_last_error(ipam)[0] ? ": " : "");
}

static double pct(uint64_t part, uint64_t total)
{
	return total ? 100.0 * (double)part / (double)total : 0.0;
}

static void show_pool(const struct ipam_pool *p, const struct ipam_blocks *blocks, bool show_blocks)
{
	char cidr[IPAM_CIDR_STRLEN];
	uint64_t total = ipam_cidr_size(&p->cidr), used = 0;

	for (size_t i = 0; i < blocks->n; i++)
		if (ipam_cidr_covers(&p->cidr, &blocks->items[i]->cidr))
			used += ipam_block_in_use(blocks->items[i]);
	(void)ipam_cidr_format(&p->cidr, cidr, sizeof(cidr));
	printf("| %-8s | %-32s | %12llu | %10llu (%5.1f%%) | %12llu (%5.1f%%) |%s\n", "IP Pool",
	       cidr, (unsigned long long)total, (unsigned long long)used, pct(used, total),
	       (unsigned long long)(total - used), pct(total - used, total),
	       p->disabled ? " disabled" : "");
	for (size_t i = 0; show_blocks && i < blocks->n; i++) {
		const struct ipam_block *b = blocks->items[i];
		uint32_t u = ipam_block_in_use(b);

		if (!ipam_cidr_covers(&p->cidr, &b->cidr))
			continue;
		(void)ipam_cidr_format(&b->cidr, cidr, sizeof(cidr));
		printf("| %-8s | %-32s | %12u | %10u (%5.1f%%) | %12u (%5.1f%%) | %s\n", "Block",
		       cidr, b->n, u, pct(u, b->n), b->n - u, pct(b->n - u, b->n),
		       b->affinity ? b->affinity : "(no affinity)");
	}
}

/* Blocks that no pool covers (their pool was deleted): shown as Calico
 * shows them, since they still hold addresses or affinities. */
static void show_orphan_blocks(const struct ipam_pools *pools, const struct ipam_blocks *blocks)
{
	char cidr[IPAM_CIDR_STRLEN];

	for (size_t i = 0; i < blocks->n; i++) {
		const struct ipam_block *b = blocks->items[i];
		uint32_t u = ipam_block_in_use(b);
		bool covered = false;

		for (size_t k = 0; k < pools->n && !covered; k++)
			covered = !pools->items[k].error &&
				  ipam_cidr_covers(&pools->items[k].cidr, &b->cidr);
		if (covered)
			continue;
		(void)ipam_cidr_format(&b->cidr, cidr, sizeof(cidr));
		printf("| %-8s | %-32s | %12u | %10u (%5.1f%%) | %12u (%5.1f%%) | %s, in no IP pool\n",
		       "Block", cidr, b->n, u, pct(u, b->n), b->n - u, pct(b->n - u, b->n),
		       b->affinity ? b->affinity : "(no affinity)");
	}
}

static int show_configuration(struct ipam *ipam)
{
	struct ipam_config cfg;
	int r = ipam_config_load(ipam, &cfg);

	if (r < 0)
		return fail_ipam(ipam, r, "Failed to read the IPAM configuration");
	printf("| %-18s | %-5s |\n", "PROPERTY", "VALUE");
	printf("| %-18s | %-5s |\n", "StrictAffinity", cfg.strict_affinity ? "true" : "false");
	printf("| %-18s | %-5s |\n", "AutoAllocateBlocks",
	       cfg.auto_allocate_blocks ? "true" : "false");
	printf("| %-18s | %5u |\n", "MaxBlocksPerHost", cfg.max_blocks_per_host);
	return 0;
}

static int show_ip(struct ipam *ipam, const char *ip)
{
	struct ipam_addr_info info;
	struct ipam_addr a;
	int r;

	if (ipam_addr_parse(ip, &a) < 0)
		return log_error_errno(-EINVAL, "'%s' is not an IP address", ip);
	r = ipam_addr_lookup(ipam, &a, &info);
	if (r == -ENOENT) {
		printf("IP %s is not in any block: not assigned\n", ip);
		return 0;
	}
	if (r < 0)
		return fail_ipam(ipam, r, "Failed to look up the address");
	if (!info.allocated) {
		printf("IP %s is not assigned (block %s, %s)\n", ip, info.block,
		       info.affinity[0] ? info.affinity : "no affinity");
		return 0;
	}
	printf("IP %s is in use\nBlock: %s (%s)\nHandle: %s\nSequence: %llu\n", ip, info.block,
	       info.affinity[0] ? info.affinity : "no affinity", info.handle,
	       (unsigned long long)info.seq);
	if (info.pod[0])
		printf("Pod: %s/%s\n", info.ns, info.pod);
	if (info.node[0])
		printf("Node: %s\n", info.node);
	return 0;
}

static int cmd_show(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = { { "show-blocks", no_argument, NULL, 'b' },
					      { "ip", required_argument, NULL, 'i' },
					      { "show-configuration", no_argument, NULL, 'c' },
					      {} };
	_cleanup_(ipam_freep) struct ipam *ipam = NULL;
	struct ipam_pools pools = {};
	struct ipam_blocks blocks = {};
	const char *ip = NULL;
	bool show_blocks = false, show_config = false;
	int o, r;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) >= 0) {
		if (o == 'b')
			show_blocks = true;
		else if (o == 'i')
			ip = optarg;
		else if (o == 'c')
			show_config = true;
		else
			return 2;
	}
	if (open_ipam(c, &ipam) < 0)
		return 1;
	if (ip)
		return show_ip(ipam, ip) < 0 ? 1 : 0;
	if (show_config)
		return show_configuration(ipam) < 0 ? 1 : 0;
	r = ipam_pools_load(ipam, &pools);
	if (r >= 0)
		r = ipam_blocks_load(ipam, &blocks, NULL, NULL, NULL);
	if (r < 0) {
		ipam_pools_done(&pools);
		return fail_ipam(ipam, r, "Failed to read IPAM state"), 1;
	}
	printf("| %-8s | %-32s | %12s | %19s | %21s |\n", "GROUPING", "CIDR", "IPS TOTAL",
	       "IPS IN USE", "IPS FREE");
	for (size_t i = 0; i < pools.n; i++) {
		if (pools.items[i].error)
			printf("| %-8s | %-32s | invalid: %s\n", "IP Pool", pools.items[i].name,
			       pools.items[i].error);
		else
			show_pool(&pools.items[i], &blocks, show_blocks);
	}
	show_orphan_blocks(&pools, &blocks);
	ipam_pools_done(&pools);
	ipam_blocks_done(&blocks);
	return 0;
}

static void print_problem(const char *p, void *userdata)
{
	(void)userdata;
	printf("  %s\n", p);
}

static int cmd_check(struct ctl *c, int argc, char **argv)
{
	_cleanup_(ipam_freep) struct ipam *ipam = NULL;
	int n;

	(void)argc;
	(void)argv;
	if (open_ipam(c, &ipam) < 0)
		return 1;
	printf("Checking IPAM for inconsistencies...\n");
	n = ipam_check(ipam, print_problem, NULL);
	if (n < 0)
		return fail_ipam(ipam, n, "Failed to check IPAM"), 1;
	printf("Found %d problems.\n", n);
	return n > 0 ? 1 : 0;
}

static int cmd_release(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = { { "ip", required_argument, NULL, 'i' }, {} };
	_cleanup_(ipam_freep) struct ipam *ipam = NULL;
	const char *ip = NULL;
	struct ipam_addr a;
	int o, r;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) >= 0) {
		if (o != 'i')
			return 2;
		ip = optarg;
	}
	if (!ip || ipam_addr_parse(ip, &a) < 0)
		return log_error_errno(-EINVAL, "ipam release needs --ip=<address>"), 2;
	if (open_ipam(c, &ipam) < 0)
		return 1;
	r = ipam_release_addr(ipam, &a, NULL);
	if (r == -ENOENT || r == 0) {
		printf("IP %s was not assigned\n", ip);
		return 0;
	}
	if (r < 0)
		return fail_ipam(ipam, r, "Failed to release the address"), 1;
	printf("Released IP %s\n", ip);
	return 0;
}

static int cmd_gc(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = { { "grace", required_argument, NULL, 'g' },
					      { "state", required_argument, NULL, 's' },
					      { "dry-run", no_argument, NULL, 'n' },
					      {} };
	_cleanup_(ipam_freep) struct ipam *ipam = NULL;
	_cleanup_(ipam_gc_state_freep) struct ipam_gc_state *st = NULL;
	struct ipam_gc_opts go = { .grace_seconds = 900 };
	struct ipam_gc_stats s;
	const char *state = DEFAULT_GC_STATE;
	char *end;
	int o, r;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) >= 0) {
		if (o == 'g') {
			unsigned long g = strtoul(optarg, &end, 10);

			if (*end || !*optarg || g > 86400 * 365)
				return log_error_errno(-EINVAL, "--grace: seconds expected"), 2;
			go.grace_seconds = (unsigned)g;
		} else if (o == 's') {
			state = optarg;
		} else if (o == 'n') {
			go.dry_run = true;
		} else {
			return 2;
		}
	}
	if (open_ipam(c, &ipam) < 0)
		return 1;
	r = ipam_gc_state_load(state, &st);
	if (r < 0) {
		log_warning_errno(r, "GC state '%s' unreadable, starting afresh, ignoring: %m", state);
		r = ipam_gc_state_new(&st);
		if (r < 0)
			return 1;
	}
	r = ipam_gc_run(ipam, &go, st, &s);
	if (r < 0)
		return fail_ipam(ipam, r, "IPAM GC failed"), 1;
	r = ipam_gc_state_save(st, state);
	if (r < 0)
		log_warning_errno(r, "Failed to save GC state '%s', ignoring: %m", state);
	printf("GC: %u leaked allocations seen, %u addresses released, %u blocks released, "
	       "%u affinities released, %u handles fixed\n",
	       s.leaks_seen, s.addrs_released, s.blocks_released, s.affinities_released,
	       s.handles_fixed);
	return 0;
}

const struct ctl_command ctl_ipam_commands[] = {
	{ "show", "[--show-blocks] | --ip=<ip> | --show-configuration: usage per pool and "
		  "block (blocks in no pool always), one address, or the IPAMConfig",
	  cmd_show, NULL },
	{ "check", "report every inconsistency; exit 1 if any", cmd_check, NULL },
	{ "release", "--ip=<ip>: release one address", cmd_release, NULL },
	{ "gc", "[--grace N] [--state FILE] [--dry-run]: release leaked addresses and blocks",
	  cmd_gc, NULL },
	{},
};
