#!/usr/bin/env python3
"""A real DAV server authenticating through Dovecot's auth socket keeps
working for a restricted user: Debian's radicale on 127.0.0.1 with its
Dovecot authentication (Debian 12: python3-radicale-dovecot-auth; Debian
13's radicale 3.5: its own auth type dovecot), curl PROPFIND.

Both send "AUTH <id> PLAIN service=radicale resp=..."
and nothing else: no rip, so Dovecot does not know the browser's or the
DAV client's address at all. The default policy exempts the service
radicale (exempt.services) before looking at the address.

To make that exemption the thing under test, loopback is not exempt here
(exempt.networks: []): alice, whose list does not contain 127.0.0.1, is
refused over IMAP from 127.0.0.1 but her PROPFIND gets 207, and the
decision is "exempt ... (exempt service)" at debug level. Two more
policies show what the service name means for operators: without the
service exemption radicale still works through unknown_ip: exempt (rule
"client IP unknown"); with unknown_ip: deny as well, radicale's logins are
refused (401) and the log says why.

Needs radicale, python3-radicale-dovecot-auth and curl (scripts/ installs
them); without them the scenario fails rather than pass unseen."""

import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dovecot_it import (                                      # noqa: E402
    DOVECOT_API, TIMEOUT, Suite, auth_level_re, free_port, port_accepts,
    stop_process, wait_until)
from ipallow_fixtures import (                                # noqa: E402
    ALERT, DEBUG_EVENT_CONF, PASSWORD, STATS_CONF, WRONG, check_log,
    check_reply, decision_line, imap_login, ipallow_dovecot, stats_counts)

RADICALE = shutil.which("radicale")
CURL = shutil.which("curl") or "curl"
SERVICE = "radicale"        # what radicale's Dovecot auth sends as service=

EXEMPT_SERVICE_POLICY = """\
exempt:
  networks: []
"""
NO_SERVICE_EXEMPTION_POLICY = """\
exempt:
  networks: []
  services: []
"""
UNKNOWN_IP_DENY_POLICY = NO_SERVICE_EXEMPTION_POLICY + "unknown_ip: deny\n"

RADICALE_CONF = """\
[server]
hosts = 127.0.0.1:{port}

[auth]
{auth}
# radicale waits this long after a failed login
delay = 0

[rights]
type = owner_only

[storage]
filesystem_folder = {dir}/collections

[web]
type = none

[logging]
level = info
"""

PROPFIND_BODY = ('<?xml version="1.0" encoding="utf-8"?>'
                 '<propfind xmlns="DAV:"><prop><current-user-principal/>'
                 '</prop></propfind>')


def radicale_importable(module):
    """module importable by the Python that runs radicale (its #! line:
    /usr/bin/python3 on Debian, not necessarily ours)."""
    with open(RADICALE, "rb") as f:
        first = f.readline().decode("utf-8", "replace")
    python = first[2:].split()[0] if first.startswith("#!") else \
        sys.executable
    return subprocess.run([python, "-c", "import " + module],
                          capture_output=True).returncode == 0


def auth_conf(socket_path):
    """Radicale 3.2+ (Debian 13) talks to Dovecot's auth socket itself
    (auth type dovecot; Debian 13's radicale_dovecot_auth plugin no longer
    fits its radicale); Debian 12's radicale 3.1 needs the plugin. Both
    send service=radicale. None when neither is there."""
    if radicale_importable("radicale.auth.dovecot"):
        return "type = dovecot\ndovecot_socket = %s" % socket_path
    if radicale_importable("radicale_dovecot_auth"):
        return "type = radicale_dovecot_auth\nauth_socket = %s" % \
            socket_path
    return None


