/* libFuzzer target: the decision (SPEC §4) with random lists, client
   addresses and policy flags, against an independent oracle.

   The oracle follows the SPEC, not the code: it splits the list itself,
   parses each entry with ipallow_prefix_parse() (the one primitive both
   share), applies the limits, on_invalid and the decision order, and
   answers "inside the list" with a linear scan using
   ipallow_prefix_contains() over the parsed prefixes and the sets'
   prefixes. ipallow_check() goes through the checker's list cache, the
   list parser and the radix tree. Any difference in result or rule
   aborts.

   country: and asn: entries (SPEC 9.3) are answered by a fake database
   (fake_geo(): a hash of the address bytes, some addresses unknown) that
   the policies use instead of MaxMind files; the oracle parses those
   entries with its own reading of the grammar and asks the same
   function.

   Input layout:
     byte 0   bits 0-2: policy (mode, on_invalid, unknown_ip)
              bits 3-4: service (imap, submission, caldav, unknown)
              bit 5:    no list at all (field absent)
              bits 6-7: how the client address is made:
                0  raw: 1 byte (bit 0: IPv4) + 16 address bytes
                1  derived: 1 byte index into the list's prefixes (then
                   the sets' and the exempt networks'), 1 byte variant
                   (first, last, one before, one after, random inside),
                   16 bytes noise
                2  text up to '\n', through ipallow_addr_parse(); an
                   address that does not parse is "unknown"
                3  unknown (no client address)
     rest     the list text (NUL-terminated copy) */
#include <string.h>

#include "common.h"
#include "ipallow-cache.h"
#include "ipallow-decide.h"
#include "ipallow-policy.h"

#define POLICY_VARIANTS 8
#define ADDR_TEXT_MAX 64

static struct ipallow_policy *policies[POLICY_VARIANTS];
static struct ipallow_prefix_array exempt_prefixes;
static const char *const services[] = { "imap", "submission", "caldav", NULL };

/* SPEC §4: the default exempt networks */
#define DEFAULT_EXEMPT "10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, " \
	"fc00::/7, 127.0.0.0/8, ::1/128, 169.254.0.0/16, fe80::/10"
/* SPEC §5: the default exempt services */
static const char *const exempt_services[] = {
	"caldav", "carddav", "webdav", "dav", "radicale", "lmtp", "lda",
	"doveadm", "indexer-worker"
};

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
static int fake_lookup(void *context, const struct ipallow_addr *addr,
		       struct ipallow_geo_info *info_r);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	unsigned int i;

	(void)argc;
	(void)argv;
	fuzz_sets_init();
	fuzz_prefixes_from_text(DEFAULT_EXEMPT, &exempt_prefixes);
	for (i = 0; i < POLICY_VARIANTS; i++) {
		char yaml[512], *error = NULL;

		snprintf(yaml, sizeof(yaml),
			 "mode: %s\non_invalid: %s\nunknown_ip: %s\n%s",
			 (i & 1) != 0 ? "report" : "enforce",
			 (i & 2) != 0 ? "skip" : "deny",
			 (i & 4) != 0 ? "deny" : "exempt", FUZZ_SETS_YAML);
		FUZZ_CHECK(ipallow_policy_load_buffer((const unsigned char *)yaml,
			   strlen(yaml), "fuzz-decide.yaml", &policies[i],
			   &error) == 0, "fixture policy: %s", error);
		ipallow_policy_set_geoip(policies[i],
			ipallow_geoip_create_fake(fake_lookup, NULL, true,
						  true));
	}
	return 0;
}

/* The fake database: country AA..CC and AS 1..5 from a hash of the
   address, some addresses unknown to either. */
static void fake_geo(const struct ipallow_addr *addr,
		     struct ipallow_geo_info *info_r)
{
	unsigned int i, n = addr->family == IPALLOW_FAMILY_IPV4 ? 4 : 16;
	uint32_t h = 0;

