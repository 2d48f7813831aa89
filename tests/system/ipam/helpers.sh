# Shared by the IPAM system tests (sourced). Every test works on its own
# IP pool (CIDR and name unique per test), its own Node objects (names
# carrying the test's id) and its own handle ids, selected by a nodeSelector
# only its nodes match, so tests sharing a lab never touch each other's
# addresses. Everything a test creates is deleted by its EXIT trap.
set -u

SRC=${CALICO_C_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
BIN=${CALICO_C_BUILD:-$SRC/build}/bin
if [ -f "$SRC/tests/system/lib.sh" ]; then
	. "$SRC/tests/system/lib.sh"
else
	# The shared runner library is not in the tree yet: same contract.
	_on_exit=()
	on_exit() { _on_exit=("$*" "${_on_exit[@]}"); }
	_run_exit() { for c in "${_on_exit[@]}"; do eval "$c" || true; done; }
	trap _run_exit EXIT
	fail() { echo "FAIL: $*" >&2; exit 1; }
	wait_for() {
		local t=$1 end; shift; end=$((SECONDS + t))
		until "$@"; do [ $SECONDS -lt $end ] || fail "timed out after ${t}s: $*"; sleep 0.2; done
	}
	lab() { "$SRC/tests/lab/lab" "$@"; }
fi

# The apiserver: a lab of our own ("# lab: own" tests set IPAM_OWN_LAB=1
# before sourcing), the shared lab, or one given directly (LAB_KUBECONFIG).
if [ -n "${IPAM_OWN_LAB:-}" ] && [ -z "${LAB_KUBECONFIG:-}" ]; then
	LAB_NAME=ipam-$$
	lab up --name "$LAB_NAME" --nodes 1 --tors 0 >/dev/null || fail "lab up failed"
	on_exit "lab down --name '$LAB_NAME' >/dev/null 2>&1"
fi
if [ -z "${LAB_KUBECONFIG:-}" ] && [ -n "${LAB_NAME:-}" ]; then
	eval "$(lab env --name "$LAB_NAME")"
fi
KC=${LAB_KUBECONFIG:?no lab: LAB_NAME or LAB_KUBECONFIG must be set}
# The lab's apiserver is reached from the node namespaces.
NETNS=${LAB_NODE_node1_NETNS:-}
innode() { if [ -n "$NETNS" ]; then ip netns exec "$NETNS" "$@"; else "$@"; fi; }
# The same as a word list, for `"${IN_NODE[@]}" cmd &` where $! must be the
# command itself (ip netns exec and env exec, so it is).
IN_NODE=()
[ -n "$NETNS" ] && IN_NODE=(ip netns exec "$NETNS")
k() { innode "${KUBECTL:-kubectl}" --kubeconfig "$KC" "$@"; }
ctl() { innode "$BIN/calicoctl-c" --kubeconfig "$KC" "$@"; }

ID=${ID:-t$$}
TMP=$(mktemp -d "/tmp/ipam-$ID.XXXXXX")
on_exit "rm -rf '$TMP'"

# mk_node NAME [LABEL]: a Node labelled ipam-test=LABEL (default: the test id).
mk_node() {
	k apply -f - >/dev/null <<-EOF || fail "cannot create node $1"
	{"apiVersion":"v1","kind":"Node","metadata":{"name":"$1","labels":{"ipam-test":"${2:-$ID}"}}}
	EOF
	on_exit "k delete node '$1' --ignore-not-found >/dev/null 2>&1"
}

# mk_pool NAME CIDR BLOCKSIZE [SELECTOR] [DISABLED]
mk_pool() {
	local sel=${4:-} dis=${5:-false}
	[ -n "$sel" ] || sel="ipam-test == '$ID'"
	k apply -f - >/dev/null <<-EOF || fail "cannot create pool $1"
	{"apiVersion":"crd.projectcalico.org/v1","kind":"IPPool","metadata":{"name":"$1"},
	 "spec":{"cidr":"$2","blockSize":$3,"nodeSelector":"$sel","disabled":$dis,
	 "ipipMode":"Never","vxlanMode":"Never"}}
	EOF
	on_exit "purge_pool '$2'; k delete ippool '$1' --ignore-not-found >/dev/null 2>&1"
}

ip2n() { local a b c d; IFS=. read -r a b c d <<<"$1"; echo $(( (a << 24) | (b << 16) | (c << 8) | d )); }

# Deletes every IPAM object inside the IPv4 CIDR (blocks and affinities) and
# this test's handles, whatever state the test left them in.
purge_pool() {
	local lo hi
	[[ $1 == *:* ]] && return 0 # IPv6 pools: the test purges its own
	lo=$(ip2n "${1%/*}"); hi=$(( lo + (1 << (32 - ${1#*/})) ))
	k get ipamblocks,blockaffinities -o json 2>/dev/null | jq -r --argjson lo "$lo" --argjson hi "$hi" '
		def n: split("/")[0] | split(".") | map(tonumber) | .[0]*16777216 + .[1]*65536 + .[2]*256 + .[3];
		.items[] | select((.spec.cidr // "") | test("^[0-9.]+/")) | select((.spec.cidr | n) as $x | $x >= $lo and $x < $hi)
		| "\(.kind | ascii_downcase)/\(.metadata.name)"' |
		while read -r o; do k delete "$o" --ignore-not-found >/dev/null 2>&1; done
	k get ipamhandles -o json 2>/dev/null |
		jq -r --arg id "$ID" '.items[] | select(.spec.handleID | contains($id)) | .metadata.name' |
		while read -r h; do k delete ipamhandle "$h" --ignore-not-found >/dev/null 2>&1; done
}

# purge_names REGEX: deletes blocks and affinities whose name matches (IPv6).
purge_names() {
	k get ipamblocks,blockaffinities -o name 2>/dev/null | grep -E "$1" |
		while read -r o; do k delete "$o" --ignore-not-found >/dev/null 2>&1; done
}

# conf NODE POOL4 [POOL6] [LOCK]: network config for calico-c-ipam.
conf() {
	local v6=false p6='[]'
	[ -n "${3:-}" ] && { v6=true; p6="[\"$3\"]"; }
	cat <<-EOF
	{"cniVersion":"1.1.0","name":"k8s-pod-network","type":"calico-c-ipam","nodename":"$1",
	 "kubernetes":{"kubeconfig":"$KC"},"log_level":"${IPAM_LOG_LEVEL:-warning}",
	 "ipam":{"type":"calico-c-ipam","assign_ipv4":"$( [ -n "$2" ] && echo true || echo false)",
	 "assign_ipv6":"$v6","ipv4_pools":$( [ -n "$2" ] && echo "[\"$2\"]" || echo '[]'),
	 "ipv6_pools":$p6,"lock_file":"${4:-$TMP/lock-$1}"}}
	EOF
}

# ipam_cmd VERB CONTAINERID CONF [CNI_ARGS]: runs the plugin; stdout in $OUT, rc in $RC.
ipam_cmd() {
	OUT=$(printf '%s' "$3" | innode env CNI_COMMAND="$1" CNI_CONTAINERID="$2" \
		CNI_NETNS=/proc/self/ns/net CNI_IFNAME=eth0 CNI_ARGS="${4:-}" CNI_PATH="$BIN" \
		"$BIN/calico-c-ipam")
	RC=$?
}

# add NODE CID POOL -> prints the IPv4 address (fails the test on error).
add() {
	ipam_cmd ADD "$2" "$(conf "$1" "$3")" "${4:-}"
	[ "$RC" = 0 ] || fail "ADD $2 on $1 failed: $OUT"
	jq -r '.ips[0].address' <<<"$OUT" | cut -d/ -f1
}

del() {
	ipam_cmd DEL "$2" "$(conf "$1" "$3")"
	[ "$RC" = 0 ] || fail "DEL $2 on $1 failed: $OUT"
}

# Allocated addresses in the blocks whose CIDR matches the regex $1.
allocated_in() {
	k get ipamblocks -o json | jq --arg p "$1" '[.items[] | select(.spec.cidr | test($p))
		| .spec.allocations[] | select(. != null)] | length'
}

# The starting block index calico-c-ipam walks from for node $1 in a pool of
# $2 blocks (a power of two): FNV-1a 64 of the name, as in ipam/ipam.c.
start_block() {
	local s=$1 h=$((0xcbf29ce484222325)) i c
	for ((i = 0; i < ${#s}; i++)); do
		printf -v c '%d' "'${s:i:1}"
		h=$(( (h ^ c) * 1099511628211 ))
	done
	echo $(( h & ($2 - 1) ))
}

# ip_in_cidr IP CIDR (IPv4)
ip_in_cidr() {
	local ip=$1 net=${2%/*} len=${2#*/} a b c d
	IFS=. read -r a b c d <<<"$ip"; local x=$(( (a << 24) | (b << 16) | (c << 8) | d ))
	IFS=. read -r a b c d <<<"$net"; local y=$(( (a << 24) | (b << 16) | (c << 8) | d ))
	local m=$(( len == 0 ? 0 : (0xffffffff << (32 - len)) & 0xffffffff ))
	[ $(( x & m )) -eq $(( y & m )) ]
}

# check_clean: calicoctl-c ipam check reports no problem among OUR objects.
# Other tests' objects in a shared lab may be mid-flight, so problems are
# filtered to lines naming this test's id or pool prefix $1.
check_clean() {
	local out
	out=$(ctl ipam check 2>&1)
	if printf '%s\n' "$out" | grep -E "$ID|${1:-$ID}" | grep -q .; then
		printf '%s\n' "$out" >&2
		fail "ipam check found problems in this test's objects"
	fi
}

# Calico's projectcalico.org/hostname-hash label of node $1 (SHA3-256,
# base32 without padding), computed apart from calico-c's code.
host_hash() {
	python3 -c 'import base64, hashlib, sys
print(base64.b32encode(hashlib.sha3_256(sys.argv[1].encode()).digest()).decode().rstrip("="))' "$1"
}

# calico_affinity NODE CIDR: a confirmed BlockAffinity and its empty block,
# as Calico v3.31 writes them (type host, Calico's labels only).
calico_affinity() {
	local node=$1 cidr=$2 name size i allocs unalloc
	name=$(tr './' '--' <<<"$cidr")
	size=$(( 1 << (32 - ${cidr#*/}) ))
	allocs=$(for ((i = 0; i < size; i++)); do printf 'null\n'; done | jq -sc .)
	unalloc=$(seq 0 $((size - 1)) | jq -sc .)
	k create --validate=false -f - >/dev/null <<-EOF || fail "cannot create Calico's affinity for $cidr"
	{"apiVersion":"v1","kind":"List","items":[
	 {"apiVersion":"crd.projectcalico.org/v1","kind":"BlockAffinity",
	  "metadata":{"name":"$node-$name","labels":{"projectcalico.org/hostname-hash":"$(host_hash "$node")",
	   "projectcalico.org/affinity-type":"host","projectcalico.org/ip-version":"4"}},
	  "spec":{"state":"confirmed","node":"$node","cidr":"$cidr","deleted":"false","type":"host"}},
	 {"apiVersion":"crd.projectcalico.org/v1","kind":"IPAMBlock","metadata":{"name":"$name"},
	  "spec":{"cidr":"$cidr","affinity":"host:$node","allocations":$allocs,"unallocated":$unalloc,
	   "attributes":[],"strictAffinity":false,"deleted":false}}]}
	EOF
}
