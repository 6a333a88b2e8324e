#!/bin/sh
# Installs what building and testing dovecot-ipallow needs on Debian 12,
# non-interactively. apt-get update runs only when something is missing.
set -eu

PACKAGES="build-essential autoconf automake libtool pkg-config
 dovecot-dev dovecot-core dovecot-imapd dovecot-pop3d dovecot-submissiond
 dovecot-managesieved dovecot-sqlite dovecot-lmtpd
 libcidr-dev libyaml-dev libmaxminddb-dev check
 mmdb-bin libmaxmind-db-writer-perl
 python3 sqlite3 clang libclang-rt-14-dev valgrind iproute2 procps
 haproxy curl radicale python3-radicale-dovecot-auth postfix debootstrap
 postgresql dovecot-pgsql
 slapd ldap-utils dovecot-ldap mariadb-server dovecot-mysql
 php-cli roundcube-core roundcube-sqlite3 chromium"

missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "install-deps: installing:$missing"
	if [ "$(id -u)" -ne 0 ]; then
		echo "install-deps: run as root (or install these packages yourself)" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	# Postfix (t-postfix.py runs its own smtpd): no mail system set up
	echo "postfix postfix/main_mailer_type select No configuration" |
		debconf-set-selections
	# Roundcube (t-roundcube.py runs its own from a temporary root with
	# an SQLite database it creates): no database set up through
	# dbconfig-common, no web server configured
	printf '%s\n' \
		"roundcube-core roundcube/dbconfig-install boolean false" \
		"roundcube-core roundcube/reconfigure-webserver multiselect" |
		debconf-set-selections
	# slapd and MariaDB (t-ldap.py, t-mariadb.py run their own from
	# temporary directories): no directory made by the package
	echo "slapd slapd/no_configuration boolean true" | debconf-set-selections
	apt-get update -q
	# The packaged Dovecot and Postfix services must not start: tests run
	# their own.
	policy=/usr/sbin/policy-rc.d
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\nexit 101\n' > "$policy"
		chmod +x "$policy"
		trap 'rm -f "$policy"' EXIT
	fi
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing </dev/null
fi
