/* Per-login cost when every mailbox has a list of its own (issue 13):
   USERS distinct lists of N entries (N = 1, 10, 100, 1000), IPv4 or
   IPv6, entries in random order, users asked in random order, every
   client inside its user's list (allowed-only clients). For each N and
   family:
   - compile_us: ipallow_list_parse() of one list as the cache does it
     (no normalised text): scanning, conversion, the compiled form. The
     free is not timed.
   - cold_us: ipallow_decide() for the USERS users in random order with
     a new policy each round, so that every list is compiled: the
     login's cost when the cache never hits.
   - decide_us: the same through one policy kept over all rounds, with
     the cache the build has by default: what it keeps of the last round
     hits (median of the rounds; the first is cold).
   - lookup_ns: ipallow_list_lookup() on lists already compiled (the
     cache hit's cost beyond the cache itself), clients inside and
     outside.
   The same source builds against the code before and after a change
   (bench/list-compare.py runs both, interleaved, and prints ratios).
   With the flat form present it also prints the tree-versus-flat
   crossover data (build and lookup, IPALLOW_RADIX_FLAT_MAX).
   Times are this thread's CPU time; medians of ROUNDS rounds.
   Output: "key=value" lines.

   usage: list-bench [ROUNDS [USERS [SIZES]]]   (SIZES: "1,10,100,1000")
   Environment: FAMILIES=4 or 6 for one family only; CROSSOVER=1. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench-stats.h"
#include "ipallow-decide.h"
#include "ipallow-cache.h"
#include "ipallow-radix.h"

#define ROUNDS_MAX 50

static uint64_t rng_state = 0x13131313;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A public IPv4 address (no exempt network: the decision must reach the
   list). */
static uint32_t rnd_public4(void)
{
	for (;;) {
		uint32_t a = (uint32_t)rnd();
		unsigned int o = a >> 24;

		if (o == 0 || o == 10 || o == 127 || o == 169 || o == 172 ||
		    o == 192 || o >= 224)
			continue;
		return a;
	}
}

/* One entry as text; *client_r gets an address inside it. */
static int entry_text(bool v6, char *buf, size_t size,
		      struct ipallow_addr *client_r)
{
	unsigned int len;

	if (!v6) {
		uint32_t a = rnd_public4();
		uint8_t b[4];

		len = rnd() % 2 == 0 ? 32 : 16 + (unsigned int)(rnd() % 16);
		a &= len == 0 ? 0 : ~(uint32_t)0 << (32 - len);
		b[0] = a >> 24; b[1] = a >> 16; b[2] = a >> 8; b[3] = (uint8_t)a;
		ipallow_addr_set_ipv4(client_r, b);
		if (len == 32)
			return snprintf(buf, size, "%u.%u.%u.%u", b[0], b[1],
					b[2], b[3]);
		return snprintf(buf, size, "%u.%u.%u.%u/%u", b[0], b[1], b[2],
				b[3], len);
	} else {
		uint8_t b[16];
		uint64_t hi = (rnd() & 0x1fffffffffffffffULL) |
			0x2000000000000000ULL, lo = rnd();
		char abuf[IPALLOW_ADDR_STRLEN];

		len = rnd() % 10 < 3 ? 128 : 32 + (unsigned int)(rnd() % 33);
		if (len <= 64) {
			lo = 0;
			hi &= len == 64 ? ~0ULL : ~(~0ULL >> len);
		}
		for (unsigned int i = 0; i < 8; i++) {
			b[i] = (uint8_t)(hi >> (56 - 8 * i));
			b[8 + i] = (uint8_t)(lo >> (56 - 8 * i));
		}
		ipallow_addr_set_ipv6(client_r, b);
		ipallow_addr_to_str(client_r, abuf);
		if (len == 128)
			return snprintf(buf, size, "%s", abuf);
		return snprintf(buf, size, "%s/%u", abuf, len);
	}
}

struct user {
	char *text;
	struct ipallow_addr client;	/* inside the list */
	struct ipallow_addr outside;	/* (almost surely) outside */
};

static void make_users(struct user *users, unsigned int n_users,
		       unsigned int entries, bool v6)
{
	char buf[64];

	for (unsigned int u = 0; u < n_users; u++) {
		size_t alloc = (size_t)entries * 48 + 1, pos = 0;
		struct ipallow_addr inside[1];
		unsigned int pick = (unsigned int)(rnd() % entries);
		char *text = malloc(alloc);

		if (text == NULL)
			exit(2);
		for (unsigned int e = 0; e < entries; e++) {
			struct ipallow_addr a;
			int n = entry_text(v6, buf, sizeof(buf), &a);

			if (e > 0) {
				memcpy(text + pos, ", ", 2);
				pos += 2;
			}
			memcpy(text + pos, buf, (size_t)n);
			pos += (size_t)n;
			if (e == pick)
				inside[0] = a;
		}
		text[pos] = '\0';
		users[u].text = text;
		users[u].client = inside[0];
		{
			char o[64];

			entry_text(v6, o, sizeof(o), &users[u].outside);
		}
	}
}

