/* One list entry: a strict scanner that also converts.

   The scanner checks every character against SPEC §3; text it accepts
   is an address of one family in one of a few shapes, so the bytes
   follow from a second, trivial pass (no further checks, nothing
   allocated). Converting with libcidr as well cost more than the
   scanner and the tree build together on a 10-entry list.

   libcidr stays as the independent second opinion:
   ipallow_prefix_parse_libcidr() converts the same scanned text with
   cidr_from_str(), and the unit tests and fuzz-list require both to
   agree on every input. (libcidr 1.2.3 alone accepts far more than
   SPEC §3 allows: 10/8 becomes 0.0.0.10/8, 010.0.0.1 is octal,
   netmasks, hex, an empty length; it only ever sees scanned text.) One
   normalising function then serves the list parser and the
   client-address path alike. */
#include "config.h"
#include "ipallow-prefix.h"
#include "ipallow-alloc.h"

#include <errno.h>
#include <libcidr.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest valid entry: 45 characters of IPv6 with an IPv4 tail plus
   "/128". Anything longer is not an address. */
#define IPALLOW_PREFIX_TEXT_MAX 49
/* Bytes before the text that libcidr may read; see ipallow_prefix_parse(). */
#define IPALLOW_CIDR_LOOKBEHIND 16

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* 1 for the bytes of a dotted quad, 0 for any other. */
static const uint8_t ipv4_byte[256] = {
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,
	['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1, ['.'] = 1,
};

/* Strict dotted quad: four decimal octets 0..255, no leading zeros. */
static int scan_ipv4(const char *s, size_t len, const char **error_r)
{
	unsigned int octets = 0, digits = 0, value = 0, plain = 1;
	size_t i;

	/* the usual case, all digits and dots, without a branch a byte */
	for (i = 0; i < len; i++)
		plain &= ipv4_byte[(unsigned char)s[i]];
	for (i = 0; plain == 0 && i < len; i++) {
		if (!is_digit(s[i]) && s[i] != '.') {
			/* "0x" opening an octet is hex; any other 'x' is
			   part of a name ("x", "xmail.example.com") */
			if ((s[i] == 'x' || s[i] == 'X') && i > 0 &&
			    s[i - 1] == '0' && (i == 1 || s[i - 2] == '.'))
				*error_r = "hexadecimal IPv4 octets are not allowed";
			else if (is_alpha(s[i]) || s[i] == '-' || s[i] == '_')
				*error_r = "host names are not allowed, only IP addresses";
			else
				*error_r = "invalid character in IPv4 address";
			return -1;
		}
	}
	for (i = 0; i <= len; i++) {
		if (i == len || s[i] == '.') {
			if (digits == 0) {
				*error_r = octets == 0 && i == len ?
					"empty address" :
					"IPv4 address has an empty octet";
				return -1;
			}
			octets++;
			digits = value = 0;
			continue;
		}
		if (digits == 1 && value == 0) {
			*error_r = "IPv4 octet with a leading zero is not allowed";
			return -1;
		}
		if (++digits > 3 || (value = value * 10 + (unsigned int)(s[i] - '0')) > 255) {
			*error_r = "IPv4 octet out of range (0 to 255)";
			return -1;
		}
	}
	if (octets < 4) {
		*error_r = "IPv4 shorthand is not allowed";
		return -1;
	}
	if (octets > 4) {
		*error_r = "IPv4 address has more than four octets";
		return -1;
	}
	return 0;
}

/* RFC 4291 section 2.2 text forms, without zone index or brackets. */
static int scan_ipv6(const char *s, size_t len, const char **error_r)
{
	unsigned int groups = 0, digits = 0;
	bool double_colon = false;
	size_t i, group_start = 0;

	for (i = 0; i < len; i++) {
		if (!is_hex(s[i]) && s[i] != ':' && s[i] != '.') {
			*error_r = "invalid character in IPv6 address";
			return -1;
		}
	}
	if (len >= 2 && s[0] == ':' && s[1] != ':') {
		*error_r = "IPv6 address starts with a single ':'";
		return -1;
	}
	if (len >= 2 && s[len - 1] == ':' && s[len - 2] != ':') {
		*error_r = "IPv6 address ends with a single ':'";
		return -1;
	}
	for (i = 0; i < len; i++) {
		if (s[i] == ':') {
			if (i + 1 < len && s[i + 1] == ':') {
				if (double_colon) {
					*error_r = "IPv6 address has more than one '::'";
					return -1;
				}
				if (i + 2 < len && s[i + 2] == ':') {
					*error_r = "IPv6 address has ':::'";
					return -1;
				}
				double_colon = true;
				if (digits > 0)
					groups++;
				digits = 0;
				i++;
				group_start = i + 1;
				continue;
			}
			if (digits == 0 && i > 0) {
				*error_r = "IPv6 address has an empty group";
				return -1;
			}
			groups++;
			digits = 0;
			group_start = i + 1;
			continue;
		}
		if (s[i] == '.') {
			/* An IPv4 tail takes the last 32 bits. */
			if (scan_ipv4(s + group_start, len - group_start,
				      error_r) < 0) {
				*error_r = "embedded IPv4 address is invalid";
				return -1;
			}
			groups += 2;
			digits = 0;
			i = len;
			break;
		}
		if (++digits > 4) {
			*error_r = "IPv6 group has more than four hex digits";
			return -1;
		}
	}
	if (digits > 0)
		groups++;
	if (groups > 8 || (double_colon && groups > 7)) {
		*error_r = "IPv6 address has too many groups";
		return -1;
	}
	if (!double_colon && groups < 8) {
		*error_r = "IPv6 address has too few groups";
		return -1;
	}
	return 0;
}

/* Decimal prefix length without sign or leading zero, within 0..max. */
static int scan_length(const char *s, size_t len, unsigned int max,
		       unsigned int *len_r, const char **error_r)
{
	unsigned int value = 0;
	size_t i;

	if (len == 0) {
		*error_r = "prefix length is empty";
		return -1;
	}
	if (memchr(s, '.', len) != NULL) {
		*error_r = "netmask notation is not allowed, use a prefix length";
		return -1;
	}
	if (s[0] == '+' || s[0] == '-') {
		*error_r = "prefix length must not have a sign";
		return -1;
	}
	for (i = 0; i < len; i++) {
		if (!is_digit(s[i])) {
			*error_r = "prefix length is not a decimal number";
			return -1;
		}
	}
	if (len > 1 && s[0] == '0') {
		*error_r = "prefix length must not have leading zeros";
		return -1;
	}
	for (i = 0; i < len && value <= max; i++)
		value = value * 10 + (unsigned int)(s[i] - '0');
	if (value > max) {
		*error_r = max == 32 ? "IPv4 prefix length out of range (0 to 32)" :
			"IPv6 prefix length out of range (0 to 128)";
		return -1;
	}
	*len_r = value;
	return 0;
}

/* Checks one entry; sets *ipv6_r, *plen_r (the written length, or the
   family's width when there is none) and *addr_len_r (the bytes before
   any '/'). One pass finds the characters that decide the first
   checks; a list of 1000 entries spent a tenth of its compile time in
   memchr() calls on them, one for each kind of character. The checks
   run in the same order, so the messages are those of separate
   searches. */
/* Character classes for scan_entry()'s first pass: OR-ing the class of
   every byte is one load and one OR a byte, where a switch on each
   byte mispredicted on most of them. */
#define CLASS_NUL 0x01
#define CLASS_PERCENT 0x02
#define CLASS_BRACKET 0x04
#define CLASS_SLASH 0x08
#define CLASS_COLON 0x10
static const uint8_t char_class[256] = {
	['\0'] = CLASS_NUL, ['%'] = CLASS_PERCENT, ['['] = CLASS_BRACKET,
	[']'] = CLASS_BRACKET, ['/'] = CLASS_SLASH, [':'] = CLASS_COLON,
};

static int scan_entry(const char *text, size_t len, bool *ipv6_r,
		      unsigned int *plen_r, size_t *addr_len_r,
		      const char **error_r)
{
	const char *slash = NULL;
	size_t addr_len, i;
	unsigned int classes = 0;
	bool nul, percent, bracket, slash2 = false, colon;

	for (i = 0; i < len; i++)
		classes |= char_class[(unsigned char)text[i]];
	nul = (classes & CLASS_NUL) != 0;
	percent = (classes & CLASS_PERCENT) != 0;
	bracket = (classes & CLASS_BRACKET) != 0;
	colon = (classes & CLASS_COLON) != 0;
	if ((classes & CLASS_SLASH) != 0) {
		slash = memchr(text, '/', len);
		slash2 = memchr(slash + 1, '/', len - (size_t)(slash - text) - 1)
			!= NULL;
		colon = colon &&
			memchr(text, ':', (size_t)(slash - text)) != NULL;
	}
	if (nul) {
		*error_r = "NUL byte is not allowed";
		return -1;
	}
	if (len == 0) {
		*error_r = "empty address";
		return -1;
	}
	if (percent) {
		*error_r = "IPv6 zone index is not allowed";
		return -1;
	}
	if (bracket) {
		*error_r = "brackets are not allowed";
		return -1;
	}
	addr_len = slash == NULL ? len : (size_t)(slash - text);
	if (slash2) {
		*error_r = "more than one '/'";
		return -1;
	}
	*addr_len_r = addr_len;
	*ipv6_r = colon;
	if (!*ipv6_r) {
		/* "1.2.3.4:993" and "host:port" end up here as IPv6; an
		   IPv4 address with a port is caught by its tail below. */
		if (scan_ipv4(text, addr_len, error_r) < 0)
			return -1;
	} else {
		const char *last_colon = text + addr_len;

		while (last_colon > text && last_colon[-1] != ':')
			last_colon--;
		if (last_colon - 1 > text &&
		    memchr(text, '.', (size_t)(last_colon - text)) != NULL) {
			*error_r = "ports are not allowed";
			return -1;
		}
		if (scan_ipv6(text, addr_len, error_r) < 0) {
			for (i = 0; i < addr_len; i++) {
				if (is_alpha(text[i]) && !is_hex(text[i])) {
					*error_r = "host names are not allowed, only IP addresses";
					break;
				}
			}
			return -1;
		}
	}
	*plen_r = *ipv6_r ? 128 : 32;
	if (slash != NULL &&
	    scan_length(slash + 1, len - addr_len - 1, *ipv6_r ? 128 : 32,
			plen_r, error_r) < 0)
		return -1;
	return 0;
}

bool ipallow_prefix_normalise(struct ipallow_prefix *prefix)
{
	unsigned int bytes, i;
	bool host_bits = false;

	if (prefix->addr.family == IPALLOW_FAMILY_IPV6 && prefix->len >= 96 &&
	    ipallow_addr_is_v4mapped(prefix->addr.bytes)) {
		/* ::ffff:198.51.100.0/120 is 198.51.100.0/24 */
		memmove(prefix->addr.bytes, prefix->addr.bytes + 12, 4);
		memset(prefix->addr.bytes + 4, 0, 12);
		prefix->addr.family = IPALLOW_FAMILY_IPV4;
		prefix->len -= 96;
	}
	bytes = prefix->addr.family == IPALLOW_FAMILY_IPV4 ? 4 : 16;
	for (i = 0; i < bytes; i++) {
		unsigned int keep = prefix->len >= (i + 1) * 8 ? 8 :
			prefix->len <= i * 8 ? 0 : prefix->len - i * 8;
		uint8_t mask = keep == 0 ? 0 : (uint8_t)(0xff << (8 - keep));

		if ((prefix->addr.bytes[i] & ~mask) != 0)
			host_bits = true;
		prefix->addr.bytes[i] &= mask;
	}
	return host_bits;
}

/* The bytes of a dotted quad scan_ipv4() accepted. */
static void convert_ipv4(const char *s, size_t len, uint8_t bytes[4])
{
	unsigned int octet = 0, value = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		if (s[i] == '.') {
			bytes[octet++] = (uint8_t)value;
			value = 0;
		} else {
			value = value * 10 + (unsigned int)(s[i] - '0');
		}
	}
	bytes[octet] = (uint8_t)value;
}

