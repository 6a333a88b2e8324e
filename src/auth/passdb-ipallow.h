#ifndef PASSDB_IPALLOW_H
#define PASSDB_IPALLOW_H

/* The passdb driver "ipallow", split by what depends on the Dovecot
   version:

     passdb-ipallow.c        the check itself: one login in, one passdb
                             result out (any version)
     ipallow-placement.c     the start-time check of the passdb chain
                             (any version)
     vNN/passdb-ipallow-vNN.c  preinit (where the policy path comes from:
                             2.3 args, 2.4 the ipallow_policy setting)
     vNN/ipallow-auth-compat.h the few fields whose names differ

   configure picks the vNN directory from the Dovecot it builds against. */

#include "passdb.h"

struct ipallow_policy;

#define IPALLOW_DRIVER_NAME "ipallow"
#define IPALLOW_SNIPPET "conf.d/auth-ipallow.conf.ext"

struct ipallow_passdb_module {
	struct passdb_module module;

	const char *policy_path;
	/* NULL when the policy did not load: every login is refused. */
	struct ipallow_policy *policy;
	/* Why policy is NULL ("file:line:column: message"), for the
	   per-login error line. */
	const char *load_error;
	/* Log a misplaced chain instead of refusing to start (tests and
	   migrations only): 2.3 args "placement_check=warn", 2.4
	   ipallow_placement_check = warn. */
	bool placement_warn_only;
};

/* Creates the module and, in the main auth process, loads the policy at
   configured_path, or at IPALLOW_POLICY_DEFAULT_PATH when NULL (only that
   one may be missing: SPEC 9.1), before the process drops root, so the
   file may be readable by root only. A policy that does not load is
   logged once and kept as NULL: every login through the passdb is then
   refused. */
struct ipallow_passdb_module *
passdb_ipallow_module_create(pool_t pool, const char *configured_path,
			     bool placement_warn_only);

/* Refuses to go on (i_fatal) when a chain of any protocol would let a
   login succeed without passing the ipallow passdb; with warn_only it
   logs the same error instead. (ipallow-placement.c) */
void ipallow_placement_check(bool warn_only);

#endif
