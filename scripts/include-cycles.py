#!/usr/bin/env python3
"""Print the include cycles between the modules of src/core; exit 1 if any.

A module is a file stem: ipallow-addr.c and ipallow-addr.h are the module
ipallow-addr. Module A depends on module B when a file of A includes
"B.h" (quoted includes of files in the same directory; config.h and
system headers are not modules). Each cycle is printed once, as
"a -> b -> a", starting from its smallest name.

Usage: include-cycles.py [DIRECTORY]   (default: src/core next to this
script's directory)
"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.MULTILINE)


def module_graph(directory):
    files = [f for f in os.listdir(directory) if f.endswith(('.c', '.h'))]
    modules = {os.path.splitext(f)[0] for f in files}
    graph = {m: set() for m in modules}
    for f in files:
        with open(os.path.join(directory, f), encoding='utf-8',
                  errors='replace') as fh:
            text = fh.read()
        src = os.path.splitext(f)[0]
        for inc in INCLUDE.findall(text):
            dst = os.path.splitext(os.path.basename(inc))[0]
            if inc.endswith('.h') and dst in modules and dst != src:
                graph[src].add(dst)
    return graph


def cycles(graph):
    """Every elementary cycle, each once, rotated to start at its
    smallest module (the graphs here are tiny: a plain search will do)."""
    found = set()

    def walk(start, node, path, on_path):
        for nxt in sorted(graph[node]):
            if nxt == start:
                found.add(tuple(path))
            elif nxt > start and nxt not in on_path:
                on_path.add(nxt)
                walk(start, nxt, path + [nxt], on_path)
                on_path.discard(nxt)

    for start in sorted(graph):
        walk(start, start, [start], {start})
    return sorted(found)


def main():
    if len(sys.argv) > 2:
        sys.stderr.write(__doc__)
        return 2
    if len(sys.argv) == 2:
        directory = sys.argv[1]
    else:
        here = os.path.dirname(os.path.abspath(__file__))
        directory = os.path.join(here, '..', 'src', 'core')
    found = cycles(module_graph(directory))
    for cycle in found:
        print(' -> '.join(list(cycle) + [cycle[0]]))
    if found:
        print('%d include cycle(s) in %s' % (len(found), directory),
              file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
