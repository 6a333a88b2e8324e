/* Client addresses: construction, the ::ffff:0:0/96 mapping, text,
   and ipallow_addr_parse(), the list grammar without a length. */
#include "test-common.h"
#include "ipallow-prefix.h"

/* Client addresses (ipallow_addr_parse): the same grammar without a
   length; mapped clients are IPv4 clients. */
static const struct addr_case {
	const char *in;
	enum ipallow_family family;	/* NONE: invalid */
	const char *want;		/* canonical text, or the error */
} addr_cases[] = {
	{ "198.51.100.7", IPALLOW_FAMILY_IPV4, "198.51.100.7" },
	{ "0.0.0.0", IPALLOW_FAMILY_IPV4, "0.0.0.0" },
	{ "::ffff:198.51.100.7", IPALLOW_FAMILY_IPV4, "198.51.100.7" },
	{ "::FFFF:c633:6407", IPALLOW_FAMILY_IPV4, "198.51.100.7" },
	{ "0:0:0:0:0:ffff:10.0.0.1", IPALLOW_FAMILY_IPV4, "10.0.0.1" },
	{ "::198.51.100.7", IPALLOW_FAMILY_IPV6, "::198.51.100.7" },
	{ "64:ff9b::198.51.100.7", IPALLOW_FAMILY_IPV6, "64:ff9b::c633:6407" },
	{ "2001:DB8::1", IPALLOW_FAMILY_IPV6, "2001:db8::1" },
	{ "::", IPALLOW_FAMILY_IPV6, "::" },
	{ "::1", IPALLOW_FAMILY_IPV6, "::1" },
	{ "198.51.100.7/32", IPALLOW_FAMILY_NONE,
	  "a client address has no prefix length" },
	{ "::1/128", IPALLOW_FAMILY_NONE, "a client address has no prefix length" },
	{ "010.0.0.1", IPALLOW_FAMILY_NONE, "IPv4 octet with a leading zero is not allowed" },
	{ "10.1", IPALLOW_FAMILY_NONE, "IPv4 shorthand is not allowed" },
	{ "fe80::1%eth0", IPALLOW_FAMILY_NONE, "IPv6 zone index is not allowed" },
	{ "[::1]", IPALLOW_FAMILY_NONE, "brackets are not allowed" },
	{ "1.2.3.4:993", IPALLOW_FAMILY_NONE, "ports are not allowed" },
	{ "localhost", IPALLOW_FAMILY_NONE, 
	  "host names are not allowed, only IP addresses" },
	{ "", IPALLOW_FAMILY_NONE, "empty address" },
};

START_TEST(test_addr_parse)
{
	const struct addr_case *c = &addr_cases[_i];
	struct ipallow_addr addr, ref;
	char buf[IPALLOW_ADDR_STRLEN];
	const char *error = NULL;
	int ret;

	ret = ipallow_addr_parse(c->in, &addr, &error);
	if (c->family == IPALLOW_FAMILY_NONE) {
		ck_assert_msg(ret == -1, "case %d: \"%s\": accepted", _i, c->in);
		ck_assert_msg(strcmp(error, c->want) == 0,
			      "case %d: \"%s\": error \"%s\", want \"%s\"", _i,
			      c->in, error, c->want);
		return;
	}
	ck_assert_msg(ret == 0, "case %d: \"%s\": rejected: %s", _i, c->in,
		      error);
	ck_assert_msg(addr.family == c->family, "case %d: \"%s\": family %d",
		      _i, c->in, addr.family);
	ck_assert_msg(strcmp(ipallow_addr_to_str(&addr, buf), c->want) == 0,
		      "case %d: \"%s\": got %s, want %s", _i, c->in, buf,
		      c->want);
	/* the same address as the adapters build it from struct ip_addr */
	ref = test_addr(c->in);
	ck_assert_msg(ipallow_addr_equals(&addr, &ref),
		      "case %d: \"%s\": differs from inet_pton", _i, c->in);
}
END_TEST

