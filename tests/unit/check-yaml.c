/* The bounded YAML reader: what it refuses, with the exact message and
   its 1-based position, and the tree it builds. */
#include "test-common.h"
#include "ipallow-yaml.h"

struct yaml_error_case {
	const char *yaml;
	size_t size;		/* 0: strlen(yaml) */
	const char *error;	/* exact */
};

static const struct yaml_error_case yaml_error_cases[] = {
	/* aliases are refused, anchors alone are harmless */
	{ "mode: &m enforce\nunknown_ip: *m\n", 0,
	  "test.yaml:2:13: YAML aliases are not allowed" },
	{ "sets:\n  a: &s [1.2.3.4]\n  b: *s\n", 0,
	  "test.yaml:3:6: YAML aliases are not allowed" },
	{ "x: &a [*a]\n", 0, "test.yaml:1:8: YAML aliases are not allowed" },
	/* nesting */
	{ "sets:\n  a: [[1.2.3.4]]\n", 0,
	  "test.yaml:2:7: nesting is deeper than the policy allows" },
	{ "exempt:\n  services: [[a]]\n", 0,
	  "test.yaml:2:14: nesting is deeper than the policy allows" },
	{ "a:\n  b:\n    c:\n      d: 1\n", 0,
	  "test.yaml:4:7: nesting is deeper than the policy allows" },
	{ "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]"
	  "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n", 0,
	  "test.yaml:1:4: nesting is deeper than the policy allows" },
	/* one document */
	{ "mode: enforce\n---\nmode: report\n", 0,
	  "test.yaml:2:1: only one YAML document is allowed" },
	{ "---\nmode: enforce\n...\n---\n", 0,
	  "test.yaml:4:1: only one YAML document is allowed" },
	/* syntax and encoding */
	{ "mode: [enforce\n", 0,
	  "test.yaml:2:1: YAML syntax error: did not find expected ',' or ']' "
	  "while parsing a flow sequence" },
	{ "mode: enforce\n\tfield: x\n", 0,
	  "test.yaml:2:1: YAML syntax error: found a tab character that "
	  "violates indentation while scanning a plain scalar" },
	{ "mode: \"enforce\n", 0,
	  "test.yaml:2:1: YAML syntax error: found unexpected end of stream "
	  "while scanning a quoted scalar" },
	{ "mode: \xff\n", 0,
	  "test.yaml:1:7: YAML syntax error: invalid leading UTF-8 octet" },
	{ "mode: enforce\nfield: \xc3\n", 0,
	  "test.yaml:2:9: YAML syntax error: invalid trailing UTF-8 octet" },
	{ "mode: enforce\r\nfield: x\xc3\xa9\xff\n", 0,
	  "test.yaml:2:10: YAML syntax error: invalid leading UTF-8 octet" },
	{ "mode: enforce\nfield: ab\x01\n", 0,
	  "test.yaml:2:10: YAML syntax error: control characters are not "
	  "allowed" },
	/* NUL bytes, wherever they are */
	{ "mode: enforce\nfield: a\0b\n", 24,
	  "test.yaml:2:9: file contains a NUL byte" },
	{ "\0", 1, "test.yaml:1:1: file contains a NUL byte" },
	{ "# \xc3\xa9\xc3\xa9\r\n\0", 9, "test.yaml:2:1: file contains a NUL byte" },
	{ "# x\n# \xc3\xa9\0", 9, "test.yaml:2:4: file contains a NUL byte" },
};

START_TEST(test_yaml_errors)
{
	const struct yaml_error_case *c = &yaml_error_cases[_i];
	size_t size = c->size != 0 ? c->size : strlen(c->yaml);
	struct ipallow_ynode *root = (void *)1;
	char *error = NULL;

	ck_assert_msg(ipallow_yaml_parse((const unsigned char *)c->yaml, size,
					 "test.yaml", &root, &error) == -1,
		      "case %d: \"%s\": read", _i, c->yaml);
	ck_assert_msg(root == NULL, "case %d: a partial tree", _i);
	ck_assert_msg(error != NULL && strcmp(error, c->error) == 0,
		      "case %d: \"%s\": error '%s'", _i, c->yaml, error);
	free(error);
}
END_TEST

static struct ipallow_ynode *parse_ok(const char *yaml)
{
	struct ipallow_ynode *root = NULL;
	char *error = NULL;

	ck_assert_msg(ipallow_yaml_parse((const unsigned char *)yaml,
					 strlen(yaml), "t", &root,
					 &error) == 0, "\"%s\": %s", yaml, error);
	ck_assert(error == NULL);
	return root;
}

/* The tree: types, values, positions counted from 1. */
START_TEST(test_yaml_tree)
{
	struct ipallow_ynode *root, *seq;

	root = parse_ok("mode: enforce\nsets:\n  a: [1.2.3.4, \"x\"]\n");
	ck_assert_int_eq(root->type, IPALLOW_YNODE_MAP);
	ck_assert_uint_eq(root->count, 4);
	ck_assert_str_eq(root->items[0]->value, "mode");
	ck_assert_str_eq(root->items[1]->value, "enforce");
	ck_assert_uint_eq(root->items[1]->line, 1);
	ck_assert_uint_eq(root->items[1]->column, 7);
	ck_assert_int_eq(root->items[3]->type, IPALLOW_YNODE_MAP);
	seq = root->items[3]->items[1];
	ck_assert_int_eq(seq->type, IPALLOW_YNODE_SEQ);
	ck_assert_uint_eq(seq->line, 3);
	ck_assert_uint_eq(seq->column, 6);
	ck_assert_uint_eq(seq->count, 2);
	ck_assert_str_eq(seq->items[1]->value, "x");
	ck_assert_uint_eq(seq->items[1]->column, 16);
	ck_assert(!seq->items[1]->plain_null);
	ipallow_yaml_free(&root);
	ck_assert(root == NULL);
	ipallow_yaml_free(&root);
}
END_TEST

