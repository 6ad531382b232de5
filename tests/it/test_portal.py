"""The submission portal (deploy/portal/) in headless Chromium against the real stack: the
shipped lighttpd.conf serving the portal and the API behind Basic auth, sparkgate
with --state-db and the shipped policy (plus the test app's local jar), a real master and
worker.  tests/browser/portal.cjs drives the browser; each of its checks is a test here.
Screenshots: WORK/screenshots/.  Ends with "portal: N passed, N failed"."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import harness as H  # noqa: E402  (its helpers work on H.C: the stack, work dir, app jar)
import web  # noqa: E402
from runner import Suite  # noqa: E402
from stack import ROOT, Stack, free_port  # noqa: E402

SUITE = Suite("portal")
SCRIPT = os.path.join(ROOT, "tests", "browser", "portal.cjs")

PLAYWRIGHT = os.path.join(os.environ.get("SPARKGATE_CACHE", os.path.expanduser("~/.cache/sparkgate")),
                          "npm", "node_modules", "playwright-core")


def main():
    work = H.C.work = tempfile.mkdtemp(prefix="sparkgate-portal-")
    s = H.C.s = Stack(workdir=work, rest_reference=False)
    t0 = time.time()
    try:
        H.start_cluster()
        db = os.path.join(web.server_dir(s, "state"), "state.db")
        port = free_port()
        files = "http://127.0.0.1:%d/files/" % port
        # uploads approved, as an operator who lets every user run what they upload would
        policy = web.shipped_policy(os.path.join(work, "policy.conf"), os.path.dirname(H.C.jar),
                                    "\nmax driver-memory 1g\nallow property spark.sgportal.*\n"
                                    "allow app %s TestApp\nallow python %s\n" % (files, files))
        files_dir = web.server_dir(s, "files")
        port = web.lighttpd_fastcgi(s, name="lighttpd-portal", port=port, files_dir=files_dir, extra_args=(
            "--state-db %s --policy %s --master-ui http://127.0.0.1:%d --files-dir %s --files-url %s"
            % (db, policy, s.master_ui, files_dir, files.rstrip("/"))))
        # a driver of bob's, which alice must not see
        body = H.create_body(os.path.join(work, "bob.txt"), 0, 0)
        st, js, _ = s.http("POST", "/v1/submissions/create", body, port=port, auth=("bob", web.USERS["bob"]))
        assert st == 200, js
        print("stack up in %.1fs (logs %s)" % (time.time() - t0, work), flush=True)
        env = dict(os.environ, PORTAL_URL="http://127.0.0.1:%d/portal/" % port, USERS=json.dumps(web.USERS),
                   JAR=H.C.jar, PYAPP=os.path.join(ROOT, "tests", "app", "pyapp.py"), WORK=work, OTHER_ID=js["submissionId"], PLAYWRIGHT_CORE=PLAYWRIGHT,
                   CHROMIUM=shutil.which("chromium") or "/usr/bin/chromium")
        p = subprocess.run(["node", SCRIPT], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=600)
        print(p.stdout, end="", flush=True)
        # each check the script makes is one result; all of them must have reported, and
        # node must have ended as its results say
        results = re.findall(r"^(ok  |FAIL) (.*?)(?::|$)", p.stdout, re.M)
        for mark, name in results:
            SUITE.record(name.strip(), mark == "ok  ", quiet=True)
        expected = len(re.findall(r"^\s*await check\(", open(SCRIPT).read(), re.M))
        SUITE.record("portal.cjs reported all %d checks (%d)" % (expected, len(results)), len(results) == expected)
        SUITE.record("node exited %d, as its results say" % p.returncode,
                     (p.returncode == 0) == all(mark == "ok  " for mark, _ in results))
        print("screenshots in %s" % os.path.join(work, "screenshots"))
    except Exception:
        SUITE.setup_failed("portal stack")
    finally:
        s.stop()
    print("(%.0fs)" % (time.time() - t0))
    return SUITE.finish()


if __name__ == "__main__":
    sys.exit(main())
