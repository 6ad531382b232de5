"""Two gateway hosts sharing one PostgreSQL (--state-db postgresql://...): a real PostgreSQL
(Debian's server, a cluster made with initdb in the test's folder, run as an unprivileged
user on a loopback port), two complete stacks (the shipped lighttpd.conf with two
sparkgate processes each, the shipped policy with quotas) and one real master and worker.
The same idempotency key sent to both hosts at once starts one driver; a driver created on
host A is invisible to another user on host B and killable by its owner there; a quota
counts drivers from both hosts; the database stopped mid-run gives JSON 503s (and /readyz
says so), then recovery when it is back, with nothing lost or doubled; an earlier schema is
upgraded on first use; the password (the database asks for one) never shows on a command
line: host A finds it in libpq's password file, host B reads its URI from --state-db-file,
and a URI carrying it on the command line is refused.  Ends with "postgres: N passed, N failed"."""
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
import harness as H  # noqa: E402  (its helpers work on H.C: the stack, work dir, app jar)
import web  # noqa: E402
from pg import Postgres, bindir  # noqa: E402
from runner import Suite  # noqa: E402
from stack import Stack, wait_for  # noqa: E402

SUITE = Suite("postgres")
test = SUITE.test
RULES = """
allow property spark.sgpg.*
quota user * drivers 100
quota user carol drivers 1
"""


class T:
    pg = None
    a = b = None   # the two hosts' ports


def user(name):
    return (name, web.USERS[name])


def http(port, who, method, path, body=None, headers=None):
    return H.C.s.http(method, path, body, port=port, auth=user(who), headers=headers)


def create(port, who, tag, sleep=0, headers=None):
    body = H.create_body(os.path.join(H.C.work, "%s-%s.txt" % (who, tag)), sleep, 0,
                         props={"spark.app.name": "pg-%s" % tag})
    return http(port, who, "POST", "/v1/submissions/create", body, headers)


def driver_ids():
    st = H.C.s.master_state()
    return sorted(d["id"] for d in st["activedrivers"] + st["completeddrivers"])


