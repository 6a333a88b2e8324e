/* Per-login cost when every mailbox has a list of its own (issue 13):
   USERS distinct lists of N entries (N = 1, 10, 100, 1000), IPv4 or
   IPv6, entries in random order, users asked in random order, every
   client inside its user's list (allowed-only clients). For each N and
   family:
   - compile_us: ipallow_list_parse_flags() of one list as the cache
     does it (no normalised text): scanning, conversion, the compiled
     form. The free is not timed.
   - cold_us: ipallow_check() for the USERS users in random order with
     a new checker each round, so that every list is compiled: the
     login's cost when the cache never hits.
   - decide_us: the same through one checker kept over all rounds, with
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
#include "bench-lists.h"
#include "ipallow-decide.h"
#include "ipallow-cache.h"
#include "ipallow-radix.h"

#define ROUNDS_MAX 50

struct user {
	char *text;
	struct ipallow_addr client;	/* inside the list */
	struct ipallow_addr outside;	/* (almost surely) outside */
};

static void make_users(struct user *users, unsigned int n_users,
		       unsigned int entries, bool v6)
{
	for (unsigned int u = 0; u < n_users; u++) {
		char o[64];

		users[u].text = bench_list_text(entries, v6, &users[u].client);
		entry_text(v6, o, sizeof(o), &users[u].outside);
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
static double decide_all(struct ipallow_checker *checker,
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
		if (ipallow_check(checker, &req, &dec) &&
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
	unsigned int n_compile = entries >= 1000 ? 1000 :
		entries >= 100 ? 4000 : n_users;
	struct user *users = calloc(n_users, sizeof(*users));
	unsigned int *order = calloc(n_users, sizeof(*order));
	unsigned long allowed = 0, decisions = 0;
	struct ipallow_cache_stats stats;
	struct ipallow_policy *policy;
	struct ipallow_checker *checker, *cold_checker;
	struct ipallow_parse_ctx ctx;

	if (users == NULL || order == NULL ||
	    ipallow_policy_defaults(&policy) < 0 ||
	    ipallow_checker_create(policy, &checker) < 0)
		return -1;
	/* what the checker compiles with */
	ipallow_policy_parse_ctx(policy, &ctx);
	make_users(users, n_users, entries, v6);
	for (unsigned int r = 0; r < rounds; r++) {
		unsigned int first = (unsigned int)(rnd() % n_users);
		double t0, total = 0;

		for (unsigned int i = 0; i < n_compile; i++) {
			struct ipallow_list *list;
			const char *text = users[(first + i) % n_users].text;

			t0 = bench_cpu_ns();
			if (ipallow_list_parse_flags(text, &ctx,
					IPALLOW_LIST_PARSE_SKIP_NORMALISED,
					&list) != 1) {
				fprintf(stderr, "list did not parse\n");
				return -1;
			}
			total += bench_cpu_ns() - t0;
			ipallow_list_free(&list);
		}
		compile[r] = total / n_compile / 1e3;

		/* cold: a new checker, so every user's list is compiled */
		if (ipallow_checker_create(policy, &cold_checker) < 0)
			return -1;
		cold[r] = decide_all(cold_checker, users, order, n_users,
				     &allowed, &decisions);
		ipallow_checker_free(&cold_checker);

		/* warm: one checker for all rounds, its cache as big as the
		   build's default; whatever it keeps of the last round
		   hits */
		decide[r] = decide_all(checker, users, order, n_users,
				       &allowed, &decisions);

		/* lookups on 64 compiled lists */
		{
			struct ipallow_list *lists[64];
			unsigned int nl = n_users < 64 ? n_users : 64;
			const unsigned int n_lookups = 2000000;
			unsigned long hits = 0;

			for (unsigned int i = 0; i < nl; i++) {
				if (ipallow_list_parse_flags(users[i].text,
					&ctx, IPALLOW_LIST_PARSE_SKIP_NORMALISED,
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
	ipallow_checker_get_stats(checker, &stats);
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
	ipallow_checker_free(&checker);
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
