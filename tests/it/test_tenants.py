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
    policy = web.shipped_policy(os.path.join(H.C.work, "policy.conf"), os.path.dirname(H.C.jar), TEST_RULES)
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
