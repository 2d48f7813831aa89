/* felix-c's background thread: everything that talks to the apiserver
 * synchronously, so the event loop (watches, dataplane, health) never waits
 * on it:
 *   - startup: autodetect the node address and uplink MTU, write the MTU
 *     file, annotate the Node (projectcalico.org/IPv4Address), create the
 *     default IPPool when there is none, set ClusterInformation
 *     datastoreReady=true; retried until done;
 *   - leader election on a coordination.k8s.io Lease, and while leader IPAM
 *     leak GC (ipam/gc.h) and LoadBalancer IPAM (lbipam.h), so one node
 *     runs them at a time (Calico's kube-controllers' part).
 * The thread has its own API client. Results are read with
 * felix_worker_snapshot() (a copy under a mutex).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct felix_config;
struct kapi_config;
struct felix_worker;

struct felix_worker_status {
	bool startup_done;	 /* all startup steps succeeded */
	char node_cidr[50];	 /* the IPv4 address registered, "" until known or none */
	uint32_t mtu;		 /* written to the MTU file, 0 until then */
	bool leader;		 /* holds the GC lease */
	unsigned leader_changes; /* transitions of @leader */
	unsigned gc_runs, gc_errors;
	unsigned gc_leaks_seen, gc_addrs_released, gc_blocks_released; /* last run / totals */
	unsigned api_errors;	 /* failed requests of this thread */
	unsigned lb_passes, lb_assigned, lb_released, lb_errors; /* LoadBalancer IPAM totals */
};

/**
 * felix_worker_start - start the thread
 * @c: configuration (must outlive the worker)
 * @kc: API client configuration (copied by the thread's client)
 * @ret: the worker
 *
 * Return: 0, -ENOMEM, -errno of pthread_create.
 */
int felix_worker_start(const struct felix_config *c, const struct kapi_config *kc,
		       struct felix_worker **ret);
/* Stops the thread (a GC pass in progress finishes first) and frees it;
 * releases the Lease when it held it. Returns NULL. */
struct felix_worker *felix_worker_stop(struct felix_worker *w);
void felix_worker_snapshot(struct felix_worker *w, struct felix_worker_status *ret);
/* Asks for a LoadBalancer IPAM pass soon (a Service or IPPool changed);
 * callable from any thread. */
void felix_worker_kick_lb(struct felix_worker *w);
