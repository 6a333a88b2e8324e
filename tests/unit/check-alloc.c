/* Failure injection through the allocation seam: for N = 1, 2, 3, ...
   the Nth allocation (and every later one) fails, until the operation
   gets through. Each failure must be the documented one (-1, NULL
   outputs, deny with rule internal_error), never a success-looking
   partial result; each success must equal the result without injection.
   Leaks on these paths are caught by ASan in `make check-sanitizers`. */
#include "test-common.h"
#include "ipallow-alloc.h"
#include "ipallow-cache.h"
#include "ipallow-decide.h"

/* No operation here needs anywhere near this many allocations. */
#define MAX_COUNTDOWN 100000

static void inject(unsigned long n)
{
	ipallow_alloc_fail_countdown = n;
}

/* Turns injection off and tells whether it was used up (the operation
   reached the failing allocation). */
static bool inject_end(void)
{
	bool hit = ipallow_alloc_fail_countdown == 1;

	ipallow_alloc_fail_countdown = 0;
	return hit;
}

START_TEST(test_alloc_seam)
{
	void *p;

	inject(1);
	errno = 0;
	ck_assert(ipallow_malloc(10) == NULL);
	ck_assert_int_eq(errno, ENOMEM);
	ck_assert(ipallow_calloc(1, 10) == NULL);
	ck_assert(ipallow_strdup("x") == NULL);
	ck_assert(ipallow_realloc(NULL, 10) == NULL);
	ck_assert(inject_end());

	inject(3);
	p = ipallow_malloc(10);
	ck_assert(p != NULL);
	ipallow_free(p);
	p = ipallow_calloc(0, 0);
	ck_assert(p != NULL);
	ipallow_free(p);
	ck_assert(ipallow_strndup("abc", 2) == NULL);
	ck_assert(ipallow_malloc(1) == NULL);
	ck_assert(inject_end());

	/* overflow fails without consuming the countdown */
	errno = 0;
	ck_assert(ipallow_reallocarray(NULL, SIZE_MAX / 2 + 1, 2) == NULL);
	ck_assert_int_eq(errno, ENOMEM);
	p = ipallow_reallocarray(NULL, 0, 8);
	ck_assert(p != NULL);
	ipallow_free(p);
	p = ipallow_strndup("abcdef", 3);
	ck_assert_str_eq(p, "abc");
	ipallow_free(p);
}
END_TEST

/* --- list parse --- */

static struct ipallow_set *office;
static struct ipallow_set *sets[1];

static void sets_setup(void)
{
	struct ipallow_prefix_array arr = { NULL, 0, 0 };
	struct ipallow_prefix prefix;
	const char *error;
	bool host_bits;

	ck_assert(ipallow_prefix_parse("203.0.113.0/24", 14, &prefix,
				       &host_bits, &error) == 0);
	ck_assert(ipallow_prefix_array_add(&arr, &prefix) == 0);
	ck_assert(ipallow_set_create("office", &arr, &office) == 0);
	sets[0] = office;
}

static void sets_teardown(void)
{
	ipallow_set_free(&office);
}

static const struct list_alloc_case {
	const char *text;
	bool skip_normalised;
	unsigned int max_entries;
} list_alloc_cases[] = {
	{ "", false, 1024 },
	{ "198.51.100.7", false, 1024 },
	{ "198.51.100.7", true, 1024 },
	{ "198.51.100.0/24, 2001:db8::/32 @office 10.1.2.3/8 ::ffff:1.2.3.0/120 "
	  "@office fe80::1/10", false, 1024 },
	{ "198.51.100.0/24, 2001:db8::/32 @office 10/8 @nope x y 1.2.3.4/24",
	  false, 1024 },
	{ "198.51.100.0/24, 2001:db8::/32 @office 10/8 @nope x y 1.2.3.4/24",
	  true, 1024 },
	{ "x x x x x x x x x x x x x x x x x x x x 1.1.1.1/8 1.1.1.1/8", false,
	  1024 },
	{ "1.1.1.1 2.2.2.2 3.3.3.3", false, 2 },
	/* country: and asn: entries (the context has both databases) */
	{ "country:de asn:64496 192.0.2.0/24 country:AT asn:1 asn:64496 "
	  "country:DE @office", false, 1024 },
	{ "country:de asn:0 country:DEU 192.0.2.0/24", true, 1024 },
};

