#!/usr/bin/env python3
"""The tricky paths of the passdb chain (doc/passdb.md): a denial must stay
final with a master user, with the passdb cache, with a passdb after ours,
and the credentials mechanisms (CRAM-MD5, SCRAM), which look the password
up instead of verifying it, must be enforced too. Also the warning about
Dovecot's native allow_nets field."""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dovecot_it import (                                      # noqa: E402
    DOVECOT_API, Suite, auth_level_re, sasl_cram_md5, sasl_scram)
from ipallow_fixtures import (                                # noqa: E402
    SILENT_FAIL,
    ALERT, AUTH_FAILED, BACKENDS, DEBUG_EVENT_CONF, IMAP_OK, MASTER_PASSWORD,
    PASSWORD, REASON, USERS, WRONG, Outside, check_log, check_outcome,
    check_reply, decision_line, imap_login, ipallow_dovecot)

PEER = "127.0.0.1"
IMAP_OK_B = "re:" + IMAP_OK % "b"
IMAP_OK_D = "re:" + IMAP_OK % "d"
SASL_FAILED = "d NO [AUTHENTICATIONFAILED] Authentication failed."
MECHS = {
    "CRAM-MD5": lambda user, pw: sasl_cram_md5(user, pw),
    "SCRAM-SHA-1": lambda user, pw: sasl_scram(user, pw, "sha1"),
    "SCRAM-SHA-256": lambda user, pw: sasl_scram(user, pw, "sha256"),
}


def login_case(suite, dc, name, user, ip, want, log, password=PASSWORD):
    mark = dc.log.mark()
    reply = suite.run(name, imap_login, dc, user, password, ip)
    if reply is None:
        return mark
    check_outcome(suite, dc, name, mark, reply, want, user.split("*")[0],
                  ip, log)
    return mark


def sasl_login(dc, mech, user, password, ip):
    with dc.imap() as c:
        c.forward_ip(ip)
        reply = c.authenticate_sasl(mech, MECHS[mech](user, password))
        if " OK " in reply:
            c.logout()
        return reply


def sasl_case(suite, dc, name, mech, ip, password, want, log):
    mark = dc.log.mark()
    reply = suite.run(name, sasl_login, dc, mech, "alice", password, ip)
    if reply is None:
        return mark
    check_reply(suite, name, reply, want)
    check_log(suite, dc, name, mark, log)
    return mark


def mech_suffix(mech):
    return " [mech=%s: password not verified yet, reason not sent]" % mech


def master_user(suite, dc, backend, out):
    p = backend + " master user: "
    login_case(suite, dc, p + "alice*admin outside", "alice*admin",
               "198.51.100.7",
               "b NO [AUTHORIZATIONFAILED] " + REASON,
               decision_line("deny", "alice", "imap", "198.51.100.7", PEER,
                             "not in allow_nets"), MASTER_PASSWORD)
    login_case(suite, dc, p + "alice*admin inside", "alice*admin",
               "203.0.113.7", IMAP_OK_B,
               decision_line("allow", "alice", "imap", "203.0.113.7", PEER,
                             "in allow_nets"), MASTER_PASSWORD)
    ip = out.v4()
    login_case(suite, dc, p + "alice*admin wrong master password",
               "alice*admin", ip, AUTH_FAILED, None, WRONG)
    login_case(suite, dc, p + "erin*admin outside (no list)", "erin*admin",
               "198.51.100.8", IMAP_OK_B,
               decision_line("unrestricted", "erin", "imap", "198.51.100.8",
                             PEER, "no allow_nets"), MASTER_PASSWORD)
    # The target user is unknown to the passdb: ipallow must not turn
    # Dovecot's failure into a success.
    login_case(suite, dc, p + "nosuch*admin (unknown user)", "nosuch*admin",
               "203.0.113.9", "b NO [AUTHORIZATIONFAILED] Authorization "
               "failed",
               decision_line("unrestricted", "nosuch", "imap", "203.0.113.9",
                             PEER, "no allow_nets") +
               " [no passdb before granted the login]", MASTER_PASSWORD)


