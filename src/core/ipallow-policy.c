/* The YAML policy (SPEC §5): load, validate every key, compile.

   libyaml's event API builds a small tree of our own, so that aliases can
   be refused (the document API silently shares aliased nodes), nesting
   and size are bounded, and every node keeps its 1-based position for
   messages. The loader returns a whole policy or nothing. */
#include "config.h"
#include "ipallow-policy.h"
#include "ipallow-alloc.h"
#include "ipallow-cache.h"
#include "ipallow-geoip.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

/* Our schema nests three collections at most (sets: name: [...]). */
#define YAML_MAX_DEPTH 3
#define ATTR_UNUSED_IPALLOW __attribute__((unused))
#define YAML_MAX_NODES 200000
#define YAML_MAX_SCALAR 4096
#define IPALLOW_LIMIT_ENTRIES_MAX 1000000u
#define IPALLOW_LIMIT_BYTES_MAX (16u * 1024 * 1024)

enum ynode_type { YNODE_SCALAR, YNODE_SEQ, YNODE_MAP };

struct ynode {
	enum ynode_type type;
	size_t line, column;	/* 1-based */
	char *value;		/* scalars */
	bool plain_null;	/* unquoted "", "~" or "null" */
	struct ynode **items;	/* seq: items; map: key, value, key, ... */
	size_t count, alloc;
};

struct policy_loader {
	const char *name;	/* file name for messages */
	char *base_dir;		/* for relative set paths */
	char *error;		/* first error, "name:line:col: message" */
	bool oom;
	size_t nodes;
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
	char msg[512];
	va_list args;
	int len;

	if (ld->error != NULL || ld->oom)
		return -1;
	va_start(args, fmt);
	vsnprintf(msg, sizeof(msg), fmt, args);
	va_end(args);
	if (line > 0)
		len = snprintf(NULL, 0, "%s:%zu:%zu: %s", ld->name, line, column, msg);
	else
		len = snprintf(NULL, 0, "%s: %s", ld->name, msg);
	ld->error = ipallow_malloc((size_t)len + 1);
	if (ld->error == NULL) {
		ld->oom = true;
		return -1;
	}
	if (line > 0)
		snprintf(ld->error, (size_t)len + 1, "%s:%zu:%zu: %s", ld->name,
			 line, column, msg);
	else
		snprintf(ld->error, (size_t)len + 1, "%s: %s", ld->name, msg);
	return -1;
}

static int loader_oom(struct policy_loader *ld)
{
	ld->oom = true;
	return -1;
}

#define node_error(ld, node, ...) \
	loader_error(ld, (node)->line, (node)->column, __VA_ARGS__)

/* --- the tree --- */

static void ynode_free(struct ynode *node)
{
	size_t i;

	if (node == NULL)
		return;
	for (i = 0; i < node->count; i++)
		ynode_free(node->items[i]);
	ipallow_free(node->items);
	ipallow_free(node->value);
	ipallow_free(node);
}

static int ynode_append(struct ynode *parent, struct ynode *child)
{
	if (parent->count == parent->alloc) {
		size_t new_alloc = parent->alloc == 0 ? 8 : parent->alloc * 2;
		struct ynode **items = ipallow_reallocarray(parent->items,
							   new_alloc,
							   sizeof(*items));
		if (items == NULL)
			return -1;
		parent->items = items;
		parent->alloc = new_alloc;
	}
	parent->items[parent->count++] = child;
	return 0;
}

static struct ynode *ynode_new(struct policy_loader *ld, enum ynode_type type,
			       const yaml_mark_t *mark)
{
	struct ynode *node;

	if (++ld->nodes > YAML_MAX_NODES) {
		loader_error(ld, mark->line + 1, mark->column + 1,
			     "too many YAML nodes (more than %d)", YAML_MAX_NODES);
		return NULL;
	}
	node = ipallow_calloc(1, sizeof(*node));
	if (node == NULL) {
		loader_oom(ld);
		return NULL;
	}
	node->type = type;
	node->line = mark->line + 1;
	node->column = mark->column + 1;
	return node;
}

static const char *yaml_event_what(yaml_event_type_t type)
{
	switch (type) {
	case YAML_ALIAS_EVENT:
		return "YAML aliases are not allowed";
	default:
		return "unexpected YAML event";
	}
}

