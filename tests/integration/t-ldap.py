#!/usr/bin/env python3
"""OpenLDAP as the user database (issue 15, item 1): Debian's slapd started
by this test on 127.0.0.1 (its own cn=config made with slapadd from the
shipped conf.d/ipallow.ldif, an mdb database in a temporary directory,
stopped by pid), Dovecot's LDAP passdb and userdb with the admin guide's
pass_attrs and user_attrs.

Checked, with both Dovecot LDAP modes (password compare: Dovecot reads
userPassword as a service account; auth_bind: slapd checks the password
by a bind as the user), each in the guide's chain (ldap with result_success
= continue-ok, then ipallow): inside the list, outside (the reason),
wrong password (plain failure), an entry without the attribute
(unrestricted), the password-change mark, and a multi-valued attribute
(Dovecot 2.3 passes its first value only and warns; on 2.4 the guide's
%{ldap_multi:...} passes every value). Then the session-time check: a
passdb that does not return the list, an LDAP userdb that does, and the
mail plugin. And the schema itself: both forms load into slapd and
define the same things, and the admin guide shows the recipe used here
(2.3 text, and on 2.4 every line of the generated LDAP blocks)."""

import base64
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dovecot_it import (                                      # noqa: E402
    DOVECOT_API, REPO_CONFD, TIMEOUT, Dovecot, Suite, free_port,
    stop_process, wait_until)
from ipallow_fixtures import (                                # noqa: E402
    ALERT, AUTH_FAILED, AUTH_IPALLOW, DEBUG_EVENT_CONF, IMAP_OK, PASSWORD,
    WRONG, Outside, check_log, check_no_decision, check_reply,
    decision_line, deny_line, imap_login)
from session_fixtures import (                                # noqa: E402
    IMAP_DENIED, REFUSED_ERROR, imap_session, plugin_conf,
    plugin_installed)

SLAPD = "/usr/sbin/slapd"
SCHEMA_DIR = "/etc/ldap/schema"
GUIDE = os.path.join(REPO_CONFD, "..", "doc", "admin-guide.md")
PEER = "127.0.0.1"
BASE = "dc=example,dc=com"
PEOPLE = "ou=people," + BASE
SERVICE_DN = "cn=dovecot," + BASE
SERVICE_PASSWORD = "Dovecot-Reads-789"
IMAP_OK_B = "re:" + IMAP_OK % "b"
EXPIRED = "b NO [EXPIRED] Password expired"

# The admin guide's recipe (doc/admin-guide.md, "LDAP"), used verbatim:
# checked against the guide below.
PASS_ATTRS_COMPARE_23 = """\
pass_attrs = uid=user, userPassword=password, \\
  ipallowAllowNets=userdb_allow_nets, \\
  ipallowPasswordChangeRequired=userdb_password_change_required"""
PASS_ATTRS_BIND_23 = """\
pass_attrs = uid=user, \\
  ipallowAllowNets=userdb_allow_nets, \\
  ipallowPasswordChangeRequired=userdb_password_change_required"""
PASS_ATTRS_COMPARE = PASS_ATTRS_COMPARE_23
PASS_ATTRS_BIND = PASS_ATTRS_BIND_23
USER_ATTRS = """\
user_attrs = ipallowAllowNets=allow_nets, \\
  ipallowPasswordChangeRequired=password_change_required"""
# The session-time layout: the passdb knows only the password
PASS_ATTRS_SESSION = "pass_attrs = uid=user"

