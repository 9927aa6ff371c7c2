#!/usr/bin/env python3
"""Jails on the network, against the kernel's own floor, measured in the same run:

  throughput   3 s of TCP from a jail to a server in the "world" namespace, through its
               veth, the jails' packet rules and NAT on the uplink; against 5 s of TCP over
               a plain veth pair between two namespaces. Target: at least 80% of it.
  connections  connect, read a line, close, for 3 s: from the world through a port
               forward (DNAT) to a server in a jail; against the same over the plain pair.

Namespaces of its own, as test_network.py makes them (never the machine's network).
Run as root through bench/run.sh.
"""
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import test_network as net  # noqa: E402
from jaildtest import Jaild  # noqa: E402

SECONDS = float(os.environ.get("BENCH_SECONDS", "3"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))  # interleaved; medians reported (a 2-core VM is noisy)


def ns_run(ns, *cmd):
    return subprocess.run(["ip", "netns", "exec", ns] + list(cmd), capture_output=True, text=True).stdout.strip()


def throughput(sender, sink_ns, addr, port):
    """sender(addr, port, seconds) runs the client; the sink in sink_ns reports."""
    sink = subprocess.Popen(["ip", "netns", "exec", sink_ns, net.NETTOOL, "sink", str(port), "1"], stdout=subprocess.PIPE)
    time.sleep(0.3)
    sender(addr, port, SECONDS + 1)
    line = sink.stdout.readline().decode().split()
    sink.kill()
    sink.wait()
    return int(line[1]) * 8 / float(line[2])


def plain_pair():
    a, b = net.HOST_NS + "a", net.HOST_NS + "b"
    for ns in (a, b):
        subprocess.run(["ip", "netns", "add", ns], check=True)
        subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True)
    subprocess.run(["ip", "link", "add", "pa", "netns", a, "type", "veth", "peer", "name", "pb", "netns", b], check=True)
    for ns, dev, addr in ((a, "pa", "198.51.100.1"), (b, "pb", "198.51.100.2")):
        subprocess.run(["ip", "-n", ns, "addr", "add", addr + "/24", "dev", dev], check=True)
        subprocess.run(["ip", "-n", ns, "link", "set", dev, "up"], check=True)
    return a, b


def main():
    net.setUpModule()  # the host and world namespaces; this process now runs in "host"
    a, b = plain_pair()
    j = None
    server = None
    try:
        server = subprocess.Popen(["ip", "netns", "exec", b, net.NETTOOL, "serve", "9200", "plain"], stdout=subprocess.DEVNULL)
        tools = os.path.join(net.work, "tools", "default")
        os.makedirs(tools, exist_ok=True)
        subprocess.run(["cp", net.NETTOOL, tools], check=True)
        j = Jaild(extra=["--uplink", "up0", "--dns", net.WORLD4, "--allow-mount", os.path.dirname(tools)]).start()
        st, r, _ = j.call("POST", "/api/jails?start=1", {
            "name": "bench", "ip4": ["auto"], "ports": [{"host_port": 8080, "port": 80}], "limits": {"memoryuse": "1G"},
            "mounts": [{"source": os.path.join(tools, "nettool"), "target": net.TOOL_IN_JAIL}],
            "command": [net.TOOL_IN_JAIL, "serve", "80", "jail"]})
        assert st == 201, r
        base, jail, base_c, fwd_c = [], [], [], []
        for _ in range(ROUNDS):
            base.append(throughput(lambda ad, p, s: ns_run(a, net.NETTOOL, "send", ad, str(p), str(s)), b, "198.51.100.2", 9100))
            jail.append(throughput(lambda ad, p, s: j.exec("bench", [net.TOOL_IN_JAIL, "send", ad, str(p), str(s)], timeout=60),
                                   net.WORLD_NS, net.WORLD4, 9100))
            base_c.append(float(ns_run(a, net.NETTOOL, "rate", "198.51.100.2", "9200", "2").split()[2]))
            fwd_c.append(float(ns_run(net.WORLD_NS, net.NETTOOL, "rate", net.HOST4, "8080", "2").split()[2]))
        base_bps, jail_bps = statistics.median(base), statistics.median(jail)
        base_rate, fwd_rate = statistics.median(base_c), statistics.median(fwd_c)
        print("network: jail -> world through nat %8.0f Mbit/s   plain veth pair %8.0f Mbit/s   ratio %.2f (target >= 0.80)"
              % (jail_bps / 1e6, base_bps / 1e6, jail_bps / base_bps))
        print("network: connections through a forward %7.0f /s   plain veth pair %8.0f /s   ratio %.2f"
              % (fwd_rate, base_rate, fwd_rate / base_rate))
    finally:
        if server:
            server.kill()
        if j:
            j.finish()
        for ns in (a, b):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        net.tearDownModule()


if __name__ == "__main__":
    main()
