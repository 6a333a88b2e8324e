/* One allow_nets value (SPEC §3): separators, entry numbers and columns,
   diagnostics, limits, named sets. */
#include "test-common.h"
#include "ipallow-list.h"
#include "ipallow-set.h"

static struct ipallow_set *office_set, *partners_set;
static struct ipallow_set *test_sets[2];

static struct ipallow_set *make_set(const char *name, const char *const *prefixes)
{
	struct ipallow_prefix_array arr = { NULL, 0, 0 };
	struct ipallow_prefix prefix;
	struct ipallow_set *set;
	const char *error;
	bool host_bits;

	for (; *prefixes != NULL; prefixes++) {
		ck_assert(ipallow_prefix_parse(*prefixes, strlen(*prefixes),
					       &prefix, &host_bits, &error) == 0);
		ck_assert(ipallow_prefix_array_add(&arr, &prefix) == 0);
	}
	ck_assert(ipallow_set_create(name, &arr, &set) == 0);
	ck_assert(arr.count == 0 && arr.prefixes == NULL);
	return set;
}

static void sets_setup(void)
{
	static const char *const office[] = {
		"203.0.113.0/24", "2001:db8:100::/48", NULL
	};
	static const char *const partners[] = { "192.0.2.128/25", NULL };

	office_set = make_set("office", office);
	partners_set = make_set("partners.eu-1", partners);
	test_sets[0] = office_set;
	test_sets[1] = partners_set;
}

static void sets_teardown(void)
{
	ipallow_set_free(&office_set);
	ipallow_set_free(&partners_set);
	ck_assert(office_set == NULL);
}

static struct ipallow_parse_ctx test_ctx(void)
{
	struct ipallow_parse_ctx ctx;

	memset(&ctx, 0, sizeof(ctx));
	ctx.limits.max_entries = IPALLOW_LIST_DEFAULT_MAX_ENTRIES;
	ctx.limits.max_bytes = IPALLOW_LIST_DEFAULT_MAX_BYTES;
	ctx.sets = test_sets;
	ctx.sets_count = 2;
	return ctx;
}

struct list_case {
	const char *text;
	int ret;
	unsigned int entries, valid;
	const char *normalised;
	unsigned int errors;
	const char *first_error;	/* ipallow_diag_format() of errors[0] */
	unsigned int column;		/* of errors[0] */
	const char *first_warning;
};

static const char sixty_four_a[] =
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

