#!/usr/bin/env python3
"""Load and soak: many authentications over the auth-client socket and
many IMAP connections logging in and out, against a real Dovecot with a
passwd-file passdb and the ipallow passdb, every decision compared with an
independent expectation.

    tests/soak/soak.py                       # the full run: 1,000,000 auths,
                                             # 200 IMAP connections
    SOAK_AUTHS=50000 SOAK_IMAP_CONNS=50 tests/soak/soak.py   # what CI runs
                                             # (tests/integration/t-soak-short.py)

Needs root (it starts Dovecot) and the ipallow auth module installed in
Dovecot's auth module directory (make install, or run
tests/integration/run-all.sh with IT_INSTALL_FROM once).

Environment (or the matching --options):
  SOAK_AUTHS         authentications over the auth socket (1000000)
  SOAK_WINDOW        requests in flight on the auth socket (4000)
  SOAK_IMAP_CONNS    concurrent IMAP connections (200)
  SOAK_IMAP_ROUNDS   login/logout rounds per IMAP connection (25)
  SOAK_USERS         users in the passwd-file (6000: more distinct lists
                     than the plugin's list cache holds, 4096, so it evicts)
  SOAK_SEED          random seed (printed; fixed default, so a run repeats)
  SOAK_SAMPLE        seconds between RSS/fd samples (5)
  SOAK_IMAP_TIMEOUT  seconds an IMAP client waits for a reply (60)
  SOAK_REPORT        write the samples and totals as JSON to this file

What it checks (each a line "ok"/"FAIL", then "N passed, N failed"):
  - every auth-socket reply against an expectation computed with Python's
    ipaddress from the user's list and SPEC §4 (exempt services, no list,
    exempt networks, invalid lists, IPv4-mapped clients, wrong passwords):
    zero wrong decisions, zero unanswered requests;
  - every IMAP reply (a login allowed or refused with the reject_reason);
  - the auth process never changes pid (no crash, no restart), and the
    log has no Panic, Fatal or "killed with signal";
  - auth-process RSS after warm-up (a quarter of the auths) to the end
    grows by no more than SOAK_RSS_SLACK_KIB (8192); fds at the end are
    no more than at warm-up plus 2 (a login process more or less).

The auth socket requests carry no-penalty: Dovecot's anvil would otherwise
delay every repeated denied address by up to 15 s, which measures anvil,
not the check. The IMAP logins go through the normal penalty path, each
denied login from an address of its own.
"""

import argparse
import ipaddress
import json
import os
import random
import re
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import dovecot_it                                              # noqa: E402
from dovecot_it import Dovecot, Suite                          # noqa: E402
from auth_pipeline import (                                    # noqa: E402
    AuthPipeline, AuthRequest, PipelineStats, auth_pids, fd_count,
    pid_alive, rss_kib)
from ipallow_fixtures import (                                 # noqa: E402
    AUTH_IPALLOW, AUTH_PASSWD_FILE, PASSWORD, REASON, USERDB_PASSWD_FILE,
    WRONG)

DEFAULT_SEED = 20261123

EXEMPT_NETS = [ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7",
    "127.0.0.0/8", "::1/128", "169.254.0.0/16", "fe80::/10")]
EXEMPT_SERVICES = {"caldav", "carddav", "webdav", "dav", "radicale", "lmtp",
                   "lda", "doveadm", "indexer-worker"}
SERVICES = ["imap", "pop3", "smtp", "submission", "sieve"]
MAPPED = ipaddress.ip_network("::ffff:0:0/96")

# First octets of public IPv4 space (no 0, 10, 127, 224+; 100, 169, 172,
# 192 handled separately so that their private parts stay out).
PUBLIC_FIRST = [o for o in range(1, 224)
                if o not in (0, 10, 100, 127, 169, 172, 192)]


# --------------------------------------------------------------------------
# The workload and its oracle

