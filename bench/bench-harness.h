/* The measuring half shared by every lookup benchmark in bench/: ours
   (lookup-bench.c) and the peers (peers/). Each program reads the same
   prefix and address files with this code, builds its structure in its
   own way, and runs the same two loops through BENCH_MEASURE() with its
   own single-address lookup call:

   - independent: for each address in order, look it up and add the
     result. Lookups do not depend on each other, so the CPU overlaps
     their cache misses: this is throughput.
   - dependent: the index of the next address depends on the result of
     this lookup (idx += 1 + hit), so each lookup waits for the last one:
     this is latency, what one login pays.

   No batching, no prefetching, no bulk APIs: one call per address, as a
   login makes it. Output is "key=value" lines that bench/run.sh parses. */
#ifndef BENCH_HARNESS_H
#define BENCH_HARNESS_H

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench-stats.h"

struct bench_prefix {
	int family;		/* 4 or 6 */
	unsigned int len;
	uint8_t bytes[16];	/* network order, host bits cleared */
};

struct bench {
	const char *impl;
	const char *prefix_path, *address_path;
	unsigned int rounds;
	size_t check_count;	/* addresses whose hits are cross-checked */
	double round_seconds;	/* aim of one measured round */

	struct bench_prefix *prefixes;
	size_t prefix_count;

	int family;		/* of the address file */
	uint32_t *v4;		/* host order */
	uint8_t (*v6)[16];	/* network order */
	size_t count;
};

/* CPU time of this thread in seconds (bench-stats.h says why). */
static inline double bench_now(void)
{
	return bench_cpu_ns() / 1e9;
}

static void __attribute__((format(printf, 1, 2), noreturn))
bench_die(const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	fprintf(stderr, "bench: ");
	vfprintf(stderr, fmt, args);
	fprintf(stderr, "\n");
	va_end(args);
	exit(2);
}

static void *bench_grow(void *ptr, size_t *alloc, size_t need, size_t size)
{
	if (need <= *alloc)
		return ptr;
	*alloc = *alloc == 0 ? 4096 : *alloc * 2;
	ptr = realloc(ptr, *alloc * size);
	if (ptr == NULL)
		bench_die("%s", "out of memory");
	return ptr;
}

static char *bench_line(char *line)
{
	size_t len = strcspn(line, "\r\n#");

	while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	line[len] = '\0';
	while (*line == ' ' || *line == '\t')
		line++;
	return line;
}

static void bench_clear_host_bits(uint8_t *bytes, unsigned int nbytes,
				  unsigned int len)
{
	for (unsigned int i = 0; i < nbytes; i++) {
		unsigned int keep = len >= 8 * (i + 1) ? 8 :
			len <= 8 * i ? 0 : len - 8 * i;

		bytes[i] &= (uint8_t)(0xff00u >> keep);
	}
}

static void bench_read_prefixes(struct bench *b)
{
	FILE *fp = fopen(b->prefix_path, "r");
	size_t alloc = 0;
	char buf[256];

	if (fp == NULL)
		bench_die("cannot open %s", b->prefix_path);
	while (fgets(buf, sizeof(buf), fp) != NULL) {
		char *line = bench_line(buf), *slash, *end;
		struct bench_prefix *p;
		unsigned long len;

		if (*line == '\0')
			continue;
		b->prefixes = bench_grow(b->prefixes, &alloc,
					 b->prefix_count + 1,
					 sizeof(*b->prefixes));
		p = &b->prefixes[b->prefix_count];
		memset(p, 0, sizeof(*p));
		slash = strchr(line, '/');
		if (slash != NULL)
			*slash = '\0';
		if (inet_pton(AF_INET, line, p->bytes) == 1) {
			p->family = 4;
			len = 32;
		} else if (inet_pton(AF_INET6, line, p->bytes) == 1) {
			p->family = 6;
			len = 128;
		} else {
			bench_die("bad prefix \"%s\"", line);
		}
		if (slash != NULL) {
			unsigned long max = len;

			errno = 0;
			len = strtoul(slash + 1, &end, 10);
			if (errno != 0 || *end != '\0' || len > max)
				bench_die("bad prefix length in \"%s\"", line);
		}
		p->len = (unsigned int)len;
		bench_clear_host_bits(p->bytes, p->family == 4 ? 4 : 16,
				      p->len);
		b->prefix_count++;
	}
	fclose(fp);
}

static void bench_read_addresses(struct bench *b)
{
	FILE *fp = fopen(b->address_path, "r");
	size_t alloc = 0;
	char buf[256];

	if (fp == NULL)
		bench_die("cannot open %s", b->address_path);
	while (fgets(buf, sizeof(buf), fp) != NULL) {
		char *line = bench_line(buf);
		uint8_t bytes[16];
		int family;

		if (*line == '\0')
			continue;
		if (inet_pton(AF_INET, line, bytes) == 1)
			family = 4;
		else if (inet_pton(AF_INET6, line, bytes) == 1)
			family = 6;
		else
			bench_die("bad address \"%s\"", line);
		if (b->family == 0)
			b->family = family;
		else if (b->family != family)
			bench_die("%s mixes address families", b->address_path);
		if (family == 4) {
			b->v4 = bench_grow(b->v4, &alloc, b->count + 1,
					   sizeof(*b->v4));
			b->v4[b->count] = ((uint32_t)bytes[0] << 24) |
				((uint32_t)bytes[1] << 16) |
				((uint32_t)bytes[2] << 8) | bytes[3];
		} else {
			b->v6 = bench_grow(b->v6, &alloc, b->count + 1,
					   sizeof(*b->v6));
			memcpy(b->v6[b->count], bytes, 16);
		}
		b->count++;
	}
	fclose(fp);
	if (b->count == 0)
		bench_die("%s: no addresses", b->address_path);
}

