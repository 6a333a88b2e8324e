#!/bin/sh
# The ipallow command-line tool (SPEC §7): exact output lines and exit
# codes of check, validate (with --json and '-' on stdin) and
# policy-check, and a smoke test of bench.
#
# IPALLOW is the binary to test (make check sets it); by default the one
# in the build tree next to this test.

IPALLOW=${IPALLOW:-../../src/cli/ipallow}
if [ ! -x "$IPALLOW" ]; then
	echo "check-cli: $IPALLOW not built" >&2
	exit 99		# hard error for automake's driver
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ipallow-cli.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

pass=0
fail=0
stdin=/dev/null

# t NAME WANT_RC WANT_STDOUT WANT_STDERR COMMAND [ARGS...]
# Runs COMMAND with standard input from $stdin and compares its exit
# code and its whole standard output and error ("" means none).
t() {
	name=$1 want_rc=$2 want_out=$3 want_err=$4
	shift 4
	"$@" <"$stdin" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ -n "$want_out" ]; then
		printf '%s\n' "$want_out" >"$tmp/want_out"
	else
		: >"$tmp/want_out"
	fi
	if [ -n "$want_err" ]; then
		printf '%s\n' "$want_err" >"$tmp/want_err"
	else
		: >"$tmp/want_err"
	fi
	ok=yes
	if [ "$rc" != "$want_rc" ]; then
		echo "FAIL $name: exit code $rc, want $want_rc"
		ok=no
	fi
	if ! cmp -s "$tmp/out" "$tmp/want_out"; then
		echo "FAIL $name: standard output differs (-want +got):"
		diff "$tmp/want_out" "$tmp/out" | sed 's/^/    /'
		ok=no
	fi
	if ! cmp -s "$tmp/err" "$tmp/want_err"; then
		echo "FAIL $name: standard error differs (-want +got):"
		diff "$tmp/want_err" "$tmp/err" | sed 's/^/    /'
		ok=no
	fi
	if [ $ok = yes ]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "    command: $*" | cut -c 1-300
	fi
}

# Policies. A path that does not exist gives the defaults, as in the
# plugin; every test names its policy so /etc is never read.
nopol=$tmp/no-such-policy.yaml
cat >"$tmp/report.yaml" <<EOF
mode: report
EOF
cat >"$tmp/skip.yaml" <<EOF
on_invalid: skip
EOF
cat >"$tmp/unknown-deny.yaml" <<EOF
unknown_ip: deny
EOF
cat >"$tmp/field.yaml" <<EOF
field: nets_allowed
EOF
cat >"$tmp/sets.yaml" <<EOF
# a policy with sets
mode: enforce
limits: { entries: 3 }
exempt:
  services: [caldav]
sets:
  office: [203.0.113.0/24, "2001:db8:100::/48"]
  partners: { file: partners.nets }
EOF
cat >"$tmp/partners.nets" <<EOF
# partner networks
192.0.2.128/25   # partner A

2001:db8:200::/48
EOF
cat >"$tmp/bad.yaml" <<EOF
mode: enforce
foo: 1
EOF
cat >"$tmp/badset.yaml" <<EOF
sets:
  partners: { file: bad.nets }
EOF
printf '192.0.2.0/24\n  10/8 # short\n' >"$tmp/bad.nets"

usage_check='usage:
  ipallow check [--policy FILE] [--service S] [--nets LIST] [--user U] [--mode M] [--field NAME=VALUE]... [--password-change-required] [--peer IP] IP'
usage_validate='usage:
  ipallow validate [--policy FILE] [--json] LIST|-'
usage_policy='usage:
  ipallow policy-check FILE'
usage_all='usage:
  ipallow check [--policy FILE] [--service S] [--nets LIST] [--user U] [--mode M] [--field NAME=VALUE]... [--password-change-required] [--peer IP] IP
  ipallow validate [--policy FILE] [--json] LIST|-
  ipallow policy-check FILE
  ipallow lookup [--policy FILE] IP
  ipallow bench [--rounds N] PREFIX-FILE ADDRESS-FILE
  ipallow bench [--rounds N] [--policy FILE] --lists FILE'
short='IPv4 shorthand is not allowed'

# --- ipallow check ---

nets='203.0.113.0/24, 2001:db8:42::/48'
t check-allow-v4 0 'allow (in allow_nets)' '' \
	"$IPALLOW" check --policy "$nopol" --nets "$nets" 203.0.113.9
t check-allow-v6 0 'allow (in allow_nets)' '' \
	"$IPALLOW" check --policy "$nopol" --nets "$nets" 2001:db8:42::1
t check-allow-mapped 0 'allow (in allow_nets)' '' \
	"$IPALLOW" check --policy "$nopol" --nets "$nets" ::ffff:203.0.113.9
t check-deny 1 'deny (not in allow_nets)' '' \
	"$IPALLOW" check --policy "$nopol" --nets "$nets" 198.51.100.7
t check-deny-v6 1 'deny (not in allow_nets)' '' \
	"$IPALLOW" check --policy "$nopol" --nets "$nets" 2001:db8:43::1
t check-deny-compat 1 'deny (not in allow_nets)' '' \
	"$IPALLOW" check --policy "$nopol" --nets "$nets" ::203.0.113.9
t check-deny-v6-all-v4 1 'deny (not in allow_nets)' '' \
	"$IPALLOW" check --policy "$nopol" --nets ::/0 198.51.100.7
