"""/healthz, /readyz and /metrics through the shipped lighttpd.conf (two sparkgate
processes for the API, one more for these paths) and apache.conf, on a real master
and worker.  /metrics parses with the Prometheus project's own text parser and its
counters equal the requests the test sent, though another process served them (the host's
totals, from shared memory); /metrics is refused to another address; /readyz turns
unready when the master stops and ready again when it returns, and names an open master
REST door; 50 /readyz cost the master a few asks, and without a login (from another address)
it says only ready or not; under Apache the health paths have processes of their own; a
foreign Host (--hosts) is refused before anything.  Ends with "health: N passed, N failed"."""
import glob
import os
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import harness as H  # noqa: E402  (its helpers work on H.C: the stack, work dir, app jar)
import web  # noqa: E402
from runner import Suite  # noqa: E402
from stack import Stack, wait_for  # noqa: E402

CACHE = os.environ.get("SPARKGATE_CACHE", os.path.expanduser("~/.cache/sparkgate"))
sys.path.insert(0, (glob.glob(os.path.join(CACHE, "py-prometheus_client-*")) or [""])[0])
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

SUITE = Suite("health")
test = SUITE.test
ALICE = ("alice", web.USERS["alice"])


class T:
    port = apache = None


def start_web():
    s = H.C.s
    db = os.path.join(web.server_dir(s, "state"), "state.db")
    T.port = web.lighttpd_fastcgi(s, name="lighttpd-health", extra_args="--state-db %s --master-ui http://127.0.0.1:%d"
                                  % (db, s.master_ui))
    T.apache = web.apache(s, name="apache-health")


def get(path, port=None, source="127.0.0.1"):
    """(status, body text, headers) of a GET without a login, from a chosen loopback address."""
    with socket.create_connection(("127.0.0.1", port or T.port), 10, source_address=(source, 0)) as c:
        c.sendall(("GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" % path).encode())
        raw = b""
        while True:
            b = c.recv(65536)
            if not b:
                break
            raw += b
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = dict(l.split(": ", 1) for l in lines[1:] if ": " in l)
    return int(lines[0].split()[1]), body.decode(), headers


def metrics(port=None):
    st, text, hdrs = get("/metrics", port)
    assert st == 200 and hdrs["Content-Type"].startswith("text/plain; version=0.0.4"), (st, text[:300])
    out = {}
    for fam in text_string_to_metric_families(text):
        for smp in fam.samples:
            out[(smp.name, tuple(sorted(smp.labels.items())))] = smp.value
    return out


def value(m, name, **labels):
    return m.get((name, tuple(sorted(labels.items()))), 0)


@test
def healthz_answers_without_a_login():
    for port in (T.port, T.apache):
        st, text, hdrs = get("/healthz", port)
        assert st == 200 and '"action" : "HealthzResponse"' in text and '"success" : true' in text, (port, st, text)


@test
def readyz_is_ready_with_the_master_alive():
    for port in (T.port, T.apache):
        st, text, _ = get("/readyz", port)
        assert st == 200 and '"success" : true' in text and "is ALIVE (Spark 3.5.9)" in text \
            and '"masterRestDoor" : "closed"' in text, (port, st, text)
    st, text, _ = get("/readyz")
    assert '"store" : "answers"' in text, text


@test
def metrics_count_what_other_processes_served():
    sid = H.submit(H.create_body("/dev/null", 30, 0), port=T.port)
    before = metrics()
    statuses, bad = 7, 3
    for i in range(statuses):   # alice's own driver: asked through the status cache
        st, _, _ = H.C.s.http("GET", "/v1/submissions/status/" + sid, port=T.port, auth=ALICE)
        assert st == 200
    for i in range(bad):
        st, _, _ = H.C.s.http("POST", "/v1/submissions/create", b"{not json", port=T.port, auth=ALICE)
        assert st == 400
    st, _, _ = H.C.s.http("POST", "/v1/submissions/kill/driver-x", b"", port=T.port,
                          auth=ALICE, headers={"Origin": "http://evil.example", "Content-Type": "text/plain"})
    assert st == 403
    after = metrics()

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)
    assert delta("sparkgate_requests_total", route="status", code="200") == statuses, (before, after)
    assert delta("sparkgate_requests_total", route="create", code="400") == bad
    assert delta("sparkgate_requests_total", route="kill", code="403") == 1
    assert delta("sparkgate_refusals_total", rule="csrf") == 1
    assert delta("sparkgate_requests_total", route="metrics", code="200") == 1   # the first scrape
    # every ask of the master is timed; the status cache answered the rest
    asks = delta("sparkgate_status_cache_asks_total")
    assert asks >= 1 and delta("sparkgate_status_cache_hits_total") + asks == statuses, (before, after)
    assert delta("sparkgate_master_ask_duration_seconds_count") >= asks
    H.C.s.http("POST", "/v1/submissions/kill/" + sid, b"", port=T.port, auth=ALICE)
    assert value(after, "sparkgate_master_up") == 1
    assert value(after, "sparkgate_master_build_info", minor="3.5", scala="2.12", release="3.5.9") == 1
    assert ("sparkgate_master_drivers", (("state", "RUNNING"),)) in after, sorted(after)[:20]
    # the histogram is cumulative and ends at the count
    les = sorted((float(dict(k[1])["le"]), v) for k, v in after.items()
                 if k[0] == "sparkgate_master_ask_duration_seconds_bucket")
    assert [v for _, v in les] == sorted(v for _, v in les) and les[-1][1] == value(
        after, "sparkgate_master_ask_duration_seconds_count"), les


