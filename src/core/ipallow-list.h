#ifndef IPALLOW_LIST_H
#define IPALLOW_LIST_H

#include "ipallow-radix.h"
#include "ipallow-geoip.h"
#include "ipallow-text.h"

struct ipallow_set;

/* One diagnostic about one list entry. Entries and columns count from 1:
   entry is the number of the non-empty entry, column the byte position in
   the list text where that entry starts. */
struct ipallow_diag {
	unsigned int entry;
	unsigned int column;
	/* The entry as written, non-printable bytes escaped as \xNN, cut at
	   IPALLOW_DIAG_TEXT_MAX bytes with "..." appended. */
	char text[IPALLOW_ESCAPED_STRLEN];
	char message[128];	/* English, for operators */
};
/* How many error and warning diagnostics a list keeps (counts are exact). */
#define IPALLOW_LIST_MAX_DIAGS 16
/* Enough for any formatted diagnostic. */
#define IPALLOW_DIAG_STRLEN 256

struct ipallow_list_limits {
	unsigned int max_entries;	/* default 1024 */
	size_t max_bytes;		/* default 65536 */
};
#define IPALLOW_LIST_DEFAULT_MAX_ENTRIES 1024
#define IPALLOW_LIST_DEFAULT_MAX_BYTES 65536
/* Dovecot's auth workers cap a reply line at 8 KiB. */
#define IPALLOW_LIST_WORKER_BYTES 8192

/* What the parser needs from its surroundings: limits and the named sets
   (SPEC §5) that "@name" entries may refer to. */
struct ipallow_parse_ctx {
	struct ipallow_list_limits limits;
	struct ipallow_set *const *sets;
	unsigned int sets_count;
	/* The policy names a country / ASN database (geoip.country_db,
	   geoip.asn_db): without it, country: / asn: entries are invalid. */
	bool have_country_db, have_asn_db;
};

struct ipallow_list {
	/* The valid prefixes of the list; never NULL (may be empty). */
	struct ipallow_radix *radix;
	/* Valid "@name" entries, pointing into the parse context's sets
	   (not owned; the sets outlive the list). */
	const struct ipallow_set **sets;
	unsigned int sets_count;
	/* Valid country: and asn: entries of the list itself. */
	struct ipallow_geo_entries geo;
	/* Country / ASN entries in the list or its sets: step 6 looks the
	   client up in that database (and only then). */
	bool wants_country, wants_asn;

	unsigned int entry_count;	/* non-empty entries seen */
	unsigned int valid_count;	/* entries that parsed */
	/* The whole list is invalid regardless of on_invalid: over the
	   entry or byte limit. errors[0] says which. */
	bool over_limit;

	/* Up to IPALLOW_LIST_MAX_DIAGS of each, allocated on the first
	   one (NULL while the count is 0): most lists have none. */
	unsigned int error_count, warning_count;
	struct ipallow_diag *errors;
	struct ipallow_diag *warnings;

	/* Valid entries, normalised, separated by ", " (NULL with
	   IPALLOW_LIST_PARSE_SKIP_NORMALISED). */
	char *normalised;
	size_t text_bytes;	/* length of the original text */
	size_t memory;		/* bytes held by this list (for the cache) */
};

/* Parses one allow_nets value (SPEC §3). Every entry is examined, so all
   errors are counted and the first IPALLOW_LIST_MAX_DIAGS kept.

   Returns 1 when the list is valid, 0 when it is not (*list_r is still set:
   it holds the valid entries and the diagnostics, which is what
   on_invalid: skip needs; the caller decides), -1 when out of memory
   (*list_r is NULL). An empty or all-blank text gives a valid list with
   entry_count == 0: no restriction. */
int ipallow_list_parse(const char *text, const struct ipallow_parse_ctx *ctx,
		       struct ipallow_list **list_r);

/* How one call of ipallow_list_parse_flags() parses. */
enum ipallow_list_parse_flags {
	/* Leave ipallow_list.normalised NULL: the decision path (the
	   checker's cache) never shows it, and formatting every entry is a
	   third of the time a short list takes to compile. */
	IPALLOW_LIST_PARSE_SKIP_NORMALISED = 0x01,
};
/* ipallow_list_parse() with flags (ipallow_list_parse() is flags 0). */
int ipallow_list_parse_flags(const char *text,
			     const struct ipallow_parse_ctx *ctx,
			     unsigned int flags, struct ipallow_list **list_r);

/* True if addr is inside the list's own prefixes or one of its sets
   (country and ASN entries aside: see ipallow_list_geo_match()). */
bool ipallow_list_lookup(const struct ipallow_list *list,
			 const struct ipallow_addr *addr);

/* Formats `entry 3 "10/8": IPv4 shorthand is not allowed` into buf and
   returns buf. */
/* True if info (what the databases say about the client) matches a
   country: or asn: entry of the list or one of its sets. */
bool ipallow_list_geo_match(const struct ipallow_list *list,
			    const struct ipallow_geo_info *info);

const char *ipallow_diag_format(const struct ipallow_diag *diag,
				char buf[IPALLOW_DIAG_STRLEN]);

void ipallow_list_free(struct ipallow_list **list);

#endif
