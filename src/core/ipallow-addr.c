/* Client addresses: construction, normalisation, text. */
#include "config.h"
#include "ipallow-addr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

bool ipallow_addr_is_v4mapped(const uint8_t bytes[16])
{
	static const uint8_t v4mapped_head[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};

	return memcmp(bytes, v4mapped_head, 12) == 0;
}

void ipallow_addr_set_none(struct ipallow_addr *addr_r)
{
	memset(addr_r, 0, sizeof(*addr_r));
}

void ipallow_addr_set_ipv4(struct ipallow_addr *addr_r, const uint8_t bytes[4])
{
	memset(addr_r, 0, sizeof(*addr_r));
	addr_r->family = IPALLOW_FAMILY_IPV4;
	memcpy(addr_r->bytes, bytes, 4);
}

void ipallow_addr_set_ipv6(struct ipallow_addr *addr_r,
			   const uint8_t bytes[16])
{
	if (ipallow_addr_is_v4mapped(bytes)) {
		/* ::ffff:a.b.c.d is the IPv4 client a.b.c.d */
		ipallow_addr_set_ipv4(addr_r, bytes + 12);
		return;
	}
	memset(addr_r, 0, sizeof(*addr_r));
	addr_r->family = IPALLOW_FAMILY_IPV6;
	memcpy(addr_r->bytes, bytes, 16);
}

const char *ipallow_addr_to_str(const struct ipallow_addr *addr,
				char buf[IPALLOW_ADDR_STRLEN])
{
	switch (addr->family) {
	case IPALLOW_FAMILY_NONE:
		break;
	case IPALLOW_FAMILY_IPV4:
		if (inet_ntop(AF_INET, addr->bytes, buf, IPALLOW_ADDR_STRLEN) != NULL)
			return buf;
		break;
	case IPALLOW_FAMILY_IPV6:
		if (inet_ntop(AF_INET6, addr->bytes, buf, IPALLOW_ADDR_STRLEN) != NULL)
			return buf;
		break;
	}
	snprintf(buf, IPALLOW_ADDR_STRLEN, "unknown");
	return buf;
}

bool ipallow_addr_equals(const struct ipallow_addr *a,
			 const struct ipallow_addr *b)
{
	size_t len;

	if (a->family != b->family)
		return false;
	len = a->family == IPALLOW_FAMILY_IPV4 ? 4 :
		a->family == IPALLOW_FAMILY_IPV6 ? 16 : 0;
	return memcmp(a->bytes, b->bytes, len) == 0;
}
