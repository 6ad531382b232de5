"""High availability with real ZooKeeper (Debian package) and two real masters in
ZOOKEEPER recovery mode.  sparkgate is given the STANDBY master first, so every request
also proves a standby's refusal moves on to the leader.  The leader is then killed
(SIGKILL) mid-test; through the same sparkgate process, create/status/kill keep working
once the standby has taken over, and a driver started before the failover is still found.
Ends with "ha: N passed, N failed"."""
import os
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import harness as H  # noqa: E402  (its helpers work on H.C: the stack, work dir, app jar)
from runner import Suite  # noqa: E402
from stack import Stack, free_port, wait_for  # noqa: E402

SUITE = Suite("ha")

ZK_SCRIPT = "/usr/share/zookeeper/bin/zkServer.sh"


def start_zookeeper(s):
    port = free_port()
    data = os.path.join(s.work, "zk-data")
    os.makedirs(data, exist_ok=True)
    cfg = os.path.join(s.work, "zoo.cfg")
    with open(cfg, "w") as f:
        # Spark asks for a 60 s session; the server caps it, so a dead leader's election
        # lock goes away within seconds instead of a minute.
        f.write("tickTime=500\ndataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\n"
                "minSessionTimeout=1000\nmaxSessionTimeout=3000\nadmin.enableServer=false\n" % (data, port))
    s._start("zookeeper", [ZK_SCRIPT, "start-foreground", cfg],
             {"ZOOCFGDIR": s.work, "ZOO_LOG_DIR": s.work, "ZOO_LOG4J_PROP": "WARN,CONSOLE"})

    def up():
        import socket
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    wait_for("zookeeper", up, 30)
    return port


def status_of(ui, s):
    return s.master_state(ui).get("status")


def main():
    t0 = time.time()
    work = tempfile.mkdtemp(prefix="sparkgate-ha-")
    s = Stack(workdir=work, rest_reference=False)
    H.C.s, H.C.work = s, work
    check = SUITE.check

    try:
        H.C.jar = H.build_app(work)
        zk = start_zookeeper(s)
        props = {"spark.deploy.recoveryMode": "ZOOKEEPER", "spark.deploy.zookeeper.url": "127.0.0.1:%d" % zk,
                 "spark.deploy.zookeeper.dir": "/spark-ha-test"}
        m1, ui1 = s.master_port, s.master_ui
        m2, ui2 = free_port(), free_port()
        s.start_master("master", m1, ui1, props)
        wait_for("master 1 ALIVE", lambda: status_of(ui1, s) == "ALIVE", 60)
        s.start_master("master2", m2, ui2, props)
        wait_for("master 2 STANDBY", lambda: status_of(ui2, s) == "STANDBY", 60)
        both = "spark://127.0.0.1:%d,127.0.0.1:%d" % (m1, m2)
        s.worker_masters = both
        s.sparkgate_master = "spark://127.0.0.1:%d,127.0.0.1:%d" % (m2, m1)   # standby first
        s.start_worker()
        s.start_web()
        print("HA stack up in %.1fs (zookeeper %d, masters %d ALIVE / %d STANDBY, logs %s)"
              % (time.time() - t0, zk, m1, m2, work), flush=True)
        state = {}

        def before_failover():
            state["long"] = H.submit(H.create_body(os.path.join(work, "long.txt"), 300, 0))
            H.wait_state(state["long"], ("RUNNING",))
            sid = H.submit(H.create_body(os.path.join(work, "short.txt"), 0, 0))
            assert H.wait_state(sid, H.FINAL)["driverState"] == "FINISHED", H.C.last_status
        check("standby_refusal_moves_to_the_leader", before_failover)

        def failover():
            s._kill("master", signal.SIGKILL)
            t = time.time()
            sid = None
            attempts = []
            while time.time() - t < 120 and not sid:
                st, js, _ = s.http("POST", "/v1/submissions/create",
                                   H.create_body(os.path.join(work, "after.txt"), 0, 0), timeout=30)
                attempts.append((st, (js.get("message") or "")[:60] if isinstance(js, dict) else js))
                if st == 200 and js.get("success"):
                    sid = js["submissionId"]
                else:
                    time.sleep(0.5)
            took = time.time() - t
            assert sid, attempts[-5:]
            print("     failover: first successful create %.1fs after the leader was killed (%d attempts: %s)"
                  % (took, len(attempts), sorted(set(a[0] for a in attempts))), flush=True)
            assert status_of(ui2, s) == "ALIVE"
            assert H.wait_state(sid, H.FINAL)["driverState"] == "FINISHED", H.C.last_status
        check("leader_killed_standby_takes_over", failover)

        def survivors():
            js = H.wait_state(state["long"], ("RUNNING",), timeout=60)
            assert js["success"] is True, js
            st, js, _ = s.http("POST", "/v1/submissions/kill/" + state["long"], b"")
            assert st == 200 and js["success"] is True, (st, js)
            assert H.wait_state(state["long"], H.FINAL)["driverState"] == "KILLED", H.C.last_status
        check("driver_from_before_failover_found_and_killed", survivors)
    except Exception:
        SUITE.setup_failed("HA stack setup")
    finally:
        s.stop()
    return SUITE.finish()


if __name__ == "__main__":
    sys.exit(main())
