"""Uploads (PUT /v1/files/NAME) through the shipped web-server files, on a real master and
worker: deploy/lighttpd.conf + deploy/lighttpd-files.conf (two sparkgate processes) and
deploy/apache.conf with SPARKGATE_FILES.  A jar and a .py uploaded with curl run from the
URLs sparkgate answers (the worker downloads them from the web server without a login);
the Python driver sees its arguments, a Spark property and an uploaded --py-files module;
a failing .py ends FAILED; its logs come back through the API; limits answer JSON 413;
one upload's URL reveals nothing about another's.
Ends with "files: N passed, N failed"."""
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import test_e2e as E  # noqa: E402
import web  # noqa: E402
from runner import Suite  # noqa: E402
from stack import Stack, free_port, wait_for  # noqa: E402

SUITE = Suite("files")
test = SUITE.test
PYAPP = os.path.join(E.ROOT, "tests", "app", "pyapp.py")
MAX_UPLOAD = 1 << 20
QUOTA = 3 << 20


class T:
    port = None       # lighttpd
    apache = None
    files = {}        # name -> upload answer (alice's)


def start_web():
    s = E.C.s
    state = web.server_dir(s, "state")
    common = "--state-db %s --master-ui http://127.0.0.1:%d --max-upload %d --files-quota %d" % (
        os.path.join(state, "sparkgate.db"), s.master_ui, MAX_UPLOAD, QUOTA)
    T.port, T.apache = free_port(), free_port()
    T.dir = web.server_dir(s, "files")
    T.port = web.lighttpd_fastcgi(s, name="lighttpd-files", port=T.port, files_dir=T.dir, extra_args=(
        "%s --files-dir %s --files-url http://127.0.0.1:%d/files" % (common, T.dir, T.port)))
    T.adir = web.server_dir(s, "apache-files")
    web.apache(s, name="apache-files", port=T.apache, files_dir=T.adir, extra_args=(
        "--state-db %s --files-dir %s --files-url http://127.0.0.1:%d/files" % (
            os.path.join(state, "apache.db"), T.adir, T.apache)))


def curl_put(user, path, name, port=None):
    """An upload as a user sends it: curl -T FILE (PUT with the bytes as body)."""
    p = subprocess.run(["curl", "-sS", "-u", "%s:%s" % (user, web.USERS[user]), "-T", path, "-w", "\n%{http_code}",
                        "http://127.0.0.1:%d/v1/files/%s" % (port or T.port, name)],
                       stdout=subprocess.PIPE, timeout=60, check=True)
    body, _, code = p.stdout.decode().rpartition("\n")
    return int(code), json.loads(body)


def api(user, method, path, body=None, port=None):
    return E.C.s.http(method, path, body, port=port or T.port, auth=(user, web.USERS[user]))


def fetch(url):
    """What a worker gets for url: no login."""
    try:
        with urllib.request.urlopen(url, timeout=20) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def create(user, body):
    st, js, _ = api(user, "POST", "/v1/submissions/create", body)
    assert st == 200 and js.get("success") is True, (st, js)
    return js["submissionId"]


def wait_final(sid):
    return E.wait_state(sid, E.FINAL, timeout=120, port=T.port)


@test
def an_uploaded_jar_runs_from_its_url():
    st, js = curl_put("alice", E.C.jar, "test-app.jar")
    assert st == 201 and js["action"] == "UploadFileResponse" and js["success"] is True, (st, js)
    f = T.files["jar"] = js["file"]
    data = open(E.C.jar, "rb").read()
    assert f["size"] == len(data) and f["sha256"] == hashlib.sha256(data).hexdigest(), f
    assert f["url"] == "http://127.0.0.1:%d/files/%s/test-app.jar" % (T.port, f["id"]), f
    assert len(f["id"]) == 64 and js["usedBytes"] == len(data) and js["quotaBytes"] == QUOTA, js
    assert fetch(f["url"]) == (200, data)   # as the worker will, without a login
    out = os.path.join(E.C.work, "jar-upload.txt")
    body = E.create_body(out, 0, 0, ["from an upload"])
    body["appResource"] = f["url"]
    sid = create("alice", body)
    assert wait_final(sid)["driverState"] == "FINISHED", E.C.last_status
    assert E.read_out(out)["arg"]["3"] == "from an upload"


