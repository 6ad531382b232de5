"""Differential test: every request of tests/diff/corpus.py goes to sparkgate (behind the
shipped lighttpd.conf, serving "/") and to Spark's own REST server, both on the
same real master, for every Spark minor 3.3-4.3.  Status codes and JSON bodies must match after
normalising what must differ (submission ids, times).  Creates that succeed are compared
further at the master (the twin drivers' cores, memory, main class) and, for some, by
running both drivers and comparing what each saw (arguments, environment, properties).

Two further differences are reported, not failed: Spark's messages carry the JVM stack
trace after the first line (sparkgate sends the first line), and Jackson's parser error
texts (sparkgate's parser words them its own way).  Cases marked "differs" in the corpus
are listed in doc/testing.md with their reason.  Ends with "diff: N passed, N failed".
Usage: test_diff.py [BUILD...]   (SPARKGATE_LANES builds at a time, default 2, each lane a
process of its own: test_diff.py --lane BUILD...)"""
import os
import re
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "diff"))
import corpus  # noqa: E402
import harness as H  # noqa: E402  (its helpers work on H.C: the stack, work dir, app jar)
import web  # noqa: E402
from runner import Suite  # noqa: E402
from stack import Stack  # noqa: E402

SUITE = Suite("diff")

# one build per minor (the Scala 2.13 builds of 3.x differ only in the collection classes of
# the messages, which the golden vectors and the versions suite cover)
BUILDS = ["3.3.4_2.12", "3.4.4_2.12", "3.5.9_2.12", "4.0.5_2.13", "4.1.4_2.13", "4.2.1_2.13", "4.3.0_2.13"]
ALICE = ("alice", web.USERS["alice"])
# Creates whose drivers are run on both sides and their outputs compared.
RUN = {"plain", "java-opts", "unicode-props", "placeholder-prop", "env-placeholder", "env-local-ip",
       "spark-master", "class-path", "missing-jar", "exit-code-3", "spark-job"}
# How a run driver must end (else FINISHED); the final status answers of both are compared.
ENDS = {"missing-jar": "ERROR", "exit-code-3": "FAILED"}
WORKER_ID = re.compile(r"worker-\d{14}-[\d.]+-\d+")
PLACEHOLDERS = {"SG_DIFF_MEM": "768m", "SG_DIFF_VALUE": "placed-from-server-env"}
ID = re.compile(r"driver-\d{14}-\d{4}")


def create(variant, out, run):
    """A valid create request, changed as VARIANTS[variant] says."""
    body = {"action": "CreateSubmissionRequest", "appArgs": [out, "0", "0"], "appResource": "file:" + H.C.jar,
            "clientSparkVersion": H.C.s.spark_version, "environmentVariables": {"SG_ENV": "1"},
            "mainClass": "TestApp",
            "sparkProperties": {"spark.app.name": "sparkgate-diff", "spark.driver.memory": "512m"}}
    if not run:  # the master accepts it but never starts it (the worker has 16 cores)
        body["sparkProperties"]["spark.driver.cores"] = "64"
    change = corpus.VARIANTS[variant]
    if isinstance(change, dict):
        for k, v in change.items():
            if v is None:
                body["sparkProperties"].pop(k, None)
            else:
                body["sparkProperties"][k] = v
    elif isinstance(change, str):
        body.pop(change[1:])
    elif change[0] == "job":
        body["mainClass"] = "SparkJob"
        body["sparkProperties"].update(H.JOB_PROPS)
        body["sparkProperties"]["spark.jars"] = "file:" + H.C.jar
    elif change[0] == "exit":
        body["appArgs"][2] = change[1]
    elif change[0] == "+":
        body.update(change[1])
    else:
        body[change[0]] = change[1]
    return body


def ids_out(js):
    if isinstance(js, dict):
        return {k: ids_out(v) for k, v in js.items()}
    if isinstance(js, str):
        return ID.sub("<id>", js)
    return js


def first_line(js):
    if isinstance(js, dict) and isinstance(js.get("message"), str):
        js = dict(js, message=js["message"].split("\n")[0])
    return js


def jackson(js):
    if isinstance(js, dict) and isinstance(js.get("message"), str) \
            and js["message"].startswith("Malformed request: com.fasterxml.jackson."):
        js = dict(js, message="Malformed request: com.fasterxml.jackson.<parser error>")
    return js


