"""Templates and export/import: an upload with a wrong checksum is refused and leaves
nothing; a hostile tarball is refused; a template in use cannot be deleted; a new
version reaches thin jails at their next start, keeping their own changes; a jail
exported from one data dir is imported into another and holds the same files."""
import hashlib
import io
import os
import stat
import tarfile
import unittest
import urllib.request

from jaildtest import Jaild, run

J = None
SRC = "/var/tmp/jaild-tpl-src"


def setUpModule():
    global J
    os.makedirs(SRC, exist_ok=True)
    J = Jaild(extra=["--allow-mount", SRC]).start()


def tearDownModule():
    J.finish()
    import shutil
    shutil.rmtree(SRC, ignore_errors=True)


def tarball(extra=None, mode="w:gz", base=True):
    """the minimal template's files (and extra TarInfo/data pairs) as a tarball"""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as t:
        if base:
            t.add(os.path.join(J.data, "templates", "minimal"), arcname=".")
        for info, data in extra or ():
            t.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def file_info(name, data, **kw):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    for k, v in kw.items():
        setattr(info, k, v)
    return info, data


def upload(name, blob, sha=None, replace=False, token=True):
    q = "/api/templates?name=%s&sha256=%s%s" % (name, sha or hashlib.sha256(blob).hexdigest(), "&replace=1" if replace else "")
    return J.call("POST", q, raw=blob, headers={"Content-Type": "application/gzip"}, token=token)


def template_dirs():
    return sorted(os.listdir(os.path.join(J.data, "templates")))


