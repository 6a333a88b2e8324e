/* ipallow check: the decision and its rule, exactly as a login would get
   it. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipallow-cli.h"
#include "ipallow-decide.h"
#include "ipallow-cache.h"

int cmd_check(int argc, char **argv)
{
	static const struct option options[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "service", required_argument, NULL, 's' },
		{ "nets", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *policy_path = NULL, *error;
	struct ipallow_policy *policy;
	struct ipallow_request req;
	struct ipallow_decision dec;
	char rule[128];
	bool goes_on;
	int c;

	memset(&req, 0, sizeof(req));
	req.service = "imap";
	optind = 1;
	while ((c = getopt_long(argc, argv, "p:s:n:h", options, NULL)) != -1) {
		switch (c) {
		case 'p':
			policy_path = optarg;
			break;
		case 's':
			req.service = optarg;
			break;
		case 'n':
			req.list_text = optarg;
			break;
		default:
			return cli_usage("check");
		}
	}
	if (argc - optind != 1)
		return cli_usage("check");
	if (strcmp(argv[optind], "unknown") == 0) {
		/* a local caller without an address (SPEC §4 step 3) */
		ipallow_addr_set_none(&req.client_ip);
	} else if (ipallow_addr_parse(argv[optind], &req.client_ip, &error) < 0) {
		char text[IPALLOW_DIAG_TEXT_MAX + 20];

		ipallow_escape_text(argv[optind], strlen(argv[optind]), text,
				    sizeof(text));
		fprintf(stderr, "ipallow: invalid IP address \"%s\": %s\n",
			text, error);
		return EXIT_USAGE;
	}
	if (cli_load_policy(policy_path, &policy) < 0)
		return EXIT_USAGE;

	goes_on = ipallow_decide(policy, &req, &dec);
	printf("%s (%s)\n", ipallow_result_to_string(dec.result),
	       ipallow_rule_describe(dec.rule, policy->field, rule, sizeof(rule)));
	if (dec.error_count > 0) {
		const struct ipallow_list *list;
		char diag[IPALLOW_DIAG_STRLEN];
		unsigned int i;

		/* the decision used the cache; fetch the list for all errors */
		if (ipallow_cache_get(policy->cache, req.list_text,
				      &policy->parse_ctx, &list) >= 0 &&
		    list != NULL) {
			for (i = 0; i < list->error_count &&
				     i < IPALLOW_LIST_MAX_DIAGS; i++)
				printf("  error: %s\n",
				       ipallow_diag_format(&list->errors[i], diag));
			if (list->error_count > IPALLOW_LIST_MAX_DIAGS)
				printf("  error: ... %u errors in all\n",
				       list->error_count);
		}
	}
	ipallow_policy_free(&policy);
	return goes_on ? EXIT_GOES_ON : EXIT_DENY;
}