def start_hosts():
    s = H.C.s
    policy = web.shipped_policy(os.path.join(H.C.work, "policy.conf"), os.path.dirname(H.C.jar), RULES)
    # host A: the URI without a password, libpq finds it in PGPASSFILE (set for the whole
    # test, so inherited by lighttpd and its sparkgates); host B: the URI with its password,
    # from a file only its user can read (--state-db-file)
    T.db_file = os.path.join(H.C.work, "host-b-state-db")
    with open(os.open(T.db_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
        f.write(T.pg.url.replace("sparkgate@", "sparkgate:%s@" % T.pg.password) + "\n")
    if os.getuid() == 0:   # the web server's user (lighttpd drops to www-data) reads both
        for path in (T.db_file, T.pg.passfile):
            shutil.chown(path, "www-data")
    rest = "--policy %s --master-ui http://127.0.0.1:%d" % (policy, s.master_ui)
    T.a = web.lighttpd_fastcgi(s, name="host-a", extra_args="--state-db %s %s" % (T.pg.url, rest))
    T.b = web.lighttpd_fastcgi(s, name="host-b", extra_args="--state-db-file %s %s" % (T.db_file, rest))


@test
def one_key_sent_to_both_hosts_at_once_starts_one_driver():
    for round_ in range(3):
        key = "pg-key-%d-%d" % (round_, time.time())
        before = driver_ids()
        answers = [None, None]
        go = threading.Barrier(2)

        def send(i, port):
            go.wait()
            answers[i] = create(port, "alice", "idem%d" % round_, headers={"Idempotency-Key": key})
        threads = [threading.Thread(target=send, args=(i, p)) for i, p in enumerate((T.a, T.b))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        new = sorted(set(driver_ids()) - set(before))
        assert len(new) == 1, (round_, new, answers)
        ok = [js for st, js, _ in answers if st == 200]
        assert ok and all(js["submissionId"] == new[0] for js in ok), answers
        assert all(st in (200, 409) for st, _, _ in answers), answers   # 409: the other is in flight
        # and afterwards, on either host: the same driver, nothing new
        for port in (T.a, T.b):
            st, js, _ = create(port, "alice", "idem%d" % round_, headers={"Idempotency-Key": key})
            assert st == 200 and js["submissionId"] == new[0], js
        assert sorted(set(driver_ids()) - set(before)) == new


@test
def a_driver_made_on_a_is_its_owners_on_b():
    st, js, _ = create(T.a, "alice", "owned", sleep=60)
    assert st == 200, js
    sid = js["submissionId"]
    st, theirs, _ = http(T.b, "bob", "GET", "/v1/submissions/status/" + sid)
    st2, none, _ = http(T.b, "bob", "GET", "/v1/submissions/status/driver-20000101000000-0000")
    assert theirs == dict(none, submissionId=sid) and theirs["success"] is False, (theirs, none)
    st, k, _ = http(T.b, "bob", "POST", "/v1/submissions/kill/" + sid, b"")
    assert k["success"] is False, k
    st, listed, _ = http(T.b, "alice", "GET", "/v1/submissions")
    assert sid in [d["submissionId"] for d in listed["submissions"]], listed
    st, k, _ = http(T.b, "alice", "POST", "/v1/submissions/kill/" + sid, b"")
    assert st == 200 and k["success"] is True, k
    H.C.s.auth = user("alice")
    assert H.wait_state(sid, ("KILLED",), port=T.a)["driverState"] == "KILLED"


@test
def a_quota_counts_drivers_from_both_hosts():
    st, js, _ = create(T.a, "carol", "q1", sleep=60)
    assert st == 200, js
    st, js2, _ = create(T.b, "carol", "q2", sleep=60)
    assert st == 403 and "quota" in js2["message"], js2
    http(T.a, "carol", "POST", "/v1/submissions/kill/" + js["submissionId"], b"")
    H.C.s.auth = user("carol")
    H.wait_state(js["submissionId"], ("KILLED",), port=T.b)


@test
def the_database_down_gives_json_503_then_recovers_with_nothing_lost():
    st, listed_before, _ = http(T.a, "alice", "GET", "/v1/submissions")
    before = driver_ids()
    T.pg.stop()
    try:
        for port in (T.a, T.b):
            st, js, _ = create(port, "alice", "while-down")
            assert st == 503 and js["action"] == "ErrorResponse" and "state database" in js["message"], (port, st, js)
            st, js, _ = http(port, "alice", "GET", "/v1/submissions")
            assert st == 503 and "state database" in js["message"], (st, js)
            st, js, _ = http(port, "alice", "GET", "/v1/submissions/status/" + listed_before["submissions"][0]["submissionId"])
            assert st == 503 and js["action"] == "ErrorResponse", (st, js)
            st, text, _ = H.C.s.http("GET", "/readyz", port=port)
            assert st == 503 and "PostgreSQL" in text["store"], text
        assert driver_ids() == before, "a create reached the master while its owner could not be recorded"
    finally:
        T.pg.start()
    for port in (T.a, T.b):   # the same processes reconnect by themselves
        st, js, _ = create(port, "alice", "after")
        assert st == 200, (port, st, js)
        wait_for("ready on %d" % port, lambda: H.C.s.http("GET", "/readyz", port=port)[0] == 200, 30)
    st, listed, _ = http(T.b, "alice", "GET", "/v1/submissions")
    ids = [d["submissionId"] for d in listed["submissions"]]
    assert all(d["submissionId"] in ids for d in listed_before["submissions"]), (listed_before, listed)
    assert len(set(driver_ids()) - set(before)) == 2, "one driver per create after recovery"
    assert len(ids) == len(set(ids))


@test
def an_earlier_schema_is_upgraded_on_first_use():
    T.pg.psql("CREATE DATABASE old")
    url = T.pg.url.rsplit("/", 1)[0] + "/old"
    old = ("CREATE TABLE submissions (row BIGSERIAL PRIMARY KEY, id TEXT UNIQUE, owner TEXT NOT NULL, idem_key TEXT, "
           "state TEXT NOT NULL, created_ms BIGINT NOT NULL, app_name TEXT, main_class TEXT, cores INTEGER NOT NULL "
           "DEFAULT 0, memory_mb INTEGER NOT NULL DEFAULT 0, finished INTEGER NOT NULL DEFAULT 0, "
           "UNIQUE (owner, idem_key)); INSERT INTO submissions (id, owner, state, created_ms, app_name) VALUES "
           "('driver-20200101000000-0001', 'alice', 'submitted', 1577836800000, 'from-before')")
    subprocess.run([os.path.join(bindir(), "psql"), "-X", "-q", "-h", "127.0.0.1", "-p",
                    str(T.pg.port), "-U", "sparkgate", "-d", "old", "-c", old], check=True, env=T.pg.env())
    env = {"REQUEST_METHOD": "GET", "REQUEST_URI": "/v1/submissions", "SERVER_PROTOCOL": "HTTP/1.1",
           "REMOTE_USER": "alice", "PATH": os.environ["PATH"], "PGPASSFILE": T.pg.passfile}
    p = subprocess.run([H.C.s.sparkgate, "--master", "spark://127.0.0.1:%d" % H.C.s.master_port, "--state-db", url,
                        "--master-ui", "off"], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=30)
    assert p.stdout.startswith("Status: 200") and "from-before" in p.stdout, (p.stdout, p.stderr)
    cols = subprocess.run([os.path.join(bindir(), "psql"), "-X", "-A", "-t", "-h", "127.0.0.1",
                           "-p", str(T.pg.port), "-U", "sparkgate", "-d", "old", "-c",
                           "SELECT column_name FROM information_schema.columns WHERE table_name = 'submissions'"],
                          check=True, stdout=subprocess.PIPE, text=True, env=T.pg.env()).stdout.split()
    assert "running_ms" in cols and "ended_ms" in cols, cols
    assert "NOTICE" not in p.stderr, p.stderr


def cgi_list(*args, passfile=True):
    env = {"REQUEST_METHOD": "GET", "REQUEST_URI": "/v1/submissions", "SERVER_PROTOCOL": "HTTP/1.1",
           "REMOTE_USER": "alice", "PATH": os.environ["PATH"]}
    if passfile:
        env["PGPASSFILE"] = T.pg.passfile
    return subprocess.run([H.C.s.sparkgate, "--master", "spark://127.0.0.1:%d" % H.C.s.master_port, "--master-ui", "off"]
                          + list(args), env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=30)


@test
def the_password_stays_off_the_command_line():
    """The database asks for a password (SCRAM): a URI carrying it on the command line is
    refused before anything starts; libpq's password file and --state-db-file (0600 only)
    work; ps shows the password nowhere, while both hosts serve."""
    with_pw = T.pg.url.replace("sparkgate@", "sparkgate:%s@" % T.pg.password)
    for target in (with_pw, T.pg.url + "?password=" + T.pg.password,
                   "host=127.0.0.1 port=%d dbname=postgres user=sparkgate password=%s" % (T.pg.port, T.pg.password)):
        p = cgi_list("--state-db", target)
        assert p.returncode == 2 and not p.stdout and "carries a password" in p.stderr and "PGPASSFILE" in p.stderr \
            and "--state-db-file" in p.stderr and T.pg.password not in p.stderr, (p.returncode, p.stdout, p.stderr)
    p = cgi_list("--state-db", T.pg.url, passfile=False)   # the password is needed: without it, 503
    assert p.stdout.startswith("Status: 503"), p.stdout
    p = cgi_list("--state-db", T.pg.url)                    # libpq's password file
    assert p.stdout.startswith("Status: 200"), (p.stdout, p.stderr)
    p = cgi_list("--state-db", "host=127.0.0.1 port=%d dbname=postgres user=sparkgate" % T.pg.port)
    assert p.stdout.startswith("Status: 200"), (p.stdout, p.stderr)   # a connection string too
    p = cgi_list("--state-db-file", T.db_file, passfile=False)
    assert p.stdout.startswith("Status: 200"), (p.stdout, p.stderr)
    loose = os.path.join(H.C.work, "loose-state-db")
    with open(loose, "w") as f:
        f.write(with_pw)
    os.chmod(loose, 0o640)
    p = cgi_list("--state-db-file", loose, passfile=False)
    assert p.returncode == 2 and "chmod 600" in p.stderr, (p.returncode, p.stderr)
    # both hosts serve, and no process shows the password
    for port in (T.a, T.b):
        assert http(port, "alice", "GET", "/v1/submissions")[0] == 200
    ps = subprocess.run(["ps", "-eww", "-o", "args"], stdout=subprocess.PIPE, text=True).stdout
    gates = [l for l in ps.splitlines() if "--state-db" in l]
    assert len(gates) >= 4 and T.pg.password not in ps, gates
    assert any("--state-db-file " + T.db_file in l for l in gates), gates


def main():
    H.C.work = tempfile.mkdtemp(prefix="sparkgate-postgres-")
    H.C.s = Stack(workdir=H.C.work, rest_reference=False)

    def setup():
        t0 = time.time()
        T.pg = Postgres(H.C.work)
        os.environ["PGPASSFILE"] = T.pg.passfile   # lighttpd and its sparkgates inherit it
        T.pg.start()
        H.start_cluster()
        start_hosts()
        print("stack up in %.1fs (logs %s, PostgreSQL %s)" % (time.time() - t0, H.C.work, T.pg.url), flush=True)

    def teardown():
        H.C.s.stop()
        if T.pg:
            try:
                T.pg.stop("immediate")
            except Exception:
                pass
    return SUITE.main(setup, teardown)


if __name__ == "__main__":
    sys.exit(main())
