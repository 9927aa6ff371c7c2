"""Attacks by a hostile customer (root in a jail, a tenant token), each written as the
attack and asserting that it fails. Security round 2 (issue 10)."""
import ctypes
import fcntl
import io
import os
import pty
import shlex
import pwd
import select
import shutil
import signal
import socket
import subprocess
import tarfile
import tempfile
import termios
import threading
import time
import unittest
import urllib.error
import urllib.request
import http.client

from jaildtest import BUILD, JAILD, Jaild, free_port, run

HOSTILE = os.path.realpath(os.path.join(BUILD, "tests", "integration", "hostile"))


class ProcByPid:
    """What the harness needs of a Popen, for a jaild started by a shell (nohup ... &)."""

    def __init__(self, pid):
        self.pid = pid

    def poll(self):
        try:
            os.kill(self.pid, 0)
            return None
        except ProcessLookupError:
            return 0

    def send_signal(self, sig):
        try:
            os.kill(self.pid, sig)
        except ProcessLookupError:
            pass

    def wait(self, timeout=None):
        deadline = time.time() + (timeout or 3600)
        while self.poll() is None:
            if time.time() > deadline:
                raise subprocess.TimeoutExpired("jaild", timeout)
            time.sleep(0.05)

    def kill(self):
        self.send_signal(signal.SIGKILL)


class JaildFromTerminal(Jaild):
    """jaild started the way the README's setup.sh does on a host without systemd: by an
    admin's interactive root shell, `nohup jaild ... &`, on a real pseudo-terminal."""

    def launch(self, cmd):
        self.master, slave = pty.openpty()

        def ctty():
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.shell = subprocess.Popen(["bash", "--norc", "-i"], stdin=slave, stdout=slave, stderr=slave,
                                      preexec_fn=ctty, env={"PS1": "admin# ", "PATH": os.environ["PATH"], "TERM": "xterm"})
        os.close(slave)
        pidfile = os.path.join(self.dir, "jaild.pid")
        line = "nohup %s >> %s 2>&1 & echo $! > %s\n" % (" ".join(shlex.quote(a) for a in cmd), os.path.join(self.dir, "jaild.log"), pidfile)
        os.write(self.master, line.encode())
        def read_pid():
            try:
                with open(pidfile) as f:
                    return int(f.read())
            except (OSError, ValueError):
                return None
        self.wait_for(read_pid, 10)
        self.proc = ProcByPid(read_pid())

    def terminal(self, seconds):
        """What the admin's terminal showed in the next few seconds."""
        out, deadline = b"", time.time() + seconds
        while time.time() < deadline:
            r, _, _ = select.select([self.master], [], [], 0.1)
            if r:
                try:
                    out += os.read(self.master, 4096)
                except OSError:
                    break
        return out.decode(errors="replace")

    def stop(self, destroy_jails=True):
        super().stop(destroy_jails)
        self.shell.kill()
        self.shell.wait()
        os.close(self.master)


