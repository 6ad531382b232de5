"""The Debian package (make deb) on this machine: it builds from a clean checkout (git archive
of HEAD), lintian finds no error, dpkg -i installs it (binary, man page, portal, conffiles in
/etc, the sparkgate user, /var/lib/sparkgate and its files folder with their modes), the
lighttpd snippet enabled with lighty-enable-mod and the Apache snippet enabled with a2enconf
each serve create -> FINISHED -> status -> kill against a real Spark master and worker with a
login (401 without), the systemd units pass systemd-analyze verify, an upgrade keeps edited
conffiles, remove keeps the state and disables the snippets, and purge leaves every path of
the package as it was before (the sparkgate user stays, as Debian keeps system users; the
suite removes the one it made).  Needs root (dpkg).  Ends with "deb: N passed, N failed"."""
import grp
import json
import os
import pwd
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import harness as H  # noqa: E402  (its helpers work on H.C: the stack, work dir, app jar)
import web  # noqa: E402
from runner import Suite  # noqa: E402
from stack import ROOT, Stack, free_port, wait_for  # noqa: E402

SUITE = Suite("deb")
test = SUITE.test
ALICE = ("alice", web.USERS["alice"])
PKG = "sparkgate"
LIGHTTPD_LINK = "/etc/lighttpd/conf-enabled/05-sparkgate.conf"


class Ctx:
    deb = None            # the built package
    build_out = ""        # make deb's output (lintian's tags at the end)
    before = None         # the package's paths before the suite
    user_before = False   # whether a sparkgate user existed before
    uid = None            # the sparkgate user's id, once installed
    installed = False
    cycles = {}           # a web server's login_cycle thread, then what it raised


D = Ctx()


def run(argv, **kw):
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)


def package_paths():
    """Every path under /etc, /usr and /var/lib whose path names sparkgate, with its type,
    owner and mode (what installing, enabling and purging the package touch), and the
    sparkgate lines of the user and group databases."""
    out = {}
    p = run(["find", "/etc", "/usr", "/var/lib", "-path", "*sparkgate*", "-not", "-path", "/var/lib/dpkg/tmp*"])
    for path in p.stdout.split("\n"):
        if not path.startswith("/"):
            continue
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            continue
        out[path] = (stat.S_IFMT(st.st_mode), st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode))
    for db in ("/etc/passwd", "/etc/group"):
        for line in open(db):
            if line.startswith(PKG + ":"):
                out[db + ":" + PKG] = line.strip()
    return out


def installed():
    p = run(["dpkg-query", "-W", "-f=${Status}", PKG])
    return p.returncode == 0 and "installed" in p.stdout and "not-installed" not in p.stdout


def build_package(work):
    """make deb in a clean checkout: HEAD exported by git archive (no .git, no build/)."""
    src = os.path.join(work, "checkout")
    os.makedirs(src)
    p = subprocess.run("git -C %s archive HEAD | tar -xf - -C %s" % (ROOT, src), shell=True)
    assert p.returncode == 0
    env = dict(os.environ, DEB_BUILD_OPTIONS="nocheck")   # the unit tests run in their own suite
    t = time.time()
    p = run(["make", "-C", src, "deb"], env=env)
    D.build_out = p.stdout
    print("make deb (clean checkout) took %.0fs, rc %d" % (time.time() - t, p.returncode), flush=True)
    debs = [f for f in os.listdir(os.path.join(src, "build", "deb"))
            if re.match(r"sparkgate_[^_]+_[a-z0-9]+\.deb$", f)] if p.returncode == 0 else []
    assert p.returncode == 0 and len(debs) == 1, p.stdout[-4000:]
    D.deb = os.path.join(src, "build", "deb", debs[0])


def edit(path, pattern, replacement):
    """An operator's edit of one setting line of an installed settings file."""
    text = open(path).read()
    text, n = re.subn(pattern, lambda _m: replacement, text, flags=re.M)
    assert n == 1, "%s: %s not found once" % (path, pattern)
    open(path, "w").write(text)


