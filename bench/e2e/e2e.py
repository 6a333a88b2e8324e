#!/usr/bin/env python3
"""End-to-end auth benchmark: authentications per second through a real
Dovecot, driven over its auth-client socket with thousands of requests in
flight, and the auth process's CPU time and memory.

    e2e.py [--rounds 3] [--requests 40000] [--set-file v4-1M.prefixes]
           [--set-memory BYTES] [--long 1000000]

Scenarios, each its own throw-away Dovecot on 127.0.0.1 (passwd-file
passdb in the auth process, auth_failure_delay = 0, no auth cache):

  none         no list at all
  fetched-10   the passdb returns userdb_allow_nets (10 entries) and
               nothing checks it: the cost of carrying the field
  chain-10     the same, plus a second passdb that checks nothing (static,
               nopassword) where ipallow would be: what Dovecot's chain
               costs by itself, to tell it from the check
  native-N     Dovecot's own passdb allow_nets field, N = 1, 10, 1000
  ipallow-N    userdb_allow_nets checked by the ipallow passdb
  ipallow-set  the list is "@big", a named set of --set-file prefixes
  ipallow-country  the 10 entries of ipallow-10 plus "country:DE", with a
               country database from tests/geoip/make-mmdb.pl (where
               192.0.2.0/24 and 2001:db8:de::/48 are DE): half of the
               "inside" clients are let in by the country, and every
               client outside the prefixes costs a database lookup

Two client mixes per scenario: "mixed" (50% inside the list, 30% public
addresses outside it, 20% private addresses) and "allowed" (inside only:
Dovecot answers failures from a 500 ms timer even with
auth_failure_delay = 0, which caps the mixed rate at the window size over
that delay). Every reply is checked against the decision the scenario
must make (OK, FAIL, or FAIL with code=user_disabled for an ipallow
denial), so a fast wrong answer shows up as mismatches, not speed.

All users of a scenario share one list text, as the mailboxes of one
company do (the compiled list is cached). With --distinct N (issue 13)
the scenarios fetched-E-distinct, chain-E-distinct, native-E-distinct
and ipallow-E-distinct (E in --distinct-entries, default 10) give each
of N users a list of its own (E networks in random order) and ask for
the users in random order, clients inside the asking user's list. Reuses the integration
harness (tests/integration/dovecot_it.py, auth_pipeline.py); needs root,
Dovecot 2.3 and libauthdb_ipallow.so in Dovecot's auth module directory.
Prints "key=value" lines (one "result" line per run) for report-e2e.py.
"""

import argparse
import ipaddress
import os
import random
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "integration"))

from dovecot_it import Dovecot  # noqa: E402
from auth_pipeline import (AuthPipeline, AuthRequest,  # noqa: E402
                          PipelineStats, auth_pids, rss_kib)

PASSWORD = "Bench-123"
USERS = 200
WINDOW = 6000
CLK_TCK = os.sysconf("SC_CLK_TCK")

AUTH_PASSWD = """\
passdb {
  driver = passwd-file
  args = scheme=PLAIN {dir}/users.passwd
  result_success = %s
  result_internalfail = return-fail
}
"""
AUTH_IPALLOW = """\
passdb {
  driver = ipallow
  args = {dir}/ipallow.yaml
  skip = unauthenticated
  result_internalfail = return-fail
}
"""
AUTH_STATIC = """\
passdb {
  driver = static
  args = nopassword=y
  skip = unauthenticated
}
"""
USERDB = """\
userdb {
  driver = prefetch
}
userdb {
  driver = passwd-file
  args = {dir}/users.passwd
}
"""
# default logging: one line per denial, as in production. A 1000-entry
# list is a 25 KB field that Dovecot keeps with every request in flight
# (twice across a chain): 6000 of them outgrow the auth process's
# default 256 MB vsz_limit, which then dies of "Out of memory".
EXTRA = """\
auth_verbose = no
auth_debug = no
service auth {
  vsz_limit = 1G
}
"""


