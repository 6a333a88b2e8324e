/* Forced password change at next login (SPEC 9.5): the mark, its place
   after the network decision, the exemptions, the policy keys and the
   log line. */
#include "test-common.h"
#include "test-check.h"
#include "ipallow-decide.h"
#include "ipallow-message.h"

static const char policy_text[] =
	"password_change:\n"
	"  exempt_peers: [127.0.0.1/32, \"2001:db8:ffff::/48\"]\n"
	"  exempt_services: [sieve]\n";

static struct ipallow_policy *load(const char *text)
{
	struct ipallow_policy *policy;
	char *error = NULL;

	ck_assert_msg(ipallow_policy_load_buffer((const unsigned char *)text,
						 strlen(text), "pw.yaml",
						 &policy, &error) == 0,
		      "policy: %s", error);
	return policy;
}

/* name -> value, for one login */
struct fields {
	const char *nets;
	const char *mark;
};

static const char *get_field(void *context, const char *name)
{
	const struct fields *f = context;

	if (strcmp(name, "allow_nets") == 0)
		return f->nets;
	if (strcmp(name, IPALLOW_PASSWORD_CHANGE_FIELD) == 0)
		return f->mark;
	return NULL;
}

static bool decide(struct ipallow_policy *policy, const char *service,
		   const char *nets, const char *mark, const char *ip,
		   const char *peer, struct ipallow_decision *dec)
{
	struct ipallow_login req;
	struct fields f = { nets, mark };

	memset(&req, 0, sizeof(req));
	req.service = service;
	req.user = "alice";
	req.get_field = get_field;
	req.field_context = &f;
	req.client_ip = test_addr(ip);
	req.peer_ip = test_addr(peer);
	return test_check_once(policy, &req, dec);
}

START_TEST(test_marked_values)
{
	static const char *const yes[] = { "yes", "YES", "Yes", "true",
					   "TRUE", "tRuE", "1" };
	static const char *const no[] = { "no", "0", "", "y", "2", "yes ",
					  " yes", "on", "enabled", "11" };
	int i;

	for (i = 0; i < N_ELEMENTS(yes); i++)
		ck_assert_msg(ipallow_password_change_marked(yes[i]), "%s",
			      yes[i]);
	for (i = 0; i < N_ELEMENTS(no); i++)
		ck_assert_msg(!ipallow_password_change_marked(no[i]), "\"%s\"",
			      no[i]);
	ck_assert(!ipallow_password_change_marked(NULL));
}
END_TEST

/* After the network decision: every result that lets a login go on
   turns into password_change; a denial stays a denial. */
START_TEST(test_after_network)
{
	struct ipallow_policy *policy = load("");
	struct ipallow_decision dec;

	/* allowed network, marked */
	ck_assert(!decide(policy, "imap", "203.0.113.0/24", "yes",
			  "203.0.113.7", "unknown", &dec));
	ck_assert_int_eq(dec.result, IPALLOW_RESULT_PASSWORD_CHANGE);
	ck_assert_int_eq(dec.rule, IPALLOW_RULE_PASSWORD_CHANGE);
	ck_assert_int_eq(dec.network_result, IPALLOW_RESULT_ALLOW);
	ck_assert_int_eq(dec.network_rule, IPALLOW_RULE_IN_LIST);
	/* no list (unrestricted), marked */
	ck_assert(!decide(policy, "pop3", NULL, "1", "198.51.100.7",
			  "unknown", &dec));
	ck_assert_int_eq(dec.result, IPALLOW_RESULT_PASSWORD_CHANGE);
	ck_assert_int_eq(dec.network_result, IPALLOW_RESULT_UNRESTRICTED);
	/* exempt network (private), marked */
	ck_assert(!decide(policy, "imap", "203.0.113.0/24", "true",
			  "10.1.2.3", "unknown", &dec));
	ck_assert_int_eq(dec.network_result, IPALLOW_RESULT_EXEMPT);
	/* exempt service (DAV) is still refused: not in exempt_services */
	ck_assert(!decide(policy, "caldav", "203.0.113.0/24", "yes",
			  "198.51.100.7", "unknown", &dec));
	ck_assert_int_eq(dec.result, IPALLOW_RESULT_PASSWORD_CHANGE);
	/* denied network: the denial, not the mark */
	ck_assert(!decide(policy, "imap", "203.0.113.0/24", "yes",
			  "198.51.100.7", "unknown", &dec));
	ck_assert_int_eq(dec.result, IPALLOW_RESULT_DENY);
	ck_assert_int_eq(dec.rule, IPALLOW_RULE_NOT_IN_LIST);
	/* not marked */
	ck_assert(decide(policy, "imap", "203.0.113.0/24", "no",
			 "203.0.113.7", "unknown", &dec));
	ck_assert_int_eq(dec.result, IPALLOW_RESULT_ALLOW);
	ck_assert(!dec.password_change_exempted);
	ipallow_policy_free(&policy);
}
END_TEST

START_TEST(test_report_mode)
{
	struct ipallow_policy *policy = load("mode: report\n");
	struct ipallow_decision dec;

	/* would deny, goes on; the mark still refuses it */
	ck_assert(!decide(policy, "imap", "203.0.113.0/24", "yes",
			  "198.51.100.7", "unknown", &dec));
	ck_assert_int_eq(dec.result, IPALLOW_RESULT_PASSWORD_CHANGE);
	ck_assert_int_eq(dec.network_result, IPALLOW_RESULT_REPORT);
	ipallow_policy_free(&policy);
}
END_TEST

