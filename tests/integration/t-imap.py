#!/usr/bin/env python3
"""IMAP through a webmail-style front end: the client address is forwarded
with ID ("x-originating-ip" ...) from 127.0.0.1, which is in
login_trusted_networks. Every address case of SPEC §3-§4, LOGIN and
AUTHENTICATE PLAIN, right and wrong passwords, once with the SQLite passdb
(auth workers) and once with passwd-file (in the auth process). Each case
checks the exact tagged reply, the log line and, at the end, the
ipallow_check_finished event counts through a Dovecot metric."""

import collections
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dovecot_it import Suite                                  # noqa: E402
from ipallow_fixtures import (                                # noqa: E402
    ALERT, AUTH_FAILED, BACKENDS, DEBUG_EVENT_CONF, IMAP_OK, PASSWORD,
    REASON, STATS_CONF, WRONG, Outside, check_log, check_outcome,
    check_reply, decision_line, imap_login, ipallow_dovecot, stats_counts)

PEER = "127.0.0.1"
EXEMPT_IPS = ["10.1.2.3", "172.16.0.1", "172.31.255.254", "192.168.7.7",
              "fc00::1", "fdff:ffff::1", "127.0.0.2", "::1", "169.254.1.1",
              "fe80::1"]
NOT_EXEMPT_IPS = ["100.64.1.1", "172.0.0.1", "172.32.0.1",
                  "100.127.255.254"]


def cases():
    """(what, user, client ip, password, mech, reply, log line or None,
    (result, rule) of the event or None)."""
    out = Outside()
    ok = "re:" + IMAP_OK % "b"

    def line(verb, user, ip, rule, logged_ip=None):
        return decision_line(verb, user, "imap", logged_ip or ip, PEER,
                             rule)

    c = [
        ("inside IPv4", "alice", "203.0.113.7", PASSWORD, "LOGIN", ok,
         line("allow", "alice", "203.0.113.7", "in allow_nets"),
         ("allow", "in_list")),
        ("outside IPv4", "alice", "198.51.100.7", PASSWORD, "LOGIN", ALERT,
         line("deny", "alice", "198.51.100.7", "not in allow_nets"),
         ("deny", "not_in_list")),
        ("wrong password outside", "alice", out.v4(), WRONG, "LOGIN",
         AUTH_FAILED, None, None),
        ("wrong password inside", "alice", "203.0.113.8", WRONG, "LOGIN",
         AUTH_FAILED, None, None),
        ("unknown user outside", "nosuchuser", out.v4(), PASSWORD, "LOGIN",
         AUTH_FAILED, None, None),
        ("inside IPv6", "alice", "2001:db8:42::7", PASSWORD, "LOGIN", ok,
         line("allow", "alice", "2001:db8:42::7", "in allow_nets"),
         ("allow", "in_list")),
        ("outside IPv6", "alice", "2001:db8:43::7", PASSWORD, "LOGIN",
         ALERT, line("deny", "alice", "2001:db8:43::7",
                     "not in allow_nets"), ("deny", "not_in_list")),
        ("wrong password outside IPv6", "alice", out.v6(), WRONG, "LOGIN",
         AUTH_FAILED, None, None),
    ]
    for ip in EXEMPT_IPS:
        c.append(("exempt %s" % ip, "alice", ip, PASSWORD, "LOGIN", ok,
                  line("exempt", "alice", ip, "exempt network"),
                  ("exempt", "exempt_network")))
    for ip in NOT_EXEMPT_IPS:
        c.append(("not exempt %s" % ip, "alice", ip, PASSWORD, "LOGIN",
                  ALERT, line("deny", "alice", ip, "not in allow_nets"),
                  ("deny", "not_in_list")))
    ip_dave, ip_erin = out.v4(), out.v4()
    c += [
        ("IPv4-mapped inside", "alice", "::ffff:203.0.113.9", PASSWORD,
         "LOGIN", ok, line("allow", "alice", None, "in allow_nets",
                           "203.0.113.9"), ("allow", "in_list")),
        ("IPv4-mapped in an IPv4 list", "frank", "::ffff:198.51.100.9",
         PASSWORD, "LOGIN", ok, line("allow", "frank", None,
                                     "in allow_nets", "198.51.100.9"),
         ("allow", "in_list")),
        ("IPv4-mapped exempt", "alice", "::ffff:10.9.9.9", PASSWORD,
         "LOGIN", ok, line("exempt", "alice", None, "exempt network",
                           "10.9.9.9"), ("exempt", "exempt_network")),
        # last of the mapped ones: Dovecot's penalty for a failure from
        # ::ffff:a.b.c.d counts against all of ::/48
        ("IPv4-mapped outside", "alice", "::ffff:198.51.100.8", PASSWORD,
         "LOGIN", ALERT, line("deny", "alice", None, "not in allow_nets",
                              "198.51.100.8"), ("deny", "not_in_list")),
        ("named set inside", "carol", "192.0.2.5", PASSWORD, "LOGIN", ok,
         line("allow", "carol", "192.0.2.5", "in allow_nets"),
         ("allow", "in_list")),
        ("named set inside IPv6", "carol", "2001:db8:100::5", PASSWORD,
         "LOGIN", ok, line("allow", "carol", "2001:db8:100::5",
                           "in allow_nets"), ("allow", "in_list")),
        ("named set outside", "carol", "198.51.100.10", PASSWORD, "LOGIN",
         ALERT, line("deny", "carol", "198.51.100.10",
                     "not in allow_nets"), ("deny", "not_in_list")),
        ("invalid list (on_invalid: deny)", "bob", "198.51.100.11",
         PASSWORD, "LOGIN", ALERT,
         line("deny", "bob", "198.51.100.11", "invalid allow_nets"),
         ("deny", "invalid_list")),
        ("empty list", "dave", ip_dave, PASSWORD, "LOGIN", ok,
         line("unrestricted", "dave", ip_dave, "no allow_nets"),
         ("unrestricted", "no_list")),
        ("no field", "erin", ip_erin, PASSWORD, "LOGIN", ok,
         line("unrestricted", "erin", ip_erin, "no allow_nets"),
         ("unrestricted", "no_list")),
        ("AUTHENTICATE PLAIN outside", "alice", "198.51.100.13", PASSWORD,
         "PLAIN", "c NO [ALERT] " + REASON,
         line("deny", "alice", "198.51.100.13", "not in allow_nets"),
         ("deny", "not_in_list")),
        ("AUTHENTICATE PLAIN inside", "alice", "203.0.113.10", PASSWORD,
         "PLAIN", "re:" + IMAP_OK % "c",
         line("allow", "alice", "203.0.113.10", "in allow_nets"),
         ("allow", "in_list")),
        ("AUTHENTICATE PLAIN wrong password", "alice", out.v4(), WRONG,
         "PLAIN", "c NO [AUTHENTICATIONFAILED] Authentication failed.",
         None, None),
    ]
    return c


