#!/usr/bin/env python3
"""Reload and failure drills against a real Dovecot:

  - doveadm reload with a changed policy applies to new logins (named
    set moved, reject_reason reworded, mode: report);
  - a broken policy at reload is reported (file:line:column) and every
    login fails closed, exempt services and users without a list too;
  - the policy restored and reloaded brings logins back, with the same
    master process (no manual restart);
  - a reload to a broken policy while requests are in flight: each is
    answered by the old auth process (old policy) or the new one
    (temporary failure), never allowed where the old policy denies;
  - killing the auth workers (SQLite passdb, blocking) mid-load: the
    requests they held fail with a temporary failure, none is allowed
    wrongly, and new workers take over;
  - killing the auth process itself mid-load: its connections close, no
    request is allowed wrongly, and the next auth process serves.

Kills only processes of the instance it started (children of its own
Dovecot master), by pid."""

import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dovecot_it import Suite, wait_until                      # noqa: E402
from auth_pipeline import (                                   # noqa: E402
    AuthPipeline, AuthRequest, PipelineStats, auth_many, auth_pids,
    pid_alive, reload_dovecot)
from ipallow_fixtures import (                                # noqa: E402
    ALERT, PASSWORD, REASON, WRONG, imap_login, ipallow_dovecot)

FAIL_DENIED = "FAIL\t1\tuser=%s\tcode=user_disabled\treason=%s"
FAIL_TEMP_RE = r"^FAIL\t1\tuser=%s\tcode=temp_fail\t?$"
OK_RE = r"^OK\t1\tuser=%s(\t|$)"
TEMPFAIL_IMAP = r"^b NO \[UNAVAILABLE\] Temporary authentication failure\."
IMAP_OK = r"^b OK \[CAPABILITY [^\]]*\] Logged in$"

POLICY_A = """\
sets:
  office: [192.0.2.0/24]
"""
POLICY_B = """\
reject_reason: "Not from here, see https://example.com/nets"
sets:
  office: [198.51.100.0/24]
"""
POLICY_REPORT = "mode: report\n" + POLICY_B
POLICY_BROKEN = """\
sets:
  office: [192.0.2.0/24, 10/8]
"""
BROKEN_WHERE = ':2:26: set \'office\': "10/8": IPv4 shorthand is not allowed'


class Addr:
    def __init__(self):
        self.n = 0

    def net(self, prefix):
        self.n += 1
        return "%s.%d" % (prefix, self.n % 250 + 1)

    def outside(self):
        self.n += 1
        return "198.18.%d.%d" % (self.n // 250 % 250, self.n % 250 + 1)


def socket_case(suite, dc, what, user, ip, want, reason=REASON,
                service="smtp"):
    reply = auth_many(dc.auth_socket_path,
                      [(user, PASSWORD, service, {"rip": ip})])[0]
    if want == "ok":
        return suite.match(what + ": allowed", reply, OK_RE % user)
    if want == "deny":
        return suite.eq(what + ": denied", reply,
                        FAIL_DENIED % (user, reason))
    return suite.match(what + ": temporary failure", reply,
                       FAIL_TEMP_RE % user)


def write_policy(dc, text):
    # written to a new file and renamed, as configuration management does
    tmp = dc.path("ipallow.yaml.new")
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, dc.path("ipallow.yaml"))


