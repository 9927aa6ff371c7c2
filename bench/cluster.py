#!/usr/bin/env python3
"""A cluster's cost (issue 17): two jailds, a and b, sharing one PostgreSQL (a throwaway
one: run through tests/pg/with-postgres.sh, as bench/run.sh does). In one interleaved
run, on jails that live on b:
  create+start   POST /api/jails?start=1 with "host": "b", sent to b itself (direct) and
                 to a, which forwards it to b (proxied)
  exec           POST /api/jails/NAME/exec of /bin/true, to b and through a
  get            GET /api/jails/NAME (with live usage), to b and through a
and, as the baseline for the store itself, create+start on one jaild on SQLite.
Prints p50/p90 per step and the proxied/direct and PostgreSQL/SQLite ratios. As root."""
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
from jaildtest import Jaild  # noqa: E402

N = int(os.environ.get("BENCH_N", "40"))
BASE = os.environ.get("JAILD_TEST_STORE")


def q(xs, f):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * f))]


def timed(fn):
    t = time.perf_counter()
    st = fn()
    dt = time.perf_counter() - t
    if st not in (200, 201, 204):
        raise SystemExit("request failed: %s" % st)
    return dt * 1000


def main():
    if not BASE:
        raise SystemExit("run through tests/pg/with-postgres.sh (bench/run.sh does)")
    subprocess.run(["psql", "-q", BASE, "-c", "DROP DATABASE IF EXISTS bench_cluster WITH (FORCE)"], check=True)
    subprocess.run(["psql", "-q", BASE, "-c", "CREATE DATABASE bench_cluster"], check=True)
    url = BASE.replace("/jaild?", "/bench_cluster?", 1)
    common = ["--rate-limit", "0", "--host-timeout", "10"]
    a = Jaild(extra=common + ["--host", "a", "--pool4", "10.93.1.0/24", "--pool6", "fd93:1::/64", "--uid-base", "350000000"],
              store=url).start()
    b = Jaild(extra=common + ["--host", "b", "--pool4", "10.93.2.0/24", "--pool6", "fd93:2::/64", "--uid-base", "360000000"],
              store=url, token=a.token).start()
    lite = None
    try:
        os.environ.pop("JAILD_TEST_STORE")  # the SQLite baseline makes no database
        lite = Jaild(extra=["--rate-limit", "0"]).start()
        steps = {k: [] for k in ("create+start direct", "create+start proxied", "create+start sqlite", "exec direct",
                                 "exec proxied", "get direct", "get proxied")}
        for i in range(N):
            for via, j in (("direct", b), ("proxied", a)):
                name = "%s%d" % (via[0], i)
                steps["create+start " + via].append(
                    timed(lambda: j.call("POST", "/api/jails?start=1", {"name": name, "host": "b"})[0]))
                steps["exec " + via].append(timed(lambda: j.call("POST", "/api/jails/%s/exec" % name, {"command": ["/bin/true"]})[0]))
                steps["get " + via].append(timed(lambda: j.call("GET", "/api/jails/" + name)[0]))
            name = "l%d" % i
            steps["create+start sqlite"].append(timed(lambda: lite.call("POST", "/api/jails?start=1", {"name": name})[0]))
        print("cluster bench, %d of each, jails on host b (ms):" % N)
        print("%-22s %8s %8s" % ("step", "p50", "p90"))
        for k, v in steps.items():
            print("%-22s %8.2f %8.2f" % (k, statistics.median(v), q(v, 0.9)))
        for step in ("create+start", "exec", "get"):
            d, p = steps[step + " direct"], steps[step + " proxied"]
            print("%s: proxied / direct = %.2f at p50, %.2f at p90" % (step, statistics.median(p) / statistics.median(d),
                                                                          q(p, 0.9) / q(d, 0.9)))
        print("create+start: PostgreSQL (direct) / SQLite = %.2f at p50" %
              (statistics.median(steps["create+start direct"]) / statistics.median(steps["create+start sqlite"])))
    finally:
        for i in range(N):
            for p in "dp":
                a.call("DELETE", "/api/jails/%s%d" % (p, i))
        for j in (lite, b, a):
            if j:
                j.finish()


if __name__ == "__main__":
    main()
