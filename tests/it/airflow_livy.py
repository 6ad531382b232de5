"""Airflow's Livy client, unchanged, for the Livy tests: a child process (Airflow and its ~140
packages stay out of the test's own interpreter) that answers one JSON request per line of
stdin with one JSON line on its stdout, each request a call of the real LivyHook or a run of
the real LivyOperator:

  {"conn": ID, "hook": METHOD, "args": [...], "kwargs": {...}}   LivyHook(livy_conn_id=ID).METHOD(...)
  {"conn": ID, "poll": BATCH, "timeout": S}    the hook's get_batch_state until a terminal state
  {"conn": ID, "operator": {...LivyOperator's arguments}}        LivyOperator(...).execute(context)

Answers: {"result": ...} (a BatchState as its value), or {"error": CLASS, "message": TEXT}.
The connections come from the environment (AIRFLOW_CONN_<ID>, Airflow's own way), AIRFLOW_HOME
is a temporary folder: no Airflow database.  Run by tests/it/test_tenants.py with PYTHONPATH
naming tools/setup.sh's install ($SPARKGATE_CACHE/py-airflow-*-livy-*)."""
import json
import os
import sys
import time

out = os.fdopen(os.dup(sys.stdout.fileno()), "w")
os.dup2(sys.stderr.fileno(), sys.stdout.fileno())   # whatever Airflow prints goes to stderr

from airflow.providers.apache.livy.hooks.livy import BatchState, LivyHook  # noqa: E402
from airflow.providers.apache.livy.operators.livy import LivyOperator  # noqa: E402


class TaskInstance:
    """What LivyOperator.execute uses of a task instance: xcom_push (app_id)."""
    def __init__(self):
        self.xcom = {}
        self.stats_tags = {}

    def xcom_push(self, key, value):
        self.xcom[key] = value


def plain(x):
    return x.value if isinstance(x, BatchState) else x


def serve(req):
    conn = req["conn"]
    if "hook" in req:
        hook = LivyHook(livy_conn_id=conn)
        return {"result": plain(getattr(hook, req["hook"])(*req.get("args", []), **req.get("kwargs", {})))}
    if "poll" in req:
        hook = LivyHook(livy_conn_id=conn)
        deadline = time.time() + req.get("timeout", 120)
        seen = []
        while True:
            state = hook.get_batch_state(req["poll"])
            if not seen or seen[-1] != state.value:
                seen.append(state.value)
            if state in hook.TERMINAL_STATES or time.time() > deadline:
                return {"result": state.value, "seen": seen}
            time.sleep(0.5)
    ti = TaskInstance()
    op = LivyOperator(task_id="sparkgate", livy_conn_id=conn, **req["operator"])
    try:
        result = op.execute({"ti": ti})
    except Exception as e:
        return {"error": type(e).__name__, "message": str(e), "batch": op._batch_id, "xcom": ti.xcom}
    return {"result": result, "xcom": ti.xcom}


for line in sys.stdin:
    try:
        answer = serve(json.loads(line))
    except Exception as e:
        answer = {"error": type(e).__name__, "message": str(e)}
    out.write(json.dumps(answer) + "\n")
    out.flush()
