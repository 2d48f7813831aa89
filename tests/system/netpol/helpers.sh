# NetworkPolicy conformance (sourced): upstream's e2e probing model in a lab
# of our own with felix-c on every node (tests/lab/model.sh). A case resets
# the model, writes its expectations like upstream's truth tables (start
# from all allowed, then expect FROM TO allowed|denied per port/protocol;
# FROM/TO are globs over "ns/pod"), applies its policies and waits until
# `lab matrix` equals the expectation, recording how long that took.
. "$CALICO_C_SRC/tests/system/lib.sh"

LAB_NAME=np-$$
lab up --name "$LAB_NAME" --nodes 2 --tors 0 >/dev/null 2>&1 || fail "lab up"
on_exit "lab down --name '$LAB_NAME' >/dev/null 2>&1"
eval "$(lab env --name "$LAB_NAME")"
lab agent --name "$LAB_NAME" up >/dev/null 2>&1 || fail "agents"
lab model --name "$LAB_NAME" up >/dev/null 2>&1 || fail "model up"

k() { lab kubectl --name "$LAB_NAME" "$@"; }
MODEL_PODS="x/a x/b x/c y/a y/b y/c z/a z/b z/c"
CONVERGE_S=${CONVERGE_S:-10}
declare -A E
PPS=()
CASES=0 CASES_FAILED=0
CONVERGED_MS=()

# case_begin NAME PORT/PROTO...: reset the model and the expectation.
case_begin() {
	CASE=$1
	shift
	PPS=("$@")
	lab model --name "$LAB_NAME" reset >/dev/null || fail "$CASE: model reset"
	E=()
	expect '*' '*' allowed
}

# expect FROM TO allowed|denied [PORT/PROTO...] (default: every one of the case)
expect() {
	local from=$1 to=$2 v=. pp s d
	[ "$3" = denied ] && v=X
	shift 3
	for pp in "${@:-${PPS[@]}}"; do
		for s in $MODEL_PODS; do
			# shellcheck disable=SC2053
			[[ $s == $from ]] || continue
			for d in $MODEL_PODS; do
				[[ $d == $to ]] || continue
				[ "$s" = "$d" ] && continue # a pod always reaches itself
				E["$pp $s $d"]=$v
			done
		done
	done
}

expected_tables() {
	local pp s d row
	for pp in "${PPS[@]}"; do
		echo "$pp $MODEL_PODS"
		for s in $MODEL_PODS; do
			row=$s
			for d in $MODEL_PODS; do row+=" ${E["$pp $s $d"]:-.}"; done
			echo "$row"
		done
	done
}

apply() { k apply -f - >/dev/null || fail "$CASE: kubectl apply"; }

# case_check: poll the matrix until it matches (records the time from now).
case_check() {
	local want got t0=${EPOCHREALTIME/./} end=$((SECONDS + CONVERGE_S))
	want=$(expected_tables)
	CASES=$((CASES + 1))
	while :; do
		got=$(lab matrix --name "$LAB_NAME" "${PPS[@]}")
		if [ "$got" = "$want" ]; then
			CONVERGED_MS+=($(((${EPOCHREALTIME/./} - t0) / 1000)))
			echo "PASS $CASE"
			return 0
		fi
		[ "$SECONDS" -lt "$end" ] || break
	done
	CASES_FAILED=$((CASES_FAILED + 1))
	echo "FAIL $CASE (after ${CONVERGE_S}s): expected vs probed" >&2
	diff <(echo "$want") <(echo "$got") >&2
	return 1
}

case_summary() {
	local max=0 m
	for m in "${CONVERGED_MS[@]}"; do [ "$m" -gt "$max" ] && max=$m; done
	echo "netpol: $((CASES - CASES_FAILED)) of $CASES cases passed; matrix matched at most ${max} ms after the change (bound ${CONVERGE_S} s)"
	[ "$CASES_FAILED" = 0 ]
}
