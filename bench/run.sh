#!/bin/sh
# The lookup benchmark, side by side with the peers, in one command:
#
#   bench/run.sh
#
# It installs the peers (DPDK's rte_lpm/rte_lpm6, libcorkipset) with
# apt-get when they are missing, configures and builds the project in a
# scratch tree, generates the prefix and address files (deterministic,
# cached between runs), runs our tree and both peers on the same files
# for ROUNDS rounds, interleaved, and prints one table with medians,
# spreads and ratios computed within the run (bench/report.py). Then the
# per-login costs of the core (bench/decide-bench.c) and, when the auth
# module is built and Dovecot is installed, the end-to-end auth benchmark
# (bench/e2e/run.sh).
#
# Environment (all optional):
#   BENCH_DIR   scratch directory          (default: /tmp/ipallow-bench)
#   ROUNDS      rounds of every program    (default: 3)
#   ADDRESSES   addresses per file         (default: 10000000)
#   PEERS       0 to skip the peers        (default: 1)
#   E2E         0 to skip the end-to-end part (default: 1)
#   V4_SIZES, V6_SIZES  comma-separated prefix counts
#               (default: 16,1000,100000,1000000 and 16,1000,100000)
#
# Takes about 35 minutes with the defaults on a 2-core machine, most of it
# DPDK building its 1M-prefix table (3-4 minutes a round) and the
# end-to-end part (about 12 minutes). Nothing
# here is needed to build or run the plugin.
set -eu

SRC=$(cd "$(dirname "$0")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-/tmp/ipallow-bench}
ROUNDS=${ROUNDS:-3}
ADDRESSES=${ADDRESSES:-10000000}
PEERS=${PEERS:-1}
E2E=${E2E:-1}
V4_SIZES=${V4_SIZES:-16,1000,100000,1000000}
V6_SIZES=${V6_SIZES:-16,1000,100000}
BUILD=$BENCH_DIR/build
BIN=$BENCH_DIR/bin
DATA=$BENCH_DIR/data
RESULTS=$BENCH_DIR/results

log() { printf '== %s\n' "$*" >&2; }

install_peers() {
	if pkg-config --exists libdpdk libcorkipset 2>/dev/null &&
	   [ -e /usr/include/libcork/core.h ]; then
		return 0
	fi
	log "installing the peers (libdpdk-dev, libcorkipset-dev)"
	SUDO=
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		pkg-config libdpdk-dev libcorkipset-dev libcork-dev >/dev/null
}

build_project() {
	if [ ! -x "$SRC/configure" ] || [ ! -e "$SRC/build-aux/depcomp" ] ||
	   [ -n "$(find "$SRC" -name Makefile.am -newer "$SRC/configure")" ] ||
	   [ "$SRC/configure.ac" -nt "$SRC/configure" ]; then
		log "autogen"
		(cd "$SRC" && ./autogen.sh >/dev/null 2>&1)
	fi
	mkdir -p "$BUILD"
	if [ ! -f "$BUILD/Makefile" ]; then
		log "configure in $BUILD"
		(cd "$BUILD" && "$SRC/configure" --with-dovecot=/usr/lib/dovecot \
			>configure.log 2>&1) ||
			{ tail -20 "$BUILD/configure.log" >&2; exit 1; }
	fi
	log "make"
	make -C "$BUILD" -j"$(nproc)" >"$BENCH_DIR/make.log" 2>&1 ||
		{ tail -30 "$BENCH_DIR/make.log" >&2; exit 1; }
	targets=ours
	[ "$PEERS" = 0 ] || targets=all
	make -s -C "$SRC/bench" BUILD="$BUILD" OUT="$BIN" $targets >&2
}

size_name() {
	case $1 in
	*000000) echo "${1%000000}M" ;;
	*000) echo "${1%000}k" ;;
	*) echo "$1" ;;
	esac
}

mkdir -p "$BENCH_DIR" "$RESULTS"
[ "$PEERS" = 0 ] || install_peers
build_project

log "generating data in $DATA (cached)"
python3 "$SRC/bench/gen-prefixes.py" all --dir "$DATA" \
	--addresses "$ADDRESSES" --v4 "$V4_SIZES" --v6 "$V6_SIZES"

sets=
for n in $(echo "$V4_SIZES" | tr ',' ' '); do sets="$sets v4-$(size_name "$n")"; done
for n in $(echo "$V6_SIZES" | tr ',' ' '); do sets="$sets v6-$(size_name "$n")"; done

rm -f "$RESULTS"/*.txt
impls=ours
[ "$PEERS" = 0 ] || impls="ours rte_lpm corkipset"
round=1
while [ "$round" -le "$ROUNDS" ]; do
	for set in $sets; do
		for impl in $impls; do
			case $impl in
			ours) prog=$BIN/lookup-bench ;;
			rte_lpm) prog=$BIN/lpm-bench ;;
			corkipset) prog=$BIN/corkipset-bench ;;
			esac
			log "round $round/$ROUNDS: $impl on $set"
			out=$RESULTS/$round-$impl-$set.txt
			if ! "$prog" "$DATA/$set.prefixes" "$DATA/$set.addresses" \
			     >"$out" 2>"$out.err"; then
				log "$impl on $set failed:"
				tail -5 "$out.err" >&2
			fi
		done
	done
	log "round $round/$ROUNDS: decide-bench"
	# the country/ASN case reads test databases (SPEC 9.3)
	if [ ! -f "$DATA/mmdb/country.mmdb" ]; then
		mkdir -p "$DATA/mmdb"
		perl "$SRC/tests/geoip/make-mmdb.pl" "$DATA/mmdb"
	fi
	"$BIN/decide-bench" 7 "$DATA/mmdb" >"$RESULTS/$round-decide.txt"
	round=$((round + 1))
done

python3 "$SRC/bench/report.py" "$RESULTS" | tee "$BENCH_DIR/report.txt"

if [ "$E2E" != 0 ]; then
	if [ -f "$BUILD/src/auth/.libs/libauthdb_ipallow.so" ] &&
	   command -v dovecot >/dev/null 2>&1; then
		ROUNDS=$ROUNDS BENCH_DIR=$BENCH_DIR BUILD=$BUILD DATA=$DATA \
			sh "$SRC/bench/e2e/run.sh" | tee -a "$BENCH_DIR/report.txt"
	else
		log "end-to-end part skipped: no auth module built or no dovecot"
	fi
fi
