#!/usr/bin/env python3
"""The placement self-check (SPEC §6): a passdb chain in which a login
could succeed without passing the ipallow passdb is a configuration error
when the auth process starts, which then refuses to run. Also: the shipped
conf.d/auth-ipallow.conf.ext works as it is."""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dovecot_it import DOVECOT_API, Dovecot, Suite            # noqa: E402
from ipallow_fixtures import (                                # noqa: E402
    ALERT, DEFAULT_POLICY, IMAP_OK, MASTER_PASSWORD, PASSWORD,
    USERDB_PASSWD_FILE,
    check_log, check_reply, decision_line, imap_login, passwd_file,
    pop3_login)

TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))

USERS = """\
passdb {
  driver = passwd-file
  args = scheme=PLAIN {dir}/users.passwd
  result_success = continue-ok
  result_internalfail = return-fail
}
"""
IPALLOW = """\
passdb {
  driver = ipallow
  args = {dir}/ipallow.yaml
  skip = unauthenticated
  result_internalfail = return-fail
}
"""
STATIC = """\
passdb {
  driver = static
  args = password=%s
%s}
"""
LISTS = """\
passdb lists {
  driver = passwd-file
  args = {dir}/users.passwd
  skip = unauthenticated
  result_success = continue-ok
}
"""
MASTER = """\
auth_master_user_separator = *
passdb {
  driver = passwd-file
  master = yes
  args = scheme=PLAIN {dir}/master-users
%s}
"""


