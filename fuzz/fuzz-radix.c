/* libFuzzer target: the compiled radix tree against a brute-force scan.

   Input layout:
     byte 0     mode: bit 0 set = expand (generate many prefixes from a
                seed, enough to switch on the direct first level at
                4096 prefixes); bit 1 = normalise the prefixes first;
                bit 2 = expand to IPv6 only
     expand:    8 bytes seed, 1 byte count scale, then probe bytes
     explicit:  records of 1 header byte (bit 7: IPv6, bits 0-6: length,
                taken modulo 33 or 129) and ceil(length / 8) address
                bytes, until the input ends; probes are derived from the
                prefixes and from the record bytes.
   Both compiled forms are built from the same prefixes: the tree (named
   sets) and the flat sorted ranges (per-mailbox lists,
   ipallow_radix_build_flat()). Every lookup of each is compared with
   ipallow_prefix_contains() over all prefixes, and both must keep the
   same number of prefixes; a difference aborts. */
#include <string.h>

#include "common.h"
#include "ipallow-radix.h"

#define EXPLICIT_MAX_PREFIXES 512
#define EXPAND_MIN_PREFIXES 3600
#define EXPAND_MAX_PREFIXES 6400
/* Probes per tree; brute force is O(prefixes) each, so a big generated
   table gets fewer (its build is most of what is under test there). */
