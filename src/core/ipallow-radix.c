/* A compiled, immutable radix tree for "is this address in the set".

   Layout: a multibit trie with 6-bit strides whose nodes are compressed
   with two 64-bit bitmaps (the idea of Poptrie, Asai & Ohara, SIGCOMM
   2015), behind the bits all prefixes share and a direct-indexed first
   level. One family (IPv4 or IPv6) of a tree:

     address bits:  | common (c) | direct (s) | 6 | 6 | 6 | ...
                         |             |
     common:  c bits every prefix shares; any other value is outside
                                       |
     direct[]:  [ L0 | L1 | n7 | L0 | n8 | ... ]    2^s entries, 4 bytes
                            |          |            L0/L1: leaf, outside/inside
                            v          v            nK: index of node K
     nodes[]:   +---------------------------+
                | child  0010...0100  (64b) |  bit i: slot i has a child
                | leaf   1100...0000  (64b) |  bit i: slot i is inside
                | base   -> first child     |  children are contiguous
                | skip   n, bits            |  IPv6: n more key bits to
                +---------------------------+  match first (0, 6, ..., 24)
     child of slot i = nodes[base + popcount(child & ((1 << i) - 1))]

   Why this shape:
   - Lookup is bounded by address bits, not by the number of prefixes:
     at most ceil((32 - c - s) / 6) node steps for IPv4 and
     ceil((128 - c - s) / 6) for IPv6, each one load and one popcount.
     Nothing is allocated, no lock taken.
   - Membership needs one bit per slot, not a next hop, so a node is 24
     bytes for 64 slots (the skip fills what was padding). Prefixes are leaf-pushed: a /20 inside a node's
     6-bit window simply sets 4 leaf bits. A set of a million IPv4
     prefixes takes a few MB instead of the hundreds of an LPM table.
   - The common bits cost one compare and save the steps through them:
     a company's list often shares 20 or 40 leading bits, every IPv6 set
     under 2000::/3 at least 3. Further down, IPv6 nodes skip the nodes
     that would have one child and no leaf (a /48 alone under its /32
     makes three), up to 24 bits at a time: half the memory of a 100k
     IPv6 set and a quarter more lookups per second.
   - The direct level has about 16 entries per prefix for small sets (a
     list of 10 IPv4 prefixes: 256 entries, 1 KB), so most addresses
     outside a list are answered by one load and those inside start a
     few steps down. Large sets (named sets from 4096 prefixes on) get
     2^18 (IPv4) or 2^16 (IPv6) entries, 1 MB or 256 KB, which saves
     three node steps on every lookup.
   - Built once from a sorted, de-overlapped array (prefixes covered by
     another are dropped: only membership matters), sized exactly (by
     counting heads per level, or for IPv6 by a first run of the build
     that only counts), and laid out in one allocation (struct, nodes,
     direct tables) that one free() releases, then frozen and shared by
     every login.

   Both families live in one object; lookup4 and lookup6 are separate
   tight loops. */
#include "config.h"
#include "ipallow-radix.h"
#include "ipallow-alloc.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

typedef unsigned __int128 ipallow_u128;

#define STRIDE 6
#define DIRECT_LEAF 0x80000000u
#define DIRECT_INSIDE 1u
/* The direct first level has 2^s entries: about 16 per prefix for
   small sets, and for large ones (from DIRECT_MIN_PREFIXES on) the fixed
   DIRECT_BITS_IPV4 or DIRECT_BITS_IPV6. */
#define DIRECT_MIN_PREFIXES 4096
#define DIRECT_PER_PREFIX_BITS 4
#define DIRECT_BITS_IPV4 18
#define DIRECT_BITS_IPV6 16
/* Bits one node may skip: what fits next to the count in 32 bits. */
#define SKIP_MAX 24
/* Ranges up to which a flat lookup scans instead of halving. */
#define FLAT_SCAN 8
/* Prefix count up to which the build's scratch array is on the stack. */
#define SMALL_BUILD 32

struct radix_node {
	uint64_t child;
	uint64_t leaf;
	uint32_t base;
	/* Path compression: the low 8 bits say how many key bits (0 to
	   SKIP_MAX) come before this node's 6-bit slot, the high 24 bits
	   what they must be. The nodes that would have stood there had one
	   child and no leaf, so any other value is outside. */
	uint32_t skip;
};

