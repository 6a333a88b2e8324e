#ifndef TEST_COMMON_H
#define TEST_COMMON_H

/* Helpers shared by the unit test programs. Everything is static so each
   program takes what it uses; -Wunused-function is silenced for the
   rest. */

#include <check.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipallow-addr.h"

#define N_ELEMENTS(arr) ((int)(sizeof(arr) / sizeof((arr)[0])))

/* Runs one suite and turns the result into an exit code for automake's
   test driver. CK_FORK and CK_VERBOSITY from the environment apply
   (CK_FORK=no for gdb). */
static inline int check_run_suite(Suite *suite)
{
	SRunner *runner = srunner_create(suite);
	int failed;

	srunner_run_all(runner, CK_ENV);
	failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* An address built with inet_pton(), independent of the core's own
   scanner; mapped IPv6 becomes IPv4 through the core's constructor, as
   the adapters do it. "unknown" gives family NONE. */
static inline struct ipallow_addr test_addr(const char *str)
{
	struct ipallow_addr addr;
	uint8_t bytes[16];

	if (strcmp(str, "unknown") == 0) {
		ipallow_addr_set_none(&addr);
	} else if (strchr(str, ':') != NULL) {
		ck_assert_msg(inet_pton(AF_INET6, str, bytes) == 1,
			      "test address \"%s\" does not parse", str);
		ipallow_addr_set_ipv6(&addr, bytes);
	} else {
		ck_assert_msg(inet_pton(AF_INET, str, bytes) == 1,
			      "test address \"%s\" does not parse", str);
		ipallow_addr_set_ipv4(&addr, bytes);
	}
	return addr;
}

/* A fresh temporary directory for one test; removed by
   test_tmpdir_remove(). */
static inline void test_tmpdir(char *dir, size_t size)
{
	const char *base = getenv("TMPDIR");

	snprintf(dir, size, "%s/ipallow-unit.XXXXXX",
		 base != NULL && base[0] != '\0' ? base : "/tmp");
	ck_assert_msg(mkdtemp(dir) != NULL, "mkdtemp(%s): %s", dir,
		      strerror(errno));
}

/* Writes data to dir/name (data may hold NUL bytes when size is given;
   size (size_t)-1 means strlen). Returns the path in path_r. */
static inline void test_write_file(const char *dir, const char *name,
				   const char *data, size_t size,
				   char *path_r, size_t path_size)
{
	FILE *fp;
	char path[4096];

	if (size == (size_t)-1)
		size = strlen(data);
	ck_assert((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) <
		  sizeof(path));
	fp = fopen(path, "w");
	ck_assert_msg(fp != NULL, "fopen(%s): %s", path, strerror(errno));
	ck_assert(fwrite(data, 1, size, fp) == size);
	ck_assert(fclose(fp) == 0);
	if (path_r != NULL)
		ck_assert((size_t)snprintf(path_r, path_size, "%s", path) <
			  path_size);
}

/* Removes the files this suite wrote and the directory (one level). */
static inline void test_tmpdir_remove(const char *dir)
{
	char cmd[4200];

	/* the names are ours (mkdtemp), so a plain rm is safe */
	ck_assert((size_t)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir) <
		  sizeof(cmd));
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

/* Deterministic PRNG (splitmix64), so a seed names a whole test run on
   every platform. */
static inline uint64_t test_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

#endif