def compare(a, b):
    """'identical', 'stack trace', 'jackson text' or None (different)."""
    (sa, ja), (sb, jb) = a, b
    if sa != sb:
        return None
    ja, jb = ids_out(ja), ids_out(jb)
    if ja == jb:
        return "identical"
    ja, jb = first_line(ja), first_line(jb)
    if ja == jb:
        return "stack trace"
    return "jackson text" if jackson(ja) == jackson(jb) else None


def driver_entry(sid):
    for d in H.C.s.master_state().get("activedrivers", []) + H.C.s.master_state().get("completeddrivers", []):
        if d["id"] == sid:
            return {k: v for k, v in d.items() if k not in ("id", "starttime", "submitdate", "worker", "state")}
    return None


def output_of(path):
    rows = []
    for line in open(path, errors="replace"):
        kind, key, val = line.rstrip("\n").split("\t", 2)
        if kind == "arg" and key == "0":
            continue  # the output path itself
        rows.append((kind, key, ID.sub("<id>", val)))
    return sorted(rows)


def twin_drivers(name, variant, sid_a, sid_b, run):
    """The master holds the same driver for both; run ones saw the same world."""
    problems = []
    a, b = driver_entry(sid_a), driver_entry(sid_b)
    if a != b:
        problems.append("master's view differs: %r vs %r" % (a, b))
    if run:
        states, finals = {}, []
        want = ENDS.get(variant, "FINISHED")
        for sid, port in ((sid_a, None), (sid_b, H.C.s.rest_port)):
            states[sid] = H.wait_state(sid, H.FINAL, port=port, timeout=240)["driverState"]
        for path, rest in (("/v1/submissions/status/" + sid_a, False), ("/v1/submissions/status/" + sid_b, True)):
            st, js = send("GET", path, None, rest)[:2]
            finals.append((st, {k: WORKER_ID.sub("<worker>", v) if isinstance(v, str) else v for k, v in js.items()}
                           if isinstance(js, dict) else js))
        if set(states.values()) != {want}:
            problems.append("drivers ended %r, want %s" % (states, want))
        elif compare(finals[0], finals[1]) not in ("identical", "stack trace"):
            problems.append("final status differs:\n      sparkgate %s\n      spark     %s" % (
                short(finals[0]), short(finals[1])))
        elif want != "ERROR":
            oa, ob = output_of(C.out % (variant, "a")), output_of(C.out % (variant, "b"))
            if oa != ob:
                problems.append("drivers saw different things: %r" % sorted(set(oa) ^ set(ob)))
            C.outputs[variant] = oa
    else:
        H.C.s.http("POST", "/v1/submissions/kill/" + sid_a, b"", auth=ALICE)
        H.C.s.rest("POST", "/v1/submissions/kill/" + sid_b, b"")
    return problems


class C:
    out = None
    outputs = {}


def send(method, path, body, rest):
    if rest:
        return H.C.s.http(method, path, body, port=H.C.s.rest_port)
    return H.C.s.http(method, path, body, auth=ALICE)


def run_case(case):
    name, method, path, body, opts = case
    variant = None
    if isinstance(body, str) and body.startswith("create:"):
        variant = body[len("create:"):]
        run = variant in RUN
        body_a = create(variant, C.out % (variant, "a"), run)
        body_b = create(variant, C.out % (variant, "b"), run)
    else:
        run, body_a = False, body
        body_b = body
    path = path.replace("{finished}", C.finished)
    a = send(method, path, body_a, False)[:2]
    b = send(method, path, body_b, True)[:2]
    kind = compare(a, b)
    problems = []
    if variant and a[0] == 200 and isinstance(a[1], dict) and a[1].get("success") \
            and isinstance(b[1], dict) and b[1].get("success"):
        problems = twin_drivers(name, variant, a[1]["submissionId"], b[1]["submissionId"], run)
    else:  # a driver only one side started: not left behind
        for r, rest in ((a, False), (b, True)):
            if r[0] == 200 and isinstance(r[1], dict) and r[1].get("action") == "CreateSubmissionResponse" \
                    and r[1].get("submissionId"):
                send("POST", "/v1/submissions/kill/" + r[1]["submissionId"], b"", rest)
    return kind, problems, a, b


def short(answer):
    st, body = answer
    if isinstance(body, str) and body.startswith("<"):  # Jetty's HTML error page: its title says it
        m = re.search(r"<title>(.*?)</title>", body)
        body = "HTML: " + (m.group(1) if m else body[:200])
    return "%s %r" % (st, first_line(body))


