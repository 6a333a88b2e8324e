/* The decision (SPEC §4), step by step and in its order, and the words
   of its results and rules. The lines built from it: check-message.c. */
#include "test-common.h"
#include "ipallow-decide.h"

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
static struct ipallow_checker *checkers[P_COUNT];

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
		/* one checker per policy for the whole test, so later
		   rounds decide from its cache */
		ck_assert_int_eq(ipallow_checker_create(policies[i],
							&checkers[i]), 0);
	}
}

static void policies_teardown(void)
{
	int i;

	for (i = 0; i < P_COUNT; i++) {
		ipallow_checker_free(&checkers[i]);
		ipallow_policy_free(&policies[i]);
	}
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

	goes_on = ipallow_check(checkers[c->policy], &req, &dec);
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

static Suite *decide_suite(void)
{
	Suite *s = suite_create("decide");
	TCase *tc;

	tc = tcase_create("order");
	tcase_add_checked_fixture(tc, policies_setup, policies_teardown);
	tcase_add_loop_test(tc, test_decide, 0, N_ELEMENTS(decide_cases));
	tcase_add_test(tc, test_decide_shared_cache);
	suite_add_tcase(s, tc);

	tc = tcase_create("words");
	tcase_add_test(tc, test_to_string);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run_suite(decide_suite());
}
