/* Client addresses: construction, normalisation, text. */
#include "config.h"
#include "ipallow-addr.h"
#include "ipallow-prefix.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

static const uint8_t ipallow_v4mapped_head[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

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
	if (memcmp(bytes, ipallow_v4mapped_head, 12) == 0) {
		/* ::ffff:a.b.c.d is the IPv4 client a.b.c.d */
		ipallow_addr_set_ipv4(addr_r, bytes + 12);
		return;
	}
	memset(addr_r, 0, sizeof(*addr_r));
	addr_r->family = IPALLOW_FAMILY_IPV6;
	memcpy(addr_r->bytes, bytes, 16);
}

int ipallow_addr_parse(const char *str, struct ipallow_addr *addr_r,
		       const char **error_r)
{
	struct ipallow_prefix prefix;
	bool host_bits;
	size_t len = strlen(str);
	int ret;

	if (memchr(str, '/', len) != NULL) {
		*error_r = "a client address has no prefix length";
		return -1;
	}
	ret = ipallow_prefix_parse(str, len, &prefix, &host_bits, error_r);
	if (ret < 0) {
		if (ret == -2)
			*error_r = "out of memory";
		return -1;
	}
	*addr_r = prefix.addr;
	return 0;
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
