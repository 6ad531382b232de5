"""The differential corpus: requests sent both to sparkgate and to Spark's own REST server
on the same real master (tests/it/test_diff.py).

Each case is (name, method, path, body, options):
  body     None, bytes (sent as is), a dict/list (sent as JSON), or "create:CHANGES" where
           CHANGES names a variant of a valid create request (see VARIANTS)
  options  "valid": a create that must succeed (the driver is then killed on both sides);
           "spark4"/"spark35": only for that Spark line; "last": changes the master's
           state (killall, clear), so runs after everything else;
           "differs: REASON": a listed difference (README "Differences");
           "differs-strict-decoding: REASON" only where Spark's server fails on a malformed
           UTF-8 byte (up to 4.2), "differs-no-depth-limit: REASON" only where its Jackson
           has no nesting limit (3.3, 3.4), "differs-no-module-options: REASON" only where its
           server gives drivers no JavaModuleOptions (3.x): the build's
           tests/golden/.../rest-rules.txt; "differs-placeholders: REASON" only on Spark 4
           masters, whose server replaces "{{NAME}}" values from its environment
           (sparkgate's --env-placeholders is none)."""

JSON = "application/json"

# A valid create is built by the test (it needs the test app's jar); variants change it.
# Each variant: dict of sparkProperties changes (None removes), or special strings.
VARIANTS = {
    "plain": {},
    "cores-64": {"spark.driver.cores": "64"},
    "memory-512": {"spark.driver.memory": "512"},
    "memory-1g": {"spark.driver.memory": "1g"},
    "memory-0": {"spark.driver.memory": "0"},
    "supervise-true": {"spark.driver.supervise": "true"},
    "supervise-TRUE": {"spark.driver.supervise": "TRUE"},
    "supervise-yes": {"spark.driver.supervise": "yes"},
    "cores-two": {"spark.driver.cores": "two"},
    "cores-1.5": {"spark.driver.cores": "1.5"},
    "cores-max-x": {"spark.cores.max": "x"},
    "memory-1.5g": {"spark.driver.memory": "1.5g"},
    "memory-lots": {"spark.executor.memory": "lots"},
    "memory-placeholder": {"spark.driver.memory": "{{SG_DIFF_MEM}}"},
    "no-app-name": {"spark.app.name": None},
    "gpu-1.5": {"spark.driver.resource.gpu.amount": "1.5"},
    "gpu-x": {"spark.driver.resource.gpu.amount": "x"},
    "gpu-2": {"spark.driver.resource.gpu.amount": "2"},
    "java-opts": {"spark.driver.extraJavaOptions": "-Dsg.x=\"a b\" -Dsg.y='c d'  -Dsg.z=e",
                  "spark.driver.defaultJavaOptions": "-Dd=1"},
    "class-path": {"spark.driver.extraClassPath": "/a:/b", "spark.driver.extraLibraryPath": "/c"},
    "spark-master": {"spark.master": "spark://127.0.0.1:6066,127.0.0.1:6066"},
    "many-props": dict(("sg.p%03d" % i, "v%d" % i) for i in range(300)),
    "unicode-props": {"sg.ünï": "ça va ✓ 𝄞", "sg.empty": ""},
    "placeholder-prop": {"sg.placed": "{{SG_DIFF_VALUE}}"},
    # drivers that end badly (run on both sides; the final status answers are compared)
    "missing-jar": ("appResource", "file:/nonexistent/sparkgate-diff-app.jar"),   # ERROR
    "exit-code-3": ("exit", "3"),                                                 # FAILED
    # an application that uses Spark (tests/app/SparkJob.java: a SparkContext, a shuffle on
    # an executor), its jar in spark.jars: FINISHED through sparkgate on every build; through
    # Spark's own server only from 4.0 (see VARIANT_NOTES)
    "spark-job": ("job",),
    # top-level changes
    "no-main-class": "-mainClass",
    "no-app-resource": "-appResource",
    "no-app-args": "-appArgs",
    "no-env": "-environmentVariables",
    "no-props": "-sparkProperties",
    "no-client-version": "-clientSparkVersion",
    "no-action": "-action",
    "empty-main-class": ("mainClass", ""),
    "main-class-number": ("mainClass", 5),
    "resource-object": ("appResource", {}),
    "args-string": ("appArgs", "notalist"),
    "args-mixed": ("appArgs", [1, True, None, "x"]),
    "props-array": ("sparkProperties", []),
    "props-number": ("sparkProperties", {"sg.n": 1, "sg.b": True}),
    "props-null-value": ("sparkProperties", {"spark.app.name": "a", "sg.null": None}),
    "env-bool": ("environmentVariables", {"SG_A": True}),
    "env-null": ("environmentVariables", {"SG_A": None}),
    "env-local-ip": ("environmentVariables", {"SPARK_LOCAL_IP": "10.1.1.1", "SG_OK": "1"}),
    "env-placeholder": ("environmentVariables", {"SG_PLACED": "{{SG_DIFF_VALUE}}"}),
    "version-number": ("clientSparkVersion", 3.5),
    "unknown-fields": ("+", {"foo": 1, "bar": {"x": [1, 2]}}),
    "long-arg": ("appArgs", ["x" * 200000]),
    "many-args": ("appArgs", ["a%d" % i for i in range(2000)]),
    "wrong-action": ("action", "KillSubmissionRequest"),
    "unknown-action": ("action", "NoSuchMessage"),
    "error-action": ("action", "ErrorResponse"),
}

