#!/usr/bin/env python3
"""Differential test: `ipallow check` and `ipallow validate` against an
independent oracle built on Python's ipaddress module.

    tests/differential/run.py [IPALLOW] [--seed N] [--lists N] [--jobs N]

The CLI comes from the first argument or the IPALLOW environment variable.
With a fixed seed (printed first; the default never changes, so a run is
reproducible) it generates random allow_nets lists: IPv4 and IPv6 prefixes
of every length in many RFC 4291 spellings, IPv4-mapped entries
(::ffff:a.b.c.d/96..128), IPv4-compatible ones, entries with host bits set,
the invalid forms SPEC §3 rejects, blank lists and lists over the limits.
For each list it picks client addresses (first, last, one before, one after
and random addresses of the networks, mapped spellings ::ffff:a.b.c.d,
private, CGNAT, 172.0.0.1 and other near misses) and compares

  - `ipallow check --policy /nonexistent --nets LIST IP`: exit code and the
    first word of the output (allow/deny/exempt/unrestricted) against the
    decision of SPEC §3/§4 under the default policy (exempt private,
    loopback and link-local; an invalid list denies);
  - `ipallow validate --json -` (every list in one process): validity, the
    erroneous and the host-bits entries, and the normalised networks
    against ipaddress's own normalisation.

The oracle implements the grammar itself and lets ipaddress convert, so it
shares nothing with the C parser. The last line is `N passed, N failed`;
the exit status is 1 on any mismatch, each of which names the seed, the
list and the address.
"""

import argparse
import concurrent.futures
import ipaddress
import json
import os
import random
import re
import subprocess
import sys
import time

DEFAULT_SEED = 20261122
MAX_ENTRIES = 1024           # SPEC §3 default limits
MAX_BYTES = 65536

EXEMPT = [ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7",
    "127.0.0.0/8", "::1/128", "169.254.0.0/16", "fe80::/10")]

SEPARATORS = " ,\t\n\r\v\f"
SPLIT_RE = re.compile(r"[ ,\t\n\r\v\f]+")
LENGTH_RE = re.compile(r"(0|[1-9][0-9]*)")

# Entries SPEC §3 rejects, each with the reason it must be rejected.
INVALID_ENTRIES = [
    "010.0.0.1", "1.02.3.4", "192.168.001.1", "00.0.0.0",   # leading zeros
    "10/8", "10.1", "10.1.2", "10", "172.16/12", "10.1/16",   # shorthand
    "10.0.0.0/255.0.0.0", "192.0.2.0/255.255.255.0",          # netmasks
    "2001:db8::/ffff:ffff::",
    "1.2.3.4/33", "::/129", "1.2.3.4/99", "2001:db8::/256",    # lengths
    "1.2.3.4/+8", "1.2.3.4/-1", "::/+64", "1.2.3.4/08", "::/064",
    "1.2.3.4/00", "1.2.3.4/", "::/", "1.2.3.4/8/8", "1.2.3.4/ 8",
    "fe80::1%eth0", "fe80::%1/64", "fe80::1%25eth0",          # zones
    "[::1]", "[2001:db8::]/32", "[::1]:993",                  # brackets
    "1.2.3.4:993", "192.0.2.1:25", "::ffff:1.2.3.4:993",      # ports
    "mail.example.com", "localhost", "example", "host-1",     # names
    "@nosuch", "@", "@office",                                # unknown sets
    "0x0a.0.0.1", "0x7f000001", "1.2.3.0x4", "017700000001",  # hex, octal
    "256.1.1.1", "1.2.3.256", "1.2.3.4.5", "1..2.3", ".1.2.3",
    "1.2.3.", "1:2:3:4:5:6:7:8:9", "1::2::3", "12345::", ":::1",
    "1:2:3:4:5:6:7", "1::2:3:4:5:6:7:8", ":1::", "1::2:", "g::1",
    "::ffff:1.2.3", "::ffff:1.2.3.4.5", "1.2.3.4::", "::1.2.3.04",
    "1:2:3:4:5:6:7:1.2.3.4", "::ffff:256.1.1.1", "-", "/", "/24",
    "\uff11.2.3.4", "1.2.3.\u0664", "\u0661\u0660.0.0.1",       # unicode digits
    "1.2.3.4\u00a0", "\u2024", "fe80\uff1a\uff1a1",
    "1.2.3.4.", "*", "any", "all", "0/0", "::/0/0",
]

