"""Tenants and tokens: every jail route called with another tenant's token answers 404
and changes nothing; tokens are shown once, stored hashed, and revoked at once."""
import os
import unittest

from jaildtest import EventStream, Jaild, run

J = None
ACME = GLOBEX = None


def setUpModule():
    global J, ACME, GLOBEX
    J = Jaild().start()
    for name in ("acme", "globex"):
        st, t, h = J.call("POST", "/api/tenants", {"name": name})
        assert st == 201 and h["Location"] == "/api/tenants/" + name, t
    ACME = J.call("POST", "/api/tenants/acme/tokens", {"name": "ci"})[1]["secret"]
    GLOBEX = J.call("POST", "/api/tenants/globex/tokens", {"name": "ci"})[1]["secret"]


def tearDownModule():
    J.finish()


class Isolation(unittest.TestCase):
    def test_every_route_on_another_tenants_jail_is_404_and_changes_nothing(self):
        st, jail, _ = J.call("POST", "/api/jails?start=1", {"name": "acme-web"}, token=ACME)
        self.assertEqual((st, jail["tenant"], jail["state"]), (201, "acme", "running"), jail)
        try:
            before = J.call("GET", "/api/jails/acme-web", token=ACME)
            calls = [("GET", "/api/jails/acme-web", None), ("PATCH", "/api/jails/acme-web", {"hostname": "pwned"}),
                     ("DELETE", "/api/jails/acme-web", None), ("POST", "/api/jails/acme-web/start", None),
                     ("POST", "/api/jails/acme-web/stop", None), ("POST", "/api/jails/acme-web/restart", None),
                     ("POST", "/api/jails/acme-web/exec", {"command": ["/bin/touch", "/pwned"]}),
                     ("GET", "/api/tenants/acme", None), ("GET", "/api/tenants/acme/tokens", None),
                     ("POST", "/api/tenants/acme/tokens", {"name": "x"}), ("DELETE", "/api/tenants/acme/tokens/1", None),
                     ("GET", "/api/tenants", None), ("POST", "/api/tenants", {"name": "evil"}),
                     ("DELETE", "/api/tenants/acme", None)]
            for method, path, body in calls:
                st, b, _ = J.call(method, path, body, token=GLOBEX)
                self.assertEqual(st, 404, (method, path, b))
                self.assertEqual(b["error"]["code"], "not_found")
            # again, back to back: the jail's rendering is now kept and both tokens are
            # in memory, so the GET is answered on the server's fast path (from memory)
            for _ in range(3):
                self.assertEqual(J.call("GET", "/api/jails/acme-web", token=ACME)[0], 200)
                st, b, _ = J.call("GET", "/api/jails/acme-web", token=GLOBEX)
                self.assertEqual((st, b["error"]["code"]), (404, "not_found"), b)
            after = J.call("GET", "/api/jails/acme-web", token=ACME)
            self.assertEqual(after[2]["ETag"], before[2]["ETag"])
            self.assertEqual((after[1]["state"], after[1]["hostname"], after[1]["pid"]), ("running", "acme-web", before[1]["pid"]))
            self.assertNotEqual(J.exec("acme-web", "test -e /pwned; echo $?")["stdout"].strip(), "0")
            # lists: each tenant sees its own; admins see all, and can filter
            self.assertNotIn("acme-web", [j["name"] for j in J.call("GET", "/api/jails", token=GLOBEX)[1]["items"]])
            self.assertIn("acme-web", [j["name"] for j in J.call("GET", "/api/jails", token=ACME)[1]["items"]])
            self.assertEqual([j["name"] for j in J.call("GET", "/api/jails?tenant=acme")[1]["items"]], ["acme-web"])
            self.assertEqual(J.call("GET", "/api/jails?tenant=globex")[1]["items"], [])
            # the owner reaches its own tenant, not the tenant list
            self.assertEqual(J.call("GET", "/api/tenants/acme", token=ACME)[1]["jails"], 1)
            self.assertEqual(J.call("GET", "/api/tenants", token=ACME)[0], 404)
        finally:
            J.call("DELETE", "/api/jails/acme-web")

    def test_tenants_cannot_pick_a_tenant_and_admins_must_name_a_real_one(self):
        st, b, _ = J.call("POST", "/api/jails", {"name": "x1", "tenant": "globex"}, token=ACME)
        self.assertEqual((st, b["error"].get("field")), (422, "tenant"))
        st, b, _ = J.call("POST", "/api/jails", {"name": "x1", "tenant": "nosuch"})
        self.assertEqual((st, b["error"].get("field")), (422, "tenant"))
        st, b, _ = J.call("POST", "/api/jails", {"name": "x1", "tenant": "globex"})
        self.assertEqual((st, b["tenant"]), (201, "globex"))
        self.assertIn("x1", [j["name"] for j in J.call("GET", "/api/jails", token=GLOBEX)[1]["items"]])
        J.call("DELETE", "/api/jails/x1")


