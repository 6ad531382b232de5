// Livy's own answers for tests/unit/livy_test.c: Livy's BatchSessionServlet, mounted at
// /batches/* in an embedded Jetty (Livy's own dependency) beside a JsonServlet at /version/*
// answering what LivyServer's version servlet answers, holding fixed batch sessions (Livy's
// BatchSession, driven through its own state machine: SparkAppListener.stateChanged,
// appIdKnown, infoChanged) whose SparkApp is a stand-in with fixed log lines (a real one
// would run spark-submit).  Each request of CASES is sent over HTTP; its status, headers
// that matter and body, as Livy's JsonServlet rendered them with its own ObjectMapper, are
// written as one JSON object per line.  Then BatchSessionView instances serialized directly
// by that mapper (a proxyUser set: a value the servlet never shows here).
// Usage (tools/livyjson/gen.sh): java -cp CLASSES:JARS LivyJson OUT
import java.io.ByteArrayOutputStream;
import java.io.FileOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.HttpURLConnection;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import javax.servlet.http.HttpServletRequest;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.servlet.ServletContextHandler;
import org.eclipse.jetty.servlet.ServletHolder;

import scala.Function0;
import scala.Option;
import scala.collection.JavaConverters;
import scala.runtime.AbstractFunction0;
import scala.runtime.AbstractFunction1;

import org.apache.livy.LivyConf;
import org.apache.livy.server.AccessManager;
import org.apache.livy.server.JsonServlet;
import org.apache.livy.server.batch.BatchSession;
import org.apache.livy.server.batch.BatchSessionServlet;
import org.apache.livy.server.batch.BatchSessionView;
import org.apache.livy.server.batch.CreateBatchRequest;
import org.apache.livy.server.recovery.BlackholeStateStore;
import org.apache.livy.server.recovery.SessionStore;
import org.apache.livy.server.recovery.StateStore;
import org.apache.livy.sessions.BatchSessionManager;
import org.apache.livy.sessions.SessionState;
import org.apache.livy.utils.AppInfo;
import org.apache.livy.utils.SparkApp;

@SuppressWarnings({"unchecked", "rawtypes"})
public class LivyJson {
  static final String USER_HEADER = "X-Sg-User";
  // The web UI's address in URLs: livy_test.c serves it and puts its own address here.
  static final String WEB = "http://WEBUI";
  static final String UI = "http://127.0.0.1:4040";

  // method, path, user, body (null: none); the order is the test's (DELETE removes a session)
  static final String[][] CASES = {
    { "GET", "/batches", "alice", null },
    { "GET", "/batches?from=1&size=2", "alice", null },
    { "GET", "/batches?from=3", "alice", null },
    { "GET", "/batches/1", "alice", null },
    { "GET", "/batches/2", "alice", null },
    { "GET", "/batches/3", "alice", null },
    { "GET", "/batches/4", "bob", null },
    { "GET", "/batches/5", "alice", null },
    { "GET", "/batches/4", "alice", null },
    { "GET", "/batches/99", "alice", null },
    { "GET", "/batches/1/state", "alice", null },
    { "GET", "/batches/2/state", "alice", null },
    { "GET", "/batches/3/state", "alice", null },
    { "GET", "/batches/4/state", "bob", null },
    { "GET", "/batches/5/state", "alice", null },
    { "GET", "/batches/99/state", "alice", null },
    { "GET", "/batches/1/log", "alice", null },
    { "GET", "/batches/1/log?from=2&size=3", "alice", null },
    { "GET", "/batches/1/log?size=-1", "alice", null },
    { "GET", "/batches/1/log?from=40", "alice", null },
    { "GET", "/batches/1/log?size=4", "alice", null },
    { "GET", "/batches/2/log", "alice", null },
    { "GET", "/batches/4/log", "alice", null },
    { "GET", "/batches/1/log?from=x", "alice", null },
    { "POST", "/batches", "alice",
      "{\"file\":\"hdfs://nn/apps/a.jar\",\"className\":\"M\",\"name\":\"made\",\"args\":[\"1\"],"
      + "\"driverMemory\":\"1g\",\"conf\":{\"spark.cores.max\":\"1\"}}" },
    { "POST", "/batches", "alice", "{\"file\":\"hdfs://nn/apps/a.jar\",\"className\":\"M\"}" },
    { "POST", "/batches", "alice", "{\"className\":\"M\"}" },
    { "POST", "/batches", "alice", "{\"file\":" },
    { "POST", "/batches", "alice", "[1]" },
    { "POST", "/batches", "alice", "{\"file\":\"hdfs://nn/apps/a.jar\",\"args\":\"x\"}" },
    { "POST", "/batches", "alice", "{\"file\":\"hdfs://nn/apps/a.jar\",\"nosuch\":1}" },
    { "POST", "/batches", "alice", "{\"file\":\"hdfs://nn/apps/a.jar\",\"className\":\"M\",\"name\":\"px\",\"proxyUser\":\"bob\"}" },
    // the same under livy.impersonation.enabled=true (sparkgate refuses as Livy does then)
    { "POST", "/imp/batches", "alice", "{\"file\":\"hdfs://nn/apps/a.jar\",\"className\":\"M\",\"proxyUser\":\"bob\"}" },
    { "POST", "/batches", "alice", "{\"file\":\"hdfs://nn/apps/a.jar\",\"className\":\"M\",\"name\":\"done\"}" },
    { "GET", "/batches/done", "alice", null },
    { "PUT", "/batches", "alice", "{}" },
    { "PUT", "/batches/1", "alice", "{}" },
    { "POST", "/batches/1/state", "alice", "{}" },
    { "GET", "/batches/1/nosuch", "alice", null },
    { "DELETE", "/batches/4", "alice", null },
    { "DELETE", "/batches/99", "alice", null },
    { "DELETE", "/batches/1", "alice", null },
    { "GET", "/batches/1", "alice", null },
    { "GET", "/version", "alice", null },
  };

