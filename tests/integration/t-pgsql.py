#!/usr/bin/env python3
"""PostgreSQL as the user database (issue 15, item 2): Debian's
PostgreSQL started by this test on 127.0.0.1 (its own cluster in a
temporary directory, stopped by pid), Dovecot's asynchronous pgsql
driver in the auth process (no auth workers, so no 8 KiB reply cap),
the admin guide's prefetch query.

Checked: a list from a column (inside, outside, wrong password), NULL,
'' and a query without the column (all "no restriction"), a list of
exactly limits.entries (1024) entries and one over it (invalid, denied),
and the forced-password-change column."""

import os
import pwd
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dovecot_it import (                                      # noqa: E402
    DOVECOT_API, TIMEOUT, Dovecot, Suite, free_port, stop_process,
    wait_until)
from ipallow_fixtures import (                                # noqa: E402
    ALERT, AUTH_FAILED, DEBUG_EVENT_CONF, IMAP_OK, PASSWORD,
    WRONG, Outside, check_log, check_reply, decision_line, imap_login,
    sql_chain)

PG_BIN = "/usr/lib/postgresql/%s/bin"
PEER = "127.0.0.1"
FAIL_DENIED = ("FAIL\t1\tuser=%s\tcode=user_disabled\treason=Login from "
               "this network is not allowed for this mailbox.")


def pg_bin():
    base = "/usr/lib/postgresql"
    if not os.path.isdir(base):
        return None
    versions = sorted(os.listdir(base), key=lambda v: int(v.split(".")[0]))
    return PG_BIN % versions[-1] if versions else None


