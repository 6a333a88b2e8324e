/* SPEC 9.3: the country:/asn: grammar, the sorted entry sets, and
   lookups in MaxMind DB files built at test time by
   tests/geoip/make-mmdb.pl (GeoIP2-Country, GeoLite2-ASN and DB-IP
   layouts, documentation ranges), loaded through the policy as the
   plugins load them. */
#include "test-common.h"
#include "test-check.h"
#include "ipallow-geoip.h"
#include "ipallow-decide.h"
#include "ipallow-policy.h"
#include "ipallow-set.h"

#define CC(a, b) (((uint32_t)(a) << 8) | (uint32_t)(b))

struct entry_case {
	const char *text;
	int ret;
	enum ipallow_geo_kind kind;
	uint32_t value;
	const char *norm_or_error;
};

static const struct entry_case entry_cases[] = {
	{ "country:DE", 1, IPALLOW_GEO_COUNTRY, CC('D', 'E'), "country:DE" },
	{ "country:de", 1, IPALLOW_GEO_COUNTRY, CC('D', 'E'), "country:DE" },
	{ "country:dE", 1, IPALLOW_GEO_COUNTRY, CC('D', 'E'), "country:DE" },
	{ "asn:1", 1, IPALLOW_GEO_ASN, 1, "asn:1" },
	{ "asn:64496", 1, IPALLOW_GEO_ASN, 64496, "asn:64496" },
	{ "asn:4294967295", 1, IPALLOW_GEO_ASN, 4294967295u, "asn:4294967295" },
	/* not ours: other entry kinds */
	{ "192.0.2.1", 0, 0, 0, NULL },
	{ "2001:db8::1", 0, 0, 0, NULL },
	{ "@office", 0, 0, 0, NULL },
	{ "countries:DE", 0, 0, 0, NULL },
	{ "as:1", 0, 0, 0, NULL },
	/* ours, but wrong */
	{ "Country:DE", -1, 0, 0, "write country: and asn: in lower case" },
	{ "ASN:1", -1, 0, 0, "write country: and asn: in lower case" },
	{ "country:", -1, 0, 0, "a country is two letters (ISO 3166-1 alpha-2, e.g. country:DE)" },
	{ "country:D", -1, 0, 0, "a country is two letters (ISO 3166-1 alpha-2, e.g. country:DE)" },
	{ "country:DEU", -1, 0, 0, "a country is two letters (ISO 3166-1 alpha-2, e.g. country:DE)" },
	{ "country:D1", -1, 0, 0, "a country is two letters (ISO 3166-1 alpha-2, e.g. country:DE)" },
	{ "country:\xc3\x9c" "A", -1, 0, 0, "a country is two letters (ISO 3166-1 alpha-2, e.g. country:DE)" },
	{ "asn:", -1, 0, 0, "an AS number is decimal digits (e.g. asn:64496)" },
	{ "asn:0", -1, 0, 0, "AS number 0 is reserved; AS numbers are 1 to 4294967295" },
	{ "asn:00", -1, 0, 0, "an AS number has no leading zeros" },
	{ "asn:012", -1, 0, 0, "an AS number has no leading zeros" },
	{ "asn:4294967296", -1, 0, 0, "AS numbers are 1 to 4294967295" },
	{ "asn:99999999999999999999999", -1, 0, 0, "AS numbers are 1 to 4294967295" },
	{ "asn:+1", -1, 0, 0, "an AS number is decimal digits (e.g. asn:64496)" },
	{ "asn:-1", -1, 0, 0, "an AS number is decimal digits (e.g. asn:64496)" },
	{ "asn:1.5", -1, 0, 0, "an AS number is decimal digits (e.g. asn:64496)" },
	{ "asn:0x10", -1, 0, 0, "an AS number is decimal digits (e.g. asn:64496)" },
	{ "asn:AS64496", -1, 0, 0, "write the AS number without \"AS\" (asn:64496, not asn:AS64496)" },
};

