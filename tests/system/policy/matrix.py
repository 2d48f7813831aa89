#!/usr/bin/env python3
"""Reachability matrix for the policy system tests.

For each scenario: write the cluster plus the scenario's NetworkPolicies as a
state file, run `calico-c-policy apply` in the node namespace, probe every
(source, destination, protocol, port) with real TCP/UDP traffic (one prober
per source namespace, all sources at once), and compare with an ORACLE: a
direct, independent reading of the NetworkPolicy v1 rules (below), plus the
scenario's hand-written expectations, which also check the oracle.
"""
import argparse
import ipaddress
import json
import subprocess
import sys

PORTS = (8080, 9090)
PROTOS = ("tcp", "udp")


# ---- the oracle: Kubernetes NetworkPolicy semantics, read from the spec ----

def sel_match(sel, labels):
    for k, v in (sel.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in sel.get("matchExpressions") or []:
        k, op, vals = e["key"], e["operator"], e.get("values") or []
        if op == "In" and labels.get(k) not in vals:
            return False
        if op == "NotIn" and k in labels and labels[k] in vals:
            return False
        if op == "Exists" and k not in labels:
            return False
        if op == "DoesNotExist" and k in labels:
            return False
    return True


def types_of(pol):
    spec = pol["spec"]
    if spec.get("policyTypes"):
        return set(spec["policyTypes"])
    return {"Ingress"} | ({"Egress"} if spec.get("egress") else set())


class World:
    def __init__(self, cluster, policies, overrides):
        self.ns_labels = {}
        for n in cluster["namespaces"]:
            lab = dict(n["labels"])
            lab["kubernetes.io/metadata.name"] = n["name"]
            self.ns_labels[n["name"]] = lab
        self.pods = []
        for p in cluster["pods"]:
            p = dict(p)
            key = p["ns"] + "/" + p["name"]
            if key in overrides:
                p["labels"] = overrides[key]
            self.pods.append(p)
        self.policies = policies

    def pod_of(self, ep):
        """The pod of an endpoint with this scenario's labels."""
        return next(p for p in self.pods if p["ns"] + "/" + p["name"] == ep["key"])

    def selecting(self, pod, ptype):
        return [p for p in self.policies
                if p["metadata"]["namespace"] == pod["ns"] and ptype in types_of(p)
                and sel_match(p["spec"].get("podSelector") or {}, pod["labels"])]

    def peer_match(self, pol, peer, ep):
        if "ipBlock" in peer:
            ip = ipaddress.ip_address(ep["ip"])
            blk = peer["ipBlock"]
            if ip not in ipaddress.ip_network(blk["cidr"], strict=False):
                return False
            return not any(ip in ipaddress.ip_network(e, strict=False)
                           for e in blk.get("except") or [])
        if ep["kind"] != "pod":
            return False
        pod = self.pod_of(ep)
        if "namespaceSelector" in peer:
            if not sel_match(peer["namespaceSelector"], self.ns_labels[pod["ns"]]):
                return False
        elif pod["ns"] != pol["metadata"]["namespace"]:
            return False
        return sel_match(peer.get("podSelector") or {}, pod["labels"]) \
            if "podSelector" in peer else True

    def port_match(self, pp, dst, proto, port):
        if pp.get("protocol", "TCP") != proto.upper():
            return False
        if "port" not in pp:
            return True
        if isinstance(pp["port"], int):
            return pp["port"] <= port <= pp.get("endPort", pp["port"])
        if dst["kind"] != "pod":
            return False  # a named port only resolves on a destination pod
        return any(cp["name"] == pp["port"] and cp.get("protocol", "TCP") == proto.upper()
                   and cp["port"] == port for cp in self.pod_of(dst)["ports"])

    def rule_allows(self, pol, rule, peer_key, peer_ep, dst, proto, port):
        peers = rule.get(peer_key) or []
        ports = rule.get("ports") or []
        return (not peers or any(self.peer_match(pol, p, peer_ep) for p in peers)) and \
            (not ports or any(self.port_match(p, dst, proto, port) for p in ports))

    def direction_allows(self, pod, ptype, peer_ep, dst, proto, port):
        pols = self.selecting(pod, ptype)
        if not pols:
            return True  # not isolated in this direction
        key, peer_key = ("ingress", "from") if ptype == "Ingress" else ("egress", "to")
        return any(self.rule_allows(p, r, peer_key, peer_ep, dst, proto, port)
                   for p in pols for r in p["spec"].get(key) or [])

    def allowed(self, src, dst, proto, port):
        # The node reaches its pods whatever their ingress policy (Calico does
        # not police host -> workload); a pod reaches its node through its
        # egress policy (DefaultEndpointToHostAction Accept, as run below).
        if src["kind"] == "node":
            return True
        if src["kind"] == "pod" and not self.direction_allows(self.pod_of(src), "Egress", dst, dst,
                                                               proto, port):
            return False
        if dst["kind"] == "pod" and not self.direction_allows(self.pod_of(dst), "Ingress", src, dst,
                                                               proto, port):
            return False
        return True


# ---- the cluster as Kubernetes objects ----

def state_doc(cluster, policies, overrides):
    pods = []
    for p in cluster["pods"]:
        key = p["ns"] + "/" + p["name"]
        ports = [{"name": c["name"], "containerPort": c["port"], "protocol": c.get("protocol", "TCP")}
                 for c in p["ports"]]
        pods.append({"apiVersion": "v1", "kind": "Pod",
                     "metadata": {"namespace": p["ns"], "name": p["name"],
                                  "labels": overrides.get(key, p["labels"])},
                     "spec": {"nodeName": "node1", "containers": [{"name": "c", "ports": ports}]},
                     "status": {"phase": "Running", "podIP": p["ip"], "podIPs": [{"ip": p["ip"]}]}})
    nss = [{"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": n["name"], "labels": n["labels"]}} for n in cluster["namespaces"]]
    pols = []
    for pol in policies:
        pol = json.loads(json.dumps(pol))
        pol.setdefault("apiVersion", "networking.k8s.io/v1")
        pol.setdefault("kind", "NetworkPolicy")
        pols.append(pol)
    return {"namespaces": nss, "pods": pods, "networkpolicies": pols}


