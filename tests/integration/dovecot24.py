"""Dovecot 2.3 configuration, as the scenarios write it, in Dovecot 2.4's
syntax: one source of truth for every scenario on both versions.

Only what the integration suite uses is translated; anything else raises
Untranslatable, so a scenario that needs a construct this file does not
know fails loudly instead of running against a different configuration.
The rules follow Dovecot 2.4's upgrade notes and were checked with
doveconf 2.4.1:

  2.3                                   2.4
  disable_plaintext_auth = no           auth_allow_cleartext = yes
  mail_location = maildir:~/Maildir     mail_driver = maildir
                                        mail_path = ~/Maildir
  %u in mail_home and SQL queries       %{user}
  inet_listener { address = A }         inet_listener { listen = A }
  vsz_limit = 0                         vsz_limit = unlimited
  service { service_count = N }         service { restart_request_count = N }
  ssl_cert = <F, ssl_key = <F           ssl_server_cert_file = F, ..._key_file
  passdb { driver = D  args = ... }     passdb NAME { driver = D  <typed settings> }
    passwd-file args: scheme=S PATH       default_password_scheme = S
                                          passwd_file_path = PATH
    sql args: FILE (dovecot-sql.conf.ext) sql_driver, sqlite_path or
                                          pgsql HOST { parameters { } } (global),
                                          or mysql HOST { port = ... },
                                          query / iterate_query in the block
    ldap args: FILE (dovecot-ldap.conf.ext)
      uris dn dnpass base scope           ldap_uris ldap_auth_dn
                                          ldap_auth_dn_password ldap_base
                                          ldap_scope (global)
      pass_filter, auth_bind = yes        passdb_ldap_filter, passdb_ldap_bind
      user_filter, iterate_filter         userdb_ldap_filter,
                                          userdb_ldap_iterate_filter
      pass_attrs/user_attrs attr=field    fields {
                                            field = %{ldap:attr | default}
                                          }
        (2.3: a missing attribute sets no field; 2.4 fails the lookup
        unless "| default" makes it empty, which ipallow reads the same)
      pass_attrs/user_attrs =field=T      fields { field = T }
      iterate_attrs attr=field            userdb_ldap_iterate_fields { ... }
    ipallow args: PATH placement_check=M  ipallow_policy = PATH
                                          ipallow_placement_check = M
    static args: password=P               passdb_static_password = P
    passdb NAME { } (2.3 name)            passdb NAME { }
    pass = yes (master passdb)            result_success = continue
    mechanisms = M                        mechanisms_filter = M
    default_fields = k=v                  fields { k:default = v }
    override_fields = k=v                 fields { k = v }
    master passdb without a name          passdb master-DRIVER { }
  plugin { ipallow_policy = P }         ipallow_policy = P
  plugin { sieve = file:D;active=F }    sieve_script personal { ... }
  mail_plugins = $mail_plugins X        mail_plugins { X = yes }
  metric { group_by = a b }             metric { group_by a { } group_by b { } }
  !include <repo>/conf.d/F              !include <repo>/conf.d/2.4/F
"""

import os
import re

HEADER = ("dovecot_config_version = 2.4.1\n"
          "dovecot_storage_version = 2.4.1\n")


class Untranslatable(ValueError):
    pass


def _vars(text):
    """2.3 %-variables used by the suite, as 2.4 %{...} ones."""
    text = text.replace("%{user}", "\0USER\0")
    text = re.sub(r"%u\b|%u(?=\W|$)", "%{user}", text)
    text = text.replace("%n", "%{user|username}")
    text = text.replace("%d", "%{user|domain}")
    return text.replace("\0USER\0", "%{user}")


def _kv(line):
    key, sep, value = line.partition("=")
    if not sep:
        raise Untranslatable("not a setting: %r" % line)
    return key.strip(), value.strip()


def _read_sql_conf(path):
    """{key: value} of a dovecot-sql.conf.ext (backslash continuations)."""
    with open(path) as f:
        text = f.read().replace("\\\n", " ")
    conf = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            k, v = _kv(line)
            conf[k] = re.sub(r"\s+", " ", v)
    return conf


