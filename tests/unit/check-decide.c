/* The decision (SPEC §4), step by step and in its order, and the log
   lines (SPEC §6) the adapters print for it. */
#include "test-common.h"
#include "ipallow-decide.h"
#include "ipallow-message.h"

enum test_policy {
	P_NONE,		/* not loaded: NULL */
	P_DEFAULT,
	P_REPORT,
	P_SKIP,
	P_SKIP_REPORT,
	P_UNKNOWN_DENY,
	P_UNKNOWN_DENY_REPORT,
	P_SETS,
	P_FIELD,
	P_COUNT
};

static const char *const policy_yaml[P_COUNT] = {
	[P_NONE] = NULL,
	[P_DEFAULT] = "",
	[P_REPORT] = "mode: report\n",
	[P_SKIP] = "on_invalid: skip\nlimits: { entries: 3 }\n",
	[P_SKIP_REPORT] = "on_invalid: skip\nmode: report\n",
	[P_UNKNOWN_DENY] = "unknown_ip: deny\n",
	[P_UNKNOWN_DENY_REPORT] = "unknown_ip: deny\nmode: report\n",
	[P_SETS] = "sets:\n  office: [203.0.113.0/24, \"2001:db8:100::/48\"]\n"
		"exempt: { services: [caldav] }\n",
	[P_FIELD] = "field: nets_allowed\n",
};

static struct ipallow_policy *policies[P_COUNT];

static void policies_setup(void)
{
	int i;

	for (i = 0; i < P_COUNT; i++) {
		char *error = NULL;

		if (policy_yaml[i] == NULL)
			continue;
		ck_assert_msg(ipallow_policy_load_buffer(
			(const unsigned char *)policy_yaml[i],
			strlen(policy_yaml[i]), "test.yaml", &policies[i],
			&error) == 0, "policy %d: %s", i, error);
	}
}

static void policies_teardown(void)
{
	int i;

	for (i = 0; i < P_COUNT; i++)
		ipallow_policy_free(&policies[i]);
}

#define R(x) IPALLOW_RESULT_##x
#define RULE(x) IPALLOW_RULE_##x

struct decide_case {
	enum test_policy policy;
	const char *service;
	const char *list;	/* NULL: field absent */
	const char *ip;		/* "unknown": family NONE */
	enum ipallow_result result;
	enum ipallow_rule rule;
	unsigned int errors;
	const char *first_error;
	bool nothing_valid, over_limit;
};

static const char err_10_8[] =
	"entry 2 \"10/8\": IPv4 shorthand is not allowed";

