"""A real PostgreSQL for the tests: Debian's server binaries, a cluster made with initdb in
the test's folder, run as an unprivileged user (nobody, when the tests run as root), on a
loopback port, password authentication (SCRAM) on 127.0.0.1 only.  The password is in a
libpq password file (self.passfile, PGPASSFILE), never in a URI: self.url has none."""
import glob
import os
import secrets
import shutil
import subprocess

from stack import free_port, wait_for


def bindir():
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    assert dirs, "PostgreSQL server binaries missing (Debian package postgresql; tools/setup.sh installs it)"
    return dirs[-1]


class Postgres:
    def __init__(self, work):
        self.dir = os.path.join(work, "pgdata")
        self.log = os.path.join(work, "postgres.log")
        self.port = free_port()
        self.as_user = ["runuser", "-u", "nobody", "--"] if os.getuid() == 0 else []
        os.makedirs(self.dir, mode=0o700)
        if self.as_user:
            shutil.chown(self.dir, "nobody", "nogroup")
            os.chmod(work, 0o755)
            open(self.log, "a").close()
            shutil.chown(self.log, "nobody", "nogroup")
        self.password = secrets.token_urlsafe(18)
        pwfile = os.path.join(work, "pg-initdb-password")
        with open(os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
            f.write(self.password + "\n")
        if self.as_user:
            shutil.chown(pwfile, "nobody", "nogroup")
        self.run("initdb", "-D", self.dir, "-A", "scram-sha-256", "--pwfile", pwfile, "-U", "sparkgate", "--no-sync")
        os.unlink(pwfile)
        with open(os.path.join(self.dir, "pg_hba.conf"), "w") as f:   # (written as root: readable)
            f.write("host all all 127.0.0.1/32 scram-sha-256\n")
        os.chmod(os.path.join(self.dir, "pg_hba.conf"), 0o644)
        self.url = "postgresql://sparkgate@127.0.0.1:%d/postgres" % self.port
        self.passfile = os.path.join(work, "pgpass")
        with open(os.open(self.passfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
            f.write("127.0.0.1:%d:*:sparkgate:%s\n" % (self.port, self.password))

    def env(self):
        """The environment of a libpq client that finds the password in the password file."""
        return dict(os.environ, PGPASSFILE=self.passfile)

    def run(self, tool, *args):
        subprocess.run(self.as_user + [os.path.join(bindir(), tool)] + list(args), check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def start(self):
        self.run("pg_ctl", "-D", self.dir, "-l", self.log, "-w", "-o",
                 "-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off" % (self.port, self.dir), "start")
        wait_for("postgres", lambda: subprocess.run([os.path.join(bindir(), "pg_isready"), "-h", "127.0.0.1", "-p",
                                                     str(self.port)], stdout=subprocess.DEVNULL).returncode == 0, 30)

    def stop(self, mode="fast"):
        self.run("pg_ctl", "-D", self.dir, "-m", mode, "-w", "stop")

    def psql(self, sql):
        p = subprocess.run([os.path.join(bindir(), "psql"), "-X", "-A", "-t", "-h", "127.0.0.1", "-p", str(self.port),
                            "-U", "sparkgate", "-d", "postgres", "-c", sql], check=True, stdout=subprocess.PIPE, text=True,
                           env=self.env())
        return p.stdout.strip()
