"""Instructions per request over one kept FastCGI connection, without Spark: the figure
`make bench` prints at its end (bench.callgrind_kept: two callgrind runs, 1 and 201
requests, so start-up and the first request cancel out), measured against
tests/it/fakemaster.py (a 3.5.9 master's golden replies; --spark-version, so no detection)
in seconds instead of a bench run.  callgrind counts instructions, not time, so the figure
is the same on a loaded machine.  Keeps the callgrind.out files for callgrind_annotate.
Usage: instructions.py [BUILD_DIR] [--keep DIR]"""
import os
import sys
import tempfile
import types

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "it"))
import bench  # noqa: E402
from fakemaster import FakeMaster  # noqa: E402


def main():
    args = sys.argv[1:]
    keep = None
    if "--keep" in args:
        i = args.index("--keep")
        keep = args[i + 1]
        del args[i:i + 2]
    build = args[0] if args else "build"
    work = keep or tempfile.mkdtemp(prefix="sparkgate-instructions-")
    os.makedirs(work, exist_ok=True)
    fake = FakeMaster()
    s = types.SimpleNamespace(work=work, master_port=fake.port)
    try:
        sparkgate = os.path.join(bench.ROOT, build, "sparkgate")
        argv = bench.sg_argv(s, sparkgate, ["--spark-version", "3.5.9_2.12", "--status-max-age", "600s",
                                            "--log-level", "error"])
        ins, answer = bench.callgrind_kept(s, argv, "/v1/submissions/status/" + bench.UNKNOWN, "sparkgate")
        floor, _ = bench.callgrind_kept(s, [os.path.join(bench.ROOT, build, "hello-fcgi")], "/floor/x", "hello")
        print("instructions per request over one kept FastCGI connection (callgrind, 200 requests): %.0f for a status "
              "answered from the cache (%d bytes, the same every time); %.0f for hello-fcgi's fixed answer" % (
                  ins, len(answer), floor))
        print("callgrind files in %s (callgrind_annotate %s/callgrind.out.sparkgate.201)" % (work, work))
    finally:
        fake.close()


if __name__ == "__main__":
    main()
