"""Faults, with nothing lost.  sparkgate (its own process, --listen) behind lighttpd:
- against a scriptable fake master (tests/it/fakemaster.py): refused connections, no
  answer, slow answers, connections closed before or in the middle of an answer, garbage,
  a huge frame, an RpcFailure.  Each gets a Spark-shaped JSON error with a fitting status
  within --timeout, the process stays up with flat memory and descriptors, the next request
  works once the master is healthy, and a create whose outcome is unknown says so and is
  never sent twice.  Prints the fault table.
- against the real master: stopped with requests in flight, restarted, reconnected.
- soak: 200 000 status requests through lighttpd to the real master (wrk): RSS and open
  descriptors of sparkgate flat.
Ends with "faults: N passed, N failed"."""
import collections
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
import harness as H  # noqa: E402  (its helpers work on H.C: the stack, work dir, app jar)
import web  # noqa: E402
from fakemaster import FakeMaster  # noqa: E402
from pg import Postgres  # noqa: E402
from runner import Suite  # noqa: E402
from stack import Stack, wait_for  # noqa: E402

TIMEOUT = 2   # sparkgate's --timeout here
SUITE = Suite("faults")
test = SUITE.test
SOAK_REQUESTS = int(os.environ.get("SPARKGATE_SOAK_REQUESTS", "200000"))


class G:
    pass


def proc_status(pid):
    """(RSS in KiB, open descriptors) of a process."""
    with open("/proc/%d/status" % pid) as f:
        rss = int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))
    return rss, len(os.listdir("/proc/%d/fd" % pid))


def idle_status(pid):
    """proc_status between requests: lighttpd may be mid-connection at any one moment."""
    readings = []
    for _ in range(3):
        time.sleep(0.1)
        readings.append(proc_status(pid))
    return min(r[0] for r in readings), min(r[1] for r in readings)


def start_sparkgate(name, master_url, extra=()):
    """Every request asks the master (--status-max-age 0, --master-ui off): this suite is
    about what the master's faults do to an answer, not about the status cache."""
    sock = os.path.join(H.C.work, name + ".sock")
    p = H.C.s._start(name, [H.C.s.sparkgate, "--master", master_url, "--timeout", str(TIMEOUT),
                            "--connect-timeout", "1", "--anonymous", "allow", "--listen", sock,
                            "--status-max-age", "0", "--master-ui", "off"] + list(extra))
    wait_for(name + " socket", lambda: os.path.exists(sock), 20)
    os.chmod(sock, 0o666)
    return p, web.lighttpd_to_socket(H.C.s, "lighttpd-" + name, sock)


def request(port, kind):
    t = time.time()
    if kind == "create":
        st, js, _ = H.C.s.http("POST", "/v1/submissions/create", H.create_body("/dev/null"), port=port, timeout=30)
    else:
        st, js, _ = H.C.s.http("GET", "/v1/submissions/status/driver-20000101000000-0000", port=port, timeout=30)
    return st, js, time.time() - t


# fault -> (statuses allowed for status / create, text the create's message must hold)
FAULTS = [
    ("refuse", (503,), (503,), "Unable to reach"),
    ("silent", (504,), (504,), "outcome of this submission is unknown"),
    ("slow:0.5", (200,), (200,), None),
    ("slow:3", (504,), (504,), "outcome of this submission is unknown"),
    ("close", (503,), (503,), "outcome of this submission is unknown"),
    ("half", (503,), (503,), "outcome of this submission is unknown"),
    ("garbage", (502,), (502,), None),
    ("noise", (502,), (502,), None),
    ("huge", (502,), (502,), None),
    ("rpcfailure", (502,), (502,), "fake master refuses"),
]


