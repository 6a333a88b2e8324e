/* Bounded LRU cache of compiled lists, keyed by the exact field text.
   Many mailboxes share one list (a company's office networks), so the
   usual login finds its list compiled already. */
#include "config.h"
#include "ipallow-cache.h"
#include "ipallow-alloc.h"

#include <string.h>

struct cache_entry {
	struct cache_entry *hash_next;
	struct cache_entry *lru_prev, *lru_next;	/* most recent first */
	uint64_t hash;
	size_t text_len;
	char *text;
	struct ipallow_list *list;
	int valid;	/* ipallow_list_parse_flags() result, 1 or 0 */
	size_t bytes;
};

#define CACHE_MIN_BUCKETS 64

struct ipallow_cache {
	struct cache_entry **buckets;
	size_t bucket_mask;
	struct cache_entry *lru_head, *lru_tail;
	unsigned int max_entries;
	size_t max_bytes;
	struct ipallow_cache_stats stats;
};

/* Eight bytes a step: the key is a whole list, often a hundred bytes or
   more, and it is hashed on every login. */
static uint64_t text_hash(const char *text, size_t len)
{
	uint64_t hash = 0x9e3779b97f4a7c15ULL ^ len, word;

	for (; len >= 8; text += 8, len -= 8) {
		memcpy(&word, text, 8);
		hash = (hash ^ word) * 0xff51afd7ed558ccdULL;
		hash ^= hash >> 32;
	}
	word = 0;
	memcpy(&word, text, len);
	hash = (hash ^ word) * 0xc4ceb9fe1a85ec53ULL;
	return hash ^ (hash >> 29);
}

struct ipallow_cache *ipallow_cache_create(unsigned int max_entries,
					   size_t max_bytes)
{
	struct ipallow_cache *cache;
	/* The table starts small and doubles as entries come (see
	   cache_grow()): the entry limit is a guard set far above what the
	   byte limit lets in, and must not cost its table up front. */
	size_t nbuckets = CACHE_MIN_BUCKETS;

	cache = ipallow_calloc(1, sizeof(*cache));
	if (cache == NULL)
		return NULL;
	cache->buckets = ipallow_calloc(nbuckets, sizeof(*cache->buckets));
	if (cache->buckets == NULL) {
		ipallow_free(cache);
		return NULL;
	}
	cache->bucket_mask = nbuckets - 1;
	cache->max_entries = max_entries == 0 ? 1 : max_entries;
	cache->max_bytes = max_bytes;
	return cache;
}

/* Doubles the hash table when it holds as many entries as buckets. A
   failed allocation keeps the old table: chains get longer, nothing
   else changes. */
static void cache_grow(struct ipallow_cache *cache)
{
	size_t nbuckets = cache->bucket_mask + 1, i;
	struct cache_entry **buckets;

	if (cache->stats.entries < nbuckets ||
	    nbuckets >= (size_t)cache->max_entries * 2)
		return;
	buckets = ipallow_calloc(nbuckets * 2, sizeof(*buckets));
	if (buckets == NULL)
		return;
	for (i = 0; i < nbuckets; i++) {
		struct cache_entry *entry = cache->buckets[i], *next;

		for (; entry != NULL; entry = next) {
			size_t b = entry->hash & (nbuckets * 2 - 1);

			next = entry->hash_next;
			entry->hash_next = buckets[b];
			buckets[b] = entry;
		}
	}
	ipallow_free(cache->buckets);
	cache->buckets = buckets;
	cache->bucket_mask = nbuckets * 2 - 1;
}

static void lru_unlink(struct ipallow_cache *cache, struct cache_entry *entry)
{
	if (entry->lru_prev != NULL)
		entry->lru_prev->lru_next = entry->lru_next;
	else
		cache->lru_head = entry->lru_next;
	if (entry->lru_next != NULL)
		entry->lru_next->lru_prev = entry->lru_prev;
	else
		cache->lru_tail = entry->lru_prev;
	entry->lru_prev = entry->lru_next = NULL;
}

