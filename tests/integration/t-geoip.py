#!/usr/bin/env python3
"""Countries, ASNs, domain defaults, lists per service and report mode per
mailbox (SPEC 9.3, 9.4) on a real Dovecot, through the login-time passdb:
IMAP (address forwarded with ID x-originating-ip from 127.0.0.1, a
trusted network), POP3 (XCLIENT) and the auth socket (rip). The MaxMind
DB files are built offline by tests/geoip/make-mmdb.pl from documentation
ranges: 192.0.2.0/24 DE AS64500, 198.51.100.0/24 US AS64501,
203.0.113.0/24 no country AS64496. Also: a missing or corrupt database
fails closed with a clear log line, doveadm reload picks up a replaced
database file, and the mail plugin (session-time check, fields in a
separate userdb) picks lists the same way."""

import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dovecot_it import Dovecot, Suite, auth_level_re          # noqa: E402
from auth_pipeline import reload_dovecot                      # noqa: E402
from ipallow_fixtures import (                                # noqa: E402
    ALERT, AUTH_PASSWD_FILE, AUTH_IPALLOW, IMAP_OK, PASSWORD,
    USERDB_PASSWD_FILE, check_log, check_reply, imap_login, pop3_login)
from session_fixtures import (                                # noqa: E402
    IMAP_DENIED, POP3_DENIED, SESSION_PASSDB, SESSION_USERDB, imap_session,
    plugin_conf, plugin_installed, pop3_session)

HERE = os.path.dirname(os.path.abspath(__file__))
MAKE_MMDB = os.path.join(HERE, "..", "geoip", "make-mmdb.pl")
IMAP_OK_B = "re:" + IMAP_OK % "b"
TEMPFAIL = r"re:^b NO \[UNAVAILABLE\] Temporary authentication failure\. " \
           r"\[.*\]$"
PEER = "127.0.0.1"

# user -> userdb fields (passwd-file extra fields, prefetch form)
USERS = {
    "de@plain.test": "userdb_allow_nets=country:DE",
    "asn@plain.test": "userdb_allow_nets=asn:64496",
    "dom@example.com": "",
    "other@other.test": "",
    "free@example.com": "userdb_allow_nets=0.0.0.0/0,::/0",
    "svc@example.com": "userdb_allow_nets_imap=198.51.100.0/24",
    "rep@example.com": "userdb_allow_nets_mode=report",
    "bad@example.com": "userdb_allow_nets_mode=later",
}

POLICY = """\
geoip:
  country_db: geo/country.mmdb
  asn_db: geo/asn.mmdb
domains:
  example.com: "country:DE"
  "*": "198.51.100.0/24"
"""


class Addrs:
    """A fresh address in a documentation range per failing login (the
    anvil penalty grows per address)."""

    def __init__(self):
        self.n = {}

    def __call__(self, prefix):
        self.n[prefix] = self.n.get(prefix, 0) + 1
        return "%s.%d" % (prefix, self.n[prefix] + 10)


def geo_dovecot(suite, policy=POLICY, make_db=True):
    files = {
        "users.passwd": "".join(
            "%s:{PLAIN}%s::::::%s\n" % (u, PASSWORD, f)
            for u, f in USERS.items()),
        "ipallow.yaml": policy,
    }
    auth = AUTH_PASSWD_FILE + AUTH_IPALLOW % {"extra_args": ""} + \
        USERDB_PASSWD_FILE
    dc = Dovecot(suite, auth, files=files)
    os.makedirs(dc.path("geo"), exist_ok=True)
    if make_db:
        subprocess.run(["perl", MAKE_MMDB, dc.path("geo")], check=True)
    return dc


def line(verb, user, service, ip, rule, peer=PEER):
    return "ipallow: %s user=%s service=%s ip=%s%s (%s)" % (
        verb, user, service, ip, " peer=%s" % peer if peer else "", rule)


def imap_case(suite, dc, name, user, ip, want, log):
    mark = dc.log.mark()
    reply = suite.run(name, imap_login, dc, user, PASSWORD, ip)
    if reply is None:
        return
    check_reply(suite, name, reply, want)
    if log is not None:
        check_log(suite, dc, name, mark, log)


