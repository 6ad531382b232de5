"""sparkgate as users deploy it: lighttpd.conf, apache.conf and the files under deploy/ run
unchanged (only their settings blocks edited) on real Apache 2.4 + mod_fcgid, lighttpd
spawning sparkgate, lighttpd with sparkgate on its own socket (--listen, spawn-fcgi, systemd
socket activation), lighttpd with TLS, and plain CGI; each against a real Spark master and worker.  Each server does
create -> status -> kill as an authenticated user and refuses an unauthenticated one.
Also: sparkgate's own refusal when a server passes no user, SIGTERM with a request in
flight, SIGHUP and --log-file, the man page and `make install`.
Ends with "web: N passed, N failed"."""
import glob
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import harness as H  # noqa: E402  (its helpers work on H.C: the stack, work dir, app jar)
import web  # noqa: E402
from runner import Suite  # noqa: E402
from stack import ROOT, Stack, wait_for  # noqa: E402

SUITE = Suite("web")
test = SUITE.test
ALICE = ("alice", web.USERS["alice"])


def log_of(name):
    return open(os.path.join(H.C.work, name + ".log"), errors="replace").read()


def cycle(port, user=ALICE, scheme="http", log=None):
    """create -> status -> kill -> KILLED as user; an anonymous and a wrong-password
    request are refused by the web server with 401 before sparkgate sees them."""
    s = H.C.s
    path = "/v1/submissions/status/driver-20000101000000-0000"
    st, body, hdrs = s.http("GET", path, port=port, scheme=scheme)
    assert st == 401 and "Basic" in (hdrs.get("WWW-Authenticate") or ""), (st, body)
    st, body, _ = s.http("GET", path, port=port, scheme=scheme, auth=(user[0], "wrong"))
    assert st == 401, (st, body)
    out = os.path.join(H.C.work, "cycle-%d.txt" % port)
    st, js, hdrs = s.http("POST", "/v1/submissions/create", H.create_body(out, 60, 0), port=port, scheme=scheme,
                          auth=user)
    assert st == 200 and js["success"] is True, (st, js)
    assert hdrs["Content-Type"] == "application/json;charset=utf-8", hdrs["Content-Type"]
    sid = js["submissionId"]
    st, js, _ = s.http("GET", "/v1/submissions/status/" + sid, port=port, scheme=scheme, auth=user)
    assert st == 200 and js["success"] is True and js["driverState"] in ("SUBMITTED", "RUNNING"), (st, js)
    st, js, _ = s.http("POST", "/v1/submissions/kill/" + sid, b"", port=port, scheme=scheme, auth=user)
    assert st == 200 and js["success"] is True, (st, js)

    def killed():
        st, js, _ = s.http("GET", "/v1/submissions/status/" + sid, port=port, scheme=scheme, auth=user)
        return st == 200 and js["driverState"] == "KILLED"
    wait_for("driver %s KILLED" % sid, killed, 60, 0.5)
    if log:  # the user the web server authenticated reached sparkgate and its log
        text = log_of(log)
        assert re.search(r"POST /v1/submissions/create -> 200 .* user=%s .*id=%s" % (user[0], sid), text), text[-2000:]
    return sid


def sparkgate_listening(name, sock, extra=(), launcher=()):
    """sparkgate on its own (not started by a web server), on unix socket sock."""
    s = H.C.s
    argv = list(launcher) + [s.sparkgate] + web.sparkgate_args(s).split() + list(extra)
    p = s._start(name, argv)
    wait_for(name + " socket", lambda: os.path.exists(sock), 20)
    os.chmod(sock, 0o666)   # lighttpd runs as www-data
    return p


