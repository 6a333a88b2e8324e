#!/bin/sh
# Builds the libFuzzer targets and runs each one for a while.
#
#   fuzz/run.sh [SECONDS]          (default 60 per target)
#
# Environment: FUZZ_BUILD_DIR (default /tmp/ipallow-fuzz), FUZZ_TARGETS
# (default: every fuzz/fuzz-*.c), FUZZ_JOBS (parallel jobs per target,
# default 1).
# The seeds in fuzz/corpus/<target>/ (and the past crashers in
# fuzz/corpus/regress/<target>-*) are read, never written: inputs the
# fuzzer finds go to $FUZZ_BUILD_DIR/corpus/<target>/, crashes to
# $FUZZ_BUILD_DIR/artifacts/. Prints the executions per target (from
# libFuzzer's final stats) and exits 1 if any target crashed, leaked,
# timed out or failed an invariant.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
build=${FUZZ_BUILD_DIR:-/tmp/ipallow-fuzz}
targets=${FUZZ_TARGETS:-$(cd "$top/fuzz" && ls fuzz-*.c |
	sed -e 's/^fuzz-//' -e 's/\.c$//')}
jobs=${FUZZ_JOBS:-1}

case $seconds in
''|*[!0-9]*) echo "usage: fuzz/run.sh [SECONDS]" >&2; exit 2 ;;
esac

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
	# the fast inputs
	radix) echo "-entropic_scale_per_exec_time=1" ;;
	*) echo "" ;;
	esac
}

failed=""
total=0
mkdir -p "$build/artifacts"
for t in $targets; do
	work="$build/corpus/$t"
	log="$build/fuzz-$t.log"
	mkdir -p "$work"
	# past crashers of this target run first, with the seeds
	for f in "$top/fuzz/corpus/regress/$t-"*; do
		[ -f "$f" ] && cp "$f" "$work/"
	done
	rm -f "$build/artifacts/$t-"*
	set +e
	if [ "$jobs" -gt 1 ]; then
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
	else
		printf 'fuzz-%-8s %10s executions in %ss (%s/s), no crashes\n' \
			"$t" "$execs" "$seconds" "$rate"
	fi
done
if [ -n "$failed" ]; then
	echo "fuzz/run.sh: FAILED:$failed"
	exit 1
fi
echo "fuzz/run.sh: $total executions, no crashes"