/* The value of a hex digit (the scanner let only those through, and
   '.' of an IPv4 tail, whose value is never used). A table: random hex
   digits made the digit-or-letter branch mispredict. */
static const uint8_t hex_table[256] = {
	['0'] = 0, ['1'] = 1, ['2'] = 2, ['3'] = 3, ['4'] = 4, ['5'] = 5,
	['6'] = 6, ['7'] = 7, ['8'] = 8, ['9'] = 9,
	['a'] = 10, ['b'] = 11, ['c'] = 12, ['d'] = 13, ['e'] = 14, ['f'] = 15,
	['A'] = 10, ['B'] = 11, ['C'] = 12, ['D'] = 13, ['E'] = 14, ['F'] = 15,
};

static unsigned int hex_value(char c)
{
	return hex_table[(unsigned char)c];
}

/* The bytes of an IPv6 address scan_ipv6() accepted: the groups before
   "::" from the front, those after it (with an IPv4 tail as two groups)
   at the back, zeros between. */
static void convert_ipv6(const char *s, size_t len, uint8_t bytes[16])
{
	uint16_t head[8], tail[8];
	unsigned int nhead = 0, ntail = 0, i;
	bool after_gap = false;
	size_t pos = 0;

	while (pos < len) {
		unsigned int value = 0;
		bool dotted = false;
		size_t end;

		if (s[pos] == ':') {
			if (pos + 1 < len && s[pos + 1] == ':') {
				after_gap = true;
				pos += 2;
			} else {
				pos++;
			}
			continue;
		}
		for (end = pos; end < len && s[end] != ':'; end++) {
			if (s[end] == '.')
				dotted = true;
			value = value << 4 | hex_value(s[end]);
		}
		if (dotted) {
			uint8_t b4[4];

			convert_ipv4(s + pos, end - pos, b4);
			if (after_gap) {
				tail[ntail++] = (uint16_t)(b4[0] << 8 | b4[1]);
				tail[ntail++] = (uint16_t)(b4[2] << 8 | b4[3]);
			} else {
				head[nhead++] = (uint16_t)(b4[0] << 8 | b4[1]);
				head[nhead++] = (uint16_t)(b4[2] << 8 | b4[3]);
			}
		} else if (after_gap) {
			tail[ntail++] = (uint16_t)value;
		} else {
			head[nhead++] = (uint16_t)value;
		}
		pos = end;
	}
	memset(bytes, 0, 16);
	for (i = 0; i < nhead; i++) {
		bytes[2 * i] = (uint8_t)(head[i] >> 8);
		bytes[2 * i + 1] = (uint8_t)head[i];
	}
	for (i = 0; i < ntail; i++) {
		unsigned int at = 8 - ntail + i;

		bytes[2 * at] = (uint8_t)(tail[i] >> 8);
		bytes[2 * at + 1] = (uint8_t)tail[i];
	}
}

