#ifndef IPALLOW_DECIDE_H
#define IPALLOW_DECIDE_H

#include "ipallow-policy.h"

/* What happens to the login. */
enum ipallow_result {
	IPALLOW_RESULT_DENY = 0,	/* the zero value: fail closed */
	IPALLOW_RESULT_ALLOW,
	IPALLOW_RESULT_EXEMPT,
	IPALLOW_RESULT_UNRESTRICTED,
	IPALLOW_RESULT_REPORT,		/* would deny; mode: report */
};

/* Which step of the decision order (SPEC §4) produced the result. */
enum ipallow_rule {
	IPALLOW_RULE_INTERNAL_ERROR = 0,	/* fail closed */
	IPALLOW_RULE_EXEMPT_SERVICE,
	IPALLOW_RULE_NO_LIST,
	IPALLOW_RULE_UNKNOWN_IP,
	IPALLOW_RULE_EXEMPT_NETWORK,
	IPALLOW_RULE_INVALID_LIST,
	IPALLOW_RULE_IN_LIST,
	IPALLOW_RULE_NOT_IN_LIST,
	IPALLOW_RULE_NO_POLICY,
};

struct ipallow_request {
	const char *service;	/* NULL: unknown */
	const char *list_text;	/* NULL: field absent */
	struct ipallow_addr client_ip;	/* family NONE: unknown */
};

struct ipallow_decision {
	enum ipallow_result result;
	enum ipallow_rule rule;
	/* For invalid lists (also under on_invalid: skip, where the valid
	   part was used): the error count and the first error. */
	unsigned int error_count;
	struct ipallow_diag first_error;
	bool over_limit;
	/* No valid entry left (on_invalid: skip). */
	bool nothing_valid;
};

/* Decides one login (SPEC §4). policy may be NULL (not loaded), which
   denies with IPALLOW_RULE_NO_POLICY. Never fails open: out of memory
   gives DENY with IPALLOW_RULE_INTERNAL_ERROR. Returns true if the login
   may go on (every result but DENY). */
bool ipallow_decide(struct ipallow_policy *policy,
		    const struct ipallow_request *req,
		    struct ipallow_decision *dec_r);

/* "allow", "deny", "exempt", "unrestricted", "report" */
const char *ipallow_result_to_string(enum ipallow_result result);
/* Stable identifiers for events and machines: "exempt_service", "no_list",
   "unknown_ip", "exempt_network", "invalid_list", "in_list",
   "not_in_list", "no_policy", "internal_error". */
const char *ipallow_rule_to_string(enum ipallow_rule rule);
/* Words for log lines, with the field name filled in: "not in allow_nets",
   "exempt network", ... Written into buf, which is returned. */
const char *ipallow_rule_describe(enum ipallow_rule rule, const char *field,
				  char *buf, size_t size);

#endif
