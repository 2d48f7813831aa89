/* crdvalid: every kind accepts a good object and refuses bad ones with a
 * message that names the object and the field. Vectors are (kind, JSON
 * object, expected message or NULL). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "cleanup.h"
#include "crdvalid.h"

#define AV "\"apiVersion\":\"crd.projectcalico.org/v1\","

struct vec {
	const char *kind;
	const char *json;
	const char *want; /* exact message, NULL = valid */
};

static void run(const struct vec *v, size_t n, const struct crdvalid_ops *ops)
{
	for (size_t i = 0; i < n; i++) {
		json_error_t je;
		json_t *o = json_loads(v[i].json, 0, &je);
		char *err = NULL;
		int r;

		if (!o)
			fail_msg("vector %zu: bad JSON: %s", i, je.text);
		r = crdvalid_check(v[i].kind, o, ops, &err);
		if (!v[i].want) {
			if (r != 0)
				fail_msg("vector %zu (%s): want valid, got %d '%s'", i, v[i].json, r,
					 err ? err : "");
		} else {
			if (r != -EINVAL)
				fail_msg("vector %zu (%s): want -EINVAL, got %d", i, v[i].json, r);
			if (!err || strcmp(err, v[i].want) != 0)
				fail_msg("vector %zu: want '%s', got '%s'", i, v[i].want,
					 err ? err : "(none)");
		}
		free(err);
		json_decref(o);
	}
}

#define POOL(SPEC) "{" AV "\"kind\":\"IPPool\",\"metadata\":{\"name\":\"p1\"},\"spec\":" SPEC "}"

static void test_ippool(void **state)
{
	static const struct vec v[] = {
		{ "IPPool", POOL("{\"cidr\":\"10.65.0.0/16\",\"blockSize\":26,\"ipipMode\":\"Never\","
				 "\"vxlanMode\":\"Never\",\"natOutgoing\":true,"
				 "\"nodeSelector\":\"kubernetes.io/hostname == 'node1'\"}"), NULL },
		{ "ippools", POOL("{\"cidr\":\"fd00:10::/64\",\"blockSize\":122}"), NULL },
		{ "IPPool", POOL("{\"cidr\":\"10.65.0.0/33\"}"),
		  "IPPool 'p1': spec.cidr: '10.65.0.0/33' is not a CIDR (address/prefix length)" },
		{ "IPPool", POOL("{\"cidr\":\"10.65.0.0\"}"),
		  "IPPool 'p1': spec.cidr: '10.65.0.0' is not a CIDR (address/prefix length)" },
		{ "IPPool", POOL("{\"cidr\":\"10.65.0.0/16\",\"blockSize\":129}"),
		  "IPPool 'p1': spec.blockSize: 129 is out of range 0..128" },
		{ "IPPool", POOL("{\"cidr\":\"10.65.0.0/16\",\"blockSize\":33}"),
		  "IPPool 'p1': spec.blockSize: 33 does not fit the IPv4 pool /16" },
		{ "IPPool", POOL("{\"cidr\":\"10.65.0.0/16\",\"blockSize\":8}"),
		  "IPPool 'p1': spec.blockSize: 8 does not fit the IPv4 pool /16" },
		{ "IPPool", POOL("{\"cidr\":\"10.65.0.0/16\",\"blockSize\":\"26\"}"),
		  "IPPool 'p1': spec.blockSize: must be an integer" },
		{ "IPPool", POOL("{\"cidr\":\"10.65.0.0/16\",\"nodeSelector\":\"a == \"}"),
		  NULL /* filled below: the selector parser's own words */ },
		{ "IPPool", POOL("{\"cidr\":\"10.65.0.0/16\",\"ipipMode\":\"Always\"}"),
		  "IPPool 'p1': spec.ipipMode: 'Always' is not supported (calico-c routes without "
		  "overlay: use Never)" },
		{ "IPPool", POOL("{\"cidr\":\"10.65.0.0/16\",\"vxlanMode\":\"Sometimes\"}"),
		  "IPPool 'p1': spec.vxlanMode: 'Sometimes' is not one of Never, Always, CrossSubnet" },
		{ "IPPool", POOL("{\"cidr\":\"10.65.0.0/16\",\"blocksize\":26}"),
		  "IPPool 'p1': spec.blocksize: unknown field" },
		{ "IPPool", POOL("{\"blockSize\":26}"), "IPPool 'p1': spec.cidr: required" },
		{ "IPPool", POOL("{\"cidr\":\"10.65.0.0/16\",\"natOutgoing\":\"yes\"}"),
		  "IPPool 'p1': spec.natOutgoing: must be a boolean" },
		{ "IPPool", POOL("{\"cidr\":\"10.65.0.0/16\",\"allowedUses\":[\"Workload\",\"Pets\"]}"),
		  "IPPool 'p1': spec.allowedUses[1]: 'Pets' is not one of Workload, Tunnel, LoadBalancer" },
		{ "IPPool", "{" AV "\"kind\":\"IPPool\",\"metadata\":{\"name\":\"Bad_Name\"},"
			    "\"spec\":{\"cidr\":\"10.0.0.0/8\"}}",
		  "IPPool 'Bad_Name': metadata.name: 'Bad_Name' is not a valid name (lower case "
		  "letters, digits, '-' and '.', at most 253)" },
		{ "IPPool", "{\"apiVersion\":\"projectcalico.org/v3\",\"kind\":\"IPPool\","
			    "\"metadata\":{\"name\":\"p1\"},\"spec\":{\"cidr\":\"10.0.0.0/8\"}}",
		  "IPPool 'p1': apiVersion: must be 'crd.projectcalico.org/v1', not "
		  "'projectcalico.org/v3'" },
		{ "IPPool", "{" AV "\"kind\":\"BGPPeer\",\"metadata\":{\"name\":\"p1\"}}",
		  "IPPool 'p1': kind: 'BGPPeer' where IPPool is expected" },
		{ "IPPool", "{" AV "\"kind\":\"IPPool\",\"metadata\":{\"name\":\"p1\"},\"sepc\":{}}",
		  "IPPool 'p1': sepc: unknown field" },
		{ "IPPool", "{" AV "\"kind\":\"IPPool\",\"metadata\":{\"name\":\"p1\",\"labels\":"
			    "{\"a\":1}},\"spec\":{\"cidr\":\"10.0.0.0/8\"}}",
		  "IPPool 'p1': metadata.labels[\"a\"]: must be a string" },
	};
	struct vec sel = v[8];
	json_t *o = json_loads(sel.json, 0, NULL);
	char *err = NULL;

	(void)state;
	run(v, 8, NULL);
	run(v + 9, ELEMENTSOF(v) - 9, NULL);
	assert_int_equal(crdvalid_check("IPPool", o, NULL, &err), -EINVAL);
	assert_non_null(strstr(err, "IPPool 'p1': spec.nodeSelector: invalid selector 'a == ': "));
	free(err);
	json_decref(o);
}

