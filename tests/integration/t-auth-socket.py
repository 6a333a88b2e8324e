#!/usr/bin/env python3
"""The auth socket (auth-client protocol, as Postfix SMTP AUTH and DAV
servers use it) and doveadm auth test, both backends. A denial must be
FAIL (never OK with nologin), with code=user_disabled and the reason;
DAV services are exempt; callers without rip are exempt by default."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dovecot_it import Suite                                  # noqa: E402
from ipallow_fixtures import (                                # noqa: E402
    BACKENDS, DEBUG_EVENT_CONF, PASSWORD, REASON, WRONG, Outside,
    check_log, check_no_decision, decision_line, ipallow_dovecot)

FAIL_DENIED = "FAIL\t1\tuser=alice\tcode=user_disabled\treason=" + REASON
FAIL_WRONG = "FAIL\t1\tuser=alice"


def run_socket(suite, dc, backend, out):
    cases = [
        # what, user, password, service, params, reply, verb, ip, rule
        ("smtp outside", "alice", PASSWORD, "smtp",
         {"rip": "198.51.100.7"}, FAIL_DENIED, "deny", "198.51.100.7",
         "not in allow_nets"),
        ("smtp inside", "alice", PASSWORD, "smtp", {"rip": "203.0.113.7"},
         "re:^OK\t1\tuser=alice(\t|$)", "allow", "203.0.113.7",
         "in allow_nets"),
        ("smtp wrong password", "alice", WRONG, "smtp", {"rip": out.v4()},
         FAIL_WRONG, None, None, None),
        ("smtp outside IPv6", "alice", PASSWORD, "smtp",
         {"rip": "2001:db8:43::1"}, FAIL_DENIED, "deny", "2001:db8:43::1",
         "not in allow_nets"),
        ("smtp IPv4-mapped outside", "alice", PASSWORD, "smtp",
         {"rip": "::ffff:198.51.100.20"}, FAIL_DENIED, "deny",
         "198.51.100.20", "not in allow_nets"),
        ("smtp carrier-grade NAT", "alice", PASSWORD, "smtp",
         {"rip": "100.64.1.1"}, FAIL_DENIED, "deny", "100.64.1.1",
         "not in allow_nets"),
        ("smtp without rip", "alice", PASSWORD, "smtp", {},
         "re:^OK\t1\tuser=alice(\t|$)", "exempt", "unknown",
         "client IP unknown"),
        ("radicale without rip", "alice", PASSWORD, "radicale", {},
         "re:^OK\t1\tuser=alice(\t|$)", "exempt", "unknown",
         "exempt service"),
        ("caldav from outside", "alice", PASSWORD, "caldav",
         {"rip": "198.51.100.21"}, "re:^OK\t1\tuser=alice(\t|$)", "exempt",
         "198.51.100.21", "exempt service"),
    ]
    with dc.auth_client() as a:
        for what, user, pw, service, params, want, verb, ip, rule in cases:
            name = "%s auth socket %s" % (backend, what)
            mark = dc.log.mark()
            reply = suite.run(name, a.auth_plain, user, pw, service,
                              **params)
            if reply is None:
                continue
            if want.startswith("re:"):
                suite.match(name + ": reply", reply, want[3:])
                suite.ok(name + ": no nologin, no reason",
                         "nologin" not in reply and "reason=" not in reply,
                         reply)
            else:
                suite.eq(name + ": reply", reply, want)
            if verb is None:
                check_no_decision(suite, dc, name, mark, user,
                                  params.get("rip", "unknown"))
            else:
                check_log(suite, dc, name, mark, decision_line(
                    verb, user, service, ip, None, rule))


def run_doveadm(suite, dc, backend, out):
    cases = [
        ("imap outside", ["-x", "service=imap", "-x", "rip=198.51.100.9"],
         PASSWORD, 77,
         "passdb: alice auth failed\nextra fields:\n  user=alice\n"
         "  code=user_disabled\n  reason=%s\n" % REASON,
         decision_line("deny", "alice", "imap", "198.51.100.9", None,
                       "not in allow_nets")),
        ("imap inside", ["-x", "service=imap", "-x", "rip=203.0.113.9"],
         PASSWORD, 0, "re:^passdb: alice auth succeeded\n",
         decision_line("allow", "alice", "imap", "203.0.113.9", None,
                       "in allow_nets")),
        ("imap wrong password", ["-x", "service=imap", "-x",
                                 "rip=" + out.v4()],
         WRONG, 77, "passdb: alice auth failed\nextra fields:\n"
         "  user=alice\n", None),
        ("default service doveadm", [], PASSWORD, 0,
         "re:^passdb: alice auth succeeded\n",
         decision_line("exempt", "alice", "doveadm", "unknown", None,
                       "exempt service")),
    ]
    for what, args, pw, want_rc, want_out, log in cases:
        name = "%s doveadm auth test %s" % (backend, what)
        mark = dc.log.mark()
        res = suite.run(name, dc.doveadm, "auth", "test", *args, "alice", pw)
        if res is None:
            continue
        rc, stdout, stderr = res
        suite.eq(name + ": exit code", rc, want_rc)
        if want_out.startswith("re:"):
            suite.match(name + ": output", stdout, want_out[3:])
        else:
            suite.eq(name + ": output", stdout, want_out)
        if log is not None:
            check_log(suite, dc, name, mark, log)
        else:
            check_no_decision(suite, dc, name, mark, "alice",
                              args[-1].split("=", 1)[1])


def run_backend(suite, backend):
    out = Outside()
    dc = ipallow_dovecot("authsock-" + backend, backend,
                         extra_conf=DEBUG_EVENT_CONF)
    try:
        dc.start()
        run_socket(suite, dc, backend, out)
        run_doveadm(suite, dc, backend, out)
    finally:
        dc.stop()


def main():
    suite = Suite("auth-socket")
    for backend in BACKENDS:
        suite.run(backend, run_backend, suite, backend)
    suite.finish()


if __name__ == "__main__":
    main()