static const struct decide_case decide_cases[] = {
	/* 0. no policy: fail closed, whatever the login */
	{ P_NONE, "imap", "198.51.100.0/24", "198.51.100.7", R(DENY),
	  RULE(NO_POLICY), 0, NULL, false, false },
	{ P_NONE, "caldav", NULL, "10.0.0.1", R(DENY), RULE(NO_POLICY), 0,
	  NULL, false, false },
	/* 1. an exempt service beats everything */
	{ P_DEFAULT, "caldav", "198.51.100.0/24 10/8", "203.0.113.1",
	  R(EXEMPT), RULE(EXEMPT_SERVICE), 0, NULL, false, false },
	{ P_DEFAULT, "CardDAV", "198.51.100.0/24", "203.0.113.1", R(EXEMPT),
	  RULE(EXEMPT_SERVICE), 0, NULL, false, false },
	{ P_DEFAULT, "lmtp", NULL, "unknown", R(EXEMPT), RULE(EXEMPT_SERVICE),
	  0, NULL, false, false },
	{ P_DEFAULT, "indexer-worker", "198.51.100.0/24", "203.0.113.1",
	  R(EXEMPT), RULE(EXEMPT_SERVICE), 0, NULL, false, false },
	{ P_UNKNOWN_DENY, "doveadm", "198.51.100.0/24", "unknown", R(EXEMPT),
	  RULE(EXEMPT_SERVICE), 0, NULL, false, false },
	{ P_REPORT, "webdav", "198.51.100.0/24", "203.0.113.1", R(EXEMPT),
	  RULE(EXEMPT_SERVICE), 0, NULL, false, false },
	/* the policy's own list replaces the default one */
	{ P_SETS, "carddav", "198.51.100.0/24", "203.0.113.1", R(DENY),
	  RULE(NOT_IN_LIST), 0, NULL, false, false },
	/* an unknown service is just not exempt */
	{ P_DEFAULT, NULL, "198.51.100.0/24", "203.0.113.1", R(DENY),
	  RULE(NOT_IN_LIST), 0, NULL, false, false },
	/* 2. no list (absent, empty, blank) beats an unknown IP */
	{ P_DEFAULT, "imap", NULL, "198.51.100.7", R(UNRESTRICTED),
	  RULE(NO_LIST), 0, NULL, false, false },
	{ P_DEFAULT, "imap", "", "198.51.100.7", R(UNRESTRICTED),
	  RULE(NO_LIST), 0, NULL, false, false },
	{ P_DEFAULT, "imap", " ,\t\n, ", "198.51.100.7", R(UNRESTRICTED),
	  RULE(NO_LIST), 0, NULL, false, false },
	{ P_UNKNOWN_DENY, "imap", NULL, "unknown", R(UNRESTRICTED),
	  RULE(NO_LIST), 0, NULL, false, false },
	{ P_UNKNOWN_DENY, "pop3", "", "unknown", R(UNRESTRICTED),
	  RULE(NO_LIST), 0, NULL, false, false },
	/* 3. client IP unknown */
	{ P_DEFAULT, "imap", "198.51.100.0/24", "unknown", R(EXEMPT),
	  RULE(UNKNOWN_IP), 0, NULL, false, false },
	{ P_DEFAULT, "imap", "10/8", "unknown", R(EXEMPT), RULE(UNKNOWN_IP),
	  0, NULL, false, false },
	{ P_UNKNOWN_DENY, "smtp", "198.51.100.0/24", "unknown", R(DENY),
	  RULE(UNKNOWN_IP), 0, NULL, false, false },
	{ P_UNKNOWN_DENY_REPORT, "smtp", "198.51.100.0/24", "unknown",
	  R(REPORT), RULE(UNKNOWN_IP), 0, NULL, false, false },
	/* 4. exempt networks, which beat an invalid list */
	{ P_DEFAULT, "imap", "198.51.100.0/24 10/8", "10.1.2.3", R(EXEMPT),
	  RULE(EXEMPT_NETWORK), 0, NULL, false, false },
	{ P_DEFAULT, "imap", "198.51.100.0/24", "172.16.0.1", R(EXEMPT),
	  RULE(EXEMPT_NETWORK), 0, NULL, false, false },
	{ P_DEFAULT, "imap", "198.51.100.0/24", "172.31.255.255", R(EXEMPT),
	  RULE(EXEMPT_NETWORK), 0, NULL, false, false },
	{ P_DEFAULT, "imap", "198.51.100.0/24", "192.168.1.1", R(EXEMPT),
	  RULE(EXEMPT_NETWORK), 0, NULL, false, false },
	{ P_DEFAULT, "imap", "198.51.100.0/24", "127.0.0.1", R(EXEMPT),
	  RULE(EXEMPT_NETWORK), 0, NULL, false, false },
	{ P_DEFAULT, "imap", "198.51.100.0/24", "169.254.1.1", R(EXEMPT),
	  RULE(EXEMPT_NETWORK), 0, NULL, false, false },
	{ P_DEFAULT, "imap", "198.51.100.0/24", "::1", R(EXEMPT),
	  RULE(EXEMPT_NETWORK), 0, NULL, false, false },
	{ P_DEFAULT, "imap", "198.51.100.0/24", "fe80::1", R(EXEMPT),
	  RULE(EXEMPT_NETWORK), 0, NULL, false, false },
	{ P_DEFAULT, "imap", "198.51.100.0/24", "fd12:3456::1", R(EXEMPT),
	  RULE(EXEMPT_NETWORK), 0, NULL, false, false },
	{ P_DEFAULT, "imap", "198.51.100.0/24", "::ffff:10.0.0.1", R(EXEMPT),
	  RULE(EXEMPT_NETWORK), 0, NULL, false, false },
	{ P_DEFAULT, "imap", "198.51.100.0/24", "::ffff:192.168.0.9",
	  R(EXEMPT), RULE(EXEMPT_NETWORK), 0, NULL, false, false },
	/* not exempt, on purpose: CGNAT, 172 outside /12, the
	   IPv4-compatible spelling of a private address */
	{ P_DEFAULT, "imap", "198.51.100.0/24", "100.64.1.1", R(DENY),
	  RULE(NOT_IN_LIST), 0, NULL, false, false },
	{ P_DEFAULT, "imap", "198.51.100.0/24", "172.0.0.1", R(DENY),
	  RULE(NOT_IN_LIST), 0, NULL, false, false },
	{ P_DEFAULT, "imap", "198.51.100.0/24", "172.15.255.255", R(DENY),
	  RULE(NOT_IN_LIST), 0, NULL, false, false },
	{ P_DEFAULT, "imap", "198.51.100.0/24", "172.32.0.1", R(DENY),
	  RULE(NOT_IN_LIST), 0, NULL, false, false },
	{ P_DEFAULT, "imap", "198.51.100.0/24", "::10.0.0.1", R(DENY),
	  RULE(NOT_IN_LIST), 0, NULL, false, false },
	{ P_DEFAULT, "imap", "100.64.0.0/10", "100.64.1.1", R(ALLOW),
	  RULE(IN_LIST), 0, NULL, false, false },
	/* 5. invalid list, on_invalid: deny */
	{ P_DEFAULT, "imap", "198.51.100.0/24 10/8", "198.51.100.7", R(DENY),
	  RULE(INVALID_LIST), 1, err_10_8, false, false },
	{ P_DEFAULT, "imap", "198.51.100.0/24 10/8 x", "203.0.113.1", R(DENY),
	  RULE(INVALID_LIST), 2, err_10_8, false, false },
	{ P_REPORT, "imap", "198.51.100.0/24 10/8", "198.51.100.7", R(REPORT),
	  RULE(INVALID_LIST), 1, err_10_8, false, false },
	/* on_invalid: skip uses what is valid */
	{ P_SKIP, "imap", "198.51.100.0/24 10/8", "198.51.100.7", R(ALLOW),
	  RULE(IN_LIST), 1, err_10_8, false, false },
	{ P_SKIP, "imap", "198.51.100.0/24 10/8", "203.0.113.1", R(DENY),
	  RULE(NOT_IN_LIST), 1, err_10_8, false, false },
	{ P_SKIP_REPORT, "imap", "198.51.100.0/24 10/8", "203.0.113.1",
	  R(REPORT), RULE(NOT_IN_LIST), 1, err_10_8, false, false },
	/* and denies when nothing valid is left */
	{ P_SKIP, "imap", "10/8 010.0.0.1", "10.0.0.1", R(EXEMPT),
	  RULE(EXEMPT_NETWORK), 0, NULL, false, false },
	{ P_SKIP, "imap", "10/8, 010.0.0.1", "198.51.100.7", R(DENY),
	  RULE(INVALID_LIST), 2,
	  "entry 1 \"10/8\": IPv4 shorthand is not allowed",
	  true, false },
	{ P_SKIP_REPORT, "imap", "@nope", "198.51.100.7", R(REPORT),
	  RULE(INVALID_LIST), 1,
	  "entry 1 \"@nope\": unknown set (not defined in the policy's sets)",
	  true, false },
	/* over the limit: invalid as a whole, also under skip */
	{ P_SKIP, "imap", "198.51.100.7 1.1.1.1 2.2.2.2 3.3.3.3", "198.51.100.7",
	  R(DENY), RULE(INVALID_LIST), 1,
	  "entry 4 \"3.3.3.3\": list has more than 3 entries (limits.entries)",
	  false, true },
	{ P_SKIP_REPORT, "imap", "198.51.100.7 1.1.1.1 2.2.2.2 3.3.3.3",
	  "198.51.100.7", R(ALLOW), RULE(IN_LIST), 0, NULL, false, false },
	/* 6. in the list */
	{ P_DEFAULT, "imap", "198.51.100.0/24, 2001:db8:42::/48", "198.51.100.7",
	  R(ALLOW), RULE(IN_LIST), 0, NULL, false, false },
	{ P_DEFAULT, "imap", "198.51.100.0/24, 2001:db8:42::/48",
	  "2001:db8:42:ffff::1", R(ALLOW), RULE(IN_LIST), 0, NULL, false,
	  false },
	{ P_DEFAULT, "submission", "198.51.100.7", "198.51.100.7", R(ALLOW),
	  RULE(IN_LIST), 0, NULL, false, false },
	{ P_REPORT, "imap", "198.51.100.0/24", "198.51.100.7", R(ALLOW),
	  RULE(IN_LIST), 0, NULL, false, false },
	{ P_DEFAULT, "imap", "198.51.100.7/24", "198.51.100.200", R(ALLOW),
	  RULE(IN_LIST), 0, NULL, false, false },
	/* a mapped client is the IPv4 client, either way round */
	{ P_DEFAULT, "imap", "198.51.100.0/24", "::ffff:198.51.100.7",
	  R(ALLOW), RULE(IN_LIST), 0, NULL, false, false },
	{ P_DEFAULT, "imap", "::ffff:198.51.100.0/120", "198.51.100.7",
	  R(ALLOW), RULE(IN_LIST), 0, NULL, false, false },
	{ P_DEFAULT, "imap", "::ffff:198.51.100.7", "::ffff:198.51.100.7",
	  R(ALLOW), RULE(IN_LIST), 0, NULL, false, false },
	/* named sets */
	{ P_SETS, "imap", "@office", "203.0.113.9", R(ALLOW), RULE(IN_LIST), 0,
	  NULL, false, false },
	{ P_SETS, "imap", "198.51.100.7 @office", "2001:db8:100::1", R(ALLOW),
	  RULE(IN_LIST), 0, NULL, false, false },
	{ P_SETS, "imap", "@office", "198.51.100.7", R(DENY),
	  RULE(NOT_IN_LIST), 0, NULL, false, false },
	{ P_DEFAULT, "imap", "@office", "203.0.113.9", R(DENY),
	  RULE(INVALID_LIST), 1,
	  "entry 1 \"@office\": unknown set (not defined in the policy's sets)",
	  false, false },
	/* 7. not in the list */
	{ P_DEFAULT, "imap", "198.51.100.0/24, 2001:db8:42::/48", "203.0.113.1",
	  R(DENY), RULE(NOT_IN_LIST), 0, NULL, false, false },
	{ P_DEFAULT, "imap", "198.51.100.0/24, 2001:db8:42::/48",
	  "2001:db8:43::1", R(DENY), RULE(NOT_IN_LIST), 0, NULL, false, false },
	{ P_DEFAULT, "pop3", "198.51.100.7", "198.51.100.8", R(DENY),
	  RULE(NOT_IN_LIST), 0, NULL, false, false },
	{ P_REPORT, "imap", "198.51.100.0/24", "203.0.113.1", R(REPORT),
	  RULE(NOT_IN_LIST), 0, NULL, false, false },
	/* the families stay apart */
	{ P_DEFAULT, "imap", "::/0", "198.51.100.7", R(DENY),
	  RULE(NOT_IN_LIST), 0, NULL, false, false },
	{ P_DEFAULT, "imap", "::/0", "::ffff:198.51.100.7", R(DENY),
	  RULE(NOT_IN_LIST), 0, NULL, false, false },
	{ P_DEFAULT, "imap", "::/0", "2001:db8::1", R(ALLOW), RULE(IN_LIST), 0,
	  NULL, false, false },
	{ P_DEFAULT, "imap", "0.0.0.0/0", "2001:db8::1", R(DENY),
	  RULE(NOT_IN_LIST), 0, NULL, false, false },
	{ P_DEFAULT, "imap", "0.0.0.0/0", "::ffff:203.0.113.1", R(ALLOW),
	  RULE(IN_LIST), 0, NULL, false, false },
	{ P_DEFAULT, "imap", "198.51.100.0/24", "::198.51.100.7", R(DENY),
	  RULE(NOT_IN_LIST), 0, NULL, false, false },
	{ P_DEFAULT, "imap", "::198.51.100.0/120", "198.51.100.7", R(DENY),
	  RULE(NOT_IN_LIST), 0, NULL, false, false },
	{ P_DEFAULT, "imap", "198.51.100.0/24", "64:ff9b::198.51.100.7",
	  R(DENY), RULE(NOT_IN_LIST), 0, NULL, false, false },
};

