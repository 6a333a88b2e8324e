/* SPEC 9.4: which list a login gets (<field>_<service>, <field>,
   domains.<domain>, domains."*"), <field>_mode per mailbox, and the log
   lines that name the list; with country/ASN entries answered by a fake
   database (SPEC 9.3 step 6). */
#include "test-common.h"
#include "ipallow-decide.h"
#include "ipallow-message.h"
#include "ipallow-cache.h"

static const char policy_yaml[] =
	"field: allow_nets\n"
	"sets:\n"
	"  office: [203.0.113.0/24, \"country:AT\"]\n"
	"domains:\n"
	"  example.com: \"@office, country:DE\"\n"
	"  Report.example: \"198.51.100.0/24\"\n"
	"  blank.example: \"\"\n"
	"  \"*\": \"country:US, asn:64496\"\n";

static struct ipallow_policy *policy;
static struct ipallow_checker *checker;
static unsigned int fake_lookups;

/* 192.0.2.0/24 DE AS64500, 198.51.100.0/24 US, 203.0.113.0/24 AS64496,
   2001:db8:de::/48 DE; the rest unknown. 192.0.2.66 "fails". */
static int fake_lookup(void *context, const struct ipallow_addr *addr,
		       struct ipallow_geo_info *info_r)
{
	(void)context;
	fake_lookups++;
	if (addr->family == IPALLOW_FAMILY_IPV4 && addr->bytes[0] == 192 &&
	    addr->bytes[1] == 0 && addr->bytes[2] == 2) {
		if (addr->bytes[3] == 66)
			return -1;
		info_r->country = ('D' << 8) | 'E';
		info_r->asn = 64500;
	} else if (addr->family == IPALLOW_FAMILY_IPV4 &&
		   addr->bytes[0] == 198 && addr->bytes[1] == 51) {
		info_r->country = ('U' << 8) | 'S';
	} else if (addr->family == IPALLOW_FAMILY_IPV4 &&
		   addr->bytes[0] == 203) {
		info_r->asn = 64496;
	} else if (addr->family == IPALLOW_FAMILY_IPV6 &&
		   addr->bytes[0] == 0x20 && addr->bytes[1] == 0x01 &&
		   addr->bytes[2] == 0x0d && addr->bytes[3] == 0xb8 &&
		   addr->bytes[4] == 0x00 && addr->bytes[5] == 0xde) {
		info_r->country = ('D' << 8) | 'E';
	}
	return 0;
}

/* Without a country database, the policy's own country entries are
   load errors with file:line:column. */
static void setup(void)
{
	struct ipallow_policy *tmp = NULL;
	char *error = NULL;

	ck_assert_int_eq(ipallow_policy_load_buffer(
		(const unsigned char *)policy_yaml, strlen(policy_yaml),
		"test.yaml", &tmp, &error), -1);
	ck_assert_ptr_null(tmp);
	ck_assert_str_eq(error, "test.yaml:3:28: set 'office': \"country:AT\": "
			 "country entries need a country database "
			 "(geoip.country_db in the policy)");
	free(error);
}

static void teardown(void)
{
	ipallow_checker_free(&checker);
	ipallow_policy_free(&policy);
}

/* The fields of one mailbox: "name=value" strings. */
struct fields {
	const char *const *pairs;
};

static const char *get_field(void *context, const char *name)
{
	const struct fields *fields = context;
	size_t len = strlen(name);
	unsigned int i;

	for (i = 0; fields->pairs[i] != NULL; i++) {
		if (strncmp(fields->pairs[i], name, len) == 0 &&
		    fields->pairs[i][len] == '=')
			return fields->pairs[i] + len + 1;
	}
	return NULL;
}

/* The fake database goes in after loading, so the policy's own sets and
   domains hold prefixes only (check-geoip loads country entries there
   against real files); the mailbox fields may hold country and ASN
   entries. */
static struct ipallow_policy *load_with_fake(void)
{
	static const char yaml_nogeo[] =
		"sets:\n"
		"  office: [203.0.113.0/24]\n"
		"domains:\n"
		"  example.com: \"@office, 192.0.2.0/24\"\n"
		"  Report.example: \"198.51.100.0/24\"\n"
		"  blank.example: \"\"\n"
		"  \"*\": \"198.51.100.0/24, 203.0.113.0/24\"\n";
	struct ipallow_policy *p;
	char *error = NULL;

