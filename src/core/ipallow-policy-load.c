/* The policy loader (SPEC §5): a handler for each key, walking the tree
   ipallow-yaml read, then compiling what it collected. The loader
   returns a whole policy or nothing; ipallow-policy.c owns the policy
   object it fills. */
#include "config.h"
#include "ipallow-policy.h"
#include "ipallow-alloc.h"
#include "ipallow-file.h"
#include "ipallow-geoip.h"
#include "ipallow-yaml.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define ATTR_UNUSED_IPALLOW __attribute__((unused))
#define IPALLOW_LIMIT_ENTRIES_MAX 1000000u
#define IPALLOW_LIMIT_BYTES_MAX (16u * 1024 * 1024)

struct policy_loader {
	const char *name;	/* file name for messages */
	char *base_dir;		/* for relative set paths */
	char *error;		/* first error, "name:line:col: message" */
	bool oom;
	struct ipallow_policy *policy;
	/* exempt networks and password_change.exempt_peers collected while
	   walking */
	struct ipallow_prefix_array exempt;
	struct ipallow_prefix_array password_change_peers;
	bool exempt_networks_set, exempt_services_set;
};

/* --- errors --- */

static int __attribute__((format(printf, 4, 5)))
loader_error(struct policy_loader *ld, size_t line, size_t column,
	     const char *fmt, ...)
{
	va_list args;

	if (ld->error != NULL || ld->oom)
		return -1;
	va_start(args, fmt);
	ld->error = ipallow_yaml_verror(ld->name, line, column, fmt, args);
	va_end(args);
	if (ld->error == NULL)
		ld->oom = true;
	return -1;
}

static int loader_oom(struct policy_loader *ld)
{
	ld->oom = true;
	return -1;
}

#define node_error(ld, node, ...) \
	loader_error(ld, (node)->line, (node)->column, __VA_ARGS__)

/* --- typed values --- */

static int get_scalar(struct policy_loader *ld, const char *key,
		      const struct ipallow_ynode *node, const char **value_r)
{
	*value_r = "";
	if (node->type != IPALLOW_YNODE_SCALAR)
		return node_error(ld, node, "%s must be a single value", key);
	*value_r = node->value;
	return 0;
}

static int get_choice(struct policy_loader *ld, const char *key,
		      const struct ipallow_ynode *node,
		      const char *const *choices,
		      int *value_r)
{
	const char *value;
	int i;

	if (get_scalar(ld, key, node, &value) < 0)
		return -1;
	for (i = 0; choices[i] != NULL; i++) {
		if (strcmp(value, choices[i]) == 0) {
			*value_r = i;
			return 0;
		}
	}
	return node_error(ld, node, "%s must be %s or %s, not \"%.64s\"",
			  key, choices[0], choices[1], value);
}

static int get_uint(struct policy_loader *ld, const char *key,
		    const struct ipallow_ynode *node, unsigned long max,
		    unsigned long *value_r)
{
	const char *value;
	unsigned long n = 0;
	size_t i;

	if (get_scalar(ld, key, node, &value) < 0)
		return -1;
	for (i = 0; value[i] != '\0'; i++) {
		if (value[i] < '0' || value[i] > '9' || n > max)
			break;
		n = n * 10 + (unsigned long)(value[i] - '0');
	}
	if (i == 0 || value[i] != '\0' || n == 0 || n > max)
		return node_error(ld, node, "%s must be a whole number from 1 to %lu",
				  key, max);
	*value_r = n;
	return 0;
}

static int replace_string(struct policy_loader *ld, char **dest,
			  const char *value)
{
	char *copy = ipallow_strdup(value);

	if (copy == NULL)
		return loader_oom(ld);
	ipallow_free(*dest);
	*dest = copy;
	return 0;
}

/* --- keys --- */

