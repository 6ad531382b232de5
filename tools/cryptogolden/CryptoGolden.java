// Golden vectors for Spark's RPC encryption, from the real classes of an installed Spark
// (tools/cryptogolden/gen.sh): an AuthEngine exchange for engine v1 and v2 with sparkgate's
// app id, then what CtrTransportCipher and GcmTransportCipher put on the wire for fixed
// messages.  Lives in Spark's package to reach its package-private test hooks.
package org.apache.spark.network.crypto;

import java.io.ByteArrayOutputStream;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.WritableByteChannel;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import javax.crypto.spec.SecretKeySpec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.FileRegion;
import io.netty.channel.embedded.EmbeddedChannel;

import org.apache.spark.network.util.MapConfigProvider;
import org.apache.spark.network.util.TransportConf;

public class CryptoGolden {
  static final String SECRET = "sg-test-secret-\u00e9-42";
  static PrintStream out;

  static String hex(byte[] b) {
    StringBuilder s = new StringBuilder();
    for (byte x : b) s.append(String.format("%02x", x & 0xff));
    return s.toString();
  }

  static void put(String name, byte[] b) { out.println(name + " " + hex(b)); }

  static byte[] encode(AuthMessage m) {
    ByteBuf b = Unpooled.buffer(m.encodedLength());
    m.encode(b);
    byte[] a = new byte[b.readableBytes()];
    b.readBytes(a);
    return a;
  }

  static byte[] message(int n, int seed) {
    byte[] m = new byte[n];
    for (int i = 0; i < n; i++) m[i] = (byte) (i * 7 + seed);
    return m;
  }

  static byte[] drain(FileRegion r) throws Exception {
    ByteArrayOutputStream bo = new ByteArrayOutputStream();
    WritableByteChannel ch = Channels.newChannel(bo);
    while (r.transferred() < r.count()) r.transferTo(ch, r.transferred());
    return bo.toByteArray();
  }

  // What the channel's encryption handler writes for one message.
  static byte[] send(EmbeddedChannel ch, byte[] msg) throws Exception {
    ch.writeOutbound(Unpooled.wrappedBuffer(msg));
    Object o = ch.readOutbound();
    if (o instanceof ByteBuf) {
      ByteBuf b = (ByteBuf) o;
      byte[] a = new byte[b.readableBytes()];
      b.readBytes(a);
      return a;
    }
    return drain((FileRegion) o);
  }

  public static void main(String[] args) throws Exception {
    out = new PrintStream(new FileOutputStream(args[0]));
    out.println("# Spark " + org.apache.spark.network.util.JavaUtils.class.getPackage().getImplementationVersion()
        + ": tools/cryptogolden/gen.sh; secret " + hex(SECRET.getBytes("UTF-8")));
    for (int v = 1; v <= 2; v++) {
      Map<String, String> m = new HashMap<>();
      m.put("spark.network.crypto.authEngineVersion", "" + v);
      TransportConf conf = new TransportConf("rpc", new MapConfigProvider(m));
      AuthEngine client = new AuthEngine("sparkSaslUser", SECRET, conf);
      AuthEngine server = new AuthEngine("sparkSaslUser", SECRET, conf);
      AuthMessage c = client.challenge();
      AuthMessage s = server.response(c);
      client.deriveSessionCipher(c, s);
      Field f = AuthEngine.class.getDeclaredField("clientPrivateKey");
      f.setAccessible(true);
      String p = "v" + v + ".";
      put(p + "priv", (byte[]) f.get(client));
      put(p + "challenge", encode(c));
      put(p + "response", encode(s));
      CtrTransportCipher cc = (CtrTransportCipher) client.sessionCipher();
      CtrTransportCipher sc = (CtrTransportCipher) server.sessionCipher();
      byte[] key = cc.getKey().getEncoded();
      put(p + "key", key);
      put(p + "inputIv", cc.getInputIv());
      put(p + "outputIv", cc.getOutputIv());
      // CTR: two messages each way, one stream per direction
      EmbeddedChannel ch = new EmbeddedChannel(), sh = new EmbeddedChannel();
      cc.addToChannel(ch);
      sc.addToChannel(sh);
      int[] sizes = { 100, 70000 };
      for (int i = 0; i < 2; i++) {
        put(p + "ctr.client." + i, send(ch, message(sizes[i], 3 + i)));
        put(p + "ctr.server." + i, send(sh, message(sizes[i], 5 + i)));
      }
      // GCM: an envelope per message, the same session key
      GcmTransportCipher g = new GcmTransportCipher(new SecretKeySpec(key, "AES"));
      int[] gsizes = { 100, 70000, 32728 };
      EmbeddedChannel gh = new EmbeddedChannel();
      g.addToChannel(gh);
      for (int i = 0; i < gsizes.length; i++)
        put(p + "gcm." + gsizes[i], send(gh, message(gsizes[i], 9 + i)));
    }
    out.close();
  }
}
