/* Random distinct lists for the benchmarks (list-bench, decide-bench):
   public addresses only, so that a decision always reaches the list.
   Deterministic: the same seed gives the same lists in every build, so
   two builds compared side by side parse the same text. */
#ifndef BENCH_LISTS_H
#define BENCH_LISTS_H

#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipallow-addr.h"

static uint64_t rng_state = 0x13131313;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A public IPv4 address (no exempt network: the decision must reach the
   list). */
static uint32_t rnd_public4(void)
{
	for (;;) {
		uint32_t a = (uint32_t)rnd();
		unsigned int o = a >> 24;

		if (o == 0 || o == 10 || o == 127 || o == 169 || o == 172 ||
		    o == 192 || o >= 224)
			continue;
		return a;
	}
}

/* One entry as text; *client_r gets an address inside it. */
static int entry_text(bool v6, char *buf, size_t size,
		      struct ipallow_addr *client_r)
{
	unsigned int len;

	if (!v6) {
		uint32_t a = rnd_public4();
		uint8_t b[4];

		len = rnd() % 2 == 0 ? 32 : 16 + (unsigned int)(rnd() % 16);
		a &= len == 0 ? 0 : ~(uint32_t)0 << (32 - len);
		b[0] = a >> 24; b[1] = a >> 16; b[2] = a >> 8; b[3] = (uint8_t)a;
		ipallow_addr_set_ipv4(client_r, b);
		if (len == 32)
			return snprintf(buf, size, "%u.%u.%u.%u", b[0], b[1],
					b[2], b[3]);
		return snprintf(buf, size, "%u.%u.%u.%u/%u", b[0], b[1], b[2],
				b[3], len);
	} else {
		uint8_t b[16];
		uint64_t hi = (rnd() & 0x1fffffffffffffffULL) |
			0x2000000000000000ULL, lo = rnd();
		char abuf[IPALLOW_ADDR_STRLEN];

		len = rnd() % 10 < 3 ? 128 : 32 + (unsigned int)(rnd() % 33);
		if (len <= 64) {
			lo = 0;
			hi &= len == 64 ? ~0ULL : ~(~0ULL >> len);
		}
		for (unsigned int i = 0; i < 8; i++) {
			b[i] = (uint8_t)(hi >> (56 - 8 * i));
			b[8 + i] = (uint8_t)(lo >> (56 - 8 * i));
		}
		ipallow_addr_set_ipv6(client_r, b);
		ipallow_addr_to_str(client_r, abuf);
		if (len == 128)
			return snprintf(buf, size, "%s", abuf);
		return snprintf(buf, size, "%s/%u", abuf, len);
	}
}


/* A list of ENTRIES random entries of one family, ", "-separated, in
   malloc()ed memory; *inside_r gets an address inside one of them. */
static char *bench_list_text(unsigned int entries, bool v6,
			     struct ipallow_addr *inside_r)
{
	size_t alloc = (size_t)entries * 48 + 1, pos = 0;
	unsigned int pick = (unsigned int)(rnd() % entries);
	char *text = malloc(alloc), buf[64];

	if (text == NULL)
		exit(2);
	for (unsigned int e = 0; e < entries; e++) {
		struct ipallow_addr a;
		int n = entry_text(v6, buf, sizeof(buf), &a);

		if (e > 0) {
			memcpy(text + pos, ", ", 2);
			pos += 2;
		}
		memcpy(text + pos, buf, (size_t)n);
		pos += (size_t)n;
		if (e == pick)
			*inside_r = a;
	}
	text[pos] = '\0';
	return text;
}

#endif
