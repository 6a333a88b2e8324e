/* The LRU cache of compiled lists: hits, eviction by entries and bytes,
   and one cache per policy. */
#include "test-common.h"
#include "ipallow-cache.h"
#include "ipallow-decide.h"

static struct ipallow_parse_ctx test_ctx(void)
{
	struct ipallow_parse_ctx ctx;

	memset(&ctx, 0, sizeof(ctx));
	ctx.limits.max_entries = IPALLOW_LIST_DEFAULT_MAX_ENTRIES;
	ctx.limits.max_bytes = IPALLOW_LIST_DEFAULT_MAX_BYTES;
	return ctx;
}

static struct ipallow_cache_stats stats_of(const struct ipallow_cache *cache)
{
	struct ipallow_cache_stats stats;

	ipallow_cache_get_stats(cache, &stats);
	return stats;
}

static void assert_stats(const struct ipallow_cache *cache,
			 unsigned long hits, unsigned long misses,
			 unsigned long evictions, unsigned int entries)
{
	struct ipallow_cache_stats stats = stats_of(cache);

	ck_assert_msg(stats.hits == hits && stats.misses == misses &&
		      stats.evictions == evictions && stats.entries == entries,
		      "hits %lu misses %lu evictions %lu entries %u, want "
		      "%lu %lu %lu %u", stats.hits, stats.misses,
		      stats.evictions, stats.entries, hits, misses, evictions,
		      entries);
}

static const struct ipallow_list *
get(struct ipallow_cache *cache, const char *text, int want)
{
	struct ipallow_parse_ctx ctx = test_ctx();
	const struct ipallow_list *list = (void *)1;
	int ret;

	ret = ipallow_cache_get(cache, text, &ctx, &list);
	ck_assert_msg(ret == want, "\"%s\": returned %d", text, ret);
	ck_assert_msg(list != NULL, "\"%s\": no list", text);
	return list;
}

START_TEST(test_cache_hits)
{
	struct ipallow_cache *cache = ipallow_cache_create(16, 1024 * 1024);
	const struct ipallow_list *a, *b, *a2, *b2;
	struct ipallow_addr addr = test_addr("198.51.100.7");

	ck_assert(cache != NULL);
	assert_stats(cache, 0, 0, 0, 0);
	ck_assert_uint_eq(stats_of(cache).bytes, 0);

	a = get(cache, "198.51.100.0/24", 1);
	assert_stats(cache, 0, 1, 0, 1);
	ck_assert(ipallow_list_lookup(a, &addr));
	/* the same text: the same compiled list */
	a2 = get(cache, "198.51.100.0/24", 1);
	ck_assert(a2 == a);
	assert_stats(cache, 1, 1, 0, 1);

	/* the same networks spelled differently: another entry */
	b = get(cache, "198.51.100.0/24 ", 1);
	ck_assert(b != a);
	assert_stats(cache, 1, 2, 0, 2);
	b2 = get(cache, "198.51.100.0/24 ", 1);
	ck_assert(b2 == b);
	a2 = get(cache, "198.51.100.0/24", 1);
	ck_assert(a2 == a);
	assert_stats(cache, 3, 2, 0, 2);

	/* texts that share a long prefix or differ only in length */
	get(cache, "198.51.100.1", 1);
	get(cache, "198.51.100.10", 1);
	get(cache, "198.51.100.1 198.51.100.2", 1);
	assert_stats(cache, 3, 5, 0, 5);
	a2 = get(cache, "198.51.100.1", 1);
	ck_assert(ipallow_list_lookup(a2, &addr) == false);
	assert_stats(cache, 4, 5, 0, 5);
	ipallow_cache_free(&cache);
	ck_assert(cache == NULL);
	ipallow_cache_free(&cache);
}
END_TEST

/* Invalid lists are cached too, with their diagnostics; so are empty
   ones. */