START_TEST(test_alloc_list_parse)
{
	const struct list_alloc_case *c = &list_alloc_cases[_i];
	struct ipallow_parse_ctx ctx;
	struct ipallow_list *ref, *list;
	int ref_ret, ret;
	unsigned int flags = c->skip_normalised ?
		IPALLOW_LIST_PARSE_SKIP_NORMALISED : 0;
	unsigned long n;

	memset(&ctx, 0, sizeof(ctx));
	ctx.limits.max_entries = c->max_entries;
	ctx.limits.max_bytes = 65536;
	ctx.sets = sets;
	ctx.sets_count = 1;
	ctx.have_country_db = true;
	ctx.have_asn_db = true;
	ref_ret = ipallow_list_parse_flags(c->text, &ctx, flags, &ref);
	ck_assert(ref_ret >= 0);

	for (n = 1; n < MAX_COUNTDOWN; n++) {
		list = (void *)1;
		inject(n);
		ret = ipallow_list_parse_flags(c->text, &ctx, flags, &list);
		inject_end();
		if (ret < 0) {
			ck_assert_msg(ret == -1 && list == NULL,
				      "case %d: \"%s\": N=%lu: returned %d, list %p",
				      _i, c->text, n, ret, (void *)list);
			continue;
		}
		/* got through: the whole result, equal to the reference */
		ck_assert_msg(ret == ref_ret && list != NULL,
			      "case %d: \"%s\": N=%lu: returned %d", _i, c->text,
			      n, ret);
		ck_assert_msg(list->entry_count == ref->entry_count &&
			      list->valid_count == ref->valid_count &&
			      list->error_count == ref->error_count &&
			      list->warning_count == ref->warning_count &&
			      list->sets_count == ref->sets_count &&
			      list->over_limit == ref->over_limit &&
			      ipallow_radix_prefix_count(list->radix) ==
			      ipallow_radix_prefix_count(ref->radix),
			      "case %d: \"%s\": N=%lu: partial list", _i, c->text, n);
		ck_assert_msg((list->normalised == NULL) == (ref->normalised == NULL) &&
			      (list->normalised == NULL ||
			       strcmp(list->normalised, ref->normalised) == 0),
			      "case %d: N=%lu: normalised differs", _i, n);
		ipallow_list_free(&list);
		break;
	}
	ck_assert_msg(n > 1 || ref->entry_count == 0,
		      "case %d: no allocation failed", _i);
	ck_assert(n < MAX_COUNTDOWN);
	ipallow_list_free(&ref);
}
END_TEST

/* --- radix build --- */

static size_t random_prefixes(struct ipallow_prefix *arr, size_t count,
			      uint64_t seed)
{
	uint64_t state = seed;
	size_t i;

	for (i = 0; i < count; i++) {
		uint64_t r = test_rand(&state), r2 = test_rand(&state);

		memset(&arr[i], 0, sizeof(arr[i]));
		if (r % 3 == 0) {
			arr[i].addr.family = IPALLOW_FAMILY_IPV6;
			memcpy(arr[i].addr.bytes, &r2, 8);
			memcpy(arr[i].addr.bytes + 8, &r, 8);
			arr[i].len = 16 + (unsigned int)(r >> 40) % 113;
		} else {
			arr[i].addr.family = IPALLOW_FAMILY_IPV4;
			memcpy(arr[i].addr.bytes, &r2, 4);
			arr[i].len = 8 + (unsigned int)(r >> 40) % 25;
		}
		ipallow_prefix_normalise(&arr[i]);
	}
	return count;
}

static const size_t radix_alloc_counts[] = { 0, 1, 40, 600, 9000 };