def login_cycle(port):
    """401 without a login and with a wrong password; with one: a create that runs to
    FINISHED (its status), and a create that is killed (KILLED)."""
    s = H.C.s
    path = "/v1/submissions/status/driver-20000101000000-0000"
    st, body, hdrs = s.http("GET", path, port=port)
    assert st == 401 and "Basic" in (hdrs.get("WWW-Authenticate") or ""), (st, body)
    st, body, _ = s.http("POST", "/v1/submissions/create", H.create_body("/dev/null"), port=port)
    assert st == 401, (st, body)
    st, body, _ = s.http("GET", path, port=port, auth=(ALICE[0], "wrong"))
    assert st == 401, (st, body)
    out = os.path.join(H.C.work, "done-%d.txt" % port)
    st, js, _ = s.http("POST", "/v1/submissions/create", H.create_body(out, 0, 0), port=port, auth=ALICE)
    assert st == 200 and js["success"] is True, (st, js)
    done = js["submissionId"]
    st, js, _ = s.http("POST", "/v1/submissions/create", H.create_body("/dev/null", 120, 0), port=port, auth=ALICE)
    assert st == 200 and js["success"] is True, (st, js)
    running = js["submissionId"]

    def state(sid):
        st, js, _ = s.http("GET", "/v1/submissions/status/" + sid, port=port, auth=ALICE)
        assert st == 200 and js["success"] is True and js["submissionId"] == sid, (st, js)
        return js["driverState"]
    # a driver's JVM took 93 s to start and end on a 2-core machine at load 20
    wait_for("driver %s FINISHED" % done, lambda: state(done) == "FINISHED", 240, 0.5)
    assert H.read_out(out)["arg"]["0"] == out   # the driver ran, with its arguments
    wait_for("driver %s RUNNING" % running, lambda: state(running) == "RUNNING", 240, 0.5)
    st, js, _ = s.http("POST", "/v1/submissions/kill/" + running, b"", port=port, auth=ALICE)
    assert st == 200 and js["success"] is True, (st, js)
    wait_for("driver %s KILLED" % running, lambda: state(running) == "KILLED", 60, 0.5)
    # the portal, installed under /usr/share/sparkgate, behind the same login
    st, _, _ = s.http("GET", "/portal/", port=port)
    assert st == 401, st
    st, text, _ = s.http("GET", "/portal/", port=port, auth=ALICE)
    assert st == 200 and "<html" in text.lower(), (st, text[:200])


def background(name, port):
    """login_cycle(port) in a thread; awaited(name) re-raises what it raised."""
    def body():
        try:
            login_cycle(port)
        except BaseException as e:   # noqa: B902 (re-raised by awaited)
            D.cycles[name] = e
    th = threading.Thread(target=body, daemon=True)
    D.cycles[name] = th
    th.start()


def awaited(name):
    th = D.cycles.get(name)
    assert th is not None, "%s was not started" % name
    if isinstance(th, threading.Thread):
        th.join(300)
        assert not th.is_alive(), "%s: still running" % name
    if isinstance(D.cycles[name], BaseException):
        raise D.cycles[name]


@test
def package_builds_and_lintian_finds_no_error():
    # make deb ran lintian --fail-on error; its tags are the last lines of the output
    tags = re.findall(r"^([EWIXPO]): sparkgate[^:]*: (\S+)", D.build_out, re.M)
    errors = [t for k, t in tags if k == "E"]
    assert not errors, errors
    print("lintian: %d errors, %d warnings %s" % (
        len(errors), sum(k == "W" for k, _ in tags), sorted({t for k, t in tags if k == "W"})), flush=True)
    p = run(["dpkg-deb", "-f", D.deb, "Package", "Depends"])
    assert p.stdout.startswith("Package: sparkgate"), p.stdout


