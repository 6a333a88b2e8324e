/* The checker and the decision (SPEC §4). No I/O, no logging; the only
   state a check changes is the checker's cache. It starts at deny and
   only the explicit allow and exempt steps below change that. */
#include "config.h"
#include "ipallow-decide.h"
#include "ipallow-alloc.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

struct ipallow_checker {
	const struct ipallow_policy *policy;
	struct ipallow_parse_ctx parse_ctx;	/* from the policy, once */
	struct ipallow_cache *cache;
};

int ipallow_checker_create_sized(const struct ipallow_policy *policy,
				 unsigned int max_entries, size_t max_bytes,
				 struct ipallow_checker **checker_r)
{
	struct ipallow_checker *checker;

	*checker_r = NULL;
	checker = ipallow_calloc(1, sizeof(*checker));
	if (checker == NULL)
		return -1;
	checker->policy = policy;
	ipallow_policy_parse_ctx(policy, &checker->parse_ctx);
	checker->cache = ipallow_cache_create(max_entries, max_bytes);
	if (checker->cache == NULL) {
		ipallow_free(checker);
		return -1;
	}
	*checker_r = checker;
	return 0;
}

int ipallow_checker_create(const struct ipallow_policy *policy,
			   struct ipallow_checker **checker_r)
{
	return ipallow_checker_create_sized(policy,
					    IPALLOW_CACHE_DEFAULT_ENTRIES,
					    IPALLOW_CACHE_DEFAULT_BYTES,
					    checker_r);
}

const struct ipallow_policy *
ipallow_checker_policy(const struct ipallow_checker *checker)
{
	return checker->policy;
}

void ipallow_checker_get_stats(const struct ipallow_checker *checker,
			       struct ipallow_cache_stats *stats_r)
{
	ipallow_cache_get_stats(checker->cache, stats_r);
}

void ipallow_checker_free(struct ipallow_checker **_checker)
{
	struct ipallow_checker *checker = *_checker;

	if (checker == NULL)
		return;
	*_checker = NULL;
	ipallow_cache_free(&checker->cache);
	ipallow_free(checker);
}

static bool decide_set(struct ipallow_decision *dec, enum ipallow_result result,
		       enum ipallow_rule rule)
{
	dec->result = result;
	dec->rule = rule;
	return result != IPALLOW_RESULT_DENY &&
		result != IPALLOW_RESULT_PASSWORD_CHANGE;
}

/* Deny, or report when the mode that applies only reports. */
static bool decide_deny(struct ipallow_decision *dec, enum ipallow_rule rule)
{
	switch (dec->mode) {
	case IPALLOW_MODE_ENFORCE:
		return decide_set(dec, IPALLOW_RESULT_DENY, rule);
	case IPALLOW_MODE_REPORT:
		return decide_set(dec, IPALLOW_RESULT_REPORT, rule);
	}
	return decide_set(dec, IPALLOW_RESULT_DENY, rule);
}

static const char *get_field(const struct ipallow_login *login,
			     const char *name)
{
	return login->get_field(login->field_context, name);
}

/* <field>_mode overrides the policy's mode for this mailbox (SPEC 9.4).
   Absent or empty: the policy's. Anything but enforce or report:
   enforce, flagged for a warning. */
static void decide_mode(const struct ipallow_policy *policy,
			const struct ipallow_login *login,
			struct ipallow_decision *dec)
{
	char name[IPALLOW_LIST_NAME_MAX];
	const char *value;

	dec->mode = policy->mode;
	if (login->get_field == NULL)
		return;
	if ((size_t)snprintf(name, sizeof(name), "%s_mode", policy->field) >=
	    sizeof(name))
		return;
	value = get_field(login, name);
	if (value == NULL || value[0] == '\0')
		return;
	if (strcmp(value, "enforce") == 0)
		dec->mode = IPALLOW_MODE_ENFORCE;
	else if (strcmp(value, "report") == 0)
		dec->mode = IPALLOW_MODE_REPORT;
	else {
		dec->mode = IPALLOW_MODE_ENFORCE;
		dec->mode_invalid = true;
		ipallow_escape_text(value, strlen(value), dec->mode_text,
				    sizeof(dec->mode_text));
	}
}

