"""Jails outlive jaild and its helper, even by kill -9, and are adopted again."""
import os
import subprocess
import signal
import time
import unittest

from jaildtest import Jaild, run


class Resilience(unittest.TestCase):
    def setUp(self):
        self.j = Jaild().start()

    def tearDown(self):
        self.j.stop()
        self.j.cleanup()

    def test_kill_9_of_the_helper(self):
        j = self.j
        st, jail, _ = j.call("POST", "/api/jails?start=1", {"name": "survivor", "ip4": ["auto"]})
        self.assertEqual(st, 201, jail)
        sup, server, helper = j.pids()
        self.assertTrue(helper)
        os.kill(helper, signal.SIGKILL)
        self.assertTrue(j.wait_for(lambda: j.pids()[2] not in (None, helper), 10))
        self.assertTrue(j.wait_for(lambda: j.call("GET", "/api/health", token=False)[1].get("helper") is None, 10))
        st, now, _ = j.call("GET", "/api/jails/survivor")
        self.assertEqual((now["state"], now["pid"]), ("running", jail["pid"]))
        self.assertEqual(j.exec("survivor", "echo still here")["stdout"], "still here\n")
        os.kill(jail["pid"], 0)

    def test_a_killed_spare_worker_is_replaced(self):
        # the helper forks its next worker ahead of the request: killed before it has
        # work, it is forked again, and requests are served as before. (Killed while a
        # request is on its way to it, it is a worker killed at work: that request gets
        # a clear error, as test_attacks' killed workers do.)
        j = self.j
        def spares():
            helper = j.pids()[2]
            out = subprocess.run(["ps", "-o", "pid=,comm=", "--ppid", str(helper)], capture_output=True, text=True).stdout
            return [int(l.split()[0]) for l in out.splitlines() if l.split()[1] == "jaild-priv"]
        self.assertEqual(j.call("POST", "/api/jails?start=1", {"name": "first"})[0], 201)
        self.assertTrue(j.wait_for(lambda: len(spares()) == 1, 5), spares())
        spare = spares()[0]
        os.kill(spare, signal.SIGKILL)
        self.assertTrue(j.wait_for(lambda: len(spares()) == 1 and spares()[0] != spare, 5), spares())
        st, body, _ = j.call("POST", "/api/jails?start=1", {"name": "second"})
        self.assertEqual((st, body.get("state")), (201, "running"), body)
        self.assertEqual(j.exec("second", "echo served")["stdout"], "served\n")

    def test_kill_9_of_jaild_and_adoption(self):
        j = self.j
        st, jail, _ = j.call("POST", "/api/jails?start=1", {"name": "orphan", "ip4": ["auto"]})
        self.assertEqual(st, 201, jail)
        st, stopped, _ = j.call("POST", "/api/jails", {"name": "sleeper"})
        sup, server, helper = j.pids()
        os.kill(sup, signal.SIGKILL)
        j.proc.wait()
        # the server and helper follow their supervisor; the jail does not
        self.assertTrue(j.wait_for(lambda: not os.path.exists("/proc/%d" % server) and not os.path.exists("/proc/%d" % helper), 10))
        time.sleep(0.3)
        os.kill(jail["pid"], 0)
        j.log = open(os.path.join(j.dir, "jaild.log"), "ab")
        j.start()
        st, now, _ = j.call("GET", "/api/jails/orphan")
        self.assertEqual((now["state"], now["pid"]), ("running", jail["pid"]))
        self.assertEqual(j.exec("orphan", "hostname")["stdout"], "orphan\n")
        self.assertIn("adopted", j.logtext() + "adopted" if now["state"] == "running" else "")
        st, s2, _ = j.call("GET", "/api/jails/sleeper")
        self.assertEqual(s2["state"], "stopped")

    def test_dead_jail_is_marked_stopped_at_start(self):
        j = self.j
        st, jail, _ = j.call("POST", "/api/jails?start=1", {"name": "gone"})
        self.assertEqual(st, 201, jail)
        j.stop(destroy_jails=False)
        os.kill(jail["pid"], signal.SIGKILL)
        time.sleep(0.5)
        j.log = open(os.path.join(j.dir, "jaild.log"), "ab")
        j.start()
        st, now, _ = j.call("GET", "/api/jails/gone")
        self.assertEqual(now["state"], "stopped")
        self.assertIn("marked stopped", j.logtext())

    def test_auto_passes_over_addresses_another_instance_routes(self):
        j = self.j
        st, a, _ = j.call("POST", "/api/jails?start=1", {"name": "first", "ip4": ["auto"]})
        self.assertEqual(st, 201, a)
        other = Jaild().start()  # the same pool, a data dir of its own
        try:
            st, b, _ = other.call("POST", "/api/jails?start=1", {"name": "second", "ip4": ["auto"]})
            self.assertEqual((st, b.get("state")), (201, "running"), b)
            self.assertNotEqual(a["ip4"], b["ip4"])
        finally:
            other.stop()
            other.cleanup()
            j.call("DELETE", "/api/jails/first")

    def test_two_instances_leave_each_other_alone(self):
        j = self.j
        st, a, _ = j.call("POST", "/api/jails?start=1", {"name": "same", "ip4": ["10.91.0.10"]})
        self.assertEqual(st, 201, a)
        other = Jaild(extra=["--pool4", "10.78.0.0/16"]).start()
        try:
            st, b, _ = other.call("POST", "/api/jails?start=1", {"name": "same", "ip4": ["auto"]})
            self.assertEqual(st, 201, b)
            # the second instance's start-up sweep and its jail of the same name and
            # slot took nothing from the first
            self.assertEqual(j.exec("same", "ip -o addr show eth0")["exit_code"], 0)
            self.assertIn("10.91.0.10", j.exec("same", "ip -o addr show eth0")["stdout"])
            self.assertEqual(j.call("GET", "/api/jails/same")[1]["state"], "running")
            self.assertNotEqual(a["pid"], b["pid"])
        finally:
            other.stop()
            other.cleanup()
        self.assertEqual(j.call("GET", "/api/jails/same")[1]["state"], "running")
        self.assertIn("10.91.0.10", j.exec("same", "ip -o addr show eth0")["stdout"])

    def test_cgroup_favordynmods_option(self):
        import subprocess
        from jaildtest import JAILD
        bad = subprocess.run([JAILD, "--cgroup-favordynmods", "maybe"], capture_output=True, text=True)
        self.assertNotEqual(bad.returncode, 0)
        self.assertIn("yes or no", bad.stderr)
        def cgroup2_options():
            with open("/proc/mounts") as f:
                return next((set(l.split()[3].split(",")) for l in f if l.split()[:3] == ["cgroup2", "/sys/fs/cgroup", "cgroup2"]), None)
        before = cgroup2_options()
        j = Jaild(extra=["--cgroup-favordynmods", "yes"]).start()
        try:
            with open("/proc/mounts") as f:
                mounts = f.read()
            v2 = before is not None
            if v2:  # the remount keeps every option systemd mounted it with (and stays:
                # an earlier run may have turned favordynmods on already)
                self.assertEqual(cgroup2_options(), before | {"favordynmods"})
            self.assertTrue(any("favordynmods" in l and (l.split()[1] == "/sys/fs/cgroup" if v2 else j.data in l)
                                for l in mounts.splitlines()), "no favordynmods cgroup mount")
            st, jail, _ = j.call("POST", "/api/jails?start=1", {"name": "fast"})
            self.assertEqual((st, jail["state"]), (201, "running"), jail)
        finally:
            j.stop()
            subprocess.run(["umount", os.path.join(j.data, "cgroup-favordynmods")], capture_output=True)
            j.cleanup()

    def test_without_root_privileged_routes_answer_503(self):
        import pwd
        import subprocess
        import tempfile
        from jaildtest import JAILD, free_port
        nobody = pwd.getpwnam("nobody")
        d = tempfile.mkdtemp(prefix="jaild-noroot-", dir="/var/tmp")
        os.chmod(d, 0o755)
        os.chown(d, nobody.pw_uid, nobody.pw_gid)
        port = free_port()
        p = subprocess.Popen(["setpriv", "--reuid", str(nobody.pw_uid), "--regid", str(nobody.pw_gid), "--clear-groups",
                              JAILD, "--data-dir", d, "--listen", "127.0.0.1:%d" % port],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            probe = Jaild.__new__(Jaild)
            probe.port = port
            probe.tls_ca = None
            self.assertTrue(Jaild.wait_for(lambda: os.path.exists(os.path.join(d, "admin.token")), 10))
            with open(os.path.join(d, "admin.token")) as f:
                probe.token = f.read().strip()
            self.assertTrue(Jaild.wait_for(lambda: _up(probe), 10))
            st, body, _ = probe.call("GET", "/api/health", token=False)
            self.assertEqual((st, body.get("helper")), (200, "unavailable"))
            self.assertEqual(probe.call("GET", "/api/jails")[0], 200)
            st, body, _ = probe.call("POST", "/api/jails", {"name": "nope"})
            self.assertEqual((st, body["error"]["code"]), (503, "helper_unavailable"), body)
            self.assertIn("root", body["error"]["message"])
        finally:
            p.terminate()
            p.wait(10)
            import shutil
            shutil.rmtree(d, ignore_errors=True)

    def test_a_snapshot_loop_is_limited_to_its_bulk_budget(self):
        # the attack: a token asks for snapshots as fast as answers come (of a tree too
        # deep to take, each one a walk of the helper's); bulk requests have a budget of
        # a twentieth of the rate (100 a second: 5, bursts of 50), the rest 429, each
        # sent when the next could be served
        j = Jaild().start()
        try:
            toks = {}
            for t in ("hog", "calm"):
                j.call("POST", "/api/tenants", {"name": t})
                toks[t] = j.call("POST", "/api/tenants/%s/tokens" % t, {"name": "t"})[1]["secret"]
                st, b, _ = j.call("POST", "/api/jails", {"name": t}, token=toks[t])
                self.assertEqual(st, 201, b)
            t0 = time.monotonic()
            res = [j.call("POST", "/api/jails/hog/snapshots", {"name": "s%d" % i}, token=toks["hog"]) for i in range(70)]
            spent = time.monotonic() - t0
            made = [r for r in res if r[0] == 201]
            limited = [r for r in res if r[0] == 429]
            self.assertTrue(50 <= len(made) <= 50 + int(spent * 5) + 1, ([r[0] for r in res], spent))
            self.assertEqual(len(made) + len(limited), 70, [r[0] for r in res])
            st, b, h = limited[0]
            self.assertEqual(b["error"]["code"], "rate_limited")
            self.assertIn("snapshot", b["error"]["message"])
            self.assertGreaterEqual(int(h["Retry-After"]), 1)
            # nothing of the refused ones was made
            self.assertEqual(len(j.call("GET", "/api/jails/hog/snapshots", token=toks["hog"])[1]["items"]), len(made))
            # its other requests have their own budget, and so has another tenant's token
            self.assertEqual(j.call("GET", "/api/jails/hog", token=toks["hog"])[0], 200)
            self.assertEqual(j.call("POST", "/api/jails/calm/snapshots", {"name": "c"}, token=toks["calm"])[0], 201)
            # and it takes snapshots again once it waited
            time.sleep(int(h["Retry-After"]))
            self.assertEqual(j.call("POST", "/api/jails/hog/snapshots", {"name": "later"}, token=toks["hog"])[0], 201)
        finally:
            j.stop()
            j.cleanup()

    def test_a_flood_of_refused_requests_writes_a_few_audit_entries(self):
        # the attack: requests refused as fast as they come, with no token (401) and past
        # a token's rate (429); each used to write an audit row, a store write the
        # refusal did not save, and a log that grew 5,000 rows a second. Now one entry a
        # second per source, token and status, the second's last counting the others.
        j = Jaild(extra=["--rate-limit", "5"]).start()
        try:
            j.call("POST", "/api/tenants", {"name": "hog"})
            hog = j.call("POST", "/api/tenants/hog/tokens", {"name": "t"})[1]["secret"]
            t0 = time.monotonic()
            anon = [j.call("POST", "/api/jails", {"name": "x"}, token="not-a-token")[0] for _ in range(300)]
            # 429s are held until the token's next request could be served: a flood
            # of them comes from many connections at once
            from concurrent.futures import ThreadPoolExecutor
            with ThreadPoolExecutor(50) as pool:
                mine = list(pool.map(lambda _: j.call("POST", "/api/jails/nope/start", token=hog)[0], range(300)))
            spent = time.monotonic() - t0
            self.assertEqual(set(anon), {401})
            self.assertGreater(mine.count(429), 250, mine)
            time.sleep(1.2)
            j.call("POST", "/api/tenants", {"name": "other"})  # any audited request writes what is over
            for status, sent in ((401, 300), (429, mine.count(429))):
                items = j.call("GET", "/api/audit?status=%d&limit=1000" % status)[1]["items"]
                self.assertLessEqual(len(items), 2 * (int(spent) + 2), (status, len(items), spent))
                self.assertEqual(sum(1 + i.get("repeats", 0) for i in items), sent, (status, items[:3]))
            self.assertTrue(any(i.get("repeats") for i in items), items[:3])
            self.assertEqual(items[-1]["actor"].split()[0].split(":")[0], "token")
        finally:
            j.stop()
            j.cleanup()

    def test_rate_limit_per_token(self):
        j = Jaild(extra=["--rate-limit", "5"]).start()  # bursts of 10
        try:
            j.call("POST", "/api/tenants", {"name": "calm"})
            calm = j.call("POST", "/api/tenants/calm/tokens", {"name": "t"})[1]["secret"]
            time.sleep(2.1)  # what start-up spent is back: a full burst of 10
            t0 = time.monotonic()
            res = [j.call("GET", "/api/jails") for _ in range(30)]
            spent = time.monotonic() - t0
            codes = [r[0] for r in res]
            limited = [r for r in res if r[0] == 429]
            self.assertTrue(limited, "no request was limited")
            self.assertEqual(codes[:10], [200] * 10, codes)
            self.assertTrue(codes.count(200) <= 10 + int(spent * 5) + 1, (codes, spent))
            # each 429 is sent when the token's next request could be served (a client
            # looping on them asks no faster than its rate): the one after it goes on
            for i, c in enumerate(codes[:-1]):
                if c == 429:
                    self.assertEqual(codes[i + 1], 200, codes)
            st, b, h = limited[0]
            self.assertEqual(b["error"]["code"], "rate_limited")
            self.assertGreaterEqual(int(h["Retry-After"]), 1)
            # another token has its own allowance
            self.assertEqual(j.call("GET", "/api/jails", token=calm)[0], 200)
            # and the first token gets going again after waiting
            time.sleep(int(h["Retry-After"]))
            self.assertEqual(j.call("GET", "/api/jails")[0], 200)
        finally:
            j.stop()
            j.cleanup()

    def test_tls_with_a_generated_certificate(self):
        import stat
        import subprocess
        import tempfile
        from jaildtest import JAILD
        d = tempfile.mkdtemp(prefix="jaild-tls-", dir="/var/tmp")
        try:
            r = subprocess.run([JAILD, "--gen-cert", d], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(stat.S_IMODE(os.stat(os.path.join(d, "jaild.key")).st_mode), 0o600)
            again = subprocess.run([JAILD, "--gen-cert", d], capture_output=True, text=True)
            self.assertNotEqual(again.returncode, 0)
            self.assertIn("already exists", again.stderr)
            crt, key = os.path.join(d, "jaild.crt"), os.path.join(d, "jaild.key")
            j = Jaild(extra=["--tls-cert", crt, "--tls-key", key], tls_ca=crt).start()
            try:
                st, body, _ = j.call("GET", "/api/health", token=False)  # verified against the certificate
                self.assertEqual((st, body["status"]), (200, "ok"))
                self.assertEqual(j.call("POST", "/api/jails", {"name": "secure"})[0], 201)
                # over TLS the session cookie is Secure
                j.call("POST", "/api/tenants/default/users", {"name": "sam", "password": "a long enough password"})
                st, b, h = j.call("POST", "/api/login", {"tenant": "default", "user": "sam", "password": "a long enough password"}, token=False)
                self.assertEqual(st, 200, b)
                self.assertIn("; Secure", h["Set-Cookie"])
                plain = subprocess.run(["curl", "-s", "-m", "3", "http://127.0.0.1:%d/api/health" % j.port], capture_output=True)
                self.assertNotIn(b'"status"', plain.stdout)
            finally:
                j.stop()
                j.cleanup()
            bad = subprocess.run([JAILD, "--tls-cert", crt], capture_output=True, text=True)
            self.assertNotEqual(bad.returncode, 0)
        finally:
            import shutil
            shutil.rmtree(d, ignore_errors=True)

    def test_boot_jails_start_in_priority_order(self):
        j = self.j
        for name, prio in (("late", 20), ("early", 10)):
            st, x, _ = j.call("POST", "/api/jails", {"name": name, "boot": True, "priority": prio})
            self.assertEqual(st, 201, x)
        j.stop(destroy_jails=False)
        j.log = open(os.path.join(j.dir, "jaild.log"), "ab")
        j.start()
        self.assertTrue(j.wait_for(lambda: j.call("GET", "/api/jails/late")[1]["state"] == "running", 20))
        self.assertEqual(j.call("GET", "/api/jails/early")[1]["state"], "running")
        log = j.logtext()
        self.assertLess(log.index("boot: starting jail early"), log.index("boot: starting jail late"))


def _up(j):
    try:
        return j.call("GET", "/api/health", token=False)[0] == 200
    except OSError:
        return False


if __name__ == "__main__":
    run(__name__)
