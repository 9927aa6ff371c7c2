"""A real jaild (supervisor, unprivileged server, privileged helper) on a fresh data
dir, driven over HTTP. Shared by the integration suites; standard library only."""
import glob
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

BUILD = os.environ.get("JAILD_BUILD", os.path.join(os.path.dirname(__file__), "..", "..", "build"))
JAILD = os.path.join(BUILD, "server", "jaild")


# The suites' own address pools and uid range, apart from a jaild with default settings
# (10.77.0.0/16, fd77::/64, uids from 1000000) that may run on the same machine.
POOL4, POOL6, UID_BASE = "10.91.0.0/16", "fd91::/64", "300000000"
NET4 = "10.91."


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def jail_cgroups(name, file=None, tag="*"):
    """The jail's cgroup directories (or a file in them): one per v1 controller, or the
    v2 group at the root or under a delegated group (a systemd unit or scope). tag: the
    jaild instance's (Jaild.cgroups passes its own), so that jails another run left
    behind are never taken for this one's."""
    tail = "jaild-%s/%s%s" % (tag, name, "/" + file if file else "")
    return sorted(set(glob.glob("/sys/fs/cgroup/*/" + tail) + glob.glob("/sys/fs/cgroup/" + tail) +
                      glob.glob("/sys/fs/cgroup/**/" + tail, recursive=True)))


class DelegatedGroup:
    """Under systemd, jails need a cgroup delegated to jaild that outlives any one jaild
    (a restart adopts its jails), as jaild-jails.service is for the shipped units: here a
    transient scope with Delegate=yes held open by a sleep, named with --cgroup-parent."""

    def __init__(self):
        self.holder = subprocess.Popen(["systemd-run", "--scope", "--quiet", "--collect", "-p", "Delegate=yes",
                                        "sleep", "infinity"])
        self.path = None
        deadline = time.time() + 10
        while time.time() < deadline and not self.path:
            with open("/proc/%d/cgroup" % self.holder.pid) as f:
                p = f.read().strip().split("::", 1)[-1]
            if p.endswith(".scope"):
                self.path = p
            else:
                time.sleep(0.05)
        if not self.path:
            raise RuntimeError("systemd-run did not make a scope")

    def close(self):
        self.holder.kill()
        self.holder.wait()


def systemd_host():
    return os.path.isdir("/run/systemd/system")


