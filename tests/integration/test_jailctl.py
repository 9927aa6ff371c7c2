"""jailctl against a real jaild: every verb, -o json output that parses, exit codes per
kind of failure, and apply run twice changing nothing the second time."""
import json
import time
import os
import signal
import subprocess
import tempfile
import unittest

from jaildtest import BUILD, Jaild, run

J = None
JAILCTL = os.path.join(BUILD, "client", "jailctl")


def setUpModule():
    global J
    J = Jaild().start()


def tearDownModule():
    J.finish()


def ctl(*args, token=None, url=None):
    env = dict(os.environ, JAILD_URL=url or "http://127.0.0.1:%d" % J.port, JAILD_TOKEN=token or J.token,
               JAILCTL_CONFIG="/nonexistent")
    return subprocess.run([JAILCTL] + list(args), capture_output=True, text=True, env=env, timeout=120)


class Tmux:
    """A terminal for jailctl console: a detached tmux session of a given size."""

    def __init__(self, command, cols=120, rows=40):
        self.name = "jailctl-test-%d" % os.getpid()
        env = "JAILD_URL=http://127.0.0.1:%d JAILD_TOKEN=%s JAILCTL_CONFIG=/nonexistent" % (J.port, J.token)
        subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True)
        subprocess.run(["tmux", "new-session", "-d", "-s", self.name, "-x", str(cols), "-y", str(rows),
                        "env %s %s; echo JAILCTL-RC=$?; sleep 600" % (env, command)], check=True)

    def keys(self, *keys):
        subprocess.run(["tmux", "send-keys", "-t", self.name] + list(keys), check=True)

    def screen(self):
        return subprocess.run(["tmux", "capture-pane", "-p", "-J", "-S", "-200", "-t", self.name],
                              capture_output=True, text=True).stdout

    def wait(self, regex, timeout=10):
        import re
        found = []
        ok = J.wait_for(lambda: found.append(re.search(regex, self.screen(), re.M)) or found[-1], timeout, 0.1)
        if not ok:
            raise AssertionError("no %r on the terminal:\n%s" % (regex, self.screen()))
        return found[-1]

    def resize(self, cols, rows):
        subprocess.run(["tmux", "resize-window", "-t", self.name, "-x", str(cols), "-y", str(rows)], check=True)

    def close(self):
        subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True)


class Console(unittest.TestCase):
    """jailctl console in a real terminal (tmux): what a person at a keyboard does."""

    @classmethod
    def setUpClass(cls):
        assert ctl("create", "tty1", "--hostname", "tty1.example", "--start").returncode == 0

    @classmethod
    def tearDownClass(cls):
        ctl("destroy", "tty1")

    def setUp(self):
        self.t = Tmux(JAILCTL + " console tty1")
        self.t.wait(r"root@tty1:~# ")

    def tearDown(self):
        self.t.close()

    def test_hostname_id_and_size(self):
        self.t.keys("echo H=$(hostname) U=$(id -u); stty size", "Enter")
        self.t.wait(r"^H=tty1.example U=0")
        self.t.wait(r"^40 120$")
        self.t.resize(100, 30)  # SIGWINCH in jailctl becomes a resize message
        self.t.keys("stty size", "Enter")
        self.t.wait(r"^30 100$")

    def test_ctrl_c_reaches_the_foreground_process(self):
        self.t.keys("sleep 60; echo SLEPT", "Enter")
        import time
        time.sleep(0.5)
        self.t.keys("C-c")
        self.t.keys("echo BACK$((2*3))", "Enter")
        self.t.wait(r"^BACK6", timeout=5)
        self.assertNotRegex(self.t.screen(), r"(?m)^SLEPT")

    def test_detach_works_when_the_shell_asks_the_terminal_where_the_cursor_is(self):
        # a prompt that asks for the cursor position (as busybox ash's line editing
        # does): the terminal's answer arrives as input and must not count as typing
        self.t.keys("PS1=\"$(printf '\\033[6n')Q> \"", "Enter")
        self.t.wait(r"Q> $")
        import time
        self.t.keys("Enter")
        time.sleep(0.5)
        self.t.keys("~.")
        self.t.wait(r"jailctl: detached")
        self.t.wait(r"JAILCTL-RC=0")

    def test_detach_and_reattach_sees_what_happened_meanwhile(self):
        self.t.keys("sleep 1; echo LATER$((7*6))", "Enter")
        self.t.keys("Enter", "~.")
        m = self.t.wait(r"jailctl console tty1 --session ([0-9a-f]{32})")
        self.t.wait(r"JAILCTL-RC=0")
        sid = m.group(1)
        self.t.close()
        self.t = Tmux("%s console tty1 --session %s" % (JAILCTL, sid))
        self.t.wait(r"LATER42")
        self.t.keys("exit", "Enter")
        self.t.wait(r"console closed: the shell exited")
        self.t.wait(r"JAILCTL-RC=0")


