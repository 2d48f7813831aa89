# Helpers for the real-cluster tests (sourced): a lab of our own made with
# `lab up --kubelet` (kubelet, containerd and kube-proxy on every node), and
# calico-c installed the way a user installs it, kubectl apply -f
# manifests/calico-c.yaml.
#
# k8s_lab NODES        the lab (removed on exit); env LAB_*; K8S_TORS=N adds N
#                      ToR namespaces (tests/tor/k8s/). Under `# lab:
#                      kubelet` the runner's shared cluster instead (LAB_NAME
#                      set; 2 nodes), and the test works in a namespace of
#                      its own, deleted on exit: leave the cluster as found.
# k ARGS...            kubectl against it, in the test's namespace $NS
# kc ARGS...           kubectl against it, no namespace (manifests that name theirs)
# k8s_install          apply the manifest; wait until calico-node is Ready on
#                      every node, every Node Ready, every BGP session Established
# bgp_established NODE every BIRD session of NODE Established
# pod_run NAME NODE [LABELS]  a busybox pod on NODE (sleeps); waits until Ready
# pod_ip NAME          its address
# kx NAME CMD...       kubectl exec NAME -- CMD
# ping_ok NAME IP      one ping from NAME to IP answered within 2 s
# http_get NAME IP PORT  the HTTP answer to GET / from pod NAME (busybox nc:
#                      Debian's static busybox wget crashes in a container)
. "$CALICO_C_SRC/tests/system/lib.sh"
set -o pipefail

MANIFEST=$CALICO_C_SRC/manifests/calico-c.yaml
TMP=$(mktemp -d /tmp/k8s-test-XXXXXX)
on_exit "rm -rf '$TMP'"
[ -n "${BUSYBOX_REF:-}" ] || eval "$("$CALICO_C_SRC/tests/lab/build-tools.sh")"

NS=default
k8s_lab() {
	if [ -n "${LAB_NAME:-}" ]; then
		LAB=$LAB_NAME NS=t$$
		eval "$(lab env --name "$LAB")"
		[ "$LAB_KUBELET" = 1 ] && [ "$(wc -w <<<"$LAB_NODES")" = "$1" ] ||
			fail "shared lab $LAB is not a $1-node --kubelet lab"
		k create namespace "$NS" >/dev/null || fail "namespace $NS"
		on_exit "k delete namespace '$NS' --wait=false >/dev/null 2>&1"
		wait_for 30 sa_ready
		return
	fi
	LAB=k8s$$
	on_exit "lab down --name '$LAB' >/dev/null 2>&1"
	lab up --name "$LAB" --kubelet --nodes "$1" --tors "${K8S_TORS:-0}" >"$TMP/lab-up.log" 2>&1 ||
		{ cat "$TMP/lab-up.log"; fail "lab up --kubelet"; }
	eval "$(lab env --name "$LAB")"
}

k() { lab kubectl --name "$LAB" -n "$NS" "$@"; }
kc() { lab kubectl --name "$LAB" "$@"; }
sa_ready() { k get serviceaccount default >/dev/null 2>&1; }
kx() { local p=$1; shift; k exec "$p" -- "$@"; }

calico_ready_count() {
	k get pods -n kube-system -l k8s-app=calico-node \
		-o jsonpath='{range .items[*]}{.status.containerStatuses[0].ready}{"\n"}{end}' 2>/dev/null | grep -c true
}

bgp_established() {
	local out
	out=$(lab exec --name "$LAB" "$1" -- birdc -s /var/lib/calico-c/bird.ctl show protocols 2>/dev/null) || return 1
	grep -q 'BGP' <<<"$out" && ! awk '$2 == "BGP" && $0 !~ /Established/ { bad = 1 } END { exit !bad }' <<<"$out"
}

all_ready() { [ "$(calico_ready_count)" -ge "$(wc -w <<<"$LAB_NODES")" ]; }

k8s_install() {
	local n
	kc apply -f "$MANIFEST" >"$TMP/apply.log" 2>&1 || fail "kubectl apply: $(cat "$TMP/apply.log")"
	wait_for 120 all_ready
	k wait --for=condition=Ready node --all --timeout=60s >/dev/null || fail "nodes not Ready"
	for n in $LAB_NODES; do
		wait_for 30 bgp_established "$n"
	done
}

pod_run() {
	local name=$1 node=$2 labels=${3:-app=$1}
	k run "$name" --image="$BUSYBOX_REF" --image-pull-policy=Never --labels="$labels" \
		--overrides="{\"spec\":{\"nodeName\":\"$node\",\"terminationGracePeriodSeconds\":1}}" \
		-- sleep 100000 >/dev/null || fail "kubectl run $name"
	k wait --for=condition=Ready "pod/$name" --timeout=60s >/dev/null ||
		fail "pod $name not Ready: $(k describe pod "$name" | tail -n 15)"
}

pod_ip() { k get pod "$1" -o jsonpath='{.status.podIP}'; }

ping_ok() { kx "$1" ping -c 1 -W 2 "$2" >/dev/null 2>&1; }

http_get() { kx "$1" sh -c "printf 'GET / HTTP/1.0\r\n\r\n' | nc -w 2 $2 $3" 2>/dev/null; }