	memset(info_r, 0, sizeof(*info_r));
	if (addr->family == IPALLOW_FAMILY_NONE)
		return;
	for (i = 0; i < n; i++)
		h = h * 31 + addr->bytes[i];
	if (h % 5 != 0)
		info_r->country = ((uint32_t)('A' + h % 3) << 8) |
			(uint32_t)('A' + (h / 3) % 3);
	if (h % 7 != 0)
		info_r->asn = 1 + h % 5;
}

static int fake_lookup(void *context, const struct ipallow_addr *addr,
		       struct ipallow_geo_info *info_r)
{
	(void)context;
	fake_geo(addr, info_r);
	return 0;
}

/* --- the oracle --- */

struct oracle_list {
	struct ipallow_prefix_array prefixes;
	/* one slot per entry the limit allows: a cap below that would
	   drop entries and make the oracle deny what the list allows */
	uint32_t countries[IPALLOW_LIST_DEFAULT_MAX_ENTRIES];
	uint32_t asns[IPALLOW_LIST_DEFAULT_MAX_ENTRIES];
	unsigned int countries_count, asns_count;
	const struct fuzz_set *sets[IPALLOW_LIST_DEFAULT_MAX_ENTRIES];
	unsigned int sets_count;
	unsigned int entries, valid, errors;
	bool over_limit;
};

static bool is_separator(char c)
{
	/* SPEC §3: commas and/or white space */
	return c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
		c == '\v' || c == '\f';
}

static bool starts_nocase(const char *s, size_t len, const char *prefix)
{
	size_t i, plen = strlen(prefix);

	if (len < plen)
		return false;
	for (i = 0; i < plen; i++) {
		char c = s[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != prefix[i])
			return false;
	}
	return true;
}