#define PROBES_MAX 160
#define PROBES_MAX_EXPAND 20

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static __attribute__((no_sanitize("coverage"))) uint64_t
rng_next(uint64_t *state)
{
	/* splitmix64 */
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void prefix_from(bool ipv6, unsigned int len, const uint8_t *bytes,
			struct ipallow_prefix *prefix_r)
{
	memset(prefix_r, 0, sizeof(*prefix_r));
	prefix_r->addr.family = ipv6 ? IPALLOW_FAMILY_IPV6 : IPALLOW_FAMILY_IPV4;
	memcpy(prefix_r->addr.bytes, bytes, ipv6 ? 16 : 4);
	prefix_r->len = len;
}

/* Many prefixes around a few bases, so that they nest and overlap.
   One family only (bit 2 of the mode: IPv6), so that it gets past
   DIRECT_MIN_PREFIXES (4096) distinct prefixes and builds the direct
   first level; mixed tables come from the explicit mode. Not
   instrumented for coverage: the generator is not under test and its
   loop would cost more than the build. */
static __attribute__((no_sanitize("coverage"))) void generate(struct ipallow_prefix_array *arr, uint64_t seed,
		     unsigned int scale, bool all_ipv6)
{
	uint8_t bases[4][16];
	size_t i, count = EXPAND_MIN_PREFIXES +
		(size_t)scale * (EXPAND_MAX_PREFIXES - EXPAND_MIN_PREFIXES) / 255;

	for (i = 0; i < 4; i++) {
		uint64_t a = rng_next(&seed), b = rng_next(&seed);

		memcpy(bases[i], &a, 8);
		memcpy(bases[i] + 8, &b, 8);
	}
	for (i = 0; i < count; i++) {
		struct ipallow_prefix prefix;
		uint64_t r = rng_next(&seed), x[2];
		bool ipv6 = all_ipv6;
		unsigned int max = ipv6 ? 128 : 32, len, keep, b;
		uint8_t bytes[16], noise[16];

		x[0] = rng_next(&seed);
		x[1] = rng_next(&seed);
		memcpy(noise, x, sizeof(noise));
		/* mostly long prefixes (the last 8 bits of the family) near a
		   base: keep its top bits, random from bit 'keep' on; a few
		   shorter ones (down to a quarter of the family) anywhere,
		   which cover some of the others but not all */
		if ((unsigned int)((r >> 8) % 100) < 97) {
			/* IPv4 /24../32; IPv6 mostly /48../64, as delegated,
			   which also keeps the trees (and the run) shallower */
			len = !ipv6 || (r >> 56) % 16 == 0 ?
				max - (unsigned int)((r >> 16) % 9) :
				48 + (unsigned int)((r >> 16) % 17);
			keep = (unsigned int)((r >> 48) % (len * 3 / 4 + 1));
			memcpy(bytes, bases[(r >> 40) & 3], 16);
		} else {
			len = max / 4 + (unsigned int)((r >> 24) % (max - max / 4 + 1));
			keep = 0;
			memset(bytes, 0, sizeof(bytes));
		}
		for (b = 0; b < 16; b++) {
			unsigned int kept = keep >= (b + 1) * 8 ? 8 :
				keep <= b * 8 ? 0 : keep - b * 8;
			uint8_t mask = kept == 0 ? 0xff : (uint8_t)(0xff >> kept);

			bytes[b] ^= (uint8_t)(noise[b] & mask);
		}
		prefix_from(ipv6, len, bytes, &prefix);
		FUZZ_CHECK(ipallow_prefix_array_add(arr, &prefix) == 0,
			   "out of memory");
	}
}

static void explicit_prefixes(struct fuzz_reader *r,
			      struct ipallow_prefix_array *arr)
{
	while (r->size > 0 && arr->count < EXPLICIT_MAX_PREFIXES) {
		struct ipallow_prefix prefix;
		uint8_t header = fuzz_byte(r), bytes[16];
		bool ipv6 = (header & 0x80) != 0;
		unsigned int len = (header & 0x7f) % (ipv6 ? 129 : 33);

		memset(bytes, 0, sizeof(bytes));
		fuzz_bytes(r, bytes, (len + 7) / 8);
		prefix_from(ipv6, len, bytes, &prefix);
		FUZZ_CHECK(ipallow_prefix_array_add(arr, &prefix) == 0,
			   "out of memory");
	}
}

static const struct ipallow_radix *flat_form;

static void compare(const struct ipallow_radix *radix,
		    const struct ipallow_prefix_array *arr,
		    const struct ipallow_addr *addr)
{
	char buf[IPALLOW_ADDR_STRLEN];
	bool want = fuzz_brute_contains(arr->prefixes, arr->count, addr);
	bool got = ipallow_radix_lookup(radix, addr);
	bool flat = ipallow_radix_lookup(flat_form, addr);

	FUZZ_CHECK(got == want, "%zu prefixes, %s: tree says %d, brute force %d",
		   arr->count, ipallow_addr_to_str(addr, buf), got, want);
	FUZZ_CHECK(flat == want, "%zu prefixes, %s: flat says %d, brute force %d",
		   arr->count, ipallow_addr_to_str(addr, buf), flat, want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_reader r = { data, size };
	struct ipallow_prefix_array arr = { NULL, 0, 0 }, copy = { NULL, 0, 0 };
	struct ipallow_prefix_array copy2 = { NULL, 0, 0 };
	struct ipallow_radix *radix, *flat;
	uint8_t mode = fuzz_byte(&r), noise[16];
	unsigned int probes = 0, probes_max = PROBES_MAX;
	size_t i, step;

	if ((mode & 1) != 0) {
		uint8_t seed[8];
		uint64_t s;

		fuzz_bytes(&r, seed, sizeof(seed));
		memcpy(&s, seed, sizeof(s));
		generate(&arr, s, fuzz_byte(&r), (mode & 4) != 0);
		probes_max = PROBES_MAX_EXPAND;
	} else {
		struct fuzz_reader pr = r;

		explicit_prefixes(&pr, &arr);
	}
	if ((mode & 2) != 0) {
		for (i = 0; i < arr.count; i++) {
			struct ipallow_prefix *p = &arr.prefixes[i];

			ipallow_prefix_normalise(p);
			FUZZ_CHECK(!ipallow_prefix_normalise(p),
				   "normalising twice found host bits again");
			FUZZ_CHECK(p->len <= (p->addr.family ==
					      IPALLOW_FAMILY_IPV4 ? 32u : 128u),
				   "length %u out of range", p->len);
		}
	}
	/* the build reorders its input; keep the original for the scan */
	for (i = 0; i < arr.count; i++) {
		FUZZ_CHECK(ipallow_prefix_array_add(&copy, &arr.prefixes[i]) == 0,
			   "out of memory");
		FUZZ_CHECK(ipallow_prefix_array_add(&copy2, &arr.prefixes[i]) == 0,
			   "out of memory");
	}
	FUZZ_CHECK(ipallow_radix_build(arr.prefixes, arr.count, &radix) == 0,
		   "build failed for %zu prefixes", arr.count);
	FUZZ_CHECK(ipallow_radix_build_flat(copy2.prefixes, copy2.count,
					    &flat) == 0,
		   "flat build failed for %zu prefixes", copy2.count);
	FUZZ_CHECK(ipallow_radix_is_flat(flat) && !ipallow_radix_is_flat(radix),
		   "wrong forms");
	FUZZ_CHECK(ipallow_radix_prefix_count(flat) ==
		   ipallow_radix_prefix_count(radix),
		   "flat keeps %zu prefixes, tree %zu",
		   ipallow_radix_prefix_count(flat),
		   ipallow_radix_prefix_count(radix));
	flat_form = flat;
	FUZZ_CHECK(ipallow_radix_prefix_count(radix) <= arr.count,
		   "more prefixes kept than given");
	FUZZ_CHECK(ipallow_radix_memory(radix) > 0, "no memory accounted");

	/* probes around the prefixes, spread over the whole table */
	step = copy.count / (probes_max / 5) + 1;
	for (i = 0; i < copy.count && probes < probes_max; i += step) {
		const struct ipallow_prefix *p = &copy.prefixes[i];
		struct ipallow_addr first, last, addr;

		fuzz_prefix_first(p, &first);
		fuzz_prefix_last(p, &last);
		compare(radix, &copy, &first);
		compare(radix, &copy, &last);
		fuzz_addr_step(&first, -1, &addr);
		compare(radix, &copy, &addr);
		fuzz_addr_step(&last, +1, &addr);
		compare(radix, &copy, &addr);
		fuzz_bytes(&r, noise, sizeof(noise));
		noise[i % 16] ^= (uint8_t)i;
		fuzz_prefix_inside(p, noise, &addr);
		/* (a probe in ::ffff:0:0/96 became IPv4 and left p) */
		FUZZ_CHECK(addr.family != p->addr.family ||
			   ipallow_prefix_contains(p, &addr),
			   "probe inside a prefix is not inside");
		compare(radix, &copy, &addr);
		probes += 5;
	}
	/* raw addresses from the input, both families */
	for (i = 0; i < 8; i++) {
		struct ipallow_addr addr;

		fuzz_bytes(&r, noise, sizeof(noise));
		fuzz_addr_from_bytes((i & 1) == 0, noise, &addr);
		compare(radix, &copy, &addr);
	}
	{
		struct ipallow_addr none;

		ipallow_addr_set_none(&none);
		FUZZ_CHECK(!ipallow_radix_lookup(radix, &none),
			   "an unknown address is inside");
		FUZZ_CHECK(!ipallow_radix_lookup(flat, &none),
			   "an unknown address is inside the flat form");
	}
	ipallow_radix_free(&radix);
	ipallow_radix_free(&flat);
	flat_form = NULL;
	ipallow_prefix_array_free(&copy2);
	FUZZ_CHECK(radix == NULL, "free did not clear the pointer");
	ipallow_prefix_array_free(&arr);
	ipallow_prefix_array_free(&copy);
	return 0;
}
