#!/usr/bin/env python3
"""Session-time check, client side: the passdb knows only passwords and
allow_nets lives in a separate passwd-file userdb (no prefetch), so only
the ipallow mail plugin can enforce it. Over IMAP (ID x-originating-ip from
a trusted front end), POP3 (XCLIENT), submission (XCLIENT) and ManageSieve
(HAProxy header):

- a login from outside the list gets no usable session: the exact lines
  Dovecot sends for a failed session start, then the connection closes;
  one deny line in the log, Dovecot's error line, no home directory (mail
  was not touched), and the ipallow_check_finished event;
- allowed, exempt and unrestricted users log in and can use their mailbox;
- a missing policy file at the built-in default path means defaults
  (logged once); a configured path that is missing (SPEC 9.1) or a broken
  policy refuses
  every checked session (fail closed);
- an IMAP session that was hibernated and restored in a new imap process
  is not checked (or logged) a second time."""

import collections
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dovecot_it import Suite                                  # noqa: E402
from ipallow_fixtures import (                                # noqa: E402
    PASSWORD, DEBUG_EVENT_CONF, STATS_CONF, check_log, decision_line, deny_line,
    stats_counts)
from session_fixtures import (                                # noqa: E402
    IMAP_DENIED, POP3_DENIED, REFUSED_ERROR, SIEVE_DENIED,
    SUBMISSION_DENIED_RE, imap_session, plugin_installed, pop3_session,
    session_dovecot, sieve_session, submission_session)

IMAP_USABLE = ["b OK Logged in", "s OK [READ-WRITE] Select completed"]


def usable_imap(lines):
    return (len(lines) == 2 and lines[0] == IMAP_USABLE[0] and
            lines[1].startswith(IMAP_USABLE[1]))


def count(dc, mark, text):
    return sum(1 for line in dc.log.read(mark).splitlines() if text in line)


def denied(suite, dc, name, mark, user, service, ip, rule="not in allow_nets",
           rule_id="not_in_list"):
    """The log side of a refused session: exactly one deny line, Dovecot's
    error line with our reason, and no home directory."""
    line = deny_line(user, service, ip, rule=rule)
    check_log(suite, dc, name, mark, line)
    suite.eq(name + ": logged once", count(dc, mark, line), 1)
    suite.ok(name + ": session error logged",
             dc.log.wait_literal(REFUSED_ERROR % rule_id, mark) is not None,
             dc.log.read(mark)[-2000:])
    suite.ok(name + ": mail not touched",
             not os.path.exists(dc.path("home/%s" % user)),
             "home/%s exists" % user)


