#!/usr/bin/env python3
"""The auth process under valgrind (memcheck, definite leaks): every path
of the passdb driver once (allow, deny, invalid list, named set, a master
login nobody granted, a credentials mechanism, the auth socket, a policy
that does not load, countries and ASNs from MaxMind DB files, a database
that does not open), then a clean shutdown so that deinit runs too."""

import glob
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dovecot_it                                             # noqa: E402
from dovecot_it import Suite, sasl_cram_md5                   # noqa: E402
from ipallow_fixtures import (                                # noqa: E402
    DEFAULT_POLICY, MASTER_PASSWORD, PASSWORD, imap_login, ipallow_dovecot)

VALGRIND = shutil.which("valgrind") or "/usr/bin/valgrind"
AUTH_UNDER_VALGRIND = """\
service auth {
  executable = %s -q --leak-check=full --show-leak-kinds=definite \
--errors-for-leak-kinds=definite --log-file={dir}/valgrind.%%p.log \
/usr/lib/dovecot/auth
}
""" % VALGRIND
MAKE_MMDB = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                         "geoip", "make-mmdb.pl")
# carol's @office and the "*" default of users without a list (erin,
# dave) make lookups in both databases
GEOIP_POLICY = """\
geoip:
  country_db: geo/country.mmdb
  asn_db: geo/asn.mmdb
sets:
  office: ["country:DE", "asn:64496", 203.0.113.0/24]
domains:
  "*": "country:US, asn:64500"
"""
# valgrind cannot remove its vgdb pipes after the process dropped root
NOISE = re.compile(r"could not unlink /tmp/vgdb-pipe")


def exercise(dc):
    imap_login(dc, "alice", PASSWORD, "198.51.100.7")
    imap_login(dc, "alice", PASSWORD, "203.0.113.7")
    imap_login(dc, "bob", PASSWORD, "198.51.100.8")
    imap_login(dc, "carol", PASSWORD, "192.0.2.8")
    imap_login(dc, "heidi", PASSWORD, "203.0.113.8")
    imap_login(dc, "erin", PASSWORD, "198.51.100.11")
    imap_login(dc, "erin", PASSWORD, "2001:db8:de::11")
    imap_login(dc, "carol", PASSWORD, "203.0.113.12")
    imap_login(dc, "nosuch*admin", MASTER_PASSWORD, "203.0.113.9")
    with dc.imap() as c:
        c.forward_ip("198.51.100.9")
        c.authenticate_sasl("CRAM-MD5", sasl_cram_md5("alice", PASSWORD))
    with dc.auth_client() as a:
        a.auth_plain("alice", PASSWORD, "smtp", rip="198.51.100.10")
        a.auth_plain("alice", PASSWORD, "radicale")


def make_geo(dc, corrupt=False):
    os.makedirs(dc.path("geo"), exist_ok=True)
    subprocess.run(["perl", MAKE_MMDB, dc.path("geo")], check=True)
    if corrupt:
        os.replace(dc.path("geo/corrupt.mmdb"), dc.path("geo/asn.mmdb"))


def run(suite, name, policy, prepare=None):
    # the logs are read after stop(), which would remove the directory
    keep = dovecot_it.KEEP
    dovecot_it.KEEP = True
    dc = ipallow_dovecot("valgrind-" + name, policy=policy, master=True,
                         extra_conf=AUTH_UNDER_VALGRIND)
    try:
        if prepare is not None:
            prepare(dc)
        dc.start()
        exercise(dc)
    finally:
        dc.stop()
        dovecot_it.KEEP = keep
    logs = glob.glob(dc.path("valgrind.*.log"))
    problems = []
    for path in logs:
        with open(path) as f:
            problems += [l for l in f.read().splitlines()
                         if l.strip() and not NOISE.search(l)]
    suite.ok("%s: auth ran under valgrind" % name, len(logs) > 0,
             dc.log.tail())
    suite.ok("%s: no memcheck errors, no definite leaks" % name,
             not problems, "\n".join(problems[:60]))
    if not keep:
        shutil.rmtree(dc.dir, ignore_errors=True)


def main():
    suite = Suite("valgrind")
    if not os.access(VALGRIND, os.X_OK):
        suite.ok("valgrind is installed", False, "apt-get install valgrind")
        suite.finish()
    suite.run("default policy", run, suite, "default", DEFAULT_POLICY)
    suite.run("broken policy", run, suite, "broken", "mode: enforced\n")
    suite.run("geoip policy", run, suite, "geoip", GEOIP_POLICY, make_geo)
    suite.run("corrupt database", run, suite, "geoip-corrupt", GEOIP_POLICY,
              lambda dc: make_geo(dc, corrupt=True))
    suite.finish()


if __name__ == "__main__":
    main()
