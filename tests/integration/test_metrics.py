"""GET /metrics: the Prometheus text format (promtool checks a scrape with jails,
tenants and a console present), values the API also tells (a jail's memory limit, a
tenant's quota use), open to an admin token or a metrics-allow address, 404 to a
tenant and 401 to anyone else."""
import os
import re
import subprocess
import time
import unittest
import urllib.error
import urllib.request

from jaildtest import Jaild, run

J = None
PROMTOOL = "/var/cache/jaild-tools/promtool"  # deploy/deps.sh takes it out of Debian's prometheus package


def setUpModule():
    global J
    J = Jaild(extra=["--metrics-allow", "127.0.0.8/30"]).start()


def tearDownModule():
    J.finish()


def scrape(token=True, source=None):
    if source:  # from another loopback address, with no token
        import http.client
        c = http.client.HTTPConnection("127.0.0.1", J.port, timeout=30, source_address=(source, 0))
        c.request("GET", "/metrics")
        r = c.getresponse()
        return r.status, r.read().decode()
    req = urllib.request.Request("http://127.0.0.1:%d/metrics" % J.port)
    if token:
        req.add_header("Authorization", "Bearer " + (token if isinstance(token, str) else J.token))
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def sample(text, name, **labels):
    want = ",".join('%s="%s"' % kv for kv in sorted(labels.items()))
    for line in text.splitlines():
        m = re.match(r"^(\w+)(?:\{(.*)\})? (\S+)$", line)
        if m and m.group(1) == name and ",".join(sorted((m.group(2) or "").split(","))) == want:
            return float(m.group(3))
    return None


class Metrics(unittest.TestCase):
    def test_a_scrape_is_valid_and_says_what_the_api_says(self):
        J.call("POST", "/api/tenants", {"name": "meter", "quotas": {"jails": 4, "memoryuse": "1G"}})
        st, j, _ = J.call("POST", "/api/jails?start=1", {"name": "metered", "tenant": "meter",
                                                         "limits": {"memoryuse": "256M", "maxproc": 50}})
        self.assertEqual(st, 201, j)
        try:
            J.call("GET", "/api/nosuch")  # a 404 to count
            # the monitor looks at running jails every few seconds: usage follows
            self.assertTrue(J.wait_for(lambda: sample(scrape()[1], "jaild_jail_memory_bytes", jail="metered", tenant="meter"), 10))
            st, text = scrape()
            self.assertEqual(st, 200)
            r = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True)
            self.assertEqual((r.returncode, r.stdout + r.stderr), (0, ""), text[:2000])
            self.assertEqual(sample(text, "jaild_jail_up", jail="metered", tenant="meter"), 1)
            self.assertEqual(sample(text, "jaild_jail_memory_limit_bytes", jail="metered", tenant="meter"), 256 << 20)
            self.assertEqual(sample(text, "jaild_jail_processes_limit", jail="metered", tenant="meter"), 50)
            self.assertGreater(sample(text, "jaild_jail_processes", jail="metered", tenant="meter"), 0)
            t = J.call("GET", "/api/tenants/meter")[1]
            self.assertEqual(sample(text, "jaild_tenant_quota", tenant="meter", resource="jails"), t["quotas"]["jails"])
            self.assertEqual(sample(text, "jaild_tenant_usage", tenant="meter", resource="memoryuse_bytes"), t["usage"]["memoryuse"])
            self.assertEqual(sample(text, "jaild_helper_up"), 1)
            self.assertGreaterEqual(sample(text, "jaild_http_requests_total", route="none", method="GET", code="404"), 1)
            self.assertGreaterEqual(sample(text, "jaild_http_request_duration_seconds_count", route="/api/jails", method="POST",
                                           code="201"), 1)
            # stopped: no usage, and up says 0
            J.call("POST", "/api/jails/metered/stop")
            text = scrape()[1]
            self.assertEqual(sample(text, "jaild_jail_up", jail="metered", tenant="meter"), 0)
            self.assertIsNone(sample(text, "jaild_jail_memory_bytes", jail="metered", tenant="meter"))
        finally:
            J.call("DELETE", "/api/jails/metered")

    def test_who_may_scrape(self):
        tok = J.tenant_token("scrapee")
        self.assertEqual(scrape(token=tok)[0], 404)   # a tenant: there is no such route for it
        self.assertEqual(scrape(token=False)[0], 401)  # nobody: a token is needed
        st, text = scrape(source="127.0.0.9")         # an address the admin allowed
        self.assertEqual(st, 200)
        self.assertIn("jaild_helper_up 1", text)
        self.assertEqual(scrape(source="127.0.0.20")[0], 401)  # not in the list
        before = sample(scrape()[1], "jaild_http_auth_failures_total")
        J.call("GET", "/api/jails", token="jd_not-a-token")
        self.assertEqual(sample(scrape()[1], "jaild_http_auth_failures_total"), before + 1)

    def test_the_shipped_dashboard_and_scrape_config_match_the_metrics(self):
        """deploy/monitoring: every metric the Grafana dashboard queries is one jaild
        serves, and promtool accepts the Prometheus example."""
        import json
        top = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "deploy", "monitoring")
        with open(os.path.join(top, "grafana-dashboard.json")) as f:
            dash = json.load(f)
        exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
        wanted = set(re.findall(r"\bjaild_[a-z_]+", " ".join(exprs)))
        self.assertGreater(len(wanted), 8)
        J.call("POST", "/api/tenants", {"name": "dash", "quotas": {"jails": 2}})
        st, j, _ = J.call("POST", "/api/jails?start=1", {"name": "dashed", "tenant": "dash", "limits": {"memoryuse": "128M", "maxproc": 20}})
        self.assertEqual(st, 201, j)
        try:
            self.assertTrue(J.wait_for(lambda: "jaild_jail_cpu_seconds_total{" in scrape()[1], 10))
            served = set(re.findall(r"^(jaild_[a-z_]+)", scrape()[1], re.M))
            self.assertEqual(sorted(wanted - served), [])
        finally:
            J.call("DELETE", "/api/jails/dashed")
        r = subprocess.run([PROMTOOL, "check", "config", os.path.join(top, "prometheus.yml")], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_metrics_allow_is_checked(self):
        r = subprocess.run([os.path.join(os.environ.get("JAILD_BUILD", "build"), "server", "jaild"), "--metrics-allow", "10.0.0.1/99",
                            "--version"], capture_output=True, text=True)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("metrics-allow", r.stderr)


if __name__ == "__main__":
    run(__name__)