static void run_decide_case(const struct decide_case *c, int i)
{
	struct ipallow_login req;
	struct ipallow_decision dec;
	char buf[IPALLOW_DIAG_STRLEN];
	bool goes_on;

	memset(&req, 0, sizeof(req));
	req.service = c->service;
	req.list_text = c->list;
	req.client_ip = test_addr(c->ip);

	goes_on = ipallow_decide(policies[c->policy], &req, &dec);
	ck_assert_msg(dec.result == c->result && dec.rule == c->rule,
		      "case %d: %s %s [%s]: %s (%s), want %s (%s)", i,
		      c->service, c->ip, c->list,
		      ipallow_result_to_string(dec.result),
		      ipallow_rule_to_string(dec.rule),
		      ipallow_result_to_string(c->result),
		      ipallow_rule_to_string(c->rule));
	ck_assert_msg(goes_on == (c->result != IPALLOW_RESULT_DENY),
		      "case %d: returned %d", i, goes_on);
	ck_assert_msg(dec.error_count == c->errors, "case %d: %u errors", i,
		      dec.error_count);
	if (c->first_error != NULL) {
		ipallow_diag_format(&dec.first_error, buf);
		ck_assert_msg(strcmp(buf, c->first_error) == 0,
			      "case %d: first error '%s'", i, buf);
	}
	ck_assert_msg(dec.nothing_valid == c->nothing_valid &&
		      dec.over_limit == c->over_limit,
		      "case %d: nothing_valid %d over_limit %d", i,
		      dec.nothing_valid, dec.over_limit);
}

