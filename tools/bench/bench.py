"""make bench: sparkgate beside what users would run instead, in one run on one real master
and worker.

  sparkgate   wrk -> lighttpd -> sparkgate (BENCH_PROCS processes, default 2 as in
              lighttpd.conf, spawned by lighttpd) -> master RPC, default
              --status-max-age (1 s, shared by the processes)
  spark-rest  wrk -> Spark's own REST server (spark.master.rest.enabled=true, in the master)
  floor       wrk -> the same lighttpd -> hello-fcgi (2 processes): the FastCGI floor

What users see: status polling of real drivers (running and waiting) by 32 connections,
req/s and p50/p99 of each path with the ratios, the master JVM's CPU per request on each
path (process CPU from /proc over the run) and sparkgate's own; how stale an answer gets (a
driver killed behind sparkgate's back, polled through both); listing 100 drivers (p50/p99,
master requests per listing from sparkgate's log); create latency against spark-submit's
legacy cluster-mode client (the JVM alternative).  Then status and kill of an unknown id at
1 and 32 connections, instructions per request (callgrind), RSS, cold start.  Loopback only.
Usage: bench.py BUILD_DIR   (env BENCH_SECONDS per run, default 5)"""
import os
import re
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "it"))
import web  # noqa: E402
from stack import Stack, free_port, wait_for  # noqa: E402

SECONDS = int(os.environ.get("BENCH_SECONDS", "5"))
LEVELS = [1, 32]
POLLED_DRIVERS = 6        # 2 run on the worker's 2 cores, 4 wait
LISTED_DRIVERS = 100
PROCS = int(os.environ.get("BENCH_PROCS", "2"))   # sparkgate processes, as lighttpd.conf
UNKNOWN = "driver-20000101000000-0000"
CACHED = "driver-20000101000000-0001"   # asked about in turn, so mostly answered from the cache


def wrk(url, conns, seconds, method="GET", paths=None, full=False):
    """(req/s, p50 ms, p99 ms); paths: request these in turn (the URL's path is ignored);
    full: also the number of requests."""
    argv = ["wrk", "-t", str(min(conns, 2)), "-c", str(conns), "-d", "%ds" % seconds, "--latency", url]
    script = None
    if method == "POST":
        script = 'wrk.method = "POST"\nwrk.body = "{}"\nwrk.headers["Content-Type"] = "application/json"\n'
    elif paths:
        script = "local paths = {%s}\nlocal i = 0\nrequest = function()\n  i = i + 1\n" \
                 "  return wrk.format(\"GET\", paths[(i %% #paths) + 1])\nend\n" % ", ".join('"%s"' % p for p in paths)
    if script:
        path = os.path.join(tempfile.gettempdir(), "sparkgate-bench-%d.lua" % os.getpid())
        with open(path, "w") as f:
            f.write(script)
        argv[1:1] = ["-s", path]
    out = subprocess.run(argv, stdout=subprocess.PIPE, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    if bad or errors:
        raise RuntimeError("%s: non-2xx or socket errors:\n%s" % (url, out))

    def pct(p):
        m = re.search(r"^\s+%d%%\s+([\d.]+)(us|ms|s)\s*$" % p, out, re.M)
        return float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
    return (rps, pct(50), pct(99), total) if full else (rps, pct(50), pct(99))


def cpu_ms(pids):
    """User + system CPU of the processes so far (/proc/PID/stat), in ms."""
    total = 0
    tick = os.sysconf("SC_CLK_TCK")
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) * 1000 // tick
        except OSError:
            pass
    return total


def rss_kib(pids):
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/status" % pid) as f:
                total += int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))
        except OSError:
            pass
    return total


def pids_of(fragment):
    out = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open("/proc/%s/cmdline" % pid, "rb") as f:
                    if fragment.encode() in f.read():
                        out.append(int(pid))
            except OSError:
                pass
    return out


