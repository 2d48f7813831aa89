"""Helpers of the scale benches (tests/bench/scale): log times, waits on
many felix-c logs at once, percentiles, object generators.

  scalelib.py offsets LOG...                  -> "LOG SIZE" lines (stdout)
  scalelib.py wait-log PATTERN T0_US SECS OFFSETS
        every log of OFFSETS gets a line containing PATTERN after its offset:
        prints "LOG MS" (the line's log time minus T0, ms) per log; exits 1
        naming the logs still waiting after SECS
  scalelib.py pctl FILE                       -> "p50 p99 max n" of numbers
  scalelib.py pods NS J0 NODE...              Pod List (one pod per node,
        address 10.66.0.0 + J, J from J0), IPs claimed in IPAMBlocks
  scalelib.py blocks NS JMAX NODE...          IPPool 10.66.0.0/16 (disabled)
        and the IPAMBlocks naming pods 1..JMAX (NODE... in the order of J)
  scalelib.py route-watch PREFIX SECS NETNS...
        one rtnetlink socket per network namespace (entered with setns),
        subscribed to IPv4 route events; prints "ready" once all are, then
        "NETNS US" (wall clock, µs) for the first RTM_NEWROUTE of PREFIX in
        each; exits 1 naming the namespaces that saw none after SECS
"""
import ctypes
import datetime
import ipaddress
import json
import os
import select
import socket
import struct
import sys
import time


def log_time_us(line):
    # "2026-12-06T22:18:05.927Z info ..." (felix-c's log, UTC, ms)
    ts = line.split(" ", 1)[0]
    d = datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
    return int(d.timestamp() * 1e6)


def offsets(logs):
    for log in logs:
        try:
            size = os.path.getsize(log)
        except OSError:
            size = 0
        print(log, size)


def wait_log(pattern, t0, secs, offsets_file):
    want = {}
    with open(offsets_file) as f:
        for line in f:
            log, off = line.split()
            want[log] = int(off)
    got = {}
    end = time.time() + float(secs)
    while len(got) < len(want):
        for log, off in want.items():
            if log in got:
                continue
            try:
                with open(log, "rb") as f:
                    f.seek(off)
                    data = f.read()
            except OSError:
                continue
            for raw in data.split(b"\n")[:-1]:  # whole lines only
                line = raw.decode("utf-8", "replace")
                if pattern in line:
                    got[log] = (log_time_us(line) - int(t0)) / 1000.0
                    break
        if len(got) < len(want):
            if time.time() > end:
                missing = sorted(set(want) - set(got))
                print("waiting on %d logs: %s" % (len(missing), " ".join(missing[:10])), file=sys.stderr)
                sys.exit(1)
            time.sleep(0.05)
    for log in want:
        print(log, "%.1f" % got[log])


def pctl(path):
    v = sorted(float(x) for x in open(path).read().split())
    if not v:
        print("nan nan nan 0")
        return

    def p(q):
        i = max(1, int(len(v) * q / 100 + 0.999))
        return v[min(i, len(v)) - 1]
    print("%.1f %.1f %.1f %d" % (p(50), p(99), v[-1], len(v)))


def addr(j):
    return ipaddress.IPv4Address("10.66.0.0") + j


def pods(ns, j0, nodes):
    items = []
    for k, node in enumerate(nodes):
        ip = str(addr(int(j0) + k))
        items.append({"apiVersion": "v1", "kind": "Pod",
                      "metadata": {"namespace": ns, "name": "p-" + node, "labels": {"app": "scale"},
                                   "annotations": {"cni.projectcalico.org/podIP": ip + "/32",
                                                   "cni.projectcalico.org/podIPs": ip + "/32"}},
                      "spec": {"nodeName": node, "containers": [{"name": "c", "image": "none"}]}})
    json.dump({"apiVersion": "v1", "kind": "List", "items": items}, sys.stdout)