struct radix_family {
	/* c: the leading bits every prefix of the family shares, and
	   their value (left-aligned, the rest 0). An address that differs
	   there is outside; the tree below indexes the bits after them. */
	unsigned int common_bits;
	ipallow_u128 common;
	unsigned int direct_bits;	/* s: 0 means a single root entry */
	uint32_t *direct;		/* 2^s entries, in the arena */
	struct radix_node *nodes;	/* in the arena */
	uint32_t node_count, node_alloc;
	/* Nodes may skip bits (IPv6 only: see build_node()). */
	bool compress;
	size_t prefix_count;
};

/* The flat form (see ipallow_radix_build_list()): the networks as
   sorted, disjoint, non-adjacent ranges of addresses, first[i] <= last[i]
   < first[i + 1] - 1. */
struct radix_flat {
	uint32_t count4, count6;
	uint32_t *first4, *last4;	/* in the arena */
	ipallow_u128 *first6, *last6;	/* in the arena */
};

struct ipallow_radix {
	struct radix_family v4, v6;
	/* The CPU has POPCNT: use the lookup loops compiled for it. */
	bool popcnt;
	/* Sorted ranges instead of a tree: v4 and v6 hold only
	   prefix_count. */
	bool flat;
	struct radix_flat ranges;
	size_t memory;		/* bytes of the arena, this struct included */
	/* the arena follows: v4 nodes, v6 nodes, v4 direct, v6 direct */
};

/* A prefix while building: key left-aligned in 128 bits. */
struct build_prefix {
	ipallow_u128 key;
	unsigned int len;
};

static ipallow_u128 key_from_addr(const struct ipallow_addr *addr)
{
	ipallow_u128 key = 0;
	unsigned int i, n = addr->family == IPALLOW_FAMILY_IPV4 ? 4 : 16;

	for (i = 0; i < n; i++)
		key = (key << 8) | addr->bytes[i];
	return key << (128 - 8 * n);
}

static ipallow_u128 mask_of(unsigned int len)
{
	return len == 0 ? 0 : ~(ipallow_u128)0 << (128 - len);
}

static unsigned int slot_of(ipallow_u128 key, unsigned int off,
			    unsigned int stride)
{
	/* off + stride may pass the family's width: the bits there are 0. */
	return (unsigned int)((key << off) >> (128 - stride));
}

static int build_prefix_cmp(const void *p1, const void *p2)
{
	const struct build_prefix *a = p1, *b = p2;

	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	return a->len < b->len ? -1 : a->len > b->len ? 1 : 0;
}

/* Per-user lists are short: sorting them by insertion avoids qsort()'s
   merge buffer and calls through a function pointer. */
static void build_prefixes_sort(struct build_prefix *arr, size_t count)
{
	size_t i, j;

	if (count > 32) {
		qsort(arr, count, sizeof(*arr), build_prefix_cmp);
		return;
	}
	for (i = 1; i < count; i++) {
		struct build_prefix tmp = arr[i];

		for (j = i; j > 0 && build_prefix_cmp(&arr[j - 1], &tmp) > 0; j--)
			arr[j] = arr[j - 1];
		arr[j] = tmp;
	}
}

/* Least significant digit radix sort on the key's bytes, skipping the
   bytes every key shares (the low 96 bits of IPv4 keys, the zero tail of
   IPv6 /64s and shorter, a list's common head), then an insertion pass
   for equal keys of different lengths (adjacent and rare, so that pass
   is linear). A list of 1000 prefixes in random order took qsort() most
   of a flat compile; this is several times faster. tmp holds count
   entries. */
static void build_prefixes_radix_sort(struct build_prefix *arr,
				      struct build_prefix *tmp, size_t count)
{
	uint32_t hist[256];
	struct build_prefix *src = arr, *dst = tmp, *swap;
	ipallow_u128 diff = 0;
	size_t i, j;
	unsigned int d;