class Templates(unittest.TestCase):
    def test_a_wrong_checksum_is_refused_and_leaves_nothing(self):
        before = template_dirs()
        st, body, _ = upload("badsum", tarball(), sha="ab" * 32)
        self.assertEqual((st, body["error"]["field"]), (422, "sha256"), body)
        self.assertIn("nothing was kept", body["error"]["message"])
        self.assertEqual(template_dirs(), before)
        self.assertNotIn("badsum", [t["name"] for t in J.call("GET", "/api/templates")[1]["items"]])
        st, body, _ = upload("badsum", tarball(), sha="nothex")
        self.assertEqual(st, 422, body)

    def test_hostile_tarballs_are_refused_and_leave_nothing(self):
        before = template_dirs()
        dev = tarfile.TarInfo("etc/sda")  # a device node outside /dev: a door to the host's disk
        dev.type, dev.devmajor, dev.devminor = tarfile.BLKTYPE, 8, 0
        cases = {
            "a device node": [(dev, None)],
            "an owner past 65535": [file_info("etc/x", b"x", uid=70000)],
            "a path out of the tree": [file_info("../../escape", b"x")],
            "an absolute path": [file_info("/etc/escape", b"x")],
        }
        for why, extra in cases.items():
            st, body, _ = upload("hostile", tarball(extra, base=False))
            self.assertEqual(st, 422, (why, body))
            self.assertEqual(template_dirs(), before, why)
        self.assertFalse(os.path.exists("/var/tmp/escape") or os.path.exists(os.path.join(J.data, "escape")))
        st, body, _ = upload("garbage", b"this is not a tarball" * 100)
        self.assertEqual(st, 422, body)
        self.assertEqual(template_dirs(), before)

    def test_a_stock_rootfs_with_dev_nodes_uploads_without_them(self):
        """mmdebstrap and docker export put /dev/console and friends in a rootfs: they are
        left out (a jail's /dev is jaild's), with a note, and the template works."""
        nodes = []
        for name, major, minor in (("dev/console", 5, 1), ("dev/null", 1, 3), ("dev/sda", 8, 0)):
            info = tarfile.TarInfo(name)
            info.type, info.devmajor, info.devminor = (tarfile.BLKTYPE if name == "dev/sda" else tarfile.CHRTYPE), major, minor
            nodes.append((info, None))
        st, t, _ = upload("stock", tarball(nodes))
        self.assertEqual((st, t.get("notes")), (201, ["3 device nodes under /dev left out: a jail's /dev is made by jaild"]), t)
        self.assertFalse(os.path.exists(os.path.join(J.data, "templates", "stock", "dev", "sda")))
        st, body, _ = J.call("POST", "/api/jails?start=1", {"name": "stocky", "template": "stock"})
        self.assertEqual(st, 201, body)
        try:
            r = J.exec("stocky", "ls /dev; echo hi > /dev/null && echo ok")
            self.assertNotIn("sda", r["stdout"])
            self.assertTrue(r["stdout"].endswith("ok\n"), r)
        finally:
            J.call("DELETE", "/api/jails/stocky")
            J.call("DELETE", "/api/templates/stock")

    def test_upload_use_version_and_delete(self):
        st, t, h = upload("web", tarball([file_info("etc/flavour", b"v1\n")]))
        self.assertEqual((st, t["version"], t["source"]), (201, 1, "upload"), t)
        self.assertEqual(upload("web", tarball())[0], 409)  # exists: a new version needs replace
        st, body, _ = J.call("POST", "/api/jails?start=1", {"name": "webby", "template": "web"})
        self.assertEqual(st, 201, body)
        try:
            J.exec("webby", "echo mine > /root/mine")
            self.assertEqual(J.exec("webby", "cat /etc/flavour")["stdout"], "v1\n")
            st, body, _ = J.call("DELETE", "/api/templates/web")
            self.assertEqual(st, 409, body)
            self.assertIn("used by 1", body["error"]["message"])
            st, t, _ = upload("web", tarball([file_info("etc/flavour", b"v2\n")]), replace=True)
            self.assertEqual((st, t["version"]), (200, 2), t)
            # the running jail keeps its version; at its next start it has the new one
            self.assertEqual(J.exec("webby", "cat /etc/flavour")["stdout"], "v1\n")
            J.call("POST", "/api/jails/webby/restart")
            self.assertEqual(J.exec("webby", "cat /etc/flavour; cat /root/mine")["stdout"], "v2\nmine\n")
        finally:
            J.call("DELETE", "/api/jails/webby")
        self.assertEqual(J.call("DELETE", "/api/templates/web")[0], 204)
        self.assertEqual([d for d in template_dirs() if "web" in d], [])  # old versions too
        self.assertEqual(J.call("DELETE", "/api/templates/web")[0], 404)

    def test_minimal_stays_and_only_admins_publish(self):
        st, body, _ = J.call("DELETE", "/api/templates/minimal")
        self.assertEqual((st, body["error"]["field"]), (422, "name"), body)
        self.assertIn("minimal", template_dirs())
        J.call("POST", "/api/tenants", {"name": "tplco"})
        tok = J.call("POST", "/api/tenants/tplco/tokens", {"name": "t"})[1]["secret"]
        self.assertEqual(upload("mine", tarball(), token=tok)[0], 403)
        self.assertEqual(J.call("DELETE", "/api/templates/minimal", token=tok)[0], 403)
        self.assertEqual(J.call("GET", "/api/templates", token=tok)[0], 200)

    def test_host_users_cannot_reach_template_files(self):
        # a template may hold setuid-root programs (a distribution's su): through the
        # host's filesystem nobody but root may reach them
        for d in ("templates", "jails"):
            mode = os.stat(os.path.join(J.data, d)).st_mode
            self.assertEqual(mode & 0o077, 0, "%s is mode %o" % (d, mode & 0o777))

    def test_from_an_allowed_host_directory_only(self):
        os.makedirs(SRC + "/tree/etc", exist_ok=True)
        with open(SRC + "/tree/etc/hello", "w") as f:
            f.write("from the host\n")
        st, t, _ = J.call("POST", "/api/templates", {"name": "fromdir", "source": SRC + "/tree"})
        self.assertEqual((st, t["source"]), (201, "dir:" + SRC + "/tree"), t)
        with open(os.path.join(J.data, "templates", "fromdir", "etc", "hello")) as f:
            self.assertEqual(f.read(), "from the host\n")
        for src in ("/etc", "/root", SRC + "/../../etc"):
            st, body, _ = J.call("POST", "/api/templates", {"name": "stolen", "source": src})
            self.assertEqual((st, body["error"]["field"]), (422, "source"), (src, body))
        self.assertNotIn("stolen", template_dirs())
        self.assertEqual(J.call("DELETE", "/api/templates/fromdir")[0], 204)
        # a device node in the directory: refused, nothing kept
        os.makedirs(SRC + "/devtree/dev", exist_ok=True)
        if not os.path.exists(SRC + "/devtree/dev/sda"):
            os.mknod(SRC + "/devtree/dev/sda", 0o660 | stat.S_IFBLK, os.makedev(8, 0))
        st, body, _ = J.call("POST", "/api/templates", {"name": "withdev", "source": SRC + "/devtree"})
        self.assertEqual(st, 422, body)
        self.assertIn("device node", body["error"]["message"])
        self.assertNotIn("withdev", template_dirs())
        self.assertEqual([d for d in template_dirs() if d.startswith(".")], [])


