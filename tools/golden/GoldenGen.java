// Emits golden vectors for sparkgate from the REAL Spark classes of one Spark build.
//
// Run (tools/golden/gen.sh does this):  java -cp "$SPARK_HOME/jars/*:classes" GoldenGen CASES OUT MARKERS
//
// For every CreateSubmissionRequest JSON in CASES it
//   1. parses and validates it with Spark's own SubmitRestProtocolMessage,
//   2. builds the DriverDescription with Spark's own StandaloneSubmitRequestServlet
//      .buildDriverDescription (the translation oracle), dumped as OUT/dd-NAME.txt,
//   3. serializes RequestSubmitDriver(that description, with Seqs as immutable.List and the
//      environment as immutable.HashMap) through a real NettyRpcEnv's JavaSerializer:
//      OUT/msg-NAME.bin (the Java stream) and OUT/body-NAME.bin (RequestMessage envelope).
// It also writes the other messages and sample replies, every serialVersionUID and field list
// involved (OUT/uids.tsv; build detection's minor markers from MARKERS, tools/golden/markers.tsv),
// and one whole RpcRequest frame.
import java.io.*;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.*;
import java.util.*;

import org.apache.spark.SparkConf;
import org.apache.spark.SecurityManager;
import org.apache.spark.deploy.Command;
import org.apache.spark.deploy.DeployMessages;
import org.apache.spark.deploy.DriverDescription;
import org.apache.spark.deploy.rest.CreateSubmissionRequest;
import org.apache.spark.deploy.rest.StandaloneSubmitRequestServlet;
import org.apache.spark.deploy.rest.SubmitRestProtocolMessage;
import org.apache.spark.resource.ResourceRequirement;
import org.apache.spark.rpc.RpcAddress;
import org.apache.spark.rpc.RpcEndpointAddress;
import org.apache.spark.rpc.RpcEnv;
import org.apache.spark.rpc.netty.NettyRpcEndpointRef;
import org.apache.spark.rpc.netty.NettyRpcEnv;
import org.apache.spark.rpc.netty.RequestMessage;
import scala.Option;
import scala.collection.JavaConverters;

public class GoldenGen {
    static final String MASTER_URL = "spark://127.0.0.1:7077";
    static final int REST_PORT = 6066;
    static Path out;
    static Path markers;   // tools/golden/markers.tsv: build detection's minor markers
    static NettyRpcEnv env;
    static NettyRpcEndpointRef masterRef;

