"""The layer rule of docs/architecture.md, checked on every source file: a layer
includes only the layers below it; only http/ knows libmicrohttpd, only store/ knows
SQLite and PostgreSQL (one engine file each), and the helper outside its backend folders includes no Linux-only header."""
import glob
import os
import re
import sys

TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
D = os.path.join(TOP, "server", "daemon")
failed = passed = 0

LINUX_ONLY = re.compile(r"^(linux/|sys/(prctl|epoll|signalfd|sysinfo|statfs|vfs|xattr|inotify|timerfd|fsuid|"
                        r"personality|capability|sendfile)\.h$|mntent\.h$|pty\.h$)")


def includes(path):
    with open(path, errors="replace") as f:
        for n, line in enumerate(f, 1):
            m = re.match(r'\s*#\s*include\s*([<"])([^>"]+)[>"]', line)
            if m:
                yield n, m.group(1), m.group(2)


def case(name, bad):
    global failed, passed
    if bad:
        failed += 1
        print("FAIL %s" % name)
        for b in bad:
            print("  " + b)
    else:
        passed += 1
        print("ok   %s" % name)


def sources(folder):
    return sorted(glob.glob(os.path.join(folder, "**", "*.[ch]"), recursive=True))


def rel(p):
    return os.path.relpath(p, TOP)


def layer_rule(folder, forbidden_local, forbidden_system):
    bad = []
    for p in sources(os.path.join(D, folder)):
        for n, kind, inc in includes(p):
            if kind == '"' and any(inc.startswith(f + "/") for f in forbidden_local):
                bad.append("%s:%d includes \"%s\"" % (rel(p), n, inc))
            if kind == "<" and inc in forbidden_system:
                bad.append("%s:%d includes <%s>" % (rel(p), n, inc))
    return bad


case("http/ includes neither api/ nor core/ nor sqlite3.h",
     layer_rule("http", ["api", "core"], ["sqlite3.h"]))
case("api/ includes neither microhttpd.h nor sqlite3.h",
     layer_rule("api", [], ["microhttpd.h", "sqlite3.h"]))
case("core/ includes neither http/ nor api/ nor microhttpd.h nor sqlite3.h",
     layer_rule("core", ["http", "api"], ["microhttpd.h", "sqlite3.h"]))
case("store/ includes neither http/ nor api/ nor core/ nor microhttpd.h",
     layer_rule("store", ["http", "api", "core"], ["microhttpd.h"]))

everything = sources(os.path.join(TOP, "server")) + sources(os.path.join(TOP, "client"))
case("only http/ includes microhttpd.h",
     ["%s:%d" % (rel(p), n) for p in everything for n, k, i in includes(p)
      if i == "microhttpd.h" and not p.startswith(os.path.join(D, "http") + os.sep)])
for header, engine in (("sqlite3.h", "engine_sqlite.c"), ("libpq-fe.h", "engine_postgresql.c")):
    case("only store/%s includes %s" % (engine, header),
         ["%s:%d" % (rel(p), n) for p in everything for n, k, i in includes(p)
          if i == header and p != os.path.join(D, "store", engine)])

def calls(folder, names):
    out = []
    for p in sources(os.path.join(D, folder)):
        with open(p) as f:
            for n, line in enumerate(f, 1):
                for name in names:
                    if re.search(r"\b%s\(" % name, line):
                        out.append("%s:%d calls %s" % (rel(p), n, name))
    return out


case("api/ sends the helper nothing itself: core/ does (priv_call, priv_hdr)",
     calls("api", ["priv_call", "priv_call_console", "priv_call_list", "priv_hdr"]))

store_h = os.path.join(D, "store", "store.h")
case("store.h speaks plain C: no jansson, no SQLite, no :memory:",
     ["%s:%d includes <%s>" % (rel(store_h), n, i) for n, k, i in includes(store_h) if i in ("jansson.h", "sqlite3.h")] +
     (["store.h names :memory:"] if ":memory:" in open(store_h).read() else []))

priv = os.path.join(TOP, "server", "priv")
case("server/priv/ outside the backend folders includes no Linux-only header",
     ["%s:%d includes <%s>" % (rel(p), n, i) for p in sources(priv)
      if not os.path.relpath(p, priv).startswith("jail_")
      for n, k, i in includes(p) if k == "<" and LINUX_ONLY.match(i)])
case("the helper's backend folders are the only ones it has",
     [rel(d) for d in glob.glob(os.path.join(priv, "*", "")) if not os.path.basename(os.path.dirname(d)).startswith("jail_")])
case("the client includes nothing of the server but server/lib",
     ["%s:%d includes \"%s\"" % (rel(p), n, i) for p in sources(os.path.join(TOP, "client"))
      for n, k, i in includes(p) if k == '"' and re.match(r"(http|api|core|store)/", i)])

# the check must see the tree it checks: an empty glob would pass anything
case("the layers exist", [f for f in ("http", "api", "core", "store") if not sources(os.path.join(D, f))])

print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
