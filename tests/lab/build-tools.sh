#!/usr/bin/env bash
# Build the upstream binaries the lab runs from their Go modules, into a cache
# keyed by version: the control plane (kube-apiserver, kubectl, etcd,
# kube-controller-manager, kube-scheduler) and a node's (kubelet,
# kube-proxy); and the lab's images as OCI archives (images/ in the cache):
# pause (tests/lab/images/pause.c, static, named registry.k8s.io/pause:3.10,
# the kubelet's default sandbox image) and busybox (the host's busybox-static,
# named calico-c/busybox:lab). Idempotent: what is present is not rebuilt; it
# prints the paths as shell assignments.
# With --e2e, also upstream's conformance tools (make conformance): e2e.test
# (upstream's runner with the networking specs, tests/lab/e2e/network_test.go),
# ginkgo, and the images those specs run: agnhost, named as the e2e framework
# of K8S_VERSION expects it, and busybox again under the framework's name.
# With --conformance, all of that and CoreDNS, the cluster DNS of make
# conformance (make check's smoke specs need no DNS: --e2e spares a cold
# cache CoreDNS's build, the longest of these), and the ClusterNetworkPolicy
# conformance suite of sigs.k8s.io/network-policy-api (tests/conformance/cnp)
# with the agnhost image under the name its manifests use.
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
# test/utils/image/manifest.go of K8S_VERSION.
AGNHOST_REF=registry.k8s.io/e2e-test-images/agnhost:2.53
E2E_BUSYBOX_REF=registry.k8s.io/e2e-test-images/busybox:1.36.1-1
DNSUTILS_REF=registry.k8s.io/e2e-test-images/jessie-dnsutils:1.7
# The cluster DNS the e2e DNS and Service specs resolve through.
COREDNS_VERSION=${COREDNS_VERSION:-v1.12.0}
coredns_dir=$CACHE/coredns-$COREDNS_VERSION
COREDNS_REF=calico-c/coredns:$COREDNS_VERSION
# The network-policy-api release whose CRD manifests/crds.yaml carries.
NPAPI_VERSION=${NPAPI_VERSION:-v0.3.0}
npapi_dir=$CACHE/network-policy-api-$NPAPI_VERSION
NPAPI_AGNHOST_REF=registry.k8s.io/e2e-test-images/agnhost:2.45
E2E=0 DNS=0
case "${1:-}" in
--e2e) E2E=1 ;;
--conformance) E2E=1 DNS=1 ;;
esac

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

# k8s_wrapper MODULE TOOL...: go.mod of a module that builds packages of
# k8s.io/kubernetes. That module replaces its staging modules with local
# paths, which a dependent module cannot use; the wrapper pins each to its
# published tag. The tool lines keep `go mod tidy` from dropping them; -e:
# tidy also looks at the tests of k8s.io/kubernetes/test/e2e, which need
# k8s.io/sample-apiserver at a version the module proxy does not serve (the
# build, which does not, then fails on whatever else is wrong).
k8s_wrapper() {
	local mod t
	mod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)",/\1/p')
	{
		printf 'module %s\n\ngo 1.24\n\nrequire k8s.io/kubernetes %s\n\ntool (\n' "$1" "$K8S_VERSION"
		shift
		for t; do printf '\t%s\n' "$t"; done
		echo ")"
		echo
		echo "replace ("
		sed -n '/^replace (/,/^)/p' "$mod" | sed -n 's#^\s*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#\t\1 => \1 '"$staging_version"'#p'
		echo ")"
	} > go.mod
	go mod tidy -e >/dev/null 2>tidy.log
}