def rand_public_v4(rng):
    r = rng.random()
    if r < 0.03:
        # carrier-grade NAT: public on purpose (SPEC §4)
        return ipaddress.IPv4Address("100.%d.%d.%d" % (
            rng.randint(64, 127), rng.randint(0, 255), rng.randint(0, 255)))
    if r < 0.05:
        # 172.0-15 and 172.32-255: public, next to the private /12
        second = rng.choice(list(range(0, 16)) + list(range(32, 256)))
        return ipaddress.IPv4Address("172.%d.%d.%d" % (
            second, rng.randint(0, 255), rng.randint(0, 255)))
    return ipaddress.IPv4Address("%d.%d.%d.%d" % (
        rng.choice(PUBLIC_FIRST), rng.randint(0, 255), rng.randint(0, 255),
        rng.randint(1, 254)))


def rand_public_v6(rng):
    # global unicast 2000::/3, never the mapped or ULA ranges
    value = (0x2 << 125) | rng.getrandbits(125)
    return ipaddress.IPv6Address(value)


def rand_private(rng):
    return ipaddress.ip_address(rng.choice([
        "10.%d.%d.%d" % (rng.randint(0, 255), rng.randint(0, 255),
                         rng.randint(1, 254)),
        "192.168.%d.%d" % (rng.randint(0, 255), rng.randint(1, 254)),
        "172.%d.%d.%d" % (rng.randint(16, 31), rng.randint(0, 255),
                          rng.randint(1, 254)),
        "fd%02x:%x::%x" % (rng.randint(0, 255), rng.getrandbits(16),
                           rng.getrandbits(16)),
        "127.0.0.%d" % rng.randint(1, 254),
        "fe80::%x" % rng.getrandbits(16),
    ]))


def rand_in(net, rng):
    return net.network_address + rng.randrange(net.num_addresses)


def plain_net(addr, length):
    return ipaddress.ip_network("%s/%d" % (addr, length), strict=False)


def rand_entry(rng):
    """(text, network) of one list entry in one of several spellings."""
    kind = rng.random()
    if kind < 0.55:
        addr = rand_public_v4(rng)
        length = rng.choice([8, 12, 16, 20, 22, 24, 24, 24, 28, 30, 32, 32])
        net = plain_net(addr, length)
        if length == 32 and rng.random() < 0.5:
            return str(addr), net                       # host, no length
        if rng.random() < 0.2:
            return "%s/%d" % (addr, length), net         # host bits set
        if rng.random() < 0.1:
            # IPv4-mapped IPv6 spelling of the same network
            return "::ffff:%s/%d" % (net.network_address,
                                     96 + length), net
        return str(net), net
    addr = rand_public_v6(rng)
    length = rng.choice([16, 32, 40, 48, 48, 56, 64, 64, 96, 112, 128])
    net = plain_net(addr, length)
    if length == 128 and rng.random() < 0.5:
        return str(addr), net
    if rng.random() < 0.2:
        return addr.exploded + "/%d" % length, net       # long spelling
    return str(net), net


def make_set(rng, n):
    nets = []
    for _ in range(n):
        nets.append(rand_entry(rng))
    return nets


class User:
    def __init__(self, name, text, nets, invalid=False):
        self.name = name
        self.text = text        # None: no field at all
        self.nets = nets        # parsed networks (valid lists)
        self.invalid = invalid


def make_users(rng, count, sets):
    users = []
    for i in range(count):
        name = "u%05d" % i
        r = rng.random()
        if r < 0.05:
            users.append(User(name, None, []))
            continue
        if r < 0.08:
            users.append(User(name, "", []))
            continue
        entries = [rand_entry(rng) for _ in range(rng.randint(1, 8))]
        texts = [t for t, _ in entries]
        nets = [n for _, n in entries]
        for set_name, set_nets in sets.items():
            if rng.random() < 0.1:
                texts.insert(rng.randrange(len(texts) + 1), "@" + set_name)
                nets += [n for _, n in set_nets]
        invalid = False
        if r > 0.96:
            # one invalid entry: the default on_invalid: deny refuses all
            texts.insert(rng.randrange(len(texts) + 1),
                         rng.choice(["10/8", "010.0.0.1", "@nosuch",
                                     "fe80::/10/10", "1.2.3.4/33",
                                     "mail.example.com"]))
            # no "%": passwd-file %-expands extra fields (t-badinput.py)
            invalid = True
        users.append(User(name, ",".join(texts), nets, invalid))
    return users