class Radicale:
    """radicale in the foreground, our child; its own config and storage
    in a temporary directory."""

    def __init__(self, auth_socket):
        self.dir = tempfile.mkdtemp(prefix="radicale-it-")
        self.port = free_port()
        self.conf = os.path.join(self.dir, "config")
        with open(self.conf, "w") as f:
            f.write(RADICALE_CONF.format(port=self.port,
                                         auth=auth_conf(auth_socket),
                                         dir=self.dir))
        self.proc = None
        self.out = None

    def start(self):
        self.out = open(os.path.join(self.dir, "radicale.log"), "w")
        # -C replaces /etc/radicale/config and ~/.config/radicale/config
        self.proc = subprocess.Popen([RADICALE, "-C", self.conf],
                                     stdin=subprocess.DEVNULL,
                                     stdout=self.out, stderr=self.out)

        def ready():
            if self.proc.poll() is not None:
                raise RuntimeError("radicale exited with %s:\n%s" % (
                    self.proc.returncode, self.log()))
            return port_accepts(self.port)
        if not wait_until(ready, 2 * TIMEOUT):
            raise RuntimeError("radicale did not listen:\n%s" % self.log())
        return self

    def log(self):
        try:
            with open(os.path.join(self.dir, "radicale.log")) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def stop(self):
        stop_process(self.proc)
        self.proc = None
        if self.out is not None:
            self.out.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def propfind(self, user, password):
        """curl -u user:password -X PROPFIND: the HTTP status code."""
        p = subprocess.run(
            [CURL, "-sS", "-o", "/dev/null", "-w", "%{http_code}",
             "--max-time", str(int(2 * TIMEOUT)), "-u",
             "%s:%s" % (user, password), "-X", "PROPFIND",
             "-H", "Depth: 0", "-H", "Content-Type: application/xml",
             "--data", PROPFIND_BODY,
             "http://127.0.0.1:%d/%s/" % (self.port, user)],
            stdin=subprocess.DEVNULL, capture_output=True, text=True,
            timeout=3 * TIMEOUT)
        if p.returncode != 0:
            raise RuntimeError("curl exited %d: %s" % (p.returncode,
                                                       p.stderr))
        return p.stdout


def dav_case(suite, dc, dav, name, user, password, want, log):
    mark = dc.log.mark()
    status = suite.run(name, dav.propfind, user, password)
    if status is None:
        return
    suite.eq(name + ": PROPFIND status", status, want)
    if log is not None:
        check_log(suite, dc, name, mark, log)
    else:
        suite.ok(name + ": no ipallow line",
                 dc.log.absent(r"ipallow: .*user=%s " % user, mark),
                 dc.log.read(mark))


def with_radicale(suite, label, policy, body):
    dc = ipallow_dovecot("dav-" + label, policy=policy,
                         extra_conf=DEBUG_EVENT_CONF + STATS_CONF)
    dav = None
    try:
        dc.start()
        dav = Radicale(dc.auth_socket_path)
        dav.start()
        body(dc, dav)
    finally:
        if dav is not None:
            if suite.failed:
                print("# radicale log:\n" + dav.log()[-2000:])
            dav.stop()
        dc.stop()


def exempt_service(suite):
    def body(dc, dav):
        # (a) IMAP from 127.0.0.1: loopback is not exempt, alice's list
        # does not contain it.
        name = "exempt service: imap alice from 127.0.0.1"
        mark = dc.log.mark()
        reply = suite.run(name, imap_login, dc, "alice", PASSWORD)
        if reply is not None:
            check_reply(suite, name, reply, ALERT)
            check_log(suite, dc, name, mark, decision_line(
                "deny", "alice", "imap", "127.0.0.1", None,
                "not in allow_nets"))
        # (b) The same user over DAV from the same address.
        dav_case(suite, dc, dav, "exempt service: PROPFIND alice", "alice",
                 PASSWORD, "207", decision_line(
                     "exempt", "alice", SERVICE, "unknown", None,
                     "exempt service"))
        line = dc.log.find(r"ipallow: exempt user=alice service=radicale ")
        suite.ok("exempt service: logged at debug level",
                 line is not None and re.search(auth_level_re("Debug"), line),
                 line or "")
        # radicale asks Dovecot on every request, no cache in between
        dav_case(suite, dc, dav, "exempt service: PROPFIND alice again",
                 "alice", PASSWORD, "207", decision_line(
                     "exempt", "alice", SERVICE, "unknown", None,
                     "exempt service"))
        dav_case(suite, dc, dav, "exempt service: PROPFIND wrong password",
                 "alice", WRONG, "401", None)
        dav_case(suite, dc, dav, "exempt service: PROPFIND frank",
                 "frank", PASSWORD, "207", decision_line(
                     "exempt", "frank", SERVICE, "unknown", None,
                     "exempt service"))
        counts = stats_counts(dc)
        suite.eq("exempt service: event result=exempt rule=exempt_service "
                 "service=radicale",
                 counts.get("ipallow_exempt_exempt_service_radicale"), 3)
        suite.eq("exempt service: event deny imap",
                 counts.get("ipallow_deny_not_in_list_imap"), 1)
        suite.eq("exempt service: events in total", counts.get("ipallow"),
                 4)
    with_radicale(suite, "exempt", EXEMPT_SERVICE_POLICY, body)


