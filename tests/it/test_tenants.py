"""Many users on one sparkgate: the shipped lighttpd.conf (Basic auth, 2 sparkgate
processes) with --state-db and the shipped deploy/policy.conf (alice and bob analysts,
carol in the admin group), against a real master and worker.  Each user sees and kills only
their own drivers (someone else's id is answered exactly like an unknown id), the admin sees
and lists everything, a retried create with the same idempotency key starts one driver,
and ownership survives a restart of every sparkgate process.
Ends with "tenants: N passed, N failed"."""
import base64
import hashlib
import hmac
import json
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import harness as H  # noqa: E402  (its helpers work on H.C: the stack, work dir, app jar)
import web  # noqa: E402
from runner import Suite  # noqa: E402
from stack import Stack, wait_for  # noqa: E402

SUITE = Suite("tenants")
test = SUITE.test
USER = {name: (name, pw) for name, pw in web.USERS.items()}


class T:
    port = None
    ids = {}


# The shipped deploy/policy.conf, plus what this test needs: the test app is a local jar,
# approved by its folder (the shipped "allow app" line edited, as an operator would).
TEST_RULES = """
allow property spark.driver.supervise spark.driver.extraClassPath
allow java-option -Xdebug
allow env SG_*
max driver-memory 1g
quota user * drivers 100 cores 200 memory 400g
quota user dave drivers 1
quota group ops drivers 1 memory 8g
"""


def start_web():
    db = os.path.join(web.server_dir(H.C.s, "state"), "sparkgate.db")
    # Python applications from the checkout's tests/app (the Livy tests submit pyapp.py)
    rules = TEST_RULES + "allow python file:%s/\n" % os.path.join(H.ROOT, "tests", "app")
    policy = web.shipped_policy(os.path.join(H.C.work, "policy.conf"), os.path.dirname(H.C.jar), rules)
    T.audit = os.path.join(web.server_dir(H.C.s, "state"), "audit.log")
    T.port = web.lighttpd_fastcgi(H.C.s, name="lighttpd-tenants",
                                  extra_args="--state-db %s --policy %s --audit-log %s --master-ui http://127.0.0.1:%d"
                                  % (db, policy, T.audit, H.C.s.master_ui))


def http(user, method, path, body=None, headers=None):
    return H.C.s.http(method, path, body, port=T.port, auth=USER[user], headers=headers)


def create(user, tag, sleep=120, headers=None, props=None):
    body = H.create_body(os.path.join(H.C.work, "%s-%s.txt" % (user, tag)), sleep, 0,
                         props=dict({"spark.app.name": "tenants-%s-%s" % (user, tag)}, **(props or {})))
    return http(user, "POST", "/v1/submissions/create", body, headers)


@test
def each_user_sees_and_kills_only_their_own():
    st, js, _ = create("alice", "mine")
    assert st == 200 and js["success"], (st, js)
    sid = T.ids["alice"] = js["submissionId"]
    st, mine, _ = http("alice", "GET", "/v1/submissions/status/" + sid)
    assert st == 200 and mine["success"] is True and mine["driverState"] in ("SUBMITTED", "RUNNING"), mine
    # bob: the same answer an id nobody submitted gets
    unknown = "driver-20000101000000-0000"
    st, theirs, _ = http("bob", "GET", "/v1/submissions/status/" + sid)
    st2, none, _ = http("bob", "GET", "/v1/submissions/status/" + unknown)
    assert st == st2 == 200 and theirs == dict(none, submissionId=sid) and theirs["success"] is False, (theirs, none)
    st, k, _ = http("bob", "POST", "/v1/submissions/kill/" + sid, b"")
    st2, k2, _ = http("bob", "POST", "/v1/submissions/kill/" + unknown, b"")
    assert st == st2 == 200 and k["success"] is False and k["message"] == k2["message"].replace(unknown, sid), (k, k2)
    st, js, _ = http("alice", "GET", "/v1/submissions/status/" + sid)
    assert js["driverState"] in ("SUBMITTED", "RUNNING"), js   # bob's kill did nothing
    # nor can bob read its logs: the unknown-id answer again
    st, lg, _ = http("bob", "GET", "/v1/submissions/logs/" + sid)
    st2, lg2, _ = http("bob", "GET", "/v1/submissions/logs/" + unknown)
    assert st == st2 == 404 and lg == lg2 and lg["action"] == "ErrorResponse", (lg, lg2)
    # carol (admin) sees it
    st, js, _ = http("carol", "GET", "/v1/submissions/status/" + sid)
    assert st == 200 and js["success"] is True, js
    log = open(os.path.join(H.C.work, "lighttpd-tenants.log"), errors="replace").read()
    assert "user=bob" in log and "another user's: answered as unknown" in log


