#!/usr/bin/env python3
"""Deterministic generators for the lookup benchmark's input files.

Prefix files hold one CIDR per line (the set-file format of SPEC section 5);
address files one address per line. Everything derives from a seed, so two
runs with the same arguments write the same bytes.

  gen-prefixes.py prefixes  --family 4|6 --count N [--seed S]
  gen-prefixes.py addresses --family 4|6 --prefixes FILE --count N
                            [--hits 0.5] [--seed S]
  gen-prefixes.py all --dir DIR [--addresses N] [--v4 16,1000,...]
                      [--v6 16,1000,...]

Shape of the data (why it is not uniform):
- IPv4 prefixes follow the length mix of a full BGP table: about 60% /24,
  then /22, /23, /21, /20, /19, /16, /18, /17, a few /8-/15 and some
  /25-/32 (more-specifics that operators do put into allow lists). They are
  carved out of "allocations" (provider blocks of /12-/20) that are picked
  with a skew, so dense and empty regions alternate as in real address
  space; private, loopback, multicast and reserved space is avoided.
- IPv6 prefixes are mostly /48, then /32, /40, /44, /56, /64, /29, /36,
  carved out of RIR-like blocks under 2000::/3 (2001::/16, 2400::/12,
  2600::/12, 2800::/12, 2a00::/12, 2c00::/12).
- Addresses: a fraction --hits is a random host inside a random prefix of
  the file (picked uniformly per prefix, which favours long prefixes, the
  deepest lookups); the rest is random public unicast space, mostly misses.
  The order is random, so consecutive lookups touch unrelated memory.
"""

import argparse
import bisect
import ipaddress
import multiprocessing
import os
import random
import socket
import struct
import sys

V4_LENGTHS = [
    (24, 600), (22, 110), (23, 95), (21, 45), (20, 40), (19, 25),
    (16, 13), (18, 16), (17, 11),
    (8, 0.016), (9, 0.013), (10, 0.04), (11, 0.1), (12, 0.3), (13, 0.6),
    (14, 1.1), (15, 2),
    (25, 4), (26, 4), (27, 4), (28, 4), (29, 3), (30, 2), (31, 1), (32, 5),
]
V4_BLOCK_LENGTHS = [(12, 2), (13, 3), (14, 6), (15, 8), (16, 25), (17, 12),
                    (18, 14), (19, 14), (20, 16)]
# IPv4 /8s that never appear in the global table (this, private, loopback,
# multicast and reserved).
V4_BAD_SLASH8 = {0, 10, 127} | set(range(224, 256))
V4_BAD_NETS = [(0xAC100000, 12), (0xC0A80000, 16), (0xA9FE0000, 16),
               (0x64400000, 10), (0xC0000200, 24), (0xC6336400, 24),
               (0xCB007100, 24)]

V6_LENGTHS = [(48, 450), (32, 150), (40, 70), (44, 80), (56, 50), (64, 40),
              (29, 40), (36, 30), (33, 10), (46, 10), (47, 10), (28, 10),
              (24, 5), (60, 15), (128, 15)]
V6_RIR = [(0x2001, 16), (0x240, 12), (0x260, 12), (0x280, 12), (0x2a0, 12),
          (0x2c0, 12)]
V6_BLOCK_LENGTHS = [(20, 1), (24, 3), (26, 3), (28, 8), (29, 20), (32, 65)]


def weighted(rng, table):
    total = sum(w for _, w in table)
    cum, acc = [], 0
    for value, w in table:
        acc += w
        cum.append((acc, value))

    def pick():
        x = rng.random() * total
        for c, value in cum:
            if x < c:
                return value
        return cum[-1][1]
    return pick


def v4_bad(net, length):
    if (net >> 24) in V4_BAD_SLASH8:
        return True
    for bnet, blen in V4_BAD_NETS:
        short = min(length, blen)
        mask = (0xFFFFFFFF << (32 - short)) & 0xFFFFFFFF
        if net & mask == bnet & mask:
            return True
    return False


def v4_str(a, _ntoa=socket.inet_ntoa, _pack=struct.Struct(">I").pack):
    return _ntoa(_pack(a))


_V6_FMT = ":".join(["%x"] * 8)


def v6_str(a, _unpack=struct.Struct(">8H").unpack):
    return _V6_FMT % _unpack(a.to_bytes(16, "big"))


def gen_blocks(rng, count, bits, pick_len, random_base):
    """Allocation blocks: (network, length), sorted by popularity."""
    blocks = set()
    while len(blocks) < count:
        length = pick_len()
        net = random_base() & (((1 << bits) - 1) << (bits - length)
                               & ((1 << bits) - 1))
        if bits == 32 and v4_bad(net, length):
            continue
        blocks.add((net, length))
    blocks = sorted(blocks)
    rng.shuffle(blocks)
    return blocks


