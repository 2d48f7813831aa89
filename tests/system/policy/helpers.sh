# Helpers for the policy system tests (lab: none). Builds, inside the test's
# own network namespace: a node namespace that routes for pod namespaces
# (veth pairs with the host end named like the CNI plugin names it, /32
# routes and proxy ARP toward 169.254.1.1; /128 routes and the node's
# link-local gateway for IPv6) and an external host behind it, dual-stack.
#
#   node 192.168.50.1 fd00:50::1 -- ext0 <-> eth0 -- ext 192.168.50.2 fd00:50::2
#                                               (default routes of the node)
#   node caliXXXX <-> eth0 pod (10.65.x.y/32, fd00:65::x/128)
set -u
SRC=${CALICO_C_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
BUILD=${CALICO_C_BUILD:-$SRC/build}
POLICY=$BUILD/bin/calico-c-policy
PROBE=$BUILD/bin/calico-c-policy-probe
HERE=$SRC/tests/system/policy

if [ -f "$SRC/tests/system/lib.sh" ]; then
	. "$SRC/tests/system/lib.sh"
else
	_exit_cmds=()
	fail() { echo "FAIL: $*" >&2; exit 1; }
	on_exit() { _exit_cmds+=("$*"); }
	_run_exit() { local i; for ((i = ${#_exit_cmds[@]} - 1; i >= 0; i--)); do eval "${_exit_cmds[$i]}" || true; done; }
	trap _run_exit EXIT
	wait_for() {
		local secs=$1; shift
		local end=$((SECONDS + secs))
		until "$@" >/dev/null 2>&1; do
			[ $SECONDS -lt $end ] || fail "timed out after ${secs}s: $*"
			sleep 0.05
		done
	}
fi

[ -x "$POLICY" ] && [ -x "$PROBE" ] || fail "build calico-c-policy and calico-c-policy-probe first"

TAG=$(basename "$0" | cut -c1-12)-$$
NODE=$TAG-node
EXT=$TAG-ext
TMP=$(mktemp -d /tmp/policy-test.XXXXXX)
on_exit "rm -rf '$TMP'"
PIDS=()
on_exit 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done'

ns_add() {
	ip netns add "$1" || fail "netns add $1"
	on_exit "ip netns del '$1' 2>/dev/null"
	ip -n "$1" link set lo up
}

# serve NETNS: start the probe responder on 8080 and 9090, wait until ready.
serve() {
	local ready=$TMP/ready-$1
	ip netns exec "$1" "$PROBE" serve --ready "$ready" 8080 9090 &
	PIDS+=($!)
	wait_for 5 test -e "$ready"
}

# no_dad NETNS: links made later in NETNS skip IPv6 duplicate address
# detection, so their addresses (link-local too) are usable at once.
no_dad() { ip netns exec "$1" sysctl -qw net.ipv6.conf.default.accept_dad=0; }

# v6_ready NETNS DEV: IPv6 is usable on DEV (up to a second after it went
# up, when the kernel's link watch sees its carrier): a link-local address
# and none tentative; until then a connect() from it fails at once.
v6_ready() {
	[ -n "$(ip -n "$1" -6 addr show dev "$2" scope link)" ] &&
		[ -z "$(ip -n "$1" -6 addr show dev "$2" tentative)" ]
}

node_up() {
	ns_add "$NODE"
	ns_add "$EXT"
	ip netns exec "$NODE" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.forwarding=1 \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
	ip netns exec "$EXT" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
	no_dad "$NODE"
	no_dad "$EXT"
	ip -n "$NODE" link add ext0 type veth peer name eth0 netns "$EXT"
	ip -n "$NODE" addr add 192.168.50.1/24 dev ext0
	ip -n "$NODE" addr add fd00:50::1/64 dev ext0
	ip -n "$NODE" link set ext0 up
	ip -n "$EXT" addr add 192.168.50.2/24 dev eth0
	ip -n "$EXT" addr add fd00:50::2/64 dev eth0
	ip -n "$EXT" link set eth0 up
	ip -n "$NODE" route add default via 192.168.50.2
	ip -n "$NODE" -6 route add default via fd00:50::2
	ip -n "$EXT" route add 10.65.0.0/16 via 192.168.50.1
	ip -n "$EXT" -6 route add fd00:65::/64 via fd00:50::1
	wait_for 5 v6_ready "$NODE" ext0
	wait_for 5 v6_ready "$EXT" eth0
	serve "$NODE"
	serve "$EXT"
}

hostif() { printf 'cali%s' "$(printf '%s.%s' "$1" "$2" | sha1sum | cut -c1-11)"; }

# The pod's IPv6 gateway: a link-local the node puts on each host veth
# (WIRE_GATEWAY_V6 of cni-plugin/wire.h).
GATEWAY_V6=fe80::ecee:eeff:feee:eeee

# pod_up NS NAME IP...: a pod namespace wired the way the CNI plugin wires
# one, with at most one address of each family: IPv4 as a /32 behind proxy
# ARP for 169.254.1.1, IPv6 as a /128 behind the node's GATEWAY_V6.
pod_up() {
	local pns=$TAG-$1-$2 hif ip
	hif=$(hostif "$1" "$2")
	ns_add "$pns"
	ip netns exec "$pns" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
	[[ "${*:3}" != *:* ]] || no_dad "$pns"
	ip -n "$NODE" link add "$hif" type veth peer name eth0 netns "$pns"
	ip -n "$pns" link set eth0 up
	ip -n "$NODE" link set "$hif" up
	for ip in "${@:3}"; do
		if [[ $ip == *:* ]]; then
			# IPv6 routing only from the first IPv6 pod on: a router node
			# receives the pods' router solicitations (counted by policy)
			ip netns exec "$NODE" sysctl -qw net.ipv6.conf.all.forwarding=1 \
				"net.ipv6.conf.$hif.accept_ra=0" "net.ipv6.conf.$hif.proxy_ndp=1"
			ip -n "$NODE" addr add "$GATEWAY_V6/64" dev "$hif"
			ip -n "$pns" addr add "$ip/128" dev eth0
			ip -n "$pns" -6 route add default via "$GATEWAY_V6" dev eth0
			ip -n "$NODE" -6 route add "$ip/128" dev "$hif"
			wait_for 5 v6_ready "$pns" eth0
		else
			ip -n "$pns" addr add "$ip/32" dev eth0
			ip -n "$pns" route add 169.254.1.1 dev eth0 scope link
			ip -n "$pns" route add default via 169.254.1.1 dev eth0
			ip netns exec "$NODE" sysctl -qw "net.ipv4.conf.$hif.proxy_arp=1" \
				"net.ipv4.conf.$hif.forwarding=1" "net.ipv4.neigh.$hif.proxy_delay=0"
			ip -n "$NODE" route add "$ip/32" dev "$hif"
		fi
	done
	serve "$pns"
}

# The cluster of the matrix tests (cluster.json): three namespaces, six pods.
cluster_up() {
	local ns name ip
	node_up
	while read -r ns name ip; do
		pod_up "$ns" "$name" "$ip"
	done < <(jq -r '.pods[] | "\(.ns) \(.name) \(.ip)"' "$HERE/cluster.json")
}

policy() { ip netns exec "$NODE" "$POLICY" "$@"; }
nft_node() { ip netns exec "$NODE" nft "$@"; }

# probe_ok NETNS SPEC: one probe must succeed.
probe_ok() { ip netns exec "$1" "$PROBE" check --timeout 1000 "$2" | grep -q ' ok$'; }
probe_fails() { ip netns exec "$1" "$PROBE" check --timeout 400 "$2" | grep -q ' fail$'; }

# matrix SCENARIOS [ONLY]: run scenarios through the oracle-checked prober.
matrix() {
	python3 "$HERE/matrix.py" --tag "$TAG" --policy "$POLICY" --probe "$PROBE" --tmp "$TMP" \
		--cluster "$HERE/cluster.json" "$@"
}

# write_state FILE [POLICY-JSON...]: the cluster with these policies, and
# label overrides given as LABELS:ns/name={"k":"v"} arguments.
write_state() {
	local out=$1; shift
	python3 - "$HERE/cluster.json" "$out" "$@" <<'PY'
import json, sys
cluster = json.load(open(sys.argv[1]))
pols, over = [], {}
for a in sys.argv[3:]:
    if a.startswith("LABELS:"):
        k, v = a[7:].split("=", 1)
        over[k] = json.loads(v)
    else:
        pols.append(json.loads(a))
pods = [{"metadata": {"namespace": p["ns"], "name": p["name"],
                      "labels": over.get(p["ns"] + "/" + p["name"], p["labels"])},
         "spec": {"containers": [{"name": "c", "ports": [
             {"name": c["name"], "containerPort": c["port"], "protocol": c.get("protocol", "TCP")}
             for c in p["ports"]]}]},
         "status": {"podIP": p["ip"]}} for p in cluster["pods"]]
nss = [{"metadata": {"name": n["name"], "labels": n["labels"]}} for n in cluster["namespaces"]]
json.dump({"namespaces": nss, "pods": pods, "networkpolicies": pols}, open(sys.argv[2], "w"))
PY
}

# ns_of NS/NAME: the netns of a pod of the cluster.
ns_of() { printf '%s-%s' "$TAG" "${1/\//-}"; }
