/* Regression cases: every file under fuzz/corpus/regress/ (crashers the
   fuzzers found, named <target>-<what>) is replayed through each entry
   point that takes outside bytes, and each bug fixed by hand leaves a
   named case below. The replay asserts no crash (Check reports a signal
   as an error; ASan and UBSan in check-sanitizers see the rest) and that
   each result is one the API documents.

   IPALLOW_REGRESS_DIR overrides the directory. */
#include "test-common.h"
#include "test-check.h"
#include "ipallow-alloc.h"
#include "ipallow-decide.h"
#include "ipallow-message.h"

#include <dirent.h>

/* The fuzzers' inputs are bounded; anything larger is not a crasher. */
#define REGRESS_MAX_BYTES (16 * 1024 * 1024)
#define REGRESS_MAX_FILES 4096

static const char *regress_dir = REGRESS_DIR;
static char *regress_files[REGRESS_MAX_FILES];
static int regress_count;

/* A name the policy loader can use that resolves relative set files in
   a directory that does not exist, as the fuzz target does. */
#define POLICY_NAME "/nonexistent-ipallow-regress/ipallow.yaml"

static int name_cmp(const void *p1, const void *p2)
{
	return strcmp(*(char *const *)p1, *(char *const *)p2);
}

static void regress_scan(void)
{
	const char *env = getenv("IPALLOW_REGRESS_DIR");
	struct dirent *d;
	DIR *dir;

	if (env != NULL && env[0] != '\0')
		regress_dir = env;
	dir = opendir(regress_dir);
	if (dir == NULL) {
		fprintf(stderr, "check-regress: %s: %s\n", regress_dir,
			strerror(errno));
		return;
	}
	while ((d = readdir(dir)) != NULL && regress_count < REGRESS_MAX_FILES) {
		if (d->d_name[0] == '.')
			continue;	/* ".", "..", ".keep" */
		regress_files[regress_count] = strdup(d->d_name);
		if (regress_files[regress_count] != NULL)
			regress_count++;
	}
	closedir(dir);
	qsort(regress_files, (size_t)regress_count, sizeof(char *), name_cmp);
}

static unsigned char *read_file(const char *path, size_t *size_r)
{
	unsigned char *data;
	struct stat st;
	FILE *fp;

	fp = fopen(path, "rb");
	ck_assert_msg(fp != NULL, "%s: %s", path, strerror(errno));
	ck_assert(fstat(fileno(fp), &st) == 0);
	ck_assert_msg(S_ISREG(st.st_mode) && st.st_size <= REGRESS_MAX_BYTES,
		      "%s: not a regular file of at most 16 MiB", path);
	data = malloc((size_t)st.st_size + 1);
	ck_assert(data != NULL);
	ck_assert(fread(data, 1, (size_t)st.st_size, fp) == (size_t)st.st_size);
	fclose(fp);
	data[st.st_size] = '\0';
	*size_r = (size_t)st.st_size;
	return data;
}

static struct ipallow_policy *policy_with_sets(void)
{
	static const char yaml[] =
		"sets:\n  office: [203.0.113.0/24, \"2001:db8:100::/48\"]\n"
		"  a: [198.51.100.0/24]\n";
	struct ipallow_policy *policy;
	char *error;

	ck_assert(ipallow_policy_load_buffer((const unsigned char *)yaml,
					     strlen(yaml), "regress.yaml",
					     &policy, &error) == 0);
	return policy;
}

