/* Per-login costs of the core, outside Dovecot:
   - decide_cached_ns: ipallow_check() for a user whose 10-entry list is
     already compiled in the policy's cache (the usual login: many
     mailboxes share a list, and the cache keeps it). This is the whole
     decision: exempt-service check, blank check, exempt networks, cache
     lookup by text, tree lookup.
   - compile_us: ipallow_list_parse() of a new 10-entry list (a cache
     miss: scanning, libcidr conversion, tree build); the free is not
     timed.
   - compile_<v4|v6>_n<N>_us for N = 1, 10, 100, 1000: ipallow_list_parse()
     of distinct random lists of N entries of one family (bench-lists.h,
     the same lists as list-bench makes), the compile a login pays when
     the cache misses; the free is not timed.
   - decide_miss_us: ipallow_check() with a list text never seen before,
     so every call parses, compiles and inserts into the cache (and evicts
     once the cache is full).
   - decide_country_ns (with a directory of make-mmdb.pl files as the
     second argument): the cached decision for the same clients with
     ", country:DE, asn:64496" added to the list, so every client the
     prefixes miss costs a lookup in both MaxMind databases;
     country_extra_ns is its difference to decide_cached_ns (medians).
   Times are this thread's CPU time. Medians of several rounds,
   "key=value" lines for bench/run.sh. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench-stats.h"
#include "bench-lists.h"
#include "ipallow-decide.h"
#include "ipallow-cache.h"

#define ROUNDS_MAX 100

static const char list10[] =
	"203.0.113.0/24, 198.51.100.0/24, 192.0.2.128/25, 185.12.64.0/22, "
	"93.184.216.34, 2001:db8:42::/48, 2a02:1234:5600::/40, "
	"151.101.0.0/16, 2606:4700:10::/44, 45.67.89.0/26";

static const char *clients[] = {
	"203.0.113.9", "198.51.100.200", "192.0.2.130", "185.12.66.1",
	"93.184.216.34", "2001:db8:42:1::5", "2a02:1234:56ff::1",
	"151.101.1.1", "2606:4700:10::6", "45.67.89.60",
	/* not in the list */
	"8.8.8.8", "1.1.1.1", "192.0.2.1", "185.12.68.1", "2001:db8:43::1",
	"2a02:1234:5700::1", "151.102.0.1", "45.67.89.64", "100.64.0.1",
	"2606:4700:20::1",
	/* exempt: private */
	"10.1.2.3", "192.168.1.10", "fd00::1", "172.16.5.5",
};
#define CLIENTS (sizeof(clients) / sizeof(clients[0]))

static void print_stat(const char *key, double *values, unsigned int count)
{
	double median = bench_median_sort(values, count);

	printf("%s=%.3f\n%s_min=%.3f\n%s_max=%.3f\n", key, median,
	       key, values[0], key, values[count - 1]);
}

/* compile_<fam>_n<N>_us: the median over ROUNDS of the mean CPU time
   of one ipallow_list_parse() of COUNT distinct lists of N entries. */