/* The checks every entry passes before any conversion. Returns 0, or -1
   with *error_r set. */
static int scan_checked(const char *text, size_t len, bool *ipv6_r,
			unsigned int *plen_r, size_t *addr_len_r,
			const char **error_r)
{
	if (scan_entry(text, len, ipv6_r, plen_r, addr_len_r, error_r) < 0)
		return -1;
	if (len > IPALLOW_PREFIX_TEXT_MAX) {
		/* Cannot happen after a successful scan; stay safe. */
		*error_r = "entry is too long to be an address";
		return -1;
	}
	return 0;
}

int ipallow_prefix_parse(const char *text, size_t len,
			 struct ipallow_prefix *prefix_r, bool *host_bits_r,
			 const char **error_r)
{
	size_t addr_len;
	unsigned int plen;
	bool ipv6;

	*host_bits_r = false;
	if (scan_checked(text, len, &ipv6, &plen, &addr_len, error_r) < 0)
		return -1;
	/* The scanner has read every character and knows the text is an
	   address of one family: the bytes follow without a second
	   parser. */
	memset(prefix_r, 0, sizeof(*prefix_r));
	if (ipv6) {
		prefix_r->addr.family = IPALLOW_FAMILY_IPV6;
		convert_ipv6(text, addr_len, prefix_r->addr.bytes);
	} else {
		prefix_r->addr.family = IPALLOW_FAMILY_IPV4;
		convert_ipv4(text, addr_len, prefix_r->addr.bytes);
	}
	prefix_r->len = plen;
	*host_bits_r = ipallow_prefix_normalise(prefix_r);
	return 0;
}