@test
def listing_shows_own_drivers_and_admin_sees_all():
    st, js, _ = create("bob", "listed", sleep=0)
    assert st == 200, js
    T.ids["bob"] = js["submissionId"]
    st, alice, _ = http("alice", "GET", "/v1/submissions")
    assert st == 200 and alice["action"] == "SubmissionListResponse" and alice["success"] is True, alice
    assert [d["submissionId"] for d in alice["submissions"]] == [T.ids["alice"]], alice
    d = alice["submissions"][0]
    assert d["owner"] == "alice" and d["mainClass"] == "TestApp" and d["appName"] == "tenants-alice-mine" \
        and d["driverState"] in ("SUBMITTED", "RUNNING") and d["submitTime"].endswith("Z"), d
    st, bob, _ = http("bob", "GET", "/v1/submissions/")
    assert [d["submissionId"] for d in bob["submissions"]] == [T.ids["bob"]], bob
    st, carol, _ = http("carol", "GET", "/v1/submissions")
    owners = {d["submissionId"]: d["owner"] for d in carol["submissions"]}
    assert owners == {T.ids["alice"]: "alice", T.ids["bob"]: "bob"}, carol
    # every state from one read of the master's web UI JSON: no status ask per driver
    log = open(os.path.join(H.C.work, "lighttpd-tenants.log"), errors="replace").read()
    lines = re.findall(r"GET /v1/submissions -> 200 [\d.]+ms asks=(\d+) user=carol", log)
    assert lines and lines[-1] == "0", lines
    for d in carol["submissions"]:
        theirs = H.C.s.http("GET", "/v1/submissions/status/" + d["submissionId"], port=T.port, auth=USER["carol"])[1]
        assert d.get("driverState") == theirs["driverState"] and d.get("workerId") == theirs.get("workerId") \
            and d.get("workerHostPort") == theirs.get("workerHostPort"), (d, theirs)
    st, js, _ = http("alice", "POST", "/v1/submissions", b"")
    assert st == 405 and js["action"] == "ErrorResponse", (st, js)


@test
def retried_create_with_the_same_key_starts_one_driver():
    first = create("alice", "idem", sleep=0, headers={"Idempotency-Key": "k-123"})
    again = create("alice", "idem", sleep=0, headers={"Idempotency-Key": "k-123"})
    T.ids["idem"] = first[1]["submissionId"]
    assert first[0] == again[0] == 200 and first[1]["submissionId"] == again[1]["submissionId"], (first, again)
    assert again[1]["message"] == first[1]["message"], (first[1], again[1])
    # the same key for another user is another submission
    other = create("bob", "idem", sleep=0, headers={"Idempotency-Key": "k-123"})
    assert other[0] == 200 and other[1]["submissionId"] != first[1]["submissionId"], other
    # clients that cannot set headers: the key as a Spark property
    p1 = create("alice", "prop", sleep=0, props={"spark.sparkgate.idempotencyKey": "p-9"})
    p2 = create("alice", "prop", sleep=0, props={"spark.sparkgate.idempotencyKey": "p-9"})
    assert p1[1]["submissionId"] == p2[1]["submissionId"], (p1, p2)
    # exactly one driver per key at the real master
    names = {}
    state = H.C.s.master_state()
    for d in state["activedrivers"] + state["completeddrivers"]:
        names[d["id"]] = d
    ids = {first[1]["submissionId"], other[1]["submissionId"], p1[1]["submissionId"]}
    assert ids <= set(names), (ids, sorted(names))
    st, listed, _ = http("alice", "GET", "/v1/submissions")
    alice_ids = [d["submissionId"] for d in listed["submissions"]]
    assert len(alice_ids) == len(set(alice_ids)) == 3, alice_ids   # mine, idem, prop


POLICY_CASES = [
    # (what the create changes, the rule the refusal must name)
    ({"props": {"spark.driver.extraClassPath": "/opt/x.jar"}}, 'property spark.driver.extraClassPath is never'),
    ({"props": {"spark.driver.extraJavaOptions": "-XX:+UseG1GC -javaagent:/tmp/a.jar"}}, '-javaagent:/tmp/a.jar is never'),
    ({"props": {"spark.executor.extraJavaOptions": "-Xdebug"}}, '-Xdebug (in spark.executor.extraJavaOptions) is never'),
    ({"props": {"spark.driver.cores": "8"}}, 'max driver-cores'),
    ({"props": {"spark.driver.memory": "2g"}}, 'max driver-memory'),
    ({"props": {"spark.driver.supervise": "true"}}, 'supervise allow'),
    ({"env": {"HOME_DIR": "/x"}}, 'allow env'),
    ({"resource": "hdfs://nn/app.jar"}, 'not an approved application'),
    ({"props": {"sg.custom": "1"}}, 'system property sg.custom is never allowed'),
]