t check-option-order 1 'deny (not in allow_nets)' '' \
	"$IPALLOW" check 198.51.100.7 --nets "$nets" --policy="$nopol" -s imap
t check-invalid 1 "deny (invalid allow_nets)
  error: entry 2 \"10/8\": $short
  error: entry 3 \"x\": host names are not allowed, only IP addresses" '' \
	"$IPALLOW" check --policy "$nopol" --nets "203.0.113.0/24 10/8 x" \
	203.0.113.9
t check-no-list 0 'unrestricted (no allow_nets)' '' \
	"$IPALLOW" check --policy "$nopol" 198.51.100.7
t check-empty-list 0 'unrestricted (no allow_nets)' '' \
	"$IPALLOW" check --policy "$nopol" --nets '' 198.51.100.7
t check-blank-list 0 'unrestricted (no allow_nets)' '' \
	"$IPALLOW" check --policy "$nopol" --nets ' , ' 198.51.100.7
t check-exempt-network 0 'exempt (exempt network)' '' \
	"$IPALLOW" check --policy "$nopol" --nets "$nets 10/8" 10.0.0.1
t check-exempt-mapped 0 'exempt (exempt network)' '' \
	"$IPALLOW" check --policy "$nopol" --nets "$nets" ::ffff:192.168.1.1
t check-cgnat 1 'deny (not in allow_nets)' '' \
	"$IPALLOW" check --policy "$nopol" --nets "$nets" 100.64.1.1
t check-172-32 1 'deny (not in allow_nets)' '' \
	"$IPALLOW" check --policy "$nopol" --nets "$nets" 172.32.0.1
t check-exempt-service 0 'exempt (exempt service)' '' \
	"$IPALLOW" check --policy "$nopol" --service caldav --nets "10/8" \
	198.51.100.7
t check-unknown-ip 0 'exempt (client IP unknown)' '' \
	"$IPALLOW" check --policy "$nopol" --nets "$nets" unknown
t check-unknown-ip-deny 1 'deny (client IP unknown)' '' \
	"$IPALLOW" check --policy "$tmp/unknown-deny.yaml" --nets "$nets" unknown
t check-report 0 'report (not in allow_nets)' '' \
	"$IPALLOW" check --policy "$tmp/report.yaml" --nets "$nets" 198.51.100.7
t check-report-invalid 0 "report (invalid allow_nets)
  error: entry 1 \"10/8\": $short" '' \
	"$IPALLOW" check --policy "$tmp/report.yaml" --nets "10/8" 198.51.100.7
t check-skip-allow 0 "allow (in allow_nets)
  error: entry 3 \"10/8\": $short" '' \
	"$IPALLOW" check --policy "$tmp/skip.yaml" --nets "$nets 10/8" 203.0.113.9
t check-skip-nothing-left 1 "deny (invalid allow_nets)
  error: entry 1 \"10/8\": $short" '' \
	"$IPALLOW" check --policy "$tmp/skip.yaml" --nets "10/8" 203.0.113.9
t check-field 1 'deny (not in nets_allowed)' '' \
	"$IPALLOW" check --policy "$tmp/field.yaml" --nets "$nets" 198.51.100.7
t check-set 0 'allow (in allow_nets)' '' \
	"$IPALLOW" check --policy "$tmp/sets.yaml" --nets "@office" 203.0.113.9
t check-set-file 0 'allow (in allow_nets)' '' \
	"$IPALLOW" check --policy "$tmp/sets.yaml" --nets "@partners" 192.0.2.200
t check-set-policy-service 0 'exempt (exempt service)' '' \
	"$IPALLOW" check --policy "$tmp/sets.yaml" --service CalDAV \
	--nets "@office" 198.51.100.7
t check-set-policy-no-dav 1 'deny (not in allow_nets)' '' \
	"$IPALLOW" check --policy "$tmp/sets.yaml" --service carddav \
	--nets "@office" 198.51.100.7
t check-over-limit 1 "deny (invalid allow_nets)
  error: entry 4 \"4.4.4.4\": list has more than 3 entries (limits.entries)" '' \
	"$IPALLOW" check --policy "$tmp/sets.yaml" \
	--nets "1.1.1.1 2.2.2.2 3.3.3.3 4.4.4.4" 1.1.1.1
many=''
i=0
while [ $i -lt 20 ]; do many="$many x"; i=$((i + 1)); done
t check-many-errors 1 "deny (invalid allow_nets)
$(i=1; while [ $i -le 16 ]; do
	echo "  error: entry $i \"x\": host names are not allowed, only IP addresses"
	i=$((i + 1)); done)
  error: ... 20 errors in all" '' \
	"$IPALLOW" check --policy "$nopol" --nets "$many" 198.51.100.7
# usage errors, bad addresses, bad policies: 2
t check-bad-ip 2 '' \
	'ipallow: invalid IP address "300.1.1.1": IPv4 octet out of range (0 to 255)' \
	"$IPALLOW" check --policy "$nopol" --nets "$nets" 300.1.1.1
t check-ip-prefix 2 '' \
	'ipallow: invalid IP address "1.2.3.4/32": a client address has no prefix length' \
	"$IPALLOW" check --policy "$nopol" --nets "$nets" 1.2.3.4/32
t check-ip-zone 2 '' \
	'ipallow: invalid IP address "fe80::1%eth0": IPv6 zone index is not allowed' \
	"$IPALLOW" check --policy "$nopol" --nets "$nets" 'fe80::1%eth0'
