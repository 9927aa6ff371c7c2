"""Jails through the API, as root, with real namespaces: lifecycle, what a jail can
and cannot see or do, limits, network isolation, leftovers, and every bad input."""
import errno
import glob
import json
import os
import signal
import pwd
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request

from jaildtest import Jaild, run

J = None


def setUpModule():
    global J
    # listening on every address, so "the jail cannot reach jaild" is a real test
    J = Jaild(listen_host="0.0.0.0").start()


def tearDownModule():
    J.finish()


def host_leftovers(name, slot=None):
    """Mounts, cgroups and interfaces (when its slot is known) a jail may leave on the host.
    The veth's host end goes with the jail's network namespace, which the kernel tears
    down on its own; the stop waits for that (at most a second), and so does this check."""
    jail_dir = os.path.join(J.data, "jails", name)
    with open("/proc/self/mountinfo") as f:
        found = [l for l in f if jail_dir in l]
    found += J.cgroups(name)
    if slot is not None:
        veth = "/sys/class/net/jd%s-%d" % (J.tag(), slot)  # this instance's only
        for _ in range(20):
            if not os.path.exists(veth):
                break
            time.sleep(0.05)
        found += glob.glob(veth)
    return found


class Lifecycle(unittest.TestCase):
    def test_create_start_exec_stop_destroy(self):
        st, j, h = J.call("POST", "/api/jails", {"name": "life", "ip4": ["auto"]})
        self.assertEqual(st, 201, j)
        self.assertEqual(h.get("Location"), "/api/jails/life")
        self.assertEqual(j["state"], "stopped")
        self.assertEqual(j["hostname"], "life")
        self.assertTrue(j["ip4"][0].startswith("10.91."))
        slot = None
        st, j, _ = J.call("POST", "/api/jails/life/start")
        self.assertEqual(st, 200, j)
        self.assertEqual(j["state"], "running")
        slot = j["jid"] - 1
        r = J.exec("life", "echo hello; echo oops >&2; exit 3")
        self.assertEqual((r["exit_code"], r["stdout"], r["stderr"]), (3, "hello\n", "oops\n"))
        r = J.exec("life", ["/bin/cat"], stdin="piped in")
        self.assertEqual(r["stdout"], "piped in")
        st, j, _ = J.call("GET", "/api/jails/life")
        self.assertEqual(j["state"], "running")
        self.assertGreater(j["usage"]["procs"], 0)
        self.assertGreater(j["usage"]["memory"], 0)
        st, j, _ = J.call("POST", "/api/jails/life/stop")
        self.assertEqual((st, j["state"]), (200, "stopped"))
        self.assertEqual(host_leftovers("life", slot), [])
        st, j, _ = J.call("POST", "/api/jails/life/stop")
        self.assertEqual((st, j["error"]["code"]), (409, "wrong_state"))
        st, j, _ = J.call("POST", "/api/jails/life/restart")
        self.assertEqual((st, j["state"]), (200, "running"))
        st, _, _ = J.call("DELETE", "/api/jails/life")
        self.assertEqual(st, 204)
        self.assertFalse(os.path.exists(os.path.join(J.data, "jails", "life")))
        self.assertEqual(host_leftovers("life", slot), [])
        st, j, _ = J.call("GET", "/api/jails/life")
        self.assertEqual((st, j["error"]["code"]), (404, "not_found"))

    def test_command_exit_is_noticed(self):
        """A first process that ends on its own leaves the jail in error, with how it
        ended (its exit), told apart from a jail someone stopped."""
        st, j, _ = J.call("POST", "/api/jails?start=1", {"name": "brief", "command": ["/bin/sleep", "1"]})
        self.assertEqual((st, j["state"], j["exit"]), (201, "running", None))
        ok = J.wait_for(lambda: J.call("GET", "/api/jails/brief")[1]["state"] == "error", 10)
        self.assertTrue(ok)
        st, j2, _ = J.call("GET", "/api/jails/brief")
        self.assertEqual((j2["exit"]["code"], j2["error"]), (0, "its first process exited with code 0"), j2)
        self.assertRegex(j2["exit"]["at"], r"^\d{4}-\d\d-\d\dT")
        self.assertEqual(host_leftovers("brief", j["jid"] - 1), [])
        # it starts again, and a stop is a stop: not an error
        st, j3, _ = J.call("POST", "/api/jails/brief/start")
        self.assertEqual((st, j3["state"]), (200, "running"), j3)
        st, j3, _ = J.call("POST", "/api/jails/brief/stop")
        self.assertEqual((st, j3["state"]), (200, "stopped"), j3)
        J.call("DELETE", "/api/jails/brief")

    def test_exit_code_and_signal_are_recorded(self):
        st, j, _ = J.call("POST", "/api/jails?start=1", {"name": "quitter", "command": ["/bin/sh", "-c", "sleep 0.5; exit 3"]})
        self.assertEqual(st, 201, j)
        st, k, _ = J.call("POST", "/api/jails?start=1", {"name": "victim", "command": ["/bin/sleep", "600"]})
        self.assertEqual(st, 201, k)
        try:
            self.assertTrue(J.wait_for(lambda: J.call("GET", "/api/jails/quitter")[1]["state"] == "error", 10))
            q = J.call("GET", "/api/jails/quitter")[1]
            self.assertEqual((q["exit"]["code"], q["error"]), (3, "its first process exited with code 3"))
            os.kill(k["pid"], signal.SIGKILL)  # from the host: the jail's init dies
            self.assertTrue(J.wait_for(lambda: J.call("GET", "/api/jails/victim")[1]["state"] == "error", 10))
            v = J.call("GET", "/api/jails/victim")[1]
            self.assertEqual((v["exit"], v["error"]), ({"signal": "KILL", "at": v["exit"]["at"]},
                                                      "its first process was killed by signal KILL"))
            # the list says the same
            items = {x["name"]: x for x in J.call("GET", "/api/jails")[1]["items"]}
            self.assertEqual((items["quitter"]["state"], items["quitter"]["exit"]["code"]), ("error", 3))
        finally:
            J.call("DELETE", "/api/jails/quitter")
            J.call("DELETE", "/api/jails/victim")

    def test_thick_jail(self):
        st, j, _ = J.call("POST", "/api/jails?start=1", {"name": "thick1", "type": "thick"})
        self.assertEqual((st, j["state"]), (201, "running"), j)
        r = J.exec("thick1", "touch /etc/mine && ls -ln /etc/mine /bin/busybox")
        self.assertEqual(r["exit_code"], 0, r)
        # the copy belongs to the jail's root: uid and gid 0 inside, for old and new files
        for line in r["stdout"].splitlines():
            self.assertEqual(line.split()[2:4], ["0", "0"], line)
        # and to its uid range outside
        st = os.stat(os.path.join(J.data, "jails", "thick1", "root", "etc", "mine"))
        self.assertGreaterEqual(st.st_uid, 65536)
        J.call("DELETE", "/api/jails/thick1")

    def test_start_failure_is_reported(self):
        st, j, _ = J.call("POST", "/api/jails", {"name": "badcmd", "command": ["/no/such/program"]})
        self.assertEqual(st, 201)
        st, j, _ = J.call("POST", "/api/jails/badcmd/start")
        self.assertEqual(st, 422, j)
        self.assertIn("/no/such/program", j["error"]["message"])
        st, j, _ = J.call("GET", "/api/jails/badcmd")
        self.assertEqual(j["state"], "error")
        self.assertEqual(host_leftovers("badcmd"), [])
        st, _, _ = J.call("DELETE", "/api/jails/badcmd")
        self.assertEqual(st, 204)
        # create+start that cannot start: the jail exists, and says why
        st, j, h = J.call("POST", "/api/jails?start=1", {"name": "badcmd2", "command": ["/no/such/program"]})
        self.assertEqual((st, j["state"]), (201, "error"), j)
        self.assertIn("/no/such/program", j["error"])
        self.assertEqual(J.call("DELETE", "/api/jails/badcmd2")[0], 204)


