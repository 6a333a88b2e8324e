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
#include "array.h"
#include "hash.h"
#include "ioloop.h"
#include "auth-fields.h"
#include "passdb.h"
#include "mech.h"

#include "ipallow-addr.h"
#include "ipallow-dovecot.h"
#include "ipallow-decide.h"
#include "ipallow-list.h"
#include "ipallow-log.h"
#include "ipallow-policy.h"

#include <stdlib.h>
#include <sys/socket.h>

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
	/* args "placement_check=warn": log a misplaced chain instead of
	   refusing to start (tests and migrations only). */
	bool placement_warn_only;
};

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
};

static void passdb_ipallow_warn_native(struct auth_request *request)
{
	/* the user name as in the decision lines: escaped, so that it
	   cannot forge text of its own in the line */
	char user[IPALLOW_DIAG_TEXT_MAX * 4 + 8];

	if (native_allow_nets_warned ||
	    auth_fields_find(request->fields.extra_fields, "allow_nets") == NULL)
		return;
	native_allow_nets_warned = TRUE;
	ipallow_escape_field(request->fields.user,
			     strlen(request->fields.user), user, sizeof(user));
	e_warning(authdb_event(request), IPALLOW_LOG_PREFIX
		  "the passdb returned Dovecot's native allow_nets field "
		  "(user=%s); Dovecot checks it before ipallow, without "
		  "exemptions, and a mismatch only makes that passdb fail; "
		  "return userdb_allow_nets instead "
		  "(logged once per process)", user);
}

static const char *
passdb_ipallow_field(const struct ipallow_passdb_module *module)
{
	return module->policy != NULL ? module->policy->field :
		IPALLOW_DEFAULT_FIELD;
}

/* The list as the passdb returned it in userdb_<field>, or NULL. */
static const char *
passdb_ipallow_list_text(struct auth_request *request, const char *field)
{
	if (request->fields.userdb_reply == NULL)
		return NULL;
	return auth_fields_find(request->fields.userdb_reply, field);
}

/* Logs the decision and emits ipallow_check_finished. Deny and report
   lines are at info level even with auth_verbose = no (Dovecot's request
   events stop at warning then), the rest at debug. */
static void
passdb_ipallow_log(struct auth_request *request,
		   const struct ipallow_passdb_module *module,
		   const struct ipallow_log_ctx *ctx,
		   const struct ipallow_decision *dec, const char *suffix)
{
	struct event *event;

	event = event_create(authdb_event(request));
	event_set_min_log_level(event, LOG_TYPE_INFO);
	ipallow_dovecot_log(event, module->policy, module->load_error, ctx,
			    dec, suffix);
	event_unref(&event);
}

/* Log flooding (issue 10): a denial of a credentials lookup (CRAM-MD5,
   SCRAM, ...) happens before any password check, so anyone who knows a
   restricted user name could write one line per attempt. Such lines are
   written once per (user, client IP) per IPALLOW_QUIET_SECS; the ones in
   between go at debug level (auth_debug, a log_debug filter) and are
   counted, and the next line written for that pair
   says how many there were. A small direct-mapped table: a pair pushed
   out by another one only logs again sooner. */
#define IPALLOW_QUIET_SECS 60
#define IPALLOW_QUIET_SLOTS 256

struct passdb_ipallow_quiet_slot {
	char *key;		/* "user\nip", NULL when free */
	time_t since;		/* when the last line was written */
	unsigned int suppressed;
};
static struct passdb_ipallow_quiet_slot
	passdb_ipallow_quiet[IPALLOW_QUIET_SLOTS];

/* Returns TRUE when this line is to be kept quiet; else sets *suffix_r
   to what the written line adds ("" or the count). */
static bool
passdb_ipallow_quiet_check(const struct ipallow_log_ctx *ctx,
			   const char **suffix_r)
{
	struct passdb_ipallow_quiet_slot *slot;
	char ip[IPALLOW_ADDR_STRLEN];
	const char *key;

	*suffix_r = "";
	key = t_strdup_printf("%s\n%s", ctx->user == NULL ? "" : ctx->user,
			      ipallow_addr_to_str(&ctx->client_ip, ip));
	slot = &passdb_ipallow_quiet[str_hash(key) % IPALLOW_QUIET_SLOTS];
	if (slot->key != NULL && strcmp(slot->key, key) == 0 &&
	    ioloop_time - slot->since < IPALLOW_QUIET_SECS &&
	    ioloop_time >= slot->since) {
		slot->suppressed++;
		return TRUE;
	}
	if (slot->key != NULL && strcmp(slot->key, key) == 0 &&
	    slot->suppressed > 0) {
		*suffix_r = t_strdup_printf(" [%u more such lines for this "
			"user and address in %d s were not logged]",
			slot->suppressed,
			(int)(ioloop_time - slot->since));
	}
	i_free(slot->key);
	slot->key = i_strdup(key);
	slot->since = ioloop_time;
	slot->suppressed = 0;
	return FALSE;
}

