#!/usr/bin/env python3
"""Forced password change at next login (SPEC 9.5) on a real Dovecot.

A mailbox marked with the userdb field password_change_required (yes,
true or 1) is refused after the network decision let its login go on,
with Dovecot's password-expired result; a denied network still gets the
denial, a wrong password the plain failure; password_change.exempt_peers
(the real peer, e.g. the webmail host) and exempt_services let it in.
Every protocol's reply is pinned here as Dovecot gives it (doc/passdb.md
"A mailbox marked for a password change" and the admin guide's "Forced
password change at next login" have the same lines)."""

import os
import re
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dovecot_it import (                                      # noqa: E402
    DOVECOT_API, Dovecot, Suite, sasl_cram_md5)
from ipallow_fixtures import (                                # noqa: E402
    ALERT, AUTH_FAILED, IMAP_OK, PASSWORD, STATS_CONF, WRONG,
    Outside,
    check_log, check_reply, decision_line, imap_login, ipallow_dovecot,
    pop3_login, sql_chain, stats_counts, submission_login)
from session_fixtures import (                                # noqa: E402
    imap_session, session_dovecot)

PEER = "127.0.0.1"
INSIDE = "203.0.113.7"
USERS_PASSWD = """\
alice:{PLAIN}%(pw)s::::::userdb_allow_nets=203.0.113.0/24 \
userdb_password_change_required=yes
bob:{PLAIN}%(pw)s::::::userdb_password_change_required=TRUE
carol:{PLAIN}%(pw)s::::::userdb_password_change_required=no
dave:{PLAIN}%(pw)s::::::userdb_allow_nets=203.0.113.0/24
""" % {"pw": PASSWORD}

# Dovecot's own words for the password-expired result
IMAP_EXPIRED = "b NO [EXPIRED] Password expired"
IMAP_EXPIRED_C = "c NO [EXPIRED] Password expired"
FAIL_EXPIRED = "FAIL\t1\tuser=%s\tcode=pass_expired\treason=Password expired"
SASL_FAILED = "d NO [AUTHENTICATIONFAILED] Authentication failed."

POLICY = """\
password_change:
  exempt_peers: [192.0.2.10/32]
  exempt_services: [sieve]
"""


def pw_line(user, service, ip, peer=PEER):
    return "ipallow: password change required user=%s service=%s ip=%s%s " \
        "(password_change_required)" % (
            user, service, ip, " peer=%s" % peer if peer else "")


def imap_cases(suite, dc, out):
    cases = [
        # what, user, ip, password, reply, log (None: no decision line)
        ("alice inside, marked", "alice", INSIDE, PASSWORD, IMAP_EXPIRED,
         pw_line("alice", "imap", INSIDE)),
        ("bob, no list, marked TRUE", "bob", "198.51.100.20", PASSWORD,
         IMAP_EXPIRED, pw_line("bob", "imap", "198.51.100.20")),
        ("carol, marked no", "carol", "198.51.100.21", PASSWORD,
         "re:" + IMAP_OK % "b", None),
        ("dave, not marked, inside", "dave", "203.0.113.8", PASSWORD,
         "re:" + IMAP_OK % "b", None),
    ]
    ip = out.v4()
    cases.append(("alice outside: the denial, not the mark", "alice", ip,
                  PASSWORD, ALERT, decision_line("deny", "alice", "imap", ip,
                                                 PEER, "not in allow_nets")))
    ip = out.v4()
    cases.append(("alice wrong password: the plain failure", "alice", ip,
                  WRONG, AUTH_FAILED, None))
    for what, user, ip, password, want, log in cases:
        mark = dc.log.mark()
        reply = suite.run(what, imap_login, dc, user, password, ip)
        check_reply(suite, "imap " + what, reply or "", want)
        if log is not None:
            check_log(suite, dc, "imap " + what, mark, log)
        else:
            suite.ok("imap %s: no password-change line" % what,
                     dc.log.absent(r"password change required user=%s " %
                                   user, mark))
    mark = dc.log.mark()
    reply = suite.run("AUTHENTICATE PLAIN", imap_login, dc, "alice",
                      PASSWORD, INSIDE, mech="PLAIN")
    check_reply(suite, "imap AUTHENTICATE PLAIN alice inside", reply or "",
                IMAP_EXPIRED_C)


