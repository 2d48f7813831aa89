# The lab's real-cluster mode, `lab up --kubelet` (sourced by tests/lab/lab,
# which defines state, ns_of, ip_of, kc, run_bg, alive, pid_alive, die, say).
#
# In the control-plane namespace, next to etcd and kube-apiserver:
# kube-controller-manager and kube-scheduler. On every node, in the node's
# network namespace and a mount namespace of its own: containerd (Debian's
# 1.6, CRI on) and kubelet v1.33, which registers the Node itself, and
# kube-proxy (nftables mode). Nothing else: the node is NotReady until a CNI
# network config appears in its /etc/cni/net.d (install-cni writes it).
#
#   lab node stop NODE kubelet|containerd|kube-proxy [--kill]
#   lab node start NODE kubelet|containerd|kube-proxy
#   lab node import NODE OCI_ARCHIVE      import an image into NODE's containerd
#   lab node ctr NODE ARGS...             ctr -n k8s.io against NODE's containerd
#   lab manifest                          manifests/calico-c.yaml for this lab (see cmd_manifest)
#
# `up` imports into every node's containerd the images build-tools.sh makes
# (pause, busybox) and the node image of `make image` ($NODE_IMAGE, default
# $CALICO_C_BUILD/calico-c-node.oci.tar).
#
# A node's mount namespace (held open by a `sleep` whose pid is in
# pids/holder-NODE.pid): overlays over /etc, /opt and /var (upper layers in
# nodes/NODE/ovl, so the DaemonSet's hostPath folders, the kubelet's and
# containerd's files land there), a fresh tmpfs on /run (the lab's state
# folder bound back), a fresh sysfs (with the cgroup hierarchies bound back)
# so /sys/class/net shows the node's links, and files holding the values the
# kubelet wants bound over the global /proc/sys entries it would write, so no
# host sysctl is written. Every process of the node (containerd and its shims,
# the containers, kubelet, kube-proxy, `lab exec NODE`) runs in the cgroup
# subtree cgroup_of NODE, created in every hierarchy under this process's
# cgroup path and removed by `lab down` after it killed what is in it.

KUBE_SERVICE_CIDR=10.96.0.0/16
KUBE_CLUSTER_DNS=10.96.0.10
# kube-proxy's clusterCIDR: the default pool of manifests/calico-c.yaml.
KUBE_CLUSTER_CIDR=192.168.0.0/16
# `up --kubelet --ipv6`: a dual-stack cluster (IPv4 primary). The nodes'
# IPv6 fabric addresses are their second node IP, Services get an IPv6
# range too, and kube-proxy's clusterCIDR adds the lab's IPv6 pool
# ($POOL6_CIDR, which calico-c must be given: see dual_stack_manifest).
KUBE_SERVICE_CIDR6=fd00:96::/112

is_kubelet_lab() { grep -qx 'kubelet=1' "$(state)/topology" 2>/dev/null; }
is_dual_stack_cluster() { is_kubelet_lab && is_ipv6_lab; }
# The service ranges of the apiserver and kube-controller-manager.
service_cidrs() {
	if is_dual_stack_cluster; then echo "$KUBE_SERVICE_CIDR,$KUBE_SERVICE_CIDR6"; else echo "$KUBE_SERVICE_CIDR"; fi
}

