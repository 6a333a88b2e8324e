/* A compiled, immutable radix tree for "is this address in the set".

   Layout: a multibit trie with 6-bit strides whose nodes are compressed
   with two 64-bit bitmaps (the idea of Poptrie, Asai & Ohara, SIGCOMM
   2015), in front of an optional direct-indexed first level.

     address bits:  | direct (s bits) | 6 | 6 | 6 | ...
                          |
     direct[]:  [ L0 | L1 | n7 | L0 | n8 | ... ]    2^s entries, 4 bytes
                            |          |            L0/L1: leaf, outside/inside
                            v          v            nK: index of node K
     nodes[]:   +---------------------------+
                | child  0010...0100  (64b) |  bit i: slot i has a child
                | leaf   1100...0000  (64b) |  bit i: slot i is inside
                | base   -> first child     |  children are contiguous
                +---------------------------+
     child of slot i = nodes[base + popcount(child & ((1 << i) - 1))]

   Why this shape:
   - Lookup is bounded by address bits, not by the number of prefixes:
     at most ceil((32 - s) / 6) node steps for IPv4, ceil((128 - s) / 6)
     for IPv6, each one load, one popcount and no branches on data that
     the CPU cannot predict cheaply. Nothing is allocated, no lock taken.
   - Membership needs one bit per slot, not a next hop, so a node is 24
     bytes for 64 slots. Prefixes are leaf-pushed: a /20 inside a node's
     6-bit window simply sets 4 leaf bits. A set of a million IPv4
     prefixes takes a few MB instead of the hundreds of an LPM table.
   - Small sets (a per-user list) use s = 0: a 1-entry list is a handful
     of nodes. Large sets (named sets with thousands of prefixes) get a
     direct first level of 2^18 (IPv4) or 2^16 (IPv6) entries, which
     saves three node steps on every lookup for 1 MB or 256 KB.
   - Built once from a sorted, de-overlapped array (prefixes covered by
     another are dropped: only membership matters), then frozen and
     shared by every login.

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
/* Use a direct first level from this many prefixes on. */
#define DIRECT_MIN_PREFIXES 4096
#define DIRECT_BITS_IPV4 18
#define DIRECT_BITS_IPV6 16

struct radix_node {
	uint64_t child;
	uint64_t leaf;
	uint32_t base;
};

struct radix_family {
	unsigned int direct_bits;	/* s: 0 means a single root entry */
	uint32_t *direct;		/* 2^s entries */
	uint32_t direct_root;		/* direct[] when s == 0 */
	struct radix_node *nodes;
	uint32_t node_count, node_alloc;
	size_t prefix_count;
};

struct ipallow_radix {
	struct radix_family v4, v6;
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

/* Sorts and drops every prefix covered by another. Returns the new count. */
static size_t build_prefixes_reduce(struct build_prefix *arr, size_t count)
{
	size_t i, kept = 0;

	build_prefixes_sort(arr, count);
	for (i = 0; i < count; i++) {
		if (kept > 0 &&
		    (arr[i].key & mask_of(arr[kept - 1].len)) == arr[kept - 1].key)
			continue;	/* inside the last kept prefix */
		arr[kept++] = arr[i];
	}
	return kept;
}

static int family_alloc_nodes(struct radix_family *fam, uint32_t count,
			      uint32_t *first_r)
{
	if (fam->node_count + count > fam->node_alloc) {
		uint32_t new_alloc = fam->node_alloc == 0 ? 8 : fam->node_alloc;
		struct radix_node *nodes;

		while (new_alloc < fam->node_count + count) {
			if (new_alloc >= DIRECT_LEAF / 2)
				return -1;
			new_alloc *= 2;
		}
		nodes = ipallow_reallocarray(fam->nodes, new_alloc,
					     sizeof(*nodes));
		if (nodes == NULL)
			return -1;
		fam->nodes = nodes;
		fam->node_alloc = new_alloc;
	}
	*first_r = fam->node_count;
	memset(&fam->nodes[fam->node_count], 0, sizeof(*fam->nodes) * count);
	fam->node_count += count;
	return 0;
}

/* Fills node idx from arr[lo..hi), which all share the key bits above off
   and are longer than off. Prefixes are sorted and disjoint. */
static int build_node(struct radix_family *fam, uint32_t idx,
		      const struct build_prefix *arr, size_t lo, size_t hi,
		      unsigned int off)
{
	size_t child_lo[64], child_hi[64];
	unsigned int child_slot[64], nchild = 0, i;
	uint64_t child = 0, leaf = 0;
	uint32_t base = 0;
	size_t j = lo;

	assert(off < 128);
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
		child_slot[nchild] = slot;
		child_lo[nchild] = j;
		while (j < hi && slot_of(arr[j].key, off, STRIDE) == slot)
			j++;
		child_hi[nchild] = j;
		child |= (uint64_t)1 << slot;
		nchild++;
	}
	if (nchild > 0 && family_alloc_nodes(fam, nchild, &base) < 0)
		return -1;
	fam->nodes[idx].child = child;
	fam->nodes[idx].leaf = leaf & ~child;
	fam->nodes[idx].base = base;
	/* child_slot[] ascends, so child i is the i-th set bit of child */
	for (i = 0; i < nchild; i++) {
		if (build_node(fam, base + i, arr, child_lo[i], child_hi[i],
			       off + STRIDE) < 0)
			return -1;
	}
	(void)child_slot;
	return 0;
}