def pop3_case(suite, dc, name, user, ip, ok, log):
    mark = dc.log.mark()
    reply = suite.run(name, pop3_login, dc, user, PASSWORD, ip)
    if reply is None:
        return
    if ok:
        suite.ok(name + ": reply", reply.startswith("+OK"), reply)
    else:
        suite.eq(name + ": reply", reply,
                 "-ERR [AUTH] Login from this network is not allowed for "
                 "this mailbox.")
    if log is not None:
        check_log(suite, dc, name, mark, log)


def lists(suite):
    a = Addrs()
    dc = geo_dovecot("geoip")
    with dc:
        # country: and asn: entries
        imap_case(suite, dc, "imap country:DE from a DE address",
                  "de@plain.test", "192.0.2.7", IMAP_OK_B, None)
        ip = a("198.51.100")
        imap_case(suite, dc, "imap country:DE from a US address",
                  "de@plain.test", ip, ALERT,
                  line("deny", "de@plain.test", "imap", ip,
                       "not in allow_nets"))
        ip = a("203.0.113")
        imap_case(suite, dc, "imap country:DE from an address of no country",
                  "de@plain.test", ip, ALERT,
                  line("deny", "de@plain.test", "imap", ip,
                       "not in allow_nets"))
        imap_case(suite, dc, "imap country:DE from a DE IPv6 address",
                  "de@plain.test", "2001:db8:de::7", IMAP_OK_B, None)
        imap_case(suite, dc, "imap asn:64496 from AS64496",
                  "asn@plain.test", "203.0.113.77", IMAP_OK_B, None)
        ip = a("192.0.2")
        imap_case(suite, dc, "imap asn:64496 from AS64500",
                  "asn@plain.test", ip, ALERT,
                  line("deny", "asn@plain.test", "imap", ip,
                       "not in allow_nets"))
        pop3_case(suite, dc, "pop3 country:DE from a DE address",
                  "de@plain.test", "192.0.2.8", True, None)
        ip = a("198.51.100")
        pop3_case(suite, dc, "pop3 country:DE from a US address",
                  "de@plain.test", ip, False,
                  line("deny", "de@plain.test", "pop3", ip,
                       "not in allow_nets"))

        # domains: defaults, per-service lists, report per mailbox
        imap_case(suite, dc, "domain default: example.com from DE",
                  "dom@example.com", "192.0.2.9", IMAP_OK_B, None)
        ip = a("198.51.100")
        imap_case(suite, dc, "domain default: example.com from US",
                  "dom@example.com", ip, ALERT,
                  line("deny", "dom@example.com", "imap", ip,
                       "not in domains.example.com"))
        imap_case(suite, dc, "domain default \"*\": other.test inside",
                  "other@other.test", "198.51.100.99", IMAP_OK_B, None)
        ip = a("192.0.2")
        imap_case(suite, dc, "domain default \"*\": other.test outside",
                  "other@other.test", ip, ALERT,
                  line("deny", "other@other.test", "imap", ip,
                       'not in domains."*"'))
        imap_case(suite, dc, "0.0.0.0/0, ::/0 escapes the domain default",
                  "free@example.com", "198.51.100.98", IMAP_OK_B, None)
        imap_case(suite, dc, "allow_nets_imap: imap from its list",
                  "svc@example.com", "198.51.100.97", IMAP_OK_B, None)
        ip = a("192.0.2")
        imap_case(suite, dc, "allow_nets_imap: imap outside its list (DE)",
                  "svc@example.com", ip, ALERT,
                  line("deny", "svc@example.com", "imap", ip,
                       "not in allow_nets_imap"))
        ip = a("198.51.100")
        pop3_case(suite, dc, "allow_nets_imap: pop3 gets the domain default",
                  "svc@example.com", ip, False,
                  line("deny", "svc@example.com", "pop3", ip,
                       "not in domains.example.com"))
        ip = a("198.51.100")
        imap_case(suite, dc, "allow_nets_mode=report: would deny, gets in",
                  "rep@example.com", ip, IMAP_OK_B,
                  line("report-only, would deny", "rep@example.com", "imap",
                       ip, "not in domains.example.com"))
        ip = a("198.51.100")
        imap_case(suite, dc, "allow_nets_mode=report next to enforced",
                  "dom@example.com", ip, ALERT,
                  line("deny", "dom@example.com", "imap", ip,
                       "not in domains.example.com"))
        ip = a("198.51.100")
        mark = dc.log.mark()
        imap_case(suite, dc, "allow_nets_mode=later: enforced",
                  "bad@example.com", ip, ALERT,
                  line("deny", "bad@example.com", "imap", ip,
                       "not in domains.example.com"))
        suite.ok("allow_nets_mode=later: warning logged",
                 dc.log.find(auth_level_re("Warning") + ".*" + re.escape(
                     'ipallow: invalid allow_nets_mode "later" for '
                     'user=bad@example.com: must be enforce or report; '
                     'enforce used'), mark) is not None, dc.log.tail())

        # the auth socket (SMTP AUTH and the like): rip, IPv4-mapped
        with dc.auth_client() as c:
            name = "auth socket smtp: mapped DE client looked up as IPv4"
            mark = dc.log.mark()
            reply = suite.run(name, c.auth_plain, "de@plain.test", PASSWORD,
                              "smtp", rip="::ffff:192.0.2.44")
            suite.match(name + ": reply", reply or "",
                        r"^OK\t1\tuser=de@plain.test(\t|$)")
            name = "auth socket smtp: mapped US client"
            mark = dc.log.mark()
            reply = suite.run(name, c.auth_plain, "de@plain.test", PASSWORD,
                              "smtp", rip="::ffff:198.51.100.44")
            suite.eq(name + ": reply", reply,
                     "FAIL\t1\tuser=de@plain.test\tcode=user_disabled\t"
                     "reason=Login from this network is not allowed for "
                     "this mailbox.")
            check_log(suite, dc, name, mark,
                      line("deny", "de@plain.test", "smtp", "198.51.100.44",
                           "not in allow_nets", peer=None))
            name = "auth socket smtp: asn:64496"
            reply = suite.run(name, c.auth_plain, "asn@plain.test", PASSWORD,
                              "smtp", rip="203.0.113.45")
            suite.match(name + ": reply", reply or "",
                        r"^OK\t1\tuser=asn@plain.test(\t|$)")

        # doveadm reload maps a replaced file again; the update writes a
        # new file and renames it over the old one, as updaters do (here:
        # a file without countries)
        shutil.copyfile(dc.path("geo/asn.mmdb"), dc.path("geo/new.mmdb"))
        os.replace(dc.path("geo/new.mmdb"), dc.path("geo/country.mmdb"))
        imap_case(suite, dc, "replaced database, before reload: old file",
                  "de@plain.test", "192.0.2.50", IMAP_OK_B, None)
        rc, _old, done = reload_dovecot(dc)
        suite.ok("doveadm reload: exit 0, new auth process",
                 rc == 0 and done, "rc=%s done=%s" % (rc, done))
        ip = a("192.0.2")
        imap_case(suite, dc, "replaced database, after reload: new file "
                  "(no countries)", "de@plain.test", ip, ALERT,
                  line("deny", "de@plain.test", "imap", ip,
                       "not in allow_nets"))