kubelet_tools() {
	if [ -z "${KUBELET:-}" ] || [ -z "${KUBE_PROXY:-}" ] || [ -z "${KUBE_CONTROLLER_MANAGER:-}" ] ||
		[ -z "${KUBE_SCHEDULER:-}" ] || [ -z "${PAUSE_IMAGE:-}" ] || [ -z "${BUSYBOX_IMAGE:-}" ]; then
		eval "$("$LAB_SRC/tests/lab/build-tools.sh")"
	fi
	for b in "$KUBELET" "$KUBE_PROXY" "$KUBE_CONTROLLER_MANAGER" "$KUBE_SCHEDULER"; do
		[ -x "$b" ] || die "missing binary '$b' (run 'make deps')"
	done
	NODE_IMAGE=${NODE_IMAGE:-${CALICO_C_BUILD:-$LAB_SRC/build}/calico-c-node.oci.tar}
	for b in "$PAUSE_IMAGE" "$BUSYBOX_IMAGE" "$NODE_IMAGE"; do
		[ -f "$b" ] || die "missing image '$b' (run 'make deps image')"
	done
	for b in containerd ctr runc nft /usr/lib/cni/loopback; do
		command -v "$b" >/dev/null || die "needs $b (Debian: containerd, runc, nftables, containernetworking-plugins)"
	done
}

# --- cgroups --------------------------------------------------------------------
# The node's cgroup path, the same in every hierarchy (the kubelet's cgroupfs
# driver uses one --cgroup-root for all): under the deepest path this process
# has in any hierarchy (a session may own only its memory cgroup).
cgroup_of() {
	local base
	base=$(cut -d: -f3 /proc/self/cgroup | awk '{ print length, $0 }' | sort -rn | head -n1 | cut -d' ' -f2)
	echo "${base%/}/calico-c-$LAB_NAME-$1"
}

cgroup_roots() { # the mounted hierarchies, one folder each
	awk '$3 == "cgroup" || $3 == "cgroup2" { print $2 }' /proc/self/mounts
}

# cgroup_make NODE: mkdir the node's path (and its "system" child) in every
# hierarchy. Each folder made is listed for down: the node's own ones in
# nodes/NODE/cgroups, parents it made above them (which every node needs,
# and nodes come up at once) in cgroups.parents, removed after every node.
cgroup_make() {
	local node=$1 top path d r p part f
	top=$(cgroup_of "$node")
	path=$top/system
	: >"$(state)/nodes/$node/cgroups"
	: >"$(state)/nodes/$node/system.cgroups"
	for r in $(cgroup_roots); do
		d=$r
		IFS=/ read -ra part <<<"${path#/}"
		for p in "${part[@]}"; do
			f=$(state)/cgroups.parents
			case $d/$p in "$r$top" | "$r$top"/*) f=$(state)/nodes/$node/cgroups ;; esac
			# mkdir decides who made it: another node may make it meanwhile.
			if mkdir "$d/$p" 2>/dev/null; then
				echo "$d/$p" >>"$f"
				# A new cpuset has no CPUs and takes no process until given its parent's.
				if [ -f "$d/cpuset.cpus" ]; then
					cat "$d/cpuset.cpus" >"$d/$p/cpuset.cpus"
					cat "$d/cpuset.mems" >"$d/$p/cpuset.mems"
				fi
			elif [ ! -d "$d/$p" ]; then
				die "cannot make cgroup '$d/$p'"
			fi
			d=$d/$p
		done
		echo "$d" >>"$(state)/nodes/$node/system.cgroups"
	done
}

# cgroup_pids NODE: every process in the node's subtree.
cgroup_pids() {
	local r path
	path=$(cgroup_of "$1")
	for r in $(cgroup_roots); do
		[ -d "$r$path" ] && find "$r$path" -name cgroup.procs -exec cat {} + 2>/dev/null
	done | sort -un
}

# cgroup_clear NODE: kill what runs in the subtree (repeatedly: a dying shim
# may still fork), then remove the subtree and the folders cgroup_make made.
cgroup_clear() {
	local node=$1 f path r i pids
	f=$(state)/nodes/$node/cgroups
	[ -f "$f" ] || return 0
	path=$(cgroup_of "$node")
	for ((i = 0; i < 50; i++)); do
		pids=$(cgroup_pids "$node")
		[ -n "$pids" ] || break
		# shellcheck disable=SC2086
		kill -9 $pids 2>/dev/null || true
		sleep 0.1
	done
	for r in $(cgroup_roots); do
		[ -d "$r$path" ] && find "$r$path" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	tac "$f" | while read -r d; do rmdir "$d" 2>/dev/null || true; done
	rm -f "$f"
}

# --- a node's mount namespace -------------------------------------------------------
# The global sysctls the kubelet sets (setupKernelTunables) and their values.
KUBELET_SYSCTLS="vm/overcommit_memory=1 vm/panic_on_oom=0 kernel/panic=10 kernel/panic_on_oops=1
kernel/keys/root_maxkeys=1000000 kernel/keys/root_maxbytes=25000000"

# The script a node's holder runs (ARGS: lab state, node folder, sysctls), in
# the node's network namespace, a new private mount namespace and a UTS
# namespace of its own.
node_mountns_script() {
	cat <<'EOS'
set -eu
s=$1 n=$2 sysctls=$3
# Its own hostname, the node's name (a hostNetwork pod answers with it).
hostname "${n##*/}"
while read -r d; do echo $$ >"$d/cgroup.procs"; done <"$n/system.cgroups"
exec 3<"$s" 4</sys/fs/cgroup
mount -t sysfs sysfs /sys
# -c: the fd, not the path it names (which now is the new mount's)
mount -c --rbind /proc/self/fd/4 /sys/fs/cgroup
for d in etc opt var; do
	mkdir -p "$n/ovl/$d/up" "$n/ovl/$d/work"
	mount -t overlay overlay -o "lowerdir=/$d,upperdir=$n/ovl/$d/up,workdir=$n/ovl/$d/work" "/$d"