class Nets:
    """The list of a scenario and addresses inside and outside it."""

    def __init__(self, rng, entries):
        self.rng = rng
        self.v4, self.v6 = [], []
        n6 = entries * 3 // 10
        seen = set()
        while len(self.v4) < entries - n6:
            # public /24s in 45.0.0.0/8 .. 62.0.0.0/8, never 198.18/15
            net = (rng.randrange(45, 63) << 24) | (rng.getrandbits(16) << 8)
            if net not in seen:
                seen.add(net)
                self.v4.append(ipaddress.IPv4Network((net, 24)))
        while len(self.v6) < n6:
            net = (0x2a02 << 112) | (rng.getrandbits(32) << 80)
            if net not in seen:
                seen.add(net)
                self.v6.append(ipaddress.IPv6Network((net, 48)))
        self.text = ",".join(str(n) for n in self.v4 + self.v6)

    def inside(self):
        net = self.rng.choice(self.v4 + self.v6)
        host = self.rng.getrandbits(net.max_prefixlen - net.prefixlen)
        return str(net.network_address + host)

    def outside(self):
        # 198.18.0.0/15 (benchmarking) and 2001:db8:ffff::/48: in no
        # list, not exempt
        if self.rng.random() < 0.7:
            return "198.%d.%d.%d" % (self.rng.choice((18, 19)),
                                     self.rng.randrange(256),
                                     self.rng.randrange(1, 255))
        return "2001:db8:ffff::%x" % self.rng.getrandbits(16)


class DistinctNets:
    """A list per user (issue 13): user i has its own E networks (70%
    public IPv4 /24s, 30% IPv6 /48s, in random order) and a few hosts
    inside them. Built from strings, fast enough for 10,000 users."""

    def __init__(self, rng, entries, users):
        self.rng = rng
        self.users = users
        self.texts, self.hosts = [], []
        n6 = entries * 3 // 10
        for _ in range(users):
            nets, hosts = [], []
            for j in range(entries):
                if j < entries - n6:
                    a, b, c = (rng.randrange(45, 63), rng.getrandbits(8),
                               rng.getrandbits(8))
                    nets.append("%d.%d.%d.0/24" % (a, b, c))
                    hosts.append("%d.%d.%d.%d" % (a, b, c,
                                                  rng.randrange(1, 255)))
                else:
                    g1, g2 = rng.getrandbits(16), rng.getrandbits(16)
                    nets.append("2a02:%x:%x::/48" % (g1, g2))
                    hosts.append("2a02:%x:%x::%x" % (
                        g1, g2, rng.randrange(1, 65536)))
            rng.shuffle(nets)
            self.texts.append(",".join(nets))
            self.hosts.append(rng.sample(hosts, min(3, len(hosts))))

    def outside(self):
        return Nets.outside(self)


class SetNets:
    """"@big": the named set from a prefix file (IPv4 only)."""

    def __init__(self, rng, path):
        self.rng = rng
        self.text = "@big"
        self.by_len = {}
        self.prefixes = []
        with open(path) as fp:
            for line in fp:
                line = line.split("#", 1)[0].strip()
                if not line:
                    continue
                net = ipaddress.ip_network(line, strict=False)
                if net.version != 4:
                    continue
                self.prefixes.append(net)
                self.by_len.setdefault(net.prefixlen, set()).add(
                    int(net.network_address))

    def contains(self, addr):
        a = int(addr)
        for length, nets in self.by_len.items():
            if (a >> (32 - length) << (32 - length) if length else 0) in nets:
                return True
        return False

    def inside(self):
        net = self.rng.choice(self.prefixes)
        return str(net.network_address +
                   self.rng.getrandbits(32 - net.prefixlen))

    def outside(self):
        while True:
            a = ipaddress.IPv4Address(self.rng.getrandbits(32))
            if a.is_global and not a.is_multicast and not self.contains(a):
                return str(a)


class CountryNets(Nets):
    """ipallow-10's list plus country:DE; inside: the prefixes or DE."""

    def __init__(self, rng, entries):
        super().__init__(rng, entries)
        self.text += ",country:DE"

    def inside(self):
        if self.rng.random() < 0.5:
            return super().inside()
        if self.rng.random() < 0.7:
            return "192.0.2.%d" % self.rng.randrange(1, 255)
        return "2001:db8:de::%x" % self.rng.getrandbits(16)


MAKE_MMDB = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                         "..", "..", "tests", "geoip", "make-mmdb.pl")


def private(rng):
    return rng.choice(("10.%d.%d.%d" % (rng.randrange(256),
                                        rng.randrange(256),
                                        rng.randrange(1, 255)),
                       "192.168.%d.%d" % (rng.randrange(256),
                                          rng.randrange(1, 255)),
                       "fd00::%x" % rng.getrandbits(16)))