class TerminalEscape(unittest.TestCase):
    """Break 1: a jail command typed into the root shell that had started jaild (TIOCSTI
    on /dev/tty), because jail processes kept the helper's controlling terminal."""

    def setUp(self):
        self.j = JaildFromTerminal(extra=["--allow-mount", os.path.dirname(HOSTILE)]).start()

    def tearDown(self):
        self.j.stop()
        self.j.cleanup()

    def test_no_jail_process_reaches_the_terminal_jaild_was_started_from(self):
        j = self.j
        j.terminal(0.5)  # what the shell printed so far
        mount = [{"source": HOSTILE, "target": "/usr/local/bin/hostile", "readonly": True}]
        # PID 1's own command, an exec, and a stop_command all try
        st, body, _ = j.call("POST", "/api/jails?start=1", {
            "name": "hostile", "mounts": mount,
            "command": ["/bin/sh", "-c", "/usr/local/bin/hostile sti > /pid1.txt; exec sleep 3600"],
            "stop_command": ["/bin/sh", "-c", "/usr/local/bin/hostile sti > /stop.txt"]})
        self.assertEqual(st, 201, body)
        r = j.exec("hostile", "/usr/local/bin/hostile sti")
        self.assertEqual(r["stdout"].strip(), "tty: ENXIO", r)
        self.assertTrue(j.wait_for(lambda: "tty:" in j.exec("hostile", "cat /pid1.txt")["stdout"], 10))
        self.assertEqual(j.exec("hostile", "cat /pid1.txt")["stdout"].strip(), "tty: ENXIO")
        # the jail's processes: none has a controlling terminal (ps's TT column is '?')
        tty = j.exec("hostile", "cat /proc/1/stat | cut -d' ' -f7")["stdout"].strip()
        self.assertEqual(tty, "0")
        st, body, _ = j.call("POST", "/api/jails/hostile/stop")
        self.assertEqual(st, 200, body)
        with open(os.path.join(j.data, "jails", "hostile", "upper", "stop.txt")) as f:
            self.assertEqual(f.read().strip(), "tty: ENXIO")
        shown = j.terminal(1.5)
        self.assertNotIn("JAIL-TYPED-THIS", shown)
        # the admin's shell still answers, and only to what the admin types
        os.write(j.master, b"echo admin-$((40+2))\n")
        self.assertIn("admin-42", j.terminal(2))



class Mounts(unittest.TestCase):
    """Break 9: a setuid file planted through a writable mount ran on the host, as the
    jail root's uid, for any host user (nosuid binds the jail's side only)."""

    @classmethod
    def setUpClass(cls):
        cls.top = tempfile.mkdtemp(prefix="jaild-mnt-", dir="/var/tmp")
        os.chmod(cls.top, 0o755)
        cls.plain = os.path.join(cls.top, "plain")    # on the host's /: suid allowed
        cls.safe = os.path.join(cls.top, "nosuid")     # a nosuid filesystem of its own
        os.mkdir(cls.plain)
        os.mkdir(cls.safe)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "nosuid,size=16m,mode=0777", "jaild-test", cls.safe], check=True)
        cls.j = Jaild(extra=["--allow-mount", cls.top]).start()

    @classmethod
    def tearDownClass(cls):
        cls.j.stop()
        cls.j.cleanup()
        subprocess.run(["umount", cls.safe])
        shutil.rmtree(cls.top, ignore_errors=True)

    def test_a_writable_mount_needs_a_nosuid_host_filesystem(self):
        j = self.j
        st, body, _ = j.call("POST", "/api/jails", {
            "name": "planter", "mounts": [{"source": self.plain, "target": "/srv", "readonly": False}]})
        self.assertEqual(st, 201, body)
        st, body, _ = j.call("POST", "/api/jails/planter/start")
        self.assertEqual(st, 422, body)
        self.assertEqual(body["error"]["field"], "mounts[0].readonly", body)
        self.assertIn("nosuid", body["error"]["message"])
        j.call("DELETE", "/api/jails/planter")
        # read-only from the same place is fine; writable from a nosuid filesystem too
        st, body, _ = j.call("POST", "/api/jails?start=1", {
            "name": "planter", "mounts": [{"source": self.plain, "target": "/ro", "readonly": True},
                                          {"source": self.safe, "target": "/srv", "readonly": False}]})
        self.assertEqual(st, 201, body)
        try:
            j.exec("planter", "cp /bin/busybox /srv/busybox && chmod 4755 /srv/busybox")
            planted = os.path.join(self.safe, "busybox")
            self.assertTrue(os.stat(planted).st_mode & 0o4000)
            nobody = pwd.getpwnam("nobody")
            r = subprocess.run(["setpriv", "--reuid", str(nobody.pw_uid), "--regid", str(nobody.pw_gid), "--clear-groups",
                                planted, "id", "-u"], capture_output=True, text=True)
            self.assertEqual(r.stdout.strip(), str(nobody.pw_uid), r)  # the setuid bit gave nothing
        finally:
            j.call("DELETE", "/api/jails/planter")

    def test_a_tenants_mount_sources_are_its_own(self):
        """Break 8: allow-mount was global; tenant B mounted the directory the provider
        had allowed for tenant A and read A's files."""
        j = self.j
        a_dir = os.path.join(self.safe, "acme")
        os.makedirs(a_dir, exist_ok=True)
        with open(os.path.join(a_dir, "secret"), "w") as f:
            f.write("acme's\n")
        tokens = {}
        for t in ("mnt-a", "mnt-b"):
            self.assertEqual(j.call("POST", "/api/tenants", {"name": t})[0], 201)
            tokens[t] = j.call("POST", "/api/tenants/%s/tokens" % t, {"name": "ci"})[1]["secret"]
        st, body, _ = j.call("PATCH", "/api/tenants/mnt-a", {"mounts": [a_dir]})
        self.assertEqual((st, body.get("mounts")), (200, [a_dir]), body)
        # B may not take a path of A's, nor one around it
        for p in (a_dir, self.safe, os.path.join(a_dir, "sub")):
            st, body, _ = j.call("PATCH", "/api/tenants/mnt-b", {"mounts": [p]})
            self.assertEqual((st, body["error"]["field"]), (409, "mounts[0]"), body)
        ro = {"source": a_dir, "target": "/data", "readonly": True}
        try:
            st, body, _ = j.call("POST", "/api/jails", {"name": "a-jail", "mounts": [ro]}, token=tokens["mnt-a"])
            self.assertEqual(st, 201, body)
            for who in ("mnt-b", None):  # tenant B, and the admins' own jails
                st, body, _ = j.call("POST", "/api/jails", {"name": "b-jail", "mounts": [ro]},
                                     token=tokens[who] if who else True)
                self.assertEqual((st, body["error"]["field"]), (422, "mounts[0].source"), body)
            # nor by a PATCH of a jail of its own
            st, body, _ = j.call("POST", "/api/jails", {"name": "b-jail"}, token=tokens["mnt-b"])
            self.assertEqual(st, 201, body)
            st, body, _ = j.call("PATCH", "/api/jails/b-jail", {"mounts": [ro]}, token=tokens["mnt-b"])
            self.assertEqual((st, body["error"]["field"]), (422, "mounts[0].source"), body)
        finally:
            for name in ("a-jail", "b-jail"):
                j.call("DELETE", "/api/jails/" + name)