build_k8s() {
	local work=$k8s_dir/src t missing=() pkgs=() pkg
	for t in $K8S_TOOLS; do
		[ -x "$k8s_dir/$t" ] || missing+=("$t")
	done
	[ ${#missing[@]} -gt 0 ] || return 0
	command -v go >/dev/null || { log "go not found: install Go to build the lab's Kubernetes binaries"; return 1; }
	log "building ${missing[*]} $K8S_VERSION (first time: 10-20 min)"
	mkdir -p "$work"
	cd "$work"
	for t in $K8S_TOOLS; do
		case $t in
		kubectl) pkgs+=(k8s.io/kubectl/pkg/cmd) ;; # kubectl's tool line names its library
		*) pkgs+=("k8s.io/kubernetes/cmd/$t") ;;
		esac
	done
	k8s_wrapper calico-c.test/k8s-tools "${pkgs[@]}"
	for t in "${missing[@]}"; do
		pkg=k8s.io/kubernetes/cmd/$t
		go build -trimpath -ldflags="$(k8s_ldflags)" -o "$k8s_dir/$t.tmp" "$pkg"
		mv "$k8s_dir/$t.tmp" "$k8s_dir/$t"
	done
}

# e2e.test is rebuilt when its main (tests/lab/e2e) changes.
E2E_TOOLS="k8s.io/kubernetes/test/images/agnhost github.com/onsi/ginkgo/v2/ginkgo"
build_e2e() {
	local work=$k8s_dir/e2e-src key t
	key=$(cat "$SRC"/tests/lab/e2e/*.go | sha256sum | cut -d' ' -f1)
	if [ -x "$k8s_dir/agnhost" ] && [ -x "$k8s_dir/ginkgo" ] && [ -x "$k8s_dir/e2e.test" ] &&
		[ -f "$k8s_dir/porter/localhost.key" ]; then
		[ "$(cat "$k8s_dir/e2e.test.key" 2>/dev/null)" = "$key" ] || [ ! -w "$k8s_dir" ] && return 0
	fi
	command -v go >/dev/null || { log "go not found: install Go to build e2e.test"; return 1; }
	log "building e2e.test, ginkgo, agnhost $K8S_VERSION (first time: several minutes)"
	mkdir -p "$work/network"
	cd "$work"
	cp "$SRC"/tests/lab/e2e/*.go network/
	# shellcheck disable=SC2086
	k8s_wrapper calico-c.test/k8s-e2e $E2E_TOOLS
	go test -c -trimpath -ldflags="$(k8s_ldflags)" -o "$k8s_dir/e2e.test.tmp" ./network
	mv "$k8s_dir/e2e.test.tmp" "$k8s_dir/e2e.test"
	for t in $E2E_TOOLS; do
		go build -trimpath -ldflags='-s -w' -o "$k8s_dir/${t##*/}.tmp" "$t"
		mv "$k8s_dir/${t##*/}.tmp" "$k8s_dir/${t##*/}"
	done
	# agnhost porter's TLS pair, which upstream's image has in its /.
	mkdir -p "$k8s_dir/porter"
	cp "$(go list -m -f '{{.Dir}}' k8s.io/kubernetes)"/test/images/agnhost/porter/localhost.{crt,key} \
		"$k8s_dir/porter/"
	echo "$key" >"$k8s_dir/e2e.test.key"
}

# The suite's base manifests without the containers serving SCTP (agnhost
# porter exits without kernel SCTP, so no replica would become Ready): each
# container item of the StatefulSets (8-space "- name:") whose block sets a
# SERVE_SCTP_PORT_ variable is left out. Fails unless it left out 10 (two
# per StatefulSet in v0.3.0) and no SCTP server remains.
strip_sctp_servers() {
	awk '
		function flush() { if (buf != "" && buf !~ /SERVE_SCTP_PORT_/) printf "%s", buf; else if (buf != "") n++; buf = "" }
		/^        - name: / { flush(); item = 1; buf = $0 "\n"; next }
		item && /^          / { buf = buf $0 "\n"; next }
		{ flush(); item = 0; print }
		END { flush(); if (n != 10) { print "left out " n " SCTP containers, not 10" > "/dev/stderr"; exit 1 } }
	' "$1" >"$2" && ! grep -q SCTP "$2"
}

