"""A real local stack on 127.0.0.1 with free ports: a Spark master (optionally with Spark's
own REST server) and worker from a pinned build in ~/.cache/sparkgate, and the processes
beside them, each in its own process group, all stopped by Stack.stop().  Shipped code:
deploy/run-local runs on it; the integration tests' tests/it/stack.py adds their web
server on top."""
import json
import os
import re
import base64
import fcntl
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


_given_ports = set()


def free_port():
    """A port nothing listens on now, and not one this process handed out before: a stack
    picks several before any is bound (the kernel may offer the same free port twice — seen
    as the master's RPC port and its REST port colliding).  With SPARKGATE_PORT_REGISTRY
    naming a file (tests/run-all.sh sets one per run, for suites and builds that run side by
    side), not one any process of the run handed out either: each port taken is appended
    there under a lock."""
    registry = os.environ.get("SPARKGATE_PORT_REGISTRY")
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port in _given_ports:
            continue
        _given_ports.add(port)
        if not registry:
            return port
        with open(registry, "a+") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            f.seek(0)
            if str(port) in f.read().split():
                continue
            f.write("%d\n" % port)
            f.flush()
        return port


def wait_for(what, cond, timeout=60, interval=0.25):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            if cond():
                return
        except Exception as e:  # still starting
            last = e
        time.sleep(interval)
    raise RuntimeError("timed out waiting for %s (%s)" % (what, last))


DEFAULT_BUILD = "3.5.9_2.12"
SPARK_DEFAULT_REST_PORT = 6066


def supported_builds():
    """Every build tools/setup.sh installs for "all" (its SUPPORTED_BUILDS, one list)."""
    text = open(os.path.join(ROOT, "tools", "setup.sh")).read()
    m = re.search(r"^SUPPORTED_BUILDS=\(([^)]*)\)", text, re.M)
    return m.group(1).split()


_homes = {}


def spark_home(build=DEFAULT_BUILD):
    """SPARK_HOME of a pinned build ("3.5.9_2.12", "3.5.9_2.13", "4.3.0_2.13"), installed
    into the cache by tools/setup.sh if missing (once per process; with SPARKGATE_NO_APT=1,
    as tests/run-all.sh sets after make check's setup, without its Debian package check)."""
    if build not in _homes:
        argv = [os.path.join(ROOT, "tools", "setup.sh")]
        if os.environ.get("SPARKGATE_NO_APT") == "1":
            argv.append("--no-apt")
        out = subprocess.run(argv + [build], check=True, stdout=subprocess.PIPE, text=True).stdout
        _homes[build] = out.strip().splitlines()[-1]
    return _homes[build]