t check-ip-escaped 2 '' \
	'ipallow: invalid IP address "1.2.3.4\x0a": invalid character in IPv4 address' \
	"$IPALLOW" check --policy "$nopol" --nets "$nets" '1.2.3.4
'
t check-no-ip 2 '' "$usage_check" \
	"$IPALLOW" check --policy "$nopol" --nets "$nets"
t check-two-ips 2 '' "$usage_check" \
	"$IPALLOW" check --policy "$nopol" 1.2.3.4 5.6.7.8
t check-bad-policy 2 '' \
	"ipallow: policy not loaded: $tmp/bad.yaml:2:1: unknown key 'foo' in the policy" \
	"$IPALLOW" check --policy "$tmp/bad.yaml" --nets "$nets" 203.0.113.9
t check-bad-set-file 2 '' \
	"ipallow: policy not loaded: $tmp/badset.yaml:2:21: set 'partners': $tmp/bad.nets:2:3: \"10/8\": $short" \
	"$IPALLOW" check --policy "$tmp/badset.yaml" --nets "$nets" 203.0.113.9
# an unknown option: getopt's own message, then the usage
"$IPALLOW" check --bogus 1.2.3.4 >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc = 2 ] && [ ! -s "$tmp/out" ] &&
   [ "$(tail -n 2 "$tmp/err")" = "$usage_check" ]; then
	pass=$((pass + 1))
else
	echo "FAIL check-bogus-option: exit code $rc"; cat "$tmp/err"
	fail=$((fail + 1))
fi

# --- ipallow validate ---

t validate-valid 0 '203.0.113.0/24, 2001:db8:42::/48' '' \
	"$IPALLOW" validate --policy "$nopol" "$nets"
t validate-normalised 0 '198.51.100.7/32, 2001:db8::1/128, 198.51.100.0/24, ::1.2.3.4/128' '' \
	"$IPALLOW" validate --policy "$nopol" \
	"198.51.100.7	2001:DB8:0:0::1,,::ffff:198.51.100.0/120 ::1.2.3.4"
t validate-host-bits 0 '198.51.100.0/24
warning: entry 1, column 1: "198.51.100.7/24": host bits are set; this means 198.51.100.0/24' '' \
	"$IPALLOW" validate --policy "$nopol" "198.51.100.7/24"
t validate-invalid 1 "error: entry 2, column 17: \"10/8\": $short
error: entry 3, column 23: \"010.0.0.1\": IPv4 octet with a leading zero is not allowed
warning: entry 1, column 1: \"198.51.100.7/24\": host bits are set; this means 198.51.100.0/24" '' \
	"$IPALLOW" validate --policy "$nopol" "198.51.100.7/24 10/8, 010.0.0.1"
t validate-empty 0 '(empty: no restriction)' '' \
	"$IPALLOW" validate --policy "$nopol" ''
t validate-blank 0 '(empty: no restriction)' '' \
	"$IPALLOW" validate --policy "$nopol" ' ,	, '
t validate-unknown-set 1 "error: entry 1, column 1: \"@office\": unknown set (not defined in the policy's sets)" '' \
	"$IPALLOW" validate --policy "$nopol" '@office'
t validate-sets 0 '@office, @partners, 10.0.0.0/8' '' \
	"$IPALLOW" validate --policy "$tmp/sets.yaml" '@office @partners 10.0.0.0/8'
t validate-limit 1 'error: entry 4, column 25: "4.4.4.4": list has more than 3 entries (limits.entries)' '' \
	"$IPALLOW" validate --policy "$tmp/sets.yaml" '1.1.1.1 2.2.2.2 3.3.3.3 4.4.4.4'
t validate-escaped 1 'error: entry 1, column 1: "\x221.2.3.4\x22": invalid character in IPv4 address
error: entry 2, column 11: "a\x5cb": host names are not allowed, only IP addresses' '' \
	"$IPALLOW" validate --policy "$nopol" '"1.2.3.4" a\b'
t validate-many-errors 1 "$(i=1; while [ $i -le 16 ]; do
	echo "error: entry $i, column $((2 * i)): \"x\": host names are not allowed, only IP addresses"
	i=$((i + 1)); done)
error: ... 20 in all" '' \
	"$IPALLOW" validate --policy "$nopol" "$many"
t validate-json 1 '{"valid":false,"entries":3,"bytes":25,"normalized":"198.51.100.0/24","error_count":2,"warning_count":1,"worker_limit_exceeded":false,"errors":[{"entry":2,"column":17,"text":"10/8","message":"IPv4 shorthand is not allowed"},{"entry":3,"column":23,"text":"a\\x22b","message":"host names are not allowed, only IP addresses"}],"warnings":[{"entry":1,"column":1,"text":"198.51.100.7/24","message":"host bits are set; this means 198.51.100.0/24"}]}' '' \
	"$IPALLOW" validate --policy "$nopol" --json '198.51.100.7/24 10/8, a"b'
t validate-json-valid 0 '{"valid":true,"entries":2,"bytes":32,"normalized":"203.0.113.0/24, 2001:db8:42::/48","error_count":0,"warning_count":0,"worker_limit_exceeded":false,"errors":[],"warnings":[]}' '' \
	"$IPALLOW" validate --policy "$nopol" --json "$nets"