@test
def dpkg_installs_it():
    p = run(["dpkg", "-i", D.deb])
    D.installed = installed()
    assert p.returncode == 0 and D.installed, p.stdout
    p = run(["/usr/bin/sparkgate", "--version"])
    assert p.returncode == 0 and p.stdout.startswith("sparkgate "), p.stdout
    assert os.path.exists("/usr/share/man/man8/sparkgate.8.gz")
    for f in ("index.html", "portal.js", "portal.css"):
        assert os.path.exists("/usr/share/sparkgate/portal/" + f), f
    conffiles = run(["dpkg-query", "-W", "-f=${Conffiles}", PKG]).stdout
    for f in ("/etc/sparkgate/policy.conf", "/etc/sparkgate/lighttpd.conf", "/etc/sparkgate/apache.conf",
              "/etc/lighttpd/conf-available/05-sparkgate.conf", "/etc/apache2/conf-available/sparkgate.conf",
              "/etc/default/sparkgate"):
        assert f in conffiles and os.path.exists(f), (f, conffiles)
    shipped = [p for p in (os.path.join(ROOT, "policy.conf"), os.path.join(ROOT, "deploy", "policy.conf"))
               if os.path.exists(p)][0]
    assert open("/etc/sparkgate/policy.conf").read() == open(shipped).read()
    u = pwd.getpwnam(PKG)
    D.uid = u.pw_uid
    assert u.pw_uid < 1000 and u.pw_shell in ("/usr/sbin/nologin", "/bin/false"), u
    www = grp.getgrnam("www-data").gr_gid
    for path, mode in (("/var/lib/sparkgate", 0o750), ("/var/lib/sparkgate/files", 0o2750)):
        st = os.stat(path)
        assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (u.pw_uid, www, mode), (path, oct(st.st_mode))
    for unit in ("sparkgate.socket", "sparkgate.service"):
        assert os.path.exists("/lib/systemd/system/" + unit), unit


@test
def systemd_units_verify():
    units = ["/lib/systemd/system/sparkgate.socket", "/lib/systemd/system/sparkgate.service"]
    p = run(["systemd-analyze", "verify"] + units)
    assert p.returncode == 0 and not p.stdout.strip(), p.stdout
    text = open(units[1]).read()
    assert "ExecStart=/usr/bin/sparkgate $SPARKGATE_ARGS" in text and "User=sparkgate" in text, text
    assert "ListenStream=/run/sparkgate/sparkgate.sock" in open(units[0]).read()
    # the kept-connection examples point at the unit's socket, with the package's paths
    examples = "/usr/share/doc/sparkgate/examples/"
    for name, line in (("nginx.conf", "server unix:/run/sparkgate/sparkgate.sock;"),
                       ("apache-proxy-fcgi.conf", "Define SPARKGATE_SOCKET /run/sparkgate/sparkgate.sock")):
        text = open(examples + name).read()
        assert line in text and "/usr/local/" not in text, name


@test
def lighttpd_snippet_enabled_with_lighty_enable_mod():
    p = run(["lighty-enable-mod", PKG])
    assert os.path.islink(LIGHTTPD_LINK), p.stdout
    # the operator's edits, in the one settings file
    settings = "/etc/sparkgate/lighttpd.conf"
    sock_dir = web.server_dir(H.C.s, "lighttpd-deb-run")
    edit(settings, r'^var\.sparkgate_args\s*=.*$', 'var.sparkgate_args = "%s"' % web.sparkgate_args(H.C.s))
    edit(settings, r'^var\.sparkgate_socket\s*=.*$', 'var.sparkgate_socket = "%s/sparkgate.sock"' % sock_dir)
    edit(settings, r'^var\.sparkgate_htpasswd\s*=.*$', 'var.sparkgate_htpasswd = "%s"' % web.htpasswd(H.C.work))
    # Debian's own lighttpd.conf loads it (config test: it listens on :80)
    p = run(["lighttpd", "-tt", "-f", "/etc/lighttpd/lighttpd.conf"])
    assert p.returncode == 0 and "rror" not in p.stdout, p.stdout
    # served: a server on a test port that includes conf-enabled/ as Debian's does; the
    # drivers' lives (a JVM each) are awaited beside Apache's (serve_* below)
    port = web.start_lighttpd(H.C.s, "lighttpd-deb", ["/etc/lighttpd/conf-enabled/*.conf"])
    # enabled only until lighttpd has read it: other suites load Debian's lighttpd.conf
    run(["lighty-disable-mod", PKG])
    assert not os.path.lexists(LIGHTTPD_LINK)
    background("lighttpd", port)