def other_protocols(suite, dc):
    mark = dc.log.mark()
    reply = suite.run("pop3", pop3_login, dc, "alice", PASSWORD, INSIDE)
    # pop3-login: the reason Dovecot sets for the result
    check_reply(suite, "pop3 USER/PASS alice inside", reply or "",
                "-ERR [AUTH] Password expired")
    check_log(suite, dc, "pop3 alice inside", mark,
              pw_line("alice", "pop3", INSIDE))
    reply = suite.run("submission", submission_login, dc, "alice",
                      PASSWORD, INSIDE)
    check_reply(suite, "submission AUTH PLAIN alice inside",
                " ".join(reply) if isinstance(reply, list) else reply or "",
                r"re:^535 5\.7\.8 Password expired$")
    if dc.sieve:
        with dc.managesieve() as c:
            reply = c.authenticate_plain("bob", PASSWORD)
        # sieve is in exempt_services: the webmail's ManageSieve still
        # works for a marked mailbox
        check_reply(suite, "managesieve bob (exempt service)",
                    reply[-1] if isinstance(reply, list) else reply,
                    "re:^OK")
    with dc.auth_client() as a:
        check_reply(suite, "auth socket smtp alice inside",
                    a.auth_plain("alice", PASSWORD, "smtp", rip=INSIDE),
                    FAIL_EXPIRED % "alice")
        # the webmail host as the real peer: exempt
        check_reply(suite, "auth socket alice via exempt peer 192.0.2.10",
                    a.auth_plain("alice", PASSWORD, "imap", rip=INSIDE,
                                 real_rip="192.0.2.10"),
                    r"re:^OK\t1\tuser=alice(\t|$)")
        check_reply(suite, "auth socket alice via another peer",
                    a.auth_plain("alice", PASSWORD, "imap", rip=INSIDE,
                                 real_rip="192.0.2.11"),
                    FAIL_EXPIRED % "alice")
        # CRAM-MD5: the password is checked after the chain; the mark
        # must not show to someone who may not have it
        reply = a.auth_sasl("CRAM-MD5", "smtp",
                            sasl_cram_md5("alice", PASSWORD), rip=INSIDE)
        check_reply(suite, "auth socket CRAM-MD5 alice inside: plain failure",
                    reply, "FAIL\t1\tuser=alice\tcode=user_disabled")
        reply = a.auth_sasl("CRAM-MD5", "smtp",
                            sasl_cram_md5("alice", WRONG), rip=INSIDE)
        check_reply(suite, "auth socket CRAM-MD5 alice wrong password",
                    reply, r"re:^FAIL\t1\tuser=alice(\t|$)")


def counts(suite, dc):
    c = stats_counts(dc)
    total = sum(v for k, v in c.items()
                if k.startswith("ipallow_password_change_"))
    suite.ok("event result=password_change counted (%d)" % total,
             total >= 5, repr(c))


def login_instance(suite):
    out = Outside()
    dc = ipallow_dovecot("pwchange", policy=POLICY,
                         extra_conf=STATS_CONF +
                         "auth_mechanisms = plain login cram-md5\n")
    dc.write_file("users.passwd", USERS_PASSWD)
    with dc:
        imap_cases(suite, dc, out)
        other_protocols(suite, dc)
        counts(suite, dc)


def session_instance(suite):
    """The mail plugin alone (the list and the mark only in the userdb):
    a marked mailbox's session is refused, an unmarked one goes on."""
    users = {"alice": ("203.0.113.0/24", None), "dave": ("203.0.113.0/24",
                                                          None)}
    dc = session_dovecot("pwchange-session", users=users)
    dc.write_file("userdb.passwd",
                  "alice:::::::userdb_allow_nets=203.0.113.0/24 "
                  "userdb_password_change_required=yes\n"
                  "dave:::::::userdb_allow_nets=203.0.113.0/24\n")
    with dc:
        mark = dc.log.mark()
        lines = suite.run("session alice", imap_session, dc, "alice",
                          INSIDE) or []
        suite.ok("session alice marked: refused (%r)" % lines[:1],
                 not any(re.match(r"b OK Logged in$", x) for x in lines) or
                 any("BYE" in x for x in lines), repr(lines))
        check_log(suite, dc, "session alice marked", mark,
                  pw_line("alice", "imap", INSIDE, peer=None))
        lines = suite.run("session dave", imap_session, dc, "dave",
                          INSIDE) or []
        suite.eq("session dave not marked: usable", lines[:1],
                 ["b OK Logged in"])


def webmail_session_instance(suite):
    """Both checks, the webmail host (127.0.0.1 here) in exempt_peers: the
    passdb lets the marked login in and says so in the userdb reply
    (prefetch), so the mail plugin, which cannot see the peer, lets the
    session go on too; the webmail's change-password page works."""
    dc = session_dovecot("pwchange-webmail", users={},
                         policy="password_change:\n"
                                "  exempt_peers: [127.0.0.1/32]\n",
                         login_check=True, prefetch=True)
    dc.write_file("passdb.passwd",
                  "alice:{PLAIN}%s::::::userdb_allow_nets=203.0.113.0/24 "
                  "userdb_password_change_required=yes\n" % PASSWORD)
    with dc:
        lines = suite.run("webmail session", imap_session, dc, "alice",
                          INSIDE) or []
        suite.eq("webmail session of a marked mailbox: usable", lines[:1],
                 ["b OK Logged in"])


# The mark as an SQL column, as an operator's panel or the webmail's
# password plugin would clear it together with the new password.
SQL_PW_CONF = """\
driver = sqlite
connect = {dir}/pw.db
default_pass_scheme = PLAIN
password_query = SELECT username AS user, password, \\
  allow_nets AS userdb_allow_nets, \\
  pwchange AS userdb_password_change_required \\
  FROM users WHERE username = '%u'
user_query = SELECT username AS user FROM users WHERE username = '%u'
iterate_query = SELECT username AS user FROM users
"""
AUTH_SQL_PW = sql_chain("pw-sql.conf.ext")
NEW_PASSWORD = "New-Secret-456"