static const char *source_set(struct ipallow_decision *dec,
			      enum ipallow_list_source source,
			      const char *text, const char *prefix,
			      const char *name)
{
	dec->list_source = source;
	snprintf(dec->list_name, sizeof(dec->list_name), "%s%s", prefix, name);
	return text;
}

/* Picks the list (SPEC 9.4): the first present, non-blank one of
   <field>_<service>, <field>, domains.<domain>, domains."*". Returns
   NULL when there is none. */
static const char *decide_list(const struct ipallow_policy *policy,
			       const struct ipallow_login *login,
			       struct ipallow_decision *dec)
{
	const struct ipallow_domain_list *domain;
	const char *text, *at;
	char name[IPALLOW_LIST_NAME_MAX];

	if (login->get_field != NULL && login->service != NULL &&
	    login->service[0] != '\0' &&
	    (size_t)snprintf(name, sizeof(name), "%s_%s", policy->field,
			     login->service) < sizeof(name)) {
		text = get_field(login, name);
		if (text != NULL && !ipallow_text_is_blank(text))
			return source_set(dec, IPALLOW_LIST_SOURCE_SERVICE_FIELD,
					  text, "", name);
	}
	text = login->get_field != NULL ? get_field(login, policy->field) :
		login->list_text;
	if (text != NULL && !ipallow_text_is_blank(text))
		return source_set(dec, IPALLOW_LIST_SOURCE_FIELD, text, "",
				  policy->field);
	at = login->user == NULL ? NULL : strrchr(login->user, '@');
	if (at != NULL && at[1] != '\0') {
		domain = ipallow_policy_find_domain(policy, at + 1);
		if (domain != NULL && !ipallow_text_is_blank(domain->text))
			return source_set(dec, IPALLOW_LIST_SOURCE_DOMAIN,
					  domain->text, "domains.",
					  domain->domain);
	}
	domain = ipallow_policy_find_domain(policy, "*");
	if (domain != NULL && !ipallow_text_is_blank(domain->text))
		return source_set(dec, IPALLOW_LIST_SOURCE_DOMAIN_DEFAULT,
				  domain->text, "domains.", "\"*\"");
	return NULL;
}

/* Step 6: prefixes and sets first; the databases only when that missed
   and the list holds country or ASN entries. */
static bool decide_lookup(const struct ipallow_policy *policy,
			  const struct ipallow_list *list,
			  const struct ipallow_addr *addr,
			  struct ipallow_decision *dec)
{
	struct ipallow_geo_info info;

	if (ipallow_list_lookup(list, addr))
		return true;
	if (!list->wants_country && !list->wants_asn)
		return false;
	if (ipallow_geoip_lookup(policy->geoip, addr, list->wants_country,
				 list->wants_asn, &info,
				 &dec->geoip_error) < 0) {
		/* what could be read still counts; the rest matches
		   nothing, and the adapter says why */
	}
	return ipallow_list_geo_match(list, &info);
}

/* SPEC §4: the network decision. */
static bool decide_network(struct ipallow_checker *checker,
			   const struct ipallow_login *login,
			   struct ipallow_decision *dec_r)
{
	const struct ipallow_policy *policy =
		checker == NULL ? NULL : checker->policy;
	const struct ipallow_list *list;
	struct ipallow_cache_stats before, after;
	const char *list_text;
	int ret;

