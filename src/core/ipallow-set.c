/* Named sets, built-in groups and set files. */
#include "config.h"
#include "ipallow-set.h"
#include "ipallow-alloc.h"
#include "ipallow-file.h"
#include "ipallow-text.h"

#include <string.h>

/* A set file larger than this is refused (a million prefixes take about
   20 MB of text). */
#define IPALLOW_SET_FILE_MAX_BYTES (256 * 1024 * 1024)

bool ipallow_set_name_is_valid(const char *name, size_t len)
{
	return len <= IPALLOW_SET_NAME_MAX &&
		ipallow_text_is_name(name, len, true);
}

static const struct {
	const char *group;
	const char *prefix;
} ipallow_groups[] = {
	{ "private", "10.0.0.0/8" },		/* RFC 1918 */
	{ "private", "172.16.0.0/12" },
	{ "private", "192.168.0.0/16" },
	{ "private", "fc00::/7" },		/* RFC 4193 */
	{ "loopback", "127.0.0.0/8" },
	{ "loopback", "::1/128" },
	{ "link-local", "169.254.0.0/16" },
	{ "link-local", "fe80::/10" },
};

int ipallow_group_add(const char *name, struct ipallow_prefix_array *arr)
{
	struct ipallow_prefix prefix;
	const char *error;
	bool host_bits, found = false;
	size_t i;

	for (i = 0; i < sizeof(ipallow_groups) / sizeof(ipallow_groups[0]); i++) {
		const char *text = ipallow_groups[i].prefix;

		if (strcmp(ipallow_groups[i].group, name) != 0)
			continue;
		found = true;
		/* The table above is ours; it always parses. */
		if (ipallow_prefix_parse(text, strlen(text), &prefix,
					 &host_bits, &error) < 0 ||
		    ipallow_prefix_array_add(arr, &prefix) < 0)
			return -1;
	}
	return found ? 1 : 0;
}

int ipallow_set_buffer_read(const char *data, size_t size, const char *name,
			    struct ipallow_prefix_array *arr, char **error_r)
{
	return ipallow_set_buffer_read_geo(data, size, name, arr, NULL, false,
					   false, error_r);
}

/* "name:line:column: "entry": error" into *error_r; returns -1. */
static int line_error(const char *name, size_t line_no, size_t column,
		      const char *text, size_t len, const char *error,
		      char **error_r)
{
	char escaped[IPALLOW_ESCAPED_STRLEN];

	ipallow_escape_text(text, len, escaped, sizeof(escaped));
	*error_r = ipallow_strdup_printf("%s:%zu:%zu: \"%s\": %s", name,
					 line_no, column, escaped, error);
	return -1;
}

/* A country: or asn: line. Returns 1 when it was one (added), 0 when it
   was not, -1 with *error_r set (NULL: out of memory). */
static int set_geo_line(const char *text, size_t len, const char *name,
			size_t line_no, size_t column,
			struct ipallow_geo_entries *geo, bool have_country_db,
			bool have_asn_db, char **error_r)
{
	struct ipallow_geo_entry entry;
	const char *error;
	int ret;

	ret = ipallow_geo_entry_parse(text, len, &entry, &error);
	if (ret == 0)
		return 0;
	if (ret > 0 && geo == NULL)
		error = "country: and asn: entries are not allowed here";
	else if (ret > 0 &&
		 (error = ipallow_geo_entry_needs_db(&entry, have_country_db,
						     have_asn_db)) == NULL)
		return ipallow_geo_entries_add(geo, &entry) < 0 ? -1 : 1;
	return line_error(name, line_no, column, text, len, error, error_r);
}

int ipallow_set_buffer_read_geo(const char *data, size_t size,
				const char *name,
				struct ipallow_prefix_array *arr,
				struct ipallow_geo_entries *geo,
				bool have_country_db, bool have_asn_db,
				char **error_r)
{
	size_t pos = 0, line_no = 0;

	*error_r = NULL;
	while (pos < size) {
		const char *line = data + pos, *nl, *hash;
		size_t line_len, start = 0, end, i;
		struct ipallow_prefix prefix;
		const char *error;
		bool host_bits;
		int ret;

		nl = memchr(line, '\n', size - pos);
		line_len = nl == NULL ? size - pos : (size_t)(nl - line);
		pos += line_len + 1;
		line_no++;

		hash = memchr(line, '#', line_len);
		end = hash == NULL ? line_len : (size_t)(hash - line);
		while (start < end && (line[start] == ' ' || line[start] == '\t'))
			start++;
		while (end > start && (line[end - 1] == ' ' || line[end - 1] == '\t' ||
				       line[end - 1] == '\r'))
			end--;
		if (start == end)
			continue;
		for (i = start; i < end; i++) {
			if (line[i] == ' ' || line[i] == '\t' || line[i] == ',') {
				*error_r = ipallow_strdup_printf(
					"%s:%zu:%zu: one prefix per line",
					name, line_no, i + 1);
				return -1;
			}
		}
		ret = set_geo_line(line + start, end - start, name, line_no,
				   start + 1, geo, have_country_db, have_asn_db,
				   error_r);
		if (ret < 0)
			return -1;
		if (ret > 0)
			continue;
		if (ipallow_prefix_parse(line + start, end - start, &prefix,
					 &host_bits, &error) < 0) {
			return line_error(name, line_no, start + 1, line + start,
					  end - start, error, error_r);
		}
		if (ipallow_prefix_array_add(arr, &prefix) < 0)
			return -1;
	}
	return 0;
}

int ipallow_set_file_read(const char *path, struct ipallow_prefix_array *arr,
			  char **error_r)
{
	return ipallow_set_file_read_geo(path, arr, NULL, false, false,
					 error_r);
}

int ipallow_set_file_read_geo(const char *path,
			      struct ipallow_prefix_array *arr,
			      struct ipallow_geo_entries *geo,
			      bool have_country_db, bool have_asn_db,
			      char **error_r)
{
	char *data;
	size_t size;
	int ret;

	if (ipallow_file_read(path, IPALLOW_SET_FILE_MAX_BYTES, &data, &size,
			      error_r) <= 0)
		return -1;
	ret = ipallow_set_buffer_read_geo(data, size, path, arr, geo,
					  have_country_db, have_asn_db, error_r);
	ipallow_free(data);
	return ret;
}

int ipallow_set_create(const char *name, struct ipallow_prefix_array *arr,
		       struct ipallow_set **set_r)
{
	struct ipallow_set *set;

	*set_r = NULL;
	set = ipallow_calloc(1, sizeof(*set));
	if (set == NULL)
		return -1;
	set->prefix_count = arr->count;
	set->name = ipallow_strdup(name);
	if (set->name == NULL ||
	    ipallow_radix_build(arr->prefixes, arr->count, &set->radix) < 0) {
		ipallow_set_free(&set);
		return -1;
	}
	ipallow_prefix_array_free(arr);
	*set_r = set;
	return 0;
}

void ipallow_set_free(struct ipallow_set **_set)
{
	struct ipallow_set *set = *_set;

	if (set == NULL)
		return;
	*_set = NULL;
	ipallow_radix_free(&set->radix);
	ipallow_geo_entries_free(&set->geo);
	ipallow_free(set->name);
	ipallow_free(set);
}
