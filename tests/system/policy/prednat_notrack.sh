# The preDNAT and doNotTrack scenario of 0009 (IPv4) and 0010 (IPv6), over
# the family in FAMILY (4 or 6); see those tests for what it checks.
. "$(dirname "$0")/helpers.sh"

# host:port as a DNAT target and a probe spec spell it
hostport() { if [[ $1 == *:* ]]; then printf '[%s]:%s' "$1" "$2"; else printf '%s:%s' "$1" "$2"; fi; }

case ${FAMILY:?} in
4)	N=192.168.50.1 X=192.168.50.2 P=10.65.1.1 NAT=ip CT=ipv4
	FAILSAFE=tcp:9090 ;; # any address
6)	N=fd00:50::1 X=fd00:50::2 P=fd00:65::101 NAT=ip6 CT=ipv6
	FAILSAFE='tcp:[fd00:50::/64]:9090' ;; # only the external link's net
*)	fail "FAMILY=$FAMILY" ;;
esac

node_up
pod_up prod web "$P"
pod='{"metadata":{"namespace":"prod","name":"web","labels":{"app":"web"}},"status":{"podIP":"'$P'"}}'
hep='{"metadata":{"name":"node-ext0","labels":{"role":"node"}},"spec":{"node":"n1","interfaceName":"ext0"}}'
nft_node -f - <<NFT || fail "nodeport table"
table $NAT nodeport {
	chain pre {
		type nat hook prerouting priority -100;
		tcp dport 30080 dnat to $(hostport "$P" 8080)
		tcp dport 30090 dnat to $(hostport "$P" 9090)
	}
}
NFT
on_exit "ip netns exec '$NODE' nft delete table $NAT nodeport 2>/dev/null"
state() { # NAME GNP...
	local name=$1 p
	shift
	p=$(printf '%s,' "$@")
	printf '{"namespaces":[{"metadata":{"name":"prod"}}],"pods":[%s],"hostendpoints":[%s],"globalnetworkpolicies":[%s]}' \
		"$pod" "$hep" "${p%,}" >"$TMP/$name.json"
}
gnp() { printf '{"kind":"GlobalNetworkPolicy","metadata":{"name":"default.%s"},"spec":%s}' "$1" "$2"; }
apply() {
	local out
	out=$(policy apply --state "$TMP/$1.json" --endpoint-to-host-action Accept \
		--failsafe-inbound "$FAILSAFE" --failsafe-outbound "$FAILSAFE" 2>&1) || fail "apply $1: $out"
	ip netns exec "$NODE" conntrack -F -f "$CT" >/dev/null 2>&1 || true
	echo "$out"
}
# counted LABEL: the rule labelled LABEL counted a packet
counted() { nft_node list table inet calico-c | grep -F "$1" | grep -q 'counter packets [1-9]'; }
conntrack_node() { ip netns exec "$NODE" conntrack -L -f "$CT" 2>/dev/null; }
# forget the node's and the external host's neighbours: the next packets
# need neighbour discovery (ARP, or ICMPv6 through the host endpoint)
neigh_flush() {
	ip -n "$NODE" neigh flush dev ext0
	ip -n "$EXT" neigh flush dev eth0
}

# a HostEndpoint with no normal policy: NodePorts are forwarded (not policed)
state none
apply none >/dev/null
probe_ok "$EXT" "tcp:$(hostport "$N" 30080)" || fail "no policy: NodePort 30080"
probe_ok "$EXT" "tcp:$(hostport "$N" 30090)" || fail "no policy: NodePort 30090"

# preDNAT: deny the NodePort 30090 before DNAT turns it into the pod's 9090
state pre "$(gnp pre '{"selector":"role == '"'node'"'","preDNAT":true,"applyOnForward":true,
	"ingress":[{"action":"Deny","protocol":"TCP","destination":{"ports":[30090]}}]}')"
apply pre >/dev/null
probe_fails "$EXT" "tcp:$(hostport "$N" 30090)" || fail "preDNAT: NodePort 30090 not denied"
probe_ok "$EXT" "tcp:$(hostport "$N" 30080)" || fail "preDNAT: NodePort 30080 lost"
probe_ok "$EXT" "tcp:$(hostport "$P" 9090)" || fail "preDNAT: the pod's own 9090 (never 30090) lost"
probe_ok "$EXT" "tcp:$(hostport "$N" 9090)" || fail "preDNAT: failsafe 9090"
counted 'default.pre ingress[0] Deny' || fail "preDNAT: the Deny counted nothing"
nft_node list chain inet calico-c cc_prerouting | grep -Eq 'hook prerouting priority (mangle|-150)' || fail "cc_prerouting priority"

# doNotTrack: 8080 in and its replies out untracked, everything else denied
state dnt "$(gnp dnt '{"selector":"role == '"'node'"'","doNotTrack":true,"applyOnForward":true,
	"ingress":[{"action":"Allow","protocol":"TCP","destination":{"ports":[8080]}},{"action":"Deny"}],
	"egress":[{"action":"Allow","protocol":"TCP","source":{"ports":[8080]}},{"action":"Deny"}]}')"
apply dnt >/dev/null
neigh_flush
probe_ok "$EXT" "tcp:$(hostport "$N" 8080)" || fail "doNotTrack: allowed 8080 (normal policy denies it)"
counted 'default.dnt ingress[0] Allow' || fail "doNotTrack: the ingress Allow counted nothing"
counted 'default.dnt egress[0] Allow' || fail "doNotTrack: the egress Allow counted nothing"
ct=$(conntrack_node)
grep -q 'dport=8080' <<<"$ct" && fail "doNotTrack: the 8080 flow was tracked: $ct"
neigh_flush
probe_ok "$EXT" "tcp:$(hostport "$N" 9090)" || fail "doNotTrack: failsafe inbound 9090"
neigh_flush
probe_ok "$NODE" "tcp:$(hostport "$X" 9090)" || fail "doNotTrack: failsafe outbound 9090"
ct=$(conntrack_node)
grep -q 'dport=9090' <<<"$ct" || fail "doNotTrack: the failsafe flows were not tracked: $ct"
probe_fails "$EXT" "tcp:$(hostport "$N" 30080)" || fail "doNotTrack: Deny let NodePort 30080 through"
probe_fails "$NODE" "tcp:$(hostport "$X" 8080)" || fail "doNotTrack: egress Deny let node -> ext 8080 out"
counted 'default.dnt ingress[1] Deny' || fail "doNotTrack: the Deny counted nothing"
apply dnt | grep -q 'in sync: no changes' || fail "re-apply changed something"

state none
apply none >/dev/null
nft_node list table inet calico-c | grep -q 'cc_raw_\|cc_prerouting\|hep_pd_\|hep_n[ie]_\|cc_failsafe_raw' &&
	fail "preDNAT/doNotTrack chains left"
probe_ok "$EXT" "tcp:$(hostport "$N" 30090)" || fail "NodePort 30090 after removal"
exit 0
