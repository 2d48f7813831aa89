# Helpers for the node image's system tests (sourced). Each test re-executes
# itself in a private network + mount namespace of its own (nested in the
# runner's, whose /run/netns stays visible), so containerd, its shims and
# every mount vanish with it.
#
# image_build          `make image`'s recipe; sets IMAGE_TAR, IMAGE_PROGS
# ctd_up [NETNS]       containerd (Debian's 1.6, CRI plugin off) with root,
#                      state and socket under $TMP, run in NETNS if given (a
#                      --net-host container then shares that namespace)
# ctr_ ARGS...         ctr against it, in namespace k8s.io (the kubelet's)
# in_image NAME CMD... run CMD in a fresh container of $IMAGE; stdout+stderr
#                      -> $OUT, exit code -> $RC
# IMAGE                the name containerd gives the imported image
if [ -z "${IMAGE_TEST_PRIVATE:-}" ]; then
	exec env IMAGE_TEST_PRIVATE=1 unshare --net --mount --propagation private \
		bash -c 'ip link set lo up && exec bash "$0"' "$0"
fi

: "${CALICO_C_SRC:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}"
: "${CALICO_C_BUILD:=$CALICO_C_SRC/build}"
# shellcheck source=/dev/null
. "$CALICO_C_SRC/tests/system/lib.sh"

command -v containerd >/dev/null && command -v ctr >/dev/null && command -v runc >/dev/null ||
	fail "needs Debian packages containerd and runc"

IMAGE=docker.io/calico-c/node:0.1.0
TMP=$(mktemp -d /tmp/image-test-XXXXXX)
on_exit "rm -rf '$TMP'"

# image_build: run the recipe of `make image` (from `make -n -B`, so no
# program is rebuilt here: `make system` built them) on $CALICO_C_BUILD.
# About 1 s warm. The first build needs apt (run `make image` outside the
# test namespace once); later ones work offline from the package cache.
image_build() {
	local build
	build=$(realpath --relative-to="$CALICO_C_SRC" "$CALICO_C_BUILD")
	IMAGE_RECIPE=$(make -C "$CALICO_C_SRC" --no-print-directory -n -B BUILD="$build" image 2>/dev/null |
		grep '^manifests/image/build\.sh ')
	[ -n "$IMAGE_RECIPE" ] || fail "no manifests/image/build.sh recipe in make -n image"
	(cd "$CALICO_C_SRC" && eval "$IMAGE_RECIPE") >"$TMP/make.log" 2>&1 ||
		fail "make image recipe failed: $(tail -n5 "$TMP/make.log")"
	IMAGE_TAR=$CALICO_C_BUILD/calico-c-node.oci.tar
	[ -s "$IMAGE_TAR" ] || fail "make image wrote no $IMAGE_TAR"
	# The programs it packs, for the tests to compare with.
	IMAGE_PROGS=$(sed 's/.*build\.sh -o [^ ]* -w [^ ]* -n [^ ]* //' <<<"$IMAGE_RECIPE")
}

ctd_up() {
	local netns=${1:-}
	CTD=$TMP/ctd
	mkdir -p "$CTD/root" "$CTD/state"
	cat >"$CTD/config.toml" <<-EOT
	version = 2
	root = "$CTD/root"
	state = "$CTD/state"
	disabled_plugins = ["io.containerd.grpc.v1.cri"]
	[grpc]
	  address = "$CTD/sock"
	[plugins."io.containerd.internal.v1.opt"]
	  path = "$CTD/opt"
	EOT
	# nsenter, not ip netns exec: the latter remounts /sys and hides the
	# cgroups runc needs.
	if [ -n "$netns" ]; then
		nsenter --net="/run/netns/$netns" containerd -c "$CTD/config.toml" >"$CTD/log" 2>&1 &
	else
		containerd -c "$CTD/config.toml" >"$CTD/log" 2>&1 &
	fi
	local pid=$!
	# Stop containerd, then any shim it left (found by our unique state path).
	on_exit "kill $pid 2>/dev/null; for p in /proc/[0-9]*; do grep -qs '$CTD' \$p/cmdline && kill \${p#/proc/} 2>/dev/null; done"
	wait_for 30 ctr_ready
}
ctr_() { ctr -a "$CTD/sock" -n k8s.io "$@"; }
ctr_ready() { ctr_ version >/dev/null 2>&1; }

_in_image_n=0
in_image() {
	local name=$1
	shift
	_in_image_n=$((_in_image_n + 1))
	OUT=$(timeout 60 ctr -a "$CTD/sock" -n k8s.io run --rm "$IMAGE" "$name-$_in_image_n" "$@" </dev/null 2>&1)
	RC=$?
	return 0
}