def policy_drills(suite):
    addr = Addr()
    dc = ipallow_dovecot("reload", policy=POLICY_A)
    with dc:
        master = dc.proc.pid
        socket_case(suite, dc, "A: carol in office 192.0.2.0/24", "carol",
                    addr.net("192.0.2"), "ok")
        socket_case(suite, dc, "A: carol from 198.51.100.x", "carol",
                    addr.net("198.51.100"), "deny")

        # changed policy: office moves, the reason is reworded
        write_policy(dc, POLICY_B)
        rc, old, done = reload_dovecot(dc)
        suite.ok("B: doveadm reload exit 0, new auth process", rc == 0 and
                 done, "rc %s, old %s" % (rc, old))
        reason_b = "Not from here, see https://example.com/nets"
        socket_case(suite, dc, "B: carol from old office 192.0.2.x",
                    "carol", addr.net("192.0.2"), "deny", reason_b)
        socket_case(suite, dc, "B: carol in new office 198.51.100.x",
                    "carol", addr.net("198.51.100"), "ok")
        reply = suite.run("B imap", imap_login, dc, "alice", PASSWORD,
                          addr.outside())
        suite.eq("B: imap shows the new reject_reason", reply,
                 "b NO [ALERT] " + reason_b)

        # mode: report
        write_policy(dc, POLICY_REPORT)
        reload_dovecot(dc)
        mark = dc.log.mark()
        ip = addr.outside()
        socket_case(suite, dc, "report: alice outside goes on", "alice", ip,
                    "ok")
        suite.ok("report: would-deny line", dc.log.wait_literal(
            "ipallow: report-only, would deny user=alice service=smtp ip=%s "
            "(not in allow_nets)" % ip, mark))

        # broken: reported at the new auth process's start, fail closed
        write_policy(dc, POLICY_BROKEN)
        mark = dc.log.mark()
        rc, _, done = reload_dovecot(dc)
        suite.ok("broken: doveadm reload exit 0, new auth process",
                 rc == 0 and done)
        path = dc.path("ipallow.yaml")
        suite.ok("broken: reported with file:line:column",
                 dc.log.wait_literal(
                     "auth: Error: ipallow: policy %s not loaded, every "
                     "login through the ipallow passdb will be refused: "
                     "%s%s" % (path, path, BROKEN_WHERE), mark),
                 dc.log.read(mark)[-1500:])
        cases = [("alice", addr.net("203.0.113"), "smtp"),   # inside
                 ("alice", addr.outside(), "smtp"),
                 ("erin", addr.outside(), "smtp"),           # no list
                 ("dave", addr.outside(), "imap"),           # empty list
                 ("alice", addr.outside(), "caldav"),        # exempt service
                 ("alice", "10.1.2.3", "smtp"),              # exempt network
                 ("carol", addr.net("198.51.100"), "smtp")]
        replies = auth_many(dc.auth_socket_path, [
            (u, PASSWORD, s, {"rip": ip}) for u, ip, s in cases])
        for (user, ip, service), reply in zip(cases, replies):
            suite.match("broken: %s %s from %s fails closed" % (
                user, service, ip), reply, FAIL_TEMP_RE % user)
        reply = suite.run("broken imap", imap_login, dc, "alice", PASSWORD,
                          addr.net("203.0.113"))
        suite.match("broken: imap temporary failure", reply, TEMPFAIL_IMAP)
        reply = suite.run("broken imap wrong", imap_login, dc, "alice",
                          WRONG, addr.outside())
        suite.eq("broken: a wrong password still the plain failure", reply,
                 "b NO [AUTHENTICATIONFAILED] Authentication failed.")

        # restored: back without a restart
        write_policy(dc, POLICY_A)
        mark = dc.log.mark()
        rc, _, done = reload_dovecot(dc)
        suite.ok("restored: doveadm reload exit 0, new auth process",
                 rc == 0 and done)
        socket_case(suite, dc, "restored: carol in office", "carol",
                    addr.net("192.0.2"), "ok")
        socket_case(suite, dc, "restored: alice outside", "alice",
                    addr.outside(), "deny")
        reply = suite.run("restored imap", imap_login, dc, "alice", PASSWORD,
                          addr.net("203.0.113"))
        suite.match("restored: imap login", reply or "", IMAP_OK)
        suite.ok("restored: no policy error since the reload",
                 dc.log.find(r"policy .* not loaded", mark) is None)
        suite.eq("restored: same master process, no restart",
                 dc.proc.pid, master)
        suite.ok("master still running", dc.proc.poll() is None)


# --------------------------------------------------------------------------
# Under load

# (user, address kind, want): the kinds are filled in by mixed_requests()
LOAD_MIX = [
    ("alice", "203.0.113", "OK"), ("alice", "out", "DENY"),
    ("frank", "198.51.100", "OK"), ("frank", "out", "DENY"),
    ("bob", "198.51.100", "DENY"),      # "10/8" makes the list invalid
    ("erin", "out", "OK"), ("dave", "out", "OK"),
    ("carol", "192.0.2", "OK"), ("carol", "out", "DENY"),
    ("alice", "out-wrong", "FAIL"), ("alice", "v6out", "DENY"),
    ("alice", "v6in", "OK"),
]