int ipallow_addr_parse(const char *str, struct ipallow_addr *addr_r,
		       const char **error_r)
{
	struct ipallow_prefix prefix;
	bool host_bits;
	size_t len = strlen(str);

	if (memchr(str, '/', len) != NULL) {
		*error_r = "a client address has no prefix length";
		return -1;
	}
	if (ipallow_prefix_parse(str, len, &prefix, &host_bits, error_r) < 0)
		return -1;
	*addr_r = prefix.addr;
	return 0;
}

int ipallow_prefix_parse_libcidr(const char *text, size_t len,
				 struct ipallow_prefix *prefix_r,
				 bool *host_bits_r, const char **error_r)
{
	/* libcidr 1.2.3's cidr_from_str() looks for PTR names before it
	   checks the length: strcasecmp(addr + len - 8, ".ip6.int") and
	   strcasecmp(addr + len - 5, ".arpa") read up to 8 bytes before a
	   short string (13 once ".arpa" matched). Give it NUL bytes to read
	   there, inside our own buffer: they end those comparisons at once. */
	char pad_buf[IPALLOW_CIDR_LOOKBEHIND + IPALLOW_PREFIX_TEXT_MAX + 1];
	char *buf = pad_buf + IPALLOW_CIDR_LOOKBEHIND;
	CIDR *cidr;
	unsigned int plen;
	size_t addr_len;
	bool ipv6;

	*host_bits_r = false;
	if (scan_checked(text, len, &ipv6, &plen, &addr_len, error_r) < 0)
		return -1;
	memset(pad_buf, 0, IPALLOW_CIDR_LOOKBEHIND);
	memcpy(buf, text, len);
	buf[len] = '\0';

	errno = 0;
	cidr = cidr_from_str(buf);
	if (cidr == NULL) {
		*error_r = errno == ENOMEM ? "out of memory" :
			"not an IP address or prefix";
		return -1;
	}
	memset(prefix_r, 0, sizeof(*prefix_r));
	if (cidr_get_proto(cidr) == CIDR_IPV4 && !ipv6) {
		prefix_r->addr.family = IPALLOW_FAMILY_IPV4;
		memcpy(prefix_r->addr.bytes, cidr->addr + 12, 4);
	} else if (cidr_get_proto(cidr) == CIDR_IPV6 && ipv6) {
		prefix_r->addr.family = IPALLOW_FAMILY_IPV6;
		memcpy(prefix_r->addr.bytes, cidr->addr, 16);
	} else {
		cidr_free(cidr);
		*error_r = "not an IP address or prefix";
		return -1;
	}
	/* The scanner read the length already; libcidr's own
	   cidr_get_pflen() recomputes it from the mask, bit by bit. */
	prefix_r->len = plen;
	cidr_free(cidr);

	*host_bits_r = ipallow_prefix_normalise(prefix_r);
	return 0;
}

