# Fail-closed policy tests (sourced by tests/system/security/00[01]*): the
# felix-c lab of tests/system/felix (own lab, FX_NODES nodes, felix-c and
# BIRD on each) plus what these tests share.
FX_NODES=${FX_NODES:-2}
. "$(dirname "$0")/../felix/helpers.sh"

allowed() { wait_for 15 probe "$1" "$2" "$3" "${4:-tcp}"; }  # SRC DST PORT [PROTO]
denied() { wait_for 15 eval "! probe $1 $2 $3 ${4:-tcp}"; }
# still_denied SRC DST PORT: denied (within 15 s: felix-c logs a rejection
# before its batch is applied) and for the next 3 s (no late opening).
still_denied() {
	denied "$1" "$2" "$3"
	local end=$((SECONDS + 3))
	while [ $SECONDS -lt $end ]; do
		probe "$1" "$2" "$3" && fail "$1 -> $2:$3 allowed"
	done
	return 0
}
# netpol NAMESPACE NAME SPEC-JSON [VERB]: kubectl VERB (apply) of a NetworkPolicy;
# create/replace for specs too big for apply's last-applied annotation.
netpol() {
	k "${4:-apply}" -f - >/dev/null <<Y || fail "${4:-apply} networkpolicy $1/$2"
{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"namespace":"$1","name":"$2"},"spec":$3}
Y
}
deny_all() { netpol "$1" deny-all '{"podSelector":{},"policyTypes":["Ingress","Egress"]}'; }
metric() { L agent health "$1" /metrics | awk -v m="$2" '$1 == m { print $2 }'; } # NODE NAME
felix_log() { cat "$LAB_STATE/log/felix-$1.log"; }