/* The ops are called only after the checks here pass, and their message
 * gets the object's name in front. */
static int pool_op(const json_t *obj, char **ret_error)
{
	json_int_t bs = json_integer_value(json_object_get(json_object_get(obj, "spec"), "blockSize"));

	if (bs && bs < 20) {
		*ret_error = strdup("spec.blockSize: must be 20..32");
		return -EINVAL;
	}
	return 0;
}

static void test_ops_called_after_own_checks(void **state)
{
	static const struct crdvalid_ops ops = { .ippool = pool_op };
	static const struct vec v[] = {
		{ "IPPool", POOL("{\"cidr\":\"10.65.0.0/16\",\"blockSize\":19}"),
		  "IPPool 'p1': spec.blockSize: must be 20..32" },
		{ "IPPool", POOL("{\"cidr\":\"10.65.0.0/16\",\"blockSize\":26}"), NULL },
		{ "IPPool", POOL("{\"cidr\":\"10.65.0.0/99\",\"blockSize\":19}"),
		  "IPPool 'p1': spec.cidr: '10.65.0.0/99' is not a CIDR (address/prefix length)" },
	};

	(void)state;
	run(v, ELEMENTSOF(v), &ops);
}

#define PEER(SPEC) "{" AV "\"kind\":\"BGPPeer\",\"metadata\":{\"name\":\"tor\"},\"spec\":" SPEC "}"