class ExecOnATerminal(unittest.TestCase):
    """jailctl exec -t: a command on a terminal in the jail, as top and editors need."""

    @classmethod
    def setUpClass(cls):
        assert ctl("create", "tty2", "--start").returncode == 0

    @classmethod
    def tearDownClass(cls):
        ctl("destroy", "tty2")

    def test_the_command_sees_a_terminal_of_this_size_and_its_exit_code_comes_back(self):
        t = Tmux(JAILCTL + " exec -t tty2 -- sh -c 'tty; stty size; read line; echo GOT=$line; exit 3'", cols=100, rows=30)
        try:
            t.wait(r"^/dev/pts/\d+$")
            t.wait(r"^30 100$")
            t.keys("hello", "Enter")
            t.wait(r"^GOT=hello$")
            t.wait(r"JAILCTL-RC=3")
            self.assertNotIn("jaild-exit", t.screen())
        finally:
            t.close()

    def test_ctrl_c_reaches_the_command_and_a_missing_one_is_127(self):
        t = Tmux(JAILCTL + " exec -t tty2 -- sleep 60")
        try:
            time.sleep(1)
            t.keys("C-c")
            t.wait(r"JAILCTL-RC=130", timeout=10)
        finally:
            t.close()
        t = Tmux(JAILCTL + " exec -t tty2 -- no-such-command")
        try:
            t.wait(r"command not found")
            t.wait(r"JAILCTL-RC=127")
        finally:
            t.close()
        self.assertEqual(J.call("GET", "/api/jails/tty2/console?command=%5B%5D")[0], 400)  # not a WebSocket: checked first


class Progress(unittest.TestCase):
    def test_a_slow_operation_shows_progress_on_a_terminal_only(self):
        # a PID 1 that catches TERM and goes on: the stop takes its whole timeout. Only
        # once the trap is in place: a PID 1 that does not catch TERM (a shell before
        # its trap, or one that ignores it) drops it, and the stop does not wait for it
        spec = {"name": "slowstop", "command": ["/bin/sh", "-c", "trap 'true' TERM; while :; do sleep 1; done"], "stop_timeout": 3}
        st, j, _ = J.call("POST", "/api/jails?start=1", spec)
        self.assertEqual(st, 201, j)

        def trapped(pid):
            with open("/proc/%d/status" % pid) as f:
                cgt = [l.split()[1] for l in f if l.startswith("SigCgt:")][0]
            return (int(cgt, 16) >> (signal.SIGTERM - 1)) & 1

        self.assertTrue(J.wait_for(lambda: trapped(j["pid"]), 5))
        t = Tmux(JAILCTL + " stop slowstop")
        try:
            t.wait(r"POST /api/jails/slowstop/stop \([12]\.\d s\)")
            t.wait(r"JAILCTL-RC=0", timeout=15)
            self.assertNotIn("/stop (", t.screen())  # erased once the answer came
        finally:
            t.close()
        # not a terminal: nothing but the answer
        st, j, _ = J.call("POST", "/api/jails/slowstop/start")
        self.assertTrue(J.wait_for(lambda: trapped(j["pid"]), 5))
        r = ctl("stop", "slowstop")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "")
        ctl("destroy", "slowstop")


class ConsoleNoTerminal(unittest.TestCase):
    def test_piped_input_runs_and_exit_codes(self):
        assert ctl("create", "tty2", "--start").returncode == 0
        try:
            env = dict(os.environ, JAILD_URL="http://127.0.0.1:%d" % J.port, JAILD_TOKEN=J.token, JAILCTL_CONFIG="/nonexistent")
            r = subprocess.run([JAILCTL, "console", "tty2"], input="echo P$((2+3))\n", capture_output=True, text=True,
                               env=env, timeout=30)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("P5", r.stdout)
            self.assertIn("the shell exited", r.stderr)
            r = ctl("console", "nosuch")
            self.assertEqual(r.returncode, 3, r.stderr)
            self.assertIn("no jail named nosuch", r.stderr)
            r = ctl("console", "tty2", token="jd_wrong")
            self.assertEqual(r.returncode, 5, r.stderr)
            r = ctl("console", "tty2", url="http://127.0.0.1:1")
            self.assertEqual(r.returncode, 6, r.stderr)
            r = ctl("console", "tty2", "--session", "f" * 32)
            self.assertEqual(r.returncode, 3, r.stderr)
        finally:
            ctl("destroy", "tty2")


