/* The lines about one login (SPEC §6) that the adapters log and the CLI
   prints, from the login and its decision: ipallow-message.c. */
#include "test-common.h"
#include "test-check.h"
#include "ipallow-decide.h"
#include "ipallow-message.h"

enum test_policy {
	P_NONE,		/* not loaded: NULL */
	P_DEFAULT,
	P_REPORT,
	P_SKIP,
	P_UNKNOWN_DENY,
	P_FIELD,
};

/* The policy a case runs with, loaded for that case (freed by the
   caller). */
static struct ipallow_policy *message_policy(enum test_policy which)
{
	static const char *const yaml[] = {
		[P_DEFAULT] = "",
		[P_REPORT] = "mode: report\n",
		[P_SKIP] = "on_invalid: skip\nlimits: { entries: 3 }\n",
		[P_UNKNOWN_DENY] = "unknown_ip: deny\n",
		[P_FIELD] = "field: nets_allowed\n",
	};
	struct ipallow_policy *policy = NULL;
	char *error = NULL;

	if (which == P_NONE)
		return NULL;
	ck_assert_msg(ipallow_policy_load_buffer(
		(const unsigned char *)yaml[which], strlen(yaml[which]),
		"test.yaml", &policy, &error) == 0, "policy %d: %s", which,
		error);
	return policy;
}

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
	struct ipallow_policy *policy = message_policy(c->policy);
	struct ipallow_login req;
	struct ipallow_decision dec;
	char buf[IPALLOW_MESSAGE_MAX];
	const char *line;

	memset(&req, 0, sizeof(req));
	req.service = c->service;
	req.list_text = c->list;
	req.client_ip = test_addr(c->ip);
	test_check_once(policy, &req, &dec);

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
	ipallow_policy_free(&policy);
}
END_TEST

/* A byte-limit error has no entry; a small buffer cuts cleanly. */
START_TEST(test_log_edges)
{
	struct ipallow_policy *policy_default = message_policy(P_DEFAULT);
	struct ipallow_policy *policy_skip = message_policy(P_SKIP);
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
	ck_assert(test_check_once(policy_default, &req, &dec));
	ck_assert_int_eq(dec.rule, IPALLOW_RULE_NO_LIST);
	text[0] = '1';
	ck_assert(!test_check_once(policy_skip, &req, &dec));
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
	ipallow_policy_free(&policy_default);
	ipallow_policy_free(&policy_skip);
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

/* A policy that did not load: the adapter gives the reason, which ends
   the line after the rule, as in "... (policy not loaded): <why>". */
START_TEST(test_log_no_policy_reason)
{
	struct ipallow_decision dec;
	struct ipallow_login login;
	char buf[IPALLOW_MESSAGE_MAX];

	memset(&login, 0, sizeof(login));
	login.user = "alice";
	login.service = "pop3";
	login.client_ip = test_addr("198.51.100.7");
	ck_assert(!ipallow_check(NULL, &login, &dec));
	ck_assert_int_eq(dec.rule, IPALLOW_RULE_NO_POLICY);
	ck_assert_str_eq(dec.field, "allow_nets");
	dec.reason = "/etc/dovecot/ipallow.yaml:3:1: unknown key \"x\"";
	ck_assert_str_eq(ipallow_message_decision(&dec, &login, buf, sizeof(buf)),
			 "deny user=alice service=pop3 ip=198.51.100.7 "
			 "(policy not loaded): /etc/dovecot/ipallow.yaml:3:1: "
			 "unknown key \"x\"");
	ck_assert(ipallow_message_bad_mode(&dec, &login, buf,
					   sizeof(buf)) == NULL);
	ck_assert(ipallow_message_geoip_error(&dec, &login, buf,
					      sizeof(buf)) == NULL);
}
END_TEST

/* The words of each result in the line, and its identifier in events. */
START_TEST(test_result_words)
{
	static const struct {
		enum ipallow_result result;
		const char *id, *line;
		bool notable;
	} words[] = {
		{ IPALLOW_RESULT_DENY, "deny", "deny", true },
		{ IPALLOW_RESULT_ALLOW, "allow", "allow", false },
		{ IPALLOW_RESULT_EXEMPT, "exempt", "exempt", false },
		{ IPALLOW_RESULT_UNRESTRICTED, "unrestricted", "unrestricted",
		  false },
		{ IPALLOW_RESULT_REPORT, "report", "report-only, would deny",
		  true },
		{ IPALLOW_RESULT_PASSWORD_CHANGE, "password_change",
		  "password change required", true },
	};
	struct ipallow_decision dec;
	unsigned int i;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		ipallow_decision_init(&dec, NULL, NULL);
		dec.result = words[i].result;
		ck_assert_str_eq(ipallow_result_to_string(dec.result),
				 words[i].id);
		ck_assert_str_eq(ipallow_result_describe(dec.result),
				 words[i].line);
		ck_assert(ipallow_message_is_notable(&dec) == words[i].notable);
	}
}
END_TEST

static Suite *message_suite(void)
{
	Suite *s = suite_create("message");
	TCase *tc = tcase_create("lines");

	tcase_add_loop_test(tc, test_log_lines, 0, N_ELEMENTS(log_cases));
	tcase_add_test(tc, test_log_edges);
	tcase_add_test(tc, test_log_internal_error);
	tcase_add_test(tc, test_log_no_policy_reason);
	tcase_add_test(tc, test_result_words);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run_suite(message_suite());
}