START_TEST(test_alloc_radix_build)
{
	size_t count = radix_alloc_counts[_i];
	struct ipallow_prefix *prefixes = calloc(count + 1, sizeof(*prefixes));
	struct ipallow_radix *ref, *radix;
	uint64_t state = 99;
	unsigned long n;
	size_t i;
	int ret;

	ck_assert(prefixes != NULL);
	random_prefixes(prefixes, count, 4711 + _i);
	ck_assert(ipallow_radix_build(prefixes, count, &ref) == 0);
	for (n = 1; n < MAX_COUNTDOWN; n++) {
		radix = (void *)1;
		inject(n);
		ret = ipallow_radix_build(prefixes, count, &radix);
		inject_end();
		if (ret < 0) {
			ck_assert_msg(ret == -1 && radix == NULL,
				      "%zu prefixes: N=%lu: returned %d", count,
				      n, ret);
			continue;
		}
		ck_assert_int_eq(ret, 0);
		ck_assert_uint_eq(ipallow_radix_prefix_count(radix),
				  ipallow_radix_prefix_count(ref));
		/* the same answers as the tree built without injection */
		for (i = 0; i < 20000; i++) {
			uint64_t r = test_rand(&state);
			struct ipallow_addr addr;

			memset(&addr, 0, sizeof(addr));
			if (i < count) {
				addr = prefixes[i].addr;
			} else {
				addr.family = r % 2 ? IPALLOW_FAMILY_IPV4 :
					IPALLOW_FAMILY_IPV6;
				memcpy(addr.bytes, &r, 8);
			}
			ck_assert_msg(ipallow_radix_lookup(radix, &addr) ==
				      ipallow_radix_lookup(ref, &addr),
				      "%zu prefixes: N=%lu: lookup %zu differs",
				      count, n, i);
		}
		ipallow_radix_free(&radix);
		break;
	}
	ck_assert(n > 1 && n < MAX_COUNTDOWN);
	ipallow_radix_free(&ref);
	free(prefixes);
}
END_TEST

/* --- policy load --- */

static char tmpdir[256];

static void files_setup(void)
{
	test_tmpdir(tmpdir, sizeof(tmpdir));
	test_write_file(tmpdir, "partners.nets",
			"# partners\n203.0.113.0/24\n2001:db8::/32 # v6\n\n"
			"198.51.100.7\n", (size_t)-1, NULL, 0);
	test_write_file(tmpdir, "geo.nets", "country:FR\n198.51.100.0/24\n"
			"asn:64501\n", (size_t)-1, NULL, 0);
	{
		char cmd[1024];

		/* country.mmdb, asn.mmdb (SPEC 9.3 databases) */
		snprintf(cmd, sizeof(cmd), "perl '%s' '%s'", MAKE_MMDB, tmpdir);
		ck_assert_msg(system(cmd) == 0, "%s failed", cmd);
	}
}

static void files_teardown(void)
{
	test_tmpdir_remove(tmpdir);
}

static const struct policy_alloc_case {
	const char *yaml;
	const char *error;	/* the error without injection, or NULL */
} policy_alloc_cases[] = {
	{ "", NULL },
	{ "field: nets\nmode: report\nreject_reason: \"Go away.\"\n"
	  "unknown_ip: deny\non_invalid: skip\n"
	  "limits: { entries: 10, bytes: 2000 }\n"
	  "exempt:\n  networks: [private, loopback, 192.0.2.0/24, \"2001:db8::/48\"]\n"
	  "  services: [caldav, carddav, sieve]\n"
	  "sets:\n  office: [203.0.113.0/24, \"2001:db8:100::/48\"]\n"
	  "  partners: { file: partners.nets }\n"
	  "  more: [1.2.3.4, 5.6.7.8, 9.10.11.12, 13.14.15.16, 17.18.19.20, "
	  "21.22.23.24, 25.26.27.28, 29.30.31.32, 33.34.35.36]\n", NULL },
	/* errors: under injection either out of memory (no message) or
	   this very message, nothing else */
	{ "mode: enforce\nsets:\n  a: [1.2.3.4]\nfoo: 1\n",
	  "policy.yaml:4:1: unknown key 'foo' in the policy" },
	{ "sets:\n  a: [1.2.3.4]\n  b: { file: missing.nets }\n",
	  "policy.yaml:3:14: set 'b': DIR/missing.nets: No such file or directory" },
	{ "mode: &x enforce\nfield: *x\n",
	  "policy.yaml:2:8: YAML aliases are not allowed" },
	/* SPEC 9.3, 9.4: databases, country and ASN entries in inline and
	   file sets, domain defaults */
	{ "geoip: { country_db: country.mmdb, asn_db: asn.mmdb }\n"
	  "sets:\n  eu: [\"country:DE\", asn:64500, 192.0.2.0/24]\n"
	  "  f: { file: geo.nets }\n"
	  "domains:\n  example.com: \"@eu, @f, country:AT\"\n"
	  "  \"*\": \"asn:64496, 2001:db8::/32\"\n", NULL },
	{ "domains:\n  example.com: \"192.0.2.0/24\"\n  x.example: \"10/8\"\n",
	  "policy.yaml:3:14: domains.x.example: entry 1 \"10/8\": IPv4 "
	  "shorthand is not allowed" },
	{ "geoip: { country_db: missing.mmdb }\n",
	  "policy.yaml:1:22: geoip.country_db: DIR/missing.mmdb: No such "
	  "file or directory" },
};

