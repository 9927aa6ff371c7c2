"""Consoles: a root shell in a jail over WebSocket, driven by Node's `ws` package (an
independent client): the jail's answers, resize, signals, re-attach after a dropped
socket, the recording, the audit entry, the limits, and who may see what."""
import json
import time
import unittest
import urllib.parse

from jaildtest import Jaild, run

J = None
ACME = None


def setUpModule():
    global J, ACME
    J = Jaild().start()
    st, body, _ = J.call("POST", "/api/jails?start=1", {"name": "con1", "hostname": "con1.example"})
    assert st == 201, body
    ACME = J.tenant_token("acme")


def tearDownModule():
    J.finish()


class Shell(unittest.TestCase):
    def setUp(self):
        self.ws, r = J.console("con1", query="?cols=100&rows=30")
        self.assertTrue(r["ok"], r)
        self.session = self.ws.expect_text("session")
        self.ws.expect(r"root@con1:~# ")

    def tearDown(self):
        self.ws.finish()
        J.call("DELETE", "/api/consoles/" + self.session["id"])

    def test_the_shell_is_jail_root_in_the_jail(self):
        self.ws.type("echo H=$(hostname) U=$(id -u) T=$(tty) P1=$(cat /proc/1/cmdline | tr '\\0' _) N=$(ls /proc | grep -c '^[0-9]')\n")
        got = self.ws.expect(r"H=(\S+) U=(\d+) T=(\S+) P1=(\S+) N=(\d+)")["groups"]
        self.assertEqual(got[0], "con1.example")
        self.assertEqual(got[1], "0")                         # root, in the jail's user namespace
        self.assertTrue(got[2].startswith("/dev/pts/"), got)  # a terminal of the jail's own devpts
        self.assertEqual(got[3], "/bin/sh_/etc/rc_")           # PID 1 is the jail's, not the host's init
        self.assertLess(int(got[4]), 20)                      # only the jail's processes are visible

    def test_a_flood_of_output_is_read_at_a_terminal_pace(self):
        # the attack: a shell writing lines as fast as it can (each wakes a kernel worker
        # of the pty's, which no cgroup limit holds); 3 MB at 512 KiB a second is six
        # seconds' budgets: past four seconds however the flood falls on the ticks
        self.ws.type("S=$(date +%s); head -c 3000000 /dev/zero | tr '\\0' x | fold -w 75; echo ELAPSED=$(( $(date +%s) - S ))\n")
        got = self.ws.expect(r"ELAPSED=(\d+)", timeout=30)["groups"]
        self.assertGreaterEqual(int(got[0]), 4, got)
        self.assertLessEqual(int(got[0]), 12, got)

    def test_the_environment_is_clean_with_term_set(self):
        self.ws.type("echo TERM=$TERM HOME=$HOME X=${JAILD_SECRET:-none}\n")
        got = self.ws.expect(r"TERM=([^$\s]+) HOME=([^$\s]+) X=([^$\s]+)")["groups"]
        self.assertEqual(got, ["xterm-256color", "/root", "none"])

    def test_initial_size_and_resize_reach_the_terminal(self):
        self.ws.type("stty size\n")
        self.ws.expect(r"^30 100\r?$")
        self.ws.control({"type": "resize", "cols": 132, "rows": 43})
        self.ws.type("stty size\n")
        self.ws.expect(r"^43 132\r?$")

    def test_signal_message_interrupts_the_foreground_process(self):
        self.ws.type("sleep 30\n")
        time.sleep(0.5)
        t0 = time.time()
        self.ws.control({"type": "signal", "signal": "INT"})
        self.ws.type("echo AFTER$((1+1))\n")
        self.ws.expect(r"AFTER2", timeout=10)
        self.assertLess(time.time() - t0, 10)

    def test_ctrl_c_typed_reaches_the_foreground_process(self):
        self.ws.type("sleep 30\n")
        time.sleep(0.5)
        t0 = time.time()
        self.ws.type("\x03")
        self.ws.type("echo AFTER$((2+2))\n")
        self.ws.expect(r"AFTER4", timeout=10)
        self.assertLess(time.time() - t0, 10)

    def test_bad_control_messages_get_an_error_and_the_session_goes_on(self):
        for msg in ({"type": "resize", "cols": 0, "rows": 5}, {"type": "resize", "cols": "80", "rows": 24},
                    {"type": "signal", "signal": "SEGV"}, {"type": "reboot"}, {"no": "type"}):
            self.ws.control(msg)
            err = self.ws.expect_text("error")
            self.assertTrue(err["message"], err)
        self.ws.cmd(op="send", data="")
        self.ws.type("echo STILL$((1+2))\n")
        self.ws.expect("STILL3")

    def test_reattach_after_a_dropped_socket_shows_output_made_meanwhile(self):
        sid = self.session["id"]
        self.ws.type("sleep 1; echo LATE$((3*3))\n")
        self.ws.expect(r"sleep 1")  # the echo of what was typed: the shell has it
        self.ws.cmd(op="drop")
        self.ws.finish()
        time.sleep(2)
        st, c, _ = J.call("GET", "/api/consoles/" + sid)
        self.assertEqual((st, c["live"]), (200, True), c)
        self.ws, r = J.console("con1", query="?session=" + sid)
        self.assertTrue(r["ok"], r)
        self.assertEqual(self.ws.expect_text("session")["id"], sid)
        self.ws.expect(r"LATE9")
        self.ws.type("echo BACK$((4+4))\n")
        self.ws.expect(r"BACK8")

    def test_a_second_attach_takes_the_session_over(self):
        sid = self.session["id"]
        ws2, r = J.console("con1", query="?session=" + sid)
        try:
            self.assertTrue(r["ok"], r)
            ws2.expect_text("session")
            self.assertIn("another connection", self.ws.expect_text("detached")["reason"])
            closed = self.ws.cmd(op="wait_close", timeout=5)
            self.assertEqual(closed.get("code"), 4001, closed)
            ws2.type("echo TWO$((1+1))\n")
            ws2.expect("TWO2")
        finally:
            ws2.finish()

    def test_recording_replays_what_was_typed_and_shown(self):
        sid = self.session["id"]
        self.ws.control({"type": "resize", "cols": 90, "rows": 20})
        self.ws.type("echo REC$((5*5))\n")
        self.ws.expect("REC25")
        self.ws.type("exit\n")
        ex = self.ws.expect_text("exit")
        self.assertEqual(ex["reason"], "the shell exited")
        st, text, h = J.get_text(self.session["recording"])
        self.assertEqual(st, 200, text)
        self.assertEqual(h["Content-Type"], "application/x-asciicast")
        lines = text.splitlines()
        header = json.loads(lines[0])
        self.assertEqual((header["version"], header["width"], header["height"]), (2, 100, 30), header)
        events = [json.loads(x) for x in lines[1:]]
        times = [e[0] for e in events]
        self.assertEqual(times, sorted(times))
        shown = "".join(e[2] for e in events if e[1] == "o")
        self.assertIn("echo REC$((5*5))", shown)  # the typed command, as echoed
        self.assertIn("REC25", shown)             # and its output
        self.assertIn([ "r", "90x20"], [e[1:] for e in events])
        st, c, _ = J.call("GET", "/api/consoles/" + sid)
        self.assertEqual((c["live"], c["end_reason"]), (False, "the shell exited"), c)
        self.assertGreater(c["bytes_out"], 0)

    def test_the_audit_entry_links_the_recording(self):
        q = urllib.parse.quote("GET /api/jails/*/console")
        st, body, _ = J.call("GET", "/api/audit?action=" + q)
        self.assertEqual(st, 200, body)
        mine = [a for a in body["items"] if a.get("recording") == self.session["recording"]]
        self.assertEqual(len(mine), 1, body["items"][:3])
        self.assertEqual((mine[0]["status"], mine[0]["target"]), (101, "/api/jails/con1/console"))

    def test_delete_hangs_the_session_up(self):
        sid = self.session["id"]
        st, _, _ = J.call("DELETE", "/api/consoles/" + sid)
        self.assertEqual(st, 204)
        self.assertIn("ended through the API", self.ws.expect_text("exit")["reason"])
        self.assertEqual(self.ws.cmd(op="wait_close", timeout=5).get("code"), 1000)
        st, body, _ = J.call("DELETE", "/api/consoles/" + sid)
        self.assertEqual(st, 409, body)
        ws2, r = J.console("con1", query="?session=" + sid)
        ws2.finish()
        self.assertEqual(r.get("status"), 404, r)


