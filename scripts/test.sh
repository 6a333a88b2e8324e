#!/bin/sh
# The README's test command: installs what is needed, builds, and runs
# every test — php -l on the Roundcube plugin, unit tests (plain and under
# ASan+UBSan), the differential test against Python's ipaddress, a fuzz
# smoke run — then builds the Debian package, installs it, and runs the
# integration suites (t-roundcube.py: Roundcube with the plugin in headless
# Chromium) against a real Dovecot on 127.0.0.1 loading the installed
# modules, and a subset of them again with the auth process loading the
# ASan build of the modules.
# Then the same for Dovecot 2.4: in a Debian 13 root made with debootstrap
# (scripts/debian13-root.sh), it builds, lintians and installs the Debian
# 13 package and runs the integration suite against Dovecot 2.4.1 there.
#
# Environment: BUILD_DIR (default ./_build), FUZZ_SECONDS (unset: the
# reproducible fuzz smoke run, fuzz/run.sh --fixed; set: explore that long),
# SKIP_INSTALL_DEPS=1 to skip apt-get, DOVECOT_VERSIONS (default "2.3 2.4")
# to test against one of the two only.
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

step "PHP syntax of the Roundcube plugin (php -l)"
find "$top/contrib" -type f \( -name '*.php' -o -name '*.inc' -o -name '*.php.dist' \) |
	sort | while read -r f; do
		php -l "$f" || exit 1
	done

step "unit tests"
make -j"$jobs" check || { cat tests/unit/test-suite.log 2>/dev/null; exit 1; }

step "unit tests under AddressSanitizer and UBSan"
make check-sanitizers || { cat _build-san/tests/unit/test-suite.log 2>/dev/null; exit 1; }

step "differential test against Python's ipaddress"
python3 "$top/tests/differential/run.py" "$build/src/cli/ipallow"

if [ -n "${FUZZ_SECONDS:-}" ]; then
	step "fuzz exploration (${fuzz_seconds}s per target)"
	"$top/fuzz/run.sh" "$fuzz_seconds"
else
	# fixed seed and run count: the same tree runs the same inputs, so
	# the test command cannot go red by chance (exploration is
	# fuzz/run.sh SECONDS, run apart from CI)
	step "fuzz smoke (fixed seed and executions per target)"
	"$top/fuzz/run.sh" --fixed
fi

step "build the Debian package, lintian it and install it"
# The integration suite runs against the installed package: the modules in
# /usr/lib/dovecot/modules and /usr/lib/dovecot/modules/auth, /usr/bin/ipallow.
"$top/scripts/build-deb.sh"

versions=${DOVECOT_VERSIONS:-2.3 2.4}

case " $versions " in *" 2.3 "*)
	step "integration tests against Dovecot 2.3 (installed package)"
	IPALLOW=/usr/bin/ipallow "$top/tests/integration/run-all.sh"

	step "integration scenarios with the auth modules under AddressSanitizer"
	# the ASan build of make check-sanitizers, loaded by the auth process
	MEMCHECK_BUILD=$build/_build-san IPALLOW=/usr/bin/ipallow \
		"$top/tests/integration/memcheck.sh"
	;;
esac

case " $versions " in *" 2.4 "*)
	root24="$top/scripts/debian13-root.sh"
	step "Dovecot 2.4: Debian 13 root"
	"$root24" ensure

	step "Dovecot 2.4: build, lintian and install the Debian 13 package"
	# build-deb.sh inside the root (the tree is mounted at /src); the
	# package lands next to the Debian 12 one, in .../debian13/
	"$root24" run env DEB_OUT_DIR=/tmp/dovecot-ipallow-deb \
		/src/scripts/build-deb.sh
	mkdir -p /tmp/dovecot-ipallow-deb/debian13
	cp "$("$root24" path)"/tmp/dovecot-ipallow-deb/*.deb \
		/tmp/dovecot-ipallow-deb/debian13/

	step "integration tests against Dovecot 2.4 (installed Debian 13 package)"
	"$root24" run env IPALLOW=/usr/bin/ipallow \
		/src/tests/integration/run-all.sh
	;;
esac

step "all tests passed"