	for (i = 1; i < count; i++)
		diff |= arr[i].key ^ arr[0].key;
	for (d = 0; d < 16 && diff != 0; d++) {
		unsigned int shift = 8 * d;
		uint32_t sum = 0;

		if (((diff >> shift) & 0xff) == 0)
			continue;	/* every key has this byte */
		memset(hist, 0, sizeof(hist));
		for (i = 0; i < count; i++)
			hist[(unsigned int)(src[i].key >> shift) & 0xff]++;
		for (j = 0; j < 256; j++) {
			uint32_t c = hist[j];

			hist[j] = sum;
			sum += c;
		}
		for (i = 0; i < count; i++)
			dst[hist[(unsigned int)(src[i].key >> shift) & 0xff]++] =
				src[i];
		swap = src;
		src = dst;
		dst = swap;
	}
	if (src != arr)
		memcpy(arr, src, count * sizeof(*arr));
	for (i = 1; i < count; i++) {
		struct build_prefix t = arr[i];

		for (j = i; j > 0 && build_prefix_cmp(&arr[j - 1], &t) > 0; j--)
			arr[j] = arr[j - 1];
		arr[j] = t;
	}
}

/* Sorts and drops every prefix covered by another. Returns the new
   count. tmp (count entries) may be NULL: then qsort() sorts long
   arrays. */
static size_t build_prefixes_reduce(struct build_prefix *arr,
				    struct build_prefix *tmp, size_t count)
{
	size_t i, kept = 0;

	if (tmp != NULL && count > SMALL_BUILD)
		build_prefixes_radix_sort(arr, tmp, count);
	else
		build_prefixes_sort(arr, count);
	for (i = 0; i < count; i++) {
		if (kept > 0 &&
		    (arr[i].key & mask_of(arr[kept - 1].len)) == arr[kept - 1].key)
			continue;	/* inside the last kept prefix */
		arr[kept++] = arr[i];
	}
	return kept;
}

/* Nodes an uncompressed family needs: one at offset o for each distinct
   o-bit head of the prefixes longer than o, for o = s, s + 6, ... (arr
   is sorted, so equal heads are adjacent). */
static size_t count_nodes(const struct build_prefix *arr, size_t count,
			  unsigned int s, unsigned int width)
{
	size_t total = 0;

	for (unsigned int off = s; off < width; off += STRIDE) {
		ipallow_u128 mask = mask_of(off), prev = 0;
		bool have_prev = false, deeper = false;

		for (size_t i = 0; i < count; i++) {
			if (arr[i].len <= off)
				continue;
			deeper = true;
			if (!have_prev || (arr[i].key & mask) != prev) {
				prev = arr[i].key & mask;
				have_prev = true;
				total++;
			}
		}
		if (!deeper)
			break;
	}
	return total;
}

/* Takes count nodes. A compressed (IPv6) build runs twice: first
   without nodes (NULL), only counting, so that the real run gets one
   exactly sized block. */
static uint32_t family_take_nodes(struct radix_family *fam, uint32_t count)
{
	uint32_t first = fam->node_count;

	assert(fam->nodes == NULL ||
	       count <= fam->node_alloc - fam->node_count);
	fam->node_count += count;
	return first;
}

/* Fills node idx from arr[lo..hi), which all share the key bits above off
   and are longer than off. Prefixes are sorted and disjoint. */