START_TEST(test_decide)
{
	/* twice: a parse, then a cache hit, give the same answer */
	run_decide_case(&decide_cases[_i], _i);
	run_decide_case(&decide_cases[_i], _i);
}
END_TEST

/* All rows against one policy each, in one process, so the cache holds
   lists from many rows at once. */
START_TEST(test_decide_shared_cache)
{
	int round, i;

	for (round = 0; round < 3; round++) {
		for (i = 0; i < N_ELEMENTS(decide_cases); i++)
			run_decide_case(&decide_cases[i], i);
	}
}
END_TEST

/* --- log lines --- */

struct log_case {
	enum test_policy policy;
	const char *user;
	const char *service;
	const char *list;
	const char *ip;
	const char *peer;	/* NULL: unknown */
	const char *line;	/* ipallow_message_decision() */
	const char *invalid;	/* ipallow_message_invalid(), or NULL */
	bool notable;
};

static const struct log_case log_cases[] = {
	{ P_DEFAULT, "alice", "imap", "203.0.113.0/24", "198.51.100.7", NULL,
	  "deny user=alice service=imap ip=198.51.100.7 (not in allow_nets)",
	  NULL, true },
	/* the peer only when it differs */
	{ P_DEFAULT, "alice", "imap", "203.0.113.0/24", "198.51.100.7",
	  "198.51.100.7",
	  "deny user=alice service=imap ip=198.51.100.7 (not in allow_nets)",
	  NULL, true },
	{ P_DEFAULT, "alice", "imap", "203.0.113.0/24", "198.51.100.7",
	  "192.168.10.5",
	  "deny user=alice service=imap ip=198.51.100.7 peer=192.168.10.5 "
	  "(not in allow_nets)", NULL, true },
	{ P_DEFAULT, "alice", "imap", "203.0.113.0/24", "198.51.100.7",
	  "::ffff:198.51.100.7",
	  "deny user=alice service=imap ip=198.51.100.7 (not in allow_nets)",
	  NULL, true },
	{ P_DEFAULT, "alice", "imap", "203.0.113.0/24", "2001:db8::7",
	  "2001:db8:ffff::1",
	  "deny user=alice service=imap ip=2001:db8::7 peer=2001:db8:ffff::1 "
	  "(not in allow_nets)", NULL, true },
	{ P_REPORT, "alice", "imap", "203.0.113.0/24", "198.51.100.7", NULL,
	  "report-only, would deny user=alice service=imap ip=198.51.100.7 "
	  "(not in allow_nets)", NULL, true },
	{ P_DEFAULT, "alice", "imap", "203.0.113.0/24", "203.0.113.5", NULL,
	  "allow user=alice service=imap ip=203.0.113.5 (in allow_nets)", NULL,
	  false },
	{ P_DEFAULT, "alice", "caldav", "203.0.113.0/24", "198.51.100.7", NULL,
	  "exempt user=alice service=caldav ip=198.51.100.7 (exempt service)",
	  NULL, false },
	{ P_DEFAULT, "alice", "imap", NULL, "198.51.100.7", NULL,
	  "unrestricted user=alice service=imap ip=198.51.100.7 (no allow_nets)",
	  NULL, false },
	{ P_DEFAULT, "alice", "imap", "203.0.113.0/24", "unknown", NULL,
	  "exempt user=alice service=imap ip=unknown (client IP unknown)", NULL,
	  false },
	{ P_UNKNOWN_DENY, "alice", "imap", "203.0.113.0/24", "unknown", NULL,
	  "deny user=alice service=imap ip=unknown (client IP unknown)", NULL,
	  true },
	{ P_DEFAULT, "alice", "imap", "203.0.113.0/24", "10.0.0.1", NULL,
	  "exempt user=alice service=imap ip=10.0.0.1 (exempt network)", NULL,
	  false },
	{ P_NONE, "alice", "imap", "203.0.113.0/24", "198.51.100.7", NULL,
	  "deny user=alice service=imap ip=198.51.100.7 (policy not loaded)",
	  NULL, true },
	{ P_FIELD, "alice", "imap", "203.0.113.0/24", "198.51.100.7", NULL,
	  "deny user=alice service=imap ip=198.51.100.7 (not in nets_allowed)",
	  NULL, true },
	/* invalid lists */
	{ P_DEFAULT, "bob", "imap", "198.51.100.0/24 2001:db8::/32 10/8",
	  "198.51.100.7", NULL,
	  "deny user=bob service=imap ip=198.51.100.7 (invalid allow_nets)",
	  "invalid allow_nets for user=bob: entry 3 \"10/8\": IPv4 shorthand is "
	  "not allowed", true },
	{ P_DEFAULT, "bob", "imap", "10/8, 198.51.100.0/24, x", "198.51.100.7",
	  NULL,
	  "deny user=bob service=imap ip=198.51.100.7 (invalid allow_nets)",
	  "invalid allow_nets for user=bob: entry 1 \"10/8\": IPv4 shorthand is "
	  "not allowed (and 1 more error)", true },
	{ P_FIELD, "bob", "imap", "x y z", "198.51.100.7", NULL,
	  "deny user=bob service=imap ip=198.51.100.7 (invalid nets_allowed)",
	  "invalid nets_allowed for user=bob: entry 1 \"x\": host names are not "
	  "allowed, only IP addresses (and 2 more errors)", true },
	{ P_REPORT, "bob", "imap", "fe80::1%eth0 198.51.100.7", "198.51.100.7",
	  NULL,
	  "report-only, would deny user=bob service=imap ip=198.51.100.7 "
	  "(invalid allow_nets)",
	  "invalid allow_nets for user=bob: entry 1 \"fe80::1%eth0\": IPv6 zone "
	  "index is not allowed", true },
	{ P_SKIP, "bob", "imap", "198.51.100.0/24 10/8", "198.51.100.7", NULL,
	  "allow user=bob service=imap ip=198.51.100.7 (in allow_nets)",
	  "invalid allow_nets for user=bob: entry 2 \"10/8\": IPv4 shorthand is "
	  "not allowed (invalid entries skipped)", false },
	{ P_SKIP, "bob", "imap", "198.51.100.0/24 10/8", "203.0.113.1", NULL,
	  "deny user=bob service=imap ip=203.0.113.1 (not in allow_nets)",
	  "invalid allow_nets for user=bob: entry 2 \"10/8\": IPv4 shorthand is "
	  "not allowed (invalid entries skipped)", true },
	{ P_SKIP, "bob", "imap", "10/8", "198.51.100.7", NULL,
	  "deny user=bob service=imap ip=198.51.100.7 (invalid allow_nets)",
	  "invalid allow_nets for user=bob: entry 1 \"10/8\": IPv4 shorthand is "
	  "not allowed", true },
	{ P_SKIP, "bob", "imap", "1.1.1.1 2.2.2.2 3.3.3.3 4.4.4.4",
	  "198.51.100.7", NULL,
	  "deny user=bob service=imap ip=198.51.100.7 (invalid allow_nets)",
	  "invalid allow_nets for user=bob: entry 4 \"4.4.4.4\": list has more "
	  "than 3 entries (limits.entries)", true },
	/* who and what are escaped: no log injection */
	{ P_DEFAULT, "eve\nipallow: allow user=admin", "imap", "203.0.113.0/24",
	  "198.51.100.7", NULL,
	  "deny user=eve\\x0aipallow:\\x20allow\\x20user=admin service=imap "
	  "ip=198.51.100.7 (not in allow_nets)", NULL, true },
	/* a space in a name cannot forge a field of its own */
	{ P_DEFAULT, "eve service=caldav", "imap", "203.0.113.0/24",
	  "198.51.100.7", NULL,
	  "deny user=eve\\x20service=caldav service=imap "
	  "ip=198.51.100.7 (not in allow_nets)", NULL, true },
	{ P_DEFAULT, "\"quoted\"", "im\\ap", "203.0.113.0/24", "198.51.100.7",
	  NULL, "deny user=\\x22quoted\\x22 service=im\\x5cap ip=198.51.100.7 "
	  "(not in allow_nets)", NULL, true },
	{ P_DEFAULT, NULL, NULL, "203.0.113.0/24", "198.51.100.7", NULL,
	  "deny user=- service=- ip=198.51.100.7 (not in allow_nets)", NULL,
	  true },
	{ P_DEFAULT, "", "", "203.0.113.0/24", "198.51.100.7", NULL,
	  "deny user=- service=- ip=198.51.100.7 (not in allow_nets)", NULL,
	  true },
	{ P_DEFAULT, "eve", "imap", "1.2.3.4 \x1b[31mred", "198.51.100.7", NULL,
	  "deny user=eve service=imap ip=198.51.100.7 (invalid allow_nets)",
	  "invalid allow_nets for user=eve: entry 2 \"\\x1b[31mred\": brackets "
	  "are not allowed", true },
};

