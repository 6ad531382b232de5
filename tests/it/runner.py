"""The integration suites' one runner.  A suite is a list of named checks, each printing
"ok"/"FAIL" with its time as it ends (flushed, so run-all.sh streams it), and one summary
line that run-all.sh reads: "NAME: N passed, N failed (Ts)".  A setup that fails counts as
one failure, so a suite that could not run never reports success.

Two ways to use it:
  - fixed tests: @suite.test on functions, then suite.main(setup, teardown);
  - checks made while running (per Spark build, per browser step): suite.check(name, fn),
    suite.record(name, ok, detail) for results reported by another program,
    suite.setup_failed(what) from an except clause, and suite.finish() at the end."""
import signal
import sys
import time
import traceback

# A suite stopped by run-all.sh's time limit (SIGTERM) still runs its teardown: SystemExit
# passes every `except Exception` and runs every `finally`.
signal.signal(signal.SIGTERM, lambda sig, frame: sys.exit("stopped by SIGTERM"))


class Suite:
    def __init__(self, name):
        self.name = name
        self.tests = []
        self.passed = self.failed = 0
        self.t0 = time.time()

    def test(self, fn):
        self.tests.append(fn)
        return fn

    def record(self, name, ok, detail="", seconds=None, quiet=False):
        """quiet: the result was printed already (by the program that made it)."""
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        if quiet:
            return ok
        took = "" if seconds is None else " (%.1fs)" % seconds
        print("%s %s%s%s" % ("ok  " if ok else "FAIL", name, took, ("\n" + detail) if detail else ""), flush=True)
        return ok

    def check(self, name, fn):
        t = time.time()
        try:
            fn()
        except Exception:
            return self.record(name, False, traceback.format_exc(), time.time() - t)
        return self.record(name, True, seconds=time.time() - t)

    def setup_failed(self, what):
        self.record(what, False, traceback.format_exc())

    def finish(self):
        print("%s: %d passed, %d failed (%.0fs)" % (self.name, self.passed, self.failed, time.time() - self.t0),
              flush=True)
        return 1 if self.failed or not self.passed else 0

    def main(self, setup, teardown):
        only = sys.argv[1:]
        try:
            setup()
            for fn in self.tests:
                if not only or fn.__name__ in only:
                    self.check(fn.__name__, fn)
        except Exception:
            self.setup_failed("setup")
        finally:
            teardown()
        return self.finish()
