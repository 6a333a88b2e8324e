/* Named sets: the name rule, the built-in groups, set files and
   building a set. */
#include "test-common.h"
#include "ipallow-set.h"

/* The set file reader on its own. */
static const struct setbuf_case {
	const char *data;
	size_t count;		/* prefixes read, when valid */
	const char *error;	/* or the exact error */
} setbuf_cases[] = {
	{ "", 0, NULL },
	{ "\n\n\n", 0, NULL },
	{ "# only a comment", 0, NULL },
	{ "1.2.3.4", 1, NULL },
	{ "1.2.3.4\n", 1, NULL },
	{ "1.2.3.4\r\n5.6.7.8\r\n", 2, NULL },
	{ "  1.2.3.4  \n\t5.6.7.8\t\n", 2, NULL },
	{ "1.2.3.4# no blank before the comment\n", 1, NULL },
	{ "1.2.3.4/24\n", 1, NULL },	/* host bits: the network */
	{ "::/0\n0.0.0.0/0\n", 2, NULL },
	{ "1.2.3.4\n\n  # x\n10/8\n", 0, "s.nets:4:1: \"10/8\": IPv4 shorthand "
	  "is not allowed" },
	{ "1.2.3.4, 5.6.7.8\n", 0, "s.nets:1:8: one prefix per line" },
	{ "\t 1.2.3.4\t5.6.7.8\n", 0, "s.nets:1:10: one prefix per line" },
	{ "@office\n", 0, "s.nets:1:1: \"@office\": invalid character in IPv4 "
	  "address" },
	{ "  host.example.com # x\n", 0, "s.nets:1:3: \"host.example.com\": host "
	  "names are not allowed, only IP addresses" },
	{ "\xef\xbb\xbf" "1.2.3.4\n", 0, "s.nets:1:1: \"\\xef\\xbb\\xbf1.2.3.4\": "
	  "invalid character in IPv4 address" },
};

START_TEST(test_set_buffer_read)
{
	const struct setbuf_case *c = &setbuf_cases[_i];
	struct ipallow_prefix_array arr = { NULL, 0, 0 };
	char *error = NULL;
	int ret;

	ret = ipallow_set_buffer_read(c->data, strlen(c->data), "s.nets", &arr,
				      &error);
	if (c->error == NULL) {
		ck_assert_msg(ret == 0, "case %d: \"%s\": %s", _i, c->data, error);
		ck_assert_msg(arr.count == c->count, "case %d: \"%s\": %zu "
			      "prefixes", _i, c->data, arr.count);
	} else {
		ck_assert_msg(ret == -1, "case %d: \"%s\": accepted", _i, c->data);
		ck_assert_msg(error != NULL && strcmp(error, c->error) == 0,
			      "case %d: \"%s\": error '%s'", _i, c->data, error);
	}
	free(error);
	ipallow_prefix_array_free(&arr);
}
END_TEST

/* Set names: the policy's "sets:" keys and "@name" in lists. */
START_TEST(test_set_name)
{
	char name[IPALLOW_SET_NAME_MAX + 2];

	ck_assert(ipallow_set_name_is_valid("office", 6));
	ck_assert(ipallow_set_name_is_valid("eu.partners-2_x", 15));
	ck_assert(!ipallow_set_name_is_valid("", 0));
	ck_assert(!ipallow_set_name_is_valid("a b", 3));
	ck_assert(!ipallow_set_name_is_valid("@a", 2));
	/* only the first len bytes count */
	ck_assert(ipallow_set_name_is_valid("ab cd", 2));
	memset(name, 'n', sizeof(name));
	ck_assert(ipallow_set_name_is_valid(name, IPALLOW_SET_NAME_MAX));
	ck_assert(!ipallow_set_name_is_valid(name, IPALLOW_SET_NAME_MAX + 1));
}
END_TEST

static const struct group_case {
	const char *group;
	int ret;
	size_t count;
	const char *inside, *outside;
} group_cases[] = {
	{ "private", 1, 4, "172.31.255.255", "172.32.0.0" },
	{ "loopback", 1, 2, "::1", "::2" },
	{ "link-local", 1, 2, "fe80::1", "fec0::1" },
	{ "Private", 0, 0, NULL, "10.0.0.1" },
	{ "public", 0, 0, NULL, "10.0.0.1" },
	{ "", 0, 0, NULL, "10.0.0.1" },
};

