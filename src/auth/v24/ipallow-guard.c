/* dovecot-ipallow: guard against an ipallow passdb Dovecot would ignore
   (Dovecot 2.4).

   Dovecot silently drops passdbs with skip = unauthenticated from the
   start of a passdb chain (auth_preinit() in src/auth/auth.c: nobody is
   authenticated there yet). An ipallow passdb defined before the passdb
   that verifies passwords is then never loaded, and its placement check
   never runs: every login would go unchecked without a word in the log.

   The auth process loads every module in its module directory whose name
   does not start with authdb_ or mech_ when it starts, after it has read
   the global settings and before it builds the chains. This one looks at
   the global passdb list then and refuses to start in that case. A chain
   of one protocol that loses the passdb while another keeps it is found
   by the driver's own placement check (ipallow_auth_check_configured()).
   It also warns when there is no ipallow passdb at all (below), in the
   same words as on 2.3. */

#include "auth-common.h"
#include "array.h"
#include "auth-settings.h"
#include "module-dir.h"

#define IPALLOW_DRIVER_NAME "ipallow"

extern const char *ipallow_guard_version;
const char *ipallow_guard_version = DOVECOT_ABI_VERSION;

void ipallow_guard_init(struct module *module);
void ipallow_guard_deinit(void);

/* Without an ipallow passdb only the mail plugin checks lists, when a
   mail session starts: services that only authenticate (SMTP AUTH
   through the auth socket, DAV servers) are not restricted at all. Said
   at every start of the auth process; nothing is refused. */
static void ipallow_guard_warn_no_passdb(void)
{
	const struct auth_passdb_settings *set;

	if (worker)
		return;
	array_foreach_elem(&global_auth_settings->parsed_passdbs, set) {
		if (strcmp(set->driver, IPALLOW_DRIVER_NAME) == 0)
			return;
	}
	i_warning("ipallow: no ipallow passdb in the passdb chain: network "
		  "lists are checked only by the mail plugin when a mail "
		  "session starts, if it is enabled; logins that open no mail "
		  "session (SMTP AUTH through the auth socket, DAV) are not "
		  "restricted, and IMAP/POP3 logins from a denied network with "
		  "the right password answer \"Logged in, but initialization "
		  "failed\"; return the list from the passdb "
		  "(userdb_allow_nets) and include auth-ipallow.conf.ext (see "
		  "conf.d/auth-ipallow.conf.ext)");
}

void ipallow_guard_init(struct module *module ATTR_UNUSED)
{
	const struct auth_passdb_settings *set;

	if (global_auth_settings == NULL ||
	    !array_is_created(&global_auth_settings->parsed_passdbs))
		return;
	ipallow_guard_warn_no_passdb();
	array_foreach_elem(&global_auth_settings->parsed_passdbs, set) {
		if (set->master)
			continue;
		if (strcmp(set->skip, "unauthenticated") != 0) {
			/* the first passdb Dovecot keeps: the rest is
			   checked by the ipallow passdb itself */
			return;
		}
		if (strcmp(set->driver, IPALLOW_DRIVER_NAME) == 0) {
			/* the same words as on Dovecot 2.3 */
			i_fatal("ipallow: misplaced in the passdb chain: the "
				"ipallow passdb comes before any passdb that "
				"verifies passwords, where Dovecot ignores it "
				"(skip = unauthenticated), so no login would be "
				"checked; include auth-ipallow.conf.ext after "
				"the passdb that verifies passwords (see "
				"conf.d/auth-ipallow.conf.ext)");
		}
	}
}

void ipallow_guard_deinit(void)
{
}
