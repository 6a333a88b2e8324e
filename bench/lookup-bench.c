/* Lookup benchmark of our tree (src/core/ipallow-radix.c) through its
   public single-address API, ipallow_radix_lookup4() and
   ipallow_radix_lookup6(), on the files and loops of bench-harness.h. */
#include "bench-harness.h"

#include "ipallow-radix.h"

struct v6_key {
	uint64_t hi, lo;
};

static uint64_t load_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

int main(int argc, char **argv)
{
	struct bench b;
	struct ipallow_prefix *prefixes;
	struct ipallow_radix *radix;
	struct v6_key *keys = NULL;
	double t0, build_s;

	bench_init(&b, "ours", argc, argv);
	prefixes = calloc(b.prefix_count + 1, sizeof(*prefixes));
	if (prefixes == NULL)
		bench_die("%s", "out of memory");
	for (size_t i = 0; i < b.prefix_count; i++) {
		const struct bench_prefix *p = &b.prefixes[i];

		if (p->family == 4)
			ipallow_addr_set_ipv4(&prefixes[i].addr, p->bytes);
		else
			ipallow_addr_set_ipv6(&prefixes[i].addr, p->bytes);
		prefixes[i].len = p->len;
		if (p->family == 6 &&
		    prefixes[i].addr.family == IPALLOW_FAMILY_IPV4)
			prefixes[i].len = p->len >= 96 ? p->len - 96 : 0;
		(void)ipallow_prefix_normalise(&prefixes[i]);
	}
	t0 = bench_now();
	if (ipallow_radix_build(prefixes, b.prefix_count, &radix) < 0)
		bench_die("%s", "out of memory");
	build_s = bench_now() - t0;
	free(prefixes);
	bench_report_build(&b, build_s, ipallow_radix_memory(radix));

	if (b.family == 4) {
#define LOOKUP4(i) ipallow_radix_lookup4(radix, b.v4[i])
		BENCH_MEASURE(&b, LOOKUP4);
	} else {
		keys = calloc(b.count, sizeof(*keys));
		if (keys == NULL)
			bench_die("%s", "out of memory");
		for (size_t i = 0; i < b.count; i++) {
			keys[i].hi = load_be64(b.v6[i]);
			keys[i].lo = load_be64(b.v6[i] + 8);
		}
#define LOOKUP6(i) ipallow_radix_lookup6(radix, keys[i].hi, keys[i].lo)
		BENCH_MEASURE(&b, LOOKUP6);
	}
	ipallow_radix_free(&radix);
	free(keys);
	return 0;
}
