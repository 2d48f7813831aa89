/* Workload interface naming. The name must be a pure function of the pod's
 * identity, so the CNI plugin (which creates the link) and felix-c (which
 * programs policy per link) agree without talking to each other.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "ifname.h"
#include "sha1.h"

int ifname_for_workload(const char *ns, const char *name, char ret[static IFNAMSIZ])
{
	uint8_t md[SHA1_DIGEST_SIZE];
	char id[512];
	int n;

	if (!name || !*name)
		return -EINVAL;
	if (ns)
		n = snprintf(id, sizeof(id), "%s.%s", ns, name);
	else
		n = snprintf(id, sizeof(id), "%s", name);
	if (n < 0 || (size_t)n >= sizeof(id))
		return -EINVAL;
	sha1(id, (size_t)n, md);
	snprintf(ret, IFNAMSIZ, "%s%02x%02x%02x%02x%02x%x", IFNAME_HOST_PREFIX, md[0], md[1],
		 md[2], md[3], md[4], md[5] >> 4);
	return 0;
}

bool ifname_is_ours(const char *ifname)
{
	return ifname && strncmp(ifname, IFNAME_HOST_PREFIX, strlen(IFNAME_HOST_PREFIX)) == 0;
}