START_TEST(test_alloc_policy_load)
{
	const struct policy_alloc_case *c = &policy_alloc_cases[_i];
	char name[512], want[1024], *error;
	struct ipallow_policy *ref = NULL, *policy;
	unsigned long n;
	int ref_ret, ret;

	snprintf(name, sizeof(name), "%s/policy.yaml", tmpdir);
	if (c->error != NULL) {
		const char *dir = strstr(c->error, "DIR");

		/* file:line:col with the file as we name it */
		if (dir != NULL)
			snprintf(want, sizeof(want), "%s/%.*s%s/%s", tmpdir,
				 (int)(dir - c->error), c->error, tmpdir,
				 dir + 4);
		else
			snprintf(want, sizeof(want), "%s/%s", tmpdir, c->error);
	}
	ref_ret = ipallow_policy_load_buffer((const unsigned char *)c->yaml,
					     strlen(c->yaml), name, &ref, &error);
	if (c->error == NULL) {
		ck_assert_msg(ref_ret == 0, "case %d: %s", _i, error);
	} else {
		ck_assert_msg(ref_ret == -1 && strcmp(error, want) == 0,
			      "case %d: error '%s'", _i, error);
		free(error);
	}

	for (n = 1; n < MAX_COUNTDOWN; n++) {
		policy = (void *)1;
		error = (void *)1;
		inject(n);
		ret = ipallow_policy_load_buffer((const unsigned char *)c->yaml,
						 strlen(c->yaml), name, &policy,
						 &error);
		inject_end();
		if (ret < 0) {
			ck_assert_msg(ret == -1 && policy == NULL,
				      "case %d: N=%lu: returned %d", _i, n, ret);
			if (error == NULL)
				continue;	/* out of memory */
			/* a real configuration error, only when there is one */
			ck_assert_msg(c->error != NULL && strcmp(error, want) == 0,
				      "case %d: N=%lu: error '%s'", _i, n, error);
			free(error);
			break;
		}
		ck_assert_msg(c->error == NULL, "case %d: N=%lu: loaded", _i, n);
		ck_assert(error == NULL && policy != NULL);
		/* a whole policy */
		ck_assert_str_eq(policy->field, ref->field);
		ck_assert_str_eq(policy->reject_reason, ref->reject_reason);
		ck_assert_str_eq(policy->path, ref->path);
		ck_assert_int_eq(policy->mode, ref->mode);
		ck_assert_uint_eq(policy->sets_count, ref->sets_count);
		ck_assert_uint_eq(policy->domains_count, ref->domains_count);
		ck_assert_int_eq(policy->geoip != NULL, ref->geoip != NULL);
		for (unsigned int i = 0; i < policy->sets_count; i++) {
			ck_assert_uint_eq(policy->sets[i]->geo.countries_count,
					  ref->sets[i]->geo.countries_count);
			ck_assert_uint_eq(policy->sets[i]->geo.asns_count,
					  ref->sets[i]->geo.asns_count);
		}
		ck_assert_uint_eq(policy->exempt_services_count,
				  ref->exempt_services_count);
		ck_assert_uint_eq(ipallow_radix_prefix_count(policy->exempt_networks),
				  ipallow_radix_prefix_count(ref->exempt_networks));
		for (unsigned int i = 0; i < policy->sets_count; i++)
			ck_assert_uint_eq(ipallow_radix_prefix_count(policy->sets[i]->radix),
					  ipallow_radix_prefix_count(ref->sets[i]->radix));
		ipallow_policy_free(&policy);
		break;
	}
	ck_assert(n > 1 && n < MAX_COUNTDOWN);
	ipallow_policy_free(&ref);
}
END_TEST