static void build_node(struct radix_family *fam, uint32_t idx,
		       const struct build_prefix *arr, size_t lo, size_t hi,
		       unsigned int off)
{
	size_t child_lo[64], child_hi[64];
	unsigned int nchild = 0, i, skip = 0, min_len = 128;
	uint64_t child = 0, leaf = 0;
	uint32_t base = 0, skip_field = 0;
	size_t j = lo;

	assert(off < 128);
	/* A node whose prefixes all go on through one slot would have one
	   child and no leaf: skip it, and the next ones like it. Only in
	   IPv6 trees, where a /48 alone under its /32 makes a chain of
	   three such nodes; IPv4 chains are short, and checking a skip on
	   every step cost small IPv4 sets a fifth of their rate. */
	for (j = lo; j < hi; j++) {
		if (arr[j].len < min_len)
			min_len = arr[j].len;
	}
	while (fam->compress && skip + STRIDE <= SKIP_MAX &&
	       min_len > off + skip + STRIDE &&
	       slot_of(arr[lo].key, off + skip, STRIDE) ==
	       slot_of(arr[hi - 1].key, off + skip, STRIDE))
		skip += STRIDE;
	if (skip > 0) {
		skip_field = (slot_of(arr[lo].key, off, skip) << 8) | skip;
		off += skip;
	}
	j = lo;
	while (j < hi) {
		unsigned int slot = slot_of(arr[j].key, off, STRIDE);

		if (arr[j].len <= off + STRIDE) {
			unsigned int span = 1u << (off + STRIDE - arr[j].len);
			uint64_t bits = span == 64 ? ~(uint64_t)0 :
				(((uint64_t)1 << span) - 1) << slot;

			leaf |= bits;
			j++;
			continue;
		}
		child_lo[nchild] = j;
		while (j < hi && slot_of(arr[j].key, off, STRIDE) == slot)
			j++;
		child_hi[nchild] = j;
		child |= (uint64_t)1 << slot;
		nchild++;
	}
	if (nchild > 0)
		base = family_take_nodes(fam, nchild);
	if (fam->nodes != NULL) {
		fam->nodes[idx].child = child;
		fam->nodes[idx].leaf = leaf & ~child;
		fam->nodes[idx].base = base;
		fam->nodes[idx].skip = skip_field;
	}
	/* slots ascend, so child i is the i-th set bit of child */
	for (i = 0; i < nchild; i++) {
		build_node(fam, base + i, arr, child_lo[i], child_hi[i],
			   off + STRIDE);
	}
}

static void build_family(struct radix_family *fam,
			 const struct build_prefix *arr, size_t count)
{
	unsigned int s = fam->direct_bits;
	size_t nentries = (size_t)1 << s, j = 0;
	bool dry = fam->direct == NULL;

	for (size_t e = 0; !dry && e < nentries; e++)
		fam->direct[e] = DIRECT_LEAF;
	while (j < count) {
		size_t entry = s == 0 ? 0 : slot_of(arr[j].key, 0, s);

		if (arr[j].len <= s) {
			size_t span = (size_t)1 << (s - arr[j].len);

			for (size_t e = entry; !dry && e < entry + span; e++)
				fam->direct[e] = DIRECT_LEAF | DIRECT_INSIDE;
			j++;
		} else {
			size_t lo = j;
			uint32_t node;

			while (j < count &&
			       (s == 0 || slot_of(arr[j].key, 0, s) == entry))
				j++;
			node = family_take_nodes(fam, 1);
			build_node(fam, node, arr, lo, j, s);
			if (!dry)
				fam->direct[entry] = node;
		}
	}
	assert(dry || fam->node_count == fam->node_alloc);
}

/* Sorts and reduces one family and sizes it: direct bits and nodes. */
static int plan_family(struct radix_family *fam, struct build_prefix *arr,
		       struct build_prefix *tmp, size_t *count,
		       unsigned int big_direct_bits, unsigned int width)
{
	unsigned int c, s, min_len = width, max_len = 0;
	size_t nodes, n = *count, i;

	n = *count = build_prefixes_reduce(arr, tmp, n);
	fam->prefix_count = n;
	/* The bits all prefixes share: those of the first and the last key
	   (they are sorted), but no more than the shortest prefix has. A
	   company's list often shares 20 or 40 bits, and every IPv6 set
	   under 2000::/3 shares 3 or more. At most width - 1, so the shifts
	   in lookup stay defined. */
	for (i = 0; i < n; i++) {
		if (arr[i].len < min_len)
			min_len = arr[i].len;
		if (arr[i].len > max_len)
			max_len = arr[i].len;
	}
	c = 0;
	if (n > 0) {
		ipallow_u128 diff = arr[0].key ^ arr[n - 1].key;

		while (c < min_len && c < width - 1 &&
		       (diff >> (127 - c) & 1) == 0)
			c++;
		fam->common = arr[0].key & mask_of(c);
		for (i = 0; i < n; i++) {
			arr[i].key <<= c;
			arr[i].len -= c;
		}
		max_len -= c;
	}
	fam->common_bits = c;

	if (n >= DIRECT_MIN_PREFIXES) {
		s = big_direct_bits;
	} else {
		/* about 2^DIRECT_PER_PREFIX_BITS entries per prefix: misses
		   end in the direct table, hits start a few steps down */
		for (s = 0; ((size_t)1 << s) <= n; s++)
			;
		s += DIRECT_PER_PREFIX_BITS;
		if (s > big_direct_bits - 1)
			s = big_direct_bits - 1;
		if (s > max_len)
			s = max_len;	/* the direct table alone decides */
	}
	fam->direct_bits = s;
	fam->compress = width == 128;
	if (fam->compress) {
		/* the counting run */
		fam->nodes = NULL;
		fam->direct = NULL;
		fam->node_count = 0;
		build_family(fam, arr, n);
		nodes = fam->node_count;
		fam->node_count = 0;
	} else {
		nodes = count_nodes(arr, n, s, width - c);
	}
	/* node indexes must stay clear of DIRECT_LEAF */
	if (nodes >= DIRECT_LEAF)
		return -1;
	fam->node_alloc = (uint32_t)nodes;
	return 0;
}

