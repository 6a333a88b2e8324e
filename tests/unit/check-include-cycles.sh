#!/bin/sh
# No include circle between the modules of src/core (issue 11): prints
# the cycles scripts/include-cycles.py finds and fails on any.
exec python3 "${srcdir:-.}/../../scripts/include-cycles.py" \
	"${srcdir:-.}/../../src/core"