def endpoints(cluster, tag):
    eps = []
    for p in cluster["pods"]:
        eps.append({"kind": "pod", "key": p["ns"] + "/" + p["name"], "ip": p["ip"],
                    "netns": "%s-%s-%s" % (tag, p["ns"], p["name"]), "pod": p})
    eps.append({"kind": "ext", "key": "ext", "ip": cluster["ext"], "netns": tag + "-ext"})
    eps.append({"kind": "node", "key": "node", "ip": cluster["node"], "netns": tag + "-node"})
    return eps


def probe_all(args, eps):
    """Every source probes every destination at once; returns {(src,dst,proto,port): bool}."""
    procs = []
    for s in eps:
        specs = ["%s:%s:%d" % (pr, d["ip"], port) for d in eps if d is not s
                 for pr in PROTOS for port in PORTS]
        procs.append((s, subprocess.Popen(["ip", "netns", "exec", s["netns"], args.probe, "check",
                                           "--timeout", "400"] + specs,
                                          stdout=subprocess.PIPE, text=True)))
    by_ip = {e["ip"]: e for e in eps}
    got = {}
    for s, p in procs:
        out, _ = p.communicate(timeout=30)
        for line in out.splitlines():
            spec, res = line.split()
            pr, ip, port = spec.split(":")
            got[(s["key"], by_ip[ip]["key"], pr, int(port))] = res == "ok"
    return got


def reprobe(args, src, dst, proto, port):
    out = subprocess.run(["ip", "netns", "exec", src["netns"], args.probe, "check", "--timeout",
                          "2000", "%s:%s:%d" % (proto, dst["ip"], port)],
                         capture_output=True, text=True).stdout
    return out.strip().endswith(" ok")


def run_scenario(args, cluster, sc, eps):
    overrides = {k: v for k, v in (sc.get("labels") or {}).items()}
    state = state_doc(cluster, sc.get("policies", []), overrides)
    path = "%s/state-%s.json" % (args.tmp, sc["name"])
    with open(path, "w") as f:
        json.dump(state, f)
    ap = subprocess.run(["ip", "netns", "exec", args.tag + "-node", args.policy, "apply", "--state", path,
                         "--endpoint-to-host-action", "Accept"],
                        capture_output=True, text=True)
    if ap.returncode != 0:
        return ["apply failed: " + ap.stderr.strip()]
    # Flows the previous scenario allowed stay allowed by conntrack (as they
    # must: policy changes do not cut established flows). A UDP probe whose
    # ephemeral port repeats one of them within the 30 s timeout would be
    # judged by the old policy, so each scenario starts with no flows.
    subprocess.run(["ip", "netns", "exec", args.tag + "-node", "conntrack", "-F"],
                   capture_output=True, check=True)
    world = World(cluster, state["networkpolicies"], overrides)
    got = probe_all(args, eps)
    by_key = {e["key"]: e for e in eps}
    errors = []
    for (s, d, pr, port), ok in sorted(got.items()):
        want = world.allowed(by_key[s], by_key[d], pr, port)
        if ok != want and want and reprobe(args, by_key[s], by_key[d], pr, port):
            ok = True  # a slow first answer on a loaded machine, not a drop
        if ok != want:
            errors.append("%s -> %s %s/%d: got %s, oracle says %s" % (
                s, d, pr, port, "open" if ok else "closed", "open" if want else "closed"))
    for s, d, pr, port, want in sc.get("expect", []):
        o = world.allowed(by_key[s], by_key[d], pr, port)
        if o != want:
            errors.append("oracle disagrees with the scenario on %s -> %s %s/%d" % (s, d, pr, port))
        if got.get((s, d, pr, port)) != want:
            errors.append("%s -> %s %s/%d: want %s" % (s, d, pr, port, "open" if want else "closed"))
    n_open = sum(1 for v in got.values() if v)
    print("scenario %-28s %3d probes, %3d open: %s" % (
        sc["name"], len(got), n_open, "ok" if not errors else "FAILED"), flush=True)
    return errors


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tag", required=True)
    ap.add_argument("--policy", required=True)
    ap.add_argument("--probe", required=True)
    ap.add_argument("--tmp", required=True)
    ap.add_argument("--cluster", required=True)
    ap.add_argument("scenarios")
    ap.add_argument("only", nargs="*")
    args = ap.parse_args()
    with open(args.cluster) as f:
        cluster = json.load(f)
    with open(args.scenarios) as f:
        scenarios = json.load(f)
    eps = endpoints(cluster, args.tag)
    failed = 0
    ran = 0
    for sc in scenarios:
        if args.only and sc["name"] not in args.only:
            continue
        ran += 1
        errs = run_scenario(args, cluster, sc, eps)
        for e in errs[:20]:
            print("    " + e)
        failed += bool(errs)
    print("matrix: %d scenarios, %d failed" % (ran, failed))
    return 1 if failed or not ran else 0


if __name__ == "__main__":
    sys.exit(main())
