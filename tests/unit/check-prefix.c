/* One list entry: the SPEC §3 grammar, row by row (client addresses:
   check-addr.c). Every invalid row asserts the exact message an operator reads. */
#include "test-common.h"
#include "ipallow-prefix.h"

struct prefix_case {
	const char *in;
	size_t len;		/* 0: strlen(in) */
	const char *want;	/* normalised "addr/len", or NULL if invalid */
	bool host_bits;		/* valid: host bits were set and cleared */
	const char *error;	/* invalid: the exact message */
};

#define OK(in, want) { in, 0, want, false, NULL }
#define HOST(in, want) { in, 0, want, true, NULL }
#define BAD(in, error) { in, 0, NULL, false, error }

static const char msg_leading_zero[] =
	"IPv4 octet with a leading zero is not allowed";
static const char msg_shorthand[] =
	"IPv4 shorthand is not allowed";
static const char msg_octet_range[] = "IPv4 octet out of range (0 to 255)";
static const char msg_empty_octet[] = "IPv4 address has an empty octet";
static const char msg_hex_octet[] = "hexadecimal IPv4 octets are not allowed";
static const char msg_netmask[] =
	"netmask notation is not allowed, use a prefix length";
static const char msg_len_empty[] = "prefix length is empty";
static const char msg_len_sign[] = "prefix length must not have a sign";
static const char msg_len_zero[] = "prefix length must not have leading zeros";
static const char msg_len_nan[] = "prefix length is not a decimal number";
static const char msg_len4_range[] = "IPv4 prefix length out of range (0 to 32)";
static const char msg_len6_range[] =
	"IPv6 prefix length out of range (0 to 128)";
static const char msg_zone[] = "IPv6 zone index is not allowed";
static const char msg_brackets[] = "brackets are not allowed";
static const char msg_ports[] = "ports are not allowed";
static const char msg_host[] = "host names are not allowed, only IP addresses";
static const char msg_v4_char[] = "invalid character in IPv4 address";
static const char msg_v6_char[] = "invalid character in IPv6 address";
static const char msg_embedded[] = "embedded IPv4 address is invalid";

