#!/usr/bin/env python3
"""Session-time check, mail flow side: delivery and administration are
never blocked. The policy here exempts nothing (no networks, no services)
and denies an unknown client IP, so every exemption below comes from the
plugin's hard-coded list of internal services:

- LMTP delivery (dovecot-lmtpd on a loopback port, with XCLIENT claiming a
  client address outside the mailbox's list) into a restricted mailbox
  succeeds and the message is in the mailbox;
- dovecot-lda delivery (no client IP at all) succeeds;
- doveadm search/fetch/mailbox status/flags work on the mailbox;
- indexing through the indexer service (indexer-worker) works;
- all of it again with a policy file that does not load, while an IMAP
  session in the same instance is refused (fail closed)."""

import collections
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dovecot_it import Suite                                  # noqa: E402
from ipallow_fixtures import (                                # noqa: E402
    DEBUG_EVENT_CONF, STATS_CONF, USERS, check_log, decision_line,
    deny_line, stats_counts)
from session_fixtures import (                                # noqa: E402
    HOSTILE_POLICY, IMAP_DENIED, imap_session, lmtp_deliver,
    plugin_installed, session_dovecot)

LDA = "/usr/lib/dovecot/dovecot-lda"
OUTSIDE = "198.51.100.7"        # outside alice's list, not exempt


def ipallow_cli():
    return os.environ.get("IPALLOW") or shutil.which("ipallow")


def exempt_line(user, service, ip):
    return decision_line("exempt", user, service, ip, None, "exempt service")


def subjects(dc, user):
    rc, out, err = dc.doveadm("fetch", "-u", user, "hdr.subject",
                              "mailbox", "INBOX", "ALL")
    return rc, [l[len("hdr.subject: "):] for l in out.splitlines()
                if l.startswith("hdr.subject: ")], err


