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

#include "ipallow-guard-text.h"

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
	i_warning(IPALLOW_TEXT_NO_PASSDB);
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
			i_fatal("ipallow: "IPALLOW_TEXT_MISPLACED": "
				IPALLOW_TEXT_BEFORE_VERIFY " (see "
				IPALLOW_SNIPPET ")");
		}
	}
}

void ipallow_guard_deinit(void)
{
}
