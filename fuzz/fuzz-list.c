/* libFuzzer target: the allow_nets list parser (SPEC §3).

   The input is the list text (a NUL-terminated copy: a C string, as the
   adapters pass it). Beyond "no crash, no leak, no UB" it checks:
   - the result agrees with the diagnostics (valid iff no error) and every
     non-empty entry is either valid or has exactly one error;
   - the normalised text of a list re-parses as a valid list without
     warnings, normalises to itself, and answers every probe address
     (first, last, one before, one after and a random address of each
     prefix) the same as the original list and as a brute-force scan
     with ipallow_prefix_contains();
   - country: and asn: entries (SPEC 9.3, both databases present)
     normalise to "country:XX" / "asn:N" and re-parse to the same
     entries; with a context without databases every such entry is an
     error;
   - tighter limits give either the same list or an over-limit one;
   - when the input is a single client address, ipallow_addr_parse()
     agrees with the list parser and its text round-trips;
   - every entry converts to the same result, bytes, length and error
     with the scanner's own conversion and with libcidr's
     (ipallow_prefix_parse_libcidr(), the independent reference). */
#include <errno.h>
#include <string.h>

#include "common.h"
#include "ipallow-list.h"

/* How many prefixes of one list get probe addresses. */
#define PROBE_PREFIXES 64

static struct ipallow_parse_ctx ctx_default, ctx_small, ctx_large, ctx_nodb;
static struct ipallow_set *ctx_sets[FUZZ_SETS_COUNT];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	unsigned int i;

	(void)argc;
	(void)argv;
	fuzz_sets_init();
	for (i = 0; i < FUZZ_SETS_COUNT; i++)
		ctx_sets[i] = fuzz_sets[i].set;
	ctx_default.limits.max_entries = IPALLOW_LIST_DEFAULT_MAX_ENTRIES;
	ctx_default.limits.max_bytes = IPALLOW_LIST_DEFAULT_MAX_BYTES;
	ctx_default.sets = ctx_sets;
	ctx_default.sets_count = FUZZ_SETS_COUNT;
	ctx_default.have_country_db = true;
	ctx_default.have_asn_db = true;
	ctx_small = ctx_default;
	ctx_small.limits.max_entries = 4;
	ctx_small.limits.max_bytes = 64;
	/* normalised text can be longer than the original ("1.2.3.4" gets
	   "/32"), so re-parse it without the limits getting in the way */
	ctx_large = ctx_default;
	ctx_large.limits.max_entries = 1000000;
	ctx_large.limits.max_bytes = 16 * 1024 * 1024;
	ctx_nodb = ctx_default;
	ctx_nodb.have_country_db = false;
	ctx_nodb.have_asn_db = false;
	return 0;
}

static void check_diags(const struct ipallow_diag *diags, unsigned int count)
{
	char buf[IPALLOW_DIAG_STRLEN];
	unsigned int i;

	for (i = 0; i < count && i < IPALLOW_LIST_MAX_DIAGS; i++) {
		FUZZ_CHECK(memchr(diags[i].text, '\0', sizeof(diags[i].text)) != NULL,
			   "diag %u text not terminated", i);
		FUZZ_CHECK(memchr(diags[i].message, '\0',
				  sizeof(diags[i].message)) != NULL,
			   "diag %u message not terminated", i);
		FUZZ_CHECK(diags[i].message[0] != '\0', "diag %u has no message", i);
		ipallow_diag_format(&diags[i], buf);
		FUZZ_CHECK(strlen(buf) < sizeof(buf), "diag %u too long", i);
	}
}

/* Collects the prefixes and sets of a normalised text ("a/n, @set, ..."),
   which must all parse. */
