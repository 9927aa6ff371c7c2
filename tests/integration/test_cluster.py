"""Many hosts, one API (issue 17): three jailds, a, b and c, on this machine, each with
its own data dir, port, host name, pools and uid range, sharing one PostgreSQL store
(tests/pg/with-postgres.sh starts it; this suite makes its own database in it)."""
import json
import os
import signal
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse

from jaildtest import JAILD, EventStream, Jaild, free_port

BASE = os.environ.get("JAILD_TEST_STORE")
HOSTS = {
    "a": ("10.92.1.0/24", "fd92:1::/64", 310000000),
    "b": ("10.92.2.0/24", "fd92:2::/64", 320000000),
    "c": ("10.92.3.0/24", "fd92:3::/64", 330000000),
}
TIMEOUT = 3  # host-timeout: a silent host is offline after it
URL = None
J = {}


def host_args(name):
    p4, p6, uid = HOSTS[name]
    return ["--host", name, "--pool4", p4, "--pool6", p6, "--uid-base", str(uid), "--host-timeout", str(TIMEOUT)]


def psql(sql, url=None):
    return subprocess.run(["psql", "-qAt", "-v", "ON_ERROR_STOP=1", url or BASE, "-c", sql], check=True, capture_output=True,
                          text=True).stdout


def setUpModule():
    global URL
    if not BASE:
        raise unittest.SkipTest("run under tests/pg/with-postgres.sh (JAILD_TEST_STORE)")
    psql("DROP DATABASE IF EXISTS cluster WITH (FORCE)")
    psql("CREATE DATABASE cluster")
    URL = BASE.replace("/jaild?", "/cluster?", 1)
    for name in "abc":  # one after another: each claims its host and pools
        # the first host made the admin token; the others join a store that has it
        J[name] = Jaild(extra=host_args(name), store=URL, token=J["a"].token if J else None).start()


def tearDownModule():
    for j in J.values():
        j.finish()


def call(j, method, path, body=None, **kw):
    """j.call, waiting out the rate limit (this suite sends hundreds of requests a second
    with one admin token)"""
    while True:
        st, r, h = j.call(method, path, body, **kw)
        if st != 429:
            return st, r, h
        time.sleep(float(h.get("Retry-After", "1")))


def in_pool(addr, cidr):
    import ipaddress
    return ipaddress.ip_address(addr) in ipaddress.ip_network(cidr)