class Verbs(unittest.TestCase):
    def test_lifecycle_and_output(self):
        r = ctl("create", "cli1", "--ip4", "auto", "--limit", "maxproc=64", "--limit", "memoryuse=128M", "--start")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("cli1 created (running)", r.stdout)
        try:
            r = ctl("list")
            self.assertEqual(r.returncode, 0)
            header, *rows = r.stdout.splitlines()
            self.assertEqual(header.split(), ["NAME", "STATE", "JID", "IP", "HOSTNAME", "TEMPLATE"])
            row = [x.split() for x in rows if x.startswith("cli1 ")][0]
            self.assertEqual((row[1], row[4], row[5]), ("running", "cli1", "minimal"))
            self.assertTrue(row[3].startswith("10.91."))
            items = json.loads(ctl("-o", "json", "list").stdout)
            self.assertIn("cli1", [j["name"] for j in items])
            shown = json.loads(ctl("-o", "json", "show", "cli1").stdout)
            self.assertEqual((shown["state"], shown["limits"]), ("running", {"maxproc": 64, "memoryuse": "128M"}))
            self.assertIn("state       running", ctl("show", "cli1").stdout)
            # exec: output through, and the command's exit code is jailctl's
            r = ctl("exec", "cli1", "--", "/bin/sh", "-c", "echo out; echo err >&2; exit 7")
            self.assertEqual((r.returncode, r.stdout, r.stderr), (7, "out\n", "err\n"))
            self.assertEqual(json.loads(ctl("-o", "json", "exec", "cli1", "--", "/bin/true").stdout)["exit_code"], 0)
            self.assertEqual(ctl("wait", "cli1", "--state", "running").returncode, 0)
            r = ctl("wait", "cli1", "--state", "stopped", "--timeout", "0.5")
            self.assertEqual(r.returncode, 1)
            self.assertEqual(ctl("stop", "cli1").stdout, "cli1 stopped\n")
            self.assertEqual(ctl("restart", "cli1").stdout, "cli1 running\n")
        finally:
            self.assertEqual(ctl("destroy", "cli1").returncode, 0)
        self.assertEqual(ctl("show", "cli1").returncode, 3)

    def test_exit_codes(self):
        r = ctl("exec", "nosuch", "--", "/bin/true")
        self.assertEqual(r.returncode, 3)
        self.assertIn("no jail named nosuch", r.stderr)
        self.assertEqual(ctl("list", token="jd_wrong").returncode, 5)
        r = ctl("create", "Bad")
        self.assertEqual(r.returncode, 1)
        self.assertIn("(name)", r.stderr)
        self.assertEqual(ctl("create", "dup").returncode, 0)
        r = ctl("create", "dup")
        self.assertEqual(r.returncode, 4)
        self.assertIn("already exists", r.stderr)
        ctl("destroy", "dup")
        self.assertEqual(ctl("frobnicate").returncode, 2)
        self.assertEqual(ctl("create", "x", "--mount", "nocolon").returncode, 2)
        self.assertEqual(ctl("list", url="http://127.0.0.1:1").returncode, 6)

    def test_apply_converges_and_is_a_no_op_the_second_time(self):
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump({"name": "app", "ip4": ["auto"], "limits": {"maxproc": 32}, "allow": {"sysvipc": True}}, f)
            path = f.name
        try:
            r = ctl("apply", "-f", path, "--start")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("app created (running)", r.stdout)
            before = len(J.call("GET", "/api/audit?limit=1000")[1]["items"])
            r = ctl("apply", "-f", path, "--start")
            self.assertEqual((r.returncode, r.stdout), (0, "app unchanged\n"))
            # nothing was changed: no mutating request reached jaild
            self.assertEqual(len(J.call("GET", "/api/audit?limit=1000")[1]["items"]), before)
            with open(path, "w") as f:
                json.dump({"name": "app", "ip4": ["auto"], "limits": {"maxproc": 16}, "allow": {"sysvipc": True}}, f)
            r = ctl("apply", "-f", path)
            self.assertEqual((r.returncode, r.stdout), (0, "app changed (1 fields)\n"), r.stderr)
            self.assertEqual(J.call("GET", "/api/jails/app")[1]["limits"]["maxproc"], 16)
            self.assertEqual(ctl("apply", "-f", path).stdout, "app unchanged\n")
            self.assertEqual(ctl("apply", "-f", "/nonexistent.json").returncode, 2)
        finally:
            ctl("destroy", "app")
            os.unlink(path)

    def test_admin_verbs(self):
        self.assertEqual(ctl("tenant", "create", "clicorp").returncode, 0)
        self.assertIn("clicorp", [t["name"] for t in json.loads(ctl("tenant", "list").stdout)["items"]])
        tok = json.loads(ctl("token", "create", "clicorp", "ci", "--role", "tenant").stdout)
        self.assertTrue(tok["secret"].startswith("jd_"))
        self.assertEqual(ctl("list", token=tok["secret"]).returncode, 0)
        self.assertEqual(ctl("tenant", "list", token=tok["secret"]).returncode, 3)  # 404 for tenants
        self.assertEqual(ctl("token", "revoke", "clicorp", str(tok["id"])).returncode, 0)
        self.assertEqual(ctl("list", token=tok["secret"]).returncode, 5)
        self.assertEqual(ctl("tenant", "delete", "clicorp").returncode, 0)