t validate-json-empty 0 '{"valid":true,"entries":0,"bytes":0,"normalized":"","error_count":0,"warning_count":0,"worker_limit_exceeded":false,"errors":[],"warnings":[]}' '' \
	"$IPALLOW" validate --policy "$nopol" -j ''

# past Dovecot's 8 KiB auth worker reply: valid, with a warning
long=$(i=0; while [ $i -lt 900 ]; do
	printf '10.0.%d.%d ' $((i / 256)) $((i % 256)); i=$((i + 1)); done)
long_norm=$(i=0; while [ $i -lt 900 ]; do
	[ $i -gt 0 ] && printf ', '
	printf '10.0.%d.%d/32' $((i / 256)) $((i % 256)); i=$((i + 1)); done)
t validate-worker-limit 0 "$long_norm
warning: the list is 9460 bytes; Dovecot's auth workers (SQL and other blocking passdbs) cap a reply at 8 KiB, so it would not reach the plugin there: put long lists in a named set" '' \
	"$IPALLOW" validate --policy "$nopol" "$long"
"$IPALLOW" validate --policy "$nopol" --json "$long" >"$tmp/out" 2>&1
rc=$?
if [ $rc = 0 ] && grep -q '"bytes":9460,' "$tmp/out" &&
   grep -q '"worker_limit_exceeded":true' "$tmp/out"; then
	pass=$((pass + 1))
else
	echo "FAIL validate-json-worker-limit: exit code $rc"
	fail=$((fail + 1))
fi
# past 1024 entries: invalid
long=$(i=0; while [ $i -lt 1025 ]; do
	printf '10.0.%d.%d ' $((i / 256)) $((i % 256)); i=$((i + 1)); done)
t validate-entry-limit 1 'error: entry 1025, column 10825: "10.0.4.0": list has more than 1024 entries (limits.entries)
warning: the list is 10833 bytes; Dovecot'"'"'s auth workers (SQL and other blocking passdbs) cap a reply at 8 KiB, so it would not reach the plugin there: put long lists in a named set' '' \
	"$IPALLOW" validate --policy "$nopol" "$long"

# '-': one list per line on standard input
printf '203.0.113.0/24\n10/8\n\n198.51.100.7/24\r\nx\000y\n2001:db8::1 , 10.1\nlast' \
	>"$tmp/lists"
stdin=$tmp/lists
t validate-stdin 1 "line 1: 203.0.113.0/24
line 2: error: entry 1, column 1: \"10/8\": $short
line 3: (empty: no restriction)
line 4: 198.51.100.0/24
line 4: warning: entry 1, column 1: \"198.51.100.7/24\": host bits are set; this means 198.51.100.0/24
line 5: error: NUL byte in the line
line 6: error: entry 2, column 15: \"10.1\": $short
line 7: error: entry 1, column 1: \"last\": host names are not allowed, only IP addresses" '' \
	"$IPALLOW" validate --policy "$nopol" -
t validate-stdin-json 1 '{"line":1,"valid":true,"entries":1,"bytes":14,"normalized":"203.0.113.0/24","error_count":0,"warning_count":0,"worker_limit_exceeded":false,"errors":[],"warnings":[]}
{"line":2,"valid":false,"entries":1,"bytes":4,"normalized":"","error_count":1,"warning_count":0,"worker_limit_exceeded":false,"errors":[{"entry":1,"column":1,"text":"10/8","message":"IPv4 shorthand is not allowed"}],"warnings":[]}
{"line":3,"valid":true,"entries":0,"bytes":0,"normalized":"","error_count":0,"warning_count":0,"worker_limit_exceeded":false,"errors":[],"warnings":[]}
{"line":4,"valid":true,"entries":1,"bytes":15,"normalized":"198.51.100.0/24","error_count":0,"warning_count":1,"worker_limit_exceeded":false,"errors":[],"warnings":[{"entry":1,"column":1,"text":"198.51.100.7/24","message":"host bits are set; this means 198.51.100.0/24"}]}
{"line":5,"valid":false,"entries":0,"bytes":3,"normalized":"","error_count":1,"warning_count":0,"worker_limit_exceeded":false,"errors":[{"entry":0,"column":0,"text":"","message":"NUL byte in the line"}],"warnings":[]}
{"line":6,"valid":false,"entries":2,"bytes":18,"normalized":"2001:db8::1/128","error_count":1,"warning_count":0,"worker_limit_exceeded":false,"errors":[{"entry":2,"column":15,"text":"10.1","message":"IPv4 shorthand is not allowed"}],"warnings":[]}
{"line":7,"valid":false,"entries":1,"bytes":4,"normalized":"","error_count":1,"warning_count":0,"worker_limit_exceeded":false,"errors":[{"entry":1,"column":1,"text":"last","message":"host names are not allowed, only IP addresses"}],"warnings":[]}' '' \
	"$IPALLOW" validate --policy "$nopol" --json -
printf '203.0.113.0/24\n@office\n\n' >"$tmp/lists"
t validate-stdin-valid 0 'line 1: 203.0.113.0/24
line 2: @office
line 3: (empty: no restriction)' '' \
	"$IPALLOW" validate --policy "$tmp/sets.yaml" -
: >"$tmp/lists"
t validate-stdin-empty 0 '' '' "$IPALLOW" validate --policy "$nopol" -
stdin=/dev/null

t validate-no-arg 2 '' "$usage_validate" "$IPALLOW" validate --policy "$nopol"
t validate-two-args 2 '' "$usage_validate" \
	"$IPALLOW" validate --policy "$nopol" 1.2.3.4 5.6.7.8