static void shuffle(unsigned int *order, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		order[i] = i;
	for (unsigned int i = n; i > 1; i--) {
		unsigned int j = (unsigned int)(rnd() % i), t = order[i - 1];

		order[i - 1] = order[j];
		order[j] = t;
	}
}

/* One "<prefix><fam>_n<n>_<key>=<median>" line. */
static void print_median(const char *prefix, const char *fam, unsigned int n,
			 const char *key, double *values, unsigned int rounds)
{
	printf("%s%s_n%u_%s=%.3f\n", prefix, fam, n, key,
	       bench_median_sort(values, rounds));
}

/* Decides every user's login once, in a new random order; returns the
   CPU microseconds per login and counts the logins and those allowed. */
static double decide_all(struct ipallow_policy *policy,
			 const struct user *users, unsigned int *order,
			 unsigned int n_users, unsigned long *allowed,
			 unsigned long *decisions)
{
	struct ipallow_login req;
	struct ipallow_decision dec;
	double t0;

	memset(&req, 0, sizeof(req));
	req.service = "imap";
	shuffle(order, n_users);
	t0 = bench_cpu_ns();
	for (unsigned int i = 0; i < n_users; i++) {
		const struct user *u = &users[order[i]];

		req.list_text = u->text;
		req.client_ip = u->client;
		if (ipallow_decide(policy, &req, &dec) &&
		    dec.result == IPALLOW_RESULT_ALLOW)
			(*allowed)++;
		(*decisions)++;
	}
	return (bench_cpu_ns() - t0) / n_users / 1e3;
}

static int run_size(unsigned int rounds, unsigned int n_users,
		    unsigned int entries, bool v6)
{
	const char *fam = v6 ? "v6" : "v4";
	double compile[ROUNDS_MAX], decide[ROUNDS_MAX], lookup[ROUNDS_MAX];
	double cold[ROUNDS_MAX];
	struct ipallow_policy *cold_policy;
	unsigned int n_compile = entries >= 1000 ? 1000 :
		entries >= 100 ? 4000 : n_users;
	struct user *users = calloc(n_users, sizeof(*users));
	unsigned int *order = calloc(n_users, sizeof(*order));
	unsigned long allowed = 0, decisions = 0;
	struct ipallow_cache_stats stats;
	struct ipallow_policy *policy;

	if (users == NULL || order == NULL ||
	    ipallow_policy_defaults(&policy) < 0)
		return -1;
	make_users(users, n_users, entries, v6);
	for (unsigned int r = 0; r < rounds; r++) {
		unsigned int first = (unsigned int)(rnd() % n_users);
		double t0, total = 0;

		for (unsigned int i = 0; i < n_compile; i++) {
			struct ipallow_list *list;
			const char *text = users[(first + i) % n_users].text;

			t0 = bench_cpu_ns();
			if (ipallow_list_parse(text, &policy->parse_ctx,
					       &list) != 1) {
				fprintf(stderr, "list did not parse\n");
				return -1;
			}
			total += bench_cpu_ns() - t0;
			ipallow_list_free(&list);
		}
		compile[r] = total / n_compile / 1e3;

		/* cold: a new policy, so every user's list is compiled */
		if (ipallow_policy_defaults(&cold_policy) < 0)
			return -1;
		cold[r] = decide_all(cold_policy, users, order, n_users,
				     &allowed, &decisions);
		ipallow_policy_free(&cold_policy);

		/* warm: one policy for all rounds, its cache as big as the
		   build's default; whatever it keeps of the last round
		   hits */
		decide[r] = decide_all(policy, users, order, n_users,
				       &allowed, &decisions);

		/* lookups on 64 compiled lists */
		{
			struct ipallow_list *lists[64];
			unsigned int nl = n_users < 64 ? n_users : 64;
			const unsigned int n_lookups = 2000000;
			unsigned long hits = 0;

			for (unsigned int i = 0; i < nl; i++) {
				if (ipallow_list_parse(users[i].text,
						       &policy->parse_ctx,
						       &lists[i]) != 1)
					return -1;
			}
			t0 = bench_cpu_ns();
			for (unsigned int i = 0; i < n_lookups; i++) {
				unsigned int l = i % nl;

				hits += ipallow_list_lookup(lists[l], (i & 1) ?
					&users[l].client : &users[l].outside);
			}
			lookup[r] = (bench_cpu_ns() - t0) / n_lookups;
			if (hits < n_lookups / 2)
				fprintf(stderr, "lookup: only %lu hits\n", hits);
			for (unsigned int i = 0; i < nl; i++)
				ipallow_list_free(&lists[i]);
		}
	}
	ipallow_cache_get_stats(policy->cache, &stats);
	print_median("", fam, entries, "compile_us", compile, rounds);
	print_median("", fam, entries, "cold_us", cold, rounds);
	print_median("", fam, entries, "decide_us", decide, rounds);
	print_median("", fam, entries, "lookup_ns", lookup, rounds);
	printf("%s_n%u_allowed=%lu/%lu\n", fam, entries, allowed, decisions);
	printf("%s_n%u_cache_hit_rate=%.3f\n", fam, entries,
	       stats.hits + stats.misses == 0 ? 0.0 :
	       (double)stats.hits / (double)(stats.hits + stats.misses));
	fflush(stdout);
	for (unsigned int u = 0; u < n_users; u++)
		free(users[u].text);
	free(users);
	free(order);
	ipallow_policy_free(&policy);
	return 0;
}

