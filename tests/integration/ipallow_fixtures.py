"""Fixtures for the ipallow integration tests: sample users, policies and
the two passdb backends (SQLite through auth workers, passwd-file in the
auth process), on top of the generic harness in dovecot_it.py."""

import os
import re
import sqlite3

from dovecot_it import DOVECOT_API, Dovecot

PASSWORD = "Secret-123"
WRONG = "not-the-password"
REASON = "Login from this network is not allowed for this mailbox."
ALERT = "b NO [ALERT] " + REASON
AUTH_FAILED = "b NO [AUTHENTICATIONFAILED] Authentication failed."
# A denial without a reason on the auth socket: no field at all (the
# silent denial drops the password passdb's fields, t-silent.py).
SILENT_FAIL = "FAIL\t1\tuser=%s\tcode=user_disabled"
TEMP_FAIL = "FAIL\t1\tuser=%s\tcode=temp_fail" + (
    "" if DOVECOT_API == "2.4" else "\t")

# name -> (userdb allow_nets or None for no field, native passdb allow_nets)
USERS = {
    "alice": ("203.0.113.0/24,2001:db8:42::/48", None),
    "bob": ("198.51.100.0/24,2001:db8:1::1,10/8", None),
    "carol": ("@office", None),
    "dave": ("", None),
    "erin": (None, None),
    "frank": ("198.51.100.0/24", None),
    "grace": ("10/8", None),
    "heidi": (None, "0.0.0.0/0,::/0"),
}
MASTER_USER = "admin"
MASTER_PASSWORD = "Master-456"

DEFAULT_POLICY = """\
# test policy: defaults plus one named set
sets:
  office: [192.0.2.0/24, "2001:db8:100::/48"]
"""

SQL_CONF = """\
driver = sqlite
connect = {dir}/users.db
default_pass_scheme = PLAIN
password_query = SELECT username AS user, password, \\
  allow_nets AS userdb_allow_nets, native_nets AS allow_nets \\
  FROM users WHERE username = '%u'
user_query = SELECT username AS user, allow_nets FROM users \\
  WHERE username = '%u'
iterate_query = SELECT username AS user FROM users
"""

AUTH_SQL = """\
passdb {
  driver = sql
  args = {dir}/dovecot-sql.conf.ext
  result_success = continue-ok
  result_internalfail = return-fail
}
"""

AUTH_PASSWD_FILE = """\
passdb {
  driver = passwd-file
  args = scheme=PLAIN {dir}/users.passwd
  result_success = continue-ok
  result_internalfail = return-fail
}
"""

AUTH_IPALLOW = """\
passdb {
  driver = ipallow
  args = {dir}/ipallow.yaml%(extra_args)s
  skip = unauthenticated
  result_internalfail = return-fail
}
"""



def sql_chain(conf_name="dovecot-sql.conf.ext"):
    """The admin guide's SQL layout: the sql passdb verifies the password
    and returns the list in prefetch form (continue-ok, internal failures
    end the login), then ipallow, then prefetch and the sql userdb for
    lookups without a passdb. conf_name: the dovecot-sql.conf.ext in the
    Dovecot's directory (driver and queries)."""
    return """\
passdb {
  driver = sql
  args = {dir}/%(conf)s
  result_success = continue-ok
  result_internalfail = return-fail
}
""" % {"conf": conf_name} + AUTH_IPALLOW % {"extra_args": ""} + """\
userdb {
  driver = prefetch
}
userdb {
  driver = sql
  args = {dir}/%(conf)s
}
""" % {"conf": conf_name}


AUTH_MASTER = """\
auth_master_user_separator = *
passdb {
  driver = passwd-file
  master = yes
  args = scheme=PLAIN {dir}/master-users
  pass = yes
}
"""

USERDB_SQL = """\
userdb {
  driver = prefetch
}
userdb {
  driver = sql
  args = {dir}/dovecot-sql.conf.ext
}
"""

USERDB_PASSWD_FILE = """\
userdb {
  driver = prefetch
}
userdb {
  driver = passwd-file
  args = {dir}/users.passwd
}
"""

BACKENDS = ("sql", "passwd-file")


def passwd_file(users=None):
    lines = []
    for name, (nets, native) in (users or USERS).items():
        extra = []
        if nets is not None:
            extra.append("userdb_allow_nets=%s" % nets)
        if native is not None:
            extra.append("allow_nets=%s" % native)
        lines.append("%s:{PLAIN}%s::::::%s" % (name, PASSWORD,
                                                " ".join(extra)))
    return "\n".join(lines) + "\n"


def make_sqlite(path, users=None):
    if os.path.exists(path):
        os.unlink(path)
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE users (username TEXT PRIMARY KEY, "
               "password TEXT NOT NULL, allow_nets TEXT, native_nets TEXT)")
    for name, (nets, native) in (users or USERS).items():
        db.execute("INSERT INTO users VALUES (?, ?, ?, ?)",
                   (name, "{PLAIN}" + PASSWORD, nets, native))
    db.commit()
    db.close()
    os.chmod(path, 0o644)


def auth_conf(backend, before="", after="", master=False, extra_args="",
              ipallow=True):
    """The passdb chain: [master] authenticating passdb, [before],
    ipallow, [after]; then the userdbs."""
    conf = AUTH_MASTER if master else ""
    conf += AUTH_SQL if backend == "sql" else AUTH_PASSWD_FILE
    conf += before
    if ipallow:
        conf += AUTH_IPALLOW % {"extra_args": extra_args}
    conf += after
    return conf + (USERDB_SQL if backend == "sql" else USERDB_PASSWD_FILE)


