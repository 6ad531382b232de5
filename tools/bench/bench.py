"""make bench: sparkgate beside what users would run instead, in one run on one real master.

  sparkgate   wrk -> lighttpd -> sparkgate (BENCH_PROCS processes, default 2 as in
              deploy/lighttpd.conf, spawned by lighttpd) -> master RPC
  spark-rest  wrk -> Spark's own REST server (spark.master.rest.enabled=true, in the master)
  floor       wrk -> the same lighttpd -> hello-fcgi (2 processes): the FastCGI floor

For status and kill of an unknown id (both go to the master and back), at a few
concurrency levels: req/s and p50/p99 latency of each, and the ratios sparkgate/spark-rest
and sparkgate/floor.  Then sparkgate's instructions per request (callgrind over a fixed
mix), RSS after the run, and cold start.  Loopback only.
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
LEVELS = [1, 8, 32]
PROCS = int(os.environ.get("BENCH_PROCS", "2"))   # sparkgate processes, as deploy/lighttpd.conf
UNKNOWN = "driver-20000101000000-0000"


def wrk(url, conns, seconds, method="GET"):
    argv = ["wrk", "-t", str(min(conns, 2)), "-c", str(conns), "-d", "%ds" % seconds, "--latency", url]
    if method == "POST":
        script = os.path.join(tempfile.gettempdir(), "sparkgate-bench-post.lua")
        with open(script, "w") as f:
            f.write('wrk.method = "POST"\nwrk.body = "{}"\nwrk.headers["Content-Type"] = "application/json"\n')
        argv[1:1] = ["-s", script]
    out = subprocess.run(argv, stdout=subprocess.PIPE, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    if bad or errors:
        raise RuntimeError("%s: non-2xx or socket errors:\n%s" % (url, out))

    def pct(p):
        m = re.search(r"^\s+%d%%\s+([\d.]+)(us|ms|s)\s*$" % p, out, re.M)
        return float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
    return rps, pct(50), pct(99)


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


def lighttpd_owners(s, sparkgate):
    """sparkgate with an owner store (--state-db) in which the anonymous user "-" owns the
    id the status requests ask about: every status then also looks up its owner."""
    run = web.server_dir(s, "bench-owners")
    db = os.path.join(run, "state.db")
    port = free_port()
    extra = ('server.modules += ( "mod_fastcgi" )\nfastcgi.server = (\n'
             '  "/v1/" => (( "bin-path" => "%s --master spark://127.0.0.1:%d --anonymous allow --state-db %s", '
             '"socket" => "%s/sg.sock", "max-procs" => %d, "check-local" => "disable" )))\n'
             % (sparkgate, s.master_port, db, run, PROCS))
    conf = web.lighttpd_base(s, "lighttpd-owners", port, [], extra=extra)
    s._start("lighttpd-owners", ["lighttpd", "-D", "-f", conf])
    wait_for("state db", lambda: os.path.exists(db), 30)
    wait_for("lighttpd", lambda: s.http("GET", "/v1/submissions/status/x", port=port, timeout=5)[0] == 200, 30)
    with sqlite3.connect(db, timeout=10) as c:
        c.execute("INSERT INTO submissions (id, owner, state, created_ms) VALUES (?, '-', 'submitted', 0)",
                  (UNKNOWN,))
    return port


def callgrind_per_request(s, sparkgate):
    """Instructions sparkgate executes per request, over a fixed mix, from two callgrind runs
    (no requests, and 100 rounds of the mix) so start-up cost cancels out."""
    mix = [("GET", "/v1/submissions/status/" + UNKNOWN, None),
           ("POST", "/v1/submissions/kill/" + UNKNOWN, b""),
           ("POST", "/v1/submissions/create", b'{"action": "CreateSubmissionRequest"}'),
           ("GET", "/v1/nothing", None)]
    totals = []
    for rounds in (0, 100):
        sock = os.path.join(s.work, "cg-%d.sock" % rounds)
        out = os.path.join(s.work, "callgrind.out.%d" % rounds)
        p = subprocess.Popen(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out, sparkgate,
                              "--master", "spark://127.0.0.1:%d" % s.master_port, "--anonymous", "allow",
                              "--listen", sock, "--log-level", "error"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for("callgrind sparkgate", lambda: os.path.exists(sock), 60)
        os.chmod(sock, 0o666)
        port = web.lighttpd_to_socket(s, "lighttpd-cg-%d" % rounds, sock)
        for _ in range(rounds):
            for method, path, body in mix:
                s.http(method, path, body, port=port)
        s._kill("lighttpd-cg-%d" % rounds)
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


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    sparkgate = os.path.join(ROOT, build, "sparkgate")
    hello = os.path.join(ROOT, build, "hello-fcgi")
    s = Stack(workdir=tempfile.mkdtemp(prefix="sparkgate-bench-"), rest_reference=True)
    t = time.time()
    try:
        s.start_master()
        wait_for("Spark REST", lambda: s.rest("GET", "/v1/submissions/status/" + UNKNOWN)[0] == 200, 60, 0.1)
        spark_cold = time.time() - t
        port = lighttpd(s, sparkgate, hello)
        targets = {
            "sparkgate": "http://127.0.0.1:%d/v1/submissions/%%s/%s" % (port, UNKNOWN),
            "spark-rest": "http://127.0.0.1:%d/v1/submissions/%%s/%s" % (s.rest_port, UNKNOWN),
            "floor": "http://127.0.0.1:%d/floor/%%s" % port,
        }
        for name, url in targets.items():  # warm up (the JVM's JIT above all)
            wrk(url % "status", 8, 3)
        print("sparkgate bench: %ds per run, wrk on loopback, %d CPUs; one Spark %s master; %d sparkgate "
              "processes" % (SECONDS, os.cpu_count(), s.spark_version, PROCS))
        print()
        print("| request | conns | sparkgate req/s | p50 ms | p99 ms | Spark REST req/s | p50 ms | p99 ms "
              "| floor req/s | p50 ms | p99 ms | sparkgate/Spark | sparkgate/floor |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for kind, method in (("status", "GET"), ("kill", "POST")):
            for conns in LEVELS:
                r = {name: wrk(url % kind, conns, SECONDS, method) for name, url in targets.items()}
                print("| %s unknown id | %d | %.0f | %.2f | %.2f | %.0f | %.2f | %.2f | %.0f | %.2f | %.2f | %.2f | %.2f |" % (
                    kind, conns, *r["sparkgate"], *r["spark-rest"], *r["floor"],
                    r["sparkgate"][0] / r["spark-rest"][0], r["sparkgate"][0] / r["floor"][0]), flush=True)
        owners = lighttpd_owners(s, sparkgate)
        url = "http://127.0.0.1:%d/v1/submissions/status/%s"
        print()
        print("| status of one's own id | conns | without owner store req/s | p50 ms | with --state-db req/s "
              "| p50 ms | ratio |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for conns in (1, 8):
            a = wrk(url % (port, UNKNOWN), conns, SECONDS)
            b = wrk(url % (owners, UNKNOWN), conns, SECONDS)
            print("| status | %d | %.0f | %.2f | %.0f | %.2f | %.2f |" % (conns, a[0], a[1], b[0], b[1], b[0] / a[0]),
                  flush=True)
        s._kill("lighttpd-owners")
        sg_rss = rss_kib(pids_of(sparkgate + "\0--master"))
        master_rss = rss_kib([s.procs["master"].pid] + pids_of("org.apache.spark.deploy.master.Master"))
        print()
        print("RSS after the run: sparkgate %d KiB (%d processes); the Spark master JVM, which holds "
              "Spark's REST server, %d KiB" % (sg_rss, PROCS, master_rss))
        per_req, n = callgrind_per_request(s, sparkgate)
        print("instructions per request (callgrind, %d-request mix: status, kill, invalid create, "
              "unknown path): %.0f" % (n, per_req))
        print("cold start, exec to first answered request (CGI mode: connect, detect build, ask; median "
              "of 20): %.1f ms; Spark's REST server: %.1f s from starting the master JVM" % (
                  cold_start(s, sparkgate), spark_cold))
    finally:
        s.stop()


if __name__ == "__main__":
    main()