    public static void main(String[] args) throws Exception {
        Path cases = Paths.get(args[0]);
        out = Paths.get(args[1]);
        markers = Paths.get(args[2]);
        Files.createDirectories(out);
        SparkConf conf = new SparkConf(false);
        env = (NettyRpcEnv) RpcEnv.create("golden", "127.0.0.1", 0, conf, new SecurityManager(conf, Option.empty(), null), true);
        masterRef = new NettyRpcEndpointRef(conf, new RpcEndpointAddress(new RpcAddress("127.0.0.1", 7077), "Master"), env);

        writeUids();
        StandaloneSubmitRequestServlet servlet = new StandaloneSubmitRequestServlet(null, MASTER_URL, conf);
        // 3.5: buildDriverDescription(request); 4.x: buildDriverDescription(request, masterUrl, restPort)
        Method build = null;
        for (Method mm : StandaloneSubmitRequestServlet.class.getDeclaredMethods())
            if (mm.getName().equals("buildDriverDescription")) build = mm;
        build.setAccessible(true);
        writeModuleOptions();
        writeRestRules(servlet, build);
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(cases, "*.json")) { ds.forEach(files::add); }
        Collections.sort(files);
        for (Path f : files) {
            String name = f.getFileName().toString().replace(".json", "");
            String json = new String(Files.readAllBytes(f), StandardCharsets.UTF_8);
            DriverDescription dd;
            try {
                SubmitRestProtocolMessage m = SubmitRestProtocolMessage.fromJson(json);
                m.validate();
                dd = (DriverDescription) (build.getParameterCount() == 1 ? build.invoke(servlet, m)
                    : build.invoke(servlet, m, MASTER_URL, REST_PORT));
            } catch (Exception e) {
                Throwable t = e instanceof java.lang.reflect.InvocationTargetException ? e.getCause() : e;
                StringBuilder why = new StringBuilder("error\t" + esc(t.toString()));
                for (Throwable c = t.getCause(); c != null; c = c.getCause()) why.append("\tcause\t").append(esc(c.toString()));
                write("dd-" + name + ".txt", (why + "\n").getBytes(StandardCharsets.UTF_8));
                continue;
            }
            DriverDescription canon = canonical(dd);
            write("dd-" + name + ".txt", dump(canon).getBytes(StandardCharsets.UTF_8));
            Object msg = new DeployMessages.RequestSubmitDriver(canon);
            write("msg-submit-" + name + ".bin", ser(msg));
            write("body-submit-" + name + ".bin", body(msg));
        }
        String id = fresh("driver-20240101000000-0000");
        message("kill", new DeployMessages.RequestKillDriver(id));
        message("status", new DeployMessages.RequestDriverStatus(id));
        // Spark 4's case-object messages (absent in 3.5).
        for (String[] m : new String[][] {{"killall", "RequestKillAllDrivers$"}, {"clear", "RequestClearCompletedDriversAndApps$"},
                                          {"readyz", "RequestReadyz$"}}) {
            try {
                message(m[0], Class.forName("org.apache.spark.deploy.DeployMessages$" + m[1]).getField("MODULE$").get(null));
            } catch (ClassNotFoundException e) { /* Spark 3.5 */ }
        }
        // RequestMasterState: how sparkgate finds a create whose answer it lost (every build).
        message("masterstate", Class.forName("org.apache.spark.deploy.DeployMessages$RequestMasterState$").getField("MODULE$").get(null));
        masterDesc = canonicalFor("spark-submit", build, servlet, cases);
        // One whole frame, laid out exactly as network-common's MessageEncoder does:
        // i64 frameLength (incl. itself) | u8 type | i64 requestId | i32 bodySize | body.
        byte[] b = body(new DeployMessages.RequestKillDriver(id));
        org.apache.spark.network.protocol.RpcRequest rq = new org.apache.spark.network.protocol.RpcRequest(
            1234567890123L, new org.apache.spark.network.buffer.NioManagedBuffer(ByteBuffer.wrap(b)));
        io.netty.buffer.ByteBuf hdr = io.netty.buffer.Unpooled.buffer();
        long frameLen = 8 + rq.type().encodedLength() + rq.encodedLength() + b.length;
        hdr.writeLong(frameLen);
        rq.type().encode(hdr);
        rq.encode(hdr);
        byte[] h = new byte[hdr.readableBytes()];
        hdr.readBytes(h);
        ByteArrayOutputStream fr = new ByteArrayOutputStream();
        fr.write(h); fr.write(b);
        write("frame-kill.bin", fr.toByteArray());