@test
def a_drivers_run_shows_in_the_driver_gauge():
    sid = H.submit(H.create_body(os.path.join(H.C.work, "h.txt"), 0, 0), port=T.port)
    H.wait_state(sid, H.FINAL, port=T.port)
    m = metrics()
    assert value(m, "sparkgate_master_drivers", state="FINISHED") >= 1, m


@test
def metrics_are_refused_to_another_address():
    st, text, _ = get("/metrics", source="127.0.0.2")
    assert st == 403 and "sparkgate_requests_total" not in text, (st, text[:200])
    st, text, _ = get("/metrics", T.apache, source="127.0.0.2")
    assert st == 403 and "sparkgate_requests_total" not in text, (st, text[:200])
    assert get("/healthz", source="127.0.0.2")[0] == 200   # health stays open to load balancers


@test
def apache_metrics_parse_too():
    H.C.s.http("GET", "/v1/submissions/status/driver-x", port=T.apache, auth=ALICE)
    m = metrics(T.apache)
    assert value(m, "sparkgate_requests_total", route="status", code="200") >= 1, m


def readyz_asks(port):
    """Asks the master made so far by the web server's sparkgates (every ask is timed)."""
    return value(metrics(port), "sparkgate_master_ask_duration_seconds_count")


@test
def fifty_readyz_cost_the_master_a_few_asks():
    """50 concurrent /readyz through each web server: one result per host a second, shared by
    its processes, so the master sees about one ask a second however many probes come."""
    import concurrent.futures
    for port in (T.port, T.apache):
        time.sleep(1.1)   # whatever was checked before is stale
        before, t0 = readyz_asks(port), time.time()
        with concurrent.futures.ThreadPoolExecutor(10) as pool:
            got = list(pool.map(lambda i: get("/readyz", port, source="127.0.0.2")[:2], range(50)))
        took, asks = time.time() - t0, readyz_asks(port) - before
        assert all(st == 200 and '"success" : true' in text for st, text in got), got[:3]
        # about one check a second; the count also holds each process the web server starts
        # for the burst (its first connection detects the master's build), and the metrics
        # are the host's (both web servers' sparkgates): before, 50 requests made 50 asks
        assert asks <= 8 + int(took), "50 /readyz on %d made %d asks in %.1fs" % (port, asks, took)
        print("    50 /readyz on port %d: %d master asks in %.2fs" % (port, asks, took), flush=True)


@test
def readyz_without_a_login_tells_only_ready_or_not():
    for port in (T.port, T.apache):
        st, text, _ = get("/readyz", port, source="127.0.0.2")
        assert st == 200 and '"success" : true' in text and "sparkgate is ready" in text, (port, st, text)
        for detail in ("master", "spark://", "serverSparkVersion", "3.5.9", "store", "Door"):
            assert detail not in text, (port, detail, text)
    st, text, _ = get("/readyz", T.port)   # this machine: the details
    assert st == 200 and "is ALIVE" in text and '"store" : "answers"' in text, (st, text)