t validate-bad-policy 2 '' \
	"ipallow: policy not loaded: $tmp/bad.yaml:2:1: unknown key 'foo' in the policy" \
	"$IPALLOW" validate --policy "$tmp/bad.yaml" 1.2.3.4

# --- ipallow policy-check ---

t policy-check-ok 0 "$tmp/sets.yaml: OK: field allow_nets, mode enforce, unknown_ip exempt, on_invalid deny, 1 exempt services, 2 sets with 4 prefixes" '' \
	"$IPALLOW" policy-check "$tmp/sets.yaml"
t policy-check-report 0 "$tmp/report.yaml: OK: field allow_nets, mode report, unknown_ip exempt, on_invalid deny, 9 exempt services, 0 sets with 0 prefixes" '' \
	"$IPALLOW" policy-check "$tmp/report.yaml"
: >"$tmp/empty.yaml"
t policy-check-empty 0 "$tmp/empty.yaml: OK: field allow_nets, mode enforce, unknown_ip exempt, on_invalid deny, 9 exempt services, 0 sets with 0 prefixes" '' \
	"$IPALLOW" policy-check "$tmp/empty.yaml"
t policy-check-bad 1 '' "$tmp/bad.yaml:2:1: unknown key 'foo' in the policy" \
	"$IPALLOW" policy-check "$tmp/bad.yaml"
t policy-check-bad-set-file 1 '' \
	"$tmp/badset.yaml:2:21: set 'partners': $tmp/bad.nets:2:3: \"10/8\": $short" \
	"$IPALLOW" policy-check "$tmp/badset.yaml"
printf 'exempt:\n  networks: [private, office]\n' >"$tmp/group.yaml"
t policy-check-bad-group 1 '' \
	"$tmp/group.yaml:2:23: exempt.networks: unknown group \"office\" (groups are private, loopback, link-local)" \
	"$IPALLOW" policy-check "$tmp/group.yaml"
printf 'mode: enforce\nfield: a\000b\n' >"$tmp/nul.yaml"
t policy-check-nul 1 '' "$tmp/nul.yaml:2:9: file contains a NUL byte" \
	"$IPALLOW" policy-check "$tmp/nul.yaml"
t policy-check-missing 1 '' "$tmp/missing.yaml: No such file or directory" \
	"$IPALLOW" policy-check "$tmp/missing.yaml"
t policy-check-directory 1 '' "$tmp: not a regular file" \
	"$IPALLOW" policy-check "$tmp"
t policy-check-no-arg 2 '' "$usage_policy" "$IPALLOW" policy-check
t policy-check-option 2 '' "$usage_policy" "$IPALLOW" policy-check --help
t policy-check-two-args 2 '' "$usage_policy" \
	"$IPALLOW" policy-check "$tmp/report.yaml" "$tmp/report.yaml"

# --- countries, ASNs, domains, per-service lists, report per mailbox
# (SPEC 9.3, 9.4), against databases built here from documentation
# ranges (tests/geoip/make-mmdb.pl) ---

make_mmdb="${srcdir:-$(dirname "$0")}/../geoip/make-mmdb.pl"
if ! perl "$make_mmdb" "$tmp" >"$tmp/err" 2>&1; then
	echo "FAIL make-mmdb: could not build the test databases"
	cat "$tmp/err"
	fail=$((fail + 1))
fi
# the files as libmaxminddb's own tool reads them (Debian: mmdb-bin),
# independently of our lookup code
mmdb() {
	name=$1 file=$2 ip=$3 want=$4
	shift 4
	got=$(mmdblookup --file "$tmp/$file" --ip "$ip" "$@" 2>&1 |
		sed -n 's/^ *\([^ ].*\)$/\1/p' | head -n 1)
	if [ "$got" = "$want" ]; then
		pass=$((pass + 1))
	else
		echo "FAIL $name: mmdblookup $file $ip $*: got '$got', want '$want'"
		fail=$((fail + 1))
	fi
}
mmdb mmdb-country-de country.mmdb 192.0.2.7 '"DE" <utf8_string>' country iso_code
mmdb mmdb-country-us-v6 country.mmdb 2001:db8:5::1 '"US" <utf8_string>' country iso_code
mmdb mmdb-country-mapped country.mmdb ::ffff:192.0.2.7 '"DE" <utf8_string>' country iso_code
mmdb mmdb-country-none country.mmdb 203.0.113.9 \
	'Could not find an entry for this IP address (203.0.113.9)' country iso_code
mmdb mmdb-asn asn.mmdb 203.0.113.9 '64496 <uint32>' autonomous_system_number
mmdb mmdb-dbip dbip-country.mmdb 198.51.100.7 '"US" <utf8_string>' country iso_code
mmdb mmdb-dbip-only-iso dbip-country.mmdb 198.51.100.7 \
	'Got an error looking up the entry data - The lookup path does not match the data (key that doesn'"'"'t exist, array index bigger than the array, expected array or map where none exists)' \
	country names en
cat >"$tmp/geo.yaml" <<EOF
geoip:
  country_db: country.mmdb
  asn_db: asn.mmdb
sets:
  office: [203.0.113.0/25, "country:at"]
domains:
  example.com: "@office, country:DE"
  "*": "country:US, asn:64496"