static void test_bgppeer(void **state)
{
	static const struct vec v[] = {
		{ "bgppeer", PEER("{\"peerIP\":\"172.31.0.201\",\"asNumber\":65001}"), NULL },
		{ "BGPPeers", PEER("{\"peerIP\":\"172.31.0.201:1790\",\"asNumber\":4294967295,"
				   "\"node\":\"node1\",\"keepaliveTime\":\"30s\","
				   "\"maxRestartTime\":\"2m\",\"sourceAddress\":\"None\","
				   "\"password\":{\"secretKeyRef\":{\"name\":\"s\",\"key\":\"k\"}}}"),
		  NULL },
		{ "peer", PEER("{\"peerIP\":\"[fd00::1]:179\",\"asNumber\":65001}"), NULL },
		{ "BGPPeer", PEER("{\"peerSelector\":\"rr == 'true'\",\"nodeSelector\":\"all()\"}"),
		  NULL },
		{ "BGPPeer", PEER("{\"peerIP\":\"172.31.0.300\",\"asNumber\":65001}"),
		  "BGPPeer 'tor': spec.peerIP: '172.31.0.300' is not an IP address, IP:port or "
		  "[IPv6]:port" },
		{ "BGPPeer", PEER("{\"peerIP\":\"172.31.0.1:0\",\"asNumber\":65001}"),
		  "BGPPeer 'tor': spec.peerIP: '172.31.0.1:0' is not an IP address, IP:port or "
		  "[IPv6]:port" },
		{ "BGPPeer", PEER("{\"peerIP\":\"172.31.0.201\",\"asNumber\":0}"),
		  "BGPPeer 'tor': spec.asNumber: 0 is out of range 1..4294967295" },
		{ "BGPPeer", PEER("{\"peerIP\":\"172.31.0.201\",\"asNumber\":4294967296}"),
		  "BGPPeer 'tor': spec.asNumber: 4294967296 is out of range 1..4294967295" },
		{ "BGPPeer", PEER("{\"peerIP\":\"172.31.0.201\",\"asNumber\":\"65001\"}"),
		  "BGPPeer 'tor': spec.asNumber: must be an integer" },
		{ "BGPPeer", PEER("{\"peerIP\":\"172.31.0.201\"}"),
		  "BGPPeer 'tor': spec.asNumber: required with spec.peerIP" },
		{ "BGPPeer", PEER("{\"asNumber\":65001}"),
		  "BGPPeer 'tor': spec.peerIP: required (or spec.peerSelector)" },
		{ "BGPPeer", PEER("{\"peerIP\":\"10.0.0.1\",\"asNumber\":1,\"peerSelector\":\"all()\"}"),
		  "BGPPeer 'tor': spec.peerSelector: must be empty when spec.peerIP is set" },
		{ "BGPPeer", PEER("{\"peerIP\":\"10.0.0.1\",\"asNumber\":1,\"node\":\"n1\","
				  "\"nodeSelector\":\"all()\"}"),
		  "BGPPeer 'tor': spec.nodeSelector: must be empty when spec.node is set" },
		{ "BGPPeer", PEER("{\"peerIP\":\"10.0.0.1\",\"asNumber\":1,\"keepaliveTime\":\"30\"}"),
		  "BGPPeer 'tor': spec.keepaliveTime: '30' is not a duration (e.g. \"90s\", \"1m30s\")" },
		{ "BGPPeer", PEER("{\"peerIP\":\"10.0.0.1\",\"asNumber\":1,\"keepaliveTime\":\"7h\"}"),
		  "BGPPeer 'tor': spec.keepaliveTime: '7h' is outside 1s..21845s" },
		{ "BGPPeer", PEER("{\"peerIP\":\"10.0.0.1\",\"asNumber\":1,\"maxRestartTime\":\"2h\"}"),
		  "BGPPeer 'tor': spec.maxRestartTime: '2h' is longer than 4095s" },
		{ "BGPPeer", PEER("{\"peerIP\":\"10.0.0.1\",\"asNumber\":1,\"password\":"
				  "{\"secretKeyRef\":{\"name\":\"s\"}}}"),
		  "BGPPeer 'tor': spec.password.secretKeyRef.key: required" },
		{ "BGPPeer", PEER("{\"peerIP\":\"10.0.0.1\",\"asNumber\":1,\"sourceAddress\":\"Me\"}"),
		  "BGPPeer 'tor': spec.sourceAddress: 'Me' is not one of UseNodeIP, None" },
		{ "BGPPeer", PEER("{\"peerIP\":\"10.0.0.1\",\"asNumber\":1,\"ttlSecurity\":256}"),
		  "BGPPeer 'tor': spec.ttlSecurity: 256 is out of range 0..255" },
		{ "BGPPeer", PEER("{\"peerIP\":\"10.0.0.1\",\"asNumber\":1,\"node\":\"Node_1\"}"),
		  "BGPPeer 'tor': spec.node: 'Node_1' is not a node name" },
		{ "BGPPeer", PEER("{\"peerIP\":\"10.0.0.1\",\"asNumber\":1,\"reachableBy\":\"x\"}"),
		  "BGPPeer 'tor': spec.reachableBy: 'x' is not an IP address" },
		{ "BGPPeer", PEER("{\"peerIP\":\"10.0.0.1\",\"asNumber\":1,\"extra\":{}}"),
		  "BGPPeer 'tor': spec.extra: unknown field" },
	};

	(void)state;
	run(v, ELEMENTSOF(v), NULL);
}

#define BGPC(NAME, SPEC) \
	"{" AV "\"kind\":\"BGPConfiguration\",\"metadata\":{\"name\":\"" NAME "\"},\"spec\":" SPEC "}"

static void test_bgpconfiguration(void **state)
{
	static const struct vec v[] = {
		{ "BGPConfiguration", BGPC("default", "{\"asNumber\":64512,\"nodeToNodeMeshEnabled\":"
				      "false,\"listenPort\":179,\"logSeverityScreen\":\"Info\","
				      "\"serviceClusterIPs\":[{\"cidr\":\"10.96.0.0/12\"}],"
				      "\"communities\":[{\"name\":\"c1\",\"value\":\"64512:100\"}],"
				      "\"prefixAdvertisements\":[{\"cidr\":\"10.65.0.0/16\","
				      "\"communities\":[\"c1\",\"64512:1:2\"]}]}"), NULL },
		{ "bgpconfig", BGPC("node.node1", "{\"asNumber\":65010}"), NULL },
		{ "BGPConfiguration", BGPC("default", "{\"asNumber\":0}"),
		  "BGPConfiguration 'default': spec.asNumber: 0 is out of range 1..4294967295" },
		{ "BGPConfiguration", BGPC("default", "{\"listenPort\":70000}"),
		  "BGPConfiguration 'default': spec.listenPort: 70000 is out of range 1..65535" },
		{ "BGPConfiguration", BGPC("default", "{\"serviceClusterIPs\":[{\"cidr\":\"10.96/12\"}]}"),
		  "BGPConfiguration 'default': spec.serviceClusterIPs[0].cidr: '10.96/12' is not a "
		  "CIDR (address/prefix length)" },
		{ "BGPConfiguration", BGPC("default", "{\"communities\":[{\"name\":\"c\",\"value\":"
				      "\"65536:1\"}]}"),
		  "BGPConfiguration 'default': spec.communities[0].value: '65536:1' is not a "
		  "community (aa:nn or aa:nn:mm)" },
		{ "BGPConfiguration", BGPC("default", "{\"prefixAdvertisements\":[{\"cidr\":"
				      "\"10.0.0.0/8\",\"communities\":[\"nope\"]}]}"),
		  "BGPConfiguration 'default': spec.prefixAdvertisements[0].communities[0]: 'nope' is "
		  "neither a community value nor a name defined in spec.communities" },
		{ "BGPConfiguration", BGPC("default", "{\"logSeverityScreen\":\"Loud\"}"),
		  "BGPConfiguration 'default': spec.logSeverityScreen: 'Loud' is not one of Trace, "
		  "Debug, Info, Warning, Error, Fatal, None" },
		{ "BGPConfiguration", BGPC("mine", "{}"),
		  "BGPConfiguration 'mine': metadata.name: must be 'default' or 'node.<node name>'" },
		{ "BGPConfiguration", BGPC("default", "{\"nodeMeshMaxRestartTime\":\"soon\"}"),
		  "BGPConfiguration 'default': spec.nodeMeshMaxRestartTime: 'soon' is not a duration "
		  "(e.g. \"90s\", \"1m30s\")" },
	};

	(void)state;
	run(v, ELEMENTSOF(v), NULL);
}