static int handle_field(struct policy_loader *ld,
			const struct ipallow_ynode *node)
{
	const char *value;

	if (get_scalar(ld, "field", node, &value) < 0)
		return -1;
	if (strlen(value) > IPALLOW_FIELD_NAME_MAX ||
	    !ipallow_text_is_name(value, strlen(value), false))
		return node_error(ld, node, "field must be a userdb field name "
				  "(letters, digits, '_' and '-')");
	return replace_string(ld, &ld->policy->field, value);
}

static int handle_mode(struct policy_loader *ld,
		       const struct ipallow_ynode *node)
{
	static const char *const choices[] = { "enforce", "report", NULL };
	int value;

	if (get_choice(ld, "mode", node, choices, &value) < 0)
		return -1;
	ld->policy->mode = value == 0 ? IPALLOW_MODE_ENFORCE : IPALLOW_MODE_REPORT;
	return 0;
}

static int handle_reject_reason(struct policy_loader *ld,
				const struct ipallow_ynode *node)
{
	const char *value, *p;

	if (get_scalar(ld, "reject_reason", node, &value) < 0)
		return -1;
	for (p = value; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return node_error(ld, node, "reject_reason must not "
					  "contain control characters (tabs, "
					  "newlines)");
	}
	return replace_string(ld, &ld->policy->reject_reason, value);
}

static int handle_unknown_ip(struct policy_loader *ld,
			     const struct ipallow_ynode *node)
{
	static const char *const choices[] = { "exempt", "deny", NULL };
	int value;

	if (get_choice(ld, "unknown_ip", node, choices, &value) < 0)
		return -1;
	ld->policy->unknown_ip = value == 0 ? IPALLOW_UNKNOWN_IP_EXEMPT :
		IPALLOW_UNKNOWN_IP_DENY;
	return 0;
}

static int handle_on_invalid(struct policy_loader *ld,
			     const struct ipallow_ynode *node)
{
	static const char *const choices[] = { "deny", "skip", NULL };
	int value;

	if (get_choice(ld, "on_invalid", node, choices, &value) < 0)
		return -1;
	ld->policy->on_invalid = value == 0 ? IPALLOW_ON_INVALID_DENY :
		IPALLOW_ON_INVALID_SKIP;
	return 0;
}

struct key_handler {
	const char *key;
	int (*handle)(struct policy_loader *ld,
		      const struct ipallow_ynode *value);
};

/* Walks a mapping, calling the handler of each key; unknown and
   duplicate keys are errors. */
static int walk_mapping(struct policy_loader *ld, const char *what,
			const struct ipallow_ynode *map,
			const struct key_handler *handlers)
{
	size_t i, j;

	if (map->type != IPALLOW_YNODE_MAP)
		return node_error(ld, map, "%s must be a mapping", what);
	for (i = 0; i < map->count; i += 2) {
		const struct ipallow_ynode *key = map->items[i];
		const struct ipallow_ynode *value = map->items[i + 1];
		const struct key_handler *h;

		if (key->type != IPALLOW_YNODE_SCALAR)
			return node_error(ld, key, "keys of %s must be names", what);
		for (j = 0; j < i; j += 2) {
			if (strcmp(map->items[j]->value, key->value) == 0)
				return node_error(ld, key, "duplicate key '%.64s'",
						  key->value);
		}
		for (h = handlers; h->key != NULL; h++) {
			if (strcmp(h->key, key->value) == 0)
				break;
		}
		if (h->key == NULL)
			return node_error(ld, key, "unknown key '%.64s' in %s",
					  key->value, what);
		if (h->handle(ld, value) < 0)
			return -1;
	}
	return 0;
}

static int handle_limit_entries(struct policy_loader *ld,
				const struct ipallow_ynode *node)
{
	unsigned long value;

	if (get_uint(ld, "limits.entries", node, IPALLOW_LIMIT_ENTRIES_MAX,
		     &value) < 0)
		return -1;
	ld->policy->limits.max_entries = (unsigned int)value;
	return 0;
}

