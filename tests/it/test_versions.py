"""The version matrix: for every supported Spark build (3.5.9 Scala 2.12 and 2.13, 4.3.0),
a real master and worker of that build, lighttpd -> sparkgate *without* --spark-version
(it must detect the build), and that build's own spark-submit as the client:
create -> FINISHED, status, kill -> KILLED, spark-submit create/--status, and the REST
endpoints that differ between Spark 3.5 and 4.  Ends with "versions: N passed, N failed".
Usage: test_versions.py [BUILD...]   (default: all; env SPARKGATE_BUILDS likewise)"""
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import test_e2e as E  # noqa: E402  (its helpers work on E.C: the stack, work dir, app jar)
from runner import Suite  # noqa: E402
from stack import Stack  # noqa: E402

SUITE = Suite("versions")

BUILDS = ["3.5.9_2.12", "3.5.9_2.13", "4.3.0_2.13"]
TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def version():
    return E.C.s.spark_version


@test
def detected_build_runs_a_driver_to_finished():
    out = os.path.join(E.C.work, "finished-%s.txt" % E.C.s.build)
    st, js, _ = E.C.s.http("POST", "/v1/submissions/create", E.create_body(out, 0, 0, ["x y"]))
    assert st == 200 and js["success"] is True, (st, js)
    assert js["serverSparkVersion"] == version(), js
    sid = js["submissionId"]
    final = E.wait_state(sid, E.FINAL)
    assert final["driverState"] == "FINISHED" and final["serverSparkVersion"] == version(), final
    rows = E.read_out(out)
    assert rows["arg"]["3"] == "x y", rows["arg"]


@test
def kill_running_driver():
    sid = E.submit(E.create_body(os.path.join(E.C.work, "killed.txt"), 120, 0))
    E.wait_state(sid, ("RUNNING",))
    st, js, _ = E.C.s.http("POST", "/v1/submissions/kill/" + sid, b"")
    assert st == 200 and js["success"] is True and js["serverSparkVersion"] == version(), (st, js)
    assert E.wait_state(sid, E.FINAL)["driverState"] == "KILLED", E.C.last_status


@test
def same_version_spark_submit_client():
    gw = "spark://127.0.0.1:%d" % E.C.s.http_port
    out = os.path.join(E.C.work, "client.txt")
    rc, log = E.spark_submit("--master", gw, "--deploy-mode", "cluster", "--conf", "spark.master.rest.enabled=true",
                             "--driver-memory", "512m", "--class", "TestApp", E.C.jar, out, "0", "0")
    m = re.search(r"Submission successfully created as (driver-\d{14}-\d{4})", log)
    assert rc == 0 and m, log[-3000:]
    sid = m.group(1)
    assert E.wait_state(sid, E.FINAL)["driverState"] == "FINISHED", E.C.last_status
    log_path = os.path.join(E.C.work, "lighttpd.log")
    line = "GET /v1/submissions/status/%s -> 200" % sid
    before = open(log_path, errors="replace").read().count(line)
    rc, log = E.spark_submit("--master", gw, "--status", sid)
    assert rc == 0 and "Exception" not in log, log[-3000:]
    assert open(log_path, errors="replace").read().count(line) == before + 1


@test
def spark4_only_endpoints_follow_the_master():
    st, js, _ = E.C.s.http("GET", "/v1/submissions/readyz")
    if version().startswith("4."):
        assert st == 200 and js == {"action": "ReadyzResponse", "message": "", "serverSparkVersion": version(),
                                    "success": True}, (st, js)
        st, js, _ = E.C.s.http("POST", "/v1/submissions/clear", b"")
        assert st == 200 and js["action"] == "ClearResponse" and js["success"] is True, (st, js)
        st, js, _ = E.C.s.http("POST", "/v1/submissions/killall", b"")
        assert st == 200 and js["action"] == "KillAllSubmissionResponse" and js["success"] is True, (st, js)
        st, js, _ = E.C.s.http("GET", "/v1/submissions/nope")
        assert st == 400 and "/killall, /clear, /status, or /readyz." in js["message"], (st, js)
    else:
        assert st == 400 and js["message"].startswith(
            "Missing an action: please specify one of /create, /kill, or /status."), (st, js)


def cgi(*args, path="/v1/submissions/status/driver-none"):
    env = dict(os.environ, GATEWAY_INTERFACE="CGI/1.1", REQUEST_METHOD="GET", SCRIPT_NAME="",
               PATH_INFO=path, SERVER_PROTOCOL="HTTP/1.1", REMOTE_USER="tester")
    p = subprocess.run([E.C.s.sparkgate, "--master", "spark://127.0.0.1:%d" % E.C.s.master_port] + list(args),
                       env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=30)
    return p.stdout.decode()


@test
def pinned_build_is_used_and_a_wrong_pin_is_a_clear_error():
    same = cgi("--spark-version", E.C.s.build)
    assert same.startswith("Status: 200") and '"serverSparkVersion" : "%s"' % version() in same, same
    other = next(b for b in BUILDS if b.split("_")[1] != E.C.s.build.split("_")[1])
    wrong = cgi("--spark-version", other)
    assert wrong.startswith("Status: 502"), wrong
    assert "runs a build sparkgate was not set up for" in wrong and "InvalidClassException" in wrong, wrong


def run_build(build, jar):
    work = tempfile.mkdtemp(prefix="sparkgate-v%s-" % build)
    t0 = time.time()
    E.C.work, E.C.jar = work, jar
    E.C.s = Stack(workdir=work, build=build, rest_reference=False)
    try:
        E.C.s.start()
        print("[%s] stack up in %.1fs (logs %s)" % (build, time.time() - t0, work), flush=True)
        for fn in TESTS:
            SUITE.check("[%s] %s" % (build, fn.__name__), fn)
    except Exception:
        SUITE.setup_failed("[%s] stack setup" % build)
    finally:
        E.C.s.stop()
    print("[%s] took %.0fs" % (build, time.time() - t0), flush=True)


def main():
    builds = sys.argv[1:] or os.environ.get("SPARKGATE_BUILDS", "").split() or BUILDS
    jar = E.build_app(tempfile.mkdtemp(prefix="sparkgate-app-"))
    for b in builds:
        run_build(b, jar)
    return SUITE.finish()


if __name__ == "__main__":
    sys.exit(main())