EOF
printf 'geoip: { country_db: dbip-country.mmdb }\n' >"$tmp/dbip.yaml"
printf 'geoip: { country_db: missing.mmdb }\n' >"$tmp/geo-missing.yaml"
printf 'geoip:\n  asn_db: corrupt.mmdb\n' >"$tmp/geo-corrupt.yaml"
printf 'sets:\n  eu: [192.0.2.0/24, "asn:64500"]\n' >"$tmp/geo-nodb.yaml"
printf 'geoip: { country_db: country.mmdb }\ndomains:\n  example.com: "country:DE, asn:1"\n' \
	>"$tmp/geo-domain-asn.yaml"
geo="$tmp/geo.yaml"

t lookup-de 0 'country=DE asn=64500' '' "$IPALLOW" lookup --policy "$geo" 192.0.2.7
t lookup-us-v6 0 'country=US asn=-' '' "$IPALLOW" lookup --policy "$geo" 2001:db8:5::1
t lookup-mapped 0 'country=DE asn=64500' '' "$IPALLOW" lookup --policy "$geo" ::ffff:192.0.2.7
t lookup-6to4 0 'country=DE asn=64500' '' "$IPALLOW" lookup --policy "$geo" 2002:c000:207::1
t lookup-no-country 0 'country=- asn=64496' '' "$IPALLOW" lookup --policy "$geo" 203.0.113.200
t lookup-unknown 0 'country=- asn=-' '' "$IPALLOW" lookup --policy "$geo" 100.64.0.1
t lookup-dbip 0 'country=DE asn=-' '' "$IPALLOW" lookup --policy "$tmp/dbip.yaml" 2001:db8:de::9
t lookup-no-db 0 'country=- asn=-' \
	'ipallow: the policy names no database (geoip.country_db, geoip.asn_db)' \
	"$IPALLOW" lookup --policy "$nopol" 192.0.2.7
t lookup-usage 2 '' 'usage:
  ipallow lookup [--policy FILE] IP' "$IPALLOW" lookup
t lookup-missing-db 2 '' "ipallow: policy not loaded: $tmp/geo-missing.yaml:1:22: geoip.country_db: $tmp/missing.mmdb: No such file or directory" \
	"$IPALLOW" lookup --policy "$tmp/geo-missing.yaml" 192.0.2.7
t policy-corrupt-db 1 '' "$tmp/geo-corrupt.yaml:2:11: geoip.asn_db: $tmp/corrupt.mmdb: The MaxMind DB file contains invalid metadata" \
	"$IPALLOW" policy-check "$tmp/geo-corrupt.yaml"
t policy-set-without-db 1 '' "$tmp/geo-nodb.yaml:2:22: set 'eu': \"asn:64500\": asn entries need an ASN database (geoip.asn_db in the policy)" \
	"$IPALLOW" policy-check "$tmp/geo-nodb.yaml"
t policy-domain-without-db 1 '' "$tmp/geo-domain-asn.yaml:3:16: domains.example.com: entry 2 \"asn:1\": asn entries need an ASN database (geoip.asn_db in the policy)" \
	"$IPALLOW" policy-check "$tmp/geo-domain-asn.yaml"

t policy-geo-ok 0 "$geo: OK: field allow_nets, mode enforce, unknown_ip exempt, on_invalid deny, 9 exempt services, 1 sets with 1 prefixes, 2 domain defaults, country database $tmp/country.mmdb, ASN database $tmp/asn.mmdb" '' \
	"$IPALLOW" policy-check "$geo"
printf '# EU\n192.0.2.0/25\ncountry:at  # Austria\nasn:64496\n' >"$tmp/eu.nets"
printf 'geoip: { country_db: country.mmdb, asn_db: asn.mmdb }\nsets:\n  eu: { file: eu.nets }\n' >"$tmp/geo-file.yaml"
printf 'geoip: { country_db: country.mmdb }\nsets:\n  eu: { file: eu.nets }\n' >"$tmp/geo-file-noasn.yaml"
t check-setfile-prefix 0 'allow (in allow_nets)' '' \
	"$IPALLOW" check --policy "$tmp/geo-file.yaml" --nets @eu 192.0.2.9
t check-setfile-asn 0 'allow (in allow_nets)' '' \
	"$IPALLOW" check --policy "$tmp/geo-file.yaml" --nets @eu 203.0.113.9
t check-setfile-deny 1 'deny (not in allow_nets)' '' \
	"$IPALLOW" check --policy "$tmp/geo-file.yaml" --nets @eu 198.51.100.9
t policy-setfile-noasn 1 '' "$tmp/geo-file-noasn.yaml:3:15: set 'eu': $tmp/eu.nets:4:1: \"asn:64496\": asn entries need an ASN database (geoip.asn_db in the policy)" \
	"$IPALLOW" policy-check "$tmp/geo-file-noasn.yaml"

t validate-geo 0 'country:DE, asn:64496, country:AT, 192.0.2.0/24' '' \
	"$IPALLOW" validate --policy "$geo" 'country:de asn:64496,country:At 192.0.2.0/24'