START_TEST(test_alloc_policy_file)
{
	char path[512], *error;
	struct ipallow_policy *policy;
	unsigned long n;
	int ret;

	test_write_file(tmpdir, "policy.yaml",
			"sets:\n  partners: { file: partners.nets }\n",
			(size_t)-1, path, sizeof(path));
	for (n = 1; n < MAX_COUNTDOWN; n++) {
		inject(n);
		ret = ipallow_policy_load(path, &policy, &error);
		inject_end();
		if (ret == 0)
			break;
		ck_assert_msg(ret == -1 && policy == NULL && error == NULL,
			      "N=%lu: %d '%s'", n, ret, error);
	}
	ck_assert(n > 1 && n < MAX_COUNTDOWN);
	ck_assert_uint_eq(policy->sets[0]->prefix_count, 3);
	ipallow_policy_free(&policy);

	/* a missing policy file gives the defaults, or fails */
	snprintf(path, sizeof(path), "%s/missing.yaml", tmpdir);
	for (n = 1; n < MAX_COUNTDOWN; n++) {
		inject(n);
		ret = ipallow_policy_load(path, &policy, &error);
		inject_end();
		if (ret == 0)
			break;
		ck_assert_msg(ret == -1 && policy == NULL && error == NULL,
			      "N=%lu: %d '%s'", n, ret, error);
	}
	ck_assert(n > 1 && n < MAX_COUNTDOWN);
	ck_assert(policy->file_missing);
	ck_assert_str_eq(policy->path, path);
	ipallow_policy_free(&policy);

	for (n = 1; n < MAX_COUNTDOWN; n++) {
		inject(n);
		ret = ipallow_policy_defaults(&policy);
		inject_end();
		if (ret == 0)
			break;
		ck_assert_msg(ret == -1 && policy == NULL, "N=%lu", n);
	}
	ck_assert(n > 1 && n < MAX_COUNTDOWN);
	ipallow_policy_free(&policy);
}
END_TEST

START_TEST(test_alloc_set_file)
{
	struct ipallow_prefix_array arr = { NULL, 0, 0 };
	char path[512], *error;
	unsigned long n;
	int ret;

	snprintf(path, sizeof(path), "%s/partners.nets", tmpdir);
	for (n = 1; n < MAX_COUNTDOWN; n++) {
		inject(n);
		ret = ipallow_set_file_read(path, &arr, &error);
		inject_end();
		if (ret == 0)
			break;
		ck_assert_msg(ret == -1 && error == NULL, "N=%lu: '%s'", n, error);
		ipallow_prefix_array_free(&arr);
	}
	ck_assert(n > 1 && n < MAX_COUNTDOWN);
	ck_assert_uint_eq(arr.count, 3);
	ipallow_prefix_array_free(&arr);

	/* the error message itself needs memory: then no message */
	test_write_file(tmpdir, "bad.nets", "1.2.3.4\n10/8\n", (size_t)-1,
			path, sizeof(path));
	for (n = 1; n < MAX_COUNTDOWN; n++) {
		inject(n);
		ret = ipallow_set_file_read(path, &arr, &error);
		inject_end();
		ck_assert_int_eq(ret, -1);
		ipallow_prefix_array_free(&arr);
		if (error != NULL)
			break;
	}
	ck_assert(n > 1 && n < MAX_COUNTDOWN);
	ck_assert(strstr(error, "bad.nets:2:1: \"10/8\": IPv4 shorthand") != NULL);
	free(error);
}
END_TEST

/* --- cache and decision --- */

