/* Peer: libcorkipset (a BDD-based IP set), benchmark only. Same files,
   same loops and same output as ../lookup-bench.c, through
   ipset_contains_ipv4() / ipset_contains_ipv6(), one address per call.
   Memory is ipset_memory_size(). */
#include "bench-harness.h"

#include <libcork/ipset.h>

int main(int argc, char **argv)
{
	struct bench b;
	struct ip_set set;
	struct cork_ipv4 *v4 = NULL;
	double t0, build_s;

	bench_init(&b, "corkipset", argc, argv);
	ipset_init_library();
	t0 = bench_now();
	ipset_init(&set);
	for (size_t i = 0; i < b.prefix_count; i++) {
		struct bench_prefix *p = &b.prefixes[i];

		if (p->family == 4)
			ipset_ipv4_add_network(&set, (struct cork_ipv4 *)p->bytes,
					       p->len);
		else
			ipset_ipv6_add_network(&set, (struct cork_ipv6 *)p->bytes,
					       p->len);
	}
	build_s = bench_now() - t0;
	bench_report_build(&b, build_s, ipset_memory_size(&set));

	if (b.family == 4) {
		/* network order bytes, as libcork wants them */
		v4 = calloc(b.count, sizeof(*v4));
		if (v4 == NULL)
			bench_die("%s", "out of memory");
		for (size_t i = 0; i < b.count; i++) {
			uint32_t a = b.v4[i];

			v4[i]._.u8[0] = (uint8_t)(a >> 24);
			v4[i]._.u8[1] = (uint8_t)(a >> 16);
			v4[i]._.u8[2] = (uint8_t)(a >> 8);
			v4[i]._.u8[3] = (uint8_t)a;
		}
#define LOOKUP_CORK4(i) ipset_contains_ipv4(&set, &v4[i])
		BENCH_MEASURE(&b, LOOKUP_CORK4);
	} else {
#define LOOKUP_CORK6(i) ipset_contains_ipv6(&set, (struct cork_ipv6 *)b.v6[i])
		BENCH_MEASURE(&b, LOOKUP_CORK6);
	}
	ipset_done(&set);
	free(v4);
	return 0;
}
