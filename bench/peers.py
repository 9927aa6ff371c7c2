#!/usr/bin/env python3
"""jaild against its peers, side by side in one interleaved run: crun and LXC from
Debian (podman where it works), on the same busybox root filesystem, the same uid map
(jail root = host uid 400000000 for the peers; jaild's own slot range for jaild), the
same limits (512 processes, 256 MiB), the same first process (/bin/sh /etc/rc, which
traps TERM). Each iteration runs one of each (A, B, C, A, B, C ...), so a noisy moment
hurts all alike. Steps:
  create+start   jaild POST /api/jails?start=1; crun run --detach (its bundle ready:
                 crun has no create of files); LXC: its config written, lxc-start
  exec           /bin/true in it: the API's exec; crun exec; lxc-attach
  stop+destroy   SIGTERM and wait, then remove: the API's stop and DELETE; crun kill TERM,
                 wait, crun delete; lxc-stop (TERM), lxc-destroy
with no network, and with one (jaild: an address from its pool on a veth; LXC: a veth
on a bridge of the bench's own, no uplink; crun has no network of its own to give).
Then 100 starts in a row and the rate. Prints p50/p90 per step and jaild's ratio to the
best peer (target: <= 0.8 at p50, <= 1.0 at p90). As root, through bench/run.sh.

On a hybrid cgroup host crun refuses to run ("cgroups in hybrid mode not supported")
unless the cgroup2 mount is hidden: this process then moves to a private mount
namespace (after starting jaild) and unmounts /sys/fs/cgroup/unified in it."""
import ctypes
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
from jaildtest import Jaild  # noqa: E402

N = int(os.environ.get("BENCH_N", "40"))
ROW = int(os.environ.get("BENCH_ROW", "100"))
BASE = "/var/tmp/jaild-peers"
UID = 400000000
BRIDGE = "jdpeers0"


def sh(*argv, check=True, quiet=True):
    # stderr into a file, not a pipe: what a tool leaves running (a container's first
    # process) would hold a pipe open and keep us waiting
    with tempfile.TemporaryFile() as err:
        r = subprocess.run(argv, stdout=subprocess.DEVNULL if quiet else None, stderr=err)
        if check and r.returncode != 0:
            err.seek(0)
            raise RuntimeError("%s: exit %d: %s" % (" ".join(argv), r.returncode, err.read().decode(errors="replace").strip()[-500:]))
    return r


