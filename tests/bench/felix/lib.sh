# Sourced by the felix-c benchmarks. Puts the bench in a private network and
# mount namespace when it was not started by tests/bench/run, runs a private
# copy of the binaries (CNI ADD/DEL times in $TMP/cni.times), names a lab of
# its own (LAB_NAME=fxb<tag>-<pid>, removed at exit) and gives helpers:
#   lab_up NODES TORS    lab up + LAB_* variables
#   L CMD ARGS...        tests/lab/lab CMD --name $LAB_NAME ARGS...
#   k ARGS...            kubectl against the lab
#   now                  wall clock in µs (EPOCHREALTIME)
#   ms_between A B       (B - A) in ms with 2 decimals, A and B from now
#   stats FILE           "p50 X ms, p90 Y ms (n N)" of a file of numbers (ms)
#   pctl FILE P          the P-th percentile of a file of numbers
#   verdict VALUE LIMIT  OK if VALUE <= LIMIT else MISSED
#   proc_mem PID         "VmRSS_kB VmHWM_kB RssAnon_kB"
#   proc_cpu_ms PID      utime+stime in ms
#   metric NODE NAME     one felix-c metric value (first sample of NAME)
#   stamp_lines FILE CMD...   runs CMD in the background, every output line
#                        prefixed with its arrival time (s.µs) into FILE;
#                        CMD's pid in STAMP_PID
set -u
if [ -z "${FXB_PRIVATE:-}" ] && [ "${CALICO_C_BENCH_INNER:-}" != 1 ]; then
	exec env FXB_PRIVATE=1 unshare --net --mount --propagation private \
		bash -c 'ip link set lo up && exec bash "$0" "$@"' "$0" "$@"
