/* country: and asn: entries, and the MaxMind DB lookups behind them
   (SPEC 9.3). The grammar is ours; libmaxminddb only reads the files. */
#include "config.h"
#include "ipallow-geoip.h"
#include "ipallow-alloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#define COUNTRY_PREFIX "country:"
#define ASN_PREFIX "asn:"

struct ipallow_geoip {
	MMDB_s country, asn;
	bool has_country, has_asn;
	ipallow_geoip_fake_lookup_t *fake;
	void *fake_context;
};

static bool is_letter(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static char to_upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

/* True when s[0..len) starts with prefix in some other case ("Country:"),
   which deserves a better word than the address parser's. */
static bool prefix_other_case(const char *s, size_t len, const char *prefix)
{
	size_t i, plen = strlen(prefix);

	if (len < plen)
		return false;
	for (i = 0; i < plen; i++) {
		char c = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] - 'A' + 'a') : s[i];

		if (c != prefix[i])
			return false;
	}
	return true;
}

static int parse_country(const char *s, size_t len,
			 struct ipallow_geo_entry *entry_r, const char **error_r)
{
	if (len != 2 || !is_letter(s[0]) || !is_letter(s[1])) {
		*error_r = "a country is two letters (ISO 3166-1 alpha-2, "
			"e.g. country:DE)";
		return -1;
	}
	entry_r->kind = IPALLOW_GEO_COUNTRY;
	entry_r->value = ((uint32_t)(unsigned char)to_upper(s[0]) << 8) |
		(uint32_t)(unsigned char)to_upper(s[1]);
	return 1;
}

static int parse_asn(const char *s, size_t len,
		     struct ipallow_geo_entry *entry_r, const char **error_r)
{
	uint64_t n = 0;
	size_t i;

	if (len == 0) {
		*error_r = "an AS number is decimal digits (e.g. asn:64496)";
		return -1;
	}
	if (len >= 2 && (s[0] == 'A' || s[0] == 'a') &&
	    (s[1] == 'S' || s[1] == 's')) {
		*error_r = "write the AS number without \"AS\" (asn:64496, "
			"not asn:AS64496)";
		return -1;
	}
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9') {
			*error_r = "an AS number is decimal digits (e.g. asn:64496)";
			return -1;
		}
	}
	if (s[0] == '0') {
		*error_r = len == 1 ? "AS number 0 is reserved; AS numbers are "
			"1 to 4294967295" : "an AS number has no leading zeros";
		return -1;
	}
	for (i = 0; i < len; i++) {
		n = n * 10 + (uint64_t)(s[i] - '0');
		if (n > 4294967295u) {
			*error_r = "AS numbers are 1 to 4294967295";
			return -1;
		}
	}
	entry_r->kind = IPALLOW_GEO_ASN;
	entry_r->value = (uint32_t)n;
	return 1;
}

const char *ipallow_geo_entry_needs_db(const struct ipallow_geo_entry *entry,
				       bool have_country_db, bool have_asn_db)
{
	switch (entry->kind) {
	case IPALLOW_GEO_COUNTRY:
		return have_country_db ? NULL : "country entries need a "
			"country database (geoip.country_db in the policy)";
	case IPALLOW_GEO_ASN:
		return have_asn_db ? NULL : "asn entries need an ASN database "
			"(geoip.asn_db in the policy)";
	}
	return NULL;
}

int ipallow_geo_entry_parse(const char *s, size_t len,
			    struct ipallow_geo_entry *entry_r,
			    const char **error_r)
{
	size_t clen = strlen(COUNTRY_PREFIX), alen = strlen(ASN_PREFIX);

	memset(entry_r, 0, sizeof(*entry_r));
	*error_r = NULL;
	if (len >= clen && memcmp(s, COUNTRY_PREFIX, clen) == 0)
		return parse_country(s + clen, len - clen, entry_r, error_r);
	if (len >= alen && memcmp(s, ASN_PREFIX, alen) == 0)
		return parse_asn(s + alen, len - alen, entry_r, error_r);
	if (prefix_other_case(s, len, COUNTRY_PREFIX) ||
	    prefix_other_case(s, len, ASN_PREFIX)) {
		*error_r = "write country: and asn: in lower case";
		return -1;
	}
	return 0;
}

const char *ipallow_geo_entry_to_str(const struct ipallow_geo_entry *entry,
				     char buf[IPALLOW_GEO_ENTRY_STRLEN])
{
	switch (entry->kind) {
	case IPALLOW_GEO_COUNTRY:
		snprintf(buf, IPALLOW_GEO_ENTRY_STRLEN, "country:%c%c",
			 (char)(entry->value >> 8), (char)(entry->value & 0xff));
		return buf;
	case IPALLOW_GEO_ASN:
		snprintf(buf, IPALLOW_GEO_ENTRY_STRLEN, "asn:%u",
			 (unsigned int)entry->value);
		return buf;
	}
	buf[0] = '\0';
	return buf;
}

