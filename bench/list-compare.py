#!/usr/bin/env python3
"""Runs two builds of bench/list-bench.c, interleaved, and prints one
table with same-run ratios (issue 13).

    bench/list-compare.py BEFORE AFTER [--pairs N] [--rounds R]
                          [--users U] [--sizes 1,10,100,1000]

BEFORE and AFTER are list-bench programs built from the same source
against two versions of the core. Each pair runs BEFORE then AFTER (the
order alternates from pair to pair, so drift in the machine's load hits
both); every key is the median over the pairs of each program's own
median over its rounds. Ratios are before/after for times (above 1:
after is faster)."""
import argparse
import statistics
import subprocess
import sys


def run(prog, args):
    out = subprocess.run([prog] + args, check=True, capture_output=True,
                         text=True).stdout
    vals = {}
    for line in out.splitlines():
        key, _, value = line.partition("=")
        try:
            vals[key] = float(value)
        except ValueError:
            pass
    return vals


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("before")
    ap.add_argument("after")
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--users", type=int, default=10000)
    ap.add_argument("--sizes", default="1,10,100,1000")
    a = ap.parse_args()
    args = [str(a.rounds), str(a.users), a.sizes]
    res = {"before": [], "after": []}
    for i in range(a.pairs):
        order = ["before", "after"] if i % 2 == 0 else ["after", "before"]
        for which in order:
            res[which].append(run(getattr(a, which), args))
            print(f"# pair {i + 1}/{a.pairs}: {which} done", file=sys.stderr,
                  flush=True)

    def med(which, key):
        vals = [r[key] for r in res[which] if key in r]
        return statistics.median(vals) if vals else None

    print(f"{a.pairs} interleaved pairs, {a.rounds} rounds each, "
          f"{a.users} distinct lists per size and family, random order")
    print()
    print("| family | entries | metric | before | after | before/after |")
    print("|---|---|---|---|---|---|")
    for fam in ("v4", "v6"):
        for n in a.sizes.split(","):
            for metric, unit in (("compile_us", "µs"), ("cold_us", "µs"),
                                 ("decide_us", "µs"),
                                 ("lookup_ns", "ns")):
                key = f"{fam}_n{n}_{metric}"
                b, f = med("before", key), med("after", key)
                if b is None or f is None:
                    continue
                name = {"cold": "decide, cache cold",
                        "decide": "decide, cache warm"}.get(
                            metric.rsplit("_", 1)[0], metric.rsplit("_", 1)[0])
                print(f"| {fam} | {n} | {name} ({unit}) | {b:.3f} | {f:.3f} "
                      f"| {b / f:.2f}x |")
            key = f"{fam}_n{n}_cache_hit_rate"
            b, f = med("before", key), med("after", key)
            if b is not None and f is not None:
                print(f"| {fam} | {n} | cache hit rate | {b:.3f} | {f:.3f} "
                      f"| |")


if __name__ == "__main__":
    main()