#ifdef IPALLOW_RADIX_FLAT_MAX
/* Tree against flat for N random prefixes: build, and lookups. */
static void crossover(unsigned int rounds, unsigned int n, bool v6)
{
	struct ipallow_prefix *src = calloc(n, sizeof(*src));
	struct ipallow_prefix *work = calloc(n, sizeof(*src));
	struct ipallow_addr *addrs = calloc(4096, sizeof(*addrs));
	double tb[ROUNDS_MAX], fb[ROUNDS_MAX], tl[ROUNDS_MAX], fl[ROUNDS_MAX];
	const char *fam = v6 ? "v6" : "v4";
	unsigned long sink = 0;

	if (src == NULL || work == NULL || addrs == NULL)
		exit(2);
	for (unsigned int i = 0; i < n; i++) {
		char buf[64];

		entry_text(v6, buf, sizeof(buf), &src[i].addr);
		src[i].len = src[i].addr.family == IPALLOW_FAMILY_IPV4 ?
			16 + (unsigned int)(rnd() % 17) :
			32 + (unsigned int)(rnd() % 97);
		ipallow_prefix_normalise(&src[i]);
	}
	for (unsigned int i = 0; i < 4096; i++) {
		char buf[64];

		if (i % 2 == 0)
			addrs[i] = src[rnd() % n].addr;
		else
			entry_text(v6, buf, sizeof(buf), &addrs[i]);
	}
	for (unsigned int r = 0; r < rounds; r++) {
		struct ipallow_radix *tree, *flat;
		const unsigned int n_lookups = 2000000;
		double t0;

		memcpy(work, src, n * sizeof(*src));
		t0 = bench_cpu_ns();
		if (ipallow_radix_build(work, n, &tree) < 0)
			exit(2);
		tb[r] = (bench_cpu_ns() - t0) / 1e3;
		memcpy(work, src, n * sizeof(*src));
		t0 = bench_cpu_ns();
		if (ipallow_radix_build_flat(work, n, &flat) < 0)
			exit(2);
		fb[r] = (bench_cpu_ns() - t0) / 1e3;
		t0 = bench_cpu_ns();
		for (unsigned int i = 0; i < n_lookups; i++)
			sink += ipallow_radix_lookup(tree, &addrs[i & 4095]);
		tl[r] = (bench_cpu_ns() - t0) / n_lookups;
		t0 = bench_cpu_ns();
		for (unsigned int i = 0; i < n_lookups; i++)
			sink += ipallow_radix_lookup(flat, &addrs[i & 4095]);
		fl[r] = (bench_cpu_ns() - t0) / n_lookups;
		ipallow_radix_free(&tree);
		ipallow_radix_free(&flat);
	}
	print_median("x_", fam, n, "tree_build_us", tb, rounds);
	print_median("x_", fam, n, "flat_build_us", fb, rounds);
	print_median("x_", fam, n, "tree_lookup_ns", tl, rounds);
	print_median("x_", fam, n, "flat_lookup_ns", fl, rounds);
	printf("x_%s_n%u_sink=%lu\n", fam, n, sink);
	fflush(stdout);
	free(src);
	free(work);
	free(addrs);
}
#endif

int main(int argc, char **argv)
{
	unsigned int rounds = argc > 1 ? (unsigned int)atoi(argv[1]) : 5;
	unsigned int n_users = argc > 2 ? (unsigned int)atoi(argv[2]) : 10000;
	const char *sizes = argc > 3 ? argv[3] : "1,10,100,1000";

	if (rounds == 0 || rounds > ROUNDS_MAX || n_users == 0) {
		fprintf(stderr, "usage: list-bench [ROUNDS [USERS [SIZES]]]\n");
		return 2;
	}
	printf("rounds=%u\nusers=%u\n", rounds, n_users);
	for (const char *p = sizes; *p != '\0';) {
		unsigned int n = (unsigned int)strtoul(p, NULL, 10);

		if (n > 0) {
			const char *fams = getenv("FAMILIES");

			if ((fams == NULL || strchr(fams, '4') != NULL) &&
			    run_size(rounds, n_users, n, false) < 0)
				return 2;
			if ((fams == NULL || strchr(fams, '6') != NULL) &&
			    run_size(rounds, n_users, n, true) < 0)
				return 2;
		}
		p = strchr(p, ',');
		if (p == NULL)
			break;
		p++;
	}
#ifdef IPALLOW_RADIX_FLAT_MAX
	if (getenv("CROSSOVER") != NULL) {
		static const unsigned int xs[] = {
			10, 100, 1000, 4096, 16384, 65536, 262144
		};

		for (unsigned int i = 0; i < sizeof(xs) / sizeof(xs[0]); i++) {
			crossover(rounds, xs[i], false);
			crossover(rounds, xs[i], true);
		}
	}
#endif
	return 0;
}