/* The 1-based line and column of data[offset], counted as libyaml counts
   its marks: columns in characters, lines ended by "\n", "\r\n" or "\r".
   libyaml reports encoding errors with a byte offset only, and the NUL
   check runs before libyaml sees the data. */
static void data_position(const unsigned char *data, size_t size,
			  size_t offset, size_t *line_r, size_t *column_r)
{
	size_t i, line = 1, column = 1;

	if (offset > size)
		offset = size;
	for (i = 0; i < offset; i++) {
		if (data[i] == '\n' ||
		    (data[i] == '\r' && (i + 1 == size || data[i + 1] != '\n'))) {
			line++;
			column = 1;
		} else if (data[i] != '\r' && (data[i] & 0xc0) != 0x80) {
			column++;
		}
	}
	*line_r = line;
	*column_r = column;
}

/* Parses the whole stream into *root_r (NULL for an empty document). */
static int yaml_to_tree(struct policy_loader *ld, const unsigned char *data,
			size_t size, struct ynode **root_r)
{
	yaml_parser_t parser;
	yaml_event_t event;
	struct ynode *stack[YAML_MAX_DEPTH + 1], *root = NULL;
	unsigned int depth = 0, documents = 0;
	bool done = false;
	int ret = 0;

	*root_r = NULL;
	if (yaml_parser_initialize(&parser) == 0)
		return loader_oom(ld);
	yaml_parser_set_input_string(&parser, data, size);
	while (!done && ret == 0) {
		struct ynode *node = NULL;

		if (yaml_parser_parse(&parser, &event) == 0) {
			if (parser.error == YAML_MEMORY_ERROR) {
				ret = loader_oom(ld);
			} else if (parser.error == YAML_READER_ERROR) {
				/* no mark, only a byte offset */
				size_t line, column;

				data_position(data, size, parser.problem_offset,
					      &line, &column);
				ret = loader_error(ld, line, column,
					"YAML syntax error: %s",
					parser.problem != NULL ? parser.problem : "unknown");
			} else {
				ret = loader_error(ld, parser.problem_mark.line + 1,
					parser.problem_mark.column + 1,
					"YAML syntax error: %s%s%s",
					parser.problem != NULL ? parser.problem : "unknown",
					parser.context != NULL ? " " : "",
					parser.context != NULL ? parser.context : "");
			}
			break;
		}
		switch (event.type) {
		case YAML_NO_EVENT:
		case YAML_STREAM_START_EVENT:
		case YAML_DOCUMENT_END_EVENT:
			break;
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++documents > 1)
				ret = loader_error(ld, event.start_mark.line + 1,
					event.start_mark.column + 1,
					"only one YAML document is allowed");
			break;
		case YAML_ALIAS_EVENT:
			ret = loader_error(ld, event.start_mark.line + 1,
					   event.start_mark.column + 1, "%s",
					   yaml_event_what(event.type));
			break;
		case YAML_SCALAR_EVENT:
			if (event.data.scalar.length > YAML_MAX_SCALAR) {
				ret = loader_error(ld, event.start_mark.line + 1,
					event.start_mark.column + 1,
					"value is longer than %d bytes",
					YAML_MAX_SCALAR);
				break;
			}
			/* A "\0" escape in a quoted scalar: our strings would
			   end there and silently drop the rest ("imap\0x"
			   would exempt imap). */
			if (memchr(event.data.scalar.value, '\0',
				   event.data.scalar.length) != NULL) {
				ret = loader_error(ld, event.start_mark.line + 1,
					event.start_mark.column + 1,
					"value contains a NUL byte (\\0)");
				break;
			}
			node = ynode_new(ld, YNODE_SCALAR, &event.start_mark);
			if (node == NULL) {
				ret = -1;
				break;
			}
			node->value = ipallow_strndup((const char *)event.data.scalar.value,
						      event.data.scalar.length);
			if (node->value == NULL) {
				ynode_free(node);
				node = NULL;	/* not to be attached below */
				ret = loader_oom(ld);
				break;
			}
			node->plain_null = event.data.scalar.plain_implicit &&
				(event.data.scalar.length == 0 ||
				 strcmp(node->value, "~") == 0 ||
				 strcmp(node->value, "null") == 0);
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (depth == YAML_MAX_DEPTH) {
				ret = loader_error(ld, event.start_mark.line + 1,
					event.start_mark.column + 1,
					"nesting is deeper than the policy allows");
				break;
			}
			node = ynode_new(ld, event.type == YAML_SEQUENCE_START_EVENT ?
					 YNODE_SEQ : YNODE_MAP, &event.start_mark);
			if (node == NULL)
				ret = -1;
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		}
		if (node != NULL) {
			/* attach to the open collection, or make it the root */
			if (depth == 0)
				root = node;
			else if (ynode_append(stack[depth - 1], node) < 0) {
				ynode_free(node);
				ret = loader_oom(ld);
			}
			if (ret == 0 && node->type != YNODE_SCALAR)
				stack[depth++] = node;
		}
		yaml_event_delete(&event);
	}
	yaml_parser_delete(&parser);
	if (ret < 0) {
		ynode_free(root);
		return -1;
	}
	*root_r = root;
	return 0;
}

