#!/usr/bin/env python3
"""A list that comes from another passdb than the one that verified the
password (issue 10 item 1): a passwd-file passdb verifies the password
(no lists there), a SQLite passdb only returns userdb_allow_nets
(nopassword, skip = unauthenticated), then ipallow. When the SQLite
query fails, Dovecot drops that passdb's fields and goes on; without a
list ipallow would say "unrestricted". A restricted user with the right
password from a denied network must never get OK:

- with placement_check=warn and Dovecot's default result_internalfail =
  continue on the list passdb, the driver itself refuses (temporary
  failure, one deny line naming the cause);
- with result_internalfail = return-fail (what the placement check now
  demands, see t-placement), Dovecot ends the chain there.

Both before and after the database breaks, checked over IMAP and the
auth socket (Postfix-style SMTP AUTH)."""

import os
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dovecot_it import Dovecot, Suite                         # noqa: E402
from ipallow_fixtures import (                                # noqa: E402
    ALERT, DEFAULT_POLICY, IMAP_OK, PASSWORD, USERDB_PASSWD_FILE,
    check_log, check_reply, decision_line, imap_login)

PEER = "127.0.0.1"
TEMPFAIL = r"re:^b NO \[UNAVAILABLE\] Temporary authentication failure\. " \
           r"\[.*\]$"
CAUSE = (": an earlier passdb of this login had an internal failure, so "
         "the list it may have returned is missing")

CHAIN = """\
passdb {
  driver = passwd-file
  args = scheme=PLAIN {dir}/users.passwd
  result_success = continue-ok
  result_internalfail = return-fail
}
passdb lists {
  driver = sql
  args = {dir}/lists-sql.conf.ext
  skip = unauthenticated
  result_success = continue-ok
%(list_internalfail)s}
passdb {
  driver = ipallow
  args = {dir}/ipallow.yaml%(extra_args)s
  skip = unauthenticated
  result_internalfail = return-fail
}
"""
LISTS_SQL = """\
driver = sqlite
connect = {dir}/lists.db
password_query = SELECT NULL AS password, 'Y' AS nopassword, \\
  allow_nets AS userdb_allow_nets FROM lists WHERE username = '%u'
"""


def make_lists(path):
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE lists (username TEXT PRIMARY KEY, "
               "allow_nets TEXT)")
    db.execute("INSERT INTO lists VALUES ('alice', '203.0.113.0/24')")
    db.commit()
    db.close()
    os.chmod(path, 0o644)


def break_lists(path):
    """The query now fails: "no such table: lists"."""
    db = sqlite3.connect(path)
    db.execute("DROP TABLE lists")
    db.commit()
    db.close()


def run(suite, label, list_internalfail, extra_args):
    files = {
        # the password passdb knows no lists
        "users.passwd": "alice:{PLAIN}%s::::::\n" % PASSWORD,
        "lists-sql.conf.ext": LISTS_SQL,
        "ipallow.yaml": DEFAULT_POLICY,
    }
    chain = CHAIN % {"list_internalfail": list_internalfail,
                     "extra_args": extra_args}
    dc = Dovecot("lostlist-" + label, chain + USERDB_PASSWD_FILE,
                 files=files)
    make_lists(dc.path("lists.db"))
    p = label + ": "
    with dc:
        mark = dc.log.mark()
        reply = suite.run(p + "db up, alice outside", imap_login, dc,
                          "alice", PASSWORD, "198.51.100.7")
        check_reply(suite, p + "db up, alice outside", reply or "", ALERT)
        check_log(suite, dc, p + "db up, alice outside", mark,
                  decision_line("deny", "alice", "imap", "198.51.100.7",
                                PEER, "not in allow_nets"))
        reply = suite.run(p + "db up, alice inside", imap_login, dc,
                          "alice", PASSWORD, "203.0.113.7")
        check_reply(suite, p + "db up, alice inside", reply or "",
                    "re:" + IMAP_OK % "b")

        break_lists(dc.path("lists.db"))
        mark = dc.log.mark()
        name = p + "db broken, alice outside, right password"
        reply = suite.run(name, imap_login, dc, "alice", PASSWORD,
                          "198.51.100.8")
        check_reply(suite, name, reply or "", TEMPFAIL)
        suite.ok(name + ": the query failed",
                 # 2.3 "lists(alice,ip,...)", 2.4 "auth-worker(alice,ip)
                 # ...: lists: Password query failed"
                 dc.log.wait(r"(lists|auth-worker)\(alice,198\.51\.100\.8"
                             r"[,)].*Password query failed", mark)
                 is not None,
                 dc.log.tail())
        if "placement_check=warn" in extra_args:
            check_log(suite, dc, name, mark,
                      decision_line("deny", "alice", "imap",
                                    "198.51.100.8", PEER,
                                    "internal error") + CAUSE)
        with dc.auth_client() as a:
            got = a.auth_plain("alice", PASSWORD, "smtp",
                               rip="198.51.100.9")
        suite.ok(p + "db broken, auth socket smtp: not OK",
                 not got.startswith("OK"), got)
        suite.match(p + "db broken, auth socket smtp: temp_fail", got,
                    r"^FAIL\t1\t.*code=temp_fail")


def main():
    suite = Suite("lost-list")
    suite.run("driver refuses", run, suite, "continue", "",
              " placement_check=warn")
    suite.run("return-fail", run, suite, "return-fail",
              "  result_internalfail = return-fail\n", "")
    suite.finish()


if __name__ == "__main__":
    main()