static const struct list_case list_cases[] = {
	/* empty and blank lists: no restriction */
	{ "", 1, 0, 0, "", 0, NULL, 0, NULL },
	{ " ", 1, 0, 0, "", 0, NULL, 0, NULL },
	{ ",", 1, 0, 0, "", 0, NULL, 0, NULL },
	{ " \t\n\r\v\f, ,,,\n", 1, 0, 0, "", 0, NULL, 0, NULL },
	/* separators: commas and/or white space, empty entries ignored */
	{ "198.51.100.7", 1, 1, 1, "198.51.100.7/32", 0, NULL, 0, NULL },
	{ "203.0.113.0/24, 2001:db8:42::/48", 1, 2, 2,
	  "203.0.113.0/24, 2001:db8:42::/48", 0, NULL, 0, NULL },
	{ "1.2.3.4,5.6.7.8", 1, 2, 2, "1.2.3.4/32, 5.6.7.8/32", 0, NULL, 0,
	  NULL },
	{ "1.2.3.4 5.6.7.8\t9.9.9.9\n10.0.0.0/8\r\n::1", 1, 5, 5,
	  "1.2.3.4/32, 5.6.7.8/32, 9.9.9.9/32, 10.0.0.0/8, ::1/128", 0, NULL,
	  0, NULL },
	{ ",,1.2.3.4,,, ,\t,5.6.7.8,", 1, 2, 2, "1.2.3.4/32, 5.6.7.8/32", 0,
	  NULL, 0, NULL },
	{ "  \n 2001:DB8::1  ", 1, 1, 1, "2001:db8::1/128", 0, NULL, 0, NULL },
	{ "1.2.3.4\v5.6.7.8\f9.9.9.9", 1, 3, 3,
	  "1.2.3.4/32, 5.6.7.8/32, 9.9.9.9/32", 0, NULL, 0, NULL },
	{ "::ffff:198.51.100.0/120 ::ffff:198.51.100.7", 1, 2, 2,
	  "198.51.100.0/24, 198.51.100.7/32", 0, NULL, 0, NULL },
	{ "::198.51.100.7", 1, 1, 1, "::198.51.100.7/128", 0, NULL, 0, NULL },
	/* duplicates and overlaps are fine */
	{ "10.0.0.0/8 10.0.0.0/8 10.1.0.0/16", 1, 3, 3,
	  "10.0.0.0/8, 10.0.0.0/8, 10.1.0.0/16", 0, NULL, 0, NULL },
	/* host bits: valid, with a warning */
	{ "198.51.100.7/24", 1, 1, 1, "198.51.100.0/24", 0, NULL, 0,
	  "entry 1 \"198.51.100.7/24\": host bits are set; this means "
	  "198.51.100.0/24" },
	{ "::1, 2001:db8::1/32", 1, 2, 2, "::1/128, 2001:db8::/32", 0, NULL, 0,
	  "entry 2 \"2001:db8::1/32\": host bits are set; this means "
	  "2001:db8::/32" },
	/* named sets */
	{ "@office", 1, 1, 1, "@office", 0, NULL, 0, NULL },
	{ "@office, 198.51.100.7 @partners.eu-1", 1, 3, 3,
	  "@office, 198.51.100.7/32, @partners.eu-1", 0, NULL, 0, NULL },
	{ "@nope", 0, 1, 0, "", 1,
	  "entry 1 \"@nope\": unknown set (not defined in the policy's sets)",
	  1, NULL },
	{ "@Office", 0, 1, 0, "", 1,
	  "entry 1 \"@Office\": unknown set (not defined in the policy's sets)",
	  1, NULL },
	{ "@", 0, 1, 0, "", 1, "entry 1 \"@\": invalid set name", 1, NULL },
	{ "1.2.3.4 @a/b", 0, 2, 1, "1.2.3.4/32", 1,
	  "entry 2 \"@a/b\": invalid set name", 9, NULL },
	{ "@office@office", 0, 1, 0, "", 1,
	  "entry 1 \"@office@office\": invalid set name", 1, NULL },
	{ "office", 0, 1, 0, "", 1,
	  "entry 1 \"office\": host names are not allowed, only IP addresses",
	  1, NULL },
	/* errors: entry numbers and columns count from 1 */
	{ "1.2.3.4 10/8", 0, 2, 1, "1.2.3.4/32", 1,
	  "entry 2 \"10/8\": IPv4 shorthand is not allowed", 9, NULL },
	{ "10/8", 0, 1, 0, "", 1,
	  "entry 1 \"10/8\": IPv4 shorthand is not allowed", 1, NULL },
	{ ", ,\t10.1", 0, 1, 0, "", 1,
	  "entry 1 \"10.1\": IPv4 shorthand is not allowed", 5, NULL },
	{ "1.1.1.1, 2.2.2.2, 10/8", 0, 3, 2, "1.1.1.1/32, 2.2.2.2/32", 1,
	  "entry 3 \"10/8\": IPv4 shorthand is not allowed", 19, NULL },
	{ "10/8, 1.2.3.4, 010.0.0.1, x", 0, 4, 1, "1.2.3.4/32", 3,
	  "entry 1 \"10/8\": IPv4 shorthand is not allowed", 1, NULL },
	{ "fe80::1%eth0", 0, 1, 0, "", 1,
	  "entry 1 \"fe80::1%eth0\": IPv6 zone index is not allowed", 1, NULL },
	{ "[2001:db8::1]:993", 0, 1, 0, "", 1,
	  "entry 1 \"[2001:db8::1]:993\": brackets are not allowed", 1, NULL },
	{ "198.51.100.7:993", 0, 1, 0, "", 1,
	  "entry 1 \"198.51.100.7:993\": ports are not allowed", 1, NULL },
	{ "10.0.0.0/255.0.0.0", 0, 1, 0, "", 1,
	  "entry 1 \"10.0.0.0/255.0.0.0\": netmask notation is not allowed, "
	  "use a prefix length", 1, NULL },
	/* what is not printable is escaped; '"' and '\' too */
	{ "\"1.2.3.4\"", 0, 1, 0, "", 1,
	  "entry 1 \"\\x221.2.3.4\\x22\": invalid character in IPv4 address",
	  1, NULL },
	{ "1.2.3.4\\", 0, 1, 0, "", 1,
	  "entry 1 \"1.2.3.4\\x5c\": invalid character in IPv4 address", 1,
	  NULL },
	{ "\xc3\xa9 10/8", 0, 2, 0, "", 2,
	  "entry 1 \"\\xc3\\xa9\": invalid character in IPv4 address", 1,
	  NULL },
	{ "\x01\x7f\xff", 0, 1, 0, "", 1,
	  "entry 1 \"\\x01\\x7f\\xff\": invalid character in IPv4 address", 1,
	  NULL },
	/* an over-long entry is cut at 64 bytes in the message */
	{ "1.2.3.4 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	  0, 2, 1, "1.2.3.4/32", 1,
	  "entry 2 \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\": "
	  "host names are not allowed, only IP addresses", 9, NULL },
	/* exactly 64 bytes: not cut */
	{ sixty_four_a, 0, 1, 0, "", 1,
	  "entry 1 \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\": "
	  "host names are not allowed, only IP addresses", 1, NULL },
	/* both an error and a warning */
	{ "1.2.3.4/24 x", 0, 2, 1, "1.2.3.0/24", 1,
	  "entry 2 \"x\": host names are not allowed, only IP addresses", 12,
	  "entry 1 \"1.2.3.4/24\": host bits are set; this means 1.2.3.0/24" },
};

