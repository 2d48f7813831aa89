# FRR (Debian's frr) as a ToR router, for tests that source it after
# defining W (a state folder) and netns_of HOST (its network namespace):
# tests/system/bgp/ and tests/tor/.
# start_frr TOR BGPD_CONF: FRR (Debian's frr) as the ToR: zebra, bfdd and
# bgpd run by hand in TOR's namespace as user frr (no init system), with a
# private run dir; each is killed by its PID at exit. It must run in the
# test's own shell (not in a pipeline's subshell, where its on_exit would be
# lost and the daemons would outlive the test).
FRR=/usr/lib/frr
start_frr() {
	local ns d=$W/frr-$1 daemon
	[ "$BASHPID" = "$$" ] || fail "start_frr in a subshell: its daemons would leak"
	ns=$(netns_of "$1")
	mkdir -p "$d"
	printf 'hostname %s\n' "$1" >"$d/zebra.conf"
	: >"$d/bfdd.conf"
	cp "$2" "$d/bgpd.conf"
	chown -R frr:frr "$d"
	for daemon in zebra bfdd bgpd; do
		ip netns exec "$ns" "$FRR/$daemon" -u frr -g frr -f "$d/$daemon.conf" -i "$d/$daemon.pid" \
			-z "$d/zserv.api" --vty_socket "$d" -P 0 --log "file:$d/$daemon.log" \
			$([ "$daemon" = bfdd ] && echo --bfdctl "$d/bfdd.sock") &
		on_exit "kill $! 2>/dev/null"
		[ "$daemon" = zebra ] && wait_for 10 test -S "$d/zserv.api"
	done
	wait_for 10 test -S "$d/bgpd.vty"
}
# frr_dual_stack_conf AS ROUTER_ID PEER_AS ADDR...: bgpd.conf of a ToR in AS
# peering eBGP with PEER_AS at each ADDR, each session carrying only the
# family of its address (as calico-c renders them: one session per family).
frr_dual_stack_conf() {
	local as=$1 id=$2 peer_as=$3 a f
	shift 3
	echo "router bgp $as"
	echo " bgp router-id $id"
	echo " no bgp ebgp-requires-policy"
	echo " no bgp default ipv4-unicast"
	for a in "$@"; do
		echo " neighbor $a remote-as $peer_as"
		echo " neighbor $a timers connect 1"
		echo " neighbor $a advertisement-interval 0"
	done
	for f in ipv4 ipv6; do
		echo " address-family $f unicast"
		for a in "$@"; do
			[ "$([[ $a == *:* ]] && echo ipv6 || echo ipv4)" != "$f" ] || echo "  neighbor $a activate"
		done
		echo " exit-address-family"
	done
}
vty() { vtysh --vty_socket "$W/frr-$1" -c "$2"; } # TOR COMMAND
frr_established() { # TOR PEER_IP
	vty "$1" "show bgp neighbors $2 json" | jq -e --arg p "$2" '.[$p].bgpState == "Established"' >/dev/null
}
frr_prefixes() { # TOR [ipv4|ipv6]: the unicast RIB's prefixes, sorted, one a line
	vty "$1" "show bgp ${2:-ipv4} unicast json" | jq -r '.routes | keys[]' | sort
}
