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
#include "passdb-ipallow.h"
#include "ipallow-auth-compat.h"

#include "ipallow-addr.h"
#include "ipallow-dovecot.h"
#include "ipallow-decide.h"
#include "ipallow-list.h"
#include "ipallow-message.h"
#include "ipallow-policy.h"

#include <stdlib.h>
#include <sys/socket.h>

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
	char user[IPALLOW_DIAG_TEXT_MAX * 4 + 8];
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

static const char *
passdb_ipallow_field(const struct ipallow_passdb_module *module)
{
	return module->policy != NULL ? module->policy->field :
		IPALLOW_DEFAULT_FIELD;
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
		   const struct ipallow_passdb_module *module,
		   const struct ipallow_log_ctx *ctx,
		   const struct ipallow_decision *dec, const char *suffix)
{
	struct event *event;

	event = ipallow_request_event(request);
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
	char line[IPALLOW_MESSAGE_MAX];
	struct event_passthrough *e;
	struct event *event = ipallow_request_event(request);

	e = event_create_passthrough(event)->
		set_name(IPALLOW_EVENT_NAME)->
		add_str("result", ipallow_result_to_string(dec->result))->
		add_str("rule", ipallow_rule_to_string(dec->rule))->
		add_str("service", ctx->service == NULL ? "" : ctx->service);
	(void)ipallow_message_decision(dec, ctx, line, sizeof(line));
	e_debug(e->event(), IPALLOW_LOG_PREFIX"%s%s [not logged at info: "
		"repeated within %d s]", line, suffix, IPALLOW_QUIET_SECS);
	event_unref(&event);
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
	ctx->service = ipallow_request_service(request);
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
	req.service = ipallow_request_service(request);
	req.user = request->fields.user;
	req.get_field = passdb_ipallow_get_field;
	req.field_context = request;
	req.client_ip = ctx->client_ip;
	/* the real peer, for password_change.exempt_peers */
	req.peer_ip = ctx->peer_ip;
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
	const char *path;
	char *error = NULL;

	module = p_new(pool, struct ipallow_passdb_module, 1);
	/* No caching of our own result: it depends on the client IP. */
	module->module.default_cache_key = NULL;
	module->module.blocking = FALSE;
	module->policy_path = configured_path == NULL ?
		IPALLOW_POLICY_DEFAULT_PATH : p_strdup(pool, configured_path);
	module->placement_warn_only = placement_warn_only;

	if (worker) {
		/* Auth workers only run blocking passdbs; ours runs in the
		   main auth process. */
		return module;
	}
	/* SPEC §9.1: a configured path must exist; only the built-in
	   default may be missing. */
	if (ipallow_policy_load_path(configured_path, &path, &module->policy,
				     &error) < 0) {
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

	ipallow_policy_free(&module->policy);
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