bool ipallow_prefix_contains(const struct ipallow_prefix *prefix,
			     const struct ipallow_addr *addr)
{
	unsigned int i, bits = prefix->len;

	if (prefix->addr.family != addr->family ||
	    addr->family == IPALLOW_FAMILY_NONE)
		return false;
	for (i = 0; bits > 0; i++) {
		unsigned int keep = bits >= 8 ? 8 : bits;
		uint8_t mask = (uint8_t)(0xff << (8 - keep));

		if ((prefix->addr.bytes[i] & mask) != (addr->bytes[i] & mask))
			return false;
		bits -= keep;
	}
	return true;
}

/* Appends the decimal form of value (< 1000) to buf at *pos. */
static void append_small_uint(char *buf, size_t *pos, unsigned int value)
{
	if (value >= 100)
		buf[(*pos)++] = (char)('0' + value / 100);
	if (value >= 10)
		buf[(*pos)++] = (char)('0' + value / 10 % 10);
	buf[(*pos)++] = (char)('0' + value % 10);
}

/* Hand-rolled rather than snprintf(): the list parser formats every
   entry, and a 10-entry list must compile in a few microseconds. */
const char *ipallow_prefix_to_str(const struct ipallow_prefix *prefix,
				  char buf[IPALLOW_ADDR_STRLEN])
{
	size_t pos = 0;
	unsigned int i;

	if (prefix->addr.family == IPALLOW_FAMILY_IPV4) {
		for (i = 0; i < 4; i++) {
			if (i > 0)
				buf[pos++] = '.';
			append_small_uint(buf, &pos, prefix->addr.bytes[i]);
		}
	} else {
		ipallow_addr_to_str(&prefix->addr, buf);
		pos = strlen(buf);
	}
	buf[pos++] = '/';
	append_small_uint(buf, &pos, prefix->len);
	buf[pos] = '\0';
	return buf;
}

int ipallow_prefix_array_add(struct ipallow_prefix_array *arr,
			     const struct ipallow_prefix *prefix)
{
	if (arr->count == arr->alloc) {
		size_t new_alloc = arr->alloc == 0 ? 16 : arr->alloc * 2;
		struct ipallow_prefix *prefixes =
			ipallow_reallocarray(arr->prefixes, new_alloc,
					     sizeof(*prefixes));

		if (prefixes == NULL)
			return -1;
		arr->prefixes = prefixes;
		arr->alloc = new_alloc;
	}
	arr->prefixes[arr->count++] = *prefix;
	return 0;
}

void ipallow_prefix_array_free(struct ipallow_prefix_array *arr)
{
	ipallow_free(arr->prefixes);
	memset(arr, 0, sizeof(*arr));
}