static int handle_limit_bytes(struct policy_loader *ld,
			      const struct ipallow_ynode *node)
{
	unsigned long value;

	if (get_uint(ld, "limits.bytes", node, IPALLOW_LIMIT_BYTES_MAX,
		     &value) < 0)
		return -1;
	ld->policy->limits.max_bytes = value;
	return 0;
}

static int handle_limits(struct policy_loader *ld,
			 const struct ipallow_ynode *node)
{
	static const struct key_handler handlers[] = {
		{ "entries", handle_limit_entries },
		{ "bytes", handle_limit_bytes },
		{ NULL, NULL }
	};
	return walk_mapping(ld, "limits", node, handlers);
}

static int check_sequence(struct policy_loader *ld, const char *key,
			  const struct ipallow_ynode *node)
{
	size_t i;

	if (node->type != IPALLOW_YNODE_SEQ)
		return node_error(ld, node, "%s must be a list", key);
	for (i = 0; i < node->count; i++) {
		if (node->items[i]->type != IPALLOW_YNODE_SCALAR)
			return node_error(ld, node->items[i],
					  "items of %s must be single values", key);
	}
	return 0;
}

/* Parses one prefix from a policy node into arr. */
static int add_prefix_node(struct policy_loader *ld, const char *key,
			   const struct ipallow_ynode *node,
			   struct ipallow_prefix_array *arr)
{
	struct ipallow_prefix prefix;
	const char *error;
	bool host_bits;

	if (ipallow_prefix_parse(node->value, strlen(node->value), &prefix,
				 &host_bits, &error) < 0)
		return node_error(ld, node, "%s: \"%.64s\": %s", key,
				  node->value, error);
	if (ipallow_prefix_array_add(arr, &prefix) < 0)
		return loader_oom(ld);
	return 0;
}

/* A sequence of group names (private, loopback, link-local) and
   prefixes, into arr. */
static int collect_networks(struct policy_loader *ld, const char *key,
			    const struct ipallow_ynode *node,
			    struct ipallow_prefix_array *arr)
{
	size_t i;

	if (check_sequence(ld, key, node) < 0)
		return -1;
	for (i = 0; i < node->count; i++) {
		const struct ipallow_ynode *item = node->items[i];
		int ret;

		/* a group is a name; "10/8" and "10" are bad prefixes and
		   get the prefix parser's message, not "unknown group" */
		if (((item->value[0] >= 'a' && item->value[0] <= 'z') ||
		     (item->value[0] >= 'A' && item->value[0] <= 'Z')) &&
		    strpbrk(item->value, ".:/") == NULL) {
			ret = ipallow_group_add(item->value, arr);
			if (ret < 0)
				return loader_oom(ld);
			if (ret == 0)
				return node_error(ld, item, "%s: "
					"unknown group \"%.64s\" (groups are "
					"private, loopback, link-local)",
					key, item->value);
			continue;
		}
		if (add_prefix_node(ld, key, item, arr) < 0)
			return -1;
	}
	return 0;
}

static int handle_exempt_networks(struct policy_loader *ld,
				  const struct ipallow_ynode *node)
{
	ld->exempt_networks_set = true;
	return collect_networks(ld, "exempt.networks", node, &ld->exempt);
}

/* A sequence of service names, replacing *strings. */
static int collect_services(struct policy_loader *ld, const char *key,
			    const struct ipallow_ynode *node, char ***strings,
			    unsigned int *count)
{
	size_t i;

	if (check_sequence(ld, key, node) < 0)
		return -1;
	ipallow_free_strings(strings, count);
	*strings = ipallow_calloc(node->count + 1, sizeof(**strings));
	if (*strings == NULL)
		return loader_oom(ld);
	for (i = 0; i < node->count; i++) {
		const char *value = node->items[i]->value;

		if (!ipallow_text_is_name(value, strlen(value), true))
			return node_error(ld, node->items[i], "%s: "
					  "\"%.64s\" is not a service name",
					  key, value);
		(*strings)[i] = ipallow_strdup(value);
		if ((*strings)[i] == NULL)
			return loader_oom(ld);
		(*count)++;
	}
	return 0;
}