@test
def fault_table():
    fake = FakeMaster()
    p, port = start_sparkgate("sg-fake", "spark://127.0.0.1:%d" % fake.port, ["--spark-version", "3.5.9"])
    rows, problems = [], []
    try:
        st, js, _ = request(port, "status")
        assert st == 200 and js["action"] == "SubmissionStatusResponse", (st, js)
        for mode, want_status, want_create, create_text in FAULTS:
            for kind, want in (("status", want_status), ("create", want_create)):
                fake.set_mode(mode)
                creates_before = sum(1 for m, _ in fake.requests if m == "RequestSubmitDriver")
                st, js, took = request(port, kind)
                fake.set_mode("ok")
                creates = sum(1 for m, _ in fake.requests if m == "RequestSubmitDriver") - creates_before
                msg = js.get("message", "") if isinstance(js, dict) else str(js)
                rows.append((mode, kind, st, msg.split("\n")[0][:110], took))
                ok = st in want and isinstance(js, dict) and took < TIMEOUT + 1.5
                ok = ok and (st == 200 or js.get("action") == "ErrorResponse")
                if kind == "create":
                    ok = ok and creates <= 1   # never sent twice
                    if create_text:
                        ok = ok and create_text in msg
                if not ok:
                    problems.append("%s/%s: %s %r in %.1fs (creates sent: %d)" % (mode, kind, st, js, took, creates))
                # healthy again: the next request works
                st2, js2, _ = request(port, "status")
                if st2 != 200 or js2.get("action") != "SubmissionStatusResponse":
                    problems.append("after %s/%s: %s %r" % (mode, kind, st2, js2))
                if p.poll() is not None:
                    problems.append("sparkgate exited after %s" % mode)
                    break
        print("     fault -> answer (sparkgate --timeout %d)" % TIMEOUT)
        for mode, kind, st, msg, took in rows:
            print("     %-10s %-6s -> %d %-110s %.2fs" % (mode, kind, st, msg, took))
        assert not problems, "\n".join(problems)
        G.fake, G.fake_proc, G.fake_port = fake, p, port
    except Exception:
        fake.close()
        raise


@test
def memory_and_descriptors_flat_under_faults():
    fake, p, port = G.fake, G.fake_proc, G.fake_port
    fast = ["refuse", "close", "half", "garbage", "noise", "huge", "rpcfailure", "ok"]

    def burst(n):
        for i in range(n):
            fake.set_mode(fast[i % len(fast)])
            request(port, "create" if i % 3 == 0 else "status")
        fake.set_mode("ok")
    burst(80)
    before = idle_status(p.pid)
    burst(800)
    after = idle_status(p.pid)
    print("     sparkgate RSS %d -> %d KiB, descriptors %d -> %d over 800 faulted requests" % (
        before[0], after[0], before[1], after[1]))
    assert after[0] - before[0] < 512 and after[1] <= before[1], (before, after)
    assert p.poll() is None
    fake.close()


@test
def lost_reply_is_found_at_the_master_or_released():
    """With owners, a create whose reply was lost (the fake master read it, then closed the
    connection): a retry with the same idempotency key finds the driver at the master by
    its submission token and gets its id, as if nothing happened, without sending it
    again; the listing shows the id of a lost create without a key instead of "unknown";
    when the master has no such driver, the key is held (409) until the claim's lease
    (2 x --timeout) is past, then the retry submits once."""
    fake = FakeMaster()
    db = os.path.join(H.C.work, "faults-state.db")
    _, port = start_sparkgate("sg-state", "spark://127.0.0.1:%d" % fake.port,
                              ["--spark-version", "3.5.9", "--state-db", db])

    def create(key=None):
        return H.C.s.http("POST", "/v1/submissions/create", H.create_body("/dev/null"), port=port,
                          headers={"Idempotency-Key": key} if key else None)

    def sent():
        return sum(1 for m, _ in fake.requests if m == "RequestSubmitDriver")
    try:
        fake.set_mode("close")
        st, js, _ = create("retry-me")
        assert st == 503 and "outcome of this submission is unknown" in js["message"], (st, js)
        fake.set_mode("ok")
        for _ in range(2):   # found at the master, then recorded
            st, js, _ = create("retry-me")
            assert st == 200 and js["success"] and js["submissionId"] == "driver-20240101000000-9000", (st, js)
        assert sent() == 1, fake.requests
        # without a key: the listing asks the master
        fake.set_mode("close")
        st, js, _ = create()
        assert st == 503, (st, js)
        fake.set_mode("ok")
        st, listed, _ = H.C.s.http("GET", "/v1/submissions", port=port)
        ids = sorted(e.get("submissionId", "unknown") for e in listed["submissions"])
        assert ids == ["driver-20240101000000-9000", "driver-20240101000000-9001"], listed
        assert not any("outcome" in e for e in listed["submissions"]), listed
        # the master has no such driver: held until the lease is past, then sent once
        fake.forget = True
        fake.set_mode("close")
        t0 = time.time()
        st, js, _ = create("released")
        assert st == 503, (st, js)
        fake.set_mode("ok")
        st, js, _ = create("released")
        assert st == 409 and "being submitted right now" in js["message"], (st, js)
        wait_for("the key released", lambda: create("released")[0] == 200, 4 * TIMEOUT + 5, 0.5)
        held = time.time() - t0
        st, js, _ = create("released")
        assert st == 200 and js["submissionId"] == "driver-20240101000000-0000", (st, js)
        assert sent() == 4, fake.requests   # 2 lost, 1 resent after the lease, nothing else
        print("     lost reply: found by token at once; absent at the master: key released after %.1fs "
              "(lease 2 x --timeout %ds)" % (held, TIMEOUT))
        assert 2 * TIMEOUT - 0.5 < held < 2 * TIMEOUT + 3, held
    finally:
        fake.close()


