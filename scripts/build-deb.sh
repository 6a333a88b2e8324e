#!/bin/bash
# Builds the dovecot-ipallow Debian package from a clean copy of the tree
# (never in the working tree), runs lintian on it, installs it on this
# machine and prints its contents and the lintian result.
#
# Safe to run again: the copy and the build are new each time, the
# package is reinstalled, and nothing is started. While it runs, a
# policy-rc.d that refuses every service start keeps the packaged Dovecot
# (pulled in by dovecot-dev or the package itself) from starting.
#
# Run as root on Debian 12. Environment:
#   DEB_OUT_DIR     where the .deb files and logs go (default
#                   /tmp/dovecot-ipallow-deb; earlier dovecot-ipallow files
#                   there are replaced)
#   DEB_FROM=head   build the committed HEAD (git archive) instead of the
#                   working tree's tracked and new, not ignored, files
#   DEB_BUILD_OPTIONS  passed on (e.g. nocheck, parallel=2)
#   LINTIAN_FAIL_ON lintian --fail-on levels (default error,warning)
#   SKIP_INSTALL=1  build and lintian only; leave the system's package alone
#   KEEP_BUILD=1    keep the temporary build directory
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=${DEB_OUT_DIR:-/tmp/dovecot-ipallow-deb}
fail_on=${LINTIAN_FAIL_ON:-error,warning}
pkg=dovecot-ipallow

step() { printf '\n==== build-deb: %s\n' "$*"; }
die() { printf 'build-deb: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (it installs packages)"
[ -f "$top/debian/control" ] || die "$top/debian/control not found"

export DEBIAN_FRONTEND=noninteractive
work=$(mktemp -d /tmp/dovecot-ipallow-build.XXXXXX)

# --- no service starts while we install anything -----------------------
policy=/usr/sbin/policy-rc.d
saved_policy="$policy.build-deb-saved"
cleanup() {
	rm -f "$policy"
	[ -e "$saved_policy" ] && mv -f "$saved_policy" "$policy"
	if [ "${KEEP_BUILD:-0}" = 1 ]; then
		echo "build-deb: build directory kept: $work"
	else
		rm -rf "$work"
	fi
}
# A policy-rc.d left over by a run that was killed is ours: drop it.
[ -e "$saved_policy" ] && mv -f "$saved_policy" "$policy"
[ -e "$policy" ] && mv -f "$policy" "$saved_policy"
trap cleanup EXIT
trap 'exit 130' INT TERM
printf '#!/bin/sh\n# build-deb.sh: no service starts during the build\nexit 101\n' >"$policy"
chmod 0755 "$policy"

updated=0
apt_install() {
	# apt-get update only when the package lists do not have what we ask
	# for (first run on a fresh machine, or stale lists).
	if ! apt-get install -y -q --no-install-recommends "$@" </dev/null; then
		[ "$updated" = 0 ] || return 1
		apt-get update -q </dev/null
		updated=1
		apt-get install -y -q --no-install-recommends "$@" </dev/null
	fi
}
installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# --- packaging tools -----------------------------------------------------
step "packaging tools"
tools="build-essential dpkg-dev debhelper dh-autoreconf fakeroot lintian git"
missing=""
for p in $tools; do installed "$p" || missing="$missing $p"; done
if [ -n "$missing" ]; then
	echo "installing:$missing"
	# shellcheck disable=SC2086
	apt_install $missing
else
	echo "all installed"
fi

# --- clean copy of the tree ------------------------------------------------
step "copy the source tree to $work"
version=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)
upstream=${version%-*}
src="$work/$pkg-$upstream"
mkdir -p "$src"
if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	if [ "${DEB_FROM:-}" = head ]; then
		git -C "$top" archive --format=tar HEAD | tar -x -C "$src"
		echo "from HEAD $(git -C "$top" rev-parse --short HEAD)"
	else
		# Tracked files as they are in the working tree, plus new files
		# git does not ignore; never build products or .git.
		(cd "$top" && git ls-files -z --cached --others --exclude-standard |
			while IFS= read -r -d '' f; do
				[ -e "$f" ] || [ -L "$f" ] || continue
				printf '%s\0' "$f"
			done | tar --null -T - -c -f -) | tar -x -C "$src"
		echo "from the working tree of $(git -C "$top" rev-parse --short HEAD)" \
			"($(git -C "$top" status --porcelain | wc -l) changed or new paths)"
	fi
