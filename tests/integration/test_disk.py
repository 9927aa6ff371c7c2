"""limits.disk: the jail's files on a file-backed disk of that size. Filling it gives
ENOSPC inside and leaves the host's disk alone; it grows, never shrinks; it counts
against the tenant's disk quota; snapshots and destroy work with it."""
import os
import unittest

from jaildtest import Jaild, run

J = None


def setUpModule():
    global J
    J = Jaild().start()


def tearDownModule():
    J.finish()


def host_free():
    st = os.statvfs(J.data)
    return st.f_bavail * st.f_frsize


def root_kb(name):
    """size of / in the jail, 1K blocks, as df sees it"""
    return int(J.exec(name, "df -k / | tail -1")["stdout"].split()[1])


def can_grow_mounted():
    with open("/proc/self/status") as f:
        eff = int([l for l in f if l.startswith("CapEff:")][0].split()[1], 16)
    return bool(eff & (1 << 24))  # CAP_SYS_RESOURCE: an online resize2fs needs it


class Disk(unittest.TestCase):
    def test_filling_the_disk_is_enospc_inside_and_spares_the_host(self):
        for type_ in ("thin", "thick"):
            name = "fill-" + type_
            st, body, _ = J.call("POST", "/api/jails?start=1", {"name": name, "type": type_, "limits": {"disk": "64M"}})
            self.assertEqual(st, 201, body)
            try:
                before = host_free()
                r = J.exec(name, "dd if=/dev/zero of=/root/fill bs=1M count=300 2>&1; echo rc=$?", timeout=120)
                self.assertIn("No space left on device", r["stdout"])
                self.assertIn("rc=1", r["stdout"])
                used = before - host_free()
                self.assertLess(used, 80 << 20, "the host lost %d MB to a 64M disk" % (used >> 20))
                self.assertLess(root_kb(name), 64 * 1024)
                # the jail still works, and freeing space inside frees it
                r = J.exec(name, "rm /root/fill && echo ok > /root/after && cat /root/after")
                self.assertEqual(r["stdout"], "ok\n")
            finally:
                J.call("DELETE", "/api/jails/" + name)
            with open("/proc/mounts") as f:
                self.assertNotIn("/jails/%s/" % name, f.read())  # destroy took the disk away

    def test_grows_never_shrinks_and_is_set_at_create_only(self):
        J.call("POST", "/api/jails?start=1", {"name": "grow", "limits": {"disk": "64M"}})
        J.call("POST", "/api/jails?start=1", {"name": "nodisk"})
        try:
            J.exec("grow", "echo kept > /root/kept")
            small = root_kb("grow")
            st, body, _ = J.call("PATCH", "/api/jails/grow", {"limits": {"disk": "128M"}})
            self.assertEqual(st, 200, body)
            if not can_grow_mounted():  # this host defers it to the next start
                J.call("POST", "/api/jails/grow/restart")
            self.assertGreater(root_kb("grow"), small * 3 // 2)
            self.assertEqual(J.exec("grow", "cat /root/kept")["stdout"], "kept\n")
            # stopped: grows offline at once
            J.call("POST", "/api/jails/grow/stop")
            self.assertEqual(J.call("PATCH", "/api/jails/grow", {"limits": {"disk": "192M"}})[0], 200)
            J.call("POST", "/api/jails/grow/start")
            self.assertGreater(root_kb("grow"), 160 * 1024)
            for patch, why in (({"limits": {"disk": "64M"}}, "only grow"), ({"limits": {"disk": None}}, "cannot be removed")):
                st, body, _ = J.call("PATCH", "/api/jails/grow", patch)
                self.assertEqual((st, body["error"]["field"]), (422, "limits.disk"), body)
                self.assertIn(why, body["error"]["message"])
            st, body, _ = J.call("PATCH", "/api/jails/nodisk", {"limits": {"disk": "64M"}})
            self.assertEqual((st, body["error"]["field"]), (422, "limits.disk"), body)
            self.assertIn("when the jail is created", body["error"]["message"])
            st, body, _ = J.call("POST", "/api/jails", {"name": "tiny", "limits": {"disk": "1M"}})
            self.assertEqual((st, body["error"]["field"]), (422, "limits.disk"), body)
        finally:
            J.call("DELETE", "/api/jails/grow")
            J.call("DELETE", "/api/jails/nodisk")

    def test_snapshots_restore_onto_the_disk(self):
        J.call("POST", "/api/jails?start=1", {"name": "dsnap", "limits": {"disk": "64M"}})
        try:
            J.exec("dsnap", "echo v1 > /root/f")
            self.assertEqual(J.call("POST", "/api/jails/dsnap/snapshots", {"name": "v1"})[0], 201)
            J.exec("dsnap", "echo v2 > /root/f; dd if=/dev/zero of=/root/big bs=1M count=20 2>/dev/null")
            st, jail, _ = J.call("POST", "/api/jails/dsnap/snapshots/v1/restore")
            self.assertEqual((st, jail["state"]), (200, "running"), jail)
            self.assertEqual(J.exec("dsnap", "cat /root/f; ls /root")["stdout"], "v1\nf\n")
        finally:
            J.call("DELETE", "/api/jails/dsnap")

    def test_the_tenant_disk_quota_counts_limits_disk(self):
        J.call("POST", "/api/tenants", {"name": "diskco", "quotas": {"disk": 100 << 20}})
        tok = J.call("POST", "/api/tenants/diskco/tokens", {"name": "t"})[1]["secret"]
        try:
            st, body, _ = J.call("POST", "/api/jails", {"name": "dq1", "limits": {"disk": "64M"}}, token=tok)
            self.assertEqual(st, 201, body)
            st, body, _ = J.call("POST", "/api/jails", {"name": "dq2", "limits": {"disk": "64M"}}, token=tok)
            self.assertEqual((st, body["error"]["code"], body["error"]["field"]), (403, "quota_exceeded", "limits.disk"), body)
            st, body, _ = J.call("POST", "/api/jails", {"name": "dq3"}, token=tok)
            self.assertEqual((st, body["error"]["field"]), (403, "limits.disk"), body)
            st, t, _ = J.call("GET", "/api/tenants/diskco")
            self.assertEqual(t["usage"]["disk"], 64 << 20, t)
        finally:
            J.call("DELETE", "/api/jails/dq1")


if __name__ == "__main__":
    run(__name__)
