# The node agents of the lab (sourced by tests/lab/lab, which defines state,
# ns_of, ip_of, kc, run_bg, alive, die, say): felix-c on every node (it starts
# its BIRD), and on every ToR a BIRD peering eBGP with every node (in an
# --ipv6 lab over both families, one session per family).
#
#   lab agent up [--tor-as AS] [--ipv6-only]
#                                  ToR BIRDs + global BGPPeers, felix-c on every
#                                  node, wait until every node is ready and every
#                                  BGP session Established (--ipv6-only, in an
#                                  --ipv6 lab: nodes with an IPv6 address only,
#                                  IP=none and CALICO_ROUTER_ID=hash as Calico
#                                  documents, an IPv6 pool only, IPv6-only pods,
#                                  ToRs peering over IPv6 only)
#   lab agent start NODE           start felix-c on NODE (env FELIX_* passes through)
#   lab agent stop NODE [--kill]   SIGTERM (or SIGKILL) felix-c; BIRD stays
#   lab agent wait NODE [SECS]     until felix-c's /readiness answers 200
#   lab agent health NODE PATH     GET http://127.0.0.1:9099|9091 PATH in NODE
#   lab agent bgp HOST             BIRD's "show protocols" on a node or ToR
#
# Other FELIX_* and Calico variables in the caller's environment reach felix-c;
# DefaultEndpointToHostAction is ACCEPT unless set (empty: felix-c decides), as
# in the manifests.
# Files: felix-c's state in nodes/NODE/felix, its CNI service socket
# nodes/NODE/cni.sock and IPAM lock nodes/NODE/ipam.lock (the node's CNI config
# names both), its log log/felix-NODE.log,
# pid files pids/felix-NODE.pid and pids/bird-NODE.pid (so `lab down` stops
# both), ToR BIRD in tors/TOR.

agent_nodes() { . "$(state)/topology"; seq -f 'node%g' 1 "$nodes"; }
agent_tors() { . "$(state)/topology"; [ "$tors" -gt 0 ] && seq -f 'tor%g' 1 "$tors"; }

agent_start() {
	local node=$1 s d http=127.0.0.1
	[[ $node != hollow* ]] || http=$(ip_of "$node") # tests/lab/hollow.sh
	s=$(state)
	d=$s/nodes/$node/felix
	[ -d "$s/nodes/$node" ] || die "agent: no node '$node'"
	! alive "$s/pids/felix-$node.pid" || die "agent: felix-c already runs on $node"
	mkdir -p "$d"
	run_bg "felix-$node" "$(ns_of "$node")" env NODENAME="$node" \
		KUBECONFIG="$s/admin.kubeconfig" \
		FELIX_STATEDIR="$d" \
		FELIX_BIRDSTART=true \
		FELIX_BIRDPIDFILE="$s/pids/bird-$node.pid" \
		FELIX_BIRDCONNECTRETRY=1 \
		FELIX_MTUFILE="$s/nodes/$node/mtu" \
		FELIX_NODENAMEFILE="$s/nodes/$node/nodename" \
		FELIX_CNINETDIR="$s/nodes/$node/net.d" \
		FELIX_CNISOCKETPATH="$s/nodes/$node/cni.sock" \
		FELIX_CNIIPAMLOCKFILE="$s/nodes/$node/ipam.lock" \
		FELIX_HEALTHHOST="$http" \
		FELIX_PROMETHEUSMETRICSHOST="$http" \
		FELIX_LEASENAMESPACE=default \
		FELIX_DEFAULTENDPOINTTOHOSTACTION="${FELIX_DEFAULTENDPOINTTOHOSTACTION-ACCEPT}" \
		IP_AUTODETECTION_METHOD="${IP_AUTODETECTION_METHOD:-interface=eth0}" \
		CALICO_IPV4POOL_CIDR="${CALICO_IPV4POOL_CIDR:-10.65.0.0/16}" \
		$(agent_ipv6_env) "$LAB_BIN/felix-c"
}

# In an --ipv6 lab the node agent detects its IPv6 address on the fabric too
# (after agent up --ipv6-only, that one only).
agent_ipv6_env() {
	is_ipv6_lab || return 0
	echo "IP6=${IP6:-autodetect} IP6_AUTODETECTION_METHOD=${IP6_AUTODETECTION_METHOD:-interface=eth0}"
	echo "CALICO_IPV6POOL_CIDR=${CALICO_IPV6POOL_CIDR:-$POOL6_CIDR}"
	! is_ipv6_only || echo "IP=none CALICO_IPV4POOL_CIDR=none CALICO_ROUTER_ID=${CALICO_ROUTER_ID:-hash}"
}
is_ipv6_only() { [ -e "$(state)/ipv6-only" ]; }

agent_stop() {
	local node=$1 sig=TERM pidf
	[ "${2:-}" = --kill ] && sig=KILL
	pidf=$(state)/pids/felix-$node.pid
	alive "$pidf" || die "agent: felix-c does not run on $node"
	stop_pid "$pidf" "$sig" 10 || die "agent: felix-c on $node (pid $(cat "$pidf")) did not exit"
}