class Stack:
    # The worker offers room for several drivers and their executors at once (the tests' jobs
    # ask 512m and one core each): a driver holds a core and its memory for its whole run,
    # and an application whose executor finds no core or memory left waits until one ends.
    # Slots, not a reservation: the JVMs use what they use.
    WORKER_CORES = 16
    WORKER_MEMORY_GB = 8

    def __init__(self, http_port=None, sparkgate=None, workdir=None, rest_reference=True,
                 build=DEFAULT_BUILD, sparkgate_args=""):
        self.build = build
        self.spark_version = build.split("_")[0]
        self.spark = spark_home(build)
        self.sparkgate_args = sparkgate_args
        self.sparkgate_master = None   # --master for sparkgate, default this stack's master
        self.worker_masters = None     # the worker's master URL, default this stack's master
        self.extra_env = {}            # e.g. SPARK_MASTER_OPTS / SPARK_WORKER_OPTS
        self.work = workdir or tempfile.mkdtemp(prefix="sparkgate-it-")
        self.sparkgate = sparkgate or os.environ.get("SPARKGATE_BIN") or os.path.join(ROOT, "build", "sparkgate")
        self.http_port = http_port or free_port()
        self.master_port = free_port()
        self.master_ui = free_port()
        # Spark's own REST server on the master: True on a free port (the differential
        # reference), "default" as Spark leaves it when nothing is set (4.1+: open on 6066),
        # False closed (spark.master.rest.enabled=false, as behind sparkgate).
        self.rest_default = rest_reference == "default"
        self.rest_port = SPARK_DEFAULT_REST_PORT if self.rest_default else free_port() if rest_reference else None
        self.worker_ui = free_port()
        self.procs = {}
        self.ca_file = None            # certificate https requests trust
        self.auth = None               # (user, password) for requests that name none

    # -- processes ---------------------------------------------------------------------
    def _start(self, name, argv, env=None):
        logf = open(os.path.join(self.work, name + ".log"), "ab")
        e = dict(os.environ)
        e.update(env or {})
        p = subprocess.Popen(argv, stdout=logf, stderr=subprocess.STDOUT, env=e,
                             start_new_session=True, cwd=self.work)
        self.procs[name] = p
        return p

    def _kill(self, name, sig=signal.SIGTERM):
        p = self.procs.pop(name, None)
        if not p:
            return
        try:
            os.killpg(p.pid, sig)
        except ProcessLookupError:
            return
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()

    def spark_env(self):
        return {"SPARK_HOME": self.spark, "SPARK_LOG_DIR": self.work, "SPARK_NO_DAEMONIZE": "1",
                "SPARK_LOCAL_IP": "127.0.0.1", "SPARK_MASTER_OPTS": "", "SPARK_WORKER_DIR":
                os.path.join(self.work, "worker"), "PYSPARK_PYTHON": "python3",
                "SPARK_SCALA_VERSION": self.build.split("_")[1], **self.extra_env}

    def start_master(self, name="master", port=None, ui=None, props=None, wait=True):
        """A master; name/port/ui/props for a second one (HA), props as extra lines."""
        port, ui = port or self.master_port, ui or self.master_ui
        path = os.path.join(self.work, name + ".properties")
        with open(path, "w") as f:
            if self.rest_default and name == "master":
                pass
            elif self.rest_port and name == "master":
                f.write("spark.master.rest.enabled true\nspark.master.rest.port %d\n" % self.rest_port)
            else:   # as a deployment behind sparkgate must (Spark 4.1+ opens 6066 by default)
                f.write("spark.master.rest.enabled false\n")
            f.write("spark.deploy.retainedDrivers 500\n")
            for k, v in (props or {}).items():
                f.write("%s %s\n" % (k, v))
        self._start(name, [os.path.join(self.spark, "bin", "spark-class"),
                           "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                           "--port", str(port), "--webui-port", str(ui),
                           "--properties-file", path], self.spark_env())
        if wait:
            wait_for(name, lambda: self.master_state(ui) is not None, 90)

    def start_worker(self):
        self._start("worker", [os.path.join(self.spark, "bin", "spark-class"),
                               "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1",
                               "--cores", str(self.WORKER_CORES), "--memory", "%dg" % self.WORKER_MEMORY_GB,
                               "--webui-port", str(self.worker_ui),
                               self.worker_masters or "spark://127.0.0.1:%d" % self.master_port],
                    self.spark_env())
        wait_for("worker registration",
                 lambda: any(w["state"] == "ALIVE" for w in self.master_state()["workers"]), 90)

    def master_state(self, ui=None):
        with urllib.request.urlopen("http://127.0.0.1:%d/json/" % (ui or self.master_ui), timeout=2) as r:
            return json.loads(r.read())

    def stop(self):
        for name in [n for n in self.procs if n.startswith(("lighttpd", "apache", "sparkgate"))] + [
                "worker", "master", "master2", "zookeeper"]:
            self._kill(name)
        for name in list(self.procs):
            self._kill(name)

    # -- HTTP ----------------------------------------------------------------------------
    def http(self, method, path, body=None, port=None, timeout=20, headers=None, auth=None, scheme="http"):
        """Returns (status, parsed JSON or raw text, headers).  auth: (user, password) for
        HTTP Basic; https trusts self.ca_file."""
        url = "%s://127.0.0.1:%d%s" % (scheme, port or self.http_port, path)
        data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
        req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
        if data is not None and "Content-Type" not in (headers or {}):
            req.add_header("Content-Type", "application/json")
        auth = auth or self.auth
        if auth:
            req.add_header("Authorization", "Basic " + base64.b64encode(("%s:%s" % auth).encode()).decode())
        ctx = ssl.create_default_context(cafile=self.ca_file) if scheme == "https" else None
        try:
            with urllib.request.urlopen(req, timeout=timeout, context=ctx) as r:
                raw, status, hdrs = r.read(), r.status, r.headers
        except urllib.error.HTTPError as e:
            raw, status, hdrs = e.read(), e.code, e.headers
        try:
            return status, json.loads(raw), hdrs
        except ValueError:
            return status, raw.decode("utf-8", "replace"), hdrs

    def rest(self, method, path, body=None):
        """The same request to Spark's own REST server."""
        return self.http(method, path, body, port=self.rest_port)