START_TEST(test_log_lines)
{
	const struct log_case *c = &log_cases[_i];
	struct ipallow_policy *policy = policies[c->policy];
	struct ipallow_login req;
	struct ipallow_decision dec;
	char buf[IPALLOW_MESSAGE_MAX];
	const char *line;

	memset(&req, 0, sizeof(req));
	req.service = c->service;
	req.list_text = c->list;
	req.client_ip = test_addr(c->ip);
	ipallow_decide(policy, &req, &dec);

	/* who the line names: not used by these decisions */
	req.user = c->user;
	if (c->peer != NULL)
		req.peer_ip = test_addr(c->peer);
	else
		ipallow_addr_set_none(&req.peer_ip);

	line = ipallow_message_decision(&dec, &req, buf, sizeof(buf));
	ck_assert_msg(line == buf && strcmp(buf, c->line) == 0,
		      "case %d: '%s'", _i, buf);
	line = ipallow_message_invalid(&dec, &req, buf, sizeof(buf));
	if (c->invalid == NULL) {
		ck_assert_msg(line == NULL, "case %d: invalid line '%s'", _i,
			      line);
	} else {
		ck_assert_msg(line != NULL && strcmp(line, c->invalid) == 0,
			      "case %d: invalid line '%s'", _i, line);
	}
	ck_assert_msg(ipallow_message_is_notable(&dec) == c->notable,
		      "case %d: notable", _i);
}
END_TEST

