#!/usr/bin/env python3
"""MariaDB as the user database (issue 15, item 2): Debian's MariaDB
started by this test on 127.0.0.1 (its own data directory made by
mariadb-install-db in a temporary directory, a password user for Dovecot,
stopped by pid), Dovecot's blocking mysql driver, which runs in the auth
workers, and the admin guide's prefetch query.

Checked: the worker path itself (auth-worker processes, and the 8 KiB cap
only workers have), a list from a column (inside, outside, wrong
password), NULL, '' and all-blank columns and a query without the column
(all "no restriction"), lists at the configured limits.entries and
limits.bytes and one over each (invalid, denied), and a list of the
default 1024 entries, which is over the workers' 8 KiB and never reaches
the check (temporary failure, SPEC section 3)."""

import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from auth_pipeline import auth_pids                           # noqa: E402
from dovecot_it import (                                      # noqa: E402
    DOVECOT_API, REPO_CONFD, TIMEOUT, Dovecot, Suite, free_port,
    stop_process, wait_until)
from ipallow_fixtures import (                                # noqa: E402
    ALERT, AUTH_FAILED, DEBUG_EVENT_CONF, IMAP_OK, PASSWORD,
    WRONG, Outside, check_log, check_no_decision, check_reply,
    decision_line, imap_login, sql_chain)

MARIADBD = "/usr/sbin/mariadbd"
INSTALL_DB = "/usr/bin/mariadb-install-db"
CLIENT = "/usr/bin/mariadb"
ADMIN = "/usr/bin/mariadb-admin"
GUIDE = os.path.join(REPO_CONFD, "..", "doc", "admin-guide.md")
PEER = "127.0.0.1"
DB_USER = "dovecot"
DB_PASSWORD = "Maria-Reads-456"
IMAP_OK_B = "re:" + IMAP_OK % "b"
FAIL_DENIED = ("FAIL\t1\tuser=%s\tcode=user_disabled\treason=Login from "
               "this network is not allowed for this mailbox.")
TEMP_FAIL_RE = (r"re:^b NO \[UNAVAILABLE\] Temporary authentication "
                r"failure\. \[.*\]$")

# The admin guide's prefetch query (doc/admin-guide.md, "SQL (prefetch)"),
# used verbatim: checked against the guide below.
PASSWORD_QUERY = """\
password_query = SELECT username AS user, password, \\
  allow_nets AS userdb_allow_nets FROM users WHERE username = '%u'"""
# The same without the column: the field is absent from the reply
PASSWORD_QUERY_NO_COLUMN = """\
password_query = SELECT username AS user, password \\
  FROM users WHERE username = '%u'"""

# Through the auth workers a reply is at most 8 KiB (2.3), so the limits
# are lowered to values a list can reach there (SPEC section 3: limits
# are configurable).
MAX_ENTRIES = 400
MAX_BYTES = 7000
POLICY = "limits: { entries: %d, bytes: %d }\n" % (MAX_ENTRIES, MAX_BYTES)


