#ifndef IPALLOW_YAML_H
#define IPALLOW_YAML_H

/* A bounded YAML reader: libyaml's event API builds a small tree of our
   own, so that aliases can be refused (the document API silently shares
   aliased nodes), nesting, node count and scalar size are bounded, and
   every node keeps its 1-based position for messages. */

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/* The policy schema nests three collections at most (sets: name: [...]). */
#define IPALLOW_YAML_MAX_DEPTH 3
#define IPALLOW_YAML_MAX_NODES 200000
#define IPALLOW_YAML_MAX_SCALAR 4096

enum ipallow_ynode_type {
	IPALLOW_YNODE_SCALAR,
	IPALLOW_YNODE_SEQ,
	IPALLOW_YNODE_MAP,
};

struct ipallow_ynode {
	enum ipallow_ynode_type type;
	size_t line, column;	/* 1-based, as a compiler counts */
	char *value;		/* scalars: NUL-free, NUL-terminated */
	bool plain_null;	/* unquoted "", "~" or "null" */
	/* seq: the items; map: key, value, key, value, ... (keys may be
	   any node, duplicates are the caller's to refuse) */
	struct ipallow_ynode **items;
	size_t count, alloc;
};

/* Reads one YAML document from data[0..size). Refused, with a message:
   a NUL byte anywhere, a syntax error, more than one document, aliases,
   nesting deeper than IPALLOW_YAML_MAX_DEPTH, more than
   IPALLOW_YAML_MAX_NODES nodes, a scalar longer than
   IPALLOW_YAML_MAX_SCALAR bytes or holding a NUL ("\0" escape).

   Returns 0 and sets *root_r (the caller frees it with
   ipallow_yaml_free(); NULL for an empty stream), or -1 and sets *error_r
   to a malloc()ed "name:line:column: message" (NULL when out of memory). */
int ipallow_yaml_parse(const unsigned char *data, size_t size,
		       const char *name, struct ipallow_ynode **root_r,
		       char **error_r);

/* Frees a tree and sets *root to NULL. */
void ipallow_yaml_free(struct ipallow_ynode **root);

/* The malloc()ed message "name:line:column: message", or "name: message"
   when line is 0 (message cut at 511 bytes); NULL when out of memory. */
char *ipallow_yaml_verror(const char *name, size_t line, size_t column,
			  const char *fmt, va_list args)
	__attribute__((format(printf, 4, 0)));

#endif
