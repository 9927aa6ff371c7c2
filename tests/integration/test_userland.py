"""Real userlands (issue 13): a Debian bookworm template built from Debian's archive
through the API, as an operation whose progress arrives in order and whose cancel
leaves nothing; a jail from it that boots the template's init; and apt in such a jail
against a local repository in the network suite's "world" namespace, installing nginx,
which runs under the jail's init and answers through a port forward, also after a
restart.

The build reaches Debian's archive the way deploy/deps.sh does (it runs before this
process enters the namespaces). The local repository's packages are the ones the
template lacks for nginx, fetched once into /var/cache/jaild-tools/debs."""
import os
import shutil
import subprocess
import tempfile
import time
import unittest
import urllib.request

import test_network as net
from jaildtest import BUILD, EventStream, Jaild, run

DEB_CACHE = "/var/cache/jaild-tools/debs"
TEMPLATE = "debian12"
J = None


def setUpModule():
    global J
    J = Jaild().start()


def tearDownModule():
    if J:
        J.finish()
    if net.work:
        net.tearDownModule()


def jailctl(*args):
    env = dict(os.environ, JAILD_URL="http://127.0.0.1:%d" % J.port, JAILD_TOKEN=J.token, JAILCTL_CONFIG="/nonexistent")
    return subprocess.run([os.path.join(BUILD, "client", "jailctl")] + list(args), capture_output=True, text=True, env=env,
                          timeout=300)


def wait_operation(op_id, timeout=900):
    deadline = time.time() + timeout
    while time.time() < deadline:
        st, o, _ = J.call("GET", "/api/operations/" + op_id)
        if st == 200 and o["state"] != "running":
            return o
        time.sleep(0.5)
    raise AssertionError("operation %s still running after %ds" % (op_id, timeout))


