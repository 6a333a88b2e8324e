/* Text rules: the list separators, the name grammar, and escaping
   foreign text for messages and log lines. */
#include "test-common.h"
#include "ipallow-text.h"

static const struct escape_case {
	const char *in;
	size_t bufsize;
	const char *want;
} escape_cases[] = {
	{ "abc", 100, "abc" },
	{ "", 100, "" },
	{ "a\"b\\c", 100, "a\\x22b\\x5cc" },
	{ "\x01\t\n\x7f\x80\xff", 100, "\\x01\\x09\\x0a\\x7f\\x80\\xff" },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 100,
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab", 100,
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa..." },
	/* an escape that would pass 64 bytes is not split */
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\x01", 100,
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa..." },
	/* a small buffer: cut with room for "..." and the NUL */
	{ "abcdefghij", 8, "abcd..." },
	{ "abc", 4, "..." },
	{ "\x01\x02", 8, "\\x01..." },
	{ "abc", 1, "" },
};

START_TEST(test_escape_text)
{
	const struct escape_case *c = &escape_cases[_i];
	char buf[128];

	memset(buf, 'Z', sizeof(buf));
	ipallow_escape_text(c->in, strlen(c->in), buf, c->bufsize);
	ck_assert_msg(strcmp(buf, c->want) == 0, "case %d: \"%s\": got \"%s\"",
		      _i, c->in, buf);
	ck_assert_msg(buf[c->bufsize] == 'Z', "case %d: wrote past the buffer",
		      _i);
}
END_TEST

/* The field variant escapes spaces too, so a user name cannot forge a
   key=value field of its own. */
START_TEST(test_escape_field)
{
	char buf[IPALLOW_ESCAPED_STRLEN];

	ipallow_escape_field("eve service=caldav", 18, buf, sizeof(buf));
	ck_assert_str_eq(buf, "eve\\x20service=caldav");
	ipallow_escape_text("eve service=caldav", 18, buf, sizeof(buf));
	ck_assert_str_eq(buf, "eve service=caldav");
}
END_TEST

/* IPALLOW_ESCAPED_STRLEN is enough: the longest result is never cut
   short of IPALLOW_DIAG_TEXT_MAX bytes. */
START_TEST(test_escape_bufsize)
{
	char in[200], buf[IPALLOW_ESCAPED_STRLEN + 1], big[512];
	unsigned int i, c;

	for (c = 0; c < 256; c++) {
		for (i = 0; i < sizeof(in); i++)
			in[i] = (char)(i % 3 == 0 ? 'a' : c);
		buf[IPALLOW_ESCAPED_STRLEN] = 'Z';
		ipallow_escape_text(in, sizeof(in), buf, IPALLOW_ESCAPED_STRLEN);
		ipallow_escape_text(in, sizeof(in), big, sizeof(big));
		ck_assert_msg(strcmp(buf, big) == 0, "byte %u: \"%s\" vs \"%s\"",
			      c, buf, big);
		ck_assert(buf[IPALLOW_ESCAPED_STRLEN] == 'Z');
		ck_assert(strlen(buf) <= IPALLOW_DIAG_TEXT_MAX + 3);
	}
}
END_TEST

/* Every byte value against the separator set: ',' and the six white
   space characters, nothing else (not NUL, not other controls). */
START_TEST(test_separators)
{
	unsigned int c;

	for (c = 0; c < 256; c++) {
		bool want = c == ',' || c == ' ' || c == '\t' || c == '\n' ||
			c == '\r' || c == '\v' || c == '\f';

		ck_assert_msg(ipallow_text_is_separator((char)c) == want,
			      "byte 0x%02x", c);
	}
}
END_TEST

static const struct blank_case {
	const char *in;
	bool blank;
} blank_cases[] = {
	{ "", true },
	{ ",", true },
	{ " \t\n\r\v\f,, ", true },
	{ "a", false },
	{ " , 10.0.0.0/8", false },
	{ ",,,@office", false },
	{ "\x01", false },
	{ "\xa0", false },	/* no-break space (Latin-1) is not white space */
};

START_TEST(test_is_blank)
{
	const struct blank_case *c = &blank_cases[_i];

	ck_assert_msg(ipallow_text_is_blank(c->in) == c->blank,
		      "case %d: \"%s\"", _i, c->in);
}
END_TEST

static const struct name_case {
	const char *in;
	bool dot_ok;		/* valid with allow_dot */
	bool plain_ok;		/* valid without */
} name_cases[] = {
	{ "allow_nets", true, true },
	{ "a-b_c9", true, true },
	{ "Z", true, true },
	{ "x.y", true, false },
	{ ".", true, false },
	{ "", false, false },
	{ "a b", false, false },
	{ "a@b", false, false },
	{ "a/b", false, false },
	{ "a:b", false, false },
	{ "\xc3\xa9", false, false },
	{ "a\tb", false, false },
};

START_TEST(test_is_name)
{
	const struct name_case *c = &name_cases[_i];
	size_t len = strlen(c->in);

	ck_assert_msg(ipallow_text_is_name(c->in, len, true) == c->dot_ok,
		      "case %d: \"%s\" with dots", _i, c->in);
	ck_assert_msg(ipallow_text_is_name(c->in, len, false) == c->plain_ok,
		      "case %d: \"%s\" without dots", _i, c->in);
}
END_TEST

static Suite *text_suite(void)
{
	Suite *s = suite_create("text");
	TCase *tc;

	tc = tcase_create("escape");
	tcase_add_loop_test(tc, test_escape_text, 0, N_ELEMENTS(escape_cases));
	tcase_add_test(tc, test_escape_field);
	tcase_add_test(tc, test_escape_bufsize);
	suite_add_tcase(s, tc);

	tc = tcase_create("separators");
	tcase_add_test(tc, test_separators);
	tcase_add_loop_test(tc, test_is_blank, 0, N_ELEMENTS(blank_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("names");
	tcase_add_loop_test(tc, test_is_name, 0, N_ELEMENTS(name_cases));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run_suite(text_suite());
}