def p(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def ms(x):
    return "%7.2f ms" % (x * 1000)


def shifted_rootfs(src, dst):
    """the template, owned by the peers' jail root"""
    if os.path.exists(dst):
        shutil.rmtree(dst)
    sh("cp", "-a", src, dst)
    sh("chown", "-R", "-h", "%d:%d" % (UID, UID), dst)


def private_cgroup_view():
    """crun on a hybrid host: hide the cgroup2 mount in a mount namespace of our own"""
    if not os.path.ismount("/sys/fs/cgroup/unified"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(0x00020000) != 0:  # CLONE_NEWNS
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNS)")
    sh("mount", "--make-rprivate", "/")
    sh("umount", "/sys/fs/cgroup/unified")
    return True


class JaildSys:
    name = "jaild"

    def __init__(self, j):
        self.j = j

    def create_start(self, cid, net):
        st, body, _ = self.j.call("POST", "/api/jails?start=1", {"name": cid, "ip4": ["auto"] if net else [],
                                                                  "limits": {"maxproc": 512, "memoryuse": "256M"}})
        assert st == 201 and body["state"] == "running", body

    def exec(self, cid):
        r = self.j.exec(cid, ["/bin/true"])
        assert r["exit_code"] == 0, r

    def stop_destroy(self, cid):
        st, body, _ = self.j.call("POST", "/api/jails/%s/stop" % cid)
        assert st == 200, body
        st, body, _ = self.j.call("DELETE", "/api/jails/" + cid)
        assert st == 204, body


class CrunSys:
    name = "crun"

    def __init__(self, rootfs):
        self.bundle = os.path.join(BASE, "crun")
        os.makedirs(self.bundle, exist_ok=True)
        config = {
            "ociVersion": "1.0.2",
            "process": {"terminal": False, "user": {"uid": 0, "gid": 0}, "args": ["/bin/sh", "/etc/rc"],
                        "env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], "cwd": "/",
                        "noNewPrivileges": True},
            "root": {"path": rootfs, "readonly": False},
            "hostname": "peer",
            "mounts": [
                {"destination": "/proc", "type": "proc", "source": "proc"},
                {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755", "size=65536k"]},
            ],
            "linux": {
                "namespaces": [{"type": t} for t in ("pid", "ipc", "uts", "mount", "user", "network")],
                "uidMappings": [{"containerID": 0, "hostID": UID, "size": 65536}],
                "gidMappings": [{"containerID": 0, "hostID": UID, "size": 65536}],
                "resources": {"pids": {"limit": 512}, "memory": {"limit": 256 << 20}},
            },
        }
        with open(os.path.join(self.bundle, "config.json"), "w") as f:
            json.dump(config, f)

    def create_start(self, cid, net):
        sh("crun", "run", "--detach", "--bundle", self.bundle, cid)

    def exec(self, cid):
        sh("crun", "exec", cid, "/bin/true")

    def stop_destroy(self, cid):
        sh("crun", "kill", cid, "TERM")
        while json.loads(subprocess.run(["crun", "state", cid], capture_output=True, text=True).stdout or
                         '{"status":"stopped"}')["status"] != "stopped":
            time.sleep(0.001)
        sh("crun", "delete", cid)


class LxcSys:
    name = "lxc"

    def __init__(self, rootfs):
        self.path = os.path.join(BASE, "lxc")
        self.rootfs = rootfs
        os.makedirs(self.path, exist_ok=True)

    def create_start(self, cid, net):
        d = os.path.join(self.path, cid)
        os.makedirs(d)
        lines = [
            "lxc.uts.name = peer",
            # thin, as jaild's: the shared tree under a private overlay layer
            "lxc.rootfs.path = overlay:%s:%s/delta0" % (self.rootfs, d),
            "lxc.idmap = u 0 %d 65536" % UID, "lxc.idmap = g 0 %d 65536" % UID,
            "lxc.init.cmd = /bin/sh /etc/rc",
            "lxc.signal.halt = SIGTERM",
            "lxc.mount.auto = proc:mixed",
            "lxc.autodev = 1",
        ]
        if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
            lines += ["lxc.cgroup2.pids.max = 512", "lxc.cgroup2.memory.max = %d" % (256 << 20)]
        else:
            lines += ["lxc.cgroup.pids.max = 512", "lxc.cgroup.memory.limit_in_bytes = %d" % (256 << 20)]
        if net:
            lines += ["lxc.net.0.type = veth", "lxc.net.0.link = " + BRIDGE, "lxc.net.0.flags = up",
                      "lxc.net.0.ipv4.address = 10.253.0.%d/16" % (hash(cid) % 250 + 2)]
        else:
            lines += ["lxc.net.0.type = empty"]
        with open(os.path.join(d, "config"), "w") as f:
            f.write("\n".join(lines) + "\n")
        os.makedirs(os.path.join(d, "delta0"))
        # its overlay's work directory is made by its root: the container's own
        for x in (d, os.path.join(d, "delta0")):
            os.chown(x, UID, UID)
        sh("lxc-start", "-n", cid, "-P", self.path)

    def exec(self, cid):
        sh("lxc-attach", "-n", cid, "-P", self.path, "--", "/bin/true")

    def stop_destroy(self, cid):
        sh("lxc-stop", "-n", cid, "-P", self.path, "-t", "10")
        sh("lxc-destroy", "-n", cid, "-P", self.path)


def measure(systems, net, rounds):
    """per system, per step: a list of seconds, interleaved"""
    out = {s.name: {"create+start": [], "exec": [], "stop+destroy": []} for s in systems}
    for i in range(rounds):
        for s in systems:
            cid = "p%s%d%s" % (s.name[0], i, "n" if net else "")
            for step, fn in (("create+start", lambda: s.create_start(cid, net)), ("exec", lambda: s.exec(cid)),
                             ("stop+destroy", lambda: s.stop_destroy(cid))):
                t = time.perf_counter()
                fn()
                out[s.name][step].append(time.perf_counter() - t)
    return out


def report(title, res):
    print(title)
    for step in ("create+start", "exec", "stop+destroy"):
        peers = [n for n in res if n != "jaild" and res[n][step]]
        for n in ["jaild"] + peers:
            xs = res[n][step]
            print("  %-13s %-6s p50 %s  p90 %s" % (step, n, ms(p(xs, 0.5)), ms(p(xs, 0.9))))
        if peers:
            b50 = min(p(res[n][step], 0.5) for n in peers)
            b90 = min(p(res[n][step], 0.9) for n in peers)
            j = res["jaild"][step]
            print("  %-13s jaild / best peer: %.2f at p50 (target <= 0.8), %.2f at p90 (target <= 1.0)"
                  % (step, p(j, 0.5) / b50, p(j, 0.9) / b90))


def in_a_row(systems, n):
    print("%d starts in a row (no network), then all stopped" % n)
    took = {}
    for s in systems:
        t = time.perf_counter()
        for i in range(n):
            s.create_start("r%s%d" % (s.name[0], i), False)
        took[s.name] = time.perf_counter() - t
        print("  %-6s %.1f starts/s" % (s.name, n / took[s.name]))
        for i in range(n):
            s.stop_destroy("r%s%d" % (s.name[0], i))
    best = min(v for k, v in took.items() if k != "jaild")
    print("  jaild's time / best peer's: %.2f (target <= 0.8)" % (took["jaild"] / best))


def main():
    missing = [t for t in ("crun", "lxc-start") if not shutil.which(t)]
    if missing:
        sys.exit("peers: %s not installed (bench/run.sh installs them)" % ", ".join(missing))
    os.makedirs(BASE, exist_ok=True)
    os.chmod(BASE, 0o755)
    # LXC maps ids through newuidmap even as root: root needs the range in subuid/subgid
    for f in ("/etc/subuid", "/etc/subgid"):
        line = "root:%d:65536" % UID
        with open(f) as fh:
            have = any(l.strip() == line for l in fh)
        if not have:
            with open(f, "a") as fh:
                fh.write(line + "\n")
            print("host: added %s to %s (LXC's newuidmap needs it)" % (line, f))
    j = Jaild(extra=["--rate-limit", "0"]).start()
    try:
        rootfs = os.path.join(BASE, "rootfs")
        shifted_rootfs(os.path.join(j.data, "templates", "minimal"), rootfs)
        hidden = private_cgroup_view()
        if hidden:
            print("host: hybrid cgroups; crun runs with the cgroup2 mount hidden in a private mount namespace")
        sh("ip", "link", "add", BRIDGE, "type", "bridge", check=False)
        sh("ip", "link", "set", BRIDGE, "up")
        systems = [JaildSys(j), CrunSys(rootfs), LxcSys(rootfs)]
        for s in systems:  # warm up: first runs load caches and modules
            print("warming up %s" % s.name, file=sys.stderr, flush=True)
            s.create_start("w" + s.name[0], False)
            s.exec("w" + s.name[0])
            s.stop_destroy("w" + s.name[0])
        report("no network (n=%d, interleaved)" % N, measure(systems, False, N))
        report("with a network: jaild a pool address on a veth, LXC a veth on a bridge (n=%d)" % N,
               measure([systems[0], systems[2]], True, N))
        in_a_row(systems, ROW)
    finally:
        sh("ip", "link", "del", BRIDGE, check=False)
        j.finish()
        shutil.rmtree(BASE, ignore_errors=True)


if __name__ == "__main__":
    main()