START_TEST(test_entry_parse)
{
	const struct entry_case *c = &entry_cases[_i];
	struct ipallow_geo_entry entry;
	char buf[IPALLOW_GEO_ENTRY_STRLEN];
	const char *error;
	int ret;

	ret = ipallow_geo_entry_parse(c->text, strlen(c->text), &entry, &error);
	ck_assert_msg(ret == c->ret, "\"%s\": returned %d, want %d", c->text,
		      ret, c->ret);
	if (ret == 1) {
		ck_assert_int_eq(entry.kind, c->kind);
		ck_assert_uint_eq(entry.value, c->value);
		ck_assert_str_eq(ipallow_geo_entry_to_str(&entry, buf),
				 c->norm_or_error);
	} else if (ret < 0) {
		ck_assert_str_eq(error, c->norm_or_error);
	}
}
END_TEST

START_TEST(test_entry_parse_length)
{
	/* len, not the NUL, ends the entry: "country:DEX" cut at 10 */
	struct ipallow_geo_entry entry;
	const char *error;

	ck_assert_int_eq(ipallow_geo_entry_parse("country:DEX", 10, &entry,
						 &error), 1);
	ck_assert_uint_eq(entry.value, CC('D', 'E'));
	ck_assert_int_eq(ipallow_geo_entry_parse("asn:123", 5, &entry,
						 &error), 1);
	ck_assert_uint_eq(entry.value, 1);
}
END_TEST

START_TEST(test_entries)
{
	struct ipallow_geo_entries entries;
	struct ipallow_geo_entry e;
	struct ipallow_geo_info info;
	unsigned int v;
	int n;

	memset(&entries, 0, sizeof(entries));
	e.kind = IPALLOW_GEO_ASN;
	for (n = 100; n > 0; n -= 7) {
		e.value = (uint32_t)n;
		ck_assert_int_eq(ipallow_geo_entries_add(&entries, &e), 0);
		ck_assert_int_eq(ipallow_geo_entries_add(&entries, &e), 0);
	}
	ck_assert_uint_eq(entries.asns_count, 15);
	for (v = 1; v < entries.asns_count; v++)
		ck_assert(entries.asns[v - 1] < entries.asns[v]);
	e.kind = IPALLOW_GEO_COUNTRY;
	e.value = CC('D', 'E');
	ck_assert_int_eq(ipallow_geo_entries_add(&entries, &e), 0);

	memset(&info, 0, sizeof(info));
	ck_assert(!ipallow_geo_entries_match(&entries, &info));	/* unknown */
	info.asn = 2;
	ck_assert(ipallow_geo_entries_match(&entries, &info));
	info.asn = 3;
	ck_assert(!ipallow_geo_entries_match(&entries, &info));
	info.country = CC('D', 'E');
	ck_assert(ipallow_geo_entries_match(&entries, &info));
	info.country = CC('A', 'T');
	ck_assert(!ipallow_geo_entries_match(&entries, &info));
	ipallow_geo_entries_free(&entries);
	ck_assert_uint_eq(entries.asns_count, 0);
}
END_TEST

