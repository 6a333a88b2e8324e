/* ipallow: validate lists, explain decisions, check policies, measure
   lookups. One file per subcommand; all of them call the same core
   functions as the Dovecot plugins, so the tool cannot disagree with a
   login. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipallow-cli.h"
#include "ipallow-decide.h"

static const struct cli_command commands[] = {
	{ "check", cmd_check,
	  "check [--policy FILE] [--service S] [--nets LIST] [--user U] "
	  "[--mode M] [--field NAME=VALUE]... [--password-change-required] "
	  "[--peer IP] IP" },
	{ "validate", cmd_validate,
	  "validate [--policy FILE] [--json] LIST|-" },
	{ "policy-check", cmd_policy_check, "policy-check FILE" },
	{ "lookup", cmd_lookup, "lookup [--policy FILE] IP" },
	{ "bench", cmd_bench,
	  "bench [--rounds N] PREFIX-FILE ADDRESS-FILE\n"
	  "  ipallow bench [--rounds N] [--policy FILE] --lists FILE" },
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

int cli_usage(const char *command)
{
	size_t i;

	fprintf(stderr, "usage:\n");
	for (i = 0; i < N_COMMANDS; i++) {
		if (command == NULL || strcmp(command, commands[i].name) == 0)
			fprintf(stderr, "  ipallow %s\n", commands[i].synopsis);
	}
	return EXIT_USAGE;
}

int cli_load_policy(const char *path, struct ipallow_policy **policy_r)
{
	char *error = NULL;

	if (path == NULL)
		path = IPALLOW_POLICY_DEFAULT_PATH;
	if (ipallow_policy_load(path, policy_r, &error) < 0) {
		fprintf(stderr, "ipallow: policy not loaded: %s\n",
			error != NULL ? error : "out of memory");
		free(error);
		return -1;
	}
	return 0;
}

int cli_parse_addr(const char *what, const char *arg,
		   struct ipallow_addr *addr_r)
{
	char text[IPALLOW_ESCAPED_STRLEN];
	const char *error;

	if (ipallow_addr_parse(arg, addr_r, &error) == 0)
		return 0;
	ipallow_escape_text(arg, strlen(arg), text, sizeof(text));
	fprintf(stderr, "ipallow: invalid %s \"%s\": %s\n", what, text, error);
	return -1;
}

char *cli_read_stream(FILE *fp, size_t *size_r)
{
	size_t size = 0, alloc = 4096;
	char *buf = malloc(alloc), *new_buf;
	size_t n;

	if (buf == NULL)
		return NULL;
	while ((n = fread(buf + size, 1, alloc - size - 1, fp)) > 0) {
		size += n;
		if (alloc - size - 1 == 0) {
			alloc *= 2;
			new_buf = realloc(buf, alloc);
			if (new_buf == NULL) {
				free(buf);
				return NULL;
			}
			buf = new_buf;
		}
	}
	if (ferror(fp)) {
		free(buf);
		return NULL;
	}
	buf[size] = '\0';
	*size_r = size;
	return buf;
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2)
		return cli_usage(NULL);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		cli_usage(NULL);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("ipallow %s\n", PACKAGE_VERSION);
		return 0;
	}
	for (i = 0; i < N_COMMANDS; i++) {
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	}
	fprintf(stderr, "ipallow: unknown command '%s'\n", argv[1]);
	return cli_usage(NULL);
}
