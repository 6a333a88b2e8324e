/* ipallow lookup: what the policy's databases say about one address
   (SPEC 9.3), as the decision would look it up. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipallow-cli.h"
#include "ipallow-geoip.h"

int cmd_lookup(int argc, char **argv)
{
	static const struct option options[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *policy_path = NULL, *error;
	struct ipallow_policy *policy;
	struct ipallow_addr addr;
	struct ipallow_geo_info info;
	char country[3] = "-", asn[16] = "-";
	int c, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "p:h", options, NULL)) != -1) {
		switch (c) {
		case 'p':
			policy_path = optarg;
			break;
		default:
			return cli_usage("lookup");
		}
	}
	if (argc - optind != 1)
		return cli_usage("lookup");
	if (cli_parse_addr("IP address", argv[optind], &addr) < 0)
		return EXIT_USAGE;
	if (cli_load_policy(policy_path, &policy) < 0)
		return EXIT_USAGE;
	if (policy->geoip == NULL)
		fprintf(stderr, "ipallow: the policy names no database "
			"(geoip.country_db, geoip.asn_db)\n");
	ret = ipallow_geoip_lookup(policy->geoip, &addr, true, true, &info,
				   &error);
	if (info.country != 0) {
		country[0] = (char)(info.country >> 8);
		country[1] = (char)(info.country & 0xff);
		country[2] = '\0';
	}
	if (info.asn != 0)
		snprintf(asn, sizeof(asn), "%u", (unsigned int)info.asn);
	printf("country=%s asn=%s\n", country, asn);
	if (ret < 0)
		fprintf(stderr, "ipallow: %s\n", error);
	ipallow_policy_free(&policy);
	return ret < 0 ? EXIT_DENY : EXIT_GOES_ON;
}