	ck_assert_msg(ipallow_policy_load_buffer(
		(const unsigned char *)yaml_nogeo, strlen(yaml_nogeo),
		"test.yaml", &p, &error) == 0, "%s", error);
	ipallow_policy_set_geoip(p,
		ipallow_geoip_create_fake(fake_lookup, NULL, true, true));
	ck_assert_int_eq(ipallow_checker_create(p, &checker), 0);
	return p;
}

struct select_case {
	const char *user;
	const char *service;
	const char *const *fields;
	const char *ip;
	enum ipallow_result result;
	enum ipallow_list_source source;
	const char *list_name;
	enum ipallow_mode mode;
	bool mode_invalid;
};

#define F(...) (const char *const[]){ __VA_ARGS__, NULL }
#define NOF (const char *const[]){ NULL }
#define R(x) IPALLOW_RESULT_##x
#define S(x) IPALLOW_LIST_SOURCE_##x
#define M(x) IPALLOW_MODE_##x

static const struct select_case select_cases[] = {
	/* precedence: service field > field > domain > "*" */
	{ "a@example.com", "imap", F("allow_nets_imap=192.0.2.0/24",
	  "allow_nets=198.51.100.0/24"), "192.0.2.1", R(ALLOW),
	  S(SERVICE_FIELD), "allow_nets_imap", M(ENFORCE), false },
	{ "a@example.com", "imap", F("allow_nets_imap=192.0.2.0/24",
	  "allow_nets=198.51.100.0/24"), "198.51.100.1", R(DENY),
	  S(SERVICE_FIELD), "allow_nets_imap", M(ENFORCE), false },
	{ "a@example.com", "pop3", F("allow_nets_imap=192.0.2.0/24",
	  "allow_nets=198.51.100.0/24"), "198.51.100.1", R(ALLOW),
	  S(FIELD), "allow_nets", M(ENFORCE), false },
	{ "a@example.com", "pop3", NOF, "192.0.2.1", R(ALLOW), S(DOMAIN),
	  "domains.example.com", M(ENFORCE), false },
	{ "a@example.com", "pop3", NOF, "198.51.100.1", R(DENY), S(DOMAIN),
	  "domains.example.com", M(ENFORCE), false },
	{ "a@other.org", "pop3", NOF, "198.51.100.1", R(ALLOW),
	  S(DOMAIN_DEFAULT), "domains.\"*\"", M(ENFORCE), false },
	{ "a@other.org", "pop3", NOF, "192.0.2.1", R(DENY),
	  S(DOMAIN_DEFAULT), "domains.\"*\"", M(ENFORCE), false },
	/* blank values fall through; a blank domain list too */
	{ "a@example.com", "imap", F("allow_nets_imap= , ", "allow_nets="),
	  "192.0.2.1", R(ALLOW), S(DOMAIN), "domains.example.com",
	  M(ENFORCE), false },
	{ "a@blank.example", "imap", NOF, "192.0.2.1", R(DENY),
	  S(DOMAIN_DEFAULT), "domains.\"*\"", M(ENFORCE), false },
	/* domains compare without case, the last '@' counts; the log
	   names the domain as the policy writes it */
	{ "a@REPORT.EXAMPLE", "imap", NOF, "198.51.100.1", R(ALLOW),
	  S(DOMAIN), "domains.Report.example", M(ENFORCE), false },
	{ "a@b@example.com", "imap", NOF, "192.0.2.1", R(ALLOW), S(DOMAIN),
	  "domains.example.com", M(ENFORCE), false },
	{ "a@", "imap", NOF, "192.0.2.1", R(DENY), S(DOMAIN_DEFAULT),
	  "domains.\"*\"", M(ENFORCE), false },
	{ NULL, "imap", NOF, "198.51.100.1", R(ALLOW), S(DOMAIN_DEFAULT),
	  "domains.\"*\"", M(ENFORCE), false },
	/* "0.0.0.0/0, ::/0" escapes a domain default */
	{ "a@example.com", "imap", F("allow_nets=0.0.0.0/0, ::/0"),
	  "198.51.100.1", R(ALLOW), S(FIELD), "allow_nets", M(ENFORCE),
	  false },
	{ "a@example.com", "imap", F("allow_nets=0.0.0.0/0, ::/0"),
	  "2001:db8:1::1", R(ALLOW), S(FIELD), "allow_nets", M(ENFORCE),
	  false },
	/* report mode per mailbox, next to enforced ones */
	{ "a@other.org", "imap", F("allow_nets_mode=report"), "192.0.2.1",
	  R(REPORT), S(DOMAIN_DEFAULT), "domains.\"*\"", M(REPORT), false },
	{ "a@other.org", "imap", F("allow_nets_mode=enforce"), "192.0.2.1",
	  R(DENY), S(DOMAIN_DEFAULT), "domains.\"*\"", M(ENFORCE), false },
	{ "a@other.org", "imap", F("allow_nets_mode="), "192.0.2.1",
	  R(DENY), S(DOMAIN_DEFAULT), "domains.\"*\"", M(ENFORCE), false },
	{ "a@other.org", "imap", F("allow_nets_mode=Report"), "192.0.2.1",
	  R(DENY), S(DOMAIN_DEFAULT), "domains.\"*\"", M(ENFORCE), true },
	{ "a@other.org", "imap", F("allow_nets_mode=report"), "198.51.100.1",
	  R(ALLOW), S(DOMAIN_DEFAULT), "domains.\"*\"", M(REPORT), false },
	/* no list anywhere is impossible here ("*"), exempt services
	   stay first */
	{ "a@example.com", "caldav", F("allow_nets_caldav=192.0.2.1"),
	  "198.51.100.1", R(EXEMPT), S(NONE), "", M(ENFORCE), false },
	/* country and ASN entries, through the fake database */
	{ "a@x.org", "imap", F("allow_nets=country:DE"), "192.0.2.9",
	  R(ALLOW), S(FIELD), "allow_nets", M(ENFORCE), false },
	{ "a@x.org", "imap", F("allow_nets=country:de"), "198.51.100.9",
	  R(DENY), S(FIELD), "allow_nets", M(ENFORCE), false },
	{ "a@x.org", "imap", F("allow_nets=country:DE, country:US"),
	  "203.0.113.9", R(DENY), S(FIELD), "allow_nets", M(ENFORCE), false },
	{ "a@x.org", "imap", F("allow_nets=asn:64496"), "203.0.113.9",
	  R(ALLOW), S(FIELD), "allow_nets", M(ENFORCE), false },
	{ "a@x.org", "imap", F("allow_nets=asn:64496"), "192.0.2.9",
	  R(DENY), S(FIELD), "allow_nets", M(ENFORCE), false },
	{ "a@x.org", "imap", F("allow_nets=country:DE"), "::ffff:192.0.2.9",
	  R(ALLOW), S(FIELD), "allow_nets", M(ENFORCE), false },
	{ "a@x.org", "imap", F("allow_nets=country:DE"), "2001:db8:de::1",
	  R(ALLOW), S(FIELD), "allow_nets", M(ENFORCE), false },
	{ "a@x.org", "imap", F("allow_nets=country:DE"), "100.64.0.1",
	  R(DENY), S(FIELD), "allow_nets", M(ENFORCE), false },
	/* a failed lookup matches nothing */
	{ "a@x.org", "imap", F("allow_nets=country:DE"), "192.0.2.66",
	  R(DENY), S(FIELD), "allow_nets", M(ENFORCE), false },
	/* exempt networks come before any lookup */
	{ "a@x.org", "imap", F("allow_nets=country:DE"), "10.0.0.1",
	  R(EXEMPT), S(FIELD), "allow_nets", M(ENFORCE), false },
};

