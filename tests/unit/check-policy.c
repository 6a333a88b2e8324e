/* The YAML policy (SPEC §5): defaults, every key, every error with its
   exact "file:line:column: message", set files. */
#include "test-common.h"
#include "ipallow-policy.h"

static const char *const default_services[] = {
	"caldav", "carddav", "webdav", "dav", "radicale", "lmtp", "lda",
	"doveadm", "indexer-worker"
};

static struct ipallow_policy *load_ok(const char *yaml, const char *name)
{
	struct ipallow_policy *policy = NULL;
	char *error = NULL;

	ck_assert_msg(ipallow_policy_load_buffer((const unsigned char *)yaml,
						 strlen(yaml), name, &policy,
						 &error) == 0,
		      "\"%s\": %s", yaml, error);
	ck_assert(error == NULL && policy != NULL);
	return policy;
}

static bool exempt_net(const struct ipallow_policy *policy, const char *addr)
{
	struct ipallow_addr a = test_addr(addr);

	return ipallow_radix_lookup(policy->exempt_networks, &a);
}

static bool set_has(const struct ipallow_set *set, const char *addr)
{
	struct ipallow_addr a = test_addr(addr);

	return ipallow_radix_lookup(set->radix, &a);
}

static void assert_defaults(const struct ipallow_policy *policy)
{
	unsigned int i;

	ck_assert_str_eq(policy->field, "allow_nets");
	ck_assert_int_eq(policy->mode, IPALLOW_MODE_ENFORCE);
	ck_assert_str_eq(policy->reject_reason,
			 "Login from this network is not allowed for this mailbox.");
	ck_assert_int_eq(policy->unknown_ip, IPALLOW_UNKNOWN_IP_EXEMPT);
	ck_assert_int_eq(policy->on_invalid, IPALLOW_ON_INVALID_DENY);
	ck_assert_uint_eq(policy->limits.max_entries, 1024);
	ck_assert_uint_eq(policy->limits.max_bytes, 65536);
	ck_assert_uint_eq(policy->sets_count, 0);
	ck_assert_uint_eq(policy->exempt_services_count,
			  N_ELEMENTS(default_services));
	for (i = 0; i < policy->exempt_services_count; i++)
		ck_assert_str_eq(policy->exempt_services[i], default_services[i]);
	/* private, loopback, link-local: first and last addresses */
	ck_assert(exempt_net(policy, "10.0.0.0"));
	ck_assert(exempt_net(policy, "10.255.255.255"));
	ck_assert(exempt_net(policy, "172.16.0.0"));
	ck_assert(exempt_net(policy, "172.31.255.255"));
	ck_assert(exempt_net(policy, "192.168.0.0"));
	ck_assert(exempt_net(policy, "192.168.255.255"));
	ck_assert(exempt_net(policy, "fc00::"));
	ck_assert(exempt_net(policy, "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
	ck_assert(exempt_net(policy, "127.0.0.1"));
	ck_assert(exempt_net(policy, "127.255.255.255"));
	ck_assert(exempt_net(policy, "::1"));
	ck_assert(exempt_net(policy, "169.254.0.1"));
	ck_assert(exempt_net(policy, "fe80::1"));
	ck_assert(exempt_net(policy, "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
	ck_assert(exempt_net(policy, "::ffff:10.1.2.3"));
	/* not exempt, on purpose */
	ck_assert(!exempt_net(policy, "100.64.1.1"));	/* CGNAT */
	ck_assert(!exempt_net(policy, "172.0.0.1"));
	ck_assert(!exempt_net(policy, "172.15.255.255"));
	ck_assert(!exempt_net(policy, "172.32.0.1"));
	ck_assert(!exempt_net(policy, "9.255.255.255"));
	ck_assert(!exempt_net(policy, "11.0.0.0"));
	ck_assert(!exempt_net(policy, "192.0.2.1"));
	ck_assert(!exempt_net(policy, "198.51.100.7"));
	ck_assert(!exempt_net(policy, "::"));
	ck_assert(!exempt_net(policy, "::2"));
	ck_assert(!exempt_net(policy, "fbff::1"));
	ck_assert(!exempt_net(policy, "fec0::1"));
	ck_assert(!exempt_net(policy, "2001:db8::1"));
	ck_assert(!exempt_net(policy, "::10.1.2.3"));
	ck_assert(!exempt_net(policy, "unknown"));
}

/* Every key is optional: these all give the defaults. */
static const char *const default_docs[] = {
	"",
	"\n\n",
	"# nothing but a comment\n",
	"---\n",
	"--- \n...\n",
	"~\n",
	"null\n",
	"{}\n",
	"%YAML 1.1\n---\n{}\n",
	"mode: enforce\n",
};

START_TEST(test_policy_defaults_buffer)
{
	struct ipallow_policy *policy = load_ok(default_docs[_i], "test.yaml");

	assert_defaults(policy);
	ck_assert_str_eq(policy->path, "test.yaml");
	ck_assert(!policy->file_missing);
	ipallow_policy_free(&policy);
	ck_assert(policy == NULL);
	ipallow_policy_free(&policy);
}
END_TEST

START_TEST(test_policy_defaults)
{
	struct ipallow_policy *policy = NULL;

	ck_assert_int_eq(ipallow_policy_defaults(&policy), 0);
	assert_defaults(policy);
	ck_assert(policy->path == NULL);
	ck_assert(!policy->file_missing);
	ipallow_policy_free(&policy);
}
END_TEST

START_TEST(test_policy_missing_file)
{
	struct ipallow_policy *policy = NULL;
	char dir[256], path[300], *error = NULL;

	test_tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/no-such.yaml", dir);
	ck_assert_int_eq(ipallow_policy_load(path, &policy, &error), 0);
	ck_assert(error == NULL);
	assert_defaults(policy);
	ck_assert(policy->file_missing);
	ck_assert_str_eq(policy->path, path);
	ipallow_policy_free(&policy);

	/* a missing directory is a missing file too */
	snprintf(path, sizeof(path), "%s/no-such-dir/ipallow.yaml", dir);
	ck_assert_int_eq(ipallow_policy_load(path, &policy, &error), 0);
	ck_assert(policy->file_missing);
	ipallow_policy_free(&policy);
	test_tmpdir_remove(dir);
}
END_TEST

/* SPEC §9.1: a configured path must exist; only the built-in default
   may be missing. */
START_TEST(test_policy_configured_path_missing)
{
	struct ipallow_policy *policy = NULL;
	char dir[256], path[300], want[600], *error = NULL;
	const char *used = NULL;

	test_tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/no-such.yaml", dir);
	ck_assert_int_eq(ipallow_policy_load_path(path, &used, &policy,
						  &error), -1);
	ck_assert(policy == NULL);
	ck_assert_str_eq(used, path);
	snprintf(want, sizeof(want), "%s: No such file or directory (a "
		 "configured policy file must exist; remove the setting to use "
		 "the defaults)", path);
	ck_assert_str_eq(error, want);
	free(error);
	error = NULL;

	/* the flag, directly; and a missing directory too */
	snprintf(path, sizeof(path), "%s/no-such-dir/ipallow.yaml", dir);
	ck_assert_int_eq(ipallow_policy_load_flags(path,
		IPALLOW_POLICY_LOAD_MISSING_IS_ERROR, &policy, &error), -1);
	ck_assert(policy == NULL && error != NULL);
	free(error);
	error = NULL;
	/* without it: the defaults */
	ck_assert_int_eq(ipallow_policy_load_flags(path, 0, &policy, &error),
			 0);
	ck_assert(policy->file_missing);
	ipallow_policy_free(&policy);

	/* an existing configured file loads as before */
	snprintf(path, sizeof(path), "%s/p.yaml", dir);
	test_write_file(dir, "p.yaml", "field: nets\n", (size_t)-1, path,
			sizeof(path));
	ck_assert_int_eq(ipallow_policy_load_path(path, &used, &policy,
						  &error), 0);
	ck_assert_str_eq(policy->field, "nets");
	ck_assert(!policy->file_missing);
	ipallow_policy_free(&policy);

	/* no setting (NULL or ""): the built-in default path, which may be
	   missing */
	ck_assert(ipallow_policy_load_path(NULL, &used, &policy, &error) == 0 ||
		  access(IPALLOW_POLICY_DEFAULT_PATH, F_OK) == 0);
	ck_assert_str_eq(used, IPALLOW_POLICY_DEFAULT_PATH);
	ipallow_policy_free(&policy);
	free(error);
	error = NULL;
	used = NULL;
	(void)ipallow_policy_load_path("", &used, &policy, &error);
	ck_assert_str_eq(used, IPALLOW_POLICY_DEFAULT_PATH);
	ipallow_policy_free(&policy);
	free(error);
	test_tmpdir_remove(dir);
}
END_TEST

/* Every key, none at its default. */
START_TEST(test_policy_every_key)
{
	static const char yaml[] =
		"# all keys\n"
		"field: nets_allowed\n"
		"mode: report\n"
		"reject_reason: \"\"\n"
		"unknown_ip: deny\n"
		"on_invalid: skip\n"
		"limits: { entries: 10, bytes: 2000 }\n"
		"exempt:\n"
		"  networks: [loopback, 192.0.2.0/24, \"2001:db8:ffff::/48\", "
		"\"::ffff:198.51.100.0/120\"]\n"
		"  services: [caldav, Sieve]\n"
		"sets:\n"
		"  office: [203.0.113.0/24, \"2001:db8:100::/48\"]\n"
		"  partners.eu-1:\n"
		"    - 192.0.2.128/25\n"
		"    - 198.51.100.7/24   # host bits: the network\n"
		"  empty: []\n";
	struct ipallow_policy *policy = load_ok(yaml, "/etc/dovecot/ipallow.yaml");
	const struct ipallow_set *set;

	ck_assert_str_eq(policy->path, "/etc/dovecot/ipallow.yaml");
	ck_assert_str_eq(policy->field, "nets_allowed");
	ck_assert_int_eq(policy->mode, IPALLOW_MODE_REPORT);
	ck_assert_str_eq(policy->reject_reason, "");
	ck_assert_int_eq(policy->unknown_ip, IPALLOW_UNKNOWN_IP_DENY);
	ck_assert_int_eq(policy->on_invalid, IPALLOW_ON_INVALID_SKIP);
	ck_assert_uint_eq(policy->limits.max_entries, 10);
	ck_assert_uint_eq(policy->limits.max_bytes, 2000);

	ck_assert(exempt_net(policy, "127.0.0.1"));
	ck_assert(exempt_net(policy, "::1"));
	ck_assert(exempt_net(policy, "192.0.2.255"));
	ck_assert(exempt_net(policy, "2001:db8:ffff:1::1"));
	ck_assert(exempt_net(policy, "198.51.100.7"));
	ck_assert(!exempt_net(policy, "10.0.0.1"));	/* private not listed */
	ck_assert(!exempt_net(policy, "fe80::1"));
	ck_assert(!exempt_net(policy, "192.0.3.0"));

	ck_assert_uint_eq(policy->exempt_services_count, 2);
	ck_assert_str_eq(policy->exempt_services[0], "caldav");
	ck_assert_str_eq(policy->exempt_services[1], "Sieve");
	ck_assert(ipallow_policy_service_exempt(policy, "caldav"));
	ck_assert(ipallow_policy_service_exempt(policy, "CalDAV"));
	ck_assert(ipallow_policy_service_exempt(policy, "sieve"));
	ck_assert(!ipallow_policy_service_exempt(policy, "carddav"));
	ck_assert(!ipallow_policy_service_exempt(policy, "imap"));
	ck_assert(!ipallow_policy_service_exempt(policy, NULL));
	ck_assert(!ipallow_policy_service_exempt(policy, ""));

	ck_assert_uint_eq(policy->sets_count, 3);
	{
		struct ipallow_parse_ctx ctx;

		/* lists are parsed against the policy's own sets */
		ipallow_policy_parse_ctx(policy, &ctx);
		ck_assert_uint_eq(ctx.sets_count, 3);
		ck_assert(ctx.sets == policy->sets);
	}
	set = ipallow_policy_find_set(policy, "office");
	ck_assert(set != NULL);
	ck_assert_str_eq(set->name, "office");
	ck_assert_uint_eq(set->prefix_count, 2);
	ck_assert(set_has(set, "203.0.113.1"));
	ck_assert(set_has(set, "2001:db8:100:ffff::1"));
	ck_assert(!set_has(set, "192.0.2.129"));
	set = ipallow_policy_find_set(policy, "partners.eu-1");
	ck_assert(set != NULL);
	ck_assert_uint_eq(set->prefix_count, 2);
	ck_assert(set_has(set, "192.0.2.129"));
	ck_assert(set_has(set, "198.51.100.200"));
	ck_assert(!set_has(set, "192.0.2.127"));
	set = ipallow_policy_find_set(policy, "empty");
	ck_assert(set != NULL);
	ck_assert_uint_eq(set->prefix_count, 0);
	ck_assert(!set_has(set, "203.0.113.1"));
	ck_assert(ipallow_policy_find_set(policy, "Office") == NULL);
	ck_assert(ipallow_policy_find_set(policy, "nope") == NULL);
	ipallow_policy_free(&policy);
}
END_TEST

static const struct choice_case {
	const char *yaml;
	enum ipallow_mode mode;
	enum ipallow_unknown_ip unknown_ip;
	enum ipallow_on_invalid on_invalid;
} choice_cases[] = {
	{ "mode: enforce", IPALLOW_MODE_ENFORCE, IPALLOW_UNKNOWN_IP_EXEMPT,
	  IPALLOW_ON_INVALID_DENY },
	{ "mode: report", IPALLOW_MODE_REPORT, IPALLOW_UNKNOWN_IP_EXEMPT,
	  IPALLOW_ON_INVALID_DENY },
	{ "mode: 'report'", IPALLOW_MODE_REPORT, IPALLOW_UNKNOWN_IP_EXEMPT,
	  IPALLOW_ON_INVALID_DENY },
	{ "\"mode\": \"report\"", IPALLOW_MODE_REPORT, IPALLOW_UNKNOWN_IP_EXEMPT,
	  IPALLOW_ON_INVALID_DENY },
	{ "unknown_ip: exempt", IPALLOW_MODE_ENFORCE, IPALLOW_UNKNOWN_IP_EXEMPT,
	  IPALLOW_ON_INVALID_DENY },
	{ "unknown_ip: deny", IPALLOW_MODE_ENFORCE, IPALLOW_UNKNOWN_IP_DENY,
	  IPALLOW_ON_INVALID_DENY },
	{ "on_invalid: deny", IPALLOW_MODE_ENFORCE, IPALLOW_UNKNOWN_IP_EXEMPT,
	  IPALLOW_ON_INVALID_DENY },
	{ "on_invalid: skip", IPALLOW_MODE_ENFORCE, IPALLOW_UNKNOWN_IP_EXEMPT,
	  IPALLOW_ON_INVALID_SKIP },
	{ "{mode: report, unknown_ip: deny, on_invalid: skip}",
	  IPALLOW_MODE_REPORT, IPALLOW_UNKNOWN_IP_DENY, IPALLOW_ON_INVALID_SKIP },
};

START_TEST(test_policy_choices)
{
	const struct choice_case *c = &choice_cases[_i];
	struct ipallow_policy *policy = load_ok(c->yaml, "test.yaml");

	ck_assert_msg(policy->mode == c->mode &&
		      policy->unknown_ip == c->unknown_ip &&
		      policy->on_invalid == c->on_invalid,
		      "case %d: \"%s\"", _i, c->yaml);
	ipallow_policy_free(&policy);
}
END_TEST

START_TEST(test_policy_empty_exempt_lists)
{
	struct ipallow_policy *policy;

	policy = load_ok("exempt: { networks: [], services: [] }", "test.yaml");
	ck_assert(!exempt_net(policy, "10.0.0.1"));
	ck_assert(!exempt_net(policy, "127.0.0.1"));
	ck_assert_uint_eq(policy->exempt_services_count, 0);
	ck_assert(!ipallow_policy_service_exempt(policy, "caldav"));
	ipallow_policy_free(&policy);

	/* one of the two keys leaves the other at its default */
	policy = load_ok("exempt: { services: [imap] }", "test.yaml");
	ck_assert(exempt_net(policy, "10.0.0.1"));
	ck_assert(ipallow_policy_service_exempt(policy, "imap"));
	ck_assert(!ipallow_policy_service_exempt(policy, "caldav"));
	ipallow_policy_free(&policy);
	policy = load_ok("exempt: { networks: [private] }", "test.yaml");
	ck_assert(exempt_net(policy, "10.0.0.1"));
	ck_assert(!exempt_net(policy, "127.0.0.1"));
	ck_assert(ipallow_policy_service_exempt(policy, "caldav"));
	ipallow_policy_free(&policy);
}
END_TEST

struct error_case {
	const char *yaml;
	size_t size;		/* 0: strlen(yaml) */
	const char *error;	/* exact */
};

static const struct error_case error_cases[] = {
	/* unknown keys */
	{ "foo: 1\n", 0, "test.yaml:1:1: unknown key 'foo' in the policy" },
	{ "mode: enforce\nMode: report\n", 0,
	  "test.yaml:2:1: unknown key 'Mode' in the policy" },
	{ "mode: enforce\nlimits: {entries: 10, files: 3}\n", 0,
	  "test.yaml:2:23: unknown key 'files' in limits" },
	{ "exempt:\n  nets: [private]\n", 0,
	  "test.yaml:2:3: unknown key 'nets' in exempt" },
	{ "allow_nets: 10.0.0.0/8\n", 0,
	  "test.yaml:1:1: unknown key 'allow_nets' in the policy" },
	{ "? [a]\n: 1\n", 0, "test.yaml:1:3: keys of the policy must be names" },
	/* wrong types */
	{ "- mode\n", 0, "test.yaml:1:1: the policy must be a mapping" },
	{ "enforce\n", 0, "test.yaml:1:1: the policy must be a mapping" },
	{ "\"\"\n", 0, "test.yaml:1:1: the policy must be a mapping" },
	{ "mode: [enforce]\n", 0, "test.yaml:1:7: mode must be a single value" },
	{ "field: {a: b}\n", 0, "test.yaml:1:8: field must be a single value" },
	{ "reject_reason: [a]\n", 0,
	  "test.yaml:1:16: reject_reason must be a single value" },
	{ "limits: 5\n", 0, "test.yaml:1:9: limits must be a mapping" },
	{ "limits:\n", 0, "test.yaml:1:8: limits must be a mapping" },
	{ "limits: {entries: [1]}\n", 0,
	  "test.yaml:1:19: limits.entries must be a single value" },
	{ "exempt: [private]\n", 0, "test.yaml:1:9: exempt must be a mapping" },
	{ "exempt: {services: caldav}\n", 0,
	  "test.yaml:1:20: exempt.services must be a list" },
	{ "exempt: {networks: private}\n", 0,
	  "test.yaml:1:20: exempt.networks must be a list" },
	{ "sets: [a]\n", 0, "test.yaml:1:7: sets must be a mapping of names" },
	{ "sets:\n  office: 10.0.0.0/8\n", 0,
	  "test.yaml:2:11: a set must be a list" },
	{ "sets:\n  a: {path: x}\n", 0,
	  "test.yaml:2:6: set 'a' must be a list of prefixes or { file: PATH }" },
	{ "sets:\n  a: {file: x, more: y}\n", 0,
	  "test.yaml:2:6: set 'a' must be a list of prefixes or { file: PATH }" },
	{ "sets:\n  a: {}\n", 0,
	  "test.yaml:2:6: set 'a' must be a list of prefixes or { file: PATH }" },
	{ "sets:\n  a: {file: \"\"}\n", 0,
	  "test.yaml:2:13: set 'a': file must be a path" },
	{ "sets:\n  a: {file: [x]}\n", 0,
	  "test.yaml:2:13: nesting is deeper than the policy allows" },
	/* bad values */
	{ "field: \"allow nets\"\n", 0,
	  "test.yaml:1:8: field must be a userdb field name (letters, digits, "
	  "'_' and '-')" },
	{ "field: \"\"\n", 0,
	  "test.yaml:1:8: field must be a userdb field name (letters, digits, "
	  "'_' and '-')" },
	{ "field: userdb_allow.nets\n", 0,
	  "test.yaml:1:8: field must be a userdb field name (letters, digits, "
	  "'_' and '-')" },
	{ "reject_reason: \"No.\\tGo away.\"\n", 0,
	  "test.yaml:1:16: reject_reason must not contain control characters "
	  "(tabs, newlines)" },
	{ "reject_reason: |\n  two\n  lines\n", 0,
	  "test.yaml:1:16: reject_reason must not contain control characters "
	  "(tabs, newlines)" },
	{ "exempt:\n  services: [imap, \"im ap\"]\n", 0,
	  "test.yaml:2:20: exempt.services: \"im ap\" is not a service name" },
	{ "exempt:\n  services: [\"\"]\n", 0,
	  "test.yaml:2:14: exempt.services: \"\" is not a service name" },
	/* duplicate keys */
	{ "mode: enforce\nmode: report\n", 0,
	  "test.yaml:2:1: duplicate key 'mode'" },
	{ "limits: {bytes: 10, bytes: 20}\n", 0,
	  "test.yaml:1:21: duplicate key 'bytes'" },
	{ "exempt:\n  services: [a]\n  services: [b]\n", 0,
	  "test.yaml:3:3: duplicate key 'services'" },
	{ "sets:\n  a: [1.2.3.4]\n  a: [5.6.7.8]\n", 0,
	  "test.yaml:3:3: duplicate set 'a'" },
	/* enums */
	{ "mode: strict\n", 0,
	  "test.yaml:1:7: mode must be enforce or report, not \"strict\"" },
	{ "mode: Enforce\n", 0,
	  "test.yaml:1:7: mode must be enforce or report, not \"Enforce\"" },
	{ "mode:\n", 0, "test.yaml:1:6: mode must be enforce or report, not \"\"" },
	{ "unknown_ip: allow\n", 0,
	  "test.yaml:1:13: unknown_ip must be exempt or deny, not \"allow\"" },
	{ "on_invalid: ignore\n", 0,
	  "test.yaml:1:13: on_invalid must be deny or skip, not \"ignore\"" },
	{ "on_invalid: true\n", 0,
	  "test.yaml:1:13: on_invalid must be deny or skip, not \"true\"" },
	/* limits */
	{ "limits: {entries: 0}\n", 0,
	  "test.yaml:1:19: limits.entries must be a whole number from 1 to 1000000" },
	{ "limits: {entries: -1}\n", 0,
	  "test.yaml:1:19: limits.entries must be a whole number from 1 to 1000000" },
	{ "limits: {entries: +5}\n", 0,
	  "test.yaml:1:19: limits.entries must be a whole number from 1 to 1000000" },
	{ "limits: {entries: 1000001}\n", 0,
	  "test.yaml:1:19: limits.entries must be a whole number from 1 to 1000000" },
	{ "limits: {entries: 99999999999999999999999}\n", 0,
	  "test.yaml:1:19: limits.entries must be a whole number from 1 to 1000000" },
	{ "limits: {entries: 10.5}\n", 0,
	  "test.yaml:1:19: limits.entries must be a whole number from 1 to 1000000" },
	{ "limits: {entries: ''}\n", 0,
	  "test.yaml:1:19: limits.entries must be a whole number from 1 to 1000000" },
	{ "limits: {bytes: 16777217}\n", 0,
	  "test.yaml:1:17: limits.bytes must be a whole number from 1 to 16777216" },
	{ "limits: {bytes: 64k}\n", 0,
	  "test.yaml:1:17: limits.bytes must be a whole number from 1 to 16777216" },
	{ "limits: {bytes: 1e6}\n", 0,
	  "test.yaml:1:17: limits.bytes must be a whole number from 1 to 16777216" },
	/* bad prefixes and groups */
	{ "exempt:\n  networks: [10.0.0.0/33]\n", 0,
	  "test.yaml:2:14: exempt.networks: \"10.0.0.0/33\": IPv4 prefix length "
	  "out of range (0 to 32)" },
	{ "exempt:\n  networks: [10/8]\n", 0,
	  "test.yaml:2:14: exempt.networks: \"10/8\": IPv4 shorthand is not "
	  "allowed" },
	{ "exempt:\n  networks: [\"fe80::1%eth0\"]\n", 0,
	  "test.yaml:2:14: exempt.networks: \"fe80::1%eth0\": IPv6 zone index is "
	  "not allowed" },
	{ "exempt:\n  networks: [\"\"]\n", 0,
	  "test.yaml:2:14: exempt.networks: \"\": empty address" },
	{ "exempt:\n  networks: [private, office]\n", 0,
	  "test.yaml:2:23: exempt.networks: unknown group \"office\" (groups are "
	  "private, loopback, link-local)" },
	{ "exempt:\n  networks: [Private]\n", 0,
	  "test.yaml:2:14: exempt.networks: unknown group \"Private\" (groups are "
	  "private, loopback, link-local)" },
	{ "sets:\n  office: [203.0.113.0/24, 10/8]\n", 0,
	  "test.yaml:2:28: set 'office': \"10/8\": IPv4 shorthand is not allowed" },
	{ "sets:\n  office:\n    - 203.0.113.0/24\n    - private\n", 0,
	  "test.yaml:4:7: set 'office': \"private\": host names are not allowed, "
	  "only IP addresses" },
	{ "sets:\n  \"a b\": [1.2.3.4]\n", 0,
	  "test.yaml:2:3: set names are letters, digits, '_', '-' and '.'" },
	{ "sets:\n  \"@a\": [1.2.3.4]\n", 0,
	  "test.yaml:2:3: set names are letters, digits, '_', '-' and '.'" },
	{ "sets:\n  aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa: []\n",
	  0, "test.yaml:2:3: set names are letters, digits, '_', '-' and '.'" },
};

START_TEST(test_policy_errors)
{
	const struct error_case *c = &error_cases[_i];
	size_t size = c->size != 0 ? c->size : strlen(c->yaml);
	struct ipallow_policy *policy = (void *)1;
	char *error = NULL;

	ck_assert_msg(ipallow_policy_load_buffer((const unsigned char *)c->yaml,
						 size, "test.yaml", &policy,
						 &error) == -1,
		      "case %d: \"%s\": loaded", _i, c->yaml);
	ck_assert_msg(policy == NULL, "case %d: a partial policy", _i);
	ck_assert_msg(error != NULL && strcmp(error, c->error) == 0,
		      "case %d: \"%s\": error '%s'", _i, c->yaml, error);
	free(error);
}
END_TEST

/* Values that are only just allowed. */
START_TEST(test_policy_bounds)
{
	struct ipallow_policy *policy;
	char yaml[5000 + 64], *error = NULL;
	size_t len;

	policy = load_ok("limits: {entries: 1000000, bytes: 16777216}", "t");
	ck_assert_uint_eq(policy->limits.max_entries, 1000000);
	ck_assert_uint_eq(policy->limits.max_bytes, 16777216);
	ipallow_policy_free(&policy);
	policy = load_ok("limits: {entries: 1, bytes: 1}", "t");
	ck_assert_uint_eq(policy->limits.max_entries, 1);
	ck_assert_uint_eq(policy->limits.max_bytes, 1);
	ipallow_policy_free(&policy);

	/* a value of 4096 bytes is fine, 4097 is not */
	strcpy(yaml, "reject_reason: ");
	len = strlen(yaml);
	memset(yaml + len, 'x', 4096);
	yaml[len + 4096] = '\0';
	policy = load_ok(yaml, "t");
	ck_assert_uint_eq(strlen(policy->reject_reason), 4096);
	ipallow_policy_free(&policy);
	yaml[len + 4096] = 'x';
	yaml[len + 4097] = '\n';
	yaml[len + 4098] = '\0';
	ck_assert_int_eq(ipallow_policy_load_buffer((unsigned char *)yaml,
						    strlen(yaml), "test.yaml",
						    &policy, &error), -1);
	ck_assert_str_eq(error, "test.yaml:1:16: value is longer than 4096 bytes");
	free(error);

	/* a huge key too */
	memset(yaml, 'k', 5000);
	strcpy(yaml + 5000, ": 1\n");
	ck_assert_int_eq(ipallow_policy_load_buffer((unsigned char *)yaml,
						    strlen(yaml), "test.yaml",
						    &policy, &error), -1);
	ck_assert_str_eq(error, "test.yaml:1:1: value is longer than 4096 bytes");
	free(error);

	/* at most 200000 YAML nodes: 5 around the services, then items */
	{
		size_t items = 199996, i, pos;
		char *big = malloc(32 + 2 * items);

		ck_assert(big != NULL);
		pos = (size_t)sprintf(big, "exempt: {services: [");
		for (i = 0; i < items; i++) {
			big[pos++] = 'a';
			big[pos++] = i + 1 < items ? ',' : ']';
		}
		strcpy(big + pos, "}");
		ck_assert_int_eq(ipallow_policy_load_buffer((unsigned char *)big,
							    strlen(big),
							    "test.yaml",
							    &policy, &error), -1);
		ck_assert_str_eq(error, "test.yaml:1:400011: too many YAML nodes "
				 "(more than 200000)");
		free(error);
		/* one item fewer is fine */
		strcpy(big + pos - 3, "]}");
		policy = load_ok(big, "t");
		ck_assert_uint_eq(policy->exempt_services_count, items - 1);
		ipallow_policy_free(&policy);
		free(big);
	}

	/* field names up to 64 characters */
	snprintf(yaml, sizeof(yaml), "field: %.64s", "f234567890123456789012345678901234567890123456789012345678901234");
	policy = load_ok(yaml, "t");
	ipallow_policy_free(&policy);
	snprintf(yaml, sizeof(yaml), "field: %s", "f2345678901234567890123456789012345678901234567890123456789012345");
	ck_assert_int_eq(ipallow_policy_load_buffer((unsigned char *)yaml,
						    strlen(yaml), "test.yaml",
						    &policy, &error), -1);
	ck_assert_str_eq(error, "test.yaml:1:8: field must be a userdb field "
			 "name (letters, digits, '_' and '-')");
	free(error);
}
END_TEST

/* --- files --- */

static char tmpdir[256];

static void files_setup(void)
{
	test_tmpdir(tmpdir, sizeof(tmpdir));
}

static void files_teardown(void)
{
	test_tmpdir_remove(tmpdir);
}

static const char partners_nets[] =
	"# partner networks\n"
	"\n"
	"203.0.113.0/24   # office\n"
	"\t2001:db8::/32\t\n"
	"198.51.100.7 # a host\r\n"
	"   \n"
	"#198.51.101.0/24\n"
	"  ::ffff:192.0.2.0/120";

static void assert_partners(const struct ipallow_policy *policy,
			    const char *name)
{
	const struct ipallow_set *set = ipallow_policy_find_set(policy, name);

	ck_assert_msg(set != NULL, "set %s missing", name);
	ck_assert_uint_eq(set->prefix_count, 4);
	ck_assert(set_has(set, "203.0.113.77"));
	ck_assert(set_has(set, "2001:db8:1::1"));
	ck_assert(set_has(set, "198.51.100.7"));
	ck_assert(set_has(set, "192.0.2.200"));
	ck_assert(!set_has(set, "198.51.100.8"));
	ck_assert(!set_has(set, "198.51.101.1"));	/* commented out */
}

START_TEST(test_policy_set_files)
{
	static const char yaml[] =
		"sets:\n"
		"  partners: { file: partners.nets }\n"
		"  sub: { file: \"d/sub.nets\" }\n"
		"  inline: [192.0.2.0/24]\n";
	struct ipallow_policy *policy = NULL;
	char path[512], abs_yaml[1024], *error = NULL;

	test_write_file(tmpdir, "partners.nets", partners_nets, (size_t)-1,
			NULL, 0);
	snprintf(path, sizeof(path), "%s/d", tmpdir);
	ck_assert(mkdir(path, 0700) == 0);
	test_write_file(tmpdir, "d/sub.nets", "10.0.0.0/8\n", (size_t)-1,
			NULL, 0);
	test_write_file(tmpdir, "policy.yaml", yaml, (size_t)-1, path,
			sizeof(path));

	/* relative set paths are resolved against the policy's directory */
	ck_assert_msg(ipallow_policy_load(path, &policy, &error) == 0,
		      "%s", error);
	ck_assert_str_eq(policy->path, path);
	ck_assert(!policy->file_missing);
	ck_assert_uint_eq(policy->sets_count, 3);
	assert_partners(policy, "partners");
	ck_assert(set_has(ipallow_policy_find_set(policy, "sub"), "10.9.9.9"));
	ipallow_policy_free(&policy);

	/* the same from a buffer named after the file */
	policy = load_ok(yaml, path);
	assert_partners(policy, "partners");
	ipallow_policy_free(&policy);

	/* an absolute set path is taken as it is */
	snprintf(abs_yaml, sizeof(abs_yaml),
		 "sets:\n  p: { file: \"%s/partners.nets\" }\n", tmpdir);
	policy = load_ok(abs_yaml, "/nonexistent/policy.yaml");
	assert_partners(policy, "p");
	ipallow_policy_free(&policy);
}
END_TEST

START_TEST(test_policy_set_file_errors)
{
	struct ipallow_policy *policy = NULL;
	char path[512], want[1024], *error = NULL;

	test_write_file(tmpdir, "bad.nets",
			"# bad\n203.0.113.0/24\n  10/8  # shorthand\n",
			(size_t)-1, NULL, 0);
	test_write_file(tmpdir, "two.nets", "1.2.3.4 5.6.7.8\n", (size_t)-1,
			NULL, 0);
	test_write_file(tmpdir, "nul.nets", "1.2.3.4\n5.6.\0.8\n", 16, NULL, 0);
	snprintf(path, sizeof(path), "%s/dir.nets", tmpdir);
	ck_assert(mkdir(path, 0700) == 0);

	/* a bad line: the set file's own path:line:column */
	test_write_file(tmpdir, "p1.yaml",
			"mode: enforce\nsets:\n  partners: { file: bad.nets }\n",
			(size_t)-1, path, sizeof(path));
	ck_assert_int_eq(ipallow_policy_load(path, &policy, &error), -1);
	ck_assert(policy == NULL);
	snprintf(want, sizeof(want), "%s:3:21: set 'partners': %s/bad.nets:3:3: "
		 "\"10/8\": IPv4 shorthand is not allowed", path, tmpdir);
	ck_assert_str_eq(error, want);
	free(error);

	/* two prefixes on a line */
	test_write_file(tmpdir, "p2.yaml", "sets:\n  x: {file: two.nets}\n",
			(size_t)-1, path, sizeof(path));
	ck_assert_int_eq(ipallow_policy_load(path, &policy, &error), -1);
	snprintf(want, sizeof(want), "%s:2:13: set 'x': %s/two.nets:1:8: one "
		 "prefix per line", path, tmpdir);
	ck_assert_str_eq(error, want);
	free(error);

	/* a NUL byte in a set file */
	test_write_file(tmpdir, "p3.yaml", "sets:\n  x: {file: nul.nets}\n",
			(size_t)-1, path, sizeof(path));
	ck_assert_int_eq(ipallow_policy_load(path, &policy, &error), -1);
	snprintf(want, sizeof(want), "%s:2:13: set 'x': %s/nul.nets:2:1: "
		 "\"5.6.\\x00.8\": NUL byte is not allowed", path, tmpdir);
	ck_assert_str_eq(error, want);
	free(error);

	/* missing */
	test_write_file(tmpdir, "p4.yaml", "sets:\n  x: {file: missing.nets}\n",
			(size_t)-1, path, sizeof(path));
	ck_assert_int_eq(ipallow_policy_load(path, &policy, &error), -1);
	snprintf(want, sizeof(want), "%s:2:13: set 'x': %s/missing.nets: No "
		 "such file or directory", path, tmpdir);
	ck_assert_str_eq(error, want);
	free(error);

	/* a directory */
	test_write_file(tmpdir, "p5.yaml", "sets:\n  x: {file: dir.nets}\n",
			(size_t)-1, path, sizeof(path));
	ck_assert_int_eq(ipallow_policy_load(path, &policy, &error), -1);
	snprintf(want, sizeof(want), "%s:2:13: set 'x': %s/dir.nets: not a "
		 "regular file", path, tmpdir);
	ck_assert_str_eq(error, want);
	free(error);

	/* a buffer without a directory in its name: relative to "." */
	ck_assert_int_eq(ipallow_policy_load_buffer(
		(const unsigned char *)"sets:\n  x: {file: missing.nets}\n", 31,
		"policy.yaml", &policy, &error), -1);
	ck_assert_str_eq(error, "policy.yaml:2:13: set 'x': ./missing.nets: "
			 "No such file or directory");
	free(error);
}
END_TEST

START_TEST(test_policy_file_errors)
{
	struct ipallow_policy *policy = NULL;
	char path[512], want[1024], *error = NULL, *big;

	/* a directory is not a policy */
	ck_assert_int_eq(ipallow_policy_load(tmpdir, &policy, &error), -1);
	snprintf(want, sizeof(want), "%s: not a regular file", tmpdir);
	ck_assert_str_eq(error, want);
	free(error);

	/* nor is anything larger than 1 MiB */
	big = malloc(IPALLOW_POLICY_MAX_BYTES + 1);
	ck_assert(big != NULL);
	memset(big, '#', IPALLOW_POLICY_MAX_BYTES + 1);
	test_write_file(tmpdir, "big.yaml", big, IPALLOW_POLICY_MAX_BYTES + 1,
			path, sizeof(path));
	ck_assert_int_eq(ipallow_policy_load(path, &policy, &error), -1);
	snprintf(want, sizeof(want), "%s: file is larger than 1 MiB", path);
	ck_assert_str_eq(error, want);
	free(error);
	/* 1 MiB of comment is fine */
	test_write_file(tmpdir, "big.yaml", big, IPALLOW_POLICY_MAX_BYTES,
			path, sizeof(path));
	ck_assert_int_eq(ipallow_policy_load(path, &policy, &error), 0);
	ipallow_policy_free(&policy);
	free(big);

	/* errors in a file carry its path */
	test_write_file(tmpdir, "bad.yaml", "mode: enforce\nfoo: bar\n",
			(size_t)-1, path, sizeof(path));
	ck_assert_int_eq(ipallow_policy_load(path, &policy, &error), -1);
	snprintf(want, sizeof(want), "%s:2:1: unknown key 'foo' in the policy",
		 path);
	ck_assert_str_eq(error, want);
	free(error);
}
END_TEST

START_TEST(test_policy_to_string)
{
	ck_assert_str_eq(ipallow_mode_to_string(IPALLOW_MODE_ENFORCE), "enforce");
	ck_assert_str_eq(ipallow_mode_to_string(IPALLOW_MODE_REPORT), "report");
	ck_assert_str_eq(ipallow_unknown_ip_to_string(IPALLOW_UNKNOWN_IP_EXEMPT),
			 "exempt");
	ck_assert_str_eq(ipallow_unknown_ip_to_string(IPALLOW_UNKNOWN_IP_DENY),
			 "deny");
	ck_assert_str_eq(ipallow_on_invalid_to_string(IPALLOW_ON_INVALID_DENY),
			 "deny");
	ck_assert_str_eq(ipallow_on_invalid_to_string(IPALLOW_ON_INVALID_SKIP),
			 "skip");
}
END_TEST

static Suite *policy_suite(void)
{
	Suite *s = suite_create("policy");
	TCase *tc;

	tc = tcase_create("keys");
	tcase_add_loop_test(tc, test_policy_defaults_buffer, 0,
			    N_ELEMENTS(default_docs));
	tcase_add_test(tc, test_policy_defaults);
	tcase_add_test(tc, test_policy_missing_file);
	tcase_add_test(tc, test_policy_configured_path_missing);
	tcase_add_test(tc, test_policy_every_key);
	tcase_add_loop_test(tc, test_policy_choices, 0, N_ELEMENTS(choice_cases));
	tcase_add_test(tc, test_policy_empty_exempt_lists);
	tcase_add_test(tc, test_policy_bounds);
	tcase_add_test(tc, test_policy_to_string);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_loop_test(tc, test_policy_errors, 0, N_ELEMENTS(error_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("files");
	tcase_add_checked_fixture(tc, files_setup, files_teardown);
	tcase_add_test(tc, test_policy_set_files);
	tcase_add_test(tc, test_policy_set_file_errors);
	tcase_add_test(tc, test_policy_file_errors);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run_suite(policy_suite());
}