/* --- typed values --- */

static int get_scalar(struct policy_loader *ld, const char *key,
		      const struct ynode *node, const char **value_r)
{
	*value_r = "";
	if (node->type != YNODE_SCALAR)
		return node_error(ld, node, "%s must be a single value", key);
	*value_r = node->value;
	return 0;
}

static int get_choice(struct policy_loader *ld, const char *key,
		      const struct ynode *node, const char *const *choices,
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
		    const struct ynode *node, unsigned long max,
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

static int handle_field(struct policy_loader *ld, const struct ynode *node)
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

static int handle_mode(struct policy_loader *ld, const struct ynode *node)
{
	static const char *const choices[] = { "enforce", "report", NULL };
	int value;

	if (get_choice(ld, "mode", node, choices, &value) < 0)
		return -1;
	ld->policy->mode = value == 0 ? IPALLOW_MODE_ENFORCE : IPALLOW_MODE_REPORT;
	return 0;
}

static int handle_reject_reason(struct policy_loader *ld,
				const struct ynode *node)
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
			     const struct ynode *node)
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
			     const struct ynode *node)
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
	int (*handle)(struct policy_loader *ld, const struct ynode *value);
};

/* Walks a mapping, calling the handler of each key; unknown and
   duplicate keys are errors. */
static int walk_mapping(struct policy_loader *ld, const char *what,
			const struct ynode *map,
			const struct key_handler *handlers)
{
	size_t i, j;

	if (map->type != YNODE_MAP)
		return node_error(ld, map, "%s must be a mapping", what);
	for (i = 0; i < map->count; i += 2) {
		const struct ynode *key = map->items[i], *value = map->items[i + 1];
		const struct key_handler *h;

		if (key->type != YNODE_SCALAR)
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
				const struct ynode *node)
{
	unsigned long value;

	if (get_uint(ld, "limits.entries", node, IPALLOW_LIMIT_ENTRIES_MAX,
		     &value) < 0)
		return -1;
	ld->policy->parse_ctx.limits.max_entries = (unsigned int)value;
	return 0;
}

static int handle_limit_bytes(struct policy_loader *ld,
			      const struct ynode *node)
{
	unsigned long value;

	if (get_uint(ld, "limits.bytes", node, IPALLOW_LIMIT_BYTES_MAX,
		     &value) < 0)
		return -1;
	ld->policy->parse_ctx.limits.max_bytes = value;
	return 0;
}

static int handle_limits(struct policy_loader *ld, const struct ynode *node)
{
	static const struct key_handler handlers[] = {
		{ "entries", handle_limit_entries },
		{ "bytes", handle_limit_bytes },
		{ NULL, NULL }
	};
	return walk_mapping(ld, "limits", node, handlers);
}

static int check_sequence(struct policy_loader *ld, const char *key,
			  const struct ynode *node)
{
	size_t i;

	if (node->type != YNODE_SEQ)
		return node_error(ld, node, "%s must be a list", key);
	for (i = 0; i < node->count; i++) {
		if (node->items[i]->type != YNODE_SCALAR)
			return node_error(ld, node->items[i],
					  "items of %s must be single values", key);
	}
	return 0;
}

/* Parses one prefix from a policy node into arr. */
static int add_prefix_node(struct policy_loader *ld, const char *key,
			   const struct ynode *node,
			   struct ipallow_prefix_array *arr)
{
	struct ipallow_prefix prefix;
	const char *error;
	bool host_bits;
	int ret;

	ret = ipallow_prefix_parse(node->value, strlen(node->value), &prefix,
				   &host_bits, &error);
	if (ret == -2)
		return loader_oom(ld);
	if (ret < 0)
		return node_error(ld, node, "%s: \"%.64s\": %s", key,
				  node->value, error);
	if (ipallow_prefix_array_add(arr, &prefix) < 0)
		return loader_oom(ld);
	return 0;
}

/* A sequence of group names (private, loopback, link-local) and
   prefixes, into arr. */
static int collect_networks(struct policy_loader *ld, const char *key,
			    const struct ynode *node,
			    struct ipallow_prefix_array *arr)
{
	size_t i;

	if (check_sequence(ld, key, node) < 0)
		return -1;
	for (i = 0; i < node->count; i++) {
		const struct ynode *item = node->items[i];
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
				  const struct ynode *node)
{
	ld->exempt_networks_set = true;
	return collect_networks(ld, "exempt.networks", node, &ld->exempt);
}

static void free_strings(char ***strings, unsigned int *count)
{
	unsigned int i;

	for (i = 0; i < *count; i++)
		ipallow_free((*strings)[i]);
	ipallow_free(*strings);
	*strings = NULL;
	*count = 0;
}

/* A sequence of service names, replacing *strings. */
static int collect_services(struct policy_loader *ld, const char *key,
			    const struct ynode *node, char ***strings,
			    unsigned int *count)
{
	size_t i;

	if (check_sequence(ld, key, node) < 0)
		return -1;
	free_strings(strings, count);
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
				  const struct ynode *node)
{
	return collect_services(ld, "exempt.services", node,
				&ld->policy->exempt_services,
				&ld->policy->exempt_services_count);
}

static int handle_exempt(struct policy_loader *ld, const struct ynode *node)
{
	static const struct key_handler handlers[] = {
		{ "networks", handle_exempt_networks },
		{ "services", handle_exempt_services },
		{ NULL, NULL }
	};
	return walk_mapping(ld, "exempt", node, handlers);
}

static int handle_password_change_peers(struct policy_loader *ld,
					const struct ynode *node)
{
	return collect_networks(ld, "password_change.exempt_peers", node,
				&ld->password_change_peers);
}

static int handle_password_change_services(struct policy_loader *ld,
					   const struct ynode *node)
{
	struct ipallow_policy *policy = ld->policy;

	return collect_services(ld, "password_change.exempt_services", node,
				&policy->password_change_exempt_services,
				&policy->password_change_exempt_services_count);
}

static int handle_password_change(struct policy_loader *ld,
				  const struct ynode *node)
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
			const struct ynode *node,
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
	if (entry.kind == IPALLOW_GEO_COUNTRY &&
	    !ipallow_geoip_has_country(ld->policy->geoip))
		return node_error(ld, node, "%s: \"%.64s\": country entries "
				  "need a country database (geoip.country_db "
				  "in the policy)", key, node->value);
	if (entry.kind == IPALLOW_GEO_ASN &&
	    !ipallow_geoip_has_asn(ld->policy->geoip))
		return node_error(ld, node, "%s: \"%.64s\": asn entries need "
				  "an ASN database (geoip.asn_db in the "
				  "policy)", key, node->value);
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

static int set_from_file(struct policy_loader *ld, const struct ynode *key,
			 const struct ynode *map,
			 struct ipallow_prefix_array *arr,
			 struct ipallow_geo_entries *geo)
{
	const struct ynode *file;
	char *path = NULL, *error = NULL;
	int ret;

	if (map->count != 2 || strcmp(map->items[0]->value, "file") != 0)
		return node_error(ld, map, "set '%.64s' must be a list of "
				  "prefixes or { file: PATH }", key->value);
	file = map->items[1];
	if (file->type != YNODE_SCALAR || file->value[0] == '\0')
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

static int handle_sets(struct policy_loader *ld, const struct ynode *node)
{
	size_t i, j;

	if (node->type != YNODE_MAP)
		return node_error(ld, node, "sets must be a mapping of names");
	for (i = 0; i < node->count; i += 2) {
		const struct ynode *key = node->items[i], *value = node->items[i + 1];
		struct ipallow_prefix_array arr = { NULL, 0, 0 };
		struct ipallow_geo_entries geo;
		int ret = 0;

		memset(&geo, 0, sizeof(geo));
		if (key->type != YNODE_SCALAR ||
		    !ipallow_set_name_is_valid(key->value, strlen(key->value)))
			return node_error(ld, key, "set names are letters, "
					  "digits, '_', '-' and '.'");
		for (j = 0; j < i; j += 2) {
			if (strcmp(node->items[j]->value, key->value) == 0)
				return node_error(ld, key, "duplicate set '%.64s'",
						  key->value);
		}
		if (value->type == YNODE_MAP) {
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
static int handle_domains(struct policy_loader *ld, const struct ynode *node)
{
	struct ipallow_policy *policy = ld->policy;
	size_t i, j;

	if (node->type != YNODE_MAP)
		return node_error(ld, node, "domains must be a mapping of "
				  "domain names to lists");
	policy->domains = ipallow_calloc(node->count / 2 + 1,
					 sizeof(*policy->domains));
	if (policy->domains == NULL)
		return loader_oom(ld);
	for (i = 0; i < node->count; i += 2) {
		const struct ynode *key = node->items[i], *value = node->items[i + 1];
		struct ipallow_domain_list *d;

		if (key->type != YNODE_SCALAR ||
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
		if (value->type != YNODE_SCALAR)
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
		      const struct ynode *node, char **path_r)
{
	size_t len;

	if (node->type != YNODE_SCALAR || node->value[0] == '\0')
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
			      const struct ynode *node)
{
	struct ipallow_policy *policy = ld->policy;
	const struct ynode *country = NULL, *asn = NULL, *at;
	char *error = NULL;
	size_t i;
	int ret;

	if (node->type != YNODE_MAP)
		return node_error(ld, node, "geoip must be a mapping");
	for (i = 0; i < node->count; i += 2) {
		const struct ynode *key = node->items[i];

		if (key->type == YNODE_SCALAR &&
		    strcmp(key->value, "country_db") == 0 && country == NULL)
			country = node->items[i + 1];
		else if (key->type == YNODE_SCALAR &&
			 strcmp(key->value, "asn_db") == 0 && asn == NULL)
			asn = node->items[i + 1];
		else if (key->type == YNODE_SCALAR &&
			 (strcmp(key->value, "country_db") == 0 ||
			  strcmp(key->value, "asn_db") == 0))
			return node_error(ld, key, "duplicate key '%s'",
					  key->value);
		else
			return node_error(ld, key, "unknown key '%.64s' in "
					  "geoip", key->type == YNODE_SCALAR ?
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
			const struct ynode *node ATTR_UNUSED_IPALLOW)
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

/* --- policy objects --- */

static const char *const default_exempt_groups[] = {
	"private", "loopback", "link-local"
};
static const char *const default_exempt_services[] = {
	"caldav", "carddav", "webdav", "dav", "radicale",
	"lmtp", "lda", "doveadm", "indexer-worker"
};

static struct ipallow_policy *policy_new(void)
{
	struct ipallow_policy *policy;
	unsigned int i, n = sizeof(default_exempt_services) /
		sizeof(default_exempt_services[0]);

	policy = ipallow_calloc(1, sizeof(*policy));
	if (policy == NULL)
		return NULL;
	policy->mode = IPALLOW_MODE_ENFORCE;
	policy->unknown_ip = IPALLOW_UNKNOWN_IP_EXEMPT;
	policy->on_invalid = IPALLOW_ON_INVALID_DENY;
	policy->parse_ctx.limits.max_entries = IPALLOW_LIST_DEFAULT_MAX_ENTRIES;
	policy->parse_ctx.limits.max_bytes = IPALLOW_LIST_DEFAULT_MAX_BYTES;
	policy->field = ipallow_strdup(IPALLOW_DEFAULT_FIELD);
	policy->reject_reason = ipallow_strdup(IPALLOW_DEFAULT_REJECT_REASON);
	policy->exempt_services = ipallow_calloc(n, sizeof(char *));
	if (policy->field == NULL || policy->reject_reason == NULL ||
	    policy->exempt_services == NULL) {
		ipallow_policy_free(&policy);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		policy->exempt_services[i] =
			ipallow_strdup(default_exempt_services[i]);
		if (policy->exempt_services[i] == NULL) {
			ipallow_policy_free(&policy);
			return NULL;
		}
		policy->exempt_services_count++;
	}
	return policy;
}

/* Compiles what the walk collected: exempt networks, sets, the cache. */
static int policy_finish(struct policy_loader *ld)
{
	struct ipallow_policy *policy = ld->policy;
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
	policy->parse_ctx.sets = policy->sets;
	policy->parse_ctx.sets_count = policy->sets_count;
	policy->parse_ctx.have_country_db =
		ipallow_geoip_has_country(policy->geoip);
	policy->parse_ctx.have_asn_db = ipallow_geoip_has_asn(policy->geoip);
	/* the policy's context serves the cache; validate makes a copy */
	policy->parse_ctx.skip_normalised = true;
	for (i = 0; i < policy->domains_count; i++) {
		const struct ipallow_domain_list *d = &policy->domains[i];
		struct ipallow_list *list;
		char diag[IPALLOW_DIAG_STRLEN];
		int ret;

		ret = ipallow_list_parse(d->text, &policy->parse_ctx, &list);
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
	policy->cache = ipallow_cache_create(IPALLOW_CACHE_DEFAULT_ENTRIES,
					     IPALLOW_CACHE_DEFAULT_BYTES);
	if (policy->cache == NULL)
		return loader_oom(ld);
	return 0;
}

static int policy_load_data(const unsigned char *data, size_t size,
			    const char *name, const char *base_dir,
			    struct ipallow_policy **policy_r, char **error_r)
{
	struct policy_loader ld;
	struct ynode *root = NULL;
	const unsigned char *nul;
	int ret = 0;

	*policy_r = NULL;
	*error_r = NULL;
	memset(&ld, 0, sizeof(ld));
	ld.name = name;
	if (base_dir != NULL && (ld.base_dir = ipallow_strdup(base_dir)) == NULL)
		return -1;
	ld.policy = policy_new();
	if (ld.policy == NULL)
		ret = loader_oom(&ld);
	if (ret == 0 && (ld.policy->path = ipallow_strdup(name)) == NULL)
		ret = loader_oom(&ld);
	if (ret == 0 && (nul = memchr(data, '\0', size)) != NULL) {
		size_t line, column;

		data_position(data, size, (size_t)(nul - data), &line, &column);
		ret = loader_error(&ld, line, column, "file contains a NUL byte");
	}
	if (ret == 0)
		ret = yaml_to_tree(&ld, data, size, &root);
	if (ret == 0 && root != NULL) {
		if (root->type == YNODE_SCALAR && root->plain_null)
			;	/* an empty document: all defaults */
		else {
			size_t i;

			for (i = 0; root->type == YNODE_MAP && i < root->count &&
				     ret == 0; i += 2) {
				if (root->items[i]->type == YNODE_SCALAR &&
				    strcmp(root->items[i]->value, "geoip") == 0) {
					ret = handle_geoip_first(&ld,
							root->items[i + 1]);
					break;
				}
			}
			if (ret == 0)
				ret = walk_mapping(&ld, "the policy", root,
						   top_handlers);
		}
	}
	if (ret == 0)
		ret = policy_finish(&ld);
	ynode_free(root);
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
	struct policy_loader ld;
	struct stat st;
	unsigned char *data;
	size_t done = 0;
	int fd, ret;

	*policy_r = NULL;
	*error_r = NULL;
	memset(&ld, 0, sizeof(ld));
	ld.name = path;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT &&
	    (flags & IPALLOW_POLICY_LOAD_MISSING_IS_ERROR) != 0) {
		loader_error(&ld, 0, 0, "%s (a configured policy file must "
			     "exist; remove the setting to use the defaults)",
			     strerror(ENOENT));
		*error_r = ld.error;
		return -1;
	}
	if (fd < 0 && errno == ENOENT) {
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
	if (fd < 0) {
		loader_error(&ld, 0, 0, "%s", strerror(errno));
		*error_r = ld.error;
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > IPALLOW_POLICY_MAX_BYTES) {
		loader_error(&ld, 0, 0, "%s",
			     fstat(fd, &st) < 0 ? strerror(errno) :
			     !S_ISREG(st.st_mode) ? "not a regular file" :
			     "file is larger than 1 MiB");
		close(fd);
		*error_r = ld.error;
		return -1;
	}
	data = ipallow_malloc((size_t)st.st_size + 1);
	if (data == NULL) {
		close(fd);
		return -1;
	}
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, data + done, (size_t)st.st_size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			loader_error(&ld, 0, 0, "%s", n == 0 ?
				     "file shrank while being read" :
				     strerror(errno));
			ipallow_free(data);
			close(fd);
			*error_r = ld.error;
			return -1;
		}
		done += (size_t)n;
	}
	close(fd);
	ret = ipallow_policy_load_buffer(data, done, path, policy_r, error_r);
	ipallow_free(data);
	return ret;
}

const struct ipallow_domain_list *
ipallow_policy_find_domain(const struct ipallow_policy *policy,
			   const char *domain)
{
	unsigned int i;

	for (i = 0; i < policy->domains_count; i++) {
		if (strcasecmp(policy->domains[i].domain, domain) == 0)
			return &policy->domains[i];
	}
	return NULL;
}

int ipallow_policy_set_geoip(struct ipallow_policy *policy,
			     struct ipallow_geoip *geoip)
{
	struct ipallow_cache *cache;

	cache = ipallow_cache_create(IPALLOW_CACHE_DEFAULT_ENTRIES,
				     IPALLOW_CACHE_DEFAULT_BYTES);
	if (cache == NULL) {
		ipallow_geoip_free(&geoip);
		return -1;
	}
	ipallow_cache_free(&policy->cache);
	policy->cache = cache;
	ipallow_geoip_free(&policy->geoip);
	policy->geoip = geoip;
	policy->parse_ctx.have_country_db = ipallow_geoip_has_country(geoip);
	policy->parse_ctx.have_asn_db = ipallow_geoip_has_asn(geoip);
	return 0;
}

bool ipallow_policy_service_exempt(const struct ipallow_policy *policy,
				   const char *service)
{
	unsigned int i;

	if (service == NULL)
		return false;
	for (i = 0; i < policy->exempt_services_count; i++) {
		if (strcasecmp(policy->exempt_services[i], service) == 0)
			return true;
	}
	return false;
}

bool ipallow_policy_password_change_exempt(const struct ipallow_policy *policy,
					   const char *service,
					   const struct ipallow_addr *peer)
{
	unsigned int i;

	if (service != NULL) {
		for (i = 0; i < policy->password_change_exempt_services_count;
		     i++) {
			if (strcasecmp(policy->password_change_exempt_services[i],
				       service) == 0)
				return true;
		}
	}
	return peer->family != IPALLOW_FAMILY_NONE &&
		policy->password_change_exempt_peers != NULL &&
		ipallow_radix_lookup(policy->password_change_exempt_peers, peer);
}

const struct ipallow_set *
ipallow_policy_find_set(const struct ipallow_policy *policy, const char *name)
{
	unsigned int i;

	for (i = 0; i < policy->sets_count; i++) {
		if (strcmp(policy->sets[i]->name, name) == 0)
			return policy->sets[i];
	}
	return NULL;
}

const char *ipallow_mode_to_string(enum ipallow_mode mode)
{
	switch (mode) {
	case IPALLOW_MODE_ENFORCE:
		return "enforce";
	case IPALLOW_MODE_REPORT:
		return "report";
	}
	return "?";
}

const char *ipallow_unknown_ip_to_string(enum ipallow_unknown_ip value)
{
	switch (value) {
	case IPALLOW_UNKNOWN_IP_EXEMPT:
		return "exempt";
	case IPALLOW_UNKNOWN_IP_DENY:
		return "deny";
	}
	return "?";
}

const char *ipallow_on_invalid_to_string(enum ipallow_on_invalid value)
{
	switch (value) {
	case IPALLOW_ON_INVALID_DENY:
		return "deny";
	case IPALLOW_ON_INVALID_SKIP:
		return "skip";
	}
	return "?";
}

void ipallow_policy_free(struct ipallow_policy **_policy)
{
	struct ipallow_policy *policy = *_policy;
	unsigned int i;

	if (policy == NULL)
		return;
	*_policy = NULL;
	/* the cache's lists point into the sets: free it first */
	ipallow_cache_free(&policy->cache);
	for (i = 0; i < policy->sets_count; i++)
		ipallow_set_free(&policy->sets[i]);
	ipallow_free(policy->sets);
	for (i = 0; i < policy->domains_count; i++) {
		ipallow_free(policy->domains[i].domain);
		ipallow_free(policy->domains[i].text);
	}
	ipallow_free(policy->domains);
	ipallow_geoip_free(&policy->geoip);
	ipallow_free(policy->country_db);
	ipallow_free(policy->asn_db);
	ipallow_radix_free(&policy->exempt_networks);
	free_strings(&policy->exempt_services, &policy->exempt_services_count);
	ipallow_radix_free(&policy->password_change_exempt_peers);
	free_strings(&policy->password_change_exempt_services,
		     &policy->password_change_exempt_services_count);
	ipallow_free(policy->reject_reason);
	ipallow_free(policy->field);
	ipallow_free(policy->path);
	ipallow_free(policy);
}
