/* dovecot-ipallow: the passdb driver's Dovecot 2.3 entry points. The
   policy path and the placement mode come from the passdb's args:

     passdb {
       driver = ipallow
       args = [/path/policy.yaml] [placement_check=warn]
     }

   The driver interface and everything else are in passdb-ipallow.c. */

#include "auth-common.h"
#include "passdb.h"
#include "passdb-ipallow.h"
#include "ipallow-auth-compat.h"


struct passdb_module *
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
