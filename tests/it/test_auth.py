"""spark.authenticate: a real master and worker started with spark.authenticate=true and a
shared secret.  sparkgate given the same secret (--secret-file) authenticates with SASL
DIGEST-MD5 and runs a driver to FINISHED, reads its status and kills another; without the
secret, or with a wrong one, every request gets a clear 502 JSON error.
Ends with "auth: N passed, N failed"."""
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import harness as H  # noqa: E402  (its helpers work on H.C: the stack, work dir, app jar)
from runner import Suite  # noqa: E402
from stack import Stack  # noqa: E402

SUITE = Suite("auth")

SECRET = "sg-test-secret-\u00e9-42"


def write_secret(work, name, value):
    path = os.path.join(work, name)
    with open(path, "w") as f:
        f.write(value + "\n")
    os.chmod(path, 0o600)
    return path


def cgi(s, *args):
    env = dict(os.environ, GATEWAY_INTERFACE="CGI/1.1", REQUEST_METHOD="GET", SCRIPT_NAME="",
               PATH_INFO="/v1/submissions/status/driver-none", SERVER_PROTOCOL="HTTP/1.1",
               REMOTE_USER="tester")
    p = subprocess.run([s.sparkgate, "--master", "spark://127.0.0.1:%d" % s.master_port] + list(args),
                       env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    return p.stdout.decode(), p.stderr.decode()


def run_build(build):
    t0 = time.time()
    work = tempfile.mkdtemp(prefix="sparkgate-auth-")
    good = write_secret(work, "secret", SECRET)
    bad = write_secret(work, "wrong-secret", "not-the-secret")
    s = Stack(workdir=work, rest_reference=False, sparkgate_args="--secret-file " + good, build=build)
    opts = "-Dspark.authenticate=true -Dspark.authenticate.secret=" + SECRET
    s.extra_env = {"SPARK_MASTER_OPTS": opts, "SPARK_WORKER_OPTS": opts}
    H.C.s, H.C.work = s, work

    def check(name, fn):
        SUITE.check("[%s] %s" % (build, name), fn)

    try:
        H.C.jar = H.build_app(work)
        s.start()
        print("[%s] auth stack up in %.1fs (logs %s)" % (build, time.time() - t0, work), flush=True)
        props = {"spark.authenticate": "true"}   # the driver authenticates to its worker

        def with_secret():
            sid = H.submit(H.create_body(os.path.join(work, "ok.txt"), 0, 0, props=props))
            assert H.wait_state(sid, H.FINAL)["driverState"] == "FINISHED", H.C.last_status
            sid = H.submit(H.create_body(os.path.join(work, "long.txt"), 120, 0, props=props))
            H.wait_state(sid, ("RUNNING",))
            st, js, _ = s.http("POST", "/v1/submissions/kill/" + sid, b"")
            assert st == 200 and js["success"] is True, (st, js)
            assert H.wait_state(sid, H.FINAL)["driverState"] == "KILLED", H.C.last_status
            log = open(os.path.join(work, "lighttpd.log"), errors="replace").read()
            assert SECRET not in log, "the secret must never be logged"
        check("sasl_digest_md5_with_the_masters_secret", with_secret)

        def without_secret():
            out, _ = cgi(s)
            assert out.startswith("Status: 502") and "requires authentication" in out and "--secret-file" in out, out
        check("no_secret_is_a_clear_502", without_secret)

        def wrong_secret():
            out, _ = cgi(s, "--secret-file", bad)
            assert out.startswith("Status: 502") and "refused sparkgate's authentication" in out, out
            assert "not-the-secret" not in out
        check("wrong_secret_is_a_clear_502", wrong_secret)
    except Exception:
        SUITE.setup_failed("[%s] auth stack setup" % build)
    finally:
        s.stop()


def main():
    for build in sys.argv[1:] or ["3.5.9_2.12", "4.3.0_2.13"]:
        run_build(build)
    return SUITE.finish()


if __name__ == "__main__":
    sys.exit(main())