@test
def each_policy_rule_refuses_and_nothing_reaches_the_master():
    before = len(H.C.s.master_state()["activedrivers"]) + len(H.C.s.master_state()["completeddrivers"])
    for change, rule in POLICY_CASES:
        body = H.create_body("/dev/null", 0, 0, props=dict({"spark.app.name": "refused"}, **change.get("props", {})),
                             env=change.get("env"))
        if "resource" in change:
            body["appResource"] = change["resource"]
        st, js, _ = http("alice", "POST", "/v1/submissions/create", body)
        assert st == 403 and js["action"] == "ErrorResponse" and rule in js["message"], (change, st, js)
    after = len(H.C.s.master_state()["activedrivers"]) + len(H.C.s.master_state()["completeddrivers"])
    assert after == before, (before, after)
    # and within the rules, a create runs to FINISHED
    st, js, _ = create("alice", "allowed", sleep=0, props={"spark.driver.memory": "1g", "spark.driver.cores": "1"})
    assert st == 200, js

    def finished():
        return http("alice", "GET", "/v1/submissions/status/" + js["submissionId"])[1].get("driverState") == "FINISHED"
    wait_for("FINISHED", finished, 90, 0.5)


@test
def ownership_survives_a_restart_and_owner_kills():
    H.C.s._kill("lighttpd-tenants")   # every sparkgate process goes with it
    start_web()
    sid = T.ids["alice"]
    st, js, _ = http("bob", "GET", "/v1/submissions/status/" + sid)
    assert js["success"] is False, js
    # and an idempotency key still names its first submission
    st, js, _ = create("alice", "idem", sleep=0, headers={"Idempotency-Key": "k-123"})
    assert st == 200 and js["submissionId"] == T.ids["idem"], js
    st, js, _ = http("alice", "POST", "/v1/submissions/kill/" + sid, b"")
    assert st == 200 and js["success"] is True, js

    def killed():
        return http("alice", "GET", "/v1/submissions/status/" + sid)[1].get("driverState") == "KILLED"
    wait_for("KILLED", killed, 60, 0.5)


def wait_final(user, sid):
    wait_for("%s final" % sid, lambda: http(user, "GET", "/v1/submissions/status/" + sid)[1].get("driverState")
             in H.FINAL, 90, 0.5)


@test
def quotas_refuse_the_next_driver_until_one_ends():
    st, js, _ = create("dave", "quota-1")
    assert st == 200, js
    first = js["submissionId"]
    st, js, _ = create("dave", "quota-2")
    assert st == 403 and "quota user dave: at most 1 drivers at once (2 with this driver)" in js["message"], (st, js)
    # a group quota holds its members together; a retried key is not a new driver
    st, c1, _ = create("carol", "quota-1", sleep=0, headers={"Idempotency-Key": "c1"})
    assert st == 200, c1
    st, c2, _ = create("carol", "quota-2", sleep=0)
    assert st == 403 and "quota group ops" in c2["message"], (st, c2)
    st, again, _ = create("carol", "quota-1", sleep=0, headers={"Idempotency-Key": "c1"})
    assert st == 200 and again["submissionId"] == c1["submissionId"], again
    wait_final("carol", c1["submissionId"])
    # once the first driver ends, the next one is allowed
    http("dave", "POST", "/v1/submissions/kill/" + first, b"")
    wait_final("dave", first)
    st, js, _ = create("dave", "quota-3", sleep=0)
    assert st == 200, js
    st, js, _ = create("carol", "quota-3", sleep=0)
    assert st == 200, js


@test
def browser_posts_from_another_site_are_refused():
    evil = {"Origin": "https://evil.example", "Content-Type": "text/plain"}
    st, js, _ = create("alice", "csrf", sleep=0, headers=evil)
    assert st == 403 and "X-Requested-By" in js["message"], (st, js)
    st, js, _ = create("alice", "csrf", sleep=0, headers=dict(evil, **{"X-Requested-By": "portal"}))
    assert st == 200, (st, js)
    same = {"Origin": "http://127.0.0.1:%d" % T.port}
    st, js, _ = create("alice", "csrf-same", sleep=0, headers=same)
    assert st == 200, (st, js)


