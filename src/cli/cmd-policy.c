/* ipallow policy-check: the plugin's own validation, offline. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipallow-cli.h"

int cmd_policy_check(int argc, char **argv)
{
	struct ipallow_policy *policy;
	char *error = NULL;
	size_t prefixes = 0;
	unsigned int i;

	if (argc != 2 || argv[1][0] == '-')
		return cli_usage("policy-check");
	if (ipallow_policy_load(argv[1], &policy, &error) < 0) {
		fprintf(stderr, "%s\n", error != NULL ? error : "out of memory");
		free(error);
		return EXIT_DENY;
	}
	if (policy->file_missing) {
		/* the plugin would run on defaults; an explicit check fails */
		fprintf(stderr, "%s: No such file or directory\n", argv[1]);
		ipallow_policy_free(&policy);
		return EXIT_DENY;
	}
	for (i = 0; i < policy->sets_count; i++)
		prefixes += policy->sets[i]->prefix_count;
	printf("%s: OK: field %s, mode %s, unknown_ip %s, on_invalid %s, "
	       "%u exempt services, %u sets with %zu prefixes", argv[1],
	       policy->field, ipallow_mode_to_string(policy->mode),
	       ipallow_unknown_ip_to_string(policy->unknown_ip),
	       ipallow_on_invalid_to_string(policy->on_invalid),
	       policy->exempt_services_count, policy->sets_count, prefixes);
	/* the SPEC 9.3/9.4 keys only when used, so older lines stay */
	if (policy->domains_count > 0)
		printf(", %u domain defaults", policy->domains_count);
	if (policy->country_db != NULL)
		printf(", country database %s", policy->country_db);
	if (policy->asn_db != NULL)
		printf(", ASN database %s", policy->asn_db);
	putchar('\n');
	ipallow_policy_free(&policy);
	return EXIT_GOES_ON;
}