START_TEST(test_cache_invalid)
{
	struct ipallow_cache *cache = ipallow_cache_create(16, 1024 * 1024);
	const struct ipallow_list *list, *again;
	char buf[IPALLOW_DIAG_STRLEN];

	list = get(cache, "198.51.100.0/24 10/8", 0);
	ck_assert_uint_eq(list->error_count, 1);
	ck_assert_str_eq(ipallow_diag_format(&list->errors[0], buf),
			 "entry 2 \"10/8\": IPv4 shorthand is not allowed");
	again = get(cache, "198.51.100.0/24 10/8", 0);
	ck_assert(again == list);
	assert_stats(cache, 1, 1, 0, 1);

	list = get(cache, "", 1);
	ck_assert_uint_eq(list->entry_count, 0);
	ck_assert(get(cache, "", 1) == list);
	assert_stats(cache, 2, 2, 0, 2);
	ipallow_cache_free(&cache);
}
END_TEST

START_TEST(test_cache_lru_entries)
{
	struct ipallow_cache *cache = ipallow_cache_create(2, 1024 * 1024);
	const struct ipallow_list *a;

	a = get(cache, "10.0.0.1", 1);
	get(cache, "10.0.0.2", 1);
	assert_stats(cache, 0, 2, 0, 2);
	/* use A, so B is the least recently used */
	ck_assert(get(cache, "10.0.0.1", 1) == a);
	get(cache, "10.0.0.3", 1);
	assert_stats(cache, 1, 3, 1, 2);
	/* A and C are there, B is not */
	ck_assert(get(cache, "10.0.0.1", 1) == a);
	get(cache, "10.0.0.3", 1);
	assert_stats(cache, 3, 3, 1, 2);
	get(cache, "10.0.0.2", 1);		/* evicts A now */
	assert_stats(cache, 3, 4, 2, 2);
	get(cache, "10.0.0.3", 1);
	assert_stats(cache, 4, 4, 2, 2);
	get(cache, "10.0.0.1", 1);		/* evicts B */
	assert_stats(cache, 4, 5, 3, 2);
	get(cache, "10.0.0.3", 1);
	get(cache, "10.0.0.1", 1);
	assert_stats(cache, 6, 5, 3, 2);
	ipallow_cache_free(&cache);

	/* 0 entries means 1 */
	cache = ipallow_cache_create(0, 1024 * 1024);
	ck_assert(cache != NULL);
	get(cache, "10.0.0.1", 1);
	get(cache, "10.0.0.1", 1);
	get(cache, "10.0.0.2", 1);
	assert_stats(cache, 1, 2, 1, 1);
	ipallow_cache_free(&cache);
}
END_TEST

START_TEST(test_cache_lru_bytes)
{
	struct ipallow_cache *cache = ipallow_cache_create(100, 1024 * 1024);
	size_t one;

	/* lists of the same shape take the same bytes */
	get(cache, "10.0.0.1", 1);
	one = stats_of(cache).bytes;
	ck_assert(one > strlen("10.0.0.1"));
	get(cache, "10.0.0.2", 1);
	ck_assert_uint_eq(stats_of(cache).bytes, 2 * one);
	ipallow_cache_free(&cache);

	/* room for two and a half */
	cache = ipallow_cache_create(100, 2 * one + one / 2);
	get(cache, "10.0.0.1", 1);
	get(cache, "10.0.0.2", 1);
	assert_stats(cache, 0, 2, 0, 2);
	get(cache, "10.0.0.1", 1);
	get(cache, "10.0.0.3", 1);		/* evicts 10.0.0.2 */
	assert_stats(cache, 1, 3, 1, 2);
	ck_assert_uint_eq(stats_of(cache).bytes, 2 * one);
	get(cache, "10.0.0.1", 1);
	get(cache, "10.0.0.2", 1);
	assert_stats(cache, 2, 4, 2, 2);

	/* a big list pushes out as many as it needs (40 disjoint IPv6
	   ranges: a list is charged for what it holds, and short lists
	   hold little) */
	{
		char big[40 * 24 + 16];
		size_t pos = 0;

		pos += (size_t)snprintf(big + pos, sizeof(big) - pos, "10.0.0.4");
		for (unsigned int i = 0; i < 40; i++)
			pos += (size_t)snprintf(big + pos, sizeof(big) - pos,
						" 2001:db8:%x::1", i);
		get(cache, big, 1);
	}
	ck_assert_uint_eq(stats_of(cache).entries, 1);
	ck_assert_uint_eq(stats_of(cache).evictions, 4);
	ck_assert(stats_of(cache).bytes > 2 * one);
	ipallow_cache_free(&cache);

	/* the newest entry stays even if it alone is over the limit: the
	   caller is about to use it */
	cache = ipallow_cache_create(100, 1);
	get(cache, "10.0.0.1", 1);
	assert_stats(cache, 0, 1, 0, 1);
	ck_assert_uint_eq(stats_of(cache).bytes, one);
	get(cache, "10.0.0.2", 1);
	assert_stats(cache, 0, 2, 1, 1);
	get(cache, "10.0.0.2", 1);
	assert_stats(cache, 1, 2, 1, 1);
	ipallow_cache_free(&cache);
}
END_TEST