class QuickCommands(unittest.TestCase):
    def test_a_command_that_ends_before_its_socket_attaches_still_shows_its_output_and_code(self):
        """exec -t of a command that ends at once (a missing one: 127) races the socket's
        arrival after the handshake; the first socket must get all of it either way."""
        command = urllib.parse.quote(json.dumps(["/bin/sh", "-c", "echo QUICK$((40+2)); exit 3"]))
        for i in range(20):
            ws, r = J.console("con1", query="?command=" + command)
            try:
                self.assertTrue(r["ok"], r)
                ws.expect(r"QUICK42")
                self.assertEqual(ws.expect_text("exit")["code"], 3, i)
            finally:
                ws.finish()


class Handshake(unittest.TestCase):
    def test_a_plain_get_is_told_to_use_a_websocket(self):
        st, body, _ = J.call("GET", "/api/jails/con1/console")
        self.assertEqual(st, 400, body)
        self.assertIn("WebSocket", body["error"]["message"])

    def test_a_page_from_another_origin_is_refused(self):
        ws, r = J.console("con1", origin="https://evil.example")
        ws.finish()
        self.assertEqual(r.get("status"), 403, r)

    def test_bad_size_unknown_session_and_missing_jail(self):
        for query, status in (("?cols=0", 422), ("?rows=5000", 422), ("?cols=abc", 422),
                              ("?session=" + "0" * 32, 404), ("?session=../../x", 404)):
            ws, r = J.console("con1", query=query)
            ws.finish()
            self.assertEqual(r.get("status"), status, (query, r))
        ws, r = J.console("nosuchjail")
        ws.finish()
        self.assertEqual(r.get("status"), 404, r)

    def test_a_stopped_jail_has_no_console(self):
        J.call("POST", "/api/jails", {"name": "con-off"})
        try:
            ws, r = J.console("con-off")
            ws.finish()
            self.assertEqual(r.get("status"), 409, r)
            self.assertIn("not running", r["body"])
        finally:
            J.call("DELETE", "/api/jails/con-off")

    def test_another_tenant_sees_neither_console_nor_recording(self):
        ws, r = J.console("con1")
        sid = ws.expect_text("session")["id"]
        try:
            ws2, r2 = J.console("con1", token=ACME)
            ws2.finish()
            self.assertEqual(r2.get("status"), 404, r2)
            ws2, r2 = J.console("con1", token=ACME, query="?session=" + sid)
            ws2.finish()
            self.assertEqual(r2.get("status"), 404, r2)
            for path in ("/api/consoles/" + sid, "/api/consoles/%s/recording" % sid):
                self.assertEqual(J.call("GET", path, token=ACME)[0], 404, path)
            self.assertEqual(J.call("DELETE", "/api/consoles/" + sid, token=ACME)[0], 404)
            st, body, _ = J.call("GET", "/api/consoles", token=ACME)
            self.assertEqual((st, body["items"]), (200, []))
            st, body, _ = J.call("GET", "/api/consoles?jail=con1")
            self.assertIn(sid, [c["id"] for c in body["items"]])
        finally:
            ws.finish()
            J.call("DELETE", "/api/consoles/" + sid)