/* Only unquoted "", "~" and "null" are null. */
static const struct null_case {
	const char *yaml;
	bool plain_null;
} null_cases[] = {
	{ "a:\n", true },
	{ "a: ~\n", true },
	{ "a: null\n", true },
	{ "a: \"\"\n", false },
	{ "a: '~'\n", false },
	{ "a: \"null\"\n", false },
	{ "a: Null\n", false },
	{ "a: nil\n", false },
};

START_TEST(test_yaml_null)
{
	const struct null_case *c = &null_cases[_i];
	struct ipallow_ynode *root = parse_ok(c->yaml);

	ck_assert_msg(root->items[1]->plain_null == c->plain_null,
		      "case %d: \"%s\"", _i, c->yaml);
	ipallow_yaml_free(&root);
}
END_TEST

/* The limits, just below and just above. */
START_TEST(test_yaml_bounds)
{
	char yaml[IPALLOW_YAML_MAX_SCALAR + 16], *error = NULL, *big;
	struct ipallow_ynode *root;
	size_t items = IPALLOW_YAML_MAX_NODES - 1, i, pos;

	/* an empty stream is no tree at all */
	ck_assert_int_eq(ipallow_yaml_parse((const unsigned char *)"", 0, "t",
					    &root, &error), 0);
	ck_assert(root == NULL && error == NULL);
	root = parse_ok("# only a comment\n");
	ck_assert(root == NULL);

	/* three collections deep is the most */
	root = parse_ok("a: {b: [c]}");
	ipallow_yaml_free(&root);

	/* scalars up to IPALLOW_YAML_MAX_SCALAR bytes */
	memset(yaml, 'x', IPALLOW_YAML_MAX_SCALAR);
	yaml[IPALLOW_YAML_MAX_SCALAR] = '\0';
	root = parse_ok(yaml);
	ck_assert_uint_eq(strlen(root->value), IPALLOW_YAML_MAX_SCALAR);
	ipallow_yaml_free(&root);
	strcpy(yaml + IPALLOW_YAML_MAX_SCALAR, "x");
	ck_assert_int_eq(ipallow_yaml_parse((const unsigned char *)yaml,
					    strlen(yaml), "t", &root,
					    &error), -1);
	ck_assert_str_eq(error, "t:1:1: value is longer than 4096 bytes");
	free(error);

	/* IPALLOW_YAML_MAX_NODES nodes: a sequence and its items */
	big = malloc(2 * items + 8);
	ck_assert(big != NULL);
	pos = 0;
	big[pos++] = '[';
	for (i = 0; i < items; i++) {
		big[pos++] = 'a';
		big[pos++] = i + 1 < items ? ',' : ']';
	}
	big[pos] = '\0';
	root = parse_ok(big);
	ck_assert_uint_eq(root->count, items);
	ipallow_yaml_free(&root);
	strcpy(big + pos - 1, ",b]");
	ck_assert_int_eq(ipallow_yaml_parse((const unsigned char *)big,
					    strlen(big), "t", &root,
					    &error), -1);
	snprintf(yaml, sizeof(yaml), "t:1:%zu: too many YAML nodes (more "
		 "than 200000)", pos + 1);
	ck_assert_str_eq(error, yaml);
	free(error);
	free(big);
}
END_TEST

/* ipallow_yaml_verror(): with and without a position, cut at 511. */
static char *verror(const char *name, size_t line, size_t column,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static char *verror(const char *name, size_t line, size_t column,
		    const char *fmt, ...)
{
	va_list args;
	char *msg;

	va_start(args, fmt);
	msg = ipallow_yaml_verror(name, line, column, fmt, args);
	va_end(args);
	return msg;
}

START_TEST(test_yaml_verror)
{
	char long_text[600], *msg;

	msg = verror("p.yaml", 3, 7, "mode must be %s", "enforce");
	ck_assert_str_eq(msg, "p.yaml:3:7: mode must be enforce");
	free(msg);
	msg = verror("p.yaml", 0, 0, "%s", "not a regular file");
	ck_assert_str_eq(msg, "p.yaml: not a regular file");
	free(msg);
	memset(long_text, 'm', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	msg = verror("p", 1, 1, "%s", long_text);
	ck_assert_uint_eq(strlen(msg), strlen("p:1:1: ") + 511);
	free(msg);
}
END_TEST

static Suite *yaml_suite(void)
{
	Suite *s = suite_create("yaml");
	TCase *tc;

	tc = tcase_create("refusals");
	tcase_add_loop_test(tc, test_yaml_errors, 0,
			    N_ELEMENTS(yaml_error_cases));
	tcase_add_test(tc, test_yaml_bounds);
	suite_add_tcase(s, tc);

	tc = tcase_create("tree");
	tcase_add_test(tc, test_yaml_tree);
	tcase_add_loop_test(tc, test_yaml_null, 0, N_ELEMENTS(null_cases));
	tcase_add_test(tc, test_yaml_verror);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run_suite(yaml_suite());
}
