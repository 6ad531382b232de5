"""A scriptable fake Spark master for fault injection (tests only; the real master is what
end-to-end tests use).  It speaks the transport framing of Spark's network-common
(common/network-common/.../protocol/MessageEncoder.java: i64 frame length, u8 type, i64
request id, i32 body size, body) and answers with reply streams that real Spark classes
produced (tests/golden/), so a healthy fake is indistinguishable from a 3.5.9 master for
submit, kill and status; RequestMasterState is answered with the golden state, whose one
completed driver carries the submission token of the last create the fake read (unless
`forget`).  `mode` decides what happens to each request:

  ok            answer normally
  silent        read the request, never answer
  slow:S        answer after S seconds
  close         read the request, close the connection (outcome unknown to the client)
  half          send half of the answer frame, then close
  garbage       answer with a frame whose body is not a Java stream
  noise         answer with bytes that are not a frame at all
  huge          announce a 1 GiB frame
  rpcfailure    answer with an RpcFailure (what the master sends when it cannot take a message)
  refuse        stop listening: connections are refused
"""
import os
import re
import socket
import struct
import threading
import time

from stack import ROOT

GOLDEN = os.path.join(ROOT, "tests", "golden", "spark-3.5.9_2.12")
RPC_REQUEST, RPC_RESPONSE, RPC_FAILURE = 3, 4, 5


def golden(name):
    with open(os.path.join(GOLDEN, name), "rb") as f:
        return f.read()


REPLIES = {b"RequestSubmitDriver": "reply-submit-ok.bin", b"RequestKillDriver": "reply-kill-unknown.bin",
           b"RequestDriverStatus": "reply-status-notfound.bin", b"RequestMasterState": "reply-masterstate.bin"}
TOKEN = re.compile(rb"-Dspark\.sparkgate\.submission=([0-9a-f]+)")
GOLDEN_TOKEN = b"-Dspark.sparkgate.submission=tok-done"   # its completed driver-20240101000000-0000


def frame(kind, request_id, body):
    return struct.pack(">qBqi", 8 + 1 + 8 + 4 + len(body), kind, request_id, len(body)) + body


class FakeMaster:
    def __init__(self, port=0):
        self.mode = "ok"
        self.requests = []          # (kind of message, mode it met)
        self.tokens = []            # submission tokens of the creates it read
        self.forget = False         # RequestMasterState: the creates it read are not among its drivers
        self.conns = []
        self.lock = threading.Lock()
        self.port = port
        self.sock = None
        self.listen()

    # -- listening --------------------------------------------------------------------------
    def listen(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", self.port))
        self.port = self.sock.getsockname()[1]
        self.sock.listen(16)
        threading.Thread(target=self._accept, args=(self.sock,), daemon=True).start()

    def set_mode(self, mode):
        if mode == "refuse":
            self.close()
        elif self.mode == "refuse":
            self.listen()
        self.mode = mode

    def close(self):
        if self.sock:
            self.sock.shutdown(socket.SHUT_RDWR)   # wakes the accept() blocked on it
            self.sock.close()
            self.sock = None
        with self.lock:
            for c in self.conns:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                c.close()
            self.conns = []

    def _accept(self, sock):
        while True:
            try:
                c, _ = sock.accept()
            except OSError:
                return
            with self.lock:
                self.conns.append(c)
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    # -- one connection ------------------------------------------------------------------
    @staticmethod
    def _read(c, n):
        data = b""
        while len(data) < n:
            chunk = c.recv(n - len(data))
            if not chunk:
                raise EOFError
            data += chunk
        return data

    def _serve(self, c):
        try:
            while True:
                length, = struct.unpack(">q", self._read(c, 8))
                rest = self._read(c, length - 8)
                kind = rest[0]
                if kind != RPC_REQUEST:
                    continue
                request_id, = struct.unpack(">q", rest[1:9])
                body = rest[13:]
                message = next((m for m in REPLIES if m in body), b"?")
                mode = self.mode
                self.requests.append((message.decode(), mode))
                token = TOKEN.search(body)
                if message == b"RequestSubmitDriver" and token:
                    self.tokens.append(token.group(1))
                if not self._answer(c, mode, request_id, message):
                    return
        except (EOFError, OSError):
            pass
        finally:
            c.close()

    @staticmethod
    def _with_token(reply, token, n):
        """The golden MasterStateResponse with the last create's token on its completed
        driver (a TC_STRING: 0x74, u2 length, bytes, outside any block), named
        driver-20240101000000-9NNN after the create's number (ids are unique in a store)."""
        reply = reply.replace(b"driver-20240101000000-0000", b"driver-20240101000000-%04d" % (9000 + n))
        i = reply.index(GOLDEN_TOKEN)
        assert reply[i - 3] == 0x74 and struct.unpack(">H", reply[i - 2:i])[0] == len(GOLDEN_TOKEN)
        new = b"-Dspark.sparkgate.submission=" + token
        return reply[:i - 2] + struct.pack(">H", len(new)) + new + reply[i + len(GOLDEN_TOKEN):]

    def _answer(self, c, mode, request_id, message):
        """Acts out mode; False when the connection is done."""
        reply = golden(REPLIES.get(message, "reply-status-notfound.bin"))
        if message == b"RequestMasterState" and self.tokens and not self.forget:
            reply = self._with_token(reply, self.tokens[-1], len(self.tokens) - 1)
        good = frame(RPC_RESPONSE, request_id, reply)
        if mode.startswith("slow:"):
            time.sleep(float(mode.split(":")[1]))
            mode = "ok"
        if mode == "ok":
            c.sendall(good)
        elif mode == "silent":
            pass
        elif mode == "close":
            return False
        elif mode == "half":
            c.sendall(good[:len(good) // 2])
            return False
        elif mode == "garbage":
            c.sendall(frame(RPC_RESPONSE, request_id, b"\xac\xed\x00\x05garbage-not-a-stream"))
        elif mode == "noise":
            c.sendall(b"\x00\x00\x00\x00\x00\x00\x00\x03noise")
            return False
        elif mode == "huge":
            c.sendall(struct.pack(">qBqi", 1 << 30, RPC_RESPONSE, request_id, (1 << 30) - 21))
            return False
        elif mode == "rpcfailure":
            text = b"java.lang.IllegalStateException: fake master refuses\n\tat Fake.run(Fake.java:1)"
            c.sendall(frame(RPC_FAILURE, request_id, text))
        return True
