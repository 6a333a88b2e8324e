/* dovecot-ipallow: the session-time check, mail plugin "ipallow".

   Loaded with mail_plugins = $mail_plugins ipallow. When a mail process
   creates the user of a new session (Dovecot's mail_user_created hook,
   called from mail_user_init() before any namespace or mailbox exists), it
   reads the network list from the userdb reply, takes the session's client
   IP and service, and asks the same core as the passdb (ipallow_decide()).
   A refusal sets mail_user->error, the documented way for a plugin to fail
   the user's initialization: the session ends before mail is touched.

   What the client then sees is fixed by Dovecot, not by us: the mail
   process answers the login that the login process handed over, and a
   failed user initialization has a hard-coded reply in each service's
   main.c (imap: tagged OK "Logged in, but initialization failed." plus
   "* BYE Internal error occurred..."; pop3: "-ERR [SYS/TEMP] Internal
   error occurred..."). No hook of Dovecot 2.3 lets a mail plugin change
   that reply; doc/mail-plugin.md has the exact lines and why the refusal
   that carries reject_reason belongs to the login-time passdb.

   Delivery and administration are never blocked: see
   ipallow_internal_services[] below. */

#include "lib.h"
#include "array.h"
#include "net.h"
#include "mail-user.h"
#include "mail-storage-hooks.h"
#include "ipallow-plugin.h"
#include "ipallow-mail-compat.h"

#include "ipallow-addr.h"
#include "ipallow-decide.h"
#include "ipallow-dovecot.h"
#include "ipallow-message.h"
#include "ipallow-policy.h"

#include <sys/socket.h>

/* Services that deliver or administer mail instead of serving a client
   that logged in. Their sessions are never checked, whatever the policy's
   exempt.services says (which lists most of them too): a restricted
   mailbox still receives every message, and operators, indexers and
   replication still reach it. Matched against both the process's service
   name and the service of the userdb lookup. Every other service, known or
   not, is checked. */
static const char *const ipallow_internal_services[] = {
	"lmtp",			/* delivery over LMTP */
	"lda",			/* dovecot-lda */
	"doveadm",		/* doveadm, doveadm-server, dsync replication */
	"dsync",
	"indexer",
	"indexer-worker",	/* FTS and cache indexing */
	"imap-urlauth",		/* URLAUTH fetches for an already checked */
	"imap-urlauth-worker",	/* imap or submission session */
	"quota-status",		/* Postfix policy queries */
	"sieve-filter",		/* Pigeonhole's administrator tools */
	"sieve-test",
	NULL
};

/* One policy file, loaded the first time a session in this process needs
   it and kept for the life of the process, as the auth process keeps the
   passdb's: "doveadm reload" starts new processes, which read the file
   again. A policy that did not load is kept too (policy NULL), so that a
   broken file costs one error line per process, not one parse per session;
   every session it governs is refused. */
struct ipallow_mail_policy {
	struct ipallow_mail_policy *next;
	char *path;
	struct ipallow_policy *policy;	/* NULL: not loaded */
	char *error;			/* why not */
};

const char *ipallow_plugin_version = DOVECOT_ABI_VERSION;

static struct ipallow_mail_policy *ipallow_mail_policies = NULL;

static bool ipallow_mail_service_is_internal(const char *service)
{
	return service != NULL &&
		str_array_find(ipallow_internal_services, service);
}

/* The value of field in the userdb reply: NULL when absent, "" when the
   userdb returned the bare key (an empty value). */
static const char *
ipallow_mail_userdb_field(const struct mail_user *user, const char *field)
{
	const char *const *fieldp;
	size_t len = strlen(field);

	if (user->userdb_fields == NULL)
		return NULL;
	for (fieldp = user->userdb_fields; *fieldp != NULL; fieldp++) {
		if (strncmp(*fieldp, field, len) != 0)
			continue;
		if ((*fieldp)[len] == '=')
			return *fieldp + len + 1;
		if ((*fieldp)[len] == '\0')
			return "";
	}
	return NULL;
}

/* The core's field getter over the userdb reply. A login the passdb let
   in although the mailbox is marked for a password change (its real
   peer, a webmail host, or its service is exempt: SPEC 9.5) says so in
   the userdb reply, since this process cannot see the real peer; the
   mark is then not enforced here either. */
static const char *ipallow_mail_get_field(void *context, const char *name)
{
	struct mail_user *user = context;

	if (strcmp(name, IPALLOW_PASSWORD_CHANGE_FIELD) == 0 &&
	    ipallow_password_change_marked(ipallow_mail_userdb_field(user,
			IPALLOW_PASSWORD_CHANGE_EXEMPTED_FIELD)))
		return NULL;
	return ipallow_mail_userdb_field(user, name);
}

static struct ipallow_mail_policy *
ipallow_mail_policy_get(const char *path)
{
	struct ipallow_mail_policy *lp;
	char *error = NULL;

	for (lp = ipallow_mail_policies; lp != NULL; lp = lp->next) {
		if (strcmp(lp->path, path) == 0)
			return lp;
	}

	lp = i_new(struct ipallow_mail_policy, 1);
	lp->path = i_strdup(path);
	/* SPEC §9.1: only the built-in default (no setting) may be
	   missing; a configured path must exist. */
	if (ipallow_policy_load_path(path, &path, &lp->policy, &error) < 0) {
		lp->policy = NULL;
		lp->error = i_strdup(error != NULL ? error : "out of memory");
		free(error);
		i_error(IPALLOW_LOG_PREFIX"policy %s not loaded, every session "
			"checked by the ipallow mail plugin will be refused: %s",
			path, lp->error);
	} else if (lp->policy->file_missing) {
		i_info(IPALLOW_LOG_PREFIX"policy file %s not found, "
		       "using built-in defaults", path);
	}
	lp->next = ipallow_mail_policies;
	ipallow_mail_policies = lp;
	return lp;
}