static bool letter(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* SPEC 9.3, read independently: "country:" + two ASCII letters (any
   case), "asn:" + 1..4294967295 in decimal without leading zeros; the
   prefixes in lower case. Returns 1 when s is such an entry and valid,
   0 when it is none, -1 when it is one but invalid. */
static int oracle_geo(struct oracle_list *ol, const char *s, size_t len)
{
	uint64_t n = 0;
	size_t i;

	if (starts_nocase(s, len, "country:")) {
		if (memcmp(s, "country:", 8) != 0 || len != 10 ||
		    !letter(s[8]) || !letter(s[9]))
			return -1;
		FUZZ_CHECK(ol->countries_count < IPALLOW_LIST_DEFAULT_MAX_ENTRIES,
			   "oracle: too many countries");
		ol->countries[ol->countries_count++] =
			((uint32_t)(s[8] & ~0x20) << 8) | (uint32_t)(s[9] & ~0x20);
		return 1;
	}
	if (!starts_nocase(s, len, "asn:"))
		return 0;
	if (memcmp(s, "asn:", 4) != 0 || len == 4 || len > 14 || s[4] == '0')
		return -1;
	for (i = 4; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		n = n * 10 + (uint64_t)(s[i] - '0');
	}
	if (n > 4294967295u)
		return -1;
	FUZZ_CHECK(ol->asns_count < IPALLOW_LIST_DEFAULT_MAX_ENTRIES,
		   "oracle: too many ASNs");
	ol->asns[ol->asns_count++] = (uint32_t)n;
	return 1;
}

static void oracle_parse(const char *text, struct oracle_list *ol)
{
	size_t len = strlen(text), pos = 0;

	memset(ol, 0, sizeof(*ol));
	if (len > IPALLOW_LIST_DEFAULT_MAX_BYTES) {
		ol->over_limit = true;
		return;
	}
	while (pos < len) {
		struct ipallow_prefix prefix;
		const char *error;
		size_t start;
		bool host_bits;
		int ret;

		while (pos < len && is_separator(text[pos]))
			pos++;
		if (pos == len)
			break;
		start = pos;
		while (pos < len && !is_separator(text[pos]))
			pos++;
		if (++ol->entries > IPALLOW_LIST_DEFAULT_MAX_ENTRIES) {
			ol->over_limit = true;
			return;
		}
		ret = oracle_geo(ol, text + start, pos - start);
		if (ret != 0) {
			if (ret < 0)
				ol->errors++;
			else
				ol->valid++;
			continue;
		}
		if (text[start] == '@') {
			const struct fuzz_set *set =
				fuzz_set_find(text + start + 1, pos - start - 1);

			if (set == NULL) {
				ol->errors++;
			} else {
				ol->valid++;
				FUZZ_CHECK(ol->sets_count <
					   IPALLOW_LIST_DEFAULT_MAX_ENTRIES,
					   "oracle: too many sets");
				ol->sets[ol->sets_count++] = set;
			}
			continue;
		}
		ret = ipallow_prefix_parse(text + start, pos - start, &prefix,
					   &host_bits, &error);
		FUZZ_CHECK(ret != -2, "out of memory");
		if (ret < 0) {
			ol->errors++;
			continue;
		}
		ol->valid++;
		FUZZ_CHECK(ipallow_prefix_array_add(&ol->prefixes, &prefix) == 0,
			   "out of memory");
	}
}

static bool oracle_inside(const struct oracle_list *ol,
			  const struct ipallow_addr *addr)
{
	struct ipallow_geo_info info;
	unsigned int i;

	if (fuzz_brute_contains(ol->prefixes.prefixes, ol->prefixes.count, addr))
		return true;
	fake_geo(addr, &info);
	for (i = 0; i < ol->countries_count; i++) {
		if (info.country != 0 && info.country == ol->countries[i])
			return true;
	}
	for (i = 0; i < ol->asns_count; i++) {
		if (info.asn != 0 && info.asn == ol->asns[i])
			return true;
	}
	for (i = 0; i < ol->sets_count; i++) {
		if (fuzz_brute_contains(ol->sets[i]->prefixes.prefixes,
					ol->sets[i]->prefixes.count, addr))
			return true;
	}
	return false;
}

static bool list_blank(const char *text)
{
	for (; *text != '\0'; text++) {
		if (!is_separator(*text))
			return false;
	}
	return true;
}

struct expect {
	enum ipallow_result result;
	enum ipallow_rule rule;
};

static struct expect deny(unsigned int variant, enum ipallow_rule rule)
{
	struct expect e;

	e.result = (variant & 1) != 0 ? IPALLOW_RESULT_REPORT :
		IPALLOW_RESULT_DENY;
	e.rule = rule;
	return e;
}

static struct expect settle(enum ipallow_result result, enum ipallow_rule rule)
{
	struct expect e;

	e.result = result;
	e.rule = rule;
	return e;
}

static struct expect oracle_decide(unsigned int variant, const char *service,
				   const char *list_text,
				   const struct oracle_list *ol,
				   const struct ipallow_addr *addr)
{
	bool on_invalid_skip = (variant & 2) != 0;
	bool unknown_ip_deny = (variant & 4) != 0;
	unsigned int i;

	/* 1. service exempt */
	for (i = 0; service != NULL &&
		     i < sizeof(exempt_services) / sizeof(exempt_services[0]); i++) {
		if (strcmp(service, exempt_services[i]) == 0)
			return settle(IPALLOW_RESULT_EXEMPT,
				      IPALLOW_RULE_EXEMPT_SERVICE);
	}
	/* 2. no list */
	if (list_text == NULL || list_blank(list_text))
		return settle(IPALLOW_RESULT_UNRESTRICTED, IPALLOW_RULE_NO_LIST);
	/* 3. client IP unknown */
	if (addr->family == IPALLOW_FAMILY_NONE) {
		return unknown_ip_deny ? deny(variant, IPALLOW_RULE_UNKNOWN_IP) :
			settle(IPALLOW_RESULT_EXEMPT, IPALLOW_RULE_UNKNOWN_IP);
	}
	/* 4. exempt network */
	if (fuzz_brute_contains(exempt_prefixes.prefixes, exempt_prefixes.count,
				addr))
		return settle(IPALLOW_RESULT_EXEMPT, IPALLOW_RULE_EXEMPT_NETWORK);
	/* 5. invalid list: on_invalid; over the limits always denies, and
	   so does a skipped list with nothing valid left */
	if (ol->over_limit || (ol->errors > 0 &&
			       (!on_invalid_skip || ol->valid == 0)))
		return deny(variant, IPALLOW_RULE_INVALID_LIST);
	/* 6. and 7. */
	if (oracle_inside(ol, addr))
		return settle(IPALLOW_RESULT_ALLOW, IPALLOW_RULE_IN_LIST);
	return deny(variant, IPALLOW_RULE_NOT_IN_LIST);
}

/* --- the harness --- */

static void check_one(struct ipallow_checker *checker, unsigned int variant,
		      const char *service, const char *list_text,
		      const struct ipallow_addr *addr)
{
	struct ipallow_login req;
	struct ipallow_decision dec;
	struct oracle_list ol;
	struct expect want;
	char buf[IPALLOW_ADDR_STRLEN];
	bool goes_on;

	memset(&ol, 0, sizeof(ol));
	if (list_text != NULL)
		oracle_parse(list_text, &ol);
	want = oracle_decide(variant, service, list_text, &ol, addr);

	memset(&req, 0, sizeof(req));
	req.service = service;
	req.list_text = list_text;
	req.client_ip = *addr;
	goes_on = ipallow_check(checker, &req, &dec);

	FUZZ_CHECK(dec.result == want.result && dec.rule == want.rule,
		   "policy %u, service %s, ip %s, list \"%.200s\": got %s (%s), "
		   "want %s (%s)", variant, service != NULL ? service : "(none)",
		   ipallow_addr_to_str(addr, buf),
		   list_text != NULL ? list_text : "(absent)",
		   ipallow_result_to_string(dec.result),
		   ipallow_rule_to_string(dec.rule),
		   ipallow_result_to_string(want.result),
		   ipallow_rule_to_string(want.rule));
	FUZZ_CHECK(goes_on == (dec.result != IPALLOW_RESULT_DENY),
		   "decide returned %d for %s", goes_on,
		   ipallow_result_to_string(dec.result));
	if ((want.rule == IPALLOW_RULE_INVALID_LIST ||
	     want.rule == IPALLOW_RULE_IN_LIST ||
	     want.rule == IPALLOW_RULE_NOT_IN_LIST) && !ol.over_limit) {
		FUZZ_CHECK(dec.error_count == ol.errors,
			   "list \"%.200s\": %u errors, oracle %u", list_text,
			   dec.error_count, ol.errors);
		FUZZ_CHECK(dec.nothing_valid == (ol.errors > 0 && ol.valid == 0 &&
						 (variant & 2) != 0),
			   "nothing_valid");
	}
	ipallow_prefix_array_free(&ol.prefixes);
}

/* The address as ::ffff:a.b.c.d text must be the same client. */
static void check_mapped_text(const struct ipallow_addr *addr)
{
	struct ipallow_addr mapped;
	const char *error = NULL;
	char text[64];

	if (addr->family != IPALLOW_FAMILY_IPV4)
		return;
	snprintf(text, sizeof(text), "::ffff:%u.%u.%u.%u", addr->bytes[0],
		 addr->bytes[1], addr->bytes[2], addr->bytes[3]);
	FUZZ_CHECK(ipallow_addr_parse(text, &mapped, &error) == 0 &&
		   ipallow_addr_equals(addr, &mapped),
		   "%s is not the IPv4 client it maps (%s)", text,
		   error != NULL ? error : "different address");
}

/* The prefix at index k of the list's prefixes, the sets' and the
   exempt networks', in that order. */
static const struct ipallow_prefix *pool_prefix(const struct oracle_list *ol,
						unsigned int k)
{
	size_t total = ol->prefixes.count + exempt_prefixes.count, i;

	for (i = 0; i < FUZZ_SETS_COUNT; i++)
		total += fuzz_sets[i].prefixes.count;
	k %= (unsigned int)total;
	if (k < ol->prefixes.count)
		return &ol->prefixes.prefixes[k];
	k -= (unsigned int)ol->prefixes.count;
	for (i = 0; i < FUZZ_SETS_COUNT; i++) {
		if (k < fuzz_sets[i].prefixes.count)
			return &fuzz_sets[i].prefixes.prefixes[k];
		k -= (unsigned int)fuzz_sets[i].prefixes.count;
	}
	return &exempt_prefixes.prefixes[k];
}

static void derive_addr(const struct ipallow_prefix *prefix, uint8_t variant,
			const uint8_t noise[16], struct ipallow_addr *addr_r)
{
	struct ipallow_addr a;

	switch (variant % 5) {
	case 0:
		fuzz_prefix_first(prefix, addr_r);
		break;
	case 1:
		fuzz_prefix_last(prefix, addr_r);
		break;
	case 2:
		fuzz_prefix_first(prefix, &a);
		fuzz_addr_step(&a, -1, addr_r);
		break;
	case 3:
		fuzz_prefix_last(prefix, &a);
		fuzz_addr_step(&a, +1, addr_r);
		break;
	default:
		fuzz_prefix_inside(prefix, noise, addr_r);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_reader r = { data, size };
	uint8_t flags = fuzz_byte(&r), addr_mode = flags >> 6;
	unsigned int variant = flags & 7;
	const char *service = services[(flags >> 3) & 3];
	bool absent = (flags & 0x20) != 0;
	const struct ipallow_policy *policy = policies[variant];
	struct ipallow_checker *checker;
	struct ipallow_addr addr, addr2;
	struct oracle_list ol;
	uint8_t raw[16], kind = 0, index = 0, how = 0;
	char addr_text[ADDR_TEXT_MAX + 1] = "", *list_text, *variant_text;
	size_t len;

	switch (addr_mode) {
	case 0:
		kind = fuzz_byte(&r);
		fuzz_bytes(&r, raw, sizeof(raw));
		break;
	case 1:
		index = fuzz_byte(&r);
		how = fuzz_byte(&r);
		fuzz_bytes(&r, raw, sizeof(raw));
		break;
	case 2:
		for (len = 0; r.size > 0 && r.data[0] != '\n' &&
			     len < ADDR_TEXT_MAX; len++)
			addr_text[len] = (char)fuzz_byte(&r);
		addr_text[len] = '\0';
		(void)fuzz_byte(&r);	/* the '\n' */
		break;
	default:
		break;
	}
	list_text = fuzz_strndup(r.data, r.size);

	/* a fresh two-entry cache, so that every input starts alike and the
	   few decisions below see misses, hits and evictions */
	FUZZ_CHECK(ipallow_checker_create_sized(policy, 2, 1024 * 1024,
						&checker) == 0, "out of memory");

	oracle_parse(list_text, &ol);
	switch (addr_mode) {
	case 0:
		fuzz_addr_from_bytes((kind & 1) != 0, raw, &addr);
		break;
	case 1:
		derive_addr(pool_prefix(&ol, index), how, raw, &addr);
		break;
	case 2: {
		const char *error;

		if (ipallow_addr_parse(addr_text, &addr, &error) < 0)
			ipallow_addr_set_none(&addr);
		break;
	}
	default:
		ipallow_addr_set_none(&addr);
		break;
	}
	check_mapped_text(&addr);
	/* a second client: the first address of the next prefix */
	fuzz_prefix_first(pool_prefix(&ol, (unsigned int)index + 1), &addr2);
	ipallow_prefix_array_free(&ol.prefixes);

	check_one(checker, variant, service, absent ? NULL : list_text, &addr);
	check_one(checker, variant, service, absent ? NULL : list_text, &addr2);
	/* the same text again is a cache hit and must not change anything */
	check_one(checker, variant, service, absent ? NULL : list_text, &addr);
	/* a trailing separator changes the key, never the meaning (unless it
	   crosses the byte limit, which the oracle knows) */
	len = strlen(list_text);
	variant_text = malloc(len + 2);
	FUZZ_CHECK(variant_text != NULL, "out of memory");
	memcpy(variant_text, list_text, len);
	memcpy(variant_text + len, ",", 2);
	check_one(checker, variant, service, variant_text, &addr);
	check_one(checker, variant, service, list_text, &addr2);
	check_one(checker, variant, service, variant_text, &addr2);

	ipallow_checker_free(&checker);
	free(variant_text);
	free(list_text);
	return 0;
}
