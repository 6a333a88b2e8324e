#!/usr/bin/env python3
"""Login-time and session-time checks agree on every input (one core).

The case table of the login-time IMAP tests (cases() in t-imap.py: every
address case of SPEC §3-§4 for the sample users) is run three ways with
the same policy:

  login-time    the ipallow passdb, list returned by the passdb (prefetch);
  session-time  the ipallow mail plugin, list only in a separate userdb;
  ipallow check the command-line tool on the same list, IP and service;

and the three decisions (verb, client IP, rule) must be equal to each
other and to the table. Cases that never reach the check (wrong password,
unknown user) are left out: a session only exists after a successful
login."""

import importlib.util
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from dovecot_it import Suite                                  # noqa: E402
from ipallow_fixtures import (                                # noqa: E402
    DEBUG_EVENT_CONF, PASSWORD, USERS, imap_login,
    ipallow_dovecot)
from session_fixtures import (                                # noqa: E402
    IMAP_DENIED, imap_session, plugin_installed, session_dovecot)

DECISION_RE = re.compile(r"ipallow: (.*?) user=(\S+) service=(\S+) "
                         r"ip=(\S+)(?: peer=\S+)? \((.*)\)$")


def load_table():
    """cases() of t-imap.py: (what, user, ip, password, mech, reply, log
    line or None, (result, rule) or None)."""
    spec = importlib.util.spec_from_file_location(
        "t_imap", os.path.join(HERE, "t-imap.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    table = []
    seen = set()
    for case in mod.cases():
        what, user, ip, pw, mech, reply, log, event = case
        if pw != PASSWORD or user not in USERS or log is None:
            continue
        if (user, ip) in seen:      # LOGIN and AUTHENTICATE: same input
            continue
        seen.add((user, ip))
        m = DECISION_RE.search(log)
        table.append((what, user, ip, (m.group(1), m.group(4),
                                       m.group(5)), event))
    return table


def decision(dc, mark, user):
    """(verb, ip, rule words) of the ipallow line about user after mark."""
    line = dc.log.wait(r"ipallow: .* user=%s service=imap " % re.escape(user),
                       mark)
    if line is None:
        return None
    m = DECISION_RE.search(line)
    return (m.group(1), m.group(4), m.group(5)) if m else line


def cli_decision(cli, policy_path, user, ip):
    nets = USERS[user][0]
    p = subprocess.run([cli, "check", "--policy", policy_path, "--service",
                        "imap", "--nets", nets or "", ip],
                       capture_output=True, text=True)
    m = re.match(r"^(.*) \((.*)\)$", p.stdout.splitlines()[0]
                 if p.stdout else "")
    return p.returncode, (m.group(1), m.group(2)) if m else p.stdout


def main():
    suite = Suite("session-cases")
    if not suite.ok("plugin present", plugin_installed() is not None,
                    "lib90_ipallow_plugin.so is not installed (make "
                    "install, or set IPALLOW_MAIL_PLUGIN_DIR)"):
        suite.finish()
    table = suite.run("load t-imap.py cases()", load_table)
    if not suite.ok("case table loaded", bool(table)):
        suite.finish()
    suite.ok("table covers every result",
             {e[0] for *_, e in table} >=
             {"allow", "deny", "exempt", "unrestricted"}, repr(table))
    cli = os.environ.get("IPALLOW") or shutil.which("ipallow")
    suite.ok("ipallow command found", cli is not None, "set IPALLOW")

    login = ipallow_dovecot("cases-login", extra_conf=DEBUG_EVENT_CONF)
    session = session_dovecot("cases-session", extra_conf=DEBUG_EVENT_CONF)
    try:
        login.start()
        session.start()
        for what, user, ip, want, event in table:
            name = "%s %s" % (user, what)

            mark = login.log.mark()
            suite.run(name + " (login)", imap_login, login, user, PASSWORD,
                      ip)
            at_login = decision(login, mark, user)

            mark = session.log.mark()
            lines = suite.run(name + " (session)", imap_session, session,
                              user, ip)
            at_session = decision(session, mark, user)

            suite.eq(name + ": login-time", at_login, want)
            suite.eq(name + ": session-time = login-time", at_session,
                     at_login)
            if lines is not None:
                if event[0] == "deny":
                    suite.eq(name + ": session refused", lines,
                             IMAP_DENIED + ["<closed>"])
                else:
                    suite.ok(name + ": session usable",
                             len(lines) == 2 and
                             lines[1].startswith("s OK [READ-WRITE]"),
                             repr(lines))
            if cli is not None:
                rc, got = cli_decision(cli, session.path("ipallow.yaml"),
                                       user, ip)
                suite.eq(name + ": ipallow check = session-time",
                         (rc, got), (1 if event[0] == "deny" else 0,
                                     (want[0], want[2])))
    finally:
        session.stop()
        login.stop()
    suite.finish()


if __name__ == "__main__":
    main()
