#!/usr/bin/env python3
"""Services that only authenticate (issue 10 item 2): Postfix SMTP AUTH
through Dovecot's auth socket (smtpd_sasl_type = dovecot) and DAV servers
never open a mail session, so only the login-time check (the ipallow
passdb) can restrict them, and only with the list the passdb chain
returns. What each layout protects (doc/admin-guide.md):

- list returned by the passdb (userdb_allow_nets) + ipallow passdb:
  auth-only logins from a denied network FAIL with the reason;
- no ipallow passdb (mail plugin only): the auth process warns loudly at
  start; auth-only logins are not restricted (checked here, so that the
  documentation stays true);
- list only in the userdb + ipallow passdb: the passdb check sees no
  list, auth-only logins are not restricted (documented, checked).

Over the auth socket as Postfix speaks it (service=smtp, rip= the SMTP
client's address)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dovecot_it import Suite                                  # noqa: E402
from ipallow_fixtures import PASSWORD, REASON                 # noqa: E402
from session_fixtures import plugin_installed, session_dovecot  # noqa

WARNING = ("auth: Warning: ipallow: no ipallow passdb in the passdb chain: "
           "network lists are checked only by the mail plugin when a mail "
           "session starts, if it is enabled; logins that open no mail "
           "session (SMTP AUTH through the auth socket, DAV) are not "
           "restricted")
DENIED_IP = "198.51.100.7"


def smtp_auth(dc, user, ip):
    with dc.auth_client() as a:
        return a.auth_plain(user, PASSWORD, "smtp", rip=ip)


def layout(suite, label, login_check, prefetch, want_warning, want_reply):
    dc = session_dovecot("authonly-" + label, login_check=login_check,
                         prefetch=prefetch)
    p = label + ": "
    with dc:
        got = smtp_auth(dc, "alice", DENIED_IP)
        if want_reply.startswith("FAIL"):
            suite.eq(p + "SMTP AUTH alice from a denied network", got,
                     want_reply)
        else:
            suite.match(p + "SMTP AUTH alice from a denied network "
                        "(not restricted, as documented)", got,
                        r"^OK\t1\tuser=alice(\t|$)")
        if want_warning:
            suite.ok(p + "warning at start",
                     dc.log.wait_literal(WARNING) is not None,
                     dc.log.tail())
        else:
            suite.ok(p + "no warning",
                     dc.log.find(r"no ipallow passdb") is None,
                     dc.log.tail())
        suite.eq(p + "warned once (not per auth worker)",
                 len(dc.log.find_all(r"no ipallow passdb")),
                 1 if want_warning else 0)


def main():
    suite = Suite("auth-only")
    if not plugin_installed():
        # the build always makes it: its absence is a failure
        suite.ok("mail plugin built", False, "mail plugin not found")
        suite.finish()
    suite.run("passdb list", layout, suite, "passdb-list", True, True,
              False, "FAIL\t1\tuser=alice\tcode=user_disabled\treason=" +
              REASON)
    suite.run("plugin only", layout, suite, "plugin-only", False, False,
              True, "OK")
    suite.run("userdb list", layout, suite, "userdb-list", True, False,
              False, "OK")
    suite.finish()


if __name__ == "__main__":
    main()