class Jaild:
    def __init__(self, listen_host="127.0.0.1", extra=(), tls_ca=None, store=None, token=None):
        self.dir = tempfile.mkdtemp(prefix="jaild-it-", dir="/var/tmp")
        os.chmod(self.dir, 0o755)
        self.data = os.path.join(self.dir, "data")
        self.port = free_port()
        self.listen_host = listen_host
        self.extra = list(extra)
        self.proc = None
        self.log = open(os.path.join(self.dir, "jaild.log"), "ab")
        self.token = token  # a host joining a store that has tokens gets no admin.token of its own
        self.tls_ca = tls_ca  # a CA file: talk HTTPS and verify the server against it
        self.group = None  # under systemd: the delegated group jails live in
        # on PostgreSQL (tests/pg/with-postgres.sh names it): a database of its own,
        # which lives as long as this instance's data dir
        self.store = store  # a store given is shared (a cluster's): never made or dropped here
        base = os.environ.get("JAILD_TEST_STORE")
        if base and not store:
            db = os.path.basename(self.dir).replace("-", "_").lower()
            subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", base, "-c", "CREATE DATABASE %s" % db],
                           check=True, capture_output=True)
            self.store = re.sub(r"/jaild\?", "/%s?" % db, base, count=1)
            self.store_db, self.store_base = db, base

    def start(self):
        cmd = [JAILD, "--data-dir", self.data, "--listen", "%s:%d" % (self.listen_host, self.port),
               "--pool4", POOL4, "--pool6", POOL6, "--uid-base", UID_BASE] + self.extra
        if self.store:
            cmd += ["--store", self.store]
        if not any(a == "--uplink" or a.startswith("--uplink=") for a in self.extra):
            # the machine's real network is never touched: jails reach the host only,
            # unless a suite (test_network) gives an uplink in namespaces of its own
            cmd += ["--uplink", "none"]
        if systemd_host():
            self.group = self.group or DelegatedGroup()
            cmd += ["--cgroup-parent", self.group.path]
        self.launch(cmd)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                st, body, _ = self.call("GET", "/api/health", token=False)
                if st == 200 and "helper" not in body:
                    break
            except OSError:
                pass
            time.sleep(0.05)
        else:
            raise RuntimeError("jaild did not come up; log: " + self.logtext())
        if not (self.token and not os.path.exists(os.path.join(self.data, "admin.token"))):
            with open(os.path.join(self.data, "admin.token")) as f:
                self.token = f.read().strip()
        # the first reconcile makes the minimal template; wait until a create can use it
        self.wait_for(lambda: self.helper_ready(), 20)
        return self

    def launch(self, cmd):
        """Runs jaild's command line; sets self.proc (pid, poll, send_signal, wait, kill)."""
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=self.log)

    def helper_ready(self):
        st, body, _ = self.call("POST", "/api/jails", {"name": "probe-ready", "template": "minimal"})
        if st == 201:
            self.call("DELETE", "/api/jails/probe-ready")
            return True
        return False

    def store_bytes(self):
        """Everything the store holds, as bytes: the SQLite files, or a dump of its
        PostgreSQL database (what must never be there in clear is looked for in it)."""
        if self.store:
            return subprocess.run(["pg_dump", "--data-only", self.store], check=True, capture_output=True).stdout
        out = b""
        for f in sorted(os.listdir(self.data)):
            if f.startswith("jaild.db"):
                with open(os.path.join(self.data, f), "rb") as fh:
                    out += fh.read()
        return out

    def cgroups(self, name, file=None):
        """jail_cgroups of this instance's jail"""
        return jail_cgroups(name, file, self.tag())

    def tag(self):
        """This instance's four hex digits: its cgroups are jaild-TAG, its interfaces jdTAG-SLOT."""
        m = re.search(r"interfaces jd([0-9a-f]{4})-SLOT", self.logtext(tail=10 ** 6))
        return m.group(1) if m else "????"

    def logtext(self, tail=4000):
        if not self.log.closed:
            self.log.flush()
        with open(os.path.join(self.dir, "jaild.log"), "rb") as f:
            return f.read().decode(errors="replace")[-tail:]

    def pids(self):
        """supervisor, server, helper"""
        sup = self.proc.pid
        kids = subprocess.run(["ps", "-o", "pid=,args=", "--ppid", str(sup)], capture_output=True, text=True).stdout
        server = helper = None
        for line in kids.splitlines():
            pid, args = line.strip().split(None, 1)
            if "jaild-priv" in args:
                helper = int(pid)
            elif "jaild" in args:
                server = int(pid)
        return sup, server, helper

    def stop(self, destroy_jails=True):
        if self.proc and self.proc.poll() is None and destroy_jails and self.token:
            # jails outlive jaild by design: a test leaves none behind
            while True:
                st, body, _ = self.call("GET", "/api/jails?limit=1000")
                items = body.get("items", []) if st == 200 else []
                for j in items:
                    self.call("DELETE", "/api/jails/" + j["name"])
                if not items or st != 200:
                    break
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def finish(self):
        """stop() and cleanup(): the end of a module's shared instance."""
        self.stop()
        self.cleanup()

    def tenant_token(self, name):
        """A tenant named name (made if new) and a fresh token of it."""
        self.call("POST", "/api/tenants", {"name": name})
        return self.call("POST", "/api/tenants/%s/tokens" % name, {"name": "t"})[1]["secret"]

    def cleanup(self):
        # sanitizer reports from the daemons (server, helper, workers) fail the suite
        log = self.logtext(tail=10 ** 7)
        if self.group:
            self.group.close()
        bad = [m for m in ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer") if m in log]
        # with no jail left, nothing of jaild's network stays either (its nftables table)
        tag = re.search(r"interfaces jd([0-9a-f]{4})-SLOT", log)
        left = tag and self.proc and self.proc.poll() is not None and subprocess.run(
            ["nft", "list", "table", "inet", "jaild_" + tag.group(1)], capture_output=True).returncode == 0
        if self.store and getattr(self, "store_db", None):
            subprocess.run(["psql", "-q", self.store_base, "-c", "DROP DATABASE IF EXISTS %s WITH (FORCE)" % self.store_db],
                           capture_output=True)
        # the helper's last workers may still be finishing (a destroy's rm): try again
        for _ in range(10):
            shutil.rmtree(self.dir, ignore_errors=True)
            if not os.path.exists(self.dir):
                break
            time.sleep(0.3)
        # this instance's (now empty) parent cgroups: a test data dir does not come back
        # (a jail's own group may take a moment to go after its last process: try again)
        for tag in set(re.findall(r"under (jaild-[0-9a-f]{4})", log)):
            for d in glob.glob("/sys/fs/cgroup/*/%s" % tag) + glob.glob("/sys/fs/cgroup/%s" % tag):
                for _ in range(20):
                    try:
                        os.rmdir(d)
                        break
                    except FileNotFoundError:
                        break
                    except OSError:
                        time.sleep(0.1)
        if left:
            subprocess.run(["nft", "delete", "table", "inet", "jaild_" + tag.group(1)], capture_output=True)
            raise AssertionError("jaild left its nftables table jaild_%s behind with no jail running (it ended with %s); "
                                 "the end of its log:\n%s" % (tag.group(1), self.proc.returncode, log[-3000:]))
        if bad:
            at = min(log.find(m) for m in bad if m in log)
            raise AssertionError("sanitizer reports in jaild's log: %s\n%s" % (bad, log[max(0, at - 300):at + 2700]))

    def call(self, method, path, body=None, token=True, headers=None, raw=None):
        url = "%s://127.0.0.1:%d%s" % ("https" if self.tls_ca else "http", self.port, path)
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(url, data=data, method=method)
        if token:
            req.add_header("Authorization", "Bearer " + (token if isinstance(token, str) else self.token))
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            ctx = None
            if self.tls_ca:
                import ssl
                ctx = ssl.create_default_context(cafile=self.tls_ca)
            with urllib.request.urlopen(req, timeout=120, context=ctx) as r:
                text = r.read().decode()
                return r.status, (json.loads(text) if text else None), dict(r.headers)
        except urllib.error.HTTPError as e:
            text = e.read().decode()
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = {"raw": text}
            return e.code, parsed, dict(e.headers)

    def get_text(self, path, token=True, headers=None):
        """GET a body that is not one JSON document (a recording, CSV): status, text, headers."""
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.port, path))
        if token:
            req.add_header("Authorization", "Bearer " + (token if isinstance(token, str) else self.token))
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.status, r.read().decode(), dict(r.headers)
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(), dict(e.headers)

    def console(self, jail, token=None, query="", origin=None):
        """A WebSocket to the jail's console: a connected WsClient, or the refusal."""
        ws = WsClient()
        r = ws.open("ws://127.0.0.1:%d/api/jails/%s/console%s" % (self.port, jail, query), token or self.token, origin)
        return ws, r

    def exec(self, name, command, stdin=None, timeout=30):
        body = {"command": ["/bin/sh", "-c", command] if isinstance(command, str) else command, "timeout": timeout}
        if stdin is not None:
            body["stdin"] = stdin
        st, r, _ = self.call("POST", "/api/jails/%s/exec" % name, body)
        if st != 200:
            raise AssertionError("exec %r: %d %r" % (command, st, r))
        return r

    @staticmethod
    def wait_for(pred, timeout, step=0.05):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if pred():
                return True
            time.sleep(step)
        return False