START_TEST(test_list_parse)
{
	const struct list_case *c = &list_cases[_i];
	struct ipallow_parse_ctx ctx = test_ctx();
	struct ipallow_list *list = NULL;
	char buf[IPALLOW_DIAG_STRLEN];
	int ret;

	ret = ipallow_list_parse(c->text, &ctx, &list);
	ck_assert_msg(ret == c->ret, "case %d: \"%s\": returned %d", _i,
		      c->text, ret);
	ck_assert_msg(list != NULL && list->radix != NULL,
		      "case %d: \"%s\": no list", _i, c->text);
	ck_assert_msg(list->entry_count == c->entries &&
		      list->valid_count == c->valid,
		      "case %d: \"%s\": %u entries, %u valid", _i, c->text,
		      list->entry_count, list->valid_count);
	ck_assert_msg(list->normalised != NULL &&
		      strcmp(list->normalised, c->normalised) == 0,
		      "case %d: \"%s\": normalised \"%s\"", _i, c->text,
		      list->normalised);
	ck_assert_msg(list->error_count == c->errors,
		      "case %d: \"%s\": %u errors", _i, c->text,
		      list->error_count);
	ck_assert_msg(!list->over_limit, "case %d: \"%s\": over limit", _i,
		      c->text);
	ck_assert_msg(list->text_bytes == strlen(c->text),
		      "case %d: \"%s\": text_bytes %zu", _i, c->text,
		      list->text_bytes);
	if (c->first_error != NULL) {
		ipallow_diag_format(&list->errors[0], buf);
		ck_assert_msg(strcmp(buf, c->first_error) == 0,
			      "case %d: \"%s\": error '%s'", _i, c->text, buf);
		ck_assert_msg(list->errors[0].column == c->column,
			      "case %d: \"%s\": column %u, want %u", _i,
			      c->text, list->errors[0].column, c->column);
	}
	if (c->first_warning != NULL) {
		ck_assert_msg(list->warning_count == 1,
			      "case %d: \"%s\": %u warnings", _i, c->text,
			      list->warning_count);
		ipallow_diag_format(&list->warnings[0], buf);
		ck_assert_msg(strcmp(buf, c->first_warning) == 0,
			      "case %d: \"%s\": warning '%s'", _i, c->text, buf);
	} else {
		ck_assert_msg(list->warning_count == 0,
			      "case %d: \"%s\": %u warnings", _i, c->text,
			      list->warning_count);
	}
	ck_assert_msg(list->memory >= sizeof(*list),
		      "case %d: \"%s\": memory %zu", _i, c->text, list->memory);
	ipallow_list_free(&list);
	ck_assert(list == NULL);

	/* the decision path's context: the same verdict, no text */
	ret = ipallow_list_parse_flags(c->text, &ctx,
				       IPALLOW_LIST_PARSE_SKIP_NORMALISED, &list);
	ck_assert_msg(ret == c->ret && list->normalised == NULL &&
		      list->error_count == c->errors &&
		      list->valid_count == c->valid,
		      "case %d: \"%s\": differs with SKIP_NORMALISED", _i,
		      c->text);
	ipallow_list_free(&list);
}
END_TEST

