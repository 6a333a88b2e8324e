/* ipallow bench: build a tree from a prefix file and look up every
   address of an address file, independently (throughput) and with each
   lookup depending on the last one (latency). Medians of several rounds.

   ipallow bench --lists FILE: the operator's own lists (one per line)
   through a list cache like a checker's, for sizing it (admin guide, section
   6): what a list takes compiled and cached, how long it takes to
   compile, and the cache's hit rate when every list is asked for once a
   round, in a new random order each round. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ipallow-cli.h"
#include "ipallow-cache.h"
#include "ipallow-policy.h"
#include "ipallow-radix.h"

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int double_cmp(const void *p1, const void *p2)
{
	double a = *(const double *)p1, b = *(const double *)p2;

	return a < b ? -1 : a > b ? 1 : 0;
}

static double median(double *values, unsigned int count)
{
	qsort(values, count, sizeof(*values), double_cmp);
	return count % 2 == 1 ? values[count / 2] :
		(values[count / 2 - 1] + values[count / 2]) / 2;
}

static int read_addresses(const char *path, struct ipallow_addr **addrs_r,
			  size_t *count_r)
{
	FILE *fp = fopen(path, "r");
	struct ipallow_addr *addrs = NULL, *tmp;
	size_t count = 0, alloc = 0, line_no = 0;
	char line[256];

	if (fp == NULL) {
		perror(path);
		return -1;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		const char *error;
		size_t len = strcspn(line, "\r\n#");

		line_no++;
		while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t'))
			len--;
		line[len] = '\0';
		if (len == 0)
			continue;
		if (count == alloc) {
			alloc = alloc == 0 ? 1024 : alloc * 2;
			tmp = realloc(addrs, alloc * sizeof(*addrs));
			if (tmp == NULL) {
				fprintf(stderr, "ipallow: out of memory\n");
				free(addrs);
				fclose(fp);
				return -1;
			}
			addrs = tmp;
		}
		if (ipallow_addr_parse(line, &addrs[count], &error) < 0) {
			fprintf(stderr, "%s:%zu: \"%s\": %s\n", path, line_no,
				line, error);
			free(addrs);
			fclose(fp);
			return -1;
		}
		count++;
	}
	fclose(fp);
	if (count == 0) {
		fprintf(stderr, "%s: no addresses\n", path);
		free(addrs);
		return -1;
	}
	*addrs_r = addrs;
	*count_r = count;
	return 0;
}

static int read_lists(const char *path, char ***lists_r, size_t *count_r)
{
	FILE *fp = fopen(path, "r");
	char **lists = NULL, **tmp, *line = NULL;
	size_t count = 0, alloc = 0, line_alloc = 0;
	ssize_t len;

	if (fp == NULL) {
		perror(path);
		return -1;
	}
	while ((len = getline(&line, &line_alloc, fp)) >= 0) {
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0)
			continue;
		if (count == alloc) {
			alloc = alloc == 0 ? 1024 : alloc * 2;
			tmp = realloc(lists, alloc * sizeof(*lists));
			if (tmp == NULL)
				break;
			lists = tmp;
		}
		if ((lists[count] = strdup(line)) == NULL)
			break;
		count++;
	}
	free(line);
	if (!feof(fp)) {
		fprintf(stderr, "ipallow: %s: read error or out of memory\n",
			path);
		fclose(fp);
		while (count > 0)
			free(lists[--count]);
		free(lists);
		return -1;
	}
	fclose(fp);
	if (count == 0) {
		fprintf(stderr, "%s: no lists\n", path);
		free(lists);
		return -1;
	}
	*lists_r = lists;
	*count_r = count;
	return 0;
}

static int bench_lists(const char *policy_path, const char *path,
		       unsigned long rounds)
{
	struct ipallow_policy *policy;
	struct ipallow_parse_ctx ctx;
	struct ipallow_cache *cache;
	struct ipallow_cache_stats stats;
	char **lists;
	size_t count, i, *order, text_bytes = 0, invalid = 0;
	double *compile, t0;
	unsigned long r;

	if (read_lists(path, &lists, &count) < 0)
		return EXIT_USAGE;
	if (cli_load_policy(policy_path, &policy) < 0)
		return EXIT_USAGE;
	/* what a checker holds: the policy's parse context and a cache */
	ipallow_policy_parse_ctx(policy, &ctx);
	cache = ipallow_cache_create(IPALLOW_CACHE_DEFAULT_ENTRIES,
				     IPALLOW_CACHE_DEFAULT_BYTES);
	order = calloc(count, sizeof(*order));
	compile = calloc(count, sizeof(*compile));
	if (cache == NULL || order == NULL || compile == NULL) {
		fprintf(stderr, "ipallow: out of memory\n");
		return EXIT_USAGE;
	}
	for (i = 0; i < count; i++) {
		struct ipallow_list *list;
		int ret;

		text_bytes += strlen(lists[i]);
		t0 = now_seconds();
		ret = ipallow_list_parse_flags(lists[i], &ctx,
					       IPALLOW_LIST_PARSE_SKIP_NORMALISED,
					       &list);
		compile[i] = (now_seconds() - t0) * 1e6;
		if (ret < 0) {
			fprintf(stderr, "ipallow: out of memory\n");
			return EXIT_USAGE;
		}
		if (ret == 0)
			invalid++;
		ipallow_list_free(&list);
		order[i] = i;
	}
	srand(1);
	for (r = 0; r < rounds; r++) {
		for (i = count; i > 1; i--) {
			size_t j = (size_t)rand() % i, t = order[i - 1];

			order[i - 1] = order[j];
			order[j] = t;
		}
		for (i = 0; i < count; i++) {
			const struct ipallow_list *list;

			if (ipallow_cache_get(cache, lists[order[i]], &ctx,
					      &list) < 0) {
				fprintf(stderr, "ipallow: out of memory\n");
				return EXIT_USAGE;
			}
		}
	}
	ipallow_cache_get_stats(cache, &stats);
	printf("lists:               %zu (%zu invalid), %.0f bytes of text "
	       "on average\n", count, invalid, (double)text_bytes / count);
	printf("compile:             %.2f us median per list\n",
	       median(compile, (unsigned int)count));
	printf("cache:               %u lists, %zu bytes (%.0f bytes/list), "
	       "limit %zu bytes\n", stats.entries, stats.bytes,
	       stats.entries == 0 ? 0.0 : (double)stats.bytes / stats.entries,
	       (size_t)IPALLOW_CACHE_DEFAULT_BYTES);
	printf("cache hits:          %lu of %lu (%.1f%%), %lu evictions, "
	       "%lu rounds\n", stats.hits, stats.hits + stats.misses,
	       100.0 * (double)stats.hits / (double)(stats.hits + stats.misses),
	       stats.evictions, rounds);
	for (i = 0; i < count; i++)
		free(lists[i]);
	free(lists);
	free(order);
	free(compile);
	ipallow_cache_free(&cache);
	ipallow_policy_free(&policy);
	return 0;
}