@test
def apache_snippet_enabled_with_a2enconf():
    p = run(["a2enconf", "-q", PKG])
    assert p.returncode == 0 and run(["a2query", "-c", PKG]).returncode == 0, p.stdout
    settings = "/etc/sparkgate/apache.conf"
    edit(settings, r'^\s*Define SPARKGATE_MASTER .*$',
         "    Define SPARKGATE_MASTER spark://127.0.0.1:%d" % H.C.s.master_port)
    edit(settings, r'^\s*Define SPARKGATE_ARGS .*$', '    Define SPARKGATE_ARGS "%s"' % web.sparkgate_options(H.C.s))
    edit(settings, r'^\s*Define SPARKGATE_HTPASSWD .*$', "    Define SPARKGATE_HTPASSWD %s" % web.htpasswd(H.C.work))
    port, run_dir = free_port(), os.path.join(H.C.work, "apache-deb-run")
    os.makedirs(run_dir, exist_ok=True)
    conf = os.path.join(H.C.work, "apache-deb.conf")
    mods = "/usr/lib/apache2/modules"
    with open(conf, "w") as f:   # a server on a test port; the enabled snippet included as is
        f.write("ServerRoot /etc/apache2\nServerName 127.0.0.1\nListen 127.0.0.1:%d\nPidFile %s/httpd.pid\n"
                "Mutex file:%s default\nErrorLog /dev/stderr\nLogLevel warn\n"
                "LoadModule mpm_event_module %s/mod_mpm_event.so\nLoadModule authz_core_module %s/mod_authz_core.so\n"
                "DocumentRoot %s\nFcgidIPCDir %s/fcgid\nFcgidProcessTableFile %s/fcgid_shm\nUser www-data\n"
                "Group www-data\nInclude /etc/apache2/conf-enabled/sparkgate.conf\n"
                % (port, run_dir, run_dir, mods, mods, H.C.work, run_dir, run_dir))
    p = run(["apache2", "-f", conf, "-t"])
    assert p.returncode == 0, p.stdout
    H.C.s._start("apache-deb", ["apache2", "-f", conf, "-DFOREGROUND"])
    wait_for("apache-deb", lambda: H.C.s.http("GET", "/v1/submissions/status/x", port=port, timeout=5)[0] == 401, 30)
    background("apache", port)


@test
def service_as_the_sparkgate_user_with_state_and_uploads():
    """What sparkgate.service runs -- its ExecStart with SPARKGATE_ARGS from
    /etc/default/sparkgate, as User=sparkgate, the socket handed over as LISTEN_FDS (by
    systemd-socket-activate: systemd itself does not run here) -- behind the packaged examples
    lighttpd-external.conf and lighttpd-files.conf: the owner store and an upload land in
    /var/lib/sparkgate with their modes, lighttpd (www-data) serves the upload to the worker,
    and a driver from its URL runs FINISHED."""
    lport = free_port()
    args = ("--master spark://127.0.0.1:%d --state-db /var/lib/sparkgate/state.db --files-dir /var/lib/sparkgate/files "
            "--files-url http://127.0.0.1:%d/files %s" % (H.C.s.master_port, lport, web.sparkgate_options(H.C.s)))
    edit("/etc/default/sparkgate", r'^SPARKGATE_ARGS=.*$', 'SPARKGATE_ARGS="%s"' % args)
    got = run(["sh", "-c", '. /etc/default/sparkgate && printf %s "$SPARKGATE_ARGS"']).stdout
    assert got == args, got
    unit = open("/lib/systemd/system/sparkgate.service").read()
    assert re.search(r"^EnvironmentFile=-/etc/default/sparkgate$", unit, re.M), unit
    sock_dir = os.path.join(H.C.work, "unit-run")
    os.makedirs(sock_dir)
    shutil.chown(sock_dir, PKG, PKG)
    sock = os.path.join(sock_dir, "sparkgate.sock")
    try:
        service_checks(sock, got.split(), lport)
    finally:
        for name in ("lighttpd-unit", "sparkgate-unit"):
            H.C.s._kill(name)