static void normalised_prefixes(const char *norm,
				struct ipallow_prefix_array *arr,
				const struct fuzz_set **sets,
				unsigned int *sets_count)
{
	const char *p = norm;

	*sets_count = 0;
	while (*p != '\0') {
		size_t len = strcspn(p, ",");
		struct ipallow_prefix prefix;
		const char *error = NULL;
		bool host_bits;

		struct ipallow_geo_entry geo;
		char geo_text[IPALLOW_GEO_ENTRY_STRLEN];

		if (ipallow_geo_entry_parse(p, len, &geo, &error) != 0) {
			FUZZ_CHECK(ipallow_geo_entry_parse(p, len, &geo, &error) == 1,
				   "normalised entry \"%.*s\" does not parse: %s",
				   (int)len, p, error);
			ipallow_geo_entry_to_str(&geo, geo_text);
			FUZZ_CHECK(strlen(geo_text) == len &&
				   memcmp(geo_text, p, len) == 0,
				   "normalised entry \"%.*s\" is not normal (%s)",
				   (int)len, p, geo_text);
		} else if (p[0] == '@') {
			const struct fuzz_set *set = fuzz_set_find(p + 1, len - 1);
			unsigned int i;

			FUZZ_CHECK(set != NULL, "normalised \"%s\": unknown set "
				   "\"%.*s\"", norm, (int)len, p);
			/* each set once; a list may name one many times */
			for (i = 0; i < *sets_count && sets[i] != set; i++)
				;
			if (i == *sets_count)
				sets[(*sets_count)++] = set;
		} else {
			FUZZ_CHECK(ipallow_prefix_parse(p, len, &prefix,
							&host_bits, &error) == 0,
				   "normalised entry \"%.*s\" does not parse: %s",
				   (int)len, p, error);
			FUZZ_CHECK(!host_bits, "normalised entry \"%.*s\" has "
				   "host bits", (int)len, p);
			FUZZ_CHECK(ipallow_prefix_array_add(arr, &prefix) == 0,
				   "out of memory");
		}
		p += len;
		if (*p == ',') {
			FUZZ_CHECK(p[1] == ' ' && p[2] != '\0' && p[2] != ',',
				   "normalised \"%s\": bad separator", norm);
			p += 2;
		}
	}
}

static bool reference_lookup(const struct ipallow_prefix_array *arr,
			     const struct fuzz_set *const *sets,
			     unsigned int sets_count,
			     const struct ipallow_addr *addr)
{
	unsigned int i;

	if (fuzz_brute_contains(arr->prefixes, arr->count, addr))
		return true;
	for (i = 0; i < sets_count; i++) {
		if (fuzz_brute_contains(sets[i]->prefixes.prefixes,
					sets[i]->prefixes.count, addr))
			return true;
	}
	return false;
}

static void probe(const struct ipallow_list *list,
		  const struct ipallow_list *list2,
		  const struct ipallow_prefix_array *arr,
		  const struct fuzz_set *const *sets, unsigned int sets_count,
		  const struct ipallow_addr *addr)
{
	char buf[IPALLOW_ADDR_STRLEN];
	bool want = reference_lookup(arr, sets, sets_count, addr);
	bool got = ipallow_list_lookup(list, addr);
	bool got2 = ipallow_list_lookup(list2, addr);

	FUZZ_CHECK(got == want && got2 == want,
		   "list \"%s\": %s: list says %d, re-parsed list %d, "
		   "brute force %d", list->normalised,
		   ipallow_addr_to_str(addr, buf), got, got2, want);
}