def placement_cases():
    """(what, passdb chain, expected message after "misplaced in the
    passdb chain: ")."""
    return [
        ("a passdb after ipallow", USERS + IPALLOW + STATIC % (PASSWORD, ""),
         "the ipallow passdb must be the last passdb, but passdb static "
         "comes after it"),
        ("authenticating passdb ends the chain",
         USERS.replace("  result_success = continue-ok\n", "") + IPALLOW,
         "passdb passwd-file has result_success = return-ok, so a login "
         "can succeed there without reaching ipallow; use result_success "
         "= continue-ok"),
        ("named authenticating passdb with result_success = return",
         USERS.replace("passdb {", "passdb users {").replace(
             "continue-ok", "return") + IPALLOW,
         "passdb users has result_success = return, so a login can "
         "succeed there without reaching ipallow; use result_success = "
         "continue-ok"),
        ("earlier passdb result_failure = return-ok",
         USERS.replace("continue-ok\n", "continue-ok\n"
                       "  result_failure = return-ok\n") + IPALLOW,
         "passdb passwd-file has result_failure = return-ok, so a login "
         "can succeed there without reaching ipallow; use return-fail or "
         "continue"),
        ("fallback passdb that returns ok before ipallow",
         USERS + STATIC % (PASSWORD, "  skip = authenticated\n") + IPALLOW,
         "passdb static has result_success = return-ok, so a login can "
         "succeed there without reaching ipallow; use result_success = "
         "continue-ok"),
        ("no passdb grants with continue-ok",
         USERS.replace("continue-ok", "continue") + IPALLOW,
         "no passdb before the ipallow passdb has result_success = "
         "continue-ok, so no login could succeed; set it on the passdb "
         "that verifies the password"),
        ("ipallow without skip = unauthenticated",
         USERS + IPALLOW.replace("  skip = unauthenticated\n", ""),
         "the ipallow passdb needs skip = unauthenticated"),
        ("ipallow without result_internalfail = return-fail",
         USERS + IPALLOW.replace("  result_internalfail = return-fail\n",
                                 ""),
         "the ipallow passdb has result_internalfail = continue, which "
         "turns a failure of the check into the earlier passdb's success; "
         "set result_internalfail = return-fail"),
        ("ipallow with result_failure = return-ok",
         USERS + IPALLOW.replace("return-fail\n", "return-fail\n"
                                 "  result_failure = return-ok\n"),
         "the ipallow passdb has result_failure = return-ok; remove it "
         "(the default is fine)"),
        ("ipallow restricted to some mechanisms",
         USERS + IPALLOW.replace("return-fail\n", "return-fail\n"
                                 "  mechanisms = plain\n"),
         "the ipallow passdb cannot have mechanisms or username_filter: "
         "logins it skips would go unchecked"),
        ("ipallow as a master passdb",
         USERS + IPALLOW + IPALLOW.replace(
             "  skip = unauthenticated\n", "  master = yes\n"),
         "the ipallow passdb cannot be a master passdb (remove master = "
         "yes)"),
        ("master passdb without pass = yes",
         MASTER % "" + USERS + IPALLOW,
         "master passdb passwd-file has result_success = return-ok, so a "
         "master login ends there without reaching ipallow; set pass = yes "
         "(or result_success = continue) on it"),
        ("ipallow before the passdb that verifies passwords",
         IPALLOW + USERS,
         "the ipallow passdb comes before any passdb that verifies "
         "passwords, where Dovecot ignores it (skip = unauthenticated), so "
         "no login would be checked; include auth-ipallow.conf.ext after "
         "the passdb that verifies passwords"),
        # issue 10 item 1: a passdb that fails internally and goes on
        # loses the list it returns
        ("password passdb without result_internalfail = return-fail",
         USERS.replace("  result_internalfail = return-fail\n", "") +
         IPALLOW,
         "passdb passwd-file has result_internalfail = continue, so when "
         "it fails the login goes on without the fields it returns "
         "(userdb_allow_nets among them); set result_internalfail = "
         "return-fail on it"),
        ("list passdb without result_internalfail = return-fail",
         USERS + LISTS + IPALLOW,
         "passdb lists has result_internalfail = continue, so when it "
         "fails the login goes on without the fields it returns "
         "(userdb_allow_nets among them); set result_internalfail = "
         "return-fail on it"),
        # issue 10 item 4
        ("earlier passdb result_failure = continue-ok",
         USERS.replace("continue-ok\n", "continue-ok\n"
                       "  result_failure = continue-ok\n") + IPALLOW,
         "passdb passwd-file has result_failure = continue-ok, so a wrong "
         "password counts as verified; use continue or return-fail"),
        ("earlier passdb result_internalfail = continue-ok",
         USERS.replace("  result_internalfail = return-fail\n",
                       "  result_internalfail = continue-ok\n") + IPALLOW,
         "passdb passwd-file has result_internalfail = continue-ok, so a "
         "login whose password could not be checked counts as verified; "
         "use return-fail"),
        ("master passdb result_failure = continue-ok",
         MASTER % "  pass = yes\n  result_failure = continue-ok\n" +
         USERS + IPALLOW,
         "master passdb passwd-file has result_failure = continue-ok, so a "
         "wrong password counts as verified; use continue or return-fail"),
        ("master passdb result_internalfail = continue-ok",
         MASTER % "  pass = yes\n  result_internalfail = continue-ok\n" +
         USERS + IPALLOW,
         "master passdb passwd-file has result_internalfail = continue-ok, "
         "so a login whose password could not be checked counts as "
         "verified; use return-fail"),
        ("ipallow with default_fields",
         USERS + IPALLOW.replace("return-fail\n", "return-fail\n"
                                 "  default_fields = userdb_allow_nets=\n"),
         "the ipallow passdb cannot have default_fields: they can change "
         "the network list before the check; set them on the passdb that "
         "verifies the password"),
        ("ipallow with override_fields",
         USERS + IPALLOW.replace("return-fail\n", "return-fail\n"
                                 "  override_fields = userdb_allow_nets=\n"),
         "the ipallow passdb cannot have override_fields: they can change "
         "the network list before the check; set them on the passdb that "
         "verifies the password"),
        ("NTLM through winbind",
         "auth_use_winbind = yes\n" + USERS + IPALLOW,
         "auth_mechanisms includes NTLM, which Dovecot authenticates "
         "through winbind without any passdb, so ipallow would never see "
         "those logins; remove it", "plain ntlm"),
    ]


