"""make bench: sparkgate beside what users would run instead, in one run on one real master
and worker, measured at steady state.

Paths, each with BENCH_PROCS (default 2) application processes:
  lighttpd      wrk -> lighttpd mod_fastcgi (bin-path, max-procs; a new connection per request)
  apache-fcgid  wrk -> Apache 2.4 mod_fcgid (FcgidWrapper; a new connection per request)
  nginx         wrk -> nginx (fastcgi_keep_conn, upstream keepalive 32, as nginx.conf) -> external processes
  apache-proxy  wrk -> Apache 2.4 mod_proxy_fcgi (enablereuse=on) -> the same external processes
  spark-rest    wrk -> Spark's own REST server (Jetty in the master JVM, kept HTTP connections)
Each path runs sparkgate (--anonymous allow, default --status-max-age 1 s, the cache shared
by the host's processes) and, as its floor, tools/bench/hello.c (the smallest libfcgi
application, the same connection handling) behind the same web server.

Spark's server is warmed until two consecutive runs agree within 5 % (after at least 50 000
requests, so that two early runs cannot agree before the JIT is done), then every path is
warmed (3 s) and measured (BENCH_SECONDS, default 5) with 32 connections polling the status of
6 real drivers, alternately with its floor BENCH_ROUNDS (default 2) times, the better run of
each kept (the master's idle CPU is measured first, for the column above it); Spark's server is measured again at the end and the ratios use the better of
its two runs.  Per path: req/s, p50/p99, the master JVM's CPU per request (from /proc), the
application's and the web server's CPU per request.  Then: staleness, listing 100 drivers,
create latency (sparkgate, Spark's server, spark-submit's legacy RPC client), RSS per process,
instructions per cached status over one kept FastCGI connection (callgrind; hello-fcgi's
alongside), cold start.  Last, status polling and create over plain, AES-CTR, AES-GCM and TLS
RPC connections (tools/bench/crypto.py, masters of their own).  Loopback only.
Usage: bench.py BUILD_DIR   (env BENCH_SECONDS, BENCH_ROUNDS, BENCH_PROCS)"""
import os
import re
import signal
import socket
import sqlite3
import statistics
import struct
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "it"))
import web  # noqa: E402
from stack import Stack, free_port, wait_for  # noqa: E402

SECONDS = int(os.environ.get("BENCH_SECONDS", "5"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))   # runs of each path and its floor, alternately
CONNS = 32
POLLED_DRIVERS = 6        # 2 run, 4 wait (more cores than the worker has)
LISTED_DRIVERS = 100
PROCS = int(os.environ.get("BENCH_PROCS", "2"))   # application processes per path, as lighttpd.conf
# nginx's kept FastCGI connections per worker, as nginx.conf: at least the requests one worker
# has in flight at once (CONNS), or the surplus is closed after each burst and opened again
NGINX_KEEPALIVE = int(os.environ.get("BENCH_NGINX_KEEPALIVE", "32"))
NGINX_WORKERS = int(os.environ.get("BENCH_NGINX_WORKERS", "1"))
PATHS = ("lighttpd", "apache-fcgid", "nginx", "apache-proxy")
LABEL = {"lighttpd": "lighttpd mod_fastcgi (new connection per request)",
         "apache-fcgid": "Apache mod_fcgid (new connection per request)",
         "nginx": "nginx, kept connections (fastcgi_keep_conn, keepalive %d)" % NGINX_KEEPALIVE,
         "apache-proxy": "Apache mod_proxy_fcgi, kept connections (enablereuse=on)",
         "spark-rest": "Spark's own REST server (Jetty in the master)"}
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
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if errors and int(errors.group(1)):
        raise RuntimeError("%s: connections refused:\n%s" % (url, out))
    # answers later than wrk's 2 s, closed connections, non-2xx answers: counted and reported
    timeouts = sum(int(x) for x in errors.groups()[1:]) + (int(bad.group(1)) if bad else 0) if errors or bad else 0

    def pct(p):
        m = re.search(r"^\s+%d%%\s+([\d.]+)(us|ms|s)\s*$" % p, out, re.M)
        return float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
    return (rps, pct(50), pct(99), total, timeouts) if full else (rps, pct(50), pct(99))


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


