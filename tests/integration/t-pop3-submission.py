#!/usr/bin/env python3
"""POP3 and SMTP submission with the client address forwarded by XCLIENT
from a trusted front end (127.0.0.1 in login_trusted_networks), both
backends: exact server replies for allowed, denied and wrong-password
logins, the log line of each, and the anvil penalty a denial leaves
(a denial counts as a failed authentication)."""

import ipaddress
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dovecot_it import DOVECOT_API, Suite                     # noqa: E402
from ipallow_fixtures import (                                # noqa: E402
    BACKENDS, DEBUG_EVENT_CONF, PASSWORD, REASON, WRONG, Outside,
    check_outcome, decision_line, ipallow_dovecot, pop3_login,
    submission_login)

PEER = "127.0.0.1"


def run_backend(suite, backend):
    out = Outside()
    # Dovecot 2.4 skips the anvil penalty together with the delay when
    # auth_failure_delay = 0 (auth_request_want_failure_delay()): give
    # it a delay so that the penalty of a denial can be seen
    delay = "auth_failure_delay = 1s\n" if DOVECOT_API == "2.4" else ""
    dc = ipallow_dovecot("pop3-" + backend, backend,
                         extra_conf=DEBUG_EVENT_CONF + delay)
    denied_ips = []
    try:
        dc.start()
        pop3 = [
            ("USER/PASS outside", "USER", "alice", "198.51.100.7", PASSWORD,
             "-ERR [AUTH] " + REASON, "deny", "not in allow_nets"),
            ("USER/PASS inside", "USER", "alice", "203.0.113.7", PASSWORD,
             "+OK Logged in.", "allow", "in allow_nets"),
            ("USER/PASS wrong password", "USER", "alice", out.v4(), WRONG,
             "-ERR [AUTH] Authentication failed.", None, None),
            ("AUTH PLAIN outside IPv6", "PLAIN", "alice", "2001:db8:43::11",
             PASSWORD, "-ERR [AUTH] " + REASON, "deny",
             "not in allow_nets"),
            ("AUTH PLAIN inside IPv6", "PLAIN", "alice", "2001:db8:42::11",
             PASSWORD, "+OK Logged in.", "allow", "in allow_nets"),
            ("USER/PASS exempt", "USER", "alice", "192.168.1.20", PASSWORD,
             "+OK Logged in.", "exempt", "exempt network"),
        ]
        for what, mech, user, ip, pw, want, verb, rule in pop3:
            name = "%s pop3 %s" % (backend, what)
            mark = dc.log.mark()
            reply = suite.run(name, pop3_login, dc, user, pw, ip, mech)
            if reply is None:
                continue
            check_outcome(suite, dc, name, mark, reply, want, user, ip,
                          verb and decision_line(verb, user, "pop3", ip,
                                                 PEER, rule))
            if verb == "deny":
                denied_ips.append(ip)

        submission = [
            ("outside", "alice", "198.51.100.8", PASSWORD,
             "535 5.7.8 " + REASON, "deny", "not in allow_nets"),
            ("inside", "alice", "203.0.113.8", PASSWORD,
             "235 2.7.0 Logged in.", "allow", "in allow_nets"),
            ("wrong password", "alice", out.v4(), WRONG,
             "535 5.7.8 Authentication failed.", None, None),
            ("outside IPv6", "alice", "2001:db8:44::9", PASSWORD,
             "535 5.7.8 " + REASON, "deny", "not in allow_nets"),
            ("carrier-grade NAT", "alice", "100.64.1.1", PASSWORD,
             "535 5.7.8 " + REASON, "deny", "not in allow_nets"),
            ("no list", "erin", out.v4(), PASSWORD,
             "235 2.7.0 Logged in.", "unrestricted", "no allow_nets"),
        ]
        for what, user, ip, pw, want, verb, rule in submission:
            name = "%s submission %s" % (backend, what)
            mark = dc.log.mark()
            xip = "IPV6:" + ip if ":" in ip else ip
            reply = suite.run(name, submission_login, dc, user, pw, xip)
            if reply is None:
                continue
            check_outcome(suite, dc, name, mark, reply, want, user, ip,
                          verb and decision_line(verb, user, "submission",
                                                 ip, PEER, rule))
            if verb == "deny":
                denied_ips.append(ip)

        # Each denial left an anvil penalty on its address (IPv6: /48).
        rc, text, _ = dc.doveadm("penalty")
        penalised = {line.split()[0]: line.split()[1]
                     for line in text.splitlines()[1:] if line.strip()}
        for ip in denied_ips:
            key = ip if ":" not in ip else str(ipaddress.ip_network(
                ip + "/48", strict=False).network_address)
            suite.eq("%s denial from %s counts as a failed login "
                     "(penalty)" % (backend, ip), penalised.get(key) is not
                     None, True)
        suite.eq("%s allowed login leaves no penalty" % backend,
                 penalised.get("203.0.113.7"), None)
    finally:
        dc.stop()


def main():
    suite = Suite("pop3-submission")
    for backend in BACKENDS:
        suite.run(backend, run_backend, suite, backend)
    suite.finish()


if __name__ == "__main__":
    main()
