"""The shipped web-server configurations (lighttpd.conf, apache.conf and nginx.conf at the top
of the repository, the variants in deploy/), run for real by the tests.

Each shipped file has a "settings" block of `var.NAME = ...` lines (lighttpd), `Define`
lines (Apache) or `NAME=...` lines (the CGI wrapper); an operator edits exactly those.
settings() does the same edit and fails if a setting the test needs is not in the file,
so the tests always run the files users get.  Everything listens on 127.0.0.1."""
import os
import re
import shutil
import socket
import subprocess

from stack import ROOT, free_port, wait_for

DEPLOY = os.path.join(ROOT, "deploy")
TOP_LEVEL = ("lighttpd.conf", "apache.conf", "nginx.conf")   # the main shipped files, beside the Makefile


def shipped(name):
    """The path of a shipped file: the three main configurations at the top level, the
    variants, the portal, the policy and the units in deploy/."""
    return os.path.join(ROOT if name in TOP_LEVEL else DEPLOY, name)
USERS = {"alice": "alice-pw", "bob": "bob-pw", "carol": "carol-pw", "dave": "dave-pw"}


def settings(src, dst, values, style="lighttpd"):
    """Copies shipped file src to dst with the given settings changed (nginx: the value of
    every directive marked "# setting: NAME")."""
    with open(shipped(src)) as f:
        text = f.read()
    for name, value in values.items():
        if style == "lighttpd":
            pat, rep = r'^var\.%s\s*=.*$' % re.escape(name), 'var.%s = %s' % (name, lighttpd_value(value))
        elif style == "nginx":
            pat = r'^([ \t]*\S+ )[^;\n]*(;[ \t]*# setting: %s\b.*)$' % re.escape(name)
            text, n = re.subn(pat, lambda m: m.group(1) + value + m.group(2), text, flags=re.M)
            assert n >= 1, "setting %s not found in %s" % (name, src)
            continue
        else:  # shell
            pat, rep = r'^%s=.*$' % re.escape(name), "%s='%s'" % (name, value)
        text, n = re.subn(pat, lambda _m: rep, text, flags=re.M)
        assert n == 1, "setting %s not found once in %s" % (name, os.path.relpath(shipped(src), ROOT))
    with open(dst, "w") as f:
        f.write(text)
    return dst


def lighttpd_value(v):
    return str(v) if isinstance(v, int) else '"%s"' % v.replace("\\", "\\\\").replace('"', '\\"')


