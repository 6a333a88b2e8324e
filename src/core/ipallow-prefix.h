#ifndef IPALLOW_PREFIX_H
#define IPALLOW_PREFIX_H

#include "ipallow-addr.h"

/* A network: address with host bits cleared, and its length. IPv4-mapped
   IPv6 prefixes of length >= 96 are stored as the IPv4 network they map. */
struct ipallow_prefix {
	struct ipallow_addr addr;
	unsigned int len;	/* 0..32 or 0..128 */
};

/* Parses one list entry (an address or address/length) from text[0..len),
   which need not be NUL-terminated. The grammar is strict (SPEC §3):
   dotted-quad IPv4 without leading zeros, RFC 4291 IPv6 without zone or
   brackets, decimal length without sign or leading zero. The scanner
   produces the bytes itself; nothing is allocated.

   Returns 0 and fills *prefix_r (normalised; *host_bits_r tells whether
   host bits were set and cleared), or -1 with a static English message in
   *error_r. */
int ipallow_prefix_parse(const char *text, size_t len,
			 struct ipallow_prefix *prefix_r, bool *host_bits_r,
			 const char **error_r);
/* Parses one client address, with the same strict grammar as a list entry
   but without a prefix length. Returns 0 and fills *addr_r (normalised), or
   -1 with a static English message in *error_r. */
int ipallow_addr_parse(const char *str, struct ipallow_addr *addr_r,
		       const char **error_r);
/* The same scanner with libcidr converting what it accepted: the
   independent reference the tests and fuzz-list compare
   ipallow_prefix_parse() against. Returns as it does; when libcidr runs
   out of memory, -1 with errno ENOMEM and *error_r "out of memory". */
int ipallow_prefix_parse_libcidr(const char *text, size_t len,
				 struct ipallow_prefix *prefix_r,
				 bool *host_bits_r, const char **error_r);

/* Clears the host bits of *prefix and maps IPv4-mapped IPv6 networks of
   length >= 96 to IPv4. Returns true if host bits were set. */
bool ipallow_prefix_normalise(struct ipallow_prefix *prefix);

/* True if addr is inside prefix (families must match). A plain scan; the
   radix tree is what lookups use, this is the reference it is tested
   against. */
bool ipallow_prefix_contains(const struct ipallow_prefix *prefix,
			     const struct ipallow_addr *addr);

/* Writes "addr/len" into buf and returns buf. */
const char *ipallow_prefix_to_str(const struct ipallow_prefix *prefix,
				  char buf[IPALLOW_ADDR_STRLEN]);

/* Growable array of prefixes, used while reading lists, sets and
   groups. Zero-initialised is empty. */
struct ipallow_prefix_array {
	struct ipallow_prefix *prefixes;
	size_t count, alloc;
};

/* Appends; returns 0 or -1 when out of memory. */
int ipallow_prefix_array_add(struct ipallow_prefix_array *arr,
			     const struct ipallow_prefix *prefix);
/* Frees the prefixes and leaves arr empty. */
void ipallow_prefix_array_free(struct ipallow_prefix_array *arr);

#endif
