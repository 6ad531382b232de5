"""The version matrix: for every supported build (every Spark minor 3.3-4.3, Scala 2.12 and
2.13 where both ship: tools/setup.sh's SUPPORTED_BUILDS), a real master and worker of that
build, lighttpd -> sparkgate *without* --spark-version (it must detect the minor), and that
build's own spark-submit as the client: detected minor, create -> FINISHED, status, kill ->
KILLED, real Java and Python applications (a job on an executor) through a create, spark-submit
and Spark's own REST server, the REST endpoints that differ between minors, pinned
releases, twin drivers through sparkgate and through Spark's own REST server whose Launch
Commands match, and the master's own REST door (4.1+ open it on 6066 by default).
Ends with "versions: N passed, N failed".
Usage: test_versions.py [BUILD...]   (default: all; env SPARKGATE_BUILDS likewise)
Builds run SPARKGATE_LANES (default 2) at a time, each lane a process of its own
(test_versions.py --lane BUILD...); the 4.1+ builds, whose masters open 6066, alone after."""
import json
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import harness as H  # noqa: E402  (its helpers work on H.C: the stack, work dir, app jar)
from runner import Suite  # noqa: E402
from stack import SPARK_DEFAULT_REST_PORT, Stack, supported_builds, wait_for  # noqa: E402

SUITE = Suite("versions")

BUILDS = supported_builds()
TESTS = []
ID = re.compile(r"driver-\d{14}-\d{4}")


def test(fn):
    TESTS.append(fn)
    return fn


def version():
    return H.C.s.spark_version


def minor():
    return ".".join(version().split(".")[:2])


def opens_rest_by_default():
    """Spark 4.1+ starts its REST server on 6066 unless told not to."""
    return tuple(int(x) for x in minor().split(".")) >= (4, 1)


def sparkgate_log():
    return open(os.path.join(H.C.work, "lighttpd.log"), errors="replace").read()


@test
def real_applications_start():
    """First, so that they run beside the tests that follow (real_applications_finish awaits
    them): applications that use Spark.  SparkJob (a SparkContext, reduceByKey on an executor)
    as a curl-shaped create with the jar in spark.jars, and through this build's own
    spark-submit (which puts it there itself; then --status); pyapp.py (a SparkSession, a
    DataFrame aggregation on an executor, a Python function there importing a
    spark.submit.pyFiles dependency); and, on 3.x, SparkJob through Spark's own REST server,
    which on 3.3-3.5 gives the driver no module options, so that it fails on Java 17 (README,
    "What a real application needs"; 4.x's server gives them, as twin_drivers shows).
    Failing applications: test_e2e."""
    H.C.jobs = None
    dep = os.path.join(H.C.work, "sgdep.py")
    with open(dep, "w") as f:
        f.write('VALUE = "dep-ok"\n')
    out = {k: os.path.join(H.C.work, "job-%s.txt" % k) for k in ("java", "py", "spark", "submit")}
    jobs = {"out": out, "theirs": None}
    jobs["java"] = H.submit(H.job_body(out["java"]))
    py = H.py_body(out["py"], "ok", "x y", props={"spark.sg.py": "from-props", "spark.submit.pyFiles": "file:" + dep})
    py["clientSparkVersion"] = version()
    jobs["py"] = H.submit(py)
    if spark3():
        body = H.job_body(out["spark"])
        body["clientSparkVersion"] = version()
        st, js, _ = H.C.s.rest("POST", "/v1/submissions/create", body)
        assert st == 200 and js.get("success") is True, (st, js)
        jobs["theirs"] = js["submissionId"]
    gw = "spark://127.0.0.1:%d" % H.C.s.http_port
    rc, log = H.spark_submit("--master", gw, "--deploy-mode", "cluster", "--conf", "spark.master.rest.enabled=true",
                             "--driver-memory", "512m", "--executor-memory", "512m", "--total-executor-cores", "1",
                             "--conf", "spark.ui.enabled=false", "--class", "SparkJob", H.C.jar, out["submit"])
    m = re.search(r"Submission successfully created as (driver-\d{14}-\d{4})", log)
    assert rc == 0 and m, log[-3000:]
    jobs["submitted"] = m.group(1)
    log_path = os.path.join(H.C.work, "lighttpd.log")
    line = "GET /v1/submissions/status/%s -> 200" % jobs["submitted"]
    before = open(log_path, errors="replace").read().count(line)
    rc, log = H.spark_submit("--master", gw, "--status", jobs["submitted"])
    assert rc == 0 and "Exception" not in log, log[-3000:]
    assert open(log_path, errors="replace").read().count(line) == before + 1
    H.C.jobs = jobs