START_TEST(test_alloc_cache)
{
	struct ipallow_parse_ctx ctx;
	struct ipallow_cache *cache;
	struct ipallow_cache_stats before, after;
	const struct ipallow_list *list, *kept;
	struct ipallow_addr addr = test_addr("2001:db8::1");
	unsigned long n;
	int ret;

	memset(&ctx, 0, sizeof(ctx));
	ctx.limits.max_entries = 1024;
	ctx.limits.max_bytes = 65536;

	for (n = 1; n < MAX_COUNTDOWN; n++) {
		inject(n);
		cache = ipallow_cache_create(2, 1024 * 1024);
		inject_end();
		if (cache != NULL)
			break;
	}
	ck_assert(n > 1 && n < MAX_COUNTDOWN);

	ck_assert_int_eq(ipallow_cache_get(cache, "198.51.100.7", &ctx, &kept), 1);
	for (n = 1; n < MAX_COUNTDOWN; n++) {
		const char *text = "2001:db8::/32 10/8 x";

		ipallow_cache_get_stats(cache, &before);
		list = (void *)1;
		inject(n);
		ret = ipallow_cache_get(cache, text, &ctx, &list);
		inject_end();
		ipallow_cache_get_stats(cache, &after);
		if (ret < 0) {
			ck_assert_msg(ret == -1 && list == NULL, "N=%lu", n);
			/* nothing half-inserted, nothing evicted */
			ck_assert_uint_eq(after.entries, before.entries);
			ck_assert_uint_eq(after.bytes, before.bytes);
			ck_assert_uint_eq(after.evictions, before.evictions);
			continue;
		}
		ck_assert_int_eq(ret, 0);
		ck_assert_uint_eq(list->error_count, 2);
		ck_assert(ipallow_list_lookup(list, &addr));
		break;
	}
	ck_assert(n > 1 && n < MAX_COUNTDOWN);
	/* the cache still works and still has the first list */
	ck_assert_int_eq(ipallow_cache_get(cache, "198.51.100.7", &ctx, &list), 1);
	ck_assert(list == kept);
	ipallow_cache_get_stats(cache, &after);
	ck_assert_uint_eq(after.entries, 2);
	ipallow_cache_free(&cache);
}
END_TEST

static const struct decide_alloc_case {
	const char *list;
	const char *ip;
	enum ipallow_result result;
	enum ipallow_rule rule;
} decide_alloc_cases[] = {
	{ "198.51.100.0/24, 2001:db8::/32", "198.51.100.7", IPALLOW_RESULT_ALLOW,
	  IPALLOW_RULE_IN_LIST },
	{ "198.51.100.0/24, 2001:db8::/32", "203.0.113.1", IPALLOW_RESULT_DENY,
	  IPALLOW_RULE_NOT_IN_LIST },
	{ "198.51.100.0/24 10/8", "198.51.100.7", IPALLOW_RESULT_DENY,
	  IPALLOW_RULE_INVALID_LIST },
	{ "@partners 198.51.100.7/24", "203.0.113.1", IPALLOW_RESULT_ALLOW,
	  IPALLOW_RULE_IN_LIST },
};

/* A checker that cannot be made is NULL, never half made; and a NULL
   checker (what an adapter keeps when the policy did not load) denies. */
START_TEST(test_alloc_checker)
{
	struct ipallow_policy *policy;
	struct ipallow_checker *checker;
	struct ipallow_login req;
	struct ipallow_decision dec;
	unsigned long n;
	int ret;

	ck_assert(ipallow_policy_defaults(&policy) == 0);
	for (n = 1; n < MAX_COUNTDOWN; n++) {
		checker = (void *)1;
		inject(n);
		ret = ipallow_checker_create(policy, &checker);
		inject_end();
		if (ret == 0)
			break;
		ck_assert_msg(ret == -1 && checker == NULL,
			      "N=%lu: failed with %d, checker %p", n, ret,
			      (void *)checker);
		memset(&req, 0, sizeof(req));
		req.service = "imap";
		req.list_text = "192.0.2.1";
		req.client_ip = test_addr("198.51.100.7");
		ck_assert(!ipallow_check(checker, &req, &dec));
		ck_assert_int_eq(dec.rule, IPALLOW_RULE_NO_POLICY);
	}
	ck_assert(n > 1 && n < MAX_COUNTDOWN);
	ck_assert(ipallow_checker_policy(checker) == policy);
	ipallow_checker_free(&checker);
	ck_assert(checker == NULL);
	ipallow_policy_free(&policy);
}
END_TEST

