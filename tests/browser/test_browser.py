"""The web console in a real Chromium (tests/browser/console.mjs) against a real jaild
with real jails: two tenants with a user each, and the admin token."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from jaildtest import Jaild, require_root  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    require_root()
    if not os.path.exists("/usr/bin/chromium"):
        print("no /usr/bin/chromium: run deploy/deps.sh (it installs Debian's chromium)")
        return 1
    shots = os.path.join(os.environ.get("JAILD_BUILD", os.path.join(HERE, "..", "..", "build")), "screenshots")
    j = Jaild(extra=["--usage-interval", "1"]).start()
    try:
        env = dict(os.environ, JAILD_URL="http://127.0.0.1:%d" % j.port, SHOTS=shots, ADMIN_TOKEN=j.token,
                   ACME_PASSWORD="acme correct horse", GLOBEX_PASSWORD="globex battery staple")
        for tenant, user, pw in (("acme", "alice", env["ACME_PASSWORD"]), ("globex", "gina", env["GLOBEX_PASSWORD"])):
            st, body, _ = j.call("POST", "/api/tenants", {"name": tenant})
            assert st == 201, body
            st, body, _ = j.call("POST", "/api/tenants/%s/users" % tenant, {"name": user, "password": pw})
            assert st == 201, body
        r = subprocess.run(["node", os.path.join(HERE, "console.mjs")], env=env, timeout=600)
        print("screenshots in", shots)
        return r.returncode
    finally:
        j.stop()
        j.cleanup()


if __name__ == "__main__":
    sys.exit(main())
