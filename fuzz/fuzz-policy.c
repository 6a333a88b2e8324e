/* libFuzzer target: the YAML policy loader (SPEC §5), through
   ipallow_policy_load_buffer() on the raw bytes.

   The policy is named as if it lived in a directory that does not exist,
   so relative set files fail to open instead of reading whatever the
   fuzzer's working directory holds. Checks beyond memory safety:
   - the loader returns a whole policy or an error, never both or neither,
     and an error is "NAME:line:column: message" or "NAME: message";
   - a loaded policy is complete and usable: decisions over it (with
     its sets referenced from a list) do not crash, sets answer for the
     first address of their own prefixes, and a private client is
     exempt exactly when the default exempt networks are in force. */
#include <string.h>

#include "common.h"
#include "ipallow-alloc.h"
#include "ipallow-decide.h"
#include "ipallow-policy.h"

#define POLICY_NAME "/nonexistent-ipallow-fuzz/ipallow.yaml"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_error(const char *error)
{
	size_t n = strlen(POLICY_NAME);
	unsigned long line, column;

	FUZZ_CHECK(error != NULL, "failed without a message");
	FUZZ_CHECK(strncmp(error, POLICY_NAME, n) == 0 &&
		   (error[n] == ':'), "message does not name the file: %s",
		   error);
	if (error[n + 1] == ' ')
		return;		/* "NAME: message" */
	FUZZ_CHECK(sscanf(error + n + 1, "%lu:%lu: ", &line, &column) == 2 &&
		   line >= 1 && column >= 1,
		   "message has no 1-based line:column: %s", error);
}

static void decide(struct ipallow_checker *checker, const char *service,
		   const char *list, const char *ip)
{
	struct ipallow_login req;
	struct ipallow_decision dec;
	const char *error;
	bool goes_on;

	memset(&req, 0, sizeof(req));
	req.service = service;
	req.list_text = list;
	if (ip == NULL)
		ipallow_addr_set_none(&req.client_ip);
	else
		FUZZ_CHECK(ipallow_addr_parse(ip, &req.client_ip, &error) == 0,
			   "fixture address %s", ip);
	goes_on = ipallow_check(checker, &req, &dec);
	FUZZ_CHECK(goes_on == (dec.result != IPALLOW_RESULT_DENY),
		   "decide returned %d for %s", goes_on,
		   ipallow_result_to_string(dec.result));
	FUZZ_CHECK(dec.rule != IPALLOW_RULE_INTERNAL_ERROR,
		   "internal error deciding (%s, %s)", list, ip);
	if (ipallow_checker_policy(checker)->mode == IPALLOW_MODE_ENFORCE)
		FUZZ_CHECK(dec.result != IPALLOW_RESULT_REPORT, "report in "
			   "enforce mode");
	else
		FUZZ_CHECK(dec.result != IPALLOW_RESULT_DENY ||
			   dec.rule == IPALLOW_RULE_NO_POLICY, "deny in report mode");
}

static bool default_exempt_networks(const struct ipallow_policy *policy)
{
	static const char *const inside[] = {
		"10.1.2.3", "172.16.0.1", "192.168.1.1", "fd00::1",
		"127.0.0.1", "::1", "169.254.1.1", "fe80::1",
	};
	unsigned int i;

	for (i = 0; i < sizeof(inside) / sizeof(inside[0]); i++) {
		struct ipallow_addr addr;
		const char *error;

		FUZZ_CHECK(ipallow_addr_parse(inside[i], &addr, &error) == 0,
			   "fixture address %s", inside[i]);
		if (!ipallow_radix_lookup(policy->exempt_networks, &addr))
			return false;
	}
	return true;
}