@test
def apache_runs_the_health_paths_in_their_own_processes():
    """apache.conf: /healthz, /readyz and /metrics have a wrapper command line of their
    own, which mod_fcgid keys its process classes on: the processes that answer them never
    answer the API, and the other way round (the pids in the error log's lines)."""
    for i in range(5):
        assert get("/readyz", T.apache)[0] == 200
        assert H.C.s.http("GET", "/v1/submissions/status/driver-x", port=T.apache, auth=ALICE)[0] == 200
    log = open(os.path.join(H.C.s.work, "apache-health.log"), errors="replace").read()
    import re
    health = set(re.findall(r"sparkgate\[(\d+)\] \w+: req=\d+ GET /(?:readyz|healthz|metrics) ", log))
    api = set(re.findall(r"sparkgate\[(\d+)\] \w+: req=\d+ GET /v1/", log))
    assert health and api and not health & api, (health, api)
    for pid in health | api:
        try:
            args = open("/proc/%s/cmdline" % pid, "rb").read().split(b"\0")
        except OSError:
            continue   # ended since
        assert (b"--max-body" in args and args[args.index(b"--max-body") + 1] == b"0") == (pid in health), args


@test
def a_foreign_host_is_refused_before_anything():
    """--hosts in a CGI run: 400 ErrorResponse for another Host, health paths included; the
    master is never asked (a master that cannot answer: the refusal comes at once)."""
    for path in ("/readyz", "/v1/submissions/status/driver-1"):
        env = {"REQUEST_METHOD": "GET", "REQUEST_URI": path, "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_HOST": "evil.example",
               "REMOTE_ADDR": "127.0.0.1", "REMOTE_USER": "alice", "PATH": os.environ["PATH"]}
        t0 = time.time()
        p = subprocess.run([H.C.s.sparkgate, "--master", "spark://127.0.0.1:1", "--hosts", "gw.example,127.0.0.1"],
                           env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=30, text=True)
        assert p.stdout.startswith("Status: 400") and '"action" : "ErrorResponse"' in p.stdout \
            and "--hosts" in p.stdout and time.time() - t0 < 2, p.stdout + p.stderr
        assert "asks=0" in p.stderr, p.stderr


@test
def readyz_names_an_open_rest_door():
    """A CGI run (one process) told the port of Spark's own REST server on this master."""
    s = H.C.s
    os.makedirs(os.path.join(H.C.work, "door"), exist_ok=True)
    door = Stack(workdir=os.path.join(H.C.work, "door"), rest_reference=True)
    door.start_master()
    try:
        # Spark's server answers its very first request slowly (a cold JVM); sparkgate's
        # check allows 500 ms, so warm it as a running master's would be
        wait_for("Spark's REST server", lambda: door.rest("GET", "/v1/submissions/status/x")[0] == 200, 30)
        env = {"REQUEST_METHOD": "GET", "REQUEST_URI": "/readyz", "SERVER_PROTOCOL": "HTTP/1.1",
               "REMOTE_ADDR": "127.0.0.1", "PATH": os.environ["PATH"]}   # (details: to this machine)
        p = subprocess.run([s.sparkgate, "--master", "spark://127.0.0.1:%d" % door.master_port, "--master-rest-port",
                            str(door.rest_port)], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=30, text=True)
        assert p.stdout.startswith("Status: 503") and "OPEN: Spark's own REST server answers without authentication " \
            "at http://127.0.0.1:%d/v1/submissions/" % door.rest_port in p.stdout, p.stdout
    finally:
        door.stop()


@test
def readyz_follows_the_master_down_and_back():
    s = H.C.s
    s._kill("worker")
    s._kill("master")
    # a request that finds no master marks it down, /readyz or not
    st, _, _ = H.C.s.http("POST", "/v1/submissions/create", H.create_body("/dev/null"), port=T.port, auth=ALICE)
    assert st == 503 and value(metrics(), "sparkgate_master_up") == 0, st
    for port in (T.port, T.apache):
        st, text, _ = get("/readyz", port)
        assert st == 503 and '"success" : false' in text and "Unable to reach the Spark master" in text, (port, st, text)
    assert get("/healthz")[0] == 200
    assert value(metrics(), "sparkgate_master_up") == 0
    s.start_master()
    s.start_worker()
    for port in (T.port, T.apache):
        wait_for("ready again on %d" % port, lambda: get("/readyz", port)[0] == 200, 60)


def main():
    H.C.work = tempfile.mkdtemp(prefix="sparkgate-health-")
    H.C.s = Stack(workdir=H.C.work, rest_reference=False)

    def setup():
        t0 = time.time()
        H.start_cluster()
        start_web()
        H.C.s.auth = ALICE
        print("stack up in %.1fs (logs %s)" % (time.time() - t0, H.C.work), flush=True)
    return SUITE.main(setup, H.C.s.stop)


if __name__ == "__main__":
    sys.exit(main())