class Build(unittest.TestCase):
    """In the machine's own network namespace, where Debian's archive is reachable."""

    def test_1_a_template_is_built_from_the_archive_with_progress_in_order(self):
        events = EventStream(J, J.token, timeout=900)
        st, op, h = J.call("POST", "/api/templates", {"name": TEMPLATE, "distro": "debian", "release": "bookworm"})
        self.assertEqual(st, 202, op)
        self.assertEqual(h["Location"], "/api/operations/" + op["id"])
        self.assertEqual((op["state"], op["kind"], op["target"]), ("running", "template.build", TEMPLATE))
        seen = []
        while True:
            _, kind, data = events.next()
            if data.get("operation") != op["id"]:
                continue
            seen.append((kind, data))
            if kind in ("operation.done", "operation.failed", "operation.cancelled"):
                break
        events.close()
        self.assertEqual(seen[-1][0], "operation.done", seen[-1])
        percents = [d["percent"] for k, d in seen if k == "operation.progress"]
        self.assertGreaterEqual(len(percents), 4, seen)
        self.assertEqual(percents, sorted(percents))
        o = wait_operation(op["id"])
        self.assertEqual((o["state"], o["progress"]["percent"]), ("done", 100))
        self.assertEqual(o["result"]["template"], TEMPLATE)
        # mmdebstrap's own tarball, /dev/console and all: device nodes left out, not refused
        self.assertGreater(o["result"]["skipped_device_nodes"], 0)
        t = [t for t in J.call("GET", "/api/templates")[1]["items"] if t["name"] == TEMPLATE][0]
        self.assertEqual((t["source"], t["command"]), ("debian:bookworm", ["/sbin/init"]))
        self.assertFalse(os.path.exists("/var/tmp/jaild-build-" + op["id"]))

    def test_2_a_jail_from_it_boots_its_init(self):
        st, r, _ = J.call("POST", "/api/jails?start=1", {"name": "deb", "template": TEMPLATE,
                                                         "limits": {"memoryuse": "256M", "pcpu": 100}})
        self.assertEqual(st, 201, r)
        self.addCleanup(J.call, "DELETE", "/api/jails/deb")
        self.assertEqual((r["state"], r["command"], r["stop_command"]), ("running", ["/sbin/init"], ["/etc/init.d/rc", "0"]))
        self.assertTrue(J.exec("deb", "cat /etc/debian_version")["stdout"].startswith("12."))
        self.assertTrue(J.exec("deb", ["apt-get", "--version"])["stdout"].startswith("apt 2."))
        self.assertIn("/usr/sbin", J.exec("deb", ["sh", "-c", "echo $PATH"])["stdout"])
        # its own limits, as procps reads them (lxcfs)
        self.assertEqual(J.exec("deb", "free -m | awk '/^Mem:/ {print $2}'")["stdout"].strip(), "256")
        self.assertEqual(J.exec("deb", ["nproc"])["stdout"].strip(), str(min(1, os.cpu_count())))
        self.assertTrue(J.wait_for(lambda: J.exec("deb", ["runlevel"])["stdout"].split()[-1:] == ["2"], 15))
        self.assertNotIn("nameserver", J.exec("deb", "cat /etc/resolv.conf 2>&1")["stdout"])  # no uplink: none given
        t = time.time()
        self.assertEqual(J.call("POST", "/api/jails/deb/stop")[0], 200)
        # init ignores SIGTERM: once it is the last process, the stop does not wait it out
        self.assertLess(time.time() - t, 8)

    def test_3_a_cancelled_build_leaves_nothing(self):
        # through jailctl, as an operator would
        r = jailctl("template", "build", "cancelled", "--distro", "debian", "--release", "bookworm", "--package", "nginx",
                    "--no-wait")
        self.assertEqual(r.returncode, 0, r.stderr)
        op = {"id": r.stdout.strip()}
        self.assertTrue(J.wait_for(lambda: J.call("GET", "/api/operations/" + op["id"])[1]["progress"]["percent"] >= 5, 120))
        r = jailctl("operation", "cancel", op["id"])
        self.assertEqual(r.returncode, 0, r.stderr)
        r = jailctl("operation", "wait", op["id"])
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("cancelled", r.stderr)
        o = wait_operation(op["id"], 120)
        self.assertEqual((o["state"], o["error"]["message"]), ("cancelled", "cancelled"))
        self.assertNotIn("cancelled", [t["name"] for t in J.call("GET", "/api/templates")[1]["items"]])
        self.assertFalse(os.path.exists("/var/tmp/jaild-build-" + op["id"]))
        self.assertEqual(J.call("DELETE", "/api/operations/" + op["id"])[0], 409)
        # the work ended: no mmdebstrap of it is left running
        self.assertNotIn(op["id"], subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout)

    def test_4_bad_requests_are_refused_before_any_work(self):
        bad = [
            ({"name": "x", "distro": "gentoo", "release": "stable"}, 422, "distro"),
            ({"name": "x", "distro": "debian", "release": "Book Worm"}, 422, "release"),
            ({"name": "x", "distro": "debian", "release": "bookworm", "packages": ["nginx; rm -rf /"]}, 422, "packages[0]"),
            ({"name": "x", "distro": "debian", "release": "bookworm", "packages": [1]}, 422, "packages"),
            ({"name": "Bad", "distro": "debian", "release": "bookworm"}, 422, "name"),
            ({"name": "minimal", "distro": "debian", "release": "bookworm"}, 409, "name"),
            ({"name": "x", "distro": "debian", "release": "bookworm", "mirror": "http://evil/"}, 422, "mirror"),
        ]
        for body, status, field in bad:
            st, r, _ = J.call("POST", "/api/templates", body)
            self.assertEqual((st, r["error"].get("field")), (status, field), (body, r))
        tok = J.tenant_token("userland")
        st, r, _ = J.call("POST", "/api/templates", {"name": "x", "distro": "debian", "release": "bookworm"}, token=tok)
        self.assertEqual(st, 403, r)
        self.assertEqual(J.call("GET", "/api/operations/" + "0" * 32)[0], 404)
        self.assertEqual(J.call("GET", "/api/operations/..%2f")[0], 404)
        # a tenant sees no one else's operations
        self.assertEqual(J.call("GET", "/api/operations", token=tok)[1]["items"], [])
        self.assertEqual(len([o for o in J.call("GET", "/api/operations")[1]["items"] if o["target"] == "x"]), 0)