def client_v4(ip):
    """The address the check compares: a mapped client is IPv4."""
    if ip.version == 6 and ip in MAPPED:
        return ipaddress.IPv4Address(int(ip) & 0xffffffff)
    return ip


def expect(user, service, ip, password=PASSWORD):
    """SPEC §4 over the default policy: "OK", "DENY" or "FAIL"."""
    if password != PASSWORD:
        return "FAIL"
    if service in EXEMPT_SERVICES:
        return "OK"
    if user.text is None or user.text.strip(" ,") == "":
        return "OK"
    if ip is None:
        return "OK"                                  # unknown_ip: exempt
    ip = client_v4(ip)
    if any(ip.version == n.version and ip in n for n in EXEMPT_NETS):
        return "OK"
    if user.invalid:
        return "DENY"
    if any(ip.version == n.version and ip in n for n in user.nets):
        return "OK"
    return "DENY"


def request_pool(rng, users):
    """A few requests per user covering every rule, with their
    expectations."""
    pool = []
    for user in users:
        v4 = [n for n in user.nets if n.version == 4]
        v6 = [n for n in user.nets if n.version == 6]
        ips = [rand_public_v4(rng), rand_public_v6(rng), rand_private(rng)]
        if v4:
            inside = rand_in(rng.choice(v4), rng)
            ips += [inside, inside, ipaddress.ip_address("::ffff:%s" % inside)]
        if v6:
            ips += [rand_in(rng.choice(v6), rng)] * 2
        out4 = rand_public_v4(rng)
        ips.append(ipaddress.ip_address("::ffff:%s" % out4))
        for ip in ips:
            service = rng.choice(SERVICES)
            pool.append(AuthRequest(user.name, PASSWORD, service, str(ip),
                                    expect(user, service, ip)))
        ip = rand_public_v4(rng)
        pool.append(AuthRequest(user.name, WRONG, "imap", str(ip), "FAIL"))
        pool.append(AuthRequest(user.name, PASSWORD, "caldav", str(ip),
                                expect(user, "caldav", ip)))
        if rng.random() < 0.2:
            pool.append(AuthRequest(user.name, PASSWORD, "smtp", None,
                                    expect(user, "smtp", None)))
    return pool


def workload(seed, n_users):
    rng = random.Random(seed)
    sets = {"office": make_set(rng, 30), "partners": make_set(rng, 3000)}
    users = make_users(rng, n_users, sets)
    pool = request_pool(rng, users)
    policy = ("# soak policy: defaults plus two named sets\n"
              "sets:\n  office: [%s]\n"
              "  partners: { file: {dir}/partners.nets }\n" %
              ", ".join('"%s"' % t for t, _ in sets["office"]))
    set_file = "# generated\n" + "".join(
        "%s  # entry %d\n" % (t, i) for i, (t, _) in
        enumerate(sets["partners"]))
    passwd = "".join(
        "%s:{PLAIN}%s::::::%s\n" % (
            u.name, PASSWORD,
            "" if u.text is None else "userdb_allow_nets=" + u.text)
        for u in users)
    return users, pool, policy, set_file, passwd


# --------------------------------------------------------------------------
# The instance

SOAK_CONF = """\
# many concurrent IMAP connections: login processes in performance mode
default_process_limit = 1000
default_client_limit = 4000
default_vsz_limit = 0
service imap-login {
  service_count = 0
  process_min_avail = 2
  client_limit = 1000
}
service imap {
  process_limit = 1000
}
service anvil {
  client_limit = 4000
}
"""


def soak_dovecot(name, policy, set_file, passwd, extra_conf=""):
    auth = AUTH_PASSWD_FILE + AUTH_IPALLOW % {"extra_args": ""} + \
        USERDB_PASSWD_FILE
    return Dovecot(name, auth, extra_conf=SOAK_CONF + extra_conf,
                   files={"users.passwd": passwd, "ipallow.yaml": policy,
                          "partners.nets": set_file})


# --------------------------------------------------------------------------
# IMAP connections

