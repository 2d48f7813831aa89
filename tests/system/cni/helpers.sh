# Helpers for the CNI plugin's system tests (sourced). They assume the test
# already runs in a private network + mount namespace (tests/system/run does
# that). Names are unique per run: <name>-$$.
#
# node_up NAME         a "node" namespace with an uplink and a default route
# pod_ns NAME          an empty pod namespace; prints its path
# cni NODE CMD ID IFNAME NETNS CONF [CNI_ARGS]
#                      run calico-c like a runtime; stdout -> $OUT, rc -> $RC
# conf_v4 / conf_dual  network configs using host-local in a private dataDir
# assert_clean NODE    no cali links, no proto 80 routes, no allocations

# Never touch the root network namespace: each test re-executes itself in a
# private network + mount namespace of its own (nested inside the runner's,
# whose /run/netns, and so the lab's namespaces, stay visible).
if [ -z "${CNI_TEST_PRIVATE:-}" ]; then
	exec env CNI_TEST_PRIVATE=1 unshare --net --mount --propagation private \
		bash -c 'ip link set lo up && exec bash "$0"' "$0"
fi

: "${CALICO_C_SRC:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}"
: "${CALICO_C_BUILD:=$CALICO_C_SRC/build}"
if [ -f "$CALICO_C_SRC/tests/system/lib.sh" ]; then
	# shellcheck source=/dev/null
	. "$CALICO_C_SRC/tests/system/lib.sh"
fi

# Fallbacks with the documented semantics, for running a test file alone.
if ! declare -F fail >/dev/null; then
	fail() { echo "FAIL: $*" >&2; exit 1; }