/* Every error is counted; the first IPALLOW_LIST_MAX_DIAGS are kept with
   their own entry number and column. */
START_TEST(test_list_many_errors)
{
	struct ipallow_parse_ctx ctx = test_ctx();
	struct ipallow_list *list;
	char text[256] = "", buf[IPALLOW_DIAG_STRLEN];
	unsigned int i;

	/* "1.1.1.1 x x x ..." with 20 bad entries after one good one */
	strcat(text, "1.1.1.1");
	for (i = 0; i < 20; i++)
		strcat(text, " x");
	ck_assert_int_eq(ipallow_list_parse(text, &ctx, &list), 0);
	ck_assert_uint_eq(list->entry_count, 21);
	ck_assert_uint_eq(list->valid_count, 1);
	ck_assert_uint_eq(list->error_count, 20);
	for (i = 0; i < IPALLOW_LIST_MAX_DIAGS; i++) {
		ck_assert_msg(list->errors[i].entry == i + 2 &&
			      list->errors[i].column == 9 + 2 * i,
			      "error %u: entry %u column %u", i,
			      list->errors[i].entry, list->errors[i].column);
	}
	ck_assert_str_eq(ipallow_diag_format(&list->errors[15], buf),
			 "entry 17 \"x\": host names are not allowed, only IP addresses");
	ipallow_list_free(&list);

	/* "10/8, 1.2.3.4, 010.0.0.1, x": the 2nd and 3rd errors */
	ck_assert_int_eq(ipallow_list_parse("10/8, 1.2.3.4, 010.0.0.1, x",
					    &ctx, &list), 0);
	ck_assert_uint_eq(list->error_count, 3);
	ck_assert_uint_eq(list->errors[1].entry, 3);
	ck_assert_uint_eq(list->errors[1].column, 16);
	ck_assert_str_eq(list->errors[1].text, "010.0.0.1");
	ck_assert_str_eq(list->errors[1].message,
			 "IPv4 octet with a leading zero is not allowed");
	ck_assert_uint_eq(list->errors[2].entry, 4);
	ck_assert_uint_eq(list->errors[2].column, 27);
	ck_assert_str_eq(ipallow_diag_format(&list->errors[2], buf),
			 "entry 4 \"x\": host names are not allowed, only IP addresses");
	ipallow_list_free(&list);

	/* warnings are counted the same way */
	text[0] = '\0';
	for (i = 0; i < 18; i++)
		strcat(text, i == 0 ? "1.1.1.1/8" : " 1.1.1.1/8");
	ck_assert_int_eq(ipallow_list_parse(text, &ctx, &list), 1);
	ck_assert_uint_eq(list->warning_count, 18);
	ck_assert_uint_eq(list->error_count, 0);
	ck_assert_uint_eq(list->warnings[15].entry, 16);
	ck_assert_uint_eq(list->warnings[15].column, 1 + 15 * 10);
	ipallow_list_free(&list);
}
END_TEST