class ImapLoad:
    """conns threads, each logging in and out rounds times through IMAP
    ID forwarding: allowed logins from inside the user's list and denied
    ones from fresh outside addresses."""

    def __init__(self, dc, users, conns, rounds, seed):
        self.dc = dc
        self.users = [u for u in users if not u.invalid and
                      any(n.version == 4 for n in u.nets)]
        self.conns = conns
        self.rounds = rounds
        self.seed = seed
        self.lock = threading.Lock()
        self.counts = {"ok": 0, "denied": 0, "wrong": 0, "errors": 0}
        self.examples = []
        self.threads = []
        self.next_out = 0
        # seconds from connect to the LOGIN reply, per login
        self.latencies = []

    def fresh_outside(self):
        with self.lock:
            self.next_out += 1
            n = self.next_out
        # 198.18.0.0/15: benchmarking space, in nobody's list
        return "198.%d.%d.%d" % (18 + n // 62500 % 2, n // 250 % 250,
                                 n % 250 + 1)

    def worker(self, index):
        rng = random.Random(self.seed * 1000 + index)
        for _ in range(self.rounds):
            user = rng.choice(self.users)
            if rng.random() < 0.7:
                net = rng.choice([n for n in user.nets if n.version == 4])
                ip, want = str(rand_in(net, rng)), "ok"
            else:
                ip, want = self.fresh_outside(), "denied"
            if any(ipaddress.ip_address(ip) in n for n in user.nets):
                want = "ok"
            step = "connect"
            started = time.monotonic()
            try:
                with self.dc.imap() as c:
                    step = "ID"
                    r = c.forward_ip(ip)
                    if not c.id_accepted(r):
                        raise RuntimeError("ID: " + r)
                    step = "LOGIN"
                    reply = c.login(user.name, PASSWORD)
                    self.latencies.append(time.monotonic() - started)
                    if " OK " in reply:
                        step = "LOGOUT"
                        c.logout()
                got = ("ok" if reply.startswith("b OK ") else
                       "denied" if reply == "b NO [ALERT] " + REASON else
                       "other")
            except Exception as e:                    # noqa: BLE001
                got, reply = "error", "%s at %s after %.1f s: %s" % (
                    type(e).__name__, step, time.monotonic() - started, e)
            with self.lock:
                if got == want:
                    self.counts[got] += 1
                elif got == "error":
                    self.counts["errors"] += 1
                else:
                    self.counts["wrong"] += 1
                if got != want and len(self.examples) < 10:
                    self.examples.append((user.name, ip, want, reply))

    def start(self):
        for i in range(self.conns):
            t = threading.Thread(target=self.worker, args=(i,), daemon=True)
            t.start()
            self.threads.append(t)

    def join(self, timeout):
        deadline = time.monotonic() + timeout
        for t in self.threads:
            t.join(max(0.1, deadline - time.monotonic()))
        return not any(t.is_alive() for t in self.threads)


# --------------------------------------------------------------------------
# Sampling the auth process

class Sampler:
    def __init__(self, dc, interval):
        self.dc = dc
        self.interval = interval
        self.samples = []       # (seconds, replies, rss KiB, fds)
        self.pids = set()
        self.stop_event = threading.Event()
        self.stats = None
        self.started = time.monotonic()
        self.thread = threading.Thread(target=self.loop, daemon=True)

    def sample(self):
        pids = auth_pids(self.dc)
        self.pids.update(pids)
        pid = pids[0] if pids else None
        replies = self.stats.replies if self.stats else 0
        s = (round(time.monotonic() - self.started, 1), replies,
             rss_kib(pid) if pid else None, fd_count(pid) if pid else None)
        self.samples.append(s)
        return s

    def loop(self):
        while not self.stop_event.wait(self.interval):
            self.sample()

    def start(self):
        self.thread.start()

    def stop(self):
        self.stop_event.set()
        self.thread.join()


# --------------------------------------------------------------------------

