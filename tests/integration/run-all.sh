#!/bin/sh
# Runs every integration scenario (tests/integration/t-*.py and t-*.sh)
# against real Dovecot instances started on 127.0.0.1 from generated
# configurations in temporary directories. Needs root (Dovecot's master
# process, mail processes as nobody) and the modules installed in
# Dovecot's module directories: `make install`, or run with
# IT_INSTALL_FROM=<build dir> to copy libauthdb_ipallow.so and
# lib10_ipallow_guard.so from a build tree into
# /usr/lib/dovecot/modules/auth first.
#
# Each scenario prints one line per check and ends with "N passed, N
# failed"; this script adds them up and ends with the same line for the
# whole suite. Exit status 0 only if nothing failed.
#
# Environment: IT_ONLY=<pattern> runs matching scenarios only,
# IT_KEEP=1 keeps the temporary directories, IT_VERBOSE=1 says where.
set -u

here=$(cd "$(dirname "$0")" && pwd)
auth_moduledir=${DOVECOT_AUTH_MODULEDIR:-/usr/lib/dovecot/modules/auth}
module=$auth_moduledir/libauthdb_ipallow.so

if [ "$(id -u)" != 0 ]; then
	echo "run-all.sh: must run as root (it starts Dovecot)" >&2
	echo "0 passed, 1 failed"
	exit 1
fi

if [ -n "${IT_INSTALL_FROM:-}" ]; then
	for m in libauthdb_ipallow lib10_ipallow_guard; do
		built=$IT_INSTALL_FROM/src/auth/.libs/$m.so
		if [ ! -f "$built" ]; then
			echo "run-all.sh: $built not found" >&2
			echo "0 passed, 1 failed"
			exit 1
		fi
		# copy, then rename: a starting auth process never sees
		# half a file
		install -m 0644 "$built" "$auth_moduledir/.$m.so.new" &&
			mv "$auth_moduledir/.$m.so.new" "$auth_moduledir/$m.so" ||
			exit 1
	done
fi
# The session-time scenarios (t-session-*.py) load the mail plugin from the
# build tree through mail_plugin_dir instead of a copy, and use its CLI.
if [ -n "${IT_INSTALL_FROM:-}" ]; then
	: "${IPALLOW_MAIL_PLUGIN_DIR:=$IT_INSTALL_FROM/src/mail/.libs}"
	: "${IPALLOW:=$IT_INSTALL_FROM/src/cli/ipallow}"
	export IPALLOW_MAIL_PLUGIN_DIR IPALLOW
fi
for m in "$module" "$auth_moduledir/lib10_ipallow_guard.so"; do
	if [ ! -f "$m" ]; then
		echo "run-all.sh: $m is not installed (make install)" >&2
		echo "0 passed, 1 failed"
		exit 1
	fi
done

passed=0
failed=0
failed_scenarios=
out=$(mktemp)
trap 'rm -f "$out"' EXIT INT TERM

for t in "$here"/t-*.py "$here"/t-*.sh; do
	[ -f "$t" ] || continue
	name=$(basename "$t")
	case "$name" in
	*${IT_ONLY:-}*) ;;
	*) continue ;;
	esac
	echo "==== $name"
	case "$t" in
	*.py) set -- python3 "$t" ;;
	*) set -- sh "$t" ;;
	esac
	# 5 minutes is far more than any scenario needs
	timeout 300 "$@" >"$out" 2>&1
	status=$?
	cat "$out"
	summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" | tail -n 1)
	if [ -n "$summary" ]; then
		p=${summary%% passed*}
		f=${summary#*passed, }
		f=${f%% failed}
	else
		p=0
		f=0
	fi
	if [ "$status" != 0 ] && [ "$f" = 0 ]; then
		# crashed or timed out before counting a failure
		echo "$name: exit status $status"
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	[ "$f" = 0 ] || failed_scenarios="$failed_scenarios $name"
done

echo "===="
[ -z "$failed_scenarios" ] || echo "failed scenarios:$failed_scenarios"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
