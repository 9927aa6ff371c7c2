"""The README's walkthrough, run as written: every command line of its code blocks, in
order, against a jaild this test starts (its address, data dir and build substituted
for the README's defaults). A line that fails fails the suite, so the README cannot rot."""
import os
import re
import subprocess
import tempfile
import unittest

from jaildtest import BUILD, Jaild, run

README = os.path.join(os.path.dirname(__file__), "..", "..", "README.md")


def walkthrough_lines():
    """The command lines of the code blocks from '## Walkthrough' to the next '## '."""
    with open(README) as f:
        text = f.read()
    part = text[text.index("## Walkthrough"):]
    part = part[:part.index("\n## ", 1)]
    lines, cur = [], ""
    for line in part.splitlines():
        if not line.startswith("    "):
            continue
        body = line[4:]
        if not cur and (not body.strip() or body.lstrip().startswith("#")):
            continue
        cur += body.rstrip()
        if cur.endswith("\\"):
            cur = cur[:-1] + " "
            continue
        lines.append(cur)
        cur = ""
    return lines


class Readme(unittest.TestCase):
    def test_the_walkthrough_runs_as_written(self):
        lines = walkthrough_lines()
        self.assertGreater(len(lines), 20)
        j = Jaild().start()
        work = tempfile.mkdtemp(prefix="jaild-readme-", dir="/var/tmp")
        try:
            url = "http://127.0.0.1:%d" % j.port
            script = ["set -euo pipefail"]
            for line in lines:
                line = line.replace("http://127.0.0.1:8080", url)
                line = line.replace("/var/lib/jaild/admin.token", os.path.join(j.data, "admin.token"))
                line = line.replace("build/client/jailctl", os.path.abspath(os.path.join(BUILD, "client", "jailctl")))
                # curl says nothing on an HTTP error unless asked: here it fails the line
                line = re.sub(r"\bcurl -s\b", "curl -sS --fail-with-body", line)
                line = line.replace("curl -sS --fail-with-bodyf", "curl -sSf")
                script.append("echo '+ %s' >&2" % line.replace("'", "'\\''"))
                script.append(line)
            r = subprocess.run(["bash", "-c", "\n".join(script)], cwd=work, capture_output=True, text=True, timeout=600,
                               env=dict(os.environ, JAILD_URL=url, JAILCTL_CONFIG="/nonexistent"))
            self.assertEqual(r.returncode, 0, "a README line failed:\n%s\n%s" % (r.stderr[-3000:], r.stdout[-2000:]))
            self.assertIn("hello from web2", r.stdout)
        finally:
            subprocess.run(["rm", "-rf", work])
            j.stop()
            j.cleanup()


if __name__ == "__main__":
    run(__name__)
