/* One allow_nets value: split, parse every entry, compile (SPEC §3). */
#include "config.h"
#include "ipallow-list.h"
#include "ipallow-alloc.h"
#include "ipallow-set.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct list_parser {
	const char *text;
	const struct ipallow_parse_ctx *ctx;
	struct ipallow_list *list;
	struct ipallow_prefix_array prefixes;
	bool skip_normalised;	/* IPALLOW_LIST_PARSE_SKIP_NORMALISED */
	/* normalised text being built */
	char *norm;
	size_t norm_len, norm_alloc;
};

/* Records a diagnostic; returns -1 only when out of memory. */
static int __attribute__((format(printf, 7, 8)))
diag_add(struct ipallow_diag **diags, unsigned int *count, unsigned int entry,
	 size_t offset, const char *entry_text, size_t entry_len,
	 const char *fmt, ...)
{
	struct ipallow_diag *diag;
	va_list args;

	if (*diags == NULL) {
		*diags = ipallow_calloc(IPALLOW_LIST_MAX_DIAGS, sizeof(**diags));
		if (*diags == NULL)
			return -1;
	}
	if ((*count)++ >= IPALLOW_LIST_MAX_DIAGS)
		return 0;
	diag = &(*diags)[*count - 1];
	diag->entry = entry;
	diag->column = entry == 0 ? 0 : (unsigned int)offset + 1;
	ipallow_escape_text(entry_text, entry_len, diag->text,
			    sizeof(diag->text));
	va_start(args, fmt);
	vsnprintf(diag->message, sizeof(diag->message), fmt, args);
	va_end(args);
	return 0;
}

static int norm_append(struct list_parser *p, const char *str, size_t len)
{
	size_t need = p->norm_len + len + 3;

	if (p->skip_normalised)
		return 0;
	if (need > p->norm_alloc) {
		size_t new_alloc = p->norm_alloc == 0 ? 64 : p->norm_alloc;
		char *norm;

		while (new_alloc < need)
			new_alloc *= 2;
		norm = ipallow_realloc(p->norm, new_alloc);
		if (norm == NULL)
			return -1;
		p->norm = norm;
		p->norm_alloc = new_alloc;
	}
	if (p->norm_len > 0) {
		memcpy(p->norm + p->norm_len, ", ", 2);
		p->norm_len += 2;
	}
	memcpy(p->norm + p->norm_len, str, len);
	p->norm_len += len;
	p->norm[p->norm_len] = '\0';
	return 0;
}

static int list_add_set(struct list_parser *p, const struct ipallow_set *set)
{
	struct ipallow_list *list = p->list;
	const struct ipallow_set **sets;
	unsigned int i;

	for (i = 0; i < list->sets_count; i++) {
		if (list->sets[i] == set)
			return 0;
	}
	sets = ipallow_reallocarray(list->sets, list->sets_count + 1,
				    sizeof(*sets));
	if (sets == NULL)
		return -1;
	list->sets = sets;
	list->sets[list->sets_count++] = set;
	return 0;
}

/* "@name": a named set of the policy. */
static int parse_set_ref(struct list_parser *p, unsigned int entry,
			 size_t offset, const char *s, size_t len)
{
	struct ipallow_list *list = p->list;
	const char *name = s + 1;
	size_t name_len = len - 1, i;

	if (!ipallow_set_name_is_valid(name, name_len)) {
		return diag_add(&list->errors, &list->error_count, entry, offset, s, len,
			 "invalid set name");
	}
	for (i = 0; i < p->ctx->sets_count; i++) {
		const struct ipallow_set *set = p->ctx->sets[i];

		if (strlen(set->name) == name_len &&
		    memcmp(set->name, name, name_len) == 0) {
			if (list_add_set(p, set) < 0 || norm_append(p, s, len) < 0)
				return -1;
			list->valid_count++;
			return 0;
		}
	}
	return diag_add(&list->errors, &list->error_count, entry, offset, s, len,
		 "unknown set (not defined in the policy's sets)");
}

