// The driver the integration tests run on the real worker.
// Usage: TestApp OUT_FILE [SLEEP_SECONDS [EXIT_CODE]] [more args...]
// Writes its arguments, the SPARK_* / SG_* environment and spark.* system properties to
// OUT_FILE (one "kind<TAB>key<TAB>value" line each), a line to stdout and one to stderr,
// sleeps, then exits with EXIT_CODE.
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;

public class TestApp {
    public static void main(String[] args) throws Exception {
        try (PrintWriter w = new PrintWriter(args[0], StandardCharsets.UTF_8)) {
            for (int i = 0; i < args.length; i++) w.println("arg\t" + i + "\t" + args[i]);
            for (Map.Entry<String, String> e : new TreeMap<>(System.getenv()).entrySet())
                if (e.getKey().startsWith("SPARK_") || e.getKey().startsWith("SG_"))
                    w.println("env\t" + e.getKey() + "\t" + e.getValue());
            for (String k : new TreeMap<>(System.getProperties()).keySet().toArray(new String[0]))
                if (k.toString().startsWith("spark.") || k.toString().startsWith("sg."))
                    w.println("prop\t" + k + "\t" + System.getProperty(k.toString()));
        }
        // for the logs endpoint: one line on each stream
        System.out.println("TestApp stdout: " + String.join(" ", args));
        System.err.println("TestApp stderr: spark.app.name=" + System.getProperty("spark.app.name"));
        if (args.length > 1) Thread.sleep(Long.parseLong(args[1]) * 1000);
        if (args.length > 2) System.exit(Integer.parseInt(args[2]));
    }
}