class Words(unittest.TestCase):
    """What people script: flags after the verb, bare command names, piped input, clear
    errors for unknown verbs, --version."""

    def test_flags_anywhere_bare_names_and_piped_input(self):
        self.assertEqual(ctl("create", "words", "--start").returncode, 0)
        try:
            r = ctl("list", "-o", "json")
            self.assertEqual(r.returncode, 0, r.stderr)
            listed = json.loads(r.stdout)
            self.assertIn("words", [j["name"] for j in (listed["items"] if isinstance(listed, dict) else listed)])
            r = ctl("exec", "words", "--", "hostname")  # looked up on the jail's PATH
            self.assertEqual((r.returncode, r.stdout), (0, "words\n"), r.stderr)
            env = dict(os.environ, JAILD_URL="http://127.0.0.1:%d" % J.port, JAILD_TOKEN=J.token,
                       JAILCTL_CONFIG="/nonexistent")
            r = subprocess.run([JAILCTL, "exec", "words", "--", "/bin/cat"], input="piped in\n", capture_output=True,
                               text=True, env=env, timeout=60)
            self.assertEqual((r.returncode, r.stdout), (0, "piped in\n"), r.stderr)
            r = ctl("exec", "words", "-o", "json", "--", "/bin/sh", "-c", "exit 3")
            self.assertEqual((r.returncode, json.loads(r.stdout)["exit_code"]), (3, 3), r)
        finally:
            ctl("destroy", "words")

    def test_snapshots_export_import_and_the_read_verbs(self):
        self.assertEqual(ctl("create", "kept", "--start").returncode, 0)
        work = tempfile.mkdtemp()
        try:
            self.assertEqual(ctl("exec", "kept", "--", "/bin/sh", "-c", "echo v1 > /root/f").returncode, 0)
            self.assertEqual(ctl("snapshot", "create", "kept", "s1").returncode, 0)
            ctl("exec", "kept", "--", "/bin/sh", "-c", "echo v2 > /root/f")
            self.assertEqual(ctl("snapshot", "restore", "kept", "s1").returncode, 0)
            self.assertEqual(ctl("exec", "kept", "--", "cat", "/root/f").stdout, "v1\n")
            listed = json.loads(ctl("snapshot", "list", "kept").stdout)
            self.assertEqual([x["name"] for x in listed["items"]], ["s1"])
            tar = os.path.join(work, "kept.tar")
            self.assertEqual(ctl("export", "kept", tar).returncode, 0)
            r = ctl("import", tar, "--name", "kept2", "--start")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(ctl("exec", "kept2", "--", "cat", "/root/f").stdout, "v1\n")
            # an error is not saved as a tarball
            r = ctl("export", "nosuch", os.path.join(work, "nosuch.tar"))
            self.assertEqual(r.returncode, 3)
            self.assertFalse(os.path.exists(os.path.join(work, "nosuch.tar")))
            for verb in (["host"], ["templates"], ["audit", "--limit", "3"], ["consoles", "--jail", "kept"]):
                r = ctl(*verb)
                self.assertEqual(r.returncode, 0, (verb, r.stderr))
                json.loads(r.stdout)
            self.assertEqual(ctl("snapshot", "delete", "kept", "s1").returncode, 0)
        finally:
            ctl("destroy", "kept")
            ctl("destroy", "kept2")
            subprocess.run(["rm", "-rf", work])

    def test_events_as_json_lines(self):
        self.assertEqual(ctl("create", "evt").returncode, 0)
        try:
            env = dict(os.environ, JAILD_URL="http://127.0.0.1:%d" % J.port, JAILD_TOKEN=J.token, JAILCTL_CONFIG="/nonexistent")
            p = subprocess.Popen([JAILCTL, "events", "--since", "0"], stdout=subprocess.PIPE, text=True, env=env)
            import time
            time.sleep(1.5)
            p.terminate()
            lines = [json.loads(l) for l in p.communicate(timeout=10)[0].splitlines()]
            self.assertIn(("jail.created", "evt"), [(e["type"], e.get("name")) for e in lines])
        finally:
            ctl("destroy", "evt")

    def test_logs_and_follow(self):
        st, j, _ = J.call("POST", "/api/jails?start=1", {"name": "chatty", "command": ["/bin/sh", "-c", "echo a; echo b; sleep 1; echo c; sleep 60"]})
        self.assertEqual(st, 201, j)
        try:
            self.assertTrue(J.wait_for(lambda: ctl("logs", "chatty").stdout == "a\nb\n", 10))
            self.assertEqual(ctl("logs", "chatty", "--tail", "1").stdout, "b\n")
            env = dict(os.environ, JAILD_URL="http://127.0.0.1:%d" % J.port, JAILD_TOKEN=J.token, JAILCTL_CONFIG="/nonexistent")
            p = subprocess.Popen([JAILCTL, "logs", "-f", "chatty"], stdout=subprocess.PIPE, text=True, env=env)
            self.assertEqual([p.stdout.readline() for _ in range(3)], ["a\n", "b\n", "c\n"])
            J.call("POST", "/api/jails/chatty/stop")  # the follow ends with the jail
            self.assertEqual(p.wait(timeout=15), 0)
            r = ctl("logs", "nosuch")
            self.assertEqual(r.returncode, 3, r)  # not found
        finally:
            J.call("DELETE", "/api/jails/chatty")

    def test_top_orders_running_jails_by_cpu(self):
        burner = {"name": "burner", "command": ["/bin/sh", "-c", "while :; do :; done"], "stop_timeout": 1}
        for spec in (burner, {"name": "idler"}):
            st, j, _ = J.call("POST", "/api/jails?start=1", spec)
            self.assertEqual(st, 201, j)
        try:
            time.sleep(1)
            r = ctl("top", "--interval", "1", "-n", "2")
            self.assertEqual(r.returncode, 0, r)
            frames = r.stdout.strip().split("\n\n")
            self.assertEqual(len(frames), 2, r.stdout)
            header, *rows = frames[1].splitlines()
            self.assertEqual(header.split(), ["NAME", "TENANT", "CPU%", "MEMORY", "PROCS"])
            names = [x.split()[0] for x in rows]
            self.assertLess(names.index("burner"), names.index("idler"))  # the busy one first
            cpu = float([x.split() for x in rows if x.startswith("burner ")][0][2])
            self.assertGreater(cpu, 20)
            self.assertEqual(ctl("top", "-n", "0").returncode, 2)  # usage
        finally:
            J.call("DELETE", "/api/jails/burner")
            J.call("DELETE", "/api/jails/idler")

    def test_template_upload_and_delete(self):
        work = tempfile.mkdtemp()
        try:
            subprocess.run("mkdir -p %s/root/bin && cp /bin/busybox %s/root/bin/ && ln -s busybox %s/root/bin/sh && "
                           "tar -C %s/root -czf %s/t.tar.gz ." % ((work,) * 5), shell=True, check=True)
            r = ctl("template", "upload", "fromctl", os.path.join(work, "t.tar.gz"))
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("fromctl", [t["name"] for t in json.loads(ctl("templates").stdout)["items"]])
            self.assertEqual(ctl("template", "delete", "fromctl").returncode, 0)
        finally:
            subprocess.run(["rm", "-rf", work])

    def test_version_and_unknown_verbs(self):
        r = ctl("--version")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^jailctl \d+\.\d+")
        r = ctl("frobnicate")
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown verb 'frobnicate'", r.stderr)

if __name__ == "__main__":
    run(__name__)
