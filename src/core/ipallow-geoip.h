#ifndef IPALLOW_GEOIP_H
#define IPALLOW_GEOIP_H

/* Countries and autonomous systems (SPEC 9.3): the "country:CC" and
   "asn:N" list entries, and the MaxMind DB files that say where a client
   address belongs. A database is opened (mapped) once, with the policy
   that names it; a new policy opens the file again. */

#include "ipallow-addr.h"

enum ipallow_geo_kind {
	IPALLOW_GEO_COUNTRY,
	IPALLOW_GEO_ASN,
};

/* One entry. A country is its two upper-case letters as
   ('D' << 8) | 'E'; an AS number is itself. 0 never occurs. */
struct ipallow_geo_entry {
	enum ipallow_geo_kind kind;
	uint32_t value;
};

/* "country:DE", "asn:4294967295" and the NUL fit. */
#define IPALLOW_GEO_ENTRY_STRLEN 16

/* Parses one list or set entry. Returns 1 and fills *entry_r for a valid
   country: or asn: entry, 0 when s is not one (no such prefix: the caller
   tries the other entry kinds), -1 when it is one but malformed, with a
   static English message in *error_r. */
int ipallow_geo_entry_parse(const char *s, size_t len,
			    struct ipallow_geo_entry *entry_r,
			    const char **error_r);
/* NULL when the policy has the database entry needs (have_country_db:
   geoip.country_db, have_asn_db: geoip.asn_db), else the static English
   message that says so. */
const char *ipallow_geo_entry_needs_db(const struct ipallow_geo_entry *entry,
				       bool have_country_db, bool have_asn_db);
/* Writes the normalised text ("country:DE", "asn:64496") into buf. */
const char *ipallow_geo_entry_to_str(const struct ipallow_geo_entry *entry,
				     char buf[IPALLOW_GEO_ENTRY_STRLEN]);

/* What the databases say about one address; 0 means unknown. */
struct ipallow_geo_info {
	uint32_t country;	/* as in struct ipallow_geo_entry */
	uint32_t asn;
};

/* The country and ASN entries of one list or set: sorted, no
   duplicates. */
struct ipallow_geo_entries {
	uint32_t *countries;
	unsigned int countries_count;
	uint32_t *asns;
	unsigned int asns_count;
};

/* Adds an entry (a duplicate is ignored). Returns 0, or -1 when out of
   memory. */
int ipallow_geo_entries_add(struct ipallow_geo_entries *entries,
			    const struct ipallow_geo_entry *entry);
/* True when info's country or AS number is one of the entries. Unknown
   (0) matches nothing. */
bool ipallow_geo_entries_match(const struct ipallow_geo_entries *entries,
			       const struct ipallow_geo_info *info);
size_t ipallow_geo_entries_memory(const struct ipallow_geo_entries *entries);
void ipallow_geo_entries_free(struct ipallow_geo_entries *entries);

struct ipallow_geoip;

/* Opens the databases; either path may be NULL (not configured). Returns
   0, or -1 and sets *error_r to a malloc()ed
   "geoip.country_db: PATH: reason" (NULL when out of memory). */
int ipallow_geoip_open(const char *country_db, const char *asn_db,
		       struct ipallow_geoip **geoip_r, char **error_r);

/* A stand-in for the databases, for tests and fuzzers: lookup answers
   instead of a file. has_country/has_asn say which databases it plays. */
typedef int ipallow_geoip_fake_lookup_t(void *context,
					const struct ipallow_addr *addr,
					struct ipallow_geo_info *info_r);
struct ipallow_geoip *
ipallow_geoip_create_fake(ipallow_geoip_fake_lookup_t *lookup, void *context,
			  bool has_country, bool has_asn);

bool ipallow_geoip_has_country(const struct ipallow_geoip *geoip);
bool ipallow_geoip_has_asn(const struct ipallow_geoip *geoip);

/* Looks addr up in the databases asked for (an IPv4-mapped address is
   already IPv4 in struct ipallow_addr, and is looked up as IPv4). An
   address a database does not know gives 0. Returns 0, or -1 when a
   database could not be read (corrupt file) with a static English text in
   *error_r; what could be read is still in *info_r. */
int ipallow_geoip_lookup(const struct ipallow_geoip *geoip,
			 const struct ipallow_addr *addr, bool want_country,
			 bool want_asn, struct ipallow_geo_info *info_r,
			 const char **error_r);

void ipallow_geoip_free(struct ipallow_geoip **geoip);

#endif