# Client addresses given as malformed arguments: `ipallow check` must
# refuse them with exit 2 whatever the list.
MALFORMED_CLIENTS = [
    "1.2.3.4/32", "010.0.0.1", "10.1", "fe80::1%eth0", "[::1]", "1.2.3.4:993",
    "mail.example.com", "256.0.0.1", "::ffff:1.2.3", "1::2::3", "", " 1.2.3.4",
    "1.2.3.4 ", "0x7f.0.0.1", "\uff11.2.3.4",
]


# --- the oracle ---------------------------------------------------------

class Entry:
    """One non-empty list entry, as the oracle sees it."""

    def __init__(self, text):
        self.text = text
        self.network = None      # ipaddress network, IPv4 for mapped
        self.host_bits = False
        self.error = None
        self._parse()

    def _parse(self):
        text = self.text
        if text.startswith("@"):
            self.error = "unknown set"   # the default policy has no sets
            return
        if not text.isascii():
            self.error = "not ASCII"
            return
        if "%" in text or "[" in text or "]" in text:
            self.error = "zone or brackets"
            return
        addr_text, slash, len_text = text.partition("/")
        if "/" in len_text:
            self.error = "more than one '/'"
            return
        ipv6 = ":" in addr_text
        max_len = 128 if ipv6 else 32
        if slash:
            if not LENGTH_RE.fullmatch(len_text) or int(len_text) > max_len:
                self.error = "bad prefix length"
                return
            length = int(len_text)
        else:
            length = max_len
        try:
            # ipaddress (Python >= 3.9.5) is strict: dotted quads only,
            # no leading zeros, 1-4 hex digits per group, ASCII.
            addr = (ipaddress.IPv6Address if ipv6 else
                    ipaddress.IPv4Address)(addr_text)
        except ValueError as e:
            self.error = str(e)
            return
        net = ipaddress.ip_network((addr, length), strict=False)
        self.host_bits = net.network_address != addr
        if ipv6 and length >= 96 and addr.ipv4_mapped is not None:
            # ::ffff:a.b.c.d/len is the IPv4 network it maps
            net = ipaddress.IPv4Network(
                (net.network_address.ipv4_mapped, length - 96))
        self.network = net


class OracleList:
    def __init__(self, text):
        self.text = text
        self.blank = all(c in SEPARATORS for c in text)
        self.over_limit = False
        self.entries = []
        if len(text.encode()) > MAX_BYTES:
            self.over_limit = True
            return
        words = [w for w in SPLIT_RE.split(text) if w]
        if len(words) > MAX_ENTRIES:
            self.over_limit = True
            words = words[:MAX_ENTRIES]
        self.entries = [Entry(w) for w in words]

    @property
    def valid(self):
        return not self.over_limit and all(e.error is None
                                           for e in self.entries)

    @property
    def networks(self):
        return [e.network for e in self.entries if e.error is None]

    def contains(self, addr):
        return any(addr in n for n in self.networks
                   if n.version == addr.version)


def client_addr(text):
    """The client as SPEC §3 sees it: ::ffff:a.b.c.d is IPv4."""
    addr = ipaddress.ip_address(text)
    if addr.version == 6 and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


def expect_check(olist, ip_text):
    """(exit code, first word) of `ipallow check`, SPEC §4 in order."""
    if olist.blank:
        return 0, "unrestricted"
    addr = client_addr(ip_text)
    if any(addr.version == n.version and addr in n for n in EXEMPT):
        return 0, "exempt"
    if not olist.valid:
        return 1, "deny"
    if olist.contains(addr):
        return 0, "allow"
    return 1, "deny"


# --- generators ---------------------------------------------------------