static bool radix_cpu_has_popcnt(void)
{
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__POPCNT__)
	__builtin_cpu_init();
	return __builtin_cpu_supports("popcnt") != 0;
#else
	return false;
#endif
}

/* The ranges of arr[0..n) (sorted, none covering another), adjacent
   ones merged, into first/last (NULL: only count them). Keys stay
   left-aligned in 128 bits. Returns the number of ranges. */
static size_t flat_ranges(const struct build_prefix *arr, size_t n,
			  unsigned int width, ipallow_u128 *first,
			  ipallow_u128 *last)
{
	ipallow_u128 unit = (ipallow_u128)1 << (128 - width), cur_last = 0;
	ipallow_u128 family_mask = mask_of(width);
	size_t i, ranges = 0;

	for (i = 0; i < n; i++) {
		ipallow_u128 l = arr[i].key | (~mask_of(arr[i].len) & family_mask);

		/* disjoint and sorted: arr[i].key > cur_last, and no range
		   follows one that ends at the family's last address */
		if (ranges > 0 && arr[i].key == cur_last + unit) {
			cur_last = l;
			if (last != NULL)
				last[ranges - 1] = l;
			continue;
		}
		if (first != NULL) {
			first[ranges] = arr[i].key;
			last[ranges] = l;
		}
		cur_last = l;
		ranges++;
	}
	return ranges;
}

static int radix_build_flat(struct build_prefix *v4, size_t n4,
			    struct build_prefix *v6, size_t n6,
			    struct build_prefix *tmp,
			    struct ipallow_radix **radix_r)
{
	struct ipallow_radix *radix;
	size_t r4, r6, i;
	unsigned char *p;

	n4 = build_prefixes_reduce(v4, tmp, n4);
	n6 = build_prefixes_reduce(v6, tmp, n6);
	r4 = flat_ranges(v4, n4, 32, NULL, NULL);
	r6 = flat_ranges(v6, n6, 128, NULL, NULL);
	/* struct (16-byte aligned), v6 ranges, v4 ranges */
	radix = ipallow_malloc(sizeof(*radix) + r6 * 2 * sizeof(ipallow_u128) +
			       r4 * 2 * sizeof(uint32_t));
	if (radix == NULL)
		return -1;
	memset(radix, 0, sizeof(*radix));
	radix->flat = true;	/* and popcnt false: see the lookups */
	radix->memory = sizeof(*radix) + r6 * 2 * sizeof(ipallow_u128) +
		r4 * 2 * sizeof(uint32_t);
	radix->v4.prefix_count = n4;
	radix->v6.prefix_count = n6;
	radix->ranges.count4 = (uint32_t)r4;
	radix->ranges.count6 = (uint32_t)r6;
	p = (unsigned char *)(radix + 1);
	radix->ranges.first6 = (ipallow_u128 *)p;
	radix->ranges.last6 = radix->ranges.first6 + r6;
	p += r6 * 2 * sizeof(ipallow_u128);
	radix->ranges.first4 = (uint32_t *)p;
	radix->ranges.last4 = radix->ranges.first4 + r4;
	flat_ranges(v6, n6, 128, radix->ranges.first6, radix->ranges.last6);
	/* IPv4 ranges as 32-bit integers: the scratch tmp holds them
	   left-aligned first (it has room for n4 >= r4 prefixes, 2 keys
	   each) */
	if (r4 > 0) {
		ipallow_u128 *f = (ipallow_u128 *)(void *)tmp, *l = f + r4;

		flat_ranges(v4, n4, 32, f, l);
		for (i = 0; i < r4; i++) {
			radix->ranges.first4[i] = (uint32_t)(f[i] >> 96);
			radix->ranges.last4[i] = (uint32_t)(l[i] >> 96);
		}
	}
	*radix_r = radix;
	return 0;
}

