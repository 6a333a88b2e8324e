#!/bin/sh
# The README's test command: installs what is needed, builds, and runs
# every test — unit tests (plain and under ASan+UBSan), the differential
# test against Python's ipaddress, a fuzz smoke run — then builds the
# Debian package, installs it, and runs the integration suites against a
# real Dovecot on 127.0.0.1 loading the installed modules, and a subset of
# them again with the auth process loading the ASan build of the modules.
#
# Environment: BUILD_DIR (default ./_build), FUZZ_SECONDS (default 60),
# SKIP_INSTALL_DEPS=1 to skip apt-get.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$top/_build}
fuzz_seconds=${FUZZ_SECONDS:-60}
jobs=$(nproc 2>/dev/null || echo 2)

step() { printf '\n==== %s\n' "$*"; }

if [ "${SKIP_INSTALL_DEPS:-0}" != 1 ]; then
	step "install dependencies"
	"$top/scripts/install-deps.sh"
fi

step "build"
cd "$top"
[ -x configure ] || ./autogen.sh
mkdir -p "$build"
cd "$build"
[ -f Makefile ] || "$top/configure" --with-dovecot=/usr/lib/dovecot
make -j"$jobs"

step "unit tests"
make -j"$jobs" check || { cat tests/unit/test-suite.log 2>/dev/null; exit 1; }

step "unit tests under AddressSanitizer and UBSan"
make check-sanitizers || { cat _build-san/tests/unit/test-suite.log 2>/dev/null; exit 1; }

step "differential test against Python's ipaddress"
python3 "$top/tests/differential/run.py" "$build/src/cli/ipallow"

step "fuzz smoke (${fuzz_seconds}s per target)"
"$top/fuzz/run.sh" "$fuzz_seconds"

step "build the Debian package, lintian it and install it"
# The integration suite runs against the installed package: the modules in
# /usr/lib/dovecot/modules and /usr/lib/dovecot/modules/auth, /usr/bin/ipallow.
"$top/scripts/build-deb.sh"

step "integration tests against a real Dovecot (installed package)"
IPALLOW=/usr/bin/ipallow "$top/tests/integration/run-all.sh"

step "integration scenarios with the auth modules under AddressSanitizer"
# the ASan build of make check-sanitizers, loaded by the auth process
MEMCHECK_BUILD=$build/_build-san IPALLOW=/usr/bin/ipallow \
	"$top/tests/integration/memcheck.sh"

step "all tests passed"
