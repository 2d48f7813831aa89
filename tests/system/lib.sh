# Sourced by every system test. The runner (tests/system/run) has already put
# us in a private network + mount namespace; this gives the helpers:
#   fail MSG             print and exit 1
#   on_exit CMD...       stacked cleanup (last registered runs first), eval'd
#   wait_for SECS CMD... poll CMD until it succeeds; fail at the deadline
#   lab ARGS...          tests/lab/lab
set -u

CALICO_C_SRC=${CALICO_C_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
CALICO_C_BUILD=${CALICO_C_BUILD:-$CALICO_C_SRC/build}
export CALICO_C_SRC CALICO_C_BUILD

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

_on_exit=()
on_exit() { _on_exit=("$*" "${_on_exit[@]}"); }
_run_on_exit() {
	local rc=$? c
	for c in "${_on_exit[@]}"; do
		eval "$c" || true
	done
	exit "$rc"
}
trap _run_on_exit EXIT

wait_for() {
	local secs=$1 end
	shift
	end=$((SECONDS + secs))
	until "$@"; do
		[ "$SECONDS" -lt "$end" ] || fail "timed out after ${secs}s waiting for: $*"
		sleep 0.1
	done
}

lab() { "$CALICO_C_SRC/tests/lab/lab" "$@"; }
