/* The bounded YAML reader (see ipallow-yaml.h). Positions are 1-based:
   libyaml's 0-based marks plus 1, as netplan prints them. */
#include "config.h"
#include "ipallow-yaml.h"
#include "ipallow-alloc.h"

#include <stdio.h>
#include <string.h>
#include <yaml.h>

struct yaml_reader {
	const char *name;	/* file name for messages */
	char *error;		/* the first error */
	bool oom;
	size_t nodes;
};

char *ipallow_yaml_verror(const char *name, size_t line, size_t column,
			  const char *fmt, va_list args)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, args);
	if (line > 0)
		return ipallow_strdup_printf("%s:%zu:%zu: %s", name, line,
					     column, msg);
	return ipallow_strdup_printf("%s: %s", name, msg);
}

static int __attribute__((format(printf, 4, 5)))
reader_error(struct yaml_reader *rd, size_t line, size_t column,
	     const char *fmt, ...)
{
	va_list args;

	if (rd->error != NULL || rd->oom)
		return -1;
	va_start(args, fmt);
	rd->error = ipallow_yaml_verror(rd->name, line, column, fmt, args);
	va_end(args);
	if (rd->error == NULL)
		rd->oom = true;
	return -1;
}

static int reader_oom(struct yaml_reader *rd)
{
	rd->oom = true;
	return -1;
}

static void ynode_free(struct ipallow_ynode *node)
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

static int ynode_append(struct ipallow_ynode *parent,
			struct ipallow_ynode *child)
{
	if (parent->count == parent->alloc) {
		size_t new_alloc = parent->alloc == 0 ? 8 : parent->alloc * 2;
		struct ipallow_ynode **items = ipallow_reallocarray(parent->items,
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

static struct ipallow_ynode *
ynode_new(struct yaml_reader *rd, enum ipallow_ynode_type type,
	  const yaml_mark_t *mark)
{
	struct ipallow_ynode *node;

	if (++rd->nodes > IPALLOW_YAML_MAX_NODES) {
		reader_error(rd, mark->line + 1, mark->column + 1,
			     "too many YAML nodes (more than %d)", IPALLOW_YAML_MAX_NODES);
		return NULL;
	}
	node = ipallow_calloc(1, sizeof(*node));
	if (node == NULL) {
		reader_oom(rd);
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
static int yaml_to_tree(struct yaml_reader *rd, const unsigned char *data,
			size_t size, struct ipallow_ynode **root_r)
{
	yaml_parser_t parser;
	yaml_event_t event;
	struct ipallow_ynode *stack[IPALLOW_YAML_MAX_DEPTH + 1], *root = NULL;
	unsigned int depth = 0, documents = 0;
	bool done = false;
	int ret = 0;

	*root_r = NULL;
	if (yaml_parser_initialize(&parser) == 0)
		return reader_oom(rd);
	yaml_parser_set_input_string(&parser, data, size);
	while (!done && ret == 0) {
		struct ipallow_ynode *node = NULL;

		if (yaml_parser_parse(&parser, &event) == 0) {
			if (parser.error == YAML_MEMORY_ERROR) {
				ret = reader_oom(rd);
			} else if (parser.error == YAML_READER_ERROR) {
				/* no mark, only a byte offset */
				size_t line, column;

				data_position(data, size, parser.problem_offset,
					      &line, &column);
				ret = reader_error(rd, line, column,
					"YAML syntax error: %s",
					parser.problem != NULL ? parser.problem : "unknown");
			} else {
				ret = reader_error(rd, parser.problem_mark.line + 1,
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
				ret = reader_error(rd, event.start_mark.line + 1,
					event.start_mark.column + 1,
					"only one YAML document is allowed");
			break;
		case YAML_ALIAS_EVENT:
			ret = reader_error(rd, event.start_mark.line + 1,
					   event.start_mark.column + 1, "%s",
					   yaml_event_what(event.type));
			break;
		case YAML_SCALAR_EVENT:
			if (event.data.scalar.length > IPALLOW_YAML_MAX_SCALAR) {
				ret = reader_error(rd, event.start_mark.line + 1,
					event.start_mark.column + 1,
					"value is longer than %d bytes",
					IPALLOW_YAML_MAX_SCALAR);
				break;
			}
			/* A "\0" escape in a quoted scalar: our strings would
			   end there and silently drop the rest ("imap\0x"
			   would exempt imap). */
			if (memchr(event.data.scalar.value, '\0',
				   event.data.scalar.length) != NULL) {
				ret = reader_error(rd, event.start_mark.line + 1,
					event.start_mark.column + 1,
					"value contains a NUL byte (\\0)");
				break;
			}
			node = ynode_new(rd, IPALLOW_YNODE_SCALAR, &event.start_mark);
			if (node == NULL) {
				ret = -1;
				break;
			}
			node->value = ipallow_strndup((const char *)event.data.scalar.value,
						      event.data.scalar.length);
			if (node->value == NULL) {
				ynode_free(node);
				node = NULL;	/* not to be attached below */
				ret = reader_oom(rd);
				break;
			}
			node->plain_null = event.data.scalar.plain_implicit &&
				(event.data.scalar.length == 0 ||
				 strcmp(node->value, "~") == 0 ||
				 strcmp(node->value, "null") == 0);
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (depth == IPALLOW_YAML_MAX_DEPTH) {
				ret = reader_error(rd, event.start_mark.line + 1,
					event.start_mark.column + 1,
					"nesting is deeper than the policy allows");
				break;
			}
			node = ynode_new(rd, event.type == YAML_SEQUENCE_START_EVENT ?
					 IPALLOW_YNODE_SEQ : IPALLOW_YNODE_MAP, &event.start_mark);
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
				ret = reader_oom(rd);
			}
			if (ret == 0 && node->type != IPALLOW_YNODE_SCALAR)
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

int ipallow_yaml_parse(const unsigned char *data, size_t size,
		       const char *name, struct ipallow_ynode **root_r,
		       char **error_r)
{
	struct yaml_reader rd;
	const unsigned char *nul;
	int ret;

	memset(&rd, 0, sizeof(rd));
	rd.name = name;
	*root_r = NULL;
	nul = memchr(data, '\0', size);
	if (nul != NULL) {
		size_t line, column;

		data_position(data, size, (size_t)(nul - data), &line, &column);
		ret = reader_error(&rd, line, column, "file contains a NUL byte");
	} else {
		ret = yaml_to_tree(&rd, data, size, root_r);
	}
	*error_r = rd.error;
	return ret;
}

void ipallow_yaml_free(struct ipallow_ynode **root)
{
	ynode_free(*root);
	*root = NULL;
}
