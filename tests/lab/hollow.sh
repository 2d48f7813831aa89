# Hollow nodes for scale tests (sourced by tests/lab/lab, which defines
# state, ns_of, ip_of, new_ns, run_bg, kc, alive, stop_pid, die, say; and
# agent.sh's agent_start). A hollow node is a network namespace on the
# fabric with a Node object and a felix-c run with Hollow=true
# (felix-c/hollow.h: watches and computes as a real node, writes nothing to
# its kernel, runs no BIRD). Its health and metrics listen on its own
# address, so one poller in the fabric namespace reaches them all.
#
#   lab hollow add COUNT    add hollow nodes hollow<K+1>..hollow<K+COUNT>
#                           (Node objects labelled calico-c.scale/hollow=true)
#   lab hollow start|stop|kill all|hollowI...
#                           start felix-c (env FELIX_* passes through), or
#                           SIGTERM / SIGKILL it
#   lab hollow list         the hollow nodes, one a line
#
# Addresses: 172.31.0.0/24 holds too few hosts, so hollow nodes live on
# 172.30.0.0/16 on the same fabric bridge (gateway 172.30.0.1): hollowI is
# 172.30.<(I+1)/256>.<(I+1)%256>. At most 4000.
HOLLOW_GW=172.30.0.1

hollow_count() { cat "$(state)/hollow" 2>/dev/null || echo 0; }
hollow_list() { local n; n=$(hollow_count); [ "$n" -gt 0 ] && seq -f 'hollow%g' 1 "$n"; }

hollow_attach() {
	local host=$1 ns fab addr
	ns=$(ns_of "$host")
	fab=$(ns_of fabric)
	addr=$(ip_of "$host")
	new_ns "$ns"
	ip -n "$fab" link add "p-$host" type veth peer name eth0 netns "$ns"
	ip -n "$fab" link set "p-$host" master br0 up
	ip -n "$ns" addr add "$addr/16" dev eth0
	ip -n "$ns" link set eth0 up
	ip -n "$ns" route add default via "$HOLLOW_GW"
}

hollow_add() {
	local count=${1:-} first last i s items=
	[[ $count =~ ^[0-9]+$ && $count -ge 1 ]] || die "hollow add: COUNT must be a number >= 1"
	s=$(state)
	first=$(($(hollow_count) + 1))
	last=$((first + count - 1))
	[ "$last" -le 4000 ] || die "hollow add: at most 4000 hollow nodes"
	ip -n "$(ns_of fabric)" addr replace "$HOLLOW_GW/16" dev br0
	for ((i = first; i <= last; i++)); do
		hollow_attach "hollow$i"
		mkdir -p "$s/nodes/hollow$i"
		items="$items${items:+,}{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"hollow$i\",\"labels\":{\"kubernetes.io/hostname\":\"hollow$i\",\"kubernetes.io/os\":\"linux\",\"calico-c.scale/hollow\":\"true\"}}}"
	done
	echo "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[$items]}" | kc apply -f - >/dev/null ||
		die "hollow add: Node objects"
	echo "$last" >"$s/hollow"
	say "hollow nodes hollow$first..hollow$last added"
}

hollow_nodes_of() { # all | hollowI... -> names
	if [ "${1:-}" = all ]; then hollow_list; else printf '%s\n' "$@"; fi
}

# All at once (a restart wave): one background start per node.
hollow_start() {
	local n pids=() p rc=0
	for n in $(hollow_nodes_of "$@"); do
		FELIX_HOLLOW=true agent_start "$n" &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p" || rc=1; done
	return $rc
}

# SIGTERM or SIGKILL, all at once, then wait until every one is gone.
hollow_signal() {
	local sig=$1 n pidf
	shift
	for n in $(hollow_nodes_of "$@"); do
		pidf=$(state)/pids/felix-$n.pid
		alive "$pidf" && kill -"$sig" "$(cat "$pidf")"
	done
	for n in $(hollow_nodes_of "$@"); do
		pidf=$(state)/pids/felix-$n.pid
		[ -f "$pidf" ] || continue
		stop_pid "$pidf" 0 10 || die "hollow: felix-c on $n (pid $(cat "$pidf")) did not exit"
	done
}

cmd_hollow() {
	local sub=${1:-}
	[ -d "$(state)" ] || die "no lab named '$LAB_NAME'"
	shift || true
	tools
	case $sub in
	add) hollow_add "$@" ;;
	start) hollow_start "$@" ;;
	stop) hollow_signal TERM "$@" ;;
	kill) hollow_signal KILL "$@" ;;
	list) hollow_list ;;
	*) die "usage: lab hollow add|start|stop|kill|list ..." ;;
	esac
}