def htpasswd(work):
    path = os.path.join(work, "htpasswd")
    for i, (user, pw) in enumerate(USERS.items()):
        subprocess.run(["htpasswd", "-B", "-b"] + ([] if i else ["-c"]) + [path, user, pw], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.chmod(path, 0o644)
    return path


def private_binary(stack):
    """A copy of sparkgate in the (world-readable) work folder: Apache runs it as
    www-data, which may not be able to reach the checkout (e.g. under /root)."""
    os.chmod(stack.work, 0o755)
    dst = os.path.join(stack.work, "bin", "sparkgate")
    if not os.path.exists(dst):
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(stack.sparkgate, dst)
        os.chmod(dst, 0o755)
    return dst


def private_portal(stack):
    """A copy of deploy/portal/ the web server's user can read (see private_binary)."""
    dst = os.path.join(stack.work, "portal")
    if not os.path.exists(dst):
        shutil.copytree(os.path.join(DEPLOY, "portal"), dst)
    return dst


def sparkgate_options(stack, extra=""):
    """sparkgate's options other than --master."""
    # single spaces: lighttpd's bin-path turns each space into an argument boundary
    return " ".join(("--timeout 5 --connect-timeout 2 %s %s" % (stack.sparkgate_args, extra)).split())


def sparkgate_args(stack, extra=""):
    return "--master spark://127.0.0.1:%d %s" % (stack.master_port, sparkgate_options(stack, extra))


def lighttpd_base(stack, name, port, includes, extra=""):
    """A whole lighttpd server on 127.0.0.1:port that includes the given config files."""
    os.chmod(stack.work, 0o755)   # it runs as www-data: sockets and files in here
    conf = os.path.join(stack.work, name + "-server.conf")
    with open(conf, "w") as f:
        f.write('server.bind = "127.0.0.1"\nserver.port = %d\n' % port)
        f.write('server.document-root = "%s"\n' % stack.work)
        f.write('server.tag = "sparkgate-test"\n')
        # large bodies are buffered in files (as Debian's /var/cache/lighttpd/uploads)
        f.write('server.upload-dirs = ( "%s" )\n' % server_dir(stack, "uploads"))
        if os.getuid() == 0:  # as Debian's lighttpd runs: not as root
            f.write('server.username = "www-data"\nserver.groupname = "www-data"\n')
        f.write(extra)
        for inc in includes:
            f.write('include "%s"\n' % inc)
    return conf


def start_lighttpd(stack, name, includes, port=None, extra="", probe_path="/v1/submissions/status/x",
                   scheme="http"):
    port = port or free_port()
    conf = lighttpd_base(stack, name, port, includes, extra)
    subprocess.run(["lighttpd", "-tt", "-f", conf], check=True)
    stack._start(name, ["lighttpd", "-D", "-f", conf])
    wait_for(name, lambda: stack.http("GET", probe_path, port=port, timeout=5, scheme=scheme)[0] == 401, 30)
    return port


SHIPPED_APP_LINE = "allow app https://apps.example.com/spark/ com.example.analytics.DailyReport com.example.etl.*"
TEST_MAINS = ("TestApp",)   # the test applications' main classes (tests/app/)


def shipped_policy(path, app_dir, extra="", mains=TEST_MAINS):
    """deploy/policy.conf with only its "allow app" line edited, as an operator would, to
    approve the main classes mains from app_dir; extra lines after it.  Returns path."""
    text = open(os.path.join(DEPLOY, "policy.conf")).read()
    assert SHIPPED_APP_LINE in text, "deploy/policy.conf lost its allow app line"
    with open(path, "w") as f:
        f.write(text.replace(SHIPPED_APP_LINE, "allow app file:%s/ %s" % (app_dir, " ".join(mains))) + extra)
    return path


def server_dir(stack, name):
    """A folder the web server may write (its user, as root: www-data), like /run/lighttpd."""
    path = os.path.join(stack.work, name)
    os.makedirs(path, exist_ok=True)
    if os.getuid() == 0:
        shutil.chown(path, "www-data", "www-data")
    return path


def lighttpd_to_socket(stack, name, sock):
    """A lighttpd with no login handing every path to the sparkgate on unix socket sock
    (tests of sparkgate itself: faults, signals, soak, a server left without a login)."""
    port = free_port()
    conf = lighttpd_base(stack, name, port, [], extra=(
        'server.modules += ( "mod_fastcgi" )\nfastcgi.server = ( "/" => (( "socket" => "%s", '
        '"check-local" => "disable" )))\n' % sock))
    stack._start(name, ["lighttpd", "-D", "-f", conf])
    wait_for(name, lambda: socket.create_connection(("127.0.0.1", port), 1).close() or True, 30)
    return port


def lighttpd_fastcgi(stack, name="lighttpd-fcgi", prefix="/v1", procs=2, extra_args="", port=None, files_dir=None,
                     binary=None, files_shared=False):
    """lighttpd.conf: lighttpd spawns sparkgate (bin-path, max-procs) and serves the
    portal from the checkout's deploy/portal/; with files_dir also deploy/lighttpd-files.conf
    (sparkgate's --files-dir etc. come in extra_args); files_shared: the uploads are in a
    PostgreSQL store, deploy/lighttpd-files-shared.conf instead; binary: another sparkgate
    (a test build) than the stack's."""
    binary = binary or private_binary(stack)
    conf = settings("lighttpd.conf", os.path.join(stack.work, name + ".conf"), {
        "sparkgate_portal": private_portal(stack),
        "sparkgate_bin": binary, "sparkgate_args": sparkgate_args(stack, extra_args),
        "sparkgate_socket": os.path.join(server_dir(stack, name + "-run"), "sparkgate.sock"),
        "sparkgate_procs": procs,
        "sparkgate_htpasswd": htpasswd(stack.work), "sparkgate_prefix": prefix})
    includes = [conf]
    if files_shared:
        includes.append(settings("lighttpd-files-shared.conf", os.path.join(stack.work, name + "-files.conf"), {}))
    elif files_dir:
        includes.append(settings("lighttpd-files.conf", os.path.join(stack.work, name + "-files.conf"), {
            "sparkgate_files_dir": files_dir}))
    return start_lighttpd(stack, name, includes, port=port)


def lighttpd_external(stack, socket_path, name="lighttpd-ext", tls_pem=None):
    """deploy/lighttpd-external.conf (+ deploy/lighttpd-tls.conf): sparkgate runs on its own."""
    conf = settings("lighttpd-external.conf", os.path.join(stack.work, name + ".conf"), {
        "sparkgate_socket": socket_path, "sparkgate_htpasswd": htpasswd(stack.work)})
    includes, port = [conf], free_port()
    if tls_pem:
        includes.append(settings("lighttpd-tls.conf", os.path.join(stack.work, name + "-tls.conf"), {
            "sparkgate_tls_socket": "127.0.0.1:%d" % port, "sparkgate_tls_pem": tls_pem}))
        # only HTTPS: the TLS socket is the server's one port
        return start_lighttpd(stack, name, includes, port=port, scheme="https")
    return start_lighttpd(stack, name, includes, port=port)


def lighttpd_cgi(stack, name="lighttpd-cgi"):
    """deploy/lighttpd-cgi.conf running deploy/sparkgate.cgi once per request."""
    binary = private_binary(stack)
    cgi = settings("sparkgate.cgi", os.path.join(stack.work, "bin", "sparkgate.cgi"), {
        "SPARKGATE_BIN": binary, "SPARKGATE_ARGS": sparkgate_args(stack)}, style="shell")
    os.chmod(cgi, 0o755)
    conf = settings("lighttpd-cgi.conf", os.path.join(stack.work, name + ".conf"), {
        "sparkgate_cgi": cgi, "sparkgate_htpasswd": htpasswd(stack.work)})
    return start_lighttpd(stack, name, [conf])


def self_signed(work):
    key, crt, pem = (os.path.join(work, n) for n in ("tls.key", "tls.crt", "tls.pem"))
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", crt,
                    "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(pem, "w") as out:
        for p in (crt, key):
            out.write(open(p).read())
    os.chmod(pem, 0o644)
    return pem, crt


def apache(stack, name="apache", max_procs=None, anonymous=False, port=None, files_dir=None, extra_args="",
           files_shared=False, socket_path=None):
    """Apache 2.4 + mod_fcgid with the top-level apache.conf included unchanged; its settings come
    from Define lines before it, as the file documents.  anonymous: a later <Location>
    drops the login and sparkgate runs with --anonymous allow (for clients that cannot log
    in, such as spark-submit, on a trusted network).  files_shared: Define
    SPARKGATE_FILES_SHARED (the uploads are in a PostgreSQL store, sparkgate serves /files/).
    socket_path: deploy/apache-proxy-fcgi.conf instead (mod_proxy_fcgi, connections reused)
    to the sparkgate listening there."""
    binary = private_binary(stack)
    port = port or free_port()
    run = os.path.join(stack.work, name + "-run")
    os.makedirs(run, exist_ok=True)
    os.chmod(run, 0o755)
    conf = os.path.join(stack.work, name + ".conf")
    mods = "/usr/lib/apache2/modules"
    with open(conf, "w") as f:
        f.write("""ServerRoot /etc/apache2
ServerName 127.0.0.1
Listen 127.0.0.1:%(port)d
PidFile %(run)s/httpd.pid
Mutex file:%(run)s default
ErrorLog /dev/stderr
LogLevel warn
LoadModule mpm_event_module %(mods)s/mod_mpm_event.so
LoadModule authz_core_module %(mods)s/mod_authz_core.so
DocumentRoot %(work)s
""" % dict(port=port, run=run, mods=mods, work=stack.work))
        if not socket_path:
            f.write("FcgidIPCDir %s/fcgid\nFcgidProcessTableFile %s/fcgid_shm\n" % (run, run))
        if os.getuid() == 0:
            f.write("User www-data\nGroup www-data\n")
        f.write('Define SPARKGATE_BIN "%s"\n' % binary)
        f.write('Define SPARKGATE_MASTER "spark://127.0.0.1:%d"\n' % stack.master_port)
        f.write('Define SPARKGATE_ARGS "%s"\n' % sparkgate_options(
            stack, ("--anonymous allow " if anonymous else "") + extra_args))
        if files_dir:
            f.write('Define SPARKGATE_FILES "%s"\n' % files_dir)
        if files_shared:
            f.write('Define SPARKGATE_FILES_SHARED\n')
        f.write('Define SPARKGATE_HTPASSWD "%s"\n' % htpasswd(stack.work))
        f.write('Define SPARKGATE_PORTAL "%s"\n' % private_portal(stack))
        if socket_path:
            f.write('Define SPARKGATE_SOCKET "%s"\n' % socket_path)
        f.write("Include %s\n" % shipped("apache-proxy-fcgi.conf" if socket_path else "apache.conf"))
        if anonymous:
            f.write("<Location /v1/submissions>\n    Require all granted\n</Location>\n")
        if max_procs:  # after the shipped file: the test's own override
            f.write("FcgidMaxProcessesPerClass %d\n" % max_procs)
    subprocess.run(["apache2", "-f", conf, "-t"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    stack._start(name, ["apache2", "-f", conf, "-DFOREGROUND"])
    wait_for(name, lambda: stack.http("GET", "/v1/submissions/status/x", port=port, timeout=5)[0]
             == (200 if anonymous else 401), 30)
    return port


def nginx(stack, socket_path, name="nginx", files_dir=None, port=None):
    """The top-level nginx.conf in a whole nginx on 127.0.0.1:port, its settings
    edited, to the sparkgate listening on socket_path (kept FastCGI connections)."""
    os.chmod(stack.work, 0o755)   # its workers run as www-data: the login file and portal are in here
    port = port or free_port()
    run = server_dir(stack, name + "-run")
    snippet = settings("nginx.conf", os.path.join(stack.work, name + "-sparkgate.conf"), dict({
        "socket": "unix:" + socket_path, "listen": "127.0.0.1:%d" % port, "htpasswd": htpasswd(stack.work),
        "portal": private_portal(stack) + "/"}, **({"files": files_dir + "/pub/"} if files_dir else {})),
        style="nginx")
    conf = os.path.join(stack.work, name + ".conf")
    with open(conf, "w") as f:
        f.write("daemon off;\npid %s/nginx.pid;\nerror_log stderr warn;\nworker_processes 1;\n" % run)
        if os.getuid() == 0:   # as Debian's nginx workers run: not as root
            f.write("user www-data;\n")
        f.write("events { worker_connections 1024; }\nhttp {\n    access_log off;\n")
        for t in ("client_body", "fastcgi", "proxy", "uwsgi", "scgi"):
            f.write("    %s_temp_path %s/%s;\n" % (t, run, t))
        f.write("    include %s;\n}\n" % snippet)
    subprocess.run(["nginx", "-e", "stderr", "-p", run, "-c", conf, "-t", "-q"], check=True)
    stack._start(name, ["nginx", "-e", "stderr", "-p", run, "-c", conf])
    wait_for(name, lambda: stack.http("GET", "/v1/submissions/status/x", port=port, timeout=5)[0] == 401, 30)
    return port