done
mount -t tmpfs -o mode=755 tmpfs /run
mkdir -p "$s"
mount -c --bind /proc/self/fd/3 "$s"
exec 3<&- 4<&-
# The host's files of these programs stay out of the node (whiteouts in the
# overlays, the host is not touched).
for d in etc opt var; do mountpoint -q "/$d" || exit 1; done
rm -rf /etc/cni /opt/cni /var/lib/kubelet /var/lib/containerd /var/lib/calico /var/lib/calico-c \
	/var/log/pods /var/log/containers /var/log/calico-c /etc/kubernetes
mkdir -p /etc/cni/net.d /opt/cni/bin /var/lib/kubelet
cp /usr/lib/cni/loopback /opt/cni/bin/loopback
mkdir -p "$n/sysctl"
for kv in $sysctls; do
	k=${kv%%=*}
	f=$n/sysctl/${k//\//.}
	echo "${kv#*=}" >"$f"
	mount --bind "$f" "/proc/sys/$k"
done
: >"$n/mountns.ready"
exec sleep infinity
EOS
}

node_holder_pid() { cat "$(state)/pids/holder-$1.pid" 2>/dev/null; }

# node_run NODE CMD...: exec CMD in the node's namespaces and cgroup (the
# caller's process becomes CMD: run it in a subshell to come back).
node_run() {
	local node=$1 holder
	shift
	holder=$(node_holder_pid "$node")
	[ -n "$holder" ] && pid_alive "$holder" || die "node $node has no mount namespace (holder gone)"
	exec nsenter -t "$holder" -m -n -u -- sh -c \
		'while read -r d; do echo $$ >"$d/cgroup.procs"; done <"$0"; exec "$@"' \
		"$(state)/nodes/$node/system.cgroups" "$@"
}

# node_bg NODE NAME CMD...: a daemon of the node, pid in pids/NAME-NODE.pid.
node_bg() {
	local node=$1 name=$2 s
	shift 2
	s=$(state)
	(node_run "$node" "$@") >>"$s/log/$name-$node.log" 2>&1 </dev/null &
	echo $! >"$s/pids/$name-$node.pid"
}