def scenario_conf(kind):
    if kind in ("ipallow", "set", "country"):
        return AUTH_PASSWD % "continue-ok" + AUTH_IPALLOW + USERDB
    if kind == "chain":
        return AUTH_PASSWD % "continue-ok" + AUTH_STATIC + USERDB
    return AUTH_PASSWD % "return-ok" + USERDB


def want(kind, where):
    """The reply the scenario must give for a client address that is
    inside the list, outside it, or private."""
    if kind in ("none", "fetched", "chain"):
        return "OK"
    if where == "inside":
        return "OK"
    if kind == "native":
        return "FAIL-ANY"       # no exemptions in Dovecot's field
    return "OK" if where == "private" else "DENY"


def pool(nets, rng, size=3000):
    return {"inside": [nets.inside() for _ in range(size)],
            "outside": [nets.outside() for _ in range(size)],
            "private": [private(rng) for _ in range(size)]}


def requests(kind, addrs, mix, count, rng, distinct=None):
    weights = {"mixed": (("inside", 0.5), ("outside", 0.3),
                         ("private", 0.2)),
               "allowed": (("inside", 1.0),)}[mix]
    for i in range(count):
        x, acc = rng.random(), 0.0
        for where, w in weights:
            acc += w
            if x < acc:
                break
        if distinct is not None:
            # a random user, inside its own list
            u = rng.randrange(distinct.users)
            ip = (rng.choice(distinct.hosts[u]) if where == "inside"
                  else rng.choice(addrs[where]))
            yield AuthRequest("u%d" % u, PASSWORD, "imap", ip,
                              want(kind, where))
            continue
        ip = rng.choice(addrs[where])
        yield AuthRequest("u%d" % (i % USERS), PASSWORD, "imap", ip,
                          want(kind, where))


def cpu_ticks(pids):
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return total