/* Builds "10.0.x.y, ..." with count entries. */
static char *make_entries(unsigned int count)
{
	char *text = malloc((size_t)count * 16 + 1);
	size_t pos = 0;
	unsigned int i;

	ck_assert(text != NULL);
	text[0] = '\0';
	for (i = 0; i < count; i++) {
		pos += (size_t)sprintf(text + pos, "%s10.0.%u.%u",
				       i == 0 ? "" : ", ", i / 256, i % 256);
	}
	return text;
}

START_TEST(test_list_limit_entries)
{
	struct ipallow_parse_ctx ctx = test_ctx();
	struct ipallow_list *list;
	struct ipallow_addr addr;
	char *text, buf[IPALLOW_DIAG_STRLEN];

	text = make_entries(1024);
	ck_assert_int_eq(ipallow_list_parse(text, &ctx, &list), 1);
	ck_assert_uint_eq(list->entry_count, 1024);
	ck_assert_uint_eq(list->valid_count, 1024);
	addr = test_addr("10.0.3.255");
	ck_assert(ipallow_list_lookup(list, &addr));
	ipallow_list_free(&list);
	free(text);

	text = make_entries(1025);
	ck_assert_int_eq(ipallow_list_parse(text, &ctx, &list), 0);
	ck_assert(list->over_limit);
	ck_assert_uint_eq(list->error_count, 1);
	ck_assert_uint_eq(list->errors[0].entry, 1025);
	ck_assert_uint_eq(list->errors[0].column,
			  (unsigned int)(strstr(text, "10.0.4.0") - text) + 1);
	ck_assert_str_eq(ipallow_diag_format(&list->errors[0], buf),
			 "entry 1025 \"10.0.4.0\": list has more than 1024 "
			 "entries (limits.entries)");
	ipallow_list_free(&list);
	free(text);

	/* configurable through the parse context */
	ctx.limits.max_entries = 3;
	ck_assert_int_eq(ipallow_list_parse("1.1.1.1, 2.2.2.2, 3.3.3.3", &ctx,
					    &list), 1);
	ipallow_list_free(&list);
	ck_assert_int_eq(ipallow_list_parse("1.1.1.1, 2.2.2.2, 3.3.3.3, 4.4.4.4",
					    &ctx, &list), 0);
	ck_assert(list->over_limit);
	ck_assert_str_eq(ipallow_diag_format(&list->errors[0], buf),
			 "entry 4 \"4.4.4.4\": list has more than 3 entries "
			 "(limits.entries)");
	ck_assert_uint_eq(list->errors[0].column, 28);
	ipallow_list_free(&list);
	/* empty entries do not count */
	ck_assert_int_eq(ipallow_list_parse(",,1.1.1.1,,2.2.2.2,,,3.3.3.3,,",
					    &ctx, &list), 1);
	ipallow_list_free(&list);
}
END_TEST

