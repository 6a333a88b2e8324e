/* dovecot-ipallow: the login-time check, passdb driver "ipallow".

   It sits last in the passdb chain, after the passdb that verified the
   password (result_success = continue-ok there, skip = unauthenticated
   here), reads the user's network list from the userdb fields that passdb
   returned (userdb_allow_nets) and lets the login go on or refuses it.

   How a refusal reaches the client, and why it is final: a passdb result of
   PASSDB_RESULT_USER_DISABLED ends the chain before Dovecot applies any
   result_* rule (auth_request_handle_passdb_callback() in Dovecot's
   src/auth/auth-request.c), is never cached, and makes the auth process
   answer FAIL with code=user_disabled plus our extra fields, of which
   "reason" is what imap-login, pop3-login and submission-login show the
   client. See doc/passdb.md for every path (worker, cache, credentials
   mechanisms, master users) and the test that covers it. */

#include "auth-common.h"
#include "auth-fields.h"
#include "passdb.h"
#include "passdb-ipallow.h"
#include "ipallow-auth-compat.h"

#include "ipallow-policy.h"

/* Dovecot's native passdb field has been seen in this process. */
static bool native_allow_nets_warned = FALSE;

/* The check's verdict as a passdb result. */
enum ipallow_outcome {
	/* the login may go on (allow, exempt, unrestricted, report) */
	IPALLOW_OUTCOME_PASS,
	/* nothing before us granted the login; do not grant it either */
	IPALLOW_OUTCOME_NOT_GRANTED,
	/* refused; the client sees reject_reason */
	IPALLOW_OUTCOME_DENY,
	/* refused; the client sees Dovecot's plain failure */
	IPALLOW_OUTCOME_DENY_SILENT,
	/* refused because the check itself failed; tempfail */
	IPALLOW_OUTCOME_INTERNAL,
	/* the mailbox is marked for a password change (SPEC 9.5): refused
	   as password expired */
	IPALLOW_OUTCOME_PASSWORD_CHANGE,
};

static void passdb_ipallow_warn_native(struct auth_request *request)
{
	/* the user name as in the decision lines: escaped, so that it
	   cannot forge text of its own in the line */
	char user[IPALLOW_ESCAPED_STRLEN];
	struct event *event;

	if (native_allow_nets_warned ||
	    auth_fields_find(request->fields.extra_fields, "allow_nets") == NULL)
		return;
	native_allow_nets_warned = TRUE;
	ipallow_escape_field(request->fields.user,
			     strlen(request->fields.user), user, sizeof(user));
	event = ipallow_request_event(request);
	e_warning(event, IPALLOW_LOG_PREFIX
		  "the passdb returned Dovecot's native allow_nets field "
		  "(user=%s); Dovecot checks it before ipallow, without "
		  "exemptions, and a mismatch only makes that passdb fail; "
		  "return userdb_allow_nets instead "
		  "(logged once per process)", user);
	event_unref(&event);
}

/* A userdb field as the passdb returned it (userdb_<name>), or NULL:
   the core asks for <field>_<service>, <field> and <field>_mode. */
static const char *passdb_ipallow_get_field(void *context, const char *name)
{
	struct auth_request *request = context;

	if (request->fields.userdb_reply == NULL)
		return NULL;
	return auth_fields_find(request->fields.userdb_reply, name);
}

/* Logs the decision and emits ipallow_check_finished. Deny and report
   lines are at info level even with auth_verbose = no (Dovecot's request
   events stop at warning then), the rest at debug. */
static void
passdb_ipallow_log(struct auth_request *request,
		   const struct ipallow_login *login,
		   const struct ipallow_decision *dec, const char *note)
{
	struct event *event;

	event = ipallow_request_event(request);
	event_set_min_log_level(event, LOG_TYPE_INFO);
	ipallow_dovecot_log(event, login, dec, note);
	event_unref(&event);
}

/* Fills the login and decides it. Every path that is not an explicit
   decision of the core denies, with the reason in the log line. */
static void
passdb_ipallow_decide(struct auth_request *request,
		      struct ipallow_passdb_module *module,
		      struct ipallow_login *login_r,
		      struct ipallow_decision *dec_r)
{
	const char *reason = NULL;
	bool ip_ok, peer_ok;

	i_zero(login_r);
	login_r->user = request->fields.user;
	login_r->service = ipallow_request_service(request);
	login_r->get_field = passdb_ipallow_get_field;
	login_r->field_context = request;
	ip_ok = ipallow_addr_from_dovecot(&request->fields.remote_ip,
					  &login_r->client_ip);
	/* the real peer, for password_change.exempt_peers */
	peer_ok = ipallow_addr_from_dovecot(&request->fields.real_remote_ip,
					    &login_r->peer_ip);