/* One list text: parse, look up, decide and log. */
static void replay_list(const char *name, struct ipallow_policy *policy,
			const char *text)
{
	static const char *const ips[] = {
		"198.51.100.7", "203.0.113.1", "2001:db8:100::1", "10.0.0.1",
		"::ffff:198.51.100.7", "::", "unknown",
	};
	struct ipallow_parse_ctx ctx;
	struct ipallow_list *list;
	char buf[IPALLOW_MESSAGE_MAX];
	unsigned int i;
	int ret;

	ipallow_policy_parse_ctx(policy, &ctx);
	ret = ipallow_list_parse(text, &ctx, &list);
	ck_assert_msg(ret == 0 || ret == 1, "%s: list parse returned %d", name,
		      ret);
	ck_assert_msg(list != NULL && list->radix != NULL &&
		      list->normalised != NULL, "%s: incomplete list", name);
	ck_assert_msg((ret == 1) == (list->error_count == 0),
		      "%s: returned %d with %u errors", name, ret,
		      list->error_count);
	for (i = 0; i < list->error_count && i < IPALLOW_LIST_MAX_DIAGS; i++)
		ipallow_diag_format(&list->errors[i], buf);
	for (i = 0; i < list->warning_count && i < IPALLOW_LIST_MAX_DIAGS; i++)
		ipallow_diag_format(&list->warnings[i], buf);
	ipallow_list_free(&list);

	for (i = 0; i < N_ELEMENTS(ips); i++) {
		struct ipallow_login req;
		struct ipallow_decision dec;
		bool goes_on;

		memset(&req, 0, sizeof(req));
		req.service = "imap";
		req.list_text = text;
		req.client_ip = test_addr(ips[i]);
		goes_on = test_check_once(policy, &req, &dec);
		ck_assert_msg(goes_on == (dec.result != IPALLOW_RESULT_DENY) &&
			      dec.rule != IPALLOW_RULE_INTERNAL_ERROR,
			      "%s: decision %s (%s) for %s", name,
			      ipallow_result_to_string(dec.result),
			      ipallow_rule_to_string(dec.rule), ips[i]);
		req.user = text;
		ipallow_message_decision(&dec, &req, buf, sizeof(buf));
		ipallow_message_invalid(&dec, &req, buf, sizeof(buf));
	}
}

static void replay(const char *name, const unsigned char *data, size_t size)
{
	struct ipallow_policy *policy = policy_with_sets(), *loaded;
	struct ipallow_prefix_array arr = { NULL, 0, 0 };
	struct ipallow_prefix prefix;
	struct ipallow_addr addr;
	const char *text = (const char *)data, *error;
	char *perr = NULL;
	size_t pos, len, n;
	bool host_bits;
	int ret;

	/* the list parser and the decision: the text up to each NUL (the
	   first 64 pieces) */
	for (pos = 0, n = 0; pos <= size && n < 64; pos += len + 1, n++) {
		len = strlen(text + pos);
		replay_list(name, policy, text + pos);
	}

	/* one entry, with an explicit length (NUL bytes included) */
	ret = ipallow_prefix_parse(text, size, &prefix, &host_bits, &error);
	ck_assert_msg(ret == 0 || ret == -1, "%s: prefix parse returned %d",
		      name, ret);
	ret = ipallow_addr_parse(text, &addr, &error);
	ck_assert_msg(ret == 0 || ret == -1, "%s: addr parse returned %d",
		      name, ret);

	/* a set file */
	ret = ipallow_set_buffer_read(text, size, name, &arr, &perr);
	ck_assert_msg(ret == 0 ? perr == NULL : perr != NULL,
		      "%s: set file returned %d, error %s", name, ret, perr);
	free(perr);
	ipallow_prefix_array_free(&arr);

	/* a policy: a whole one or an error naming the file */
	perr = NULL;
	ret = ipallow_policy_load_buffer(data, size, POLICY_NAME, &loaded,
					 &perr);
	if (ret == 0) {
		ck_assert_msg(loaded != NULL && perr == NULL &&
			      loaded->exempt_networks != NULL,
			      "%s: incomplete policy", name);
		replay_list(name, loaded, "203.0.113.0/24 @office @a 10/8");
		ipallow_policy_free(&loaded);
	} else {
		ck_assert_msg(ret == -1 && loaded == NULL && perr != NULL &&
			      strncmp(perr, POLICY_NAME ":",
				      strlen(POLICY_NAME) + 1) == 0,
			      "%s: policy load returned %d, error %s", name,
			      ret, perr);
		free(perr);
	}
	ipallow_policy_free(&policy);
}

START_TEST(test_regress_corpus)
{
	char path[4096];
	unsigned char *data;
	size_t size;

	ck_assert((size_t)snprintf(path, sizeof(path), "%s/%s", regress_dir,
				   regress_files[_i]) < sizeof(path));
	data = read_file(path, &size);
	replay(regress_files[_i], data, size);
	free(data);
}
END_TEST

/* The directory is there (with its .keep) even before the first
   crasher; a missing one means the replay silently checks nothing. */
START_TEST(test_regress_dir_exists)
{
	struct stat st;

	ck_assert_msg(stat(regress_dir, &st) == 0 && S_ISDIR(st.st_mode),
		      "%s: %s", regress_dir, strerror(errno));
}
END_TEST

/* --- bugs fixed by hand, one named case each --- */

/* libcidr 1.2.3 read up to 13 bytes before a short entry (PTR name
   checks before the length check): entries shorter than ".ip6.int". */