def mixed_requests(n, seed=1):
    """n requests cycling through LOAD_MIX with varying addresses."""
    for i in range(n):
        user, kind, want = LOAD_MIX[(i * 7 + seed) % len(LOAD_MIX)]
        a, b = (i // 250) % 250, i % 250 + 1
        password = PASSWORD
        if kind == "out":
            ip = "198.18.%d.%d" % (a, b)
        elif kind == "out-wrong":
            ip, password = "198.19.%d.%d" % (a, b), WRONG
        elif kind == "v6out":
            ip = "2001:db8:43::%x" % i
        elif kind == "v6in":
            ip = "2001:db8:42::%x" % i
        else:
            ip = "%s.%d" % (kind, b)
        yield AuthRequest(user, password, "smtp", ip, want)


def run_in_thread(dc, requests, window):
    stats = PipelineStats()
    pipe = AuthPipeline(dc.auth_socket_path, window=window, timeout=20)

    def target():
        try:
            pipe.run(requests, window=window, stats=stats)
        finally:
            pipe.close()
    t = threading.Thread(target=target, daemon=True)
    t.start()
    return t, stats


def tolerant(requests):
    """While the auth side fails under us, a refusal of any kind is
    acceptable for a request that wants OK; an OK never is for one that
    does not."""
    for r in requests:
        yield r._replace(want="FAIL-ANY-OR-OK" if r.want == "OK" else
                         "FAIL-ANY")


def check_load(suite, what, stats, n):
    print("# %s: %s" % (what, stats.summary()), flush=True)
    for req, line in stats.examples[:5]:
        print("#   %r -> %r" % (req, line))
    suite.eq(what + ": no request allowed wrongly", stats.wrong_allows, 0)
    suite.eq(what + ": every answer a verdict", stats.verdicts.get("BAD", 0)
             + stats.verdicts.get("UNEXPECTED", 0), 0)


def reload_under_load(suite):
    """A connection opened before the reload stays with the old auth
    process, which decides with the old policy until the connection
    closes; connections opened after it get the new auth process, here
    with a broken policy: temporary failures. Nothing is allowed wrongly
    on either."""
    n_old, n_new = 12000, 3000
    dc = ipallow_dovecot("reload-load", policy=POLICY_A)
    reloaded = threading.Event()

    def paused_for_reload(requests, at):
        # the second half waits for the reload, so that it comes mid-run
        # however fast the first half is answered (Dovecot 2.4 answers
        # failures at once when auth_failure_delay = 0)
        for i, r in enumerate(requests):
            if i == at:
                reloaded.wait(60)
            yield r
    with dc:
        t_old, s_old = run_in_thread(
            dc, paused_for_reload(mixed_requests(n_old), n_old // 2), 600)
        wait_until(lambda: s_old.replies > n_old // 4, timeout=30)
        write_policy(dc, POLICY_BROKEN)
        rc, old, done = reload_dovecot(dc, wait_old=False)
        suite.ok("reload under load: reloaded, new auth process serves",
                 rc == 0 and done)
        at = s_old.replies
        reloaded.set()
        t_new, s_new = run_in_thread(dc, (
            r._replace(want="TEMPFAIL" if r.want != "FAIL" else "FAIL")
            for r in mixed_requests(n_new, seed=2)), 600)
        t_new.join(120)
        t_old.join(120)
        suite.ok("reload under load: clients finished",
                 not t_old.is_alive() and not t_new.is_alive())
        suite.ok("reload under load: reload came mid-run (%d of %d "
                 "answered)" % (at, n_old), at < n_old)
        check_load(suite, "old connection", s_old, n_old)
        suite.eq("old connection: every decision exact under the old "
                 "policy", (s_old.wrong, s_old.unanswered), (0, 0))
        check_load(suite, "new connections", s_new, n_new)
        suite.eq("new connections: every login refused, temporary failure "
                 "(wrong password: plain failure)",
                 (s_new.wrong, s_new.unanswered), (0, 0))
        suite.ok("old auth process exits once its connection closed",
                 wait_until(lambda: not any(pid_alive(p) for p in old),
                            timeout=15))


def kill_workers_under_load(suite):
    n = 4000
    dc = ipallow_dovecot("reload-workers", backend="sql", policy=POLICY_A)
    with dc:
        t, stats = run_in_thread(dc, tolerant(mixed_requests(n)), 300)
        wait_until(lambda: stats.replies > n // 4 and
                   auth_pids(dc, worker=True), timeout=30)
        workers = auth_pids(dc, worker=True)
        mark = dc.log.mark()
        killed = []
        for pid in workers:
            try:
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            except ProcessLookupError:
                pass
        at = stats.replies
        suite.ok("workers: killed %d auth worker(s) after %d replies" % (
            len(killed), at), killed, "no auth worker found")
        t.join(120)
        suite.ok("workers: client finished", not t.is_alive())
        check_load(suite, "workers killed mid-load", stats, n)
        suite.eq("workers: all answered", (stats.replies, stats.unanswered),
                 (n, 0))
        suite.ok("workers: the kill was seen", dc.log.wait(
            r"auth-worker.*(killed with signal 9|died|Aborted)", mark),
            dc.log.read(mark)[-1500:])
        suite.ok("workers: old workers gone",
                 not any(pid_alive(p) for p in killed))
        # later requests get exact answers from new workers
        stats2 = PipelineStats()
        with AuthPipeline(dc.auth_socket_path, window=200) as pipe:
            pipe.run(mixed_requests(1200, seed=3), window=200, stats=stats2)
        print("# after the kill: %s" % stats2.summary())
        suite.eq("workers: after the kill, every decision exact",
                 (stats2.wrong, stats2.unanswered), (0, 0))
        suite.ok("workers: new auth workers serve",
                 set(auth_pids(dc, worker=True)) - set(killed))


def kill_auth_under_load(suite):
    n = 6000
    dc = ipallow_dovecot("reload-auth", policy=POLICY_A)
    with dc:
        t, stats = run_in_thread(dc, tolerant(mixed_requests(n)), 600)
        wait_until(lambda: stats.replies > n // 4, timeout=30)
        pids = auth_pids(dc)
        mark = dc.log.mark()
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        suite.eq("auth: killed the auth process", len(pids), 1)
        t.join(120)
        suite.ok("auth: client finished", not t.is_alive())
        check_load(suite, "auth killed mid-load", stats, n)
        suite.ok("auth: connection closed on the client",
                 getattr(stats, "closed", False) or stats.unanswered > 0)
        suite.ok("auth: the kill was seen", dc.log.wait(
            r"service\(auth\): child %d killed with signal 9" % pids[0],
            mark), dc.log.read(mark)[-1500:])
        # the master starts a new auth process; every decision exact
        ok = wait_until(lambda: auth_many(dc.auth_socket_path, [
            ("erin", PASSWORD, "smtp", {"rip": "198.18.9.9"})])[0]
            .startswith("OK"), timeout=20)
        suite.ok("auth: a new auth process serves", ok)
        stats2 = PipelineStats()
        with AuthPipeline(dc.auth_socket_path, window=600) as pipe:
            pipe.run(mixed_requests(2400, seed=5), window=600, stats=stats2)
        print("# after the kill: %s" % stats2.summary())
        suite.eq("auth: after the kill, every decision exact",
                 (stats2.wrong, stats2.unanswered), (0, 0))
        reply = suite.run("auth imap", imap_login, dc, "alice", PASSWORD,
                          "198.18.200.1")
        suite.eq("auth: imap denial as before", reply, ALERT)


def main():
    suite = Suite("reload")
    suite.run("policy drills", policy_drills, suite)
    suite.run("reload under load", reload_under_load, suite)
    suite.run("kill workers under load", kill_workers_under_load, suite)
    suite.run("kill auth under load", kill_auth_under_load, suite)
    suite.finish()


if __name__ == "__main__":
    main()