def gen_prefixes(family, count, seed):
    rng = random.Random("prefixes-%d-%d-%d" % (family, count, seed))
    bits = 32 if family == 4 else 128
    if family == 4:
        pick_len = weighted(rng, V4_LENGTHS)
        blocks = gen_blocks(rng, max(4, count // 40), 32,
                            weighted(rng, V4_BLOCK_LENGTHS),
                            lambda: rng.getrandbits(32))
    else:
        pick_len = weighted(rng, V6_LENGTHS)
        rirs = weighted(rng, [(r, w) for r, w in
                              zip(V6_RIR, [3, 5, 4, 1, 5, 1])])

        def v6_base():
            rnet, rlen = rirs()
            return (rnet << (128 - rlen)) | rng.getrandbits(128 - rlen)
        blocks = gen_blocks(rng, max(4, count // 30), 128,
                            weighted(rng, V6_BLOCK_LENGTHS), v6_base)
    full = (1 << bits) - 1
    # A block's share of the prefixes grows with its size and with a
    # log-normal popularity: a few providers announce most of the table.
    cum, acc = [], 0.0
    for _, blen in blocks:
        acc += 2.0 ** (32 - blen) * rng.lognormvariate(0, 1.0)
        cum.append(acc)
    out = set()
    while len(out) < count:
        bnet, blen = blocks[bisect.bisect_left(cum, rng.random() * acc)]
        length = pick_len()
        if length <= blen:
            net = bnet & (full << (bits - length)) & full
        else:
            net = bnet | (rng.getrandbits(length - blen) << (bits - length))
        if family == 4 and v4_bad(net, length):
            continue
        out.add((net, length))
    out = sorted(out)
    rng.shuffle(out)
    fmt = v4_str if family == 4 else v6_str
    return ["%s/%d" % (fmt(net), length) for net, length in out]


def read_prefixes(path):
    result = []
    with open(path) as fp:
        for line in fp:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            addr, length = line.split("/")
            length = int(length)
            if ":" in addr:
                net = int(ipaddress.IPv6Address(addr))
            else:
                o = [int(x) for x in addr.split(".")]
                net = (o[0] << 24) | (o[1] << 16) | (o[2] << 8) | o[3]
            result.append((net, length))
    return result


def gen_addresses(family, prefixes, count, hits, seed, out):
    rng = random.Random("addresses-%d-%d-%d" % (family, count, seed))
    bits = 32 if family == 4 else 128
    fmt = v4_str if family == 4 else v6_str
    getrandbits, rnd = rng.getrandbits, rng.random
    npfx = len(prefixes)
    # Unusable /16s (the /24 documentation nets are left in: rare misses).
    bad16 = bytearray(v4_bad(i << 16, 16) for i in range(65536)) \
        if family == 4 else None
    chunk = []
    for _ in range(count):
        if rnd() < hits:
            net, length = prefixes[int(rnd() * npfx)]
            host = bits - length
            a = net | (getrandbits(host) if host else 0)
        elif family == 4:
            a = getrandbits(32)
            while bad16[a >> 16]:
                a = getrandbits(32)
        else:
            a = (1 << 125) | getrandbits(125)	# 2000::/3
        chunk.append(fmt(a))
        if len(chunk) >= 65536:
            out.write("\n".join(chunk))
            out.write("\n")
            chunk = []
    if chunk:
        out.write("\n".join(chunk))
        out.write("\n")


def write_atomic(path, writer):
    tmp = path + ".tmp"
    with open(tmp, "w") as fp:
        writer(fp)
    os.rename(tmp, path)


def size_name(n):
    if n >= 1000000 and n % 1000000 == 0:
        return "%dM" % (n // 1000000)
    if n >= 1000 and n % 1000 == 0:
        return "%dk" % (n // 1000)
    return str(n)


def gen_one(job):
    family, n, args = job
    base = os.path.join(args.dir, "v%d-%s" % (family, size_name(n)))
    stamp = "seed=%d addresses=%d hits=%g\n" % (args.seed, args.addresses,
                                                args.hits)
    try:
        with open(base + ".stamp") as fp:
            if fp.read() == stamp:
                return "%s: up to date" % base
    except OSError:
        pass
    pfx = gen_prefixes(family, n, args.seed)
    write_atomic(base + ".prefixes",
                 lambda fp: fp.write("\n".join(pfx) + "\n"))
    parsed = read_prefixes(base + ".prefixes")
    write_atomic(base + ".addresses",
                 lambda fp: gen_addresses(family, parsed, args.addresses,
                                          args.hits, args.seed, fp))
    with open(base + ".stamp", "w") as fp:
        fp.write(stamp)
    return "%s: generated" % base


def cmd_all(args):
    os.makedirs(args.dir, exist_ok=True)
    jobs = [(4, int(n), args) for n in args.v4.split(",") if n] + \
           [(6, int(n), args) for n in args.v6.split(",") if n]
    # Biggest first, on every core: ten million addresses take a while.
    jobs.sort(key=lambda j: -j[1])
    with multiprocessing.Pool(min(len(jobs), os.cpu_count() or 1)) as pool:
        for message in pool.imap_unordered(gen_one, jobs):
            print(message, file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prefixes")
    p.add_argument("--family", type=int, choices=(4, 6), required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--seed", type=int, default=1)
    a = sub.add_parser("addresses")
    a.add_argument("--family", type=int, choices=(4, 6), required=True)
    a.add_argument("--prefixes", required=True)
    a.add_argument("--count", type=int, required=True)
    a.add_argument("--hits", type=float, default=0.5)
    a.add_argument("--seed", type=int, default=1)
    al = sub.add_parser("all")
    al.add_argument("--dir", required=True)
    al.add_argument("--addresses", type=int, default=10000000)
    al.add_argument("--hits", type=float, default=0.5)
    al.add_argument("--seed", type=int, default=1)
    al.add_argument("--v4", default="16,1000,100000,1000000")
    al.add_argument("--v6", default="16,1000,100000")
    args = ap.parse_args()
    if args.cmd == "prefixes":
        sys.stdout.write("\n".join(gen_prefixes(args.family, args.count,
                                                args.seed)) + "\n")
    elif args.cmd == "addresses":
        gen_addresses(args.family, read_prefixes(args.prefixes), args.count,
                      args.hits, args.seed, sys.stdout)
    else:
        cmd_all(args)


if __name__ == "__main__":
    main()