static void bench_usage(const char *impl)
{
	fprintf(stderr, "usage: %s-bench [--rounds N] [--round-seconds S] "
		"PREFIX-FILE ADDRESS-FILE [EXTRA-ARGS...]\n", impl);
	exit(2);
}

/* Parses the common arguments and reads both files. Returns the index of
   the first extra argument (DPDK's EAL arguments). */
static int bench_init(struct bench *b, const char *impl, int argc,
		      char **argv)
{
	int i = 1;

	memset(b, 0, sizeof(*b));
	b->impl = impl;
	b->rounds = 5;
	b->round_seconds = 0.5;
	b->check_count = 1000000;
	while (i < argc && strncmp(argv[i], "--", 2) == 0 && argv[i][2] != '\0') {
		if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
			b->rounds = (unsigned int)strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--round-seconds") == 0 && i + 1 < argc)
			b->round_seconds = strtod(argv[++i], NULL);
		else
			bench_usage(impl);
		i++;
	}
	if (argc - i < 2 || b->rounds == 0 || b->rounds > 100)
		bench_usage(impl);
	b->prefix_path = argv[i];
	b->address_path = argv[i + 1];
	bench_read_prefixes(b);
	bench_read_addresses(b);
	if (b->check_count > b->count)
		b->check_count = b->count;
	return i + 2;
}

static double bench_median(const double *values, unsigned int count)
{
	double sorted[100];

	memcpy(sorted, values, count * sizeof(*values));
	return bench_median_sort(sorted, count);
}

static void bench_print_rates(const char *key, const double *values,
			      unsigned int count)
{
	double lo = values[0], hi = values[0];

	for (unsigned int i = 1; i < count; i++) {
		if (values[i] < lo)
			lo = values[i];
		if (values[i] > hi)
			hi = values[i];
	}
	printf("%s=%.0f\n%s_min=%.0f\n%s_max=%.0f\n", key,
	       bench_median(values, count), key, lo, key, hi);
}

/* Prints what every program reports. build_s: seconds to build the
   structure from the parsed prefixes; memory: bytes of the structure. */
static void bench_report_build(const struct bench *b, double build_s,
			       size_t memory)
{
	printf("impl=%s\nprefix_file=%s\nprefixes=%zu\naddresses=%zu\n"
	       "build_s=%.6f\nmemory_bytes=%zu\n", b->impl, b->prefix_path,
	       b->prefix_count, b->count, build_s, memory);
	fflush(stdout);
}

/* Runs the warm-up, the hit cross-check and b->rounds rounds of both
   loops. LOOKUP(i) must evaluate to 1 if address i is inside the set,
   else 0. A round covers as many addresses as the warm-up says take
   b->round_seconds, at least a million (or the whole file), always
   starting at the first: every program sees the same addresses. */
#define BENCH_MEASURE(b, LOOKUP) do { \
	double indep_[100], dep_[100], t0_, rate_; \
	size_t n_, i_, idx_ = 0, check_hits_ = 0; \
	unsigned long hits_ = 0; \
	unsigned int r_; \
	\
	t0_ = bench_now(); \
	for (i_ = 0; i_ < (b)->check_count; i_++) \
		check_hits_ += (LOOKUP(i_)) ? 1 : 0; \
	rate_ = (double)(b)->check_count / (bench_now() - t0_); \
	n_ = (size_t)(rate_ * (b)->round_seconds); \
	if (n_ < 1000000) \
		n_ = 1000000; \
	if (n_ > (b)->count) \
		n_ = (b)->count; \
	for (r_ = 0; r_ < (b)->rounds; r_++) { \
		t0_ = bench_now(); \
		for (i_ = 0; i_ < n_; i_++) \
			hits_ += (LOOKUP(i_)) ? 1 : 0; \
		indep_[r_] = (double)n_ / (bench_now() - t0_); \
		t0_ = bench_now(); \
		for (i_ = 0; i_ < n_; i_++) { \
			idx_ += (LOOKUP(idx_)) ? 2 : 1; \
			if (idx_ >= n_) \
				idx_ -= n_; \
		} \
		dep_[r_] = (double)n_ / (bench_now() - t0_); \
	} \
	printf("check_addresses=%zu\ncheck_hits=%zu\nround_addresses=%zu\n" \
	       "rounds=%u\n", (b)->check_count, check_hits_, n_, \
	       (b)->rounds); \
	bench_print_rates("independent", indep_, (b)->rounds); \
	bench_print_rates("dependent", dep_, (b)->rounds); \
	printf("sink=%lu\n", hits_ + idx_); \
} while (0)

#endif