/* A byte-limit error has no entry; a small buffer cuts cleanly. */
START_TEST(test_log_edges)
{
	struct ipallow_login req;
	struct ipallow_decision dec;
	char buf[IPALLOW_MESSAGE_MAX], *text;

	text = malloc(IPALLOW_LIST_DEFAULT_MAX_BYTES + 2);
	ck_assert(text != NULL);
	memset(text, ',', IPALLOW_LIST_DEFAULT_MAX_BYTES + 1);
	text[IPALLOW_LIST_DEFAULT_MAX_BYTES + 1] = '\0';
	memset(&req, 0, sizeof(req));
	req.service = "imap";
	req.list_text = text;
	req.client_ip = test_addr("198.51.100.7");
	/* all separators: no list at all, however long */
	ck_assert(ipallow_decide(policies[P_DEFAULT], &req, &dec));
	ck_assert_int_eq(dec.rule, IPALLOW_RULE_NO_LIST);
	text[0] = '1';
	ck_assert(!ipallow_decide(policies[P_SKIP], &req, &dec));
	ck_assert_int_eq(dec.rule, IPALLOW_RULE_INVALID_LIST);
	ck_assert(dec.over_limit);

	req.user = "carol";
	ck_assert_str_eq(ipallow_message_invalid(&dec, &req, buf, sizeof(buf)),
			 "invalid allow_nets for user=carol: list is longer "
			 "than 65536 bytes (limits.bytes) (65537 bytes)");
	free(text);

	ipallow_message_decision(&dec, &req, buf, 16);
	ck_assert_str_eq(buf, "deny user=carol");
	ipallow_message_invalid(&dec, &req, buf, 8);
	ck_assert_str_eq(buf, "invalid");
}
END_TEST

