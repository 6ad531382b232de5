"""deploy/run-local from a fresh clone of this tree (tracked files, uncommitted changes included,
tests/ removed: it needs none of the test harness), as a new user runs it: it builds, starts
master, worker, lighttpd and sparkgate, and prints how to sign in. The portal answers at the
printed address with that login (401 without); a jar uploaded and submitted there as the
printed user runs to FINISHED and is listed as theirs; the real spark-submit submits to the
printed no-login port; a create and a kill from a DNS-rebound page (a foreign Host, a matching
Origin) are refused and reach no master; Ctrl-C stops everything.
Ends with "local: N passed, N failed"."""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import harness as H  # noqa: E402  (its helpers work on H.C: the stack, work dir, app jar)
from runner import Suite  # noqa: E402
from stack import ROOT, Stack, free_port, wait_for  # noqa: E402

SUITE = Suite("local")
test = SUITE.test


class L:
    proc = None
    out = ""


def fresh_clone(dst):
    """A clone holding what the tree holds now: `git stash create` makes a commit of the
    work tree's tracked files without touching it (nothing when it is clean)."""
    snap = subprocess.run(["git", "-c", "user.name=sparkgate-test", "-c", "user.email=test@localhost", "stash",
                           "create"], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                          check=True).stdout.strip()
    subprocess.run(["git", "clone", "-q", "--no-hardlinks", ROOT, dst], check=True)
    if snap:
        subprocess.run(["git", "fetch", "-q", ROOT, snap], cwd=dst, check=True)
        subprocess.run(["git", "checkout", "-q", snap], cwd=dst, check=True)


def start():
    work = tempfile.mkdtemp(prefix="sparkgate-local-")
    clone = os.path.join(work, "clone")
    fresh_clone(clone)
    # run-local runs on shipped code only (deploy/sparkstack.py), never the test harness
    shutil.rmtree(os.path.join(clone, "tests"))
    L.port, L.portal = free_port(), free_port()
    env = dict(os.environ, SPARKGATE_HTTP_PORT=str(L.port), SPARKGATE_PORTAL_PORT=str(L.portal),
               SPARKGATE_WORK=os.path.join(work, "stack"))
    env.pop("SPARKGATE_BIN", None)
    L.log = open(os.path.join(work, "run-local.out"), "w+")
    L.proc = subprocess.Popen([os.path.join(clone, "deploy", "run-local")], cwd=clone, env=env, stdout=L.log,
                              stderr=subprocess.STDOUT, start_new_session=True)

    def up():
        L.log.seek(0)
        L.out = L.log.read()
        return L.proc.poll() is not None or "Ctrl-C stops everything." in L.out
    wait_for("run-local's stack (see %s)" % L.log.name, up, 600, 1)
    assert L.proc.poll() is None, "run-local exited %s:\n%s" % (L.proc.returncode, L.out[-3000:])
    m = re.search(r"portal \(sign in below\)\s+(http://\S+)\n\s+user (\S+)\s+password (\S+)", L.out)
    assert m, L.out
    L.url, L.user, L.password = m.groups()
    H.C.work = work
    H.C.s = Stack(workdir=os.path.join(work, "client"), rest_reference=False, http_port=L.portal)
    H.C.s.auth = (L.user, L.password)
    H.C.jar = H.build_app(H.C.s.work)


def get(url, auth=None):
    req = urllib.request.Request(url)
    if auth:
        import base64
        req.add_header("Authorization", "Basic " + base64.b64encode(("%s:%s" % auth).encode()).decode())
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


@test
def the_portal_answers_at_the_printed_address_with_the_printed_login():
    assert L.url == "http://127.0.0.1:%d/portal/" % L.portal, L.url
    st, page = get(L.url, (L.user, L.password))
    assert st == 200 and "Spark drivers" in page and "portal.js" in page, (st, page[:300])
    assert get(L.url)[0] == 401
    assert get(L.url, (L.user, "wrong"))[0] == 401
    st, js, _ = H.C.s.http("GET", "/v1/submissions")
    assert st == 200 and js["user"] == L.user and js["submissions"] == [], (st, js)