def credentials(suite, dc, backend, out):
    for n, mech in enumerate(MECHS):
        p = "%s %s: " % (backend, mech)
        ip = out.v4()
        sasl_case(suite, dc, p + "outside", mech, ip, PASSWORD, SASL_FAILED,
                  decision_line("deny", "alice", "imap", ip, PEER,
                                "not in allow_nets") + mech_suffix(mech))
        ip = out.v4()
        sasl_case(suite, dc, p + "outside, wrong password", mech, ip, WRONG,
                  SASL_FAILED,
                  decision_line("deny", "alice", "imap", ip, PEER,
                                "not in allow_nets") + mech_suffix(mech))
        sasl_case(suite, dc, p + "inside", mech, "203.0.113.20", PASSWORD,
                  IMAP_OK_D,
                  decision_line("allow", "alice", "imap", "203.0.113.20",
                                PEER, "in allow_nets"))
        ip = "203.0.113.%d" % (21 + n)
        sasl_case(suite, dc, p + "inside, wrong password", mech, ip, WRONG,
                  SASL_FAILED,
                  decision_line("allow", "alice", "imap", ip, PEER,
                                "in allow_nets"))
    with dc.auth_client() as a:
        name = backend + " CRAM-MD5 auth socket outside"
        mark = dc.log.mark()
        reply = a.auth_sasl("CRAM-MD5", "smtp",
                            sasl_cram_md5("alice", PASSWORD),
                            rip="198.51.100.30")
        # no field of the password passdb either (t-silent.py)
        suite.eq(name, reply, SILENT_FAIL % "alice")
        check_log(suite, dc, name, mark, decision_line(
            "deny", "alice", "smtp", "198.51.100.30", None,
            "not in allow_nets") + mech_suffix("CRAM-MD5"))
        reply = a.auth_sasl("CRAM-MD5", "smtp",
                            sasl_cram_md5("alice", PASSWORD),
                            rip="203.0.113.30")
        suite.match(backend + " CRAM-MD5 auth socket inside", reply,
                    "^OK\t1\tuser=alice(\t|$)")


def native_field(suite, dc, backend):
    p = backend + " native allow_nets: "
    warning = (auth_level_re("Warning") + r".*ipallow: the passdb returned "
               r"Dovecot's native allow_nets field \(user=heidi\)")
    mark = dc.log.mark()
    for i in range(2):
        reply = suite.run(p + "login", imap_login, dc, "heidi", PASSWORD,
                          "203.0.113.%d" % (40 + i))
        check_reply(suite, p + "login %d" % (i + 1), reply or "", IMAP_OK_B)
    dc.log.wait(warning, mark)
    suite.eq(p + "warned once per process",
             len(dc.log.find_all(warning, mark)), 1)


def native_field_escaped(suite):
    """The user name in the native-field warning is escaped like in the
    decision lines, so a name cannot forge text in the line (issue 10
    item 7). Its own instance: the warning comes once per process."""
    name = "mallory) dovecot says all fine (user=x"
    # auth_username_chars empty: any name, as some sites configure it
    dc = ipallow_dovecot("native-escape", users={
        name: ("203.0.113.0/24", "0.0.0.0/0,::/0")},
        extra_conf="auth_username_chars =\n")
    with dc:
        mark = dc.log.mark()
        reply = suite.run("native escaped: login", imap_login, dc, name,
                          PASSWORD, "203.0.113.44")
        check_reply(suite, "native escaped: login", reply or "",
                    IMAP_OK_B)
        line = dc.log.wait(r"native allow_nets field", mark) or ""
        suite.ok("native escaped: user name escaped in the warning",
                 "(user=mallory)\\x20dovecot\\x20says\\x20all\\x20fine"
                 "\\x20(user=x)" in line, line)


