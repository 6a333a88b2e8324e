#ifndef PASSDB_IPALLOW_H
#define PASSDB_IPALLOW_H

/* The passdb driver "ipallow", split by what depends on the Dovecot
   version:

     passdb-ipallow.c        the check itself: one login in, one passdb
                             result out (any version)
     ipallow-placement.c     the start-time check of the passdb chain
                             (any version)
     ipallow-quiet.c         the log-rate limit of silent denials
     vNN/passdb-ipallow-vNN.c  preinit (where the policy path comes from:
                             2.3 args, 2.4 the ipallow_policy setting)
     vNN/ipallow-auth-compat.h the few fields whose names differ

   configure picks the vNN directory from the Dovecot it builds against. */

#include "passdb.h"
#include "ipallow-dovecot.h"
#include "ipallow-guard-text.h"

struct ipallow_passdb_module {
	struct passdb_module module;

	/* loaded.policy is NULL when the policy did not load (or in an auth
	   worker, which never uses it): every login is refused, and
	   loaded.error ("file:line:column: message") says why in the
	   per-login error line. */
	struct ipallow_dovecot_policy loaded;
	/* Log a misplaced chain instead of refusing to start (tests and
	   migrations only): 2.3 args "placement_check=warn", 2.4
	   ipallow_placement_check = warn. */
	bool placement_warn_only;
};

/* Creates the module and, in the main auth process, loads the policy at
   configured_path, or at IPALLOW_POLICY_DEFAULT_PATH when NULL (only that
   one may be missing: SPEC 9.1), before the process drops root, so the
   file may be readable by root only (ipallow_dovecot_policy_load()). A
   policy that does not load is logged once and kept as NULL: every login
   through the passdb is then refused. */
struct ipallow_passdb_module *
passdb_ipallow_module_create(pool_t pool, const char *configured_path,
			     bool placement_warn_only);

/* Refuses to go on (i_fatal) when a chain of any protocol would let a
   login succeed without passing the ipallow passdb; with warn_only it
   logs the same error instead. (ipallow-placement.c) */
void ipallow_placement_check(bool warn_only);

/* Log flooding (ipallow-quiet.c): TRUE when the line about this silent
   denial of a credentials lookup is to be kept quiet (written at debug
   level only); else sets *note_r to what the written line adds ("" or
   how many were kept quiet). */
bool passdb_ipallow_quiet_check(const struct ipallow_login *login,
				const char **note_r);
/* Logs a line kept quiet, and emits its event. */
void passdb_ipallow_log_quiet(struct auth_request *request,
			      const struct ipallow_login *login,
			      const struct ipallow_decision *dec,
			      const char *note);
void passdb_ipallow_quiet_free(void);

#endif
