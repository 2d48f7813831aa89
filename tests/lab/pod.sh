# Pods in the lab (sourced by tests/lab/lab, which defines state, ns_of,
# kc, run_bg, die). A pod is a network namespace wired by our CNI plugin,
# called exactly as a runtime calls it (environment + config on stdin), plus
# a Pod object with spec.nodeName, and a responder on its declared ports.
#
#   lab pod add NODE NAMESPACE NAME [--labels k=v,...] [--port NAME:PORT/PROTO]...
#   lab pod del NAMESPACE NAME
#   lab pod ip NAMESPACE NAME [4|6]
#   lab pod conf NODE          the network config NODE's plugin reads
#   lab pod exec NAMESPACE/NAME -- CMD...
#   lab probe SRC_NS/NAME DST_NS/NAME|IP PORT [tcp|udp|sctp]   exit 0 iff allowed

LAB_BIN=${CALICO_C_BUILD:-$LAB_SRC/build}/bin

pod_key() { echo "$1_$2"; }
pod_ns() { echo "$LAB_NAME-p-$(pod_key "$1" "$2" | md5sum | cut -c1-10)"; }
pod_dir() { echo "$(state)/pods/$(pod_key "$1" "$2")"; }

# The network config the CNI plugin of NODE reads (what install-cni writes).
# Calico's own CNI plugin (the interop tests): LAB_CALICO_CNI is its
# binary (calico-ipam beside it), LAB_CALICO_CNI_NODES the nodes whose pods
# it wires, with the conflist Calico documents (node name from the file
# felix-c writes, Calico's IPAM).
calico_cni_node() { [ -n "${LAB_CALICO_CNI:-}" ] && [[ " ${LAB_CALICO_CNI_NODES:-} " == *" $1 "* ]]; }

node_cni_conf() {
	local node=$1 s
	s=$(state)
	if calico_cni_node "$node"; then
		cat <<EOF
{"cniVersion":"1.0.0","name":"k8s-pod-network","type":"calico",
 "datastore_type":"kubernetes","nodename_file":"$s/nodes/$node/nodename","mtu":1450,
 "log_level":"info","log_file_path":"$s/log/calico-cni-$node.log",
 "ipam":{"type":"calico-ipam"},"policy":{"type":"k8s"},
 "kubernetes":{"kubeconfig":"$s/admin.kubeconfig"}}
EOF
		return
	fi
	cat <<EOF
{"cniVersion":"1.0.0","name":"k8s-pod-network","type":"calico-c",
 "datastore_type":"kubernetes","nodename":"$node","mtu":1450,
 "mtu_file":"$s/nodes/$node/mtu",
 "log_level":"info","log_file_path":"$s/log/cni-$node.log",
 "tls_session_dir":"$s/nodes/$node/tls",
 "felix_socket":"$s/nodes/$node/cni.sock",
 "state_dir":"$s/nodes/$node/cni",
 "ipam":{"type":"calico-c-ipam","lock_file":"$s/nodes/$node/ipam.lock"$(pod_families)},
 "policy":{"type":"k8s"},
 "kubernetes":{"kubeconfig":"$s/admin.kubeconfig"}}
EOF
}

# The IPAM families of an --ipv6 lab's pods (IPv6 only after agent up
# --ipv6-only), as ipam members.
pod_families() {
	! is_ipv6_lab || echo ',"assign_ipv6":"true"'
	! is_ipv6_only || echo ',"assign_ipv4":"false"'
}

# cni_call NODE CMD NAMESPACE NAME -> the plugin's stdout
cni_call() {
	local node=$1 cmd=$2 ns=$3 name=$4 id netns plugin=$LAB_BIN/calico-c path=$LAB_BIN:/usr/lib/cni
	id=$(pod_key "$ns" "$name" | sha256sum | cut -c1-64)
	netns=$(pod_ns "$ns" "$name")
	if calico_cni_node "$node"; then
		plugin=$LAB_CALICO_CNI path=$(dirname "$LAB_CALICO_CNI")
	fi
	node_cni_conf "$node" | ip netns exec "$(ns_of "$node")" env \
		CNI_COMMAND="$cmd" CNI_CONTAINERID="$id" CNI_NETNS="/run/netns/$netns" \
		CNI_IFNAME=eth0 CNI_PATH="$path" \
		CNI_ARGS="K8S_POD_NAMESPACE=$ns;K8S_POD_NAME=$name;K8S_POD_INFRA_CONTAINER_ID=$id" \
		"$plugin"
}