# ---- Playing the kubelet for the calico-node DaemonSet ----------------------
# Needs: the DaemonSet applied to a lab (DS holds `kubectl get ds -o json`),
# k (kubectl on the lab), ctd_up in the node's namespace, NODE_IP.
#
# ds_container_run CONTAINER NODE SA_DIR ID [detach]: run the init or main container
# CONTAINER of $DS as a kubelet on NODE would: the image named in the spec
# (normalised like the CRI does), command + args, env (value, ConfigMap keys,
# fieldRef spec.nodeName / metadata.* / status.hostIP / status.podIP) plus
# the KUBERNETES_SERVICE_* a kubelet adds, hostPath volume mounts
# (DirectoryOrCreate created), the service-account token folder from SA_DIR,
# hostNetwork, readOnlyRootFilesystem, capabilities drop/add and privileged.
# Anything else in the spec fails the test, so the emulation never silently
# diverges from the manifest. Output -> $OUT, exit code -> $RC. With
# "detach" the container keeps running as task CONTAINER-ID (stopped and
# removed at exit) and its output goes to $TMP/CONTAINER-ID.log.
CAPS_DEFAULT="CHOWN DAC_OVERRIDE FSETID FOWNER MKNOD NET_RAW SETGID SETUID SETFCAP SETPCAP NET_BIND_SERVICE SYS_CHROOT KILL AUDIT_WRITE"
ds_container_run() {
	local name=$1 node=$2 sa=$3 id=$4 detach=${5:-} c pod image opts=() argv=() e n v src path type mp ro cm key sc x
	pod=$(jq -c .spec.template.spec <<<"$DS")
	c=$(jq -c --arg n "$name" '[.initContainers[]?, .containers[]] | map(select(.name == $n)) | .[0]' <<<"$pod")
	[ "$c" != null ] || fail "the DaemonSet has no container '$name'"
	x=$(jq -r 'del(.name, .image, .imagePullPolicy, .command, .args, .env, .securityContext,
		.volumeMounts, .livenessProbe, .readinessProbe, .startupProbe, .resources,
		.terminationMessagePath, .terminationMessagePolicy) | keys | join(" ")' <<<"$c")
	[ -z "$x" ] || fail "container $name: spec fields this test does not emulate: $x"
	image=$(jq -r .image <<<"$c")
	case $image in */*) ;; *) image=library/$image ;; esac
	case ${image%%/*} in *.* | *:* | localhost) ;; *) image=docker.io/$image ;; esac
	[ "$image" = "$IMAGE" ] || fail "container $name uses image $image, not $IMAGE"

	[ "$(jq -r '.hostNetwork // false' <<<"$pod")" = true ] && opts+=(--net-host)
	opts+=(--env "KUBERNETES_SERVICE_HOST=${LAB_APISERVER_HOST:-172.31.0.2}" --env KUBERNETES_SERVICE_PORT=6443
		--env KUBERNETES_SERVICE_PORT_HTTPS=6443)
	while IFS= read -r e; do
		n=$(jq -r .name <<<"$e")
		if jq -e 'has("value")' <<<"$e" >/dev/null; then
			v=$(jq -r .value <<<"$e")
		elif jq -e '.valueFrom.configMapKeyRef' <<<"$e" >/dev/null; then
			cm=$(jq -r .valueFrom.configMapKeyRef.name <<<"$e")
			key=$(jq -r .valueFrom.configMapKeyRef.key <<<"$e")
			if ! x=$(k get configmap -n kube-system "$cm" -o json 2>/dev/null); then
				# an optional key of a missing ConfigMap: unset, as the kubelet leaves it
				jq -e '.valueFrom.configMapKeyRef.optional == true' <<<"$e" >/dev/null ||
					fail "env $n: no ConfigMap $cm"
				continue
			fi
			v=$(jq -r --arg k "$key" '.data[$k] // empty' <<<"$x")
			[ -n "$v" ] || jq -e '.valueFrom.configMapKeyRef.optional == true' <<<"$e" >/dev/null ||
				k get configmap -n kube-system "$cm" -o json | jq -e --arg k "$key" '.data | has($k)' >/dev/null ||
				fail "env $n: ConfigMap $cm has no key $key"
		elif jq -e '.valueFrom.fieldRef' <<<"$e" >/dev/null; then
			case $(jq -r .valueFrom.fieldRef.fieldPath <<<"$e") in
			spec.nodeName) v=$node ;;
			metadata.namespace) v=kube-system ;;
			metadata.name) v=calico-node-$id ;;
			status.hostIP | status.podIP) v=$NODE_IP ;;
			*) fail "env $n: fieldRef $(jq -c .valueFrom.fieldRef <<<"$e") not emulated" ;;
			esac
		else
			fail "env $n: source $(jq -c .valueFrom <<<"$e") not emulated"
		fi
		opts+=(--env "$n=$v")
	done < <(jq -c '.env[]?' <<<"$c")

	while IFS= read -r e; do
		n=$(jq -r .name <<<"$e")
		mp=$(jq -r .mountPath <<<"$e")
		ro=rw
		[ "$(jq -r '.readOnly // false' <<<"$e")" = true ] && ro=ro
		v=$(jq -c --arg n "$n" '.volumes[] | select(.name == $n)' <<<"$pod")
		if jq -e .secret <<<"$v" >/dev/null; then
			# a Secret's keys as files; an optional missing one is an empty directory
			path=$TMP/secret-$name-$n
			mkdir -p "$path"
			if x=$(k get secret -n kube-system "$(jq -r .secret.secretName <<<"$v")" -o json 2>/dev/null); then
				for key in $(jq -r '.data // {} | keys[]' <<<"$x"); do
					jq -r --arg k "$key" '.data[$k]' <<<"$x" | base64 -d >"$path/$key"
				done
			else
				jq -e '.secret.optional == true' <<<"$v" >/dev/null || fail "volume $n: no Secret: $v"
			fi
			opts+=(--mount "type=bind,src=$path,dst=$mp,options=rbind:ro")
			continue
		fi
		path=$(jq -r '.hostPath.path // empty' <<<"$v")
		[ -n "$path" ] || fail "volume $n: only hostPath and Secret volumes are emulated: $v"
		type=$(jq -r '.hostPath.type // ""' <<<"$v")
		case $type in
		DirectoryOrCreate) mkdir -p "$path" ;;
		Directory) [ -d "$path" ] || fail "volume $n: host directory $path missing" ;;
		"") [ -e "$path" ] || mkdir -p "$path" ;;
		*) [ -e "$path" ] || fail "volume $n: $path ($type) missing" ;;
		esac
		opts+=(--mount "type=bind,src=$path,dst=$mp,options=rbind:$ro")
	done < <(jq -c '.volumeMounts[]?' <<<"$c")
	if [ "$(jq -r '.automountServiceAccountToken // true' <<<"$pod")" = true ]; then
		opts+=(--mount "type=bind,src=$sa,dst=/var/run/secrets/kubernetes.io/serviceaccount,options=rbind:ro")
	fi

	sc=$(jq -c '.securityContext // {}' <<<"$c")
	[ "$(jq -r '.privileged // false' <<<"$sc")" = true ] && opts+=(--privileged)
	[ "$(jq -r '.readOnlyRootFilesystem // false' <<<"$sc")" = true ] && opts+=(--read-only)
	[ "$(jq -r '.allowPrivilegeEscalation // true' <<<"$sc")" = true ] && opts+=(--allow-new-privs)
	case $(jq -r '.runAsUser // 0' <<<"$sc") in 0) ;; *) fail "container $name: runAsUser not emulated" ;; esac
	for x in $(jq -r '.capabilities.drop[]?' <<<"$sc"); do
		if [ "$x" = ALL ]; then
			for v in $CAPS_DEFAULT; do opts+=(--cap-drop "CAP_$v"); done
		else
			opts+=(--cap-drop "CAP_${x#CAP_}")
		fi
	done
	for x in $(jq -r '.capabilities.add[]?' <<<"$sc"); do opts+=(--cap-add "CAP_${x#CAP_}"); done

	mapfile -t argv < <(jq -r '(.command // []) + (.args // []) | .[]' <<<"$c")
	[ "$(jq -r '.command | length' <<<"$c")" -gt 0 ] || fail "container $name: no command (entry point + args not emulated)"
	if [ "$detach" = detach ]; then
		on_exit "ctr_ task kill -s SIGKILL '$name-$id' >/dev/null 2>&1; ctr_ task delete -f '$name-$id' >/dev/null 2>&1; ctr_ container delete '$name-$id' >/dev/null 2>&1"
		ctr_ run "${opts[@]}" --log-uri "file://$TMP/$name-$id.log" -d "$IMAGE" "$name-$id" "${argv[@]}" \
			</dev/null >"$TMP/$name-$id.run" 2>&1
		RC=$?
		OUT=$(cat "$TMP/$name-$id.run")
		return 0
	fi
	OUT=$(timeout 60 ctr -a "$CTD/sock" -n k8s.io run --rm "${opts[@]}" "$IMAGE" "$name-$id" "${argv[@]}" </dev/null 2>&1)
	RC=$?
	return 0
}

# host_private DIR...: an overlay over each host folder, private to this
# test's mount namespace, so the DaemonSet's hostPath folders (and what the
# CNI plugin writes) land in $TMP.
host_private() {
	local d u
	for d in "$@"; do
		u=$TMP/ov${d//\//-}
		mkdir -p "$u/up" "$u/work"
		mount -t overlay overlay -o "lowerdir=$d,upperdir=$u/up,workdir=$u/work" "$d" ||
			fail "cannot overlay $d"
	done
}