fi
SRC=${CALICO_C_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
BUILD=${CALICO_C_BUILD:-$SRC/build}
mountpoint -q /run/netns || { mkdir -p /run/netns; mount -t tmpfs tmpfs /run/netns; }
mountpoint -q /run/calico-c-lab || { mkdir -p /run/calico-c-lab; mount -t tmpfs tmpfs /run/calico-c-lab; }
[ -n "${KUBECTL:-}" ] || eval "$("$SRC/tests/lab/build-tools.sh")"
export KUBE_APISERVER KUBECTL ETCD
for b in felix-c calico-c calico-c-ipam calico-c-policy-probe; do
	[ -x "$BUILD/bin/$b" ] || { echo "felix bench: build $b first (make all)" >&2; exit 1; }
done

die() { echo "felix bench: $*" >&2; exit 1; }
TMP=$(mktemp -d /tmp/felix-bench-XXXXXX)
LAB_NAME=fxb${FXB_TAG:-}-$$
_bg_pids=()
bg_track() { _bg_pids+=("$1"); }
_cleanup() {
	local p
	for p in "${_bg_pids[@]}"; do kill "$p" 2>/dev/null; done
	"$SRC/tests/lab/lab" down --name "$LAB_NAME" >/dev/null 2>&1
	rm -rf "$TMP"
}
trap _cleanup EXIT
# A private copy of the binaries: the shared build dir may be rebuilt while
# we run (and perf needs the binary it sampled). The lab runs
# $CALICO_C_BUILD/bin/*; calico-c there is a wrapper that logs
# "CMD start_us end_us rc" per call to $TMP/cni.times, so a bench knows when
# a CNI ADD started and returned.
mkdir -p "$TMP/build/bin"
cp -p "$BUILD"/bin/* "$TMP/build/bin/"
BUILD=$TMP/build
mv "$BUILD/bin/calico-c" "$BUILD/bin/calico-c.real"
cat >"$BUILD/bin/calico-c" <<EOF
#!/bin/bash
s=\${EPOCHREALTIME/./}
"$BUILD/bin/calico-c.real"
rc=\$?
echo "\$CNI_COMMAND \$s \${EPOCHREALTIME/./} \$rc" >>"$TMP/cni.times"
exit \$rc
EOF
chmod +x "$BUILD/bin/calico-c"
export CALICO_C_SRC=$SRC CALICO_C_BUILD=$BUILD

L() { local c=$1; shift; "$SRC/tests/lab/lab" "$c" --name "$LAB_NAME" "$@"; }
k() { "$SRC/tests/lab/lab" kubectl --name "$LAB_NAME" "$@"; }

lab_up() { # NODES TORS
	L up --nodes "$1" --tors "$2" >"$TMP/lab.log" 2>&1 || { cat "$TMP/lab.log" >&2; die "lab up"; }
	eval "$(L env)"
}
netns_of() { eval echo "\${LAB_NODE_$1_NETNS}"; }
ip_of() { eval echo "\${LAB_NODE_$1_IP}"; }
felix_pid() { cat "$LAB_STATE/pids/felix-$1.pid"; }

now() { echo "${EPOCHREALTIME/./}"; }
ms_between() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b - a) / 1000 }'; }
pctl() { sort -g "$1" | awk -v p="$2" '{ v[NR] = $1 } END { if (!NR) { print "nan"; exit } i = int(NR * p / 100 + 0.999); if (i < 1) i = 1; print v[i] }'; }
stats() { [ -s "$1" ] || { echo "no samples"; return; }; echo "p50 $(pctl "$1" 50) ms, p90 $(pctl "$1" 90) ms (n $(wc -l <"$1"))"; }
verdict() { awk -v v="$1" -v l="$2" 'BEGIN { print (v != "nan" && v + 0 <= l + 0) ? "OK" : "MISSED" }'; }

proc_mem() {
	awk '/^VmRSS:/ { r = $2 } /^VmHWM:/ { h = $2 } /^RssAnon:/ { a = $2 } END { print r, h, a }' "/proc/$1/status"
}
CLK_TCK=$(getconf CLK_TCK)
proc_cpu_ms() { # fields after the ")" of the comm: utime is the 12th, stime the 13th
	sed 's/.*) //' "/proc/$1/stat" | awk -v hz="$CLK_TCK" '{ print int(($12 + $13) * 1000 / hz) }'
}
metrics() { L agent health "$1" /metrics; }
metric() { metrics "$1" | awk -v n="$2" '$1 == n || index($1, n "{") == 1 { print $2; exit }'; }

stamp_lines() {
	local out=$1
	shift
	# $! is CMD itself (the reader ends at its EOF), so killing it ends both.
	"$@" 2>/dev/null > >(while IFS= read -r line; do echo "$EPOCHREALTIME $line"; done >"$out") &
	STAMP_PID=$!
	bg_track "$STAMP_PID"
}

# monitor_ready FILE PATTERN CMD...: runs CMD (an event a monitor started
# with stamp_lines must see) until a line matching PATTERN is in FILE, so
# the monitor is known to be subscribed before a measurement.
monitor_ready() {
	local f=$1 pat=$2 end=$((SECONDS + 10))
	shift 2
	until grep -q -- "$pat" "$f" 2>/dev/null; do
		[ "$SECONDS" -lt "$end" ] || die "monitor writing $f never saw '$pat'"
		"$@"
		sleep 0.05
	done
}

# watch_probe SRC_NS/NAME IP PORT WANT(ok|fail) TIMEOUT_MS OUT: probes
# IP:PORT from the pod in a loop (one calico-c-policy-probe per try) until
# the result is WANT, then writes "start_us end_us" of that try to OUT. The
# first result is written to OUT.pre (the state before the change), every
# try as "start_us end_us ok|fail" to OUT.tries. Gives up
# after 20 s. The loop's pid is in WATCH_PID.
watch_probe() {
	rm -f "$6" "$6.pre" "$6.tries"
	L pod exec "$1" -- bash -c '
		ip=$1 port=$2 want=$3 to=$4 out=$5 probe=$6 first=1 got=
		end=$((SECONDS + 20))
		while [ "$SECONDS" -lt "$end" ]; do
			s=${EPOCHREALTIME/./}
			got=fail
			[[ $("$probe" check --timeout "$to" "tcp:$ip:$port") == *" ok" ]] && got=ok
			e=${EPOCHREALTIME/./}
			echo "$s $e $got" >>"$out.tries"
			if [ -n "$first" ]; then echo "$got" >"$out.pre"; first=; fi
			[ "$got" = "$want" ] && { echo "$s $e" >"$out.tmp"; mv "$out.tmp" "$out"; exit 0; }
		done
		exit 1' _ "$2" "$3" "$4" "$5" "$6" "$BUILD/bin/calico-c-policy-probe" &
	WATCH_PID=$!
	bg_track "$WATCH_PID"
}

wait_file() { # SECS FILE
	local end=$((SECONDS + $1))
	until [ -s "$2" ]; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.01
	done
}
