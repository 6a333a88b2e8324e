#!/usr/bin/env python3
"""Turns bench/run.sh's result files into the table of doc/performance.md.

Every number is a median over the rounds of this run; "spread" is the
lowest and highest round. A ratio is taken per round, between programs
that ran one after the other on the same files, and its median reported,
so load that comes and goes on a shared machine hits both sides of it.
Then the issue's targets, each marked met or missed.

  report.py RESULTS-DIR
"""

import glob
import os
import re
import statistics
import sys

IMPLS = ("ours", "rte_lpm", "corkipset")


def load(path):
    values = {}
    with open(path) as fp:
        for line in fp:
            key, sep, value = line.strip().partition("=")
            if sep:
                values[key] = value
    return values


def num(d, key):
    try:
        return float(d[key])
    except (KeyError, ValueError):
        return None


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def spread(values):
    values = [v for v in values if v is not None]
    return (min(values), max(values)) if values else (None, None)


def fmt_rate(v):
    return "-" if v is None else "%.1f" % (v / 1e6)


def fmt_bytes(v):
    if v is None:
        return "-"
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if v >= size:
            return "%.1f %s" % (v / size, unit)
    return "%d B" % v


def fmt_time(v):
    if v is None:
        return "-"
    if v >= 1:
        return "%.2f s" % v
    if v >= 1e-3:
        return "%.2f ms" % (v * 1e3)
    return "%.0f us" % (v * 1e6)


def fmt_ratio(v):
    return "-" if v is None else ("%.2fx" % v if v < 10 else "%.0fx" % v)