        replies();
        env.shutdown();
        System.exit(0);
    }

    /** The build's JavaModuleOptions (3.3+), one per line: the JVM options Spark's launcher
     *  gives every JVM it starts, Spark 4's REST server every driver, and sparkgate every
     *  driver of 3.3+ (whose REST server gives none); empty where the class does not exist.
     *  3.x has only defaultModuleOptions(), the same options joined by spaces. */
    static String[] moduleOptions() throws Exception {
        Class<?> c;
        try {
            c = Class.forName("org.apache.spark.launcher.JavaModuleOptions");
        } catch (ClassNotFoundException e) { return new String[0]; }
        try {
            return (String[]) c.getMethod("defaultModuleOptionArray").invoke(null);
        } catch (NoSuchMethodException e) {
            String s = ((String) c.getMethod("defaultModuleOptions").invoke(null)).trim();
            return s.isEmpty() ? new String[0] : s.split("\\s+");
        }
    }

    static void writeModuleOptions() throws Exception {
        StringBuilder b = new StringBuilder();
        for (String o : moduleOptions()) b.append(o).append('\n');
        write("java-module-options.txt", b.toString().getBytes(StandardCharsets.UTF_8));
    }

    /** How this build's REST server reads a create request, asked of its own classes:
     *  body-decoding: SubmitRequestServlet.doPost decodes with scala.io.Source and the JVM's
     *    default codec, which reports a malformed byte ("report"), until readRequestBody
     *    (4.3) decodes with new String(bytes, UTF_8), which replaces it ("replace");
     *  json-max-depth: Jackson's default StreamReadConstraints nesting limit (2.15+), 0 for
     *    none (older Jackson);
     *  create-requires-defaults: whether CreateSubmissionRequest.validate still requires
     *    appArgs, environmentVariables and spark.app.name. */
    static SubmitRestProtocolMessage minimal() throws Exception {
        SubmitRestProtocolMessage m = SubmitRestProtocolMessage.fromJson("{\"action\":\"CreateSubmissionRequest\","
            + "\"appResource\":\"x\",\"appArgs\":[],\"environmentVariables\":{},\"clientSparkVersion\":\"1\","
            + "\"mainClass\":\"M\",\"sparkProperties\":{\"spark.app.name\":\"n\"}}");
        m.validate();
        return m;
    }

    static void writeRestRules(StandaloneSubmitRequestServlet servlet, Method build) throws Exception {
        StringBuilder b = new StringBuilder();
        boolean replaces = false;
        for (Method mm : Class.forName("org.apache.spark.deploy.rest.SubmitRequestServlet").getDeclaredMethods())
            replaces |= mm.getName().equals("readRequestBody");
        b.append("body-decoding\t").append(replaces ? "replace" : "report").append('\n');
        int depth = 0;
        try {
            Class<?> src = Class.forName("com.fasterxml.jackson.core.StreamReadConstraints");
            Object d = src.getMethod("defaults").invoke(null);
            depth = (Integer) src.getMethod("getMaxNestingDepth").invoke(d);
        } catch (ClassNotFoundException e) { /* Jackson before 2.15: no limit */ }
        b.append("json-max-depth\t").append(depth).append('\n');
        boolean requires;
        try {
            SubmitRestProtocolMessage.fromJson("{\"action\":\"CreateSubmissionRequest\",\"appResource\":\"x\","
                + "\"clientSparkVersion\":\"1\",\"mainClass\":\"M\",\"sparkProperties\":{}}").validate();
            requires = false;
        } catch (Exception e) { requires = true; }
        b.append("create-requires-defaults\t").append(requires).append('\n');
        // whether StandaloneSubmitRequestServlet.buildDriverDescription puts the module
        // options first in the driver's javaOpts (4.0+), asked of the build's own servlet
        String[] mods = moduleOptions();
        DriverDescription dd = (DriverDescription) (build.getParameterCount() == 1 ? build.invoke(servlet, minimal())
            : build.invoke(servlet, minimal(), MASTER_URL, REST_PORT));
        List<String> opts = JavaConverters.seqAsJavaListConverter(dd.command().javaOpts()).asJava();
        boolean adds = mods.length > 0 && opts.size() >= mods.length
            && opts.subList(0, mods.length).equals(Arrays.asList(mods));
        b.append("rest-adds-module-options\t").append(adds).append('\n');
        write("rest-rules.txt", b.toString().getBytes(StandardCharsets.UTF_8));
    }

    static void message(String name, Object msg) throws Exception {
        write("msg-" + name + ".bin", ser(msg));
        write("body-" + name + ".bin", body(msg));
    }

    static void replies() throws Exception {
        Object none = scala.None$.MODULE$;
        reply("submit-ok", new DeployMessages.SubmitDriverResponse(masterRef, true,
            Option.apply(fresh("driver-20240101000000-0000")), fresh("Driver successfully submitted as driver-20240101000000-0000")));
        reply("submit-standby", new DeployMessages.SubmitDriverResponse(masterRef, false, Option.empty(),
            fresh("Current state is not alive: STANDBY. Can only accept driver submissions in ALIVE state.")));
        reply("kill-ok", new DeployMessages.KillDriverResponse(masterRef, fresh("driver-20240101000000-0000"), true,
            fresh("Kill request for driver-20240101000000-0000 submitted")));
        reply("kill-unknown", new DeployMessages.KillDriverResponse(masterRef, fresh("driver-x"), false,
            fresh("Driver driver-x has already finished or does not exist")));
        reply("status-notfound", new DeployMessages.DriverStatusResponse(false, Option.empty(), Option.empty(), Option.empty(), Option.empty()));
        Class<?> ds = Class.forName("org.apache.spark.deploy.master.DriverState$");
        Object dsModule = ds.getField("MODULE$").get(null);
        String[] states = {"SUBMITTED", "RUNNING", "FINISHED", "RELAUNCHING", "UNKNOWN", "KILLED", "FAILED", "ERROR"};
        for (String s : states) {
            Object v = ds.getMethod(s).invoke(dsModule);
            boolean onWorker = !s.equals("SUBMITTED");
            reply("status-" + s, new DeployMessages.DriverStatusResponse(true, Option.apply((scala.Enumeration.Value) v),
                onWorker ? Option.apply(fresh("worker-20240101000000-127.0.0.1-40000")) : Option.empty(),
                onWorker ? Option.apply(fresh("127.0.0.1:40000")) : Option.empty(), Option.empty()));
        }
        Object failed = ds.getMethod("FAILED").invoke(dsModule);
        Exception ex = new IllegalStateException("boom: driver exited", new RuntimeException("root cause"));
        reply("status-FAILED-exception", new DeployMessages.DriverStatusResponse(true, Option.apply((scala.Enumeration.Value) failed),
            Option.apply(fresh("worker-20240101000000-127.0.0.1-40000")), Option.apply(fresh("127.0.0.1:40000")), Option.apply(ex)));
        // ERROR drivers whose exception builds its message from other fields: the text the
        // JVM's Throwable.toString() gives is written beside the reply.
        Object error = ds.getMethod("ERROR").invoke(dsModule);
        Exception[] computed = {
            new java.nio.file.NoSuchFileException("/nonexistent/app.jar"),
            new java.nio.file.AccessDeniedException("/root/app.jar", null, "Permission denied"),
            new java.nio.file.FileSystemException("/a/app.jar", "/b/app.jar", "Device busy"),
            new java.nio.file.FileAlreadyExistsException("/work/driver-1/app.jar"),
            new java.io.InvalidClassException("org.apache.spark.deploy.Command", "local class incompatible"),
            new java.lang.ClassNotFoundException("com.example.Missing"),
        };
        for (int i = 0; i < computed.length; i++) {
            reply("status-ERROR-computed-" + i, new DeployMessages.DriverStatusResponse(true,
                Option.apply((scala.Enumeration.Value) error), Option.apply(fresh("worker-20240101000000-127.0.0.1-40000")),
                Option.apply(fresh("127.0.0.1:40000")), Option.apply(computed[i])));
            write("reply-status-ERROR-computed-" + i + ".txt", computed[i].toString().getBytes(StandardCharsets.UTF_8));
        }
        reply("status-standby", new DeployMessages.DriverStatusResponse(false, Option.empty(), Option.empty(), Option.empty(),
            Option.apply(new Exception("Current state is not alive: STANDBY. Can only request driver status in ALIVE state."))));
        // An endpoint that throws replies with RpcResponse(RpcFailure(e)) (NettyRpcCallContext).
        Class<?> rf = Class.forName("org.apache.spark.rpc.netty.RpcFailure");
        reply("rpcfailure", rf.getConstructor(Throwable.class).newInstance(
            new org.apache.spark.SparkException("Unsupported message RequestSubmitDriver from 127.0.0.1:1")));
        // The master's drivers, one of them carrying sparkgate's submission token (tests/unit/golden_test.c
        // finds it), and what a standby answers.
        reply("masterstate", masterState("ALIVE",
            new Object[] { driverInfo("driver-20240101000000-0001", "-Dspark.sparkgate.submission=tok-active"),
                           driverInfo("driver-20240101000000-0002") },
            new Object[] { driverInfo("driver-20240101000000-0000", "-Dspark.sparkgate.submission=tok-done") }));
        reply("masterstate-standby", masterState("STANDBY", new Object[0], new Object[0]));
        reply("boolean-true", Boolean.TRUE);
        reply("boolean-false", Boolean.FALSE);
        try {
            Class<?> ka = Class.forName("org.apache.spark.deploy.DeployMessages$KillAllDriversResponse");
            reply("killall-ok", ka.getConstructors()[0].newInstance(masterRef, true, fresh("Kill request for all drivers submitted")));
        } catch (ClassNotFoundException e) { /* Spark 3.5 */ }
    }

    static DriverDescription masterDesc;

    static DriverDescription canonicalFor(String name, Method build, StandaloneSubmitRequestServlet servlet, Path cases)
            throws Exception {
        String json = new String(Files.readAllBytes(cases.resolve(name + ".json")), StandardCharsets.UTF_8);
        SubmitRestProtocolMessage m = SubmitRestProtocolMessage.fromJson(json);
        m.validate();
        return canonical((DriverDescription) (build.getParameterCount() == 1 ? build.invoke(servlet, m)
            : build.invoke(servlet, m, MASTER_URL, REST_PORT)));
    }

    /** A driver as the master keeps it (DriverInfo), its description carrying extra JVM
     *  options after its own (sparkgate's submission token). */
    static Object driverInfo(String id, String... extraOpts) throws Exception {
        Command c = masterDesc.command();
        java.util.List<String> opts = new ArrayList<>(scala.collection.JavaConverters.seqAsJavaListConverter(c.javaOpts()).asJava());
        for (String o : extraOpts) opts.add(fresh(o));
        Object js = scala.collection.JavaConverters.asScalaBufferConverter(opts).asScala().toList();
        Object cmd = Command.class.getConstructors()[0].newInstance(c.mainClass(), c.arguments(), c.environment(),
            c.classPathEntries(), c.libraryPathEntries(), js);
        Object dd = DriverDescription.class.getConstructors()[0].newInstance(masterDesc.jarUrl(), masterDesc.mem(),
            masterDesc.cores(), masterDesc.supervise(), cmd, masterDesc.resourceReqs());
        Class<?> di = Class.forName("org.apache.spark.deploy.master.DriverInfo");
        return di.getConstructors()[0].newInstance(1704067200000L, fresh(id), dd, new java.util.Date(1704067200000L));
    }

    /** MasterStateResponse as an ALIVE master answers RequestMasterState: every constructor
     *  argument by type (its fields differ between minors), drivers in the active and the
     *  completed array, no workers or applications. */
    static Object masterState(String status, Object[] active, Object[] completed) throws Exception {
        Class<?> ms = Class.forName("org.apache.spark.deploy.DeployMessages$MasterStateResponse");
        Class<?> di = Class.forName("org.apache.spark.deploy.master.DriverInfo");
        java.lang.reflect.Constructor<?> k = ms.getConstructors()[0];
        Class<?> rsClass = Class.forName("org.apache.spark.deploy.master.RecoveryState$");
        Object rs = rsClass.getMethod(status).invoke(rsClass.getField("MODULE$").get(null));
        Object[] args = new Object[k.getParameterCount()];
        int drivers = 0;
        for (int i = 0; i < args.length; i++) {
            Class<?> t = k.getParameterTypes()[i];
            if (t == String.class) args[i] = fresh("127.0.0.1");
            else if (t == int.class) args[i] = 7077;
            else if (t == Option.class) args[i] = Option.empty();
            else if (t.isArray() && t.getComponentType() == di) {
                Object[] src = drivers++ == 0 ? active : completed;
                Object a = java.lang.reflect.Array.newInstance(di, src.length);
                for (int j = 0; j < src.length; j++) java.lang.reflect.Array.set(a, j, src[j]);
                args[i] = a;
            } else if (t.isArray()) args[i] = java.lang.reflect.Array.newInstance(t.getComponentType(), 0);
            else if (scala.Enumeration.Value.class.isAssignableFrom(t)) args[i] = rs;
            else throw new IllegalStateException("MasterStateResponse: unexpected parameter " + t);
        }
        return k.newInstance(args);
    }

    static void reply(String name, Object o) throws Exception { write("reply-" + name + ".bin", ser(o)); }

    /** The same description with Seqs as immutable.List and the environment as an
     *  immutable.HashMap: the collection classes sparkgate writes. Strings are copied so that no
     *  two fields share one String object (the C writer never back-references values). */
    static DriverDescription canonical(DriverDescription d) {
        Command c = d.command();
        List<ResourceRequirement> rr = new ArrayList<>();
        for (ResourceRequirement r : JavaConverters.seqAsJavaListConverter(d.resourceReqs()).asJava())
            rr.add(new ResourceRequirement(fresh(r.resourceName()), r.amount(), r.numParts()));
        scala.collection.immutable.HashMap<String, String> envMap = new scala.collection.immutable.HashMap<>();
        for (Map.Entry<String, String> e : JavaConverters.mapAsJavaMapConverter(c.environment()).asJava().entrySet())
            envMap = envMap.updated(fresh(e.getKey()), fresh(e.getValue()));
        Command cc = new Command(fresh(c.mainClass()), list(c.arguments()), envMap, list(c.classPathEntries()),
            list(c.libraryPathEntries()), list(c.javaOpts()));
        return new DriverDescription(fresh(d.jarUrl()), d.mem(), d.cores(), d.supervise(), cc, scalaList(rr));
    }

    static scala.collection.immutable.List<String> list(scala.collection.Seq<String> s) {
        List<String> l = new ArrayList<>();
        for (String x : JavaConverters.seqAsJavaListConverter(s).asJava()) l.add(fresh(x));
        return scalaList(l);
    }

    static <T> scala.collection.immutable.List<T> scalaList(List<T> l) {
        return JavaConverters.asScalaBufferConverter(l).asScala().toList();
    }

    static String fresh(String s) { return s == null ? null : new String(s.toCharArray()); }

    /** Line format read by tests/unit/golden_test.c: "key\tvalue", values escaped (\\ \t \n). */
    static String dump(DriverDescription d) {
        StringBuilder b = new StringBuilder();
        Command c = d.command();
        b.append("jarUrl\t").append(esc(d.jarUrl())).append('\n');
        b.append("mem\t").append(d.mem()).append('\n');
        b.append("cores\t").append(d.cores()).append('\n');
        b.append("supervise\t").append(d.supervise() ? 1 : 0).append('\n');
        b.append("mainClass\t").append(esc(c.mainClass())).append('\n');
        for (String s : JavaConverters.seqAsJavaListConverter(c.arguments()).asJava()) b.append("arg\t").append(esc(s)).append('\n');
        for (Map.Entry<String, String> e : JavaConverters.mapAsJavaMapConverter(c.environment()).asJava().entrySet())
            b.append("env\t").append(esc(e.getKey())).append('\t').append(esc(e.getValue())).append('\n');
        for (String s : JavaConverters.seqAsJavaListConverter(c.classPathEntries()).asJava()) b.append("cp\t").append(esc(s)).append('\n');
        for (String s : JavaConverters.seqAsJavaListConverter(c.libraryPathEntries()).asJava()) b.append("lib\t").append(esc(s)).append('\n');
        for (String s : JavaConverters.seqAsJavaListConverter(c.javaOpts()).asJava()) b.append("javaOpt\t").append(esc(s)).append('\n');
        for (ResourceRequirement r : JavaConverters.seqAsJavaListConverter(d.resourceReqs()).asJava())
            b.append("resource\t").append(esc(r.resourceName())).append('\t').append(r.amount()).append('\t').append(r.numParts()).append('\n');
        return b.toString();
    }

    static String esc(String s) {
        return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n");
    }

    static byte[] ser(Object o) {
        ByteBuffer bb = env.serialize(o);
        byte[] a = new byte[bb.remaining()];
        bb.get(a);
        return a;
    }

    static byte[] body(Object msg) throws Exception {
        // Sender absent (null), as Spark's own client-mode RpcEnv sends it.
        ByteBuffer bb = new RequestMessage(null, masterRef, msg).serialize(env);
        byte[] a = new byte[bb.remaining()];
        bb.get(a);
        return a;
    }

    static void write(String name, byte[] data) throws IOException { Files.write(out.resolve(name), data); }

    /** Every class whose descriptor sparkgate writes (for some build) or reads, with its
     *  serialVersionUID, stream flags, serializable superclass and fields in stream order:
     *  "name TAB uid TAB flags TAB super TAB fields" or "name TAB ABSENT". */
    static void writeUids() throws IOException {
        String[] names = {
            "org.apache.spark.deploy.DeployMessages$RequestSubmitDriver",
            "org.apache.spark.deploy.DriverDescription",
            "org.apache.spark.deploy.Command",
            "org.apache.spark.resource.ResourceRequirement",
            "org.apache.spark.deploy.DeployMessages$RequestKillDriver",
            "org.apache.spark.deploy.DeployMessages$RequestDriverStatus",
            "org.apache.spark.deploy.DeployMessages$RequestKillAllDrivers$",
            "org.apache.spark.deploy.DeployMessages$RequestClearCompletedDriversAndApps$",
            "org.apache.spark.deploy.DeployMessages$RequestReadyz$",
            "org.apache.spark.deploy.DeployMessages$RequestMasterState$",
            "org.apache.spark.deploy.DeployMessages$SubmitDriverResponse",
            "org.apache.spark.deploy.DeployMessages$KillDriverResponse",
            "org.apache.spark.deploy.DeployMessages$DriverStatusResponse",
            "org.apache.spark.deploy.DeployMessages$KillAllDriversResponse",
            "org.apache.spark.deploy.DeployMessages$MasterStateResponse",
            "org.apache.spark.deploy.master.DriverInfo",
            "org.apache.spark.rpc.netty.RpcFailure",
            "org.apache.spark.rpc.netty.NettyRpcEndpointRef",
            "org.apache.spark.rpc.netty.RpcEndpointVerifier$CheckExistence",
            "scala.collection.immutable.List$SerializationProxy",
            "scala.collection.immutable.ListSerializeEnd$",
            "scala.collection.immutable.HashMap$SerializationProxy",
            "scala.collection.generic.DefaultSerializationProxy",
            "scala.collection.IterableFactory$ToFactory",
            "scala.collection.MapFactory$ToFactory",
            "scala.runtime.ModuleSerializationProxy",
            "scala.collection.immutable.List$",
            "scala.collection.immutable.HashMap$",
            "scala.collection.generic.SerializeEnd$",
            "scala.Tuple2",
            "scala.collection.immutable.Nil$",
            "scala.Some", "scala.None$", "scala.Option",
            "scala.Enumeration$Val", "scala.Enumeration$Value",
            "[Ljava.lang.Object;",
        };
        // then build detection's minor markers, from their one list (markers.tsv)
        List<String> all = new ArrayList<>(Arrays.asList(names));
        for (String line : Files.readAllLines(markers, StandardCharsets.UTF_8))
            if (!line.isEmpty() && !line.startsWith("#")) all.add(line.split("\t")[0]);
        StringBuilder b = new StringBuilder();
        b.append("# spark\t").append(org.apache.spark.package$.MODULE$.SPARK_VERSION())
         .append("\tscala\t").append(scala.util.Properties.versionNumberString()).append('\n');
        b.append("# class\tserialVersionUID\tflags\tsuperclass\tfields (type code, name, type signature)\n");
        for (String n : all) {
            try {
                Class<?> c = Class.forName(n, false, GoldenGen.class.getClassLoader());
                ObjectStreamClass d = ObjectStreamClass.lookup(c);
                if (d == null) { b.append(n).append("\tNOT-SERIALIZABLE\n"); continue; }
                b.append(n).append('\t').append(d.getSerialVersionUID()).append('\t');
                b.append(String.format("0x%02x", flags(c))).append('\t');
                Class<?> sup = c.getSuperclass();
                b.append(sup != null && ObjectStreamClass.lookup(sup) != null ? sup.getName() : "-").append('\t');
                StringJoiner f = new StringJoiner(" ");
                for (ObjectStreamField x : d.getFields())
                    f.add(x.getTypeCode() + x.getName() + (x.getTypeString() == null ? "" : ":" + x.getTypeString()));
                b.append(f).append('\n');
            } catch (ClassNotFoundException e) {
                b.append(n).append("\tABSENT\n");
            }
        }
        write("uids.tsv", b.toString().getBytes(StandardCharsets.UTF_8));
    }

    /** The classDescFlags ObjectOutputStream writes (java.io.ObjectStreamClass.writeNonProxy). */
    static int flags(Class<?> c) {
        int f = 0;
        if (Externalizable.class.isAssignableFrom(c)) f |= 0x04 | 0x08;
        else if (Serializable.class.isAssignableFrom(c)) f |= 0x02;
        if (c.isEnum()) f |= 0x10;
        try {
            Method m = c.getDeclaredMethod("writeObject", ObjectOutputStream.class);
            if (java.lang.reflect.Modifier.isPrivate(m.getModifiers()) && !java.lang.reflect.Modifier.isStatic(m.getModifiers()))
                f |= 0x01;
        } catch (NoSuchMethodException e) { /* none */ }
        return f;
    }
}
