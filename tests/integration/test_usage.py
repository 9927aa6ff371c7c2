"""Usage history (issue 14): samples every second here (usage-interval 1), a jail
burning CPU shows it rising, a tenant's totals are the sums of its jails', CSV parses,
another tenant sees nothing, history survives a jaild restart with the time it was
down marked as a gap, hourly buckets sum exactly what the per-second ones do, and a
destroyed jail's use stays billable."""
import csv
import io
import os
import subprocess
import time
import unittest

from jaildtest import BUILD, Jaild, run

J = None
TOK = None


def setUpModule():
    global J, TOK
    J = Jaild(extra=["--usage-interval", "1"]).start()
    TOK = J.tenant_token("billed")
    for name, cmd in (("busy", ["/bin/sh", "-c", "trap 'exit 0' TERM; while :; do :; done"]),
                      ("idle", ["/bin/sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"])):
        st, r, _ = J.call("POST", "/api/jails?start=1", {"name": name, "command": cmd, "limits": {"memoryuse": "64M", "pcpu": 50}},
                          token=TOK)
        assert st == 201, r


def tearDownModule():
    J.finish()


def hour_range():
    now = int(time.time())
    return now - now % 3600, now - now % 3600 + 3600


class Usage(unittest.TestCase):
    def test_1_cpu_rises_and_the_series_has_the_limits(self):
        self.assertTrue(J.wait_for(lambda: self.cpu_of("busy") > 1.0, 30))
        first = self.cpu_of("busy")
        time.sleep(3)
        self.assertGreater(self.cpu_of("busy"), first)
        st, s, _ = J.call("GET", "/api/jails/busy/usage?step=1&from=%d" % (time.time() - 30), token=TOK)
        self.assertEqual(st, 200, s)
        seen = [p for p in s["points"] if not p.get("gap")]
        self.assertTrue(seen)
        self.assertEqual({p["memory_limit_bytes"] for p in seen}, {64 << 20})
        # half a CPU at most (pcpu 50), and well above nothing
        self.assertLess(max(p["cpu_percent"] for p in seen), 70)
        self.assertGreater(sum(p["cpu_seconds"] for p in seen) / sum(p["seconds"] for p in seen), 0.2)

    def cpu_of(self, jail):
        st, s, _ = J.call("GET", "/api/jails/%s/usage?step=3600&from=%d" % (jail, hour_range()[0] - 3600), token=TOK)
        return sum(p.get("cpu_seconds", 0) for p in s["points"]) if st == 200 else -1

    def bill(self, step):
        frm, to = hour_range()
        return J.call("GET", "/api/tenants/billed/usage?from=%d&to=%d&step=%d" % (frm - 3600, to, step), token=TOK)

    def test_2_totals_are_sums_and_hourly_buckets_are_exact(self):
        st, b, _ = self.bill(3600)
        self.assertEqual(st, 200, b)
        self.assertEqual({j["jail"] for j in b["jails"]}, {"busy", "idle"})
        for k in ("cpu_seconds", "jail_hours", "memory_gib_hours", "memory_limit_gib_hours"):
            self.assertAlmostEqual(b["total"][k], sum(j[k] for j in b["jails"]), places=6)
        for k in ("net_rx_bytes", "net_tx_bytes"):
            self.assertEqual(b["total"][k], sum(j[k] for j in b["jails"]))
        # the same two hours read from the per-second buckets: the same sums, exactly
        # (a sample is added into every bucket length at once; compare at one moment)
        time.sleep(0.5)
        for _ in range(5):
            a, fine = self.bill(3600)[1], self.bill(1)[1]
            if a["total"]["jail_hours"] == fine["total"]["jail_hours"]:
                break
            time.sleep(0.3)  # a sample landed between the two reads
        self.assertEqual(a["total"], fine["total"])
        self.assertEqual(fine["resolution"], 1)
        self.assertEqual(a["resolution"], 3600)

    def test_3_csv_parses_and_matches(self):
        st, text, h = J.get_text("/api/tenants/billed/usage?step=3600&from=%d&to=%d" % (hour_range()[0] - 3600, hour_range()[1]),
                                 token=TOK, headers={"Accept": "text/csv"})
        self.assertEqual(st, 200, text)
        self.assertTrue(h["Content-Type"].startswith("text/csv"))
        rows = list(csv.DictReader(io.StringIO(text)))
        self.assertTrue(rows)
        self.assertEqual({r["jail"] for r in rows}, {"busy", "idle"})
        cpu = sum(float(r["cpu_seconds"]) for r in rows if r["jail"] == "busy")
        self.assertGreater(cpu, 0)
        # jailctl as a billing job would run it
        env = dict(os.environ, JAILD_URL="http://127.0.0.1:%d" % J.port, JAILD_TOKEN=TOK, JAILCTL_CONFIG="/nonexistent")
        r = subprocess.run([os.path.join(BUILD, "client", "jailctl"), "-o", "csv", "usage", "billed", "--step", "3600"],
                           capture_output=True, text=True, env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.startswith("period_start,jail,jail_hours"))
        r = subprocess.run([os.path.join(BUILD, "client", "jailctl"), "usage", "billed"], capture_output=True, text=True, env=env)
        self.assertIn("(total)", r.stdout)

    def test_4_others_see_nothing_and_bad_ranges_are_422(self):
        other = J.tenant_token("nosy")
        self.assertEqual(J.call("GET", "/api/tenants/billed/usage", token=other)[0], 404)
        self.assertEqual(J.call("GET", "/api/jails/busy/usage", token=other)[0], 404)
        for q, field in (("from=soon", "from"), ("from=100&to=50", "from"), ("step=0", "step"), ("step=1&from=0", "step")):
            st, r, _ = J.call("GET", "/api/jails/busy/usage?" + q, token=TOK)
            self.assertEqual((st, r["error"].get("field")), (422, field), (q, r))

    def test_5_history_survives_a_restart_with_a_gap_and_a_destroyed_jail_stays_billed(self):
        before = self.bill(3600)[1]["total"]["cpu_seconds"]
        down = int(time.time())
        J.stop(destroy_jails=False)
        time.sleep(5)
        J.log = open(os.path.join(J.dir, "jaild.log"), "ab")
        J.start()
        self.assertTrue(J.wait_for(lambda: self.bill(3600)[1]["total"]["cpu_seconds"] > before + 1, 30))
        st, s, _ = J.call("GET", "/api/jails/busy/usage?step=1&from=%d" % (down - 10), token=TOK)
        pts = s["points"]
        gap = [p for p in pts if p.get("gap") and down + 1 <= p["t"] <= down + 4]
        self.assertTrue(gap, pts)
        self.assertEqual(J.call("DELETE", "/api/jails/idle", token=TOK)[0], 204)
        self.assertIn("idle", [j["jail"] for j in self.bill(3600)[1]["jails"]])


if __name__ == "__main__":
    run(__name__)