node_mountns_up() {
	local node=$1 s n i
	s=$(state)
	n=$s/nodes/$node
	cgroup_make "$node"
	nsenter --net="/run/netns/$(ns_of "$node")" unshare --mount --uts --propagation private \
		bash -c "$(node_mountns_script)" holder "$s" "$n" "$KUBELET_SYSCTLS" \
		>"$s/log/holder-$node.log" 2>&1 </dev/null &
	echo $! >"$s/pids/holder-$node.pid"
	# 30 s: on a loaded machine (load 50+) 5 s was seen to fall short.
	for ((i = 0; i < 600; i++)); do
		[ -e "$n/mountns.ready" ] && return 0
		alive "$s/pids/holder-$node.pid" || break
		sleep 0.05
	done
	cat "$s/log/holder-$node.log" >&2
	die "node $node: mount namespace setup failed"
}

# --- per-node configuration ---------------------------------------------------------
# Nodes come up at once: a random serial each, not -CAcreateserial (every
# node rewriting one ca.srl made a node's openssl fail now and then).
node_pki() { # NODE: the kubelet's client certificate (Node authorizer identity)
	local p=$(state)/pki node=$1 log
	log=$(state)/log/pki-$node.log
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$p/$node.key" \
		-out "$p/$node.csr" -subj "/CN=system:node:$node/O=system:nodes" >"$log" 2>&1 &&
		openssl x509 -req -in "$p/$node.csr" -CA "$p/ca.crt" -CAkey "$p/ca.key" \
			-set_serial "0x$(openssl rand -hex 16)" -out "$p/$node.crt" -days 7 >>"$log" 2>&1 ||
		die "node $node: client certificate: $(tail -3 "$log")"
	chmod 600 "$p/$node.key"
}

node_kubeconfig() { # NODE -> the kubelet's kubeconfig
	local s=$(state)
	cat <<EOF
apiVersion: v1
kind: Config
clusters:
- name: $LAB_NAME
  cluster: {server: "https://$APISERVER_IP:6443", certificate-authority: $s/pki/ca.crt}
users:
- name: $1
  user: {client-certificate: $s/pki/$1.crt, client-key: $s/pki/$1.key}
contexts:
- name: $LAB_NAME
  context: {cluster: $LAB_NAME, user: $1}
current-context: $LAB_NAME
EOF
}

containerd_config() { # NODE
	local c=$(state)/nodes/$1/containerd
	cat <<EOF
version = 2
root = "$c/root"
state = "$c/state"
[grpc]
  address = "$c/containerd.sock"
[plugins."io.containerd.internal.v1.opt"]
  path = "$c/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.10"
  # No CAP_SYS_RESOURCE here: a sandbox oom_score_adj of -998 makes runc fail.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/opt/cni/bin"
    conf_dir = "/etc/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
EOF
}

kubelet_config() { # NODE
	local s n
	s=$(state)
	n=$s/nodes/$1
	cat <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $s/pki/ca.crt}
authorization: {mode: Webhook}
cgroupDriver: cgroupfs
cgroupRoot: $(cgroup_of "$1")
containerRuntimeEndpoint: unix://$n/containerd/containerd.sock
clusterDNS: [$KUBE_CLUSTER_DNS]
clusterDomain: cluster.local
resolvConf: $n/resolv.conf
failSwapOn: false
protectKernelDefaults: false
nodeStatusUpdateFrequency: 2s
volumePluginDir: $n/volume-plugins
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: 50Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1%}
EOF
}

kube_proxy_config() { # NODE
	local s=$(state)
	cat <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: nftables
clientConnection: {kubeconfig: $s/admin.kubeconfig}
hostnameOverride: $1
clusterCIDR: $KUBE_CLUSTER_CIDR$(! is_dual_stack_cluster || echo ",$POOL6_CIDR")
bindAddress: $(ip_of "$1")
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
# 0: leave the conntrack sysctls alone (nf_conntrack_max is global).
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
EOF
}