START_TEST(test_addr_basics)
{
	static const uint8_t mapped[16] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1
	};
	static const uint8_t compat[16] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 192, 0, 2, 1
	};
	static const uint8_t v4[4] = { 192, 0, 2, 1 };
	struct ipallow_addr a, b;
	char buf[IPALLOW_ADDR_STRLEN];

	ipallow_addr_set_ipv6(&a, mapped);
	ipallow_addr_set_ipv4(&b, v4);
	ck_assert_int_eq(a.family, IPALLOW_FAMILY_IPV4);
	ck_assert(ipallow_addr_equals(&a, &b));
	ck_assert_str_eq(ipallow_addr_to_str(&a, buf), "192.0.2.1");

	ipallow_addr_set_ipv6(&a, compat);
	ck_assert_int_eq(a.family, IPALLOW_FAMILY_IPV6);
	ck_assert(!ipallow_addr_equals(&a, &b));
	ck_assert_str_eq(ipallow_addr_to_str(&a, buf), "::192.0.2.1");

	ipallow_addr_set_none(&a);
	ck_assert_int_eq(a.family, IPALLOW_FAMILY_NONE);
	ck_assert_str_eq(ipallow_addr_to_str(&a, buf), "unknown");
	ipallow_addr_set_none(&b);
	ck_assert(ipallow_addr_equals(&a, &b));
	b = test_addr("0.0.0.0");
	ck_assert(!ipallow_addr_equals(&a, &b));
}
END_TEST

/* The IPv4-mapped block, ::ffff:0:0/96, and its neighbours. */
static const struct v4mapped_case {
	const char *in;		/* IPv6 text (inet_pton) */
	bool mapped;
} v4mapped_cases[] = {
	{ "::ffff:0.0.0.0", true },
	{ "::ffff:192.0.2.1", true },
	{ "::ffff:255.255.255.255", true },
	{ "::192.0.2.1", false },		/* IPv4-compatible */
	{ "::fffe:192.0.2.1", false },
	{ "::1:ffff:192.0.2.1", false },
	{ "0:0:0:0:1:ffff:c000:201", false },
	{ "64:ff9b::192.0.2.1", false },	/* NAT64 */
	{ "ffff::192.0.2.1", false },
	{ "::", false },
};

START_TEST(test_addr_is_v4mapped)
{
	const struct v4mapped_case *c = &v4mapped_cases[_i];
	struct ipallow_addr addr;
	uint8_t bytes[16];

	ck_assert_int_eq(inet_pton(AF_INET6, c->in, bytes), 1);
	ck_assert_msg(ipallow_addr_is_v4mapped(bytes) == c->mapped,
		      "case %d: \"%s\": want %d", _i, c->in, c->mapped);
	/* the constructor follows the same rule */
	ipallow_addr_set_ipv6(&addr, bytes);
	ck_assert_msg(addr.family == (c->mapped ? IPALLOW_FAMILY_IPV4 :
				      IPALLOW_FAMILY_IPV6),
		      "case %d: \"%s\": family %d", _i, c->in, addr.family);
	if (c->mapped)
		ck_assert(memcmp(addr.bytes, bytes + 12, 4) == 0);
}
END_TEST

START_TEST(test_addr_to_str_longest)
{
	static const char longest[] = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe";
	struct ipallow_addr addr = test_addr(longest);
	char buf[IPALLOW_ADDR_STRLEN];

	ck_assert_str_eq(ipallow_addr_to_str(&addr, buf), longest);
	/* equal needs the same family and bytes */
	ck_assert(!ipallow_addr_equals(&addr, &(struct ipallow_addr){
		.family = IPALLOW_FAMILY_IPV4 }));
}
END_TEST

static Suite *addr_suite(void)
{
	Suite *s = suite_create("addr");
	TCase *tc;

	tc = tcase_create("client address");
	tcase_add_loop_test(tc, test_addr_parse, 0, N_ELEMENTS(addr_cases));
	tcase_add_test(tc, test_addr_basics);
	tcase_add_test(tc, test_addr_to_str_longest);
	suite_add_tcase(s, tc);

	tc = tcase_create("v4mapped");
	tcase_add_loop_test(tc, test_addr_is_v4mapped, 0,
			    N_ELEMENTS(v4mapped_cases));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run_suite(addr_suite());
}
