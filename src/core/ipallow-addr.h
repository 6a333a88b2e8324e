#ifndef IPALLOW_ADDR_H
#define IPALLOW_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ipallow_family {
	IPALLOW_FAMILY_NONE = 0,	/* unknown address (local socket, no rip) */
	IPALLOW_FAMILY_IPV4 = 4,
	IPALLOW_FAMILY_IPV6 = 6,
};

/* A client address, bytes in network order. IPv4 uses bytes[0..3].
   Every constructor normalises: an IPv4-mapped IPv6 address
   (::ffff:a.b.c.d) is stored as the IPv4 address a.b.c.d, so no spelling
   of an address gets around an IPv4 list. The IPv4-compatible form
   ::a.b.c.d stays IPv6. */
struct ipallow_addr {
	enum ipallow_family family;
	uint8_t bytes[16];
};

/* Enough for any address text plus "/128" and the NUL. */
#define IPALLOW_ADDR_STRLEN 52

/* True if bytes is an IPv4-mapped IPv6 address (::ffff:0:0/96): the
   one place that knows the mapping. */
bool ipallow_addr_is_v4mapped(const uint8_t bytes[16]);

void ipallow_addr_set_none(struct ipallow_addr *addr_r);
void ipallow_addr_set_ipv4(struct ipallow_addr *addr_r, const uint8_t bytes[4]);
/* Stores an IPv6 address; an IPv4-mapped one becomes IPv4. */
void ipallow_addr_set_ipv6(struct ipallow_addr *addr_r, const uint8_t bytes[16]);

/* Writes the canonical text (RFC 5952 for IPv6) into buf and returns buf.
   An unknown address is written as "unknown". */
const char *ipallow_addr_to_str(const struct ipallow_addr *addr,
				char buf[IPALLOW_ADDR_STRLEN]);

bool ipallow_addr_equals(const struct ipallow_addr *a,
			 const struct ipallow_addr *b);

/* ipallow_addr_parse() is in ipallow-prefix.h: it is the list entry
   scanner without a prefix length. */

#endif