def run_backend(suite, backend):
    dc = ipallow_dovecot("imap-" + backend, backend,
                         extra_conf=DEBUG_EVENT_CONF + STATS_CONF)
    events = collections.Counter()
    try:
        dc.start()
        for what, user, ip, pw, mech, want, log, event in cases():
            name = "%s %s %s" % (backend, user, what)
            mark = dc.log.mark()
            reply = suite.run(name, imap_login, dc, user, pw, ip, mech)
            if reply is None:
                continue
            check_outcome(suite, dc, name, mark, reply, want, user, ip, log)
            if event is not None:
                events[event] += 1

        name = "%s bob invalid list" % backend
        suite.ok(name + ": names the entry",
                 dc.log.find('ipallow: invalid allow_nets for user=bob: '
                             'entry 3 "10/8": IPv4 shorthand is not '
                             'allowed') is not None, dc.log.tail())

        # No forwarding: the TCP peer itself is the client, no peer= part.
        name = "%s alice direct from 127.0.0.1" % backend
        mark = dc.log.mark()
        reply = suite.run(name, imap_login, dc, "alice", PASSWORD)
        if reply is not None:
            check_reply(suite, name, reply, "re:" + IMAP_OK % "b")
            check_log(suite, dc, name, mark, decision_line(
                "exempt", "alice", "imap", "127.0.0.1", None,
                "exempt network"))
            events[("exempt", "exempt_network")] += 1

        # HAProxy PROXY v1 header from a trusted front end.
        name = "%s alice via haproxy outside" % backend
        mark = dc.log.mark()
        reply = suite.run(name, imap_login, dc, "alice", PASSWORD,
                          proxy_from="198.51.100.14")
        if reply is not None:
            check_reply(suite, name, reply, ALERT)
            check_log(suite, dc, name, mark, decision_line(
                "deny", "alice", "imap", "198.51.100.14", PEER,
                "not in allow_nets"))
            events[("deny", "not_in_list")] += 1

        # The event: one ipallow_check_finished per check, with result,
        # rule and service, counted by a metric { } block.
        counts = stats_counts(dc)
        for (result, rule), n in sorted(events.items()):
            key = "ipallow_%s_%s_imap" % (result, rule)
            suite.eq("%s event %s" % (backend, key), counts.get(key), n)
        suite.eq("%s events in total" % backend, counts.get("ipallow"),
                 sum(events.values()))
    finally:
        dc.stop()


def main():
    suite = Suite("imap")
    for backend in BACKENDS:
        suite.run(backend, run_backend, suite, backend)
    suite.finish()


if __name__ == "__main__":
    main()
