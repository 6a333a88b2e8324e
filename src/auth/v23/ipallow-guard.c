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
   start in that case. It also warns when there is no ipallow passdb at
   all (below). */

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
   mail session starts (issue 10): services that only authenticate
   (Postfix SMTP AUTH through the auth socket, DAV servers) are not
   restricted at all, and IMAP/POP3 from a denied network answer "Logged
   in, but initialization failed", which tells that the password was
   right. Said loudly at every start; nothing is refused, since the
   module is installed before any check is turned on. */
static void
ipallow_guard_warn_no_passdb(struct auth_passdb_settings *const *passdbs,
			     unsigned int count)
{
	unsigned int i;

	if (worker) {
		/* once, from the auth process, not from every worker */
		return;
	}
	for (i = 0; i < count; i++) {
		if (strcmp(passdbs[i]->driver, IPALLOW_DRIVER_NAME) == 0)
			return;
	}
	i_warning(IPALLOW_TEXT_NO_PASSDB);
}

void ipallow_guard_init(struct module *module ATTR_UNUSED)
{
	struct auth_passdb_settings *const *passdbs;
	unsigned int i, count;

	if (global_auth_settings == NULL ||
	    !array_is_created(&global_auth_settings->passdbs))
		return;
	passdbs = array_get(&global_auth_settings->passdbs, &count);
	ipallow_guard_warn_no_passdb(passdbs, count);
	for (i = 0; i < count; i++) {
		if (passdbs[i]->master)
			continue;
		if (strcmp(passdbs[i]->skip, "unauthenticated") != 0) {
			/* the first passdb Dovecot keeps: the rest is
			   checked by the ipallow passdb itself */
			return;
		}
		if (strcmp(passdbs[i]->driver, IPALLOW_DRIVER_NAME) == 0) {
			i_fatal("ipallow: "IPALLOW_TEXT_MISPLACED": "
				IPALLOW_TEXT_BEFORE_VERIFY " (see "
				IPALLOW_SNIPPET ")");
		}
	}
}

void ipallow_guard_deinit(void)
{
}
