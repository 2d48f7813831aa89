/* Host-side interface names of workload endpoints, as Calico derives them. */
#pragma once

#include <net/if.h>
#include <stdbool.h>

#define IFNAME_HOST_PREFIX "cali"

/**
 * ifname_for_workload - host veth name for a workload: "cali" + the first
 *   11 hex digits of SHA-1("<namespace>.<pod>"), as Calico names them
 * @ns: pod namespace, or NULL for a non-Kubernetes caller
 * @name: pod name, or the container id when @ns is NULL
 * @ret: receives the name (15 characters and NUL)
 *
 * Return: 0, -EINVAL if @name is empty or the identity too long.
 */
int ifname_for_workload(const char *ns, const char *name, char ret[static IFNAMSIZ]);

/* ifname_is_ours - true for names we own (the "cali" prefix). */
bool ifname_is_ours(const char *ifname);
