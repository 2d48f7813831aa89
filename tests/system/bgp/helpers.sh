# BGP system tests (sourced): a lab of our own with 3 nodes and 2 ToRs, a
# BIRD per host started by PID, node configs rendered by calico-c-birdcfg
# from API-shaped JSON, ToR configs written here (eBGP, AS 65001/65002).
# BGP_LAB_IPV6=1 before sourcing: dual stack: the lab's IPv6 fabric too (lab
# up --ipv6), nodes with an IPv6Address, an IPv6 pool and a block of it per
# node (fd00:65::/122, ::40/122, ::80/122).
. "$CALICO_C_SRC/tests/system/lib.sh"

BIN=$CALICO_C_BUILD/bin
LAB_NAME=bgp-$$
lab up --name "$LAB_NAME" --nodes 3 --tors 2 ${BGP_LAB_IPV6:+--ipv6} >/dev/null 2>&1 || fail "lab up"
on_exit "lab down --name '$LAB_NAME' >/dev/null 2>&1"
eval "$(lab env --name "$LAB_NAME")"
W=$LAB_STATE/bgp
mkdir -p "$W"

netns_of() { eval echo "\${LAB_NODE_$1_NETNS:-\${LAB_TOR_$1_NETNS:-}}"; }
ip_of() { eval echo "\${LAB_NODE_$1_IP:-\${LAB_TOR_$1_IP:-}}"; }
ip6_of() { eval echo "\${LAB_NODE_$1_IP6:-\${LAB_TOR_$1_IP6:-}}"; }
proto_of() { tr '.:' '__' <<<"$1"; } # the protocol name part of an address

# node_obj NAME [extra annotations JSON members] [labels JSON]
node_obj() {
	local v6=
	[ -z "${BGP_LAB_IPV6:-}" ] || v6=$(printf ',"projectcalico.org/IPv6Address":"%s/64"' "$(ip6_of "$1")")
	printf '{"metadata":{"name":"%s","labels":%s,"annotations":{"projectcalico.org/IPv4Address":"%s/24"%s%s}}}' \
		"$1" "${3:-{\}}" "$(ip_of "$1")" "$v6" "${2:+,$2}"
}
affinity() { # NODE CIDR
	printf '{"metadata":{"name":"%s-%s"},"spec":{"node":"%s","state":"confirmed","cidr":"%s","deleted":"false"}}' \
		"$1" "$(tr './:' '---' <<<"$2")" "$1" "$2"
}
POOLS='[{"metadata":{"name":"default"},"spec":{"cidr":"10.65.0.0/16"}}'
AFFINITIES="[$(affinity node1 10.65.1.0/26),$(affinity node2 10.65.2.0/26),$(affinity node3 10.65.3.0/26)"
if [ -n "${BGP_LAB_IPV6:-}" ]; then
	POOLS+=',{"metadata":{"name":"default-ipv6"},"spec":{"cidr":"fd00:65::/48","blockSize":122}}'
	AFFINITIES+=",$(affinity node1 fd00:65::/122),$(affinity node2 fd00:65::40/122),$(affinity node3 fd00:65::80/122)"
fi
POOLS+=]
AFFINITIES+=]
TOR_PEERS='[{"metadata":{"name":"tor1"},"spec":{"peerIP":"172.31.0.201","asNumber":65001}},
 {"metadata":{"name":"tor2"},"spec":{"peerIP":"172.31.0.202","asNumber":65002}}]'

# input NODE NODES_JSON [PEERS] [BGPCONFIGS] [BORROWED] [SECRETS] [BGPFILTERS]
input() {
	printf '{"node":"%s","nodes":%s,"bgppeers":%s,"bgpconfigurations":%s,"ippools":%s,"blockaffinities":%s,"borrowed":%s,"secrets":%s,"bgpfilters":%s}\n' \
		"$1" "$2" "${3:-[]}" "${4:-[]}" "$POOLS" "$AFFINITIES" "${5:-[]}" "${6:-[]}" "${7:-[]}" >"$W/$1.json"
}

# apply NODE: render + check + (re)load; starts BIRD the first time.
apply() {
	local ns
	ns=$(netns_of "$1")
	"$BIN/calico-c-birdcfg" apply --input "$W/$1.json" --config "$W/$1.conf" --connect-retry 1 \
		${STARTED_1:+} $( [ -f "$W/$1.pid" ] && echo --socket "$W/$1.ctl") >/dev/null ||
		fail "apply $1"
	[ -f "$W/$1.pid" ] || start_bird "$1"
}

