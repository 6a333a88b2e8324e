#ifndef IPALLOW_DECIDE_H
#define IPALLOW_DECIDE_H

#include "ipallow-policy.h"
#include "ipallow-cache.h"

/* What happens to the login. */
enum ipallow_result {
	IPALLOW_RESULT_DENY = 0,	/* the zero value: fail closed */
	IPALLOW_RESULT_ALLOW,
	IPALLOW_RESULT_EXEMPT,
	IPALLOW_RESULT_UNRESTRICTED,
	IPALLOW_RESULT_REPORT,		/* would deny; mode: report */
	/* the network let the login go on, but the mailbox is marked for a
	   forced password change (SPEC 9.5): refused as password expired */
	IPALLOW_RESULT_PASSWORD_CHANGE,
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
	IPALLOW_RULE_PASSWORD_CHANGE,		/* password_change_required */
};

/* The userdb field that marks a mailbox for a forced password change
   (SPEC 9.5): "yes", "true" or "1", any case. */
#define IPALLOW_PASSWORD_CHANGE_FIELD "password_change_required"
/* The userdb field the passdb adds to a marked login it let in because
   of password_change.exempt_peers or _services, for the mail plugin,
   which cannot see the real peer. */
#define IPALLOW_PASSWORD_CHANGE_EXEMPTED_FIELD "ipallow_password_change_exempted"

/* Returns the value of the user's userdb field name (without any
   "userdb_" prefix: the adapter adds what its convention needs), or NULL
   when the field is absent. The result must stay valid until
   ipallow_check() returns. */
typedef const char *ipallow_get_field_t(void *context, const char *name);

/* One login as the adapter knows it: it feeds the decision, the log
   line and the event (the adapters fill one, call ipallow_check(), then
   log from it and the decision). Strings are borrowed: they must stay
   valid until the last of those returns. */
struct ipallow_login {
	/* The login name; its part after the last '@' selects a domains:
	   default (SPEC 9.4). NULL: only domains."*" can apply. */
	const char *user;
	const char *service;	/* NULL: unknown */
	struct ipallow_addr client_ip;	/* family NONE: unknown */
	/* The connection's real peer (Dovecot's real_rip: the webmail host
	   that forwards the browser's address), matched against
	   password_change.exempt_peers and shown in the line when it differs
	   from client_ip. Family NONE: unknown, not exempt. */
	struct ipallow_addr peer_ip;
	/* When set, the core reads <field>_<service>, <field> and
	   <field>_mode through it and picks the list itself (SPEC 9.4). */
	ipallow_get_field_t *get_field;
	void *field_context;
	/* The user's <field> value (NULL: absent). Used only when get_field
	   is NULL, for adapters that fetch the one field themselves. */
	const char *list_text;
	/* The password_change_required value when get_field is NULL (NULL:
	   absent). */
	const char *password_change_text;
};

/* Where the list of a decision came from (SPEC 9.4, in that order). */
enum ipallow_list_source {
	IPALLOW_LIST_SOURCE_NONE = 0,		/* no list: unrestricted */
	IPALLOW_LIST_SOURCE_SERVICE_FIELD,	/* <field>_<service> */
	IPALLOW_LIST_SOURCE_FIELD,		/* <field> */
	IPALLOW_LIST_SOURCE_DOMAIN,		/* domains.<domain> */
	IPALLOW_LIST_SOURCE_DOMAIN_DEFAULT,	/* domains."*" */
};

/* Whether step 5 found the list compiled in the checker's cache: the
   event's list_cache field, so operators can see the hit rate. */
enum ipallow_list_cache {
	IPALLOW_LIST_CACHE_NONE = 0,	/* no list was compiled or looked up */
	IPALLOW_LIST_CACHE_HIT,
	IPALLOW_LIST_CACHE_MISS,
};

