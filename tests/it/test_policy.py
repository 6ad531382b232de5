"""The shipped policy (deploy/policy.conf, only its "allow app" line edited), attacked on
real Spark 3.5 and 4.3 masters: a corpus of hostile creates -- loader and JVM environment,
JVM options in their equivalent spellings, non-spark system properties, properties that
put code on a path, artifacts outside the approved location, deploy-client and interpreter
main classes, bad resources, placeholders -- each sent through the shipped lighttpd.conf
(Basic auth, FastCGI) to processes whose first request it is, and again through the CGI
files (a fresh process per request).  Every one must be refused with 403 naming what it
tried, the master's driver list must stay unchanged, and nothing may happen on the worker
(no marker file, no debugger port).  Benign creates still run: curl-shaped on both builds,
and the real spark-submit through Apache.  Ends with "policy: N passed, N failed"."""
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import harness as H  # noqa: E402  (its helpers work on H.C: the stack, work dir, app jar)
import mainscan  # noqa: E402
import web  # noqa: E402
from runner import Suite  # noqa: E402
from stack import Stack, free_port, wait_for  # noqa: E402

SUITE = Suite("policy")
BUILDS = ["3.5.9_2.12", "4.3.0_2.13"]
ALICE = ("alice", web.USERS["alice"])