/* "country:CC", "asn:N" (SPEC 9.3). Returns 1 when s was such an entry
   (valid or not), 0 when it was not, -1 when out of memory. */
static int parse_geo_entry(struct list_parser *p, unsigned int entry,
			   size_t offset, const char *s, size_t len)
{
	struct ipallow_list *list = p->list;
	struct ipallow_geo_entry geo;
	char buf[IPALLOW_GEO_ENTRY_STRLEN];
	const char *error;
	int ret;

	ret = ipallow_geo_entry_parse(s, len, &geo, &error);
	if (ret == 0)
		return 0;
	if (ret > 0)
		error = ipallow_geo_entry_needs_db(&geo, p->ctx->have_country_db,
						   p->ctx->have_asn_db);
	if (error != NULL) {
		return diag_add(&list->errors, &list->error_count, entry,
				offset, s, len, "%s", error) < 0 ? -1 : 1;
	}
	ipallow_geo_entry_to_str(&geo, buf);
	if (ipallow_geo_entries_add(&list->geo, &geo) < 0 ||
	    norm_append(p, buf, strlen(buf)) < 0)
		return -1;
	list->valid_count++;
	return 1;
}

static int parse_entry(struct list_parser *p, unsigned int entry,
		       size_t offset, const char *s, size_t len)
{
	struct ipallow_list *list = p->list;
	struct ipallow_prefix prefix;
	char buf[IPALLOW_ADDR_STRLEN];
	const char *error;
	bool host_bits;
	int ret;

	if (s[0] == '@')
		return parse_set_ref(p, entry, offset, s, len);
	ret = parse_geo_entry(p, entry, offset, s, len);
	if (ret != 0)
		return ret < 0 ? -1 : 0;

	if (ipallow_prefix_parse(s, len, &prefix, &host_bits, &error) < 0) {
		return diag_add(&list->errors, &list->error_count, entry, offset, s,
			 len, "%s", error);
	}
	if (host_bits || !p->skip_normalised)
		ipallow_prefix_to_str(&prefix, buf);
	if (host_bits) {
		if (diag_add(&list->warnings, &list->warning_count, entry,
			     offset, s, len, "host bits are set; this means %s",
			     buf) < 0)
			return -1;
	}
	if (ipallow_prefix_array_add(&p->prefixes, &prefix) < 0 ||
	    (!p->skip_normalised && norm_append(p, buf, strlen(buf)) < 0))
		return -1;
	list->valid_count++;
	return 0;
}

static int list_parse_entries(struct list_parser *p)
{
	struct ipallow_list *list = p->list;
	const char *text = p->text;
	size_t pos = 0, len = list->text_bytes;

	if (len > p->ctx->limits.max_bytes) {
		char detail[64];

		snprintf(detail, sizeof(detail), "%zu bytes", len);
		list->over_limit = true;
		return diag_add(&list->errors, &list->error_count, 0, 0, detail,
			 strlen(detail), "list is longer than %zu bytes "
			 "(limits.bytes)", p->ctx->limits.max_bytes);
	}
	while (pos < len) {
		size_t start;

		while (pos < len && ipallow_text_is_separator(text[pos]))
			pos++;
		if (pos == len)
			break;
		start = pos;
		while (pos < len && !ipallow_text_is_separator(text[pos]))
			pos++;
		if (++list->entry_count > p->ctx->limits.max_entries) {
			list->over_limit = true;
			return diag_add(&list->errors, &list->error_count,
				 list->entry_count, start, text + start,
				 pos - start, "list has more than %u entries "
				 "(limits.entries)",
				 p->ctx->limits.max_entries);
		}
		if (parse_entry(p, list->entry_count, start, text + start,
				pos - start) < 0)
			return -1;
	}
	return 0;
}