def set_key(name):
    fam, size = name.split("-")
    mult = {"k": 1e3, "M": 1e6}.get(size[-1], 1)
    return (fam, float(size.rstrip("kM")) * mult)


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    rdir = sys.argv[1]
    runs = {}   # (set, impl) -> {round: dict}
    for path in glob.glob(os.path.join(rdir, "*-*-*.txt")):
        m = re.match(r"(\d+)-(ours|rte_lpm|corkipset)-(v[46]-\w+)\.txt$",
                     os.path.basename(path))
        if not m:
            continue
        d = load(path)
        if "independent" not in d:
            continue
        runs.setdefault((m.group(3), m.group(2)), {})[int(m.group(1))] = d
    sets = sorted({s for s, _ in runs}, key=set_key)
    rounds = sorted({r for v in runs.values() for r in v})

    print("Lookup: million lookups/s per CPU-second of the benchmark thread,"
          " median of %d rounds [lowest-highest]" % len(rounds))
    print()
    print("| set | impl | prefixes | build | memory | independent M/s"
          " | dependent M/s | hits checked |")
    print("|---|---|---|---|---|---|---|---|")
    checks_ok = True
    for s in sets:
        ref_hits = None
        for impl in IMPLS:
            rr = runs.get((s, impl))
            if not rr:
                continue
            name = impl
            if impl == "rte_lpm" and s.startswith("v6"):
                name = "rte_lpm6"
            ind = [num(d, "independent") for d in rr.values()]
            dep = [num(d, "dependent") for d in rr.values()]
            lo_i, hi_i = spread(ind)
            lo_d, hi_d = spread(dep)
            hits = {d.get("check_hits") for d in rr.values()}
            if ref_hits is None:
                ref_hits = hits
            same = "same" if hits == ref_hits and len(hits) == 1 else \
                "DIFFERENT %s" % sorted(hits)
            if not same == "same":
                checks_ok = False
            print("| %s | %s | %s | %s | %s | %s [%s-%s] | %s [%s-%s] | %s |" % (
                s, name, next(iter(rr.values())).get("prefixes", "-"),
                fmt_time(med(num(d, "build_s") for d in rr.values())),
                fmt_bytes(med(num(d, "memory_bytes") for d in rr.values())),
                fmt_rate(med(ind)), fmt_rate(lo_i), fmt_rate(hi_i),
                fmt_rate(med(dep)), fmt_rate(lo_d), fmt_rate(hi_d),
                same))
    print()
    print("Ratios (median of per-round ratios; > 1 is better for ours"
          " in every column)")
    print()
    print("| set | indep vs LPM | dep vs LPM | LPM memory / ours"
          " | LPM build / ours | indep vs cork | dep vs cork |")
    print("|---|---|---|---|---|---|---|")
    ratios = {}
    for s in sets:
        ours = runs.get((s, "ours"), {})
        row = [s]
        for peer in ("rte_lpm", "corkipset"):
            other = runs.get((s, peer), {})
            common = [r for r in rounds if r in ours and r in other]

            def per_round(key, invert=False):
                vals = []
                for r in common:
                    a, b = num(ours[r], key), num(other[r], key)
                    if a and b:
                        vals.append(b / a if invert else a / b)
                return med(vals)
            ind = per_round("independent")
            dep = per_round("dependent")
            ratios[(s, peer)] = {"ind": ind, "dep": dep}
            if peer == "rte_lpm":
                mem = per_round("memory_bytes", invert=True)
                build = per_round("build_s", invert=True)
                ratios[(s, peer)].update(mem=mem, build=build)
                row += [fmt_ratio(ind), fmt_ratio(dep), fmt_ratio(mem),
                        fmt_ratio(build)]
            else:
                row += [fmt_ratio(ind), fmt_ratio(dep)]
        print("| " + " | ".join(row) + " |")

    dec = [load(p) for p in sorted(glob.glob(os.path.join(rdir,
                                                          "*-decide.txt")))]
    cached = med(num(d, "decide_cached_ns") for d in dec)
    compile_us = med(num(d, "compile_us") for d in dec)
    miss_us = med(num(d, "decide_miss_us") for d in dec)
    country_ns = med(num(d, "decide_country_ns") for d in dec
                     if "decide_country_ns" in d)
    extra_ns = med(num(d, "country_extra_ns") for d in dec
                   if "country_extra_ns" in d)
    if dec:
        print()
        print("Per login, core only (bench/decide-bench.c), median of %d"
              " rounds [lowest-highest]:" % len(dec))
        print()
        for key, unit, v in (("decide_cached_ns", "ns", cached),
                             ("compile_us", "us", compile_us),
                             ("decide_miss_us", "us", miss_us),
                             ("decide_country_ns", "ns", country_ns),
                             ("country_extra_ns", "ns", extra_ns)):
            if v is None:
                continue
            lo, hi = spread(num(d, key) for d in dec if key in d)
            print("- %s: %.2f %s [%.2f-%.2f]" % (key, v, unit, lo, hi))

    print()
    print("Targets:")
    targets = []

    def target(desc, value, limit, higher=True, unit="x"):
        if value is None:
            targets.append(("n/a", desc, "not measured"))
            return
        ok = value >= limit if higher else value <= limit
        targets.append(("met" if ok else "MISSED", desc,
                        "%.2f%s (target %s %g%s)" % (
                            value, unit, ">=" if higher else "<=", limit,
                            unit)))
    r = ratios.get(("v4-1M", "rte_lpm"), {})
    target("IPv4 1M independent vs rte_lpm", r.get("ind"), 0.5)
    target("IPv4 1M dependent vs rte_lpm", r.get("dep"), 1.0)
    mem = r.get("mem")
    target("IPv4 1M memory, share of rte_lpm's",
           None if mem is None else 100.0 / mem, 25, higher=False, unit="%")
    target("IPv4 1M build speed vs rte_lpm", r.get("build"), 50)
    r = ratios.get(("v6-100k", "rte_lpm"), {})
    target("IPv6 100k independent vs rte_lpm6", r.get("ind"), 1.0)
    target("IPv6 100k dependent vs rte_lpm6", r.get("dep"), 1.0)
    mem = r.get("mem")
    target("IPv6 100k memory, share of rte_lpm6's",
           None if mem is None else 100.0 / mem, 10, higher=False, unit="%")
    for s in sets:
        r = ratios.get((s, "corkipset"), {})
        target("%s independent vs corkipset" % s, r.get("ind"), 10)
        target("%s dependent vs corkipset" % s, r.get("dep"), 10)
    target("cached 10-entry decision", cached, 200, higher=False, unit=" ns")
    target("10-entry list compile", compile_us, 5, higher=False, unit=" us")
    target("country and ASN entries over a prefix-only list (test "
           "databases)", extra_ns, 1000, higher=False, unit=" ns")
    for status, desc, text in targets:
        print("- [%s] %s: %s" % (status, desc, text))
    if not checks_ok:
        print("\nWARNING: the implementations disagree on hits (see table)")


if __name__ == "__main__":
    main()