static int build_family(struct radix_family *fam, struct build_prefix *arr,
			size_t count, unsigned int big_direct_bits)
{
	unsigned int s;
	size_t nentries, j = 0;

	count = build_prefixes_reduce(arr, count);
	fam->prefix_count = count;
	s = count >= DIRECT_MIN_PREFIXES ? big_direct_bits : 0;
	fam->direct_bits = s;
	if (s == 0 && count > 0) {
		/* Small set: allocate the worst case once (a node per 6 bits
		   of each prefix, plus the root) instead of growing. */
		size_t bound = 1;
		uint32_t first;

		for (size_t i = 0; i < count; i++)
			bound += (arr[i].len + STRIDE - 1) / STRIDE;
		if (family_alloc_nodes(fam, (uint32_t)bound, &first) < 0)
			return -1;
		fam->node_count = 0;
	}
	nentries = (size_t)1 << s;
	fam->direct = s == 0 ? &fam->direct_root :
		ipallow_malloc(nentries * sizeof(*fam->direct));
	if (fam->direct == NULL)
		return -1;
	for (size_t e = 0; e < nentries; e++)
		fam->direct[e] = DIRECT_LEAF;

	while (j < count) {
		size_t entry = s == 0 ? 0 : slot_of(arr[j].key, 0, s);

		if (arr[j].len <= s) {
			size_t span = (size_t)1 << (s - arr[j].len);

			for (size_t e = entry; e < entry + span; e++)
				fam->direct[e] = DIRECT_LEAF | DIRECT_INSIDE;
			j++;
		} else {
			size_t lo = j;
			uint32_t node;

			while (j < count &&
			       (s == 0 || slot_of(arr[j].key, 0, s) == entry))
				j++;
			if (family_alloc_nodes(fam, 1, &node) < 0 ||
			    build_node(fam, node, arr, lo, j, s) < 0)
				return -1;
			fam->direct[entry] = node;
		}
	}
	/* Give back what the doubling over-allocated. */
	if (fam->node_count > 0 && fam->node_count < fam->node_alloc) {
		struct radix_node *nodes =
			ipallow_reallocarray(fam->nodes, fam->node_count,
					     sizeof(*nodes));
		if (nodes != NULL) {
			fam->nodes = nodes;
			fam->node_alloc = fam->node_count;
		}
	}
	return 0;
}

static void family_free(struct radix_family *fam)
{
	if (fam->direct != &fam->direct_root)
		ipallow_free(fam->direct);
	ipallow_free(fam->nodes);
}

int ipallow_radix_build(struct ipallow_prefix *prefixes, size_t count,
			struct ipallow_radix **radix_r)
{
	struct ipallow_radix *radix;
	struct build_prefix *v4 = NULL, *v6 = NULL;
	size_t n4 = 0, n6 = 0, i;
	int ret = -1;

	*radix_r = NULL;
	radix = ipallow_calloc(1, sizeof(*radix));
	if (radix == NULL)
		return -1;
	for (i = 0; i < count; i++) {
		if (prefixes[i].addr.family == IPALLOW_FAMILY_IPV4)
			n4++;
		else
			n6++;
	}
	v4 = ipallow_reallocarray(NULL, count, sizeof(*v4));
	if (v4 == NULL)
		goto out;
	v6 = v4 + n4;
	n4 = n6 = 0;
	for (i = 0; i < count; i++) {
		const struct ipallow_prefix *p = &prefixes[i];
		struct build_prefix *bp;

		assert(p->addr.family == IPALLOW_FAMILY_IPV4 ?
		       p->len <= 32 : p->len <= 128);
		assert(p->addr.family != IPALLOW_FAMILY_NONE);
		bp = p->addr.family == IPALLOW_FAMILY_IPV4 ? &v4[n4++] : &v6[n6++];
		bp->key = key_from_addr(&p->addr) & mask_of(p->len);
		bp->len = p->len;
	}
	if (build_family(&radix->v4, v4, n4, DIRECT_BITS_IPV4) < 0 ||
	    build_family(&radix->v6, v6, n6, DIRECT_BITS_IPV6) < 0)
		goto out;
	*radix_r = radix;
	radix = NULL;
	ret = 0;
out:
	ipallow_free(v4);
	ipallow_radix_free(&radix);
	return ret;
}

bool ipallow_radix_lookup4(const struct ipallow_radix *radix, uint32_t addr)
{
	const struct radix_family *fam = &radix->v4;
	uint64_t key = (uint64_t)addr << 32;
	unsigned int off = fam->direct_bits;
	uint32_t e = fam->direct[off == 0 ? 0 : key >> (64 - off)];

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

bool ipallow_radix_lookup6(const struct ipallow_radix *radix,
			   uint64_t hi, uint64_t lo)
{
	const struct radix_family *fam = &radix->v6;
	ipallow_u128 key = ((ipallow_u128)hi << 64) | lo;
	unsigned int off = fam->direct_bits;
	uint32_t e = fam->direct[off == 0 ? 0 : (size_t)(hi >> (64 - off))];

	while ((e & DIRECT_LEAF) == 0) {
		const struct radix_node *node = &fam->nodes[e];
		unsigned int slot = (unsigned int)((key << off) >> (128 - STRIDE));
		uint64_t bit = (uint64_t)1 << slot;

		if ((node->child & bit) == 0)
			return (node->leaf & bit) != 0;
		e = node->base +
			(uint32_t)__builtin_popcountll(node->child & (bit - 1));
		off += STRIDE;	/* nodes exist only below /128: off < 128 */
	}
	return (e & DIRECT_INSIDE) != 0;
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

static size_t family_memory(const struct radix_family *fam)
{
	return ((size_t)1 << fam->direct_bits) * sizeof(*fam->direct) +
		(size_t)fam->node_count * sizeof(*fam->nodes);
}

size_t ipallow_radix_memory(const struct ipallow_radix *radix)
{
	return sizeof(*radix) + family_memory(&radix->v4) +
		family_memory(&radix->v6);
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
	family_free(&radix->v4);
	family_free(&radix->v6);
	ipallow_free(radix);
}