class Lifecycle(unittest.TestCase):
    """Its own jaild: a small cap, a one-second grace, a ten-second idle timeout."""

    @classmethod
    def setUpClass(cls):
        cls.j = Jaild(extra=["--console-max-per-tenant", "2", "--console-grace", "1", "--console-idle", "10"]).start()
        st, body, _ = cls.j.call("POST", "/api/jails?start=1", {"name": "life"})
        assert st == 201, body

    @classmethod
    def tearDownClass(cls):
        cls.j.stop()
        cls.j.cleanup()

    def open(self):
        ws, r = self.j.console("life")
        self.assertTrue(r["ok"], r)
        return ws, ws.expect_text("session")["id"]

    def test_stopping_the_jail_closes_its_sessions_cleanly(self):
        ws, sid = self.open()
        try:
            st, body, _ = self.j.call("POST", "/api/jails/life/stop")
            self.assertEqual(st, 200, body)
            self.assertIn("stopping", ws.expect_text("exit")["reason"])
            self.assertEqual(ws.cmd(op="wait_close", timeout=5).get("code"), 1000)
            st, c, _ = self.j.call("GET", "/api/consoles/" + sid)
            self.assertFalse(c["live"], c)
        finally:
            ws.finish()
            self.j.call("POST", "/api/jails/life/start")

    def test_the_tenant_cap_refuses_one_more(self):
        a, sa = self.open()
        b, sb = self.open()
        try:
            c, r = self.j.console("life")
            c.finish()
            self.assertEqual(r.get("status"), 403, r)
            self.assertEqual(json.loads(r["body"])["error"]["code"], "quota_exceeded")
        finally:
            for ws, sid in ((a, sa), (b, sb)):
                ws.finish()
                self.j.call("DELETE", "/api/consoles/" + sid)

    def test_a_detached_session_ends_after_the_grace_period(self):
        ws, sid = self.open()
        ws.cmd(op="drop")
        ws.finish()
        self.assertTrue(self.j.wait_for(lambda: not self.j.call("GET", "/api/consoles/" + sid)[1]["live"], 10))
        st, c, _ = self.j.call("GET", "/api/consoles/" + sid)
        self.assertIn("grace", c["end_reason"])

    def test_an_idle_session_ends(self):
        ws, sid = self.open()
        try:
            self.assertIn("idle", ws.expect_text("exit", timeout=25)["reason"])
        finally:
            ws.finish()


if __name__ == "__main__":
    run(__name__)