# Where Spark's servlet lets an exception escape, Jetty answers with an HTML 500 page;
# sparkgate answers 400 with the same exception text as Spark-shaped JSON.
SPARK500 = "differs: Spark fails with an HTML 500 page, sparkgate answers 400 JSON"
# Spark up to 4.2 fails to decode a body that is not UTF-8 (HTML 500); 4.3 replaces the bytes
# with U+FFFD, and so does sparkgate for 4.3 masters.
STRICT_DECODING_500 = "differs-strict-decoding: Spark fails to decode it with an HTML 500 page, sparkgate answers 400 JSON"

# README "Differences": sparkgate's environment is the web server's, not the master's.
PLACEHOLDERS_OFF = ("differs-placeholders: {{NAME}} placeholders are off by default (--env-placeholders none): "
                    "Spark 4's server reads the master's environment, sparkgate's would be the web server's")

VARIANT_NOTES = {
    "placeholder-prop": PLACEHOLDERS_OFF,
    "env-placeholder": PLACEHOLDERS_OFF,
    "args-mixed": "differs: a null in appArgs: Spark starts a driver with a null argument, sparkgate refuses (400)",
    "props-null-value": SPARK500,
    "cores-1.5": SPARK500,
    "gpu-1.5": SPARK500,
    "gpu-x": SPARK500,
    "env-null": "differs: a null environment value: Spark accepts it, sparkgate refuses (400)",
    "spark-master": "differs: the driver's spark.master is sparkgate's --master list, not the client's",
    "wrong-action": SPARK500,
    "unknown-action": SPARK500,
    "spark-job": "differs-no-module-options: a driver that starts a SparkContext on Java 17: Spark 3's server "
                 "gives it no JavaModuleOptions and it fails (IllegalAccessError, sun.nio.ch.DirectBuffer); "
                 "sparkgate gives them, as Spark 4's server does, and it runs",
}