@test
def detected_build_runs_a_driver_to_finished():
    out = os.path.join(H.C.work, "finished-%s.txt" % H.C.s.build)
    st, js, _ = H.C.s.http("POST", "/v1/submissions/create", H.create_body(out, 0, 0, ["x y"]))
    assert st == 200 and js["success"] is True, (st, js)
    assert js["serverSparkVersion"] == version(), js
    sid = js["submissionId"]
    final = H.wait_state(sid, H.FINAL)
    assert final["driverState"] == "FINISHED" and final["serverSparkVersion"] == version(), final
    rows = H.read_out(out)
    assert rows["arg"]["3"] == "x y", rows["arg"]
    scala = H.C.s.build.split("_")[1]
    note = "has the classes of Spark %s (Scala %s); answers name Spark %s" % (minor(), scala, version())
    assert note in sparkgate_log(), "log does not say %r" % note


@test
def kill_running_driver():
    sid = H.submit(H.create_body(os.path.join(H.C.work, "killed.txt"), 120, 0))
    H.wait_state(sid, ("RUNNING",))
    st, js, _ = H.C.s.http("POST", "/v1/submissions/kill/" + sid, b"")
    assert st == 200 and js["success"] is True and js["serverSparkVersion"] == version(), (st, js)
    assert H.wait_state(sid, H.FINAL)["driverState"] == "KILLED", H.C.last_status


def run_cgi(*args, path="/v1/submissions/status/driver-none"):
    """One CGI request to sparkgate against this stack's master (a new master connection)."""
    env = dict(os.environ, GATEWAY_INTERFACE="CGI/1.1", REQUEST_METHOD="GET", SCRIPT_NAME="",
               PATH_INFO=path, SERVER_PROTOCOL="HTTP/1.1", REMOTE_USER="tester")
    return subprocess.run([H.C.s.sparkgate, "--master", "spark://127.0.0.1:%d" % H.C.s.master_port] + list(args),
                          env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=30, text=True)


def cgi(*args, path="/v1/submissions/status/driver-none"):
    return run_cgi(*args, path=path).stdout


@test
def pinned_build_is_used_and_a_wrong_pin_is_a_clear_error():
    same = cgi("--spark-version", H.C.s.build)
    assert same.startswith("Status: 200") and '"serverSparkVersion" : "%s"' % version() in same, same
    # any release of the minor: its table, reported as given
    release = minor() + ".0_" + H.C.s.build.split("_")[1]
    pinned = cgi("--spark-version", release)
    assert pinned.startswith("Status: 200") and '"serverSparkVersion" : "%s.0"' % minor() in pinned, pinned
    other = next(b for b in BUILDS if b.split("_")[1] != H.C.s.build.split("_")[1])
    wrong = cgi("--spark-version", other)
    assert wrong.startswith("Status: 502"), wrong
    assert "runs a build sparkgate was not set up for" in wrong and \
        ("InvalidClassException" in wrong or "ClassNotFoundException" in wrong), wrong
    unknown = run_cgi("--spark-version", "3.2.4")
    assert unknown.returncode == 2 and "unknown --spark-version 3.2.4" in unknown.stderr, unknown


def faults_binary():
    """The fault build (make faults): SPARKGATE_FAULT_KILL_AFTER_CREATE makes it die."""
    root = os.path.join(os.path.dirname(__file__), "..", "..")
    # one make at a time (builds run side by side, each in a process of its own)
    subprocess.run(["flock", os.path.join(tempfile.gettempdir(), "sparkgate-make-faults.lock"),
                    "make", "-s", "-C", root, "faults"], check=True, stdout=subprocess.DEVNULL)
    return os.path.join(root, "build-faults", "sparkgate")


