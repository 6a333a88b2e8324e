#ifndef IPALLOW_MESSAGE_H
#define IPALLOW_MESSAGE_H

/* The texts of the lines about one login (SPEC §6), from the login and
   its decision. Formats, never logs: the adapters (src/dovecot) log what
   these return, the CLI prints some of them. Each writes into buf and
   returns it, or returns NULL when it has nothing to say; a small buf
   cuts the text cleanly. */

#include "ipallow-decide.h"

/* Enough for any line below. */
#define IPALLOW_MESSAGE_MAX 1024

/* The decision line, without the "ipallow: " prefix the adapter adds:
     deny user=alice service=imap ip=198.51.100.7 (not in allow_nets)
     report-only, would deny user=alice service=imap ip=... (...)
     allow user=... (in allow_nets)       (adapters log these at debug)
   with " peer=<address>" after ip when the login's peer is known and
   differs, and ": <reason>" at the end when dec->reason is set. */
const char *ipallow_message_decision(const struct ipallow_decision *dec,
				     const struct ipallow_login *login,
				     char *buf, size_t size);

/* The line about an invalid list, or NULL when the list was valid:
     invalid allow_nets for user=bob: entry 3 "10/8": IPv4 shorthand is not allowed
   with " (and 1 more error)" or " (and N more errors)" when there were
   more, and " (invalid entries skipped)" under on_invalid: skip when
   valid entries were left. */
const char *ipallow_message_invalid(const struct ipallow_decision *dec,
				    const struct ipallow_login *login,
				    char *buf, size_t size);

/* The warning about a <field>_mode value other than enforce or report,
   or NULL:
     invalid allow_nets_mode "x" for user=bob: must be enforce or report; enforce used */
const char *ipallow_message_bad_mode(const struct ipallow_decision *dec,
				     const struct ipallow_login *login,
				     char *buf, size_t size);
/* The error about a database that could not be read during the lookup,
   or NULL. */
const char *ipallow_message_geoip_error(const struct ipallow_decision *dec,
					const struct ipallow_login *login,
					char *buf, size_t size);

/* True when the decision is logged at info level with default settings
   (deny, report); false for allow, exempt and unrestricted (debug). */
bool ipallow_message_is_notable(const struct ipallow_decision *dec);

#endif