CASES = [
    # -- paths and methods ---------------------------------------------------------------
    ("status unknown id", "GET", "/v1/submissions/status/driver-20000101000000-0000", None, ""),
    ("kill unknown id", "POST", "/v1/submissions/kill/driver-20000101000000-0000", b"", ""),
    ("status odd id", "GET", "/v1/submissions/status/not-a-driver", None, ""),
    ("status id with space", "GET", "/v1/submissions/status/driver%20x", None, ""),
    ("status extra segments", "GET", "/v1/submissions/status/driver-1/extra", None, ""),
    ("status with query", "GET", "/v1/submissions/status/driver-1?x=1", None, ""),
    ("kill without id", "POST", "/v1/submissions/kill", b"", ""),
    ("kill slash no id", "POST", "/v1/submissions/kill/", b"", ""),
    ("kill with body", "POST", "/v1/submissions/kill/driver-1", b'{"x":1}', ""),
    ("status without id", "GET", "/v1/submissions/status", None, ""),
    ("status slash no id", "GET", "/v1/submissions/status/", None, ""),
    ("root", "GET", "/", None, ""),
    ("v1", "GET", "/v1", None, ""),
    ("v1 slash", "GET", "/v1/", None, ""),
    ("submissions", "GET", "/v1/submissions", None, ""),
    ("submissions slash", "GET", "/v1/submissions/", None, ""),
    ("unknown action", "GET", "/v1/submissions/bogus", None, ""),
    ("createX", "POST", "/v1/submissions/createX", b"{}", ""),
    ("v2 status", "GET", "/v2/submissions/status/x", None, ""),
    ("v2 create", "POST", "/v2/submissions/create", b"{}", ""),
    ("v0 deep", "POST", "/v0/a/b/c", b"", ""),
    ("other path", "GET", "/v1/foo", None, ""),
    ("favicon", "GET", "/favicon.ico", None, ""),
    ("error path any method", "DELETE", "/v1/nothing", None, ""),
    ("readyz", "GET", "/v1/submissions/readyz", None, ""),
    ("readyz POST", "POST", "/v1/submissions/readyz", b"", "differs: wrong method"),
    ("killall GET", "GET", "/v1/submissions/killall", None, "differs: wrong method"),
    ("create GET", "GET", "/v1/submissions/create", None, "differs: wrong method"),
    ("create PUT", "PUT", "/v1/submissions/create", b"{}", "differs: wrong method"),
    ("status POST", "POST", "/v1/submissions/status/driver-1", b"", "differs: wrong method"),
    ("kill GET", "GET", "/v1/submissions/kill/driver-1", None, "differs: wrong method"),
    ("status DELETE", "DELETE", "/v1/submissions/status/driver-1", None, "differs: wrong method"),
    ("status HEAD", "HEAD", "/v1/submissions/status/driver-20000101000000-0000", None, ""),
    # -- create: bodies that are not a request ----------------------------------------
    ("empty body", "POST", "/v1/submissions/create", b"", ""),
    ("blank body", "POST", "/v1/submissions/create", b"  \n", ""),
    ("truncated JSON", "POST", "/v1/submissions/create", b'{"action": "CreateSubmissionRequest"', ""),
    ("array", "POST", "/v1/submissions/create", b"[1, 2]", ""),
    ("null", "POST", "/v1/submissions/create", b"null", ""),
    ("string", "POST", "/v1/submissions/create", b'"x"', ""),
    ("number", "POST", "/v1/submissions/create", b"42", ""),
    ("no action", "POST", "/v1/submissions/create", b'{"appResource": "x"}', ""),
    ("action number", "POST", "/v1/submissions/create", b'{"action": 5}', ""),
    ("action null", "POST", "/v1/submissions/create", b'{"action": null}', ""),
    ("only action", "POST", "/v1/submissions/create", b'{"action": "CreateSubmissionRequest"}', ""),
    ("response as request", "POST", "/v1/submissions/create",
     {"action": "KillSubmissionResponse", "serverSparkVersion": "1", "submissionId": "x", "success": True}, ""),
    ("bare response action", "POST", "/v1/submissions/create", {"action": "KillSubmissionResponse"}, ""),
    ("non-UTF-8 in string", "POST", "/v1/submissions/create",
     b'{"action": "CreateSubmissionRequest", "appResource": "\xff\xfe", "mainClass": "M"}', STRICT_DECODING_500),
    ("non-UTF-8 garbage", "POST", "/v1/submissions/create", b"\xff\xfe\xfd", STRICT_DECODING_500),
    ("lone surrogate", "POST", "/v1/submissions/create",
     b'{"action": "CreateSubmissionRequest", "appResource": "\\ud800", "clientSparkVersion": "3"}',
     "differs: sparkgate refuses a lone UTF-16 surrogate escape"),
    ("trailing garbage", "POST", "/v1/submissions/create", b'{"action": "CreateSubmissionRequest"} xyz', ""),
    ("two objects", "POST", "/v1/submissions/create", b'{"action": "X"}{"action": "Y"}', SPARK500),
    ("comment", "POST", "/v1/submissions/create", b'{/* c */ "action": "CreateSubmissionRequest"}', ""),
    ("trailing comma", "POST", "/v1/submissions/create", b'{"action": "CreateSubmissionRequest",}', ""),
    ("single quotes", "POST", "/v1/submissions/create", b"{'action': 'CreateSubmissionRequest'}", ""),
    ("NaN", "POST", "/v1/submissions/create", b'{"action": "CreateSubmissionRequest", "x": NaN}', ""),
    ("BOM", "POST", "/v1/submissions/create", b'\xef\xbb\xbf{"action": "CreateSubmissionRequest"}', ""),
    ("duplicate action", "POST", "/v1/submissions/create",
     b'{"action": "KillSubmissionResponse", "action": "CreateSubmissionRequest"}',
     "differs: a repeated key: Spark dispatches on the first action, sparkgate on the last"),
    ("deep unknown field", "POST", "/v1/submissions/create",
     b'{"action": "CreateSubmissionRequest", "x": ' + b"[" * 200 + b"]" * 200 + b"}", ""),
    ("nesting depth 1000", "POST", "/v1/submissions/create",
     b'{"action": "CreateSubmissionRequest", "x": ' + b"[" * 999 + b"]" * 999 + b"}", ""),
    ("nesting depth 1001", "POST", "/v1/submissions/create",
     b'{"action": "CreateSubmissionRequest", "x": ' + b"[" * 1000 + b"]" * 1000 + b"}", ""),
    ("nesting depth 5000", "POST", "/v1/submissions/create", b"[" * 5000 + b"]" * 5000,
     "differs-no-depth-limit: sparkgate refuses nesting deeper than 2000 (its parser's limit); this Jackson has none"),
    ("huge body", "POST", "/v1/submissions/create", b'{"action": "x", "pad": "' + b"p" * (2 << 20) + b'"}',
     "differs: sparkgate's --max-body limit"),
    # -- create: variants of a valid request -------------------------------------------
] + [("create " + v, "POST", "/v1/submissions/create", "create:" + v, VARIANT_NOTES.get(v, "")) for v in VARIANTS] + [
    # -- Spark 4 endpoints that change the master's state: after everything else --------
    ("clear", "POST", "/v1/submissions/clear", b"", "last"),
    ("killall", "POST", "/v1/submissions/killall", b"", "last"),
]