def files():
    return {"users.passwd": passwd_file(), "ipallow.yaml": DEFAULT_POLICY,
            "master-users": "admin:{PLAIN}%s\n" % MASTER_PASSWORD}


def for_this_dovecot(message):
    """The same message as 2.4 words it: 2.4 names every passdb (the
    suite's 2.4 configurations call a master passdb master-DRIVER,
    dovecot24.py) and has one fields { } block for 2.3's default_fields
    and override_fields."""
    if DOVECOT_API != "2.4":
        return message
    return message.replace(
        "master passdb passwd-file", "master passdb master-passwd-file").\
        replace("cannot have default_fields", "cannot have fields { }").\
        replace("cannot have override_fields", "cannot have fields { }")


def misplaced(suite, what, chain, message, mechanisms="plain"):
    message = for_this_dovecot(message)
    dc = Dovecot("placement", chain + USERDB_PASSWD_FILE, files=files(),
                 mechanisms=mechanisms)
    with dc:
        rc, out, err = dc.doveadm("auth", "test", "alice", PASSWORD)
        suite.ok("%s: auth refuses to start (doveadm auth test fails)" %
                 what, rc != 0 and "auth succeeded" not in out,
                 "rc=%d out=%r err=%r" % (rc, out, err))
        want = ("auth: Fatal: ipallow: misplaced in the passdb chain: %s "
                "(see conf.d/auth-ipallow.conf.ext)" % message)
        found = dc.log.wait_literal(want)
        suite.ok("%s: fatal message" % what, found is not None,
                 "want: %s\nlog:\n%s" % (want, dc.log.tail(12)))


def anonymous_warning(suite):
    """ANONYMOUS logs in without the passdb chain: allowed, but said."""
    dc = Dovecot("anonymous", USERS + IPALLOW + USERDB_PASSWD_FILE,
                 extra_conf="auth_anonymous_username = erin\n",
                 files=files(), mechanisms="plain anonymous")
    with dc:
        rc, out, err = dc.doveadm("auth", "test", "alice", PASSWORD)
        suite.eq("anonymous: auth starts", rc, 0)
        suite.ok("anonymous: warning",
                 dc.log.wait_literal("auth: Warning: ipallow: "
                                     "auth_mechanisms includes ANONYMOUS: "
                                     "anonymous logins do not run the "
                                     "passdb chain and are not checked")
                 is not None, dc.log.tail())


DENY = """\
passdb {
  driver = passwd-file
  deny = yes
  args = {dir}/deny-users
}
"""


def deny_passdb(suite):
    """Debian's auth-deny.conf.ext before the password passdb is fine:
    a deny passdb's result_success is never applied."""
    f = files()
    f["deny-users"] = "frank\n"
    dc = Dovecot("denypassdb", DENY + USERS + IPALLOW + USERDB_PASSWD_FILE,
                 files=f)
    with dc:
        for what, user, ip, want in (
                ("alice outside", "alice", "198.51.100.7", ALERT),
                ("alice inside", "alice", "203.0.113.7",
                 "re:" + IMAP_OK % "b"),
                ("frank in the deny passdb", "frank", "198.51.100.8",
                 "b NO [AUTHENTICATIONFAILED] Authentication failed.")):
            reply = suite.run("deny passdb: " + what, imap_login, dc, user,
                              PASSWORD, ip)
            check_reply(suite, "deny passdb: " + what, reply or "", want)
        suite.ok("deny passdb: no placement complaint",
                 dc.log.find(r"misplaced") is None, dc.log.tail())