static void check_normalised(const struct ipallow_list *list,
			     const uint8_t *data, size_t size)
{
	struct ipallow_list *list2;
	struct ipallow_prefix_array arr = { NULL, 0, 0 };
	const struct fuzz_set *sets[FUZZ_SETS_COUNT];
	unsigned int sets_count, i;
	uint8_t noise[16];
	int ret;

	ret = ipallow_list_parse(list->normalised, &ctx_large, &list2);
	FUZZ_CHECK(ret == 1, "normalised \"%s\" is invalid (%d): %s",
		   list->normalised, ret,
		   ret == 0 ? list2->errors[0].message : "out of memory");
	FUZZ_CHECK(list2->warning_count == 0, "normalised \"%s\" has warnings",
		   list->normalised);
	FUZZ_CHECK(list2->valid_count == list->valid_count,
		   "normalised \"%s\": %u entries, original %u",
		   list->normalised, list2->valid_count, list->valid_count);
	FUZZ_CHECK(strcmp(list2->normalised, list->normalised) == 0,
		   "normalising \"%s\" again gives \"%s\"", list->normalised,
		   list2->normalised);
	FUZZ_CHECK(list2->geo.countries_count == list->geo.countries_count &&
		   list2->geo.asns_count == list->geo.asns_count &&
		   (list->geo.countries_count == 0 ||
		    memcmp(list2->geo.countries, list->geo.countries,
			   list->geo.countries_count * sizeof(uint32_t)) == 0) &&
		   (list->geo.asns_count == 0 ||
		    memcmp(list2->geo.asns, list->geo.asns,
			   list->geo.asns_count * sizeof(uint32_t)) == 0),
		   "normalised \"%s\": other country/asn entries",
		   list->normalised);
	for (i = 1; i < list->geo.countries_count; i++)
		FUZZ_CHECK(list->geo.countries[i - 1] < list->geo.countries[i],
			   "countries not sorted");
	for (i = 1; i < list->geo.asns_count; i++)
		FUZZ_CHECK(list->geo.asns[i - 1] < list->geo.asns[i],
			   "asns not sorted");

	normalised_prefixes(list->normalised, &arr, sets, &sets_count);
	memset(noise, 0, sizeof(noise));
	memcpy(noise, data, size < sizeof(noise) ? size : sizeof(noise));
	for (i = 0; i < arr.count && i < PROBE_PREFIXES; i++) {
		const struct ipallow_prefix *prefix = &arr.prefixes[i];
		struct ipallow_addr first, last, addr;

		fuzz_prefix_first(prefix, &first);
		fuzz_prefix_last(prefix, &last);
		probe(list, list2, &arr, sets, sets_count, &first);
		probe(list, list2, &arr, sets, sets_count, &last);
		fuzz_addr_step(&first, -1, &addr);
		probe(list, list2, &arr, sets, sets_count, &addr);
		fuzz_addr_step(&last, +1, &addr);
		probe(list, list2, &arr, sets, sets_count, &addr);
		noise[i % 16] ^= (uint8_t)(i * 37 + 11);
		fuzz_prefix_inside(prefix, noise, &addr);
		/* (unless it fell into ::ffff:0:0/96 and became IPv4) */
		FUZZ_CHECK(addr.family != prefix->addr.family ||
			   ipallow_list_lookup(list, &addr),
			   "list \"%s\": a random address of entry %u is outside",
			   list->normalised, i + 1);
		probe(list, list2, &arr, sets, sets_count, &addr);
	}
	/* the sets' own members, and a few addresses nobody lists */
	for (i = 0; i < FUZZ_SETS_COUNT; i++) {
		struct ipallow_addr addr;

		fuzz_prefix_first(&fuzz_sets[i].prefixes.prefixes[0], &addr);
		probe(list, list2, &arr, sets, sets_count, &addr);
	}
	{
		struct ipallow_addr addr;
		uint8_t bytes[16];

		memset(bytes, 0, sizeof(bytes));
		fuzz_addr_from_bytes(true, bytes, &addr);
		probe(list, list2, &arr, sets, sets_count, &addr);
		fuzz_addr_from_bytes(false, bytes, &addr);
		probe(list, list2, &arr, sets, sets_count, &addr);
		memset(bytes, 0xff, sizeof(bytes));
		fuzz_addr_from_bytes(true, bytes, &addr);
		probe(list, list2, &arr, sets, sets_count, &addr);
		fuzz_addr_from_bytes(false, bytes, &addr);
		probe(list, list2, &arr, sets, sets_count, &addr);
		memcpy(bytes, noise, sizeof(bytes));
		fuzz_addr_from_bytes(true, bytes, &addr);
		probe(list, list2, &arr, sets, sets_count, &addr);
		fuzz_addr_from_bytes(false, bytes, &addr);
		probe(list, list2, &arr, sets, sets_count, &addr);
	}
	ipallow_prefix_array_free(&arr);
	ipallow_list_free(&list2);
}

static void check_limits(const struct ipallow_list *list, int ret,
			 const char *text)
{
	struct ipallow_list *small;
	int ret2;

	ret2 = ipallow_list_parse(text, &ctx_small, &small);
	FUZZ_CHECK(ret2 >= 0, "out of memory");
	if (list->text_bytes <= ctx_small.limits.max_bytes &&
	    list->entry_count <= ctx_small.limits.max_entries) {
		FUZZ_CHECK(ret2 == ret && !small->over_limit &&
			   strcmp(small->normalised, list->normalised) == 0,
			   "tighter limits changed a list within them");
	} else {
		FUZZ_CHECK(ret2 == 0 && small->over_limit,
			   "a list over the limits (%zu bytes, %u entries) "
			   "was accepted", list->text_bytes, list->entry_count);
	}
	ipallow_list_free(&small);
}

