"""Jails on the world's network (issue 12), in namespaces of the suite's own: a "host"
namespace in which this process and jaild run (its forwarding, nftables and proxy ARP
are the namespace's), and a "world" namespace joined to it by a veth pair that is
jaild's uplink, with servers, a resolver and clients in it. Nothing here touches the
machine's own network.

    world 192.0.2.2/24, 2001:db8:1::2/64, 169.254.169.254 (metadata)  --w0
    host  192.0.2.1/24, 2001:db8:1::1/64                                --up0 (uplink)
"""
import ctypes
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

from jaildtest import BUILD, Jaild, run

NETTOOL = os.path.realpath(os.path.join(BUILD, "tests", "integration", "nettool"))
NETWORLD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "networld.py")
TOOL_IN_JAIL = "/usr/local/bin/nettool"
HOST_NS, WORLD_NS = "jdt%dh" % (os.getpid() % 100000), "jdt%dw" % (os.getpid() % 100000)
HOST4, HOST6, WORLD4, WORLD6, METADATA = "192.0.2.1", "2001:db8:1::1", "192.0.2.2", "2001:db8:1::2", "169.254.169.254"

world_procs = []
work = None


def sh(*cmd, check=True):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(cmd), r.stderr.strip()))
    return r.stdout


def in_world(*cmd, out=subprocess.DEVNULL):
    p = subprocess.Popen(["ip", "netns", "exec", WORLD_NS] + list(cmd), stdout=out, stderr=subprocess.STDOUT)
    world_procs.append(p)
    return p


def world(*cmd):
    return sh("ip", "netns", "exec", WORLD_NS, *cmd, check=False).strip()


def enter_netns(name):
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open("/run/netns/" + name, os.O_RDONLY)
    if libc.setns(fd, 0x40000000) != 0:  # CLONE_NEWNET
        raise OSError(ctypes.get_errno(), "setns " + name)
    os.close(fd)


def setUpModule():
    global work
    for tool in ("ip", "nft", "tc"):
        if not shutil.which(tool):
            # deploy/deps.sh installs iproute2 and nftables; without them this suite fails
            raise RuntimeError("%s(8) is missing: run deploy/deps.sh" % tool)
    work = tempfile.mkdtemp(prefix="jaild-net-", dir="/var/tmp")
    os.chmod(work, 0o755)
    for ns in (HOST_NS, WORLD_NS):
        sh("ip", "netns", "add", ns)
        sh("ip", "-n", ns, "link", "set", "lo", "up")
    sh("ip", "link", "add", "up0", "netns", HOST_NS, "type", "veth", "peer", "name", "w0", "netns", WORLD_NS)
    for ns, dev, a4, a6 in ((HOST_NS, "up0", HOST4, HOST6), (WORLD_NS, "w0", WORLD4, WORLD6)):
        sh("ip", "-n", ns, "addr", "add", a4 + "/24", "dev", dev)
        sh("ip", "-n", ns, "addr", "add", a6 + "/64", "dev", dev, "nodad")
        sh("ip", "-n", ns, "link", "set", dev, "up")
    sh("ip", "-n", WORLD_NS, "addr", "add", METADATA + "/32", "dev", "w0")
    sh("ip", "-n", HOST_NS, "route", "add", "default", "via", WORLD4)
    sh("ip", "-n", HOST_NS, "-6", "route", "add", "default", "via", WORLD6)
    sh("ip", "-n", HOST_NS, "route", "add", METADATA + "/32", "via", WORLD4)
    # the world's services
    in_world(NETTOOL, "serve", "80", "world")
    in_world(NETTOOL, "serve", "25", "smtp")
    in_world(NETTOOL, "echo-udp", "5353", "world")
    in_world(NETTOOL, "source", "9001", "7")
    in_world(sys.executable, NETWORLD, os.path.join(work, "udp9999.log"))
    enter_netns(HOST_NS)
    # the world is up once its web server answers from the host
    deadline = time.time() + 10
    while time.time() < deadline and "world" not in sh(NETTOOL, "tcp", WORLD4, "80", check=False):
        time.sleep(0.1)


def tearDownModule():
    for p in world_procs:
        p.kill()
        p.wait()
    for ns in (HOST_NS, WORLD_NS):
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
    shutil.rmtree(work, ignore_errors=True)


