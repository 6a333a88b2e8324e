#!/bin/sh
# Builds the libFuzzer targets and runs each one for a while.
#
#   fuzz/run.sh [SECONDS]          (default 60 per target)
#   fuzz/run.sh --fixed            the test command's smoke run
#
# SECONDS explores: each run goes where the clock and the saved corpus
# take it. --fixed is reproducible: a fixed seed (FUZZ_SEED, default
# 20261204), a fixed number of executions per target (runs_for below,
# about 40 s each on this machine class; FUZZ_RUNS overrides it for every
# target), one job, no address randomisation, and a work corpus started
# afresh from the seeds, so
# the same tree runs the same inputs every time and a red run can be
# replayed with the same command.
#
# Environment: FUZZ_BUILD_DIR (default /tmp/ipallow-fuzz), FUZZ_TARGETS
# (default: every fuzz/fuzz-*.c), FUZZ_JOBS (parallel jobs per target,
# default 1; ignored with --fixed).
# The seeds in fuzz/corpus/<target>/ (and the past crashers in
# fuzz/corpus/regress/<target>-*) are read, never written: inputs the
# fuzzer finds go to $FUZZ_BUILD_DIR/corpus/<target>/, crashes to
# $FUZZ_BUILD_DIR/artifacts/. Prints the executions per target (from
# libFuzzer's final stats) and exits 1 if any target crashed, leaked,
# timed out or failed an invariant.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
fixed=0
if [ "${1:-}" = --fixed ]; then
	fixed=1
	seconds=0
	seed=${FUZZ_SEED:-20261204}
else
	seconds=${1:-60}
fi
build=${FUZZ_BUILD_DIR:-/tmp/ipallow-fuzz}
targets=${FUZZ_TARGETS:-$(cd "$top/fuzz" && ls fuzz-*.c |
	sed -e 's/^fuzz-//' -e 's/\.c$//')}
jobs=${FUZZ_JOBS:-1}
[ $fixed = 1 ] && jobs=1

case $seconds in
''|*[!0-9]*) echo "usage: fuzz/run.sh [SECONDS | --fixed]" >&2; exit 2 ;;
esac

# --fixed: executions per target, about 40 s each under ASan+UBSan on
# 2 cores (measured rates: decide 4.5k/s, list 8k/s, mmdb 13k/s, policy
# 19k/s, radix 0.6k/s, setfile 31k/s)
runs_for() {
	if [ -n "${FUZZ_RUNS:-}" ]; then
		echo "$FUZZ_RUNS"
		return
	fi
	case $1 in
	decide) echo 180000 ;;
	list) echo 320000 ;;
	mmdb) echo 500000 ;;
	policy) echo 750000 ;;
	radix) echo 24000 ;;
	setfile) echo 1200000 ;;
	*) echo 100000 ;;
	esac
}

"$top/fuzz/build.sh" "$build"

# Per-target options: dictionaries, and a length cap for the list
# parser (the limits are tested with tighter limits inside the target,
# so huge inputs would only slow it down).
opts_for() {
	case $1 in
	list) echo "-dict=$top/fuzz/list.dict -max_len=4096" ;;
	setfile|decide) echo "-dict=$top/fuzz/list.dict" ;;
	policy) echo "-dict=$top/fuzz/policy.dict" ;;
	# a table past 4096 prefixes takes milliseconds to build: favour
	# the fast inputs (not with --fixed: it schedules by the clock)
	radix) [ $fixed = 1 ] || echo "-entropic_scale_per_exec_time=1" ;;
	*) echo "" ;;
	esac
}

failed=""
total=0
mkdir -p "$build/artifacts"
for t in $targets; do
	work="$build/corpus/$t"
	log="$build/fuzz-$t.log"
	[ $fixed = 1 ] && rm -rf "$work"
	mkdir -p "$work"
	# past crashers of this target run first, with the seeds
	for f in "$top/fuzz/corpus/regress/$t-"*; do
		[ -f "$f" ] && cp "$f" "$work/"
	done
	rm -f "$build/artifacts/$t-"*
	set +e
	if [ $fixed = 1 ]; then
		# setarch -R: without address randomisation (which moves
		# heap addresses, and so what ASan and hashing do) the run is
		# the same from one time to the next; -reload=0: no rereading
		# of the work corpus on a timer
		setarch "$(uname -m)" -R \
		"$build/fuzz-$t" -runs="$(runs_for "$t")" -seed="$seed" -reload=0 \
			-print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
			-artifact_prefix="$build/artifacts/$t-" $(opts_for "$t") \
			"$work" "$top/fuzz/corpus/$t" >"$log" 2>&1
		rc=$?
	elif [ "$jobs" -gt 1 ]; then
		# -jobs runs workers writing fuzz-<n>.log in the current dir
		(cd "$build" && "$build/fuzz-$t" -max_total_time="$seconds" \
			-jobs="$jobs" -workers="$jobs" -print_final_stats=1 \
			-timeout=10 -rss_limit_mb=2048 \
			-artifact_prefix="$build/artifacts/$t-" $(opts_for "$t") \
			"$work" "$top/fuzz/corpus/$t" >"$log" 2>&1)
		rc=$?
		cat "$build"/fuzz-[0-9]*.log >>"$log" 2>/dev/null
		rm -f "$build"/fuzz-[0-9]*.log
	else
		"$build/fuzz-$t" -max_total_time="$seconds" -print_final_stats=1 \
			-timeout=10 -rss_limit_mb=2048 \
			-artifact_prefix="$build/artifacts/$t-" $(opts_for "$t") \
			"$work" "$top/fuzz/corpus/$t" >"$log" 2>&1
		rc=$?
	fi
	set -e
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" |
		awk '{ n += $1 } END { print n + 0 }')
	rate=$(awk -v n="$execs" -v s="$seconds" \
		'BEGIN { printf "%d", (s > 0 ? n / s : 0) }')
	total=$((total + execs))
	if [ $rc -ne 0 ] || ls "$build/artifacts/$t-"* >/dev/null 2>&1; then
		printf 'fuzz-%-8s FAILED after %s executions (exit %s); log: %s\n' \
			"$t" "$execs" "$rc" "$log"
		grep -E '^(==[0-9]+==ERROR|SUMMARY|fuzz: )' "$log" | head -n 10 || true
		ls "$build/artifacts/$t-"* 2>/dev/null || true
		failed="$failed $t"
	elif [ $fixed = 1 ]; then
		printf 'fuzz-%-8s %10s executions (seed %s), no crashes\n' \
			"$t" "$execs" "$seed"
	else
		printf 'fuzz-%-8s %10s executions in %ss (%s/s), no crashes\n' \
			"$t" "$execs" "$seconds" "$rate"
	fi
done
if [ -n "$failed" ]; then
	echo "fuzz/run.sh: FAILED:$failed"
	[ $fixed = 1 ] && echo "replay: FUZZ_SEED=$seed fuzz/run.sh --fixed (FUZZ_TARGETS=\"$failed\")"
	exit 1
fi
echo "fuzz/run.sh: $total executions, no crashes"