START_TEST(test_alloc_decide)
{
	const struct decide_alloc_case *c = &decide_alloc_cases[_i];
	static const char yaml[] = "sets:\n  partners: [203.0.113.0/24]\n";
	struct ipallow_policy *policy;
	struct ipallow_checker *checker;
	struct ipallow_login req;
	struct ipallow_decision dec;
	unsigned long n;
	char *error;
	bool goes_on;

	memset(&req, 0, sizeof(req));
	req.service = "imap";
	req.list_text = c->list;
	req.client_ip = test_addr(c->ip);
	for (n = 1; n < MAX_COUNTDOWN; n++) {
		/* a fresh checker each time: an empty cache */
		ck_assert(ipallow_policy_load_buffer((const unsigned char *)yaml,
						     strlen(yaml), "p.yaml",
						     &policy, &error) == 0);
		ck_assert(ipallow_checker_create(policy, &checker) == 0);
		inject(n);
		goes_on = ipallow_check(checker, &req, &dec);
		inject_end();
		ipallow_checker_free(&checker);
		ipallow_policy_free(&policy);
		if (dec.rule == IPALLOW_RULE_INTERNAL_ERROR) {
			/* out of memory: fail closed */
			ck_assert_msg(!goes_on && dec.result == IPALLOW_RESULT_DENY,
				      "case %d: N=%lu: internal error lets the "
				      "login go on", _i, n);
			continue;
		}
		ck_assert_msg(dec.result == c->result && dec.rule == c->rule &&
			      goes_on == (c->result != IPALLOW_RESULT_DENY),
			      "case %d: N=%lu: %s (%s)", _i, n,
			      ipallow_result_to_string(dec.result),
			      ipallow_rule_to_string(dec.rule));
		break;
	}
	ck_assert(n > 1 && n < MAX_COUNTDOWN);
}
END_TEST

/* Steps before the list need no memory at all. */
START_TEST(test_alloc_decide_no_list)
{
	struct ipallow_policy *policy;
	struct ipallow_checker *checker;
	struct ipallow_login req;
	struct ipallow_decision dec;

	ck_assert(ipallow_policy_defaults(&policy) == 0);
	ck_assert(ipallow_checker_create(policy, &checker) == 0);
	memset(&req, 0, sizeof(req));
	req.service = "imap";
	req.client_ip = test_addr("198.51.100.7");
	inject(1);
	ck_assert(ipallow_check(checker, &req, &dec));
	ck_assert_int_eq(dec.rule, IPALLOW_RULE_NO_LIST);
	req.list_text = "1.2.3.4";
	req.client_ip = test_addr("10.0.0.1");
	ck_assert(ipallow_check(checker, &req, &dec));
	ck_assert_int_eq(dec.rule, IPALLOW_RULE_EXEMPT_NETWORK);
	req.client_ip = test_addr("198.51.100.7");
	ck_assert(!ipallow_check(checker, &req, &dec));
	ck_assert_int_eq(dec.rule, IPALLOW_RULE_INTERNAL_ERROR);
	ck_assert(inject_end());
	ipallow_checker_free(&checker);
	ipallow_policy_free(&policy);
}
END_TEST

static Suite *alloc_suite(void)
{
	Suite *s = suite_create("alloc");
	TCase *tc;

	tc = tcase_create("seam");
	tcase_add_test(tc, test_alloc_seam);
	suite_add_tcase(s, tc);

	tc = tcase_create("list");
	tcase_add_checked_fixture(tc, sets_setup, sets_teardown);
	tcase_add_loop_test(tc, test_alloc_list_parse, 0,
			    N_ELEMENTS(list_alloc_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("radix");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_alloc_radix_build, 0,
			    N_ELEMENTS(radix_alloc_counts));
	suite_add_tcase(s, tc);

	tc = tcase_create("policy");
	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, files_setup, files_teardown);
	tcase_add_loop_test(tc, test_alloc_policy_load, 0,
			    N_ELEMENTS(policy_alloc_cases));
	tcase_add_test(tc, test_alloc_policy_file);
	tcase_add_test(tc, test_alloc_set_file);
	suite_add_tcase(s, tc);

	tc = tcase_create("decision");
	tcase_add_test(tc, test_alloc_cache);
	tcase_add_test(tc, test_alloc_checker);
	tcase_add_loop_test(tc, test_alloc_decide, 0,
			    N_ELEMENTS(decide_alloc_cases));
	tcase_add_test(tc, test_alloc_decide_no_list);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run_suite(alloc_suite());
}
