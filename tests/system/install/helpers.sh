# Helpers for the install tests (sourced): manifests/calico-c.yaml applied to
# a lab of our own, and the DaemonSet's environment resolved the way the
# kubelet resolves it, so the tests run the real binaries with the settings
# the manifest gives them.
#
# own_lab NAME NODES [UP-OPTION...]  lab up (own), env LAB_*, LAB set, lab down on exit
# k ARGS...             kubectl against that lab as admin
# ds_env CONTAINER NODE resolved env of an (init) container: NAME=VALUE, NUL-separated
# sa_dir SA DIR         DIR/{token,ca.crt,namespace} as a pod of SA would have them
# INSTALL_TEST_MANIFEST=FILE runs the tests against another manifest (used to
# check that 0003/0004 fail when a verb is taken out of the RBAC).
. "$CALICO_C_SRC/tests/system/lib.sh"
set -o pipefail

MANIFEST=${INSTALL_TEST_MANIFEST:-$CALICO_C_SRC/manifests/calico-c.yaml}
BIN=$CALICO_C_BUILD/bin
TMP=$(mktemp -d /tmp/install-test-XXXXXX)
on_exit "rm -rf '$TMP'"

own_lab() {
	LAB=$1
	on_exit "lab down --name '$LAB' >/dev/null 2>&1"
	lab up --name "$LAB" --nodes "$2" "${@:3}" >"$TMP/lab-up.log" 2>&1 || { cat "$TMP/lab-up.log"; fail "lab up $LAB"; }
	eval "$(lab env --name "$LAB")"
}

k() { lab kubectl --name "$LAB" "$@"; }

# ds_env CONTAINER NODE: the container's env with fieldRef spec.nodeName and
# configMapKeyRef resolved from the live objects (a missing key fails).
ds_env() {
	local c=$1 node=$2 ds cm
	ds=$(k -n kube-system get daemonset calico-node -o json) || fail "no DaemonSet"
	cm=$(k -n kube-system get configmap calico-config -o json) || fail "no ConfigMap"
	jq -nj --argjson ds "$ds" --argjson cm "$cm" --arg c "$c" --arg node "$node" '
		($ds.spec.template.spec.initContainers + $ds.spec.template.spec.containers)[]
		| select(.name == $c) | .env[]
		# an optional key of another ConfigMap (calico-typha-config, from
		# typha.yaml) is unset when that is not applied, as the kubelet does
		| select(.valueFrom.configMapKeyRef.optional != true
			 or .valueFrom.configMapKeyRef.name == "calico-config")
		| .name + "=" + (
			if .value != null then .value
			elif .valueFrom.fieldRef.fieldPath == "spec.nodeName" then $node
			elif .valueFrom.configMapKeyRef.name == "calico-config" then
				($cm.data[.valueFrom.configMapKeyRef.key]
				 // error("ConfigMap has no key " + .valueFrom.configMapKeyRef.key))
			else error("cannot resolve env " + .name) end) + "\u0000"' ||
		fail "cannot resolve the env of container $c"
}

# sa_dir SA DIR: a token of kube-system/SA from the TokenRequest API and the
# lab CA, laid out like /var/run/secrets/kubernetes.io/serviceaccount.
sa_dir() {
	mkdir -p "$2"
	k -n kube-system create token "$1" --duration=1h >"$2/token" || fail "no token for $1"
	cp "$LAB_STATE/pki/ca.crt" "$2/ca.crt"
	printf kube-system >"$2/namespace"
}

# cni_from_conflist CONFLIST CMD ID NETNS NS POD: run the list's first plugin
# from the installed bin folder as a runtime does (name and cniVersion from the
# list), in node1; stdout -> OUT, rc -> RC.
cni_from_conflist() {
	local list=$1 cmd=$2 id=$3 netns=$4 ns=$5 pod=$6 conf
	conf=$(jq -c '.plugins[0] + {name: .name, cniVersion: .cniVersion}' "$list") || fail "bad conflist"
	OUT=$(printf '%s' "$conf" | ip netns exec "$LAB_NODE_node1_NETNS" env -i PATH="$PATH" \
		CNI_COMMAND="$cmd" CNI_CONTAINERID="$id" CNI_NETNS="$netns" CNI_IFNAME=eth0 \
		CNI_ARGS="K8S_POD_NAMESPACE=$ns;K8S_POD_NAME=$pod;K8S_POD_INFRA_CONTAINER_ID=$id" \
		CNI_PATH="$TMP/host/bin" CALICO_C_IPAM_LOCK="$TMP/ipam.lock" \
		"$TMP/host/bin/calico-c" 2>>"$TMP/cni.stderr")
	RC=$?
}
