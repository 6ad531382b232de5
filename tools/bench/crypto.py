"""Status polling and create through sparkgate over an encrypted RPC connection beside plain,
the masters up at the same time and measured in turn (ROUNDS rounds, the median of each
figure), so the ratios are of one run and one load:

  plain     SASL only, on the AES-CTR master (spark.authenticate + spark.network.crypto.enabled
            with saslFallback=true serves both)
  AES-CTR   the same master, after Spark's AuthEngine handshake
  AES-GCM   a second master of the same build with spark.network.crypto.cipher=AES/GCM/NoPadding
  plain 4.x and TLS: two masters of TLS_BUILD, one without and one with spark.ssl.rpc.enabled
            (certificates made with openssl and keytool; no spark.authenticate)

Every status asks the master (--status-max-age 0): the figure is the transport's cost.  No
worker: a create is accepted (SUBMITTED) and killed.  `make bench` prints this table last.
Usage: crypto.py BUILD_DIR [SPARK_BUILD [TLS_BUILD]]   (env BENCH_SECONDS per run, default 5)"""
import os
import statistics
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "it"))
sys.path.insert(0, os.path.dirname(__file__))
from bench import SECONDS, UNKNOWN, wrk  # noqa: E402
from stack import Stack  # noqa: E402
import harness as E  # noqa: E402  (build_app, create_body, submit on E.C)
from test_auth import make_certificates  # noqa: E402

SECRET = "bench-secret-42"
ROUNDS = 3
WARM_SECONDS = 8
CTR, GCM = "AES/CTR/NoPadding", "AES/GCM/NoPadding"


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def aes_master(work, sparkgate, build, cipher):
    """A master with spark.authenticate and AES (saslFallback=true) and two sparkgates in
    front of it: SASL alone (--secret-file) and the cluster's spark-defaults.conf."""
    os.makedirs(work, exist_ok=True)
    secret = write(os.path.join(work, "secret"), SECRET + "\n")
    conf = write(os.path.join(work, "spark-defaults.conf"),
                 "spark.authenticate true\nspark.authenticate.secret.file %s\n"
                 "spark.network.crypto.enabled true\nspark.network.crypto.cipher %s\n" % (secret, cipher))
    props = {"spark.authenticate": "true", "spark.network.crypto.enabled": "true",
             "spark.network.crypto.cipher": cipher}
    sasl = Stack(workdir=work, rest_reference=False, sparkgate=sparkgate, build=build,
                 sparkgate_args="--status-max-age 0 --secret-file " + secret)
    sasl.extra_env = {"SPARK_MASTER_OPTS": "-Dspark.authenticate.secret=" + SECRET +
                      "".join(" -D%s=%s" % kv for kv in props.items())}
    aes = Stack(workdir=os.path.join(work, "aes"), rest_reference=False, sparkgate=sparkgate, build=build,
                sparkgate_args="--status-max-age 0 --spark-conf " + conf)
    os.makedirs(aes.work, exist_ok=True)
    sasl.start_master()
    aes.master_port = sasl.master_port
    return sasl, aes, props


def tls_masters(work, sparkgate, build):
    """Two masters of build: plain, and with spark.ssl.rpc.enabled (sparkgate trusting the
    cluster's PKCS12 trust store through --spark-conf)."""
    os.makedirs(work, exist_ok=True)
    _, _, keystore, trust = make_certificates(work, "pkcs12")
    conf = write(os.path.join(work, "spark-defaults.conf"),
                 "spark.ssl.rpc.enabled true\nspark.ssl.rpc.trustStore %s\n"
                 "spark.ssl.rpc.trustStorePassword trust-pw\n" % trust)
    props = {"spark.ssl.rpc.enabled": "true", "spark.ssl.rpc.keyStore": keystore,
             "spark.ssl.rpc.keyStorePassword": "key-pw", "spark.ssl.rpc.keyPassword": "key-pw",
             "spark.ssl.rpc.trustStore": trust, "spark.ssl.rpc.trustStorePassword": "trust-pw"}
    plain = Stack(workdir=os.path.join(work, "plain"), rest_reference=False, sparkgate=sparkgate, build=build,
                  sparkgate_args="--status-max-age 0")
    tls = Stack(workdir=os.path.join(work, "tls"), rest_reference=False, sparkgate=sparkgate, build=build,
                sparkgate_args="--status-max-age 0 --spark-conf " + conf)
    tls.extra_env = {"SPARK_MASTER_OPTS": " ".join("-D%s=%s" % kv for kv in props.items())}
    for st in (plain, tls):
        os.makedirs(st.work, exist_ok=True)
        st.start_master()
    return plain, tls, props


