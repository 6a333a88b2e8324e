/* dovecot-ipallow: the passdb driver's Dovecot 2.3 entry points. The
   policy path and the placement mode come from the passdb's args:

     passdb {
       driver = ipallow
       args = [/path/policy.yaml] [placement_check=warn]
     }

   Everything else is in passdb-ipallow.c. */

#include "auth-common.h"
#include "passdb.h"
#include "passdb-ipallow.h"


static struct passdb_module *
passdb_ipallow_preinit(pool_t pool, const char *args)
{
	const char *const *argv;
	const char *policy_path = NULL;
	bool warn_only = FALSE;

	for (argv = t_strsplit_spaces(args, " "); *argv != NULL; argv++) {
		if (strcmp(*argv, "placement_check=warn") == 0)
			warn_only = TRUE;
		else if (strcmp(*argv, "placement_check=fatal") == 0)
			warn_only = FALSE;
		else if (**argv == '/')
			policy_path = *argv;
		else {
			i_fatal("passdb "IPALLOW_DRIVER_NAME": unknown argument "
				"'%s' (args: [policy file path] "
				"[placement_check=warn])", *argv);
		}
	}
	return &passdb_ipallow_module_create(pool, policy_path,
					     warn_only)->module;
}

static struct passdb_module_interface passdb_ipallow = {
	.name = IPALLOW_DRIVER_NAME,

	.preinit = passdb_ipallow_preinit,
	.init = passdb_ipallow_init,
	.deinit = passdb_ipallow_deinit,

	.verify_plain = passdb_ipallow_verify_plain,
	.lookup_credentials = passdb_ipallow_lookup_credentials,
};

/* module-dir.c refuses a module built for another Dovecot ABI. */
extern const char *authdb_ipallow_version;
const char *authdb_ipallow_version = DOVECOT_ABI_VERSION;

void authdb_ipallow_init(void);
void authdb_ipallow_deinit(void);

void authdb_ipallow_init(void)
{
	passdb_register_module(&passdb_ipallow);
}

void authdb_ipallow_deinit(void)
{
	passdb_unregister_module(&passdb_ipallow);
}
