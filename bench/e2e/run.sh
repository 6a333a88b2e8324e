#!/bin/sh
# The end-to-end part of the benchmark: auth requests per second, auth
# process CPU and memory through real Dovecot instances (bench/e2e/e2e.py),
# then the table and the targets (report-e2e.py). Called by bench/run.sh
# with BUILD (a built tree) and DATA (its generated files); runs on its
# own too:
#
#   BUILD=/path/to/build DATA=/tmp/ipallow-bench/data bench/e2e/run.sh
#
# Needs root and Dovecot 2.3. The passdb module must be in Dovecot's auth
# module directory: with E2E_INSTALL=1 (the default) the one built in
# BUILD is copied there first, as tests/integration/run-all.sh does with
# IT_INSTALL_FROM; E2E_INSTALL=0 uses whatever is installed.
#
# Environment: ROUNDS (3), E2E_REQUESTS (100000 per run), E2E_LONG
# (1000000 authentications for the memory-growth run), E2E_SET (the
# named set's prefix file, default $DATA/v4-1M.prefixes).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
BUILD=${BUILD:?BUILD must name a built tree}
DATA=${DATA:-/tmp/ipallow-bench/data}
BENCH_DIR=${BENCH_DIR:-/tmp/ipallow-bench}
ROUNDS=${ROUNDS:-3}
E2E_REQUESTS=${E2E_REQUESTS:-100000}
E2E_LONG=${E2E_LONG:-1000000}
E2E_SET=${E2E_SET:-$DATA/v4-1M.prefixes}
E2E_INSTALL=${E2E_INSTALL:-1}
moduledir=${DOVECOT_AUTH_MODULEDIR:-/usr/lib/dovecot/modules/auth}

log() { printf '== %s\n' "$*" >&2; }

if [ "$(id -u)" != 0 ]; then
	log "end-to-end: must run as root (it starts Dovecot); skipped"
	exit 0
fi
if [ "$E2E_INSTALL" = 1 ]; then
	for m in libauthdb_ipallow lib10_ipallow_guard; do
		built=$BUILD/src/auth/.libs/$m.so
		[ -f "$built" ] || continue
		if ! cmp -s "$built" "$moduledir/$m.so"; then
			log "installing $m.so into $moduledir"
			install -m 0644 "$built" "$moduledir/.$m.so.new"
			mv "$moduledir/.$m.so.new" "$moduledir/$m.so"
		fi
	done
fi
if [ ! -f "$moduledir/libauthdb_ipallow.so" ]; then
	log "end-to-end: $moduledir/libauthdb_ipallow.so missing; skipped"
	exit 0
fi

set_args=
if [ -f "$E2E_SET" ]; then
	# the set's tree size, for the memory target
	echo 192.0.2.1 >"$BENCH_DIR/one-address"
	mem=$("$BUILD/src/cli/ipallow" bench --rounds 1 "$E2E_SET" \
		"$BENCH_DIR/one-address" | sed -n 's/^memory: *\([0-9]*\) bytes.*/\1/p')
	set_args="--set-file $E2E_SET --set-memory ${mem:-0} --long $E2E_LONG"
fi

log "end-to-end: $ROUNDS rounds of $E2E_REQUESTS requests per scenario and mix"
# shellcheck disable=SC2086
python3 "$here/e2e.py" --rounds "$ROUNDS" --requests "$E2E_REQUESTS" \
	$set_args >"$BENCH_DIR/e2e.txt"
echo
python3 "$here/report-e2e.py" "$BENCH_DIR/e2e.txt"
