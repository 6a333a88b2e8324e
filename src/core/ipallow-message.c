/* The texts of the decision, invalid-list, mode and database lines (SPEC
   §6), formatted for the adapters, which log them, and for the CLI, which
   prints some: every part of the product speaks the same words. */
#include "config.h"
#include "ipallow-message.h"

#include <stdio.h>
#include <string.h>

/* A key=value field: a space is escaped too, so that a user name such
   as "eve service=caldav" cannot forge a field of its own in the line. */
static const char *escaped(const char *value, char *buf, size_t size)
{
	if (value == NULL || *value == '\0')
		return "-";
	ipallow_escape_field(value, strlen(value), buf, size);
	return buf;
}

const char *ipallow_message_decision(const struct ipallow_decision *dec,
				     const struct ipallow_login *login,
				     char *buf, size_t size)
{
	char user[IPALLOW_ESCAPED_STRLEN], service[IPALLOW_ESCAPED_STRLEN];
	char ip[IPALLOW_ADDR_STRLEN], peer[IPALLOW_ADDR_STRLEN + 8] = "";
	char rule[96];

	if (login->peer_ip.family != IPALLOW_FAMILY_NONE &&
	    !ipallow_addr_equals(&login->peer_ip, &login->client_ip)) {
		char addr[IPALLOW_ADDR_STRLEN];

		snprintf(peer, sizeof(peer), " peer=%s",
			 ipallow_addr_to_str(&login->peer_ip, addr));
	}
	snprintf(buf, size, "%s user=%s service=%s ip=%s%s (%s)%s%s",
		 ipallow_result_describe(dec->result),
		 escaped(login->user, user, sizeof(user)),
		 escaped(login->service, service, sizeof(service)),
		 ipallow_addr_to_str(&login->client_ip, ip), peer,
		 ipallow_rule_describe(dec->rule,
				       ipallow_decision_list_name(dec),
				       rule, sizeof(rule)),
		 dec->reason != NULL ? ": " : "",
		 dec->reason != NULL ? dec->reason : "");
	return buf;
}

const char *ipallow_message_invalid(const struct ipallow_decision *dec,
				    const struct ipallow_login *login,
				    char *buf, size_t size)
{
	char user[IPALLOW_ESCAPED_STRLEN], diag[IPALLOW_DIAG_STRLEN];
	char more[64] = "";
	const char *tail = "";

	if (dec->error_count == 0)
		return NULL;
	if (dec->error_count > 1)
		snprintf(more, sizeof(more), " (and %u more error%s)",
			 dec->error_count - 1, dec->error_count == 2 ? "" : "s");
	if (dec->entries_skipped)
		tail = " (invalid entries skipped)";
	snprintf(buf, size, "invalid %s for user=%s: %s%s%s",
		 ipallow_decision_list_name(dec),
		 escaped(login->user, user, sizeof(user)),
		 ipallow_diag_format(&dec->first_error, diag), more, tail);
	return buf;
}

const char *ipallow_message_bad_mode(const struct ipallow_decision *dec,
				     const struct ipallow_login *login,
				     char *buf, size_t size)
{
	char user[IPALLOW_ESCAPED_STRLEN];

	if (!dec->mode_invalid)
		return NULL;
	snprintf(buf, size, "invalid %s_mode \"%s\" for user=%s: "
		 "must be enforce or report; enforce used", dec->field,
		 dec->mode_text, escaped(login->user, user, sizeof(user)));
	return buf;
}

const char *ipallow_message_geoip_error(const struct ipallow_decision *dec,
					const struct ipallow_login *login,
					char *buf, size_t size)
{
	char user[IPALLOW_ESCAPED_STRLEN], ip[IPALLOW_ADDR_STRLEN];

	if (dec->geoip_error == NULL)
		return NULL;
	snprintf(buf, size, "country/ASN lookup failed for user=%s ip=%s: "
		 "%s; its country and asn entries matched nothing",
		 escaped(login->user, user, sizeof(user)),
		 ipallow_addr_to_str(&login->client_ip, ip), dec->geoip_error);
	return buf;
}

bool ipallow_message_is_notable(const struct ipallow_decision *dec)
{
	switch (dec->result) {
	case IPALLOW_RESULT_DENY:
	case IPALLOW_RESULT_REPORT:
	case IPALLOW_RESULT_PASSWORD_CHANGE:
		return true;
	case IPALLOW_RESULT_ALLOW:
	case IPALLOW_RESULT_EXEMPT:
	case IPALLOW_RESULT_UNRESTRICTED:
		return false;
	}
	return true;
}