def env_int(name, default):
    return int(os.environ.get(name, default))


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--auths", type=int,
                    default=env_int("SOAK_AUTHS", 1000000))
    ap.add_argument("--window", type=int, default=env_int("SOAK_WINDOW", 4000))
    ap.add_argument("--imap-conns", type=int,
                    default=env_int("SOAK_IMAP_CONNS", 200))
    ap.add_argument("--imap-rounds", type=int,
                    default=env_int("SOAK_IMAP_ROUNDS", 25))
    ap.add_argument("--users", type=int, default=env_int("SOAK_USERS", 6000))
    ap.add_argument("--seed", type=int, default=env_int("SOAK_SEED",
                                                        DEFAULT_SEED))
    ap.add_argument("--sample", type=float,
                    default=float(os.environ.get("SOAK_SAMPLE", "5")))
    ap.add_argument("--rss-slack-kib", type=int,
                    default=env_int("SOAK_RSS_SLACK_KIB", 8192))
    ap.add_argument("--imap-timeout", type=float,
                    default=float(os.environ.get("SOAK_IMAP_TIMEOUT", "60")))
    ap.add_argument("--report", default=os.environ.get("SOAK_REPORT", ""))
    return ap.parse_args(argv)


def requests(pool, n, seed):
    rng = random.Random(seed ^ 0x5eed)
    size = len(pool)
    for _ in range(n):
        yield pool[rng.randrange(size)]