static int handle_exempt_services(struct policy_loader *ld,
				  const struct ipallow_ynode *node)
{
	return collect_services(ld, "exempt.services", node,
				&ld->policy->exempt_services,
				&ld->policy->exempt_services_count);
}

static int handle_exempt(struct policy_loader *ld,
			 const struct ipallow_ynode *node)
{
	static const struct key_handler handlers[] = {
		{ "networks", handle_exempt_networks },
		{ "services", handle_exempt_services },
		{ NULL, NULL }
	};
	return walk_mapping(ld, "exempt", node, handlers);
}

static int handle_password_change_peers(struct policy_loader *ld,
					const struct ipallow_ynode *node)
{
	return collect_networks(ld, "password_change.exempt_peers", node,
				&ld->password_change_peers);
}

static int handle_password_change_services(struct policy_loader *ld,
					   const struct ipallow_ynode *node)
{
	struct ipallow_policy *policy = ld->policy;

	return collect_services(ld, "password_change.exempt_services", node,
				&policy->password_change_exempt_services,
				&policy->password_change_exempt_services_count);
}

static int handle_password_change(struct policy_loader *ld,
				  const struct ipallow_ynode *node)
{
	static const struct key_handler handlers[] = {
		{ "exempt_peers", handle_password_change_peers },
		{ "exempt_services", handle_password_change_services },
		{ NULL, NULL }
	};
	return walk_mapping(ld, "password_change", node, handlers);
}

/* A country: or asn: entry of an inline set. Returns 1 when node was one
   (added), 0 when it was not, -1 on error. */
static int add_geo_node(struct policy_loader *ld, const char *key,
			const struct ipallow_ynode *node,
			struct ipallow_geo_entries *geo)
{
	struct ipallow_geo_entry entry;
	const char *error;
	int ret;

	ret = ipallow_geo_entry_parse(node->value, strlen(node->value), &entry,
				      &error);
	if (ret == 0)
		return 0;
	if (ret < 0)
		return node_error(ld, node, "%s: \"%.64s\": %s", key,
				  node->value, error);
	error = ipallow_geo_entry_needs_db(&entry,
			ipallow_geoip_has_country(ld->policy->geoip),
			ipallow_geoip_has_asn(ld->policy->geoip));
	if (error != NULL)
		return node_error(ld, node, "%s: \"%.64s\": %s", key,
				  node->value, error);
	if (ipallow_geo_entries_add(geo, &entry) < 0)
		return loader_oom(ld);
	return 1;
}

static int add_set(struct policy_loader *ld, const char *name,
		   struct ipallow_prefix_array *arr,
		   struct ipallow_geo_entries *geo)
{
	struct ipallow_policy *policy = ld->policy;
	struct ipallow_set **sets, *set;

	sets = ipallow_reallocarray(policy->sets, policy->sets_count + 1,
				    sizeof(*sets));
	if (sets == NULL)
		return loader_oom(ld);
	policy->sets = sets;
	if (ipallow_set_create(name, arr, &set) < 0)
		return loader_oom(ld);
	set->geo = *geo;
	memset(geo, 0, sizeof(*geo));
	policy->sets[policy->sets_count++] = set;
	return 0;
}

static int set_from_file(struct policy_loader *ld,
			 const struct ipallow_ynode *key,
			 const struct ipallow_ynode *map,
			 struct ipallow_prefix_array *arr,
			 struct ipallow_geo_entries *geo)
{
	const struct ipallow_ynode *file;
	char *path = NULL, *error = NULL;
	int ret;