#define OBJ(KIND, NAME, SPEC) \
	"{" AV "\"kind\":\"" KIND "\",\"metadata\":{\"name\":\"" NAME "\"},\"spec\":" SPEC "}"
#define BLOCK_SPEC(ALLOCS, UNALLOC, ATTRS)                                                  \
	"{\"cidr\":\"10.65.0.0/30\",\"affinity\":\"host:node1\",\"strictAffinity\":false," \
	"\"allocations\":" ALLOCS ",\"unallocated\":" UNALLOC ",\"attributes\":" ATTRS "}"

static void test_ipam_kinds(void **state)
{
	static const struct vec v[] = {
		{ "IPAMBlock", OBJ("IPAMBlock", "10-65-0-0-30", BLOCK_SPEC("[0,null,null,null]",
			"[1,2,3]", "[{\"handle_id\":\"h\",\"secondary\":{\"node\":\"n\"}}]")), NULL },
		{ "IPAMBlock", OBJ("IPAMBlock", "b", BLOCK_SPEC("[null,null,null]", "[0,1,2]", "[]")),
		  "IPAMBlock 'b': spec.allocations: has 3 entries, the block has 4 addresses" },
		{ "IPAMBlock", OBJ("IPAMBlock", "b", BLOCK_SPEC("[1,null,null,null]", "[1,2,3]",
			"[{\"handle_id\":\"h\"}]")),
		  "IPAMBlock 'b': spec.allocations[0]: attribute index 1, but there are 1 attributes" },
		{ "IPAMBlock", OBJ("IPAMBlock", "b", BLOCK_SPEC("[null,null,null,null]", "[0,1,2,2]",
			"[]")),
		  "IPAMBlock 'b': spec.unallocated[3]: ordinal 2 is listed twice" },
		{ "IPAMBlock", OBJ("IPAMBlock", "b", BLOCK_SPEC("[0,null,null,null]", "[0,1,2,3]",
			"[{}]")),
		  "IPAMBlock 'b': spec.unallocated[0]: ordinal 0 is free and allocated at once" },
		{ "IPAMBlock", OBJ("IPAMBlock", "b", BLOCK_SPEC("[null,null,null,null]", "[4]", "[]")),
		  "IPAMBlock 'b': spec.unallocated[0]: ordinal 4 is outside the block (4 addresses)" },
		{ "IPAMBlock", OBJ("IPAMBlock", "b", "{\"cidr\":\"10.65.0.1/30\",\"strictAffinity\":"
			"false,\"allocations\":[],\"unallocated\":[],\"attributes\":[]}"),
		  "IPAMBlock 'b': spec.cidr: '10.65.0.1/30' has host bits set" },
		{ "IPAMBlock", OBJ("IPAMBlock", "b", "{\"cidr\":\"10.65.0.0/30\",\"affinity\":\"node1\","
			"\"strictAffinity\":false,\"allocations\":[],\"unallocated\":[],\"attributes\":[]}"),
		  "IPAMBlock 'b': spec.affinity: 'node1' is not host:<node name>" },
		{ "BlockAffinity", OBJ("BlockAffinity", "node1-10-65-0-0-26", "{\"state\":\"confirmed\","
			"\"node\":\"node1\",\"cidr\":\"10.65.0.0/26\",\"deleted\":\"false\"}"), NULL },
		{ "blockaffinities", OBJ("BlockAffinity", "a", "{\"state\":\"done\",\"node\":\"n\","
			"\"cidr\":\"10.65.0.0/26\"}"),
		  "BlockAffinity 'a': spec.state: 'done' is not one of pending, confirmed, "
		  "pendingDeletion" },
		{ "BlockAffinity", OBJ("BlockAffinity", "a", "{\"state\":\"pending\",\"node\":\"n\","
			"\"cidr\":\"10.65.0.0/26\",\"deleted\":false}"),
		  "BlockAffinity 'a': spec.deleted: must be a string" },
		{ "IPAMHandle", OBJ("IPAMHandle", "k8s-pod-network.abc", "{\"handleID\":"
			"\"k8s-pod-network.abc\",\"block\":{\"10.65.0.0/26\":1}}"), NULL },
		{ "IPAMHandle", OBJ("IPAMHandle", "h", "{\"handleID\":\"h\",\"block\":{\"10.65.0.0\":1}}"),
		  "IPAMHandle 'h': spec.block[\"10.65.0.0\"]: '10.65.0.0' is not a CIDR (address/prefix "
		  "length)" },
		{ "IPAMHandle", OBJ("IPAMHandle", "h", "{\"handleID\":\"h\",\"block\":{\"10.65.0.0/26\":-1}}"),
		  "IPAMHandle 'h': spec.block[\"10.65.0.0/26\"]: -1 is out of range 0..2147483647" },
		{ "IPAMHandle", OBJ("IPAMHandle", "h", "{\"handleID\":\"\",\"block\":{}}"),
		  "IPAMHandle 'h': spec.handleID: must not be empty" },
		{ "IPAMConfig", OBJ("IPAMConfig", "default", "{\"strictAffinity\":true,"
			"\"autoAllocateBlocks\":true,\"maxBlocksPerHost\":4}"), NULL },
		{ "IPAMConfig", OBJ("IPAMConfig", "other", "{\"strictAffinity\":true,"
			"\"autoAllocateBlocks\":true}"),
		  "IPAMConfig 'other': metadata.name: must be 'default' (IPAMConfig is a singleton)" },
		{ "IPAMConfig", OBJ("IPAMConfig", "default", "{\"strictAffinity\":true}"),
		  "IPAMConfig 'default': spec.autoAllocateBlocks: required" },
		{ "IPAMConfig", OBJ("IPAMConfig", "default", "{\"strictAffinity\":true,"
			"\"autoAllocateBlocks\":true,\"maxBlocksPerHost\":-1}"),
		  "IPAMConfig 'default': spec.maxBlocksPerHost: -1 is out of range 0..2147483647" },
	};

	(void)state;
	run(v, ELEMENTSOF(v), NULL);
}