fi
if ! declare -F on_exit >/dev/null; then
	_cni_exit_cmds=()
	_cni_run_exit() { local _cni_k; for ((_cni_k = ${#_cni_exit_cmds[@]} - 1; _cni_k >= 0; _cni_k--)); do eval "${_cni_exit_cmds[_cni_k]}" || true; done; }
	on_exit() { _cni_exit_cmds+=("$*"); }
	trap _cni_run_exit EXIT
fi
if ! declare -F wait_for >/dev/null; then
	wait_for() {
		local deadline=$((SECONDS + $1)); shift
		until "$@"; do
			[ "$SECONDS" -ge "$deadline" ] && fail "timed out waiting for: $*"
			sleep 0.05
		done
	}
fi

CNI_BIN=$CALICO_C_BUILD/bin
PLUGIN=$CNI_BIN/calico-c
CNI_PATH_DEFAULT=$CNI_BIN:/usr/lib/cni
[ -x "$PLUGIN" ] || fail "calico-c not built at $PLUGIN"

# Private to this test's mount namespace (see the re-exec above).
mountpoint -q /run/netns 2>/dev/null || {
	mkdir -p /run/netns
	mount -t tmpfs tmpfs /run/netns
}

TMP=$(mktemp -d /tmp/cni-test-XXXXXX)
on_exit "rm -rf '$TMP'"
DATA_DIR=$TMP/ipam
NETWORK=k8s-pod-network

# node_up NAME [UPLINK_MTU]: sets NODE (not in a subshell: on_exit must run
# in the test's own shell).
node_up() {
	local ns=$1-$$ uplink_mtu=${2:-1500}
	ip netns add "$ns" || fail "cannot create netns $ns"
	on_exit "ip netns del '$ns' 2>/dev/null"
	ip -n "$ns" link set lo up
	ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
	# An uplink with a default route: proxy ARP answers only for addresses
	# the node routes out of another interface.
	ip -n "$ns" link add up0 mtu "$uplink_mtu" type veth peer name up0peer
	ip -n "$ns" addr add 172.31.0.11/24 dev up0
	ip -n "$ns" link set up0 up
	ip -n "$ns" link set up0peer up
	ip -n "$ns" route add default via 172.31.0.1 dev up0 onlink
	ip -n "$ns" -6 addr add fd00:31::11/64 dev up0 nodad
	ip -n "$ns" -6 route add default via fd00:31::1 dev up0 onlink
	NODE=$ns
}

# pod_ns NAME: sets POD (the path for CNI_NETNS) and POD_NS (the name).
pod_ns() {
	POD_NS=$1-$$
	ip netns add "$POD_NS" || fail "cannot create netns $POD_NS"
	on_exit "ip netns del '$POD_NS' 2>/dev/null"
	ip -n "$POD_NS" link set lo up
	POD=/run/netns/$POD_NS
}

conf_v4() { # [cniVersion] [extra top-level JSON members]
	local v=${1:-1.0.0} extra=${2:-}
	printf '{"cniVersion":"%s","name":"%s","type":"calico-c","mtu_file":"%s/no-mtu",%s"ipam":{"type":"host-local","dataDir":"%s","subnet":"10.65.0.0/24"}}' \
		"$v" "$NETWORK" "$TMP" "${extra:+$extra,}" "$DATA_DIR"
}

conf_dual() { # [cniVersion]
	local v=${1:-1.0.0}
	printf '{"cniVersion":"%s","name":"%s","type":"calico-c","mtu_file":"%s/no-mtu","ipam":{"type":"host-local","dataDir":"%s","assign_ipv6":"true","ranges":[[{"subnet":"10.65.0.0/24"}],[{"subnet":"fd00:65::/120"}]]}}' \
		"$v" "$NETWORK" "$TMP" "$DATA_DIR"
}

# cni NODE CMD ID IFNAME NETNS CONF [CNI_ARGS] [CNI_PATH]
cni() {
	local node=$1 cmd=$2 id=$3 ifname=$4 netns=$5 conf=$6 args=${7:-} path=${8:-$CNI_PATH_DEFAULT}
	OUT=$(printf '%s' "$conf" | ip netns exec "$node" env -i PATH="$PATH" CNI_COMMAND="$cmd" \
		CNI_CONTAINERID="$id" CNI_IFNAME="$ifname" CNI_NETNS="$netns" CNI_ARGS="$args" \
		CNI_PATH="$path" "$PLUGIN" 2>>"$TMP/stderr")
	RC=$?
	return 0
}

# Expect success; fail the test with the plugin's error otherwise.
cni_ok() {
	cni "$@"
	[ "$RC" -eq 0 ] || fail "calico-c $2 $3 failed (rc $RC): $OUT $(tail -n3 "$TMP/stderr")"
}

# Expect a CNI error with the given code and a message containing $2.
cni_fails_with() { # CODE MSG-SUBSTRING
	[ "$RC" -ne 0 ] || fail "expected error code $1, got success: $OUT"
	local code msg
	code=$(jq -r .code <<<"$OUT") || fail "error output is not JSON: $OUT"
	msg=$(jq -r .msg <<<"$OUT")
	[ "$code" = "$1" ] || fail "expected code $1, got $code: $msg"
	case "$msg" in *"$2"*) ;; *) fail "message '$msg' does not mention '$2'" ;; esac
}

pod_ip() { jq -r '[.ips[] | select(.address | contains(".")) | .address][0] | split("/")[0]' <<<"$1"; }
pod_ip6() { jq -r '[.ips[] | select(.address | contains(":")) | .address][0] | split("/")[0]' <<<"$1"; }
host_if() { jq -r '.interfaces[] | select(.sandbox == null) | .name' <<<"$1"; }

allocations() { # number of addresses host-local holds
	local n=0 f
	for f in "$DATA_DIR/$NETWORK"/*; do
		[ -e "$f" ] || continue
		case ${f##*/} in lock | last_reserved_ip.*) ;; *) n=$((n + 1)) ;; esac
	done
	echo "$n"
}