t validate-geo-bad 1 'error: entry 1, column 1: "Country:DE": write country: and asn: in lower case
error: entry 2, column 12: "country:DEU": a country is two letters (ISO 3166-1 alpha-2, e.g. country:DE)
error: entry 3, column 24: "country:D1": a country is two letters (ISO 3166-1 alpha-2, e.g. country:DE)
error: entry 4, column 35: "asn:0": AS number 0 is reserved; AS numbers are 1 to 4294967295
error: entry 5, column 41: "asn:012": an AS number has no leading zeros
error: entry 6, column 49: "asn:AS1": write the AS number without "AS" (asn:64496, not asn:AS64496)
error: entry 7, column 57: "asn:4294967296": AS numbers are 1 to 4294967295
error: entry 8, column 72: "asn:": an AS number is decimal digits (e.g. asn:64496)
error: entry 9, column 77: "asn:+1": an AS number is decimal digits (e.g. asn:64496)' '' \
	"$IPALLOW" validate --policy "$geo" 'Country:DE country:DEU country:D1 asn:0 asn:012 asn:AS1 asn:4294967296 asn: asn:+1'
t validate-geo-max 0 'asn:4294967295, asn:1' '' \
	"$IPALLOW" validate --policy "$geo" 'asn:4294967295 asn:1'
t validate-geo-nodb 1 'error: entry 1, column 1: "country:DE": country entries need a country database (geoip.country_db in the policy)
error: entry 2, column 12: "asn:64496": asn entries need an ASN database (geoip.asn_db in the policy)' '' \
	"$IPALLOW" validate --policy "$nopol" 'country:DE asn:64496'

t check-country-allow 0 'allow (in allow_nets)' '' \
	"$IPALLOW" check --policy "$geo" --nets 'country:DE' 192.0.2.7
t check-country-deny 1 'deny (not in allow_nets)' '' \
	"$IPALLOW" check --policy "$geo" --nets 'country:DE' 198.51.100.7
t check-country-unknown 1 'deny (not in allow_nets)' '' \
	"$IPALLOW" check --policy "$geo" --nets 'country:DE, country:US' 203.0.113.9
t check-country-mapped 0 'allow (in allow_nets)' '' \
	"$IPALLOW" check --policy "$geo" --nets 'country:DE' ::ffff:192.0.2.7
t check-country-v6 0 'allow (in allow_nets)' '' \
	"$IPALLOW" check --policy "$geo" --nets 'country:DE' 2001:db8:de::1
t check-asn-allow 0 'allow (in allow_nets)' '' \
	"$IPALLOW" check --policy "$geo" --nets 'asn:64496' 203.0.113.9
t check-asn-deny 1 'deny (not in allow_nets)' '' \
	"$IPALLOW" check --policy "$geo" --nets 'asn:64496' 192.0.2.7
t check-set-country 0 'allow (in allow_nets)' '' \
	"$IPALLOW" check --policy "$geo" --nets '@office' 203.0.113.9
t check-geo-nodb 1 'deny (invalid allow_nets)
  error: entry 1 "country:DE": country entries need a country database (geoip.country_db in the policy)' '' \
	"$IPALLOW" check --policy "$nopol" --nets 'country:DE' 192.0.2.7

# the list: allow_nets_<service>, then allow_nets, domains.<domain>, "*"
t check-domain 0 'allow (in domains.example.com)' '' \
	"$IPALLOW" check --policy "$geo" --user alice@example.com 192.0.2.7
t check-domain-case 1 'deny (not in domains.example.com)' '' \
	"$IPALLOW" check --policy "$geo" --user alice@Example.COM 198.51.100.7
t check-domain-last-at 0 'allow (in domains.example.com)' '' \
	"$IPALLOW" check --policy "$geo" --user 'a@b@example.com' 192.0.2.7
t check-domain-star 0 'allow (in domains."*")' '' \
	"$IPALLOW" check --policy "$geo" --user bob@other.org 198.51.100.7
t check-domain-star-nouser 1 'deny (not in domains."*")' '' \
	"$IPALLOW" check --policy "$geo" 192.0.2.7
t check-domain-field-wins 0 'allow (in allow_nets)' '' \
	"$IPALLOW" check --policy "$geo" --user alice@example.com --nets 198.51.100.0/24 198.51.100.7
t check-domain-escape 0 'allow (in allow_nets)' '' \
	"$IPALLOW" check --policy "$geo" --user alice@example.com --nets '0.0.0.0/0, ::/0' 198.51.100.7
t check-domain-blank-field 1 'deny (not in domains.example.com)' '' \
	"$IPALLOW" check --policy "$geo" --user alice@example.com --nets ' , ' 198.51.100.7
t check-service-field 1 'deny (not in allow_nets_imap)' '' \
	"$IPALLOW" check --policy "$geo" --user alice@example.com --nets 198.51.100.0/24 \
	--field allow_nets_imap=192.0.2.0/24 198.51.100.7
t check-service-field-other 0 'allow (in allow_nets)' '' \
	"$IPALLOW" check --policy "$geo" --service pop3 --user alice@example.com \
	--nets 198.51.100.0/24 --field allow_nets_imap=192.0.2.0/24 198.51.100.7
t check-service-field-smtp 0 'allow (in allow_nets_smtp)' '' \
	"$IPALLOW" check --policy "$geo" --service smtp --field allow_nets_smtp=asn:64501 198.51.100.7
t check-service-exempt 0 'exempt (exempt service)' '' \
	"$IPALLOW" check --policy "$geo" --service caldav --field allow_nets_caldav=192.0.2.1 198.51.100.7
t check-mode-report 0 'report (not in domains."*")' '' \
	"$IPALLOW" check --policy "$geo" --user bob@other.org --mode report 192.0.2.7
t check-mode-field 0 'report (not in domains."*")' '' \
	"$IPALLOW" check --policy "$geo" --user bob@other.org --field allow_nets_mode=report 192.0.2.7
