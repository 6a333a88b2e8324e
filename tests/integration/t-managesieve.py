#!/usr/bin/env python3
"""ManageSieve (Pigeonhole): managesieve-login has no ID or XCLIENT, so the
client address comes from a HAProxy PROXY v1 header on a listener with
haproxy = yes (haproxy_trusted_networks = 127.0.0.0/8). Both backends."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dovecot_it import Suite, have_managesieve                # noqa: E402
from ipallow_fixtures import (                                # noqa: E402
    BACKENDS, DEBUG_EVENT_CONF, PASSWORD, REASON, WRONG, Outside,
    check_outcome, decision_line, ipallow_dovecot)

PEER = "127.0.0.1"


def sieve_login(dc, user, password, proxy_from):
    with dc.managesieve(proxy_from=proxy_from) as c:
        reply = c.authenticate_plain(user, password)
        if reply.startswith("OK"):
            c.logout()
        return reply


def run_backend(suite, backend):
    out = Outside()
    dc = ipallow_dovecot("sieve-" + backend, backend,
                         extra_conf=DEBUG_EVENT_CONF)
    try:
        dc.start()
        cases = [
            ("outside", "alice", "198.51.100.7", PASSWORD,
             'NO "%s"' % REASON, "deny", "not in allow_nets", PEER),
            ("inside", "alice", "203.0.113.7", PASSWORD, 'OK "Logged in."',
             "allow", "in allow_nets", PEER),
            ("outside IPv6", "alice", "2001:db8:43::10", PASSWORD,
             'NO "%s"' % REASON, "deny", "not in allow_nets", PEER),
            ("wrong password", "alice", out.v4(), WRONG,
             'NO "Authentication failed."', None, None, PEER),
            ("named set", "carol", "192.0.2.77", PASSWORD,
             'OK "Logged in."', "allow", "in allow_nets", PEER),
            ("direct from 127.0.0.1", "alice", None, PASSWORD,
             'OK "Logged in."', "exempt", "exempt network", None),
        ]
        for what, user, ip, pw, want, verb, rule, peer in cases:
            name = "%s managesieve %s" % (backend, what)
            mark = dc.log.mark()
            reply = suite.run(name, sieve_login, dc, user, pw, ip)
            if reply is None:
                continue
            check_outcome(suite, dc, name, mark, reply, want, user, ip,
                          verb and decision_line(verb, user, "sieve",
                                                 ip or "127.0.0.1", peer,
                                                 rule))
    finally:
        dc.stop()


def main():
    suite = Suite("managesieve")
    if not have_managesieve():
        suite.ok("dovecot-managesieved is installed", False,
                 "apt-get install dovecot-managesieved")
        suite.finish()
    for backend in BACKENDS:
        suite.run(backend, run_backend, suite, backend)
    suite.finish()


if __name__ == "__main__":
    main()