def broken_database(suite, what, make):
    dc = geo_dovecot("geoip-" + what)
    make(dc)
    with dc:
        name = "%s database: login refused" % what
        mark = dc.log.mark()
        reply = suite.run(name, imap_login, dc, "de@plain.test", PASSWORD,
                          "192.0.2.60")
        check_reply(suite, name, reply or "", TEMPFAIL)
        check_log(suite, dc, name, mark,
                  line("deny", "de@plain.test", "imap", "192.0.2.60",
                       "policy not loaded"))
        pattern = (r"auth: Error: ipallow: policy %s not loaded, every "
                   r"login through the ipallow passdb will be refused: "
                   r"%s:2:15: geoip\.country_db: %s: " % (
                       re.escape(dc.path("ipallow.yaml")),
                       re.escape(dc.path("ipallow.yaml")),
                       re.escape(dc.path("geo/country.mmdb"))))
        found = dc.log.find(pattern)
        suite.ok("%s database: the log says which file and why" % what,
                 found is not None, dc.log.tail())
        if found:
            print("# %s" % found.strip())
        name = "%s database: user without list refused too" % what
        reply = suite.run(name, imap_login, dc, "other@other.test",
                          PASSWORD, "198.51.100.61")
        check_reply(suite, name, reply or "", TEMPFAIL)