# Longer than the 8 KiB an auth worker may send back (SPEC §3).
LONG_LIST = ",".join("198.18.%d.%d/32" % (i // 200, i % 200 + 1)
                     for i in range(600)) + ",203.0.113.0/24"


def long_list(suite, dc, backend):
    """Past 8 KiB a list breaks the login, never opens it: through the SQL
    passdb's auth workers the passdb reply is cut off (temporary failure);
    with passwd-file ipallow sees the whole list and decides, but the
    userdb reply that carries it to the mail process is over the 8 KiB
    that process accepts, so an allowed login still fails."""
    p = "%s %d-byte list: " % (backend, len(LONG_LIST))
    # Dovecot 2.4's auth workers have no 8 KiB cap: there SQL behaves
    # like passwd-file below
    if backend == "sql" and DOVECOT_API != "2.4":
        mark = dc.log.mark()
        reply = suite.run(p + "login", imap_login, dc, "longlist", PASSWORD,
                          "203.0.113.50")
        check_reply(suite, p + "refused, temporary failure", reply or "",
                    r"re:^b NO \[UNAVAILABLE\] Temporary authentication "
                    r"failure\. \[.*\]$")
        suite.ok(p + "worker reply too long",
                 dc.log.wait(r"Auth worker sent us more than 8192 bytes",
                             mark) is not None, dc.log.read(mark))
        return
    mark = dc.log.mark()
    try:
        reply = imap_login(dc, "longlist", PASSWORD, "203.0.113.51")
    except ConnectionError:
        # imap-login sometimes closes before it can send its reply
        reply = "(connection closed)"
    suite.match(p + "inside: not logged in", reply,
                r"^(b NO \[UNAVAILABLE\] Internal error occurred\. Refer to "
                r"server log for more information\.|\(connection closed\))$")
    check_log(suite, dc, p + "inside", mark,
              decision_line("allow", "longlist", "imap", "203.0.113.51",
                            PEER, "in allow_nets"))
    suite.ok(p + "userdb reply too long for the mail process",
             dc.log.wait(r"imap\(\d+\): Error: auth-master: login: Auth "
                         r"server sent us too long line", mark) is not None,
             dc.log.read(mark))
    login_case(suite, dc, p + "outside", "longlist", "198.51.100.50", ALERT,
               decision_line("deny", "longlist", "imap", "198.51.100.50",
                             PEER, "not in allow_nets"))


def chain_instance(suite, backend):
    out = Outside()
    users = dict(USERS)
    users["longlist"] = (LONG_LIST, None)
    dc = ipallow_dovecot("chain-" + backend, backend, master=True,
                         extra_conf=DEBUG_EVENT_CONF, users=users)
    with dc:
        suite.run(backend + " long list", long_list, suite, dc, backend)
        suite.run(backend + " master", master_user, suite, dc, backend, out)
        suite.run(backend + " credentials", credentials, suite, dc, backend,
                  out)
        suite.run(backend + " native", native_field, suite, dc, backend)


def cache_instance(suite):
    """SQL passdb with the passdb cache: the SQL passdb's answer comes
    from the cache, ours is never cached."""
    out = Outside()
    dc = ipallow_dovecot("cache", "sql", extra_conf=DEBUG_EVENT_CONF +
                         "auth_cache_size = 1M\nauth_cache_ttl = 1h\n"
                         "auth_cache_negative_ttl = 1h\nauth_debug = yes\n")
    hit = r"(?:sql|auth)\(alice,%s[,)].*cache hit"
    with dc:
        login_case(suite, dc, "cache: alice inside (fills the cache)",
                   "alice", "203.0.113.7", IMAP_OK_B,
                   decision_line("allow", "alice", "imap", "203.0.113.7",
                                 PEER, "in allow_nets"))
        for what, ip in (("outside", "198.51.100.7"),
                         ("outside IPv6", "2001:db8:43::7")):
            mark = login_case(suite, dc, "cache: alice %s" % what, "alice",
                              ip, ALERT,
                              decision_line("deny", "alice", "imap", ip,
                                            PEER, "not in allow_nets"))
            suite.ok("cache: alice %s was a cache hit" % what,
                     dc.log.find(hit % re.escape(ip), mark) is not None,
                     dc.log.read(mark)[-2000:])
        mark = login_case(suite, dc, "cache: alice inside after denials",
                          "alice", "203.0.113.8", IMAP_OK_B,
                          decision_line("allow", "alice", "imap",
                                        "203.0.113.8", PEER,
                                        "in allow_nets"))
        suite.ok("cache: alice inside after denials was a cache hit",
                 dc.log.find(hit % re.escape("203.0.113.8"), mark)
                 is not None, dc.log.read(mark)[-2000:])
        login_case(suite, dc, "cache: alice wrong password", "alice",
                   out.v4(), AUTH_FAILED, None, WRONG)
        ip = out.v4()
        mark = sasl_case(suite, dc, "cache: CRAM-MD5 outside", "CRAM-MD5",
                         ip, PASSWORD, SASL_FAILED,
                         decision_line("deny", "alice", "imap", ip, PEER,
                                       "not in allow_nets") +
                         mech_suffix("CRAM-MD5"))
        suite.ok("cache: CRAM-MD5 outside was a cache hit",
                 dc.log.find(hit % re.escape(ip), mark) is not None,
                 dc.log.read(mark)[-2000:])
        sasl_case(suite, dc, "cache: CRAM-MD5 inside", "CRAM-MD5",
                  "203.0.113.9", PASSWORD, IMAP_OK_D,
                  decision_line("allow", "alice", "imap", "203.0.113.9",
                                PEER, "in allow_nets"))


LATER_PASSDB = """\
passdb {
  driver = static
  args = password=%s
}
""" % PASSWORD


def later_passdb_instance(suite, backend):
    """A passdb after ours that would accept the password: the placement
    check refuses that chain, so it runs here with placement_check=warn to
    show that a denial ends the chain anyway."""
    dc = ipallow_dovecot("later-" + backend, backend,
                         extra_conf=DEBUG_EVENT_CONF, after=LATER_PASSDB,
                         extra_args=" placement_check=warn")
    p = backend + " later passdb: "
    with dc:
        login_case(suite, dc, p + "alice outside stays denied", "alice",
                   "198.51.100.7", ALERT,
                   decision_line("deny", "alice", "imap", "198.51.100.7",
                                 PEER, "not in allow_nets"))
        suite.ok(p + "misplacement logged",
                 dc.log.find(r"auth: Error: ipallow: misplaced in the passdb "
                             r"chain: the ipallow passdb must be the last "
                             r"passdb, but passdb static comes after it "
                             r"\(see conf.d/auth-ipallow.conf.ext\); ignored "
                             r"because of placement_check=warn")
                 is not None, dc.log.tail())
        with dc.auth_client() as a:
            suite.eq(p + "auth socket alice outside stays denied",
                     a.auth_plain("alice", PASSWORD, "smtp",
                                  rip="198.51.100.8"),
                     "FAIL\t1\tuser=alice\tcode=user_disabled\treason=" +
                     REASON)
        login_case(suite, dc, p + "alice inside", "alice", "203.0.113.7",
                   IMAP_OK_B, decision_line("allow", "alice", "imap",
                                            "203.0.113.7", PEER,
                                            "in allow_nets"))


def main():
    suite = Suite("chain")
    for backend in BACKENDS:
        suite.run("chain " + backend, chain_instance, suite, backend)
    suite.run("cache", cache_instance, suite)
    for backend in BACKENDS:
        suite.run("later " + backend, later_passdb_instance, suite, backend)
    suite.run("native escaped", native_field_escaped, suite)
    suite.finish()


if __name__ == "__main__":
    main()