@test
def an_uploaded_py_runs_with_an_uploaded_dependency():
    dep = os.path.join(E.C.work, "sgdep.py")
    with open(dep, "w") as f:
        f.write('VALUE = "uploaded-dep"\n')
    st, app = curl_put("alice", PYAPP, "pyapp.py")
    st2, mod = curl_put("alice", dep, "sgdep.py")
    assert st == st2 == 201, (app, mod)
    T.files["py"] = app["file"]

    def body(out, *args):
        b = E.create_body(out, 0, 0, props={"spark.sg.py": "via-upload", "spark.submit.pyFiles": mod["file"]["url"],
                                             "spark.app.name": "py-upload"})
        b.pop("mainClass")
        b["appResource"] = app["file"]["url"]
        b["appArgs"] = [out] + list(args)
        return b
    out = os.path.join(E.C.work, "py-upload.txt")
    sid = T.py_sid = create("alice", body(out, "ok", "two words"))
    failed = create("alice", body(os.path.join(E.C.work, "py-upload-fail.txt"), "fail"))
    assert wait_final(sid)["driverState"] == "FINISHED", E.C.last_status
    rows = E.read_out(out)
    assert rows["arg"]["2"] == "ok" and rows["arg"]["3"] == "two words", rows["arg"]
    assert rows["prop"]["spark.sg.py"] == "via-upload" and rows["prop"]["spark.app.name"] == "py-upload", rows
    assert rows["dep"]["sgdep"] == "uploaded-dep", rows["dep"]
    assert wait_final(failed)["driverState"] == "FAILED", E.C.last_status


@test
def the_python_drivers_logs_come_back_to_its_owner_only():
    sid = T.py_sid
    st, text, hdrs = api("alice", "GET", "/v1/submissions/logs/%s?stream=stdout" % sid)
    assert st == 200 and hdrs["Content-Type"].startswith("text/plain") and "pyapp stdout: " in text, (st, text)
    # Spark's PythonRunner merges the script's stderr into the driver's stdout
    assert "pyapp stderr" in text, text
    st, err, _ = api("alice", "GET", "/v1/submissions/logs/%s?stream=stderr" % sid)
    assert st == 200 and "org.apache.spark.deploy.SparkSubmit" in err and "Fetching http" in err, err
    st, js, _ = api("bob", "GET", "/v1/submissions/logs/%s?stream=stdout" % sid)
    st2, none, _ = api("bob", "GET", "/v1/submissions/logs/driver-20000101000000-0000?stream=stdout")
    assert st == st2 == 404 and js["message"] == none["message"].replace("driver-20000101000000-0000", sid), (js, none)


@test
def oversize_uploads_get_json_413():
    big = os.path.join(E.C.work, "big.jar")
    with open(big, "wb") as f:
        f.write(os.urandom(MAX_UPLOAD + 1))
    st, js = curl_put("alice", big, "big.jar")
    assert st == 413 and js["action"] == "ErrorResponse" and "limit of %d bytes per file" % MAX_UPLOAD in js["message"], js
    # the quota: what is left of carol's 3 MiB, in files of 1 MiB
    part = os.path.join(E.C.work, "part.jar")
    for i in range(3):
        with open(part, "wb") as f:
            f.write(os.urandom(MAX_UPLOAD))
        st, js = curl_put("carol", part, "part%d.jar" % i)
        assert st == 201, (i, js)
    st, js = curl_put("carol", part, "part3.jar")
    assert st == 413 and "files quota" in js["message"] and "you hold %d of %d bytes" % (3 * MAX_UPLOAD, QUOTA) \
        in js["message"], js
    st, listed, _ = api("carol", "GET", "/v1/files")
    assert st == 200 and len(listed["files"]) == 3 and listed["usedBytes"] == 3 * MAX_UPLOAD, listed
    # deleting one makes room again
    st, js, _ = api("carol", "DELETE", "/v1/files/" + listed["files"][0]["id"])
    assert st == 200 and js["action"] == "DeleteFileResponse", js
    st, js = curl_put("carol", part, "part3.jar")
    assert st == 201, js
    # nothing half-written is left behind
    assert os.listdir(os.path.join(T.dir, "incoming")) == [], os.listdir(os.path.join(T.dir, "incoming"))


