/* The decision (SPEC §4). Pure: no I/O, no logging. It starts at deny
   and only the explicit allow and exempt steps below change that. */
#include "config.h"
#include "ipallow-decide.h"
#include "ipallow-cache.h"

#include <stdio.h>
#include <string.h>

static bool list_is_blank(const char *text)
{
	for (; *text != '\0'; text++) {
		if (!(*text == ' ' || *text == '\t' || *text == '\n' ||
		      *text == '\r' || *text == '\v' || *text == '\f' ||
		      *text == ','))
			return false;
	}
	return true;
}

static bool decide_set(struct ipallow_decision *dec, enum ipallow_result result,
		       enum ipallow_rule rule)
{
	dec->result = result;
	dec->rule = rule;
	return result != IPALLOW_RESULT_DENY;
}

/* Deny, or report when the policy only reports. */
static bool decide_deny(const struct ipallow_policy *policy,
			struct ipallow_decision *dec, enum ipallow_rule rule)
{
	switch (policy->mode) {
	case IPALLOW_MODE_ENFORCE:
		return decide_set(dec, IPALLOW_RESULT_DENY, rule);
	case IPALLOW_MODE_REPORT:
		return decide_set(dec, IPALLOW_RESULT_REPORT, rule);
	}
	return decide_set(dec, IPALLOW_RESULT_DENY, rule);
}

bool ipallow_decide(struct ipallow_policy *policy,
		    const struct ipallow_request *req,
		    struct ipallow_decision *dec_r)
{
	const struct ipallow_list *list;
	int ret;

	memset(dec_r, 0, sizeof(*dec_r));
	dec_r->result = IPALLOW_RESULT_DENY;
	dec_r->rule = IPALLOW_RULE_INTERNAL_ERROR;

	if (policy == NULL)
		return decide_set(dec_r, IPALLOW_RESULT_DENY, IPALLOW_RULE_NO_POLICY);
	/* 1. DAV and internal services are out of scope */
	if (ipallow_policy_service_exempt(policy, req->service))
		return decide_set(dec_r, IPALLOW_RESULT_EXEMPT,
				  IPALLOW_RULE_EXEMPT_SERVICE);
	/* 2. no list, no restriction */
	if (req->list_text == NULL || list_is_blank(req->list_text))
		return decide_set(dec_r, IPALLOW_RESULT_UNRESTRICTED,
				  IPALLOW_RULE_NO_LIST);
	/* 3. local callers without an address */
	if (req->client_ip.family == IPALLOW_FAMILY_NONE) {
		switch (policy->unknown_ip) {
		case IPALLOW_UNKNOWN_IP_EXEMPT:
			return decide_set(dec_r, IPALLOW_RESULT_EXEMPT,
					  IPALLOW_RULE_UNKNOWN_IP);
		case IPALLOW_UNKNOWN_IP_DENY:
			return decide_deny(policy, dec_r, IPALLOW_RULE_UNKNOWN_IP);
		}
		return false;
	}
	/* 4. front ends and the office LAN */
	if (ipallow_radix_lookup(policy->exempt_networks, &req->client_ip))
		return decide_set(dec_r, IPALLOW_RESULT_EXEMPT,
				  IPALLOW_RULE_EXEMPT_NETWORK);
	/* 5. the list itself */
	ret = ipallow_cache_get(policy->cache, req->list_text,
				&policy->parse_ctx, &list);
	if (ret < 0)
		return false;	/* out of memory: INTERNAL_ERROR, deny */
	if (ret == 0) {
		dec_r->error_count = list->error_count;
		dec_r->first_error = list->errors[0];
		dec_r->over_limit = list->over_limit;
		if (list->over_limit ||
		    policy->on_invalid == IPALLOW_ON_INVALID_DENY)
			return decide_deny(policy, dec_r,
					   IPALLOW_RULE_INVALID_LIST);
		if (list->valid_count == 0) {
			dec_r->nothing_valid = true;
			return decide_deny(policy, dec_r,
					   IPALLOW_RULE_INVALID_LIST);
		}
		/* on_invalid: skip, with valid entries left */
	}
	/* 6. and 7. */
	if (ipallow_list_lookup(list, &req->client_ip))
		return decide_set(dec_r, IPALLOW_RESULT_ALLOW,
				  IPALLOW_RULE_IN_LIST);
	return decide_deny(policy, dec_r, IPALLOW_RULE_NOT_IN_LIST);
}

const char *ipallow_result_to_string(enum ipallow_result result)
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
		return "report";
	}
	return "deny";
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
	}
	if (with_field)
		snprintf(buf, size, "%s %s", words, field);
	else
		snprintf(buf, size, "%s", words);
	return buf;
}