# Dovecot 2.4 can pass on every value of the attribute, tab-separated
# (db-ldap.c ldap_query_get_fields(), db_ldap_field_multi_expand()),
# which the list grammar reads as white space. On 2.4 the list comes
# through %{ldap_multi:...}, written here as a 2.3 template item
# (=field=template) that dovecot24.py turns into the fields { } line of
# the admin guide's 2.4 recipe (checked against the guide below); 2.3
# has no %{ldap_multi:...}.
if DOVECOT_API == "2.4":
    MULTI = "%{ldap_multi:ipallowAllowNets | default}"
    PASS_ATTRS_COMPARE = PASS_ATTRS_COMPARE.replace(
        "ipallowAllowNets=userdb_allow_nets", "=userdb_allow_nets=" + MULTI)
    PASS_ATTRS_BIND = PASS_ATTRS_BIND.replace(
        "ipallowAllowNets=userdb_allow_nets", "=userdb_allow_nets=" + MULTI)
    USER_ATTRS_USED = USER_ATTRS.replace(
        "ipallowAllowNets=allow_nets", "=allow_nets=" + MULTI)
else:
    USER_ATTRS_USED = USER_ATTRS

LDAP_CONF = """\
uris = ldap://127.0.0.1:%(port)d
dn = %(service_dn)s
dnpass = %(service_password)s
auth_bind = %(auth_bind)s
base = %(people)s
scope = onelevel
pass_filter = (&(objectClass=inetOrgPerson)(uid=%%u))
%(pass_attrs)s
user_filter = (&(objectClass=inetOrgPerson)(uid=%%u))
%(user_attrs)s
iterate_filter = (objectClass=inetOrgPerson)
iterate_attrs = uid=user
"""

AUTH_LDAP = """\
passdb {
  driver = ldap
  args = {dir}/dovecot-ldap.conf.ext
  result_success = continue-ok
  result_internalfail = return-fail
}
""" + AUTH_IPALLOW % {"extra_args": ""}

USERDB_LDAP = """\
userdb {
  driver = ldap
  args = {dir}/dovecot-ldap.conf.ext
}
"""

USERDB_PREFETCH_LDAP = """\
userdb {
  driver = prefetch
}
""" + USERDB_LDAP

# name -> values of ipallowAllowNets (None: no ipallowAccount at all),
# password-change mark
USERS = {
    "alice": (["203.0.113.0/24, 2001:db8:42::/48"], None),
    "multi": (["203.0.113.0/24", "198.51.100.0/24", "2001:db8:42::/48"],
              None),
    "erin": (None, None),
    "marked": (["203.0.113.0/24"], "TRUE"),
}


def ssha(password):
    """An RFC 2307 {SSHA} userPassword: slapd (auth_bind) and Dovecot
    (password compare) both verify it."""
    salt = os.urandom(8)
    digest = hashlib.sha1(password.encode() + salt).digest()
    return "{SSHA}" + base64.b64encode(digest + salt).decode()


def user_dn(name):
    return "uid=%s,%s" % (name, PEOPLE)


def data_ldif():
    out = ["dn: %s\nobjectClass: dcObject\nobjectClass: organization\n"
           "o: Example\ndc: example\n" % BASE,
           "dn: %s\nobjectClass: organizationalUnit\nou: people\n" % PEOPLE,
           "dn: %s\nobjectClass: organizationalRole\n"
           "objectClass: simpleSecurityObject\ncn: dovecot\n"
           "userPassword: %s\n" % (SERVICE_DN, ssha(SERVICE_PASSWORD))]
    for name, (nets, mark) in USERS.items():
        entry = ["dn: %s" % user_dn(name), "objectClass: inetOrgPerson"]
        if nets is not None:
            entry.append("objectClass: ipallowAccount")
        entry += ["uid: %s" % name, "cn: %s" % name, "sn: %s" % name,
                  "userPassword: %s" % ssha(PASSWORD)]
        entry += ["ipallowAllowNets: %s" % n for n in nets or []]
        if mark is not None:
            entry.append("ipallowPasswordChangeRequired: %s" % mark)
        out.append("\n".join(entry) + "\n")
    return "\n".join(out)


