/* dovecot-ipallow: the passdb driver's Dovecot 2.4 entry points.

     passdb ipallow {                 # driver defaults to the name
       skip = unauthenticated
       result_internalfail = return-fail
     }
     ipallow_policy = /etc/dovecot/ipallow.yaml   # the default

   ipallow_policy is a setting of the settings module (src/settings), read
   through the passdb's event, so it may also be set inside
   passdb ipallow { } or protocol { } filters. Everything else is in
   passdb-ipallow.c. */

#include "auth-common.h"
#include "array.h"
#include "settings.h"
#include "passdb.h"
#include "passdb-ipallow.h"
#include "ipallow-auth-compat.h"
#include "ipallow-settings.h"
#include "ipallow-guard-text.h"

#include "ipallow-policy.h"

int
passdb_ipallow_preinit(pool_t pool, struct event *event,
		       struct passdb_module **module_r, const char **error_r)
{
	const struct ipallow_settings *set;
	struct ipallow_passdb_module *module;

	if (settings_get(event, &ipallow_setting_parser_info, 0,
			 &set, error_r) < 0)
		return -1;
	/* The setting always has a value; its default is the built-in path,
	   which alone may be missing (SPEC 9.1). */
	module = passdb_ipallow_module_create(pool,
		strcmp(set->ipallow_policy, IPALLOW_POLICY_DEFAULT_PATH) == 0 ||
		set->ipallow_policy[0] == '\0' ? NULL : set->ipallow_policy,
		strcmp(set->ipallow_placement_check, "warn") == 0);
	settings_free(set);
	*module_r = &module->module;
	return 0;
}

const char *ipallow_auth_check_configured(const struct auth *auth)
{
	const struct auth_passdb_settings *set;
	const struct auth_passdb *passdb;

	if (!array_is_created(&auth->protocol_set->parsed_passdbs))
		return NULL;
	array_foreach_elem(&auth->protocol_set->parsed_passdbs, set) {
		if (strcmp(set->driver, IPALLOW_DRIVER_NAME) != 0)
			continue;
		if (set->master) {
			return "the ipallow passdb cannot be a master passdb "
				"(remove master = yes)";
		}
		for (passdb = auth->passdbs; passdb != NULL;
		     passdb = passdb->next) {
			if (strcmp(passdb->name, set->name) == 0)
				break;
		}
		if (passdb == NULL) {
			return IPALLOW_TEXT_BEFORE_VERIFY;
		}
	}
	return NULL;
}