class Concurrency(unittest.TestCase):
    def test_two_operations_on_one_jail_never_race(self):
        import concurrent.futures
        st, j, _ = J.call("POST", "/api/jails", {"name": "racy"})
        self.assertEqual(st, 201, j)
        try:
            with concurrent.futures.ThreadPoolExecutor(8) as ex:
                results = list(ex.map(lambda _: J.call("POST", "/api/jails/racy/start")[:2], range(8)))
            codes = sorted(st for st, _ in results)
            self.assertEqual(codes.count(200), 1, results)
            self.assertTrue(all(st == 409 for st in codes if st != 200), results)
            self.assertTrue(all(b["error"]["code"] in ("busy", "wrong_state") for st, b in results if st == 409))
            st, j, _ = J.call("GET", "/api/jails/racy")
            self.assertEqual(j["state"], "running")
            # exactly one jail runs: one PID 1 in its cgroup tree
            procs = J.exec("racy", "ps -o pid,args")["stdout"]
            self.assertEqual(procs.count("/etc/rc"), 1, procs)
        finally:
            J.call("DELETE", "/api/jails/racy")

    def test_a_slow_operation_does_not_stall_others(self):
        import threading
        st, j, _ = J.call("POST", "/api/jails?start=1", {"name": "slow"})
        self.assertEqual(st, 201, j)
        try:
            t = threading.Thread(target=lambda: J.exec("slow", "sleep 3", timeout=10))
            t.start()
            time.sleep(0.3)
            t0 = time.time()
            self.assertEqual(J.call("GET", "/api/jails")[0], 200)
            self.assertEqual(J.call("GET", "/api/jails/slow")[0], 200)
            st, j, _ = J.call("POST", "/api/jails?start=1", {"name": "quick"})
            self.assertEqual(st, 201, j)
            self.assertLess(time.time() - t0, 2.0)
            t.join()
        finally:
            J.call("DELETE", "/api/jails/quick")
            J.call("DELETE", "/api/jails/slow")

    def test_exec_streamed_output_arrives_while_the_command_runs(self):
        import http.client
        st, j, _ = J.call("POST", "/api/jails?start=1", {"name": "streamer"})
        self.assertEqual(st, 201, j)
        try:
            c = http.client.HTTPConnection("127.0.0.1", J.port, timeout=30)
            body = {"command": ["/bin/sh", "-c", "echo first; sleep 2; echo second >&2; exit 3"]}
            c.request("POST", "/api/jails/streamer/exec?stream=1", json.dumps(body),
                      {"Authorization": "Bearer " + J.token})
            r = c.getresponse()
            self.assertEqual((r.status, r.getheader("Content-Type")), (200, "application/x-ndjson"))
            t0 = time.time()
            first = json.loads(r.readline())
            self.assertEqual(first, {"stream": "stdout", "data": "first\n"})
            self.assertLess(time.time() - t0, 1.5)  # before the command ended
            rest = [json.loads(x) for x in r.read().decode().splitlines()]
            self.assertEqual(rest, [{"stream": "stderr", "data": "second\n"}, {"exit_code": 3, "timed_out": False}])
            # refusals before the command runs are ordinary error answers
            st, j, _ = J.call("POST", "/api/jails/streamer/exec?stream=1", {"command": "ls"})
            self.assertEqual((st, j["error"]["field"]), (422, "command"))
            st, j, _ = J.call("POST", "/api/jails/streamer/exec?stream=yes", {"command": ["/bin/true"]})
            self.assertEqual((st, j["error"]["field"]), (422, "stream"))
        finally:
            J.call("DELETE", "/api/jails/streamer")

    def test_exec_finds_bare_names_on_the_jails_path_like_jexec(self):
        st, j, _ = J.call("POST", "/api/jails?start=1", {"name": "pathy"})
        self.assertEqual(st, 201, j)
        try:
            def run(cmd):
                st, r, _ = J.call("POST", "/api/jails/pathy/exec", {"command": cmd})
                self.assertEqual(st, 200, r)
                return r
            r = run(["sh", "-c", "echo $PATH"])
            self.assertEqual((r["exit_code"], r["stdout"].strip()),
                             (0, "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"))
            r = run(["no-such-program", "x"])
            self.assertEqual((r["exit_code"], r["stderr"]), (127, "jaild: no-such-program: command not found\n"))
            r = run(["/bin/no-such-program"])
            self.assertEqual((r["exit_code"], r["stderr"]), (127, "jaild: /bin/no-such-program: command not found\n"))
            self.assertEqual(run(["/bin/sh", "-c", "printf x > /root/f; chmod 644 /root/f"])["exit_code"], 0)
            r = run(["/root/f"])
            self.assertEqual(r["exit_code"], 126, r)  # there, but not runnable
            self.assertIn("Permission denied", r["stderr"])
            # a relative path is neither a name nor a path: refused before anything runs
            st, body, _ = J.call("POST", "/api/jails/pathy/exec", {"command": ["bin/sh"]})
            self.assertEqual((st, body["error"]["field"]), (422, "command"))
            # the jail's own command still names its program by path
            st, body, _ = J.call("POST", "/api/jails", {"name": "pathy2", "command": ["sh"]})
            self.assertEqual((st, body["error"]["field"]), (422, "command"))
        finally:
            J.call("DELETE", "/api/jails/pathy")

    def test_exec_timeout(self):
        st, j, _ = J.call("POST", "/api/jails?start=1", {"name": "timer"})
        self.assertEqual(st, 201, j)
        try:
            t0 = time.time()
            r = J.exec("timer", "echo started; sleep 20", timeout=1)
            self.assertLess(time.time() - t0, 5)
            self.assertEqual((r["timed_out"], r["exit_code"]), (True, 124))
            self.assertEqual(r["stdout"], "started\n")
            st, j, _ = J.call("POST", "/api/jails/timer/exec", {"command": ["/bin/true"], "timeout": 0})
            self.assertEqual((st, j["error"].get("field")), (422, "timeout"))
        finally:
            J.call("DELETE", "/api/jails/timer")