	if (map->count != 2 || strcmp(map->items[0]->value, "file") != 0)
		return node_error(ld, map, "set '%.64s' must be a list of "
				  "prefixes or { file: PATH }", key->value);
	file = map->items[1];
	if (file->type != IPALLOW_YNODE_SCALAR || file->value[0] == '\0')
		return node_error(ld, file, "set '%.64s': file must be a path",
				  key->value);
	if (file->value[0] != '/' && ld->base_dir != NULL) {
		size_t len = strlen(ld->base_dir) + strlen(file->value) + 2;

		path = ipallow_malloc(len);
		if (path == NULL)
			return loader_oom(ld);
		snprintf(path, len, "%s/%s", ld->base_dir, file->value);
	}
	ret = ipallow_set_file_read_geo(path != NULL ? path : file->value, arr,
					geo,
					ipallow_geoip_has_country(ld->policy->geoip),
					ipallow_geoip_has_asn(ld->policy->geoip),
					&error);
	ipallow_free(path);
	if (ret < 0) {
		if (error == NULL)
			return loader_oom(ld);
		ret = node_error(ld, file, "set '%.64s': %s", key->value, error);
		ipallow_free(error);
		return ret;
	}
	return 0;
}

static int handle_sets(struct policy_loader *ld,
		       const struct ipallow_ynode *node)
{
	size_t i, j;

	if (node->type != IPALLOW_YNODE_MAP)
		return node_error(ld, node, "sets must be a mapping of names");
	for (i = 0; i < node->count; i += 2) {
		const struct ipallow_ynode *key = node->items[i];
		const struct ipallow_ynode *value = node->items[i + 1];
		struct ipallow_prefix_array arr = { NULL, 0, 0 };
		struct ipallow_geo_entries geo;
		int ret = 0;

		memset(&geo, 0, sizeof(geo));
		if (key->type != IPALLOW_YNODE_SCALAR ||
		    !ipallow_set_name_is_valid(key->value, strlen(key->value)))
			return node_error(ld, key, "set names are letters, "
					  "digits, '_', '-' and '.'");
		for (j = 0; j < i; j += 2) {
			if (strcmp(node->items[j]->value, key->value) == 0)
				return node_error(ld, key, "duplicate set '%.64s'",
						  key->value);
		}
		if (value->type == IPALLOW_YNODE_MAP) {
			ret = set_from_file(ld, key, value, &arr, &geo);
		} else if (check_sequence(ld, "a set", value) < 0) {
			ret = -1;
		} else {
			char what[80];

			snprintf(what, sizeof(what), "set '%s'", key->value);
			for (j = 0; j < value->count && ret == 0; j++) {
				ret = add_geo_node(ld, what, value->items[j],
						   &geo);
				if (ret == 0)
					ret = add_prefix_node(ld, what,
							      value->items[j],
							      &arr);
				else if (ret > 0)
					ret = 0;
			}
		}
		if (ret == 0)
			ret = add_set(ld, key->value, &arr, &geo);
		ipallow_prefix_array_free(&arr);
		ipallow_geo_entries_free(&geo);
		if (ret < 0)
			return -1;
	}
	return 0;
}

/* domains: { example.com: "LIST", "*": "LIST" } (SPEC 9.4). The lists
   are checked in policy_finish(), once sets and databases are known. */
static int handle_domains(struct policy_loader *ld,
			  const struct ipallow_ynode *node)
{
	struct ipallow_policy *policy = ld->policy;
	size_t i, j;

	if (node->type != IPALLOW_YNODE_MAP)
		return node_error(ld, node, "domains must be a mapping of "
				  "domain names to lists");
	policy->domains = ipallow_calloc(node->count / 2 + 1,
					 sizeof(*policy->domains));
	if (policy->domains == NULL)
		return loader_oom(ld);
	for (i = 0; i < node->count; i += 2) {
		const struct ipallow_ynode *key = node->items[i];
		const struct ipallow_ynode *value = node->items[i + 1];
		struct ipallow_domain_list *d;

		if (key->type != IPALLOW_YNODE_SCALAR ||
		    (strcmp(key->value, "*") != 0 &&
		     (!ipallow_text_is_name(key->value, strlen(key->value),
					    true) || key->value[0] == '.' ||
		      strlen(key->value) > 128)))
			return node_error(ld, key, "domains: keys are domain "
					  "names (letters, digits, '-', '.') "
					  "or \"*\"");
		for (j = 0; j < i; j += 2) {
			if (strcasecmp(node->items[j]->value, key->value) == 0)
				return node_error(ld, key, "duplicate domain "
						  "'%.64s'", key->value);
		}
		if (value->type != IPALLOW_YNODE_SCALAR)
			return node_error(ld, value, "domains.%s must be one "
					  "list text, e.g. \"@office, "
					  "country:DE\"", key->value);
		d = &policy->domains[policy->domains_count];
		d->domain = ipallow_strdup(key->value);
		d->text = ipallow_strdup(value->plain_null ? "" : value->value);
		d->line = value->line;
		d->column = value->column;
		policy->domains_count++;
		if (d->domain == NULL || d->text == NULL)
			return loader_oom(ld);
	}
	return 0;
}