  // A SparkApp with fixed log lines; kill() reports KILLED to its listener, as SparkProcApp.
  static class FixedApp extends SparkApp {
    final List<String> lines;
    BatchSession listener;

    FixedApp(List<String> lines) { this.lines = lines; }

    @Override public void kill() {
      if (listener != null)
        listener.stateChanged(SparkApp.State$.MODULE$.RUNNING(), SparkApp.State$.MODULE$.KILLED());
    }

    @Override public scala.collection.IndexedSeq<String> log() {
      return JavaConverters.asScalaBufferConverter(lines).asScala().toIndexedSeq();
    }
  }

  // SparkProcApp.log(): "stdout: ", the stdout lines, "\nstderr: ", the stderr lines.
  static List<String> procLog(List<String> out, List<String> err) {
    List<String> l = new ArrayList<>();
    l.add("stdout: ");
    l.addAll(out);
    l.add("\nstderr: ");
    l.addAll(err);
    return l;
  }

  static <E extends Throwable> void rethrow(Throwable e) throws E { throw (E) e; }

  static <T> Option<T> some(T x) { return Option.apply(x); }

  static <T> Option<T> none() { return Option.empty(); }

  // A batch session as Livy keeps one, its app started and its state reached through
  // BatchSession's own listener methods.
  static BatchSession session(LivyConf conf, SessionStore store, int id, String name, String owner,
                              List<String> log, scala.Enumeration.Value state, String appId, AppInfo info) {
    final FixedApp app = new FixedApp(log);
    BatchSession s = new BatchSession(id, name == null ? LivyJson.<String>none() : some(name),
        "livy-batch-" + id + "-fixed00", SessionState.Starting$.MODULE$, conf, owner, LivyJson.<String>none(), store,
        new AbstractFunction1<BatchSession, SparkApp>() {
          public SparkApp apply(BatchSession b) { app.listener = b; return app; }
        });
    s.start();
    if (appId != null) s.appIdKnown(appId);
    if (info != null) s.infoChanged(info);
    SparkApp.State$ st = SparkApp.State$.MODULE$;
    if (state != st.STARTING()) {
      s.stateChanged(st.STARTING(), st.RUNNING());
      if (state != st.RUNNING()) s.stateChanged(st.RUNNING(), state);
    }
    return s;
  }

  static byte[] readAll(InputStream in) throws Exception {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    if (in == null) return b.toByteArray();
    byte[] buf = new byte[8192];
    for (int n; (n = in.read(buf)) > 0;) b.write(buf, 0, n);
    in.close();
    return b.toByteArray();
  }