def cgi_create(binary, db, key, env=None):
    """One CGI create with an idempotency key and a state store."""
    body = json.dumps(H.create_body(os.path.join(H.C.work, "died.txt"), 0, 0)).encode()
    e = dict(os.environ, GATEWAY_INTERFACE="CGI/1.1", REQUEST_METHOD="POST", SCRIPT_NAME="",
             PATH_INFO="/v1/submissions/create", SERVER_PROTOCOL="HTTP/1.1", REMOTE_USER="tester",
             CONTENT_LENGTH=str(len(body)), CONTENT_TYPE="application/json", HTTP_IDEMPOTENCY_KEY=key, **(env or {}))
    return subprocess.run([binary, "--master", "spark://127.0.0.1:%d" % H.C.s.master_port, "--state-db", db,
                           "--master-ui", "off"], env=e, input=body, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=60)


@test
def a_create_whose_process_died_is_found_at_the_master():
    """This build's master answers RequestMasterState with every driver's description: a
    sparkgate killed (SIGKILL, the fault build) right after the master accepted its create
    leaves a claim; the retry with the same key finds the driver by its submission token and
    answers with its id, sending nothing."""
    db = os.path.join(H.C.work, "died.db")
    ids = lambda: {d["id"] for d in H.C.s.master_state()["activedrivers"] + H.C.s.master_state()["completeddrivers"]}
    before = ids()
    p = cgi_create(faults_binary(), db, "died-1", {"SPARKGATE_FAULT_KILL_AFTER_CREATE": "100"})
    assert p.returncode == -9, (p.returncode, p.stdout, p.stderr)
    new = ids() - before
    assert len(new) == 1, new
    p = cgi_create(H.C.s.sparkgate, db, "died-1")
    out = p.stdout.decode()
    assert out.startswith("Status: 200") and '"submissionId" : "%s"' % next(iter(new)) in out, (out, p.stderr)
    assert ids() - before == new, "sent again"


def launch_command(sid):
    """The worker's "Launch Command" for a driver (DriverRunner writes it first in the
    driver's stderr), as a list of words with ids and the twins' own names normalised, and
    the run of -Dspark.* options sorted: they come from a map (the request's sparkProperties;
    Spark's server lists them in its SparkConf's ConcurrentHashMap order), so their order
    carries no meaning (one option per key)."""
    path = os.path.join(H.C.work, "worker", sid, "stderr")
    wait_for("launch command of " + sid, lambda: "Launch Command: " in open(path, errors="replace").read(), 60)
    line = next(ln for ln in open(path, errors="replace") if ln.startswith("Launch Command: "))
    words = [re.sub(r"twin-[ab]", "twin-X", ID.sub("<id>", w))
             for w in re.findall(r'"((?:[^"\\]|\\.)*)"', line[len("Launch Command: "):])]
    spark = [i for i, w in enumerate(words) if w.startswith("-Dspark.")]
    if spark:
        lo, hi = spark[0], spark[-1] + 1
        assert spark == list(range(lo, hi)), "-Dspark.* options not in one run: %r" % words
        words[lo:hi] = sorted(words[lo:hi])
    return words


@test
def twin_drivers_get_the_same_launch_command():
    """The same create through sparkgate and through Spark's own REST server of this master:
    the worker starts both drivers with the same java command (JVM and module options, class
    path, main class, arguments), except that on 3.x sparkgate's has the build's module options,
    which Spark 3's server leaves out.  TestApp, which does nothing with Spark: this is about
    the command."""
    def body(twin):
        b = H.create_body(os.path.join(H.C.work, "twin-%s.txt" % twin), 0, 0, ["a b", "{{x}}"],
                          props={"spark.driver.extraJavaOptions": "-Dsg.twin=1 -XX:+UseSerialGC",
                                 "spark.driver.extraClassPath": "/opt/sg-extra/*",
                                 "spark.executor.memory": "600m", "spark.sg.prop": "v"},
                          env={"SG_TWIN": "1"})
        b["clientSparkVersion"] = version()
        return b
    ours = H.submit(body("a"))
    st, js, _ = H.C.s.rest("POST", "/v1/submissions/create", body("b"))
    assert st == 200 and js.get("success") is True, (st, js)
    theirs = js["submissionId"]
    for sid, port in ((ours, None), (theirs, H.C.s.rest_port)):
        assert H.wait_state(sid, H.FINAL, port=port)["driverState"] == "FINISHED", H.C.last_status
    a, b = launch_command(ours), launch_command(theirs)
    if spark3():   # sparkgate gives the module options Spark 3's server does not, first
        mods = module_options()
        at = next((i for i, w in enumerate(a) if w == mods[0]), None)
        assert at is not None and a[at:at + len(mods)] == mods and mods[0] not in b, (a, b)
        del a[at:at + len(mods)]
    if sorted(a) != sorted(b):
        raise AssertionError("launch commands differ:\n  only sparkgate's %s\n  only Spark's     %s" % (
            [w for w in a if w not in b], [w for w in b if w not in a]))
    assert a == b, "same words, other order:\n  sparkgate %s\n  spark     %s" % (a, b)