@test
def apache_mod_fcgid():
    port = web.apache(H.C.s)
    cycle(port, log="apache")
    # the portal's files, behind the same login
    st, _, _ = H.C.s.http("GET", "/portal/", port=port)
    assert st == 401, st
    st, page, hdrs = H.C.s.http("GET", "/portal/", port=port, auth=ALICE)
    assert st == 200 and "text/html" in hdrs["Content-Type"] and "portal.js" in page, (st, hdrs)
    st, _, hdrs = H.C.s.http("GET", "/portal/portal.js", port=port, auth=ALICE)
    assert st == 200 and "javascript" in hdrs["Content-Type"], (st, hdrs)
    # Several sparkgate processes, each with its own master connection, serve concurrent
    # requests without getting in each other's way.
    results, lock = [], threading.Lock()

    def worker(i):
        for j in range(6):
            r = H.C.s.http("GET", "/v1/submissions/status/driver-x%d-%d" % (i, j), port=port, auth=ALICE)
            with lock:
                results.append((r[0], r[1].get("success") if isinstance(r[1], dict) else r[1]))
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count((200, False)) == 48, results
    pids = set(re.findall(r"sparkgate\[(\d+)\] info: req=\d+ GET /v1/submissions/status/driver-x", log_of("apache")))
    print("     apache: 48 concurrent status requests served by %d sparkgate processes" % len(pids))
    assert len(pids) >= 2, "mod_fcgid ran one process only"


@test
def spark_submit_through_apache():
    """Spark's own client cannot log in; on a trusted network Apache can let it through
    (sparkgate with --anonymous allow).  Unlike lighttpd, Apache accepts the client's kill
    request, a POST without Content-Length."""
    port = web.apache(H.C.s, name="apache-open", anonymous=True)
    gw = "spark://127.0.0.1:%d" % port
    out = os.path.join(H.C.work, "submit-apache.txt")
    rc, log = H.spark_submit("--master", gw, "--deploy-mode", "cluster", "--conf", "spark.master.rest.enabled=true",
                             "--driver-memory", "512m", "--class", "TestApp", H.C.jar, out, "60", "0")
    m = re.search(r"Submission successfully created as (driver-\d{14}-\d{4})", log)
    assert rc == 0 and m, log[-3000:]
    sid = m.group(1)
    rc, log = H.spark_submit("--master", gw, "--kill", sid)
    # (a word: a driver id made at 04:41:15 holds "411")
    assert rc == 0 and not re.search(r"\b411\b", log), log[-3000:]
    assert re.search(r"POST /v1/submissions/kill/%s -> 200 .*user=- " % sid, log_of("apache-open")), \
        log_of("apache-open")[-2000:]

    def killed():
        st, js, _ = H.C.s.http("GET", "/v1/submissions/status/" + sid, port=port)
        return js["driverState"] == "KILLED"
    wait_for("driver KILLED", killed, 60, 0.5)


@test
def lighttpd_spawns_sparkgate():
    port = web.lighttpd_fastcgi(H.C.s)
    cycle(port, log="lighttpd-fcgi")


@test
def lighttpd_external_socket_with_listen():
    sock = os.path.join(H.C.work, "listen.sock")
    sparkgate_listening("sparkgate-listen", sock, ["--listen", sock])
    port = web.lighttpd_external(H.C.s, sock, name="lighttpd-ext")
    cycle(port, log="sparkgate-listen")
    # the health paths, without a login, from the same sparkgate
    st, js, _ = H.C.s.http("GET", "/healthz", port=port)
    assert st == 200 and js["action"] == "HealthzResponse", (st, js)
    st, js, _ = H.C.s.http("GET", "/readyz", port=port)
    assert st == 200 and js["success"] is True, (st, js)
    st, text, _ = H.C.s.http("GET", "/metrics", port=port)
    assert st == 200 and "sparkgate_requests_total" in text, (st, text)


@test
def lighttpd_external_socket_with_spawn_fcgi():
    sock = os.path.join(H.C.work, "spawn.sock")
    sparkgate_listening("sparkgate-spawn", sock, launcher=["spawn-fcgi", "-n", "-s", sock, "-M", "0666", "--"])
    port = web.lighttpd_external(H.C.s, sock, name="lighttpd-spawn")
    cycle(port, log="sparkgate-spawn")


