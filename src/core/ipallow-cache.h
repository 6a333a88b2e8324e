#ifndef IPALLOW_CACHE_H
#define IPALLOW_CACHE_H

#include "ipallow-list.h"

/* A bounded cache of compiled lists keyed by the exact field text. A
   checker (ipallow-decide.h) owns one and always passes its own policy's
   parse context, whose sets the lists point into, so it can never serve
   a list compiled against another policy: reloading makes a new policy
   and a new checker. Least recently used entries go first. Not
   thread-safe; Dovecot's auth and mail processes are single-threaded. */
struct ipallow_cache;

/* The byte limit is what bounds the cache: every entry is charged for
   its text and everything its compiled list holds, so short lists cost
   little (a 10-entry list about 1 KB; doc/admin-guide.md has a table)
   and 32 MB keeps tens of thousands of them. The entry limit is only a
   guard; the hash table grows with the entries, not with it. */
#define IPALLOW_CACHE_DEFAULT_ENTRIES (1024 * 1024)
#define IPALLOW_CACHE_DEFAULT_BYTES (32 * 1024 * 1024)

struct ipallow_cache *ipallow_cache_create(unsigned int max_entries,
					   size_t max_bytes);

/* Returns the compiled list for text, parsing it on a miss. The list
   stays valid until the next call on the same cache. Returns 1 (valid
   list), 0 (invalid list, see its diagnostics) or -1 when out of memory. */
int ipallow_cache_get(struct ipallow_cache *cache, const char *text,
		      const struct ipallow_parse_ctx *ctx,
		      const struct ipallow_list **list_r);

/* Counters since the cache was made (one per policy and process): the
   hit rate is hits / (hits + misses). */
struct ipallow_cache_stats {
	unsigned long hits, misses, evictions;
	unsigned int entries;
	size_t bytes;
};
void ipallow_cache_get_stats(const struct ipallow_cache *cache,
			     struct ipallow_cache_stats *stats_r);

void ipallow_cache_free(struct ipallow_cache **cache);

#endif