def in_shared_mount_namespace():
    """This process (and the jaild it starts) in a mount namespace of its own whose /
    is shared, as systemd makes it on every stock host: a jail mount that propagates
    back shows up in our own mount table."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(0x00020000) != 0:  # CLONE_NEWNS
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNS)")
    subprocess.run(["mount", "--make-rshared", "/"], check=True)


def mount_table():
    with open("/proc/self/mountinfo") as f:
        return sorted(line.split()[4] for line in f)


class SharedRoot(unittest.TestCase):
    """Stock Debian 12: / is a shared mount. Jail mounts must never propagate to the host,
    pivot_root must work for thick jails, and a start that fails at any step leaves the
    host's mount table as it was."""

    @classmethod
    def setUpClass(cls):
        in_shared_mount_namespace()
        cls.before = mount_table()
        cls.j = Jaild(extra=["--allow-mount", os.path.dirname(HOSTILE)]).start()
        cls.base = mount_table()

    @classmethod
    def tearDownClass(cls):
        cls.j.stop()
        cls.j.cleanup()

    def assertMountsUnchanged(self, what):
        now = mount_table()
        extra = [m for m in now if m not in self.base]
        self.assertEqual(extra, [], "%s left mounts on the host: %s" % (what, extra))

    def test_thin_and_thick_jails_run_and_leave_no_mounts(self):
        j = self.j
        for type_ in ("thin", "thick"):
            name = "sh-" + type_
            st, body, _ = j.call("POST", "/api/jails?start=1", {"name": name, "type": type_})
            self.assertEqual(st, 201, body)
            self.assertEqual(j.exec(name, "echo up")["stdout"], "up\n")
            self.assertMountsUnchanged("a running %s jail" % type_)
            self.assertEqual(j.call("DELETE", "/api/jails/" + name)[0], 204)
        self.assertMountsUnchanged("stopped jails")

    def test_a_start_that_fails_at_each_step_leaves_the_mount_table_as_it_was(self):
        j = self.j
        mount = {"source": HOSTILE, "target": "/usr/local/bin/hostile", "readonly": True}
        failures = {
            # the bind mount's target cannot be made (under a file): after /proc and /dev
            "binds": {"mounts": [dict(mount, target="/etc/passwd/hostile")]},
            # everything mounted, then the command does not exist
            "exec": {"command": ["/no/such/program"]},
            # the command runs and exits at once: the jail dies as it starts
            "exit": {"command": ["/bin/false"]},
        }
        for type_ in ("thin", "thick"):
            for step, spec in failures.items():
                name = "f-%s-%s" % (step, type_)
                st, body, _ = j.call("POST", "/api/jails", dict(spec, name=name, type=type_))
                if st == 422:  # refused up front: also nothing mounted
                    self.assertMountsUnchanged("refused %s" % name)
                    continue
                self.assertEqual(st, 201, body)
                j.call("POST", "/api/jails/%s/start" % name)
                self.assertMountsUnchanged("a %s jail failing at %s" % (type_, step))
                st, body, _ = j.call("DELETE", "/api/jails/" + name)
                self.assertIn(st, (204,), body)
                self.assertMountsUnchanged("destroying %s" % name)



