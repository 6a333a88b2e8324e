#!/usr/bin/env python3
"""Postfix SMTP AUTH through Dovecot SASL (issue 10 item 2), with Debian's
Postfix on 127.0.0.1: smtpd_sasl_type = dovecot on a private auth
listener, smtpd_authorized_xclient_hosts = 127.0.0.1 so that the test can
present a denied client address with XCLIENT. Postfix runs from its own
temporary config_directory and queue_directory, in the foreground
(master -d) as our child, and is stopped by pid.

- list returned by the passdb + ipallow passdb: AUTH PLAIN with the right
  password from a denied network fails (535), from an allowed one
  succeeds (235), a wrong password fails as usual;
- a mailbox marked for a password change (SPEC 9.5), from an allowed
  network: Postfix relays Dovecot's "Password expired";
- no ipallow passdb (mail plugin only): not restricted, as the start-up
  warning and doc/admin-guide.md say."""

import os
import pwd
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dovecot_it import (                                      # noqa: E402
    KEEP, TIMEOUT, SmtpClient, Suite, free_port, port_accepts, stop_process,
    wait_until)
from ipallow_fixtures import PASSWORD, WRONG, decision_line  # noqa: E402
from session_fixtures import session_dovecot                 # noqa: E402

MASTER = "/usr/lib/postfix/sbin/master"
AUTH_LISTENER = """\
service auth {
  unix_listener auth-postfix {
    mode = 0600
    user = postfix
  }
}
"""
MAIN_CF = """\
compatibility_level = 3.6
queue_directory = {dir}/queue
data_directory = {dir}/data
mail_owner = postfix
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = postfix-it.example
mydestination =
maillog_file = /dev/stdout
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = {socket}
smtpd_authorized_xclient_hosts = 127.0.0.1
smtpd_tls_security_level = none
smtpd_relay_restrictions = permit_sasl_authenticated, reject
local_recipient_maps =
alias_maps =
alias_database =
"""
MASTER_CF = """\
{port} inet n - n - - smtpd
anvil unix - - n - 1 anvil
proxymap unix - - n - - proxymap
rewrite unix - - n - - trivial-rewrite
postlog unix-dgram n - n - 1 postlogd
"""


class Postfix:
    def __init__(self, socket_path):
        self.dir = tempfile.mkdtemp(prefix="postfix-it-")
        os.chmod(self.dir, 0o755)
        self.port = free_port()
        pw = pwd.getpwnam("postfix")
        for sub in ("queue", "queue/pid", "queue/public", "queue/private",
                    "data"):
            os.makedirs(os.path.join(self.dir, sub), exist_ok=True)
        for sub in ("queue/public", "queue/private", "data"):
            os.chown(os.path.join(self.dir, sub), pw.pw_uid, pw.pw_gid)
        with open(os.path.join(self.dir, "main.cf"), "w") as f:
            f.write(MAIN_CF.format(dir=self.dir, socket=socket_path))
        with open(os.path.join(self.dir, "master.cf"), "w") as f:
            f.write(MASTER_CF.format(port=self.port))
        self.proc = None

    def log(self):
        try:
            with open(os.path.join(self.dir, "master.out")) as f:
                return f.read()
        except OSError:
            return ""

    def start(self):
        self.out = open(os.path.join(self.dir, "master.out"), "w")
        self.proc = subprocess.Popen([MASTER, "-c", self.dir, "-d"],
                                     stdin=subprocess.DEVNULL,
                                     stdout=self.out, stderr=self.out)

        def ready():
            if self.proc.poll() is not None:
                raise RuntimeError("postfix master exited:\n" +
                                   self.log())
            return port_accepts(self.port)
        if not wait_until(ready, TIMEOUT):
            raise RuntimeError("postfix did not listen:\n" + self.log())

    def stop(self):
        stop_process(self.proc)
        self.proc = None
        if not KEEP:
            shutil.rmtree(self.dir, ignore_errors=True)


def smtp_auth(port, ip, user, password):
    with SmtpClient(port) as c:
        c.ehlo()
        r = c.command("XCLIENT ADDR=%s NAME=[UNAVAILABLE]" % ip)
        if not r[-1].startswith("220"):
            return "XCLIENT: " + " | ".join(r)
        c.ehlo()
        return c.auth_plain(user, password)


# A mailbox marked for a password change, its list allowing 203.0.113.0/24
MARKED = ("marked:{PLAIN}%s::::::userdb_allow_nets=203.0.113.0/24 "
          "userdb_password_change_required=yes\n" % PASSWORD)


def layout(suite, label, login_check, cases):
    dc = session_dovecot("postfix-" + label.replace(" ", "-"),
                         login_check=login_check, prefetch=login_check,
                         extra_conf=AUTH_LISTENER)
    pf = None
    try:
        if login_check:
            with open(dc.path("passdb.passwd"), "a") as f:
                f.write(MARKED)
        dc.start()
        pf = Postfix(dc.path("run/auth-postfix"))
        pf.start()
        for what, ip, password, want, log, *user in cases:
            name = "%s: %s" % (label, what)
            mark = dc.log.mark()
            got = suite.run(name, smtp_auth, pf.port, ip,
                            user[0] if user else "alice", password)
            suite.match(name, got or "", want)
            if log is not None:
                suite.ok(name + ": log", dc.log.wait_literal(log, mark)
                         is not None, dc.log.tail())
    finally:
        if pf is not None:
            pf.stop()
        dc.stop()


def main():
    suite = Suite("postfix")
    if not os.path.exists(MASTER):
        # the test command installs it: its absence is a failure
        suite.ok("Postfix installed (scripts/install-deps.sh installs it)",
                 False, MASTER + " not found")
        suite.finish()
    layout(suite, "passdb list", True, [
        ("alice, right password, denied network", "198.51.100.7", PASSWORD,
         r"^535 5\.7\.8 Error: authentication failed: Login from this "
         r"network is not allowed for this mailbox\.$",
         decision_line("deny", "alice", "smtp", "198.51.100.7", None,
                       "not in allow_nets")),
        ("alice, right password, allowed network", "203.0.113.7", PASSWORD,
         r"^235 2\.7\.0 Authentication successful$", None),
        ("alice, wrong password, denied network", "198.51.100.8", WRONG,
         r"^535 5\.7\.8 Error: authentication failed: ", None),
        ("marked mailbox, allowed network: Dovecot's password-expired "
         "reason relayed", "203.0.113.9", PASSWORD,
         r"^535 5\.7\.8 Error: authentication failed: Password expired$",
         decision_line("password change required", "marked", "smtp",
                       "203.0.113.9", None, "password_change_required"), "marked"),
    ])
    layout(suite, "plugin only", False, [
        ("alice, right password, denied network: not restricted, as "
         "documented", "198.51.100.7", PASSWORD,
         r"^235 2\.7\.0 Authentication successful$", None),
    ])
    suite.finish()


if __name__ == "__main__":
    main()