def service_checks(sock, argv, lport):
    """(service_as_the_sparkgate_user_with_state_and_uploads)"""
    H.C.s._start("sparkgate-unit", ["setpriv", "--reuid", PKG, "--regid", PKG, "--init-groups", "--",
                                    "systemd-socket-activate", "-l", sock, "/usr/bin/sparkgate"] + argv)
    wait_for("sparkgate-unit socket", lambda: os.path.exists(sock), 20)
    os.chmod(sock, 0o666)   # systemd: SocketUser=www-data, SocketMode=0660
    examples = "/usr/share/doc/sparkgate/examples/"
    ext = os.path.join(H.C.work, "unit-external.conf")
    shutil.copy(examples + "lighttpd-external.conf", ext)
    edit(ext, r'^var\.sparkgate_socket\s*=.*$', 'var.sparkgate_socket = "%s"' % sock)
    edit(ext, r'^var\.sparkgate_htpasswd\s*=.*$', 'var.sparkgate_htpasswd = "%s"' % web.htpasswd(H.C.work))
    files_conf = examples + "lighttpd-files.conf"   # as installed: it serves /var/lib/sparkgate/files/pub
    assert 'var.sparkgate_files_dir  = "/var/lib/sparkgate/files"' in open(files_conf).read()
    port = web.start_lighttpd(H.C.s, "lighttpd-unit", [ext, files_conf], port=lport)
    p = subprocess.run(["curl", "-sS", "-u", "%s:%s" % ALICE, "-T", H.C.jar, "-w", "\n%{http_code}",
                        "http://127.0.0.1:%d/v1/files/app.jar" % port], stdout=subprocess.PIPE, text=True, timeout=60)
    body, _, code = p.stdout.rpartition("\n")
    assert code == "201", p.stdout
    url = json.loads(body)["file"]["url"]
    uid, www = pwd.getpwnam(PKG).pw_uid, grp.getgrnam("www-data").gr_gid
    for path, gid, mode in (("/var/lib/sparkgate/state.db", None, 0o600), ("/var/lib/sparkgate/files/pub", www, 0o2750),
                            ("/var/lib/sparkgate/files/pub/" + url.split("/files/", 1)[1], www, 0o640)):
        st = os.stat(path)
        assert st.st_uid == uid and gid in (None, st.st_gid) and stat.S_IMODE(st.st_mode) == mode, (path, st)
    with urllib.request.urlopen(url, timeout=20) as r:   # as a worker fetches it: no login
        assert r.read() == open(H.C.jar, "rb").read()
    out = os.path.join(H.C.work, "unit-out.txt")
    create = dict(H.create_body(out), appResource=url)
    st, js, _ = H.C.s.http("POST", "/v1/submissions/create", create, port=port, auth=ALICE)
    assert st == 200 and js["success"] is True, (st, js)
    sid = js["submissionId"]

    def state():
        st, js, _ = H.C.s.http("GET", "/v1/submissions/status/" + sid, port=port, auth=ALICE)
        assert st == 200 and js["success"] is True, (st, js)
        return js["driverState"]
    wait_for("driver %s FINISHED" % sid, lambda: state() == "FINISHED", 240, 0.5)
    st, js, _ = H.C.s.http("GET", "/v1/submissions/status/" + sid, port=port, auth=("bob", web.USERS["bob"]))
    # the owner store, in /var/lib/sparkgate: bob gets the answer of an unknown id
    assert st == 200 and js["success"] is False and "driverState" not in js, (st, js)
    assert "on systemd's socket" in open(os.path.join(H.C.work, "sparkgate-unit.log")).read()


@test
def lighttpd_snippet_serves_with_a_login():
    awaited("lighttpd")
    ps = run(["ps", "-eo", "user:20,args"]).stdout
    assert re.search(r"^www-data\s+/usr/bin/sparkgate --master", ps, re.M), ps
    H.C.s._kill("lighttpd-deb")


@test
def apache_snippet_serves_with_a_login():
    awaited("apache")
    H.C.s._kill("apache-deb")


@test
def upgrade_keeps_edited_conffiles():
    edited = {f: open(f).read() for f in ("/etc/sparkgate/lighttpd.conf", "/etc/sparkgate/apache.conf")}
    assert all("127.0.0.1:%d" % H.C.s.master_port in t for t in edited.values())
    # the same package with a higher version, its conffiles unchanged: an upgrade
    tree = os.path.join(H.C.work, "deb-next")
    assert run(["dpkg-deb", "-R", D.deb, tree]).returncode == 0
    edit(os.path.join(tree, "DEBIAN", "control"), r"^Version: .*$", "Version: 0.1.0+test1")
    nxt = os.path.join(H.C.work, "sparkgate-next.deb")
    p = run(["dpkg-deb", "--root-owner-group", "-b", tree, nxt])
    assert p.returncode == 0, p.stdout
    p = run(["dpkg", "-i", nxt])
    assert p.returncode == 0, p.stdout
    assert run(["dpkg-query", "-W", "-f=${Version}", PKG]).stdout == "0.1.0+test1"
    for f, text in edited.items():
        assert open(f).read() == text, f
    assert run(["a2query", "-c", PKG]).returncode == 0   # still enabled