enum radix_form {
	RADIX_FORM_TREE,
	RADIX_FORM_FLAT,
};

static int radix_build(struct ipallow_prefix *prefixes, size_t count,
		       enum radix_form form, struct ipallow_radix **radix_r)
{
	struct ipallow_radix plan, *radix;
	/* per-user lists fit on the stack: no scratch allocation */
	struct build_prefix small[SMALL_BUILD * 2], *all = small, *tmp, *v4, *v6;
	size_t n4 = 0, n6 = 0, i, nodes_bytes, direct_bytes;
	unsigned char *p;
	int ret;

	*radix_r = NULL;
	memset(&plan, 0, sizeof(plan));
	/* v4 from the front of one scratch array, v6 from the back; the
	   second half is the sort's (and the flat form's) scratch */
	if (count > SMALL_BUILD) {
		all = ipallow_reallocarray(NULL, count, 2 * sizeof(*all));
		if (all == NULL)
			return -1;
	}
	tmp = all + (count > SMALL_BUILD ? count : SMALL_BUILD);
	for (i = 0; i < count; i++) {
		const struct ipallow_prefix *pfx = &prefixes[i];
		struct build_prefix *bp;

		assert(pfx->addr.family == IPALLOW_FAMILY_IPV4 ?
		       pfx->len <= 32 : pfx->len <= 128);
		assert(pfx->addr.family != IPALLOW_FAMILY_NONE);
		bp = pfx->addr.family == IPALLOW_FAMILY_IPV4 ?
			&all[n4++] : &all[count - ++n6];
		bp->key = key_from_addr(&pfx->addr) & mask_of(pfx->len);
		bp->len = pfx->len;
	}
	v4 = all;
	v6 = all + (count - n6);
	if (form == RADIX_FORM_FLAT) {
		ret = radix_build_flat(v4, n4, v6, n6, tmp, radix_r);
		if (all != small)
			ipallow_free(all);
		return ret;
	}
	if (plan_family(&plan.v4, v4, tmp, &n4, DIRECT_BITS_IPV4, 32) < 0 ||
	    plan_family(&plan.v6, v6, tmp, &n6, DIRECT_BITS_IPV6, 128) < 0) {
		if (all != small)
			ipallow_free(all);
		return -1;
	}

	/* One arena: nodes first (8-byte aligned after the struct), then
	   the direct tables. Freed in one call. */
	nodes_bytes = ((size_t)plan.v4.node_alloc + plan.v6.node_alloc) *
		sizeof(struct radix_node);
	direct_bytes = (((size_t)1 << plan.v4.direct_bits) +
			((size_t)1 << plan.v6.direct_bits)) * sizeof(uint32_t);
	plan.memory = sizeof(*radix) + nodes_bytes + direct_bytes;
	radix = ipallow_malloc(plan.memory);
	if (radix == NULL) {
		if (all != small)
			ipallow_free(all);
		return -1;
	}
	*radix = plan;
	p = (unsigned char *)(radix + 1);
	radix->v4.nodes = (struct radix_node *)p;
	radix->v6.nodes = radix->v4.nodes + plan.v4.node_alloc;
	p += nodes_bytes;
	radix->v4.direct = (uint32_t *)p;
	radix->v6.direct = radix->v4.direct + ((size_t)1 << plan.v4.direct_bits);
	build_family(&radix->v4, v4, n4);
	build_family(&radix->v6, v6, n6);
	radix->popcnt = radix_cpu_has_popcnt();
	if (all != small)
		ipallow_free(all);
	*radix_r = radix;
	return 0;
}