def run_build(build):
    os.environ.update(PLACEHOLDERS)   # the master's and sparkgate's environment alike
    H.C.work = tempfile.mkdtemp(prefix="sparkgate-diff-")
    C.out = os.path.join(H.C.work, "out-%s-%s.txt")
    C.outputs = {}
    H.C.s = s = Stack(build=build, workdir=H.C.work, rest_reference=True)
    t0 = time.time()
    try:
        H.C.jar = H.build_app(H.C.work)
        s.start_master()
        s.start_worker()
        s.http_port = web.lighttpd_fastcgi(s, prefix="/", procs=1)
        s.auth = ALICE
        spark4 = s.spark_version.startswith("4")
        rules = dict(line.rstrip("\n").split("\t") for line in open(os.path.join(
            H.ROOT, "tests", "golden", "spark-" + build, "rest-rules.txt")))
        only_if = {"differs-strict-decoding: ": rules["body-decoding"] == "report",
                   "differs-no-depth-limit: ": rules["json-max-depth"] == "0",
                   "differs-no-module-options: ": rules["rest-adds-module-options"] == "false",
                   "differs-placeholders: ": spark4}
        # a finished driver, for status and kill of finished ids
        sid = H.submit(create("plain", os.path.join(H.C.work, "finished.txt"), True))
        H.wait_state(sid, ("FINISHED",))
        C.finished = sid
        cases = [c for c in corpus.CASES if "last" not in c[4]] + [
            ("status finished", "GET", "/v1/submissions/status/{finished}", None, ""),
            ("kill finished", "POST", "/v1/submissions/kill/{finished}", b"", "")] + [
            c for c in corpus.CASES if "last" in c[4]]
        counts = {"identical": 0, "stack trace": 0, "jackson text": 0, "listed": 0}
        failures, listed = [], []
        for case in cases:
            name, opts = case[0], case[4]
            for tag, applies in only_if.items():
                if opts.startswith(tag):
                    opts = "differs: " + opts[len(tag):] if applies else ""
            kind, problems, a, b = run_case(case)
            if problems and opts.startswith("differs"):
                kind = None   # listed below, with its reason
                a, b = (a[0], "%s; %s" % (a[1], "; ".join(problems))), b
            elif problems:
                failures.append("%s: %s" % (name, "; ".join(problems)))
            if kind is None and opts.startswith("differs"):
                counts["listed"] += 1
                listed.append("%s (%s):\n      sparkgate %s\n      spark     %s" % (
                    name, opts[len("differs: "):], short(a), short(b)))
            elif kind is None:
                failures.append("%s:\n    sparkgate %s\n    spark     %s" % (name, short(a), short(b)))
            else:
                counts[kind] += 1
        total = len(cases)
        print("  Spark %s: %d of %d identical; %d more identical but for Spark's stack trace, %d but for "
              "Jackson's error text; %d listed differences; %d unexplained" % (
                  s.spark_version, counts["identical"], total, counts["stack trace"], counts["jackson text"],
                  counts["listed"], len(failures)), flush=True)
        for line in listed:
            print("    listed: " + line)
        # placeholders are off (--env-placeholders none): sparkgate's driver sees the text as
        # written, on Spark 4 too (where Spark's own server's driver gets the master's value)
        for variant, kind, key in (("placeholder-prop", "prop", "sg.placed"), ("env-placeholder", "env", "SG_PLACED")):
            try:
                placed = [r for r in output_of(C.out % (variant, "a")) if r[1] == key]
            except OSError:
                placed = None
            if placed != [(kind, key, "{{SG_DIFF_VALUE}}")]:
                failures.append("%s: sparkgate's driver saw %r, want the text as written" % (variant, placed))
        # every case ran and is identical, identical but for a stated reason, or listed
        assert sum(counts.values()) + len(failures) == total, (counts, len(failures), total)
        assert not failures, "\n".join(failures)
        print("  (%.0fs, logs %s)" % (time.time() - t0, H.C.work))
    finally:
        s.stop()


def main():
    args = sys.argv[1:]
    lane = args[:1] == ["--lane"]
    builds = args[1:] if lane else args or BUILDS
    if not lane and len(builds) > 1 and H.lanes_wanted() > 1:
        # builds side by side (SPARKGATE_LANES), each its own stack on ports of its own
        H.run_lanes(SUITE, os.path.abspath(__file__), H.split_lanes(builds, H.lanes_wanted()))
        return SUITE.finish()
    for build in builds:
        SUITE.check("differential %s" % build, lambda: run_build(build))
    return SUITE.finish()


if __name__ == "__main__":
    sys.exit(main())