@test
def remove_keeps_state_and_disables_the_snippets():
    state = "/var/lib/sparkgate/state.db"
    open(state, "w").close()
    os.chown(state, pwd.getpwnam(PKG).pw_uid, -1)
    if not os.path.lexists(LIGHTTPD_LINK):   # enabled again, as an operator left it
        os.symlink("../conf-available/05-sparkgate.conf", LIGHTTPD_LINK)
    p = run(["dpkg", "--remove", PKG])
    assert p.returncode == 0, p.stdout
    assert os.path.exists(state) and os.path.exists("/etc/sparkgate/lighttpd.conf")
    assert not os.path.exists("/usr/bin/sparkgate")
    # the web servers still start: no snippet left pointing at the removed binary
    assert not os.path.lexists(LIGHTTPD_LINK) and not os.path.lexists("/etc/apache2/conf-enabled/sparkgate.conf")
    p = run(["lighttpd", "-tt", "-f", "/etc/lighttpd/lighttpd.conf"])
    assert p.returncode == 0, p.stdout


@test
def purge_leaves_the_machine_as_it_was():
    p = run(["dpkg", "--purge", PKG])
    assert p.returncode == 0, p.stdout
    D.installed = installed()
    after = package_paths()
    # Debian keeps system users on purge (a file they owned elsewhere would pass to the next
    # user given the id); the suite removes the one it made (teardown)
    kept = {k for k in after if k.endswith(":" + PKG)} - set(D.before)
    assert kept == {"/etc/passwd:sparkgate", "/etc/group:sparkgate"} or D.user_before, kept
    diff = sorted(set(after.items()) ^ set(D.before.items()))
    diff = [d for d in diff if d[0] not in kept]
    assert not diff, diff


def teardown():
    H.C.s.stop()
    if os.path.lexists(LIGHTTPD_LINK) and os.readlink(LIGHTTPD_LINK) == "../conf-available/05-sparkgate.conf":
        os.unlink(LIGHTTPD_LINK)
    if installed():
        run(["dpkg", "--purge", PKG])
    # the shared-memory tables sparkgate made as the sparkgate user (named with its uid)
    if D.uid is not None and not D.user_before:
        for f in os.listdir("/dev/shm"):
            if f.startswith("sparkgate-") and "-%d-" % D.uid in f:
                os.unlink(os.path.join("/dev/shm", f))
    if not D.user_before:
        try:
            pwd.getpwnam(PKG)
            run(["deluser", "--system", "--quiet", PKG])
        except KeyError:
            pass
        try:
            grp.getgrnam(PKG)
            run(["delgroup", "--system", "--quiet", PKG])
        except KeyError:
            pass
    if D.before is not None:
        left = sorted(set(package_paths().items()) ^ set(D.before.items()))
        if left:
            print("teardown: the machine differs from before the suite: %s" % left, flush=True)


def main():
    H.C.work = tempfile.mkdtemp(prefix="sparkgate-deb-")
    os.chmod(H.C.work, 0o755)   # the web servers run as www-data and read their files here
    H.C.s = Stack(workdir=H.C.work, rest_reference=False)

    def setup():
        assert os.getuid() == 0, "the deb suite installs a package: run it as root"
        assert shutil.which("dpkg-buildpackage"), "tools/setup.sh installs the build tools"
        assert not installed(), "a sparkgate package is installed already; the suite would replace it"
        D.before = package_paths()
        D.user_before = "/etc/passwd:" + PKG in D.before
        t0 = time.time()
        # the master and worker start while the package builds
        failed = []

        def cluster():
            try:
                H.start_cluster()
            except Exception as e:   # reported after the build
                failed.append(e)
        th = threading.Thread(target=cluster)
        th.start()
        try:
            build_package(H.C.work)
        finally:
            th.join()
        if failed:
            raise failed[0]
        print("package and stack ready in %.1fs (master %d, logs %s)" % (
            time.time() - t0, H.C.s.master_port, H.C.work), flush=True)
    return SUITE.main(setup, teardown)


if __name__ == "__main__":
    sys.exit(main())