START_TEST(test_list_limit_bytes)
{
	struct ipallow_parse_ctx ctx = test_ctx();
	struct ipallow_list *list;
	char *text, buf[IPALLOW_DIAG_STRLEN];

	/* 64 KiB exactly: one entry padded with blanks */
	text = malloc(IPALLOW_LIST_DEFAULT_MAX_BYTES + 2);
	ck_assert(text != NULL);
	memset(text, ' ', IPALLOW_LIST_DEFAULT_MAX_BYTES + 1);
	memcpy(text, "198.51.100.7", 12);
	text[IPALLOW_LIST_DEFAULT_MAX_BYTES] = '\0';
	ck_assert_int_eq(ipallow_list_parse(text, &ctx, &list), 1);
	ck_assert_uint_eq(list->entry_count, 1);
	ipallow_list_free(&list);

	/* one byte more */
	text[IPALLOW_LIST_DEFAULT_MAX_BYTES] = ' ';
	text[IPALLOW_LIST_DEFAULT_MAX_BYTES + 1] = '\0';
	ck_assert_int_eq(ipallow_list_parse(text, &ctx, &list), 0);
	ck_assert(list->over_limit);
	ck_assert_uint_eq(list->error_count, 1);
	ck_assert_uint_eq(list->entry_count, 0);
	ck_assert_uint_eq(list->valid_count, 0);
	ck_assert_uint_eq(list->errors[0].entry, 0);
	ck_assert_uint_eq(list->errors[0].column, 0);
	ck_assert_str_eq(list->errors[0].text, "65537 bytes");
	ck_assert_str_eq(ipallow_diag_format(&list->errors[0], buf),
			 "list is longer than 65536 bytes (limits.bytes) "
			 "(65537 bytes)");
	/* nothing of an over-long list is used */
	{
		struct ipallow_addr addr = test_addr("198.51.100.7");

		ck_assert(!ipallow_list_lookup(list, &addr));
	}
	ipallow_list_free(&list);
	free(text);

	ctx.limits.max_bytes = 20;
	ck_assert_int_eq(ipallow_list_parse("1.1.1.1, 2.2.2.2, 33", &ctx,
					    &list), 0);
	ck_assert(!list->over_limit);	/* 20 bytes: within; "33" is bad */
	ipallow_list_free(&list);
	ck_assert_int_eq(ipallow_list_parse("1.1.1.1, 2.2.2.2, 3.3", &ctx,
					    &list), 0);
	ck_assert(list->over_limit);
	ck_assert_str_eq(ipallow_diag_format(&list->errors[0], buf),
			 "list is longer than 20 bytes (limits.bytes) (21 bytes)");
	ipallow_list_free(&list);
}
END_TEST

static const struct lookup_case {
	const char *addr;
	bool inside;
} lookup_cases[] = {
	{ "198.51.100.7", true },
	{ "198.51.100.8", false },
	{ "::ffff:198.51.100.7", true },
	{ "::198.51.100.7", false },
	{ "2001:db8:42::1", true },
	{ "2001:db8:42:ffff:ffff:ffff:ffff:ffff", true },
	{ "2001:db8:43::", false },
	{ "203.0.113.0", true },	/* @office */
	{ "203.0.113.255", true },
	{ "203.0.114.0", false },
	{ "2001:db8:100:1::1", true },	/* @office */
	{ "192.0.2.128", true },	/* @partners.eu-1 */
	{ "192.0.2.127", false },
	{ "10.1.2.3", true },		/* ::ffff:10.0.0.0/104 */
	{ "11.0.0.0", false },
	{ "unknown", false },
};

START_TEST(test_list_lookup)
{
	static const char text[] = "198.51.100.7 2001:db8:42::/48 @office "
		"@partners.eu-1 @office ::ffff:10.0.0.0/104";
	struct ipallow_parse_ctx ctx = test_ctx();
	struct ipallow_list *list;
	struct ipallow_addr addr = test_addr(lookup_cases[_i].addr);

	ck_assert_int_eq(ipallow_list_parse(text, &ctx, &list), 1);
	ck_assert_uint_eq(list->sets_count, 2);	/* @office once */
	ck_assert_uint_eq(list->valid_count, 6);
	ck_assert_msg(ipallow_list_lookup(list, &addr) == lookup_cases[_i].inside,
		      "case %d: %s", _i, lookup_cases[_i].addr);
	ipallow_list_free(&list);
}
END_TEST