class MariaDB:
    """One MariaDB server of our own, running as the mysql user, with its
    data directory, socket and pid file in a temporary directory."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="mariadb-it-")
        self.data = os.path.join(self.dir, "data")
        self.socket = os.path.join(self.dir, "mysqld.sock")
        self.port = free_port()
        shutil.chown(self.dir, "mysql", "mysql")
        self.proc = None

    def path(self, name):
        return os.path.join(self.dir, name)

    def run(self, *args, stdin=None):
        return subprocess.run(list(args), input=stdin, text=True,
                              capture_output=True, timeout=120)

    def sql(self, text, database="mail"):
        """Runs SQL as the database's root, over the socket (root's
        unix_socket authentication: we are root)."""
        args = [CLIENT, "--no-defaults", "--socket=" + self.socket,
                "--user=root"]
        if database:
            args.append(database)
        p = self.run(*args, stdin=text)
        if p.returncode != 0:
            raise RuntimeError("mariadb: %s" % p.stderr)
        return p.stdout

    def start(self):
        p = self.run(INSTALL_DB, "--no-defaults", "--user=mysql",
                     "--datadir=" + self.data, "--skip-test-db",
                     "--auth-root-authentication-method=socket")
        if p.returncode != 0:
            raise RuntimeError("mariadb-install-db: %s%s" % (p.stdout,
                                                             p.stderr))
        self.log = open(self.path("stdout.log"), "w")
        # --user=mysql: mariadbd started as root drops to mysql itself,
        # and the pid we hold stays the server's
        self.proc = subprocess.Popen(
            [MARIADBD, "--no-defaults", "--user=mysql",
             "--datadir=" + self.data, "--socket=" + self.socket,
             "--port=%d" % self.port, "--bind-address=127.0.0.1",
             "--pid-file=" + self.path("mysqld.pid"),
             "--log-error=" + self.path("error.log"),
             "--innodb-buffer-pool-size=16M", "--skip-log-bin"],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)

        def ready():
            if self.proc.poll() is not None:
                raise RuntimeError("mariadbd exited: %s" % self.read_log())
            return self.run(ADMIN, "--no-defaults", "--socket=" +
                            self.socket, "--user=root",
                            "ping").returncode == 0
        if not wait_until(ready, 6 * TIMEOUT):
            raise RuntimeError("mariadbd did not start: %s" %
                               self.read_log())
        # Dovecot logs in over TCP with a password, as on a real server
        self.sql("CREATE DATABASE mail;\n"
                 "CREATE USER '%s'@'127.0.0.1' IDENTIFIED BY '%s';\n"
                 "GRANT SELECT ON mail.* TO '%s'@'127.0.0.1';\n" %
                 (DB_USER, DB_PASSWORD, DB_USER), database=None)
        return self

    def read_log(self):
        try:
            with open(self.path("error.log")) as f:
                return f.read()[-2000:]
        except OSError:
            return ""

    def stop(self):
        stop_process(self.proc)     # SIGTERM: a normal shutdown
        self.proc = None
        shutil.rmtree(self.dir, ignore_errors=True)


def sql_conf(db, with_column=True):
    return ("driver = mysql\n"
            "connect = host=127.0.0.1 port=%d dbname=mail user=%s "
            "password=%s\n"
            "default_pass_scheme = PLAIN\n"
            "%s\n"
            "user_query = SELECT username AS user FROM users "
            "WHERE username = '%%u'\n"
            "iterate_query = SELECT username AS user FROM users\n" %
            (db.port, DB_USER, DB_PASSWORD,
             PASSWORD_QUERY if with_column else PASSWORD_QUERY_NO_COLUMN))


AUTH_MYSQL = sql_chain()


def v4_list(n, second=0):
    return ",".join("11.%d.%d.0/24" % (second + i // 256, i % 256)
                    for i in range(n))


def bytes_list(n):
    """A valid list of exactly n bytes ending in 12.0.0.0/24: entries,
    then blanks (separators) to make up the length."""
    head = v4_list(100, 100) + ","
    tail = "12.0.0.0/24"
    return head + " " * (n - len(head) - len(tail)) + tail


LISTS = {
    "alice": "203.0.113.0/24,2001:db8:42::/48",
    "nulluser": None,
    "emptyuser": "",
    "blankuser": " \t ",
    "maxent": v4_list(MAX_ENTRIES),
    "overent": v4_list(MAX_ENTRIES + 1),
    "maxbytes": bytes_list(MAX_BYTES),
    "overbytes": bytes_list(MAX_BYTES + 1),
    "longlist": v4_list(1024),
}


def fill(db):
    sql = ("CREATE TABLE users (username VARCHAR(64) PRIMARY KEY, "
           "password VARCHAR(255) NOT NULL, allow_nets MEDIUMTEXT NULL) "
           "CHARACTER SET ascii;\n")
    for name, nets in LISTS.items():
        value = "NULL" if nets is None else "'%s'" % nets.replace(
            "\t", "\\t")
        sql += "INSERT INTO users VALUES ('%s', '{PLAIN}%s', %s);\n" % (
            name, PASSWORD, value)
    db.sql(sql)
    lengths = db.sql("SELECT username, LENGTH(allow_nets) FROM users "
                     "WHERE username IN ('maxbytes', 'overbytes', "
                     "'blankuser') ORDER BY username;\n")
    return [line.split("\t")[1] for line in lengths.splitlines()[1:]]


def check_guide(suite):
    with open(GUIDE) as f:
        guide = f.read()
    suite.ok("admin guide shows the tested prefetch query",
             PASSWORD_QUERY in guide,
             "missing from doc/admin-guide.md:\n" + PASSWORD_QUERY)


def with_column(suite, db):
    out = Outside()
    dc = Dovecot("mariadb", AUTH_MYSQL, extra_conf=DEBUG_EVENT_CONF,
                 files={"dovecot-sql.conf.ext": sql_conf(db),
                        "ipallow.yaml": POLICY})
    with dc:
        cases = [
            ("alice inside", "alice", PASSWORD, "203.0.113.7", IMAP_OK_B,
             decision_line("allow", "alice", "imap", "203.0.113.7", PEER,
                           "in allow_nets")),
            ("alice outside", "alice", PASSWORD, "198.51.100.7", ALERT,
             decision_line("deny", "alice", "imap", "198.51.100.7", PEER,
                           "not in allow_nets")),
            ("alice wrong password", "alice", WRONG, out.v4(), AUTH_FAILED,
             None),
        ]
        for user, what in (("nulluser", "NULL"), ("emptyuser", "''"),
                           ("blankuser", "all-blank")):
            ip = out.v4()
            cases.append(("%s column: unrestricted" % what, user, PASSWORD,
                          ip, IMAP_OK_B,
                          decision_line("unrestricted", user, "imap", ip,
                                        PEER, "no allow_nets")))
        for i, (what, user, password, ip, want, log) in enumerate(cases):
            mark = dc.log.mark()
            reply = suite.run(what, imap_login, dc, user, password, ip)
            check_reply(suite, "mariadb " + what, reply or "", want)
            if log:
                check_log(suite, dc, "mariadb " + what, mark, log)
            else:
                check_no_decision(suite, dc, "mariadb " + what, mark, user,
                                  ip)
            if i == 0:
                workers = auth_pids(dc, worker=True)
                suite.ok("the query ran in an auth worker "
                         "(auth-worker process)", len(workers) > 0,
                         "no auth-worker child of pid %d" % dc.proc.pid)
        limits(suite, dc)
        long_list(suite, dc)


def long_list(suite, dc):
    if DOVECOT_API == "2.4":
        # 2.4's auth workers have no 8 KiB cap: the list reaches the
        # check, which finds it over limits.bytes
        mark = dc.log.mark()
        with dc.auth_client() as a:
            check_reply(suite, "mariadb 1024-entry list (%d bytes): "
                        "through the 2.4 worker, invalid, denied" %
                        len(LISTS["longlist"]),
                        a.auth_plain("longlist", PASSWORD, "smtp",
                                     rip="11.0.0.9"),
                        FAIL_DENIED % "longlist")
        check_log(suite, dc, "mariadb 1024-entry list", mark,
                  "invalid allow_nets for user=longlist: list is longer "
                  "than %d bytes (limits.bytes) (%d bytes)" %
                  (MAX_BYTES, len(LISTS["longlist"])))
        return
    # 2.3: the worker's reply is cut off before the check sees it
    mark = dc.log.mark()
    reply = suite.run("1024 entries", imap_login, dc, "longlist",
                      PASSWORD, "11.3.255.9")
    check_reply(suite, "mariadb 1024-entry list (%d bytes): over the "
                "worker's 8 KiB, temporary failure" %
                len(LISTS["longlist"]), reply or "", TEMP_FAIL_RE)
    suite.ok("mariadb 1024-entry list: the worker's reply was cut off",
             dc.log.wait(r"Auth worker sent us more than 8192 bytes",
                         mark) is not None, dc.log.read(mark)[-2000:])
    check_no_decision(suite, dc, "mariadb 1024-entry list", mark,
                      "longlist", "11.3.255.9")


def limits(suite, dc):
    """At each limit the last entry still allows; one entry or byte over
    it, the whole list is invalid and denies even from inside it."""
    cases = [
        ("%d-entry list (limits.entries)" % MAX_ENTRIES, "maxent",
         "11.1.143.9", None),
        ("%d-entry list" % (MAX_ENTRIES + 1), "overent", "11.0.0.9",
         'entry %d "11.1.144.0/24": list has more than %d entries '
         '(limits.entries)' % (MAX_ENTRIES + 1, MAX_ENTRIES)),
        ("%d-byte list (limits.bytes)" % MAX_BYTES, "maxbytes", "12.0.0.9",
         None),
        ("%d-byte list" % (MAX_BYTES + 1), "overbytes", "12.0.0.9",
         "list is longer than %d bytes (limits.bytes) (%d bytes)" %
         (MAX_BYTES, MAX_BYTES + 1)),
    ]
    with dc.auth_client() as a:
        for what, user, inside, invalid in cases:
            p = "mariadb %s: " % what
            mark = dc.log.mark()
            reply = a.auth_plain(user, PASSWORD, "smtp", rip=inside)
            if invalid is None:
                check_reply(suite, p + "last entry allowed", reply,
                            r"re:^OK\t1\tuser=%s(\t|$)" % user)
                continue
            check_reply(suite, p + "invalid, denied inside too", reply,
                        FAIL_DENIED % user)
            check_log(suite, dc, p.rstrip(": "), mark,
                      "invalid allow_nets for user=%s: %s" % (user, invalid))
        check_reply(suite, "mariadb %d-entry list (limits.entries): "
                    "outside denied" % MAX_ENTRIES,
                    a.auth_plain("maxent", PASSWORD, "smtp",
                                 rip="198.51.100.9"),
                    FAIL_DENIED % "maxent")


def without_column(suite, db):
    dc = Dovecot("mariadb-nocol", AUTH_MYSQL, extra_conf=DEBUG_EVENT_CONF,
                 files={"dovecot-sql.conf.ext": sql_conf(db, False),
                        "ipallow.yaml": POLICY})
    with dc:
        mark = dc.log.mark()
        reply = suite.run("absent column", imap_login, dc, "alice",
                          PASSWORD, "198.51.100.30")
        check_reply(suite, "mariadb query without the column: "
                    "unrestricted", reply or "", IMAP_OK_B)
        check_log(suite, dc, "mariadb query without the column", mark,
                  decision_line("unrestricted", "alice", "imap",
                                "198.51.100.30", PEER, "no allow_nets"))


def main():
    suite = Suite("mariadb")
    print("# Dovecot %s" % DOVECOT_API)
    if not os.path.exists(MARIADBD) or not any(os.path.exists(p) for p in (
            "/usr/lib/dovecot/modules/auth/libdriver_mysql.so",
            "/usr/lib/dovecot/modules/libdriver_mysql.so",
            "/usr/lib/dovecot/libdriver_mysql.so")):
        suite.ok("mariadb-server and dovecot-mysql installed", False,
                 "apt-get install mariadb-server dovecot-mysql")
        suite.finish()
    check_guide(suite)
    db = MariaDB()
    try:
        if suite.run("start mariadb", db.start) is not None:
            got = suite.run("fill", fill, db)
            suite.eq("the table holds the lists as written (blank, "
                     "at and over limits.bytes)", got,
                     ["3", str(MAX_BYTES), str(MAX_BYTES + 1)])
            suite.run("with column", with_column, suite, db)
            suite.run("without column", without_column, suite, db)
    finally:
        db.stop()
    suite.finish()


if __name__ == "__main__":
    main()