START_TEST(test_to_string)
{
	static const struct {
		enum ipallow_rule rule;
		const char *id, *words;
	} rules[] = {
		{ IPALLOW_RULE_INTERNAL_ERROR, "internal_error", "internal error" },
		{ IPALLOW_RULE_EXEMPT_SERVICE, "exempt_service", "exempt service" },
		{ IPALLOW_RULE_NO_LIST, "no_list", "no allow_nets" },
		{ IPALLOW_RULE_UNKNOWN_IP, "unknown_ip", "client IP unknown" },
		{ IPALLOW_RULE_EXEMPT_NETWORK, "exempt_network", "exempt network" },
		{ IPALLOW_RULE_INVALID_LIST, "invalid_list", "invalid allow_nets" },
		{ IPALLOW_RULE_IN_LIST, "in_list", "in allow_nets" },
		{ IPALLOW_RULE_NOT_IN_LIST, "not_in_list", "not in allow_nets" },
		{ IPALLOW_RULE_NO_POLICY, "no_policy", "policy not loaded" },
	};
	char buf[64];
	unsigned int i;

	ck_assert_str_eq(ipallow_result_to_string(IPALLOW_RESULT_DENY), "deny");
	ck_assert_str_eq(ipallow_result_to_string(IPALLOW_RESULT_ALLOW), "allow");
	ck_assert_str_eq(ipallow_result_to_string(IPALLOW_RESULT_EXEMPT),
			 "exempt");
	ck_assert_str_eq(ipallow_result_to_string(IPALLOW_RESULT_UNRESTRICTED),
			 "unrestricted");
	ck_assert_str_eq(ipallow_result_to_string(IPALLOW_RESULT_REPORT),
			 "report");
	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		ck_assert_str_eq(ipallow_rule_to_string(rules[i].rule), rules[i].id);
		ck_assert_str_eq(ipallow_rule_describe(rules[i].rule, "allow_nets",
						       buf, sizeof(buf)),
				 rules[i].words);
	}
	/* the zero values fail closed */
	ck_assert_int_eq(IPALLOW_RESULT_DENY, 0);
	ck_assert_int_eq(IPALLOW_RULE_INTERNAL_ERROR, 0);
}
END_TEST