def corpus(marks, jar, fake_java, pyapps, data):
    """(name, change, what the refusal must name).  change: props / env to add, or
    resource / main to replace.  Payloads touch a marker file in marks if they ever run;
    marks and fake_java lie outside the approved folder; data is an "allow url" location
    (data, never code)."""
    app_dir = os.path.dirname(jar)
    port = free_port()

    def m(name):
        return os.path.join(marks, name)
    cases = []
    # the loader's and the JVM's environment, of the driver and of the executors
    for name, value in [("JAVA_TOOL_OPTIONS", "-XX:OnOutOfMemoryError=touch " + m("jto")),
                        ("_JAVA_OPTIONS", "-javaagent:" + m("agent.jar")),
                        ("JDK_JAVA_OPTIONS", "-Dx=" + m("jdk")),
                        ("JAVA_HOME", fake_java),
                        ("LD_PRELOAD", m("preload.so")),
                        ("LD_LIBRARY_PATH", marks),
                        ("SPARK_DIST_CLASSPATH", marks),
                        ("CLASSPATH", marks),
                        ("PYTHONSTARTUP", m("py")),
                        ("GLIBC_TUNABLES", "glibc.malloc.check=3")]:
        cases.append(("env " + name, {"env": {name: value}}, name))
    for name in ("JAVA_TOOL_OPTIONS", "LD_PRELOAD", "JAVA_HOME"):
        cases.append(("executorEnv " + name, {"props": {"spark.executorEnv." + name: m("x")}}, name))
    # JVM options, as written and in the other forms the JVM accepts
    for opt in ["-XX:OnOutOfMemoryError=touch " + m("oom"), "-XX:OnOutOfMemoryError:=touch", "-XX:OnError=touch",
                "-javaagent:" + m("a.jar"), "-agentpath:" + m("a.so"),
                "-agentlib:jdwp=transport=dt_socket,server=y,suspend=n,address=127.0.0.1:%d" % port,
                "-Xrunjdwp:transport=dt_socket,server=y,suspend=n,address=127.0.0.1:%d" % port,
                "-cp " + marks, "-classpath " + marks, "--class-path=" + marks, "-Xbootclasspath/a:" + marks,
                "-XX:Flags=" + m("flags"), "-XX:VMOptionsFile=" + m("opts"), "@" + m("argfile"),
                "--module-path=" + marks, "-Xmx64g", "-Xms64g", "-Djava.library.path=" + marks,
                "-Dlog4j2.configurationFile=file:" + m("log4j"), "-Dspark.master=spark://127.0.0.1:1",
                "-XX:+PrintFlagsFinal"]:
        named = opt[2:].split("=")[0] if opt.startswith("-D") else opt.split(" ")[0]
        cases.append(("driver option " + opt.split("=")[0], {"props": {"spark.driver.extraJavaOptions": opt}}, named))
    for opt in ["-javaagent:" + m("e.jar"), "-XX:OnOutOfMemoryError=touch " + m("e"),
                "-Dspark.executor.extraJavaOptions=-javaagent:x"]:
        cases.append(("executor option " + opt.split("=")[0], {"props": {"spark.executor.extraJavaOptions": opt}},
                      "spark.executor.extraJavaOptions"))
    cases.append(("defaultJavaOptions", {"props": {"spark.driver.defaultJavaOptions": "-javaagent:x"}},
                  "spark.driver.defaultJavaOptions"))
    # system properties that are not Spark's
    for key in ("java.library.path", "log4j2.configurationFile", "user.dir"):
        cases.append(("property " + key, {"props": {key: marks}}, key))
    # properties that put code or files on a path, or download them
    for key, value in [("spark.driver.extraClassPath", marks), ("spark.executor.extraClassPath", marks),
                       ("spark.driver.extraLibraryPath", marks), ("spark.jars.packages", "org.evil:evil:1.0"),
                       ("spark.jars.repositories", "http://127.0.0.1:1/"), ("spark.jars.ivySettings", m("ivy.xml")),
                       ("spark.plugins", "org.evil.Plugin"), ("spark.files", "file:/etc/passwd"),
                       ("spark.archives", "file:" + m("a.zip")),
                       ("spark.executor.resource.gpu.discoveryScript", m("gpu.sh"))]:
        cases.append(("property " + key, {"props": {key: value}}, key))
    for value in ("file:/etc/hostname", "file:" + app_dir + "/../evil.jar", "http://127.0.0.1:1/evil.jar",
                  "file:" + jar + ",file:" + m("evil.jar")):
        cases.append(("spark.jars " + value[:40], {"props": {"spark.jars": value}}, "spark.jars"))
    # code from a data ("allow url") location: as the main class's jar (DriverWrapper puts
    # spark.jars on the loader it resolves the main class through), a ServiceLoader
    # provider, a sitecustomize.py in --py-files, an archive unpacked before sys.path, a
    # module name in spark.files
    for key, value, why in [("spark.jars", "file:%s/evil.jar" % data, "code comes only"),
                            ("spark.jars", "file:%s,file:%s/provider.jar" % (jar, data), "code comes only"),
                            ("spark.archives", "file:%s/env.zip" % data, "code comes only"),
                            ("spark.files", "file:%s/pyspark.py" % data, "Python imports"),
                            ("spark.files", "file:%s/socket.so" % data, "Python imports"),
                            ("spark.files", "file:%s/../markers/x" % data, "spark.files")]:
        cases.append(("data as code %s=%s" % (key, value[-25:]), {"props": {key: value}}, why))
    cases.append(("main class from a data jar", {"main": "org.evil.Main", "props": {
        "spark.jars": "file:%s/evil.jar" % data}}, "org.evil.Main"))
    cases.append(("an unnamed class of the approved jar", {"main": "EvilMain"}, "EvilMain"))
    # what runs must be what is counted: the heap, and executors asking for the cluster
    for key, value, why in [("spark.cores.max", "1000", "max app-cores"),
                            ("spark.executor.memory", "64g", "max executor-memory"),
                            ("spark.executor.cores", "64", "max executor-cores"),
                            ("spark.executor.instances", "1000", "max executor-instances"),
                            ("spark.driver.extraJavaOptions", "-Dspark.cores.max=1000", "max app-cores"),
                            ("spark.driver.extraJavaOptions", "-Xmx8g", "-Xmx8g"),
                            ("spark.driver.extraJavaOptions", "-XX:MaxRAMPercentage=90", "MaxRAMPercentage"),
                            ("spark.executor.extraJavaOptions", "-Xms8g", "-Xms8g")]:
        cases.append(("limit %s=%s" % (key, value), {"props": {key: value}}, why))
    # values Spark rewrites after the judgement: ${...} substitution, then the executors'
    # options split again (a fresh-mind review ran a shell command on a 4.x worker this way)
    cases.append(("executor options ${env:...}", {"env": {"APP_OPTS": 'x "-XX:OnOutOfMemoryError=touch %s" -Xmx8m'
                                                          % m("subst")},
                                                  "props": {"spark.executor.extraJavaOptions":
                                                            '-XX:+UseG1GC -"D"spark.app.name=${env:APP_OPTS}'}}, "${"))
    cases.append(("executor options ${spark.app.name}", {"props": {
        "spark.app.name": "x -agentlib:jdwp=transport=dt_socket,server=y,suspend=n,address=127.0.0.1:%d" % port,
        "spark.executor.extraJavaOptions": '-"D"spark.app.name=${spark.app.name}'}}, "${"))
    cases.append(("quoted -D in executor options", {"props": {
        "spark.executor.extraJavaOptions": '-"D"spark.app.name=x'}}, "Spark sets"))
    # glob and URI-breaking spellings: Spark resolves spark.jars through Hadoop's glob and
    # takes an entry java.net.URI cannot parse as a local path, so "{/}.." climbed out of
    # the approved folder in a fresh-mind review (a jar elsewhere on the worker ran)
    climb = "{/}../" * 12
    for key, value in [("spark.jars", "file:%s/%s%s" % (app_dir, climb, m("evil.jar").lstrip("/"))),
                       ("spark.jars", "file:%s/*" % app_dir), ("spark.jars", "file:%s/[a-z]*.jar" % app_dir),
                       ("spark.files", "file:%s/%s%s" % (data, climb, m("x").lstrip("/")))]:
        cases.append(("glob %s=%s" % (key, value[-30:]), {"props": {key: value}}, key))
    cases.append(("glob appResource", {"resource": "file:%s/%s%s" % (app_dir, climb, m("evil.jar").lstrip("/"))},
                  "appResource"))
    cases.append(("glob pyFiles", {"resource": "file:" + pyapps + "/pyapp.py", "props": {
        "spark.submit.pyFiles": "file:%s/%s%s" % (pyapps, climb, m("pyspark.zip").lstrip("/"))}},
        "spark.submit.pyFiles"))
    # a fresh-mind review's third round: a data file whose name a fetcher normalises
    # ("pyspark.py/" ran as the executors' pyspark), a PYTHONPATH separator in --py-files,
    # the executors' Python interpreter under SQL's name
    cases.append(("spark.files with a final /", {"props": {"spark.files": "file:%s/pyspark.py/" % data}},
                  "spark.files"))
    cases.append(("spark.files with a final /.", {"props": {"spark.files": "file:%s/pyspark.py/." % data}},
                  "spark.files"))
    cases.append(("pyFiles with a path separator", {"resource": "file:" + pyapps + "/pyapp.py", "props": {
        "spark.submit.pyFiles": "file:%s/dep.zip:%s" % (pyapps, marks)}}, "spark.submit.pyFiles"))
    cases.append(("executors' Python under SQL's name", {"resource": "file:" + pyapps + "/pyapp.py", "props": {
        "spark.sql.execution.pyspark.python": m("py.sh")}}, "spark.sql.execution.pyspark.python"))
    cases.append(("two collectors", {"props": {"spark.executor.extraJavaOptions": "-XX:+UseG1GC -XX:+UseParallelGC"}},
                  "-XX:+UseParallelGC"))
    cases.append(("executor memory without a unit", {"props": {"spark.executor.memory": "1048576"}}, "with a unit"))
    for name in ("SPARK_USER", "HADOOP_USER_NAME", "KRB5CCNAME"):
        cases.append(("env " + name, {"env": {name: "root"}}, name))
    # the application itself from outside the approved location
    for res in ("file:" + m("evil.jar"), "file:" + app_dir + "/../evil.jar", "file:" + app_dir + "//TestApp.jar",
                "file:" + app_dir + "/%2e%2e/evil.jar", jar, "local:" + jar, "FILE:" + jar,
                "http://127.0.0.1:1/TestApp.jar"):
        cases.append(("appResource " + res[-40:], {"resource": res}, "appResource"))
    # main classes that submit, kill or interpret
    for main in ("org.apache.spark.deploy.Client", "org.apache.spark.deploy.SparkSubmit",
                 "scala.tools.nsc.MainGenericRunner", "org.apache.spark.repl.Main", "org.apache.hadoop.util.RunJar",
                 "jdk.jshell.JShell"):
        cases.append(("main " + main, {"main": main}, main))
    # Python applications (run by SparkSubmit): the script, its dependencies, the interpreter
    payloads = marks + "-payloads"   # what would write a marker if it ever ran
    os.makedirs(payloads, exist_ok=True)

    def pl(name):
        return os.path.join(payloads, name)
    for name, body in [("evil.py", "open(%r, 'w').write('py')\n" % m("py-ran")),
                       ("py.sh", "#!/bin/sh\ntouch %s\nexec python3 \"$@\"\n" % m("py-interpreter"))]:
        with open(pl(name), "w") as f:
            f.write(body)
        os.chmod(pl(name), 0o755)
    shutil.copy(pl("evil.py"), os.path.join(app_dir, "evil.py"))   # approved for jars, not for Python
    for res in ("file:" + pl("evil.py"), "file:%s/../%s/evil.py" % (pyapps, os.path.basename(payloads)),
                "file:" + pyapps + "/%2e%2e/evil.py",
                "file:" + pyapps + "//evil.py", "file:" + app_dir + "/evil.py", "http://127.0.0.1:1/evil.py"):
        cases.append(("python appResource " + res[-30:], {"resource": res}, "not an approved Python application"))
    py = "file:" + pyapps + "/pyapp.py"
    for key, value in [("spark.pyspark.python", pl("py.sh")), ("spark.pyspark.driver.python", pl("py.sh")),
                       ("spark.python.daemon.module", "evil"), ("spark.python.worker.module", "evil")]:
        cases.append(("python " + key, {"resource": py, "props": {key: value}}, key))
    for name in ("PYSPARK_PYTHON", "PYSPARK_DRIVER_PYTHON", "PYTHONPATH", "PYTHONSTARTUP"):
        cases.append(("python env " + name, {"resource": py, "env": {name: pl("py.sh")}}, name))
    cases.append(("python executorEnv PYSPARK_PYTHON", {"resource": py, "props": {
        "spark.executorEnv.PYSPARK_PYTHON": pl("py.sh")}}, "PYSPARK_PYTHON"))
    for value in ("file:" + pl("evil.py"), "file:%s/../%s/evil.py" % (pyapps, os.path.basename(payloads)),
                  py + ",file:" + pl("evil.py"), "file:%s/sitecustomize.zip" % data):
        cases.append(("python pyFiles " + value[-30:], {"resource": py, "props": {"spark.submit.pyFiles": value}},
                      "spark.submit.pyFiles"))
    # resources
    for key, value, why in [("spark.driver.cores", "-1", "-1 cores"), ("spark.driver.cores", "0", "0 cores"),
                            ("spark.driver.cores", "5", "5 cores"), ("spark.driver.memory", "9g", "MiB"),
                            ("spark.driver.supervise", "true", "supervise")]:
        cases.append(("%s=%s" % (key, value), {"props": {key: value}}, why))
    # placeholders are off: the literal text is judged (and is no allowed option)
    cases.append(("placeholder", {"props": {"spark.driver.extraJavaOptions": "{{SG_EVIL_OPTS}}"}}, "{{SG_EVIL_OPTS}}"))
    return cases


