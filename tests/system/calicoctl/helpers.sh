# calicoctl-c system tests (sourced). The shared lab (LAB_NAME from the
# runner) or a lab of our own; every object a test makes carries the id
# ID=cx<pid> and is removed by its EXIT trap.
. "$CALICO_C_SRC/tests/system/lib.sh"

BIN=$CALICO_C_BUILD/bin
ID=cx$$
[ -n "${LAB_NAME:-}" ] || fail "no lab: run under tests/system/run (lab: shared)"
eval "$(lab env --name "$LAB_NAME")"
KC=$LAB_KUBECONFIG
NODE1=$LAB_NODE_node1_NETNS
TMP=$(mktemp -d "/tmp/calicoctl-$ID.XXXXXX")
on_exit "rm -rf '$TMP'"

for b in calicoctl-c calico-c-birdcfg calico-c-policy calico-c-policy-probe; do
	[ -x "$BIN/$b" ] || fail "$b is not built"
done

# The apiserver is reached from the node namespaces.
ctl() { ip netns exec "$NODE1" "$BIN/calicoctl-c" --kubeconfig "$KC" "$@"; }
k() { lab kubectl --name "$LAB_NAME" "$@"; }
