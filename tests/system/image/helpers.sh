# Helpers for the node image's system tests (sourced). Each test re-executes
# itself in a private network + mount namespace of its own (nested in the
# runner's, whose /run/netns stays visible), so containerd, its shims and
# every mount vanish with it.
#
# image_build          `make image` for $CALICO_C_BUILD; sets IMAGE_TAR
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

# `make image` is a no-op when the archive is newer than the programs. The
# first build needs apt (run `make image` outside the test namespace once);
# later ones work offline from the package cache.
image_build() {
	local build
	build=$(realpath --relative-to="$CALICO_C_SRC" "$CALICO_C_BUILD")
	make -C "$CALICO_C_SRC" --no-print-directory BUILD="$build" image >"$TMP/make.log" 2>&1 ||
		fail "make image failed: $(tail -n5 "$TMP/make.log")"
	IMAGE_TAR=$CALICO_C_BUILD/calico-c-node.oci.tar
	[ -s "$IMAGE_TAR" ] || fail "make image wrote no $IMAGE_TAR"
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
