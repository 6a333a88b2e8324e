#ifndef IPALLOW_RADIX_H
#define IPALLOW_RADIX_H

#include "ipallow-prefix.h"

/* An immutable set of IPv4 and IPv6 networks answering "is this address
   inside any of them". Built once from an array of prefixes, then shared
   read-only: lookups allocate nothing and take no locks. See the drawing
   at the top of ipallow-radix.c for the layout. */
struct ipallow_radix;

/* Builds a tree from prefixes[0..count). The array is reordered (sorted)
   but not kept. Returns 0 and sets *radix_r, or -1 when out of memory
   (nothing is leaked and *radix_r is NULL). count may be 0. */
int ipallow_radix_build(struct ipallow_prefix *prefixes, size_t count,
			struct ipallow_radix **radix_r);

/* For per-mailbox lists, which a login compiles whenever the cache of
   compiled lists misses: up to IPALLOW_RADIX_FLAT_MAX prefixes the
   networks become sorted ranges searched in binary (the flat form),
   which costs little more than sorting them; longer lists get a tree.
   Lookups give the same answers either way. Arguments and results as
   for ipallow_radix_build(). The crossover is measured in
   doc/performance.md. */
#define IPALLOW_RADIX_FLAT_MAX 4096
int ipallow_radix_build_list(struct ipallow_prefix *prefixes, size_t count,
			     struct ipallow_radix **radix_r);
/* Always the flat form (tests and benchmarks). */
int ipallow_radix_build_flat(struct ipallow_prefix *prefixes, size_t count,
			     struct ipallow_radix **radix_r);
bool ipallow_radix_is_flat(const struct ipallow_radix *radix);

/* True if addr is inside a network of the tree. An address of family
   NONE is never inside. */
bool ipallow_radix_lookup(const struct ipallow_radix *radix,
			  const struct ipallow_addr *addr);
/* The same for one family, with the address as host-order integers. */
bool ipallow_radix_lookup4(const struct ipallow_radix *radix, uint32_t addr);
bool ipallow_radix_lookup6(const struct ipallow_radix *radix,
			   uint64_t hi, uint64_t lo);

/* Bytes the tree holds (structure only, not the malloc overhead). */
size_t ipallow_radix_memory(const struct ipallow_radix *radix);
/* Number of prefixes left after removing those covered by others. */
size_t ipallow_radix_prefix_count(const struct ipallow_radix *radix);

/* Frees the tree and sets *radix to NULL. NULL is allowed. */
void ipallow_radix_free(struct ipallow_radix **radix);

#endif