static void test_felix_and_clusterinfo(void **state)
{
	static const struct vec v[] = {
		{ "FelixConfiguration", OBJ("FelixConfiguration", "default", "{\"logSeverityScreen\":"
			"\"Debug\",\"healthPort\":9099,\"routeRefreshInterval\":\"90s\","
			"\"someFutureKnob\":{\"x\":1}}"), NULL },
		{ "felixconfig", OBJ("FelixConfiguration", "node.node1", "{\"healthPort\":0}"),
		  "FelixConfiguration 'node.node1': spec.healthPort: 0 is out of range 1..65535" },
		{ "FelixConfiguration", OBJ("FelixConfiguration", "default",
			"{\"routeRefreshInterval\":90}"),
		  "FelixConfiguration 'default': spec.routeRefreshInterval: must be a string" },
		{ "FelixConfiguration", OBJ("FelixConfiguration", "default",
			"{\"routeRefreshInterval\":\"-5s\"}"),
		  "FelixConfiguration 'default': spec.routeRefreshInterval: '-5s' is not a duration "
		  "(e.g. \"90s\", \"1m30s\")" },
		{ "ClusterInformation", OBJ("ClusterInformation", "default", "{\"datastoreReady\":true,"
			"\"clusterGUID\":\"abc\",\"calicoVersion\":\"v3\"}"), NULL },
		{ "clusterinformations", OBJ("ClusterInformation", "default",
			"{\"datastoreReady\":\"true\"}"),
		  "ClusterInformation 'default': spec.datastoreReady: must be a boolean" },
		{ "ClusterInformation", OBJ("ClusterInformation", "default", "{\"ready\":true}"),
		  "ClusterInformation 'default': spec.ready: unknown field" },
		/* the kinds Calico's tools expect (issue 25) */
		{ "Tier", OBJ("Tier", "default", "{\"order\":1000000,\"defaultAction\":\"Deny\"}"),
		  NULL },
		{ "tiers", OBJ("Tier", "t", "{\"order\":2.5}"), NULL },
		{ "Tier", OBJ("Tier", "t", "{\"defaultAction\":\"Allow\"}"),
		  "Tier 't': spec.defaultAction: 'Allow' is not one of Pass, Deny" },
		{ "Tier", OBJ("Tier", "t", "{\"order\":\"1\"}"),
		  "Tier 't': spec.order: must be a number" },
		{ "KubeControllersConfiguration", OBJ("KubeControllersConfiguration", "default",
			"{\"controllers\":{\"node\":{\"reconcilerPeriod\":\"5m\",\"syncLabels\":"
			"\"Enabled\"}},\"healthChecks\":\"Enabled\",\"etcdV3CompactionPeriod\":\"10m\"}"),
		  NULL },
		{ "KubeControllersConfiguration", OBJ("KubeControllersConfiguration", "default",
			"{\"controllers\":{\"nodes\":{}}}"),
		  "KubeControllersConfiguration 'default': spec.controllers.nodes: unknown field" },
		{ "BGPFilter", OBJ("BGPFilter", "f", "{\"exportV4\":[{\"action\":\"Accept\","
			"\"cidr\":\"10.0.0.0/8\",\"matchOperator\":\"In\",\"prefixLength\":{\"min\":16,"
			"\"max\":24}}],\"importV6\":[{\"action\":\"Reject\",\"prefixLength\":"
			"{\"max\":128}}]}"), NULL },
		{ "BGPFilter", OBJ("BGPFilter", "f", "{\"importV4\":[{\"cidr\":\"10.0.0.0/8\"}]}"),
		  "BGPFilter 'f': spec.importV4[0].action: required" },
		{ "BGPFilter", OBJ("BGPFilter", "f", "{\"importV4\":[{\"action\":\"Accept\","
			"\"prefixLength\":{\"max\":33}}]}"),
		  "BGPFilter 'f': spec.importV4[0].prefixLength.max: 33 is out of range 0..32" },
		{ "IPPool", OBJ("IPPool", "p", "{\"cidr\":\"10.0.0.0/16\",\"assignmentMode\":"
			"\"Manual\",\"namespaceSelector\":\"team == 'a'\",\"allowedUses\":[\"Workload\"]}"),
		  NULL },
		{ "IPPool", OBJ("IPPool", "p", "{\"cidr\":\"10.0.0.0/16\",\"namespaceSelector\":"
			"\"team == 'a'\",\"allowedUses\":[\"Workload\",\"Tunnel\"]}"),
		  "IPPool 'p': spec.namespaceSelector: not allowed in a pool whose allowedUses include "
		  "Tunnel" },
		{ "IPPool", OBJ("IPPool", "p", "{\"cidr\":\"10.0.0.0/16\",\"assignmentMode\":"
			"\"manual\"}"),
		  "IPPool 'p': spec.assignmentMode: 'manual' is not one of Automatic, Manual" },
		{ "BlockAffinity", OBJ("BlockAffinity", "a", "{\"state\":\"confirmed\",\"node\":\"n\","
			"\"cidr\":\"10.65.0.0/26\",\"deleted\":\"false\",\"type\":\"host\"}"), NULL },
	};

	(void)state;
	run(v, ELEMENTSOF(v), NULL);
}