JWS_SECRET = base64.urlsafe_b64encode(b"sparkgate-test-key-of-at-least-256-bits").decode().rstrip("=")


def jwt(claims, secret=JWS_SECRET, alg="HS256"):
    """An HS256 JWT as clients of Spark 4's JWSFilter make them."""
    def b64(raw):
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")
    key = base64.urlsafe_b64decode(secret + "=" * (-len(secret) % 4))
    head = b64(json.dumps({"alg": alg, "typ": "JWT"}).encode()) + "." + b64(json.dumps(claims).encode())
    return head + "." + b64(hmac.new(key, head.encode(), hashlib.sha256).digest())


@test
def bearer_tokens_as_spark_4s_jwsfilter_name_the_user():
    """A web server without a login that passes Authorization on; sparkgate checks the token."""
    secret = os.path.join(H.C.work, "jws.secret")
    with open(secret, "w") as f:
        f.write(JWS_SECRET + "\n")
    sock = os.path.join(H.C.work, "jws.sock")
    db = os.path.join(web.server_dir(H.C.s, "state"), "sparkgate.db")
    H.C.s._start("sparkgate-jws", [H.C.s.sparkgate, "--master", "spark://127.0.0.1:%d" % H.C.s.master_port,
                                   "--listen", sock, "--jws-secret-file", secret, "--state-db", db])
    wait_for("socket", lambda: os.path.exists(sock), 20)
    os.chmod(sock, 0o666)
    port = web.lighttpd_to_socket(H.C.s, "lighttpd-jws", sock)

    def as_token(token, path="/v1/submissions"):
        return H.C.s.http("GET", path, port=port, headers={"Authorization": "Bearer " + token})
    st, js, _ = as_token(jwt({"sub": "alice", "exp": int(time.time()) + 60}))
    assert st == 200 and js["action"] == "SubmissionListResponse", (st, js)
    assert T.ids["alice"] in [d["submissionId"] for d in js["submissions"]], js   # alice's own, from the store
    for token, why in ((jwt({"sub": "alice"}, secret=JWS_SECRET[::-1]), "bad signature"),
                       (jwt({"sub": "alice", "exp": int(time.time()) - 5}), "expired"),
                       (jwt({"sub": "alice"}, alg="none"), "HS256"),
                       (jwt({"name": "alice"}), '"sub"')):
        st, js, _ = as_token(token)
        assert st == 403 and why in js["message"] and js["action"] == "ErrorResponse", (why, st, js)
    st, js, _ = H.C.s.http("GET", "/v1/submissions", port=port)
    assert st == 403 and "No authenticated user" in js["message"], (st, js)
    assert "user=alice" in open(os.path.join(H.C.work, "sparkgate-jws.log")).read()


def audit_lines():
    try:
        return [json.loads(line) for line in open(T.audit)]
    except FileNotFoundError:
        return []


@test
def audit_log_holds_exactly_the_expected_lines():
    before = len(audit_lines())
    st, js, _ = create("alice", "audited", headers={"Idempotency-Key": "audit-1"})
    sid = js["submissionId"]
    http("bob", "POST", "/v1/submissions/kill/" + sid, b"")
    http("bob", "GET", "/v1/submissions/status/" + sid)
    http("alice", "GET", "/v1/submissions/status/" + sid)                    # changes nothing: no line
    create("alice", "audited", headers={"Idempotency-Key": "audit-1"})       # replay
    create("alice", "too-big", props={"spark.driver.memory": "4g"})          # refused by policy
    http("alice", "POST", "/v1/submissions/kill/" + sid, b"")
    got = [(x["user"], x["action"], x.get("submissionId"), x["status"], x["outcome"], x.get("rule", "")[:30])
           for x in audit_lines()[before:]]
    want = [("alice", "create", sid, 200, "done", ""),
            ("bob", "kill", sid, 200, "refused: another user's driver", ""),
            ("bob", "status", sid, 200, "refused: another user's driver", ""),
            ("alice", "create", sid, 200, "replayed", ""),
            ("alice", "create", None, 403, "refused", 'a driver with 4096 MiB of memory is refused'[:30]),
            ("alice", "kill", sid, 200, "done", "")]
    assert got == want, "\n".join(map(str, got))
    assert all(x["addr"] == "127.0.0.1" and x["time"].endswith("Z") for x in audit_lines()[before:])