/* Inserts value into the sorted array; a duplicate is ignored. */
static int sorted_add(uint32_t **arr, unsigned int *count, uint32_t value)
{
	uint32_t *new_arr;
	unsigned int i;

	for (i = 0; i < *count && (*arr)[i] < value; i++)
		;
	if (i < *count && (*arr)[i] == value)
		return 0;
	new_arr = ipallow_reallocarray(*arr, *count + 1, sizeof(**arr));
	if (new_arr == NULL)
		return -1;
	*arr = new_arr;
	memmove(new_arr + i + 1, new_arr + i, (*count - i) * sizeof(*new_arr));
	new_arr[i] = value;
	(*count)++;
	return 0;
}

static bool sorted_find(const uint32_t *arr, unsigned int count,
			uint32_t value)
{
	unsigned int lo = 0, hi = count;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (arr[mid] == value)
			return true;
		if (arr[mid] < value)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

int ipallow_geo_entries_add(struct ipallow_geo_entries *entries,
			    const struct ipallow_geo_entry *entry)
{
	switch (entry->kind) {
	case IPALLOW_GEO_COUNTRY:
		return sorted_add(&entries->countries,
				  &entries->countries_count, entry->value);
	case IPALLOW_GEO_ASN:
		return sorted_add(&entries->asns, &entries->asns_count,
				  entry->value);
	}
	return -1;
}

bool ipallow_geo_entries_match(const struct ipallow_geo_entries *entries,
			       const struct ipallow_geo_info *info)
{
	return (info->country != 0 &&
		sorted_find(entries->countries, entries->countries_count,
			    info->country)) ||
		(info->asn != 0 &&
		 sorted_find(entries->asns, entries->asns_count, info->asn));
}

size_t ipallow_geo_entries_memory(const struct ipallow_geo_entries *entries)
{
	return (entries->countries_count + entries->asns_count) *
		sizeof(uint32_t);
}

void ipallow_geo_entries_free(struct ipallow_geo_entries *entries)
{
	ipallow_free(entries->countries);
	ipallow_free(entries->asns);
	memset(entries, 0, sizeof(*entries));
}

/* --- the databases --- */

static int geoip_open_one(const char *key, const char *path, MMDB_s *mmdb,
			  char **error_r)
{
	int status;

	errno = 0;
	status = MMDB_open(path, MMDB_MODE_MMAP, mmdb);
	if (status == MMDB_SUCCESS)
		return 0;
	*error_r = ipallow_strdup_printf("%s: %s: %s", key, path,
			       (status == MMDB_FILE_OPEN_ERROR ||
				status == MMDB_IO_ERROR) && errno != 0 ?
			       strerror(errno) : MMDB_strerror(status));
	return -1;
}

int ipallow_geoip_open(const char *country_db, const char *asn_db,
		       struct ipallow_geoip **geoip_r, char **error_r)
{
	struct ipallow_geoip *geoip;

	*geoip_r = NULL;
	*error_r = NULL;
	geoip = ipallow_calloc(1, sizeof(*geoip));
	if (geoip == NULL)
		return -1;
	if (country_db != NULL) {
		if (geoip_open_one("geoip.country_db", country_db,
				   &geoip->country, error_r) < 0) {
			ipallow_geoip_free(&geoip);
			return -1;
		}
		geoip->has_country = true;
	}
	if (asn_db != NULL) {
		if (geoip_open_one("geoip.asn_db", asn_db, &geoip->asn,
				   error_r) < 0) {
			ipallow_geoip_free(&geoip);
			return -1;
		}
		geoip->has_asn = true;
	}
	*geoip_r = geoip;
	return 0;
}

struct ipallow_geoip *
ipallow_geoip_create_fake(ipallow_geoip_fake_lookup_t *lookup, void *context,
			  bool has_country, bool has_asn)
{
	struct ipallow_geoip *geoip;

	geoip = ipallow_calloc(1, sizeof(*geoip));
	if (geoip == NULL)
		return NULL;
	geoip->fake = lookup;
	geoip->fake_context = context;
	geoip->has_country = has_country;
	geoip->has_asn = has_asn;
	return geoip;
}

bool ipallow_geoip_has_country(const struct ipallow_geoip *geoip)
{
	return geoip != NULL && geoip->has_country;
}

bool ipallow_geoip_has_asn(const struct ipallow_geoip *geoip)
{
	return geoip != NULL && geoip->has_asn;
}

/* Finds addr's record. Returns 1 found, 0 not known, -1 read error. */
static int geoip_find(const MMDB_s *mmdb, const struct ipallow_addr *addr,
		      MMDB_lookup_result_s *result_r)
{
	union {
		struct sockaddr sa;
		struct sockaddr_in sin;
		struct sockaddr_in6 sin6;
	} u;
	int mmdb_error = MMDB_SUCCESS;

	memset(&u, 0, sizeof(u));
	if (addr->family == IPALLOW_FAMILY_IPV4) {
		u.sin.sin_family = AF_INET;
		memcpy(&u.sin.sin_addr, addr->bytes, 4);
	} else if (addr->family == IPALLOW_FAMILY_IPV6) {
		u.sin6.sin6_family = AF_INET6;
		memcpy(&u.sin6.sin6_addr, addr->bytes, 16);
	} else {
		return 0;
	}
	*result_r = MMDB_lookup_sockaddr(mmdb, &u.sa, &mmdb_error);
	if (mmdb_error == MMDB_IPV6_LOOKUP_IN_IPV4_DATABASE_ERROR)
		return 0;
	if (mmdb_error != MMDB_SUCCESS)
		return -1;
	return result_r->found_entry ? 1 : 0;
}

/* The value at path in addr's record. Returns 1 (*data_r holds it),
   0 (no record, or nothing there) or -1 (corrupt data). */
static int geoip_value(const MMDB_s *mmdb, const struct ipallow_addr *addr,
		       const char *const *path, MMDB_entry_data_s *data_r)
{
	MMDB_lookup_result_s result;
	int ret, status;

	memset(data_r, 0, sizeof(*data_r));
	ret = geoip_find(mmdb, addr, &result);
	if (ret <= 0)
		return ret;
	status = MMDB_aget_value(&result.entry, data_r, path);
	if (status == MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR)
		return 0;
	if (status != MMDB_SUCCESS)
		return -1;
	return data_r->has_data ? 1 : 0;
}

/* Returns 0 (value or unknown) or -1 (corrupt data). */
static int geoip_country(const MMDB_s *mmdb, const struct ipallow_addr *addr,
			 uint32_t *country_r)
{
	static const char *const path[] = { "country", "iso_code", NULL };
	MMDB_entry_data_s data;
	int ret;

	*country_r = 0;
	ret = geoip_value(mmdb, addr, path, &data);
	if (ret <= 0)
		return ret;
	if (data.type == MMDB_DATA_TYPE_UTF8_STRING &&
	    data.data_size == 2 && is_letter(data.utf8_string[0]) &&
	    is_letter(data.utf8_string[1])) {
		*country_r =
			((uint32_t)(unsigned char)to_upper(data.utf8_string[0]) << 8) |
			(uint32_t)(unsigned char)to_upper(data.utf8_string[1]);
	}
	return 0;
}

static int geoip_asn(const MMDB_s *mmdb, const struct ipallow_addr *addr,
		     uint32_t *asn_r)
{
	static const char *const path[] = { "autonomous_system_number", NULL };
	MMDB_entry_data_s data;
	int ret;

	*asn_r = 0;
	ret = geoip_value(mmdb, addr, path, &data);
	if (ret <= 0)
		return ret;
	if (data.type == MMDB_DATA_TYPE_UINT32)
		*asn_r = data.uint32;
	else if (data.type == MMDB_DATA_TYPE_UINT16)
		*asn_r = data.uint16;
	else if (data.type == MMDB_DATA_TYPE_UINT64 &&
		 data.uint64 <= 4294967295u)
		*asn_r = (uint32_t)data.uint64;
	return 0;
}

int ipallow_geoip_lookup(const struct ipallow_geoip *geoip,
			 const struct ipallow_addr *addr, bool want_country,
			 bool want_asn, struct ipallow_geo_info *info_r,
			 const char **error_r)
{
	int ret = 0;

	memset(info_r, 0, sizeof(*info_r));
	*error_r = NULL;
	if (geoip == NULL)
		return 0;
	if (geoip->fake != NULL) {
		struct ipallow_geo_info info;

		memset(&info, 0, sizeof(info));
		ret = geoip->fake(geoip->fake_context, addr, &info);
		if (want_country && geoip->has_country)
			info_r->country = info.country;
		if (want_asn && geoip->has_asn)
			info_r->asn = info.asn;
		if (ret < 0)
			*error_r = "the country or ASN database could not be read";
		return ret < 0 ? -1 : 0;
	}
	if (want_country && geoip->has_country &&
	    geoip_country(&geoip->country, addr, &info_r->country) < 0) {
		*error_r = "the country database (geoip.country_db) could "
			"not be read";
		ret = -1;
	}
	if (want_asn && geoip->has_asn &&
	    geoip_asn(&geoip->asn, addr, &info_r->asn) < 0) {
		*error_r = "the ASN database (geoip.asn_db) could not be read";
		ret = -1;
	}
	return ret;
}

void ipallow_geoip_free(struct ipallow_geoip **_geoip)
{
	struct ipallow_geoip *geoip = *_geoip;

	if (geoip == NULL)
		return;
	*_geoip = NULL;
	if (geoip->has_country && geoip->fake == NULL)
		MMDB_close(&geoip->country);
	if (geoip->has_asn && geoip->fake == NULL)
		MMDB_close(&geoip->asn);
	ipallow_free(geoip);
}