@test
def systemd_socket_activation():
    unit_dir = os.path.join(H.C.work, "systemd")
    os.makedirs(unit_dir, exist_ok=True)
    for f in glob.glob(os.path.join(web.DEPLOY, "systemd", "*")):
        text = open(f).read().replace("/usr/local/bin/sparkgate", H.C.s.sparkgate)
        open(os.path.join(unit_dir, os.path.basename(f)), "w").write(text)
    units = sorted(glob.glob(os.path.join(unit_dir, "*")))
    p = subprocess.run(["systemd-analyze", "verify", "--man=no"] + units, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    assert p.returncode == 0, p.stdout
    # The socket handed over as systemd does it (LISTEN_FDS, fd 3).
    sock = os.path.join(H.C.work, "activated.sock")
    sparkgate_listening("sparkgate-systemd", sock, launcher=["systemd-socket-activate", "-l", sock])
    port = web.lighttpd_external(H.C.s, sock, name="lighttpd-systemd")
    cycle(port, log="sparkgate-systemd")
    assert "on systemd's socket" in log_of("sparkgate-systemd")


@test
def lighttpd_tls():
    pem, crt = web.self_signed(H.C.work)
    H.C.s.ca_file = crt
    sock = os.path.join(H.C.work, "tls.sock")
    sparkgate_listening("sparkgate-tls", sock, ["--listen", sock])
    port = web.lighttpd_external(H.C.s, sock, name="lighttpd-tls", tls_pem=pem)
    cycle(port, scheme="https", log="sparkgate-tls")
    # the port speaks only TLS: plain HTTP there is accepted by a live lighttpd and gets no
    # answer from sparkgate (lighttpd closes, or answers 400 itself) ...
    with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
        c.sendall(b"GET /v1/submissions/status/x HTTP/1.0\r\nHost: x\r\n\r\n")
        reply = b""
        try:
            while len(reply) < 65536:
                chunk = c.recv(4096)
                if not chunk:
                    break
                reply += chunk
        except (ConnectionResetError, socket.timeout):
            pass
    assert b'"action"' not in reply and (not reply or reply.startswith(b"HTTP/1.") and b" 400 " in reply[:20]), reply
    # ... and the same port still serves HTTPS afterwards
    st, js, _ = H.C.s.http("GET", "/v1/submissions/status/x", port=port, auth=ALICE, scheme="https", timeout=10)
    assert st == 200 and js["action"] == "SubmissionStatusResponse", (st, js)


def kept_connections(sock):
    """Connections open to unix socket sock on sparkgate's side (/proc/net/unix: the path,
    state 03 = connected; the listening socket itself is state 01)."""
    n = 0
    for line in open("/proc/net/unix").read().splitlines()[1:]:
        f = line.split()
        n += len(f) >= 8 and f[7] == sock and f[5] == "03"
    return n


def kept_connection_server(name, make_server):
    """A web server that keeps its FastCGI connections (make_server(sock, files_dir, port)
    -> port) in front of ONE sparkgate process with uploads: the login cycle, the portal,
    the health paths, an upload served to a worker without a login; the connections stay
    open after the requests; and with more concurrent requests than the web server keeps
    connections, none waits behind an idle kept one."""
    s = H.C.s
    sock = os.path.join(H.C.work, name + ".sock")
    files = web.server_dir(s, name + "-files")
    os.chmod(files, 0o2750)   # README: the web server reads uploads through the folder's group
    port = web.free_port()
    sparkgate_listening("sparkgate-" + name, sock, ["--listen", sock, "--state-db", os.path.join(
        web.server_dir(s, name + "-state"), "state.db"), "--files-dir", files,
        "--files-url", "http://127.0.0.1:%d/files" % port])
    port = make_server(sock, files, port)
    cycle(port, log="sparkgate-" + name)
    st, _, _ = s.http("GET", "/portal/", port=port)
    assert st == 401, st
    st, page, hdrs = s.http("GET", "/portal/", port=port, auth=ALICE)
    assert st == 200 and "text/html" in hdrs["Content-Type"] and "portal.js" in page, (st, hdrs)
    st, _, hdrs = s.http("GET", "/portal/portal.js", port=port, auth=ALICE)
    assert st == 200 and "javascript" in hdrs["Content-Type"], (st, hdrs)
    st, js, _ = s.http("GET", "/healthz", port=port)
    assert st == 200 and js["action"] == "HealthzResponse", (st, js)
    st, js, _ = s.http("GET", "/readyz", port=port)
    assert st == 200 and js["success"] is True, (st, js)
    st, text, _ = s.http("GET", "/metrics", port=port)
    assert st == 200 and "sparkgate_requests_total" in text, (st, text)
    data = open(H.C.jar, "rb").read()
    st, _, _ = s.http("PUT", "/v1/files/kept.jar", data, port=port, headers={"Content-Type": "application/octet-stream"})
    assert st == 401, st
    st, up, _ = s.http("PUT", "/v1/files/kept.jar", data, port=port, auth=ALICE,
                       headers={"Content-Type": "application/octet-stream"})
    assert st == 201 and up["action"] == "UploadFileResponse" and up["file"]["size"] == len(data), (st, up)
    up = up["file"]
    with urllib.request.urlopen(up["url"], timeout=10) as r:   # a worker: no login
        assert r.status == 200 and r.read() == data
    # a body of many FCGI_STDIN records, most read straight into the upload's memory
    # (fcgi/link.c), byte for byte
    big = os.urandom(3 << 20) + b"end"
    st, up2, _ = s.http("PUT", "/v1/files/kept-big.zip", big, port=port, auth=ALICE,
                        headers={"Content-Type": "application/octet-stream"})
    assert st == 201 and up2["file"]["size"] == len(big), (st, up2)
    with urllib.request.urlopen(up2["file"]["url"], timeout=30) as r:
        assert r.status == 200 and r.read() == big
    try:
        urllib.request.urlopen(up["url"].rsplit("/", 1)[0] + "/", timeout=10)
        raise AssertionError("a folder of uploads was listed")
    except urllib.error.HTTPError as e:
        assert e.code in (403, 404), e.code
    # the web server kept its connections: they are still open after the answers
    held = kept_connections(sock)
    assert held >= 1, held
    # 24 clients at once, more than the connections the web server keeps idle, against one
    # sparkgate process: every request is answered (none waits behind an idle connection)
    results, lock = [], threading.Lock()

    def client(i):
        for j in range(4):
            r = s.http("GET", "/v1/submissions/status/driver-k%d-%d" % (i, j), port=port, auth=ALICE, timeout=20)
            with lock:
                results.append(r[0])
    t0 = time.time()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(200) == 96, results
    print("     %s: 96 concurrent requests in %.1fs through %d kept connections to one sparkgate; %d held before" % (
        name, time.time() - t0, kept_connections(sock), held))
    assert time.time() - t0 < 20


def fcgi_record(kind, content):
    return struct.pack(">BBHHBx", 1, kind, 1, len(content), 0) + content


def fcgi_answer(c):
    """The FCGI_STDOUT of one answer, read up to its FCGI_END_REQUEST."""
    data, out = b"", b""
    while True:
        while len(data) < 8:
            chunk = c.recv(65536)
            assert chunk, "connection closed"
            data += chunk
        _, kind, _, n, pad = struct.unpack(">BBHHBx", data[:8])
        while len(data) < 8 + n + pad:
            chunk = c.recv(65536)
            assert chunk, "connection closed mid-record"
            data += chunk
        if kind == 6:
            out += data[8:8 + n]
        data = data[8 + n + pad:]
        if kind == 3:
            return out


@test
def kept_connection_survives_a_late_end_of_stdin():
    """mod_proxy_fcgi sends the empty FCGI_STDIN record that ends a request apart from the
    rest: sparkgate reads it before finishing, so the kept connection carries the next
    request (left unread, libfcgi took it for the next request's start, closed the
    connection, and Apache answered 502)."""
    sock = os.path.join(H.C.work, "late.sock")
    sparkgate_listening("sparkgate-late", sock, ["--listen", sock])
    params = b""
    for k, v in (("REQUEST_METHOD", "GET"), ("SCRIPT_NAME", "/healthz"), ("REMOTE_ADDR", "127.0.0.1"),
                 ("SERVER_PROTOCOL", "HTTP/1.1"), ("GATEWAY_INTERFACE", "CGI/1.1")):
        params += struct.pack(">BB", len(k), len(v)) + k.encode() + v.encode()
    with socket.socket(socket.AF_UNIX) as c:
        c.settimeout(10)
        c.connect(sock)
        for i in range(3):
            c.sendall(fcgi_record(1, struct.pack(">HB5x", 1, 1)) + fcgi_record(4, params) + fcgi_record(4, b""))
            time.sleep(0.2)   # sparkgate has answered by now; the end of stdin comes late
            c.sendall(fcgi_record(5, b""))
            out = fcgi_answer(c)
            assert out.startswith(b"Status: 200") and b"HealthzResponse" in out, (i, out[:300])
    assert "stopping" not in log_of("sparkgate-late")


@test
def nginx_keeps_fastcgi_connections():
    kept_connection_server("nginx", lambda sock, files, port: web.nginx(H.C.s, sock, files_dir=files, port=port))


@test
def apache_proxy_fcgi_reuses_connections():
    kept_connection_server("apache-proxy", lambda sock, files, port: web.apache(
        H.C.s, name="apache-proxy", socket_path=sock, files_dir=files, port=port))


@test
def plain_cgi():
    port = web.lighttpd_cgi(H.C.s)
    cycle(port, log="lighttpd-cgi")
    # one process per request: the log shows each exit
    assert log_of("lighttpd-cgi").count("req=1 ") >= 4


@test
def shipped_files_load_into_stock_debian_servers():
    """The drop-in files against Debian's own /etc/lighttpd/lighttpd.conf."""
    pem, _ = web.self_signed(H.C.work)
    tls = web.settings("lighttpd-tls.conf", os.path.join(H.C.work, "stock-tls.conf"), {"sparkgate_tls_pem": pem})
    for name in ("lighttpd.conf", "lighttpd-external.conf", "lighttpd-cgi.conf"):
        conf = web.settings(name, os.path.join(H.C.work, "stock-" + name),
                            {"sparkgate_bin": H.C.s.sparkgate} if name == "lighttpd.conf" else {})
        top = os.path.join(H.C.work, "stock-top-" + name)
        with open(top, "w") as f:
            f.write('include "/etc/lighttpd/lighttpd.conf"\ninclude "%s"\n' % conf)
            f.write('include "%s"\n' % tls)
        p = subprocess.run(["lighttpd", "-tt", "-f", top], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert p.returncode == 0 and "rror" not in p.stdout, (name, p.stdout)
    p = subprocess.run(["sh", "-n", os.path.join(web.DEPLOY, "sparkgate.cgi")])
    assert p.returncode == 0


@test
def server_without_login_is_refused_by_sparkgate():
    """A web server configured without authentication: sparkgate itself refuses (403)."""
    sock = os.path.join(H.C.work, "nologin.sock")
    sparkgate_listening("sparkgate-nologin", sock, ["--listen", sock])
    port = web.lighttpd_to_socket(H.C.s, "lighttpd-nologin", sock)
    for method, path, body in (("GET", "/v1/submissions/status/driver-x", None),
                               ("POST", "/v1/submissions/create", H.create_body("/dev/null")),
                               ("POST", "/v1/submissions/kill/driver-x", b"")):
        st, js, _ = H.C.s.http(method, path, body, port=port)
        assert st == 403 and js["action"] == "ErrorResponse" and "No authenticated user" in js["message"], (st, js)
    assert "user=- " in log_of("sparkgate-nologin")


class SilentMaster:
    """Accepts connections and never answers: a request to it stays in flight."""
    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)

    def close(self):
        self.sock.close()
        for c in self.conns:
            c.close()


@test
def sigterm_finishes_the_request_in_flight():
    m = SilentMaster()
    sock = os.path.join(H.C.work, "term.sock")
    p = H.C.s._start("sparkgate-term", [H.C.s.sparkgate, "--master", "spark://127.0.0.1:%d" % m.port,
                                        "--spark-version", "3.5.9", "--timeout", "3", "--anonymous", "allow",
                                        "--listen", sock])
    wait_for("socket", lambda: os.path.exists(sock), 20)
    os.chmod(sock, 0o666)
    port = web.lighttpd_to_socket(H.C.s, "lighttpd-term", sock)
    answer = {}
    t0 = time.time()
    th = threading.Thread(target=lambda: answer.update(r=H.C.s.http("GET", "/v1/submissions/status/driver-1",
                                                                     port=port, timeout=20)))
    th.start()
    wait_for("request in flight", lambda: len(m.conns) > 0, 10, 0.05)
    time.sleep(0.3)
    p.send_signal(signal.SIGTERM)
    th.join(20)
    m.close()
    st, js, _ = answer["r"]
    # the in-flight request got its full answer (the master's timeout), not a reset
    assert st == 504 and js["action"] == "ErrorResponse", (st, js)
    assert p.wait(10) == 0 and time.time() - t0 < 10
    assert "stopping after 1 requests" in log_of("sparkgate-term")


@test
def sighup_reopens_the_log_file():
    sock = os.path.join(H.C.work, "hup.sock")
    logfile = os.path.join(H.C.work, "hup.log")
    p = sparkgate_listening("sparkgate-hup", sock, ["--listen", sock, "--log-file", logfile])
    port = web.lighttpd_external(H.C.s, sock, name="lighttpd-hup")
    st, _, _ = H.C.s.http("GET", "/v1/submissions/status/driver-before", port=port, auth=ALICE)
    assert st == 200
    os.rename(logfile, logfile + ".1")   # what logrotate does
    p.send_signal(signal.SIGHUP)
    st, _, _ = H.C.s.http("GET", "/v1/submissions/status/driver-after", port=port, auth=ALICE)
    assert st == 200
    old, new = open(logfile + ".1").read(), open(logfile).read()
    assert "driver-before" in old and "driver-after" not in old, old
    assert "SIGHUP: log reopened" in new and "driver-after" in new and "user=alice" in new, new
    assert p.poll() is None


@test
def man_page_and_make_install():
    dest = os.path.join(H.C.work, "destdir")
    p = subprocess.run(["make", "-s", "-C", ROOT, "install", "DESTDIR=" + dest, "PREFIX=/usr/local"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert p.returncode == 0, p.stdout
    man = os.path.join(dest, "usr/local/share/man/man8/sparkgate.8")
    assert os.access(os.path.join(dest, "usr/local/bin/sparkgate"), os.X_OK) and os.path.exists(man)
    p = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", man], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    assert p.returncode == 0 and not p.stdout.strip(), p.stdout
    text = open(man).read().replace("\\-", "-")
    helptext = subprocess.run([H.C.s.sparkgate, "--help"], stdout=subprocess.PIPE, text=True).stdout
    options = set(re.findall(r"--[a-z][a-z-]+", helptext))
    missing = sorted(o for o in options if o not in text)
    assert len(options) >= 14 and not missing, missing


def main():
    H.C.work = tempfile.mkdtemp(prefix="sparkgate-web-")
    H.C.s = Stack(workdir=H.C.work, rest_reference=False)

    def setup():
        t0 = time.time()
        H.start_cluster()
        print("stack up in %.1fs (master %d, logs %s)" % (time.time() - t0, H.C.s.master_port, H.C.work), flush=True)
    return SUITE.main(setup, H.C.s.stop)


if __name__ == "__main__":
    sys.exit(main())
