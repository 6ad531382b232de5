// A driver that uses Spark, for the integration tests: starts a SparkContext (master and app
// name from the system properties the worker's DriverWrapper was given), counts words with a
// shuffle (reduceByKey) whose tasks run on an executor, then writes the result to OUT_FILE
// ("job<TAB>key<TAB>value" lines, as TestApp's) and to stdout, and exits 0.  The job's
// lambdas are classes of this jar: executors load them only if the create lists the jar in
// spark.jars (spark-submit does so for its primary resource).
// Usage: SparkJob OUT_FILE [fail]   ("fail": the job's tasks throw, the driver ends FAILED)
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeMap;
import java.util.TreeSet;

import org.apache.spark.SparkConf;
import org.apache.spark.SparkEnv;
import org.apache.spark.api.java.JavaSparkContext;
import scala.Tuple2;

public class SparkJob {
    public static void main(String[] args) throws Exception {
        boolean fail = args.length > 1 && args[1].equals("fail");
        List<String> words = Arrays.asList("b a c a b a".split(" "));
        try (JavaSparkContext sc = new JavaSparkContext(new SparkConf())) {
            List<Tuple2<String, Integer>> counts = sc.parallelize(words, 2)
                .mapToPair(w -> {
                    if (fail) throw new IllegalStateException("SparkJob: failing as asked");
                    return new Tuple2<>(w, 1);
                })
                .reduceByKey((a, b) -> a + b, 2)
                .collect();
            TreeMap<String, Integer> sorted = new TreeMap<>();
            for (Tuple2<String, Integer> t : counts) sorted.put(t._1(), t._2());
            List<String> parts = new ArrayList<>();
            sorted.forEach((k, v) -> parts.add(k + "=" + v));
            String result = String.join(" ", parts);
            // where the tasks ran: an executor's id, never "driver" (local mode)
            TreeSet<String> executors = new TreeSet<>(sc.parallelize(words, 2)
                .map(w -> SparkEnv.get().executorId()).collect());
            try (PrintWriter w = new PrintWriter(args[0], StandardCharsets.UTF_8)) {
                w.println("job\tresult\t" + result);
                w.println("job\texecutors\t" + String.join(",", executors));
                w.println("job\tapp\t" + sc.getConf().get("spark.app.name"));
            }
            System.out.println("SparkJob result: " + result + " (executors " + String.join(",", executors) + ")");
        }
    }
}