static void lru_push_front(struct ipallow_cache *cache,
			   struct cache_entry *entry)
{
	entry->lru_prev = NULL;
	entry->lru_next = cache->lru_head;
	if (cache->lru_head != NULL)
		cache->lru_head->lru_prev = entry;
	cache->lru_head = entry;
	if (cache->lru_tail == NULL)
		cache->lru_tail = entry;
}

static void entry_free(struct cache_entry *entry)
{
	ipallow_list_free(&entry->list);
	ipallow_free(entry->text);
	ipallow_free(entry);
}

static void cache_remove(struct ipallow_cache *cache, struct cache_entry *entry)
{
	struct cache_entry **pp = &cache->buckets[entry->hash & cache->bucket_mask];

	while (*pp != entry)
		pp = &(*pp)->hash_next;
	*pp = entry->hash_next;
	lru_unlink(cache, entry);
	cache->stats.entries--;
	cache->stats.bytes -= entry->bytes;
	entry_free(entry);
}

int ipallow_cache_get(struct ipallow_cache *cache, const char *text,
		      const struct ipallow_parse_ctx *ctx,
		      const struct ipallow_list **list_r)
{
	size_t text_len = strlen(text);
	uint64_t hash = text_hash(text, text_len);
	struct cache_entry *entry, **bucket;
	int ret;

	*list_r = NULL;
	bucket = &cache->buckets[hash & cache->bucket_mask];
	for (entry = *bucket; entry != NULL; entry = entry->hash_next) {
		if (entry->hash == hash && entry->text_len == text_len &&
		    memcmp(entry->text, text, text_len) == 0) {
			cache->stats.hits++;
			if (cache->lru_head != entry) {
				lru_unlink(cache, entry);
				lru_push_front(cache, entry);
			}
			*list_r = entry->list;
			return entry->valid;
		}
	}
	cache->stats.misses++;
	entry = ipallow_calloc(1, sizeof(*entry));
	if (entry == NULL)
		return -1;
	entry->text = ipallow_strndup(text, text_len);
	entry->text_len = text_len;
	if (entry->text == NULL) {
		ipallow_free(entry);
		return -1;
	}
	ret = ipallow_list_parse_flags(text, ctx,
				       IPALLOW_LIST_PARSE_SKIP_NORMALISED,
				       &entry->list);
	if (ret < 0) {
		ipallow_free(entry->text);
		ipallow_free(entry);
		return -1;
	}
	entry->valid = ret;
	entry->hash = hash;
	entry->bytes = sizeof(*entry) + text_len + 1 + entry->list->memory;

	/* Make room; the newest entry is kept even if it alone is larger
	   than max_bytes, because the caller is about to use it. */
	while (cache->lru_tail != NULL &&
	       (cache->stats.entries + 1 > cache->max_entries ||
		cache->stats.bytes + entry->bytes > cache->max_bytes)) {
		cache_remove(cache, cache->lru_tail);
		cache->stats.evictions++;
	}
	cache_grow(cache);
	bucket = &cache->buckets[hash & cache->bucket_mask];
	entry->hash_next = *bucket;
	*bucket = entry;
	lru_push_front(cache, entry);
	cache->stats.entries++;
	cache->stats.bytes += entry->bytes;
	*list_r = entry->list;
	return entry->valid;
}

void ipallow_cache_get_stats(const struct ipallow_cache *cache,
			     struct ipallow_cache_stats *stats_r)
{
	*stats_r = cache->stats;
}

void ipallow_cache_free(struct ipallow_cache **_cache)
{
	struct ipallow_cache *cache = *_cache;
	struct cache_entry *entry, *next;

	if (cache == NULL)
		return;
	*_cache = NULL;
	for (entry = cache->lru_head; entry != NULL; entry = next) {
		next = entry->lru_next;
		entry_free(entry);
	}
	ipallow_free(cache->buckets);
	ipallow_free(cache);
}