def lighttpd(s, sparkgate, hello):
    run = web.server_dir(s, "bench-run")
    port = free_port()
    extra = ('server.modules += ( "mod_fastcgi" )\nfastcgi.server = (\n'
             '  "/v1/" => (( "bin-path" => "%s --master spark://127.0.0.1:%d --anonymous allow", '
             '"socket" => "%s/sg.sock", "max-procs" => %d, "check-local" => "disable" )),\n'
             '  "/floor/" => (( "bin-path" => "%s", "socket" => "%s/hello.sock", "max-procs" => 2, '
             '"check-local" => "disable" )))\n' % (sparkgate, s.master_port, run, PROCS, hello, run))
    conf = web.lighttpd_base(s, "lighttpd-bench", port, [], extra=extra)
    s._start("lighttpd-bench", ["lighttpd", "-D", "-f", conf])
    wait_for("lighttpd", lambda: s.http("GET", "/floor/x", port=port, timeout=5)[0] == 200, 30)
    return port


def lighttpd_owners(s, sparkgate, name="owners", args=""):
    """sparkgate with an owner store (--state-db) in which the anonymous user "-" owns the
    id the status requests ask about: every status then also looks up its owner."""
    run = web.server_dir(s, "bench-" + name)
    db = os.path.join(run, "state.db")
    port = free_port()
    extra = ('server.modules += ( "mod_fastcgi" )\nfastcgi.server = (\n'
             '  "/v1/" => (( "bin-path" => "%s --master spark://127.0.0.1:%d --anonymous allow --state-db %s %s", '
             '"socket" => "%s/sg.sock", "max-procs" => %d, "check-local" => "disable" )))\n'
             % (sparkgate, s.master_port, db, args, run, PROCS))
    conf = web.lighttpd_base(s, "lighttpd-" + name, port, [], extra=extra)
    s._start("lighttpd-" + name, ["lighttpd", "-D", "-f", conf])
    wait_for("state db", lambda: os.path.exists(db), 30)
    wait_for("lighttpd", lambda: s.http("GET", "/v1/submissions/status/x", port=port, timeout=5)[0] == 200, 30)
    return port


MIX = [("GET", "/v1/submissions/status/" + UNKNOWN, None),
       ("POST", "/v1/submissions/kill/" + UNKNOWN, b""),   # also makes the next status ask
       ("POST", "/v1/submissions/create", b'{"action": "CreateSubmissionRequest"}'),
       ("GET", "/v1/nothing", None)]
CACHED_MIX = [("GET", "/v1/submissions/status/" + CACHED, None)]