pod_object() {
	local node=$1 ns=$2 name=$3 labels=$4 ports=$5 l p pname num proto sep=
	printf '{"apiVersion":"v1","kind":"Pod","metadata":{"namespace":"%s","name":"%s","labels":{' "$ns" "$name"
	IFS=, read -ra l <<<"$labels"
	for p in "${l[@]}"; do
		[ -n "$p" ] || continue
		[[ $p == *=* ]] || die "pod add: label '$p' is not k=v"
		printf '%s"%s":"%s"' "$sep" "${p%%=*}" "${p#*=}"
		sep=,
	done
	printf '}},"spec":{"nodeName":"%s","containers":[{"name":"main","image":"lab/responder","ports":[' "$node"
	sep=
	for p in $ports; do
		pname=${p%%:*} num=${p#*:} proto=${num#*/} num=${num%/*}
		printf '%s{"name":"%s","containerPort":%s,"protocol":"%s"}' "$sep" "$pname" "$num" \
			"$(tr a-z A-Z <<<"$proto")"
		sep=,
	done
	printf ']}]}}\n'
}

pod_add() {
	local node=$1 ns=$2 name=$3 labels= ports= d netns out p nums=
	shift 3
	while [ $# -gt 0 ]; do
		case $1 in
		--labels) labels=$2; shift 2 ;;
		--port)
			[[ $2 =~ ^[a-z0-9-]{1,15}:[0-9]{1,5}/(tcp|udp|sctp)$ ]] || die "pod add: --port NAME:PORT/tcp|udp|sctp, not '$2'"
			ports="$ports $2"
			shift 2
			;;
		*) die "pod add: unknown option '$1'" ;;
		esac
	done
	d=$(pod_dir "$ns" "$name")
	[ ! -e "$d" ] || die "pod $ns/$name exists"
	netns=$(pod_ns "$ns" "$name")
	tools
	kc get namespace "$ns" >/dev/null 2>&1 || kc create namespace "$ns" >/dev/null
	pod_object "$node" "$ns" "$name" "$labels" "$ports" | kc apply -f - >/dev/null
	mkdir -p "$d"
	echo "$node" >"$d/node"
	ip netns add "$netns"
	echo "$netns" >>"$(state)/netns"
	ip -n "$netns" link set lo up
	if ! out=$(cni_call "$node" ADD "$ns" "$name"); then
		echo "$out" >&2
		ip netns del "$netns"
		rm -rf "$d"
		kc delete pod -n "$ns" "$name" --grace-period=0 --force >/dev/null 2>&1 || true
		die "pod add: CNI ADD failed for $ns/$name"
	fi
	echo "$out" >"$d/result.json"
	for p in $ports; do nums="$nums ${p#*:}"; done
	nums=$(tr ' ' '\n' <<<"$nums" | sed 's#/.*##' | sort -un | tr '\n' ' ')
	if [ -n "${nums// /}" ]; then
		run_bg "pod-$(pod_key "$ns" "$name")" "$netns" "$LAB_BIN/calico-c-policy-probe" \
			serve --ready "$d/ready" $nums
		for _ in $(seq 100); do [ -e "$d/ready" ] && break; sleep 0.05; done
	fi
	pod_ip "$ns" "$name"
}

pod_ip() { # NS NAME [4|6]: its first address (of that family)
	local d
	d=$(pod_dir "$1" "$2")
	[ -f "$d/result.json" ] || die "no pod $1/$2"
	jq -er --arg f "${3:-}" '[.ips[].address | sub("/.*"; "")
		| select($f == "" or ($f == "6") == contains(":"))] | first // empty' "$d/result.json"
}

pod_del() {
	local ns=$1 name=$2 d pidf
	d=$(pod_dir "$ns" "$name")
	[ -d "$d" ] || die "no pod $ns/$name"
	tools
	pidf=$(state)/pids/pod-$(pod_key "$ns" "$name").pid
	if [ -f "$pidf" ]; then
		kill "$(cat "$pidf")" 2>/dev/null || true
		rm -f "$pidf"
	fi
	cni_call "$(cat "$d/node")" DEL "$ns" "$name" >/dev/null || die "pod del: CNI DEL failed for $ns/$name"
	ip netns del "$(pod_ns "$ns" "$name")" 2>/dev/null || true
	kc delete pod -n "$ns" "$name" --grace-period=0 --force >/dev/null 2>&1 || true
	rm -rf "$d"
}

cmd_pod() {
	local sub=${1:-} ref
	[ -n "$sub" ] || die "pod add|del|ip|conf|exec"
	shift
	[ -d "$(state)" ] || die "no lab named '$LAB_NAME'"
	case $sub in
	add) [ $# -ge 3 ] || die "pod add NODE NAMESPACE NAME [...]"; pod_add "$@" ;;
	del) [ $# -eq 2 ] || die "pod del NAMESPACE NAME"; pod_del "$@" ;;
	ip) [ $# -eq 2 ] || [[ $# -eq 3 && $3 =~ ^[46]$ ]] || die "pod ip NAMESPACE NAME [4|6]"; pod_ip "$@" ;;
	conf) [ $# -eq 1 ] || die "pod conf NODE"; node_cni_conf "$@" ;;
	exec)
		ref=${1:-}
		[[ $ref == */* ]] || die "pod exec NAMESPACE/NAME -- CMD"
		shift
		[ "${1:-}" = -- ] && shift
		[ -d "$(pod_dir "${ref%%/*}" "${ref#*/}")" ] || die "no pod $ref"
		exec ip netns exec "$(pod_ns "${ref%%/*}" "${ref#*/}")" "$@"
		;;
	*) die "pod: unknown subcommand '$sub'" ;;
	esac
}

# Exit 0 iff SRC opens a connection to DST:PORT (UDP: iff answered).
cmd_probe() {
	local src=${1:-} dst=${2:-} port=${3:-} proto=${4:-tcp} ip
	[[ $src == */* && -n $dst && $port =~ ^[0-9]+$ ]] || die "probe SRC_NS/NAME DST_NS/NAME|IP PORT [tcp|udp|sctp]"
	[ -d "$(pod_dir "${src%%/*}" "${src#*/}")" ] || die "no pod $src"
	if [[ $dst == */* ]]; then ip=$(pod_ip "${dst%%/*}" "${dst#*/}"); else ip=$dst; fi
	ip netns exec "$(pod_ns "${src%%/*}" "${src#*/}")" "$LAB_BIN/calico-c-policy-probe" \
		check --timeout "${PROBE_TIMEOUT_MS:-1000}" "$proto:$ip:$port" | grep -q ' ok$'
}