agent_health() { # NODE PATH -> body; exit 0 iff HTTP 200
	local port=9099 http=127.0.0.1
	[ "$2" = /metrics ] && port=9091
	[[ $1 != hollow* ]] || http=$(ip_of "$1")
	ip netns exec "$(ns_of "$1")" curl -sf --max-time 2 "http://$http:$port$2"
}

agent_wait() {
	local node=$1 secs=${2:-60} end
	end=$((SECONDS + secs))
	until agent_health "$node" /readiness >/dev/null 2>&1; do
		alive "$(state)/pids/felix-$node.pid" || { tail -20 "$(state)/log/felix-$node.log" >&2; die "agent: felix-c on $node exited"; }
		[ "$SECONDS" -lt "$end" ] || { agent_health "$node" /readiness >&2; die "agent: $node not ready after ${secs}s"; }
		sleep 0.2
	done
}

# A ToR: eBGP to every node (AS 64512, the nodes' default), passive so the
# nodes connect; learns the pool's routes and installs them in its kernel.
tor_start() {
	local tor=$1 as=$2 d n
	d=$(state)/tors/$tor
	mkdir -p "$d"
	{
		echo "router id $(ip_of "$tor");"
		echo "protocol device { scan time 10; }"
		echo "protocol kernel { ipv4 { import none; export all; }; merge paths on; }"
		! is_ipv6_lab || echo "protocol kernel { ipv6 { import none; export all; }; merge paths on; }"
		for n in $(agent_nodes); do
			if ! is_ipv6_only; then
				echo "protocol bgp $n { local as $as; neighbor $(ip_of "$n") as 64512;"
				echo "  connect delay time 1; connect retry time 1; error wait time 1, 10;"
				echo "  ipv4 { import all; export all; }; }"
			fi
			is_ipv6_lab || continue
			echo "protocol bgp ${n}_v6 { local as $as; neighbor $(ip6_of "$n") as 64512;"
			echo "  connect delay time 1; connect retry time 1; error wait time 1, 10;"
			echo "  ipv6 { import all; export all; }; }"
		done
	} >"$d/bird.conf"
	ip netns exec "$(ns_of "$tor")" bird -c "$d/bird.conf" -s "$d/bird.ctl" \
		-P "$(state)/pids/bird-$tor.pid" || die "agent: BIRD on $tor did not start"
	is_ipv6_only || kc apply -f - >/dev/null <<EOF
apiVersion: crd.projectcalico.org/v1
kind: BGPPeer
metadata: {name: $tor}
spec: {peerIP: $(ip_of "$tor"), asNumber: $as}
EOF
	is_ipv6_lab || return 0
	kc apply -f - >/dev/null <<EOF
apiVersion: crd.projectcalico.org/v1
kind: BGPPeer
metadata: {name: $tor-v6}
spec: {peerIP: "$(ip6_of "$tor")", asNumber: $as}
EOF
}

agent_bgp() {
	local host=$1 sock
	case $host in
	tor*) sock=$(state)/tors/$host/bird.ctl ;;
	*) sock=$(state)/nodes/$host/felix/bird.ctl ;;
	esac
	ip netns exec "$(ns_of "$host")" birdc -s "$sock" show protocols
}

agent_up() {
	local as=65001 t n
	while [ $# -gt 0 ]; do
		case $1 in
		--tor-as) as=$2; shift 2 ;;
		--ipv6-only)
			is_ipv6_lab || die "agent up --ipv6-only needs a lab made with --ipv6"
			: >"$(state)/ipv6-only"
			shift
			;;
		*) die "agent up: unknown option '$1'" ;;
		esac
	done
	for t in $(agent_tors); do
		tor_start "$t" "$as"
		as=$((as + 1))
	done
	for n in $(agent_nodes); do
		agent_start "$n"
	done
	for n in $(agent_nodes); do
		agent_wait "$n" 90
	done
	# Ready means BIRD runs with its sessions configured; wait until every
	# session is up too, so callers start from a converged fabric.
	for n in $(agent_nodes) $(agent_tors); do
		agent_bgp_converged "$n" 30
	done
	say "agents ready on $(agent_nodes | tr '\n' ' ')"
}

agent_bgp_converged() { # HOST SECS: every BGP session Established
	local end=$((SECONDS + $2)) out
	while :; do
		out=$(agent_bgp "$1" 2>/dev/null) &&
			! awk '$2 == "BGP" && $0 !~ /Established/ { bad = 1 } END { exit !bad }' <<<"$out" &&
			break
		[ "$SECONDS" -lt "$end" ] || { echo "$out" >&2; die "agent: BGP sessions of $1 not Established after $2 s"; }
		sleep 0.2
	done
}

cmd_agent() {
	local sub=${1:-}
	[ -d "$(state)" ] || die "no lab named '$LAB_NAME'"
	shift || true
	tools
	case $sub in
	up) agent_up "$@" ;;
	start) agent_start "$@" ;;
	stop) agent_stop "$@" ;;
	wait) agent_wait "$@" ;;
	health) agent_health "$@" ;;
	bgp) agent_bgp "$@" ;;
	*) die "usage: lab agent up|start|stop|wait|health|bgp ..." ;;
	esac
}