def sql_update(dc, statement, *args):
    db = sqlite3.connect(dc.path("pw.db"))
    db.execute(statement, args)
    db.commit()
    db.close()


def sql_instance(suite, cache):
    """The mark in SQLite: refused while set; the user changes the
    password, which clears the mark in the same row: the next login
    works, with the passdb cache on (a changed password misses the
    cached entry) and off. Clearing only the mark, with the cache on,
    takes effect when the cached entry goes: auth_cache_ttl or doveadm
    auth cache flush."""
    p = "sql, cache %s: " % ("on" if cache else "off")
    extra = "auth_cache_size = 1M\nauth_cache_ttl = 1h\n" if cache else ""
    dc = Dovecot("pwchange-sql", AUTH_SQL_PW, extra_conf=extra,
                 files={"pw-sql.conf.ext": SQL_PW_CONF,
                        "ipallow.yaml": "# defaults\n"})
    db = sqlite3.connect(dc.path("pw.db"))
    db.execute("CREATE TABLE users (username TEXT PRIMARY KEY, password "
               "TEXT NOT NULL, allow_nets TEXT, pwchange TEXT)")
    for user in ("alice", "erin"):
        db.execute("INSERT INTO users VALUES (?, ?, ?, ?)",
                   (user, "{PLAIN}" + PASSWORD, "203.0.113.0/24", "yes"))
    db.commit()
    db.close()
    os.chmod(dc.path("pw.db"), 0o644)
    with dc:
        reply = suite.run(p + "marked", imap_login, dc, "alice", PASSWORD,
                          INSIDE)
        check_reply(suite, p + "alice marked", reply or "", IMAP_EXPIRED)
        reply = suite.run(p + "marked outside", imap_login, dc, "alice",
                          PASSWORD, "198.51.100.40")
        check_reply(suite, p + "alice marked, denied network", reply or "",
                    ALERT)
        sql_update(dc, "UPDATE users SET password = ?, pwchange = NULL "
                   "WHERE username = 'alice'", "{PLAIN}" + NEW_PASSWORD)
        reply = suite.run(p + "new password", imap_login, dc, "alice",
                          NEW_PASSWORD, INSIDE)
        check_reply(suite, p + "alice after the change, new password",
                    reply or "", "re:" + IMAP_OK % "b")
        reply = suite.run(p + "old password", imap_login, dc, "alice",
                          PASSWORD, "203.0.113.9")
        check_reply(suite, p + "alice after the change, old password",
                    reply or "", AUTH_FAILED)
        # only the mark cleared, the password unchanged
        reply = suite.run(p + "erin marked", imap_login, dc, "erin",
                          PASSWORD, INSIDE)
        check_reply(suite, p + "erin marked", reply or "", IMAP_EXPIRED)
        sql_update(dc, "UPDATE users SET pwchange = 'no' "
                   "WHERE username = 'erin'")
        reply = suite.run(p + "erin cleared", imap_login, dc, "erin",
                          PASSWORD, INSIDE)
        if cache:
            check_reply(suite, p + "erin mark cleared, cached entry: still "
                        "refused", reply or "", IMAP_EXPIRED)
            rc, out, err = dc.doveadm("auth", "cache", "flush", "erin")
            suite.eq(p + "doveadm auth cache flush erin", rc, 0)
            reply = suite.run(p + "erin flushed", imap_login, dc, "erin",
                              PASSWORD, INSIDE)
            check_reply(suite, p + "erin after the flush", reply or "",
                        "re:" + IMAP_OK % "b")
        else:
            check_reply(suite, p + "erin mark cleared", reply or "",
                        "re:" + IMAP_OK % "b")


def managesieve_instance(suite):
    """ManageSieve for a marked mailbox when sieve is not exempt."""
    dc = ipallow_dovecot("pwchange-sieve", policy="# defaults\n")
    dc.write_file("users.passwd", USERS_PASSWD)
    if not dc.sieve:
        suite.ok("managesieve-login installed", False,
                 "apt-get install dovecot-managesieved")
        return
    with dc:
        with dc.managesieve(proxy_from=INSIDE) as c:
            reply = c.authenticate_plain("alice", PASSWORD)
        check_reply(suite, "managesieve alice marked (not exempt)",
                    reply[-1] if isinstance(reply, list) else reply,
                    'NO "Password expired"')


def main():
    suite = Suite("pwchange")
    print("# Dovecot %s" % DOVECOT_API)
    suite.run("login", login_instance, suite)
    suite.run("session", session_instance, suite)
    suite.run("webmail session", webmail_session_instance, suite)
    suite.run("sql, cache off", sql_instance, suite, False)
    suite.run("sql, cache on", sql_instance, suite, True)
    suite.run("managesieve", managesieve_instance, suite)
    suite.finish()


if __name__ == "__main__":
    main()