@test
def one_deadline_for_a_create_under_a_quota_with_a_silent_master():
    """Quota accounting asks the master about each running driver before a create: with a
    silent master all those asks and the create share one --timeout, so the answer comes
    within it, and the create itself, with no time left, is never sent."""
    fake = FakeMaster()
    db = os.path.join(H.C.work, "quota-state.db")
    policy = os.path.join(H.C.work, "quota-policy.conf")
    with open(policy, "w") as f:
        f.write("allow url file:/\nallow property spark.app.name spark.driver.memory\nquota user * drivers 20\n")
    _, port = start_sparkgate("sg-quota", "spark://127.0.0.1:%d" % fake.port,
                              ["--spark-version", "3.5.9", "--state-db", db, "--policy", policy])
    try:
        st, _, _ = request(port, "status")   # the schema exists once sparkgate answered
        assert st == 200, st
        con = sqlite3.connect(db)
        with con:
            for i in range(10):
                con.execute("INSERT INTO submissions (id, owner, state, created_ms, cores, memory_mb) "
                            "VALUES (?, '-', 'submitted', ?, 1, 512)",
                            ("driver-20000101000000-%04d" % i, int(time.time() * 1000)))
        con.close()
        fake.set_mode("silent")
        asked_before = len(fake.requests)
        st, js, took = request(port, "create")
        fake.set_mode("ok")
        sent = [m for m, _ in fake.requests[asked_before:]]
        print("     create under a quota, 10 running drivers, silent master: %d in %.2fs (--timeout %d); "
              "master asked %d times: %s" % (st, took, TIMEOUT, len(sent), sorted(set(sent))))
        assert took < TIMEOUT + 1, took
        assert st == 504 and js["action"] == "ErrorResponse", (st, js)
        assert "RequestSubmitDriver" not in sent, sent
    finally:
        fake.close()