# -R: graceful restart recovery, so a restarted BIRD keeps the kernel routes
# of its previous run until its sessions have converged (BIRD_RECOVERY=""
# for a test that needs kernel routes at once).
start_bird() {
	ip netns exec "$(netns_of "$1")" bird ${BIRD_RECOVERY--R} -c "$W/$1.conf" -s "$W/$1.ctl" -P "$W/$1.pid" ||
		fail "bird $1 did not start"
	wait_for 5 test -s "$W/$1.pid"
	on_exit "kill -9 \$(cat '$W/$1.pid' 2>/dev/null) 2>/dev/null"
}

# stop_bird NODE [SIGNAL]: TERM shuts sessions down with a notification
# (peers drop the routes); KILL looks like a crash (graceful restart).
stop_bird() {
	local pid
	pid=$(cat "$W/$1.pid")
	kill -"${2:-TERM}" "$pid"
	wait_for 10 eval "! kill -0 $pid 2>/dev/null || grep -q '^[^ ]* [^ ]* Z' /proc/$pid/stat"
	rm -f "$W/$1.pid"
}

# tor_conf TOR AS [PASSWORD for node1]: eBGP to every node, passive.
tor_conf() {
	local tor=$1 as=$2 pw=${3:-} n
	{
		echo "router id $(ip_of "$tor");"
		echo "protocol device { scan time 10; }"
		echo "protocol kernel { ipv4 { import none; export all; }; merge paths on; }"
		echo "filter pools { if net ~ [ 10.65.0.0/16+ ] then accept; reject; }"
		for n in $LAB_NODES; do
			echo "protocol bgp $n { local as $as; neighbor $(ip_of "$n") as 64512;"
			echo "  connect delay time 1; connect retry time 1; error wait time 1, 10;"
			[ -n "$pw" ] && [ "$n" = node1 ] && echo "  password \"$pw\";"
			echo "  ipv4 { import all; export filter pools; }; }"
		done
	} >"$W/$tor.conf"
}

route_via() { # HOST PREFIX NEXTHOP: the prefix is in HOST's kernel via NEXTHOP
	ip -n "$(netns_of "$1")" route show "$2" | grep -q "via $3"
}
no_route() { ! ip -n "$(netns_of "$1")" route show "$2" | grep -q .; }

established() { # HOST PROTO
	"$BIN/calico-c-birdcfg" status --socket "$W/$1.ctl" 2>/dev/null | grep -q "^$2 .*Established"
}

# pod HOST NAME IP [IP6]: a namespace wired as the CNI plugin does (veth,
# /32, proxy ARP, 169.254.1.1 gateway; with IP6 also a /128 and the IPv6
# default route via the host veth's fixed link-local), host routes with
# protocol 80.
pod() {
	local host=$1 name=$2 ip=$3 ip6=${4:-} hns pns=$LAB_NAME-$2 veth=cali$2
	hns=$(netns_of "$host")
	ip netns add "$pns"
	on_exit "ip netns del '$pns' 2>/dev/null"
	# The MAC gives the host veth its link-local fe80::ecee:eeff:feee:eeee.
	ip -n "$hns" link add "$veth" address ee:ee:ee:ee:ee:ee type veth peer name eth0 netns "$pns"
	ip -n "$pns" addr add "$ip/32" dev eth0
	[ -z "$ip6" ] || ip -n "$pns" addr add "$ip6/128" dev eth0 nodad
	ip -n "$pns" link set lo up
	ip -n "$pns" link set eth0 up
	ip -n "$pns" route add 169.254.1.1 dev eth0 scope link
	ip -n "$pns" route add default via 169.254.1.1 dev eth0
	ip netns exec "$hns" sysctl -qw "net.ipv4.conf.$veth.proxy_arp=1" \
		"net.ipv4.neigh.$veth.proxy_delay=0" "net.ipv4.conf.$veth.forwarding=1" \
		"net.ipv6.conf.$veth.accept_dad=0"
	ip -n "$hns" link set "$veth" up
	ip -n "$hns" route add "$ip/32" dev "$veth" proto 80
	[ -n "$ip6" ] || return 0
	ip -n "$pns" -6 route add default via fe80::ecee:eeff:feee:eeee dev eth0
	ip -n "$hns" -6 route add "$ip6/128" dev "$veth" proto 80
}

. "$CALICO_C_SRC/tests/system/frr.sh"