@test
def names_that_are_not_applications_are_refused():
    for name in ("run.sh", ".hidden.jar", "-x.jar", "a%2Fb.jar", "a..b", "x.jar.txt"):
        st, js, _ = E.C.s.http("PUT", "/v1/files/" + name, b"data", port=T.port, auth=("alice", web.USERS["alice"]),
                               headers={"Content-Type": "application/octet-stream"})
        assert st == 400 and js["action"] == "ErrorResponse", (name, st, js)
    p = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-T", PYAPP,
                        "http://127.0.0.1:%d/v1/files/x.py" % T.port], stdout=subprocess.PIPE, timeout=30)
    assert p.stdout == b"401", p.stdout   # no login: the web server's answer


@test
def one_uploads_url_reveals_nothing_of_another():
    jar = T.files["jar"]
    base = "http://127.0.0.1:%d/files/" % T.port
    for url in (base, base + jar["id"] + "/", base + jar["id"]):   # no folder is listed
        st, text = fetch(url)
        assert st in (403, 404) and b"test-app.jar" not in text, (url, st, text[:200])
    st, _ = fetch(base + "0" * 64 + "/test-app.jar")
    assert st == 404, st
    # bob uploading the same bytes under the same name gets his own address
    st, js = curl_put("bob", E.C.jar, "test-app.jar")
    assert st == 201 and js["file"]["id"] != jar["id"] and js["file"]["sha256"] == jar["sha256"], js
    # the same upload again by its owner: the same address (content-addressed), not a copy
    st, again = curl_put("alice", E.C.jar, "test-app.jar")
    assert st == 200 and again["file"]["id"] == jar["id"] and again["file"]["uploaded"] == jar["uploaded"], again
    st, mine, _ = api("bob", "GET", "/v1/files")
    assert [f["id"] for f in mine["files"]] == [js["file"]["id"]], mine
    st, theirs, _ = api("bob", "GET", "/v1/files/" + jar["id"])
    assert st == 404 and theirs["action"] == "ErrorResponse", theirs
    st, _, _ = api("bob", "DELETE", "/v1/files/" + jar["id"])
    assert st == 404 and fetch(jar["url"])[0] == 200, st
    st, js, _ = api("alice", "DELETE", "/v1/files/" + jar["id"])
    assert st == 200 and not os.path.exists(os.path.join(T.dir, "pub", jar["id"])), (st, js)
    # lighttpd's stat cache may serve a deleted file for a second or two
    wait_for("deleted upload no longer served", lambda: fetch(jar["url"])[0] == 404, 10)


@test
def apache_serves_uploads_too():
    st, js = curl_put("alice", E.C.jar, "test-app.jar", port=T.apache)
    assert st == 201, js
    f = js["file"]
    assert f["url"].startswith("http://127.0.0.1:%d/files/" % T.apache) and fetch(f["url"]) == (
        200, open(E.C.jar, "rb").read()), f
    st, text = fetch("http://127.0.0.1:%d/files/%s/" % (T.apache, f["id"]))
    assert st in (403, 404) and b"test-app.jar" not in text, (st, text[:200])
    out = os.path.join(E.C.work, "apache-upload.txt")
    body = E.create_body(out, 0, 0, ["apache"])
    body["appResource"] = f["url"]
    sid = create_on(T.apache, body)
    assert E.wait_state(sid, E.FINAL, timeout=120, port=T.apache)["driverState"] == "FINISHED", E.C.last_status


def create_on(port, body):
    st, js, _ = api("alice", "POST", "/v1/submissions/create", body, port=port)
    assert st == 200 and js.get("success") is True, (st, js)
    return js["submissionId"]


def main():
    E.C.work = tempfile.mkdtemp(prefix="sparkgate-files-")
    E.C.s = Stack(workdir=E.C.work, rest_reference=False)

    def setup():
        t0 = time.time()
        E.start_cluster()
        start_web()
        E.C.s.auth = ("alice", web.USERS["alice"])   # E.wait_state asks as alice
        print("stack up in %.1fs (logs %s)" % (time.time() - t0, E.C.work), flush=True)
    return SUITE.main(setup, E.C.s.stop)


if __name__ == "__main__":
    sys.exit(main())
