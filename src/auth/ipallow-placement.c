/* dovecot-ipallow: the placement check (SPEC §6). A chain in which a
   login could succeed without passing through the ipallow passdb is a
   configuration error, found when the auth process starts. Runs from the
   driver's init, once the chains of every protocol exist; what differs
   between Dovecot versions comes from ipallow-auth-compat.h. */

#include "auth-common.h"
#include "array.h"
#include "passdb.h"
#include "mech.h"
#include "auth.h"
#include "passdb-ipallow.h"
#include "ipallow-auth-compat.h"
#include "ipallow-dovecot.h"

static const char *passdb_ipallow_db_name(const struct auth_passdb *passdb)
{
	return t_strdup_printf("passdb %s", ipallow_passdb_name(passdb));
}

static const char *passdb_ipallow_rule_name(enum auth_db_rule rule)
{
	switch (rule) {
	case AUTH_DB_RULE_RETURN:
		return "return";
	case AUTH_DB_RULE_RETURN_OK:
		return "return-ok";
	case AUTH_DB_RULE_RETURN_FAIL:
		return "return-fail";
	case AUTH_DB_RULE_CONTINUE:
		return "continue";
	case AUTH_DB_RULE_CONTINUE_OK:
		return "continue-ok";
	case AUTH_DB_RULE_CONTINUE_FAIL:
		return "continue-fail";
	}
	i_unreached();
}

static bool passdb_ipallow_is_ours(const struct auth_passdb *passdb)
{
	return strcmp(passdb->passdb->iface.name, IPALLOW_DRIVER_NAME) == 0;
}

/* Checks the passdbs from first up to (not including) stop: none may end
   the chain with a success. *may_succeed tracks whether passdb_success
   can be TRUE at this point (some rule said -ok). Returns NULL or the
   problem. */
static const char *
passdb_ipallow_check_before(const struct auth_passdb *first,
			    const struct auth_passdb *stop, bool master,
			    bool *may_succeed, bool *have_continue_ok)
{
	static const char *const outcome_names[] = {
		"result_success", "result_failure", "result_internalfail"
	};
	const struct auth_passdb *passdb;
	enum auth_db_rule rules[3];
	unsigned int i;

	for (passdb = first; passdb != stop; passdb = passdb->next) {
		rules[0] = passdb->result_success;
		rules[1] = passdb->result_failure;
		rules[2] = passdb->result_internalfail;
		if (master && rules[0] != AUTH_DB_RULE_CONTINUE &&
		    rules[0] != AUTH_DB_RULE_CONTINUE_OK &&
		    rules[0] != AUTH_DB_RULE_CONTINUE_FAIL) {
			return t_strdup_printf(
				"master %s has result_success = %s, so a "
				"master login ends there without reaching "
				"ipallow; set pass = yes (or result_success "
				"= continue) on it",
				passdb_ipallow_db_name(passdb),
				passdb_ipallow_rule_name(rules[0]));
		}
		for (i = 0; i < N_ELEMENTS(rules); i++) {
			if (passdb->set->deny && i != 1) {
				/* A deny passdb ends the chain (failing)
				   unless the user is unknown there: only
				   its result_failure is ever applied. */
				continue;
			}
			if (rules[i] == AUTH_DB_RULE_RETURN_OK ||
			    (rules[i] == AUTH_DB_RULE_RETURN &&
			     (*may_succeed || i == 0))) {
				return t_strdup_printf(
					"%s%s has %s = %s, so a login can "
					"succeed there without reaching "
					"ipallow; use %s",
					master ? "master " : "",
					passdb_ipallow_db_name(passdb),
					outcome_names[i],
					passdb_ipallow_rule_name(rules[i]),
					i == 0 ? "result_success = continue-ok" :
					"return-fail or continue");
			}
		}
		for (i = 0; i < N_ELEMENTS(rules); i++) {
			if (passdb->set->deny && i != 1)
				continue;
			if (rules[i] == AUTH_DB_RULE_CONTINUE_OK ||
			    rules[i] == AUTH_DB_RULE_RETURN_OK)
				*may_succeed = TRUE;
		}
		if (rules[0] == AUTH_DB_RULE_CONTINUE_OK && !passdb->set->deny)
			*have_continue_ok = TRUE;
	}
	return NULL;
}