WSCLIENT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "wsclient", "wsclient.mjs")


class WsClient:
    """A console WebSocket driven through wsclient.mjs, which is Node's `ws` package:
    an independent implementation of RFC 6455, not jaild's own code."""

    def __init__(self):
        self.p = subprocess.Popen(["node", WSCLIENT], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def cmd(self, **c):
        self.p.stdin.write(json.dumps(c) + "\n")
        self.p.stdin.flush()
        line = self.p.stdout.readline()
        if not line:
            raise AssertionError("wsclient.mjs exited (is `npm ci` done in tests/integration/wsclient?)")
        return json.loads(line)

    def open(self, url, token, origin=None):
        c = {"op": "open", "url": url, "token": token}
        if origin:
            c["origin"] = origin
        return self.cmd(**c)

    def type(self, text):
        return self.cmd(op="send", data=text)

    def control(self, msg):
        return self.cmd(op="control", data=msg)

    def expect(self, regex, timeout=10):
        r = self.cmd(op="expect", re=regex, timeout=timeout)
        if not r["ok"]:
            raise AssertionError("no %r in the console's output; it showed: %r (closed: %r)" % (regex, r.get("out"), r.get("closed")))
        return r

    def expect_text(self, type_, timeout=10):
        r = self.cmd(op="expect_text", type=type_, timeout=timeout)
        if not r["ok"]:
            raise AssertionError("no %r control message; got %r (closed: %r)" % (type_, r.get("texts"), r.get("closed")))
        return r["message"]

    def finish(self):
        try:
            self.p.stdin.close()
        except OSError:
            pass
        try:
            self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()


class EventStream:
    """A real SSE client: GET /api/events of a Jaild j, parsed frame by frame."""
    def __init__(self, j, token, last_id=None, since=None, timeout=15):
        import http.client
        self.conn = http.client.HTTPConnection("127.0.0.1", j.port, timeout=timeout)
        headers = {"Authorization": "Bearer " + token}
        if last_id is not None:
            headers["Last-Event-ID"] = str(last_id)
        self.conn.request("GET", "/api/events" + ("?since=%s" % since if since is not None else ""), headers=headers)
        self.resp = self.conn.getresponse()

    def next(self):
        """The next event as (id, type, data); comments and retry lines are skipped."""
        fields = {}
        while True:
            line = self.resp.readline().decode()
            if line == "":
                raise EOFError("stream ended")
            line = line.rstrip("\n")
            if line == "":
                if "data" in fields:
                    return int(fields["id"]), fields["event"], json.loads(fields["data"])
                fields = {}
                continue
            if line.startswith(":"):
                continue
            k, _, v = line.partition(": ")
            fields[k] = v

    def close(self):
        self.conn.close()


def require_root():
    if os.geteuid() != 0:
        # in CI a suite that cannot run has not passed
        if os.environ.get("CI") == "true":
            print("integration tests need root (they make real namespaces); CI=true, so that is a failure")
            sys.exit(1)
        print("integration tests need root (they make real namespaces); skipped")
        sys.exit(77)
    if not os.path.exists(JAILD):
        print("no jaild binary at %s; set JAILD_BUILD" % JAILD)
        sys.exit(1)


def run(module_name):
    require_root()
    result = unittest.main(module=module_name, exit=False, verbosity=2).result
    failed = len(result.failures) + len(result.errors)
    print("%d passed, %d failed" % (result.testsRun - failed, failed))
    sys.exit(1 if failed else 0)