else
	# An unpacked tarball: copy it, leaving out build products.
	(cd "$top" && tar --exclude=./.git --exclude='./_build*' --exclude='./build*' -c -f - .) |
		tar -x -C "$src"
	echo "from $top (not a git work tree)"
fi

# --- build dependencies (from debian/control) ------------------------------
step "build dependencies"
if (cd "$src" && dpkg-checkbuilddeps) 2>/dev/null; then
	echo "all installed"
else
	(cd "$src" && dpkg-checkbuilddeps) || true
	if ! apt-get build-dep -y -q --no-install-recommends "$src" </dev/null; then
		[ "$updated" = 0 ] || die "cannot install the build dependencies"
		apt-get update -q </dev/null
		updated=1
		apt-get build-dep -y -q --no-install-recommends "$src" </dev/null
	fi
fi

# --- build -----------------------------------------------------------------
step "dpkg-buildpackage -us -uc -b (DEB_BUILD_OPTIONS=${DEB_BUILD_OPTIONS:-})"
mkdir -p "$out"
rm -f "$out/${pkg}"_*.deb "$out/${pkg}"-dbgsym_*.deb "$out/${pkg}"_*.changes \
	"$out/${pkg}"_*.buildinfo "$out/build.log" "$out/lintian.txt"
if ! (cd "$src" && dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1; then
	tail -n 60 "$out/build.log" >&2
	die "dpkg-buildpackage failed; full log: $out/build.log"
fi
grep -E '^(# (TOTAL|PASS|FAIL|ERROR):|dpkg-deb: building)' "$out/build.log" || true
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
cp "$work/${pkg}_${version}_${arch}.changes" "$work/${pkg}_${version}_${arch}.buildinfo" \
	"$work"/*.deb "$out/"
deb="$out/${pkg}_${version}_${arch}.deb"
[ -f "$deb" ] || die "$deb was not built"

# --- lintian ---------------------------------------------------------------
step "lintian"
lintian_rc=0
changes="$out/${pkg}_${version}_${arch}.changes"
# lintian warns when run as root: run it as nobody when nobody can read
# the files.
chmod -R a+rX "$out"
as_user=()
if command -v runuser >/dev/null &&
	runuser -u nobody -- test -r "$changes" 2>/dev/null; then
	as_user=(runuser -u nobody -- env HOME=/tmp)
fi
# --show-overrides makes lintian count overridden tags for --fail-on, so
# lintian only reports and the tags it prints decide. Exit 0 or 2 (tags
# found) are normal; anything else is a lintian failure.
"${as_user[@]}" lintian --info --display-info --pedantic --show-overrides \
	--fail-on none "$changes" >"$out/lintian.txt" 2>&1 || lintian_rc=$?
[ "$lintian_rc" = 0 ] || [ "$lintian_rc" = 2 ] || {
	cat "$out/lintian.txt" >&2
	die "lintian failed (exit $lintian_rc)"
}
levels=""
for l in ${fail_on//,/ }; do
	case $l in
	error) levels="${levels}E" ;; warning) levels="${levels}W" ;;
	info) levels="${levels}I" ;; pedantic) levels="${levels}P" ;;
	experimental) levels="${levels}X" ;; none) ;;
	*) die "LINTIAN_FAIL_ON: unknown level $l" ;;
	esac
done
lintian_bad=0
if [ -n "$levels" ] && grep -Eq "^[$levels]: " "$out/lintian.txt"; then
	lintian_bad=1
fi

# --- install ---------------------------------------------------------------
if [ "${SKIP_INSTALL:-0}" != 1 ]; then
	step "install $deb"
	# --reinstall: a rebuilt package of the same version replaces the
	# installed one. confold/confdef: keep an operator's edited conffiles.
	apt_install --reinstall \
		-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
		"$deb"
	dpkg-query -W -f='${Package} ${Version} ${Status}\nDepends: ${Depends}\n' "$pkg"
	ipallow policy-check /etc/dovecot/ipallow.yaml
fi

# --- report ----------------------------------------------------------------
step "dpkg -c $(basename "$deb")"
dpkg -c "$deb"
step "dpkg -I $(basename "$deb") (Depends)"
dpkg-deb -f "$deb" Depends
step "lintian result (--pedantic --show-overrides, fail on $fail_on)"
if [ -s "$out/lintian.txt" ]; then cat "$out/lintian.txt"; else echo "(no tags)"; fi
[ "$lintian_bad" = 0 ] || die "lintian found tags of a level in $fail_on (LINTIAN_FAIL_ON)"
echo "build-deb: OK: $deb"