/* If the text is one client address, both parsers must agree. */
static void check_addr(const struct ipallow_list *list, int ret,
		       const char *text)
{
	struct ipallow_addr addr, addr2;
	char buf[IPALLOW_ADDR_STRLEN];
	const char *error = NULL;

	if (ipallow_addr_parse(text, &addr, &error) < 0) {
		FUZZ_CHECK(error != NULL && error[0] != '\0',
			   "address rejected without a message");
		return;
	}
	FUZZ_CHECK(addr.family == IPALLOW_FAMILY_IPV4 ||
		   addr.family == IPALLOW_FAMILY_IPV6, "bad family");
	FUZZ_CHECK(ret == 1 && list->valid_count == 1 &&
		   list->entry_count == 1,
		   "\"%s\" is an address but not a valid one-entry list", text);
	FUZZ_CHECK(ipallow_list_lookup(list, &addr),
		   "address \"%s\" is not inside the list \"%s\"", text,
		   list->normalised);
	ipallow_addr_to_str(&addr, buf);
	FUZZ_CHECK(ipallow_addr_parse(buf, &addr2, &error) == 0 &&
		   ipallow_addr_equals(&addr, &addr2),
		   "address \"%s\" prints as \"%s\", which does not round-trip",
		   text, buf);
}

/* The scanner's conversion against libcidr's, entry by entry (split as
   the list parser splits). */
static void check_libcidr(const char *text)
{
	size_t pos = 0, len = strlen(text);

	while (pos < len) {
		struct ipallow_prefix a, b;
		bool host_a, host_b;
		const char *err_a = NULL, *err_b = NULL;
		size_t start;
		int ra, rb;

		while (pos < len && strchr(", \t\n\r\v\f", text[pos]) != NULL)
			pos++;
		start = pos;
		while (pos < len && strchr(", \t\n\r\v\f", text[pos]) == NULL)
			pos++;
		if (pos == start)
			break;
		ra = ipallow_prefix_parse(text + start, pos - start, &a,
					  &host_a, &err_a);
		errno = 0;
		rb = ipallow_prefix_parse_libcidr(text + start, pos - start,
						  &b, &host_b, &err_b);
		if (rb < 0 && errno == ENOMEM)
			continue;	/* libcidr out of memory */
		FUZZ_CHECK(ra == rb, "entry \"%.*s\": %d, libcidr %d",
			   (int)(pos - start), text + start, ra, rb);
		if (ra == 0) {
			FUZZ_CHECK(ipallow_addr_equals(&a.addr, &b.addr) &&
				   a.len == b.len && host_a == host_b,
				   "entry \"%.*s\": converts unlike libcidr",
				   (int)(pos - start), text + start);
		} else {
			FUZZ_CHECK(strcmp(err_a, err_b) == 0,
				   "entry \"%.*s\": \"%s\", libcidr \"%s\"",
				   (int)(pos - start), text + start, err_a,
				   err_b);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipallow_list *list;
	char *text;
	int ret;

	text = fuzz_strndup(data, size);
	check_libcidr(text);
	ret = ipallow_list_parse(text, &ctx_default, &list);
	FUZZ_CHECK(ret == 0 || ret == 1, "unexpected result %d", ret);
	FUZZ_CHECK(list != NULL && list->radix != NULL &&
		   list->normalised != NULL, "incomplete list");
	FUZZ_CHECK((ret == 1) == (list->error_count == 0),
		   "result %d with %u errors", ret, list->error_count);
	FUZZ_CHECK(list->text_bytes == strlen(text), "text_bytes");
	if (!list->over_limit) {
		FUZZ_CHECK(list->valid_count + list->error_count ==
			   list->entry_count,
			   "%u valid + %u errors != %u entries",
			   list->valid_count, list->error_count,
			   list->entry_count);
	} else {
		FUZZ_CHECK(ret == 0, "over the limits but valid");
	}
	check_diags(list->errors, list->error_count);
	check_diags(list->warnings, list->warning_count);
	if (!list->over_limit)
		check_normalised(list, data, size);
	check_limits(list, ret, text);
	check_addr(list, ret, text);
	if (!list->over_limit &&
	    list->geo.countries_count + list->geo.asns_count > 0) {
		struct ipallow_list *nodb;

		/* without the databases, the same entries are errors */
		FUZZ_CHECK(ipallow_list_parse(text, &ctx_nodb, &nodb) == 0,
			   "\"%.200s\": valid without databases", text);
		FUZZ_CHECK(nodb->geo.countries_count + nodb->geo.asns_count == 0,
			   "geo entries without databases");
		ipallow_list_free(&nodb);
	}

	ipallow_list_free(&list);
	FUZZ_CHECK(list == NULL, "free did not clear the pointer");
	free(text);
	return 0;
}