@test
def no_request_can_forge_a_log_line_or_lose_an_audit_line():
    """Web servers differ in what they pass on (lighttpd refuses a %0A in a path, Apache
    decodes it into PATH_INFO), so sparkgate is run as the CGI program Apache would start,
    with such a path and with an id whose bytes are not UTF-8: its log keeps one escaped
    line per request, and the audit log its line."""
    forged = b"2026-01-01T00:00:00Z sparkgate[1] info: req=1 GET /forged -> 200"
    audit = os.path.join(H.C.work, "cgi-audit.log")

    def cgi(method, path_info):
        env = {b"GATEWAY_INTERFACE": b"CGI/1.1", b"REQUEST_METHOD": method, b"SCRIPT_NAME": b"",
               b"PATH_INFO": path_info, b"SERVER_PROTOCOL": b"HTTP/1.1", b"REMOTE_USER": b"alice",
               b"REMOTE_ADDR": b"127.0.0.1", b"CONTENT_LENGTH": b"0", b"PATH": os.environb[b"PATH"]}
        p = subprocess.run([H.C.s.sparkgate, "--master", "spark://127.0.0.1:%d" % H.C.s.master_port,
                            "--audit-log", audit], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=30)
        return p.stdout, p.stderr
    out, err = cgi(b"GET", b"/v1/submissions/status/x\n" + forged + b"\r")
    assert out.startswith(b"Status: 200"), out
    assert not any(line.startswith(forged) for line in err.split(b"\n")), err
    assert b"status/x\\x0A2026-01-01T00:00:00Z" in err and b"\\x0D" in err, err
    out, err = cgi(b"POST", b"/v1/submissions/kill/driver-\xff\xfe\nforged")
    assert out.startswith(b"Status: 200"), out
    lines = [json.loads(line) for line in open(audit)]
    assert len(lines) == 1 and lines[0]["action"] == "kill" and lines[0]["user"] == "alice" \
        and "\\xFF\\xFE\\x0Aforged" in lines[0]["submissionId"], lines


# ---- Livy's batch API (/batches), with the clients people use -------------------------

def pylivy():
    """pylivy (PyPI "livy"), unchanged, as tools/setup.sh installs it; its package imports
    pandas for interactive sessions only, which its batch path never uses: an empty module
    stands in for it when pandas is not installed."""
    path = os.path.join(os.path.expanduser(os.environ.get("SPARKGATE_CACHE", "~/.cache/sparkgate")), "py-livy-0.8.0")
    assert os.path.isdir(os.path.join(path, "livy")), "pylivy missing: run tools/setup.sh --browser"
    if path not in sys.path:
        sys.path.insert(0, path)
    try:
        import pandas  # noqa: F401
    except ImportError:
        import types
        sys.modules["pandas"] = types.ModuleType("pandas")
        sys.modules["pandas"].DataFrame = object   # in a type annotation
    import livy
    return livy


def livy_url():
    return "http://127.0.0.1:%d" % T.port


def livy_lines(user, bid):
    st, js, _ = http(user, "GET", "/batches/%d/log?size=-1" % bid)
    assert st == 200 and set(js) == {"id", "from", "total", "log"} and js["total"] == len(js["log"]), (st, js)
    return js["log"]


BATCH_VIEW = {"id", "name", "owner", "proxyUser", "state", "appId", "appInfo", "log"}