V4_POOLS = [
    ("any", 0, 32), ("10.0.0.0", 8, 1), ("172.16.0.0", 12, 1),
    ("192.168.0.0", 16, 1), ("100.64.0.0", 10, 1), ("172.0.0.0", 12, 1),
    ("172.32.0.0", 11, 1), ("127.0.0.0", 8, 1), ("169.254.0.0", 16, 1),
    ("203.0.113.0", 24, 2), ("198.51.100.0", 24, 2), ("192.0.2.0", 24, 2),
    ("0.0.0.0", 24, 1), ("255.255.255.0", 24, 1),
]
V6_POOLS = [
    ("any", 0, 16), ("2001:db8::", 32, 6), ("fe80::", 10, 1),
    ("fc00::", 7, 1), ("::", 96, 2), ("::ffff:0:0", 96, 3),
    ("::fffe:0:0", 96, 1), ("::1:ffff:0:0", 96, 1), ("::", 120, 1),
    ("ff00::", 8, 1), ("ffff:ffff:ffff:ffff::", 64, 1),
]


def pick_pool(rng, pools):
    total = sum(w for _, _, w in pools)
    r = rng.randrange(total)
    for base, bits, w in pools:
        if r < w:
            return base, bits
        r -= w
    raise AssertionError


def random_v4(rng):
    base, bits = pick_pool(rng, V4_POOLS)
    if base == "any":
        return ipaddress.IPv4Address(rng.getrandbits(32))
    net = ipaddress.IPv4Network((base, bits))
    return net.network_address + rng.randrange(net.num_addresses)


def random_v6(rng):
    base, bits = pick_pool(rng, V6_POOLS)
    if base == "any":
        # random groups, often zero, so that compression has runs to use
        groups = [0 if rng.random() < 0.4 else rng.getrandbits(16)
                  for _ in range(8)]
        return ipaddress.IPv6Address(
            sum(g << (16 * (7 - i)) for i, g in enumerate(groups)))
    net = ipaddress.IPv6Network((base, bits))
    return net.network_address + rng.randrange(min(net.num_addresses, 1 << 64))


def v6_text(rng, addr):
    """Any RFC 4291 spelling of an IPv6 address."""
    groups = [(int(addr) >> (16 * (7 - i))) & 0xffff for i in range(8)]
    dotted = rng.random() < 0.25
    n = 6 if dotted else 8
    # which run of zero groups, if any, becomes "::"
    runs, i = [], 0
    while i < n:
        if groups[i] == 0:
            j = i
            while j < n and groups[j] == 0:
                j += 1
            runs.append((i, j))
            i = j
        else:
            i += 1
    style = rng.random()
    compress = None
    if runs and style < 0.5:
        compress = max(runs, key=lambda r: r[1] - r[0])   # the longest
    elif runs and style < 0.8:
        start, end = rng.choice(runs)
        s = rng.randrange(start, end)
        compress = (s, rng.randrange(s + 1, end + 1))      # any sub-run

    def fmt(g):
        width = rng.choice((0, 0, 0, 2, 4))
        h = "%0*x" % (width, g) if width else "%x" % g
        return h.upper() if rng.random() < 0.15 else h

    if compress is None:
        head = ":".join(fmt(g) for g in groups[:n])
    else:
        left = ":".join(fmt(g) for g in groups[:compress[0]])
        right = ":".join(fmt(g) for g in groups[compress[1]:n])
        head = left + "::" + right
    if dotted:
        tail = "%d.%d.%d.%d" % tuple(int(addr).to_bytes(16, "big")[12:])
        if head.endswith("::"):
            return head + tail
        return head + ":" + tail
    return head


def addr_text(rng, addr):
    if addr.version == 4:
        return str(addr)
    return v6_text(rng, addr)


def random_length(rng, max_len):
    r = rng.random()
    if r < 0.25:
        return None                              # a host route
    if r < 0.35:
        return max_len
    if r < 0.42:
        return 0
    return rng.randrange(max_len + 1)


