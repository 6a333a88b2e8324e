#!/usr/bin/env python3
"""Policy settings seen from outside, with Dovecot's default logging
(auth_verbose = no, no auth_debug): mode: report, unknown_ip: deny, a
custom reject_reason, reject_reason: "" (a denial looks like a wrong
password), on_invalid: skip, and fail-closed when the policy does not load
(both backends) or when a configured path does not exist (SPEC 9.1), and
falls back to defaults when only the built-in default path is missing.""" 

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dovecot_it import Suite, auth_level_re                   # noqa: E402
from ipallow_fixtures import (                                # noqa: E402
    SILENT_FAIL, TEMP_FAIL,
    ALERT, AUTH_FAILED, BACKENDS, IMAP_OK, PASSWORD, REASON, STATS_CONF,
    WRONG, Outside, check_log, check_no_decision, check_reply,
    decision_line, imap_login, ipallow_dovecot, stats_counts)

PEER = "127.0.0.1"
IMAP_OK_B = "re:" + IMAP_OK % "b"
INVALID_BOB = ('ipallow: invalid allow_nets for user=bob: entry 3 "10/8": '
               'IPv4 shorthand is not allowed')
TEMPFAIL = r"re:^b NO \[UNAVAILABLE\] Temporary authentication failure\. " \
           r"\[.*\]$"


def login_case(suite, dc, name, user, ip, want, log, password=PASSWORD,
               level=None):
    mark = dc.log.mark()
    reply = suite.run(name, imap_login, dc, user, password, ip)
    if reply is None:
        return
    check_reply(suite, name, reply, want)
    if log is None:
        check_no_decision(suite, dc, name, mark, user, ip)
        return
    check_log(suite, dc, name, mark, log)
    if level is not None:
        line = dc.log.find(re.escape(log), mark) or ""
        suite.ok(name + ": logged as auth: %s" % level,
                 re.search(auth_level_re(level), line), line)


def report_mode(suite):
    dc = ipallow_dovecot("report", policy="mode: report\n",
                         extra_conf=STATS_CONF)
    with dc:
        login_case(suite, dc, "report: alice outside gets in", "alice",
                   "198.51.100.7", IMAP_OK_B,
                   "ipallow: report-only, would deny user=alice "
                   "service=imap ip=198.51.100.7 peer=127.0.0.1 "
                   "(not in allow_nets)", level="Info")
        name = "report: alice inside, default logging"
        mark = dc.log.mark()
        reply = suite.run(name, imap_login, dc, "alice", PASSWORD,
                          "203.0.113.7")
        check_reply(suite, name, reply or "", IMAP_OK_B)
        suite.ok(name + ": allow is not logged without auth_debug",
                 dc.log.absent(r"ipallow: allow ", mark),
                 dc.log.read(mark))
        login_case(suite, dc, "report: bob invalid list gets in", "bob",
                   "198.51.100.8", IMAP_OK_B,
                   "ipallow: report-only, would deny user=bob service=imap "
                   "ip=198.51.100.8 peer=127.0.0.1 (invalid allow_nets)")
        suite.ok("report: invalid list logged as a warning",
                 dc.log.find(auth_level_re("Warning") + ".*" +
                             re.escape(INVALID_BOB))
                 is not None, dc.log.tail())
        counts = stats_counts(dc)
        suite.eq("report: event result=report rule=not_in_list",
                 counts.get("ipallow_report_not_in_list_imap"), 1)
        suite.eq("report: event result=report rule=invalid_list",
                 counts.get("ipallow_report_invalid_list_imap"), 1)
        suite.eq("report: event result=allow",
                 counts.get("ipallow_allow_in_list_imap"), 1)