/* A database path, relative ones against the policy's directory. */
static int geoip_path(struct policy_loader *ld, const char *key,
		      const struct ipallow_ynode *node, char **path_r)
{
	size_t len;

	if (node->type != IPALLOW_YNODE_SCALAR || node->value[0] == '\0')
		return node_error(ld, node, "%s must be a path", key);
	if (node->value[0] == '/' || ld->base_dir == NULL) {
		*path_r = ipallow_strdup(node->value);
	} else {
		len = strlen(ld->base_dir) + strlen(node->value) + 2;
		*path_r = ipallow_malloc(len);
		if (*path_r != NULL)
			snprintf(*path_r, len, "%s/%s", ld->base_dir,
				 node->value);
	}
	return *path_r == NULL ? loader_oom(ld) : 0;
}

/* geoip: { country_db: PATH, asn_db: PATH }, handled before every other
   key (sets and domains need to know which databases exist). A database
   that does not open is a load error: fail closed. */
static int handle_geoip_first(struct policy_loader *ld,
			      const struct ipallow_ynode *node)
{
	struct ipallow_policy *policy = ld->policy;
	const struct ipallow_ynode *country = NULL, *asn = NULL, *at;
	char *error = NULL;
	size_t i;
	int ret;

	if (node->type != IPALLOW_YNODE_MAP)
		return node_error(ld, node, "geoip must be a mapping");
	for (i = 0; i < node->count; i += 2) {
		const struct ipallow_ynode *key = node->items[i];

		if (key->type == IPALLOW_YNODE_SCALAR &&
		    strcmp(key->value, "country_db") == 0 && country == NULL)
			country = node->items[i + 1];
		else if (key->type == IPALLOW_YNODE_SCALAR &&
			 strcmp(key->value, "asn_db") == 0 && asn == NULL)
			asn = node->items[i + 1];
		else if (key->type == IPALLOW_YNODE_SCALAR &&
			 (strcmp(key->value, "country_db") == 0 ||
			  strcmp(key->value, "asn_db") == 0))
			return node_error(ld, key, "duplicate key '%s'",
					  key->value);
		else
			return node_error(ld, key, "unknown key '%.64s' in "
					  "geoip",
					  key->type == IPALLOW_YNODE_SCALAR ?
					  key->value : "?");
	}
	if (country != NULL &&
	    geoip_path(ld, "geoip.country_db", country, &policy->country_db) < 0)
		return -1;
	if (asn != NULL &&
	    geoip_path(ld, "geoip.asn_db", asn, &policy->asn_db) < 0)
		return -1;
	if (country == NULL && asn == NULL)
		return 0;
	ret = ipallow_geoip_open(policy->country_db, policy->asn_db,
				 &policy->geoip, &error);
	if (ret < 0) {
		if (error == NULL)
			return loader_oom(ld);
		at = strncmp(error, "geoip.asn_db", 12) == 0 ? asn : country;
		ret = node_error(ld, at, "%s", error);
		ipallow_free(error);
		return ret;
	}
	return 0;
}

static int handle_geoip(struct policy_loader *ld ATTR_UNUSED_IPALLOW,
			const struct ipallow_ynode *node ATTR_UNUSED_IPALLOW)
{
	/* done by handle_geoip_first() */
	return 0;
}