START_TEST(test_exemptions)
{
	struct ipallow_policy *policy = load(policy_text);
	struct ipallow_decision dec;

	/* the webmail host as the real peer */
	ck_assert(decide(policy, "imap", NULL, "yes", "198.51.100.7",
			 "127.0.0.1", &dec));
	ck_assert_int_eq(dec.result, IPALLOW_RESULT_UNRESTRICTED);
	ck_assert(dec.password_change_exempted);
	ck_assert(decide(policy, "imap", NULL, "yes", "198.51.100.7",
			 "2001:db8:ffff::10", &dec));
	ck_assert(dec.password_change_exempted);
	/* an IPv4-mapped peer is the IPv4 peer */
	ck_assert(decide(policy, "imap", NULL, "yes", "198.51.100.7",
			 "::ffff:127.0.0.1", &dec));
	/* the client address is not the peer: not exempt */
	ck_assert(!decide(policy, "imap", NULL, "yes", "127.0.0.1",
			  "198.51.100.8", &dec));
	ck_assert_int_eq(dec.result, IPALLOW_RESULT_PASSWORD_CHANGE);
	/* unknown peer: not exempt */
	ck_assert(!decide(policy, "imap", NULL, "yes", "198.51.100.7",
			  "unknown", &dec));
	/* exempt service, any case */
	ck_assert(decide(policy, "SIEVE", NULL, "yes", "198.51.100.7",
			 "unknown", &dec));
	ck_assert(dec.password_change_exempted);
	ck_assert(!decide(policy, "smtp", NULL, "yes", "198.51.100.7",
			  "unknown", &dec));
	/* an exempt peer does not open a denied network */
	ck_assert(!decide(policy, "imap", "203.0.113.0/24", "yes",
			  "198.51.100.7", "127.0.0.1", &dec));
	ck_assert_int_eq(dec.result, IPALLOW_RESULT_DENY);
	ipallow_policy_free(&policy);
}
END_TEST

/* Defaults: no peer and no service is exempt. */
START_TEST(test_defaults)
{
	struct ipallow_policy *policy = load("");
	struct ipallow_decision dec;

	ck_assert(!decide(policy, "imap", NULL, "yes", "198.51.100.7",
			  "127.0.0.1", &dec));
	ck_assert(!decide(policy, "sieve", NULL, "yes", "198.51.100.7",
			  "127.0.0.1", &dec));
	ipallow_policy_free(&policy);
}
END_TEST

START_TEST(test_policy_errors)
{
	static const struct {
		const char *text, *error;
	} cases[] = {
		{ "password_change:\n  exempt_peers: [10/8]\n",
		  "pw.yaml:2:18: password_change.exempt_peers: \"10/8\": IPv4 "
		  "shorthand is not allowed" },
		{ "password_change:\n  exempt_peers: [nosuch]\n",
		  "pw.yaml:2:18: password_change.exempt_peers: unknown group "
		  "\"nosuch\" (groups are private, loopback, link-local)" },
		{ "password_change:\n  exempt_services: [\"a b\"]\n",
		  "pw.yaml:2:21: password_change.exempt_services: \"a b\" is "
		  "not a service name" },
		{ "password_change:\n  exempt_peer: []\n",
		  NULL },
		{ "password_change: yes\n", NULL },
	};
	int i;

	for (i = 0; i < N_ELEMENTS(cases); i++) {
		struct ipallow_policy *policy = NULL;
		char *error = NULL;

		ck_assert_msg(ipallow_policy_load_buffer(
			(const unsigned char *)cases[i].text,
			strlen(cases[i].text), "pw.yaml", &policy, &error) < 0,
			"case %d loaded", i);
		ck_assert(policy == NULL);
		ck_assert(error != NULL);
		if (cases[i].error != NULL)
			ck_assert_str_eq(error, cases[i].error);
		free(error);
	}
}
END_TEST

START_TEST(test_log_line)
{
	struct ipallow_policy *policy = load("");
	struct ipallow_decision dec;
	struct ipallow_login login;
	char line[IPALLOW_MESSAGE_MAX];

	(void)decide(policy, "imap", NULL, "yes", "198.51.100.7", "unknown",
		     &dec);
	memset(&login, 0, sizeof(login));
	login.user = "alice";
	login.service = "imap";
	login.client_ip = test_addr("198.51.100.7");
	login.peer_ip = test_addr("127.0.0.1");
	ck_assert_str_eq(ipallow_message_decision(&dec, &login, line,
						  sizeof(line)),
			 "password change required user=alice service=imap "
			 "ip=198.51.100.7 peer=127.0.0.1 "
			 "(password_change_required)");
	ck_assert(ipallow_message_is_notable(&dec));
	ck_assert_str_eq(ipallow_result_to_string(dec.result),
			 "password_change");
	ck_assert_str_eq(ipallow_rule_to_string(dec.rule),
			 "password_change_required");
	ipallow_policy_free(&policy);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pwchange");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_marked_values);
	tcase_add_test(tc, test_after_network);
	tcase_add_test(tc, test_report_mode);
	tcase_add_test(tc, test_exemptions);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_policy_errors);
	tcase_add_test(tc, test_log_line);
	suite_add_tcase(s, tc);
	return check_run_suite(s);
}