static int compile_sizes(const struct ipallow_policy *policy,
			 unsigned int rounds)
{
	static const unsigned int sizes[] = { 1, 10, 100, 1000 };
	struct ipallow_parse_ctx ctx;
	double per[ROUNDS_MAX];

	ipallow_policy_parse_ctx(policy, &ctx);

	for (unsigned int f = 0; f < 2; f++) {
		for (unsigned int s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
			unsigned int n = sizes[s];
			unsigned int count = n >= 1000 ? 200 : n >= 100 ? 1000 : 5000;
			char **texts = calloc(count, sizeof(*texts));
			struct ipallow_addr inside;

			if (texts == NULL)
				return -1;
			for (unsigned int i = 0; i < count; i++)
				texts[i] = bench_list_text(n, f == 1, &inside);
			for (unsigned int r = 0; r < rounds; r++) {
				double total = 0;

				for (unsigned int i = 0; i < count; i++) {
					struct ipallow_list *list;
					double t0 = bench_cpu_ns();

					if (ipallow_list_parse_flags(texts[i], &ctx,
						IPALLOW_LIST_PARSE_SKIP_NORMALISED,
						&list) != 1) {
						fprintf(stderr, "list did not parse\n");
						return -1;
					}
					total += bench_cpu_ns() - t0;
					ipallow_list_free(&list);
				}
				per[r] = total / count / 1e3;
			}
			printf("compile_%s_n%u_us=%.3f\n", f == 1 ? "v6" : "v4",
			       n, bench_median_sort(per, rounds));
			for (unsigned int i = 0; i < count; i++)
				free(texts[i]);
			free(texts);
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned int rounds = argc > 1 ? (unsigned int)atoi(argv[1]) : 7;
	struct ipallow_addr addrs[CLIENTS];
	struct ipallow_policy *policy;
	struct ipallow_checker *checker;
	struct ipallow_parse_ctx ctx;
	struct ipallow_login req;
	struct ipallow_decision dec;
	double cached[ROUNDS_MAX], compile[ROUNDS_MAX], miss[ROUNDS_MAX];
	const unsigned int n_cached = 2000000, n_compile = 20000;
	unsigned long allowed = 0, denied = 0, uniq = 0;
	char (*texts)[sizeof(list10) + 32];

	if (rounds == 0 || rounds > ROUNDS_MAX) {
		fprintf(stderr, "usage: decide-bench [ROUNDS [MMDB-DIR]]\n");
		return 2;
	}
	for (unsigned int i = 0; i < CLIENTS; i++) {
		const char *error;

		if (ipallow_addr_parse(clients[i], &addrs[i], &error) < 0) {
			fprintf(stderr, "%s: %s\n", clients[i], error);
			return 2;
		}
	}
	if (ipallow_policy_defaults(&policy) < 0 ||
	    ipallow_checker_create(policy, &checker) < 0)
		return 2;
	/* what the checker compiles with */
	ipallow_policy_parse_ctx(policy, &ctx);
	texts = calloc(n_compile, sizeof(*texts));
	if (texts == NULL)
		return 2;

	memset(&req, 0, sizeof(req));
	req.service = "imap";
	req.list_text = list10;
	for (unsigned int r = 0; r < rounds; r++) {
		double t0 = bench_cpu_ns();

		for (unsigned int i = 0; i < n_cached; i++) {
			req.client_ip = addrs[i % CLIENTS];
			if (ipallow_check(checker, &req, &dec))
				allowed++;
			else
				denied++;
		}
		cached[r] = (bench_cpu_ns() - t0) / n_cached;
	}

	for (unsigned int r = 0; r < rounds; r++) {
		double t0;

		for (unsigned int i = 0; i < n_compile; i++) {
			/* a different last entry each time: 45.67.X.Y/32 */
			snprintf(texts[i], sizeof(texts[i]), "%.*s45.%u.%u.%u",
				 (int)(sizeof(list10) - 1 - 13), list10,
				 (unsigned int)(uniq >> 16) & 255,
				 (unsigned int)(uniq >> 8) & 255,
				 (unsigned int)uniq & 255);
			uniq++;
		}
		/* each list is freed right away, as a cache that has
		   warmed up recycles its memory; only the parse is timed */
		compile[r] = 0;
		for (unsigned int i = 0; i < n_compile; i++) {
			struct ipallow_list *list;

			t0 = bench_cpu_ns();
			if (ipallow_list_parse_flags(texts[i], &ctx,
					IPALLOW_LIST_PARSE_SKIP_NORMALISED,
					&list) != 1) {
				fprintf(stderr, "list did not parse: %s\n",
					texts[i]);
				return 2;
			}
			compile[r] += bench_cpu_ns() - t0;
			ipallow_list_free(&list);
		}
		compile[r] = compile[r] / n_compile / 1e3;

		for (unsigned int i = 0; i < n_compile; i++) {
			snprintf(texts[i], sizeof(texts[i]), "%.*s45.%u.%u.%u",
				 (int)(sizeof(list10) - 1 - 13), list10,
				 (unsigned int)(uniq >> 16) & 255,
				 (unsigned int)(uniq >> 8) & 255,
				 (unsigned int)uniq & 255);
			uniq++;
		}
		t0 = bench_cpu_ns();
		for (unsigned int i = 0; i < n_compile; i++) {
			req.list_text = texts[i];
			req.client_ip = addrs[i % CLIENTS];
			(void)ipallow_check(checker, &req, &dec);
		}
		miss[r] = (bench_cpu_ns() - t0) / n_compile / 1e3;
	}
	printf("list_entries=10\nlist_bytes=%zu\nrounds=%u\n",
	       sizeof(list10) - 1, rounds);
	if (argc > 2) {
		double country[ROUNDS_MAX], a, b;
		struct ipallow_policy *geo_policy;
		struct ipallow_checker *geo_checker;
		char yaml[1024], list[sizeof(list10) + 64], *error = NULL;

		snprintf(yaml, sizeof(yaml), "geoip:\n  country_db: %s/country.mmdb\n"
			 "  asn_db: %s/asn.mmdb\n", argv[2], argv[2]);
		if (ipallow_policy_load_buffer((const unsigned char *)yaml,
					       strlen(yaml), "bench.yaml",
					       &geo_policy, &error) < 0 ||
		    ipallow_checker_create(geo_policy, &geo_checker) < 0) {
			fprintf(stderr, "%s\n", error != NULL ? error :
				"out of memory");
			return 2;
		}
		snprintf(list, sizeof(list), "%s, country:DE, asn:64496", list10);
		req.list_text = list;
		for (unsigned int r = 0; r < rounds; r++) {
			double t0 = bench_cpu_ns();

			for (unsigned int i = 0; i < n_cached; i++) {
				req.client_ip = addrs[i % CLIENTS];
				(void)ipallow_check(geo_checker, &req, &dec);
			}
			country[r] = (bench_cpu_ns() - t0) / n_cached;
		}
		ipallow_checker_free(&geo_checker);
		ipallow_policy_free(&geo_policy);
		qsort(cached, rounds, sizeof(double), bench_double_cmp);
		qsort(country, rounds, sizeof(double), bench_double_cmp);
		a = rounds % 2 == 1 ? cached[rounds / 2] :
			(cached[rounds / 2 - 1] + cached[rounds / 2]) / 2;
		b = rounds % 2 == 1 ? country[rounds / 2] :
			(country[rounds / 2 - 1] + country[rounds / 2]) / 2;
		print_stat("decide_country_ns", country, rounds);
		printf("country_extra_ns=%.3f\n", b - a);
	}
	print_stat("decide_cached_ns", cached, rounds);
	print_stat("compile_us", compile, rounds);
	print_stat("decide_miss_us", miss, rounds);
	if (compile_sizes(policy, rounds) < 0)
		return 2;
	printf("decisions_allowed=%lu\ndecisions_denied=%lu\n", allowed,
	       denied);
	free(texts);
	ipallow_checker_free(&checker);
	ipallow_policy_free(&policy);
	return 0;
}