static const struct key_handler top_handlers[] = {
	{ "field", handle_field },
	{ "mode", handle_mode },
	{ "reject_reason", handle_reject_reason },
	{ "unknown_ip", handle_unknown_ip },
	{ "on_invalid", handle_on_invalid },
	{ "limits", handle_limits },
	{ "exempt", handle_exempt },
	{ "sets", handle_sets },
	{ "domains", handle_domains },
	{ "geoip", handle_geoip },
	{ "password_change", handle_password_change },
	{ NULL, NULL }
};

/* exempt.networks when the policy does not set it */
static const char *const default_exempt_groups[] = {
	"private", "loopback", "link-local"
};
/* Compiles what the walk collected (exempt networks, sets) and checks
   the domains: lists against them. */
static int policy_finish(struct policy_loader *ld)
{
	struct ipallow_policy *policy = ld->policy;
	struct ipallow_parse_ctx ctx;
	unsigned int i;

	if (!ld->exempt_networks_set) {
		for (i = 0; i < sizeof(default_exempt_groups) /
			     sizeof(default_exempt_groups[0]); i++) {
			if (ipallow_group_add(default_exempt_groups[i],
					      &ld->exempt) < 0)
				return loader_oom(ld);
		}
	}
	if (ipallow_radix_build(ld->exempt.prefixes, ld->exempt.count,
				&policy->exempt_networks) < 0)
		return loader_oom(ld);
	if (ipallow_radix_build(ld->password_change_peers.prefixes,
				ld->password_change_peers.count,
				&policy->password_change_exempt_peers) < 0)
		return loader_oom(ld);
	ipallow_policy_parse_ctx(policy, &ctx);
	for (i = 0; i < policy->domains_count; i++) {
		const struct ipallow_domain_list *d = &policy->domains[i];
		struct ipallow_list *list;
		char diag[IPALLOW_DIAG_STRLEN];
		int ret;

		ret = ipallow_list_parse_flags(d->text, &ctx,
					       IPALLOW_LIST_PARSE_SKIP_NORMALISED,
					       &list);
		if (ret < 0)
			return loader_oom(ld);
		if (ret == 0) {
			(void)loader_error(ld, d->line, d->column,
					   "domains.%s: %s", d->domain,
					   ipallow_diag_format(&list->errors[0],
							       diag));
			ipallow_list_free(&list);
			return -1;
		}
		ipallow_list_free(&list);
	}
	return 0;
}

/* The whole document: geoip first (sets and domains need to know which
   databases exist), then every key through top_handlers. */
static int walk_root(struct policy_loader *ld,
		     const struct ipallow_ynode *root)
{
	size_t i;

	if (root->type == IPALLOW_YNODE_SCALAR && root->plain_null)
		return 0;	/* an empty document: all defaults */
	for (i = 0; root->type == IPALLOW_YNODE_MAP && i < root->count;
	     i += 2) {
		const struct ipallow_ynode *key = root->items[i];

		if (key->type == IPALLOW_YNODE_SCALAR &&
		    strcmp(key->value, "geoip") == 0) {
			if (handle_geoip_first(ld, root->items[i + 1]) < 0)
				return -1;
			break;
		}
	}
	return walk_mapping(ld, "the policy", root, top_handlers);
}

static int policy_load_data(const unsigned char *data, size_t size,
			    const char *name, const char *base_dir,
			    struct ipallow_policy **policy_r, char **error_r)
{
	struct policy_loader ld;
	struct ipallow_ynode *root = NULL;
	int ret = 0;

