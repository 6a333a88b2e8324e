/* libFuzzer target: MaxMind DB files as the policy opens them (SPEC
   9.3), corrupt ones above all. The input is written to a file (the
   library maps files, it takes no buffers) and opened as both the country
   and the ASN database; if that works, a few client addresses (IPv4,
   IPv6, documentation ranges, the edges) are looked up for both.

   Checks beyond "no crash, no leak, no UB": an open that fails says why
   in a message naming the key and the file; a lookup returns 0 or -1,
   and -1 comes with a message; a country is two upper-case letters or
   unknown. Seeds: fuzz/corpus/mmdb/ (files from tests/geoip/make-mmdb.pl
   and cut or flipped copies of them). */
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "ipallow-alloc.h"
#include "ipallow-geoip.h"

static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__lsan_default_suppressions(void);

/* libmaxminddb up to 1.11 leaks an entry list in MMDB_open() when the
   metadata is corrupt (found by this target on Debian 12's 1.7.1: 4.6 KB
   per failed open; fixed upstream in maxmind/libmaxminddb pull request
   356, released in 1.12.0). Not ours, and a process whose database does
   not open refuses logins anyway; leaks inside the library are
   suppressed, ours are not. */
const char *__lsan_default_suppressions(void)
{
	return "leak:libmaxminddb.so\n";
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("TMPDIR");

	(void)argc;
	(void)argv;
	snprintf(path, sizeof(path), "%.40s/fuzz-mmdb.%ld.mmdb",
		 dir != NULL && dir[0] != '\0' ? dir : "/tmp", (long)getpid());
	return 0;
}

static const char *const probes[] = {
	"192.0.2.7", "198.51.100.255", "203.0.113.0", "0.0.0.0",
	"255.255.255.255", "2001:db8:de::1", "2001:db8:5:ffff::1", "::",
	"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "2002:c000:207::1",
	"::ffff:192.0.2.7",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipallow_geoip *geoip;
	struct ipallow_geo_info info;
	char *error = NULL;
	FILE *fp;
	size_t i;

	fp = fopen(path, "wb");
	FUZZ_CHECK(fp != NULL, "cannot write %s", path);
	FUZZ_CHECK(fwrite(data, 1, size, fp) == size && fclose(fp) == 0,
		   "cannot write %s", path);

	if (ipallow_geoip_open(path, path, &geoip, &error) < 0) {
		FUZZ_CHECK(error != NULL &&
			   strncmp(error, "geoip.country_db: ", 18) == 0 &&
			   strstr(error, path) != NULL,
			   "open failed with \"%s\"", error != NULL ? error : "");
		ipallow_free(error);
		unlink(path);
		return 0;
	}
	for (i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		struct ipallow_addr addr;
		const char *lookup_error = NULL;
		int ret;

		FUZZ_CHECK(ipallow_addr_parse(probes[i], &addr, &lookup_error) == 0,
			   "probe %s", probes[i]);
		ret = ipallow_geoip_lookup(geoip, &addr, true, true, &info,
					   &lookup_error);
		FUZZ_CHECK(ret == 0 || (ret == -1 && lookup_error != NULL),
			   "lookup %s: %d", probes[i], ret);
		FUZZ_CHECK(info.country == 0 ||
			   ((info.country >> 8) >= 'A' && (info.country >> 8) <= 'Z' &&
			    (info.country & 0xff) >= 'A' &&
			    (info.country & 0xff) <= 'Z' && info.country < 0x10000),
			   "lookup %s: country %x", probes[i], info.country);
	}
	ipallow_geoip_free(&geoip);
	FUZZ_CHECK(geoip == NULL, "free did not clear the pointer");
	unlink(path);
	return 0;
}