def unknown_ip_deny(suite):
    policy = ('unknown_ip: deny\n'
              'reject_reason: "Use the office VPN."\n')
    dc = ipallow_dovecot("unknownip", policy=policy)
    with dc:
        login_case(suite, dc, "custom reason: imap alice outside", "alice",
                   "198.51.100.7", "b NO [ALERT] Use the office VPN.",
                   "ipallow: deny user=alice service=imap ip=198.51.100.7 "
                   "peer=127.0.0.1 (not in allow_nets)", level="Info")
        with dc.auth_client() as a:
            cases = [
                ("alice smtp without rip", "alice", "smtp",
                 "FAIL\t1\tuser=alice\tcode=user_disabled\t"
                 "reason=Use the office VPN.",
                 decision_line("deny", "alice", "smtp", "unknown", None,
                               "client IP unknown")),
                ("erin (no list) smtp without rip", "erin", "smtp",
                 "re:^OK\t1\tuser=erin(\t|$)", None),
                ("alice radicale without rip", "alice", "radicale",
                 "re:^OK\t1\tuser=alice(\t|$)", None),
            ]
            for what, user, service, want, log in cases:
                name = "unknown_ip deny: " + what
                mark = dc.log.mark()
                reply = suite.run(name, a.auth_plain, user, PASSWORD,
                                  service)
                check_reply(suite, name, reply or "", want)
                if log is not None:
                    check_log(suite, dc, name, mark, log)


def on_invalid_skip(suite):
    dc = ipallow_dovecot("skip", policy="on_invalid: skip\n")
    with dc:
        mark = dc.log.mark()
        login_case(suite, dc, "skip: bob inside the valid part", "bob",
                   "198.51.100.7", IMAP_OK_B, None)
        suite.ok("skip: bob invalid entry logged and skipped",
                 dc.log.wait(re.escape(INVALID_BOB) +
                             r".*\(invalid entries skipped\)$", mark)
                 is not None, dc.log.read(mark))
        login_case(suite, dc, "skip: bob outside the valid part", "bob",
                   "203.0.113.7", ALERT,
                   "ipallow: deny user=bob service=imap ip=203.0.113.7 "
                   "peer=127.0.0.1 (not in allow_nets)")
        mark = dc.log.mark()
        login_case(suite, dc, "skip: grace, nothing valid left", "grace",
                   "198.51.100.9", ALERT,
                   "ipallow: deny user=grace service=imap ip=198.51.100.9 "
                   "peer=127.0.0.1 (invalid allow_nets)")
        line = dc.log.find(r'ipallow: invalid allow_nets for user=grace: '
                           r'entry 1 "10/8"', mark)
        suite.ok("skip: grace invalid entry logged, not skipped",
                 line is not None and "skipped" not in line, line or "")


def silent_reason(suite):
    out = Outside()
    dc = ipallow_dovecot("silent", policy='reject_reason: ""\n')
    with dc:
        wrong = suite.run("silent: wrong password reply", imap_login, dc,
                          "alice", WRONG, out.v4())
        suite.eq("silent: wrong password reply", wrong, AUTH_FAILED)
        login_case(suite, dc, "silent: imap alice outside", "alice",
                   "198.51.100.7", AUTH_FAILED,
                   decision_line("deny", "alice", "imap", "198.51.100.7",
                                 PEER, "not in allow_nets"))
        with dc.pop3() as c:
            c.xclient("198.51.100.8")
            suite.eq("silent: pop3 alice outside",
                     c.user_pass("alice", PASSWORD),
                     "-ERR [AUTH] Authentication failed.")
        with dc.pop3() as c:
            c.xclient(out.v4())
            suite.eq("silent: pop3 wrong password",
                     c.user_pass("alice", WRONG),
                     "-ERR [AUTH] Authentication failed.")
        with dc.submission() as c:
            c.ehlo()
            c.xclient("198.51.100.9")
            suite.eq("silent: submission alice outside",
                     c.auth_plain("alice", PASSWORD),
                     "535 5.7.8 Authentication failed.")
        with dc.auth_client() as a:
            # Auth-socket callers still see code=user_disabled, without
            # a reason and without any field of the password passdb (the
            # silent denial drops them all; t-silent.py).
            suite.eq("silent: auth socket alice outside",
                     a.auth_plain("alice", PASSWORD, "smtp",
                                  rip="198.51.100.10"),
                     SILENT_FAIL % "alice")