/* Many lists through a small cache: the counts add up and the most
   recent ones are the ones kept. */
START_TEST(test_cache_churn)
{
	struct ipallow_cache *cache = ipallow_cache_create(100, 64 * 1024 * 1024);
	struct ipallow_cache *fresh;
	char text[64];
	unsigned int i;

	for (i = 0; i < 5000; i++) {
		snprintf(text, sizeof(text), "10.%u.%u.1", i / 256, i % 256);
		get(cache, text, 1);
	}
	assert_stats(cache, 0, 5000, 4900, 100);
	/* the byte count is that of the last 100 alone */
	fresh = ipallow_cache_create(100, 64 * 1024 * 1024);
	for (i = 4900; i < 5000; i++) {
		snprintf(text, sizeof(text), "10.%u.%u.1", i / 256, i % 256);
		get(fresh, text, 1);
	}
	ck_assert_uint_eq(stats_of(cache).bytes, stats_of(fresh).bytes);
	ipallow_cache_free(&fresh);
	for (i = 4900; i < 5000; i++) {
		snprintf(text, sizeof(text), "10.%u.%u.1", i / 256, i % 256);
		get(cache, text, 1);
	}
	assert_stats(cache, 100, 5000, 4900, 100);
	snprintf(text, sizeof(text), "10.%u.%u.1", 4899 / 256, 4899 % 256);
	get(cache, text, 1);
	assert_stats(cache, 100, 5001, 4901, 100);
	ipallow_cache_free(&cache);
}
END_TEST

/* The hash table grows with the entries (the default entry limit is a
   guard of a million): 20,000 lists all stay, all hit, and the default
   byte limit holds 10,000 short lists. */
START_TEST(test_cache_grow)
{
	struct ipallow_cache *cache =
		ipallow_cache_create(IPALLOW_CACHE_DEFAULT_ENTRIES,
				     IPALLOW_CACHE_DEFAULT_BYTES);
	char text[128];
	unsigned int i;

	for (i = 0; i < 20000; i++) {
		snprintf(text, sizeof(text), "198.51.%u.%u, 2001:db8:%x::/48",
			 i / 256, i % 256, i);
		get(cache, text, 1);
	}
	assert_stats(cache, 0, 20000, 0, 20000);
	for (i = 0; i < 20000; i++) {
		snprintf(text, sizeof(text), "198.51.%u.%u, 2001:db8:%x::/48",
			 i / 256, i % 256, i);
		get(cache, text, 1);
	}
	assert_stats(cache, 20000, 20000, 0, 20000);
	ck_assert(stats_of(cache).bytes < IPALLOW_CACHE_DEFAULT_BYTES);
	ipallow_cache_free(&cache);
}
END_TEST