def unknown_ip_exempt(suite):
    def body(dc, dav):
        dav_case(suite, dc, dav, "no service exemption: PROPFIND alice",
                 "alice", PASSWORD, "207", decision_line(
                     "exempt", "alice", SERVICE, "unknown", None,
                     "client IP unknown"))
        counts = stats_counts(dc)
        suite.eq("no service exemption: event rule=unknown_ip",
                 counts.get("ipallow_exempt_unknown_ip_radicale"), 1)
    with_radicale(suite, "unknown", NO_SERVICE_EXEMPTION_POLICY, body)


def unknown_ip_deny(suite):
    def body(dc, dav):
        dav_case(suite, dc, dav, "unknown_ip deny: PROPFIND alice", "alice",
                 PASSWORD, "401", decision_line(
                     "deny", "alice", SERVICE, "unknown", None,
                     "client IP unknown"))
        dav_case(suite, dc, dav, "unknown_ip deny: PROPFIND erin (no list)",
                 "erin", PASSWORD, "207", decision_line(
                     "unrestricted", "erin", SERVICE, "unknown", None,
                     "no allow_nets"))
    with_radicale(suite, "deny", UNKNOWN_IP_DENY_POLICY, body)


def radicale_cannot_talk_to_24(suite):
    """Debian 13's radicale 3.5.3 does not complete Dovecot 2.4.1's auth
    handshake ("Encountered a broken server handshake!") and refuses
    every DAV login before Dovecot's passdbs run, ipallow or not. So the
    DAV scenarios cannot run on 2.4 with Debian's packages; the service
    exemption itself is checked on the auth socket there (t-auth-socket,
    t-modes). This pins the incompatibility: when a radicale that
    talks to 2.4 arrives, this check fails and says so."""
    def body(dc, dav):
        status = suite.run("2.4: radicale PROPFIND", dav.propfind, "alice",
                           PASSWORD)
        seen = wait_until(lambda: "broken server handshake" in dav.log(),
                          TIMEOUT)
        suite.ok("2.4: radicale 3.5 still cannot authenticate against "
                 "Dovecot 2.4 (status %s); if it can now, run the DAV "
                 "scenarios on 2.4 too" % status,
                 status == "401" and seen, dav.log()[-1500:])
    with_radicale(suite, "radicale24", EXEMPT_SERVICE_POLICY, body)


def main():
    suite = Suite("dav")
    if RADICALE is None or auth_conf("/") is None:
        suite.ok("radicale with Dovecot authentication installed", False,
                 "apt-get install radicale (Debian 12: and "
                 "python3-radicale-dovecot-auth)")
        suite.finish()
    if DOVECOT_API == "2.4":
        suite.run("radicale and 2.4", radicale_cannot_talk_to_24, suite)
        suite.finish()
    suite.run("exempt service", exempt_service, suite)
    suite.run("unknown_ip exempt", unknown_ip_exempt, suite)
    suite.run("unknown_ip deny", unknown_ip_deny, suite)
    suite.finish()


if __name__ == "__main__":
    main()
