"""Uploads (PUT /v1/files/NAME) through the shipped web-server files, on a real master and
worker: lighttpd.conf + deploy/lighttpd-files.conf (two sparkgate processes) and
apache.conf with SPARKGATE_FILES.  A jar and a .py uploaded with curl run from the
URLs sparkgate answers (the worker downloads them from the web server without a login);
the Python driver sees its arguments, a Spark property and an uploaded --py-files module;
a failing .py ends FAILED; its logs come back through the API; limits answer JSON 413;
one upload's URL reveals nothing about another's.
Ends with "files: N passed, N failed"."""
import hashlib
import hmac
import http.server
import json
import os
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import harness as H  # noqa: E402  (its helpers work on H.C: the stack, work dir, app jar)
import web  # noqa: E402
from runner import Suite  # noqa: E402
from stack import Stack, free_port, wait_for  # noqa: E402

SUITE = Suite("files")
test = SUITE.test
PYAPP = os.path.join(H.ROOT, "tests", "app", "pyapp.py")
MAX_UPLOAD = 1 << 20
QUOTA = 3 << 20


class T:
    port = None       # lighttpd
    apache = None
    files = {}        # name -> upload answer (alice's)


def start_web():
    s = H.C.s
    state = web.server_dir(s, "state")
    T.db = os.path.join(state, "sparkgate.db")
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
    return H.C.s.http(method, path, body, port=port or T.port, auth=(user, web.USERS[user]))


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
    return H.wait_state(sid, H.FINAL, timeout=120, port=T.port)


@test
def an_uploaded_jar_runs_from_its_url():
    st, js = curl_put("alice", H.C.jar, "test-app.jar")
    assert st == 201 and js["action"] == "UploadFileResponse" and js["success"] is True, (st, js)
    f = T.files["jar"] = js["file"]
    data = open(H.C.jar, "rb").read()
    assert f["size"] == len(data) and f["sha256"] == hashlib.sha256(data).hexdigest(), f
    assert f["url"] == "http://127.0.0.1:%d/files/%s/test-app.jar" % (T.port, f["id"]), f
    assert len(f["id"]) == 64 and js["usedBytes"] == len(data) and js["quotaBytes"] == QUOTA, js
    assert fetch(f["url"]) == (200, data)   # as the worker will, without a login
    out = os.path.join(H.C.work, "jar-upload.txt")
    body = H.create_body(out, 0, 0, ["from an upload"])
    body["appResource"] = f["url"]
    sid = create("alice", body)
    assert wait_final(sid)["driverState"] == "FINISHED", H.C.last_status
    assert H.read_out(out)["arg"]["3"] == "from an upload"


@test
def an_uploaded_py_runs_with_an_uploaded_dependency():
    dep = os.path.join(H.C.work, "sgdep.py")
    with open(dep, "w") as f:
        f.write('VALUE = "uploaded-dep"\n')
    st, app = curl_put("alice", PYAPP, "pyapp.py")
    st2, mod = curl_put("alice", dep, "sgdep.py")
    assert st == st2 == 201, (app, mod)
    T.files["py"] = app["file"]

    def body(out, *args):
        b = H.create_body(out, 0, 0, props={"spark.sg.py": "via-upload", "spark.submit.pyFiles": mod["file"]["url"],
                                             "spark.app.name": "py-upload"})
        b.pop("mainClass")
        b["appResource"] = app["file"]["url"]
        b["appArgs"] = [out] + list(args)
        return b
    out = os.path.join(H.C.work, "py-upload.txt")
    sid = T.py_sid = create("alice", body(out, "ok", "two words"))
    failed = create("alice", body(os.path.join(H.C.work, "py-upload-fail.txt"), "fail"))
    assert wait_final(sid)["driverState"] == "FINISHED", H.C.last_status
    rows = H.read_out(out)
    assert rows["arg"]["2"] == "ok" and rows["arg"]["3"] == "two words", rows["arg"]
    assert rows["prop"]["spark.sg.py"] == "via-upload" and rows["prop"]["spark.app.name"] == "py-upload", rows
    assert rows["dep"]["sgdep"] == "uploaded-dep", rows["dep"]
    assert wait_final(failed)["driverState"] == "FAILED", H.C.last_status


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
    big = os.path.join(H.C.work, "big.jar")
    with open(big, "wb") as f:
        f.write(os.urandom(MAX_UPLOAD + 1))
    st, js = curl_put("alice", big, "big.jar")
    assert st == 413 and js["action"] == "ErrorResponse" and "limit of %d bytes per file" % MAX_UPLOAD in js["message"], js
    # the quota: what is left of carol's 3 MiB, in files of 1 MiB
    part = os.path.join(H.C.work, "part.jar")
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
    # nothing half-written is left behind (the lock file is all incoming/ keeps)
    assert in_flight() == [], os.listdir(os.path.join(T.dir, "incoming"))