	if (!request->fields.skip_password_check) {
		/* No passdb before us verified the password. The placement
		   check makes this impossible; refuse rather than guess. */
		reason = "reached before any passdb verified the password "
			"(the ipallow passdb needs skip = unauthenticated)";
	} else if (request->passdbs_seen_internal_failure) {
		/* Dovecot dropped the fields of a passdb that failed and
		   went on: the list may have been among them, and no list
		   means "unrestricted". Tempfail instead (issue 10). */
		reason = "an earlier passdb of this login had an internal "
			"failure, so the list it may have returned is missing";
	} else if (!ip_ok || !peer_ok) {
		reason = "unknown address family";
	}
	if (reason != NULL)
		ipallow_decision_init(dec_r, module->loaded.policy, reason);
	else
		(void)ipallow_dovecot_decide(&module->loaded, login_r, dec_r);
}

/* What the decision means for this login. */
static enum ipallow_outcome
passdb_ipallow_outcome(struct auth_request *request,
		       const struct ipallow_passdb_module *module,
		       const struct ipallow_decision *dec,
		       bool credentials_lookup)
{
	switch (dec->result) {
	case IPALLOW_RESULT_ALLOW:
	case IPALLOW_RESULT_EXEMPT:
	case IPALLOW_RESULT_UNRESTRICTED:
	case IPALLOW_RESULT_REPORT:
		/* We only ever take a success away. If the chain before us
		   has not granted the login (e.g. a master login for a user
		   no passdb knows), our OK with result_success = return-ok
		   must not grant it. */
		return request->passdb_success ? IPALLOW_OUTCOME_PASS :
			IPALLOW_OUTCOME_NOT_GRANTED;
	case IPALLOW_RESULT_PASSWORD_CHANGE:
		if (!request->passdb_success)
			return IPALLOW_OUTCOME_NOT_GRANTED;
		/* Credentials mechanisms have not checked the password yet:
		   the mark must not show to someone without it. */
		return credentials_lookup ? IPALLOW_OUTCOME_DENY_SILENT :
			IPALLOW_OUTCOME_PASSWORD_CHANGE;
	case IPALLOW_RESULT_DENY:
		break;
	}
	switch (dec->rule) {
	case IPALLOW_RULE_NO_POLICY:
	case IPALLOW_RULE_INTERNAL_ERROR:
		return IPALLOW_OUTCOME_INTERNAL;
	case IPALLOW_RULE_EXEMPT_SERVICE:
	case IPALLOW_RULE_NO_LIST:
	case IPALLOW_RULE_UNKNOWN_IP:
	case IPALLOW_RULE_EXEMPT_NETWORK:
	case IPALLOW_RULE_INVALID_LIST:
	case IPALLOW_RULE_IN_LIST:
	case IPALLOW_RULE_NOT_IN_LIST:
	case IPALLOW_RULE_PASSWORD_CHANGE:
		break;
	}
	/* CRAM-MD5, SCRAM, DIGEST-MD5, ...: the mechanism checks the
	   password only after the passdb chain, so a reason would be shown
	   to anyone who knows the user name. */
	if (credentials_lookup ||
	    module->loaded.policy->reject_reason[0] == '\0')
		return IPALLOW_OUTCOME_DENY_SILENT;
	return IPALLOW_OUTCOME_DENY;
}

static enum ipallow_outcome
passdb_ipallow_check(struct auth_request *request, bool credentials_lookup)
{
	struct ipallow_passdb_module *module =
		(struct ipallow_passdb_module *)request->passdb->passdb;
	struct ipallow_login login;
	struct ipallow_decision dec;
	enum ipallow_outcome outcome;
	const char *note = "", *quiet_note = "";
	bool quiet = FALSE;

	passdb_ipallow_warn_native(request);
	passdb_ipallow_decide(request, module, &login, &dec);
	outcome = passdb_ipallow_outcome(request, module, &dec,
					 credentials_lookup);
	if (outcome == IPALLOW_OUTCOME_NOT_GRANTED)
		note = " [no passdb before granted the login]";
	else if (outcome == IPALLOW_OUTCOME_DENY_SILENT && credentials_lookup) {
		quiet = passdb_ipallow_quiet_check(&login, &quiet_note);
		note = t_strdup_printf(" [mech=%s: password not verified "
			"yet, reason not sent]%s",
			request->fields.mech_name == NULL ? "none" :
			request->fields.mech_name, quiet_note);
	}
	if (quiet)
		passdb_ipallow_log_quiet(request, &login, &dec, note);
	else
		passdb_ipallow_log(request, &login, &dec, note);
	if (outcome == IPALLOW_OUTCOME_PASS && dec.password_change_exempted) {
		/* The mail plugin cannot see the real peer: tell it that
		   this marked login was let in on purpose (SPEC 9.5). */
		auth_request_set_field(request, "userdb_"
				       IPALLOW_PASSWORD_CHANGE_EXEMPTED_FIELD,
				       "yes", NULL);
	}
	return outcome;
}