class TenantTemplates(unittest.TestCase):
    def test_a_tenant_limited_to_some_templates(self):
        st, t, _ = upload("lamp", tarball())
        self.assertEqual(st, 201, t)
        try:
            st, body, _ = J.call("POST", "/api/tenants", {"name": "limited", "templates": ["lamp"]})
            self.assertEqual((st, body["templates"]), (201, ["lamp"]), body)
            tok = J.call("POST", "/api/tenants/limited/tokens", {"name": "t"})[1]["secret"]
            names = [x["name"] for x in J.call("GET", "/api/templates", token=tok)[1]["items"]]
            self.assertEqual(names, ["lamp"])
            st, body, _ = J.call("POST", "/api/jails", {"name": "lim1"}, token=tok)  # minimal by default
            self.assertEqual((st, body["error"]["field"]), (422, "template"), body)
            st, body, _ = J.call("POST", "/api/jails", {"name": "lim2", "template": "lamp"}, token=tok)
            self.assertEqual(st, 201, body)
            J.call("DELETE", "/api/jails/lim2")
            st, body, _ = J.call("PATCH", "/api/tenants/limited", {"templates": ["nope"]})
            self.assertEqual((st, body["error"]["field"]), (422, "templates"), body)
            st, body, _ = J.call("PATCH", "/api/tenants/limited", {"templates": None})
            self.assertEqual((st, body["templates"]), (200, None), body)
            st, body, _ = J.call("POST", "/api/jails", {"name": "lim3"}, token=tok)
            self.assertEqual(st, 201, body)
            J.call("DELETE", "/api/jails/lim3")
        finally:
            J.call("DELETE", "/api/templates/lamp")


class ExportImport(unittest.TestCase):
    def test_export_here_import_there(self):
        st, body, _ = J.call("POST", "/api/jails?start=1", {"name": "mover", "hostname": "mover.example"})
        self.assertEqual(st, 201, body)
        other = None
        try:
            J.exec("mover", "mkdir -p /srv/site && echo '<h1>hi</h1>' > /srv/site/index.html && "
                            "chown -R 33:33 /srv/site && chmod 750 /srv/site && ln -s index.html /srv/site/home && "
                            "ln /srv/site/index.html /srv/site/hard && rm /bin/vi")
            req = urllib.request.Request("http://127.0.0.1:%d/api/jails/mover/export" % J.port,
                                         headers={"Authorization": "Bearer " + J.token})
            with urllib.request.urlopen(req) as r:
                self.assertEqual(r.headers["Content-Type"], "application/x-tar")
                tar = r.read()
            with tarfile.open(fileobj=io.BytesIO(tar)) as t:
                names = t.getnames()
                self.assertIn("jail.json", names)
                owners = {m.name: m.uid for m in t.getmembers()}
            self.assertEqual(owners["files/srv/site/index.html"], 33)  # as the jail sees it, not the host uid
            other = Jaild().start()
            st, jail, h = other.call("POST", "/api/jails/import?start=1", raw=tar, headers={"Content-Type": "application/x-tar"})
            self.assertEqual((st, jail["name"], jail["hostname"], jail["state"]), (201, "mover", "mover.example", "running"), jail)
            r = other.exec("mover", "cat /srv/site/index.html; stat -c '%u %g %a' /srv/site /srv/site/index.html; "
                                    "readlink /srv/site/home; [ $(stat -c %i /srv/site/index.html) = $(stat -c %i /srv/site/hard) ] "
                                    "&& echo linked; [ -e /bin/vi ] || echo no-vi")
            self.assertEqual(r["stdout"], "<h1>hi</h1>\n33 33 750\n33 33 644\nindex.html\nlinked\nno-vi\n")
            # a second import of the same name conflicts; a renamed one works
            self.assertEqual(other.call("POST", "/api/jails/import", raw=tar)[0], 409)
            st, jail, _ = other.call("POST", "/api/jails/import?name=mover2", raw=tar)
            self.assertEqual((st, jail["name"]), (201, "mover2"), jail)
            st, body, _ = other.call("POST", "/api/jails/import", raw=b"not a tarball")
            self.assertEqual(st, 422, body)
        finally:
            J.call("DELETE", "/api/jails/mover")
            if other:
                other.stop()
                other.cleanup()


if __name__ == "__main__":
    run(__name__)
