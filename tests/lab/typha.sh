# typha-c in the lab (sourced by tests/lab/lab, which defines state, ns_of,
# ip_of, run_bg, alive, stop_pid, die, say): one typha-c in the control
# plane's namespace, on 172.31.0.2:5473 (health and metrics on :9098), fed
# by the lab's apiserver with the admin kubeconfig.
#
#   lab typha start               start it (env TYPHA_* passes through)
#   lab typha stop [--kill]       SIGTERM (or SIGKILL) it
#   lab typha wait [SECS]         until its /readiness answers 200
#   lab typha health PATH         GET http://172.31.0.2:9098 PATH
#   lab typha env                 FELIX_TYPHA* assignments (export them before
#                                 lab agent start / lab hollow start)
#   lab typha env --rogue         the same with a client certificate of
#                                 another CA (typha-c must refuse it)
#
# PKI in typha/ (made once per lab, like the apiserver's): a CA, typha-c's
# certificate (CN typha-c), felix-c's client certificate (CN felix-c), and a
# rogue CA with a client certificate of the same CN.
TYPHA_PORT=5473

typha_pki() {
	local d
	d=$(state)/typha
	[ -f "$d/rogue.crt" ] && return 0
	mkdir -p "$d"
	(
		cd "$d"
		for ca in ca rogue-ca; do
			openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$ca.key" -out "$ca.crt" \
				-days 7 -subj "/CN=calico-c-lab-$ca" 2>/dev/null
		done
		cert() { # NAME CN CA
			openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$1.key" -out "$1.csr" \
				-subj "/CN=$2" 2>/dev/null
			openssl x509 -req -in "$1.csr" -CA "$3.crt" -CAkey "$3.key" -CAcreateserial \
				-out "$1.crt" -days 7 2>/dev/null
		}
		cert typha typha-c ca
		cert felix felix-c ca
		cert rogue felix-c rogue-ca
		chmod 600 ./*.key
	) || die "typha: cannot make the PKI"
}

typha_start() {
	local s
	s=$(state)
	! alive "$s/pids/typha-c.pid" || die "typha: already running"
	typha_pki
	run_bg typha-c "$(ns_of cp)" env KUBECONFIG="$s/admin.kubeconfig" \
		TYPHA_SERVERHOST="$(ip_of cp)" TYPHA_SERVERPORT=$TYPHA_PORT \
		TYPHA_HEALTHHOST="$(ip_of cp)" \
		TYPHA_CAFILE="$s/typha/ca.crt" TYPHA_SERVERCERTFILE="$s/typha/typha.crt" \
		TYPHA_SERVERKEYFILE="$s/typha/typha.key" TYPHA_CLIENTCN="${TYPHA_CLIENTCN:-felix-c}" \
		"$LAB_BIN/typha-c"
}

typha_health() { ip netns exec "$(ns_of cp)" curl -sf --max-time 2 "http://$(ip_of cp):9098$1"; }

typha_wait() {
	local end=$((SECONDS + ${1:-60}))
	until typha_health /readiness >/dev/null 2>&1; do
		alive "$(state)/pids/typha-c.pid" || { tail -20 "$(state)/log/typha-c.log" >&2; die "typha: exited"; }
		[ "$SECONDS" -lt "$end" ] || die "typha: not ready after ${1:-60}s"
		sleep 0.2
	done
}

typha_env() {
	local d cert=felix
	d=$(state)/typha
	[ "${1:-}" = --rogue ] && cert=rogue
	typha_pki
	echo "FELIX_TYPHAADDR=$(ip_of cp):$TYPHA_PORT FELIX_TYPHACAFILE=$d/ca.crt" \
		"FELIX_TYPHACERTFILE=$d/$cert.crt FELIX_TYPHAKEYFILE=$d/$cert.key FELIX_TYPHACN=typha-c"
}

cmd_typha() {
	local sub=${1:-} pidf
	[ -d "$(state)" ] || die "no lab named '$LAB_NAME'"
	shift || true
	pidf=$(state)/pids/typha-c.pid
	case $sub in
	start) typha_start ;;
	stop)
		alive "$pidf" || die "typha: not running"
		stop_pid "$pidf" "$([ "${1:-}" = --kill ] && echo KILL || echo TERM)" 10 ||
			die "typha: did not exit"
		;;
	wait) typha_wait "$@" ;;
	health) typha_health "$@" ;;
	env) typha_env "$@" ;;
	*) die "usage: lab typha start|stop|wait|health|env ..." ;;
	esac
}
