# Shared by the kapi system tests (sourced). kapictl runs in node1's network
# namespace, where the lab's apiserver is https://172.31.0.2:6443. Each test
# works in its own Kubernetes namespace (kapi-<test>-<pid>) and deletes what
# it created; "# lab: own" tests call own_lab first.
set -u
. "${CALICO_C_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}/tests/system/lib.sh"

KAPICTL=$CALICO_C_BUILD/bin/kapictl
[ -x "$KAPICTL" ] || fail "kapictl not built at $KAPICTL (make all)"
TEST=$(basename "$0" | sed 's/^[0-9]*//; s/_[0-9]*$//; s/_/-/g')
TMP=$(mktemp -d "/tmp/kapi-$TEST.XXXXXX")
[ -n "${KAPI_KEEP_TMP:-}" ] || on_exit "rm -rf '$TMP'"

own_lab() {
	LAB_NAME=kapi-$$
	lab up --name "$LAB_NAME" --nodes 1 --tors 0 >"$TMP/lab-up.log" 2>&1 ||
		{ cat "$TMP/lab-up.log"; fail "lab up failed"; }
	on_exit "lab down --name '$LAB_NAME' >/dev/null 2>&1"
}

use_lab() {
	[ -n "${LAB_NAME:-}" ] || fail "no LAB_NAME (shared lab) and own_lab not called"
	eval "$(lab env --name "$LAB_NAME")"
	KC=$LAB_KUBECONFIG
	NODE_NS=$LAB_NODE_node1_NETNS
}

# kapictl against the lab (options may follow the command)
k() { ip netns exec "$NODE_NS" "$KAPICTL" --kubeconfig "$KC" "$@"; }
# The same for `k_exec ... &`: the subshell becomes kapictl, so $! is its pid.
k_exec() { exec ip netns exec "$NODE_NS" "$KAPICTL" --kubeconfig "$KC" "$@"; }
# kubectl against the lab, from the control-plane namespace
kc() { lab kubectl --name "$LAB_NAME" "$@"; }

# A namespace of our own; its objects are deleted at exit (namespace
# deletion itself needs kube-controller-manager, which the lab does not run:
# the empty namespace is left Terminating).
make_ns() {
	NS=kapi-$TEST-$$
	printf '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"%s"}}' "$NS" >"$TMP/ns.json"
	k create /api/v1/namespaces "$TMP/ns.json" >/dev/null || fail "cannot create namespace $NS"
	on_exit "k delete /api/v1/namespaces/$NS >/dev/null 2>&1"
	on_exit "k delete /api/v1/namespaces/$NS/configmaps >/dev/null 2>&1"
	on_exit "k delete /api/v1/namespaces/$NS/pods >/dev/null 2>&1"
}

# configmap_json NAME [KEY=VALUE] [LABELS-JSON]
configmap_json() {
	local v=${2:-a=1}
	printf '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"%s","labels":%s},"data":{"%s":"%s"}}' \
		"$1" "${3:-{\}}" "${v%%=*}" "${v#*=}"
}


# --- control plane surgery (own labs only) -----------------------------------
apiserver_ready() {
	ip netns exec "$NODE_NS" curl -sf --max-time 2 --cacert "$LAB_STATE/pki/ca.crt" \
		--cert "$LAB_STATE/pki/admin.crt" --key "$LAB_STATE/pki/admin.key" \
		https://172.31.0.2:6443/readyz 2>/dev/null | grep -qx ok
}

pid_gone() { ! kill -0 "$1" 2>/dev/null || [ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" = Z ]; }

# Kills the apiserver (as a crash would), keeping its command line to start
# it again.
stop_apiserver() {
	local pid
	pid=$(cat "$LAB_STATE/pids/kube-apiserver.pid")
	tr '\0' '\n' <"/proc/$pid/cmdline" >"$TMP/apiserver.argv"
	kill -KILL "$pid"
	wait_for 10 pid_gone "$pid"
}

start_apiserver() {
	local argv=()
	mapfile -t argv <"$TMP/apiserver.argv"
	ip netns exec "$LAB_CP_NETNS" "${argv[@]}" >>"$LAB_STATE/log/kube-apiserver.log" 2>&1 </dev/null &
	echo $! >"$LAB_STATE/pids/kube-apiserver.pid"
	disown $! # lab down kills it; no job notice
	wait_for 90 apiserver_ready
}

# etcd's v3 HTTP gateway on its client port inside the control-plane namespace.
etcd_post() {
	ip netns exec "$LAB_CP_NETNS" curl -sf --max-time 5 -X POST "http://127.0.0.1:2379$1" -d "$2"
}
etcd_revision() { etcd_post /v3/kv/range '{"key":"AA==","limit":1}' | jq -er .header.revision; }
etcd_compact() {
	local rev
	rev=$(etcd_revision) || fail "cannot read the etcd revision"
	etcd_post /v3/kv/compaction "{\"revision\":\"$rev\",\"physical\":true}" >/dev/null ||
		fail "etcd compaction at $rev failed"
	echo "$rev"
}

# Informer output helpers: the last "cache" line against a fresh LIST.
informer_cache() { grep '"op":"cache"' "$1" | tail -n1; }
# "ns/name" -> resourceVersion of a fresh LIST, as the informer keys its cache.
list_map() {
	k list "$1" | jq -scS 'map({key: ((.metadata.namespace // "") as $n |
		if $n == "" then .metadata.name else $n + "/" + .metadata.name end),
		value: .metadata.resourceVersion}) | from_entries'
}
assert_cache_equals_list() { # FILE PATH
	local got want
	got=$(informer_cache "$1" | jq -cS .items) && [ -n "$got" ] ||
		fail "informer printed no cache line: $(tail -n3 "$1")"
	want=$(list_map "$2") || fail "LIST $2 failed"
	[ "$got" = "$want" ] || fail "informer cache differs from LIST:
  informer: $got
  list:     $want"
}