class _Translator:
    def __init__(self, repo_confd):
        self.repo_confd = repo_confd
        self.out = []
        self.globals = []       # settings that must come before the blocks
        self.names = {}
        self.sql_seen = set()
        self.ldap_seen = set()

    def name_for(self, kind, wanted):
        key = (kind, wanted)
        n = self.names.get(key, 0) + 1
        self.names[key] = n
        return wanted if n == 1 else "%s%d" % (wanted, n)

    # -- blocks --------------------------------------------------------

    def sql(self, path):
        conf = _read_sql_conf(path)
        if path not in self.sql_seen:
            self.sql_seen.add(path)
            driver = conf.get("driver")
            if driver == "sqlite":
                self.globals.append("sql_driver = sqlite")
                self.globals.append("sqlite_path = %s" % conf["connect"])
            elif driver == "pgsql":
                # connect = host=H port=P dbname=D user=U
                params = dict(w.split("=", 1)
                              for w in conf["connect"].split())
                host = params.pop("host")
                self.globals += ["sql_driver = pgsql",
                                 "pgsql %s {" % host, "  parameters {"]
                self.globals += ["    %s = %s" % kv for kv in params.items()]
                self.globals += ["  }", "}"]
            elif driver == "mysql":
                # connect = host=H port=P dbname=D user=U password=W
                params = dict(w.split("=", 1)
                              for w in conf["connect"].split())
                host = params.pop("host")
                self.globals += ["sql_driver = mysql", "mysql %s {" % host]
                self.globals += ["  %s = %s" % kv for kv in params.items()]
                self.globals.append("}")
            else:
                raise Untranslatable("sql driver %r" % driver)
        return conf

    LDAP_GLOBALS = (("uris", "ldap_uris"), ("dn", "ldap_auth_dn"),
                    ("dnpass", "ldap_auth_dn_password"),
                    ("base", "ldap_base"), ("scope", "ldap_scope"))
    LDAP_KEYS = set(k for k, _ in LDAP_GLOBALS) | {
        "auth_bind", "pass_filter", "pass_attrs", "user_filter",
        "user_attrs", "iterate_filter", "iterate_attrs",
        "default_pass_scheme"}

    def ldap(self, path):
        conf = _read_sql_conf(path)
        unknown = sorted(set(conf) - self.LDAP_KEYS)
        if unknown:
            raise Untranslatable("ldap settings %s" % ", ".join(unknown))
        if path not in self.ldap_seen:
            self.ldap_seen.add(path)
            self.globals += ["%s = %s" % (k24, conf[k23])
                             for k23, k24 in self.LDAP_GLOBALS
                             if k23 in conf]
        return conf

    @staticmethod
    def ldap_fields(block, attrs):
        """pass_attrs/user_attrs/iterate_attrs as a 2.4 fields list."""
        lines = ["%s {" % block]
        for item in attrs.split(","):
            item = item.strip()
            if not item:
                continue
            if item.startswith("="):
                name, sep, value = item[1:].partition("=")
                if not sep:
                    raise Untranslatable("ldap attrs item %r" % item)
                lines.append("  %s = %s" % (name, _vars(value)))
            else:
                attr, sep, name = item.partition("=")
                if not sep or "%" in item:
                    raise Untranslatable("ldap attrs item %r" % item)
                lines.append("  %s = %%{ldap:%s | default}" % (name, attr))
        return lines + ["}"]

    def db_block(self, kind, body, block_name=()):
        settings = [_kv(line) for line in body]
        d = dict(settings)
        driver = d.get("driver")
        if driver is None:
            raise Untranslatable("%s without driver" % kind)
        wanted = block_name[0] if block_name else d.get("name", driver)
        if d.get("master") == "yes" and not block_name and "name" not in d:
            # 2.3 tells passdbs apart by driver only; 2.4 names them
            wanted = "master-" + driver
        name = self.name_for(kind, wanted)
        lines = ["driver = %s" % driver] if name != driver else []
        for key, value in settings:
            if key in ("driver", "name"):
                continue
            if key == "args":
                lines += self.db_args(kind, driver, value)
            elif key == "pass":
                if value == "yes":
                    lines.append("result_success = continue")
            elif key == "mechanisms":
                lines.append("mechanisms_filter = %s" % value)
            elif key in ("default_fields", "override_fields"):
                # 2.4's fields { }: "name:default" keeps a value that the
                # lookup set, as default_fields did
                suffix = ":default" if key == "default_fields" else ""
                lines.append("fields {")
                for w in value.split():
                    k, _, v = w.partition("=")
                    lines.append("  %s%s = %s" % (k, suffix, _vars(v)))
                lines.append("}")
            else:
                lines.append("%s = %s" % (key, _vars(value)))
        self.out.append("%s %s {" % (kind, name))
        self.out += ["  " + line for line in lines]
        self.out.append("}")

    def db_args(self, kind, driver, args):
        words = args.split()
        if driver == "passwd-file":
            lines = []
            for w in words:
                if w.startswith("scheme="):
                    lines.append("default_password_scheme = %s" % w[7:])
                elif w.startswith("username_format="):
                    if w[16:] not in ("%u", "%{user}"):
                        raise Untranslatable(w)
                elif w.startswith("/"):
                    lines.append("passwd_file_path = %s" % w)
                else:
                    raise Untranslatable("passwd-file arg %r" % w)
            return lines
        if driver == "sql":
            conf = self.sql(args)
            # full names: the short ones work only in a block named sql
            if kind == "passdb":
                lines = ["passdb_sql_query = %s" %
                         _vars(conf["password_query"])]
                if "default_pass_scheme" in conf:
                    lines.append("default_password_scheme = %s" %
                                 conf["default_pass_scheme"])
                return lines
            lines = ["userdb_sql_query = %s" % _vars(conf["user_query"])]
            if "iterate_query" in conf:
                lines.append("userdb_sql_iterate_query = %s" %
                             _vars(conf["iterate_query"]))
            return lines
        if driver == "ldap":
            conf = self.ldap(args)
            if kind == "passdb":
                lines = ["passdb_ldap_filter = %s" %
                         _vars(conf["pass_filter"])]
                if conf.get("auth_bind", "no") == "yes":
                    lines.append("passdb_ldap_bind = yes")
                if "default_pass_scheme" in conf:
                    lines.append("default_password_scheme = %s" %
                                 conf["default_pass_scheme"])
                return lines + self.ldap_fields(
                    "fields", conf.get("pass_attrs", ""))
            lines = ["userdb_ldap_filter = %s" % _vars(conf["user_filter"])]
            if "iterate_filter" in conf:
                lines.append("userdb_ldap_iterate_filter = %s" %
                             _vars(conf["iterate_filter"]))
            if "iterate_attrs" in conf:
                lines += self.ldap_fields("userdb_ldap_iterate_fields",
                                          conf["iterate_attrs"])
            return lines + self.ldap_fields("fields",
                                            conf.get("user_attrs", ""))
        if driver == "ipallow":
            lines = []
            for w in words:
                if w.startswith("/"):
                    lines.append("ipallow_policy = %s" % w)
                elif w.startswith("placement_check="):
                    lines.append("ipallow_placement_check = %s" % w[16:])
                else:
                    # kept as is: the scenario tests a bad argument
                    raise Untranslatable("ipallow arg %r" % w)
            return lines
        if driver == "static" and kind == "passdb":
            lines = []
            for w in words:
                key, _, value = w.partition("=")
                if key == "password":
                    lines.append("passdb_static_password = %s" % value)
                elif key == "nopassword":
                    lines += ["fields {", "  nopassword = yes", "}"]
                else:
                    raise Untranslatable("static passdb arg %r" % w)
            return lines
        if driver == "static" and kind == "userdb":
            return ["fields {"] + ["  %s = %s" % (k, _vars(v)) for k, v in
                                   (w.split("=", 1) for w in words)] + ["}"]
        raise Untranslatable("%s driver %s with args" % (kind, driver))

    def plugin_block(self, body):
        for line in body:
            key, value = _kv(line)
            if key == "sieve":
                m = re.match(r"file:([^;]+);active=(.+)$", value)
                if not m:
                    raise Untranslatable("sieve = %s" % value)
                self.out += ["sieve_script personal {", "  driver = file",
                             "  path = %s" % m.group(1),
                             "  active_path = %s" % m.group(2), "}"]
            else:
                self.out.append("%s = %s" % (key, value))

    def metric_block(self, header, body):
        self.out.append(header)
        for line in body:
            key, value = _kv(line)
            if key == "group_by":
                for field in value.split():
                    self.out += ["  group_by %s {" % field, "  }"]
            else:
                self.out.append("  %s = %s" % (key, value))
        self.out.append("}")

    # -- lines ---------------------------------------------------------

    def setting(self, line, depth):
        key, value = _kv(line)
        ind = "  " * depth
        if key == "disable_plaintext_auth":
            self.out.append(ind + "auth_allow_cleartext = %s" %
                            ("yes" if value == "no" else "no"))
        elif key == "mail_location":
            m = re.match(r"(\w+):(.*)$", value)
            if not m:
                raise Untranslatable(line)
            self.out += [ind + "mail_driver = %s" % m.group(1),
                         ind + "mail_path = %s" % m.group(2)]
        elif key == "mail_home":
            self.out.append(ind + "mail_home = %s" % _vars(value))
        elif key == "address" and depth >= 2:
            self.out.append(ind + "listen = %s" % value)
        elif key in ("ssl_cert", "ssl_key") and value.startswith("<"):
            self.out.append(ind + "ssl_server_%s_file = %s" % (
                key[4:], value[1:].strip()))
        elif key == "service_count" and depth >= 1:
            self.out.append(ind + "restart_request_count = %s" %
                            ("unlimited" if value == "0" else value))
        elif key in ("vsz_limit", "default_vsz_limit") and value == "0":
            self.out.append(ind + "%s = unlimited" % key)
        elif key == "mail_plugins":
            words = value.split()
            if words[:1] != ["$mail_plugins"]:
                raise Untranslatable(line)
            self.out.append(ind + "mail_plugins {")
            self.out += [ind + "  %s = yes" % w for w in words[1:]]
            self.out.append(ind + "}")
        else:
            self.out.append(ind + "%s = %s" % (key, value))

    def include(self, line):
        directive, path = line.split(None, 1)
        if self.repo_confd and os.path.dirname(
                os.path.realpath(path)) == self.repo_confd:
            path = os.path.join(self.repo_confd, "2.4",
                                os.path.basename(path))
        self.out.append("%s %s" % (directive, path))

    def run(self, text):
        lines = text.replace("\\\n", " ").splitlines()
        depth = 0
        i = 0
        while i < len(lines):
            line = lines[i].strip()
            i += 1
            if not line or line.startswith("#"):
                continue
            if line.startswith("!include"):
                self.include(line)
                continue
            if line == "}":
                depth -= 1
                self.out.append("  " * depth + "}")
                continue
            if line.endswith("{"):
                header = line[:-1].split()
                if depth == 0 and (header[0] in ("passdb", "userdb") and
                                   len(header) <= 2 or
                                   header in (["plugin"],) or
                                   header[0] == "metric"):
                    body = []
                    while lines[i].strip() != "}":
                        if lines[i].strip() and \
                                not lines[i].strip().startswith("#"):
                            body.append(lines[i].strip())
                        i += 1
                    i += 1
                    if header[0] == "plugin":
                        self.plugin_block(body)
                    elif header[0] == "metric":
                        self.metric_block(line, body)
                    else:
                        self.db_block(header[0], body, header[1:])
                    continue
                self.out.append("  " * depth + line)
                depth += 1
                continue
            self.setting(line, depth)
        return HEADER + "\n".join(self.globals + self.out) + "\n"


def translate(text, repo_confd=None):
    """The 2.4 configuration for a 2.3 one. repo_confd: the project's
    conf.d directory, whose snippets have 2.4 versions in conf.d/2.4."""
    return _Translator(repo_confd).run(text)