START_TEST(test_select)
{
	const struct select_case *c = &select_cases[_i];
	struct fields fields = { c->fields };
	struct ipallow_login req;
	struct ipallow_decision dec;
	bool goes_on;

	policy = load_with_fake();
	memset(&req, 0, sizeof(req));
	req.user = c->user;
	req.service = c->service;
	req.client_ip = test_addr(c->ip);
	req.get_field = get_field;
	req.field_context = &fields;
	goes_on = ipallow_check(checker, &req, &dec);
	ck_assert_msg(dec.result == c->result, "case %d: result %s, want %s",
		      _i, ipallow_result_to_string(dec.result),
		      ipallow_result_to_string(c->result));
	ck_assert_int_eq(goes_on, c->result != IPALLOW_RESULT_DENY);
	ck_assert_msg(dec.list_source == c->source, "case %d: source %s",
		      _i, ipallow_list_source_to_string(dec.list_source));
	ck_assert_str_eq(dec.list_name, c->list_name);
	ck_assert_int_eq(dec.mode, c->mode);
	ck_assert_int_eq(dec.mode_invalid, c->mode_invalid);
}
END_TEST

START_TEST(test_lookup_only_when_needed)
{
	static const char *const pairs[] = { "allow_nets=192.0.2.0/24, country:US", NULL };
	static const char *const plain[] = { "allow_nets=192.0.2.0/24", NULL };
	struct fields fields = { pairs };
	struct ipallow_login req;
	struct ipallow_decision dec;

	policy = load_with_fake();
	memset(&req, 0, sizeof(req));
	req.service = "imap";
	req.get_field = get_field;
	req.field_context = &fields;
	/* the prefix matches: no lookup */
	fake_lookups = 0;
	req.client_ip = test_addr("192.0.2.1");
	ck_assert(ipallow_check(checker, &req, &dec));
	ck_assert_uint_eq(fake_lookups, 0);
	/* exempt network: no lookup */
	req.client_ip = test_addr("10.1.1.1");
	ck_assert(ipallow_check(checker, &req, &dec));
	ck_assert_uint_eq(fake_lookups, 0);
	/* prefix missed, country entry: one lookup */
	req.client_ip = test_addr("198.51.100.1");
	ck_assert(ipallow_check(checker, &req, &dec));
	ck_assert_uint_eq(fake_lookups, 1);
	/* a list without country entries never looks up */
	fields.pairs = plain;
	req.client_ip = test_addr("198.51.100.1");
	ck_assert(!ipallow_check(checker, &req, &dec));
	ck_assert_uint_eq(fake_lookups, 1);
	ck_assert_ptr_null(dec.geoip_error);
	/* a failed lookup is reported in the decision */
	fields.pairs = pairs;
	req.client_ip = test_addr("192.0.2.66");
	ck_assert(ipallow_check(checker, &req, &dec));	/* the prefix */
	{
		static const char *const de[] = { "allow_nets=country:DE", NULL };

		fields.pairs = de;
		ck_assert(!ipallow_check(checker, &req, &dec));
		ck_assert_ptr_nonnull(dec.geoip_error);
	}
}
END_TEST