/* A line kept quiet: at debug level, so written only where debug lines
   are (auth_debug, a log_debug filter); the event still reaches
   metrics. */
static void
passdb_ipallow_log_quiet(struct auth_request *request,
			 const struct ipallow_log_ctx *ctx,
			 const struct ipallow_decision *dec, const char *suffix)
{
	char line[IPALLOW_LOG_LINE_MAX];
	struct event_passthrough *e;

	e = event_create_passthrough(authdb_event(request))->
		set_name(IPALLOW_EVENT_NAME)->
		add_str("result", ipallow_result_to_string(dec->result))->
		add_str("rule", ipallow_rule_to_string(dec->rule))->
		add_str("service", ctx->service == NULL ? "" : ctx->service);
	(void)ipallow_log_decision(dec, ctx, line, sizeof(line));
	e_debug(e->event(), IPALLOW_LOG_PREFIX"%s%s [not logged at info: "
		"repeated within %d s]", line, suffix, IPALLOW_QUIET_SECS);
}

static void passdb_ipallow_quiet_free(void)
{
	unsigned int i;

	for (i = 0; i < IPALLOW_QUIET_SLOTS; i++)
		i_free(passdb_ipallow_quiet[i].key);
}

/* Decides one login; returns the text the log line ends with. Every
   path that is not an explicit decision of the core denies. */
static const char *
passdb_ipallow_decide(struct auth_request *request,
		      struct ipallow_passdb_module *module,
		      struct ipallow_log_ctx *ctx,
		      struct ipallow_decision *dec_r)
{
	struct ipallow_request req;
	bool ip_ok, peer_ok;

	i_zero(ctx);
	ctx->user = request->fields.user;
	ctx->service = request->fields.service;
	ctx->field = passdb_ipallow_field(module);
	ip_ok = ipallow_addr_from_dovecot(&request->fields.remote_ip,
					   &ctx->client_ip);
	peer_ok = ipallow_addr_from_dovecot(&request->fields.real_remote_ip,
					     &ctx->peer_ip);

	i_zero(dec_r);
	dec_r->result = IPALLOW_RESULT_DENY;
	dec_r->rule = IPALLOW_RULE_INTERNAL_ERROR;
	if (!request->fields.skip_password_check) {
		/* No passdb before us verified the password. The placement
		   check makes this impossible; refuse rather than guess. */
		return ": reached before any passdb verified the password "
			"(the ipallow passdb needs skip = unauthenticated)";
	}
	if (request->passdbs_seen_internal_failure) {
		/* Dovecot dropped the fields of a passdb that failed and
		   went on: the list may have been among them, and no list
		   means "unrestricted". Tempfail instead (issue 10). */
		return ": an earlier passdb of this login had an internal "
			"failure, so the list it may have returned is missing";
	}
	if (!ip_ok || !peer_ok)
		return ": unknown address family";

	i_zero(&req);
	req.service = request->fields.service;
	req.list_text = passdb_ipallow_list_text(request, ctx->field);
	req.client_ip = ctx->client_ip;
	(void)ipallow_decide(module->policy, &req, dec_r);
	return "";
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
		break;
	}
	/* CRAM-MD5, SCRAM, DIGEST-MD5, ...: the mechanism checks the
	   password only after the passdb chain, so a reason would be shown
	   to anyone who knows the user name. */
	if (credentials_lookup || module->policy->reject_reason[0] == '\0')
		return IPALLOW_OUTCOME_DENY_SILENT;
	return IPALLOW_OUTCOME_DENY;
}

static enum ipallow_outcome
passdb_ipallow_check(struct auth_request *request, bool credentials_lookup)
{
	struct ipallow_passdb_module *module =
		(struct ipallow_passdb_module *)request->passdb->passdb;
	struct ipallow_decision dec;
	struct ipallow_log_ctx ctx;
	enum ipallow_outcome outcome;
	const char *suffix, *quiet_suffix = "";
	bool quiet = FALSE;

	passdb_ipallow_warn_native(request);
	suffix = passdb_ipallow_decide(request, module, &ctx, &dec);
	outcome = passdb_ipallow_outcome(request, module, &dec,
					 credentials_lookup);
	if (outcome == IPALLOW_OUTCOME_NOT_GRANTED)
		suffix = " [no passdb before granted the login]";
	else if (outcome == IPALLOW_OUTCOME_DENY_SILENT && credentials_lookup) {
		quiet = passdb_ipallow_quiet_check(&ctx, &quiet_suffix);
		suffix = t_strdup_printf(" [mech=%s: password not verified "
			"yet, reason not sent]%s",
			request->fields.mech_name == NULL ? "none" :
			request->fields.mech_name, quiet_suffix);
	}
	if (quiet)
		passdb_ipallow_log_quiet(request, &ctx, &dec, suffix);
	else
		passdb_ipallow_log(request, module, &ctx, &dec, suffix);
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
				       module->policy->reject_reason, NULL);
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

