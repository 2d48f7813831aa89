#!/usr/bin/env bash
# Build the upstream control-plane binaries the lab runs (kube-apiserver,
# kubectl, etcd) from their Go modules, into a cache keyed by version.
# Idempotent: when every binary is present, it prints the paths and exits.
# Go is used for these test tools only, never for product code.
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-v1.33.13}
ETCD_VERSION=${ETCD_VERSION:-v3.5.21}
CACHE=${CALICO_C_CACHE:-/var/cache/calico-c}
k8s_dir=$CACHE/k8s-$K8S_VERSION
etcd_dir=$CACHE/etcd-$ETCD_VERSION
staging_version=v0${K8S_VERSION#v1}

export PATH=$PATH:/usr/local/go/bin
export GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0

log() { printf 'build-tools: %s\n' "$*" >&2; }

# One build at a time: the system test runner, the demo and a second tree
# may all call this at once, and would otherwise build into the same .tmp
# files. A read-only cache (the fresh-machine test) is only looked at.
mkdir -p "$CACHE" 2>/dev/null || true
if [ -w "$CACHE" ]; then
	exec 9>>"$CACHE/.build.lock"
	flock 9
fi

# The kubernetes module replaces its staging modules with local paths, which
# a dependent module cannot use; the wrapper pins each to its published tag.
build_k8s() {
	local work=$k8s_dir/src mod
	if [ -x "$k8s_dir/kube-apiserver" ] && [ -x "$k8s_dir/kubectl" ]; then
		return 0
	fi
	command -v go >/dev/null || { log "go not found: install Go to build the lab's control plane"; return 1; }
	log "building kube-apiserver and kubectl $K8S_VERSION (first time: 10-20 min)"
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
		echo "	k8s.io/kubernetes/cmd/kube-apiserver"
		echo "	k8s.io/kubectl/pkg/cmd"
		echo ")"
		echo
		echo "replace ("
		sed -n '/^replace (/,/^)/p' "$mod" | sed -n 's#^\s*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#\t\1 => \1 '"$staging_version"'#p'
		echo ")"
	} > go.mod
	go mod tidy >/dev/null
	go build -trimpath -ldflags='-s -w' -o "$k8s_dir/kube-apiserver.tmp" k8s.io/kubernetes/cmd/kube-apiserver
	go build -trimpath -ldflags='-s -w' -o "$k8s_dir/kubectl.tmp" k8s.io/kubernetes/cmd/kubectl
	mv "$k8s_dir/kube-apiserver.tmp" "$k8s_dir/kube-apiserver"
	mv "$k8s_dir/kubectl.tmp" "$k8s_dir/kubectl"
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

build_etcd
build_k8s
printf 'KUBE_APISERVER=%s\nKUBECTL=%s\nETCD=%s\n' \
	"$k8s_dir/kube-apiserver" "$k8s_dir/kubectl" "$etcd_dir/etcd"