@test
def livy_batches_with_pylivy_run_a_jar_and_a_py_to_success():
    livy = pylivy()
    st, ver, _ = http("alice", "GET", "/version")
    assert st == 200 and ver["version"].startswith("0.8"), (st, ver)
    out = os.path.join(H.C.work, "livy-jar.txt")
    jar = livy.LivyBatch.create(livy_url(), "file:" + H.C.jar, auth=USER["alice"], class_name="TestApp",
                                args=[out, "0", "0"], driver_memory="512m", name="livy-jar")
    py_out = os.path.join(H.C.work, "livy-py.txt")
    py = livy.LivyBatch.create(livy_url(), "file:" + os.path.join(H.ROOT, "tests", "app", "pyapp.py"),
                               auth=USER["alice"], args=[py_out], driver_memory="512m", executor_memory="512m",
                               name="livy-py", spark_conf={"spark.cores.max": "1"})
    T.livy = {"jar": jar.batch_id, "py": py.batch_id}
    assert jar.wait() == livy.SessionState.SUCCESS, livy_lines("alice", jar.batch_id)
    assert py.wait() == livy.SessionState.SUCCESS, livy_lines("alice", py.batch_id)
    # a later task reads the log with a client of its own (as Airflow's hook does): a kept-alive
    # connection idle for a minute may be closed by lighttpd as the client reuses it
    jar = livy.LivyBatch(livy_url(), jar.batch_id, auth=USER["alice"])
    # the log: the driver's stdout and stderr from its worker, in Livy's "stdout: " / "stderr: " frame
    lines = jar.log()
    assert lines and "TestApp stdout: %s 0 0" % out in jar.log(size=-1), jar.log(size=-1)
    whole = livy_lines("alice", jar.batch_id)
    assert whole[0] == "stdout: " and "\nstderr: " in whole \
        and any(x.startswith("TestApp stderr: spark.app.name=livy-jar") for x in whole), whole
    assert H.JOB_RESULT in open(py_out).read(), open(py_out).read()
    # the application behind the batch: its id as the master lists it, its UI, the driver's log
    st, v, _ = http("alice", "GET", "/batches/%d" % py.batch_id)
    state = H.C.s.master_state()
    apps = {a["id"]: a for a in state["activeapps"] + state["completedapps"]}
    assert st == 200 and v["appId"] in apps and apps[v["appId"]]["name"] == "livy-py", (v, sorted(apps))
    assert re.match(r"^http://[^/]+:\d+$", v["appInfo"]["sparkUiUrl"] or ""), v["appInfo"]
    assert re.match(r"^http://127\.0\.0\.1:\d+/logPage/\?driverId=driver-\d{14}-\d{4}&logType=stderr$",
                    v["appInfo"]["driverLogUrl"] or ""), v["appInfo"]
    st, v, _ = http("alice", "GET", "/batches/%d" % jar.batch_id)
    assert v["appId"] is None and v["appInfo"]["sparkUiUrl"] is None, v   # TestApp starts no SparkContext
    # the driver ran as Spark's API would have started it: the same name, memory, arguments
    args = [x.split("\t") for x in open(out).read().splitlines()]
    assert ["arg", "0", out] in args and ["prop", "spark.app.name", "livy-jar"] in args \
        and ["prop", "spark.driver.memory", "512m"] in args, args


@test
def livy_batches_are_killed_end_dead_and_stay_their_owners():
    livy = pylivy()
    slow = livy.LivyBatch.create(livy_url(), "file:" + H.C.jar, auth=USER["alice"], class_name="TestApp",
                                 args=[os.path.join(H.C.work, "livy-slow.txt"), "120", "0"], driver_memory="512m",
                                 name="livy-slow")
    failing = livy.LivyBatch.create(livy_url(), "file:" + H.C.jar, auth=USER["alice"], class_name="TestApp",
                                    args=[os.path.join(H.C.work, "livy-fail.txt"), "0", "3"], driver_memory="512m",
                                    name="livy-fail")
    wait_for("running", lambda: slow.state == livy.SessionState.RUNNING, 90, 0.5)
    # bob: neither sees nor kills alice's batches (answered as an id nobody has), nor lists them
    for bid in (slow.batch_id, T.livy["jar"]):
        for method, path in (("GET", "/batches/%d" % bid), ("GET", "/batches/%d/state" % bid),
                             ("GET", "/batches/%d/log" % bid), ("DELETE", "/batches/%d" % bid)):
            st, js, _ = http("bob", method, path)
            st2, js2, _ = http("bob", method, path.replace(str(bid), "999999"))
            assert st == st2 == 404 and js == {"msg": "Session '%d' not found." % bid} \
                and js2 == {"msg": "Session '999999' not found."}, (method, path, st, js, st2, js2)
    bob_client = livy.LivyBatch(livy_url(), slow.batch_id, auth=USER["bob"])
    try:
        bob_client.state
        raise AssertionError("bob saw alice's batch")
    except ValueError:
        pass   # pylivy: "batch session not found"
    st, bobs, _ = http("bob", "GET", "/batches")
    assert st == 200 and slow.batch_id not in [x["id"] for x in bobs["sessions"]], bobs
    assert slow.state == livy.SessionState.RUNNING
    slow.kill()
    assert slow.wait() == livy.SessionState.KILLED
    assert failing.wait() == livy.SessionState.DEAD
    lines = livy_lines("alice", failing.batch_id)
    assert "\nDriver state: FAILED" in lines, lines
    # the admin sees everyone's
    st, carol, _ = http("carol", "GET", "/batches?size=1000")
    assert {slow.batch_id, failing.batch_id} <= {x["id"] for x in carol["sessions"]}, carol