/*
 * Placement check (SPEC §6): a chain in which a login could succeed
 * without passing through this passdb is a configuration error.
 */

static const char *passdb_ipallow_db_name(const struct auth_passdb *passdb)
{
	const char *name = passdb->set->name;

	return t_strdup_printf("passdb %s", name[0] != '\0' ? name :
			       passdb->set->driver);
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

/* default_fields and override_fields on the ipallow passdb are applied
   around our own lookup and can set or clear the list
   (default_fields = userdb_allow_nets= makes every list empty). */
static const char *
passdb_ipallow_check_our_fields(const struct auth_passdb *ours)
{
	if (ours->set->default_fields[0] != '\0')
		return "the ipallow passdb cannot have default_fields: they "
			"can change the network list before the check; set "
			"them on the passdb that verifies the password";
	if (ours->set->override_fields[0] != '\0')
		return "the ipallow passdb cannot have override_fields: they "
			"can change the network list before the check; set "
			"them on the passdb that verifies the password";
	return NULL;
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
	if (ours->set->mechanisms[0] != '\0' ||
	    ours->set->username_filter[0] != '\0') {
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
		     auth->set->use_winbind)) {
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

static void passdb_ipallow_check_placement(struct ipallow_passdb_module *module)
{
	struct auth *auth;
	const char *error;

	array_foreach_elem(&auths, auth) {
		error = passdb_ipallow_check_chain(auth);
		if (error == NULL && passdb_ipallow_chain_has_us(auth))
			error = passdb_ipallow_check_mechs(auth);
		if (error == NULL)
			continue;
		error = t_strdup_printf(IPALLOW_LOG_PREFIX
			"misplaced in the passdb chain%s%s: %s (see %s)",
			auth->service == NULL ? "" : " of protocol ",
			auth->service == NULL ? "" : auth->service,
			error, IPALLOW_SNIPPET);
		if (!module->placement_warn_only)
			i_fatal("%s", error);
		i_error("%s; ignored because of placement_check=warn", error);
	}
}

static struct passdb_module *
passdb_ipallow_preinit(pool_t pool, const char *args)
{
	struct ipallow_passdb_module *module;
	const char *const *argv, *configured_path = NULL;
	char *error = NULL;

	module = p_new(pool, struct ipallow_passdb_module, 1);
	/* No caching of our own result: it depends on the client IP. */
	module->module.default_cache_key = NULL;
	module->module.blocking = FALSE;
	module->policy_path = IPALLOW_POLICY_DEFAULT_PATH;

	for (argv = t_strsplit_spaces(args, " "); *argv != NULL; argv++) {
		if (strcmp(*argv, "placement_check=warn") == 0)
			module->placement_warn_only = TRUE;
		else if (strcmp(*argv, "placement_check=fatal") == 0)
			module->placement_warn_only = FALSE;
		else if (**argv == '/')
			configured_path = p_strdup(pool, *argv);
		else {
			i_fatal("passdb "IPALLOW_DRIVER_NAME": unknown argument "
				"'%s' (args: [policy file path] "
				"[placement_check=warn])", *argv);
		}
	}

	if (configured_path != NULL)
		module->policy_path = configured_path;
	if (worker) {
		/* Auth workers only run blocking passdbs; ours runs in the
		   main auth process. */
		return &module->module;
	}
	/* preinit runs before the auth process drops root, so the policy
	   file may be readable by root only. */
	/* SPEC §9.1: a path given in args must exist; only the built-in
	   default may be missing. */
	if (ipallow_policy_load_path(configured_path, &module->policy_path,
				     &module->policy, &error) < 0) {
		/* the core's errors start with the file name */
		module->load_error = error != NULL ? p_strdup(pool, error) :
			p_strdup_printf(pool, "%s: out of memory",
					module->policy_path);
		free(error);
		i_error(IPALLOW_LOG_PREFIX"policy %s not loaded, every login "
			"through the ipallow passdb will be refused: %s",
			module->policy_path, module->load_error);
	} else if (module->policy->file_missing) {
		i_info(IPALLOW_LOG_PREFIX"policy file %s not found, "
		       "using built-in defaults", module->policy_path);
	}
	return &module->module;
}

static void passdb_ipallow_init(struct passdb_module *_module)
{
	struct ipallow_passdb_module *module =
		(struct ipallow_passdb_module *)_module;

	passdb_ipallow_check_placement(module);
}

static void passdb_ipallow_deinit(struct passdb_module *_module)
{
	struct ipallow_passdb_module *module =
		(struct ipallow_passdb_module *)_module;

	ipallow_policy_free(&module->policy);
	passdb_ipallow_quiet_free();
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