def run_instance(suite, label, policy, events):
    dc = session_dovecot("session-" + label, policy=policy,
                         extra_conf=DEBUG_EVENT_CONF + STATS_CONF)
    try:
        dc.start()

        # A control: this policy does refuse an IMAP session of alice
        # from the same address.
        name = "%s imap alice control" % label
        mark = dc.log.mark()
        lines = suite.run(name, imap_session, dc, "alice", OUTSIDE)
        if lines is not None:
            suite.eq(name + ": refused", lines, IMAP_DENIED + ["<closed>"])
            rule = ("policy not loaded" if label == "broken"
                    else "not in allow_nets")
            check_log(suite, dc, name, mark,
                      deny_line("alice", "imap", OUTSIDE, rule=rule))
            events[label, "deny", "not_in_list" if label != "broken"
                   else "no_policy", "imap"] += 1

        # LMTP from a client address outside the list (XCLIENT).
        for user in ("alice", "grace", "erin"):
            name = "%s lmtp to %s" % (label, user)
            mark = dc.log.mark()
            subject = "lmtp %s %s" % (label, user)
            reply = suite.run(name, lmtp_deliver, dc, user, subject, OUTSIDE)
            if reply is None:
                continue
            suite.ok(name + ": accepted",
                     reply.startswith("250 2.0.0 <%s> " % user) and
                     reply.endswith(" Saved"), reply)
            check_log(suite, dc, name, mark,
                      exempt_line(user, "lmtp", OUTSIDE))
            suite.ok(name + ": no deny", dc.log.absent("ipallow: deny", mark),
                     dc.log.read(mark))
            rc, subj, err = subjects(dc, user)
            suite.ok(name + ": in the mailbox", rc == 0 and subject in subj,
                     "rc=%s subjects=%r %s" % (rc, subj, err))
            events[label, "exempt", "exempt_service", "lmtp"] += 1
            # the doveadm fetch above
            events[label, "exempt", "exempt_service", "doveadm"] += 1

        # dovecot-lda: no client IP (unknown_ip: deny in this policy).
        name = "%s lda to alice" % label
        mark = dc.log.mark()
        p = subprocess.run([LDA, "-c", dc.conf_path, "-d", "alice"],
                           input=("From: sender@example.com\nSubject: lda %s"
                                  "\n\nbody\n" % label).encode(),
                           capture_output=True, timeout=30)
        suite.eq(name + ": exit code", p.returncode, 0)
        check_log(suite, dc, name, mark, exempt_line("alice", "lda",
                                                     "unknown"))
        rc, subj, err = subjects(dc, "alice")
        suite.ok(name + ": in the mailbox", "lda %s" % label in subj,
                 repr(subj))
        events[label, "exempt", "exempt_service", "lda"] += 1
        events[label, "exempt", "exempt_service", "doveadm"] += 1

        # doveadm on the restricted mailbox.
        name = "%s doveadm" % label
        mark = dc.log.mark()
        # -D: doveadm logs to its own stderr, debug lines only with -D
        rc, out, err = dc.doveadm("-D", "search", "-u", "alice", "mailbox",
                                  "INBOX", "ALL")
        suite.eq(name + " search: two messages", (rc, len(out.splitlines())),
                 (0, 2))
        suite.ok(name + ": exempt line",
                 exempt_line("alice", "doveadm", "unknown") in err, err)
        rc, out, err = dc.doveadm("mailbox", "status", "-u", "alice",
                                  "messages", "INBOX")
        suite.eq(name + " mailbox status", (rc, out.strip()),
                 (0, "INBOX messages=2"))
        rc, out, err = dc.doveadm("flags", "add", "-u", "alice", "\\Seen",
                                  "mailbox", "INBOX", "ALL")
        suite.eq(name + " flags add", rc, 0)
        rc, out, err = dc.doveadm("search", "-u", "alice", "mailbox",
                                  "INBOX", "SEEN")
        suite.eq(name + " flags took", (rc, len(out.splitlines())), (0, 2))
        suite.ok(name + ": no deny", dc.log.absent("ipallow: deny", mark),
                 dc.log.read(mark))
        events[label, "exempt", "exempt_service", "doveadm"] += 4

        # Indexing in the background: indexer -> indexer-worker.
        name = "%s indexer-worker" % label
        mark = dc.log.mark()
        rc, out, err = dc.doveadm("index", "-q", "-u", "alice", "INBOX")
        suite.eq(name + ": queued", rc, 0)
        check_log(suite, dc, name, mark,
                  exempt_line("alice", "indexer-worker", "unknown"))
        events[label, "exempt", "exempt_service", "indexer-worker"] += 1
        # doveadm itself creates the user before queueing
        events[label, "exempt", "exempt_service", "doveadm"] += 1

        counts = stats_counts(dc)
        mine = {k: n for k, n in events.items() if k[0] == label}
        for (_, result, rule, service), n in sorted(mine.items()):
            key = "ipallow_%s_%s_%s" % (result, rule, service)
            suite.eq("%s event %s" % (label, key), counts.get(key), n)
        suite.eq("%s events in total" % label, counts.get("ipallow"),
                 sum(mine.values()))
    finally:
        dc.stop()


def main():
    suite = Suite("session-delivery")
    if not suite.ok("plugin present", plugin_installed() is not None,
                    "lib90_ipallow_plugin.so is not installed (make "
                    "install, or set IPALLOW_MAIL_PLUGIN_DIR)"):
        suite.finish()

    # The policy on its own would refuse these sessions: the exemption
    # comes from the plugin, not from the policy.
    cli = ipallow_cli()
    if suite.ok("ipallow command found", cli is not None, "set IPALLOW"):
        d = os.path.join(os.environ.get("TMPDIR", "/tmp"),
                         "session-delivery-%d.yaml" % os.getpid())
        with open(d, "w") as f:
            f.write(HOSTILE_POLICY)
        try:
            for service, ip in (("lmtp", OUTSIDE), ("doveadm", "127.0.0.1"),
                                ("indexer-worker", "127.0.0.1")):
                p = subprocess.run([cli, "check", "--policy", d, "--service",
                                    service, "--nets", USERS["alice"][0],
                                    ip], capture_output=True, text=True)
                suite.eq("policy alone denies %s" % service,
                         (p.returncode, p.stdout.strip()),
                         (1, "deny (not in allow_nets)"))
        finally:
            os.unlink(d)

    events = collections.Counter()
    suite.run("hostile policy", run_instance, suite, "hostile",
              HOSTILE_POLICY, events)
    suite.run("broken policy", run_instance, suite, "broken",
              "exempt:\n  services: [lmtp\n", events)
    suite.finish()


if __name__ == "__main__":
    main()
