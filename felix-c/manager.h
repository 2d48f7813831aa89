/* felix-c's dataplane managers and the desired state they share.
 *
 * The agent (agent.c) keeps the API caches and the policy model current.
 * On each reconcile it computes the desired state ONCE, into typed data
 * (struct felix_desired, built by felix_desired_build()), and hands it to
 * every manager through one small interface:
 *
 *   update(d)      remember what the new desired state asks (cheap, no I/O);
 *   apply()        the deferred work: bring this manager's dataplane to the
 *                  last desired state (its own observed state, plan, I/O);
 *   resync()       the next apply() reads everything back (periodic resync);
 *   pod_changed()  optional fast path for one pod, between reconciles;
 *   write_metrics() its own metric families.
 *
 * Each manager owns its state and its kernel (or BIRD) seam, so it is
 * unit-tested without a kernel (tests/unit/felix-c/test_*mgr.c). Managers
 * never call each other or the agent: data flows agent -> manager only.
 * (The idea follows Calico Felix's Manager with OnUpdate and
 * CompleteDeferredWork; BIRD's protocol hooks and FRR's dataplane providers
 * are the same shape.)
 */
#pragma once

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "metrics.h"
#include "prefix.h"

struct policy_model;
struct policy_pod;

/* A local pod's route: one of its addresses behind its host veth. */
struct felix_pod_route {
	struct in_prefix dst;  /* host prefix, /32 or /128 */
	char ifname[IFNAMSIZ]; /* host veth (lib/ifname.h) */
};

/* A local pod's hostPort (felix-c/hostport.h): connections to @proto
 * @host_port on @host_ip (@any_ip: on every address of the node) go to
 * @pod_ip:@container_port. IPv4 only (an IPv6 hostIP is not mapped). */
struct felix_host_port {
	const struct policy_pod *pod; /* borrowed from the model, until the next update */
	uint8_t proto;		      /* IPPROTO_TCP, _UDP, _SCTP */
	uint16_t host_port, container_port;
	bool any_ip;
	uint8_t host_ip[4];	      /* network order, when !any_ip */
	uint8_t pod_ip[4];	      /* network order: the pod's first IPv4 address */
};

/* API objects handed through as they are (BIRD renders them). */
enum felix_objs_kind {
	FELIX_OBJS_NODES,
	FELIX_OBJS_BGPCONFIGS,
	FELIX_OBJS_BGPPEERS,
	FELIX_OBJS_BGPFILTERS,
	FELIX_OBJS_SERVICES,	   /* service IP advertisement */
	FELIX_OBJS_ENDPOINTSLICES, /* which nodes have a Local service's endpoints */
	FELIX_OBJS_SECRETS,
	FELIX_OBJS_IPPOOLS,
	_FELIX_OBJS_MAX,
};

struct felix_objs {
	const json_t *cache;   /* informer cache: key -> object (borrowed) */
	const json_t *invalid; /* keys that failed validation (borrowed) */
	uint64_t gen;	       /* changes whenever cache or invalid do */
};

/* One reconcile's desired state. Built by felix_desired_build(), then
 * immutable; owned by the agent and valid until the next update(). */
struct felix_desired {
	struct in_prefix *blocks; /* this node's blocks (lib/blockaff.h), both
				   * families, sorted, unique */
	size_t n_blocks;
	struct in_prefix *borrowed; /* local pods' /32s and /128s outside those
				     * blocks, sorted, unique */
	size_t n_borrowed;
	struct felix_pod_route *pod_routes; /* local pods' /32s and /128s */
	size_t n_pod_routes;
	size_t n_local;		/* local pods with an address */
	struct felix_host_port *host_ports; /* of local pods with an IPv4 address, in
					     * model order */
	size_t n_host_ports;
	uint64_t block_addrs;	/* IPv4 addresses in this node's blocks */
	const struct policy_model *model; /* policy's input (borrowed) */
	struct felix_objs objs[_FELIX_OBJS_MAX];
};

/* What felix_desired_build() reads (all borrowed). */
struct felix_desired_input {
	const char *node;
	const json_t *affinities;	  /* BlockAffinity cache */
	const json_t *affinities_invalid; /* its invalid keys */
	const struct policy_model *model;
	struct felix_objs objs[_FELIX_OBJS_MAX];
};

/**
 * felix_desired_build - compute the desired state (pure)
 * @in: the caches and the model
 * @ret: filled; free with felix_desired_done()
 *
 * Return: 0 or -ENOMEM.
 */
int felix_desired_build(const struct felix_desired_input *in, struct felix_desired *ret);
void felix_desired_done(struct felix_desired *d);
/* Whether @p lies inside one of @d's blocks. */
bool felix_desired_in_blocks(const struct felix_desired *d, const struct in_prefix *p);

struct felix_manager;

struct felix_manager_ops {
	const char *name;	/* "route", "policy", "nat", "bird": error kind */
	const char *hist_name;	/* apply-duration histogram, NULL: none */
	const char *hist_help;
	bool optional;		/* its failure does not stop "applied" */
	void (*update)(struct felix_manager *m, const struct felix_desired *d);
	/* Return: 0; -EAGAIN: not done yet, retry soon (not an error); -errno. */
	int (*apply)(struct felix_manager *m);
	void (*resync)(struct felix_manager *m); /* may be NULL */
	/* May be NULL. @gen0: the model's generation before the change. */
	void (*pod_changed)(struct felix_manager *m, uint64_t gen0, const struct policy_pod *old,
			    const struct policy_pod *new);
	void (*write_metrics)(const struct felix_manager *m, struct metrics_buf *b); /* may be NULL */
	struct felix_manager *(*free)(struct felix_manager *m);
};

/* The head of every manager's struct. */
struct felix_manager {
	const struct felix_manager_ops *ops;
	unsigned long errors;	  /* felix_c_errors_total{kind=ops->name} */
	unsigned long batches;	  /* nftables batches it committed */
	struct metrics_hist h_apply; /* durations of apply() (ops->hist_name) */
};

static inline struct felix_manager *felix_manager_free(struct felix_manager *m)
{
	return m ? m->ops->free(m) : NULL;
}