int ipallow_radix_build(struct ipallow_prefix *prefixes, size_t count,
			struct ipallow_radix **radix_r)
{
	return radix_build(prefixes, count, RADIX_FORM_TREE, radix_r);
}

int ipallow_radix_build_flat(struct ipallow_prefix *prefixes, size_t count,
			     struct ipallow_radix **radix_r)
{
	return radix_build(prefixes, count, RADIX_FORM_FLAT, radix_r);
}

int ipallow_radix_build_list(struct ipallow_prefix *prefixes, size_t count,
			     struct ipallow_radix **radix_r)
{
	return radix_build(prefixes, count,
			   count <= IPALLOW_RADIX_FLAT_MAX ? RADIX_FORM_FLAT :
			   RADIX_FORM_TREE, radix_r);
}

bool ipallow_radix_is_flat(const struct ipallow_radix *radix)
{
	return radix->flat;
}

/* The flat form's lookups: the last range starting at or before the
   address, found by a scan when there are few and in binary otherwise
   (the halving loop compiles to conditional moves). */
static bool flat_lookup4(const struct radix_flat *f, uint32_t addr)
{
	const uint32_t *first = f->first4;
	size_t n = f->count4, lo = 0, len = n;

	if (n == 0)
		return false;
	if (n <= FLAT_SCAN) {
		while (lo < n && first[lo] <= addr)
			lo++;
		return lo > 0 && addr <= f->last4[lo - 1];
	}
	while (len > 1) {
		size_t half = len / 2;

		lo = first[lo + half] <= addr ? lo + half : lo;
		len -= half;
	}
	return first[lo] <= addr && addr <= f->last4[lo];
}

static bool flat_lookup6(const struct radix_flat *f, ipallow_u128 addr)
{
	const ipallow_u128 *first = f->first6;
	size_t n = f->count6, lo = 0, len = n;

	if (n == 0)
		return false;
	if (n <= FLAT_SCAN) {
		while (lo < n && first[lo] <= addr)
			lo++;
		return lo > 0 && addr <= f->last6[lo - 1];
	}
	while (len > 1) {
		size_t half = len / 2;

		lo = first[lo + half] <= addr ? lo + half : lo;
		len -= half;
	}
	return first[lo] <= addr && addr <= f->last6[lo];
}

/* The lookup loops, written once and compiled twice below: for any
   x86-64 and for one with POPCNT. Without it __builtin_popcountll() is a
   call into libgcc on every step; Debian builds for baseline x86-64, so
   the choice is made at run time, once per tree, by a branch that always
   goes the same way. */
static inline __attribute__((always_inline)) bool
lookup4_loop(const struct radix_family *fam, uint32_t addr)
{
	uint64_t key = (uint64_t)addr << 32;
	unsigned int c = fam->common_bits, off = fam->direct_bits;
	uint32_t e;

	/* the shared leading bits (two shifts: c may be 0) */
	if ((((key ^ (uint64_t)(fam->common >> 64)) >> 1) >> (63 - c)) != 0)
		return false;
	key <<= c;
	e = fam->direct[off == 0 ? 0 : key >> (64 - off)];
	while ((e & DIRECT_LEAF) == 0) {
		const struct radix_node *node = &fam->nodes[e];
		unsigned int slot = (unsigned int)((key << off) >> (64 - STRIDE));
		uint64_t bit = (uint64_t)1 << slot;

		if ((node->child & bit) == 0)
			return (node->leaf & bit) != 0;
		e = node->base +
			(uint32_t)__builtin_popcountll(node->child & (bit - 1));
		off += STRIDE;	/* nodes exist only below /32: off < 32 */
	}
	return (e & DIRECT_INSIDE) != 0;
}