def measure_once(st, jar, work, props):
    url = "http://127.0.0.1:%d/v1/submissions/status/%s" % (st.http_port, UNKNOWN)
    one = wrk(url, 1, SECONDS)
    eight = wrk(url, 8, SECONDS)
    E.C.s, E.C.work, E.C.jar = st, work, jar
    times = []
    for _ in range(5):
        t = time.perf_counter()
        sid = E.submit(E.create_body(os.path.join(work, "x.txt"), 0, 0, props=props))
        times.append((time.perf_counter() - t) * 1000)
        st.http("POST", "/v1/submissions/kill/" + sid, b"")
    return one[0], one[1], eight[0], eight[1], statistics.median(times)


def table(build_dir="build", build="3.5.9_2.12", tls_build="4.3.0_2.13"):
    """Prints the table; every master it started is stopped on return."""
    sparkgate = os.path.join(ROOT, build_dir, "sparkgate")
    work = tempfile.mkdtemp(prefix="sparkgate-bench-crypto-")
    stacks, rows = [], []
    try:
        jar = E.build_app(work)
        sasl, ctr, props = aes_master(os.path.join(work, "ctr"), sparkgate, build, CTR)
        stacks += [sasl, ctr]
        _, gcm, gprops = aes_master(os.path.join(work, "gcm"), sparkgate, build, GCM)
        stacks += [_, gcm]
        rows = [("plain (SASL) %s" % build, sasl, props), ("AES-CTR %s" % build, ctr, props),
                ("AES-GCM %s" % build, gcm, gprops)]
        if tls_build:
            plain, tls, tprops = tls_masters(os.path.join(work, "tls"), sparkgate, tls_build)
            stacks += [plain, tls]
            rows += [("plain %s" % tls_build, plain, {}), ("TLS %s" % tls_build, tls, tprops)]
        for _, st, _ in rows:
            st.start_web()
            # warm up: the master's JIT compiles Tink's and the JDK's TLS code only after
            # thousands of messages (AES-GCM's first seconds cost it 2-3x the CPU per ask)
            wrk("http://127.0.0.1:%d/v1/submissions/status/%s" % (st.http_port, UNKNOWN), 8, WARM_SECONDS)
        figures = {name: [] for name, _, _ in rows}
        for _ in range(ROUNDS):
            for name, st, p in rows:
                figures[name].append(measure_once(st, jar, work, p))
        load = open("/proc/loadavg").read().split()[:3]
        print("encrypted RPC connections, --status-max-age 0 (every status asks the master), no worker; the masters "
              "up together, measured in turn, median of %d rounds of %d s (load %s at the end)" % (
                  ROUNDS, SECONDS, " ".join(load)))
        print()
        print("| transport, build | status req/s, 1 conn | p50 ms | status req/s, 8 conns | p50 ms | create median ms "
              "| 8-conn req/s vs plain of the build |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        base = {}
        for name, _, _ in rows:
            med = [statistics.median(col) for col in zip(*figures[name])]
            if name.startswith("plain"):
                base[name.split()[-1]] = med[2]
            ratio = med[2] / base[name.split()[-1]] if base.get(name.split()[-1]) else float("nan")
            print("| %s | %.0f | %.2f | %.0f | %.2f | %.1f | %.2fx |" % (name, med[0], med[1], med[2], med[3], med[4],
                                                                       ratio), flush=True)
    finally:
        for st in stacks:
            st.stop()


def main():
    table(sys.argv[1] if len(sys.argv) > 1 else "build", sys.argv[2] if len(sys.argv) > 2 else "3.5.9_2.12",
          sys.argv[3] if len(sys.argv) > 3 else "4.3.0_2.13")


if __name__ == "__main__":
    main()