def broken_policy(suite, backend):
    out = Outside()
    dc = ipallow_dovecot("broken-" + backend, backend,
                         policy="mode: enforced\n")
    with dc:
        ip = out.v4()
        login_case(suite, dc, "%s broken policy: alice inside refused" %
                   backend, "alice", "203.0.113.7", TEMPFAIL,
                   "ipallow: deny user=alice service=imap ip=203.0.113.7 "
                   "peer=127.0.0.1 (policy not loaded): %s:1:7: mode must "
                   "be enforce or report" % dc.path("ipallow.yaml"))
        suite.ok("%s broken policy: load error logged at start" % backend,
                 dc.log.find(r"auth: Error: ipallow: policy %s not loaded, "
                             r"every login through the ipallow passdb will "
                             r"be refused: %s:1:\d+: " % (
                                 re.escape(dc.path("ipallow.yaml")),
                                 re.escape(dc.path("ipallow.yaml"))))
                 is not None, dc.log.tail())
        login_case(suite, dc, "%s broken policy: erin (no list) refused" %
                   backend, "erin", ip, TEMPFAIL,
                   "ipallow: deny user=erin service=imap ip=%s "
                   "peer=127.0.0.1 (policy not loaded)" % ip)
        login_case(suite, dc, "%s broken policy: wrong password" % backend,
                   "alice", out.v4(), AUTH_FAILED, None, password=WRONG)
        with dc.auth_client() as a:
            suite.eq("%s broken policy: auth socket radicale" % backend,
                     a.auth_plain("alice", PASSWORD, "radicale"),
                     TEMP_FAIL % "alice")


IPALLOW_ARGS = """\
passdb {
  driver = ipallow
  args = %s
  skip = unauthenticated
  result_internalfail = return-fail
}
"""
DEFAULT_PATH = "/etc/dovecot/ipallow.yaml"


def configured_policy_missing(suite):
    # SPEC 9.1: a typo in args (.yml for .yaml) next to a policy that
    # narrows things must not mean "defaults": every login is refused
    # and the log names the path and why.
    dc = ipallow_dovecot("typo", policy="unknown_ip: deny\n",
                         ipallow=False,
                         after=IPALLOW_ARGS % "{dir}/ipallow.yml")
    typo = dc.path("ipallow.yml")
    why = ("%s: No such file or directory (a configured policy file must "
           "exist; remove the setting to use the defaults)" % typo)
    with dc:
        login_case(suite, dc, "typo in args: alice inside refused", "alice",
                   "203.0.113.7", TEMPFAIL,
                   "ipallow: deny user=alice service=imap ip=203.0.113.7 "
                   "peer=127.0.0.1 (policy not loaded): " + why)
        suite.ok("typo in args: load error names the path and why",
                 dc.log.wait(r"auth: Error: ipallow: policy %s not loaded, "
                             r"every login through the ipallow passdb will "
                             r"be refused: %s" % (re.escape(typo),
                                                   re.escape(why)))
                 is not None, dc.log.tail())
        login_case(suite, dc, "typo in args: erin (no list) refused",
                   "erin", "198.51.100.7", TEMPFAIL,
                   "ipallow: deny user=erin service=imap ip=198.51.100.7 "
                   "peer=127.0.0.1 (policy not loaded)")
        suite.ok("typo in args: no defaults line",
                 dc.log.find(r"using built-in defaults") is None,
                 dc.log.tail())


def default_policy_missing(suite):
    # Only the built-in default path may be missing: defaults, said once.
    if os.path.exists(DEFAULT_PATH):
        suite.ok("built-in default path: %s exists on this machine, "
                 "case not run" % DEFAULT_PATH, True)
        return
    dc = ipallow_dovecot("missing", policy=None, ipallow=False,
                         after=IPALLOW_ARGS % "")
    with dc:
        login_case(suite, dc, "missing default policy: alice outside "
                   "(defaults)", "alice", "198.51.100.7", ALERT,
                   decision_line("deny", "alice", "imap", "198.51.100.7",
                                 PEER, "not in allow_nets"))
        suite.ok("missing default policy: logged",
                 dc.log.find(r"auth: Info: ipallow: policy file %s not "
                             r"found, using built-in defaults" %
                             re.escape(DEFAULT_PATH))
                 is not None, dc.log.tail())
        login_case(suite, dc, "missing default policy: alice inside",
                   "alice", "203.0.113.7", IMAP_OK_B, None)


def main():
    suite = Suite("modes")
    suite.run("report", report_mode, suite)
    suite.run("unknown_ip", unknown_ip_deny, suite)
    suite.run("on_invalid skip", on_invalid_skip, suite)
    suite.run("silent", silent_reason, suite)
    for backend in BACKENDS:
        suite.run("broken " + backend, broken_policy, suite, backend)
    suite.run("configured missing", configured_policy_missing, suite)
    suite.run("default missing", default_policy_missing, suite)
    suite.finish()


if __name__ == "__main__":
    main()