class NetCase(unittest.TestCase):
    jaild_args = []

    @classmethod
    def setUpClass(cls):
        os.makedirs(os.path.join(work, "tools", "default"), exist_ok=True)
        shutil.copy(NETTOOL, os.path.join(work, "tools", "default", "nettool"))
        cls.j = Jaild(extra=["--uplink", "up0", "--dns", WORLD4, "--allow-mount", os.path.join(work, "tools")] + cls.jaild_args).start()

    @classmethod
    def tearDownClass(cls):
        cls.j.finish()

    def tenant(self, name):
        """A tenant with its own copy of nettool to mount (mount sources belong to one
        tenant), and a token of it."""
        d = os.path.join(work, "tools", name)
        os.makedirs(d, exist_ok=True)
        shutil.copy(NETTOOL, os.path.join(d, "nettool"))
        tok = self.j.tenant_token(name)
        self.assertEqual(self.j.call("PATCH", "/api/tenants/" + name, {"mounts": [d]})[0], 200)
        return tok

    def jail(self, name, token=True, tenant="default", **spec):
        tool = os.path.join(work, "tools", tenant, "nettool")
        body = {"name": name, "ip4": ["auto"], "ip6": ["auto"], "stop_timeout": 1,
                "mounts": [{"source": tool, "target": TOOL_IN_JAIL, "readonly": True}],
                "command": [TOOL_IN_JAIL, "serve", "80", "jail-" + name]}
        body.update(spec)
        st, r, _ = self.j.call("POST", "/api/jails?start=1", body, token=token)
        self.assertEqual(st, 201, r)
        self.addCleanup(self.j.call, "DELETE", "/api/jails/" + name)
        return r

    def nettool(self, jail, *args, timeout=30):
        return self.j.exec(jail, [TOOL_IN_JAIL] + list(args), timeout=timeout)["stdout"].strip()

    def get(self, name):
        st, r, _ = self.j.call("GET", "/api/jails/" + name)
        self.assertEqual(st, 200, r)
        return r