t check-mode-enforce 1 'deny (not in domains."*")' '' \
	"$IPALLOW" check --policy "$geo" --user bob@other.org --mode enforce 192.0.2.7
t check-mode-bad 1 'deny (not in domains."*")
  warning: invalid allow_nets_mode "Report" for user=bob@other.org: must be enforce or report; enforce used' '' \
	"$IPALLOW" check --policy "$geo" --user bob@other.org --mode Report 192.0.2.7
t check-field-bad 2 '' 'ipallow: --field wants NAME=VALUE (at most 32)' \
	"$IPALLOW" check --policy "$geo" --field allow_nets 192.0.2.7

# --- ipallow bench (a smoke test; timing lives in bench/) ---

printf '10.0.0.0/8\n10.1.0.0/16 # covered\n2001:db8::/32\n' >"$tmp/prefixes"
printf '10.1.1.1\n2001:db8::1\n198.51.100.7\n' >"$tmp/addresses"
"$IPALLOW" bench --rounds 1 "$tmp/prefixes" "$tmp/addresses" >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc = 0 ] && [ ! -s "$tmp/err" ] &&
   [ "$(head -n 2 "$tmp/out")" = "prefixes:            3 (2 after removing covered ones)
addresses:           3 (2 inside)" ] &&
   grep -q '^independent lookups: .* M/s' "$tmp/out"; then
	pass=$((pass + 1))
else
	echo "FAIL bench: exit code $rc"; cat "$tmp/out" "$tmp/err"
	fail=$((fail + 1))
fi
t bench-missing 2 '' "ipallow: $tmp/missing: No such file or directory" \
	"$IPALLOW" bench "$tmp/missing" "$tmp/addresses"

# --lists: three distinct lists (one invalid), asked for in 4 rounds:
# 3 misses, then 9 hits
printf '203.0.113.0/24, 2001:db8::/32\n\n198.51.100.7\n10/8\n' >"$tmp/lists"
"$IPALLOW" bench --rounds 4 --policy "$nopol" --lists "$tmp/lists" >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc = 0 ] && [ ! -s "$tmp/err" ] &&
   grep -q '^lists: *3 (1 invalid)' "$tmp/out" &&
   grep -q '^cache: *3 lists' "$tmp/out" &&
   grep -q '^cache hits: *9 of 12 (75.0%), 0 evictions, 4 rounds' "$tmp/out"; then
	pass=$((pass + 1))
else
	echo "FAIL bench --lists: exit code $rc"; cat "$tmp/out" "$tmp/err"
	fail=$((fail + 1))
fi

# --- forced password change (SPEC 9.5) ---

cat >"$tmp/pw.yaml" <<'EOF'
password_change:
  exempt_peers: [127.0.0.1/32, 192.0.2.10/32]
  exempt_services: [sieve]
EOF
t pw-allowed-marked 1 'password_change (password_change_required)
  network: allow (in allow_nets)' '' \
	"$IPALLOW" check --policy "$tmp/pw.yaml" --nets 203.0.113.0/24 \
	--password-change-required 203.0.113.5
t pw-denied-marked 1 'deny (not in allow_nets)' '' \
	"$IPALLOW" check --policy "$tmp/pw.yaml" --nets 203.0.113.0/24 \
	--password-change-required 198.51.100.7
t pw-field-true 1 'password_change (password_change_required)
  network: unrestricted (no allow_nets)' '' \
	"$IPALLOW" check --policy "$tmp/pw.yaml" \
	--field password_change_required=TRUE 198.51.100.7
t pw-field-no 0 'unrestricted (no allow_nets)' '' \
	"$IPALLOW" check --policy "$tmp/pw.yaml" \
	--field password_change_required=no 198.51.100.7
t pw-exempt-peer 0 'unrestricted (no allow_nets)
  note: password change required, but the peer or service is in password_change.exempt_*' '' \
	"$IPALLOW" check --policy "$tmp/pw.yaml" --password-change-required \
	--peer 192.0.2.10 198.51.100.7
t pw-other-peer 1 'password_change (password_change_required)
  network: unrestricted (no allow_nets)' '' \
	"$IPALLOW" check --policy "$tmp/pw.yaml" --password-change-required \
	--peer 192.0.2.11 198.51.100.7
t pw-exempt-service 0 'unrestricted (no allow_nets)
  note: password change required, but the peer or service is in password_change.exempt_*' '' \
	"$IPALLOW" check --policy "$tmp/pw.yaml" --password-change-required \
	--service sieve 198.51.100.7
t pw-bad-peer 2 '' 'ipallow: invalid --peer address "10/8": a client address has no prefix length' \
	"$IPALLOW" check --policy "$tmp/pw.yaml" --password-change-required \
	--peer 10/8 198.51.100.7

# --- the tool itself ---

t no-command 2 '' "$usage_all" "$IPALLOW"
t unknown-command 2 '' "ipallow: unknown command 'frobnicate'
$usage_all" "$IPALLOW" frobnicate
"$IPALLOW" --version >"$tmp/out" 2>&1
if [ $? = 0 ] && grep -q '^ipallow [0-9][0-9.]*$' "$tmp/out"; then
	pass=$((pass + 1))
else
	echo "FAIL version"; cat "$tmp/out"
	fail=$((fail + 1))
fi

echo "check-cli: $pass passed, $fail failed"
[ $fail = 0 ]