static void ipallow_mail_policies_free(void)
{
	struct ipallow_mail_policy *lp, *next;

	for (lp = ipallow_mail_policies; lp != NULL; lp = next) {
		next = lp->next;
		if (lp->policy != NULL)
			ipallow_policy_free(&lp->policy);
		i_free(lp->error);
		i_free(lp->path);
		i_free(lp);
	}
	ipallow_mail_policies = NULL;
}

/* Logs the decision and emits ipallow_check_finished, with the same
   lines and levels as the passdb: deny and report at info, an invalid
   list as a warning, the rest at debug (mail_debug). policy NULL:
   load_error says why there is none. */
static void
ipallow_mail_log(struct mail_user *user,
		    const struct ipallow_policy *policy,
		    const char *load_error,
		    const struct ipallow_log_ctx *ctx,
		    const struct ipallow_decision *dec, const char *suffix)
{
	struct event *event;

	event = event_create(user->event);
	if (user->conn.local_ip != NULL && user->conn.local_ip->family != 0)
		event_add_str(event, "local_ip", net_ip2addr(user->conn.local_ip));
	ipallow_dovecot_log(event, policy, load_error, ctx, dec, suffix);
	event_unref(&event);
}

/* Decides the session. Returns TRUE if it may go on; on FALSE the
   decision has been logged and the caller refuses the session. */
static bool
ipallow_mail_check(struct mail_user *user, struct ipallow_decision *dec)
{
	const struct ipallow_mail_policy *lp;
	struct ipallow_policy *policy = NULL;
	struct ipallow_request req;
	struct ipallow_log_ctx ctx;
	const char *path, *load_error = NULL, *suffix = "";
	bool ip_ok;

	i_zero(&ctx);
	ctx.user = user->username;
	ctx.service = ipallow_mail_session_service(user);
	ctx.field = IPALLOW_DEFAULT_FIELD;
	/* The mail process knows only the address the login process
	   accepted (forwarded ones included), not the TCP peer. */
	ipallow_addr_set_none(&ctx.peer_ip);

	i_zero(dec);
	dec->result = IPALLOW_RESULT_DENY;
	dec->rule = IPALLOW_RULE_INTERNAL_ERROR;

	ip_ok = ipallow_addr_from_dovecot(user->conn.remote_ip, &ctx.client_ip);
	if (ipallow_mail_service_is_internal(user->service) ||
	    ipallow_mail_service_is_internal(ctx.service)) {
		/* First of all: delivery must work even when the policy
		   does not load or the address is odd. */
		dec->result = IPALLOW_RESULT_EXEMPT;
		dec->rule = IPALLOW_RULE_EXEMPT_SERVICE;
	} else if (!ip_ok) {
		suffix = ": unknown address family";
	} else if (ipallow_mail_policy_path(user, &path, &load_error) < 0) {
		/* no policy to decide with: denied as not loaded */
		dec->rule = IPALLOW_RULE_NO_POLICY;
	} else {
		lp = ipallow_mail_policy_get(path);
		policy = lp->policy;
		/* lp->error starts with the file name */
		load_error = lp->error;
		if (policy != NULL)
			ctx.field = policy->field;

		i_zero(&req);
		req.service = ctx.service;
		req.user = user->username;
		req.get_field = ipallow_mail_get_field;
		req.field_context = user;
		req.client_ip = ctx.client_ip;
		(void)ipallow_decide(policy, &req, dec);
	}
	ipallow_mail_log(user, policy, load_error, &ctx, dec, suffix);
	return dec->result != IPALLOW_RESULT_DENY &&
		dec->result != IPALLOW_RESULT_PASSWORD_CHANGE;
}

static void ipallow_mail_user_created(struct mail_user *user)
{
	struct ipallow_decision dec;

	if (user->autocreated) {
		/* The owner of a shared mailbox, or LDA's raw user: not a
		   login. The session that reaches it was checked. */
		return;
	}
	if (user->session_restored) {
		/* This is IMAP unhibernation, not a real login: the
		   session was checked when it began. */
		return;
	}
	if (user->error != NULL) {
		/* Initialization fails anyway; no decision to log. */
		return;
	}
	if (ipallow_mail_check(user, &dec))
		return;

	/* Fail mail_user_init(): the mail process ends the session before
	   it creates a namespace. Dovecot logs this text as an error. */
	user->error = p_strdup_printf(user->pool,
		IPALLOW_LOG_PREFIX"session refused (rule=%s)",
		ipallow_rule_to_string(dec.rule));
}

static struct mail_storage_hooks ipallow_mail_storage_hooks = {
	.mail_user_created = ipallow_mail_user_created,
};

void ipallow_plugin_init(struct module *module)
{
	mail_storage_hooks_add(module, &ipallow_mail_storage_hooks);
}

void ipallow_plugin_deinit(void)
{
	mail_storage_hooks_remove(&ipallow_mail_storage_hooks);
	ipallow_mail_policies_free();
}
