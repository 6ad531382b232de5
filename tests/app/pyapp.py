# The Python driver the tests run on the real worker (through SparkSubmit, as sparkgate
# translates a create whose appResource is a .py).
# Usage: pyapp.py OUT_FILE [fail] [more args...]
# Writes its arguments and some Spark properties (read from the driver JVM, whose system
# properties sparkgate set) to OUT_FILE, one "kind<TAB>key<TAB>value" line each, prints a
# line to stdout and one to stderr; "fail" as the second argument exits 3 afterwards.
import sys

from pyspark import SparkConf, SparkContext

SparkContext._ensure_initialized()   # the gateway SparkSubmit's PythonRunner started
conf = SparkConf()
with open(sys.argv[1], "w") as f:
    for i, a in enumerate(sys.argv):
        f.write("arg\t%d\t%s\n" % (i, a))
    for k in ("spark.app.name", "spark.master", "spark.sg.py", "spark.submit.pyFiles"):
        f.write("prop\t%s\t%s\n" % (k, conf.get(k, "")))
    try:   # a dependency given as spark.submit.pyFiles
        import sgdep
        f.write("dep\tsgdep\t%s\n" % sgdep.VALUE)
    except ImportError as e:
        f.write("dep\tsgdep\tmissing: %s\n" % e)
print("pyapp stdout: " + " ".join(sys.argv[1:]))
print("pyapp stderr", file=sys.stderr)
if len(sys.argv) > 2 and sys.argv[2] == "fail":
    sys.exit(3)
