#ifndef IPALLOW_SET_H
#define IPALLOW_SET_H

#include "ipallow-radix.h"
#include "ipallow-geoip.h"

/* A named, shared set of networks (policy "sets:"), compiled once. */
struct ipallow_set {
	char *name;
	struct ipallow_radix *radix;
	size_t prefix_count;	/* prefixes as written */
	struct ipallow_geo_entries geo;	/* country: and asn: entries */
};

/* Set names (the policy's "sets:" keys, "@name" in lists): 1 to
   IPALLOW_SET_NAME_MAX letters, digits, '_', '-' and '.'. */
#define IPALLOW_SET_NAME_MAX 64
/* True if name[0..len) is a valid set name. */
bool ipallow_set_name_is_valid(const char *name, size_t len);

/* Appends the networks of a built-in group ("private", "loopback",
   "link-local"). Returns 1 if name is a group, 0 if it is not, -1 when out
   of memory. */
int ipallow_group_add(const char *name, struct ipallow_prefix_array *arr);

/* Reads a set file: one prefix per line, blank lines and '#' comments
   (whole-line or trailing) allowed. Returns 0 and appends to *arr, or -1
   and sets *error_r to a malloc()ed "path:line:column: message" (or an
   errno text for I/O failures, or NULL when out of memory). */
int ipallow_set_file_read(const char *path, struct ipallow_prefix_array *arr,
			  char **error_r);
/* The same over a buffer, with name used in messages. */
int ipallow_set_buffer_read(const char *data, size_t size, const char *name,
			    struct ipallow_prefix_array *arr, char **error_r);

/* The same, also reading "country:CC" and "asn:N" lines (SPEC 9.3) into
   *geo; such a line is an error when geo is NULL or the policy has no
   database for it (have_country_db, have_asn_db). */
int ipallow_set_file_read_geo(const char *path,
			      struct ipallow_prefix_array *arr,
			      struct ipallow_geo_entries *geo,
			      bool have_country_db, bool have_asn_db,
			      char **error_r);
int ipallow_set_buffer_read_geo(const char *data, size_t size,
				const char *name,
				struct ipallow_prefix_array *arr,
				struct ipallow_geo_entries *geo,
				bool have_country_db, bool have_asn_db,
				char **error_r);

/* Builds a set from arr (which is emptied). Returns 0 or -1 (OOM). */
int ipallow_set_create(const char *name, struct ipallow_prefix_array *arr,
		       struct ipallow_set **set_r);
void ipallow_set_free(struct ipallow_set **set);

#endif