START_TEST(regress_libcidr_lookbehind)
{
	static const char *const entries[] = {
		"::", "::1", "::/0", "1.2.3.4", "0.0.0.0/0", "::ffff:1.2.3.4",
		"1::", "a::", "::a/1",
	};
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(entries); i++) {
		/* a heap copy of exactly the entry: nothing to read before */
		char *copy = strdup(entries[i]);
		struct ipallow_prefix prefix;
		const char *error;
		bool host_bits;

		ck_assert(copy != NULL);
		ck_assert_msg(ipallow_prefix_parse(copy, strlen(copy), &prefix,
						   &host_bits, &error) == 0,
			      "\"%s\": %s", entries[i], error);
		free(copy);
	}
	replay("list-libcidr-lookbehind", (const unsigned char *)
	       "1.2.3.4 ::1 ::/0", 16);
}
END_TEST

/* Any 'x' in an entry was called a hexadecimal octet. */
START_TEST(regress_x_is_not_hex)
{
	struct ipallow_prefix prefix;
	const char *error;
	bool host_bits;

	ck_assert_int_eq(ipallow_prefix_parse("x", 1, &prefix, &host_bits,
					      &error), -1);
	ck_assert_str_eq(error, "host names are not allowed, only IP addresses");
	ck_assert_int_eq(ipallow_prefix_parse("xmail.example.com", 17, &prefix,
					      &host_bits, &error), -1);
	ck_assert_str_eq(error, "host names are not allowed, only IP addresses");
	ck_assert_int_eq(ipallow_prefix_parse("0x0a.0.0.1", 10, &prefix,
					      &host_bits, &error), -1);
	ck_assert_str_eq(error, "hexadecimal IPv4 octets are not allowed");
}
END_TEST

static void assert_policy_error(const char *yaml, size_t size,
				const char *want)
{
	struct ipallow_policy *policy;
	char *error = NULL;

	ck_assert_int_eq(ipallow_policy_load_buffer((const unsigned char *)yaml,
						    size, "p.yaml", &policy,
						    &error), -1);
	ck_assert_str_eq(error, want);
	free(error);
}

/* libyaml's reader errors have no mark: every one said line 1,
   column 1. A NUL byte had no position at all. */
START_TEST(regress_policy_error_positions)
{
	assert_policy_error("mode: enforce\n\nfield: \xff\n", 23,
			    "p.yaml:3:8: YAML syntax error: invalid leading "
			    "UTF-8 octet");
	assert_policy_error("mode: enforce\n\nfield: \0\n", 23,
			    "p.yaml:3:8: file contains a NUL byte");
}
END_TEST

/* "10/8" in exempt.networks was called an unknown group. */
START_TEST(regress_exempt_networks_bad_prefix)
{
	static const char yaml[] = "exempt:\n  networks: [private, 10/8]\n";

	assert_policy_error(yaml, strlen(yaml),
			    "p.yaml:2:23: exempt.networks: \"10/8\": IPv4 "
			    "shorthand is not allowed");
}
END_TEST

/* When copying a scalar failed, the freed node was attached to the tree
   and freed again. */
START_TEST(regress_policy_scalar_oom)
{
	static const char yaml[] = "mode: enforce\nsets:\n  a: [1.2.3.4]\n";
	struct ipallow_policy *policy;
	unsigned long n;
	char *error;
	int ret;

	for (n = 1; n < 1000; n++) {
		ipallow_alloc_fail_countdown = n;
		ret = ipallow_policy_load_buffer((const unsigned char *)yaml,
						 strlen(yaml), "p.yaml",
						 &policy, &error);
		ipallow_alloc_fail_countdown = 0;
		if (ret == 0)
			break;
		ck_assert(policy == NULL && error == NULL);
	}
	ck_assert(n < 1000);
	ipallow_policy_free(&policy);
}
END_TEST

static Suite *regress_suite(void)
{
	Suite *s = suite_create("regress");
	TCase *tc;

	tc = tcase_create("fuzz corpus");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_regress_dir_exists);
	if (regress_count > 0) {
		tcase_add_loop_test(tc, test_regress_corpus, 0, regress_count);
	}
	suite_add_tcase(s, tc);

	tc = tcase_create("named");
	tcase_add_test(tc, regress_libcidr_lookbehind);
	tcase_add_test(tc, regress_x_is_not_hex);
	tcase_add_test(tc, regress_policy_error_positions);
	tcase_add_test(tc, regress_exempt_networks_bad_prefix);
	tcase_add_test(tc, regress_policy_scalar_oom);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	int ret, i;

	regress_scan();
	ret = check_run_suite(regress_suite());
	for (i = 0; i < regress_count; i++)
		free(regress_files[i]);
	return ret;
}