CONFIG_LDIF = """\
dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: {dir}/slapd.pid

dn: cn=module{{0}},cn=config
objectClass: olcModuleList
cn: module{{0}}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file://{schema}/core.ldif

include: file://{schema}/cosine.ldif

include: file://{schema}/inetorgperson.ldif

include: file://{ipallow_ldif}

dn: olcDatabase={{0}}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {{0}}config
olcAccess: {{0}}to * by * none

dn: olcDatabase={{1}}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {{1}}mdb
olcSuffix: {base}
olcDbDirectory: {dir}/db
olcDbMaxSize: 16777216
olcDbIndex: objectClass eq
olcDbIndex: uid eq
olcAccess: {{0}}to attrs=userPassword by dn.exact="{service}" read
  by anonymous auth by * none
olcAccess: {{1}}to * by dn.exact="{service}" read by * none
"""


class Slapd:
    """One slapd of our own: cn=config and an mdb database in a temporary
    directory, listening on 127.0.0.1 only, in the foreground (-d) so the
    pid we hold is slapd's. Its stats log shows every BIND."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="slapd-it-")
        self.confdir = os.path.join(self.dir, "slapd.d")
        self.port = free_port()
        self.uri = "ldap://127.0.0.1:%d/" % self.port
        self.proc = None
        self.logf = None

    def path(self, name):
        return os.path.join(self.dir, name)

    def write(self, name, text):
        with open(self.path(name), "w") as f:
            f.write(text)
        return self.path(name)

    def run(self, *args):
        return subprocess.run(list(args), stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=60)

    def start(self):
        os.makedirs(self.confdir)
        os.makedirs(self.path("db"))
        config = self.write("config.ldif", CONFIG_LDIF.format(
            dir=self.dir, schema=SCHEMA_DIR, base=BASE, service=SERVICE_DN,
            ipallow_ldif=os.path.join(REPO_CONFD, "ipallow.ldif")))
        p = self.run("slapadd", "-n", "0", "-F", self.confdir, "-l", config)
        if p.returncode != 0:
            raise RuntimeError("slapadd cn=config: %s%s" % (p.stdout,
                                                             p.stderr))
        data = self.write("data.ldif", data_ldif())
        p = self.run("slapadd", "-F", self.confdir, "-b", BASE, "-l", data)
        if p.returncode != 0:
            raise RuntimeError("slapadd data: %s%s" % (p.stdout, p.stderr))
        self.logf = open(self.path("slapd.log"), "w")
        # -d stats: foreground, one line per operation (BIND dn=...)
        self.proc = subprocess.Popen(
            [SLAPD, "-F", self.confdir, "-h", self.uri, "-d", "stats"],
            stdin=subprocess.DEVNULL, stdout=self.logf, stderr=self.logf)

        def ready():
            if self.proc.poll() is not None:
                raise RuntimeError("slapd exited: %s" % self.read_log())
            return self.search("-b", BASE, "-s", "base").returncode == 0
        if not wait_until(ready, 3 * TIMEOUT):
            raise RuntimeError("slapd did not answer: %s" % self.read_log())
        return self

    def search(self, *args):
        return self.run("ldapsearch", "-x", "-LLL", "-H", self.uri, "-D",
                        SERVICE_DN, "-w", SERVICE_PASSWORD, *args)

    def read_log(self, since=0):
        try:
            with open(self.path("slapd.log")) as f:
                text = f.read()
        except OSError:
            return ""
        # complete lines only: slapd may be half-way through one
        return text[:text.rfind("\n") + 1][since:]

    def mark(self):
        return len(self.read_log())

    def binds(self, since):
        """DNs bound as after since (slapd's stats lines
        'conn=N op=N BIND dn="..." method=128')."""
        return re.findall(r'BIND dn="([^"]*)" method=128',
                          self.read_log(since))

    def stop(self):
        stop_process(self.proc)
        self.proc = None
        if self.logf is not None:
            self.logf.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def ldap_conf(slapd, auth_bind, pass_attrs, user_attrs=USER_ATTRS_USED):
    return LDAP_CONF % {
        "port": slapd.port, "service_dn": SERVICE_DN,
        "service_password": SERVICE_PASSWORD,
        "auth_bind": "yes" if auth_bind else "no", "people": PEOPLE,
        "pass_attrs": pass_attrs, "user_attrs": user_attrs}


# --------------------------------------------------------------------------
# The schema and the guide

def definitions(text):
    """The ( ... ) definitions of a schema file in either form, white
    space normalised (the attributetype/olcAttributeTypes keywords are
    outside the parentheses)."""
    text = re.sub(r"(?m)^#.*\n", "", text)
    defs, depth, start = [], 0, 0
    for i, c in enumerate(text):
        if c == "(":
            if depth == 0:
                start = i
            depth += 1
        elif c == ")" and depth > 0:
            depth -= 1
            if depth == 0:
                defs.append(" ".join(text[start:i + 1].split()))
    return defs


def check_schema(suite, slapd):
    with open(os.path.join(REPO_CONFD, "ipallow.schema")) as f:
        schema = definitions(f.read())
    with open(os.path.join(REPO_CONFD, "ipallow.ldif")) as f:
        ldif = definitions(f.read())
    suite.ok("ipallow.schema and ipallow.ldif define the same 3 things",
             len(schema) == 3 and schema == ldif,
             "schema: %r\n     ldif:   %r" % (schema, ldif))
    conf = slapd.write("slaptest.conf", (
        "include %s/core.schema\ninclude %s/cosine.schema\n"
        "include %s/inetorgperson.schema\ninclude %s\n"
        "modulepath /usr/lib/ldap\nmoduleload back_mdb\n"
        "database mdb\nsuffix \"%s\"\ndirectory %s\n") % (
            SCHEMA_DIR, SCHEMA_DIR, SCHEMA_DIR,
            os.path.join(REPO_CONFD, "ipallow.schema"), BASE,
            slapd.path("db")))
    p = slapd.run("slaptest", "-u", "-f", conf)
    suite.ok("ipallow.schema loads into slapd.conf (slaptest)",
             p.returncode == 0, p.stdout + p.stderr)
    # slapd itself runs with ipallow.ldif (cn=config): the entries with
    # ipallowAccount were accepted by slapadd, and a search finds them
    p = slapd.search("-b", PEOPLE, "(ipallowAllowNets=198.51.100.0/24)",
                     "uid")
    suite.eq("ipallow.ldif in cn=config: an equality search on "
             "ipallowAllowNets", re.findall(r"(?m)^uid: (\S+)$", p.stdout),
             ["multi"])


def check_guide(suite):
    with open(GUIDE) as f:
        guide = f.read()
    for what, text in (("pass_attrs (password compare)",
                        PASS_ATTRS_COMPARE_23),
                       ("pass_attrs (auth_bind)", PASS_ATTRS_BIND_23),
                       ("user_attrs", USER_ATTRS)):
        suite.ok("admin guide shows the tested %s" % what, text in guide,
                 "missing from doc/admin-guide.md:\n" + text)


# --------------------------------------------------------------------------
# Login time

def login_cases(suite, dc, slapd, mode, out):
    p = "%s: " % mode
    erin_ip = out.v4()
    cases = [
        ("alice inside", "alice", PASSWORD, "203.0.113.7", IMAP_OK_B,
         decision_line("allow", "alice", "imap", "203.0.113.7", PEER,
                       "in allow_nets")),
        ("alice inside (IPv6, second entry of the value)", "alice",
         PASSWORD, "2001:db8:42::7", IMAP_OK_B,
         decision_line("allow", "alice", "imap", "2001:db8:42::7", PEER,
                       "in allow_nets")),
        ("alice outside", "alice", PASSWORD, "198.51.100.7", ALERT,
         deny_line("alice", "imap", "198.51.100.7", PEER)),
        ("alice wrong password", "alice", WRONG, out.v4(), AUTH_FAILED,
         None),
        ("no ipallowAccount: unrestricted", "erin", PASSWORD, erin_ip,
         IMAP_OK_B, decision_line("unrestricted", "erin", "imap", erin_ip,
                                  PEER, "no allow_nets")),
        ("marked for a password change", "marked", PASSWORD,
         "203.0.113.8", EXPIRED,
         decision_line("password change required", "marked", "imap",
                       "203.0.113.8", PEER, "password_change_required")),
    ]
    for what, user, password, ip, want, log in cases:
        mark = dc.log.mark()
        smark = slapd.mark()
        reply = suite.run(p + what, imap_login, dc, user, password, ip)
        check_reply(suite, p + what, reply or "", want)
        if log is not None:
            check_log(suite, dc, p + what, mark, log)
        elif password == WRONG:
            check_no_decision(suite, dc, p + what, mark, user, ip)
        if what == "alice inside":
            # who checked the password: slapd (a bind as alice) or
            # Dovecot (only the service account binds)
            if mode == "auth_bind":
                binds = wait_until(
                    lambda: user_dn("alice") in slapd.binds(smark) and
                    slapd.binds(smark)) or slapd.binds(smark)
                suite.ok(p + "slapd checked the password (bind as alice)",
                         user_dn("alice") in binds, repr(binds))
            else:
                binds = slapd.binds(smark)
                suite.ok(p + "Dovecot checked the password (no bind as "
                         "alice)", user_dn("alice") not in binds and
                         slapd.search("-b", user_dn("alice"), "-s", "base",
                                      "userPassword").stdout.count(
                                          "userPassword::") == 1,
                         repr(binds))


def multi_valued(suite, dc, mode):
    """2.3: pass_attrs attr=field passes the first value of a
    multi-valued attribute on, and Dovecot warns (passdb-ldap.c
    ldap_query_save_result()): the list is the first value, never more.
    2.4: %{ldap_multi:...} passes every value on."""
    p = "%s: multi-valued attribute: " % mode
    mark = dc.log.mark()
    reply = suite.run(p + "first value", imap_login, dc, "multi", PASSWORD,
                      "203.0.113.9")
    check_reply(suite, p + "first value allowed", reply or "", IMAP_OK_B)
    if DOVECOT_API == "2.4":
        for what, ip in (("second value", "198.51.100.9"),
                         ("third value", "2001:db8:42::9")):
            reply = suite.run(p + what, imap_login, dc, "multi", PASSWORD,
                              ip)
            check_reply(suite, p + what + " allowed (%{ldap_multi:...})",
                        reply or "", IMAP_OK_B)
            check_log(suite, dc, p + what, mark,
                      decision_line("allow", "multi", "imap", ip, PEER,
                                    "in allow_nets"))
        reply = suite.run(p + "outside", imap_login, dc, "multi", PASSWORD,
                          "192.0.2.9")
        check_reply(suite, p + "outside every value: denied", reply or "",
                    ALERT)
        suite.ok(p + "no warning about dropped values",
                 dc.log.find(r"Multiple values found", mark) is None,
                 dc.log.find(r"Multiple values found", mark) or "")
        return
    check_log(suite, dc, p + "Dovecot warns", mark,
              "Multiple values found for 'userdb_allow_nets', using value "
              "'203.0.113.0/24'")
    mark = dc.log.mark()
    reply = suite.run(p + "second value", imap_login, dc, "multi", PASSWORD,
                      "198.51.100.9")
    check_reply(suite, p + "second value not passed on: denied", reply or "",
                ALERT)
    check_log(suite, dc, p + "second value", mark,
              deny_line("multi", "imap", "198.51.100.9", PEER))


def check_guide_24(suite, dc, header, what):
    """Dovecot 2.4: every line of the generated block (as dovecot24.py
    wrote it from the settings above) is a line of the guide's 2.4
    recipe."""
    conf = dc.read("dovecot.conf").splitlines()
    try:
        start = conf.index(header)
    except ValueError:
        suite.ok("admin guide shows the tested 2.4 %s" % what, False,
                 "no %r in dovecot.conf" % header)
        return
    block, depth = [], 0
    for line in conf[start:]:
        block.append(line.strip())
        depth += line.count("{") - line.count("}")
        if depth == 0:
            break
    with open(GUIDE) as f:
        guide = set(line.strip() for line in f)
    missing = [line for line in block if line not in guide]
    suite.ok("admin guide shows the tested 2.4 %s" % what, not missing,
             "lines missing from doc/admin-guide.md: %r" % missing)


def login_time(suite, slapd, auth_bind):
    mode = "auth_bind" if auth_bind else "password compare"
    pass_attrs = PASS_ATTRS_BIND if auth_bind else PASS_ATTRS_COMPARE
    dc = Dovecot("ldap-bind" if auth_bind else "ldap-compare",
                 AUTH_LDAP + USERDB_PREFETCH_LDAP,
                 extra_conf=DEBUG_EVENT_CONF,
                 files={"dovecot-ldap.conf.ext": ldap_conf(
                     slapd, auth_bind, pass_attrs),
                     "ipallow.yaml": "# defaults\n"})
    with dc:
        if DOVECOT_API == "2.4":
            check_guide_24(suite, dc, "passdb ldap {", mode + " passdb")
            check_guide_24(suite, dc, "userdb ldap {", mode + " userdb")
        login_cases(suite, dc, slapd, mode, Outside())
        multi_valued(suite, dc, mode)


# --------------------------------------------------------------------------
# Session time

def session_time(suite, slapd):
    """The list only in the LDAP userdb: the ipallow passdb sees none
    (unrestricted at login), the mail plugin refuses the session."""
    p = "session: "
    auth = AUTH_LDAP + USERDB_LDAP
    dc = Dovecot("ldap-session", auth,
                 extra_conf=plugin_conf() + DEBUG_EVENT_CONF,
                 files={"dovecot-ldap.conf.ext": ldap_conf(
                     slapd, True, PASS_ATTRS_SESSION),
                     "ipallow.yaml": "# defaults\n"})
    with dc:
        lines = suite.run(p + "alice inside", imap_session, dc, "alice",
                          "203.0.113.10")
        suite.ok(p + "alice inside: usable session",
                 lines is not None and lines[0] == "b OK Logged in" and
                 lines[1].startswith("s OK [READ-WRITE]"), repr(lines))
        mark = dc.log.mark()
        lines = suite.run(p + "alice outside", imap_session, dc, "alice",
                          "198.51.100.10")
        suite.eq(p + "alice outside: session refused", (lines or [])[:2],
                 IMAP_DENIED)
        check_log(suite, dc, p + "alice outside", mark,
                  deny_line("alice", "imap", "198.51.100.10"))
        suite.ok(p + "alice outside: session error logged",
                 dc.log.wait_literal(REFUSED_ERROR % "not_in_list", mark)
                 is not None, dc.log.read(mark)[-2000:])
        check_log(suite, dc, p + "alice outside: the login-time check saw "
                  "no list", mark,
                  decision_line("unrestricted", "alice", "imap",
                                "198.51.100.10", PEER, "no allow_nets"))
        lines = suite.run(p + "erin", imap_session, dc, "erin",
                          "198.51.100.11")
        suite.ok(p + "no ipallowAccount: usable session",
                 lines is not None and lines[0] == "b OK Logged in",
                 repr(lines))


def main():
    suite = Suite("ldap")
    print("# Dovecot %s" % DOVECOT_API)
    if not os.path.exists(SLAPD) or not os.path.exists(
            "/usr/lib/dovecot/modules/auth/libauthdb_ldap.so"):
        suite.ok("slapd, ldap-utils and dovecot-ldap installed", False,
                 "apt-get install slapd ldap-utils dovecot-ldap")
        suite.finish()
    slapd = Slapd()
    try:
        if suite.run("start slapd", slapd.start) is not None:
            check_schema(suite, slapd)
            check_guide(suite)
            suite.run("password compare", login_time, suite, slapd, False)
            suite.run("auth_bind", login_time, suite, slapd, True)
            if plugin_installed():
                suite.run("session", session_time, suite, slapd)
            else:
                suite.ok("mail plugin installed", False,
                         "lib90_ipallow_plugin.so not found")
    finally:
        slapd.stop()
    suite.finish()


if __name__ == "__main__":
    main()
