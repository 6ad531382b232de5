"""The integration suites' runner: named test functions run in order after a setup, each
printing "ok"/"FAIL" with its time, teardown always, and the summary line run-all.sh reads:
"NAME: N passed, N failed (Ts)".  A failing setup counts as one failure."""
import sys
import time
import traceback


class Suite:
    def __init__(self, name):
        self.name = name
        self.tests = []

    def test(self, fn):
        self.tests.append(fn)
        return fn

    def main(self, setup, teardown):
        only = sys.argv[1:]
        passed = failed = 0
        t0 = time.time()
        try:
            setup()
            for fn in self.tests:
                if only and fn.__name__ not in only:
                    continue
                t = time.time()
                try:
                    fn()
                    passed += 1
                    print("ok   %s (%.1fs)" % (fn.__name__, time.time() - t), flush=True)
                except Exception:
                    failed += 1
                    print("FAIL %s (%.1fs)\n%s" % (fn.__name__, time.time() - t, traceback.format_exc()), flush=True)
        except Exception:
            failed += 1
            print("FAIL setup\n%s" % traceback.format_exc(), flush=True)
        finally:
            teardown()
        print("%s: %d passed, %d failed (%.0fs)" % (self.name, passed, failed, time.time() - t0))
        return 1 if failed else 0
