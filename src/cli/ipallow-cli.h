#ifndef IPALLOW_CLI_H
#define IPALLOW_CLI_H

#include "ipallow-policy.h"

/* Exit codes, checked by the tests (SPEC §7). */
#define EXIT_GOES_ON 0		/* allow, exempt, unrestricted, report; valid */
#define EXIT_DENY 1		/* would be denied; invalid list or policy */
#define EXIT_USAGE 2		/* usage, malformed IP, policy not loaded */

struct cli_command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *synopsis;
};

int cmd_check(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_policy_check(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_lookup(int argc, char **argv);

/* Prints the usage of one command (or all when NULL) on stderr and
   returns EXIT_USAGE. */
int cli_usage(const char *command);

/* Loads --policy FILE, or the default path (a missing default file means
   all defaults, as in the plugin). Prints the error and returns -1 on
   failure. */
int cli_load_policy(const char *path, struct ipallow_policy **policy_r);

/* Parses an address argument; on failure prints
   'ipallow: invalid <what> "<arg, escaped>": <why>' and returns -1. */
int cli_parse_addr(const char *what, const char *arg,
		   struct ipallow_addr *addr_r);

/* Reads all of a stream into a NUL-terminated malloc()ed buffer. */
char *cli_read_stream(FILE *fp, size_t *size_r);

#endif
