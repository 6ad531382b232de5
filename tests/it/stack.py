"""The integration tests' stack: the shipped one (deploy/sparkstack.py: master, worker,
processes, HTTP) plus the tests' open web server (tests/it/lighttpd-open.conf, lighttpd
spawning sparkgate without a login)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "deploy"))
import sparkstack  # noqa: E402
from sparkstack import (DEFAULT_BUILD, ROOT, SPARK_DEFAULT_REST_PORT, free_port, spark_home,  # noqa: E402,F401
                        supported_builds, wait_for)


class Stack(sparkstack.Stack):
    def lighttpd_env(self):
        return {"SPARKGATE_HTTP_HOST": "127.0.0.1", "SPARKGATE_HTTP_PORT": str(self.http_port),
                "SPARKGATE_BIN": self.sparkgate,
                "SPARKGATE_MASTER": self.sparkgate_master or "spark://127.0.0.1:%d" % self.master_port,
                "SPARKGATE_ARGS": ("--timeout 5 --connect-timeout 2 --anonymous allow --log-level debug " +
                               self.sparkgate_args).strip(),
                "SPARKGATE_RUNDIR": self.work}

    def start_web(self):
        self._start("lighttpd", ["lighttpd", "-D", "-f", os.path.join(ROOT, "tests", "it", "lighttpd-open.conf")],
                    self.lighttpd_env())
        wait_for("lighttpd", lambda: self.http("GET", "/v1/submissions/status/none", timeout=5)[0] in (200, 503, 504), 30)

    def start(self):
        self.start_master()
        self.start_worker()
        self.start_web()
        return self
