/* libFuzzer target: set files (policy "sets: NAME: { file: PATH }"),
   through ipallow_set_buffer_read() on the raw bytes.

   Checks beyond memory safety:
   - an error names the file and a line that exists, and leaves nothing
     half-added that the caller would use (the caller frees the array);
   - on success there is exactly one prefix per line that has something
     besides blanks and a '#' comment, each normalised;
   - the set built from them contains the first and last address of every
     prefix, and agrees with a brute-force scan there and just outside. */
#include <string.h>

#include "common.h"
#include "ipallow-alloc.h"
#include "ipallow-set.h"

#define SET_NAME "fuzz.nets"
/* How many prefixes of one set get probe addresses. */
#define PROBE_PREFIXES 128

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Lines with content, by the rules of SPEC §5: '#' starts a comment,
   blanks around the prefix do not count. */
static size_t count_content_lines(const uint8_t *data, size_t size,
				  size_t *lines_r)
{
	size_t pos = 0, content = 0, lines = 0;

	while (pos < size) {
		const uint8_t *nl = memchr(data + pos, '\n', size - pos);
		size_t len = nl == NULL ? size - pos : (size_t)(nl - (data + pos));
		size_t i;

		lines++;
		for (i = 0; i < len && data[pos + i] != '#'; i++) {
			uint8_t c = data[pos + i];

			if (c != ' ' && c != '\t' && c != '\r') {
				content++;
				break;
			}
		}
		pos += len + 1;
	}
	*lines_r = lines;
	return content;
}

static void compare(const struct ipallow_set *set,
		    const struct ipallow_prefix_array *arr,
		    const struct ipallow_addr *addr)
{
	char buf[IPALLOW_ADDR_STRLEN];
	bool want = fuzz_brute_contains(arr->prefixes, arr->count, addr);
	bool got = ipallow_radix_lookup(set->radix, addr);

	FUZZ_CHECK(got == want, "%s: tree says %d, brute force %d",
		   ipallow_addr_to_str(addr, buf), got, want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipallow_prefix_array arr = { NULL, 0, 0 }, copy = { NULL, 0, 0 };
	struct ipallow_set *set;
	char *error = NULL;
	size_t lines, content, i;
	int ret;

	content = count_content_lines(data, size, &lines);
	ret = ipallow_set_buffer_read((const char *)data, size, SET_NAME, &arr,
				      &error);
	if (ret < 0) {
		unsigned long line = 0;

		FUZZ_CHECK(error != NULL, "failed without a message");
		FUZZ_CHECK(strncmp(error, SET_NAME ":", strlen(SET_NAME) + 1) == 0,
			   "message does not name the file: %s", error);
		FUZZ_CHECK(sscanf(error + strlen(SET_NAME) + 1, "%lu", &line) == 1 &&
			   line >= 1 && line <= lines,
			   "message names no line of the %zu: %s", lines, error);
		ipallow_free(error);
		ipallow_prefix_array_free(&arr);
		return 0;
	}
	FUZZ_CHECK(error == NULL, "succeeded with a message: %s", error);
	FUZZ_CHECK(arr.count == content, "%zu prefixes from %zu lines with "
		   "content", arr.count, content);

	for (i = 0; i < arr.count; i++) {
		struct ipallow_prefix p = arr.prefixes[i];

		FUZZ_CHECK(p.addr.family == IPALLOW_FAMILY_IPV4 ?
			   p.len <= 32 : p.addr.family == IPALLOW_FAMILY_IPV6 &&
			   p.len <= 128, "prefix %zu: bad family or length", i);
		FUZZ_CHECK(!ipallow_prefix_normalise(&p),
			   "prefix %zu was not normalised", i);
		FUZZ_CHECK(memcmp(&p, &arr.prefixes[i], sizeof(p)) == 0,
			   "prefix %zu changed when normalised again", i);
		FUZZ_CHECK(ipallow_prefix_array_add(&copy, &p) == 0,
			   "out of memory");
	}
	FUZZ_CHECK(ipallow_set_create(SET_NAME, &arr, &set) == 0,
		   "out of memory");
	FUZZ_CHECK(arr.count == 0, "set_create did not take the prefixes");
	FUZZ_CHECK(set->prefix_count == copy.count, "prefix_count");

	for (i = 0; i < copy.count && i < PROBE_PREFIXES; i++) {
		const struct ipallow_prefix *p = &copy.prefixes[i];
		struct ipallow_addr first, last, addr;

		fuzz_prefix_first(p, &first);
		fuzz_prefix_last(p, &last);
		FUZZ_CHECK(first.family != p->addr.family ||
			   ipallow_radix_lookup(set->radix, &first),
			   "prefix %zu: its first address is outside the set", i);
		FUZZ_CHECK(last.family != p->addr.family ||
			   ipallow_radix_lookup(set->radix, &last),
			   "prefix %zu: its last address is outside the set", i);
		compare(set, &copy, &first);
		compare(set, &copy, &last);
		fuzz_addr_step(&first, -1, &addr);
		compare(set, &copy, &addr);
		fuzz_addr_step(&last, +1, &addr);
		compare(set, &copy, &addr);
	}
	ipallow_set_free(&set);
	ipallow_prefix_array_free(&arr);
	ipallow_prefix_array_free(&copy);
	return 0;
}
