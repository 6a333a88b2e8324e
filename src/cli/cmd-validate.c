/* ipallow validate: the normalised list, or every error with entry,
   column and text. "-" reads one list per line (bulk provisioning). */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipallow-cli.h"

static void json_string(const char *s)
{
	putchar('"');
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void json_diags(const char *key, const struct ipallow_diag *diags,
		       unsigned int count)
{
	unsigned int i;

	printf(",\"%s\":[", key);
	for (i = 0; i < count && i < IPALLOW_LIST_MAX_DIAGS; i++) {
		printf("%s{\"entry\":%u,\"column\":%u,\"text\":", i == 0 ? "" : ",",
		       diags[i].entry, diags[i].column);
		json_string(diags[i].text);
		printf(",\"message\":");
		json_string(diags[i].message);
		putchar('}');
	}
	putchar(']');
}

/* One validated line as JSON: the one shape of every object --json
   prints. parsed is false for a line refused before parsing, which
   exceeds no worker limit. */
static void print_json(const struct ipallow_list *list, int valid,
		       unsigned long line, bool parsed)
{
	putchar('{');
	if (line > 0)
		printf("\"line\":%lu,", line);
	printf("\"valid\":%s,\"entries\":%u,\"bytes\":%zu,\"normalized\":",
	       valid ? "true" : "false", list->entry_count, list->text_bytes);
	json_string(list->normalised);
	printf(",\"error_count\":%u,\"warning_count\":%u,\"worker_limit_exceeded\":%s",
	       list->error_count, list->warning_count,
	       parsed && list->text_bytes > IPALLOW_LIST_WORKER_BYTES ?
	       "true" : "false");
	json_diags("errors", list->errors, list->error_count);
	json_diags("warnings", list->warnings, list->warning_count);
	printf("}\n");
}

static void print_diags(const char *what, const struct ipallow_diag *diags,
			unsigned int count, const char *prefix)
{
	unsigned int i;

	for (i = 0; i < count && i < IPALLOW_LIST_MAX_DIAGS; i++) {
		if (diags[i].entry == 0)
			printf("%s%s: %s (%s)\n", prefix, what, diags[i].message,
			       diags[i].text);
		else
			printf("%s%s: entry %u, column %u: \"%s\": %s\n", prefix,
			       what, diags[i].entry, diags[i].column,
			       diags[i].text, diags[i].message);
	}
	if (count > IPALLOW_LIST_MAX_DIAGS)
		printf("%s%s: ... %u in all\n", prefix, what, count);
}

static void print_human(const struct ipallow_list *list, int valid,
			unsigned long line)
{
	char prefix[32] = "";

	if (line > 0)
		snprintf(prefix, sizeof(prefix), "line %lu: ", line);
	if (valid)
		printf("%s%s\n", prefix, list->entry_count == 0 ?
		       "(empty: no restriction)" : list->normalised);
	print_diags("error", list->errors, list->error_count, prefix);
	print_diags("warning", list->warnings, list->warning_count, prefix);
	if (list->text_bytes > IPALLOW_LIST_WORKER_BYTES) {
		printf("%swarning: the list is %zu bytes; Dovecot's auth "
		       "workers (SQL and other blocking passdbs) cap a reply "
		       "at 8 KiB, so it would not reach the plugin there: "
		       "put long lists in a named set\n", prefix,
		       list->text_bytes);
	}
}

/* A line with a NUL byte, which would hide the rest of the line from the
   parser: refused rather than validated short. */
static void print_nul_line(size_t bytes, bool json, unsigned long line)
{
	struct ipallow_diag diag;
	struct ipallow_list list;

	if (!json) {
		printf("line %lu: error: NUL byte in the line\n", line);
		return;
	}
	memset(&diag, 0, sizeof(diag));
	snprintf(diag.message, sizeof(diag.message), "NUL byte in the line");
	memset(&list, 0, sizeof(list));
	list.text_bytes = bytes;
	list.normalised = (char *)"";
	list.error_count = 1;
	list.errors = &diag;
	print_json(&list, 0, line, false);
}

/* Returns 1 valid, 0 invalid, -1 out of memory. */
static int validate_one(const struct ipallow_policy *policy, const char *text,
			bool json, unsigned long line)
{
	struct ipallow_parse_ctx ctx;
	struct ipallow_list *list;
	int ret;

	ipallow_policy_parse_ctx(policy, &ctx);
	ret = ipallow_list_parse(text, &ctx, &list);
	if (ret < 0) {
		fprintf(stderr, "ipallow: out of memory\n");
		return -1;
	}
	if (json)
		print_json(list, ret, line, true);
	else
		print_human(list, ret, line);
	ipallow_list_free(&list);
	return ret;
}

int cmd_validate(int argc, char **argv)
{
	static const struct option options[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *policy_path = NULL;
	struct ipallow_policy *policy;
	bool json = false, all_valid = true;
	int c, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "p:jh", options, NULL)) != -1) {
		switch (c) {
		case 'p':
			policy_path = optarg;
			break;
		case 'j':
			json = true;
			break;
		default:
			return cli_usage("validate");
		}
	}
	if (argc - optind != 1)
		return cli_usage("validate");
	if (cli_load_policy(policy_path, &policy) < 0)
		return EXIT_USAGE;

	if (strcmp(argv[optind], "-") != 0) {
		ret = validate_one(policy, argv[optind], json, 0);
		all_valid = ret == 1;
		if (ret < 0) {
			ipallow_policy_free(&policy);
			return EXIT_USAGE;
		}
	} else {
		char *data, *line, *nl;
		unsigned long line_no = 0;
		size_t size;

		data = cli_read_stream(stdin, &size);
		if (data == NULL) {
			fprintf(stderr, "ipallow: cannot read standard input\n");
			ipallow_policy_free(&policy);
			return EXIT_USAGE;
		}
		for (line = data; line < data + size; line = nl + 1) {
			nl = memchr(line, '\n', (size_t)(data + size - line));
			if (nl == NULL)
				nl = data + size;
			line_no++;
			if (memchr(line, '\0', (size_t)(nl - line)) != NULL) {
				print_nul_line((size_t)(nl - line), json,
					       line_no);
				all_valid = false;
				continue;
			}
			*nl = '\0';
			if (nl > line && nl[-1] == '\r')
				nl[-1] = '\0';
			ret = validate_one(policy, line, json, line_no);
			if (ret < 0) {
				free(data);
				ipallow_policy_free(&policy);
				return EXIT_USAGE;
			}
			if (ret == 0)
				all_valid = false;
		}
		free(data);
	}
	ipallow_policy_free(&policy);
	return all_valid ? EXIT_GOES_ON : EXIT_DENY;
}