@test
def real_master_stopped_with_requests_in_flight():
    s = H.C.s
    p, port = start_sparkgate("sg-real", "spark://127.0.0.1:%d" % s.master_port)
    G.real_proc, G.real_port = p, port
    answers, stop = [], threading.Event()

    def client():
        while not stop.is_set():
            st, js, took = request(port, "status")
            answers.append((st, isinstance(js, dict) and js.get("action"), took))
    threads = [threading.Thread(target=client) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(1)
    s._kill("master", signal.SIGKILL)
    time.sleep(2)
    s.start_master()
    t_back = time.time()
    wait_for("status 200 again", lambda: request(port, "status")[0] == 200, 30, 0.2)
    back = time.time() - t_back
    time.sleep(0.5)
    stop.set()
    for t in threads:
        t.join()
    kinds = {(st, action) for st, action, _ in answers}
    print("     %d requests during stop/restart: %s; 200 again %.1fs after the master answered" % (
        len(answers), sorted(kinds), back))
    assert kinds <= {(200, "SubmissionStatusResponse"), (503, "ErrorResponse"), (504, "ErrorResponse")}, kinds
    assert (200, "SubmissionStatusResponse") in kinds and any(st != 200 for st, _, _ in answers)
    assert max(took for _, _, took in answers) < TIMEOUT + 1.5
    assert p.poll() is None


CHAOS_KEYS = int(os.environ.get("SPARKGATE_CHAOS_KEYS", "40"))
CHAOS_CLIENTS = 4
CHAOS_PAUSE = 0.1               # seconds a client waits between two keys of its own
CHAOS_KILL_EVERY = 0.2          # seconds between SIGKILLs of a random sparkgate process
CHAOS_FAULT_PERCENT = "25"      # creates after which sparkgate kills itself (make faults)


def faults_binary():
    """The test build (make faults) in the world-readable work folder: lighttpd runs it."""
    root = os.path.join(os.path.dirname(__file__), "..", "..")
    subprocess.run(["make", "-s", "-C", root, "faults"], check=True, stdout=subprocess.DEVNULL)
    dst = os.path.join(H.C.work, "bin-faults", "sparkgate")
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    shutil.copy2(os.path.join(root, "build-faults", "sparkgate"), dst)
    os.chmod(os.path.dirname(dst), 0o755)
    return dst


def pids_of(binary):
    pids = []
    for d in os.listdir("/proc"):
        try:
            if d.isdigit() and os.readlink("/proc/%s/exe" % d) == binary:
                pids.append(int(d))
        except OSError:
            pass
    return pids


def master_driver_ids():
    st = H.C.s.master_state()
    return {d["id"] for d in st.get("activedrivers", []) + st.get("completeddrivers", [])}


def chaos(name, state_db, restart_master=False):
    """CHAOS_CLIENTS clients send CHAOS_KEYS creates with their own idempotency keys through
    lighttpd (3 sparkgate processes of the fault build) to the real master, each retrying
    its key on any failure until it gets an id, while a random sparkgate process is
    SIGKILLed every CHAOS_KILL_EVERY s and each process kills itself after a quarter of
    the creates the master accepted, before recording them.  Every key must end with
    one id, the same on every retry, and the master must hold no driver without a key."""
    s = H.C.s
    os.environ["SPARKGATE_FAULT_KILL_AFTER_CREATE"] = CHAOS_FAULT_PERCENT   # lighttpd passes it on
    binary = G.faults_binary = getattr(G, "faults_binary", None) or faults_binary()
    try:
        port = web.lighttpd_fastcgi(s, name=name, procs=3, binary=binary,
                                    extra_args="--state-db %s --timeout %d --master-ui off" % (state_db, TIMEOUT))
    finally:
        del os.environ["SPARKGATE_FAULT_KILL_AFTER_CREATE"]
    auth = ("alice", web.USERS["alice"])
    before = master_driver_ids()
    keys = ["%s-%d-%d" % (name, os.getpid(), i) for i in range(CHAOS_KEYS)]
    ids = {k: set() for k in keys}
    statuses, why, kills, stop = collections.Counter(), collections.Counter(), [0], threading.Event()

    def create(k):
        try:
            st, js, _ = s.http("POST", "/v1/submissions/create", H.create_body("/dev/null"), port=port, auth=auth,
                               headers={"Idempotency-Key": k}, timeout=30)
        except Exception:
            return 0, None
        return st, js

    def client(mine):
        for k in mine:
            give_up = time.time() + 60
            while time.time() < give_up:
                st, js = create(k)
                statuses[st] += 1
                # a 200 with success false is the master's own no (a master restarting answers
                # "only in ALIVE state" before it is elected): nothing made, asked again
                made = st == 200 and js.get("success") is True
                if not made:   # who answered: sparkgate (JSON) or lighttpd (its backend died)
                    why[(st, js.get("message", "")[:70] if isinstance(js, dict) else "web server")] += 1
                else:
                    ids[k].add(js["submissionId"])
                    break
                time.sleep(0.2)
            time.sleep(CHAOS_PAUSE)

    def killer():
        while not stop.wait(CHAOS_KILL_EVERY):
            pids = pids_of(binary)
            if pids:
                try:
                    os.kill(random.choice(pids), signal.SIGKILL)
                    kills[0] += 1
                except ProcessLookupError:
                    pass

    def restarter():
        if not stop.wait(1):
            s._kill("master", signal.SIGKILL)
            time.sleep(1)
            s.start_master()
    t0 = time.time()
    threads = [threading.Thread(target=client, args=(keys[i::CHAOS_CLIENTS],)) for i in range(CHAOS_CLIENTS)]
    threads += [threading.Thread(target=killer)] + ([threading.Thread(target=restarter)] if restart_master else [])
    for t in threads:
        t.start()
    for t in threads[:CHAOS_CLIENTS]:
        t.join()
    stop.set()
    for t in threads[CHAOS_CLIENTS:]:
        t.join()
    took = time.time() - t0
    for k in keys:   # asked again, calmly: the same id
        st, js = create(k)
        if st == 200 and js.get("success") is True:
            ids[k].add(js["submissionId"])
    after = master_driver_ids() - before
    answered = set().union(*ids.values())
    print("     %s: %d keys, %d creates in %.1fs, %d SIGKILLs (+ %s%% after the master's answer); answers %s; "
          "%d new drivers at the master%s" % (name, len(keys), sum(statuses.values()), took, kills[0],
                                             CHAOS_FAULT_PERCENT, dict(sorted(statuses.items())), len(after),
                                             " (restarted mid-run)" if restart_master else ""))
    for (st, msg), n in why.most_common(4):
        print("       %4d x %d %s" % (n, st, msg))
    s._kill(name)
    stuck = [k for k in keys if not ids[k]]
    doubled = {k: v for k, v in ids.items() if len(v) > 1}
    assert not stuck, "keys without an id: %s" % stuck
    assert not doubled, "keys with two ids: %s" % doubled
    assert len(answered) == len(keys), "two keys share an id"
    assert after <= answered, "drivers at the master without a key: %s" % sorted(after - answered)
    if not restart_master:   # (a restarted master without recovery forgot the earlier ones)
        assert after == answered, "ids the master does not have: %s" % sorted(answered - after)
    assert kills[0] > 0


@test
def chaos_sqlite_processes_killed():
    chaos("chaos-sqlite", os.path.join(web.server_dir(H.C.s, "chaos-state"), "sparkgate.db"))


@test
def chaos_postgres_processes_killed_master_restarted():
    G.pg = Postgres(H.C.work)
    G.pg.start()
    # the URI has no password (sparkgate refuses one on its command line): libpq finds it in
    # the password file, which lighttpd and its sparkgates inherit through the environment
    os.environ["PGPASSFILE"] = G.pg.passfile
    if os.getuid() == 0:   # lighttpd drops to www-data
        shutil.chown(G.pg.passfile, "www-data")
    try:
        chaos("chaos-pg", G.pg.url)
        chaos("chaos-pg-restart", G.pg.url, restart_master=True)
    finally:
        G.pg.stop("immediate")


@test
def soak_status_requests_rss_and_descriptors_flat():
    p, port = G.real_proc, G.real_port
    url = "http://127.0.0.1:%d/v1/submissions/status/driver-20000101000000-0000" % port
    samples, total, t0 = [], 0, time.time()
    while total < SOAK_REQUESTS:
        out = subprocess.run(["wrk", "-t2", "-c8", "-d3s", url], stdout=subprocess.PIPE, text=True).stdout
        n = int(re.search(r"(\d+) requests in", out).group(1))
        assert "Non-2xx" not in out and "Socket errors" not in out, out
        total += n
        samples.append((total,) + idle_status(p.pid))
    took = time.time() - t0
    first, last = samples[0], samples[-1]
    print("     %d status requests in %.0fs (%.0f/s); after %d: RSS %d KiB, %d fds; at the end: RSS %d KiB, %d fds" % (
        total, took, total / took, first[0], first[1], first[2], last[1], last[2]))
    assert total >= SOAK_REQUESTS
    assert last[1] - first[1] < 256 and last[2] <= first[2], samples
    assert p.poll() is None


def main():
    H.C.work = tempfile.mkdtemp(prefix="sparkgate-faults-")
    H.C.s = Stack(workdir=H.C.work, rest_reference=False)
    H.C.jar = "/nonexistent.jar"

    def setup():
        t0 = time.time()
        H.C.s.start_master()
        print("master up in %.1fs (logs %s)" % (time.time() - t0, H.C.work), flush=True)
    return SUITE.main(setup, H.C.s.stop)


if __name__ == "__main__":
    sys.exit(main())