class Nat(NetCase):
    """pool4-mode and pool6-mode nat (the default), egress-default allow."""

    def test_a_jail_reaches_the_world_behind_the_uplinks_address(self):
        self.jail("out")
        self.assertEqual(self.nettool("out", "tcp", WORLD4, "80"), "tcp: world " + HOST4)
        self.assertEqual(self.nettool("out", "udp", WORLD4, "5353"), "udp: world " + HOST4)
        self.assertEqual(self.nettool("out", "tcp", WORLD6, "80"), "tcp: world " + HOST6)
        self.assertEqual(self.nettool("out", "udp", WORLD6, "5353"), "udp: world " + HOST6)

    def test_a_jail_resolves_names_through_the_dns_setting(self):
        self.jail("dns")
        conf = self.j.exec("dns", "cat /etc/resolv.conf")["stdout"]
        self.assertIn("nameserver " + WORLD4, conf)
        out = self.j.exec("dns", "nslookup www.example.test")["stdout"]
        self.assertIn("192.0.2.80", out)
        # a resolv.conf of the customer's own is kept across restarts
        self.j.exec("dns", "echo 'nameserver 192.0.2.99' > /etc/resolv.conf")
        self.assertEqual(self.j.call("POST", "/api/jails/dns/restart")[0], 200)
        self.assertEqual(self.j.exec("dns", "cat /etc/resolv.conf")["stdout"], "nameserver 192.0.2.99\n")

    def test_a_forward_reaches_the_jail_from_the_world_and_from_the_host(self):
        self.jail("web", ports=[{"proto": "tcp", "host_port": 8080, "port": 80}])
        self.assertEqual(world(NETTOOL, "tcp", HOST4, "8080"), "tcp: jail-web " + WORLD4)
        self.assertEqual(world(NETTOOL, "tcp", HOST6, "8080"), "tcp: jail-web " + WORLD6)
        # hairpin: the host itself, on its uplink address
        self.assertEqual(sh(NETTOOL, "tcp", HOST4, "8080").strip(), "tcp: jail-web " + HOST4)
        # without a forward the jail's private address is not reachable from outside
        addr = self.get("web")["ip4"][0]
        sh("ip", "-n", WORLD_NS, "route", "replace", "10.91.0.0/16", "via", HOST4)
        self.addCleanup(sh, "ip", "-n", WORLD_NS, "route", "del", "10.91.0.0/16", check=False)
        self.assertEqual(world(NETTOOL, "tcp", addr, "80"), "tcp: ETIMEDOUT")
        # and a udp forward
        st, r, _ = self.j.call("PATCH", "/api/jails/web", {"ports": [{"proto": "udp", "host_port": 5300, "port": 5353}]})
        self.assertEqual(st, 200, r)
        self.j.exec("web", TOOL_IN_JAIL + " echo-udp 5353 jail-udp > /dev/null 2>&1 &")
        time.sleep(0.3)
        self.assertEqual(world(NETTOOL, "udp", HOST4, "5300"), "udp: jail-udp " + WORLD4)
        # PATCH took the tcp forward away from the running jail: the host answers for itself
        self.assertEqual(world(NETTOOL, "tcp", HOST4, "8080"), "tcp: ECONNREFUSED")

    def test_a_host_port_belongs_to_one_jail(self):
        self.jail("p1", ports=[{"host_port": 8081, "port": 80}])
        st, r, _ = self.j.call("POST", "/api/jails", {"name": "p2", "ip4": ["auto"], "ports": [{"host_port": 8081, "port": 80}]})
        self.assertEqual(st, 409, r)
        self.assertEqual(r["error"]["field"], "ports[0].host_port")
        self.assertIn("p1", r["error"]["message"])
        self.assertEqual(self.j.call("GET", "/api/jails/p2")[0], 404)
        # udp 8081 is another port
        self.jail("p3", ports=[{"proto": "udp", "host_port": 8081, "port": 80}])

    def test_the_ports_quota_caps_a_tenants_forwards(self):
        tok = self.tenant("capped")
        self.assertEqual(self.j.call("PATCH", "/api/tenants/capped", {"quotas": {"ports": 1}})[0], 200)
        self.jail("cap1", token=tok, tenant="capped", ports=[{"host_port": 8086}])
        st, r, _ = self.j.call("POST", "/api/jails", {"name": "cap2", "ip4": ["auto"], "ports": [{"host_port": 8087}]}, token=tok)
        self.assertEqual((st, r["error"]["code"], r["error"]["field"]), (403, "quota_exceeded", "ports"), r)
        st, r, _ = self.j.call("PATCH", "/api/jails/cap1", {"ports": [{"host_port": 8086}, {"host_port": 8087}]}, token=tok)
        self.assertEqual(st, 403, r)
        self.assertEqual(self.j.call("GET", "/api/tenants/capped")[1]["usage"]["ports"], 1)

    def test_a_port_the_host_itself_serves_cannot_be_taken(self):
        host = subprocess.Popen([NETTOOL, "serve", "8022", "hostsshd"], stdout=subprocess.DEVNULL)
        self.addCleanup(lambda: (host.kill(), host.wait()))
        time.sleep(0.2)
        st, r, _ = self.j.call("POST", "/api/jails?start=1", {"name": "thief", "ip4": ["auto"],
                                                            "ports": [{"host_port": 8022, "port": 22}]})
        self.assertEqual(st, 409, r)
        self.assertIn("host itself serves", r["error"]["message"])
        self.assertEqual(self.j.call("GET", "/api/jails/thief")[0], 404)
        self.jail("later", ports=[{"host_port": 8023, "port": 80}])
        st, r, _ = self.j.call("PATCH", "/api/jails/later", {"ports": [{"host_port": 8022, "port": 80}]})
        self.assertEqual(st, 409, r)
        self.assertEqual(self.get("later")["ports"][0]["host_port"], 8023)
        self.assertEqual(world(NETTOOL, "tcp", HOST4, "8022"), "tcp: hostsshd " + WORLD4)

    def test_bad_ports_and_rules_are_422_and_change_nothing(self):
        bad = [
            ({"ports": [{"host_port": 0, "port": 80}]}, "ports[0].host_port"),
            ({"ports": [{"host_port": 80, "port": 70000}]}, "ports[0].port"),
            ({"ports": [{"proto": "sctp", "host_port": 80}]}, "ports[0].proto"),
            ({"ports": [{"host_port": 80, "extra": 1}]}, "ports[0].extra"),
            ({"ip4": [], "ip6": [], "ports": [{"host_port": 8090}]}, "ports"),
            ({"firewall": {"egress": [{"action": "maybe"}]}}, "firewall.egress[0].action"),
            ({"firewall": {"egress": [{"action": "deny", "to": "10.0.0.5/8"}]}}, "firewall.egress[0].to"),
            ({"firewall": {"egress": [{"action": "deny", "from": "10.0.0.0/8"}]}}, "firewall.egress[0].from"),
            ({"firewall": {"ingress": [{"action": "deny", "ports": ["2000-1000"]}]}}, "firewall.ingress[0].ports[0]"),
            ({"firewall": {"ingress": [{"action": "deny", "proto": "icmp", "ports": [1]}]}}, "firewall.ingress[0].ports"),
            ({"limits": {"bandwidth": "fast"}}, "limits.bandwidth"),
        ]
        for extra, field in bad:
            body = {"name": "bad", "ip4": ["auto"]}
            body.update(extra)
            st, r, _ = self.j.call("POST", "/api/jails", body)
            self.assertEqual((st, r["error"].get("field")), (422, field), (extra, r))
        self.assertEqual(self.j.call("GET", "/api/jails/bad")[0], 404)
        self.jail("keep", ports=[{"host_port": 8082, "port": 80}])
        st, r, _ = self.j.call("PATCH", "/api/jails/keep", {"firewall": {"ingress": [{"action": "no"}]}})
        self.assertEqual(st, 422, r)
        self.assertEqual(self.get("keep")["firewall"], {"egress": [], "ingress": []})
        self.assertEqual(world(NETTOOL, "tcp", HOST4, "8082"), "tcp: jail-keep " + WORLD4)

    def test_egress_rules_first_match_wins_and_change_live(self):
        self.jail("fw", firewall={"egress": [{"action": "allow", "proto": "tcp", "ports": [80]},
                                             {"action": "deny", "proto": "tcp", "to": "192.0.2.0/24"}]})
        self.assertEqual(self.nettool("fw", "tcp", WORLD4, "80"), "tcp: world " + HOST4)
        self.assertEqual(self.nettool("fw", "tcp", WORLD4, "25"), "tcp: ETIMEDOUT")
        self.assertEqual(self.nettool("fw", "tcp", WORLD6, "25"), "tcp: smtp " + HOST6)  # the deny names IPv4 only
        st, r, _ = self.j.call("PATCH", "/api/jails/fw", {"firewall": {"egress": [
            {"action": "deny", "proto": "tcp", "to": "2001:db8:1::/64", "ports": [25]},
            {"action": "deny", "proto": "tcp", "ports": ["20-90"]}]}})
        self.assertEqual(st, 200, r)
        self.assertEqual(self.get("fw")["state"], "running")
        self.assertEqual(self.nettool("fw", "tcp", WORLD4, "80"), "tcp: ETIMEDOUT")
        self.assertEqual(self.nettool("fw", "tcp", WORLD6, "25"), "tcp: ETIMEDOUT")
        self.assertEqual(self.nettool("fw", "udp", WORLD4, "5353"), "udp: world " + HOST4)

    def test_an_ingress_deny_blocks_a_forward_live(self):
        self.jail("in", ports=[{"host_port": 8083, "port": 80}])
        self.assertEqual(world(NETTOOL, "tcp", HOST4, "8083"), "tcp: jail-in " + WORLD4)
        st, r, _ = self.j.call("PATCH", "/api/jails/in", {"firewall": {"ingress": [{"action": "deny", "from": "192.0.2.0/24"}]}})
        self.assertEqual(st, 200, r)
        self.assertEqual(world(NETTOOL, "tcp", HOST4, "8083"), "tcp: ETIMEDOUT")
        self.assertEqual(world(NETTOOL, "tcp", HOST6, "8083"), "tcp: jail-in " + WORLD6)
        self.assertEqual(self.j.call("PATCH", "/api/jails/in", {"firewall": None})[0], 200)
        self.assertEqual(world(NETTOOL, "tcp", HOST4, "8083"), "tcp: jail-in " + WORLD4)

    def host_addresses(self):
        out = []
        for link in json.loads(sh("ip", "-j", "addr")):
            if link["ifname"].startswith("jd"):
                continue
            for a in link.get("addr_info", []):
                if a.get("scope") == "link":
                    continue
                out.append(a["local"])
        return out

    def test_no_jail_reaches_the_host_metadata_or_another_tenant(self):
        host = subprocess.Popen([NETTOOL, "serve", "7777", "host"], stdout=subprocess.DEVNULL)
        self.addCleanup(lambda: (host.kill(), host.wait()))
        self.jail("mine")
        other = self.tenant("neighbour")
        self.jail("theirs", token=other, tenant="neighbour")
        time.sleep(0.2)
        addrs = self.host_addresses() + ["169.254.0.1", "fe80::1%eth0"]
        self.assertIn(HOST4, addrs)
        self.assertIn(HOST6, addrs)
        for a in addrs:
            got = self.nettool("mine", "tcp", a, "7777")
            self.assertNotIn("host", got, a)
            got = self.nettool("mine", "tcp", a, str(self.j.port))
            self.assertNotIn("HTTP", got, a)
        # the metadata address answers the host, never a jail
        self.assertEqual(sh(NETTOOL, "tcp", METADATA, "80").strip(), "tcp: world " + HOST4)
        self.assertEqual(self.nettool("mine", "tcp", METADATA, "80"), "tcp: ETIMEDOUT")
        theirs = self.get("theirs")
        self.assertEqual(self.nettool("mine", "tcp", theirs["ip4"][0], "80"), "tcp: ETIMEDOUT")
        self.assertEqual(self.nettool("mine", "tcp", theirs["ip6"][0], "80"), "tcp: ETIMEDOUT")

    def test_a_tenants_own_jails_reach_each_other_unless_it_isolates_them(self):
        tok = self.tenant("shop")
        self.jail("shop-web", token=tok, tenant="shop")
        db = self.jail("shop-db", token=tok, tenant="shop")
        self.assertEqual(self.nettool("shop-web", "tcp", db["ip4"][0], "80"), "tcp: jail-shop-db " + self.get("shop-web")["ip4"][0])
        self.assertEqual(self.nettool("shop-web", "tcp", db["ip6"][0], "80"), "tcp: jail-shop-db " + self.get("shop-web")["ip6"][0])
        st, r, _ = self.j.call("PATCH", "/api/tenants/shop", {"isolate_jails": True})
        self.assertEqual((st, r.get("isolate_jails")), (200, True), r)
        self.assertEqual(self.nettool("shop-web", "tcp", db["ip4"][0], "80"), "tcp: ETIMEDOUT")
        self.assertEqual(self.j.call("PATCH", "/api/tenants/shop", {"isolate_jails": False})[0], 200)
        self.assertEqual(self.nettool("shop-web", "tcp", db["ip4"][0], "80"), "tcp: jail-shop-db " + self.get("shop-web")["ip4"][0])
        # the tenant's set of interfaces stays while it has a jail running, and goes with
        # its last one (in the same transaction as that jail's chains)
        web_if = "jd%s-%d" % (self.j.tag(), self.get("shop-web")["jid"] - 1)
        m = re.search(r'set (t\d+) \{[^}]*"%s"' % web_if, self.table())
        self.assertTrue(m, self.table())
        self.assertEqual(self.j.call("DELETE", "/api/jails/shop-web")[0], 204)
        self.assertIn("set %s {" % m.group(1), self.table())
        self.assertEqual(self.j.call("DELETE", "/api/jails/shop-db")[0], 204)
        self.assertNotIn("set %s {" % m.group(1), self.table())

    def world_log(self):
        try:
            with open(os.path.join(work, "udp9999.log")) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def test_spoofed_sources_reach_nobody(self):
        self.jail("spoofer", allow={"raw_sockets": True})
        victim = self.jail("victim")
        self.assertEqual(self.nettool("spoofer", "udp", WORLD4, "9999"), "udp: timeout")  # logged, not answered
        for src, dst in ((victim["ip4"][0], WORLD4), (HOST4, WORLD4), ("192.0.2.77", WORLD4), (victim["ip6"][0], WORLD6),
                         (HOST6, WORLD6), ("2001:db8:1::77", WORLD6)):
            self.assertEqual(self.nettool("spoofer", "spoof", src, dst, "9999"), "spoof: sent")
        self.assertEqual(self.nettool("spoofer", "raw4", "192.0.2.78", WORLD4, "9999"), "raw4: sent")
        # a new address of its own: refused, or it reaches nobody
        r = self.j.exec("spoofer", "ip addr add 10.91.250.250/32 dev eth0")
        if r["exit_code"] == 0:
            self.assertEqual(self.nettool("spoofer", "tcp-from", "10.91.250.250", WORLD4, "80"), "tcp: ETIMEDOUT")
        time.sleep(1)
        log = self.world_log()
        self.assertIn("ping", log)
        self.assertNotIn("spoofed", log)
        self.assertNotIn("rawspoof", log)

    def test_bandwidth_is_shaped_each_way_and_counted(self):
        self.jail("slow", limits={"bandwidth": "10M"})
        sink = in_world(NETTOOL, "sink", "9000", "2", out=subprocess.PIPE)
        time.sleep(0.3)
        before = self.get("slow")["usage"]
        self.nettool("slow", "send", WORLD4, "9000", "7", timeout=60)
        line = sink.stdout.readline().decode().split()  # sink: BYTES SECONDS TOTAL (after EOF)
        sink.kill()
        sink.wait()
        rate_out = int(line[1]) * 8 / float(line[2])
        self.assertLess(abs(rate_out - 10e6) / 10e6, 0.2, "jail to world: %.2f Mbit/s" % (rate_out / 1e6))
        after = self.get("slow")["usage"]
        # what the jail sent, what the policer dropped included
        self.assertGreaterEqual(after["net_tx_bytes"] - before["net_tx_bytes"], int(line[3]))
        got = self.nettool("slow", "recv", WORLD4, "9001", "7", "2", timeout=60).split()
        rate_in = int(got[1]) * 8 / float(got[2])
        self.assertLess(abs(rate_in - 10e6) / 10e6, 0.2, "world to jail: %.2f Mbit/s" % (rate_in / 1e6))
        self.assertGreaterEqual(self.get("slow")["usage"]["net_rx_bytes"] - after["net_rx_bytes"], int(got[3]))

    def test_counters_grow_by_what_was_sent(self):
        self.jail("counted")
        sink = in_world(NETTOOL, "sink", "9002", out=subprocess.PIPE)
        time.sleep(0.3)
        before = self.get("counted")["usage"]
        self.nettool("counted", "send", WORLD4, "9002", "1")
        total = int(sink.stdout.readline().decode().split()[3])
        sink.kill()
        sink.wait()
        after = self.get("counted")["usage"]
        sent, got = after["net_tx_bytes"] - before["net_tx_bytes"], after["net_rx_bytes"] - before["net_rx_bytes"]
        # payload plus TCP/IP headers (and the exec's own traffic: none, it has no network)
        self.assertGreaterEqual(sent, total)
        self.assertLess(sent, total * 1.1 + 100000, (sent, total))
        self.assertGreater(got, 0)
        self.assertLess(got, total * 0.1 + 100000)

    def test_host_shows_the_network(self):
        self.jail("shown", ports=[{"host_port": 8084, "port": 80}])
        st, h, _ = self.j.call("GET", "/api/host")
        self.assertEqual(st, 200, h)
        n = h["network"]
        self.assertEqual((n["uplink"], n["pool4_mode"], n["pool6_mode"], n["egress_default"], n["dns"]),
                         ("up0", "nat", "nat", "allow", [WORLD4]))
        self.assertIn({"proto": "tcp", "host_port": 8084, "jail": "shown"}, n["forwards"])

    def test_host_warns_of_a_firewall_that_drops_forwarded_traffic(self):
        subprocess.run(["nft", "-f", "-"], input="table ip dockerish {\n chain FORWARD { type filter hook forward priority 0; policy drop; }\n}\n",
                       text=True, check=True)
        self.addCleanup(sh, "nft", "delete", "table", "ip", "dockerish", check=False)
        self.jail("behind")
        self.assertEqual(self.nettool("behind", "tcp", WORLD4, "80"), "tcp: ETIMEDOUT")
        # the helper looks when it starts: a new one finds it
        helper = self.j.pids()[2]
        os.kill(helper, signal.SIGKILL)

        def warned():
            st, h, _ = self.j.call("GET", "/api/host")
            return st == 200 and any("dockerish" in w["message"] for w in h["network"]["warnings"])
        self.assertTrue(self.j.wait_for(warned, 20))

    def table(self):
        return sh("nft", "list", "table", "inet", "jaild_" + self.j.tag())

    def test_forwards_survive_restarts_and_nothing_is_left_after_destroy(self):
        r = self.jail("lasting", ports=[{"host_port": 8085, "port": 80}], limits={"bandwidth": "50M"})
        slot_if = [l for l in sh("ip", "-o", "link").splitlines() if "jd" + self.j.tag() in l]
        self.assertTrue(slot_if)
        self.j.stop(destroy_jails=False)
        self.assertEqual(world(NETTOOL, "tcp", HOST4, "8085"), "tcp: jail-lasting " + WORLD4)
        self.j.log = open(os.path.join(self.j.dir, "jaild.log"), "ab")
        self.j.start()
        self.assertEqual(world(NETTOOL, "tcp", HOST4, "8085"), "tcp: jail-lasting " + WORLD4)
        helper = self.j.pids()[2]
        os.kill(helper, signal.SIGKILL)
        self.assertTrue(self.j.wait_for(lambda: self.j.pids()[2] not in (None, helper), 20))
        time.sleep(0.5)
        self.assertEqual(world(NETTOOL, "tcp", HOST4, "8085"), "tcp: jail-lasting " + WORLD4)
        self.assertIn("8085", self.table())
        self.assertEqual(self.j.call("DELETE", "/api/jails/lasting")[0], 204)
        t = self.table()
        self.assertNotIn("8085", t)
        self.assertNotIn(r["ip4"][0], t)
        self.assertIsNone(re.search(r"chain j\d+_(out|in)", t), t)
        self.assertEqual([l for l in sh("ip", "-o", "link").splitlines() if "jd" + self.j.tag() in l], [])
        self.assertEqual(sh("ip", "neigh", "show", "proxy").strip(), "")
        self.assertNotIn("tbf", sh("tc", "qdisc", "show"))
        self.assertEqual(world(NETTOOL, "tcp", HOST4, "8085"), "tcp: ECONNREFUSED")