assert_clean() { # NODE
	local links routes n
	links=$(ip -n "$1" -o link show | grep -c ' cali' || true)
	routes=$(ip -n "$1" route show proto 80 | wc -l)
	routes6=$(ip -n "$1" -6 route show proto 80 | wc -l)
	n=$(allocations)
	[ "$links" -eq 0 ] || fail "leaked cali links: $(ip -n "$1" -o link show | grep ' cali')"
	[ "$routes" -eq 0 ] || fail "leaked routes: $(ip -n "$1" route show proto 80)"
	[ "$routes6" -eq 0 ] || fail "leaked IPv6 routes: $(ip -n "$1" -6 route show proto 80)"
	[ "$n" -eq 0 ] || fail "leaked allocations: $(ls "$DATA_DIR/$NETWORK")"
}

# A CNI error test: run one bad ADD, check code + message, check nothing leaked.
expect_add_error() { # NODE CODE MSG ID IFNAME NETNS CONF [ARGS] [PATH]
	local node=$1 code=$2 msg=$3
	shift 3
	cni "$node" ADD "$@"
	cni_fails_with "$code" "$msg"
	assert_clean "$node"
}

# chain CMD ID IFNAME NETNS CONFLIST [RUNTIME_CONFIG]: run a conflist the way
# a runtime does (spec section 3): each plugin gets cniVersion and name from
# the list, runtimeConfig from its capabilities, and prevResult (ADD: the
# previous plugin's result; CHECK/DEL: $CHAIN_RESULT, the final ADD result).
# DEL runs in reverse order. Sets OUT/RC of the failing or last plugin and,
# for ADD, CHAIN_RESULT.
chain() {
	local cmd=$1 id=$2 ifname=$3 netns=$4 list=$5 rtc=${6:-'{}'}
	local n i order prev conf type
	n=$(jq '.plugins | length' <<<"$list")
	order=$(seq 0 $((n - 1)))
	[ "$cmd" = DEL ] && order=$(seq $((n - 1)) -1 0)
	prev=${CHAIN_RESULT:-null}
	[ "$cmd" = ADD ] && prev=null
	for i in $order; do
		conf=$(jq -c --argjson i "$i" --argjson prev "$prev" --argjson rtc "$rtc" '
			.plugins[$i] as $p
			| ($p + {cniVersion: .cniVersion, name: .name}
			   + (if $prev == null then {} else {prevResult: $prev} end)
			   + {runtimeConfig: ($rtc | with_entries(select(.key as $k
					| ($p.capabilities // {})[$k] == true)))})
			| del(.capabilities)' <<<"$list")
		type=$(jq -r .type <<<"$conf")
		OUT=$(printf '%s' "$conf" | ip netns exec "$NODE" env -i PATH="$PATH" \
			CNI_COMMAND="$cmd" CNI_CONTAINERID="$id" CNI_IFNAME="$ifname" \
			CNI_NETNS="$netns" CNI_PATH="$CNI_PATH_DEFAULT" \
			"$(PATH=$CNI_PATH_DEFAULT command -v "$type")" 2>>"$TMP/stderr")
		RC=$?
		[ "$RC" -eq 0 ] || { OUT="$type: $OUT"; return 0; }
		[ "$cmd" = ADD ] && prev=$OUT
	done
	[ "$cmd" = ADD ] && CHAIN_RESULT=$prev
	return 0
}

# ---- Kubernetes (lab: shared / lab: none with a fake kubeconfig) ----

# k8s_up: use the shared lab (LAB_NAME from the runner) or LAB_KUBECONFIG.
# Sets KC, NODE (the lab's first node namespace, where the plugin runs),
# ID (unique per run), and creates a Node object $ID-n1 and a namespace
# $ID so every object this test touches is its own.
k8s_up() {
	if [ -z "${LAB_KUBECONFIG:-}" ] && [ -n "${LAB_NAME:-}" ]; then
		eval "$("$CALICO_C_SRC/tests/lab/lab" env --name "$LAB_NAME")"
	fi
	KC=${LAB_KUBECONFIG:?no lab: LAB_NAME or LAB_KUBECONFIG must be set}
	local first=${LAB_NODES%% *}
	NODE=$(eval echo "\${LAB_NODE_${first}_NETNS}")
	[ -n "$NODE" ] || fail "no node namespace in the lab"
	ID=cni$$
	KNODE=$ID-n1
	k apply -f - >/dev/null <<-EOT || fail "cannot create node $KNODE"
	{"apiVersion":"v1","kind":"Node","metadata":{"name":"$KNODE","labels":{"cni-test":"$ID"}}}
	EOT
	on_exit "k delete node '$KNODE' --ignore-not-found >/dev/null 2>&1"
	k create namespace "$ID" >/dev/null || fail "cannot create namespace $ID"
	on_exit "k delete namespace '$ID' --wait=false >/dev/null 2>&1"
}
k() { ip netns exec "$NODE" "${KUBECTL:-kubectl}" --kubeconfig "$KC" "$@"; }

# mk_pool NAME CIDR: an IPPool only our Node selects.
mk_pool() {
	k apply -f - >/dev/null <<-EOT || fail "cannot create pool $1"
	{"apiVersion":"crd.projectcalico.org/v1","kind":"IPPool","metadata":{"name":"$1"},
	 "spec":{"cidr":"$2","blockSize":${3:-28},"nodeSelector":"cni-test == '$ID'",
	 "ipipMode":"Never","vxlanMode":"Never"}}
	EOT
	on_exit "purge_ipam '$2'; k delete ippool '$1' --ignore-not-found >/dev/null 2>&1"
}

# purge_ipam CIDR: blocks/affinities of our node and handles of our containers.
purge_ipam() {
	k get ipamblocks,blockaffinities -o json 2>/dev/null | jq -r --arg n "$KNODE" '.items[]
		| select(.spec.affinity == ("host:" + $n) or .spec.node == $n)
		| "\(.kind | ascii_downcase)/\(.metadata.name)"' |
		while read -r o; do k delete "$o" --ignore-not-found >/dev/null 2>&1; done
	k get ipamhandles -o json 2>/dev/null | jq -r --arg id "$ID" '.items[]
		| select(.spec.handleID | contains($id)) | .metadata.name' |
		while read -r h; do k delete ipamhandle "$h" --ignore-not-found >/dev/null 2>&1; done
}

# mk_pod NAME [ANNOTATIONS-JSON]: a Pod object in namespace $ID.
mk_pod() {
	local ann=${2:-'{}'}
	k apply -f - >/dev/null <<-EOT || fail "cannot create pod $1"
	{"apiVersion":"v1","kind":"Pod","metadata":{"name":"$1","namespace":"$ID",
	 "annotations":$ann},"spec":{"nodeName":"$KNODE",
	 "containers":[{"name":"c","image":"localhost/none"}]}}
	EOT
}

# conf_k8s [POOLS-JSON]: calico-c + calico-c-ipam, Calico's keys.
conf_k8s() {
	jq -c -n --arg kc "$KC" --arg node "$KNODE" --arg tmp "$TMP" --argjson pools "${1:-null}" '{
		cniVersion: "1.1.0", name: "k8s-pod-network", type: "calico-c",
		datastore_type: "kubernetes", nodename: $node, mtu_file: ($tmp + "/none"),
		log_level: "info", log_file_path: ($tmp + "/calico-c.log"),
		tls_session_dir: ($tmp + "/tls"),
		kubernetes: {kubeconfig: $kc}, policy: {type: "k8s"},
		ipam: ({type: "calico-c-ipam", assign_ipv4: "true", lock_file: ($tmp + "/ipam.lock")}
			+ (if $pools == null then {} else {ipv4_pools: $pools} end))}'
}

k8s_args() { echo "IgnoreUnknown=1;K8S_POD_NAMESPACE=$ID;K8S_POD_NAME=$1;K8S_POD_INFRA_CONTAINER_ID=$2"; }
annotation() { k get pod -n "$ID" "$1" -o json | jq -r --arg k "cni.projectcalico.org/$2" '.metadata.annotations[$k] // ""'; }