def blocks(ns, jmax, nodes):
    by_block = {}
    for j in range(1, int(jmax) + 1):
        a = int(addr(j))
        by_block.setdefault(a - a % 64, []).append((a % 64, nodes[j - 1]))
    items = [{"apiVersion": "crd.projectcalico.org/v1", "kind": "IPPool", "metadata": {"name": "scale-pods"},
              "spec": {"cidr": "10.66.0.0/16", "blockSize": 26, "disabled": True}}]
    for base, allocs in sorted(by_block.items()):
        net = ipaddress.IPv4Network((base, 26))
        alloc, attrs = [None] * 64, []
        for ordinal, node in allocs:
            alloc[ordinal] = len(attrs)
            attrs.append({"handle_id": "k8s-pod-network.scale-" + node,
                          "secondary": {"namespace": ns, "pod": "p-" + node, "node": node,
                                        "timestamp": "2026-01-01 00:00:00"}})
        items.append({"apiVersion": "crd.projectcalico.org/v1", "kind": "IPAMBlock",
                      "metadata": {"name": str(net).replace(".", "-").replace("/", "-")},
                      "spec": {"cidr": str(net), "affinity": None, "allocations": alloc,
                               "unallocated": [o for o in range(64) if alloc[o] is None],
                               "attributes": attrs, "sequenceNumber": 0, "sequenceNumberForAllocation": {},
                               "strictAffinity": False, "deleted": False}})
    json.dump({"apiVersion": "v1", "kind": "List", "items": items}, sys.stdout)


CLONE_NEWNET = 0x40000000
RTMGRP_IPV4_ROUTE = 0x40
RTM_NEWROUTE = 24
RTA_DST = 1


def netns_socket(libc, name):
    fd = os.open("/run/netns/" + name, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns " + name)
    finally:
        os.close(fd)
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_NONBLOCK, socket.NETLINK_ROUTE)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.bind((0, RTMGRP_IPV4_ROUTE))
    return s


def has_route(data, dst, dst_len):
    off = 0
    while off + 16 <= len(data):
        length, typ = struct.unpack_from("=IH", data, off)
        if length < 16:
            break
        if typ == RTM_NEWROUTE and length >= 28:
            family, rlen = struct.unpack_from("=BB", data, off + 16)
            a = off + 28
            while family == socket.AF_INET and rlen == dst_len and a + 4 <= off + length:
                alen, atype = struct.unpack_from("=HH", data, a)
                if alen < 4:
                    break
                if atype == RTA_DST and data[a + 4:a + alen] == dst:
                    return True
                a += (alen + 3) & ~3
        off += (length + 3) & ~3
    return False


def route_watch(prefix, secs, names):
    net = ipaddress.IPv4Network(prefix)
    dst = net.network_address.packed
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    home = os.open("/proc/self/ns/net", os.O_RDONLY)
    socks, objs = {}, {}
    for name in names:
        s = netns_socket(libc, name)
        socks[s.fileno()], objs[s.fileno()] = name, s
        if libc.setns(home, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns back")
    print("ready", flush=True)
    seen = {}
    poll = select.epoll()
    for fd in socks:
        poll.register(fd, select.EPOLLIN)
    end = time.time() + float(secs)
    while len(seen) < len(socks) and time.time() < end:
        for fd, _ in poll.poll(0.2):
            t = int(time.time() * 1e6)
            try:
                while True:
                    data = objs[fd].recv(1 << 16)
                    if fd not in seen and has_route(data, dst, net.prefixlen):
                        seen[fd] = t
            except BlockingIOError:
                pass
    for fd, t in seen.items():
        print(socks[fd], t)
    if len(seen) < len(socks):
        missing = [socks[fd] for fd in socks if fd not in seen]
        print("no route in %d: %s" % (len(missing), " ".join(missing[:10])), file=sys.stderr)
        sys.exit(1)


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "offsets":
        offsets(args)
    elif cmd == "wait-log":
        wait_log(*args)
    elif cmd == "pctl":
        pctl(args[0])
    elif cmd == "pods":
        pods(args[0], args[1], args[2:])
    elif cmd == "blocks":
        blocks(args[0], args[1], args[2:])
    elif cmd == "route-watch":
        route_watch(args[0], args[1], args[2:])
    else:
        sys.exit("scalelib.py: unknown command " + cmd)


if __name__ == "__main__":
    main()
