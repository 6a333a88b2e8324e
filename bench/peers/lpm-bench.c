/* Peer: DPDK's rte_lpm (IPv4) and rte_lpm6 (IPv6), benchmark only.
   Same files, same loops and same output as ../lookup-bench.c, through
   rte_lpm_lookup() / rte_lpm6_lookup(), one address per call.

   Sizing is in DPDK's favour: max_rules is the prefix count and the
   number of tbl8 groups is counted exactly from the prefixes (one group
   per distinct /24, /32, ... that has a longer prefix below it), so the
   memory reported is the least rte_lpm can do the job with, measured as
   the growth of the EAL heap across create and add.

   EAL arguments follow the two files; the defaults run without huge
   pages, PCI, shared config or telemetry, as root in a sandbox. */
#include "bench-harness.h"

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_lpm.h>
#include <rte_lpm6.h>
#include <rte_malloc.h>

static const char *default_eal_args[] = {
	"--no-huge", "--no-pci", "-m", "2048", "--no-shconf",
	"--no-telemetry", "-l", "0", "--log-level=error",
};

static size_t heap_bytes(void)
{
	struct rte_malloc_socket_stats stats;
	size_t total = 0;

	for (unsigned int i = 0; i < rte_socket_count(); i++) {
		if (rte_malloc_get_socket_stats(rte_socket_id_by_idx(i),
						&stats) == 0)
			total += stats.heap_allocsz_bytes;
	}
	return total;
}

static int key_cmp(const void *p1, const void *p2)
{
	return memcmp(p1, p2, 16);
}

/* tbl8 groups rte_lpm(6) needs: for each level boundary d (24, 32, ...)
   the number of distinct d-bit heads of prefixes longer than d. */
static uint32_t count_tbl8s(const struct bench *b, unsigned int width)
{
	uint8_t (*heads)[16] = malloc(b->prefix_count * 16 + 16);
	uint64_t total = 0;

	if (heads == NULL)
		bench_die("%s", "out of memory");
	for (unsigned int d = 24; d < width; d += 8) {
		size_t n = 0, distinct = 0;

		for (size_t i = 0; i < b->prefix_count; i++) {
			if (b->prefixes[i].len <= d)
				continue;
			memset(heads[n], 0, 16);
			memcpy(heads[n], b->prefixes[i].bytes, d / 8);
			n++;
		}
		qsort(heads, n, 16, key_cmp);
		for (size_t i = 0; i < n; i++) {
			if (i == 0 || memcmp(heads[i], heads[i - 1], 16) != 0)
				distinct++;
		}
		total += distinct;
	}
	free(heads);
	return (uint32_t)(total + 16);
}

static uint32_t be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
		((uint32_t)p[2] << 8) | p[3];
}

static void bench_lpm4(struct bench *b)
{
	struct rte_lpm_config config = {
		.max_rules = (uint32_t)b->prefix_count + 1,
		.number_tbl8s = count_tbl8s(b, 32),
	};
	struct rte_lpm *lpm;
	size_t heap0 = heap_bytes();
	double t0 = bench_now(), build_s;
	uint32_t nh;

	lpm = rte_lpm_create("bench", SOCKET_ID_ANY, &config);
	if (lpm == NULL)
		bench_die("rte_lpm_create: %s", rte_strerror(rte_errno));
	for (size_t i = 0; i < b->prefix_count; i++) {
		int ret = rte_lpm_add(lpm, be32(b->prefixes[i].bytes),
				      (uint8_t)b->prefixes[i].len, 1);
		if (ret < 0)
			bench_die("rte_lpm_add: %s", rte_strerror(-ret));
	}
	build_s = bench_now() - t0;
	bench_report_build(b, build_s, heap_bytes() - heap0);
	printf("tbl8s=%u\n", config.number_tbl8s);
#define LOOKUP_LPM4(i) (rte_lpm_lookup(lpm, b->v4[i], &nh) == 0)
	BENCH_MEASURE(b, LOOKUP_LPM4);
	rte_lpm_free(lpm);
}

static void bench_lpm6(struct bench *b)
{
	struct rte_lpm6_config config = {
		.max_rules = (uint32_t)b->prefix_count + 1,
		.number_tbl8s = count_tbl8s(b, 128),
	};
	struct rte_lpm6 *lpm;
	size_t heap0 = heap_bytes();
	double t0 = bench_now(), build_s;
	uint32_t nh;

	lpm = rte_lpm6_create("bench6", SOCKET_ID_ANY, &config);
	if (lpm == NULL)
		bench_die("rte_lpm6_create: %s", rte_strerror(rte_errno));
	for (size_t i = 0; i < b->prefix_count; i++) {
		int ret = rte_lpm6_add(lpm, b->prefixes[i].bytes,
				       (uint8_t)b->prefixes[i].len, 1);
		if (ret < 0)
			bench_die("rte_lpm6_add: %s", rte_strerror(-ret));
	}
	build_s = bench_now() - t0;
	bench_report_build(b, build_s, heap_bytes() - heap0);
	printf("tbl8s=%u\n", config.number_tbl8s);
#define LOOKUP_LPM6(i) (rte_lpm6_lookup(lpm, b->v6[i], &nh) == 0)
	BENCH_MEASURE(b, LOOKUP_LPM6);
	rte_lpm6_free(lpm);
}

int main(int argc, char **argv)
{
	struct bench b;
	char *eal_argv[64];
	int eal_argc = 0, first;

	first = bench_init(&b, "rte_lpm", argc, argv);
	for (size_t i = 0; i < b.prefix_count; i++) {
		if (b.prefixes[i].family != b.family)
			bench_die("%s", "prefix and address families differ");
	}
	eal_argv[eal_argc++] = argv[0];
	if (first < argc) {
		for (int i = first; i < argc && eal_argc < 63; i++)
			eal_argv[eal_argc++] = argv[i];
	} else {
		for (size_t i = 0; i < sizeof(default_eal_args) /
			     sizeof(default_eal_args[0]); i++)
			eal_argv[eal_argc++] = (char *)default_eal_args[i];
	}
	eal_argv[eal_argc] = NULL;
	if (rte_eal_init(eal_argc, eal_argv) < 0)
		bench_die("rte_eal_init: %s", rte_strerror(rte_errno));
	if (b.family == 4) {
		bench_lpm4(&b);
	} else {
		b.impl = "rte_lpm6";
		bench_lpm6(&b);
	}
	rte_eal_cleanup();
	return 0;
}