	*policy_r = NULL;
	*error_r = NULL;
	memset(&ld, 0, sizeof(ld));
	ld.name = name;
	if (base_dir != NULL && (ld.base_dir = ipallow_strdup(base_dir)) == NULL)
		return -1;
	ld.policy = ipallow_policy_new();
	if (ld.policy == NULL)
		ret = loader_oom(&ld);
	if (ret == 0 && (ld.policy->path = ipallow_strdup(name)) == NULL)
		ret = loader_oom(&ld);
	if (ret == 0 &&
	    (ret = ipallow_yaml_parse(data, size, name, &root, &ld.error)) < 0)
		ld.oom = ld.error == NULL;
	if (ret == 0 && root != NULL)
		ret = walk_root(&ld, root);
	if (ret == 0)
		ret = policy_finish(&ld);
	ipallow_yaml_free(&root);
	ipallow_prefix_array_free(&ld.exempt);
	ipallow_prefix_array_free(&ld.password_change_peers);
	ipallow_free(ld.base_dir);
	if (ret < 0) {
		ipallow_policy_free(&ld.policy);
		*error_r = ld.error;
		return -1;
	}
	*policy_r = ld.policy;
	return 0;
}

int ipallow_policy_defaults(struct ipallow_policy **policy_r)
{
	char *error;
	int ret;

	ret = policy_load_data((const unsigned char *)"", 0, "(defaults)",
			       NULL, policy_r, &error);
	ipallow_free(error);
	if (ret == 0) {
		ipallow_free((*policy_r)->path);
		(*policy_r)->path = NULL;
	}
	return ret;
}

int ipallow_policy_load_buffer(const unsigned char *data, size_t size,
			       const char *name,
			       struct ipallow_policy **policy_r,
			       char **error_r)
{
	char *dir, *slash;
	int ret;

	dir = ipallow_strdup(name);
	if (dir == NULL) {
		*policy_r = NULL;
		*error_r = NULL;
		return -1;
	}
	slash = strrchr(dir, '/');
	if (slash == NULL)
		strcpy(dir, ".");
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	ret = policy_load_data(data, size, name, dir, policy_r, error_r);
	ipallow_free(dir);
	return ret;
}

int ipallow_policy_load(const char *path, struct ipallow_policy **policy_r,
			char **error_r)
{
	return ipallow_policy_load_flags(path, 0, policy_r, error_r);
}

int ipallow_policy_load_path(const char *configured_path,
			     const char **path_r,
			     struct ipallow_policy **policy_r,
			     char **error_r)
{
	if (configured_path == NULL || configured_path[0] == '\0') {
		*path_r = IPALLOW_POLICY_DEFAULT_PATH;
		return ipallow_policy_load_flags(IPALLOW_POLICY_DEFAULT_PATH, 0,
						 policy_r, error_r);
	}
	*path_r = configured_path;
	return ipallow_policy_load_flags(configured_path,
					 IPALLOW_POLICY_LOAD_MISSING_IS_ERROR,
					 policy_r, error_r);
}

int ipallow_policy_load_flags(const char *path, unsigned int flags,
			      struct ipallow_policy **policy_r,
			      char **error_r)
{
	char *data, *error;
	size_t size;
	int ret;

	*policy_r = NULL;
	*error_r = NULL;
	ret = ipallow_file_read(path, IPALLOW_POLICY_MAX_BYTES, &data, &size,
				&error);
	if (ret == 0 && (flags & IPALLOW_POLICY_LOAD_MISSING_IS_ERROR) != 0) {
		if (error != NULL) {
			*error_r = ipallow_strdup_printf("%s (a configured policy "
				"file must exist; remove the setting to use the "
				"defaults)", error);
			ipallow_free(error);
		}
		return -1;
	}
	if (ret == 0) {
		ipallow_free(error);
		if (ipallow_policy_defaults(policy_r) < 0)
			return -1;
		(*policy_r)->file_missing = true;
		(*policy_r)->path = ipallow_strdup(path);
		if ((*policy_r)->path == NULL) {
			ipallow_policy_free(policy_r);
			return -1;
		}
		return 0;
	}
	if (ret < 0) {
		*error_r = error;
		return -1;
	}
	ret = ipallow_policy_load_buffer((const unsigned char *)data, size,
					 path, policy_r, error_r);
	ipallow_free(data);
	return ret;
}
