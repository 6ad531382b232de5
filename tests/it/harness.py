"""The integration suites' shared harness: the test application, the create bodies, the
waits, and the context a suite's helpers work on (C: C.s the Stack, C.work its folder, C.jar
the test jar, C.last_status the last status answer seen).  Each suite imports this module
(test_e2e is one suite like the others) and sets C.s / C.work / C.jar for its own stack."""
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stack import ROOT, spark_home, wait_for  # noqa: E402

FINAL = ("FINISHED", "FAILED", "ERROR", "KILLED")


def build_app(work):
    """The test jar, copied into work: TestApp (a driver that does nothing with Spark, for
    tests about something else) and SparkJob (one that runs a job on an executor), compiled
    against the default build's jars (its Java API is the same on every supported build and
    Scala version).  Compiled once per run: kept in the temporary folder (run-all.sh's run
    folder) under the hash of its sources, so the suites after the first only copy it."""
    import fcntl
    import hashlib
    import shutil
    app = os.path.join(ROOT, "tests", "app")
    sources = [os.path.join(app, "TestApp.java"), os.path.join(app, "SparkJob.java")]
    home = spark_home()
    key = hashlib.sha256(home.encode() + b"".join(open(s, "rb").read() for s in sources)).hexdigest()[:16]
    cached = os.path.join(tempfile.gettempdir(), "sparkgate-test-app-%s.jar" % key)
    with open(cached + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)   # one suite compiles; one beside it waits and copies
        if not os.path.exists(cached):
            classes = tempfile.mkdtemp(prefix="sparkgate-app-classes-")
            for argv in (["javac", "-nowarn", "-d", classes, "-cp", os.path.join(home, "jars", "*")] + sources,
                         ["jar", "cf", cached + ".part", "-C", classes, "."]):
                p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                assert p.returncode == 0, "%s failed:\n%s" % (argv[0], p.stdout)
            os.replace(cached + ".part", cached)
            shutil.rmtree(classes, ignore_errors=True)
    os.makedirs(work, exist_ok=True)
    jar = os.path.join(work, "test-app.jar")
    shutil.copyfile(cached, jar)
    os.chmod(jar, 0o644)
    return jar


# what the tests' applications ask: one small executor with one core (the worker has room
# for several at once), no web UI, few shuffle partitions (they start and run faster)
JOB_PROPS = {"spark.executor.memory": "512m", "spark.cores.max": "1", "spark.ui.enabled": "false",
             "spark.sql.shuffle.partitions": "2"}


def job_body(out, *args, props=None, jars=True):
    """A create of SparkJob, as curl sends it: the jar in spark.jars (as spark-submit puts
    its primary resource there) unless jars is False."""
    p = dict(JOB_PROPS)
    if jars:
        p["spark.jars"] = "file:" + C.jar
    p.update(props or {})
    b = create_body(out, props=p)
    b["mainClass"] = "SparkJob"
    b["appArgs"] = [out] + list(args)
    return b


def py_body(out, *args, props=None):
    """A create of tests/app/pyapp.py as a Python user sends it (no mainClass)."""
    b = create_body(out, props=dict(JOB_PROPS, **(props or {})))
    b.pop("mainClass")
    b["appResource"] = "file:" + os.path.join(ROOT, "tests", "app", "pyapp.py")
    b["appArgs"] = [out] + list(args)
    return b


JOB_RESULT = "a=3 b=2 c=1"   # what SparkJob and pyapp.py count in "b a c a b a"


def check_job(out, sid, stdout_line):
    """A driver that ran a real job: its output file has the right result from tasks run on
    an executor, and the worker kept its stdout line."""
    rows = read_out(out)
    assert rows["job"]["result"] == JOB_RESULT, rows["job"]
    assert rows["job"]["executors"] and "driver" not in rows["job"]["executors"].split(","), rows["job"]
    stdout = open(os.path.join(C.work, "worker", sid, "stdout"), errors="replace").read()
    assert stdout_line + JOB_RESULT in stdout, stdout[-2000:]
    return rows


def start_cluster():
    """The test app built into C.work, and C.s's master and worker started (the suites
    that bring their own web server)."""
    C.jar = build_app(C.work)
    C.s.start_master()
    C.s.start_worker()


class Ctx:
    failing = None


C = Ctx()


