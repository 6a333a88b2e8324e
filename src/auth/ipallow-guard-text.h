#ifndef IPALLOW_GUARD_TEXT_H
#define IPALLOW_GUARD_TEXT_H

/* Names and words that the guard modules (vNN/ipallow-guard.c) and the
   driver with its placement check (passdb-ipallow.h, ipallow-placement.c,
   vNN/passdb-ipallow-vNN.c) share, so that every version and every path
   says the same thing. The guard is a module of its own, linked with
   nothing of ours: texts only here. */

#define IPALLOW_DRIVER_NAME "ipallow"
#define IPALLOW_SNIPPET "conf.d/auth-ipallow.conf.ext"

/* How every refusal of the chain starts: "ipallow: " IPALLOW_TEXT_MISPLACED
   [" of protocol imap"] ": <why> (see " IPALLOW_SNIPPET ")". */
#define IPALLOW_TEXT_MISPLACED "misplaced in the passdb chain"

/* An ipallow passdb before the passdb that verifies passwords, which
   Dovecot drops (skip = unauthenticated first in a chain). */
#define IPALLOW_TEXT_BEFORE_VERIFY \
	"the ipallow passdb comes before any passdb that verifies " \
	"passwords, where Dovecot ignores it (skip = unauthenticated), so " \
	"no login would be checked; include auth-ipallow.conf.ext after " \
	"the passdb that verifies passwords"

/* No ipallow passdb at all: only the mail plugin checks lists. */
#define IPALLOW_TEXT_NO_PASSDB \
	"ipallow: no ipallow passdb in the passdb chain: network lists are " \
	"checked only by the mail plugin when a mail session starts, if it " \
	"is enabled; logins that open no mail session (SMTP AUTH through " \
	"the auth socket, DAV) are not restricted, and IMAP/POP3 logins " \
	"from a denied network with the right password answer \"Logged in, " \
	"but initialization failed\"; return the list from the passdb " \
	"(userdb_allow_nets) and include auth-ipallow.conf.ext (see " \
	IPALLOW_SNIPPET ")"

#endif