int ipallow_list_parse(const char *text, const struct ipallow_parse_ctx *ctx,
		       struct ipallow_list **list_r)
{
	return ipallow_list_parse_flags(text, ctx, 0, list_r);
}

int ipallow_list_parse_flags(const char *text,
			     const struct ipallow_parse_ctx *ctx,
			     unsigned int flags, struct ipallow_list **list_r)
{
	struct list_parser p;
	struct ipallow_list *list;

	*list_r = NULL;
	list = ipallow_calloc(1, sizeof(*list));
	if (list == NULL)
		return -1;
	memset(&p, 0, sizeof(p));
	p.text = text;
	p.ctx = ctx;
	p.skip_normalised = (flags & IPALLOW_LIST_PARSE_SKIP_NORMALISED) != 0;
	p.list = list;
	list->text_bytes = strlen(text);

	if (list_parse_entries(&p) < 0 ||
	    ipallow_radix_build_list(p.prefixes.prefixes, p.prefixes.count,
				&list->radix) < 0 ||
	    (p.norm == NULL && !p.skip_normalised &&
	     norm_append(&p, "", 0) < 0)) {
		ipallow_prefix_array_free(&p.prefixes);
		ipallow_free(p.norm);
		ipallow_list_free(&list);
		return -1;
	}
	ipallow_prefix_array_free(&p.prefixes);
	list->normalised = p.norm;
	list->wants_country = list->geo.countries_count > 0;
	list->wants_asn = list->geo.asns_count > 0;
	for (unsigned int i = 0; i < list->sets_count; i++) {
		list->wants_country = list->wants_country ||
			list->sets[i]->geo.countries_count > 0;
		list->wants_asn = list->wants_asn ||
			list->sets[i]->geo.asns_count > 0;
	}
	list->memory = sizeof(*list) + ipallow_radix_memory(list->radix) +
		p.norm_alloc + list->sets_count * sizeof(*list->sets) +
		ipallow_geo_entries_memory(&list->geo) +
		((list->errors != NULL ? 1 : 0) + (list->warnings != NULL ? 1 : 0)) *
		IPALLOW_LIST_MAX_DIAGS * sizeof(struct ipallow_diag);
	*list_r = list;
	return list->error_count == 0 ? 1 : 0;
}

bool ipallow_list_lookup(const struct ipallow_list *list,
			 const struct ipallow_addr *addr)
{
	unsigned int i;

	if (ipallow_radix_lookup(list->radix, addr))
		return true;
	for (i = 0; i < list->sets_count; i++) {
		if (ipallow_radix_lookup(list->sets[i]->radix, addr))
			return true;
	}
	return false;
}

bool ipallow_list_geo_match(const struct ipallow_list *list,
			    const struct ipallow_geo_info *info)
{
	unsigned int i;

	if (ipallow_geo_entries_match(&list->geo, info))
		return true;
	for (i = 0; i < list->sets_count; i++) {
		if (ipallow_geo_entries_match(&list->sets[i]->geo, info))
			return true;
	}
	return false;
}

const char *ipallow_diag_format(const struct ipallow_diag *diag,
				char buf[IPALLOW_DIAG_STRLEN])
{
	if (diag->entry == 0)
		snprintf(buf, IPALLOW_DIAG_STRLEN, "%s (%s)", diag->message,
			 diag->text);
	else
		snprintf(buf, IPALLOW_DIAG_STRLEN, "entry %u \"%s\": %s",
			 diag->entry, diag->text, diag->message);
	return buf;
}

void ipallow_list_free(struct ipallow_list **_list)
{
	struct ipallow_list *list = *_list;

	if (list == NULL)
		return;
	*_list = NULL;
	ipallow_radix_free(&list->radix);
	ipallow_free(list->errors);
	ipallow_free(list->warnings);
	ipallow_free(list->sets);
	ipallow_geo_entries_free(&list->geo);
	ipallow_free(list->normalised);
	ipallow_free(list);
}
