#!/usr/bin/env python3
"""Both checks in one setup, as operators will often run them: the ipallow
passdb in the passdb chain and the ipallow mail plugin. A denial is logged
once, by whichever check made it:

- list only in a separate userdb: the passdb sees no list (unrestricted,
  at debug level), the session-time check refuses: one deny line, from the
  mail process;
- list returned by the passdb (prefetch): the login is refused with the
  reject_reason before any session exists: one deny line, from auth, and
  nothing from a mail process;
- an allowed login passes both (each logs its allow at debug level);
- mode: report: the login and the session go on, and each check logs its
  own report-only line (two checks, two lines; see doc/mail-plugin.md)."""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dovecot_it import Suite, wait_until                                 # noqa: E402
from ipallow_fixtures import (                                # noqa: E402
    ALERT, DEBUG_EVENT_CONF, DEFAULT_POLICY, PASSWORD, check_log,
    decision_line, deny_line, imap_login)
from session_fixtures import (                                # noqa: E402
    IMAP_DENIED, POP3_DENIED, imap_session, plugin_installed, pop3_session,
    session_dovecot)

PEER = "127.0.0.1"


def lines_with(dc, mark, text, at_least=0):
    """The log lines after mark that hold text. With at_least, first waits
    (up to IT_TIMEOUT) until that many are there: the log process writes
    asynchronously, so a count read at once can miss the mail process's line
    on a loaded machine."""
    def found():
        return [l for l in dc.log.read(mark).splitlines() if text in l]
    if at_least:
        wait_until(lambda: len(found()) >= at_least)
    return found()


def source(line):
    """The process that logged line: "auth" or "imap", "pop3", ..."""
    m = re.match(r"^\w+ +\d+ [\d:]+ ([\w-]+)[(:]", line)
    return m.group(1) if m else line


def run_separate_userdb(suite):
    dc = session_dovecot("chain-userdb", login_check=True,
                         extra_conf=DEBUG_EVENT_CONF)
    try:
        dc.start()
        for proto, ip in (("imap", "198.51.100.7"), ("pop3", "198.51.100.8")):
            name = "separate userdb %s outside" % proto
            mark = dc.log.mark()
            if proto == "imap":
                lines = suite.run(name, imap_session, dc, "alice", ip)
                want = IMAP_DENIED + ["<closed>"]
            else:
                lines = suite.run(name, pop3_session, dc, "alice", ip)
                want = POP3_DENIED + ["<closed>"]
            if lines is None:
                continue
            suite.eq(name + ": session refused", lines, want)
            check_log(suite, dc, name + ": passdb saw no list", mark,
                      decision_line("unrestricted", "alice", proto, ip, PEER,
                                    "no allow_nets"))
            denies = lines_with(dc, mark, "ipallow: deny user=alice", 1)
            suite.eq(name + ": one deny line", len(denies), 1)
            suite.eq(name + ": from the mail process",
                     [source(l) for l in denies], [proto])
            check_log(suite, dc, name, mark, deny_line("alice", proto, ip))

        name = "separate userdb imap inside"
        mark = dc.log.mark()
        lines = suite.run(name, imap_session, dc, "alice", "203.0.113.7")
        if lines is not None:
            suite.ok(name + ": usable", len(lines) == 2 and
                     lines[1].startswith("s OK [READ-WRITE]"), repr(lines))
            check_log(suite, dc, name, mark, decision_line(
                "allow", "alice", "imap", "203.0.113.7", None,
                "in allow_nets"))
            suite.eq(name + ": no deny",
                     lines_with(dc, mark, "ipallow: deny"), [])
    finally:
        dc.stop()


def run_prefetch(suite, policy, label):
    dc = session_dovecot("chain-" + label, policy=policy, login_check=True,
                         prefetch=True, extra_conf=DEBUG_EVENT_CONF)
    try:
        dc.start()
        ip = "198.51.100.9"
        if label == "prefetch":
            name = "prefetch imap outside"
            mark = dc.log.mark()
            reply = suite.run(name, imap_login, dc, "alice", PASSWORD, ip)
            if reply is not None:
                suite.eq(name + ": refused at login", reply, ALERT)
                denies = lines_with(dc, mark, "ipallow: deny user=alice", 1)
                suite.eq(name + ": one deny line", len(denies), 1)
                suite.eq(name + ": from auth", [source(l) for l in denies],
                         ["auth"])
                check_log(suite, dc, name, mark,
                          deny_line("alice", "imap", ip, PEER))
                suite.ok(name + ": no session",
                         dc.log.absent(r"imap\(alice\)", mark),
                         dc.log.read(mark))

            name = "prefetch imap inside"
            mark = dc.log.mark()
            lines = suite.run(name, imap_session, dc, "alice", "203.0.113.7")
            if lines is not None:
                suite.ok(name + ": usable", len(lines) == 2 and
                         lines[1].startswith("s OK [READ-WRITE]"),
                         repr(lines))
                allows = lines_with(dc, mark, "ipallow: allow user=alice", 2)
                suite.eq(name + ": allowed by both checks",
                         sorted(source(l) for l in allows),
                         ["auth", "imap"])
        else:
            name = "report mode imap outside"
            mark = dc.log.mark()
            lines = suite.run(name, imap_session, dc, "alice", ip)
            if lines is not None:
                suite.ok(name + ": usable", len(lines) == 2 and
                         lines[1].startswith("s OK [READ-WRITE]"),
                         repr(lines))
                reports = lines_with(dc, mark, "ipallow: report-only, "
                                     "would deny user=alice", 2)
                suite.eq(name + ": one report line per check",
                         sorted(source(l) for l in reports),
                         ["auth", "imap"])
                suite.eq(name + ": no deny",
                         lines_with(dc, mark, "ipallow: deny"), [])
    finally:
        dc.stop()


def main():
    suite = Suite("session-chain")
    if not suite.ok("plugin present", plugin_installed() is not None,
                    "lib90_ipallow_plugin.so is not installed (make "
                    "install, or set IPALLOW_MAIL_PLUGIN_DIR)"):
        suite.finish()
    suite.run("separate userdb", run_separate_userdb, suite)
    suite.run("prefetch", run_prefetch, suite, DEFAULT_POLICY, "prefetch")
    suite.run("report", run_prefetch, suite,
              DEFAULT_POLICY + "mode: report\n", "report")
    suite.finish()


if __name__ == "__main__":
    main()