def body_for(change, out):
    b = H.create_body(out, 0, 0, props=change.get("props"), env=change.get("env"))
    if "resource" in change:
        b["appResource"] = change["resource"]
    if "main" in change:
        b["mainClass"] = change["main"]
        b["appArgs"] = ["kill", "spark://127.0.0.1:1", "driver-x"]
    return b


def driver_count(s):
    st = s.master_state()
    return len(st["activedrivers"]) + len(st["completeddrivers"])


def attack(s, port, cases, label):
    """Sends every case; returns the problems."""
    problems = []
    for name, change, must_name in cases:
        st, js, _ = s.http("POST", "/v1/submissions/create", body_for(change, "/dev/null"), port=port, auth=ALICE)
        msg = js.get("message", "") if isinstance(js, dict) else str(js)
        if st != 403 or js.get("action") != "ErrorResponse" or must_name not in msg:
            problems.append("%s %s: %s %s" % (label, name, st, msg[:300]))
    return problems


def run_build(build):
    work = tempfile.mkdtemp(prefix="sparkgate-policy-")
    s = H.C.s = Stack(workdir=work, build=build, rest_reference=False)
    H.C.work = work
    os.environ["SG_EVIL_OPTS"] = "-javaagent:/nonexistent.jar"   # a placeholder must not reach it
    try:
        H.start_cluster()
        # the approved folder holds the application and nothing else
        apps = os.path.join(work, "apps")
        os.makedirs(apps)
        shutil.copy(H.C.jar, apps)
        H.C.jar = os.path.join(apps, os.path.basename(H.C.jar))
        marks = os.path.join(work, "markers")
        os.makedirs(marks)
        os.chmod(marks, 0o777)
        fake = os.path.join(work, "fakejava")
        os.makedirs(os.path.join(fake, "bin"))
        with open(os.path.join(fake, "bin", "java"), "w") as f:
            f.write("#!/bin/sh\ntouch %s\nexec java \"$@\"\n" % os.path.join(marks, "java-home"))
        os.chmod(os.path.join(fake, "bin", "java"), 0o755)
        pyapps = os.path.join(work, "pyapps")   # the approved Python applications
        os.makedirs(pyapps)
        shutil.copy(os.path.join(H.ROOT, "tests", "app", "pyapp.py"), pyapps)
        # "allow python" approves the folder; the interpreter's properties stay never allowed
        # even when "allow property" names them
        data = os.path.join(work, "data")   # a data location: "allow url", never code
        os.makedirs(data)
        policy = web.shipped_policy(os.path.join(work, "policy.conf"), apps,
                                    "allow python file:%s/\nallow property spark.pyspark.* spark.python.*\n"
                                    "allow url file:%s/\nallow property spark.files spark.archives\n" % (pyapps, data))
        db = os.path.join(web.server_dir(s, "state"), "state.db")
        s.sparkgate_args = "--policy %s --state-db %s" % (policy, db)
        cases = corpus(marks, H.C.jar, fake, pyapps, data)
        # every class with a main in this build's jars (loaders, trampolines, script
        # runners, servers, file writers): never a main class, whatever the policy says
        platform_mains = mainscan.mains(s.spark)
        assert len(platform_mains) > 100, platform_mains
        cases += [("platform main " + c, {"main": c}, c) for c in platform_mains]
        print("[%s] %d hostile creates" % (build, len(cases)), flush=True)
        before = driver_count(s)

        def fastcgi():
            port = H.C.port = web.lighttpd_fastcgi(s, name="lighttpd-policy")   # fresh processes
            problems = attack(s, port, cases, "fastcgi")
            assert not problems, "\n".join(problems)
        H.C.port = None
        SUITE.check("[%s] %d hostile creates refused through lighttpd (FastCGI)" % (build, len(cases)), fastcgi)

        def cgi():
            port = web.lighttpd_cgi(s, name="lighttpd-policy-cgi")
            problems = attack(s, port, cases, "cgi")
            assert not problems, "\n".join(problems)
        SUITE.check("[%s] the same refused through CGI (a fresh process each)" % build, cgi)

        def nothing_happened():
            time.sleep(2)
            assert driver_count(s) == before, (before, driver_count(s))
            assert not os.listdir(marks), os.listdir(marks)
            jdwp = [p for p in re.findall(r"address=127\.0\.0\.1:(\d+)", repr(cases))]
            for p in set(jdwp):
                with socket.socket() as c:
                    c.settimeout(1)
                    assert c.connect_ex(("127.0.0.1", int(p))) != 0, "debugger port %s open" % p
        SUITE.check("[%s] nothing reached the master, nothing ran" % build, nothing_happened)

        def benign():
            out = os.path.join(work, "benign.txt")
            body = body_for({"props": {"spark.driver.extraJavaOptions": "-XX:+UseG1GC",
                                       "spark.sql.shuffle.partitions": "4"}, "env": {"APP_MODE": "test"}}, out)
            st, js, _ = s.http("POST", "/v1/submissions/create", body, port=H.C.port, auth=ALICE)
            assert st == 200 and js["success"] is True, (st, js)
            assert H.wait_state(js["submissionId"], H.FINAL, port=H.C.port)["driverState"] == "FINISHED", \
                H.C.last_status
            # the operator's defaults reached the driver (and are what quotas counted)
            props = H.read_out(out)["prop"]
            assert props.get("spark.cores.max") == "2" and props.get("spark.executor.cores") == "1", props
        s.auth = ALICE
        SUITE.check("[%s] an approved create runs to FINISHED" % build, benign)

        def benign_python():
            out = os.path.join(work, "benign-py.txt")
            body = body_for({"resource": "file:%s/pyapp.py" % pyapps,
                             "props": {"spark.python.worker.memory": "256m"}}, out)
            body["appArgs"] = [out, "approved"]
            st, js, _ = s.http("POST", "/v1/submissions/create", body, port=H.C.port, auth=ALICE)
            assert st == 200 and js["success"] is True, (st, js)
            assert H.wait_state(js["submissionId"], H.FINAL, port=H.C.port, timeout=120)["driverState"] == "FINISHED", \
                H.C.last_status
            assert H.read_out(out)["arg"]["2"] == "approved"
        SUITE.check("[%s] an approved Python application runs to FINISHED" % build, benign_python)

        def spark_submit():
            port = web.apache(s, name="apache-policy", anonymous=True)
            gw = "spark://127.0.0.1:%d" % port
            out = os.path.join(work, "submit-apache.txt")
            rc, log = H.spark_submit("--master", gw, "--deploy-mode", "cluster", "--conf",
                                     "spark.master.rest.enabled=true", "--driver-memory", "512m", "--class",
                                     "TestApp", H.C.jar, out, "0", "0")
            m = re.search(r"Submission successfully created as (driver-\d{14}-\d{4})", log)
            assert rc == 0 and m, log[-3000:]
            assert H.wait_state(m.group(1), H.FINAL, port=port)["driverState"] == "FINISHED", H.C.last_status
        SUITE.check("[%s] the real spark-submit through Apache runs an approved jar to FINISHED" % build,
                    spark_submit)
    except Exception:
        SUITE.setup_failed("[%s] policy stack" % build)
    finally:
        s.stop()


def platform_list_is_current():
    """The packages sparkgate never takes a main class from were generated from every
    supported build's jars: a changed build (or list of builds) changes them."""
    homes = subprocess.run([os.path.join(H.ROOT, "tools", "setup.sh"), "--no-apt", "all"], check=True,
                           capture_output=True, text=True).stdout.split()
    fresh = subprocess.run([os.path.join(H.ROOT, "tools", "policy", "platform-packages.sh")] + homes, check=True,
                           capture_output=True, text=True).stdout
    with open(os.path.join(H.ROOT, "core", "spark", "versions", "platform_packages.inc")) as f:
        assert f.read() == fresh, "core/spark/versions/platform_packages.inc is stale: run tools/policy/platform-packages.sh"


def main():
    SUITE.check("the platform's packages (core/spark/versions/platform_packages.inc) match every supported build",
                platform_list_is_current)
    for build in sys.argv[1:] or BUILDS:
        run_build(build)
    return SUITE.finish()


if __name__ == "__main__":
    sys.exit(main())
