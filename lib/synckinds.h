/* The API kinds felix-c keeps in sync (one informer each), in one table
 * shared by felix-c, which watches them (directly or through typha-c), and
 * typha-c, which watches them once for many felix-c and names them in its
 * protocol (lib/typhaproto.h) by sync_kind_to_string().
 */
#pragma once

struct kapi_resource;

enum sync_kind {
	SYNC_NODES,
	SYNC_PODS,
	SYNC_NAMESPACES,
	SYNC_NETPOLS,
	SYNC_IPPOOLS,
	SYNC_AFFINITIES,
	SYNC_BLOCKS,
	SYNC_BGPCONFIGS,
	SYNC_BGPPEERS,
	SYNC_BGPFILTERS,
	SYNC_SERVICES,
	SYNC_ENDPOINTSLICES,
	SYNC_FELIXCONFIGS,
	SYNC_SECRETS, /* in one namespace (felix-c's SecretsNamespace) */
	SYNC_CALICO_NETPOLS,
	SYNC_GLOBAL_NETPOLS,
	SYNC_TIERS,
	SYNC_NETSETS,
	SYNC_GLOBAL_NETSETS,
	SYNC_SERVICEACCOUNTS,
	SYNC_CNPS,
	SYNC_HEPS,
	_SYNC_KIND_MAX,
	_SYNC_KIND_INVALID = -22,
};

/* "pods", "calico_networkpolicies", ...; NULL when out of range. */
const char *sync_kind_to_string(enum sync_kind k);
enum sync_kind sync_kind_from_string(const char *s);
const struct kapi_resource *sync_kind_resource(enum sync_kind k);