def ipallow_dovecot(suite, backend="passwd-file", policy=DEFAULT_POLICY,
                    extra_conf="", users=None, **chain):
    """A Dovecot with the sample users (or users, same shape as USERS),
    the given policy text (None: no policy file at all) and the chain of
    auth_conf()."""
    files = {
        "users.passwd": passwd_file(users),
        "master-users": "%s:{PLAIN}%s\n" % (MASTER_USER, MASTER_PASSWORD),
        "dovecot-sql.conf.ext": SQL_CONF,
    }
    if policy is not None:
        files["ipallow.yaml"] = policy
    dc = Dovecot(suite, auth_conf(backend, **chain), extra_conf=extra_conf,
                 files=files)
    make_sqlite(dc.path("users.db"), users)
    return dc


def deny_line(user, service, ip, peer=None, rule="not in allow_nets"):
    return "ipallow: deny user=%s service=%s ip=%s%s (%s)" % (
        user, service, ip, " peer=%s" % peer if peer else "", rule)


def decision_line(verb, user, service, ip, peer=None, rule=""):
    return "ipallow: %s user=%s service=%s ip=%s%s (%s)" % (
        verb, user, service, ip, " peer=%s" % peer if peer else "", rule)


# --------------------------------------------------------------------------
# Logins and the three observables of SPEC §6 (reply, log line, event)

IMAP_OK = r"^%s OK \[CAPABILITY [^\]]*\] Logged in$"


class Outside:
    """Fresh public client addresses (198.18.0.0/15, benchmarking: in
    nobody's list, not exempt). Dovecot's anvil penalty grows with every
    failed login from one address (an IPv6 /48), delaying the next by
    seconds, so each failing case gets an address of its own."""

    def __init__(self):
        self.n = 0

    def v4(self):
        self.n += 1
        return "198.18.%d.%d" % (self.n // 250, self.n % 250 + 1)

    def v6(self):
        self.n += 1
        return "2001:db8:%x::7" % (0x8000 + self.n)


def imap_login(dc, user, password, ip=None, mech="LOGIN", proxy_from=None):
    """One IMAP login, forwarding ip with ID when given; returns the
    tagged reply (tag b for LOGIN, c for AUTHENTICATE PLAIN)."""
    with dc.imap(proxy_from=proxy_from) as c:
        if ip is not None:
            r = c.forward_ip(ip)
            if not c.id_accepted(r):
                return "ID failed: " + r
        if mech == "LOGIN":
            reply = c.login(user, password)
        else:
            reply = c.authenticate_plain(user, password)
        if " OK " in reply:
            c.logout()
        return reply


def pop3_login(dc, user, password, ip, mech="USER"):
    """One POP3 login from ip, forwarded with XCLIENT; returns the reply
    to PASS (mech USER) or to AUTH PLAIN."""
    with dc.pop3() as c:
        r = c.xclient(ip)
        if r != "+OK Updated":
            return "XCLIENT failed: " + r
        if mech == "USER":
            reply = c.user_pass(user, password)
        else:
            reply = c.auth_plain(user, password)
        if reply.startswith("+OK"):
            c.command("QUIT")
        return reply


def submission_login(dc, user, password, ip):
    """One submission AUTH PLAIN from ip (XCLIENT syntax: IPV6:... for
    IPv6), forwarded with XCLIENT; returns the AUTH reply."""
    with dc.submission() as c:
        c.ehlo()
        r = c.xclient(ip)
        if not r[-1].startswith("220"):
            return "XCLIENT failed: %r" % r
        return c.auth_plain(user, password)


def check_reply(suite, what, got, want):
    """want: the exact line, or a regular expression given as re:..."""
    if want.startswith("re:"):
        return suite.match(what + ": reply", got, want[3:])
    return suite.eq(what + ": reply", got, want)


def check_log(suite, dc, what, mark, line):
    """The exact log line body must appear after mark."""
    found = dc.log.wait_literal(line, mark)
    return suite.ok(what + ": log", found is not None,
                    "no log line containing %r; log since mark:\n%s" %
                    (line, dc.log.read(mark)[-3000:]))


def check_no_decision(suite, dc, what, mark, user, ip):
    """No ipallow decision line for user from ip (a wrong password never
    reaches the check)."""
    regex = r"ipallow: .*user=%s .*ip=%s[ )]" % (re.escape(user),
                                                 re.escape(ip))
    return suite.ok(what + ": no ipallow line", dc.log.absent(regex, mark),
                    dc.log.find(regex, mark) or "")


def check_outcome(suite, dc, what, mark, reply, want, user, ip, log):
    """The client's reply, then the log: log is the exact decision line,
    or None when the login must not reach the check (wrong password)."""
    check_reply(suite, what, reply, want)
    if log is None:
        check_no_decision(suite, dc, what, mark, user, ip)
    else:
        check_log(suite, dc, what, mark, log)


def stats_counts(dc, metric="ipallow"):
    """{sub-metric name: count} from doveadm stats dump."""
    rc, out, err = dc.doveadm("stats", "dump")
    counts = {}
    for line in out.splitlines()[1:]:
        fields = line.split("\t")
        if len(fields) > 2 and fields[0].startswith(metric) and \
                fields[1] == "duration":
            counts[fields[0]] = int(fields[2])
    return counts


STATS_CONF = """\
metric ipallow {
  filter = event=ipallow_check_finished
  group_by = result rule service
}
"""

DEBUG_EVENT_CONF = "log_debug = event=ipallow_check_finished\n"
