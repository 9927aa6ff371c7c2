"""api/openapi.yaml against the server's route table (server/daemon/api/router.c): every route
is described and nothing else is; every operation has a unique operationId (client
generators need them) and says which 4xx it may answer."""
import os
import re
import sys

import yaml

TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
failed = passed = 0


def check(ok, what):
    global failed, passed
    if ok:
        passed += 1
    else:
        failed += 1
        print("check failed: " + what)


with open(os.path.join(TOP, "server", "daemon", "api", "router.c")) as f:
    routes = set(re.findall(r'\.method = "([A-Z]+)", \.pattern = "([^"]+)"', f.read()))
with open(os.path.join(TOP, "api", "openapi.yaml")) as f:
    doc = yaml.safe_load(f)
described, ids = set(), []
for path, item in doc["paths"].items():
    for method, op in item.items():
        if method not in ("get", "post", "put", "patch", "delete"):
            continue
        described.add((method.upper(), re.sub(r"\{[^}]+\}", "*", path)))
        ids.append(op.get("operationId"))
        check(bool(op.get("operationId")), "%s %s has no operationId" % (method.upper(), path))
        codes = [str(c) for c in op.get("responses", {})]
        check(any(c.startswith("4") for c in codes) or path == "/api/health",
              "%s %s names no 4xx answer" % (method.upper(), path))
check(len(routes) > 30, "the route table was not found in api/router.c")
for r in sorted(routes - described):
    check(False, "route %s %s is not in api/openapi.yaml" % r)
for r in sorted(described - routes):
    check(False, "api/openapi.yaml describes %s %s, which the server does not serve" % r)
check(len(ids) == len(set(ids)), "operationIds repeat: %s" % sorted(i for i in ids if ids.count(i) > 1))
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