	ipallow_decision_init(dec_r, policy, NULL);
	if (policy == NULL)
		return decide_set(dec_r, IPALLOW_RESULT_DENY, IPALLOW_RULE_NO_POLICY);
	/* 1. DAV and internal services are out of scope */
	if (ipallow_policy_service_exempt(policy, login->service))
		return decide_set(dec_r, IPALLOW_RESULT_EXEMPT,
				  IPALLOW_RULE_EXEMPT_SERVICE);
	decide_mode(policy, login, dec_r);
	/* 2. no list, no restriction */
	list_text = decide_list(policy, login, dec_r);
	if (list_text == NULL)
		return decide_set(dec_r, IPALLOW_RESULT_UNRESTRICTED,
				  IPALLOW_RULE_NO_LIST);
	/* 3. local callers without an address */
	if (login->client_ip.family == IPALLOW_FAMILY_NONE) {
		switch (policy->unknown_ip) {
		case IPALLOW_UNKNOWN_IP_EXEMPT:
			return decide_set(dec_r, IPALLOW_RESULT_EXEMPT,
					  IPALLOW_RULE_UNKNOWN_IP);
		case IPALLOW_UNKNOWN_IP_DENY:
			return decide_deny(dec_r, IPALLOW_RULE_UNKNOWN_IP);
		}
		return false;
	}
	/* 4. front ends and the office LAN */
	if (ipallow_radix_lookup(policy->exempt_networks, &login->client_ip))
		return decide_set(dec_r, IPALLOW_RESULT_EXEMPT,
				  IPALLOW_RULE_EXEMPT_NETWORK);
	/* 5. the list itself */
	ipallow_cache_get_stats(checker->cache, &before);
	ret = ipallow_cache_get(checker->cache, list_text,
				&checker->parse_ctx, &list);
	ipallow_cache_get_stats(checker->cache, &after);
	dec_r->list_cache = after.hits > before.hits ?
		IPALLOW_LIST_CACHE_HIT : IPALLOW_LIST_CACHE_MISS;
	if (ret < 0)
		return false;	/* out of memory: INTERNAL_ERROR, deny */
	dec_r->list = list;
	if (ret == 0) {
		dec_r->error_count = list->error_count;
		dec_r->first_error = list->errors[0];
		dec_r->over_limit = list->over_limit;
		if (list->over_limit ||
		    policy->on_invalid == IPALLOW_ON_INVALID_DENY)
			return decide_deny(dec_r, IPALLOW_RULE_INVALID_LIST);
		if (list->valid_count == 0) {
			dec_r->nothing_valid = true;
			return decide_deny(dec_r, IPALLOW_RULE_INVALID_LIST);
		}
		/* on_invalid: skip, with valid entries left */
		dec_r->entries_skipped = true;
	}
	/* 6. and 7. */
	if (decide_lookup(policy, list, &login->client_ip, dec_r))
		return decide_set(dec_r, IPALLOW_RESULT_ALLOW,
				  IPALLOW_RULE_IN_LIST);
	return decide_deny(dec_r, IPALLOW_RULE_NOT_IN_LIST);
}

void ipallow_decision_init(struct ipallow_decision *dec_r,
			   const struct ipallow_policy *policy,
			   const char *reason)
{
	memset(dec_r, 0, sizeof(*dec_r));
	dec_r->result = IPALLOW_RESULT_DENY;
	dec_r->rule = IPALLOW_RULE_INTERNAL_ERROR;
	dec_r->mode = IPALLOW_MODE_ENFORCE;
	dec_r->field = policy != NULL ? policy->field : IPALLOW_DEFAULT_FIELD;
	dec_r->reason = reason;
}

bool ipallow_password_change_marked(const char *value)
{
	if (value == NULL)
		return false;
	return strcasecmp(value, "yes") == 0 ||
		strcasecmp(value, "true") == 0 || strcmp(value, "1") == 0;
}

/* SPEC 9.5, after the network decision let the login go on. */
static bool decide_password_change(const struct ipallow_policy *policy,
				   const struct ipallow_login *login,
				   struct ipallow_decision *dec)
{
	const char *value;

	value = login->get_field != NULL ?
		get_field(login, IPALLOW_PASSWORD_CHANGE_FIELD) :
		login->password_change_text;
	if (!ipallow_password_change_marked(value))
		return true;
	if (ipallow_policy_password_change_exempt(policy, login->service,
						  &login->peer_ip)) {
		dec->password_change_exempted = true;
		return true;
	}
	dec->network_result = dec->result;
	dec->network_rule = dec->rule;
	return decide_set(dec, IPALLOW_RESULT_PASSWORD_CHANGE,
			  IPALLOW_RULE_PASSWORD_CHANGE);
}

bool ipallow_check(struct ipallow_checker *checker,
		   const struct ipallow_login *login,
		   struct ipallow_decision *dec_r)
{
	if (!decide_network(checker, login, dec_r))
		return false;
	return decide_password_change(checker->policy, login, dec_r);
}

const char *ipallow_decision_list_name(const struct ipallow_decision *dec)
{
	return dec->list_name[0] != '\0' ? dec->list_name : dec->field;
}