class EgressDefaultDeny(NetCase):
    jaild_args = ["--egress-default", "deny"]

    def test_only_what_the_rules_allow_leaves(self):
        self.jail("strict", firewall={"egress": [{"action": "allow", "proto": "tcp", "to": "192.0.2.0/24", "ports": [80]}]})
        self.assertEqual(self.nettool("strict", "tcp", WORLD4, "80"), "tcp: world " + HOST4)
        self.assertEqual(self.nettool("strict", "tcp", WORLD4, "25"), "tcp: ETIMEDOUT")
        self.assertEqual(self.nettool("strict", "tcp", WORLD6, "80"), "tcp: ETIMEDOUT")
        self.assertEqual(self.nettool("strict", "udp", WORLD4, "5353"), "udp: timeout")
        # the configured resolver stays reachable
        self.assertIn("192.0.2.80", self.j.exec("strict", "nslookup www.example.test")["stdout"])
        self.jail("closed")
        self.assertEqual(self.nettool("closed", "tcp", WORLD4, "80"), "tcp: ETIMEDOUT")


ROUTED4, ROUTED6 = "192.0.2.128/25", "2001:db8:1:0:1::/80"


class Routed(NetCase):
    jaild_args = ["--pool4", ROUTED4, "--pool4-mode", "routed", "--pool6", ROUTED6, "--pool6-mode", "routed"]

    def test_the_lan_reaches_the_jails_own_address_and_it_answers_from_it(self):
        r = self.jail("pub")
        a4, a6 = r["ip4"][0], r["ip6"][0]
        self.assertTrue(a4.startswith("192.0.2."), a4)
        self.assertEqual(world(NETTOOL, "tcp", a4, "80"), "tcp: jail-pub " + WORLD4)
        self.assertEqual(world(NETTOOL, "tcp", a6, "80"), "tcp: jail-pub " + WORLD6)
        self.assertEqual(self.nettool("pub", "tcp", WORLD4, "80"), "tcp: world " + a4)
        self.assertEqual(self.nettool("pub", "tcp", WORLD6, "80"), "tcp: world " + a6)
        proxies = sh("ip", "neigh", "show", "proxy") + sh("ip", "-6", "neigh", "show", "proxy")
        self.assertIn(a4, proxies)
        self.assertIn(a6, proxies)
        self.assertEqual(self.j.call("DELETE", "/api/jails/pub")[0], 204)
        proxies = sh("ip", "neigh", "show", "proxy") + sh("ip", "-6", "neigh", "show", "proxy")
        self.assertEqual(proxies.strip(), "")
        self.assertEqual(world(NETTOOL, "tcp", a4, "80"), "tcp: ETIMEDOUT")

    def test_an_ingress_rule_guards_a_routed_jail(self):
        r = self.jail("guarded", firewall={"ingress": [{"action": "deny", "proto": "tcp", "ports": [80]}]})
        self.assertEqual(world(NETTOOL, "tcp", r["ip4"][0], "80"), "tcp: ETIMEDOUT")


if __name__ == "__main__":
    run(__name__)
