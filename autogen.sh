#!/bin/sh
# Regenerates configure and the Makefile.in files.
set -e
cd "$(dirname "$0")"
exec autoreconf -fi