def callgrind_per_request(s, sparkgate, mix):
    """Instructions sparkgate executes per request, over a fixed mix, from two callgrind runs
    (1 and 101 rounds of the mix) so start-up cost — and the first request's connection and
    build detection — cancel out."""
    totals = []
    for rounds in (1, 101):
        sock = os.path.join(s.work, "cg-%d-%d.sock" % (len(mix), rounds))
        out = os.path.join(s.work, "callgrind.out.%d.%d" % (len(mix), rounds))
        p = subprocess.Popen(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out, sparkgate,
                              "--master", "spark://127.0.0.1:%d" % s.master_port, "--anonymous", "allow",
                              "--listen", sock, "--log-level", "error"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for("callgrind sparkgate", lambda: os.path.exists(sock), 60)
        os.chmod(sock, 0o666)
        port = web.lighttpd_to_socket(s, "lighttpd-cg-%d-%d" % (len(mix), rounds), sock)
        for _ in range(rounds):
            for method, path, body in mix:
                s.http(method, path, body, port=port)
        s._kill("lighttpd-cg-%d-%d" % (len(mix), rounds))
        p.send_signal(signal.SIGTERM)
        p.wait(60)
        text = open(out).read()
        totals.append(int(re.search(r"^(?:summary|totals):\s+(\d+)", text, re.M).group(1)))
    return (totals[1] - totals[0]) / (100 * len(mix)), len(mix)


def cold_start(s, sparkgate, runs=20):
    """CGI mode is exec to first answered request: start, connect to the master, detect its
    build, ask, answer, exit."""
    env = dict(os.environ, GATEWAY_INTERFACE="CGI/1.1", REQUEST_METHOD="GET", SCRIPT_NAME="",
               PATH_INFO="/v1/submissions/status/" + UNKNOWN, SERVER_PROTOCOL="HTTP/1.1", REMOTE_USER="bench")
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        out = subprocess.run([sparkgate, "--master", "spark://127.0.0.1:%d" % s.master_port], env=env,
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout
        times.append((time.perf_counter() - t) * 1000)
        assert out.startswith(b"Status: 200"), out[:200]
    return statistics.median(times)


def submit(s, port, body):
    st, js, _ = s.http("POST", "/v1/submissions/create", body, port=port)
    assert st == 200 and js.get("success"), (st, js)
    return js["submissionId"]


def driver_body(s, jar, sleep, cores=1):
    return {"action": "CreateSubmissionRequest", "appArgs": [os.devnull, str(sleep), "0"],
            "appResource": "file:" + jar, "clientSparkVersion": s.spark_version, "environmentVariables": {},
            "mainClass": "TestApp", "sparkProperties": {"spark.app.name": "bench", "spark.driver.memory": "512m",
                                                         "spark.driver.cores": str(cores)}}


def status_polling(s, port, ids, sparkgate_pids, master_pids, floor_pids):
    """Table: status of real drivers by 32 connections on the three paths, with CPU."""
    paths = ["/v1/submissions/status/" + i for i in ids]
    targets = [("sparkgate", "http://127.0.0.1:%d/" % port, paths, sparkgate_pids),
               ("spark-rest", "http://127.0.0.1:%d/" % s.rest_port, paths, []),
               # the same rotation of paths (wrk's Lua costs every path alike)
               ("floor", "http://127.0.0.1:%d/" % port, ["/floor/" + i for i in ids], floor_pids)]
    for _, url, p, _ in targets:   # warm up (the JVM's JIT above all)
        wrk(url, 8, 3, paths=p)
    res = {}
    for name, url, p, own in targets:
        m0, g0 = cpu_ms(master_pids), cpu_ms(own)
        rps, p50, p99, n = wrk(url, 32, SECONDS, paths=p, full=True)
        res[name] = (rps, p50, p99, (cpu_ms(master_pids) - m0) * 1000.0 / n, (cpu_ms(own) - g0) * 1000.0 / n if own else 0)
    print("| status of %d real drivers (2 running, %d waiting), 32 conns | req/s | p50 ms | p99 ms | master CPU "
          "µs/request | own CPU µs/request (sparkgate, hello-fcgi) |" % (len(ids), len(ids) - 2))
    print("|---|---:|---:|---:|---:|---:|")
    for name in ("sparkgate", "spark-rest", "floor"):
        r = res[name]
        print("| %s | %.0f | %.2f | %.2f | %.0f | %s |" % (
            {"sparkgate": "sparkgate (lighttpd, %d processes)" % PROCS, "spark-rest": "Spark's own REST server",
             "floor": "floor (lighttpd + hello-fcgi)"}[name], r[0], r[1], r[2], r[3],
            "%.1f" % r[4] if name != "spark-rest" else "- (inside the master)"))
    print()
    print("ratios: sparkgate/Spark REST %.2f; sparkgate/floor %.2f; master CPU per request through sparkgate / "
          "through Spark's REST server %.3f" % (res["sparkgate"][0] / res["spark-rest"][0],
                                                res["sparkgate"][0] / res["floor"][0],
                                                res["sparkgate"][3] / max(res["spark-rest"][3], 1e-9)), flush=True)


def staleness(s, port, sid):
    """A running driver killed through Spark's own REST server (sparkgate is not told) while
    both are polled every 10 ms: how much later sparkgate's answers say KILLED."""
    import threading
    seen = {}

    def watch(name, get):
        t_end = time.time() + 30
        while time.time() < t_end and name not in seen:
            if get() == "KILLED":
                seen[name] = time.time()
            time.sleep(0.01)
    rest = lambda: s.rest("GET", "/v1/submissions/status/" + sid)[1].get("driverState")  # noqa: E731
    gate = lambda: s.http("GET", "/v1/submissions/status/" + sid, port=port)[1].get("driverState")  # noqa: E731
    threads = [threading.Thread(target=watch, args=("rest", rest)), threading.Thread(target=watch, args=("gate", gate))]
    s.rest("POST", "/v1/submissions/kill/" + sid, b"")
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return (seen["gate"] - seen["rest"]) * 1000 if len(seen) == 2 else float("nan")


def listing(s, port, log, master_pids, rounds=10):
    """GET /v1/submissions of LISTED_DRIVERS drivers, once every 1.1 s (longer than max-age,
    as a portal page polling every 2 s: nothing comes from the status cache): p50/p99 ms,
    master requests per listing (sparkgate's log: asks=N), master CPU ms per listing."""
    times, cpu = [], 0
    for _ in range(rounds):
        time.sleep(1.1)
        c0, t = cpu_ms(master_pids), time.perf_counter()
        st, js, _ = s.http("GET", "/v1/submissions", port=port)
        times.append((time.perf_counter() - t) * 1000)
        cpu += cpu_ms(master_pids) - c0
        assert st == 200 and len(js["submissions"]) == LISTED_DRIVERS, (st, str(js)[:300])
    asks = [int(m) for m in re.findall(r"GET /v1/submissions -> 200 [\d.]+ms asks=(\d+)", open(log, errors="replace").read())]
    times.sort()
    return statistics.median(times), times[-1], statistics.mean(asks[-rounds:]), cpu / rounds


def create_latency(s, port, jar, runs=10):
    """Median create through sparkgate (HTTP, answered once the master accepted it) and
    through spark-submit's legacy cluster-mode client (a JVM that submits over RPC)."""
    ours = []
    for _ in range(runs):
        t = time.perf_counter()
        sid = submit(s, port, driver_body(s, jar, 0, cores=64))
        ours.append((time.perf_counter() - t) * 1000)
        s.http("POST", "/v1/submissions/kill/" + sid, b"", port=port)
    theirs = []
    env = dict(os.environ, SPARK_HOME=s.spark, SPARK_LOCAL_IP="127.0.0.1")
    for _ in range(3):
        t = time.perf_counter()
        p = subprocess.run([os.path.join(s.spark, "bin", "spark-submit"), "--master", "spark://127.0.0.1:%d" % s.master_port,
                            "--deploy-mode", "cluster", "--driver-cores", "64", "--class", "TestApp", jar, os.devnull],
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
        theirs.append((time.perf_counter() - t) * 1000)
        m = re.search(r"(driver-\d{14}-\d{4})", p.stdout)
        assert p.returncode == 0 and m, p.stdout[-2000:]
        s.http("POST", "/v1/submissions/kill/" + m.group(1), b"", port=port)
    return statistics.median(ours), statistics.median(theirs)


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    sparkgate = os.path.join(ROOT, build, "sparkgate")
    hello = os.path.join(ROOT, build, "hello-fcgi")
    s = Stack(workdir=tempfile.mkdtemp(prefix="sparkgate-bench-"), rest_reference=True)
    t = time.time()
    try:
        import harness
        jar = harness.build_app(s.work)
        s.start_master()
        wait_for("Spark REST", lambda: s.rest("GET", "/v1/submissions/status/" + UNKNOWN)[0] == 200, 60, 0.1)
        spark_cold = time.time() - t
        s.start_worker()
        port = lighttpd(s, sparkgate, hello)
        master_pids = pids_of("org.apache.spark.deploy.master.Master")
        sg_pids = [p for p in pids_of(sparkgate + "\0--master") if p not in pids_of("--state-db")]
        print("sparkgate bench: %ds per run, wrk on loopback, %d CPUs; one Spark %s master and worker; %d sparkgate "
              "processes, --status-max-age 1 s (default)" % (SECONDS, os.cpu_count(), s.spark_version, PROCS))
        print()
        ids = [submit(s, port, driver_body(s, jar, 600)) for _ in range(POLLED_DRIVERS)]
        wait_for("2 drivers running", lambda: sum(d["state"] == "RUNNING" for d in s.master_state()["activedrivers"]) == 2,
                 90)
        sg_pids = [p for p in pids_of(sparkgate + "\0--master") if p not in pids_of("--state-db")]
        status_polling(s, port, ids, sg_pids, master_pids, pids_of(hello))
        running = [d["id"] for d in s.master_state()["activedrivers"] if d["state"] == "RUNNING" and d["id"] in ids]
        lag = staleness(s, port, running[0])
        print("staleness: a driver killed through Spark's REST server showed KILLED through sparkgate %.0f ms after "
              "through Spark's server (max-age 1000 ms)" % lag, flush=True)
        for i in ids:
            s.rest("POST", "/v1/submissions/kill/" + i, b"")
        owners = lighttpd_owners(s, sparkgate, args="--master-ui http://127.0.0.1:%d" % s.master_ui)
        per_driver = lighttpd_owners(s, sparkgate, name="per-driver", args="--master-ui off")
        for i in range(LISTED_DRIVERS):   # 90 wait (never scheduled), 10 finish
            submit(s, owners, driver_body(s, jar, 0, cores=1 if i % 10 == 0 else 64))
        db = os.path.join(web.server_dir(s, "bench-owners"), "state.db")
        with sqlite3.connect(db, timeout=10) as a, sqlite3.connect(os.path.join(
                web.server_dir(s, "bench-per-driver"), "state.db"), timeout=10) as b:
            for row in a.execute("SELECT id, owner, state, created_ms FROM submissions WHERE id IS NOT NULL"):
                b.execute("INSERT INTO submissions (id, owner, state, created_ms) VALUES (?, ?, ?, ?)", row)
        wait_for("drivers finished", lambda: sum(d["state"] == "FINISHED" for d in s.master_state()["completeddrivers"])
                 >= LISTED_DRIVERS // 10, 300, 1)
        print("| listing %d drivers (90 waiting, 10 finished; GET /v1/submissions, --state-db), one every 1.1 s | p50 ms | max ms | master "
              "requests per listing | master CPU ms per listing |" % LISTED_DRIVERS)
        print("|---|---:|---:|---:|---:|")
        for name, p, label in ((
                "owners", owners, "one read of the master's web UI JSON (`--master-ui`)"),
                ("per-driver", per_driver, "a status ask per driver (`--master-ui off`)")):
            p50, worst, asks, cpu = listing(s, p, os.path.join(s.work, "lighttpd-%s.log" % name), master_pids)
            print("| %s | %.1f | %.1f | %.1f | %.1f |" % (label, p50, worst, asks, cpu), flush=True)
        ours, theirs = create_latency(s, port, jar)
        print("create, median: sparkgate %.1f ms; spark-submit --deploy-mode cluster (legacy RPC client, a JVM) "
              "%.0f ms; ratio %.3f" % (ours, theirs, ours / theirs), flush=True)
        s.rest("POST", "/v1/submissions/killall", b"") if s.spark_version.startswith("4") else None
        print()
        targets = {
            "sparkgate": "http://127.0.0.1:%d/v1/submissions/%%s/%s" % (port, UNKNOWN),
            "spark-rest": "http://127.0.0.1:%d/v1/submissions/%%s/%s" % (s.rest_port, UNKNOWN),
            "floor": "http://127.0.0.1:%d/floor/%%s" % port,
        }
        print("| request | conns | sparkgate req/s | p50 ms | p99 ms | Spark REST req/s | p50 ms | p99 ms "
              "| floor req/s | p50 ms | p99 ms | sparkgate/Spark | sparkgate/floor |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for kind, method in (("status", "GET"), ("kill", "POST")):
            for conns in LEVELS:
                r = {name: wrk(url % kind, conns, SECONDS, method) for name, url in targets.items()}
                print("| %s unknown id | %d | %.0f | %.2f | %.2f | %.0f | %.2f | %.2f | %.0f | %.2f | %.2f | %.2f | %.2f |" % (
                    kind, conns, *r["sparkgate"], *r["spark-rest"], *r["floor"],
                    r["sparkgate"][0] / r["spark-rest"][0], r["sparkgate"][0] / r["floor"][0]), flush=True)
        s._kill("lighttpd-owners")
        s._kill("lighttpd-per-driver")
        sg_rss = [rss_kib([p]) for p in sg_pids]
        master_rss = rss_kib(master_pids)
        print()
        print("RSS after the run: sparkgate %s KiB per process; the Spark master JVM, which holds Spark's REST "
              "server, %d KiB" % (" and ".join(str(r) for r in sg_rss), master_rss))
        per_req, n = callgrind_per_request(s, sparkgate, MIX)
        cached, _ = callgrind_per_request(s, sparkgate, CACHED_MIX)
        print("instructions per request (callgrind): %.0f for a status answered from the cache; %.0f over a %d-request "
              "mix that asks the master (status and kill of an unknown id, invalid create, unknown path)" % (
                  cached, per_req, n))
        print("cold start, exec to first answered request (CGI mode: connect, detect build, ask; median "
              "of 20): %.1f ms; Spark's REST server: %.1f s from starting the master JVM" % (
                  cold_start(s, sparkgate), spark_cold))
    finally:
        s.stop()


if __name__ == "__main__":
    main()