/* continue-ok on result_failure or result_internalfail marks a login
   whose password was not verified as verified and successful: ipallow
   then sees an authenticated login and lets it through when the network
   is allowed. Returns NULL or the problem. */
static const char *
passdb_ipallow_check_failure_ok(const struct auth_passdb *first,
				const struct auth_passdb *stop, bool master)
{
	const struct auth_passdb *passdb;

	for (passdb = first; passdb != stop; passdb = passdb->next) {
		if (passdb->set->deny)
			continue;
		if (passdb->result_failure == AUTH_DB_RULE_CONTINUE_OK) {
			return t_strdup_printf("%s%s has result_failure = "
				"continue-ok, so a wrong password counts as "
				"verified; use continue or return-fail",
				master ? "master " : "",
				passdb_ipallow_db_name(passdb));
		}
		if (passdb->result_internalfail == AUTH_DB_RULE_CONTINUE_OK) {
			return t_strdup_printf("%s%s has result_internalfail = "
				"continue-ok, so a login whose password could "
				"not be checked counts as verified; use "
				"return-fail",
				master ? "master " : "",
				passdb_ipallow_db_name(passdb));
		}
	}
	return NULL;
}

/* When a passdb before ipallow fails internally and the chain goes on,
   Dovecot drops the fields it returned, the network list among them; no
   list means "unrestricted". The driver refuses such logins itself
   (passdbs_seen_internal_failure); this demands that the chain end there
   as well. deny passdbs end the chain on an internal failure anyway.
   Returns NULL or the problem. */
static const char *
passdb_ipallow_check_internalfail(const struct auth_passdb *first,
				  const struct auth_passdb *stop)
{
	const struct auth_passdb *passdb;

	for (passdb = first; passdb != stop; passdb = passdb->next) {
		if (passdb->set->deny ||
		    passdb->result_internalfail == AUTH_DB_RULE_RETURN_FAIL)
			continue;
		return t_strdup_printf("%s has result_internalfail = %s, so "
			"when it fails the login goes on without the fields "
			"it returns (userdb_allow_nets among them); set "
			"result_internalfail = return-fail on it",
			passdb_ipallow_db_name(passdb),
			passdb_ipallow_rule_name(passdb->result_internalfail));
	}
	return NULL;
}

/* Fields set by configuration on the ipallow passdb (2.3 default_fields
   and override_fields, 2.4 fields { }) are applied around our own lookup
   and can set or clear the list (default_fields = userdb_allow_nets=
   makes every list empty). */
static const char *
passdb_ipallow_check_our_fields(const struct auth_passdb *ours)
{
	const char *setting = ipallow_passdb_field_setting(ours);

	if (setting == NULL)
		return NULL;
	return t_strdup_printf("the ipallow passdb cannot have %s: they can "
		"change the network list before the check; set them on the "
		"passdb that verifies the password", setting);
}

static bool passdb_ipallow_chain_has_us(const struct auth *auth)
{
	const struct auth_passdb *passdb;

	for (passdb = auth->passdbs; passdb != NULL; passdb = passdb->next) {
		if (passdb_ipallow_is_ours(passdb))
			return TRUE;
	}
	return FALSE;
}

