#ifndef IPALLOW_FUZZ_COMMON_H
#define IPALLOW_FUZZ_COMMON_H

/* Shared helpers for the libFuzzer targets: an input reader, address
   arithmetic for deriving probe addresses from prefixes, and the
   brute-force reference (a linear scan with ipallow_prefix_contains())
   that the radix tree is compared against. */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "ipallow-prefix.h"
#include "ipallow-set.h"

/* A failed invariant is a finding: say what and abort, so libFuzzer
   saves the input. */
#define FUZZ_CHECK(cond, ...) do { \
	if (!(cond)) { \
		fprintf(stderr, "fuzz: %s:%d: check failed: %s\nfuzz: ", \
			__FILE__, __LINE__, #cond); \
		fprintf(stderr, __VA_ARGS__); \
		fputc('\n', stderr); \
		abort(); \
	} \
} while (0)

/* Consumes the fuzzer's bytes; reads past the end give zeros. */
struct fuzz_reader {
	const uint8_t *data;
	size_t size;
};

uint8_t fuzz_byte(struct fuzz_reader *r);
void fuzz_bytes(struct fuzz_reader *r, uint8_t *out, size_t n);
/* A malloc()ed NUL-terminated copy of data[0..size). */
char *fuzz_strndup(const uint8_t *data, size_t size);

/* Probe addresses around a prefix. The results are normalised through
   ipallow_addr_set_ipv6(), so an IPv6 probe that lands on ::ffff:0:0/96
   becomes IPv4, exactly as a client address would. */
void fuzz_prefix_first(const struct ipallow_prefix *prefix,
		       struct ipallow_addr *addr_r);
void fuzz_prefix_last(const struct ipallow_prefix *prefix,
		      struct ipallow_addr *addr_r);
/* Host bits taken from noise[] (16 bytes). */
void fuzz_prefix_inside(const struct ipallow_prefix *prefix,
			const uint8_t noise[16], struct ipallow_addr *addr_r);
/* addr + delta (delta is +1 or -1), wrapping within the family. */
void fuzz_addr_step(const struct ipallow_addr *addr, int delta,
		    struct ipallow_addr *addr_r);
/* Raw bytes as an address: 4 bytes IPv4, else 16 bytes IPv6. */
void fuzz_addr_from_bytes(bool ipv4, const uint8_t bytes[16],
			  struct ipallow_addr *addr_r);

/* The reference: true if addr is inside any prefix (linear scan). */
bool fuzz_brute_contains(const struct ipallow_prefix *prefixes, size_t count,
			 const struct ipallow_addr *addr);

/* Parses a comma-separated prefix list that is known to be good (the
   targets' own fixtures); aborts otherwise. */
void fuzz_prefixes_from_text(const char *text,
			     struct ipallow_prefix_array *arr);

/* The named sets the list and decision targets know: "office" and
   "partners", the same as in fuzz/policy-sets.yaml. Each keeps its
   prefixes for the brute-force reference. */
struct fuzz_set {
	const char *name;
	const char *text;
	struct ipallow_prefix_array prefixes;
	struct ipallow_set *set;
};
#define FUZZ_SETS_COUNT 2
extern struct fuzz_set fuzz_sets[FUZZ_SETS_COUNT];
/* The sets' YAML, for policies loaded from text. */
#define FUZZ_SETS_YAML \
	"sets:\n" \
	"  office: [203.0.113.0/24, \"2001:db8:100::/48\"]\n" \
	"  partners: [198.51.100.128/25, \"::ffff:192.0.2.0/120\"]\n"
void fuzz_sets_init(void);
/* The set called name[0..len), or NULL. */
const struct fuzz_set *fuzz_set_find(const char *name, size_t len);

#endif