def valid_entry(rng):
    kind = rng.random()
    if kind < 0.45:
        addr = random_v4(rng)
        length = random_length(rng, 32)
    elif kind < 0.85:
        addr = random_v6(rng)
        length = random_length(rng, 128)
    elif kind < 0.95:
        # IPv4-mapped: ::ffff:a.b.c.d, usually with a length >= 96
        v4 = random_v4(rng)
        addr = ipaddress.IPv6Address((0xffff << 32) | int(v4))
        length = (None if rng.random() < 0.3 else
                  rng.randrange(96, 129) if rng.random() < 0.85 else
                  rng.randrange(0, 96))
        spelling = rng.choice(("::ffff:%s" % v4, "::FFFF:%s" % v4,
                               "0:0:0:0:0:ffff:%s" % v4, None))
        text = spelling if spelling else v6_text(rng, addr)
        return text if length is None else "%s/%d" % (text, length)
    else:
        # IPv4-compatible ::a.b.c.d: plain IPv6
        v4 = random_v4(rng)
        addr = ipaddress.IPv6Address(int(v4))
        length = random_length(rng, 128)
        text = "::%s" % v4 if rng.random() < 0.6 else v6_text(rng, addr)
        return text if length is None else "%s/%d" % (text, length)
    if length is not None and rng.random() < 0.5:
        # write the network, not an address inside it
        net = ipaddress.ip_network((addr, length), strict=False)
        addr = net.network_address
    text = addr_text(rng, addr)
    return text if length is None else "%s/%d" % (text, length)


def random_separator(rng):
    return rng.choice((", ", ",", " ", "\t", "\n", " , ", ",,", "\r\n",
                       ",\t", "  ", ", ", ", "))


