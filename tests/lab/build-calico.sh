#!/usr/bin/env bash
# Build Calico's own calicoctl and CNI plugin (calico, calico-ipam) from
# their Go modules, into a cache keyed by version, for the interop tests
# (tests/interop). Idempotent: what is present is not rebuilt; it prints the
# paths as shell assignments.
#
# Calico's module path has no /v3 suffix, so its release tags are not module
# versions: the release is named by the pseudo-versions of its tag's commits
# (calico and its separate api module), which the Go module proxy serves.
# The source is the module zip; its go.mod replaces the api and lib/std
# modules by folders the zip leaves out, so they are put there from their own
# modules. lib/httpmachinery (only whisker-backend imports it) is not served
# by the proxy at that commit: an empty module stands in.
set -euo pipefail

CALICO_VERSION=${CALICO_VERSION:-v3.31.0}
case $CALICO_VERSION in
v3.31.0)
	CALICO_MOD=v0.0.0-20251021213802-b1f3c43f8437
	API_MOD=v0.0.0-20251022175904-f2ab03771208
	;;
*) echo "build-calico: no module versions known for $CALICO_VERSION" >&2; exit 1 ;;
esac
CACHE=${CALICO_C_CACHE:-/var/cache/calico-c}
dir=$CACHE/calico-$CALICO_VERSION

GO_BUILD_LOCK=.build-calico.lock
# shellcheck source=tests/lab/go-build.sh
. "$(dirname "${BASH_SOURCE[0]}")/go-build.sh"

# mod_dir MODULE@VERSION: the module's folder in the module cache.
mod_dir() {
	go mod download -json "$1" | sed -n 's/.*"Dir": "\(.*\)",/\1/p'
}

build() {
	local src=$dir/src pkg out
	[ -x "$dir/calicoctl" ] && [ -x "$dir/calico" ] && [ -x "$dir/calico-ipam" ] && return 0
	command -v go >/dev/null || { log "go not found: install Go to build Calico's tools"; return 1; }
	log "building calicoctl and the CNI plugin $CALICO_VERSION (first time: 15-30 min)"
	rm -rf "$src"
	mkdir -p "$src"
	cp -r "$(mod_dir "github.com/projectcalico/calico@$CALICO_MOD")/." "$src"
	chmod -R u+w "$src"
	cp -r "$(mod_dir "github.com/projectcalico/api@$API_MOD")" "$src/api"
	mkdir -p "$src/lib"
	cp -r "$(mod_dir "github.com/projectcalico/calico/lib/std@$CALICO_MOD")" "$src/lib/std"
	mkdir -p "$src/lib/httpmachinery"
	printf 'module github.com/projectcalico/calico/lib/httpmachinery\n\ngo 1.24\n' \
		>"$src/lib/httpmachinery/go.mod"
	chmod -R u+w "$src"
	cd "$src"
	local ld="-s -w -X github.com/projectcalico/calico/pkg/buildinfo.Version=$CALICO_VERSION"
	for pkg in calicoctl:./calicoctl/calicoctl calico:./cni-plugin/cmd/calico; do
		out=${pkg%%:*}
		go build -trimpath -ldflags="$ld" -o "$dir/$out.tmp" "${pkg#*:}"
		mv "$dir/$out.tmp" "$dir/$out"
	done
	# One binary, two plugins: it acts as IPAM when named calico-ipam.
	ln -sf calico "$dir/calico-ipam"
}

build
printf 'CALICOCTL=%s\nCALICO_CNI=%s\nCALICO_IPAM=%s\n' \
	"$dir/calicoctl" "$dir/calico" "$dir/calico-ipam"