#define GNP(NAME, SPEC)                                                                      \
	"{" AV "\"kind\":\"GlobalNetworkPolicy\",\"metadata\":{\"name\":\"" NAME "\"},"         \
	"\"spec\":" SPEC "}"
#define NP(NAME, SPEC)                                                                       \
	"{" AV "\"kind\":\"NetworkPolicy\",\"metadata\":{\"name\":\"" NAME "\",\"namespace\":" \
	"\"shop\"},\"spec\":" SPEC "}"

/* Calico's policy kinds: the schema of v3.31's CRDs, and the stored name
 * "<tier>.<name>". */
static void test_policy_kinds(void **state)
{
	static const struct vec v[] = {
		{ "GlobalNetworkPolicy",
		  GNP("default.deny-db", "{\"order\":10.5,\"selector\":\"app == 'db'\","
			"\"types\":[\"Ingress\",\"Egress\"],\"ingress\":[{\"action\":\"Deny\","
			"\"protocol\":\"TCP\",\"source\":{\"nets\":[\"10.0.0.0/8\",\"192.0.2.1\"],"
			"\"namespaceSelector\":\"has(team)\",\"serviceAccounts\":{\"names\":[\"a\"],"
			"\"selector\":\"role in {'x'}\"},\"notPorts\":[80,\"100:200\",\"http\"]},"
			"\"icmp\":null}],\"egress\":[{\"action\":\"Pass\",\"protocol\":6,"
			"\"notICMP\":{\"type\":8,\"code\":0}}],\"doNotTrack\":false,"
			"\"namespaceSelector\":\"all()\"}"),
		  NULL },
		{ "gnp", GNP("security.a", "{\"tier\":\"security\"}"), NULL },
		{ "GlobalNetworkPolicy", GNP("a", "{}"),
		  "GlobalNetworkPolicy 'a': metadata.name: must be 'default.<name>' (the policy's "
		  "tier, then its name)" },
		{ "GlobalNetworkPolicy", GNP("default.a", "{\"tier\":\"security\"}"),
		  "GlobalNetworkPolicy 'default.a': metadata.name: must be 'security.<name>' (the "
		  "policy's tier, then its name)" },
		{ "GlobalNetworkPolicy", GNP("default.a", "{\"ingress\":[{\"protocol\":\"TCP\"}]}"),
		  "GlobalNetworkPolicy 'default.a': spec.ingress[0].action: required" },
		{ "GlobalNetworkPolicy", GNP("default.a", "{\"ingress\":[{\"action\":\"Reject\"}]}"),
		  "GlobalNetworkPolicy 'default.a': spec.ingress[0].action: 'Reject' is not one of "
		  "Allow, Deny, Log, Pass" },
		{ "GlobalNetworkPolicy", GNP("default.a", "{\"types\":[\"ingress\"]}"),
		  "GlobalNetworkPolicy 'default.a': spec.types[0]: 'ingress' is not one of Ingress, "
		  "Egress" },
		{ "GlobalNetworkPolicy", GNP("default.a", "{\"egress\":[{\"action\":\"Allow\","
			"\"destination\":{\"nets\":[\"10.0.0.0/33\"]}}]}"),
		  "GlobalNetworkPolicy 'default.a': spec.egress[0].destination.nets[0]: "
		  "'10.0.0.0/33' is not a CIDR or an IP address" },
		{ "GlobalNetworkPolicy", GNP("default.a", "{\"egress\":[{\"action\":\"Allow\","
			"\"destination\":{\"ports\":[true]}}]}"),
		  "GlobalNetworkPolicy 'default.a': spec.egress[0].destination.ports[0]: must be "
		  "an integer or a string" },
		{ "GlobalNetworkPolicy", GNP("default.a", "{\"order\":\"1\"}"),
		  "GlobalNetworkPolicy 'default.a': spec.order: must be a number" },
		{ "NetworkPolicy", NP("default.a", "{\"preDNAT\":true}"),
		  "NetworkPolicy 'default.a': spec.preDNAT: unknown field" },
		{ "np", NP("default.a", "{\"selector\":\"a ==\"}"), NULL /* checked below */ },
		{ "NetworkSet", "{" AV "\"kind\":\"NetworkSet\",\"metadata\":{\"name\":\"ext\","
				"\"namespace\":\"shop\",\"labels\":{\"role\":\"ext\"}},\"spec\":"
				"{\"nets\":[\"198.51.100.0/24\",\"2001:db8::/32\"]}}",
		  NULL },
		{ "globalnetworksets", "{" AV "\"kind\":\"GlobalNetworkSet\",\"metadata\":"
				       "{\"name\":\"ext\"},\"spec\":{\"nets\":[\"x\"]}}",
		  "GlobalNetworkSet 'ext': spec.nets[0]: 'x' is not a CIDR or an IP address" },
	};
	json_t *o = json_loads(v[11].json, 0, NULL);
	char *err = NULL;

	(void)state;
	run(v, 11, NULL);
	run(v + 12, ELEMENTSOF(v) - 12, NULL);
	assert_int_equal(crdvalid_check(NULL, o, NULL, &err), -EINVAL);
	assert_non_null(strstr(err, "NetworkPolicy 'default.a': spec.selector: invalid selector"));
	free(err);
	json_decref(o);
	assert_true(crdvalid_kind_lookup("networkpolicies")->namespaced);
	assert_true(crdvalid_kind_lookup("NetworkSet")->namespaced);
	assert_false(crdvalid_kind_lookup("gnp")->namespaced);
	assert_false(crdvalid_kind_lookup("GlobalNetworkSet")->namespaced);
	assert_false(crdvalid_kind_lookup("Tier")->namespaced);
}

