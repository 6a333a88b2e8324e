#ifndef IPALLOW_AUTH_COMPAT_H
#define IPALLOW_AUTH_COMPAT_H

/* Dovecot 2.3: the names the shared passdb code needs. */

#include "auth.h"
#include "auth-settings.h"

/* The service the login is for: imap, pop3, submission, sieve, smtp... */
static inline const char *
ipallow_request_service(const struct auth_request *request)
{
	return request->fields.service;
}

/* The driver's preinit as Dovecot 2.3 calls it: the policy path and the
   placement mode come from args (v23/passdb-ipallow-v23.c). */
struct passdb_module *passdb_ipallow_preinit(pool_t pool, const char *args);

/* A new event for the check's log lines and ipallow_check_finished: a
   child of the passdb's, whose log prefix on 2.3 is
   "ipallow(user,ip,<session>): ". */
static inline struct event *
ipallow_request_event(struct auth_request *request)
{
	return event_create(authdb_event(request));
}

/* The protocol a chain belongs to; NULL for the default chain. */
static inline const char *ipallow_auth_protocol(const struct auth *auth)
{
	return auth->service;
}

static inline bool ipallow_auth_uses_winbind(const struct auth *auth)
{
	return auth->set->use_winbind;
}

static inline const char *
ipallow_passdb_name(const struct auth_passdb *passdb)
{
	return passdb->set->name[0] != '\0' ? passdb->set->name :
		passdb->set->driver;
}

/* A configuration setting that sets fields on this passdb around its
   lookup (default_fields, override_fields), or NULL. */
static inline const char *
ipallow_passdb_field_setting(const struct auth_passdb *passdb)
{
	if (passdb->set->default_fields[0] != '\0')
		return "default_fields";
	if (passdb->set->override_fields[0] != '\0')
		return "override_fields";
	return NULL;
}

/* mechanisms or username_filter: logins the passdb skips. */
static inline bool
ipallow_passdb_has_filters(const struct auth_passdb *passdb)
{
	return passdb->set->mechanisms[0] != '\0' ||
		passdb->set->username_filter[0] != '\0';
}

/* Dovecot 2.3 builds every chain from the global passdb list, so a chain
   cannot lose an ipallow passdb that another keeps; the guard module
   (ipallow-guard.c) covers the one way it can be dropped everywhere. */
static inline const char *
ipallow_auth_check_configured(const struct auth *auth ATTR_UNUSED)
{
	return NULL;
}

#endif
