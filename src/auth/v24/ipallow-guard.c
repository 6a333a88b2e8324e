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
   by the driver's own placement check (ipallow_auth_check_configured()). */

#include "auth-common.h"
#include "array.h"
#include "auth-settings.h"
#include "module-dir.h"

#define IPALLOW_DRIVER_NAME "ipallow"

extern const char *ipallow_guard_version;
const char *ipallow_guard_version = DOVECOT_ABI_VERSION;

void ipallow_guard_init(struct module *module);
void ipallow_guard_deinit(void);

void ipallow_guard_init(struct module *module ATTR_UNUSED)
{
	const struct auth_passdb_settings *set;

	if (global_auth_settings == NULL ||
	    !array_is_created(&global_auth_settings->parsed_passdbs))
		return;
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
