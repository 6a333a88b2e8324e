/* One list entry: a strict scanner in front of libcidr.

   libcidr 1.2.3 accepts far more than SPEC §3 allows (10/8 becomes
   0.0.0.10/8, 010.0.0.1 is octal, netmasks, hex, an empty length), so
   every character is checked here first and libcidr only converts text
   that is already known to be right. One normalising function then
   serves the list parser and the client-address path alike. */
#include "config.h"
#include "ipallow-prefix.h"

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

/* Strict dotted quad: four decimal octets 0..255, no leading zeros. */
static int scan_ipv4(const char *s, size_t len, const char **error_r)
{
	unsigned int octets = 0, digits = 0, value = 0;
	size_t i;

	for (i = 0; i < len; i++) {
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

/* Checks one entry; sets *ipv6_r and *plen_r (the written length, or the
   family's width when there is none). */
static int scan_entry(const char *text, size_t len, bool *ipv6_r,
		      unsigned int *plen_r, const char **error_r)
{
	const char *slash;
	size_t addr_len;

	if (len == 0) {
		*error_r = "empty address";
		return -1;
	}
	if (memchr(text, '%', len) != NULL) {
		*error_r = "IPv6 zone index is not allowed";
		return -1;
	}
	if (memchr(text, '[', len) != NULL || memchr(text, ']', len) != NULL) {
		*error_r = "brackets are not allowed";
		return -1;
	}
	slash = memchr(text, '/', len);
	addr_len = slash == NULL ? len : (size_t)(slash - text);
	if (slash != NULL && memchr(slash + 1, '/', len - addr_len - 1) != NULL) {
		*error_r = "more than one '/'";
		return -1;
	}
	*ipv6_r = memchr(text, ':', addr_len) != NULL;
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
			for (size_t i = 0; i < addr_len; i++) {
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
	static const uint8_t mapped_head[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};
	unsigned int bytes, i;
	bool host_bits = false;

	if (prefix->addr.family == IPALLOW_FAMILY_IPV6 && prefix->len >= 96 &&
	    memcmp(prefix->addr.bytes, mapped_head, 12) == 0) {
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

int ipallow_prefix_parse(const char *text, size_t len,
			 struct ipallow_prefix *prefix_r, bool *host_bits_r,
			 const char **error_r)
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
	bool ipv6;

	*host_bits_r = false;
	if (memchr(text, '\0', len) != NULL) {
		*error_r = "NUL byte is not allowed";
		return -1;
	}
	if (scan_entry(text, len, &ipv6, &plen, error_r) < 0)
		return -1;
	if (len > IPALLOW_PREFIX_TEXT_MAX) {
		/* Cannot happen after a successful scan; stay safe. */
		*error_r = "entry is too long to be an address";
		return -1;
	}
	memset(pad_buf, 0, IPALLOW_CIDR_LOOKBEHIND);
	memcpy(buf, text, len);
	buf[len] = '\0';

	errno = 0;
	cidr = cidr_from_str(buf);
	if (cidr == NULL) {
		if (errno == ENOMEM)
			return -2;
		*error_r = "not an IP address or prefix";
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