int cmd_bench(int argc, char **argv)
{
	static const struct option options[] = {
		{ "rounds", required_argument, NULL, 'r' },
		{ "lists", required_argument, NULL, 'l' },
		{ "policy", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct ipallow_prefix_array arr = { NULL, 0, 0 };
	struct ipallow_radix *radix;
	struct ipallow_addr *addrs;
	double t0, build_s, *indep, *dep;
	size_t count, prefixes, memory, i;
	unsigned long hits = 0, rounds = 5, r;
	const char *lists_path = NULL, *policy_path = NULL;
	char *error;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "r:l:p:h", options, NULL)) != -1) {
		switch (c) {
		case 'l':
			lists_path = optarg;
			break;
		case 'p':
			policy_path = optarg;
			break;
		case 'r':
			rounds = strtoul(optarg, NULL, 10);
			if (rounds == 0 || rounds > 1000)
				return cli_usage("bench");
			break;
		default:
			return cli_usage("bench");
		}
	}
	if (lists_path != NULL) {
		if (argc != optind)
			return cli_usage("bench");
		return bench_lists(policy_path, lists_path, rounds);
	}
	if (argc - optind != 2 || policy_path != NULL)
		return cli_usage("bench");
	if (ipallow_set_file_read(argv[optind], &arr, &error) < 0) {
		fprintf(stderr, "ipallow: %s\n", error != NULL ? error : "out of memory");
		free(error);
		return EXIT_USAGE;
	}
	if (read_addresses(argv[optind + 1], &addrs, &count) < 0) {
		ipallow_prefix_array_free(&arr);
		return EXIT_USAGE;
	}
	prefixes = arr.count;
	t0 = now_seconds();
	if (ipallow_radix_build(arr.prefixes, arr.count, &radix) < 0) {
		fprintf(stderr, "ipallow: out of memory\n");
		return EXIT_USAGE;
	}
	build_s = now_seconds() - t0;
	ipallow_prefix_array_free(&arr);

	indep = calloc(rounds, sizeof(double));
	dep = calloc(rounds, sizeof(double));
	if (indep == NULL || dep == NULL)
		return EXIT_USAGE;
	for (r = 0; r < rounds; r++) {
		unsigned long round_hits = 0;
		size_t idx = 0;

		/* independent: the CPU may overlap lookups */
		t0 = now_seconds();
		for (i = 0; i < count; i++)
			round_hits += ipallow_radix_lookup(radix, &addrs[i]);
		indep[r] = (double)count / (now_seconds() - t0);
		hits = round_hits;

		/* dependent: the next address depends on this result */
		t0 = now_seconds();
		for (i = 0; i < count; i++) {
			idx += 1 + ipallow_radix_lookup(radix, &addrs[idx]);
			if (idx >= count)
				idx -= count;
		}
		dep[r] = (double)count / (now_seconds() - t0);
		if (idx == (size_t)-1)
			printf("unreachable\n");
	}
	printf("prefixes:            %zu (%zu after removing covered ones)\n",
	       prefixes, ipallow_radix_prefix_count(radix));
	printf("addresses:           %zu (%lu inside)\n", count, hits);
	printf("build:               %.3f ms\n", build_s * 1e3);
	memory = ipallow_radix_memory(radix);
	printf("memory:              %zu bytes (%.1f bytes/prefix)\n", memory,
	       prefixes == 0 ? 0.0 : (double)memory / (double)prefixes);
	printf("independent lookups: %.2f M/s (median of %lu rounds)\n",
	       median(indep, (unsigned int)rounds) / 1e6, rounds);
	printf("dependent lookups:   %.2f M/s (median of %lu rounds)\n",
	       median(dep, (unsigned int)rounds) / 1e6, rounds);
	free(indep);
	free(dep);
	free(addrs);
	ipallow_radix_free(&radix);
	return 0;
}