# cnp.test: tests/conformance/cnp (the suite runner) in a wrapper module
# requiring sigs.k8s.io/network-policy-api; rebuilt when its source changes.
CNP_RECIPE=1 # bump when build_cnp's recipe changes
build_cnp() {
	local work=$npapi_dir/src key mod
	key="$CNP_RECIPE $(cat "$SRC"/tests/conformance/cnp/*.go | sha256sum | cut -d' ' -f1)"
	if [ -x "$npapi_dir/cnp.test" ]; then
		[ "$(cat "$npapi_dir/cnp.test.key" 2>/dev/null)" = "$key" ] || [ ! -w "$npapi_dir" ] && return 0
	fi
	command -v go >/dev/null || { log "go not found: install Go to build the ClusterNetworkPolicy suite"; return 1; }
	log "building the ClusterNetworkPolicy conformance suite $NPAPI_VERSION"
	rm -rf "$work"
	mkdir -p "$work/cnp"
	cd "$work"
	printf 'module calico-c.test/cnp\n\ngo 1.26\n\nrequire sigs.k8s.io/network-policy-api %s\n' \
		"$NPAPI_VERSION" >go.mod
	cp "$SRC"/tests/conformance/cnp/*.go cnp/
	go mod tidy -e >/dev/null 2>tidy.log
	mod=$(go list -m -f '{{.Dir}}' sigs.k8s.io/network-policy-api)
	cp -r "$mod/conformance/base" cnp/base
	chmod -R u+w cnp/base
	strip_sctp_servers "$mod/conformance/base/manifests.yaml" cnp/base/manifests.yaml ||
		{ log "the suite's base manifests changed: see strip_sctp_servers"; return 1; }
	go test -c -trimpath -ldflags='-s -w' -o "$npapi_dir/cnp.test.tmp" ./cnp
	mv "$npapi_dir/cnp.test.tmp" "$npapi_dir/cnp.test"
	echo "$key" >"$npapi_dir/cnp.test.key"
}

# build_go_tool DIR BINARY MODULE@VERSION PACKAGE: DIR/BINARY, the main
# PACKAGE of MODULE at VERSION, built in a wrapper module in DIR/src.
build_go_tool() {
	local dir=$1 bin=$2 mod=${3%@*} ver=${3#*@} pkg=$4
	[ -x "$dir/$bin" ] && return 0
	command -v go >/dev/null || { log "go not found: install Go to build $bin"; return 1; }
	log "building $bin $ver"
	mkdir -p "$dir/src"
	cd "$dir/src"
	printf 'module calico-c.test/%s-tools\n\ngo 1.24\n\nrequire %s %s\n\ntool %s\n' \
		"$bin" "$mod" "$ver" "$pkg" >go.mod
	go mod tidy -e >/dev/null 2>tidy.log
	go build -trimpath -ldflags='-s -w' -o "$dir/$bin.tmp" "$pkg"
	mv "$dir/$bin.tmp" "$dir/$bin"
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

# host_bins ROOTFS DIR PROG...: the host's PROGs in ROOTFS/DIR, with the
# shared libraries and loader they need at the same paths as here.
host_bins() {
	local r=$1 dir=$2 p f
	shift 2
	mkdir -p "$r/$dir"
	for p; do
		cp "$(command -v "$p")" "$r/$dir/${p%.openbsd}"
		for f in $(ldd "$(command -v "$p")" | grep -o '/[^ ]*'); do
			[ -e "$r$f" ] || cp -L --parents "$f" "$r"
		done
	done
}

# Upstream's agnhost image is Alpine with agnhost plus the tools specs exec
# in it: a shell, curl, an nc with -u (netcat-openbsd), ip, dig, getent.
# /bin/sh is dash: Debian's busybox shell runs its own applets before PATH
# (its nc has no -u). The same root serves as jessie-dnsutils (dig, getent).
AGNHOST_HOST_BINS="curl nc.openbsd dig getent"
agnhost_rootfs() {
	local r=$1 p
	if [ "$1" = key ]; then
		busybox_rootfs key
		for p in $AGNHOST_HOST_BINS dash; do sha256sum "$(command -v "$p")"; done
		sha256sum "$k8s_dir/agnhost" "$k8s_dir"/porter/*
		return
	fi
	busybox_rootfs "$r"
	host_bins "$r" usr/bin $AGNHOST_HOST_BINS
	host_bins "$r" bin dash
	ln -sf dash "$r/bin/sh"
	cp "$k8s_dir/agnhost" "$k8s_dir"/porter/localhost.* "$r/"
	ln -s agnhost "$r/agnhost-2"
	mkdir -p "$r/uploads"
	echo 'hosts: files dns' >"$r/etc/nsswitch.conf"
	echo 'user-defined-in-image:x:1000:1000::/home/user-defined-in-image:/bin/sh' >>"$r/etc/passwd"
	printf 'user-defined-in-image:x:1000:\ngroup-defined-in-image:x:50000:user-defined-in-image\n' >>"$r/etc/group"
}

# The suite's manifests run their commands with /bin/bash.
agnhost_bash_rootfs() {
	if [ "$1" = key ]; then agnhost_rootfs key; sha256sum "$(command -v bash)"; return; fi
	agnhost_rootfs "$1"
	host_bins "$1" bin bash
}

coredns_rootfs() {
	if [ "$1" = key ]; then sha256sum "$coredns_dir/coredns" | cut -d' ' -f1; return; fi
	cp "$coredns_dir/coredns" "$1/coredns"
}

build_go_tool "$etcd_dir" etcd "go.etcd.io/etcd/server/v3@$ETCD_VERSION" go.etcd.io/etcd/server/v3
build_k8s
mkdir -p "$img_dir" 2>/dev/null || true
build_image pause "$PAUSE_REF" '{"Entrypoint":["/pause"],"WorkingDir":"/"}' pause_rootfs
build_image busybox "$BUSYBOX_REF" \
	'{"Env":["PATH=/bin"],"Cmd":["sh"],"WorkingDir":"/"}' busybox_rootfs
if [ "$E2E" = 1 ]; then
	build_e2e
	build_image agnhost "$AGNHOST_REF" \
		'{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Entrypoint":["/agnhost"],"Cmd":["pause"],"WorkingDir":"/"}' \
		agnhost_rootfs
	build_image dnsutils "$DNSUTILS_REF" \
		'{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["sh"],"WorkingDir":"/"}' \
		agnhost_rootfs
	build_image e2e-busybox "$E2E_BUSYBOX_REF" \
		'{"Env":["PATH=/bin"],"Cmd":["sh"],"WorkingDir":"/"}' busybox_rootfs
	images="agnhost dnsutils e2e-busybox"
	if [ "$DNS" = 1 ]; then
		build_go_tool "$coredns_dir" coredns "github.com/coredns/coredns@$COREDNS_VERSION" github.com/coredns/coredns
		build_image coredns "$COREDNS_REF" '{"Entrypoint":["/coredns"],"WorkingDir":"/"}' coredns_rootfs
		build_cnp
		build_image agnhost-npapi "$NPAPI_AGNHOST_REF" \
			'{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Entrypoint":["/agnhost"],"Cmd":["pause"],"WorkingDir":"/"}' \
			agnhost_bash_rootfs
		images="$images coredns agnhost-npapi"
		printf 'COREDNS_REF=%s\nCNP_TEST=%s\n' "$COREDNS_REF" "$npapi_dir/cnp.test"
	fi
	printf 'E2E_TEST=%s\nGINKGO=%s\nE2E_IMAGES="%s"\n' \
		"$k8s_dir/e2e.test" "$k8s_dir/ginkgo" \
		"$(for i in $images; do printf '%s ' "$img_dir/$i.oci.tar"; done)"
fi
printf 'KUBE_APISERVER=%s\nKUBECTL=%s\nETCD=%s\n' \
	"$k8s_dir/kube-apiserver" "$k8s_dir/kubectl" "$etcd_dir/etcd"
printf 'KUBE_CONTROLLER_MANAGER=%s\nKUBE_SCHEDULER=%s\nKUBELET=%s\nKUBE_PROXY=%s\n' \
	"$k8s_dir/kube-controller-manager" "$k8s_dir/kube-scheduler" "$k8s_dir/kubelet" "$k8s_dir/kube-proxy"
printf 'PAUSE_IMAGE=%s\nBUSYBOX_IMAGE=%s\nBUSYBOX_REF=%s\n' \
	"$img_dir/pause.oci.tar" "$img_dir/busybox.oci.tar" "$BUSYBOX_REF"
