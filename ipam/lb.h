/* Calico's LoadBalancer IPAM rules, as pure functions: which Services get
 * addresses, what their annotations ask for, the IPAM handle of a Service,
 * and whether an address a Service holds still fits its request. The
 * controller that applies them (felix-c/lbipam.c) reads and writes the API.
 *
 * Facts, from Calico's documentation and behaviour (v3.30+):
 *  - addresses come from IPPools whose allowedUses include LoadBalancer and
 *    are recorded in Calico's IPAM data: blocks affine to
 *    "virtual:load-balancer", attributes namespace, service, type and
 *    timestamp, handle "lb-" + SHA-256 of "<name>-<namespace>-<uid>"
 *    (lower-cased) in unpadded base64url with '-', '_' and '.' removed;
 *  - KubeControllersConfiguration default, spec.controllers.loadBalancer
 *    (absent: controller off) .assignIPs: AllServices (default): every Service of type LoadBalancer
 *    whose spec.loadBalancerClass is unset or "calico"; RequestedServicesOnly:
 *    those of class "calico", and unclassed ones carrying one of the
 *    annotations below;
 *  - annotations (JSON lists): projectcalico.org/ipv4pools and
 *    projectcalico.org/ipv6pools (pool names or CIDRs), and
 *    projectcalico.org/loadBalancerIPs (at most one IPv4 and one IPv6
 *    address), which wins over the pool annotations with no fallback;
 *  - one address per entry of spec.ipFamilies (IPv4 when absent);
 *  - an address no longer fitting the annotations is released; with no
 *    annotation, one from a Manual pool is.
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "addr.h"
#include "ipam.h"

#define IPAM_LB_ANN_IPV4POOLS "projectcalico.org/ipv4pools"
#define IPAM_LB_ANN_IPV6POOLS "projectcalico.org/ipv6pools"
#define IPAM_LB_ANN_IPS "projectcalico.org/loadBalancerIPs"
#define IPAM_LB_CLASS "calico"
#define IPAM_LB_HANDLE_MAX 254 /* 253 + NUL */

enum ipam_lb_assign_mode {
	IPAM_LB_ALL_SERVICES,
	IPAM_LB_REQUESTED_SERVICES_ONLY,
	_IPAM_LB_ASSIGN_MAX,
	_IPAM_LB_ASSIGN_INVALID = -EINVAL,
};
const char *ipam_lb_assign_mode_to_string(enum ipam_lb_assign_mode m);
enum ipam_lb_assign_mode ipam_lb_assign_mode_from_string(const char *s);

/**
 * ipam_lb_assign_mode_of - whether and how a KubeControllersConfiguration
 *   runs the LoadBalancer controller
 * @kcc: the object "default", or NULL when there is none (Calico's
 *   kube-controllers would create it with the controller on)
 * @ret: the mode (AllServices when assignIPs is unset), written when 1
 * @ret_error: reason on -EINVAL (may be NULL)
 *
 * As in Calico, an object without spec.controllers.loadBalancer (or with
 * null there) turns the controller off.
 *
 * Return: 1 on, 0 off, -EINVAL (an assignIPs value Calico does not define).
 */
int ipam_lb_assign_mode_of(const json_t *kcc, enum ipam_lb_assign_mode *ret, char **ret_error);

/* Calico's handle id of a Service (see above). Return: 0, -EINVAL, -ENOMEM. */
int ipam_lb_handle(const char *name, const char *ns, const char *uid,
		   char ret[IPAM_LB_HANDLE_MAX]);

/* What one Service asks for. Pool pointers are borrowed from the pools
 * the request was parsed against. */
struct ipam_lb_request {
	bool managed;			/* ours to serve */
	struct ipam_addr ips[2];	/* loadBalancerIPs: at most one per family */
	size_t n_ips;
	const struct ipam_pool *v4_pools[IPAM_MAX_REQUESTED_POOLS];
	size_t n_v4_pools;
	const struct ipam_pool *v6_pools[IPAM_MAX_REQUESTED_POOLS];
	size_t n_v6_pools;
	unsigned num_v4, num_v6;	/* addresses wanted per family */
};

/**
 * ipam_lb_request_of - parse a Service into what it asks of LoadBalancer IPAM
 * @svc: the Service object
 * @mode: the controller's assign mode
 * @pools: the IPPools (requested pools must be LoadBalancer pools here)
 * @ret: the request (written only on success)
 * @ret_error: reason on -EINVAL (may be NULL)
 *
 * A Service that is not managed is never an error; a managed one with an
 * annotation that is no JSON list of strings, an address that does not
 * parse, two addresses of one family, or a pool that is unknown, not a
 * LoadBalancer pool or of the wrong family is.
 *
 * Return: 0, -EINVAL, -ENOMEM.
 */
int ipam_lb_request_of(const json_t *svc, enum ipam_lb_assign_mode mode,
		       const struct ipam_pools *pools, struct ipam_lb_request *ret,
		       char **ret_error);

/* Whether address @a, held by a Service asking @req, still fits it (see
 * above); an address in no LoadBalancer pool never fits. */
bool ipam_lb_addr_fits(const struct ipam_lb_request *req, const struct ipam_pools *pools,
		       const struct ipam_addr *a);