/* A silent denial must look like a wrong password, whose failed passdb
   leaves no fields behind. USER_DISABLED keeps the fields the password
   passdb returned, and some change the answer: "nodelay" skips
   auth_failure_delay (a timing oracle), "host" without "proxy" becomes a
   referral, "reason" or "nologin" add text. Drop them all (issue 10). */
static void passdb_ipallow_strip_fields(struct auth_request *request)
{
	auth_fields_reset(request->fields.extra_fields);
	auth_fields_snapshot(request->fields.extra_fields);
}

/* Every outcome as a passdb result. All refusals are USER_DISABLED: that
   result ends the chain whatever the result_* rules say. */
static enum passdb_result
passdb_ipallow_result(struct auth_request *request, enum ipallow_outcome outcome)
{
	const struct ipallow_passdb_module *module =
		(const struct ipallow_passdb_module *)request->passdb->passdb;

	switch (outcome) {
	case IPALLOW_OUTCOME_PASS:
		return PASSDB_RESULT_OK;
	case IPALLOW_OUTCOME_NOT_GRANTED:
		return PASSDB_RESULT_USER_UNKNOWN;
	case IPALLOW_OUTCOME_DENY:
		auth_request_set_field(request, "reason",
				       module->loaded.policy->reject_reason, NULL);
		/* Dovecot 2.3.19 keeps a USER_DISABLED passdb's fields;
		   the snapshot keeps "reason" should a rollback ever
		   happen on this path. */
		auth_fields_snapshot(request->fields.extra_fields);
		return PASSDB_RESULT_USER_DISABLED;
	case IPALLOW_OUTCOME_DENY_SILENT:
		passdb_ipallow_strip_fields(request);
		return PASSDB_RESULT_USER_DISABLED;
	case IPALLOW_OUTCOME_INTERNAL:
		/* FAIL with code=temp_fail: clients say "try again later"
		   instead of asking for the password again. */
		request->internal_failure = TRUE;
		return PASSDB_RESULT_USER_DISABLED;
	case IPALLOW_OUTCOME_PASSWORD_CHANGE:
		/* Like USER_DISABLED it ends the chain before any result_*
		   rule; Dovecot sets reason=Password expired itself (IMAP
		   NO [EXPIRED], FAIL code=pass_expired). */
		return PASSDB_RESULT_PASS_EXPIRED;
	}
	i_unreached();
}

static void
passdb_ipallow_verify_plain(struct auth_request *request,
			    const char *password ATTR_UNUSED,
			    verify_plain_callback_t *callback)
{
	enum passdb_result result;

	result = passdb_ipallow_result(request,
		passdb_ipallow_check(request, FALSE));
	callback(result, request);
}

static void
passdb_ipallow_lookup_credentials(struct auth_request *request,
				  lookup_credentials_callback_t *callback)
{
	enum passdb_result result;

	result = passdb_ipallow_result(request,
		passdb_ipallow_check(request, TRUE));
	/* No credentials of our own: on OK Dovecot uses those of the
	   passdb that authenticated (delayed_credentials). */
	passdb_handle_credentials(result, NULL, NULL, callback, request);
}

struct ipallow_passdb_module *
passdb_ipallow_module_create(pool_t pool, const char *configured_path,
			     bool placement_warn_only)
{
	struct ipallow_passdb_module *module;

	module = p_new(pool, struct ipallow_passdb_module, 1);
	/* No caching of our own result: it depends on the client IP. */
	module->module.default_cache_key = NULL;
	module->module.blocking = FALSE;
	module->placement_warn_only = placement_warn_only;

	if (worker) {
		/* Auth workers only run blocking passdbs; ours runs in the
		   main auth process. */
		return module;
	}
	ipallow_dovecot_policy_load(&module->loaded, configured_path,
				    "every login through the ipallow passdb");
	return module;
}

static void passdb_ipallow_init(struct passdb_module *_module)
{
	struct ipallow_passdb_module *module =
		(struct ipallow_passdb_module *)_module;

	ipallow_placement_check(module->placement_warn_only);
}

static void passdb_ipallow_deinit(struct passdb_module *_module)
{
	struct ipallow_passdb_module *module =
		(struct ipallow_passdb_module *)_module;

	ipallow_dovecot_policy_free(&module->loaded);
	passdb_ipallow_quiet_free();
}

static struct passdb_module_interface passdb_ipallow = {
	.name = IPALLOW_DRIVER_NAME,

	/* per version: ipallow-auth-compat.h declares it */
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