/* Returns NULL if the chain of one protocol is safe, else the problem. */
static const char *passdb_ipallow_check_chain(const struct auth *auth)
{
	const struct auth_passdb *passdb, *ours = NULL, *last = NULL;
	const char *error;
	bool may_succeed = FALSE, have_continue_ok = FALSE;

	for (passdb = auth->masterdbs; passdb != NULL; passdb = passdb->next) {
		if (passdb_ipallow_is_ours(passdb)) {
			return "the ipallow passdb cannot be a master passdb "
				"(remove master = yes)";
		}
	}
	for (passdb = auth->passdbs; passdb != NULL; passdb = passdb->next) {
		if (passdb_ipallow_is_ours(passdb) && ours == NULL)
			ours = passdb;
		last = passdb;
	}
	if (ours == NULL)
		return NULL;

	if (ours != last) {
		return t_strdup_printf("the ipallow passdb must be the last "
			"passdb, but %s comes after it",
			passdb_ipallow_db_name(ours->next));
	}
	if (ours == auth->passdbs) {
		return "the ipallow passdb needs a passdb before it that "
			"verifies the password (with result_success = "
			"continue-ok)";
	}
	if (ours->skip != AUTH_PASSDB_SKIP_UNAUTHENTICATED)
		return "the ipallow passdb needs skip = unauthenticated";
	if (ours->set->deny)
		return "the ipallow passdb cannot have deny = yes";
	if (ipallow_passdb_has_filters(ours)) {
		return "the ipallow passdb cannot have mechanisms or "
			"username_filter: logins it skips would go unchecked";
	}
	if (ours->result_failure == AUTH_DB_RULE_RETURN_OK ||
	    ours->result_failure == AUTH_DB_RULE_CONTINUE_OK) {
		return t_strdup_printf("the ipallow passdb has result_failure "
			"= %s; remove it (the default is fine)",
			passdb_ipallow_rule_name(ours->result_failure));
	}
	if (ours->result_internalfail != AUTH_DB_RULE_RETURN_FAIL &&
	    ours->result_internalfail != AUTH_DB_RULE_CONTINUE_FAIL) {
		return t_strdup_printf("the ipallow passdb has "
			"result_internalfail = %s, which turns a failure of "
			"the check into the earlier passdb's success; set "
			"result_internalfail = return-fail",
			passdb_ipallow_rule_name(ours->result_internalfail));
	}

	error = passdb_ipallow_check_our_fields(ours);
	if (error != NULL)
		return error;

	/* A master login that passes the master passdbs goes on with the
	   first normal passdb, carrying whatever they decided. */
	error = passdb_ipallow_check_before(auth->masterdbs, NULL, TRUE,
					    &may_succeed, &have_continue_ok);
	if (error != NULL)
		return error;
	have_continue_ok = FALSE;
	error = passdb_ipallow_check_before(auth->passdbs, ours, FALSE,
					    &may_succeed, &have_continue_ok);
	if (error != NULL)
		return error;
	error = passdb_ipallow_check_failure_ok(auth->masterdbs, NULL, TRUE);
	if (error == NULL) {
		error = passdb_ipallow_check_failure_ok(auth->passdbs, ours,
							FALSE);
	}
	if (error == NULL)
		error = passdb_ipallow_check_internalfail(auth->passdbs, ours);
	if (error != NULL)
		return error;
	if (!have_continue_ok) {
		return "no passdb before the ipallow passdb has "
			"result_success = continue-ok, so no login could "
			"succeed; set it on the passdb that verifies the "
			"password";
	}
	return NULL;
}

/* Mechanisms that log users in without running the passdb chain. Returns
   NULL or the problem; warns about ANONYMOUS, which is meant that way. */
static const char *passdb_ipallow_check_mechs(const struct auth *auth)
{
	static bool anonymous_warned = FALSE;
	const struct mech_module_list *list;
	const char *name;

	for (list = auth->reg->modules; list != NULL; list = list->next) {
		name = list->module.mech_name;
		if (strcasecmp(name, "NTLM") == 0 ||
		    (strcasecmp(name, "GSS-SPNEGO") == 0 &&
		     ipallow_auth_uses_winbind(auth))) {
			return t_strdup_printf("auth_mechanisms includes %s, "
				"which Dovecot authenticates through winbind "
				"without any passdb, so ipallow would never see "
				"those logins; remove it", name);
		}
		if (strcasecmp(name, "ANONYMOUS") == 0 && !anonymous_warned) {
			anonymous_warned = TRUE;
			i_warning(IPALLOW_LOG_PREFIX"auth_mechanisms includes "
				  "ANONYMOUS: anonymous logins do not run the "
				  "passdb chain and are not checked");
		}
	}
	return NULL;
}

void ipallow_placement_check(bool warn_only)
{
	struct auth *auth;
	const char *error, *protocol;

	array_foreach_elem(&auths, auth) {
		protocol = ipallow_auth_protocol(auth);
		error = ipallow_auth_check_configured(auth);
		if (error == NULL)
			error = passdb_ipallow_check_chain(auth);
		if (error == NULL && passdb_ipallow_chain_has_us(auth))
			error = passdb_ipallow_check_mechs(auth);
		if (error == NULL)
			continue;
		error = t_strdup_printf(IPALLOW_LOG_PREFIX
			IPALLOW_TEXT_MISPLACED"%s%s: %s (see %s)",
			protocol == NULL ? "" : " of protocol ",
			protocol == NULL ? "" : protocol,
			error, IPALLOW_SNIPPET);
		if (!warn_only)
			i_fatal("%s", error);
		i_error("%s; ignored because of placement_check=warn", error);
	}
}