node_ips() { # NODE: the kubelet's --node-ip
	if is_dual_stack_cluster; then echo "$(ip_of "$1"),$(ip6_of "$1")"; else ip_of "$1"; fi
}

# node_start NODE containerd|kubelet|kube-proxy
node_start() {
	local node=$1 what=$2 n
	n=$(state)/nodes/$node
	! alive "$(state)/pids/$what-$node.pid" || die "$what already runs on $node"
	case $what in
	containerd)
		node_bg "$node" containerd containerd -c "$n/containerd.toml"
		local i
		for ((i = 0; i < 100; i++)); do
			node_ctr "$node" version >/dev/null 2>&1 && return 0
			alive "$(state)/pids/containerd-$node.pid" || break
			sleep 0.1
		done
		tail -20 "$(state)/log/containerd-$node.log" >&2
		die "containerd on $node did not start"
		;;
	kubelet)
		node_bg "$node" kubelet "$KUBELET" --config="$n/kubelet.yaml" --kubeconfig="$n/kubelet.kubeconfig" \
			--hostname-override="$node" --node-ip="$(node_ips "$node")" --v=1
		;;
	kube-proxy)
		node_bg "$node" kube-proxy "$KUBE_PROXY" --config="$n/kube-proxy.yaml" --v=1
		;;
	*) die "node start: containerd|kubelet|kube-proxy, not '$what'" ;;
	esac
}

# node_stop NODE WHAT [--kill]: SIGTERM (or SIGKILL), wait until it is gone.
node_stop() {
	local node=$1 what=$2 sig=TERM pidf
	[ "${3:-}" = --kill ] && sig=KILL
	pidf=$(state)/pids/$what-$node.pid
	alive "$pidf" || die "$what does not run on $node"
	stop_pid "$pidf" "$sig" 15 || die "$what on $node (pid $(cat "$pidf")) did not exit"
}

node_ctr() { # NODE ARGS...
	local node=$1
	shift
	(node_run "$node" ctr -a "$(state)/nodes/$node/containerd/containerd.sock" -n k8s.io "$@")
}

node_up() {
	local node=$1 n
	n=$(state)/nodes/$node
	mkdir -p "$n/containerd" "$n/volume-plugins"
	: >"$n/resolv.conf"
	node_pki "$node"
	node_kubeconfig "$node" >"$n/kubelet.kubeconfig"
	containerd_config "$node" >"$n/containerd.toml"
	kubelet_config "$node" >"$n/kubelet.yaml"
	kube_proxy_config "$node" >"$n/kube-proxy.yaml"
	node_mountns_up "$node"
	node_start "$node" containerd
	for img in "$PAUSE_IMAGE" "$BUSYBOX_IMAGE" "$NODE_IMAGE"; do
		node_ctr "$node" images import "$img" >>"$(state)/log/import-$node.log" 2>&1 ||
			die "node $node: image import of $img failed (log/import-$node.log)"
	done
	node_start "$node" kubelet
	node_start "$node" kube-proxy
}

# --- calico-c's manifest --------------------------------------------------------------
# lab manifest: manifests/calico-c.yaml as this lab installs it. Unchanged on
# an IPv4 lab; on `up --kubelet --ipv6` with what a user changes for dual
# stack: IP6=autodetect by the Node's InternalIPs (the kubelet's --node-ip),
# the lab's IPv6 pool, and IPv6 addresses from the CNI plugin's IPAM.
cmd_manifest() {
	local m=$LAB_SRC/manifests/calico-c.yaml out
	[ -d "$(state)" ] || die "no lab named '$LAB_NAME'"
	is_dual_stack_cluster || { cat "$m"; return 0; }
	out=$(sed -e 's|^  ip6: ""$|  ip6: "autodetect"|' \
		-e 's|^  ip6_autodetection_method: "first-found"$|  ip6_autodetection_method: "kubernetes-internal-ip"|' \
		-e "s|^  pool6_cidr: \"\"\$|  pool6_cidr: \"$POOL6_CIDR\"|" \
		-e 's|"ipam": { "type": "calico-c-ipam" }|"ipam": { "type": "calico-c-ipam", "assign_ipv4": "true", "assign_ipv6": "true" }|' "$m")
	# Every edit must have matched: a changed manifest fails here, not in a spec.
	[ "$(diff <(echo "$out") "$m" | grep -c '^<')" = 4 ] || die "manifest: the dual-stack edits no longer match $m"
	echo "$out"
}

