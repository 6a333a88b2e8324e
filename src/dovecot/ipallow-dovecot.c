/* Shared by the Dovecot adapters; see ipallow-dovecot.h. */
#include "lib.h"
#include "net.h"

#include "ipallow-dovecot.h"
#include "ipallow-policy.h"

#include <stdlib.h>

#include <sys/socket.h>

bool ipallow_addr_from_dovecot(const struct ip_addr *ip,
			       struct ipallow_addr *addr_r)
{
	if (ip == NULL) {
		ipallow_addr_set_none(addr_r);
		return TRUE;
	}
	switch (ip->family) {
	case 0:
		ipallow_addr_set_none(addr_r);
		return TRUE;
	case AF_INET:
		ipallow_addr_set_ipv4(addr_r,
			(const uint8_t *)&ip->u.ip4.s_addr);
		return TRUE;
	case AF_INET6:
		ipallow_addr_set_ipv6(addr_r, ip->u.ip6.s6_addr);
		return TRUE;
	}
	ipallow_addr_set_none(addr_r);
	return FALSE;
}

void ipallow_dovecot_policy_load(struct ipallow_dovecot_policy *dp,
				 const char *configured_path,
				 const char *refused)
{
	const char *path;
	char *error = NULL;

	i_zero(dp);
	/* SPEC 9.1: a configured path must exist; only the built-in
	   default may be missing. */
	if (ipallow_policy_load_path(configured_path, &path, &dp->policy,
				     &error) < 0 ||
	    ipallow_checker_create(dp->policy, &dp->checker) < 0) {
		ipallow_policy_free(&dp->policy);
		dp->path = i_strdup(path);
		/* the core's errors start with the file name */
		dp->error = error != NULL ? i_strdup(error) :
			i_strdup_printf("%s: out of memory", path);
		free(error);
		i_error(IPALLOW_LOG_PREFIX"policy %s not loaded, %s will be "
			"refused: %s", dp->path, refused, dp->error);
		return;
	}
	dp->path = i_strdup(path);
	if (dp->policy->file_missing) {
		i_info(IPALLOW_LOG_PREFIX"policy file %s not found, "
		       "using built-in defaults", dp->path);
	}
}

void ipallow_dovecot_policy_free(struct ipallow_dovecot_policy *dp)
{
	/* the checker's lists point into the policy's sets: it goes first */
	ipallow_checker_free(&dp->checker);
	ipallow_policy_free(&dp->policy);
	i_free(dp->error);
	i_free(dp->path);
}

bool ipallow_dovecot_decide(struct ipallow_dovecot_policy *dp,
			    const struct ipallow_login *login,
			    struct ipallow_decision *dec_r)
{
	bool goes_on;

	goes_on = ipallow_check(dp->checker, login, dec_r);
	if (dp->checker == NULL) {
		/* "deny ... (policy not loaded): <file>: <why>" */
		dec_r->reason = dp->error != NULL ? dp->error :
			"policy not loaded";
	}
	return goes_on;
}

struct event_passthrough *
ipallow_dovecot_event(struct event *event, const struct ipallow_login *login,
		      const struct ipallow_decision *dec)
{
	return event_create_passthrough(event)->
		set_name(IPALLOW_EVENT_NAME)->
		add_str("result", ipallow_result_to_string(dec->result))->
		add_str("rule", ipallow_rule_to_string(dec->rule))->
		add_str("service", login->service == NULL ? "" : login->service);
}

void ipallow_dovecot_log(struct event *event,
			 const struct ipallow_login *login,
			 const struct ipallow_decision *dec,
			 const char *note)
{
	char line[IPALLOW_MESSAGE_MAX];
	struct event_passthrough *e;

	if (ipallow_message_invalid(dec, login, line, sizeof(line)) != NULL)
		e_warning(event, IPALLOW_LOG_PREFIX"%s", line);
	if (ipallow_message_bad_mode(dec, login, line, sizeof(line)) != NULL)
		e_warning(event, IPALLOW_LOG_PREFIX"%s", line);
	if (ipallow_message_geoip_error(dec, login, line, sizeof(line)) != NULL)
		e_error(event, IPALLOW_LOG_PREFIX"%s", line);

	e = ipallow_dovecot_event(event, login, dec)->
		add_str("list", ipallow_list_source_to_string(dec->list_source))->
		add_str("list_cache", ipallow_list_cache_to_string(dec->list_cache));
	if (!ipallow_message_is_notable(dec)) {
		/* allow, exempt, unrestricted: a debug line, formatted only
		   when someone reads debug lines or a metric wants the event
		   (event_want_debug() says both); most logins are these */
		struct event *ev = e->event();

		if (!event_want_debug(ev)) {
			event_send_abort(ev);
			return;
		}
		(void)ipallow_message_decision(dec, login, line, sizeof(line));
		e_debug(ev, IPALLOW_LOG_PREFIX"%s%s", line, note);
		return;
	}
	(void)ipallow_message_decision(dec, login, line, sizeof(line));
	if (dec->rule == IPALLOW_RULE_NO_POLICY ||
	    dec->rule == IPALLOW_RULE_INTERNAL_ERROR) {
		e_error(e->event(), IPALLOW_LOG_PREFIX"%s%s", line, note);
	} else {
		e_info(e->event(), IPALLOW_LOG_PREFIX"%s%s", line, note);
	}
}
