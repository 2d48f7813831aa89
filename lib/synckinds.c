/* The kinds felix-c keeps in sync; see synckinds.h. */
#include <string.h>

#include "kapi.h"
#include "synckinds.h"

static const struct {
	const char *name;
	const struct kapi_resource *res;
} table[_SYNC_KIND_MAX] = {
	[SYNC_NODES] = { "nodes", &kapi_nodes },
	[SYNC_PODS] = { "pods", &kapi_pods },
	[SYNC_NAMESPACES] = { "namespaces", &kapi_namespaces },
	[SYNC_NETPOLS] = { "networkpolicies", &kapi_networkpolicies },
	[SYNC_IPPOOLS] = { "ippools", &kapi_ippools },
	[SYNC_AFFINITIES] = { "blockaffinities", &kapi_blockaffinities },
	[SYNC_BLOCKS] = { "ipamblocks", &kapi_ipamblocks },
	[SYNC_BGPCONFIGS] = { "bgpconfigurations", &kapi_bgpconfigurations },
	[SYNC_BGPPEERS] = { "bgppeers", &kapi_bgppeers },
	[SYNC_BGPFILTERS] = { "bgpfilters", &kapi_bgpfilters },
	[SYNC_SERVICES] = { "services", &kapi_services },
	[SYNC_ENDPOINTSLICES] = { "endpointslices", &kapi_endpointslices },
	[SYNC_FELIXCONFIGS] = { "felixconfigurations", &kapi_felixconfigurations },
	[SYNC_SECRETS] = { "secrets", &kapi_secrets },
	[SYNC_CALICO_NETPOLS] = { "calico_networkpolicies", &kapi_calico_networkpolicies },
	[SYNC_GLOBAL_NETPOLS] = { "globalnetworkpolicies", &kapi_globalnetworkpolicies },
	[SYNC_TIERS] = { "tiers", &kapi_tiers },
	[SYNC_NETSETS] = { "networksets", &kapi_networksets },
	[SYNC_GLOBAL_NETSETS] = { "globalnetworksets", &kapi_globalnetworksets },
	[SYNC_SERVICEACCOUNTS] = { "serviceaccounts", &kapi_serviceaccounts },
	[SYNC_CNPS] = { "clusternetworkpolicies", &kapi_clusternetworkpolicies },
	[SYNC_HEPS] = { "hostendpoints", &kapi_hostendpoints },
};

const char *sync_kind_to_string(enum sync_kind k)
{
	return k >= 0 && k < _SYNC_KIND_MAX ? table[k].name : NULL;
}

enum sync_kind sync_kind_from_string(const char *s)
{
	for (int i = 0; s && i < _SYNC_KIND_MAX; i++)
		if (strcmp(table[i].name, s) == 0)
			return i;
	return _SYNC_KIND_INVALID;
}

const struct kapi_resource *sync_kind_resource(enum sync_kind k)
{
	return k >= 0 && k < _SYNC_KIND_MAX ? table[k].res : NULL;
}