const char *ipallow_list_source_to_string(enum ipallow_list_source source)
{
	switch (source) {
	case IPALLOW_LIST_SOURCE_NONE:
		return "none";
	case IPALLOW_LIST_SOURCE_SERVICE_FIELD:
		return "service_field";
	case IPALLOW_LIST_SOURCE_FIELD:
		return "field";
	case IPALLOW_LIST_SOURCE_DOMAIN:
		return "domain";
	case IPALLOW_LIST_SOURCE_DOMAIN_DEFAULT:
		return "domain_default";
	}
	return "none";
}

const char *ipallow_list_cache_to_string(enum ipallow_list_cache cache)
{
	switch (cache) {
	case IPALLOW_LIST_CACHE_NONE:
		return "none";
	case IPALLOW_LIST_CACHE_HIT:
		return "hit";
	case IPALLOW_LIST_CACHE_MISS:
		return "miss";
	}
	return "none";
}

/* The result words, written once: the identifier of events and the CLI,
   and the words of the log line (SPEC §6). */
static const char *result_words(enum ipallow_result result, bool line)
{
	switch (result) {
	case IPALLOW_RESULT_DENY:
		return "deny";
	case IPALLOW_RESULT_ALLOW:
		return "allow";
	case IPALLOW_RESULT_EXEMPT:
		return "exempt";
	case IPALLOW_RESULT_UNRESTRICTED:
		return "unrestricted";
	case IPALLOW_RESULT_REPORT:
		return line ? "report-only, would deny" : "report";
	case IPALLOW_RESULT_PASSWORD_CHANGE:
		return line ? "password change required" : "password_change";
	}
	return "deny";
}

const char *ipallow_result_to_string(enum ipallow_result result)
{
	return result_words(result, false);
}

const char *ipallow_result_describe(enum ipallow_result result)
{
	return result_words(result, true);
}

const char *ipallow_rule_to_string(enum ipallow_rule rule)
{
	switch (rule) {
	case IPALLOW_RULE_INTERNAL_ERROR:
		return "internal_error";
	case IPALLOW_RULE_EXEMPT_SERVICE:
		return "exempt_service";
	case IPALLOW_RULE_NO_LIST:
		return "no_list";
	case IPALLOW_RULE_UNKNOWN_IP:
		return "unknown_ip";
	case IPALLOW_RULE_EXEMPT_NETWORK:
		return "exempt_network";
	case IPALLOW_RULE_INVALID_LIST:
		return "invalid_list";
	case IPALLOW_RULE_IN_LIST:
		return "in_list";
	case IPALLOW_RULE_NOT_IN_LIST:
		return "not_in_list";
	case IPALLOW_RULE_NO_POLICY:
		return "no_policy";
	case IPALLOW_RULE_PASSWORD_CHANGE:
		return "password_change_required";
	}
	return "internal_error";
}

const char *ipallow_rule_describe(enum ipallow_rule rule, const char *field,
				  char *buf, size_t size)
{
	const char *words = "internal error";
	bool with_field = false;

	switch (rule) {
	case IPALLOW_RULE_INTERNAL_ERROR:
		words = "internal error";
		break;
	case IPALLOW_RULE_EXEMPT_SERVICE:
		words = "exempt service";
		break;
	case IPALLOW_RULE_NO_LIST:
		words = "no";
		with_field = true;
		break;
	case IPALLOW_RULE_UNKNOWN_IP:
		words = "client IP unknown";
		break;
	case IPALLOW_RULE_EXEMPT_NETWORK:
		words = "exempt network";
		break;
	case IPALLOW_RULE_INVALID_LIST:
		words = "invalid";
		with_field = true;
		break;
	case IPALLOW_RULE_IN_LIST:
		words = "in";
		with_field = true;
		break;
	case IPALLOW_RULE_NOT_IN_LIST:
		words = "not in";
		with_field = true;
		break;
	case IPALLOW_RULE_NO_POLICY:
		words = "policy not loaded";
		break;
	case IPALLOW_RULE_PASSWORD_CHANGE:
		words = IPALLOW_PASSWORD_CHANGE_FIELD;
		break;
	}
	if (with_field)
		snprintf(buf, size, "%s %s", words, field);
	else
		snprintf(buf, size, "%s", words);
	return buf;
}