static inline __attribute__((always_inline)) bool
lookup6_loop(const struct radix_family *fam, uint64_t hi, uint64_t lo)
{
	ipallow_u128 key = ((ipallow_u128)hi << 64) | lo;
	unsigned int c = fam->common_bits, off = fam->direct_bits;
	uint32_t e;

	if ((((key ^ fam->common) >> 1) >> (127 - c)) != 0)
		return false;
	key <<= c;
	e = fam->direct[off == 0 ? 0 : (size_t)(key >> (128 - off))];
	while ((e & DIRECT_LEAF) == 0) {
		const struct radix_node *node = &fam->nodes[e];
		uint32_t skip = node->skip;
		unsigned int slot;
		uint64_t bit;

		/* the skipped bits (two shifts: there may be none) */
		if ((((key << off) >> 1) >> (127 - (skip & 0xff))) != skip >> 8)
			return false;
		off += skip & 0xff;
		slot = (unsigned int)((key << off) >> (128 - STRIDE));
		bit = (uint64_t)1 << slot;

		if ((node->child & bit) == 0)
			return (node->leaf & bit) != 0;
		e = node->base +
			(uint32_t)__builtin_popcountll(node->child & (bit - 1));
		off += STRIDE;	/* nodes exist only below /128: off < 128 */
	}
	return (e & DIRECT_INSIDE) != 0;
}

/* Both versions are separate functions, so that the exported ones are a
   test and a jump: inlining one of them there made every lookup save and
   restore the registers of the loop first. */
static __attribute__((noinline)) bool
lookup4_any(const struct radix_family *fam, uint32_t addr)
{
	return lookup4_loop(fam, addr);
}

static __attribute__((noinline)) bool
lookup6_any(const struct radix_family *fam, uint64_t hi, uint64_t lo)
{
	return lookup6_loop(fam, hi, lo);
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__POPCNT__)
#  define RADIX_POPCNT_CLONES
static __attribute__((target("popcnt"), noinline)) bool
lookup4_popcnt(const struct radix_family *fam, uint32_t addr)
{
	return lookup4_loop(fam, addr);
}

static __attribute__((target("popcnt"), noinline)) bool
lookup6_popcnt(const struct radix_family *fam, uint64_t hi, uint64_t lo)
{
	return lookup6_loop(fam, hi, lo);
}
#endif

/* The tree's POPCNT test comes first and a flat form never has popcnt
   set, so a tree's lookup runs exactly the instructions it ran before
   the flat form existed. */
bool ipallow_radix_lookup4(const struct ipallow_radix *radix, uint32_t addr)
{
#ifdef RADIX_POPCNT_CLONES
	if (radix->popcnt)
		return lookup4_popcnt(&radix->v4, addr);
#endif
	if (radix->flat)
		return flat_lookup4(&radix->ranges, addr);
	return lookup4_any(&radix->v4, addr);
}

bool ipallow_radix_lookup6(const struct ipallow_radix *radix,
			   uint64_t hi, uint64_t lo)
{
#ifdef RADIX_POPCNT_CLONES
	if (radix->popcnt)
		return lookup6_popcnt(&radix->v6, hi, lo);
#endif
	if (radix->flat) {
		return flat_lookup6(&radix->ranges,
				    ((ipallow_u128)hi << 64) | lo);
	}
	return lookup6_any(&radix->v6, hi, lo);
}

bool ipallow_radix_lookup(const struct ipallow_radix *radix,
			  const struct ipallow_addr *addr)
{
	const uint8_t *b = addr->bytes;
	uint64_t hi = 0, lo = 0;
	unsigned int i;

	switch (addr->family) {
	case IPALLOW_FAMILY_NONE:
		return false;
	case IPALLOW_FAMILY_IPV4:
		return ipallow_radix_lookup4(radix, ((uint32_t)b[0] << 24) |
					     ((uint32_t)b[1] << 16) |
					     ((uint32_t)b[2] << 8) | b[3]);
	case IPALLOW_FAMILY_IPV6:
		for (i = 0; i < 8; i++) {
			hi = (hi << 8) | b[i];
			lo = (lo << 8) | b[i + 8];
		}
		return ipallow_radix_lookup6(radix, hi, lo);
	}
	return false;
}

size_t ipallow_radix_memory(const struct ipallow_radix *radix)
{
	return radix->memory;
}

size_t ipallow_radix_prefix_count(const struct ipallow_radix *radix)
{
	return radix->v4.prefix_count + radix->v6.prefix_count;
}

void ipallow_radix_free(struct ipallow_radix **_radix)
{
	struct ipallow_radix *radix = *_radix;

	if (radix == NULL)
		return;
	*_radix = NULL;
	ipallow_free(radix);
}