def random_list(rng):
    r = rng.random()
    if r < 0.03:
        return rng.choice(("", " ", ",", " , \t", "\n"))
    if r < 0.035:
        # over the entry limit; the entries themselves are fine
        n = MAX_ENTRIES + rng.randrange(1, 4)
        return ", ".join("%d.%d.%d.0/24" % (198, i // 256, i % 256)
                         for i in range(n))
    if r < 0.04:
        # exactly at the entry limit: valid
        return " ".join("10.%d.%d.0/24" % (i // 256, i % 256)
                        for i in range(MAX_ENTRIES))
    if r < 0.045:
        # over the byte limit with only a few entries
        return "203.0.113.0/24" + " " * MAX_BYTES + "198.51.100.7"
    n = rng.choice((1, 1, 1, 2, 2, 3, 4, 5, 8)) if r < 0.95 else \
        rng.randrange(20, 120)
    entries = [valid_entry(rng) for _ in range(n)]
    if rng.random() < 0.2:
        entries.insert(rng.randrange(len(entries) + 1),
                       rng.choice(INVALID_ENTRIES))
    text = ""
    if rng.random() < 0.1:
        text += random_separator(rng)
    for i, e in enumerate(entries):
        if i:
            text += random_separator(rng)
        text += e
    if rng.random() < 0.1:
        text += random_separator(rng)
    return text


SPECIAL_CLIENTS = [
    "10.0.0.1", "10.255.255.255", "172.16.0.1", "172.31.255.255",
    "192.168.1.1", "127.0.0.1", "169.254.1.1", "100.64.0.1",
    "100.127.255.255", "172.0.0.1", "172.15.255.255", "172.32.0.0",
    "11.0.0.1", "9.255.255.255", "192.169.0.1", "169.255.0.1",
    "0.0.0.0", "255.255.255.255", "203.0.113.1", "198.51.100.7",
    "::1", "::", "fe80::1", "febf:ffff::1", "fec0::1", "fc00::1",
    "fdff:ffff::1", "fe00::1", "2001:db8::1", "::2",
    "::ffff:10.0.0.1", "::ffff:192.168.1.1", "::ffff:203.0.113.1",
    "::ffff:100.64.0.1", "::ffff:172.0.0.1", "::10.0.0.1",
    "::127.0.0.1", "::ffff:0:0", "::fffe:10.0.0.1", "64:ff9b::10.0.0.1",
]


def client_text(rng, addr):
    """A spelling of a client address; IPv4 sometimes as ::ffff:a.b.c.d."""
    if addr.version == 4:
        r = rng.random()
        if r < 0.2:
            return "::ffff:%s" % addr
        if r < 0.25:
            return v6_text(rng, ipaddress.IPv6Address((0xffff << 32) |
                                                      int(addr)))
        return str(addr)
    return str(addr) if rng.random() < 0.5 else v6_text(rng, addr)


def clients_for(rng, olist, count):
    nets = olist.networks
    out = []
    for _ in range(count):
        r = rng.random()
        if nets and r < 0.7:
            net = rng.choice(nets)
            last = int(net.broadcast_address)
            first = int(net.network_address)
            maxint = (1 << net.max_prefixlen) - 1
            v = rng.choice((first, last, first - 1, last + 1,
                            rng.randint(first, last)))
            v %= maxint + 1                       # wrap around the ends
            addr = (ipaddress.IPv4Address if net.version == 4 else
                    ipaddress.IPv6Address)(v)
            out.append(client_text(rng, addr))
        elif r < 0.85:
            out.append(rng.choice(SPECIAL_CLIENTS))
        elif r < 0.93:
            out.append(client_text(rng, random_v4(rng)))
        else:
            out.append(client_text(rng, random_v6(rng)))
    return out


# --- running the CLI ----------------------------------------------------

def run_check(cli, list_text, ip):
    p = subprocess.run([cli, "check", "--policy", "/nonexistent",
                        "--nets=" + list_text, "--", ip],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       stdin=subprocess.DEVNULL)
    out = p.stdout.decode(errors="replace")
    word = out.split()[0] if out.split() else ""
    return p.returncode, word, out, p.stderr.decode(errors="replace")


def show(text, limit=300):
    r = repr(text)
    return r if len(r) <= limit else r[:limit] + "...(%d chars)" % len(text)


class Results:
    def __init__(self, seed):
        self.seed = seed
        self.passed = 0
        self.failed = 0
        self.shown = 0
        self.notes = {}

    def ok(self):
        self.passed += 1

    def fail(self, what, list_text, ip, want, got):
        self.failed += 1
        if self.shown < 30:
            self.shown += 1
            print("FAIL (seed %d) %s\n  list: %s\n  ip:   %s\n  want: %s\n"
                  "  got:  %s" % (self.seed, what, show(list_text),
                                   show(ip) if ip is not None else "-",
                                   want, got))

    def note(self, key, example):
        self.notes.setdefault(key, [0, example])
        self.notes[key][0] += 1


def check_validate(cli, lists, res):
    """Every list through one `ipallow validate --json -`."""
    # one list per line: newlines inside a list become spaces (\r too,
    # as the CLI strips a trailing \r as a line ending)
    lines = [t.replace("\n", " ").replace("\r", " ") for t in lists]
    p = subprocess.run([cli, "validate", "--policy", "/nonexistent",
                        "--json", "-"], input="\n".join(lines).encode() +
                       b"\n", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    outs = [json.loads(line) for line in p.stdout.decode().splitlines()
            if line.strip()]
    want_rc = 0 if all(OracleList(t).valid for t in lines) else 1
    if p.returncode != want_rc:
        res.fail("validate - exit code", "(all %d lists)" % len(lines), None,
                 want_rc, "%d %s" % (p.returncode, p.stderr.decode()[:200]))
    else:
        res.ok()
    if len(outs) != len(lines):
        res.fail("validate - line count", "(all lists)", None, len(lines),
                 len(outs))
        return
    for text, out in zip(lines, outs):
        ol = OracleList(text)
        problems = []
        if out["valid"] != ol.valid:
            problems.append("valid %s, want %s" % (out["valid"], ol.valid))
        elif not ol.over_limit:
            bad = [i + 1 for i, e in enumerate(ol.entries) if e.error]
            got_bad = [d["entry"] for d in out["errors"]]
            if out["error_count"] != len(bad) or got_bad != bad[:16]:
                problems.append("errors at entries %s, want %s" %
                                (got_bad, bad[:16]))
            warn = [i + 1 for i, e in enumerate(ol.entries)
                    if e.error is None and e.host_bits]
            got_warn = [d["entry"] for d in out["warnings"]]
            if out["warning_count"] != len(warn) or got_warn != warn[:16]:
                problems.append("host-bits warnings at %s, want %s" %
                                (got_warn, warn[:16]))
            if ol.valid:
                problems += compare_normalised(ol, out["normalized"], res)
        if problems:
            res.fail("validate: " + "; ".join(problems), text, None,
                     "as above", show(out["normalized"], 200))
        else:
            res.ok()


def compare_normalised(ol, normalized, res):
    want = ol.networks
    texts = normalized.split(", ") if normalized else []
    if len(texts) != len(want):
        return ["%d normalised entries, want %d" % (len(texts), len(want))]
    for got_text, net in zip(texts, want):
        try:
            got = ipaddress.ip_network(got_text)
        except ValueError:
            return ["normalised entry %r is not a network" % got_text]
        if got != net:
            return ["normalised %r, want %s" % (got_text, net)]
        if got_text != str(net):
            # glibc's inet_ntop() writes ::a.b.c.d for an address whose
            # first 96 bits are zero; ipaddress writes ::102:304. Same
            # network, another spelling: noted, not a failure.
            if net.version == 6 and int(net.network_address) >> 32 == 0 \
                    and "." in got_text:
                res.note("IPv4-compatible network written in dotted form "
                         "(glibc inet_ntop)", "%s vs %s" % (got_text, net))
            else:
                return ["normalised %r, ipaddress writes %s" %
                        (got_text, net)]
    return []


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("ipallow", nargs="?", default=os.environ.get("IPALLOW"),
                    help="path of the ipallow CLI (or $IPALLOW)")
    ap.add_argument("--seed", type=int,
                    default=int(os.environ.get("IPALLOW_DIFF_SEED",
                                               DEFAULT_SEED)))
    ap.add_argument("--lists", type=int, default=1500,
                    help="lists decided with `ipallow check` (default 1500)")
    ap.add_argument("--ips", type=int, default=3,
                    help="client addresses per list (default 3)")
    ap.add_argument("--validate-lists", type=int, default=4000,
                    help="extra lists for `ipallow validate` (default 4000)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()
    if not args.ipallow:
        ap.error("give the ipallow binary as an argument or in $IPALLOW")
    cli = os.path.abspath(args.ipallow)
    if not os.access(cli, os.X_OK):
        ap.error("%s is not executable" % cli)

    print("seed: %d  (rerun with --seed %d or IPALLOW_DIFF_SEED=%d)" %
          (args.seed, args.seed, args.seed), flush=True)
    start = time.monotonic()
    rng = random.Random(args.seed)
    res = Results(args.seed)

    # the decisions
    cases = []
    lists = []
    for _ in range(args.lists):
        text = random_list(rng)
        ol = OracleList(text)
        lists.append(text)
        for ip in clients_for(rng, ol, args.ips):
            cases.append((text, ol, ip))
    for ip in MALFORMED_CLIENTS:
        cases.append(("203.0.113.0/24", None, ip))
    stats = {}
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        futures = [(c, pool.submit(run_check, cli, c[0], c[2]))
                   for c in cases]
        for (text, ol, ip), fut in futures:
            rc, word, out, err = fut.result()
            if ol is None:
                want = (2, "")
            else:
                want = expect_check(ol, ip)
            stats[want[1] or "malformed IP"] = \
                stats.get(want[1] or "malformed IP", 0) + 1
            if (rc, word) == want:
                res.ok()
            else:
                res.fail("ipallow check", text, ip, "exit %d %s" % want,
                         "exit %d %s%s" % (rc, out.strip()[:200],
                                           (" / " + err.strip()[:200])
                                           if err.strip() else ""))

    # normalisation, over the same lists and more
    for _ in range(args.validate_lists):
        lists.append(random_list(rng))
    check_validate(cli, lists, res)

    elapsed = time.monotonic() - start
    print("checked %d decisions (%s) and %d lists through validate in "
          "%.1f s" % (len(cases), ", ".join("%s %d" % kv for kv in
                                             sorted(stats.items())),
                      len(lists), elapsed))
    for key, (count, example) in sorted(res.notes.items()):
        print("note: %d x %s, e.g. %s" % (count, key, example))
    print("%d passed, %d failed" % (res.passed, res.failed))
    return 1 if res.failed else 0


if __name__ == "__main__":
    sys.exit(main())