START_TEST(test_set_file_lines)
{
	static const char data[] = "# dach\n192.0.2.0/24\n  country:de # Germany\n"
		"country:AT\nasn:64496\ncountry:DE\n";
	struct ipallow_prefix_array arr = { NULL, 0, 0 };
	struct ipallow_geo_entries geo;
	char *error = NULL;

	memset(&geo, 0, sizeof(geo));
	ck_assert_int_eq(ipallow_set_buffer_read_geo(data, strlen(data), "s.nets",
		&arr, &geo, true, true, &error), 0);
	ck_assert_uint_eq(arr.count, 1);
	ck_assert_uint_eq(geo.countries_count, 2);
	ck_assert_uint_eq(geo.countries[0], CC('A', 'T'));
	ck_assert_uint_eq(geo.countries[1], CC('D', 'E'));
	ck_assert_uint_eq(geo.asns_count, 1);
	ipallow_prefix_array_free(&arr);
	ipallow_geo_entries_free(&geo);

	/* without the ASN database */
	ck_assert_int_eq(ipallow_set_buffer_read_geo(data, strlen(data), "s.nets",
		&arr, &geo, true, false, &error), -1);
	ck_assert_str_eq(error, "s.nets:5:1: \"asn:64496\": asn entries need an "
			 "ASN database (geoip.asn_db in the policy)");
	free(error);
	ipallow_prefix_array_free(&arr);
	ipallow_geo_entries_free(&geo);
	/* a bad entry, with its column */
	ck_assert_int_eq(ipallow_set_buffer_read_geo("  asn:012\n", 10, "s.nets",
		&arr, &geo, true, true, &error), -1);
	ck_assert_str_eq(error, "s.nets:1:3: \"asn:012\": an AS number has no "
			 "leading zeros");
	free(error);
	/* where sets hold prefixes only (ipallow bench) */
	ck_assert_int_eq(ipallow_set_buffer_read(data, strlen(data), "s.nets",
						 &arr, &error), -1);
	ck_assert_str_eq(error, "s.nets:3:3: \"country:de\": country: and asn: "
			 "entries are not allowed here");
	free(error);
	ipallow_prefix_array_free(&arr);
	ipallow_geo_entries_free(&geo);
}
END_TEST

/* --- real files --- */

static char dir[256];

static void db_setup(void)
{
	char cmd[1024];

	test_tmpdir(dir, sizeof(dir));
	snprintf(cmd, sizeof(cmd), "perl '%s' '%s'", MAKE_MMDB, dir);
	ck_assert_msg(system(cmd) == 0, "%s failed", cmd);
}

static void db_teardown(void)
{
	test_tmpdir_remove(dir);
}

static struct ipallow_policy *load(const char *yaml, char **error_r)
{
	struct ipallow_policy *policy = NULL;
	char path[512];

	*error_r = NULL;
	test_write_file(dir, "policy.yaml", yaml, (size_t)-1, path,
			sizeof(path));
	if (ipallow_policy_load(path, &policy, error_r) < 0)
		return NULL;
	return policy;
}

struct lookup_case {
	const char *db;		/* country.mmdb, dbip-country.mmdb */
	const char *ip;
	const char *country;	/* "" unknown */
	uint32_t asn;
};

static const struct lookup_case lookup_cases[] = {
	{ "country.mmdb", "192.0.2.7", "DE", 64500 },
	{ "country.mmdb", "198.51.100.255", "US", 64501 },
	{ "country.mmdb", "203.0.113.9", "", 64496 },
	{ "country.mmdb", "2001:db8:de::1", "DE", 64500 },
	{ "country.mmdb", "2001:db8:5:ffff::1", "US", 0 },
	{ "country.mmdb", "2001:db8:6::1", "", 0 },
	{ "country.mmdb", "100.64.0.1", "", 0 },
	/* IPv4-mapped: the client is IPv4 and looked up as such */
	{ "country.mmdb", "::ffff:192.0.2.7", "DE", 64500 },
	/* 6to4 is aliased to IPv4 in the file, as in real ones */
	{ "country.mmdb", "2002:c000:207::1", "DE", 64500 },
	{ "dbip-country.mmdb", "192.0.2.7", "DE", 64500 },
	{ "dbip-country.mmdb", "2001:db8:5::1", "US", 0 },
	{ "dbip-country.mmdb", "203.0.113.1", "", 64496 },
};

START_TEST(test_lookup_files)
{
	const struct lookup_case *c = &lookup_cases[_i];
	struct ipallow_policy *policy;
	struct ipallow_geo_info info;
	struct ipallow_addr addr = test_addr(c->ip);
	char yaml[512], *error;
	const char *lookup_error;
	uint32_t want_cc = c->country[0] == '\0' ? 0 :
		CC(c->country[0], c->country[1]);

	snprintf(yaml, sizeof(yaml), "geoip:\n  country_db: %s\n"
		 "  asn_db: asn.mmdb\n", c->db);
	policy = load(yaml, &error);
	ck_assert_msg(policy != NULL, "%s", error);
	ck_assert_int_eq(ipallow_geoip_lookup(policy->geoip, &addr, true, true,
					      &info, &lookup_error), 0);
	ck_assert_msg(info.country == want_cc, "%s: country %x, want %x",
		      c->ip, info.country, want_cc);
	ck_assert_uint_eq(info.asn, c->asn);
	/* only what is asked for */
	ck_assert_int_eq(ipallow_geoip_lookup(policy->geoip, &addr, false, true,
					      &info, &lookup_error), 0);
	ck_assert_uint_eq(info.country, 0);
	ck_assert_uint_eq(info.asn, c->asn);
	ipallow_policy_free(&policy);
}
END_TEST

