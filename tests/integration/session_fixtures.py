"""Fixtures for the session-time tests (the ipallow mail plugin), on top of
dovecot_it.py and ipallow_fixtures.py.

The setup the plugin exists for: the passdb knows only passwords, and the
network list lives in a separate userdb (passwd-file extra fields
userdb_allow_nets=..., no prefetch), so the login-time passdb never sees
it. The plugin is loaded with mail_plugins = $mail_plugins ipallow and
plugin { ipallow_policy = ... }; LMTP listens on a loopback port.

IPALLOW_MAIL_PLUGIN_DIR points mail_plugin_dir at a build tree
(src/mail/.libs) instead of Dovecot's module directory."""

import os
import re
import socket

from dovecot_it import DOVECOT_API, Dovecot, SmtpClient, b64, free_port
from ipallow_fixtures import (AUTH_IPALLOW, DEFAULT_POLICY, PASSWORD,
                              USERS)

MODULE_DIR = "/usr/lib/dovecot/modules"
SNIPPET = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                       "..", "..", "conf.d", "90-ipallow.conf")
PLUGIN_FILE = "lib90_ipallow_plugin.so"
PLUGIN_DIR = os.environ.get("IPALLOW_MAIL_PLUGIN_DIR", "")

# What clients see when the session-time check refuses a session: Dovecot's
# own replies to a failed mail user initialization (imap/main.c,
# pop3/main.c, submission/main.c and Pigeonhole's managesieve/main.c in
# 2.3.19.1). No hook lets a mail plugin change them.
CRITICAL = "Internal error occurred. Refer to server log for more information."
IMAP_DENIED = ["b OK Logged in, but initialization failed.",
               "* BYE " + CRITICAL]
POP3_DENIED = ["-ERR [SYS/TEMP] " + CRITICAL]
SUBMISSION_DENIED_RE = [r"^451 4\.7\.0 " + CRITICAL.replace(".", r"\.") + "$",
                        r"^421 4\.3\.2 \S+ Shutting down due to fatal error$"]
SIEVE_DENIED = ['BYE "' + CRITICAL + '"']

REFUSED_ERROR = "Error: ipallow: session refused (rule=%s)"

# The hostile policy of the delivery tests: nothing exempt by policy, an
# unknown client IP denied. Only the plugin's hard-coded list of internal
# services keeps delivery and administration working.
HOSTILE_POLICY = """\
unknown_ip: deny
exempt:
  networks: []
  services: []
"""

SESSION_PASSDB = """\
passdb {
  driver = passwd-file
  args = scheme=PLAIN {dir}/passdb.passwd
%(result_success)s}
"""

SESSION_USERDB = """\
userdb {
  driver = passwd-file
  args = {dir}/userdb.passwd
}
"""

PREFETCH_USERDB = """\
userdb {
  driver = prefetch
}
"""


def plugin_conf(policy_path="{dir}/ipallow.yaml"):
    """The shipped snippet conf.d/90-ipallow.conf (which loads nothing by
    itself), the plugin turned on, then the policy path."""
    conf = ""
    if PLUGIN_DIR:
        conf += "mail_plugin_dir = %s\n" % PLUGIN_DIR
    conf += "!include %s\n" % os.path.realpath(SNIPPET)
    conf += "mail_plugins = $mail_plugins ipallow\n"
    if policy_path is not None:
        conf += "plugin {\n  ipallow_policy = %s\n}\n" % policy_path
    return conf


def plugin_installed():
    """The plugin file Dovecot will load, or None if it is missing."""
    path = os.path.join(PLUGIN_DIR or MODULE_DIR, PLUGIN_FILE)
    return path if os.path.exists(path) else None


def passdb_file(users):
    return "".join("%s:{PLAIN}%s\n" % (name, PASSWORD) for name in users)


def userdb_file(users, prefix="userdb_"):
    """passwd-file lines whose extra fields carry the list. As a userdb,
    passwd-file takes only userdb_-prefixed fields (the prefix is
    stripped); as a passdb with prefetch, the same lines hand the list to
    the login-time check."""
    lines = []
    for name, (nets, _native) in users.items():
        extra = "" if nets is None else "%sallow_nets=%s" % (prefix, nets)
        lines.append("%s:::::::%s" % (name, extra))
    return "\n".join(lines) + "\n"


def session_dovecot(suite, policy=DEFAULT_POLICY, extra_conf="",
                    users=USERS, login_check=False, prefetch=False,
                    policy_path="{dir}/ipallow.yaml"):
    """A Dovecot with the session-time check.

    login_check: the ipallow passdb is in the chain as well (as operators
    will often run both), with the same policy.
    prefetch:    the passdb returns the list (userdb_allow_nets) and the
    userdb is prefetch, as in the login-time tests; otherwise the list is
    in the separate passwd-file userdb only."""
    files = {
        "passdb.passwd": passdb_file(users),
        "userdb.passwd": userdb_file(users),
    }
    if prefetch:
        files["passdb.passwd"] = "".join(
            "%s:{PLAIN}%s::::::%s\n" % (
                name, PASSWORD,
                "" if nets is None else "userdb_allow_nets=%s" % nets)
            for name, (nets, _native) in users.items())
    if policy is not None:
        files["ipallow.yaml"] = policy

    auth = SESSION_PASSDB % {
        "result_success": "  result_success = continue-ok\n"
        "  result_internalfail = return-fail\n"
        if login_check else ""}
    if login_check:
        auth += AUTH_IPALLOW % {"extra_args": ""}
    auth += PREFETCH_USERDB if prefetch else SESSION_USERDB

    lmtp_port = free_port()
    conf = plugin_conf(policy_path) + """\
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = %d
  }
}
""" % lmtp_port + extra_conf
    dc = Dovecot(suite, auth, extra_conf=conf, files=files,
                 protocols="imap pop3 submission lmtp" +
                 (" sieve" if os.path.exists(
                     "/usr/lib/dovecot/managesieve-login") else ""))
    dc.lmtp_port = lmtp_port
    return dc


