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
#include "ipallow-message.h"

#define CHECK_MAX_FIELDS 32

/* The userdb fields of the mailbox, as --nets, --mode and --field give
   them. */
struct check_fields {
	const char *field;	/* the policy's field name */
	const char *nets;	/* --nets: <field> */
	const char *mode;	/* --mode: <field>_mode */
	/* --password-change-required: password_change_required=yes */
	const char *password_change;
	const char *names[CHECK_MAX_FIELDS], *values[CHECK_MAX_FIELDS];
	unsigned int count;
};

static const char *check_get_field(void *context, const char *name)
{
	const struct check_fields *fields = context;
	char mode_name[IPALLOW_LIST_NAME_MAX];
	unsigned int i;

	/* --field NAME=VALUE last: it may override the shortcuts */
	for (i = fields->count; i > 0; i--) {
		if (strcmp(fields->names[i - 1], name) == 0)
			return fields->values[i - 1];
	}
	if (strcmp(name, fields->field) == 0)
		return fields->nets;
	snprintf(mode_name, sizeof(mode_name), "%s_mode", fields->field);
	if (strcmp(name, mode_name) == 0)
		return fields->mode;
	if (strcmp(name, IPALLOW_PASSWORD_CHANGE_FIELD) == 0)
		return fields->password_change;
	return NULL;
}

/* The text of the list the decision used. */
int cmd_check(int argc, char **argv)
{
	static const struct option options[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "service", required_argument, NULL, 's' },
		{ "nets", required_argument, NULL, 'n' },
		{ "user", required_argument, NULL, 'u' },
		{ "mode", required_argument, NULL, 'm' },
		{ "field", required_argument, NULL, 'f' },
		{ "password-change-required", no_argument, NULL, 'P' },
		{ "peer", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *policy_path = NULL, *peer_arg = NULL;
	struct ipallow_policy *policy;
	struct ipallow_checker *checker;
	struct ipallow_login login;
	struct ipallow_decision dec;
	struct check_fields fields;
	char rule[IPALLOW_LIST_NAME_MAX + 32], line[IPALLOW_MESSAGE_MAX];
	char *eq;
	bool goes_on;
	int c;

	memset(&login, 0, sizeof(login));
	memset(&fields, 0, sizeof(fields));
	login.service = "imap";
	optind = 1;
	while ((c = getopt_long(argc, argv, "p:s:n:u:m:f:Pr:h", options,
				NULL)) != -1) {
		switch (c) {
		case 'p':
			policy_path = optarg;
			break;
		case 's':
			login.service = optarg;
			break;
		case 'n':
			fields.nets = optarg;
			break;
		case 'u':
			login.user = optarg;
			break;
		case 'm':
			fields.mode = optarg;
			break;
		case 'P':
			fields.password_change = "yes";
			break;
		case 'r':
			/* the connection's real peer (real_rip): the webmail
			   host, for password_change.exempt_peers */
			peer_arg = optarg;
			break;
		case 'f':
			eq = strchr(optarg, '=');
			if (eq == NULL || eq == optarg ||
			    fields.count == CHECK_MAX_FIELDS) {
				fprintf(stderr, "ipallow: --field wants "
					"NAME=VALUE (at most %d)\n",
					CHECK_MAX_FIELDS);
				return EXIT_USAGE;
			}
			*eq = '\0';
			fields.names[fields.count] = optarg;
			fields.values[fields.count++] = eq + 1;
			break;
		default:
			return cli_usage("check");
		}
	}
	if (argc - optind != 1)
		return cli_usage("check");
	if (strcmp(argv[optind], "unknown") == 0) {
		/* a local caller without an address (SPEC §4 step 3) */
		ipallow_addr_set_none(&login.client_ip);
	} else if (cli_parse_addr("IP address", argv[optind],
				  &login.client_ip) < 0) {
		return EXIT_USAGE;
	}
	if (peer_arg != NULL &&
	    cli_parse_addr("--peer address", peer_arg, &login.peer_ip) < 0)
		return EXIT_USAGE;
	if (cli_load_policy(policy_path, &policy) < 0)
		return EXIT_USAGE;
	if (ipallow_checker_create(policy, &checker) < 0) {
		fprintf(stderr, "ipallow: out of memory\n");
		ipallow_policy_free(&policy);
		return EXIT_USAGE;
	}

	fields.field = policy->field;
	login.get_field = check_get_field;
	login.field_context = &fields;
	goes_on = ipallow_check(checker, &login, &dec);
	printf("%s (%s)\n", ipallow_result_to_string(dec.result),
	       ipallow_rule_describe(dec.rule,
				     ipallow_decision_list_name(&dec),
				     rule, sizeof(rule)));
	if (dec.result == IPALLOW_RESULT_PASSWORD_CHANGE) {
		/* what the network decision was before the mark */
		printf("  network: %s (%s)\n",
		       ipallow_result_to_string(dec.network_result),
		       ipallow_rule_describe(dec.network_rule,
				ipallow_decision_list_name(&dec),
				rule, sizeof(rule)));
	} else if (dec.password_change_exempted) {
		printf("  note: password change required, but the peer or "
		       "service is in password_change.exempt_*\n");
	}
	if (ipallow_message_bad_mode(&dec, &login, line, sizeof(line)) != NULL)
		printf("  warning: %s\n", line);
	if (ipallow_message_geoip_error(&dec, &login, line, sizeof(line)) != NULL)
		printf("  warning: %s\n", line);
	if (dec.error_count > 0 && dec.list != NULL) {
		char diag[IPALLOW_DIAG_STRLEN];
		unsigned int i;

		/* the decision carries its list, with every diagnostic */
		for (i = 0; i < dec.list->error_count &&
			     i < IPALLOW_LIST_MAX_DIAGS; i++)
			printf("  error: %s\n",
			       ipallow_diag_format(&dec.list->errors[i], diag));
		if (dec.list->error_count > IPALLOW_LIST_MAX_DIAGS)
			printf("  error: ... %u errors in all\n",
			       dec.list->error_count);
	}
	/* the checker's lists point into the policy: it goes first */
	ipallow_checker_free(&checker);
	ipallow_policy_free(&policy);
	return goes_on ? EXIT_GOES_ON : EXIT_DENY;
}
