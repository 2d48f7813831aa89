#!/usr/bin/env bash
# Build the upstream binaries the lab runs from their Go modules, into a cache
# keyed by version: the control plane (kube-apiserver, kubectl, etcd,
# kube-controller-manager, kube-scheduler) and a node's (kubelet,
# kube-proxy); and the lab's images as OCI archives (images/ in the cache):
# pause (tests/lab/images/pause.c, static, named registry.k8s.io/pause:3.10,
# the kubelet's default sandbox image) and busybox (the host's busybox-static,
# named calico-c/busybox:lab). Idempotent: what is present is not rebuilt; it
# prints the paths as shell assignments.
# Go is used for these test tools only, never for product code.
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
K8S_VERSION=${K8S_VERSION:-v1.33.13}
ETCD_VERSION=${ETCD_VERSION:-v3.5.21}
CACHE=${CALICO_C_CACHE:-/var/cache/calico-c}
k8s_dir=$CACHE/k8s-$K8S_VERSION
etcd_dir=$CACHE/etcd-$ETCD_VERSION
img_dir=$CACHE/images
staging_version=v0${K8S_VERSION#v1}
# Each is k8s.io/kubernetes/cmd/<name> (kubectl's tool line names its library).
K8S_TOOLS="kube-apiserver kubectl kube-controller-manager kube-scheduler kubelet kube-proxy"
PAUSE_REF=registry.k8s.io/pause:3.10
BUSYBOX_REF=calico-c/busybox:lab

GO_BUILD_LOCK=.build.lock
# shellcheck source=tests/lab/go-build.sh
. "$SRC/tests/lab/go-build.sh"

# The version a binary reports (kubelet puts it in its Node's status); without
# these it says v0.0.0-master+$Format:%H$.
k8s_ldflags() {
	local v=$K8S_VERSION minor p f=()
	minor=${v#v1.}
	minor=${minor%%.*}
	for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
		f+=("-X $p.gitVersion=$v" "-X $p.gitMajor=1" "-X $p.gitMinor=$minor"
			"-X $p.gitTreeState=clean" "-X $p.buildDate=1970-01-01T00:00:00Z")
	done
	echo "-s -w ${f[*]}"
}

# The kubernetes module replaces its staging modules with local paths, which
# a dependent module cannot use; the wrapper pins each to its published tag.
build_k8s() {
	local work=$k8s_dir/src mod t missing=() pkg
	for t in $K8S_TOOLS; do
		[ -x "$k8s_dir/$t" ] || missing+=("$t")
	done
	[ ${#missing[@]} -gt 0 ] || return 0
	command -v go >/dev/null || { log "go not found: install Go to build the lab's Kubernetes binaries"; return 1; }
	log "building ${missing[*]} $K8S_VERSION (first time: 10-20 min)"
	mkdir -p "$work"
	cd "$work"
	mod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)",/\1/p')
	{
		echo "module calico-c.test/k8s-tools"
		echo
		echo "go 1.24"
		echo
		echo "require k8s.io/kubernetes $K8S_VERSION"
		echo
		echo "tool ("
		for t in $K8S_TOOLS; do
			case $t in
			kubectl) echo "	k8s.io/kubectl/pkg/cmd" ;;
			*) echo "	k8s.io/kubernetes/cmd/$t" ;;
			esac
		done
		echo ")"
		echo
		echo "replace ("
		sed -n '/^replace (/,/^)/p' "$mod" | sed -n 's#^\s*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#\t\1 => \1 '"$staging_version"'#p'
		echo ")"
	} > go.mod
	go mod tidy >/dev/null
	for t in "${missing[@]}"; do
		pkg=k8s.io/kubernetes/cmd/$t
		go build -trimpath -ldflags="$(k8s_ldflags)" -o "$k8s_dir/$t.tmp" "$pkg"
		mv "$k8s_dir/$t.tmp" "$k8s_dir/$t"
	done
}

build_etcd() {
	local work=$etcd_dir/src
	[ -x "$etcd_dir/etcd" ] && return 0
	command -v go >/dev/null || { log "go not found: install Go to build etcd"; return 1; }
	log "building etcd $ETCD_VERSION"
	mkdir -p "$work"
	cd "$work"
	cat > go.mod <<EOM
module calico-c.test/etcd-tools

go 1.24

require go.etcd.io/etcd/server/v3 $ETCD_VERSION

tool go.etcd.io/etcd/server/v3
EOM
	go mod tidy >/dev/null
	go build -trimpath -ldflags='-s -w' -o "$etcd_dir/etcd.tmp" go.etcd.io/etcd/server/v3
	mv "$etcd_dir/etcd.tmp" "$etcd_dir/etcd"
}

# build_image NAME REF CONFIG ROOTFS_FN: images/NAME.oci.tar, a one-layer
# image of the folder ROOTFS_FN fills; rebuilt when ROOTFS_FN's inputs
# (`ROOTFS_FN key` prints their key) change, unless the cache is read-only.
IMAGE_RECIPE=1 # bump when an image's recipe below changes
build_image() {
	local name=$1 ref=$2 config=$3 fill=$4 work=$img_dir/$1 key
	key="$IMAGE_RECIPE $("$fill" key)"
	if [ -f "$img_dir/$name.oci.tar" ]; then
		[ "$(cat "$work.key" 2>/dev/null)" = "$key" ] || [ ! -w "$img_dir" ] && return 0
	fi
	log "building image $ref"
	# shellcheck source=manifests/image/oci.sh
	. "$SRC/manifests/image/oci.sh"
	rm -rf "$work"
	mkdir -p "$work/rootfs"
	"$fill" "$work/rootfs"
	OCI_WORK=$work OCI_EPOCH=0
	case $(dpkg --print-architecture) in amd64) OCI_ARCH=amd64 ;; arm64) OCI_ARCH=arm64 ;; *) log "unsupported arch"; return 1 ;; esac
	oci_layer "$work/rootfs" rootfs
	oci_archive "$img_dir/$name.oci.tar" "$ref" "$config" rootfs
	rm -rf "$work/rootfs"
	echo "$key" >"$work.key"
}