# --------------------------------------------------------------------------
# Sessions. Each returns the server's lines from the login reply on, up to
# the point where the session is known to be usable (a mailbox command
# answered) or the server closed the connection.

def read_until_closed(client, limit=20):
    """Server lines until the connection closes; the marker "<closed>"
    ends the list when it did, "<open>" when it was still open after
    limit lines or a timeout."""
    lines = []
    try:
        client.sock.settimeout(5)
        while len(lines) < limit:
            lines.append(client.readline())
    except ConnectionError:
        lines.append("<closed>")
        return lines
    except socket.timeout:
        pass
    lines.append("<open>")
    return lines


def imap_session(dc, user, ip=None, proxy_from=None):
    """LOGIN (after ID forwarding ip from 127.0.0.1, a trusted network),
    then SELECT INBOX if the login said OK without BYE."""
    with dc.imap(proxy_from=proxy_from) as c:
        if ip is not None:
            r = c.forward_ip(ip)
            if not c.id_accepted(r):
                return ["ID failed: " + r]
        c.send('b LOGIN "%s" "%s"' % (user, PASSWORD))
        first = c.readline()
        if not first.startswith("b OK [CAPABILITY "):
            return [first] + read_until_closed(c)
        untagged, tagged = c.command("SELECT INBOX", "s")
        c.logout()
        return ["b OK Logged in", tagged]


def pop3_session(dc, user, ip=None):
    """USER/PASS after XCLIENT ADDR=ip, then STAT if logged in."""
    with dc.pop3() as c:
        if ip is not None:
            r = c.xclient(ip)
            if not r.startswith("+OK"):
                return ["XCLIENT failed: " + r]
        r = c.command("USER %s" % user)
        if not r.startswith("+OK"):
            return [r]
        c.send("PASS %s" % PASSWORD)
        first = c.readline()
        if not first.startswith("+OK"):
            return [first] + read_until_closed(c)
        stat = c.command("STAT")
        c.command("QUIT")
        return [first, stat]


def submission_session(dc, user, ip=None):
    """AUTH PLAIN after XCLIENT ADDR=ip. The submission process sends 235
    only after the mail user was created (the relay behind it is closed in
    these tests, so nothing more is tried)."""
    with dc.submission() as c:
        c.ehlo()
        if ip is not None:
            c.xclient(ip)
        c.send("AUTH PLAIN %s" % b64("\0%s\0%s" % (user, PASSWORD)))
        first = c.readline()
        if not first.startswith("235"):
            return [first] + read_until_closed(c)
        return [first]


def sieve_session(dc, user, proxy_from=None):
    """AUTHENTICATE PLAIN (client address from a HAProxy header), then
    LISTSCRIPTS if logged in."""
    with dc.managesieve(proxy_from=proxy_from) as c:
        c.send('AUTHENTICATE "PLAIN" "%s"' % b64("\0%s\0%s" %
                                                  (user, PASSWORD)))
        first = c.readline()
        if not first.startswith("OK"):
            lines = [first] + read_until_closed(c)
            if DOVECOT_API == "2.4":
                # 2.4's ManageSieve puts the time in its internal-error
                # BYE ("... information. [2026-12-04 15:26:05]"); the
                # rest of the line is 2.3's
                lines = [re.sub(r' \[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\]"$',
                                '"', line) for line in lines]
            return lines
        c.send("LISTSCRIPTS")
        listing = c.read_response()
        c.logout()
        return [first, listing[-1]]


def lmtp_deliver(dc, rcpt, subject, xclient_ip=None):
    """One message over LMTP; returns the reply to the end of DATA."""
    c = SmtpClient(dc.lmtp_port)
    try:
        c.command("LHLO it.example")
        if xclient_ip is not None:
            # LMTP accepts XCLIENT from login_trusted_networks: the
            # delivery's mail user then has this client address.
            c.command("XCLIENT ADDR=%s PORT=25" % xclient_ip)
            c.command("LHLO it.example")
        c.command("MAIL FROM:<sender@example.com>")
        r = c.command("RCPT TO:<%s>" % rcpt)
        if not r[-1].startswith("250"):
            return r[-1]
        c.command("DATA")
        r = c.command("From: sender@example.com\r\nSubject: %s\r\n\r\n"
                      "body\r\n." % subject)
        c.command("QUIT")
        return r[-1]
    finally:
        c.close()