START_TEST(test_domain_lists_cached)
{
	static const char *const none[] = { NULL };
	struct fields fields = { none };
	struct ipallow_cache_stats stats;
	struct ipallow_login req;
	struct ipallow_decision dec;
	char user[64];
	int i;

	policy = load_with_fake();
	memset(&req, 0, sizeof(req));
	req.service = "imap";
	req.get_field = get_field;
	req.field_context = &fields;
	req.client_ip = test_addr("192.0.2.1");
	for (i = 0; i < 100; i++) {
		snprintf(user, sizeof(user), "user%d@example.com", i);
		req.user = user;
		ck_assert(ipallow_check(checker, &req, &dec));
		/* the event's list_cache field: the first login compiles */
		ck_assert_str_eq(ipallow_list_cache_to_string(dec.list_cache),
				 i == 0 ? "miss" : "hit");
	}
	ipallow_checker_get_stats(checker, &stats);
	ck_assert_uint_eq(stats.misses, 1);
	ck_assert_uint_eq(stats.hits, 99);

	/* no list looked up: an exempt network, an exempt service */
	req.client_ip = test_addr("10.1.2.3");
	ck_assert(ipallow_check(checker, &req, &dec));
	ck_assert_int_eq(dec.list_cache, IPALLOW_LIST_CACHE_NONE);
	ck_assert_str_eq(ipallow_list_cache_to_string(dec.list_cache), "none");
	req.client_ip = test_addr("192.0.2.1");
	req.service = "lmtp";
	ck_assert(ipallow_check(checker, &req, &dec));
	ck_assert_int_eq(dec.list_cache, IPALLOW_LIST_CACHE_NONE);
}
END_TEST

