/* dovecot-ipallow: the session-time check, mail plugin "ipallow".

   Loaded with mail_plugins = $mail_plugins ipallow. When a mail process
   creates the user of a new session (Dovecot's mail_user_created hook,
   called from mail_user_init() before any namespace or mailbox exists), it
   reads the network list from the userdb reply, takes the session's client
   IP and service, and asks the same core as the passdb (ipallow_check()).
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
   IPALLOW_INTERNAL_SERVICES in ipallow-dovecot.h. */

#include "lib.h"
#include "array.h"
#include "net.h"
#include "mail-user.h"
#include "mail-storage-hooks.h"
#include "ipallow-plugin.h"
#include "ipallow-mail-compat.h"

#include "ipallow-dovecot.h"

/* Never checked, whatever the policy says: see ipallow-dovecot.h. Matched
   against both the process's service name and the service of the userdb
   lookup. Every other service, known or not, is checked. */
static const char *const ipallow_mail_internal_services[] = {
	IPALLOW_INTERNAL_SERVICES, NULL
};

/* The policy files of this process, one per path (the path may differ
   per protocol), each loaded the first time a session needs it. */
struct ipallow_mail_policy {
	struct ipallow_mail_policy *next;
	char *configured_path;
	struct ipallow_dovecot_policy loaded;
};

const char *ipallow_plugin_version = DOVECOT_ABI_VERSION;

static struct ipallow_mail_policy *ipallow_mail_policies = NULL;

static bool ipallow_mail_service_is_internal(const char *service)
{
	return service != NULL &&
		str_array_find(ipallow_mail_internal_services, service);
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

static struct ipallow_dovecot_policy *
ipallow_mail_policy_get(const char *configured_path)
{
	struct ipallow_mail_policy *mp;

	for (mp = ipallow_mail_policies; mp != NULL; mp = mp->next) {
		if (strcmp(mp->configured_path, configured_path) == 0)
			return &mp->loaded;
	}
	mp = i_new(struct ipallow_mail_policy, 1);
	mp->configured_path = i_strdup(configured_path);
	ipallow_dovecot_policy_load(&mp->loaded, configured_path,
		"every session checked by the ipallow mail plugin");
	mp->next = ipallow_mail_policies;
	ipallow_mail_policies = mp;
	return &mp->loaded;
}

static void ipallow_mail_policies_free(void)
{
	struct ipallow_mail_policy *mp, *next;

	for (mp = ipallow_mail_policies; mp != NULL; mp = next) {
		next = mp->next;
		ipallow_dovecot_policy_free(&mp->loaded);
		i_free(mp->configured_path);
		i_free(mp);
	}
	ipallow_mail_policies = NULL;
}

/* Logs the decision and emits ipallow_check_finished, with the same
   lines and levels as the passdb: deny and report at info, an invalid
   list as a warning, the rest at debug (mail_debug). */
static void
ipallow_mail_log(struct mail_user *user, const struct ipallow_login *login,
		 const struct ipallow_decision *dec)
{
	struct event *event;

	event = event_create(user->event);
	if (user->conn.local_ip != NULL && user->conn.local_ip->family != 0)
		event_add_str(event, "local_ip", net_ip2addr(user->conn.local_ip));
	ipallow_dovecot_log(event, login, dec, "");
	event_unref(&event);
}

/* Decides the session. Returns TRUE if it may go on; on FALSE the
   decision has been logged and the caller refuses the session. */
static bool
ipallow_mail_check(struct mail_user *user, struct ipallow_decision *dec)
{
	struct ipallow_login login;
	const char *path, *error = NULL;
	bool ip_ok;

	i_zero(&login);
	login.user = user->username;
	login.service = ipallow_mail_session_service(user);
	login.get_field = ipallow_mail_get_field;
	login.field_context = user;
	/* The mail process knows only the address the login process
	   accepted (forwarded ones included), not the TCP peer. */
	ipallow_addr_set_none(&login.peer_ip);
	ip_ok = ipallow_addr_from_dovecot(user->conn.remote_ip,
					  &login.client_ip);

	ipallow_decision_init(dec, NULL, NULL);
	if (ipallow_mail_service_is_internal(user->service) ||
	    ipallow_mail_service_is_internal(login.service)) {
		/* First of all: delivery must work even when the policy
		   does not load or the address is odd. */
		dec->result = IPALLOW_RESULT_EXEMPT;
		dec->rule = IPALLOW_RULE_EXEMPT_SERVICE;
	} else if (!ip_ok) {
		dec->reason = "unknown address family";
	} else if (ipallow_mail_policy_path(user, &path, &error) < 0) {
		/* no policy to decide with: denied as not loaded */
		dec->rule = IPALLOW_RULE_NO_POLICY;
		dec->reason = error != NULL ? error : "policy not loaded";
	} else {
		(void)ipallow_dovecot_decide(ipallow_mail_policy_get(path),
					     &login, dec);
	}
	ipallow_mail_log(user, &login, dec);
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