def module_options():
    """The build's JavaModuleOptions, as GoldenGen read them from its jars."""
    path = os.path.join(H.ROOT, "tests", "golden", "spark-%s" % H.C.s.build, "java-module-options.txt")
    return [ln for ln in open(path).read().split("\n") if ln]


def spark3():
    return version().startswith("3.")


@test
def real_applications_finish():
    """The applications real_applications_start submitted, awaited (the tests between ran
    beside them): each FINISHED with the right result, counted on an executor; Spark's own
    3.x server's driver FAILED with the IllegalAccessError sparkgate's module options avoid."""
    jobs = H.C.jobs
    assert jobs, "real_applications_start did not submit them"
    out = jobs["out"]

    def final(sid, port=None):
        return H.wait_state(sid, H.FINAL, timeout=240, port=port)["driverState"]
    for sid in (jobs["java"], jobs["submitted"]):
        assert final(sid) == "FINISHED", H.C.last_status
    H.check_job(out["java"], jobs["java"], "SparkJob result: ")
    assert H.check_job(out["submit"], jobs["submitted"], "SparkJob result: ")["job"]["app"] == "SparkJob"
    assert final(jobs["py"]) == "FINISHED", H.C.last_status
    rows = H.check_job(out["py"], jobs["py"], "pyapp result: ")
    assert rows["arg"]["2"] == "ok" and rows["arg"]["3"] == "x y", rows["arg"]   # 0: the script, 1: out
    assert rows["prop"]["spark.sg.py"] == "from-props" and rows["prop"]["spark.app.name"] == "sparkgate-it", rows
    assert rows["dep"]["sgdep"] == "dep-ok", rows
    if minor() == "3.3" and sys.version_info >= (3, 11):   # its cloudpickle predates Python 3.11
        assert rows["job"]["executor-dep"].startswith("unpicklable"), rows["job"]
    else:   # a Python function on an executor found pyspark and the --py-files module
        assert rows["job"]["executor-dep"] == "dep-ok", rows["job"]
    if jobs["theirs"]:
        state = final(jobs["theirs"], port=H.C.s.rest_port)
        err = open(os.path.join(H.C.work, "worker", jobs["theirs"], "stderr"), errors="replace").read()
        assert state == "FAILED" and "java.lang.IllegalAccessError" in err and "sun.nio.ch" in err, (state, err[-3000:])


@test
def spark4_only_endpoints_follow_the_master():
    # after real_applications_finish: on 4.x it kills every driver (killall)
    st, js, _ = H.C.s.http("GET", "/v1/submissions/readyz")
    if version().startswith("4."):
        assert st == 200 and js == {"action": "ReadyzResponse", "message": "", "serverSparkVersion": version(),
                                    "success": True}, (st, js)
        st, js, _ = H.C.s.http("POST", "/v1/submissions/clear", b"")
        assert st == 200 and js["action"] == "ClearResponse" and js["success"] is True, (st, js)
        st, js, _ = H.C.s.http("POST", "/v1/submissions/killall", b"")
        assert st == 200 and js["action"] == "KillAllSubmissionResponse" and js["success"] is True, (st, js)
        st, js, _ = H.C.s.http("GET", "/v1/submissions/nope")
        assert st == 400 and "/killall, /clear, /status, or /readyz." in js["message"], (st, js)
    else:
        assert st == 400 and js["message"].startswith(
            "Missing an action: please specify one of /create, /kill, or /status."), (st, js)