def log_of(name, follow=False, tail=None):
    q = "?follow=1" if follow else ""
    if tail is not None:
        q += ("&" if q else "?") + "tail=%d" % tail
    req = urllib.request.Request("http://127.0.0.1:%d/api/jails/%s/log%s" % (J.port, name, q),
                                 headers={"Authorization": "Bearer " + J.token})
    return urllib.request.urlopen(req, timeout=30)


class Logs(unittest.TestCase):
    def test_the_first_process_output_and_exit_are_kept(self):
        cmd = ["/bin/sh", "-c", "echo to-stdout; echo to-stderr >&2; exit 3"]
        st, j, _ = J.call("POST", "/api/jails?start=1", {"name": "logger", "command": cmd})
        self.assertEqual(st, 201, j)
        try:
            self.assertTrue(J.wait_for(lambda: J.call("GET", "/api/jails/logger")[1]["state"] == "error", 10))
            self.assertEqual(J.call("GET", "/api/jails/logger")[1]["exit"]["code"], 3)
            self.assertEqual(log_of("logger").read(), b"to-stdout\nto-stderr\n")
            self.assertEqual(log_of("logger", tail=1).read(), b"to-stderr\n")
            self.assertEqual(log_of("logger", tail=0).read(), b"")
            # a restart appends: the log is the jail's, across its runs
            J.call("POST", "/api/jails/logger/start")
            self.assertTrue(J.wait_for(lambda: log_of("logger").read().count(b"to-stdout") == 2, 10))
            st, body, _ = J.call("GET", "/api/jails/logger/log?tail=x")
            self.assertEqual((st, body["error"]["field"]), (422, "tail"))
            st, body, _ = J.call("GET", "/api/jails/logger/log?follow=yes")
            self.assertEqual((st, body["error"]["field"]), (422, "follow"))
            st, body, _ = J.call("GET", "/api/jails/nosuch/log")
            self.assertEqual(st, 404, body)
            # another tenant: the jail and its log do not exist for it, followed or not
            other = J.tenant_token("eavesdropper")
            for q in ("", "?follow=1", "?tail=1"):
                st, body, _ = J.call("GET", "/api/jails/logger/log" + q, token=other)
                self.assertEqual((st, body["error"]["code"]), (404, "not_found"), q)
        finally:
            J.call("DELETE", "/api/jails/logger")

    def test_follow_streams_lines_as_they_are_written(self):
        cmd = ["/bin/sh", "-c", "echo first; sleep 2; echo second; sleep 60"]
        st, j, _ = J.call("POST", "/api/jails?start=1", {"name": "follower", "command": cmd})
        self.assertEqual(st, 201, j)
        try:
            self.assertTrue(J.wait_for(lambda: log_of("follower").read() == b"first\n", 10))
            r = log_of("follower", follow=True)
            t0 = time.time()
            self.assertEqual(r.readline(), b"first\n")
            self.assertLess(time.time() - t0, 1.5)  # what was there comes at once
            self.assertEqual(r.readline(), b"second\n")  # and what comes later as it comes
            self.assertGreater(time.time() - t0, 0.5)
            r.close()
        finally:
            J.call("DELETE", "/api/jails/follower")

    def test_a_log_written_without_end_stays_bounded(self):
        """about 2 MB a second for 12 s: the log on disk stays near its 4 MiB keep."""
        cmd = ["/bin/sh", "-c", "while :; do head -c 200000 /dev/zero | tr '\\0' x; echo; sleep 0.1; done"]
        st, j, _ = J.call("POST", "/api/jails?start=1", {"name": "flood", "command": cmd})
        self.assertEqual(st, 201, j)
        try:
            path = glob.glob(os.path.join(J.data, "jails", "flood", "log")) + \
                glob.glob(os.path.join(J.data, "jails", "flood", "disk", "log"))
            self.assertEqual(len(path), 1, path)
            time.sleep(12)
            st_ = os.stat(path[0])
            self.assertGreater(st_.st_size, 16 << 20, "the jail wrote less than expected")
            self.assertLess(st_.st_blocks * 512, 12 << 20, "the log was not trimmed")
            tail = log_of("flood", tail=2).read()
            self.assertEqual(tail.count(b"\n"), 2)
            self.assertTrue(set(tail) <= set(b"x\n"))
        finally:
            J.call("DELETE", "/api/jails/flood")