static const struct prefix_case prefix_cases[] = {
	/* IPv4 addresses and prefixes */
	OK("198.51.100.7", "198.51.100.7/32"),
	OK("198.51.100.0/24", "198.51.100.0/24"),
	OK("0.0.0.0", "0.0.0.0/32"),
	OK("0.0.0.0/0", "0.0.0.0/0"),
	OK("255.255.255.255", "255.255.255.255/32"),
	OK("255.255.255.255/32", "255.255.255.255/32"),
	OK("10.0.0.0/8", "10.0.0.0/8"),
	OK("100.64.0.0/10", "100.64.0.0/10"),
	OK("192.0.2.1/32", "192.0.2.1/32"),
	OK("128.0.0.0/1", "128.0.0.0/1"),
	OK("1.2.3.4/31", "1.2.3.4/31"),
	/* host bits: the network is meant, validate warns */
	HOST("198.51.100.7/24", "198.51.100.0/24"),
	HOST("1.2.3.4/0", "0.0.0.0/0"),
	HOST("255.255.255.255/1", "128.0.0.0/1"),
	HOST("1.2.3.5/31", "1.2.3.4/31"),
	HOST("10.1.2.3/8", "10.0.0.0/8"),

	/* IPv6, RFC 4291 text forms; output is RFC 5952 */
	OK("::", "::/128"),
	OK("::1", "::1/128"),
	OK("::/0", "::/0"),
	OK("::/128", "::/128"),
	OK("2001:db8::1", "2001:db8::1/128"),
	OK("2001:DB8::1", "2001:db8::1/128"),
	OK("2001:Db8:aBcD::EF", "2001:db8:abcd::ef/128"),
	OK("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1/128"),
	OK("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1/128"),
	OK("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8/128"),
	OK("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	   "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"),
	OK("1::", "1::/128"),
	OK("1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0/128"),
	OK("::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8/128"),
	OK("1::8", "1::8/128"),
	OK("2001:db8:42::/48", "2001:db8:42::/48"),
	OK("2001:db8::/32", "2001:db8::/32"),
	OK("fe80::/10", "fe80::/10"),
	OK("fc00::/7", "fc00::/7"),
	OK("2001:db8::1/128", "2001:db8::1/128"),
	OK("8000::/1", "8000::/1"),
	HOST("2001:db8::1/48", "2001:db8::/48"),
	HOST("2001:db8:42::1/0", "::/0"),
	HOST("::1/127", "::/127"),
	HOST("fe80::1/10", "fe80::/10"),
	/* embedded IPv4 */
	OK("64:ff9b::1.2.3.4", "64:ff9b::102:304/128"),
	OK("64:ff9b::/96", "64:ff9b::/96"),
	OK("1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304/128"),
	/* IPv4-mapped: the IPv4 network it maps, whatever the spelling */
	OK("::ffff:1.2.3.4", "1.2.3.4/32"),
	OK("::FFFF:1.2.3.4", "1.2.3.4/32"),
	OK("::ffff:102:304", "1.2.3.4/32"),
	OK("0:0:0:0:0:ffff:1.2.3.4", "1.2.3.4/32"),
	OK("0000:0000:0000:0000:0000:ffff:0102:0304", "1.2.3.4/32"),
	OK("::ffff:198.51.100.0/120", "198.51.100.0/24"),
	OK("::ffff:198.51.100.7/128", "198.51.100.7/32"),
	OK("::ffff:0.0.0.0/96", "0.0.0.0/0"),
	OK("::ffff:0:0/96", "0.0.0.0/0"),
	HOST("::ffff:198.51.100.7/120", "198.51.100.0/24"),
	HOST("::ffff:1.2.3.4/96", "0.0.0.0/0"),
	/* a mapped prefix shorter than /96 is wider than IPv4: stays IPv6 */
	OK("::fffe:0:0/95", "::fffe:0:0/95"),
	HOST("::ffff:0:0/95", "::fffe:0:0/95"),
	HOST("::ffff:1.2.3.4/95", "::fffe:0:0/95"),
	/* IPv4-compatible ::a.b.c.d is plain IPv6 */
	OK("::1.2.3.4", "::1.2.3.4/128"),
	OK("::198.51.100.0/120", "::198.51.100.0/120"),
	/* the longest text an address can have: 49 bytes */
	OK("0000:0000:0000:0000:0000:ffff:255.255.255.255/128",
	   "255.255.255.255/32"),
	OK("0000:0000:0000:0000:0000:0000:255.255.255.255/128",
	   "::255.255.255.255/128"),

	/* IPv4: leading zeros (octal in some parsers) */
	BAD("010.0.0.1", msg_leading_zero),
	BAD("10.0.0.01", msg_leading_zero),
	BAD("10.00.0.1", msg_leading_zero),
	BAD("00.0.0.0", msg_leading_zero),
	BAD("0177.0.0.1", msg_leading_zero),
	/* IPv4 shorthand */
	BAD("10/8", msg_shorthand),
	BAD("10.1", msg_shorthand),
	BAD("10", msg_shorthand),
	BAD("10.0.0", msg_shorthand),
	BAD("10.0.0/24", msg_shorthand),
	BAD("2130706433", msg_octet_range),
	BAD("1.2.3.4.5", "IPv4 address has more than four octets"),
	BAD("256.0.0.1", msg_octet_range),
	BAD("1.2.3.256", msg_octet_range),
	BAD("1.2.3.1000", msg_octet_range),
	BAD("1..2.3", msg_empty_octet),
	BAD(".1.2.3", msg_empty_octet),
	BAD("1.2.3.4.", msg_empty_octet),
	BAD("1.2.3.", msg_empty_octet),
	/* hexadecimal */
	BAD("0x0a.0.0.1", msg_hex_octet),
	BAD("0xa000001", msg_hex_octet),
	BAD("10.0.0.0xff", msg_hex_octet),
	BAD("10.0.0.ff", msg_host),
	BAD("0X0A.0.0.1", msg_hex_octet),
	/* an 'x' that does not follow an octet's "0" is a name */
	BAD("x", msg_host),
	BAD("xmail.example.com", msg_host),
	BAD("10x.0.0.1", msg_host),
	BAD("10.0x0.0.1", msg_hex_octet),
	BAD("10.1x.0.1", msg_host),
	/* netmask notation */
	BAD("10.0.0.0/255.0.0.0", msg_netmask),
	BAD("10.0.0.0/255.255.255.0", msg_netmask),
	BAD("2001:db8::/ffff:ffff::", msg_len_nan),
	/* prefix lengths */
	BAD("1.2.3.4/", msg_len_empty),
	BAD("::/", msg_len_empty),
	BAD("1.2.3.4/+8", msg_len_sign),
	BAD("1.2.3.4/-1", msg_len_sign),
	BAD("::/+64", msg_len_sign),
	BAD("::/-0", msg_len_sign),
	BAD("1.2.3.4/08", msg_len_zero),
	BAD("1.2.3.0/024", msg_len_zero),
	BAD("1.2.3.4/00", msg_len_zero),
	BAD("::/00", msg_len_zero),
	BAD("::/064", msg_len_zero),
	BAD("1.2.3.4/33", msg_len4_range),
	BAD("1.2.3.4/128", msg_len4_range),
	BAD("1.2.3.4/4294967328", msg_len4_range),
	BAD("1.2.3.4/99999999999999999999999999", msg_len4_range),
	BAD("::/129", msg_len6_range),
	BAD("::ffff:1.2.3.4/129", msg_len6_range),
	BAD("::/4294967424", msg_len6_range),
	BAD("1.2.3.4/3a", msg_len_nan),
	BAD("1.2.3.4/ 8", msg_len_nan),
	BAD("1.2.3.4/8 ", msg_len_nan),
	BAD("1.2.3.4/0x8", msg_len_nan),
	BAD("1.2.3.4/24/8", "more than one '/'"),
	BAD("1.2.3.4//24", "more than one '/'"),
	BAD("/24", "empty address"),
	BAD("/", "empty address"),
	BAD("", "empty address"),
	/* zone index, brackets, ports */
	BAD("fe80::1%eth0", msg_zone),
	BAD("fe80::1%1", msg_zone),
	BAD("fe80::%eth0/64", msg_zone),
	BAD("[::1]", msg_brackets),
	BAD("[2001:db8::1]/64", msg_brackets),
	BAD("[2001:db8::1]:993", msg_brackets),
	BAD("::1]", msg_brackets),
	BAD("1.2.3.4:993", msg_ports),
	BAD("1.2.3.4:993/32", msg_ports),
	BAD("mail.example.com:993", msg_ports),
	/* host names */
	BAD("localhost", msg_host),
	BAD("example", msg_host),
	BAD("mail.example.com", msg_host),
	BAD("mail-1.example.com/24", msg_host),
	BAD("g::1", msg_host),
	BAD("2001:db8::zz", msg_host),
	BAD("cafe", msg_host),
	/* IPv6 structure */
	BAD("1:2:3:4:5:6:7:8:9", "IPv6 address has too many groups"),
	BAD("1:2::3:4:5:6:7:8", "IPv6 address has too many groups"),
	BAD("::1:2:3:4:5:6:7:8", "IPv6 address has too many groups"),
	BAD("1:2:3:4:5:6:7:8::", "IPv6 address has too many groups"),
	BAD("1:2:3:4:5:6:7:1.2.3.4", "IPv6 address has too many groups"),
	BAD("1:2:3:4:5:6:7", "IPv6 address has too few groups"),
	BAD("1:2:3:4:5:6:1.2.3", msg_embedded),
	BAD("ffff:1.2.3.4", "IPv6 address has too few groups"),
	BAD(":", "IPv6 address has too few groups"),
	BAD("1::2::3", "IPv6 address has more than one '::'"),
	BAD("::1::", "IPv6 address has more than one '::'"),
	BAD(":::1", "IPv6 address has ':::'"),
	BAD("1:::2", "IPv6 address has ':::'"),
	BAD(":1::", "IPv6 address starts with a single ':'"),
	BAD(":1:2:3:4:5:6:7:8", "IPv6 address starts with a single ':'"),
	BAD("1::2:", "IPv6 address ends with a single ':'"),
	BAD("1:2:3:4:5:6:7:8:", "IPv6 address ends with a single ':'"),
	BAD("1:2:3::4:5:6:7:", "IPv6 address ends with a single ':'"),
	BAD("1:2:3:4::5:6::", "IPv6 address has more than one '::'"),
	BAD("12345::", "IPv6 group has more than four hex digits"),
	BAD("2001:db8:00000::", "IPv6 group has more than four hex digits"),
	BAD("1:2:3:4:5:6:7:8:", "IPv6 address ends with a single ':'"),
	BAD("::ffff:1.2.3", msg_embedded),
	BAD("::ffff:01.2.3.4", msg_embedded),
	BAD("::ffff:1.2.3.256", msg_embedded),
	BAD("::ffff:1.2.3.4.5", msg_embedded),
	BAD("::1.2.3.4:5", msg_ports),
	BAD("::a.b.c.d", msg_embedded),
	BAD("::ffff:1.2.3.4/", msg_len_empty),
	/* garbage, control bytes, NUL */
	BAD("\x01", msg_v4_char),
	BAD("1.2.3.4\x7f", msg_v4_char),
	BAD("\xff", msg_v4_char),
	BAD("1.2.3.4;", msg_v4_char),
	BAD("+1.2.3.4", msg_v4_char),
	BAD("*", msg_v4_char),
	BAD("1.2.3.*", msg_v4_char),
	BAD("1.2.3.4 ", msg_v4_char),
	BAD("\"1.2.3.4\"", msg_v4_char),
	BAD("::1 ", msg_v6_char),
	BAD("::1\x01", msg_v6_char),
	BAD("::1;", msg_v6_char),
	{ "1.2.3.4\0", 8, NULL, false, "NUL byte is not allowed" },
	{ "\0" "1.2.3.4", 8, NULL, false, "NUL byte is not allowed" },
	{ "::1\0/64", 7, NULL, false, "NUL byte is not allowed" },
	/* Unicode look-alike digits (UTF-8): fullwidth, Arabic-Indic,
	   mathematical bold, superscript */
	BAD("\xef\xbc\x91.2.3.4", msg_v4_char),
	BAD("\xd9\xa1.2.3.4", msg_v4_char),
	BAD("1.2.3.\xf0\x9d\x9f\x8f", msg_v4_char),
	BAD("1.2.3.4/\xc2\xb9", msg_len_nan),
	BAD("1.2.3.4/\xef\xbc\x92\xef\xbc\x94", msg_len_nan),
	BAD("2001:db8::\xef\xbc\x91", msg_v6_char),
	/* a Cyrillic 'а' in a hex group */
	BAD("2001:db8::\xd0\xb0", msg_v6_char),
	/* over-long entries: nothing longer than 49 bytes is an address */
	BAD("1111111111111111111111111111111111111111111111111111111111111",
	    msg_octet_range),
	BAD("1.1.1.1111111111111111111111111111111111111111111111111111111",
	    msg_octet_range),
	BAD("0000:0000:0000:0000:0000:0000:0000:0000:0000/128",
	    "IPv6 address has too many groups"),
	BAD("0000:0000:0000:0000:0000:ffff:255.255.255.255/1280",
	    msg_len6_range),
	BAD("0000:0000:0000:0000:0000:ffff:255.255.255.2550/128",
	    msg_embedded),
	BAD("00000:0000:0000:0000:0000:ffff:255.255.255.255/128",
	    "IPv6 group has more than four hex digits"),
	BAD("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    msg_host),
};

START_TEST(test_prefix_parse)
{
	const struct prefix_case *c = &prefix_cases[_i];
	size_t len = c->len != 0 ? c->len : strlen(c->in);
	struct ipallow_prefix prefix;
	char buf[IPALLOW_ADDR_STRLEN];
	const char *error = NULL;
	bool host_bits = !c->host_bits;
	int ret;

	ret = ipallow_prefix_parse(c->in, len, &prefix, &host_bits, &error);
	{
		/* libcidr, the independent reference, converts the same */
		struct ipallow_prefix ref;
		const char *ref_error = NULL;
		bool ref_host_bits;
		int ref_ret = ipallow_prefix_parse_libcidr(c->in, len, &ref,
							   &ref_host_bits,
							   &ref_error);

		ck_assert_msg(ref_ret == ret, "case %d: \"%s\": %d, libcidr %d",
			      _i, c->in, ret, ref_ret);
		if (ret == 0)
			ck_assert_msg(ipallow_addr_equals(&ref.addr, &prefix.addr) &&
				      ref.len == prefix.len &&
				      ref_host_bits == host_bits,
				      "case %d: \"%s\": unlike libcidr", _i, c->in);
		else
			ck_assert_str_eq(ref_error, error);
	}
	if (c->want != NULL) {
		ck_assert_msg(ret == 0, "case %d: \"%s\": rejected: %s", _i,
			      c->in, error);
		ck_assert_msg(strcmp(ipallow_prefix_to_str(&prefix, buf),
				     c->want) == 0,
			      "case %d: \"%s\": got %s, want %s", _i, c->in,
			      buf, c->want);
		ck_assert_msg(host_bits == c->host_bits,
			      "case %d: \"%s\": host_bits %d", _i, c->in,
			      host_bits);
		/* normalised already: normalising again changes nothing */
		ck_assert_msg(!ipallow_prefix_normalise(&prefix),
			      "case %d: \"%s\": not normalised", _i, c->in);
		/* the output parses back to itself */
		ret = ipallow_prefix_parse(buf, strlen(buf), &prefix,
					   &host_bits, &error);
		ck_assert_msg(ret == 0 && !host_bits,
			      "case %d: \"%s\": output %s does not parse",
			      _i, c->in, buf);
		ck_assert_msg(strcmp(ipallow_prefix_to_str(&prefix, buf),
				     c->want) == 0,
			      "case %d: \"%s\": round trip gives %s", _i,
			      c->in, buf);
	} else {
		ck_assert_msg(ret == -1, "case %d: \"%s\": accepted (%d)", _i,
			      c->in, ret);
		ck_assert_msg(error != NULL && strcmp(error, c->error) == 0,
			      "case %d: \"%s\": error \"%s\", want \"%s\"", _i,
			      c->in, error, c->error);
	}
}
END_TEST

/* The text need not be NUL-terminated: only text[0..len) counts. */
START_TEST(test_prefix_parse_unterminated)
{
	static const char text[] = "198.51.100.0/24, 10.0.0.0/8";
	struct ipallow_prefix prefix;
	char buf[IPALLOW_ADDR_STRLEN];
	const char *error = NULL;
	bool host_bits;

	ck_assert_int_eq(ipallow_prefix_parse(text, 15, &prefix, &host_bits,
					      &error), 0);
	ck_assert_str_eq(ipallow_prefix_to_str(&prefix, buf), "198.51.100.0/24");
	ck_assert_int_eq(ipallow_prefix_parse(text, 14, &prefix, &host_bits,
					      &error), 0);
	ck_assert_str_eq(ipallow_prefix_to_str(&prefix, buf), "192.0.0.0/2");
	ck_assert(host_bits);
	ck_assert_int_eq(ipallow_prefix_parse(text, 13, &prefix, &host_bits,
					      &error), -1);
	ck_assert_str_eq(error, msg_len_empty);
}
END_TEST

/* The scanner's own conversion against libcidr's on random text:
   well-formed addresses in every spelling (groups with and without
   leading zeros, upper and lower case, "::" anywhere, IPv4 tails,
   lengths) and strings of the address alphabet. Fixed seed. */
static uint64_t xrand_state = 13;

static unsigned int xrand(unsigned int n)
{
	uint64_t z = (xrand_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (unsigned int)((z ^ (z >> 31)) % n);
}

static size_t random_ipv6_text(char *buf, size_t size)
{
	unsigned int groups = xrand(3) == 0 ? 6 : 8, gap_at, gap_len, i;
	size_t pos = 0;

	gap_at = xrand(groups + 1);
	gap_len = xrand(4) == 0 ? 0 : xrand(groups - gap_at + 1);
	if (gap_len == 1 && xrand(2) == 0)
		gap_len = 0;
	for (i = 0; i < groups; i++) {
		if (gap_len > 0 && i == gap_at) {
			pos += (size_t)snprintf(buf + pos, size - pos, "::");
			i += gap_len - 1;
			continue;
		}
		if (pos > 0 && buf[pos - 1] != ':')
			buf[pos++] = ':';
		pos += (size_t)snprintf(buf + pos, size - pos,
					xrand(2) == 0 ? "%x" : "%04X",
					xrand(4) == 0 ? xrand(16) : xrand(65536));
	}
	if (groups == 6) {
		if (pos > 0 && buf[pos - 1] != ':')
			buf[pos++] = ':';
		pos += (size_t)snprintf(buf + pos, size - pos, "%u.%u.%u.%u",
					xrand(256), xrand(256), xrand(256),
					xrand(256));
	}
	if (xrand(2) == 0)
		pos += (size_t)snprintf(buf + pos, size - pos, "/%u", xrand(129));
	buf[pos] = '\0';
	return pos;
}

static size_t random_text(char *buf, size_t size)
{
	static const char alphabet[] = "0123456789abcdefABCDEF:./x";
	size_t len = 1 + xrand(40), i;

	switch (xrand(4)) {
	case 0:
		return (size_t)snprintf(buf, size, "%u.%u.%u.%u/%u", xrand(256),
					xrand(256), xrand(256), xrand(256),
					xrand(33));
	case 1:
		return random_ipv6_text(buf, size);
	default:
		break;
	}
	for (i = 0; i < len && i + 1 < size; i++)
		buf[i] = alphabet[xrand(sizeof(alphabet) - 1)];
	buf[i] = '\0';
	return i;
}

START_TEST(test_prefix_parse_libcidr_random)
{
	unsigned int accepted = 0;

	for (unsigned int n = 0; n < 300000; n++) {
		char buf[128];
		size_t len = random_text(buf, sizeof(buf));
		struct ipallow_prefix a, b;
		const char *err_a = NULL, *err_b = NULL;
		bool host_a, host_b;
		int ra = ipallow_prefix_parse(buf, len, &a, &host_a, &err_a);
		int rb = ipallow_prefix_parse_libcidr(buf, len, &b, &host_b,
						      &err_b);

		ck_assert_msg(ra == rb, "\"%s\": %d, libcidr %d", buf, ra, rb);
		if (ra == 0) {
			accepted++;
			ck_assert_msg(ipallow_addr_equals(&a.addr, &b.addr) &&
				      a.len == b.len && host_a == host_b,
				      "\"%s\": converts unlike libcidr", buf);
		} else {
			ck_assert_str_eq(err_a, err_b);
		}
	}
	/* most of the well-formed half is accepted */
	ck_assert_msg(accepted > 100000, "only %u accepted", accepted);
}
END_TEST

/* ipallow_prefix_contains() is the reference the radix tree is tested
   against, so it gets its own rows. */
static const struct contains_case {
	const char *prefix;
	const char *addr;
	bool inside;
} contains_cases[] = {
	{ "0.0.0.0/0", "0.0.0.0", true },
	{ "0.0.0.0/0", "255.255.255.255", true },
	{ "0.0.0.0/0", "::", false },
	{ "0.0.0.0/0", "::1", false },
	{ "0.0.0.0/0", "unknown", false },
	{ "::/0", "::", true },
	{ "::/0", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true },
	{ "::/0", "198.51.100.7", false },
	{ "::/0", "::ffff:198.51.100.7", false },	/* an IPv4 client */
	{ "::/0", "::198.51.100.7", true },		/* IPv4-compatible: IPv6 */
	{ "::/0", "unknown", false },
	{ "::/96", "::198.51.100.7", true },
	{ "::/96", "198.51.100.7", false },
	{ "::ffff:0:0/96", "198.51.100.7", true },	/* = 0.0.0.0/0 */
	{ "::ffff:0:0/96", "::198.51.100.7", false },
	{ "::ffff:198.51.100.0/120", "198.51.100.0", true },
	{ "::ffff:198.51.100.0/120", "198.51.100.255", true },
	{ "::ffff:198.51.100.0/120", "::ffff:198.51.100.7", true },
	{ "::ffff:198.51.100.0/120", "198.51.101.0", false },
	{ "::ffff:198.51.100.0/120", "198.51.99.255", false },
	{ "198.51.100.0/24", "::ffff:198.51.100.7", true },
	{ "198.51.100.0/24", "::198.51.100.7", false },
	{ "198.51.100.0/24", "64:ff9b::198.51.100.7", false },
	{ "198.51.100.7", "198.51.100.7", true },
	{ "198.51.100.7", "198.51.100.6", false },
	{ "198.51.100.7", "198.51.100.8", false },
	{ "198.51.100.7/31", "198.51.100.6", true },
	{ "198.51.100.7/31", "198.51.100.8", false },
	{ "128.0.0.0/1", "127.255.255.255", false },
	{ "128.0.0.0/1", "128.0.0.0", true },
	{ "2001:db8::/32", "2001:db8::", true },
	{ "2001:db8::/32", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", true },
	{ "2001:db8::/32", "2001:db9::", false },
	{ "2001:db8::/32", "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", false },
	{ "2001:db8::1", "2001:db8::1", true },
	{ "2001:db8::1", "2001:db8::", false },
	{ "2001:db8::1/127", "2001:db8::", true },
	{ "fe80::/10", "febf:ffff::1", true },
	{ "fe80::/10", "fec0::", false },
	{ "::1", "::1", true },
	{ "::1", "127.0.0.1", false },
};

START_TEST(test_prefix_contains)
{
	const struct contains_case *c = &contains_cases[_i];
	struct ipallow_prefix prefix;
	struct ipallow_addr addr = test_addr(c->addr);
	const char *error;
	bool host_bits;

	ck_assert_msg(ipallow_prefix_parse(c->prefix, strlen(c->prefix),
					   &prefix, &host_bits, &error) == 0,
		      "case %d: \"%s\": %s", _i, c->prefix, error);
	ck_assert_msg(ipallow_prefix_contains(&prefix, &addr) == c->inside,
		      "case %d: \"%s\" contains %s: want %d", _i, c->prefix,
		      c->addr, c->inside);
}
END_TEST

static Suite *prefix_suite(void)
{
	Suite *s = suite_create("prefix");
	TCase *tc;

	tc = tcase_create("grammar");
	tcase_add_loop_test(tc, test_prefix_parse, 0, N_ELEMENTS(prefix_cases));
	tcase_add_test(tc, test_prefix_parse_unterminated);
	tcase_add_test(tc, test_prefix_parse_libcidr_random);
	suite_add_tcase(s, tc);

	tc = tcase_create("contains");
	tcase_add_loop_test(tc, test_prefix_contains, 0,
			    N_ELEMENTS(contains_cases));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run_suite(prefix_suite());
}