@test
def the_masters_own_rest_door():
    """4.1+ masters started without REST settings open Spark's own server on 6066: sparkgate's
    log names it; older minors keep it closed (this stack's reference server is elsewhere,
    and sparkgate is not told that port), and so nothing is named."""
    named = "own REST server answers without authentication at http://127.0.0.1:%d/" % SPARK_DEFAULT_REST_PORT
    if opens_rest_by_default():
        assert H.C.s.rest_default, "6066 was taken before the master started; see the setup line"
        assert named in sparkgate_log(), "no open-door error in the log"
    else:
        assert "own REST server" not in sparkgate_log(), "a door named on a master that opens none"


@test
def rest_enabled_false_closes_the_door():
    """Last: the same master restarted with spark.master.rest.enabled=false; a new sparkgate
    connection names no door."""
    if not opens_rest_by_default():
        return
    H.C.s._kill("master")
    H.C.s.rest_default, H.C.s.rest_port = False, None
    H.C.s.start_master()
    p = run_cgi()
    assert p.stdout.startswith("Status: 200") and "own REST server" not in p.stderr, (p.stdout, p.stderr)


def port_free(port):
    """Nothing listens on port (one left in TIME_WAIT by the previous build's master counts
    as free: Jetty binds with SO_REUSEADDR, and so does this check)."""
    import socket
    with socket.socket() as sk:
        sk.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sk.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def run_build(build, jar):
    work = tempfile.mkdtemp(prefix="sparkgate-v%s-" % build)
    t0 = time.time()
    H.C.work, H.C.jar = work, jar
    v = tuple(int(x) for x in build.split("_")[0].split(".")[:2])
    # 4.1+: Spark's default REST server (on 6066) is the twin reference; before: one on a free port
    rest = "default" if v >= (4, 1) and port_free(SPARK_DEFAULT_REST_PORT) else True
    if v >= (4, 1) and rest is True:
        print("[%s] port %d is taken: the default-door test will fail" % (build, SPARK_DEFAULT_REST_PORT))
    H.C.s = Stack(workdir=work, build=build, rest_reference=rest)
    try:
        H.C.s.start()
        print("[%s] stack up in %.1fs (logs %s)" % (build, time.time() - t0, work), flush=True)
        for fn in TESTS:
            SUITE.check("[%s] %s" % (build, fn.__name__), fn)
    except Exception:
        SUITE.setup_failed("[%s] stack setup" % build)
    finally:
        H.C.s.stop()
    print("[%s] took %.0fs" % (build, time.time() - t0), flush=True)


def opens_6066(build):
    return tuple(int(x) for x in build.split("_")[0].split(".")[:2]) >= (4, 1)


def main():
    args = sys.argv[1:]
    lane = args[:1] == ["--lane"]
    builds = args[1:] if lane else args or os.environ.get("SPARKGATE_BUILDS", "").split() or BUILDS
    jar = os.environ.get("SPARKGATE_TEST_JAR") if lane else None
    jar = jar or H.build_app(tempfile.mkdtemp(prefix="sparkgate-app-"))
    if not lane and len(builds) > 1 and H.lanes_wanted() > 1:
        # builds side by side (SPARKGATE_LANES), each its own stack; then, alone, the ones
        # whose master opens Spark's REST server on 6066: every sparkgate on this host would
        # find that door open (the_masters_own_rest_door of an older build would fail)
        try:   # made once here, before the lanes ask for it
            faults_binary()
        except subprocess.CalledProcessError:
            pass   # each lane's check that uses it reports the failure
        side = [b for b in builds if not opens_6066(b)]
        if side:
            H.run_lanes(SUITE, os.path.abspath(__file__), H.split_lanes(side, H.lanes_wanted()),
                        env={"SPARKGATE_TEST_JAR": jar})
        builds = [b for b in builds if opens_6066(b)]
    for b in builds:
        run_build(b, jar)
    return SUITE.finish()


if __name__ == "__main__":
    sys.exit(main())
