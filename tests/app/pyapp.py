# The Python driver the tests run on the real worker (through SparkSubmit, as sparkgate
# translates a create whose appResource is a .py): a PySpark application that uses Spark.
# Usage: pyapp.py OUT_FILE [fail] [more args...]   ("hold=SECONDS" among them: keeps running
# that long before it stops, with its SparkContext up)
# Starts a SparkSession, writes its arguments and some Spark properties to OUT_FILE (one
# "kind<TAB>key<TAB>value" line each), runs a DataFrame aggregation (a shuffle, on an
# executor) and a Python function on an executor (which imports the spark.submit.pyFiles
# dependency there), writes their results, prints a line to stdout and one to stderr, and
# stops.  "fail" as the second argument exits 3 afterwards.
import sys

from pyspark.sql import SparkSession


def dep_on_executor(_):
    """Runs in a Python worker of an executor: finds pyspark (it is running) and the
    --py-files dependency."""
    try:
        import sgdep
        return sgdep.VALUE
    except ImportError as e:
        return "missing: %s" % e


spark = SparkSession.builder.getOrCreate()
sc = spark.sparkContext
conf = sc.getConf()
with open(sys.argv[1], "w") as f:
    for i, a in enumerate(sys.argv):
        f.write("arg\t%d\t%s\n" % (i, a))
    for k in ("spark.app.name", "spark.master", "spark.sg.py", "spark.submit.pyFiles"):
        f.write("prop\t%s\t%s\n" % (k, conf.get(k, "")))
    try:   # a dependency given as spark.submit.pyFiles, on the driver
        import sgdep
        f.write("dep\tsgdep\t%s\n" % sgdep.VALUE)
    except ImportError as e:
        f.write("dep\tsgdep\tmissing: %s\n" % e)
    # the data from SQL, not from a Python list: Spark 3.3's cloudpickle cannot pickle a
    # function on Python 3.11+, and createDataFrame(list) pickles one
    df = spark.sql("SELECT word FROM VALUES ('b'), ('a'), ('c'), ('a'), ('b'), ('a') AS t(word)")
    rows = df.groupBy("word").count().orderBy("word").collect()
    result = " ".join("%s=%d" % (r["word"], r["count"]) for r in rows)
    f.write("job\tresult\t%s\n" % result)
    try:
        dep = sc.parallelize([0], 1).map(dep_on_executor).first()
    except Exception as e:   # pickle.PicklingError: Spark 3.3 on Python 3.11+
        dep = "unpicklable: %s" % type(e).__name__
    f.write("job\texecutor-dep\t%s\n" % dep)
    # where the tasks ran: an executor's id, never "driver" (local mode)
    ids = sc._jsc.sc().getExecutorIds()
    f.write("job\texecutors\t%s\n" % ",".join(sorted(ids.apply(i) for i in range(ids.size()))))
print("pyapp stdout: " + " ".join(sys.argv[1:]))
print("pyapp result: " + result)
print("pyapp stderr", file=sys.stderr)
for a in sys.argv[2:]:
    if a.startswith("hold="):
        import time
        time.sleep(float(a[5:]))
spark.stop()
if len(sys.argv) > 2 and sys.argv[2] == "fail":
    sys.exit(3)