@test
def livy_shapes_and_refusals_are_livys():
    # POST: 201, Location, BatchSessionView's fields (BatchSessionServlet.scala)
    body = {"file": "file:" + H.C.jar, "className": "TestApp", "args": [os.path.join(H.C.work, "livy-raw.txt"), "0", "0"],
            "driverMemory": "512m", "name": "livy-raw", "conf": {"spark.driver.cores": "1"}}
    st, js, hdrs = http("alice", "POST", "/batches", body, headers={"X-Requested-By": "test"})
    assert st == 201 and set(js) == BATCH_VIEW and hdrs["Location"] == "/batches/%d" % js["id"], (st, js)
    assert isinstance(js["id"], int) and js["name"] == "livy-raw" and js["owner"] == "alice" \
        and js["proxyUser"] is None and js["state"] == "starting" and js["log"] == ["stdout: ", "\nstderr: "] \
        and js["appInfo"] == {"driverLogUrl": None, "sparkUiUrl": None}, js
    bid = js["id"]
    st, one, _ = http("alice", "GET", "/batches/%d/state" % bid)
    assert st == 200 and one == {"id": bid, "state": one["state"]} \
        and one["state"] in ("starting", "running", "success"), one
    st, page, _ = http("alice", "GET", "/batches?from=1&size=2")
    assert st == 200 and set(page) == {"from", "total", "sessions"} and page["from"] == 1 \
        and len(page["sessions"]) == 2 and page["total"] >= 3, page
    assert all(set(x) == BATCH_VIEW for x in page["sessions"]), page
    st, full, _ = http("alice", "GET", "/batches?size=1000")
    ids = [x["id"] for x in full["sessions"]]
    assert ids == sorted(ids) and ids[1:3] == [x["id"] for x in page["sessions"]] and len(ids) == full["total"], full
    st, log, _ = http("alice", "GET", "/batches/%d/log?from=0&size=1" % T.livy["jar"])
    assert st == 200 and log["from"] == 0 and log["log"] == ["stdout: "] and log["total"] > 2, log
    # errors: Livy's {"msg": ...}
    for change, status, text in (({"file": None}, 400, "File is required"),
                                 ({"proxyUser": "bob"}, 403, "User 'alice' not allowed to impersonate 'bob'."),
                                 ({"queue": "default"}, 400, "queue")):
        st, js, _ = http("alice", "POST", "/batches", dict(body, **change))
        assert st == status and list(js) == ["msg"] and text in js["msg"], (change, st, js)
    # a body Jackson cannot map: JsonServlet's BadRequest(e.getMessage), a JSON string
    for change, text in (({"driverCores": "one"}, "driverCores must be an integer"),
                         ({"nosuch": 1}, 'Unrecognized field "nosuch"')):
        st, js, _ = http("alice", "POST", "/batches", dict(body, **change))
        assert st == 400 and isinstance(js, str) and text in js, (change, st, js)
    st, js, _ = http("alice", "POST", "/batches", b"{not json")
    assert st == 400 and isinstance(js, str), (st, js)
    st, js, _ = http("alice", "PUT", "/batches", b"{}")
    assert st == 405 and list(js) == ["msg"], (st, js)
    st, js, _ = http("alice", "GET", "/batches?from=x")
    assert st == 400 and list(js) == ["msg"], (st, js)
    # a browser post from another site: the CSRF guard, in Livy's shape
    st, js, _ = http("alice", "POST", "/batches", body, headers={"Origin": "https://evil.example"})
    assert st == 403 and "X-Requested-By" in js["msg"], (st, js)


@test
def a_create_the_policy_refuses_is_refused_through_livy_with_nothing_at_the_master():
    livy = pylivy()
    state = H.C.s.master_state()
    before = len(state["activedrivers"]) + len(state["completeddrivers"])
    audited = len(audit_lines())
    for conf, rule in (({"spark.driver.extraClassPath": "/opt/x.jar"}, "property spark.driver.extraClassPath is never"),
                       ({"spark.driver.memory": "2g"}, "max driver-memory")):
        st, js, _ = http("alice", "POST", "/batches", {"file": "file:" + H.C.jar, "className": "TestApp",
                                                      "args": ["/dev/null", "0", "0"], "conf": conf})
        assert st == 403 and list(js) == ["msg"] and rule in js["msg"], (conf, st, js)
    # the same through pylivy's client (requests raises the 403)
    try:
        livy.LivyBatch.create(livy_url(), "hdfs://nn/app.jar", auth=USER["alice"], class_name="TestApp")
        raise AssertionError("the policy let an unapproved application through /batches")
    except Exception as e:   # requests.HTTPError
        assert getattr(getattr(e, "response", None), "status_code", None) == 403, e
    state = H.C.s.master_state()
    assert len(state["activedrivers"]) + len(state["completeddrivers"]) == before
    # and the refusals are audited as creates
    lines = [(x["user"], x["action"], x["status"], x["outcome"]) for x in audit_lines()[audited:]]
    assert lines == [("alice", "create", 403, "refused")] * 3, lines