START_TEST(test_decide_files)
{
	struct ipallow_policy *policy;
	struct ipallow_login req;
	struct ipallow_decision dec;
	char *error;

	policy = load("geoip:\n  country_db: country.mmdb\n"
		      "  asn_db: asn.mmdb\n"
		      "sets:\n  dach: [\"country:DE\", country:at, country:CH]\n"
		      "domains:\n  example.com: \"@dach, asn:64496\"\n", &error);
	ck_assert_msg(policy != NULL, "%s", error);
	memset(&req, 0, sizeof(req));
	req.service = "imap";
	req.user = "alice@example.com";
	req.client_ip = test_addr("192.0.2.7");
	ck_assert(test_check_once(policy, &req, &dec));
	ck_assert_int_eq(dec.rule, IPALLOW_RULE_IN_LIST);
	req.client_ip = test_addr("203.0.113.7");
	ck_assert(test_check_once(policy, &req, &dec));
	req.client_ip = test_addr("198.51.100.7");
	ck_assert(!test_check_once(policy, &req, &dec));
	ck_assert_int_eq(dec.rule, IPALLOW_RULE_NOT_IN_LIST);
	req.client_ip = test_addr("::ffff:192.0.2.7");
	ck_assert(test_check_once(policy, &req, &dec));
	req.client_ip = test_addr("2001:db8:77::1");
	ck_assert(!test_check_once(policy, &req, &dec));
	ipallow_policy_free(&policy);
}
END_TEST

struct load_error_case {
	const char *yaml;
	const char *error;	/* after "DIR/policy.yaml:" */
};

static const struct load_error_case load_error_cases[] = {
	{ "geoip:\n  country_db: missing.mmdb\n",
	  "2:15: geoip.country_db: DIR/missing.mmdb: No such file or directory" },
	{ "geoip:\n  asn_db: corrupt.mmdb\n",
	  "2:11: geoip.asn_db: DIR/corrupt.mmdb: The MaxMind DB file contains invalid metadata" },
	{ "geoip:\n  country_db: country.mmdb\n  asn_db: \"\"\n",
	  "3:11: geoip.asn_db must be a path" },
	{ "geoip:\n  city_db: x.mmdb\n", "2:3: unknown key 'city_db' in geoip" },
	{ "geoip: [x]\n", "1:8: geoip must be a mapping" },
	{ "geoip:\n  country_db: a\n  country_db: b\n", "3:3: duplicate key 'country_db'" },
	/* geoip comes first, wherever it is written */
	{ "sets:\n  s: [asn:1]\ngeoip: { country_db: country.mmdb }\n",
	  "2:7: set 's': \"asn:1\": asn entries need an ASN database (geoip.asn_db in the policy)" },
	{ "sets:\n  s: [asn:01]\ngeoip: { asn_db: asn.mmdb }\n",
	  "2:7: set 's': \"asn:01\": an AS number has no leading zeros" },
	{ "domains:\n  example.com: \"country:DE\"\n",
	  "2:16: domains.example.com: entry 1 \"country:DE\": country entries need a country database (geoip.country_db in the policy)" },
	{ "domains:\n  example.com: \"192.0.2.0/24 10/8\"\n",
	  "2:16: domains.example.com: entry 2 \"10/8\": IPv4 shorthand is not allowed" },
	{ "domains:\n  \"*\": \"@nope\"\n",
	  "2:8: domains.*: entry 1 \"@nope\": unknown set (not defined in the policy's sets)" },
	{ "domains:\n  a.example: 192.0.2.1\n  A.EXAMPLE: 192.0.2.2\n",
	  "3:3: duplicate domain 'A.EXAMPLE'" },
	{ "domains:\n  \"a b\": 192.0.2.1\n",
	  "2:3: domains: keys are domain names (letters, digits, '-', '.') or \"*\"" },
	{ "domains:\n  a.example: [192.0.2.1]\n",
	  "2:14: domains.a.example must be one list text, e.g. \"@office, country:DE\"" },
	{ "domains: 1\n", "1:10: domains must be a mapping of domain names to lists" },
};