def fetch_packages(status_text, repo):
    """The .deb files nginx needs beyond a jail's dpkg status, from the archive the
    host's apt knows, cached; indexed in repo for apt."""
    os.makedirs(DEB_CACHE, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", suffix=".status") as st, tempfile.TemporaryDirectory() as empty:
        st.write(status_text)
        st.flush()
        os.makedirs(os.path.join(empty, "partial"))
        # an empty archive cache: apt prints no URI for a package its own cache holds
        out = subprocess.run(["apt-get", "-o", "Dir::State::status=" + st.name, "-o", "Debug::NoLocking=1",
                              "-o", "Dir::Cache::archives=" + empty, "install",
                              "--print-uris", "-qq", "-y", "--no-install-recommends", "nginx"],
                             capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        url, name = line.split()[0].strip("'"), line.split()[1]
        path = os.path.join(DEB_CACHE, name)
        if not os.path.exists(path):
            with urllib.request.urlopen(url, timeout=120) as r, open(path + ".part", "wb") as f:
                shutil.copyfileobj(r, f)
            os.rename(path + ".part", path)
        shutil.copy(path, repo)
    subprocess.run("dpkg-scanpackages -m . > Packages", shell=True, cwd=repo, check=True, capture_output=True)
    return len(out.splitlines())


class Server(unittest.TestCase):
    """A Debian jail as a small server, in the network suite's namespaces."""

    @classmethod
    def setUpClass(cls):
        if not any(t["name"] == TEMPLATE for t in J.call("GET", "/api/templates")[1]["items"]):
            raise unittest.SkipTest("no Debian template (Build failed)")
        # what the template lacks for nginx, read off a jail of it
        st, r, _ = J.call("POST", "/api/jails?start=1", {"name": "probe", "template": TEMPLATE})
        assert st == 201, r
        status = J.exec("probe", "cat /var/lib/dpkg/status")["stdout"]
        J.call("DELETE", "/api/jails/probe")
        cls.repo = tempfile.mkdtemp(prefix="jaild-repo-", dir="/var/tmp")
        os.chmod(cls.repo, 0o755)
        assert fetch_packages(status, cls.repo) > 0
        # into the namespaces: jaild again, on the same data dir, with an uplink
        J.stop()
        net.setUpModule()
        J.extra += ["--uplink", "up0", "--dns", net.WORLD4]
        J.log = open(os.path.join(J.dir, "jaild.log"), "ab")
        J.start()
        net.in_world("python3", "-m", "http.server", "8000", "--bind", "0.0.0.0", "--directory", cls.repo)
        time.sleep(0.5)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.repo, ignore_errors=True)

    def world_http(self, url):
        return net.world("curl", "-s", "--max-time", "5", url)

    def test_apt_installs_nginx_which_runs_under_init_and_answers_through_a_forward(self):
        st, r, _ = J.call("POST", "/api/jails?start=1", {"name": "web", "template": TEMPLATE, "ip4": ["auto"],
                                                         "ports": [{"host_port": 8088, "port": 80}]})
        self.assertEqual(st, 201, r)
        self.addCleanup(J.call, "DELETE", "/api/jails/web")
        self.assertIn("nameserver " + net.WORLD4, J.exec("web", "cat /etc/resolv.conf")["stdout"])
        # its init has finished booting (rcS cleans /tmp, where apt unpacks)
        self.assertTrue(J.wait_for(lambda: J.exec("web", ["runlevel"])["stdout"].split()[-1:] == ["2"], 30))
        J.exec("web", "rm -f /etc/apt/sources.list.d/* && echo 'deb [trusted=yes] http://%s:8000/ ./' > /etc/apt/sources.list"
               % net.WORLD4)
        r = J.exec("web", "apt-get update", timeout=120)
        self.assertEqual(r["exit_code"], 0, r)
        r = J.exec("web", "DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nginx", timeout=300)
        self.assertEqual(r["exit_code"], 0, r)
        self.assertTrue(J.wait_for(lambda: "Welcome to nginx" in self.world_http("http://%s:8088/" % net.HOST4), 20))
        # enabled in the jail (its postinst ran update-rc.d): the init starts it again
        self.assertEqual(J.call("POST", "/api/jails/web/restart")[0], 200)
        self.assertTrue(J.wait_for(lambda: "Welcome to nginx" in self.world_http("http://%s:8088/" % net.HOST4), 30))


if __name__ == "__main__":
    run(__name__)
