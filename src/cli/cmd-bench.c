/* ipallow bench: build a tree from a prefix file and look up every
   address of an address file, independently (throughput) and with each
   lookup depending on the last one (latency). Medians of several rounds. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ipallow-cli.h"
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

int cmd_bench(int argc, char **argv)
{
	static const struct option options[] = {
		{ "rounds", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct ipallow_prefix_array arr = { NULL, 0, 0 };
	struct ipallow_radix *radix;
	struct ipallow_addr *addrs;
	double t0, build_s, *indep, *dep;
	size_t count, prefixes, memory, i;
	unsigned long hits = 0, rounds = 5, r;
	char *error;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "r:h", options, NULL)) != -1) {
		switch (c) {
		case 'r':
			rounds = strtoul(optarg, NULL, 10);
			if (rounds == 0 || rounds > 1000)
				return cli_usage("bench");
			break;
		default:
			return cli_usage("bench");
		}
	}
	if (argc - optind != 2)
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