/* Each policy has its own cache, compiled against its own sets: the
   same text never gets another policy's list. */
START_TEST(test_cache_per_policy)
{
	static const char yaml_a[] = "sets:\n  office: [203.0.113.0/24]\n";
	static const char yaml_b[] = "sets:\n  office: [198.51.100.0/24]\n";
	struct ipallow_policy *a, *b, *c;
	struct ipallow_checker *ca, *cb, *cc;
	struct ipallow_cache_stats stats;
	struct ipallow_login req;
	struct ipallow_decision dec;
	const struct ipallow_list *la, *lb;
	char *error;

	ck_assert(ipallow_policy_load_buffer((const unsigned char *)yaml_a,
					     strlen(yaml_a), "a.yaml", &a,
					     &error) == 0);
	ck_assert(ipallow_policy_load_buffer((const unsigned char *)yaml_b,
					     strlen(yaml_b), "b.yaml", &b,
					     &error) == 0);
	ck_assert(ipallow_policy_defaults(&c) == 0);
	ck_assert(ipallow_checker_create(a, &ca) == 0);
	ck_assert(ipallow_checker_create(b, &cb) == 0);
	ck_assert(ipallow_checker_create(c, &cc) == 0);

	memset(&req, 0, sizeof(req));
	req.service = "imap";
	req.list_text = "@office";
	req.client_ip = test_addr("203.0.113.9");
	ck_assert(ipallow_check(ca, &req, &dec));
	ck_assert_int_eq(dec.rule, IPALLOW_RULE_IN_LIST);
	ck_assert(!ipallow_check(cb, &req, &dec));
	ck_assert_int_eq(dec.rule, IPALLOW_RULE_NOT_IN_LIST);
	ck_assert(!ipallow_check(cc, &req, &dec));
	ck_assert_int_eq(dec.rule, IPALLOW_RULE_INVALID_LIST);
	/* and again, from the caches */
	ck_assert(ipallow_check(ca, &req, &dec));
	ck_assert(!ipallow_check(cb, &req, &dec));
	ck_assert(!ipallow_check(cc, &req, &dec));
	ck_assert_int_eq(dec.rule, IPALLOW_RULE_INVALID_LIST);
	req.client_ip = test_addr("198.51.100.9");
	/* the decisions carry their lists: each against its own sets */
	ck_assert(!ipallow_check(ca, &req, &dec));
	la = dec.list;
	ck_assert(ipallow_check(cb, &req, &dec));
	lb = dec.list;
	ck_assert(la != NULL && lb != NULL && la != lb);
	ck_assert(la->sets[0] == ipallow_policy_find_set(a, "office"));
	ck_assert(lb->sets[0] == ipallow_policy_find_set(b, "office"));
	ipallow_checker_get_stats(ca, &stats);
	ck_assert(stats.hits == 2 && stats.misses == 1 && stats.entries == 1);
	ipallow_checker_get_stats(cb, &stats);
	ck_assert(stats.hits == 2 && stats.misses == 1 && stats.entries == 1);
	ipallow_checker_get_stats(cc, &stats);
	ck_assert(stats.hits == 1 && stats.misses == 1 && stats.entries == 1);

	ipallow_checker_free(&ca);
	ipallow_checker_free(&cb);
	ipallow_checker_free(&cc);
	ipallow_policy_free(&a);
	ipallow_policy_free(&b);
	ipallow_policy_free(&c);
}
END_TEST

static Suite *cache_suite(void)
{
	Suite *s = suite_create("cache");
	TCase *tc;

	tc = tcase_create("cache");
	tcase_add_test(tc, test_cache_hits);
	tcase_add_test(tc, test_cache_invalid);
	tcase_add_test(tc, test_cache_lru_entries);
	tcase_add_test(tc, test_cache_lru_bytes);
	tcase_add_test(tc, test_cache_churn);
	tcase_add_test(tc, test_cache_grow);
	tcase_add_test(tc, test_cache_per_policy);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run_suite(cache_suite());
}
