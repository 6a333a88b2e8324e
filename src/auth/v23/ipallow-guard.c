/* dovecot-ipallow: guard against an ipallow passdb Dovecot would ignore.

   Dovecot silently drops passdbs with skip = unauthenticated from the
   start of the passdb chain (auth_preinit() in src/auth/auth.c: nobody
   is authenticated there yet). An ipallow passdb included before the
   passdb that verifies passwords is therefore never loaded, and its
   placement check in passdb-ipallow.c never runs: every login would go
   unchecked without a word in the log.

   The auth process loads every module in its module directory whose name
   does not start with authdb_ or mech_ when it starts, before it builds
   the chains. This one looks at the passdb settings then and refuses to
   start in that case. It does nothing else. */

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
	struct auth_passdb_settings *const *passdbs;
	unsigned int i, count;

	if (global_auth_settings == NULL ||
	    !array_is_created(&global_auth_settings->passdbs))
		return;
	passdbs = array_get(&global_auth_settings->passdbs, &count);
	for (i = 0; i < count; i++) {
		if (passdbs[i]->master)
			continue;
		if (strcmp(passdbs[i]->skip, "unauthenticated") != 0) {
			/* the first passdb Dovecot keeps: the rest is
			   checked by the ipallow passdb itself */
			return;
		}
		if (strcmp(passdbs[i]->driver, IPALLOW_DRIVER_NAME) == 0) {
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