def run_denials(suite, dc, events):
    # Deny first, while no session of alice or carol has created a home.
    name = "imap alice outside"
    mark = dc.log.mark()
    lines = suite.run(name, imap_session, dc, "alice", "198.51.100.7")
    if lines is not None:
        suite.eq(name + ": reply", lines, IMAP_DENIED + ["<closed>"])
        denied(suite, dc, name, mark, "alice", "imap", "198.51.100.7")
        events[("deny", "not_in_list", "imap")] += 1

    name = "imap alice outside IPv6"
    mark = dc.log.mark()
    lines = suite.run(name, imap_session, dc, "alice", "2001:db8:43::7")
    if lines is not None:
        suite.eq(name + ": reply", lines, IMAP_DENIED + ["<closed>"])
        denied(suite, dc, name, mark, "alice", "imap", "2001:db8:43::7")
        events[("deny", "not_in_list", "imap")] += 1

    name = "imap alice via haproxy outside"
    mark = dc.log.mark()
    lines = suite.run(name, imap_session, dc, "alice",
                      proxy_from="198.51.100.14")
    if lines is not None:
        suite.eq(name + ": reply", lines, IMAP_DENIED + ["<closed>"])
        denied(suite, dc, name, mark, "alice", "imap", "198.51.100.14")
        events[("deny", "not_in_list", "imap")] += 1

    name = "pop3 alice outside"
    mark = dc.log.mark()
    lines = suite.run(name, pop3_session, dc, "alice", "198.51.100.8")
    if lines is not None:
        suite.eq(name + ": reply", lines, POP3_DENIED + ["<closed>"])
        denied(suite, dc, name, mark, "alice", "pop3", "198.51.100.8")
        events[("deny", "not_in_list", "pop3")] += 1

    name = "pop3 carol outside her named set"
    mark = dc.log.mark()
    lines = suite.run(name, pop3_session, dc, "carol", "2001:db8:101::5")
    if lines is not None:
        suite.eq(name + ": reply", lines, POP3_DENIED + ["<closed>"])
        denied(suite, dc, name, mark, "carol", "pop3", "2001:db8:101::5")
        events[("deny", "not_in_list", "pop3")] += 1

    name = "submission alice outside"
    mark = dc.log.mark()
    lines = suite.run(name, submission_session, dc, "alice", "198.51.100.9")
    if lines is not None:
        suite.ok(name + ": reply",
                 len(lines) == 3 and lines[2] == "<closed>" and
                 all(re.search(rx, got) for rx, got in
                     zip(SUBMISSION_DENIED_RE, lines)), repr(lines))
        denied(suite, dc, name, mark, "alice", "submission", "198.51.100.9")
        events[("deny", "not_in_list", "submission")] += 1

    if dc.sieve:
        name = "managesieve alice outside"
        mark = dc.log.mark()
        lines = suite.run(name, sieve_session, dc, "alice",
                          proxy_from="198.51.100.10")
        if lines is not None:
            suite.eq(name + ": reply", lines, SIEVE_DENIED + ["<closed>"])
            # ManageSieve's userdb lookup service is "sieve", as in the
            # login-time check
            denied(suite, dc, name, mark, "alice", "sieve", "198.51.100.10")
            events[("deny", "not_in_list", "sieve")] += 1

    name = "imap grace invalid list"
    mark = dc.log.mark()
    lines = suite.run(name, imap_session, dc, "grace", "198.51.100.11")
    if lines is not None:
        suite.eq(name + ": reply", lines, IMAP_DENIED + ["<closed>"])
        denied(suite, dc, name, mark, "grace", "imap", "198.51.100.11",
               "invalid allow_nets", "invalid_list")
        check_log(suite, dc, name + " names the entry", mark,
                  'ipallow: invalid allow_nets for user=grace: entry 1 '
                  '"10/8": IPv4 shorthand is not allowed')
        events[("deny", "invalid_list", "imap")] += 1