/* "allow_nets_imap", "domains.example.com", ... plus the NUL. */
#define IPALLOW_LIST_NAME_MAX 160

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
	/* on_invalid: skip used the valid entries of an invalid list. */
	bool entries_skipped;
	/* The policy's field name (IPALLOW_DEFAULT_FIELD without a policy),
	   for the lines that name the list. Points into the policy. */
	const char *field;
	/* Why the check could not decide, appended to the decision line as
	   ": <reason>": the adapter's internal error, or why the policy is
	   not loaded. NULL: none. Borrowed, static or the adapter's. */
	const char *reason;

	/* Which list was used, and its name for log lines: the field name
	   itself for <field> (so the SPEC 6 texts stay as they were),
	   "allow_nets_imap", "domains.example.com" or "domains.\"*\"".
	   Empty when no list applied. */
	enum ipallow_list_source list_source;
	char list_name[IPALLOW_LIST_NAME_MAX];
	enum ipallow_list_cache list_cache;
	/* The compiled list step 5 used, valid or not (every diagnostic
	   is in it), or NULL when the decision ended before step 5. Owned
	   by the checker's cache: valid until the next ipallow_check() on
	   the same checker, or until the checker is freed. */
	const struct ipallow_list *list;
	/* The mode that applied: the policy's, or the user's <field>_mode.
	   mode_invalid: <field>_mode held something other than enforce or
	   report (mode_text, escaped); enforce was used and the adapter
	   should warn. */
	enum ipallow_mode mode;
	bool mode_invalid;
	char mode_text[IPALLOW_ESCAPED_STRLEN];
	/* A country or ASN lookup failed (corrupt database): those entries
	   matched nothing. Static English text, or NULL. */
	const char *geoip_error;
	/* For IPALLOW_RESULT_PASSWORD_CHANGE: what the network decision was
	   (allow, exempt, unrestricted, report) before the mark refused the
	   login. */
	enum ipallow_result network_result;
	enum ipallow_rule network_rule;
	/* The mailbox is marked, and the login went on only because its
	   peer or service is in password_change.exempt_* (the adapter tells
	   the mail plugin, which cannot see the peer). */
	bool password_change_exempted;
};

/* A checker: a loaded policy (read-only, borrowed: it must outlive the
   checker) and the cache of lists compiled against it. One per process
   and policy; a reload makes a new policy and a new checker, so a cached
   list can never point into another policy's sets. Not thread-safe, as
   Dovecot's auth and mail processes need none. */
struct ipallow_checker;

/* Returns 0, or -1 when out of memory (*checker_r NULL). The cache holds
   IPALLOW_CACHE_DEFAULT_ENTRIES / _BYTES. */
int ipallow_checker_create(const struct ipallow_policy *policy,
			   struct ipallow_checker **checker_r);
/* The same with other cache limits (tests, fuzzers, benchmarks). */
int ipallow_checker_create_sized(const struct ipallow_policy *policy,
				 unsigned int max_entries, size_t max_bytes,
				 struct ipallow_checker **checker_r);
const struct ipallow_policy *
ipallow_checker_policy(const struct ipallow_checker *checker);
/* The cache's counters: the hit rate of this process's lists. */
void ipallow_checker_get_stats(const struct ipallow_checker *checker,
			       struct ipallow_cache_stats *stats_r);
void ipallow_checker_free(struct ipallow_checker **checker);

/* Decides one login (SPEC §4, then §9.5: a login the network decision
   lets go on is refused with IPALLOW_RESULT_PASSWORD_CHANGE when the
   mailbox is marked and neither its real peer nor its service is in
   password_change.exempt_*). checker may be NULL (no policy loaded),
   which denies with IPALLOW_RULE_NO_POLICY. No I/O and no logging; the
   only state it changes is the checker's cache. Never fails open: out
   of memory gives DENY with IPALLOW_RULE_INTERNAL_ERROR. Returns true
   if the login may go on (every result but DENY and PASSWORD_CHANGE). */
bool ipallow_check(struct ipallow_checker *checker,
		   const struct ipallow_login *login,
		   struct ipallow_decision *dec_r);

/* The zero decision, for an adapter that cannot call ipallow_check():
   deny with IPALLOW_RULE_INTERNAL_ERROR, field from policy (may be NULL),
   reason as given (may be NULL). ipallow_check() starts from it too. */
void ipallow_decision_init(struct ipallow_decision *dec_r,
			   const struct ipallow_policy *policy,
			   const char *reason);

/* True for "yes", "true" and "1" in any case (SPEC 9.5). */
bool ipallow_password_change_marked(const char *value);

/* "allow", "deny", "exempt", "unrestricted", "report", "password_change" */
const char *ipallow_result_to_string(enum ipallow_result result);
/* The same for log lines: "report-only, would deny" and "password change
   required" for the last two. */
const char *ipallow_result_describe(enum ipallow_result result);
/* Stable identifiers for events and machines: "exempt_service", "no_list",
   "unknown_ip", "exempt_network", "invalid_list", "in_list",
   "not_in_list", "no_policy", "internal_error". */
const char *ipallow_rule_to_string(enum ipallow_rule rule);
/* Words for log lines, with the field name filled in: "not in allow_nets",
   "exempt network", ... Written into buf, which is returned. */
const char *ipallow_rule_describe(enum ipallow_rule rule, const char *field,
				  char *buf, size_t size);
/* The name that log lines use for the decision's list: dec->list_name,
   or dec->field when no list applied. */
const char *ipallow_decision_list_name(const struct ipallow_decision *dec);
/* "none", "service_field", "field", "domain", "domain_default" */
const char *ipallow_list_source_to_string(enum ipallow_list_source source);
/* "none", "hit", "miss" */
const char *ipallow_list_cache_to_string(enum ipallow_list_cache cache);

#endif