START_TEST(test_old_adapters)
{
	/* an adapter that only sets list_text still gets domain defaults
	   when it has no list, and its list otherwise */
	struct ipallow_login req;
	struct ipallow_decision dec;

	policy = load_with_fake();
	memset(&req, 0, sizeof(req));
	req.service = "imap";
	req.list_text = "198.51.100.0/24";
	req.client_ip = test_addr("198.51.100.1");
	ck_assert(ipallow_check(checker, &req, &dec));
	ck_assert_int_eq(dec.list_source, IPALLOW_LIST_SOURCE_FIELD);
	req.list_text = NULL;
	req.user = "x@example.com";
	ck_assert(!ipallow_check(checker, &req, &dec));
	ck_assert_str_eq(dec.list_name, "domains.example.com");
}
END_TEST

START_TEST(test_log_lines)
{
	static const char *const pairs[] = { "allow_nets_imap=10/8",
		"allow_nets_mode=soon", NULL };
	struct fields fields = { pairs };
	struct ipallow_login req;
	struct ipallow_decision dec;
	char line[IPALLOW_MESSAGE_MAX];

	policy = load_with_fake();
	memset(&req, 0, sizeof(req));
	req.service = "imap";
	req.user = "bob@example.com";
	req.get_field = get_field;
	req.field_context = &fields;
	req.client_ip = test_addr("198.51.100.7");
	ck_assert(!ipallow_check(checker, &req, &dec));
	ck_assert_str_eq(ipallow_message_decision(&dec, &req, line, sizeof(line)),
		"deny user=bob@example.com service=imap ip=198.51.100.7 "
		"(invalid allow_nets_imap)");
	ck_assert_str_eq(ipallow_message_invalid(&dec, &req, line, sizeof(line)),
		"invalid allow_nets_imap for user=bob@example.com: entry 1 "
		"\"10/8\": IPv4 shorthand is not allowed");
	ck_assert_str_eq(ipallow_message_bad_mode(&dec, &req, line, sizeof(line)),
		"invalid allow_nets_mode \"soon\" for user=bob@example.com: "
		"must be enforce or report; enforce used");
	ck_assert_ptr_null(ipallow_message_geoip_error(&dec, &req, line,
						   sizeof(line)));

	/* the list from <field>: the SPEC 6 text, unchanged */
	{
		static const char *const plain[] = {
			"allow_nets=192.0.2.0/24", NULL };

		fields.pairs = plain;
		ck_assert(!ipallow_check(checker, &req, &dec));
		ck_assert_str_eq(ipallow_message_decision(&dec, &req, line,
						      sizeof(line)),
			"deny user=bob@example.com service=imap "
			"ip=198.51.100.7 (not in allow_nets)");
		ck_assert_ptr_null(ipallow_message_bad_mode(&dec, &req, line,
							sizeof(line)));
	}
	{
		static const char *const rep[] = { "allow_nets_mode=report",
			NULL };

		fields.pairs = rep;
		req.user = "bob@other.org";
		req.client_ip = test_addr("192.0.2.66");
		ck_assert(ipallow_check(checker, &req, &dec));
		ck_assert_str_eq(ipallow_message_decision(&dec, &req, line,
						      sizeof(line)),
			"report-only, would deny user=bob@other.org "
			"service=imap ip=192.0.2.66 (not in domains.\"*\")");
	}
}
END_TEST

static Suite *select_suite(void)
{
	Suite *s = suite_create("select");
	TCase *tc = tcase_create("select");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_select, 0, N_ELEMENTS(select_cases));
	tcase_add_test(tc, test_lookup_only_when_needed);
	tcase_add_test(tc, test_domain_lists_cached);
	tcase_add_test(tc, test_old_adapters);
	tcase_add_test(tc, test_log_lines);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run_suite(select_suite());
}