# --- control plane ------------------------------------------------------------------
start_controllers() {
	local s=$1 p=$1/pki
	mkdir -p "$s/kcm" "$s/scheduler"
	run_bg kube-controller-manager "$(ns_of cp)" "$KUBE_CONTROLLER_MANAGER" \
		--kubeconfig="$s/admin.kubeconfig" --authentication-kubeconfig="$s/admin.kubeconfig" \
		--authorization-kubeconfig="$s/admin.kubeconfig" --leader-elect=false \
		--service-account-private-key-file="$p/sa.key" --root-ca-file="$p/ca.crt" \
		--service-cluster-ip-range="$(service_cidrs)" --cert-dir="$s/kcm" \
		--bind-address=127.0.0.1 --v=1
	run_bg kube-scheduler "$(ns_of cp)" "$KUBE_SCHEDULER" \
		--kubeconfig="$s/admin.kubeconfig" --authentication-kubeconfig="$s/admin.kubeconfig" \
		--authorization-kubeconfig="$s/admin.kubeconfig" --leader-elect=false \
		--cert-dir="$s/scheduler" --bind-address=127.0.0.1 --v=1
}

# kubelet_up NODES: controllers, then every node; wait until every Node is
# registered and the default ServiceAccount exists (pods need it).
kubelet_up() {
	local nodes=$1 i s end pids=() rc=0
	s=$(state)
	start_controllers "$s"
	for ((i = 1; i <= nodes; i++)); do
		node_up "node$i" &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i" || rc=1; done
	[ "$rc" = 0 ] || die "a node did not come up"
	end=$((SECONDS + 90))
	until [ "$(kc get nodes -o name 2>/dev/null | wc -l)" -ge "$nodes" ] &&
		kc get serviceaccount default -n kube-system >/dev/null 2>&1; do
		for ((i = 1; i <= nodes; i++)); do
			alive "$s/pids/kubelet-node$i.pid" || { tail -20 "$s/log/kubelet-node$i.log" >&2; die "kubelet on node$i exited"; }
		done
		[ $SECONDS -lt "$end" ] || die "nodes not registered after 90 s (logs: $s/log/kubelet-*.log)"
		sleep 0.3
	done
}

# kubelet_down: every node's subtree and cgroups (after `down` stopped the
# processes with pid files).
kubelet_down() {
	local d f=$(state)/cgroups.parents
	for d in "$(state)"/nodes/*/; do
		[ -d "$d" ] && cgroup_clear "$(basename "$d")"
	done
	[ -f "$f" ] || return 0
	tac "$f" | while read -r d; do rmdir "$d" 2>/dev/null || true; done
	rm -f "$f"
}

cmd_node() {
	local sub=${1:-} node=${2:-}
	[ -d "$(state)" ] || die "no lab named '$LAB_NAME'"
	is_kubelet_lab || die "node: only in a lab made with 'up --kubelet'"
	[ -n "$node" ] && [ -d "$(state)/nodes/$node" ] || die "node: no node '$node'"
	shift 2 || true
	tools
	kubelet_tools
	case $sub in
	start) node_start "$node" "$@" ;;
	stop) node_stop "$node" "$@" ;;
	import) node_ctr "$node" images import "$1" ;;
	ctr) node_ctr "$node" "$@" ;;
	*) die "usage: lab node start|stop|import|ctr NODE ..." ;;
	esac
}