def run_allowed(suite, dc, events):
    cases = [
        # what, protocol, user, ip, verb, rule words, rule id
        ("alice inside", "imap", "alice", "203.0.113.7", "allow",
         "in allow_nets", "in_list"),
        ("alice inside IPv6", "imap", "alice", "2001:db8:42::7", "allow",
         "in allow_nets", "in_list"),
        ("alice exempt network", "imap", "alice", "192.168.7.7", "exempt",
         "exempt network", "exempt_network"),
        ("alice IPv4-mapped inside", "imap", "alice", "::ffff:203.0.113.9",
         "allow", "in allow_nets", "in_list"),
        ("carol named set", "imap", "carol", "192.0.2.5", "allow",
         "in allow_nets", "in_list"),
        ("dave empty list", "imap", "dave", "198.51.100.20",
         "unrestricted", "no allow_nets", "no_list"),
        ("erin no field", "imap", "erin", "198.51.100.21", "unrestricted",
         "no allow_nets", "no_list"),
        ("alice inside", "pop3", "alice", "203.0.113.8", "allow",
         "in allow_nets", "in_list"),
        ("alice exempt network", "pop3", "alice", "10.1.2.3", "exempt",
         "exempt network", "exempt_network"),
        ("erin no field", "pop3", "erin", "198.51.100.22", "unrestricted",
         "no allow_nets", "no_list"),
        ("alice inside", "submission", "alice", "203.0.113.9", "allow",
         "in allow_nets", "in_list"),
    ]
    for what, proto, user, ip, verb, words, rule in cases:
        name = "%s %s" % (proto, what)
        mark = dc.log.mark()
        if proto == "imap":
            lines = suite.run(name, imap_session, dc, user, ip)
            ok = lines is not None and usable_imap(lines)
        elif proto == "pop3":
            lines = suite.run(name, pop3_session, dc, user, ip)
            ok = (lines is not None and lines[0] == "+OK Logged in." and
                  re.match(r"^\+OK \d+ \d+$", lines[1]))
        else:
            lines = suite.run(name, submission_session, dc, user, ip)
            ok = lines == ["235 2.7.0 Logged in."]
        if lines is None:
            continue
        suite.ok(name + ": usable session", ok, repr(lines))
        logged = "%s" % ip if not ip.startswith("::ffff:") else ip[7:]
        check_log(suite, dc, name, mark,
                  decision_line(verb, user, proto, logged, None, words))
        suite.ok(name + ": no deny line",
                 count(dc, mark, "ipallow: deny") == 0,
                 dc.log.read(mark)[-2000:])
        events[(verb, rule, proto)] += 1

    # The TCP peer itself (127.0.0.1, loopback: exempt by default).
    if dc.sieve:
        name = "managesieve alice direct"
        mark = dc.log.mark()
        lines = suite.run(name, sieve_session, dc, "alice")
        if lines is not None:
            suite.eq(name + ": usable session", lines,
                     ['OK "Logged in."', 'OK "Listscripts completed."'])
            check_log(suite, dc, name, mark, decision_line(
                "exempt", "alice", "sieve", "127.0.0.1", None,
                "exempt network"))
            events[("exempt", "exempt_network", "sieve")] += 1


def run_main(suite):
    dc = session_dovecot("session-login",
                         extra_conf=DEBUG_EVENT_CONF + STATS_CONF)
    events = collections.Counter()
    try:
        dc.start()
        run_denials(suite, dc, events)
        run_allowed(suite, dc, events)
        counts = stats_counts(dc)
        for (result, rule, service), n in sorted(events.items()):
            key = "ipallow_%s_%s_%s" % (result, rule, service)
            suite.eq("event %s" % key, counts.get(key), n)
        suite.eq("events in total", counts.get("ipallow"),
                 sum(events.values()))
    finally:
        dc.stop()


def run_policy_files(suite):
    # SPEC 9.1: a configured ipallow_policy that does not exist refuses
    # every checked session (no list or not) and names the path and why.
    dc = session_dovecot("session-typo", policy=None)
    try:
        dc.start()
        path = dc.path("ipallow.yaml")
        for user, ip in (("alice", "203.0.113.7"), ("erin", "198.51.100.7")):
            name = "configured policy missing %s" % user
            mark = dc.log.mark()
            lines = suite.run(name, imap_session, dc, user, ip)
            if lines is None:
                continue
            suite.eq(name + ": reply", lines, IMAP_DENIED + ["<closed>"])
            check_log(suite, dc, name, mark,
                      deny_line(user, "imap", ip, rule="policy not loaded") +
                      ": %s: No such file or directory (a configured policy "
                      "file must exist; remove the setting to use the "
                      "defaults)" % path)
        suite.ok("configured policy missing: no defaults line",
                 dc.log.find("using built-in defaults") is None,
                 dc.log.tail())
    finally:
        dc.stop()

    # No setting and no file at the built-in default path: defaults,
    # said once per process.
    if os.path.exists("/etc/dovecot/ipallow.yaml"):
        suite.ok("built-in default path exists on this machine, "
                 "missing-default case not run", True)
        return
    dc = session_dovecot("session-nopolicy", policy=None, policy_path=None)
    try:
        dc.start()
        name = "missing policy"
        mark = dc.log.mark()
        lines = suite.run(name, imap_session, dc, "alice", "198.51.100.7")
        if lines is not None:
            suite.eq(name + ": reply", lines, IMAP_DENIED + ["<closed>"])
            check_log(suite, dc, name + ": defaults", mark,
                      "ipallow: policy file /etc/dovecot/ipallow.yaml not "
                      "found, using built-in defaults")
            check_log(suite, dc, name, mark,
                      deny_line("alice", "imap", "198.51.100.7"))
        lines = suite.run(name, imap_session, dc, "alice", "203.0.113.7")
        if lines is not None:
            suite.ok(name + ": inside works", usable_imap(lines),
                     repr(lines))
    finally:
        dc.stop()



