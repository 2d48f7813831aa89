# Sourced by the scripts that build upstream test tools from Go modules
# (build-tools.sh, build-calico.sh), after they set CACHE: Go's environment,
# log() prefixed with the script's name, and one build at a time per lock
# file: the system test runner, the demo and a second tree may all call a
# script at once, and would otherwise build into the same .tmp files. A
# read-only cache (the fresh-machine test) is only looked at.
# Go is used for these test tools only, never for product code.
export PATH=$PATH:/usr/local/go/bin
export GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0

log() { printf '%s: %s\n' "$(basename "$0" .sh)" "$*" >&2; }

mkdir -p "$CACHE" 2>/dev/null || true
if [ -w "$CACHE" ]; then
	exec 9>>"$CACHE/${GO_BUILD_LOCK:?}"
	flock 9
fi
