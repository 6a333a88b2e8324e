#!/bin/sh
# The README's "try it" command. Installs what is needed (Debian 12),
# builds, installs the modules into Dovecot's module directories, starts a
# throwaway Dovecot on 127.0.0.1 (own configuration and base_dir in a
# temporary directory, free high ports, never the system service) with a
# few sample mailboxes, shows an allowed, an exempt and a denied login
# with the server's exact replies, and stops what it started.
#
#   scripts/try-it.sh                  Dovecot 2.3 (Debian 12, this host)
#   scripts/try-it.sh --dovecot 2.4    Dovecot 2.4.1 in a Debian 13 root
#                                      (scripts/debian13-root.sh makes it)
#
# Environment: BUILD_DIR (default ./_build), SKIP_INSTALL_DEPS=1 to skip
# apt-get, SKIP_BUILD=1 to use what is already installed.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$top/_build}

if [ "$(id -u)" -ne 0 ]; then
	echo "try-it: run as root: it installs into Dovecot's module" \
	     "directory and starts Dovecot" >&2
	exit 1
fi

case "${1:-}" in
--dovecot)
	case "${2:-}" in
	2.3) ;;
	2.4)
		# the same demo inside the Debian 13 root, where Dovecot 2.4
		# runs; its 127.0.0.1 is this host's
		[ "${SKIP_INSTALL_DEPS:-0}" = 1 ] || "$top/scripts/install-deps.sh"
		"$top/scripts/debian13-root.sh" ensure
		[ -x "$top/configure" ] || (cd "$top" && ./autogen.sh >/dev/null)
		exec "$top/scripts/debian13-root.sh" run env \
			BUILD_DIR=/var/tmp/dovecot-ipallow-build24 \
			SKIP_INSTALL_DEPS=1 SKIP_BUILD="${SKIP_BUILD:-0}" \
			/src/scripts/try-it.sh
		;;
	*) echo "try-it: --dovecot 2.3 or --dovecot 2.4" >&2; exit 2 ;;
	esac
	;;
"") ;;
*) echo "usage: $0 [--dovecot 2.3|2.4]" >&2; exit 2 ;;
esac

if [ "${SKIP_INSTALL_DEPS:-0}" != 1 ]; then
	"$top/scripts/install-deps.sh"
fi

if [ "${SKIP_BUILD:-0}" != 1 ]; then
	echo "try-it: building in $build"
	cd "$top"
	[ -x configure ] || ./autogen.sh >/dev/null
	mkdir -p "$build"
	cd "$build"
	[ -f Makefile ] || "$top/configure" --with-dovecot=/usr/lib/dovecot >/dev/null
	make -j"$(nproc 2>/dev/null || echo 2)" >/dev/null
	# puts libauthdb_ipallow.so into /usr/lib/dovecot/modules/auth (the
	# directory is compiled into Dovecot), the mail plugin into
	# /usr/lib/dovecot/modules and, for 2.4, the settings module into
	# /usr/lib/dovecot/modules/settings
	make install >/dev/null
fi

exec python3 - "$top" <<'EOF'
import os
import sys

top = sys.argv[1]
sys.path.insert(0, os.path.join(top, "tests", "integration"))
from dovecot_it import DOVECOT_API, Dovecot                   # noqa: E402

USERS = """\
alice:{PLAIN}wonderland::::::userdb_allow_nets=203.0.113.0/24,2001:db8:42::/48
bob:{PLAIN}builder::::::userdb_allow_nets=@office
carol:{PLAIN}no-list::::::
"""
POLICY = """\
sets:
  office: [192.0.2.0/24]
"""
AUTH = """\
passdb {
  driver = passwd-file
  args = scheme=PLAIN {dir}/users.passwd
  result_success = continue-ok
  result_internalfail = return-fail
}
!include {dir}/auth-ipallow.conf.ext
userdb {
  driver = prefetch
}
userdb {
  driver = passwd-file
  args = {dir}/users.passwd
}
"""

# the shipped snippet for this Dovecot, pointed at the demo's policy
if DOVECOT_API == "2.4":
    with open(os.path.join(top, "conf.d", "2.4",
                           "auth-ipallow.conf.ext")) as f:
        snippet = f.read().replace(
            "#ipallow_policy = /etc/dovecot/ipallow.yaml",
            "ipallow_policy = {dir}/ipallow.yaml")
else:
    with open(os.path.join(top, "conf.d", "auth-ipallow.conf.ext")) as f:
        snippet = f.read().replace("/etc/dovecot/ipallow.yaml",
                                   "{dir}/ipallow.yaml")

# allow and exempt lines are debug-level; show them for the demo
DEBUG = "log_debug = event=ipallow_check_finished\n"
dc = Dovecot("try-it", AUTH, extra_conf=DEBUG,
             files={"users.passwd": USERS, "ipallow.yaml": POLICY,
                    "auth-ipallow.conf.ext": snippet})
print("""
Dovecot %s.
Sample mailboxes (users.passwd, policy ipallow.yaml in %s):
  alice  allow_nets = 203.0.113.0/24, 2001:db8:42::/48
  bob    allow_nets = @office          (office: 192.0.2.0/24)
  carol  no list: not restricted

A webmail front end on 127.0.0.1 (login_trusted_networks) forwards each
browser's address with IMAP ID; that is the address ipallow checks.
""" % (DOVECOT_API, dc.dir))


def show(title, user, password, ip):
    print("---- %s" % title)
    mark = dc.log.mark()
    with dc.imap() as c:
        c.forward_ip(ip)
        reply = c.login(user, password)
        if " OK " in reply:
            c.logout()
        for line in c.transcript:
            if line.startswith("S: b ") or line.startswith("C: b ") or \
                    line.startswith("C: a1 ID"):
                print("  " + line)
    line = dc.log.wait(r"ipallow: (deny|allow|exempt|report)", mark,
                       timeout=1.5)
    if line:
        print("  log: " + line[line.index("ipallow: "):])
    print()


try:
    dc.start()
    show("allowed: alice from 203.0.113.7, inside her list",
         "alice", "wonderland", "203.0.113.7")
    show("exempt: alice from 192.168.1.20, a private network",
         "alice", "wonderland", "192.168.1.20")
    show("denied: alice from 198.51.100.7, outside her list",
         "alice", "wonderland", "198.51.100.7")
    show("wrong password: alice from 198.51.100.8 (the usual failure)",
         "alice", "not-her-password", "198.51.100.8")
    print("---- the same denial on the auth socket (Postfix, DAV servers)")
    with dc.auth_client() as a:
        print("  " + a.auth_plain("alice", "wonderland", "smtp",
                                  rip="198.51.100.9").replace("\t", "\\t"))
    print()
    print("Denials are logged with Dovecot's default settings; allow and")
    print("exempt lines only at debug level (shown here through log_debug).")
finally:
    dc.stop()
    print("stopped the Dovecot started above (pid-based), removed %s" %
          dc.dir)
EOF