class Containment(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        st, j, _ = J.call("POST", "/api/jails?start=1", {"name": "box", "ip4": ["auto"], "hostname": "box.example"})
        assert st == 201, j
        cls.jail = j

    @classmethod
    def tearDownClass(cls):
        J.call("DELETE", "/api/jails/box")

    def test_only_its_own_processes_and_pid1_is_its_command(self):
        r = J.exec("box", "ps -o pid,args")
        lines = r["stdout"].strip().splitlines()[1:]
        self.assertTrue(lines[0].split(None, 1) == ["1", "/bin/sh /etc/rc"], lines)
        self.assertLess(len(lines), 6, lines)  # rc, its sleep, this sh, ps
        self.assertNotIn("jaild", r["stdout"])

    def test_root_inside_is_not_root_outside(self):
        self.assertEqual(J.exec("box", "id -u")["stdout"].strip(), "0")
        with open("/proc/%d/status" % self.jail["pid"]) as f:
            uid = [l.split()[1:] for l in f if l.startswith("Uid:")][0]
        self.assertTrue(all(int(u) >= 65536 for u in uid), uid)

    def test_dev_holds_only_the_listed_nodes(self):
        r = J.exec("box", "ls /dev")
        self.assertEqual(sorted(r["stdout"].split()),
                         sorted(["fd", "full", "null", "ptmx", "pts", "random", "shm", "stderr", "stdin", "stdout", "tty", "urandom", "zero"]))
        r = J.exec("box", "mknod /tmp/sda b 8 0; echo rc=$?; touch /dev/x; echo rc=$?")
        self.assertEqual(r["stdout"], "rc=1\nrc=1\n", r)

    def test_sysv_ipc_is_off_unless_allowed(self):
        # limits of 0 in its own IPC namespace, which only host root could raise
        r = J.exec("box", "cat /proc/sys/kernel/shmmni /proc/sys/kernel/msgmni /proc/sys/kernel/sem; "
                          "echo 4096 > /proc/sys/kernel/shmmni; echo rc=$?")
        self.assertEqual(r["stdout"].split(), ["0", "0", "0", "0", "0", "0", "rc=1"], r)
        st, j, _ = J.call("POST", "/api/jails?start=1", {"name": "ipc", "allow": {"sysvipc": True}})
        self.assertEqual(st, 201, j)
        try:
            r = J.exec("ipc", "cat /proc/sys/kernel/shmmni /proc/sys/kernel/msgmni")
            self.assertTrue(all(int(x) > 0 for x in r["stdout"].split()), r)
        finally:
            J.call("DELETE", "/api/jails/ipc")

    def test_mount_and_hostname_are_denied(self):
        r = J.exec("box", "mount -t tmpfs x /mnt")
        self.assertNotEqual(r["exit_code"], 0)
        r = J.exec("box", "hostname x")
        self.assertNotEqual(r["exit_code"], 0)
        self.assertEqual(J.exec("box", "hostname")["stdout"].strip(), "box.example")
        self.assertEqual(socket.gethostname() == "x", False)

    def test_host_kernel_interfaces_are_closed(self):
        # where the kernel has /proc/sysrq-trigger, the jail's is /dev/null (1:3): a write
        # "succeeds" into the mask and reaches nothing; where it has none, none appears
        r = J.exec("box", "if [ -e /proc/sysrq-trigger ]; then stat -c %t:%T /proc/sysrq-trigger; echo h > /proc/sysrq-trigger; "
                          "else echo absent; echo h > /proc/sysrq-trigger 2>/dev/null || echo refused; fi; "
                          "echo 1 > /proc/sys/kernel/domainname; echo rc=$?; "
                          "cat /proc/kcore | head -c1 | wc -c; ip addr add 10.91.200.1/32 dev eth0; echo rc=$?")
        out = r["stdout"].split()
        self.assertIn(out[0], ("1:3", "absent"), r)
        if out[0] == "absent":
            self.assertEqual(out[1], "refused", r)
            out = out[1:]
        self.assertEqual(out[1:], ["rc=1", "0", "rc=2"], r)

    def test_raw_sockets_are_denied(self):
        r = J.exec("box", "ping -c1 -W1 169.254.0.1")
        self.assertNotEqual(r["exit_code"], 0)
        self.assertIn("permission denied", r["stderr"])

    def test_jail_root_cannot_be_reached_by_host_users(self):
        # a setuid file planted by jail root must be useless to unprivileged host users
        J.exec("box", "cp /bin/busybox /tmp/sush && chmod 4755 /tmp/sush")
        nobody = pwd.getpwnam("nobody")
        upper = os.path.join(J.data, "jails", "box", "upper", "tmp", "sush")
        self.assertTrue(os.path.exists(upper))
        r = subprocess.run(["setpriv", "--reuid", str(nobody.pw_uid), "--regid", str(nobody.pw_gid), "--clear-groups",
                            "/bin/sh", "-c", upper + " id"], capture_output=True, text=True)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("Permission denied", r.stderr)
        self.assertNotIn("uid=", r.stdout)

    def test_host_reaches_jail_and_jail_does_not_reach_host(self):
        J.exec("box", "(echo hello-host | nc -l -p 7000 &); sleep 0.2")
        with socket.create_connection((self.jail["ip4"][0], 7000), timeout=5) as s:
            self.assertEqual(s.recv(100), b"hello-host\n")
        # the host's own addresses (none but loopback in the test VM, which has no uplink)
        out = subprocess.run(["ip", "-4", "-o", "addr", "show", "scope", "global"], capture_output=True, text=True).stdout
        host_ips = [l.split()[3].split("/")[0] for l in out.splitlines() if " jd" not in l]
        for target in ["169.254.0.1", "127.0.0.1"] + host_ips:
            r = J.exec("box", "nc -w 2 %s %d </dev/null; echo rc=$?" % (target, J.port))
            self.assertIn("rc=1", r["stdout"], (target, r))

    def test_other_tenants_jails_cannot_reach_each_other(self):
        # (a tenant's own jails do, unless it isolates them: test_network)
        J.call("POST", "/api/tenants", {"name": "next-door"})
        st, other, _ = J.call("POST", "/api/jails?start=1", {"name": "neighbour", "ip4": ["auto"], "tenant": "next-door"})
        self.assertEqual(st, 201, other)
        try:
            J.exec("neighbour", "(echo secret | nc -l -p 7001 &); sleep 0.2")
            r = J.exec("box", "nc -w 2 %s 7001 </dev/null; echo rc=$?" % other["ip4"][0])
            self.assertNotIn("secret", r["stdout"])
        finally:
            J.call("DELETE", "/api/jails/neighbour")


class Leftovers(unittest.TestCase):
    def test_bad_sizes_are_422_and_failed_creates_leave_nothing(self):
        st, body, _ = J.call("POST", "/api/jails", {"name": "huge", "limits": {"disk": "100T"}})
        self.assertEqual((st, body["error"]["field"]), (422, "limits.disk"), body)
        self.assertEqual(J.call("GET", "/api/jails/huge")[0], 404)
        # an import that fails, and a create that fails in the helper, leave no lock file
        st, body, _ = J.call("POST", "/api/jails/import?name=broken", raw=b"not a tarball")
        self.assertEqual(st, 422, body)
        st, body, _ = J.call("POST", "/api/jails?start=1", {"name": "gone"})
        self.assertEqual(st, 201, body)
        self.assertEqual(J.call("DELETE", "/api/jails/gone")[0], 204)
        left = [f for f in os.listdir(os.path.join(J.data, "jails")) if f.split(".")[0] in ("huge", "broken", "gone")]
        self.assertEqual(left, [])


    def test_jails_are_spread_over_the_filesystem(self):
        # ext4 puts a new inode in its parent's block group and, without a journal,
        # steps over every inode of the group freed in the last minutes: with every jail
        # in one group, each destroy slowed the next starts (100 in a row: 82/s, 155/s
        # spread). The jails' directory is the top of unrelated trees, as /home is.
        jails = os.path.join(J.data, "jails")
        if subprocess.run(["stat", "-f", "-c", "%T", jails], capture_output=True, text=True).stdout.strip() != "ext2/ext3":
            self.skipTest("the data dir is not on ext2/3/4, which alone has the flag")
        out = subprocess.run(["lsattr", "-d", jails], capture_output=True, text=True, check=True).stdout
        self.assertIn("T", out.split()[0], out)


class Copies(unittest.TestCase):
    def test_an_unchanged_jail_exports_and_imports_under_a_new_name(self):
        st, j, _ = J.call("POST", "/api/jails", {"name": "pristine"})
        self.assertEqual(st, 201, j)
        try:
            req = urllib.request.Request("http://127.0.0.1:%d/api/jails/pristine/export" % J.port,
                                         headers={"Authorization": "Bearer " + J.token})
            with urllib.request.urlopen(req) as r:
                tar = r.read()
            st, j, _ = J.call("POST", "/api/jails/import?name=copy&start=1", raw=tar, headers={"Content-Type": "application/x-tar"})
            self.assertEqual((st, j.get("hostname"), j.get("state")), (201, "copy", "running"), j)
            self.assertEqual(J.exec("copy", "hostname")["stdout"], "copy\n")
        finally:
            for name in ("pristine", "copy"):
                J.call("DELETE", "/api/jails/" + name)


class EarlyAnswers(unittest.TestCase):
    def test_a_body_announced_too_large_is_413_before_it_is_sent(self):
        # no Expect: 100-continue: the answer still comes from the headers alone
        with socket.create_connection(("127.0.0.1", J.port), timeout=5) as s:
            s.sendall(("POST /api/jails HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                       "Content-Type: application/json\r\nContent-Length: 20971520\r\n\r\n" % J.token).encode())
            head = s.recv(4096).decode(errors="replace")
        self.assertTrue(head.startswith("HTTP/1.1 413"), head)
        self.assertIn("body_too_large", head)


class Conditional(unittest.TestCase):
    def test_a_get_with_the_current_etag_is_304(self):
        st, j, _ = J.call("POST", "/api/jails", {"name": "etagged"})
        self.assertEqual(st, 201, j)
        try:
            st, _, h = J.call("GET", "/api/jails/etagged")
            etag = h["ETag"]
            req = urllib.request.Request("http://127.0.0.1:%d/api/jails/etagged" % J.port,
                                         headers={"Authorization": "Bearer " + J.token, "If-None-Match": etag})
            with self.assertRaises(urllib.error.HTTPError) as cm:
                urllib.request.urlopen(req)
            self.assertEqual((cm.exception.code, cm.exception.read()), (304, b""))
            # a change makes the old ETag stale: the full answer again
            J.call("PATCH", "/api/jails/etagged", {"hostname": "renamed"})
            with urllib.request.urlopen(req) as r:
                self.assertEqual(json.loads(r.read())["hostname"], "renamed")
        finally:
            J.call("DELETE", "/api/jails/etagged")


class Listing(unittest.TestCase):
    def test_list_items_have_each_key_once_and_live_usage(self):
        st, j, _ = J.call("POST", "/api/jails?start=1", {"name": "listed"})
        self.assertEqual(st, 201, j)
        try:
            st, text, _ = J.get_text("/api/jails?limit=1000")
            self.assertEqual(st, 200)

            def unique(pairs):
                keys = [k for k, _ in pairs]
                self.assertEqual(len(keys), len(set(keys)), "a key twice: %s" % keys)
                return dict(pairs)
            items = json.loads(text, object_pairs_hook=unique)["items"]
            item = [i for i in items if i["name"] == "listed"][0]
            self.assertEqual(item["state"], "running")
            self.assertGreater(item["usage"]["memory"], 0)
            self.assertGreater(item["usage"]["procs"], 0)
        finally:
            J.call("DELETE", "/api/jails/listed")


class Limits(unittest.TestCase):
    def test_patch_merges_limits_and_null_takes_one_back_to_its_default(self):
        # the README's own example once dropped memoryuse from a running jail
        st, j, _ = J.call("POST", "/api/jails?start=1", {"name": "merge", "limits": {"maxproc": 64, "memoryuse": "256M"}})
        self.assertEqual(st, 201, j)
        try:
            def mem():
                f = (J.cgroups("merge", "memory.max") or J.cgroups("merge", "memory.limit_in_bytes"))[0]
                with open(f) as fh:
                    return int(fh.read())
            st, j, _ = J.call("PATCH", "/api/jails/merge", {"limits": {"maxproc": 32}})
            self.assertEqual((st, j["limits"]), (200, {"maxproc": 32, "memoryuse": "256M"}), j)
            with open(J.cgroups("merge", "pids.max")[0]) as f:
                self.assertEqual(f.read().strip(), "32")
            self.assertEqual(mem(), 256 << 20)
            st, j, _ = J.call("PATCH", "/api/jails/merge", {"limits": {"memoryuse": None}})
            self.assertEqual((st, j["limits"]), (200, {"maxproc": 32}), j)
            self.assertEqual(mem(), 1 << 30)  # the host's default-memoryuse
        finally:
            J.call("DELETE", "/api/jails/merge")

    def test_fork_loop_stops_at_maxproc(self):
        st, j, _ = J.call("POST", "/api/jails?start=1", {"name": "forky", "limits": {"maxproc": 20}})
        self.assertEqual(st, 201, j)
        try:
            # the loop's subshell dies when fork fails; the exec's own shell goes on
            r = J.exec("forky", "(i=0; while [ $i -lt 60 ]; do sleep 4 & i=$((i+1)); done) 2>/tmp/err; echo looped", timeout=60)
            self.assertIn("looped", r["stdout"], r)
            pids = J.cgroups("forky", "pids.current")
            with open(pids[0]) as f:
                self.assertLessEqual(int(f.read()), 20)
            self.assertEqual(J.call("GET", "/api/health", token=False)[0], 200)
            # once the sleeps end the jail takes commands again, and says why forks failed
            def readable():
                st, out, _ = J.call("POST", "/api/jails/forky/exec", {"command": ["/bin/cat", "/tmp/err"]})
                return st == 200 and out["exit_code"] == 0 and out["stdout"]
            self.assertTrue(J.wait_for(readable, 15))
            self.assertIn("fork", readable())
        finally:
            J.call("DELETE", "/api/jails/forky")

    def test_memory_hog_dies_at_memoryuse(self):
        st, j, _ = J.call("POST", "/api/jails?start=1", {"name": "hog", "limits": {"memoryuse": "32M"}})
        self.assertEqual(st, 201, j)
        try:
            # one process that wants 100 MiB: the memory cgroup's OOM killer takes it
            r = J.exec("hog", ["/bin/dd", "if=/dev/zero", "of=/dev/null", "bs=100M", "count=1"], timeout=60)
            self.assertEqual(r["exit_code"], 128 + 9, r)
            # the jail and the host are fine
            self.assertEqual(J.exec("hog", "echo alive")["stdout"], "alive\n")
            self.assertEqual(J.call("GET", "/api/health", token=False)[0], 200)
        finally:
            J.call("DELETE", "/api/jails/hog")

    def test_limits_change_live(self):
        st, j, _ = J.call("POST", "/api/jails?start=1", {"name": "live", "limits": {"maxproc": 50}})
        self.assertEqual(st, 201, j)
        try:
            st, j, h = J.call("PATCH", "/api/jails/live", {"limits": {"maxproc": 7}}, headers={"If-Match": "\"%d\"" % 0})
            self.assertEqual(st, 412, j)
            st, cur, h = J.call("GET", "/api/jails/live")
            st, j, _ = J.call("PATCH", "/api/jails/live", {"limits": {"maxproc": 7}}, headers={"If-Match": h["ETag"]})
            self.assertEqual(st, 200, j)
            self.assertEqual(j["limits"]["maxproc"], 7)
            pids_max = J.cgroups("live", "pids.max")
            with open(pids_max[0]) as f:
                self.assertEqual(f.read().strip(), "7")
            st, j, _ = J.call("PATCH", "/api/jails/live", {"ip4": ["auto"]})
            self.assertEqual((st, j["error"]["code"]), (409, "wrong_state"))
        finally:
            J.call("DELETE", "/api/jails/live")


class OwnLimits(unittest.TestCase):
    """A jail sees its own limits: lxcfs's /proc files and a CPU set sized by pcpu."""

    def test_free_and_nproc_show_the_jails_limits(self):
        st, r, _ = J.call("POST", "/api/jails?start=1", {"name": "sized", "limits": {"memoryuse": "256M", "pcpu": 100}})
        self.assertEqual(st, 201, r)
        self.addCleanup(J.call, "DELETE", "/api/jails/sized")
        # (busybox's free asks sysinfo(2), the host's; procps's reads /proc: test_userland)
        cpus = os.cpu_count()
        self.assertEqual(J.exec("sized", "nproc")["stdout"].strip(), str(min(1, cpus)))
        self.assertIn("MemTotal:         262144 kB", J.exec("sized", "cat /proc/meminfo")["stdout"])
        # the host has no warning about it
        warnings = J.call("GET", "/api/host")[1]["warnings"]
        self.assertFalse([w for w in warnings if "lxcfs" in w["message"]], warnings)

    def test_an_lxcfs_that_died_is_started_again(self):
        """As a host is found after the session that started lxcfs was killed: its FUSE
        mount is left, every access fails with ENOTCONN, and nothing can mount over it."""
        d = tempfile.mkdtemp(prefix="jaild-it-lxcfs-", dir="/var/tmp")

        def clean():
            subprocess.run(["pkill", "-KILL", "-f", "^/usr/bin/lxcfs .*" + d + "$"])
            subprocess.run(["umount", "-l", d], stderr=subprocess.DEVNULL)
            for f in (d + ".pid", d + ".test.pid"):
                if os.path.exists(f):
                    os.unlink(f)
            os.rmdir(d)
        self.addCleanup(clean)
        dead = subprocess.Popen(["/usr/bin/lxcfs", "--pidfile", d + ".test.pid", d],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(250):
            if os.path.exists(os.path.join(d, "proc", "meminfo")):
                break
            time.sleep(0.02)
        self.assertTrue(os.path.exists(os.path.join(d, "proc", "meminfo")), "lxcfs did not come up")
        dead.kill()
        dead.wait()
        with self.assertRaises(OSError) as cm:
            os.listdir(d)
        self.assertEqual(cm.exception.errno, errno.ENOTCONN)

        j = Jaild(extra=["--lxcfs", d]).start()
        try:
            st, r, _ = j.call("POST", "/api/jails?start=1", {"name": "sized", "limits": {"memoryuse": "256M"}})
            self.assertEqual(st, 201, r)
            self.assertIn("MemTotal:         262144 kB", j.exec("sized", "cat /proc/meminfo")["stdout"])
            warnings = j.call("GET", "/api/host")[1]["warnings"]
            self.assertFalse([w for w in warnings if "lxcfs" in w["message"]], warnings)
            j.call("DELETE", "/api/jails/sized")
        finally:
            j.finish()

    def test_without_lxcfs_the_host_says_so(self):
        j = Jaild(extra=["--lxcfs", "none"]).start()
        try:
            st, r, _ = j.call("POST", "/api/jails?start=1", {"name": "bare", "limits": {"memoryuse": "256M"}})
            self.assertEqual(st, 201, r)
            total = int(j.exec("bare", "awk '/^MemTotal:/ {print $2}' /proc/meminfo")["stdout"].strip())
            self.assertGreater(total, 262144)  # the host's
            warnings = j.call("GET", "/api/host")[1]["warnings"]
            self.assertTrue([w for w in warnings if "lxcfs" in w["message"] and "none" in w["message"]], warnings)
        finally:
            j.finish()


def post_text(path, text):
    import urllib.request
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (J.port, path), data=text.encode(), method="POST")
    req.add_header("Authorization", "Bearer " + J.token)
    req.add_header("Content-Type", "text/plain")
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read().decode())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read().decode())


class JailConf(unittest.TestCase):
    """jail.conf(5) out and in: a round trip, the handbook's and ezjail's styles, bad lines."""

    KEYS = ("hostname", "ip4", "ip6", "command", "stop_command", "stop_timeout", "allow", "limits", "boot", "priority",
            "template", "type", "ports", "firewall", "mounts")

    def test_a_jail_written_out_and_read_back_is_the_same(self):
        spec = {"name": "conf1", "hostname": "conf1.example", "ip4": ["auto"], "command": ["/bin/sh", "-c", "echo 'it''s'; exec sleep 3600"],
                "stop_command": ["/bin/echo", "bye now"], "stop_timeout": 5, "allow": {"raw_sockets": True},
                "limits": {"maxproc": 64, "memoryuse": "256M"}, "boot": True, "priority": 3,
                "ports": [{"host_port": 28181, "port": 80}], "firewall": {"egress": [{"action": "deny", "proto": "tcp", "ports": [25]}]}}
        st, before, _ = J.call("POST", "/api/jails", spec)
        self.assertEqual(st, 201, before)
        st, text, h = J.get_text("/api/jails/conf1?format=jail.conf")
        self.assertEqual(st, 200, text)
        self.assertIn("conf1 {", text)
        self.assertIn("ip4.addr = %s;" % before["ip4"][0], text)
        self.assertIn("allow.raw_sockets;", text)
        self.assertEqual(J.call("DELETE", "/api/jails/conf1")[0], 204)
        st, r = post_text("/api/jails?format=jail.conf", text)
        self.assertEqual(st, 201, r)
        self.addCleanup(J.call, "DELETE", "/api/jails/conf1")
        after = J.call("GET", "/api/jails/conf1")[1]
        self.assertEqual({k: after.get(k) for k in self.KEYS}, {k: before.get(k) for k in self.KEYS})

    def test_the_handbooks_and_ezjails_styles_import(self):
        handbook = """# Global settings applied to all jails.
exec.start = "/bin/sh /etc/rc";
exec.stop = "/bin/sh /etc/rc.shutdown";
exec.clean;
mount.devfs;

# The jail definition for www
www {
    host.hostname = www.example.org;
    ip4.addr = 10.91.0.50;
    path = "/usr/jail/www";
}
"""
        ezjail = """/* as ezjail and Bastille write them */
* { persist; securelevel = 2; }
web2 {
	host.hostname = "$name.example";
	path = "/usr/jails/$name";
	ip4.addr = "lo1|10.91.0.51/32", 10.91.0.52;
	exec.start = "/bin/sh /etc/rc";
	mount.devfs;
	devfs_ruleset = 4;
	allow.raw_sockets = 1;
	allow.nochflags;
	mount += "/srv/none /usr/jails/web2/data nullfs ro 0 0";
}
"""
        st, r = post_text("/api/jails?format=jail.conf", handbook)
        self.assertEqual(st, 201, r)
        self.addCleanup(J.call, "DELETE", "/api/jails/www")
        www = J.call("GET", "/api/jails/www")[1]
        self.assertEqual((www["hostname"], www["ip4"], www["command"], www["stop_command"]),
                         ("www.example.org", ["10.91.0.50"], ["/bin/sh", "/etc/rc"], ["/bin/sh", "/etc/rc.shutdown"]))
        # its mount is not under an allowed path on this host: refused, naming the field
        st, r = post_text("/api/jails?format=jail.conf", ezjail)
        self.assertEqual((st, r["error"]["field"]), (422, "mounts[0].source"), r)
        st, r = post_text("/api/jails?format=jail.conf", ezjail.replace('\tmount += "/srv/none /usr/jails/web2/data nullfs ro 0 0";\n', ""))
        self.assertEqual(st, 201, r)
        self.addCleanup(J.call, "DELETE", "/api/jails/web2")
        web2 = J.call("GET", "/api/jails/web2")[1]
        self.assertEqual((web2["hostname"], web2["ip4"], web2["allow"]["raw_sockets"], web2["allow"]["chflags"]),
                         ("web2.example", ["10.91.0.51", "10.91.0.52"], True, False))

    def test_bad_lines_are_422_with_the_line_and_make_nothing(self):
        bad = [
            ("a {\n host.hostname = a;\n frobnicate = 1;\n}\n", "line 3", "frobnicate"),
            ("a {\n host.hostname = $nope;\n}\n", "line 2", "$nope"),
            ("a {\n host.hostname = a\n}\n", "line 3", ";"),
            ("a {\n allow.mount;\n}\n", "line 2", "allow.mount"),
            ("a {\n mount.fstab = /etc/fstab.a;\n}\n", "line 2", "mount.fstab"),
            ("a {\n host.hostname = 'open;\n}\n", "line", "never closed"),
            ("exec.clean;\n", None, "defines no jail"),
        ]
        for text, field, words in bad:
            st, r = post_text("/api/jails?format=jail.conf", text)
            self.assertEqual(st, 422, (text, r))
            self.assertIn(words, r["error"]["message"], text)
            if field:
                self.assertTrue(r["error"].get("field", "").startswith(field), (text, r))
        self.assertEqual(J.call("GET", "/api/jails/a")[0], 404)
        # all or nothing: the second jail's name is taken, so the first is not kept
        st, r, _ = J.call("POST", "/api/jails", {"name": "taken"})
        self.addCleanup(J.call, "DELETE", "/api/jails/taken")
        st, r = post_text("/api/jails?format=jail.conf", "fresh { host.hostname = fresh; }\ntaken { host.hostname = t; }\n")
        self.assertEqual(st, 409, r)
        self.assertIn("taken", r["error"]["message"])
        self.assertEqual(J.call("GET", "/api/jails/fresh")[0], 404)
        self.assertEqual(J.call("GET", "/api/jails/x?format=yaml")[0], 422)


class BadInput(unittest.TestCase):
    def jail_dirs(self):
        return sorted(os.listdir(os.path.join(J.data, "jails")))

    def assertError(self, st, body, status, code=None, field=None):
        self.assertEqual(st, status, body)
        self.assertIn("error", body)
        self.assertTrue(body["error"]["message"])
        if code:
            self.assertEqual(body["error"]["code"], code)
        if field:
            self.assertEqual(body["error"].get("field"), field)

    def test_every_bad_input_gets_its_status_and_changes_nothing(self):
        before = self.jail_dirs()
        cases = [
            ({"name": "Bad_Name"}, 422, "name"),
            ({"name": "-x"}, 422, "name"),
            ({"name": "a" * 64}, 422, "name"),
            ({"name": "ok", "surprise": 1}, 422, "surprise"),
            ({"name": "ok", "hostname": "no spaces"}, 422, "hostname"),
            ({"name": "ok", "type": "huge"}, 422, "type"),
            ({"name": "ok", "template": "nope"}, 422, "template"),
            ({"name": "ok", "ip4": ["10.91.0.1"]}, 422, "ip4[0]"),
            ({"name": "ok", "ip4": ["8.8.8.8"]}, 422, "ip4[0]"),
            ({"name": "ok", "ip4": ["auto", "auto"]}, 422, "ip4[0]"),
            ({"name": "ok", "command": ["relative"]}, 422, "command"),
            ({"name": "ok", "limits": {"memoryuse": "1X"}}, 422, "limits.memoryuse"),
            ({"name": "ok", "limits": {"maxproc": -5}}, 422, "limits.maxproc"),
            ({"name": "ok", "mounts": [{"source": "/etc", "target": "/etc2"}]}, 422, "mounts[0].source"),
            ({"name": "ok", "allow": {"chflags": True}}, 422, "allow.chflags"),
            ({"name": "ok", "stop_timeout": "10"}, 422, "stop_timeout"),
        ]
        for body, status, field in cases:
            st, j, _ = J.call("POST", "/api/jails", body)
            self.assertError(st, j, status, field=field)
        st, j, _ = J.call("POST", "/api/jails", raw=b"{not json")
        self.assertError(st, j, 400, "malformed_request")
        st, j, _ = J.call("POST", "/api/jails", raw=b"[]")
        self.assertError(st, j, 422)
        st, j, _ = J.call("POST", "/api/jails", raw=b'{"name":"a","name":"b"}')
        self.assertError(st, j, 400)
        # a body too large is refused from its headers (the connection then closes, so a
        # client still sending gets a broken pipe: read the answer off a raw socket)
        with socket.create_connection(("127.0.0.1", J.port), timeout=5) as s:
            s.sendall(("POST /api/jails HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\n\r\n"
                       % (J.token, 2 << 20)).encode())
            try:
                s.sendall(b"x" * (2 << 20))
            except OSError:
                pass
            head, _, body = s.recv(65536).decode(errors="replace").partition("\r\n\r\n")
        self.assertTrue(head.startswith("HTTP/1.1 413"), head)
        self.assertIn("body_too_large", body)
        st, j, _ = J.call("GET", "/api/jails/" + "a" * 3000)
        self.assertError(st, j, 414, "uri_too_long")
        st, j, _ = J.call("GET", "/api/jails", token=False)
        self.assertError(st, j, 401, "unauthorized")
        st, j, _ = J.call("GET", "/api/jails", token="jd_wrong")
        self.assertError(st, j, 401, "unauthorized")
        st, j, h = J.call("PUT", "/api/jails")
        self.assertError(st, j, 405)
        self.assertIn("POST", h.get("Allow", ""))
        st, j, _ = J.call("GET", "/api/jails/NOPE")
        self.assertError(st, j, 422, field="name")
        st, j, _ = J.call("GET", "/api/jails/nope")
        self.assertError(st, j, 404, "not_found")
        st, j, _ = J.call("GET", "/api/jails?limit=0")
        self.assertError(st, j, 422, field="limit")
        st, j, _ = J.call("GET", "/api/nothing")
        self.assertError(st, j, 404)
        self.assertEqual(self.jail_dirs(), before)

    def test_conflicts(self):
        st, j, _ = J.call("POST", "/api/jails", {"name": "twin", "ip4": ["10.91.3.3"]})
        self.assertEqual(st, 201, j)
        try:
            before = self.jail_dirs()
            st, j, _ = J.call("POST", "/api/jails", {"name": "twin"})
            self.assertError(st, j, 409, "conflict", "name")
            st, j, _ = J.call("POST", "/api/jails", {"name": "other", "ip4": ["10.91.3.3"]})
            self.assertError(st, j, 409, "conflict", "ip4[0]")
            self.assertEqual(self.jail_dirs(), before)
            st, j, _ = J.call("POST", "/api/jails/twin/exec", {"command": ["/bin/true"]})
            self.assertError(st, j, 409, "wrong_state")
            st, j, _ = J.call("DELETE", "/api/jails/twin", headers={"If-Match": "\"999\""})
            self.assertError(st, j, 412)
            st, j, _ = J.call("POST", "/api/jails/twin/exec", {"command": "/bin/true"})
            self.assertError(st, j, 422)
        finally:
            J.call("DELETE", "/api/jails/twin")

    def test_paging(self):
        for i in range(5):
            J.call("POST", "/api/jails", {"name": "page%d" % i})
        try:
            names, cursor = [], ""
            while True:
                st, j, _ = J.call("GET", "/api/jails?limit=2" + ("&after=" + cursor if cursor else ""))
                self.assertEqual(st, 200)
                names += [x["name"] for x in j["items"]]
                if not j["next"]:
                    break
                cursor = j["next"]
            self.assertEqual([n for n in names if n.startswith("page")], ["page%d" % i for i in range(5)])
        finally:
            for i in range(5):
                J.call("DELETE", "/api/jails/page%d" % i)


class Host(unittest.TestCase):
    def test_health_and_host(self):
        st, j, _ = J.call("GET", "/api/health", token=False)
        self.assertEqual((st, j["status"], j["backend"]), (200, "ok", "linux"))
        st, j, _ = J.call("GET", "/api/host")
        self.assertEqual(st, 200)
        self.assertEqual(j["pool"]["ip4"]["cidr"], "10.91.0.0/16")
        # jaild itself listens on 0.0.0.0 in this suite: the preflight must say so
        self.assertTrue(any(w["port"] == J.port for w in j["warnings"]), j["warnings"])


if __name__ == "__main__":
    run(__name__)