class DeepTrees(unittest.TestCase):
    """Break 3: 1,500 nested directories; a snapshot never answered, exports crashed the
    helper's worker (a path buffer per level), and each crash leaked a thread, the jail's
    busy flag and descriptors until the API stopped answering."""

    @classmethod
    def setUpClass(cls):
        cls.j = Jaild().start()

    @classmethod
    def tearDownClass(cls):
        cls.j.stop()
        cls.j.cleanup()

    def fetch(self, path):
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.j.port, path))
        req.add_header("Authorization", "Bearer " + self.j.token)
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()
        except (http.client.IncompleteRead, ConnectionError) as e:
            return 0, getattr(e, "partial", b"")

    def test_a_deep_tree_gets_clear_answers_and_the_jail_stays_usable(self):
        j = self.j
        for type_ in ("thin", "thick"):
            name = "deep-" + type_
            st, body, _ = j.call("POST", "/api/jails?start=1", {"name": name, "type": type_})
            self.assertEqual(st, 201, body)
            r = j.exec(name, "cd /root && i=0; while [ $i -lt 1500 ]; do mkdir d && cd d || break; i=$((i+1)); done; "
                             "echo bottom > f; echo depth=$i", timeout=120)
            self.assertIn("depth=1500", r["stdout"], r)
            _, server, _ = j.pids()
            fds_before = len(os.listdir("/proc/%d/fd" % server))
            for _ in range(3):
                t = time.time()
                st, body, _ = j.call("POST", "/api/jails/%s/snapshots" % name, {"name": "deep"})
                self.assertEqual(st, 422, body)
                self.assertIn("directories deep", body["error"]["message"])
                self.assertLess(time.time() - t, 30)
                # an export answers (an error, or an archive cut short), and never hangs
                st, data = self.fetch("/api/jails/%s/export" % name)
                self.assertNotIn(b"bottom\n", data)
            # the jail is not left busy, and jaild holds no more descriptors than before
            self.assertEqual(j.exec(name, "echo alive")["stdout"], "alive\n")
            self.assertEqual(j.call("GET", "/api/health", token=False)[0], 200)
            self.assertLessEqual(len(os.listdir("/proc/%d/fd" % server)), fds_before + 5)
            # and its files go, however deep
            st, body, _ = j.call("DELETE", "/api/jails/" + name)
            self.assertEqual(st, 204, body)
            self.assertFalse(os.path.exists(os.path.join(j.data, "jails", name)))