/* The valid part of an invalid list is there for on_invalid: skip. */
START_TEST(test_list_invalid_keeps_valid_part)
{
	struct ipallow_parse_ctx ctx = test_ctx();
	struct ipallow_list *list;
	struct ipallow_addr in = test_addr("203.0.113.9"),
		out = test_addr("10.0.0.1");

	ck_assert_int_eq(ipallow_list_parse("10/8 203.0.113.0/24 @nope", &ctx,
					    &list), 0);
	ck_assert_uint_eq(list->valid_count, 1);
	ck_assert_uint_eq(list->error_count, 2);
	ck_assert(ipallow_list_lookup(list, &in));
	ck_assert(!ipallow_list_lookup(list, &out));
	ck_assert_uint_eq(ipallow_radix_prefix_count(list->radix), 1);
	ipallow_list_free(&list);
}
END_TEST

START_TEST(test_list_set_name_length)
{
	struct ipallow_parse_ctx ctx = test_ctx();
	struct ipallow_list *list;
	char text[80], buf[IPALLOW_DIAG_STRLEN], want[200];

	/* 64 characters: a name, just not one we know */
	snprintf(text, sizeof(text), "@%s", sixty_four_a);
	ck_assert_int_eq(ipallow_list_parse(text, &ctx, &list), 0);
	snprintf(want, sizeof(want), "entry 1 \"@%.63s...\": unknown set "
		 "(not defined in the policy's sets)", sixty_four_a);
	ck_assert_str_eq(ipallow_diag_format(&list->errors[0], buf), want);
	ipallow_list_free(&list);
	/* 65: too long to be a name */
	snprintf(text, sizeof(text), "@a%s", sixty_four_a);
	ck_assert_int_eq(ipallow_list_parse(text, &ctx, &list), 0);
	ck_assert_str_eq(list->errors[0].message, "invalid set name");
	ipallow_list_free(&list);
}
END_TEST

START_TEST(test_diag_format)
{
	struct ipallow_diag diag;
	char buf[IPALLOW_DIAG_STRLEN];

	memset(&diag, 0, sizeof(diag));
	diag.entry = 3;
	diag.column = 17;
	strcpy(diag.text, "10/8");
	strcpy(diag.message, "IPv4 shorthand is not allowed");
	ck_assert_str_eq(ipallow_diag_format(&diag, buf),
			 "entry 3 \"10/8\": IPv4 shorthand is not allowed");
	diag.entry = 0;
	strcpy(diag.text, "70000 bytes");
	strcpy(diag.message, "list is longer than 65536 bytes (limits.bytes)");
	ck_assert_str_eq(ipallow_diag_format(&diag, buf),
			 "list is longer than 65536 bytes (limits.bytes) "
			 "(70000 bytes)");
}
END_TEST

static Suite *list_suite(void)
{
	Suite *s = suite_create("list");
	TCase *tc;

	tc = tcase_create("parse");
	tcase_add_checked_fixture(tc, sets_setup, sets_teardown);
	tcase_add_loop_test(tc, test_list_parse, 0, N_ELEMENTS(list_cases));
	tcase_add_test(tc, test_list_many_errors);
	tcase_add_test(tc, test_list_set_name_length);
	tcase_add_test(tc, test_list_invalid_keeps_valid_part);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_checked_fixture(tc, sets_setup, sets_teardown);
	tcase_add_test(tc, test_list_limit_entries);
	tcase_add_test(tc, test_list_limit_bytes);
	suite_add_tcase(s, tc);

	tc = tcase_create("lookup");
	tcase_add_checked_fixture(tc, sets_setup, sets_teardown);
	tcase_add_loop_test(tc, test_list_lookup, 0, N_ELEMENTS(lookup_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("diagnostics");
	tcase_add_test(tc, test_diag_format);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run_suite(list_suite());
}
