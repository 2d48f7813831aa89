# felix-c end-to-end tests (sourced): a lab of our own (3 nodes, 1 ToR) with
# felix-c + BIRD on every node and a BIRD on the ToR (`lab agent up`).
. "$CALICO_C_SRC/tests/system/lib.sh"

LAB_NAME=fx-$$
# shellcheck disable=SC2086 # FX_LAB_OPTS: more `lab up` options (--ipv6)
lab up --name "$LAB_NAME" --nodes "${FX_NODES:-3}" --tors 1 ${FX_LAB_OPTS:-} >/dev/null 2>&1 || fail "lab up"
on_exit "lab down --name '$LAB_NAME' >/dev/null 2>&1"
eval "$(lab env --name "$LAB_NAME")"
on_exit "tail -n 25 '$LAB_STATE'/log/felix-node*.log >&2 || true"
lab agent --name "$LAB_NAME" up || fail "agents did not become ready"

L() { local c=$1; shift; lab "$c" --name "$LAB_NAME" "$@"; }
k() { lab kubectl --name "$LAB_NAME" "$@"; }
netns_of() { eval echo "\${LAB_NODE_$1_NETNS:-\${LAB_TOR_$1_NETNS:-}}"; }
ip_of() { eval echo "\${LAB_NODE_$1_IP:-\${LAB_TOR_$1_IP:-}}"; }

# pod NODE NS NAME [labels]: a pod serving tcp/udp 80 and 81; sets IP.
pod() {
	L pod add "$1" "$2" "$3" ${4:+--labels "$4"} --port p80:80/tcp --port p81:81/tcp \
		--port u80:80/udp >/dev/null || fail "pod add $2/$3 on $1"
	IP=$(L pod ip "$2" "$3")
}
probe() { L probe "$@" >/dev/null 2>&1; } # SRC_NS/NAME DST PORT [PROTO]
# route_via HOST PREFIX NEXTHOP_IP / route_dev HOST PREFIX
route_via() { ip -n "$(netns_of "$1")" route show "$2" | grep -q "via $3 "; }
route_dev() { ip -n "$(netns_of "$1")" route show "$2" | grep -q "dev cali"; }
no_route() { ! ip -n "$(netns_of "$1")" route show "$2" | grep -q .; }
# restart_adopts NODE [SECONDS]: felix-c on NODE killed (and left down
# SECONDS) and started again finds its table equal to what it compiles: the
# restarted run (the log after the last "felix-c for node") applies no
# policy operation.
restart_adopts() {
	L agent stop "$1" --kill || fail "kill felix-c on $1"
	sleep "${2:-0}"
	L agent start "$1" || fail "start felix-c on $1"
	L agent wait "$1" 30 || fail "$1 not ready after restart"
	sed -n '/felix-c for node/h; /felix-c for node/!H; ${x;p}' "$LAB_STATE/log/felix-$1.log" |
		grep 'Policy applied' >&2 && fail "$1 rewrote policy after restart"
	return 0
}
PROBE=$CALICO_C_BUILD/bin/calico-c-policy-probe
# reach NS SPEC...: every SPEC (calico-c-policy-probe's proto:host:port)
# answers (or, as "!SPEC", does not) from NS
reach() {
	local ns=$1 s out want
	shift
	out=$(ip netns exec "$ns" "$PROBE" check --timeout 700 "${@#!}") || true
	for s in "$@"; do
		want=ok
		[ "${s#!}" = "$s" ] || want=fail
		grep -qxF "${s#!} $want" <<<"$out" || return 1
	done
}
nft_ruleset() { ip netns exec "$(netns_of "$1")" nft list table inet calico-c | sed 's/counter packets [0-9]* bytes [0-9]*/counter/'; }