@test
def a_driver_uploaded_and_submitted_there_finishes_as_the_printed_user():
    data = open(H.C.jar, "rb").read()
    st, up, _ = H.C.s.http("PUT", "/v1/files/test-app.jar", data, headers={"Content-Type": "application/octet-stream"})
    assert st == 201 and up["file"]["url"].startswith("http://127.0.0.1:%d/files/" % L.port), (st, up)
    out = os.path.join(H.C.s.work, "local.txt")
    body = H.create_body(out, 0, 0, ["from run-local"])
    body["appResource"] = up["file"]["url"]
    sid = H.submit(body)
    assert H.wait_state(sid, H.FINAL, timeout=120)["driverState"] == "FINISHED", H.C.last_status
    assert H.read_out(out)["arg"]["3"] == "from run-local"
    st, js, _ = H.C.s.http("GET", "/v1/submissions")
    assert [(d["submissionId"], d["owner"]) for d in js["submissions"]] == [(sid, L.user)], js


@test
def spark_submit_works_on_the_no_login_port():
    rc, log = H.spark_submit("--master", "spark://127.0.0.1:%d" % L.port, "--deploy-mode", "cluster", "--conf",
                             "spark.master.rest.enabled=true", "--driver-memory", "512m", "--class", "TestApp",
                             H.C.jar, "/dev/null", "0", "0")
    m = re.search(r"Submission successfully created as (driver-\d{14}-\d{4})", log)
    assert rc == 0 and m, log[-3000:]
    H.C.s.http_port = L.port
    try:
        assert H.wait_state(m.group(1), H.FINAL, timeout=120)["driverState"] == "FINISHED", H.C.last_status
    finally:
        H.C.s.http_port = L.portal


def master_drivers():
    m = re.search(r"Spark master web UI\s+(http://\S+)", L.out)
    assert m, L.out
    with urllib.request.urlopen(m.group(1).rstrip("/") + "/json/", timeout=10) as r:
        js = __import__("json").loads(r.read())
    return sorted(d["id"] for d in js.get("activedrivers", []) + js.get("completeddrivers", []))


@test
def a_rebound_host_name_is_refused_and_nothing_reaches_the_master():
    """DNS rebinding: a page at http://rebind.evil.example:PORT whose name now points at
    127.0.0.1 is same-origin with itself; its create and kill carry its own name in Host and
    a matching Origin.  lighttpd refuses them (403) before sparkgate, which has --hosts too."""
    before = master_drivers()
    body = H.create_body("/dev/null", 0, 0)
    for port in (L.port, L.portal):
        for name in ("rebind.evil.example", "127.0.0.1.nip.io", "localhost"):   # localhost: on port 80
            host = name if name == "localhost" else "%s:%d" % (name, port)
            hdrs = {"Host": host, "Origin": "http://" + host, "Content-Type": "text/plain"}
            st, js, _ = H.C.s.http("POST", "/v1/submissions/create", body, port=port, headers=hdrs)
            assert st in (400, 403), (host, st, js)
            st, js, _ = H.C.s.http("POST", "/v1/submissions/kill/" + (before[-1] if before else "driver-1"), b"",
                                   port=port, headers=hdrs)
            assert st in (400, 403), (host, st, js)
            assert H.C.s.http("GET", "/readyz", port=port, headers={"Host": host})[0] in (400, 403)
    assert master_drivers() == before, (before, master_drivers())
    # the served names still work, and sparkgate itself was told them
    st, js, _ = H.C.s.http("GET", "/v1/submissions", headers={"Host": "localhost:%d" % L.portal})
    assert st == 200 and js["user"] == L.user, (st, js)
    ps = subprocess.run(["ps", "-eo", "args"], stdout=subprocess.PIPE, text=True).stdout
    mine = [l for l in ps.splitlines() if "sparkgate" in l and "--files-url http://127.0.0.1:%d/" % L.port in l]
    assert mine and all("--hosts 127.0.0.1:%d,localhost:%d,127.0.0.1:%d,localhost:%d" % (
        L.port, L.port, L.portal, L.portal) in l for l in mine), mine


@test
def ctrl_c_stops_everything():
    os.killpg(L.proc.pid, signal.SIGINT)
    L.proc.wait(timeout=90)
    L.log.seek(0)
    assert "stopping..." in L.log.read()
    for port in (L.port, L.portal):
        import socket
        with socket.socket() as c:
            c.settimeout(1)
            assert c.connect_ex(("127.0.0.1", port)) != 0, "port %d still answers" % port


def stop():
    if L.proc and L.proc.poll() is None:
        os.killpg(L.proc.pid, signal.SIGINT)
        try:
            L.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(L.proc.pid, signal.SIGKILL)


def main():
    def setup():
        t0 = time.time()
        start()
        print("run-local up in %.1fs (%s)" % (time.time() - t0, L.log.name), flush=True)
    return SUITE.main(setup, stop)


if __name__ == "__main__":
    sys.exit(main())
