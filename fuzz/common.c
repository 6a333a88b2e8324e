/* Shared helpers for the libFuzzer targets; see common.h. */
#include <string.h>

#include "common.h"

uint8_t fuzz_byte(struct fuzz_reader *r)
{
	if (r->size == 0)
		return 0;
	r->size--;
	return *r->data++;
}

void fuzz_bytes(struct fuzz_reader *r, uint8_t *out, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		out[i] = fuzz_byte(r);
}

char *fuzz_strndup(const uint8_t *data, size_t size)
{
	char *str = malloc(size + 1);

	FUZZ_CHECK(str != NULL, "out of memory");
	memcpy(str, data, size);
	str[size] = '\0';
	return str;
}

static unsigned int family_bytes(enum ipallow_family family)
{
	return family == IPALLOW_FAMILY_IPV4 ? 4 : 16;
}

static void addr_normalise(struct ipallow_addr *addr)
{
	if (addr->family == IPALLOW_FAMILY_IPV6) {
		uint8_t bytes[16];

		memcpy(bytes, addr->bytes, 16);
		ipallow_addr_set_ipv6(addr, bytes);
	}
}

/* Sets the host bits of prefix->addr from fill[] (or to all ones/zeros). */
static void prefix_fill(const struct ipallow_prefix *prefix,
			const uint8_t *fill, int constant,
			struct ipallow_addr *addr_r)
{
	unsigned int i, n = family_bytes(prefix->addr.family);

	*addr_r = prefix->addr;
	for (i = 0; i < n; i++) {
		unsigned int keep = prefix->len >= (i + 1) * 8 ? 8 :
			prefix->len <= i * 8 ? 0 : prefix->len - i * 8;
		uint8_t mask = keep == 0 ? 0 : (uint8_t)(0xff << (8 - keep));
		uint8_t host = fill != NULL ? fill[i] : (uint8_t)constant;

		addr_r->bytes[i] = (uint8_t)((prefix->addr.bytes[i] & mask) |
					     (host & ~mask));
	}
	addr_normalise(addr_r);
}

void fuzz_prefix_first(const struct ipallow_prefix *prefix,
		       struct ipallow_addr *addr_r)
{
	prefix_fill(prefix, NULL, 0x00, addr_r);
}

void fuzz_prefix_last(const struct ipallow_prefix *prefix,
		      struct ipallow_addr *addr_r)
{
	prefix_fill(prefix, NULL, 0xff, addr_r);
}

void fuzz_prefix_inside(const struct ipallow_prefix *prefix,
			const uint8_t noise[16], struct ipallow_addr *addr_r)
{
	prefix_fill(prefix, noise, 0, addr_r);
}

void fuzz_addr_step(const struct ipallow_addr *addr, int delta,
		    struct ipallow_addr *addr_r)
{
	unsigned int n = family_bytes(addr->family);
	int i;

	*addr_r = *addr;
	if (addr->family == IPALLOW_FAMILY_NONE)
		return;
	for (i = (int)n - 1; i >= 0; i--) {
		uint8_t old = addr_r->bytes[i];

		addr_r->bytes[i] = (uint8_t)(old + delta);
		/* stop unless the byte wrapped */
		if ((delta > 0 && old != 0xff) || (delta < 0 && old != 0x00))
			break;
	}
	addr_normalise(addr_r);
}

void fuzz_addr_from_bytes(bool ipv4, const uint8_t bytes[16],
			  struct ipallow_addr *addr_r)
{
	if (ipv4)
		ipallow_addr_set_ipv4(addr_r, bytes);
	else
		ipallow_addr_set_ipv6(addr_r, bytes);
}

bool fuzz_brute_contains(const struct ipallow_prefix *prefixes, size_t count,
			 const struct ipallow_addr *addr)
{
	size_t i;

	for (i = 0; i < count; i++) {
		if (ipallow_prefix_contains(&prefixes[i], addr))
			return true;
	}
	return false;
}

void fuzz_prefixes_from_text(const char *text,
			     struct ipallow_prefix_array *arr)
{
	while (*text != '\0') {
		struct ipallow_prefix prefix;
		const char *error = NULL;
		size_t len;
		bool host_bits;

		while (*text == ',' || *text == ' ')
			text++;
		len = strcspn(text, ", ");
		if (len == 0)
			break;
		FUZZ_CHECK(ipallow_prefix_parse(text, len, &prefix, &host_bits,
						&error) == 0,
			   "fixture \"%.*s\": %s", (int)len, text, error);
		FUZZ_CHECK(ipallow_prefix_array_add(arr, &prefix) == 0,
			   "out of memory");
		text += len;
	}
}

struct fuzz_set fuzz_sets[FUZZ_SETS_COUNT] = {
	{ "office", "203.0.113.0/24, 2001:db8:100::/48", { NULL, 0, 0 }, NULL },
	{ "partners", "198.51.100.128/25, ::ffff:192.0.2.0/120",
	  { NULL, 0, 0 }, NULL },
};

void fuzz_sets_init(void)
{
	unsigned int i;

	for (i = 0; i < FUZZ_SETS_COUNT; i++) {
		struct ipallow_prefix_array copy = { NULL, 0, 0 };
		size_t j;

		if (fuzz_sets[i].set != NULL)
			continue;
		fuzz_prefixes_from_text(fuzz_sets[i].text, &fuzz_sets[i].prefixes);
		/* ipallow_set_create() empties the array it is given */
		for (j = 0; j < fuzz_sets[i].prefixes.count; j++)
			FUZZ_CHECK(ipallow_prefix_array_add(&copy,
				&fuzz_sets[i].prefixes.prefixes[j]) == 0,
				"out of memory");
		FUZZ_CHECK(ipallow_set_create(fuzz_sets[i].name, &copy,
					      &fuzz_sets[i].set) == 0,
			   "out of memory");
		ipallow_prefix_array_free(&copy);
	}
}

const struct fuzz_set *fuzz_set_find(const char *name, size_t len)
{
	unsigned int i;

	for (i = 0; i < FUZZ_SETS_COUNT; i++) {
		if (strlen(fuzz_sets[i].name) == len &&
		    memcmp(fuzz_sets[i].name, name, len) == 0)
			return &fuzz_sets[i];
	}
	return NULL;
}
