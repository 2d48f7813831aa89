/* felix-c's CNI service (lib/cnisock.h): threads that answer the CNI
 * plugins of this node on a Unix socket, one exchange each at a time, each
 * with its own warm API client and IPAM state:
 *   - "ipam": a whole calico-c-ipam call (ipam/cnicmd.h);
 *   - "pod-*" and "ping": calico-c's Kubernetes calls (lib/cnipod.h).
 * Off when the CNISocketPath setting is "".
 */
#pragma once

struct felix_config;
struct kapi_config;
struct kapi_reader;
struct felix_cnisvc;

struct felix_cnisvc_stats {
	unsigned long ipam_calls;   /* "ipam" exchanges */
	unsigned long ipam_failed;  /* of which the IPAM call printed an error */
	unsigned long pod_calls;    /* "pod-*" and "ping" exchanges */
	unsigned long pod_failed;   /* of which answered an error */
	unsigned long bad_requests; /* unreadable or unknown requests */
};

/**
 * felix_cnisvc_start - listen at the config's CNISocketPath and serve
 * @c: configuration (must outlive the service)
 * @kc: API client configuration (copied)
 * @reader: answers the clients' cached reads (kapi_set_reader()), or NULL;
 *   borrowed, called on the service's threads
 * @ret: the service; NULL when the setting is ""
 *
 * Return: 0, -EADDRINUSE (another felix-c serves that path), -errno.
 */
int felix_cnisvc_start(const struct felix_config *c, const struct kapi_config *kc,
		       const struct kapi_reader *reader, struct felix_cnisvc **ret);
/* Stops serving (an exchange in progress finishes), removes the socket,
 * frees. Returns NULL. */
struct felix_cnisvc *felix_cnisvc_stop(struct felix_cnisvc *s);
void felix_cnisvc_stats(struct felix_cnisvc *s, struct felix_cnisvc_stats *ret);
