# The NetworkPolicy probing model of upstream's e2e suite (sourced by
# tests/lab/lab after pod.sh): namespaces x, y, z labelled ns=<name>; pods
# a, b, c in each labelled pod=<name>, spread over the nodes; every pod serves
# TCP and UDP (and SCTP when the kernel has it) on 80 and 81, declared as the
# named container ports serve-<port>-<proto>.
#
#   lab model up               create the model (felix-c must run: lab agent up)
#   lab model reset            labels back to the model's, every policy of x/y/z gone
#   lab matrix [--ipv6] [PORT/PROTO...]
#                              the reachability matrix, probed in parallel
#                              (default 80/tcp); rows from, columns to,
#                              "." allowed, "X" denied; --ipv6: to the pods'
#                              IPv6 addresses (an --ipv6 lab)
#
# A pod probing its own address never leaves its namespace, so the diagonal
# is always allowed (upstream's loopback).

MODEL_NS="x y z"
MODEL_PODS="a b c"

model_protos() {
	echo tcp udp
	[ -d /proc/sys/net/sctp ] && echo sctp
	return 0
}

model_pods() {
	local ns p
	for ns in $MODEL_NS; do
		for p in $MODEL_PODS; do echo "$ns/$p"; done
	done
}

model_up() {
	local ns p i=0 nodes proto port ports=() args
	. "$(state)/topology"
	for proto in $(model_protos); do
		for port in 80 81; do ports+=(--port "serve-$port-$proto:$port/$proto"); done
	done
	for ns in $MODEL_NS; do
		kc create namespace "$ns" >/dev/null 2>&1 || true
		kc label namespace "$ns" "ns=$ns" --overwrite >/dev/null
	done
	# The pods in parallel (each is a CNI ADD and a kubectl apply).
	for ns in $MODEL_NS; do
		for p in $MODEL_PODS; do
			args=("node$((i % nodes + 1))" "$ns" "$p" --labels "pod=$p" "${ports[@]}")
			pod_add "${args[@]}" &
			i=$((i + 1))
		done
	done
	wait_all "model up: a pod failed"
	say "model up: 9 pods in x, y, z over $nodes nodes"
}

wait_all() {
	local pid rc=0
	for pid in $(jobs -p); do wait "$pid" || rc=1; done
	[ "$rc" = 0 ] || die "$1"
}

model_reset() {
	local ns p
	for ns in $MODEL_NS; do
		kc delete networkpolicy --all -n "$ns" >/dev/null
		kc patch namespace "$ns" --type merge -p \
			"{\"metadata\":{\"labels\":null}}" >/dev/null
		kc label namespace "$ns" "ns=$ns" "kubernetes.io/metadata.name=$ns" --overwrite >/dev/null
		for p in $MODEL_PODS; do
			kc patch pod -n "$ns" "$p" --type json -p \
				"[{\"op\":\"replace\",\"path\":\"/metadata/labels\",\"value\":{\"pod\":\"$p\"}}]" >/dev/null
		done
	done
}

# matrix FAMILY PORT/PROTO...: every source probes every destination (its
# address of FAMILY, 4 or 6) on every PORT/PROTO in one probe run, all
# sources at once; then one table each.
matrix() {
	local fam=$1 src dst pp d out specs row line
	local -A ip
	shift
	d=$(mktemp -d)
	for dst in $(model_pods); do
		ip[$dst]=$(pod_ip "${dst%/*}" "${dst#*/}" "$fam") || die "matrix: $dst has no IPv$fam address"
	done
	for src in $(model_pods); do
		specs=()
		for pp in "$@"; do
			for dst in $(model_pods); do specs+=("${pp#*/}:${ip[$dst]}:${pp%/*}"); done
		done
		ip netns exec "$(pod_ns "${src%/*}" "${src#*/}")" "$LAB_BIN/calico-c-policy-probe" \
			check --timeout "${PROBE_TIMEOUT_MS:-1000}" "${specs[@]}" >"$d/${src/\//_}" &
	done
	wait
	for pp in "$@"; do
		line=$pp
		for dst in $(model_pods); do line+=" $dst"; done
		echo "$line"
		for src in $(model_pods); do
			row=$src
			for dst in $(model_pods); do
				out=$(grep -m1 "^${pp#*/}:${ip[$dst]}:${pp%/*} " "$d/${src/\//_}")
				if [ "$src" = "$dst" ] || [ "${out##* }" = ok ]; then row+=" ."; else row+=" X"; fi
			done
			echo "$row"
		done
	done
	rm -rf "$d"
}

cmd_model() {
	[ -d "$(state)" ] || die "no lab named '$LAB_NAME'"
	tools
	case ${1:-} in
	up) model_up ;;
	reset) model_reset ;;
	*) die "usage: lab model up|reset" ;;
	esac
}

cmd_matrix() {
	local pp fam=4
	[ -d "$(state)" ] || die "no lab named '$LAB_NAME'"
	[ "${1:-}" = --ipv6 ] && fam=6 && shift
	[ $# -gt 0 ] || set -- 80/tcp
	for pp in "$@"; do
		[[ $pp =~ ^[0-9]+/(tcp|udp|sctp)$ ]] || die "matrix: PORT/tcp|udp|sctp, not '$pp'"
	done
	matrix "$fam" "$@"
}