def create_body(out, sleep=0, code=0, extra_args=(), props=None, env=None):
    """A create of TestApp, which does nothing with Spark: for the tests about the gateway
    itself (what a driver is given, states, kill, logs, policy, ownership), whose drivers
    need not run a job.  Tests about applications use job_body and py_body."""
    p = {"spark.app.name": "sparkgate-it", "spark.driver.memory": "512m"}
    p.update(props or {})
    return {"action": "CreateSubmissionRequest",
            "appArgs": [out, str(sleep), str(code)] + list(extra_args),
            "appResource": "file:" + C.jar, "clientSparkVersion": "3.5.9",
            "environmentVariables": env or {}, "mainClass": "TestApp", "sparkProperties": p}


def submit(body, port=None):
    st, js, _ = C.s.http("POST", "/v1/submissions/create", body, port=port)
    assert st == 200 and js.get("success") is True, (st, js)
    return js["submissionId"]


def wait_state(sid, states, timeout=90, port=None):
    seen = []

    def done():
        st, js, _ = C.s.http("GET", "/v1/submissions/status/" + sid, port=port)
        assert st == 200, (st, js)
        seen.append(js.get("driverState"))
        C.last_status = js
        return js.get("driverState") in states
    try:
        wait_for("driver %s in %s" % (sid, states), done, timeout, 0.5)
    except RuntimeError as e:   # the states seen are known only now
        raise RuntimeError("%s; last states seen %s" % (e, seen[-3:])) from None
    return C.last_status


def read_out(path):
    rows = {}
    with open(path) as f:
        for line in f:
            kind, key, val = line.rstrip("\n").split("\t", 2)
            rows.setdefault(kind, {})[key] = val
    return rows


LOG4J = """rootLogger.level = info
rootLogger.appenderRef.stdout.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %p %c{1}: %m%n
"""


def spark_submit(*args, timeout=120):
    conf = os.path.join(C.work, "client-conf")
    os.makedirs(conf, exist_ok=True)
    with open(os.path.join(conf, "log4j2.properties"), "w") as f:
        f.write(LOG4J)
    env = dict(os.environ, SPARK_HOME=C.s.spark, SPARK_CONF_DIR=conf, SPARK_LOCAL_IP="127.0.0.1")
    p = subprocess.run([os.path.join(C.s.spark, "bin", "spark-submit")] + list(args), env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout)
    return p.returncode, p.stdout


def lanes_wanted():
    """How many builds a per-build suite runs side by side (SPARKGATE_LANES, default 2)."""
    return max(1, int(os.environ.get("SPARKGATE_LANES", "2")))


def split_lanes(builds, lanes):
    """builds in `lanes` groups of about equal size, in their order."""
    groups = [[] for _ in range(min(lanes, len(builds)))]
    for i, b in enumerate(builds):
        groups[i % len(groups)].append(b)
    return groups


def run_lanes(suite, script, groups, env=None):
    """Runs `script --lane BUILD...` once per group, all at once, each with its own master
    and worker per build (ports from the run-wide registry, so no two stacks collide):
    their lines are streamed as they come (each names its build), each lane's summary line
    is shown indented (run-all.sh reads only this suite's own last line), and its counts are
    added to suite's, a lane that died without one counting as a failure.  The caller ends
    with suite.finish()."""
    import threading
    e = dict(os.environ, **(env or {}))
    if not e.get("SPARKGATE_PORT_REGISTRY"):
        e["SPARKGATE_PORT_REGISTRY"] = os.path.join(tempfile.mkdtemp(prefix="sparkgate-ports-"), "ports")
    summary = re.compile(r"^%s: (\d+) passed, (\d+) failed" % re.escape(suite.name))
    lock, procs, threads, seen = threading.Lock(), [], [], {}

    def pump(i, p):
        for line in p.stdout:
            m = summary.match(line)
            with lock:
                if m:
                    seen[i] = (int(m.group(1)), int(m.group(2)))
                    line = "  lane %d (%s): %s" % (i + 1, " ".join(groups[i]), line)
                sys.stdout.write(line)
                sys.stdout.flush()
    try:
        for i, g in enumerate(groups):
            print("lane %d: %s" % (i + 1, " ".join(g)), flush=True)
            p = subprocess.Popen([sys.executable, script, "--lane"] + list(g), env=e, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True, errors="replace")
            procs.append(p)
            threads.append(threading.Thread(target=pump, args=(i, p)))
            threads[-1].start()
        for t in threads:
            t.join()
    finally:   # stopped (SIGTERM reaches the lanes too: one process group): let them tear down
        for p in procs:
            try:
                p.wait(timeout=90)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
    for i, p in enumerate(procs):
        passed, failed = seen.get(i, (0, 0))
        suite.passed += passed
        suite.failed += failed
        if i not in seen or (p.returncode and not failed):
            suite.record("lane %d (%s) ended without its summary (exit %s)" % (i + 1, " ".join(groups[i]),
                                                                             p.returncode), False)
