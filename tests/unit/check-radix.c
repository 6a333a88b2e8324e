/* The compiled radix tree against obviously correct references: a linear
   scan with ipallow_prefix_contains() over the prefix array, and for the
   big tables (the direct first level) one sorted array per prefix length,
   itself checked against the linear scan on a sample. Random tables use
   fixed seeds; every failure message names the seed. */
#include "test-common.h"
#include "ipallow-radix.h"

typedef unsigned __int128 u128;

#define V4_BITS 32
#define V6_BITS 128

/* Every test runs against each form: the tree (named sets), the flat
   sorted ranges (per-mailbox lists), and whatever
   ipallow_radix_build_list() picks. Set by the tcases' fixtures. */
enum build_form { FORM_TREE, FORM_FLAT, FORM_LIST };
static enum build_form form = FORM_TREE;

static int build(struct ipallow_prefix *prefixes, size_t count,
		 struct ipallow_radix **radix_r)
{
	int ret;

	switch (form) {
	case FORM_FLAT:
		ret = ipallow_radix_build_flat(prefixes, count, radix_r);
		if (ret == 0)
			ck_assert(ipallow_radix_is_flat(*radix_r));
		return ret;
	case FORM_LIST:
		ret = ipallow_radix_build_list(prefixes, count, radix_r);
		if (ret == 0)
			ck_assert(ipallow_radix_is_flat(*radix_r) ==
				  (count <= IPALLOW_RADIX_FLAT_MAX));
		return ret;
	case FORM_TREE:
		break;
	}
	ret = ipallow_radix_build(prefixes, count, radix_r);
	if (ret == 0)
		ck_assert(!ipallow_radix_is_flat(*radix_r));
	return ret;
}

static void form_tree(void) { form = FORM_TREE; }
static void form_flat(void) { form = FORM_FLAT; }
static void form_list(void) { form = FORM_LIST; }

/* --- hand-made cases --- */

struct radix_case {
	const char *prefixes;	/* space separated, parsed with the core */
	const char *addr;
	bool inside;
};