def children(pid):
    """pid and its descendants (a web server's workers)."""
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    kids.setdefault(int(f.read().rsplit(")", 1)[1].split()[1]), []).append(int(d))
            except OSError:
                pass
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def resolve(pids):
    return [p for p in (pids() if callable(pids) else pids) if rss_kib([p])]   # (launchers that have exec'd away)


def sg_argv(s, sparkgate, extra=()):
    return [sparkgate, "--master", "spark://127.0.0.1:%d" % s.master_port, "--anonymous", "allow"] + list(extra)


def app_group(s, name, argv):
    """PROCS processes of argv sharing one listening unix socket on their stdin, as lighttpd's
    bin-path and spawn-fcgi -F N run them: the socket's path, their pids."""
    run = web.server_dir(s, "bench-" + name)
    path = os.path.join(run, name + ".sock")
    ls = socket.socket(socket.AF_UNIX)
    ls.bind(path)
    ls.listen(1024)
    os.chmod(path, 0o666)   # the web servers' workers run as www-data
    pids = []
    for i in range(PROCS):
        log = open(os.path.join(s.work, "%s-%d.log" % (name, i)), "ab")
        p = subprocess.Popen(argv, stdin=ls.fileno(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                             cwd=s.work)
        s.procs["%s-%d" % (name, i)] = p
        pids.append(p.pid)
    ls.close()
    return path, pids


def lighttpd(s, sparkgate, hello):
    run = web.server_dir(s, "bench-run")
    port = free_port()
    extra = ('server.modules += ( "mod_fastcgi" )\nfastcgi.server = (\n'
             '  "/v1/" => (( "bin-path" => "%s", "socket" => "%s/sg.sock", "max-procs" => %d, "check-local" => "disable" )),\n'
             '  "/floor/" => (( "bin-path" => "%s", "socket" => "%s/hello.sock", "max-procs" => %d, '
             '"check-local" => "disable" )))\n' % (" ".join(sg_argv(s, sparkgate)), run, PROCS, hello, run, PROCS))
    conf = web.lighttpd_base(s, "lighttpd-bench", port, [], extra=extra)
    p = s._start("lighttpd-bench", ["lighttpd", "-D", "-f", conf])
    wait_for("lighttpd", lambda: s.http("GET", "/floor/x", port=port, timeout=5)[0] == 200, 30)
    return port, [p.pid]


APACHE_BASE = """ServerRoot /etc/apache2
ServerName 127.0.0.1
Listen 127.0.0.1:%(port)d
PidFile %(run)s/httpd.pid
Mutex file:%(run)s default
ErrorLog %(run)s/error.log
LogLevel warn
LoadModule mpm_event_module %(mods)s/mod_mpm_event.so
LoadModule authz_core_module %(mods)s/mod_authz_core.so
DocumentRoot %(run)s
"""


def apache(s, name, body):
    port = free_port()
    run = web.server_dir(s, "bench-" + name)
    conf = os.path.join(s.work, name + ".conf")
    with open(conf, "w") as f:
        f.write(APACHE_BASE % dict(port=port, run=run, mods="/usr/lib/apache2/modules"))
        if os.getuid() == 0:
            f.write("User www-data\nGroup www-data\n")
        f.write(body % dict(run=run, mods="/usr/lib/apache2/modules"))
    p = s._start(name, ["apache2", "-f", conf, "-DFOREGROUND"])
    wait_for(name, lambda: s.http("GET", "/floor/x", port=port, timeout=5)[0] == 200, 60)
    return port, [p.pid]


def apache_fcgid(s, sparkgate, hello):
    """mod_fcgid starts PROCS processes of each (as deploy/apache.conf, with its process
    count set to PROCS)."""
    return apache(s, "apache-fcgid", """LoadModule fcgid_module %%(mods)s/mod_fcgid.so
FcgidIPCDir %%(run)s/fcgid
FcgidProcessTableFile %%(run)s/fcgid_shm
FcgidMaxProcessesPerClass %(procs)d
FcgidMinProcessesPerClass %(procs)d
FcgidMaxRequestsPerProcess 0
<Location /v1>
    SetHandler fcgid-script
    Options +ExecCGI
    FcgidWrapper "%(sg)s" virtual
    Require all granted
</Location>
<Location /floor>
    SetHandler fcgid-script
    Options +ExecCGI
    FcgidWrapper "%(hello)s" virtual
    Require all granted
</Location>
""" % dict(procs=PROCS, sg=" ".join(sg_argv(s, sparkgate)), hello=hello))


def apache_proxy(s, sg_sock, hello_sock):
    """mod_proxy_fcgi, connections reused (as deploy/apache-proxy-fcgi.conf)."""
    return apache(s, "apache-proxy", """LoadModule proxy_module %%(mods)s/mod_proxy.so
LoadModule proxy_fcgi_module %%(mods)s/mod_proxy_fcgi.so
ProxyFCGIBackendType GENERIC
ProxyPass /v1/ "unix:%(sg)s|fcgi://sparkgate/v1/" enablereuse=on timeout=30
ProxyPass /floor/ "unix:%(hello)s|fcgi://hello/floor/" enablereuse=on timeout=30
""" % dict(sg=sg_sock, hello=hello_sock))


def nginx(s, sg_sock, hello_sock):
    """One nginx worker (lighttpd is one process too) with the FastCGI settings of nginx.conf:
    fastcgi_keep_conn and an upstream keepalive pool (NGINX_KEEPALIVE, nginx.conf's 32), no login."""
    port = free_port()
    run = web.server_dir(s, "bench-nginx")
    params = "".join("        fastcgi_param %s %s;\n" % kv for kv in (
        ("REQUEST_METHOD", "$request_method"), ("SCRIPT_NAME", "$uri"), ("REQUEST_URI", "$request_uri"),
        ("QUERY_STRING", "$query_string"), ("CONTENT_TYPE", "$content_type"), ("CONTENT_LENGTH", "$content_length"),
        ("SERVER_PROTOCOL", "$server_protocol"), ("GATEWAY_INTERFACE", "CGI/1.1"), ("REMOTE_ADDR", "$remote_addr"),
        ("REMOTE_USER", "$remote_user")))
    conf = os.path.join(s.work, "nginx-bench.conf")
    with open(conf, "w") as f:
        f.write("daemon off;\npid %s/nginx.pid;\nerror_log %s/error.log warn;\nworker_processes %d;\n" % (
            run, run, NGINX_WORKERS))
        if os.getuid() == 0:
            f.write("user www-data;\n")
        f.write("events { worker_connections 4096; }\nhttp {\n    access_log off;\n")
        for t in ("client_body", "fastcgi", "proxy", "uwsgi", "scgi"):
            f.write("    %s_temp_path %s/%s;\n" % (t, run, t))
        f.write("    upstream sg { server unix:%s; keepalive %d; }\n    upstream hello { server unix:%s; keepalive %d; }\n"
                % (sg_sock, NGINX_KEEPALIVE, hello_sock, NGINX_KEEPALIVE))
        f.write("    server {\n        listen 127.0.0.1:%d;\n%s" % (port, params))
        f.write("        location /v1/ { fastcgi_pass sg; fastcgi_keep_conn on; }\n"
                "        location /floor/ { fastcgi_pass hello; fastcgi_keep_conn on; }\n    }\n}\n")
    p = s._start("nginx-bench", ["nginx", "-e", "stderr", "-p", run, "-c", conf])
    wait_for("nginx", lambda: s.http("GET", "/floor/x", port=port, timeout=5)[0] == 200, 30)
    return port, [p.pid]


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


def fcgi_record(kind, content):
    return struct.pack(">BBHHBx", 1, kind, 1, len(content), 0) + content


def fcgi_params(params):
    out = b""
    for k, v in params.items():
        k, v = k.encode(), v.encode()
        for n in (len(k), len(v)):
            out += struct.pack(">B", n) if n < 128 else struct.pack(">I", n | 0x80000000)
        out += k + v
    return out


class KeptFastCGI:
    """A web server's side of one kept FastCGI connection (FCGI_KEEP_CONN), request after
    request: what nginx and mod_proxy_fcgi send, without a web server's own cost."""
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(path)

    def get(self, path):
        params = fcgi_params({"REQUEST_METHOD": "GET", "SCRIPT_NAME": path, "REQUEST_URI": path, "QUERY_STRING": "",
                              "SERVER_PROTOCOL": "HTTP/1.1", "GATEWAY_INTERFACE": "CGI/1.1",
                              "REMOTE_ADDR": "127.0.0.1", "CONTENT_LENGTH": "", "HTTP_HOST": "127.0.0.1"})
        self.sock.sendall(fcgi_record(1, struct.pack(">HB5x", 1, 1)) + fcgi_record(4, params) + fcgi_record(4, b"")
                          + fcgi_record(5, b""))
        data, out = b"", b""
        while True:
            while len(data) < 8:
                data += self.sock.recv(65536)
            _, kind, _, n, pad = struct.unpack(">BBHHBx", data[:8])
            while len(data) < 8 + n + pad:
                data += self.sock.recv(65536)
            if kind == 6:
                out += data[8:8 + n]
            data = data[8 + n + pad:]
            if kind == 3:
                return out

    def close(self):
        self.sock.close()


def callgrind_kept(s, argv, path, tag):
    """Instructions per request of the application argv over one kept FastCGI connection,
    from two callgrind runs (1 and 201 requests) so start-up and the first request cancel
    out; and the answer (the same bytes every time)."""
    totals, answer = [], None
    for rounds in (1, 201):
        sock = os.path.join(s.work, "cg-%s-%d.sock" % (tag, rounds))
        out = os.path.join(s.work, "callgrind.out.%s.%d" % (tag, rounds))
        if os.path.exists(sock):
            os.unlink(sock)
        p = subprocess.Popen(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out] + argv + ["--listen", sock],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for("callgrind " + tag, lambda: os.path.exists(sock), 60)
        time.sleep(0.5)
        c = KeptFastCGI(sock)
        for _ in range(rounds):
            got = c.get(path)
            assert answer is None or got == answer, (got, answer)
            answer = got
        c.close()
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:   # (callgrind writes nothing then: the count below fails)
            p.kill()
            p.wait()
        text = open(out).read()
        totals.append(int(re.search(r"^(?:summary|totals):\s+(\d+)", text, re.M).group(1)))
    return (totals[1] - totals[0]) / 200.0, answer


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


def measure(url, paths, master_pids, app_pids, web_pids, warm=3):
    """Warm (warm s), then one run at CONNS connections: req/s, p50, p99, and CPU µs per
    request of the master JVM, the application processes and the web server."""
    if warm:
        wrk(url, CONNS, warm, paths=paths)
    app_pids, web_pids = (x() if callable(x) else x for x in (app_pids, web_pids))   # mod_fcgid starts them lazily
    m0, a0, w0 = cpu_ms(master_pids), cpu_ms(app_pids), cpu_ms(web_pids)
    rps, p50, p99, n, timeouts = wrk(url, CONNS, SECONDS, paths=paths, full=True)
    per = lambda c0, pids: (cpu_ms(pids) - c0) * 1000.0 / n if pids else float("nan")  # noqa: E731
    return dict(rps=rps, p50=p50, p99=p99, master=per(m0, master_pids), app=per(a0, app_pids), web=per(w0, web_pids),
                timeouts=timeouts)


def spark_steady(s, paths, master_pids, tries=15, min_requests=50000):
    """Spark's REST server until two consecutive runs agree within 5 %, counted only once it
    has served min_requests (two quiet early runs can agree before the JIT has compiled the
    hot path): the runs' results."""
    url = "http://127.0.0.1:%d/" % s.rest_port
    runs, served = [], 0
    while len(runs) < tries:
        runs.append(measure(url, paths, master_pids, [], [], warm=0))
        served += runs[-1]["rps"] * SECONDS
        if served >= min_requests and len(runs) >= 2:
            a, b = runs[-2]["rps"], runs[-1]["rps"]
            if abs(a - b) <= 0.05 * max(a, b):
                break
    return runs


def status_polling(s, ids, servers, master_pids):
    """Table: status of real drivers by CONNS connections on every path and its floor, and
    Spark's own server (steady state, measured before and after the paths)."""
    paths = ["/v1/submissions/status/" + i for i in ids]
    floor = ["/floor/" + i for i in ids]   # the same rotation of paths (wrk's Lua costs every path alike)
    warm = spark_steady(s, paths, master_pids)
    print("Spark's server warm-up, %ds runs at %d connections, until two agree within 5 %% after 50 000 requests: "
          "%s req/s" % (SECONDS, CONNS, ", ".join("%.0f" % r["rps"] for r in warm)), flush=True)
    res = {"spark-rest": warm[-1]}
    time.sleep(10)   # the master's JIT and GC settle after the warm-up (charged to the next path otherwise)
    # The master's own background (heartbeats, GC, JIT) while nothing polls: its CPU per second,
    # so the table can show what a path costs the master above it.
    c0 = cpu_ms(master_pids)
    time.sleep(SECONDS)
    idle = (cpu_ms(master_pids) - c0) / SECONDS   # ms per s
    # Each path and its floor measured alternately ROUNDS times, the better run of each kept: a
    # burst of other work on the machine during one run then does not decide a ratio.
    for name in PATHS:
        port, sg_pids, hello_pids, web_pids = servers[name]
        url = "http://127.0.0.1:%d/" % port
        for _ in range(ROUNDS):
            for key, ps, pids in ((name, paths, sg_pids), (name + "/floor", floor, hello_pids)):
                r = measure(url, ps, master_pids, pids, web_pids)
                late = r["timeouts"] + res.get(key, {}).get("timeouts", 0)   # every run's count
                if key not in res or r["rps"] > res[key]["rps"]:
                    res[key] = r
                res[key]["timeouts"] = late
    res["spark-rest-2"] = measure("http://127.0.0.1:%d/" % s.rest_port, paths, master_pids, [], [], warm=0)
    spark = max(res["spark-rest"], res["spark-rest-2"], key=lambda r: r["rps"])
    print("Spark's server measured again after the paths: %.0f req/s (ratios below use the better run, %.0f)" % (
        res["spark-rest-2"]["rps"], spark["rps"]))
    print()
    above = lambda r: r["master"] - idle * 1000.0 / r["rps"]   # noqa: E731  (µs per request above the idle master)
    print("the master idle (nothing polling, %d s after the warm-up): %.1f ms of CPU per second; each path and "
          "its floor measured alternately %d times, the better run of each kept" % (SECONDS, idle, ROUNDS))
    print()
    print("| status of %d real drivers (2 running, %d waiting), %d connections, %d processes per path | req/s "
          "| p50 ms | p99 ms | × Spark's server | floor req/s | floor p99 ms | × floor | master CPU µs/req "
          "| × Spark's | above idle µs/req | × Spark's | app CPU µs/req | web server CPU µs/req |"
          % (len(ids), len(ids) - 2, CONNS, PROCS))
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name in PATHS:
        r, f = res[name], res[name + "/floor"]
        print("| sparkgate, %s | %.0f | %.2f | %.2f | %.2f | %.0f | %.2f | %.2f | %.1f | %.3f | %.1f | %.3f | %.1f "
              "| %.1f |" % (LABEL[name], r["rps"], r["p50"], r["p99"], r["rps"] / spark["rps"], f["rps"], f["p99"],
                           r["rps"] / f["rps"], r["master"], r["master"] / spark["master"], above(r),
                           above(r) / above(spark), r["app"], r["web"]))
    print("| %s | %.0f | %.2f | %.2f | 1.00 | - | - | - | %.1f | 1.000 | %.1f | 1.000 | - | - |" % (
        LABEL["spark-rest"], spark["rps"], spark["p50"], spark["p99"], spark["master"], above(spark)))
    late = ["%s %d" % (k, r["timeouts"]) for k, r in res.items() if r["timeouts"]]
    print()
    print("requests not answered well (after more than 2 s, wrk's timeout; a read or write error; not 2xx): %s"
          % (", ".join(late) or "none"))
    print(flush=True)
    return res


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
    """Median create through sparkgate (HTTP, answered once the master accepted it), through
    Spark's own REST server, and through spark-submit's legacy cluster-mode client (a JVM
    that submits over RPC)."""
    ours, rest = [], []
    for p, out in ((port, ours), (s.rest_port, rest)):
        for _ in range(runs):
            t = time.perf_counter()
            sid = submit(s, p, driver_body(s, jar, 0, cores=64))
            out.append((time.perf_counter() - t) * 1000)
            s.http("POST", "/v1/submissions/kill/" + sid, b"", port=p)
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
    return statistics.median(ours), statistics.median(rest), statistics.median(theirs)


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
        master_pids = pids_of("org.apache.spark.deploy.master.Master")
        servers = {}
        port, web_pids = lighttpd(s, sparkgate, hello)
        servers["lighttpd"] = [port, None, None, web_pids]
        port, web_pids = apache_fcgid(s, sparkgate, hello)
        servers["apache-fcgid"] = [port, None, None, web_pids]
        sg_sock, sg_ext = app_group(s, "sparkgate-ext", sg_argv(s, sparkgate))
        hello_sock, hello_ext = app_group(s, "hello-ext", [hello])
        port, web_pids = nginx(s, sg_sock, hello_sock)
        servers["nginx"] = [port, sg_ext, hello_ext, web_pids]
        port, web_pids = apache_proxy(s, sg_sock, hello_sock)
        servers["apache-proxy"] = [port, sg_ext, hello_ext, web_pids]
        load = open("/proc/loadavg").read().split()[:3]
        print("sparkgate bench, %s UTC on %s (%d CPUs, load %s before the run): %ds per run, wrk on loopback; one "
              "Spark %s master and worker; %d processes per path, --status-max-age 1 s (default)" % (
                  time.strftime("%Y-%m-%d %H:%M", time.gmtime()), socket.gethostname(), os.cpu_count(),
                  " ".join(load), SECONDS, s.spark_version, PROCS))
        print()
        lport = servers["lighttpd"][0]
        # 2 run; 4 ask for more cores than the worker has, so they wait
        ids = [submit(s, lport, driver_body(s, jar, 600, cores=1 if i < 2 else 64)) for i in range(POLLED_DRIVERS)]
        wait_for("2 drivers running", lambda: sum(d["state"] == "RUNNING" for d in s.master_state()["activedrivers"]) == 2,
                 300)
        for name in PATHS:   # the processes a web server started, found when measured
            port, sg_pids, hello_pids, web_pids = servers[name]
            tree = lambda w=web_pids: [p for x in w for p in children(x)]  # noqa: E731
            if sg_pids is None:
                servers[name][1] = lambda t=tree: [p for p in t() if p in pids_of(sparkgate + "\0--master")]
                servers[name][2] = lambda t=tree: [p for p in t() if p in pids_of(hello)]
            servers[name][3] = lambda t=tree, n=name: [p for p in t() if p not in resolve(servers[n][1]) + resolve(
                servers[n][2])]
        status_polling(s, ids, servers, master_pids)
        running = [d["id"] for d in s.master_state()["activedrivers"] if d["state"] == "RUNNING" and d["id"] in ids]
        lag = staleness(s, lport, running[0])
        print("staleness: a driver killed through Spark's REST server showed KILLED through sparkgate %.0f ms after "
              "through Spark's server (max-age 1000 ms)" % lag, flush=True)
        for i in ids:
            s.rest("POST", "/v1/submissions/kill/" + i, b"")
        nport = servers["nginx"][0]
        ours, rest, theirs = create_latency(s, nport, jar)
        print("create, median of 10: sparkgate (nginx) %.1f ms; Spark's REST server %.1f ms; spark-submit "
              "--deploy-mode cluster (legacy RPC client, a JVM; median of 3) %.0f ms" % (ours, rest, theirs), flush=True)
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
        print()
        print("| listing %d drivers (90 waiting, 10 finished; GET /v1/submissions, --state-db), one every 1.1 s "
              "| p50 ms | max ms | master requests per listing | master CPU ms per listing |" % LISTED_DRIVERS)
        print("|---|---:|---:|---:|---:|")
        for name, p, label in ((
                "owners", owners, "one read of the master's web UI JSON (`--master-ui`)"),
                ("per-driver", per_driver, "a status ask per driver (`--master-ui off`)")):
            p50, worst, asks, cpu = listing(s, p, os.path.join(s.work, "lighttpd-%s.log" % name), master_pids)
            print("| %s | %.1f | %.1f | %.1f | %.1f |" % (label, p50, worst, asks, cpu), flush=True)
        s._kill("lighttpd-owners")
        s._kill("lighttpd-per-driver")
        print()
        rss = lambda pids: " ".join("%d" % rss_kib([p]) for p in resolve(pids))  # noqa: E731
        print("RSS after the run, KiB per process: sparkgate %s (spawned by lighttpd), %s (mod_fcgid), %s (external, "
              "for nginx and mod_proxy_fcgi); hello-fcgi %s; lighttpd %s; nginx %s; Apache (mod_fcgid) %s; Apache "
              "(mod_proxy_fcgi) %s; the Spark master JVM, which holds Spark's REST server, %s" % (
                  rss(servers["lighttpd"][1]), rss(servers["apache-fcgid"][1]), rss(servers["nginx"][1]),
                  rss(servers["nginx"][2]), rss(servers["lighttpd"][3]), rss(servers["nginx"][3]),
                  rss(servers["apache-fcgid"][3]), rss(servers["apache-proxy"][3]), rss(master_pids)))
        ins, answer = callgrind_kept(s, sg_argv(s, sparkgate, ["--status-max-age", "600s", "--log-level", "error"]),
                                     "/v1/submissions/status/" + UNKNOWN, "sparkgate")
        floor, _ = callgrind_kept(s, [hello], "/floor/x", "hello")
        print("instructions per request over one kept FastCGI connection (callgrind, 200 requests): %.0f for a status "
              "answered from the cache (%d bytes, the same every time); %.0f for hello-fcgi's fixed answer" % (
                  ins, len(answer), floor))
        print("cold start, exec to first answered request (CGI mode: connect, detect build, ask; median "
              "of 20): %.1f ms; Spark's REST server: %.1f s from starting the master JVM" % (
                  cold_start(s, sparkgate), spark_cold))
    finally:
        s.stop()
    print()
    import crypto   # the encrypted connections' table, with masters of its own (this one is stopped)
    crypto.table(build)


if __name__ == "__main__":
    main()