def run_broken_policy(suite):
    # A policy that does not load refuses every checked session, inside
    # the list or not, and says why.
    dc = session_dovecot("session-badpolicy", policy="mode: enforce\nbogus: 1\n")
    try:
        dc.start()
        for user, ip in (("alice", "203.0.113.7"), ("erin", "198.51.100.7")):
            name = "broken policy %s" % user
            mark = dc.log.mark()
            lines = suite.run(name, imap_session, dc, user, ip)
            if lines is None:
                continue
            suite.eq(name + ": reply", lines, IMAP_DENIED + ["<closed>"])
            check_log(suite, dc, name, mark,
                      deny_line(user, "imap", ip, rule="policy not loaded") +
                      ": %s:2:1: unknown key 'bogus' in the policy" %
                      dc.path("ipallow.yaml"))
            suite.ok(name + ": mail not touched",
                     not os.path.exists(dc.path("home/%s" % user)))
    finally:
        dc.stop()


HIBERNATE_CONF = """\
imap_hibernate_timeout = 1s
service imap {
  unix_listener imap-master {
    user = dovecot
  }
}
service imap-hibernate {
  unix_listener imap-hibernate {
    mode = 0666
  }
}
"""


def hibernate_session(dc, ip):
    """LOGIN, IDLE long enough to be hibernated, DONE (restores the
    session in a new imap process), NOOP."""
    with dc.imap() as c:
        c.forward_ip(ip)
        lines = [c.login("alice", PASSWORD)]
        c.send("i IDLE")
        lines.append(c.readline())
        time.sleep(3)       # imap_hibernate_timeout = 1s
        c.send("DONE")
        lines.append(c.readline())
        lines.append(c.command("NOOP")[1])
        c.logout()
    return lines


def run_hibernation(suite):
    dc = session_dovecot("session-hibernate",
                         extra_conf=DEBUG_EVENT_CONF + HIBERNATE_CONF)
    try:
        dc.start()
        name = "hibernated imap session"
        mark = dc.log.mark()
        lines = suite.run(name, hibernate_session, dc, "203.0.113.7")
        if lines is None:
            return
        suite.ok(name + ": usable after restore",
                 lines[0].startswith("b OK [CAPABILITY ") and
                 lines[1:3] == ["+ idling", "i OK Idle completed."] and
                 lines[3].startswith("a2 OK NOOP completed"), repr(lines))
        dc.log.wait(r"imap\(alice\).*Logged out", mark)
        pids = set(re.findall(r"imap\(alice\)<(\d+)>", dc.log.read(mark)))
        suite.ok(name + ": restored in another imap process",
                 len(pids) == 2, repr(pids))
        suite.eq(name + ": checked once",
                 count(dc, mark, "ipallow: allow user=alice"), 1)
    finally:
        dc.stop()


def main():
    suite = Suite("session-login")
    if not suite.ok("plugin present", plugin_installed() is not None,
                    "lib90_ipallow_plugin.so is not installed (make "
                    "install, or set IPALLOW_MAIL_PLUGIN_DIR)"):
        suite.finish()
    suite.run("main", run_main, suite)
    suite.run("policy files", run_policy_files, suite)
    suite.run("broken policy", run_broken_policy, suite)
    suite.run("hibernation", run_hibernation, suite)
    suite.finish()


if __name__ == "__main__":
    main()