  public static void main(String[] args) throws Exception {
    final LivyConf conf = new LivyConf();
    conf.set(LivyConf.ACCESS_CONTROL_ENABLED(), true);   // owners see their logs, others do not
    conf.set(LivyConf.IMPERSONATION_ENABLED(), false);   // the default
    StateStore.init(conf);                                // recovery off: the blackhole store
    final SessionStore store = new SessionStore(conf, new AbstractFunction0<StateStore>() {
      public StateStore apply() { return new BlackholeStateStore(conf); }
    });
    final AccessManager access = new AccessManager(conf);
    SparkApp.State$ st = SparkApp.State$.MODULE$;

    // The fixture livy_test.c builds too: five batches, ids 1-5 (bob owns 4).
    List<String> err1 = new ArrayList<>();
    err1.add("Using Spark's default log4j profile: org/apache/spark/log4j2-defaults.properties");
    err1.add("26/12/02 04:05:06 INFO SparkContext: Running Spark version 3.5.9");
    err1.add("26/12/02 04:05:07 INFO Utils: Successfully started service 'SparkUI' on port 4040.");
    err1.add("26/12/02 04:05:07 INFO SparkUI: Bound SparkUI to 0.0.0.0, and started at " + UI);
    err1.add("26/12/02 04:05:08 INFO StandaloneSchedulerBackend: Connected to Spark cluster with app ID "
        + "app-20261202040508-0001");
    for (int i = 0; i < 8; i++) err1.add("26/12/02 04:05:0" + (i + 1) + " INFO Executor: line " + i);
    List<BatchSession> sessions = new ArrayList<>();
    sessions.add(session(conf, store, 1, "livy-jar", "alice",
        procLog(Arrays.asList("TestApp stdout: 1", "TestApp stdout: 2"), err1), st.RUNNING(),
        "app-20261202040508-0001",
        new AppInfo(some(WEB + "/logPage/?driverId=driver-20261202040505-0001&logType=stderr"), some(UI))));
    sessions.add(session(conf, store, 2, null, "alice", procLog(new ArrayList<String>(), new ArrayList<String>()),
        st.STARTING(), null, null));
    sessions.add(session(conf, store, 3, "done", "alice",
        procLog(Arrays.asList("done"), Arrays.asList("finished")), st.FINISHED(), null,
        new AppInfo(some(WEB + "/logPage/?driverId=driver-20261202040505-0003&logType=stderr"),
                    LivyJson.<String>none())));
    sessions.add(session(conf, store, 4, "bobs", "bob",
        procLog(new ArrayList<String>(), Arrays.asList("Exception in thread \"main\" boom")), st.FAILED(), null,
        new AppInfo(some(WEB + "/logPage/?driverId=driver-20261202040505-0004&logType=stderr"),
                    LivyJson.<String>none())));
    sessions.add(session(conf, store, 5, "slow", "alice",
        procLog(new ArrayList<String>(), Arrays.asList("killed")), st.KILLED(), null,
        new AppInfo(some(WEB + "/logPage/?driverId=driver-20261202040505-0005&logType=stderr"),
                    LivyJson.<String>none())));
    // the fixture's sessions are started already: register() starts them again (the same app)
    final BatchSessionManager manager = new BatchSessionManager(conf, store,
        some((scala.collection.Seq<BatchSession>) JavaConverters.asScalaBufferConverter(sessions).asScala()));
    while (manager.nextId() < 5) { }   // the next create is batch 6, as the sixth row of livy_test.c's store

    BatchSessionServlet batches = new BatchSessionServlet(manager, store, conf, access) {
      // BaseSessionServletSpec's RemoteUserOverride: the user from a header
      @Override public String remoteUser(HttpServletRequest req) { return req.getHeader(USER_HEADER); }

      // BatchSession.create with a fixed app (a real one runs spark-submit); a create without
      // a file goes through Livy's real path, whose require() fails before any process starts.
      @Override public BatchSession createSession(HttpServletRequest req) {
        CreateBatchRequest r = null;
        try {
          r = mapper().readValue(req.getInputStream(), CreateBatchRequest.class);   // JsonServlet.bodyAs
        } catch (Exception e) {
          LivyJson.<RuntimeException>rethrow(e);   // as Scala throws it: JsonServlet's error handler sees it
        }
        FixedApp app = new FixedApp(procLog(new ArrayList<String>(), new ArrayList<String>()));
        return BatchSession.create(manager.nextId(), r.name(), r, conf, access, remoteUser(req),
            proxyUser(req, r.proxyUser()), store, r.file() == null ? LivyJson.<SparkApp>none() : some((SparkApp) app));
      }
    };
    final ObjectMapper mapper = batches.mapper();

    // Livy with impersonation on: a proxyUser other than the caller is refused
    final LivyConf impConf = new LivyConf();
    impConf.set(LivyConf.ACCESS_CONTROL_ENABLED(), true);
    impConf.set(LivyConf.IMPERSONATION_ENABLED(), true);
    final AccessManager impAccess = new AccessManager(impConf);
    final BatchSessionManager impManager = new BatchSessionManager(impConf, store,
        some((scala.collection.Seq<BatchSession>) JavaConverters.asScalaBufferConverter(new ArrayList<BatchSession>()).asScala()));
    BatchSessionServlet impersonating = new BatchSessionServlet(impManager, store, impConf, impAccess) {
      @Override public String remoteUser(HttpServletRequest req) { return req.getHeader(USER_HEADER); }

      @Override public BatchSession createSession(HttpServletRequest req) {
        CreateBatchRequest r = null;
        try {
          r = mapper().readValue(req.getInputStream(), CreateBatchRequest.class);
        } catch (Exception e) {
          LivyJson.<RuntimeException>rethrow(e);
        }
        FixedApp app = new FixedApp(procLog(new ArrayList<String>(), new ArrayList<String>()));
        return BatchSession.create(impManager.nextId(), r.name(), r, impConf, impAccess, remoteUser(req),
            proxyUser(req, r.proxyUser()), store, some((SparkApp) app));
      }
    };

    // LivyServer's livyVersionServlet, with the version file of the livy-server jar
    JsonServlet version = new JsonServlet() {
      // ScalatraServlet's initialize(ServletConfig) is what ScalatraBase's initialize(ConfigT) means
      @Override public void initialize(Object c) { super.initialize((javax.servlet.ServletConfig) c); }

      {
        // get("/") { ... }: the route transformer type lives in Scalatra's package object,
        // which Java cannot name
        List route = new ArrayList();
        route.add(string2RouteMatcher("/"));
        get((scala.collection.Seq) JavaConverters.asScalaBufferConverter(route).asScala(),
            new AbstractFunction0<Object>() {
              public Object apply() {
                contentType_$eq("application/json");
                Map<String, String> m = new LinkedHashMap<>();
                m.put("version", org.apache.livy.package$.MODULE$.LIVY_VERSION());
                m.put("user", org.apache.livy.package$.MODULE$.LIVY_BUILD_USER());
                m.put("revision", org.apache.livy.package$.MODULE$.LIVY_REVISION());
                m.put("branch", org.apache.livy.package$.MODULE$.LIVY_BRANCH());
                m.put("date", org.apache.livy.package$.MODULE$.LIVY_BUILD_DATE());
                m.put("url", org.apache.livy.package$.MODULE$.LIVY_REPO_URL());
                // LivyServer's Map(...) is a Scala Map: the same names and values
                return JavaConverters.mapAsScalaMapConverter(m).asScala();
              }
            });
      }
    };

    Server server = new Server();
    ServerConnector conn = new ServerConnector(server);
    conn.setHost("127.0.0.1");
    conn.setPort(0);
    server.addConnector(conn);
    ServletContextHandler ctx = new ServletContextHandler();
    ctx.setContextPath("/");
    // LivyServer: context.initParameters(org.scalatra.EnvironmentKey) = livy.environment ("production")
    ctx.setInitParameter("org.scalatra.environment", conf.get(LivyConf.ENVIRONMENT()));
    ctx.addServlet(new ServletHolder(batches), "/batches/*");
    ctx.addServlet(new ServletHolder(version), "/version/*");
    ctx.addServlet(new ServletHolder(impersonating), "/imp/batches/*");
    server.setHandler(ctx);
    server.start();
    int port = conn.getLocalPort();

    PrintStream out = new PrintStream(new FileOutputStream(args[0]), false, "UTF-8");
    for (String[] c : CASES) {
      HttpURLConnection h = (HttpURLConnection) new URL("http://127.0.0.1:" + port + c[1]).openConnection();
      h.setRequestMethod(c[0]);
      h.setRequestProperty(USER_HEADER, c[2]);
      h.setRequestProperty("Accept", "application/json");
      if (c[3] != null) {
        h.setDoOutput(true);
        h.setRequestProperty("Content-Type", "application/json");
        OutputStream o = h.getOutputStream();
        o.write(c[3].getBytes(StandardCharsets.UTF_8));
        o.close();
      }
      int status = h.getResponseCode();
      byte[] body = readAll(status >= 400 ? h.getErrorStream() : h.getInputStream());
      Map<String, Object> rec = new LinkedHashMap<>();
      rec.put("method", c[0]);
      rec.put("path", c[1]);
      rec.put("user", c[2]);
      rec.put("body", c[3]);
      rec.put("status", status);
      rec.put("location", h.getHeaderField("Location"));
      rec.put("allow", h.getHeaderField("Allow"));
      rec.put("answer", new String(body, StandardCharsets.UTF_8));
      out.println(mapper.writeValueAsString(rec));
    }
    server.stop();

    // BatchSessionView serialized directly: every Option set
    Map<String, Object> rec = new LinkedHashMap<>();
    rec.put("method", "MAPPER");
    rec.put("path", "BatchSessionView");
    rec.put("answer", mapper.writeValueAsString(new BatchSessionView(7L, some("n"), "alice", some("alice"), "running",
        some("app-1"), new AppInfo(some("d"), some("u")),
        JavaConverters.asScalaBufferConverter(Arrays.asList("a", "b")).asScala().toList())));
    out.println(mapper.writeValueAsString(rec));
    out.close();
    manager.shutdown();
    System.exit(0);
  }
}
