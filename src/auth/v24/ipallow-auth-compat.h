#ifndef IPALLOW_AUTH_COMPAT_H
#define IPALLOW_AUTH_COMPAT_H

/* Dovecot 2.4: the names the shared passdb code needs. */

#include "array.h"
#include "auth.h"
#include "auth-settings.h"

/* The protocol the login is for: imap, pop3, submission, sieve, smtp...
   (2.3's "service"). */
static inline const char *
ipallow_request_service(const struct auth_request *request)
{
	return request->fields.protocol;
}

/* The driver's preinit as Dovecot 2.4 calls it: the policy path and the
   placement mode are settings (v24/passdb-ipallow-v24.c). */
int passdb_ipallow_preinit(pool_t pool, struct event *event,
			   struct passdb_module **module_r,
			   const char **error_r);

/* A new event for the check's log lines and ipallow_check_finished: a
   child of the passdb's, without the passdb's own "<passdb name>: " log
   prefix (our lines start with "ipallow: " already), so a line reads
   "auth(user,ip,mech)<session>: Info: ipallow: deny ...". */
static inline struct event *
ipallow_request_event(struct auth_request *request)
{
	struct event *event = event_create(authdb_event(request));

	event_drop_parent_log_prefixes(event, 1);
	return event;
}

/* The protocol a chain belongs to; NULL for the default chain. */
static inline const char *ipallow_auth_protocol(const struct auth *auth)
{
	return auth->protocol;
}

static inline bool ipallow_auth_uses_winbind(const struct auth *auth)
{
	return auth->protocol_set->use_winbind;
}

static inline const char *
ipallow_passdb_name(const struct auth_passdb *passdb)
{
	return passdb->name;
}

/* A configuration setting that sets fields on this passdb after its
   lookup (fields { }), or NULL. */
static inline const char *
ipallow_passdb_field_setting(const struct auth_passdb *passdb)
{
	if (passdb->unexpanded_post_set != NULL &&
	    array_is_created(&passdb->unexpanded_post_set->fields) &&
	    array_count(&passdb->unexpanded_post_set->fields) > 0)
		return "fields { }";
	return NULL;
}

/* mechanisms_filter or username_filter: logins the passdb skips. */
static inline bool
ipallow_passdb_has_filters(const struct auth_passdb *passdb)
{
	return passdb->mechanisms_filter != NULL ||
		passdb->username_filter != NULL;
}

/* Dovecot 2.4 builds one chain per protocol from that protocol's
   settings, and drops (silently) a skip = unauthenticated passdb that
   would come first in it. An ipallow passdb configured for this protocol
   but missing from its chain would check nothing. (passdb-ipallow-v24.c) */
const char *ipallow_auth_check_configured(const struct auth *auth);

#endif
