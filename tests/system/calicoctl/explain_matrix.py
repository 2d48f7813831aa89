#!/usr/bin/env python3
"""`calicoctl-c policy explain` against real traffic, scenario by scenario.

The cluster of tests/system/policy (three namespaces, six pods with the same
labels and named ports) is made for real in the lab: namespaces and pods in
the apiserver, pods wired by the CNI plugin on node1. For each scenario of
tests/system/policy/scenarios.json, its NetworkPolicies (namespaces renamed
to ours; ipBlocks rewritten to cover the same pods at our addresses) are
created with kubectl, node1 is programmed by calico-c-policy from the same
objects read back from the apiserver, and for every ordered pod pair and
TCP/UDP 8080/9090 the verdict of `policy explain` must equal a real probe.
Then the same for each scenario of --calico-scenarios: Calico's kinds
(Tier, GlobalNetworkPolicy, NetworkPolicy, network sets) in tiers, with no
Kubernetes NetworkPolicy.
"""
import argparse
import ipaddress
import json
import re
import subprocess
import sys
import tempfile

PORTS = (8080, 9090)
PROTOS = ("tcp", "udp")


def run(cmd, check=True, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if check and p.returncode != 0:
        sys.exit("FAIL: %s: exit %d\n%s%s" % (" ".join(cmd), p.returncode, p.stdout, p.stderr))
    return p


class Lab:
    def __init__(self, a):
        self.a = a

    def kubectl(self, *args, stdin=None, check=True):
        return run([self.a.lab, "kubectl", "--name", self.a.lab_name, *args], check=check,
                   input=stdin)

    def in_node(self, *cmd, check=True):
        return run(["ip", "netns", "exec", self.a.node_netns, *cmd], check=check)


def rename_ns(obj, prefix):
    """Namespaces of the scenario (prod, dev, ops) become ours."""
    def ns(n):
        return prefix + "-" + n
    obj = json.loads(json.dumps(obj))
    obj["metadata"]["namespace"] = ns(obj["metadata"]["namespace"])

    def walk(peers):
        for p in peers or []:
            ml = (p.get("namespaceSelector") or {}).get("matchLabels") or {}
            if "kubernetes.io/metadata.name" in ml:
                ml["kubernetes.io/metadata.name"] = ns(ml["kubernetes.io/metadata.name"])
            for e in (p.get("namespaceSelector") or {}).get("matchExpressions") or []:
                if e["key"] == "kubernetes.io/metadata.name":
                    e["values"] = [ns(v) for v in e.get("values") or []]
    for r in obj["spec"].get("ingress") or []:
        walk(r.get("from"))
    for r in obj["spec"].get("egress") or []:
        walk(r.get("to"))
    return obj


def rewrite_blocks(obj, cluster_ips, our_ips, pool):
    """An ipBlock covering some pods of the original cluster covers the same
    pods here: cidr = our pool, except = /32s of every other pod of ours
    (none covered: a documentation prefix that holds no pod)."""
    def covered(blk):
        out = set()
        for key, ip in cluster_ips.items():
            a = ipaddress.ip_address(ip)
            if a in ipaddress.ip_network(blk["cidr"], strict=False) and not any(
                    a in ipaddress.ip_network(e, strict=False) for e in blk.get("except") or []):
                out.add(key)
        return out

    def fix(peers):
        for p in peers or []:
            if "ipBlock" not in p:
                continue
            keys = covered(p["ipBlock"])
            if not keys:
                p["ipBlock"] = {"cidr": "192.0.2.0/24"}
            else:
                p["ipBlock"] = {"cidr": pool, "except": sorted(
                    our_ips[k] + "/32" for k in our_ips if k not in keys)}
                if not p["ipBlock"]["except"]:
                    del p["ipBlock"]["except"]
    for r in obj["spec"].get("ingress") or []:
        fix(r.get("from"))
    for r in obj["spec"].get("egress") or []:
        fix(r.get("to"))
    return obj


def items(lab, kind, namespaces):
    out = []
    for ns in namespaces:
        out += json.loads(lab.kubectl("get", kind, "-n", ns, "-o", "json").stdout)["items"]
    return out


# calico-c-policy's state keys of Calico's kinds -> their CRD kind (the
# default when an object names none)
CALICO_KINDS = {"tiers": "Tier", "globalnetworkpolicies": "GlobalNetworkPolicy",
                "calico-networkpolicies": "NetworkPolicy", "networksets": "NetworkSet"}
PLURALS = {"Tier": "tiers", "GlobalNetworkPolicy": "globalnetworkpolicies",
           "NetworkPolicy": "networkpolicies", "NetworkSet": "networksets",
           "GlobalNetworkSet": "globalnetworksets"}


def crd_ref(key, obj):
    """The kubectl resource name of a scenario object."""
    kind = obj.get("kind") or CALICO_KINDS[key]
    return "%s.crd.projectcalico.org/%s" % (PLURALS[kind], obj["metadata"]["name"])


def program_node(lab, a, namespaces, calico=None):
    """calico-c-policy on node1 from the objects as the apiserver has them."""
    nss = json.loads(lab.kubectl("get", "namespaces", *namespaces, "-o", "json").stdout)["items"]
    doc = {"namespaces": nss, "pods": items(lab, "pods", namespaces),
           "networkpolicies": items(lab, "networkpolicies", namespaces)}
    for key, objs in (calico or {}).items():
        doc[key] = [json.loads(lab.kubectl(
            "get", crd_ref(key, o), *(["-n", o["metadata"]["namespace"]]
                                      if "namespace" in o["metadata"] else []),
            "-o", "json").stdout) for o in objs]
    with tempfile.NamedTemporaryFile("w", suffix=".json", dir=a.tmp, delete=False) as f:
        json.dump(doc, f)
    lab.in_node(a.policy, "apply", "--state", f.name)
    lab.in_node("conntrack", "-F", check=False)


def probe_all(a, pods, ips):
    """Every source probes every destination at once; {(src,dst,proto,port): ok}."""
    procs = {}
    for src in pods:
        specs = ["%s:%s:%d" % (pr, ips[dst], port)
                 for dst in pods if dst != src for pr in PROTOS for port in PORTS]
        procs[src] = subprocess.Popen(
            [a.lab, "pod", "exec", "--name", a.lab_name, src, "--", a.probe, "check",
             "--timeout", "800", *specs], stdout=subprocess.PIPE, text=True)
    by_ip = {v: k for k, v in ips.items()}
    res = {}
    for src, p in procs.items():
        out, _ = p.communicate(timeout=60)
        for line in out.splitlines():
            spec, verdict = line.rsplit(" ", 1)
            pr, ip, port = spec.split(":")
            res[(src, by_ip[ip], pr, int(port))] = verdict == "ok"
    return res


def explain_all(a, pods):
    flows = []
    for src in pods:
        for dst in pods:
            if dst == src:
                continue
            for pr in PROTOS:
                for port in PORTS:
                    flows += [src, dst, "%d/%s" % (port, pr)]
    p = run(["ip", "netns", "exec", a.node_netns, a.ctl, "--kubeconfig", a.kubeconfig,
             "policy", "explain", *flows, "-o", "json"])
    res = {}
    for line in p.stdout.splitlines():
        j = json.loads(line)
        res[(j["src"], j["dst"], j["protocol"].lower(), j["port"])] = j
    return res


def set_labels(lab, key, labels):
    ns, name = key.split("/")
    cur = json.loads(lab.kubectl("get", "pod", "-n", ns, name, "-o", "json").stdout)
    patch = {k: None for k in (cur["metadata"].get("labels") or {})}
    patch.update(labels)
    lab.kubectl("patch", "pod", "-n", ns, name, "--type=merge", "-p",
                json.dumps({"metadata": {"labels": patch}}))


def compare(name, probes, explained, pods, failures):
    """Appends the flows where explain and the probe differ; their count."""
    bad = 0
    for flow, ok in sorted(probes.items()):
        e = explained.get(flow)
        if e is None or e["allowed"] != ok:
            bad += 1
            failures.append("%s: %s -> %s %s/%d probe %s, explain %s" % (
                name, flow[0], flow[1], flow[2], flow[3], "ok" if ok else "fail",
                json.dumps(e)))
    if len(probes) != len(pods) * (len(pods) - 1) * 4:
        failures.append("%s: %d probe results, want %d" % (
            name, len(probes), len(pods) * (len(pods) - 1) * 4))
    print("%-40s %3d flows, %3d allowed, %d differ" % (name, len(probes), sum(probes.values()),
                                                       bad))
    return len(probes)


def calico_objects(sc, prefix, our_ips):
    """A Calico scenario's objects: '@' -> prefix, '{ns/name}' -> the pod's address."""
    text = json.dumps({k: v for k, v in sc.items() if k in CALICO_KINDS}).replace("@", prefix)
    for key, ip in our_ips.items():
        text = text.replace("{%s}" % key, ip)
    return json.loads(text)


def apply_calico(lab, objs, delete=False):
    for key, lst in objs.items():
        for o in lst:
            ns = ["-n", o["metadata"]["namespace"]] if "namespace" in o["metadata"] else []
            if delete:
                lab.kubectl("delete", crd_ref(key, o), *ns, "--ignore-not-found", "--wait=true")
                continue
            body = dict(o, apiVersion="crd.projectcalico.org/v1",
                        kind=o.get("kind") or CALICO_KINDS[key])
            lab.kubectl("apply", "-f", "-", stdin=json.dumps(body))


def calico_scenarios(lab, a, pods, ips, our_ips, namespaces, failures):
    flows = 0
    for ns in namespaces:
        lab.kubectl("delete", "networkpolicies.networking.k8s.io", "--all", "-n", ns,
                    "--wait=true")
    scenarios = json.load(open(a.calico_scenarios))["scenarios"]
    for sc in scenarios:
        objs = calico_objects(sc, a.prefix, our_ips)
        apply_calico(lab, objs)
        program_node(lab, a, namespaces, objs)
        flows += compare(sc["name"], probe_all(a, pods, ips), explain_all(a, pods), pods,
                         failures)
        for src, dst, flow, want in sc.get("explain_text", []):
            src, dst, want = (x.replace("@", a.prefix) for x in (src, dst, want))
            out = run(["ip", "netns", "exec", a.node_netns, a.ctl, "--kubeconfig",
                       a.kubeconfig, "policy", "explain", a.prefix + "-" + src,
                       a.prefix + "-" + dst, flow]).stdout
            if not re.search(want, out):
                failures.append("%s: %s -> %s %s: no /%s/ in:\n%s" % (sc["name"], src, dst,
                                                                     flow, want, out))
        apply_calico(lab, objs, delete=True)
    return flows, len(scenarios)


def main():
    ap = argparse.ArgumentParser()
    for opt in ("lab", "lab-name", "node-netns", "kubeconfig", "ctl", "policy", "probe", "tmp",
                "prefix", "pool", "cluster", "ips"):
        ap.add_argument("--" + opt, required=True)
    ap.add_argument("--scenarios", help="NetworkPolicy scenarios")
    ap.add_argument("--calico-scenarios", help="Calico scenarios, after them if both")
    a = ap.parse_args()
    lab = Lab(a)
    cluster = json.load(open(a.cluster))
    scenarios = json.load(open(a.scenarios)) if a.scenarios else []
    our_ips = json.load(open(a.ips))  # "prod/web" -> ip
    cluster_ips = {p["ns"] + "/" + p["name"]: p["ip"] for p in cluster["pods"]}
    labels = {p["ns"] + "/" + p["name"]: p["labels"] for p in cluster["pods"]}
    pods = [a.prefix + "-" + k for k in our_ips]
    ips = {a.prefix + "-" + k: v for k, v in our_ips.items()}
    namespaces = sorted({a.prefix + "-" + n["name"] for n in cluster["namespaces"]})
    failures, flows = [], 0
    for sc in scenarios:
        pols = [rewrite_blocks(rename_ns(p, a.prefix), cluster_ips, our_ips, a.pool)
                for p in sc["policies"]]
        for ns in namespaces:
            lab.kubectl("delete", "networkpolicies", "--all", "-n", ns, "--wait=true")
        if pols:
            lab.kubectl("apply", "-f", "-", stdin=json.dumps(
                {"apiVersion": "v1", "kind": "List", "items": [
                    dict(p, apiVersion="networking.k8s.io/v1", kind="NetworkPolicy")
                    for p in pols]}))
        over = sc.get("labels") or {}
        for key, lab_set in over.items():
            set_labels(lab, a.prefix + "-" + key, lab_set)
        program_node(lab, a, namespaces)
        probes = probe_all(a, pods, ips)
        explained = explain_all(a, pods)
        for key in over:
            set_labels(lab, a.prefix + "-" + key, labels[key])
        flows += compare(sc["name"], probes, explained, pods, failures)
    n = len(scenarios)
    if a.calico_scenarios:
        f, c = calico_scenarios(lab, a, pods, ips, our_ips, namespaces, failures)
        flows, n = flows + f, n + c
    print("explain vs probes: %d flows in %d scenarios, %d differ" % (flows, n, len(failures)))
    for f in failures[:40]:
        print("  " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