class Postgres:
    """One PostgreSQL cluster of our own, as the postgres user."""

    def __init__(self, bindir):
        self.bindir = bindir
        self.dir = tempfile.mkdtemp(prefix="pgsql-it-")
        self.data = os.path.join(self.dir, "data")
        self.port = free_port()
        self.pw = pwd.getpwnam("postgres")
        os.chown(self.dir, self.pw.pw_uid, self.pw.pw_gid)
        self.proc = None

    def as_postgres(self):
        os.setgid(self.pw.pw_gid)
        os.setuid(self.pw.pw_uid)

    def run(self, *args, stdin=None):
        return subprocess.run(list(args), input=stdin, text=True,
                              capture_output=True, cwd=self.dir,
                              preexec_fn=self.as_postgres, timeout=120)

    def psql(self, sql):
        p = self.run(os.path.join(self.bindir, "psql"), "-h", "127.0.0.1",
                     "-p", str(self.port), "-U", "postgres", "-d", "mail",
                     "-v", "ON_ERROR_STOP=1", "-q", stdin=sql)
        if p.returncode != 0:
            raise RuntimeError("psql: %s" % p.stderr)

    def start(self):
        p = self.run(os.path.join(self.bindir, "initdb"), "-D", self.data,
                     "-U", "postgres", "--auth=trust", "-E", "UTF8",
                     "--locale=C")
        if p.returncode != 0:
            raise RuntimeError("initdb: %s" % p.stderr)
        self.log = open(os.path.join(self.dir, "postgres.log"), "w")
        self.proc = subprocess.Popen(
            [os.path.join(self.bindir, "postgres"), "-D", self.data,
             "-p", str(self.port), "-k", self.dir,
             "-c", "listen_addresses=127.0.0.1"],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
            preexec_fn=self.as_postgres)

        def ready():
            if self.proc.poll() is not None:
                raise RuntimeError("postgres exited: %s" % self.read_log())
            return self.run(os.path.join(self.bindir, "pg_isready"), "-h",
                            "127.0.0.1", "-p", str(self.port)).returncode == 0
        if not wait_until(ready, 6 * TIMEOUT):
            raise RuntimeError("postgres did not start: %s" % self.read_log())
        p = self.run(os.path.join(self.bindir, "createdb"), "-h",
                     "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                     "mail")
        if p.returncode != 0:
            raise RuntimeError("createdb: %s" % p.stderr)
        return self

    def read_log(self):
        try:
            with open(os.path.join(self.dir, "postgres.log")) as f:
                return f.read()[-2000:]
        except OSError:
            return ""

    def stop(self):
        # SIGTERM is a smart shutdown of our postmaster: it may take a
        # while to end its sessions
        stop_process(self.proc, 3 * TIMEOUT)
        self.proc = None
        shutil.rmtree(self.dir, ignore_errors=True)


def sql_conf(port, with_column=True):
    cols = ("allow_nets AS userdb_allow_nets, pwchange AS "
            "userdb_password_change_required" if with_column else
            "pwchange AS userdb_password_change_required")
    return ("driver = pgsql\n"
            "connect = host=127.0.0.1 port=%d dbname=mail user=postgres\n"
            "default_pass_scheme = PLAIN\n"
            "password_query = SELECT username AS \"user\", password, %s "
            "FROM users WHERE username = '%%u'\n"
            "user_query = SELECT username AS \"user\" FROM users "
            "WHERE username = '%%u'\n"
            "iterate_query = SELECT username AS \"user\" FROM users\n"
            % (port, cols))


AUTH_PGSQL = sql_chain()


def v4_list(n):
    return ",".join("11.%d.%d.0/24" % (i // 256, i % 256) for i in range(n))


def fill(pg):
    rows = [("alice", "'203.0.113.0/24,2001:db8:42::/48'", "NULL"),
            ("nulluser", "NULL", "NULL"),
            ("emptyuser", "''", "NULL"),
            ("max", "'%s'" % v4_list(1024), "NULL"),
            ("over", "'%s'" % v4_list(1025), "NULL"),
            ("marked", "'203.0.113.0/24'", "'yes'")]
    sql = ("CREATE TABLE users (username TEXT PRIMARY KEY, password TEXT "
           "NOT NULL, allow_nets TEXT, pwchange TEXT);\n")
    for name, nets, mark in rows:
        sql += ("INSERT INTO users VALUES ('%s', '{PLAIN}%s', %s, %s);\n" %
                (name, PASSWORD, nets, mark))
    pg.psql(sql)


def with_column(suite, pg):
    out = Outside()
    dc = Dovecot("pgsql", AUTH_PGSQL, extra_conf=DEBUG_EVENT_CONF,
                 files={"dovecot-sql.conf.ext": sql_conf(pg.port),
                        "ipallow.yaml": "# defaults\n"})
    with dc:
        cases = [
            ("alice inside", "alice", PASSWORD, "203.0.113.7",
             "re:" + IMAP_OK % "b",
             decision_line("allow", "alice", "imap", "203.0.113.7", PEER,
                           "in allow_nets")),
            ("alice outside", "alice", PASSWORD, "198.51.100.7", ALERT,
             decision_line("deny", "alice", "imap", "198.51.100.7", PEER,
                           "not in allow_nets")),
            ("alice wrong password", "alice", WRONG, out.v4(), AUTH_FAILED,
             None),
            ("NULL column: unrestricted", "nulluser", PASSWORD, out.v4(),
             "re:" + IMAP_OK % "b", None),
            ("'' column: unrestricted", "emptyuser", PASSWORD, out.v4(),
             "re:" + IMAP_OK % "b", None),
        ]
        for what, user, password, ip, want, log in cases:
            mark = dc.log.mark()
            reply = suite.run(what, imap_login, dc, user, password, ip)
            check_reply(suite, "pgsql " + what, reply or "", want)
            if log:
                check_log(suite, dc, "pgsql " + what, mark, log)
        with dc.auth_client() as a:
            check_reply(suite, "pgsql 1024-entry list: last entry allowed",
                        a.auth_plain("max", PASSWORD, "smtp",
                                     rip="11.3.255.9"),
                        r"re:^OK\t1\tuser=max(\t|$)")
            check_reply(suite, "pgsql 1024-entry list: outside denied",
                        a.auth_plain("max", PASSWORD, "smtp",
                                     rip="198.51.100.9"),
                        FAIL_DENIED % "max")
            mark = dc.log.mark()
            check_reply(suite, "pgsql 1025-entry list: invalid, denied "
                        "inside too",
                        a.auth_plain("over", PASSWORD, "smtp",
                                     rip="11.0.0.9"),
                        FAIL_DENIED % "over")
            check_log(suite, dc, "pgsql 1025-entry list", mark,
                      'invalid allow_nets for user=over: entry 1025 '
                      '"11.4.0.0/24": list has more than 1024 entries '
                      '(limits.entries)')
            check_reply(suite, "pgsql marked mailbox",
                        a.auth_plain("marked", PASSWORD, "smtp",
                                     rip="203.0.113.9"),
                        "FAIL\t1\tuser=marked\tcode=pass_expired\t"
                        "reason=Password expired")
        suite.ok("pgsql: no auth worker (asynchronous driver)",
                 dc.log.find(r"auth-worker") is None, dc.log.tail())


def without_column(suite, pg):
    dc = Dovecot("pgsql-nocol", AUTH_PGSQL,
                 files={"dovecot-sql.conf.ext": sql_conf(pg.port, False),
                        "ipallow.yaml": "# defaults\n"})
    with dc:
        reply = suite.run("absent column", imap_login, dc, "alice",
                          PASSWORD, "198.51.100.30")
        check_reply(suite, "pgsql query without the column: unrestricted",
                    reply or "", "re:" + IMAP_OK % "b")


def main():
    suite = Suite("pgsql")
    print("# Dovecot %s" % DOVECOT_API)
    bindir = pg_bin()
    if bindir is None or not os.path.exists(
            "/usr/lib/dovecot/modules/auth/libdriver_pgsql.so") and \
            not os.path.exists("/usr/lib/dovecot/libdriver_pgsql.so"):
        suite.ok("postgresql and dovecot-pgsql installed", False,
                 "apt-get install postgresql dovecot-pgsql")
        suite.finish()
    pg = Postgres(bindir)
    try:
        suite.run("start postgres", pg.start)
        suite.run("fill", fill, pg)
        suite.run("with column", with_column, suite, pg)
        suite.run("without column", without_column, suite, pg)
    finally:
        pg.stop()
    suite.finish()


if __name__ == "__main__":
    main()
