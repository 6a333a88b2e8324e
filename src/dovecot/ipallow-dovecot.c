/* Shared by the Dovecot adapters; see ipallow-dovecot.h. */
#include "lib.h"
#include "net.h"

#include "ipallow-dovecot.h"

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

void ipallow_dovecot_log(struct event *event,
			 const struct ipallow_policy *policy,
			 const char *load_error,
			 const struct ipallow_log_ctx *ctx,
			 const struct ipallow_decision *dec,
			 const char *suffix)
{
	char line[IPALLOW_MESSAGE_MAX];
	struct event_passthrough *e;
	const char *invalid;

	if (policy != NULL) {
		invalid = ipallow_message_invalid(dec, ctx, policy->on_invalid,
					      line, sizeof(line));
		if (invalid != NULL)
			e_warning(event, IPALLOW_LOG_PREFIX"%s", invalid);
	}
	if (ipallow_message_bad_mode(dec, ctx, line, sizeof(line)) != NULL)
		e_warning(event, IPALLOW_LOG_PREFIX"%s", line);
	if (ipallow_message_geoip_error(dec, ctx, line, sizeof(line)) != NULL)
		e_error(event, IPALLOW_LOG_PREFIX"%s", line);

	e = event_create_passthrough(event)->
		set_name(IPALLOW_EVENT_NAME)->
		add_str("result", ipallow_result_to_string(dec->result))->
		add_str("rule", ipallow_rule_to_string(dec->rule))->
		add_str("service", ctx->service == NULL ? "" : ctx->service)->
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
		(void)ipallow_message_decision(dec, ctx, line, sizeof(line));
		e_debug(ev, IPALLOW_LOG_PREFIX"%s%s", line, suffix);
		return;
	}
	(void)ipallow_message_decision(dec, ctx, line, sizeof(line));
	if (dec->rule == IPALLOW_RULE_NO_POLICY) {
		e_error(e->event(), IPALLOW_LOG_PREFIX"%s: %s", line,
			load_error == NULL ? "policy not loaded" : load_error);
	} else if (dec->rule == IPALLOW_RULE_INTERNAL_ERROR) {
		e_error(e->event(), IPALLOW_LOG_PREFIX"%s%s", line, suffix);
	} else {
		e_info(e->event(), IPALLOW_LOG_PREFIX"%s%s", line, suffix);
	}
}