class Exhaustion(unittest.TestCase):
    """One tenant's jail must not take what every jail shares."""

    @classmethod
    def setUpClass(cls):
        cls.j = Jaild(extra=["--allow-mount", os.path.dirname(HOSTILE), "--jail-pty-max", "16",
                             "--max-conns-per-source", "32", "--default-maxproc", "40",
                             "--recording-max", "64K", "--recordings-max-total", "256K",
                             "--exec-max-per-tenant", "4"]).start()
        cls.mount = [{"source": HOSTILE, "target": "/usr/local/bin/hostile", "readonly": True}]

    @classmethod
    def tearDownClass(cls):
        cls.j.stop()
        cls.j.cleanup()

    def test_one_jail_cannot_take_every_terminal(self):
        """Break 6: devpts instances share the host's pty.max; a jail opened 1,100."""
        j = self.j
        st, body, _ = j.call("POST", "/api/jails?start=1", {
            "name": "ptyhog", "mounts": self.mount,
            "command": ["/bin/sh", "-c", "/usr/local/bin/hostile ptys 5000 hold > /hog.txt"]})
        self.assertEqual(st, 201, body)
        self.assertTrue(j.wait_for(lambda: "ptys" in j.exec("ptyhog", "cat /hog.txt")["stdout"], 10))
        self.assertEqual(j.exec("ptyhog", "cat /hog.txt")["stdout"].strip(), "ptys: 16")
        # while the hog holds its share, another jail opens terminals as usual
        st, body, _ = j.call("POST", "/api/jails?start=1", {"name": "neighbour", "mounts": self.mount})
        self.assertEqual(st, 201, body)
        self.assertEqual(j.exec("neighbour", "/usr/local/bin/hostile ptys 8")["stdout"].strip(), "ptys: 8")
        for name in ("ptyhog", "neighbour"):
            j.call("DELETE", "/api/jails/" + name)

    def test_a_jail_without_limits_still_has_the_hosts_defaults(self):
        """A tenant without quotas got jails without pids or memory limits (3,000 processes)."""
        j = self.j
        st, body, _ = j.call("POST", "/api/jails?start=1", {"name": "nolimits"})
        self.assertEqual(st, 201, body)
        try:
            j.exec("nolimits", "(i=0; while [ $i -lt 100 ]; do sleep 5 & i=$((i+1)); done) 2>/dev/null; echo looped", timeout=60)
            with open(j.cgroups("nolimits", "pids.max")[0]) as f:
                self.assertEqual(f.read().strip(), "40")
            with open(j.cgroups("nolimits", "pids.current")[0]) as f:
                self.assertLessEqual(int(f.read()), 40)
            mem = j.cgroups("nolimits", "memory.max") or j.cgroups("nolimits", "memory.limit_in_bytes")
            with open(mem[0]) as f:
                self.assertEqual(int(f.read()), 1 << 30)
        finally:
            j.call("DELETE", "/api/jails/nolimits")

    def console(self, name, script):
        """A console session on jail name that runs script (jailctl with piped input)."""
        env = dict(os.environ, JAILD_URL="http://127.0.0.1:%d" % self.j.port, JAILD_TOKEN=self.j.token)
        return subprocess.run([os.path.join(BUILD, "client", "jailctl"), "console", name], input=script + "\nexit\n",
                              capture_output=True, text=True, env=env, timeout=60)

    def test_console_recordings_cannot_fill_the_hosts_disk(self):
        """Break 5: `cat /dev/urandom` in a console recorded ~20 MB/s without any cap."""
        j = self.j
        st, body, _ = j.call("POST", "/api/jails?start=1", {"name": "noisy"})
        self.assertEqual(st, 201, body)
        rec_dir = os.path.join(j.data, "recordings")
        try:
            for _ in range(8):  # 8 sessions of 2 MB of output each, against 64K and 256K caps
                self.console("noisy", "head -c 1500000 /dev/urandom | base64; echo done")
            st, body, _ = j.call("GET", "/api/consoles")
            sessions = body["items"]
            self.assertGreaterEqual(len(sessions), 8)
            # each recording stopped at its cap, and says so
            sizes = [os.path.getsize(os.path.join(rec_dir, f)) for f in os.listdir(rec_dir)]
            self.assertTrue(all(n <= 64 * 1024 + 300 for n in sizes), sizes)
            st, text, _ = j.get_text(sessions[0]["recording"])
            self.assertEqual(st, 200)
            self.assertIn("recording stopped: this session passed recording-max", text)
            # past the total the oldest ended recordings went
            self.assertTrue(j.wait_for(lambda: sum(os.path.getsize(os.path.join(rec_dir, f)) for f in os.listdir(rec_dir))
                                       <= 256 * 1024, 5))
            self.assertLess(len(os.listdir(rec_dir)), 8)
        finally:
            j.call("DELETE", "/api/jails/noisy")

    def test_snapshots_keep_holes_and_live_on_the_jails_disk(self):
        """Break 4: `truncate -s 2G /big` in a jail with a 64M disk, then a snapshot, took
        2 GiB of the host's disk (holes written out as data, outside the disk)."""
        j = self.j
        for name, spec in (("sparse-disk", {"limits": {"disk": "64M"}}), ("sparse", {})):
            st, body, _ = j.call("POST", "/api/jails?start=1", dict(spec, name=name))
            self.assertEqual(st, 201, body)
            try:
                j.exec(name, "truncate -s 2G /root/big && echo tail >> /root/big")
                free = os.statvfs(j.data)
                before = free.f_bavail * free.f_frsize
                st, body, _ = j.call("POST", "/api/jails/%s/snapshots" % name, {"name": "s"})
                self.assertEqual(st, 201, body)
                free = os.statvfs(j.data)
                self.assertLess(before - free.f_bavail * free.f_frsize, 16 << 20, "a snapshot of a sparse file took real disk")
                snaps = os.path.join(j.data, "jails", name, "disk" if "disk" in name else "", "snapshots")
                self.assertTrue(os.path.isdir(snaps), "snapshots are not where the jail's disk counts them")
                st, body, _ = j.call("POST", "/api/jails/%s/snapshots/s/restore" % name)
                self.assertEqual(st, 200, body)
                r = j.exec(name, "ls -ls /root/big; tail -c 5 /root/big")
                self.assertIn("tail", r["stdout"])
                self.assertLess(int(r["stdout"].split()[0]), 1024, r)  # blocks (KiB): still sparse
            finally:
                j.call("DELETE", "/api/jails/" + name)

    def test_one_tenants_long_commands_leave_the_helper_to_the_others(self):
        """Break 2: 64 long execs from one tenant filled the helper's workers; every other
        tenant's exec, snapshot, stop and console got 409 for up to an hour."""
        j = self.j
        tokens = {}
        for t in ("hog", "calm"):
            self.assertEqual(j.call("POST", "/api/tenants", {"name": t})[0], 201)
            tokens[t] = j.call("POST", "/api/tenants/%s/tokens" % t, {"name": "ci"})[1]["secret"]
            for k in range(3):
                st, body, _ = j.call("POST", "/api/jails?start=1", {"name": "%s%d" % (t, k)}, token=tokens[t])
                self.assertEqual(st, 201, body)
        results = []

        def long_exec(k):
            st, body, _ = j.call("POST", "/api/jails/hog%d/exec" % (k % 3),
                                 {"command": ["/bin/sleep", "8"], "timeout": 60}, token=tokens["hog"])
            results.append(st)
        threads = [threading.Thread(target=long_exec, args=(k,)) for k in range(20)]
        for t in threads:
            t.start()
        time.sleep(1.5)
        try:
            # the hog has its 4; the rest of its commands were refused at once
            self.assertGreaterEqual(results.count(409), 14, results)
            # the calm tenant's work goes through at once
            t0 = time.time()
            r = j.call("POST", "/api/jails/calm0/exec", {"command": ["/bin/echo", "hi"]}, token=tokens["calm"])
            self.assertEqual((r[0], r[1].get("stdout")), (200, "hi\n"), r)
            self.assertEqual(j.call("POST", "/api/jails/calm1/snapshots", {"name": "s"}, token=tokens["calm"])[0], 201)
            self.assertEqual(j.call("POST", "/api/jails/calm2/stop", token=tokens["calm"])[0], 200)
            self.assertLess(time.time() - t0, 5)
        finally:
            for t in threads:
                t.join()
            for t in ("hog", "calm"):
                for k in range(3):
                    j.call("DELETE", "/api/jails/%s%d" % (t, k))
        self.assertEqual(results.count(200), 20 - results.count(409), results)

    def test_an_import_leaves_nothing_owned_by_host_root_in_the_jail(self):
        """An archive that names a/b/file before a/ made a and a/b owned by host root
        inside the jail's files: the jail's root could not change its own directories."""
        j = self.j
        st, body, _ = j.call("POST", "/api/jails?start=1", {"name": "src"})
        self.assertEqual(st, 201, body)
        try:
            j.exec("src", "mkdir -p /deep/er && echo x > /deep/er/file")
            st, tar = DeepTrees.fetch(self, "/api/jails/src/export")
            self.assertEqual(st, 200)
            out = io.BytesIO()
            with tarfile.open(fileobj=io.BytesIO(tar)) as t, tarfile.open(fileobj=out, mode="w") as w:
                for m in t.getmembers():
                    if m.name.rstrip("/") in ("files/deep", "files/deep/er"):
                        continue  # the parents are left for the unpacker to make
                    w.addfile(m, t.extractfile(m) if m.isfile() else None)
            st, jail, _ = j.call("POST", "/api/jails/import?name=dst&start=1", raw=out.getvalue(),
                                 headers={"Content-Type": "application/x-tar"})
            self.assertEqual(st, 201, jail)
            r = j.exec("dst", "stat -c '%u %g' /deep /deep/er /deep/er/file; rmdir /deep/er 2>&1; mv /deep /moved && echo moved")
            self.assertEqual(r["stdout"].splitlines()[:3], ["0 0", "0 0", "0 0"], r)
            self.assertIn("moved", r["stdout"])
        finally:
            for name in ("src", "dst"):
                j.call("DELETE", "/api/jails/" + name)

    def test_kernel_surfaces_are_filtered(self):
        """No seccomp filter: io_uring, userfaultfd and the like were open to jail root."""
        j = self.j
        for name, nesting in (("filtered", False), ("nesting", True)):
            st, body, _ = j.call("POST", "/api/jails?start=1", {"name": name, "mounts": self.mount,
                                                                "allow": {"nesting": nesting}})
            self.assertEqual(st, 201, body)
            try:
                got = dict(l.split(": ", 1) for l in j.exec(name, "/usr/local/bin/hostile syscalls")["stdout"].splitlines())
                self.assertEqual(got["io_uring_setup"], "ENOSYS", got)
                for call in ("userfaultfd", "bpf", "keyctl", "perf_event_open"):
                    self.assertEqual(got[call], "EPERM", (call, got))
                self.assertEqual(got["unshare_user"], "ok" if nesting else "EPERM", got)
                # the same for a console's shell, and setuid programs are not disabled
                # by the filter (no no_new_privs)
                r = j.exec(name, "grep NoNewPrivs /proc/self/status; grep Seccomp: /proc/self/status")
                self.assertEqual(r["stdout"].split(), ["NoNewPrivs:", "0", "Seccomp:", "2"], r)
            finally:
                j.call("DELETE", "/api/jails/" + name)

    def test_a_second_jaild_on_the_same_data_dir_is_refused(self):
        """Two jailds on one data dir would hand out the same slots and fight over jails."""
        j = self.j
        r = subprocess.run([JAILD, "--data-dir", j.data, "--listen", "127.0.0.1:%d" % free_port()],
                           capture_output=True, text=True, timeout=20)
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("another jaild (pid %d) is running on the data dir" % j.proc.pid, r.stderr)
        self.assertEqual(j.call("GET", "/api/health", token=False)[0], 200)

    def test_slow_clients_from_one_address_leave_the_api_to_everyone_else(self):
        """Break 7: 1,100 unauthenticated half-open requests took the API down."""
        j = self.j
        socks = []
        try:
            for _ in range(300):
                s = socket.socket()
                s.bind(("127.0.0.5", 0))
                try:
                    s.connect(("127.0.0.1", j.port))
                    s.sendall(b"GET /api/health HTTP/1.1\r\nHost: x\r\nX-Slow: ")  # never finished
                except OSError:
                    s.close()
                    continue
                socks.append(s)
            time.sleep(0.5)
            t = time.time()
            st, body, _ = j.call("GET", "/api/health", token=False)
            self.assertEqual(st, 200, body)
            self.assertLess(time.time() - t, 2)
            alive = 0
            for s in socks:
                s.setblocking(False)
                try:
                    alive += s.recv(1, socket.MSG_PEEK) != b""
                except BlockingIOError:
                    alive += 1
                except OSError:
                    pass
            self.assertLessEqual(alive, 32, "one address holds %d connections" % alive)
            _, server, _ = j.pids()
            self.assertLess(len(os.listdir("/proc/%d/fd" % server)), 200)
        finally:
            for s in socks:
                s.close()

    def test_quiet_streams_hold_no_thread(self):
        """With a thread per connection, every open event stream or log follow held a
        thread of jaild's (and a tenant could open hundreds). Now a quiet stream is parked
        on what it waits for: 120 streams from one tenant add no threads, the API answers
        at once, and an event still reaches every stream."""
        j = self.j
        st, body, _ = j.call("POST", "/api/jails?start=1", {"name": "quiet", "command": ["/bin/sh", "-c", "sleep 3600"]})
        self.assertEqual(st, 201, body)
        _, server, _ = j.pids()
        before = len(os.listdir("/proc/%d/task" % server))
        socks = []
        try:
            # ten at a time, each ten answered before the next: a worker is held only
            # while a request is handled, so the same few serve them all
            for i in range(120):
                s = socket.socket()
                s.bind(("127.0.1.%d" % (1 + i // 30), 0))  # under --max-conns-per-source
                s.connect(("127.0.0.1", j.port))
                path = "/api/events" if i % 4 else "/api/jails/quiet/log?follow=1"
                s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n" % (path, j.token)).encode())
                socks.append((path, s))
                if i % 10 == 9:
                    for path, s in socks[-10:]:
                        s.settimeout(5)
                        self.assertIn(b"200 OK", s.recv(4096), path)
            time.sleep(1)
            after = len(os.listdir("/proc/%d/task" % server))
            self.assertLess(after, before + 10, "120 quiet streams took %d threads" % (after - before))
            t = time.time()
            st, body, _ = j.call("GET", "/api/jails/quiet")
            self.assertEqual(st, 200, body)
            self.assertLess(time.time() - t, 1)
            st, body, _ = j.call("POST", "/api/jails", {"name": "woken"})
            self.assertEqual(st, 201, body)
            for path, s in socks:
                if path != "/api/events":
                    continue
                got = b""
                deadline = time.time() + 5
                while b"event: jail.created" not in got and time.time() < deadline:
                    got += s.recv(65536)
                self.assertIn(b"event: jail.created", got)
        finally:
            for _, s in socks:
                s.close()
            for name in ("quiet", "woken"):
                j.call("DELETE", "/api/jails/%s" % name)


if __name__ == "__main__":
    run(__name__)
