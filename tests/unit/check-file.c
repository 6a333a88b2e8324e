/* The bounded file reader behind policy files and set files. */
#include "test-common.h"
#include "ipallow-alloc.h"
#include "ipallow-file.h"

#define MIB (1024 * 1024)

static char tmpdir[256];

static void files_setup(void)
{
	test_tmpdir(tmpdir, sizeof(tmpdir));
}

static void files_teardown(void)
{
	test_tmpdir_remove(tmpdir);
}

/* Returns what ipallow_file_read() did, with its text or error. */
static int read_path(const char *path, size_t max, char **data_r,
		     size_t *size_r, char **error_r)
{
	*data_r = (void *)1;
	*error_r = (void *)1;
	return ipallow_file_read(path, max, data_r, size_r, error_r);
}

START_TEST(test_file_read)
{
	char path[512], *data, *error;
	size_t size;

	test_write_file(tmpdir, "a.nets", "10.0.0.0/8\n\0x", 13, path,
			sizeof(path));
	ck_assert_int_eq(read_path(path, MIB, &data, &size, &error), 1);
	ck_assert(error == NULL);
	ck_assert_uint_eq(size, 13);
	ck_assert(memcmp(data, "10.0.0.0/8\n\0x", 13) == 0);
	ck_assert(data[size] == '\0');
	free(data);

	/* an empty file is empty text, not an error */
	test_write_file(tmpdir, "empty", "", 0, path, sizeof(path));
	ck_assert_int_eq(read_path(path, MIB, &data, &size, &error), 1);
	ck_assert(error == NULL && size == 0 && data[0] == '\0');
	free(data);
}
END_TEST

/* Missing is 0, with the message for callers to whom it is an error. */
START_TEST(test_file_missing)
{
	char path[512], want[600], *data, *error;
	size_t size = 7;

	snprintf(path, sizeof(path), "%s/none.yaml", tmpdir);
	ck_assert_int_eq(read_path(path, MIB, &data, &size, &error), 0);
	ck_assert(data == NULL && size == 0);
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	ck_assert_str_eq(error, want);
	free(error);

	/* a missing directory on the way is missing too */
	snprintf(path, sizeof(path), "%s/no/such.yaml", tmpdir);
	ck_assert_int_eq(read_path(path, MIB, &data, &size, &error), 0);
	free(error);

	/* a file where a directory should be is not */
	test_write_file(tmpdir, "f", "x", 1, NULL, 0);
	snprintf(path, sizeof(path), "%s/f/x.yaml", tmpdir);
	ck_assert_int_eq(read_path(path, MIB, &data, &size, &error), -1);
	snprintf(want, sizeof(want), "%s: Not a directory", path);
	ck_assert_str_eq(error, want);
	free(error);
}
END_TEST

START_TEST(test_file_not_regular)
{
	char want[600], *data, *error;
	size_t size;

	ck_assert_int_eq(read_path(tmpdir, MIB, &data, &size, &error), -1);
	ck_assert(data == NULL);
	snprintf(want, sizeof(want), "%s: not a regular file", tmpdir);
	ck_assert_str_eq(error, want);
	free(error);
	ck_assert_int_eq(read_path("/dev/null", MIB, &data, &size, &error),
			 -1);
	ck_assert_str_eq(error, "/dev/null: not a regular file");
	free(error);
}
END_TEST

/* max_bytes is the largest file read; the message names it in MiB. */
START_TEST(test_file_limit)
{
	char path[512], want[600], *data, *error, *big;
	size_t size;

	big = malloc(2 * MIB + 1);
	ck_assert(big != NULL);
	memset(big, '#', 2 * MIB + 1);
	test_write_file(tmpdir, "big", big, MIB, path, sizeof(path));
	ck_assert_int_eq(read_path(path, MIB, &data, &size, &error), 1);
	ck_assert_uint_eq(size, MIB);
	free(data);
	test_write_file(tmpdir, "big", big, MIB + 1, path, sizeof(path));
	ck_assert_int_eq(read_path(path, MIB, &data, &size, &error), -1);
	snprintf(want, sizeof(want), "%s: file is larger than 1 MiB", path);
	ck_assert_str_eq(error, want);
	free(error);
	test_write_file(tmpdir, "big", big, 2 * MIB + 1, path, sizeof(path));
	ck_assert_int_eq(read_path(path, 2 * MIB, &data, &size, &error), -1);
	snprintf(want, sizeof(want), "%s: file is larger than 2 MiB", path);
	ck_assert_str_eq(error, want);
	free(error);
	free(big);
}
END_TEST

/* Out of memory: -1 and no message, nothing leaked (ASan checks). */
START_TEST(test_file_oom)
{
	char path[512], *data, *error;
	size_t size;
	int ret;

	/* the contents are the one allocation of a read */
	test_write_file(tmpdir, "a", "1.2.3.4\n", 8, path, sizeof(path));
	ipallow_alloc_fail_countdown = 1;
	ret = read_path(path, MIB, &data, &size, &error);
	ipallow_alloc_fail_countdown = 0;
	ck_assert_int_eq(ret, -1);
	ck_assert(data == NULL && error == NULL);
	ipallow_alloc_fail_countdown = 2;
	ret = read_path(path, MIB, &data, &size, &error);
	ipallow_alloc_fail_countdown = 0;
	ck_assert_int_eq(ret, 1);
	free(data);
	snprintf(path, sizeof(path), "%s/none", tmpdir);
	ipallow_alloc_fail_countdown = 1;
	ret = read_path(path, MIB, &data, &size, &error);
	ipallow_alloc_fail_countdown = 0;
	ck_assert_int_eq(ret, 0);
	ck_assert(data == NULL && error == NULL);
}
END_TEST

static Suite *file_suite(void)
{
	Suite *s = suite_create("file");
	TCase *tc;

	tc = tcase_create("read");
	tcase_add_checked_fixture(tc, files_setup, files_teardown);
	tcase_add_test(tc, test_file_read);
	tcase_add_test(tc, test_file_missing);
	tcase_add_test(tc, test_file_not_regular);
	tcase_add_test(tc, test_file_limit);
	tcase_add_test(tc, test_file_oom);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run_suite(file_suite());
}