START_TEST(test_load_errors)
{
	const struct load_error_case *c = &load_error_cases[_i];
	char want[1024], *error;
	const char *p;
	size_t len;

	ck_assert_ptr_null(load(c->yaml, &error));
	ck_assert_ptr_nonnull(error);
	/* DIR stands for the temporary directory */
	len = (size_t)snprintf(want, sizeof(want), "%s/policy.yaml:", dir);
	for (p = c->error; *p != '\0' && len < sizeof(want) - 1; ) {
		if (strncmp(p, "DIR", 3) == 0) {
			len += (size_t)snprintf(want + len, sizeof(want) - len,
						"%s", dir);
			p += 3;
		} else {
			want[len++] = *p++;
			want[len] = '\0';
		}
	}
	ck_assert_str_eq(error, want);
	free(error);
}
END_TEST

START_TEST(test_reload_reopens)
{
	/* a new policy maps the file again: replacing the database file
	   (as an update does, by rename) and loading the policy again gives
	   the new answers, while the old policy keeps the old file */
	struct ipallow_policy *old_policy, *new_policy;
	struct ipallow_geo_info info;
	struct ipallow_addr addr = test_addr("203.0.113.9");
	char from[512], to[512], *error;
	const char *lookup_error;

	old_policy = load("geoip: { country_db: country.mmdb }\n", &error);
	ck_assert_msg(old_policy != NULL, "%s", error);
	snprintf(from, sizeof(from), "%s/asn.mmdb", dir);
	snprintf(to, sizeof(to), "%s/country.mmdb", dir);
	/* the ASN file has no country.iso_code: every country unknown */
	ck_assert_int_eq(rename(from, to), 0);
	ck_assert_int_eq(ipallow_geoip_lookup(old_policy->geoip,
		&(struct ipallow_addr){ .family = IPALLOW_FAMILY_IPV4,
					.bytes = { 192, 0, 2, 1 } },
		true, true, &info, &lookup_error), 0);
	ck_assert_uint_eq(info.country, CC('D', 'E'));
	new_policy = load("geoip: { country_db: country.mmdb }\n", &error);
	ck_assert_msg(new_policy != NULL, "%s", error);
	addr = test_addr("192.0.2.1");
	ck_assert_int_eq(ipallow_geoip_lookup(new_policy->geoip, &addr, true,
					      true, &info, &lookup_error), 0);
	ck_assert_uint_eq(info.country, 0);
	ipallow_policy_free(&old_policy);
	ipallow_policy_free(&new_policy);
}
END_TEST

static Suite *geoip_suite(void)
{
	Suite *s = suite_create("geoip");
	TCase *tc = tcase_create("grammar");

	tcase_add_loop_test(tc, test_entry_parse, 0, N_ELEMENTS(entry_cases));
	tcase_add_test(tc, test_entry_parse_length);
	tcase_add_test(tc, test_entries);
	tcase_add_test(tc, test_set_file_lines);
	suite_add_tcase(s, tc);

	tc = tcase_create("files");
	tcase_add_checked_fixture(tc, db_setup, db_teardown);
	tcase_add_loop_test(tc, test_lookup_files, 0, N_ELEMENTS(lookup_cases));
	tcase_add_test(tc, test_decide_files);
	tcase_add_loop_test(tc, test_load_errors, 0,
			    N_ELEMENTS(load_error_cases));
	tcase_add_test(tc, test_reload_reopens);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run_suite(geoip_suite());
}