def reach(name, fn, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if fn():
            return True
        time.sleep(0.05)
    return False


class A_Hosts(unittest.TestCase):
    def test_1_every_host_is_listed_online(self):
        st, r, _ = J["a"].call("GET", "/api/hosts")
        self.assertEqual(st, 200, r)
        got = {h["name"]: h for h in r["items"]}
        self.assertEqual(set(got), {"a", "b", "c"})
        for n, h in got.items():
            self.assertEqual(h["state"], "online", h)
            self.assertEqual(h["pools"]["ip4"], HOSTS[n][0])
            self.assertEqual(h["advertise"], "http://127.0.0.1:%d" % J[n].port)
        # tenants do not see the cluster's hosts
        tok = J["a"].tenant_token("peek")
        self.assertEqual(J["a"].call("GET", "/api/hosts", token=tok)[0], 404)
        self.assertEqual(J["a"].call("GET", "/api/hosts/zz")[0], 404)
        self.assertEqual(J["a"].call("PATCH", "/api/hosts/b", {"draining": "yes"})[0], 422)
        self.assertEqual(J["a"].call("PATCH", "/api/hosts/b", {"drain": True})[0], 422)

    def refused(self, name, pools):
        """jaild claiming host name with pools: it must exit, saying why."""
        d = tempfile.mkdtemp(prefix="jaild-it-", dir="/var/tmp")
        try:
            p = subprocess.run([JAILD, "--data-dir", d + "/data", "--listen", "127.0.0.1:%d" % free_port(), "--store", URL,
                                "--host", name, "--pool4", pools[0], "--pool6", pools[1], "--uid-base", "340000000",
                                "--uplink", "none"], capture_output=True, text=True, timeout=30)
            return p.returncode, p.stdout + p.stderr
        finally:
            subprocess.run(["rm", "-rf", d])

    def test_2_a_held_host_cannot_be_claimed_and_pools_may_not_overlap(self):
        rc, out = self.refused("b", ("10.92.9.0/24", "fd92:9::/64"))
        self.assertNotEqual(rc, 0)
        self.assertIn("held by another jaild", out)
        rc, out = self.refused("d", ("10.92.1.128/25", "fd92:9::/64"))
        self.assertNotEqual(rc, 0)
        self.assertIn("overlaps", out)
        # neither left a host behind
        self.assertEqual({h["name"] for h in J["a"].call("GET", "/api/hosts")[1]["items"]}, {"a", "b", "c"})


class B_Placement(unittest.TestCase):
    def test_1_fifty_parallel_creates_over_three_hosts_against_a_quota_of_ten(self):
        a = J["a"]
        st, t, _ = a.call("POST", "/api/tenants", {"name": "busy", "quotas": {"jails": 10}})
        self.assertEqual(st, 201, t)
        tok = a.call("POST", "/api/tenants/busy/tokens", {"name": "t"})[1]["secret"]
        results = [None] * 50

        def create(i):
            j = J["abc"[i % 3]]
            results[i] = j.call("POST", "/api/jails", {"name": "q%d" % i, "ip4": ["auto"]}, token=tok)

        threads = [threading.Thread(target=create, args=(i,)) for i in range(50)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        made = [r for r in results if r[0] == 201]
        refused = [r for r in results if r[0] == 403 and r[1]["error"]["code"] == "quota_exceeded"]
        self.assertEqual((len(made), len(refused)), (10, 40), [r[:2] for r in results if r[0] not in (201, 403)])
        items = a.call("GET", "/api/jails?tenant=busy")[1]["items"]
        self.assertEqual(len(items), 10)
        addrs = [i["ip4"][0] for i in items]
        self.assertEqual(len(set(addrs)), 10)
        for i in items:
            self.assertTrue(in_pool(i["ip4"][0], HOSTS[i["host"]][0]), i)
        # no slot given twice on a host (the database's word)
        rows = psql("SELECT h.name, j.slot FROM jails j JOIN hosts h ON h.id = j.host_id", URL).split()
        self.assertEqual(len(rows), len(set(rows)))
        for i in items:
            self.assertEqual(a.call("DELETE", "/api/jails/" + i["name"], token=tok)[0], 204)

    def test_2_a_draining_host_gets_no_new_jails(self):
        a = J["a"]
        st, h, _ = a.call("PATCH", "/api/hosts/b", {"draining": True})
        self.assertEqual((st, h["state"]), (200, "draining"), h)
        try:
            hosts = set()
            for i in range(6):
                st, r, _ = J["b"].call("POST", "/api/jails", {"name": "dr%d" % i})
                self.assertEqual(st, 201, r)
                hosts.add(r["host"])
            self.assertTrue(hosts <= {"a", "c"} and hosts, hosts)
            # an admin naming the draining host is told why not
            st, r, _ = a.call("POST", "/api/jails", {"name": "drx", "host": "b"})
            self.assertEqual(st, 503, r)
            self.assertIn("draining", r["error"]["message"])
        finally:
            a.call("PATCH", "/api/hosts/b", {"draining": False})
            for i in range(6):
                a.call("DELETE", "/api/jails/dr%d" % i)
        # a tenant may not choose another host; an unknown host is a 422
        tok = a.tenant_token("chooser")
        st, r, _ = a.call("POST", "/api/jails", {"name": "ch", "host": "b"}, token=tok)
        self.assertEqual((st, r["error"]["field"]), (403, "host"), r)
        st, r, _ = a.call("POST", "/api/jails", {"name": "ch", "host": "nowhere"})
        self.assertEqual((st, r["error"]["field"]), (422, "host"), r)


class C_Proxying(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        a = J["a"]
        cls.tok = a.tenant_token("owner")
        cls.other = a.tenant_token("stranger")
        st, r, _ = a.call("POST", "/api/tenants/owner/tokens", {"name": "t2"})
        st, r, _ = a.call("POST", "/api/jails?start=1", {"name": "far", "host": "b", "tenant": "owner", "ip4": ["auto"]})
        assert st == 201 and r["host"] == "b", r

    @classmethod
    def tearDownClass(cls):
        J["a"].call("DELETE", "/api/jails/far")

    def test_1_exec_and_get_through_a_answer_as_b_does(self):
        via_a = J["a"].call("POST", "/api/jails/far/exec", {"command": ["hostname"]}, token=self.tok)
        via_b = J["b"].call("POST", "/api/jails/far/exec", {"command": ["hostname"]}, token=self.tok)
        self.assertEqual((via_a[0], via_a[1]["stdout"]), (200, "far\n"), via_a)
        self.assertEqual(via_a[1]["stdout"], via_b[1]["stdout"])
        ga = J["a"].call("GET", "/api/jails/far", token=self.tok)
        gb = J["b"].call("GET", "/api/jails/far", token=self.tok)
        self.assertEqual((ga[0], gb[0]), (200, 200))
        self.assertEqual(ga[1]["state"], "running")
        self.assertIsNotNone(ga[1]["usage"], ga[1])  # live, from b's helper
        for k in ("name", "host", "pid", "ip4", "state", "jid"):
            self.assertEqual(ga[1][k], gb[1][k], k)
        self.assertEqual(ga[2].get("ETag"), gb[2].get("ETag"))
        # a listing on a asks b for its jails' usage (at once, with a deadline)
        listed = {j["name"]: j for j in J["a"].call("GET", "/api/jails", token=self.tok)[1]["items"]}
        self.assertEqual((listed["far"]["host"], listed["far"]["state"]), ("b", "running"))
        self.assertGreater(listed["far"]["usage"]["procs"], 0, listed["far"])
        self.assertEqual([j["name"] for j in J["a"].call("GET", "/api/jails?host=b", token=self.tok)[1]["items"]], ["far"])
        self.assertEqual(J["a"].call("GET", "/api/jails?host=a", token=self.tok)[1]["items"], [])
        self.assertEqual(J["a"].call("GET", "/api/jails?host=B_", token=self.tok)[0], 422)
        # another tenant: not found, through any host
        for h in "abc":
            self.assertEqual(J[h].call("GET", "/api/jails/far", token=self.other)[0], 404)
            self.assertEqual(J[h].call("POST", "/api/jails/far/exec", {"command": ["id"]}, token=self.other)[0], 404)

    def test_2_changes_through_c_reach_b(self):
        st, r, h = J["c"].call("GET", "/api/jails/far", token=self.tok)
        st, r, _ = J["c"].call("PATCH", "/api/jails/far", {"priority": 7}, token=self.tok, headers={"If-Match": h["ETag"]})
        self.assertEqual(st, 200, r)
        self.assertEqual(J["b"].call("GET", "/api/jails/far")[1]["priority"], 7)
        self.assertEqual(J["c"].call("POST", "/api/jails/far/restart", token=self.tok)[0], 200)
        self.assertEqual(J["b"].exec("far", "echo ok")["stdout"], "ok\n")

    def test_3_a_streamed_exec_through_a(self):
        import http.client
        conn = http.client.HTTPConnection("127.0.0.1", J["a"].port, timeout=20)
        conn.request("POST", "/api/jails/far/exec?stream=1", json.dumps({"command": ["/bin/sh", "-c", "echo one; sleep 1; echo two"]}),
                     {"Authorization": "Bearer " + self.tok, "Content-Type": "application/json"})
        resp = conn.getresponse()
        self.assertEqual(resp.status, 200)
        t0 = time.time()
        first = resp.readline()
        early = time.time() - t0
        rest = resp.read()
        conn.close()
        self.assertIn(b"one", first + rest)
        self.assertIn(b"two", rest)
        self.assertLess(early, 0.9)  # the first line came before the command ended


    def test_4_a_console_through_a_round_trips_and_reattaches_through_c(self):
        ws, r = J["a"].console("far", token=self.tok)
        self.assertTrue(r["ok"], r)
        sid = ws.expect_text("session")["id"]
        ws.expect(r"root@far:~# ")
        ws.type("echo VIA$((40+2))\n")
        ws.expect(r"VIA42")
        ws.type("sleep 1; echo LATE$((3*3))\n")
        ws.expect(r"sleep 1")
        ws.cmd(op="drop")
        ws.finish()
        # the session lives on b, which c finds by its id
        ws, r = J["c"].console("far", token=self.tok, query="?session=" + sid)
        self.assertTrue(r["ok"], r)
        self.assertEqual(ws.expect_text("session")["id"], sid)
        ws.expect(r"LATE9")
        ws.type("echo BACK$((4+4))\n")
        ws.expect(r"BACK8")
        ws.finish()
        J["b"].call("DELETE", "/api/consoles/" + sid)
        # the owner's refusals come back as it gave them
        ws, r = J["a"].console("far", token=self.other)
        self.assertEqual((r["ok"], r.get("status")), (False, 404), r)
        ws.finish()
        ws, r = J["a"].console("far", token=self.tok, origin="http://evil.example")
        self.assertEqual((r["ok"], r.get("status")), (False, 403), r)
        ws.finish()


class D_Events(unittest.TestCase):
    def test_1_an_event_on_b_reaches_a_stream_on_a_quickly(self):
        a, b = J["a"], J["b"]
        s = EventStream(a, a.token)
        seen = {}
        done = threading.Event()

        def read():
            try:
                while len(seen) < 200:
                    _, t, d = s.next()
                    if t == "jail.created" and d["target"].startswith("ev"):
                        seen[d["target"]] = time.time()
            except Exception:
                pass
            done.set()

        th = threading.Thread(target=read, daemon=True)
        th.start()
        sent = {}
        for i in range(200):
            name = "ev%d" % i
            t0 = time.time()
            st, r, _ = call(b, "POST", "/api/jails", {"name": name, "host": "b"})
            self.assertEqual(st, 201, r)
            sent[name] = (t0, time.time())
        done.wait(20)
        s.close()
        self.assertEqual(len(seen), 200)
        # from b's answer to a's stream (the event may even come first), and from the request
        lat = sorted(max(0.0, seen[n] - sent[n][1]) for n in sent)
        whole = sorted(seen[n] - sent[n][0] for n in sent)
        p99 = lat[int(len(lat) * 0.99) - 1]
        print("event made on b, seen on a: after b's answer p50 %.1f ms p99 %.1f ms; after the request p50 %.1f ms p99 %.1f ms"
              % (lat[len(lat) // 2] * 1000, p99 * 1000, whole[len(whole) // 2] * 1000, whole[int(len(whole) * 0.99) - 1] * 1000))
        self.assertLess(p99, 0.1)
        for i in range(200):
            self.assertEqual(call(b, "DELETE", "/api/jails/ev%d" % i)[0], 204)

    def test_2_a_replay_from_c_after_concurrent_writers_has_no_gap(self):
        c = J["c"]
        since = psql("SELECT COALESCE(MAX(id), 0) FROM events", URL).strip()

        failed = []

        def writer(h, k):
            for i in range(15):
                st, r, _ = call(J[h], "POST", "/api/jails", {"name": "w%s%d-%d" % (h, k, i), "host": h})
                if st != 201:
                    failed.append(r)

        ws = [threading.Thread(target=writer, args=(h, k)) for h in "abc" for k in range(2)]
        for w in ws:
            w.start()
        for w in ws:
            w.join()
        self.assertEqual(failed, [])
        s = EventStream(c, c.token, since=since)
        ids = []
        while len(ids) < 90:
            i, t, d = s.next()
            if d["target"].startswith("w"):
                ids.append(i)
        s.close()
        self.assertEqual(ids, sorted(ids))
        # every event the store holds after since, in the replay: none skipped
        stored = [int(x) for x in psql("SELECT id FROM events WHERE id > %s AND target LIKE 'w%%' ORDER BY id" % since, URL).split()]
        self.assertEqual(ids, stored)
        for h in "abc":
            for k in range(2):
                for i in range(15):
                    self.assertEqual(call(J["a"], "DELETE", "/api/jails/w%s%d-%d" % (h, k, i))[0], 204)


class E_Tokens(unittest.TestCase):
    def test_a_token_revoked_on_a_fails_on_b_at_the_next_request(self):
        a, b = J["a"], J["b"]
        a.call("POST", "/api/tenants", {"name": "rev"})
        st, t, _ = a.call("POST", "/api/tenants/rev/tokens", {"name": "t"})
        self.assertEqual(b.call("GET", "/api/jails", token=t["secret"])[0], 200)
        self.assertEqual(a.call("DELETE", "/api/tenants/rev/tokens/%d" % t["id"])[0], 204)
        self.assertEqual(b.call("GET", "/api/jails", token=t["secret"])[0], 401)


class F_HostDies(unittest.TestCase):
    def test_kill_9_of_b(self):
        a, b, c = J["a"], J["b"], J["c"]
        st, r, _ = a.call("POST", "/api/jails?start=1", {"name": "onb", "host": "b", "ip4": ["auto"]})
        self.assertEqual(st, 201, r)
        # a console on a's own jail, live across b's death and restart: b's restart ends
        # b's last sessions, never a's
        st, r, _ = a.call("POST", "/api/jails?start=1", {"name": "ona", "host": "a"})
        self.assertEqual(st, 201, r)
        ws, r = a.console("ona")
        self.assertTrue(r["ok"], r)
        sid = ws.expect_text("session")["id"]
        sup, server, helper = b.pids()
        os.kill(sup, signal.SIGKILL)
        b.proc.wait()
        try:
            self.while_b_is_down(a, c)
        finally:
            # b comes back (its claim went with its session)
            b.log = open(os.path.join(b.dir, "jaild.log"), "ab")
            b.start()
        # states are right again
        self.assertTrue(reach("online", lambda: a.call("GET", "/api/hosts/b")[1]["state"] == "online", TIMEOUT + 3))
        self.assertTrue(reach("running", lambda: a.call("GET", "/api/jails/onb")[1]["state"] == "running", 10))
        self.assertEqual(a.exec("onb", "hostname")["stdout"], "onb\n")
        self.assertEqual(a.call("DELETE", "/api/jails/onb")[0], 204)
        st, con, _ = a.call("GET", "/api/consoles/" + sid)
        self.assertEqual((st, con["live"], con["ended_at"]), (200, True, None), con)
        ws.type("echo STILL$((2*21))\n")
        ws.expect(r"STILL42")
        ws.finish()
        a.call("DELETE", "/api/jails/ona")

    def while_b_is_down(self, a, c):
        # offline within the threshold (and a beat): its jails are unreachable, nothing lost
        t0 = time.time()
        self.assertTrue(reach("offline", lambda: a.call("GET", "/api/hosts/b")[1]["state"] == "offline", TIMEOUT + 3))
        print("b offline after %.1f s" % (time.time() - t0))
        g = a.call("GET", "/api/jails/onb")[1]
        self.assertEqual((g["state"], g["last_state"], g["host"]), ("unreachable", "running", "b"), g)
        listed = {j["name"]: j for j in a.call("GET", "/api/jails")[1]["items"]}
        self.assertEqual(listed["onb"]["state"], "unreachable")
        # changes answer 503 at once
        for method, path in (("POST", "/api/jails/onb/stop"), ("DELETE", "/api/jails/onb"), ("POST", "/api/jails/onb/exec")):
            t = time.time()
            st, r, h = a.call(method, path, {"command": ["id"]} if path.endswith("exec") else None)
            self.assertEqual(st, 503, r)
            self.assertLess(time.time() - t, 1.0)
            self.assertIn("unreachable", r["error"]["message"])
        # a and c keep creating: placement passes b over
        for i in range(4):
            st, r, _ = c.call("POST", "/api/jails", {"name": "alive%d" % i})
            self.assertEqual(st, 201, r)
            self.assertIn(r["host"], ("a", "c"))
            self.assertEqual(a.call("DELETE", "/api/jails/alive%d" % i)[0], 204)


class G_StoreRestarts(unittest.TestCase):
    def test_pg_ctl_restart_every_jaild_reconnects_and_streams_resume_without_a_gap(self):
        a, b = J["a"], J["b"]
        s = EventStream(a, a.token)
        self.assertEqual(b.call("POST", "/api/jails", {"name": "before", "host": "b"})[0], 201)
        got = []
        while "before" not in got:
            got.append(s.next()[2]["target"])
        pgbin, pgdata = os.environ["JAILD_TEST_PGBIN"], os.environ["JAILD_TEST_PGDATA"]
        # (its output to its log: a server holding a pipe of ours would never let run() end)
        subprocess.run(["runuser", "-u", "postgres", "--", pgbin + "/pg_ctl", "-D", pgdata, "-l", os.path.dirname(pgdata) + "/server.log",
                        "-m", "fast", "-w", "restart"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # the first request after finds its pooled connection gone, and is run again
        # on a new one: no request sees the restart
        for h in "abc":
            self.assertEqual(J[h].call("GET", "/api/jails")[0], 200, h)
        st, r, _ = b.call("POST", "/api/jails", {"name": "after", "host": "b"})
        self.assertEqual(st, 201, r)
        # the stream on a (its connection to jaild never dropped) goes on with what came after
        while "after" not in got:
            got.append(s.next()[2]["target"])
        s.close()
        for n in ("before", "after"):
            a.call("DELETE", "/api/jails/" + n)


if __name__ == "__main__":
    from jaildtest import run
    run("__main__")