#define HEP(SPEC) "{" AV "\"kind\":\"HostEndpoint\",\"metadata\":{\"name\":\"h1\"},\"spec\":" SPEC "}"

/* The policy model's HostEndpoint rules, as crdvalid_ops.hep sees them. */
static int hep_needs_node(const json_t *obj, char **ret_error)
{
	if (json_object_get(json_object_get(obj, "spec"), "node"))
		return 0;
	*ret_error = strdup("spec.node: required");
	return -EINVAL;
}

/* HostEndpoint: the schema of Calico's CRD, the model's rules through
 * ops.hep; FelixConfiguration's failsafe port lists. */
static void test_host_endpoint_and_failsafes(void **state)
{
	static const struct vec v[] = {
		{ "hep", HEP("{\"node\":\"n1\",\"interfaceName\":\"eth0\",\"expectedIPs\":"
			     "[\"10.0.0.1\",\"fd00::1\"],\"profiles\":[\"projectcalico-default-allow\"],"
			     "\"ports\":[{\"name\":\"ssh\",\"port\":22,\"protocol\":\"TCP\"},"
			     "{\"name\":\"x\",\"port\":9,\"protocol\":17}]}"), NULL },
		{ "HostEndpoint", HEP("{\"interfaceName\":\"eth0\"}"),
		  "HostEndpoint 'h1': spec.node: required" },
		{ "HostEndpoint", HEP("{\"node\":\"n1\",\"expectedIPs\":[\"10.0.0.0/8\"]}"),
		  "HostEndpoint 'h1': spec.expectedIPs[0]: '10.0.0.0/8' is not an IP address" },
		{ "HostEndpoint", HEP("{\"node\":\"n1\",\"ports\":[{\"name\":\"a\",\"port\":0,"
				      "\"protocol\":\"TCP\"}]}"),
		  "HostEndpoint 'h1': spec.ports[0].port: 0 is out of range 1..65535" },
		{ "HostEndpoint", HEP("{\"node\":\"n1\",\"interface\":\"eth0\"}"),
		  "HostEndpoint 'h1': spec.interface: unknown field" },
		{ "FelixConfiguration", "{" AV "\"kind\":\"FelixConfiguration\",\"metadata\":"
		  "{\"name\":\"default\"},\"spec\":{\"failsafeInboundHostPorts\":[{\"protocol\":"
		  "\"TCP\",\"port\":22,\"net\":\"10.0.0.0/8\"}],\"failsafeOutboundHostPorts\":[]}}",
		  NULL },
		{ "FelixConfiguration", "{" AV "\"kind\":\"FelixConfiguration\",\"metadata\":"
		  "{\"name\":\"default\"},\"spec\":{\"failsafeOutboundHostPorts\":[{\"port\":"
		  "70000}]}}",
		  "FelixConfiguration 'default': spec.failsafeOutboundHostPorts[0].port: 70000 is out of "
		  "range 0..65535" },
	};
	const struct crdvalid_ops ops = { .hep = hep_needs_node };

	(void)state;
	run(v, ELEMENTSOF(v), &ops);
	assert_false(crdvalid_kind_lookup("hep")->namespaced);
}