def run(suite, args):
    # With both cores busy (this client, the auth process, Dovecot's log
    # process writing a line per denial) an allowed IMAP login can take
    # longer than the harness's default 10 s; a slow login is measured,
    # only a wrong or missing answer fails.
    dovecot_it.TIMEOUT = max(dovecot_it.TIMEOUT, args.imap_timeout)
    print("# soak: seed %d, %d auths, window %d, %d users, %d IMAP "
          "connections x %d rounds" % (args.seed, args.auths, args.window,
                                       args.users, args.imap_conns,
                                       args.imap_rounds), flush=True)
    users, pool, policy, set_file, passwd = workload(args.seed, args.users)
    want = {}
    for r in pool:
        want[r.want] = want.get(r.want, 0) + 1
    print("# request pool: %d distinct requests %s" % (len(pool), want),
          flush=True)

    dc = soak_dovecot("soak", policy, set_file, passwd)
    report = {"seed": args.seed, "auths": args.auths}
    with dc:
        # warm-up: every distinct request once (fills the list cache)
        with AuthPipeline(dc.auth_socket_path, window=args.window) as pipe:
            warm = pipe.run(iter(pool), window=args.window)
        suite.eq("warm-up: every distinct request decided as expected",
                 (warm.wrong, warm.unanswered), (0, 0))
        if warm.examples:
            print("# mismatches: %r" % warm.examples[:10])
        pids = auth_pids(dc)
        suite.eq("one auth process", len(pids), 1)
        auth_pid = pids[0] if pids else None

        sampler = Sampler(dc, args.sample)
        stats = PipelineStats()
        sampler.stats = stats
        imap = ImapLoad(dc, users, args.imap_conns, args.imap_rounds,
                        args.seed)
        warm_mark = {}

        def progress(st):
            s = sampler.samples[-1] if sampler.samples else start_sample
            print("# %6.0f s: %d/%d answered, %d wrong, rss %s KiB, "
                  "fds %s" % (st.seconds, st.replies, args.auths, st.wrong,
                              s[2], s[3]), flush=True)

        started = time.monotonic()
        with AuthPipeline(dc.auth_socket_path, window=args.window) as pipe:
            # the start sample with the pipeline connected, as at the end
            start_sample = sampler.sample()
            sampler.start()
            imap.start()
            reqs = requests(pool, args.auths, args.seed)
            # a quarter as warm-up, then the rest: RSS and fds are
            # compared from the end of the warm-up to the end
            warm_n = args.auths // 4
            pipe.run((next(reqs) for _ in range(warm_n)),
                     window=args.window, stats=stats, progress=progress)
            warm_mark["sample"] = sampler.sample()
            pipe.run(reqs, window=args.window, stats=stats,
                     progress=progress)
            imap_done = imap.join(600)
            # the end sample with the same connections open as at start
            end_sample = sampler.sample()
        duration = time.monotonic() - started
        sampler.stop()

        print("# auth socket: %s" % stats.summary(), flush=True)
        for req, line in stats.examples[:10]:
            print("#   %r -> %r" % (req, line))
        suite.eq("auth socket: all %d answered" % args.auths,
                 (stats.replies, stats.unanswered), (args.auths, 0))
        suite.eq("auth socket: zero wrong decisions", stats.wrong, 0)
        suite.eq("auth socket: zero wrong allows", stats.wrong_allows, 0)

        lat = sorted(imap.latencies)
        if lat:
            print("# imap login latency: median %.2f s, p99 %.2f s, max "
                  "%.2f s" % (lat[len(lat) // 2], lat[len(lat) * 99 // 100],
                              lat[-1]), flush=True)
        print("# imap: %s" % imap.counts, flush=True)
        for ex in imap.examples:
            print("#   %r" % (ex,))
        suite.ok("imap: all connections finished", imap_done)
        total = args.imap_conns * args.imap_rounds
        suite.eq("imap: %d logins, each allowed or refused as expected" %
                 total, imap.counts["ok"] + imap.counts["denied"], total)
        suite.eq("imap: zero wrong decisions", imap.counts["wrong"], 0)

        suite.eq("auth process never restarted (pids seen)",
                 sorted(sampler.pids), [auth_pid])
        suite.ok("auth process still alive",
                 auth_pid is not None and pid_alive(auth_pid))
        bad = dc.log.find_all(r"Panic|Fatal|killed with signal|"
                              r"ipallow: .*internal error")
        suite.ok("log: no panic, fatal or killed process", not bad,
                 "\n".join(bad[:5]))

        rss = [s[2] for s in sampler.samples if s[2]]
        fds = [s[3] for s in sampler.samples if s[3]]
        warm_s = warm_mark["sample"]
        print("# rss KiB: start %s, after warm-up %s, end %s, max %s" % (
            start_sample[2], warm_s[2], end_sample[2], max(rss or [0])))
        print("# fds: start %s, after warm-up %s, end %s, max %s" % (
            start_sample[3], warm_s[3], end_sample[3], max(fds or [0])))
        print("# duration %.0f s, %.0f auths/s" % (
            duration, args.auths / duration if duration else 0))
        curve = sampler.samples
        step = max(1, len(curve) // 20)
        print("# rss curve (s, answered, KiB, fds): %s" %
              ", ".join("(%s, %s, %s, %s)" % s for s in curve[::step] +
                        ([curve[-1]] if curve else [])))
        if warm_s[2] and end_sample[2]:
            suite.ok("rss flat after warm-up: %d -> %d KiB (slack %d)" % (
                warm_s[2], end_sample[2], args.rss_slack_kib),
                end_sample[2] - warm_s[2] <= args.rss_slack_kib)
        if start_sample[3] and end_sample[3]:
            suite.ok("no fd growth: %d -> %d" % (start_sample[3],
                                                 end_sample[3]),
                     end_sample[3] <= start_sample[3] + 2)
        report.update({
            "duration_s": round(duration, 1),
            "auths_per_s": round(args.auths / duration) if duration else 0,
            "answered": stats.replies, "verdicts": dict(stats.verdicts),
            "wrong": stats.wrong, "wrong_allows": stats.wrong_allows,
            "unanswered": stats.unanswered, "imap": imap.counts,
            "imap_latency_s": {"median": lat[len(lat) // 2] if lat else None,
                               "max": lat[-1] if lat else None},
            "rss_kib": {"start": start_sample[2], "warm": warm_s[2],
                        "end": end_sample[2], "max": max(rss or [0])},
            "fds": {"start": start_sample[3], "warm": warm_s[3],
                    "end": end_sample[3], "max": max(fds or [0])},
            "samples": curve, "auth_pids": sorted(sampler.pids),
        })
    if args.report:
        with open(args.report, "w") as f:
            json.dump(report, f, indent=1)
    return report


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    suite = Suite("soak")
    suite.run("soak", run, suite, args)
    suite.finish()


if __name__ == "__main__":
    main()