def run_one(dc, kind, addrs, mix, count, rng, distinct=None):
    pids = auth_pids(dc)
    t0 = cpu_ticks(pids)
    with AuthPipeline(dc.auth_socket_path, window=WINDOW) as pipe:
        stats = pipe.run(requests(kind, addrs, mix, count, rng, distinct),
                         window=WINDOW, stats=PipelineStats())
    cpu = (cpu_ticks(pids) - t0) / CLK_TCK
    return stats, cpu, pids


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--requests", type=int, default=40000)
    ap.add_argument("--set-file")
    ap.add_argument("--set-memory", type=int, default=0,
                    help="bytes of the set's tree (ipallow bench)")
    ap.add_argument("--long", type=int, default=1000000,
                    help="authentications of the memory-growth run")
    ap.add_argument("--only", help="comma-separated scenario names")
    ap.add_argument("--distinct", type=int, default=0,
                    help="users with a list each (0: no such scenarios)")
    ap.add_argument("--distinct-entries", default="10",
                    help="comma-separated list sizes of those scenarios")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("e2e.py: must run as root (it starts Dovecot)")

    rng = random.Random(20261122)
    scen = [("none", "none", 0), ("fetched-10", "fetched", 10),
            ("chain-10", "chain", 10),
            ("native-1", "native", 1), ("native-10", "native", 10),
            ("native-1000", "native", 1000),
            ("ipallow-1", "ipallow", 1), ("ipallow-10", "ipallow", 10),
            ("ipallow-1000", "ipallow", 1000),
            ("ipallow-country", "country", 10)]
    if args.set_file:
        scen.append(("ipallow-set", "set", 0))
    if args.distinct > 0:
        for e in (int(x) for x in args.distinct_entries.split(",")):
            for kind in ("fetched", "chain", "native", "ipallow"):
                scen.append(("%s-%d-distinct" % (kind, e), kind, e))
    if args.only:
        keep = set(args.only.split(","))
        scen = [s for s in scen if s[0] in keep]

    print("window=%d\nusers=%d\nrequests=%d\nrounds=%d" % (
        WINDOW, USERS, args.requests, args.rounds), flush=True)
    for name, kind, entries in scen:
        distinct = None
        if name.endswith("-distinct"):
            distinct = DistinctNets(rng, entries, args.distinct)
            nets = distinct
        elif kind == "set":
            nets = SetNets(rng, args.set_file)
        elif kind == "country":
            nets = CountryNets(rng, entries)
        else:
            nets = Nets(rng, max(entries, 1))
        field = {"none": None, "fetched": "userdb_allow_nets",
                 "chain": "userdb_allow_nets",
                 "native": "allow_nets", "ipallow": "userdb_allow_nets",
                 "set": "userdb_allow_nets",
                 "country": "userdb_allow_nets"}[kind]
        if distinct is not None:
            users = "".join("u%d:{PLAIN}%s:::::: %s=%s\n" % (
                i, PASSWORD, field, text)
                for i, text in enumerate(distinct.texts))
        else:
            extra = "" if field is None else " %s=%s" % (field, nets.text)
            users = "".join("u%d:{PLAIN}%s::::::%s\n" % (i, PASSWORD, extra)
                            for i in range(USERS))
        policy = "# e2e bench\n"
        if kind == "set":
            policy += "sets:\n  big: { file: %s }\n" % os.path.abspath(
                args.set_file)
        if kind == "country":
            policy += "geoip:\n  country_db: geo/country.mmdb\n"
        dc = Dovecot("bench-" + name, scenario_conf(kind), extra_conf=EXTRA,
                     files={"users.passwd": users, "ipallow.yaml": policy})
        if kind == "country":
            os.makedirs(dc.path("geo"), exist_ok=True)
            subprocess.run(["perl", MAKE_MMDB, dc.path("geo")], check=True)
        try:
            dc.start()
            if distinct is not None:
                addrs = {"inside": [],
                         "outside": [Nets.outside(distinct)
                                     for _ in range(3000)],
                         "private": [private(rng) for _ in range(3000)]}
            else:
                addrs = pool(nets, rng)
            # warm up: processes forked, list compiled, caches filled;
            # allowed only, so that no denial waiting for the failure
            # timer holds request memory in the figure
            run_one(dc, kind, addrs, "allowed", 5000, rng, distinct)
            rss0 = max(rss_kib(p) or 0 for p in auth_pids(dc))
            print("rss scenario=%s after_warmup_kib=%d" % (name, rss0),
                  flush=True)
            if kind == "set" and args.long > 0:
                # memory over many authentications (bounded cache),
                # before the mixed rounds: the denials those leave
                # waiting for Dovecot's failure timer grow its request
                # pools, which is not ours to measure
                step = max(args.long // 10, 1)
                done = 0
                while done < args.long:
                    stats, cpu, pids = run_one(dc, kind, addrs, "allowed",
                                               step, rng)
                    done += step
                    print("growth scenario=%s auths=%d rss_kib=%d "
                          "mismatches=%d rate=%.0f set_memory=%d" % (
                              name, done,
                              max(rss_kib(p) or 0 for p in pids),
                              stats.wrong,
                              stats.replies / stats.seconds,
                              args.set_memory), flush=True)
            for r in range(1, args.rounds + 1):
                for mix in ("mixed", "allowed"):
                    stats, cpu, pids = run_one(dc, kind, addrs, mix,
                                               args.requests, rng, distinct)
                    rate = stats.replies / stats.seconds
                    print("result scenario=%s mix=%s round=%d sent=%d "
                          "replies=%d ok=%d fail=%d deny=%d tempfail=%d "
                          "mismatches=%d wrong_allows=%d unanswered=%d "
                          "seconds=%.3f rate=%.0f cpu_s=%.3f "
                          "cpu_per_10k=%.4f rss_kib=%d" % (
                              name, mix, r, stats.sent, stats.replies,
                              stats.verdicts.get("OK", 0),
                              stats.verdicts.get("FAIL", 0),
                              stats.verdicts.get("DENY", 0),
                              stats.verdicts.get("TEMPFAIL", 0),
                              stats.wrong, stats.wrong_allows,
                              stats.unanswered, stats.seconds, rate, cpu,
                              cpu / stats.replies * 10000
                              if stats.replies else 0,
                              max(rss_kib(p) or 0 for p in pids)),
                          flush=True)
                    for req, line in stats.examples[:3]:
                        print("# mismatch %s -> %s" % (req, line.strip()),
                              file=sys.stderr)
        finally:
            dc.stop()


if __name__ == "__main__":
    main()
