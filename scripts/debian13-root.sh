#!/bin/bash
# A Debian 13 ("trixie") root with Dovecot 2.4.1, made with debootstrap,
# for building and testing dovecot-ipallow against Dovecot 2.4 on a
# Debian 12 host. Dovecot runs inside the root (chroot) and listens on
# 127.0.0.1, which is the host's loopback: the network is shared.
#
#   scripts/debian13-root.sh ensure         make the root, or bring its
#                                           packages up to date
#   scripts/debian13-root.sh run CMD [ARG]  run CMD inside the root with
#                                           /proc mounted and this source
#                                           tree at /src, then unmount both
#   scripts/debian13-root.sh path           print the root's directory
#
# The root is kept between runs (about a minute to make; "ensure" checks
# its package list and adds what is missing). The mounts are this
# script's own and are undone when CMD ends, whatever its exit status.
#
# Environment:
#   IPALLOW_ROOT24  the root's directory
#                   (default /var/cache/dovecot-ipallow/trixie)
#   DEBIAN_MIRROR   the archive to debootstrap from (default: the first
#                   Debian archive apt on this host uses)
# Needs root, debootstrap (installed when missing), mount(8).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
root=${IPALLOW_ROOT24:-/var/cache/dovecot-ipallow/trixie}

# What building, packaging and the integration suite need inside the
# root. build-deb.sh adds its own packaging tools when they are missing.
PACKAGES="dovecot-core dovecot-dev dovecot-imapd dovecot-pop3d
 dovecot-submissiond dovecot-managesieved dovecot-sqlite dovecot-lmtpd
 build-essential autoconf automake libtool pkgconf
 libcidr-dev libyaml-dev libmaxminddb-dev check
 mmdb-bin libmaxmind-db-writer-perl
 dpkg-dev debhelper dh-autoreconf fakeroot lintian git
 python3 sqlite3 procps iproute2 ca-certificates
 haproxy radicale curl valgrind postfix
 postgresql dovecot-pgsql
 php-cli roundcube-core roundcube-sqlite3 chromium
 slapd ldap-utils dovecot-ldap mariadb-server dovecot-mysql"

die() { printf 'debian13-root: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (debootstrap, chroot, mount)"

mirror() {
	local url=""

	if [ -n "${DEBIAN_MIRROR:-}" ]; then
		echo "$DEBIAN_MIRROR"
		return 0
	fi
	# deb822 sources (URIs:) or one-line ones (deb URL suite ...); either
	# kind of file may be missing, hence the || true under pipefail
	url=$( {
		grep -h '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null |
			awk '{print $2}'
		grep -h '^deb ' /etc/apt/sources.list \
			/etc/apt/sources.list.d/*.list 2>/dev/null | awk '{print $2}'
	} | grep -v security | head -n 1) || true
	echo "$url"
}

# No service may start inside the root while packages are installed.
no_services() {
	printf '#!/bin/sh\n# debian13-root.sh: no service starts here\nexit 101\n' \
		>"$root/usr/sbin/policy-rc.d"
	chmod 0755 "$root/usr/sbin/policy-rc.d"
}

in_root() {
	chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}

ensure() {
	if [ ! -x "$root/usr/bin/apt-get" ]; then
		command -v debootstrap >/dev/null || {
			echo "debian13-root: installing debootstrap"
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
				--no-install-recommends debootstrap </dev/null ||
				{ apt-get update -q </dev/null &&
				  DEBIAN_FRONTEND=noninteractive apt-get install \
					-y -q --no-install-recommends debootstrap \
					</dev/null; }
		}
		url=$(mirror)
		[ -n "$url" ] || die "no Debian archive found in /etc/apt (set DEBIAN_MIRROR)"
		echo "debian13-root: debootstrap trixie $root from $url"
		rm -rf "$root"
		mkdir -p "$(dirname "$root")"
		debootstrap --variant=minbase trixie "$root" "$url" \
			>"$(dirname "$root")/debootstrap.log" 2>&1 || {
			tail -n 30 "$(dirname "$root")/debootstrap.log" >&2
			die "debootstrap failed"
		}
	fi
	no_services
	cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
	missing=""
	for p in $PACKAGES; do
		in_root dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q "install ok installed" || missing="$missing $p"
	done
	if [ -n "$missing" ]; then
		echo "debian13-root: installing:$missing"
		# Postfix (t-postfix.py runs its own smtpd): no mail system
		echo "postfix postfix/main_mailer_type select No configuration" |
			in_root debconf-set-selections
		# Roundcube (t-roundcube.py runs its own): no database through
		# dbconfig-common, no web server configured
		printf '%s\n' \
			"roundcube-core roundcube/dbconfig-install boolean false" \
			"roundcube-core roundcube/reconfigure-webserver multiselect" |
			in_root debconf-set-selections
		# slapd (t-ldap.py runs its own from a temporary cn=config):
		# no directory of the package's own
		echo "slapd slapd/no_configuration boolean true" |
			in_root debconf-set-selections
		in_root apt-get update -q </dev/null
		# shellcheck disable=SC2086
		in_root apt-get install -y -q --no-install-recommends $missing \
			</dev/null
	fi
	in_root dovecot --version
}

mounted=""
unmount_all() {
	local m
	for m in $mounted; do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
	done
	mounted=""
}

run() {
	[ -x "$root/usr/sbin/dovecot" ] || die "no root at $root: run 'ensure' first"
	trap unmount_all EXIT
	trap 'exit 130' INT TERM
	mkdir -p "$root/src"
	if ! mountpoint -q "$root/proc"; then
		mount -t proc proc "$root/proc"
		mounted="$root/proc $mounted"
	fi
	# apt and lintian want a pseudo-terminal device
	if ! mountpoint -q "$root/dev/pts"; then
		mkdir -p "$root/dev/pts"
		mount -t devpts -o newinstance,ptmxmode=0666 devpts "$root/dev/pts"
		mounted="$root/dev/pts $mounted"
	fi
	if ! mountpoint -q "$root/src"; then
		mount --bind "$top" "$root/src"
		mounted="$root/src $mounted"
	fi
	no_services
	in_root "$@"
}

case "${1:-}" in
ensure) ensure ;;
run) shift; [ $# -gt 0 ] || die "usage: $0 run CMD [ARG...]"; run "$@" ;;
path) echo "$root" ;;
*) die "usage: $0 ensure | run CMD [ARG...] | path" ;;
esac
