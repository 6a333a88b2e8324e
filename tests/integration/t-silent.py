#!/usr/bin/env python3
"""reject_reason: "" must make a denial indistinguishable from a wrong
password (SPEC 6, issue 10 item 5), also when the password passdb
returns fields that change Dovecot's answer:

- "nodelay" makes Dovecot answer a failure at once instead of after
  auth_failure_delay; kept on a denial it is a timing oracle (the
  password was right). Measured against a wrong password of the same
  user, with auth_failure_delay = 2s.
- "host" (without "proxy"), "nologin" and "reason" change the reply.

The silent denial drops every field the password passdb returned."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dovecot_it import DOVECOT_API, Suite                                  # noqa: E402
from ipallow_fixtures import (                                # noqa: E402
    AUTH_FAILED, PASSWORD, WRONG, Outside, check_log, decision_line,
    imap_login, ipallow_dovecot)

PEER = "127.0.0.1"
DELAY = 2.0
USERS_PASSWD = """\
nod:{PLAIN}%(pw)s::::::userdb_allow_nets=203.0.113.0/24 nodelay
hoster:{PLAIN}%(pw)s::::::userdb_allow_nets=203.0.113.0/24 host=192.0.2.55
nolog:{PLAIN}%(pw)s::::::userdb_allow_nets=203.0.113.0/24 nologin \
host=192.0.2.56 reason=Moved
""" % {"pw": PASSWORD}


def timed_auth(dc, user, password, ip):
    with dc.auth_client() as a:
        start = time.monotonic()
        reply = a.auth_plain(user, password, "smtp", rip=ip)
        return reply, time.monotonic() - start


def main():
    suite = Suite("silent")
    out = Outside()
    dc = ipallow_dovecot("silent2", policy='reject_reason: ""\n',
                         extra_conf="auth_failure_delay = %ds\n" % DELAY)
    dc.write_file("users.passwd", USERS_PASSWD)
    with dc:
        # the timing oracle
        wrong, t_wrong = timed_auth(dc, "nod", WRONG, out.v4())
        # Dovecot 2.4 applies the passdb's nodelay to a wrong password
        # as well, 2.3 does not: either way a denial must take as long
        # as a wrong password does
        wrong_delayed = DOVECOT_API != "2.4"
        suite.ok("nodelay user, wrong password: %s (%.2fs)" % (
                 "delayed" if wrong_delayed else
                 "answered at once on 2.4", t_wrong),
                 (t_wrong >= DELAY / 2) == wrong_delayed, "%.2fs" % t_wrong)
        mark = dc.log.mark()
        ip = out.v4()
        denied, t_denied = timed_auth(dc, "nod", PASSWORD, ip)
        suite.ok("nodelay user, right password, denied network: as fast "
                 "as a wrong password (%.2fs)" % t_denied,
                 (t_denied >= DELAY / 2) == wrong_delayed,
                 "%.2fs (wrong password: %.2fs)" % (t_denied, t_wrong))
        suite.ok("nodelay user denied: no nodelay in the reply",
                 "nodelay" not in denied, denied)
        check_log(suite, dc, "nodelay user denied", mark,
                  decision_line("deny", "nod", "smtp", ip, None,
                                "not in allow_nets"))

        # replies over IMAP, each against the same user's wrong password
        for user in ("nod", "hoster", "nolog"):
            wrong = suite.run(user + ": wrong password", imap_login, dc,
                              user, WRONG, out.v4())
            suite.eq(user + ": wrong password reply", wrong, AUTH_FAILED)
            denied = suite.run(user + ": denied", imap_login, dc, user,
                               PASSWORD, out.v4())
            suite.eq(user + ": denied reply is the wrong-password reply",
                     denied, wrong)
        # and on the auth socket: no field of the password passdb
        got, _ = timed_auth(dc, "hoster", PASSWORD, out.v4())
        suite.ok("hoster denied, auth socket: no host field",
                 "host=" not in got, got)
        got, _ = timed_auth(dc, "nolog", PASSWORD, out.v4())
        suite.ok("nolog denied, auth socket: no host, nologin or reason",
                 not any(f in got for f in ("host=", "nologin", "reason=")),
                 got)
    suite.finish()


if __name__ == "__main__":
    main()