static void check_policy(const struct ipallow_policy *policy)
{
	struct ipallow_checker *checker;
	struct ipallow_parse_ctx ctx;
	char list[1024];
	size_t pos = 0;
	unsigned int i;

	FUZZ_CHECK(policy->field != NULL && policy->field[0] != '\0',
		   "no field name");
	FUZZ_CHECK(policy->reject_reason != NULL, "no reject_reason");
	FUZZ_CHECK(policy->exempt_networks != NULL, "no exempt networks");
	FUZZ_CHECK(policy->limits.max_entries > 0 &&
		   policy->limits.max_bytes > 0, "zero limits");
	ipallow_policy_parse_ctx(policy, &ctx);
	FUZZ_CHECK(ctx.sets == policy->sets &&
		   ctx.sets_count == policy->sets_count,
		   "sets not wired into the parse context");
	FUZZ_CHECK(ipallow_checker_create(policy, &checker) == 0,
		   "out of memory");
	for (i = 0; i < policy->exempt_services_count; i++)
		FUZZ_CHECK(policy->exempt_services[i] != NULL &&
			   ipallow_policy_service_exempt(policy,
				policy->exempt_services[i]),
			   "exempt service %u", i);

	list[0] = '\0';
	for (i = 0; i < policy->sets_count; i++) {
		const struct ipallow_set *set = policy->sets[i];

		FUZZ_CHECK(set->name != NULL && set->radix != NULL, "set %u", i);
		FUZZ_CHECK(ipallow_policy_find_set(policy, set->name) == set,
			   "set '%s' is not found by name (duplicate?)",
			   set->name);
		FUZZ_CHECK(ipallow_radix_prefix_count(set->radix) <=
			   set->prefix_count, "set '%s' prefix count", set->name);
		if (pos + strlen(set->name) + 3 < sizeof(list))
			pos += (size_t)snprintf(list + pos, sizeof(list) - pos,
						"@%s ", set->name);
	}

	decide(checker, "imap", NULL, "198.51.100.7");
	decide(checker, "imap", "", "198.51.100.7");
	decide(checker, "imap", "198.51.100.0/24", NULL);
	decide(checker, "imap", "198.51.100.0/24", "198.51.100.7");
	decide(checker, "imap", "198.51.100.0/24", "::ffff:198.51.100.7");
	decide(checker, "imap", "2001:db8::/32, 10/8", "2001:db8::1");
	decide(checker, "caldav", "192.0.2.1", "198.51.100.7");
	decide(checker, NULL, "192.0.2.1", "10.0.0.1");
	if (list[0] != '\0') {
		decide(checker, "imap", list, "198.51.100.7");
		decide(checker, "pop3", list, "2001:db8::1");
	}

	/* with the default exempt networks, a private client is exempt */
	if (default_exempt_networks(policy) &&
	    !ipallow_policy_service_exempt(policy, "imap")) {
		struct ipallow_login req;
		struct ipallow_decision dec;
		const char *error;

		memset(&req, 0, sizeof(req));
		req.service = "imap";
		req.list_text = "192.0.2.1";
		FUZZ_CHECK(ipallow_addr_parse("192.168.1.1", &req.client_ip,
					      &error) == 0, "fixture");
		ipallow_check(checker, &req, &dec);
		FUZZ_CHECK(dec.result == IPALLOW_RESULT_EXEMPT &&
			   dec.rule == IPALLOW_RULE_EXEMPT_NETWORK,
			   "private client not exempt: %s",
			   ipallow_result_to_string(dec.result));
	}
	ipallow_checker_free(&checker);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipallow_policy *policy = (struct ipallow_policy *)1;
	char *error = (char *)1;
	int ret;

	ret = ipallow_policy_load_buffer(data, size, POLICY_NAME, &policy,
					 &error);
	if (ret < 0) {
		FUZZ_CHECK(policy == NULL, "failed but returned a policy");
		check_error(error);
		ipallow_free(error);
		return 0;
	}
	FUZZ_CHECK(ret == 0 && policy != NULL && error == NULL,
		   "loaded with ret %d, policy %p, error %p", ret,
		   (void *)policy, (void *)error);
	check_policy(policy);
	ipallow_policy_free(&policy);
	FUZZ_CHECK(policy == NULL, "free did not clear the pointer");
	return 0;
}