/* An internal error as the adapters would log it. */
START_TEST(test_log_internal_error)
{
	struct ipallow_decision dec;
	struct ipallow_login login;
	char buf[IPALLOW_MESSAGE_MAX];

	ipallow_decision_init(&dec, NULL, NULL);
	memset(&login, 0, sizeof(login));
	login.user = "alice";
	login.service = "imap";
	login.client_ip = test_addr("2001:db8::1");
	ck_assert_str_eq(ipallow_message_decision(&dec, &login, buf, sizeof(buf)),
			 "deny user=alice service=imap ip=2001:db8::1 "
			 "(internal error)");
	ck_assert(ipallow_message_invalid(&dec, &login, buf,
					  sizeof(buf)) == NULL);
	ck_assert(ipallow_message_is_notable(&dec));
	/* the adapter's reason ends the line */
	dec.reason = "unknown address family";
	ck_assert_str_eq(ipallow_message_decision(&dec, &login, buf, sizeof(buf)),
			 "deny user=alice service=imap ip=2001:db8::1 "
			 "(internal error): unknown address family");
}
END_TEST

static Suite *decide_suite(void)
{
	Suite *s = suite_create("decide");
	TCase *tc;

	tc = tcase_create("order");
	tcase_add_checked_fixture(tc, policies_setup, policies_teardown);
	tcase_add_loop_test(tc, test_decide, 0, N_ELEMENTS(decide_cases));
	tcase_add_test(tc, test_decide_shared_cache);
	suite_add_tcase(s, tc);

	tc = tcase_create("log");
	tcase_add_checked_fixture(tc, policies_setup, policies_teardown);
	tcase_add_loop_test(tc, test_log_lines, 0, N_ELEMENTS(log_cases));
	tcase_add_test(tc, test_log_edges);
	tcase_add_test(tc, test_log_internal_error);
	tcase_add_test(tc, test_to_string);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run_suite(decide_suite());
}