static const struct radix_case radix_cases[] = {
	/* empty tree */
	{ "", "0.0.0.0", false },
	{ "", "198.51.100.7", false },
	{ "", "::", false },
	{ "", "unknown", false },
	/* /0 of each family, and only that family */
	{ "0.0.0.0/0", "0.0.0.0", true },
	{ "0.0.0.0/0", "255.255.255.255", true },
	{ "0.0.0.0/0", "::", false },
	{ "0.0.0.0/0", "::198.51.100.7", false },
	{ "0.0.0.0/0", "unknown", false },
	{ "::/0", "::", true },
	{ "::/0", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true },
	{ "::/0", "::198.51.100.7", true },
	{ "::/0", "198.51.100.7", false },
	{ "::/0", "::ffff:198.51.100.7", false },
	{ "::/0", "unknown", false },
	{ "::ffff:0:0/96", "198.51.100.7", true },
	{ "::ffff:0:0/96", "::198.51.100.7", false },
	/* host routes, first and last address */
	{ "198.51.100.7", "198.51.100.7", true },
	{ "198.51.100.7", "198.51.100.6", false },
	{ "198.51.100.7", "198.51.100.8", false },
	{ "255.255.255.255", "255.255.255.255", true },
	{ "255.255.255.255", "255.255.255.254", false },
	{ "0.0.0.0", "0.0.0.0", true },
	{ "0.0.0.0", "0.0.0.1", false },
	{ "198.51.100.0/24", "198.51.100.0", true },
	{ "198.51.100.0/24", "198.51.100.255", true },
	{ "198.51.100.0/24", "198.51.99.255", false },
	{ "198.51.100.0/24", "198.51.101.0", false },
	{ "128.0.0.0/1", "128.0.0.0", true },
	{ "128.0.0.0/1", "127.255.255.255", false },
	{ "0.0.0.0/1", "127.255.255.255", true },
	{ "0.0.0.0/1", "128.0.0.0", false },
	{ "2001:db8::1", "2001:db8::1", true },
	{ "2001:db8::1", "2001:db8::", false },
	{ "2001:db8::1", "2001:db8::2", false },
	{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true },
	{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", false },
	{ "::", "::", true },
	{ "::", "::1", false },
	{ "2001:db8::/32", "2001:db8::", true },
	{ "2001:db8::/32", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", true },
	{ "2001:db8::/32", "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", false },
	{ "2001:db8::/32", "2001:db9::", false },
	/* lengths that end inside and on a 6-bit stride */
	{ "10.0.0.0/6", "11.255.255.255", true },
	{ "10.0.0.0/6", "12.0.0.0", false },
	{ "10.0.0.0/7", "11.255.255.255", true },
	{ "10.0.0.0/7", "9.255.255.255", false },
	{ "10.1.2.0/30", "10.1.2.3", true },
	{ "10.1.2.0/30", "10.1.2.4", false },
	{ "10.1.2.0/31", "10.1.2.1", true },
	{ "10.1.2.0/31", "10.1.2.2", false },
	{ "2001:db8::/126", "2001:db8::3", true },
	{ "2001:db8::/126", "2001:db8::4", false },
	{ "2001:db8::/127", "2001:db8::1", true },
	{ "2001:db8::/127", "2001:db8::2", false },
	/* nested and overlapping: the wider one wins */
	{ "10.0.0.0/8 10.1.0.0/16 10.1.2.3", "10.200.0.1", true },
	{ "10.1.2.3 10.1.0.0/16 10.0.0.0/8", "10.200.0.1", true },
	{ "10.1.0.0/16 10.1.2.3", "10.1.200.1", true },
	{ "10.1.0.0/16 10.1.2.3", "10.2.0.0", false },
	{ "10.1.2.3 10.1.2.3 10.1.2.3", "10.1.2.3", true },
	{ "10.1.2.3 10.1.2.3 10.1.2.3", "10.1.2.2", false },
	/* both families in one tree */
	{ "198.51.100.0/24 2001:db8::/32", "198.51.100.1", true },
	{ "198.51.100.0/24 2001:db8::/32", "2001:db8::1", true },
	{ "198.51.100.0/24 2001:db8::/32", "::ffff:198.51.100.1", true },
	{ "198.51.100.0/24 2001:db8::/32", "::198.51.100.1", false },
	{ "198.51.100.0/24 2001:db8::/32", "unknown", false },
	/* mapped prefixes are IPv4 networks */
	{ "::ffff:198.51.100.0/120", "198.51.100.9", true },
	{ "::ffff:198.51.100.0/120", "::ffff:198.51.100.9", true },
	{ "::ffff:198.51.100.0/120", "::198.51.100.9", false },
	{ "::198.51.100.0/120", "::198.51.100.9", true },
	{ "::198.51.100.0/120", "198.51.100.9", false },
};

static size_t parse_prefixes(const char *text, struct ipallow_prefix *arr,
			     size_t max)
{
	size_t count = 0;

	while (*text != '\0') {
		size_t len = strcspn(text, " ");
		const char *error;
		bool host_bits;

		if (len > 0) {
			ck_assert(count < max);
			ck_assert_msg(ipallow_prefix_parse(text, len, &arr[count],
							   &host_bits, &error) == 0,
				      "\"%.*s\": %s", (int)len, text, error);
			count++;
		}
		text += len;
		while (*text == ' ')
			text++;
	}
	return count;
}

START_TEST(test_radix_cases)
{
	const struct radix_case *c = &radix_cases[_i];
	struct ipallow_prefix prefixes[8];
	struct ipallow_radix *radix = NULL;
	struct ipallow_addr addr = test_addr(c->addr);
	size_t count;

	count = parse_prefixes(c->prefixes, prefixes, N_ELEMENTS(prefixes));
	ck_assert_int_eq(build(prefixes, count, &radix), 0);
	ck_assert_msg(ipallow_radix_lookup(radix, &addr) == c->inside,
		      "case %d: [%s] contains %s: want %d", _i, c->prefixes,
		      c->addr, c->inside);
	ck_assert(ipallow_radix_memory(radix) > 0);
	ipallow_radix_free(&radix);
	ck_assert(radix == NULL);
	ipallow_radix_free(&radix);	/* NULL is fine */
}
END_TEST

START_TEST(test_radix_prefix_count)
{
	struct ipallow_prefix prefixes[16];
	struct ipallow_radix *radix;
	size_t count;

	/* covered and duplicate prefixes are dropped, per family */
	count = parse_prefixes("10.0.0.0/8 10.1.0.0/16 10.1.2.3 10.0.0.0/8 "
			       "11.0.0.0/8 2001:db8::/32 2001:db8::1 ::/0 "
			       "::ffff:10.0.0.0/104 12.0.0.1/31 12.0.0.0/31",
			       prefixes, N_ELEMENTS(prefixes));
	ck_assert_int_eq(build(prefixes, count, &radix), 0);
	/* 10/8, 11/8, 12.0.0.0/31, ::/0 */
	ck_assert_uint_eq(ipallow_radix_prefix_count(radix), 4);
	ipallow_radix_free(&radix);

	ck_assert_int_eq(build(prefixes, 0, &radix), 0);
	ck_assert_uint_eq(ipallow_radix_prefix_count(radix), 0);
	ipallow_radix_free(&radix);
	ck_assert_int_eq(build(NULL, 0, &radix), 0);
	ipallow_radix_free(&radix);
}
END_TEST

/* --- random tables --- */

/* A family-independent key: the address left-aligned in 128 bits. */
static u128 key_of(const struct ipallow_addr *addr)
{
	unsigned int i, n = addr->family == IPALLOW_FAMILY_IPV4 ? 4 : 16;
	u128 key = 0;

	for (i = 0; i < n; i++)
		key = (key << 8) | addr->bytes[i];
	return key << (128 - 8 * n);
}

static struct ipallow_addr addr_of(u128 key, unsigned int bits)
{
	struct ipallow_addr addr;
	unsigned int i, n = bits / 8;

	memset(&addr, 0, sizeof(addr));
	addr.family = bits == V4_BITS ? IPALLOW_FAMILY_IPV4 : IPALLOW_FAMILY_IPV6;
	for (i = 0; i < n; i++)
		addr.bytes[i] = (uint8_t)(key >> (120 - 8 * i));
	return addr;
}

static u128 mask_of(unsigned int len)
{
	return len == 0 ? 0 : ~(u128)0 << (128 - len);
}

/* The lowest bit of the family, as a 128-bit left-aligned key. */
static u128 unit_of(unsigned int bits)
{
	return (u128)1 << (128 - bits);
}

static u128 rand128(uint64_t *state)
{
	return ((u128)test_rand(state) << 64) | test_rand(state);
}

static char *str_of(u128 key, unsigned int bits, char buf[IPALLOW_ADDR_STRLEN])
{
	struct ipallow_addr addr = addr_of(key, bits);

	return (char *)ipallow_addr_to_str(&addr, buf);
}

struct table {
	unsigned int bits;
	struct ipallow_prefix *prefixes;
	size_t count;
	/* per-length reference: sorted masked keys of each length */
	u128 *by_len[V6_BITS + 1];
	size_t by_len_count[V6_BITS + 1];
};

/* Appends a prefix; host bits stay as generated unless normalise is set
   (the tree must mask them itself). */
static void table_add(struct table *t, u128 key, unsigned int len,
		      bool normalise)
{
	struct ipallow_prefix *p = &t->prefixes[t->count++];

	key &= mask_of(t->bits);
	if (normalise)
		key &= mask_of(len);
	p->addr = addr_of(key, t->bits);
	p->len = len;
}

/* Random lengths with every length possible, weighted towards the ones
   real lists use. min_len keeps /0 (which covers everything) out of
   most tables. */
static unsigned int random_len(uint64_t *state, unsigned int bits,
			       unsigned int min_len)
{
	uint64_t r = test_rand(state);
	unsigned int len;

	switch (r % 4) {
	case 0:
		len = (unsigned int)(r >> 8) % (bits + 1);
		break;
	case 1:
		len = bits;	/* host routes */
		break;
	default:
		len = bits == V4_BITS ? 16 + (unsigned int)(r >> 8) % 17 :
			32 + (unsigned int)(r >> 8) % 33;
		break;
	}
	return len < min_len ? min_len : len;
}

/* count prefixes clustered around count / per_base bases, so that they
   nest and overlap. */
static void table_random(struct table *t, unsigned int bits, size_t count,
			 uint64_t seed, unsigned int min_len, size_t per_base)
{
	uint64_t state = seed;
	size_t nbases = 1 + count / per_base, i;
	u128 *bases = malloc(nbases * sizeof(*bases));
	bool normalise = seed % 2 == 0;

	ck_assert(bases != NULL);
	memset(t, 0, sizeof(*t));
	t->bits = bits;
	t->prefixes = calloc(count + 1, sizeof(*t->prefixes));
	ck_assert(t->prefixes != NULL);
	for (i = 0; i < nbases; i++)
		bases[i] = rand128(&state);
	for (i = 0; i < count; i++) {
		u128 key = bases[test_rand(&state) % nbases];
		unsigned int len = random_len(&state, bits, min_len);
		uint64_t r = test_rand(&state);
		/* mostly just above the length: siblings and cousins of
		   the base's networks; sometimes anywhere */
		unsigned int flip = r % 4 == 0 ?
			(unsigned int)(r >> 8) % (bits + 1) :
			len - (unsigned int)(r >> 8) % (len < 12 ? len + 1 : 12);

		/* vary the bits below a random position */
		if (flip < bits)
			key ^= rand128(&state) & ~mask_of(flip) & mask_of(bits);
		table_add(t, key, len, normalise);
	}
	free(bases);
}

static int u128_cmp(const void *p1, const void *p2)
{
	u128 a = *(const u128 *)p1, b = *(const u128 *)p2;

	return a < b ? -1 : a > b ? 1 : 0;
}

static void table_index(struct table *t)
{
	size_t i;
	unsigned int len;

	for (i = 0; i < t->count; i++)
		t->by_len_count[t->prefixes[i].len]++;
	for (len = 0; len <= t->bits; len++) {
		t->by_len[len] = malloc((t->by_len_count[len] + 1) * sizeof(u128));
		ck_assert(t->by_len[len] != NULL);
		t->by_len_count[len] = 0;
	}
	for (i = 0; i < t->count; i++) {
		len = t->prefixes[i].len;
		t->by_len[len][t->by_len_count[len]++] =
			key_of(&t->prefixes[i].addr) & mask_of(len);
	}
	for (len = 0; len <= t->bits; len++)
		qsort(t->by_len[len], t->by_len_count[len], sizeof(u128),
		      u128_cmp);
}

static void table_free(struct table *t)
{
	unsigned int len;

	for (len = 0; len <= V6_BITS; len++)
		free(t->by_len[len]);
	free(t->prefixes);
	memset(t, 0, sizeof(*t));
}

/* Reference 1: the linear scan. */
static bool ref_linear(const struct table *t, const struct ipallow_addr *addr)
{
	size_t i;

	for (i = 0; i < t->count; i++) {
		if (ipallow_prefix_contains(&t->prefixes[i], addr))
			return true;
	}
	return false;
}

/* Reference 2: one lookup per length. */
static bool ref_by_len(const struct table *t, u128 key)
{
	unsigned int len;

	for (len = 0; len <= t->bits; len++) {
		u128 masked = key & mask_of(len);

		if (t->by_len_count[len] > 0 &&
		    bsearch(&masked, t->by_len[len], t->by_len_count[len],
			    sizeof(u128), u128_cmp) != NULL)
			return true;
	}
	return false;
}

/* The tree's answer through all three lookup functions, which must
   agree. */
static bool tree_lookup(const struct ipallow_radix *radix, u128 key,
			unsigned int bits, uint64_t seed)
{
	struct ipallow_addr addr = addr_of(key, bits);
	bool inside = ipallow_radix_lookup(radix, &addr), direct;
	char buf[IPALLOW_ADDR_STRLEN];

	if (bits == V4_BITS)
		direct = ipallow_radix_lookup4(radix, (uint32_t)(key >> 96));
	else
		direct = ipallow_radix_lookup6(radix, (uint64_t)(key >> 64),
					       (uint64_t)key);
	ck_assert_msg(inside == direct, "seed %llu: %s: lookup() %d, "
		      "lookup%c() %d", (unsigned long long)seed,
		      str_of(key, bits, buf), inside,
		      bits == V4_BITS ? '4' : '6', direct);
	return inside;
}

/* Queries: the first and last address of every network and their
   neighbours outside, addresses near the prefixes and random ones.
   Returns the number of lookups. */
static size_t table_check(const struct table *t,
			  const struct ipallow_radix *radix, uint64_t seed,
			  size_t random_queries, bool linear,
			  unsigned int linear_every)
{
	uint64_t state = seed ^ 0x5eedULL;
	size_t i, n = 0, queries = t->count * 5 + random_queries;
	u128 unit = unit_of(t->bits);
	char buf[IPALLOW_ADDR_STRLEN];

	for (i = 0; i < queries; i++) {
		u128 key;
		bool want, got;

		if (i < t->count * 5) {
			const struct ipallow_prefix *p = &t->prefixes[i / 5];
			u128 first = key_of(&p->addr) & mask_of(p->len);
			u128 last = first | (~mask_of(p->len) & mask_of(t->bits));

			switch (i % 5) {
			case 0: key = first; break;
			case 1: key = last; break;
			case 2: key = first - unit; break;	/* wraps at 0 */
			case 3: key = last + unit; break;
			default:
				key = first | (rand128(&state) &
					       ~mask_of(p->len));
				break;
			}
		} else {
			key = rand128(&state);
		}
		key &= mask_of(t->bits);
		got = tree_lookup(radix, key, t->bits, seed);
		if (linear || (linear_every > 0 && i % linear_every == 0)) {
			struct ipallow_addr addr = addr_of(key, t->bits);

			want = ref_linear(t, &addr);
			if (!linear) {
				/* the per-length reference agrees too */
				ck_assert_msg(ref_by_len(t, key) == want,
					      "seed %llu: %s: references differ",
					      (unsigned long long)seed,
					      str_of(key, t->bits, buf));
			}
		} else {
			want = ref_by_len(t, key);
		}
		ck_assert_msg(got == want, "seed %llu: %zu prefixes: %s: tree %d, "
			      "reference %d", (unsigned long long)seed, t->count,
			      str_of(key, t->bits, buf), got, want);
		n++;
	}
	/* the other family is never inside */
	{
		struct ipallow_addr other = addr_of(rand128(&state),
			t->bits == V4_BITS ? V6_BITS : V4_BITS);

		ck_assert_msg(!ipallow_radix_lookup(radix, &other),
			      "seed %llu: other family inside",
			      (unsigned long long)seed);
	}
	return n;
}

/* Number of distinct prefixes not inside another one: what the tree
   keeps. */
static size_t reduced_count(const struct table *t)
{
	size_t i, j, kept = 0;

	for (i = 0; i < t->count; i++) {
		const struct ipallow_prefix *p = &t->prefixes[i];
		u128 key = key_of(&p->addr) & mask_of(p->len);
		bool covered = false;

		for (j = 0; j < t->count && !covered; j++) {
			const struct ipallow_prefix *q = &t->prefixes[j];
			u128 qkey = key_of(&q->addr) & mask_of(q->len);

			if (j == i || q->len > p->len ||
			    (key & mask_of(q->len)) != qkey)
				continue;
			/* inside a shorter one, or a duplicate seen before */
			covered = q->len < p->len || j < i;
		}
		if (!covered)
			kept++;
	}
	return kept;
}

/* Small and medium tables (the s = 0 path): 50 seeds per family, each
   checked against the linear scan. */
#define SMALL_SEEDS 50
#define SMALL_RANDOM_QUERIES 1600

static void check_small(unsigned int bits, int i)
{
	uint64_t seed = 1000 + (uint64_t)i * 7919 + bits;
	size_t count = i < 10 ? (size_t)i + 1 : (size_t)(i * i) % 397 + 1;
	struct table t;
	struct ipallow_radix *radix;
	size_t lookups;

	/* a few tables hold a /0, the rest none */
	table_random(&t, bits, count, seed, i % 17 == 16 ? 0 : 1, 8);
	ck_assert_msg(build(t.prefixes, t.count, &radix) == 0,
		      "seed %llu: build failed", (unsigned long long)seed);
	ck_assert_msg(ipallow_radix_prefix_count(radix) == reduced_count(&t),
		      "seed %llu: %zu prefixes kept, want %zu",
		      (unsigned long long)seed, ipallow_radix_prefix_count(radix),
		      reduced_count(&t));
	lookups = table_check(&t, radix, seed, SMALL_RANDOM_QUERIES, true, 0);
	ck_assert(lookups >= SMALL_RANDOM_QUERIES);
	ipallow_radix_free(&radix);
	table_free(&t);
}

START_TEST(test_radix_random_small4)
{
	check_small(V4_BITS, _i);
}
END_TEST

START_TEST(test_radix_random_small6)
{
	check_small(V6_BITS, _i);
}
END_TEST

/* Every length from /1 to the host route: one prefix of each length at
   a random address, and the siblings of one address's path (the network
   of each length that differs from it in its last bit), which makes a
   tree as deep as the family. */
static void check_all_lengths(unsigned int bits, uint64_t seed)
{
	uint64_t state = seed;
	u128 base = rand128(&state);
	struct table t;
	struct ipallow_radix *radix;
	unsigned int len;

	memset(&t, 0, sizeof(t));
	t.bits = bits;
	t.prefixes = calloc(2 * bits + 1, sizeof(*t.prefixes));
	ck_assert(t.prefixes != NULL);
	for (len = 1; len <= bits; len++) {
		table_add(&t, rand128(&state), len, true);
		if (len % 3 != 0)
			table_add(&t, base ^ ((u128)1 << (128 - len)), len, true);
	}
	ck_assert_int_eq(build(t.prefixes, t.count, &radix), 0);
	table_check(&t, radix, seed, 2000, true, 0);
	ipallow_radix_free(&radix);
	table_free(&t);
}

START_TEST(test_radix_all_lengths)
{
	check_all_lengths(V4_BITS, 11 + (uint64_t)_i);
	check_all_lengths(V6_BITS, 23 + (uint64_t)_i);
}
END_TEST

/* Disjoint prefixes in consecutive blocks (10.0.0.0/24 + i, or
   2001:db8:0:i::/64), so that the kept count is exactly count and the
   nodes take far less memory than a direct table: the memory then tells
   whether the direct first level was built. */
static void table_disjoint(struct table *t, unsigned int bits, size_t count,
			   uint64_t seed)
{
	unsigned int block_bits = bits == V4_BITS ? 24 : 64;
	u128 base = bits == V4_BITS ? (u128)0x0a000000 << 96 :
		(u128)0x20010db8 << 96;
	uint64_t state = seed;
	size_t i;

	memset(t, 0, sizeof(*t));
	t->bits = bits;
	t->prefixes = calloc(count, sizeof(*t->prefixes));
	ck_assert(t->prefixes != NULL);
	for (i = 0; i < count; i++) {
		u128 key = base | ((u128)i << (128 - block_bits)) |
			(rand128(&state) & ~mask_of(block_bits));
		unsigned int len = block_bits +
			(unsigned int)(test_rand(&state) % 3);

		table_add(t, key, len, false);
	}
}

/* Size of the direct first level (4 bytes an entry). */
#define DIRECT4_BYTES ((size_t)4 << 18)
#define DIRECT6_BYTES ((size_t)4 << 16)

static const struct threshold_case {
	unsigned int bits;
	size_t count;
	bool direct;
} threshold_cases[] = {
	{ V4_BITS, 4095, false },
	{ V4_BITS, 4096, true },
	{ V6_BITS, 4095, false },
	{ V6_BITS, 4096, true },
};

START_TEST(test_radix_threshold)
{
	const struct threshold_case *c = &threshold_cases[_i];
	uint64_t seed = 77 + (uint64_t)_i;
	size_t direct_bytes = c->bits == V4_BITS ? DIRECT4_BYTES : DIRECT6_BYTES;
	struct ipallow_radix *radix;
	struct table t;

	table_disjoint(&t, c->bits, c->count, seed);
	table_index(&t);
	ck_assert_int_eq(build(t.prefixes, t.count, &radix), 0);
	ck_assert_uint_eq(ipallow_radix_prefix_count(radix), c->count);
	/* the direct table is there exactly from 4096 prefixes on */
	ck_assert_msg(ipallow_radix_is_flat(radix) ||
		      (ipallow_radix_memory(radix) >= direct_bytes) == c->direct,
		      "case %d: seed %llu: %zu bytes", _i,
		      (unsigned long long)seed, ipallow_radix_memory(radix));
	table_check(&t, radix, seed, 20000, false, 40);
	ipallow_radix_free(&radix);
	table_free(&t);
}
END_TEST

/* Large random tables with overlaps and short prefixes (which fill
   ranges of the direct table). */
static const struct large_case {
	unsigned int bits;
	size_t count;
	uint64_t seed;
} large_cases[] = {
	{ V4_BITS, 9000, 4242 },
	{ V6_BITS, 6000, 4243 },
};

START_TEST(test_radix_random_large)
{
	const struct large_case *c = &large_cases[_i];
	size_t direct_bytes = c->bits == V4_BITS ? DIRECT4_BYTES : DIRECT6_BYTES;
	uint64_t state = c->seed;
	struct ipallow_radix *radix;
	struct table t;
	size_t i;

	table_random(&t, c->bits, c->count, c->seed, 0, 2);
	/* replace the random lengths by long ones, except a few short
	   ones, so that enough prefixes survive for the direct table */
	for (i = 0; i < t.count; i++) {
		unsigned int min = c->bits == V4_BITS ? 19 : 17;

		if (i < 6)
			t.prefixes[i].len = 5 + (unsigned int)i;	/* /5../10 */
		else if (i < 60)
			t.prefixes[i].len = 11 + (unsigned int)(test_rand(&state) %
							       (min - 11));
		else if (t.prefixes[i].len < min)
			t.prefixes[i].len = min + (unsigned int)(test_rand(&state) %
							(c->bits - min + 1));
	}
	table_index(&t);
	ck_assert_int_eq(build(t.prefixes, t.count, &radix), 0);
	ck_assert_msg(ipallow_radix_prefix_count(radix) >= 4096,
		      "seed %llu: only %zu prefixes kept",
		      (unsigned long long)c->seed,
		      ipallow_radix_prefix_count(radix));
	ck_assert(ipallow_radix_is_flat(radix) ||
		  ipallow_radix_memory(radix) >= direct_bytes);
	table_check(&t, radix, c->seed, 40000, false, 50);
	ipallow_radix_free(&radix);
	table_free(&t);
}
END_TEST

/* Both sides of the list crossover: IPALLOW_RADIX_FLAT_MAX disjoint
   prefixes make the flat form, one more a tree, and both answer as the
   linear scan does. */
START_TEST(test_radix_crossover)
{
	unsigned int bits = _i / 2 == 0 ? V4_BITS : V6_BITS;
	size_t count = IPALLOW_RADIX_FLAT_MAX + (size_t)(_i % 2);
	uint64_t seed = 991 + (uint64_t)_i;
	struct ipallow_radix *radix;
	struct table t;

	table_disjoint(&t, bits, count, seed);
	table_index(&t);
	ck_assert_int_eq(ipallow_radix_build_list(t.prefixes, t.count, &radix),
			 0);
	ck_assert(ipallow_radix_is_flat(radix) == (_i % 2 == 0));
	ck_assert_uint_eq(ipallow_radix_prefix_count(radix), count);
	table_check(&t, radix, seed, 20000, false, 40);
	ipallow_radix_free(&radix);
	table_free(&t);
}
END_TEST

/* tcase names are not copied by check: they must outlive the suite */
struct form_tcases {
	const char *cases, *small, *large;
	void (*setup)(void);
};

static void add_form_tcases(Suite *s, const struct form_tcases *f)
{
	TCase *tc;

	tc = tcase_create(f->cases);
	tcase_add_checked_fixture(tc, f->setup, NULL);
	tcase_add_loop_test(tc, test_radix_cases, 0, N_ELEMENTS(radix_cases));
	tcase_add_test(tc, test_radix_prefix_count);
	suite_add_tcase(s, tc);

	tc = tcase_create(f->small);
	tcase_add_checked_fixture(tc, f->setup, NULL);
	tcase_add_loop_test(tc, test_radix_random_small4, 0, SMALL_SEEDS);
	tcase_add_loop_test(tc, test_radix_random_small6, 0, SMALL_SEEDS);
	tcase_add_loop_test(tc, test_radix_all_lengths, 0, 4);
	suite_add_tcase(s, tc);

	tc = tcase_create(f->large);
	tcase_add_checked_fixture(tc, f->setup, NULL);
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_radix_threshold, 0,
			    N_ELEMENTS(threshold_cases));
	tcase_add_loop_test(tc, test_radix_random_large, 0,
			    N_ELEMENTS(large_cases));
	suite_add_tcase(s, tc);
}

static const struct form_tcases forms[] = {
	{ "tree cases", "tree random small", "tree random large", form_tree },
	{ "flat cases", "flat random small", "flat random large", form_flat },
	{ "list cases", "list random small", "list random large", form_list },
};

static Suite *radix_suite(void)
{
	Suite *s = suite_create("radix");
	TCase *tc;

	for (size_t i = 0; i < N_ELEMENTS(forms); i++)
		add_form_tcases(s, &forms[i]);

	tc = tcase_create("crossover");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_radix_crossover, 0, 4);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run_suite(radix_suite());
}