@test
def names_that_are_not_applications_are_refused():
    for name in ("run.sh", ".hidden.jar", "-x.jar", "a%2Fb.jar", "a..b", "x.jar.txt"):
        st, js, _ = H.C.s.http("PUT", "/v1/files/" + name, b"data", port=T.port, auth=("alice", web.USERS["alice"]),
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
    st, js = curl_put("bob", H.C.jar, "test-app.jar")
    assert st == 201 and js["file"]["id"] != jar["id"] and js["file"]["sha256"] == jar["sha256"], js
    # the same upload again by its owner: the same address (content-addressed), not a copy
    st, again = curl_put("alice", H.C.jar, "test-app.jar")
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
    st, js = curl_put("alice", H.C.jar, "test-app.jar", port=T.apache)
    assert st == 201, js
    f = js["file"]
    assert f["url"].startswith("http://127.0.0.1:%d/files/" % T.apache) and fetch(f["url"]) == (
        200, open(H.C.jar, "rb").read()), f
    st, text = fetch("http://127.0.0.1:%d/files/%s/" % (T.apache, f["id"]))
    assert st in (403, 404) and b"test-app.jar" not in text, (st, text[:200])
    out = os.path.join(H.C.work, "apache-upload.txt")
    body = H.create_body(out, 0, 0, ["apache"])
    body["appResource"] = f["url"]
    sid = create_on(T.apache, body)
    assert H.wait_state(sid, H.FINAL, timeout=120, port=T.apache)["driverState"] == "FINISHED", H.C.last_status


def in_flight():
    return sorted(n for n in os.listdir(os.path.join(T.dir, "incoming")) if n != "lock")


def host_hash():
    """incoming/ names' HOST part (files.c host_hash: FNV-1a of the host name)."""
    h = 2166136261
    for c in socket.gethostname().encode():
        h = ((h ^ c) * 16777619) & 0xffffffff
    return "%08x" % h


def quota_key(user):
    """incoming/ names' WHO part: 16 hex digits of HMAC(key, "quota" NUL user NUL)."""
    key = open(os.path.join(T.dir, "key"), "rb").read()
    return hmac.new(key, b"quota\0" + user.encode() + b"\0", hashlib.sha256).hexdigest()[:16]


def as_nobody(*argv):
    """argv as a second local user (nobody, no groups): its exit status."""
    return subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"] + list(argv),
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode


def cgi(env, args, body=b"", user="www-data"):
    """One request to sparkgate as plain CGI (the binary the web servers run), as user:
    (status, JSON or text)."""
    full = {"REQUEST_METHOD": "GET", "REMOTE_USER": "alice", "REMOTE_ADDR": "127.0.0.1",
            "CONTENT_LENGTH": str(len(body))}
    full.update(env)
    p = subprocess.run(["setpriv", "--reuid=%s" % user, "--regid=%s" % user, "--init-groups",
                        web.private_binary(H.C.s)] + web.sparkgate_args(H.C.s, args).split(),
                       input=body, env=full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    head, _, text = p.stdout.decode("utf-8", "replace").partition("\r\n\r\n")
    assert head.startswith("Status: "), (p.stdout[:300], p.stderr[-500:])
    try:
        text = json.loads(text)
    except ValueError:
        pass
    return int(head.split()[1]), text


@test
def uploads_and_the_store_are_private_to_other_users():
    """Files, the key and state.db (with -wal/-shm) as a second local user: no listing, no
    reading; the workers still get every upload through the web server."""
    st, js = curl_put("alice", H.C.jar, "private.jar")
    assert st == 201, js
    f = js["file"]
    work = H.C.s.work
    # the path down to the files is open to nobody: only sparkgate's own modes keep it out
    assert as_nobody("ls", work) == 0 and as_nobody("test", "-x", os.path.dirname(T.dir)) == 0
    for d in (T.dir, T.adir):
        folders = [d, os.path.join(d, "pub")] + [os.path.join(d, "pub", i) for i in os.listdir(os.path.join(d, "pub"))]
        assert len(folders) > 2, folders
        for folder in folders:
            mode = stat.S_IMODE(os.stat(folder).st_mode)
            assert mode == 0o2750, (folder, oct(mode))
            assert as_nobody("ls", folder) != 0, folder
        for folder in folders[2:]:
            for name in os.listdir(folder):
                path = os.path.join(folder, name)
                assert stat.S_IMODE(os.stat(path).st_mode) == 0o640, (path, oct(os.stat(path).st_mode))
                assert as_nobody("cat", path) != 0, path
        assert stat.S_IMODE(os.stat(os.path.join(d, "key")).st_mode) == 0o600
        assert stat.S_IMODE(os.stat(os.path.join(d, "incoming")).st_mode) & 0o077 == 0
        assert as_nobody("cat", os.path.join(d, "key")) != 0
    state = os.path.dirname(T.db)
    dbs = [os.path.join(state, n) for n in os.listdir(state) if ".db" in n]
    assert os.path.join(state, "sparkgate.db-wal") in dbs and os.path.join(state, "sparkgate.db-shm") in dbs, dbs
    for path in dbs:
        assert stat.S_IMODE(os.stat(path).st_mode) & 0o007 == 0, (path, oct(os.stat(path).st_mode))
        assert as_nobody("cat", path) != 0, path
    # ... and the worker still fetches it, from lighttpd and from Apache
    assert fetch(f["url"]) == (200, open(H.C.jar, "rb").read())
    st, js = curl_put("alice", H.C.jar, "private.jar", port=T.apache)
    assert st in (200, 201) and fetch(js["file"]["url"])[0] == 200, js


@test
def an_older_layout_is_made_private_on_start():
    """A --files-dir and state.db made by a version that left them 0755/0644: fixed by the
    first process that opens them."""
    old = tempfile.mkdtemp(prefix="old-", dir=H.C.s.work)
    os.chmod(old, 0o755)
    folder = os.path.join(old, "files", "pub", "ab" * 32)
    os.makedirs(folder)
    os.makedirs(os.path.join(old, "files", "incoming"))
    with open(os.path.join(old, "files", "key"), "wb") as f:
        f.write(os.urandom(32))
    os.chmod(os.path.join(old, "files", "key"), 0o600)
    with open(os.path.join(folder, "old.jar"), "wb") as f:
        f.write(b"old")
    db = os.path.join(old, "state.db")
    for path in (db, db + "-wal", db + "-shm"):
        open(path, "wb").close()
        os.chmod(path, 0o644)
    for path in (old + "/files", old + "/files/pub", folder):
        os.chmod(path, 0o755)
    os.chmod(os.path.join(folder, "old.jar"), 0o644)
    subprocess.run(["chown", "-R", "www-data:www-data", old], check=True)
    st, js = cgi({"PATH_INFO": "/v1/files"}, "--state-db %s --files-dir %s/files --files-url http://127.0.0.1:1/files"
                 % (db, old))
    assert st == 200 and js["files"] == [], (st, js)
    for path in (old + "/files", old + "/files/pub", folder):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o2750, (path, oct(os.stat(path).st_mode))
    assert stat.S_IMODE(os.stat(os.path.join(folder, "old.jar")).st_mode) == 0o640
    for path in (db, db + "-wal", db + "-shm"):
        if os.path.exists(path):   # SQLite removes -wal and -shm when the last connection closes
            assert stat.S_IMODE(os.stat(path).st_mode) == 0o640, (path, oct(os.stat(path).st_mode))
    # a fresh store is the owner's alone, and so are its -wal and -shm while they exist
    fresh = os.path.join(old, "fresh.db")
    st, js = cgi({"PATH_INFO": "/v1/files"}, "--state-db %s --files-dir %s/files --files-url http://127.0.0.1:1/files"
                 % (fresh, old))
    assert st == 200 and stat.S_IMODE(os.stat(fresh).st_mode) == 0o600, oct(os.stat(fresh).st_mode)


@test
def a_content_length_of_2_63_or_more_is_413():
    """No size wraps negative past --max-upload and the quota: CONTENT_LENGTH as sent to
    sparkgate (the web servers refuse such bodies themselves first)."""
    for length in ("9223372036854775807", "9223372036854775808", "18446744073709551615", "18446744073709551616",
                   "-1"):
        st, js = cgi({"REQUEST_METHOD": "PUT", "PATH_INFO": "/v1/files/huge.jar", "CONTENT_LENGTH": length},
                     "--state-db %s --files-dir %s --files-url http://127.0.0.1:1/files --max-upload 1m" % (T.db, T.dir))
        assert st == 413 and js["action"] == "ErrorResponse", (length, st, js)
    assert in_flight() == [], in_flight()


@test
def concurrent_uploads_cannot_pass_the_quota():
    """Five curl -T at once, 1 MiB each, against dave's 3 MiB: three stored, two 413, and never
    more than the quota in flight."""
    part = os.path.join(H.C.work, "dave.jar")
    with open(part, "wb") as f:
        f.write(os.urandom(MAX_UPLOAD))
    peak, done = [0], threading.Event()

    def watch():
        while not done.is_set():
            try:
                held = sum(int(n.split("-")[3]) for n in in_flight() if n.startswith("up-"))
            except (OSError, ValueError, IndexError):
                held = 0
            peak[0] = max(peak[0], held)
            time.sleep(0.002)
    watcher = threading.Thread(target=watch)
    watcher.start()
    procs = [subprocess.Popen(["curl", "-sS", "-u", "dave:" + web.USERS["dave"], "-T", part, "-w", "\n%{http_code}",
                               "http://127.0.0.1:%d/v1/files/d%d.jar" % (T.port, i)], stdout=subprocess.PIPE)
             for i in range(5)]
    answers = []
    for p in procs:
        out = p.communicate(timeout=60)[0].decode()
        body, _, code = out.rpartition("\n")
        answers.append((int(code), json.loads(body)))
    done.set()
    watcher.join()
    codes = sorted(c for c, _ in answers)
    assert codes == [201, 201, 201, 413, 413], answers
    assert all("files quota" in js["message"] for c, js in answers if c == 413), answers
    st, listed, _ = api("dave", "GET", "/v1/files")
    assert listed["usedBytes"] == 3 * MAX_UPLOAD and len(listed["files"]) == 3, listed
    assert peak[0] <= QUOTA, peak[0]
    assert in_flight() == [], in_flight()
    for f in listed["files"]:
        assert api("dave", "DELETE", "/v1/files/" + f["id"])[0] == 200


@test
def uploads_stopped_mid_body_cannot_pass_the_quota_on_disk():
    """Five uploads of 1 MiB at once against a 3 MiB quota, each held one byte short of its
    end (plain CGI fed by a pipe, as a web server streams a body): three are taken, two are
    refused before writing a byte, and incoming/ never holds more than the quota."""
    data = os.urandom(MAX_UPLOAD)
    env = dict(os.environ, REQUEST_METHOD="PUT", REMOTE_USER="erin", REMOTE_ADDR="127.0.0.1",
               CONTENT_LENGTH=str(len(data)))
    args = web.sparkgate_args(H.C.s, "--state-db %s --files-dir %s --files-url http://127.0.0.1:1/files "
                              "--max-upload %d --files-quota %d" % (T.db, T.dir, MAX_UPLOAD, QUOTA)).split()
    procs = []
    for i in range(5):
        procs.append(subprocess.Popen(
            ["setpriv", "--reuid=www-data", "--regid=www-data", "--init-groups", web.private_binary(H.C.s)] + args,
            env=dict(env, PATH_INFO="/v1/files/e%d.jar" % i), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL))
    live = []
    for p in procs:
        try:
            p.stdin.write(data[:-1])
            p.stdin.flush()
            live.append(p)
        except BrokenPipeError:   # refused: it answered without reading the body
            pass
    incoming = os.path.join(T.dir, "incoming")
    wait_for("bodies written", lambda: sum(os.stat(os.path.join(incoming, n)).st_size for n in in_flight())
             >= len(live) * (len(data) - 1), 30)
    on_disk = sum(os.stat(os.path.join(incoming, n)).st_size for n in in_flight())
    for p in live:
        try:
            p.stdin.write(data[-1:])
            p.stdin.close()
        except BrokenPipeError:
            pass
    codes = []
    for p in procs:
        try:
            p.stdin.close()
        except BrokenPipeError:
            pass
        out = p.stdout.read().decode()
        p.wait(timeout=60)
        codes.append(int(out.split()[1]))
    assert on_disk <= QUOTA, (on_disk, len(live))
    assert sorted(codes) == [201, 201, 201, 413, 413] and len(live) == 3, (codes, len(live))
    assert in_flight() == [], in_flight()


@test
def an_upload_in_flight_holds_its_quota():
    """An upload of dave's in flight (its incoming file, of a live process) holds 2 MiB: one
    more MiB fits, the next does not; when its process is gone, its file goes and the room
    comes back."""
    part = os.path.join(H.C.work, "dave.jar")
    holder = subprocess.Popen(["sleep", "300"])
    flying = os.path.join(T.dir, "incoming", "up-%s-%d-%d-%s-ABCDEF" % (host_hash(), holder.pid, 2 * MAX_UPLOAD,
                                                                    quota_key("dave")))
    open(flying, "wb").close()
    try:
        st, js = curl_put("dave", part, "f1.jar")
        assert st == 201, js
        st, js = curl_put("dave", part, "f2.jar")
        assert st == 413 and "you hold %d of %d bytes" % (3 * MAX_UPLOAD, QUOTA) in js["message"], js
        assert os.path.exists(flying)
    finally:
        holder.kill()
        holder.wait()
    st, js = curl_put("dave", part, "f2.jar")
    assert st == 201 and js["usedBytes"] == 2 * MAX_UPLOAD, js
    assert not os.path.exists(flying) and in_flight() == [], in_flight()


@test
def what_killed_uploads_leave_is_removed():
    """incoming/ files of a process that is gone (on this host), or untouched for over an hour
    (any host), go at the next upload; another host's live upload stays."""
    dead = subprocess.Popen(["true"])
    dead.wait()
    incoming = os.path.join(T.dir, "incoming")
    names = {
        "killed": "up-%s-%d-100-%s-AAAAAA" % (host_hash(), dead.pid, quota_key("bob")),
        "stale": "up-0badc0de-1-100-%s-BBBBBB" % quota_key("bob"),
        "elsewhere": "up-0badc0de-1-100-%s-CCCCCC" % quota_key("bob"),
    }
    for name in names.values():
        with open(os.path.join(incoming, name), "wb") as f:
            f.write(b"x" * 100)
    old = time.time() - 2 * 3600
    os.utime(os.path.join(incoming, names["stale"]), (old, old))
    st, js = curl_put("alice", PYAPP, "sweep.py")
    assert st == 201, js
    assert in_flight() == [names["elsewhere"]], in_flight()
    os.unlink(os.path.join(incoming, names["elsewhere"]))


class FakeUI(http.server.BaseHTTPRequestHandler):
    """A master web UI whose JSON lists alice's driver on a worker advertising T.web_ui,
    and that also answers as that worker: /log/ per T.log_mode, /secret for anything else."""
    SECRET = "SECRET-METADATA-7f3a"

    def do_GET(self):
        T.fake_paths.append(self.path)
        if self.path == "/json/":
            body = json.dumps({"url": "spark://127.0.0.1:%d" % H.C.s.master_port, "status": "ALIVE",
                               "workers": [{"id": "worker-rogue", "host": T.worker_host, "port": 1,
                                            "webuiaddress": T.web_ui}],
                               "activedrivers": [{"id": T.py_sid, "state": "RUNNING", "worker": "worker-rogue"}],
                               "completeddrivers": []})
            return self.answer(200, body)
        if self.path.startswith("/log/") and T.log_mode == "redirect":
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.1:%d/secret" % T.fake_port)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.path.startswith("/log/") and T.log_mode == "error":
            return self.answer(500, "Error: " + self.SECRET)
        self.answer(200, self.SECRET)

    def answer(self, code, text):
        data = text.encode()
        self.send_response(code)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@test
def a_rogue_workers_address_is_never_read_or_echoed():
    """Logs through a fake master UI: a worker advertising another host, a path with '#', a
    user, a redirect, an error page: each a 502 JSON without the body, and no request for
    anything but the worker's /log/."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeUI)
    T.fake_port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = "http://127.0.0.1:%d" % T.fake_port
    cases = [
        ("127.0.0.2", base, "plain", False),                       # another host than it registered
        ("127.0.0.1", base + "/secret#", "plain", False),          # a path, cut by '#'
        ("127.0.0.1", base + "/secret?", "plain", False),
        ("127.0.0.1", "http://x@127.0.0.1:%d" % T.fake_port, "plain", False),   # userinfo
        ("127.0.0.1", "http://127.0.0.1:%d@127.0.0.1:%d" % (T.fake_port, T.fake_port), "plain", False),
        ("127.0.0.1", "ftp://127.0.0.1:%d" % T.fake_port, "plain", False),
        ("127.0.0.1", base, "redirect", True),                     # a redirect is not followed
        ("127.0.0.1", base, "error", True),                        # an error page is not echoed
    ]
    try:
        for host, web_ui, mode, reads_log in cases:
            T.worker_host, T.web_ui, T.log_mode, T.fake_paths = host, web_ui, mode, []
            st, js = cgi({"PATH_INFO": "/v1/submissions/logs/" + T.py_sid, "QUERY_STRING": "stream=stdout"},
                         "--state-db %s --master-ui %s" % (T.db, base))
            assert st == 502 and js["action"] == "ErrorResponse", (web_ui, mode, st, js)
            assert FakeUI.SECRET not in json.dumps(js) and "/secret" not in json.dumps(js), (web_ui, js)
            logs = [p for p in T.fake_paths if p != "/json/"]
            assert "/json/" in T.fake_paths and all(p.startswith("/log/?driverId=" + T.py_sid + "&") for p in logs) \
                and len(logs) == (1 if reads_log else 0), (web_ui, mode, T.fake_paths)
        # the same worker answering 200 without Spark's header (its "Error: ..." page): 404, no body
        T.worker_host, T.web_ui, T.log_mode, T.fake_paths = "127.0.0.1", base, "plain", []
        st, js = cgi({"PATH_INFO": "/v1/submissions/logs/" + T.py_sid}, "--state-db %s --master-ui %s" % (T.db, base))
        assert st == 404 and FakeUI.SECRET not in json.dumps(js), (st, js)
    finally:
        server.shutdown()


def create_on(port, body):
    st, js, _ = api("alice", "POST", "/v1/submissions/create", body, port=port)
    assert st == 200 and js.get("success") is True, (st, js)
    return js["submissionId"]


def main():
    H.C.work = tempfile.mkdtemp(prefix="sparkgate-files-")
    H.C.s = Stack(workdir=H.C.work, rest_reference=False)

    def setup():
        t0 = time.time()
        H.start_cluster()
        start_web()
        H.C.s.auth = ("alice", web.USERS["alice"])   # H.wait_state asks as alice
        print("stack up in %.1fs (logs %s)" % (time.time() - t0, H.C.work), flush=True)
    return SUITE.main(setup, H.C.s.stop)


if __name__ == "__main__":
    sys.exit(main())