def session(suite):
    """The mail plugin, with the fields in a separate userdb (no
    prefetch): it picks the list the same way."""
    if plugin_installed() is None:
        suite.ok("session: mail plugin installed", False,
                 "lib90_ipallow_plugin.so not found")
        return
    files = {
        "passdb.passwd": "".join("%s:{PLAIN}%s\n" % (u, PASSWORD)
                                 for u in USERS),
        "userdb.passwd": "".join(
            "%s:::::::%s\n" % (u, f)
            for u, f in USERS.items()),
        "ipallow.yaml": POLICY,
    }
    auth = SESSION_PASSDB % {"result_success": ""} + SESSION_USERDB
    dc = Dovecot("geoip-session", auth, extra_conf=plugin_conf(),
                 files=files)
    os.makedirs(dc.path("geo"), exist_ok=True)
    subprocess.run(["perl", MAKE_MMDB, dc.path("geo")], check=True)
    a = Addrs()

    def imap(name, user, ip, ok, log):
        mark = dc.log.mark()
        lines = suite.run(name, imap_session, dc, user, ip)
        if lines is None:
            return
        if ok:
            suite.ok(name + ": reply", len(lines) == 2 and
                     lines[0] == "b OK Logged in" and
                     lines[1].startswith("s OK [READ-WRITE]"), repr(lines))
        else:
            suite.eq(name + ": reply", lines, IMAP_DENIED + ["<closed>"])
        if log is not None:
            check_log(suite, dc, name, mark, log)

    with dc:
        imap("session: country:DE from DE", "de@plain.test", "192.0.2.70",
             True, None)
        ip = a("198.51.100")
        imap("session: country:DE from US", "de@plain.test", ip, False,
             line("deny", "de@plain.test", "imap", ip, "not in allow_nets",
                  peer=None))
        imap("session: domain default from DE", "dom@example.com",
             "192.0.2.71", True, None)
        ip = a("198.51.100")
        imap("session: domain default from US", "dom@example.com", ip,
             False, line("deny", "dom@example.com", "imap", ip,
                         "not in domains.example.com", peer=None))
        imap("session: allow_nets_imap for imap", "svc@example.com",
             "198.51.100.72", True, None)
        name = "session: allow_nets_imap not for pop3"
        ip = a("198.51.100")
        mark = dc.log.mark()
        lines = suite.run(name, pop3_session, dc, "svc@example.com", ip)
        suite.eq(name + ": reply", lines, POP3_DENIED + ["<closed>"])
        check_log(suite, dc, name, mark,
                  line("deny", "svc@example.com", "pop3", ip,
                       "not in domains.example.com", peer=None))
        ip = a("198.51.100")
        imap("session: allow_nets_mode=report", "rep@example.com", ip, True,
             line("report-only, would deny", "rep@example.com", "imap", ip,
                  "not in domains.example.com", peer=None))
        ip = a("192.0.2")
        imap("session: domain \"*\" outside", "other@other.test", ip,
             False, line("deny", "other@other.test", "imap", ip,
                         'not in domains."*"', peer=None))


def main():
    suite = Suite("geoip")
    suite.run("lists", lists, suite)
    suite.run("session", session, suite)
    suite.run("missing database", broken_database, suite, "missing",
              lambda dc: os.unlink(dc.path("geo/country.mmdb")))
    suite.run("corrupt database", broken_database, suite, "corrupt",
              lambda dc: os.replace(dc.path("geo/corrupt.mmdb"),
                                    dc.path("geo/country.mmdb")))
    return suite.finish()


if __name__ == "__main__":
    sys.exit(main())