static void test_kind_lookup(void **state)
{
	static const struct {
		const char *in, *want;
	} v[] = {
		{ "IPPool", "IPPool" },	  { "ippools", "IPPool" },     { "ipPool", "IPPool" },
		{ "pool", "IPPool" },	  { "POOLS", "IPPool" },       { "bgppeers", "BGPPeer" },
		{ "peer", "BGPPeer" },	  { "BgpConfig", "BGPConfiguration" },
		{ "blockaffinities", "BlockAffinity" }, { "ipamhandle", "IPAMHandle" },
		{ "felixconfigurations", "FelixConfiguration" },
		{ "clusterinfo", "ClusterInformation" }, { "ipamconfigs", "IPAMConfig" },
		{ "IPAMBlocks", "IPAMBlock" }, { "pods", NULL },	{ "", NULL },
		{ "poolss", NULL },	{ "tiers", "Tier" }, { "BGPFilter", "BGPFilter" },
		{ "kubecontrollersconfigurations", "KubeControllersConfiguration" },
		{ "np", "NetworkPolicy" }, { "gnps", "GlobalNetworkPolicy" },
		{ "networksets", "NetworkSet" }, { "globalnetworkset", "GlobalNetworkSet" },
		{ "hostendpoints", "HostEndpoint" }, { "heps", "HostEndpoint" },
		{ "HostEndpoint", "HostEndpoint" },
	};
	size_t n = 0;

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		const struct crdvalid_kind *k = crdvalid_kind_lookup(v[i].in);

		if (!v[i].want)
			assert_null(k);
		else
			assert_string_equal(k ? k->kind : "(none)", v[i].want);
	}
	for (const struct crdvalid_kind *k = crdvalid_kinds; k->kind; k++)
		n++;
	assert_int_equal(n, 17);
}

static void test_not_ours(void **state)
{
	json_t *o = json_pack("{s:s, s:s}", "apiVersion", "v1", "kind", "Pod");
	char *err = NULL;

	(void)state;
	assert_int_equal(crdvalid_check(NULL, o, NULL, &err), -EINVAL);
	assert_string_equal(err, "'Pod' is not a kind of crd.projectcalico.org");
	free(err);
	json_decref(o);
	err = NULL;
	o = json_pack("{s:{s:s}}", "metadata", "name", "x");
	assert_int_equal(crdvalid_check(NULL, o, NULL, &err), -EINVAL);
	assert_string_equal(err, "object 'x': kind: required");
	free(err);
	json_decref(o);
}

static void test_value_checks(void **state)
{
	static const struct {
		const char *s;
		unsigned long long ms; /* ULLONG_MAX: invalid */
	} d[] = {
		{ "90s", 90000 },   { "1m30s", 90000 }, { "1.5h", 5400000 }, { "300ms", 300 },
		{ "0", 0 },	    { "2h45m", 9900000 }, { "", ~0ULL },    { "10", ~0ULL },
		{ "s", ~0ULL },	    { "-1s", ~0ULL },	{ "1d", ~0ULL },    { "1s ", ~0ULL },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(d); i++) {
		unsigned long long ms = 12345;
		bool ok = crdvalid_parse_duration(d[i].s, &ms);

		assert_int_equal(ok, d[i].ms != ~0ULL);
		if (ok)
			assert_int_equal(ms, d[i].ms);
	}
	assert_true(crdvalid_is_community("65535:65535"));
	assert_true(crdvalid_is_community("4294967295:1:2"));
	assert_false(crdvalid_is_community("65536:1"));
	assert_false(crdvalid_is_community("1:"));
	assert_false(crdvalid_is_community("a:b"));
	assert_true(crdvalid_is_cidr("fd00::/8", true));
	assert_false(crdvalid_is_cidr("fd00::1/8", true));
	assert_true(crdvalid_is_cidr("fd00::1/8", false));
	assert_false(crdvalid_is_cidr("10.0.0.0/08", false));
	assert_false(crdvalid_is_cidr("10.0.0.0/", false));
	assert_true(crdvalid_is_name("node.node-1"));
	assert_false(crdvalid_is_name("-a"));
	assert_false(crdvalid_is_name("a..b"));
	assert_false(crdvalid_is_name("a-.b"));
	assert_false(crdvalid_is_name("A"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ippool),
		cmocka_unit_test(test_ops_called_after_own_checks),
		cmocka_unit_test(test_bgppeer),
		cmocka_unit_test(test_bgpconfiguration),
		cmocka_unit_test(test_ipam_kinds),
		cmocka_unit_test(test_felix_and_clusterinfo),
		cmocka_unit_test(test_policy_kinds),
		cmocka_unit_test(test_host_endpoint_and_failsafes),
		cmocka_unit_test(test_kind_lookup),
		cmocka_unit_test(test_not_ours),
		cmocka_unit_test(test_value_checks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