def shipped_snippet(suite):
    """conf.d/auth-ipallow.conf.ext as shipped, with only its policy path
    pointed into the test directory."""
    if DOVECOT_API == "2.4":
        with open(os.path.join(TOP, "conf.d", "2.4",
                               "auth-ipallow.conf.ext")) as f:
            snippet = f.read().replace(
                "#ipallow_policy = /etc/dovecot/ipallow.yaml",
                "ipallow_policy = {dir}/ipallow.yaml")
    else:
        with open(os.path.join(TOP, "conf.d", "auth-ipallow.conf.ext")) as f:
            snippet = f.read().replace("/etc/dovecot/ipallow.yaml",
                                       "{dir}/ipallow.yaml")
    f = files()
    f["auth-ipallow.conf.ext"] = snippet
    chain = USERS + "!include {dir}/auth-ipallow.conf.ext\n"
    dc = Dovecot("snippet", chain + USERDB_PASSWD_FILE, files=f)
    rc, out, err = dc.doveconf("-n")
    suite.ok("shipped snippet: doveconf -n accepts it", rc == 0 and
             re.search(r"^passdb (ipallow )?\{", out, re.M) and
             not re.search(r"Error|Warning|Unknown", err),
             "rc=%d\n%s\n%s" % (rc, out[-1500:], err))
    with dc:
        mark = dc.log.mark()
        reply = suite.run("shipped snippet", imap_login, dc, "alice",
                          PASSWORD, "198.51.100.7")
        check_reply(suite, "shipped snippet: alice outside", reply or "",
                    ALERT)
        check_log(suite, dc, "shipped snippet: alice outside", mark,
                  decision_line("deny", "alice", "imap", "198.51.100.7",
                                "127.0.0.1", "not in allow_nets"))
        suite.ok("shipped snippet: no placement complaint",
                 dc.log.find(r"misplaced") is None, dc.log.tail())


IMAP_REASON = "IMAP logins from this network are refused here."


def protocol_filter(suite):
    """SPEC 9.2: on 2.4, ipallow_policy may be set inside a filter such
    as protocol imap { }. IMAP then uses that policy (its reject_reason
    shows), POP3 the global one."""
    if DOVECOT_API != "2.4":
        print("# protocol filter: Dovecot 2.4 only (2.3 has one policy "
              "path per passdb, passdb args)")
        return
    f = files()
    f["imap.yaml"] = DEFAULT_POLICY + 'reject_reason: "%s"\n' % IMAP_REASON
    # the passdb without a policy of its own (args would become
    # ipallow_policy inside passdb ipallow { }): global, then the filter
    chain = USERS + IPALLOW.replace("  args = {dir}/ipallow.yaml\n", "")
    dc = Dovecot("protofilter", chain + USERDB_PASSWD_FILE,
                 extra_conf="ipallow_policy = {dir}/ipallow.yaml\n"
                 "protocol imap {\n"
                 "  ipallow_policy = {dir}/imap.yaml\n}\n", files=f)
    rc, out, err = dc.doveconf("-n")
    suite.ok("protocol filter: doveconf -n shows ipallow_policy in "
             "protocol imap { }", rc == 0 and re.search(
                 r"^protocol imap \{\n(  .*\n)*  ipallow_policy = \S*"
                 r"/imap\.yaml$", out, re.M) is not None,
             "rc=%d\n%s\n%s" % (rc, out[-1500:], err))
    with dc:
        reply = suite.run("protocol filter: imap", imap_login, dc, "alice",
                          PASSWORD, "198.51.100.7")
        check_reply(suite, "protocol filter: IMAP uses protocol imap's "
                    "policy", reply or "", "b NO [ALERT] " + IMAP_REASON)
        reply = suite.run("protocol filter: pop3", pop3_login, dc, "alice",
                          PASSWORD, "198.51.100.8")
        check_reply(suite, "protocol filter: POP3 uses the global policy",
                    reply or "", ALERT.replace("b NO [ALERT]",
                                               "-ERR [AUTH]"))


def main():
    suite = Suite("placement")
    for case in placement_cases():
        suite.run(case[0], misplaced, suite, *case)
    suite.run("anonymous", anonymous_warning, suite)
    suite.run("deny passdb", deny_passdb, suite)
    suite.run("shipped snippet", shipped_snippet, suite)
    suite.run("protocol filter", protocol_filter, suite)
    suite.finish()


if __name__ == "__main__":
    main()