START_TEST(test_group_add)
{
	const struct group_case *c = &group_cases[_i];
	struct ipallow_prefix_array arr = { NULL, 0, 0 };
	struct ipallow_addr addr;
	bool inside = false;
	size_t i;

	ck_assert_int_eq(ipallow_group_add(c->group, &arr), c->ret);
	ck_assert_uint_eq(arr.count, c->count);
	if (c->inside != NULL) {
		addr = test_addr(c->inside);
		for (i = 0; i < arr.count; i++)
			inside = inside || ipallow_prefix_contains(&arr.prefixes[i],
								   &addr);
		ck_assert_msg(inside, "case %d: %s", _i, c->inside);
	}
	addr = test_addr(c->outside);
	for (i = 0; i < arr.count; i++)
		ck_assert(!ipallow_prefix_contains(&arr.prefixes[i], &addr));
	ipallow_prefix_array_free(&arr);
}
END_TEST

/* A set takes the array over, and is found by its tree. */
START_TEST(test_set_create)
{
	struct ipallow_prefix_array arr = { NULL, 0, 0 };
	struct ipallow_set *set;
	struct ipallow_addr addr;
	char *error = NULL;

	ck_assert_int_eq(ipallow_set_buffer_read("192.0.2.0/24\n2001:db8::/32",
						 26, "s", &arr, &error), 0);
	ck_assert_int_eq(ipallow_set_create("office", &arr, &set), 0);
	ck_assert(arr.count == 0 && arr.prefixes == NULL);
	ck_assert_str_eq(set->name, "office");
	ck_assert_uint_eq(set->prefix_count, 2);
	addr = test_addr("192.0.2.9");
	ck_assert(ipallow_radix_lookup(set->radix, &addr));
	addr = test_addr("2001:db8::1");
	ck_assert(ipallow_radix_lookup(set->radix, &addr));
	addr = test_addr("192.0.3.1");
	ck_assert(!ipallow_radix_lookup(set->radix, &addr));
	ipallow_set_free(&set);
	ck_assert(set == NULL);
	ipallow_set_free(&set);
}
END_TEST

/* country: and asn: lines: refused without a database or outside a
   policy, read with one. */
START_TEST(test_set_geo_lines)
{
	struct ipallow_prefix_array arr = { NULL, 0, 0 };
	struct ipallow_geo_entries geo;
	char *error = NULL;

	memset(&geo, 0, sizeof(geo));
	ck_assert_int_eq(ipallow_set_buffer_read("country:DE\n", 11, "s",
						 &arr, &error), -1);
	ck_assert_str_eq(error, "s:1:1: \"country:DE\": country: and asn: "
			 "entries are not allowed here");
	free(error);
	ck_assert_int_eq(ipallow_set_buffer_read_geo("1.2.3.4\n asn:64500\n",
						     19, "s", &arr, &geo, true,
						     false, &error), -1);
	ck_assert_str_eq(error, "s:2:2: \"asn:64500\": asn entries need an "
			 "ASN database (geoip.asn_db in the policy)");
	free(error);
	ipallow_prefix_array_free(&arr);
	ck_assert_int_eq(ipallow_set_buffer_read_geo("country:DE\nasn:64500\n"
						     "10.0.0.0/8\n", 32, "s",
						     &arr, &geo, true, true,
						     &error), 0);
	ck_assert_uint_eq(arr.count, 1);
	ck_assert_uint_eq(geo.countries_count, 1);
	ck_assert_uint_eq(geo.asns_count, 1);
	ipallow_geo_entries_free(&geo);
	ipallow_prefix_array_free(&arr);
}
END_TEST

static Suite *set_suite(void)
{
	Suite *s = suite_create("set");
	TCase *tc;

	tc = tcase_create("set files");
	tcase_add_loop_test(tc, test_set_buffer_read, 0, N_ELEMENTS(setbuf_cases));
	tcase_add_test(tc, test_set_geo_lines);
	suite_add_tcase(s, tc);

	tc = tcase_create("sets");
	tcase_add_test(tc, test_set_name);
	tcase_add_loop_test(tc, test_group_add, 0, N_ELEMENTS(group_cases));
	tcase_add_test(tc, test_set_create);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run_suite(set_suite());
}