@test
def listing_pages_and_filters_250_drivers():
    """250 drivers of bob's in the store (rows as creates leave them; the master never knew
    them, so they have no state and are Livy's "dead"), paged in 100s and filtered."""
    import sqlite3
    db = sqlite3.connect(os.path.join(web.server_dir(H.C.s, "state"), "sparkgate.db"), timeout=30)
    base = 1700000000000   # 2023-11-14T22:13:20Z
    with db:
        db.executemany("INSERT INTO submissions (id, owner, state, created_ms, app_name, main_class, finished) "
                       "VALUES (?, 'bob', 'submitted', ?, ?, 'TestApp', 1)",
                       [("driver-20231114221320-%04d" % i, base + i * 1000, "page-%s" % ("odd" if i % 2 else "even"))
                        for i in range(250)])
    db.close()
    # no parameter: the listing of old, byte for byte (100, no from/total)
    st, old, _ = http("bob", "GET", "/v1/submissions")
    assert st == 200 and len(old["submissions"]) == 100 and "total" not in old and "from" not in old, old.keys()
    pages = [http("bob", "GET", "/v1/submissions?from=%d&size=100" % f)[1] for f in (0, 100, 200)]
    total = pages[0]["total"]
    ids = [d["submissionId"] for p in pages for d in p["submissions"]]
    assert all(p["total"] == total for p in pages) and [p["from"] for p in pages] == [0, 100, 200], pages
    assert total >= 250 and len(ids) == len(set(ids)) == total, (total, len(ids))
    assert [d["submissionId"] for d in pages[0]["submissions"]] == [d["submissionId"] for d in old["submissions"]]
    assert ids[-250:] == ["driver-20231114221320-%04d" % i for i in reversed(range(250))], ids[-3:]   # newest first
    st, odd, _ = http("bob", "GET", "/v1/submissions?name=page-odd&size=1000")
    assert odd["total"] == 125 == len(odd["submissions"]) and all(d["appName"] == "page-odd" for d in odd["submissions"])
    st, late, _ = http("bob", "GET", "/v1/submissions?name=page-even&since=2023-11-14T22:16:40Z")   # i >= 200
    assert late["total"] == 25 and len(late["submissions"]) == 25 \
        and min(int(d["submissionId"][-4:]) for d in late["submissions"]) == 200, late["total"]
    # by state: what the master says now, as the unfiltered listing shows it
    st, everything, _ = http("alice", "GET", "/v1/submissions?size=1000")
    finished = [d["submissionId"] for d in everything["submissions"] if d.get("driverState") == "FINISHED"]
    st, fin, _ = http("alice", "GET", "/v1/submissions?state=FINISHED&size=2")
    assert st == 200 and fin["total"] == len(finished) >= 2 and [d["submissionId"] for d in fin["submissions"]] \
        == finished[:2], (fin, finished)
    for bad in ("state=DONE", "size=0", "from=-1", "since=yesterday", "owner=alice"):
        st, js, _ = http("bob", "GET", "/v1/submissions?" + bad)
        assert st == 400 and js["action"] == "ErrorResponse", (bad, st, js)
    # the same through Livy's /batches: oldest first, Livy's states
    st, b, _ = http("bob", "GET", "/batches?from=100&size=100")
    assert st == 200 and b["total"] == total and len(b["sessions"]) == 100 and b["from"] == 100, b["total"]
    st, b, _ = http("bob", "GET", "/batches?name=page-odd&state=dead&size=1000")
    assert b["total"] == 125 and {x["state"] for x in b["sessions"]} == {"dead"}, b["total"]
    st, js, _ = http("bob", "GET", "/batches?state=FINISHED")
    assert st == 400 and "not_started" in js["msg"], js


def main():
    H.C.work = tempfile.mkdtemp(prefix="sparkgate-tenants-")
    H.C.s = Stack(workdir=H.C.work, rest_reference=False)

    def setup():
        t0 = time.time()
        H.start_cluster()
        start_web()
        print("stack up in %.1fs (logs %s)" % (time.time() - t0, H.C.work), flush=True)
    return SUITE.main(setup, H.C.s.stop)


if __name__ == "__main__":
    sys.exit(main())
