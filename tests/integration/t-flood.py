#!/usr/bin/env python3
"""Log flooding without a password (issue 10 item 6): with CRAM-MD5 or
SCRAM the deny decision comes before any password check, so anyone who
knows a restricted user name could write one log line per attempt. The
line is written once per (user, client IP) per 60 s; the attempts in
between are not logged at Dovecot's default levels but still counted in
the ipallow_check_finished event (metrics). Another address, or another
user, gets its own line. Logins with a verified password (PLAIN) are not
limited."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dovecot_it import Suite, sasl_cram_md5, sasl_scram, wait_until  # noqa
from ipallow_fixtures import (                                # noqa: E402
    ALERT, PASSWORD, STATS_CONF, WRONG, decision_line, imap_login,
    ipallow_dovecot, stats_counts)

PEER = "127.0.0.1"
SUFFIX = " [mech=%s: password not verified yet, reason not sent]"
FAILED = "FAIL\t1\tuser=alice\tcode=user_disabled"
ATTEMPTS = 6


def sasl_login(dc, mech, user, password, ip):
    """Over the auth socket (as Postfix would), with no-penalty so that
    anvil's growing delay for a failing address does not slow the test
    down; the decision and its log line are the same."""
    if mech == "CRAM-MD5":
        client = sasl_cram_md5(user, password)
    else:
        client = sasl_scram(user, password, "sha256")
    with dc.auth_client() as a:
        return a.auth_sasl(mech, "smtp", client, rip=ip,
                           **{"no-penalty": True})


def count_lines(dc, line, mark):
    return dc.log.read(mark).count(line)


def main():
    suite = Suite("flood")
    dc = ipallow_dovecot("flood", extra_conf=STATS_CONF)
    with dc:
        mark = dc.log.mark()
        ip = "198.51.100.77"
        replies = [sasl_login(dc, "CRAM-MD5", "alice", WRONG, ip)
                   for _ in range(ATTEMPTS)]
        suite.eq("%d CRAM-MD5 attempts, wrong password, denied network: "
                 "all fail" % ATTEMPTS, replies, [FAILED] * ATTEMPTS)
        line = decision_line("deny", "alice", "smtp", ip, None,
                             "not in allow_nets") + SUFFIX % "CRAM-MD5"
        suite.ok("first attempt logged", dc.log.wait_literal(line, mark)
                 is not None, dc.log.tail())
        # every attempt has finished (replied); the events say all were
        # decided, and only one line was written
        want = ATTEMPTS
        got = wait_until(lambda: stats_counts(dc).get(
            "ipallow_deny_not_in_list_smtp") == want)
        suite.ok("every attempt counted in the event (%d)" % want, got,
                 repr(stats_counts(dc)))
        suite.eq("one line for %d attempts (user, address)" % ATTEMPTS,
                 count_lines(dc, decision_line("deny", "alice", "smtp", ip,
                                               None, "not in allow_nets"),
                             mark), 1)

        # another address, another mechanism: its own line
        ip2 = "198.51.100.78"
        mark2 = dc.log.mark()
        reply = sasl_login(dc, "SCRAM-SHA-256", "alice", WRONG, ip2)
        suite.eq("other address: fails", reply, FAILED)
        suite.ok("other address: logged", dc.log.wait_literal(
            decision_line("deny", "alice", "smtp", ip2, None,
                          "not in allow_nets") + SUFFIX % "SCRAM-SHA-256",
            mark2) is not None, dc.log.tail())

        # a verified password (PLAIN) is not limited: every denial is
        # logged, here twice from the same address
        ip3 = "198.51.100.79"
        mark3 = dc.log.mark()
        for i in range(2):
            suite.eq("PLAIN attempt %d: reason shown" % (i + 1),
                     imap_login(dc, "alice", PASSWORD, ip3), ALERT)
        plain = decision_line("deny", "alice", "imap", ip3, PEER,
                              "not in allow_nets")
        wait_until(lambda: count_lines(dc, plain, mark3) == 2)
        suite.eq("PLAIN: both denials logged",
                 count_lines(dc, plain, mark3), 2)
    suite.finish()


if __name__ == "__main__":
    main()
