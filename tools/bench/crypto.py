"""Status polling and create through sparkgate over an encrypted RPC connection beside SASL
alone, on one real master (spark.authenticate + spark.network.crypto.enabled with
saslFallback=true, so the same master serves both sparkgates): one master per cipher.
Every status asks the master (--status-max-age 0): the figure is the transport's cost.
Usage: crypto.py BUILD_DIR [SPARK_BUILD]   (env BENCH_SECONDS per run, default 5)"""
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

SECRET = "bench-secret-42"


def main():
    build_dir = sys.argv[1] if len(sys.argv) > 1 else "build"
    build = sys.argv[2] if len(sys.argv) > 2 else "3.5.9_2.12"
    sparkgate = os.path.join(ROOT, build_dir, "sparkgate")
    print("| %s, --status-max-age 0 | status req/s, 1 conn | p50 ms | status req/s, 8 conns | p50 ms | "
          "create median ms |" % build)
    print("|---|---:|---:|---:|---:|---:|")
    for cipher in ("AES/CTR/NoPadding", "AES/GCM/NoPadding"):
        work = tempfile.mkdtemp(prefix="sparkgate-bench-crypto-")
        secret = os.path.join(work, "secret")
        with open(secret, "w") as f:
            f.write(SECRET + "\n")
        conf = os.path.join(work, "spark-defaults.conf")
        with open(conf, "w") as f:
            f.write("spark.authenticate true\nspark.authenticate.secret.file %s\n"
                    "spark.network.crypto.enabled true\nspark.network.crypto.cipher %s\n" % (secret, cipher))
        props = {"spark.authenticate": "true", "spark.network.crypto.enabled": "true",
                 "spark.network.crypto.cipher": cipher}
        s = Stack(workdir=work, rest_reference=False, sparkgate=sparkgate, build=build,
                  sparkgate_args="--status-max-age 0 --secret-file " + secret)
        s.extra_env = {"SPARK_MASTER_OPTS": "-Dspark.authenticate.secret=" + SECRET +
                       "".join(" -D%s=%s" % kv for kv in props.items())}
        aes = Stack(workdir=os.path.join(work, "aes"), rest_reference=False, sparkgate=sparkgate, build=build,
                    sparkgate_args="--status-max-age 0 --spark-conf " + conf)
        os.makedirs(aes.work, exist_ok=True)
        try:
            jar = E.build_app(work)
            s.start_master()
            aes.master_port = s.master_port
            s.start_web()
            aes.start_web()
            for name, st in (("SASL, plain transport", s), (cipher.split("/")[1], aes)):
                if name.startswith("SASL") and cipher.endswith("GCM/NoPadding"):
                    continue   # measured once
                url = "http://127.0.0.1:%d/v1/submissions/status/%s" % (st.http_port, UNKNOWN)
                wrk(url, 2, 2)   # warm up
                one = wrk(url, 1, SECONDS)
                eight = wrk(url, 8, SECONDS)
                E.C.s, E.C.work, E.C.jar = st, work, jar
                times = []
                for _ in range(10):
                    t = time.perf_counter()
                    sid = E.submit(E.create_body(os.path.join(work, "x.txt"), 0, 0, props=props))
                    times.append((time.perf_counter() - t) * 1000)
                    st.http("POST", "/v1/submissions/kill/" + sid, b"")
                print("| %s | %.0f | %.2f | %.0f | %.2f | %.1f |" % (
                    name, one[0], one[1], eight[0], eight[1], statistics.median(times)), flush=True)
        finally:
            aes.stop()
            s.stop()


if __name__ == "__main__":
    main()