pause_rootfs() {
	local src=$SRC/tests/lab/images/pause.c
	if [ "$1" = key ]; then sha256sum "$src" | cut -d' ' -f1; return; fi
	gcc -std=gnu17 -Os -static -Wall -Wextra -Werror -o "$1/pause" "$src"
	strip "$1/pause"
}

busybox_rootfs() {
	local r=$1 a
	if [ "$1" = key ]; then sha256sum /bin/busybox | cut -d' ' -f1; return; fi
	mkdir -p "$r/bin" "$r/etc" "$r/tmp" "$r/root"
	chmod 1777 "$r/tmp"
	cp /bin/busybox "$r/bin/busybox"
	for a in $(/bin/busybox --list); do
		[ "$a" = busybox ] || ln -s busybox "$r/bin/$a"
	done
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$r/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$r/etc/group"
}

build_etcd
build_k8s
mkdir -p "$img_dir" 2>/dev/null || true
build_image pause "$PAUSE_REF" '{"Entrypoint":["/pause"],"WorkingDir":"/"}' pause_rootfs
build_image busybox "$BUSYBOX_REF" \
	'{"Env":["PATH=/bin"],"Cmd":["sh"],"WorkingDir":"/"}' busybox_rootfs
printf 'KUBE_APISERVER=%s\nKUBECTL=%s\nETCD=%s\n' \
	"$k8s_dir/kube-apiserver" "$k8s_dir/kubectl" "$etcd_dir/etcd"
printf 'KUBE_CONTROLLER_MANAGER=%s\nKUBE_SCHEDULER=%s\nKUBELET=%s\nKUBE_PROXY=%s\n' \
	"$k8s_dir/kube-controller-manager" "$k8s_dir/kube-scheduler" "$k8s_dir/kubelet" "$k8s_dir/kube-proxy"
printf 'PAUSE_IMAGE=%s\nBUSYBOX_IMAGE=%s\nBUSYBOX_REF=%s\n' \
	"$img_dir/pause.oci.tar" "$img_dir/busybox.oci.tar" "$BUSYBOX_REF"