class Tokens(unittest.TestCase):
    def test_secret_shown_once_stored_hashed_revoked_at_once(self):
        st, t, h = J.call("POST", "/api/tenants/globex/tokens", {"name": "deploy"}, token=GLOBEX)
        self.assertEqual((st, t["role"], t["tenant"]), (201, "tenant", "globex"), t)
        secret = t["secret"]
        self.assertTrue(secret.startswith("jd_") and len(secret) > 40)
        self.assertEqual(J.call("GET", "/api/jails", token=secret)[0], 200)
        st, l, _ = J.call("GET", "/api/tenants/globex/tokens", token=GLOBEX)
        self.assertIn("deploy", [x["name"] for x in l["items"]])
        self.assertNotIn(secret, str(l))
        for x in l["items"]:
            self.assertNotIn("secret", x)
        # nowhere in clear: not the database, not the log
        self.assertNotIn(secret.encode(), J.store_bytes())
        self.assertNotIn(secret, J.logtext(tail=10 ** 7))
        st, _, _ = J.call("DELETE", "/api/tenants/globex/tokens/%d" % t["id"], token=GLOBEX)
        self.assertEqual(st, 204)
        st, b, _ = J.call("GET", "/api/jails", token=secret)
        self.assertEqual((st, b["error"]["code"]), (401, "unauthorized"))
        self.assertEqual(J.call("DELETE", "/api/tenants/globex/tokens/%d" % t["id"], token=GLOBEX)[0], 404)

    def test_expiry_takes_effect_at_once_and_use_is_recorded(self):
        import datetime
        import time as _t
        soon = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
        st, t, _ = J.call("POST", "/api/tenants/globex/tokens", {"name": "brief", "expires_at": soon})
        self.assertEqual(st, 201, t)
        self.assertIsNone(t["last_used_at"])
        self.assertEqual(J.call("GET", "/api/jails", token=t["secret"])[0], 200)
        listed = {x["name"]: x for x in J.call("GET", "/api/tenants/globex/tokens")[1]["items"]}
        self.assertIsNotNone(listed["brief"]["last_used_at"])
        _t.sleep(4.2)
        st, b, _ = J.call("GET", "/api/jails", token=t["secret"])  # was cached: expiry still holds
        self.assertEqual((st, b["error"]["code"]), (401, "unauthorized"))

    def test_roles_and_bad_input(self):
        st, b, _ = J.call("POST", "/api/tenants/globex/tokens", {"name": "root", "role": "admin"}, token=GLOBEX)
        self.assertEqual((st, b["error"]["code"], b["error"]["field"]), (403, "forbidden", "role"))
        for body, field in (({"name": ""}, "name"), ({"name": "x", "role": "god"}, "role"),
                            ({"name": "x", "expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
                            ({"name": "x", "expires_at": "tomorrow"}, "expires_at"), ({"name": "x", "extra": 1}, "extra")):
            st, b, _ = J.call("POST", "/api/tenants/globex/tokens", body)
            self.assertEqual((st, b["error"].get("field")), (422, field), body)
        st, t, _ = J.call("POST", "/api/tenants/globex/tokens", {"name": "soon", "expires_at": "2099-01-01T00:00:00Z"})
        self.assertEqual((st, t["expires_at"]), (201, "2099-01-01T00:00:00Z"))
        self.assertEqual(J.call("GET", "/api/jails", token=t["secret"])[0], 200)
        st, b, _ = J.call("POST", "/api/tenants", {"name": "acme"})
        self.assertEqual((st, b["error"]["code"]), (409, "conflict"))
        st, b, _ = J.call("POST", "/api/tenants", {"name": "Bad"})
        self.assertEqual((st, b["error"]["field"]), (422, "name"))


class Quotas(unittest.TestCase):
    def test_fifty_parallel_creates_against_a_quota_of_ten(self):
        import concurrent.futures
        st, t, _ = J.call("POST", "/api/tenants", {"name": "racer", "quotas": {"jails": 10}})
        self.assertEqual((st, t["quotas"]), (201, {"jails": 10}), t)
        tok = J.call("POST", "/api/tenants/racer/tokens", {"name": "t"})[1]["secret"]
        before = set(os.listdir(os.path.join(J.data, "jails")))
        with concurrent.futures.ThreadPoolExecutor(16) as ex:
            res = list(ex.map(lambda i: J.call("POST", "/api/jails", {"name": "r%02d" % i}, token=tok)[:2], range(50)))
        try:
            ok = [b["name"] for st, b in res if st == 201]
            refused = [b for st, b in res if st != 201]
            self.assertEqual(len(ok), 10, [b for _, b in res][:3])
            self.assertTrue(all(b["error"]["code"] == "quota_exceeded" for b in refused), refused[:2])
            self.assertEqual(refused[0]["error"]["field"], "quotas.jails")
            self.assertIn("may have 10 jails and has 10", refused[0]["error"]["message"])
            st, t, _ = J.call("GET", "/api/tenants/racer")
            self.assertEqual((t["jails"], t["usage"]["jails"]), (10, 10))
            # nothing half-made on disk: exactly the ten jails' directories (and their locks)
            added = {n for n in set(os.listdir(os.path.join(J.data, "jails"))) - before if not n.endswith(".lock")}
            self.assertEqual(added, set(ok))
        finally:
            J.call("DELETE", "/api/tenants/racer?force=1")

    def test_memory_process_and_address_quotas(self):
        st, t, _ = J.call("POST", "/api/tenants", {"name": "frugal", "quotas": {"memoryuse": "64M", "maxproc": 40, "ip4": 1}})
        self.assertEqual(st, 201, t)
        self.assertEqual(t["quotas"], {"memoryuse": "64M", "maxproc": 40, "ip4": 1})
        tok = J.call("POST", "/api/tenants/frugal/tokens", {"name": "t"})[1]["secret"]
        try:
            st, b, _ = J.call("POST", "/api/jails", {"name": "f1"}, token=tok)
            self.assertEqual((st, b["error"]["code"], b["error"]["field"]), (403, "quota_exceeded", "limits.memoryuse"))
            lim = {"memoryuse": "32M", "maxproc": 20}
            st, f1, _ = J.call("POST", "/api/jails", {"name": "f1", "limits": lim, "ip4": ["auto"]}, token=tok)
            self.assertEqual(st, 201, f1)
            used = J.call("GET", "/api/host")[1]["pool"]["ip4"]["used"]
            st, b, _ = J.call("POST", "/api/jails", {"name": "f2", "limits": lim, "ip4": ["auto"]}, token=tok)
            self.assertEqual((st, b["error"]["field"]), (403, "quotas.ip4"), b)
            self.assertEqual(J.call("GET", "/api/host")[1]["pool"]["ip4"]["used"], used)  # nothing taken
            st, b, _ = J.call("POST", "/api/jails", {"name": "f2", "limits": {"memoryuse": "40M", "maxproc": 5}}, token=tok)
            self.assertEqual((st, b["error"]["field"]), (403, "limits.memoryuse"), b)
            self.assertIn("64 MiB", b["error"]["message"])
            st, f2, _ = J.call("POST", "/api/jails", {"name": "f2", "limits": {"memoryuse": "32M", "maxproc": 20}}, token=tok)
            self.assertEqual(st, 201, f2)
            # raising a limit past the quota is refused too, and changes nothing
            st, b, _ = J.call("PATCH", "/api/jails/f1", {"limits": {"memoryuse": "48M", "maxproc": 20}}, token=tok)
            self.assertEqual((st, b["error"]["code"]), (403, "quota_exceeded"), b)
            self.assertEqual(J.call("GET", "/api/jails/f1", token=tok)[1]["limits"]["memoryuse"], "32M")
            st, b, _ = J.call("PATCH", "/api/jails/f1", {"limits": {"memoryuse": "16M", "maxproc": 21}}, token=tok)
            self.assertEqual((st, b["error"]["field"]), (403, "limits.maxproc"), b)
            st, b, _ = J.call("PATCH", "/api/jails/f1", {"limits": {"memoryuse": "16M", "maxproc": 10}}, token=tok)
            self.assertEqual(st, 200, b)
            st, t, _ = J.call("GET", "/api/tenants/frugal", token=tok)
            self.assertEqual(t["usage"], {"jails": 2, "memoryuse": 48 << 20, "maxproc": 30, "ip4": 1, "disk": 0, "ports": 0})
            # quotas are the admin's: 404 for the tenant, and checked values
            self.assertEqual(J.call("PATCH", "/api/tenants/frugal", {"quotas": {"jails": 99}}, token=tok)[0], 404)
            st, b, _ = J.call("PATCH", "/api/tenants/frugal", {"quotas": {"cpus": 2}})
            self.assertEqual((st, b["error"]["field"]), (422, "quotas.cpus"))
            st, b, _ = J.call("PATCH", "/api/tenants/frugal", {"quotas": {"jails": -1}})
            self.assertEqual((st, b["error"]["field"]), (422, "quotas.jails"))
            st, t, _ = J.call("PATCH", "/api/tenants/frugal", {"quotas": {"ip4": None, "jails": 2}})
            self.assertEqual((st, t["quotas"]), (200, {"memoryuse": "64M", "maxproc": 40, "jails": 2}))
        finally:
            J.call("DELETE", "/api/tenants/frugal?force=1")


class Audit(unittest.TestCase):
    def test_every_mutating_request_is_recorded_with_actor_and_result(self):
        st, j, h = J.call("POST", "/api/jails", {"name": "audited"}, token=ACME)
        self.assertEqual(st, 201, j)
        rid = h["X-Request-Id"]
        self.assertEqual(J.call("POST", "/api/jails/audited/start", token=GLOBEX)[0], 404)
        self.assertEqual(J.call("DELETE", "/api/jails/audited", token=ACME)[0], 204)
        self.assertEqual(J.call("POST", "/api/jails", {"name": "x"}, token="jd_forged")[0], 401)
        self.assertEqual(J.call("GET", "/api/jails", token=ACME)[0], 200)  # reads are not recorded

        st, a, _ = J.call("GET", "/api/audit?limit=50")
        self.assertEqual(st, 200)
        by_rid = {x["request_id"]: x for x in a["items"]}
        created = by_rid[rid]
        self.assertEqual((created["action"], created["target"], created["status"], created["tenant"]),
                         ("POST /api/jails", "/api/jails", 201, "acme"))
        self.assertTrue(created["actor"].startswith("token:") and created["actor"].endswith(" ci"), created)
        self.assertEqual(created["source"], "127.0.0.1")
        entries = [(x["action"], x["target"], x["status"], x["tenant"]) for x in a["items"]]
        self.assertIn(("POST /api/jails/*/start", "/api/jails/audited/start", 404, "globex"), entries)
        self.assertIn(("DELETE /api/jails/*", "/api/jails/audited", 204, "acme"), entries)
        self.assertIn(("POST /api/jails", "/api/jails", 401, None), entries)
        self.assertNotIn("GET /api/jails", [x["action"] for x in a["items"]])
        # tenants see their own entries only
        mine = J.call("GET", "/api/audit?limit=1000", token=GLOBEX)[1]["items"]
        self.assertTrue(mine and all(x["tenant"] == "globex" for x in mine), mine[:3])
        self.assertEqual(J.call("GET", "/api/audit?tenant=acme&limit=1000", token=GLOBEX)[1]["items"], mine)
        # filters and paging
        only = J.call("GET", "/api/audit?status=404")[1]["items"]
        self.assertTrue(only and all(x["status"] == 404 for x in only))
        dels = J.call("GET", "/api/audit?action=DELETE")[1]["items"]
        self.assertTrue(dels and all(x["action"].startswith("DELETE") for x in dels))
        first = J.call("GET", "/api/audit?limit=2")[1]
        second = J.call("GET", "/api/audit?limit=2&after=" + first["next"])[1]
        self.assertLess(second["items"][0]["id"], first["items"][-1]["id"])
        self.assertEqual(J.call("GET", "/api/audit?after=x")[0], 422)


class Idempotency(unittest.TestCase):
    def test_a_retry_gets_the_first_answer(self):
        k = {"Idempotency-Key": "ci-run-42"}
        st1, j1, h1 = J.call("POST", "/api/jails?start=1", {"name": "idem"}, headers=k)
        self.assertEqual((st1, j1["state"]), (201, "running"), j1)
        try:
            st2, j2, h2 = J.call("POST", "/api/jails?start=1", {"name": "idem"}, headers=k)
            self.assertEqual((st2, j2), (st1, j1))
            self.assertEqual(h2.get("Idempotent-Replayed"), "true")
            self.assertEqual(h2["Location"], "/api/jails/idem")
            self.assertNotIn("Idempotent-Replayed", h1)
            names = [j["name"] for j in J.call("GET", "/api/jails?limit=1000")[1]["items"]]
            self.assertEqual(names.count("idem"), 1)
            # the same key for another request: refused, nothing done
            st, b, _ = J.call("POST", "/api/jails?start=1", {"name": "idem2"}, headers=k)
            self.assertEqual((st, b["error"]["field"]), (422, "Idempotency-Key"), b)
            st, b, _ = J.call("POST", "/api/jails", {"name": "idem"}, headers=k)  # no ?start=1
            self.assertEqual(st, 422, b)
            self.assertEqual(J.call("GET", "/api/jails/idem2")[0], 404)
            # keys belong to a token: another token's same key is a new request
            st, b, _ = J.call("POST", "/api/jails", {"name": "idem-acme"}, token=ACME, headers=k)
            self.assertEqual(st, 201, b)
            J.call("DELETE", "/api/jails/idem-acme")
            # an error answer is replayed too (4xx); a bad key is refused
            bad = {"Idempotency-Key": "bad-1"}
            self.assertEqual(J.call("POST", "/api/jails", {"name": "Nope"}, headers=bad)[0], 422)
            st, b, h = J.call("POST", "/api/jails", {"name": "Nope"}, headers=bad)
            self.assertEqual((st, h.get("Idempotent-Replayed")), (422, "true"))
            st, b, _ = J.call("POST", "/api/jails", {"name": "x"}, headers={"Idempotency-Key": "k" * 300})
            self.assertEqual((st, b["error"]["field"]), (422, "Idempotency-Key"))
        finally:
            J.call("DELETE", "/api/jails/idem")


class Events(unittest.TestCase):
    def test_sse_replay_after_reconnect_in_order_and_per_tenant(self):
        a = EventStream(J, ACME)
        g = EventStream(J, GLOBEX)
        self.assertEqual(a.resp.status, 200)
        self.assertEqual(a.resp.getheader("Content-Type"), "text/event-stream")
        self.assertEqual(J.call("POST", "/api/jails?start=1", {"name": "ev1"}, token=ACME)[0], 201)
        seen = [a.next(), a.next()]
        self.assertEqual([(t, d["target"]) for _, t, d in seen], [("jail.created", "ev1"), ("jail.started", "ev1")])
        self.assertLess(seen[0][0], seen[1][0])
        a.close()
        # while acme's client is away
        self.assertEqual(J.call("POST", "/api/jails/ev1/stop", token=ACME)[0], 200)
        self.assertEqual(J.call("POST", "/api/jails", {"name": "evg"}, token=GLOBEX)[0], 201)
        self.assertEqual(J.call("DELETE", "/api/jails/ev1", token=ACME)[0], 204)
        # globex saw none of acme's events: its first is its own jail
        gid, gtype, gdata = g.next()
        self.assertEqual((gtype, gdata["target"]), ("jail.created", "evg"))
        g.close()
        # acme comes back with Last-Event-ID: everything it missed, in order, only its own
        a2 = EventStream(J, ACME, last_id=seen[-1][0])
        missed = [a2.next(), a2.next()]
        self.assertEqual([(t, d["target"]) for _, t, d in missed], [("jail.stopped", "ev1"), ("jail.destroyed", "ev1")])
        self.assertTrue(seen[-1][0] < missed[0][0] < missed[1][0])
        a2.close()
        # an admin's stream from the start has both tenants' events
        adm = EventStream(J, J.token, since=0)
        targets = set()
        for _ in range(12):
            _, t, d = adm.next()
            targets.add(d["target"])
            if {"ev1", "evg"} <= targets:
                break
        self.assertTrue({"ev1", "evg"} <= targets, targets)
        adm.close()
        J.call("DELETE", "/api/jails/evg")
        self.assertEqual(J.call("GET", "/api/events?since=soon")[0], 422)


class Login(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        st, u, _ = J.call("POST", "/api/tenants/acme/users", {"name": "alice", "password": "correct horse battery"})
        assert st == 201, u

    def login(self, user="alice", password="correct horse battery", tenant="acme"):
        return J.call("POST", "/api/login", {"tenant": tenant, "user": user, "password": password}, token=False)

    def test_a_users_are_checked(self):
        st, b, _ = J.call("POST", "/api/tenants/acme/users", {"name": "bob", "password": "short"})
        self.assertEqual((st, b["error"]["field"]), (422, "password"))
        self.assertEqual(J.call("POST", "/api/tenants/acme/users", {"name": "alice", "password": "x" * 12})[0], 409)
        self.assertEqual(J.call("POST", "/api/tenants/acme/users", {"name": "mallory", "password": "x" * 12}, token=GLOBEX)[0], 404)
        users = J.call("GET", "/api/tenants/acme/users", token=ACME)[1]["items"]
        self.assertEqual([u["name"] for u in users], ["alice"])
        self.assertNotIn("password", str(users))
        held = J.store_bytes()
        self.assertIn(b"alice", held)  # what was looked through holds the users
        self.assertNotIn(b"correct horse battery", held)

    def test_b_session_cookie_csrf_and_logout(self):
        st, b, h = self.login(password="wrong password!")
        self.assertEqual((st, b["error"]["code"]), (401, "unauthorized"))
        self.assertNotIn("Set-Cookie", h)
        self.assertEqual(self.login(user="nobody")[0], 401)
        st, b, h = self.login()
        self.assertEqual(st, 200, b)
        cookie = h["Set-Cookie"]
        self.assertIn("HttpOnly", cookie)
        self.assertIn("SameSite=Strict", cookie)
        self.assertNotIn("Secure", cookie)  # no TLS in this suite
        session = cookie.split(";")[0]
        csrf = b["csrf_token"]
        st, l, _ = J.call("GET", "/api/jails", token=False, headers={"Cookie": session})
        self.assertEqual(st, 200)
        self.assertTrue(all(j["tenant"] == "acme" for j in l["items"]))
        st, b2, _ = J.call("POST", "/api/jails", {"name": "web-login"}, token=False, headers={"Cookie": session})
        self.assertEqual((st, b2["error"]["code"], b2["error"]["field"]), (403, "forbidden", "X-CSRF-Token"))
        st, b2, _ = J.call("POST", "/api/jails", {"name": "web-login"}, token=False, headers={"Cookie": session, "X-CSRF-Token": "0" * 36})
        self.assertEqual(st, 403)
        st, j, _ = J.call("POST", "/api/jails", {"name": "web-login"}, token=False, headers={"Cookie": session, "X-CSRF-Token": csrf})
        self.assertEqual((st, j["tenant"]), (201, "acme"), j)
        audit = J.call("GET", "/api/audit?action=POST%20/api/jails&limit=5")[1]["items"]
        self.assertEqual(audit[0]["actor"], "user:acme/alice")
        J.call("DELETE", "/api/jails/web-login")
        st, _, h = J.call("POST", "/api/logout", token=False, headers={"Cookie": session, "X-CSRF-Token": csrf})
        self.assertEqual(st, 204)
        self.assertIn("Max-Age=0", h["Set-Cookie"])
        st, b, _ = J.call("GET", "/api/jails", token=False, headers={"Cookie": session})
        self.assertEqual((st, b["error"]["code"]), (401, "session_expired"))
        # failed logins are in the audit log too
        fails = J.call("GET", "/api/audit?action=POST%20/api/login&status=401")[1]["items"]
        self.assertTrue(fails)

    def test_z_failed_logins_are_throttled(self):
        codes = []
        for _ in range(7):
            st, b, h = self.login(user="alice", password="guessing %d" % len(codes))
            codes.append(st)
            if st == 429:
                break
        self.assertEqual(codes[-1], 429, codes)
        self.assertLessEqual(len(codes), 6)
        self.assertGreaterEqual(int(h["Retry-After"]), 1)
        # even the right password waits now
        self.assertEqual(self.login()[0], 429)


class TenantDelete(unittest.TestCase):
    def test_delete_refused_while_it_owns_jails_unless_forced(self):
        J.call("POST", "/api/tenants", {"name": "initech"})
        tok = J.call("POST", "/api/tenants/initech/tokens", {"name": "t"})[1]["secret"]
        st, j, _ = J.call("POST", "/api/jails?start=1", {"name": "tps", "tenant": "initech"})
        self.assertEqual(st, 201, j)
        st, b, _ = J.call("DELETE", "/api/tenants/initech")
        self.assertEqual((st, b["error"]["code"]), (409, "wrong_state"))
        st, _, _ = J.call("DELETE", "/api/tenants/initech?force=1")
        self.assertEqual(st, 204)
        self.assertEqual(J.call("GET", "/api/jails/tps")[0], 404)
        self.assertFalse(os.path.exists(os.path.join(J.data, "jails", "tps")))
        self.assertEqual(J.call("GET", "/api/jails", token=tok)[0], 401)
        st, b, _ = J.call("DELETE", "/api/tenants/default")
        self.assertEqual(st, 409, b)



class TenantDelete(unittest.TestCase):
    def test_a_tenant_goes_with_its_users_tokens_and_sessions_or_not_at_all(self):
        st, _, _ = J.call("POST", "/api/tenants", {"name": "leaving"})
        self.assertEqual(st, 201)
        tok = J.call("POST", "/api/tenants/leaving/tokens", {"name": "ci"})[1]["secret"]
        self.assertEqual(J.call("POST", "/api/tenants/leaving/users", {"name": "ann", "password": "correct horse battery"})[0], 201)
        st, j, _ = J.call("POST", "/api/jails?start=1", {"name": "leaving-jail"}, token=tok)
        self.assertEqual(st, 201, j)
        # with a jail and no force: refused, and nothing of it changed
        st, body, _ = J.call("DELETE", "/api/tenants/leaving")
        self.assertEqual((st, body["error"]["code"]), (409, "wrong_state"), body)
        self.assertEqual(J.call("GET", "/api/jails/leaving-jail", token=tok)[0], 200)
        # with force: the jail, the user (and its sessions) and the token go, and the tenant
        st, body, _ = J.call("DELETE", "/api/tenants/leaving?force=1")
        self.assertEqual(st, 204, body)
        self.assertEqual(J.call("GET", "/api/tenants/leaving")[0], 404)
        self.assertEqual(J.call("GET", "/api/jails/leaving-jail")[0], 404)
        self.assertEqual(J.call("GET", "/api/jails", token=tok)[0], 401)
        # and the name can be used again
        self.assertEqual(J.call("POST", "/api/tenants", {"name": "leaving"})[0], 201)
        self.assertEqual(J.call("DELETE", "/api/tenants/leaving")[0], 204)

if __name__ == "__main__":
    run(__name__)
